/* fedval results: fetch a run's results, verify every site's signature and certificate
 * offline against the federation CA, print per-site and pooled metrics, write a JSON report.
 *
 * Pooled confusion metrics are exact: counts are sums over sites (DESIGN.md §8). A threshold
 * row a site suppressed is left out of that threshold's pool, and the report says how many
 * sites each pooled row covers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

static const char results_usage[] =
    "usage: fedval results --config FILE RUN_ID [--json FILE]\n"
    "\n"
    "Verify and print a run's results: per site n, prevalence, AUROC with its DeLong 95% CI,\n"
    "Brier score, observed/expected ratio and, at each benchmark threshold, confusion counts\n"
    "with sensitivity, specificity, PPV and NPV (Wilson 95% CIs); then the pooled values.\n"
    "Every site's signature is checked against its certificate and the federation CA.\n"
    "\n"
    "  --config FILE   client profile (default $FEDVAL_CONFIG)\n"
    "  --json FILE     also write the report as JSON (schema fedval.report/1; '-' = stdout)\n";

#define Z95 0.95

struct site {
	const Fedval__StoredResult *stored; /* the exact signed bytes and certificate */
	const char *node;
	bool verified;
	char why[256];
	char result_sha[FV_SHA256_HEX];
	char sig_hex[2 * FV_SIG_MAX + 1];
	char cert_fp[FV_SHA256_HEX];
	struct fv_pb *pb;
	Fedval__SiteResult *r;
};

static json_t *prop(uint64_t x, uint64_t n)
{
	double lo, hi;
	if (n == 0)
		return json_null();
	fv_stats_wilson(x, n, Z95, &lo, &hi);
	return json_pack("{s:f,s:f,s:f,s:I,s:I}", "estimate", (double)x / (double)n, "ci_low", lo,
			 "ci_high", hi, "x", (json_int_t)x, "n", (json_int_t)n);
}

static json_t *counts_json(double thr, uint64_t tp, uint64_t fp, uint64_t tn, uint64_t fn)
{
	return json_pack("{s:f,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "threshold", thr, "tp",
			 (json_int_t)tp, "fp", (json_int_t)fp, "tn", (json_int_t)tn, "fn",
			 (json_int_t)fn, "sensitivity", prop(tp, tp + fn), "specificity",
			 prop(tn, tn + fp), "ppv", prop(tp, tp + fp), "npv", prop(tn, tn + fn),
			 "accuracy", prop(tp + tn, tp + fp + tn + fn));
}

static void fmt_prop(char *buf, size_t cap, uint64_t x, uint64_t n)
{
	double lo, hi;
	if (n == 0) {
		fv_strlcpy(buf, "-", cap);
		return;
	}
	fv_stats_wilson(x, n, Z95, &lo, &hi);
	fv_fmt(buf, cap, "%.3f (%.3f-%.3f)", (double)x / (double)n, lo, hi);
}

static void print_counts_row(const char *who, double thr, uint64_t tp, uint64_t fp, uint64_t tn,
			     uint64_t fn)
{
	char se[40], sp[40], ppv[40], npv[40];
	fmt_prop(se, sizeof(se), tp, tp + fn);
	fmt_prop(sp, sizeof(sp), tn, tn + fp);
	fmt_prop(ppv, sizeof(ppv), tp, tp + fp);
	fmt_prop(npv, sizeof(npv), tn, tn + fn);
	printf("  %-20s %5.2f %8llu %8llu %8llu %8llu  %-20s %-20s %-20s %-20s\n", who, thr,
	       (unsigned long long)tp, (unsigned long long)fp, (unsigned long long)tn,
	       (unsigned long long)fn, se, sp, ppv, npv);
}

/* Check one stored result: certificate of the federation CA with role node and the
 * submitter's name; signature over the exact result bytes; result for this run. */
static void verify_site(const char *ca, size_t ca_len, const Fedval__StoredResult *sr,
			const Fedval__RunInfo *run, struct site *s)
{
	struct fv_cert_info info;
	struct fv_diag d = {{0}};

	s->stored = sr;
	s->node = sr->node;
	fv_sha256_hex(sr->result.data, sr->result.len, s->result_sha);
	if (sr->signature.len <= FV_SIG_MAX)
		fv_hex(sr->signature.data, sr->signature.len, s->sig_hex);
	if (fv_cert_verify(ca, ca_len, sr->node_cert_pem, strlen(sr->node_cert_pem), &info, &d) !=
	    FV_OK) {
		fv_fmt(s->why, sizeof(s->why), "certificate: %s", d.msg);
		return;
	}
	fv_strlcpy(s->cert_fp, info.fingerprint, sizeof(s->cert_fp));
	if (info.role != FV_ROLE_NODE || strcmp(info.name, sr->node) != 0) {
		fv_fmt(s->why, sizeof(s->why), "certificate is not node '%s''s", sr->node);
		return;
	}
	if (fv_verify(info.pub, info.pub_len, sr->result.data, sr->result.len, sr->signature.data,
		      sr->signature.len) != FV_OK) {
		fv_strlcpy(s->why, "signature does not verify", sizeof(s->why));
		return;
	}
	if (fv_pb_unpack(&fedval__site_result__descriptor, sr->result.data, sr->result.len,
			 FV_MAX_UNPACK_ALLOC, &s->pb, &d) != FV_OK) {
		fv_fmt(s->why, sizeof(s->why), "result does not decode: %s", d.msg);
		return;
	}
	s->r = (Fedval__SiteResult *)s->pb->msg;
	if (strcmp(s->r->run_id, run->run_id) != 0 || strcmp(s->r->node, sr->node) != 0 ||
	    strcmp(s->r->model_version_id, run->model_version_id) != 0) {
		fv_strlcpy(s->why, "result is for another run, node or model", sizeof(s->why));
		return;
	}
	s->verified = true;
}

