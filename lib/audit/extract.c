/* fedval audit: signed extracts of a log for an inspector, and the keys that check them. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit/audit_int.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* Members of an extract; "signature" covers the canonical serialization of all the others. */
static const char *const extract_keys[] = {
    "format",	"log",	       "from",	     "to",	"prev",	     "head", "log_entries",
    "log_head", "exported_us", "signer_pub", "entries", "signature", NULL};

/* ---- export ---- */

struct collect {
	uint64_t from, to; /* to: UINT64_MAX for "to the end" */
	json_t *entries;
	char prev[FV_SHA256_HEX]; /* hash of entry from-1 */
	size_t bytes;
	bool too_big, nomem;
};

static int collect_entry(void *ctx, const json_t *entry, size_t line_len)
{
	struct collect *c = ctx;
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));

	if (seq + 1 == c->from)
		memcpy(c->prev, json_string_value(json_object_get(entry, "hash")), FV_SHA256_HEX);
	if (seq < c->from || seq > c->to)
		return 0;
	/* Leave room for the header and the indentation of the pretty-printed file. */
	c->bytes += line_len + 256;
	if (c->bytes > FV_MAX_AUDIT_EXTRACT / 2) {
		c->too_big = true;
		return 1;
	}
	if (json_array_append(c->entries, (json_t *)entry) != 0) {
		c->nomem = true;
		return 1;
	}
	return 0;
}

/* Sign the canonical serialization of doc (which has no "signature" yet) and add it. */
static fv_err sign_doc(json_t *doc, const struct fv_key *key, struct fv_diag *d)
{
	uint8_t sig[FV_SIG_MAX];
	char hex[2 * FV_SIG_MAX + 1];
	size_t siglen;
	char *canon = json_dumps(doc, FV_AUDIT_JSON_FLAGS);
	fv_err e;

	if (!canon)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	e = fv_sign(key, canon, strlen(canon), sig, &siglen);
	free(canon);
	if (e != FV_OK)
		return fv_diag_set(d, e, "signing the extract failed");
	fv_hex(sig, siglen, hex);
	if (json_object_set_new(doc, "signature", json_string(hex)) != 0)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	return FV_OK;
}

