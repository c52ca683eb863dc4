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

/* ======================================================================================
 * Additions for issue 6. Unless stated otherwise: conf is a two-sided level in (0, 1);
 * estimates that are not defined (an empty denominator, a zero cell under a log) are NaN, and
 * the caller reports them as "not estimable". */

/* A point estimate with a confidence interval. */
struct fv_interval {
	double est, lo, hi;
};

enum fv_ci_method { FV_CI_WILSON = 0, FV_CI_CLOPPER_PEARSON };

/* Every proportion of fv_metrics with an interval by `method`, F1 = 2TP/(2TP+FP+FN), and the
 * likelihood ratios LR+ = sens/(1-spec), LR- = (1-sens)/spec with the log-method interval of
 * Simel, Samsa & Matchar (1991): exp(log LR +- z se), se(log LR+)^2 = 1/TP - 1/(TP+FN) +
 * 1/FP - 1/(FP+TN), se(log LR-)^2 = 1/FN - 1/(TP+FN) + 1/TN - 1/(FP+TN). A likelihood
 * ratio with a zero numerator or denominator cell has NaN interval bounds (its estimate may
 * be 0 or +inf). */
struct fv_binary_metrics {
	struct fv_interval sensitivity, specificity, ppv, npv, accuracy, prevalence;
	double f1;
	struct fv_interval lr_pos, lr_neg;
};
void fv_stats_binary_metrics(const struct fv_confusion *c, enum fv_ci_method method, double conf,
			     struct fv_binary_metrics *out);

/* Paired DeLong comparison of two models A and B scored on the same records (DeLong, DeLong &
 * Clarke-Pearson 1988). s10 and s01 are the sample covariance matrices of the structural
 * components (V10 over cases, V01 over controls; entries AA, AB, BB): they are what a site
 * sends besides n1, n0 and the two AUCs. cov = S10/n1 + S01/n0. z = (aucA - aucB) /
 * sqrt(var(A) + var(B) - 2 cov(A,B)), p two-sided normal; diff_lo/hi is the Wald interval of
 * aucA - aucB at level conf. O(n log n) time, 16n bytes scratch. Needs two records of each
 * class (FV_EINVAL otherwise). A zero variance of the difference gives z = NaN, p = NaN (and
 * p = 1 if the AUCs are equal). */
struct fv_delong_paired {
	uint64_t n1, n0;
	double auc_a, auc_b;
	double s10[3], s01[3]; /* AA, AB, BB */
	double var_a, var_b, cov_ab;
	double diff, diff_se, diff_lo, diff_hi, z, p;
};
fv_err fv_stats_delong_paired(const double *score_a, const double *score_b, const uint8_t *label,
			      size_t n, double conf, struct fv_delong_paired *out,
			      struct fv_diag *d);
/* Recompute var/cov, z, p and the difference interval from n1, n0, the AUCs, s10 and s01
 * (e.g. after receiving them from a site). */
void fv_stats_delong_paired_finish(struct fv_delong_paired *r, double conf);

/* Average precision as scikit-learn's average_precision_score: sum over distinct thresholds
 * (descending) of (R_k - R_{k-1}) P_k; and the area under the precision-recall curve by the
 * trapezoid rule over sklearn's precision_recall_curve points, which start at (R=0, P=1).
 * Needs at least one case (FV_EINVAL otherwise). O(n log n). */
fv_err fv_stats_average_precision(const double *score, const uint8_t *label, size_t n, double *ap,
				  double *auprc, struct fv_diag *d);

/* Scaled Brier score 1 - B / (ybar (1 - ybar)), ybar the observed prevalence, from the
 * sufficient statistics n, sum y and sum (p - y)^2. NaN when ybar is 0 or 1. */
double fv_stats_brier_scaled(uint64_t n, double sum_y, double sum_sq);

/* ---- calibration ---- */

/* Calibration-in-the-large: the intercept a of logit P(y=1) = a + logit(p) (slope fixed at 1,
 * i.e. an offset), by Newton's method; and the calibration intercept/slope: logit P(y=1) =
 * a + b logit(p), fitted by the Newton rounds below. Probabilities are clamped to
 * [1e-15, 1 - 1e-15] before taking logits. oe = sum y / sum p. FV_EINVAL with a reason for
 * bad input, a single outcome class, or non-convergence. */
