/* fedval fuzz target: fv_chunk_decompress of a received model chunk, callable from libFuzzer and
 * from the corpus replay test (tests/unit/wire/test_chunk_corpus.c). */
#ifndef FEDVAL_FUZZ_CHUNK_H
#define FEDVAL_FUZZ_CHUNK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes 0-2 (little endian) are the expected raw size, the rest is the zstd frame, decompressed
 * into a buffer of exactly that size; the frame is also compressed and must come back whole.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_chunk_one(const uint8_t *data, size_t size);

#endif
