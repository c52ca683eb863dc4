/* fedval: append-only, hash-chained audit logs and signed extracts for inspectors.
 * The file format and the exact bytes each hash and signature cover are in docs/audit.md. */
#ifndef FEDVAL_AUDIT_H
#define FEDVAL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/crypto.h"
#include "fedval/err.h"

/* prev of the first entry: 64 zeros. */
#define FV_AUDIT_GENESIS	"0000000000000000000000000000000000000000000000000000000000000000"
#define FV_AUDIT_EXTRACT_FORMAT "fedval-audit-extract/1"

/* Which check a broken link failed, in the order they are applied to each line. */
enum fv_audit_fault {
	FV_AUDIT_OK = 0,
	FV_AUDIT_TORN,	    /* final line has no newline: a write cut short */
	FV_AUDIT_JSON,	    /* not a JSON object */
	FV_AUDIT_FORM,	    /* missing, extra or ill-formed field, or not in canonical form */
	FV_AUDIT_SEQ,	    /* seq is not the previous seq + 1 (a line deleted, moved, added) */
	FV_AUDIT_PREV,	    /* prev is not the previous entry's hash */
	FV_AUDIT_HASH,	    /* hash is not the SHA-256 of the entry */
	FV_AUDIT_EXTRACT,   /* extract header malformed or inconsistent with its entries */
	FV_AUDIT_SIGNATURE, /* extract signature does not verify with the given key */
};
/* "seq gap", "prev-hash mismatch", ...: for people and for the "fault" of --json output. */
const char *fv_audit_fault_name(enum fv_audit_fault f);

/* Outcome of checking a log or an extract. */
struct fv_audit_verdict {
	enum fv_audit_fault fault; /* FV_AUDIT_OK if every link holds */
	uint64_t entries;	   /* entries that verified (all of them when ok) */
	uint64_t first_seq;	   /* seq of the first entry (0 if none) */
	uint64_t last_seq;	   /* seq of the last good entry (0 if none) */
	char head[FV_SHA256_HEX];  /* hash of the last good entry; FV_AUDIT_GENESIS if none */
	uint64_t bad_line;	   /* the broken link: 1-based line of a log, entry of an extract;
				    * 0 if ok or the fault is in an extract's header */
	char why[256];		   /* what exactly was wrong */
};

/* ---- the log of one process ---- */
struct fv_audit;

/* Open the log at path, creating it (mode 0600) if missing. The existing chain is verified
 * first: a broken chain is refused (FV_ECORRUPT, d names the line and the check), except an
 * incomplete final line, which can only be an append cut short by a crash before it was
 * acknowledged: it is truncated, logged, and recorded as an "audit.recovered" entry.
 * The file is locked (flock) against a second writer: FV_ESTATE if another holds it. */
fv_err fv_audit_open(const char *path, struct fv_audit **out, struct fv_diag *d);
/* Close; accepts NULL. Every acknowledged entry is already on disk. */
void fv_audit_close(struct fv_audit *a);

/* Append one entry: event and principal are 1-64 chars of [A-Za-z0-9._:@-]; the payload is
 * recorded by its SHA-256 only; detail_json is NULL or a JSON object of at most
 * FV_MAX_AUDIT_DETAIL_KEYS short string values (identifiers, counts, reasons -- never a
 * record value). The entry is one write(2) followed by fdatasync: when this returns FV_OK
 * the entry is durable. hash_out (may be NULL) gets the entry's hash. Thread-safe. After an
 * I/O failure that could not be rolled back the handle refuses appends (FV_ESTATE). */
fv_err fv_audit_append(struct fv_audit *a, const char *event, const char *principal,
		       const void *payload, size_t payload_len, const char *detail_json,
		       char hash_out[FV_SHA256_HEX], struct fv_diag *d);
/* The same with the payload's digest (64 lowercase hex digits) computed by the caller. */
fv_err fv_audit_append_digest(struct fv_audit *a, const char *event, const char *principal,
			      const char *payload_sha256, const char *detail_json,
			      char hash_out[FV_SHA256_HEX], struct fv_diag *d);
/* seq and hash of the last entry (0 and FV_AUDIT_GENESIS for an empty log). Thread-safe. */
void fv_audit_head(struct fv_audit *a, uint64_t *seq, char head[FV_SHA256_HEX]);

/* ---- checking, for anyone holding the file ---- */
/* Verify every link of the log at path, streaming. FV_OK: *v says ok. FV_ECORRUPT: *v names
 * the first broken link (d too). FV_ENOTFOUND / FV_EIO: the file could not be read. */
fv_err fv_audit_verify_file(const char *path, struct fv_audit_verdict *v, struct fv_diag *d);

/* ---- signed extracts for an inspector ---- */
/* Build an extract of entries from..to (inclusive; 0 = first / last) of the log at path,
 * which must verify whole: the entries, the hash before `from`, the log's size and head at
 * export time, and key's ECDSA signature over the canonical extract. *out is a
 * NUL-terminated JSON document to free with free(). */
fv_err fv_audit_export(const char *path, const struct fv_key *key, uint64_t from, uint64_t to,
		       char **out, size_t *out_len, struct fv_diag *d);
/* Check an extract's chain and its signature with pub (DER SubjectPublicKeyInfo; required).
 * Results as fv_audit_verify_file. */
fv_err fv_audit_verify_extract(const char *json, size_t len, const uint8_t *pub, size_t pub_len,
			       struct fv_audit_verdict *v, struct fv_diag *d);

/* The public key to check an extract with, from a PEM file holding a public key, a
 * certificate or a private key. With ca_path, a certificate must also verify against that
 * CA (fv_cert_verify). pub gets DER SubjectPublicKeyInfo of at most FV_PUBKEY_MAX bytes. */
fv_err fv_audit_pubkey_load(const char *path, const char *ca_path, uint8_t pub[FV_PUBKEY_MAX],
			    size_t *pub_len, struct fv_diag *d);

#endif