struct fv_calibration {
	uint64_t n;
	double sum_y, sum_p, oe;
	double citl;		       /* intercept with slope fixed at 1 */
	double intercept, slope;       /* recalibration model */
	double se_intercept, se_slope; /* from the inverse information at the optimum */
};
fv_err fv_stats_calibration(const double *p, const uint8_t *y, size_t n, struct fv_calibration *out,
			    struct fv_diag *d);

/* Binned calibration curve: nbins bins on [0, 1], equal width (quantile = 0) or with edges at
 * the quantiles of p (quantile = 1, numpy's linear percentile, as scikit-learn's
 * calibration_curve(strategy="quantile")). A record goes to the bin found as
 * searchsorted(inner edges, p, side="right"). Per bin: count, sum p, sum y (what a site
 * sends); ece = sum_b n_b/n |mean y_b - mean p_b|. edges gets nbins + 1 values (may be NULL).
 * Quantile bins sort a copy of p (8n bytes). */
struct fv_calib_bin {
	uint64_t n;
	double sum_p, sum_y;
};
fv_err fv_stats_calibration_curve(const double *p, const uint8_t *y, size_t n, size_t nbins,
				  int quantile, struct fv_calib_bin *bins, double *edges,
				  double *ece, struct fv_diag *d);
/* ECE from bins alone (coordinator side, after adding the sites' bins). NaN if all empty. */
double fv_stats_ece(const struct fv_calib_bin *bins, size_t nbins);

/* Net benefit at threshold probability t in (0, 1) (Vickers & Elkin 2006):
 * NB = TP/n - FP/n * t/(1-t); treat-all NB = prev - (1-prev) t/(1-t); treat-none is 0. */
double fv_stats_net_benefit(uint64_t tp, uint64_t fp, uint64_t n, double t);
struct fv_dca_point {
	double threshold, model, treat_all, treat_none;
	uint64_t tp, fp;
};
/* Decision curve at nt thresholds (each in (0, 1); a record is treated when p >= t).
 * O((n + nt) log n). */
fv_err fv_stats_decision_curve(const double *p, const uint8_t *y, size_t n, const double *t,
			       size_t nt, struct fv_dca_point *out, struct fv_diag *d);

/* ---- federated Newton rounds for a logistic model with additive per-site terms ---- */

#define FV_NEWTON_MAXK 16 /* parameters; the recalibration model has 2 */

/* What a site returns for one round at the coordinator's beta: gradient g = X'(y - mu),
 * negative Hessian h = X'WX (row-major k x k, W = mu(1-mu)) and log-likelihood ll, all sums
 * over its records, so sites combine by adding. */
struct fv_newton_site {
	size_t k;
	uint64_t n;
	double g[FV_NEWTON_MAXK];
	double h[FV_NEWTON_MAXK * FV_NEWTON_MAXK];
	double ll;
};
/* General form: x row-major [n][k] (include a column of ones for an intercept), optional
 * offset (NULL = 0). */
fv_err fv_stats_newton_site(const double *x, const double *offset, const uint8_t *y, size_t n,
			    size_t k, const double *beta, struct fv_newton_site *out,
			    struct fv_diag *d);
/* The recalibration model logit P(y=1) = b0 + b1 logit(p) without building x: k = 2. */
fv_err fv_stats_newton_site_recal(const double *p, const uint8_t *y, size_t n, const double *beta,
				  struct fv_newton_site *out, struct fv_diag *d);
/* Add b into a (same k). */
fv_err fv_stats_newton_site_add(struct fv_newton_site *a, const struct fv_newton_site *b);

/* Coordinator state across rounds: start with fv_stats_newton_init; each round send beta to the
 * sites, add their fv_newton_site results and call fv_stats_newton_update, until it reports
 * done. A round whose log-likelihood fell (an overshooting step) is retried with half the step
 * from the last accepted beta. Converged when the Newton decrement g'H^-1 g < tol (ll units)
 * at an accepted beta; beta then is the maximum-likelihood estimate and cov = H^-1. */
