/* AUROC by the Mann–Whitney statistic and its DeLong (1988) variance from structural
 * components, in O(n log n): each class's scores are sorted once and the two sorted lists are
 * walked together, one group of tied scores at a time. */
#include "fedval/stats.h"

#include <math.h>

#include "fedval/util.h"

/* ---- sorting: an introsort specialised to doubles (no NaN; callers reject them) ---- */

static void swapd(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

static void insertion_sort(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static void sift_down(double *v, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		swapd(&v[root], &v[child]);
		root = child;
	}
}

static void heap_sort(double *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		swapd(&v[0], &v[end]);
		sift_down(v, 0, end);
	}
}

/* Quicksort with a median-of-three pivot and Hoare partitioning (which splits runs of equal
 * keys evenly, so heavily tied scores stay O(n log n)); recurses on the smaller side and falls
 * back to heapsort past 2 log2(n) levels. */
static void intro_sort(double *v, size_t n, int depth)
{
	while (n > 16) {
		size_t mid = n / 2, i, j;
		double pivot;

		if (depth-- == 0) {
			heap_sort(v, n);
			return;
		}
		if (v[mid] < v[0])
			swapd(&v[mid], &v[0]);
		if (v[n - 1] < v[0])
			swapd(&v[n - 1], &v[0]);
		if (v[n - 1] < v[mid])
			swapd(&v[n - 1], &v[mid]);
		pivot = v[mid];
		i = 0;
		j = n - 1;
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			swapd(&v[i], &v[j]);
			i++;
			j--;
		}
		/* Now v[0..j] <= pivot <= v[j+1..n-1], both parts non-empty. */
		if (j + 1 < n - j - 1) {
			intro_sort(v, j + 1, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			intro_sort(v + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	insertion_sort(v, n);
}

static void sort_doubles(double *v, size_t n)
{
	int depth = 0;
	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro_sort(v, n, depth);
}

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
	sort_doubles(pos, n1);
	sort_doubles(neg, n0);
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
