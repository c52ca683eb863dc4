/* Drift monitoring of per-period estimates against a baseline (issue 8): the standardized
 * two-sided tabular CUSUM (Page 1954), the z test of a change with Bonferroni/Holm adjustment,
 * the monitored quantities on their test scale, and the population stability index with a
 * chi-square test for binned input distributions. docs/monitoring.md explains the choices. */
#include "fedval/stats.h"

#include <math.h>
#include <string.h>
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

static bool mix_check(const struct fv_mix_cell *c, size_t n, uint64_t total, const char *side,
		      struct fv_diag *d)
{
	uint64_t sum = 0;
	if (total == 0) {
		fv_diag_set(d, FV_EINVAL, "mix shift: %s: total is 0", side);
		return false;
	}
	if (n > FV_MAX_MIX_CATEGORIES || (n && !c)) {
		fv_diag_set(d, FV_EINVAL, "mix shift: %s: more than %d categories", side,
			    FV_MAX_MIX_CATEGORIES);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!c[i].category || c[i].n > total - sum) {
			fv_diag_set(d, FV_EINVAL,
				    "mix shift: %s: category counts exceed the total %llu", side,
				    (unsigned long long)total);
			return false;
		}
		sum += c[i].n;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c[i].category, c[j].category)) {
				fv_diag_set(d, FV_EINVAL,
					    "mix shift: %s: category '%s' listed twice", side,
					    c[i].category);
				return false;
			}
	}
	return true;
}

fv_err fv_stats_mix_shift(const struct fv_mix_cell *base, size_t nbase, uint64_t base_total,
			  const struct fv_mix_cell *cur, size_t ncur, uint64_t cur_total,
			  double min_expected, struct fv_psi *out, size_t *kept, struct fv_diag *d)
{
	uint64_t a[FV_MAX_MIX_CATEGORIES + 1], c[FV_MAX_MIX_CATEGORIES + 1];
	uint64_t ra = base_total, rc = cur_total;
	size_t nb = 0;

	if (!out || !kept)
		return fv_diag_set(d, FV_EINVAL, "mix shift: NULL argument");
	*kept = 0;
	out->psi = out->chi2 = out->df = out->p = NAN;
	out->psi_corrected = 0;
	out->groups = 0;
	if (!mix_check(base, nbase, base_total, "baseline", d) ||
	    !mix_check(cur, ncur, cur_total, "period", d))
		return FV_EINVAL;
	for (size_t i = 0; i < nbase; i++)
		for (size_t j = 0; j < ncur; j++)
			if (!strcmp(base[i].category, cur[j].category)) {
				a[nb] = base[i].n;
				c[nb++] = cur[j].n;
				ra -= base[i].n;
				rc -= cur[j].n;
			}
	*kept = nb;
	if (ra || rc) {
		a[nb] = ra;
		c[nb++] = rc;
	}
	if (nb < 2)
		return fv_diag_set(d, FV_EINVAL, "mix shift: fewer than two comparable categories");
	return fv_stats_psi(a, c, nb, min_expected, out, d);
}

fv_err fv_stats_mix_alarms(const struct fv_psi *r, const int *ok, size_t ns, size_t np,
			   double psi_limit, double alpha, double *p_holm, size_t *alarm)
{
	double *p, *a;
	fv_err e = FV_OK;

	if ((ns && (!r || !ok || !p_holm || !alarm)) || !(psi_limit >= 0) || !(alpha > 0))
		return FV_EINVAL;
	if (!(p = fv_calloc(ns + 1, sizeof(double))) || !(a = fv_calloc(ns + 1, sizeof(double)))) {
		fv_free(p);
		return FV_ENOMEM;
	}
	for (size_t q = 0; q < ns; q++) {
		alarm[q] = np;
		if (np)
			p_holm[q * np] = NAN;
	}
	for (size_t t = 1; t < np && e == FV_OK; t++) {
		for (size_t q = 0; q < ns; q++)
			p[q] = ok[q * np + t] ? r[q * np + t].p : NAN;
		if ((e = fv_stats_p_adjust(p, ns, FV_PADJ_HOLM, a)) != FV_OK)
			break;
		for (size_t q = 0; q < ns; q++) {
			p_holm[q * np + t] = a[q];
			if (alarm[q] == np && ok[q * np + t] && r[q * np + t].psi >= psi_limit &&
			    a[q] < alpha)
				alarm[q] = t;
		}
	}
	fv_free(p);
	fv_free(a);
	return e;
}

fv_err fv_stats_smd(double m0, double s0, double n0, double m1, double s1, double n1, double *smd,
		    double *p)
{
	if (!smd || !p || !(n0 >= 2) || !(n1 >= 2) || !isfinite(m0) || !isfinite(m1) ||
	    !(s0 >= 0) || !(s1 >= 0) || !isfinite(s0) || !isfinite(s1) || (s0 == 0 && s1 == 0))
		return FV_EINVAL;
	*smd = (m1 - m0) / sqrt((s0 * s0 + s1 * s1) / 2);
	double z = (m1 - m0) / sqrt(s0 * s0 / n0 + s1 * s1 / n1);
	*p = 2 * fv_stats_pnorm(-fabs(z));
	return FV_OK;
}
