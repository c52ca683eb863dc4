/* Golden tests: Wilson and Clopper–Pearson intervals against the published examples of
 *   Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
 *   methods. Statistics in Medicine 1998; 17:857-872, Table I,
 * columns "3. Score method" (Wilson, without continuity correction) and "5. 'Exact' method"
 * (Clopper–Pearson). The table prints four decimals, so we compare to within 5e-5. */
#include <criterion/criterion.h>

#include "fedval/stats.h"

struct row {
	uint64_t x, n;
	double wilson_lo, wilson_hi, exact_lo, exact_hi;
};

static const struct row newcombe_table1[] = {
    {81, 263, 0.2553, 0.3662, 0.2527, 0.3676},
    {15, 148, 0.0624, 0.1605, 0.0578, 0.1617},
    {0, 20, 0.0000, 0.1611, 0.0000, 0.1684},
    {1, 29, 0.0061, 0.1718, 0.0009, 0.1776},
};

Test(golden_stats, wilson_newcombe_1998_table1)
{
	for (size_t i = 0; i < sizeof(newcombe_table1) / sizeof(newcombe_table1[0]); i++) {
		const struct row *r = &newcombe_table1[i];
		double lo, hi;
		fv_stats_wilson(r->x, r->n, 0.95, &lo, &hi);
		cr_assert_float_eq(lo, r->wilson_lo, 5e-5, "%lu/%lu lo %.5f", (unsigned long)r->x,
				   (unsigned long)r->n, lo);
		cr_assert_float_eq(hi, r->wilson_hi, 5e-5, "%lu/%lu hi %.5f", (unsigned long)r->x,
				   (unsigned long)r->n, hi);
	}
}

Test(golden_stats, clopper_pearson_newcombe_1998_table1)
{
	for (size_t i = 0; i < sizeof(newcombe_table1) / sizeof(newcombe_table1[0]); i++) {
		const struct row *r = &newcombe_table1[i];
		double lo, hi;
		fv_stats_clopper_pearson(r->x, r->n, 0.95, &lo, &hi);
		cr_assert_float_eq(lo, r->exact_lo, 5e-5, "%lu/%lu lo %.5f", (unsigned long)r->x,
				   (unsigned long)r->n, lo);
		cr_assert_float_eq(hi, r->exact_hi, 5e-5, "%lu/%lu hi %.5f", (unsigned long)r->x,
				   (unsigned long)r->n, hi);
	}
}
