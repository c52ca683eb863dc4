/* Sufficient statistics from a site's scores, computed once all records are scored.
 *
 * Scores are kept as float32 with the label in the sign bit (a score is a probability, so
 * never negative): 4 bytes a record in record order (200 MB for 50 million records, sorted in
 * place beyond 16M records), or 2 bytes a record in the compact store when no statistic needs
 * record order. Either is walked as groups of equal score in ascending order of score, then
 * label, and every statistic is computed in that order, so the result depends only on the
 * multiset of (score, label) pairs — bit for bit the same whatever the thread count, batch
 * size, record order or way of keeping them. */
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

/* ---- the compact score store ---- */

/* Every packed score of a run, bucketed by the top 16 bits of its sort key: a record keeps only
 * the low 16 bits (2 bytes instead of 4). The buckets are sorted in place once all scores are
 * in, and the groups of equal score come out in the same order as from the sorted array. */
#define STORE_BUCKETS 65536

struct node_store {
	struct sbucket {
		uint16_t *v;
		uint32_t n, cap;
	} b[STORE_BUCKETS];
	size_t total;
	bool sorted;
};

fv_err node_store_new(struct node_store **out)
{
	return (*out = fv_calloc(1, sizeof(**out))) ? FV_OK : FV_ENOMEM;
}

void node_store_free(struct node_store *st)
{
	for (size_t k = 0; st && k < STORE_BUCKETS; k++)
		fv_free(st->b[k].v);
	fv_free(st);
}

size_t node_store_count(const struct node_store *st)
{
	return st->total;
}

fv_err node_store_add(struct node_store *st, float packed)
{
	uint32_t k = skey(bits(packed));
	struct sbucket *b = &st->b[k >> 16];

	if (b->n == b->cap) {
		/* grow by half: the untouched tail of a large block is never resident */
		uint32_t ncap = b->cap ? b->cap + b->cap / 2 : 64;
		uint16_t *nv;
		if (ncap <= b->cap || !(nv = fv_realloc(b->v, (size_t)ncap * sizeof(uint16_t))))
			return FV_ENOMEM;
		b->v = nv;
		b->cap = ncap;
	}
	b->v[b->n++] = (uint16_t)(k & 0xffffu);
	st->total++;
	st->sorted = false;
	return FV_OK;
}

/* Sort every bucket (LSD radix, two 8-bit passes, through one scratch array as large as the
 * largest bucket; insertion for small ones). */
static fv_err store_sort(struct node_store *st)
{
	uint32_t most = 0;
	uint16_t *tmp;

	if (st->sorted)
		return FV_OK;
	for (size_t k = 0; k < STORE_BUCKETS; k++)
		most = st->b[k].n > most ? st->b[k].n : most;
	if (!(tmp = fv_alloc((size_t)most * sizeof(uint16_t) + 1)))
		return FV_ENOMEM;
	for (size_t k = 0; k < STORE_BUCKETS; k++) {
		uint16_t *a = st->b[k].v;
		uint32_t n = st->b[k].n;
		if (n < 64) {
			for (uint32_t i = 1; i < n; i++) {
				uint16_t v = a[i];
				uint32_t j = i;
				for (; j > 0 && a[j - 1] > v; j--)
					a[j] = a[j - 1];
				a[j] = v;
			}
			continue;
		}
		for (int shift = 0; shift < 16; shift += 8) {
			uint32_t count[256] = {0}, sum = 0;
			uint16_t *src = shift ? tmp : a, *dst = shift ? a : tmp;
			for (uint32_t i = 0; i < n; i++)
				count[(src[i] >> shift) & 0xff]++;
			for (int c = 0; c < 256; c++) {
				uint32_t x = count[c];
				count[c] = sum;
				sum += x;
			}
			for (uint32_t i = 0; i < n; i++)
				dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		}
	}
	fv_free(tmp);
	st->sorted = true;
	return FV_OK;
}

/* ---- groups of equal score, in ascending order ---- */

/* A walk over the groups of records sharing a score: a sorted packed array, or a sorted
 * store. */
struct groups {
	const float *s; /* array: the sorted scores */
	size_t n, i;
	const struct node_store *st; /* store: the bucket and position */
	size_t bucket;
	uint32_t at;
};

static void groups_array(struct groups *g, const float *s, size_t n)
{
	*g = (struct groups){.s = s, .n = n};
}

static void groups_store(struct groups *g, const struct node_store *st)
{
	*g = (struct groups){.st = st};
}

/* The next group: its score and how many positives (a) and negatives (b) share it. */
static bool next_group(struct groups *g, double *score, uint64_t *a, uint64_t *b)
{
	*a = *b = 0;
	if (!g->st) {
		size_t j;
		if (g->i >= g->n)
			return false;
		uint32_t key = bits(g->s[g->i]) & 0x7fffffffu;
		for (j = g->i; j < g->n && (bits(g->s[j]) & 0x7fffffffu) == key; j++) {
			if (signbit(g->s[j]))
				(*a)++;
			else
				(*b)++;
		}
		*score = fabsf(g->s[g->i]);
		g->i = j;
		return true;
	}
	while (g->bucket < STORE_BUCKETS && g->at >= g->st->b[g->bucket].n) {
		g->bucket++;
		g->at = 0;
	}
	if (g->bucket == STORE_BUCKETS)
		return false;
	const struct sbucket *bk = &g->st->b[g->bucket];
	uint32_t hi = (uint32_t)g->bucket << 16, k = hi | bk->v[g->at];
	while (g->at < bk->n && ((hi | bk->v[g->at]) >> 1) == k >> 1) {
		if (bk->v[g->at] & 1u)
			(*a)++;
		else
			(*b)++;
		g->at++;
	}
	uint32_t u = k >> 1; /* |score|'s bits */
	float f;
	memcpy(&f, &u, sizeof(f));
	*score = f;
	return true;
}

