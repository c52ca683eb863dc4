/* fedval data source: a CSV export (RFC 4180, lib/data/csv.c) as a record cursor. */
#include <stdio.h>
#include <string.h>

#include "csv_int.h"
#include "fedval/util.h"
#include "source_int.h"

struct rows_csv {
	struct fv_rows base;
	struct fv_csv *c;
};

static fv_err csv_next(struct fv_rows *r, char ***fields, bool *eof, struct fv_diag *d)
{
	return fv_csv_next(((struct rows_csv *)r)->c, fields, eof, d);
}

static void csv_where(struct fv_rows *r, char *buf, size_t cap)
{
	fv_fmt(buf, cap, "line %llu", (unsigned long long)fv_csv_line(((struct rows_csv *)r)->c));
}

static bool csv_is_na(struct fv_rows *r, const char *field)
{
	return fv_csv_is_na(((struct rows_csv *)r)->c, field);
}

static fv_err csv_parse(struct fv_rows *r, const char *field, double *out, struct fv_diag *d)
{
	return fv_csv_parse_double(((struct rows_csv *)r)->c, field, out, d);
}

static bool csv_try_number(struct fv_rows *r, const char *field, double *out)
{
	return fv_csv_try_number(((struct rows_csv *)r)->c, field, out);
}

static double csv_progress(struct fv_rows *r)
{
	return fv_csv_progress(((struct rows_csv *)r)->c);
}

static void csv_close(struct fv_rows *r)
{
	struct rows_csv *rc = (struct rows_csv *)r;
	fv_csv_close(rc->c);
	fv_free(rc->base.colnames);
	fv_free(rc);
}

static const struct fv_rows_ops csv_ops = {csv_next,	 csv_where, csv_is_na, csv_parse,
					   csv_progress, csv_close, NULL,      csv_try_number};

fv_err fv_rows_open_csv(const struct fv_source_spec *spec, struct fv_rows **out, struct fv_diag *d)
{
	struct rows_csv *rc = fv_calloc(1, sizeof(*rc));
	fv_err e;

	if (!rc)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	rc->base.ops = &csv_ops;
	if ((e = fv_csv_open(spec->path, &spec->csv, &rc->c, d)) != FV_OK)
		goto fail;
	if (spec->range_end && (e = fv_csv_set_range(rc->c, spec->range_start, spec->range_end,
						     spec->range_line, d)) != FV_OK)
		goto fail;
	rc->base.ncols = fv_csv_ncols(rc->c);
	if (!(rc->base.colnames = fv_calloc(rc->base.ncols, sizeof(char *)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	/* Names are owned by the CSV reader; only the array is ours. */
	for (size_t i = 0; i < rc->base.ncols; i++)
		rc->base.colnames[i] = (char *)fv_csv_colname(rc->c, i);
	*out = &rc->base;
	return FV_OK;
fail:
	csv_close(&rc->base);
	return e;
}
