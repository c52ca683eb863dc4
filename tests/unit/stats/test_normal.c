/* Tests for lib/stats/normal.c: qnorm and pnorm invert each other, symmetry, edges. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(normal, round_trip_over_all_three_regions)
{
	/* central (|q| <= 0.425), intermediate (r <= 5) and far tail (r > 5) branches */
	double ps[] = {1e-300, 1e-50, 1e-12, 1e-5, 0.01, 0.07, 0.075, 0.2, 0.5, 0.6, 0.925, 0.999};
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double z = fv_stats_qnorm(ps[i]);
		/* dp/p = z dz: a z good to a few ulp gives p to about 1e-15 + 4e-16 z^2. */
		cr_assert_float_eq(fv_stats_pnorm(z), ps[i], (1e-15 + 4e-16 * z * z) * ps[i],
				   "p=%g", ps[i]);
		/* symmetry, where 1 - p is not rounded to 1 */
		if (ps[i] >= 1e-5)
			cr_assert_float_eq(fv_stats_qnorm(1.0 - ps[i]), -z,
					   1e-10 * fabs(z) + 1e-15);
	}
}

Test(normal, edges)
{
	cr_assert(isinf(fv_stats_qnorm(0.0)) && fv_stats_qnorm(0.0) < 0);
	cr_assert(isinf(fv_stats_qnorm(1.0)) && fv_stats_qnorm(1.0) > 0);
	cr_assert(isnan(fv_stats_qnorm(-0.1)));
	cr_assert(isnan(fv_stats_qnorm(NAN)));
	cr_assert_eq(fv_stats_qnorm(0.5), 0.0);
	cr_assert_eq(fv_stats_pnorm(0.0), 0.5);
	cr_assert_eq(fv_stats_pnorm(INFINITY), 1.0);
	cr_assert_eq(fv_stats_pnorm(-INFINITY), 0.0);
	cr_assert(isnan(fv_stats_pnorm(NAN)));
}
