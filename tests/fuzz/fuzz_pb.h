/* fedval fuzz target: fv_pb_unpack of SiteResult, SubmitResult and Job, callable from libFuzzer and
 * from the corpus replay test (tests/unit/wire/test_pb_corpus.c). */
#ifndef FEDVAL_FUZZ_PB_H
#define FEDVAL_FUZZ_PB_H

#include <stddef.h>
#include <stdint.h>

/* The input unpacked as each of the three messages, under the full budget and a tight one;
 * what unpacks must re-pack to a fixed point, and a SubmitResult's result unpack again.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_pb_one(const uint8_t *data, size_t size);

#endif
