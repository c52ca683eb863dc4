#include "fedval/limits.h"
#include "fedval/privacy.h"
#include "fedval/util.h"
#include "fedval/wire.h"

#include <math.h>
#include <string.h>

void fv_policy_default(struct fv_policy *p)
{
	p->min_cell = 5;
	p->min_cohort = 50;
	p->max_result_bytes = 64 * 1024;
}

int fv_privacy_confusion_ok(const struct fv_policy *p, const struct fv_confusion *c)
{
	return fv_privacy_cell_ok(p, c->tp) && fv_privacy_cell_ok(p, c->fp) &&
	       fv_privacy_cell_ok(p, c->tn) && fv_privacy_cell_ok(p, c->fn);
}

/* Unknown fields could smuggle anything past the checks below. */
static int has_unknown(const ProtobufCMessage *m)
{
	return m->n_unknown_fields != 0;
}

fv_err fv_privacy_gate(const struct fv_policy *p, const uint8_t *result, size_t len,
		       struct fv_diag *d)
{
	struct fv_pb *pb = NULL;
	Fedval__SiteResult *r;
	fv_err e = FV_EREFUSED;

	if (len > p->max_result_bytes)
		return fv_diag_set(d, FV_EREFUSED, "result of %zu bytes exceeds the %zu-byte bound",
				   len, p->max_result_bytes);
	if (fv_pb_unpack(&fedval__site_result__descriptor, result, len, 16 * len + 65536, &pb, d) !=
	    FV_OK)
		return fv_diag_set(d, FV_EREFUSED, "result does not decode as a SiteResult");
	r = (Fedval__SiteResult *)pb->msg;
	if (has_unknown(&r->base)) {
		fv_diag_set(d, e, "result carries fields outside the schema");
		goto out;
	}
	if (r->reason && strlen(r->reason) > FV_MAX_TEXT) {
		fv_diag_set(d, e, "reason longer than %d characters", FV_MAX_TEXT);
		goto out;
	}
	if (r->status != 0) {
		/* A failure says why, and nothing else about the data. */
		if (r->has_n || r->has_n_pos || r->n_counts || r->has_auc || r->has_auc_var ||
		    r->has_brier_sum || r->has_sum_p) {
			fv_diag_set(d, e, "a failed result may not carry statistics");
			goto out;
		}
		e = FV_OK;
		goto out;
	}
	if (!r->has_n || !r->has_n_pos || r->n_pos > r->n) {
		fv_diag_set(d, e, "result lacks n / n_pos or n_pos > n");
		goto out;
	}
	if (r->n < p->min_cohort) {
		fv_diag_set(d, e, "cohort of %llu is below the minimum cohort size %llu",
			    (unsigned long long)r->n, (unsigned long long)p->min_cohort);
		goto out;
	}
	if (!fv_privacy_cell_ok(p, r->n_pos) || !fv_privacy_cell_ok(p, r->n - r->n_pos)) {
		fv_diag_set(d, e, "positives or negatives below the minimum cell count %u",
			    p->min_cell);
		goto out;
	}
	if (r->n_counts > FV_MAX_THRESHOLDS) {
		fv_diag_set(d, e, "more than %d thresholds", FV_MAX_THRESHOLDS);
		goto out;
	}
	for (size_t i = 0; i < r->n_counts; i++) {
		const Fedval__ThresholdCounts *c = r->counts[i];
		struct fv_confusion cf = {c->tp, c->fp, c->tn, c->fn};
		if (has_unknown(&c->base)) {
			fv_diag_set(d, e, "threshold row carries fields outside the schema");
			goto out;
		}
		if (c->has_suppressed && c->suppressed) {
			if (c->tp || c->fp || c->tn || c->fn) {
				fv_diag_set(d, e,
					    "suppressed row at threshold %g still holds counts",
					    c->threshold);
				goto out;
			}
			continue;
		}
		if (!fv_privacy_confusion_ok(p, &cf)) {
			fv_diag_set(d, e, "count below %u at threshold %g", p->min_cell,
				    c->threshold);
			goto out;
		}
		if (c->tp + c->fn != r->n_pos || c->fp + c->tn != r->n - r->n_pos) {
			fv_diag_set(d, e, "counts at threshold %g do not add up to the cohort",
				    c->threshold);
			goto out;
		}
	}
	if ((r->has_auc && !(r->auc >= 0 && r->auc <= 1)) ||
	    (r->has_auc_var && !isfinite(r->auc_var)) ||
	    (r->has_brier_sum && !isfinite(r->brier_sum)) ||
	    (r->has_sum_p && !isfinite(r->sum_p))) {
		fv_diag_set(d, e, "a statistic is out of range or not finite");
		goto out;
	}
	e = FV_OK;
out:
	fv_pb_free(pb);
	return e;
}
