/* Authority commands: benchmark create, run start, run status, principal revoke. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/util.h"

#define CONFIG_HELP "  --config FILE   client profile (default $FEDVAL_CONFIG)\n"

static const struct option config_opt = {"config", required_argument, NULL, 'c'};

static const char bench_usage[] =
    "usage: fedval benchmark create --config FILE SPEC.json [--draft]\n"
    "\n"
    "Create a benchmark version. SPEC.json holds name, version, task (\"binary\"), label (the\n"
    "outcome variable), variables ([{\"name\": ..., \"unit\": ..., \"description\": ...}]),\n"
    "thresholds ([0.1, 0.2, ...]) and free-text fields such as primary_endpoint. A version is\n"
    "frozen once created: the same spec again is accepted, a changed one is refused.\n"
    "With --draft the version is registered (pre-registered protocol) but takes no runs until\n"
    "'fedval benchmark open'. \"dataset_approval\": \"required\" in the spec limits runs to\n"
    "sites whose dataset the authority approved ('fedval dataset approve').\n"
    "\n" CONFIG_HELP "  --draft         create in state draft\n";

int cmd_benchmark_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    config_opt, {"draft", no_argument, NULL, 'D'}, {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__CreateBenchmark body = FEDVAL__CREATE_BENCHMARK__INIT;
	struct fv_pb *rp = NULL;
	json_t *spec = NULL;
	char *canon = NULL;
	int c, bad = 0;

	if (cli_wants_help(argc, argv, bench_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, bench_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'D')
			body.initial_state = "draft";
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(bench_usage, "benchmark create needs one SPEC.json");
	if (cli_json_file(argv[optind], &spec, &d) != FV_OK)
		return cli_fail("benchmark create", &d);
	canon = cli_json_canonical(spec);
	json_decref(spec);
	if (!canon || cli_connect(config, &conn, &d) != FV_OK) {
		free(canon);
		return cli_fail("benchmark create", &d);
	}
	body.spec_json = canon;
	req.body_case = FEDVAL__ENVELOPE__BODY_CREATE_BENCHMARK;
	req.create_benchmark = &body;
	fv_err e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	free(canon);
	if (e == FV_OK)
		printf("benchmark %s %s\n", fv_wire_env(rp)->ack->id, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("benchmark create", &d);
}

static const char start_usage[] =
    "usage: fedval run start --config FILE --benchmark NAME[@VERSION] --model VERSION_ID\n"
    "                        [--compare VERSION_ID]...\n"
    "\n"
    "Start a run: one job for every enrolled, non-revoked node. Prints the run id.\n"
    "With --compare (up to 8), the other models are evaluated on the same records at each\n"
    "site and compared head to head with the first (paired DeLong).\n"
    "With --recalibrate the run fits logit P(y=1) = a + b logit(p) across sites by federated\n"
    "Newton rounds (each site returns only its gradient, Hessian and log-likelihood); the\n"
    "estimate equals a logistic fit on all records pooled.\n"
    "\n" CONFIG_HELP "  --benchmark B   benchmark name (newest version) or name@version\n"
    "  --model ID      model version id printed by 'fedval model submit'\n";

int cmd_run_start(int argc, char **argv)
{
	static const struct option opts[] = {config_opt,
					     {"benchmark", required_argument, NULL, 'b'},
					     {"model", required_argument, NULL, 'm'},
					     {"compare", required_argument, NULL, 'x'},
					     {"recalibrate", no_argument, NULL, 'R'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *bench = NULL, *model = NULL;
	char *compare[FV_MAX_COMPARE];
	size_t ncompare = 0;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__StartRun body = FEDVAL__START_RUN__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, start_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, start_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'b')
			bench = optarg;
		else if (c == 'm')
			model = optarg;
		else if (c == 'x' && ncompare == FV_MAX_COMPARE)
			return cli_usage(start_usage, "at most %d --compare models",
					 FV_MAX_COMPARE);
		else if (c == 'x')
			compare[ncompare++] = optarg;
		else if (c == 'R')
			body.kind = "recalibration";
	}
	if (bad)
		return CLI_USAGE;
	if (!bench || !model || optind != argc)
		return cli_usage(start_usage, "run start needs --benchmark and --model");
	body.compare_model_version_ids = compare;
	body.n_compare_model_version_ids = ncompare;
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("run start", &d);
	body.benchmark = (char *)bench;
	body.model_version_id = (char *)model;
	req.body_case = FEDVAL__ENVELOPE__BODY_START_RUN;
	req.start_run = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_START_RUN_REPLY, &rp, &d);
	if (e == FV_OK) {
		Fedval__StartRunReply *r = fv_wire_env(rp)->start_run_reply;
		printf("%s\n", r->run_id);
		fprintf(stderr, "run %s: %zu job(s):", r->run_id, r->n_job_ids);
		for (size_t i = 0; i < r->n_nodes; i++)
			fprintf(stderr, " %s", r->nodes[i]);
		fputc('\n', stderr);
	}
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("run start", &d);
}

static const char status_usage[] =
    "usage: fedval run status --config FILE [RUN_ID] [--wait SECONDS]\n"
    "\n"
    "Show runs (all, or RUN_ID) with the state of each job: queued, dispatched, done, failed.\n"
    "With --wait, poll until RUN_ID is complete or SECONDS pass (exit 1 on timeout).\n"
    "\n" CONFIG_HELP "  --wait SECONDS  wait for RUN_ID to complete\n";

static void print_run(const Fedval__RunInfo *ri)
{
	char ts[32];
	fv_time_iso(ri->created_us, ts, sizeof(ts));
	printf("run %s  %s%s  %s  benchmark %s  model %s (%.12s)  started %s\n", ri->run_id,
	       ri->state, ri->has_published_us ? ", published" : "",
	       ri->kind ? ri->kind : "evaluation", ri->benchmark, ri->model_name,
	       ri->model_version_id, ts);
	for (size_t k = 0; k < ri->n_jobs; k++) {
		const Fedval__JobStatus *j = ri->jobs[k];
		printf("  %-24s %-10s %s\n", j->node, j->state, j->reason ? j->reason : "");
	}
}

int cmd_run_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    config_opt, {"wait", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	const char *config = NULL, *run = NULL;
	long wait_s = -1;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	int c, bad = 0, rc = CLI_OK;
	int64_t deadline;

	if (cli_wants_help(argc, argv, status_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, status_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'w' && fv_parse_long(optarg, 0, 86400 * 7, &wait_s) != FV_OK)
			return cli_usage(status_usage, "--wait '%s' must be seconds", optarg);
	}
	if (bad)
		return CLI_USAGE;
	if (optind < argc)
		run = argv[optind++];
	if (optind != argc || (wait_s >= 0 && !run))
		return cli_usage(status_usage,
				 "run status takes at most one RUN_ID (needed for --wait)");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("run status", &d);
	deadline = fv_mono_ms() + (wait_s > 0 ? wait_s * 1000 : 0);
	for (;;) {
		Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
		Fedval__RunStatusRequest body = FEDVAL__RUN_STATUS_REQUEST__INIT;
		struct fv_pb *rp = NULL;
		Fedval__RunStatusReply *r;
		bool complete = true;

		body.run_id = (char *)run;
		req.body_case = FEDVAL__ENVELOPE__BODY_RUN_STATUS;
		req.run_status = &body;
		if (cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_RUN_STATUS_REPLY, &rp, &d) !=
		    FV_OK) {
			rc = cli_fail("run status", &d);
			break;
		}
		r = fv_wire_env(rp)->run_status_reply;
		for (size_t i = 0; i < r->n_runs; i++)
			complete = complete && !strcmp(r->runs[i]->state, "complete");
		if (wait_s < 0 || complete || fv_mono_ms() >= deadline) {
			for (size_t i = 0; i < r->n_runs; i++)
				print_run(r->runs[i]);
			if (r->n_runs == 0)
				printf("no runs\n");
			if (wait_s >= 0 && !complete) {
				fprintf(stderr,
					"fedval run status: run %s not complete after %ld s\n", run,
					wait_s);
				rc = CLI_FAIL;
			}
			fv_pb_free(rp);
			break;
		}
		fv_pb_free(rp);
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cli_disconnect(&conn);
	return rc;
}

static const char revoke_usage[] =
    "usage: fedval principal revoke --config FILE NAME [--reason TEXT]\n"
    "\n"
    "Revoke a principal (node, vendor, authority): every later request it signs is refused\n"
    "and it receives no more jobs. Recorded with the reason.\n"
    "\n" CONFIG_HELP "  --reason TEXT   why (kept in the coordinator's records)\n";

int cmd_principal_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
	    config_opt, {"reason", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	const char *config = NULL, *reason = "";
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__RevokePrincipal body = FEDVAL__REVOKE_PRINCIPAL__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, revoke_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, revoke_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'r')
			reason = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(revoke_usage, "principal revoke needs one NAME");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("principal revoke", &d);
	body.name = argv[optind];
	body.reason = (char *)reason;
	req.body_case = FEDVAL__ENVELOPE__BODY_REVOKE;
	req.revoke = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("principal %s %s\n", fv_wire_env(rp)->ack->id, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("principal revoke", &d);
}

static const char publish_usage[] =
    "usage: fedval run publish --config FILE RUN_ID\n"
    "\n"
    "Publish a run's results: allowed only once every site's part is in (done, failed or\n"
    "vetoed; with manual approval a site's part is in when it released its result). The\n"
    "coordinator records the time; reports then say the run is published. A report states\n"
    "measurements, never an approval or a certification.\n"
    "\n" CONFIG_HELP;

int cmd_run_publish(int argc, char **argv)
{
	static const struct option opts[] = {config_opt, {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__RunPublish body = FEDVAL__RUN_PUBLISH__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, publish_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, publish_usage, &bad)) != -1)
		config = optarg;
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(publish_usage, "run publish needs one RUN_ID");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("run publish", &d);
	body.run_id = argv[optind];
	req.body_case = FEDVAL__ENVELOPE__BODY_PUBLISH_RUN;
	req.publish_run = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("run %s %s\n", body.run_id, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("run publish", &d);
}
