/* Tests of lib/data/source_pg.c against a real PostgreSQL server.
 *
 * Before the tests, the runner process creates a temporary directory, runs initdb (as the
 * `postgres` user when we are root: PostgreSQL refuses to run as root) with password
 * authentication, and starts a server that listens only on a Unix socket in that directory.
 * A copy of the fresh cluster (data2) is started by the test that kills a server mid-stream,
 * so the shared server survives it. The directory and both servers go away after the tests.
 * The server binaries are taken from $FV_PG_BINDIR or the newest /usr/lib/postgresql/N/bin.
 * If the server cannot be set up, every test fails with the reason (never skips). */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <glob.h>
#include <libpq-fe.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/source_int.h"
#include "fedval/data.h"
#include "fedval/util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FV_HAS_ASAN 1
#endif
#endif
#ifndef FV_HAS_ASAN
#define FV_HAS_ASAN 0
#endif

/* Passed from the runner (which sets up the server) to the test processes it spawns. */
#define ENV_DIR "FV_PGTEST_DIR"
#define ENV_BIN "FV_PGTEST_BIN"
#define ENV_ERR "FV_PGTEST_ERR"

#define PW	"Fv-test.pw7Q" /* the postgres superuser's password */
#define PW_READ "Rd-only.k3Z"  /* fv_reader's */
#define NROWS	5000	       /* rows of the patients table */
#define BIG	2000000	       /* rows of the streaming tests */

/* ---- server set-up, in the runner process ---- */

static char g_dir[64], g_bin[256];

static bool setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool setup_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!getenv(ENV_ERR))
		setenv(ENV_ERR, msg, 1);
	return false;
}

