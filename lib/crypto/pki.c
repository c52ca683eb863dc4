/* The federation PKI: one self-signed P-256 CA, and certificates it issues to principals. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/internal.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* Longest validity fedval issues: 100 years (also keeps time arithmetic far from overflow). */
#define PKI_MAX_DAYS 36500
/* Certificates start this many seconds in the past, so that a peer whose clock is a little
 * behind does not see a freshly issued certificate as not yet valid. */
#define PKI_BACKDATE_S 300
/* A DNS name in a subjectAltName (RFC 1035: 253 characters). */
#define PKI_MAX_DNS 253
/* Size of the subjectAltName configuration string we build. */
#define PKI_SAN_MAX 4096

static fv_err path_join(char *out, size_t cap, const char *dir, const char *name, const char *ext,
			struct fv_diag *d)
{
	if (fv_fmt(out, cap, "%s/%s%s", dir, name, ext) != FV_OK)
		return fv_diag_set(d, FV_ELIMIT, "%s: path too long", dir);
	return FV_OK;
}

/* FV_EEXIST if path exists (even as a dangling symlink). */
static fv_err refuse_existing(const char *path, struct fv_diag *d)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return fv_diag_set(d, FV_EEXIST, "%s exists; refusing to overwrite it", path);
	if (errno != ENOENT)
		return fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
	return FV_OK;
}

static fv_err gen_key(EVP_PKEY **out, struct fv_diag *d)
{
	char why[256];

	*out = EVP_EC_gen("P-256");
	if (!*out)
		return fv_diag_set(d, FV_ECRYPTO, "cannot generate a P-256 key: %s",
				   fv_crypto_ossl_error(why, sizeof(why)));
	return FV_OK;
}

/* Add extension nid with an OpenSSL configuration value ("critical,CA:FALSE"). */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return 0;
		BN_free(bn);
		if (!(bn = BN_bin2bn(b, sizeof(b), NULL)))
			return 0;
	} while (BN_is_zero(bn));
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

/* Make a certificate for pkey with subject OU=ou, CN=cn, valid from now (back-dated a little)
 * for days, with the basic fields set; extensions are the caller's. */
static X509 *cert_skeleton(EVP_PKEY *pkey, const char *ou, const char *cn, int days)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -PKI_BACKDATE_S) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) || !X509_set_pubkey(x, pkey) ||
	    !X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, (const unsigned char *)ou, -1,
					-1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* PEM of the key into a buffer the caller cleanses and frees (secure heap BIO). */
static fv_err write_key_file(const char *path, EVP_PKEY *pkey, struct fv_diag *d)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data;
	long len;
	fv_err e;

	if (!bio || !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(bio);
		ERR_clear_error();
		return fv_diag_set(d, FV_ECRYPTO, "%s: cannot encode the private key", path);
	}
	len = BIO_get_mem_data(bio, &data);
	e = fv_crypto_write_new(path, data, (size_t)len, 0600, d);
	BIO_free(bio);
	return e;
}

static fv_err write_cert_file(const char *path, X509 *x, struct fv_diag *d)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	fv_err e;

	if (!bio || !PEM_write_bio_X509(bio, x)) {
		BIO_free(bio);
		ERR_clear_error();
		return fv_diag_set(d, FV_ECRYPTO, "%s: cannot encode the certificate", path);
	}
	len = BIO_get_mem_data(bio, &data);
	e = fv_crypto_write_new(path, data, (size_t)len, 0644, d);
	BIO_free(bio);
	return e;
}

/* Write key then certificate; if the certificate cannot be written, remove the key again so
 * that a retry does not meet a key without a certificate. */
static fv_err write_pair(const char *key_path, EVP_PKEY *pkey, const char *crt_path, X509 *x,
			 struct fv_diag *d)
{
	fv_err e;

	if ((e = write_key_file(key_path, pkey, d)) != FV_OK)
		return e;
	if ((e = write_cert_file(crt_path, x, d)) != FV_OK)
		unlink(key_path);
	return e;
}

fv_err fv_pki_init(const char *dir, const char *ca_name, int days, struct fv_diag *d)
{
	char key_path[4096], crt_path[4096], why[256];
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509V3_CTX v3;
	fv_err e;

	if (!dir || !fv_name_valid(ca_name))
		return fv_diag_set(d, FV_EINVAL,
				   "CA name must be 1..64 of [A-Za-z0-9._-], not starting with "
				   "'.' or '-'");
	if (days < 1 || days > PKI_MAX_DAYS)
		return fv_diag_set(d, FV_EINVAL, "validity of %d days is not in 1..%d", days,
				   PKI_MAX_DAYS);
	if ((e = path_join(key_path, sizeof(key_path), dir, "ca", ".key", d)) != FV_OK ||
	    (e = path_join(crt_path, sizeof(crt_path), dir, "ca", ".crt", d)) != FV_OK)
		return e;
	/* The CA directory holds the CA's private key: owner only when we create it. */
	if ((e = fv_mkdir_p(dir, 0700, d)) != FV_OK)
		return e;
	if ((e = refuse_existing(key_path, d)) != FV_OK ||
	    (e = refuse_existing(crt_path, d)) != FV_OK)
		return e;
	if ((e = gen_key(&pkey, d)) != FV_OK)
		goto out;
	if (!(x = cert_skeleton(pkey, "ca", ca_name, days)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x))) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot build the CA certificate: %s",
				fv_crypto_ossl_error(why, sizeof(why)));
		goto out;
	}
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (!add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, &v3, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, pkey, EVP_sha256())) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot sign the CA certificate: %s",
				fv_crypto_ossl_error(why, sizeof(why)));
		goto out;
	}
	e = write_pair(key_path, pkey, crt_path, x, d);
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return e;
}

