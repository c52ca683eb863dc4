/* The read-only dashboard: one HTTPS handler (nng's HTTP server, TLS with the coordinator's
 * certificate) that routes every path itself, so that unknown paths and methods get JSON
 * errors rather than nng's HTML pages.
 *
 * Access (docs/dashboard.md): benchmarks, models, sites and run progress are public to whoever
 * reaches the port (the federation network); per-site results and leaderboards need a bearer
 * token signed by an authority's registered key. Nothing here writes to the store. */
#include "dashboard.h"
#include "schedule.h"

#include <jansson.h>
#include <math.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/report.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "fedval/wire.h"

#define Z95 0.95
/* Sites pooled per model in one meta-analysis (as fedval results, which pools up to 64). */
#define MAX_POOL_SITES 1024

struct dashboard {
	struct coord *co;
	nng_http_server *srv;
	nng_http_handler *h;
	nng_tls_config *tls;
	atomic_int inflight;
	atomic_bool closing;
	char csp[512];
	char *page; /* the HTML page, built once at start */
	size_t page_len;
	int port;
};

/* One request: what the router and the endpoints need. */
struct ctx {
	struct dashboard *db;
	char path[FV_DASH_MAX_URI + 1]; /* percent-decoded */
	const char *query;		/* raw, after '?', or "" */
	bool authority;			/* a valid authority token came with the request */
	char who[FV_MAX_NAME + 1];
	int64_t token_exp;
	char why[160]; /* why not authority, for the 403 */
};

struct resp {
	uint16_t status;
	const char *ctype;
	char *body; /* fv_alloc'd or from jansson (free) */
	bool body_from_jansson;
	size_t len;
};

/* ---- small helpers ---- */

static json_t *jtime(int64_t us)
{
	char ts[32];
	if (us <= 0)
		return json_null();
	fv_time_iso(us, ts, sizeof(ts));
	return json_string(ts);
}

/* Text of a column as a JSON string (null for SQL NULL); invalid UTF-8 becomes null too, as
 * jansson refuses it. */
static json_t *jcol(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	json_t *j;
	if (!s)
		return json_null();
	j = json_string((const char *)s);
	return j ? j : json_null();
}

static void set_json(struct resp *rp, uint16_t status, json_t *j)
{
	char *s =
	    j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
		rp->status = 500;
		rp->ctype = "application/json";
		rp->body = NULL;
		rp->len = 0;
		rp->body = fv_strdup(oom);
		rp->body_from_jansson = false;
		rp->len = rp->body ? strlen(rp->body) : 0;
		return;
	}
	rp->status = status;
	rp->ctype = "application/json";
	rp->body = s;
	rp->body_from_jansson = true;
	rp->len = strlen(s);
}

static void set_error(struct resp *rp, uint16_t status, const char *code, const char *msg)
{
	set_json(rp, status,
		 json_pack("{s:s,s:s,s:i}", "error", code, "message", msg, "status", (int)status));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode n bytes of s into out (cap bytes with the NUL). Refuses bad escapes, %00 and
 * control characters. plus: '+' means a space (query strings). */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap, bool plus)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return false;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/* The value of query parameter `name`: 1 found (decoded into out), 0 absent, -1 malformed. */
static int query_get(const char *q, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len > nl && !strncmp(q, name, nl) && q[nl] == '=')
			return pct_decode(q + nl + 1, len - nl - 1, out, cap, true) ? 1 : -1;
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* Strict base64url without padding; FV_EINVAL on any other byte or a bad length. */
static fv_err b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	if (n % 4 == 1)
		return FV_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v = c >= 'A' && c <= 'Z'   ? c - 'A'
			: c >= 'a' && c <= 'z' ? c - 'a' + 26
			: c >= '0' && c <= '9' ? c - '0' + 52
			: c == '-'	       ? 62
			: c == '_'	       ? 63
					       : -1;
		if (v < 0)
			return FV_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return FV_ELIMIT;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero (one encoding per byte string) */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return FV_EINVAL;
	*len = o;
	return FV_OK;
}

static void b64_std(const uint8_t *in, size_t n, char *out, size_t cap)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* ---- authentication ---- */

/* Check a bearer token: base64url(claims) "." base64url(DER ECDSA signature over the first
 * part, as ASCII), claims = {"aud": FV_DASH_TOKEN_AUD, "sub": name, "exp": unix seconds}; the
 * signer must be a registered, unrevoked authority and exp in (now, now + max lifetime]. */
static bool token_check(struct ctx *c, const char *tok)
{
	size_t n = strlen(tok), plen, slen;
	const char *dot = strchr(tok, '.');
	uint8_t claims[512], sig[FV_SIG_MAX], pub[FV_PUBKEY_MAX];
	size_t pub_len = 0;
	json_t *j = NULL;
	const char *sub, *aud, *role = NULL;
	json_int_t exp;
	int64_t now = fv_now_us() / 1000000;
	bool ok = false, revoked = true;
	sqlite3_stmt *st = NULL;
	struct store *s = c->db->co->store;

	if (n > FV_DASH_MAX_TOKEN || !dot || strchr(dot + 1, '.')) {
		fv_strlcpy(c->why, "malformed token", sizeof(c->why));
		return false;
	}
	if (b64url_decode(tok, (size_t)(dot - tok), claims, sizeof(claims) - 1, &plen) != FV_OK ||
	    b64url_decode(dot + 1, n - (size_t)(dot - tok) - 1, sig, sizeof(sig), &slen) != FV_OK) {
		fv_strlcpy(c->why, "malformed token", sizeof(c->why));
		return false;
	}
	claims[plen] = '\0';
	j = json_loadb((const char *)claims, plen, JSON_REJECT_DUPLICATES, NULL);
	if (!j || json_unpack(j, "{s:s,s:s,s:I}", "aud", &aud, "sub", &sub, "exp", &exp) != 0 ||
	    strcmp(aud, FV_DASH_TOKEN_AUD) != 0 || !fv_name_valid(sub)) {
		fv_strlcpy(c->why, "malformed token claims", sizeof(c->why));
		goto out;
	}
	if (exp <= now) {
		fv_strlcpy(c->why, "token expired", sizeof(c->why));
		goto out;
	}
	if (exp > now + (json_int_t)FV_DASH_MAX_TOKEN_HOURS * 3600 + 300) {
		fv_strlcpy(c->why, "token lifetime too long", sizeof(c->why));
		goto out;
	}
	store_lock(s);
	if (store_query(s, &st, "SELECT role, pubkey, revoked FROM principals WHERE name = ?", "t",
			sub) == FV_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		int bl = sqlite3_column_bytes(st, 1);
		role = (const char *)sqlite3_column_text(st, 0);
		role = role && !strcmp(role, "authority") ? "authority" : "other";
		revoked = sqlite3_column_int(st, 2) != 0;
		if (bl > 0 && (size_t)bl <= sizeof(pub)) {
			memcpy(pub, sqlite3_column_blob(st, 1), (size_t)bl);
			pub_len = (size_t)bl;
		}
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (!role || pub_len == 0) {
		fv_strlcpy(c->why, "token of an unknown principal", sizeof(c->why));
		goto out;
	}
	if (strcmp(role, "authority") != 0 || revoked) {
		fv_strlcpy(c->why, revoked ? "principal revoked" : "principal is not an authority",
			   sizeof(c->why));
		goto out;
	}
	if (fv_verify(pub, pub_len, tok, (size_t)(dot - tok), sig, slen) != FV_OK) {
		fv_strlcpy(c->why, "token signature does not verify", sizeof(c->why));
		goto out;
	}
	fv_strlcpy(c->who, sub, sizeof(c->who));
	c->token_exp = exp;
	ok = true;
out:
	json_decref(j);
	return ok;
}

/* Token from "Authorization: Bearer T" or, for the browser page, "?token=T". */
static void authenticate(struct ctx *c, nng_http_req *req)
{
	const char *h = nng_http_req_get_header(req, "Authorization");
	char tok[FV_DASH_MAX_TOKEN + 1];
	int q;

	fv_strlcpy(c->why, "results and leaderboards need an authority token", sizeof(c->why));
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		if (strlen(h) > FV_DASH_MAX_TOKEN) {
			fv_strlcpy(c->why, "malformed token", sizeof(c->why));
			return;
		}
		fv_strlcpy(tok, h, sizeof(tok));
	} else if ((q = query_get(c->query, "token", tok, sizeof(tok))) != 1) {
		if (q < 0)
			fv_strlcpy(c->why, "malformed token", sizeof(c->why));
		return;
	}
	c->authority = token_check(c, tok);
	if (!c->authority)
		fv_log(FV_LOG_INFO, "dashboard_token_refused", "reason=%s", FV_Q(c->why));
}

