/* Offline subcommands for auditors: fedval stats computes from one local file exactly what a
 * federation of its sites would publish (per site and pooled); fedval meta runs a
 * meta-analysis of given estimates. JSON keys are snake_case and stable (docs/statistics.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

#define OFF_MAX_GROUPS 256
#define OFF_MAX_THR    64

static json_t *not_estimable(const char *why)
{
	return json_pack("{s:n,s:s}", "estimate", "reason", why);
}

struct rows {
	double *p;
	uint8_t *y;
	size_t n, cap;
};

static fv_err rows_add(struct rows *r, double p, uint8_t y)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 1024;
		double *np = fv_realloc(r->p, nc * sizeof(double));
		if (!np)
			return FV_ENOMEM;
		r->p = np;
		uint8_t *ny = fv_realloc(r->y, nc);
		if (!ny)
			return FV_ENOMEM;
		r->y = ny;
		r->cap = nc;
	}
	r->p[r->n] = p;
	r->y[r->n++] = y;
	return FV_OK;
}

/* Everything for one population. */
static json_t *population(const struct rows *r, const double *thr, size_t nthr)
{
	uint64_t pos = 0;
	double sum_p = 0, sq = 0, auc, var, ap, auprc, ece = NAN;
	struct fv_diag d = {{0}};
	struct fv_calibration cal;
	struct fv_calib_bin bins[10];
	double edges[11];
	json_t *j = json_object(), *rows = json_array();

	for (size_t i = 0; i < r->n; i++) {
		pos += r->y[i];
		sum_p += r->p[i];
		sq += (r->p[i] - r->y[i]) * (r->p[i] - r->y[i]);
	}
	json_object_set_new(j, "n", json_integer((json_int_t)r->n));
	json_object_set_new(j, "n_pos", json_integer((json_int_t)pos));
	json_object_set_new(j, "prevalence", fv_json_finite((double)pos / (double)r->n));
	if (pos == 0 || pos == r->n) {
		const char *why = pos ? "no negatives" : "no positives";
		json_object_set_new(j, "auroc", not_estimable(why));
		json_object_set_new(j, "average_precision", pos ? json_null() : json_null());
	} else if (fv_stats_auc_delong(r->p, r->y, r->n, &auc, &var, &d) == FV_OK) {
		double lo, hi;
		fv_stats_auc_ci(auc, var, 0.95, &lo, &hi);
		json_object_set_new(j, "auroc",
				    json_pack("{s:o,s:o,s:o,s:o}", "estimate", fv_json_finite(auc),
					      "variance", fv_json_finite(var), "ci_low",
					      fv_json_finite(lo), "ci_high", fv_json_finite(hi)));
		if (fv_stats_average_precision(r->p, r->y, r->n, &ap, &auprc, &d) == FV_OK)
			json_object_set_new(j, "average_precision", fv_json_finite(ap));
	}
	json_object_set_new(j, "brier", fv_json_finite(sq / (double)r->n));
	json_object_set_new(j, "brier_scaled",
			    fv_json_finite(fv_stats_brier_scaled(r->n, (double)pos, sq)));
	json_object_set_new(j, "oe_ratio", fv_json_finite(fv_stats_oe_ratio((double)pos, sum_p)));
	if (pos > 0 && pos < r->n && fv_stats_calibration(r->p, r->y, r->n, &cal, &d) == FV_OK) {
		json_object_set_new(j, "calibration_in_the_large", fv_json_finite(cal.citl));
		json_object_set_new(j, "calibration_intercept", fv_json_finite(cal.intercept));
		json_object_set_new(j, "calibration_slope", fv_json_finite(cal.slope));
	} else {
		json_object_set_new(j, "calibration_slope",
				    not_estimable(pos ? "no negatives or no fit" : "no positives"));
	}
	if (fv_stats_calibration_curve(r->p, r->y, r->n, 10, 0, bins, edges, &ece, &d) == FV_OK)
		json_object_set_new(j, "ece", fv_json_finite(ece));
	for (size_t t = 0; t < nthr; t++) {
		struct fv_confusion c;
		fv_stats_confusion(r->p, r->y, r->n, thr[t], &c);
		json_t *row = json_pack("{s:f,s:I,s:I,s:I,s:I}", "threshold", thr[t], "tp",
					(json_int_t)c.tp, "fp", (json_int_t)c.fp, "tn",
					(json_int_t)c.tn, "fn", (json_int_t)c.fn);
		struct {
			const char *name;
			uint64_t x, m;
		} props[] = {{"sensitivity", c.tp, c.tp + c.fn},
			     {"specificity", c.tn, c.tn + c.fp},
			     {"ppv", c.tp, c.tp + c.fp},
			     {"npv", c.tn, c.tn + c.fn}};
		for (size_t k = 0; k < 4; k++) {
			double lo, hi;
			if (props[k].m == 0) {
				json_object_set_new(row, props[k].name,
						    not_estimable("empty denominator"));
				continue;
			}
			fv_stats_wilson(props[k].x, props[k].m, 0.95, &lo, &hi);
			json_object_set_new(row, props[k].name,
					    json_pack("{s:f,s:f,s:f}", "estimate",
						      (double)props[k].x / (double)props[k].m,
						      "ci_low", lo, "ci_high", hi));
		}
		json_array_append_new(rows, row);
	}
	json_object_set_new(j, "thresholds", rows);
	return j;
}

