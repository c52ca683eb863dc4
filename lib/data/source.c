/* fedval: records of any source mapped to a benchmark's variables.
 *
 * Contract (the same for every source kind)
 *   - Each variable, the label and the cohort rule are expressions over the source's columns
 *     (lib/data/expr.c, docs/mapping.md), parsed once at open; a mapping value that is exactly
 *     a column's name is that column. A parse error names the variable and the position.
 *   - Every mapped variable must be a finite number in every record handed out; a missing value
 *     (SQL NULL, a CSV NA token), text, inf/nan, a value outside the range of a float, an
 *     unmatched recode() or a failed operation is an error naming the variable, its column,
 *     the record ("line 12", "row 12") and at most 40 bytes of the value. Such messages are for
 *     the local operator: a node never sends them out.
 *   - The label must be equal to 0 or 1 (or a class 0..K-1, or be absent: struct fv_labels).
 *     No predictor may read a column the label or an outcome variable reads.
 *   - The cohort rule reads the benchmark's variables (after mapping) and the source's columns;
 *     a record where it is false is skipped and counted, and nothing else of it is evaluated.
 *     A variable it reads is evaluated only as far as the rule needs it (and / or / if stop
 *     early), so a record left out may hold missing or bad values elsewhere.
 *   - Unmapped columns are read and ignored.
 *   - Records are handed out in batches; nothing holds the whole dataset.
 *   - A numeric column of the cursor (an image's pixel, source_int.h) is never missing and
 *     never quoted in a message; a variable that is exactly such a column takes its float as
 *     it is, without going through the expression evaluator. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "expr.h"
#include "fedval/util.h"
#include "source_int.h"

/* Bytes of a record value quoted in an error message: enough to recognise it, too few to
 * carry much of a record. */
#define SRC_VALUE_QUOTE 40

/* Bytes of an expression shown above the caret of a parse error. */
#define SRC_SHOWN_EXPR 96

struct fv_source {
	struct fv_rows *rows;
	const char *where; /* where column names come from, for messages */
	size_t nvars;
	size_t *direct;	     /* per variable: index into the numeric columns, or SIZE_MAX */
	size_t *textcol;     /* per variable: the text column it is exactly, or SIZE_MAX */
	size_t labcol;	     /* the text column the label is exactly, or SIZE_MAX */
	struct fv_expr **vx; /* each variable's mapping */
	struct fv_expr *lx;  /* the label's mapping (NULL: no label) */
	struct fv_labels lab;
	struct fv_expr *cx; /* the cohort rule, or NULL */
	double *val;	    /* variables the cohort rule evaluated for this record ... */
	uint8_t *cached;    /* ... where cached[i] is 1 */
	struct fv_expr_env env;
	const struct fv_mapping *map;
	uint64_t records;  /* records handed out */
	uint64_t excluded; /* records the cohort rule left out */
	bool started;	   /* fv_source_read was called */
	bool failed;
};

