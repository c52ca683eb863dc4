/* Golden: Newcombe's hybrid score interval for a difference of independent proportions.
 * Newcombe RG. Interval estimation for the difference between independent proportions:
 * comparison of eleven methods. Stat Med 1998;17:873-890, Table II, method 10 ("score method
 * incorporating Wilson intervals"), 95% level:
 *   (a) 56/70 - 48/80 = 0.2000: 0.0524 to 0.3339
 *   (b)  9/10 -  3/10 = 0.6000: 0.1705 to 0.8090 */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

static void check(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double want_lo,
		  double want_hi)
{
	double d, lo, hi;
	fv_stats_diff_newcombe(x1, n1, x2, n2, 0.95, &d, &lo, &hi);
	cr_assert_float_eq(lo, want_lo, 5e-5, "%llu/%llu - %llu/%llu: lower %.5f",
			   (unsigned long long)x1, (unsigned long long)n1, (unsigned long long)x2,
			   (unsigned long long)n2, lo);
	cr_assert_float_eq(hi, want_hi, 5e-5, "upper %.5f", hi);
}

Test(golden_diff, newcombe_1998_table2_method10)
{
	check(56, 70, 48, 80, 0.0524, 0.3339);
	check(9, 10, 3, 10, 0.1705, 0.8090);
}

/* The Katz interval is exp(log ratio +- z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)); checked here for
 * its defining properties (not a published value): symmetric on the log scale, narrowing with
 * the counts, undefined with a zero count. */
Test(golden_diff, katz_properties)
{
	double r, lo, hi, r2, lo2, hi2;
	fv_stats_ratio_katz(36, 40, 16, 80, 0.95, &r, &lo, &hi);
	cr_assert_float_eq(r, 4.5, 1e-12);
	cr_assert_float_eq(log(hi) - log(r), log(r) - log(lo), 1e-12);
	fv_stats_ratio_katz(360, 400, 160, 800, 0.95, &r2, &lo2, &hi2);
	cr_assert_float_eq(r2, r, 1e-12);
	cr_assert(hi2 - lo2 < hi - lo);
	fv_stats_ratio_katz(0, 10, 3, 10, 0.95, &r, &lo, &hi);
	cr_assert(isnan(lo) && isnan(hi));
}
