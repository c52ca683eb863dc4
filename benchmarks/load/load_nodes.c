/* Load driver: N simulated hospital nodes in one process against a real fedval-coordinator,
 * runs started with the real `fedval` CLI, and in the same run a reference of plain nng
 * REQ/REP round trips (no TLS, then TLS without signatures or the store) between the same
 * number of sockets. benchmarks/load/run.sh starts the coordinator and calls this; see
 * benchmarks/load/README.md. Prints one JSON object on stdout, progress on stderr.
 *
 * usage: load_nodes --dir FED --url tls+tcp://localhost:PORT --n N --coord-pid PID
 *                   --fedval PATH --model VERSION_ID [--benchmark NAME] [--poll-wait MS]
 *                   [--parallel CONTEXTS] [--idle-s S] [--storm-s S] [--ref-port PORT] */
#include <getopt.h>
#include <signal.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sys/resource.h>

#include "load_harness.h"

struct args {
	const char *dir, *url, *fedval, *model, *benchmark;
	int n, poll_wait, parallel, idle_s, storm_s, ref_port;
	pid_t coord;
};

static double secs(int64_t us)
{
	return (double)us / 1e6;
}

static void sample(const struct args *a, const char *when, json_t *samples, long *max_rss,
		   long *max_fds)
{
	long rss, hwm, fds = ld_proc_fds(a->coord);
	ld_proc_rss(a->coord, &rss, &hwm);
	if (rss > *max_rss)
		*max_rss = rss;
	if (fds > *max_fds)
		*max_fds = fds;
	json_array_append_new(samples, json_pack("{s:s, s:i, s:i, s:i}", "when", when, "rss_kb",
						 (json_int_t)rss, "hwm_kb", (json_int_t)hwm, "fds",
						 (json_int_t)fds));
	fprintf(stderr, "   coordinator %-12s rss=%ld KiB peak=%ld KiB fds=%ld\n", when, rss, hwm,
		fds);
}

/* `fedval run start` as the authority; the run id (last line) into run. Returns seconds. */
static double cli_run_start(const struct args *a, char *run, size_t cap)
{
	char cmd[2048], line[512] = "";
	FILE *p;
	int64_t t0 = ld_mono_us();

	snprintf(cmd, sizeof(cmd),
		 "cd %s && %s run start --benchmark %s --model %s --config authority.ini 2>&1",
		 a->dir, a->fedval, a->benchmark, a->model);
	run[0] = '\0';
	if (!(p = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), p))
		snprintf(run, cap, "%.*s", (int)strcspn(line, "\n"), line);
	int st = pclose(p);
	if (st != 0) {
		fprintf(stderr, "load: run start failed (%d): %s\n", st, run);
		run[0] = '\0';
	}
	return secs(ld_mono_us() - t0);
}

/* ---- the reference: an nng REP echo server and N REQ clients, no fedval on the path ---- */

/* nng_tls_config_cert_key_file wants both in one file; ours are two. */
static int tls_own(nng_tls_config *t, const char *crt, const char *key)
{
	uint8_t *c = NULL, *k = NULL;
	size_t cl, kl;
	struct fv_diag d;
	int rv = NNG_EINVAL;
	if (fv_file_read(crt, FV_MAX_CERT_PEM, &c, &cl, &d) == FV_OK &&
	    fv_file_read(key, FV_MAX_CERT_PEM, &k, &kl, &d) == FV_OK)
		rv = nng_tls_config_own_cert(t, (const char *)c, (const char *)k, NULL);
	fv_free(c);
	fv_free(k);
	return rv;
}

struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	size_t reply_len;
};

