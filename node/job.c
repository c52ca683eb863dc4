/* One job at the node, from poll to submitted result (DESIGN.md §5, §9):
 *   verify the model reference (vendor certificate, vendor signature, manifest digest);
 *   fetch the ONNX bytes by digest into the cache, resuming a partial download;
 *   evaluate in a child process;
 *   build the SiteResult, suppress small cells, pass the one outbound gate, sign;
 *   persist the signed result before sending it, so a crash loses nothing.
 * Anything that goes wrong with this job fails this job only, with a reason that says what was
 * refused but never quotes local data. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "node.h"

/* Everything a job needs from its benchmark and manifest, parsed once. */
struct job_spec {
	json_t *bench, *manifest;
	const char *cohort;		     /* the benchmark's cohort rule, if any */
	char benchmark[2 * FV_MAX_NAME + 2]; /* name@version */
	const char *label;
	enum fv_task task;
	const char *time;   /* survival: the follow-up time variable */
	uint32_t n_classes; /* multiclass */
	uint32_t n_thr;
	double thr[NODE_MAX_THR];
	uint32_t n_op; /* operating points: the benchmark's, then the vendor's declared one */
	uint8_t op_target[NODE_MAX_OP + 1];
	double op_value[NODE_MAX_OP + 1];
	size_t nvars;
	const char *vars[FV_MAX_FEATURES];
};

static void spec_fini(struct job_spec *s)
{
	json_decref(s->bench);
	json_decref(s->manifest);
}

static fv_err spec_parse(const Fedval__Job *job, struct job_spec *s, struct fv_diag *d)
{
	json_t *thr, *vars, *v;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->bench = json_loads(job->benchmark_json, JSON_REJECT_DUPLICATES, NULL);
	s->manifest = json_loads(job->model->manifest_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(s->bench) || !json_is_object(s->manifest))
		return fv_diag_set(d, FV_EPROTO, "benchmark or manifest is not a JSON object");
	fv_fmt(s->benchmark, sizeof(s->benchmark), "%s@%s",
	       json_string_value(json_object_get(s->bench, "name")),
	       json_string_value(json_object_get(s->bench, "version")));
	s->label = json_string_value(json_object_get(s->bench, "label"));
	s->cohort = json_string_value(json_object_get(s->bench, "cohort"));
	if (!s->label)
		return fv_diag_set(d, FV_EPROTO, "benchmark has no 'label'");
	/* The task (docs/statistics.md): binary unless named. The others carry no thresholds,
	 * operating points or subgroups. */
	const char *task = json_string_value(json_object_get(s->bench, "task"));
	if ((s->task = fv_task_parse(task)) == FV_TASK_UNKNOWN)
		return fv_diag_set(d, FV_EPROTO, "benchmark task '%.20s' is unknown", task);
	if (s->task != FV_TASK_BINARY) {
		const json_t *k = json_object_get(s->bench, "classes");
		if (json_object_get(s->bench, "thresholds") ||
		    json_object_get(s->bench, "operating_points") ||
		    json_object_get(s->bench, "subgroups"))
			return fv_diag_set(d, FV_EPROTO,
					   "a %s benchmark has no thresholds, operating points or "
					   "subgroups",
					   task);
		s->time = json_string_value(json_object_get(s->bench, "time"));
		if ((s->task == FV_TASK_SURVIVAL) != (s->time != NULL))
			return fv_diag_set(d, FV_EPROTO,
					   "'time' names the follow-up variable of a survival "
					   "benchmark, and of no other");
		if ((s->task == FV_TASK_MULTICLASS) != (k != NULL) ||
		    (k && (!json_is_integer(k) || json_integer_value(k) < 3 ||
			   json_integer_value(k) > FV_MAX_CLASSES)))
			return fv_diag_set(d, FV_EPROTO,
					   "'classes' (3 to %d) belongs to a multiclass benchmark, "
					   "and to no other",
					   FV_MAX_CLASSES);
		s->n_classes = k ? (uint32_t)json_integer_value(k) : 0;
	}
	thr = json_object_get(s->bench, "thresholds"); /* NULL for the other tasks: none */
	if (s->task == FV_TASK_BINARY &&
	    (!json_is_array(thr) || json_array_size(thr) > NODE_MAX_THR))
		return fv_diag_set(d, FV_EPROTO,
				   "benchmark 'thresholds' must be an array of at most %d",
				   NODE_MAX_THR);
	json_array_foreach(thr, i, v)
	{
		if (!json_is_number(v))
			return fv_diag_set(d, FV_EPROTO, "thresholds[%zu] is not a number", i);
		s->thr[s->n_thr++] = json_number_value(v);
	}
	/* Operating points (docs/statistics.md): targets the benchmark names, and the vendor's
	 * declared decision threshold, evaluated beside them. */
	json_t *ops = json_object_get(s->bench, "operating_points");
	if (ops && (!json_is_array(ops) || json_array_size(ops) > NODE_MAX_OP))
		return fv_diag_set(d, FV_EPROTO,
				   "benchmark 'operating_points' must be an array of at most %d",
				   NODE_MAX_OP);
	json_array_foreach(ops, i, v)
	{
		const char *t = json_string_value(json_object_get(v, "target"));
		double val = json_number_value(json_object_get(v, "value"));
		int k = !t			      ? 0
			: !strcmp(t, "sensitivity")   ? NODE_OP_SENS
			: !strcmp(t, "specificity")   ? NODE_OP_SPEC
			: !strcmp(t, "positive_rate") ? NODE_OP_PRATE
						      : 0;
		if (!k || !(val > 0 && val < 1))
			return fv_diag_set(d, FV_EPROTO,
					   "operating_points[%zu]: target must be sensitivity, "
					   "specificity or positive_rate and value in (0, 1)",
					   i);
		s->op_target[s->n_op] = (uint8_t)k;
		s->op_value[s->n_op++] = val;
	}
	const json_t *dt = json_object_get(s->manifest, "decision_threshold");
	if (dt &&
	    (!json_is_number(dt) || !(json_number_value(dt) >= 0) || !(json_number_value(dt) <= 1)))
		return fv_diag_set(d, FV_EPROTO,
				   "manifest 'decision_threshold' must be a number in [0, 1]");
	if (dt && s->task == FV_TASK_BINARY) {
		s->op_target[s->n_op] = NODE_OP_DECLARED;
		s->op_value[s->n_op++] = json_number_value(dt);
	}
	if (s->n_thr + s->n_op > NODE_MAX_THR)
		return fv_diag_set(d, FV_EPROTO,
				   "thresholds and operating points together exceed %d",
				   NODE_MAX_THR);
	vars = json_object_get(json_object_get(s->manifest, "input"), "variables");
	if (!json_is_array(vars) || json_array_size(vars) == 0 ||
	    json_array_size(vars) > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EPROTO, "manifest 'input.variables' must list 1..%d names",
				   FV_MAX_FEATURES);
	json_array_foreach(vars, i, v)
	{
		if (!json_is_string(v))
			return fv_diag_set(d, FV_EPROTO,
					   "manifest input.variables[%zu] is not a string", i);
		s->vars[s->nvars++] = json_string_value(v);
	}
	return FV_OK;
}

/* The model reference must be exactly what the vendor signed: a certificate of the federation
 * CA with role vendor and the vendor's name, its signature over the canonical manifest, the
 * manifest's digest as version id, and the manifest naming the bytes we will fetch. */
static fv_err verify_model_ref(const struct node *n, const Fedval__ModelRef *m,
			       const json_t *manifest, struct fv_diag *d)
{
	struct fv_cert_info info;
	char dg[FV_SHA256_HEX];
	const char *sha;
	fv_err e;

	if ((e = fv_cert_verify(n->ca_pem, n->ca_len, m->vendor_cert_pem,
				strlen(m->vendor_cert_pem), &info, d)) != FV_OK) {
		fv_diag_prefix(d, "vendor certificate: ");
		return e;
	}
	if (info.role != FV_ROLE_VENDOR || strcmp(info.name, m->vendor) != 0)
		return fv_diag_set(d, FV_EAUTH,
				   "model signed by '%s' (role %s), not by vendor '%s'", info.name,
				   fv_role_name(info.role), m->vendor);
	if (fv_verify(info.pub, info.pub_len, m->manifest_json, strlen(m->manifest_json),
		      m->vendor_signature.data, m->vendor_signature.len) != FV_OK)
		return fv_diag_set(d, FV_EAUTH,
				   "vendor signature over the manifest does not verify");
	fv_sha256_hex(m->manifest_json, strlen(m->manifest_json), dg);
	if (strcmp(dg, m->version_id) != 0)
		return fv_diag_set(d, FV_EAUTH,
				   "manifest digest %.16s… is not the version id %.16s…", dg,
				   m->version_id);
	sha = json_string_value(json_object_get(manifest, "model_sha256"));
	if (!sha || strcmp(sha, m->onnx_sha256) != 0)
		return fv_diag_set(
		    d, FV_EAUTH, "manifest model_sha256 does not match the model offered (%.16s…)",
		    m->onnx_sha256);
	if (strcmp(json_string_value(json_object_get(manifest, "vendor")) ?: "", m->vendor) != 0)
		return fv_diag_set(d, FV_EAUTH, "manifest vendor is not the signer '%s'",
				   m->vendor);
	if (m->size == 0 || m->size > FV_MAX_MODEL_BYTES)
		return fv_diag_set(d, FV_ELIMIT, "model size %llu outside 1..%u bytes",
				   (unsigned long long)m->size, FV_MAX_MODEL_BYTES);
	return FV_OK;
}

