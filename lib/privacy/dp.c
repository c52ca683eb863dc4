/* Differential privacy for released counts (issue 7, DESIGN.md §9): integer noise from the
 * discrete Laplace or the discrete Gaussian distribution, calibrated to the sensitivity of
 * what a result releases, then made consistent again by post-processing (which costs no
 * privacy).
 *
 * Samplers (Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential Privacy",
 * NeurIPS 2020):
 *   - discrete Laplace with scale b, P(x) = (1 - q)/(1 + q) q^|x|, q = exp(-1/b): the
 *     difference of two independent geometric variables with failure probability q
 *     (Inusah & Kozubowski 2006). Variance 2q / (1 - q)^2.
 *   - discrete Gaussian N_Z(0, s^2), P(x) ∝ exp(-x^2 / (2 s^2)): their Algorithm 3, rejection
 *     from a discrete Laplace of scale t = floor(s) + 1, accepting Y with probability
 *     exp(-(|Y| - s^2/t)^2 / (2 s^2)).
 * The uniform variates behind them are 53-bit doubles from the caller's generator (OpenSSL's
 * CSPRNG at the node), and the geometric and Bernoulli steps use floating-point exp/log; the
 * noise itself is an integer, so the floating-point attacks on continuous Laplace noise
 * (Mironov 2012: holes in the set of reachable doubles) do not apply, but the probabilities
 * are those of the float computation, not exact rationals as in CKS's exact samplers. */
#include <math.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/privacy.h"
#include "fedval/util.h"

uint64_t fv_dp_system_bits(void *ctx)
{
	uint64_t x;
	(void)ctx;
	/* A node that cannot draw random bits must not release noised numbers as if it had. */
	if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
		abort();
	return x;
}

/* Uniform in (0, 1): never 0, so log() is finite. */
static double uniform(const struct fv_dp_rng *r)
{
	return ((double)(r->bits(r->ctx) >> 11) + 0.5) * 0x1p-53;
}

/* Failures before the first success, success probability 1 - q (0 < q < 1). */
static int64_t geometric(const struct fv_dp_rng *r, double log_q)
{
	double g = floor(log(uniform(r)) / log_q);
	return g < 9.2e18 ? (int64_t)g : INT64_MAX / 4;
}

int64_t fv_dp_discrete_laplace(const struct fv_dp_rng *r, double b)
{
	if (!(b > 0.0))
		return 0;
	double log_q = -1.0 / b;
	return geometric(r, log_q) - geometric(r, log_q);
}

int64_t fv_dp_discrete_gaussian(const struct fv_dp_rng *r, double sigma)
{
	if (!(sigma > 0.0))
		return 0;
	double t = floor(sigma) + 1.0, s2 = sigma * sigma;
	for (;;) {
		int64_t y = fv_dp_discrete_laplace(r, t);
		double dev = fabs((double)y) - s2 / t;
		if (uniform(r) < exp(-dev * dev / (2.0 * s2)))
			return y;
	}
}

double fv_dp_gaussian_sigma(double l2_sensitivity, double epsilon, double delta)
{
	/* rho-zCDP with rho = Δ² / (2σ²) (CKS 2020, Theorem 4 and §2.3 for the multivariate
	 * case), and rho-zCDP implies (rho + 2 sqrt(rho ln(1/δ)), δ)-DP (Bun & Steinke 2016,
	 * Proposition 1.3). Solve for the largest rho within epsilon. */
	double l = log(1.0 / delta), s = sqrt(l + epsilon) - sqrt(l), rho = s * s;
	return l2_sensitivity / sqrt(2.0 * rho);
}

fv_err fv_dp_params_check(const struct fv_dp_params *p, struct fv_diag *d)
{
	if (p->mechanism == FV_DP_NONE)
		return FV_OK;
	if (p->mechanism != FV_DP_LAPLACE && p->mechanism != FV_DP_GAUSSIAN)
		return fv_diag_set(d, FV_EINVAL, "unknown differential-privacy mechanism");
	if (!(p->epsilon >= 0.01 && p->epsilon <= 10.0))
		return fv_diag_set(d, FV_EINVAL, "dp_epsilon %g outside [0.01, 10]", p->epsilon);
	if (p->mechanism == FV_DP_GAUSSIAN && !(p->delta > 0.0 && p->delta <= 1e-3))
		return fv_diag_set(d, FV_EINVAL, "dp_delta %g outside (0, 0.001]", p->delta);
	return FV_OK;
}

