/* fedval data source: a PostgreSQL query through libpq, read-only and streamed.
 *
 * What runs on the server, in this order, on one connection:
 *   SET default_transaction_read_only = on; SET extra_float_digits = 3;
 *   SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD';
 *   START TRANSACTION READ ONLY ISOLATION LEVEL REPEATABLE READ;
 *   <the query>, or SELECT * FROM "schema"."table"    (one statement, extended protocol)
 *   ROLLBACK                                           (at close, after a cancel if needed)
 *
 * Contract
 *   - The query is sent with the extended protocol, which accepts exactly one statement, so
 *     "SELECT 1; COMMIT; ..." cannot leave the read-only transaction. A write (including a
 *     data-modifying CTE or a volatile function that writes) fails with SQLSTATE 25006 and is
 *     reported as FV_EREFUSED. The read-only transaction is a guard, not a permission system:
 *     the role in the conninfo should itself hold only SELECT (docs/data-sources.md).
 *   - Rows are streamed in libpq's single-row mode: the client holds one row at a time, and
 *     the server blocks on the socket while the caller is busy, so memory stays bounded
 *     whatever the result size. No statement_timeout is set: a stream of 50M rows is one
 *     statement. The server's or role's own timeouts apply.
 *   - Fields are libpq's text output. SQL NULL is the only missing value (is_na is false);
 *     booleans arrive as "t"/"f" and fv_rows_parse_decimal reads them as 1/0; float8 text
 *     is exact (extra_float_digits = 3 gives round-trip output on every server version).
 *   - Codes: FV_EIO for a connection that fails or is lost (server killed mid-stream
 *     included), FV_EINVAL for a bad spec, conninfo or query, FV_ENOTFOUND for a missing
 *     table/view/schema, FV_EAUTH for a missing privilege, FV_EREFUSED for a write,
 *     FV_ETIMEDOUT for a server-side timeout or cancel. Messages name the database, user and
 *     host, and carry the server's message and SQLSTATE; they never include the password
 *     (a malformed conninfo is reported without libpq's detail, which may quote it). */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "fedval/util.h"
#include "source_int.h"

/* Tuning used unless the conninfo sets its own: give up on an unreachable server after
 * 10 s, and notice a silently dead peer on TCP after about a minute of silence. */
static const char *const pg_default_keys[] = {
    "fallback_application_name", "connect_timeout",	"keepalives",
    "keepalives_idle",		 "keepalives_interval", "keepalives_count"};
static const char *const pg_default_vals[] = {"fedval", "10", "1", "30", "10", "3"};
#define PG_NDEFAULTS (sizeof(pg_default_keys) / sizeof(pg_default_keys[0]))

static const char pg_setup_sql[] = "SET default_transaction_read_only = on; "
				   "SET extra_float_digits = 3; "
				   "SET client_encoding = 'UTF8'; "
				   "SET DateStyle = 'ISO, YMD'; "
				   "START TRANSACTION READ ONLY ISOLATION LEVEL REPEATABLE READ";

struct rows_pg {
	struct fv_rows base;
	PGconn *conn;
	PGresult *cur; /* the row last handed out (or held from open), or NULL */
	char **fields; /* ncols pointers into cur */
	uint64_t row;  /* rows handed out so far */
	bool pending;  /* cur holds the first row, read at open, not handed out yet */
	bool in_query; /* results of the query are still arriving on conn */
	bool done;     /* the query completed; next() reports eof */
	fv_err failed; /* sticky error of next() */
	char who[192]; /* "db=x user=y host=z" for messages */
};

