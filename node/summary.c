/* Sufficient statistics from a site's scores, computed once all records are scored.
 *
 * Scores are kept as float32 with the label in the sign bit (a score is a probability, so
 * never negative): 4 bytes a record, 200 MB for 50 million records, sorted in place beyond
 * 16M records. The array is sorted by score and then label, and every statistic is computed in
 * that order, so the result depends only on the multiset of (score, label) pairs — bit for
 * bit the same whatever the thread count, batch size or record order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/util.h"
#include "node.h"

static inline uint32_t bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

float node_pack(double p, uint8_t y)
{
	float f = (float)p;
	return y ? -f : f;
}

/* Sort key of a packed score: |score| (its bit pattern orders like its value when
 * non-negative) first, the label last, so records that share a score are ordered by label
 * and the sorted array depends only on the multiset of (score, label) pairs. */
static inline uint32_t skey(uint32_t u)
{
	return ((u & 0x7fffffffu) << 1) | (u >> 31);
}

/* In-place MSD radix sort by skey, 8 bits a level (American flag sort: each level counts
 * its buckets, then moves every element into its bucket by cycles of swaps); small buckets
 * by insertion. No scratch array: the scores are the node's largest allocation (4 bytes a
 * record), and a second one would double the peak. */
static void msd_sort(uint32_t *a, size_t n, int shift)
{
	size_t count[256] = {0}, next[256], end[256];

	if (n < 48) {
		for (size_t i = 1; i < n; i++) {
			uint32_t v = a[i], k = skey(v);
			size_t j = i;
			while (j > 0 && skey(a[j - 1]) > k) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		count[(skey(a[i]) >> shift) & 0xff]++;
	size_t sum = 0;
	for (int b = 0; b < 256; b++) {
		next[b] = sum;
		sum += count[b];
		end[b] = sum;
	}
	for (int b = 0; b < 256; b++)
		while (next[b] < end[b]) {
			uint32_t v = a[next[b]];
			int db = (int)((skey(v) >> shift) & 0xff);
			while (db != b) { /* carry v to its bucket, take what was there */
				uint32_t w = a[next[db]];
				a[next[db]++] = v;
				v = w;
				db = (int)((skey(v) >> shift) & 0xff);
			}
			a[next[b]++] = v;
		}
	if (shift == 0)
		return;
	for (int b = 0; b < 256; b++) {
		size_t lo = end[b] - count[b];
		if (count[b] > 1)
			msd_sort(a + lo, count[b], shift - 8);
	}
}

/* Up to this many records the sort uses a scratch array (LSD radix, about 25% faster);
 * beyond it, none (MSD in place), so the scratch never exceeds 64 MiB. Both give the same
 * order: skey is a total order of the packed values. */
size_t node_sort_scratch_max = (size_t)16 << 20;

static fv_err sort_scores(float *s, size_t n)
{
	uint32_t *a = (uint32_t *)(void *)s, *b;
	size_t count[256];

	if (n > node_sort_scratch_max) {
		msd_sort(a, n, 24);
		return FV_OK;
	}
	if (!(b = fv_alloc(n * sizeof(uint32_t) + 1)))
		return FV_ENOMEM;
	for (int pass = 0; pass < 4; pass++) {
		int shift = pass * 8;
		size_t sum = 0;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(skey(a[i]) >> shift) & 0xff]++;
		for (int k = 0; k < 256; k++) {
			size_t c = count[k];
			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(skey(a[i]) >> shift) & 0xff]++] = a[i];
		uint32_t *t = a;
		a = b;
		b = t;
	}
	/* Four passes: the sorted data is back in the caller's array. */
	fv_free(b);
	return FV_OK;
}

