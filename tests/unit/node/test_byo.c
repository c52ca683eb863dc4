/* Site-supplied predictions (node/byo.c) from every source kind: a CSV file, a SQLite table
 * or read-only query, and a PostgreSQL table or read-only query on a real local server. The
 * same predictions joined to the same labels give the same result whatever the two sources
 * are; the result equals the stats module's on the matched records; unmatched records,
 * duplicate keys and predictions without a record are counted; bad rows are errors naming
 * the source, the row, the column and the value; a query that writes is refused.
 *
 * The PostgreSQL tests start their own server (initdb, trust authentication, listening only
 * on a Unix socket in a temporary directory; as the postgres user when we are root) and stop
 * it afterwards. A server that cannot be started fails the test. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/data.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"
#include "unit/pg_test.h"

#define NREC  300 /* data records p1..p300, label 1 for every third */
#define NPRED 295 /* predictions of version 1.0 for p1..p295 */

static char dir[64];

/* Score of record i: on a grid of 1/128, exact as a float and in any text form. */
static double score_of(int i)
{
	return (double)((i * 37) % 128) / 128.0;
}

static int label_of(int i)
{
	return i % 3 == 0;
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

/* Rows of the predictions export: (key, score text, version). Version 1.0 scores p1..p295,
 * lists p2 a second time and scores 5 keys no record has; version 0.9 scores every record
 * with other numbers. */
struct pred_row {
	char key[16], score[32], ver[8];
};

static size_t pred_rows(struct pred_row *r)
{
	size_t n = 0;

	for (int i = 1; i <= NPRED; i++) {
		snprintf(r[n].key, sizeof(r[n].key), "p%d", i);
		snprintf(r[n].score, sizeof(r[n].score), "%.17g", score_of(i));
		snprintf(r[n++].ver, sizeof(r[0].ver), "1.0");
	}
	snprintf(r[n].key, sizeof(r[n].key), "p2");
	snprintf(r[n].score, sizeof(r[n].score), "0.5");
	snprintf(r[n++].ver, sizeof(r[0].ver), "1.0");
	for (int i = 1; i <= 5; i++) {
		snprintf(r[n].key, sizeof(r[n].key), "X%d", i);
		snprintf(r[n].score, sizeof(r[n].score), "0.25");
		snprintf(r[n++].ver, sizeof(r[0].ver), "1.0");
	}
	for (int i = 1; i <= NREC; i++) {
		snprintf(r[n].key, sizeof(r[n].key), "p%d", i);
		snprintf(r[n].score, sizeof(r[n].score), "%.17g", 1.0 - score_of(i * 7));
		snprintf(r[n++].ver, sizeof(r[0].ver), "0.9");
	}
	return n;
}

static void exec_sqlite(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql,
		     err ? err : "?");
}

static void setup(void)
{
	struct pred_row *r = calloc(NPRED + 6 + NREC, sizeof(*r));
	char path[128], sql[256];
	sqlite3 *db;
	FILE *f;
	size_t n;

	snprintf(dir, sizeof(dir), "/tmp/fv-byo.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_not_null(r);
	n = pred_rows(r);

	/* the labelled data, as CSV and as a SQLite table */
	path_of(path, sizeof(path), "data.csv");
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "patient_id,age,readmit\n");
	for (int i = 1; i <= NREC; i++)
		fprintf(f, "p%d,%d,%d\n", i, 40 + i % 50, label_of(i));
	cr_assert_eq(fclose(f), 0);
	path_of(path, sizeof(path), "hosp.db");
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec_sqlite(db, "CREATE TABLE admissions (patient_id TEXT, age REAL, readmit INTEGER);"
			"CREATE TABLE preds (rec TEXT, score REAL, ver TEXT);"
			"CREATE TABLE bad (rec TEXT, score, ver TEXT); BEGIN");
	for (int i = 1; i <= NREC; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO admissions VALUES ('p%d', %d, %d)", i,
			 40 + i % 50, label_of(i));
		exec_sqlite(db, sql);
	}

	/* the predictions, as CSV (with a version column) and as a SQLite table */
	path_of(path, sizeof(path), "preds.csv");
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "ver,rec,score\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s,%s,%s\n", r[i].ver, r[i].key, r[i].score);
		snprintf(sql, sizeof(sql), "INSERT INTO preds VALUES ('%s', %s, '%s')", r[i].key,
			 r[i].score, r[i].ver);
		exec_sqlite(db, sql);
	}
	cr_assert_eq(fclose(f), 0);
	/* bad: p1 and p2 fine, then a NULL score in row 3, text in row 4, 1.5 in row 5 */
	exec_sqlite(db, "INSERT INTO bad VALUES ('p1', 0.5, 'null'), ('p2', 0.25, 'null'), "
			"('p3', NULL, 'null'), ('p1', 0.5, 'text'), ('p2', 0.25, 'text'), "
			"('p3', 'high', 'text'), ('p1', 1.5, 'range'), (NULL, 0.5, 'nokey'); "
			"COMMIT");
	sqlite3_close(db);
	free(r);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- the join and what it is checked against ---- */

