/* fedval stats --task regression|survival|multiclass: from one local file, per site and
 * pooled, what a federation of its sites would publish for that task (cli/tasks.c pools both
 * this and `fedval results`). Like the node, it reads the outcome (a regression's target, a
 * survival time) as a 32-bit float. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/data.h"
#include "fedval/stats.h"
#include "fedval/util.h"

#define TASK_MAX_SITES 256

/* One site's records: k scores each, an outcome and a label. */
struct trows {
	double *score, *outcome;
	uint8_t *label;
	size_t n, cap;
};

static fv_err trows_add(struct trows *r, size_t k, const double *score, double outcome,
			uint8_t label)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 1024;
		double *s = fv_realloc(r->score, nc * k * sizeof(double));
		if (!s)
			return FV_ENOMEM;
		r->score = s;
		double *o = fv_realloc(r->outcome, nc * sizeof(double));
		if (!o)
			return FV_ENOMEM;
		r->outcome = o;
		uint8_t *l = fv_realloc(r->label, nc);
		if (!l)
			return FV_ENOMEM;
		r->label = l;
		r->cap = nc;
	}
	memcpy(r->score + r->n * k, score, k * sizeof(double));
	r->outcome[r->n] = outcome;
	r->label[r->n++] = label;
	return FV_OK;
}

/* The statistics a node computes (fv_task_compute), unsuppressed: no site policy here. */
static fv_err site_stats(enum fv_task task, size_t k, const struct trows *r,
			 struct fv_task_stats *t, struct fv_diag *d)
{
	return fv_task_compute(task, k, r->score, r->outcome, r->label, r->n, t, d);
}