static const char stats_usage[] =
    "usage: fedval stats --csv FILE --score COL --label COL [--site COL] [--group COL]\n"
    "                    [--threshold T]... [--json]\n"
    "       fedval stats --task regression|survival|multiclass --csv FILE --score COL[,COL...]\n"
    "                    --label COL [--time COL] [--site COL] [--json]\n"
    "\n"
    "Compute from one local file what a federation of its sites would publish: per site\n"
    "(--site) and pooled: n, prevalence, AUROC with DeLong variance and 95% CI, average\n"
    "precision, Brier and scaled Brier, O/E, calibration-in-the-large, slope and intercept,\n"
    "ECE (10 equal bins), and at each threshold the confusion counts with sensitivity,\n"
    "specificity, PPV, NPV (Wilson CIs); per --group category too. Quantities that cannot be\n"
    "estimated (e.g. AUROC without negatives) are null with a reason, never NaN.\n"
    "\n"
    "--task (default binary) evaluates another task, per site and pooled as the federation\n"
    "does (docs/statistics.md \"Other tasks\"):\n"
    "  regression  --score the prediction, --label the outcome: MAE, RMSE, R2, calibration\n"
    "              intercept and slope (pooled exactly)\n"
    "  survival    --score the risk, --label the event (0/1), --time the follow-up time:\n"
    "              Harrell's C; pooled: the site-stratified C\n"
    "  multiclass  --score one probability column per class (class 0 first), --label the\n"
    "              class 0..K-1: one-vs-rest AUROC per class with DeLong CI, macro and micro\n"
    "              AUROC, confusion rows; pooled: confusion sums, random-effects AUROCs\n";

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"csv", required_argument, NULL, 'i'},   {"score", required_argument, NULL, 's'},
	    {"label", required_argument, NULL, 'l'}, {"site", required_argument, NULL, 'S'},
	    {"group", required_argument, NULL, 'g'}, {"threshold", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},	     {"task", required_argument, NULL, 'T'},
	    {"time", required_argument, NULL, 'm'},  {NULL, 0, NULL, 0}};
	const char *path = NULL, *score = NULL, *label = NULL, *site = NULL, *group = NULL;
	const char *task_name = NULL, *time = NULL;
	double thr[OFF_MAX_THR];
	size_t nthr = 0, nsites = 0, ngroups = 0;
	char *site_names[OFF_MAX_GROUPS] = {0}, *group_names[OFF_MAX_GROUPS] = {0};
	struct rows all = {0}, by_site[OFF_MAX_GROUPS], by_group[OFF_MAX_GROUPS];
	struct fv_csv *csv = NULL;
	struct fv_diag d = {{0}};
	long cs, cl, csite = -1, cg = -1;
	int c, bad = 0, rc = CLI_FAIL;
	bool eof = false, as_json = false;
	json_t *out = NULL;

	memset(by_site, 0, sizeof(by_site));
	memset(by_group, 0, sizeof(by_group));
	if (cli_wants_help(argc, argv, stats_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, stats_usage, &bad)) != -1) {
		if (c == 'i')
			path = optarg;
		else if (c == 's')
			score = optarg;
		else if (c == 'l')
			label = optarg;
		else if (c == 'S')
			site = optarg;
		else if (c == 'g')
			group = optarg;
		else if (c == 'j')
			as_json = true;
		else if (c == 'T')
			task_name = optarg;
		else if (c == 'm')
			time = optarg;
		else if (c == 't') {
			if (nthr == OFF_MAX_THR || fv_parse_double(optarg, &thr[nthr]) != FV_OK)
				return cli_usage(stats_usage,
						 "--threshold '%s': a number (at most %d)", optarg,
						 OFF_MAX_THR);
			nthr++;
		}
	}
	if (bad)
		return CLI_USAGE;
	if (!path || !score || !label || optind != argc)
		return cli_usage(stats_usage, "stats needs --csv, --score and --label");
	enum fv_task task = fv_task_parse(task_name);
	if (task == FV_TASK_UNKNOWN)
		return cli_usage(stats_usage,
				 "--task '%s': binary, regression, survival or multiclass",
				 task_name);
	if (task != FV_TASK_BINARY) {
		if (group || nthr)
			return cli_usage(stats_usage,
					 "--group and --threshold belong to the binary task");
		return cli_stats_task(task, path, score, label, time, site, as_json);
	}
	if (time)
		return cli_usage(stats_usage, "--time belongs to --task survival");
	if (fv_csv_open(path, NULL, &csv, &d) != FV_OK)
		goto out;
	if ((cs = fv_csv_find(csv, score)) < 0 || (cl = fv_csv_find(csv, label)) < 0 ||
	    (site && (csite = fv_csv_find(csv, site)) < 0) ||
	    (group && (cg = fv_csv_find(csv, group)) < 0)) {
		fv_diag_set(&d, FV_EINVAL, "%s: a named column is not in the header", path);
		goto out;
	}
	for (;;) {
		char **f;
		double p, yv;
		struct fv_diag why = {{0}};
		if (fv_csv_next(csv, &f, &eof, &d) != FV_OK)
			goto out;
		if (eof)
			break;
		if (fv_csv_parse_double(csv, f[cs], &p, &why) != FV_OK || p < 0 || p > 1 ||
		    fv_csv_parse_double(csv, f[cl], &yv, &why) != FV_OK || (yv != 0 && yv != 1)) {
			fv_diag_set(&d, FV_EINVAL,
				    "%s line %llu: score must be in [0, 1] and label 0 or 1", path,
				    (unsigned long long)fv_csv_line(csv));
			goto out;
		}
		if (rows_add(&all, p, (uint8_t)yv) != FV_OK)
			goto oom;
		for (int pass = 0; pass < 2; pass++) {
			long col = pass ? cg : csite;
			char **names = pass ? group_names : site_names;
			size_t *cnt = pass ? &ngroups : &nsites;
			struct rows *sets = pass ? by_group : by_site;
			size_t k = 0;
			if (col < 0)
				continue;
			while (k < *cnt && strcmp(names[k], f[col]) != 0)
				k++;
			if (k == *cnt) {
				if (*cnt == OFF_MAX_GROUPS) {
					fv_diag_set(&d, FV_ELIMIT,
						    "more than %d distinct values in a "
						    "site or group column",
						    OFF_MAX_GROUPS);
					goto out;
				}
				if (!(names[k] = fv_strdup(f[col])))
					goto oom;
				(*cnt)++;
			}
			if (rows_add(&sets[k], p, (uint8_t)yv) != FV_OK)
				goto oom;
		}
	}
	if (all.n == 0) {
		fv_diag_set(&d, FV_EINVAL, "%s has no records", path);
		goto out;
	}
	out = json_pack("{s:s,s:o}", "schema", "fedval.stats/1", "pooled",
			population(&all, thr, nthr));
	if (site) {
		json_t *arr = json_array();
		double ya[OFF_MAX_GROUPS], va[OFF_MAX_GROUPS];
		size_t ka = 0;
		for (size_t k = 0; k < nsites; k++) {
			json_t *p = population(&by_site[k], thr, nthr), *a;
			json_object_set_new(p, "site", json_string(site_names[k]));
			json_array_append_new(arr, p);
			/* what the federation publishes beside the pooled counts: the
			 * random-effects meta-analysis of the sites' AUROCs (as `fedval results`)
			 */
			a = json_object_get(p, "auroc");
			double est = json_number_value(json_object_get(a, "estimate")),
			       var = json_number_value(json_object_get(a, "variance"));
			if (json_is_number(json_object_get(a, "estimate")) && est > 0 && est < 1 &&
			    var > 0) {
				fv_stats_logit_delta(est, var, &ya[ka], &va[ka]);
				ka++;
			}
		}
		json_object_set_new(out, "sites", arr);
		json_object_set_new(json_object_get(out, "pooled"), "auroc_random_effects",
				    cli_meta_json(ya, va, ka, true, "AUROC", false));
	}
	if (group) {
		json_t *arr = json_array();
		for (size_t k = 0; k < ngroups; k++) {
			json_t *p = population(&by_group[k], thr, nthr);
			json_object_set_new(p, "group", json_string(group_names[k]));
			json_array_append_new(arr, p);
		}
		json_object_set_new(out, "groups", arr);
	}
	if (as_json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
		putchar('\n');
	} else {
		json_t *pl = json_object_get(out, "pooled"), *a = json_object_get(pl, "auroc");
		printf("n %lld, events %lld; AUROC %s; Brier %.5f; O/E %.3f\n",
		       (long long)json_integer_value(json_object_get(pl, "n")),
		       (long long)json_integer_value(json_object_get(pl, "n_pos")),
		       json_is_real(json_object_get(a, "estimate")) ? "" : "not estimable",
		       json_real_value(json_object_get(pl, "brier")),
		       json_real_value(json_object_get(pl, "oe_ratio")));
		if (json_is_real(json_object_get(a, "estimate")))
			printf("AUROC %.4f (%.4f-%.4f)\n",
			       json_real_value(json_object_get(a, "estimate")),
			       json_real_value(json_object_get(a, "ci_low")),
			       json_real_value(json_object_get(a, "ci_high")));
		printf("(--json for everything)\n");
	}
	rc = CLI_OK;
	goto out;