static void rewind_groups(struct groups *g)
{
	g->i = 0;
	g->bucket = 0;
	g->at = 0;
}

/* n, n_pos, sums, AUROC with DeLong variance and the confusion counts at thr[]. */
static void summarise(struct groups *g, size_t n, const double *thr, uint32_t n_thr,
		      struct eval_out *o)
{
	uint64_t pos = 0, neg, below_pos = 0, below_neg = 0, a, b;
	double auc_sum = 0, s10 = 0, s01 = 0, auc, v;
	uint32_t order[NODE_MAX_THR], next = 0;

	o->n = n;
	o->sum_p = 0;
	o->brier_sum = 0;
	/* Record by record in sorted order (within a score, label 0 first), so that the sums
	 * are the same bits however the scores are kept. */
	while (next_group(g, &v, &a, &b)) {
		for (uint64_t r = 0; r < b; r++) {
			o->sum_p += v;
			o->brier_sum += v * v;
		}
		for (uint64_t r = 0; r < a; r++) {
			o->sum_p += v;
			o->brier_sum += (v - 1) * (v - 1);
		}
		pos += a;
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
	rewind_groups(g);
	while (next_group(g, &v, &a, &b)) {
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
		return;
	}
	auc = auc_sum / ((double)pos * (double)neg);
	below_pos = below_neg = 0;
	rewind_groups(g);
	while (next_group(g, &v, &a, &b)) {
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
}

fv_err node_summarise(float *s, size_t n, const double *thr, uint32_t n_thr, struct eval_out *o)
{
	struct groups g;
	fv_err e;

	if ((e = sort_scores(s, n)) != FV_OK)
		return e;
	groups_array(&g, s, n);
	summarise(&g, n, thr, n_thr, o);
	return FV_OK;
}

fv_err node_summarise_store(struct node_store *st, const double *thr, uint32_t n_thr,
			    struct eval_out *o)
{
	struct groups g;
	fv_err e;

	if ((e = store_sort(st)) != FV_OK)
		return e;
	groups_store(&g, st);
	summarise(&g, st->total, thr, n_thr, o);
	return FV_OK;
}

/* Counts at threshold t: positive when score >= t. */
static void counts_at(struct groups *g, uint64_t pos, uint64_t neg, double t, uint64_t *tp,
		      uint64_t *fp)
{
	uint64_t bp = 0, bn = 0, a, b;
	double v;

	rewind_groups(g);
	while (next_group(g, &v, &a, &b) && v < t) {
		bp += a;
		bn += b;
	}
	*tp = pos - bp;
	*fp = neg - bn;
}

static void operating_points(struct groups *g, size_t n, const struct eval_in *in,
			     struct eval_out *o)
{
	uint64_t pos = o->n_pos, neg = o->n - o->n_pos;

	o->n_op = 0;
	for (uint32_t k = 0; k < in->n_op && o->n_thr < NODE_MAX_THR; k++) {
		double v = in->op_value[k], t = v;
		int target = in->op_target[k];
		if (target != NODE_OP_DECLARED) {
			/* At each group's score the records at or above it are positive: going up,
			 * sensitivity and positive rate fall and specificity rises. The target is
			 * reached at the largest score keeping sensitivity (rate) >= v, or at the
			 * smallest score giving specificity >= v. */
			uint64_t bp = 0, bn = 0, a, b;
			double best = NAN, score;
			rewind_groups(g);
			while (next_group(g, &score, &a, &b)) {
				uint64_t tp = pos - bp, fp = neg - bn;
				double sens = pos ? (double)tp / (double)pos : NAN;
				double spec = neg ? (double)(neg - fp) / (double)neg : NAN;
				double rate = (double)(tp + fp) / (double)n;
				if (target == NODE_OP_SPEC) {
					if (spec >= v) {
						best = score;
						break;
					}
				} else if ((target == NODE_OP_SENS ? sens : rate) >= v) {
					best = score;
				} else {
					break;
				}
				bp += a;
				bn += b;
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
		counts_at(g, pos, neg, t, &o->tp[r], &o->fp[r]);
		/* The tolerance above puts a score a rounding error off a grid point on it; if
		 * that lost the target, the next grid point reaches it. */
		bool missed =
		    target == NODE_OP_SENS    ? pos && (double)o->tp[r] < v * (double)pos
		    : target == NODE_OP_PRATE ? n && (double)(o->tp[r] + o->fp[r]) < v * (double)n
		    : target == NODE_OP_SPEC  ? neg && (double)(neg - o->fp[r]) < v * (double)neg
					      : false;
		if (missed) {
			o->thr[r] = t = target == NODE_OP_SPEC ? t + 0.01 : t - 0.01;
			counts_at(g, pos, neg, t, &o->tp[r], &o->fp[r]);
		}
		o->fn[r] = pos - o->tp[r];
		o->tn[r] = neg - o->fp[r];
		o->n_op++;
	}
}

void node_operating_points(const float *s, size_t n, const struct eval_in *in, struct eval_out *o)
{
	struct groups g;
	groups_array(&g, s, n);
	operating_points(&g, n, in, o);
}

void node_operating_points_store(const struct node_store *st, const struct eval_in *in,
				 struct eval_out *o)
{
	struct groups g;
	groups_store(&g, st);
	operating_points(&g, st->total, in, o);
}