/* ---- public endpoints ---- */

static void api_benchmarks(struct ctx *c, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	fv_err e;

	store_lock(s);
	e = store_query(s, &st,
			"SELECT name, version, spec_json, created_by, created_us FROM benchmarks "
			"ORDER BY name, created_us",
			"");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *spec = (const char *)sqlite3_column_text(st, 2);
		json_t *sj = spec ? json_loads(spec, 0, NULL) : NULL;
		json_t *b = json_object();
		json_object_set_new(b, "name", jcol(st, 0));
		json_object_set_new(b, "version", jcol(st, 1));
		json_object_set_new(b, "title",
				    json_incref(json_object_get(sj, "title")
						    ? json_object_get(sj, "title")
						    : json_null()));
		json_object_set_new(b, "task",
				    json_incref(json_object_get(sj, "task")
						    ? json_object_get(sj, "task")
						    : json_null()));
		json_object_set_new(b, "created_by", jcol(st, 3));
		json_object_set_new(b, "created", jtime(sqlite3_column_int64(st, 4)));
		json_object_set_new(b, "spec", sj ? sj : json_null());
		json_array_append_new(arr, b);
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (e != FV_OK) {
		json_decref(arr);
		set_error(rp, 500, "store", "cannot read benchmarks");
		return;
	}
	set_json(rp, 200, json_pack("{s:o}", "benchmarks", arr));
}

static void api_models(struct ctx *c, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	fv_err e;

	store_lock(s);
	e = store_query(s, &st,
			"SELECT version_id, name, version, vendor, onnx_sha256, size, created_us, "
			"manifest_json FROM models ORDER BY vendor, name, created_us",
			"");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *mj = (const char *)sqlite3_column_text(st, 7);
		json_t *m = mj ? json_loads(mj, 0, NULL) : NULL,
		       *iu = json_object_get(m, "intended_use");
		json_array_append_new(
		    arr, json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:O}", "version_id", jcol(st, 0),
				   "name", jcol(st, 1), "version", jcol(st, 2), "vendor",
				   jcol(st, 3), "onnx_sha256", jcol(st, 4), "size",
				   (json_int_t)sqlite3_column_int64(st, 5), "created",
				   jtime(sqlite3_column_int64(st, 6)), "intended_use",
				   json_is_string(iu) ? iu : json_null()));
		json_decref(m);
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (e != FV_OK) {
		json_decref(arr);
		set_error(rp, 500, "store", "cannot read models");
		return;
	}
	set_json(rp, 200, json_pack("{s:o}", "models", arr));
}

static void api_sites(struct ctx *c, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	fv_err e;

	store_lock(s);
	e = store_query(s, &st,
			"SELECT name, enrolled_us, last_seen_us, software, revoked FROM principals "
			"WHERE role = 'node' ORDER BY name",
			"");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		int64_t seen = sqlite3_column_int64(st, 2);
		json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o,s:o,s:b,s:[]}", "name",
						     jcol(st, 0), "enrolled",
						     jtime(sqlite3_column_int64(st, 1)),
						     "last_seen", jtime(seen), "last_seen_us",
						     seen > 0 ? json_integer(seen) : json_null(),
						     "software", jcol(st, 3), "revoked",
						     sqlite3_column_int(st, 4) != 0, "datasets"));
	}
	sqlite3_finalize(st);
	/* Each site's registered datasets (docs/data-summary.md; the summaries themselves are
	 * in `fedval dataset list --json` and in run reports). */
	if (e == FV_OK)
		e = store_query(s, &st,
				"SELECT node, name, period, source_kind, records, fingerprint, "
				"registered_us FROM datasets ORDER BY node, name",
				"");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *node = (const char *)sqlite3_column_text(st, 0);
		size_t i;
		json_t *site;
		json_array_foreach(arr, i, site)
		{
			if (!node ||
			    strcmp(json_string_value(json_object_get(site, "name")), node) != 0)
				continue;
			json_array_append_new(json_object_get(site, "datasets"),
					      json_pack("{s:o,s:o,s:o,s:I,s:o,s:o}", "name",
							jcol(st, 1), "period", jcol(st, 2),
							"source", jcol(st, 3), "records",
							(json_int_t)sqlite3_column_int64(st, 4),
							"fingerprint", jcol(st, 5), "registered",
							jtime(sqlite3_column_int64(st, 6))));
		}
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (e != FV_OK) {
		json_decref(arr);
		set_error(rp, 500, "store", "cannot read sites");
		return;
	}
	set_json(rp, 200, json_pack("{s:o,s:I}", "sites", arr, "now_us", (json_int_t)fv_now_us()));
}

static bool state_final(const char *s)
{
	return s && (!strcmp(s, "done") || !strcmp(s, "failed") || !strcmp(s, "vetoed"));
}

/* A run's summary with its jobs; the store lock is held by the caller. Job reasons (a site's
 * veto or failure text) only for an authority. NULL when the run does not exist. */
static json_t *run_json(struct ctx *c, const char *run_id)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	json_t *r = NULL, *jobs, *cmp;
	size_t total = 0, fin = 0, ok = 0;

	if (store_query(
		s, &st,
		"SELECT r.benchmark_name, r.benchmark_version, r.model_version_id, m.name, "
		"m.version, m.vendor, r.created_by, r.created_us, r.published_us FROM runs r "
		"LEFT JOIN models m ON m.version_id = r.model_version_id WHERE r.run_id = ?",
		"t", run_id) != FV_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		r = json_pack("{s:s,s:o,s:o,s:{s:o,s:o,s:o,s:o},s:o,s:o,s:o}", "run_id", run_id,
			      "benchmark", jcol(st, 0), "benchmark_version", jcol(st, 1), "model",
			      "version_id", jcol(st, 2), "name", jcol(st, 3), "version",
			      jcol(st, 4), "vendor", jcol(st, 5), "created_by", jcol(st, 6),
			      "created", jtime(sqlite3_column_int64(st, 7)), "published",
			      sqlite3_column_type(st, 8) == SQLITE_NULL
				  ? json_null()
				  : jtime(sqlite3_column_int64(st, 8)));
	sqlite3_finalize(st);
	if (!r)
		return NULL;
	cmp = json_array();
	if (store_query(s, &st,
			"SELECT rm.model_version_id, m.name, m.version, m.vendor FROM run_models "
			"rm LEFT JOIN models m ON m.version_id = rm.model_version_id WHERE "
			"rm.run_id = ? ORDER BY rm.idx",
			"t", run_id) == FV_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(cmp,
					      json_pack("{s:o,s:o,s:o,s:o}", "version_id",
							jcol(st, 0), "name", jcol(st, 1), "version",
							jcol(st, 2), "vendor", jcol(st, 3)));
	sqlite3_finalize(st);
	json_object_set_new(r, "compare_models", cmp);
	jobs = json_array();
	if (store_query(s, &st,
			"SELECT node, state, reason, updated_us FROM jobs WHERE run_id = ? "
			"ORDER BY node",
			"t", run_id) == FV_OK)
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *state = (const char *)sqlite3_column_text(st, 1);
			json_t *j =
			    json_pack("{s:o,s:o,s:o}", "node", jcol(st, 0), "state", jcol(st, 1),
				      "updated", jtime(sqlite3_column_int64(st, 3)));
			if (c->authority && sqlite3_column_type(st, 2) != SQLITE_NULL)
				json_object_set_new(j, "reason", jcol(st, 2));
			total++;
			fin += state_final(state);
			ok += state && !strcmp(state, "done");
			json_array_append_new(jobs, j);
		}
	sqlite3_finalize(st);
	json_object_set_new(r, "jobs", jobs);
	json_object_set_new(r, "progress",
			    json_pack("{s:I,s:I,s:I}", "done", (json_int_t)fin, "total",
				      (json_int_t)total, "succeeded", (json_int_t)ok));
	json_object_set_new(r, "state",
			    json_string(total > 0 && fin == total ? "complete" : "running"));
	return r;
}