/* Run a shell command line as the postgres user (directly when we are not root). */
static int run_pg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_pg(const char *fmt, ...)
{
	char cmd[2048];
	int n = 0;
	va_list ap;

	if (geteuid() == 0)
		n = snprintf(cmd, sizeof(cmd), "runuser -u postgres -- ");
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool find_bindir(void)
{
	const char *env = getenv("FV_PG_BINDIR");
	glob_t g;
	char *slash;

	if (env) {
		snprintf(g_bin, sizeof(g_bin), "%s", env);
		return true;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		return false;
	snprintf(g_bin, sizeof(g_bin), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	if ((slash = strrchr(g_bin, '/')))
		*slash = '\0';
	return true;
}

static bool give_to_postgres(const char *path)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return true;
	if (!(pw = getpwnam("postgres")))
		return false;
	return chown(path, pw->pw_uid, pw->pw_gid) == 0;
}

static bool start_server(const char *data, const char *sockdir, int port)
{
	return run_pg("%s/pg_ctl -D %s/%s -l %s/%s.log -w -t 30 -o \"-c listen_addresses='' "
		      "-c unix_socket_directories=%s -c port=%d -c fsync=off -c "
		      "full_page_writes=off -c synchronous_commit=off\" start >/dev/null",
		      g_bin, g_dir, data, g_dir, data, sockdir, port) == 0;
}

static bool exec_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		setup_fail("SQL '%.60s' failed: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

static const char *const fill_sql[] = {
    "CREATE TABLE patients (id int, age float8, chol numeric(10,3), smoker boolean, note text, "
    "tiny float8, outcome int)",
    "INSERT INTO patients SELECT i, i::float8 / 7, ((i % 1000) * 0.125)::numeric(10,3), "
    "CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END, "
    "CASE WHEN i % 7 = 0 THEN NULL ELSE 'p' || i END, (-1.5e-7)::float8 * i::float8, i % 2 "
    "FROM generate_series(1, 5000) AS i",
    "CREATE SCHEMA ward",
    "CREATE TABLE ward.\"ICU Stays\" (\"Stay Id\" int, los float8)",
    "INSERT INTO ward.\"ICU Stays\" VALUES (1, 2.5), (2, 0.25)",
    "CREATE TABLE secret (x int)",
    "CREATE SEQUENCE seq",
    "CREATE ROLE fv_reader LOGIN PASSWORD '" PW_READ "'",
    "GRANT CONNECT ON DATABASE hosp TO fv_reader",
    "GRANT USAGE ON SCHEMA public, ward TO fv_reader",
    "GRANT SELECT ON patients, ward.\"ICU Stays\" TO fv_reader",
    NULL};

static bool fill(void)
{
	char ci[256];
	PGconn *c;
	bool ok = true;

	snprintf(ci, sizeof(ci), "host=%s port=5432 dbname=postgres user=postgres password=" PW,
		 g_dir);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		setup_fail("cannot connect to the test server: %s", PQerrorMessage(c));
		PQfinish(c);
		return false;
	}
	ok = exec_sql(c, "CREATE DATABASE hosp");
	PQfinish(c);
	if (!ok)
		return false;
	snprintf(ci, sizeof(ci), "host=%s port=5432 dbname=hosp user=postgres password=" PW, g_dir);
	c = PQconnectdb(ci);
	for (size_t i = 0; ok && fill_sql[i]; i++)
		ok = exec_sql(c, fill_sql[i]);
	PQfinish(c);
	return ok;
}

static bool setup(void)
{
	char path[128];
	FILE *f;

	if (!find_bindir())
		return setup_fail("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
				  "(install the postgresql package or set FV_PG_BINDIR)");
	snprintf(g_dir, sizeof(g_dir), "/tmp/fv_pgtest.XXXXXX");
	if (!mkdtemp(g_dir)) {
		g_dir[0] = '\0';
		return setup_fail("mkdtemp: %s", strerror(errno));
	}
	setenv(ENV_DIR, g_dir, 1);
	setenv(ENV_BIN, g_bin, 1);
	if (!give_to_postgres(g_dir))
		return setup_fail("cannot chown %s to the postgres user (no such user?)", g_dir);
	snprintf(path, sizeof(path), "%s/pw", g_dir);
	if (!(f = fopen(path, "w")) || fputs(PW "\n", f) < 0 || fclose(f) != 0)
		return setup_fail("cannot write %s", path);
	give_to_postgres(path);
	if (run_pg("%s/initdb -D %s/data -U postgres -A scram-sha-256 --pwfile=%s/pw -E UTF8 "
		   "--locale=C --no-sync >%s/initdb.log 2>&1",
		   g_bin, g_dir, g_dir, g_dir) != 0)
		return setup_fail("initdb failed: see %s/initdb.log", g_dir);
	if (run_pg("cp -a %s/data %s/data2", g_dir, g_dir) != 0)
		return setup_fail("cannot copy the cluster");
	snprintf(path, sizeof(path), "%s/s2", g_dir);
	if (mkdir(path, 0700) != 0 || !give_to_postgres(path))
		return setup_fail("cannot create %s", path);
	if (!start_server("data", g_dir, 5432))
		return setup_fail("pg_ctl start failed: see %s/data.log", g_dir);
	return fill();
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	(void)setup();
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[128];

	(void)stats;
	if (!g_dir[0])
		return;
	if (g_bin[0]) {
		run_pg("%s/pg_ctl -D %s/data -m immediate stop >/dev/null 2>&1", g_bin, g_dir);
		run_pg("%s/pg_ctl -D %s/data2 -m immediate stop >/dev/null 2>&1", g_bin, g_dir);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	(void)!system(cmd);
}

/* ---- helpers, in the test processes ---- */

/* The socket directory of the shared server; fails the test if set-up failed. */
static const char *server(void)
{
	const char *err = getenv(ENV_ERR), *dir = getenv(ENV_DIR);

	if (err)
		cr_assert_fail("PostgreSQL test server could not be set up: %s", err);
	if (!dir)
		cr_assert_fail("PostgreSQL test server could not be set up (no directory)");
	return dir;
}

static char g_ci[256];

static const char *conninfo(const char *db, const char *user, const char *pw)
{
	snprintf(g_ci, sizeof(g_ci), "host=%s port=5432 dbname=%s user=%s password=%s", server(),
		 db, user, pw);
	return g_ci;
}

static struct fv_source_spec spec_q(const char *ci, const char *query)
{
	struct fv_source_spec s;

	memset(&s, 0, sizeof(s));
	s.kind = FV_SOURCE_POSTGRES;
	s.conninfo = ci;
	s.query = query;
	return s;
}

static struct fv_source_spec spec_t(const char *ci, const char *table)
{
	struct fv_source_spec s = spec_q(ci, NULL);

	s.table = table;
	return s;
}

static void expect_open_fail(const struct fv_source_spec *sp, fv_err want, const char *n1,
			     const char *n2)
{
	struct fv_rows *r = (struct fv_rows *)8;
	struct fv_diag d = {{0}};
	fv_err e = fv_rows_open_pg(sp, &r, &d);

	cr_assert_eq(e, want, "got %s (%s)", fv_strerror(e), d.msg);
	cr_assert_null(r);
	if (n1)
		cr_assert_not_null(strstr(d.msg, n1), "'%s' not in '%s'", n1, d.msg);
	if (n2)
		cr_assert_not_null(strstr(d.msg, n2), "'%s' not in '%s'", n2, d.msg);
	cr_assert_null(strstr(d.msg, PW), "password in '%s'", d.msg);
	cr_assert_null(strstr(d.msg, PW_READ), "password in '%s'", d.msg);
}

static fv_err open_ok(const struct fv_source_spec *sp, struct fv_rows **r)
{
	struct fv_diag d = {{0}};
	fv_err e = fv_rows_open_pg(sp, r, &d);

	cr_assert_eq(e, FV_OK, "%s: %s", fv_strerror(e), d.msg);
	return e;
}

static double num(struct fv_rows *r, const char *f)
{
	struct fv_diag d = {{0}};
	double v = NAN;

	cr_assert_not_null(f);
	cr_assert_eq(r->ops->parse(r, f, &v, &d), FV_OK, "'%s': %s", f, d.msg);
	return v;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the cursor ---- */

Test(pg, table_rows_arrive_in_order_with_values, .timeout = 30)
{
	static const char *const names[] = {"id",   "age",  "chol",   "smoker",
					    "note", "tiny", "outcome"};
	struct fv_source_spec sp = spec_t(conninfo("hosp", "postgres", PW), "patients");
	struct fv_rows *r;
	struct fv_diag d = {{0}};
	char **f, where[32], note[32];
	bool eof = false;
	long i = 0;

	open_ok(&sp, &r);
	cr_assert_eq(r->ncols, 7);
	for (size_t c = 0; c < 7; c++)
		cr_assert_str_eq(r->colnames[c], names[c]);
	cr_assert_eq(r->ops->progress(r), -1);
	for (;;) {
		cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK, "%s", d.msg);
		if (eof)
			break;
		i++;
		cr_assert_eq(num(r, f[0]), (double)i);
		/* float8 text is exact: the same IEEE division done here. */
		cr_assert_eq(num(r, f[1]), (double)i / 7, "row %ld: %s", i, f[1]);
		cr_assert_eq(num(r, f[2]), (i % 1000) * 0.125, "row %ld: %s", i, f[2]);
		if (i % 11 == 0) {
			cr_assert_null(f[3]);
		} else {
			cr_assert_str_eq(f[3], i % 3 == 0 ? "t" : "f");
			cr_assert_eq(num(r, f[3]), i % 3 == 0 ? 1.0 : 0.0);
		}
		if (i % 7 == 0) {
			cr_assert_null(f[4]);
		} else {
			snprintf(note, sizeof(note), "p%ld", i);
			cr_assert_str_eq(f[4], note);
			cr_assert_eq(r->ops->is_na(r, f[4]), false);
			cr_assert_neq(r->ops->parse(r, f[4], &(double){0}, &d), FV_OK);
		}
		cr_assert_eq(num(r, f[5]), -1.5e-7 * (double)i, "row %ld: %s", i, f[5]);
		cr_assert_eq(num(r, f[6]), (double)(i % 2));
	}
	cr_assert_eq(i, NROWS);
	r->ops->where(r, where, sizeof(where));
	cr_assert_str_eq(where, "row 5000");
	/* eof is sticky. */
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK);
	cr_assert(eof);
	r->ops->close(r);
}

Test(pg, schema_qualified_table_is_quoted, .timeout = 30)
{
	struct fv_source_spec sp = spec_t(conninfo("hosp", "postgres", PW), "ward.ICU Stays");
	struct fv_rows *r;
	struct fv_diag d = {{0}};
	char **f;
	bool eof;

	open_ok(&sp, &r);
	cr_assert_eq(r->ncols, 2);
	cr_assert_str_eq(r->colnames[0], "Stay Id");
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK);
	cr_assert_str_eq(f[0], "1");
	cr_assert_str_eq(f[1], "2.5");
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK);
	cr_assert_str_eq(f[1], "0.25");
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK);
	cr_assert(eof);
	r->ops->close(r);

	/* Not an injection vector: the whole name is one identifier. */
	sp.table = "patients; DROP TABLE patients";
	expect_open_fail(&sp, FV_ENOTFOUND, "does not exist", "42P01");
	sp.table = "a.b.c";
	expect_open_fail(&sp, FV_EINVAL, "schema.name", NULL);
	sp.table = ".x";
	expect_open_fail(&sp, FV_EINVAL, "schema.name", NULL);
	sp.table = "";
	expect_open_fail(&sp, FV_EINVAL, NULL, NULL);
}

