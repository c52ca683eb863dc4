/* fedval fuzz target: fv_audit_verify_file on a log, callable from libFuzzer and from the corpus
 * replay test (tests/unit/audit/test_audit_log_corpus.c). */
#ifndef FEDVAL_FUZZ_AUDIT_LOG_H
#define FEDVAL_FUZZ_AUDIT_LOG_H

#include <stddef.h>
#include <stdint.h>

/* The input as an audit log (a memfd) through fv_audit_verify_file; the verdict must agree with
 * the returned code.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_audit_log_one(const uint8_t *data, size_t size);

#endif
