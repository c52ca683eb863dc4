/* Tests for lib/crypto/key.c: loading private keys, ECDSA-SHA256 signing and verification. */
#include "helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_mkdtemp();
}

static void teardown(void)
{
	t_rmtree(dir);
	dir = NULL;
}

/* A fresh key of the given curve written to dir/name with mode; returns the path. */
static char *new_key_file(const char *name, const char *curve, unsigned mode)
{
	char *path = t_path(dir, name);
	EVP_PKEY *pk = EVP_EC_gen(curve);

	cr_assert_not_null(pk);
	t_write_key(path, pk, mode);
	EVP_PKEY_free(pk);
	return path;
}

static struct fv_key *load_ok(const char *path)
{
	struct fv_diag d = {{0}};
	struct fv_key *k = NULL;

	cr_assert_eq(fv_key_load(path, &k, &d), FV_OK, "%s", d.msg);
	cr_assert_not_null(k);
	return k;
}

TestSuite(key, .init = setup, .fini = teardown);

Test(key, sign_verify_round_trip)
{
	char *path = new_key_file("a.key", "P-256", 0600);
	struct fv_key *k = load_ok(path);
	uint8_t pub[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t pub_len = 0, siglen = 0;
	const char msg[] = "job 17: auc request";

	cr_assert_eq(fv_key_public_der(k, pub, sizeof(pub), &pub_len), FV_OK);
	cr_assert_eq(pub_len, 91, "P-256 SubjectPublicKeyInfo is 91 bytes, got %zu", pub_len);
	cr_assert_eq(fv_sign(k, msg, strlen(msg), sig, &siglen), FV_OK);
	cr_assert(siglen > 0 && siglen <= 72, "siglen %zu", siglen);
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, siglen), FV_OK);
	fv_key_free(k);
	free(path);
}

Test(key, empty_message)
{
	char *path = new_key_file("a.key", "P-256", 0600);
	struct fv_key *k = load_ok(path);
	uint8_t pub[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t pub_len = 0, siglen = 0;

	cr_assert_eq(fv_key_public_der(k, pub, sizeof(pub), &pub_len), FV_OK);
	cr_assert_eq(fv_sign(k, NULL, 0, sig, &siglen), FV_OK);
	cr_assert_eq(fv_verify(pub, pub_len, NULL, 0, sig, siglen), FV_OK);
	cr_assert_eq(fv_verify(pub, pub_len, "x", 1, sig, siglen), FV_ECRYPTO);
	fv_key_free(k);
	free(path);
}

Test(key, tampered_message_or_signature_fails)
{
	char *path = new_key_file("a.key", "P-256", 0600);
	struct fv_key *k = load_ok(path);
	uint8_t pub[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t pub_len = 0, siglen = 0;
	char msg[] = "release counts for threshold 0.5";

	cr_assert_eq(fv_key_public_der(k, pub, sizeof(pub), &pub_len), FV_OK);
	cr_assert_eq(fv_sign(k, msg, strlen(msg), sig, &siglen), FV_OK);
	msg[0] ^= 1;
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, siglen), FV_ECRYPTO);
	msg[0] ^= 1;
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg) - 1, sig, siglen), FV_ECRYPTO);
	sig[siglen - 1] ^= 0x01;
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, siglen), FV_ECRYPTO);
	sig[siglen - 1] ^= 0x01;
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, siglen - 1), FV_ECRYPTO);
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, 0), FV_ECRYPTO);
	cr_assert_eq(fv_verify(pub, pub_len, msg, strlen(msg), sig, siglen), FV_OK);
	fv_key_free(k);
	free(path);
}

