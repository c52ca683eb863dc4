/* fedval: the data-quality and representativeness summary of one dataset.
 *
 * Contract (docs/data-summary.md is the reference for the output)
 *   - One pass over the source; nothing holds the records. Memory per variable is a sparse
 *     log-linear histogram (at most HIST_EXP * 2 pages of HIST_SUB counters), per categorical
 *     subgroup at most SUM_MAX_CATEGORIES strings of at most SUM_MAX_CATEGORY_LEN bytes.
 *   - Every released number is computed from exact counts in a fixed order, so the summary (and
 *     its fingerprint) does not depend on the order of the records.
 *   - No record value is released: extremes are replaced by the min_cell-th smallest/largest
 *     value rounded to 2 significant digits, quantiles are bin midpoints rounded to
 *     3 significant digits, mean and sd are winsorised at those order statistics; counts of
 *     subgroup cells below min_cell are suppressed with complementary suppression. Category
 *     names of suppressed cells are not released either. */
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "source_int.h"

/* A subgroup with more categories is not a subgroup (an ID or free-text column). Candidate for
 * limits.h. */
#define SUM_MAX_CATEGORIES 256
/* Longest category value kept, in bytes: longer text is not a category. */
#define SUM_MAX_CATEGORY_LEN 128
/* Band edges of one subgroup. */
#define SUM_MAX_EDGES 64

/* Histogram: |v| = 2^e * (1 + s / HIST_SUB) for e in [HIST_EMIN, HIST_EMAX], s < HIST_SUB, so a
 * bin's width is 2^-10 of its lower edge (midpoint within 0.05 % of every value in it).
 * |v| < 2^HIST_EMIN counts as 0; |v| > FLT_MAX is invalid (the model reads floats). */
#define HIST_SUB_BITS 10
#define HIST_SUB      (1 << HIST_SUB_BITS)
#define HIST_EMIN     (-60)
#define HIST_EMAX     127
#define HIST_EXP      (HIST_EMAX - HIST_EMIN + 1)

struct hist {
	uint64_t zero;
	uint64_t *page[2][HIST_EXP]; /* [0] positive, [1] negative; NULL until used */
};

struct var_acc {
	size_t col;
	uint64_t missing, invalid, oor, valid;
	struct hist h;
};

struct cat {
	char *value;
	uint64_t n;
};

struct sub_acc {
	size_t col;
	uint64_t missing;
	size_t ncat;
	struct cat *cats; /* SUM_MAX_CATEGORIES when categorical */
	uint64_t *bands;  /* nedges + 1 when banded */
	size_t last;	  /* index of the last category hit: records often repeat one */
};

struct summary {
	const struct fv_summary_opts *o;
	struct fv_rows *rows;
	bool images; /* an image folder: rows is its index */
	struct var_acc *vars;
	struct sub_acc *subs;
	size_t label_col;
	uint64_t rows_n, pos, neg, lab_missing, lab_invalid;
	uint64_t k; /* min_cell, at least 1 */
};

/* ---- histogram ---- */

static fv_err hist_add(struct hist *h, double v)
{
	int neg = v < 0, e;
	double a = fabs(v), m;
	size_t s;

	if (a < ldexp(1.0, HIST_EMIN)) {
		h->zero++;
		return FV_OK;
	}
	m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
	e--;
	m *= 2.0;
	s = (size_t)((m - 1.0) * HIST_SUB);
	if (s >= HIST_SUB)
		s = HIST_SUB - 1;
	if (!h->page[neg][e - HIST_EMIN] &&
	    !(h->page[neg][e - HIST_EMIN] = fv_calloc(HIST_SUB, sizeof(uint64_t))))
		return FV_ENOMEM;
	h->page[neg][e - HIST_EMIN][s]++;
	return FV_OK;
}

static void hist_fini(struct hist *h)
{
	for (int g = 0; g < 2; g++)
		for (int i = 0; i < HIST_EXP; i++)
			fv_free(h->page[g][i]);
}

struct bin {
	uint64_t n;
	double lo, hi;
};