static void echo_cb(void *arg)
{
	struct echo_ctx *e = arg;
	nng_msg *m;
	int rv = nng_aio_result(e->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (e->sending || rv != 0) {
		if (e->sending && rv != 0)
			nng_msg_free(nng_aio_get_msg(e->aio));
		e->sending = false;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	m = nng_aio_get_msg(e->aio);
	nng_msg_realloc(m, e->reply_len);
	nng_aio_set_msg(e->aio, m);
	e->sending = true;
	nng_ctx_send(e->ctx, e->aio);
}

struct echo_client {
	pthread_t thr;
	nng_socket sock;
	atomic_int opened;
	const char *url;
	nng_tls_config *tls;
	size_t req_len;
	atomic_int *go, *stop;
	atomic_long *done, *rtts, *errors;
	int64_t ready_us;
};

static void *echo_client_main(void *arg)
{
	struct echo_client *c = arg;
	nng_socket s;
	uint8_t *buf = calloc(1, c->req_len);

	while (!atomic_load(c->go))
		usleep(1000);
	if (!buf || nng_req0_open(&s) != 0) {
		atomic_fetch_add(c->errors, 1);
		free(buf);
		return NULL;
	}
	c->sock = s;
	atomic_store(&c->opened, 1);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 30000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 30000);
	if (c->tls)
		nng_socket_set_ptr(s, NNG_OPT_TLS_CONFIG, c->tls);
	bool first = true;
	if (nng_dial(s, c->url, NULL, 0) != 0) {
		atomic_fetch_add(c->errors, 1);
		goto out;
	}
	while (!atomic_load(c->stop)) {
		nng_msg *m = NULL;
		if (nng_send(s, buf, c->req_len, 0) != 0 || nng_recvmsg(s, &m, 0) != 0) {
			if (!atomic_load(c->stop)) /* not the server closing at the end */
				atomic_fetch_add(c->errors, 1);
			break;
		}
		nng_msg_free(m);
		if (first) {
			c->ready_us = ld_mono_us();
			atomic_fetch_add(c->done, 1);
			first = false;
		} else {
			atomic_fetch_add(c->rtts, 1);
		}
	}
out:
	free(buf);
	return NULL; /* the socket is closed by echo_ref */
}

/* n clients (one thread and one socket each) against an echo server with `parallel`
 * contexts: connect+first round trip of all, then round trips/s for dur_s seconds. */
static json_t *echo_ref(const struct args *a, bool tls, size_t req_len, size_t reply_len, int dur_s)
{
	char url[128], ca[512], crt[600], key[600];
	nng_socket srv;
	nng_listener l;
	nng_tls_config *stls = NULL;
	struct echo_ctx *ctx = calloc((size_t)a->parallel, sizeof(*ctx));
	struct echo_client *cl = calloc((size_t)a->n, sizeof(*cl));
	atomic_int go = 0, stop = 0;
	atomic_long done = 0, rtts = 0, errors = 0;
	pthread_attr_t attr;
	json_t *out = NULL;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", tls ? "tls+tcp" : "tcp",
		 a->ref_port + (tls ? 1 : 0));
	snprintf(ca, sizeof(ca), "%s/pki/ca/ca.crt", a->dir);
	if (nng_rep0_open(&srv) != 0)
		goto done;
	if (tls) {
		snprintf(crt, sizeof(crt), "%s/pki/coordinator.crt", a->dir);
		snprintf(key, sizeof(key), "%s/pki/coordinator.key", a->dir);
		if (nng_tls_config_alloc(&stls, NNG_TLS_MODE_SERVER) != 0 ||
		    nng_tls_config_auth_mode(stls, NNG_TLS_AUTH_MODE_REQUIRED) != 0 ||
		    nng_tls_config_ca_file(stls, ca) != 0 || tls_own(stls, crt, key) != 0) {
			fprintf(stderr, "load: reference TLS configuration failed\n");
			goto done;
		}
	}
	if (nng_listener_create(&l, srv, url) != 0 ||
	    (stls && nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, stls) != 0) ||
	    nng_listener_start(l, 0) != 0) {
		fprintf(stderr, "load: reference listener %s failed\n", url);
		goto done;
	}
	for (int i = 0; i < a->parallel; i++) {
		ctx[i].reply_len = reply_len;
		nng_aio_alloc(&ctx[i].aio, echo_cb, &ctx[i]);
		nng_ctx_open(&ctx[i].ctx, srv);
		nng_ctx_recv(ctx[i].ctx, ctx[i].aio);
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < a->n; i++) {
		cl[i] = (struct echo_client){.url = url,
					     .req_len = req_len,
					     .go = &go,
					     .stop = &stop,
					     .done = &done,
					     .rtts = &rtts,
					     .errors = &errors};
		if (tls) {
			/* One TLS configuration per client, as fv_client_open does. */
			snprintf(crt, sizeof(crt), "%s/pki/loadsim-%04d.crt", a->dir, i);
			snprintf(key, sizeof(key), "%s/pki/loadsim-%04d.key", a->dir, i);
			nng_tls_config_alloc(&cl[i].tls, NNG_TLS_MODE_CLIENT);
			nng_tls_config_auth_mode(cl[i].tls, NNG_TLS_AUTH_MODE_REQUIRED);
			nng_tls_config_ca_file(cl[i].tls, ca);
			nng_tls_config_server_name(cl[i].tls, "localhost");
			tls_own(cl[i].tls, crt, key);
		}
		pthread_create(&cl[i].thr, &attr, echo_client_main, &cl[i]);
	}
	pthread_attr_destroy(&attr);
	int64_t t0 = ld_mono_us();
	atomic_store(&go, 1);
	while (atomic_load(&done) + atomic_load(&errors) < a->n && ld_mono_us() - t0 < 120000000)
		usleep(2000);
	double connect_s = secs(ld_mono_us() - t0);
	long r0 = atomic_load(&rtts);
	int64_t m0 = ld_mono_us();
	sleep((unsigned)dur_s);
	long r1 = atomic_load(&rtts);
	double el = secs(ld_mono_us() - m0);
	atomic_store(&stop, 1);
	/* Closing a client's socket aborts its blocked send or receive at once. */
	for (int i = 0; i < a->n; i++)
		if (atomic_load(&cl[i].opened))
			nng_close(cl[i].sock);
	for (int i = 0; i < a->n; i++) {
		pthread_join(cl[i].thr, NULL);
		if (cl[i].tls)
			nng_tls_config_free(cl[i].tls);
	}
	/* The server socket is left open (the process ends soon): with nng 1.5.2, nng_close of
	 * this TLS REP socket was seen to block forever after its clients had gone. */
	for (int i = 0; i < a->parallel; i++) {
		nng_ctx_close(ctx[i].ctx);
		nng_aio_stop(ctx[i].aio);
		nng_aio_free(ctx[i].aio);
	}
	out = json_pack("{s:s, s:f, s:f, s:i, s:i, s:i}", "transport", tls ? "tls+tcp" : "tcp",
			"connect_all_s", connect_s, "rtt_per_s", (double)(r1 - r0) / el,
			"req_bytes", (json_int_t)req_len, "reply_bytes", (json_int_t)reply_len,
			"errors", (json_int_t)atomic_load(&errors));
	fprintf(
	    stderr,
	    "   reference %-7s: %d sockets connected+1 rtt in %.2f s, %.0f rtt/s (%ld errors)\n",
	    tls ? "tls+tcp" : "tcp", a->n, connect_s, (double)(r1 - r0) / el,
	    (long)atomic_load(&errors));
