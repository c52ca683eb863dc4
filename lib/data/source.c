/* fedval: records of any source mapped to a benchmark's variables.
 *
 * Contract (the same for every source kind)
 *   - Every mapped variable must be a finite number in every record; a missing value (SQL
 *     NULL, a CSV NA token), text, inf/nan or a value outside the range of a float is an error
 *     naming the variable, its column, the record ("line 12", "row 12") and at most 40 bytes
 *     of the value. Such messages are for the local operator: a node never sends them out.
 *   - The label must be a number equal to 0 or 1.
 *   - Unmapped columns are read and ignored.
 *   - Records are handed out in batches; nothing holds the whole dataset. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "source_int.h"

/* Bytes of a record value quoted in an error message: enough to recognise it, too few to
 * carry much of a record. */
#define SRC_VALUE_QUOTE 40

struct fv_source {
	struct fv_rows *rows;
	size_t nvars;
	size_t *col; /* column of each variable */
	size_t label_col;
	const struct fv_mapping *map;
	uint64_t records;
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

fv_err fv_data_check_mapping(const struct fv_mapping *map, struct fv_diag *d)
{
	size_t i, j;

	if (!map || !map->vars || !map->columns || !map->label_column)
		return fv_diag_set(d, FV_EINVAL, "mapping: variables, columns and label are required");
	if (map->nvars == 0 || map->nvars > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL, "mapping: %zu variables (1 to %u allowed)",
				   map->nvars, (unsigned)FV_MAX_FEATURES);
	for (i = 0; i < map->nvars; i++) {
		if (!map->vars[i] || !map->columns[i])
			return fv_diag_set(d, FV_EINVAL, "mapping: variable %zu has no name or column",
					   i + 1);
		/* The label fed to the model as a predictor would make any model look perfect. */
		if (strcmp(map->columns[i], map->label_column) == 0)
			return fv_diag_set(d, FV_EINVAL,
					   "mapping: variable '%s' reads column '%s', which is the "
					   "label column",
					   map->vars[i], map->columns[i]);
	}
	/* Quadratic, but nvars <= FV_MAX_FEATURES and this runs once per source. */
	for (i = 0; i < map->nvars; i++)
		for (j = i + 1; j < map->nvars; j++)
			if (strcmp(map->vars[i], map->vars[j]) == 0)
				return fv_diag_set(d, FV_EINVAL, "mapping: variable '%s' appears twice",
						   map->vars[i]);
	return FV_OK;
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

fv_err fv_source_open(const struct fv_source_spec *spec, const struct fv_mapping *map,
		      struct fv_source **out, struct fv_diag *d)
{
	struct fv_source *s = fv_calloc(1, sizeof(*s));
	fv_err e;

	*out = NULL;
	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (map && (e = fv_data_check_mapping(map, d)) != FV_OK)
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
	default:
		e = fv_diag_set(d, FV_EINVAL, "unknown source kind %d", (int)spec->kind);
	}
	if (e != FV_OK)
		goto fail;
	s->map = map;
	if (map) {
		const char *where = spec->kind == FV_SOURCE_CSV ? "header" : "source's columns";
		long k;
		s->nvars = map->nvars;
		if (!(s->col = fv_calloc(map->nvars, sizeof(*s->col)))) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < map->nvars; i++) {
			if ((k = find_col(s->rows, map->columns[i])) < 0) {
				e = fv_diag_set(d, FV_EINVAL,
						"variable '%s': column '%s' is not in the %s",
						map->vars[i], map->columns[i], where);
				goto fail;
			}
			s->col[i] = (size_t)k;
		}
		if ((k = find_col(s->rows, map->label_column)) < 0) {
			e = fv_diag_set(d, FV_EINVAL, "label: column '%s' is not in the %s",
					map->label_column, where);
			goto fail;
		}
		s->label_col = (size_t)k;
	}
	*out = s;
	return FV_OK;
fail:
	fv_source_close(s);
	return e;
}

/* One value of a variable (label == false) or of the label. */
static fv_err convert(struct fv_source *s, const char *field, const char *var,
		      const char *column, bool label, double *v, struct fv_diag *d)
{
	char where[64], shown[SRC_VALUE_QUOTE + 8];
	struct fv_diag why = {{0}};
	const char *what;

	if (!field || s->rows->ops->is_na(s->rows, field)) {
		what = "is missing";
		goto bad;
	}
	if (s->rows->ops->parse(s->rows, field, v, &why) != FV_OK) {
		what = why.msg;
		goto bad;
	}
	if (label && *v != 0.0 && *v != 1.0) {
		what = "is not 0 or 1";
		goto bad;
	}
	/* Finite as a double but infinite as the float the model reads. */
	if (*v > FLT_MAX || *v < -FLT_MAX) {
		what = "is out of range for a 32-bit float";
		goto bad;
	}
	return FV_OK;
bad:
	s->rows->ops->where(s->rows, where, sizeof(where));
	if (label)
		return fv_diag_set(d, FV_EINVAL, "%s: label (column '%s'): value '%s' %s%s", where,
				   column, fv_data_show_value(shown, sizeof(shown), field ? field : ""),
				   label && what == why.msg ? "is " : "",
				   label && what == why.msg ? "not 0 or 1" : what);
	return fv_diag_set(d, FV_EINVAL, "%s: variable '%s' (column '%s'): value '%s' %s%s", where,
			   var, column, fv_data_show_value(shown, sizeof(shown), field ? field : ""),
			   what == why.msg ? "is " : "", what);
}

fv_err fv_source_read(struct fv_source *s, float *x, uint8_t *y, size_t cap, size_t *got,
		      struct fv_diag *d)
{
	const struct fv_mapping *map = s->map;
	size_t n = 0;
	fv_err e = FV_OK;

	*got = 0;
	if (!map)
		return fv_diag_set(d, FV_ESTATE, "source opened without a mapping");
	if (s->failed)
		return fv_diag_set(d, FV_ESTATE, "source failed earlier");
	while (n < cap) {
		char **f = NULL;
		bool eof = false;
		double v;
		if ((e = s->rows->ops->next(s->rows, &f, &eof, d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		if (s->records >= FV_MAX_ROWS) {
			e = fv_diag_set(d, FV_ELIMIT, "more than %u records", (unsigned)FV_MAX_ROWS);
			goto fail;
		}
		for (size_t i = 0; i < s->nvars; i++) {
			if ((e = convert(s, f[s->col[i]], map->vars[i], map->columns[i], false, &v,
					 d)) != FV_OK)
				goto fail;
			x[n * s->nvars + i] = (float)v;
		}
		if ((e = convert(s, f[s->label_col], NULL, map->label_column, true, &v, d)) != FV_OK)
			goto fail;
		y[n] = v == 1.0;
		n++;
		s->records++;
	}
	*got = n;
	return FV_OK;
fail:
	s->failed = true;
	return e;
}

uint64_t fv_source_records(const struct fv_source *s)
{
	return s->records;
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
	fv_free(s->col);
	fv_free(s);
}