/* Bins in ascending order of value: call fn for each non-empty one. */
static void hist_walk(const struct hist *h, void (*fn)(void *ctx, const struct bin *b), void *ctx)
{
	struct bin b;

	for (int i = HIST_EXP - 1; i >= 0; i--) {
		const uint64_t *p = h->page[1][i];
		for (int s = HIST_SUB - 1; p && s >= 0; s--) {
			if (!p[s])
				continue;
			b.n = p[s];
			b.lo = -ldexp(1.0 + (double)(s + 1) / HIST_SUB, i + HIST_EMIN);
			b.hi = -ldexp(1.0 + (double)s / HIST_SUB, i + HIST_EMIN);
			fn(ctx, &b);
		}
	}
	if (h->zero) {
		b.n = h->zero;
		b.lo = b.hi = 0;
		fn(ctx, &b);
	}
	for (int i = 0; i < HIST_EXP; i++) {
		const uint64_t *p = h->page[0][i];
		for (int s = 0; p && s < HIST_SUB; s++) {
			if (!p[s])
				continue;
			b.n = p[s];
			b.lo = ldexp(1.0 + (double)s / HIST_SUB, i + HIST_EMIN);
			b.hi = ldexp(1.0 + (double)(s + 1) / HIST_SUB, i + HIST_EMIN);
			fn(ctx, &b);
		}
	}
}

/* Order statistics wanted from one walk: the bin holding each 0-based rank. */
#define RANKS 5 /* k-th smallest, q25, median, q75, k-th largest */
struct rank_ctx {
	uint64_t cum, rank[RANKS];
	struct bin at[RANKS];
};

static void rank_fn(void *ctx, const struct bin *b)
{
	struct rank_ctx *r = ctx;

	for (int i = 0; i < RANKS; i++)
		if (r->rank[i] >= r->cum && r->rank[i] < r->cum + b->n)
			r->at[i] = *b;
	r->cum += b->n;
}

/* Winsorised moments: values ranked below lo (above hi) count as the midpoint lo_v (hi_v). */
struct moment_ctx {
	uint64_t cum, lo, hi;
	double lo_v, hi_v;
	long double s1, s2;
};

static void moment_fn(void *ctx, const struct bin *b)
{
	struct moment_ctx *m = ctx;
	uint64_t first = m->cum, last = m->cum + b->n; /* ranks [first, last) */
	uint64_t below = 0, above = 0, mid;
	long double v = ((long double)b->lo + b->hi) / 2;

	if (first < m->lo)
		below = (last < m->lo ? last : m->lo) - first;
	if (last > m->hi + 1)
		above = last - (first > m->hi + 1 ? first : m->hi + 1);
	mid = b->n - below - above;
	m->s1 += below * (long double)m->lo_v + above * (long double)m->hi_v + mid * v;
	m->s2 += below * (long double)m->lo_v * m->lo_v + above * (long double)m->hi_v * m->hi_v +
		 mid * v * v;
	m->cum = last;
}

/* ---- rounding of released numbers ---- */

/* x to `digits` significant digits: dir < 0 toward -inf, > 0 toward +inf, 0 nearest. The result
 * is the double nearest to a short decimal, so that it prints as that decimal. */
static double round_sig(double x, int digits, int dir)
{
	char buf[64];
	double sc, y;

	if (x == 0 || !isfinite(x))
		return x;
	if (dir == 0) {
		snprintf(buf, sizeof(buf), "%.*e", digits - 1, x);
		return strtod(buf, NULL);
	}
	sc = pow(10.0, floor(log10(fabs(x))) - digits + 1);
	y = dir < 0 ? floor(x / sc) * sc : ceil(x / sc) * sc;
	snprintf(buf, sizeof(buf), "%.*g", digits + 1, y);
	y = strtod(buf, NULL);
	/* The short decimal must still bound x on the asked side. */
	if (dir < 0 && y > x)
		y -= sc;
	if (dir > 0 && y < x)
		y += sc;
	snprintf(buf, sizeof(buf), "%.*g", digits + 1, y);
	return strtod(buf, NULL);
}

static json_t *num_or_null(bool ok, double v)
{
	return ok ? json_real(v) : json_null();
}

static json_t *count_or_null(bool ok, uint64_t n)
{
	return ok ? json_integer((json_int_t)n) : json_null();
}