static json_t *site_json(const struct site *s)
{
	const Fedval__SiteResult *r = s->r;
	json_t *j = json_pack("{s:s,s:b,s:s,s:s,s:s}", "node", s->node, "verified", s->verified,
			      "result_sha256", s->result_sha, "signature", s->sig_hex,
			      "cert_fingerprint", s->cert_fp);
	/* The evidence, so that `fedval verify` can check the report offline, years later. */
	if (s->stored) {
		char *hex = fv_alloc(2 * s->stored->result.len + 1);
		if (hex) {
			fv_hex(s->stored->result.data, s->stored->result.len, hex);
			json_object_set_new(j, "result_hex", json_string(hex));
			fv_free(hex);
		}
		json_object_set_new(j, "node_cert_pem", json_string(s->stored->node_cert_pem));
	}
	if (!s->verified) {
		json_object_set_new(j, "error", json_string(s->why));
		return j;
	}
	json_object_set_new(j, "status", json_string(r->status ? "failed" : "ok"));
	if (r->status) {
		json_object_set_new(j, "reason", json_string(r->reason ? r->reason : ""));
		return j;
	}
	json_object_set_new(j, "n", json_integer((json_int_t)r->n));
	json_object_set_new(j, "n_pos", json_integer((json_int_t)r->n_pos));
	json_object_set_new(j, "prevalence", prop(r->n_pos, r->n));
	if (r->has_auc) {
		double lo, hi;
		fv_stats_auc_ci(r->auc, r->auc_var, Z95, &lo, &hi);
		json_object_set_new(j, "auroc",
				    json_pack("{s:f,s:f,s:f,s:f,s:s}", "estimate", r->auc,
					      "delong_variance", r->auc_var, "ci_low", lo,
					      "ci_high", hi, "method", "DeLong"));
	} else {
		/* Never a NaN in a report: the reason it is absent. */
		json_object_set_new(j, "auroc_not_estimable",
				    json_string(r->dp_mechanism ? "not released under the site's "
								  "differential-privacy policy"
						: r->n_pos == 0 ? "no events at this site"
						: r->n_pos == r->n
						    ? "no non-events at this site"
						    : "DeLong variance not defined"));
	}
	json_object_set_new(j, "brier", json_real(r->brier_sum / (double)r->n));
	json_object_set_new(j, "expected_events", json_real(r->sum_p));
	json_object_set_new(j, "observed_expected", json_real((double)r->n_pos / r->sum_p));
	json_object_set_new(j, "min_cell", json_integer(r->min_cell));
	if (r->has_site_supplied_predictions && r->site_supplied_predictions) {
		json_object_set_new(j, "site_supplied_predictions", json_true());
		if (r->has_unmatched_records)
			json_object_set_new(j, "unmatched_records",
					    json_integer((json_int_t)r->unmatched_records));
		if (r->has_duplicate_keys)
			json_object_set_new(j, "duplicate_keys",
					    json_integer((json_int_t)r->duplicate_keys));
		if (r->has_unused_predictions)
			json_object_set_new(j, "unused_predictions",
					    json_integer((json_int_t)r->unused_predictions));
	}
	if (r->dp_mechanism) {
		json_t *dp = json_pack("{s:s,s:f}", "mechanism", r->dp_mechanism, "epsilon",
				       r->has_dp_epsilon ? r->dp_epsilon : 0.0);
		if (r->has_dp_delta)
			json_object_set_new(dp, "delta", json_real(r->dp_delta));
		json_object_set_new(j, "differential_privacy", dp);
	}
	json_object_set_new(j, "software", json_string(r->software ? r->software : ""));
	json_t *rows = json_array();
	for (size_t t = 0; t < r->n_counts; t++) {
		const Fedval__ThresholdCounts *c = r->counts[t];
		if (c->has_suppressed && c->suppressed)
			json_array_append_new(rows, json_pack("{s:f,s:b}", "threshold",
							      c->threshold, "suppressed", 1));
		else
			json_array_append_new(
			    rows, counts_json(c->threshold, c->tp, c->fp, c->tn, c->fn));
	}
	json_object_set_new(j, "thresholds", rows);
	/* The site's case mix per benchmark subgroup (input-drift monitoring, the population
	 * beside the benchmark's): released categories with counts, withheld ones marked. */
	json_t *mix = json_array();
	for (size_t g = 0; g < r->n_subgroups; g++) {
		const Fedval__SubgroupResult *sg = r->subgroups[g];
		if (sg->has_suppressed && sg->suppressed)
			json_array_append_new(mix,
					      json_pack("{s:s,s:s,s:b}", "subgroup", sg->subgroup,
							"category", sg->category, "suppressed", 1));
		else
			json_array_append_new(mix, json_pack("{s:s,s:s,s:I,s:I}", "subgroup",
							     sg->subgroup, "category", sg->category,
							     "n", (json_int_t)sg->n, "n_pos",
							     (json_int_t)sg->n_pos));
	}
	json_object_set_new(j, "subgroups", mix);
	/* Operating points: the site's threshold for each of the benchmark's targets, and the
	 * vendor's declared threshold, with the confusion there. */
	json_t *ops = json_array();
	for (size_t k = 0; k < r->n_operating_points; k++) {
		const Fedval__OperatingPoint *op = r->operating_points[k];
		const Fedval__ThresholdCounts *c = op->counts;
		json_t *oj =
		    c->has_suppressed && c->suppressed
			? json_pack("{s:f,s:b}", "threshold", c->threshold, "suppressed", 1)
			: counts_json(c->threshold, c->tp, c->fp, c->tn, c->fn);
		json_object_set_new(oj, "target", json_string(op->target));
		if (op->has_value)
			json_object_set_new(oj, "value", json_real(op->value));
		json_array_append_new(ops, oj);
	}
	json_object_set_new(j, "operating_points", ops);
	return j;
}

/* Each site's operating points: the threshold its own scores give for each target of the
 * benchmark, beside the vendor's declared threshold. */
static void print_operating_points(const struct site *sites, size_t n)
{
	bool header = false;
	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || r->status)
			continue;
		for (size_t k = 0; k < r->n_operating_points; k++) {
			const Fedval__OperatingPoint *op = r->operating_points[k];
			const Fedval__ThresholdCounts *c = op->counts;
			char who[64];
			if (!header) {
				printf("\noperating points per site (threshold on a 0.01 grid "
				       "reaching "
				       "the target; declared = the vendor's):\n  %-20s %5s %8s %8s "
				       "%8s %8s  %-20s %-20s %-20s %-20s\n",
				       "site: target", "thr", "TP", "FP", "TN", "FN", "sensitivity",
				       "specificity", "PPV", "NPV");
				header = true;
			}
			if (op->has_value)
				fv_fmt(who, sizeof(who), "%.12s %s>=%.2f", sites[i].node,
				       !strcmp(op->target, "positive_rate") ? "rate"
				       : !strcmp(op->target, "sensitivity") ? "sens"
									    : "spec",
				       op->value);
			else
				fv_fmt(who, sizeof(who), "%.12s declared", sites[i].node);
			if (c->has_suppressed && c->suppressed)
				printf("  %-20s %5.2f  (withheld by the site)\n", who,
				       c->threshold);
			else
				print_counts_row(who, c->threshold, c->tp, c->fp, c->tn, c->fn);
		}
	}
}