/* Digest of a whole file. */
static fv_err file_sha256(const char *path, char out[FV_SHA256_HEX], struct fv_diag *d)
{
	uint8_t buf[65536], dg[FV_SHA256_LEN];
	struct fv_sha256 *h = NULL;
	FILE *f = fopen(path, "rb");
	size_t r;

	if (!f)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	if (fv_sha256_new(&h) != FV_OK) {
		fclose(f);
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		fv_sha256_update(h, buf, r);
	fv_sha256_final(h, dg);
	if (ferror(f)) {
		fclose(f);
		return fv_diag_set(d, FV_EIO, "%s: read error", path);
	}
	fclose(f);
	fv_hex(dg, sizeof(dg), out);
	return FV_OK;
}

/* Ask for chunk `index` and check the reply is that chunk of that model. */
static fv_err fetch_chunk(struct node *n, const Fedval__ModelRef *m, uint32_t index, uint8_t *raw,
			  size_t *raw_len, struct fv_diag *d)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ChunkRequest body = FEDVAL__CHUNK_REQUEST__INIT;
	struct fv_pb *rp = NULL;
	Fedval__ModelChunk *c;
	uint64_t off, want;
	fv_err e;

	body.sha256 = m->onnx_sha256;
	body.index = index;
	req.body_case = FEDVAL__ENVELOPE__BODY_CHUNK_REQUEST;
	req.chunk_request = &body;
	if ((e = fv_client_call(n->client, &req, 0, &rp, d)) != FV_OK)
		return e;
	if (fv_wire_env(rp)->body_case != FEDVAL__ENVELOPE__BODY_CHUNK) {
		e = fv_diag_set(d, FV_EPROTO, "chunk request answered with %s",
				fv_wire_body_name(fv_wire_env(rp)->body_case));
		goto out;
	}
	c = fv_wire_env(rp)->chunk;
	if (strcmp(c->sha256, m->onnx_sha256) != 0 || c->index != index || c->size != m->size ||
	    c->chunk_raw != FV_MODEL_CHUNK_RAW || c->count != fv_chunk_count(m->size)) {
		e = fv_diag_set(d, FV_EPROTO, "chunk %u does not belong to model %.16s…", index,
				m->onnx_sha256);
		goto out;
	}
	off = (uint64_t)index * FV_MODEL_CHUNK_RAW;
	want = m->size - off < FV_MODEL_CHUNK_RAW ? m->size - off : FV_MODEL_CHUNK_RAW;
	if (c->data.len > FV_MODEL_CHUNK_MAX ||
	    fv_chunk_decompress(c->data.data, c->data.len, raw, (size_t)want) != FV_OK) {
		e = fv_diag_set(d, FV_ECORRUPT,
				"chunk %u of model %.16s… does not decompress to %llu "
				"bytes",
				index, m->onnx_sha256, (unsigned long long)want);
		goto out;
	}
	*raw_len = (size_t)want;
out:
	fv_pb_free(rp);
	return e;
}

/* The model's bytes, from the cache or downloaded into it. A partial download
 * (cache/<sha>.part) resumes at its last whole chunk. The bytes are used only when their
 * SHA-256 is the one the vendor signed. */
static fv_err fetch_model(struct node *n, const Fedval__ModelRef *m, uint8_t **buf, size_t *len,
			  struct fv_diag *d)
{
	char final[4096], part[4096], dg[FV_SHA256_HEX];
	uint32_t count = fv_chunk_count(m->size), first;
	uint8_t *raw = NULL;
	struct stat st;
	int fd = -1;
	fv_err e;

	if (fv_fmt(final, sizeof(final), "%s/%s.onnx", n->cache_dir, m->onnx_sha256) ||
	    fv_fmt(part, sizeof(part), "%s/%s.part", n->cache_dir, m->onnx_sha256))
		return fv_diag_set(d, FV_ELIMIT, "cache_dir path too long");
	if (file_sha256(final, dg, d) == FV_OK) {
		if (strcmp(dg, m->onnx_sha256) == 0)
			goto load;
		fv_log(FV_LOG_WARN, "model_cache_corrupt", "sha256=%.16s action=refetch",
		       m->onnx_sha256);
		unlink(final);
	}
	if ((fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return fv_diag_set(d, FV_EIO, "%s: %s", part, strerror(errno));
	if (fstat(fd, &st) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: %s", part, strerror(errno));
		goto out;
	}
	first = (uint32_t)((uint64_t)st.st_size / FV_MODEL_CHUNK_RAW);
	if (first > count)
		first = 0;
	if (ftruncate(fd, (off_t)first * FV_MODEL_CHUNK_RAW) != 0 ||
	    lseek(fd, (off_t)first * FV_MODEL_CHUNK_RAW, SEEK_SET) < 0) {
		e = fv_diag_set(d, FV_EIO, "%s: %s", part, strerror(errno));
		goto out;
	}
	if (first > 0)
		fv_log(FV_LOG_INFO, "model_download_resume", "sha256=%.16s chunk=%u count=%u",
		       m->onnx_sha256, first, count);
	if (!(raw = fv_alloc(FV_MODEL_CHUNK_RAW))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = first; i < count; i++) {
		size_t got = 0, off = 0;
		if (n->stop && *n->stop) {
			e = fv_diag_set(d, FV_ECANCELED, "stopping");
			goto out;
		}
		if ((e = fetch_chunk(n, m, i, raw, &got, d)) != FV_OK)
			goto out;
		while (off < got) {
			ssize_t w = write(fd, raw + off, got - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				e = fv_diag_set(d, FV_EIO, "%s: %s", part, strerror(errno));
				goto out;
			}
			off += (size_t)w;
		}
		/* Each chunk is durable before the next is asked for: a crash resumes here. */
		if (fdatasync(fd) != 0) {
			e = fv_diag_set(d, FV_EIO, "%s: %s", part, strerror(errno));
			goto out;
		}
	}
	close(fd);
	fd = -1;
	if ((e = file_sha256(part, dg, d)) != FV_OK)
		goto out;
	if (strcmp(dg, m->onnx_sha256) != 0) {
		unlink(part);
		e = fv_diag_set(
		    d, FV_ECORRUPT,
		    "downloaded model has sha256 %.16s…, not the signed %.16s…: refused", dg,
		    m->onnx_sha256);
		goto out;
	}
	if (rename(part, final) != 0) {
		e = fv_diag_set(d, FV_EIO, "rename %s: %s", part, strerror(errno));
		goto out;
	}
	fv_log(FV_LOG_INFO, "model_cached", "sha256=%.16s bytes=%llu", m->onnx_sha256,
	       (unsigned long long)m->size);
load:
	fv_free(raw);
	raw = NULL;
	if ((e = fv_file_read(final, FV_MAX_MODEL_BYTES, buf, len, d)) != FV_OK)
		goto out;
	/* The file could have changed since it was hashed: hash what we will use. */
	fv_sha256_hex(*buf, *len, dg);
	if (strcmp(dg, m->onnx_sha256) != 0) {
		fv_free(*buf);
		*buf = NULL;
		unlink(final);
		e = fv_diag_set(d, FV_ECORRUPT, "cached model changed on disk: refused");
	}
out:
	if (fd >= 0)
		close(fd);
	fv_free(raw);
	return e;
}

static fv_err result_path(const struct node *n, const char *job_id, const char *ext, char *out,
			  size_t cap)
{
	/* Job ids come from the coordinator: only our own id alphabet reaches the file system. */
	for (const char *p = job_id; *p; p++) {
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return FV_EINVAL;
	}
	if (job_id[0] == '.' || job_id[0] == '\0' || strlen(job_id) > FV_MAX_ID)
		return FV_EINVAL;
	return fv_fmt(out, cap, "%s/%s%s", n->state_dir, job_id, ext) ? FV_ELIMIT : FV_OK;
}

void node_audit(struct node *n, const char *event, const void *payload, size_t len)
{
	struct fv_diag d = {{0}};
	const char *who = n->client ? fv_client_name(n->client) : "-";
	if (n->audit &&
	    fv_audit_append(n->audit, event, who, payload, len, NULL, NULL, &d) != FV_OK)
		fv_log(FV_LOG_ERROR, "audit_append_failed", "event=%s reason=%s", event,
		       FV_Q(d.msg));
}

static bool job_file_exists(const struct node *n, const char *job_id, const char *ext)
{
	char path[4096];
	return result_path(n, job_id, ext, path, sizeof(path)) == FV_OK && access(path, F_OK) == 0;
}

/* Tell the coordinator the site holds or vetoes a job (signed by the envelope; recorded). */
static fv_err send_decision(struct node *n, const char *job_id, const char *decision,
			    const char *reason, struct fv_diag *d)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__JobDecision body = FEDVAL__JOB_DECISION__INIT;
	struct fv_pb *rp = NULL;
	fv_err e;

	body.job_id = (char *)job_id;
	body.decision = (char *)decision;
	body.reason = (char *)reason;
	req.body_case = FEDVAL__ENVELOPE__BODY_JOB_DECISION;
	req.job_decision = &body;
	e = fv_client_call(n->client, &req, 0, &rp, d);
	fv_pb_free(rp);
	if (e == FV_OK) {
		fv_log(FV_LOG_INFO, "job_decision_sent", "job=%s decision=%s reason=%s", job_id,
		       decision, FV_Q(reason ? reason : ""));
		node_audit(n, !strcmp(decision, "held") ? "job_held" : "job_vetoed", job_id,
			   strlen(job_id));
	}
	return e;
}

/* Send a persisted SubmitResult; on acknowledgement mark it sent. */
static fv_err submit_persisted(struct node *n, const char *job_id, struct fv_diag *d)
{
	char path[4096], sent[4096];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_pb *sr = NULL, *rp = NULL;
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	fv_err e;

	if (result_path(n, job_id, ".result", path, sizeof(path)) ||
	    result_path(n, job_id, ".sent", sent, sizeof(sent)))
		return fv_diag_set(d, FV_EINVAL, "bad job id");
	if (n->manual && !job_file_exists(n, job_id, ".released")) {
		/* The site reviews exactly these bytes first: `fedval site results show`. */
		fv_log(FV_LOG_INFO, "result_awaiting_release", "job=%s", job_id);
		return FV_OK;
	}
	if ((e = fv_file_read(path, 2 * FV_MAX_ENVELOPE, &buf, &len, d)) != FV_OK)
		return e;
	e = fv_pb_unpack(&fedval__submit_result__descriptor, buf, len, FV_MAX_UNPACK_ALLOC, &sr, d);
	fv_free(buf);
	if (e != FV_OK) {
		fv_diag_prefix(d, "%s: ", path);
		return e;
	}
	req.body_case = FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT;
	req.submit_result = (Fedval__SubmitResult *)sr->msg;
	e = fv_client_call(n->client, &req, 0, &rp, d);
	fv_pb_free(sr);
	fv_pb_free(rp);
	if (e != FV_OK)
		return e;
	node_audit(n, "result_sent", job_id, strlen(job_id));
	if (fv_file_write_atomic(sent, "", 0, 0600, d) != FV_OK)
		fv_log(FV_LOG_WARN, "state_write_failed", "path=%s", sent);
	return FV_OK;
}

/* Pack, gate, sign and persist the result; then send it. */
static fv_err release(struct node *n, Fedval__SiteResult *res, struct fv_diag *d)
{
	Fedval__SubmitResult sub = FEDVAL__SUBMIT_RESULT__INIT;
	uint8_t *bytes = NULL, *packed = NULL, sig[FV_SIG_MAX];
	size_t len = 0, plen = 0, siglen = 0;
	char path[4096];
	fv_err e;

	if (result_path(n, res->job_id, ".result", path, sizeof(path)))
		return fv_diag_set(d, FV_EINVAL, "job id '%.40s' is not a safe file name",
				   res->job_id);
	if ((e = fv_pb_pack(&res->base, &bytes, &len)) != FV_OK)
		return fv_diag_set(d, e, "packing result");
	/* The one outbound gate: whatever built the result, these bytes are what would leave. */
	if ((e = fv_privacy_gate(&n->policy, bytes, len, d)) != FV_OK) {
		fv_free(bytes);
		fv_log(FV_LOG_ERROR, "result_refused_by_gate", "job=%s reason=%s", res->job_id,
		       FV_Q(d->msg));
		if (res->status != 0)
			return e;
		/* The job fails rather than being evaluated again and refused again: the
		 * coordinator hears that the gate refused it, not what it held. */
		Fedval__SiteResult failed;
		fedval__site_result__init(&failed);
		failed.job_id = res->job_id;
		failed.run_id = res->run_id;
		failed.node = res->node;
		failed.model_version_id = res->model_version_id;
		failed.benchmark = res->benchmark;
		failed.software = res->software;
		failed.model_sha256 = res->model_sha256;
		failed.has_created_us = failed.has_min_cell = true;
		failed.created_us = res->created_us;
		failed.min_cell = res->min_cell;
		failed.status = 1;
		failed.reason = (char *)"result refused by the site's outbound gate";
		return release(n, &failed, d);
	}
	if ((e = fv_sign(fv_client_key(n->client), bytes, len, sig, &siglen)) != FV_OK) {
		fv_free(bytes);
		return fv_diag_set(d, e, "signing result");
	}
	/* The entry's digest is the SHA-256 of exactly the bytes that may leave. */
	node_audit(n, "result_signed", bytes, len);
	sub.result.data = bytes;
	sub.result.len = len;
	sub.signature.data = sig;
	sub.signature.len = siglen;
	e = fv_pb_pack(&sub.base, &packed, &plen);
	fv_free(bytes);
	if (e != FV_OK)
		return fv_diag_set(d, e, "packing result");
	e = fv_file_write_atomic(path, packed, plen, 0600, d);
	fv_free(packed);
	if (e != FV_OK)
		return e;
	fv_log(FV_LOG_INFO, "result_ready", "job=%s status=%s bytes=%zu", res->job_id,
	       res->status ? "failed" : "ok", len);
	return submit_persisted(n, res->job_id, d);
}

static void result_init(struct node *n, const Fedval__Job *job, const struct job_spec *s,
			Fedval__SiteResult *res)
{
	fedval__site_result__init(res);
	res->job_id = job->job_id;
	res->run_id = job->run_id;
	res->node = (char *)fv_client_name(n->client);
	res->model_version_id = job->model->version_id;
	res->benchmark = (char *)s->benchmark;
	res->software = "fedval-node " FV_VERSION_STRING;
	res->model_sha256 = job->model->onnx_sha256;
	res->has_created_us = true;
	res->created_us = fv_now_us();
	res->has_min_cell = true;
	res->min_cell = n->policy.min_cell;
	/* binds the registered summary of the data evaluated to this signed result */
	res->dataset_fingerprint = n->summary_fp;
}

/* ---- rounds of multi-round fits ---- */

static fv_err send_round(struct node *n, Fedval__RoundResult *rr, struct fv_diag *d)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	struct fv_pb *rp = NULL;
	char path[4096];
	fv_err e;

