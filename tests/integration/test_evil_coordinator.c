/* A malicious coordinator against the real fedval-node (issue 7 item 5). The coordinator is a
 * fake (evil_coordinator.c) that speaks the real protocol over TLS with the coordinator's
 * certificate, and sends the jobs the real coordinator would refuse to build: threshold grids
 * fine enough to isolate single scores, thousands of thresholds, tiny cohorts and cohorts one
 * record apart, subgroups cut to single records, unknown and policy fields, malformed and
 * oversized specs, tampered models, forged and replayed replies, absurd recalibration rounds.
 * For each, what the node sent back is decoded and checked: refused (with the reason in the
 * node's log), or released only in disclosure-safe form; and the node still serves an honest
 * job afterwards. Attack numbers are those of docs/security.md. */
#include <jansson.h>

#include "evil_coordinator.h"
#include "fedval/limits.h"
#include "fedval/wire.h"
#include "harness.h"

#define MIN_CELL   5u
#define MIN_COHORT 50u
#define WAIT_MS	   60000

static struct fed F;
static struct evil *E;
static struct evil_model M;
static char LOG[512];
static int JOBS;

static void teardown(void)
{
	h_fed_stop(&F);
	evil_stop(E);
	E = NULL;
	evil_model_fini(&M);
	h_fed_cleanup(&F);
}

static void path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", F.dir, rel);
}

/* A federation directory with the fake coordinator on its port, the demo model signed by the
 * vendor, and node hospital-a on `rows` records (column `rec` numbers them 1..rows). */
