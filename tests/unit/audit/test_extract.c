/* Tests for lib/audit/extract.c: a signed extract verifies with the signer's key, its
 * certificate, or the certificate checked against the CA; every alteration and every other
 * key is refused. Keys come from fv_pki_init / fv_pki_issue. */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "helpers.h"

static char *dir, *log_path, *key_path, *cert_path, *ca_path, *other_key, *other_cert;
static struct fv_key *key;

static void setup(void)
{
	struct fv_diag d = {{0}};
	char *ca_dir;

	dir = t_mkdtemp();
	ca_dir = t_path(dir, "ca");
	cr_assert_eq(fv_pki_init(ca_dir, "test-ca", 30, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_pki_issue(ca_dir, FV_ROLE_NODE, "hospital-a", NULL, 30, dir, &d), FV_OK,
		     "%s", d.msg);
	cr_assert_eq(fv_pki_issue(ca_dir, FV_ROLE_NODE, "hospital-b", NULL, 30, dir, &d), FV_OK,
		     "%s", d.msg);
	log_path = t_path(dir, "node.audit.jsonl");
	key_path = t_path(dir, "hospital-a.key");
	cert_path = t_path(dir, "hospital-a.crt");
	other_key = t_path(dir, "hospital-b.key");
	other_cert = t_path(dir, "hospital-b.crt");
	ca_path = t_path(ca_dir, "ca.crt");
	free(ca_dir);
	cr_assert_eq(fv_key_load(key_path, &key, &d), FV_OK, "%s", d.msg);
	t_make_log(log_path, 30);
}

static void teardown(void)
{
	fv_key_free(key);
	key = NULL;
	free(log_path);
	free(key_path);
	free(cert_path);
	free(ca_path);
	free(other_key);
	free(other_cert);
	t_rmtree(dir);
	dir = NULL;
}

TestSuite(extract, .init = setup, .fini = teardown);

static void pub_of(const char *path, const char *ca, uint8_t *pub, size_t *len)
{
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_audit_pubkey_load(path, ca, pub, len, &d), FV_OK, "%s: %s", path, d.msg);
}

