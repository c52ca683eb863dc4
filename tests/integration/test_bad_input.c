/* Hostile and broken peers against a real coordinator (DESIGN.md §4, issue 3 item 8). Each is
 * refused with a reason, and the coordinator keeps serving a well-behaved hospital node: after
 * every attack a benchmark run still completes there. */
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "fedval/limits.h"
#include "fedval/wire.h"
#include "harness.h"

static struct fed F;
static char VID[128];

static void teardown(void)
{
	h_fed_cleanup(&F);
}

/* A raw REQ socket over TLS, with our own certificate or none (cert == NULL). The CA given is
 * the one the client trusts for the server. */
static int raw_dial(const char *ca, const char *cert, const char *key, nng_socket *s)
{
	nng_tls_config *tls = NULL;
	int rv;
	cr_assert_eq(nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT), 0);
	nng_tls_config_auth_mode(tls, NNG_TLS_AUTH_MODE_REQUIRED);
	cr_assert_eq(nng_tls_config_ca_file(tls, ca), 0);
	nng_tls_config_server_name(tls, "localhost");
	if (cert) {
		char *c = h_slurp(cert), *k = h_slurp(key);
		cr_assert_eq(nng_tls_config_own_cert(tls, c, k, NULL), 0);
		free(c);
		free(k);
	}
	cr_assert_eq(nng_req0_open(s), 0);
	nng_socket_set_ptr(*s, NNG_OPT_TLS_CONFIG, tls);
	nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, 4000);
	nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, 4000);
	nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	rv = nng_dial(*s, F.url, NULL, 0);
	nng_tls_config_free(tls);
	return rv;
}

/* Send bytes, return the reply envelope (NULL when none came). */
static struct fv_pb *raw_call(nng_socket s, const void *buf, size_t len)
{
	nng_msg *m = NULL;
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	if (nng_send(s, (void *)buf, len, 0) != 0)
		return NULL;
	if (nng_recvmsg(s, &m, 0) != 0)
		return NULL;
	cr_assert_eq(fv_wire_open(nng_msg_body(m), nng_msg_len(m), &pb, &d), FV_OK,
		     "the coordinator's reply is malformed: %s", d.msg);
	nng_msg_free(m);
	return pb;
}

static char *path_of(const char *fmt, const char *a)
{
	static char buf[4][512];
	static int k;
	char *p = buf[k++ % 4];
	char rel[256];
	snprintf(rel, sizeof(rel), fmt, a);
	snprintf(p, 512, "%s/%s", F.dir, rel);
	return p;
}

static struct fv_key *load_key(const char *name)
{
	struct fv_key *k = NULL;
	struct fv_diag d;
	cr_assert_eq(fv_key_load(path_of("pki/%s.key", name), &k, &d), FV_OK, "%s", d.msg);
	return k;
}

/* A sealed envelope from `name`: enrol (with its certificate) or poll. */
static void seal(const char *name, bool enrol, uint64_t seq, uint8_t **out, size_t *len)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__EnrolRequest er = FEDVAL__ENROL_REQUEST__INIT;
	Fedval__PollJobs pj = FEDVAL__POLL_JOBS__INIT;
	struct fv_key *k = load_key(name);
	char *pem = h_slurp(path_of("pki/%s.crt", name));
	if (enrol) {
		er.cert_pem = pem;
		env.body_case = FEDVAL__ENVELOPE__BODY_ENROL;
		env.enrol = &er;
	} else {
		pj.has_wait_ms = true;
		pj.wait_ms = 100;
		env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
		env.poll = &pj;
	}
	cr_assert_eq(fv_wire_seal(&env, name, seq, k, out, len), FV_OK);
	fv_key_free(k);
	free(pem);
}

/* The error a reply carries ("" when it is not an error). */
static const char *error_of(struct fv_pb *pb)
{
	cr_assert(pb, "no reply");
	Fedval__Envelope *e = fv_wire_env(pb);
	return e->body_case == FEDVAL__ENVELOPE__BODY_ERROR ? e->error->message : "";
}

/* The good hospital still gets its work done. */
static void good_node_still_served(void)
{
	char *out = NULL, run[128];
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "hospital-a") && strstr(out, " done"), "%s", out);
	free(out);
}

static void setup(void)
{
	char *out = NULL;
	h_fed_init(&F);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN(
			       "fedval") " demo data --profile 0 --rows 2000 "
					 "--out dev.csv && " H_BIN(
					     "fedval") " demo train --data dev.csv "
						       "--out-dir model && " H_BIN(
							   "fedval") " demo data --profile 1 "
								     "--rows 1500 --out a.csv 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	h_node_add(&F, "hospital-a", "a.csv", NULL);
	h_coord_start(&F);
	h_node_start(&F, 0);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0, "%s", out);
	h_last_line(out, VID, sizeof(VID));
	free(out);
	cr_assert_eq(h_cli(&F, NULL, "authority",
			   "benchmark create " FV_SOURCE_DIR "/deploy/demo/benchmark.json"),
		     0);
}

