/* fv_stats_rank_intervals (lib/stats/rank.c): rank intervals from pairwise comparisons. The
 * rule is combinatorial (a rank is excluded only by a significant comparison), so the cases
 * below are worked by hand: 1 + (significantly better) to m - (significantly worse). */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

/* diff[k][o] = est[o] - est[k], one common standard error for every pair. */
static void matrix(const double *est, size_t m, double s, double *diff, double *se)
{
	for (size_t k = 0; k < m; k++)
		for (size_t o = 0; o < m; o++) {
			diff[k * m + o] = est[o] - est[k];
			se[k * m + o] = s;
		}
}

Test(rank, separated_models_get_single_ranks)
{
	const double est[3] = {0.70, 0.80, 0.75};
	double diff[9], se[9];
	size_t lo[3], hi[3];
	matrix(est, 3, 0.01, diff, se); /* every gap 0.05 = 5 SE */
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 3, 1.96, lo, hi), FV_OK);
	cr_assert(lo[1] == 1 && hi[1] == 1);
	cr_assert(lo[2] == 2 && hi[2] == 2);
	cr_assert(lo[0] == 3 && hi[0] == 3);
}

Test(rank, undecided_pairs_widen_the_interval)
{
	/* A and B 0.01 apart (1 SE: undecided), both 0.10 (10 SE) above C. */
	const double est[3] = {0.80, 0.79, 0.70};
	double diff[9], se[9];
	size_t lo[3], hi[3];
	matrix(est, 3, 0.01, diff, se);
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 3, 1.96, lo, hi), FV_OK);
	cr_assert(lo[0] == 1 && hi[0] == 2, "A: %zu-%zu", lo[0], hi[0]);
	cr_assert(lo[1] == 1 && hi[1] == 2, "B: %zu-%zu", lo[1], hi[1]);
	cr_assert(lo[2] == 3 && hi[2] == 3, "C: %zu-%zu", lo[2], hi[2]);

	/* Nothing significant: every rank possible for every model. */
	matrix(est, 3, 0.2, diff, se);
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 3, 1.96, lo, hi), FV_OK);
	for (int k = 0; k < 3; k++)
		cr_assert(lo[k] == 1 && hi[k] == 3);

	/* A larger z (Bonferroni for 3 pairs: qnorm(1 - 0.05 / 6) = 2.394) decides fewer pairs:
	 * a gap of 2.2 SE is significant at 1.96 but not at 2.394. */
	const double e2[2] = {0.80, 0.778};
	double d2[4], s2[4];
	size_t l2[2], h2[2];
	matrix(e2, 2, 0.01, d2, s2);
	cr_assert_eq(fv_stats_rank_intervals(d2, s2, 2, 1.96, l2, h2), FV_OK);
	cr_assert(l2[0] == 1 && h2[0] == 1 && l2[1] == 2 && h2[1] == 2);
	cr_assert_eq(fv_stats_rank_intervals(d2, s2, 2, fv_stats_qnorm(1 - 0.05 / 6), l2, h2),
		     FV_OK);
	cr_assert(l2[0] == 1 && h2[0] == 2 && l2[1] == 1 && h2[1] == 2);
}

Test(rank, missing_comparisons_are_undecided_and_bad_input_refused)
{
	const double est[2] = {0.9, 0.6};
	double diff[4], se[4];
	size_t lo[2], hi[2];
	matrix(est, 2, 0.01, diff, se);
	diff[1] = diff[2] = NAN; /* the pair could not be compared */
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 2, 1.96, lo, hi), FV_OK);
	cr_assert(lo[0] == 1 && hi[0] == 2 && lo[1] == 1 && hi[1] == 2);
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 1, 1.96, lo, hi), FV_OK);
	cr_assert(lo[0] == 1 && hi[0] == 1, "one model is rank 1");
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 0, 1.96, lo, hi), FV_EINVAL);
	cr_assert_eq(fv_stats_rank_intervals(diff, se, 2, 0, lo, hi), FV_EINVAL);
	cr_assert_eq(fv_stats_rank_intervals(NULL, se, 2, 1.96, lo, hi), FV_EINVAL);
}