Test(pg, empty_result_still_has_columns, .timeout = 30)
{
	struct fv_source_spec sp =
	    spec_q(conninfo("hosp", "postgres", PW), "SELECT id, age FROM patients WHERE false");
	struct fv_rows *r;
	struct fv_diag d = {{0}};
	char **f;
	bool eof = false;

	open_ok(&sp, &r);
	cr_assert_eq(r->ncols, 2);
	cr_assert_str_eq(r->colnames[1], "age");
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK, "%s", d.msg);
	cr_assert(eof);
	r->ops->close(r);
}

Test(pg, syntax_error_is_clear, .timeout = 30)
{
	struct fv_source_spec sp = spec_q(conninfo("hosp", "postgres", PW), "SELEC id FROM x");

	expect_open_fail(&sp, FV_EINVAL, "syntax error", "SQLSTATE 42601");
	sp.query = "SELECT nosuchcol FROM patients";
	expect_open_fail(&sp, FV_EINVAL, "nosuchcol", "42703");
	sp.query = "";
	expect_open_fail(&sp, FV_EINVAL, "empty", NULL);
	sp.query = "SELECT";
	expect_open_fail(&sp, FV_EINVAL, "no columns", NULL);
	/* One statement only: the extended protocol refuses a second. */
	sp.query = "SELECT 1; SELECT 2";
	expect_open_fail(&sp, FV_EINVAL, "multiple commands", NULL);
	sp.query = "SELECT 1 AS a; COMMIT; DELETE FROM patients";
	expect_open_fail(&sp, FV_EINVAL, "multiple commands", NULL);
	sp.query = "COMMIT";
	expect_open_fail(&sp, FV_EINVAL, "no rows", NULL);
	/* A trailing semicolon is still one statement. */
	{
		struct fv_rows *r;
		sp.query = "SELECT 1 AS a;";
		open_ok(&sp, &r);
		r->ops->close(r);
	}
}