const char *fv_data_show_value(char *buf, size_t cap, const char *v)
{
	size_t n = strlen(v), keep = n, i;

	if (keep > SRC_VALUE_QUOTE) {
		keep = SRC_VALUE_QUOTE;
		while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
			keep--;
	}
	if (keep + 4 > cap)
		keep = 0;
	for (i = 0; i < keep; i++)
		buf[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	if (keep < n && keep + 4 <= cap) {
		memcpy(buf + keep, "...", 3);
		keep += 3;
	}
	buf[keep] = '\0';
	return buf;
}

static fv_err check_mapping(const struct fv_mapping *map, const struct fv_labels *lab,
			    struct fv_diag *d)
{
	size_t i, j;

	bool no_label = lab->classes == 1;
	if (!map || !map->vars || !map->columns || !map->label_column != no_label)
		return fv_diag_set(d, FV_EINVAL,
				   no_label ? "mapping: variables and columns are required, and no "
					      "label"
					    : "mapping: variables, columns and label are required");
	if (lab->classes > 255)
		return fv_diag_set(d, FV_EINVAL, "mapping: %u classes (at most 255)",
				   (unsigned)lab->classes);
	if (map->nvars == 0 || map->nvars > FV_MAX_FEATURES || lab->n_outcomes >= map->nvars)
		return fv_diag_set(d, FV_EINVAL,
				   "mapping: %zu variables (1 to %u allowed, %zu of them outcomes)",
				   map->nvars, (unsigned)FV_MAX_FEATURES, lab->n_outcomes);
	for (i = 0; i < map->nvars; i++) {
		if (!map->vars[i] || !map->columns[i])
			return fv_diag_set(d, FV_EINVAL,
					   "mapping: variable %zu has no name or column", i + 1);
		/* The label fed to the model as a predictor would make any model look perfect. */
		if (i < map->nvars - lab->n_outcomes && map->label_column &&
		    strcmp(map->columns[i], map->label_column) == 0)
			return fv_diag_set(d, FV_EINVAL,
					   "mapping: variable '%s' reads column '%s', which is the "
					   "label column",
					   map->vars[i], map->columns[i]);
	}
	/* Quadratic, but nvars <= FV_MAX_FEATURES and this runs once per source. */
	for (i = 0; i < map->nvars; i++)
		for (j = i + 1; j < map->nvars; j++)
			if (strcmp(map->vars[i], map->vars[j]) == 0)
				return fv_diag_set(d, FV_EINVAL,
						   "mapping: variable '%s' appears twice",
						   map->vars[i]);
	return FV_OK;
}

fv_err fv_data_check_mapping(const struct fv_mapping *map, struct fv_diag *d)
{
	static const struct fv_labels binary = {0, 0};
	return check_mapping(map, &binary, d);
}

fv_err fv_rows_parse_decimal(const char *field, double *out, struct fv_diag *d)
{
	const char *p = field;
	char *end;
	double v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return fv_diag_set(d, FV_EINVAL, "empty");
	if (!strcmp(p, "t") || !strcmp(p, "true")) {
		*out = 1;
		return FV_OK;
	}
	if (!strcmp(p, "f") || !strcmp(p, "false")) {
		*out = 0;
		return FV_OK;
	}
	/* strtod also takes hex, inf and nan: only digits, sign, point and exponent pass. */
	for (const char *q = p; *q && *q != ' ' && *q != '\t'; q++)
		if (!strchr("0123456789+-.eE", *q))
			return fv_diag_set(d, FV_EINVAL, "not a number");
	v = strtod(p, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == p || *end != '\0' || !isfinite(v))
		return fv_diag_set(d, FV_EINVAL, "not a number");
	*out = v;
	return FV_OK;
}

const char *fv_source_kind_name(enum fv_source_kind k)
{
	switch (k) {
	case FV_SOURCE_CSV:
		return "csv";
	case FV_SOURCE_SQLITE:
		return "sqlite";
	case FV_SOURCE_POSTGRES:
		return "postgres";
	case FV_SOURCE_IMAGES:
		return "images";
	}
	return "unknown";
}

fv_err fv_source_kind_parse(const char *s, enum fv_source_kind *out)
{
	if (!strcmp(s, "csv"))
		*out = FV_SOURCE_CSV;
	else if (!strcmp(s, "sqlite"))
		*out = FV_SOURCE_SQLITE;
	else if (!strcmp(s, "postgres") || !strcmp(s, "postgresql"))
		*out = FV_SOURCE_POSTGRES;
	else if (!strcmp(s, "images"))
		*out = FV_SOURCE_IMAGES;
	else
		return FV_EINVAL;
	return FV_OK;
}

static long find_col(const struct fv_rows *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (!strcmp(r->colnames[i], name))
			return (long)i;
	return -1;
}

/* Nothing but name characters: a lone column name, shown without a caret when unknown. */
static bool lone_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (unsigned char)*s >= 0x80))
			return false;
	return true;
}