struct fv_newton {
	size_t k;
	double beta[FV_NEWTON_MAXK]; /* the beta to evaluate next (or the estimate) */
	double best[FV_NEWTON_MAXK]; /* last accepted beta */
	double dir[FV_NEWTON_MAXK];  /* Newton step from best */
	double cov[FV_NEWTON_MAXK * FV_NEWTON_MAXK];
	double best_ll, step, decrement, tol;
	int rounds, have_best, converged;
};
void fv_stats_newton_init(struct fv_newton *s, size_t k, const double *beta0, double tol);
/* sum: the sites' results at s->beta added together. Returns FV_OK (check s->converged),
 * FV_EINVAL for a singular information matrix, a bad sum, or a step halved 60 times. */
fv_err fv_stats_newton_update(struct fv_newton *s, const struct fv_newton_site *sum,
			      struct fv_diag *d);

/* ---- pooled AUROC from class-wise counts on a common grid ---- */

/* pos[b], neg[b]: counts of cases and controls in bin b of an ascending grid of nb bins. When
 * each bin holds a single score value (exact = the grid lists the distinct scores) the
 * Mann-Whitney AUC with ties as one half is exact: est. Otherwise lo/hi bound the AUC of
 * the unbinned scores: pairs in different bins are ordered, a case and a control in the same
 * bin count 0 (lo) or 1 (hi); est is the midpoint (ties as one half). var: DeLong variance of
 * the tie-as-half AUC computed from the counts (the exact DeLong variance when the grid is
 * exact). FV_EINVAL when a class is empty. */
fv_err fv_stats_auc_hist(const uint64_t *pos, const uint64_t *neg, size_t nb,
			 struct fv_interval *auc, double *var, struct fv_diag *d);

/* ---- meta-analysis of per-site estimates ---- */

enum fv_meta_method { FV_META_FE = 0, FV_META_DL, FV_META_REML };
struct fv_meta {
	size_t k;
	enum fv_meta_method method;
	int hk;				      /* Hartung-Knapp(-Sidik-Jonkman) adjustment used */
	double mu, se, ci_lo, ci_hi, stat, p; /* stat: z, or t with k-1 df under HK */
	double tau2, tau, i2, h2, h;	      /* i2 in percent */
	double q, q_p;			      /* Cochran's Q (k-1 df) and its p */
	double pi_lo, pi_hi;		      /* prediction interval, t(k-2); NaN for k < 3 */
	int iterations;			      /* REML Fisher scoring iterations */
};
/* y: estimates, v: their sampling variances (> 0), k >= 1 (Q, I2 need k >= 2; FE if k == 1).
 * FV_EINVAL for bad input or REML non-convergence. */
fv_err fv_stats_meta(const double *y, const double *v, size_t k, enum fv_meta_method method, int hk,
		     double conf, struct fv_meta *out, struct fv_diag *d);

/* logit transform with delta-method variance: y = log(p/(1-p)), var_y = var / (p(1-p))^2;
 * NaN outside (0, 1). expit is its inverse. For a proportion x/n, fv_stats_logit_prop gives
 * logit((x+c)/(n+2c)) and 1/(x+c) + 1/(n-x+c) with c = 0.5 when x is 0 or n, else c = 0. */
void fv_stats_logit_delta(double p, double var, double *y, double *var_y);
double fv_stats_expit(double x);
void fv_stats_logit_prop(uint64_t x, uint64_t n, double *y, double *var_y);

/* Student t and chi-square distributions used above. */
double fv_stats_pt(double t, double df);
double fv_stats_qt(double p, double df);
double fv_stats_pchisq_upper(double x, double df);

/* ---- operating points ---- */

enum fv_op_target { FV_OP_SENSITIVITY = 0, FV_OP_SPECIFICITY, FV_OP_POSITIVE_RATE };
/* The threshold t (a record is positive when score >= t, t one of the scores) that reaches the
 * target: the largest t with sensitivity >= target or positive rate >= target; the smallest t
 * with specificity >= target (+inf if only "call nobody" reaches it). The confusion at t goes
 * to *c. O(n log n). FV_EINVAL if the class the target needs is empty. */
fv_err fv_stats_operating_point(const double *score, const uint8_t *label, size_t n,
				enum fv_op_target target, double value, double *threshold,
				struct fv_confusion *c, struct fv_diag *d);

