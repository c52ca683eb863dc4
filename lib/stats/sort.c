/* Sorting and searching of doubles shared by the rank-based statistics. */
#include <stdint.h>
#include <string.h>

#include "fedval/util.h"
#include "stats/internal.h"

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

/* LSD radix sort on the IEEE-754 bit patterns mapped to order-preserving unsigned keys (flip
 * all bits of negatives, the sign bit of the rest): 4 passes of 16 bits, a pass skipped when
 * every key has the same digit. Needs n words of scratch. */
static int radix_sort(double *v, size_t n)
{
	uint64_t *a = (uint64_t *)v, *b = fv_alloc(n * sizeof(uint64_t));
	size_t *count = fv_calloc(65536, sizeof(size_t));
	int swapped = 0;

	if (!b || !count) {
		fv_free(b);
		fv_free(count);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = (a[i] >> 63) ? ~a[i] : a[i] ^ 0x8000000000000000ull;
	for (int pass = 0; pass < 4; pass++) {
		int shift = 16 * pass;
		size_t sum = 0;
		memset(count, 0, 65536 * sizeof(size_t));
		for (size_t i = 0; i < n; i++)
			count[(a[i] >> shift) & 0xffff]++;
		if (count[(a[0] >> shift) & 0xffff] == n)
			continue; /* every key shares this digit */
		for (size_t k = 0; k < 65536; k++) {
			size_t c = count[k];
			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i] >> shift) & 0xffff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
		swapped ^= 1;
	}
	if (swapped) { /* the sorted keys are in the scratch array: copy them back */
		memcpy(b, a, n * sizeof(uint64_t));
		uint64_t *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = (a[i] >> 63) ? a[i] ^ 0x8000000000000000ull : ~a[i];
	fv_free(b);
	fv_free(count);
	return 1;
}

void fv_stats_sort(double *v, size_t n)
{
	int depth = 0;
	/* Large inputs: radix (linear, about 5x faster at 10M); small ones, or when the scratch
	 * cannot be had: introsort in place. */
	if (n >= 65536 && radix_sort(v, n))
		return;
	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro_sort(v, n, depth);
}

size_t fv_stats_count_lt(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t fv_stats_count_le(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

fv_err fv_stats_split_sorted(const double *score, const uint8_t *label, size_t n, double **pos,
			     size_t *n1, double **neg, size_t *n0, const char *who,
			     struct fv_diag *d)
{
	size_t c1 = 0, c0, bytes;
	double *p = NULL, *q = NULL;

	*pos = *neg = NULL;
	*n1 = *n0 = 0;
	if (n > 0 && (!score || !label))
		return fv_diag_set(d, FV_EINVAL, "%s: NULL argument", who);
	for (size_t i = 0; i < n; i++) {
		if (label[i] > 1)
			return fv_diag_set(d, FV_EINVAL, "%s: label of record %zu is not 0 or 1",
					   who, i + 1);
		if (score[i] != score[i])
			return fv_diag_set(d, FV_EINVAL, "%s: score of record %zu is NaN", who,
					   i + 1);
		c1 += label[i];
	}
	c0 = n - c1;
	/* +1: a valid pointer even for an empty class. */
	if (fv_mul_overflow(c1 + 1, sizeof(double), &bytes) || !(p = fv_alloc(bytes)) ||
	    fv_mul_overflow(c0 + 1, sizeof(double), &bytes) || !(q = fv_alloc(bytes))) {
		fv_free(p);
		return fv_diag_set(d, FV_ENOMEM, "%s: cannot allocate scratch for %zu scores", who,
				   n);
	}
	for (size_t i = 0, k1 = 0, k0 = 0; i < n; i++) {
		if (label[i])
			p[k1++] = score[i];
		else
			q[k0++] = score[i];
	}
	fv_stats_sort(p, c1);
	fv_stats_sort(q, c0);
	*pos = p;
	*neg = q;
	*n1 = c1;
	*n0 = c0;
	return FV_OK;
}
