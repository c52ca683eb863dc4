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
#include <stddef.h>

#include "fedval/err.h"
#include "fedval/stats.h"

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

#endif
