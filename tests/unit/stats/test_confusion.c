/* Tests for lib/stats/confusion.c. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(confusion, threshold_is_inclusive)
{
	double s[6] = {0.1, 0.5, 0.5, 0.9, 0.3, NAN};
	uint8_t l[6] = {0, 0, 1, 1, 1, 1};
	struct fv_confusion c;
	cr_assert_eq(fv_stats_confusion(s, l, 6, 0.5, &c), FV_OK);
	cr_assert_eq(c.tp, 2);
	cr_assert_eq(c.fn, 2); /* 0.3 and the NaN */
	cr_assert_eq(c.fp, 1);
	cr_assert_eq(c.tn, 1);
}

Test(confusion, bad_label_zeroes_output)
{
	double s[2] = {0.1, 0.9};
	uint8_t l[2] = {0, 7};
	struct fv_confusion c = {9, 9, 9, 9};
	cr_assert_eq(fv_stats_confusion(s, l, 2, 0.5, &c), FV_EINVAL);
	cr_assert_eq(c.tp + c.fp + c.tn + c.fn, 0);
	cr_assert_eq(fv_stats_confusion(NULL, l, 2, 0.5, &c), FV_EINVAL);
	cr_assert_eq(fv_stats_confusion(s, l, 0, 0.5, &c), FV_OK);
}

Test(metrics, proportions_and_zero_denominators)
{
	struct fv_confusion c = {.tp = 30, .fn = 10, .fp = 5, .tn = 55};
	struct fv_metrics m;
	fv_stats_metrics(&c, &m);
	cr_assert_float_eq(m.sensitivity, 0.75, 1e-15);
	cr_assert_float_eq(m.specificity, 55.0 / 60.0, 1e-15);
	cr_assert_float_eq(m.ppv, 30.0 / 35.0, 1e-15);
	cr_assert_float_eq(m.npv, 55.0 / 65.0, 1e-15);
	cr_assert_float_eq(m.accuracy, 0.85, 1e-15);
	c = (struct fv_confusion){.tn = 3, .fn = 1};
	fv_stats_metrics(&c, &m);
	cr_assert(isnan(m.ppv));
	cr_assert_float_eq(m.sensitivity, 0.0, 0.0);
}

Test(brier, mean_squared_error)
{
	double p[4] = {0.1, 0.9, 0.5, 1.0}, b;
	uint8_t y[4] = {0, 1, 1, 0};
	cr_assert_eq(fv_stats_brier(p, y, 4, &b), FV_OK);
	cr_assert_float_eq(b, (0.01 + 0.01 + 0.25 + 1.0) / 4, 1e-15);
	p[0] = 1.5;
	cr_assert_eq(fv_stats_brier(p, y, 4, &b), FV_EINVAL);
	p[0] = NAN;
	cr_assert_eq(fv_stats_brier(p, y, 4, &b), FV_EINVAL);
	cr_assert_eq(fv_stats_brier(p, y, 0, &b), FV_EINVAL);
}

Test(oe, ratio)
{
	cr_assert_float_eq(fv_stats_oe_ratio(30, 24), 1.25, 1e-15);
	cr_assert(isnan(fv_stats_oe_ratio(3, 0)));
}
