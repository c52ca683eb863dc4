/* fedval fuzz target: fv_audit_verify_extract on bytes, callable from libFuzzer and from the corpus
 * replay test (tests/unit/audit/test_audit_extract_corpus.c). */
#ifndef FEDVAL_FUZZ_AUDIT_EXTRACT_H
#define FEDVAL_FUZZ_AUDIT_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

/* The input as a signed extract, checked with the test key (tests/fuzz/fuzz_key.h); the
 * verdict must agree with the returned code.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_audit_extract_one(const uint8_t *data, size_t size);

#endif
