/* Golden tests: the standard normal quantile and CDF.
 * qnorm: values printed by R (whose qnorm implements Wichura's AS241 PPND16, Applied
 * Statistics 1988; 37:477-484) with print(qnorm(p), digits = 16):
 *   qnorm(0.975) = 1.959963984540054, qnorm(0.025) = -1.959963984540054,
 *   qnorm(1e-10) = -6.361340902404056, qnorm(0.9) = 1.281551565544601.
 * pnorm: Abramowitz & Stegun, Handbook of Mathematical Functions (1964), Table 26.1, which
 * lists P(x) to 15 decimals: P(1.0) = 0.841344746068543, P(2.0) = 0.977249868051821,
 * P(3.0) = 0.998650101968370. */
#include <criterion/criterion.h>

#include "fedval/stats.h"

Test(golden_stats, qnorm_as241_values)
{
	cr_assert_float_eq(fv_stats_qnorm(0.975), 1.959963984540054, 2e-15);
	cr_assert_float_eq(fv_stats_qnorm(0.025), -1.959963984540054, 2e-15);
	cr_assert_float_eq(fv_stats_qnorm(1e-10), -6.361340902404056, 8e-15);
	cr_assert_float_eq(fv_stats_qnorm(0.9), 1.281551565544601, 2e-15);
}

Test(golden_stats, pnorm_abramowitz_stegun_table_26_1)
{
	cr_assert_float_eq(fv_stats_pnorm(1.0), 0.841344746068543, 1e-15);
	cr_assert_float_eq(fv_stats_pnorm(2.0), 0.977249868051821, 1e-15);
	cr_assert_float_eq(fv_stats_pnorm(3.0), 0.998650101968370, 1e-15);
	cr_assert_float_eq(fv_stats_pnorm(-1.0), 1.0 - 0.841344746068543, 1e-15);
}