/* Copy a libpq message into buf on one line: newlines and tabs become single spaces. */
static const char *pg_oneline(char *buf, size_t cap, const char *msg)
{
	size_t n = 0;
	bool space = false;

	if (!msg)
		msg = "";
	for (const char *p = msg; *p && n + 1 < cap; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < cap)
			buf[n++] = ' ';
		space = false;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

/* Server notices (e.g. "there is no transaction in progress") may quote data: not printed. */
static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void pg_set_who(struct rows_pg *s)
{
	const char *db = PQdb(s->conn), *user = PQuser(s->conn), *host = PQhost(s->conn);
	const char *port = PQport(s->conn);

	fv_fmt(s->who, sizeof(s->who), "db=%s user=%s host=%s port=%s", db && *db ? db : "?",
	       user && *user ? user : "?", host && *host ? host : "(default)",
	       port && *port ? port : "(default)");
}

/* Discard every result still pending on the connection. */
static void pg_drain(struct rows_pg *s)
{
	PGresult *res;

	while ((res = PQgetResult(s->conn)))
		PQclear(res);
	s->in_query = false;
}

/* Code for a SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
static fv_err pg_code(const char *st)
{
	if (!st || strlen(st) != 5)
		return FV_EIO;
	if (!strcmp(st, "25006")) /* read_only_sql_transaction */
		return FV_EREFUSED;
	if (!strcmp(st, "42P01") || !strcmp(st, "3F000") || !strcmp(st, "42883"))
		return FV_ENOTFOUND; /* undefined table, schema, function */
	if (!strcmp(st, "42501"))    /* insufficient_privilege */
		return FV_EAUTH;
	if (!strcmp(st, "57014")) /* query_canceled (statement_timeout included) */
		return FV_ETIMEDOUT;
	/* Connection exception, operator intervention (shutdown), resources, system errors. */
	if (!strncmp(st, "08", 2) || !strncmp(st, "57", 2) || !strncmp(st, "53", 2) ||
	    !strncmp(st, "58", 2) || !strncmp(st, "XX", 2))
		return FV_EIO;
	return FV_EINVAL;
}

/* Turn a failed result (res may be NULL) into a code and a message; frees res and drains. */
static fv_err pg_fail(struct rows_pg *s, PGresult *res, const char *what, struct fv_diag *d)
{
	char msg[320];
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	fv_err e = pg_code(st);

	if (prim)
		pg_oneline(msg, sizeof(msg), prim);
	else if (res && *PQresultErrorMessage(res))
		pg_oneline(msg, sizeof(msg), PQresultErrorMessage(res));
	else
		pg_oneline(msg, sizeof(msg), PQerrorMessage(s->conn));
	if (PQstatus(s->conn) == CONNECTION_BAD) {
		e = FV_EIO;
		fv_diag_set(d, e, "postgres %s: %s: connection to the server lost: %s%s%s%s",
			    s->who, what, msg, st ? " [SQLSTATE " : "", st ? st : "",
			    st ? "]" : "");
	} else {
		fv_diag_set(d, e, "postgres %s: %s: %s%s%s%s%s%s", s->who, what, msg,
			    st ? " [SQLSTATE " : "", st ? st : "", st ? "]" : "",
			    pos ? " at character " : "", pos ? pos : "");
	}
	PQclear(res);
	if (s->in_query)
		pg_drain(s);
	return e;
}

static void pg_take_row(struct rows_pg *s, char ***fields)
{
	for (size_t i = 0; i < s->base.ncols; i++)
		s->fields[i] =
		    PQgetisnull(s->cur, 0, (int)i) ? NULL : PQgetvalue(s->cur, 0, (int)i);
	s->row++;
	*fields = s->fields;
}

static fv_err pg_next(struct fv_rows *r, char ***fields, bool *eof, struct fv_diag *d)
{
	struct rows_pg *s = (struct rows_pg *)r;
	char what[64];
	PGresult *res;

	*eof = false;
	if (s->failed != FV_OK)
		return fv_diag_set(d, s->failed, "postgres %s: the query failed earlier", s->who);
	if (s->done) {
		*eof = true;
		return FV_OK;
	}
	if (s->pending) {
		s->pending = false;
		pg_take_row(s, fields);
		return FV_OK;
	}
	PQclear(s->cur);
	s->cur = NULL;
	res = PQgetResult(s->conn);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_SINGLE_TUPLE:
		s->cur = res;
		pg_take_row(s, fields);
		return FV_OK;
	case PGRES_TUPLES_OK: /* the zero-row result that ends a single-row-mode stream */
		PQclear(res);
		pg_drain(s);
		s->done = true;
		*eof = true;
		return FV_OK;
	default:
		fv_fmt(what, sizeof(what), "after row %llu", (unsigned long long)s->row);
		s->failed = pg_fail(s, res, what, d);
		return s->failed;
	}
}

