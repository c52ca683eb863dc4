/* Drift monitoring of per-period estimates against a baseline (issue 8): the standardized
 * two-sided tabular CUSUM (Page 1954), the z test of a change with Bonferroni/Holm adjustment,
 * the monitored quantities on their test scale, and the population stability index with a
 * chi-square test for binned input distributions. docs/monitoring.md explains the choices. */
#include "fedval/stats.h"

#include <math.h>
#include <stdlib.h>

#include "fedval/util.h"

fv_err fv_stats_cusum(const double *y, const double *v, size_t n, double baseline,
		      double baseline_var, double k, double h, struct fv_cusum_point *path,
		      struct fv_cusum *out, struct fv_diag *d)
{
	double cp = 0, cm = 0;

	if (!y || !v || !out)
		return fv_diag_set(d, FV_EINVAL, "cusum: NULL argument");
	out->k = k;
	out->h = h;
	out->alarm = n;
	out->direction = 0;
	if (!(k >= 0) || !isfinite(k) || !(h > 0) || !isfinite(h))
		return fv_diag_set(d, FV_EINVAL, "cusum: need k >= 0 and h > 0 (got k=%g, h=%g)", k,
				   h);
	if (!isfinite(baseline) || !(baseline_var >= 0) || !isfinite(baseline_var))
		return fv_diag_set(d, FV_EINVAL,
				   "cusum: the baseline and its variance must be "
				   "finite (variance >= 0)");
	for (size_t t = 0; t < n; t++) {
		double var = v[t] + baseline_var, z = NAN;
		int missing = !isfinite(y[t]) || !isfinite(v[t]) || !(var > 0);
		if (!missing) {
			z = (y[t] - baseline) / sqrt(var);
			cp = fmax(0.0, cp + z - k);
			cm = fmax(0.0, cm - z - k);
			if (out->direction == 0 && (cp > h || cm > h)) {
				out->alarm = t;
				/* both at once is impossible for k >= 0: one of them is 0 */
				out->direction = cp > h ? 1 : -1;
			}
		}
		if (path) {
			path[t].z = z;
			path[t].cplus = cp;
			path[t].cminus = cm;
			path[t].missing = missing;
		}
	}
	return FV_OK;
}

void fv_stats_change(double y, double v, double y0, double v0, double conf, struct fv_change *out)
{
	double var = v + v0;

	out->diff = out->se = out->z = out->p = out->diff_lo = out->diff_hi = NAN;
	if (!isfinite(y) || !isfinite(y0) || !isfinite(v) || !isfinite(v0) || !(var > 0) ||
	    !(conf > 0 && conf < 1))
		return;
	double q = fv_stats_qnorm(0.5 + conf / 2);
	out->diff = y - y0;
	out->se = sqrt(var);
	out->z = out->diff / out->se;
	/* 2 (1 - Phi(|z|)) = 2 Phi(-|z|), without cancellation in the far tail */
	out->p = 2 * fv_stats_pnorm(-fabs(out->z));
	out->diff_lo = out->diff - q * out->se;
	out->diff_hi = out->diff + q * out->se;
}

struct ranked {
	double p;
	size_t i;
};

static int by_p(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	/* stable for ties, so the result does not depend on qsort's algorithm */
	return x->i < y->i ? -1 : x->i > y->i;
}

fv_err fv_stats_p_adjust(const double *p, size_t m, enum fv_padjust method, double *adj)
{
	struct ranked *r = NULL;
	size_t used = 0;
	fv_err e = FV_OK;

	if ((!p || !adj) && m > 0)
		return FV_EINVAL;
	for (size_t i = 0; i < m; i++)
		used += !isnan(p[i]);
	if (method == FV_PADJ_BONFERRONI) {
		for (size_t i = 0; i < m; i++)
			adj[i] = isnan(p[i]) ? NAN : fmin(1.0, (double)used * p[i]);
		goto out;
	}
	if (method != FV_PADJ_HOLM) {
		e = FV_EINVAL;
		goto out;
	}
	if (used == 0) {
		for (size_t i = 0; i < m; i++)
			adj[i] = NAN;
		goto out;
	}
	if (!(r = fv_calloc(used, sizeof(*r)))) {
		e = FV_ENOMEM;
		goto out;
	}
	for (size_t i = 0, j = 0; i < m; i++)
		if (!isnan(p[i]))
			r[j++] = (struct ranked){p[i], i};
	qsort(r, used, sizeof(*r), by_p);
	for (size_t i = 0; i < m; i++)
		if (isnan(p[i]))
			adj[i] = NAN;
	double run = 0;
	for (size_t j = 0; j < used; j++) {
		run = fmax(run, fmin(1.0, (double)(used - j) * r[j].p));
		adj[r[j].i] = run;
	}
out:
	fv_free(r);
	return e;
}

