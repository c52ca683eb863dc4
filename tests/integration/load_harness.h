/* Simulated hospital nodes for load and fault tests: many real node principals in one process.
 * Each simulated node has its own key and certificate (fv_pki_issue into the federation's PKI),
 * its own fv_client (its own TLS connection), enrols, long-polls with the real protocol and
 * answers each job with a signed SiteResult built from the generated protobuf types. It does
 * not fetch the model or read records: the statistics are made up but shaped exactly like a
 * real node's (counts add up at every threshold), so they pass the coordinator's checks.
 *
 * Like fedval-node, a simulated node keeps its signed result until it is acknowledged and
 * re-sends the same bytes after a reconnection, and reconnects with exponential backoff.
 *
 * No Criterion in here: benchmarks/load/load_nodes.c includes this header too. All functions
 * are static; thread-safety is stated per function. */
#ifndef FEDVAL_LOAD_HARNESS_H
#define FEDVAL_LOAD_HARNESS_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"

#define LD_UNUSED __attribute__((unused))

struct ld_sim;

struct ld_node {
	struct ld_sim *sim;
	int idx;
	char name[32];
	pthread_t thr;
	bool started;
	pthread_mutex_t mu; /* guards c against fv_client_interrupt from ld_sim_stop */
	struct fv_client *c;
	unsigned seed; /* rand_r state: jitter and delays */
	/* The result of the latest job, kept (like state_dir/<job>.result) until acknowledged. */
	char job_id[FV_MAX_ID + FV_MAX_NAME + 2];
	uint8_t *res;
	size_t res_len;
	uint8_t sig[FV_SIG_MAX];
	size_t sig_len;
	bool acked;
	int64_t enrolled_us; /* first successful enrolment, fv_mono-based µs; 0 until then */
};

struct ld_sim_opts {
	const char *dir;     /* federation directory: pki/ca/ca.crt, pki/<name>.crt/.key */
	const char *url;     /* coordinator, tls+tcp://localhost:port */
	const char *prefix;  /* node names are <prefix>-0000, <prefix>-0001, ... */
	int n;		     /* number of simulated nodes */
	int poll_wait_ms;    /* the coordinator's poll_wait_ms; a poll times out 10 s later */
	int submit_delay_ms; /* each result waits a random 0..this long before it is sent */
	int backoff_min_ms;  /* reconnection backoff: doubles from min to max, ±25 % jitter */
	int backoff_max_ms;
	size_t stack_size; /* per thread; 0: 256 KiB */
};

struct ld_sim {
	struct ld_sim_opts o;
	struct ld_node *nodes;
	atomic_int stop;
	atomic_int hold;      /* when set, jobs are received but no result is sent */
	atomic_int go;	      /* threads wait for this before their first connection */
	int64_t go_us;	      /* when go was set (monotonic µs) */
	atomic_long enrolled; /* nodes enrolled at least once */
	atomic_long enrols;   /* successful enrolments, including re-enrolments */
	atomic_long connect_failures;
	atomic_long polls;     /* poll round trips completed (any reply) */
	atomic_long polls_job; /* ... whose reply offered a job */
	atomic_long poll_errors;
	atomic_long jobs_new;  /* jobs answered with a freshly built result */
	atomic_long accepted;  /* submit_result acks "accepted" */
	atomic_long duplicate; /* submit_result acks "duplicate" */
	atomic_long submit_errors;
	atomic_long last_reply_bytes; /* packed size of the last poll reply with a job */
};

