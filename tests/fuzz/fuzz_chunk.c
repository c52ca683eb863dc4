/* fedval fuzz target: fv_chunk_decompress (lib/wire/chunk.c) of a model chunk received from a
 * peer, into a buffer of exactly the expected size, so that ASan sees any write past it.
 * Input: 3 bytes of expected raw size (little endian, at most FV_MODEL_CHUNK_RAW), then the
 * frame.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/work/build-fuzz/gen tests/fuzz/fuzz_chunk.c \
 *         lib/wire/chunk.c lib/util/[a-z]*.c -lzstd -linih -lm -lpthread -o /tmp/fuzz_chunk
 *   mkdir -p /tmp/chunk-corpus
 *   /tmp/fuzz_chunk -max_len=65536 -max_total_time=120 /tmp/chunk-corpus tests/fuzz/corpus/chunk
 * tests/unit/wire/test_chunk_corpus.c replays tests/fuzz/corpus/chunk on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_chunk.h"

#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/wire.h"
#include "fuzz/fuzz_common.h"

int fv_fuzz_chunk_one(const uint8_t *data, size_t size)
{
	const uint8_t *frame = data + 3;
	size_t n = size - 3, expect;
	uint8_t *out, *z, *back;
	size_t zlen = 0;
	fv_err e;

	if (size < 3)
		return 0;
	expect = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16) %
		 (FV_MODEL_CHUNK_RAW + 1);
	out = malloc(expect ? expect : 1);
	FUZZ_CHECK(out != NULL);
	e = fuzz_check_err(fv_chunk_decompress(frame, n, out, expect), NULL, FUZZ_ERR(FV_ECORRUPT));
	fuzz_result(e);
	free(out);

	/* Whatever the frame bytes are, as raw data they survive a round trip. */
	if (n <= FV_MODEL_CHUNK_RAW) {
		z = malloc(FV_MODEL_CHUNK_MAX);
		back = malloc(n ? n : 1);
		FUZZ_CHECK(z && back);
		FUZZ_CHECK(fv_chunk_compress(frame, n, z, &zlen) == FV_OK);
		FUZZ_CHECK(zlen <= FV_MODEL_CHUNK_MAX);
		FUZZ_CHECK(fv_chunk_decompress(z, zlen, back, n) == FV_OK);
		FUZZ_CHECK(n == 0 || memcmp(back, frame, n) == 0);
		if (n > 0)
			FUZZ_CHECK(fv_chunk_decompress(z, zlen, back, n - 1) == FV_ECORRUPT);
		free(back);
		free(z);
	}
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_chunk_one(data, size);
}
#endif
