/* Hospital commands: the site's manual approval of jobs (node config [policy] approval =
 * manual). They act on the node's state directory, which only the node's service user can
 * read; the running node picks each decision up within one poll (node/job.c). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

#define SITE_CONFIG_HELP "  --config FILE   the node's configuration (node.ini)\n"

static const struct option site_config_opt = {"config", required_argument, NULL, 'c'};

/* The node's state_dir from its config. */
static fv_err state_dir(const char *config, char **out, struct fv_diag *d)
{
	struct fv_config *cfg = NULL;
	const char *v;
	fv_err e;

	if (!config)
		return fv_diag_set(d, FV_EINVAL, "--config NODE.ini is required");
	if ((e = fv_config_load(config, &cfg, d)) ||
	    (e = fv_config_require(cfg, "node", "state_dir", &v, d))) {
		fv_config_free(cfg);
		return e;
	}
	*out = fv_config_resolve(cfg, v);
	fv_config_free(cfg);
	return *out ? FV_OK : fv_diag_set(d, FV_ENOMEM, "out of memory");
}

static bool job_id_ok(const char *id)
{
	if (!*id || *id == '.' || strlen(id) > FV_MAX_ID)
		return false;
	for (const char *p = id; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

static bool has(const char *dir, const char *job, const char *ext)
{
	char path[4096];
	return !fv_fmt(path, sizeof(path), "%s/%s%s", dir, job, ext) && access(path, F_OK) == 0;
}

static const char *job_state(const char *dir, const char *job)
{
	if (has(dir, job, ".sent"))
		return "released (sent)";
	if (has(dir, job, ".released"))
		return "released (sending)";
	if (has(dir, job, ".result"))
		return "evaluated: review with 'site results show', then 'site release'";
	if (has(dir, job, ".vetoed"))
		return "vetoed";
	if (has(dir, job, ".approved"))
		return "approved (evaluating)";
	return "waiting for approval";
}

static void print_job(const char *dir, const char *id, const Fedval__Job *j, json_t *arr)
{
	json_t *b = json_loads(j->benchmark_json, 0, NULL);
	json_t *m = json_loads(j->model->manifest_json, 0, NULL);
	const char *na = "(not declared)";
	json_t *thr = json_object_get(b, "thresholds"), *v;
	size_t i;
#define S(o, k) (json_string_value(json_object_get((o), (k))) ?: na)
	if (arr) {
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "job", id, "state",
				   job_state(dir, id), "run", j->run_id, "benchmark", S(b, "name"),
				   "benchmark_version", S(b, "version"), "legal_basis",
				   S(b, "legal_basis"), "purpose", S(b, "purpose"), "vendor",
				   j->model->vendor, "model", S(m, "name"), "thresholds",
				   thr ? thr : json_null()));
		goto out;
	}
	printf("job %s  [%s]\n", id, job_state(dir, id));
	printf("  benchmark     %s@%s  %s\n", S(b, "name"), S(b, "version"), S(b, "title"));
	printf("  legal basis   %s\n  purpose       %s\n", S(b, "legal_basis"), S(b, "purpose"));
	printf("  model         %s %s by %s (version id %.16s…, ONNX %.16s…)\n", S(m, "name"),
	       S(m, "version"), j->model->vendor, j->model->version_id, j->model->onnx_sha256);
	printf("  intended use  %s\n", S(m, "intended_use"));
	const char *task = json_string_value(json_object_get(b, "task"));
	if (task && !strcmp(task, "regression"))
		printf("  computed      regression of %s: n, the means of outcome and prediction, "
		       "their sums of squares\n                and products, sums of absolute and "
		       "squared errors\n",
		       S(b, "label"));
	else if (task && !strcmp(task, "survival"))
		printf("  computed      survival (%s, time %s): n, events, comparable and "
		       "concordant pairs (Harrell's C)\n",
		       S(b, "label"), S(b, "time"));
	else if (task && !strcmp(task, "multiclass"))
		printf("  computed      multiclass %s: n; per class its count, one-vs-rest AUROC "
		       "with DeLong variance\n                and confusion row; the micro "
		       "AUROC\n",
		       S(b, "label"));
	if (task && strcmp(task, "binary") != 0) {
		printf("                (counts below the site's minimum cell count are "
		       "withheld; nothing per record)\n\n");
		goto out;
	}
	printf("  computed      n, events, sum of predicted risks, sum of squared errors, AUROC "
	       "with DeLong variance,\n                and at thresholds");
	json_array_foreach(thr, i, v) printf(" %g", json_number_value(v));
	printf(": TP FP TN FN\n                (counts below the site's minimum cell count are "
	       "suppressed; nothing per record)\n\n");
out:
#undef S
	json_decref(b);
	json_decref(m);
}