static void print_sites(struct site *sites, size_t n)
{
	printf("\n%-20s %9s %8s %7s  %-21s %7s %6s  %s\n", "site", "n", "events", "prev",
	       "AUROC (95% CI)", "Brier", "O/E", "status");
	for (size_t i = 0; i < n; i++) {
		const struct site *s = &sites[i];
		const Fedval__SiteResult *r = s->r;
		char auc[40] = "-";
		if (!s->verified) {
			printf("%-20s %s\n", s->node, s->why);
			continue;
		}
		if (r->status) {
			printf("%-20s %9s %8s %7s  %-21s %7s %6s  failed: %s\n", s->node, "-", "-",
			       "-", "-", "-", "-", r->reason ? r->reason : "");
			continue;
		}
		if (r->has_auc) {
			double lo, hi;
			fv_stats_auc_ci(r->auc, r->auc_var, Z95, &lo, &hi);
			fv_fmt(auc, sizeof(auc), "%.3f (%.3f-%.3f)", r->auc, lo, hi);
		}
		if (r->dp_mechanism)
			fv_fmt(auc, sizeof(auc), "- (dp %s eps %g)", r->dp_mechanism,
			       r->dp_epsilon);
		printf("%-20s %9llu %8llu %6.1f%%  %-21s %7.4f %6.3f  ok, signature verified%s\n",
		       s->node, (unsigned long long)r->n, (unsigned long long)r->n_pos,
		       100.0 * (double)r->n_pos / (double)r->n, auc, r->brier_sum / (double)r->n,
		       (double)r->n_pos / r->sum_p,
		       r->has_site_supplied_predictions && r->site_supplied_predictions
			   ? " (site-supplied predictions)"
			   : "");
	}
}

/* Random-effects meta-analysis (REML, Hartung-Knapp) of per-site estimates on a transformed
 * scale: logit AUROC with its delta-method DeLong variance, and log O/E with variance 1/O
 * (Debray et al., BMJ 2017;356:i6460). Back-transformed for display. */
static void meta(struct site *sites, size_t n, json_t *pooled, bool print)
{
	double ya[64], va[64], yo[64], vo[64];
	size_t ka = 0, ko = 0;

	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || r->status)
			continue;
		if (r->has_auc && r->auc > 0 && r->auc < 1 && r->auc_var > 0 && ka < 64) {
			fv_stats_logit_delta(r->auc, r->auc_var, &ya[ka], &va[ka]);
			ka++;
		}
		if (r->n_pos > 0 && r->sum_p > 0 && ko < 64) {
			yo[ko] = log((double)r->n_pos / r->sum_p);
			vo[ko++] = 1.0 / (double)r->n_pos;
		}
	}
	if (print && (ka >= 2 || ko >= 2))
		printf("\nmeta-analysis across sites:\n");
	json_object_set_new(pooled, "auroc_random_effects",
			    cli_meta_json(ya, va, ka, true, "AUROC", print));
	json_object_set_new(pooled, "oe_random_effects",
			    cli_meta_json(yo, vo, ko, false, "observed/expected", print));
}

/* Pool the verified, successful sites. */
static json_t *pool(struct site *sites, size_t n, const json_t *thresholds, bool print)
{
	uint64_t tot = 0, pos = 0;
	double brier = 0, sum_p = 0, w = 0, wauc = 0;
	size_t k = 0, nthr = json_array_size(thresholds);
	json_t *j = json_object(), *rows = json_array();

	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || r->status)
			continue;
		k++;
		tot += r->n;
		pos += r->n_pos;
		brier += r->brier_sum;
		sum_p += r->sum_p;
		if (r->has_auc && r->auc_var > 0) {
			w += 1.0 / r->auc_var;
			wauc += r->auc / r->auc_var;
		}
	}
	json_object_set_new(j, "sites", json_integer((json_int_t)k));
	if (k == 0 || tot == 0) {
		json_decref(rows);
		if (print)
			printf("\npooled: no successful site results\n");
		return j;
	}
	json_object_set_new(j, "n", json_integer((json_int_t)tot));
	json_object_set_new(j, "n_pos", json_integer((json_int_t)pos));
	json_object_set_new(j, "prevalence", prop(pos, tot));
	json_object_set_new(j, "brier", json_real(brier / (double)tot));
	json_object_set_new(j, "observed_expected", json_real((double)pos / sum_p));
	if (w > 0) {
		double est = wauc / w, se = sqrt(1.0 / w), z = fv_stats_qnorm(0.975);
		json_object_set_new(
		    j, "auroc_fixed_effect",
		    json_pack("{s:f,s:f,s:f,s:s}", "estimate", est, "ci_low", est - z * se,
			      "ci_high", est + z * se, "method",
			      "inverse-variance fixed-effect average of site AUROCs "
			      "(not the AUROC of the pooled records)"));
		if (print)
			printf(
			    "\npooled (%zu sites): n %llu, events %llu (%.1f%%), Brier %.4f, O/E "
			    "%.3f, AUROC fixed-effect %.3f (%.3f-%.3f)\n",
			    k, (unsigned long long)tot, (unsigned long long)pos,
			    100.0 * (double)pos / (double)tot, brier / (double)tot,
			    (double)pos / sum_p, est, est - z * se, est + z * se);
	}
	if (print)
		printf("\n  %-20s %5s %8s %8s %8s %8s  %-20s %-20s %-20s %-20s\n", "site", "thr",
		       "TP", "FP", "TN", "FN", "sensitivity", "specificity", "PPV", "NPV");
	for (size_t t = 0; t < nthr; t++) {
		double thr = json_number_value(json_array_get(thresholds, t));
		uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
		size_t used = 0;
		for (size_t i = 0; i < n; i++) {
			const Fedval__SiteResult *r = sites[i].r;
			if (!sites[i].verified || r->status || t >= r->n_counts)
				continue;
			const Fedval__ThresholdCounts *c = r->counts[t];
			if (c->has_suppressed && c->suppressed) {
				if (print)
					printf("  %-20s %5.2f %s\n", sites[i].node, thr,
					       "suppressed by the site (small cell)");
				continue;
			}
			if (print)
				print_counts_row(sites[i].node, thr, c->tp, c->fp, c->tn, c->fn);
			tp += c->tp;
			fp += c->fp;
			tn += c->tn;
			fn += c->fn;
			used++;
		}
		json_t *row = counts_json(thr, tp, fp, tn, fn);
		json_object_set_new(row, "sites", json_integer((json_int_t)used));
		json_array_append_new(rows, row);
		if (print) {
			char who[32];
			fv_fmt(who, sizeof(who), "POOLED (%zu)", used);
			print_counts_row(who, thr, tp, fp, tn, fn);
			putchar('\n');
		}
	}
	json_object_set_new(j, "thresholds", rows);
	meta(sites, n, j, print);
	return j;
}

