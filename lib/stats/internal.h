/* fedval statistics: helpers shared by the files of lib/stats, not part of the public API. */
#ifndef FEDVAL_STATS_INTERNAL_H
#define FEDVAL_STATS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

/* Sort ascending in place; v must hold no NaN. Linear-time radix sort with n words of scratch
 * for large n, an in-place O(n log n) introsort otherwise (or when the scratch is not had). */
void fv_stats_sort(double *v, size_t n);

/* Number of elements of sorted v[0..n) that are < x, and that are <= x (binary search). */
size_t fv_stats_count_lt(const double *v, size_t n, double x);
size_t fv_stats_count_le(const double *v, size_t n, double x);

/* Validate score/label (labels 0/1, no NaN score), copy the case scores to *pos and the control
 * scores to *neg (one allocation each, caller frees both with fv_free) and sort both
 * ascending. A class may be empty (its pointer is then still a valid allocation). `who` names
 * the caller in diagnostics. */
fv_err fv_stats_split_sorted(const double *score, const uint8_t *label, size_t n, double **pos,
			     size_t *n1, double **neg, size_t *n0, const char *who,
			     struct fv_diag *d);

/* AUC and DeLong variance from the sorted case and control scores (both classes non-empty);
 * var is NaN with fewer than two of either class. */
void fv_stats_auc_sorted(const double *pos, size_t n1, const double *neg, size_t n0, double *auc,
			 double *var);

/* Neumaier (improved Kahan) summation state: long sums of per-record terms keep full
 * precision independently of n. */
struct fv_ksum {
	double s, c;
};
static inline void fv_ksum_add(struct fv_ksum *k, double x)
{
	double t = k->s + x;
	if ((k->s >= 0 ? k->s : -k->s) >= (x >= 0 ? x : -x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}
static inline double fv_ksum_get(const struct fv_ksum *k)
{
	return k->s + k->c;
}

#endif
