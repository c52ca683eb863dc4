/* fedval monitor check: drift of a model's performance over monitoring periods, from the JSON
 * reports `fedval results --json` wrote for each period (docs/monitoring.md).
 *
 * Per site and pooled (random effects across the period's sites), logit AUROC with its
 * DeLong variance and log O/E with variance 1/O are compared with the baseline period by a
 * standardized two-sided CUSUM (lib/stats/drift.c) and by a per-period z test with Holm's
 * adjustment across sites. A CUSUM crossing h is an alarm: "ALERT: ..." and exit 1.
 * Reads files only; contacts nobody. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

static const char monitor_usage[] =
    "usage: fedval monitor check --baseline REPORT.json REPORT2.json [REPORT3.json ...]\n"
    "                            [--k 0.5] [--h 4] [--psi 0.25] [--smd 0.2] [--alpha 0.01]\n"
    "                            [--metric auroc|oe|input|both|all] [--json]\n"
    "\n"
    "Check a model's monitoring periods for drift. Each REPORT is a JSON report written by\n"
    "`fedval results RUN --json FILE` (schema fedval.report/1), one per period, in time order;\n"
    "the --baseline report is period 0. For every site of the baseline and for the pooled\n"
    "random-effects estimate, logit AUROC (DeLong variance) and log observed/expected\n"
    "(variance 1/O) are compared with period 0: z = change / sqrt(var + var0), a two-sided\n"
    "CUSUM on z with reference value k and decision interval h, and a two-sided p-value\n"
    "adjusted across sites by Holm's method. A CUSUM above h raises an alarm.\n"
    "Input drift: each site's case mix over the benchmark's subgroups (released category\n"
    "counts) against period 0, by PSI and a chi-square test of homogeneity (Holm across the\n"
    "period's tests); PSI >= --psi with adjusted p < --alpha raises an alarm. And each\n"
    "variable of the sites' dataset summaries bound to the results: standardized mean\n"
    "difference and z test of the means; |SMD| >= --smd with adjusted p < --alpha alarms.\n"
    "\n"
    "  --baseline FILE   the report of the baseline period (period 0)\n"
    "  --k K             CUSUM reference value in standard errors (default 0.5)\n"
    "  --h H             CUSUM decision interval in standard errors (default 4)\n"
    "  --psi X           input drift: PSI at or above which a shift counts (default 0.25)\n"
    "  --smd X           input drift: |standardized mean difference| that counts (default 0.2)\n"
    "  --alpha A         input drift: significance level of the adjusted test (default 0.01)\n"
    "  --metric M        auroc, oe, input, both (auroc and oe) or all (default all)\n"
    "  --json            print the result as JSON (schema fedval.monitor/1) instead of tables\n"
    "\n"
    "Exit status: 0 no alarm, 1 an alarm (one line \"ALERT: SITE METRIC drift at period N\"\n"
    "per alarm, on stdout; on stderr with --json) or an error, 2 bad usage.\n";

/* Reports per check: a monthly schedule for 100 years; protects the O(periods x sites)
 * tables from a runaway argument list. */
#define MON_MAX_PERIODS 1200

enum { MET_AUC = 0, MET_OE, MET_N };
static const char *const met_name[MET_N] = {"auroc", "oe"};
static const char *const met_title[MET_N] = {
    "AUROC (tested on the logit scale, DeLong variance)",
    "observed/expected events (tested on the log scale, variance 1/O)"};

/* One period's estimate on the test scale. */
struct obs {
	double y, v;
	int ok;
};

/* A monitored series: a site of the baseline, or the pool (site == NULL). */
struct series {
	const char *site;
	struct obs *o[MET_N];		  /* [period] */
	struct fv_cusum_point *cp[MET_N]; /* [period - 1] */
	struct fv_change *ch[MET_N];	  /* [period]; [0] unused */
	double *padj[MET_N];		  /* [period] Holm-adjusted p */
	struct fv_cusum cu[MET_N];
	int monitored[MET_N];
};

struct mon {
	size_t np, ns; /* periods (with the baseline), series (sites + pool) */
	json_t **rep;
	const char **file;
	struct series *s;
	double k, h;
	int want[MET_N];
	int want_input;
	double psi, alpha, smd;
	struct mon_inputs *in;
	struct mon_vars *vars;
};