int cli_stats_task(enum fv_task task, const char *path, const char *score, const char *label,
		   const char *time, const char *site, bool as_json)
{
	struct fv_csv *csv = NULL;
	struct fv_diag d = {{0}};
	struct trows all = {0}, *by = NULL;
	struct fv_task_stats *st = NULL, whole;
	char *names[TASK_MAX_SITES] = {0}, *list = NULL, *save = NULL;
	long cs[FV_MAX_CLASSES], cl, ct = -1, csite = -1;
	size_t k = 0, nsites = 0;
	bool eof = false;
	int rc = CLI_FAIL;
	json_t *out = NULL;

	if ((task == FV_TASK_SURVIVAL) != (time != NULL)) {
		fv_diag_set(&d, FV_EINVAL,
			    "--time names the follow-up time column of a survival task, and of no "
			    "other");
		return cli_fail("stats", &d);
	}
	if (!(by = fv_calloc(TASK_MAX_SITES, sizeof(*by))) ||
	    !(st = fv_calloc(TASK_MAX_SITES, sizeof(*st))) || !(list = fv_strdup(score))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (fv_csv_open(path, NULL, &csv, &d) != FV_OK)
		goto out;
	/* --score: one column, or for multiclass one per class in class order */
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k == FV_MAX_CLASSES || (cs[k] = fv_csv_find(csv, tok)) < 0) {
			fv_diag_set(&d, FV_EINVAL,
				    "%s: --score column '%.64s' is not in the header%s", path, tok,
				    k == FV_MAX_CLASSES ? " (or too many)" : "");
			goto out;
		}
		k++;
	}
	if ((task == FV_TASK_MULTICLASS) != (k >= 3) || (task != FV_TASK_MULTICLASS && k != 1)) {
		fv_diag_set(&d, FV_EINVAL,
			    "--score: one column, or for multiclass 3 to %d (one per class)",
			    FV_MAX_CLASSES);
		goto out;
	}
	if ((cl = fv_csv_find(csv, label)) < 0 || (time && (ct = fv_csv_find(csv, time)) < 0) ||
	    (site && (csite = fv_csv_find(csv, site)) < 0)) {
		fv_diag_set(&d, FV_EINVAL, "%s: a named column is not in the header", path);
		goto out;
	}
	for (;;) {
		char **f;
		double sv[FV_MAX_CLASSES], yv, tv = 0;
		struct fv_diag why = {{0}};
		size_t s = 0;
		if (fv_csv_next(csv, &f, &eof, &d) != FV_OK)
			goto out;
		if (eof)
			break;
		for (size_t c = 0; c < k; c++)
			if (fv_csv_parse_double(csv, f[cs[c]], &sv[c], &why) != FV_OK ||
			    !isfinite(sv[c])) {
				fv_diag_set(&d, FV_EINVAL,
					    "%s line %llu: score %zu of --score is not a number",
					    path, (unsigned long long)fv_csv_line(csv), c + 1);
				goto out;
			}
		if (fv_csv_parse_double(csv, f[cl], &yv, &why) != FV_OK || !isfinite(yv) ||
		    (ct >= 0 &&
		     (fv_csv_parse_double(csv, f[ct], &tv, &why) != FV_OK || !isfinite(tv)))) {
			fv_diag_set(&d, FV_EINVAL, "%s line %llu: label%s is not a number", path,
				    (unsigned long long)fv_csv_line(csv), time ? " or time" : "");
			goto out;
		}
		if ((task == FV_TASK_SURVIVAL && yv != 0 && yv != 1) ||
		    (task == FV_TASK_MULTICLASS &&
		     (yv < 0 || yv >= (double)k || yv != floor(yv)))) {
			fv_diag_set(&d, FV_EINVAL, "%s line %llu: label %g is not %s", path,
				    (unsigned long long)fv_csv_line(csv), yv,
				    task == FV_TASK_SURVIVAL
					? "an event 0 or 1"
					: "a class 0..K-1 (K = --score columns)");
			goto out;
		}
		/* the node's float32 outcome */
		double outcome = task == FV_TASK_REGRESSION ? (double)(float)yv
				 : task == FV_TASK_SURVIVAL ? (double)(float)tv
							    : 0.0;
		uint8_t lab = task == FV_TASK_REGRESSION ? 0 : (uint8_t)yv;
		if (trows_add(&all, k, sv, outcome, lab) != FV_OK)
			goto oom;
		if (csite < 0)
			continue;
		while (s < nsites && strcmp(names[s], f[csite]) != 0)
			s++;
		if (s == nsites) {
			if (nsites == TASK_MAX_SITES) {
				fv_diag_set(&d, FV_ELIMIT, "more than %d sites", TASK_MAX_SITES);
				goto out;
			}
			if (!(names[s] = fv_strdup(f[csite])))
				goto oom;
			nsites++;
		}
		if (trows_add(&by[s], k, sv, outcome, lab) != FV_OK)
			goto oom;
	}
	if (all.n == 0) {
		fv_diag_set(&d, FV_EINVAL, "%s has no records", path);
		goto out;
	}
	if (site_stats(task, k, &all, &whole, &d) != FV_OK)
		goto out;
	out = json_pack("{s:s,s:s,s:o}", "schema", "fedval.stats/1", "task",
			task == FV_TASK_REGRESSION ? "regression"
			: task == FV_TASK_SURVIVAL ? "survival"
						   : "multiclass",
			"all_records", fv_task_json(task, &whole));
	if (!as_json)
		cli_task_print_site(task, "all records", &whole);
	if (site) {
		json_t *arr = json_array();
		for (size_t s = 0; s < nsites; s++) {
			if (site_stats(task, k, &by[s], &st[s], &d) != FV_OK) {
				fv_diag_prefix(&d, "site %s: ", names[s]);
				goto out;
			}
			json_t *j = fv_task_json(task, &st[s]);
			json_object_set_new(j, "site", json_string(names[s]));
			json_array_append_new(arr, j);
			if (!as_json)
				cli_task_print_site(task, names[s], &st[s]);
		}
		json_object_set_new(out, "sites", arr);
		json_object_set_new(out, "pooled", cli_task_pool(task, st, nsites, !as_json));
	}
	if (as_json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
		putchar('\n');
	}
	rc = CLI_OK;
	goto out;
oom:
	fv_diag_set(&d, FV_ENOMEM, "out of memory");
out:
	if (rc != CLI_OK)
		cli_fail("stats", &d);
	json_decref(out);
	for (size_t s = 0; by && s < TASK_MAX_SITES; s++) {
		fv_free(names[s]);
		fv_free(by[s].score);
		fv_free(by[s].outcome);
		fv_free(by[s].label);
	}
	fv_free(by);
	fv_free(st);
	fv_free(list);
	fv_free(all.score);
	fv_free(all.outcome);
	fv_free(all.label);
	fv_csv_close(csv);
	return rc;
}
