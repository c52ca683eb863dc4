/* Authority commands of the benchmark lifecycle: sites' datasets and their approval per
 * benchmark, and benchmark states (draft -> open -> closed). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/util.h"

#define LC_CONFIG_HELP "  --config FILE   client profile (default $FEDVAL_CONFIG)\n"

static const char list_usage[] =
    "usage: fedval dataset list --config FILE [--benchmark NAME] [--json]\n"
    "\n"
    "List the datasets sites have registered (name, period, source, records, summary\n"
    "fingerprint) and, with --benchmark, whether each is approved for that benchmark.\n"
    "\n" LC_CONFIG_HELP "  --benchmark B   show approvals for benchmark B\n"
    "  --json          print as JSON, including each site's data summary\n";

int cmd_dataset_list(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"benchmark", required_argument, NULL, 'b'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *bench = NULL;
	bool as_json = false;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__DatasetsRequest body = FEDVAL__DATASETS_REQUEST__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;

	if (cli_wants_help(argc, argv, list_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, list_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'b')
			bench = optarg;
		else if (c == 'j')
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind != argc)
		return cli_usage(list_usage, "dataset list takes no arguments");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("dataset list", &d);
	body.benchmark = (char *)bench;
	req.body_case = FEDVAL__ENVELOPE__BODY_DATASETS;
	req.datasets = &body;
	if (cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_DATASETS_REPLY, &rp, &d) != FV_OK) {
		cli_disconnect(&conn);
		return cli_fail("dataset list", &d);
	}
	Fedval__DatasetsReply *r = fv_wire_env(rp)->datasets_reply;
	json_t *arr = json_array();
	if (!as_json)
		printf("%-20s %-22s %-24s %-8s %10s  %-16s %s\n", "site", "dataset", "period",
		       "source", "records", "fingerprint", bench ? "approval" : "");
	for (size_t i = 0; i < r->n_datasets; i++) {
		const Fedval__DatasetInfo *x = r->datasets[i];
		const char *ap = x->approval && *x->approval ? x->approval : "-";
		if (as_json) {
			json_t *sum = json_loads(x->summary_json ? x->summary_json : "", 0, NULL);
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:o}", "node", x->node,
					   "dataset", x->name, "description", x->description ?: "",
					   "period", x->period ?: "", "source",
					   x->source_kind ?: "", "records", (json_int_t)x->records,
					   "fingerprint", x->fingerprint ?: "", "approval",
					   bench ? ap : "", "summary", sum ? sum : json_null()));
		} else {
			printf("%-20s %-22s %-24s %-8s %10llu  %-16.16s %s\n", x->node, x->name,
			       x->period ?: "", x->source_kind ?: "",
			       (unsigned long long)x->records, x->fingerprint ?: "",
			       bench ? ap : "");
		}
	}
	if (as_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return CLI_OK;
}

static const char approve_usage[] =
    "usage: fedval dataset approve --config FILE --benchmark NAME --node SITE --dataset D\n"
    "                              [--withdraw] [--reason TEXT]\n"
    "\n"
    "Approve a site's registered dataset for a benchmark (or withdraw the approval). When a\n"
    "benchmark's spec says \"dataset_approval\": \"required\", runs create jobs only at sites\n"
    "with an approved dataset, and each job names it.\n"
    "\n" LC_CONFIG_HELP "  --withdraw      withdraw an approval\n"
    "  --reason TEXT   recorded with the decision\n";

int cmd_dataset_approve(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"benchmark", required_argument, NULL, 'b'},
					     {"node", required_argument, NULL, 'n'},
					     {"dataset", required_argument, NULL, 'd'},
					     {"withdraw", no_argument, NULL, 'w'},
					     {"reason", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__DatasetApproval body = FEDVAL__DATASET_APPROVAL__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	body.approve = true;
	if (cli_wants_help(argc, argv, approve_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, approve_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'b')
			body.benchmark = optarg;
		else if (c == 'n')
			body.node = optarg;
		else if (c == 'd')
			body.dataset = optarg;
		else if (c == 'w')
			body.approve = false;
		else if (c == 'r')
			body.reason = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (!body.benchmark || !body.node || !body.dataset || optind != argc)
		return cli_usage(approve_usage,
				 "dataset approve needs --benchmark, --node, --dataset");
	req.body_case = FEDVAL__ENVELOPE__BODY_APPROVE_DATASET;
	req.approve_dataset = &body;
	e = cli_request(config, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("dataset %s of %s %s for %s\n", body.dataset, body.node,
		       fv_wire_env(rp)->ack->status, body.benchmark);
	fv_pb_free(rp);
	return e == FV_OK ? CLI_OK : cli_fail("dataset approve", &d);
}

static const char state_usage[] =
    "usage: fedval benchmark open|close --config FILE NAME@VERSION\n"
    "\n"
    "Move a benchmark version forward in its lifecycle: draft -> open (runs may start) ->\n"
    "closed (no more runs). A benchmark's spec is frozen from creation; create it with\n"
    "'fedval benchmark create --draft' to register the protocol before opening it.\n"
    "\n" LC_CONFIG_HELP;

static int set_state(int argc, char **argv, const char *state, const char *cmd)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__BenchmarkState body = FEDVAL__BENCHMARK_STATE__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, state_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, state_usage, &bad)) != -1)
		config = optarg;
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(state_usage, "%s needs one NAME@VERSION", cmd);
	body.benchmark = argv[optind];
	body.state = (char *)state;
	req.body_case = FEDVAL__ENVELOPE__BODY_SET_BENCHMARK_STATE;
	req.set_benchmark_state = &body;
	e = cli_request(config, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("benchmark %s %s\n", body.benchmark, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	return e == FV_OK ? CLI_OK : cli_fail(cmd, &d);
}

int cmd_benchmark_open(int argc, char **argv)
{
	return set_state(argc, argv, "open", "benchmark open");
}

int cmd_benchmark_close(int argc, char **argv)
{
	return set_state(argc, argv, "closed", "benchmark close");
}

static const char review_usage[] =
    "usage: fedval model accept|reject --config FILE VERSION_ID [--reason TEXT]\n"
    "\n"
    "Record the authority's review of a vendor's submitted model version (its manifest:\n"
    "intended use, population, claims, regulatory metadata). Benchmarks whose spec says\n"
    "\"model_acceptance\": \"required\" run accepted versions only. A rejection needs a reason;\n"
    "a later review replaces an earlier one. The review is a measurement prerequisite, not a\n"
    "certification.\n"
    "\n" LC_CONFIG_HELP "  --reason TEXT   recorded with the decision (required to reject)\n";

static int review(int argc, char **argv, bool accept, const char *cmd)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"reason", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ModelReview body = FEDVAL__MODEL_REVIEW__INIT;
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, review_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, review_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'r')
			body.reason = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(review_usage, "%s needs one VERSION_ID", cmd);
	if (!accept && (!body.reason || !*body.reason))
		return cli_usage(review_usage, "%s needs --reason", cmd);
	body.version_id = argv[optind];
	body.accept = accept;
	req.body_case = FEDVAL__ENVELOPE__BODY_REVIEW_MODEL;
	req.review_model = &body;
	e = cli_request(config, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("model %s %s\n", body.version_id, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	return e == FV_OK ? CLI_OK : cli_fail(cmd, &d);
}

int cmd_model_accept(int argc, char **argv)
{
	return review(argc, argv, true, "model accept");
}

int cmd_model_reject(int argc, char **argv)
{
	return review(argc, argv, false, "model reject");
}
