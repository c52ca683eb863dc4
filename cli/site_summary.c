/* fedval site summary: the data-quality and representativeness summary of the node's dataset
 * (lib/data/summary.c, docs/data-summary.md), read through the node's own config. Runs at the
 * hospital; prints what the site may share and sends nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/privacy.h"
#include "fedval/util.h"
#include "source_config.h"

static const char summary_usage[] =
    "usage: fedval site summary --config NODE.ini --benchmark SPEC.json [--json]\n"
    "\n"
    "Summarise the node's dataset for a benchmark: rows, missing/invalid/out-of-range values\n"
    "per variable, coarsened distributions, label prevalence and subgroup counts with cells\n"
    "below [policy] min_cell_count suppressed. Reads the data once; sends nothing.\n"
    "\n"
    "  --config FILE      the node's configuration ([data], [mapping], [policy])\n"
    "  --benchmark FILE   benchmark spec: label, variables (optional min/max), optional\n"
    "                     subgroups [{\"name\", \"variable\", \"edges\"}]\n"
    "  --json             print the summary as JSON\n"
    "\n"
    "With [data] source = images the summary covers the image index's columns (label,\n"
    "subgroups, other variables); pixel variables (pixel_0, ...) are not summarised and no\n"
    "image is read.\n";

#define SUM_MAX_EDGES_CLI 64

struct plan {
	struct fv_source_spec spec;
	struct fv_summary_var *vars;
	struct fv_summary_subgroup *subs;
	double (*edges)[SUM_MAX_EDGES_CLI];
	struct fv_summary_opts o;
	char *path;
	size_t npixels; /* benchmark variables left out: pixels of an image folder */
};

/* A pixel column of an image folder: "pixel_" and digits. */
static bool is_pixel(const char *col)
{
	if (strncmp(col, "pixel_", 6) != 0 || !col[6])
		return false;
	return strspn(col + 6, "0123456789") == strlen(col + 6);
}

/* The local column of a benchmark name: [mapping] name = column, else the same name. */
static const char *column(const struct fv_config *cfg, const char *name)
{
	const char *c = fv_config_get(cfg, "mapping", name);
	return c && *c ? c : name;
}

static fv_err data_settings(struct fv_config *cfg, struct plan *p, struct fv_diag *d)
{
	long v;
	fv_err e;

	if ((e = node_source_settings(cfg, "data", true, &p->spec, &p->path, d)) != FV_OK ||
	    (e = node_image_settings(cfg, &p->spec, d)) != FV_OK)
		return e;
	{
		struct fv_policy pol;
		fv_policy_default(&pol);
		if ((e = fv_config_long(cfg, "policy", "min_cell_count", pol.min_cell, 1, 1000000,
					&v, d)) != FV_OK)
			return e;
		p->o.min_cell = (uint32_t)v;
	}
	return FV_OK;
}

static fv_err bench_settings(const struct fv_config *cfg, json_t *b, struct plan *p,
			     struct fv_diag *d)
{
	json_t *vars = json_object_get(b, "variables"), *subs = json_object_get(b, "subgroups"), *v;
	const char *label = json_string_value(json_object_get(b, "label"));
	size_t i, nv = json_array_size(vars), ns = json_array_size(subs);

