/* fedval: hashing, ECDSA P-256 keys and signatures, X.509 certificates of the federation PKI.
 * All through OpenSSL's API. Keys are one per principal and serve TLS and signing alike. */
#ifndef FEDVAL_CRYPTO_H
#define FEDVAL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

#define FV_SHA256_LEN 32
#define FV_SHA256_HEX (2 * FV_SHA256_LEN + 1)
#define FV_SIG_MAX    80  /* DER ECDSA P-256 signature: at most 72 bytes */
#define FV_PUBKEY_MAX 128 /* DER SubjectPublicKeyInfo of a P-256 key: 91 bytes */

void fv_sha256(const void *buf, size_t n, uint8_t out[FV_SHA256_LEN]);
void fv_sha256_hex(const void *buf, size_t n, char out[FV_SHA256_HEX]);

/* Incremental SHA-256 for large files. */
struct fv_sha256;
fv_err fv_sha256_new(struct fv_sha256 **out);
void fv_sha256_update(struct fv_sha256 *h, const void *buf, size_t n);
void fv_sha256_final(struct fv_sha256 *h, uint8_t out[FV_SHA256_LEN]); /* also frees h */

/* A private key (ECDSA P-256). */
struct fv_key;
/* Load a PEM private key file; refuses (FV_EAUTH) a file readable by group or others. */
fv_err fv_key_load(const char *path, struct fv_key **out, struct fv_diag *d);
void fv_key_free(struct fv_key *k);
/* DER SubjectPublicKeyInfo of the key's public half. */
fv_err fv_key_public_der(const struct fv_key *k, uint8_t *out, size_t cap, size_t *len);
/* ECDSA-SHA256 over msg; sig gets a DER signature of *siglen <= FV_SIG_MAX bytes. */
fv_err fv_sign(const struct fv_key *k, const void *msg, size_t n, uint8_t *sig, size_t *siglen);
/* Verify an ECDSA-SHA256 signature with a DER SubjectPublicKeyInfo (P-256 only).
 * FV_ECRYPTO if the signature does not verify or the key is not a P-256 key. */
fv_err fv_verify(const uint8_t *pub_der, size_t pub_len, const void *msg, size_t n,
		 const uint8_t *sig, size_t siglen);

/* What fedval reads from a federation certificate. The role is in the subject's OU, the
 * principal name in its CN. */
enum fv_role {
	FV_ROLE_NONE = 0,
	FV_ROLE_AUTHORITY,
	FV_ROLE_VENDOR,
	FV_ROLE_NODE,
	FV_ROLE_COORDINATOR
};
const char *fv_role_name(enum fv_role r);
fv_err fv_role_parse(const char *s, enum fv_role *out);

struct fv_cert_info {
	char name[65]; /* CN: the principal name */
	enum fv_role role;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t pub_len;
	char fingerprint[FV_SHA256_HEX]; /* SHA-256 of the certificate's DER */
	int64_t not_after;		 /* seconds since the epoch */
};

/* Check that cert_pem is signed by the CA in ca_pem, is currently valid, carries a known
 * role with the matching extended key usage and a P-256 key; fill *info. */
fv_err fv_cert_verify(const char *ca_pem, size_t ca_len, const char *cert_pem, size_t cert_len,
		      struct fv_cert_info *info, struct fv_diag *d);

/* ---- federation PKI ---- */
/* Create dir/ca.key (0600) and dir/ca.crt: a self-signed P-256 CA valid for `days`.
 * Refuses (FV_EEXIST) to overwrite an existing CA. */
fv_err fv_pki_init(const char *dir, const char *ca_name, int days, struct fv_diag *d);
/* Issue a key and certificate for principal `name` with `role`, signed by the CA in ca_dir:
 * writes out_dir/NAME.key (0600) and out_dir/NAME.crt. Role coordinator gets serverAuth and
 * the DNS names in dns (NULL-terminated; e.g. "localhost"); the others get clientAuth.
 * Refuses to overwrite an existing key. */
fv_err fv_pki_issue(const char *ca_dir, enum fv_role role, const char *name, const char *const *dns,
		    int days, const char *out_dir, struct fv_diag *d);

/* A principal name is 1..64 chars of [A-Za-z0-9._-], not starting with '.' or '-'. */
int fv_name_valid(const char *name);

#endif
