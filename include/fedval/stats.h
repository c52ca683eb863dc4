/* fedval: statistics. Nodes compute sufficient statistics from their records; the coordinator
 * combines them (DESIGN.md §8). Every function here is pure: no I/O, no globals. */
#ifndef FEDVAL_STATS_H
#define FEDVAL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

/* Counts at one threshold; a record is called positive when score >= threshold (a NaN score is
 * never positive). FV_EINVAL for a label other than 0/1 or NULL pointers; *out is zeroed
 * first, so it is always defined. */
struct fv_confusion {
	uint64_t tp, fp, tn, fn;
};

fv_err fv_stats_confusion(const double *score, const uint8_t *label, size_t n, double threshold,
			  struct fv_confusion *out);

/* Proportions from a confusion; a metric whose denominator is zero is NaN. */
struct fv_metrics {
	double sensitivity; /* tp / (tp + fn) */
	double specificity; /* tn / (tn + fp) */
	double ppv;	    /* tp / (tp + fp) */
	double npv;	    /* tn / (tn + fn) */
	double accuracy;    /* (tp + tn) / all */
};
void fv_stats_metrics(const struct fv_confusion *c, struct fv_metrics *out);

/* Brier score: mean of (p - y)^2. Probabilities must lie in [0, 1]; n == 0 is FV_EINVAL. */
fv_err fv_stats_brier(const double *p, const uint8_t *y, size_t n, double *out);

/* Observed/expected ratio from the sufficient statistics (sum of y, sum of p); NaN when the
 * expected count is not positive. */
double fv_stats_oe_ratio(double observed, double expected);

/* AUROC (Mann–Whitney, ties count one half) and its DeLong variance, O(n log n) time and
 * 8n bytes of scratch. FV_EINVAL when either class is empty, a label is not 0/1 or a score is
 * NaN; FV_ENOMEM if the scratch cannot be allocated. The variance needs two records of each
 * class: with a single case or control it is NaN (as pROC's var() gives NA). */
fv_err fv_stats_auc_delong(const double *score, const uint8_t *label, size_t n, double *auc,
			   double *var, struct fv_diag *d);

/* A confidence interval for a proportion x/n at level conf (e.g. 0.95). n == 0 gives [0,1]. */
void fv_stats_wilson(uint64_t x, uint64_t n, double conf, double *lo, double *hi);
void fv_stats_clopper_pearson(uint64_t x, uint64_t n, double conf, double *lo, double *hi);

/* Standard normal quantile (inverse CDF) and CDF. qnorm(0) = -inf, qnorm(1) = +inf, NaN
 * outside [0, 1]. */
double fv_stats_qnorm(double p);
double fv_stats_pnorm(double z);

/* Regularized incomplete beta function I_x(a, b) (the Beta(a, b) CDF) and its inverse in x.
 * NaN for a <= 0, b <= 0 or p outside [0, 1]. */
double fv_stats_pbeta(double x, double a, double b);
double fv_stats_qbeta(double p, double a, double b);

/* Wald interval on the AUC scale from a DeLong variance (as pROC's ci.auc, method "delong"),
 * clipped to [0, 1]. */
void fv_stats_auc_ci(double auc, double var, double conf, double *lo, double *hi);

/* Logistic regression by Newton–Raphson (IRLS) with an optional ridge penalty `lambda` on the
 * coefficients (not the intercept). x is row-major [n][p]. coef gets p values.
 * Minimises -2 loglik + lambda * sum(coef^2), i.e. scikit-learn's objective with C = 1/lambda.
 * FV_EINVAL (with a reason in d) for bad input, collinearity, non-convergence in 100
 * iterations, or separation (lambda == 0 and a fitted probability within 1e-13 of 0 or 1). */
fv_err fv_stats_logreg_fit(const double *x, const uint8_t *y, size_t n, size_t p, double lambda,
			   double *coef, double *intercept, struct fv_diag *d);

#endif
