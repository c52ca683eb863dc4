/* SHA-256 through OpenSSL's EVP interface. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fedval/crypto.h"
#include "fedval/util.h"

struct fv_sha256 {
	EVP_MD_CTX *ctx;
};

/* The void-returning hash API has no way to report failure, and a wrong digest would be
 * worse than a crash (digests name models, results and signed bytes): stop the process. */
static void hash_fail(const char *what)
{
	fprintf(stderr, "fedval: SHA-256 %s failed inside OpenSSL\n", what);
	abort();
}

void fv_sha256(const void *buf, size_t n, uint8_t out[FV_SHA256_LEN])
{
	unsigned int len = 0;

	if (!EVP_Digest(n ? buf : "", n, out, &len, EVP_sha256(), NULL) || len != FV_SHA256_LEN)
		hash_fail("digest");
}

void fv_sha256_hex(const void *buf, size_t n, char out[FV_SHA256_HEX])
{
	uint8_t md[FV_SHA256_LEN];

	fv_sha256(buf, n, md);
	fv_hex(md, sizeof(md), out);
}

fv_err fv_sha256_new(struct fv_sha256 **out)
{
	struct fv_sha256 *h = fv_alloc(sizeof(*h));

	*out = NULL;
	if (!h)
		return FV_ENOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h->ctx);
		fv_free(h);
		return FV_ENOMEM;
	}
	*out = h;
	return FV_OK;
}

void fv_sha256_update(struct fv_sha256 *h, const void *buf, size_t n)
{
	if (n == 0)
		return;
	if (!EVP_DigestUpdate(h->ctx, buf, n))
		hash_fail("update");
}

void fv_sha256_final(struct fv_sha256 *h, uint8_t out[FV_SHA256_LEN])
{
	unsigned int len = 0;

	if (!EVP_DigestFinal_ex(h->ctx, out, &len) || len != FV_SHA256_LEN)
		hash_fail("final");
	EVP_MD_CTX_free(h->ctx);
	fv_free(h);
}
