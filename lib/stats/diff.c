/* Comparing two independent proportions: the difference with Newcombe's hybrid score interval
 * (Newcombe 1998, Stat Med 17:873-890, method 10: built from the two Wilson intervals) and the
 * ratio with the Katz log interval (Katz, Baptista, Azen & Pike 1978, Biometrics 34:469-474).
 * Used for the disparity between subgroups. */
#include <math.h>

#include "fedval/stats.h"

void fv_stats_diff_newcombe(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double conf,
			    double *diff, double *lo, double *hi)
{
	double l1, u1, l2, u2, p1, p2;

	if (n1 == 0 || n2 == 0) {
		*diff = *lo = *hi = NAN;
		return;
	}
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	fv_stats_wilson(x1, n1, conf, &l1, &u1);
	fv_stats_wilson(x2, n2, conf, &l2, &u2);
	*diff = p1 - p2;
	*lo = *diff - sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
	*hi = *diff + sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
}

void fv_stats_ratio_katz(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double conf,
			 double *ratio, double *lo, double *hi)
{
	double z = fv_stats_qnorm(0.5 + conf / 2), se;

	if (n1 == 0 || n2 == 0 || x1 == 0 || x2 == 0) {
		*ratio = (n1 && n2 && x2) ? ((double)x1 / (double)n1) / ((double)x2 / (double)n2)
					  : NAN;
		*lo = *hi = NAN;
		return;
	}
	*ratio = ((double)x1 / (double)n1) / ((double)x2 / (double)n2);
	se = sqrt(1.0 / (double)x1 - 1.0 / (double)n1 + 1.0 / (double)x2 - 1.0 / (double)n2);
	*lo = *ratio * exp(-z * se);
	*hi = *ratio * exp(z * se);
}