static void start(const char *policy, int rows)
{
	char *out = NULL, ca[512], cert[512], key[512], man[512], onnx[512], vkey[512], vcert[512];
	struct fv_diag d = {{0}};

	h_fed_init(&F);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN(
			       "fedval") " demo data --profile 0 --rows 2000 --out "
					 "dev.csv && " H_BIN(
					     "fedval") " demo train --data dev.csv "
						       "--out-dir model && " H_BIN(
							   "fedval") " demo data "
								     "--profile 1 --rows %d "
								     "--seed 3 --out raw.csv "
								     "&& awk 'NR == 1 { print "
								     "$0 \",rec\"; next } { "
								     "print $0 \",\" NR - 1 }' "
								     "raw.csv > a.csv 2>&1",
			   F.dir, rows),
		     0, "%s", out);
	free(out);
	path(ca, sizeof(ca), "pki/ca/ca.crt");
	path(cert, sizeof(cert), "pki/coordinator.crt");
	path(key, sizeof(key), "pki/coordinator.key");
	struct evil_opts o = {F.port, ca, cert, key};
	cr_assert_eq(evil_start(&o, &E, &d), FV_OK, "%s", d.msg);
	path(man, sizeof(man), "model/manifest.json");
	path(onnx, sizeof(onnx), "model/model.onnx");
	path(vkey, sizeof(vkey), "pki/vendor.key");
	path(vcert, sizeof(vcert), "pki/vendor.crt");
	cr_assert_eq(evil_model_load(&M, man, onnx, vkey, vcert, ca, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(evil_serve_model(E, &M), FV_OK);
	h_node_add(&F, "hospital-a", "a.csv", policy);
	h_node_start(&F, 0);
	snprintf(LOG, sizeof(LOG), "%s/hospital-a.log", F.dir);
}

/* The demo benchmark with `name` and the fields of patch (a JSON object) set over it. */
static char *bench(const char *name, const char *patch)
{
	json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, NULL);
	json_error_t jerr;
	cr_assert(b);
	json_object_set_new(b, "name", json_string(name));
	if (patch) {
		json_t *p = json_loads(patch, 0, &jerr);
		cr_assert(p, "patch: %s", jerr.text);
		json_object_update(b, p);
		json_decref(p);
	}
	char *s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

/* Queue a job (a fresh id unless given) and wait for what the node sends back. */
static struct evil_outcome send_job_as(const char *job_id, const char *bench_json,
				       const struct evil_model *m,
				       const Fedval__RoundRequest *round)
{
	struct evil_outcome o;
	cr_assert_eq(evil_queue_job(E, job_id, "run-evil", bench_json, m, round), FV_OK);
	cr_assert(evil_wait(E, job_id, WAIT_MS, &o), "no answer to job %s; node log:\n%s", job_id,
		  h_slurp(LOG));
	return o;
}

static struct evil_outcome send_job(char *job_id, size_t cap, const char *bench_json)
{
	snprintf(job_id, cap, "evil-%03d.hospital-a", ++JOBS);
	return send_job_as(job_id, bench_json, &M, NULL);
}

static struct fv_pb *site_result(const struct evil_outcome *o)
{
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	cr_assert_eq(o->kind, EVIL_RESULT, "expected a result, got kind %d (%s %s)", o->kind,
		     o->decision, o->reason);
	cr_assert(o->signature_ok, "the node's signature over its result does not verify");
	cr_assert_eq(fv_pb_unpack(&fedval__site_result__descriptor, o->bytes, o->len,
				  FV_MAX_UNPACK_ALLOC, &pb, &d),
		     FV_OK, "%s", d.msg);
	return pb;
}

static void cells_safe(const Fedval__ThresholdCounts *c, const char *where)
{
	cr_assert_eq(c->base.n_unknown_fields, 0, "%s: fields outside the schema", where);
	if (c->has_suppressed && c->suppressed) {
		cr_assert(c->tp == 0 && c->fp == 0 && c->tn == 0 && c->fn == 0,
			  "%s: a withheld row carries counts", where);
		return;
	}
	const uint64_t v[4] = {c->tp, c->fp, c->tn, c->fn};
	for (int i = 0; i < 4; i++)
		cr_assert(v[i] == 0 || v[i] >= MIN_CELL, "%s: threshold %g released a cell of %llu",
			  where, c->threshold, (unsigned long long)v[i]);
}

/* Released only in disclosure-safe form: every count 0 or at least the minimum cell, rows
 * withheld whole, subgroup categories withheld without numbers, nothing outside the schema,
 * and nothing at all on a failure. Returns the released threshold rows. */
static size_t assert_safe(const Fedval__SiteResult *r)
{
	size_t released = 0;
	char where[160];

	cr_assert_eq(r->base.n_unknown_fields, 0, "result: fields outside the schema");
	cr_assert(r->has_min_cell && r->min_cell == MIN_CELL);
	if (r->status != 0) {
		cr_assert(!r->has_n && !r->has_n_pos && r->n_counts == 0 && r->n_subgroups == 0 &&
			      !r->has_auc && !r->has_sum_p && !r->has_brier_sum &&
			      r->n_operating_points == 0 && r->n_comparisons == 0,
			  "a failed result carries statistics");
		return 0;
	}
	cr_assert(r->n >= MIN_COHORT, "cohort of %llu released", (unsigned long long)r->n);
	cr_assert(r->n_pos >= MIN_CELL && r->n - r->n_pos >= MIN_CELL);
	for (size_t t = 0; t < r->n_counts; t++) {
		snprintf(where, sizeof(where), "row %zu", t);
		cells_safe(r->counts[t], where);
		released += !(r->counts[t]->has_suppressed && r->counts[t]->suppressed);
	}
	for (size_t k = 0; k < r->n_operating_points; k++)
		cells_safe(r->operating_points[k]->counts, "operating point");
	for (size_t k = 0; k < r->n_subgroups; k++) {
		const Fedval__SubgroupResult *s = r->subgroups[k];
		snprintf(where, sizeof(where), "subgroup %s category %s", s->subgroup, s->category);
		cr_assert_eq(s->base.n_unknown_fields, 0, "%s: fields outside the schema", where);
		if (s->has_suppressed && s->suppressed) {
			cr_assert(!s->has_n && !s->has_n_pos && !s->has_auc && !s->has_sum_p &&
				      !s->has_brier_sum && s->n_counts == 0,
				  "%s: withheld but carries numbers", where);
			continue;
		}
		cr_assert(s->n >= MIN_CELL && s->n_pos >= MIN_CELL && s->n - s->n_pos >= MIN_CELL &&
			      r->n - s->n >= MIN_CELL && r->n_pos - s->n_pos >= MIN_CELL &&
			      (r->n - r->n_pos) - (s->n - s->n_pos) >= MIN_CELL,
			  "%s: small cell released (n %llu, events %llu of %llu, %llu)", where,
			  (unsigned long long)s->n, (unsigned long long)s->n_pos,
			  (unsigned long long)r->n, (unsigned long long)r->n_pos);
		for (size_t t = 0; t < s->n_counts; t++)
			cells_safe(s->counts[t], where);
	}
	return released;
}

static void assert_alive(void)
{
	int st;
	cr_assert_eq(waitpid(F.nodes[0], &st, WNOHANG), 0, "the node died; log:\n%s", h_slurp(LOG));
}

static const char *CONTROL_SPEC;

/* The honest job: released with numbers, safely. Proves the node is alive and serving. */
static void control(const char *after)
{
	char job[64];
	struct evil_outcome o = send_job(job, sizeof(job), CONTROL_SPEC);
	struct fv_pb *pb = site_result(&o);
	const Fedval__SiteResult *r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0, "honest job after %s failed: %s", after, r->reason);
	cr_assert_gt(assert_safe(r), 0, "honest job after %s released no row", after);
	assert_alive();
	fv_pb_free(pb);
	free(o.bytes);
}