/* Parse one mapping value, cohort rule or label into *out. what names it in messages
 * ("variable 'age'", "label", "cohort rule"). A value that is exactly a column's name is that
 * column, whatever characters the name holds (mappings written before expressions existed). */
static fv_err parse_mapping(const struct fv_rows *r, const char *where, const char *what,
			    const char *src, const struct fv_mapping *cohort_of,
			    struct fv_expr **out, struct fv_diag *d)
{
	struct fv_expr_names names = {r->ncols, (const char *const *)r->colnames, 0, NULL, where};
	char caret[2 * SRC_SHOWN_EXPR];
	size_t pos = 0, len = strlen(src);
	long k;
	fv_err e;

	if (!cohort_of && (k = find_col(r, src)) >= 0)
		return fv_expr_new_column((size_t)k, out, d);
	if (cohort_of) {
		names.nvars = cohort_of->nvars;
		names.vars = cohort_of->vars;
	}
	if ((e = fv_expr_parse(src, len, &names, out, &pos, d)) == FV_OK || e == FV_ENOMEM)
		return e;
	if (len <= FV_EXPR_MAX_LEN && !lone_name(src)) {
		fv_expr_caret(caret, sizeof(caret), src, len, pos);
		fv_diag_prefix(d, "%s: ", what);
		/* Keep the caret whole: shorten the reason instead if the message is full. */
		if (strlen(d->msg) + strlen(caret) + 40 >= sizeof(d->msg))
			d->msg[sizeof(d->msg) - strlen(caret) - 40] = '\0';
		fv_fmt(d->msg + strlen(d->msg), sizeof(d->msg) - strlen(d->msg),
		       " (at character %zu)\n%s", pos + 1, caret);
	} else {
		fv_diag_prefix(d, "%s: ", what);
	}
	return e;
}

/* The checks that need the source's columns: no predictor reads a column the label reads (the
 * label fed to the model as a predictor would make any model look perfect). */
static fv_err check_leak(struct fv_source *s, struct fv_diag *d)
{
	uint8_t *lab = fv_calloc(s->rows->ncols, 1), *use = fv_calloc(s->rows->ncols, 1);
	fv_err e = FV_OK;

	if (!lab || !use) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	size_t npred = s->nvars - s->lab.n_outcomes;
	if (s->lx)
		fv_expr_mark(s->lx, lab, NULL);
	for (size_t i = npred; i < s->nvars; i++)
		fv_expr_mark(s->vx[i], lab, NULL);
	for (size_t i = 0; i < npred; i++) {
		memset(use, 0, s->rows->ncols);
		fv_expr_mark(s->vx[i], use, NULL);
		for (size_t c = 0; c < s->rows->ncols; c++)
			if (use[c] && lab[c]) {
				e = fv_diag_set(
				    d, FV_EINVAL,
				    "mapping: variable '%s' reads column '%s', which is "
				    "the %s column",
				    s->map->vars[i], s->rows->colnames[c],
				    s->lab.n_outcomes ? "label or an outcome" : "label");
				goto out;
			}
	}
out:
	fv_free(lab);
	fv_free(use);
	return e;
}

fv_err fv_source_open(const struct fv_source_spec *spec, const struct fv_mapping *map,
		      struct fv_source **out, struct fv_diag *d)
{
	static const struct fv_labels binary = {0, 0};
	return fv_source_open_task(spec, map, &binary, out, d);
}

fv_err fv_source_open_task(const struct fv_source_spec *spec, const struct fv_mapping *map,
			   const struct fv_labels *labels, struct fv_source **out,
			   struct fv_diag *d)
{
	struct fv_source *s = fv_calloc(1, sizeof(*s));
	char what[FV_EXPR_MAX_NAME + 16];
	const char *where;
	size_t col;
	fv_err e;