static long count_where(const char *cond)
{
	char sql[256];
	PGconn *c = PQconnectdb(conninfo("hosp", "postgres", PW));
	PGresult *res;
	long n;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", cond);
	res = PQexec(c, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return n;
}

Test(pg, writes_are_refused_by_the_read_only_transaction, .timeout = 30)
{
	/* The superuser on purpose: the read-only transaction, not a grant, stops these. */
	const char *ci = conninfo("hosp", "postgres", PW);
	struct fv_source_spec sp = spec_q(
	    ci, "WITH x AS (INSERT INTO patients (id) VALUES (-1) RETURNING id) SELECT * FROM x");

	expect_open_fail(&sp, FV_EREFUSED, "read-only transaction", "SQLSTATE 25006");
	sp.query = "WITH x AS (DELETE FROM patients RETURNING id) SELECT * FROM x";
	expect_open_fail(&sp, FV_EREFUSED, "read-only transaction", NULL);
	sp.query = "SELECT nextval('seq')";
	expect_open_fail(&sp, FV_EREFUSED, "read-only transaction", NULL);
	/* The query cannot switch its own transaction to read-write. */
	sp.query = "SELECT set_config('transaction_read_only', 'off', true) AS x";
	expect_open_fail(&sp, FV_EINVAL, "read-write mode", "SQLSTATE 25001");
	cr_assert_eq(count_where("patients WHERE id = -1"), 0);
	cr_assert_eq(count_where("patients"), NROWS);
}

Test(pg, missing_table_and_privilege, .timeout = 30)
{
	struct fv_source_spec sp = spec_t(conninfo("hosp", "postgres", PW), "no_such");
	struct fv_rows *r;

	expect_open_fail(&sp, FV_ENOTFOUND, "\"no_such\" does not exist", "42P01");
	sp.table = "nosch.patients";
	expect_open_fail(&sp, FV_ENOTFOUND, "nosch", NULL);
	/* A read-only role as docs/data-sources.md recommends: reads what it was granted... */
	sp = spec_t(conninfo("hosp", "fv_reader", PW_READ), "patients");
	open_ok(&sp, &r);
	cr_assert_eq(r->ncols, 7);
	r->ops->close(r);
	/* ...and nothing else. */
	sp.table = "secret";
	expect_open_fail(&sp, FV_EAUTH, "permission denied", "42501");
}

Test(pg, connection_failures_name_the_target_not_the_password, .timeout = 30)
{
	char ci[256];
	struct fv_source_spec sp;

	sp = spec_t(conninfo("hosp", "postgres", "Wrong-pw.9x"), "patients");
	expect_open_fail(&sp, FV_EIO, "db=hosp", "password authentication failed");
	{
		struct fv_diag d = {{0}};
		struct fv_rows *r;
		fv_rows_open_pg(&sp, &r, &d);
		cr_assert_null(strstr(d.msg, "Wrong-pw"), "%s", d.msg);
		cr_assert_not_null(strstr(d.msg, server()), "host missing in %s", d.msg);
	}
	sp = spec_t(conninfo("nodb", "postgres", PW), "patients");
	expect_open_fail(&sp, FV_EIO, "nodb", "does not exist");
	sp = spec_t(conninfo("hosp", "nobody", PW), "patients");
	expect_open_fail(&sp, FV_EIO, "nobody", NULL);
	/* No server on that port. */
	snprintf(ci, sizeof(ci), "host=%s port=5999 dbname=hosp user=postgres password=" PW,
		 server());
	sp = spec_t(ci, "patients");
	expect_open_fail(&sp, FV_EIO, "cannot connect", "5999");
	/* libpq would quote the text around a syntax error, here the password's tail. */
	sp = spec_t("host=/tmp dbname=hosp password=se cretTail", "patients");
	expect_open_fail(&sp, FV_EINVAL, "malformed", NULL);
	{
		struct fv_diag d = {{0}};
		struct fv_rows *r;
		fv_rows_open_pg(&sp, &r, &d);
		cr_assert_null(strstr(d.msg, "cretTail"), "%s", d.msg);
	}
	sp = spec_t("postgresql://postgres:" PW "@/hosp?host=/nonexistent-dir", "patients");
	expect_open_fail(&sp, FV_EIO, "db=hosp", NULL);
}

Test(pg, spec_is_checked, .timeout = 30)
{
	struct fv_source_spec sp = spec_t(NULL, "patients");

	expect_open_fail(&sp, FV_EINVAL, "conninfo", NULL);
	sp = spec_t(conninfo("hosp", "postgres", PW), "patients");
	sp.query = "SELECT 1";
	expect_open_fail(&sp, FV_EINVAL, "exactly one", NULL);
	sp.table = sp.query = NULL;
	expect_open_fail(&sp, FV_EINVAL, "exactly one", NULL);
}

Test(pg, allocation_failures_do_not_leak, .timeout = 60)
{
	struct fv_source_spec sp = spec_t(conninfo("hosp", "postgres", PW), "patients");
	bool succeeded = false;

	for (long n = 1; n < 40 && !succeeded; n++) {
		struct fv_rows *r = NULL;
		struct fv_diag d = {{0}};
		fv_err e;
		fv_alloc_fail_after(n);
		e = fv_rows_open_pg(&sp, &r, &d);
		fv_alloc_fail_after(0);
		cr_assert(e == FV_OK || e == FV_ENOMEM, "n=%ld: %s (%s)", n, fv_strerror(e), d.msg);
		if (e == FV_OK) {
			r->ops->close(r);
			succeeded = true;
		}
	}
	cr_assert(succeeded);
}

/* ---- through the mapping API (lib/data/source.c) ---- */

static const char *const vars3[] = {"age", "chol", "smoker"};
static const char *const cols3[] = {"age", "chol", "smoker"};

Test(pg, mapping_reads_batches_in_order, .timeout = 30)
{
	struct fv_mapping m = {3, vars3, cols3, "outcome"};
	struct fv_source_spec sp = spec_q(conninfo("hosp", "postgres", PW),
					  "SELECT * FROM patients WHERE smoker IS NOT NULL "
					  "ORDER BY id");
	struct fv_source *s;
	struct fv_diag d = {{0}};
	float x[333 * 3];
	uint8_t y[333];
	size_t got, total = 0;
	long i = 0;

	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_ncols(s), 7);
	cr_assert_str_eq(fv_source_colname(s, 4), "note");
	do {
		cr_assert_eq(fv_source_read(s, x, y, 333, &got, &d), FV_OK, "%s", d.msg);
		for (size_t k = 0; k < got; k++) {
			if (++i % 11 == 0)
				i++;
			cr_assert_eq(x[k * 3 + 0], (float)((double)i / 7), "id %ld", i);
			cr_assert_eq(x[k * 3 + 1], (float)((i % 1000) * 0.125));
			cr_assert_eq(x[k * 3 + 2], i % 3 == 0 ? 1.0f : 0.0f);
			cr_assert_eq(y[k], i % 2);
		}
		total += got;
	} while (got > 0);
	cr_assert_eq(total, NROWS - NROWS / 11);
	cr_assert_eq(fv_source_records(s), total);
	cr_assert_eq(fv_source_progress(s), -1);
	fv_source_close(s);
}