static void api_runs(struct ctx *c, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array(), *ids = json_array(), *id;
	size_t i;
	fv_err e;

	store_lock(s);
	e = store_query(s, &st, "SELECT run_id FROM runs ORDER BY created_us DESC LIMIT ?", "i",
			(int64_t)FV_DASH_MAX_RUNS);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(ids, jcol(st, 0));
	sqlite3_finalize(st);
	store_unlock(s);
	/* One run at a time, so that the federation's requests interleave with a long list. */
	json_array_foreach(ids, i, id)
	{
		json_t *r;
		store_lock(s);
		r = json_is_string(id) ? run_json(c, json_string_value(id)) : NULL;
		store_unlock(s);
		if (r)
			json_array_append_new(arr, r);
	}
	json_decref(ids);
	if (e != FV_OK) {
		json_decref(arr);
		set_error(rp, 500, "store", "cannot read runs");
		return;
	}
	set_json(rp, 200, json_pack("{s:o}", "runs", arr));
}

/* ---- results (authority only) ---- */

static json_t *prop(uint64_t x, uint64_t n)
{
	double lo, hi;
	if (n == 0)
		return json_null();
	fv_stats_wilson(x, n, Z95, &lo, &hi);
	return json_pack("{s:f,s:f,s:f,s:I,s:I}", "estimate", (double)x / (double)n, "ci_low", lo,
			 "ci_high", hi, "x", (json_int_t)x, "n", (json_int_t)n);
}

static json_t *counts_json(double thr, uint64_t tp, uint64_t fp, uint64_t tn, uint64_t fn)
{
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "threshold", fv_json_finite(thr),
			 "tp", (json_int_t)tp, "fp", (json_int_t)fp, "tn", (json_int_t)tn, "fn",
			 (json_int_t)fn, "sensitivity", prop(tp, tp + fn), "specificity",
			 prop(tn, tn + fp), "ppv", prop(tp, tp + fp), "npv", prop(tn, tn + fn));
}

/* One stored result of a run, decoded and checked against the run and the node's registered
 * key (the coordinator verified it on receipt; this re-check makes a tampered store row show
 * as unverified rather than pooled). */
struct site {
	char node[FV_MAX_NAME + 1];
	bool verified;
	const char *why;
	struct fv_pb *pb;
	const Fedval__SiteResult *r;
	int64_t received_us;
};

static json_t *site_json(const struct site *s)
{
	const Fedval__SiteResult *r = s->r;
	json_t *j = json_pack("{s:s,s:b,s:o}", "node", s->node, "verified", s->verified, "received",
			      jtime(s->received_us));
	if (!s->verified) {
		json_object_set_new(j, "error", json_string(s->why));
		return j;
	}
	json_object_set_new(j, "status", json_string(r->status ? "failed" : "ok"));
	if (r->software)
		json_object_set_new(j, "software", json_string(r->software));
	if (r->status) {
		json_object_set_new(j, "reason", json_string(r->reason ? r->reason : ""));
		return j;
	}
	json_object_set_new(j, "n", json_integer((json_int_t)r->n));
	json_object_set_new(j, "n_pos", json_integer((json_int_t)r->n_pos));
	json_object_set_new(j, "prevalence", prop(r->n_pos, r->n));
	if (r->has_auc) {
		double lo, hi;
		fv_stats_auc_ci(r->auc, r->auc_var, Z95, &lo, &hi);
		json_object_set_new(j, "auroc",
				    json_pack("{s:o,s:o,s:o,s:o,s:s}", "estimate",
					      fv_json_finite(r->auc), "delong_variance",
					      fv_json_finite(r->auc_var), "ci_low",
					      fv_json_finite(lo), "ci_high", fv_json_finite(hi),
					      "method", "DeLong"));
	}
	json_object_set_new(j, "brier",
			    r->n ? fv_json_finite(r->brier_sum / (double)r->n) : json_null());
	json_object_set_new(j, "expected_events", fv_json_finite(r->sum_p));
	json_object_set_new(j, "observed_expected",
			    fv_json_finite(fv_stats_oe_ratio((double)r->n_pos, r->sum_p)));
	json_object_set_new(j, "min_cell", json_integer(r->min_cell));
	json_t *rows = json_array();
	for (size_t t = 0; t < r->n_counts; t++) {
		const Fedval__ThresholdCounts *ct = r->counts[t];
		if (ct->has_suppressed && ct->suppressed)
			json_array_append_new(rows, json_pack("{s:o,s:b}", "threshold",
							      fv_json_finite(ct->threshold),
							      "suppressed", 1));
		else
			json_array_append_new(
			    rows, counts_json(ct->threshold, ct->tp, ct->fp, ct->tn, ct->fn));
	}
	json_object_set_new(j, "thresholds", rows);
	return j;
}

/* Random-effects meta-analysis (REML with Hartung-Knapp for k >= 2, fixed effect for one
 * site) on the logit scale, back-transformed; as `fedval results`. */
static json_t *meta_auc(const double *y, const double *v, size_t k)
{
	struct fv_meta m;
	struct fv_diag d = {{0}};
	enum fv_meta_method method = k >= 2 ? FV_META_REML : FV_META_FE;
	json_t *j;

	if (k == 0 || fv_stats_meta(y, v, k, method, k >= 2, Z95, &m, &d) != FV_OK)
		return json_null();
	j = json_pack(
	    "{s:o,s:o,s:o,s:o,s:o,s:I,s:s}", "estimate", fv_json_finite(fv_stats_expit(m.mu)),
	    "ci_low", fv_json_finite(fv_stats_expit(m.ci_lo)), "ci_high",
	    fv_json_finite(fv_stats_expit(m.ci_hi)), "tau2", fv_json_finite(m.tau2), "i2_percent",
	    fv_json_finite(k >= 2 ? m.i2 : NAN), "sites", (json_int_t)k, "method",
	    k >= 2 ? "random effects (REML, Hartung-Knapp) on logit scale"
		   : "single site (no pooling)");
	if (k >= 3 && isfinite(m.pi_lo)) {
		json_object_set_new(j, "pi_low", fv_json_finite(fv_stats_expit(m.pi_lo)));
		json_object_set_new(j, "pi_high", fv_json_finite(fv_stats_expit(m.pi_hi)));
	}
	return j;
}