/* One count's noise: the share of the privacy loss is set by the caller through l1/l2, the
 * sensitivity of the whole vector the count belongs to. */
static int64_t noise(const struct fv_dp_params *p, const struct fv_dp_rng *r, double l1, double l2,
		     double eps)
{
	if (p->mechanism == FV_DP_LAPLACE)
		return fv_dp_discrete_laplace(r, l1 / eps);
	return fv_dp_discrete_gaussian(r, fv_dp_gaussian_sigma(l2, eps, p->delta));
}

static uint64_t add_clamped(uint64_t x, int64_t z, uint64_t hi)
{
	int64_t v = (int64_t)(x > INT64_MAX / 2 ? INT64_MAX / 2 : x) + z;
	if (v < 0)
		return 0;
	return (uint64_t)v > hi ? hi : (uint64_t)v;
}

/* A sum of per-record values in [0, 1] (expected events, Brier sum): sensitivity 1. Noised on
 * a grid of 1/FV_DP_GRID so that the noise stays an integer. */
static double noise_sum(const struct fv_dp_params *p, const struct fv_dp_rng *r, double sum,
			double hi, double eps)
{
	/* Rounding to the grid moves the sum by at most half a step: sensitivity GRID + 1. */
	double units = nearbyint(sum * FV_DP_GRID), s = FV_DP_GRID + 1.0;
	double v = (units + (double)noise(p, r, s, s, eps)) / FV_DP_GRID;
	return v < 0.0 ? 0.0 : v > hi ? hi : v;
}

fv_err fv_dp_noise_result(const struct fv_dp_params *p, const struct fv_dp_rng *r,
			  struct fv_dp_result *x, struct fv_diag *d)
{
	fv_err e;

	if ((e = fv_dp_params_check(p, d)) != FV_OK)
		return e;
	if (p->mechanism == FV_DP_NONE)
		return FV_OK;
	if (x->n_thr > FV_DP_MAX_THR)
		return fv_diag_set(d, FV_ELIMIT, "more than %d thresholds", FV_DP_MAX_THR);
	for (uint32_t t = 0; t < x->n_thr; t++)
		if (x->tp[t] > x->n_pos || x->fp[t] > x->n_neg)
			return fv_diag_set(d, FV_EINVAL, "confusion counts exceed the class sizes");
	/* The privacy loss is split: half to the counts, a quarter to each sum (sequential
	 * composition). One record changes n_pos or n_neg by 1 and tp or fp by at most 1 at
	 * each threshold: L1 sensitivity 1 + n_thr, L2 sqrt(1 + n_thr). */
	double l1 = 1.0 + x->n_thr, l2 = sqrt(l1), eps_c = p->epsilon / 2.0,
	       eps_s = p->epsilon / 4.0;
	uint64_t hi = x->n_pos + x->n_neg + ((uint64_t)1 << 20);
	uint64_t n_pos = add_clamped(x->n_pos, noise(p, r, l1, l2, eps_c), hi);
	uint64_t n_neg = add_clamped(x->n_neg, noise(p, r, l1, l2, eps_c), hi);
	/* Post-processing: every row within its class sizes, so that tn and fn (derived) are
	 * never negative and the counts still add up. */
	for (uint32_t t = 0; t < x->n_thr; t++) {
		x->tp[t] = add_clamped(x->tp[t], noise(p, r, l1, l2, eps_c), n_pos);
		x->fp[t] = add_clamped(x->fp[t], noise(p, r, l1, l2, eps_c), n_neg);
	}
	x->n_pos = n_pos;
	x->n_neg = n_neg;
	double n = (double)(n_pos + n_neg);
	x->sum_p = noise_sum(p, r, x->sum_p, n, eps_s);
	x->brier_sum = noise_sum(p, r, x->brier_sum, n, eps_s);
	return FV_OK;
}

const char *fv_dp_mechanism_name(enum fv_dp_mechanism m)
{
	return m == FV_DP_LAPLACE ? "laplace" : m == FV_DP_GAUSSIAN ? "gaussian" : "none";
}

fv_err fv_dp_mechanism_parse(const char *s, enum fv_dp_mechanism *out)
{
	if (!strcmp(s, "none"))
		*out = FV_DP_NONE;
	else if (!strcmp(s, "laplace"))
		*out = FV_DP_LAPLACE;
	else if (!strcmp(s, "gaussian"))
		*out = FV_DP_GAUSSIAN;
	else
		return FV_EINVAL;
	return FV_OK;
}
