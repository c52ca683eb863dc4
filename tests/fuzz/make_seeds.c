/* fedval fuzz seeds: writes the binary seed corpora of the fuzz targets (envelope, pb, chunk,
 * gate, model, audit_log, audit_extract) with the project's own code, so that every seed is a
 * real artefact: envelopes sealed and audit extracts signed with the test key
 * tests/fuzz/fuzz-test-key.pem, ONNX written by fv_model_write_logreg, logs by fv_audit_append.
 * Seeds named "ok-*" are valid: the replay tests require their target to accept them. The text
 * corpora (config, expr, summary) and the ONNX models made by python3-onnx are kept as files.
 *
 * Run once at authoring time, from the repository root, after building the libraries:
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -Itests -I/work/build-fuzz/gen \
 *      tests/fuzz/make_seeds.c -L/work/build-fuzz -lfv_audit -lfv_privacy -lfv_stats -lfv_wire \
 *      -lfv_model -lfv_crypto -lfv_util -lfv_proto -lfv_onnxproto -lopenblas -lprotobuf-c -lzstd \
 *      -ljansson -lcrypto -linih -lm -lpthread -o /tmp/make_seeds
 *   chmod 600 tests/fuzz/fuzz-test-key.pem && /tmp/make_seeds tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/audit.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/model.h"
#include "fedval/util.h"
#include "fedval/wire.h"

static const char *root;
static struct fv_key *key;

static void die(const char *what, const struct fv_diag *d)
{
	fprintf(stderr, "make_seeds: %s%s%s\n", what, d ? ": " : "", d ? d->msg : "");
	exit(1);
}

static void put(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(buf, 1, len, f) != len || fclose(f))
		die(path, NULL);
}

static void put_msg(const char *dir, const char *name, const ProtobufCMessage *m)
{
	uint8_t *b;
	size_t n;

	if (fv_pb_pack(m, &b, &n))
		die("pack", NULL);
	put(dir, name, b, n);
	fv_free(b);
}

/* ---- SiteResult, as a node's evaluation makes it ---- */
static Fedval__SiteResult res;
static Fedval__ThresholdCounts rows[3], *rowp[3];
static Fedval__SubgroupResult grp[2], *grpp[2];
static Fedval__ModelComparison cmp, *cmpp[1];

static void site_result(void)
{
	static const uint64_t c[3][4] = {{0, 0, 0, 0}, {20, 15, 55, 10}, {0, 0, 70, 30}};

	fedval__site_result__init(&res);
	res.job_id = "job-1";
	res.run_id = "run-1";
	res.node = "site-a";
	res.model_version_id = "3f2a";
	res.benchmark = "hf-readmit@1";
	res.has_n = res.has_n_pos = 1;
	res.n = 100;
	res.n_pos = 30;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 1;
	res.auc = 0.8;
	res.auc_var = 0.001;
	res.brier_sum = 12.5;
	res.sum_p = 29.0;
	res.has_min_cell = 1;
	res.min_cell = 5;
	res.software = "fedval-node 0.1.0";
	for (int i = 0; i < 3; i++) {
		fedval__threshold_counts__init(&rows[i]);
		rows[i].threshold = 0.1 + 0.4 * i;
		rows[i].tp = c[i][0];
		rows[i].fp = c[i][1];
		rows[i].tn = c[i][2];
		rows[i].fn = c[i][3];
		rowp[i] = &rows[i];
	}
	rows[0].has_suppressed = rows[0].suppressed = 1;
	res.n_counts = 3;
	res.counts = rowp;
}

static void add_subgroups(void)
{
	fedval__subgroup_result__init(&grp[0]);
	grp[0].subgroup = "sex";
	grp[0].category = "F";
	grp[0].has_n = grp[0].has_n_pos = 1;
	grp[0].n = 50;
	grp[0].n_pos = 12;
	grp[0].has_auc = 1;
	grp[0].auc = 0.77;
	fedval__subgroup_result__init(&grp[1]);
	grp[1].subgroup = "sex";
	grp[1].category = "M";
	grp[1].has_suppressed = grp[1].suppressed = 1;
	grpp[0] = &grp[0];
	grpp[1] = &grp[1];
	res.n_subgroups = 2;
	res.subgroups = grpp;
}

