/* fedval fuzz target: fv_data_summarise of a CSV file, callable from libFuzzer and from the corpus
 * replay test (tests/unit/data/test_summary_corpus.c). */
#ifndef FEDVAL_FUZZ_SUMMARY_H
#define FEDVAL_FUZZ_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

/* The input as a CSV file (a memfd) summarised with fixed variables (age, crp), label (y) and
 * subgroups (sex, age bands); an accepted summary must carry its own fingerprint.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_summary_one(const uint8_t *data, size_t size);

#endif