static const char *coord_log(void)
{
	return path_of("%s", "coordinator.log");
}

Test(bad_input, tls_without_or_with_foreign_certificate, .init = setup, .fini = teardown,
     .timeout = 120)
{
	nng_socket s;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_diag d;

	/* No client certificate: the handshake is refused, no request is ever answered. */
	h_issue(&F, FV_ROLE_NODE, "nocert");
	int rv = raw_dial(path_of("%s", "pki/ca/ca.crt"), NULL, NULL, &s);
	if (rv == 0) {
		seal("nocert", true, (uint64_t)fv_now_us(), &buf, &len);
		cr_assert_null(raw_call(s, buf, len), "a request without client certificate was "
						      "answered");
		free(buf);
	}
	nng_close(s);

	/* A certificate of another federation's CA. */
	char other[512];
	snprintf(other, sizeof(other), "%s/other", F.dir);
	cr_assert_eq(fv_pki_init(other, "other-ca", 30, &d), FV_OK);
	const char *dns[] = {NULL};
	cr_assert_eq(fv_pki_issue(other, FV_ROLE_NODE, "impostor", dns, 30, other, &d), FV_OK);
	char crt[600], key[600];
	snprintf(crt, sizeof(crt), "%s/impostor.crt", other);
	snprintf(key, sizeof(key), "%s/impostor.key", other);
	rv = raw_dial(path_of("%s", "pki/ca/ca.crt"), crt, key, &s);
	if (rv == 0) {
		Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
		Fedval__PollJobs pj = FEDVAL__POLL_JOBS__INIT;
		struct fv_key *k = NULL;
		cr_assert_eq(fv_key_load(key, &k, &d), FV_OK);
		env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
		env.poll = &pj;
		cr_assert_eq(fv_wire_seal(&env, "impostor", (uint64_t)fv_now_us(), k, &buf, &len),
			     FV_OK);
		fv_key_free(k);
		cr_assert_null(raw_call(s, buf, len), "a foreign-CA client was answered");
		free(buf);
	}
	nng_close(s);

	/* The same through the real node program: it says why it cannot connect. */
	good_node_still_served();
}

Test(bad_input, unregistered_revoked_badsig_replay, .init = setup, .fini = teardown, .timeout = 120)
{
	nng_socket s;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_pb *rep;

	h_issue(&F, FV_ROLE_NODE, "stranger");
	cr_assert_eq(raw_dial(path_of("%s", "pki/ca/ca.crt"), path_of("pki/%s.crt", "stranger"),
			      path_of("pki/%s.key", "stranger"), &s),
		     0);
	/* Valid certificate, never enrolled: unknown principal. */
	seal("stranger", false, (uint64_t)fv_now_us(), &buf, &len);
	rep = raw_call(s, buf, len);
	cr_assert(strstr(error_of(rep), "unknown principal"), "%s", error_of(rep));
	fv_pb_free(rep);
	free(buf);
	cr_assert(h_count(coord_log(), "unknown principal 'stranger'") >= 1);

	/* Enrol, then replay the very same envelope. */
	seal("stranger", true, (uint64_t)fv_now_us(), &buf, &len);
	rep = raw_call(s, buf, len);
	cr_assert_str_eq(error_of(rep), "");
	fv_pb_free(rep);
	rep = raw_call(s, buf, len);
	cr_assert(strstr(error_of(rep), "replayed"), "%s", error_of(rep));
	fv_pb_free(rep);
	free(buf);

	/* A signature that does not verify. */
	seal("stranger", false, (uint64_t)fv_now_us(), &buf, &len);
	{
		struct fv_pb *pb = NULL;
		struct fv_diag d;
		uint8_t *tampered = NULL;
		size_t tl = 0;
		cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_OK);
		Fedval__Envelope *env = fv_wire_env(pb);
		env->signature.data[env->signature.len / 2] ^= 0x55;
		cr_assert_eq(fv_pb_pack(&env->base, &tampered, &tl), FV_OK);
		rep = raw_call(s, tampered, tl);
		cr_assert(strstr(error_of(rep), "bad signature"), "%s", error_of(rep));
		fv_pb_free(rep);
		fv_pb_free(pb);
		fv_free(tampered);
	}
	free(buf);

	/* Revoked by the authority: refused from then on, and it cannot re-enrol. Its open job
	 * ends ("site revoked"), so the run completes without it. */
	char *out = NULL, run[128];
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s 2>/dev/null", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s", run), 0, "%s", out);
	cr_assert(strstr(out, "stranger"), "the enrolled stranger got no job: %s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "principal revoke stranger --reason test"), 0,
		     "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "site revoked"), "%s", out);
	free(out);
	seal("stranger", false, (uint64_t)fv_now_us(), &buf, &len);
	rep = raw_call(s, buf, len);
	cr_assert(strstr(error_of(rep), "revoked"), "%s", error_of(rep));
	fv_pb_free(rep);
	free(buf);
	seal("stranger", true, (uint64_t)fv_now_us(), &buf, &len);
	rep = raw_call(s, buf, len);
	cr_assert(strstr(error_of(rep), "revoked"), "%s", error_of(rep));
	fv_pb_free(rep);
	free(buf);
	nng_close(s);
	cr_assert(h_count(coord_log(), "event=request_refused") >= 5);
	good_node_still_served();
}