static void add_comparison(void)
{
	fedval__model_comparison__init(&cmp);
	cmp.model_version_id = "9c1b";
	cmp.auc = 0.74;
	cmp.auc_var = 0.0012;
	cmp.cov_with_primary = 0.0008;
	cmpp[0] = &cmp;
	res.n_comparisons = 1;
	res.comparisons = cmpp;
}

static void gate_seeds(void)
{
	site_result();
	put_msg("gate", "ok-result", &res.base);
	put_msg("pb", "ok-site-result", &res.base);
	add_subgroups();
	put_msg("gate", "ok-subgroups", &res.base);
	add_comparison();
	put_msg("gate", "ok-comparison", &res.base);
	put_msg("pb", "ok-site-result-full", &res.base);
	res.n_counts = 0;
	put_msg("gate", "ok-no-thresholds", &res.base);

	site_result();
	res.status = 1;
	res.reason = "cohort below minimum";
	res.has_n = res.has_n_pos = res.has_auc = res.has_auc_var = 0;
	res.has_brier_sum = res.has_sum_p = 0;
	res.n_counts = 0;
	put_msg("gate", "ok-failed", &res.base);
	res.has_n = 1;
	put_msg("gate", "failed-with-n", &res.base);

	site_result();
	rows[1].fn = 3; /* a small cell */
	rows[1].tp = 27;
	put_msg("gate", "small-cell", &res.base);
	site_result();
	res.n = 40;
	put_msg("gate", "small-cohort", &res.base);
	site_result();
	rows[1].tn = 54;
	put_msg("gate", "does-not-add-up", &res.base);
	site_result();
	rows[0].tp = 7;
	put_msg("gate", "suppressed-with-counts", &res.base);
	site_result();
	res.auc = 1.5;
	put_msg("gate", "auc-out-of-range", &res.base);
	site_result();
	add_subgroups();
	grp[0].n = 98;
	grp[0].n_pos = 28;
	put_msg("gate", "subgroup-small-complement", &res.base);
	site_result();
	add_comparison();
	cmp.auc_var = -1.0 / 0.0;
	put_msg("gate", "comparison-inf", &res.base);

	/* Bytes no packer makes: a field repeated (last one wins), an unknown field, padding. */
	{
		uint8_t *b, *x;
		size_t n;
		site_result();
		if (fv_pb_pack(&res.base, &b, &n))
			die("pack", NULL);
		x = malloc(n + 8);
		memcpy(x, b, n);
		x[n] = 0x40; /* field 8 (n), varint */
		x[n + 1] = 3;
		put("gate", "repeated-n", x, n + 2);
		x[n] = 0xf8; /* field 127, varint */
		x[n + 1] = 0x07;
		x[n + 2] = 1;
		put("gate", "unknown-field", x, n + 3);
		x[n] = 0x40;
		x[n + 1] = 0xe4; /* 100 padded to three bytes */
		x[n + 2] = 0x80;
		x[n + 3] = 0x00;
		put("gate", "padded-varint", x, n + 4);
		free(x);
		fv_free(b);
	}
}

