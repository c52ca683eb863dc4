/* fedval: the command-line tool of authorities, vendors and hospital administrators. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

static const struct cli_cmd cmds[] = {
    {"pki init", "create the federation CA (authority)", cmd_pki_init},
    {"pki issue", "issue a key and certificate for a principal", cmd_pki_issue},
    {"model submit", "upload an ONNX model and register a signed, immutable version (vendor)",
     cmd_model_submit},
    {"model inspect", "describe an ONNX model: inputs, outputs, operators, SHA-256, runnable",
     cmd_model_inspect},
    {"model run", "score a CSV file with a model (one output row per record)", cmd_model_run},
    {"model accept", "accept a vendor's submitted model version after review (authority)",
     cmd_model_accept},
    {"model reject", "reject a submitted model version, with a reason (authority)",
     cmd_model_reject},
    {"model conformance", "run the ONNX backend node tests; per-operator table",
     cmd_model_conformance},
    {"benchmark create", "create a frozen benchmark version from a JSON spec (authority)",
     cmd_benchmark_create},
    {"benchmark open", "open a draft benchmark version for runs (authority)", cmd_benchmark_open},
    {"benchmark close", "close a benchmark version: no more runs (authority)", cmd_benchmark_close},
    {"dataset list", "datasets registered by sites, with approvals for a benchmark (authority)",
     cmd_dataset_list},
    {"dataset approve", "approve (or withdraw) a site's dataset for a benchmark (authority)",
     cmd_dataset_approve},
    {"run start", "start a run of a model on a benchmark at every node (authority)", cmd_run_start},
    {"run status", "show runs and the state of their jobs", cmd_run_status},
    {"run publish", "publish a run once every site's part is in (authority)", cmd_run_publish},
    {"results", "verify and print per-site and pooled results of a run", cmd_results},
    {"verify", "re-verify a JSON report offline: signatures, certificates, digests", cmd_verify},
    {"stats", "compute from one local file what a federation of its sites would publish",
     cmd_stats},
    {"meta", "meta-analysis of per-study estimates (FE, DL, REML, Hartung-Knapp)", cmd_meta},
    {"monitor check", "check monitoring reports for drift against a baseline (CUSUM)",
     cmd_monitor_check},
    {"monitor schedule",
     "monitoring schedules run by the coordinator: add, list (--check), remove (authority)",
     cmd_monitor_schedule},
    {"report html",
     "render a JSON run report as one self-contained HTML file (charts, tables, methods)",
     cmd_report_html},
    {"eval", "evaluate a model on a local file exactly as a node does (dry run, benchmarks)",
     cmd_eval},
    {"principal revoke", "revoke a principal: its requests are refused from now on (authority)",
     cmd_principal_revoke},
    {"site jobs", "list jobs held for the hospital's approval (node config)", cmd_site_jobs},
    {"site summary",
     "data-quality and representativeness summary of the node's dataset (sends nothing)",
     cmd_site_summary},
    {"site status", "what the node is evaluating: records, records/s, progress", cmd_site_status},
    {"site cancel", "stop a job's evaluation now (reported as cancelled by the site)",
     cmd_site_cancel},
    {"site approve", "let the node evaluate a held job", cmd_site_approve},
    {"site veto", "refuse a held job with a reason (signed, reported)", cmd_site_veto},
    {"site results", "show exactly what a job's result would send: 'site results show JOB'",
     cmd_site_results_show},
    {"site release", "send a reviewed result", cmd_site_release},
    {"audit verify",
     "check a hash-chained audit log or a signed extract; report the first broken "
     "link",
     cmd_audit_verify},
    {"audit export", "write a signed extract of an audit log for an inspector", cmd_audit_export},
    {"dashboard token", "print a bearer token for the HTTPS dashboard (authority)",
     cmd_dashboard_token},
    {"demo data", "write a synthetic heart-failure cohort (CSV)", cmd_demo_data},
    {"demo train", "fit the demo vendor's logistic-regression model (ONNX + manifest)",
     cmd_demo_train},
};

static void usage(FILE *f)
{
	fputs("usage: fedval COMMAND [OPTIONS]   (fedval COMMAND --help for details)\n\n"
	      "Federated validation of clinical AI: the tool of the authority, vendors and "
	      "hospitals.\n\nCommands:\n",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-18s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\nClient commands take --config FILE (default $FEDVAL_CONFIG): an INI profile with\n"
	      "[client] url, ca, cert, key. Exit status: 0 ok, 1 failed, 2 bad usage.\n",
	      f);
}

int main(int argc, char **argv)
{
	fv_log_set_component("cli");
	fv_log_set_level(FV_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		puts("fedval " FV_VERSION_STRING);
		return CLI_OK;
	}
	/* Commands are one or two words; the longest match wins. */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *sp = strchr(cmds[i].name, ' ');
		if (!sp) {
			if (!strcmp(argv[1], cmds[i].name))
				return cmds[i].run(argc - 1, argv + 1);
			continue;
		}
		if (strlen(argv[1]) == (size_t)(sp - cmds[i].name) &&
		    !strncmp(argv[1], cmds[i].name, (size_t)(sp - cmds[i].name)) && argc >= 3 &&
		    !strcmp(argv[2], sp + 1))
			return cmds[i].run(argc - 2, argv + 2);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strncmp(argv[1], cmds[i].name, strlen(argv[1])) &&
		    cmds[i].name[strlen(argv[1])] == ' ') {
			fprintf(stderr, "fedval %s: which one?\n", argv[1]);
			for (size_t k = i; k < sizeof(cmds) / sizeof(cmds[0]); k++)
				if (!strncmp(argv[1], cmds[k].name, strlen(argv[1])))
					fprintf(stderr, "  fedval %-18s %s\n", cmds[k].name,
						cmds[k].summary);
			return CLI_USAGE;
		}
	}
	fprintf(stderr, "fedval: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}

/* ---- shared helpers ---- */

int cli_fail(const char *cmd, const struct fv_diag *d)
{
	fprintf(stderr, "fedval %s: %s\n", cmd, d->msg[0] ? d->msg : "failed");
	return CLI_FAIL;
}

bool cli_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return true;
		}
	}
	return false;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fputs("fedval: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage, stderr);
	return CLI_USAGE;
}

