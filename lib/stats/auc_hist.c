/* Pooled AUROC from class-wise counts on a common grid: sites add their histograms, the
 * coordinator computes the Mann-Whitney statistic over bins. Pairs in different bins are
 * ordered by the bins; a case and a control in the same bin are a tie when the bin is a single
 * score value, and of unknown order otherwise, which gives guaranteed bounds. */
#include "fedval/stats.h"

#include <math.h>

fv_err fv_stats_auc_hist(const uint64_t *pos, const uint64_t *neg, size_t nb,
			 struct fv_interval *auc, double *var, struct fv_diag *d)
{
	unsigned __int128 below = 0, tied = 0; /* sum over bins of cp * (controls below), cp * cn */
	uint64_t n1 = 0, n0 = 0, nbelow = 0, pbelow = 0;
	double a, s10 = 0.0, s01 = 0.0, nn;

	if (!auc || (nb > 0 && (!pos || !neg)))
		return fv_diag_set(d, FV_EINVAL, "auc_hist: NULL argument");
	for (size_t b = 0; b < nb; b++) {
		if (__builtin_add_overflow(n1, pos[b], &n1) ||
		    __builtin_add_overflow(n0, neg[b], &n0))
			return fv_diag_set(d, FV_EINVAL, "auc_hist: counts overflow");
	}
	if (n1 == 0 || n0 == 0)
		return fv_diag_set(d, FV_EINVAL,
				   "auc_hist: needs both classes (%llu cases, %llu controls)",
				   (unsigned long long)n1, (unsigned long long)n0);
	for (size_t b = 0; b < nb; b++) {
		below += (unsigned __int128)pos[b] * nbelow;
		tied += (unsigned __int128)pos[b] * neg[b];
		nbelow += neg[b];
	}
	nn = (double)n1 * (double)n0;
	auc->lo = (double)below / nn;
	auc->hi = (double)(below + tied) / nn;
	a = (double)(2 * below + tied) / (2.0 * nn);
	auc->est = a;
	/* DeLong components of the tie-as-half statistic, one value per bin and class. */
	nbelow = 0;
	for (size_t b = 0; b < nb; b++) {
		if (pos[b]) {
			double v = ((double)nbelow + 0.5 * (double)neg[b]) / (double)n0 - a;
			s10 += (double)pos[b] * v * v;
		}
		if (neg[b]) {
			double v =
			    ((double)(n1 - pbelow - pos[b]) + 0.5 * (double)pos[b]) / (double)n1 -
			    a;
			s01 += (double)neg[b] * v * v;
		}
		nbelow += neg[b];
		pbelow += pos[b];
	}
	if (var)
		*var = (n1 < 2 || n0 < 2) ? NAN
					  : s10 / ((double)(n1 - 1) * (double)n1) +
						s01 / ((double)(n0 - 1) * (double)n0);
	return FV_OK;
}
