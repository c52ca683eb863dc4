/* fedval audit internals shared by the files of lib/audit; not installed. */
#ifndef FEDVAL_AUDIT_INT_H
#define FEDVAL_AUDIT_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "fedval/audit.h"

/* What entries, extracts and signatures are serialized with (docs/audit.md). */
#define FV_AUDIT_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

/* Event and principal names: 1-64 chars of [A-Za-z0-9._:@-]. */
bool fv_audit_token_valid(const char *s);
/* 64 lowercase hex digits. */
bool fv_audit_hex64_valid(const char *s);
/* Check a detail object: at most FV_MAX_AUDIT_DETAIL_KEYS keys (tokens), values short
 * strings without control characters. why gets the reason. */
bool fv_audit_detail_valid(const json_t *detail, char *why, size_t cap);
/* SHA-256 (hex) of the canonical serialization of entry without its "hash" member. */
fv_err fv_audit_entry_hash(const json_t *entry, char out[FV_SHA256_HEX]);

/* Check one entry against the chain: form, then seq == want_seq, prev == want_prev, hash.
 * raw (may be NULL) is the line as stored, without its newline; it must be the canonical
 * serialization of the entry. On success hash gets the entry's hash. */
enum fv_audit_fault fv_audit_entry_check(const json_t *entry, const char *raw, size_t raw_len,
					 uint64_t want_seq, const char *want_prev,
					 char hash[FV_SHA256_HEX], char *why, size_t cap);

/* Called for each entry that verified, in order; nonzero stops the walk (FV_ECANCELED). */
typedef int (*fv_audit_entry_fn)(void *ctx, const json_t *entry, size_t line_len);

/* Verify the log open on fd from offset 0 (the fd's offset moves). *good_end gets the byte
 * offset just past the last good line. Returns FV_OK, FV_ECORRUPT (verdict filled), FV_EIO,
 * FV_ENOMEM, or FV_ECANCELED (fn stopped it). */
fv_err fv_audit_verify_fd(int fd, const char *path, fv_audit_entry_fn fn, void *ctx,
			  struct fv_audit_verdict *v, uint64_t *good_end, struct fv_diag *d);

#endif
