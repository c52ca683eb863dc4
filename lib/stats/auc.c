/* AUROC by the Mann–Whitney statistic and its DeLong (1988) variance from structural
 * components, in O(n log n): each class's scores are sorted once and the two sorted lists are
 * walked together, one group of tied scores at a time. */
#include "fedval/stats.h"

#include <math.h>

#include "fedval/util.h"
#include "stats/internal.h"

/* ---- DeLong ---- */

/* One walk over the sorted cases pos[0..n1) and controls neg[0..n0). For a group of tied
 * scores v holding cp cases and cn controls, with nb controls and pb cases below v:
 *   V10 (each of the cp cases)    = (nb + cn/2) / n0
 *   V01 (each of the cn controls) = (n1 - pb - cp + cp/2) / n1
 * Returns twice the Mann–Whitney U, exactly (it is at most 2 n1 n0 <= n^2 / 2, which fits in
 * 64 bits for n below 6e9), and the sums of squared deviations of V10 and V01 around
 * `centre`. */
static uint64_t delong_walk(const double *pos, size_t n1, const double *neg, size_t n0,
			    double centre, double *ss10, double *ss01)
{
	size_t i = 0, j = 0;
	uint64_t u2 = 0;
	double s10 = 0.0, s01 = 0.0;

	while (i < n1 || j < n0) {
		double v;
		size_t cp = 0, cn = 0;

		if (j >= n0 || (i < n1 && pos[i] < neg[j]))
			v = pos[i];
		else
			v = neg[j];
		while (i + cp < n1 && pos[i + cp] == v)
			cp++;
		while (j + cn < n0 && neg[j + cn] == v)
			cn++;
		if (cp) {
			uint64_t twice = 2 * (uint64_t)j + cn; /* 2 * (nb + cn/2) */
			double dv = (double)twice / (2.0 * (double)n0) - centre;
			u2 += (uint64_t)cp * twice;
			s10 += (double)cp * dv * dv;
		}
		if (cn) {
			uint64_t twice = 2 * (uint64_t)(n1 - i - cp) + cp;
			double dv = (double)twice / (2.0 * (double)n1) - centre;
			s01 += (double)cn * dv * dv;
		}
		i += cp;
		j += cn;
	}
	*ss10 = s10;
	*ss01 = s01;
	return u2;
}

fv_err fv_stats_auc_delong(const double *score, const uint8_t *label, size_t n, double *auc,
			   double *var, struct fv_diag *d)
{
	double *pos = NULL, *neg = NULL, ss10, ss01, a;
	size_t n1 = 0, n0 = 0, bytes;
	uint64_t u2;
	fv_err e = FV_OK;

	if (!auc || !var || (n > 0 && (!score || !label)))
		return fv_diag_set(d, FV_EINVAL, "auc: NULL argument");
	for (size_t i = 0; i < n; i++) {
		if (label[i] > 1)
			return fv_diag_set(d, FV_EINVAL, "auc: label of record %zu is not 0 or 1",
					   i + 1);
		if (isnan(score[i]))
			return fv_diag_set(d, FV_EINVAL, "auc: score of record %zu is NaN", i + 1);
		n1 += label[i];
	}
	n0 = n - n1;
	if (n1 == 0 || n0 == 0)
		return fv_diag_set(d, FV_EINVAL,
				   "auc: needs both classes (%zu cases, %zu controls)", n1, n0);
	if (fv_mul_overflow(n1, sizeof(double), &bytes) || !(pos = fv_alloc(bytes)) ||
	    fv_mul_overflow(n0, sizeof(double), &bytes) || !(neg = fv_alloc(bytes))) {
		e = fv_diag_set(d, FV_ENOMEM, "auc: cannot allocate scratch for %zu scores", n);
		goto out;
	}
	for (size_t i = 0, k1 = 0, k0 = 0; i < n; i++) {
		if (label[i])
			pos[k1++] = score[i];
		else
			neg[k0++] = score[i];
	}
	fv_stats_sort(pos, n1);
	fv_stats_sort(neg, n0);
	u2 = delong_walk(pos, n1, neg, n0, 0.5, &ss10, &ss01);
	a = (double)u2 / (2.0 * (double)n1 * (double)n0);
	/* Second pass centred on the AUC (the mean of both component sets) for an accurate
	 * variance; the walk is O(n), cheap next to the sorts. */
	delong_walk(pos, n1, neg, n0, a, &ss10, &ss01);
	*auc = a;
	if (n1 < 2 || n0 < 2)
		*var = NAN;
	else
		*var =
		    ss10 / ((double)(n1 - 1) * (double)n1) + ss01 / ((double)(n0 - 1) * (double)n0);
out:
	fv_free(pos);
	fv_free(neg);
	return e;
}

void fv_stats_auc_ci(double auc, double var, double conf, double *lo, double *hi)
{
	double z, half;

	if (isnan(auc) || isnan(var) || var < 0.0 || !(conf > 0.0 && conf < 1.0)) {
		*lo = *hi = NAN;
		return;
	}
	z = fv_stats_qnorm(1.0 - 0.5 * (1.0 - conf));
	half = z * sqrt(var);
	*lo = fmax(0.0, auc - half);
	*hi = fmin(1.0, auc + half);
}

void fv_stats_auc_sorted(const double *pos, size_t n1, const double *neg, size_t n0, double *auc,
			 double *var)
{
	double ss10, ss01, a;
	uint64_t u2 = delong_walk(pos, n1, neg, n0, 0.5, &ss10, &ss01);

	a = (double)u2 / (2.0 * (double)n1 * (double)n0);
	delong_walk(pos, n1, neg, n0, a, &ss10, &ss01);
	*auc = a;
	if (n1 < 2 || n0 < 2)
		*var = NAN;
	else
		*var =
		    ss10 / ((double)(n1 - 1) * (double)n1) + ss01 / ((double)(n0 - 1) * (double)n0);
}
