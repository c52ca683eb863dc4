/* fedval: reports. Renders a run's JSON report (schema "fedval.report/1", written by
 * `fedval results --json`; field by field in docs/report-format.md) as one self-contained
 * HTML file: inline CSS and inline SVG charts, no script and no external resource (a
 * Content-Security-Policy in the page forbids both). Every string taken from the report is
 * untrusted and HTML-escaped.
 *
 * Pure apart from allocation (fv_alloc): no I/O, no globals, so distinct reports may be
 * rendered from several threads at once. The output depends only on the report and the
 * options (the date shown is the report's generated_us, not the rendering time). */
#ifndef FEDVAL_REPORT_H
#define FEDVAL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "proto/fedval.pb-c.h"

#define FV_REPORT_SCHEMA "fedval.report/1"

struct fv_report_opts {
	double conf;		  /* level of every interval, in (0, 1); 0.95 by default */
	enum fv_meta_method meta; /* pooled AUROC: FV_META_REML by default, or FV_META_DL */
	int hk;			  /* 1: Hartung-Knapp-Sidik-Jonkman interval for the pooled AUROC */
	const char *title;	  /* optional page title; NULL: "Validation report: MODEL" */
};

/* Defaults: conf 0.95, REML, no HK, no title. */
void fv_report_opts_init(struct fv_report_opts *o);

/* Render `report` (opts NULL = defaults) into a fresh NUL-terminated buffer *html of *len
 * bytes, freed with fv_free. FV_EINVAL when the report does not follow the schema, with
 * d naming the field ("sites[1].n_pos: ..."); FV_ELIMIT beyond FV_MAX_REPORT_SITES sites,
 * a site with more subgroup categories, data-summary variables or operating points than the
 * renderer takes, or a head-to-head part with more models (FV_MAX_COMPARE + 1) or site
 * differences than that (docs/report-format.md); FV_ENOMEM. On error *html is NULL. */
fv_err fv_report_html(const json_t *report, const struct fv_report_opts *opts, char **html,
		      size_t *len, struct fv_diag *d);

/* A number for a JSON report: the value, or null when it is not finite (never NaN in a
 * report). */
json_t *fv_json_finite(double x);

/* ---- regression, survival and multiclass results (lib/report/tasks.c) ---- */

enum fv_task {
	FV_TASK_BINARY = 0,
	FV_TASK_REGRESSION,
	FV_TASK_SURVIVAL,
	FV_TASK_MULTICLASS,
	FV_TASK_UNKNOWN
};
/* What one site released (or a local file gives) for a task other than binary. */
struct fv_task_stats {
	uint64_t n;
	struct fv_reg_sums reg;
	uint64_t events, comparable, conc2;
	uint32_t classes;
	bool released[FV_MAX_CLASSES], has_auc[FV_MAX_CLASSES], has_row[FV_MAX_CLASSES];
	uint64_t class_n[FV_MAX_CLASSES], row[FV_MAX_CLASSES][FV_MAX_CLASSES];
	double auc[FV_MAX_CLASSES], auc_var[FV_MAX_CLASSES], micro_auc;
	bool has_micro;
};
/* The task a benchmark names ("binary" when name is NULL), FV_TASK_UNKNOWN for another name. */
enum fv_task fv_task_parse(const char *name);
/* The task's name as benchmarks and results spell it ("binary", "regression", ...). */
const char *fv_task_name(enum fv_task task);
/* A site's released statistics (a decoded SiteResult); false when it holds none of a task. */
bool fv_task_from_result(const Fedval__SiteResult *r, struct fv_task_stats *t);
/* A site's statistics computed from its records, before any disclosure control: n records,
 * score k per record (k = classes for multiclass, else 1), outcome the regression target or
 * survival time (unused for multiclass), label the event or class. Every class is marked
 * released with its row; has_auc where the AUROC is a number. What a node computes and what
 * `fedval stats --task` publishes. */
fv_err fv_task_compute(enum fv_task task, size_t classes, const double *score,
		       const double *outcome, const uint8_t *label, size_t n,
		       struct fv_task_stats *t, struct fv_diag *d);
/* One site's metrics as JSON (docs/statistics.md, "Offline commands for auditors"). */
json_t *fv_task_json(enum fv_task task, const struct fv_task_stats *t);
/* The pooled metrics of k sites: regression exactly from merged sums, survival the
 * site-stratified C, multiclass confusion rows summed and per-class random-effects AUROCs. */
json_t *fv_task_pool(enum fv_task task, const struct fv_task_stats *t, size_t k);

#endif
