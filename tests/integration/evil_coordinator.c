/* The malicious coordinator of evil_coordinator.h. It reuses lib/wire (seal, open, verify,
 * chunks) and lib/crypto, and answers like coordinator/handlers.c does for the bodies a node
 * sends (enrol, register_dataset, poll, chunk_request, submit_result, submit_round,
 * job_decision), without any of the real coordinator's checks on what it hands out. */
#include "evil_coordinator.h"

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* An empty poll is answered after this long at most: the node polls again at once. */
#define EVIL_POLL_HOLD_MS 200

struct packed {
	uint8_t *buf;
	size_t len;
};

struct record {
	char job_id[FV_MAX_ID + 1];
	struct evil_outcome out;
	bool taken;
};

struct served_model {
	char sha256[FV_SHA256_HEX];
	uint8_t *bytes;
	size_t len;
};

struct evil {
	nng_socket sock;
	nng_tls_config *tls;
	pthread_t thread;
	bool running;
	volatile int stop;
	pthread_mutex_t mu;
	struct fv_key *key;
	char *cert_pem, *ca_pem;
	size_t ca_len;
	char name[FV_MAX_NAME + 1];
	/* the node, learnt at its enrolment */
	uint8_t node_pub[FV_PUBKEY_MAX];
	size_t node_pub_len;
	uint64_t last_seq;
	int requests, bad_signatures;
	/* jobs not offered yet, oldest first */
	struct packed *jobs;
	size_t njobs;
	struct record *recs;
	size_t nrecs;
	struct served_model *models;
	size_t nmodels;
	/* the next forged reply */
	enum evil_forgery forge;
	struct fv_key *other_key;
	char *other_cert;
	int forged;
	struct packed last_job_reply;
};

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- models and jobs ---- */

fv_err evil_model_load(struct evil_model *m, const char *manifest_file, const char *onnx_file,
		       const char *key_file, const char *cert_file, const char *ca_file,
		       struct fv_diag *d)
{
	struct fv_key *k = NULL;
	struct fv_cert_info info;
	uint8_t *cert = NULL, *ca = NULL;
	size_t cert_len = 0, ca_len = 0;
	json_t *man = NULL;
	json_error_t jerr;
	fv_err e;

	memset(m, 0, sizeof(*m));
	if ((e = fv_file_read(onnx_file, FV_MAX_MODEL_BYTES, &m->bytes, &m->len, d)) != FV_OK ||
	    (e = fv_file_read(cert_file, FV_MAX_CERT_PEM, &cert, &cert_len, d)) != FV_OK ||
	    (e = fv_key_load(key_file, &k, d)) != FV_OK)
		goto out;
	if ((e = fv_file_read(ca_file, FV_MAX_CERT_PEM, &ca, &ca_len, d)) != FV_OK ||
	    (e = fv_cert_verify((char *)ca, ca_len, (char *)cert, cert_len, &info, d)) != FV_OK)
		goto out;
	if (!(man = json_load_file(manifest_file, 0, &jerr))) {
		e = fv_diag_set(d, FV_EINVAL, "%s: %s", manifest_file, jerr.text);
		goto out;
	}
	fv_sha256_hex(m->bytes, m->len, m->sha256);
	json_object_set_new(man, "vendor", json_string(info.name));
	json_object_set_new(man, "model_sha256", json_string(m->sha256));
	m->manifest = json_dumps(man, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!m->manifest) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	fv_sha256_hex(m->manifest, strlen(m->manifest), m->version_id);
	m->sig_len = sizeof(m->sig);
	if ((e = fv_sign(k, m->manifest, strlen(m->manifest), m->sig, &m->sig_len)) != FV_OK)
		goto out;
	fv_strlcpy(m->vendor, info.name, sizeof(m->vendor));
	m->cert_pem = (char *)cert;
	cert = NULL;
out:
	json_decref(man);
	fv_key_free(k);
	fv_free(cert);
	fv_free(ca);
	return e;
}

void evil_model_fini(struct evil_model *m)
{
	free(m->manifest);
	fv_free(m->cert_pem);
	fv_free(m->bytes);
	memset(m, 0, sizeof(*m));
}