	if (!label)
		return fv_diag_set(d, FV_EINVAL, "benchmark has no 'label'");
	if (!json_is_array(vars) || nv == 0 || nv > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL, "benchmark 'variables' must list 1..%u variables",
				   (unsigned)FV_MAX_FEATURES);
	if (subs && (!json_is_array(subs) || ns > FV_MAX_FEATURES))
		return fv_diag_set(d, FV_EINVAL, "benchmark 'subgroups' must be an array");
	if (!(p->vars = fv_calloc(nv, sizeof(*p->vars))) ||
	    (ns && (!(p->subs = fv_calloc(ns, sizeof(*p->subs))) ||
		    !(p->edges = fv_calloc(ns, sizeof(*p->edges))))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	json_array_foreach(vars, i, v)
	{
		struct fv_summary_var *sv = &p->vars[i - p->npixels];
		json_t *mn = json_object_get(v, "min"), *mx = json_object_get(v, "max");
		if (!(sv->name = json_string_value(json_object_get(v, "name"))))
			return fv_diag_set(d, FV_EINVAL, "benchmark variables[%zu] has no 'name'",
					   i);
		if ((mn && !json_is_number(mn)) || (mx && !json_is_number(mx)))
			return fv_diag_set(d, FV_EINVAL,
					   "benchmark variable '%s': min and max must be numbers",
					   sv->name);
		sv->column = column(cfg, sv->name);
		if (p->spec.kind == FV_SOURCE_IMAGES && is_pixel(sv->column)) {
			p->npixels++;
			continue;
		}
		sv->has_min = mn != NULL;
		sv->min = json_number_value(mn);
		sv->has_max = mx != NULL;
		sv->max = json_number_value(mx);
	}
	json_array_foreach(subs, i, v)
	{
		struct fv_summary_subgroup *g = &p->subs[i];
		const char *var = json_string_value(json_object_get(v, "variable"));
		json_t *edges = json_object_get(v, "edges"), *e;
		size_t k;
		if (!(g->name = json_string_value(json_object_get(v, "name"))))
			return fv_diag_set(d, FV_EINVAL, "benchmark subgroups[%zu] has no 'name'",
					   i);
		g->column = column(cfg, var ? var : g->name);
		if (edges && (!json_is_array(edges) || json_array_size(edges) == 0 ||
			      json_array_size(edges) > SUM_MAX_EDGES_CLI))
			return fv_diag_set(
			    d, FV_EINVAL,
			    "benchmark subgroup '%s': 'edges' must list 1..%d numbers", g->name,
			    SUM_MAX_EDGES_CLI);
		json_array_foreach(edges, k, e)
		{
			if (!json_is_number(e))
				return fv_diag_set(
				    d, FV_EINVAL,
				    "benchmark subgroup '%s': edges[%zu] is not a number", g->name,
				    k);
			p->edges[i][k] = json_number_value(e);
		}
		g->nedges = json_array_size(edges);
		g->edges = g->nedges ? p->edges[i] : NULL;
	}
	p->o.nvars = nv - p->npixels;
	p->o.vars = p->vars;
	p->o.nsubgroups = ns;
	p->o.subgroups = p->subs;
	p->o.label = label;
	p->o.label_column = column(cfg, label);
	return FV_OK;
}

static void print_num(json_t *v)
{
	if (json_is_number(v))
		printf(" %9.4g", json_number_value(v));
	else
		printf(" %9s", "-");
}

static void print_table(const json_t *j, const struct plan *p)
{
	json_t *v, *c, *lab = json_object_get(j, "label");
	size_t i, k;
	static const char *const stats[] = {"min", "q25", "median", "q75", "max", "mean", "sd"};

	printf("dataset      %s, %lld rows\nfingerprint  %s\nmin cell     %lld (smaller counts "
	       "suppressed; '-' = withheld)\n\n",
	       json_string_value(json_object_get(j, "source")),
	       (long long)json_integer_value(json_object_get(j, "rows")),
	       json_string_value(json_object_get(j, "fingerprint")),
	       (long long)json_integer_value(json_object_get(j, "min_cell")));
	printf("%-22s %-16s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "variable", "column",
	       "missing", "invalid", "out-rng", "min", "q25", "median", "q75", "max", "mean", "sd");
	json_array_foreach(json_object_get(j, "variables"), i, v)
	{
		printf("%-22s %-16s %9lld %9lld %9lld",
		       json_string_value(json_object_get(v, "name")), p->vars[i].column,
		       (long long)json_integer_value(json_object_get(v, "n_missing")),
		       (long long)json_integer_value(json_object_get(v, "n_invalid")),
		       (long long)json_integer_value(json_object_get(v, "n_out_of_range")));
		for (k = 0; k < sizeof(stats) / sizeof(*stats); k++)
			print_num(json_object_get(v, stats[k]));
		printf("\n");
	}
	if (lab) {
		printf("\nlabel %s (column %s): %lld valid, %lld missing, %lld invalid; positives ",
		       json_string_value(json_object_get(lab, "name")), p->o.label_column,
		       (long long)json_integer_value(json_object_get(lab, "n_valid")),
		       (long long)json_integer_value(json_object_get(lab, "n_missing")),
		       (long long)json_integer_value(json_object_get(lab, "n_invalid")));
		if (json_is_integer(json_object_get(lab, "positives")))
			printf("%lld, prevalence %.3g\n",
			       (long long)json_integer_value(json_object_get(lab, "positives")),
			       json_number_value(json_object_get(lab, "prevalence")));
		else
			printf("withheld (a class below min cell)\n");
	}
	json_array_foreach(json_object_get(j, "subgroups"), i, v)
	{
		json_t *m = json_object_get(v, "missing");
		printf("\nsubgroup %s (column %s, %s)\n",
		       json_string_value(json_object_get(v, "name")), p->subs[i].column,
		       json_string_value(json_object_get(v, "kind")));
		json_array_foreach(json_object_get(v, "cells"), k, c)
		{
			json_t *n = json_object_get(c, "n");
			if (json_is_integer(n))
				printf("  %-30s %12lld\n",
				       json_string_value(json_object_get(c, "value")),
				       (long long)json_integer_value(n));
			else
				printf("  %-30s %12s\n",
				       json_string_value(json_object_get(c, "value")),
				       "suppressed");
		}
		if (json_is_integer(m))
			printf("  %-30s %12lld\n", "(missing)", (long long)json_integer_value(m));
		else
			printf("  %-30s %12s\n", "(missing)", "suppressed");
		if (json_integer_value(json_object_get(v, "hidden_categories")))
			printf(
			    "  (%lld rare categories suppressed, names not shown)\n",
			    (long long)json_integer_value(json_object_get(v, "hidden_categories")));
	}
}

int cmd_site_summary(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"benchmark", required_argument, NULL, 'b'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *bench = NULL;
	struct fv_config *cfg = NULL;
	struct fv_diag d = {{0}};
	struct plan p;
	json_t *b = NULL, *j = NULL;
	bool as_json = false;
	int c, bad = 0, rc = CLI_FAIL;

	memset(&p, 0, sizeof(p));
	if (cli_wants_help(argc, argv, summary_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, summary_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'b')
			bench = optarg;
		else if (c == 'j')
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (!config || !bench || optind != argc)
		return cli_usage(summary_usage, "site summary needs --config and --benchmark");
	if (fv_config_load(config, &cfg, &d) != FV_OK || data_settings(cfg, &p, &d) != FV_OK ||
	    cli_json_file(bench, &b, &d) != FV_OK || bench_settings(cfg, b, &p, &d) != FV_OK ||
	    fv_data_summarise(&p.spec, &p.o, &j, &d) != FV_OK) {
		rc = cli_fail("site summary", &d);
		goto out;
	}
	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		print_table(j, &p);
		if (p.npixels)
			printf("\n(%zu pixel variables not summarised: the summary of an image "
			       "folder covers its index)\n",
			       p.npixels);
	}
	rc = CLI_OK;
out:
	json_decref(j);
	json_decref(b);
	fv_free(p.vars);
	fv_free(p.subs);
	fv_free(p.edges);
	fv_free(p.path);
	fv_config_free(cfg);
	return rc;
}
