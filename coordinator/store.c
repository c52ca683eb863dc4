#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "fedval/util.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
};

/* Migrations, in order; migration i brings the schema from version i to i + 1. Never edit a
 * shipped migration: add the next one. */
static const char *const migrations[] = {
    /* 1: the federation loop of issue 3 */
    "CREATE TABLE principals("
    " name TEXT PRIMARY KEY, role TEXT NOT NULL, pubkey BLOB NOT NULL, cert_pem TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, revoked_reason TEXT,"
    " last_seq INTEGER NOT NULL DEFAULT 0, enrolled_us INTEGER NOT NULL,"
    " last_seen_us INTEGER, software TEXT);"
    "CREATE TABLE benchmarks("
    " name TEXT NOT NULL, version TEXT NOT NULL, spec_json TEXT NOT NULL,"
    " created_by TEXT NOT NULL, created_us INTEGER NOT NULL, PRIMARY KEY(name, version));"
    "CREATE TABLE models("
    " version_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,"
    " vendor TEXT NOT NULL, onnx_sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " manifest_json TEXT NOT NULL, signature BLOB NOT NULL, created_us INTEGER NOT NULL,"
    " UNIQUE(vendor, name, version));"
    "CREATE TABLE uploads("
    " sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, count INTEGER NOT NULL,"
    " next_index INTEGER NOT NULL, owner TEXT NOT NULL, updated_us INTEGER NOT NULL);"
    "CREATE TABLE runs("
    " run_id TEXT PRIMARY KEY, benchmark_name TEXT NOT NULL, benchmark_version TEXT NOT NULL,"
    " model_version_id TEXT NOT NULL REFERENCES models(version_id),"
    " created_by TEXT NOT NULL, created_us INTEGER NOT NULL);"
    "CREATE TABLE jobs("
    " job_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id),"
    " node TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,"
    " created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL);"
    "CREATE INDEX jobs_node_state ON jobs(node, state);"
    "CREATE TABLE results("
    " job_id TEXT PRIMARY KEY REFERENCES jobs(job_id), node TEXT NOT NULL,"
    " result BLOB NOT NULL, signature BLOB NOT NULL, received_us INTEGER NOT NULL);",
    /* 2: sites' decisions on jobs (manual approval, veto), kept with the signed request */
    "CREATE TABLE decisions("
    " job_id TEXT NOT NULL REFERENCES jobs(job_id), node TEXT NOT NULL,"
    " decision TEXT NOT NULL, reason TEXT, envelope BLOB NOT NULL, received_us INTEGER NOT NULL);"
    "CREATE INDEX decisions_job ON decisions(job_id);",
    /* 3: head-to-head runs: models evaluated on the same records as the run's model */
    "CREATE TABLE run_models("
    " run_id TEXT NOT NULL REFERENCES runs(run_id), idx INTEGER NOT NULL,"
    " model_version_id TEXT NOT NULL REFERENCES models(version_id), PRIMARY KEY(run_id, idx));",
    /* 4: datasets registered by sites, their approval per benchmark, benchmark lifecycle */
    "CREATE TABLE datasets("
    " node TEXT NOT NULL, name TEXT NOT NULL, description TEXT, period TEXT, source_kind TEXT,"
    " records INTEGER, summary_json TEXT, fingerprint TEXT, registered_us INTEGER NOT NULL,"
    " PRIMARY KEY(node, name));"
    "CREATE TABLE dataset_approvals("
    " benchmark_name TEXT NOT NULL, node TEXT NOT NULL, dataset TEXT NOT NULL,"
    " approved INTEGER NOT NULL, reason TEXT, by TEXT NOT NULL, at_us INTEGER NOT NULL,"
    " PRIMARY KEY(benchmark_name, node));"
    "ALTER TABLE benchmarks ADD COLUMN state TEXT NOT NULL DEFAULT 'open';"
    "ALTER TABLE jobs ADD COLUMN dataset TEXT;",
    /* 5: multi-round fits (recalibration): the coordinator's Newton state and sites' sums */
    "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'evaluation';"
    "ALTER TABLE runs ADD COLUMN round_state TEXT;"
    "CREATE TABLE round_results("
    " run_id TEXT NOT NULL REFERENCES runs(run_id), step INTEGER NOT NULL, node TEXT NOT NULL,"
    " n INTEGER NOT NULL, sums_json TEXT NOT NULL, envelope BLOB NOT NULL,"
    " received_us INTEGER NOT NULL, PRIMARY KEY(run_id, step, node));",
    /* 6: monitoring schedules (coordinator/schedule.c): cadence, next due run, the drift
     * state of the schedule's runs; a removed schedule is kept (removed_us) with its runs */
    "CREATE TABLE schedules("
    " id TEXT PRIMARY KEY, benchmark_name TEXT NOT NULL, benchmark_version TEXT NOT NULL,"
    " model_version_id TEXT NOT NULL REFERENCES models(version_id),"
    " cadence TEXT NOT NULL, mdr_class TEXT, next_due_us INTEGER NOT NULL, last_run_id TEXT,"
    " window_kind TEXT NOT NULL DEFAULT 'previous_period', cusum_k REAL NOT NULL,"
    " cusum_h REAL NOT NULL, max_runs INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL,"
    " created_us INTEGER NOT NULL, removed_us INTEGER, alert INTEGER NOT NULL DEFAULT 0,"
    " alerts_json TEXT, drift_json TEXT, periods INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE schedule_runs("
    " run_id TEXT PRIMARY KEY REFERENCES runs(run_id),"
    " schedule_id TEXT NOT NULL REFERENCES schedules(id), seq INTEGER NOT NULL,"
    " due_us INTEGER NOT NULL, window_start TEXT, window_end TEXT,"
    " analysed INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX schedule_runs_schedule ON schedule_runs(schedule_id, seq);",
    /* 7: publication of a run by the authority */
    "ALTER TABLE runs ADD COLUMN published_us INTEGER;",
    /* 8: the authority's review of submitted model versions */
    "ALTER TABLE models ADD COLUMN acceptance TEXT NOT NULL DEFAULT 'submitted';"
    "ALTER TABLE models ADD COLUMN acceptance_reason TEXT;"
    "ALTER TABLE models ADD COLUMN acceptance_by TEXT;"
    "ALTER TABLE models ADD COLUMN acceptance_us INTEGER;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

void store_lock(struct store *s)
{
	pthread_mutex_lock(&s->mu);
}

void store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->mu);
}