static struct fv_source_spec csv_spec(const char *name)
{
	static char path[2][128];
	static int k;
	struct fv_source_spec s;

	memset(&s, 0, sizeof(s));
	k = !k;
	path_of(path[k], sizeof(path[k]), name);
	s.kind = FV_SOURCE_CSV;
	s.path = path[k];
	return s;
}

static struct fv_source_spec sqlite_spec(const char *table, const char *query)
{
	static char path[128];
	struct fv_source_spec s;

	memset(&s, 0, sizeof(s));
	path_of(path, sizeof(path), "hosp.db");
	s.kind = FV_SOURCE_SQLITE;
	s.path = path;
	s.table = table;
	s.query = query;
	return s;
}

/* Join predictions to the labelled data; *out is filled whatever happens. */
static void join(const struct fv_source_spec *data, const struct fv_source_spec *preds,
		 const char *key, const char *version_column, struct eval_out *out)
{
	struct node_byo b = {0};
	struct eval_in in;

	memset(&in, 0, sizeof(in));
	memset(out, 0, sizeof(*out));
	b.model = "appliance";
	b.spec = *preds;
	b.key = key;
	b.score = "score";
	b.data_key = "patient_id";
	b.version_column = version_column;
	in.byo = &b;
	in.model_version = "1.0";
	in.source = data;
	in.label_column = "readmit";
	in.n_thr = 2;
	in.thr[0] = 0.5;
	in.thr[1] = 0.25;
	node_byo_compute(&in, out);
}

/* The expected result: p1..p295 without p2 (listed twice), stats module on their scores. */
static void expect_joined(const struct eval_out *o)
{
	double p[NPRED], auc, var;
	uint8_t y[NPRED];
	size_t n = 0;
	struct fv_diag d = {{0}};

	cr_assert_eq(o->status, 0, "%s: %s", fv_strerror((fv_err)o->status), o->error);
	for (int i = 1; i <= NPRED; i++) {
		if (i == 2)
			continue;
		p[n] = score_of(i);
		y[n++] = (uint8_t)label_of(i);
	}
	cr_assert(o->byo);
	cr_assert_eq(o->n, n);
	cr_assert_eq(o->byo_unmatched, 6, "5 records without a prediction, p2 listed twice");
	cr_assert_eq(o->byo_duplicates, 1);
	cr_assert_eq(o->byo_unused, 5, "X1..X5");
	cr_assert_eq(fv_stats_auc_delong(p, y, n, &auc, &var, &d), FV_OK);
	cr_assert_float_eq(o->auc, auc, 1e-12);
	cr_assert_float_eq(o->auc_var, var, 1e-15);
	for (uint32_t t = 0; t < 2; t++) {
		struct fv_confusion c;
		cr_assert_eq(fv_stats_confusion(p, y, n, o->thr[t], &c), FV_OK);
		cr_assert_eq(o->tp[t], c.tp);
		cr_assert_eq(o->fp[t], c.fp);
		cr_assert_eq(o->tn[t], c.tn);
		cr_assert_eq(o->fn[t], c.fn);
	}
}