fv_err fv_audit_export(const char *path, const struct fv_key *key, uint64_t from, uint64_t to,
		       char **out, size_t *out_len, struct fv_diag *d)
{
	struct collect c = {.from = from ? from : 1, .to = to ? to : UINT64_MAX};
	struct fv_audit_verdict v;
	uint8_t pub[FV_PUBKEY_MAX];
	char pubhex[2 * FV_PUBKEY_MAX + 1], name[256];
	size_t pub_len, n;
	uint64_t end;
	json_t *doc = NULL;
	char *text = NULL, *grown;
	fv_err e;
	int fd = -1;

	*out = NULL;
	memcpy(c.prev, FV_AUDIT_GENESIS, FV_SHA256_HEX);
	if (to && from > to)
		return fv_diag_set(d, FV_EINVAL, "--from %llu is after --to %llu",
				   (unsigned long long)from, (unsigned long long)to);
	if (fv_key_public_der(key, pub, sizeof(pub), &pub_len) != FV_OK)
		return fv_diag_set(d, FV_ECRYPTO, "cannot encode the signing key's public half");
	if (!(c.entries = json_array()))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				strerror(errno));
		goto out;
	}
	e = fv_audit_verify_fd(fd, path, collect_entry, &c, &v, &end, d);
	if (e == FV_ECANCELED)
		e = c.too_big ? fv_diag_set(d, FV_ELIMIT,
					    "extract would exceed %u bytes: narrow it with "
					    "--from/--to",
					    FV_MAX_AUDIT_EXTRACT)
			      : fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (e == FV_ECORRUPT)
		fv_diag_prefix(d, "not exporting from a broken chain: ");
	if (e != FV_OK)
		goto out;
	if (v.entries == 0 || c.from > v.last_seq || (to && to > v.last_seq)) {
		e = fv_diag_set(d, FV_EINVAL,
				"%s holds entries 1..%llu: range %llu..%llu is "
				"outside it",
				path, (unsigned long long)v.last_seq, (unsigned long long)c.from,
				(unsigned long long)(to ? to : v.last_seq));
		goto out;
	}
	if (!to)
		c.to = v.last_seq;
	fv_hex(pub, pub_len, pubhex);
	fv_strlcpy(name, path, sizeof(name));
	n = json_array_size(c.entries);
	doc =
	    json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:O}", "format",
		      FV_AUDIT_EXTRACT_FORMAT, "log", basename(name), "from", (json_int_t)c.from,
		      "to", (json_int_t)c.to, "prev", c.prev, "head",
		      json_string_value(json_object_get(json_array_get(c.entries, n - 1), "hash")),
		      "log_entries", (json_int_t)v.entries, "log_head", v.head, "exported_us",
		      (json_int_t)fv_now_us(), "signer_pub", pubhex, "entries", c.entries);
	if (!doc) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if ((e = sign_doc(doc, key, d)) != FV_OK)
		goto out;
	if (!(text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	n = strlen(text);
	if (!(grown = realloc(text, n + 2))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	text = grown;
	text[n] = '\n';
	text[n + 1] = '\0';
	*out = text;
	*out_len = n + 1;
	text = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	json_decref(doc);
	json_decref(c.entries);
	return e;
}

/* ---- verify ---- */

static fv_err extract_fault(struct fv_audit_verdict *v, enum fv_audit_fault f, uint64_t at,
			    struct fv_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static fv_err extract_fault(struct fv_audit_verdict *v, enum fv_audit_fault f, uint64_t at,
			    struct fv_diag *d, const char *fmt, ...)
{
	va_list ap;

	v->fault = f;
	v->bad_line = at;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	if (at)
		return fv_diag_set(d, FV_ECORRUPT, "extract entry %llu: %s: %s",
				   (unsigned long long)at, fv_audit_fault_name(f), v->why);
	return fv_diag_set(d, FV_ECORRUPT, "extract: %s: %s", fv_audit_fault_name(f), v->why);
}

static bool hex_field(const json_t *doc, const char *k, uint8_t *out, size_t cap, size_t *len)
{
	const char *s = json_string_value(json_object_get(doc, k));
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n % 2 || n / 2 > cap || fv_unhex(s, out, n / 2) != FV_OK)
		return false;
	*len = n / 2;
	return true;
}

static uint64_t uint_field(const json_t *doc, const char *k, bool *ok)
{
	const json_t *j = json_object_get(doc, k);

	if (!json_is_integer(j) || json_integer_value(j) < 0) {
		*ok = false;
		return 0;
	}
	return (uint64_t)json_integer_value(j);
}

/* The header: every member present with the right type, nothing else. */
static fv_err check_header(const json_t *doc, struct fv_audit_verdict *v, struct fv_diag *d)
{
	const char *k, *fmt;
	json_t *val;
	bool ok = true;
	uint64_t from, to, total;

	json_object_foreach((json_t *)doc, k, val)
	{
		bool known = false;
		for (size_t i = 0; !known && extract_keys[i]; i++)
			known = !strcmp(k, extract_keys[i]);
		if (!known)
			return extract_fault(v, FV_AUDIT_EXTRACT, 0, d, "unknown member '%.64s'",
					     k);
	}
	for (size_t i = 0; extract_keys[i]; i++)
		if (!json_object_get(doc, extract_keys[i]))
			return extract_fault(v, FV_AUDIT_EXTRACT, 0, d, "member '%s' is missing",
					     extract_keys[i]);
	fmt = json_string_value(json_object_get(doc, "format"));
	if (!fmt || strcmp(fmt, FV_AUDIT_EXTRACT_FORMAT) != 0)
		return extract_fault(v, FV_AUDIT_EXTRACT, 0, d, "format is not '%s'",
				     FV_AUDIT_EXTRACT_FORMAT);
	from = uint_field(doc, "from", &ok);
	to = uint_field(doc, "to", &ok);
	total = uint_field(doc, "log_entries", &ok);
	(void)uint_field(doc, "exported_us", &ok);
	if (!ok || from < 1 || to < from || to > total)
		return extract_fault(v, FV_AUDIT_EXTRACT, 0, d,
				     "from, to, log_entries must be integers with "
				     "1 <= from <= to <= log_entries");
	if (!json_is_string(json_object_get(doc, "log")))
		return extract_fault(v, FV_AUDIT_EXTRACT, 0, d, "log must be a string");
	for (size_t i = 0; i < 3; i++) {
		static const char *const hk[] = {"prev", "head", "log_head"};
		if (!fv_audit_hex64_valid(json_string_value(json_object_get(doc, hk[i]))))
			return extract_fault(v, FV_AUDIT_EXTRACT, 0, d,
					     "%s must be 64 lowercase hex digits", hk[i]);
	}
	if (!json_is_array(json_object_get(doc, "entries")) ||
	    json_array_size(json_object_get(doc, "entries")) != to - from + 1)
		return extract_fault(v, FV_AUDIT_EXTRACT, 0, d,
				     "entries must be an array of to - from + 1 = %llu entries",
				     (unsigned long long)(to - from + 1));
	return FV_OK;
}

fv_err fv_audit_verify_extract(const char *json, size_t len, const uint8_t *pub, size_t pub_len,
			       struct fv_audit_verdict *v, struct fv_diag *d)
{
	json_t *doc = NULL, *body = NULL, *entries;
	json_error_t jerr;
	uint8_t signer[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t signer_len, sig_len;
	uint64_t from, to;
	char *canon = NULL;
	fv_err e;

	memset(v, 0, sizeof(*v));
	memcpy(v->head, FV_AUDIT_GENESIS, FV_SHA256_HEX);
	if (!pub || pub_len == 0)
		return fv_diag_set(d, FV_EINVAL, "a public key is needed to check an extract");
	if (len > FV_MAX_AUDIT_EXTRACT)
		return fv_diag_set(d, FV_ELIMIT, "extract larger than %u bytes",
				   FV_MAX_AUDIT_EXTRACT);
	if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(doc)) {
		e = extract_fault(v, FV_AUDIT_JSON, 0, d, "line %d column %d: %s", jerr.line,
				  jerr.column, doc ? "not a JSON object" : jerr.text);
		goto out;
	}
	if ((e = check_header(doc, v, d)) != FV_OK)
		goto out;
	from = (uint64_t)json_integer_value(json_object_get(doc, "from"));
	to = (uint64_t)json_integer_value(json_object_get(doc, "to"));
	entries = json_object_get(doc, "entries");
	memcpy(v->head, json_string_value(json_object_get(doc, "prev")), FV_SHA256_HEX);
	v->first_seq = from;
	for (size_t i = 0; i < json_array_size(entries); i++) {
		char hash[FV_SHA256_HEX];
		enum fv_audit_fault f =
		    fv_audit_entry_check(json_array_get(entries, i), NULL, 0, from + i, v->head,
					 hash, v->why, sizeof(v->why));
		if (f != FV_AUDIT_OK) {
			char why[sizeof(v->why)];
			memcpy(why, v->why, sizeof(why));
			e = extract_fault(v, f, i + 1, d, "seq %llu: %s",
					  (unsigned long long)(from + i), why);
			goto out;
		}
		memcpy(v->head, hash, FV_SHA256_HEX);
		v->last_seq = from + i;
		v->entries++;
	}
	if (strcmp(v->head, json_string_value(json_object_get(doc, "head"))) != 0) {
		e = extract_fault(v, FV_AUDIT_EXTRACT, 0, d, "head is not the last entry's hash");
		goto out;
	}
	if (to == (uint64_t)json_integer_value(json_object_get(doc, "log_entries")) &&
	    strcmp(v->head, json_string_value(json_object_get(doc, "log_head"))) != 0) {
		e = extract_fault(v, FV_AUDIT_EXTRACT, 0, d,
				  "the extract ends the log but log_head is not its head");
		goto out;
	}
	if (!hex_field(doc, "signer_pub", signer, sizeof(signer), &signer_len) ||
	    !hex_field(doc, "signature", sig, sizeof(sig), &sig_len)) {
		e = extract_fault(v, FV_AUDIT_EXTRACT, 0, d,
				  "signer_pub and signature must be hex DER");
		goto out;
	}
	if (signer_len != pub_len || memcmp(signer, pub, pub_len) != 0) {
		e = extract_fault(v, FV_AUDIT_SIGNATURE, 0, d,
				  "signed by another key than the one given");
		goto out;
	}
	if (!(body = json_copy(doc)) || json_object_del(body, "signature") != 0 ||
	    !(canon = json_dumps(body, FV_AUDIT_JSON_FLAGS))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (fv_verify(pub, pub_len, canon, strlen(canon), sig, sig_len) != FV_OK) {
		e = extract_fault(v, FV_AUDIT_SIGNATURE, 0, d,
				  "the signature does not verify: the extract was altered");
		goto out;
	}
	e = FV_OK;
out:
	if (e != FV_OK && v->fault == FV_AUDIT_OK)
		v->entries = 0;
	free(canon);
	json_decref(body);
	json_decref(doc);
	return e;
}

/* ---- keys ---- */

static fv_err der_of(EVP_PKEY *pk, uint8_t *pub, size_t *pub_len, const char *path,
		     struct fv_diag *d)
{
	int n = pk ? i2d_PUBKEY(pk, NULL) : -1;
	uint8_t *p = pub;

	if (n <= 0 || n > FV_PUBKEY_MAX || i2d_PUBKEY(pk, &p) != n) {
		ERR_clear_error();
		return fv_diag_set(d, FV_ECRYPTO, "%s: not a usable public key", path);
	}
	*pub_len = (size_t)n;
	return FV_OK;
}

fv_err fv_audit_pubkey_load(const char *path, const char *ca_path, uint8_t pub[FV_PUBKEY_MAX],
			    size_t *pub_len, struct fv_diag *d)
{
	uint8_t *pem = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0;
	struct fv_key *key = NULL;
	struct fv_cert_info info;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	fv_err e;

	if ((e = fv_file_read(path, FV_MAX_CERT_PEM * 4, &pem, &len, d)) != FV_OK)
		goto out;
	if (strstr((char *)pem, "-----BEGIN CERTIFICATE-----")) {
		if (ca_path) {
			if ((e = fv_file_read(ca_path, FV_MAX_CERT_PEM * 4, &ca, &ca_len, d)) ||
			    (e = fv_cert_verify((char *)ca, ca_len, (char *)pem, len, &info, d)))
				goto out;
			memcpy(pub, info.pub, info.pub_len);
			*pub_len = info.pub_len;
			goto out;
		}
		if (!(bio = BIO_new_mem_buf(pem, (int)len)) ||
		    !(x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			e = fv_diag_set(d, FV_ECRYPTO, "%s: unreadable certificate", path);
			goto out;
		}
		e = der_of(X509_get0_pubkey(x), pub, pub_len, path, d);
	} else if (ca_path) {
		e = fv_diag_set(d, FV_EINVAL, "%s: --ca applies to a certificate only", path);
	} else if (strstr((char *)pem, "-----BEGIN PUBLIC KEY-----")) {
		if (!(bio = BIO_new_mem_buf(pem, (int)len)) ||
		    !(pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL))) {
			e = fv_diag_set(d, FV_ECRYPTO, "%s: unreadable public key", path);
			goto out;
		}
		e = der_of(pk, pub, pub_len, path, d);
	} else if (strstr((char *)pem, "PRIVATE KEY-----")) {
		if ((e = fv_key_load(path, &key, d)) == FV_OK &&
		    fv_key_public_der(key, pub, FV_PUBKEY_MAX, pub_len) != FV_OK)
			e = fv_diag_set(d, FV_ECRYPTO, "%s: not a usable key", path);
	} else {
		e = fv_diag_set(d, FV_EINVAL,
				"%s: expected a PEM public key, certificate or private key", path);
	}
out:
	ERR_clear_error();
	fv_key_free(key);
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(bio);
	fv_free(pem);
	fv_free(ca);
	return e;
}