static json_t *pool_json(const struct site *sites, size_t n, const json_t *thresholds)
{
	uint64_t tot = 0, pos = 0;
	double brier = 0, sum_p = 0, w = 0, wauc = 0;
	double *y = fv_calloc(n + 1, sizeof(double)), *v = fv_calloc(n + 1, sizeof(double));
	size_t k = 0, ka = 0, nthr = json_array_size(thresholds);
	json_t *j = json_object(), *rows = json_array();

	for (size_t i = 0; i < n; i++) {
		const Fedval__SiteResult *r = sites[i].r;
		if (!sites[i].verified || r->status)
			continue;
		k++;
		tot += r->n;
		pos += r->n_pos;
		brier += r->brier_sum;
		sum_p += r->sum_p;
		if (r->has_auc && r->auc_var > 0) {
			w += 1.0 / r->auc_var;
			wauc += r->auc / r->auc_var;
		}
		if (y && v && r->has_auc && r->auc > 0 && r->auc < 1 && r->auc_var > 0) {
			fv_stats_logit_delta(r->auc, r->auc_var, &y[ka], &v[ka]);
			ka++;
		}
	}
	json_object_set_new(j, "sites", json_integer((json_int_t)k));
	if (k > 0 && tot > 0) {
		json_object_set_new(j, "n", json_integer((json_int_t)tot));
		json_object_set_new(j, "n_pos", json_integer((json_int_t)pos));
		json_object_set_new(j, "prevalence", prop(pos, tot));
		json_object_set_new(j, "brier", fv_json_finite(brier / (double)tot));
		json_object_set_new(j, "observed_expected",
				    fv_json_finite(fv_stats_oe_ratio((double)pos, sum_p)));
		if (w > 0) {
			double est = wauc / w, se = sqrt(1.0 / w), z = fv_stats_qnorm(0.975);
			json_object_set_new(
			    j, "auroc_fixed_effect",
			    json_pack("{s:o,s:o,s:o,s:s}", "estimate", fv_json_finite(est),
				      "ci_low", fv_json_finite(est - z * se), "ci_high",
				      fv_json_finite(est + z * se), "method",
				      "inverse-variance fixed-effect average of site AUROCs"));
		}
		json_object_set_new(j, "auroc_random_effects", meta_auc(y, v, ka));
	}
	for (size_t t = 0; t < nthr; t++) {
		double thr = json_number_value(json_array_get(thresholds, t));
		uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
		size_t used = 0;
		for (size_t i = 0; i < n; i++) {
			const Fedval__SiteResult *r = sites[i].r;
			if (!sites[i].verified || r->status || t >= r->n_counts)
				continue;
			const Fedval__ThresholdCounts *ct = r->counts[t];
			if (ct->has_suppressed && ct->suppressed)
				continue;
			tp += ct->tp;
			fp += ct->fp;
			tn += ct->tn;
			fn += ct->fn;
			used++;
		}
		json_t *row = counts_json(thr, tp, fp, tn, fn);
		json_object_set_new(row, "sites", json_integer((json_int_t)used));
		json_array_append_new(rows, row);
	}
	json_object_set_new(j, "thresholds", rows);
	fv_free(y);
	fv_free(v);
	return j;
}

/* Load and check the stored results of a run (store lock held). *out is fv_calloc'd. */
static fv_err sites_load(struct store *s, const char *run_id, const char *model_vid,
			 struct site **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct site *arr = NULL;
	size_t k = 0, cap = 0;
	fv_err e;

	*out = NULL;
	*n = 0;
	e = store_query(s, &st,
			"SELECT s.node, s.result, s.signature, p.pubkey, s.received_us FROM "
			"results s JOIN jobs j ON j.job_id = s.job_id LEFT JOIN principals p ON "
			"p.name = s.node WHERE j.run_id = ? ORDER BY s.node",
			"t", run_id);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW && k < FV_MAX_REPORT_SITES) {
		struct site *si;
		struct fv_diag d = {{0}};
		const uint8_t *blob = sqlite3_column_blob(st, 1);
		size_t blen = (size_t)sqlite3_column_bytes(st, 1);
		if (k == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct site *na = fv_realloc(arr, nc * sizeof(*na));
			if (!na) {
				e = FV_ENOMEM;
				break;
			}
			arr = na;
			cap = nc;
		}
		si = &arr[k++];
		memset(si, 0, sizeof(*si));
		if (sqlite3_column_text(st, 0))
			fv_strlcpy(si->node, (const char *)sqlite3_column_text(st, 0),
				   sizeof(si->node));
		si->received_us = sqlite3_column_int64(st, 4);
		si->why = "signature does not verify with the site's registered key";
		if (sqlite3_column_type(st, 3) == SQLITE_NULL ||
		    fv_verify(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
			      blob ? blob : (const uint8_t *)"", blen, sqlite3_column_blob(st, 2),
			      (size_t)sqlite3_column_bytes(st, 2)) != FV_OK)
			continue;
		si->why = "result does not decode";
		if (fv_pb_unpack(&fedval__site_result__descriptor, blob, blen, FV_MAX_UNPACK_ALLOC,
				 &si->pb, &d) != FV_OK)
			continue;
		si->r = (const Fedval__SiteResult *)si->pb->msg;
		si->why = "result is for another run, node or model";
		if (strcmp(si->r->run_id, run_id) != 0 || strcmp(si->r->node, si->node) != 0 ||
		    (model_vid && strcmp(si->r->model_version_id, model_vid) != 0))
			continue;
		si->verified = true;
		si->why = NULL;
	}
	sqlite3_finalize(st);
	*out = arr;
	*n = k;
	return e;
}

static void sites_free(struct site *arr, size_t n)
{
	for (size_t i = 0; arr && i < n; i++)
		fv_pb_free(arr[i].pb);
	fv_free(arr);
}

static bool run_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > FV_MAX_ID)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_' ||
		      id[i] == '.'))
			return false;
	return true;
}

static void api_run(struct ctx *c, const char *run_id, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL;
	struct site *sites = NULL;
	size_t n = 0;
	json_t *r, *spec = NULL, *arr;
	fv_err e;

	if (!run_id_valid(run_id)) {
		set_error(rp, 404, "not_found", "no such run");
		return;
	}
	store_lock(s);
	r = run_json(c, run_id);
	/* A run the authority published (every site released its part) is public; any other
	 * run's results are for an authority only. */
	if (!c->authority && !(r && json_is_string(json_object_get(r, "published")))) {
		store_unlock(s);
		json_decref(r);
		set_error(rp, 403, "forbidden", c->why);
		return;
	}
	if (r &&
	    store_query(s, &st,
			"SELECT b.spec_json FROM runs r JOIN benchmarks b ON b.name = "
			"r.benchmark_name AND b.version = r.benchmark_version WHERE r.run_id "
			"= ?",
			"t", run_id) == FV_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		spec = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	e = r ? sites_load(
		    s, run_id,
		    json_string_value(json_object_get(json_object_get(r, "model"), "version_id")),
		    &sites, &n)
	      : FV_ENOTFOUND;
	store_unlock(s);
	if (!r) {
		json_decref(spec);
		set_error(rp, 404, "not_found", "no such run");
		return;
	}
	if (e != FV_OK) {
		sites_free(sites, n);
		json_decref(spec);
		json_decref(r);
		set_error(rp, 500, "store", "cannot read results");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, site_json(&sites[i]));
	json_object_set_new(r, "sites", arr);
	enum fv_task task = fv_task_parse(json_string_value(json_object_get(spec, "task")));
	if (task != FV_TASK_BINARY && task != FV_TASK_UNKNOWN) {
		/* regression, survival, multiclass: each site's metrics and the pooled ones, as
		 * `fedval results` gives them (lib/report/tasks.c) */
		struct fv_task_stats *ts = fv_calloc(n + 1, sizeof(*ts));
		size_t k = 0;
		for (size_t i = 0; ts && i < n; i++)
			if (sites[i].verified && !sites[i].r->status &&
			    fv_task_from_result(sites[i].r, &ts[k])) {
				json_object_set_new(json_array_get(arr, i), "metrics",
						    fv_task_json(task, &ts[k]));
				k++;
			}
		json_object_set_new(r, "task", json_incref(json_object_get(spec, "task")));
		json_object_set_new(r, "pooled", ts ? fv_task_pool(task, ts, k) : json_null());
		fv_free(ts);
	} else {
		json_object_set_new(r, "pooled",
				    pool_json(sites, n, json_object_get(spec, "thresholds")));
	}
	json_object_set_new(r, "note",
			    json_string("Measurements on each site's data; not an approval or "
					"certification. Results of unpublished runs: authority "
					"only."));
	sites_free(sites, n);
	json_decref(spec);
	set_json(rp, 200, r);
}

/* ---- leaderboard (authority only) ---- */

/* Add one site AUROC of model vid (from run run_id at node) unless a newer run already gave
 * one for this (model, node): repeated runs at one site are not independent evidence. */
static void lb_add(json_t *models, json_t *seen, const char *vid, const char *node,
		   const char *run_id, double auc, double var)
{
	char key[2 * FV_SHA256_HEX + FV_MAX_NAME + 4];
	json_t *m;
	double y, vy;

	if (!(auc > 0 && auc < 1 && var > 0) ||
	    fv_fmt(key, sizeof(key), "%s\n%s", vid, node) != FV_OK || json_object_get(seen, key))
		return;
	if (!(m = json_object_get(models, vid))) {
		m = json_pack("{s:[],s:[],s:{}}", "y", "v", "runs");
		if (!m || json_object_set_new(models, vid, m) != 0)
			return;
	}
	if (json_array_size(json_object_get(m, "y")) >= MAX_POOL_SITES)
		return;
	json_object_set_new(seen, key, json_true());
	fv_stats_logit_delta(auc, var, &y, &vy);
	json_array_append_new(json_object_get(m, "y"), json_real(y));
	json_array_append_new(json_object_get(m, "v"), json_real(vy));
	json_object_set_new(json_object_get(m, "runs"), run_id, json_true());
}

static int lb_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	double ex = json_real_value(json_object_get(json_object_get(x, "auroc"), "estimate"));
	double ey = json_real_value(json_object_get(json_object_get(y, "auroc"), "estimate"));
	return ex < ey ? 1 : ex > ey ? -1 : 0;
}

