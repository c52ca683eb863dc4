/* Meta-analysis of per-site estimates y_i with sampling variances v_i: fixed effect (inverse
 * variance), random effects with the DerSimonian-Laird (1986) or REML between-site variance
 * tau^2, the Hartung-Knapp(-Sidik-Jonkman) adjustment, Cochran's Q, I^2 and H^2 as metafor
 * reports them (Higgins & Thompson 2002), and the prediction interval of Higgins, Thompson &
 * Spiegelhalter (2009). k is small (number of sites), so everything is O(k) per pass. */
#include "fedval/stats.h"

#include <math.h>
#include <string.h>

#define REML_MAX_ITER 1000
#define REML_TOL      1e-12
#define REML_HALVE    60

struct sums {
	double w, w2, w3, wy, mu;
};

static void weigh(const double *y, const double *v, size_t k, double tau2, struct sums *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < k; i++) {
		double w = 1.0 / (v[i] + tau2);
		s->w += w;
		s->w2 += w * w;
		s->w3 += w * w * w;
		s->wy += w * y[i];
	}
	s->mu = s->wy / s->w;
}

/* Restricted log-likelihood up to a constant. */
static double reml_ll(const double *y, const double *v, size_t k, double tau2)
{
	struct sums s;
	double ll = 0.0;

	weigh(y, v, k, tau2, &s);
	for (size_t i = 0; i < k; i++) {
		double w = 1.0 / (v[i] + tau2), r = y[i] - s.mu;
		ll -= 0.5 * (log(v[i] + tau2) + w * r * r);
	}
	return ll - 0.5 * log(s.w);
}

/* REML by Fisher scoring on tau^2 (as metafor), starting from the DL value, truncated at 0,
 * halving a step that lowers the restricted likelihood. */
static fv_err reml(const double *y, const double *v, size_t k, double start, double *tau2,
		   int *iters, struct fv_diag *d)
{
	double t = start, ll = reml_ll(y, v, k, t);

	for (int it = 1; it <= REML_MAX_ITER; it++) {
		struct sums s;
		double score = 0.0, info, step, tn, lln = ll;
		int h;

		weigh(y, v, k, t, &s);
		for (size_t i = 0; i < k; i++) {
			double w = 1.0 / (v[i] + t), r = y[i] - s.mu;
			score += w * w * r * r;
		}
		score = 0.5 * (score - s.w + s.w2 / s.w);
		info = 0.5 * (s.w2 - 2.0 * s.w3 / s.w + (s.w2 / s.w) * (s.w2 / s.w));
		if (!(info > 0.0))
			return fv_diag_set(d, FV_EINVAL, "meta: REML information is not positive");
		step = score / info;
		for (h = 0; h < REML_HALVE; h++, step *= 0.5) {
			tn = fmax(0.0, t + step);
			lln = reml_ll(y, v, k, tn);
			if (lln >= ll - 1e-14 * (1.0 + fabs(ll)))
				break;
		}
		if (h == REML_HALVE)
			tn = t;
		*iters = it;
		if (fabs(tn - t) <= REML_TOL * (1.0 + t)) {
			*tau2 = tn;
			return FV_OK;
		}
		t = tn;
		ll = lln;
	}
	return fv_diag_set(d, FV_EINVAL, "meta: REML did not converge in %d iterations",
			   REML_MAX_ITER);
}