/* Claims vs measured (issue 8): the manifest's claimed AUROC against each site's and the
 * pooled 95% interval. A claim outside an interval is flagged; inside is "consistent". */
/* One claim against one measured value with its interval. */
static void claim_row(json_t *out, const char *metric, const char *where, double c, const json_t *m,
		      bool print)
{
	double est = json_number_value(json_object_get(m, "estimate"));
	double lo = json_number_value(json_object_get(m, "ci_low"));
	double hi = json_number_value(json_object_get(m, "ci_high"));
	const char *v = c > hi	 ? "claim above the interval"
			: c < lo ? "claim below the interval"
				 : "consistent";
	json_array_append_new(out, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:s}", "metric", metric,
					     "where", where, "claimed", c, "measured", est,
					     "ci_low", lo, "ci_high", hi, "verdict", v));
	if (print)
		printf("  %-16s %-24s claimed %.3f, measured %.3f (%.3f-%.3f)  %s\n", metric, where,
		       c, est, lo, hi, v);
}

/* The threshold row of a site or of the pooled block at threshold t (NULL if withheld or
 * absent). */
static const json_t *row_at(const json_t *holder, double t)
{
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(holder, "thresholds"), i, row)
	{
		if (fabs(json_number_value(json_object_get(row, "threshold")) - t) < 1e-12 &&
		    !json_is_true(json_object_get(row, "suppressed")))
			return row;
	}
	return NULL;
}

/* Claims vs measured (issue 8 item 3): the manifest's claimed_performance, each claim against
 * every site's and the pooled value with its interval. Claims: "auroc": number;
 * "sensitivity" / "specificity": {"threshold": t, "value": v} at one of the benchmark's
 * thresholds. */
static json_t *claims(const json_t *manifest, const json_t *report, bool print)
{
	json_t *cp = json_object_get(manifest, "claimed_performance"), *out = json_array(), *s;
	json_t *claim = json_object_get(cp, "auroc");
	const json_t *pooled = json_object_get(report, "pooled");
	size_t i;

	if (print && json_is_object(cp) && json_object_size(cp))
		printf("\nclaimed vs measured (95%% intervals):\n");
	if (json_is_number(claim)) {
		double c = json_number_value(claim);
		json_array_foreach(json_object_get(report, "sites"), i, s)
		{
			const json_t *a = json_object_get(s, "auroc");
			if (a)
				claim_row(out, "auroc",
					  json_string_value(json_object_get(s, "node")), c, a,
					  print);
		}
		const json_t *re = json_object_get(pooled, "auroc_random_effects");
		if (json_is_object(re))
			claim_row(out, "auroc", "pooled (random effects)", c, re, print);
	}
	const char *const props[] = {"sensitivity", "specificity"};
	for (size_t k = 0; k < 2; k++) {
		const json_t *cl = json_object_get(cp, props[k]);
		double t = json_number_value(json_object_get(cl, "threshold"));
		double c = json_number_value(json_object_get(cl, "value"));
		char metric[48];
		const json_t *row;
		if (!json_is_object(cl) || !json_is_number(json_object_get(cl, "value")))
			continue;
		fv_fmt(metric, sizeof(metric), "%s@%g", props[k], t);
		json_array_foreach(json_object_get(report, "sites"), i, s)
		{
			if ((row = row_at(s, t)))
				claim_row(out, metric,
					  json_string_value(json_object_get(s, "node")), c,
					  json_object_get(row, props[k]), print);
		}
		if ((row = row_at(pooled, t)))
			claim_row(out, metric, "pooled (sum of counts)", c,
				  json_object_get(row, props[k]), print);
	}
	return out;
}

/* A number that can be computed goes into the report; one that cannot is absent, never NaN
 * (which jansson refuses, dropping the whole object). */
static void set_finite(json_t *o, const char *key, double v)
{
	if (isfinite(v))
		json_object_set_new(o, key, json_real(v));
}

/* Head-to-head (issue 8): models evaluated on the same records at each site. Per site the
 * paired DeLong difference (B - A, variance var_a + var_b - 2 cov_ab); pooled by a random-
 * effects meta-analysis of the site differences; a leaderboard of pooled AUROCs (random
 * effects on the logit scale) with rank intervals from the pairwise comparisons
 * (fv_stats_rank_intervals). Pairs not involving the run's first model are compared unpaired
 * (variances added), which is conservative. */
