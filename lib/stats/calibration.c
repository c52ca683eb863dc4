/* Calibration: O/E, calibration-in-the-large, calibration intercept and slope, and the binned
 * calibration curve with its expected calibration error. */
#include "fedval/stats.h"

#include <math.h>
#include <string.h>

#include "fedval/util.h"
#include "stats/internal.h"

#define MAX_ROUNDS 200
#define P_CLAMP	   1e-15

static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

/* Calibration-in-the-large: one parameter a with offset logit(p); the site sums are cheap
 * enough to recompute each Newton round in place. */
static fv_err fit_citl(const double *p, const uint8_t *y, size_t n, double *a, struct fv_diag *d)
{
	struct fv_newton s;
	double zero = 0.0;

	fv_stats_newton_init(&s, 1, &zero, 1e-14);
	for (int r = 0; r < MAX_ROUNDS && !s.converged; r++) {
		struct fv_newton_site site = {.k = 1};
		fv_err e;
		for (size_t i = 0; i < n; i++) {
			double q = fmin(fmax(p[i], P_CLAMP), 1.0 - P_CLAMP);
			double eta = s.beta[0] + log(q / (1.0 - q)), mu = 1.0 / (1.0 + exp(-eta));
			site.g[0] += (double)y[i] - mu;
			site.h[0] += mu * (1.0 - mu);
			site.ll -= softplus(y[i] ? -eta : eta);
		}
		site.n = n;
		if ((e = fv_stats_newton_update(&s, &site, d)) != FV_OK)
			return e;
	}
	if (!s.converged)
		return fv_diag_set(d, FV_EINVAL, "calibration: CITL did not converge");
	*a = s.beta[0];
	return FV_OK;
}

fv_err fv_stats_calibration(const double *p, const uint8_t *y, size_t n, struct fv_calibration *out,
			    struct fv_diag *d)
{
	struct fv_ksum sy = {0, 0}, sp = {0, 0};
	struct fv_newton s;
	fv_err e;

	if (!out || n == 0 || !p || !y)
		return fv_diag_set(d, FV_EINVAL, "calibration: no records or NULL argument");
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 1 || !(p[i] >= 0.0 && p[i] <= 1.0))
			return fv_diag_set(
			    d, FV_EINVAL,
			    "calibration: record %zu: outcome not 0/1 or probability "
			    "outside [0, 1]",
			    i + 1);
		fv_ksum_add(&sy, (double)y[i]);
		fv_ksum_add(&sp, p[i]);
	}
	out->n = n;
	out->sum_y = fv_ksum_get(&sy);
	out->sum_p = fv_ksum_get(&sp);
	out->oe = fv_stats_oe_ratio(out->sum_y, out->sum_p);
	if (out->sum_y == 0.0 || out->sum_y == (double)n)
		return fv_diag_set(d, FV_EINVAL,
				   "calibration: outcome has a single class; intercept and slope "
				   "are not estimable");
	if ((e = fit_citl(p, y, n, &out->citl, d)) != FV_OK)
		return e;
	fv_stats_newton_init(&s, 2, NULL, 1e-14);
	for (int r = 0; r < MAX_ROUNDS && !s.converged; r++) {
		struct fv_newton_site site;
		if ((e = fv_stats_newton_site_recal(p, y, n, s.beta, &site, d)) != FV_OK ||
		    (e = fv_stats_newton_update(&s, &site, d)) != FV_OK)
			return e;
	}
	if (!s.converged)
		return fv_diag_set(d, FV_EINVAL,
				   "calibration: recalibration model did not converge in %d rounds",
				   MAX_ROUNDS);
	out->intercept = s.beta[0];
	out->slope = s.beta[1];
	out->se_intercept = sqrt(s.cov[0]);
	out->se_slope = sqrt(s.cov[3]);
	return FV_OK;
}

/* numpy.percentile(sorted v, q) with linear interpolation, q in [0, 100]. */
static double percentile(const double *v, size_t n, double q)
{
	double h = (double)(n - 1) * q / 100.0, f = floor(h);
	size_t i = (size_t)f;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - f) * (v[i + 1] - v[i]);
}

fv_err fv_stats_calibration_curve(const double *p, const uint8_t *y, size_t n, size_t nbins,
				  int quantile, struct fv_calib_bin *bins, double *edges,
				  double *ece, struct fv_diag *d)
{
	double *e = NULL, *sorted = NULL;
	size_t bytes;
	fv_err err = FV_OK;

	if (n == 0 || !p || !y || !bins || nbins == 0 || !ece)
		return fv_diag_set(d, FV_EINVAL, "calibration_curve: no records or bad argument");
	for (size_t i = 0; i < n; i++)
		if (y[i] > 1 || !(p[i] >= 0.0 && p[i] <= 1.0))
			return fv_diag_set(d, FV_EINVAL,
					   "calibration_curve: record %zu: outcome not 0/1 or "
					   "probability outside [0, 1]",
					   i + 1);
	if (fv_add_overflow(nbins, 1, &bytes) || fv_mul_overflow(bytes, sizeof(double), &bytes) ||
	    !(e = fv_alloc(bytes)))
		return fv_diag_set(d, FV_ENOMEM, "calibration_curve: cannot allocate edges");
	if (quantile) {
		if (fv_mul_overflow(n, sizeof(double), &bytes) || !(sorted = fv_alloc(bytes))) {
			err = fv_diag_set(d, FV_ENOMEM, "calibration_curve: cannot allocate");
			goto out;
		}
		memcpy(sorted, p, n * sizeof(double));
		fv_stats_sort(sorted, n);
		for (size_t b = 0; b <= nbins; b++)
			e[b] = percentile(sorted, n, 100.0 * (double)b / (double)nbins);
	} else {
		for (size_t b = 0; b <= nbins; b++)
			e[b] = (double)b / (double)nbins;
	}
	memset(bins, 0, nbins * sizeof(*bins));
	for (size_t i = 0; i < n; i++) {
		/* searchsorted(e[1..nbins-1], p, side="right"): inner edges <= p. */
		size_t b = fv_stats_count_le(e + 1, nbins - 1, p[i]);
		bins[b].n++;
		bins[b].sum_p += p[i];
		bins[b].sum_y += y[i];
	}
	if (edges)
		memcpy(edges, e, (nbins + 1) * sizeof(double));
	*ece = fv_stats_ece(bins, nbins);
out:
	fv_free(e);
	fv_free(sorted);
	return err;
}

double fv_stats_ece(const struct fv_calib_bin *bins, size_t nbins)
{
	double total = 0.0, s = 0.0;

	for (size_t b = 0; b < nbins; b++)
		total += (double)bins[b].n;
	if (!(total > 0.0))
		return NAN;
	for (size_t b = 0; b < nbins; b++)
		if (bins[b].n)
			s += fabs(bins[b].sum_y - bins[b].sum_p) / total;
	return s;
}