	*out = NULL;
	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	s->lab = *labels;
	if (map && (e = check_mapping(map, labels, d)) != FV_OK)
		goto fail;
	switch (spec->kind) {
	case FV_SOURCE_CSV:
		e = fv_rows_open_csv(spec, &s->rows, d);
		break;
	case FV_SOURCE_SQLITE:
		e = fv_rows_open_sqlite(spec, &s->rows, d);
		break;
	case FV_SOURCE_POSTGRES:
		e = fv_rows_open_pg(spec, &s->rows, d);
		break;
	case FV_SOURCE_IMAGES:
		e = fv_rows_open_images(spec, &s->rows, d);
		break;
	default:
		e = fv_diag_set(d, FV_EINVAL, "unknown source kind %d", (int)spec->kind);
	}
	if (e != FV_OK)
		goto fail;
	s->map = map;
	s->where = where = spec->kind == FV_SOURCE_CSV	    ? "the header"
			   : spec->kind == FV_SOURCE_IMAGES ? "the index's header or the pixels"
							    : "the source's columns";
	if (map) {
		s->nvars = map->nvars;
		if (!(s->vx = fv_calloc(map->nvars, sizeof(*s->vx))) ||
		    !(s->val = fv_calloc(map->nvars, sizeof(*s->val))) ||
		    !(s->direct = fv_calloc(map->nvars, sizeof(*s->direct))) ||
		    !(s->textcol = fv_calloc(map->nvars, sizeof(*s->textcol))) ||
		    !(s->cached = fv_calloc(map->nvars, 1))) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < map->nvars; i++) {
			fv_fmt(what, sizeof(what), "variable '%.*s'", FV_EXPR_MAX_NAME,
			       map->vars[i]);
			if ((e = parse_mapping(s->rows, where, what, map->columns[i], NULL,
					       &s->vx[i], d)) != FV_OK)
				goto fail;
			s->direct[i] = s->textcol[i] = SIZE_MAX;
			if (fv_expr_is_column(s->vx[i], &col) && fv_rows_is_num(s->rows, col))
				s->direct[i] = col - (s->rows->ncols - s->rows->nnum);
			else if (fv_expr_is_column(s->vx[i], &col))
				s->textcol[i] = col;
		}
		if (s->lab.classes != 1 &&
		    (e = parse_mapping(s->rows, where, "label", map->label_column, NULL, &s->lx,
				       d)) != FV_OK)
			goto fail;
		s->labcol = SIZE_MAX;
		if (s->lx && fv_expr_is_column(s->lx, &col) && !fv_rows_is_num(s->rows, col))
			s->labcol = col;
		if ((e = check_leak(s, d)) != FV_OK)
			goto fail;
	}
	*out = s;
	return FV_OK;
fail:
	fv_source_close(s);
	return e;
}

fv_err fv_source_set_cohort(struct fv_source *s, const char *rule, struct fv_diag *d)
{
	struct fv_expr *x = NULL;
	fv_err e;

	if (!s->map || s->started)
		return fv_diag_set(d, FV_ESTATE,
				   "cohort rule: set it on a mapped source before "
				   "reading");
	if (!rule)
		return fv_diag_set(d, FV_EINVAL, "cohort rule: none given");
	if ((e = parse_mapping(s->rows, s->where, "cohort rule", rule, s->map, &x, d)) != FV_OK)
		return e;
	fv_expr_free(s->cx);
	s->cx = x;
	return FV_OK;
}

fv_err fv_source_check_mapping(const struct fv_source *s, const char *var, const char *value,
			       struct fv_diag *d)
{
	struct fv_expr *x = NULL;
	char what[FV_EXPR_MAX_NAME + 16];
	fv_err e;

	fv_fmt(what, sizeof(what), "variable '%.*s'", FV_EXPR_MAX_NAME, var ? var : "?");
	e = parse_mapping(s->rows, s->where, what, value, NULL, &x, d);
	fv_expr_free(x);
	return e;
}

/* What a message is about. */
enum subject { SUBJ_VAR, SUBJ_LABEL, SUBJ_COHORT };

