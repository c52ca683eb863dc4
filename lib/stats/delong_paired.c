/* Paired DeLong test of two models scored on the same records (DeLong, DeLong &
 * Clarke-Pearson 1988, Biometrics 44:837-845, section 3).
 *
 * The structural components of model m are V10_m(i) = (1/n0) sum_j psi(X_mi, Y_mj) for each
 * case i and V01_m(j) = (1/n1) sum_i psi(X_mi, Y_mj) for each control j. With each class's
 * scores sorted, a component is two binary searches, so the whole test is O(n log n). Model
 * A's components are kept (8n bytes); model B's are computed on the fly against them. */
#include "fedval/stats.h"

#include <math.h>

#include "fedval/util.h"
#include "stats/internal.h"

/* lt = #{v < x} and le = #{v <= x} for sorted v[0..m): one binary search, then a galloping
 * search over the run of values equal to x, so a long run of ties costs O(log run) and a
 * short one stays in cache. */
static void bounds(const double *v, size_t m, double x, size_t *lt, size_t *le)
{
	size_t a = fv_stats_count_lt(v, m, x), lo = a, hi = a, step = 1;

	while (hi < m && v[hi] == x) {
		lo = hi + 1;
		hi = m - hi > step ? hi + step : m;
		step *= 2;
	}
	/* v[a..lo) == x, and v[hi] != x or hi == m. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == x)
			lo = mid + 1;
		else
			hi = mid;
	}
	*lt = a;
	*le = lo;
}

/* #{v < x} + #{v == x}/2. */
static double below_half(const double *v, size_t m, double x)
{
	size_t lt, le;
	bounds(v, m, x, &lt, &le);
	return (double)lt + 0.5 * (double)(le - lt);
}

/* #{v > x} + #{v == x}/2. */
static double above_half(const double *v, size_t m, double x)
{
	size_t lt, le;
	bounds(v, m, x, &lt, &le);
	return (double)(m - le) + 0.5 * (double)(le - lt);
}

static void fill_sorted(const double *s, const uint8_t *label, size_t n, double *sp, double *sn,
			size_t n1, size_t n0)
{
	for (size_t i = 0, k1 = 0, k0 = 0; i < n; i++) {
		if (label[i])
			sp[k1++] = s[i];
		else
			sn[k0++] = s[i];
	}
	fv_stats_sort(sp, n1);
	fv_stats_sort(sn, n0);
}

void fv_stats_delong_paired_finish(struct fv_delong_paired *r, double conf)
{
	double n1 = (double)r->n1, n0 = (double)r->n0, vd, z;

	r->var_a = r->s10[0] / n1 + r->s01[0] / n0;
	r->cov_ab = r->s10[1] / n1 + r->s01[1] / n0;
	r->var_b = r->s10[2] / n1 + r->s01[2] / n0;
	r->diff = r->auc_a - r->auc_b;
	vd = r->var_a + r->var_b - 2.0 * r->cov_ab;
	if (vd < 0.0 && vd > -1e-15) /* rounding of identical models */
		vd = 0.0;
	r->diff_se = vd >= 0.0 ? sqrt(vd) : NAN;
	z = (conf > 0.0 && conf < 1.0) ? fv_stats_qnorm(1.0 - 0.5 * (1.0 - conf)) : NAN;
	r->diff_lo = r->diff - z * r->diff_se;
	r->diff_hi = r->diff + z * r->diff_se;
	if (r->diff_se > 0.0) {
		r->z = r->diff / r->diff_se;
		r->p = 2.0 * fv_stats_pnorm(-fabs(r->z));
	} else {
		r->z = NAN;
		r->p = r->diff == 0.0 ? 1.0 : NAN;
	}
}

fv_err fv_stats_delong_paired(const double *score_a, const double *score_b, const uint8_t *label,
			      size_t n, double conf, struct fv_delong_paired *out,
			      struct fv_diag *d)
{
	double *sp = NULL, *sn = NULL, *va = NULL, var;
	double a10 = 0, b10 = 0, c10 = 0, a01 = 0, b01 = 0, c01 = 0;
	size_t n1 = 0, n0, bytes;
	fv_err e = FV_OK;

	if (!out || (n > 0 && (!score_a || !score_b || !label)))
		return fv_diag_set(d, FV_EINVAL, "delong_paired: NULL argument");
	for (size_t i = 0; i < n; i++) {
		if (label[i] > 1)
			return fv_diag_set(d, FV_EINVAL,
					   "delong_paired: label of record %zu is not 0 or 1",
					   i + 1);
		if (isnan(score_a[i]) || isnan(score_b[i]))
			return fv_diag_set(d, FV_EINVAL,
					   "delong_paired: score of record %zu is NaN", i + 1);
		n1 += label[i];
	}
	n0 = n - n1;
	if (n1 < 2 || n0 < 2)
		return fv_diag_set(d, FV_EINVAL,
				   "delong_paired: needs two records of each class (%zu cases, "
				   "%zu controls)",
				   n1, n0);
	if (fv_mul_overflow(n1, sizeof(double), &bytes) || !(sp = fv_alloc(bytes)) ||
	    fv_mul_overflow(n0, sizeof(double), &bytes) || !(sn = fv_alloc(bytes)) ||
	    fv_mul_overflow(n, sizeof(double), &bytes) || !(va = fv_alloc(bytes))) {
		e = fv_diag_set(d, FV_ENOMEM, "delong_paired: cannot allocate for %zu records", n);
		goto out;
	}
	out->n1 = n1;
	out->n0 = n0;
	/* Model A: components in record order, cases and controls interleaved as in the input. */
	fill_sorted(score_a, label, n, sp, sn, n1, n0);
	fv_stats_auc_sorted(sp, n1, sn, n0, &out->auc_a, &var);
	for (size_t i = 0; i < n; i++)
		va[i] = label[i] ? below_half(sn, n0, score_a[i]) / (double)n0
				 : above_half(sp, n1, score_a[i]) / (double)n1;
	/* Model B, accumulated against A around the exact means (the AUCs). */
	fill_sorted(score_b, label, n, sp, sn, n1, n0);
	fv_stats_auc_sorted(sp, n1, sn, n0, &out->auc_b, &var);
	for (size_t i = 0; i < n; i++) {
		double x = score_b[i], da = va[i] - out->auc_a, db;
		if (label[i]) {
			db = below_half(sn, n0, x) / (double)n0 - out->auc_b;
			a10 += da * da;
			b10 += da * db;
			c10 += db * db;
		} else {
			db = above_half(sp, n1, x) / (double)n1 - out->auc_b;
			a01 += da * da;
			b01 += da * db;
			c01 += db * db;
		}
	}
	out->s10[0] = a10 / (double)(n1 - 1);
	out->s10[1] = b10 / (double)(n1 - 1);
	out->s10[2] = c10 / (double)(n1 - 1);
	out->s01[0] = a01 / (double)(n0 - 1);
	out->s01[1] = b01 / (double)(n0 - 1);
	out->s01[2] = c01 / (double)(n0 - 1);
	fv_stats_delong_paired_finish(out, conf);
out:
	fv_free(sp);
	fv_free(sn);
	fv_free(va);
	return e;
}
