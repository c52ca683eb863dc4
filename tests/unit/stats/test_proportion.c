/* Tests for lib/stats/proportion.c: incomplete beta identities, its inverse, and the defining
 * properties of the Wilson and Clopper–Pearson bounds. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(pbeta, closed_forms)
{
	double xs[] = {1e-8, 0.01, 0.3, 0.5, 0.77, 0.999};
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		double x = xs[i];
		cr_assert_float_eq(fv_stats_pbeta(x, 1.0, 7.5), -expm1(7.5 * log1p(-x)),
				   1e-14 * fv_stats_pbeta(x, 1.0, 7.5));
		cr_assert_float_eq(fv_stats_pbeta(x, 3.25, 1.0), pow(x, 3.25),
				   1e-13 * pow(x, 3.25));
	}
	cr_assert_float_eq(fv_stats_pbeta(0.5, 10, 10), 0.5, 1e-15);
	/* For large a, b the exponent a log x + b log(1-x) (about -3.5e6 here) carries an
	 * absolute rounding error of ~1e-10, so that is the accuracy to expect. */
	cr_assert_float_eq(fv_stats_pbeta(0.5, 2.5e6, 2.5e6), 0.5, 1e-9);
	cr_assert_eq(fv_stats_pbeta(0.0, 2, 3), 0.0);
	cr_assert_eq(fv_stats_pbeta(1.0, 2, 3), 1.0);
	cr_assert(isnan(fv_stats_pbeta(0.5, 0.0, 3)));
}

/* P(X >= k) for X ~ Bin(n, p) equals I_p(k, n - k + 1). */
Test(pbeta, binomial_tail)
{
	int n = 30;
	double p = 0.37;
	for (int k = 1; k <= n; k++) {
		double tail = 0.0;
		for (int j = k; j <= n; j++)
			tail += exp(lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0) +
				    j * log(p) + (n - j) * log1p(-p));
		cr_assert_float_eq(fv_stats_pbeta(p, k, n - k + 1), tail, 1e-12 * tail + 1e-300,
				   "k=%d", k);
	}
}

Test(qbeta, inverts_pbeta)
{
	double ab[][2] = {{0.5, 0.5}, {1, 1}, {2, 30}, {30, 2}, {1e3, 1e5}, {1, 5e7}};
	double ps[] = {1e-10, 0.025, 0.5, 0.975};
	for (size_t i = 0; i < sizeof(ab) / sizeof(ab[0]); i++)
		for (size_t j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
			double x = fv_stats_qbeta(ps[j], ab[i][0], ab[i][1]);
			cr_assert_float_eq(fv_stats_pbeta(x, ab[i][0], ab[i][1]), ps[j],
					   1e-9 * ps[j], "a=%g b=%g p=%g", ab[i][0], ab[i][1],
					   ps[j]);
		}
}

Test(wilson, endpoints_solve_the_score_equation)
{
	uint64_t cases[][2] = {{3, 10}, {50, 100}, {1, 1000}, {999, 1000}};
	double z = fv_stats_qnorm(0.975);
	for (size_t i = 0; i < 4; i++) {
		double lo, hi, ph = (double)cases[i][0] / (double)cases[i][1];
		double n = (double)cases[i][1];
		fv_stats_wilson(cases[i][0], cases[i][1], 0.95, &lo, &hi);
		cr_assert_float_eq(fabs(ph - lo), z * sqrt(lo * (1 - lo) / n), 1e-12);
		cr_assert_float_eq(fabs(hi - ph), z * sqrt(hi * (1 - hi) / n), 1e-12);
	}
}

Test(wilson, edges)
{
	double lo, hi;
	fv_stats_wilson(0, 0, 0.95, &lo, &hi);
	cr_assert(lo == 0.0 && hi == 1.0);
	fv_stats_wilson(0, 10, 0.95, &lo, &hi);
	cr_assert(lo == 0.0 && hi > 0.0);
	fv_stats_wilson(10, 10, 0.95, &lo, &hi);
	cr_assert(hi == 1.0 && lo < 1.0);
	fv_stats_wilson(11, 10, 0.95, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
	fv_stats_wilson(1, 10, 1.0, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
}

/* The exact bounds are where the binomial tails equal alpha/2. */
Test(clopper_pearson, tails_equal_half_alpha)
{
	uint64_t cases[][2] = {{1, 10}, {7, 19}, {500, 1000}, {3, 5000000}};
	for (size_t i = 0; i < 4; i++) {
		double lo, hi, x = (double)cases[i][0], n = (double)cases[i][1];
		fv_stats_clopper_pearson(cases[i][0], cases[i][1], 0.90, &lo, &hi);
		cr_assert_float_eq(fv_stats_pbeta(lo, x, n - x + 1), 0.05, 1e-10);
		cr_assert_float_eq(1.0 - fv_stats_pbeta(hi, x + 1, n - x), 0.05, 1e-10);
	}
}

Test(clopper_pearson, edges)
{
	double lo, hi;
	fv_stats_clopper_pearson(0, 0, 0.95, &lo, &hi);
	cr_assert(lo == 0.0 && hi == 1.0);
	/* x = 0: upper bound 1 - (alpha/2)^(1/n) */
	fv_stats_clopper_pearson(0, 20, 0.95, &lo, &hi);
	cr_assert(lo == 0.0);
	cr_assert_float_eq(hi, 1.0 - pow(0.025, 1.0 / 20), 1e-13);
	fv_stats_clopper_pearson(20, 20, 0.95, &lo, &hi);
	cr_assert(hi == 1.0);
	cr_assert_float_eq(lo, pow(0.025, 1.0 / 20), 1e-13);
	fv_stats_clopper_pearson(21, 20, 0.95, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
}