/* ---- other tasks ---- */

/* Harrell's C-index: over pairs with time_i < time_j and event_i = 1 (tied times are not
 * comparable), concordant when risk_i > risk_j, tied risk counts one half. O(n log n) with a
 * Fenwick tree; about 48n bytes scratch (with qsort's merge buffer). comparable may be NULL.
 * FV_EINVAL for NaN input or no comparable pair. */
fv_err fv_stats_cindex(const double *time, const uint8_t *event, const double *risk, size_t n,
		       double *c, uint64_t *comparable, struct fv_diag *d);
/* The counts behind it: *conc2 = 2 x concordant + risk-tied pairs, *comparable the comparable
 * pairs (0 is no error here). C = conc2 / (2 comparable). Sites' counts add up to the
 * site-stratified C-index, which compares patients within a site only (docs/statistics.md). */
fv_err fv_stats_cindex_counts(const double *time, const uint8_t *event, const double *risk,
			      size_t n, uint64_t *conc2, uint64_t *comparable, struct fv_diag *d);

/* Regression: MAE, RMSE, R^2 = 1 - SSres/SStot (NaN if y is constant), and the calibration
 * intercept and slope of the least-squares line y = a + b * pred. */
struct fv_regression {
	double mae, rmse, r2, intercept, slope;
};
fv_err fv_stats_regression(const double *pred, const double *y, size_t n, struct fv_regression *out,
			   struct fv_diag *d);
/* The sufficient statistics of those metrics, as a site releases them: means of y and pred, sums
 * of squares and cross-products around the means (syy, spp, spy), and sums of |y - pred| and
 * (y - pred)^2. Two sites' sums merge exactly into those of their union (Chan, Golub & LeVeque
 * 1979), in any order up to rounding. */
struct fv_reg_sums {
	uint64_t n;
	double mean_y, mean_p, syy, spp, spy, sae, sse;
};
fv_err fv_stats_regression_sums(const double *pred, const double *y, size_t n,
				struct fv_reg_sums *out, struct fv_diag *d);
/* *a becomes the sums of a's records and b's. */
void fv_stats_regression_merge(struct fv_reg_sums *a, const struct fv_reg_sums *b);
/* The metrics from sums (n >= 1). */
void fv_stats_regression_from_sums(const struct fv_reg_sums *s, struct fv_regression *out);

/* Multiclass, K >= 2 classes: score row-major [n][K], label in 0..K-1. auc gets K one-vs-rest
 * AUCs (NaN for a class absent or present in every record), *macro their mean over estimable
 * classes, *micro the AUC of all n*K (score, indicator) pairs; confusion (K*K, may be NULL)
 * counts [true][predicted] with the prediction the arg-max score (first on ties). */
fv_err fv_stats_multiclass(const double *score, const uint8_t *label, size_t n, size_t K,
			   double *auc, double *macro, double *micro, uint64_t *confusion,
			   struct fv_diag *d);
/* The same with each one-vs-rest AUC's DeLong variance (auc_var[K], NaN where the AUC is) and
 * the micro average's (*micro_var; it treats the n*K pairs as independent, so it is only a
 * rough guide). auc_var and micro_var may be NULL. */
fv_err fv_stats_multiclass_var(const double *score, const uint8_t *label, size_t n, size_t K,
			       double *auc, double *auc_var, double *macro, double *micro,
			       double *micro_var, uint64_t *confusion, struct fv_diag *d);

/* ======================================================================================
 * Drift monitoring (issue 8, docs/monitoring.md). A monitored quantity is a series of
 * per-period estimates y[t] with sampling variances v[t], compared with a baseline period. */

#define FV_CUSUM_K 0.5 /* reference value, in standard errors: half the shift to detect */
#define FV_CUSUM_H 4.0 /* decision interval: two-sided in-control ARL about 168 periods */

/* One period of a standardized two-sided CUSUM (Page 1954, tabular form as in Montgomery,
 * Introduction to Statistical Quality Control, ch. 9):
 *   z[t] = (y[t] - baseline) / sqrt(v[t] + baseline_var),
 *   C+[t] = max(0, C+[t-1] + z[t] - k),  C-[t] = max(0, C-[t-1] - z[t] - k),  C[-1] = 0.
 * A period whose y or v is not finite, or v + baseline_var <= 0, is missing: z is NaN and the
 * sums carry over unchanged. The sums are not reset after an alarm. */
