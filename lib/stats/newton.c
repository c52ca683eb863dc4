/* Logistic models fitted across sites by Newton rounds. A site evaluates the gradient,
 * information matrix and log-likelihood at the coordinator's beta over its own records; these
 * are sums over records, so the coordinator adds the sites' results and takes a Newton step
 * exactly as a pooled fit would. */
#include "fedval/stats.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

/* Probabilities are clamped this far from 0 and 1 before a logit. */
#define P_CLAMP 1e-15
/* Step halvings before giving up on a round. */
#define MAX_HALVE 60

static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double logit_clamped(double p)
{
	p = fmin(fmax(p, P_CLAMP), 1.0 - P_CLAMP);
	return log(p / (1.0 - p));
}

static void site_init(struct fv_newton_site *o, size_t k)
{
	memset(o, 0, sizeof(*o));
	o->k = k;
}

/* Add one record with covariate row z[0..k) and linear predictor eta. */
static void site_add(struct fv_newton_site *o, const double *z, double eta, uint8_t y)
{
	size_t k = o->k;
	double mu = 1.0 / (1.0 + exp(-eta)), w = mu * (1.0 - mu), r = (double)y - mu;

	o->ll -= softplus(y ? -eta : eta);
	for (size_t a = 0; a < k; a++) {
		double wz = w * z[a];
		o->g[a] += r * z[a];
		for (size_t b = 0; b <= a; b++)
			o->h[a * k + b] += wz * z[b];
	}
	o->n++;
}

static void site_symmetrise(struct fv_newton_site *o)
{
	for (size_t a = 0; a < o->k; a++)
		for (size_t b = 0; b < a; b++)
			o->h[b * o->k + a] = o->h[a * o->k + b];
}

fv_err fv_stats_newton_site(const double *x, const double *offset, const uint8_t *y, size_t n,
			    size_t k, const double *beta, struct fv_newton_site *out,
			    struct fv_diag *d)
{
	if (!out || !beta || k == 0 || k > FV_NEWTON_MAXK || (n > 0 && (!x || !y)))
		return fv_diag_set(d, FV_EINVAL, "newton_site: bad argument (k = %zu)", k);
	site_init(out, k);
	for (size_t i = 0; i < n; i++) {
		const double *z = x + i * k;
		double eta = offset ? offset[i] : 0.0;
		if (y[i] > 1)
			return fv_diag_set(d, FV_EINVAL,
					   "newton_site: outcome of record %zu is not 0 or 1",
					   i + 1);
		for (size_t a = 0; a < k; a++)
			eta += z[a] * beta[a];
		if (!isfinite(eta))
			return fv_diag_set(d, FV_EINVAL,
					   "newton_site: linear predictor of record %zu is not "
					   "finite",
					   i + 1);
		site_add(out, z, eta, y[i]);
	}
	site_symmetrise(out);
	return FV_OK;
}

fv_err fv_stats_newton_site_recal(const double *p, const uint8_t *y, size_t n, const double *beta,
				  struct fv_newton_site *out, struct fv_diag *d)
{
	if (!out || !beta || (n > 0 && (!p || !y)))
		return fv_diag_set(d, FV_EINVAL, "newton_site: NULL argument");
	site_init(out, 2);
	for (size_t i = 0; i < n; i++) {
		double z[2];
		if (y[i] > 1 || !(p[i] >= 0.0 && p[i] <= 1.0))
			return fv_diag_set(
			    d, FV_EINVAL,
			    "newton_site: record %zu: outcome not 0/1 or probability "
			    "outside [0, 1]",
			    i + 1);
		z[0] = 1.0;
		z[1] = logit_clamped(p[i]);
		site_add(out, z, beta[0] + beta[1] * z[1], y[i]);
	}
	site_symmetrise(out);
	return FV_OK;
}

fv_err fv_stats_newton_site_add(struct fv_newton_site *a, const struct fv_newton_site *b)
{
	if (!a || !b || a->k != b->k || a->k == 0 || a->k > FV_NEWTON_MAXK)
		return FV_EINVAL;
	for (size_t i = 0; i < a->k; i++)
		a->g[i] += b->g[i];
	for (size_t i = 0; i < a->k * a->k; i++)
		a->h[i] += b->h[i];
	a->ll += b->ll;
	a->n += b->n;
	return FV_OK;
}

