/* fedval-node: runs at a hospital. Dials out to the coordinator (it never listens), enrols,
 * long-polls for jobs, evaluates frozen models on local data and sends back signed,
 * disclosure-checked aggregates. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "node.h"
#include "source_config.h"

static const char usage[] =
    "usage: fedval-node --config FILE [--check-config]\n"
    "\n"
    "Join a fedval federation as a hospital node: dial out to the coordinator, evaluate frozen\n"
    "models on local data, return only signed, disclosure-checked aggregates.\n"
    "\n"
    "  -c, --config FILE    node configuration (INI; see deploy/node.ini.example)\n"
    "      --check-config   validate configuration, credentials and data mapping, print the\n"
    "                       effective settings, exit (0 = ok)\n"
    "  -h, --help           this text\n"
    "  -V, --version        print the version\n"
    "\n"
    "Stops cleanly on SIGTERM or SIGINT. Logs go to stderr as key=value lines.\n";

static const char *const known_keys[] = {
    "node.coordinator",
    "node.ca",
    "node.cert",
    "node.key",
    "node.cache_dir",
    "node.state_dir",
    "node.log_level",
    "node.eval_timeout_s",
    "node.poll_wait_ms",
    "data.source",
    "data.path",
    "data.delimiter",
    "data.decimal",
    "data.table",
    "data.query",
    "data.conninfo",
    "data.image_column",
    "data.image_channels",
    "data.image_height",
    "data.image_width",
    "data.image_scale",
    "node.eval_threads",
    "node.eval_batch_rows",
    "node.audit_log",
    "node.reconnect_max_ms",
    "mapping.*",
    "policy.min_cell_count",
    "policy.min_cohort_size",
    "policy.approval",
    "policy.allowed_benchmarks",
    "policy.allowed_vendors",
    "policy.require_legal_basis",
    "policy.budget_results",
    "policy.budget_period_days",
    "policy.dp_mechanism",
    "policy.dp_epsilon",
    "policy.dp_delta",
    "policy.dp_budget_epsilon",
    "policy.coordinator_key",
    "policy.rounding_base",
    "policy.min_subgroup_size",
    "policy.small_cells",
    "data.name",
    "data.description",
    "data.period",
    "predictions.model",
    "predictions.path",
    "predictions.key",
    "predictions.score",
    "predictions.data_key",
    "predictions.version_column",
    "predictions.source",
    "predictions.table",
    "predictions.query",
    "predictions.conninfo",
    "predictions.delimiter",
    "predictions.decimal",
    NULL,
};

static volatile int stop_flag;
static pthread_mutex_t client_mu = PTHREAD_MUTEX_INITIALIZER;
static struct node *the_node;

/* SIGTERM/SIGINT may land on any thread (OpenBLAS starts threads before main): the handler
 * only sets the flag and writes a byte to a pipe; this thread then wakes the main loop from a
 * long poll by closing its socket. */
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	char b = (char)sig;
	stop_flag = 1;
	if (write(wake_pipe[1], &b, 1) < 0) {
		/* nothing to do: the flag is set */
	}
}

static void *signal_thread(void *arg)
{
	char b = 0;
	(void)arg;
	while (read(wake_pipe[0], &b, 1) < 0 && errno == EINTR)
		;
	fv_log(FV_LOG_INFO, "stopping", "signal=%d", (int)b);
	pthread_mutex_lock(&client_mu);
	if (the_node && the_node->client)
		fv_client_interrupt(the_node->client);
	pthread_mutex_unlock(&client_mu);
	return NULL;
}