struct fv_cusum_point {
	double z, cplus, cminus;
	int missing;
};
struct fv_cusum {
	double k, h;
	size_t alarm;  /* first t with C+[t] > h or C-[t] > h; n when none */
	int direction; /* +1: C+ crossed (y above baseline), -1: C- crossed, 0: no alarm */
};
/* path gets n points (may be NULL). baseline_var = 0 treats the baseline as known; a positive
 * value also standardizes by the baseline's error, which is common to all periods (see
 * docs/monitoring.md on what that does to the false-alarm rate). FV_EINVAL for k < 0, h <= 0,
 * a non-finite baseline, baseline_var < 0 or NULL y, v or out. */
fv_err fv_stats_cusum(const double *y, const double *v, size_t n, double baseline,
		      double baseline_var, double k, double h, struct fv_cusum_point *path,
		      struct fv_cusum *out, struct fv_diag *d);

/* Two-sided z test of the change y - y0 of one period from the baseline, independent
 * estimates: se = sqrt(v + v0), z = (y - y0) / se, p = 2 (1 - Phi(|z|)); diff_lo/hi is the
 * Wald interval at level conf. All NaN when an input is not finite or v + v0 <= 0. */
struct fv_change {
	double diff, se, z, p, diff_lo, diff_hi;
};
void fv_stats_change(double y, double v, double y0, double v0, double conf, struct fv_change *out);

/* Multiplicity adjustment of m p-values, as R's p.adjust: Bonferroni min(1, m p); Holm's
 * step-down max_{j<=i} min(1, (m - j + 1) p_(j)) over the ascending order. NaN p-values stay
 * NaN and do not count in m. adj may equal p. Holm sorts 16m bytes of scratch: FV_ENOMEM,
 * and FV_EINVAL for NULL pointers. */
enum fv_padjust { FV_PADJ_BONFERRONI = 0, FV_PADJ_HOLM };
fv_err fv_stats_p_adjust(const double *p, size_t m, enum fv_padjust method, double *adj);

/* Monitored quantities on the scale where they are tested:
 * - AUROC: logit(auc) with the delta-method DeLong variance var / (auc (1 - auc))^2
 *   (fv_stats_logit_delta). FV_EINVAL unless 0 < auc < 1 and var > 0 (finite).
 * - calibration-in-the-large: log(O/E) with variance 1/O (Poisson O; Debray et al., BMJ
 *   2017;356:i6460). O = 0 uses O = 0.5 (a half-event correction). FV_EINVAL unless
 *   O >= 0 and E > 0 (finite). */
fv_err fv_stats_monitor_auc(double auc, double var, double *y, double *v);
fv_err fv_stats_monitor_oe(double observed, double expected, double *y, double *v);

/* Input drift of a binned distribution: base[b] and cur[b] are counts over the same nb bins.
 * - psi = sum_b (c_b - a_b) ln(c_b / a_b) with a_b, c_b the bin proportions of base and cur
 *   (population stability index; Siddiqi 2006). When any bin is empty in either, 0.5 is
 *   added to every bin of both before the proportions are formed (psi_corrected = 1).
 * - Pearson chi-square test of homogeneity of the 2 x nb table, after merging adjacent bins
 *   from the left until each merged bin has expected counts >= min_expected in both rows
 *   (Cochran's rule uses 5); a short remainder joins the last merged bin. chi2, df = groups
 *   - 1 and p; NaN when fewer than two groups remain. groups: merged bins used.
 * FV_EINVAL for nb < 2 or an empty distribution. */
struct fv_psi {
	double psi;
	int psi_corrected;
	double chi2, df, p;
	size_t groups;
};
fv_err fv_stats_psi(const uint64_t *base, const uint64_t *cur, size_t nb, double min_expected,
		    struct fv_psi *out, struct fv_diag *d);

