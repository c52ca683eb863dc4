/* fedval fuzz target: a received envelope, callable from libFuzzer and from the corpus replay test
 * (tests/unit/wire/test_envelope_corpus.c). */
#ifndef FEDVAL_FUZZ_ENVELOPE_H
#define FEDVAL_FUZZ_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

/* fv_wire_open; when it accepts, fv_wire_verify with the test key (tests/fuzz/fuzz_key.h) and a
 * pack / open / pack round trip that must be a fixed point.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_envelope_one(const uint8_t *data, size_t size);

#endif
