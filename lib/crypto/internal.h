/* fedval crypto internals shared by the files of lib/crypto; not installed. */
#ifndef FEDVAL_CRYPTO_INTERNAL_H
#define FEDVAL_CRYPTO_INTERNAL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fedval/crypto.h"

/* A loaded private key; owns pkey. */
struct fv_key {
	EVP_PKEY *pkey;
};

/* Nonzero if pkey is an EC key on P-256 (prime256v1). */
int fv_crypto_is_p256(const EVP_PKEY *pkey);

/* Copy the reason of OpenSSL's oldest queued error into buf ("unknown error" if none) and
 * clear the thread's error queue, so stale errors never leak into a later call. Returns buf. */
const char *fv_crypto_ossl_error(char *buf, size_t cap);

/* Parse the first PEM certificate of pem[0..len). NULL (and the queue cleared) if none. */
X509 *fv_crypto_cert_parse(const char *pem, size_t len);

/* Create path exclusively (O_EXCL, never following a symlink), set its mode exactly, write
 * buf, fsync. FV_EEXIST if path exists. On failure, a file this call created is removed. */
fv_err fv_crypto_write_new(const char *path, const void *buf, size_t len, unsigned mode,
			   struct fv_diag *d);

#endif
