/* fedval command-line tool: shared pieces of the subcommands. */
#ifndef FEDVAL_CLI_H
#define FEDVAL_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "fedval/config.h"
#include "fedval/err.h"
#include "fedval/limits.h"
#include "fedval/report.h"
#include "fedval/stats.h"
#include "fedval/wire.h"

/* Exit codes: 0 success, 1 the operation failed, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_cmd {
	const char *name; /* "model submit" */
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* A connection as a principal described by a client profile (INI [client] url, ca, cert,
 * key), given by --config or $FEDVAL_CONFIG. Enrolled on open. */
struct cli_conn {
	struct fv_config *cfg;
	struct fv_client *client;
	char *ca_path;
};
fv_err cli_connect(const char *config_path, struct cli_conn *c, struct fv_diag *d);
void cli_disconnect(struct cli_conn *c);
/* fv_client_call with the reply's body checked to be `want`. */
/* Connect, one call, disconnect: for commands that send one request. */
fv_err cli_request(const char *config, Fedval__Envelope *req, Fedval__Envelope__BodyCase want,
		   struct fv_pb **reply, struct fv_diag *d);
fv_err cli_call(struct cli_conn *c, Fedval__Envelope *req, Fedval__Envelope__BodyCase want,
		struct fv_pb **reply, struct fv_diag *d);

/* Print "fedval CMD: msg" to stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const struct fv_diag *d);
/* --help handling: when argv holds -h/--help print usage to stdout and return true. */
bool cli_wants_help(int argc, char **argv, const char *usage);
/* Usage error: print msg and usage to stderr; returns CLI_USAGE. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse options with getopt_long; unknown options print usage. Returns -1 at the end. */
int cli_getopt(int argc, char **argv, const struct option *opts, const char *usage, int *bad);

/* Read a JSON object from a file (or "-" for stdin); errors name the file, line and column. */
fv_err cli_json_file(const char *path, json_t **out, struct fv_diag *d);
/* Canonical form: sorted keys, compact, ASCII (what signatures and version ids cover). */
char *cli_json_canonical(const json_t *j);

int cmd_pki_init(int argc, char **argv);
int cmd_pki_issue(int argc, char **argv);
int cmd_model_submit(int argc, char **argv);
int cmd_model_inspect(int argc, char **argv);
int cmd_model_conformance(int argc, char **argv);
int cmd_model_run(int argc, char **argv);
int cmd_benchmark_create(int argc, char **argv);
int cmd_benchmark_open(int argc, char **argv);
int cmd_benchmark_close(int argc, char **argv);
int cmd_dataset_list(int argc, char **argv);
int cmd_dataset_approve(int argc, char **argv);
int cmd_model_accept(int argc, char **argv);
int cmd_model_reject(int argc, char **argv);
int cmd_run_start(int argc, char **argv);
int cmd_run_status(int argc, char **argv);
int cmd_run_publish(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_meta(int argc, char **argv);
int cmd_monitor_check(int argc, char **argv);
int cmd_monitor_schedule(int argc, char **argv);
/* monitor check's input drift (cli/monitor_input.c): per site and subgroup, the case mix of
 * each period against reports[0]; alert when PSI >= psi_limit and Holm-adjusted p < alpha. */
struct mon_inputs;
/* The site object named name in a report's "sites", or NULL (cli/monitor.c). */
const json_t *mon_find_site(const json_t *rep, const char *name);
fv_err mon_inputs_analyse(json_t *const *reports, size_t np, double psi_limit, double alpha,
			  struct mon_inputs **out, struct fv_diag *d);
void mon_inputs_print(const struct mon_inputs *m);
json_t *mon_inputs_json(const struct mon_inputs *m, json_t *alerts); /* appends to alerts */
int mon_inputs_alerts(const struct mon_inputs *m, FILE *f);	     /* ALERT lines */
void mon_inputs_free(struct mon_inputs *m);
/* ... and of each variable's summary (cli/monitor_vars.c): |SMD| >= limit and Holm p < alpha */
struct mon_vars;
fv_err mon_vars_analyse(json_t *const *reports, size_t np, double limit, double alpha,
			struct mon_vars **out, struct fv_diag *d);
void mon_vars_print(const struct mon_vars *m);
json_t *mon_vars_json(const struct mon_vars *m, json_t *alerts);
int mon_vars_alerts(const struct mon_vars *m, FILE *f);
void mon_vars_free(struct mon_vars *m);
int cmd_dashboard_token(int argc, char **argv);
int cmd_report_html(int argc, char **argv);
int cmd_principal_revoke(int argc, char **argv);
int cmd_demo_data(int argc, char **argv);
int cmd_demo_train(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);
int cmd_site_jobs(int argc, char **argv);
int cmd_site_status(int argc, char **argv);
int cmd_site_cancel(int argc, char **argv);
int cmd_site_summary(int argc, char **argv);
int cmd_site_approve(int argc, char **argv);
int cmd_site_veto(int argc, char **argv);
int cmd_site_release(int argc, char **argv);
int cmd_site_results_show(int argc, char **argv);
int cmd_audit_export(int argc, char **argv);

/* Random-effects meta-analysis (REML, Hartung-Knapp) of y/v on the logit (logit) or log
 * scale, back-transformed, as JSON (null for fewer than 2 estimates); printed when print. */
json_t *cli_meta_json(const double *y, const double *v, size_t k, bool logit, const char *what,
		      bool print);

/* ---- regression, survival and multiclass results (lib/report/tasks.c, task_print.c) ---- */
/* fv_task_pool, printed when print. */
json_t *cli_task_pool(enum fv_task task, const struct fv_task_stats *t, size_t k, bool print);
/* fedval stats --task (offline_task.c). */
int cli_stats_task(enum fv_task task, const char *path, const char *score, const char *label,
		   const char *time, const char *site, bool as_json);
void cli_task_print_site(enum fv_task task, const char *who, const struct fv_task_stats *t);

#endif