/* The job failed with a reason containing `reason`, and the log holds `logged`. */
static void assert_failed(struct evil_outcome *o, const char *reason, const char *logged)
{
	struct fv_pb *pb = site_result(o);
	const Fedval__SiteResult *r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 1, "released instead of refused (expected '%s')", reason);
	assert_safe(r);
	cr_assert(r->reason && strstr(r->reason, reason), "reason '%s', expected '%s'",
		  r->reason ? r->reason : "", reason);
	cr_assert_gt(h_count(LOG, logged), 0, "the node log does not say '%s':\n%s", logged,
		     h_slurp(LOG));
	fv_pb_free(pb);
	free(o->bytes);
}

static void assert_vetoed(struct evil_outcome *o, const char *reason, const char *logged)
{
	cr_assert_eq(o->kind, EVIL_DECISION, "expected a veto, got kind %d", o->kind);
	cr_assert_str_eq(o->decision, "vetoed");
	cr_assert(strstr(o->reason, reason), "veto reason '%s', expected '%s'", o->reason, reason);
	cr_assert_gt(h_count(LOG, logged), 0, "the node log does not say '%s'", logged);
}

/* Released rows of r (threshold rows and operating points): their positive calls. */
static size_t calls_of(const Fedval__SiteResult *r, uint64_t *calls, size_t cap)
{
	size_t n = 0;
	for (size_t t = 0; t < r->n_counts && n < cap; t++)
		if (!(r->counts[t]->has_suppressed && r->counts[t]->suppressed))
			calls[n++] = r->counts[t]->tp + r->counts[t]->fp;
	for (size_t k = 0; k < r->n_operating_points && n < cap; k++) {
		const Fedval__ThresholdCounts *c = r->operating_points[k]->counts;
		if (!(c->has_suppressed && c->suppressed))
			calls[n++] = c->tp + c->fp;
	}
	return n;
}

/* No two rows ever released for the same cohort differ by 1..MIN_CELL-1 positive calls. */
static void assert_no_close_rows(const uint64_t *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			uint64_t a = calls[i], b = calls[j], dl = a > b ? a - b : b - a;
			cr_assert(dl == 0 || dl >= MIN_CELL,
				  "two released rows differ by %llu positive calls (%llu, %llu)",
				  (unsigned long long)dl, (unsigned long long)a,
				  (unsigned long long)b);
		}
}

