#include "fedval/limits.h"
#include "fedval/wire.h"

#include <zstd.h>

/* Compression level 3: zstd's default, fast enough that serving a 100 MiB model costs the
 * coordinator well under a second per node. */
#define CHUNK_LEVEL 3

/* ZSTD_compressBound(n) is n + n/256 + (a few hundred bytes at most for small n). */
_Static_assert(FV_MODEL_CHUNK_RAW + FV_MODEL_CHUNK_RAW / 256 + 1024 <= FV_MODEL_CHUNK_MAX,
	       "a compressed chunk must fit the 1 MiB wire limit");

fv_err fv_chunk_compress(const uint8_t *raw, size_t n, uint8_t *out, size_t *out_len)
{
	size_t r;
	if (n > FV_MODEL_CHUNK_RAW)
		return FV_ELIMIT;
	r = ZSTD_compress(out, FV_MODEL_CHUNK_MAX, raw, n, CHUNK_LEVEL);
	if (ZSTD_isError(r))
		return FV_EIO;
	*out_len = r;
	return FV_OK;
}

fv_err fv_chunk_decompress(const uint8_t *frame, size_t n, uint8_t *out, size_t expect)
{
	unsigned long long content = ZSTD_getFrameContentSize(frame, n);
	size_t r;

	/* Refuse frames that do not declare their size, or declare another one: a hostile peer
	 * must not make us write past `expect`. */
	if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
	    content != expect)
		return FV_ECORRUPT;
	r = ZSTD_decompress(out, expect, frame, n);
	if (ZSTD_isError(r) || r != expect)
		return FV_ECORRUPT;
	return FV_OK;
}

uint32_t fv_chunk_count(uint64_t size)
{
	return (uint32_t)((size + FV_MODEL_CHUNK_RAW - 1) / FV_MODEL_CHUNK_RAW);
}