/* [predictions]: site-supplied scores, from a source configured like [data]. */
static fv_err byo_settings(struct node *n, struct fv_diag *d)
{
	static const char *const keys[] = {"model",    "source", "path",  "table",   "query",
					   "conninfo", "key",	 "score", "data_key"};
	struct fv_config *cfg = n->cfg;
	bool any = false;
	fv_err e;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		any = any || fv_config_get(cfg, "predictions", keys[i]);
	if (!any)
		return FV_OK;
	if ((e = fv_config_require(cfg, "predictions", "model", &n->byo.model, d)) ||
	    (e = fv_config_require(cfg, "predictions", "key", &n->byo.key, d)) ||
	    (e = fv_config_require(cfg, "predictions", "score", &n->byo.score, d)) ||
	    (e = fv_config_require(cfg, "predictions", "data_key", &n->byo.data_key, d)) ||
	    (e = node_source_settings(cfg, "predictions", false, &n->byo.spec, &n->byo_path, d)))
		return e;
	if (n->source.kind == FV_SOURCE_IMAGES)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "%s: [predictions] need a csv, sqlite or postgres [data] source, "
		    "not images",
		    fv_config_path(cfg));
	n->byo.version_column = fv_config_get(cfg, "predictions", "version_column");
	if (n->byo.version_column && !*n->byo.version_column)
		n->byo.version_column = NULL;
	return FV_OK;
}

