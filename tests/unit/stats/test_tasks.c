/* Tests for lib/stats/tasks.c: Harrell's C against an O(n^2) definition and a hand example,
 * regression metrics by hand, multiclass AUROC against per-class binary AUCs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"

static double cindex_brute(const double *t, const uint8_t *e, const double *r, size_t n,
			   uint64_t *comp)
{
	double conc = 0;
	*comp = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (e[i] && t[i] < t[j]) {
				(*comp)++;
				conc += r[i] > r[j] ? 1.0 : r[i] == r[j] ? 0.5 : 0.0;
			}
	return conc / (double)*comp;
}

Test(cindex, hand_example)
{
	/* times 1..4, all events; risks 4,3,1,2: pairs (1,2)+ (1,3)+ (1,4)+ (2,3)+ (2,4)+ (3,4)-
	 * -> 5/6 */
	double t[4] = {1, 2, 3, 4}, r[4] = {4, 3, 1, 2}, c;
	uint8_t e[4] = {1, 1, 1, 1};
	uint64_t comp;
	cr_assert_eq(fv_stats_cindex(t, e, r, 4, &c, &comp, NULL), FV_OK);
	cr_assert_eq(comp, 6);
	cr_assert_float_eq(c, 5.0 / 6.0, 1e-15);
	/* censor the first: its pairs are not comparable */
	e[0] = 0;
	cr_assert_eq(fv_stats_cindex(t, e, r, 4, &c, &comp, NULL), FV_OK);
	cr_assert_eq(comp, 3);
	cr_assert_float_eq(c, 2.0 / 3.0, 1e-15);
	e[0] = e[1] = e[2] = 0;
	cr_assert_eq(fv_stats_cindex(t, e, r, 4, &c, &comp, NULL), FV_EINVAL);
}

Test(cindex, matches_quadratic_definition_with_ties)
{
	for (unsigned seed = 1; seed <= 10; seed++) {
		size_t n = 100 + 37 * seed;
		double *t = malloc(n * sizeof(double)), *r = malloc(n * sizeof(double)), c, want;
		uint8_t *e = malloc(n);
		uint64_t comp, wcomp;
		srand(seed);
		for (size_t i = 0; i < n; i++) {
			t[i] = (double)(rand() % 30);	    /* tied times */
			r[i] = (double)(rand() % 12) - 0.0; /* tied risks */
			e[i] = (uint8_t)(rand() % 3 != 0);
		}
		r[0] = -0.0;
		want = cindex_brute(t, e, r, n, &wcomp);
		cr_assert_eq(fv_stats_cindex(t, e, r, n, &c, &comp, NULL), FV_OK);
		cr_assert_eq(comp, wcomp);
		cr_assert_float_eq(c, want, 1e-14, "seed %u", seed);
		free(t);
		free(r);
		free(e);
	}
}

Test(regression, by_hand)
{
	double pred[4] = {1, 2, 3, 4}, y[4] = {1, 3, 2, 6};
	struct fv_regression r;
	cr_assert_eq(fv_stats_regression(pred, y, 4, &r, NULL), FV_OK);
	cr_assert_float_eq(r.mae, (0 + 1 + 1 + 2) / 4.0, 1e-15);
	cr_assert_float_eq(r.rmse, sqrt(6.0 / 4), 1e-15);
	/* ybar = 3, SStot = 4 + 0 + 1 + 9 = 14 */
	cr_assert_float_eq(r.r2, 1 - 6.0 / 14, 1e-15);
	/* slope = Sxy / Sxx = (-1.5*-2 + -0.5*0 + 0.5*-1 + 1.5*3) / 5 = 7/5 */
	cr_assert_float_eq(r.slope, 1.4, 1e-15);
	cr_assert_float_eq(r.intercept, 3 - 1.4 * 2.5, 1e-15);
	y[0] = NAN;
	cr_assert_eq(fv_stats_regression(pred, y, 4, &r, NULL), FV_EINVAL);
}

Test(multiclass, ovr_macro_micro_confusion)
{
	enum { n = 300, K = 3 };
	static double s[n * K], col[n], flat[n * K];
	static uint8_t l[n], bin[n], fl[n * K];
	double auc[K], macro, micro, a, v, sum = 0;
	uint64_t cm[K * K], tot = 0;
	srand(2);
	for (size_t i = 0; i < n; i++) {
		l[i] = (uint8_t)(rand() % K);
		for (size_t c = 0; c < K; c++)
			s[i * K + c] = (double)rand() / RAND_MAX + (c == l[i] ? 0.3 : 0.0);
	}
	cr_assert_eq(fv_stats_multiclass(s, l, n, K, auc, &macro, &micro, cm, NULL), FV_OK);
	for (size_t c = 0; c < K; c++) {
		for (size_t i = 0; i < n; i++) {
			col[i] = s[i * K + c];
			bin[i] = l[i] == c;
		}
		cr_assert_eq(fv_stats_auc_delong(col, bin, n, &a, &v, NULL), FV_OK);
		cr_assert_float_eq(auc[c], a, 1e-15);
		sum += a;
	}
	cr_assert_float_eq(macro, sum / K, 1e-15);
	for (size_t i = 0; i < n * K; i++) {
		flat[i] = s[i];
		fl[i] = l[i / K] == i % K;
	}
	cr_assert_eq(fv_stats_auc_delong(flat, fl, n * K, &a, &v, NULL), FV_OK);
	cr_assert_float_eq(micro, a, 1e-15);
	for (size_t i = 0; i < K * K; i++)
		tot += cm[i];
	cr_assert_eq(tot, n);
	l[5] = K;
	cr_assert_eq(fv_stats_multiclass(s, l, n, K, auc, &macro, &micro, cm, NULL), FV_EINVAL);
}

