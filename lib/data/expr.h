/* fedval data, internal: the small expression language of a site's variable mapping and of a
 * benchmark's cohort rule (docs/mapping.md has the grammar, the functions and the units).
 *
 * An expression is parsed once against the names it may read (the source's columns, and for a
 * cohort rule the benchmark's variables) into a flat tree, then evaluated once per record with
 * no allocation. Parsing refuses anything outside the grammar or the limits below; evaluation
 * never reads outside the record it is given.
 *
 * Thread-safety: a parsed expression is immutable; any number of threads may evaluate it at
 * once with their own environments. */
#ifndef FEDVAL_DATA_EXPR_H
#define FEDVAL_DATA_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

struct fv_rows;

/* ---- limits on hostile or mistaken input (candidates for include/fedval/limits.h) ---- */
/* Bytes of one expression: a mapping is a line of a config file, not a program. */
#define FV_EXPR_MAX_LEN 4096
/* Nesting (parentheses, calls, unary operators) and depth of the parsed tree: bounds the
 * recursion of the parser and of the evaluator, so the stack a record costs is fixed. */
#define FV_EXPR_MAX_DEPTH 64
/* Nodes of one parsed tree (each recode case counts as one): bounds per-record work. */
#define FV_EXPR_MAX_NODES 1024
/* Bytes of a name or a text literal: longer than any real column name or category label. */
#define FV_EXPR_MAX_NAME 256
/* Arguments of min()/max() and cases of one recode(). */
#define FV_EXPR_MAX_ARGS 128

/* The names an expression may read. A name is looked up among vars first (a cohort rule reads
 * the benchmark's variables after mapping), then among cols (the source's columns). */
struct fv_expr_names {
	size_t ncols;
	const char *const *cols;
	size_t nvars;
	const char *const *vars;
	const char *cols_where; /* for "column 'x' is not in <the header>"; NULL: "the source" */
};

struct fv_expr;

/* Parse len bytes of src (a NUL byte among them is refused, as is any other control character
 * but blanks). On failure *errpos is the byte offset the message in d refers to; codes are
 * FV_EINVAL (syntax, unknown name, function, unit or analyte), FV_ELIMIT (a limit above) and
 * FV_ENOMEM. The expression keeps no pointer into src or names. */
fv_err fv_expr_parse(const char *src, size_t len, const struct fv_expr_names *names,
		     struct fv_expr **out, size_t *errpos, struct fv_diag *d);
void fv_expr_free(struct fv_expr *e);
/* The expression reading column col and nothing else (a mapping value that is exactly a column's
 * name, whatever characters the name holds). */
fv_err fv_expr_new_column(size_t col, struct fv_expr **out, struct fv_diag *d);

/* The expression is one column and nothing else; *col is its index. */
bool fv_expr_is_column(const struct fv_expr *e, size_t *col);
/* Set cols[i] (ncols bytes) / vars[i] (nvars bytes) to 1 for every column / variable the
 * expression may read; either array may be NULL. */
void fv_expr_mark(const struct fv_expr *e, uint8_t *cols, uint8_t *vars);

/* Outcome of one evaluation. */
enum fv_expr_status {
	FV_EXPR_OK = 0,
	FV_EXPR_MISSING, /* a value it needs is missing (and no isna() asked about it) */
	FV_EXPR_FAIL	 /* a value is unusable, or the arithmetic failed */
};

/* What went wrong, for the caller's message. Pointers are valid until the next record. */
struct fv_expr_fault {
	const char *why;   /* "is missing", "is not a date (YYYY-MM-DD)", "division by zero", ... */
	char reason[64];   /* the source's own reason when a number would not parse (else "") */
	long col;	   /* column whose value is at fault, or -1 */
	long var;	   /* variable (cohort rule) whose value is at fault, or -1 */
	const char *value; /* that column's text in the record (NULL for SQL NULL) */
	bool has_num;	   /* num holds the computed number at fault (log(-1): -1) */
	double num;
	size_t pos; /* byte offset in the expression of the operation at fault */
};

/* Where an evaluation reads its names. var() is called for a variable of a cohort rule (it may
 * be NULL when the expression reads none); it returns a status and fills f like the evaluator
 * does, and is called at most once per variable and evaluation when the caller caches. */
struct fv_expr_env {
	struct fv_rows *rows; /* the cursor: its NA tokens and number syntax */
	char **fields;	      /* the current record, its text fields (NULL: SQL NULL) */
	enum fv_expr_status (*var)(void *ctx, size_t var, double *out, struct fv_expr_fault *f);
	void *ctx;
	const float *num; /* its numeric columns when rows->nnum > 0 (source_int.h) */
};

/* Evaluate e on the current record. On FV_EXPR_OK *out is a finite number. */
enum fv_expr_status fv_expr_eval(const struct fv_expr *e, const struct fv_expr_env *env,
				 double *out, struct fv_expr_fault *f);

/* Days since 1970-01-01 of an ISO date "YYYY-MM-DD" (blanks around it, and a time of day after
 * 'T' or ' ' -- "hh:mm", "hh:mm:ss", "hh:mm:ss.fff" -- are allowed; the time is ignored). Years
 * 1..9999. False if s is not such a date. */
bool fv_expr_parse_date(const char *s, double *days);

/* Write src (len bytes) with a caret under byte pos into buf, on two lines each indented by two
 * spaces; a long expression is cut to a window around pos, control bytes show as '?'. */
void fv_expr_caret(char *buf, size_t cap, const char *src, size_t len, size_t pos);

#endif