/* The message for a failed evaluation: the record, what it is about, the column and (at most
 * SRC_VALUE_QUOTE bytes of) its value, or the operation that failed. */
static fv_err report(struct fv_source *s, enum subject subj, size_t var, enum fv_expr_status st,
		     const struct fv_expr_fault *f, struct fv_diag *d)
{
	char where[64], shown[SRC_VALUE_QUOTE + 8], head[FV_EXPR_MAX_NAME + 64];
	const char *why = f->why;
	bool bare_label = false;
	size_t col;

	s->rows->ops->where(s->rows, where, sizeof(where));
	if (subj == SUBJ_LABEL) {
		bare_label = fv_expr_is_column(s->lx, &col);
		fv_fmt(head, sizeof(head), "label");
	} else if (subj == SUBJ_VAR) {
		fv_fmt(head, sizeof(head), "variable '%.*s'", FV_EXPR_MAX_NAME, s->map->vars[var]);
	} else if (f->var >= 0) {
		fv_fmt(head, sizeof(head), "cohort rule: variable '%.*s'", FV_EXPR_MAX_NAME,
		       s->map->vars[f->var]);
	} else {
		fv_fmt(head, sizeof(head), "cohort rule");
	}
	if (f->col < 0) {
		char num[40] = "";
		if (f->has_num)
			fv_fmt(num, sizeof(num), ", got %.6g", f->num);
		return fv_diag_set(d, FV_EINVAL, "%s: %s: %s%s (at character %zu of its %s)", where,
				   head, why, num, f->pos + 1,
				   subj == SUBJ_COHORT && f->var < 0 ? "rule" : "mapping");
	}
	fv_data_show_value(shown, sizeof(shown), f->value ? f->value : "");
	if (bare_label && !strcmp(why, "is"))
		return fv_diag_set(d, FV_EINVAL,
				   "%s: label (column '%s'): value '%s' is not 0 or 1", where,
				   s->rows->colnames[f->col], shown);
	return fv_diag_set(d, FV_EINVAL, "%s: %s (column '%s'): value '%s' %s%s%s", where, head,
			   s->rows->colnames[f->col], shown, why, !strcmp(why, "is") ? " " : "",
			   !strcmp(why, "is") ? f->reason
			   : subj == SUBJ_COHORT && st == FV_EXPR_MISSING
			       ? " (guard it with isna())"
			       : "");
}

/* A variable read by the cohort rule: evaluated once per record, then kept for the model. */
static enum fv_expr_status cohort_var(void *ctx, size_t i, double *out, struct fv_expr_fault *f)
{
	struct fv_source *s = ctx;
	enum fv_expr_status st;

	if (s->cached[i]) {
		*out = s->val[i];
		return FV_EXPR_OK;
	}
	if ((st = fv_expr_eval(s->vx[i], &s->env, out, f)) != FV_EXPR_OK) {
		f->var = (long)i;
		return st;
	}
	s->val[i] = *out;
	s->cached[i] = 1;
	return FV_EXPR_OK;
}

/* A variable that is exactly a text column, read without the expression evaluator: true with
 * *out when the field is present, not an NA token and a number. On false the caller evaluates
 * the expression, which meets the same field and reports it in its own words. */
static inline bool quick_col(struct fv_source *s, size_t col, double *out)
{
	const char *t = s->env.fields[col];
	struct fv_diag why; /* written only on failure */

	if (!t)
		return false;
	if (s->rows->ops->try_number)
		return s->rows->ops->try_number(s->rows, t, out);
	return !s->rows->ops->is_na(s->rows, t) &&
	       s->rows->ops->parse(s->rows, t, out, &why) == FV_OK;
}

/* The text of column col in the current record, for a message ("" for SQL NULL; a numeric
 * column's value is not shown). */
static const char *field_text(const struct fv_source *s, size_t col)
{
	if (fv_rows_is_num(s->rows, col))
		return FV_ROWS_NUM_SHOWN;
	return s->env.fields[col] ? s->env.fields[col] : "";
}

