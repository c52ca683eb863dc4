/* Tests lib/wire/chunk.c: model chunks as zstd frames. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"

/* xorshift64: deterministic "incompressible" bytes. */
static void fill_random(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)(x >> 24);
	}
}

static void round_trip(const uint8_t *raw, size_t n)
{
	uint8_t *frame = malloc(FV_MODEL_CHUNK_MAX), *back = malloc(n ? n : 1);
	size_t flen = 0;

	cr_assert_eq(fv_chunk_compress(raw, n, frame, &flen), FV_OK, "n=%zu", n);
	cr_assert(flen > 0 && flen <= FV_MODEL_CHUNK_MAX, "frame of %zu bytes", flen);
	cr_assert_eq(fv_chunk_decompress(frame, flen, back, n), FV_OK, "n=%zu", n);
	if (n)
		cr_assert_eq(memcmp(raw, back, n), 0);
	free(frame);
	free(back);
}

Test(chunk, round_trip_sizes)
{
	uint8_t *raw = calloc(1, FV_MODEL_CHUNK_RAW);
	round_trip(raw, 0);
	raw[0] = 0x5a;
	round_trip(raw, 1);
	fill_random(raw, 4096, 7);
	round_trip(raw, 4096);
	memset(raw, 0, FV_MODEL_CHUNK_RAW);
	round_trip(raw, FV_MODEL_CHUNK_RAW);
	free(raw);
}

Test(chunk, incompressible_full_chunk_fits_the_wire_limit)
{
	uint8_t *raw = malloc(FV_MODEL_CHUNK_RAW), *frame = malloc(FV_MODEL_CHUNK_MAX);
	size_t flen = 0;

	fill_random(raw, FV_MODEL_CHUNK_RAW, 42);
	cr_assert_eq(fv_chunk_compress(raw, FV_MODEL_CHUNK_RAW, frame, &flen), FV_OK);
	cr_assert(flen >= FV_MODEL_CHUNK_RAW, "random data does not compress (%zu)", flen);
	cr_assert(flen <= FV_MODEL_CHUNK_MAX, "frame of %zu bytes", flen);
	round_trip(raw, FV_MODEL_CHUNK_RAW);
	free(raw);
	free(frame);
}

Test(chunk, compress_refuses_more_than_a_chunk)
{
	uint8_t *raw = calloc(1, FV_MODEL_CHUNK_RAW + 1), *frame = malloc(FV_MODEL_CHUNK_MAX);
	size_t flen = 0;
	cr_assert_eq(fv_chunk_compress(raw, FV_MODEL_CHUNK_RAW + 1, frame, &flen), FV_ELIMIT);
	free(raw);
	free(frame);
}

Test(chunk, decompress_wrong_expected_size_refused)
{
	uint8_t raw[1000], frame[2048], out[2000];
	size_t flen = 0;

	fill_random(raw, sizeof(raw), 3);
	cr_assert_eq(fv_chunk_compress(raw, sizeof(raw), frame, &flen), FV_OK);
	cr_assert_eq(fv_chunk_decompress(frame, flen, out, 999), FV_ECORRUPT);
	cr_assert_eq(fv_chunk_decompress(frame, flen, out, 1001), FV_ECORRUPT);
	cr_assert_eq(fv_chunk_decompress(frame, flen, out, 0), FV_ECORRUPT);
	cr_assert_eq(fv_chunk_decompress(frame, flen, out, 1000), FV_OK);
}

Test(chunk, corrupted_or_truncated_frame_refused)
{
	uint8_t raw[4096], frame[8192], out[4096];
	size_t flen = 0;

	/* Partly compressible, so the frame holds both literals and sequences. */
	fill_random(raw, sizeof(raw), 9);
	for (size_t i = 0; i < sizeof(raw); i += 64)
		memset(raw + i, 'a', 32);
	cr_assert_eq(fv_chunk_compress(raw, sizeof(raw), frame, &flen), FV_OK);
	for (size_t i = 0; i < flen; i++) {
		frame[i] ^= 0xff;
		cr_assert_eq(fv_chunk_decompress(frame, flen, out, sizeof(raw)), FV_ECORRUPT,
			     "byte %zu of %zu flipped", i, flen);
		frame[i] ^= 0xff;
	}
	for (size_t n = 0; n < flen; n++)
		cr_assert_eq(fv_chunk_decompress(frame, n, out, sizeof(raw)), FV_ECORRUPT,
			     "truncated to %zu", n);
	/* Trailing junk after the frame. */
	frame[flen] = 0;
	cr_assert_eq(fv_chunk_decompress(frame, flen + 1, out, sizeof(raw)), FV_ECORRUPT);
	cr_assert_eq(fv_chunk_decompress(frame, flen, out, sizeof(raw)), FV_OK);
}

Test(chunk, garbage_refused)
{
	/* Bytes that are not a zstd frame at all. */
	uint8_t junk[64], out[64];
	fill_random(junk, sizeof(junk), 11);
	cr_assert_eq(fv_chunk_decompress(junk, sizeof(junk), out, sizeof(out)), FV_ECORRUPT);
}

Test(chunk, count_boundaries)
{
	cr_assert_eq(fv_chunk_count(0), 0);
	cr_assert_eq(fv_chunk_count(1), 1);
	cr_assert_eq(fv_chunk_count(FV_MODEL_CHUNK_RAW - 1), 1);
	cr_assert_eq(fv_chunk_count(FV_MODEL_CHUNK_RAW), 1);
	cr_assert_eq(fv_chunk_count(FV_MODEL_CHUNK_RAW + 1), 2);
	cr_assert_eq(fv_chunk_count(2ull * FV_MODEL_CHUNK_RAW), 2);
	cr_assert_eq(fv_chunk_count(FV_MAX_MODEL_BYTES), 517);
	/* Sizes near 2^64 must not wrap to a small count. */
	cr_assert_eq(fv_chunk_count(UINT64_MAX), UINT32_MAX);
	cr_assert_eq(fv_chunk_count(UINT64_MAX - FV_MODEL_CHUNK_RAW + 2), UINT32_MAX);
}
