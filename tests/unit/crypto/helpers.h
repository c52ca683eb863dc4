/* Helpers shared by the crypto unit tests (header-only: each test file is its own program). */
#ifndef FV_TEST_CRYPTO_HELPERS_H
#define FV_TEST_CRYPTO_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fedval/crypto.h"
#include "fedval/util.h"

static inline char *t_mkdtemp(void)
{
	char tmpl[] = "/tmp/fv-crypto-test.XXXXXX";
	char *dir = mkdtemp(tmpl);

	cr_assert_not_null(dir);
	return strdup(dir);
}

static inline int t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void t_rmtree(char *dir)
{
	if (!dir)
		return;
	nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline char *t_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Whole file as a NUL-terminated string (aborts the test if it cannot be read). */
static inline char *t_slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	size_t n = 0;

	cr_assert_eq(fv_file_read(path, 1 << 20, &buf, &n, NULL), FV_OK, "read %s", path);
	if (len)
		*len = n;
	return (char *)buf;
}

static inline unsigned t_mode(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return (unsigned)(st.st_mode & 07777);
}

/* Write a private key as PEM to path with mode (exactly, whatever the umask). */
static inline void t_write_key(const char *path, EVP_PKEY *pk, unsigned mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

/* A certificate built by hand, signed by the CA in ca_dir: for the cases fv_pki_issue
 * never produces (expired, wrong usage, foreign role, other curve). */
struct t_cert_opts {
	const char *ou; /* NULL: no OU */
	const char *cn;
	const char *eku;   /* OpenSSL config value, NULL: no extendedKeyUsage */
	long nb_off;	   /* notBefore, seconds from now */
	long na_off;	   /* notAfter, seconds from now */
	const char *curve; /* "P-256" unless set */
	int ca;		   /* basicConstraints CA:TRUE */
};

static inline void t_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	cr_assert_not_null(ext);
	cr_assert(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

static inline char *t_make_cert(const char *ca_dir, const struct t_cert_opts *o)
{
	char *kp = t_path(ca_dir, "ca.key"), *cp = t_path(ca_dir, "ca.crt");
	FILE *f;
	EVP_PKEY *ca_key, *pk;
	X509 *ca, *x;
	X509_NAME *name;
	X509V3_CTX v3;
	BIO *bio;
	char *data, *out;
	long len;

	f = fopen(kp, "r");
	cr_assert_not_null(f);
	ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cp, "r");
	cr_assert_not_null(f);
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert(ca_key && ca);
	pk = EVP_EC_gen(o->curve ? o->curve : "P-256");
	cr_assert_not_null(pk);

	x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), o->nb_off);
	X509_gmtime_adj(X509_getm_notAfter(x), o->na_off);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	if (o->ou)
		X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, (const unsigned char *)o->ou,
					   -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1, -1,
				   0);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	t_add_ext(x, &v3, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	t_add_ext(x, &v3, NID_key_usage,
		  o->ca ? "critical,keyCertSign,digitalSignature" : "critical,digitalSignature");
	if (o->eku)
		t_add_ext(x, &v3, NID_ext_key_usage, o->eku);
	cr_assert(X509_sign(x, ca_key, EVP_sha256()));

	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, x);
	len = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)len);
	BIO_free(bio);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(ca_key);
	free(kp);
	free(cp);
	return out;
}

#endif
