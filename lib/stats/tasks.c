/* Other tasks: survival concordance (Harrell's C), regression metrics, multiclass AUROC and
 * confusion matrix. */
#include "fedval/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/util.h"
#include "stats/internal.h"

/* ---- Harrell's C ---- */

struct surv {
	double t;
	uint32_t rank; /* 1-based rank of the risk among the distinct risks */
	uint8_t e;
};

static int by_time(const void *a, const void *b)
{
	double x = ((const struct surv *)a)->t, y = ((const struct surv *)b)->t;
	return (x > y) - (x < y);
}

fv_err fv_stats_cindex(const double *time, const uint8_t *event, const double *risk, size_t n,
		       double *c, uint64_t *comparable, struct fv_diag *d)
{
	uint64_t conc2 = 0, comp = 0;
	fv_err e;

	if (!c)
		return fv_diag_set(d, FV_EINVAL, "cindex: NULL argument");
	if ((e = fv_stats_cindex_counts(time, event, risk, n, &conc2, &comp, d)) != FV_OK)
		return e;
	if (comparable)
		*comparable = comp;
	if (comp == 0)
		return fv_diag_set(d, FV_EINVAL,
				   "cindex: no comparable pair (no event before a later time)");
	*c = (double)conc2 / (2.0 * (double)comp);
	return FV_OK;
}

fv_err fv_stats_cindex_counts(const double *time, const uint8_t *event, const double *risk,
			      size_t n, uint64_t *conc2_out, uint64_t *comparable,
			      struct fv_diag *d)
{
	struct surv *r = NULL;
	double *u = NULL;
	uint64_t *fen = NULL, conc2 = 0, comp = 0, inserted = 0;
	size_t m = 0, bytes;
	fv_err e = FV_OK;

	if (!conc2_out || !comparable || (n > 0 && (!time || !event || !risk)))
		return fv_diag_set(d, FV_EINVAL, "cindex: NULL argument");
	if (n >= UINT32_MAX)
		return fv_diag_set(d, FV_ELIMIT, "cindex: %zu records exceed 2^32 - 1", n);
	for (size_t i = 0; i < n; i++)
		if (isnan(time[i]) || isnan(risk[i]) || event[i] > 1)
			return fv_diag_set(d, FV_EINVAL,
					   "cindex: record %zu has a NaN time or risk or an event "
					   "other than 0/1",
					   i + 1);
	if (fv_mul_overflow(n + 1, sizeof(*r), &bytes) || !(r = fv_alloc(bytes)) ||
	    fv_mul_overflow(n + 1, sizeof(*u), &bytes) || !(u = fv_alloc(bytes)) ||
	    !(fen = fv_calloc(n + 1, sizeof(*fen)))) {
		e = fv_diag_set(d, FV_ENOMEM, "cindex: cannot allocate for %zu records", n);
		goto out;
	}
	/* Distinct risks, sorted: a record's rank is found by binary search. */
	memcpy(u, risk, n * sizeof(double));
	fv_stats_sort(u, n);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || u[i] != u[m - 1])
			u[m++] = u[i] == 0.0 ? 0.0 : u[i];
	for (size_t i = 0; i < n; i++) {
		r[i].t = time[i];
		r[i].e = event[i];
		r[i].rank = (uint32_t)fv_stats_count_lt(u, m, risk[i]) + 1;
	}
	qsort(r, n, sizeof(*r), by_time);
	/* From the latest time down: the Fenwick tree counts, per risk rank, the records with a
	 * strictly later time; each event is compared with all of them. */
	for (size_t hi = n; hi > 0;) {
		size_t lo = hi;
		while (lo > 0 && r[lo - 1].t == r[hi - 1].t)
			lo--;
		for (size_t i = lo; i < hi; i++) {
			uint64_t less = 0, le = 0;
			if (!r[i].e)
				continue;
			for (size_t j = r[i].rank - 1; j > 0; j -= j & -j)
				less += fen[j];
			for (size_t j = r[i].rank; j > 0; j -= j & -j)
				le += fen[j];
			conc2 += 2 * less + (le - less);
			comp += inserted;
		}
		for (size_t i = lo; i < hi; i++) {
			for (size_t j = r[i].rank; j <= m; j += j & -j)
				fen[j]++;
			inserted++;
		}
		hi = lo;
	}
	*comparable = comp;
	*conc2_out = conc2;