/* #30-#38: jobs built to isolate one patient. */
Test(evil_coordinator, isolating_jobs, .fini = teardown, .timeout = 240)
{
	char job[64], spec[64 * 24 + 64];
	struct evil_outcome o;
	struct fv_pb *pb;
	const Fedval__SiteResult *r;
	uint64_t calls[1024];
	size_t ncalls = 0;

	start(NULL, 1000);
	char *ctl = bench("control", "{\"subgroups\": []}");
	CONTROL_SPEC = ctl;
	/* The control job: released, which proves the checks below can fail. */
	o = send_job(job, sizeof(job), ctl);
	pb = site_result(&o);
	r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0, "%s", r->reason);
	cr_assert_eq(r->n, 1000);
	cr_assert_eq(assert_safe(r), 4);
	ncalls += calls_of(r, calls + ncalls, 1024 - ncalls);
	fv_pb_free(pb);
	free(o.bytes);

	/* #30 a threshold grid fine enough to expose single scores: 63 thresholds 0.0005
	 * apart (a few records each; with the vendor's declared threshold, 64 rows): rows closer
	 * than the minimum cell to any row released before are withheld. */
	{
		size_t len = (size_t)snprintf(spec, sizeof(spec), "{\"thresholds\": [");
		for (int i = 0; i < 63; i++)
			len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%.4f",
						i ? ", " : "", 0.15 + 0.0005 * i);
		snprintf(spec + len, sizeof(spec) - len,
			 "], \"operating_points\": [], \"subgroups\": []}");
	}
	char *sweep = bench("sweep", spec);
	o = send_job(job, sizeof(job), sweep);
	pb = site_result(&o);
	r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0, "%s", r->reason);
	size_t released = assert_safe(r);
	cr_assert(released > 0 && released < 63, "sweep: %zu of 63 rows released", released);
	ncalls += calls_of(r, calls + ncalls, 1024 - ncalls);
	assert_no_close_rows(calls, ncalls);
	cr_assert_gt(h_count(LOG, "reason=differencing"), 0);
	fv_pb_free(pb);
	free(o.bytes);
	free(sweep);
	control("a threshold sweep");

	/* #31 thousands of thresholds in one-record steps: refused whole. */
	{
		json_t *b = json_loads(ctl, 0, NULL), *t = json_array();
		for (int i = 0; i < 5000; i++)
			json_array_append_new(t, json_real(0.1 + 0.00001 * i));
		json_object_set_new(b, "thresholds", t);
		char *s = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		o = send_job(job, sizeof(job), s);
		free(s);
		assert_failed(&o, "thresholds' must be an array of at most 64",
			      "must be an array of at most 64");
	}
	control("5000 thresholds");

	/* #32 a bin grid for a score histogram, and fields asking for records: no such
	 * statistic exists; the node computes its usual result, safe. */
	char *bins =
	    bench("bins", "{\"subgroups\": [], \"histogram_bins\": 100000, "
			  "\"calibration_bins\": 1000000, \"export\": \"per_record_scores\", "
			  "\"fields\": [\"patient_id\", \"score\"]}");
	o = send_job(job, sizeof(job), bins);
	pb = site_result(&o);
	r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0, "%s", r->reason);
	cr_assert_eq(assert_safe(r), 4);
	fv_pb_free(pb);
	free(o.bytes);
	free(bins);

	/* #33 a tiny cohort: refused. */
	char *tiny = bench("tiny", "{\"subgroups\": [], \"cohort\": \"rec <= 3\"}");
	o = send_job(job, sizeof(job), tiny);
	assert_failed(&o, "minimum cohort size", "minimum cohort size");
	free(tiny);
	control("a tiny cohort");

	/* #34 two cohorts one record apart: the first released, the second refused. */
	char *c600 = bench("c600", "{\"subgroups\": [], \"cohort\": \"rec <= 600\"}");
	char *c599 = bench("c599", "{\"subgroups\": [], \"cohort\": \"rec <= 599\"}");
	o = send_job(job, sizeof(job), c600);
	pb = site_result(&o);
	cr_assert_eq(((Fedval__SiteResult *)pb->msg)->status, 0);
	cr_assert_eq(((Fedval__SiteResult *)pb->msg)->n, 600);
	assert_safe((Fedval__SiteResult *)pb->msg);
	fv_pb_free(pb);
	free(o.bytes);
	o = send_job(job, sizeof(job), c599);
	assert_failed(&o, "differencing", "reason=\"cohort differs from the one released");
	free(c600);
	free(c599);
	control("cohorts one record apart");

	/* #35 subgroups cut down to single records: record 500 alone, and a variable with a
	 * distinct value per record (more categories than the node forms). */
	char *single = bench("single", "{\"subgroups\": [{\"name\": \"one\", \"variable\": "
				       "\"rec\", \"edges\": [500, 501]}, {\"name\": \"each\", "
				       "\"variable\": \"bnp\"}]}");
	o = send_job(job, sizeof(job), single);
	pb = site_result(&o);
	r = (const Fedval__SiteResult *)pb->msg;
	assert_safe(r);
	{
		/* the one-record category and (secondary suppression) another of "one" are
		 * withheld; "each" is withheld whole */
		int one = 0;
		cr_assert_eq(r->status, 0, "%s", r->reason);
		for (size_t k = 0; k < r->n_subgroups; k++) {
			const Fedval__SubgroupResult *s = r->subgroups[k];
			bool w = s->has_suppressed && s->suppressed;
			if (!strcmp(s->subgroup, "each"))
				cr_assert(w, "each: category %s released", s->category);
			else if (!strcmp(s->subgroup, "one"))
				one += w;
		}
		cr_assert_geq(one, 2, "one: %d categories withheld", one);
	}
	cr_assert_gt(h_count(LOG, "event=subgroup_withheld"), 0);
	fv_pb_free(pb);
	free(o.bytes);
	free(single);
	control("single-record subgroups");

	/* #36 intersecting subgroups: two subgroups of the same variable whose categories
	 * differ by one record (record 700): each category is large, but their difference
	 * would give that record's label and score. The node released both before; now a
	 * benchmark cuts each variable once. */
	char *inter =
	    bench("inter", "{\"subgroups\": [{\"name\": \"lo\", \"variable\": \"rec\", "
			   "\"edges\": [700]}, {\"name\": \"hi\", \"variable\": \"rec\", "
			   "\"edges\": [701]}, {\"name\": \"sex\", \"variable\": "
			   "\"sex_male\"}, {\"name\": \"age_band\", \"variable\": \"age\", "
			   "\"edges\": [65, 80]}]}");
	o = send_job(job, sizeof(job), inter);
	assert_failed(&o, "both cut variable 'rec'", "event=job_refused_by_policy");
	free(inter);
	control("intersecting subgroups");

	/* #37 more subgroups than a benchmark may declare: refused. */
	char *many =
	    bench("many", "{\"subgroups\": [{\"name\": \"a\", \"variable\": \"sex_male\"},"
			  "{\"name\": \"b\", \"variable\": \"diabetes\"},{\"name\": \"c\", "
			  "\"variable\": \"copd\"},{\"name\": \"d\", \"variable\": \"ckd\"},"
			  "{\"name\": \"e\", \"variable\": \"nyha_class\"}]}");
	o = send_job(job, sizeof(job), many);
	assert_failed(&o, "subgroups' must list at most", "must list at most");
	free(many);

	/* #38 the same job many times under other job and run ids: each release is the same
	 * numbers (nothing to average out); the query budget (attack #14) bounds how often. */
	uint8_t first[FV_SHA256_LEN], dg[FV_SHA256_LEN];
	for (int i = 0; i < 6; i++) {
		o = send_job(job, sizeof(job), ctl);
		pb = site_result(&o);
		r = (const Fedval__SiteResult *)pb->msg;
		cr_assert_eq(r->status, 0);
		assert_safe(r);
		/* the statistics, without the ids and time that differ by design */
		Fedval__SiteResult copy = *r;
		copy.job_id = copy.run_id = "";
		copy.has_created_us = false;
		uint8_t *b = NULL;
		size_t blen = 0;
		cr_assert_eq(fv_pb_pack(&copy.base, &b, &blen), FV_OK);
		fv_sha256(b, blen, i ? dg : first);
		fv_free(b);
		if (i)
			cr_assert(!memcmp(first, dg, sizeof(dg)),
				  "repeat %d released other numbers", i);
		fv_pb_free(pb);
		free(o.bytes);
	}
	free(ctl);
}