	uint8_t *bytes = NULL;
	size_t len = 0;
	/* The outbound gate, as for every result: these bytes are what the envelope carries. */
	if ((e = fv_pb_pack(&rr->base, &bytes, &len)) != FV_OK)
		return fv_diag_set(d, e, "packing round result");
	e = fv_privacy_gate_round(&n->policy, bytes, len, d);
	fv_free(bytes);
	if (e != FV_OK) {
		fv_log(FV_LOG_ERROR, "result_refused_by_gate", "job=%s reason=%s", rr->job_id,
		       FV_Q(d->msg));
		if (rr->has_status && rr->status)
			return e;
		Fedval__RoundResult failed = FEDVAL__ROUND_RESULT__INIT;
		failed.job_id = rr->job_id;
		failed.step = rr->step;
		failed.has_status = true;
		failed.status = 1;
		failed.reason = (char *)"round refused by the site's outbound gate";
		return send_round(n, &failed, d);
	}
	req.body_case = FEDVAL__ENVELOPE__BODY_SUBMIT_ROUND;
	req.submit_round = rr;
	if ((e = fv_client_call(n->client, &req, 0, &rp, d)) != FV_OK)
		return e;
	fv_pb_free(rp);
	node_audit(n, "round_sent", rr->job_id, strlen(rr->job_id));
	fv_log(FV_LOG_INFO, "round_sent", "job=%s step=%u status=%s", rr->job_id, rr->step,
	       rr->status ? "failed" : "ok");
	/* With manual approval the stored job must not be evaluated again from its file. */
	if (result_path(n, rr->job_id, ".round_sent", path, sizeof(path)) == FV_OK)
		fv_file_write_atomic(path, "", 0, 0600, d);
	return FV_OK;
}

static fv_err release_round_failure(struct node *n, const Fedval__Job *job, const char *reason,
				    struct fv_diag *d)
{
	Fedval__RoundResult rr = FEDVAL__ROUND_RESULT__INIT;
	char why[FV_MAX_TEXT];
	fv_strlcpy(why, reason, sizeof(why));
	rr.job_id = job->job_id;
	rr.step = job->round->step;
	rr.has_status = true;
	rr.status = 1;
	rr.reason = why;
	fv_log(FV_LOG_WARN, "job_failed", "job=%s reason=%s", job->job_id, FV_Q(why));
	return send_round(n, &rr, d);
}

/* A round's sums leave only under the same cohort rules as a result, and with the same
 * differencing check against earlier releases; each round is recorded in the history. */