static void expect_error(const struct eval_out *o, fv_err want, const char *a, const char *b)
{
	cr_assert_eq(o->status, (int)want, "got %s: %s", fv_strerror((fv_err)o->status), o->error);
	cr_assert(!o->byo);
	if (a)
		cr_assert_not_null(strstr(o->error, a), "'%s' not in '%s'", a, o->error);
	if (b)
		cr_assert_not_null(strstr(o->error, b), "'%s' not in '%s'", b, o->error);
}

Test(byo, csv_predictions_with_version_column, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), preds = csv_spec("preds.csv");
	struct eval_out o;

	join(&data, &preds, "rec", "ver", &o);
	expect_joined(&o);
}

Test(byo, sqlite_table_and_query_equal_csv, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), preds = csv_spec("preds.csv");
	struct fv_source_spec table = sqlite_spec("preds", NULL);
	struct fv_source_spec query =
	    sqlite_spec(NULL, "SELECT rec AS encounter, score FROM preds WHERE ver = '1.0'");
	struct fv_source_spec labels = sqlite_spec("admissions", NULL);
	struct eval_out ref, o;

	join(&data, &preds, "rec", "ver", &ref);
	expect_joined(&ref);
	join(&data, &table, "rec", "ver", &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "SQLite table and CSV differ");
	join(&data, &query, "encounter", NULL, &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "SQLite query and CSV differ");
	/* labels from SQLite too */
	join(&labels, &table, "rec", "ver", &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "SQLite labels and CSV labels differ");
}

Test(byo, sqlite_bad_rows_are_named, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), s;
	struct eval_out o;

	s = sqlite_spec(NULL, "SELECT rec, score FROM bad WHERE ver = 'null'");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL, "hosp.db row 3: score (column 'score') is missing", NULL);
	s = sqlite_spec(NULL, "SELECT rec, score FROM bad WHERE ver = 'text'");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL,
		     "row 3: score (column 'score'): value 'high' is not a probability", NULL);
	s = sqlite_spec(NULL, "SELECT rec, score FROM bad WHERE ver = 'range'");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL, "row 1: score (column 'score'): value '1.5'", NULL);
	s = sqlite_spec(NULL, "SELECT rec, score FROM bad WHERE ver = 'nokey'");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL, "row 1: key (column 'rec') is missing", NULL);
	/* a column that is not there, in the predictions and in the data */
	s = sqlite_spec("preds", NULL);
	join(&data, &s, "record_key", NULL, &o);
	expect_error(&o, FV_EINVAL, "no key column 'record_key'", "hosp.db");
	s = sqlite_spec("preds", NULL);
	data = csv_spec("preds.csv");
	join(&data, &s, "rec", "ver", &o);
	expect_error(&o, FV_EINVAL, "data: no key column 'patient_id'", NULL);
}

Test(byo, sqlite_query_that_writes_is_refused, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv");
	struct fv_source_spec s = sqlite_spec(NULL, "DELETE FROM preds RETURNING rec, score");
	struct eval_out o;
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[128];

	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EREFUSED, "only SELECT", NULL);
	path_of(path, sizeof(path), "hosp.db");
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM preds", -1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), NPRED + 6 + NREC, "rows were deleted");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(byo, label_not_0_or_1_is_named, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), preds = csv_spec("preds.csv");
	struct eval_out o;
	char path[128];
	FILE *f;

	path_of(path, sizeof(path), "data.csv");
	cr_assert_not_null(f = fopen(path, "a"));
	fprintf(f, "p301,50,yes\n");
	cr_assert_eq(fclose(f), 0);
	join(&data, &preds, "rec", "ver", &o);
	expect_error(&o, FV_EINVAL, "line 302: label (column 'readmit'): value 'yes' is not 0 or 1",
		     NULL);
}

/* ---- PostgreSQL ---- */

static struct pg_test pg;

