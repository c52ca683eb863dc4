/* fedval data source: a SQLite database file, opened read-only (SQLITE_OPEN_READONLY plus
 * PRAGMA query_only), read with one table scan or one SELECT, stepped row by row. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fedval/util.h"
#include "source_int.h"

struct rows_sqlite {
	struct fv_rows base;
	sqlite3 *db;
	sqlite3_stmt *st;
	char **fields;
	char **bufs; /* per column: a copy of the text of the current row */
	size_t *caps;
	uint64_t row;
	bool done;
};

static fv_err sq_next(struct fv_rows *r, char ***fields, bool *eof, struct fv_diag *d)
{
	struct rows_sqlite *s = (struct rows_sqlite *)r;
	int rc;

	*eof = false;
	if (s->done) {
		*eof = true;
		return FV_OK;
	}
	rc = sqlite3_step(s->st);
	if (rc == SQLITE_DONE) {
		s->done = true;
		*eof = true;
		return FV_OK;
	}
	if (rc != SQLITE_ROW)
		return fv_diag_set(d, FV_EIO, "row %llu: %s", (unsigned long long)s->row + 1,
				   sqlite3_errmsg(s->db));
	s->row++;
	for (size_t i = 0; i < s->base.ncols; i++) {
		const unsigned char *t;
		size_t n;
		if (sqlite3_column_type(s->st, (int)i) == SQLITE_NULL) {
			s->fields[i] = NULL;
			continue;
		}
		t = sqlite3_column_text(s->st, (int)i);
		n = (size_t)sqlite3_column_bytes(s->st, (int)i);
		if (!t)
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
		if (n + 1 > s->caps[i]) {
			char *nb = fv_realloc(s->bufs[i], n + 1);
			if (!nb)
				return fv_diag_set(d, FV_ENOMEM, "out of memory");
			s->bufs[i] = nb;
			s->caps[i] = n + 1;
		}
		memcpy(s->bufs[i], t, n);
		s->bufs[i][n] = '\0';
		s->fields[i] = s->bufs[i];
	}
	*fields = s->fields;
	return FV_OK;
}

static void sq_where(struct fv_rows *r, char *buf, size_t cap)
{
	fv_fmt(buf, cap, "row %llu", (unsigned long long)((struct rows_sqlite *)r)->row);
}

static bool sq_is_na(struct fv_rows *r, const char *field)
{
	(void)r;
	(void)field;
	return false; /* SQL NULL is the missing value */
}

static fv_err sq_parse(struct fv_rows *r, const char *field, double *out, struct fv_diag *d)
{
	(void)r;
	return fv_rows_parse_decimal(field, out, d);
}

static double sq_progress(struct fv_rows *r)
{
	(void)r;
	return -1;
}

static void sq_close(struct fv_rows *r)
{
	struct rows_sqlite *s = (struct rows_sqlite *)r;
	for (size_t i = 0; s->bufs && i < s->base.ncols; i++)
		fv_free(s->bufs[i]);
	for (size_t i = 0; s->base.colnames && i < s->base.ncols; i++)
		fv_free(s->base.colnames[i]);
	fv_free(s->base.colnames);
	fv_free(s->bufs);
	fv_free(s->caps);
	fv_free(s->fields);
	sqlite3_finalize(s->st);
	sqlite3_close(s->db);
	fv_free(s);
}

static const struct fv_rows_ops sqlite_ops = {sq_next,	   sq_where, sq_is_na, sq_parse,
					      sq_progress, sq_close, NULL,     NULL};

fv_err fv_rows_open_sqlite(const struct fv_source_spec *spec, struct fv_rows **out,
			   struct fv_diag *d)
{
	struct rows_sqlite *s = fv_calloc(1, sizeof(*s));
	char *sql = NULL;
	fv_err e = FV_OK;
	int n;

	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	s->base.ops = &sqlite_ops;
	if (!spec->path || (!spec->table == !spec->query)) {
		e = fv_diag_set(d, FV_EINVAL,
				"sqlite source needs path and exactly one of table or "
				"query");
		goto fail;
	}
	if (sqlite3_open_v2(spec->path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		e = fv_diag_set(d, FV_EIO, "%s: %s", spec->path,
				s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	/* Belt and braces: even a query that tries to write cannot. */
	sqlite3_exec(s->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if (spec->table)
		sql = sqlite3_mprintf("SELECT * FROM \"%w\"", spec->table);
	else
		sql = sqlite3_mprintf("%s", spec->query);
	if (!sql) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &s->st, NULL) != SQLITE_OK) {
		e = fv_diag_set(d, FV_EINVAL, "%s: %s", spec->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (!s->st) {
		e = fv_diag_set(d, FV_EINVAL, "%s: the query is empty", spec->path);
		goto fail;
	}
	if (!sqlite3_stmt_readonly(s->st)) {
		e = fv_diag_set(d, FV_EREFUSED, "%s: the query would write; only SELECT is allowed",
				spec->path);
		goto fail;
	}
	n = sqlite3_column_count(s->st);
	if (n <= 0) {
		e = fv_diag_set(d, FV_EINVAL, "%s: the query returns no columns", spec->path);
		goto fail;
	}
	s->base.ncols = (size_t)n;
	s->base.colnames = fv_calloc((size_t)n, sizeof(char *));
	s->bufs = fv_calloc((size_t)n, sizeof(char *));
	s->caps = fv_calloc((size_t)n, sizeof(size_t));
	s->fields = fv_calloc((size_t)n, sizeof(char *));
	if (!s->base.colnames || !s->bufs || !s->caps || !s->fields) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(s->st, i);
		if (!(s->base.colnames[i] = fv_strdup(name ? name : ""))) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto fail;
		}
	}
	sqlite3_free(sql);
	*out = &s->base;
	return FV_OK;
fail:
	sqlite3_free(sql);
	sq_close(&s->base);
	return e;
}
