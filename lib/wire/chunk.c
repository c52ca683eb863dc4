#include "fedval/limits.h"
#include "fedval/wire.h"

#include <stdint.h>
#include <zstd.h>

/* Compression level 3: zstd's default, fast enough that serving a 100 MiB model costs the
 * coordinator well under a second per node. */
#define CHUNK_LEVEL 3

/* ZSTD_compressBound(n) is n + n/256 + (a few hundred bytes at most for small n); the
 * checksum adds 4. */
_Static_assert(FV_MODEL_CHUNK_RAW + FV_MODEL_CHUNK_RAW / 256 + 1024 <= FV_MODEL_CHUNK_MAX,
	       "a compressed chunk must fit the 1 MiB wire limit");

/* Frames carry zstd's content checksum (4 bytes): without it a damaged literal decodes to
 * other bytes of the right size and only the whole-model digest would notice, much later. */
fv_err fv_chunk_compress(const uint8_t *raw, size_t n, uint8_t *out, size_t *out_len)
{
	ZSTD_CCtx *cx;
	size_t r;
	if (n > FV_MODEL_CHUNK_RAW)
		return FV_ELIMIT;
	if (!(cx = ZSTD_createCCtx()))
		return FV_ENOMEM;
	r = ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, CHUNK_LEVEL);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(cx, out, FV_MODEL_CHUNK_MAX, raw, n);
	ZSTD_freeCCtx(cx);
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

/* Saturates at UINT32_MAX; size + RAW - 1 would wrap for sizes near 2^64. */
uint32_t fv_chunk_count(uint64_t size)
{
	uint64_t n = size / FV_MODEL_CHUNK_RAW + (size % FV_MODEL_CHUNK_RAW != 0);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}