/* The options of the site commands that take only --config and --json. Returns -1 to go on,
 * or the exit code (help printed, or a usage error). */
static int site_args(int argc, char **argv, const char *usage, const char *cmd, const char **config,
		     bool *as_json)
{
	static const struct option opts[] = {
	    site_config_opt, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int c, bad = 0;

	if (cli_wants_help(argc, argv, usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, usage, &bad)) != -1) {
		if (c == 'c')
			*config = optarg;
		else if (c == 'j')
			*as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind != argc)
		return cli_usage(usage, "%s takes no arguments", cmd);
	return -1;
}

static const char jobs_usage[] =
    "usage: fedval site jobs --config NODE.ini [--json]\n"
    "\n"
    "List the jobs this node holds for the site's decision: benchmark, model, vendor, intended\n"
    "use, the legal basis and purpose the authority declared, and exactly what would be\n"
    "computed and sent. Decide with 'fedval site approve' or 'fedval site veto'.\n"
    "\n" SITE_CONFIG_HELP "  --json          print as JSON\n";

int cmd_site_jobs(int argc, char **argv)
{
	const char *config = NULL;
	bool as_json = false;
	char *dir = NULL;
	struct fv_diag d = {{0}};
	int c, count = 0;
	json_t *arr = NULL;
	DIR *dh;
	struct dirent *de;

	if ((c = site_args(argc, argv, jobs_usage, "site jobs", &config, &as_json)) >= 0)
		return c;
	if (state_dir(config, &dir, &d) != FV_OK)
		return cli_fail("site jobs", &d);
	if (!(dh = opendir(dir))) {
		fv_diag_set(&d, FV_EIO, "%s: cannot read (run as the node's service user)", dir);
		fv_free(dir);
		return cli_fail("site jobs", &d);
	}
	if (as_json)
		arr = json_array();
	while ((de = readdir(dh))) {
		char id[FV_MAX_ID + 1], path[4096];
		size_t len = strlen(de->d_name);
		uint8_t *buf = NULL;
		size_t blen = 0;
		struct fv_pb *pb = NULL;
		if (len <= 4 || len - 4 > FV_MAX_ID || strcmp(de->d_name + len - 4, ".job"))
			continue;
		memcpy(id, de->d_name, len - 4);
		id[len - 4] = '\0';
		if (fv_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) ||
		    fv_file_read(path, 2 * FV_MAX_ENVELOPE, &buf, &blen, &d) != FV_OK ||
		    fv_pb_unpack(&fedval__job__descriptor, buf, blen, FV_MAX_UNPACK_ALLOC, &pb,
				 &d) != FV_OK) {
			fprintf(stderr, "fedval site jobs: %s: %s\n", de->d_name, d.msg);
			fv_free(buf);
			continue;
		}
		fv_free(buf);
		print_job(dir, id, (Fedval__Job *)pb->msg, arr);
		fv_pb_free(pb);
		count++;
	}
	closedir(dh);
	if (as_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (count == 0) {
		printf("no jobs held for approval\n");
	}
	fv_free(dir);
	return CLI_OK;
}

