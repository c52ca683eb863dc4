/* Internals of lib/report: an output buffer with HTML escaping, the report parsed and checked
 * into plain structs, and the SVG charts. Not installed. */
#ifndef FV_REPORT_INT_H
#define FV_REPORT_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "fedval/limits.h"
#include "fedval/report.h"
#include "fedval/stats.h"

/* Proposed for include/fedval/limits.h; defined here until it is there. */
#ifndef FV_MAX_REPORT_SITES
/* sites in one report: bounds the HTML and the charts a hostile report can make us draw */
#define FV_MAX_REPORT_SITES 1024
#endif
#ifndef FV_MAX_REPORT_COUNT
/* a count (n, tp, ...) in a report: exact in a double, so sums and ratios stay exact */
#define FV_MAX_REPORT_COUNT 1000000000000000ull
#endif
#ifndef FV_MAX_REPORT_TEXT
/* bytes of one report string shown in the HTML; longer strings are cut with an ellipsis */
#define FV_MAX_REPORT_TEXT 4096
#endif
#ifndef FV_MAX_REPORT_SITE_CATEGORIES
/* subgroup categories in one site's "subgroups": a node sends at most FV_MAX_SUBGROUP_RESULTS;
 * bounds the case-mix bars and tables a hostile report can make us draw */
#define FV_MAX_REPORT_SITE_CATEGORIES 256
#endif
#ifndef FV_MAX_REPORT_SUMMARY_VARS
/* variables in one site's data summary: bounds the data-quality table */
#define FV_MAX_REPORT_SUMMARY_VARS 512
#endif
#ifndef FV_MAX_REPORT_SITE_DIFFS
/* entries of head_to_head.site_differences: one per compared model and site */
#define FV_MAX_REPORT_SITE_DIFFS ((FV_MAX_COMPARE + 1) * FV_MAX_REPORT_SITES)
#endif
/* Models of a head-to-head run (the run's model and those compared with it) and the ordered
 * pairs of distinct models a report may compare. */
#define RP_H2H_MODELS (FV_MAX_COMPARE + 1)
#define RP_H2H_PAIRS  (RP_H2H_MODELS * FV_MAX_COMPARE)
/* Shown in the population section (the rest is counted, and is in the JSON): distinct subgroup
 * names, distinct categories over all subgroups, distinct summary variables. The tables there
 * have a column per site, so these keep the page's size in proportion to the sites, whatever
 * names the sites chose. */
#define RP_MIX_GROUPS 16
#define RP_MIX_CATS   64
#define RP_DQ_VARS    128