fv_err evil_serve_model(struct evil *e, const struct evil_model *m)
{
	uint8_t *copy = fv_alloc(m->len ? m->len : 1);
	fv_err r = FV_OK;

	if (!copy)
		return FV_ENOMEM;
	memcpy(copy, m->bytes, m->len);
	pthread_mutex_lock(&e->mu);
	size_t i = 0;
	while (i < e->nmodels && strcmp(e->models[i].sha256, m->sha256))
		i++;
	if (i == e->nmodels) {
		struct served_model *nm = realloc(e->models, (e->nmodels + 1) * sizeof(*e->models));
		if (!nm) {
			r = FV_ENOMEM;
			fv_free(copy);
			goto out;
		}
		e->models = nm;
		memset(&e->models[e->nmodels++], 0, sizeof(*nm));
	} else {
		fv_free(e->models[i].bytes);
	}
	fv_strlcpy(e->models[i].sha256, m->sha256, sizeof(e->models[i].sha256));
	e->models[i].bytes = copy;
	e->models[i].len = m->len;
out:
	pthread_mutex_unlock(&e->mu);
	return r;
}

fv_err evil_queue_job(struct evil *e, const char *job_id, const char *run_id,
		      const char *benchmark_json, const struct evil_model *m,
		      const Fedval__RoundRequest *round)
{
	Fedval__Job job = FEDVAL__JOB__INIT;
	Fedval__ModelRef ref = FEDVAL__MODEL_REF__INIT;
	struct packed p = {0};
	fv_err r;

	ref.version_id = (char *)m->version_id;
	ref.onnx_sha256 = (char *)m->sha256;
	ref.size = m->len;
	ref.manifest_json = m->manifest;
	ref.vendor = (char *)m->vendor;
	ref.vendor_cert_pem = m->cert_pem;
	ref.vendor_signature.data = (uint8_t *)m->sig;
	ref.vendor_signature.len = m->sig_len;
	job.job_id = (char *)job_id;
	job.run_id = (char *)run_id;
	job.benchmark_json = (char *)benchmark_json;
	job.model = &ref;
	job.has_created_us = true;
	job.created_us = fv_now_us();
	job.round = (Fedval__RoundRequest *)round;
	if ((r = fv_pb_pack(&job.base, &p.buf, &p.len)) != FV_OK)
		return r;
	pthread_mutex_lock(&e->mu);
	struct packed *nj = realloc(e->jobs, (e->njobs + 1) * sizeof(*e->jobs));
	if (nj) {
		e->jobs = nj;
		e->jobs[e->njobs++] = p;
	} else {
		fv_free(p.buf);
		r = FV_ENOMEM;
	}
	pthread_mutex_unlock(&e->mu);
	return r;
}

fv_err evil_forge_next(struct evil *e, enum evil_forgery f, const char *key_file,
		       const char *cert_file, struct fv_diag *d)
{
	struct fv_key *k = NULL;
	uint8_t *cert = NULL;
	size_t len = 0;
	fv_err r;

	if (key_file && (r = fv_key_load(key_file, &k, d)) != FV_OK)
		return r;
	if (cert_file && (r = fv_file_read(cert_file, FV_MAX_CERT_PEM, &cert, &len, d)) != FV_OK) {
		fv_key_free(k);
		return r;
	}
	pthread_mutex_lock(&e->mu);
	fv_key_free(e->other_key);
	fv_free(e->other_cert);
	e->other_key = k;
	e->other_cert = (char *)cert;
	e->forge = f;
	pthread_mutex_unlock(&e->mu);
	return FV_OK;
}

int evil_forged(struct evil *e)
{
	pthread_mutex_lock(&e->mu);
	int n = e->forged;
	pthread_mutex_unlock(&e->mu);
	return n;
}

/* ---- outcomes ---- */

static void record(struct evil *e, const char *job_id, const struct evil_outcome *o)
{
	pthread_mutex_lock(&e->mu);
	struct record *nr = realloc(e->recs, (e->nrecs + 1) * sizeof(*e->recs));
	if (nr) {
		e->recs = nr;
		memset(&e->recs[e->nrecs], 0, sizeof(*nr));
		fv_strlcpy(e->recs[e->nrecs].job_id, job_id, sizeof(nr->job_id));
		e->recs[e->nrecs++].out = *o;
	} else {
		free(o->bytes);
	}
	pthread_mutex_unlock(&e->mu);
}