static void pg_where(struct fv_rows *r, char *buf, size_t cap)
{
	fv_fmt(buf, cap, "row %llu", (unsigned long long)((struct rows_pg *)r)->row);
}

static bool pg_is_na(struct fv_rows *r, const char *field)
{
	(void)r;
	(void)field;
	return false; /* SQL NULL, returned as a NULL field, is the only missing value */
}

static fv_err pg_parse(struct fv_rows *r, const char *field, double *out, struct fv_diag *d)
{
	(void)r;
	return fv_rows_parse_decimal(field, out, d);
}

static double pg_progress(struct fv_rows *r)
{
	(void)r;
	return -1; /* the server does not say how many rows a query will return */
}

static void pg_close(struct fv_rows *r)
{
	struct rows_pg *s = (struct rows_pg *)r;

	if (!s)
		return;
	PQclear(s->cur);
	if (s->conn) {
		/* Closed early: stop the server's work, then read what is already in flight. */
		if (s->in_query && PQstatus(s->conn) == CONNECTION_OK) {
			PGcancel *c = PQgetCancel(s->conn);
			char buf[256];
			if (c) {
				(void)PQcancel(c, buf, (int)sizeof(buf));
				PQfreeCancel(c);
			}
			pg_drain(s);
		}
		if (PQstatus(s->conn) == CONNECTION_OK)
			PQclear(PQexec(s->conn, "ROLLBACK"));
		PQfinish(s->conn);
	}
	for (size_t i = 0; s->base.colnames && i < s->base.ncols; i++)
		fv_free(s->base.colnames[i]);
	fv_free(s->base.colnames);
	fv_free(s->fields);
	fv_free(s);
}

static const struct fv_rows_ops pg_ops = {pg_next,     pg_where, pg_is_na, pg_parse,
					  pg_progress, pg_close, NULL,	   NULL};