Test(pg, mapping_errors_name_variable_row_and_value, .timeout = 30)
{
	struct fv_mapping m = {3, vars3, cols3, "outcome"};
	const char *ci = conninfo("hosp", "postgres", PW);
	struct fv_source_spec sp = spec_t(ci, "patients");
	struct fv_source *s;
	struct fv_diag d = {{0}};
	float x[64 * 3];
	uint8_t y[64];
	size_t got;

	/* id 11 is the first NULL smoker. */
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(s, x, y, 64, &got, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "row 11"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "smoker"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "missing"), "%s", d.msg);
	fv_source_close(s);

	sp = spec_q(ci, "SELECT 'NaN'::float8 AS age, 1 AS chol, true AS smoker, 0 AS outcome");
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(s, x, y, 64, &got, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "'NaN'"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "row 1"), "%s", d.msg);
	fv_source_close(s);

	sp = spec_q(ci, "SELECT 1 AS age, 1 AS chol, true AS smoker, 2 AS outcome");
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(s, x, y, 64, &got, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "label"), "%s", d.msg);
	fv_source_close(s);

	/* A mapped column the query does not return. */
	sp = spec_q(ci, "SELECT id AS age, outcome FROM patients");
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "chol"), "%s", d.msg);
	cr_assert_null(s);
}