out:
	fv_free(r);
	fv_free(u);
	fv_free(fen);
	return e;
}

/* ---- regression ---- */

fv_err fv_stats_regression_sums(const double *pred, const double *y, size_t n,
				struct fv_reg_sums *out, struct fv_diag *d)
{
	struct fv_ksum sy = {0, 0}, sp = {0, 0}, ae = {0, 0}, se = {0, 0}, syy = {0, 0},
		       spp = {0, 0}, spy = {0, 0};

	if (!out || n == 0 || !pred || !y)
		return fv_diag_set(d, FV_EINVAL, "regression: no records or NULL argument");
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(pred[i]) || !isfinite(y[i]))
			return fv_diag_set(d, FV_EINVAL, "regression: record %zu is not finite",
					   i + 1);
		fv_ksum_add(&sy, y[i]);
		fv_ksum_add(&sp, pred[i]);
	}
	out->n = n;
	out->mean_y = fv_ksum_get(&sy) / (double)n;
	out->mean_p = fv_ksum_get(&sp) / (double)n;
	/* Second pass around the means: no cancellation in the sums of squares. */
	for (size_t i = 0; i < n; i++) {
		double r = y[i] - pred[i], dy = y[i] - out->mean_y, dp = pred[i] - out->mean_p;
		fv_ksum_add(&ae, fabs(r));
		fv_ksum_add(&se, r * r);
		fv_ksum_add(&syy, dy * dy);
		fv_ksum_add(&spp, dp * dp);
		fv_ksum_add(&spy, dp * dy);
	}
	out->sae = fv_ksum_get(&ae);
	out->sse = fv_ksum_get(&se);
	out->syy = fv_ksum_get(&syy);
	out->spp = fv_ksum_get(&spp);
	out->spy = fv_ksum_get(&spy);
	return FV_OK;
}

void fv_stats_regression_merge(struct fv_reg_sums *a, const struct fv_reg_sums *b)
{
	double na = (double)a->n, nb = (double)b->n, n = na + nb, dy, dp, w;

	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	/* Chan, Golub & LeVeque: the sums of squares around the pooled means are the sites'
	 * own plus the between-site term na nb / n (mean_a - mean_b)^2. */
	dy = b->mean_y - a->mean_y;
	dp = b->mean_p - a->mean_p;
	w = na * nb / n;
	a->syy += b->syy + w * dy * dy;
	a->spp += b->spp + w * dp * dp;
	a->spy += b->spy + w * dp * dy;
	a->mean_y += dy * nb / n;
	a->mean_p += dp * nb / n;
	a->sae += b->sae;
	a->sse += b->sse;
	a->n += b->n;
}

void fv_stats_regression_from_sums(const struct fv_reg_sums *s, struct fv_regression *out)
{
	double n = (double)s->n;
	out->mae = s->sae / n;
	out->rmse = sqrt(s->sse / n);
	out->r2 = s->syy > 0.0 ? 1.0 - s->sse / s->syy : NAN;
	out->slope = s->spp > 0.0 ? s->spy / s->spp : NAN;
	out->intercept = s->spp > 0.0 ? s->mean_y - out->slope * s->mean_p : NAN;
}

fv_err fv_stats_regression(const double *pred, const double *y, size_t n, struct fv_regression *out,
			   struct fv_diag *d)
{
	struct fv_reg_sums s;
	fv_err e;

	if (!out)
		return fv_diag_set(d, FV_EINVAL, "regression: NULL argument");
	if ((e = fv_stats_regression_sums(pred, y, n, &s, d)) != FV_OK)
		return e;
	fv_stats_regression_from_sums(&s, out);
	return FV_OK;
}

