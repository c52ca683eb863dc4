/* ECDSA P-256 private keys, signatures and the helpers the other crypto files share. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/internal.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* A PEM private key file is a few hundred bytes; anything much larger is not one. */
#define KEY_FILE_MAX (64u * 1024)

int fv_crypto_is_p256(const EVP_PKEY *pkey)
{
	char name[64];
	size_t len = 0;
	int nid;

	if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len))
		return 0;
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(name);
	return nid == NID_X9_62_prime256v1;
}

const char *fv_crypto_ossl_error(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, cap);
	else
		fv_strlcpy(buf, "unknown error", cap);
	ERR_clear_error();
	return buf;
}

X509 *fv_crypto_cert_parse(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x;

	if (!pem || len == 0 || len > FV_MAX_CERT_PEM)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		ERR_clear_error();
		return NULL;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!x)
		ERR_clear_error();
	return x;
}

fv_err fv_crypto_write_new(const char *path, const void *buf, size_t len, unsigned mode,
			   struct fv_diag *d)
{
	const uint8_t *p = buf;
	fv_err e = FV_OK;
	/* The mode given to open() is the final one minus the umask, never wider: a key file is
	 * never readable by others, not even between open() and fchmod(). */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);

	if (fd < 0)
		return fv_diag_set(d, errno == EEXIST ? FV_EEXIST : FV_EIO, "%s: %s%s", path,
				   strerror(errno),
				   errno == EEXIST ? "; refusing to overwrite it" : "");
	if (fchmod(fd, (mode_t)mode) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: chmod: %s", path, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: fsync: %s", path, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		e = fv_diag_set(d, FV_EIO, "%s: close: %s", path, strerror(errno));
		goto fail;
	}
	return FV_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return e;
}

/* Never prompt for a passphrase: fedval keys are unencrypted files protected by their mode. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Read the key file after checking, on the open descriptor, that it is a regular file that
 * only its owner can access (no window between the check and the read). */
static fv_err read_private(const char *path, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t n = 0;
	fv_err e = FV_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = fv_diag_set(d, FV_EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		e = fv_diag_set(d, FV_EAUTH,
				"%s: private key is accessible by group or others (mode %03o); "
				"run chmod 600 %s",
				path, (unsigned)(st.st_mode & 0777), path);
		goto fail;
	}
	if (st.st_size <= 0 || (uintmax_t)st.st_size > KEY_FILE_MAX) {
		e = fv_diag_set(d, FV_ECRYPTO, "%s: not a private key (size %jd bytes)", path,
				(intmax_t)st.st_size);
		goto fail;
	}
	if (!(b = fv_alloc((size_t)st.st_size + 1))) {
		e = fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	close(fd);
	*buf = b;
	*len = n;
	return FV_OK;
fail:
	if (b) {
		OPENSSL_cleanse(b, (size_t)st.st_size + 1);
		fv_free(b);
	}
	close(fd);
	return e;
}

fv_err fv_key_load(const char *path, struct fv_key **out, struct fv_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	struct fv_key *k = NULL;
	char why[256];
	fv_err e;

	*out = NULL;
	if ((e = read_private(path, &buf, &len, d)) != FV_OK)
		return e;
	if (!(bio = BIO_new_mem_buf(buf, (int)len))) {
		e = fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
		e = fv_diag_set(d, FV_ECRYPTO, "%s: not an unencrypted PEM private key (%s)", path,
				fv_crypto_ossl_error(why, sizeof(why)));
		goto out;
	}
	if (!fv_crypto_is_p256(pkey)) {
		e = fv_diag_set(d, FV_ECRYPTO, "%s: not an ECDSA P-256 key (type %s)", path,
				EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey)
							      : "?");
		goto out;
	}
	if (!(k = fv_alloc(sizeof(*k)))) {
		e = fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	k->pkey = pkey;
	pkey = NULL;
	*out = k;
	e = FV_OK;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	fv_free(buf);
	ERR_clear_error();
	return e;
}

void fv_key_free(struct fv_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	fv_free(k);
}

fv_err fv_key_public_der(const struct fv_key *k, uint8_t *out, size_t cap, size_t *len)
{
	int n = i2d_PUBKEY(k->pkey, NULL);
	uint8_t *p = out;

	if (n <= 0) {
		ERR_clear_error();
		return FV_ECRYPTO;
	}
	if ((size_t)n > cap)
		return FV_EINVAL;
	if (i2d_PUBKEY(k->pkey, &p) != n) {
		ERR_clear_error();
		return FV_ECRYPTO;
	}
	*len = (size_t)n;
	return FV_OK;
}

fv_err fv_sign(const struct fv_key *k, const void *msg, size_t n, uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[256];
	size_t len = sizeof(buf);
	fv_err e = FV_ECRYPTO;

	if (!ctx) {
		e = FV_ENOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1)
		goto out;
	if (EVP_DigestSign(ctx, buf, &len, n ? msg : (const void *)"", n) != 1)
		goto out;
	if (len == 0 || len > FV_SIG_MAX)
		goto out;
	memcpy(sig, buf, len);
	*siglen = len;
	e = FV_OK;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return e;
}

fv_err fv_verify(const uint8_t *pub_der, size_t pub_len, const void *msg, size_t n,
		 const uint8_t *sig, size_t siglen)
{
	const unsigned char *p = pub_der;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	fv_err e = FV_ECRYPTO;

	if (!pub_der || pub_len == 0 || pub_len > FV_PUBKEY_MAX || !sig || siglen == 0 ||
	    siglen > FV_SIG_MAX)
		goto out;
	pkey = d2i_PUBKEY(NULL, &p, (long)pub_len);
	/* The whole buffer must be the key: trailing bytes would let two encodings name it. */
	if (!pkey || p != pub_der + pub_len || !fv_crypto_is_p256(pkey))
		goto out;
	if (!(ctx = EVP_MD_CTX_new())) {
		e = FV_ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1)
		goto out;
	if (EVP_DigestVerify(ctx, sig, siglen, n ? msg : (const void *)"", n) == 1)
		e = FV_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return e;
}
