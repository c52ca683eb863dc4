/* fedval: allocation, logging, files and small string helpers shared by every module. */
#ifndef FEDVAL_UTIL_H
#define FEDVAL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

#define FV_VERSION_STRING "0.1.0"

/* ---- allocation: every allocation goes through these so tests can inject failure ---- */
void *fv_alloc(size_t n);
void *fv_calloc(size_t count, size_t size); /* checks count*size for overflow */
void *fv_realloc(void *p, size_t n);
void fv_free(void *p);
char *fv_strdup(const char *s);
char *fv_strndup(const char *s, size_t n);
/* Make the Nth allocation from now (1 = the next one) and every later one fail; 0 disarms.
 * For tests only; not thread-safe against concurrent arming. */
void fv_alloc_fail_after(long n);

/* ---- checked arithmetic ---- */
static inline bool fv_mul_overflow(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}
static inline bool fv_add_overflow(size_t a, size_t b, size_t *out)
{
	return __builtin_add_overflow(a, b, out);
}

/* ---- logging: one line per event, "level=... event=... k=v ...", never a record value ---- */
enum fv_log_level { FV_LOG_DEBUG = 0, FV_LOG_INFO, FV_LOG_WARN, FV_LOG_ERROR };
void fv_log_set_level(enum fv_log_level lvl);
void fv_log_set_component(const char *name); /* e.g. "coordinator", "node:hospital-a" */
/* fmt holds the key=value pairs after the event name, e.g. fv_log(FV_LOG_INFO, "job_done",
 * "job=%s n=%d", ...). Values with spaces should be quoted by the caller with %s via
 * fv_log_quote. Thread-safe: each call writes one line with one write(2). */
void fv_log(enum fv_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy s into buf as a log value: quoted if it contains spaces, quotes or '=', control
 * characters replaced by '?'. Returns buf. */
const char *fv_log_quote(char *buf, size_t cap, const char *s);
/* fv_log_quote into a temporary that lives until the end of the enclosing block. */
#define FV_Q(s) fv_log_quote((char[640]){0}, 640, (s))

/* ---- files ---- */
/* Read a whole file of at most max bytes into a fresh buffer (NUL-terminated, *len excludes
 * the NUL). */
fv_err fv_file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct fv_diag *d);
/* Make a rename of path durable: fsync the directory holding it (best effort). */
void fv_file_sync_dir(const char *path);
/* Write atomically: tmp file in the same directory, fsync, rename. mode e.g. 0600 / 0644. */
fv_err fv_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			    struct fv_diag *d);
/* FV_EAUTH if path is group- or world-readable (for private keys), FV_EIO if it cannot be
 * stat'ed. */
fv_err fv_file_check_private(const char *path, struct fv_diag *d);
fv_err fv_mkdir_p(const char *path, unsigned mode, struct fv_diag *d);

/* ---- strings ---- */
/* snprintf that reports truncation: FV_ELIMIT if the result did not fit. */
fv_err fv_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t fv_strlcpy(char *dst, const char *src, size_t cap);
void fv_hex(const uint8_t *in, size_t n, char *out);	 /* out holds 2n+1 chars */
fv_err fv_unhex(const char *in, uint8_t *out, size_t n); /* exactly 2n hex digits */
/* Parse numbers strictly: whole string, no trailing junk, range checked. */
fv_err fv_parse_long(const char *s, long min, long max, long *out);
fv_err fv_parse_double(const char *s, double *out); /* rejects NaN/Inf and junk */

/* ---- time ---- */
int64_t fv_now_us(void);			     /* wall clock, microseconds since the epoch */
int64_t fv_mono_ms(void);			     /* monotonic milliseconds */
void fv_time_iso(int64_t us, char *out, size_t cap); /* "2026-11-25T10:00:00Z" */

#endif
