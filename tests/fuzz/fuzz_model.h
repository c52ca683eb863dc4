/* fedval fuzz target: fv_model_load of a hostile ONNX artefact, callable from libFuzzer and from
 * the corpus replay test (tests/unit/model/test_model_corpus.c). */
#ifndef FEDVAL_FUZZ_MODEL_H
#define FEDVAL_FUZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* fv_model_load, fv_model_inspect (runnable must agree with the load), and, for a tabular
 * model with one float input, one fv_model_predict on a batch of three rows.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_model_one(const uint8_t *data, size_t size);

#endif