/* ---- Job, SubmitResult ---- */
static void job_seeds(void)
{
	Fedval__Job job;
	Fedval__ModelRef ref, ref2, *refs[1];
	Fedval__RoundRequest rr;
	Fedval__SubmitResult sr;
	double beta[2] = {0.1, 1.0};
	uint8_t *b, sig[FV_SIG_MAX];
	size_t n, siglen = sizeof(sig);

	fedval__model_ref__init(&ref);
	ref.version_id = "3f2a";
	ref.onnx_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	ref.size = 1234;
	ref.manifest_json = "{\"name\":\"hf\",\"version\":\"1\"}";
	ref.vendor = "acme";
	ref.vendor_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	ref.vendor_signature.data = (uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x01";
	ref.vendor_signature.len = 8;
	fedval__job__init(&job);
	job.job_id = "job-1";
	job.run_id = "run-1";
	job.benchmark_json = "{\"name\":\"hf-readmit\",\"version\":1,\"variables\":[\"age\"]}";
	job.model = &ref;
	job.has_created_us = 1;
	job.created_us = 1700000000000000;
	put_msg("pb", "ok-job", &job.base);
	ref2 = ref;
	ref2.version_id = "9c1b";
	refs[0] = &ref2;
	job.n_compare_models = 1;
	job.compare_models = refs;
	job.dataset = "ward-7";
	fedval__round_request__init(&rr);
	rr.kind = "recalibration";
	rr.step = 2;
	rr.n_beta = 2;
	rr.beta = beta;
	job.round = &rr;
	put_msg("pb", "ok-job-full", &job.base);

	site_result();
	if (fv_pb_pack(&res.base, &b, &n) || fv_sign(key, b, n, sig, &siglen))
		die("sign", NULL);
	fedval__submit_result__init(&sr);
	sr.result.data = b;
	sr.result.len = n;
	sr.signature.data = sig;
	sr.signature.len = siglen;
	put_msg("pb", "ok-submit-result", &sr.base);
	sr.result.data = (uint8_t *)"\x0a\x03job";
	sr.result.len = 5;
	put_msg("pb", "ok-submit-truncated-result", &sr.base);
	fv_free(b);
	put("pb", "truncated", "\x0a\x05job", 4);
	put("pb", "huge-length", "\x0a\xff\xff\xff\xff\x0f", 6);
}

/* ---- envelopes ---- */
static void seal(const char *name, Fedval__Envelope *env, const char *principal)
{
	uint8_t *b;
	size_t n;

	if (fv_wire_seal(env, principal, 1700000000000001, key, &b, &n))
		die("seal", NULL);
	put("envelope", name, b, n);
	fv_free(b);
}

static void envelope_seeds(void)
{
	Fedval__Envelope env;
	Fedval__PollJobs poll;
	Fedval__PollReply pr;
	Fedval__Ack ack;
	Fedval__Error err;
	Fedval__EnrolRequest enr;
	Fedval__ModelChunk ch;
	Fedval__SubmitResult sr;
	Fedval__JobDecision jd;
	Fedval__StartRun st;
	Fedval__Job job, *jobs[1];
	Fedval__ModelRef ref;
	char *ids[2] = {"9c1b", "77aa"};
	uint8_t raw[600], z[FV_MODEL_CHUNK_MAX], *b;
	size_t zlen, n;

	fedval__envelope__init(&env);
	fedval__poll_jobs__init(&poll);
	poll.has_wait_ms = 1;
	poll.wait_ms = 25000;
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	seal("ok-poll", &env, "site-a");

	fedval__ack__init(&ack);
	ack.id = "job-1";
	ack.status = "accepted";
	env.body_case = FEDVAL__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	seal("ok-ack", &env, "coordinator");

	fedval__error__init(&err);
	err.code = FV_EREFUSED;
	err.message = "refused by policy";
	env.body_case = FEDVAL__ENVELOPE__BODY_ERROR;
	env.error = &err;
	seal("ok-error", &env, "coordinator");

	fedval__enrol_request__init(&enr);
	enr.cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	enr.software = "fedval-node 0.1.0";
	env.body_case = FEDVAL__ENVELOPE__BODY_ENROL;
	env.enrol = &enr;
	seal("ok-enrol", &env, "site-a");

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7 % 13);
	if (fv_chunk_compress(raw, sizeof(raw), z, &zlen))
		die("compress", NULL);
	fedval__model_chunk__init(&ch);
	ch.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	ch.index = 0;
	ch.count = 1;
	ch.size = sizeof(raw);
	ch.chunk_raw = FV_MODEL_CHUNK_RAW;
	ch.data.data = z;
	ch.data.len = zlen;
	env.body_case = FEDVAL__ENVELOPE__BODY_CHUNK;
	env.chunk = &ch;
	seal("ok-chunk", &env, "coordinator");

	site_result();
	if (fv_pb_pack(&res.base, &b, &n))
		die("pack", NULL);
	fedval__submit_result__init(&sr);
	sr.result.data = b;
	sr.result.len = n;
	sr.signature.data = (uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x01";
	sr.signature.len = 8;
	env.body_case = FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT;
	env.submit_result = &sr;
	seal("ok-submit-result", &env, "site-a");
	fv_free(b);

	fedval__job_decision__init(&jd);
	jd.job_id = "job-1";
	jd.decision = "vetoed";
	jd.reason = "not approved by the ethics board";
	env.body_case = FEDVAL__ENVELOPE__BODY_JOB_DECISION;
	env.job_decision = &jd;
	seal("ok-job-decision", &env, "site-a");

	fedval__start_run__init(&st);
	st.benchmark = "hf-readmit@1";
	st.model_version_id = "3f2a";
	st.n_compare_model_version_ids = 2;
	st.compare_model_version_ids = ids;
	st.kind = "recalibration";
	env.body_case = FEDVAL__ENVELOPE__BODY_START_RUN;
	env.start_run = &st;
	seal("ok-start-run", &env, "acme");

	fedval__model_ref__init(&ref);
	ref.version_id = "3f2a";
	ref.onnx_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	ref.size = 1234;
	ref.manifest_json = "{}";
	ref.vendor = "acme";
	ref.vendor_cert_pem = "";
	fedval__job__init(&job);
	job.job_id = "job-1";
	job.run_id = "run-1";
	job.benchmark_json = "{}";
	job.model = &ref;
	jobs[0] = &job;
	fedval__poll_reply__init(&pr);
	pr.n_jobs = 1;
	pr.jobs = jobs;
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL_REPLY;
	env.poll_reply = &pr;
	seal("ok-poll-reply", &env, "coordinator");

	/* Refused ones: unsigned, another version, no body, a long principal, a bad signature. */
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	env.version = FV_PROTOCOL_VERSION;
	env.principal = "site-a";
	env.seq = 5;
	put_msg("envelope", "unsigned", &env.base);
	env.has_signature = 1;
	env.signature.data = (uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x01";
	env.signature.len = 8;
	put_msg("envelope", "bad-signature", &env.base);
	env.version = 2;
	put_msg("envelope", "version-2", &env.base);
	env.version = FV_PROTOCOL_VERSION;
	env.body_case = FEDVAL__ENVELOPE__BODY__NOT_SET;
	put_msg("envelope", "no-body", &env.base);
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.principal = "a-principal-name-that-is-much-longer-than-sixty-four-characters-xxxx";
	put_msg("envelope", "long-principal", &env.base);
}

/* ---- zstd chunks: 3 bytes of expected size, then the frame ---- */
static void chunk_one(const char *name, const uint8_t *raw, size_t n, long expect_delta)
{
	uint8_t *z = malloc(FV_MODEL_CHUNK_MAX + 3);
	size_t zlen, expect = (size_t)((long)n + expect_delta);

	if (fv_chunk_compress(raw, n, z + 3, &zlen))
		die("compress", NULL);
	z[0] = (uint8_t)expect;
	z[1] = (uint8_t)(expect >> 8);
	z[2] = (uint8_t)(expect >> 16);
	put("chunk", name, z, zlen + 3);
	free(z);
}

static void chunk_seeds(void)
{
	static uint8_t raw[20000];
	uint64_t s = 1;

	for (size_t i = 0; i < sizeof(raw); i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		raw[i] = i < 10000 ? (uint8_t)(i % 17) : (uint8_t)(s >> 56);
	}
	chunk_one("ok-empty", raw, 0, 0);
	chunk_one("ok-one-byte", raw, 1, 0);
	chunk_one("ok-text", (const uint8_t *)"ONNX model bytes, ONNX model bytes, ONNX", 40, 0);
	chunk_one("ok-repetitive", raw, 10000, 0);
	chunk_one("ok-random", raw + 10000, 4096, 0);
	chunk_one("ok-mixed", raw + 6000, 8000, 0);
	chunk_one("size-too-small", raw, 1000, -1);
	chunk_one("size-too-large", raw, 1000, 1);
	{
		/* A frame without a content size, and two frames back to back. */
		uint8_t f[64] = {0, 0, 0}, two[256];
		size_t n = 0, m = 0;
		fv_chunk_compress((const uint8_t *)"abc", 3, two + 3, &n);
		fv_chunk_compress((const uint8_t *)"", 0, two + 3 + n, &m);
		two[0] = 3, two[1] = two[2] = 0;
		put("chunk", "two-frames", two, 3 + n + m);
		f[3] = 0x28, f[4] = 0xb5, f[5] = 0x2f, f[6] = 0xfd; /* magic */
		f[7] = 0x00;					    /* no content size */
		f[8] = 0x00;					    /* window descriptor */
		put("chunk", "no-content-size", f, 12);
		f[3] = 0x50, f[4] = 0x2a, f[5] = 0x4d, f[6] = 0x18; /* skippable frame */
		f[7] = 4, f[8] = f[9] = f[10] = 0;
		put("chunk", "skippable", f, 15);
	}
}

/* ---- models ---- */
static void model_seeds(void)
{
	static const double coef[8] = {0.5, -1.25, 2.0, 0.03, -0.7, 1.1, 0.0, 3.5};
	static const struct {
		const char *name, *input;
		size_t nf;
	} lr[] = {
	    {"ok-logreg-1", "x", 1}, {"ok-logreg-3", "features", 3}, {"ok-logreg-8", "input", 8}};
	struct fv_diag d;
	uint8_t *b;
	size_t n;

	for (size_t i = 0; i < sizeof(lr) / sizeof(lr[0]); i++) {
		if (fv_model_write_logreg(lr[i].input, lr[i].nf, coef, -0.25, &b, &n, &d))
			die("logreg", &d);
		put("model", lr[i].name, b, n);
		if (i == 1) {
			put("model", "logreg-truncated", b, n / 2);
			b[n / 3] ^= 0x40;
			put("model", "logreg-bitflip", b, n);
		}
		fv_free(b);
	}
}

/* ---- audit logs and extracts ---- */
static void audit_seeds(void)
{
	char dir[] = "/tmp/fv-make-seeds.XXXXXX", path[64], *text;
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	uint8_t *buf;
	size_t len;

	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	if (fv_audit_open(path, &a, &d))
		die("audit open", &d);
	put("audit_log", "ok-empty", "", 0);
	for (int i = 1; i <= 6; i++) {
		char ev[32], payload[16];
		snprintf(ev, sizeof(ev), "job.%s", i % 2 ? "dispatched" : "done");
		snprintf(payload, sizeof(payload), "%d", i);
		if (fv_audit_append(
			a, ev, i % 3 ? "coordinator" : "site-a", payload, strlen(payload),
			i % 3 ? NULL : "{\"job\":\"j-1\",\"n\":\"7\",\"reason\":\"ok\"}", NULL, &d))
			die("append", &d);
		if (fv_file_read(path, 1u << 20, &buf, &len, &d))
			die("read", &d);
		if (i == 1 || i == 3 || i == 6) {
			char name[32];
			snprintf(name, sizeof(name), "ok-%d-entries", i);
			put("audit_log", name, buf, len);
		}
		if (i == 6) {
			char *l2 = strchr((char *)buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
			put("audit_log", "torn-last-line", buf, len - 5);
			/* the second line deleted: a seq gap */
			{
				size_t head = (size_t)(l2 - (char *)buf);
				uint8_t *x = malloc(len);
				memcpy(x, buf, head);
				memcpy(x + head, l3, len - (size_t)(l3 - (char *)buf));
				put("audit_log", "line-deleted", x, len - (size_t)(l3 - l2));
				free(x);
			}
			l2[20] ^= 1;
			put("audit_log", "byte-changed", buf, len);
		}
		fv_free(buf);
	}
	fv_audit_close(a);
	put("audit_log", "not-json", "hello\n", 6);
	put("audit_log", "empty-object", "{}\n", 3);

	if (fv_audit_export(path, key, 0, 0, &text, &len, &d))
		die("export", &d);
	put("audit_extract", "ok-whole", text, len);
	free(text);
	if (fv_audit_export(path, key, 2, 4, &text, &len, &d))
		die("export", &d);
	put("audit_extract", "ok-middle", text, len);
	text[len / 2] ^= 1;
	put("audit_extract", "byte-changed", text, len);
	put("audit_extract", "truncated", text, len / 3);
	free(text);
	if (fv_audit_export(path, key, 6, 6, &text, &len, &d))
		die("export", &d);
	put("audit_extract", "ok-last", text, len);
	free(text);
	if (fv_audit_export(path, key, 1, 1, &text, &len, &d))
		die("export", &d);
	put("audit_extract", "ok-first", text, len);
	free(text);
	put("audit_extract", "not-an-object", "[1,2,3]", 7);
	unlink(path);
	rmdir(dir);
}

/* Regression, survival and multiclass results: accepted ones, and one broken in each way the
 * gate must refuse. */
static void task_seeds(void)
{
	static Fedval__RegressionSums g = FEDVAL__REGRESSION_SUMS__INIT;
	static Fedval__SurvivalCounts sv = FEDVAL__SURVIVAL_COUNTS__INIT;
	static Fedval__MulticlassResult mc = FEDVAL__MULTICLASS_RESULT__INIT;
	static Fedval__ClassResult cl[3], *clp[3];
	static uint64_t pred[3][3] = {{30, 5, 5}, {5, 25, 0}, {0, 10, 20}};

	site_result();
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = res.has_n_pos = 0;
	res.task = "regression";
	g.mean_y = 7.5;
	g.mean_p = 7.1;
	g.syy = 400;
	g.spp = 300;
	g.spy = 250;
	g.sae = 120;
	g.sse = 210;
	res.regression = &g;
	put_msg("gate", "ok-regression", &res.base);
	g.sse = -1;
	put_msg("gate", "regression-negative-sum", &res.base);
	g.sse = 210;
	res.has_n_pos = 1; /* a regression has no events */
	put_msg("gate", "regression-with-events", &res.base);

	res.regression = NULL;
	res.task = "survival";
	res.n_pos = 30;
	sv.comparable = 2000;
	sv.concordant2 = 2900;
	res.survival = &sv;
	put_msg("gate", "ok-survival", &res.base);
	res.n_pos = 3;
	put_msg("gate", "survival-small-events", &res.base);
	res.n_pos = 30;
	sv.comparable = 5000; /* more pairs than 100 records have */
	put_msg("gate", "survival-too-many-pairs", &res.base);

	res.survival = NULL;
	res.has_n_pos = 0;
	res.task = "multiclass";
	for (int k = 0; k < 3; k++) {
		fedval__class_result__init(&cl[k]);
		cl[k].index = (uint32_t)k;
		cl[k].has_n = cl[k].has_auc = cl[k].has_auc_var = 1;
		cl[k].n = pred[k][0] + pred[k][1] + pred[k][2];
		cl[k].auc = 0.8;
		cl[k].auc_var = 0.002;
		cl[k].n_predicted = 3;
		cl[k].predicted = pred[k];
		clp[k] = &cl[k];
	}
	mc.classes = 3;
	mc.n_per_class = 3;
	mc.per_class = clp;
	mc.has_micro_auc = 1;
	mc.micro_auc = 0.81;
	res.multiclass = &mc;
	put_msg("gate", "ok-multiclass", &res.base);
	pred[1][2] = 2; /* a small confusion cell */
	pred[1][1] = 23;
	put_msg("gate", "multiclass-small-cell", &res.base);
	pred[1][2] = 0;
	pred[1][1] = 25;
	cl[2].has_suppressed = cl[2].suppressed = 1; /* one class withheld alone */
	cl[2].has_n = cl[2].has_auc = cl[2].has_auc_var = 0;
	cl[2].n_predicted = 0;
	put_msg("gate", "multiclass-one-withheld", &res.base);
	res.multiclass = NULL;
	res.task = NULL;
}

int main(int argc, char **argv)
{
	struct fv_diag d;

	if (argc == 3 && !strcmp(argv[2], "tasks")) { /* only these (no key needed) */
		root = argv[1];
		task_seeds();
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds CORPUS_DIR [tasks]\n");
		return 2;
	}
	root = argv[1];
	if (fv_key_load("tests/fuzz/fuzz-test-key.pem", &key, &d))
		die("key", &d);
	gate_seeds();
	task_seeds();
	job_seeds();
	envelope_seeds();
	chunk_seeds();
	model_seeds();
	audit_seeds();
	fv_key_free(key);
	return 0;
}