bool evil_wait(struct evil *e, const char *job_id, int timeout_ms, struct evil_outcome *out)
{
	for (int t = 0; t <= timeout_ms; t += 20) {
		pthread_mutex_lock(&e->mu);
		for (size_t i = 0; i < e->nrecs; i++) {
			if (!e->recs[i].taken && !strcmp(e->recs[i].job_id, job_id)) {
				*out = e->recs[i].out;
				e->recs[i].out.bytes = NULL;
				e->recs[i].taken = true;
				pthread_mutex_unlock(&e->mu);
				return true;
			}
		}
		pthread_mutex_unlock(&e->mu);
		nap_ms(20);
	}
	memset(out, 0, sizeof(*out));
	return false;
}

int evil_count(struct evil *e, const char *job_id)
{
	int n = 0;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->nrecs; i++)
		n += !strcmp(e->recs[i].job_id, job_id);
	pthread_mutex_unlock(&e->mu);
	return n;
}

int evil_requests(struct evil *e, int *bad_signatures)
{
	pthread_mutex_lock(&e->mu);
	int n = e->requests;
	if (bad_signatures)
		*bad_signatures = e->bad_signatures;
	pthread_mutex_unlock(&e->mu);
	return n;
}

/* ---- answering ---- */

static fv_err seal_as(struct evil *e, Fedval__Envelope *rep, uint64_t seq, const struct fv_key *k,
		      struct packed *out)
{
	return fv_wire_seal(rep, e->name, seq, k ? k : e->key, &out->buf, &out->len);
}

static fv_err reply_error(struct evil *e, uint64_t seq, fv_err code, const char *msg,
			  struct packed *out)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__Error err = FEDVAL__ERROR__INIT;
	err.code = (uint32_t)code;
	err.message = (char *)msg;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ERROR;
	rep.error = &err;
	return seal_as(e, &rep, seq, NULL, out);
}

static fv_err reply_ack(struct evil *e, uint64_t seq, const char *id, const char *status,
			struct packed *out)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__Ack ack = FEDVAL__ACK__INIT;
	ack.id = (char *)id;
	ack.status = (char *)status;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ACK;
	rep.ack = &ack;
	return seal_as(e, &rep, seq, NULL, out);
}

static fv_err on_enrol(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__EnrolReply body = FEDVAL__ENROL_REPLY__INIT;
	struct fv_cert_info info;
	struct fv_diag d;
	const struct fv_key *k = NULL;

	if (fv_cert_verify(e->ca_pem, e->ca_len, req->enrol->cert_pem, strlen(req->enrol->cert_pem),
			   &info, &d) != FV_OK ||
	    fv_wire_verify(req, info.pub, info.pub_len) != FV_OK)
		return reply_error(e, req->seq, FV_EAUTH, "enrolment refused", out);
	pthread_mutex_lock(&e->mu);
	memcpy(e->node_pub, info.pub, info.pub_len);
	e->node_pub_len = info.pub_len;
	body.coordinator_cert_pem = e->cert_pem;
	if (e->forge == EVIL_FORGE_ENROL && e->other_key) {
		body.coordinator_cert_pem = e->other_cert;
		k = e->other_key;
		e->forge = EVIL_HONEST;
		e->forged++;
	}
	pthread_mutex_unlock(&e->mu);
	body.name = info.name;
	body.role = (char *)fv_role_name(info.role);
	rep.body_case = FEDVAL__ENVELOPE__BODY_ENROL_REPLY;
	rep.enrol_reply = &body;
	return seal_as(e, &rep, req->seq, k, out);
}

/* A job if one is queued within the hold time; the job stays the caller's (fv_pb_free). */
static struct fv_pb *next_job(struct evil *e, int wait_ms)
{
	for (int t = 0;; t += 20) {
		struct packed p = {0};
		pthread_mutex_lock(&e->mu);
		if (e->njobs) {
			p = e->jobs[0];
			memmove(e->jobs, e->jobs + 1, (e->njobs - 1) * sizeof(*e->jobs));
			e->njobs--;
		}
		pthread_mutex_unlock(&e->mu);
		if (p.buf) {
			struct fv_pb *pb = NULL;
			struct fv_diag d;
			fv_pb_unpack(&fedval__job__descriptor, p.buf, p.len, FV_MAX_UNPACK_ALLOC,
				     &pb, &d);
			fv_free(p.buf);
			return pb;
		}
		if (t >= wait_ms || e->stop)
			return NULL;
		nap_ms(20);
	}
}