/* ---- streaming: memory, early close, a server that dies ---- */

Test(pg, streams_2m_rows_in_bounded_memory, .timeout = 60)
{
	static const char *const v[] = {"a", "b"};
	struct fv_mapping m = {2, v, v, "y"};
	struct fv_source_spec sp =
	    spec_q(conninfo("hosp", "postgres", PW),
		   "SELECT i AS a, i::float8 / 4 AS b, i % 2 = 0 AS y, "
		   "repeat('x', 40) AS pad FROM generate_series(1, 2000000) i");
	struct fv_source *s;
	struct fv_diag d = {{0}};
	static float x[4096 * 2];
	static uint8_t y[4096];
	size_t got, total = 0;
	long before = peak_rss_kb(), limit_kb = 100 * 1024;
	double t0 = now_s(), sum = 0;

	long half = 0;

#if defined(__SANITIZE_ADDRESS__) || FV_HAS_ASAN
	/* ASan keeps up to 256 MB of freed blocks in quarantine, plus shadow memory: allow for
	 * it, and check below that the second half of the stream adds (almost) nothing. */
	limit_kb += 400 * 1024;
#endif
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	do {
		cr_assert_eq(fv_source_read(s, x, y, 4096, &got, &d), FV_OK, "%s", d.msg);
		for (size_t k = 0; k < got; k++) {
			cr_assert_eq(x[k * 2], (float)(total + k + 1));
			cr_assert_eq(y[k], (total + k + 1) % 2 == 0);
			sum += x[k * 2 + 1];
		}
		if (total < BIG / 2 && total + got >= BIG / 2)
			half = peak_rss_kb();
		total += got;
	} while (got > 0);
	fv_source_close(s);
	cr_assert_eq(total, BIG);
	cr_assert_eq(sum, (double)BIG * (BIG + 1) / 8);
	cr_assert_lt(peak_rss_kb() - before, limit_kb, "peak RSS grew by %ld kB",
		     peak_rss_kb() - before);
	cr_assert_lt(peak_rss_kb() - half, 32 * 1024, "the second 1M rows grew peak RSS by %ld kB",
		     peak_rss_kb() - half);
	cr_log_info("2M rows in %.2f s, peak RSS +%ld kB", now_s() - t0, peak_rss_kb() - before);
}

