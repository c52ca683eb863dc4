/* Rank intervals of m estimates from their pairwise comparisons (include/fedval/stats.h). */
#include <math.h>

#include "fedval/stats.h"

fv_err fv_stats_rank_intervals(const double *diff, const double *se, size_t m, double z,
			       size_t *rank_low, size_t *rank_high)
{
	if (!diff || !se || !rank_low || !rank_high || m == 0 || !(z > 0) || !isfinite(z))
		return FV_EINVAL;
	for (size_t k = 0; k < m; k++) {
		size_t better = 0, worse = 0;
		for (size_t o = 0; o < m; o++) {
			double dd = diff[k * m + o], s = se[k * m + o];
			if (o == k || !isfinite(dd) || !(s >= 0) || !isfinite(s))
				continue; /* not comparable: either order is possible */
			if (dd - z * s > 0)
				better++;
			else if (dd + z * s < 0)
				worse++;
		}
		rank_low[k] = 1 + better;
		rank_high[k] = m - worse;
	}
	return FV_OK;
}
