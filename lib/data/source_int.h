/* fedval data sources, internal: every source (CSV, SQLite, PostgreSQL, ...) is a cursor over
 * records whose fields are text, by column index. lib/data/source.c maps those fields to the
 * benchmark's variables with one set of checks and messages for all sources.
 *
 * A cursor may end its columns with nnum numeric columns (an image's pixels): those have no
 * text; ops->numbers gives their values for the current record as floats, so that thousands of
 * pixels per record are not printed and parsed back. */
#ifndef FEDVAL_DATA_SOURCE_INT_H
#define FEDVAL_DATA_SOURCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/data.h"

struct fv_rows;

struct fv_rows_ops {
	/* Next record: *fields points at ncols NUL-terminated strings owned by the cursor, valid
	 * until the next call; a SQL NULL is returned as NULL. *eof at the end. */
	fv_err (*next)(struct fv_rows *r, char ***fields, bool *eof, struct fv_diag *d);
	/* Where the last record came from, for messages: "line 12", "row 12". */
	void (*where)(struct fv_rows *r, char *buf, size_t cap);
	/* Whether a (non-NULL) field is a missing-value token of this source. */
	bool (*is_na)(struct fv_rows *r, const char *field);
	/* Convert a field to a number (FV_EINVAL with a short reason in d). */
	fv_err (*parse)(struct fv_rows *r, const char *field, double *out, struct fv_diag *d);
	/* Fraction of the input consumed so far in [0, 1], or -1 when unknown (for an ETA). */
	double (*progress)(struct fv_rows *r);
	void (*close)(struct fv_rows *r);
	/* Only when nnum > 0: the current record's numeric columns, nnum finite floats for columns
	 * ncols - nnum .. ncols - 1, owned by the cursor and valid until the next call of next. */
	const float *(*numbers)(struct fv_rows *r);
	/* Optional, a shortcut for the common field: true with *out when the field is a number
	 * and no missing-value token, exactly as is_na + parse would say; false when unsure (the
	 * caller then asks is_na and parse). NULL: always ask them. */
	bool (*try_number)(struct fv_rows *r, const char *field, double *out);
};

/* Every cursor begins with this header. */
struct fv_rows {
	const struct fv_rows_ops *ops;
	size_t ncols;
	char **colnames; /* ncols names, owned by the cursor */
	/* The last nnum columns are numeric (ops->numbers); next hands out text fields for the
	 * first ncols - nnum columns only. 0 for every text source. */
	size_t nnum;
};

/* Openers, one per source kind (source_csv.c, source_sqlite.c, source_pg.c,
 * source_images.c). */
fv_err fv_rows_open_csv(const struct fv_source_spec *spec, struct fv_rows **out, struct fv_diag *d);
fv_err fv_rows_open_sqlite(const struct fv_source_spec *spec, struct fv_rows **out,
			   struct fv_diag *d);
fv_err fv_rows_open_pg(const struct fv_source_spec *spec, struct fv_rows **out, struct fv_diag *d);
fv_err fv_rows_open_images(const struct fv_source_spec *spec, struct fv_rows **out,
			   struct fv_diag *d);

/* Whether column col of r is numeric (read through ops->numbers, never as text). */
static inline bool fv_rows_is_num(const struct fv_rows *r, size_t col)
{
	return r->nnum && col >= r->ncols - r->nnum;
}

/* What messages show instead of the value of a numeric column: pixel values are never
 * quoted. */
#define FV_ROWS_NUM_SHOWN "(pixel)"

/* Shared by the SQL sources: a plain decimal number ("1", "-2.5", "1e-3"); no inf/nan/hex. */
fv_err fv_rows_parse_decimal(const char *field, double *out, struct fv_diag *d);

/* A mapping is well formed: 1..FV_MAX_FEATURES distinct variables, none read from the label
 * column. */
fv_err fv_data_check_mapping(const struct fv_mapping *map, struct fv_diag *d);

#endif