/* A job that never reaches evaluation leaves no outcome: the next (honest) job is answered,
 * and this one was not. */
static void assert_no_outcome(const char *job_id, const char *logged)
{
	control(job_id);
	cr_assert_eq(evil_count(E, job_id), 0, "job %.40s was answered", job_id);
	cr_assert_gt(h_count(LOG, logged), 0, "the node log does not say '%s':\n%s", logged,
		     h_slurp(LOG));
}

/* A copy of M with other bytes (the ONNX file plus one byte), signed by the vendor. */
static void model_variant(struct evil_model *m, const char *signer)
{
	char man[512], onnx[512], key[512], cert[512], ca[512], rel[64];
	struct fv_diag d = {{0}};
	cr_assert_eq(h_run(NULL,
			   "cd %s && cp model/model.onnx model/v2.onnx && printf x >> "
			   "model/v2.onnx",
			   F.dir),
		     0);
	path(man, sizeof(man), "model/manifest.json");
	path(onnx, sizeof(onnx), "model/v2.onnx");
	snprintf(rel, sizeof(rel), "pki/%s.key", signer);
	path(key, sizeof(key), rel);
	snprintf(rel, sizeof(rel), "pki/%s.crt", signer);
	path(cert, sizeof(cert), rel);
	path(ca, sizeof(ca), "pki/ca/ca.crt");
	cr_assert_eq(evil_model_load(m, man, onnx, key, cert, ca, &d), FV_OK, "%s", d.msg);
}