static json_t *head_to_head(const Fedval__ResultsReply *rr, struct site *sites, size_t n,
			    bool print)
{
	size_t nm = 1 + rr->n_compare_models;
	const Fedval__ModelRef *refs[1 + FV_MAX_COMPARE];
	double est[1 + FV_MAX_COMPARE], lo[1 + FV_MAX_COMPARE], hi[1 + FV_MAX_COMPARE];
	double se[1 + FV_MAX_COMPARE];
	json_t *j, *models, *pairs, *board;
	double z = fv_stats_qnorm(0.975);

	if (rr->n_compare_models == 0 || rr->n_compare_models > FV_MAX_COMPARE)
		return json_null();
	j = json_object();
	models = json_array();
	pairs = json_array();
	json_t *sitediffs = json_array();
	refs[0] = rr->model;
	for (size_t k = 1; k < nm; k++)
		refs[k] = rr->compare_models[k - 1];
	if (print)
		printf("\nhead to head (same records at each site; difference = model - %s):\n",
		       refs[0]->version_id);
	for (size_t k = 0; k < nm; k++) {
		double y[64], v[64], dy[64], dv[64];
		size_t ky = 0, kd = 0;
		for (size_t i = 0; i < n; i++) {
			const Fedval__SiteResult *r = sites[i].r;
			if (!sites[i].verified || r->status || !r->has_auc || ky >= 64)
				continue;
			double a = r->auc, va = r->auc_var;
			if (k > 0) {
				if (k - 1 >= r->n_comparisons)
					continue;
				const Fedval__ModelComparison *c = r->comparisons[k - 1];
				double diff = c->auc - r->auc;
				double vd = r->auc_var + c->auc_var - 2 * c->cov_with_primary;
				if (vd > 0 && kd < 64) {
					dy[kd] = diff;
					dv[kd++] = vd;
					json_array_append_new(
					    sitediffs,
					    json_pack(
						"{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f}", "site",
						sites[i].node, "a", refs[0]->version_id, "b",
						refs[k]->version_id, "difference", diff, "variance",
						vd, "ci_low", diff - z * sqrt(vd), "ci_high",
						diff + z * sqrt(vd), "p",
						2 * (1 - fv_stats_pnorm(fabs(diff) / sqrt(vd)))));
				}
				if (print)
					printf("  %-20s %-16.16s AUROC %.3f  difference %+.4f "
					       "(%+.4f to "
					       "%+.4f) p=%.3g\n",
					       sites[i].node, refs[k]->version_id, c->auc, diff,
					       diff - z * sqrt(vd), diff + z * sqrt(vd),
					       2 * (1 - fv_stats_pnorm(fabs(diff) / sqrt(vd))));
				a = c->auc;
				va = c->auc_var;
			}
			if (a > 0 && a < 1 && va > 0) {
				fv_stats_logit_delta(a, va, &y[ky], &v[ky]);
				ky++;
			}
		}
		struct fv_meta m;
		struct fv_diag d = {{0}};
		enum fv_meta_method method = ky >= 2 ? FV_META_REML : FV_META_FE;
		if (ky == 0 || fv_stats_meta(y, v, ky, method, ky >= 2, Z95, &m, &d) != FV_OK) {
			est[k] = lo[k] = hi[k] = NAN;
			se[k] = NAN;
		} else {
			est[k] = fv_stats_expit(m.mu);
			lo[k] = fv_stats_expit(m.ci_lo);
			hi[k] = fv_stats_expit(m.ci_hi);
			/* on the AUROC scale, for the unpaired comparisons */
			se[k] = (hi[k] - lo[k]) / (2 * z);
		}
		json_t *mj = json_pack("{s:s,s:s}", "version_id", refs[k]->version_id, "vendor",
				       refs[k]->vendor);
		/* the vendor's name and version of the model, for readers of the report */
		json_t *man =
		    json_loads(refs[k]->manifest_json ? refs[k]->manifest_json : "", 0, NULL);
		const char *mn = json_string_value(json_object_get(man, "name"));
		const char *mv = json_string_value(json_object_get(man, "version"));
		if (mn)
			json_object_set_new(mj, "name", json_string(mn));
		if (mv)
			json_object_set_new(mj, "version", json_string(mv));
		json_decref(man);
		set_finite(mj, "auroc", est[k]);
		set_finite(mj, "ci_low", lo[k]);
		set_finite(mj, "ci_high", hi[k]);
		json_array_append_new(models, mj);
		if (k > 0 && kd > 0 &&
		    fv_stats_meta(dy, dv, kd, kd >= 2 ? FV_META_REML : FV_META_FE, kd >= 2, Z95, &m,
				  &d) == FV_OK) {
			json_array_append_new(
			    pairs,
			    json_pack(
				"{s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:s}", "a", refs[0]->version_id, "b",
				refs[k]->version_id, "difference", m.mu, "ci_low", m.ci_lo,
				"ci_high", m.ci_hi, "p", m.p, "sites", (json_int_t)kd, "method",
				"paired DeLong per site; random effects (REML, Hartung-Knapp) "
				"across sites"));
			if (print)
				printf("  %-20s %-16.16s pooled difference %+.4f (%+.4f to %+.4f) "
				       "p=%.3g\n",
				       "POOLED", refs[k]->version_id, m.mu, m.ci_lo, m.ci_hi, m.p);
		}
	}
	/* Leaderboard with rank intervals: the pairwise differences (paired when one of the two
	 * is the first model), Bonferroni over the m (m - 1) / 2 pairs so that the intervals hold
	 * jointly (fv_stats_rank_intervals). */
	board = json_array();
	size_t order[1 + FV_MAX_COMPARE], rlo[1 + FV_MAX_COMPARE], rhi[1 + FV_MAX_COMPARE];
	double dmat[(1 + FV_MAX_COMPARE) * (1 + FV_MAX_COMPARE)];
	double smat[(1 + FV_MAX_COMPARE) * (1 + FV_MAX_COMPARE)];
	double zr = nm > 2 ? fv_stats_qnorm(1 - 0.05 / (double)(nm * (nm - 1))) : z;
	for (size_t k = 0; k < nm; k++) {
		size_t m = k;
		while (m > 0 && !(est[order[m - 1]] >= est[k])) {
			order[m] = order[m - 1];
			m--;
		}
		order[m] = k;
		for (size_t o = 0; o < nm; o++) {
			dmat[k * nm + o] = est[o] - est[k];
			smat[k * nm + o] = sqrt(se[o] * se[o] + se[k] * se[k]);
		}
	}
	json_t *pr;
	size_t pi;
	json_array_foreach(pairs, pi, pr)
	{
		const char *b = json_string_value(json_object_get(pr, "b"));
		double dd = json_real_value(json_object_get(pr, "difference"));
		double sd = (json_real_value(json_object_get(pr, "ci_high")) -
			     json_real_value(json_object_get(pr, "ci_low"))) /
			    (2 * z);
		for (size_t o = 1; o < nm; o++)
			if (!strcmp(b, refs[o]->version_id)) {
				dmat[o] = dd; /* k = 0: model o minus the first */
				smat[o] = sd;
				dmat[o * nm] = -dd;
				smat[o * nm] = sd;
			}
	}
	fv_stats_rank_intervals(dmat, smat, nm, zr, rlo, rhi);
	if (print)
		printf("\nleaderboard (pooled AUROC, random effects; rank interval from pairwise "
		       "tests%s):\n",
		       nm > 2 ? ", Bonferroni over the pairs" : "");
	for (size_t r = 0; r < nm; r++) {
		size_t k = order[r];
		json_t *bj =
		    json_pack("{s:I,s:I,s:I,s:s,s:s}", "rank", (json_int_t)(r + 1), "rank_low",
			      (json_int_t)rlo[k], "rank_high", (json_int_t)rhi[k], "version_id",
			      refs[k]->version_id, "vendor", refs[k]->vendor);
		set_finite(bj, "auroc", est[k]);
		set_finite(bj, "ci_low", lo[k]);
		set_finite(bj, "ci_high", hi[k]);
		json_array_append_new(board, bj);
		if (print)
			printf("  %zu. [rank %zu-%zu] %-16.16s %-16s AUROC %.3f (%.3f-%.3f)\n",
			       r + 1, rlo[k], rhi[k], refs[k]->version_id, refs[k]->vendor, est[k],
			       lo[k], hi[k]);
	}
	json_object_set_new(j, "models", models);
	json_object_set_new(j, "pooled_differences", pairs);
	json_object_set_new(j, "site_differences", sitediffs);
	json_object_set_new(j, "leaderboard", board);
	return j;
}

/* Subgroups: per (subgroup, category) pooled over the sites that released it — exact count
 * sums, Wilson intervals, AUROC pooled by random effects on the logit scale — and a disparity
 * summary per threshold: the largest difference in sensitivity and in specificity between
 * categories, with Newcombe's hybrid score interval for a difference of independent
 * proportions (Newcombe 1998, Stat Med 17:873, method 10) and the ratio with the Katz log
 * interval (Katz et al. 1978, Biometrics 34:469). */
