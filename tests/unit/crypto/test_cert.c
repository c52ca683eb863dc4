/* Tests for lib/crypto/cert.c: roles, principal names and fv_cert_verify's refusals. The CA
 * comes from fv_pki_init; the odd certificates are built by hand with OpenSSL (helpers.h). */
#include "helpers.h"

static char *dir;
static char *ca_pem;
static size_t ca_len;

static void setup(void)
{
	struct fv_diag d = {{0}};
	char *p;

	dir = t_mkdtemp();
	cr_assert_eq(fv_pki_init(dir, "test-ca", 30, &d), FV_OK, "%s", d.msg);
	p = t_path(dir, "ca.crt");
	ca_pem = t_slurp(p, &ca_len);
	free(p);
}

static void teardown(void)
{
	fv_free(ca_pem);
	ca_pem = NULL;
	t_rmtree(dir);
	dir = NULL;
}

TestSuite(cert, .init = setup, .fini = teardown);

/* Verify pem against the suite's CA, expecting e; return the message. */
static void expect(const char *pem, fv_err want, const char *msg_part)
{
	struct fv_diag d = {{0}};
	struct fv_cert_info info;
	fv_err e = fv_cert_verify(ca_pem, ca_len, pem, strlen(pem), &info, &d);

	cr_assert_eq(e, want, "got %s (%s), want %s", fv_strerror(e), d.msg, fv_strerror(want));
	if (msg_part)
		cr_assert_not_null(strstr(d.msg, msg_part), "message '%s' lacks '%s'", d.msg,
				   msg_part);
}

Test(cert, role_names_round_trip)
{
	enum fv_role r;

	cr_assert_str_eq(fv_role_name(FV_ROLE_AUTHORITY), "authority");
	cr_assert_str_eq(fv_role_name(FV_ROLE_VENDOR), "vendor");
	cr_assert_str_eq(fv_role_name(FV_ROLE_NODE), "node");
	cr_assert_str_eq(fv_role_name(FV_ROLE_COORDINATOR), "coordinator");
	for (int i = FV_ROLE_AUTHORITY; i <= FV_ROLE_COORDINATOR; i++) {
		cr_assert_eq(fv_role_parse(fv_role_name((enum fv_role)i), &r), FV_OK);
		cr_assert_eq((int)r, i);
	}
	cr_assert_eq(fv_role_parse("ca", &r), FV_EINVAL);
	cr_assert_eq(fv_role_parse("none", &r), FV_EINVAL);
	cr_assert_eq(fv_role_parse("Node", &r), FV_EINVAL);
	cr_assert_eq(fv_role_parse("", &r), FV_EINVAL);
	cr_assert_eq(fv_role_parse(NULL, &r), FV_EINVAL);
	cr_assert_str_eq(fv_role_name((enum fv_role)99), "none");
}

Test(cert, name_valid)
{
	char long_ok[65], too_long[66];

	memset(long_ok, 'a', 64);
	long_ok[64] = '\0';
	memset(too_long, 'a', 65);
	too_long[65] = '\0';
	cr_assert(fv_name_valid("hospital-a"));
	cr_assert(fv_name_valid("Vendor_1.eu"));
	cr_assert(fv_name_valid("a"));
	cr_assert(fv_name_valid(long_ok));
	cr_assert_not(fv_name_valid(too_long));
	cr_assert_not(fv_name_valid(""));
	cr_assert_not(fv_name_valid(NULL));
	cr_assert_not(fv_name_valid(".hidden"));
	cr_assert_not(fv_name_valid("-opt"));
	cr_assert_not(fv_name_valid("a/b"));
	cr_assert_not(fv_name_valid("../x"));
	cr_assert_not(fv_name_valid("a b"));
	cr_assert_not(fv_name_valid("caf\xc3\xa9"));
}

Test(cert, handmade_valid_certificate_accepted)
{
	struct t_cert_opts o = {
	    .ou = "node", .cn = "site-1", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_OK, NULL);
	free(pem);
}

Test(cert, expired)
{
	struct t_cert_opts o = {.ou = "node",
				.cn = "site-1",
				.eku = "clientAuth",
				.nb_off = -10 * 86400,
				.na_off = -86400};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_EAUTH, "certificate expired");
	free(pem);
}

Test(cert, not_yet_valid)
{
	struct t_cert_opts o = {.ou = "node",
				.cn = "site-1",
				.eku = "clientAuth",
				.nb_off = 86400,
				.na_off = 2 * 86400};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_EAUTH, "not yet valid");
	free(pem);
}

