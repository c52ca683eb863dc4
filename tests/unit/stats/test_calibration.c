/* Tests for lib/stats/calibration.c: CITL solves its score equation, slope/intercept equal the
 * logistic fit of y on logit(p), binned curves and ECE by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"

#define N 2000

Test(calibration, citl_slope_intercept)
{
	static double p[N], lp[N];
	static uint8_t y[N];
	struct fv_calibration c;
	double g = 0.0, coef, icpt;

	srand(3);
	for (size_t i = 0; i < N; i++) {
		double l = 4.0 * rand() / RAND_MAX - 2.5;
		p[i] = 1.0 / (1.0 + exp(-l));
		y[i] = (uint8_t)((double)rand() / RAND_MAX < 1.0 / (1.0 + exp(-(0.5 + 1.3 * l))));
		lp[i] = l;
	}
	cr_assert_eq(fv_stats_calibration(p, y, N, &c, NULL), FV_OK);
	cr_assert_eq(c.n, N);
	cr_assert_float_eq(c.oe, c.sum_y / c.sum_p, 1e-15);
	for (size_t i = 0; i < N; i++)
		g += y[i] - 1.0 / (1.0 + exp(-(c.citl + lp[i])));
	cr_assert(fabs(g) < 1e-9, "score %g", g);
	cr_assert_eq(fv_stats_logreg_fit(lp, y, N, 1, 0.0, &coef, &icpt, NULL), FV_OK);
	cr_assert_float_eq(c.slope, coef, 1e-9);
	cr_assert_float_eq(c.intercept, icpt, 1e-9);
	cr_assert(c.se_slope > 0 && c.se_slope < 0.2);
}

Test(calibration, probabilities_zero_and_one_are_clamped)
{
	double p[6] = {0.0, 0.2, 0.4, 0.5, 0.7, 1.0};
	uint8_t y[6] = {0, 1, 0, 1, 0, 1};
	struct fv_calibration c;
	cr_assert_eq(fv_stats_calibration(p, y, 6, &c, NULL), FV_OK);
	cr_assert(isfinite(c.citl) && isfinite(c.slope) && isfinite(c.intercept));
}

Test(calibration, single_class_not_estimable)
{
	double p[3] = {0.1, 0.2, 0.3};
	uint8_t y[3] = {0, 0, 0};
	struct fv_calibration c;
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_stats_calibration(p, y, 3, &c, &d), FV_EINVAL);
	cr_assert_eq(c.oe, 0.0);
	p[1] = 1.5;
	cr_assert_eq(fv_stats_calibration(p, y, 3, &c, &d), FV_EINVAL);
}

Test(calibration, curve_uniform_and_quantile)
{
	double p[8] = {0.05, 0.15, 0.2, 0.5, 0.55, 0.7, 0.95, 1.0}, ece, edges[5];
	uint8_t y[8] = {0, 0, 1, 0, 1, 1, 1, 1};
	struct fv_calib_bin b[4];
	cr_assert_eq(fv_stats_calibration_curve(p, y, 8, 4, 0, b, edges, &ece, NULL), FV_OK);
	/* bins [0,.25) [.25,.5) [.5,.75) [.75,1]: 3, 0, 3, 2 records */
	cr_assert_eq(b[0].n, 3);
	cr_assert_eq(b[1].n, 0);
	cr_assert_eq(b[2].n, 3);
	cr_assert_eq(b[3].n, 2);
	cr_assert_float_eq(b[0].sum_p, 0.4, 1e-15);
	cr_assert_float_eq(b[2].sum_y, 2.0, 1e-15);
	cr_assert_float_eq(ece, (fabs(1 - 0.4) + fabs(2 - 1.75) + fabs(2 - 1.95)) / 8, 1e-15);
	cr_assert_float_eq(fv_stats_ece(b, 4), ece, 1e-15);
	cr_assert_eq(edges[4], 1.0);
	cr_assert_eq(fv_stats_calibration_curve(p, y, 8, 2, 1, b, edges, &ece, NULL), FV_OK);
	/* median of p (numpy linear) = (0.5 + 0.55) / 2 */
	cr_assert_float_eq(edges[1], 0.525, 1e-15);
	cr_assert_eq(b[0].n, 4);
	cr_assert_eq(b[1].n, 4);
}