static fv_err release_round(struct node *n, const Fedval__Job *job, const struct eval_out *o,
			    bool resend, struct fv_diag *d)
{
	Fedval__RoundResult rr = FEDVAL__ROUND_RESULT__INIT;
	const struct fv_policy *p = &n->policy;
	struct eval_out cohort = {0};
	bool keep[1] = {false};
	char why[FV_MAX_TEXT];
	double g[2], h[4];
	fv_err e;

	if (o->n < p->min_cohort)
		return release_round_failure(n, job, "cohort below the site's minimum cohort size",
					     d);
	if (!fv_privacy_cell_ok(p, o->n_pos) || !fv_privacy_cell_ok(p, o->n - o->n_pos))
		return release_round_failure(
		    n, job, "events or non-events below the site's minimum cell count", d);
	cohort.n = o->n;
	cohort.n_pos = o->n_pos;
	if (node_policy_difference(n, &cohort, keep, why, sizeof(why)) != FV_OK) {
		fv_log(FV_LOG_WARN, "result_refused_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q(why));
		return release_round_failure(n, job, why, d);
	}
	/* A resent round (same step and coefficients) gives the same sums: recorded once. */
	if (!resend &&
	    (e = node_policy_record(n, job->job_id, (int)job->round->step, job->round->beta, 0,
				    &cohort, keep, NULL, d)) != FV_OK)
		return e;
	memcpy(g, o->round_g, sizeof(g));
	memcpy(h, o->round_h, sizeof(h));
	rr.job_id = job->job_id;
	rr.step = job->round->step;
	rr.has_n = rr.has_ll = true;
	rr.n = o->n;
	rr.ll = o->round_ll;
	rr.n_g = 2;
	rr.g = g;
	rr.n_h = 4;
	rr.h = h;
	return send_round(n, &rr, d);
}

/* A failed result carries a reason and nothing about the data. */
static fv_err release_failure(struct node *n, const Fedval__Job *job, const struct job_spec *s,
			      const char *reason, struct fv_diag *d)
{
	if (job->round)
		return release_round_failure(n, job, reason, d);
	Fedval__SiteResult res;
	char why[FV_MAX_TEXT];

	result_init(n, job, s, &res);
	fv_strlcpy(why, reason, sizeof(why));
	res.status = 1;
	res.reason = why;
	fv_log(FV_LOG_WARN, "job_failed", "job=%s reason=%s", job->job_id, FV_Q(why));
	return release(n, &res, d);
}

/* Turn the child's summary into a disclosure-checked SiteResult and release it. */
/* Subgroup results under the site's disclosure control:
 *   - a category is withheld when its records, events or non-events are in (0, min_cell), or
 *     when the rest of the cohort is (the whole minus the category would reveal it);
 *   - if exactly one category of a subgroup is withheld, the next smallest is withheld too, so
 *     that it cannot be recovered by subtracting the others from the whole;
 *   - at a threshold, if any released category's row has a small cell, or the whole cohort's
 *     row is withheld (small cell, differencing), that row is withheld in every category of
 *     the subgroup (subtraction again).
 * Subgroups the node could not form (too many values) are sent as one withheld category "*"
 * and the reason is logged. */
struct sub_release {
	Fedval__SubgroupResult res[NODE_MAX_SUB * NODE_MAX_CATS + NODE_MAX_SUB];
	Fedval__SubgroupResult *ptr[NODE_MAX_SUB * NODE_MAX_CATS + NODE_MAX_SUB];
	Fedval__ThresholdCounts rows[NODE_MAX_SUB * NODE_MAX_CATS][NODE_MAX_THR];
	Fedval__ThresholdCounts *rowp[NODE_MAX_SUB * NODE_MAX_CATS][NODE_MAX_THR];
	char names[NODE_MAX_SUB][FV_MAX_NAME + 1];
	size_t n, nrows;
};

static bool small(const struct fv_policy *p, uint64_t x)
{
	return !fv_privacy_cell_ok(p, x);
}

/* The site's rounding rule: a released count to the nearest multiple of the base (halves up).
 * Monotone, so tp <= n_pos and fp <= n_neg still hold and the derived tn, fn are multiples
 * too; the decisions to withhold are taken on the exact counts before. */
static uint64_t rounded(const struct node *n, uint64_t x)
{
	uint64_t b = n->rounding_base;
	return b > 1 ? (x + b / 2) / b * b : x;
}

static void build_subgroups(const struct node *n, const struct eval_in *in,
			    const struct eval_out *o, const bool keep[], const char *job,
			    const json_t *hist, json_t *released, struct sub_release *sr)
{
	const struct fv_policy *p = &n->policy;

	sr->n = sr->nrows = 0;
	for (uint32_t k = 0; k < in->n_sub; k++) {
		bool withheld[NODE_MAX_SUB * NODE_MAX_CATS] = {false},
					     row_bad[NODE_MAX_THR] = {false};
		size_t cnt = 0, nwithheld = 0;
		fv_strlcpy(sr->names[k], in->sub[k].name, sizeof(sr->names[k]));
		if (o->sub_error[k][0] || n->dp.mechanism != FV_DP_NONE) {
			Fedval__SubgroupResult *r = &sr->res[sr->n];
			fv_log(FV_LOG_WARN, "subgroup_withheld", "job=%s reason=%s", job,
			       FV_Q(o->sub_error[k][0] ? o->sub_error[k]
						       : "differential privacy: subgroups are not "
							 "released"));
			fedval__subgroup_result__init(r);
			r->subgroup = sr->names[k];
			r->category = "*";
			r->has_suppressed = r->suppressed = true;
			sr->ptr[sr->n++] = r;
			continue;
		}
		for (uint32_t i = 0; i < o->n_subres; i++) {
			const struct sub_out *so = &o->subres[i];
			if (so->sub != k)
				continue;
			withheld[cnt] = so->n < n->min_subgroup || small(p, so->n) ||
					small(p, so->n_pos) || small(p, so->n - so->n_pos) ||
					small(p, o->n - so->n) || small(p, o->n_pos - so->n_pos) ||
					small(p, (o->n - o->n_pos) - (so->n - so->n_pos));
			/* differencing: the same category released before with a few records
			 * more or less would isolate them */
			if (!withheld[cnt] &&
			    node_policy_category_close(n, hist, in->sub[k].name, so->category,
						       so->n, so->n_pos)) {
				fv_log(FV_LOG_WARN, "subgroup_withheld",
				       "job=%s subgroup=%s category=%s reason=differencing", job,
				       FV_Q(in->sub[k].name), FV_Q(so->category));
				withheld[cnt] = true;
			}
			nwithheld += withheld[cnt];
			cnt++;
		}
		/* Secondary suppression: the whole minus the released categories gives back the
		 * withheld ones together, so they must be at least two and their sum (records,
		 * events, non-events) no small cell: the smallest released category goes too
		 * until that holds. The same sum is what coarsening releases. */
		struct sub_out merged;
		for (;;) {
			size_t best = SIZE_MAX, c = 0;
			uint64_t bn = UINT64_MAX;
			memset(&merged, 0, sizeof(merged));
			for (uint32_t i = 0; i < o->n_subres; i++) {
				const struct sub_out *so = &o->subres[i];
				if (so->sub != k)
					continue;
				if (withheld[c]) {
					merged.n += so->n;
					merged.n_pos += so->n_pos;
				} else if (so->n < bn) {
					bn = so->n;
					best = c;
				}
				c++;
			}
			bool ok = nwithheld == 0 ||
				  (nwithheld >= 2 && !small(p, merged.n) &&
				   !small(p, merged.n_pos) && !small(p, merged.n - merged.n_pos));
			if (ok || best == SIZE_MAX)
				break;
			withheld[best] = true;
			nwithheld++;
		}
		/* Coarsening ([policy] small_cells = coarsen): the withheld categories released
		 * as one, "(merged)", additive statistics only (no AUROC). */
		bool coarse = n->coarsen && nwithheld >= 2 && !small(p, merged.n) &&
			      !small(p, merged.n_pos) && !small(p, merged.n - merged.n_pos);
		if (coarse) {
			size_t c = 0;
			merged.sub = (uint8_t)k;
			fv_strlcpy(merged.category, NODE_MERGED_CATEGORY, sizeof(merged.category));
			merged.auc = merged.auc_var = NAN;
			for (uint32_t i = 0; i < o->n_subres; i++) {
				const struct sub_out *so = &o->subres[i];
				if (so->sub != k)
					continue;
				if (withheld[c++]) {
					merged.brier_sum += so->brier_sum;
					merged.sum_p += so->sum_p;
					for (uint32_t t = 0; t < in->n_thr; t++) {
						merged.tp[t] += so->tp[t];
						merged.fp[t] += so->fp[t];
						merged.tn[t] += so->tn[t];
						merged.fn[t] += so->fn[t];
					}
				}
			}
			if (node_policy_category_close(n, hist, in->sub[k].name, merged.category,
						       merged.n, merged.n_pos)) {
				fv_log(FV_LOG_WARN, "subgroup_withheld",
				       "job=%s subgroup=%s category=%s reason=differencing", job,
				       FV_Q(in->sub[k].name), FV_Q(merged.category));
				coarse = false;
			}
		}
		/* rows withheld from the whole cohort (small cells, differencing) and rows with a
		 * small cell in any released category */
		for (uint32_t t = 0; t < in->n_thr; t++) {
			size_t c = 0;
			row_bad[t] = !keep[t];
			for (uint32_t i = 0; i < o->n_subres; i++) {
				const struct sub_out *so = &o->subres[i];
				if (so->sub != k)
					continue;
				struct fv_confusion cf = {so->tp[t], so->fp[t], so->tn[t],
							  so->fn[t]};
				if (!withheld[c] && !fv_privacy_confusion_ok(p, &cf))
					row_bad[t] = true;
				c++;
			}
			struct fv_confusion mc = {merged.tp[t], merged.fp[t], merged.tn[t],
						  merged.fn[t]};
			if (coarse && !fv_privacy_confusion_ok(p, &mc))
				row_bad[t] = true;
		}
		size_t c = 0;
		for (uint32_t i = 0; i <= o->n_subres; i++) {
			/* the categories of subgroup k, then the merged one when coarsening */
			const struct sub_out *so = i < o->n_subres ? &o->subres[i] : &merged;
			Fedval__SubgroupResult *r;
			if (i == o->n_subres && !coarse)
				break;
			if (so->sub != k)
				continue;
			r = &sr->res[sr->n];
			fedval__subgroup_result__init(r);
			r->subgroup = sr->names[k];
			r->category = so == &merged ? NODE_MERGED_CATEGORY : (char *)so->category;
			if (i < o->n_subres && withheld[c++]) {
				r->has_suppressed = r->suppressed = true;
			} else {
				size_t idx = sr->nrows++;
				json_array_append_new(
				    released, json_pack("[s,s,I,I]", in->sub[k].name, so->category,
							(json_int_t)so->n, (json_int_t)so->n_pos));
				uint64_t npos = rounded(n, so->n_pos),
					 nneg = rounded(n, so->n - so->n_pos);
				r->has_n = r->has_n_pos = true;
				r->n = npos + nneg;
				r->n_pos = npos;
				if (isfinite(so->auc) && isfinite(so->auc_var)) {
					r->has_auc = r->has_auc_var = true;
					r->auc = so->auc;
					r->auc_var = so->auc_var;
				}
				r->has_brier_sum = r->has_sum_p = true;
				r->brier_sum = so->brier_sum;
				r->sum_p = so->sum_p;
				for (uint32_t t = 0; t < in->n_thr; t++) {
					Fedval__ThresholdCounts *row = &sr->rows[idx][t];
					fedval__threshold_counts__init(row);
					row->threshold = o->thr[t];
					if (row_bad[t]) {
						row->has_suppressed = row->suppressed = true;
					} else {
						row->tp = rounded(n, so->tp[t]);
						row->fp = rounded(n, so->fp[t]);
						row->tn = nneg - row->fp;
						row->fn = npos - row->tp;
					}
					sr->rowp[idx][t] = row;
				}
				r->n_counts = in->n_thr;
				r->counts = sr->rowp[idx];
			}
			sr->ptr[sr->n++] = r;
		}
	}
}

static fv_err release_stats(struct node *n, const Fedval__Job *job, const struct job_spec *s,
			    const struct eval_in *in, const struct eval_out *o, struct fv_diag *d)
{
	struct sub_release *sr = NULL;
	Fedval__SiteResult res;
	Fedval__ThresholdCounts rows[NODE_MAX_THR], *rowp[NODE_MAX_THR];
	const struct fv_policy *p = &n->policy;
	uint32_t suppressed = 0;
	bool keep[NODE_MAX_THR];
	char why[FV_MAX_TEXT];
	fv_err e;

	if (o->n < p->min_cohort)
		return release_failure(n, job, s, "cohort below the site's minimum cohort size", d);
	if (!fv_privacy_cell_ok(p, o->n_pos) || !fv_privacy_cell_ok(p, o->n - o->n_pos))
		return release_failure(
		    n, job, s, "events or non-events below the site's minimum cell count", d);
	for (uint32_t t = 0; t < o->n_thr; t++)
		keep[t] = true;
	if (node_policy_difference(n, (struct eval_out *)o, keep, why, sizeof(why)) != FV_OK) {
		fv_log(FV_LOG_WARN, "result_refused_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q(why));
		return release_failure(n, job, s, why, d);
	}
	/* What is released: the exact counts and sums, or, under the site's differential-privacy
	 * policy, the same with integer noise (lib/privacy/dp.c). */
	bool dp = n->dp.mechanism != FV_DP_NONE;
	struct fv_dp_result x = {o->n_pos, o->n - o->n_pos, o->n_thr,	 {0},
				 {0},	   o->sum_p,	    o->brier_sum};
	for (uint32_t t = 0; t < o->n_thr; t++) {
		x.tp[t] = o->tp[t];
		x.fp[t] = o->fp[t];
	}
	if (dp) {
		struct fv_dp_rng rng = {fv_dp_system_bits, NULL};
		if ((e = fv_dp_noise_result(&n->dp, &rng, &x, d)) != FV_OK)
			return e;
		fv_log(FV_LOG_INFO, "dp_noise_added", "job=%s mechanism=%s epsilon=%g", job->job_id,
		       fv_dp_mechanism_name(n->dp.mechanism), n->dp.epsilon);
		if (!fv_privacy_cell_ok(p, x.n_pos) || !fv_privacy_cell_ok(p, x.n_neg))
			return release_failure(
			    n, job, s, "events or non-events below the site's minimum cell count",
			    d);
	}
	if (n->rounding_base > 1) {
		x.n_pos = rounded(n, x.n_pos);
		x.n_neg = rounded(n, x.n_neg);
		for (uint32_t t = 0; t < x.n_thr; t++) {
			x.tp[t] = rounded(n, x.tp[t]);
			x.fp[t] = rounded(n, x.fp[t]);
		}
	}
	result_init(n, job, s, &res);
	res.has_n = res.has_n_pos = true;
	res.n = x.n_pos + x.n_neg;
	res.n_pos = x.n_pos;
	res.has_brier_sum = res.has_sum_p = true;
	res.brier_sum = x.brier_sum;
	res.sum_p = x.sum_p;
	if (dp) {
		/* AUROC has no bounded sensitivity: not released under differential privacy. */
		res.dp_mechanism = (char *)fv_dp_mechanism_name(n->dp.mechanism);
		res.has_dp_epsilon = true;
		res.dp_epsilon = n->dp.epsilon;
		if (n->dp.mechanism == FV_DP_GAUSSIAN) {
			res.has_dp_delta = true;
			res.dp_delta = n->dp.delta;
		}
	} else if (isfinite(o->auc) && isfinite(o->auc_var)) {
		res.has_auc = res.has_auc_var = true;
		res.auc = o->auc;
		res.auc_var = o->auc_var;
	}
	res.mapping_sha256 = (char *)o->mapping_sha256;
	for (uint32_t t = 0; t < o->n_thr; t++) {
		struct fv_confusion c = {x.tp[t], x.fp[t], x.n_neg - x.fp[t], x.n_pos - x.tp[t]};
		fedval__threshold_counts__init(&rows[t]);
		rows[t].threshold = o->thr[t];
		if (!keep[t])
			fv_log(FV_LOG_WARN, "row_suppressed",
			       "job=%s threshold=%g reason=differencing", job->job_id, o->thr[t]);
		if (keep[t] && fv_privacy_confusion_ok(p, &c)) {
			rows[t].tp = c.tp;
			rows[t].fp = c.fp;
			rows[t].tn = c.tn;
			rows[t].fn = c.fn;
		} else {
			rows[t].has_suppressed = true;
			rows[t].suppressed = true;
			keep[t] = false;
			suppressed++;
		}
		rowp[t] = &rows[t];
	}
	/* The benchmark's thresholds, then the operating points (node_operating_points). */
	static const char *const op_name[] = {"", "sensitivity", "specificity", "positive_rate",
					      "declared"};
	Fedval__OperatingPoint ops[NODE_MAX_OP + 1], *opp[NODE_MAX_OP + 1];
	res.n_counts = in->n_thr;
	res.counts = rowp;
	for (uint32_t k = 0; k < o->n_op && k < in->n_op && in->n_thr + k < o->n_thr; k++) {
		fedval__operating_point__init(&ops[k]);
		ops[k].target = (char *)op_name[in->op_target[k]];
		if (in->op_target[k] != NODE_OP_DECLARED) {
			ops[k].has_value = true;
			ops[k].value = in->op_value[k];
		}
		ops[k].counts = rowp[in->n_thr + k];
		opp[res.n_operating_points++] = &ops[k];
	}
	res.operating_points = opp;
	Fedval__ModelComparison cmps[NODE_MAX_CMP], *cmpp[NODE_MAX_CMP];
	for (uint32_t k = 0; k < o->n_cmp && k < job->n_compare_models; k++) {
		fedval__model_comparison__init(&cmps[k]);
		cmps[k].model_version_id = job->compare_models[k]->version_id;
		cmps[k].auc = o->cmp_auc[k];
		cmps[k].auc_var = o->cmp_var[k];
		cmps[k].cov_with_primary = o->cmp_cov[k];
		cmps[k].has_brier_sum = cmps[k].has_sum_p = true;
		cmps[k].brier_sum = o->cmp_brier[k];
		cmps[k].sum_p = o->cmp_sum_p[k];
		cmpp[k] = &cmps[k];
		res.n_comparisons++;
	}
	res.comparisons = cmpp;
	if (o->byo) {
		res.has_site_supplied_predictions = res.site_supplied_predictions = true;
		/* Small counts describe few records: withheld like any small cell (and always
		 * under differential privacy, whose noise covers only the result's counts). */
		if (!dp && fv_privacy_cell_ok(p, o->byo_unmatched)) {
			res.has_unmatched_records = true;
			res.unmatched_records = rounded(n, o->byo_unmatched);
		}
		if (!dp && fv_privacy_cell_ok(p, o->byo_duplicates)) {
			res.has_duplicate_keys = true;
			res.duplicate_keys = rounded(n, o->byo_duplicates);
		}
		if (!dp && fv_privacy_cell_ok(p, o->byo_unused)) {
			res.has_unused_predictions = true;
			res.unused_predictions = rounded(n, o->byo_unused);
		}
	}
	json_t *subs = json_array();
	if (in->n_sub) {
		json_t *hist = node_policy_history(n);
		if (!(sr = fv_calloc(1, sizeof(*sr)))) {
			json_decref(hist);
			json_decref(subs);
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
		}
		build_subgroups(n, in, o, keep, job->job_id, hist, subs, sr);
		json_decref(hist);
		res.n_subgroups = sr->n;
		res.subgroups = sr->ptr;
	}
	fv_log(FV_LOG_INFO, "job_evaluated", "job=%s n=%llu thresholds=%u suppressed=%u",
	       job->job_id, (unsigned long long)o->n, o->n_thr, suppressed);
	/* Recorded before it can leave: a crash after sending must not forget the release. */
	if ((e = node_policy_record(n, job->job_id, -1, NULL, dp ? n->dp.epsilon : 0, o, keep, subs,
				    d)) == FV_OK)
		e = release(n, &res, d);
	fv_free(sr);
	return e;
}

/* Multiclass: the classes whose counts are released. A class is withheld when its count or
 * its complement is a small cell; if then exactly one is withheld, or the withheld ones
 * together are a small cell, the smallest released class goes too (the cohort minus the
 * released classes gives the withheld ones' sum), as for subgroups. */
static void classes_released(const struct fv_policy *p, const struct eval_out *o, bool rel[])
{
	const struct fv_task_stats *t = &o->task;
	uint64_t wsum = 0;
	uint32_t nw = 0;

	for (uint32_t c = 0; c < t->classes; c++) {
		rel[c] = !small(p, t->class_n[c]) && !small(p, o->n - t->class_n[c]);
		if (!rel[c]) {
			nw++;
			wsum += t->class_n[c];
		}
	}
	while (nw > 0 && (nw == 1 || small(p, wsum))) {
		uint32_t best = UINT32_MAX;
		for (uint32_t c = 0; c < t->classes; c++)
			if (rel[c] && (best == UINT32_MAX || t->class_n[c] < t->class_n[best]))
				best = c;
		if (best == UINT32_MAX)
			break;
		rel[best] = false;
		nw++;
		wsum += t->class_n[best];
	}
}

/* A regression, survival or multiclass result under the site's disclosure control: the cohort
 * and the counts each task releases obey the minimum cohort and cell rules, the cohort the
 * differencing rule; sums and AUROCs are aggregates of at least the minimum cohort. */
static fv_err release_task(struct node *n, const Fedval__Job *job, const struct job_spec *s,
			   const struct eval_out *o, struct fv_diag *d)
{
	const struct fv_policy *p = &n->policy;
	Fedval__SiteResult res;
	Fedval__RegressionSums reg = FEDVAL__REGRESSION_SUMS__INIT;
	Fedval__SurvivalCounts surv = FEDVAL__SURVIVAL_COUNTS__INIT;
	Fedval__MulticlassResult mc = FEDVAL__MULTICLASS_RESULT__INIT;
	Fedval__ClassResult cls[FV_MAX_CLASSES], *clsp[FV_MAX_CLASSES];
	const struct fv_task_stats *t = &o->task;
	bool rel[FV_MAX_CLASSES], keep[1];
	char why[FV_MAX_TEXT];
	fv_err e;

	if (o->n < p->min_cohort || small(p, o->n))
		return release_failure(n, job, s, "cohort below the site's minimum cohort size", d);
	if (s->task == FV_TASK_SURVIVAL && (small(p, o->n_pos) || small(p, o->n - o->n_pos)))
		return release_failure(
		    n, job, s, "events or non-events below the site's minimum cell count", d);
	if (node_policy_difference(n, (struct eval_out *)o, keep, why, sizeof(why)) != FV_OK) {
		fv_log(FV_LOG_WARN, "result_refused_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q(why));
		return release_failure(n, job, s, why, d);
	}
	result_init(n, job, s, &res);
	res.task = (char *)fv_task_name(s->task);
	res.has_n = true;
	res.n = o->n;
	res.mapping_sha256 = (char *)o->mapping_sha256;
	switch (s->task) {
	case FV_TASK_REGRESSION:
		reg.mean_y = t->reg.mean_y;
		reg.mean_p = t->reg.mean_p;
		reg.syy = t->reg.syy;
		reg.spp = t->reg.spp;
		reg.spy = t->reg.spy;
		reg.sae = t->reg.sae;
		reg.sse = t->reg.sse;
		res.regression = &reg;
		break;
	case FV_TASK_SURVIVAL:
		res.has_n_pos = true;
		res.n_pos = o->n_pos;
		surv.comparable = t->comparable;
		surv.concordant2 = t->conc2;
		res.survival = &surv;
		break;
	default:
		classes_released(p, o, rel);
		mc.classes = t->classes;
		if (t->has_micro) {
			mc.has_micro_auc = true;
			mc.micro_auc = t->micro_auc;
		}
		for (uint32_t c = 0; c < t->classes; c++) {
			Fedval__ClassResult *r = &cls[c];
			bool row_ok = true;
			fedval__class_result__init(r);
			r->index = c;
			clsp[c] = r;
			if (!rel[c]) {
				r->has_suppressed = r->suppressed = true;
				fv_log(FV_LOG_WARN, "class_withheld", "job=%s class=%u reason=%s",
				       job->job_id, c, "small_cell");
				continue;
			}
			r->has_n = true;
			r->n = t->class_n[c];
			if (t->has_auc[c] && isfinite(t->auc_var[c])) {
				r->has_auc = r->has_auc_var = true;
				r->auc = t->auc[c];
				r->auc_var = t->auc_var[c];
			}
			for (uint32_t j = 0; j < t->classes; j++)
				row_ok = row_ok && !small(p, t->row[c][j]);
			if (row_ok) {
				r->n_predicted = t->classes;
				r->predicted = (uint64_t *)t->row[c];
			} else {
				fv_log(FV_LOG_WARN, "row_suppressed",
				       "job=%s class=%u reason=small_cell", job->job_id, c);
			}
		}
		mc.n_per_class = t->classes;
		mc.per_class = clsp;
		res.multiclass = &mc;
	}
	fv_log(FV_LOG_INFO, "job_evaluated", "job=%s task=%s n=%llu", job->job_id, res.task,
	       (unsigned long long)o->n);
	/* Recorded before it can leave: a crash after sending must not forget the release. */
	if ((e = node_policy_record(n, job->job_id, -1, NULL, 0, o, keep, NULL, d)) != FV_OK)
		return e;
	return release(n, &res, d);
}

const char *node_column(const struct node *n, const char *var)
{
	const char *c = fv_config_get(n->cfg, "mapping", var);
	return c && *c ? c : var;
}

/* Head-to-head: the compared models, verified and fetched like the first, and the union of
 * the variables every model reads (the first model's come first, in its order). */
struct compare_set {
	size_t nvars;
	const char *vars[FV_MAX_FEATURES];
	json_t *manifest[NODE_MAX_CMP];
	uint8_t *bytes[NODE_MAX_CMP];
	size_t *index[NODE_MAX_CMP];
};

static void compare_fini(struct compare_set *c)
{
	for (size_t k = 0; k < NODE_MAX_CMP; k++) {
		json_decref(c->manifest[k]);
		fv_free(c->bytes[k]);
		fv_free(c->index[k]);
	}
}

/* The benchmark's subgroups ("subgroups": [{"name", "variable", "edges"?}]); a variable no
 * model reads is read for the subgroup alone. */
static fv_err prepare_subgroups(const struct job_spec *s, struct compare_set *c, struct eval_in *in,
				struct fv_diag *d)
{
	json_t *subs = json_object_get(s->bench, "subgroups"), *sg;
	size_t i;

	if (!subs)
		return FV_OK;
	if (!json_is_array(subs) || json_array_size(subs) > NODE_MAX_SUB)
		return fv_diag_set(d, FV_EPROTO, "benchmark 'subgroups' must list at most %d",
				   NODE_MAX_SUB);
	json_array_foreach(subs, i, sg)
	{
		struct node_subgroup *out = &in->sub[in->n_sub];
		const char *name = json_string_value(json_object_get(sg, "name"));
		const char *var = json_string_value(json_object_get(sg, "variable"));
		json_t *edges = json_object_get(sg, "edges"), *e;
		size_t j = 0, k;
		if (!name || !var || !fv_name_valid(name))
			return fv_diag_set(d, FV_EPROTO,
					   "subgroups[%zu] needs a name and a variable", i);
		fv_strlcpy(out->name, name, sizeof(out->name));
		/* Two cuts of one variable (edges [700] and [701]) give categories that differ by
		 * the records between the edges, however large each is: one record's label and
		 * score by subtraction. One subgroup per variable. */
		for (uint32_t k = 0; k < in->n_sub; k++)
			if (!strcmp(c->vars[in->sub[k].var], var))
				return fv_diag_set(d, FV_EREFUSED,
						   "subgroups '%s' and '%s' both cut variable "
						   "'%.64s': their categories could differ by "
						   "single records",
						   in->sub[k].name, name, var);
		while (j < c->nvars && strcmp(c->vars[j], var) != 0)
			j++;
		if (j == c->nvars) {
			if (c->nvars == FV_MAX_FEATURES)
				return fv_diag_set(d, FV_ELIMIT, "too many variables");
			c->vars[c->nvars++] = var;
		}
		out->var = j;
		if (edges && (!json_is_array(edges) || json_array_size(edges) > NODE_MAX_EDGES))
			return fv_diag_set(d, FV_EPROTO, "subgroups[%zu].edges: at most %d numbers",
					   i, NODE_MAX_EDGES);
		json_array_foreach(edges, k, e)
		{
			if (!json_is_number(e) ||
			    (k > 0 && json_number_value(e) <= out->edges[k - 1]))
				return fv_diag_set(
				    d, FV_EPROTO, "subgroups[%zu].edges must be increasing numbers",
				    i);
			out->edges[out->nedges++] = json_number_value(e);
		}
		in->n_sub++;
	}
	return FV_OK;
}

static fv_err prepare_compare(struct node *n, const Fedval__Job *job, const struct job_spec *s,
			      struct compare_set *c, struct eval_in *in, struct fv_diag *d)
{
	fv_err e;

	c->nvars = s->nvars;
	memcpy(c->vars, s->vars, s->nvars * sizeof(char *));
	if (job->n_compare_models > NODE_MAX_CMP)
		return fv_diag_set(d, FV_ELIMIT, "more than %d compared models", NODE_MAX_CMP);
	for (size_t k = 0; k < job->n_compare_models; k++) {
		const Fedval__ModelRef *m = job->compare_models[k];
		json_t *vars, *v;
		size_t i, len = 0;
		char why[FV_MAX_TEXT];
		c->manifest[k] = json_loads(m->manifest_json, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(c->manifest[k]))
			return fv_diag_set(d, FV_EPROTO, "compared model %zu: manifest is not JSON",
					   k);
		if ((e = verify_model_ref(n, m, c->manifest[k], d)) != FV_OK) {
			fv_diag_prefix(d, "compared model %s: ", m->vendor);
			return e;
		}
		if (node_policy_check_job(n, job->job_id, s->bench, m->vendor, why, sizeof(why)) !=
		    FV_OK)
			return fv_diag_set(d, FV_EREFUSED, "compared model: %s", why);
		vars = json_object_get(json_object_get(c->manifest[k], "input"), "variables");
		if (!json_is_array(vars) || json_array_size(vars) == 0 ||
		    json_array_size(vars) > FV_MAX_FEATURES)
			return fv_diag_set(d, FV_EPROTO, "compared model %zu: bad input.variables",
					   k);
		if (!(c->index[k] = fv_calloc(json_array_size(vars), sizeof(size_t))))
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
		json_array_foreach(vars, i, v)
		{
			size_t j = 0;
			if (!json_is_string(v))
				return fv_diag_set(d, FV_EPROTO, "compared model %zu: bad variable",
						   k);
			while (j < c->nvars && strcmp(c->vars[j], json_string_value(v)) != 0)
				j++;
			if (j == c->nvars) {
				if (c->nvars == FV_MAX_FEATURES)
					return fv_diag_set(d, FV_ELIMIT,
							   "more than %d variables in all",
							   FV_MAX_FEATURES);
				c->vars[c->nvars++] = json_string_value(v);
			}
			c->index[k][i] = j;
		}
		node_audit(n, "model_verified", m->manifest_json, strlen(m->manifest_json));
		if ((e = fetch_model(n, m, &c->bytes[k], &len, d)) != FV_OK)
			return e;
		in->cmp_model[k] = c->bytes[k];
		in->cmp_len[k] = len;
		in->cmp_nvars[k] = json_array_size(vars);
		in->cmp_index[k] = c->index[k];
	}
	in->n_cmp = (uint32_t)job->n_compare_models;
	return prepare_subgroups(s, c, in, d);
}

fv_err node_job(struct node *n, const Fedval__Job *job, struct fv_diag *d)
{
	struct job_spec s;
	struct eval_in in = {0};
	struct eval_out *out = NULL;
	const char *columns[FV_MAX_FEATURES];
	uint8_t *model = NULL;
	size_t model_len = 0;
	char path[4096];
	struct fv_diag why = {{0}};
	struct compare_set cmp = {0};
	char status_path[4096], cancel_path[4096];
	bool resend = false;
	fv_err e;

	if (result_path(n, job->job_id, ".result", path, sizeof(path)) != FV_OK)
		return fv_diag_set(d, FV_EPROTO, "job id '%.40s' is not a safe file name",
				   job->job_id);
	/* Already evaluated (e.g. we crashed before the acknowledgement): send the same bytes. */
	if (access(path, F_OK) == 0) {
		fv_log(FV_LOG_INFO, "result_resend", "job=%s", job->job_id);
		return submit_persisted(n, job->job_id, d);
	}
	fv_log(FV_LOG_INFO, "job_received", "job=%s run=%s model=%.16s vendor=%s", job->job_id,
	       job->run_id, job->model->version_id, job->model->vendor);
	node_audit(n, "job_received", job->job_id, strlen(job->job_id));
	if ((e = spec_parse(job, &s, &why)) != FV_OK ||
	    (e = verify_model_ref(n, job->model, s.manifest, &why)) != FV_OK) {
		fv_log(FV_LOG_ERROR, "model_refused", "job=%s reason=%s", job->job_id,
		       FV_Q(why.msg));
		e = release_failure(n, job, &s, why.msg, d);
		goto out;
	}
	if (job->dataset && strcmp(job->dataset, n->dataset) != 0)
		fv_fmt(why.msg, sizeof(why.msg),
		       "the job names dataset '%.64s', not this site's '%s'", job->dataset,
		       n->dataset);
	else if (node_policy_check_job(n, job->job_id, s.bench, job->model->vendor, why.msg,
				       sizeof(why.msg)) == FV_OK)
		why.msg[0] = '\0';
	if (why.msg[0]) {
		/* The site's own rules: a signed veto, nothing computed. */
		fv_log(FV_LOG_WARN, "job_vetoed_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q(why.msg));
		e = send_decision(n, job->job_id, "vetoed", why.msg, d);
		goto out;
	}
	if (n->manual && job_file_exists(n, job->job_id, ".vetoed")) {
		/* The site's veto stands whatever else is on file (an earlier approval, a job
		 * sent again): nothing is computed. The node's loop sends the veto
		 * (node_process_decisions) until the coordinator has it. */
		fv_log(FV_LOG_INFO, "job_vetoed", "job=%s reason=vetoed_by_site", job->job_id);
		goto out;
	}
	if (n->manual && !job_file_exists(n, job->job_id, ".approved")) {
		uint8_t *packed = NULL;
		size_t plen = 0;
		if (job_file_exists(n, job->job_id, ".job"))
			goto out; /* already held */
		if ((e = fv_pb_pack(&job->base, &packed, &plen)) != FV_OK ||
		    (e = result_path(n, job->job_id, ".job", path, sizeof(path))) != FV_OK ||
		    (e = fv_file_write_atomic(path, packed, plen, 0600, d)) != FV_OK) {
			fv_free(packed);
			goto out;
		}
		fv_free(packed);
		fv_log(FV_LOG_INFO, "job_held", "job=%s reason=manual_approval", job->job_id);
		e = send_decision(n, job->job_id, "held", "waiting for the site's approval", d);
		goto out;
	}
	node_audit(n, "model_verified", job->model->manifest_json,
		   strlen(job->model->manifest_json));
	node_dataset_refresh(n);
	/* Site-supplied predictions stand in for this model: nothing to download or run. */
	const char *mname = json_string_value(json_object_get(s.manifest, "name"));
	bool byo = n->byo.model && mname && !strcmp(mname, n->byo.model);
	if (byo && (job->n_compare_models || job->round || s.cohort)) {
		e = release_failure(n, job, &s,
				    "site-supplied predictions cannot serve head-to-head, "
				    "recalibration or cohort rules",
				    d);
		goto out;
	}
	if (n->dp.mechanism != FV_DP_NONE && (job->n_compare_models || job->round)) {
		/* Paired AUROC differences and recalibration sums have no noise mechanism here. */
		fv_log(FV_LOG_WARN, "result_refused_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q("head-to-head or recalibration under differential privacy"));
		e = release_failure(n, job, &s,
				    "head-to-head comparisons and recalibration rounds are not "
				    "released under the site's differential-privacy policy",
				    d);
		goto out;
	}
	if (s.task != FV_TASK_BINARY &&
	    (byo || n->dp.mechanism != FV_DP_NONE || job->n_compare_models || job->round)) {
		fv_log(FV_LOG_WARN, "result_refused_by_policy", "job=%s reason=%s", job->job_id,
		       FV_Q("a task other than binary with site-supplied predictions, differential "
			    "privacy, head-to-head or rounds"));
		e = release_failure(n, job, &s,
				    "regression, survival and multiclass benchmarks are evaluated "
				    "only with the model itself, without differential privacy, "
				    "head-to-head comparison or rounds",
				    d);
		goto out;
	}
	if (byo && json_object_get(s.bench, "subgroups"))
		fv_log(FV_LOG_WARN, "subgroups_not_computed", "job=%s reason=%s", job->job_id,
		       FV_Q("site-supplied predictions carry no subgroup variables"));
	if (byo) {
		in.byo = &n->byo;
		in.model_version = json_string_value(json_object_get(s.manifest, "version"));
	} else if ((e = fetch_model(n, job->model, &model, &model_len, &why)) != FV_OK) {
		if (e == FV_EIO || e == FV_ETIMEDOUT || e == FV_ECANCELED) {
			/* Transport trouble: try again when the coordinator is back. */
			fv_diag_set(d, e, "%s", why.msg);
			goto out;
		}
		fv_log(FV_LOG_ERROR, "model_refused", "job=%s reason=%s", job->job_id,
		       FV_Q(why.msg));
		e = release_failure(n, job, &s, why.msg, d);
		goto out;
	}
	if (!byo && (e = prepare_compare(n, job, &s, &cmp, &in, &why)) != FV_OK) {
		if (e == FV_EIO || e == FV_ETIMEDOUT || e == FV_ECANCELED) {
			fv_diag_set(d, e, "%s", why.msg);
			goto out;
		}
		fv_log(FV_LOG_ERROR, e == FV_EREFUSED ? "job_refused_by_policy" : "model_refused",
		       "job=%s reason=%s", job->job_id, FV_Q(why.msg));
		e = release_failure(n, job, &s, why.msg, d);
		goto out;
	}
	in.label_column = node_column(n, s.label);
	if (s.task != FV_TASK_BINARY) {
		/* The outcome a regression predicts, or a survival time, is read after the
		 * predictors; the model must not read it itself. */
		const char *outcome = s.task == FV_TASK_REGRESSION ? s.label
				      : s.task == FV_TASK_SURVIVAL ? s.time
								   : NULL;
		for (size_t i = 0; i < cmp.nvars; i++)
			if ((outcome && !strcmp(cmp.vars[i], outcome)) ||
			    !strcmp(cmp.vars[i], s.label)) {
				fv_fmt(why.msg, sizeof(why.msg),
				       "the model reads the benchmark's outcome variable '%.64s'",
				       cmp.vars[i]);
				fv_log(FV_LOG_ERROR, "model_refused", "job=%s reason=%s",
				       job->job_id, FV_Q(why.msg));
				e = release_failure(n, job, &s, why.msg, d);
				goto out;
			}
		if (outcome && cmp.nvars < FV_MAX_FEATURES) {
			cmp.vars[cmp.nvars++] = outcome;
			in.n_outcomes = 1;
		}
		if (s.task == FV_TASK_REGRESSION)
			in.label_column = NULL;
		in.task = s.task;
		in.n_classes = s.n_classes;
	}
	for (size_t i = 0; i < cmp.nvars; i++)
		columns[i] = node_column(n, cmp.vars[i]);
	in.model = model;
	in.model_len = model_len;
	in.model_nvars = s.nvars;
	in.nvars = cmp.nvars;
	in.vars = cmp.vars;
	in.columns = columns;
	in.cohort = s.cohort;
	if (job->round) {
		if (strcmp(job->round->kind, "recalibration") != 0 || job->round->n_beta != 2 ||
		    job->n_compare_models) {
			e = release_round_failure(n, job, "unsupported round", d);
			goto out;
		}
		/* A steep recalibration curve is a threshold in disguise: its sums would count
		 * the records on either side of a cut. Newton's iterates on real data stay far
		 * inside these bounds; a coordinator asking beyond them is refused. */
		if (!(fabs(job->round->beta[0]) <= NODE_ROUND_MAX_INTERCEPT) ||
		    !(fabs(job->round->beta[1]) <= NODE_ROUND_MAX_SLOPE) ||
		    job->round->step >= NODE_ROUND_MAX_STEPS) {
			fv_log(FV_LOG_WARN, "result_refused_by_policy",
			       "job=%s reason=round_out_of_bounds step=%u a=%g b=%g", job->job_id,
			       job->round->step, job->round->beta[0], job->round->beta[1]);
			e = release_round_failure(n, job,
						  "round refused: coefficients or step count "
						  "outside the site's bounds (docs/security.md)",
						  d);
			goto out;
		}
		/* A step already released, asked again with other coefficients, is one more
		 * equation on the same records, and would let a fit run for ever. */
		if (node_policy_round(n, job->job_id, job->round->step, job->round->beta, &resend,
				      why.msg, sizeof(why.msg)) != FV_OK) {
			fv_log(FV_LOG_WARN, "result_refused_by_policy",
			       "job=%s reason=round_replayed step=%u a=%g b=%g", job->job_id,
			       job->round->step, job->round->beta[0], job->round->beta[1]);
			e = release_round_failure(n, job, why.msg, d);
			goto out;
		}
		in.round = true;
		memcpy(in.round_beta, job->round->beta, sizeof(in.round_beta));
	}
	in.source = &n->source;
	in.progress_fd = -1;
	in.job_id = job->job_id;
	fv_fmt(status_path, sizeof(status_path), "%s/status.json", n->state_dir);
	in.status_path = status_path;
	if (result_path(n, job->job_id, ".cancel", cancel_path, sizeof(cancel_path)) == FV_OK)
		in.cancel_path = cancel_path;
	in.threads = n->eval_threads;
	in.batch_rows = n->eval_batch_rows;
	in.cancel = n->stop;
	in.n_thr = s.n_thr;
	memcpy(in.thr, s.thr, sizeof(double) * s.n_thr);
	in.n_op = s.n_op;
	memcpy(in.op_target, s.op_target, sizeof(s.op_target));
	memcpy(in.op_value, s.op_value, sizeof(s.op_value));
	in.timeout_s = n->eval_timeout_s;
	if (!(out = fv_calloc(1, sizeof(*out)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if ((e = node_eval(&in, out, &why)) == FV_ECANCELED) {
		/* Not a failure of the job: it is evaluated again after the restart. */
		fv_diag_set(d, e, "%s", why.msg);
		goto out;
	}
	if (e != FV_OK) {
		fv_log(FV_LOG_ERROR, "evaluation_failed", "job=%s reason=%s", job->job_id,
		       FV_Q(why.msg));
		e = release_failure(n, job, &s, why.msg, d);
		goto out;
	}
	if (out->status != 0) {
		/* The detail may quote a local value: it stays in this log, the coordinator hears
		 * only the kind of failure. */
		fv_log(FV_LOG_ERROR, "evaluation_failed", "job=%s reason=%s", job->job_id,
		       FV_Q(out->error));
		fv_fmt(why.msg, sizeof(why.msg),
		       "%s evaluating on local data (%s); details in the "
		       "node log",
		       out->run_error		  ? "model failure"
		       : out->status == FV_EINVAL ? "data or mapping error"
						  : "error",
		       fv_strerror((fv_err)out->status));
		if (out->load_error)
			fv_strlcpy(why.msg, out->error, sizeof(why.msg));
		e = release_failure(n, job, &s, why.msg, d);
		goto out;
	}
	e = job->round		       ? release_round(n, job, out, resend, d)
	    : s.task != FV_TASK_BINARY ? release_task(n, job, &s, out, d)
				       : release_stats(n, job, &s, &in, out, d);
out:
	fv_free(out);
	fv_free(model);
	compare_fini(&cmp);
	spec_fini(&s);
	return e;
}

fv_err node_resubmit_pending(struct node *n, struct fv_diag *d)
{
	DIR *dir = opendir(n->state_dir);
	struct dirent *de;
	fv_err e = FV_OK;

	if (!dir)
		return fv_diag_set(d, FV_EIO, "%s: %s", n->state_dir, strerror(errno));
	while (e == FV_OK && (de = readdir(dir))) {
		char job[FV_MAX_ID + 1], sent[4096];
		size_t len = strlen(de->d_name);
		if (len <= 7 || len - 7 > FV_MAX_ID || strcmp(de->d_name + len - 7, ".result") != 0)
			continue;
		memcpy(job, de->d_name, len - 7);
		job[len - 7] = '\0';
		if (result_path(n, job, ".sent", sent, sizeof(sent)) != FV_OK ||
		    access(sent, F_OK) == 0)
			continue;
		fv_log(FV_LOG_INFO, "result_resend", "job=%s", job);
		e = submit_persisted(n, job, d);
	}
	closedir(dir);
	return e;
}

/* Manual approval: act on the files `fedval site` writes in state_dir. */
fv_err node_process_decisions(struct node *n, struct fv_diag *d)
{
	DIR *dir;
	struct dirent *de;
	fv_err e = FV_OK;

	if (!n->manual || !(dir = opendir(n->state_dir)))
		return FV_OK;
	while (e == FV_OK && (de = readdir(dir))) {
		char job[FV_MAX_ID + 1], path[4096];
		size_t len = strlen(de->d_name);
		if (len <= 4 || len - 4 > FV_MAX_ID || strcmp(de->d_name + len - 4, ".job") != 0)
			continue;
		memcpy(job, de->d_name, len - 4);
		job[len - 4] = '\0';
		if (job_file_exists(n, job, ".vetoed")) {
			uint8_t *reason = NULL;
			size_t rlen = 0;
			if (job_file_exists(n, job, ".veto_sent") ||
			    result_path(n, job, ".vetoed", path, sizeof(path)) != FV_OK)
				continue;
			if ((e = fv_file_read(path, FV_MAX_TEXT, &reason, &rlen, d)) != FV_OK)
				break;
			e = send_decision(n, job, "vetoed", (char *)reason, d);
			fv_free(reason);
			if (e == FV_OK &&
			    result_path(n, job, ".veto_sent", path, sizeof(path)) == FV_OK)
				e = fv_file_write_atomic(path, "", 0, 0600, d);
			continue;
		}
		if (job_file_exists(n, job, ".result")) {
			if (job_file_exists(n, job, ".released") &&
			    !job_file_exists(n, job, ".sent"))
				e = submit_persisted(n, job, d);
			continue;
		}
		if (job_file_exists(n, job, ".approved") &&
		    !job_file_exists(n, job, ".round_sent")) {
			uint8_t *buf = NULL;
			size_t blen = 0;
			struct fv_pb *pb = NULL;
			if (result_path(n, job, ".job", path, sizeof(path)) != FV_OK ||
			    (e = fv_file_read(path, 2 * FV_MAX_ENVELOPE, &buf, &blen, d)) != FV_OK)
				break;
			e = fv_pb_unpack(&fedval__job__descriptor, buf, blen, FV_MAX_UNPACK_ALLOC,
					 &pb, d);
			fv_free(buf);
			if (e != FV_OK)
				break;
			fv_log(FV_LOG_INFO, "job_approved", "job=%s", job);
			e = node_job(n, (Fedval__Job *)pb->msg, d);
			fv_pb_free(pb);
		}
	}
	closedir(dir);
	return e;
}
