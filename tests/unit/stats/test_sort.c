/* lib/stats/sort.c: the radix path (n >= 65536) and the introsort path give the same ascending
 * order, for negative, positive, zero, subnormal, huge and infinite values. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/internal.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void check(size_t n, unsigned seed)
{
	double *v = malloc(n * sizeof(double)), *w = malloc(n * sizeof(double));
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		switch (rand() % 8) {
		case 0:
			v[i] = -(double)rand() / RAND_MAX * 1e6;
			break;
		case 1:
			v[i] = (rand() % 2) ? 0.0 : -0.0;
			break;
		case 2:
			v[i] = (rand() % 2 ? 1 : -1) * DBL_MIN / 4; /* subnormal */
			break;
		case 3:
			v[i] = (rand() % 2 ? 1 : -1) * (rand() % 3 ? DBL_MAX : INFINITY);
			break;
		default:
			v[i] = (double)(rand() % 1000) / 1000.0; /* many ties */
		}
	}
	memcpy(w, v, n * sizeof(double));
	fv_stats_sort(v, n);
	qsort(w, n, sizeof(double), cmp);
	for (size_t i = 0; i < n; i++)
		cr_assert(v[i] == w[i], "n %zu: position %zu: %g vs %g", n, i, v[i], w[i]);
	for (size_t i = 1; i < n; i++)
		cr_assert(v[i - 1] <= v[i]);
	free(v);
	free(w);
}

Test(sort, introsort_and_radix_agree_with_qsort)
{
	check(1000, 1);	  /* introsort */
	check(65535, 2);  /* introsort */
	check(65536, 3);  /* radix */
	check(500000, 4); /* radix */
}