fv_err node_summarise(float *s, size_t n, const double *thr, uint32_t n_thr, struct eval_out *o)
{
	uint64_t pos = 0, neg, below_pos = 0, below_neg = 0;
	double auc_sum = 0, s10 = 0, s01 = 0, auc;
	uint32_t order[NODE_MAX_THR], next = 0;
	size_t i, j;
	fv_err e;

	if ((e = sort_scores(s, n)) != FV_OK)
		return e;
	o->n = n;
	o->sum_p = 0;
	o->brier_sum = 0;
	for (i = 0; i < n; i++) {
		double p = fabsf(s[i]);
		int y = signbit(s[i]) ? 1 : 0;
		pos += (uint64_t)y;
		o->sum_p += p;
		o->brier_sum += (p - y) * (p - y);
	}
	neg = n - pos;
	o->n_pos = pos;
	o->n_thr = n_thr;
	/* Visit the thresholds in ascending order of value (the benchmark may list them in any
	 * order; results keep its order). */
	for (uint32_t k = 0; k < n_thr; k++) {
		uint32_t m = k;
		o->thr[k] = thr[k];
		while (m > 0 && thr[order[m - 1]] > thr[k]) {
			order[m] = order[m - 1];
			m--;
		}
		order[m] = k;
	}

	/* Walk groups of equal score. V10 of a positive = (negatives below + ties/2) / neg;
	 * V01 of a negative = (positives above + ties/2) / pos (DeLong et al. 1988). */
	for (i = 0; i < n; i = j) {
		uint32_t key = bits(s[i]) & 0x7fffffffu;
		double v = fabsf(s[i]);
		uint64_t a = 0, b = 0;
		for (j = i; j < n && (bits(s[j]) & 0x7fffffffu) == key; j++) {
			if (signbit(s[j]))
				a++;
			else
				b++;
		}
		/* A record is positive at threshold t when score >= t: the first group at or
		 * above t splits the counts. */
		for (; next < n_thr && thr[order[next]] <= v; next++) {
			uint32_t k = order[next];
			o->fn[k] = below_pos;
			o->tn[k] = below_neg;
			o->tp[k] = pos - below_pos;
			o->fp[k] = neg - below_neg;
		}
		if (pos && neg)
			auc_sum += (double)a * ((double)below_neg + 0.5 * (double)b);
		below_pos += a;
		below_neg += b;
	}
	/* Thresholds above every score: everything is negative. */
	for (; next < n_thr; next++) {
		uint32_t k = order[next];
		o->tp[k] = o->fp[k] = 0;
		o->fn[k] = pos;
		o->tn[k] = neg;
	}
	if (!pos || !neg) {
		o->auc = NAN;
		o->auc_var = NAN;
		return FV_OK;
	}
	auc = auc_sum / ((double)pos * (double)neg);
	below_pos = below_neg = 0;
	for (i = 0; i < n; i = j) {
		uint32_t key = bits(s[i]) & 0x7fffffffu;
		uint64_t a = 0, b = 0;
		for (j = i; j < n && (bits(s[j]) & 0x7fffffffu) == key; j++) {
			if (signbit(s[j]))
				a++;
			else
				b++;
		}
		double v10 = ((double)below_neg + 0.5 * (double)b) / (double)neg;
		double v01 = ((double)(pos - below_pos - a) + 0.5 * (double)a) / (double)pos;
		s10 += (double)a * (v10 - auc) * (v10 - auc);
		s01 += (double)b * (v01 - auc) * (v01 - auc);
		below_pos += a;
		below_neg += b;
	}
	o->auc = auc;
	/* Sample variances of the structural components (denominators m-1, n-1), as DeLong and
	 * pROC; NaN with a single case or control. */
	o->auc_var = (pos > 1 ? s10 / (double)(pos - 1) : NAN) / (double)pos +
		     (neg > 1 ? s01 / (double)(neg - 1) : NAN) / (double)neg;
	return FV_OK;
}

/* Counts at threshold t of the sorted scores: positive when score >= t. */
static void counts_at(const float *s, size_t n, uint64_t pos, uint64_t neg, double t, uint64_t *tp,
		      uint64_t *fp)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* first index with score >= t */
		size_t mid = lo + (hi - lo) / 2;
		if ((double)fabsf(s[mid]) >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	uint64_t bp = 0;
	for (size_t i = 0; i < lo; i++)
		bp += signbit(s[i]) ? 1 : 0;
	*tp = pos - bp;
	*fp = neg - ((uint64_t)lo - bp);
}

void node_operating_points(const float *s, size_t n, const struct eval_in *in, struct eval_out *o)
{
	uint64_t pos = o->n_pos, neg = o->n - o->n_pos;

	o->n_op = 0;
	for (uint32_t k = 0; k < in->n_op && o->n_thr < NODE_MAX_THR; k++) {
		double v = in->op_value[k], t = v;
		int target = in->op_target[k];
		if (target != NODE_OP_DECLARED) {
			/* Walk the distinct scores from the top: at each group's score, the records
			 * at or above it are positive. */
			uint64_t tp = 0, fp = 0;
			double best = NAN;
			for (size_t i = n; i > 0;) {
				uint32_t key = bits(s[i - 1]) & 0x7fffffffu;
				size_t j = i;
				while (j > 0 && (bits(s[j - 1]) & 0x7fffffffu) == key) {
					if (signbit(s[j - 1]))
						tp++;
					else
						fp++;
					j--;
				}
				double score = (double)fabsf(s[i - 1]);
				double sens = pos ? (double)tp / (double)pos : NAN;
				double spec = neg ? (double)(neg - fp) / (double)neg : NAN;
				double rate = (double)(tp + fp) / (double)n;
				if (target == NODE_OP_SPEC) {
					if (spec >= v)
						best =
						    score; /* the smallest reaching: keep going */
				} else if ((target == NODE_OP_SENS ? sens : rate) >= v) {
					best = score; /* the largest reaching: stop */
					break;
				}
				i = j;
			}
			if (isnan(best))
				/* Only "nobody positive" reaches a specificity target; nothing
				 * reaches a sensitivity or rate target (no positives, empty data).
				 */
				best = target == NODE_OP_SPEC ? 1.01 : 0.0;
			t = target == NODE_OP_SPEC ? ceil(best * 100 - 1e-6) / 100
						   : floor(best * 100 + 1e-6) / 100;
		}
		uint32_t r = o->n_thr++;
		o->thr[r] = t;
		counts_at(s, n, pos, neg, t, &o->tp[r], &o->fp[r]);
		/* The tolerance above puts a score a rounding error off a grid point on it; if
		 * that lost the target, the next grid point reaches it. */
		bool missed =
		    target == NODE_OP_SENS    ? pos && (double)o->tp[r] < v * (double)pos
		    : target == NODE_OP_PRATE ? n && (double)(o->tp[r] + o->fp[r]) < v * (double)n
		    : target == NODE_OP_SPEC  ? neg && (double)(neg - o->fp[r]) < v * (double)neg
					      : false;
		if (missed) {
			o->thr[r] = t = target == NODE_OP_SPEC ? t + 0.01 : t - 0.01;
			counts_at(s, n, pos, neg, t, &o->tp[r], &o->fp[r]);
		}
		o->fn[r] = pos - o->tp[r];
		o->tn[r] = neg - o->fp[r];
		o->n_op++;
	}
}