/* ---- accumulation ---- */

static long find_col(const struct fv_rows *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (!strcmp(r->colnames[i], name))
			return (long)i;
	return -1;
}

static fv_err check_opts(const struct fv_summary_opts *o, struct fv_diag *d)
{
	if (!o || (o->nvars && !o->vars) || (o->nsubgroups && !o->subgroups))
		return fv_diag_set(d, FV_EINVAL, "summary: options are required");
	if (o->nvars > FV_MAX_FEATURES || o->nsubgroups > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL, "summary: more than %u variables or subgroups",
				   (unsigned)FV_MAX_FEATURES);
	if (!o->label != !o->label_column)
		return fv_diag_set(d, FV_EINVAL, "summary: label needs both a name and a column");
	for (size_t i = 0; i < o->nvars; i++) {
		const struct fv_summary_var *v = &o->vars[i];
		if (!v->name || !v->column)
			return fv_diag_set(d, FV_EINVAL,
					   "summary: variable %zu has no name or column", i + 1);
		if ((v->has_min && !isfinite(v->min)) || (v->has_max && !isfinite(v->max)) ||
		    (v->has_min && v->has_max && v->min > v->max))
			return fv_diag_set(d, FV_EINVAL,
					   "summary: variable '%s': bad declared range", v->name);
	}
	for (size_t i = 0; i < o->nsubgroups; i++) {
		const struct fv_summary_subgroup *g = &o->subgroups[i];
		if (!g->name || !g->column)
			return fv_diag_set(d, FV_EINVAL,
					   "summary: subgroup %zu has no name or column", i + 1);
		if (g->nedges > SUM_MAX_EDGES || (g->nedges && !g->edges))
			return fv_diag_set(d, FV_EINVAL, "summary: subgroup '%s': 0..%d band edges",
					   g->name, SUM_MAX_EDGES);
		for (size_t j = 0; j < g->nedges; j++)
			if (!isfinite(g->edges[j]) || (j && g->edges[j] <= g->edges[j - 1]))
				return fv_diag_set(
				    d, FV_EINVAL,
				    "summary: subgroup '%s': band edges must be finite "
				    "and strictly ascending",
				    g->name);
	}
	return FV_OK;
}

static fv_err open_rows(const struct fv_source_spec *spec, struct fv_rows **out, struct fv_diag *d)
{
	switch (spec->kind) {
	case FV_SOURCE_CSV:
		return fv_rows_open_csv(spec, out, d);
	case FV_SOURCE_SQLITE:
		return fv_rows_open_sqlite(spec, out, d);
	case FV_SOURCE_POSTGRES:
		return fv_rows_open_pg(spec, out, d);
	case FV_SOURCE_IMAGES:
		/* The index only: pixels are not summarised, and no image is decoded. */
		return fv_rows_open_csv(spec, out, d);
	}
	return fv_diag_set(d, FV_EINVAL, "unknown source kind %d", (int)spec->kind);
}

