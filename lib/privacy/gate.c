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

/* The bytes must be exactly what protobuf-c packs for the decoded message. Otherwise they hold
 * something the checks below never see: an earlier copy of a field that a later one
 * overrides ("last one wins"), a bool or uint32 varint carrying 64 bits, padded varints. */
static fv_err canonical(const ProtobufCMessage *m, const uint8_t *buf, size_t len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b;
	fv_err e;

	if (n != len)
		return FV_EREFUSED;
	if (!(b = fv_alloc(n)))
		return FV_ENOMEM;
	e = protobuf_c_message_pack(m, b) == n && !memcmp(b, buf, n) ? FV_OK : FV_EREFUSED;
	fv_free(b);
	return e;
}

/* Threshold rows of a (sub)population of n records, n_pos events: whole or withheld. */
static fv_err rows_ok(const struct fv_policy *p, Fedval__ThresholdCounts **rows, size_t nrows,
		      uint64_t n, uint64_t n_pos, const char *who, struct fv_diag *d)
{
	if (nrows > FV_MAX_THRESHOLDS)
		return fv_diag_set(d, FV_EREFUSED, "%s: more than %d thresholds", who,
				   FV_MAX_THRESHOLDS);
	for (size_t i = 0; i < nrows; i++) {
		const Fedval__ThresholdCounts *c = rows[i];
		struct fv_confusion cf = {c->tp, c->fp, c->tn, c->fn};
		if (has_unknown(&c->base))
			return fv_diag_set(d, FV_EREFUSED, "%s: a row carries unknown fields", who);
		if (c->has_suppressed && c->suppressed) {
			if (c->tp || c->fp || c->tn || c->fn)
				return fv_diag_set(d, FV_EREFUSED,
						   "%s: a withheld row holds counts", who);
			continue;
		}
		if (!fv_privacy_confusion_ok(p, &cf))
			return fv_diag_set(d, FV_EREFUSED, "%s: count below %u at threshold %g",
					   who, p->min_cell, c->threshold);
		if (c->tp > n_pos || c->fn != n_pos - c->tp || c->fp > n - n_pos ||
		    c->tn != (n - n_pos) - c->fp)
			return fv_diag_set(d, FV_EREFUSED, "%s: counts at %g do not add up", who,
					   c->threshold);
	}
	return FV_OK;
}

/* Subgroup categories: the same rules as the whole, plus their complements. */
static fv_err subgroups_ok(const struct fv_policy *p, const Fedval__SiteResult *r,
			   struct fv_diag *d)
{
	if (r->n_subgroups > FV_MAX_SUBGROUP_RESULTS)
		return fv_diag_set(d, FV_EREFUSED, "more than %d subgroup categories",
				   FV_MAX_SUBGROUP_RESULTS);
	for (size_t i = 0; i < r->n_subgroups; i++) {
		const Fedval__SubgroupResult *g = r->subgroups[i];
		if (has_unknown(&g->base) || strlen(g->subgroup) > FV_MAX_NAME ||
		    strlen(g->category) > FV_MAX_NAME)
			return fv_diag_set(d, FV_EREFUSED, "subgroup %zu is malformed", i);
		if (g->has_suppressed && g->suppressed) {
			if (g->has_n || g->has_n_pos || g->has_auc || g->has_auc_var ||
			    g->has_brier_sum || g->has_sum_p || g->n_counts)
				return fv_diag_set(d, FV_EREFUSED,
						   "withheld subgroup %s=%s carries numbers",
						   g->subgroup, g->category);
			continue;
		}
		if (!g->has_n || !g->has_n_pos || g->n_pos > g->n || g->n > r->n ||
		    g->n_pos > r->n_pos || g->n - g->n_pos > r->n - r->n_pos)
			return fv_diag_set(d, FV_EREFUSED, "subgroup %s=%s: counts inconsistent",
					   g->subgroup, g->category);
		if (!fv_privacy_cell_ok(p, g->n) || !fv_privacy_cell_ok(p, g->n_pos) ||
		    !fv_privacy_cell_ok(p, g->n - g->n_pos) ||
		    !fv_privacy_cell_ok(p, r->n - g->n) ||
		    !fv_privacy_cell_ok(p, r->n_pos - g->n_pos) ||
		    !fv_privacy_cell_ok(p, (r->n - r->n_pos) - (g->n - g->n_pos)))
			return fv_diag_set(
			    d, FV_EREFUSED,
			    "subgroup %s=%s: it or its complement has a count below %u",
			    g->subgroup, g->category, p->min_cell);
		if ((g->has_auc && !(g->auc >= 0 && g->auc <= 1)) ||
		    (g->has_auc_var && !isfinite(g->auc_var)) ||
		    (g->has_brier_sum && !isfinite(g->brier_sum)) ||
		    (g->has_sum_p && !isfinite(g->sum_p)))
			return fv_diag_set(d, FV_EREFUSED, "subgroup %s=%s: statistic out of range",
					   g->subgroup, g->category);
		fv_err e = rows_ok(p, g->counts, g->n_counts, g->n, g->n_pos, g->subgroup, d);
		if (e != FV_OK)
			return e;
	}
	return FV_OK;
}