static void api_leaderboard(struct ctx *c, struct resp *rp)
{
	struct store *s = c->db->co->store;
	sqlite3_stmt *st = NULL, *rs = NULL;
	char bench[FV_MAX_TEXT], *at;
	json_t *models = json_object(), *seen = json_object(), *out = json_array(), *m, *lr;
	json_t *list = json_array(), **rows = NULL;
	size_t li;
	const char *vid;
	size_t nrows = 0, nruns = 0;
	fv_err e;
	int q;

	if (!c->authority) {
		set_error(rp, 403, "forbidden", c->why);
		goto out;
	}
	q = query_get(c->query, "benchmark", bench, sizeof(bench));
	if (q != 1 || !bench[0]) {
		set_error(rp, 400, "bad_request", "leaderboard needs ?benchmark=NAME[@VERSION]");
		goto out;
	}
	if ((at = strchr(bench, '@')))
		*at++ = '\0';
	store_lock(s);
	e = at ? store_query(s, &rs,
			     "SELECT run_id, model_version_id FROM runs WHERE benchmark_name = ? "
			     "AND benchmark_version = ? ORDER BY created_us DESC LIMIT ?",
			     "tti", bench, at, (int64_t)FV_DASH_MAX_RUNS)
	       : store_query(s, &rs,
			     "SELECT run_id, model_version_id FROM runs WHERE benchmark_name = ? "
			     "ORDER BY created_us DESC LIMIT ?",
			     "ti", bench, (int64_t)FV_DASH_MAX_RUNS);
	while (e == FV_OK && sqlite3_step(rs) == SQLITE_ROW)
		json_array_append_new(list, json_pack("[o,o]", jcol(rs, 0), jcol(rs, 1)));
	sqlite3_finalize(rs);
	store_unlock(s);
	/* One run at a time under the lock, so that the federation's requests interleave. */
	json_array_foreach(list, li, lr)
	{
		const char *run_id = json_string_value(json_array_get(lr, 0));
		const char *primary = json_string_value(json_array_get(lr, 1));
		char *cmp[FV_MAX_COMPARE] = {0};
		size_t ncmp = 0;
		struct site *sites = NULL;
		size_t n = 0;

		if (e != FV_OK || !run_id || !primary)
			continue;
		nruns++;
		store_lock(s);
		if (store_query(s, &st,
				"SELECT model_version_id FROM run_models WHERE run_id = ? ORDER "
				"BY idx",
				"t", run_id) == FV_OK)
			while (ncmp < FV_MAX_COMPARE && sqlite3_step(st) == SQLITE_ROW)
				cmp[ncmp++] = fv_strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		st = NULL;
		e = sites_load(s, run_id, primary, &sites, &n);
		store_unlock(s);
		for (size_t i = 0; e == FV_OK && i < n; i++) {
			const Fedval__SiteResult *r = sites[i].r;
			if (!sites[i].verified || r->status || !r->has_auc)
				continue;
			lb_add(models, seen, primary, sites[i].node, run_id, r->auc, r->auc_var);
			for (size_t k = 0; k < r->n_comparisons && k < ncmp; k++)
				if (cmp[k] && !strcmp(cmp[k], r->comparisons[k]->model_version_id))
					lb_add(models, seen, cmp[k], sites[i].node, run_id,
					       r->comparisons[k]->auc, r->comparisons[k]->auc_var);
		}
		sites_free(sites, n);
		for (size_t k = 0; k < ncmp; k++)
			fv_free(cmp[k]);
	}
	if (e == FV_OK && !(rows = fv_calloc(json_object_size(models) + 1, sizeof(*rows))))
		e = FV_ENOMEM;
	json_object_foreach(models, vid, m)
	{
		json_t *ya = json_object_get(m, "y"), *va = json_object_get(m, "v");
		size_t k = json_array_size(ya);
		double *y = fv_calloc(k + 1, sizeof(double)), *v = fv_calloc(k + 1, sizeof(double));
		json_t *row;
		if (e != FV_OK || !y || !v) {
			fv_free(y);
			fv_free(v);
			e = e != FV_OK ? e : FV_ENOMEM;
			continue;
		}
		for (size_t i = 0; i < k; i++) {
			y[i] = json_real_value(json_array_get(ya, i));
			v[i] = json_real_value(json_array_get(va, i));
		}
		row = json_pack("{s:s,s:o,s:I,s:I}", "version_id", vid, "auroc", meta_auc(y, v, k),
				"sites", (json_int_t)k, "runs",
				(json_int_t)json_object_size(json_object_get(m, "runs")));
		fv_free(y);
		fv_free(v);
		store_lock(s);
		if (store_query(s, &st,
				"SELECT name, version, vendor FROM models WHERE version_id = ?",
				"t", vid) == FV_OK &&
		    sqlite3_step(st) == SQLITE_ROW) {
			json_object_set_new(row, "name", jcol(st, 0));
			json_object_set_new(row, "version", jcol(st, 1));
			json_object_set_new(row, "vendor", jcol(st, 2));
		}
		sqlite3_finalize(st);
		store_unlock(s);
		st = NULL;
		rows[nrows++] = row;
	}
	if (e != FV_OK) {
		for (size_t i = 0; i < nrows; i++)
			json_decref(rows[i]);
		set_error(rp, 500, "store", "cannot build the leaderboard");
		goto out;
	}
	qsort(rows, nrows, sizeof(*rows), lb_cmp);
	for (size_t i = 0; i < nrows; i++) {
		json_object_set_new(rows[i], "rank", json_integer((json_int_t)(i + 1)));
		json_array_append_new(out, rows[i]);
	}
	set_json(
	    rp, 200,
	    json_pack("{s:s,s:o,s:I,s:O,s:s}", "benchmark", bench, "version",
		      at ? json_string(at) : json_null(), "runs", (json_int_t)nruns, "models", out,
		      "method",
		      "per model: the newest result of each site, AUROC pooled by random "
		      "effects (REML, Hartung-Knapp) on the logit scale; ranks by point "
		      "estimate (see fedval results for rank intervals of a head-to-head run)"));
out:
	fv_free(rows);
	json_decref(list);
	json_decref(out);
	json_decref(models);
	json_decref(seen);
}

static void api_whoami(struct ctx *c, struct resp *rp)
{
	if (c->authority)
		set_json(rp, 200,
			 json_pack("{s:b,s:s,s:s,s:o}", "authority", 1, "name", c->who, "role",
				   "authority", "expires", jtime(c->token_exp * 1000000)));
	else
		set_json(rp, 200, json_pack("{s:b,s:s}", "authority", 0, "reason", c->why));
}

static void api_index(struct ctx *c, struct resp *rp)
{
	(void)c;
	set_json(rp, 200,
		 json_pack("{s:s,s:s,s:[s,s,s,s,s,s,s,s]}", "api", "fedval.dashboard/1", "version",
			   FV_VERSION_STRING, "endpoints", "/api/v1/benchmarks", "/api/v1/models",
			   "/api/v1/sites", "/api/v1/runs", "/api/v1/runs/{run_id}",
			   "/api/v1/leaderboard?benchmark=NAME[@VERSION]", "/api/v1/whoami",
			   "/api/v1/schedules"));
}

/* ---- the page ---- */