oom:
	fv_diag_set(&d, FV_ENOMEM, "out of memory");
out:
	if (rc != CLI_OK)
		cli_fail("stats", &d);
	json_decref(out);
	for (size_t k = 0; k < OFF_MAX_GROUPS; k++) {
		fv_free(site_names[k]);
		fv_free(group_names[k]);
		fv_free(by_site[k].p);
		fv_free(by_site[k].y);
		fv_free(by_group[k].p);
		fv_free(by_group[k].y);
	}
	fv_free(all.p);
	fv_free(all.y);
	fv_csv_close(csv);
	return rc;
}

static const char meta_usage[] =
    "usage: fedval meta --csv FILE --yi COL --vi COL [--method DL|REML|FE] [--hk] [--json]\n"
    "\n"
    "Meta-analysis of per-study estimates yi with sampling variances vi: fixed effect,\n"
    "DerSimonian-Laird or REML between-study variance, optional Hartung-Knapp adjustment,\n"
    "Cochran's Q, I2 and the 95% prediction interval (t, k-2 df). JSON keys: mu, se, ci_low,\n"
    "ci_high, tau2, i2, q, q_p, pi_low, pi_high, k, method.\n";

int cmd_meta(int argc, char **argv)
{
	static const struct option opts[] = {{"csv", required_argument, NULL, 'i'},
					     {"yi", required_argument, NULL, 'y'},
					     {"vi", required_argument, NULL, 'v'},
					     {"method", required_argument, NULL, 'm'},
					     {"hk", no_argument, NULL, 'k'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *path = NULL, *ycol = NULL, *vcol = NULL, *method = "REML";
	enum fv_meta_method mm = FV_META_REML;
	int hk = 0, c, bad = 0, rc = CLI_FAIL;
	bool as_json = false, eof = false;
	double y[4096], v[4096];
	size_t k = 0;
	struct fv_csv *csv = NULL;
	struct fv_diag d = {{0}};
	struct fv_meta m;
	long cy, cv;

	if (cli_wants_help(argc, argv, meta_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, meta_usage, &bad)) != -1) {
		if (c == 'i')
			path = optarg;
		else if (c == 'y')
			ycol = optarg;
		else if (c == 'v')
			vcol = optarg;
		else if (c == 'k')
			hk = 1;
		else if (c == 'j')
			as_json = true;
		else if (c == 'm')
			method = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (!strcmp(method, "DL") || !strcmp(method, "dl"))
		mm = FV_META_DL;
	else if (!strcmp(method, "FE") || !strcmp(method, "fe"))
		mm = FV_META_FE;
	else if (strcmp(method, "REML") != 0 && strcmp(method, "reml") != 0)
		return cli_usage(meta_usage, "--method '%s': DL, REML or FE", method);
	if (!path || !ycol || !vcol || optind != argc)
		return cli_usage(meta_usage, "meta needs --csv, --yi and --vi");
	if (fv_csv_open(path, NULL, &csv, &d) != FV_OK)
		goto out;
	if ((cy = fv_csv_find(csv, ycol)) < 0 || (cv = fv_csv_find(csv, vcol)) < 0) {
		fv_diag_set(&d, FV_EINVAL, "%s: no column '%s' or '%s'", path, ycol, vcol);
		goto out;
	}
	for (;;) {
		char **f;
		struct fv_diag why = {{0}};
		if (fv_csv_next(csv, &f, &eof, &d) != FV_OK)
			goto out;
		if (eof)
			break;
		if (k == sizeof(y) / sizeof(y[0])) {
			fv_diag_set(&d, FV_ELIMIT, "more than %zu studies", k);
			goto out;
		}
		if (fv_csv_parse_double(csv, f[cy], &y[k], &why) != FV_OK ||
		    fv_csv_parse_double(csv, f[cv], &v[k], &why) != FV_OK || !(v[k] > 0)) {
			fv_diag_set(&d, FV_EINVAL, "%s line %llu: yi must be a number and vi > 0",
				    path, (unsigned long long)fv_csv_line(csv));
			goto out;
		}
		k++;
	}
	if (fv_stats_meta(y, v, k, mm, hk, 0.95, &m, &d) != FV_OK)
		goto out;
	json_t *j =
	    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:s,s:b}", "mu",
		      fv_json_finite(m.mu), "se", fv_json_finite(m.se), "ci_low",
		      fv_json_finite(m.ci_lo), "ci_high", fv_json_finite(m.ci_hi), "tau2",
		      fv_json_finite(m.tau2), "i2", fv_json_finite(m.i2), "q", fv_json_finite(m.q),
		      "q_p", fv_json_finite(m.q_p), "pi_low", fv_json_finite(m.pi_lo), "pi_high",
		      fv_json_finite(m.pi_hi), "k", (json_int_t)k, "method",
		      mm == FV_META_FE	 ? "FE"
		      : mm == FV_META_DL ? "DL"
					 : "REML",
		      "hk", hk);
	if (as_json) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
		putchar('\n');
	} else {
		printf("k %zu, %s%s: mu %.4f (95%% CI %.4f to %.4f), se %.4f, tau2 %.4f, I2 "
		       "%.2f%%, Q %.2f (p %.3g)\n",
		       k, method, hk ? " + HK" : "", m.mu, m.ci_lo, m.ci_hi, m.se, m.tau2, m.i2,
		       m.q, m.q_p);
	}
	json_decref(j);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("meta", &d);
	fv_csv_close(csv);
	return rc;
}