/* ---- output buffer: appends never fail visibly; `oom` is checked once at the end ---- */
struct rp_buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void rp_put(struct rp_buf *b, const char *s);
void rp_putn(struct rp_buf *b, const char *s, size_t n);
void rp_printf(struct rp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append untrusted UTF-8 text HTML-escaped (& < > " '), valid in element content and in
 * quoted attribute values. Control characters and bidirectional overrides become U+FFFD;
 * at most max bytes of s are shown (cut on a character boundary, then "…"); 0 = no cut. */
void rp_esc(struct rp_buf *b, const char *s, size_t max);
/* A number with prec decimals, or an en dash when it is not finite. */
void rp_num(struct rp_buf *b, double v, int prec);
/* "est (lo–hi)" with prec decimals; an en dash for a missing part. */
void rp_ci(struct rp_buf *b, double est, double lo, double hi, int prec);

/* ---- the report, checked; strings are borrowed from the json_t ---- */
struct rp_prop {
	uint64_t x, n;
	double est, lo, hi; /* Wilson interval; NaN when n == 0 */
};

struct rp_thr {
	double threshold;
	bool suppressed;
	uint64_t tp, fp, tn, fn;
	long sites; /* pooled rows: sites pooled into the row; -1 if not stated */
	struct rp_prop sens, spec, ppv, npv, acc;
};

/* One of a site's "operating_points": the site's own threshold (0.01 grid) reaching a target
 * of the benchmark, or the vendor's declared threshold evaluated at the site. */
enum rp_op_target { RP_OP_SENS, RP_OP_SPEC, RP_OP_POSRATE, RP_OP_DECLARED };
struct rp_op {
	enum rp_op_target target;
	double value;	 /* the target, e.g. 0.8 for sensitivity >= 0.8; NaN for declared */
	struct rp_thr t; /* threshold and confusion there, or suppressed */
};

/* One entry of a site's "subgroups": a released category of a benchmark subgroup with its
 * counts, or one the site withheld (small counts). */
struct rp_mix {
	const char *subgroup, *category;
	bool suppressed;
	uint64_t n, n_pos; /* 0 when suppressed */
	int group, cat;	   /* index into rp.groups / its cats; -1: beyond what is shown */
};

/* One variable of a site's data summary (docs/data-summary.md): every row is missing,
 * invalid, out of range or valid. */
struct rp_dvar {
	const char *name; /* the site's name for the variable */
	uint64_t missing, invalid, oor, valid;
	int row; /* index into rp.dvars; -1: beyond what is shown */
};

/* A site's dataset: its registered description and its disclosure-safe summary. */
struct rp_data {
	bool has_summary; /* "data_summary" bound to the result */
	uint64_t rows;
	struct rp_dvar *vars;
	size_t nvars;
	bool has_label;
	const char *label;			      /* the label's name, or NULL */
	uint64_t lab_valid, lab_missing, lab_invalid; /* label rows valid / missing / invalid */
	double lab_prev;	 /* prevalence in the summary; NaN when withheld */
	const char *fingerprint; /* of the summary, or NULL */
	bool has_dataset;	 /* "dataset" */
	const char *ds_name, *ds_period, *ds_source, *ds_fingerprint;
	long long ds_records, ds_registered_us; /* -1 when absent */
	const char *note;			/* "data_summary_note": why no summary is bound */
};

struct rp_site {
	const char *node;
	bool verified, ok;	  /* ok: verified and status "ok" */
	const char *status, *why; /* status "ok"/"failed"/NULL; why: error or failure reason */
	uint64_t n, n_pos;
	struct rp_prop prev;
	bool has_auc;
	double auc, auc_var, auc_lo, auc_hi; /* Wald interval on the AUC scale (DeLong) */
	double brier, oe, expected;	     /* NaN when absent */
	double oe_lo, oe_hi;		     /* exact Poisson interval for O, divided by E */
	long min_cell;			     /* -1 when absent */
	const char *dp_mechanism;	     /* differential-privacy noise, or NULL */
	double dp_epsilon;
	const char *sha, *sig, *cert, *software;
	struct rp_thr *thr;
	size_t nthr;
	bool in_meta;
	double weight;	   /* random-effects weight in percent, NaN if not in the meta-analysis */
	struct rp_op *ops; /* operating points, in report order */
	size_t nops;
	struct rp_mix *mix; /* case mix per benchmark subgroup, in report order */
	size_t nmix;
	struct rp_data data;
};

/* A benchmark subgroup as the sites reported it: its categories in order of first appearance
 * (sites in report order; at most RP_MIX_CATS over all subgroups); `more` counts the site
 * entries of further categories (drawn together as "other categories"). */
struct rp_group {
	const char *name;
	const char *cats[RP_MIX_CATS];
	size_t ncats, more;
};

/* A subgroup category pooled over the sites that released it (report "subgroups"). */
struct rp_sub {
	const char *subgroup, *category;
	uint64_t n, n_pos;
	long sites, withheld;
	bool has_auc;
	double auc, lo, hi;
};

/* Head to head (report "head_to_head"). Models are indices into rp_h2h.models. The models'
 * pooled AUROCs and the rank intervals are shown as the report states them (95 %: `fedval
 * results` computes them from values the report does not carry); the differences are
 * recomputed at the requested level from each site's difference and paired variance. */
struct rp_model {
	const char *version_id, *vendor;
	const char *name, *version; /* the vendor's manifest name and version; NULL if absent */
	double auc, lo, hi;	    /* pooled AUROC (random effects); NaN when absent */
};

struct rp_rank {
	long rank, lo, hi; /* place by pooled AUROC and its rank interval */
	int model;
	double auc, auc_lo, auc_hi;
};

/* Paired DeLong difference b - a on the same records at one site. */
struct rp_sdiff {
	const char *site;
	size_t node; /* index into rp.sites */
	int pair;    /* index into rp_h2h.pairs */
	double diff, var, lo, hi, p;
};

/* An ordered pair of models: its pooled difference b - a, recomputed from the site
 * differences (random effects, REML with Hartung-Knapp as `fedval results`; one site: that
 * site's difference), or, when the report has no site differences for it, as stated in
 * pooled_differences (95 %). */
struct rp_pair {
	int a, b;
	size_t nsites; /* site differences in the report */
	bool has_json; /* an entry in pooled_differences */
	double j_diff, j_lo, j_hi, j_p;
	long j_sites; /* -1 when absent */
	const char *j_method;
	bool has_pool; /* recomputed: mu, lo, hi, p over k sites by method (hk: HK interval) */
	double mu, lo, hi, p, tau2;
	size_t k;
	enum fv_meta_method method;
	int hk;
};

struct rp_h2h {
	bool present;
	struct rp_model models[RP_H2H_MODELS];
	size_t nmodels;
	struct rp_rank board[RP_H2H_MODELS];
	size_t nboard;
	struct rp_sdiff *sd; /* in report order */
	size_t nsd;
	struct rp_pair pairs[RP_H2H_PAIRS]; /* pooled_differences first, in order, then pairs
					       only site_differences name */
	size_t npairs;
};

struct rp {
	double conf, z;
	const char *title;
	const char *run_id, *run_state, *benchmark;
	long long generated_us; /* -1 when absent */
	const json_t *spec, *manifest;
	const char *version_id, *onnx_sha, *vendor, *model_name, *model_version, *note;
	struct rp_site *sites;
	size_t nsites, nok;
	/* pooled, as stated in the report */
	bool has_pooled;
	uint64_t pn, ppos;
	struct rp_prop pprev;
	double pbrier, poe, pexpected, poe_lo, poe_hi;
	double fe_est, fe_lo, fe_hi;
	struct rp_thr *pthr;
	size_t npthr;
	/* random-effects meta-analysis of logit AUROC */
	bool has_meta;
	enum fv_meta_method meta_method;
	int hk;
	struct fv_meta meta;
	double mu, mu_lo, mu_hi, pi_lo, pi_hi; /* back on the AUROC scale */
	char meta_why[160];		       /* why there is no meta-analysis */
	struct rp_sub *subs;		       /* subgroup categories, in report order */
	size_t nsubs;
	/* the federated recalibration fit, when the run was one (NaN otherwise) */
	const char *recal_status;
	double recal_a, recal_a_se, recal_b, recal_b_se;
	/* population: the sites' subgroups and summary variables, distinct names in order of first
	 * appearance; *_more count the site entries beyond what is shown */
	struct rp_group groups[RP_MIX_GROUPS];
	size_t ngroups, groups_more;
	const char *dvars[RP_DQ_VARS];
	size_t ndvars, dvars_more;
	struct rp_h2h h2h;
};

fv_err rp_parse(const json_t *j, const struct fv_report_opts *o, struct rp *r, struct fv_diag *d);
void rp_fini(struct rp *r);
/* Exact (Garwood) Poisson interval for an observed count x at level conf. */
void rp_poisson_ci(uint64_t x, double conf, double *lo, double *hi);

/* ---- charts: each appends one <svg> element ---- */
void rp_svg_forest(struct rp_buf *b, const struct rp *r);
void rp_svg_roc(struct rp_buf *b, const struct rp *r);
void rp_svg_oe(struct rp_buf *b, const struct rp *r);
void rp_svg_prevalence(struct rp_buf *b, const struct rp *r);
void rp_svg_subgroups(struct rp_buf *b, const struct rp *r);
/* Case mix: per subgroup, one 100%-stacked bar per successful site with its category shares
 * of n; what the site withheld (n minus the released counts) striped grey. Nothing when no site
 * reported a subgroup. */
void rp_svg_casemix(struct rp_buf *b, const struct rp *r);
/* Net benefit of the model, treat-all and treat-none at the benchmark's thresholds, from the
 * pooled counts. Nothing when no pooled row is released. */
void rp_svg_decision(struct rp_buf *b, const struct rp *r);
/* Head to head: per pair of models a heading, the paired difference b - a at each site and the
 * pooled difference (diamond), with a line at 0. Nothing when no pair has a difference. */
void rp_svg_h2h(struct rp_buf *b, const struct rp *r);
/* A model of the head-to-head section in a few words: the manifest's name for the run's model,
 * else the vendor, then "[" the first 8 digits of its version id "]"; vendor and name cut to
 * max bytes on a character boundary. Not escaped. */
void rp_model_label(const struct rp *r, int model, char *out, size_t cap, size_t max);

#endif