Test(cindex, large_input_is_n_log_n, .timeout = 120)
{
	size_t n = 2000000;
	double *t = malloc(n * sizeof(double)), *r = malloc(n * sizeof(double)), c;
	uint8_t *e = malloc(n);
	cr_assert(t && r && e);
	srand(8);
	for (size_t i = 0; i < n; i++) {
		r[i] = (double)rand() / RAND_MAX;
		t[i] = floor(((double)rand() / RAND_MAX) * 1000 * (1.5 - r[i]));
		e[i] = (uint8_t)(rand() % 3 != 0);
	}
	cr_assert_eq(fv_stats_cindex(t, e, r, n, &c, NULL, NULL), FV_OK);
	cr_assert(c > 0.55 && c < 0.8, "%g", c);
	free(t);
	free(r);
	free(e);
}

/* Sites' regression sums merge into the sums of all their records, whatever the split and the
 * order (the federation's pooled regression metrics are the centralised ones). */
Test(regression, merged_sums_equal_centralised)
{
	enum { n = 1000 };
	static double pred[n], y[n];
	struct fv_reg_sums all, part, pooled = {0}, rev = {0};
	struct fv_regression a, b;
	size_t cut[] = {0, 7, 300, 301, 777, n};
	srand(5);
	for (size_t i = 0; i < n; i++) {
		pred[i] = 50.0 + 20.0 * rand() / RAND_MAX;
		y[i] = pred[i] * 0.9 + 8.0 + 5.0 * rand() / RAND_MAX;
	}
	cr_assert_eq(fv_stats_regression_sums(pred, y, n, &all, NULL), FV_OK);
	for (size_t k = 0; k + 1 < sizeof(cut) / sizeof(cut[0]); k++) {
		cr_assert_eq(fv_stats_regression_sums(pred + cut[k], y + cut[k],
						      cut[k + 1] - cut[k], &part, NULL),
			     FV_OK);
		fv_stats_regression_merge(&pooled, &part);
	}
	for (size_t k = sizeof(cut) / sizeof(cut[0]) - 1; k > 0; k--) {
		cr_assert_eq(fv_stats_regression_sums(pred + cut[k - 1], y + cut[k - 1],
						      cut[k] - cut[k - 1], &part, NULL),
			     FV_OK);
		fv_stats_regression_merge(&rev, &part);
	}
	cr_assert_eq(pooled.n, n);
	fv_stats_regression_from_sums(&all, &a);
	fv_stats_regression_from_sums(&pooled, &b);
	cr_assert_float_eq(b.mae, a.mae, 1e-12 * a.mae);
	cr_assert_float_eq(b.rmse, a.rmse, 1e-12 * a.rmse);
	cr_assert_float_eq(b.r2, a.r2, 1e-12);
	cr_assert_float_eq(b.slope, a.slope, 1e-12);
	cr_assert_float_eq(b.intercept, a.intercept, 1e-10);
	fv_stats_regression_from_sums(&rev, &b);
	cr_assert_float_eq(b.slope, a.slope, 1e-12);
	cr_assert_float_eq(b.r2, a.r2, 1e-12);
}

/* Site-stratified C: the sites' counts add up to the pairs within each site. */
Test(cindex, counts_add_within_sites)
{
	double t[6] = {1, 2, 3, 1, 2, 3}, r[6] = {3, 2, 1, 1, 2, 3}, c;
	uint8_t e[6] = {1, 1, 1, 1, 1, 1};
	uint64_t c2a, ca, c2b, cb, comp;
	cr_assert_eq(fv_stats_cindex_counts(t, e, r, 3, &c2a, &ca, NULL), FV_OK);
	cr_assert_eq(fv_stats_cindex_counts(t + 3, e + 3, r + 3, 3, &c2b, &cb, NULL), FV_OK);
	/* site A perfectly concordant (3 of 3), site B perfectly discordant (0 of 3) */
	cr_assert_eq(ca, 3);
	cr_assert_eq(c2a, 6);
	cr_assert_eq(cb, 3);
	cr_assert_eq(c2b, 0);
	cr_assert_eq(fv_stats_cindex(t, e, r, 3, &c, &comp, NULL), FV_OK);
	cr_assert_float_eq(c, (double)c2a / (2.0 * (double)ca), 1e-15);
	/* no comparable pair is no error for the counts */
	e[0] = e[1] = e[2] = 0;
	cr_assert_eq(fv_stats_cindex_counts(t, e, r, 3, &c2a, &ca, NULL), FV_OK);
	cr_assert_eq(ca, 0);
}