struct cat_pool {
	const char *subgroup, *category;
	uint64_t n, n_pos, tp[FV_MAX_THRESHOLDS], fp[FV_MAX_THRESHOLDS], tn[FV_MAX_THRESHOLDS],
	    fn[FV_MAX_THRESHOLDS];
	uint32_t rows_sites[FV_MAX_THRESHOLDS];
	size_t sites, withheld;
	double y[64], v[64];
	size_t k;
};

static json_t *disparity(const struct cat_pool *c, size_t nc, size_t t, double thr, bool sens,
			 bool print)
{
	size_t hi_i = SIZE_MAX, lo_i = SIZE_MAX;
	double hv = -1, lv = 2;
	for (size_t i = 0; i < nc; i++) {
		uint64_t x = sens ? c[i].tp[t] : c[i].tn[t];
		uint64_t m = sens ? c[i].tp[t] + c[i].fn[t] : c[i].tn[t] + c[i].fp[t];
		if (!c[i].rows_sites[t] || m == 0)
			continue;
		double v = (double)x / (double)m;
		if (v > hv) {
			hv = v;
			hi_i = i;
		}
		if (v < lv) {
			lv = v;
			lo_i = i;
		}
	}
	if (hi_i == SIZE_MAX || hi_i == lo_i)
		return json_null();
	const struct cat_pool *a = &c[hi_i], *b = &c[lo_i];
	uint64_t xa = sens ? a->tp[t] : a->tn[t],
		 na = sens ? a->tp[t] + a->fn[t] : a->tn[t] + a->fp[t];
	uint64_t xb = sens ? b->tp[t] : b->tn[t],
		 nb = sens ? b->tp[t] + b->fn[t] : b->tn[t] + b->fp[t];
	double dd, dl, dh, r, rl, rh;
	fv_stats_diff_newcombe(xa, na, xb, nb, Z95, &dd, &dl, &dh);
	fv_stats_ratio_katz(xa, na, xb, nb, Z95, &r, &rl, &rh);
	if (print)
		printf(
		    "  disparity %-11s at %-5g %s %.3f vs %s %.3f: difference %.3f (%.3f to %.3f), "
		    "ratio %.2f (%.2f-%.2f)\n",
		    sens ? "sensitivity" : "specificity", thr, a->category, hv, b->category, lv, dd,
		    dl, dh, r, rl, rh);
	return json_pack("{s:s,s:f,s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "metric",
			 sens ? "sensitivity" : "specificity", "threshold", thr, "highest",
			 a->category, "lowest", b->category, "difference", dd, "difference_ci_low",
			 dl, "difference_ci_high", dh, "ratio", r, "ratio_ci_low", rl,
			 "ratio_ci_high", rh, "highest_value", hv);
}

static json_t *subgroups_report(struct site *sites, size_t n, const json_t *thresholds, bool print)
{
	struct cat_pool *c = fv_calloc(FV_MAX_SUBGROUP_RESULTS, sizeof(*c));
	size_t nc = 0, nthr = json_array_size(thresholds);
	json_t *out = json_array();

	if (!c)
		return out;
	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || r->status)
			continue;
		for (size_t g = 0; g < r->n_subgroups; g++) {
			const Fedval__SubgroupResult *s = r->subgroups[g];
			size_t k = 0;
			/* a site's merged (coarsened) categories differ from site to site: shown
			 * per site, never pooled */
			if (!strcmp(s->category, "(merged)"))
				continue;
			while (k < nc && (strcmp(c[k].subgroup, s->subgroup) ||
					  strcmp(c[k].category, s->category)))
				k++;
			if (k == nc) {
				if (nc == FV_MAX_SUBGROUP_RESULTS)
					continue;
				c[nc].subgroup = s->subgroup;
				c[nc].category = s->category;
				nc++;
			}
			if (s->has_suppressed && s->suppressed) {
				c[k].withheld++;
				continue;
			}
			c[k].sites++;
			c[k].n += s->n;
			c[k].n_pos += s->n_pos;
			if (s->has_auc && s->auc > 0 && s->auc < 1 && s->auc_var > 0 &&
			    c[k].k < 64) {
				fv_stats_logit_delta(s->auc, s->auc_var, &c[k].y[c[k].k],
						     &c[k].v[c[k].k]);
				c[k].k++;
			}
			for (size_t t = 0; t < s->n_counts && t < nthr && t < FV_MAX_THRESHOLDS;
			     t++) {
				const Fedval__ThresholdCounts *row = s->counts[t];
				if (row->has_suppressed && row->suppressed)
					continue;
				c[k].tp[t] += row->tp;
				c[k].fp[t] += row->fp;
				c[k].tn[t] += row->tn;
				c[k].fn[t] += row->fn;
				c[k].rows_sites[t]++;
			}
		}
	}
	if (print && nc)
		printf("\nsubgroups (pooled over the sites that released each category):\n");
	for (size_t a = 0; a < nc;) {
		size_t b = a;
		while (b < nc && !strcmp(c[b].subgroup, c[a].subgroup))
			b++;
		json_t *cats = json_array(), *disp = json_array();
		for (size_t k = a; k < b; k++) {
			struct fv_meta m;
			struct fv_diag d = {{0}};
			json_t *cj = json_pack("{s:s,s:I,s:I,s:I,s:I}", "category", c[k].category,
					       "sites", (json_int_t)c[k].sites, "withheld_at_sites",
					       (json_int_t)c[k].withheld, "n", (json_int_t)c[k].n,
					       "n_pos", (json_int_t)c[k].n_pos);
			double auc = NAN, lo = NAN, hi = NAN;
			if (c[k].k && fv_stats_meta(c[k].y, c[k].v, c[k].k,
						    c[k].k >= 2 ? FV_META_REML : FV_META_FE,
						    c[k].k >= 2, Z95, &m, &d) == FV_OK) {
				auc = fv_stats_expit(m.mu);
				lo = fv_stats_expit(m.ci_lo);
				hi = fv_stats_expit(m.ci_hi);
				json_object_set_new(cj, "auroc",
						    json_pack("{s:f,s:f,s:f}", "estimate", auc,
							      "ci_low", lo, "ci_high", hi));
			}
			json_t *rows = json_array();
			for (size_t t = 0; t < nthr && t < FV_MAX_THRESHOLDS; t++) {
				double thr = json_number_value(json_array_get(thresholds, t));
				if (!c[k].rows_sites[t]) {
					json_array_append_new(rows,
							      json_pack("{s:f,s:b}", "threshold",
									thr, "suppressed", 1));
					continue;
				}
				json_t *row = counts_json(thr, c[k].tp[t], c[k].fp[t], c[k].tn[t],
							  c[k].fn[t]);
				json_object_set_new(row, "sites",
						    json_integer((json_int_t)c[k].rows_sites[t]));
				json_array_append_new(rows, row);
			}
			json_object_set_new(cj, "thresholds", rows);
			json_array_append_new(cats, cj);
			if (print)
				printf("  %s = %-12s sites %zu (withheld at %zu), n %llu, events "
				       "%llu, "
				       "AUROC %.3f (%.3f-%.3f)\n",
				       c[k].subgroup, c[k].category, c[k].sites, c[k].withheld,
				       (unsigned long long)c[k].n, (unsigned long long)c[k].n_pos,
				       auc, lo, hi);
		}
		for (size_t t = 0; t < nthr && t < FV_MAX_THRESHOLDS; t++) {
			double thr = json_number_value(json_array_get(thresholds, t));
			json_t *x = disparity(c + a, b - a, t, thr, true, print);
			if (!json_is_null(x))
				json_array_append_new(disp, x);
			else
				json_decref(x);
			x = disparity(c + a, b - a, t, thr, false, print);
			if (!json_is_null(x))
				json_array_append_new(disp, x);
			else
				json_decref(x);
		}
		json_array_append_new(out, json_pack("{s:s,s:o,s:o}", "subgroup", c[a].subgroup,
						     "categories", cats, "disparity", disp));
		a = b;
	}
	fv_free(c);
	return out;
}