fv_err fv_stats_monitor_auc(double auc, double var, double *y, double *v)
{
	if (!y || !v)
		return FV_EINVAL;
	*y = *v = NAN;
	if (!(auc > 0 && auc < 1) || !(var > 0) || !isfinite(var))
		return FV_EINVAL;
	fv_stats_logit_delta(auc, var, y, v);
	return FV_OK;
}

fv_err fv_stats_monitor_oe(double observed, double expected, double *y, double *v)
{
	if (!y || !v)
		return FV_EINVAL;
	*y = *v = NAN;
	if (!(observed >= 0) || !isfinite(observed) || !(expected > 0) || !isfinite(expected))
		return FV_EINVAL;
	double o = observed > 0 ? observed : 0.5;
	*y = log(o / expected);
	*v = 1.0 / o;
	return FV_OK;
}

/* Pearson terms of one column (oa, oc) of the 2 x B table with row totals na, nc. */
static double chi_term(double oa, double oc, double na, double nc)
{
	double col = oa + oc, n = na + nc, ea = col * na / n, ec = col * nc / n;
	return (oa - ea) * (oa - ea) / ea + (oc - ec) * (oc - ec) / ec;
}

fv_err fv_stats_psi(const uint64_t *base, const uint64_t *cur, size_t nb, double min_expected,
		    struct fv_psi *out, struct fv_diag *d)
{
	double na = 0, nc = 0, add = 0, psi = 0, chi2 = 0;
	size_t groups = 0;

	if (!base || !cur || !out)
		return fv_diag_set(d, FV_EINVAL, "psi: NULL argument");
	out->psi = out->chi2 = out->df = out->p = NAN;
	out->psi_corrected = 0;
	out->groups = 0;
	if (nb < 2)
		return fv_diag_set(d, FV_EINVAL, "psi: need at least two bins");
	if (!(min_expected >= 0) || !isfinite(min_expected))
		return fv_diag_set(d, FV_EINVAL, "psi: min_expected must be >= 0");
	for (size_t b = 0; b < nb; b++) {
		na += (double)base[b];
		nc += (double)cur[b];
		if (base[b] == 0 || cur[b] == 0)
			add = 0.5;
	}
	if (na == 0 || nc == 0)
		return fv_diag_set(d, FV_EINVAL, "psi: an empty distribution");
	for (size_t b = 0; b < nb; b++) {
		double a = ((double)base[b] + add) / (na + add * (double)nb);
		double c = ((double)cur[b] + add) / (nc + add * (double)nb);
		psi += (c - a) * log(c / a);
	}
	out->psi = psi;
	out->psi_corrected = add > 0;

	/* Merge adjacent bins from the left into groups whose expected counts under homogeneity,
	 * col * na / n and col * nc / n, both reach min_expected. */
	double n = na + nc, ga = 0, gc = 0, pa = 0, pc = 0;
	int open = 0, have_prev = 0;
	for (size_t b = 0; b < nb; b++) {
		ga += (double)base[b];
		gc += (double)cur[b];
		open = 1;
		double col = ga + gc;
		if (col > 0 && col * na / n >= min_expected && col * nc / n >= min_expected) {
			if (have_prev)
				chi2 += chi_term(pa, pc, na, nc);
			pa = ga;
			pc = gc;
			have_prev = 1;
			groups++;
			ga = gc = 0;
			open = 0;
		}
	}
	if (open && (ga + gc) > 0) {
		if (have_prev) {
			pa += ga; /* a short remainder joins the last group */
			pc += gc;
		} else {
			pa = ga;
			pc = gc;
			have_prev = 1;
			groups++;
		}
	}
	if (have_prev)
		chi2 += chi_term(pa, pc, na, nc);
	out->groups = groups;
	if (groups >= 2) {
		out->chi2 = chi2;
		out->df = (double)(groups - 1);
		out->p = fv_stats_pchisq_upper(chi2, out->df);
	}
	return FV_OK;
}
