/* The coordinator's store: SQLite in WAL mode, schema versioned by migrations.
 * Thread-safety: every function takes the store's mutex; callers that need several steps to
 * be atomic use store_lock/store_unlock around them (the mutex is recursive). */
#ifndef FEDVAL_COORD_STORE_H
#define FEDVAL_COORD_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "fedval/err.h"

struct store;

fv_err store_open(const char *path, struct store **out, struct fv_diag *d);
void store_close(struct store *s);
void store_lock(struct store *s);
void store_unlock(struct store *s);
sqlite3 *store_db(struct store *s);
int store_schema_version(struct store *s);

/* Run one statement with bound parameters. types: one char per parameter:
 * 't' const char *, 'i' int64_t, 'b' (const void *, size_t), 'd' double, 'n' NULL (an
 * argument is still passed, a pointer, and ignored).
 * FV_EEXIST on a uniqueness violation, FV_EDB otherwise. *changes (optional) gets the number
 * of rows changed. */
fv_err store_exec(struct store *s, int *changes, const char *sql, const char *types, ...);
/* Prepare and bind a query; step it with sqlite3_step and finalize it yourself. */
fv_err store_query(struct store *s, sqlite3_stmt **st, const char *sql, const char *types, ...);

fv_err store_begin(struct store *s);
fv_err store_commit(struct store *s);
void store_rollback(struct store *s);

#endif