fv_err fv_stats_meta(const double *y, const double *v, size_t k, enum fv_meta_method method, int hk,
		     double conf, struct fv_meta *out, struct fv_diag *d)
{
	struct sums fe, re;
	double q = 0.0, df, s2, tau2 = 0.0, zc, qhk = 0.0, crit;
	fv_err e;

	if (!out || !y || !v || k == 0)
		return fv_diag_set(d, FV_EINVAL, "meta: no estimates or NULL argument");
	if (!(conf > 0.0 && conf < 1.0) || method > FV_META_REML)
		return fv_diag_set(d, FV_EINVAL, "meta: bad level or method");
	for (size_t i = 0; i < k; i++)
		if (!isfinite(y[i]) || !(v[i] > 0.0) || !isfinite(v[i]))
			return fv_diag_set(
			    d, FV_EINVAL,
			    "meta: estimate %zu is not finite or its variance is not "
			    "positive",
			    i + 1);
	memset(out, 0, sizeof(*out));
	out->k = k;
	out->method = method;
	out->hk = hk && k >= 2;
	df = (double)k - 1.0;
	weigh(y, v, k, 0.0, &fe);
	for (size_t i = 0; i < k; i++)
		q += (y[i] - fe.mu) * (y[i] - fe.mu) / v[i];
	out->q = q;
	out->q_p = k >= 2 ? fv_stats_pchisq_upper(q, df) : NAN;
	/* Typical within-site variance (Higgins & Thompson 2002), used for I^2 and H^2. */
	s2 = k >= 2 ? df * fe.w / (fe.w * fe.w - fe.w2) : NAN;
	if (k >= 2 && method != FV_META_FE) {
		tau2 = fmax(0.0, (q - df) / (fe.w - fe.w2 / fe.w)); /* DerSimonian-Laird */
		if (method == FV_META_REML &&
		    (e = reml(y, v, k, tau2, &tau2, &out->iterations, d)) != FV_OK)
			return e;
	}
	out->tau2 = tau2;
	out->tau = sqrt(tau2);
	if (k < 2) {
		out->i2 = out->h2 = out->h = NAN;
	} else if (method == FV_META_FE) {
		out->i2 = q > 0.0 ? 100.0 * fmax(0.0, (q - df) / q) : 0.0;
		out->h2 = q / df;
		out->h = sqrt(out->h2);
	} else {
		out->i2 = 100.0 * tau2 / (tau2 + s2);
		out->h2 = (tau2 + s2) / s2;
		out->h = sqrt(out->h2);
	}
	weigh(y, v, k, tau2, &re);
	out->mu = re.mu;
	out->se = sqrt(1.0 / re.w);
	zc = 1.0 - 0.5 * (1.0 - conf);
	if (out->hk) {
		for (size_t i = 0; i < k; i++)
			qhk += (y[i] - re.mu) * (y[i] - re.mu) / (v[i] + tau2);
		out->se = sqrt(qhk / df / re.w);
		crit = fv_stats_qt(zc, df);
		out->stat = out->mu / out->se;
		out->p = 2.0 * fv_stats_pt(-fabs(out->stat), df);
	} else {
		crit = fv_stats_qnorm(zc);
		out->stat = out->mu / out->se;
		out->p = 2.0 * fv_stats_pnorm(-fabs(out->stat));
	}
	out->ci_lo = out->mu - crit * out->se;
	out->ci_hi = out->mu + crit * out->se;
	if (k >= 3) {
		double half = fv_stats_qt(zc, (double)k - 2.0) * sqrt(tau2 + out->se * out->se);
		out->pi_lo = out->mu - half;
		out->pi_hi = out->mu + half;
	} else {
		out->pi_lo = out->pi_hi = NAN;
	}
	return FV_OK;
}

void fv_stats_logit_delta(double p, double var, double *y, double *var_y)
{
	if (!(p > 0.0 && p < 1.0)) {
		*y = *var_y = NAN;
		return;
	}
	*y = log(p / (1.0 - p));
	*var_y = var / ((p * (1.0 - p)) * (p * (1.0 - p)));
}

double fv_stats_expit(double x)
{
	return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

void fv_stats_logit_prop(uint64_t x, uint64_t n, double *y, double *var_y)
{
	double c, a, b;

	if (n == 0 || x > n) {
		*y = *var_y = NAN;
		return;
	}
	c = (x == 0 || x == n) ? 0.5 : 0.0;
	a = (double)x + c;
	b = (double)(n - x) + c;
	*y = log(a / b);
	*var_y = 1.0 / a + 1.0 / b;
}
