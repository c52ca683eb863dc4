/* fedval audit verify / audit export: check a hash-chained audit log or a signed extract;
 * export a signed extract for an inspector. The format is in docs/audit.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fedval/audit.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static const char verify_usage[] =
    "usage: fedval audit verify FILE [--key KEY.pem | --cert CERT.pem [--ca CA.crt]] [--json]\n"
    "\n"
    "Check every link of an audit log (or of a signed extract made by 'fedval audit export'):\n"
    "each line is a canonical JSON entry, seq counts up by one from 1, prev is the previous\n"
    "entry's hash and hash is the SHA-256 of the entry. Prints 'ok: N entries, head HASH' or\n"
    "the first broken link: its line and the check that failed (incomplete line, bad JSON,\n"
    "malformed entry, seq gap, prev-hash mismatch, entry hash mismatch; for an extract also\n"
    "bad extract, bad signature).\n"
    "\n"
    "  --key FILE    extract: the signer's public key (PEM public or private key)\n"
    "  --cert FILE   extract: the signer's certificate\n"
    "  --ca FILE     with --cert: also check the certificate against this federation CA\n"
    "  --json        print the verdict as JSON\n"
    "\n"
    "An extract is only accepted with --key or --cert. Exit status: 0 every link holds,\n"
    "1 a link is broken or the file cannot be read, 2 bad usage.\n";

static const char export_usage[] =
    "usage: fedval audit export FILE --key KEY.pem --out EXTRACT.json [--from SEQ] [--to SEQ]\n"
    "                           [--json]\n"
    "\n"
    "Write a signed extract of the audit log FILE for an inspector: the entries --from..--to\n"
    "(default: all), the hash of the entry before the first, the log's size and head\n"
    "now, and an ECDSA signature by KEY over the canonical extract. The whole log must\n"
    "verify first. The inspector checks it with 'fedval audit verify EXTRACT.json --cert\n"
    "NODE.crt'.\n"
    "\n"
    "  --key FILE    the private key to sign with (the node's or coordinator's; mode 0600)\n"
    "  --out FILE    where to write the extract (replaced atomically)\n"
    "  --from SEQ    first entry (default 1)\n"
    "  --to SEQ      last entry (default the log's last)\n"
    "  --json        print a JSON summary\n";

enum { OPT_JSON = 256, OPT_FROM, OPT_TO, OPT_CA };

/* Print v (and, for an unreadable file, d) as the command's verdict; returns the exit code. */
static int print_verdict(const char *file, bool extract, fv_err e, const struct fv_audit_verdict *v,
			 const struct fv_diag *d, bool as_json)
{
	const char *unit = extract ? "entry" : "line";
	bool broken = e == FV_ECORRUPT;

	if (as_json) {
		json_t *j = json_pack("{s:s, s:s, s:b}", "file", file, "kind",
				      extract ? "extract" : "log", "ok", e == FV_OK);
		char *s;
		if (!j)
			return CLI_FAIL;
		if (e == FV_OK || broken) {
			json_object_set_new(j, "entries", json_integer((json_int_t)v->entries));
			json_object_set_new(j, "first_seq", json_integer((json_int_t)v->first_seq));
			json_object_set_new(j, "last_seq", json_integer((json_int_t)v->last_seq));
			json_object_set_new(j, "head", json_string(v->head));
		}
		if (broken) {
			json_object_set_new(j, unit, json_integer((json_int_t)v->bad_line));
			json_object_set_new(j, "fault", json_string(fv_audit_fault_name(v->fault)));
			json_object_set_new(j, "reason", json_string(v->why));
		} else if (e != FV_OK) {
			json_object_set_new(j, "error", json_string(d->msg));
		}
		s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
		json_decref(j);
		return e == FV_OK ? CLI_OK : CLI_FAIL;
	}
	if (e == FV_OK) {
		printf("ok: %llu entries, head %s", (unsigned long long)v->entries, v->head);
		if (extract)
			printf(" (signed extract of seq %llu..%llu, signature verified)",
			       (unsigned long long)v->first_seq, (unsigned long long)v->last_seq);
		putchar('\n');
		return CLI_OK;
	}
	if (!broken)
		return cli_fail("audit verify", d);
	if (v->bad_line)
		printf("broken: %s: %s %llu: %s: %s\n", file, unit, (unsigned long long)v->bad_line,
		       fv_audit_fault_name(v->fault), v->why);
	else
		printf("broken: %s: %s: %s\n", file, fv_audit_fault_name(v->fault), v->why);
	if (v->bad_line)
		printf("  %llu entries before it verified, last good head %s\n",
		       (unsigned long long)v->entries, v->head);
	return CLI_FAIL;
}

/* An extract is one JSON document: pretty-printed its first line is "{", compact it names
 * its format on the first line. A log's first line is an entry. */
static fv_err looks_like_extract(const char *path, bool *extract, struct fv_diag *d)
{
	char buf[4096];
	size_t n, i = 0;
	FILE *f = fopen(path, "r");

	*extract = false;
	if (!f)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
		i++;
	if (buf[i] == '{') {
		i++;
		while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
			i++;
		if (buf[i] == '\n') {
			*extract = true;
			return FV_OK;
		}
	}
	buf[strcspn(buf, "\n")] = '\0';
	*extract = strstr(buf, "\"" FV_AUDIT_EXTRACT_FORMAT "\"") != NULL;
	return FV_OK;
}