Test(key, wrong_key_fails)
{
	char *pa = new_key_file("a.key", "P-256", 0600), *pb = new_key_file("b.key", "P-256", 0600);
	struct fv_key *a = load_ok(pa), *b = load_ok(pb);
	uint8_t pub_b[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t pub_len = 0, siglen = 0;

	cr_assert_eq(fv_key_public_der(b, pub_b, sizeof(pub_b), &pub_len), FV_OK);
	cr_assert_eq(fv_sign(a, "m", 1, sig, &siglen), FV_OK);
	cr_assert_eq(fv_verify(pub_b, pub_len, "m", 1, sig, siglen), FV_ECRYPTO);
	fv_key_free(a);
	fv_key_free(b);
	free(pa);
	free(pb);
}

Test(key, verify_rejects_malformed_or_foreign_public_keys)
{
	char *path = new_key_file("a.key", "P-256", 0600);
	struct fv_key *k = load_ok(path);
	uint8_t pub[FV_PUBKEY_MAX + 8], sig[FV_SIG_MAX], *p;
	size_t pub_len = 0, siglen = 0;
	EVP_PKEY *p384 = EVP_EC_gen("P-384");
	int n;

	cr_assert_eq(fv_key_public_der(k, pub, sizeof(pub), &pub_len), FV_OK);
	cr_assert_eq(fv_sign(k, "m", 1, sig, &siglen), FV_OK);
	/* trailing byte after the SubjectPublicKeyInfo */
	pub[pub_len] = 0;
	cr_assert_eq(fv_verify(pub, pub_len + 1, "m", 1, sig, siglen), FV_ECRYPTO);
	cr_assert_eq(fv_verify(pub, pub_len - 1, "m", 1, sig, siglen), FV_ECRYPTO);
	cr_assert_eq(fv_verify(pub, 0, "m", 1, sig, siglen), FV_ECRYPTO);
	/* a point that is not on the curve */
	pub[pub_len - 1] ^= 1;
	cr_assert_eq(fv_verify(pub, pub_len, "m", 1, sig, siglen), FV_ECRYPTO);
	/* a P-384 key is refused even where it would fit */
	n = i2d_PUBKEY(p384, NULL);
	cr_assert(n > 0 && n <= FV_PUBKEY_MAX);
	p = pub;
	i2d_PUBKEY(p384, &p);
	cr_assert_eq(fv_verify(pub, (size_t)n, "m", 1, sig, siglen), FV_ECRYPTO);
	EVP_PKEY_free(p384);
	fv_key_free(k);
	free(path);
}

Test(key, public_der_capacity)
{
	char *path = new_key_file("a.key", "P-256", 0600);
	struct fv_key *k = load_ok(path);
	uint8_t pub[FV_PUBKEY_MAX];
	size_t len = 0;

	cr_assert_eq(fv_key_public_der(k, pub, 90, &len), FV_EINVAL);
	cr_assert_eq(fv_key_public_der(k, pub, 91, &len), FV_OK);
	cr_assert_eq(len, 91);
	fv_key_free(k);
	free(path);
}

Test(key, group_or_world_readable_key_refused)
{
	static const unsigned modes[] = {0644, 0640, 0604, 0660, 0601};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *path = new_key_file("open.key", "P-256", modes[i]);
		struct fv_diag d = {{0}};
		struct fv_key *k = (struct fv_key *)1;
		char mode[8];

		snprintf(mode, sizeof(mode), "%03o", modes[i]);
		cr_assert_eq(fv_key_load(path, &k, &d), FV_EAUTH, "mode %s", mode);
		cr_assert_null(k);
		cr_assert_not_null(strstr(d.msg, path), "%s", d.msg);
		cr_assert_not_null(strstr(d.msg, mode), "%s", d.msg);
		cr_assert_not_null(strstr(d.msg, "chmod 600"), "%s", d.msg);
		unlink(path);
		free(path);
	}
}

Test(key, owner_read_only_key_accepted)
{
	char *path = new_key_file("ro.key", "P-256", 0400);
	struct fv_key *k = load_ok(path);

	fv_key_free(k);
	free(path);
}

Test(key, missing_file)
{
	char *path = t_path(dir, "none.key");
	struct fv_diag d = {{0}};
	struct fv_key *k = NULL;

	cr_assert_eq(fv_key_load(path, &k, &d), FV_ENOTFOUND);
	cr_assert_not_null(strstr(d.msg, path));
	free(path);
}

Test(key, other_curve_refused)
{
	char *path = new_key_file("p384.key", "P-384", 0600);
	struct fv_diag d = {{0}};
	struct fv_key *k = NULL;

	cr_assert_eq(fv_key_load(path, &k, &d), FV_ECRYPTO);
	cr_assert_null(k);
	cr_assert_not_null(strstr(d.msg, "P-256"), "%s", d.msg);
	free(path);
}

Test(key, not_a_key_refused)
{
	char *path = t_path(dir, "junk.key");
	struct fv_diag d = {{0}};
	struct fv_key *k = NULL;

	cr_assert_eq(fv_file_write_atomic(path, "hello\n", 6, 0600, NULL), FV_OK);
	cr_assert_eq(fv_key_load(path, &k, &d), FV_ECRYPTO);
	cr_assert_not_null(strstr(d.msg, path), "%s", d.msg);
	free(path);
}

Test(key, encrypted_key_refused_without_prompting)
{
	char *path = t_path(dir, "enc.key");
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	struct fv_diag d = {{0}};
	struct fv_key *k = NULL;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(
	    PEM_write_PrivateKey(f, pk, EVP_aes_256_cbc(), (unsigned char *)"pw", 2, NULL, NULL),
	    1);
	fclose(f);
	chmod(path, 0600);
	cr_assert_eq(fv_key_load(path, &k, &d), FV_ECRYPTO);
	EVP_PKEY_free(pk);
	free(path);
}

Test(key, free_accepts_null)
{
	fv_key_free(NULL);
}
