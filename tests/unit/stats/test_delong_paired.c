/* Tests for lib/stats/delong_paired.c: against a direct O(n1 n0) evaluation of the structural
 * components of DeLong et al. (1988), and identities (same model twice, swapped models). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"
#include "fedval/util.h"

static double psi(double x, double y)
{
	return x > y ? 1.0 : x == y ? 0.5 : 0.0;
}

static void brute(const double *a, const double *b, const uint8_t *l, size_t n, double *cov)
{
	size_t n1 = 0, n0 = 0;
	double *v = calloc(2 * n, sizeof(double)), auc[2] = {0, 0}, s10[3] = {0}, s01[3] = {0};
	const double *s[2] = {a, b};
	for (size_t i = 0; i < n; i++)
		l[i] ? n1++ : n0++;
	for (int m = 0; m < 2; m++)
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < n; j++)
				if (l[i] != l[j])
					v[m * n + i] +=
					    l[i] ? psi(s[m][i], s[m][j]) : psi(s[m][j], s[m][i]);
			v[m * n + i] /= l[i] ? (double)n0 : (double)n1;
			if (l[i])
				auc[m] += v[m * n + i] / (double)n1;
		}
	for (size_t i = 0; i < n; i++) {
		double da = v[i] - auc[0], db = v[n + i] - auc[1];
		double *t = l[i] ? s10 : s01;
		t[0] += da * da;
		t[1] += da * db;
		t[2] += db * db;
	}
	for (int k = 0; k < 3; k++)
		cov[k] =
		    s10[k] / (double)(n1 - 1) / (double)n1 + s01[k] / (double)(n0 - 1) / (double)n0;
	free(v);
}

Test(delong_paired, matches_quadratic_definition)
{
	for (unsigned seed = 1; seed <= 15; seed++) {
		size_t n = 60 + 23 * seed;
		double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)), cov[3];
		uint8_t *l = malloc(n);
		struct fv_delong_paired r;
		srand(seed);
		for (size_t i = 0; i < n; i++) {
			l[i] = (uint8_t)(rand() % 3 == 0 || i < 2);
			if (i >= 2 && i < 4)
				l[i] = 0;
			a[i] = (double)(rand() % 9) + l[i] * (rand() % 3); /* ties */
			b[i] = a[i] * 0.5 + (double)rand() / RAND_MAX + 0.4 * l[i];
		}
		cr_assert_eq(fv_stats_delong_paired(a, b, l, n, 0.95, &r, NULL), FV_OK);
		brute(a, b, l, n, cov);
		cr_assert_float_eq(r.var_a, cov[0], 1e-14);
		cr_assert_float_eq(r.cov_ab, cov[1], 1e-14);
		cr_assert_float_eq(r.var_b, cov[2], 1e-14);
		cr_assert_float_eq(r.z, (r.auc_a - r.auc_b) / sqrt(cov[0] + cov[2] - 2 * cov[1]),
				   1e-9);
		cr_assert_float_eq(r.p, 2 * fv_stats_pnorm(-fabs(r.z)), 1e-15);
		{
			double auc, var;
			cr_assert_eq(fv_stats_auc_delong(a, l, n, &auc, &var, NULL), FV_OK);
			cr_assert_float_eq(r.auc_a, auc, 1e-15);
			cr_assert_float_eq(r.var_a, var, 1e-14);
		}
		free(a);
		free(b);
		free(l);
	}
}

Test(delong_paired, identical_models_and_swap)
{
	double a[8] = {0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.3};
	double b[8] = {0.2, 0.1, 0.5, 0.6, 0.9, 0.3, 0.4, 0.8};
	uint8_t l[8] = {0, 0, 1, 1, 1, 0, 1, 0};
	struct fv_delong_paired r, s;
	cr_assert_eq(fv_stats_delong_paired(a, a, l, 8, 0.95, &r, NULL), FV_OK);
	cr_assert_eq(r.diff, 0.0);
	cr_assert_eq(r.p, 1.0);
	cr_assert_float_eq(r.cov_ab, r.var_a, 1e-15);
	cr_assert_eq(fv_stats_delong_paired(a, b, l, 8, 0.95, &r, NULL), FV_OK);
	cr_assert_eq(fv_stats_delong_paired(b, a, l, 8, 0.95, &s, NULL), FV_OK);
	cr_assert_float_eq(r.z, -s.z, 1e-12);
	cr_assert_float_eq(r.p, s.p, 1e-12);
	/* finish() from the sufficient statistics reproduces the result. */
	s = r;
	s.var_a = s.var_b = s.cov_ab = s.z = s.p = 0;
	fv_stats_delong_paired_finish(&s, 0.95);
	cr_assert_eq(s.z, r.z);
	cr_assert_eq(s.diff_lo, r.diff_lo);
}

Test(delong_paired, rejects_bad_input)
{
	double a[4] = {0.1, 0.2, 0.3, NAN}, b[4] = {0.1, 0.2, 0.3, 0.4};
	uint8_t l[4] = {0, 1, 0, 1}, one[4] = {0, 0, 0, 1};
	struct fv_delong_paired r;
	cr_assert_eq(fv_stats_delong_paired(a, b, l, 4, 0.95, &r, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_delong_paired(b, b, one, 4, 0.95, &r, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_delong_paired(NULL, b, l, 4, 0.95, &r, NULL), FV_EINVAL);
}

Test(delong_paired, allocation_failure)
{
	double a[4] = {0.1, 0.2, 0.3, 0.4}, b[4] = {0.4, 0.1, 0.2, 0.3};
	uint8_t l[4] = {0, 1, 0, 1};
	struct fv_delong_paired r;
	for (long k = 1; k <= 3; k++) {
		fv_alloc_fail_after(k);
		cr_assert_eq(fv_stats_delong_paired(a, b, l, 4, 0.95, &r, NULL), FV_ENOMEM);
		fv_alloc_fail_after(0);
	}
	cr_assert_eq(fv_stats_delong_paired(a, b, l, 4, 0.95, &r, NULL), FV_OK);
}

/* Two million records, one model heavily tied: O(n log n) keeps this to seconds. */
Test(delong_paired, large_input_is_n_log_n, .timeout = 120)
{
	size_t n = 2000000;
	double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
	uint8_t *l = malloc(n);
	struct fv_delong_paired r;
	cr_assert(a && b && l);
	srand(5);
	for (size_t i = 0; i < n; i++) {
		l[i] = (uint8_t)(i % 5 == 0);
		a[i] = (double)rand() / RAND_MAX + 0.2 * l[i];
		b[i] = floor(((double)rand() / RAND_MAX + 0.1 * l[i]) * 100) / 100;
	}
	cr_assert_eq(fv_stats_delong_paired(a, b, l, n, 0.95, &r, NULL), FV_OK);
	cr_assert(r.auc_a > r.auc_b && r.z > 3 && r.p < 1e-3);
	free(a);
	free(b);
	free(l);
}