static double back(int m, double y)
{
	return m == MET_AUC ? fv_stats_expit(y) : exp(y);
}

static bool site_usable(const json_t *s)
{
	return json_is_true(json_object_get(s, "verified")) &&
	       json_is_string(json_object_get(s, "status")) &&
	       !strcmp(json_string_value(json_object_get(s, "status")), "ok");
}

/* The metric of one site object of a report on the test scale. */
static struct obs site_obs(const json_t *s, int m)
{
	struct obs o = {NAN, NAN, 0};
	if (!site_usable(s))
		return o;
	if (m == MET_AUC) {
		const json_t *a = json_object_get(s, "auroc");
		const json_t *e = json_object_get(a, "estimate"),
			     *v = json_object_get(a, "delong_variance");
		if (json_is_number(e) && json_is_number(v))
			o.ok = fv_stats_monitor_auc(json_number_value(e), json_number_value(v),
						    &o.y, &o.v) == FV_OK;
	} else {
		const json_t *n = json_object_get(s, "n_pos"),
			     *e = json_object_get(s, "expected_events");
		if (json_is_integer(n) && json_is_number(e))
			o.ok = fv_stats_monitor_oe((double)json_integer_value(n),
						   json_number_value(e), &o.y, &o.v) == FV_OK;
	}
	return o;
}

const json_t *mon_find_site(const json_t *rep, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(rep, "sites"), i, s)
	{
		const char *n = json_string_value(json_object_get(s, "node"));
		if (n && !strcmp(n, name))
			return s;
	}
	return NULL;
}

/* Random-effects pool of a report's usable sites (REML, normal-based interval so that the
 * standard error feeds the z statistics; DerSimonian-Laird if REML does not converge; fixed
 * effect for a single site). */
static struct obs pooled_obs(const json_t *rep, int m)
{
	struct obs o = {NAN, NAN, 0};
	const json_t *sites = json_object_get(rep, "sites"), *s;
	size_t i, k = 0;
	double *y = fv_calloc(json_array_size(sites) + 1, sizeof(double));
	double *v = fv_calloc(json_array_size(sites) + 1, sizeof(double));
	struct fv_meta mt;

	if (!y || !v)
		goto out;
	json_array_foreach(sites, i, s)
	{
		struct obs so = site_obs(s, m);
		if (so.ok) {
			y[k] = so.y;
			v[k++] = so.v;
		}
	}
	if (k == 0)
		goto out;
	if (fv_stats_meta(y, v, k, k >= 2 ? FV_META_REML : FV_META_FE, 0, 0.95, &mt, NULL) !=
		FV_OK &&
	    fv_stats_meta(y, v, k, FV_META_DL, 0, 0.95, &mt, NULL) != FV_OK)
		goto out;
	o.y = mt.mu;
	o.v = mt.se * mt.se;
	o.ok = isfinite(o.y) && o.v > 0;
out:
	fv_free(y);
	fv_free(v);
	return o;
}

