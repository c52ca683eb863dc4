/* fedval: statistics. Nodes compute sufficient statistics from their records; the coordinator
 * combines them (DESIGN.md §8). Every function here is pure: no I/O, no globals. */
#ifndef FEDVAL_STATS_H
#define FEDVAL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

/* Counts at one threshold; a record is called positive when score >= threshold. */
struct fv_confusion {
	uint64_t tp, fp, tn, fn;
};

fv_err fv_stats_confusion(const double *score, const uint8_t *label, size_t n, double threshold,
			  struct fv_confusion *out);

/* AUROC (Mann–Whitney, ties count one half) and its DeLong variance, O(n log n).
 * FV_EINVAL when either class is empty. */
fv_err fv_stats_auc_delong(const double *score, const uint8_t *label, size_t n, double *auc,
			   double *var, struct fv_diag *d);

/* A confidence interval for a proportion x/n at level conf (e.g. 0.95). n == 0 gives [0,1]. */
void fv_stats_wilson(uint64_t x, uint64_t n, double conf, double *lo, double *hi);
void fv_stats_clopper_pearson(uint64_t x, uint64_t n, double conf, double *lo, double *hi);

/* Standard normal quantile (inverse CDF) and CDF. */
double fv_stats_qnorm(double p);
double fv_stats_pnorm(double z);

/* Wald interval on the AUC scale from a DeLong variance (as pROC's ci.auc, method "delong"),
 * clipped to [0, 1]. */
void fv_stats_auc_ci(double auc, double var, double conf, double *lo, double *hi);

/* Logistic regression by Newton–Raphson (IRLS) with an optional ridge penalty `lambda` on the
 * coefficients (not the intercept). x is row-major [n][p]. coef gets p values. */
fv_err fv_stats_logreg_fit(const double *x, const uint8_t *y, size_t n, size_t p, double lambda,
			   double *coef, double *intercept, struct fv_diag *d);

#endif
