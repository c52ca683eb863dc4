/* fedval: a CSV file read into a dataset through a site's mapping of benchmark variables to
 * local columns.
 *
 * Contract
 *   - Every mapped variable must be a finite number in every record; an NA token, an empty
 *     field, text, inf/nan or a value outside the range of a float is an error naming the
 *     variable, its column, the line and (at most 40 bytes of) the value. Imputation, if a
 *     benchmark ever allows it, belongs to a layer above this one.
 *   - The label must be a number equal to 0 or 1 ("1", "0", "1.0", "0,00" with decimal ',').
 *   - Unmapped columns are read (they must still be well-formed CSV) and ignored.
 *   - Rows are kept in memory: arrays grow geometrically, at most FV_MAX_ROWS rows. */
#include "fedval/data.h"

#include <float.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"

/* Bytes of a record value quoted in an error message: enough to recognise it, too few to
 * carry much of a record. */
#define DS_VALUE_QUOTE 40
/* Rows allocated at first; doubled from there. */
#define DS_INITIAL_ROWS 1024

/* Copy at most DS_VALUE_QUOTE bytes of v into buf (cap >= DS_VALUE_QUOTE + 4), cut on a UTF-8
 * character boundary, control characters shown as '?', "..." appended when cut. */
static const char *ds_show_value(char *buf, size_t cap, const char *v)
{
	size_t n = strlen(v), keep = n, i;

	if (keep > DS_VALUE_QUOTE) {
		keep = DS_VALUE_QUOTE;
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

static fv_err ds_check_mapping(const struct fv_mapping *map, struct fv_diag *d)
{
	fv_err e = FV_OK;
	size_t i, j;

	if (!map || !map->vars || !map->columns || !map->label_column) {
		e = fv_diag_set(d, FV_EINVAL, "mapping: variables, columns and label are required");
		goto out;
	}
	if (map->nvars == 0 || map->nvars > FV_MAX_FEATURES) {
		e = fv_diag_set(d, FV_EINVAL, "mapping: %zu variables (1 to %u allowed)",
				map->nvars, (unsigned)FV_MAX_FEATURES);
		goto out;
	}
	for (i = 0; i < map->nvars; i++) {
		if (!map->vars[i] || !map->columns[i]) {
			e = fv_diag_set(d, FV_EINVAL, "mapping: variable %zu has no name or column",
					i + 1);
			goto out;
		}
		/* The label fed to the model as a predictor would make any model look perfect. */
		if (strcmp(map->columns[i], map->label_column) == 0) {
			e = fv_diag_set(d, FV_EINVAL,
					"mapping: variable '%s' reads column '%s', which is the "
					"label column",
					map->vars[i], map->columns[i]);
			goto out;
		}
	}
	/* Quadratic, but nvars <= FV_MAX_FEATURES and this runs once per file. */
	for (i = 0; i < map->nvars; i++)
		for (j = i + 1; j < map->nvars; j++)
			if (strcmp(map->vars[i], map->vars[j]) == 0) {
				e = fv_diag_set(d, FV_EINVAL,
						"mapping: variable '%s' appears twice",
						map->vars[i]);
				goto out;
			}
out:
	return e;
}

/* Make room for one more row. */
static fv_err ds_grow(size_t nvars, size_t *cap, float **x, uint8_t **y)
{
	size_t ncap, xbytes;
	float *nx;
	uint8_t *ny;
	fv_err e = FV_OK;

	ncap = *cap ? *cap : DS_INITIAL_ROWS;
	if (*cap && fv_mul_overflow(*cap, 2, &ncap)) {
		e = FV_ENOMEM;
		goto out;
	}
	if (ncap > FV_MAX_ROWS)
		ncap = FV_MAX_ROWS;
	if (fv_mul_overflow(ncap, nvars, &xbytes) ||
	    fv_mul_overflow(xbytes, sizeof(float), &xbytes)) {
		e = FV_ENOMEM;
		goto out;
	}
	nx = fv_realloc(*x, xbytes);
	if (!nx) {
		e = FV_ENOMEM;
		goto out;
	}
	*x = nx;
	ny = fv_realloc(*y, ncap);
	if (!ny) {
		e = FV_ENOMEM;
		goto out;
	}
	*y = ny;
	*cap = ncap;
out:
	return e;
}

fv_err fv_data_read_csv(const char *path, const struct fv_csv_opts *opts,
			const struct fv_mapping *map, struct fv_dataset *out, struct fv_diag *d)
{
	char shown[DS_VALUE_QUOTE + 8];
	struct fv_diag why;
	struct fv_csv *c = NULL;
	size_t *col = NULL;
	size_t label_col = 0, n = 0, cap = 0, i, nvars = 0;
	float *x = NULL;
	uint8_t *y = NULL;
	char **f;
	bool eof;
	fv_err e = FV_OK;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !out) {
		e = fv_diag_set(d, FV_EINVAL, "fv_data_read_csv: path and out are required");
		goto fail;
	}
	if ((e = ds_check_mapping(map, d)) != FV_OK)
		goto fail;
	nvars = map->nvars;
	if ((e = fv_csv_open(path, opts, &c, d)) != FV_OK)
		goto fail;
	col = fv_calloc(nvars, sizeof(*col));
	if (!col) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < nvars; i++) {
		long k = fv_csv_find(c, map->columns[i]);
		if (k < 0) {
			e = fv_diag_set(d, FV_EINVAL,
					"variable '%s': column '%s' is not in the header",
					map->vars[i], map->columns[i]);
			goto fail;
		}
		col[i] = (size_t)k;
	}
	{
		long k = fv_csv_find(c, map->label_column);
		if (k < 0) {
			e = fv_diag_set(d, FV_EINVAL, "label: column '%s' is not in the header",
					map->label_column);
			goto fail;
		}
		label_col = (size_t)k;
	}

	for (;;) {
		float *row;
		double v;
		unsigned long long line;

		if ((e = fv_csv_next(c, &f, &eof, d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		line = (unsigned long long)fv_csv_line(c);
		if (n == FV_MAX_ROWS) {
			e = fv_diag_set(d, FV_ELIMIT, "line %llu: more than %u rows", line,
					(unsigned)FV_MAX_ROWS);
			goto fail;
		}
		if (n == cap && (e = ds_grow(nvars, &cap, &x, &y)) != FV_OK) {
			e = fv_diag_set(d, e, "line %llu: out of memory for %zu rows", line, n + 1);
			goto fail;
		}
		row = x + n * nvars;
		for (i = 0; i < nvars; i++) {
			const char *s = f[col[i]];
			if (fv_csv_is_na(c, s)) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: variable '%s' (column '%s'): value "
						"'%s' is missing",
						line, map->vars[i], map->columns[i],
						ds_show_value(shown, sizeof(shown), s));
				goto fail;
			}
			if (fv_csv_parse_double(c, s, &v, &why) != FV_OK) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: variable '%s' (column '%s'): value "
						"'%s' is %s",
						line, map->vars[i], map->columns[i],
						ds_show_value(shown, sizeof(shown), s), why.msg);
				goto fail;
			}
			/* Finite as a double but infinite as the float the model reads. */
			if (v > FLT_MAX || v < -FLT_MAX) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: variable '%s' (column '%s'): value "
						"'%s' is out of range for a 32-bit float",
						line, map->vars[i], map->columns[i],
						ds_show_value(shown, sizeof(shown), s));
				goto fail;
			}
			row[i] = (float)v;
		}
		{
			const char *s = f[label_col];
			if (fv_csv_is_na(c, s)) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: label (column '%s'): value '%s' is "
						"missing",
						line, map->label_column,
						ds_show_value(shown, sizeof(shown), s));
				goto fail;
			}
			if (fv_csv_parse_double(c, s, &v, &why) != FV_OK ||
			    (v != 0.0 && v != 1.0)) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: label (column '%s'): value '%s' is not "
						"0 or 1",
						line, map->label_column,
						ds_show_value(shown, sizeof(shown), s));
				goto fail;
			}
			y[n] = v == 1.0;
		}
		n++;
	}
	out->n = n;
	out->nvars = nvars;
	out->x = x;
	out->y = y;
	x = NULL;
	y = NULL;
	goto done;
fail:
	/* fv_csv_open names the path itself when the file cannot be opened. */
	if (path && d && strncmp(d->msg, path, strlen(path)) != 0)
		fv_diag_prefix(d, "%s: ", path);
done:
	fv_free(x);
	fv_free(y);
	fv_free(col);
	fv_csv_close(c);
	return e;
}

void fv_dataset_fini(struct fv_dataset *ds)
{
	if (!ds)
		return;
	fv_free(ds->x);
	fv_free(ds->y);
	memset(ds, 0, sizeof(*ds));
}
