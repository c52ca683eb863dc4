/* Golden test: AUROC and its DeLong standard error on the CT rating data of
 *   Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
 *   characteristic (ROC) curve. Radiology 1982; 143:29-36, Table 1:
 *   109 CT images rated 1 (definitely normal) .. 5 (definitely abnormal);
 *   truly normal (n = 58):   33  6  6 11  2
 *   truly abnormal (n = 51):  3  2  2 11 33
 * Hanley & McNeil report the Wilcoxon area W = 0.893.
 * The same data ship with Stata as hanley.dta; the Stata Base Reference Manual, [R] roctab,
 * Example 1 ("roctab disease rating", whose default standard error is DeLong, DeLong and
 * Clarke-Pearson 1988) prints: Obs 109, ROC area 0.8932, Std. err. 0.0307,
 * asymptotic normal 95% CI 0.83295 to 0.95339. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

Test(golden_stats, auc_delong_hanley_mcneil_1982)
{
	static const int normal[5] = {33, 6, 6, 11, 2}, abnormal[5] = {3, 2, 2, 11, 33};
	double score[109], auc, var, lo, hi;
	uint8_t label[109];
	size_t n = 0;

	for (int r = 0; r < 5; r++) {
		for (int i = 0; i < normal[r]; i++, n++)
			score[n] = r + 1, label[n] = 0;
		for (int i = 0; i < abnormal[r]; i++, n++)
			score[n] = r + 1, label[n] = 1;
	}
	cr_assert_eq(n, 109);
	cr_assert_eq(fv_stats_auc_delong(score, label, n, &auc, &var, NULL), FV_OK);
	cr_assert_float_eq(auc, 0.8932, 5e-5, "auc %.6f", auc);
	cr_assert_float_eq(auc, 0.893, 5e-4); /* Hanley & McNeil's W */
	cr_assert_float_eq(sqrt(var), 0.0307, 5e-5, "se %.6f", sqrt(var));
	fv_stats_auc_ci(auc, var, 0.95, &lo, &hi);
	cr_assert_float_eq(lo, 0.83295, 5e-6, "lo %.6f", lo);
	cr_assert_float_eq(hi, 0.95339, 5e-6, "hi %.6f", hi);
}
