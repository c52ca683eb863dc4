/* Tests for lib/stats/logreg.c: closed-form fits, the penalised score equations, separation
 * and bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/stats.h"
#include "fedval/util.h"

/* With one binary predictor the ML fit reproduces the 2x2 table: the intercept is the log
 * odds at x = 0 and the coefficient the log odds ratio. */
Test(logreg, binary_predictor_gives_log_odds_ratio)
{
	int a0 = 12, b0 = 30, a1 = 25, b1 = 9; /* y=1 / y=0 counts at x=0 and x=1 */
	size_t n = (size_t)(a0 + b0 + a1 + b1), k = 0;
	double *x = malloc(n * sizeof(*x)), coef, b;
	uint8_t *y = malloc(n);
	for (int i = 0; i < a0; i++, k++)
		x[k] = 0, y[k] = 1;
	for (int i = 0; i < b0; i++, k++)
		x[k] = 0, y[k] = 0;
	for (int i = 0; i < a1; i++, k++)
		x[k] = 1, y[k] = 1;
	for (int i = 0; i < b1; i++, k++)
		x[k] = 1, y[k] = 0;
	cr_assert_eq(fv_stats_logreg_fit(x, y, n, 1, 0.0, &coef, &b, NULL), FV_OK);
	cr_assert_float_eq(b, log(12.0 / 30.0), 1e-10);
	cr_assert_float_eq(coef, log(25.0 * 30.0 / (9.0 * 12.0)), 1e-10);
	/* intercept only */
	cr_assert_eq(fv_stats_logreg_fit(NULL, y, n, 0, 0.0, NULL, &b, NULL), FV_OK);
	cr_assert_float_eq(b, log(37.0 / 39.0), 1e-12);
	free(x);
	free(y);
}

/* At the ridge optimum: sum(y - mu) = 0 and X'(y - mu) = lambda * coef. */
Test(logreg, ridge_score_equations)
{
	size_t n = 400, p = 3;
	double x[400 * 3], coef[3], b, lambda = 2.5;
	uint8_t y[400];
	srand(3);
	for (size_t i = 0; i < n; i++) {
		double eta = -0.5;
		for (size_t j = 0; j < p; j++) {
			x[i * p + j] = (double)rand() / RAND_MAX * (j + 1) * 10 + j;
			eta += (j == 1 ? -0.2 : 0.15) * x[i * p + j];
		}
		y[i] = (double)rand() / RAND_MAX < 1 / (1 + exp(-eta));
	}
	cr_assert_eq(fv_stats_logreg_fit(x, y, n, p, lambda, coef, &b, NULL), FV_OK);
	double g[4] = {0};
	for (size_t i = 0; i < n; i++) {
		double eta = b, r;
		for (size_t j = 0; j < p; j++)
			eta += coef[j] * x[i * p + j];
		r = y[i] - 1 / (1 + exp(-eta));
		g[0] += r;
		for (size_t j = 0; j < p; j++)
			g[j + 1] += r * x[i * p + j];
	}
	cr_assert_float_eq(g[0], 0.0, 1e-8);
	for (size_t j = 0; j < p; j++)
		cr_assert_float_eq(g[j + 1], lambda * coef[j], 1e-7, "j=%zu", j);
}

Test(logreg, complete_separation_is_reported)
{
	double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, coef, b;
	uint8_t y[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_stats_logreg_fit(x, y, 10, 1, 0.0, &coef, &b, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "separated") != NULL, "%s", d.msg);
	/* a ridge penalty makes the estimate finite */
	cr_assert_eq(fv_stats_logreg_fit(x, y, 10, 1, 1.0, &coef, &b, &d), FV_OK, "%s", d.msg);
	cr_assert(coef > 0.0);
}

Test(logreg, quasi_separation_is_reported)
{
	double x[8] = {1, 2, 3, 4, 4, 5, 6, 7}, coef, b;
	uint8_t y[8] = {0, 0, 0, 0, 1, 1, 1, 1};
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_stats_logreg_fit(x, y, 8, 1, 0.0, &coef, &b, &d), FV_EINVAL);
	cr_assert(strlen(d.msg) > 0);
}

Test(logreg, constant_and_collinear_columns)
{
	double x[12] = {1, 3, 2, 3, 3, 3, 4, 3, 5, 3, 6, 3}, coef[2], b;
	uint8_t y[6] = {0, 1, 0, 1, 1, 0};
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_stats_logreg_fit(x, y, 6, 2, 0.0, coef, &b, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "constant") != NULL, "%s", d.msg);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 6, 2, 0.5, coef, &b, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(coef[1], 0.0);
	double c[12] = {1, 2, 2, 4, 3, 6, 4, 8, 5, 10, 6, 12};
	cr_assert_eq(fv_stats_logreg_fit(c, y, 6, 2, 0.0, coef, &b, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "singular") != NULL, "%s", d.msg);
}

Test(logreg, bad_input)
{
	double x[4] = {1, 2, 3, 4}, coef, b;
	uint8_t y[4] = {0, 1, 0, 1}, yy[4] = {1, 1, 1, 1}, y2[4] = {0, 2, 0, 1};
	cr_assert_eq(fv_stats_logreg_fit(x, y, 4, 1, -1.0, &coef, &b, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 4, 1, NAN, &coef, &b, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_logreg_fit(x, yy, 4, 1, 0.0, &coef, &b, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_logreg_fit(x, y2, 4, 1, 0.0, &coef, &b, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 0, 1, 0.0, &coef, &b, NULL), FV_EINVAL);
	x[2] = INFINITY;
	cr_assert_eq(fv_stats_logreg_fit(x, y, 4, 1, 0.0, &coef, &b, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 4, 5000, 0.0, &coef, &b, NULL), FV_ELIMIT);
}

Test(logreg, allocation_failure)
{
	double x[6] = {1, 2, 3, 4, 5, 6}, coef, b;
	uint8_t y[6] = {0, 1, 0, 1, 1, 0};
	fv_alloc_fail_after(1);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 6, 1, 0.0, &coef, &b, NULL), FV_ENOMEM);
	fv_alloc_fail_after(0);
	cr_assert_eq(fv_stats_logreg_fit(x, y, 6, 1, 0.0, &coef, &b, NULL), FV_OK);
}