static void pg_setup(void)
{
	char args[2048];

	setup();
	pg_test_start(&pg, "byo");
	snprintf(
	    args, sizeof(args),
	    "-c \"CREATE TABLE preds (ver text, rec text, score float8)\" "
	    "-c \"\\copy preds FROM '%s/preds.csv' CSV HEADER\" "
	    "-c \"CREATE TABLE admissions (patient_id text, age float8, readmit int)\" "
	    "-c \"\\copy admissions FROM '%s/data.csv' CSV HEADER\" "
	    "-c \"CREATE ROLE reader LOGIN\" -c \"GRANT SELECT ON preds, admissions TO reader\" ",
	    dir, dir);
	cr_assert_eq(pg_test_psql(&pg, args), 0, "loading the tables failed: see %s/psql.log",
		     pg.dir);
}

static void pg_teardown(void)
{
	pg_test_stop(&pg);
	teardown();
}

static struct fv_source_spec pg_spec(const char *table, const char *query)
{
	static char ci[160];
	struct fv_source_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(ci, sizeof(ci), "host=%s dbname=postgres user=reader", pg.dir);
	s.kind = FV_SOURCE_POSTGRES;
	s.conninfo = ci;
	s.table = table;
	s.query = query;
	return s;
}

Test(byo, postgres_table_and_query_equal_csv, .init = pg_setup, .fini = pg_teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), preds = csv_spec("preds.csv");
	struct fv_source_spec table = pg_spec("preds", NULL);
	struct fv_source_spec query =
	    pg_spec(NULL, "SELECT rec AS encounter, score FROM preds WHERE ver = '1.0'");
	struct fv_source_spec labels = pg_spec("admissions", NULL);
	struct eval_out ref, o;

	join(&data, &preds, "rec", "ver", &ref);
	expect_joined(&ref);
	join(&data, &table, "rec", "ver", &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "PostgreSQL table and CSV differ");
	join(&data, &query, "encounter", NULL, &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "PostgreSQL query and CSV differ");
	/* labels from PostgreSQL too, predictions from SQLite */
	table = sqlite_spec("preds", NULL);
	join(&labels, &table, "rec", "ver", &o);
	expect_joined(&o);
	cr_assert_eq(memcmp(&o, &ref, sizeof(o)), 0, "PostgreSQL labels and CSV labels differ");
}

Test(byo, postgres_bad_rows_and_writes, .init = pg_setup, .fini = pg_teardown, .timeout = 30)
{
	struct fv_source_spec data = csv_spec("data.csv"), s;
	struct eval_out o;
	char cmd[512], *line = NULL;
	size_t cap = 0;
	FILE *p;

	s = pg_spec(NULL, "SELECT rec, CASE WHEN rec = 'p7' THEN NULL ELSE score END AS score "
			  "FROM preds WHERE ver = '1.0' ORDER BY ctid");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL,
		     "predictions (postgres) row 7: score (column 'score') is missing", NULL);
	s = pg_spec(NULL, "SELECT rec, CASE WHEN rec = 'p9' THEN 'n/a' ELSE score::text END AS "
			  "score FROM preds WHERE ver = '1.0' ORDER BY ctid");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EINVAL,
		     "row 9: score (column 'score'): value 'n/a' is not a probability", NULL);
	s = pg_spec("preds", NULL);
	join(&data, &s, "rec", "model_version", &o);
	expect_error(&o, FV_EINVAL, "no version column 'model_version'", NULL);
	/* a data-modifying CTE: refused by the read-only transaction, nothing deleted */
	s = pg_spec(NULL, "WITH d AS (DELETE FROM preds RETURNING rec, score) SELECT * FROM d");
	join(&data, &s, "rec", NULL, &o);
	expect_error(&o, FV_EREFUSED, "read-only transaction", NULL);
	snprintf(cmd, sizeof(cmd),
		 "psql -At -h %s -U postgres -d postgres -c 'SELECT count(*) FROM preds'", pg.dir);
	cr_assert_not_null(p = popen(cmd, "r"));
	cr_assert_gt(getline(&line, &cap, p), 0);
	pclose(p);
	cr_assert_eq(strtol(line, NULL, 10), NPRED + 6 + NREC, "rows were deleted: %s", line);
	free(line);
}