done:
	if (stls)
		nng_tls_config_free(stls);
	free(ctx);
	free(cl);
	return out;
}

/* Size of a sealed poll request of one of our nodes: the reference sends as many bytes. */
static size_t poll_request_bytes(const struct args *a)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs body = FEDVAL__POLL_JOBS__INIT;
	struct fv_key *k = NULL;
	struct fv_diag d;
	uint8_t *buf = NULL;
	size_t len = 200;
	char key[600];

	snprintf(key, sizeof(key), "%s/pki/loadsim-0000.key", a->dir);
	body.has_wait_ms = true;
	body.wait_ms = (uint32_t)a->poll_wait;
	req.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	req.poll = &body;
	if (fv_key_load(key, &k, &d) == FV_OK &&
	    fv_wire_seal(&req, "loadsim-0000", (uint64_t)fv_now_us(), k, &buf, &len) != FV_OK)
		len = 200;
	fv_free(buf);
	fv_key_free(k);
	return len;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"url", required_argument, NULL, 'u'},
					     {"n", required_argument, NULL, 'n'},
					     {"coord-pid", required_argument, NULL, 'p'},
					     {"fedval", required_argument, NULL, 'f'},
					     {"model", required_argument, NULL, 'm'},
					     {"benchmark", required_argument, NULL, 'b'},
					     {"poll-wait", required_argument, NULL, 'w'},
					     {"parallel", required_argument, NULL, 'P'},
					     {"idle-s", required_argument, NULL, 'i'},
					     {"storm-s", required_argument, NULL, 's'},
					     {"ref-port", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	struct args a = {.benchmark = "hf-readmission-30d",
			 .poll_wait = 25000,
			 .parallel = 256,
			 .idle_s = 10,
			 .storm_s = 10,
			 .ref_port = 0};
	struct ld_sim s;
	struct fv_diag d = {{0}};
	struct rlimit rl;
	char run[256], run2[256];
	long max_rss = -1, max_fds = -1;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		long v = optarg ? strtol(optarg, NULL, 10) : 0;
		switch (c) {
		case 'd':
			a.dir = optarg;
			break;
		case 'u':
			a.url = optarg;
			break;
		case 'n':
			a.n = (int)v;
			break;
		case 'p':
			a.coord = (pid_t)v;
			break;
		case 'f':
			a.fedval = optarg;
			break;
		case 'm':
			a.model = optarg;
			break;
		case 'b':
			a.benchmark = optarg;
			break;
		case 'w':
			a.poll_wait = (int)v;
			break;
		case 'P':
			a.parallel = (int)v;
			break;
		case 'i':
			a.idle_s = (int)v;
			break;
		case 's':
			a.storm_s = (int)v;
			break;
		case 'r':
			a.ref_port = (int)v;
			break;
		default:
			return 2;
		}
	}
	if (!a.dir || !a.url || a.n <= 0 || a.coord <= 0 || !a.fedval || !a.model || !a.ref_port) {
		fprintf(stderr, "usage: load_nodes --dir D --url U --n N --coord-pid P --fedval F "
				"--model VID --ref-port PORT [...]\n");
		return 2;
	}
	/* One connection per simulated node, plus the reference's sockets. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	fv_log_set_level(FV_LOG_ERROR);
	json_t *res = json_object(), *samples = json_array();
	json_object_set_new(res, "nodes", json_integer(a.n));
	json_object_set_new(res, "poll_wait_ms", json_integer(a.poll_wait));
	json_object_set_new(res, "parallel", json_integer(a.parallel));

	struct ld_sim_opts o = {.dir = a.dir,
				.url = a.url,
				.prefix = "loadsim",
				.n = a.n,
				.poll_wait_ms = a.poll_wait,
				.backoff_min_ms = 1000,
				.backoff_max_ms = 8000};
	int64_t t0 = ld_mono_us();
	if (ld_issue(&o, &d) != FV_OK) {
		fprintf(stderr, "load: issue: %s\n", d.msg);
		return 1;
	}
	json_object_set_new(res, "issue_certs_s", json_real(secs(ld_mono_us() - t0)));
	fprintf(stderr, "== %d node certificates in %.2f s\n", a.n, secs(ld_mono_us() - t0));

	if (ld_sim_start(&s, &o, &d) != FV_OK) {
		fprintf(stderr, "load: %s\n", d.msg);
		return 1;
	}
	sample(&a, "before", samples, &max_rss, &max_fds);
	ld_sim_go(&s);
	bool ok = ld_wait(&s, &s.enrolled, a.n, 300000);
	double enrol_s = secs(ld_mono_us() - s.go_us);
	json_object_set_new(res, "enrol_all_s", json_real(enrol_s));
	json_object_set_new(res, "enrol_connect_failures",
			    json_integer(atomic_load(&s.connect_failures)));
	fprintf(stderr, "== %ld/%d nodes enrolled in %.2f s (%ld failed attempts)\n",
		(long)atomic_load(&s.enrolled), a.n, enrol_s,
		(long)atomic_load(&s.connect_failures));
	sample(&a, "enrolled", samples, &max_rss, &max_fds);
	if (!ok)
		goto out;

	/* Idle: every node long-polls; nothing to do. */
	long p0 = atomic_load(&s.polls), e0 = atomic_load(&s.poll_errors);
	sleep((unsigned)a.idle_s);
	json_object_set_new(res, "idle_polls_per_s",
			    json_real((double)(atomic_load(&s.polls) - p0) / a.idle_s));
	json_object_set_new(res, "idle_poll_errors",
			    json_integer(atomic_load(&s.poll_errors) - e0));
	fprintf(stderr, "== idle %d s: %.1f empty polls/s answered, %ld poll errors\n", a.idle_s,
		(double)(atomic_load(&s.polls) - p0) / a.idle_s,
		(long)(atomic_load(&s.poll_errors) - e0));
	sample(&a, "idle", samples, &max_rss, &max_fds);

	/* Run 1: from `fedval run start` to every result stored (acknowledged "accepted"). */
	long acc0 = atomic_load(&s.accepted);
	t0 = ld_mono_us();
	double cli_s = cli_run_start(&a, run, sizeof(run));
	ok = run[0] && ld_wait(&s, &s.accepted, acc0 + a.n, 300000);
	double run_s = secs(ld_mono_us() - t0);
	json_object_set_new(res, "run_id", json_string(run));
	json_object_set_new(res, "cli_run_start_s", json_real(cli_s));
	json_object_set_new(res, "run_all_results_s", json_real(run_s));
	json_object_set_new(res, "run_results", json_integer(atomic_load(&s.accepted) - acc0));
	fprintf(stderr,
		"== run %s: `run start` took %.2f s; %ld/%d results stored %.2f s after it "
		"began\n",
		run, cli_s, (long)(atomic_load(&s.accepted) - acc0), a.n, run_s);
	sample(&a, "run1_done", samples, &max_rss, &max_fds);
	if (!ok)
		goto out;

	/* Run 2, held: every poll is answered at once with the job (not yet answered), so
	 * this is the coordinator's full request path: TLS, envelope, signature, sequence
	 * update in the store, job lookup, reply sealed. */
	atomic_store(&s.hold, 1);
	long j0 = atomic_load(&s.polls_job);
	cli_run_start(&a, run2, sizeof(run2));
	ok = run2[0] && ld_wait(&s, &s.polls_job, j0 + a.n, 300000);
	long q0 = atomic_load(&s.polls_job);
	int64_t m0 = ld_mono_us();
	sleep((unsigned)a.storm_s);
	double storm_rps = (double)(atomic_load(&s.polls_job) - q0) / secs(ld_mono_us() - m0);
	sample(&a, "poll_storm", samples, &max_rss, &max_fds);
	atomic_store(&s.hold, 0);
	acc0 = atomic_load(&s.accepted);
	ok = ok && ld_wait(&s, &s.accepted, acc0 + a.n, 300000);
	json_object_set_new(res, "poll_rtt_per_s", json_real(storm_rps));
	json_object_set_new(res, "poll_reply_bytes",
			    json_integer(atomic_load(&s.last_reply_bytes)));
	fprintf(stderr, "== poll round trips (job offered, full path): %.0f/s, reply %ld bytes\n",
		storm_rps, (long)atomic_load(&s.last_reply_bytes));
