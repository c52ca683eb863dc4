/* Tests for lib/stats/auc_hist.c: exact on a grid of distinct scores (equal to the per-record
 * DeLong AUC and variance), and bounds that contain the true AUC when bins are coarse. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"

#define N 4000

Test(auc_hist, exact_on_grid)
{
	static double s[N];
	static uint8_t l[N];
	uint64_t pos[50] = {0}, neg[50] = {0};
	struct fv_interval a;
	double auc, var, hv;
	srand(9);
	for (size_t i = 0; i < N; i++) {
		int b = rand() % 40;
		l[i] = (uint8_t)(rand() % 3 == 0);
		b = b + 10 * l[i] > 49 ? 49 : b + 10 * l[i];
		s[i] = (double)b / 49.0;
		l[i] ? pos[b]++ : neg[b]++;
	}
	cr_assert_eq(fv_stats_auc_delong(s, l, N, &auc, &var, NULL), FV_OK);
	cr_assert_eq(fv_stats_auc_hist(pos, neg, 50, &a, &hv, NULL), FV_OK);
	cr_assert_float_eq(a.est, auc, 1e-15);
	cr_assert_float_eq(hv, var, 1e-15);
	cr_assert(a.lo < a.est && a.est < a.hi);
}

Test(auc_hist, bounds_contain_truth_for_coarse_bins)
{
	static double s[N];
	static uint8_t l[N];
	srand(4);
	for (size_t i = 0; i < N; i++) {
		l[i] = (uint8_t)(rand() % 2);
		s[i] = (double)rand() / RAND_MAX * 0.7 + 0.3 * l[i];
	}
	for (size_t nb = 1; nb <= 64; nb *= 2) {
		uint64_t pos[64] = {0}, neg[64] = {0};
		struct fv_interval a;
		double auc, var;
		for (size_t i = 0; i < N; i++) {
			size_t b = (size_t)(s[i] * nb);
			b = b >= nb ? nb - 1 : b;
			l[i] ? pos[b]++ : neg[b]++;
		}
		cr_assert_eq(fv_stats_auc_delong(s, l, N, &auc, &var, NULL), FV_OK);
		cr_assert_eq(fv_stats_auc_hist(pos, neg, nb, &a, NULL, NULL), FV_OK);
		cr_assert(a.lo <= auc && auc <= a.hi, "nb %zu: %g not in [%g, %g]", nb, auc, a.lo,
			  a.hi);
		if (nb == 1)
			cr_assert(a.lo == 0.0 && a.hi == 1.0);
	}
}

Test(auc_hist, empty_class)
{
	uint64_t pos[2] = {0, 0}, neg[2] = {1, 2};
	struct fv_interval a;
	cr_assert_eq(fv_stats_auc_hist(pos, neg, 2, &a, NULL, NULL), FV_EINVAL);
}
