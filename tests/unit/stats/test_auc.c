/* Tests for lib/stats/auc.c: the O(n log n) DeLong against a direct O(n1 n0) evaluation of
 * the structural components, ties, edge cases and allocation failure. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/stats.h"
#include "fedval/util.h"

static double psi(double x, double y)
{
	return x > y ? 1.0 : x == y ? 0.5 : 0.0;
}

/* DeLong et al. (1988) definitions, quadratic time. */
static void brute(const double *s, const uint8_t *l, size_t n, double *auc, double *var)
{
	size_t n1 = 0, n0 = 0;
	double a = 0.0, s10 = 0.0, s01 = 0.0;
	for (size_t i = 0; i < n; i++)
		l[i] ? n1++ : n0++;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (l[i] && !l[j])
				a += psi(s[i], s[j]);
	a /= (double)n1 * (double)n0;
	for (size_t i = 0; i < n; i++) {
		double v = 0.0;
		for (size_t j = 0; j < n; j++)
			if (l[i] != l[j])
				v += l[i] ? psi(s[i], s[j]) : psi(s[j], s[i]);
		v /= l[i] ? (double)n0 : (double)n1;
		if (l[i])
			s10 += (v - a) * (v - a);
		else
			s01 += (v - a) * (v - a);
	}
	*auc = a;
	*var = s10 / (double)(n1 - 1) / (double)n1 + s01 / (double)(n0 - 1) / (double)n0;
}

static void check_random(unsigned seed, size_t n, int levels)
{
	double *s = malloc(n * sizeof(*s)), a1, v1, a2, v2;
	uint8_t *l = malloc(n);
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		l[i] = (uint8_t)(rand() % 3 == 0);
		/* levels > 0: a coarse grid with many ties; otherwise continuous scores. */
		s[i] = levels ? (double)(rand() % levels + l[i] * (rand() % 2))
			      : (double)rand() / RAND_MAX + 0.3 * l[i];
	}
	l[0] = 1;
	l[1] = 0;
	l[2] = 1;
	l[3] = 0;
	cr_assert_eq(fv_stats_auc_delong(s, l, n, &a1, &v1, NULL), FV_OK);
	brute(s, l, n, &a2, &v2);
	cr_assert_float_eq(a1, a2, 1e-13, "seed %u: auc %.17g vs %.17g", seed, a1, a2);
	cr_assert_float_eq(v1, v2, 1e-13 * v2 + 1e-18, "seed %u: var %.17g vs %.17g", seed, v1, v2);
	free(s);
	free(l);
}

Test(auc, matches_quadratic_definition_continuous)
{
	for (unsigned seed = 1; seed <= 20; seed++)
		check_random(seed, 50 + seed * 37, 0);
}

Test(auc, matches_quadratic_definition_with_ties)
{
	for (unsigned seed = 1; seed <= 20; seed++)
		check_random(seed, 40 + seed * 41, 1 + (int)seed % 7);
}

Test(auc, perfect_and_reversed_and_all_tied)
{
	double s[6] = {0.1, 0.2, 0.3, 0.7, 0.8, 0.9}, t[6] = {1, 1, 1, 1, 1, 1}, a, v;
	uint8_t l[6] = {0, 0, 0, 1, 1, 1}, r[6] = {1, 1, 1, 0, 0, 0};
	cr_assert_eq(fv_stats_auc_delong(s, l, 6, &a, &v, NULL), FV_OK);
	cr_assert_eq(a, 1.0);
	cr_assert_eq(v, 0.0);
	cr_assert_eq(fv_stats_auc_delong(s, r, 6, &a, &v, NULL), FV_OK);
	cr_assert_eq(a, 0.0);
	cr_assert_eq(fv_stats_auc_delong(t, l, 6, &a, &v, NULL), FV_OK);
	cr_assert_eq(a, 0.5);
	cr_assert_eq(v, 0.0);
}