Test(bad_input, oversized_and_malformed_envelopes, .init = setup, .fini = teardown, .timeout = 120)
{
	nng_socket s;
	struct fv_pb *rep;
	size_t big = FV_MAX_ENVELOPE + 4096;
	uint8_t *junk = calloc(1, big);

	h_issue(&F, FV_ROLE_NODE, "noisy");
	cr_assert_eq(raw_dial(path_of("%s", "pki/ca/ca.crt"), path_of("pki/%s.crt", "noisy"),
			      path_of("pki/%s.key", "noisy"), &s),
		     0);
	/* Malformed bytes: an error reply naming the problem. */
	for (size_t i = 0; i < 200; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	rep = raw_call(s, junk, 200);
	cr_assert_neq(strlen(error_of(rep)), 0);
	fv_pb_free(rep);
	/* Oversized: over NNG_OPT_RECVMAXSZ the coordinator drops it unread; no reply. */
	rep = raw_call(s, junk, big);
	cr_assert_null(rep, "an oversized envelope was answered");
	free(junk);
	nng_close(s);
	cr_assert(h_count(coord_log(), "event=request_refused") >= 1);
	good_node_still_served();
}

/* The model bytes at the coordinator are changed after registration: the node computes the
 * digest of what it downloaded, refuses the model and fails the job saying why. */
Test(bad_input, tampered_model_bytes_refused_by_node, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char *out = NULL, run[128], sha[FV_SHA256_HEX], stored[600];
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct fv_diag d;

	cr_assert_eq(fv_file_read(path_of("%s", "model/model.onnx"), 1 << 26, &bytes, &len, &d),
		     FV_OK);
	fv_sha256_hex(bytes, len, sha);
	/* Flip one bit inside the stored artefact (a weight), keeping it a loadable model. */
	bytes[len - 3] ^= 0x01;
	snprintf(stored, sizeof(stored), "%s/models/%s.onnx", F.dir, sha);
	cr_assert_eq(fv_file_write_atomic(stored, bytes, len, 0644, &d), FV_OK, "%s", d.msg);
	fv_free(bytes);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "failed") && strstr(out, "sha256"), "%s", out);
	free(out);
	cr_assert(h_count(path_of("%s", "hospital-a.log"), "event=model_refused") >= 1);
}

/* The coordinator's record of a model is edited so that the job's manifest no longer names the
 * bytes served: the node refuses before downloading anything. */
Test(bad_input, manifest_digest_mismatch_refused_by_node, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char *out = NULL, run[128];
	cr_assert_eq(h_stop(F.coord, 10000), 0);
	F.coord = 0;
	cr_assert_eq(h_run(&out,
			   "sqlite3 %s/coordinator.db \"UPDATE models SET onnx_sha256 = "
			   "'00000000000000000000000000000000000000000000000000000000000000"
			   "00'\" 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	h_coord_start(&F);
	cr_assert(h_wait_log(path_of("%s", "hospital-a.log"), "event=enrolled", 2, 60000));
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "failed") && strstr(out, "model_sha256 does not match"), "%s", out);
	free(out);
}

/* An upload abandoned mid-way (a vendor's client died after a chunk) and a stray partial
 * file: at its next start the coordinator drops the stale upload and every partial model
 * file no unfinished upload owns, and keeps the ones still in progress. */