static fv_err load(struct mon *M, struct fv_diag *d)
{
	const json_t *base = M->rep[0], *s;
	const char *bver =
	    json_string_value(json_object_get(json_object_get(base, "model"), "version_id"));
	size_t i;

	for (size_t p = 0; p < M->np; p++) {
		const char *schema = json_string_value(json_object_get(M->rep[p], "schema"));
		const char *ver = json_string_value(
		    json_object_get(json_object_get(M->rep[p], "model"), "version_id"));
		if (!schema || strcmp(schema, "fedval.report/1") != 0)
			return fv_diag_set(d, FV_EINVAL, "%s: not a fedval.report/1 report",
					   M->file[p]);
		if (!json_is_array(json_object_get(M->rep[p], "sites")) ||
		    json_array_size(json_object_get(M->rep[p], "sites")) > FV_MAX_REPORT_SITES)
			return fv_diag_set(d, FV_EINVAL, "%s: sites: missing or more than %d",
					   M->file[p], FV_MAX_REPORT_SITES);
		if (bver && ver && strcmp(bver, ver) != 0)
			return fv_diag_set(
			    d, FV_EINVAL,
			    "%s: model version %.16s differs from the baseline's %.16s "
			    "(monitoring follows one model version)",
			    M->file[p], ver, bver);
	}
	M->ns = 1;
	json_array_foreach(json_object_get(base, "sites"), i, s) M->ns +=
	    json_is_string(json_object_get(s, "node"));
	if (!(M->s = fv_calloc(M->ns, sizeof(*M->s))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	size_t j = 0;
	json_array_foreach(json_object_get(base, "sites"), i, s)
	{
		const char *n = json_string_value(json_object_get(s, "node"));
		if (!n)
			continue;
		for (size_t q = 0; q < j; q++)
			if (!strcmp(M->s[q].site, n))
				return fv_diag_set(d, FV_EINVAL, "%s: site %s appears twice",
						   M->file[0], n);
		M->s[j++].site = n;
	}
	M->s[j].site = NULL; /* the pool, last */
	for (size_t q = 0; q < M->ns; q++) {
		struct series *S = &M->s[q];
		for (int m = 0; m < MET_N; m++) {
			if (!(S->o[m] = fv_calloc(M->np, sizeof(struct obs))) ||
			    !(S->cp[m] = fv_calloc(M->np, sizeof(struct fv_cusum_point))) ||
			    !(S->ch[m] = fv_calloc(M->np, sizeof(struct fv_change))) ||
			    !(S->padj[m] = fv_calloc(M->np, sizeof(double))))
				return fv_diag_set(d, FV_ENOMEM, "out of memory");
			for (size_t p = 0; p < M->np; p++) {
				const json_t *site =
				    S->site ? mon_find_site(M->rep[p], S->site) : NULL;
				if (S->site)
					S->o[m][p] =
					    site ? site_obs(site, m) : (struct obs){NAN, NAN, 0};
				else
					S->o[m][p] = pooled_obs(M->rep[p], m);
			}
		}
	}
	return FV_OK;
}

static fv_err analyse(struct mon *M, struct fv_diag *d)
{
	size_t np = M->np, nsite = M->ns - 1;
	double *y = fv_calloc(np, sizeof(double)), *v = fv_calloc(np, sizeof(double));
	double *p = fv_calloc(nsite + 1, sizeof(double)), *a = fv_calloc(nsite + 1, sizeof(double));
	fv_err e = FV_OK;

	if (!y || !v || !p || !a) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (int m = 0; m < MET_N; m++) {
		for (size_t q = 0; q < M->ns; q++) {
			struct series *S = &M->s[q];
			struct obs b = S->o[m][0];
			S->cu[m].alarm = np;
			S->monitored[m] = b.ok && M->want[m];
			if (!S->monitored[m])
				continue;
			for (size_t t = 1; t < np; t++) {
				y[t - 1] = S->o[m][t].ok ? S->o[m][t].y : NAN;
				v[t - 1] = S->o[m][t].ok ? S->o[m][t].v : NAN;
				fv_stats_change(y[t - 1], v[t - 1], b.y, b.v, 0.95, &S->ch[m][t]);
			}
			e = fv_stats_cusum(y, v, np - 1, b.y, b.v, M->k, M->h, S->cp[m], &S->cu[m],
					   d);
			if (e != FV_OK)
				goto out;
			/* cusum indexes the monitored periods from 0; periods count from the
			 * baseline */
			if (S->cu[m].alarm < np - 1)
				S->cu[m].alarm++;
			else
				S->cu[m].alarm = np;
		}
		/* Holm across the sites (not the pool) within each period. */
		for (size_t t = 1; t < np; t++) {
			for (size_t q = 0; q < nsite; q++)
				p[q] = M->s[q].monitored[m] ? M->s[q].ch[m][t].p : NAN;
			if ((e = fv_stats_p_adjust(p, nsite, FV_PADJ_HOLM, a)) != FV_OK) {
				fv_diag_set(d, e, "out of memory");
				goto out;
			}
			for (size_t q = 0; q < nsite; q++)
				M->s[q].padj[m][t] = a[q];
			M->s[nsite].padj[m][t] = M->s[nsite].ch[m][t].p; /* the pool: one test */
		}
	}
out:
	fv_free(y);
	fv_free(v);
	fv_free(p);
	fv_free(a);
	return e;
}

static const char *who(const struct series *S)
{
	return S->site ? S->site : "pooled";
}

static void print_tables(const struct mon *M)
{
	double q = fv_stats_qnorm(0.975);

	printf("monitoring: baseline period 0 = %s; periods 1-%zu; CUSUM k = %g, h = %g\n",
	       M->file[0], M->np - 1, M->k, M->h);
	for (size_t t = 1; t < M->np; t++)
		printf("  period %zu = %s\n", t, M->file[t]);
	for (int m = 0; m < MET_N; m++) {
		if (!M->want[m])
			continue;
		printf("\n%s\n%6s  %-20s  %-22s %7s %9s %8s %8s  %s\n", met_title[m], "period",
		       "site", "estimate (95% CI)", "z", "p (Holm)", "CUSUM+", "CUSUM-", "");
		for (size_t t = 0; t < M->np; t++) {
			for (size_t s = 0; s < M->ns; s++) {
				const struct series *S = &M->s[s];
				const struct obs *o = &S->o[m][t];
				char est[48] = "-";
				if (o->ok)
					fv_fmt(est, sizeof(est), "%.3f (%.3f-%.3f)", back(m, o->y),
					       back(m, o->y - q * sqrt(o->v)),
					       back(m, o->y + q * sqrt(o->v)));
				if (t == 0) {
					printf("%6zu  %-20.20s  %-22s %7s %9s %8s %8s  %s\n", t,
					       who(S), est, "", "", "", "",
					       S->monitored[m] ? "baseline"
							       : "no baseline: not monitored");
					continue;
				}
				if (!S->monitored[m])
					continue;
				const struct fv_cusum_point *c = &S->cp[m][t - 1];
				const char *note = c->missing ? "missing" : "";
				if (S->cu[m].alarm == t)
					note = "ALARM";
				else if (S->cu[m].alarm < t && !c->missing)
					note = "(alarm raised earlier)";
				if (c->missing)
					printf("%6zu  %-20.20s  %-22s %7s %9s %8.3f %8.3f  %s\n", t,
					       who(S), est, "-", "-", c->cplus, c->cminus, note);
				else
					printf(
					    "%6zu  %-20.20s  %-22s %7.2f %9.3g %8.3f %8.3f  %s\n",
					    t, who(S), est, c->z, S->padj[m][t], c->cplus,
					    c->cminus, note);
			}
		}
	}
	putchar('\n');
}

static json_t *to_json(const struct mon *M)
{
	double q = fv_stats_qnorm(0.975);
	json_t *j = json_pack("{s:s,s:f,s:f,s:s}", "schema", "fedval.monitor/1", "k", M->k, "h",
			      M->h, "note",
			      "Measurements of change against the baseline period; not an approval "
			      "or certification.");
	json_t *periods = json_array(), *series = json_array(), *alerts = json_array();

	for (size_t t = 0; t < M->np; t++)
		json_array_append_new(
		    periods,
		    json_pack(
			"{s:I,s:s,s:o}", "period", (json_int_t)t, "file", M->file[t], "run_id",
			json_incref(json_object_get(json_object_get(M->rep[t], "run"), "run_id"))));
	for (int m = 0; m < MET_N; m++) {
		if (!M->want[m])
			continue;
		for (size_t s = 0; s < M->ns; s++) {
			const struct series *S = &M->s[s];
			json_t *pts = json_array();
			for (size_t t = 0; t < M->np; t++) {
				const struct obs *o = &S->o[m][t];
				json_t *pt = json_pack("{s:I,s:b}", "period", (json_int_t)t,
						       "missing", !o->ok);
				if (o->ok) {
					json_object_set_new(pt, "estimate",
							    fv_json_finite(back(m, o->y)));
					json_object_set_new(
					    pt, "ci_low",
					    fv_json_finite(back(m, o->y - q * sqrt(o->v))));
					json_object_set_new(
					    pt, "ci_high",
					    fv_json_finite(back(m, o->y + q * sqrt(o->v))));
					json_object_set_new(pt, "y", fv_json_finite(o->y));
					json_object_set_new(pt, "var", fv_json_finite(o->v));
				}
				if (t > 0 && S->monitored[m]) {
					const struct fv_cusum_point *c = &S->cp[m][t - 1];
					json_object_set_new(pt, "z", fv_json_finite(c->z));
					json_object_set_new(pt, "p", fv_json_finite(S->ch[m][t].p));
					json_object_set_new(pt, "p_holm",
							    fv_json_finite(S->padj[m][t]));
					json_object_set_new(pt, "cusum_plus",
							    fv_json_finite(c->cplus));
					json_object_set_new(pt, "cusum_minus",
							    fv_json_finite(c->cminus));
				}
				json_array_append_new(pts, pt);
			}
			json_t *al = json_null();
			if (S->cu[m].direction != 0) {
				al = json_pack("{s:I,s:s}", "period", (json_int_t)S->cu[m].alarm,
					       "direction", S->cu[m].direction > 0 ? "up" : "down");
				json_array_append_new(
				    alerts,
				    json_pack("{s:s,s:s,s:I,s:s}", "site", who(S), "metric",
					      met_name[m], "period", (json_int_t)S->cu[m].alarm,
					      "direction", S->cu[m].direction > 0 ? "up" : "down"));
			}
			json_array_append_new(
			    series, json_pack("{s:s,s:b,s:s,s:b,s:o,s:o}", "site", who(S), "pooled",
					      S->site == NULL, "metric", met_name[m], "monitored",
					      S->monitored[m], "points", pts, "alarm", al));
		}
	}
	json_object_set_new(j, "periods", periods);
	json_object_set_new(j, "series", series);
	if (M->in)
		json_object_set_new(j, "inputs", mon_inputs_json(M->in, alerts));
	if (M->vars)
		json_object_set_new(j, "variables", mon_vars_json(M->vars, alerts));
	json_object_set_new(j, "alerts", alerts);
	return j;
}

static bool parse_num(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && isfinite(*out);
}

int cmd_monitor_check(int argc, char **argv)
{
	enum { O_BASE = 256, O_K, O_H, O_METRIC, O_JSON, O_PSI, O_ALPHA, O_SMD };
	static const struct option opts[] = {{"baseline", required_argument, NULL, O_BASE},
					     {"k", required_argument, NULL, O_K},
					     {"h", required_argument, NULL, O_H},
					     {"metric", required_argument, NULL, O_METRIC},
					     {"json", no_argument, NULL, O_JSON},
					     {"psi", required_argument, NULL, O_PSI},
					     {"alpha", required_argument, NULL, O_ALPHA},
					     {"smd", required_argument, NULL, O_SMD},
					     {NULL, 0, NULL, 0}};
	struct mon M = {.k = FV_CUSUM_K,
			.h = FV_CUSUM_H,
			.want = {1, 1},
			.want_input = 1,
			.psi = FV_MIX_PSI,
			.alpha = FV_MIX_ALPHA,
			.smd = 0.2};
	const char *baseline = NULL, *metric = "all";
	struct fv_diag d = {{0}};
	bool json = false;
	int c, bad = 0, rc = CLI_FAIL, alarms = 0;

	if (cli_wants_help(argc, argv, monitor_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, monitor_usage, &bad)) != -1) {
		if (c == O_BASE)
			baseline = optarg;
		else if (c == O_K && !parse_num(optarg, &M.k))
			return cli_usage(monitor_usage, "--k: not a number: %s", optarg);
		else if (c == O_H && !parse_num(optarg, &M.h))
			return cli_usage(monitor_usage, "--h: not a number: %s", optarg);
		else if (c == O_PSI && !parse_num(optarg, &M.psi))
			return cli_usage(monitor_usage, "--psi: not a number: %s", optarg);
		else if (c == O_SMD && !parse_num(optarg, &M.smd))
			return cli_usage(monitor_usage, "--smd: not a number: %s", optarg);
		else if (c == O_ALPHA && !parse_num(optarg, &M.alpha))
			return cli_usage(monitor_usage, "--alpha: not a number: %s", optarg);
		else if (c == O_METRIC)
			metric = optarg;
		else if (c == O_JSON)
			json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (!baseline)
		return cli_usage(monitor_usage, "monitor check needs --baseline REPORT.json");
	if (optind >= argc)
		return cli_usage(monitor_usage, "monitor check needs at least one report after the "
						"baseline");
	if (argc - optind + 1 > MON_MAX_PERIODS)
		return cli_usage(monitor_usage, "at most %d reports", MON_MAX_PERIODS);
	if (!(M.k >= 0) || !(M.h > 0))
		return cli_usage(monitor_usage, "need --k >= 0 and --h > 0");
	if (!(M.psi > 0) || !(M.smd > 0) || !(M.alpha > 0 && M.alpha < 1))
		return cli_usage(monitor_usage, "need --psi > 0, --smd > 0 and 0 < --alpha < 1");
	if (!strcmp(metric, "auroc") || !strcmp(metric, "oe") || !strcmp(metric, "input")) {
		M.want[MET_AUC] = !strcmp(metric, "auroc");
		M.want[MET_OE] = !strcmp(metric, "oe");
		M.want_input = !strcmp(metric, "input");
	} else if (!strcmp(metric, "both")) {
		M.want_input = 0;
	} else if (strcmp(metric, "all") != 0) {
		return cli_usage(monitor_usage, "--metric: auroc, oe, input, both or all, not '%s'",
				 metric);
	}

	M.np = (size_t)(argc - optind) + 1;
	if (!(M.rep = fv_calloc(M.np, sizeof(*M.rep))) ||
	    !(M.file = fv_calloc(M.np, sizeof(*M.file)))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	M.file[0] = baseline;
	for (size_t t = 1; t < M.np; t++)
		M.file[t] = argv[optind + (int)t - 1];
	for (size_t t = 0; t < M.np; t++)
		if (cli_json_file(M.file[t], &M.rep[t], &d) != FV_OK)
			goto out;
	if (load(&M, &d) != FV_OK || analyse(&M, &d) != FV_OK ||
	    (M.want_input && mon_inputs_analyse(M.rep, M.np, M.psi, M.alpha, &M.in, &d) != FV_OK) ||
	    (M.want_input && mon_vars_analyse(M.rep, M.np, M.smd, M.alpha, &M.vars, &d) != FV_OK))
		goto out;
	if (json) {
		json_t *j = to_json(&M);
		int f = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10);
		int w = json_dumpf(j, stdout, f);
		json_decref(j);
		putchar('\n');
		if (w) {
			fv_diag_set(&d, FV_EIO, "cannot write the JSON");
			goto out;
		}
	} else {
		print_tables(&M);
		if (M.in)
			mon_inputs_print(M.in);
		if (M.vars)
			mon_vars_print(M.vars);
	}
	for (int m = 0; m < MET_N; m++)
		for (size_t s = 0; s < M.ns; s++) {
			const struct series *S = &M.s[s];
			if (!S->monitored[m] || S->cu[m].direction == 0)
				continue;
			const struct fv_cusum_point *cp = &S->cp[m][S->cu[m].alarm - 1];
			fprintf(json ? stderr : stdout,
				"ALERT: %s %s drift at period %zu (%s: CUSUM%c %.2f > h = %g)\n",
				who(S), met_name[m], S->cu[m].alarm,
				S->cu[m].direction > 0 ? "up" : "down",
				S->cu[m].direction > 0 ? '+' : '-',
				S->cu[m].direction > 0 ? cp->cplus : cp->cminus, M.h);
			alarms++;
		}
	if (M.in)
		alarms += mon_inputs_alerts(M.in, json ? stderr : stdout);
	if (M.vars)
		alarms += mon_vars_alerts(M.vars, json ? stderr : stdout);
	if (!json && !alarms)
		printf("no drift: no CUSUM crossed h = %g%s\n", M.h,
		       M.in ? ", no input shift" : "");
	rc = alarms ? CLI_FAIL : CLI_OK;
out:
	if (rc == CLI_FAIL && !alarms)
		cli_fail("monitor check", &d);
	for (size_t s = 0; M.s && s < M.ns; s++)
		for (int m = 0; m < MET_N; m++) {
			fv_free(M.s[s].o[m]);
			fv_free(M.s[s].cp[m]);
			fv_free(M.s[s].ch[m]);
			fv_free(M.s[s].padj[m]);
		}
	fv_free(M.s);
	mon_inputs_free(M.in);
	mon_vars_free(M.vars);
	for (size_t t = 0; M.rep && t < M.np; t++)
		json_decref(M.rep[t]);
	fv_free(M.rep);
	fv_free(M.file);
	return rc;
}
