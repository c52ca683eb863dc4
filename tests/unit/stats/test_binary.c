/* Tests for lib/stats/binary.c: F1, likelihood ratios and their log-method intervals, and the
 * interval method switch. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(binary, hand_computed)
{
	struct fv_confusion c = {.tp = 90, .fp = 20, .tn = 80, .fn = 10};
	struct fv_binary_metrics m;
	double z = fv_stats_qnorm(0.975), se, lo, hi;

	fv_stats_binary_metrics(&c, FV_CI_WILSON, 0.95, &m);
	cr_assert_float_eq(m.sensitivity.est, 0.9, 1e-15);
	cr_assert_float_eq(m.specificity.est, 0.8, 1e-15);
	cr_assert_float_eq(m.f1, 180.0 / 210.0, 1e-15);
	cr_assert_float_eq(m.prevalence.est, 0.5, 1e-15);
	fv_stats_wilson(90, 100, 0.95, &lo, &hi);
	cr_assert_eq(m.sensitivity.lo, lo);
	cr_assert_eq(m.sensitivity.hi, hi);
	/* LR+ = 0.9 / 0.2 = 4.5, se^2 = 1/90 - 1/100 + 1/20 - 1/100. */
	cr_assert_float_eq(m.lr_pos.est, 4.5, 1e-14);
	se = sqrt(1.0 / 90 - 1.0 / 100 + 1.0 / 20 - 1.0 / 100);
	cr_assert_float_eq(m.lr_pos.lo, 4.5 * exp(-z * se), 1e-12);
	cr_assert_float_eq(m.lr_pos.hi, 4.5 * exp(z * se), 1e-12);
	/* LR- = 0.1 / 0.8 = 0.125. */
	cr_assert_float_eq(m.lr_neg.est, 0.125, 1e-15);
	se = sqrt(1.0 / 10 - 1.0 / 100 + 1.0 / 80 - 1.0 / 100);
	cr_assert_float_eq(m.lr_neg.lo, 0.125 * exp(-z * se), 1e-13);

	fv_stats_binary_metrics(&c, FV_CI_CLOPPER_PEARSON, 0.95, &m);
	fv_stats_clopper_pearson(80, 100, 0.95, &lo, &hi);
	cr_assert_eq(m.specificity.lo, lo);
	cr_assert_eq(m.specificity.hi, hi);
	fv_stats_clopper_pearson(170, 200, 0.95, &lo, &hi);
	cr_assert_eq(m.accuracy.lo, lo);
}

Test(binary, zero_cells_are_not_estimable)
{
	struct fv_confusion c = {.tp = 10, .fp = 0, .tn = 10, .fn = 0};
	struct fv_binary_metrics m;

	fv_stats_binary_metrics(&c, FV_CI_WILSON, 0.95, &m);
	cr_assert(isinf(m.lr_pos.est) && isnan(m.lr_pos.lo) && isnan(m.lr_pos.hi));
	cr_assert_eq(m.lr_neg.est, 0.0);
	cr_assert(isnan(m.lr_neg.lo));
	c = (struct fv_confusion){0, 0, 5, 0};
	fv_stats_binary_metrics(&c, FV_CI_WILSON, 0.95, &m);
	cr_assert(isnan(m.sensitivity.est) && isnan(m.sensitivity.lo));
	cr_assert(isnan(m.ppv.est) && isnan(m.f1));
	cr_assert(isnan(m.lr_pos.est));
}
