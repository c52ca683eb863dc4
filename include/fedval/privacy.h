/* fedval: disclosure control at the node (DESIGN.md §9). The policy is the hospital's own,
 * never the coordinator's. Every result leaves through fv_privacy_gate, which re-checks the
 * final encoded bytes. */
#ifndef FEDVAL_PRIVACY_H
#define FEDVAL_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/stats.h"

struct fv_policy {
	uint32_t min_cell;	 /* smallest count released in a cell (default 5); 0 is released */
	uint64_t min_cohort;	 /* smallest cohort evaluated at all */
	size_t max_result_bytes; /* bound on an outgoing result */
};

void fv_policy_default(struct fv_policy *p);

/* True when a count may be released: 0, or at least min_cell. */
static inline int fv_privacy_cell_ok(const struct fv_policy *p, uint64_t count)
{
	return count == 0 || count >= p->min_cell;
}

/* Confusion counts at one threshold are released whole or not at all: if any cell is small
 * the row is withheld, since within a class one cell and n_pos (or n_neg) give the other. */
int fv_privacy_confusion_ok(const struct fv_policy *p, const struct fv_confusion *c);

/* The one outbound gate: decode the final packed SiteResult and refuse it (FV_EREFUSED, the
 * reason in d) unless every count obeys the policy, no field the schema does not know is
 * present, sizes are bounded and a failed result carries no statistics. */
fv_err fv_privacy_gate(const struct fv_policy *p, const uint8_t *result, size_t len,
		       struct fv_diag *d);

#endif
