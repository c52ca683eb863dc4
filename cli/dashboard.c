/* fedval dashboard token: a bearer token for the coordinator's dashboard, made offline from an
 * authority's client profile (docs/dashboard.md). Nothing is sent anywhere. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* Must equal FV_DASH_TOKEN_AUD in coordinator/dashboard.h (the dashboard refuses others). */
#define TOKEN_AUD "fedval-dashboard"
/* Longest lifetime; the dashboard refuses tokens valid for longer (FV_DASH_MAX_TOKEN_HOURS). */
#define TOKEN_MAX_HOURS (24 * 31)

int cmd_dashboard_token(int argc, char **argv);

static const char token_usage[] =
    "usage: fedval dashboard token --config FILE [--hours N] [--json]\n"
    "\n"
    "Print a bearer token for the coordinator's HTTPS dashboard, signed with the key of the\n"
    "client profile, which must be an authority's. With it the dashboard shows per-site\n"
    "results and leaderboards: send it as 'Authorization: Bearer TOKEN' or open the page\n"
    "as https://HOST:PORT/?token=TOKEN. Anyone holding the token sees what the authority\n"
    "sees until it expires or the authority is revoked: keep it like a password.\n"
    "\n"
    "  --config FILE   client profile (default $FEDVAL_CONFIG): [client] ca, cert, key\n"
    "  --hours N       validity in hours, 1..744 (default 8)\n"
    "  --json          print {\"token\", \"sub\", \"expires\"} instead of the bare token\n";

static void b64url(const uint8_t *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

int cmd_dashboard_token(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"hours", required_argument, NULL, 'H'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char *const keys[] = {"client.url", "client.ca", "client.cert", "client.key",
					   NULL};
	const char *config = NULL, *hours_s = NULL, *cav, *certv, *keyv;
	struct fv_config *cfg = NULL;
	struct fv_key *key = NULL;
	struct fv_cert_info info;
	struct fv_diag d = {{0}};
	char *ca = NULL, *cert = NULL, *keyp = NULL, *claims = NULL;
	uint8_t *ca_pem = NULL, *cert_pem = NULL, pub[FV_PUBKEY_MAX], sig[FV_SIG_MAX];
	size_t ca_len = 0, cert_len = 0, pub_len = 0, sig_len = 0;
	char part1[512], part2[2 * FV_SIG_MAX], exp_iso[32];
	long hours = 8;
	bool as_json = false;
	int c, bad = 0, rc = CLI_FAIL;
	int64_t exp;

	if (cli_wants_help(argc, argv, token_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, token_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'H')
			hours_s = optarg;
		else if (c == 'j')
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind != argc)
		return cli_usage(token_usage, "dashboard token takes no arguments");
	if (hours_s && fv_parse_long(hours_s, 1, TOKEN_MAX_HOURS, &hours) != FV_OK)
		return cli_usage(token_usage, "--hours must be a whole number in 1..%d",
				 TOKEN_MAX_HOURS);
	if (!config)
		config = getenv("FEDVAL_CONFIG");
	if (!config) {
		fv_diag_set(&d, FV_EINVAL,
			    "no client profile: pass --config FILE or set "
			    "FEDVAL_CONFIG");
		goto out;
	}
	if (fv_config_load(config, &cfg, &d) != FV_OK ||
	    fv_config_check_known(cfg, keys, &d) != FV_OK ||
	    fv_config_require(cfg, "client", "ca", &cav, &d) != FV_OK ||
	    fv_config_require(cfg, "client", "cert", &certv, &d) != FV_OK ||
	    fv_config_require(cfg, "client", "key", &keyv, &d) != FV_OK)
		goto out;
	ca = fv_config_resolve(cfg, cav);
	cert = fv_config_resolve(cfg, certv);
	keyp = fv_config_resolve(cfg, keyv);
	if (!ca || !cert || !keyp) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	/* The name comes from our own certificate, checked against the federation CA, so a
	 * profile that is not an authority's fails here rather than at the dashboard. */
	if (fv_file_read(ca, FV_MAX_CERT_PEM, &ca_pem, &ca_len, &d) != FV_OK ||
	    fv_file_read(cert, FV_MAX_CERT_PEM, &cert_pem, &cert_len, &d) != FV_OK)
		goto out;
	if (fv_cert_verify((const char *)ca_pem, ca_len, (const char *)cert_pem, cert_len, &info,
			   &d) != FV_OK) {
		fv_diag_prefix(&d, "%s: ", cert);
		goto out;
	}
	if (info.role != FV_ROLE_AUTHORITY) {
		fv_diag_set(&d, FV_EAUTH, "%s: role %s; dashboard tokens are for an authority",
			    cert, fv_role_name(info.role));
		goto out;
	}
	if (fv_key_load(keyp, &key, &d) != FV_OK)
		goto out;
	if (fv_key_public_der(key, pub, sizeof(pub), &pub_len) != FV_OK ||
	    pub_len != info.pub_len || memcmp(pub, info.pub, pub_len) != 0) {
		fv_diag_set(&d, FV_ECRYPTO, "%s does not belong to the certificate %s", keyp, cert);
		goto out;
	}
	exp = fv_now_us() / 1000000 + (int64_t)hours * 3600;
	json_t *j =
	    json_pack("{s:s,s:s,s:I}", "aud", TOKEN_AUD, "sub", info.name, "exp", (json_int_t)exp);
	claims = j ? cli_json_canonical(j) : NULL;
	json_decref(j);
	if (!claims || strlen(claims) > 360) {
		fv_diag_set(&d, FV_ENOMEM, "cannot build the token claims");
		goto out;
	}
	b64url((const uint8_t *)claims, strlen(claims), part1);
	if (fv_sign(key, part1, strlen(part1), sig, &sig_len) != FV_OK) {
		fv_diag_set(&d, FV_ECRYPTO, "cannot sign the token");
		goto out;
	}
	b64url(sig, sig_len, part2);
	if (as_json) {
		fv_time_iso(exp * 1000000, exp_iso, sizeof(exp_iso));
		json_t *o = json_pack("{s:s++,s:s,s:s}", "token", part1, ".", part2, "sub",
				      info.name, "expires", exp_iso);
		if (!o || json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
			json_decref(o);
			fv_diag_set(&d, FV_EIO, "cannot write the token");
			goto out;
		}
		putchar('\n');
		json_decref(o);
	} else {
		printf("%s.%s\n", part1, part2);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("dashboard token", &d);
	free(claims);
	fv_key_free(key);
	fv_free(ca_pem);
	fv_free(cert_pem);
	fv_free(ca);
	fv_free(cert);
	fv_free(keyp);
	fv_config_free(cfg);
	return rc;
}
