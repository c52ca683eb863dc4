/* Tests for lib/crypto/pki.c: creating the federation CA and issuing principals' keys and
 * certificates, checked with fv_cert_verify and independently with OpenSSL. */
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

TestSuite(pki, .init = setup, .fini = teardown);

static char *ca_dir(void)
{
	char *p = t_path(dir, "ca");
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_pki_init(p, "fed-ca", 365, &d), FV_OK, "%s", d.msg);
	return p;
}

static X509 *parse(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	cr_assert_not_null(x);
	return x;
}

Test(pki, init_writes_ca_with_modes)
{
	char *ca = ca_dir(), *kp = t_path(ca, "ca.key"), *cp = t_path(ca, "ca.crt");
	char *pem = t_slurp(cp, NULL);
	X509 *x = parse(pem);
	char cn[80], ou[80];

	cr_assert_eq(t_mode(kp), 0600);
	cr_assert_eq(t_mode(cp), 0644);
	cr_assert_eq(X509_check_ca(x), 1);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationalUnitName, ou,
				  sizeof(ou));
	cr_assert_str_eq(cn, "fed-ca");
	cr_assert_str_eq(ou, "ca");
	cr_assert_eq(X509_check_issued(x, x), X509_V_OK);
	cr_assert_eq(X509_verify(x, X509_get0_pubkey(x)), 1);
	cr_assert(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	X509_free(x);
	fv_free(pem);
	free(kp);
	free(cp);
	free(ca);
}

Test(pki, init_refuses_to_overwrite)
{
	char *ca = ca_dir(), *kp = t_path(ca, "ca.key");
	char *before = t_slurp(kp, NULL), *after;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_pki_init(ca, "fed-ca", 365, &d), FV_EEXIST);
	cr_assert_not_null(strstr(d.msg, "ca.key"), "%s", d.msg);
	after = t_slurp(kp, NULL);
	cr_assert_str_eq(before, after);
	fv_free(before);
	fv_free(after);
	free(kp);
	free(ca);
}

Test(pki, init_rejects_bad_arguments)
{
	cr_assert_eq(fv_pki_init(dir, "bad/name", 10, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_init(dir, "ok", 0, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_init(dir, "ok", -5, NULL), FV_EINVAL);
}

/* Issue name/role into dir/out and check everything fv_cert_verify reports. */
static void issue_and_check(const char *ca, enum fv_role role, const char *name,
			    const char *const *dns)
{
	char *out = t_path(dir, "out"), *cap = t_path(ca, "ca.crt");
	char kn[128], cn[128], *kp, *cp, *ca_pem, *pem;
	size_t ca_len, len;
	struct fv_diag d = {{0}};
	struct fv_cert_info info;
	struct fv_key *k = NULL;
	uint8_t pub[FV_PUBKEY_MAX], sig[FV_SIG_MAX], *der = NULL;
	size_t pub_len, siglen;
	char fp[FV_SHA256_HEX];
	int der_len;
	X509 *x;
	time_t now = time(NULL);

	snprintf(kn, sizeof(kn), "%s.key", name);
	snprintf(cn, sizeof(cn), "%s.crt", name);
	kp = t_path(out, kn);
	cp = t_path(out, cn);
	cr_assert_eq(fv_pki_issue(ca, role, name, dns, 90, out, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(t_mode(kp), 0600, "key mode %o", t_mode(kp));
	cr_assert_eq(t_mode(cp), 0644, "cert mode %o", t_mode(cp));

	ca_pem = t_slurp(cap, &ca_len);
	pem = t_slurp(cp, &len);
	cr_assert_eq(fv_cert_verify(ca_pem, ca_len, pem, len, &info, &d), FV_OK, "%s", d.msg);
	cr_assert_str_eq(info.name, name);
	cr_assert_eq(info.role, role);
	cr_assert(info.not_after > now + 89 * 86400 && info.not_after <= now + 90 * 86400 + 5,
		  "not_after %lld, now %lld", (long long)info.not_after, (long long)now);

	/* The key file belongs to the certificate, and its signatures verify with info.pub. */
	cr_assert_eq(fv_key_load(kp, &k, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_key_public_der(k, pub, sizeof(pub), &pub_len), FV_OK);
	cr_assert_eq(pub_len, info.pub_len);
	cr_assert_eq(memcmp(pub, info.pub, pub_len), 0);
	cr_assert_eq(fv_sign(k, "hello", 5, sig, &siglen), FV_OK);
	cr_assert_eq(fv_verify(info.pub, info.pub_len, "hello", 5, sig, siglen), FV_OK);

	/* Fingerprint: SHA-256 of the certificate's DER, computed independently. */
	x = parse(pem);
	der_len = i2d_X509(x, &der);
	cr_assert(der_len > 0);
	fv_sha256_hex(der, (size_t)der_len, fp);
	cr_assert_str_eq(info.fingerprint, fp);
	cr_assert_eq(X509_check_ca(x), 0);
	cr_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	cr_assert(X509_get_extended_key_usage(x) &
		  (role == FV_ROLE_COORDINATOR ? XKU_SSL_SERVER : XKU_SSL_CLIENT));
	cr_assert_not_null(X509_get0_subject_key_id(x));
	cr_assert_not_null(X509_get0_authority_key_id(x));
	{
		BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		int bits = BN_num_bits(serial);
		BN_free(serial);
		cr_assert_geq(bits, 64);
	}
	for (size_t i = 0; dns && dns[i]; i++)
		cr_assert(X509_check_host(x, dns[i], 0, 0, NULL) == 1 ||
			      X509_check_ip_asc(x, dns[i], 0) == 1,
			  "SAN lacks %s", dns[i]);

	OPENSSL_free(der);
	X509_free(x);
	fv_key_free(k);
	fv_free(ca_pem);
	fv_free(pem);
	free(kp);
	free(cp);
	free(cap);
	free(out);
}

Test(pki, issue_each_role)
{
	char *ca = ca_dir();
	static const char *const dns[] = {"localhost", "coord.example.org", "127.0.0.1", NULL};

	issue_and_check(ca, FV_ROLE_AUTHORITY, "auth-1", NULL);
	issue_and_check(ca, FV_ROLE_VENDOR, "vendor_a", NULL);
	issue_and_check(ca, FV_ROLE_NODE, "hospital.a", NULL);
	issue_and_check(ca, FV_ROLE_COORDINATOR, "coordinator", dns);
	free(ca);
}

Test(pki, modes_hold_under_any_umask)
{
	char *ca = ca_dir();
	mode_t old = umask(0);

	issue_and_check(ca, FV_ROLE_NODE, "n0", NULL);
	umask(077);
	issue_and_check(ca, FV_ROLE_NODE, "n1", NULL);
	umask(old);
	free(ca);
}

Test(pki, coordinator_san)
{
	char *ca = ca_dir(), *out = t_path(dir, "out"), *cp;
	static const char *const dns[] = {"localhost", NULL};
	char *pem;
	X509 *x;

	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_COORDINATOR, "coord", dns, 10, out, NULL), FV_OK);
	cp = t_path(out, "coord.crt");
	pem = t_slurp(cp, NULL);
	x = parse(pem);
	cr_assert_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	cr_assert_neq(X509_check_host(x, "evil.example", 0, 0, NULL), 1);
	cr_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	X509_free(x);
	fv_free(pem);
	free(cp);
	free(out);
	free(ca);
}

Test(pki, issue_refuses_to_overwrite)
{
	char *ca = ca_dir(), *out = t_path(dir, "out"), *kp = t_path(out, "n.key");
	char *before, *after;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "n", NULL, 10, out, &d), FV_OK, "%s", d.msg);
	before = t_slurp(kp, NULL);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "n", NULL, 10, out, &d), FV_EEXIST);
	cr_assert_not_null(strstr(d.msg, "n.key"), "%s", d.msg);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_VENDOR, "n", NULL, 10, out, &d), FV_EEXIST);
	after = t_slurp(kp, NULL);
	cr_assert_str_eq(before, after);
	fv_free(before);
	fv_free(after);
	free(kp);
	free(out);
	free(ca);
}