static LD_UNUSED int64_t ld_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep ms in slices, returning early once the simulation stops. */
static LD_UNUSED void ld_nap(struct ld_sim *s, int ms)
{
	while (ms > 0 && !atomic_load(&s->stop)) {
		int step = ms > 50 ? 50 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static LD_UNUSED void ld_node_name(const struct ld_sim_opts *o, int i, char *out, size_t cap)
{
	snprintf(out, cap, "%s-%04d", o->prefix, i);
}

/* Issue a node certificate and key for each simulated node that has none yet. Not
 * thread-safe (call before ld_sim_start). */
static LD_UNUSED fv_err ld_issue(const struct ld_sim_opts *o, struct fv_diag *d)
{
	char ca[512], out[512], crt[600], name[32];
	fv_err e = FV_OK;

	snprintf(ca, sizeof(ca), "%s/pki/ca", o->dir);
	snprintf(out, sizeof(out), "%s/pki", o->dir);
	for (int i = 0; i < o->n && e == FV_OK; i++) {
		ld_node_name(o, i, name, sizeof(name));
		snprintf(crt, sizeof(crt), "%s/%s.crt", out, name);
		if (access(crt, F_OK) == 0)
			continue;
		e = fv_pki_issue(ca, FV_ROLE_NODE, name, NULL, 30, out, d);
	}
	return e;
}

/* Build, pack and sign the result of job for node nd (replacing an earlier one). */
static fv_err ld_make_result(struct ld_node *nd, const Fedval__Job *job, struct fv_diag *d)
{
	Fedval__SiteResult r = FEDVAL__SITE_RESULT__INIT;
	Fedval__ThresholdCounts tc[FV_MAX_THRESHOLDS], *tcp[FV_MAX_THRESHOLDS];
	char bench[2 * FV_MAX_TEXT + 2], mapsha[FV_SHA256_HEX];
	json_t *b = json_loads(job->benchmark_json, 0, NULL), *thr;
	size_t nt = 0;
	fv_err e = FV_OK;

	if (!b)
		return fv_diag_set(d, FV_EPROTO, "job %s: benchmark is not JSON", job->job_id);
	thr = json_object_get(b, "thresholds");
	snprintf(bench, sizeof(bench), "%s@%s",
		 json_string_value(json_object_get(b, "name")) ?: "?",
		 json_string_value(json_object_get(b, "version")) ?: "?");
	fv_sha256_hex("loadsim-mapping", 15, mapsha);
	/* A plausible hospital: 1000..1999 records, 12..20 % events; every released cell is well
	 * above any minimum cell count. */
	uint64_t n = 1000 + (uint64_t)nd->idx % 1000, pos = n * (12 + (uint64_t)nd->idx % 9) / 100;
	for (size_t i = 0; i < json_array_size(thr) && nt < FV_MAX_THRESHOLDS; i++, nt++) {
		double t = json_number_value(json_array_get(thr, i));
		fedval__threshold_counts__init(&tc[nt]);
		tc[nt].threshold = t;
		tc[nt].tp = (uint64_t)((double)pos * (0.95 - 0.9 * t));
		tc[nt].fn = pos - tc[nt].tp;
		tc[nt].fp = (uint64_t)((double)(n - pos) * (0.9 - 0.9 * t));
		tc[nt].tn = n - pos - tc[nt].fp;
		tcp[nt] = &tc[nt];
	}
	r.job_id = job->job_id;
	r.run_id = job->run_id;
	r.node = nd->name;
	r.model_version_id = job->model->version_id;
	r.benchmark = bench;
	r.status = 0;
	r.has_n = r.has_n_pos = true;
	r.n = n;
	r.n_pos = pos;
	r.n_counts = nt;
	r.counts = tcp;
	r.has_auc = r.has_auc_var = r.has_brier_sum = r.has_sum_p = r.has_min_cell = true;
	r.auc = 0.70 + 0.01 * (nd->idx % 10);
	r.auc_var = 0.0004;
	r.brier_sum = 0.12 * (double)n;
	r.sum_p = 1.05 * (double)pos;
	r.min_cell = 5;
	r.software = "fedval-loadsim " FV_VERSION_STRING;
	r.mapping_sha256 = mapsha;
	r.has_created_us = true;
	r.created_us = fv_now_us();
	r.model_sha256 = job->model->onnx_sha256;

	fv_free(nd->res);
	nd->res = NULL;
	nd->acked = false;
	snprintf(nd->job_id, sizeof(nd->job_id), "%s", job->job_id);
	if ((e = fv_pb_pack(&r.base, &nd->res, &nd->res_len)) != FV_OK)
		fv_diag_set(d, e, "pack result");
	else if ((e = fv_sign(fv_client_key(nd->c), nd->res, nd->res_len, nd->sig, &nd->sig_len)) !=
		 FV_OK)
		fv_diag_set(d, e, "sign result");
	json_decref(b);
	return e;
}

/* Send the kept result; FV_OK once acknowledged ("accepted" or "duplicate"). */
static fv_err ld_submit(struct ld_node *nd, struct fv_diag *d)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__SubmitResult body = FEDVAL__SUBMIT_RESULT__INIT;
	struct fv_pb *rp = NULL;
	fv_err e;

	body.result.data = nd->res;
	body.result.len = nd->res_len;
	body.signature.data = nd->sig;
	body.signature.len = nd->sig_len;
	req.body_case = FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT;
	req.submit_result = &body;
	if ((e = fv_client_call(nd->c, &req, 0, &rp, d)) != FV_OK) {
		atomic_fetch_add(&nd->sim->submit_errors, 1);
		return e;
	}
	const Fedval__Envelope *env = fv_wire_env(rp);
	if (env->body_case != FEDVAL__ENVELOPE__BODY_ACK || !env->ack->status) {
		e = fv_diag_set(d, FV_EPROTO, "submit: unexpected reply");
	} else if (!strcmp(env->ack->status, "accepted")) {
		atomic_fetch_add(&nd->sim->accepted, 1);
		nd->acked = true;
	} else if (!strcmp(env->ack->status, "duplicate")) {
		atomic_fetch_add(&nd->sim->duplicate, 1);
		nd->acked = true;
	} else {
		e = fv_diag_set(d, FV_EPROTO, "submit: ack status %s", env->ack->status);
	}
	fv_pb_free(rp);
	return e;
}

static void ld_disconnect(struct ld_node *nd)
{
	pthread_mutex_lock(&nd->mu);
	fv_client_close(nd->c);
	nd->c = NULL;
	pthread_mutex_unlock(&nd->mu);
}

static fv_err ld_connect(struct ld_node *nd, struct fv_diag *d)
{
	struct ld_sim *s = nd->sim;
	char ca[512], crt[600], key[600];
	struct fv_client *c = NULL;
	fv_err e;

	snprintf(ca, sizeof(ca), "%s/pki/ca/ca.crt", s->o.dir);
	snprintf(crt, sizeof(crt), "%s/pki/%s.crt", s->o.dir, nd->name);
	snprintf(key, sizeof(key), "%s/pki/%s.key", s->o.dir, nd->name);
	struct fv_client_opts co = {.url = s->o.url,
				    .ca_file = ca,
				    .cert_file = crt,
				    .key_file = key,
				    .software = "fedval-loadsim",
				    .timeout_ms = 30000};
	if ((e = fv_client_open(&co, &c, d)) != FV_OK)
		return e;
	pthread_mutex_lock(&nd->mu);
	nd->c = c;
	pthread_mutex_unlock(&nd->mu);
	if (atomic_load(&s->stop))
		return FV_ECANCELED;
	if ((e = fv_client_enrol(c, d)) != FV_OK)
		return e;
	if (!nd->enrolled_us) {
		nd->enrolled_us = ld_mono_us();
		atomic_fetch_add(&s->enrolled, 1);
	}
	atomic_fetch_add(&s->enrols, 1);
	return FV_OK;
}

/* One poll; a job in the reply is answered (or only counted while the simulation holds). */
static fv_err ld_poll(struct ld_node *nd, struct fv_diag *d)
{
	struct ld_sim *s = nd->sim;
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs body = FEDVAL__POLL_JOBS__INIT;
	struct fv_pb *rp = NULL;
	fv_err e;

	body.has_wait_ms = true;
	body.wait_ms = (uint32_t)s->o.poll_wait_ms;
	req.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	req.poll = &body;
	if ((e = fv_client_call(nd->c, &req, s->o.poll_wait_ms + 10000, &rp, d)) != FV_OK) {
		atomic_fetch_add(&s->poll_errors, 1);
		return e;
	}
	atomic_fetch_add(&s->polls, 1);
	const Fedval__Envelope *env = fv_wire_env(rp);
	if (env->body_case != FEDVAL__ENVELOPE__BODY_POLL_REPLY) {
		fv_pb_free(rp);
		return fv_diag_set(d, FV_EPROTO, "poll: unexpected reply");
	}
	for (size_t i = 0; i < env->poll_reply->n_jobs && e == FV_OK; i++) {
		const Fedval__Job *job = env->poll_reply->jobs[i];
		atomic_fetch_add(&s->polls_job, 1);
		atomic_store(&s->last_reply_bytes,
			     (long)protobuf_c_message_get_packed_size(&env->base));
		if (atomic_load(&s->hold))
			break;
		if (strcmp(job->job_id, nd->job_id) != 0 || !nd->res) {
			if ((e = ld_make_result(nd, job, d)) != FV_OK)
				break;
			atomic_fetch_add(&s->jobs_new, 1);
			if (s->o.submit_delay_ms > 0)
				ld_nap(s,
				       (int)(rand_r(&nd->seed) % (unsigned)s->o.submit_delay_ms));
		}
		e = ld_submit(nd, d);
	}
	fv_pb_free(rp);
	return e;
}

static void *ld_node_main(void *arg)
{
	struct ld_node *nd = arg;
	struct ld_sim *s = nd->sim;
	int backoff = s->o.backoff_min_ms;

	while (!atomic_load(&s->go) && !atomic_load(&s->stop))
		ld_nap(s, 5);
	while (!atomic_load(&s->stop)) {
		struct fv_diag d = {{0}};
		fv_err e;
		if (!nd->c) {
			if ((e = ld_connect(nd, &d)) != FV_OK) {
				ld_disconnect(nd);
				atomic_fetch_add(&s->connect_failures, 1);
				int jitter = (int)(rand_r(&nd->seed) % 501 - 250) * backoff / 1000;
				ld_nap(s, backoff + jitter);
				backoff = backoff * 2 > s->o.backoff_max_ms ? s->o.backoff_max_ms
									    : backoff * 2;
				continue;
			}
			backoff = s->o.backoff_min_ms;
			/* Like fedval-node: an unacknowledged result goes out again first. */
			if (nd->res && !nd->acked && ld_submit(nd, &d) != FV_OK) {
				ld_disconnect(nd);
				ld_nap(s, 200);
				continue;
			}
		}
		e = ld_poll(nd, &d);
		if (e != FV_OK) {
			/* Transport or session trouble: a fresh connection and enrolment. */
			ld_disconnect(nd);
			ld_nap(s, 200);
		}
	}
	ld_disconnect(nd);
	return NULL;
}

/* Start one thread per simulated node; they wait for ld_sim_go. Certificates must exist. */
static LD_UNUSED fv_err ld_sim_start(struct ld_sim *s, const struct ld_sim_opts *o,
				     struct fv_diag *d)
{
	pthread_attr_t attr;
	fv_err e = FV_OK;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	if (s->o.backoff_min_ms <= 0)
		s->o.backoff_min_ms = 200;
	if (s->o.backoff_max_ms < s->o.backoff_min_ms)
		s->o.backoff_max_ms = 4 * s->o.backoff_min_ms;
	if (!(s->nodes = calloc((size_t)o->n, sizeof(*s->nodes))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, o->stack_size ? o->stack_size : 256 * 1024);
	for (int i = 0; i < o->n; i++) {
		struct ld_node *nd = &s->nodes[i];
		nd->sim = s;
		nd->idx = i;
		nd->seed = (unsigned)(i * 2654435761u) ^ (unsigned)getpid();
		ld_node_name(o, i, nd->name, sizeof(nd->name));
		pthread_mutex_init(&nd->mu, NULL);
		if (pthread_create(&nd->thr, &attr, ld_node_main, nd) != 0) {
			e = fv_diag_set(d, FV_ENOMEM, "cannot start thread %d", i);
			break;
		}
		nd->started = true;
	}
	pthread_attr_destroy(&attr);
	return e;
}

static LD_UNUSED void ld_sim_go(struct ld_sim *s)
{
	s->go_us = ld_mono_us();
	atomic_store(&s->go, 1);
}

/* Wait until *counter >= target (or timeout_ms); true when reached. */
static LD_UNUSED bool ld_wait(struct ld_sim *s, atomic_long *counter, long target, int timeout_ms)
{
	int64_t end = ld_mono_us() + (int64_t)timeout_ms * 1000;
	while (atomic_load(counter) < target) {
		if (ld_mono_us() > end || atomic_load(&s->stop))
			return atomic_load(counter) >= target;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Stop every thread (aborting blocked long polls) and free everything. */
static LD_UNUSED void ld_sim_stop(struct ld_sim *s)
{
	if (!s->nodes)
		return;
	atomic_store(&s->stop, 1);
	for (int i = 0; i < s->o.n; i++) {
		pthread_mutex_lock(&s->nodes[i].mu);
		fv_client_interrupt(s->nodes[i].c);
		pthread_mutex_unlock(&s->nodes[i].mu);
	}
	for (int i = 0; i < s->o.n; i++) {
		if (s->nodes[i].started)
			pthread_join(s->nodes[i].thr, NULL);
		pthread_mutex_destroy(&s->nodes[i].mu);
		fv_free(s->nodes[i].res);
	}
	free(s->nodes);
	s->nodes = NULL;
}

/* ---- the coordinator process, seen from outside ---- */

/* Resident set (VmRSS) and its peak (VmHWM) in KiB; -1 when unknown. */
static LD_UNUSED void ld_proc_rss(pid_t pid, long *rss_kb, long *hwm_kb)
{
	char path[64], line[256];
	FILE *f;

	*rss_kb = *hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss_kb = strtol(line + 6, NULL, 10);
		else if (!strncmp(line, "VmHWM:", 6))
			*hwm_kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
}

/* Open file descriptors of pid; -1 when unknown. */
static LD_UNUSED long ld_proc_fds(pid_t pid)
{
	char cmd[96], buf[32] = "";
	FILE *p;
	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd 2>/dev/null | wc -l", (int)pid);
	if (!(p = popen(cmd, "r")))
		return -1;
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

#endif