static const char page_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}"
    "header{background:#16324f;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0}"
    "header p{margin:4px 0 0;font-size:12px;opacity:.85}main{padding:8px 20px 40px}"
    "section{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:14px 0;"
    "padding:10px 14px}h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;"
    "width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff2;"
    "vertical-align:top}th{font-weight:600;background:#f0f2f5}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}.muted{color:#68707a}.bad{color:#a4161a}"
    ".ok{color:#2b7a0b}progress{width:120px}code{font-size:12px}";

static const char page_script[] =
    "'use strict';(function(){\n"
    "var tok='';try{var q=new URLSearchParams(location.search);var t=q.get('token');"
    "if(t){tok=t;sessionStorage.setItem('fvtoken',t);"
    "history.replaceState(null,'',location.pathname+location.hash);}"
    "else{tok=sessionStorage.getItem('fvtoken')||'';}}catch(e){}\n"
    "var authority=false;\n"
    "function $(i){return document.getElementById(i);}\n"
    "function el(tag,text,cls){var e=document.createElement(tag);"
    "if(text!==undefined&&text!==null)e.textContent=String(text);if(cls)e.className=cls;"
    "return e;}\n"
    "function cell(c,cls){var td=el('td',null,cls);if(c instanceof Node)td.appendChild(c);"
    "else td.textContent=(c===null||c===undefined||c==='')?'\\u2013':String(c);return td;}\n"
    "function row(cells,num){var tr=el('tr');cells.forEach(function(c,i){"
    "tr.appendChild(cell(c,num&&num.indexOf(i)>=0?'num':null));});return tr;}\n"
    "function fill(id,rows,empty,ncols){var tb=$(id);while(tb.firstChild)"
    "tb.removeChild(tb.firstChild);if(!rows.length){var tr=el('tr');var td=el('td',empty,"
    "'muted');td.colSpan=ncols;tr.appendChild(td);rows=[tr];}"
    "rows.forEach(function(r){tb.appendChild(r);});}\n"
    "function api(p){var h={'Accept':'application/json'};"
    "if(tok)h['Authorization']='Bearer '+tok;"
    "return fetch(p,{headers:h,cache:'no-store'}).then(function(r){return r.json().then("
    "function(j){return{status:r.status,body:j};});});}\n"
    "function f3(x){return typeof x==='number'?x.toFixed(3):'\\u2013';}\n"
    "function ci(o){return o&&typeof o.estimate==='number'?f3(o.estimate)+' ('+f3(o.ci_low)+"
    "'\\u2013'+f3(o.ci_high)+')':'\\u2013';}\n"
    "function pct(o){return o&&typeof o.estimate==='number'?(100*o.estimate).toFixed(1)+'%'"
    ":'\\u2013';}\n"
    "function benchmarks(){return api('/api/v1/benchmarks').then(function(r){"
    "var names=[];fill('bench-body',(r.body.benchmarks||[]).map(function(b){"
    "if(names.indexOf(b.name)<0)names.push(b.name);"
    "var th=b.spec&&b.spec.thresholds?b.spec.thresholds.length:null;"
    "return row([b.name,b.version,b.title,b.task,th,b.created,b.created_by]);}),"
    "'no benchmarks yet',7);return names;});}\n"
    "function sites(){return api('/api/v1/sites').then(function(r){"
    "fill('sites-body',(r.body.sites||[]).map(function(s){"
    "var ds=(s.datasets||[]).map(function(d){return d.name+(d.period?' ('+d.period+')':'')+"
    "', '+d.records+' records';}).join('; ');"
    "return row([s.name,s.enrolled,s.last_seen||'never',s.software,ds,"
    "s.revoked?el('span','revoked','bad'):el('span','active','ok')]);}),"
    "'no sites enrolled',6);});}\n"
    "function runs(){return api('/api/v1/runs').then(function(r){"
    "fill('runs-body',(r.body.runs||[]).map(function(x){"
    "var p=x.progress||{done:0,total:0};var bar=el('progress');bar.max=p.total||1;"
    "bar.value=p.done;var pr=el('span');pr.appendChild(bar);"
    "pr.appendChild(document.createTextNode(' '+p.done+'/'+p.total));"
    "var link;if(authority||x.published){link=el('a',x.published?'published results':"
    "'results');link.href='#run='+encodeURIComponent(x.run_id);}else{link=el('span',"
    "'authority only','muted');}"
    "var m=x.model||{};var tr=row([el('code',x.run_id),x.benchmark+'@'+x.benchmark_version,"
    "(m.name||'')+' '+(m.version||'')+' ('+(m.vendor||'')+')',x.created,pr,x.state,link]);"
    "tr.setAttribute('data-run',x.run_id);return tr;}),'no runs yet',7);"
    "$('runs').setAttribute('data-loaded','yes');"
    "$('status').textContent='live \\u00b7 updated '+new Date().toISOString();});}\n"
    "function leaderboards(names){var box=$('boards');while(box.firstChild)"
    "box.removeChild(box.firstChild);if(!authority){box.appendChild(el('p',"
    "'Leaderboards are shown to an authenticated authority (open this page with "
    "?token=\\u2026 from \\u201cfedval dashboard token\\u201d).','muted'));return;}"
    "if(!names.length){box.appendChild(el('p','no benchmarks yet','muted'));return;}"
    "return Promise.all(names.map(function(n){return api('/api/v1/leaderboard?benchmark='+"
    "encodeURIComponent(n)).then(function(r){var d=el('div');d.appendChild(el('h3',n));"
    "var t=el('table');var h=row(['rank','model','vendor','AUROC (95% CI)','sites','runs']);"
    "t.appendChild(h);var tb=el('tbody');t.appendChild(tb);"
    "(r.body.models||[]).forEach(function(m){tb.appendChild(row([m.rank,(m.name||'')+' '+"
    "(m.version||''),m.vendor,ci(m.auroc),m.sites,m.runs],[0,4,5]));});"
    "if(!(r.body.models||[]).length)tb.appendChild(row(['no results yet','','','','','']));"
    "d.appendChild(t);box.appendChild(d);});}));}\n"
    "function taskm(t,m){m=m||{};if(t==='regression')return 'MAE '+f3(m.mae)+', RMSE '+"
    "f3(m.rmse)+', R2 '+f3(m.r2)+', calibration slope '+f3(m.calibration_slope);"
    "if(t==='survival')return 'events '+m.events+', C-index '+f3(m.c_index)+"
    "(m.stratified_by_site?' (site-stratified)':'');if(t==='multiclass')return "
    "'macro AUROC '+f3(m.macro_auroc)+(m.micro_auroc!==undefined?', micro AUROC '+"
    "f3(m.micro_auroc):'');return '';}\n"
    "function showRun(){var m=/^#run=(.+)$/.exec(location.hash);var box=$('result');"
    "if(!m){box.hidden=true;return;}var id=decodeURIComponent(m[1]);"
    "api('/api/v1/runs/'+encodeURIComponent(id)).then(function(r){box.hidden=false;"
    "$('result-title').textContent='Results of '+id;var b=r.body;"
    "if(r.status!==200){fill('result-body',[],b.message||'unavailable',8);"
    "$('result-pooled').textContent='';return;}"
    "fill('result-body',(b.sites||[]).map(function(s){if(!s.verified)return row([s.node,"
    "'','','','','','',el('span',s.error,'bad')]);if(s.status!=='ok')return row([s.node,"
    "'','','','','','',el('span','failed: '+(s.reason||''),'bad')]);"
    "if(b.task)return row([s.node,s.n,'','',taskm(b.task,s.metrics),'','',"
    "el('span','ok, signature verified','ok')],[1]);"
    "return row([s.node,s.n,s.n_pos,pct(s.prevalence),ci(s.auroc),f3(s.brier),"
    "f3(s.observed_expected),el('span','ok, signature verified','ok')],[1,2,3,5,6]);}),"
    "'no results yet',8);var p=b.pooled||{};if(b.task){$('result-pooled').textContent="
    "'Pooled ('+(p.sites||0)+' sites, '+b.task+'): n '+(p.n||0)+', '+taskm(b.task,p);"
    "return;}$('result-pooled').textContent="
    "'Pooled ('+(p.sites||0)+' sites): n '+(p.n||0)+', events '+(p.n_pos||0)+"
    "', AUROC random effects '+ci(p.auroc_random_effects)+', fixed effect '+"
    "ci(p.auroc_fixed_effect)+', Brier '+f3(p.brier)+', O/E '+f3(p.observed_expected);});}\n"
    "function monitoring(){return api('/api/v1/schedules').then(function(r){var al=[];"
    "fill('mon-body',(r.body.schedules||[]).map(function(s){"
    "(s.alerts||[]).forEach(function(a){al.push(a);});var st=(s.alert===null||"
    "s.alert===undefined)?el('span','authority only','muted'):s.alert?el('span','ALERT',"
    "'bad'):el('span','no alert','ok');return row([el('code',s.id),s.benchmark,"
    "el('code',(s.model_version_id||'').slice(0,16)),s.cadence,s.next_due,s.periods,st],"
    "[5]);}),'no monitoring schedules',7);var box=$('alerts');while(box.firstChild)"
    "box.removeChild(box.firstChild);al.forEach(function(a){box.appendChild(el('p',"
    "'ALERT: '+a.site+' '+a.metric+' drift at period '+a.period+' ('+a.direction+"
    "(typeof a.psi==='number'?', PSI '+f3(a.psi):typeof a.cusum==='number'?', CUSUM '+"
    "a.cusum.toFixed(2):'')+')','bad alert'));});"
    "$('monitoring').setAttribute('data-loaded','yes');});}\n"
    "function live(){return Promise.all([sites(),runs(),monitoring()]).catch(function(e){"
    "$('status').textContent='update failed: '+e;});}\n"
    "api('/api/v1/whoami').then(function(r){authority=!!(r.body&&r.body.authority);"
    "$('who').textContent=authority?'signed in as authority '+r.body.name+' (token valid "
    "until '+r.body.expires+')':'not signed in: results and leaderboards are hidden';"
    "return Promise.all([benchmarks(),live()]);}).then(function(v){"
    "return leaderboards(v[0]);}).then(showRun).catch(function(e){$('status').textContent="
    "'load failed: '+e;});\n"
    "window.addEventListener('hashchange',showRun);setInterval(live,5000);\n"
    "})();\n";