/* ---- multiclass ---- */

fv_err fv_stats_multiclass(const double *score, const uint8_t *label, size_t n, size_t K,
			   double *auc, double *macro, double *micro, uint64_t *confusion,
			   struct fv_diag *d)
{
	return fv_stats_multiclass_var(score, label, n, K, auc, NULL, macro, micro, NULL, confusion,
				       d);
}

fv_err fv_stats_multiclass_var(const double *score, const uint8_t *label, size_t n, size_t K,
			       double *auc, double *auc_var, double *macro, double *micro,
			       double *micro_var, uint64_t *confusion, struct fv_diag *d)
{
	double *pos = NULL, *neg = NULL, sum = 0.0, var;
	size_t nk, bytes, used = 0, *count = NULL;
	fv_err e = FV_OK;

	if (!auc || !macro || !micro || K < 2 || K > 256 || (n > 0 && (!score || !label)))
		return fv_diag_set(d, FV_EINVAL, "multiclass: bad argument (K = %zu)", K);
	if (fv_mul_overflow(n, K, &nk))
		return fv_diag_set(d, FV_EINVAL, "multiclass: n * K overflows");
	for (size_t i = 0; i < n; i++)
		if (label[i] >= K)
			return fv_diag_set(d, FV_EINVAL,
					   "multiclass: label of record %zu is not below %zu",
					   i + 1, K);
	for (size_t i = 0; i < nk; i++)
		if (isnan(score[i]))
			return fv_diag_set(d, FV_EINVAL, "multiclass: score of record %zu is NaN",
					   i / K + 1);
	/* pos: one score per record (its true class); neg: the other K - 1 (micro average). */
	if (!(count = fv_calloc(K, sizeof(*count))) ||
	    fv_mul_overflow(n + 1, sizeof(double), &bytes) || !(pos = fv_alloc(bytes)) ||
	    fv_mul_overflow(nk - n + 1, sizeof(double), &bytes) || !(neg = fv_alloc(bytes))) {
		e = fv_diag_set(d, FV_ENOMEM, "multiclass: cannot allocate for %zu scores", nk);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		count[label[i]]++;
	for (size_t c = 0; c < K; c++) {
		size_t n1 = 0, n0 = 0;
		if (auc_var)
			auc_var[c] = NAN;
		if (count[c] == 0 || count[c] == n) {
			auc[c] = NAN;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (label[i] == c)
				pos[n1++] = score[i * K + c];
			else
				neg[n0++] = score[i * K + c];
		}
		fv_stats_sort(pos, n1);
		fv_stats_sort(neg, n0);
		fv_stats_auc_sorted(pos, n1, neg, n0, &auc[c], &var);
		if (auc_var)
			auc_var[c] = var;
		sum += auc[c];
		used++;
	}
	*macro = used ? sum / (double)used : NAN;
	/* Micro average: every (record, class) pair is one binary decision. */
	if (n == 0) {
		*micro = NAN;
		if (micro_var)
			*micro_var = NAN;
	} else {
		size_t n1 = 0, n0 = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t c = 0; c < K; c++) {
				if (label[i] == c)
					pos[n1++] = score[i * K + c];
				else
					neg[n0++] = score[i * K + c];
			}
		fv_stats_sort(pos, n1);
		fv_stats_sort(neg, n0);
		fv_stats_auc_sorted(pos, n1, neg, n0, micro, &var);
		if (micro_var)
			*micro_var = var;
	}
	if (confusion) {
		memset(confusion, 0, K * K * sizeof(*confusion));
		for (size_t i = 0; i < n; i++) {
			size_t best = 0;
			for (size_t c = 1; c < K; c++)
				if (score[i * K + c] > score[i * K + best])
					best = c;
			confusion[label[i] * K + best]++;
		}
	}
out:
	fv_free(count);
	fv_free(pos);
	fv_free(neg);
	return e;
}