Test(cert, wrong_eku_for_role)
{
	struct t_cert_opts node = {
	    .ou = "node", .cn = "site-1", .eku = "serverAuth", .nb_off = -60, .na_off = 86400};
	struct t_cert_opts coord = {.ou = "coordinator",
				    .cn = "coord",
				    .eku = "clientAuth",
				    .nb_off = -60,
				    .na_off = 86400};
	struct t_cert_opts none = {.ou = "vendor", .cn = "v", .nb_off = -60, .na_off = 86400};
	char *p1 = t_make_cert(dir, &node), *p2 = t_make_cert(dir, &coord),
	     *p3 = t_make_cert(dir, &none);

	expect(p1, FV_EAUTH, "missing extended key usage clientAuth");
	expect(p2, FV_EAUTH, "missing extended key usage serverAuth");
	expect(p3, FV_EAUTH, "missing extended key usage clientAuth");
	free(p1);
	free(p2);
	free(p3);
}

Test(cert, unknown_or_missing_role)
{
	struct t_cert_opts admin = {
	    .ou = "admin", .cn = "x", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	struct t_cert_opts ca = {
	    .ou = "ca", .cn = "x", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	struct t_cert_opts none = {.cn = "x", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	char *p1 = t_make_cert(dir, &admin), *p2 = t_make_cert(dir, &ca),
	     *p3 = t_make_cert(dir, &none);

	expect(p1, FV_EAUTH, "role 'admin' in OU unknown");
	expect(p2, FV_EAUTH, "role 'ca' in OU unknown");
	expect(p3, FV_EAUTH, "no role");
	free(p1);
	free(p2);
	free(p3);
}

Test(cert, ca_certificate_is_not_a_principal)
{
	expect(ca_pem, FV_EAUTH, "role 'ca' in OU unknown");
}

Test(cert, ca_flag_on_a_principal_refused)
{
	struct t_cert_opts o = {.ou = "node",
				.cn = "site-1",
				.eku = "clientAuth",
				.nb_off = -60,
				.na_off = 86400,
				.ca = 1};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_EAUTH, "CA certificate");
	free(pem);
}

Test(cert, bad_principal_name_refused)
{
	struct t_cert_opts o = {
	    .ou = "node", .cn = "../etc", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_EAUTH, "CN");
	free(pem);
}

Test(cert, other_curve_refused)
{
	struct t_cert_opts o = {.ou = "node",
				.cn = "site-1",
				.eku = "clientAuth",
				.nb_off = -60,
				.na_off = 86400,
				.curve = "P-384"};
	char *pem = t_make_cert(dir, &o);

	expect(pem, FV_ECRYPTO, "P-256");
	free(pem);
}

Test(cert, other_ca_refused)
{
	char *other = t_mkdtemp();
	struct t_cert_opts o = {
	    .ou = "node", .cn = "site-1", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	char *pem;

	/* Same CA name, different key: only the signature tells them apart. */
	cr_assert_eq(fv_pki_init(other, "test-ca", 30, NULL), FV_OK);
	pem = t_make_cert(other, &o);
	expect(pem, FV_EAUTH, "certificate is not signed by the federation CA");
	free(pem);
	t_rmtree(other);
}

Test(cert, garbage_refused)
{
	struct fv_diag d = {{0}};
	struct fv_cert_info info;
	const char *junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

	cr_assert_eq(fv_cert_verify(ca_pem, ca_len, junk, strlen(junk), &info, &d), FV_ECRYPTO);
	cr_assert_eq(fv_cert_verify(ca_pem, ca_len, "", 0, &info, &d), FV_ECRYPTO);
	cr_assert_eq(fv_cert_verify("x", 1, ca_pem, ca_len, &info, &d), FV_ECRYPTO);
	cr_assert_not_null(strstr(d.msg, "federation CA"), "%s", d.msg);
}

Test(cert, length_is_respected)
{
	struct t_cert_opts o = {
	    .ou = "node", .cn = "site-1", .eku = "clientAuth", .nb_off = -60, .na_off = 86400};
	char *pem = t_make_cert(dir, &o);
	struct fv_cert_info info;

	/* A truncated PEM is not a certificate even though the buffer goes on. */
	cr_assert_eq(fv_cert_verify(ca_pem, ca_len, pem, strlen(pem) / 2, &info, NULL), FV_ECRYPTO);
	free(pem);
}