static void html_escape_into(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		}
		if (rep) {
			size_t l = strlen(rep);
			memcpy(out + o, rep, l);
			o += l;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* Build the page and its Content-Security-Policy: inline script and style are allowed by their
 * SHA-256 only, so an injected tag could not run even if an escape were missed. */
static fv_err page_build(struct dashboard *db)
{
	char name[6 * FV_MAX_NAME + 8], hs[64], hc[64];
	uint8_t dig[FV_SHA256_LEN];
	size_t cap = sizeof(page_style) + sizeof(page_script) + 4096;

	html_escape_into(name, sizeof(name), db->co->name);
	fv_sha256(page_script, strlen(page_script), dig);
	b64_std(dig, sizeof(dig), hs, sizeof(hs));
	fv_sha256(page_style, strlen(page_style), dig);
	b64_std(dig, sizeof(dig), hc, sizeof(hc));
	if (fv_fmt(db->csp, sizeof(db->csp),
		   "default-src 'none'; script-src 'sha256-%s'; style-src 'sha256-%s'; "
		   "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
		   "frame-ancestors 'none'",
		   hs, hc) != FV_OK)
		return FV_ELIMIT;
	if (!(db->page = fv_alloc(cap)))
		return FV_ENOMEM;
	if (fv_fmt(
		db->page, cap,
		"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		"<title>fedval dashboard \xe2\x80\x93 %s</title><link rel=\"icon\" href=\"data:,\">"
		"<style>%s</style></head><body>\n"
		"<header><h1>fedval dashboard \xe2\x80\x93 %s</h1><p>read-only view of the "
		"federation \xc2\xb7 fedval %s \xc2\xb7 <span id=\"who\">checking access"
		"\xe2\x80\xa6</span> \xc2\xb7 <span id=\"status\">loading\xe2\x80\xa6</span></p>"
		"</header>\n<main>\n<noscript><p>This page needs JavaScript; the same data is in "
		"the JSON API under /api/v1.</p></noscript>\n"
		"<section id=\"runs\"><h2>Runs</h2><table><thead><tr><th>run</th><th>benchmark"
		"</th><th>model</th><th>started</th><th>progress</th><th>state</th><th>results"
		"</th></tr></thead><tbody id=\"runs-body\"></tbody></table></section>\n"
		"<section id=\"monitoring\"><h2>Monitoring</h2><div id=\"alerts\"></div><table>"
		"<thead><tr><th>schedule</th><th>benchmark</th><th>model</th><th>cadence</th>"
		"<th>next due</th><th>periods</th><th>drift</th></tr></thead><tbody "
		"id=\"mon-body\"></tbody></table></section>\n"
		"<section id=\"result\" hidden><h2 id=\"result-title\">Results</h2><table><thead>"
		"<tr><th>site</th><th>n</th><th>events</th><th>prevalence</th><th>AUROC (95%% CI)"
		"</th><th>Brier</th><th>O/E</th><th>status</th></tr></thead><tbody "
		"id=\"result-body\"></tbody></table><p id=\"result-pooled\"></p></section>\n"
		"<section id=\"leaderboards\"><h2>Leaderboards</h2><div id=\"boards\"></div>"
		"</section>\n"
		"<section id=\"benchmarks\"><h2>Benchmarks</h2><table><thead><tr><th>name</th>"
		"<th>version</th><th>title</th><th>task</th><th>thresholds</th><th>created</th>"
		"<th>by</th></tr></thead><tbody id=\"bench-body\"></tbody></table></section>\n"
		"<section id=\"sites\"><h2>Sites</h2><table><thead><tr><th>site</th><th>enrolled"
		"</th><th>last seen</th><th>software</th><th>datasets</th><th>state</th></tr>"
		"</thead><tbody "
		"id=\"sites-body\"></tbody></table></section>\n"
		"<p class=\"muted\">Measurements on each site's data; not an approval or "
		"certification.</p>\n</main>\n<script>%s</script>\n</body></html>\n",
		name, page_style, name, FV_VERSION_STRING, page_script) != FV_OK)
		return FV_ELIMIT;
	db->page_len = strlen(db->page);
	return FV_OK;
}

/* ---- monitoring schedules (coordinator/schedule.c): drift alerts for an authority ---- */

static void api_schedules(struct ctx *c, struct resp *rp)
{
	json_t *j = schedule_json(c->db->co, c->authority);
	if (!j)
		set_error(rp, 500, "store", "cannot read schedules");
	else
		set_json(rp, 200, j);
}

/* ---- routing ---- */

static void route(struct ctx *c, const char *method, struct resp *rp)
{
	const char *p = c->path;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		set_error(rp, 405, "method_not_allowed", "the dashboard is read-only: GET or HEAD");
		return;
	}
	if (!strcmp(p, "/") || !strcmp(p, "/index.html")) {
		rp->status = 200;
		rp->ctype = "text/html; charset=utf-8";
		rp->body = c->db->page;
		rp->body_from_jansson = false;
		rp->len = c->db->page_len;
		return;
	}
	if (!strcmp(p, "/api/v1") || !strcmp(p, "/api/v1/"))
		api_index(c, rp);
	else if (!strcmp(p, "/api/v1/benchmarks"))
		api_benchmarks(c, rp);
	else if (!strcmp(p, "/api/v1/models"))
		api_models(c, rp);
	else if (!strcmp(p, "/api/v1/sites"))
		api_sites(c, rp);
	else if (!strcmp(p, "/api/v1/runs"))
		api_runs(c, rp);
	else if (!strncmp(p, "/api/v1/runs/", 13) && p[13] && !strchr(p + 13, '/'))
		api_run(c, p + 13, rp);
	else if (!strcmp(p, "/api/v1/leaderboard"))
		api_leaderboard(c, rp);
	else if (!strcmp(p, "/api/v1/schedules"))
		api_schedules(c, rp);
	else if (!strcmp(p, "/api/v1/whoami"))
		api_whoami(c, rp);
	else
		set_error(rp, 404, "not_found", "no such path");
}