Test(pki, issue_rejects_bad_arguments)
{
	char *ca = ca_dir(), *out = t_path(dir, "out");
	static const char *const inject[] = {"a.example,IP:10.0.0.1", NULL};
	struct fv_diag d = {{0}};
	struct stat st;

	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "../evil", NULL, 10, out, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "", NULL, 10, out, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NONE, "x", NULL, 10, out, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_issue(ca, (enum fv_role)42, "x", NULL, 10, out, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "x", NULL, 0, out, NULL), FV_EINVAL);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_COORDINATOR, "c", inject, 10, out, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "DNS name"), "%s", d.msg);
	cr_assert_eq(stat(out, &st), -1, "nothing written for refused requests");
	free(out);
	free(ca);
}

Test(pki, issue_needs_a_private_ca_key)
{
	char *ca = ca_dir(), *out = t_path(dir, "out"), *kp = t_path(ca, "ca.key");
	struct fv_diag d = {{0}};

	chmod(kp, 0644);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, "n", NULL, 10, out, &d), FV_EAUTH);
	cr_assert_not_null(strstr(d.msg, "chmod 600"), "%s", d.msg);
	free(kp);
	free(out);
	free(ca);
}

Test(pki, issue_without_ca)
{
	char *out = t_path(dir, "out");

	cr_assert_eq(fv_pki_issue(dir, FV_ROLE_NODE, "n", NULL, 10, out, NULL), FV_ENOTFOUND);
	free(out);
}

Test(pki, certificate_of_one_federation_refused_by_another)
{
	char *ca1 = ca_dir(), *ca2 = t_path(dir, "ca2"), *out = t_path(dir, "out");
	char *cp = t_path(out, "n.crt"), *ca2p = t_path(ca2, "ca.crt");
	char *pem, *ca2_pem;
	size_t len, ca2_len;
	struct fv_diag d = {{0}};
	struct fv_cert_info info;

	cr_assert_eq(fv_pki_init(ca2, "fed-ca", 365, NULL), FV_OK);
	cr_assert_eq(fv_pki_issue(ca1, FV_ROLE_NODE, "n", NULL, 10, out, NULL), FV_OK);
	pem = t_slurp(cp, &len);
	ca2_pem = t_slurp(ca2p, &ca2_len);
	cr_assert_eq(fv_cert_verify(ca2_pem, ca2_len, pem, len, &info, &d), FV_EAUTH);
	cr_assert_not_null(strstr(d.msg, "not signed by the federation CA"), "%s", d.msg);
	fv_free(pem);
	fv_free(ca2_pem);
	free(ca2p);
	free(cp);
	free(out);
	free(ca2);
	free(ca1);
}