Test(bad_input, abandoned_uploads_swept_at_start, .init = setup, .fini = teardown, .timeout = 120)
{
	char *out = NULL, stale[600], live[600], stray[600];
	const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		   *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		   *c = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	cr_assert_eq(h_stop(F.coord, 10000), 0);
	F.coord = 0;
	snprintf(stale, sizeof(stale), "%s/models/%s.part", F.dir, a);
	snprintf(live, sizeof(live), "%s/models/%s.part", F.dir, b);
	snprintf(stray, sizeof(stray), "%s/models/%s.part", F.dir, c);
	h_write(stale, "half a model");
	h_write(live, "half a model");
	h_write(stray, "half a model");
	cr_assert_eq(
	    h_run(&out,
		  "sqlite3 %s/coordinator.db \"INSERT INTO uploads VALUES('%s', 100, 2, 1, "
		  "'vendor', 1000); INSERT INTO uploads VALUES('%s', 100, 2, 1, 'vendor', "
		  "strftime('%%s','now') * 1000000)\" 2>&1",
		  F.dir, a, b),
	    0, "%s", out);
	free(out);
	h_coord_start(&F);
	cr_assert(access(stale, F_OK) != 0, "the stale upload's file is still there");
	cr_assert(access(stray, F_OK) != 0, "the stray partial file is still there");
	cr_assert(access(live, F_OK) == 0, "an upload in progress lost its file");
	cr_assert_eq(h_count(coord_log(), "event=upload_swept"), 2);
}

/* A bad value in the middle of the hospital's data: the job fails with the kind of failure
 * (the coordinator never sees the value or the record), the node log names the line, and the
 * node keeps serving: once the file is fixed the next run completes. */
Test(bad_input, bad_data_value_fails_the_job_node_keeps_serving, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char *out = NULL, run[128];

	cr_assert_eq(h_run(&out,
			   "cd %s && cp a.csv a.good && awk -F, 'BEGIN {OFS = \",\"} NR == 700 "
			   "{$2 = \"xyzzy\"} {print}' a.good > a.csv 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "failed") && strstr(out, "data or mapping error") &&
		      strstr(out, "node log"),
		  "%s", out);
	cr_assert(!strstr(out, "xyzzy") && !strstr(out, "700"), "detail left the site: %s", out);
	free(out);
	cr_assert(h_count(path_of("%s", "coordinator.log"), "xyzzy") == 0);
	cr_assert(h_count(path_of("%s", "hospital-a.log"), "line 700") >= 1);
	cr_assert_eq(h_run(NULL, "cd %s && mv a.good a.csv", F.dir), 0);
	good_node_still_served();
}

/* A vendor model that loads and passes every check but fails while running (a Reshape that
 * fits only some batch sizes): the evaluation worker's failure fails the job with a generic
 * reason, and the node keeps serving. */
Test(bad_input, model_failing_at_run_time_fails_the_job_only, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char *out = NULL, run[128], vid[128];

	cr_assert_eq(
	    h_run(&out,
		  "cd %s && /usr/bin/python3 -c \"\n"
		  "import hashlib, json, onnx\n"
		  "from onnx import helper, TensorProto, numpy_helper\n"
		  "import numpy as np\n"
		  "x = helper.make_tensor_value_info('input', TensorProto.FLOAT, [None, 21])\n"
		  "y = helper.make_tensor_value_info('probability', TensorProto.FLOAT, [None, 1])\n"
		  "shape = numpy_helper.from_array(np.array([-1, 11], dtype=np.int64), 'shape')\n"
		  "w = numpy_helper.from_array(np.full((11, 1), 0.01, dtype=np.float32), 'w')\n"
		  "g = helper.make_graph([helper.make_node('Reshape', ['input', 'shape'], ['r']),\n"
		  "  helper.make_node('MatMul', ['r', 'w'], ['z']),\n"
		  "  helper.make_node('Sigmoid', ['z'], ['probability'])], 'g', [x], [y], [shape, "
		  "w])\n"
		  "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])\n"
		  "b = m.SerializeToString()\n"
		  "open('bad.onnx', 'wb').write(b)\n"
		  "man = json.load(open('model/manifest.json'))\n"
		  "man['version'] = '6.6.6'\n"
		  "man['model_sha256'] = hashlib.sha256(b).hexdigest()\n"
		  "json.dump(man, open('bad.json', 'w'))\n"
		  "\" 2>&1",
		  F.dir),
	    0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "vendor", "model submit --model bad.onnx --manifest bad.json"),
		     0, "%s", out);
	h_last_line(out, vid, sizeof(vid));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", vid),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 60", run), 0, "%s", out);
	cr_assert(strstr(out, "failed") && strstr(out, "model failure evaluating"), "%s", out);
	cr_assert(!strstr(out, "Reshape"), "detail left the site: %s", out);
	free(out);
	cr_assert(h_count(path_of("%s", "hospital-a.log"), "event=evaluation_failed") >= 1);
	good_node_still_served();
}