static fv_err on_poll(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__PollReply body = FEDVAL__POLL_REPLY__INIT;
	Fedval__Job *jobs[1];
	int wait = req->poll->has_wait_ms && req->poll->wait_ms < EVIL_POLL_HOLD_MS
		       ? (int)req->poll->wait_ms
		       : EVIL_POLL_HOLD_MS;
	struct fv_pb *job = next_job(e, wait);
	const struct fv_key *k = NULL;
	uint64_t seq = req->seq;
	enum evil_forgery f = EVIL_HONEST;
	fv_err r;

	if (job) {
		jobs[0] = (Fedval__Job *)job->msg;
		body.n_jobs = 1;
		body.jobs = jobs;
		pthread_mutex_lock(&e->mu);
		f = e->forge;
		if (f != EVIL_HONEST && f != EVIL_FORGE_ENROL) {
			e->forge = EVIL_HONEST;
			e->forged++;
		}
		pthread_mutex_unlock(&e->mu);
	}
	if (f == EVIL_REPLAY && e->last_job_reply.buf) {
		fv_pb_free(job);
		out->buf = fv_alloc(e->last_job_reply.len);
		if (!out->buf)
			return FV_ENOMEM;
		memcpy(out->buf, e->last_job_reply.buf, e->last_job_reply.len);
		out->len = e->last_job_reply.len;
		return FV_OK;
	}
	if (f == EVIL_GARBAGE_REPLY) {
		fv_pb_free(job);
		static const char junk[] = "\x0a\xff\xff\xff\xff\x0fnot an envelope";
		if (!(out->buf = fv_alloc(sizeof(junk))))
			return FV_ENOMEM;
		memcpy(out->buf, junk, sizeof(junk));
		out->len = sizeof(junk);
		return FV_OK;
	}
	if (f == EVIL_WRONG_KEY)
		k = e->other_key;
	if (f == EVIL_STALE_SEQ)
		seq = req->seq - 1;
	rep.body_case = FEDVAL__ENVELOPE__BODY_POLL_REPLY;
	rep.poll_reply = &body;
	r = seal_as(e, &rep, seq, k, out);
	if (r == FV_OK && job && f == EVIL_HONEST) {
		fv_free(e->last_job_reply.buf);
		e->last_job_reply.buf = fv_alloc(out->len);
		if (e->last_job_reply.buf) {
			memcpy(e->last_job_reply.buf, out->buf, out->len);
			e->last_job_reply.len = out->len;
		}
	}
	fv_pb_free(job);
	return r;
}

static fv_err on_chunk(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	const Fedval__ChunkRequest *q = req->chunk_request;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__ModelChunk body = FEDVAL__MODEL_CHUNK__INIT;
	uint8_t *frame = NULL;
	size_t frame_len = 0, off, n;
	struct served_model *m = NULL;
	fv_err r;

	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->nmodels; i++)
		if (!strcmp(e->models[i].sha256, q->sha256))
			m = &e->models[i];
	pthread_mutex_unlock(&e->mu);
	if (!m || q->index >= fv_chunk_count(m->len))
		return reply_error(e, req->seq, FV_ENOTFOUND, "no such chunk", out);
	off = (size_t)q->index * FV_MODEL_CHUNK_RAW;
	n = m->len - off < FV_MODEL_CHUNK_RAW ? m->len - off : FV_MODEL_CHUNK_RAW;
	if (!(frame = fv_alloc(FV_MODEL_CHUNK_MAX)))
		return FV_ENOMEM;
	if ((r = fv_chunk_compress(m->bytes + off, n, frame, &frame_len)) == FV_OK) {
		body.sha256 = q->sha256;
		body.index = q->index;
		body.count = fv_chunk_count(m->len);
		body.size = m->len;
		body.chunk_raw = FV_MODEL_CHUNK_RAW;
		body.data.data = frame;
		body.data.len = frame_len;
		rep.body_case = FEDVAL__ENVELOPE__BODY_CHUNK;
		rep.chunk = &body;
		r = seal_as(e, &rep, req->seq, NULL, out);
	}
	fv_free(frame);
	return r;
}

