/* fedval monitor schedule add|list|remove: the authority's monitoring schedules, run by the
 * coordinator (coordinator/schedule.c, docs/monitoring.md "Scheduled monitoring"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

int cmd_monitor_schedule(int argc, char **argv);

static const char sched_usage[] =
    "usage: fedval monitor schedule add --config FILE --benchmark NAME[@VERSION] --model ID\n"
    "                                   (--cadence C | --mdr-class IIa|IIb|III)\n"
    "                                   [--k K] [--h H] [--max-runs N]\n"
    "       fedval monitor schedule list --config FILE [ID] [--json] [--check]\n"
    "       fedval monitor schedule remove --config FILE ID\n"
    "\n"
    "Monitoring schedules (authority). The coordinator starts a run of the model on the\n"
    "benchmark every cadence, each over the data window since the previous one, and runs a\n"
    "two-sided CUSUM on AUROC and O/E per site and pooled, the first complete run being the\n"
    "baseline. A CUSUM above h raises an alert (docs/monitoring.md).\n"
    "\n"
    "  --config FILE      client profile (default $FEDVAL_CONFIG)\n"
    "  --benchmark B      benchmark name (newest version) or name@version\n"
    "  --model ID         model version id\n"
    "  --cadence C        monthly, yearly, biennial or an ISO 8601 duration (P30D, PT60S)\n"
    "  --mdr-class X      IIa: biennial; IIb, III: yearly (recorded; --cadence overrides)\n"
    "  --k K              CUSUM reference value in standard errors (default 0.5)\n"
    "  --h H              CUSUM decision interval in standard errors (default 4)\n"
    "  --max-runs N       start at most N runs (default: no limit)\n"
    "  --json             list: print JSON (schema fedval.schedules/1)\n"
    "  --check            list: exit 1 when any schedule has an alert\n"
    "\n"
    "Exit status: 0 ok, 1 failure (or an alert with --check), 2 bad usage.\n";

static int sched_add(int argc, char **argv)
{
	enum { O_BENCH = 256, O_MODEL, O_CAD, O_MDR, O_K, O_H, O_MAX };
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"benchmark", required_argument, NULL, O_BENCH},
					     {"model", required_argument, NULL, O_MODEL},
					     {"cadence", required_argument, NULL, O_CAD},
					     {"mdr-class", required_argument, NULL, O_MDR},
					     {"k", required_argument, NULL, O_K},
					     {"h", required_argument, NULL, O_H},
					     {"max-runs", required_argument, NULL, O_MAX},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ScheduleAdd body = FEDVAL__SCHEDULE_ADD__INIT;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	struct fv_pb *rp = NULL;
	long max_runs;
	int c, bad = 0;
	fv_err e;

	while ((c = cli_getopt(argc, argv, opts, sched_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == O_BENCH)
			body.benchmark = optarg;
		else if (c == O_MODEL)
			body.model_version_id = optarg;
		else if (c == O_CAD)
			body.cadence = optarg;
		else if (c == O_MDR)
			body.mdr_class = optarg;
		else if (c == O_K && fv_parse_double(optarg, &body.cusum_k) == FV_OK)
			body.has_cusum_k = 1;
		else if (c == O_H && fv_parse_double(optarg, &body.cusum_h) == FV_OK)
			body.has_cusum_h = 1;
		else if (c == O_MAX && fv_parse_long(optarg, 1, 1000000, &max_runs) == FV_OK) {
			body.has_max_runs = 1;
			body.max_runs = (uint32_t)max_runs;
		} else if (c == O_K || c == O_H || c == O_MAX)
			return cli_usage(sched_usage, "not a valid number: %s", optarg);
	}
	if (bad)
		return CLI_USAGE;
	if (!body.benchmark || !body.model_version_id || optind != argc)
		return cli_usage(sched_usage, "schedule add needs --benchmark and --model");
	if (!body.cadence && !body.mdr_class)
		return cli_usage(sched_usage, "schedule add needs --cadence or --mdr-class");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("monitor schedule add", &d);
	req.body_case = FEDVAL__ENVELOPE__BODY_SCHEDULE_ADD;
	req.schedule_add = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("%s\n", fv_wire_env(rp)->ack->id);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("monitor schedule add", &d);
}

static int sched_remove(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ScheduleRemove body = FEDVAL__SCHEDULE_REMOVE__INIT;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	struct fv_pb *rp = NULL;
	int c, bad = 0;
	fv_err e;

	while ((c = cli_getopt(argc, argv, opts, sched_usage, &bad)) != -1)
		if (c == 'c')
			config = optarg;
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(sched_usage, "schedule remove needs one schedule ID");
	body.id = argv[optind];
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("monitor schedule remove", &d);
	req.body_case = FEDVAL__ENVELOPE__BODY_SCHEDULE_REMOVE;
	req.schedule_remove = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d);
	if (e == FV_OK)
		printf("schedule %s %s\n", fv_wire_env(rp)->ack->id, fv_wire_env(rp)->ack->status);
	fv_pb_free(rp);
	cli_disconnect(&conn);
	return e == FV_OK ? CLI_OK : cli_fail("monitor schedule remove", &d);
}

static json_t *status_json(const Fedval__ScheduleStatus *ss)
{
	const Fedval__Schedule *s = ss->schedule;
	json_t *runs = json_array(), *alerts = json_array();
	json_error_t jerr;
	char ts[32];

	for (size_t i = 0; i < ss->n_runs; i++) {
		const Fedval__ScheduleRun *r = ss->runs[i];
		json_array_append_new(runs, json_pack("{s:s,s:s,s:I,s:s?,s:s?,s:i}", "run_id",
						      r->run_id, "state", r->state, "created_us",
						      (json_int_t)r->created_us, "window_start",
						      r->window_start, "window_end", r->window_end,
						      "period", (int)r->period));
	}
	for (size_t i = 0; i < ss->n_alerts; i++) {
		const Fedval__ScheduleAlert *a = ss->alerts[i];
		json_t *aj = json_pack("{s:s,s:s,s:I,s:s,s:s?}", "site", a->site, "metric",
				       a->metric, "period", (json_int_t)a->period, "direction",
				       a->direction, "run_id", a->run_id);
		if (a->has_psi)
			json_object_update_new(aj,
					       json_pack("{s:f,s:f}", "psi", a->psi, "p_holm",
							 isfinite(a->p_holm) ? a->p_holm : 1.0));
		else
			json_object_set_new(aj, "cusum",
					    json_real(isfinite(a->cusum) ? a->cusum : 0.0));
		json_array_append_new(alerts, aj);
	}
	fv_time_iso(s->next_due_us, ts, sizeof(ts));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s?,s:I,s:s,s:s?,s:s?,s:f,s:f,s:I,s:s?,s:I,s:b,s:I,s:o,s:o}", "id",
	    s->id, "benchmark", s->benchmark, "model_version_id", s->model_version_id, "cadence",
	    s->cadence, "mdr_class", s->mdr_class, "next_due_us", (json_int_t)s->next_due_us,
	    "next_due", ts, "last_run_id", s->last_run_id, "window", s->window, "cusum_k",
	    s->cusum_k, "cusum_h", s->cusum_h, "max_runs", (json_int_t)s->max_runs, "created_by",
	    s->created_by, "created_us", (json_int_t)s->created_us, "alert", ss->alert, "periods",
	    (json_int_t)ss->periods, "runs", runs, "alerts", alerts);
	if (o && ss->drift_json)
		json_object_set_new(o, "drift", json_loads(ss->drift_json, 0, &jerr));
	return o;
}

static void status_print(const Fedval__ScheduleStatus *ss)
{
	const Fedval__Schedule *s = ss->schedule;
	char ts[32];
	fv_time_iso(s->next_due_us, ts, sizeof(ts));
	printf("schedule %s  benchmark %s  model %.16s  cadence %s%s%s  next due %s  runs %zu  "
	       "periods %u  %s\n",
	       s->id, s->benchmark, s->model_version_id, s->cadence,
	       s->mdr_class ? "  MDR class " : "", s->mdr_class ? s->mdr_class : "", ts, ss->n_runs,
	       ss->periods, ss->alert ? "ALERT" : "no alert");
	for (size_t i = 0; i < ss->n_runs; i++) {
		const Fedval__ScheduleRun *r = ss->runs[i];
		char per[16] = "-";
		if (r->period >= 0)
			fv_fmt(per, sizeof(per), "%d", r->period);
		printf("  run %s  %-8s  period %-4s window %s / %s\n", r->run_id, r->state, per,
		       r->window_start ? r->window_start : "", r->window_end ? r->window_end : "");
	}
	for (size_t i = 0; i < ss->n_alerts; i++) {
		const Fedval__ScheduleAlert *a = ss->alerts[i];
		bool up = !strcmp(a->direction, "up");
		if (a->has_psi) {
			printf("  ALERT: %s %s drift at period %u (shift: PSI %.3f >= %g, "
			       "chi-square p (Holm) %.3g < %g) run %s\n",
			       a->site, a->metric, a->period, a->psi, FV_MIX_PSI, a->p_holm,
			       FV_MIX_ALPHA, a->run_id ? a->run_id : "");
			continue;
		}
		printf("  ALERT: %s %s drift at period %u (%s: CUSUM%c %.2f > h = %g) run %s\n",
		       a->site, a->metric, a->period, a->direction, up ? '+' : '-', a->cusum,
		       s->cusum_h, a->run_id ? a->run_id : "");
	}
}

static int sched_list(int argc, char **argv)
{
	enum { O_JSON = 256, O_CHECK };
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"json", no_argument, NULL, O_JSON},
					     {"check", no_argument, NULL, O_CHECK},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__ScheduleListRequest body = FEDVAL__SCHEDULE_LIST_REQUEST__INIT;
	struct cli_conn conn;
	struct fv_diag d = {{0}};
	struct fv_pb *rp = NULL;
	bool json = false, check = false;
	size_t alerts = 0;
	int c, bad = 0, rc;
	fv_err e;

	while ((c = cli_getopt(argc, argv, opts, sched_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == O_JSON)
			json = true;
		else if (c == O_CHECK)
			check = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind < argc)
		body.id = argv[optind++];
	if (optind != argc)
		return cli_usage(sched_usage, "schedule list takes at most one schedule ID");
	if (cli_connect(config, &conn, &d) != FV_OK)
		return cli_fail("monitor schedule list", &d);
	req.body_case = FEDVAL__ENVELOPE__BODY_SCHEDULE_LIST;
	req.schedule_list = &body;
	e = cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_SCHEDULE_LIST_REPLY, &rp, &d);
	cli_disconnect(&conn);
	if (e != FV_OK)
		return cli_fail("monitor schedule list", &d);
	const Fedval__ScheduleListReply *r = fv_wire_env(rp)->schedule_list_reply;
	rc = CLI_OK;
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < r->n_schedules; i++)
			json_array_append_new(arr, status_json(r->schedules[i]));
		json_t *j =
		    json_pack("{s:s,s:o}", "schema", "fedval.schedules/1", "schedules", arr);
		if (!j ||
		    json_dumpf(j, stdout,
			       JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10)) != 0) {
			fv_diag_set(&d, FV_EIO, "cannot write the JSON");
			rc = cli_fail("monitor schedule list", &d);
		}
		putchar('\n');
		json_decref(j);
	} else if (r->n_schedules == 0) {
		printf("no schedules\n");
	}
	for (size_t i = 0; i < r->n_schedules; i++) {
		if (!json)
			status_print(r->schedules[i]);
		alerts += r->schedules[i]->alert;
	}
	if (check && alerts) {
		fprintf(stderr,
			"fedval monitor schedule list: %zu schedule(s) with a drift alert\n",
			alerts);
		rc = CLI_FAIL;
	}
	fv_pb_free(rp);
	return rc;
}

int cmd_monitor_schedule(int argc, char **argv)
{
	/* argv[0] is "schedule"; argv[1] the action */
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(sched_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (cli_wants_help(argc - 1, argv + 1, sched_usage))
		return CLI_OK;
	if (!strcmp(argv[1], "add"))
		return sched_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return sched_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return sched_remove(argc - 1, argv + 1);
	return cli_usage(sched_usage, "unknown action '%s': add, list or remove", argv[1]);
}