static fv_err bind_columns(struct summary *s, struct fv_diag *d)
{
	const struct fv_summary_opts *o = s->o;
	long k;

	for (size_t i = 0; i < o->nvars; i++) {
		if ((k = find_col(s->rows, o->vars[i].column)) < 0)
			return fv_diag_set(
			    d, FV_EINVAL, "variable '%s': column '%s' is not in the data%s",
			    o->vars[i].name, o->vars[i].column,
			    s->images ? " (the summary of an image folder covers its "
					"index's columns, not the pixels)"
				      : "");
		s->vars[i].col = (size_t)k;
	}
	for (size_t i = 0; i < o->nsubgroups; i++) {
		const struct fv_summary_subgroup *g = &o->subgroups[i];
		if ((k = find_col(s->rows, g->column)) < 0)
			return fv_diag_set(d, FV_EINVAL,
					   "subgroup '%s': column '%s' is not in the data", g->name,
					   g->column);
		s->subs[i].col = (size_t)k;
		if (g->nedges)
			s->subs[i].bands = fv_calloc(g->nedges + 1, sizeof(uint64_t));
		else
			s->subs[i].cats = fv_calloc(SUM_MAX_CATEGORIES, sizeof(struct cat));
		if (!s->subs[i].bands && !s->subs[i].cats)
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	if (o->label_column) {
		if ((k = find_col(s->rows, o->label_column)) < 0)
			return fv_diag_set(d, FV_EINVAL,
					   "label '%s': column '%s' is not in the data", o->label,
					   o->label_column);
		s->label_col = (size_t)k;
	}
	return FV_OK;
}

/* Parse a present field: FV_OK with a finite float-range value, or FV_EINVAL. */
static fv_err number(struct summary *s, const char *f, double *v)
{
	struct fv_diag why;

	if (s->rows->ops->parse(s->rows, f, v, &why) != FV_OK || !isfinite(*v) || *v > FLT_MAX ||
	    *v < -FLT_MAX)
		return FV_EINVAL;
	return FV_OK;
}

static bool missing(struct summary *s, const char *f)
{
	return !f || s->rows->ops->is_na(s->rows, f);
}

static fv_err add_category(struct summary *s, size_t gi, const char *f, struct fv_diag *d)
{
	struct sub_acc *a = &s->subs[gi];
	size_t len;

	while (*f == ' ' || *f == '\t')
		f++;
	len = strlen(f);
	while (len && (f[len - 1] == ' ' || f[len - 1] == '\t'))
		len--;
	if (a->ncat && strlen(a->cats[a->last].value) == len &&
	    !memcmp(a->cats[a->last].value, f, len)) {
		a->cats[a->last].n++;
		return FV_OK;
	}
	for (size_t i = 0; i < a->ncat; i++)
		if (strlen(a->cats[i].value) == len && !memcmp(a->cats[i].value, f, len)) {
			a->cats[i].n++;
			a->last = i;
			return FV_OK;
		}
	if (len <= SUM_MAX_CATEGORY_LEN) {
		/* Text JSON cannot carry (not UTF-8, e.g. a Latin-1 export) is no category: it is
		 * counted with the missing values, as a band's value that is not a number is. */
		json_t *t = json_stringn(f, len);
		if (!t) {
			a->missing++;
			return FV_OK;
		}
		json_decref(t);
	}
	if (len > SUM_MAX_CATEGORY_LEN || a->ncat == SUM_MAX_CATEGORIES)
		return fv_diag_set(d, FV_ELIMIT,
				   "subgroup '%s': more than %d categories or a value longer than "
				   "%d bytes (is column '%s' an identifier or free text?)",
				   s->o->subgroups[gi].name, SUM_MAX_CATEGORIES,
				   SUM_MAX_CATEGORY_LEN, s->o->subgroups[gi].column);
	if (!(a->cats[a->ncat].value = fv_strndup(f, len)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	a->cats[a->ncat].n = 1;
	a->last = a->ncat++;
	return FV_OK;
}

static fv_err add_record(struct summary *s, char **f, struct fv_diag *d)
{
	const struct fv_summary_opts *o = s->o;
	double v;
	fv_err e;

	for (size_t i = 0; i < o->nvars; i++) {
		struct var_acc *a = &s->vars[i];
		const struct fv_summary_var *sv = &o->vars[i];
		const char *x = f[a->col];
		if (missing(s, x))
			a->missing++;
		else if (number(s, x, &v) != FV_OK)
			a->invalid++;
		else if ((sv->has_min && v < sv->min) || (sv->has_max && v > sv->max))
			a->oor++;
		else {
			a->valid++;
			if (hist_add(&a->h, v) != FV_OK)
				return fv_diag_set(d, FV_ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < o->nsubgroups; i++) {
		const struct fv_summary_subgroup *g = &o->subgroups[i];
		struct sub_acc *a = &s->subs[i];
		const char *x = f[a->col];
		size_t b = 0;
		if (missing(s, x)) {
			a->missing++;
		} else if (!g->nedges) {
			if ((e = add_category(s, i, x, d)) != FV_OK)
				return e;
		} else if (number(s, x, &v) != FV_OK) {
			a->missing++;
		} else {
			while (b < g->nedges && v >= g->edges[b])
				b++;
			a->bands[b]++;
		}
	}
	if (o->label_column) {
		const char *x = f[s->label_col];
		if (missing(s, x))
			s->lab_missing++;
		else if (number(s, x, &v) != FV_OK || (v != 0 && v != 1))
			s->lab_invalid++;
		else if (v == 1)
			s->pos++;
		else
			s->neg++;
	}
	return FV_OK;
}

/* ---- release ---- */

static json_t *var_json(const struct summary *s, size_t i)
{
	const struct fv_summary_var *sv = &s->o->vars[i];
	const struct var_acc *a = &s->vars[i];
	uint64_t n = a->valid, k = s->k;
	struct rank_ctx r = {0};
	struct moment_ctx m = {0};
	/* Order statistics k-1 and n-k must not cross, and one value alone is never described. */
	bool some = n >= 2 * k, q[3];
	double mean = 0, sd = 0;
	json_t *j;
	/* Quantile type 1 (inverse of the empirical CDF) at 0.25, 0.5, 0.75. */
	static const double qs[3] = {0.25, 0.5, 0.75};

	if (some) {
		r.rank[0] = k - 1;
		r.rank[4] = n - k;
		for (int t = 0; t < 3; t++) {
			uint64_t rk = (uint64_t)ceil(qs[t] * (double)n);
			r.rank[t + 1] = rk ? rk - 1 : 0;
			/* At least k records on each side of the released quantile. */
			q[t] = r.rank[t + 1] + 1 >= k && n - r.rank[t + 1] >= k;
		}
		hist_walk(&a->h, rank_fn, &r);
		m.lo = k - 1;
		m.hi = n - k;
		m.lo_v = (r.at[0].lo + r.at[0].hi) / 2;
		m.hi_v = (r.at[4].lo + r.at[4].hi) / 2;
		hist_walk(&a->h, moment_fn, &m);
		mean = (double)(m.s1 / n);
		if (n > 1) {
			long double var = (m.s2 - m.s1 * m.s1 / n) / (n - 1);
			sd = var > 0 ? (double)sqrtl(var) : 0;
		}
	} else {
		q[0] = q[1] = q[2] = false;
	}
	j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "name", sv->name, "n_present",
		      (json_int_t)(s->rows_n - a->missing), "n_missing", (json_int_t)a->missing,
		      "n_invalid", (json_int_t)a->invalid, "n_out_of_range", (json_int_t)a->oor,
		      "n_valid", (json_int_t)n);
	if (!j)
		return NULL;
	if (json_object_set_new(j, "declared_min", num_or_null(sv->has_min, sv->min)) ||
	    json_object_set_new(j, "declared_max", num_or_null(sv->has_max, sv->max)) ||
	    json_object_set_new(j, "mean", num_or_null(some, round_sig(mean, 4, 0))) ||
	    json_object_set_new(j, "sd", num_or_null(some && n > 1, round_sig(sd, 3, 0))) ||
	    json_object_set_new(
		j, "min", num_or_null(some, round_sig((r.at[0].lo + r.at[0].hi) / 2, 2, 0))) ||
	    json_object_set_new(
		j, "max", num_or_null(some, round_sig((r.at[4].lo + r.at[4].hi) / 2, 2, 0))) ||
	    json_object_set_new(
		j, "q25", num_or_null(q[0], round_sig((r.at[1].lo + r.at[1].hi) / 2, 3, 0))) ||
	    json_object_set_new(
		j, "median", num_or_null(q[1], round_sig((r.at[2].lo + r.at[2].hi) / 2, 3, 0))) ||
	    json_object_set_new(
		j, "q75", num_or_null(q[2], round_sig((r.at[3].lo + r.at[3].hi) / 2, 3, 0)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Suppress cells 1..k-1 (primary), then the smallest released non-zero cells until at least
 * two cells are suppressed and their sum is at least k, so that neither the row total nor the
 * other cells give a suppressed cell back (complementary suppression). sup[i] is set. */
static size_t suppress(const uint64_t *n, size_t cells, uint64_t k, bool *sup)
{
	size_t nsup = 0;
	uint64_t sum = 0;

	for (size_t i = 0; i < cells; i++) {
		sup[i] = n[i] > 0 && n[i] < k;
		if (sup[i]) {
			nsup++;
			sum += n[i];
		}
	}
	while (nsup > 0 && (nsup < 2 || sum < k)) {
		size_t best = cells;
		for (size_t i = 0; i < cells; i++)
			if (!sup[i] && n[i] > 0 && (best == cells || n[i] < n[best]))
				best = i;
		if (best == cells)
			break;
		sup[best] = true;
		nsup++;
		sum += n[best];
	}
	return nsup;
}

static int cat_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cat *)a)->value, ((const struct cat *)b)->value);
}

static void band_name(char *buf, size_t cap, const double *e, size_t ne, size_t b)
{
	if (b == 0)
		fv_fmt(buf, cap, "<%.15g", e[0]);
	else if (b == ne)
		fv_fmt(buf, cap, ">=%.15g", e[ne - 1]);
	else
		fv_fmt(buf, cap, "[%.15g,%.15g)", e[b - 1], e[b]);
}

static json_t *sub_json(const struct summary *s, size_t gi)
{
	const struct fv_summary_subgroup *g = &s->o->subgroups[gi];
	struct sub_acc *a = &s->subs[gi];
	size_t cells = (g->nedges ? g->nedges + 1 : a->ncat) + 1, nsup, hidden = 0;
	uint64_t *n = fv_calloc(cells, sizeof(uint64_t));
	bool *sup = fv_calloc(cells, sizeof(bool));
	json_t *j = NULL, *arr = NULL, *edges = NULL;
	char name[96];

	if (!n || !sup)
		goto fail;
	/* Sorted so that the output does not depend on which category came first. */
	if (!g->nedges)
		qsort(a->cats, a->ncat, sizeof(*a->cats), cat_cmp);
	for (size_t i = 0; i + 1 < cells; i++)
		n[i] = g->nedges ? a->bands[i] : a->cats[i].n;
	n[cells - 1] = a->missing; /* the last cell: missing or not a number */
	nsup = suppress(n, cells, s->k, sup);
	if (!(arr = json_array()))
		goto fail;
	for (size_t i = 0; i + 1 < cells; i++) {
		json_t *c;
		if (!g->nedges && sup[i]) {
			hidden++; /* a rare category's name may itself identify someone */
			continue;
		}
		if (g->nedges)
			band_name(name, sizeof(name), g->edges, g->nedges, i);
		c = json_pack("{s:s,s:o}", "value", g->nedges ? name : a->cats[i].value, "n",
			      count_or_null(!sup[i], n[i]));
		if (!c || json_array_append_new(arr, c))
			goto fail;
	}
	j = json_pack("{s:s,s:s,s:o,s:o,s:I,s:I}", "name", g->name, "kind",
		      g->nedges ? "bands" : "category", "cells", arr, "missing",
		      count_or_null(!sup[cells - 1], n[cells - 1]), "suppressed_cells",
		      (json_int_t)nsup, "hidden_categories", (json_int_t)hidden);
	arr = NULL;
	if (!j)
		goto fail;
	if (g->nedges) {
		if (!(edges = json_array()))
			goto fail;
		for (size_t i = 0; i < g->nedges; i++)
			if (json_array_append_new(edges, json_real(g->edges[i])))
				goto fail;
		if (json_object_set_new(j, "edges", edges)) {
			edges = NULL;
			goto fail;
		}
		edges = NULL;
		json_object_del(j, "hidden_categories");
	}
	fv_free(n);
	fv_free(sup);
	return j;
fail:
	json_decref(arr);
	json_decref(edges);
	json_decref(j);
	fv_free(n);
	fv_free(sup);
	return NULL;
}

static json_t *label_json(const struct summary *s)
{
	uint64_t valid = s->pos + s->neg;
	/* Positives and negatives go together: valid minus one gives the other. */
	bool ok = (s->pos == 0 || s->pos >= s->k) && (s->neg == 0 || s->neg >= s->k);

	return json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o}", "name", s->o->label, "n_valid",
			 (json_int_t)valid, "n_missing", (json_int_t)s->lab_missing, "n_invalid",
			 (json_int_t)s->lab_invalid, "positives", count_or_null(ok, s->pos),
			 "negatives", count_or_null(ok, s->neg), "prevalence",
			 num_or_null(ok && valid > 0,
				     valid ? round_sig((double)s->pos / (double)valid, 3, 0) : 0));
}

static fv_err build(const struct summary *s, const struct fv_source_spec *spec, json_t **out,
		    struct fv_diag *d)
{
	json_t *j, *vars, *subs, *x;
	char hex[65];
	fv_err e;

	j = json_pack("{s:s,s:s,s:I,s:I,s:[],s:[]}", "format", "fedval-data-summary/1", "source",
		      fv_source_kind_name(spec->kind), "min_cell", (json_int_t)s->k, "rows",
		      (json_int_t)s->rows_n, "variables", "subgroups");
	if (!j)
		goto nomem;
	vars = json_object_get(j, "variables");
	subs = json_object_get(j, "subgroups");
	for (size_t i = 0; i < s->o->nvars; i++)
		if (!(x = var_json(s, i)) || json_array_append_new(vars, x))
			goto nomem;
	for (size_t i = 0; i < s->o->nsubgroups; i++)
		if (!(x = sub_json(s, i)) || json_array_append_new(subs, x))
			goto nomem;
	if (s->o->label && (!(x = label_json(s)) || json_object_set_new(j, "label", x)))
		goto nomem;
	if ((e = fv_data_summary_fingerprint(j, hex, d)) != FV_OK)
		goto fail;
	if (json_object_set_new(j, "fingerprint", json_string(hex)))
		goto nomem;
	*out = j;
	return FV_OK;
nomem:
	e = fv_diag_set(d, FV_ENOMEM, "out of memory");
fail:
	json_decref(j);
	return e;
}

fv_err fv_data_summary_fingerprint(const struct json_t *summary, char hex[65], struct fv_diag *d)
{
	json_t *c = json_deep_copy(summary);
	char *text = NULL;
	fv_err e = FV_OK;

	if (!c || !json_is_object(c)) {
		e = fv_diag_set(d, c ? FV_EINVAL : FV_ENOMEM, "summary is not a JSON object");
		goto out;
	}
	json_object_del(c, "fingerprint");
	text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
				 JSON_REAL_PRECISION(6));
	if (!text) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	fv_sha256_hex(text, strlen(text), hex);
out:
	free(text); /* jansson's allocator */
	json_decref(c);
	return e;
}

fv_err fv_data_summarise(const struct fv_source_spec *spec, const struct fv_summary_opts *opts,
			 struct json_t **out, struct fv_diag *d)
{
	struct summary s = {0};
	fv_err e;

	*out = NULL;
	s.o = opts;
	s.images = spec->kind == FV_SOURCE_IMAGES;
	if ((e = check_opts(opts, d)) != FV_OK)
		return e;
	s.k = opts->min_cell ? opts->min_cell : 1;
	if ((opts->nvars && !(s.vars = fv_calloc(opts->nvars, sizeof(*s.vars)))) ||
	    (opts->nsubgroups && !(s.subs = fv_calloc(opts->nsubgroups, sizeof(*s.subs))))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if ((e = open_rows(spec, &s.rows, d)) != FV_OK || (e = bind_columns(&s, d)) != FV_OK)
		goto out;
	for (;;) {
		char **f = NULL;
		bool eof = false;
		if ((e = s.rows->ops->next(s.rows, &f, &eof, d)) != FV_OK)
			goto out;
		if (eof)
			break;
		if (s.rows_n >= FV_MAX_ROWS) {
			e = fv_diag_set(d, FV_ELIMIT, "more than %u records",
					(unsigned)FV_MAX_ROWS);
			goto out;
		}
		s.rows_n++;
		if ((e = add_record(&s, f, d)) != FV_OK)
			goto out;
	}
	e = build(&s, spec, out, d);
out:
	if (s.rows)
		s.rows->ops->close(s.rows);
	for (size_t i = 0; s.vars && i < opts->nvars; i++)
		hist_fini(&s.vars[i].h);
	for (size_t i = 0; s.subs && i < opts->nsubgroups; i++) {
		for (size_t c = 0; c < s.subs[i].ncat; c++)
			fv_free(s.subs[i].cats[c].value);
		fv_free(s.subs[i].cats);
		fv_free(s.subs[i].bands);
	}
	fv_free(s.vars);
	fv_free(s.subs);
	return e;
}