static fv_err on_result(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	const Fedval__SubmitResult *q = req->submit_result;
	struct evil_outcome o = {.kind = EVIL_RESULT};
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	char job[FV_MAX_ID + 1] = "?";

	if (fv_pb_unpack(&fedval__site_result__descriptor, q->result.data, q->result.len,
			 FV_MAX_UNPACK_ALLOC, &pb, &d) == FV_OK)
		fv_strlcpy(job, ((Fedval__SiteResult *)pb->msg)->job_id, sizeof(job));
	fv_pb_free(pb);
	o.signature_ok = fv_verify(e->node_pub, e->node_pub_len, q->result.data, q->result.len,
				   q->signature.data, q->signature.len) == FV_OK;
	if (!(o.bytes = malloc(q->result.len ? q->result.len : 1)))
		return FV_ENOMEM;
	memcpy(o.bytes, q->result.data, q->result.len);
	o.len = q->result.len;
	record(e, job, &o);
	return reply_ack(e, req->seq, job, "accepted", out);
}

static fv_err on_round(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	struct evil_outcome o = {.kind = EVIL_ROUND, .signature_ok = true};
	struct packed p = {0};
	fv_err r;

	/* A round is signed by its envelope, which was verified before we got here. */
	if ((r = fv_pb_pack(&req->submit_round->base, &p.buf, &p.len)) != FV_OK)
		return r;
	o.bytes = malloc(p.len ? p.len : 1);
	if (o.bytes)
		memcpy(o.bytes, p.buf, p.len);
	o.len = p.len;
	fv_free(p.buf);
	if (!o.bytes)
		return FV_ENOMEM;
	record(e, req->submit_round->job_id, &o);
	return reply_ack(e, req->seq, req->submit_round->job_id, "accepted", out);
}

static fv_err on_decision(struct evil *e, const Fedval__Envelope *req, struct packed *out)
{
	const Fedval__JobDecision *q = req->job_decision;
	struct evil_outcome o = {.kind = EVIL_DECISION, .signature_ok = true};

	fv_strlcpy(o.decision, q->decision, sizeof(o.decision));
	fv_strlcpy(o.reason, q->reason ? q->reason : "", sizeof(o.reason));
	record(e, q->job_id, &o);
	return reply_ack(e, req->seq, q->job_id, q->decision, out);
}

static void answer(struct evil *e, const uint8_t *buf, size_t len, struct packed *out)
{
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	Fedval__Envelope *req;
	fv_err r = FV_OK;

	if (fv_wire_open(buf, len, &pb, &d) != FV_OK)
		return; /* no reply: the client times out, as with the real one's sealing failure */
	req = fv_wire_env(pb);
	pthread_mutex_lock(&e->mu);
	e->requests++;
	bool ok = req->body_case == FEDVAL__ENVELOPE__BODY_ENROL ||
		  (e->node_pub_len && fv_wire_verify(req, e->node_pub, e->node_pub_len) == FV_OK);
	e->bad_signatures += !ok;
	pthread_mutex_unlock(&e->mu);
	if (!ok) {
		reply_error(e, req->seq, FV_EAUTH, "bad signature", out);
		goto out;
	}
	switch (req->body_case) {
	case FEDVAL__ENVELOPE__BODY_ENROL:
		r = on_enrol(e, req, out);
		break;
	case FEDVAL__ENVELOPE__BODY_REGISTER_DATASET:
		r = reply_ack(e, req->seq, req->register_dataset->name, "registered", out);
		break;
	case FEDVAL__ENVELOPE__BODY_POLL:
		r = on_poll(e, req, out);
		break;
	case FEDVAL__ENVELOPE__BODY_CHUNK_REQUEST:
		r = on_chunk(e, req, out);
		break;
	case FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT:
		r = on_result(e, req, out);
		break;
	case FEDVAL__ENVELOPE__BODY_SUBMIT_ROUND:
		r = on_round(e, req, out);
		break;
	case FEDVAL__ENVELOPE__BODY_JOB_DECISION:
		r = on_decision(e, req, out);
		break;
	default:
		r = reply_error(e, req->seq, FV_EAUTH, "body not served here", out);
		break;
	}
	if (r != FV_OK) {
		fv_free(out->buf);
		out->buf = NULL;
	}
out:
	fv_pb_free(pb);
}