static char *export_range(uint64_t from, uint64_t to, size_t *len)
{
	struct fv_diag d = {{0}};
	char *text = NULL;

	cr_assert_eq(fv_audit_export(log_path, key, from, to, &text, len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(strlen(text), *len);
	return text;
}

/* Check text with the public key at path, expecting fault. */
static void expect(const char *text, size_t len, const char *path, enum fv_audit_fault fault)
{
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t pub_len;
	fv_err e;

	pub_of(path, NULL, pub, &pub_len);
	e = fv_audit_verify_extract(text, len, pub, pub_len, &v, &d);
	cr_assert_eq(v.fault, fault, "fault '%s' (%s), want '%s'", fv_audit_fault_name(v.fault),
		     v.why, fv_audit_fault_name(fault));
	cr_assert_eq(e, fault == FV_AUDIT_OK ? FV_OK : FV_ECORRUPT, "%s", d.msg);
}

Test(extract, whole_log_verifies_with_key_cert_and_ca)
{
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v, lv;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t len, pub_len;
	char *text = export_range(0, 0, &len);
	const char *paths[][2] = {{key_path, NULL}, {cert_path, NULL}, {cert_path, ca_path}};

	cr_assert_eq(fv_audit_verify_file(log_path, &lv, &d), FV_OK);
	for (size_t i = 0; i < 3; i++) {
		pub_of(paths[i][0], paths[i][1], pub, &pub_len);
		cr_assert_eq(fv_audit_verify_extract(text, len, pub, pub_len, &v, &d), FV_OK, "%s",
			     d.msg);
		cr_assert_eq(v.entries, 30);
		cr_assert_eq(v.first_seq, 1);
		cr_assert_eq(v.last_seq, 30);
		cr_assert_str_eq(v.head, lv.head);
	}
	free(text);
}

Test(extract, range_carries_the_hash_before_it)
{
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v;
	struct t_lines l;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t len, pub_len;
	char *text = export_range(5, 9, &len);
	json_t *doc = json_loads(text, 0, NULL), *e4 = NULL;

	t_lines_read(log_path, &l);
	e4 = json_loads(l.line[3], 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "prev")),
			 json_string_value(json_object_get(e4, "hash")));
	cr_assert_eq(json_array_size(json_object_get(doc, "entries")), 5);
	cr_assert_eq(json_integer_value(json_object_get(doc, "log_entries")), 30);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "log")), "node.audit.jsonl");
	pub_of(cert_path, ca_path, pub, &pub_len);
	cr_assert_eq(fv_audit_verify_extract(text, len, pub, pub_len, &v, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(v.first_seq, 5);
	cr_assert_eq(v.last_seq, 9);
	cr_assert_eq(v.entries, 5);
	json_decref(e4);
	json_decref(doc);
	t_lines_free(&l);
	free(text);

	text = export_range(30, 0, &len);
	expect(text, len, cert_path, FV_AUDIT_OK);
	free(text);
	text = export_range(1, 1, &len);
	expect(text, len, cert_path, FV_AUDIT_OK);
	free(text);
}

Test(extract, bad_ranges_and_broken_logs_are_refused)
{
	struct fv_diag d = {{0}};
	struct t_lines l;
	char *text = NULL;
	size_t len;

	cr_assert_eq(fv_audit_export(log_path, key, 31, 0, &text, &len, &d), FV_EINVAL);
	cr_assert_eq(fv_audit_export(log_path, key, 1, 31, &text, &len, &d), FV_EINVAL);
	cr_assert_eq(fv_audit_export(log_path, key, 9, 5, &text, &len, &d), FV_EINVAL);
	cr_assert_null(text);
	t_lines_read(log_path, &l);
	l.line[19][12] ^= 1;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	cr_assert_eq(fv_audit_export(log_path, key, 1, 5, &text, &len, &d), FV_ECORRUPT);
	cr_assert_not_null(strstr(d.msg, "line 20"), "%s", d.msg);
	cr_assert_null(text);
}

/* Change the extract's JSON (through jansson), keep everything else; expect fault. */
static void tamper(const char *what, void (*edit)(json_t *doc), enum fv_audit_fault fault)
{
	size_t len;
	char *text = export_range(3, 12, &len), *bad;
	json_t *doc = json_loads(text, 0, NULL);

	cr_assert_not_null(doc, "%s", what);
	edit(doc);
	bad = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	expect(bad, strlen(bad), cert_path, fault);
	free(bad);
	json_decref(doc);
	free(text);
}

static void edit_entry_event(json_t *doc)
{
	json_object_set_new(json_array_get(json_object_get(doc, "entries"), 4), "event",
			    json_string("test.event.forged"));
}
static void edit_drop_entry(json_t *doc)
{
	json_array_remove(json_object_get(doc, "entries"), 4);
}
static void edit_log_entries(json_t *doc)
{
	json_object_set_new(doc, "log_entries", json_integer(29));
}
static void edit_exported(json_t *doc)
{
	json_object_set_new(doc, "exported_us", json_integer(1));
}
static void edit_log_name(json_t *doc)
{
	json_object_set_new(doc, "log", json_string("other.audit.jsonl"));
}
static void edit_add_member(json_t *doc)
{
	json_object_set_new(doc, "note", json_string("hi"));
}
static void edit_signature(json_t *doc)
{
	char *s = strdup(json_string_value(json_object_get(doc, "signature")));
	size_t n = strlen(s);

	s[n - 2] = s[n - 2] == '0' ? '1' : '0';
	json_object_set_new(doc, "signature", json_string(s));
	free(s);
}
/* Drop the first entry and claim the range starts one later: the chain still links, the
 * header is consistent, and only the signature catches it. */
static void edit_shift_range(json_t *doc)
{
	json_t *entries = json_object_get(doc, "entries");

	json_object_set(doc, "prev", json_object_get(json_array_get(entries, 0), "hash"));
	json_array_remove(entries, 0);
	json_object_set_new(doc, "from", json_integer(4));
}

Test(extract, alterations_are_refused)
{
	tamper("entry event", edit_entry_event, FV_AUDIT_HASH);
	tamper("dropped entry", edit_drop_entry, FV_AUDIT_EXTRACT);
	tamper("log_entries", edit_log_entries, FV_AUDIT_SIGNATURE);
	tamper("exported_us", edit_exported, FV_AUDIT_SIGNATURE);
	tamper("log name", edit_log_name, FV_AUDIT_SIGNATURE);
	tamper("extra member", edit_add_member, FV_AUDIT_EXTRACT);
	tamper("signature", edit_signature, FV_AUDIT_SIGNATURE);
	tamper("shifted range", edit_shift_range, FV_AUDIT_SIGNATURE);
}

Test(extract, reformatting_keeps_it_valid)
{
	size_t len;
	char *text = export_range(1, 4, &len), *compact;
	json_t *doc = json_loads(text, 0, NULL);

	compact = json_dumps(doc, JSON_COMPACT);
	expect(compact, strlen(compact), key_path, FV_AUDIT_OK);
	free(compact);
	json_decref(doc);
	free(text);
}

Test(extract, wrong_key_is_refused)
{
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v;
	struct fv_key *other;
	uint8_t pub[FV_PUBKEY_MAX];
	char hex[2 * FV_PUBKEY_MAX + 1], *forged;
	size_t len, pub_len;
	char *text = export_range(0, 0, &len);
	json_t *doc;

	expect(text, len, other_key, FV_AUDIT_SIGNATURE);
	expect(text, len, other_cert, FV_AUDIT_SIGNATURE);
	/* Claiming the other key as signer does not help: the signature is still hospital-a's. */
	cr_assert_eq(fv_key_load(other_key, &other, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_key_public_der(other, pub, sizeof(pub), &pub_len), FV_OK);
	fv_hex(pub, pub_len, hex);
	doc = json_loads(text, 0, NULL);
	json_object_set_new(doc, "signer_pub", json_string(hex));
	forged = json_dumps(doc, 0);
	cr_assert_eq(fv_audit_verify_extract(forged, strlen(forged), pub, pub_len, &v, &d),
		     FV_ECORRUPT);
	cr_assert_eq(v.fault, FV_AUDIT_SIGNATURE);
	cr_assert_eq(fv_audit_verify_extract(text, len, NULL, 0, &v, &d), FV_EINVAL);
	free(forged);
	json_decref(doc);
	fv_key_free(other);
	free(text);
}

Test(extract, not_an_extract)
{
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t pub_len;

	pub_of(key_path, NULL, pub, &pub_len);
	cr_assert_eq(fv_audit_verify_extract("[]", 2, pub, pub_len, &v, &d), FV_ECORRUPT);
	cr_assert_eq(v.fault, FV_AUDIT_JSON);
	cr_assert_eq(fv_audit_verify_extract("{\"format\":", 10, pub, pub_len, &v, &d),
		     FV_ECORRUPT);
	cr_assert_eq(v.fault, FV_AUDIT_JSON);
	cr_assert_eq(fv_audit_verify_extract("{}", 2, pub, pub_len, &v, &d), FV_ECORRUPT);
	cr_assert_eq(v.fault, FV_AUDIT_EXTRACT);
}

Test(extract, public_key_files)
{
	struct fv_diag d = {{0}};
	uint8_t a[FV_PUBKEY_MAX], b[FV_PUBKEY_MAX];
	size_t alen, blen;
	char *pem_path = t_path(dir, "hospital-a.pub"), *junk = t_path(dir, "junk.pem");
	char *foreign_ca = t_path(dir, "ca2");
	char *foreign_crt;
	FILE *in, *out;
	EVP_PKEY *pk;

	/* The public half in its own PEM file, written by OpenSSL. */
	in = fopen(key_path, "r");
	pk = PEM_read_PrivateKey(in, NULL, NULL, NULL);
	fclose(in);
	out = fopen(pem_path, "w");
	cr_assert(PEM_write_PUBKEY(out, pk));
	fclose(out);
	EVP_PKEY_free(pk);
	pub_of(key_path, NULL, a, &alen);
	pub_of(pem_path, NULL, b, &blen);
	cr_assert_eq(alen, blen);
	cr_assert_eq(memcmp(a, b, alen), 0);
	pub_of(cert_path, NULL, b, &blen);
	cr_assert_eq(memcmp(a, b, alen), 0);

	t_spit(junk, "hello\n", 6);
	cr_assert_eq(fv_audit_pubkey_load(junk, NULL, a, &alen, &d), FV_EINVAL);
	cr_assert_eq(fv_audit_pubkey_load(pem_path, ca_path, a, &alen, &d), FV_EINVAL);
	cr_assert_neq(fv_audit_pubkey_load("/nonexistent/x.pem", NULL, a, &alen, &d), FV_OK);
	/* A private key readable by others is refused, as everywhere (fv_key_load). */
	cr_assert_eq(chmod(key_path, 0644), 0);
	cr_assert_eq(fv_audit_pubkey_load(key_path, NULL, a, &alen, &d), FV_EAUTH);
	/* A certificate from another federation does not pass --ca. */
	cr_assert_eq(fv_pki_init(foreign_ca, "other-ca", 30, &d), FV_OK, "%s", d.msg);
	foreign_crt = t_path(foreign_ca, "ca.crt");
	cr_assert_neq(fv_audit_pubkey_load(cert_path, foreign_crt, a, &alen, &d), FV_OK);
	free(foreign_crt);
	free(foreign_ca);
	free(pem_path);
	free(junk);
}