int cmd_audit_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {"cert", required_argument, NULL, 'c'},
					     {"ca", required_argument, NULL, OPT_CA},
					     {"json", no_argument, NULL, OPT_JSON},
					     {NULL, 0, NULL, 0}};
	const char *file, *key = NULL, *cert = NULL, *ca = NULL;
	struct fv_audit_verdict v;
	struct fv_diag d = {{0}};
	uint8_t pub[FV_PUBKEY_MAX];
	uint8_t *text = NULL;
	size_t pub_len = 0, len = 0;
	bool as_json = false, extract = false;
	int c, bad = 0, rc;
	fv_err e;

	if (cli_wants_help(argc, argv, verify_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, verify_usage, &bad)) != -1) {
		if (c == 'k')
			key = optarg;
		else if (c == 'c')
			cert = optarg;
		else if (c == OPT_CA)
			ca = optarg;
		else if (c == OPT_JSON)
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(verify_usage, "audit verify needs exactly one FILE");
	file = argv[optind];
	if (key && cert)
		return cli_usage(verify_usage, "give --key or --cert, not both");
	if (ca && !cert)
		return cli_usage(verify_usage, "--ca goes with --cert");
	memset(&v, 0, sizeof(v));
	if ((e = looks_like_extract(file, &extract, &d)) != FV_OK)
		return print_verdict(file, false, e, &v, &d, as_json);
	if (!extract) {
		if (key || cert)
			return cli_usage(verify_usage,
					 "%s is an audit log, not a signed extract: --key and "
					 "--cert apply to extracts",
					 file);
		e = fv_audit_verify_file(file, &v, &d);
		return print_verdict(file, false, e, &v, &d, as_json);
	}
	if (!key && !cert)
		return cli_usage(verify_usage,
				 "%s is a signed extract: give --key or --cert to check its "
				 "signature",
				 file);
	if ((e = fv_audit_pubkey_load(key ? key : cert, ca, pub, &pub_len, &d)) == FV_OK &&
	    (e = fv_file_read(file, FV_MAX_AUDIT_EXTRACT, &text, &len, &d)) == FV_OK)
		e = fv_audit_verify_extract((const char *)text, len, pub, pub_len, &v, &d);
	rc = print_verdict(file, true, e, &v, &d, as_json);
	fv_free(text);
	return rc;
}

static fv_err parse_seq(const char *opt, const char *s, uint64_t *out, struct fv_diag *d)
{
	long v;

	if (fv_parse_long(s, 1, 0x7fffffffffffffffL, &v) != FV_OK)
		return fv_diag_set(d, FV_EINVAL, "%s '%s' must be a sequence number >= 1", opt, s);
	*out = (uint64_t)v;
	return FV_OK;
}

int cmd_audit_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},	 {"out", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO},
	    {"json", no_argument, NULL, OPT_JSON},	 {NULL, 0, NULL, 0}};
	const char *file = NULL, *keyp = NULL, *out = NULL;
	struct fv_diag d = {{0}};
	struct fv_audit_verdict v;
	struct fv_key *key = NULL;
	uint8_t pub[FV_PUBKEY_MAX];
	uint64_t from = 0, to = 0;
	char *text = NULL;
	size_t len = 0, pub_len = 0;
	bool as_json = false;
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, export_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, export_usage, &bad)) != -1) {
		if (c == 'k')
			keyp = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == OPT_FROM && parse_seq("--from", optarg, &from, &d) != FV_OK)
			return cli_usage(export_usage, "%s", d.msg);
		else if (c == OPT_TO && parse_seq("--to", optarg, &to, &d) != FV_OK)
			return cli_usage(export_usage, "%s", d.msg);
		else if (c == OPT_JSON)
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc || !keyp || !out)
		return cli_usage(export_usage, "audit export needs FILE, --key and --out");
	file = argv[optind];
	if (from && to && from > to)
		return cli_usage(export_usage, "--from must not be after --to");
	if (fv_key_load(keyp, &key, &d) != FV_OK ||
	    fv_audit_export(file, key, from, to, &text, &len, &d) != FV_OK ||
	    fv_file_write_atomic(out, text, len, 0644, &d) != FV_OK)
		goto out;
	/* Check what was written as the inspector will, and report its range from that. */
	if (fv_key_public_der(key, pub, sizeof(pub), &pub_len) != FV_OK) {
		fv_diag_set(&d, FV_ECRYPTO, "%s: cannot encode the public key", keyp);
		goto out;
	}
	if (fv_audit_verify_extract(text, len, pub, pub_len, &v, &d) != FV_OK) {
		fv_diag_prefix(&d, "the extract written to %s does not verify: ", out);
		goto out;
	}
	if (as_json) {
		json_t *j =
		    json_pack("{s:b, s:s, s:s, s:I, s:I, s:I, s:s}", "ok", 1, "file", file, "out",
			      out, "from", (json_int_t)v.first_seq, "to", (json_int_t)v.last_seq,
			      "entries", (json_int_t)v.entries, "head", v.head);
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(j);
	} else {
		printf("exported entries %llu..%llu of %s to %s (%llu entries, head %s), signed\n",
		       (unsigned long long)v.first_seq, (unsigned long long)v.last_seq, file, out,
		       (unsigned long long)v.entries, v.head);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK) {
		if (as_json) {
			json_t *j = json_pack("{s:b, s:s, s:s}", "ok", 0, "file", file ? file : "",
					      "error", d.msg);
			char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
			if (s)
				puts(s);
			free(s);
			json_decref(j);
		}
		cli_fail("audit export", &d);
	}
	free(text);
	fv_key_free(key);
	return rc;
}