static void *serve(void *arg)
{
	struct evil *e = arg;
	while (!e->stop) {
		nng_msg *m = NULL;
		struct packed out = {0};
		int rv = nng_recvmsg(e->sock, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0)
			break;
		answer(e, nng_msg_body(m), nng_msg_len(m), &out);
		nng_msg_free(m);
		if (out.buf) {
			nng_send(e->sock, out.buf, out.len, 0);
			fv_free(out.buf);
		}
	}
	return NULL;
}

fv_err evil_start(const struct evil_opts *o, struct evil **out, struct fv_diag *d)
{
	struct evil *e = fv_calloc(1, sizeof(*e));
	struct fv_cert_info info;
	uint8_t *buf = NULL, *key = NULL;
	size_t len = 0, key_len = 0;
	char url[64];
	fv_err r;
	int rv;

	if (!e)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	pthread_mutex_init(&e->mu, NULL);
	if ((r = fv_file_read(o->ca_file, FV_MAX_CERT_PEM, &buf, &len, d)) != FV_OK)
		goto fail;
	e->ca_pem = (char *)buf;
	e->ca_len = len;
	if ((r = fv_file_read(o->cert_file, FV_MAX_CERT_PEM, &buf, &len, d)) != FV_OK)
		goto fail;
	e->cert_pem = (char *)buf;
	if ((r = fv_cert_verify(e->ca_pem, e->ca_len, e->cert_pem, len, &info, d)) != FV_OK ||
	    (r = fv_key_load(o->key_file, &e->key, d)) != FV_OK ||
	    (r = fv_file_read(o->key_file, FV_MAX_CERT_PEM, &key, &key_len, d)) != FV_OK)
		goto fail;
	fv_strlcpy(e->name, info.name, sizeof(e->name));
	fv_fmt(url, sizeof(url), "tls+tcp://127.0.0.1:%d", o->port);
	if ((rv = nng_rep0_open(&e->sock)) != 0 ||
	    (rv = nng_socket_set_size(e->sock, NNG_OPT_RECVMAXSZ, FV_MAX_ENVELOPE)) != 0 ||
	    (rv = nng_socket_set_ms(e->sock, NNG_OPT_RECVTIMEO, 100)) != 0 ||
	    (rv = nng_socket_set_ms(e->sock, NNG_OPT_SENDTIMEO, 5000)) != 0 ||
	    (rv = nng_tls_config_alloc(&e->tls, NNG_TLS_MODE_SERVER)) != 0 ||
	    (rv = nng_tls_config_auth_mode(e->tls, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (rv = nng_tls_config_ca_chain(e->tls, e->ca_pem, NULL)) != 0 ||
	    (rv = nng_tls_config_own_cert(e->tls, e->cert_pem, (char *)key, NULL)) != 0 ||
	    (rv = nng_socket_set_ptr(e->sock, NNG_OPT_TLS_CONFIG, e->tls)) != 0 ||
	    (rv = nng_listen(e->sock, url, NULL, 0)) != 0) {
		r = fv_diag_set(d, FV_EIO, "listen on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	memset(key, 0, key_len);
	fv_free(key);
	key = NULL;
	if (pthread_create(&e->thread, NULL, serve, e) != 0) {
		r = fv_diag_set(d, FV_EIO, "cannot start the thread");
		goto fail;
	}
	e->running = true;
	*out = e;
	return FV_OK;
fail:
	fv_free(key);
	evil_stop(e);
	return r;
}

void evil_stop(struct evil *e)
{
	if (!e)
		return;
	e->stop = 1;
	if (e->running)
		pthread_join(e->thread, NULL);
	nng_close(e->sock);
	if (e->tls)
		nng_tls_config_free(e->tls);
	for (size_t i = 0; i < e->njobs; i++)
		fv_free(e->jobs[i].buf);
	free(e->jobs);
	for (size_t i = 0; i < e->nrecs; i++)
		free(e->recs[i].out.bytes);
	free(e->recs);
	for (size_t i = 0; i < e->nmodels; i++)
		fv_free(e->models[i].bytes);
	free(e->models);
	fv_key_free(e->key);
	fv_key_free(e->other_key);
	fv_free(e->other_cert);
	fv_free(e->cert_pem);
	fv_free(e->ca_pem);
	fv_free(e->last_job_reply.buf);
	pthread_mutex_destroy(&e->mu);
	fv_free(e);
}