/* #39-#49: malformed, oversized and policy-setting specs, forged models, forged replies. */
Test(evil_coordinator, forged_specs_models_and_replies, .fini = teardown, .timeout = 240)
{
	char job[FV_MAX_ID * 3], key[512], cert[512];
	struct evil_outcome o;
	struct fv_diag d = {{0}};

	start(NULL, 1000);
	char *ctl = bench("control", "{\"subgroups\": []}");
	CONTROL_SPEC = ctl;
	control("start");

	/* #39 malformed JSON as the benchmark: the job fails, nothing computed. */
	o = send_job(job, sizeof(job), "{\"name\": \"broken\", \"thresholds\": [0.2,");
	assert_failed(&o, "not a JSON object", "not a JSON object");
	control("malformed JSON");

	/* #40 policy settings in the benchmark (min_cell_count, small_cells): a signed veto. */
	char *lax = bench("lax", "{\"subgroups\": [], \"min_cell_count\": 1}");
	o = send_job(job, sizeof(job), lax);
	assert_vetoed(&o, "min_cell_count", "event=job_vetoed_by_policy");
	free(lax);
	char *coarse = bench("coarse", "{\"subgroups\": [], \"small_cells\": \"coarsen\"}");
	o = send_job(job, sizeof(job), coarse);
	assert_vetoed(&o, "small_cells", "event=job_vetoed_by_policy");
	free(coarse);
	control("policy fields");

	/* #41 oversized strings: a job id beyond FV_MAX_ID (never a file name: not answered), a
	 * 100 000-character label, a cohort rule nested 2 000 parentheses deep (within the 4 KiB a
	 * rule may have). */
	memset(job, 'j', FV_MAX_ID + 20);
	job[FV_MAX_ID + 20] = '\0';
	cr_assert_eq(evil_queue_job(E, job, "run-evil", ctl, &M, NULL), FV_OK);
	assert_no_outcome(job, "is not a safe file name");
	{
		json_t *b = json_loads(ctl, 0, NULL);
		char *big = malloc(100001);
		memset(big, 'x', 100000);
		big[100000] = '\0';
		json_object_set_new(b, "label", json_string(big));
		char *s = json_dumps(b, JSON_COMPACT);
		o = send_job(job, sizeof(job), s);
		assert_failed(&o, "evaluating on local data", "event=evaluation_failed");
		free(s);
		char *deep = malloc(4000 + 16);
		size_t k = 0;
		for (int i = 0; i < 2000; i++)
			deep[k++] = '(';
		k += (size_t)sprintf(deep + k, "age > 0");
		for (int i = 0; i < 2000; i++)
			deep[k++] = ')';
		deep[k] = '\0';
		json_object_set_new(b, "label", json_string("readmit_30d"));
		json_object_set_new(b, "cohort", json_string(deep));
		s = json_dumps(b, JSON_COMPACT);
		o = send_job(job, sizeof(job), s);
		assert_failed(&o, "evaluating on local data", "nested more than");
		free(s);
		free(deep);
		free(big);
		json_decref(b);
	}
	control("oversized strings");

	/* #42 model chunks that do not match the SHA-256 the vendor signed. */
	struct evil_model m2;
	model_variant(&m2, "vendor");
	m2.bytes[m2.len / 2] ^= 0x55;
	cr_assert_eq(evil_serve_model(E, &m2), FV_OK);
	snprintf(job, sizeof(job), "tampered.hospital-a");
	o = send_job_as(job, ctl, &m2, NULL);
	assert_failed(&o, "not the signed", "event=model_refused");
	evil_model_fini(&m2);
	control("tampered model bytes");

	/* #43 a model signed by a federation member who is no vendor (the authority). */
	model_variant(&m2, "authority");
	cr_assert_eq(evil_serve_model(E, &m2), FV_OK);
	snprintf(job, sizeof(job), "not-a-vendor.hospital-a");
	o = send_job_as(job, ctl, &m2, NULL);
	assert_failed(&o, "not by vendor", "event=model_refused");
	evil_model_fini(&m2);

	/* #44 a manifest edited after the vendor signed it (the coordinator's own claims). */
	model_variant(&m2, "vendor");
	char *edited = strstr(m2.manifest, "\"IIa\"");
	cr_assert(edited);
	edited[3] = 'b';
	cr_assert_eq(evil_serve_model(E, &m2), FV_OK);
	snprintf(job, sizeof(job), "edited-manifest.hospital-a");
	o = send_job_as(job, ctl, &m2, NULL);
	assert_failed(&o, "does not verify", "event=model_refused");
	evil_model_fini(&m2);
	control("forged models");

	/* #45-#48 replies the coordinator did not sign: sealed with the vendor's key (#45),
	 * answering an older request (#46), an earlier reply replayed (#47), bytes that are no
	 * envelope (#48). The job each
	 * carries is never evaluated; the node reconnects and serves the next one. */
	path(key, sizeof(key), "pki/vendor.key");
	path(cert, sizeof(cert), "pki/vendor.crt");
	static const struct {
		enum evil_forgery f;
		const char *logged;
	} forged[] = {{EVIL_WRONG_KEY, "not signed by the enrolled coordinator"},
		      {EVIL_STALE_SEQ, "reply answers request"},
		      {EVIL_REPLAY, "reply answers request"},
		      {EVIL_GARBAGE_REPLY, "reply: Envelope: malformed"}};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		int before = h_count(LOG, forged[i].logged);
		char last[64]; /* the job of the last honest reply, which #47 replays */
		snprintf(last, sizeof(last), "evil-%03d.hospital-a", JOBS);
		cr_assert_eq(evil_forge_next(E, forged[i].f, key, cert, &d), FV_OK, "%s", d.msg);
		snprintf(job, sizeof(job), "forged-%zu.hospital-a", i);
		cr_assert_eq(evil_queue_job(E, job, "run-evil", ctl, &M, NULL), FV_OK);
		control(job);
		cr_assert_eq(evil_count(E, job), 0, "a job in a forged reply was evaluated");
		cr_assert_eq(evil_count(E, last), 1, "a replayed job was answered again");
		cr_assert_gt(h_count(LOG, forged[i].logged), before, "forgery %zu not logged:\n%s",
			     i, h_slurp(LOG));
	}
	cr_assert_eq(evil_forged(E), 4);

	/* #49 enrolment answered with another member's certificate and key: the node refuses
	 * to take it for the coordinator and enrols once the real one answers. */
	path(key, sizeof(key), "pki/authority.key");
	path(cert, sizeof(cert), "pki/authority.crt");
	cr_assert_eq(evil_forge_next(E, EVIL_FORGE_ENROL, key, cert, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(h_stop(F.nodes[0], 30000), 0);
	h_node_start(&F, 0);
	cr_assert_eq(evil_forged(E), 5);
	cr_assert_gt(h_count(LOG, "role is authority, not coordinator"), 0, "%s", h_slurp(LOG));
	control("a forged enrolment");

	/* and every request of the node was signed by its key */
	int bad = 0;
	cr_assert_gt(evil_requests(E, &bad), 20);
	cr_assert_eq(bad, 0);
	free(ctl);
}

static Fedval__RoundResult *round_result(const struct evil_outcome *o, struct fv_pb **pb)
{
	struct fv_diag d;
	cr_assert_eq(o->kind, EVIL_ROUND, "expected a round, got kind %d", o->kind);
	cr_assert_eq(fv_pb_unpack(&fedval__round_result__descriptor, o->bytes, o->len,
				  FV_MAX_UNPACK_ALLOC, pb, &d),
		     FV_OK, "%s", d.msg);
	return (Fedval__RoundResult *)(*pb)->msg;
}

/* #50-#52: recalibration rounds beyond bounds or replayed, the same job until the budget
 * is spent. */
Test(evil_coordinator, rounds_and_budget, .fini = teardown, .timeout = 240)
{
	char job[64];
	struct evil_outcome o;
	double beta[2];
	Fedval__RoundRequest rq = FEDVAL__ROUND_REQUEST__INIT;

	start("[policy]\nbudget_results = 4\n", 1000);
	char *ctl = bench("control", "{\"subgroups\": []}");
	CONTROL_SPEC = ctl;
	control("start");
	rq.kind = "recalibration";
	rq.beta = beta;
	rq.n_beta = 2;

	/* A round: the node's sums, or a failure with the reason (no numbers). */
#define ROUND(id, st, a, b)                                                                        \
	(rq.step = (st), beta[0] = (a), beta[1] = (b), send_job_as(id, ctl, &M, &rq))
	struct fv_pb *pb;
#define ROUND_RESULT(o) round_result(&(o), &pb)
	Fedval__RoundResult *rr;

	/* #50 a steep curve (a threshold in disguise), and a fit run beyond 50 steps. */
	o = ROUND("steep.hospital-a", 0, 0.0, 50.0);
	rr = ROUND_RESULT(o);
	cr_assert(rr->status == 1 && strstr(rr->reason, "outside the site's bounds"));
	cr_assert(!rr->has_n && rr->n_g == 0 && rr->n_h == 0 && !rr->has_ll);
	fv_pb_free(pb);
	free(o.bytes);
	o = ROUND("long.hospital-a", 60, 0.0, 1.0);
	rr = ROUND_RESULT(o);
	cr_assert(rr->status == 1 && strstr(rr->reason, "outside the site's bounds"));
	fv_pb_free(pb);
	free(o.bytes);
	cr_assert_eq(h_count(LOG, "reason=round_out_of_bounds"), 2);
	control("rounds out of bounds");

	/* #51 a step replayed with other coefficients: every new (a, b) at a step already
	 * released is one more equation on the same records; refused. The same step with the
	 * same coefficients (a resend) gives the same sums. */
	o = ROUND("fit.hospital-a", 0, 0.0, 1.0);
	rr = ROUND_RESULT(o);
	cr_assert_eq(rr->status, 0, "%s", rr->reason);
	cr_assert(rr->n >= MIN_COHORT && rr->n_g == 2 && rr->n_h == 4);
	fv_pb_free(pb);
	free(o.bytes);
	o = ROUND("fit.hospital-a", 1, 0.1, 1.1);
	rr = ROUND_RESULT(o);
	cr_assert_eq(rr->status, 0, "%s", rr->reason);
	double g0 = rr->g[0];
	fv_pb_free(pb);
	free(o.bytes);
	o = ROUND("fit.hospital-a", 1, 0.1, 1.1);
	rr = ROUND_RESULT(o);
	cr_assert_eq(rr->status, 0, "a resent round refused: %s", rr->reason);
	cr_assert_eq(rr->g[0], g0);
	fv_pb_free(pb);
	free(o.bytes);
	for (int i = 0; i < 4; i++) {
		o = i < 3 ? ROUND("fit.hospital-a", 1, 0.5 + i, 2.0 - i)
			  : ROUND("fit.hospital-a", 0, 0.0, 1.0);
		rr = ROUND_RESULT(o);
		cr_assert_eq(rr->status, 1, "replayed step %u released", rr->step);
		cr_assert(!rr->has_n && rr->n_g == 0);
		cr_assert(strstr(rr->reason, "replay"), "%s", rr->reason);
		fv_pb_free(pb);
		free(o.bytes);
	}
	cr_assert_eq(h_count(LOG, "reason=round_replayed"), 4, "%s", h_slurp(LOG));
	control("replayed rounds");

	/* #52 the same job again and again under new ids: released until the site's query
	 * budget (4 results: three controls and the fit) is spent, then vetoed. */
	o = send_job(job, sizeof(job), ctl);
	assert_vetoed(&o, "query budget", "event=job_vetoed_by_policy");
	o = send_job(job, sizeof(job), ctl);
	assert_vetoed(&o, "query budget", "event=job_vetoed_by_policy");
	assert_alive();
	free(ctl);
#undef ROUND
#undef ROUND_RESULT
}

/* #53 a release history longer than the node once compared: after 64 jobs of 64 rows on the
 * same cohort (written into the history here, as that many jobs would), a threshold sweep
 * in one-record steps must still have its close rows withheld. */
Test(evil_coordinator, sweep_after_a_long_history, .fini = teardown, .timeout = 240)
{
	char job[64], spec[64 * 24 + 64], hist[512];
	struct evil_outcome o;
	uint64_t calls[128];
	size_t ncalls;

	start(NULL, 1000);
	char *ctl = bench("control", "{\"subgroups\": []}");
	CONTROL_SPEC = ctl;
	o = send_job(job, sizeof(job), ctl);
	struct fv_pb *pb = site_result(&o);
	const Fedval__SiteResult *r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0);
	ncalls = calls_of(r, calls, 128);
	path(hist, sizeof(hist), "hospital-a.state/released.jsonl");
	FILE *f = fopen(hist, "a");
	cr_assert(f);
	for (int k = 0; k < 64; k++) {
		fprintf(f,
			"{\"job\":\"old-%d\",\"dataset\":\"default\",\"ts_us\":0,\"n\":%llu,"
			"\"n_pos\":%llu,\"rows\":[",
			k, (unsigned long long)r->n, (unsigned long long)r->n_pos);
		for (int t = 0; t < 64; t++)
			fprintf(f, "%s[0.999,0,0]", t ? "," : "");
		fprintf(f, "]}\n");
	}
	fclose(f);
	fv_pb_free(pb);
	free(o.bytes);

	size_t len = (size_t)snprintf(spec, sizeof(spec), "{\"thresholds\": [");
	for (int i = 0; i < 63; i++)
		len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%.4f", i ? ", " : "",
					0.15 + 0.0005 * i);
	snprintf(spec + len, sizeof(spec) - len, "], \"operating_points\": [], \"subgroups\": []}");
	char *sweep = bench("sweep", spec);
	o = send_job(job, sizeof(job), sweep);
	pb = site_result(&o);
	r = (const Fedval__SiteResult *)pb->msg;
	cr_assert_eq(r->status, 0, "%s", r->reason);
	assert_safe(r);
	ncalls += calls_of(r, calls + ncalls, 128 - ncalls);
	assert_no_close_rows(calls, ncalls);
	fv_pb_free(pb);
	free(o.bytes);
	free(sweep);
	control("a long history");
	free(ctl);
}
