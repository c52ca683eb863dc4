/* fedval: disclosure control at the node (DESIGN.md §9). The policy is the hospital's own,
 * never the coordinator's. Every result leaves through fv_privacy_gate, which re-checks the
 * final encoded bytes. */
#ifndef FEDVAL_PRIVACY_H
#define FEDVAL_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/stats.h"

struct fv_policy {
	uint32_t min_cell;	 /* smallest count released in a cell (default 5); 0 is released */
	uint64_t min_cohort;	 /* smallest cohort evaluated at all */
	size_t max_result_bytes; /* bound on an outgoing result */
};

void fv_policy_default(struct fv_policy *p);

/* True when a count may be released: 0, or at least min_cell. */
static inline int fv_privacy_cell_ok(const struct fv_policy *p, uint64_t count)
{
	return count == 0 || count >= p->min_cell;
}

/* Confusion counts at one threshold are released whole or not at all: if any cell is small
 * the row is withheld, since within a class one cell and n_pos (or n_neg) give the other. */
int fv_privacy_confusion_ok(const struct fv_policy *p, const struct fv_confusion *c);

/* The one outbound gate: decode the final packed SiteResult and refuse it (FV_EREFUSED, the
 * reason in d) unless every count obeys the policy, no field the schema does not know is
 * present, sizes are bounded and a failed result carries no statistics. */
fv_err fv_privacy_gate(const struct fv_policy *p, const uint8_t *result, size_t len,
		       struct fv_diag *d);

/* The same gate for a round of a multi-round fit (a packed RoundResult): canonical bytes, no
 * field outside the schema, a cohort of at least min_cohort, at most FV_NEWTON_MAXK
 * gradient terms and their square of Hessian terms, all finite; a failed round carries none. */
fv_err fv_privacy_gate_round(const struct fv_policy *p, const uint8_t *msg, size_t len,
			     struct fv_diag *d);

/* Whether a (benchmark or job) field name is one of the site's policy settings, which only
 * the site's own config may set: a job naming one is refused, never obeyed or ignored. */
int fv_privacy_is_policy_key(const char *key);

/* ---- differential privacy (dp.c) ----
 * Integer noise on the counts and sums a result releases, from the discrete Laplace or the
 * discrete Gaussian distribution (Canonne, Kamath & Steinke 2020), with the privacy loss of
 * one result declared by the site (docs/security.md). */
enum fv_dp_mechanism { FV_DP_NONE = 0, FV_DP_LAPLACE, FV_DP_GAUSSIAN };

struct fv_dp_params {
	enum fv_dp_mechanism mechanism;
	double epsilon; /* privacy loss of one result, in [0.01, 10] */
	double delta;	/* gaussian only, in (0, 0.001] */
};

/* A source of uniformly random 64-bit words. */
struct fv_dp_rng {
	uint64_t (*bits)(void *ctx);
	void *ctx;
};
/* OpenSSL's CSPRNG (RAND_bytes); aborts if it fails rather than release unnoised numbers. */
uint64_t fv_dp_system_bits(void *ctx);

/* One draw: P(x) ∝ exp(-|x| / b), and P(x) ∝ exp(-x² / (2 sigma²)). 0 for a scale <= 0. */
int64_t fv_dp_discrete_laplace(const struct fv_dp_rng *r, double b);
int64_t fv_dp_discrete_gaussian(const struct fv_dp_rng *r, double sigma);
/* The discrete Gaussian's sigma for (epsilon, delta)-DP at this L2 sensitivity, through
 * zero-concentrated DP (rho = Δ²/(2σ²); epsilon = rho + 2 sqrt(rho ln(1/delta))). */
double fv_dp_gaussian_sigma(double l2_sensitivity, double epsilon, double delta);
fv_err fv_dp_params_check(const struct fv_dp_params *p, struct fv_diag *d);

#define FV_DP_MAX_THR 64
#define FV_DP_GRID    1000.0 /* sums of values in [0, 1] are noised in steps of 1/GRID */

/* What a result releases under differential privacy: class sizes, positive calls of each
 * class at each threshold (tn = n_neg - fp, fn = n_pos - tp) and two sums of per-record
 * values in [0, 1]. */
struct fv_dp_result {
	uint64_t n_pos, n_neg;
	uint32_t n_thr;
	uint64_t tp[FV_DP_MAX_THR], fp[FV_DP_MAX_THR];
	double sum_p, brier_sum;
};
/* Add noise in place: half of epsilon to the counts (L1 sensitivity 1 + n_thr), a quarter to
 * each sum (sensitivity 1); then clamp so that 0 <= tp <= n_pos, 0 <= fp <= n_neg and the sums
 * lie in [0, n]. FV_OK and nothing changed for FV_DP_NONE. */
fv_err fv_dp_noise_result(const struct fv_dp_params *p, const struct fv_dp_rng *r,
			  struct fv_dp_result *x, struct fv_diag *d);
const char *fv_dp_mechanism_name(enum fv_dp_mechanism m);
fv_err fv_dp_mechanism_parse(const char *s, enum fv_dp_mechanism *out);

#endif