out:
	json_object_set_new(res, "poll_errors", json_integer(atomic_load(&s.poll_errors)));
	json_object_set_new(res, "submit_errors", json_integer(atomic_load(&s.submit_errors)));
	json_object_set_new(res, "duplicate_acks", json_integer(atomic_load(&s.duplicate)));
	json_object_set_new(res, "reenrolments",
			    json_integer(atomic_load(&s.enrols) - atomic_load(&s.enrolled)));
	ld_sim_stop(&s);
	json_object_set_new(res, "coord_max_rss_kb", json_integer(max_rss));
	json_object_set_new(res, "coord_max_fds", json_integer(max_fds));
	json_object_set_new(res, "samples", samples);
	json_object_set_new(res, "ok", json_boolean(ok));
	if (ok) {
		size_t req = poll_request_bytes(&a);
		size_t rep = (size_t)json_integer_value(json_object_get(res, "poll_reply_bytes"));
		json_t *ref = json_array();
		json_t *plain = echo_ref(&a, false, req, rep, a.storm_s);
		/* Off by default: with nng 1.5.2 closing these TLS client sockets was seen to hang
		 * (benchmarks/load/README.md). */
		json_t *tls =
		    getenv("FV_LOAD_TLS_REF") ? echo_ref(&a, true, req, rep, a.storm_s) : NULL;
		json_array_append_new(ref, plain ? plain : json_null());
		json_array_append_new(ref, tls ? tls : json_null());
		json_object_set_new(res, "reference", ref);
		double fed = json_real_value(json_object_get(res, "poll_rtt_per_s"));
		if (plain && fed > 0)
			json_object_set_new(
			    res, "overhead_vs_tcp",
			    json_real(json_real_value(json_object_get(plain, "rtt_per_s")) / fed));
		if (tls && fed > 0)
			json_object_set_new(
			    res, "overhead_vs_tls",
			    json_real(json_real_value(json_object_get(tls, "rtt_per_s")) / fed));
		if (tls)
			json_object_set_new(res, "enrol_vs_tls_connect",
					    json_real(enrol_s / json_real_value(json_object_get(
								    tls, "connect_all_s"))));
	}
	char *txt = json_dumps(res, JSON_COMPACT);
	puts(txt);
	free(txt);
	json_decref(res);
	return ok ? 0 : 1;
}
