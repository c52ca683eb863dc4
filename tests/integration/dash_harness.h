/* Helpers for the dashboard's integration tests: turn the dashboard on in the harness's
 * coordinator config, find its port, fetch over HTTPS with curl against the federation CA
 * (hostname verified: the coordinator's certificate names "localhost"), make tokens. */
#ifndef FEDVAL_TEST_DASH_HARNESS_H
#define FEDVAL_TEST_DASH_HARNESS_H

#include <jansson.h>

#include "harness.h"

/* Append the dashboard setting to coordinator.ini (call after h_fed_init, before start).
 * Port 0: the coordinator picks a free port and logs it. */
static H_UNUSED void dh_enable(struct fed *f)
{
	char path[512];
	FILE *fp;
	snprintf(path, sizeof(path), "%s/coordinator.ini", f->dir);
	fp = fopen(path, "a");
	cr_assert(fp);
	fputs("dashboard = https://127.0.0.1:0\n", fp);
	fclose(fp);
}

/* The port from "event=dashboard_listening ... port=N" in the coordinator's log. */
static H_UNUSED int dh_port(struct fed *f)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/coordinator.log", f->dir);
	cr_assert(h_wait_log(log, "event=dashboard_listening", 1, 10000),
		  "dashboard did not start:\n%s", h_slurp(log));
	char *s = h_slurp(log), *p = strstr(strstr(s, "event=dashboard_listening"), " port=");
	int port = p ? (int)strtol(p + 6, NULL, 10) : 0;
	free(s);
	cr_assert(port > 0 && port < 65536, "no dashboard port in the log");
	return port;
}

/* GET (or another method via extra, e.g. "-X POST") https://localhost:port + path with curl.
 * extra may add headers ("-H 'Authorization: Bearer ...'"). Returns the HTTP status (0 when
 * curl failed); *body (optional) gets the response body, *json (optional) it parsed. */
static H_UNUSED int dh_fetch(struct fed *f, int port, const char *path, const char *extra,
			     char **body, json_t **json)
{
	char *out = NULL, bodyp[512];
	int status;
	snprintf(bodyp, sizeof(bodyp), "%s/dash-response.body", f->dir);
	unlink(bodyp);
	h_run(&out,
	      "curl -sS --max-time 30 --cacert %s/pki/ca/ca.crt --resolve localhost:%d:127.0.0.1 "
	      "-o %s -w '%%{http_code}' %s 'https://localhost:%d%s' 2>/dev/null",
	      f->dir, port, bodyp, extra ? extra : "", port, path);
	status = (int)strtol(out, NULL, 10); /* curl prints 000 on failure */
	free(out);
	char *b = h_slurp(bodyp);
	if (json) {
		json_error_t jerr;
		*json = json_loads(b, 0, &jerr);
	}
	if (body)
		*body = b;
	else
		free(b);
	return status;
}

static H_UNUSED void dh_b64url(const uint8_t *in, size_t n, char *out)
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

/* A token with arbitrary claims text, signed with the key in pki/KEYNAME.key: for expired,
 * forged and malformed tokens that the CLI would never make. */
static H_UNUSED void dh_token_raw(struct fed *f, const char *keyname, const char *claims, char *out,
				  size_t cap)
{
	char path[512], p1[1024], p2[256];
	struct fv_key *k = NULL;
	struct fv_diag d = {{0}};
	uint8_t sig[FV_SIG_MAX];
	size_t sl = 0;
	snprintf(path, sizeof(path), "%s/pki/%s.key", f->dir, keyname);
	cr_assert(fv_key_load(path, &k, &d) == FV_OK, "%s", d.msg);
	cr_assert(strlen(claims) < 700);
	dh_b64url((const uint8_t *)claims, strlen(claims), p1);
	cr_assert(fv_sign(k, p1, strlen(p1), sig, &sl) == FV_OK);
	dh_b64url(sig, sl, p2);
	fv_key_free(k);
	snprintf(out, cap, "%s.%s", p1, p2);
}

static H_UNUSED void dh_token_claims(struct fed *f, const char *keyname, const char *sub,
				     int64_t exp, char *out, size_t cap)
{
	char claims[256];
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"fedval-dashboard\",\"exp\":%lld,\"sub\":\"%s\"}", (long long)exp, sub);
	dh_token_raw(f, keyname, claims, out, cap);
}

/* A token from the real CLI. */
static H_UNUSED void dh_token_cli(struct fed *f, const char *who, char *out, size_t cap)
{
	char *o = NULL;
	cr_assert_eq(h_cli(f, &o, who, "dashboard token --hours 2"), 0, "token: %s", o);
	h_last_line(o, out, cap);
	free(o);
	cr_assert(strchr(out, '.'), "token: %s", out);
}

#endif