/* The value given to the model: finite as a double is not enough, it must fit a float. */
static fv_err to_float(struct fv_source *s, size_t i, double v, float *out, struct fv_diag *d)
{
	char where[64], shown[SRC_VALUE_QUOTE + 8];
	size_t col;

	if (v <= FLT_MAX && v >= -FLT_MAX) {
		*out = (float)v;
		return FV_OK;
	}
	s->rows->ops->where(s->rows, where, sizeof(where));
	if (fv_expr_is_column(s->vx[i], &col))
		return fv_diag_set(
		    d, FV_EINVAL,
		    "%s: variable '%s' (column '%s'): value '%s' is out of range for "
		    "a 32-bit float",
		    where, s->map->vars[i], s->rows->colnames[col],
		    fv_data_show_value(shown, sizeof(shown), field_text(s, col)));
	return fv_diag_set(d, FV_EINVAL,
			   "%s: variable '%s': result %.6g is out of range for a 32-bit float",
			   where, s->map->vars[i], v);
}

fv_err fv_source_read(struct fv_source *s, float *x, uint8_t *y, size_t cap, size_t *got,
		      struct fv_diag *d)
{
	const struct fv_mapping *map = s->map;
	struct fv_expr_fault f;
	enum fv_expr_status st;
	char where[64];
	size_t n = 0;
	fv_err e = FV_OK;