/* A recalibration run: the federated fit of logit P(y=1) = a + b logit(p). Wald intervals
 * from the inverse information at the estimate. */
static json_t *recalibration(const Fedval__RunInfo *ri)
{
	json_t *st = ri->round_json ? json_loads(ri->round_json, 0, NULL) : NULL;
	const char *status = json_string_value(json_object_get(st, "status"));
	json_t *beta = json_object_get(st, "beta"), *cov = json_object_get(st, "cov");
	double a = json_number_value(json_array_get(beta, 0));
	double b = json_number_value(json_array_get(beta, 1));
	double sa = sqrt(json_number_value(json_array_get(cov, 0)));
	double sb = sqrt(json_number_value(json_array_get(cov, 3)));
	double z = fv_stats_qnorm(0.975);
	json_t *out;

	if (!st || !status) {
		json_decref(st);
		return json_null();
	}
	if (strcmp(status, "converged") != 0) {
		printf("\nrecalibration fit: %s (step %lld)\n", status,
		       (long long)json_integer_value(json_object_get(st, "step")));
		out = json_pack("{s:s}", "status", status);
	} else {
		printf("\nrecalibration fit across sites (federated Newton, %lld rounds):\n"
		       "  calibration intercept a = %.4f (95%% CI %.4f to %.4f)\n"
		       "  calibration slope     b = %.4f (95%% CI %.4f to %.4f)\n",
		       (long long)json_integer_value(json_object_get(st, "step")) + 1, a,
		       a - z * sa, a + z * sa, b, b - z * sb, b + z * sb);
		out =
		    json_pack("{s:s,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:s}", "status", status,
			      "intercept", a, "intercept_se", sa, "slope", b, "slope_se", sb,
			      "cov_ab", json_number_value(json_array_get(cov, 1)), "log_likelihood",
			      json_number_value(json_object_get(st, "best_ll")), "rounds",
			      json_integer_value(json_object_get(st, "step")) + 1, "model",
			      "logit P(y=1) = a + b logit(p), maximum likelihood over all sites' "
			      "records");
	}
	json_decref(st);
	return out;
}

/* Each site's registered dataset summary (docs/data-summary.md), attached to its entry in the
 * report when it is the summary the site's signed result names (dataset_fingerprint) and its
 * content hashes to that fingerprint; otherwise a note says why there is none. A failure to
 * fetch the summaries leaves the report without them. */
static void attach_datasets(struct cli_conn *conn, const struct site *sites, size_t n, json_t *arr)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__DatasetsRequest body = FEDVAL__DATASETS_REQUEST__INIT;
	struct fv_pb *rp = NULL;
	struct fv_diag d = {{0}};
	const Fedval__DatasetsReply *dr = NULL;

	req.body_case = FEDVAL__ENVELOPE__BODY_DATASETS;
	req.datasets = &body;
	if (cli_call(conn, &req, FEDVAL__ENVELOPE__BODY_DATASETS_REPLY, &rp, &d) == FV_OK)
		dr = fv_wire_env(rp)->datasets_reply;
	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		json_t *sj = json_array_get(arr, i);
		const char *note = NULL;
		if (!sites[i].verified || r->status)
			continue;
		if (!r->dataset_fingerprint || !*r->dataset_fingerprint)
			note = "the site's result names no dataset summary";
		else if (!dr)
			note = "the dataset summaries could not be fetched from the coordinator";
		else
			note = "the site's registered summary differs from the one at evaluation "
			       "(its data changed since)";
		for (size_t k = 0; dr && r->dataset_fingerprint && k < dr->n_datasets; k++) {
			const Fedval__DatasetInfo *x = dr->datasets[k];
			char fp[65];
			if (strcmp(x->node, sites[i].node) != 0 || !x->fingerprint ||
			    strcmp(x->fingerprint, r->dataset_fingerprint) != 0)
				continue;
			json_t *sum = json_loads(x->summary_json ? x->summary_json : "", 0, NULL);
			if (!sum || fv_data_summary_fingerprint(sum, fp, NULL) != FV_OK ||
			    strcmp(fp, r->dataset_fingerprint) != 0) {
				json_decref(sum);
				note = "the registered summary does not hash to its fingerprint";
				break;
			}
			char ts[32];
			fv_time_iso(x->registered_us, ts, sizeof(ts));
			json_object_set_new(sj, "data_summary", sum);
			json_object_set_new(
			    sj, "dataset",
			    json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "name", x->name, "period",
				      x->period ? x->period : "", "source",
				      x->source_kind ? x->source_kind : "", "records",
				      (json_int_t)x->records, "registered", ts, "fingerprint",
				      x->fingerprint));
			note = NULL;
			break;
		}
		if (note)
			json_object_set_new(sj, "data_summary_note", json_string(note));
	}
	fv_pb_free(rp);
}

/* A regression, survival or multiclass run: each verified site's metrics (set on its entry of
 * site_arr as "metrics") and the pooled ones. */