/* Backends of the test below, which names itself (tests may run in parallel). */
static long active_cancel_test_queries(void)
{
	return count_where("pg_stat_activity WHERE application_name = 'fv_cancel_test'");
}

Test(pg, close_mid_stream_cancels_the_query, .timeout = 30)
{
	char ci[320];
	struct fv_source_spec sp;
	struct fv_rows *r;
	struct fv_diag d = {{0}};
	char **f;
	bool eof;
	double t0 = now_s();
	long n = -1;

	snprintf(ci, sizeof(ci), "%s application_name=fv_cancel_test",
		 conninfo("hosp", "postgres", PW));
	/* A target-list set-returning function streams (one in FROM would be materialised
	 * first): the server is still producing rows when we close. */
	sp = spec_q(ci, "SELECT i, md5(i::text) FROM (SELECT generate_series(1, 50000000) AS i) g");
	open_ok(&sp, &r);
	cr_assert_lt(now_s() - t0, 2.0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK, "%s", d.msg);
	cr_assert_str_eq(f[0], "1000");
	cr_assert_eq(active_cancel_test_queries(), 1);
	t0 = now_s();
	r->ops->close(r);
	cr_assert_lt(now_s() - t0, 5.0);
	/* The backend goes away shortly after the connection closes. */
	for (int k = 0; k < 50 && (n = active_cancel_test_queries()) != 0; k++)
		usleep(100 * 1000);
	cr_assert_eq(n, 0);
}

Test(pg, server_killed_mid_stream_is_eio, .timeout = 45)
{
	const char *dir = server(), *bin = getenv(ENV_BIN);
	char ci[256], sock[128];
	struct fv_source_spec sp;
	struct fv_rows *r;
	struct fv_diag d = {{0}};
	char **f;
	bool eof = false;
	fv_err e = FV_OK;
	long n = 0;
	double t0;

	snprintf(sock, sizeof(sock), "%s/s2", dir);
	snprintf(g_dir, sizeof(g_dir), "%s", dir);
	snprintf(g_bin, sizeof(g_bin), "%s", bin);
	cr_assert(start_server("data2", sock, 5433), "cannot start the second server: see %s", dir);
	snprintf(ci, sizeof(ci), "host=%s port=5433 dbname=postgres user=postgres password=" PW,
		 sock);
	sp = spec_q(ci, "SELECT i, i::float8 / 3 AS x FROM generate_series(1, 2000000) i");
	open_ok(&sp, &r);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(run_pg("%s/pg_ctl -D %s/data2 -m immediate stop >/dev/null", bin, dir), 0);
	t0 = now_s();
	/* What was already in the socket buffers still arrives; then the loss is reported. */
	while ((e = r->ops->next(r, &f, &eof, &d)) == FV_OK && !eof)
		n++;
	cr_assert_eq(e, FV_EIO, "got %s after %ld more rows (%s)", fv_strerror(e), n, d.msg);
	cr_assert_lt(n, BIG - 1000);
	cr_assert_lt(now_s() - t0, 10.0);
	cr_assert(strstr(d.msg, "connection") || strstr(d.msg, "terminat"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "after row"), "%s", d.msg);
	cr_log_info("server killed: %s", d.msg);
	/* The cursor stays failed, and close does not hang on the dead connection. */
	cr_assert_eq(r->ops->next(r, &f, &eof, &d), FV_EIO);
	r->ops->close(r);
}
