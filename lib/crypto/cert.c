/* Reading and checking federation certificates: role in the subject OU, name in the CN. */
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/internal.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static const char *const role_names[] = {
    [FV_ROLE_NONE] = "none", [FV_ROLE_AUTHORITY] = "authority",	    [FV_ROLE_VENDOR] = "vendor",
    [FV_ROLE_NODE] = "node", [FV_ROLE_COORDINATOR] = "coordinator",
};

const char *fv_role_name(enum fv_role r)
{
	if ((unsigned)r >= sizeof(role_names) / sizeof(role_names[0]))
		return "none";
	return role_names[r];
}

fv_err fv_role_parse(const char *s, enum fv_role *out)
{
	if (!s)
		return FV_EINVAL;
	for (unsigned r = FV_ROLE_AUTHORITY; r <= FV_ROLE_COORDINATOR; r++) {
		if (strcmp(s, role_names[r]) == 0) {
			*out = (enum fv_role)r;
			return FV_OK;
		}
	}
	return FV_EINVAL;
}

int fv_name_valid(const char *name)
{
	size_t n;

	if (!name || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return 0;
	for (n = 0; name[n]; n++) {
		char c = name[n];
		if (n >= FV_MAX_NAME)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Copy an untrusted string for a diagnostic: printable ASCII only, bounded. */
static const char *printable(char *buf, size_t cap, const char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < cap; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[j] = '\0';
	return buf;
}

/* The single value of attribute nid in name, as UTF-8 in out. FV_ENOTFOUND if absent,
 * FV_EINVAL if repeated, too long or containing a NUL. */
static fv_err name_attr(const X509_NAME *name, int nid, char *out, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	int n;

	if (i < 0)
		return FV_ENOTFOUND;
	if (X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return FV_EINVAL;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0) {
		ERR_clear_error();
		return FV_EINVAL;
	}
	if ((size_t)n >= cap || memchr(utf8, '\0', (size_t)n)) {
		OPENSSL_free(utf8);
		return FV_EINVAL;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(utf8);
	return FV_OK;
}

static fv_err chain_error(X509_STORE_CTX *ctx, struct fv_diag *d)
{
	int err = X509_STORE_CTX_get_error(ctx);
	const char *what = X509_verify_cert_error_string(err);

	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (X509_STORE_CTX_get_error_depth(ctx) > 0)
			return fv_diag_set(d, FV_EAUTH, "federation CA certificate expired");
		return fv_diag_set(d, FV_EAUTH, "certificate expired");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (X509_STORE_CTX_get_error_depth(ctx) > 0)
			return fv_diag_set(d, FV_EAUTH,
					   "federation CA certificate is not yet valid");
		return fv_diag_set(d, FV_EAUTH, "certificate is not yet valid");
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_AKID_SKID_MISMATCH:
	case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
		return fv_diag_set(d, FV_EAUTH,
				   "certificate is not signed by the federation CA (%s)", what);
	default:
		return fv_diag_set(
		    d, FV_EAUTH, "certificate does not verify against the federation CA: %s", what);
	}
}

fv_err fv_cert_verify(const char *ca_pem, size_t ca_len, const char *cert_pem, size_t cert_len,
		      struct fv_cert_info *info, struct fv_diag *d)
{
	X509 *ca = NULL, *x = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct fv_cert_info in;
	char ou[65], tmp[80];
	const char *need;
	uint32_t xku, flags;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_PKEY *pk;
	struct tm tm;
	unsigned char *p;
	int n;
	fv_err e;

	memset(&in, 0, sizeof(in));
	if (ca_len > FV_MAX_CERT_PEM || cert_len > FV_MAX_CERT_PEM) {
		e = fv_diag_set(d, FV_ELIMIT, "certificate PEM larger than %d bytes",
				FV_MAX_CERT_PEM);
		goto out;
	}
	if (!(ca = fv_crypto_cert_parse(ca_pem, ca_len))) {
		e = fv_diag_set(d, FV_ECRYPTO, "federation CA: not a PEM certificate");
		goto out;
	}
	if (!(x = fv_crypto_cert_parse(cert_pem, cert_len))) {
		e = fv_diag_set(d, FV_ECRYPTO, "not a PEM certificate");
		goto out;
	}

	/* The chain: x issued by ca, both valid now. */
	if (!(store = X509_STORE_new()) || !(ctx = X509_STORE_CTX_new())) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (!X509_STORE_add_cert(store, ca) || !X509_STORE_CTX_init(ctx, store, x, NULL)) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot set up verification: %s",
				fv_crypto_ossl_error(tmp, sizeof(tmp)));
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		e = chain_error(ctx, d);
		goto out;
	}

	/* The principal: name in CN, role in OU. */
	e = name_attr(X509_get_subject_name(x), NID_organizationalUnitName, ou, sizeof(ou));
	if (e == FV_ENOTFOUND) {
		e = fv_diag_set(d, FV_EAUTH, "certificate carries no role (no OU in its subject)");
		goto out;
	}
	if (e != FV_OK) {
		e = fv_diag_set(d, FV_EAUTH, "certificate subject OU is not a single role name");
		goto out;
	}
	if (fv_role_parse(ou, &in.role) != FV_OK) {
		e = fv_diag_set(d, FV_EAUTH, "role '%s' in OU unknown",
				printable(tmp, sizeof(tmp), ou, strlen(ou)));
		goto out;
	}
	e = name_attr(X509_get_subject_name(x), NID_commonName, in.name, sizeof(in.name));
	if (e != FV_OK || !fv_name_valid(in.name)) {
		e = fv_diag_set(d, FV_EAUTH,
				"certificate subject CN is not a valid principal name "
				"(1..64 of [A-Za-z0-9._-])");
		goto out;
	}

	/* Usage matching the role. */
	flags = X509_get_extension_flags(x);
	if (flags & EXFLAG_INVALID) {
		e = fv_diag_set(d, FV_EAUTH, "certificate has malformed extensions");
		goto out;
	}
	if (X509_check_ca(x) != 0) {
		e = fv_diag_set(d, FV_EAUTH,
				"a CA certificate cannot be a principal's certificate");
		goto out;
	}
	if (in.role == FV_ROLE_COORDINATOR) {
		need = "serverAuth";
		xku = XKU_SSL_SERVER;
	} else {
		need = "clientAuth";
		xku = XKU_SSL_CLIENT;
	}
	if (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(x) & xku)) {
		e = fv_diag_set(d, FV_EAUTH, "missing extended key usage %s for role %s", need,
				fv_role_name(in.role));
		goto out;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		e = fv_diag_set(d, FV_EAUTH, "key usage does not allow digitalSignature");
		goto out;
	}

	/* The key, the fingerprint and the expiry. */
	pk = X509_get0_pubkey(x);
	if (!fv_crypto_is_p256(pk)) {
		e = fv_diag_set(d, FV_ECRYPTO, "certificate key is not an ECDSA P-256 key");
		goto out;
	}
	n = i2d_PUBKEY(pk, NULL);
	if (n <= 0 || (size_t)n > sizeof(in.pub)) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot encode the certificate's public key");
		goto out;
	}
	p = in.pub;
	i2d_PUBKEY(pk, &p);
	in.pub_len = (size_t)n;
	if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != FV_SHA256_LEN) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot hash the certificate");
		goto out;
	}
	fv_hex(md, mdlen, in.fingerprint);
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) {
		e = fv_diag_set(d, FV_ECRYPTO, "certificate has a malformed notAfter time");
		goto out;
	}
	in.not_after = (int64_t)timegm(&tm);
	*info = in;
	e = FV_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	X509_free(ca);
	ERR_clear_error();
	return e;
}