/* approve / veto / release: write the decision file the node acts on. */
static int decide(int argc, char **argv, const char *cmd, const char *usage, const char *ext)
{
	static const struct option opts[] = {
	    site_config_opt, {"reason", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	const char *config = NULL, *reason = NULL, *job;
	char *dir = NULL, path[4096], text[FV_MAX_TEXT + 128], ts[32];
	struct fv_diag d = {{0}};
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'r')
			reason = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(usage, "%s needs one JOB id", cmd);
	job = argv[optind];
	if (!job_id_ok(job))
		return cli_usage(usage, "'%s' is not a job id", job);
	if (!strcmp(ext, ".vetoed") && (!reason || !*reason))
		return cli_usage(usage, "a veto needs --reason");
	if (reason && strlen(reason) > FV_MAX_TEXT)
		return cli_usage(usage, "--reason longer than %d characters", FV_MAX_TEXT);
	if (state_dir(config, &dir, &d) != FV_OK)
		goto out;
	if (!has(dir, job, ".job")) {
		fv_diag_set(&d, FV_ENOTFOUND, "no job %s held at this node ('fedval site jobs')",
			    job);
		goto out;
	}
	if (!strcmp(ext, ".released") && !has(dir, job, ".result")) {
		fv_diag_set(&d, FV_ESTATE,
			    "job %s has no result yet: approve it and wait for the "
			    "evaluation",
			    job);
		goto out;
	}
	if ((has(dir, job, ".vetoed") && strcmp(ext, ".vetoed")) ||
	    (!strcmp(ext, ".vetoed") && has(dir, job, ".released"))) {
		fv_diag_set(&d, FV_ESTATE, "job %s is already %s", job, job_state(dir, job));
		goto out;
	}
	fv_time_iso(fv_now_us(), ts, sizeof(ts));
	if (!strcmp(ext, ".vetoed"))
		fv_strlcpy(text, reason, sizeof(text));
	else
		fv_fmt(text, sizeof(text), "%s by uid %u at %s\n", cmd + 5, (unsigned)getuid(), ts);
	if (fv_fmt(path, sizeof(path), "%s/%s%s", dir, job, ext) ||
	    fv_file_write_atomic(path, text, strlen(text), 0600, &d) != FV_OK)
		goto out;
	printf("job %s: %s; the node acts on it at its next poll\n", job, cmd + 5);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail(cmd, &d);
	fv_free(dir);
	return rc;
}

static const char approve_usage[] =
    "usage: fedval site approve --config NODE.ini JOB\n\nLet the node evaluate JOB. With manual "
    "approval the result is then held for review\n('fedval site results show JOB') until "
    "'fedval site release JOB'.\n\n" SITE_CONFIG_HELP;
static const char veto_usage[] =
    "usage: fedval site veto --config NODE.ini JOB --reason TEXT\n\nRefuse JOB. Nothing is "
    "computed; the node sends a signed veto with the reason,\nwhich the coordinator "
    "records.\n\n" SITE_CONFIG_HELP "  --reason TEXT   why (sent to the coordinator)\n";
static const char release_usage[] =
    "usage: fedval site release --config NODE.ini JOB\n\nSend JOB's signed result, exactly the "
    "bytes 'fedval site results show JOB' printed.\n\n" SITE_CONFIG_HELP;

int cmd_site_approve(int argc, char **argv)
{
	return decide(argc, argv, "site approve", approve_usage, ".approved");
}

int cmd_site_veto(int argc, char **argv)
{
	return decide(argc, argv, "site veto", veto_usage, ".vetoed");
}

int cmd_site_release(int argc, char **argv)
{
	return decide(argc, argv, "site release", release_usage, ".released");
}

/* The released statistics of a regression, survival or multiclass result, as JSON; printed
 * one per line to out as well when out is not NULL. */
static json_t *task_fields(const Fedval__SiteResult *r, FILE *out)
{
	json_t *j = json_object();
	if (r->regression) {
		const Fedval__RegressionSums *g = r->regression;
		const char *k[] = {"mean_y", "mean_p", "syy", "spp", "spy", "sae", "sse"};
		const double v[] = {g->mean_y, g->mean_p, g->syy, g->spp, g->spy, g->sae, g->sse};
		for (size_t i = 0; i < 7; i++) {
			json_object_set_new(j, k[i], json_real(v[i]));
			if (out)
				fprintf(out, "  %-13s %.10g\n", k[i], v[i]);
		}
	} else if (r->survival) {
		json_object_set_new(j, "events", json_integer((json_int_t)r->n_pos));
		json_object_set_new(j, "comparable",
				    json_integer((json_int_t)r->survival->comparable));
		json_object_set_new(j, "concordant2",
				    json_integer((json_int_t)r->survival->concordant2));
		if (out)
			fprintf(out,
				"  events        %llu\n  comparable    %llu pairs\n  concordant2   "
				"%llu (2 x concordant + tied)\n",
				(unsigned long long)r->n_pos,
				(unsigned long long)r->survival->comparable,
				(unsigned long long)r->survival->concordant2);
	} else if (r->multiclass) {
		json_t *arr = json_array();
		for (size_t c = 0; c < r->multiclass->n_per_class; c++) {
			const Fedval__ClassResult *k = r->multiclass->per_class[c];
			json_t *o = json_pack("{s:I,s:b}", "class", (json_int_t)k->index,
					      "withheld", k->has_suppressed && k->suppressed);
			json_t *row = json_array();
			if (k->has_n)
				json_object_set_new(o, "n", json_integer((json_int_t)k->n));
			if (k->has_auc) {
				json_object_set_new(o, "auc", json_real(k->auc));
				json_object_set_new(o, "auc_var", json_real(k->auc_var));
			}
			for (size_t p = 0; p < k->n_predicted; p++)
				json_array_append_new(row,
						      json_integer((json_int_t)k->predicted[p]));
			json_object_set_new(o, "predicted", row);
			json_array_append_new(arr, o);
			if (!out)
				continue;
			if (k->has_suppressed && k->suppressed) {
				fprintf(out, "  class %-7u withheld\n", k->index);
				continue;
			}
			fprintf(out, "  class %-7u n %llu, AUROC %.6f (variance %.3g), predicted",
				k->index, (unsigned long long)k->n, k->has_auc ? k->auc : NAN,
				k->has_auc ? k->auc_var : NAN);
			for (size_t p = 0; p < k->n_predicted; p++)
				fprintf(out, " %llu", (unsigned long long)k->predicted[p]);
			fprintf(out, "%s\n", k->n_predicted ? "" : " (row withheld)");
		}
		json_object_set_new(j, "per_class", arr);
		if (r->multiclass->has_micro_auc)
			json_object_set_new(j, "micro_auc", json_real(r->multiclass->micro_auc));
	}
	return j;
}

static const char show_usage[] =
    "usage: fedval site results show --config NODE.ini JOB [--json]\n"
    "\n"
    "Print exactly what would leave the hospital for JOB: every field of the signed result and\n"
    "the SHA-256 of its bytes (the coordinator stores and re-verifies the same bytes).\n"
    "\n" SITE_CONFIG_HELP "  --json          print as JSON\n";

int cmd_site_results_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    site_config_opt, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	const char *config = NULL, *job;
	bool as_json = false;
	char *dir = NULL, path[4096], sha[FV_SHA256_HEX];
	struct fv_diag d = {{0}};
	uint8_t *buf = NULL;
	size_t blen = 0;
	struct fv_pb *sub = NULL, *res = NULL;
	int c, bad = 0, rc = CLI_FAIL;

	/* "site results show JOB": the dispatcher matched two words. */
	if (argc >= 2 && !strcmp(argv[1], "show")) {
		argc--;
		argv++;
	} else if (!cli_wants_help(argc, argv, "")) {
		return cli_usage(show_usage, "use 'fedval site results show JOB'");
	}
	if (cli_wants_help(argc, argv, show_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, show_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'j')
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc || !job_id_ok(argv[optind]))
		return cli_usage(show_usage, "site results show needs one JOB id");
	job = argv[optind];
	if (state_dir(config, &dir, &d) != FV_OK ||
	    fv_fmt(path, sizeof(path), "%s/%s.result", dir, job) ||
	    fv_file_read(path, 2 * FV_MAX_ENVELOPE, &buf, &blen, &d) != FV_OK ||
	    fv_pb_unpack(&fedval__submit_result__descriptor, buf, blen, FV_MAX_UNPACK_ALLOC, &sub,
			 &d) != FV_OK)
		goto out;
	Fedval__SubmitResult *s = (Fedval__SubmitResult *)sub->msg;
	if (fv_pb_unpack(&fedval__site_result__descriptor, s->result.data, s->result.len,
			 FV_MAX_UNPACK_ALLOC, &res, &d) != FV_OK)
		goto out;
	fv_sha256_hex(s->result.data, s->result.len, sha);
	Fedval__SiteResult *r = (Fedval__SiteResult *)res->msg;
	if (as_json) {
		json_t *rows = json_array();
		for (size_t i = 0; i < r->n_counts; i++) {
			const Fedval__ThresholdCounts *t = r->counts[i];
			json_array_append_new(
			    rows, json_pack("{s:f,s:I,s:I,s:I,s:I,s:b}", "threshold", t->threshold,
					    "tp", (json_int_t)t->tp, "fp", (json_int_t)t->fp, "tn",
					    (json_int_t)t->tn, "fn", (json_int_t)t->fn,
					    "suppressed", t->has_suppressed && t->suppressed));
		}
		json_t *j =
		    json_pack("{s:s,s:s,s:I,s:s,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:I}", "job", r->job_id,
			      "result_sha256", sha, "bytes", (json_int_t)s->result.len, "status",
			      r->status ? "failed" : "ok", "n", (json_int_t)r->n, "n_pos",
			      (json_int_t)r->n_pos, "auc", r->auc, "auc_var", r->auc_var,
			      "brier_sum", r->brier_sum, "sum_p", r->sum_p, "thresholds", rows,
			      "min_cell", (json_int_t)r->min_cell);
		if (r->task) {
			json_object_set_new(j, "task", json_string(r->task));
			json_object_set_new(j, "task_statistics", task_fields(r, NULL));
		}
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else if (r->task) {
		/* a regression, survival or multiclass result: exactly its released fields */
		printf("job %s  [%s]\nbytes %zu, SHA-256 %s, signed by %s\n", r->job_id,
		       job_state(dir, job), s->result.len, sha, r->node);
		printf("  status        %s%s\n  task          %s\n", r->status ? "failed: " : "ok",
		       r->status && r->reason ? r->reason : "", r->task);
		if (!r->status) {
			printf("  n             %llu\n", (unsigned long long)r->n);
			json_decref(task_fields(r, stdout));
			printf("  minimum cell  %u\n", r->min_cell);
		}
	} else {
		printf("job %s  [%s]\nbytes %zu, SHA-256 %s, signed by %s\n", r->job_id,
		       job_state(dir, job), s->result.len, sha, r->node);
		printf("  status        %s%s%s\n", r->status ? "failed: " : "ok",
		       r->status && r->reason ? r->reason : "", "");
		if (!r->status) {
			printf(
			    "  n             %llu\n  events        %llu\n  AUROC         %.6f "
			    "(DeLong variance %.3g)\n  Brier sum     %.6f\n  expected      %.4f\n",
			    (unsigned long long)r->n, (unsigned long long)r->n_pos, r->auc,
			    r->auc_var, r->brier_sum, r->sum_p);
			for (size_t i = 0; i < r->n_counts; i++) {
				const Fedval__ThresholdCounts *t = r->counts[i];
				if (t->has_suppressed && t->suppressed)
					printf("  threshold %-5g suppressed\n", t->threshold);
				else
					printf(
					    "  threshold %-5g TP %llu  FP %llu  TN %llu  FN %llu\n",
					    t->threshold, (unsigned long long)t->tp,
					    (unsigned long long)t->fp, (unsigned long long)t->tn,
					    (unsigned long long)t->fn);
			}
			printf("  minimum cell  %u\n", r->min_cell);
		}
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("site results show", &d);
	fv_pb_free(res);
	fv_pb_free(sub);
	fv_free(buf);
	fv_free(dir);
	return rc;
}

static const char status_usage[] =
    "usage: fedval site status --config NODE.ini [--json]\n"
    "\n"
    "What the node is doing: the job being evaluated with records read, records/s and the\n"
    "fraction of the input read, and the jobs in its state directory (held, approved,\n"
    "evaluated, released, sent, vetoed).\n"
    "\n" SITE_CONFIG_HELP "  --json          print the evaluation status as JSON\n";

int cmd_site_status(int argc, char **argv)
{
	const char *config = NULL;
	bool as_json = false;
	char *dir = NULL, path[4096], *st = NULL;
	struct fv_diag d = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	int c;

	if ((c = site_args(argc, argv, status_usage, "site status", &config, &as_json)) >= 0)
		return c;
	if (state_dir(config, &dir, &d) != FV_OK)
		return cli_fail("site status", &d);
	if (!fv_fmt(path, sizeof(path), "%s/status.json", dir) &&
	    fv_file_read(path, 4096, &buf, &len, &d) == FV_OK)
		st = (char *)buf;
	if (as_json) {
		fputs(st ? st : "{\"state\": \"idle\"}\n", stdout);
	} else {
		json_t *j = st ? json_loads(st, 0, NULL) : NULL;
		if (!j) {
			printf("evaluation: idle (no job evaluated yet)\n");
		} else {
			double frac = json_number_value(json_object_get(j, "fraction"));
			double rate = json_number_value(json_object_get(j, "rows_per_s"));
			printf("evaluation: %s, job %s, %lld records, %.0f records/s",
			       json_string_value(json_object_get(j, "state")),
			       json_string_value(json_object_get(j, "job")),
			       (long long)json_integer_value(json_object_get(j, "rows")), rate);
			double eta = json_number_value(json_object_get(j, "eta_s"));
			if (frac > 0 && frac < 1)
				printf(", %.0f%% read", 100 * frac);
			if (eta >= 0 && json_object_get(j, "eta_s"))
				printf(", about %.0f s left", eta);
			printf(" (updated %s)\n", json_string_value(json_object_get(j, "updated")));
		}
		json_decref(j);
		DIR *dh = opendir(dir);
		struct dirent *de;
		while (dh && (de = readdir(dh))) {
			size_t l = strlen(de->d_name);
			char id[FV_MAX_ID + 1];
			if (l <= 7 || strcmp(de->d_name + l - 7, ".result") || l - 7 > FV_MAX_ID)
				continue;
			memcpy(id, de->d_name, l - 7);
			id[l - 7] = '\0';
			printf("  %-60s %s\n", id, job_state(dir, id));
		}
		if (dh)
			closedir(dh);
	}
	fv_free(buf);
	fv_free(dir);
	return CLI_OK;
}

static const char cancel_usage[] =
    "usage: fedval site cancel --config NODE.ini JOB\n\nStop JOB's evaluation now; the node "
    "reports the job as failed, \"cancelled by the site\",\nand sends nothing about the data.\n"
    "\n" SITE_CONFIG_HELP;

int cmd_site_cancel(int argc, char **argv)
{
	static const struct option opts[] = {site_config_opt, {NULL, 0, NULL, 0}};
	const char *config = NULL;
	char *dir = NULL, path[4096];
	struct fv_diag d = {{0}};
	int c, bad = 0;

	if (cli_wants_help(argc, argv, cancel_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, cancel_usage, &bad)) != -1)
		config = optarg;
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc || !job_id_ok(argv[optind]))
		return cli_usage(cancel_usage, "site cancel needs one JOB id");
	if (state_dir(config, &dir, &d) != FV_OK ||
	    fv_fmt(path, sizeof(path), "%s/%s.cancel", dir, argv[optind]) ||
	    fv_file_write_atomic(path, "cancel\n", 7, 0600, &d) != FV_OK) {
		fv_free(dir);
		return cli_fail("site cancel", &d);
	}
	printf("job %s: cancellation requested; the node stops its evaluation within a second\n",
	       argv[optind]);
	fv_free(dir);
	return CLI_OK;
}