static void on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct dashboard *db = nng_http_handler_get_data(h);
	struct ctx *c = NULL;
	struct resp rp = {0};
	nng_http_res *res = NULL;
	const char *uri = nng_http_req_get_uri(req), *method = nng_http_req_get_method(req);
	const char *qm;
	bool close_after = nng_http_req_get_header(req, "Content-Length") ||
			   nng_http_req_get_header(req, "Transfer-Encoding") || !method ||
			   (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0);
	int rv;

	atomic_fetch_add(&db->inflight, 1);
	if (atomic_load(&db->closing)) {
		nng_aio_finish(aio, NNG_ECLOSED);
		atomic_fetch_sub(&db->inflight, 1);
		return;
	}
	if (!(c = fv_calloc(1, sizeof(*c)))) {
		set_error(&rp, 500, "internal", "out of memory");
		goto send;
	}
	c->db = db;
	if (!uri || strlen(uri) > FV_DASH_MAX_URI) {
		set_error(&rp, 414, "uri_too_long", "request target too long");
		goto send;
	}
	qm = strchr(uri, '?');
	c->query = qm ? qm + 1 : "";
	if (uri[0] != '/' || !pct_decode(uri, qm ? (size_t)(qm - uri) : strlen(uri), c->path,
					 sizeof(c->path), false)) {
		set_error(&rp, 400, "bad_request", "malformed request target");
		goto send;
	}
	authenticate(c, req);
	route(c, method ? method : "", &rp);
send:
	if ((rv = nng_http_res_alloc(&res)) != 0 ||
	    (rv = nng_http_res_set_status(res, rp.status)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Content-Type", rp.ctype)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Cache-Control", "no-store")) != 0 ||
	    (rv = nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff")) != 0 ||
	    (rv = nng_http_res_set_header(res, "X-Frame-Options", "DENY")) != 0 ||
	    (rv = nng_http_res_set_header(res, "Referrer-Policy", "no-referrer")) != 0 ||
	    (rv = nng_http_res_set_header(res, "Strict-Transport-Security", "max-age=31536000")) !=
		0 ||
	    (rv = nng_http_res_set_header(res, "Content-Security-Policy", db->csp)) != 0 ||
	    (rp.status == 405 && (rv = nng_http_res_set_header(res, "Allow", "GET, HEAD")) != 0) ||
	    (close_after && (rv = nng_http_res_set_header(res, "Connection", "close")) != 0) ||
	    (rv = nng_http_res_copy_data(res, rp.body ? rp.body : "", rp.len)) != 0) {
		if (res)
			nng_http_res_free(res);
		res = NULL;
	}
	/* Log the path only (never the query: it may hold a token). */
	fv_log(FV_LOG_DEBUG, "dashboard_request", "method=%s path=%s status=%u authority=%s",
	       FV_Q(method ? method : "?"), FV_Q(c ? c->path : "?"), rp.status,
	       c && c->authority ? FV_Q(c->who) : "-");
	if (rp.body != db->page) {
		if (rp.body_from_jansson)
			free(rp.body);
		else
			fv_free(rp.body);
	}
	fv_free(c);
	if (res) {
		nng_aio_set_output(aio, 0, res);
		nng_aio_finish(aio, 0);
	} else {
		nng_aio_finish(aio, rv ? rv : NNG_ENOMEM);
	}
	atomic_fetch_sub(&db->inflight, 1);
}

/* ---- lifecycle ---- */

fv_err dashboard_start(struct coord *co, const char *url, struct dashboard **out, struct fv_diag *d)
{
	struct dashboard *db = fv_calloc(1, sizeof(*db));
	nng_url *u = NULL;
	uint8_t *key = NULL;
	size_t key_len = 0;
	nng_sockaddr sa;
	fv_err e = FV_OK;
	int rv;

	*out = NULL;
	if (!db)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	db->co = co;
	atomic_init(&db->inflight, 0);
	atomic_init(&db->closing, false);
	if ((rv = nng_url_parse(&u, url)) != 0 || strcmp(u->u_scheme, "https") != 0 ||
	    (u->u_path[0] && strcmp(u->u_path, "/") != 0)) {
		e = fv_diag_set(d, FV_EINVAL, "dashboard = '%s' must be https://HOST:PORT", url);
		goto fail;
	}
	if ((e = page_build(db)) != FV_OK) {
		fv_diag_set(d, e, "cannot build the dashboard page");
		goto fail;
	}
	if ((rv = nng_tls_config_alloc(&db->tls, NNG_TLS_MODE_SERVER)) != 0 ||
	    (rv = nng_tls_config_auth_mode(db->tls, NNG_TLS_AUTH_MODE_NONE)) != 0 ||
	    (rv = nng_tls_config_version(db->tls, NNG_TLS_1_2, NNG_TLS_1_2)) != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "dashboard TLS configuration: %s", nng_strerror(rv));
		goto fail;
	}
	if ((e = fv_file_read(co->key_path, FV_MAX_CERT_PEM, &key, &key_len, d)) != FV_OK)
		goto fail;
	rv = nng_tls_config_own_cert(db->tls, co->cert_pem, (const char *)key, NULL);
	memset(key, 0, key_len);
	if (rv != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "dashboard TLS certificate/key: %s",
				nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_hold(&db->srv, u)) != 0) {
		e = fv_diag_set(d, FV_EIO, "dashboard on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	/* One handler for the whole tree and every method: we answer 404/405 ourselves. A
	 * request body is never read; a request that announces one gets its answer with
	 * "Connection: close", so its unread bytes are never parsed as a next request. */
	if ((rv = nng_http_server_set_tls(db->srv, db->tls)) != 0 ||
	    (rv = nng_http_handler_alloc(&db->h, "/", on_request)) != 0 ||
	    (rv = nng_http_handler_set_method(db->h, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(db->h)) != 0 ||
	    (rv = nng_http_handler_collect_body(db->h, false, 0)) != 0 ||
	    (rv = nng_http_handler_set_data(db->h, db, NULL)) != 0) {
		e = fv_diag_set(d, FV_EIO, "dashboard handler: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_add_handler(db->srv, db->h)) != 0) {
		e = fv_diag_set(d, FV_EIO, "dashboard handler: %s", nng_strerror(rv));
		goto fail;
	}
	db->h = NULL; /* the server owns it now */
	if ((rv = nng_http_server_start(db->srv)) != 0) {
		e = fv_diag_set(d, FV_EIO, "dashboard on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if (nng_http_server_get_addr(db->srv, &sa) == 0 && sa.s_family == NNG_AF_INET) {
		const uint8_t *pp = (const uint8_t *)&sa.s_in.sa_port; /* network order */
		db->port = (int)((unsigned)pp[0] << 8 | pp[1]);
	} else if (nng_http_server_get_addr(db->srv, &sa) == 0 && sa.s_family == NNG_AF_INET6) {
		const uint8_t *pp = (const uint8_t *)&sa.s_in6.sa_port;
		db->port = (int)((unsigned)pp[0] << 8 | pp[1]);
	}
	fv_log(FV_LOG_INFO, "dashboard_listening", "url=%s port=%d", FV_Q(url), db->port);
	fv_free(key);
	nng_url_free(u);
	*out = db;
	return FV_OK;
fail:
	fv_free(key);
	if (u)
		nng_url_free(u);
	dashboard_stop(db);
	return e;
}

int dashboard_port(const struct dashboard *db)
{
	return db ? db->port : 0;
}

void dashboard_stop(struct dashboard *db)
{
	if (!db)
		return;
	atomic_store(&db->closing, true);
	if (db->srv) {
		nng_http_server_stop(db->srv);
		nng_http_server_release(db->srv);
	}
	if (db->h)
		nng_http_handler_free(db->h);
	/* Requests already inside on_request finish before db goes away (the server stopped
	 * accepting; a callback dispatched just before needs a moment to register itself). */
	nng_msleep(50);
	while (atomic_load(&db->inflight) > 0)
		nng_msleep(10);
	if (db->tls)
		nng_tls_config_free(db->tls);
	fv_free(db->page);
	fv_free(db);
}