static fv_err bindv(sqlite3_stmt *st, const char *types, va_list ap)
{
	int i = 1, rc = SQLITE_OK;
	for (const char *t = types; *t && rc == SQLITE_OK; t++, i++) {
		switch (*t) {
		case 't':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(st, i, p ? p : "", n, SQLITE_TRANSIENT);
			break;
		}
		case 'n': /* takes (and ignores) an argument like the others: callers pass the
			   * NULL they would otherwise bind, so the arguments after it stay aligned
			   */
			(void)va_arg(ap, const void *);
			rc = sqlite3_bind_null(st, i);
			break;
		default:
			return FV_EINVAL;
		}
	}
	return rc == SQLITE_OK ? FV_OK : FV_EDB;
}

fv_err store_query(struct store *s, sqlite3_stmt **st, const char *sql, const char *types, ...)
{
	va_list ap;
	fv_err e;

	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		fv_log(FV_LOG_ERROR, "store_prepare", "error=\"%s\"", sqlite3_errmsg(s->db));
		return FV_EDB;
	}
	va_start(ap, types);
	e = bindv(*st, types, ap);
	va_end(ap);
	if (e != FV_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
	}
	return e;
}

fv_err store_exec(struct store *s, int *changes, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	fv_err e;
	int rc;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fv_log(FV_LOG_ERROR, "store_prepare", "error=\"%s\"", sqlite3_errmsg(s->db));
		e = FV_EDB;
		goto out;
	}
	va_start(ap, types);
	e = bindv(st, types, ap);
	va_end(ap);
	if (e != FV_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		e = FV_EEXIST;
	} else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fv_log(FV_LOG_ERROR, "store_exec", "error=\"%s\"", sqlite3_errmsg(s->db));
		e = FV_EDB;
	}
	if (changes)
		*changes = sqlite3_changes(s->db);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return e;
}

static fv_err exec_plain(struct store *s, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fv_log(FV_LOG_ERROR, "store_exec", "error=\"%s\"", err ? err : "?");
		sqlite3_free(err);
		return FV_EDB;
	}
	return FV_OK;
}

fv_err store_begin(struct store *s)
{
	return exec_plain(s, "BEGIN IMMEDIATE");
}

fv_err store_commit(struct store *s)
{
	return exec_plain(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	exec_plain(s, "ROLLBACK");
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static fv_err migrate(struct store *s, struct fv_diag *d)
{
	int v = store_schema_version(s);
	char pragma[64];

	if (v > N_MIGRATIONS)
		return fv_diag_set(d, FV_EDB,
				   "store schema version %d is newer than this coordinator (%d)", v,
				   N_MIGRATIONS);
	for (; v < N_MIGRATIONS; v++) {
		if (store_begin(s) != FV_OK)
			return fv_diag_set(d, FV_EDB, "migration %d: cannot begin", v + 1);
		fv_fmt(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec_plain(s, migrations[v]) != FV_OK || exec_plain(s, pragma) != FV_OK ||
		    store_commit(s) != FV_OK) {
			store_rollback(s);
			return fv_diag_set(d, FV_EDB, "migration to schema version %d failed",
					   v + 1);
		}
		fv_log(FV_LOG_INFO, "store_migrated", "version=%d", v + 1);
	}
	return FV_OK;
}

fv_err store_open(const char *path, struct store **out, struct fv_diag *d)
{
	struct store *s = fv_calloc(1, sizeof(*s));
	pthread_mutexattr_t attr;
	fv_err e;

	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		e = fv_diag_set(d, FV_EDB, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "?");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec_plain(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			  "PRAGMA foreign_keys=ON") != FV_OK) {
		e = fv_diag_set(d, FV_EDB, "%s: cannot enable WAL", path);
		goto fail;
	}
	if ((e = migrate(s, d)) != FV_OK)
		goto fail;
	*out = s;
	return FV_OK;
fail:
	store_close(s);
	return e;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	fv_free(s);
}
