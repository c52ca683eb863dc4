/* fedval fuzz target: fv_privacy_gate on arbitrary bytes, callable from libFuzzer and from the
 * corpus replay test (tests/unit/privacy/test_gate_corpus.c). */
#ifndef FEDVAL_FUZZ_GATE_H
#define FEDVAL_FUZZ_GATE_H

#include <stddef.h>
#include <stdint.h>

/* The input through the gate under the default policy and a permissive one; an accepted result
 * is decoded again and every released count checked against the policy independently.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_gate_one(const uint8_t *data, size_t size);

#endif