Test(auc, infinite_scores_are_ordered)
{
	double s[4] = {-INFINITY, 0.0, 1.0, INFINITY}, a, v;
	uint8_t l[4] = {0, 1, 0, 1};
	cr_assert_eq(fv_stats_auc_delong(s, l, 4, &a, &v, NULL), FV_OK);
	cr_assert_float_eq(a, 0.75, 1e-15);
}

Test(auc, rejects_bad_input)
{
	double s[4] = {0.1, 0.2, NAN, 0.4}, a, v;
	uint8_t l[4] = {0, 1, 0, 1}, one[4] = {1, 1, 1, 1}, bad[4] = {0, 2, 0, 1};
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_stats_auc_delong(s, l, 4, &a, &v, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "record 3") != NULL, "%s", d.msg);
	s[2] = 0.3;
	cr_assert_eq(fv_stats_auc_delong(s, one, 4, &a, &v, &d), FV_EINVAL);
	cr_assert_eq(fv_stats_auc_delong(s, bad, 4, &a, &v, &d), FV_EINVAL);
	cr_assert_eq(fv_stats_auc_delong(s, l, 0, &a, &v, &d), FV_EINVAL);
	cr_assert_eq(fv_stats_auc_delong(NULL, l, 4, &a, &v, &d), FV_EINVAL);
}

Test(auc, single_case_gives_nan_variance)
{
	double s[4] = {0.1, 0.2, 0.3, 0.4}, a, v;
	uint8_t l[4] = {0, 0, 0, 1};
	cr_assert_eq(fv_stats_auc_delong(s, l, 4, &a, &v, NULL), FV_OK);
	cr_assert_eq(a, 1.0);
	cr_assert(isnan(v));
}

Test(auc, allocation_failure)
{
	double s[4] = {0.1, 0.2, 0.3, 0.4}, a, v;
	uint8_t l[4] = {0, 1, 0, 1};
	for (long k = 1; k <= 2; k++) {
		fv_alloc_fail_after(k);
		cr_assert_eq(fv_stats_auc_delong(s, l, 4, &a, &v, NULL), FV_ENOMEM);
		fv_alloc_fail_after(0);
	}
	cr_assert_eq(fv_stats_auc_delong(s, l, 4, &a, &v, NULL), FV_OK);
}

/* Five million records with heavy ties (a 0.001 grid) and a sorted run: must stay fast. */
Test(auc, large_input_is_n_log_n, .timeout = 60)
{
	size_t n = 5000000;
	double *s = malloc(n * sizeof(*s)), a, v;
	uint8_t *l = malloc(n);
	cr_assert(s && l);
	srand(7);
	for (size_t i = 0; i < n; i++) {
		l[i] = (uint8_t)(i % 4 == 0);
		s[i] =
		    i < n / 2 ? (double)i / (double)n : floor(rand() / (RAND_MAX / 1000.0)) / 1000;
	}
	cr_assert_eq(fv_stats_auc_delong(s, l, n, &a, &v, NULL), FV_OK);
	cr_assert(a > 0.0 && a < 1.0 && v > 0.0 && v < 1e-5);
	free(s);
	free(l);
}

Test(auc_ci, wald_and_clipping)
{
	double lo, hi;
	fv_stats_auc_ci(0.8, 0.0025, 0.95, &lo, &hi);
	cr_assert_float_eq(lo, 0.8 - 1.959963984540054 * 0.05, 1e-14);
	cr_assert_float_eq(hi, 0.8 + 1.959963984540054 * 0.05, 1e-14);
	fv_stats_auc_ci(0.98, 0.01, 0.95, &lo, &hi);
	cr_assert_eq(hi, 1.0);
	fv_stats_auc_ci(0.02, 0.01, 0.95, &lo, &hi);
	cr_assert_eq(lo, 0.0);
	fv_stats_auc_ci(0.8, NAN, 0.95, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
	fv_stats_auc_ci(0.8, 0.01, 1.5, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
}