/* What both gates check first: bounded size, decodes as desc, no unknown top-level field.
 * FV_OK with *pb set, or FV_EREFUSED with the reason in d (*pb NULL). */
static fv_err open_checked(const struct fv_policy *p, const ProtobufCMessageDescriptor *desc,
			   const char *what, const uint8_t *buf, size_t len, struct fv_pb **pb,
			   struct fv_diag *d)
{
	*pb = NULL;
	if (len > p->max_result_bytes)
		return fv_diag_set(d, FV_EREFUSED, "%s of %zu bytes exceeds the %zu-byte bound",
				   what, len, p->max_result_bytes);
	if (fv_pb_unpack(desc, buf, len, 16 * len + 65536, pb, d) != FV_OK)
		return fv_diag_set(d, FV_EREFUSED, "%s does not decode as a %s", what,
				   desc->short_name);
	if (has_unknown((*pb)->msg)) {
		fv_pb_free(*pb);
		*pb = NULL;
		return fv_diag_set(d, FV_EREFUSED, "%s carries fields outside the schema", what);
	}
	return FV_OK;
}

/* NULL, empty, or a SHA-256 in lowercase hex. */
static bool digest_or_absent(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return true;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

/* Multiclass: every released count under the cell rule, and the withheld classes at least two
 * and together no small cell (the cohort minus the released classes gives their sum). */
static fv_err classes_ok(const struct fv_policy *p, const Fedval__SiteResult *r, struct fv_diag *d)
{
	const Fedval__MulticlassResult *m = r->multiclass;
	uint64_t released = 0, nwithheld = 0;

	if (has_unknown(&m->base) || m->classes < 3 || m->classes > FV_MAX_CLASSES ||
	    m->n_per_class != m->classes ||
	    (m->has_micro_auc && !(m->micro_auc >= 0 && m->micro_auc <= 1)))
		return fv_diag_set(d, FV_EREFUSED,
				   "multiclass: 3 to %d classes, one entry each, micro AUROC in "
				   "[0, 1]",
				   FV_MAX_CLASSES);
	for (size_t k = 0; k < m->n_per_class; k++) {
		const Fedval__ClassResult *c = m->per_class[k];
		uint64_t sum = 0;
		if (has_unknown(&c->base) || c->index != k)
			return fv_diag_set(d, FV_EREFUSED, "multiclass: class %zu is malformed", k);
		if (c->has_suppressed && c->suppressed) {
			if (c->has_n || c->has_auc || c->has_auc_var || c->n_predicted)
				return fv_diag_set(d, FV_EREFUSED,
						   "multiclass: withheld class %zu holds numbers",
						   k);
			nwithheld++;
			continue;
		}
		if (!c->has_n || c->n > r->n - released || !fv_privacy_cell_ok(p, c->n) ||
		    !fv_privacy_cell_ok(p, r->n - c->n))
			return fv_diag_set(d, FV_EREFUSED,
					   "multiclass: class %zu or its complement has a count "
					   "below %u, or the classes exceed the cohort",
					   k, p->min_cell);
		released += c->n;
		if (c->has_auc != c->has_auc_var ||
		    (c->has_auc && (!(c->auc >= 0 && c->auc <= 1) || !isfinite(c->auc_var))))
			return fv_diag_set(d, FV_EREFUSED,
					   "multiclass: class %zu AUROC out of range", k);
		if (c->n_predicted && c->n_predicted != m->classes)
			return fv_diag_set(d, FV_EREFUSED,
					   "multiclass: class %zu confusion row has %zu counts", k,
					   c->n_predicted);
		for (size_t j = 0; j < c->n_predicted; j++) {
			if (!fv_privacy_cell_ok(p, c->predicted[j]) || c->predicted[j] > c->n - sum)
				return fv_diag_set(d, FV_EREFUSED,
						   "multiclass: class %zu confusion row has a "
						   "count below %u or exceeds the class",
						   k, p->min_cell);
			sum += c->predicted[j];
		}
		if (c->n_predicted && sum != c->n)
			return fv_diag_set(d, FV_EREFUSED,
					   "multiclass: class %zu confusion row does not add up",
					   k);
	}
	if (nwithheld == 1 || !fv_privacy_cell_ok(p, r->n - released) ||
	    (nwithheld == 0 && released != r->n))
		return fv_diag_set(d, FV_EREFUSED,
				   "multiclass: the withheld classes could be recovered by "
				   "subtraction");
	return FV_OK;
}

/* A regression, survival or multiclass result (status 0): the task's statistics and nothing of
 * the binary kind. */
static fv_err task_ok(const struct fv_policy *p, const Fedval__SiteResult *r, struct fv_diag *d)
{
	const char *t = r->task;
	bool reg = !strcmp(t, "regression"), surv = !strcmp(t, "survival"),
	     multi = !strcmp(t, "multiclass");

	if (!reg && !surv && !multi)
		return fv_diag_set(d, FV_EREFUSED, "unknown task '%.20s'", t);
	if (r->n_counts || r->has_auc || r->has_auc_var || r->has_brier_sum || r->has_sum_p ||
	    r->n_comparisons || r->n_subgroups || r->n_operating_points ||
	    r->has_site_supplied_predictions || r->has_unmatched_records || r->has_duplicate_keys ||
	    r->has_unused_predictions || r->dp_mechanism || r->has_dp_epsilon || r->has_dp_delta ||
	    !r->regression != !reg || !r->survival != !surv || !r->multiclass != !multi ||
	    r->has_n_pos != surv)
		return fv_diag_set(d, FV_EREFUSED,
				   "a %s result carries another task's statistics or lacks its own",
				   t);
	if (!r->has_n || r->n < p->min_cohort || !fv_privacy_cell_ok(p, r->n))
		return fv_diag_set(d, FV_EREFUSED,
				   "cohort absent or below the minimum cohort size %llu",
				   (unsigned long long)p->min_cohort);
	if (reg) {
		const Fedval__RegressionSums *g = r->regression;
		if (has_unknown(&g->base) || !isfinite(g->mean_y) || !isfinite(g->mean_p) ||
		    !isfinite(g->spy) || !(g->syy >= 0 && isfinite(g->syy)) ||
		    !(g->spp >= 0 && isfinite(g->spp)) || !(g->sae >= 0 && isfinite(g->sae)) ||
		    !(g->sse >= 0 && isfinite(g->sse)))
			return fv_diag_set(d, FV_EREFUSED,
					   "regression sums are negative or not finite");
		return FV_OK;
	}
	if (surv) {
		const Fedval__SurvivalCounts *s = r->survival;
		/* comparable pairs are at most n (n - 1) / 2 */
		uint64_t maxpairs = r->n <= UINT32_MAX ? r->n * (r->n - 1) / 2 : UINT64_MAX;
		if (has_unknown(&s->base) || r->n_pos > r->n || !fv_privacy_cell_ok(p, r->n_pos) ||
		    !fv_privacy_cell_ok(p, r->n - r->n_pos))
			return fv_diag_set(d, FV_EREFUSED,
					   "events or non-events below the minimum cell count %u",
					   p->min_cell);
		if (s->comparable > maxpairs || s->concordant2 / 2 > s->comparable ||
		    (s->concordant2 / 2 == s->comparable && s->concordant2 % 2))
			return fv_diag_set(d, FV_EREFUSED, "survival pair counts do not add up");
		return FV_OK;
	}
	return classes_ok(p, r, d);
}

fv_err fv_privacy_gate(const struct fv_policy *p, const uint8_t *result, size_t len,
		       struct fv_diag *d)
{
	struct fv_pb *pb = NULL;
	Fedval__SiteResult *r;
	fv_err e = FV_EREFUSED;

	if (open_checked(p, &fedval__site_result__descriptor, "result", result, len, &pb, d) !=
	    FV_OK)
		return FV_EREFUSED;
	r = (Fedval__SiteResult *)pb->msg;
	for (size_t i = 0; i < r->n_counts; i++)
		if (has_unknown(&r->counts[i]->base)) {
			fv_diag_set(d, e, "threshold row carries fields outside the schema");
			goto out;
		}
	if ((e = canonical(&r->base, result, len)) != FV_OK) {
		if (e == FV_EREFUSED)
			fv_diag_set(d, e,
				    "result bytes are not the canonical encoding of its fields "
				    "(repeated, padded or oversized fields)");
		else
			fv_diag_set(d, e, "out of memory");
		goto out;
	}
	e = FV_EREFUSED;
	if (r->status > 1) {
		fv_diag_set(d, e, "unknown result status %u", r->status);
		goto out;
	}
	if (r->reason && strlen(r->reason) > FV_MAX_TEXT) {
		fv_diag_set(d, e, "reason longer than %d characters", FV_MAX_TEXT);
		goto out;
	}
	/* Text fields other than the reason are digests or a version: nothing else may ride
	 * in them. */
	if (!digest_or_absent(r->mapping_sha256) || !digest_or_absent(r->dataset_fingerprint) ||
	    !digest_or_absent(r->model_sha256) ||
	    (r->software && strlen(r->software) > FV_MAX_NAME)) {
		fv_diag_set(d, e,
			    "a digest field is not 64 lowercase hex digits, or the software "
			    "string is longer than %d characters",
			    FV_MAX_NAME);
		goto out;
	}
	if (r->task && strcmp(r->task, "regression") && strcmp(r->task, "survival") &&
	    strcmp(r->task, "multiclass")) {
		fv_diag_set(d, e, "unknown task '%.20s'", r->task);
		goto out;
	}
	if (r->status != 0) {
		/* A failure says why, and nothing else about the data. */
		if (r->has_n || r->has_n_pos || r->n_counts || r->has_auc || r->has_auc_var ||
		    r->has_brier_sum || r->has_sum_p || r->n_comparisons || r->n_subgroups ||
		    r->has_unmatched_records || r->has_duplicate_keys ||
		    r->has_unused_predictions || r->has_site_supplied_predictions ||
		    r->n_operating_points || r->regression || r->survival || r->multiclass) {
			fv_diag_set(d, e, "a failed result may not carry statistics");
			goto out;
		}
		e = FV_OK;
		goto out;
	}
	if (r->task) {
		e = task_ok(p, r, d);
		goto out;
	}
	if (r->regression || r->survival || r->multiclass) {
		fv_diag_set(d, e, "a binary result carries another task's statistics");
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
		/* Compared without adding: uint64 sums wrap, and huge wrapping counts would carry
		 * arbitrary data. */
		if (c->tp > r->n_pos || c->fn != r->n_pos - c->tp || c->fp > r->n - r->n_pos ||
		    c->tn != r->n - r->n_pos - c->fp) {
			fv_diag_set(d, e, "counts at threshold %g do not add up to the cohort",
				    c->threshold);
			goto out;
		}
	}
	/* Operating points: a target and one threshold row each, under the same rules. */
	if (r->n_operating_points > FV_MAX_OPERATING_POINTS) {
		fv_diag_set(d, e, "more than %d operating points", FV_MAX_OPERATING_POINTS);
		goto out;
	}
	for (size_t i = 0; i < r->n_operating_points; i++) {
		const Fedval__OperatingPoint *op = r->operating_points[i];
		const char *t = op->target;
		bool declared = !strcmp(t, "declared");
		if (has_unknown(&op->base) || !op->counts ||
		    (!declared && strcmp(t, "sensitivity") && strcmp(t, "specificity") &&
		     strcmp(t, "positive_rate")) ||
		    declared == op->has_value ||
		    (op->has_value && !(op->value > 0 && op->value < 1)) ||
		    !isfinite(op->counts->threshold)) {
			fv_diag_set(d, e,
				    "operating point %zu: malformed target, value or threshold", i);
			goto out;
		}
		Fedval__ThresholdCounts *row = op->counts;
		if (rows_ok(p, &row, 1, r->n, r->n_pos, "operating point", d) != FV_OK)
			goto out;
	}
	if ((r->has_auc && !(r->auc >= 0 && r->auc <= 1)) ||
	    (r->has_auc_var && !isfinite(r->auc_var)) ||
	    (r->has_brier_sum && !isfinite(r->brier_sum)) ||
	    (r->has_sum_p && !isfinite(r->sum_p))) {
		fv_diag_set(d, e, "a statistic is out of range or not finite");
		goto out;
	}
	if ((r->has_unmatched_records && !fv_privacy_cell_ok(p, r->unmatched_records)) ||
	    (r->has_duplicate_keys && !fv_privacy_cell_ok(p, r->duplicate_keys)) ||
	    (r->has_unused_predictions && !fv_privacy_cell_ok(p, r->unused_predictions))) {
		fv_diag_set(d, e, "unmatched, duplicate or unused key count below %u", p->min_cell);
		goto out;
	}
	if ((e = subgroups_ok(p, r, d)) != FV_OK)
		goto out;
	e = FV_EREFUSED;
	/* Head-to-head: per compared model an AUROC, DeLong (co)variances and two sums — the
	 * same kinds of aggregate as the result's own, under the same bounds. */
	if (r->n_comparisons > FV_MAX_COMPARE) {
		fv_diag_set(d, e, "more than %d compared models", FV_MAX_COMPARE);
		goto out;
	}
	for (size_t i = 0; i < r->n_comparisons; i++) {
		const Fedval__ModelComparison *c = r->comparisons[i];
		if (has_unknown(&c->base) || !(c->auc >= 0 && c->auc <= 1) ||
		    !isfinite(c->auc_var) || !isfinite(c->cov_with_primary) ||
		    (c->has_brier_sum && !isfinite(c->brier_sum)) ||
		    (c->has_sum_p && !isfinite(c->sum_p)) ||
		    strlen(c->model_version_id) > FV_MAX_ID) {
			fv_diag_set(d, e,
				    "comparison %zu is out of range or carries unknown fields", i);
			goto out;
		}
	}
	e = FV_OK;
out:
	fv_pb_free(pb);
	return e;
}

fv_err fv_privacy_gate_round(const struct fv_policy *p, const uint8_t *msg, size_t len,
			     struct fv_diag *d)
{
	struct fv_pb *pb = NULL;
	Fedval__RoundResult *r;
	fv_err e = FV_EREFUSED;

	if (open_checked(p, &fedval__round_result__descriptor, "round result", msg, len, &pb, d) !=
	    FV_OK)
		return FV_EREFUSED;
	r = (Fedval__RoundResult *)pb->msg;
	if ((e = canonical(&r->base, msg, len)) != FV_OK) {
		fv_diag_set(d, e == FV_EREFUSED ? e : FV_ENOMEM,
			    "round result bytes are not the canonical encoding of its fields");
		e = FV_EREFUSED;
		goto out;
	}
	e = FV_EREFUSED;
	if (strlen(r->job_id) > FV_MAX_ID || (r->reason && strlen(r->reason) > FV_MAX_TEXT) ||
	    (r->has_status && r->status > 1)) {
		fv_diag_set(d, e, "round result: malformed job id, reason or status");
		goto out;
	}
	if (r->has_status && r->status == 1) {
		if (r->has_n || r->n_g || r->n_h || r->has_ll)
			fv_diag_set(d, e, "a failed round may not carry sums");
		else
			e = FV_OK;
		goto out;
	}
	/* A round's sums: gradient and Hessian of a model with at most FV_NEWTON_MAXK
	 * coefficients, over a cohort of at least the minimum size. Anything longer would be
	 * per-record values. */
	if (!r->has_n || r->n < p->min_cohort || !r->has_ll || !isfinite(r->ll)) {
		fv_diag_set(d, e, "round result: cohort below %llu or no log-likelihood",
			    (unsigned long long)p->min_cohort);
		goto out;
	}
	if (r->n_g == 0 || r->n_g > FV_NEWTON_MAXK || r->n_h != r->n_g * r->n_g) {
		fv_diag_set(d, e, "round result: %zu gradient and %zu Hessian terms", r->n_g,
			    r->n_h);
		goto out;
	}
	for (size_t i = 0; i < r->n_g; i++)
		if (!isfinite(r->g[i]))
			goto nonfinite;
	for (size_t i = 0; i < r->n_h; i++)
		if (!isfinite(r->h[i]))
			goto nonfinite;
	e = FV_OK;
	goto out;
nonfinite:
	fv_diag_set(d, e, "round result: a non-finite sum");
out:
	fv_pb_free(pb);
	return e;
}

int fv_privacy_is_policy_key(const char *key)
{
	static const char *const keys[] = {"policy",
					   "min_cell",
					   "min_cell_count",
					   "min_cohort_size",
					   "min_subgroup_size",
					   "rounding_base",
					   "approval",
					   "allowed_benchmarks",
					   "allowed_vendors",
					   "require_legal_basis",
					   "budget_results",
					   "budget_period_days",
					   "dp_mechanism",
					   "dp_epsilon",
					   "dp_delta",
					   "dp_budget_epsilon",
					   "coordinator_key",
					   "small_cells"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}
