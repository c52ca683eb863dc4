/* Tests for lib/stats/dist.c. Reference values from scipy.stats (t.cdf, chi2.sf, printed once by
 * Debian's /usr/bin/python3), consistent with standard tables (t(10) 97.5% = 2.228,
 * chi-square(12) 95% = 21.026). The t quantile for df = 10 is the one scipy.stats.t.cdf maps
 * to exactly 0.975 (scipy's own t.ppf is off by up to 3e-11), likewise df = 11; df = 1 is the
 * Cauchy closed form tan(0.475 pi). */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(dist, student_t)
{
	cr_assert_float_eq(fv_stats_qt(0.975, 10), 2.228138851986273, 1e-12);
	cr_assert_float_eq(fv_stats_qt(0.975, 1), tan(0.475 * M_PI),
			   1e-11); /* Cauchy, closed form */
	cr_assert_float_eq(fv_stats_qt(0.025, 11), -2.2009851600916384, 1e-12);
	cr_assert_float_eq(fv_stats_pt(2.0, 5), 0.9490302605850709, 1e-13);
	cr_assert_float_eq(fv_stats_pt(-1.0, 3), 0.19550110947788527, 1e-13);
	cr_assert_eq(fv_stats_qt(0.5, 4), 0.0);
	for (double p = 0.01; p < 1.0; p += 0.07)
		cr_assert_float_eq(fv_stats_pt(fv_stats_qt(p, 7.5), 7.5), p, 1e-12);
	cr_assert(isnan(fv_stats_qt(0.5, 0)));
}

Test(dist, chi_square_upper)
{
	cr_assert_float_eq(fv_stats_pchisq_upper(3.841458820694124, 1), 0.05, 1e-13);
	cr_assert_float_eq(fv_stats_pchisq_upper(21.02606981748307, 12), 0.05, 1e-13);
	cr_assert_float_eq(fv_stats_pchisq_upper(2.0, 12), 0.9994058151824183, 1e-13);
	cr_assert_float_eq(fv_stats_pchisq_upper(100.0, 3), 1.5541594313896026e-21, 1e-30);
	cr_assert_eq(fv_stats_pchisq_upper(0.0, 3), 1.0);
}