static int dns_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PKI_MAX_DNS || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* "DNS:a,DNS:b,IP:127.0.0.1" from the NULL-terminated list; each entry checked so that it
 * cannot inject other configuration. An address gets both a DNS and an IP entry, since
 * peers differ in which one they match a numeric host against. */
static fv_err san_string(const char *const *dns, char *out, size_t cap, struct fv_diag *d)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; dns && dns[i]; i++) {
		unsigned char addr[16];
		int is_ip = inet_pton(AF_INET, dns[i], addr) == 1;
		int is_ip6 = inet_pton(AF_INET6, dns[i], addr) == 1;
		int w;

		if (!is_ip6 && !dns_valid(dns[i]))
			return fv_diag_set(d, FV_EINVAL, "'%.80s' is not a valid DNS name", dns[i]);
		if (is_ip6)
			w = snprintf(out + used, cap - used, "%sIP:%s", used ? "," : "", dns[i]);
		else
			w = snprintf(out + used, cap - used, "%sDNS:%s%s%s", used ? "," : "",
				     dns[i], is_ip ? ",IP:" : "", is_ip ? dns[i] : "");
		if (w < 0 || (size_t)w >= cap - used)
			return fv_diag_set(d, FV_ELIMIT, "too many DNS names");
		used += (size_t)w;
	}
	return FV_OK;
}

static fv_err load_ca(const char *ca_dir, struct fv_key **key, X509 **ca, struct fv_diag *d)
{
	char path[4096];
	uint8_t *pem = NULL;
	size_t len = 0;
	fv_err e;

	*key = NULL;
	*ca = NULL;
	if ((e = path_join(path, sizeof(path), ca_dir, "ca", ".crt", d)) != FV_OK)
		return e;
	if ((e = fv_file_read(path, FV_MAX_CERT_PEM, &pem, &len, d)) != FV_OK)
		return e;
	*ca = fv_crypto_cert_parse((const char *)pem, len);
	fv_free(pem);
	if (!*ca) {
		e = fv_diag_set(d, FV_ECRYPTO, "%s: not a PEM certificate", path);
		goto fail;
	}
	if ((e = path_join(path, sizeof(path), ca_dir, "ca", ".key", d)) != FV_OK)
		goto fail;
	if ((e = fv_key_load(path, key, d)) != FV_OK)
		goto fail;
	if (X509_check_private_key(*ca, (*key)->pkey) != 1 || X509_check_ca(*ca) == 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "%s/ca.key and ca.crt are not a CA key pair",
				ca_dir);
		goto fail;
	}
	return FV_OK;
fail:
	ERR_clear_error();
	fv_key_free(*key);
	X509_free(*ca);
	*key = NULL;
	*ca = NULL;
	return e;
}

fv_err fv_pki_issue(const char *ca_dir, enum fv_role role, const char *name, const char *const *dns,
		    int days, const char *out_dir, struct fv_diag *d)
{
	char key_path[4096], crt_path[4096], why[256];
	char *san = NULL;
	struct fv_key *ca_key = NULL;
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *pkey = NULL;
	X509V3_CTX v3;
	int ok;
	fv_err e;

	if (!ca_dir || !out_dir)
		return fv_diag_set(d, FV_EINVAL, "CA and output directories are required");
	if (!fv_name_valid(name))
		return fv_diag_set(d, FV_EINVAL,
				   "principal name must be 1..64 of [A-Za-z0-9._-], not starting "
				   "with '.' or '-'");
	if (role < FV_ROLE_AUTHORITY || role > FV_ROLE_COORDINATOR)
		return fv_diag_set(d, FV_EINVAL,
				   "role must be authority, vendor, node or "
				   "coordinator");
	if (days < 1 || days > PKI_MAX_DAYS)
		return fv_diag_set(d, FV_EINVAL, "validity of %d days is not in 1..%d", days,
				   PKI_MAX_DAYS);
	if (!(san = fv_alloc(PKI_SAN_MAX)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	san[0] = '\0';
	if (role == FV_ROLE_COORDINATOR && (e = san_string(dns, san, PKI_SAN_MAX, d)) != FV_OK)
		goto out;
	if ((e = path_join(key_path, sizeof(key_path), out_dir, name, ".key", d)) != FV_OK ||
	    (e = path_join(crt_path, sizeof(crt_path), out_dir, name, ".crt", d)) != FV_OK)
		goto out;
	if ((e = load_ca(ca_dir, &ca_key, &ca, d)) != FV_OK)
		goto out;
	if ((e = fv_mkdir_p(out_dir, 0755, d)) != FV_OK)
		goto out;
	if ((e = refuse_existing(key_path, d)) != FV_OK ||
	    (e = refuse_existing(crt_path, d)) != FV_OK)
		goto out;
	if ((e = gen_key(&pkey, d)) != FV_OK)
		goto out;
	if (!(x = cert_skeleton(pkey, fv_role_name(role), name, days)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca))) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot build the certificate: %s",
				fv_crypto_ossl_error(why, sizeof(why)));
		goto out;
	}
	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") &&
	     add_ext(x, &v3, NID_ext_key_usage,
		     role == FV_ROLE_COORDINATOR ? "serverAuth,clientAuth" : "clientAuth") &&
	     add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
	     add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (ok && san[0])
		ok = add_ext(x, &v3, NID_subject_alt_name, san);
	if (!ok || !X509_sign(x, ca_key->pkey, EVP_sha256())) {
		e = fv_diag_set(d, FV_ECRYPTO, "cannot sign the certificate: %s",
				fv_crypto_ossl_error(why, sizeof(why)));
		goto out;
	}
	e = write_pair(key_path, pkey, crt_path, x, d);
out:
	fv_free(san);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(pkey);
	fv_key_free(ca_key);
	ERR_clear_error();
	return e;
}
