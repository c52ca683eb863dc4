/* Logistic regression by Newton–Raphson (equivalently IRLS) with an optional ridge penalty.
 *
 * Objective (minimised): D(b) = -2 loglik(b) + lambda * sum_j coef_j^2, the intercept not
 * penalised. This is twice sklearn's objective with C = 1 / lambda, so lambda = 1 matches
 * LogisticRegression(C=1). Columns are centred and scaled internally (the penalty is rescaled
 * so the objective is unchanged); this only improves the conditioning of the Hessian. */
#include "fedval/stats.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"

#define MAX_ITER  100
#define REL_TOL	  1e-10
#define MAX_HALVE 40
/* |eta| beyond this means a fitted probability within 1e-13 of 0 or 1: with lambda == 0 the
 * maximum likelihood estimate is then at infinity (separation). */
#define ETA_SEPARATED 30.0

static const char separated_msg[] =
    "fitted probabilities numerically 0 or 1: the classes are (quasi-)completely separated "
    "and the estimates are infinite; use a ridge penalty";

/* log(1 + exp(t)) without overflow. */
static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

struct fit {
	const double *x;
	const uint8_t *y;
	size_t n, p, k;			  /* k = p + 1 parameters, intercept first */
	const double *mean, *scale, *pen; /* per column; pen[j] is the penalty on scaled coef j */
	double *z;			  /* scratch row of k values */
};

static void row(const struct fit *f, size_t i, double *z)
{
	z[0] = 1.0;
	for (size_t j = 0; j < f->p; j++)
		z[j + 1] = (f->x[i * f->p + j] - f->mean[j]) / f->scale[j];
}

/* Penalised deviance at b; when g and h are non-NULL also the gradient of the log-likelihood
 * minus half the penalty (the ascent direction) and the negative Hessian (lower triangle),
 * and the largest |eta|. */
static double evaluate(const struct fit *f, const double *b, double *g, double *h, double *max_eta)
{
	size_t k = f->k;
	double dev = 0.0, me = 0.0;

	if (g) {
		memset(g, 0, k * sizeof(*g));
		memset(h, 0, k * k * sizeof(*h));
	}
	for (size_t i = 0; i < f->n; i++) {
		double eta = 0.0, mu, w, r;
		row(f, i, f->z);
		for (size_t j = 0; j < k; j++)
			eta += f->z[j] * b[j];
		dev += 2.0 * softplus(f->y[i] ? -eta : eta);
		if (fabs(eta) > me)
			me = fabs(eta);
		if (!g)
			continue;
		mu = 1.0 / (1.0 + exp(-eta));
		w = mu * (1.0 - mu);
		r = (double)f->y[i] - mu;
		for (size_t j = 0; j < k; j++) {
			double wz = w * f->z[j];
			g[j] += r * f->z[j];
			for (size_t l = 0; l <= j; l++)
				h[j * k + l] += wz * f->z[l];
		}
	}
	for (size_t j = 1; j < k; j++) {
		dev += f->pen[j - 1] * b[j] * b[j];
		if (g) {
			g[j] -= f->pen[j - 1] * b[j];
			h[j * k + j] += f->pen[j - 1];
		}
	}
	if (max_eta)
		*max_eta = me;
	return dev;
}

/* Solve H s = g in place (s overwrites g) by Cholesky on the lower triangle of H. Returns
 * false when H is not numerically positive definite. */
static bool cholesky_solve(double *h, double *g, size_t k)
{
	for (size_t j = 0; j < k; j++) {
		double s = h[j * k + j];
		for (size_t l = 0; l < j; l++)
			s -= h[j * k + l] * h[j * k + l];
		if (!(s > 1e-13 * (fabs(h[j * k + j]) + DBL_MIN)))
			return false;
		h[j * k + j] = sqrt(s);
		for (size_t i = j + 1; i < k; i++) {
			double t = h[i * k + j];
			for (size_t l = 0; l < j; l++)
				t -= h[i * k + l] * h[j * k + l];
			h[i * k + j] = t / h[j * k + j];
		}
	}
	for (size_t i = 0; i < k; i++) {
		double t = g[i];
		for (size_t l = 0; l < i; l++)
			t -= h[i * k + l] * g[l];
		g[i] = t / h[i * k + i];
	}
	for (size_t i = k; i-- > 0;) {
		double t = g[i];
		for (size_t l = i + 1; l < k; l++)
			t -= h[l * k + i] * g[l];
		g[i] = t / h[i * k + i];
	}
	return true;
}