/* Input drift of a site's case mix over the categories of one subgroup (sex, age band, ...),
 * as released in its results: each side lists its released categories with their counts out
 * of a total (the site's n); categories a site withheld are not listed. A category listed on
 * both sides keeps its own bin; everything else (withheld on either side, new, gone, records
 * without a category) merges into one remainder bin, total minus the kept counts, so both
 * distributions cover their whole total and no withheld count is ever reconstructed. Then
 * fv_stats_psi over those bins. *kept: categories compared one by one. FV_EINVAL when a total
 * is 0, the listed counts exceed it, a category is listed twice, or fewer than two bins
 * result (nothing to compare). At most FV_MAX_MIX_CATEGORIES categories per side. */
#define FV_MAX_MIX_CATEGORIES 256
#define FV_MIX_PSI	      0.25 /* input-drift alert: PSI at or above (a major shift, Siddiqi 2006) */
#define FV_MIX_ALPHA	      0.01 /* ... with a Holm-adjusted chi-square p below this */
struct fv_mix_cell {
	const char *category;
	uint64_t n;
};
fv_err fv_stats_mix_shift(const struct fv_mix_cell *base, size_t nbase, uint64_t base_total,
			  const struct fv_mix_cell *cur, size_t ncur, uint64_t cur_total,
			  double min_expected, struct fv_psi *out, size_t *kept, struct fv_diag *d);

/* Shift of one input variable between two periods from their summaries (mean, sd, n of the
 * valid values): the standardized mean difference smd = (m1 - m0) / sqrt((s0^2 + s1^2) / 2)
 * (Austin, Stat Med 2009;28:3083-3107; |smd| > 0.1 is the usual mark of a notable imbalance)
 * and the two-sample z test of the means, z = (m1 - m0) / sqrt(s0^2/n0 + s1^2/n1), p two-sided.
 * FV_EINVAL unless n0, n1 >= 2, the sds are finite and >= 0, and not both 0. */
fv_err fv_stats_smd(double m0, double s0, double n0, double m1, double s1, double n1, double *smd,
		    double *p);

/* The input-drift stop criterion over ns series (site x subgroup) and np periods (0 = the
 * baseline): r[q * np + t] is series q's comparison of period t with period 0, used when
 * ok[q * np + t]. The p-values of each period are Holm-adjusted across the series
 * (p_holm[q * np + t], NaN when not used); alarm[q] is the first period t >= 1 with
 * psi >= psi_limit and p_holm < alpha, or np when none. FV_ENOMEM, FV_EINVAL. */
fv_err fv_stats_mix_alarms(const struct fv_psi *r, const int *ok, size_t ns, size_t np,
			   double psi_limit, double alpha, double *p_holm, size_t *alarm);

/* ---- ranks with their uncertainty (head-to-head leaderboards) ---- */
/* Rank intervals of m models from pairwise comparisons, rank 1 the best (largest estimate):
 * diff[k * m + o] = estimate_o - estimate_k and se[k * m + o] its standard error (paired where
 * the two were evaluated on the same records). Model o is significantly better than k when
 * diff - z se > 0, worse when diff + z se < 0; a pair with a non-finite diff or se is
 * undecided. rank_low[k] = 1 + (models significantly better), rank_high[k] = m - (models
 * significantly worse): every rank inside is compatible with the comparisons. With z the
 * Bonferroni quantile qnorm(1 - alpha / (m (m - 1))) over the m (m - 1) / 2 pairs the
 * intervals hold jointly with probability >= 1 - alpha (the construction of Klein, Wright &
 * Wieczorek, J R Stat Soc C 2020;69(3), on pairwise differences). FV_EINVAL for NULL, m = 0
 * or z <= 0. */
fv_err fv_stats_rank_intervals(const double *diff, const double *se, size_t m, double z,
			       size_t *rank_low, size_t *rank_high);

/* ---- two independent proportions x1/n1 and x2/n2 (subgroup disparities) ---- */
/* Difference p1 - p2 with Newcombe's hybrid score interval (1998, method 10). NaN when a
 * denominator is 0. */
void fv_stats_diff_newcombe(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double conf,
			    double *diff, double *lo, double *hi);
/* Ratio p1 / p2 with the Katz log interval; NaN bounds when a count is 0. */
void fv_stats_ratio_katz(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double conf,
			 double *ratio, double *lo, double *hi);

#endif