	*got = 0;
	if (!map)
		return fv_diag_set(d, FV_ESTATE, "source opened without a mapping");
	if (s->failed)
		return fv_diag_set(d, FV_ESTATE, "source failed earlier");
	s->started = true;
	s->env.rows = s->rows;
	s->env.var = cohort_var;
	s->env.ctx = s;
	while (n < cap) {
		char **fields = NULL;
		bool eof = false;
		double v;
		if ((e = s->rows->ops->next(s->rows, &fields, &eof, d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		s->env.fields = fields;
		s->env.num = s->rows->nnum ? s->rows->ops->numbers(s->rows) : NULL;
		if (s->cx) {
			memset(s->cached, 0, s->nvars);
			if ((st = fv_expr_eval(s->cx, &s->env, &v, &f)) != FV_EXPR_OK) {
				e = report(s, SUBJ_COHORT, 0, st, &f, d);
				goto fail;
			}
			if (v != 0 && v != 1) {
				s->rows->ops->where(s->rows, where, sizeof(where));
				e = fv_diag_set(
				    d, FV_EINVAL,
				    "%s: cohort rule gives %.6g, not true (1) or false (0)", where,
				    v);
				goto fail;
			}
			if (v == 0) {
				s->excluded++;
				continue;
			}
		}
		if (s->records >= FV_MAX_ROWS) {
			e = fv_diag_set(d, FV_ELIMIT, "more than %u records",
					(unsigned)FV_MAX_ROWS);
			goto fail;
		}
		for (size_t i = 0; i < s->nvars; i++) {
			if (s->direct[i] != SIZE_MAX) {
				x[n * s->nvars + i] = s->env.num[s->direct[i]];
				continue;
			}
			if (s->cx && s->cached[i]) {
				v = s->val[i];
			} else if (s->textcol[i] != SIZE_MAX && quick_col(s, s->textcol[i], &v)) {
				/* v read */
			} else if ((st = fv_expr_eval(s->vx[i], &s->env, &v, &f)) != FV_EXPR_OK) {
				e = report(s, SUBJ_VAR, i, st, &f, d);
				goto fail;
			}
			if ((e = to_float(s, i, v, &x[n * s->nvars + i], d)) != FV_OK)
				goto fail;
		}
		if (!s->lx) {
			y[n++] = 0;
			s->records++;
			continue;
		}
		if (!(s->labcol != SIZE_MAX && quick_col(s, s->labcol, &v)) &&
		    (st = fv_expr_eval(s->lx, &s->env, &v, &f)) != FV_EXPR_OK) {
			e = report(s, SUBJ_LABEL, 0, st, &f, d);
			goto fail;
		}
		uint32_t k = s->lab.classes >= 3 ? s->lab.classes : 2;
		if (!(v >= 0.0 && v < (double)k && v == floor(v))) {
			char shown[SRC_VALUE_QUOTE + 8], what[48];
			size_t col;
			s->rows->ops->where(s->rows, where, sizeof(where));
			if (k == 2)
				fv_fmt(what, sizeof(what), "0 or 1");
			else
				fv_fmt(what, sizeof(what), "a class 0 to %u", (unsigned)k - 1);
			if (fv_expr_is_column(s->lx, &col))
				e = fv_diag_set(
				    d, FV_EINVAL, "%s: label (column '%s'): value '%s' is not %s",
				    where, s->rows->colnames[col],
				    fv_data_show_value(shown, sizeof(shown), field_text(s, col)),
				    what);
			else
				e = fv_diag_set(d, FV_EINVAL, "%s: label: result %.6g is not %s",
						where, v, what);
			goto fail;
		}
		y[n] = (uint8_t)v;
		n++;
		s->records++;
	}
	*got = n;
	return FV_OK;
fail:
	s->failed = true;
	return e;
}

fv_err fv_source_next_fields(struct fv_source *s, char ***fields, bool *eof, struct fv_diag *d)
{
	fv_err e;

	*eof = false;
	if (s->map || s->rows->nnum)
		return fv_diag_set(d, FV_ESTATE,
				   "unmapped reading needs a text source opened without a mapping");
	if (s->failed)
		return fv_diag_set(d, FV_ESTATE, "source failed earlier");
	s->started = true;
	if ((e = s->rows->ops->next(s->rows, fields, eof, d)) != FV_OK)
		goto fail;
	if (*eof)
		return FV_OK;
	if (s->records >= FV_MAX_ROWS) {
		e = fv_diag_set(d, FV_ELIMIT, "more than %u records", (unsigned)FV_MAX_ROWS);
		goto fail;
	}
	s->records++;
	return FV_OK;
fail:
	s->failed = true;
	return e;
}

void fv_source_where(struct fv_source *s, char *buf, size_t cap)
{
	s->rows->ops->where(s->rows, buf, cap);
}

long fv_source_find(const struct fv_source *s, const char *name)
{
	return find_col(s->rows, name);
}

bool fv_source_is_na(struct fv_source *s, const char *field)
{
	return !field || s->rows->ops->is_na(s->rows, field);
}

fv_err fv_source_parse_number(struct fv_source *s, const char *field, double *out,
			      struct fv_diag *d)
{
	if (!field)
		return fv_diag_set(d, FV_EINVAL, "missing");
	return s->rows->ops->parse(s->rows, field, out, d);
}

uint64_t fv_source_records(const struct fv_source *s)
{
	return s->records;
}

uint64_t fv_source_excluded(const struct fv_source *s)
{
	return s->excluded;
}

double fv_source_progress(const struct fv_source *s)
{
	return s->rows->ops->progress(s->rows);
}

size_t fv_source_ncols(const struct fv_source *s)
{
	return s->rows->ncols;
}

const char *fv_source_colname(const struct fv_source *s, size_t i)
{
	return i < s->rows->ncols ? s->rows->colnames[i] : NULL;
}

void fv_source_close(struct fv_source *s)
{
	if (!s)
		return;
	if (s->rows)
		s->rows->ops->close(s->rows);
	for (size_t i = 0; s->vx && i < s->nvars; i++)
		fv_expr_free(s->vx[i]);
	fv_free(s->vx);
	fv_free(s->direct);
	fv_free(s->textcol);
	fv_expr_free(s->lx);
	fv_expr_free(s->cx);
	fv_free(s->val);
	fv_free(s->cached);
	fv_free(s);
}