fv_err fv_stats_logreg_fit(const double *x, const uint8_t *y, size_t n, size_t p, double lambda,
			   double *coef, double *intercept, struct fv_diag *d)
{
	struct fit f;
	double *mem = NULL, *mean, *scale, *pen, *b, *bnew, *g, *h, dev, max_eta = 0.0;
	size_t k = p + 1, np, cells, npos = 0;
	bool converged = false;
	fv_err e = FV_OK;

	if (!y || !intercept || (p > 0 && (!x || !coef)) || n == 0)
		return fv_diag_set(d, FV_EINVAL, "logreg: no data or NULL argument");
	if (!(lambda >= 0.0) || isinf(lambda))
		return fv_diag_set(d, FV_EINVAL, "logreg: lambda must be finite and >= 0");
	if (p > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_ELIMIT, "logreg: %zu features exceed the limit of %d", p,
				   FV_MAX_FEATURES);
	if (fv_mul_overflow(n, p, &np))
		return fv_diag_set(d, FV_EINVAL, "logreg: n * p overflows");
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 1)
			return fv_diag_set(d, FV_EINVAL,
					   "logreg: outcome of record %zu is not 0 or 1", i + 1);
		npos += y[i];
	}
	if (npos == 0 || npos == n)
		return fv_diag_set(d, FV_EINVAL,
				   "logreg: outcome has a single class; the "
				   "intercept is not estimable");
	for (size_t i = 0; i < np; i++)
		if (!isfinite(x[i]))
			return fv_diag_set(d, FV_EINVAL,
					   "logreg: predictor %zu of record %zu is not finite",
					   i % p + 1, i / p + 1);
	/* mean, scale, pen: p each; b, bnew, g, z: k each; h: k*k. */
	if (fv_mul_overflow(k, k, &cells) || fv_add_overflow(cells, 3 * p + 4 * k, &cells) ||
	    !(mem = fv_calloc(cells, sizeof(double)))) {
		e = fv_diag_set(d, FV_ENOMEM, "logreg: cannot allocate for %zu parameters", k);
		goto out;
	}
	mean = mem;
	scale = mean + p;
	pen = scale + p;
	b = pen + p;
	bnew = b + k;
	g = bnew + k;
	f.z = g + k;
	h = f.z + k;

	for (size_t j = 0; j < p; j++) {
		double m = 0.0, ss = 0.0;
		for (size_t i = 0; i < n; i++)
			m += x[i * p + j];
		m /= (double)n;
		for (size_t i = 0; i < n; i++)
			ss += (x[i * p + j] - m) * (x[i * p + j] - m);
		mean[j] = m;
		scale[j] = sqrt(ss / (double)n);
		if (!(scale[j] > 0.0)) {
			/* A constant column is the intercept again: with a ridge penalty its
			 * coefficient is 0, without one it is not identifiable. */
			if (lambda == 0.0) {
				e = fv_diag_set(d, FV_EINVAL, "logreg: predictor %zu is constant",
						j + 1);
				goto out;
			}
			scale[j] = INFINITY; /* scaled column is exactly 0 */
		}
		/* coef_j = b_j / scale_j, so lambda coef_j^2 = (lambda / scale_j^2) b_j^2. */
		pen[j] = isinf(scale[j]) ? lambda : lambda / (scale[j] * scale[j]);
	}
	f.x = x;
	f.y = y;
	f.n = n;
	f.p = p;
	f.k = k;
	f.mean = mean;
	f.scale = scale;
	f.pen = pen;

	b[0] = log((double)npos / (double)(n - npos));
	dev = evaluate(&f, b, g, h, &max_eta);
	for (int it = 0; it < MAX_ITER && !converged; it++) {
		double step = 1.0, devnew = dev;
		int halve;

		double decrement = 0.0;

		memcpy(bnew, g, k * sizeof(*g));
		if (!cholesky_solve(h, g, k)) {
			if (lambda == 0.0 && max_eta > ETA_SEPARATED)
				e = fv_diag_set(d, FV_EINVAL, "logreg: %s", separated_msg);
			else
				e = fv_diag_set(d, FV_EINVAL,
						"logreg: information matrix is singular "
						"(collinear predictors)");
			goto out;
		}
		/* g now holds the Newton step s; g'H^-1 g = s'g is the Newton decrement (twice the
		 * objective decrease a full step predicts, in deviance units halved). */
		for (size_t j = 0; j < k; j++)
			decrement += g[j] * bnew[j];
		/* Halve the step while the objective does not decrease (as R's glm.fit does). */
		for (halve = 0; halve < MAX_HALVE; halve++, step *= 0.5) {
			for (size_t j = 0; j < k; j++)
				bnew[j] = b[j] + step * g[j];
			devnew = evaluate(&f, bnew, NULL, NULL, NULL);
			if (isfinite(devnew) && devnew <= dev)
				break;
		}
		if (halve == MAX_HALVE) {
			/* No step decreases the objective. That is the minimum to machine precision
			 * if Newton predicted a negligible decrease; otherwise something is wrong.
			 */
			if (2.0 * decrement / (fabs(dev) + 0.1) < 1e-8) {
				converged = true;
				break;
			}
			e = fv_diag_set(d, FV_EINVAL,
					"logreg: step-halving failed to decrease the "
					"deviance");
			goto out;
		}
		memcpy(b, bnew, k * sizeof(*b));
		converged = fabs(devnew - dev) / (fabs(devnew) + 0.1) < REL_TOL;
		dev = evaluate(&f, b, g, h, &max_eta);
	}
	if (!converged) {
		e = fv_diag_set(d, FV_EINVAL,
				"logreg: no convergence in %d Newton iterations (separation?)",
				MAX_ITER);
		goto out;
	}
	if (lambda == 0.0 && max_eta > ETA_SEPARATED) {
		e = fv_diag_set(d, FV_EINVAL, "logreg: %s", separated_msg);
		goto out;
	}
	*intercept = b[0];
	for (size_t j = 0; j < p; j++) {
		coef[j] = b[j + 1] / scale[j];
		*intercept -= coef[j] * mean[j];
	}
out:
	fv_free(mem);
	return e;
}