/* SELECT * FROM "table" or "schema"."table", quoted by the server's rules. */
static fv_err pg_table_sql(struct rows_pg *s, const char *table, char **sql, struct fv_diag *d)
{
	const char *dot = strchr(table, '.');
	char *q1 = NULL, *q2 = NULL;
	size_t n;
	fv_err e = FV_OK;

	if (!*table || (dot && (dot == table || !dot[1] || strchr(dot + 1, '.'))))
		return fv_diag_set(d, FV_EINVAL,
				   "postgres: table '%s' is not 'name' or 'schema.name' (names "
				   "containing '.' need a query)",
				   table);
	q1 = PQescapeIdentifier(s->conn, table, dot ? (size_t)(dot - table) : strlen(table));
	if (dot)
		q2 = PQescapeIdentifier(s->conn, dot + 1, strlen(dot + 1));
	if (!q1 || (dot && !q2)) {
		char msg[256];
		e = fv_diag_set(d, FV_EINVAL, "postgres: table '%s': %s", table,
				pg_oneline(msg, sizeof(msg), PQerrorMessage(s->conn)));
		goto out;
	}
	n = strlen("SELECT * FROM .") + strlen(q1) + (q2 ? strlen(q2) : 0) + 1;
	if (!(*sql = fv_alloc(n))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	fv_fmt(*sql, n, "SELECT * FROM %s%s%s", q1, q2 ? "." : "", q2 ? q2 : "");
out:
	PQfreemem(q1);
	PQfreemem(q2);
	return e;
}

static fv_err pg_connect(struct rows_pg *s, const char *conninfo, struct fv_diag *d)
{
	const char *keys[PG_NDEFAULTS + 2], *vals[PG_NDEFAULTS + 2];
	PQconninfoOption *opts;
	char *perr = NULL, msg[320];

	/* libpq's parse error quotes the text around the fault, which may be the password. */
	if (!(opts = PQconninfoParse(conninfo, &perr))) {
		fv_err e = perr ? FV_EINVAL : FV_ENOMEM;
		PQfreemem(perr);
		return fv_diag_set(d, e,
				   "postgres: the conninfo is malformed (detail withheld: it "
				   "may quote the password)");
	}
	PQconninfoFree(opts);
	/* Defaults first: a later keyword wins, so the operator's conninfo overrides them. */
	for (size_t i = 0; i < PG_NDEFAULTS; i++) {
		keys[i] = pg_default_keys[i];
		vals[i] = pg_default_vals[i];
	}
	keys[PG_NDEFAULTS] = "dbname";
	vals[PG_NDEFAULTS] = conninfo;
	keys[PG_NDEFAULTS + 1] = vals[PG_NDEFAULTS + 1] = NULL;
	if (!(s->conn = PQconnectdbParams(keys, vals, 1)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	PQsetNoticeProcessor(s->conn, pg_notice, NULL);
	pg_set_who(s);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return fv_diag_set(d, FV_EIO, "postgres %s: cannot connect: %s", s->who,
				   pg_oneline(msg, sizeof(msg), PQerrorMessage(s->conn)));
	return FV_OK;
}

/* Column names of the first result. */
static fv_err pg_columns(struct rows_pg *s, struct fv_diag *d)
{
	int n = PQnfields(s->cur);

	if (n <= 0)
		return fv_diag_set(d, FV_EINVAL, "postgres %s: the query returns no columns",
				   s->who);
	s->base.colnames = fv_calloc((size_t)n, sizeof(char *));
	s->fields = fv_calloc((size_t)n, sizeof(char *));
	if (!s->base.colnames || !s->fields)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	s->base.ncols = (size_t)n;
	for (int i = 0; i < n; i++)
		if (!(s->base.colnames[i] = fv_strdup(PQfname(s->cur, i))))
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
	return FV_OK;
}

fv_err fv_rows_open_pg(const struct fv_source_spec *spec, struct fv_rows **out, struct fv_diag *d)
{
	struct rows_pg *s = NULL;
	char *sql = NULL, msg[320];
	PGresult *res;
	fv_err e;

	*out = NULL;
	if (!spec->conninfo || !spec->table == !spec->query)
		return fv_diag_set(d, FV_EINVAL,
				   "postgres source needs conninfo and exactly one of "
				   "table or query");
	if (!(s = fv_calloc(1, sizeof(*s))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	s->base.ops = &pg_ops;
	if ((e = pg_connect(s, spec->conninfo, d)) != FV_OK)
		goto fail;
	res = PQexec(s->conn, pg_setup_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		e = pg_fail(s, res, "starting a read-only transaction", d);
		goto fail;
	}
	PQclear(res);
	if (spec->table) {
		if ((e = pg_table_sql(s, spec->table, &sql, d)) != FV_OK)
			goto fail;
	} else if (!(sql = fv_strdup(spec->query))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	/* Extended protocol: one statement only, whatever the text holds. */
	if (!PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
		e = fv_diag_set(d, FV_EIO, "postgres %s: sending the query: %s", s->who,
				pg_oneline(msg, sizeof(msg), PQerrorMessage(s->conn)));
		goto fail;
	}
	s->in_query = true;
	if (!PQsetSingleRowMode(s->conn)) {
		e = fv_diag_set(d, FV_EIO, "postgres %s: cannot stream the result row by row",
				s->who);
		goto fail;
	}
	/* The first result tells whether the query runs at all (syntax, table, privilege, a
	 * write refused) and names the columns, even when it has no rows. */
	res = PQgetResult(s->conn);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_SINGLE_TUPLE:
		s->cur = res;
		s->pending = true;
		break;
	case PGRES_TUPLES_OK:
		s->cur = res;
		pg_drain(s);
		s->done = true;
		break;
	case PGRES_EMPTY_QUERY:
		PQclear(res);
		pg_drain(s);
		e = fv_diag_set(d, FV_EINVAL, "postgres %s: the query is empty", s->who);
		goto fail;
	case PGRES_COMMAND_OK:
		PQclear(res);
		pg_drain(s);
		e = fv_diag_set(d, FV_EINVAL,
				"postgres %s: the query returns no rows (only a "
				"SELECT is read)",
				s->who);
		goto fail;
	default:
		e = pg_fail(s, res, "query failed", d);
		goto fail;
	}
	if ((e = pg_columns(s, d)) != FV_OK)
		goto fail;
	if (s->done) {
		PQclear(s->cur);
		s->cur = NULL;
	}
	fv_free(sql);
	*out = &s->base;
	return FV_OK;
fail:
	fv_free(sql);
	pg_close(&s->base);
	return e;
}