static json_t *task_report(enum fv_task task, struct site *sites, size_t n, json_t *site_arr)
{
	struct fv_task_stats *t = fv_calloc(n + 1, sizeof(*t));
	size_t k = 0;
	json_t *pooled;

	if (!t)
		return json_null();
	printf("\n%-26s metrics\n", "site");
	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || !r || r->status != 0 || !fv_task_from_result(r, &t[k])) {
			printf("  %-24s %s\n", sites[i].node,
			       !sites[i].verified ? "NOT VERIFIED"
			       : r && r->status	  ? (r->reason ? r->reason : "failed")
						  : "holds no statistics of this task");
			continue;
		}
		cli_task_print_site(task, sites[i].node, &t[k]);
		json_object_set_new(json_array_get(site_arr, i), "metrics",
				    fv_task_json(task, &t[k]));
		k++;
	}
	pooled = cli_task_pool(task, t, k, true);
	fv_free(t);
	return pooled;
}

int cmd_results(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"json", required_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *json_out = NULL;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ResultsRequest body = FEDVAL__RESULTS_REQUEST__INIT;
	struct fv_pb *rp = NULL;
	struct site *sites = NULL;
	uint8_t *ca = NULL;
	size_t ca_len = 0, nsites = 0;
	json_t *bench = NULL, *manifest = NULL, *report = NULL, *arr, *recal_json = NULL;
	int c, bad = 0, rc = CLI_FAIL;
	bool all_ok = true;

	if (cli_wants_help(argc, argv, results_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, results_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'j')
			json_out = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(results_usage, "results needs one RUN_ID");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("results", &d);
	body.run_id = argv[optind];
	req.body_case = FEDVAL__ENVELOPE__BODY_RESULTS;
	req.results = &body;
	if (cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_RESULTS_REPLY, &rp, &d) != FV_OK ||
	    fv_file_read(conn.ca_path, FV_MAX_CERT_PEM, &ca, &ca_len, &d) != FV_OK)
		goto out;
	Fedval__ResultsReply *rr = fv_wire_env(rp)->results_reply;
	bench = json_loads(rr->benchmark_json, 0, NULL);
	manifest = json_loads(rr->model->manifest_json, 0, NULL);
	nsites = rr->n_results;
	if (!bench || !manifest || !(sites = fv_calloc(nsites + 1, sizeof(*sites)))) {
		fv_diag_set(&d, FV_EPROTO, "results reply holds malformed JSON");
		goto out;
	}
	for (size_t i = 0; i < nsites; i++) {
		verify_site((char *)ca, ca_len, rr->results[i], rr->run, &sites[i]);
		all_ok = all_ok && sites[i].verified;
	}
	printf("run %s (%s)\nbenchmark %s\nmodel %s %s by %s, version id %s\nONNX sha256 %s\n",
	       rr->run->run_id, rr->run->state, rr->run->benchmark,
	       json_string_value(json_object_get(manifest, "name")),
	       json_string_value(json_object_get(manifest, "version")), rr->model->vendor,
	       rr->model->version_id, rr->model->onnx_sha256);
	enum fv_task task = fv_task_parse(json_string_value(json_object_get(bench, "task")));
	if (rr->run->kind && !strcmp(rr->run->kind, "recalibration")) {
		recal_json = recalibration(rr->run);
	} else if (task == FV_TASK_BINARY) {
		print_sites(sites, nsites);
		print_operating_points(sites, nsites);
	}
	report = json_pack(
	    "{s:s,s:I,s:{s:s,s:s,s:s},s:o,s:{s:s,s:s,s:s,s:O}}", "schema", "fedval.report/1",
	    "generated_us", (json_int_t)fv_now_us(), "run", "run_id", rr->run->run_id, "state",
	    rr->run->state, "benchmark", rr->run->benchmark, "benchmark_spec", json_incref(bench),
	    "model", "version_id", rr->model->version_id, "onnx_sha256", rr->model->onnx_sha256,
	    "vendor", rr->model->vendor, "manifest", manifest);
	{
		/* The vendor's signed manifest, verifiable offline. */
		char sig[2 * FV_SIG_MAX + 1] = "";
		json_t *mj = json_object_get(report, "model");
		if (rr->model->vendor_signature.len <= FV_SIG_MAX)
			fv_hex(rr->model->vendor_signature.data, rr->model->vendor_signature.len,
			       sig);
		json_object_set_new(mj, "manifest_canonical",
				    json_string(rr->model->manifest_json));
		json_object_set_new(mj, "vendor_signature", json_string(sig));
		json_object_set_new(mj, "vendor_cert_pem", json_string(rr->model->vendor_cert_pem));
	}
	arr = json_array();
	for (size_t i = 0; i < nsites; i++)
		json_array_append_new(arr, site_json(&sites[i]));
	attach_datasets(&conn, sites, nsites, arr);
	json_object_set_new(report, "sites", arr);
	if (task != FV_TASK_BINARY) {
		/* regression, survival, multiclass: the task's own metrics per site and pooled */
		json_object_set_new(report, "task",
				    json_string(json_string_value(json_object_get(bench, "task"))));
		json_object_set_new(report, "pooled", task_report(task, sites, nsites, arr));
		goto write;
	}
	json_object_set_new(report, "pooled",
			    pool(sites, nsites, json_object_get(bench, "thresholds"), true));
	if (recal_json)
		json_object_set_new(report, "recalibration", recal_json);
	json_object_set_new(report, "claims", claims(manifest, report, true));
	json_object_set_new(report, "head_to_head", head_to_head(rr, sites, nsites, true));
	json_object_set_new(
	    report, "subgroups",
	    subgroups_report(sites, nsites, json_object_get(bench, "thresholds"), true));
write:
	json_object_set_new(json_object_get(report, "run"), "published",
			    json_boolean(rr->run->has_published_us));
	if (rr->run->has_published_us) {
		char ts[32];
		fv_time_iso(rr->run->published_us, ts, sizeof(ts));
		json_object_set_new(json_object_get(report, "run"), "published_at",
				    json_string(ts));
	}
	json_object_set_new(report, "note",
			    json_string("Measurements on each site's data; not an approval or "
					"certification."));
	if (json_out) {
		int f = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10);
		if (!strcmp(json_out, "-") ? json_dumpf(report, stdout, f)
					   : json_dump_file(report, json_out, f)) {
			fv_diag_set(&d, FV_EIO, "cannot write %s", json_out);
			goto out;
		}
		if (strcmp(json_out, "-") != 0)
			fprintf(stderr, "report written to %s\n", json_out);
	}
	if (!all_ok) {
		fv_diag_set(&d, FV_EAUTH, "some site results failed verification (see above)");
		goto out;
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("results", &d);
	for (size_t i = 0; i < nsites && sites; i++)
		fv_pb_free(sites[i].pb);
	fv_free(sites);
	json_decref(report);
	json_decref(bench);
	json_decref(manifest);
	fv_free(ca);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return rc;
}
