/* fedval fuzz target: fv_config_load of an INI file, callable from libFuzzer and from the corpus
 * replay test (tests/unit/util/test_config_corpus.c). */
#ifndef FEDVAL_FUZZ_CONFIG_H
#define FEDVAL_FUZZ_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* The input as a config file (a memfd) through fv_config_load and, when it loads, every
 * accessor on every entry.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_config_one(const uint8_t *data, size_t size);

#endif