/* Cholesky factor of the symmetric k x k matrix h into l (lower). False if not positive
 * definite to working precision. */
static bool cholesky(const double *h, double *l, size_t k)
{
	memset(l, 0, k * k * sizeof(*l));
	for (size_t j = 0; j < k; j++) {
		double s = h[j * k + j];
		for (size_t m = 0; m < j; m++)
			s -= l[j * k + m] * l[j * k + m];
		if (!(s > 1e-13 * (fabs(h[j * k + j]) + DBL_MIN)))
			return false;
		l[j * k + j] = sqrt(s);
		for (size_t i = j + 1; i < k; i++) {
			double t = h[i * k + j];
			for (size_t m = 0; m < j; m++)
				t -= l[i * k + m] * l[j * k + m];
			l[i * k + j] = t / l[j * k + j];
		}
	}
	return true;
}

static void chol_solve(const double *l, const double *b, double *x, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		double t = b[i];
		for (size_t m = 0; m < i; m++)
			t -= l[i * k + m] * x[m];
		x[i] = t / l[i * k + i];
	}
	for (size_t i = k; i-- > 0;) {
		double t = x[i];
		for (size_t m = i + 1; m < k; m++)
			t -= l[m * k + i] * x[m];
		x[i] = t / l[i * k + i];
	}
}

void fv_stats_newton_init(struct fv_newton *s, size_t k, const double *beta0, double tol)
{
	memset(s, 0, sizeof(*s));
	s->k = k <= FV_NEWTON_MAXK ? k : 0;
	for (size_t i = 0; i < s->k; i++)
		s->beta[i] = beta0 ? beta0[i] : 0.0;
	s->tol = tol > 0.0 ? tol : 1e-12;
	s->step = 1.0;
	s->best_ll = -INFINITY;
}

fv_err fv_stats_newton_update(struct fv_newton *s, const struct fv_newton_site *sum,
			      struct fv_diag *d)
{
	double l[FV_NEWTON_MAXK * FV_NEWTON_MAXK], e[FV_NEWTON_MAXK], col[FV_NEWTON_MAXK];
	size_t k = s->k;

	if (k == 0 || !sum || sum->k != k || !isfinite(sum->ll))
		return fv_diag_set(d, FV_EINVAL, "newton: bad round result");
	if (s->converged)
		return FV_OK;
	s->rounds++;
	/* A step that lowered the log-likelihood (beyond rounding) overshot: halve it. */
	if (s->have_best && sum->ll < s->best_ll - 1e-12 * (1.0 + fabs(s->best_ll))) {
		s->step *= 0.5;
		if (s->step < ldexp(1.0, -MAX_HALVE))
			return fv_diag_set(d, FV_EINVAL,
					   "newton: step halving failed to increase the "
					   "log-likelihood");
		for (size_t i = 0; i < k; i++)
			s->beta[i] = s->best[i] + s->step * s->dir[i];
		return FV_OK;
	}
	memcpy(s->best, s->beta, k * sizeof(double));
	s->best_ll = sum->ll;
	s->have_best = 1;
	if (!cholesky(sum->h, l, k))
		return fv_diag_set(d, FV_EINVAL,
				   "newton: information matrix is singular (a parameter is not "
				   "identifiable, or the classes are separated)");
	chol_solve(l, sum->g, s->dir, k);
	s->decrement = 0.0;
	for (size_t i = 0; i < k; i++)
		s->decrement += s->dir[i] * sum->g[i];
	for (size_t j = 0; j < k; j++) {
		memset(e, 0, sizeof(e));
		e[j] = 1.0;
		chol_solve(l, e, col, k);
		for (size_t i = 0; i < k; i++)
			s->cov[i * k + j] = col[i];
	}
	s->step = 1.0;
	for (size_t i = 0; i < k; i++)
		s->beta[i] = s->best[i] + s->dir[i];
	/* Near the optimum the remaining Newton step is tiny and safe: take it and stop. */
	if (s->decrement < s->tol)
		s->converged = 1;
	return FV_OK;
}