static fv_err settings_load(struct node *n, struct fv_diag *d)
{
	struct fv_config *cfg = n->cfg;
	const char *url, *ca, *cert, *key, *cache, *state;
	struct fv_source_spec *sp = &n->source;
	long v;
	fv_err e;

	if ((e = fv_config_check_known(cfg, known_keys, d)) ||
	    (e = fv_config_require(cfg, "node", "coordinator", &url, d)) ||
	    (e = fv_config_require(cfg, "node", "ca", &ca, d)) ||
	    (e = fv_config_require(cfg, "node", "cert", &cert, d)) ||
	    (e = fv_config_require(cfg, "node", "key", &key, d)) ||
	    (e = fv_config_require(cfg, "node", "cache_dir", &cache, d)) ||
	    (e = fv_config_require(cfg, "node", "state_dir", &state, d)))
		return e;
	if ((e = node_source_settings(cfg, "data", true, sp, &n->data_path, d)) != FV_OK)
		return e;
	if ((e = node_image_settings(cfg, sp, d)) != FV_OK)
		return e;
	n->copts.url = url;
	if (!(n->ca_path = fv_config_resolve(cfg, ca)) ||
	    !(n->cert_path = fv_config_resolve(cfg, cert)) ||
	    !(n->key_path = fv_config_resolve(cfg, key)) ||
	    !(n->cache_dir = fv_config_resolve(cfg, cache)) ||
	    !(n->state_dir = fv_config_resolve(cfg, state)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	n->copts.ca_file = n->ca_path;
	n->copts.cert_file = n->cert_path;
	n->copts.key_file = n->key_path;
	n->copts.software = "fedval-node " FV_VERSION_STRING;
	/* The site may pin the coordinator's key (its SHA-256, as the coordinator logs it). */
	n->copts.coordinator_key_sha256 = fv_config_get(cfg, "policy", "coordinator_key");
	if ((e = fv_config_long(cfg, "node", "eval_threads", (long)sysconf(_SC_NPROCESSORS_ONLN), 1,
				NODE_MAX_THREADS, &v, d)))
		return e;
	n->eval_threads = (int)v;
	if ((e = fv_config_long(cfg, "node", "eval_batch_rows", 8192, 1, 1 << 20, &v, d)))
		return e;
	n->eval_batch_rows = (size_t)v;
	if ((e = fv_config_long(cfg, "node", "reconnect_max_ms", 60000, 100, 3600000, &v, d)))
		return e;
	n->reconnect_max_ms = (int)v;
	fv_policy_default(&n->policy);
	if ((e = fv_config_long(cfg, "policy", "min_cell_count", n->policy.min_cell, 1, 1000000, &v,
				d)))
		return e;
	n->policy.min_cell = (uint32_t)v;
	if ((e = fv_config_long(cfg, "policy", "min_cohort_size", (long)n->policy.min_cohort, 1,
				1000000000, &v, d)))
		return e;
	n->policy.min_cohort = (uint64_t)v;
	if ((e = node_policy_load(n, d)) != FV_OK)
		return e;
	if ((e = byo_settings(n, d)) != FV_OK)
		return e;
	if ((e = fv_config_long(cfg, "node", "eval_timeout_s", 3600, 1, 7 * 86400, &v, d)))
		return e;
	n->eval_timeout_s = (int)v;
	if ((e = fv_config_long(cfg, "node", "poll_wait_ms", FV_POLL_WAIT_MS, 100,
				FV_REQUEST_TIMEOUT_MS - 5000, &v, d)))
		return e;
	n->poll_wait_ms = (int)v;
	return FV_OK;
}

/* --check-config: credentials, directories and that every mapped column exists in the data. */
static int check_config(struct node *n)
{
	struct fv_key *k = NULL;
	struct fv_cert_info info;
	struct fv_source *src = NULL;
	struct fv_diag d = {{0}};
	uint8_t *cert = NULL;
	size_t len = 0, bad = 0;

	printf("config            %s\ncoordinator       %s\n", fv_config_path(n->cfg),
	       n->copts.url);
	if (fv_key_load(n->key_path, &k, &d) != FV_OK)
		goto fail;
	fv_key_free(k);
	if (fv_file_read(n->cert_path, FV_MAX_CERT_PEM, &cert, &len, &d) != FV_OK ||
	    fv_cert_verify(n->ca_pem, n->ca_len, (char *)cert, len, &info, &d) != FV_OK)
		goto fail;
	fv_free(cert);
	cert = NULL;
	if (info.role != FV_ROLE_NODE) {
		fv_diag_set(&d, FV_EINVAL, "%s: certificate role is %s, not node", n->cert_path,
			    fv_role_name(info.role));
		goto fail;
	}
	printf("principal         %s (role node, certificate valid)\nkey               %s (mode "
	       "ok)\ncache_dir         %s\nstate_dir         %s\n",
	       info.name, n->key_path, n->cache_dir, n->state_dir);
	printf("policy            min_cell_count=%u min_cohort_size=%llu\n", n->policy.min_cell,
	       (unsigned long long)n->policy.min_cohort);
	if (fv_source_open(&n->source, NULL, &src, &d) != FV_OK)
		goto fail;
	printf("data              %s %s (%zu columns)\nmapping\n",
	       fv_source_kind_name(n->source.kind),
	       n->source.kind == FV_SOURCE_POSTGRES ? "(conninfo)" : n->data_path,
	       fv_source_ncols(src));
	for (size_t i = 0; i < fv_config_count(n->cfg); i++) {
		const struct fv_config_entry *en = fv_config_entry(n->cfg, i);
		struct fv_diag md = {{0}};
		bool ok;
		if (strcmp(en->section, "mapping") != 0)
			continue;
		ok = fv_source_check_mapping(src, en->key, en->value, &md) == FV_OK;
		printf("  %-24s <- %-24s %s\n", en->key, en->value, ok ? "ok" : "ERROR");
		if (!ok) {
			fprintf(stderr, "%s:%d: [mapping] %s\n", fv_config_path(n->cfg), en->line,
				md.msg);
			bad++;
		}
	}
	printf("  (benchmark variables not listed map to the column of the same name)\n");
	fv_source_close(src);
	src = NULL;
	if (n->byo.model) {
		/* [predictions]: the source opens and has the columns named (no row is read) */
		const char *cols[3] = {n->byo.key, n->byo.score, n->byo.version_column};
		if (fv_source_open(&n->byo.spec, NULL, &src, &d) != FV_OK) {
			fv_diag_prefix(&d, "[predictions]: ");
			goto fail;
		}
		printf("predictions       %s %s (%zu columns) for model '%s'\n",
		       fv_source_kind_name(n->byo.spec.kind),
		       n->byo.spec.path ? n->byo.spec.path : "(conninfo)", fv_source_ncols(src),
		       n->byo.model);
		for (size_t i = 0; i < 3; i++) {
			bool ok;
			if (!cols[i])
				continue;
			ok = fv_source_find(src, cols[i]) >= 0;
			printf("  %-24s %s\n", cols[i], ok ? "ok" : "ERROR");
			if (!ok) {
				fprintf(stderr, "%s: [predictions] %s: no column '%s'\n",
					fv_config_path(n->cfg),
					i == 0	 ? "key"
					: i == 1 ? "score"
						 : "version_column",
					cols[i]);
				bad++;
			}
		}
		fv_source_close(src);
	}
	return bad ? 1 : 0;
fail:
	fv_free(cert);
	fprintf(stderr, "fedval-node: %s\n", d.msg);
	return 1;
}

/* Sleep up to ms, returning early when asked to stop. */
static void nap(int ms)
{
	for (int slept = 0; slept < ms && !stop_flag; slept += 100) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void disconnect(struct node *n)
{
	pthread_mutex_lock(&client_mu);
	fv_client_close(n->client);
	n->client = NULL;
	pthread_mutex_unlock(&client_mu);
}

/* Connect and enrol, with exponential backoff (1 s doubling to [node] reconnect_max_ms,
 * default 60 s, ±25 % jitter) so that a
 * coordinator restart is not met by every hospital at the same instant. */
static fv_err connect_enrolled(struct node *n)
{
	int backoff = n->reconnect_max_ms < 1000 ? n->reconnect_max_ms : 1000;

	while (!stop_flag) {
		struct fv_client *c = NULL;
		struct fv_diag d = {{0}};
		fv_err e = fv_client_open(&n->copts, &c, &d);
		if (e == FV_OK) {
			pthread_mutex_lock(&client_mu);
			n->client = c;
			pthread_mutex_unlock(&client_mu);
			if (stop_flag)
				break;
			if ((e = fv_client_enrol(c, &d)) == FV_OK) {
				char comp[FV_MAX_NAME + 8];
				fv_fmt(comp, sizeof(comp), "node:%s", fv_client_name(c));
				fv_log_set_component(comp);
				fv_log(FV_LOG_INFO, "enrolled",
				       "name=%s coordinator=%s coordinator_key=%s pinned=%s",
				       fv_client_name(c), n->copts.url,
				       fv_client_coordinator_key(c),
				       n->copts.coordinator_key_sha256 ? "yes" : "no");
				return FV_OK;
			}
			disconnect(n);
		}
		/* A bad URL or a missing file will not fix itself: stop and say so. */
		if (e == FV_EINVAL || e == FV_ENOTFOUND) {
			fv_log(FV_LOG_ERROR, "fatal", "reason=%s", FV_Q(d.msg));
			return e;
		}
		int jitter = (int)(((unsigned)rand() % 501) - 250) * backoff / 1000;
		fv_log(FV_LOG_WARN, "connect_failed", "reason=%s retry_ms=%d", FV_Q(d.msg),
		       backoff + jitter);
		nap(backoff + jitter);
		backoff = backoff * 2 > n->reconnect_max_ms ? n->reconnect_max_ms : backoff * 2;
	}
	return FV_ECANCELED;
}

/* What identifies the data a file source holds now: device, inode, size, modification time.
 * false for a source without a file (PostgreSQL) or a file that cannot be read. */
static bool source_stamp(const struct node *n, int64_t st[4])
{
	struct stat sb;
	if (!n->source.path || n->source.kind == FV_SOURCE_POSTGRES || stat(n->source.path, &sb))
		return false;
	st[0] = (int64_t)sb.st_dev;
	st[1] = (int64_t)sb.st_ino;
	st[2] = (int64_t)sb.st_size;
	st[3] = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return true;
}

/* Register the site's dataset with the coordinator: its name, description and period from
 * [data], and the disclosure-safe summary of every column (computed when the node starts and
 * again when the data file changes). A failure is logged; jobs of benchmarks that do not
 * require approved datasets still run. */
static void register_dataset(struct node *n)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__DatasetRegistration body = FEDVAL__DATASET_REGISTRATION__INIT;
	struct fv_pb *rp = NULL;
	struct fv_diag d = {{0}};

	if (!n->summary_json) {
		/* stamped before reading: a change while reading is seen next time */
		if (!source_stamp(n, n->summary_stamp))
			memset(n->summary_stamp, 0, sizeof(n->summary_stamp));
		struct fv_source *src = NULL;
		struct fv_summary_var *vars = NULL;
		json_t *sum = NULL;
		size_t nc = 0;
		/* An image folder is summarised by its index's columns (no pixel, no image
		 * decoded): take the columns from the index read as a CSV file. */
		struct fv_source_spec cols = n->source;
		if (cols.kind == FV_SOURCE_IMAGES)
			cols.kind = FV_SOURCE_CSV;
		if (fv_source_open(&cols, NULL, &src, &d) == FV_OK) {
			nc = fv_source_ncols(src);
			vars = fv_calloc(nc ? nc : 1, sizeof(*vars));
			for (size_t i = 0; vars && i < nc; i++)
				vars[i].name = vars[i].column = fv_source_colname(src, i);
			struct fv_summary_opts o = {
			    .nvars = nc, .vars = vars, .min_cell = n->policy.min_cell};
			if (vars && fv_data_summarise(&n->source, &o, &sum, &d) == FV_OK) {
				n->summary_json = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
				n->summary_fp = fv_strdup(
				    json_string_value(json_object_get(sum, "fingerprint")) ?: "");
				n->summary_rows =
				    (uint64_t)json_integer_value(json_object_get(sum, "rows"));
			}
			json_decref(sum);
			fv_free(vars);
			fv_source_close(src);
		}
		if (!n->summary_json) {
			fv_log(FV_LOG_WARN, "dataset_summary_failed", "reason=%s", FV_Q(d.msg));
			return;
		}
	}
	body.name = (char *)n->dataset;
	body.description = (char *)(fv_config_get(n->cfg, "data", "description") ?: "");
	body.period = (char *)(fv_config_get(n->cfg, "data", "period") ?: "");
	body.source_kind = (char *)fv_source_kind_name(n->source.kind);
	body.has_records = true;
	body.records = n->summary_rows;
	body.summary_json = n->summary_json;
	body.fingerprint = n->summary_fp;
	req.body_case = FEDVAL__ENVELOPE__BODY_REGISTER_DATASET;
	req.register_dataset = &body;
	if (fv_client_call(n->client, &req, 0, &rp, &d) != FV_OK)
		fv_log(FV_LOG_WARN, "dataset_registration_failed", "reason=%s", FV_Q(d.msg));
	else
		fv_log(FV_LOG_INFO, "dataset_registered",
		       "dataset=%s records=%llu fingerprint=%.16s", n->dataset,
		       (unsigned long long)n->summary_rows, n->summary_fp);
	fv_pb_free(rp);
}

void node_dataset_refresh(struct node *n)
{
	int64_t st[4];
	if (!n->summary_json || !source_stamp(n, st) || !memcmp(st, n->summary_stamp, sizeof(st)))
		return;
	fv_log(FV_LOG_INFO, "dataset_changed", "dataset=%s reason=%s", n->dataset,
	       FV_Q("the data file changed since its summary: summarising it again"));
	free(n->summary_json);
	fv_free(n->summary_fp);
	n->summary_json = n->summary_fp = NULL;
	register_dataset(n);
}

static fv_err poll_once(struct node *n)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs body = FEDVAL__POLL_JOBS__INIT;
	struct fv_pb *rp = NULL;
	struct fv_diag d = {{0}};
	Fedval__PollReply *pr;
	fv_err e;

	body.has_wait_ms = true;
	body.wait_ms = (uint32_t)n->poll_wait_ms;
	req.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	req.poll = &body;
	e = fv_client_call(n->client, &req, n->poll_wait_ms + 10000, &rp, &d);
	if (e != FV_OK) {
		if (!stop_flag)
			fv_log(FV_LOG_WARN, "poll_failed", "reason=%s", FV_Q(d.msg));
		return e;
	}
	if (fv_wire_env(rp)->body_case != FEDVAL__ENVELOPE__BODY_POLL_REPLY) {
		fv_pb_free(rp);
		return FV_EPROTO;
	}
	pr = fv_wire_env(rp)->poll_reply;
	for (size_t i = 0; i < pr->n_jobs && !stop_flag; i++) {
		if ((e = node_job(n, pr->jobs[i], &d)) != FV_OK) {
			fv_log(FV_LOG_WARN, "job_deferred", "job=%s reason=%s", pr->jobs[i]->job_id,
			       FV_Q(d.msg));
			break;
		}
	}
	fv_pb_free(rp);
	return e;
}

static int run(struct node *n)
{
	while (!stop_flag) {
		struct fv_diag d = {{0}};
		fv_err e;
		if (!n->client) {
			if ((e = connect_enrolled(n)) != FV_OK)
				return stop_flag ? 0 : 1;
			register_dataset(n);
			if (node_resubmit_pending(n, &d) != FV_OK) {
				fv_log(FV_LOG_WARN, "resubmit_failed", "reason=%s", FV_Q(d.msg));
				disconnect(n);
				nap(1000);
				continue;
			}
		}
		if (node_process_decisions(n, &d) != FV_OK)
			fv_log(FV_LOG_WARN, "decisions_failed", "reason=%s", FV_Q(d.msg));
		e = poll_once(n);
		if (e == FV_EIO || e == FV_ETIMEDOUT || e == FV_EPROTO || e == FV_EAUTH ||
		    e == FV_ESTATE) {
			/* Transport or session trouble: start a fresh connection and enrolment. */
			disconnect(n);
			nap(500);
		} else if (e != FV_OK) {
			nap(1000);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check-config", no_argument, NULL, 'C'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	const char *config_path = NULL;
	bool check_only = false;
	struct node n = {0};
	struct fv_diag d = {{0}};
	pthread_t sigthr;
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *lvl;
	int c, rc = 1;
	fv_err e;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			puts("fedval-node " FV_VERSION_STRING);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!config_path || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	fv_log_set_component("node");
	n.stop = &stop_flag;
	if ((e = fv_config_load(config_path, &n.cfg, &d)) || (e = settings_load(&n, &d)))
		goto fail;
	lvl = fv_config_get(n.cfg, "node", "log_level");
	if (lvl && !strcmp(lvl, "debug"))
		fv_log_set_level(FV_LOG_DEBUG);
	if ((e = fv_file_read(n.ca_path, FV_MAX_CERT_PEM, &buf, &len, &d)) != FV_OK)
		goto fail;
	n.ca_pem = (char *)buf;
	n.ca_len = len;
	if (check_only) {
		rc = check_config(&n);
		goto out;
	}
	{
		/* Refuse a readable key before anything else, as the coordinator does. */
		struct fv_key *k = NULL;
		if ((e = fv_key_load(n.key_path, &k, &d)) != FV_OK)
			goto fail;
		fv_key_free(k);
	}
	if ((e = fv_mkdir_p(n.cache_dir, 0700, &d)) || (e = fv_mkdir_p(n.state_dir, 0700, &d)))
		goto fail;
	{
		const char *al = fv_config_get(n.cfg, "node", "audit_log");
		char *ap = al ? fv_config_resolve(n.cfg, al) : NULL, def[4096];
		if (!al && fv_fmt(def, sizeof(def), "%s/node-audit.log", n.state_dir) == FV_OK)
			ap = fv_strdup(def);
		e = ap ? fv_audit_open(ap, &n.audit, &d) : FV_ENOMEM;
		fv_free(ap);
		if (e != FV_OK)
			goto fail;
		node_audit(&n, "node_start", FV_VERSION_STRING, strlen(FV_VERSION_STRING));
	}
	srand((unsigned)(fv_now_us() ^ getpid()));
	signal(SIGPIPE, SIG_IGN);
	the_node = &n;
	if (pipe(wake_pipe) != 0) {
		e = fv_diag_set(&d, FV_EIO, "pipe: %s", strerror(errno));
		goto fail;
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (pthread_create(&sigthr, NULL, signal_thread, NULL) != 0) {
		e = fv_diag_set(&d, FV_EIO, "cannot start the signal thread");
		goto fail;
	}
	pthread_detach(sigthr);
	fv_log(FV_LOG_INFO, "starting", "version=%s coordinator=%s data=%s min_cell=%u",
	       FV_VERSION_STRING, n.copts.url, n.data_path ? n.data_path : "(conninfo)",
	       n.policy.min_cell);
	rc = run(&n);
	disconnect(&n);
	fv_log(FV_LOG_INFO, "stopped", "status=%s", rc == 0 ? "clean" : "error");
	goto out;
fail:
	fprintf(stderr, "fedval-node: %s\n", d.msg[0] ? d.msg : fv_strerror(e));
out:
	if (n.audit)
		node_audit(&n, "node_stop", "", 0);
	fv_audit_close(n.audit);
	free(n.summary_json);
	fv_free(n.summary_fp);
	fv_free(n.ca_pem);
	fv_free(n.ca_path);
	fv_free(n.cert_path);
	fv_free(n.key_path);
	fv_free(n.cache_dir);
	fv_free(n.state_dir);
	fv_free(n.data_path);
	fv_free(n.byo_path);
	fv_config_free(n.cfg);
	return rc;
}