int cli_getopt(int argc, char **argv, const struct option *opts, const char *usage, int *bad)
{
	char shorts[64] = "";
	size_t k = 0;
	int c;

	for (const struct option *o = opts; o->name && k + 2 < sizeof(shorts); o++) {
		if (o->val > 0 && o->val < 128 && o->flag == NULL) {
			shorts[k++] = (char)o->val;
			if (o->has_arg == required_argument)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	opterr = 0;
	c = getopt_long(argc, argv, shorts, opts, NULL);
	if (c == '?' || c == ':') {
		fprintf(stderr, "fedval: bad option '%s'\n\n%s", argv[optind - 1], usage);
		*bad = 1;
		return -1;
	}
	return c;
}

fv_err cli_json_file(const char *path, json_t **out, struct fv_diag *d)
{
	json_error_t jerr;
	json_t *j;

	if (!strcmp(path, "-"))
		j = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else
		j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return fv_diag_set(d, FV_EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column,
				   jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fv_diag_set(d, FV_EINVAL, "%s: must hold a JSON object", path);
	}
	*out = j;
	return FV_OK;
}

char *cli_json_canonical(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

static const char *const client_keys[] = {"client.url", "client.ca", "client.cert", "client.key",
					  NULL};

fv_err cli_connect(const char *config_path, struct cli_conn *c, struct fv_diag *d)
{
	struct fv_client_opts o = {0};
	char *cert = NULL, *key = NULL;
	const char *url, *ca, *certv, *keyv;
	fv_err e;

	memset(c, 0, sizeof(*c));
	if (!config_path)
		config_path = getenv("FEDVAL_CONFIG");
	if (!config_path)
		return fv_diag_set(d, FV_EINVAL,
				   "no client profile: pass --config FILE or set "
				   "FEDVAL_CONFIG");
	if ((e = fv_config_load(config_path, &c->cfg, d)) ||
	    (e = fv_config_check_known(c->cfg, client_keys, d)) ||
	    (e = fv_config_require(c->cfg, "client", "url", &url, d)) ||
	    (e = fv_config_require(c->cfg, "client", "ca", &ca, d)) ||
	    (e = fv_config_require(c->cfg, "client", "cert", &certv, d)) ||
	    (e = fv_config_require(c->cfg, "client", "key", &keyv, d)))
		goto fail;
	c->ca_path = fv_config_resolve(c->cfg, ca);
	cert = fv_config_resolve(c->cfg, certv);
	key = fv_config_resolve(c->cfg, keyv);
	if (!c->ca_path || !cert || !key) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	o.url = url;
	o.ca_file = c->ca_path;
	o.cert_file = cert;
	o.key_file = key;
	o.software = "fedval " FV_VERSION_STRING;
	if ((e = fv_client_open(&o, &c->client, d)) || (e = fv_client_enrol(c->client, d)))
		goto fail;
	fv_free(cert);
	fv_free(key);
	return FV_OK;
fail:
	fv_free(cert);
	fv_free(key);
	cli_disconnect(c);
	return e;
}

void cli_disconnect(struct cli_conn *c)
{
	fv_client_close(c->client);
	fv_config_free(c->cfg);
	fv_free(c->ca_path);
	memset(c, 0, sizeof(*c));
}

fv_err cli_call(struct cli_conn *c, Fedval__Envelope *req, Fedval__Envelope__BodyCase want,
		struct fv_pb **reply, struct fv_diag *d)
{
	fv_err e = fv_client_call(c->client, req, 0, reply, d);
	if (e != FV_OK)
		return e;
	if (fv_wire_env(*reply)->body_case != want) {
		e = fv_diag_set(d, FV_EPROTO, "unexpected reply %s",
				fv_wire_body_name(fv_wire_env(*reply)->body_case));
		fv_pb_free(*reply);
		*reply = NULL;
	}
	return e;
}

fv_err cli_request(const char *config, Fedval__Envelope *req, Fedval__Envelope__BodyCase want,
		   struct fv_pb **reply, struct fv_diag *d)
{
	struct cli_conn conn;
	fv_err e;

	*reply = NULL;
	if ((e = cli_connect(config, &conn, d)) != FV_OK)
		return e;
	e = cli_call(&conn, req, want, reply, d);
	cli_disconnect(&conn);
	return e;
}

/* Random-effects meta-analysis (REML, Hartung-Knapp) of per-site estimates y with variances v
 * on the logit (logit) or log scale, back-transformed; JSON null for fewer than 2 sites. The
 * same block in `fedval results` and `fedval stats`. */
json_t *cli_meta_json(const double *y, const double *v, size_t k, bool logit, const char *what,
		      bool print)
{
	struct fv_meta m;
	struct fv_diag d = {{0}};
	double (*back)(double) = logit ? fv_stats_expit : exp;

	if (k < 2 || fv_stats_meta(y, v, k, FV_META_REML, 1, 0.95, &m, &d) != FV_OK)
		return json_null();
	if (print)
		printf("  %-22s %.3f (95%% CI %.3f-%.3f), tau2 %.4f, I2 %.0f%%, Q p=%.3g\n", what,
		       back(m.mu), back(m.ci_lo), back(m.ci_hi), m.tau2, m.i2, m.q_p);
	json_t *j =
	    json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:s}", "estimate", back(m.mu), "ci_low",
		      back(m.ci_lo), "ci_high", back(m.ci_hi), "tau2", m.tau2, "i2_percent", m.i2,
		      "q", m.q, "q_p", m.q_p, "sites", (json_int_t)k, "method",
		      logit ? "random effects (REML, Hartung-Knapp) on logit scale"
			    : "random effects (REML, Hartung-Knapp) on log scale");
	if (!isnan(m.pi_lo)) {
		json_object_set_new(j, "pi_low", json_real(back(m.pi_lo)));
		json_object_set_new(j, "pi_high", json_real(back(m.pi_hi)));
		if (print)
			printf("  %-22s   prediction interval %.3f-%.3f (t, %zu-2 df)\n", "",
			       back(m.pi_lo), back(m.pi_hi), k);
	}
	return j;
}
