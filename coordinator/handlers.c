/* Request handlers: authentication (signature, sequence, registry), authorisation by role,
 * and one function per request type. Every reply is signed by the coordinator. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord.h"
#include "schedule.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/model.h"
#include "fedval/privacy.h"
#include "fedval/report.h"
#include "fedval/util.h"

/* ---- per-request memory ---- */

static void *keep(struct req *r, void *p)
{
	if (!p)
		return NULL;
	if (r->npool == r->cappool) {
		size_t ncap = r->cappool ? r->cappool * 2 : 16;
		void **np = fv_realloc(r->pool, ncap * sizeof(*np));
		if (!np) {
			fv_free(p);
			return NULL;
		}
		r->pool = np;
		r->cappool = ncap;
	}
	r->pool[r->npool++] = p;
	return p;
}

static char *keep_str(struct req *r, const unsigned char *s)
{
	return keep(r, fv_strdup(s ? (const char *)s : ""));
}

static void *keep_mem(struct req *r, const void *p, size_t n)
{
	void *b = fv_alloc(n);
	if (b && n)
		memcpy(b, p, n);
	return keep(r, b);
}

/* ---- parked polls per principal (one coordinator per process) ---- */

static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;
static struct park_count {
	char name[FV_MAX_NAME + 1];
	int n;
} * parks;
static size_t nparks, capparks;

static bool park_acquire(const char *name)
{
	bool ok = false;
	size_t i;
	pthread_mutex_lock(&park_mu);
	for (i = 0; i < nparks && strcmp(parks[i].name, name) != 0; i++)
		;
	if (i == nparks) {
		if (nparks == capparks) {
			size_t ncap = capparks ? 2 * capparks : 64;
			struct park_count *np = fv_realloc(parks, ncap * sizeof(*np));
			if (!np)
				goto out;
			parks = np;
			capparks = ncap;
		}
		fv_strlcpy(parks[nparks].name, name, sizeof(parks[nparks].name));
		parks[nparks++].n = 0;
	}
	if (parks[i].n < COORD_MAX_PARKED_PER_PRINCIPAL) {
		parks[i].n++;
		ok = true;
	}
out:
	pthread_mutex_unlock(&park_mu);
	return ok;
}

static void park_release(const char *name)
{
	pthread_mutex_lock(&park_mu);
	for (size_t i = 0; i < nparks; i++) {
		if (strcmp(parks[i].name, name) != 0)
			continue;
		if (--parks[i].n <= 0)
			parks[i] = parks[--nparks];
		break;
	}
	pthread_mutex_unlock(&park_mu);
}

void coord_req_fini(struct req *r)
{
	if (r->park_slot) {
		park_release(r->who.name);
		r->park_slot = false;
	}
	for (size_t i = 0; i < r->npool; i++)
		fv_free(r->pool[i]);
	fv_free(r->pool);
	fv_free(r->out);
	r->pool = NULL;
	r->npool = r->cappool = 0;
	r->out = NULL;
}

/* ---- replies ---- */

static fv_err seal(struct req *r, Fedval__Envelope *rep)
{
	return fv_wire_seal(rep, r->co->name, r->seq, r->co->key, &r->out, &r->out_len);
}

static void reply_error(struct req *r, fv_err e, const char *msg)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__Error err = FEDVAL__ERROR__INIT;

	err.code = (uint32_t)e;
	err.message = (char *)msg;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ERROR;
	rep.error = &err;
	if (seal(r, &rep) != FV_OK)
		fv_log(FV_LOG_ERROR, "reply_failed", "reason=seal");
}

static fv_err reply_ack(struct req *r, const char *id, const char *status)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__Ack ack = FEDVAL__ACK__INIT;
	ack.id = (char *)id;
	ack.status = (char *)status;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ACK;
	rep.ack = &ack;
	return seal(r, &rep);
}

/* ---- registry ---- */

static fv_err principal_load(struct coord *co, const char *name, struct principal *p)
{
	sqlite3_stmt *st = NULL;
	fv_err e;

	store_lock(co->store);
	e = store_query(co->store, &st,
			"SELECT role, pubkey, revoked FROM principals WHERE name = ?", "t", name);
	if (e == FV_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			int n = sqlite3_column_bytes(st, 1);
			fv_strlcpy(p->name, name, sizeof(p->name));
			if (fv_role_parse((const char *)sqlite3_column_text(st, 0), &p->role) !=
				FV_OK ||
			    n <= 0 || (size_t)n > sizeof(p->pub)) {
				e = FV_EDB;
			} else {
				memcpy(p->pub, sqlite3_column_blob(st, 1), (size_t)n);
				p->pub_len = (size_t)n;
				p->revoked = sqlite3_column_int(st, 2) != 0;
			}
		} else {
			e = FV_ENOTFOUND;
		}
	}
	sqlite3_finalize(st);
	store_unlock(co->store);
	return e;
}

/* Accept seq only if it is beyond every earlier one of this principal (replay/reorder). */
static fv_err advance_seq(struct coord *co, const char *name, uint64_t seq)
{
	int changed = 0;
	fv_err e;
	if (seq > INT64_MAX)
		return FV_EAUTH;
	e = store_exec(co->store, &changed,
		       "UPDATE principals SET last_seq = ?, last_seen_us = ? "
		       "WHERE name = ? AND last_seq < ? AND revoked = 0",
		       "iiti", (int64_t)seq, fv_now_us(), name, (int64_t)seq);
	if (e != FV_OK)
		return e;
	return changed == 1 ? FV_OK : FV_EAUTH;
}

static fv_err handle_enrol(struct req *r, struct fv_diag *d)
{
	struct coord *co = r->co;
	Fedval__EnrolRequest *q = r->env->enrol;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__EnrolReply body = FEDVAL__ENROL_REPLY__INIT;
	struct fv_cert_info info;
	struct principal known;
	size_t plen = strnlen(q->cert_pem, FV_MAX_CERT_PEM + 1);
	char sw[128];
	fv_err e;

	if (plen > FV_MAX_CERT_PEM)
		return fv_diag_set(d, FV_ELIMIT, "certificate larger than %d bytes",
				   FV_MAX_CERT_PEM);
	if ((e = fv_cert_verify(co->ca_pem, co->ca_len, q->cert_pem, plen, &info, d)) != FV_OK)
		return FV_EAUTH;
	if (strcmp(info.name, r->env->principal) != 0)
		return fv_diag_set(d, FV_EAUTH,
				   "envelope principal '%s' does not match certificate CN '%s'",
				   r->env->principal, info.name);
	if (info.role == FV_ROLE_COORDINATOR)
		return fv_diag_set(d, FV_EAUTH,
				   "a coordinator certificate cannot enrol as a client");
	/* Proof of possession: the envelope must be signed by the certificate's key. */
	if (fv_wire_verify(r->env, info.pub, info.pub_len) != FV_OK)
		return fv_diag_set(d, FV_EAUTH,
				   "bad signature: envelope is not signed by the key of "
				   "the certificate it presents");
	e = principal_load(co, info.name, &known);
	if (e == FV_OK) {
		if (known.revoked)
			return fv_diag_set(d, FV_EAUTH, "principal '%s' is revoked", info.name);
		if (known.role != info.role || known.pub_len != info.pub_len ||
		    memcmp(known.pub, info.pub, info.pub_len) != 0)
			return fv_diag_set(
			    d, FV_EAUTH,
			    "principal '%s' is registered with another key or role; "
			    "the authority must revoke it before a new key can enrol",
			    info.name);
	} else if (e == FV_ENOTFOUND) {
		fv_strlcpy(sw, q->software ? q->software : "", sizeof(sw));
		e = store_exec(co->store, NULL,
			       "INSERT INTO principals(name, role, pubkey, cert_pem, fingerprint, "
			       "enrolled_us, software) VALUES(?, ?, ?, ?, ?, ?, ?)",
			       "ttbttit", info.name, fv_role_name(info.role), info.pub,
			       info.pub_len, q->cert_pem, info.fingerprint, fv_now_us(), sw);
		if (e != FV_OK && e != FV_EEXIST)
			return fv_diag_set(d, e, "cannot register principal");
		fv_log(FV_LOG_INFO, "principal_enrolled", "name=%s role=%s fingerprint=%.16s",
		       info.name, fv_role_name(info.role), info.fingerprint);
	} else {
		return fv_diag_set(d, e, "registry lookup failed");
	}
	if (advance_seq(co, info.name, r->env->seq) != FV_OK)
		return fv_diag_set(d, FV_EAUTH, "replayed or reordered sequence number %llu",
				   (unsigned long long)r->env->seq);
	r->who = (struct principal){.role = info.role, .pub_len = info.pub_len};
	fv_strlcpy(r->who.name, info.name, sizeof(r->who.name));
	body.name = info.name;
	body.role = (char *)fv_role_name(info.role);
	body.coordinator_cert_pem = co->cert_pem;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ENROL_REPLY;
	rep.enrol_reply = &body;
	return seal(r, &rep);
}

/* ---- helpers for JSON documents ---- */

static fv_err canonical_json(const char *text, size_t max, json_t **out, char **canon,
			     struct fv_diag *d)
{
	json_error_t jerr;
	size_t len = strnlen(text, max + 1);
	json_t *j;

	if (len > max)
		return fv_diag_set(d, FV_ELIMIT, "document larger than %zu bytes", max);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return fv_diag_set(d, FV_EINVAL, "invalid JSON at line %d column %d: %s", jerr.line,
				   jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fv_diag_set(d, FV_EINVAL, "document must be a JSON object");
	}
	*canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!*canon) {
		json_decref(j);
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	*out = j;
	return FV_OK;
}

static fv_err json_str(json_t *obj, const char *key, const char **out, struct fv_diag *d)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > FV_MAX_TEXT)
		return fv_diag_set(d, FV_EINVAL, "field '%s' must be a non-empty string", key);
	*out = json_string_value(v);
	return FV_OK;
}

static bool sha_hex_valid(const char *s)
{
	uint8_t tmp[FV_SHA256_LEN];
	return s && fv_unhex(s, tmp, sizeof(tmp)) == FV_OK;
}

static fv_err model_path(struct coord *co, const char *sha, const char *suffix, char *out,
			 size_t cap)
{
	return fv_fmt(out, cap, "%s/%s%s", co->models_dir, sha, suffix);
}

/* ---- authority: benchmarks ---- */

/* A regression, survival or multiclass benchmark (docs/statistics.md "Other tasks"): no
 * thresholds, operating points or subgroups; survival names its follow-up time variable,
 * multiclass its number of classes. */
static fv_err task_check(json_t *j, enum fv_task task, struct fv_diag *d)
{
	const json_t *k = json_object_get(j, "classes"), *t = json_object_get(j, "time");
	const char *const binary_only[] = {"thresholds", "operating_points", "subgroups"};

	for (size_t i = 0; i < 3; i++)
		if (json_object_get(j, binary_only[i]))
			return fv_diag_set(d, FV_EINVAL, "field '%s' belongs to a binary benchmark",
					   binary_only[i]);
	if ((task == FV_TASK_SURVIVAL) != (json_is_string(t) && json_string_length(t) > 0 &&
					   json_string_length(t) <= FV_MAX_NAME))
		return fv_diag_set(d, FV_EINVAL,
				   "field 'time' (the follow-up time variable) is required for "
				   "survival, and only there");
	if ((task == FV_TASK_MULTICLASS) != (json_is_integer(k) && json_integer_value(k) >= 3 &&
					     json_integer_value(k) <= FV_MAX_CLASSES))
		return fv_diag_set(d, FV_EINVAL,
				   "field 'classes' (3 to %d) is required for multiclass, and only "
				   "there",
				   FV_MAX_CLASSES);
	return FV_OK;
}

/* The benchmark's subgroups, as nodes accept them (docs/protocol.md): at most
 * FV_MAX_SUBGROUPS, each a name and a benchmark variable with optional increasing band edges
 * (at most FV_MAX_SUBGROUP_CATEGORIES - 1), one subgroup per
 * variable (two cutting the same variable differently would isolate the records between
 * their edges; nodes refuse such jobs, so the benchmark is refused here already). */
static fv_err subgroups_check(json_t *j, const json_t *vars, struct fv_diag *d)
{
	const json_t *subs = json_object_get(j, "subgroups"), *sg, *v, *e;
	size_t i, k, m;

	if (!subs)
		return FV_OK;
	if (!json_is_array(subs) || json_array_size(subs) > FV_MAX_SUBGROUPS)
		return fv_diag_set(d, FV_EINVAL, "field 'subgroups' must be an array of at most %d",
				   FV_MAX_SUBGROUPS);
	json_array_foreach(subs, i, sg)
	{
		const char *name = json_string_value(json_object_get(sg, "name"));
		const char *var = json_string_value(json_object_get(sg, "variable"));
		const json_t *edges = json_object_get(sg, "edges");
		bool known = false;
		if (!name || !fv_name_valid(name) || !var)
			return fv_diag_set(d, FV_EINVAL,
					   "subgroups[%zu] needs a name ([A-Za-z0-9._-]) and a "
					   "variable",
					   i);
		json_array_foreach(vars, k, v)
		{
			known = known || json_equal(json_object_get(v, "name"),
						    json_object_get(sg, "variable"));
		}
		if (!known)
			return fv_diag_set(d, FV_EINVAL,
					   "subgroups[%zu]: variable '%.64s' is not a benchmark "
					   "variable",
					   i, var);
		for (m = 0; m < i; m++)
			if (json_equal(json_object_get(json_array_get(subs, m), "variable"),
				       json_object_get(sg, "variable")))
				return fv_diag_set(d, FV_EINVAL,
						   "subgroups[%zu] and [%zu] cut the same variable "
						   "'%.64s': one subgroup per variable",
						   m, i, var);
		if (edges && (!json_is_array(edges) ||
			      json_array_size(edges) > FV_MAX_SUBGROUP_CATEGORIES - 1))
			return fv_diag_set(d, FV_EINVAL, "subgroups[%zu].edges: at most %d numbers",
					   i, FV_MAX_SUBGROUP_CATEGORIES - 1);
		json_array_foreach(edges, k, e)
		{
			if (!json_is_number(e) ||
			    (k > 0 && !(json_number_value(e) >
					json_number_value(json_array_get(edges, k - 1)))))
				return fv_diag_set(
				    d, FV_EINVAL, "subgroups[%zu].edges must be increasing numbers",
				    i);
		}
	}
	return FV_OK;
}

/* Shape check of a benchmark spec: DESIGN.md §7, docs/protocol.md. */
static fv_err benchmark_check(json_t *j, struct fv_diag *d)
{
	const char *s;
	json_t *vars, *thr, *v;
	size_t i;
	fv_err e;

	if ((e = json_str(j, "name", &s, d)) != FV_OK || (e = json_str(j, "version", &s, d)) ||
	    (e = json_str(j, "label", &s, d)) || (e = json_str(j, "task", &s, d)))
		return e;
	enum fv_task task = fv_task_parse(s);
	if (task == FV_TASK_UNKNOWN)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "task '%.20s': binary, regression, survival or multiclass", s);
	if (!fv_name_valid(json_string_value(json_object_get(j, "name"))))
		return fv_diag_set(d, FV_EINVAL, "field 'name' may hold only [A-Za-z0-9._-]");
	const char *key;
	json_object_foreach(j, key, v)
	{
		if (fv_privacy_is_policy_key(key))
			return fv_diag_set(
			    d, FV_EINVAL,
			    "field '%.40s' is a site's policy setting: each hospital "
			    "sets it in its own node config, a benchmark cannot",
			    key);
	}
	vars = json_object_get(j, "variables");
	if (!json_is_array(vars) || json_array_size(vars) == 0 ||
	    json_array_size(vars) > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL, "field 'variables' must be a non-empty array");
	json_array_foreach(vars, i, v)
	{
		if (!json_is_string(json_object_get(v, "name")))
			return fv_diag_set(d, FV_EINVAL, "variables[%zu] has no 'name'", i);
	}
	const char *const modes[] = {"model_acceptance", "dataset_approval"};
	for (size_t m = 0; m < 2; m++) {
		const json_t *mv = json_object_get(j, modes[m]);
		if (mv && (!json_is_string(mv) || (strcmp(json_string_value(mv), "required") &&
						   strcmp(json_string_value(mv), "none"))))
			return fv_diag_set(d, FV_EINVAL,
					   "field '%s' must be \"required\" or \"none\"", modes[m]);
	}
	if (task != FV_TASK_BINARY)
		return task_check(j, task, d);
	thr = json_object_get(j, "thresholds");
	if (!json_is_array(thr) || json_array_size(thr) == 0 ||
	    json_array_size(thr) > FV_MAX_THRESHOLDS)
		return fv_diag_set(d, FV_EINVAL,
				   "field 'thresholds' must be an array of 1..%d numbers",
				   FV_MAX_THRESHOLDS);
	json_array_foreach(thr, i, v)
	{
		double t = json_number_value(v);
		if (!json_is_number(v) || !(t >= 0.0 && t <= 1.0))
			return fv_diag_set(d, FV_EINVAL,
					   "thresholds[%zu] must be a number in [0, 1]", i);
	}
	if ((e = subgroups_check(j, vars, d)) != FV_OK)
		return e;
	/* Operating points: targets each site's threshold is chosen for (docs/statistics.md).
	 * With the vendor's declared threshold they add rows to each result. */
	const json_t *ops = json_object_get(j, "operating_points");
	if (ops && (!json_is_array(ops) || json_array_size(ops) > FV_MAX_OPERATING_POINTS - 1))
		return fv_diag_set(d, FV_EINVAL,
				   "field 'operating_points' must be an array of at most %d",
				   FV_MAX_OPERATING_POINTS - 1);
	json_array_foreach(ops, i, v)
	{
		const char *t = json_string_value(json_object_get(v, "target"));
		double val = json_number_value(json_object_get(v, "value"));
		if (!t || (strcmp(t, "sensitivity") && strcmp(t, "specificity") &&
			   strcmp(t, "positive_rate")))
			return fv_diag_set(d, FV_EINVAL,
					   "operating_points[%zu].target must be sensitivity, "
					   "specificity or positive_rate",
					   i);
		if (!json_is_number(json_object_get(v, "value")) || !(val > 0 && val < 1))
			return fv_diag_set(d, FV_EINVAL,
					   "operating_points[%zu].value must be a number in (0, 1)",
					   i);
	}
	if (json_array_size(thr) + json_array_size(ops) + 1 > FV_MAX_THRESHOLDS)
		return fv_diag_set(d, FV_EINVAL,
				   "thresholds and operating points together exceed %d",
				   FV_MAX_THRESHOLDS - 1);
	return FV_OK;
}

static fv_err handle_create_benchmark(struct req *r, struct fv_diag *d)
{
	json_t *j = NULL;
	char *canon = NULL, id[2 * FV_MAX_TEXT];
	const char *name, *version;
	sqlite3_stmt *st = NULL;
	fv_err e;

	const char *initial = r->env->create_benchmark->initial_state
				  ? r->env->create_benchmark->initial_state
				  : "open";
	if (strcmp(initial, "draft") != 0 && strcmp(initial, "open") != 0)
		return fv_diag_set(d, FV_EINVAL, "a benchmark starts as draft or open, not '%.20s'",
				   initial);
	if ((e = canonical_json(r->env->create_benchmark->spec_json, FV_MAX_JSON, &j, &canon, d)))
		return e;
	if ((e = benchmark_check(j, d)) != FV_OK)
		goto out;
	name = json_string_value(json_object_get(j, "name"));
	version = json_string_value(json_object_get(j, "version"));
	fv_fmt(id, sizeof(id), "%s@%s", name, version);
	e = store_exec(r->co->store, NULL,
		       "INSERT INTO benchmarks(name, version, spec_json, created_by, created_us, "
		       "state) VALUES(?, ?, ?, ?, ?, ?)",
		       "ttttit", name, version, canon, r->who.name, fv_now_us(), initial);
	if (e == FV_EEXIST) {
		/* Same spec again is fine (idempotent); another spec under a used version is not:
		 * a benchmark version is frozen once created. */
		store_lock(r->co->store);
		e = store_query(r->co->store, &st,
				"SELECT spec_json FROM benchmarks WHERE name = ? AND version = ?",
				"tt", name, version);
		bool same = e == FV_OK && sqlite3_step(st) == SQLITE_ROW &&
			    !strcmp((const char *)sqlite3_column_text(st, 0), canon);
		sqlite3_finalize(st);
		store_unlock(r->co->store);
		if (!same) {
			e = fv_diag_set(
			    d, FV_EEXIST,
			    "benchmark %s already exists with a different spec; a benchmark "
			    "version is frozen: create a new version",
			    id);
			goto out;
		}
		e = reply_ack(r, id, "exists");
		goto out;
	}
	if (e != FV_OK) {
		e = fv_diag_set(d, e, "cannot store benchmark");
		goto out;
	}
	fv_log(FV_LOG_INFO, "benchmark_created", "benchmark=%s by=%s", id, r->who.name);
	e = reply_ack(r, id, "created");
out:
	free(canon);
	json_decref(j);
	return e;
}

/* ---- vendor: model upload and registration ---- */

static fv_err handle_upload_chunk(struct req *r, struct fv_diag *d)
{
	Fedval__UploadChunk *q = r->env->upload_chunk;
	struct coord *co = r->co;
	char final[4096], part[4096];
	uint8_t *raw = NULL;
	size_t raw_len;
	int64_t next = -1;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int fd = -1;
	fv_err e = FV_OK;

	if (!sha_hex_valid(q->sha256))
		return fv_diag_set(d, FV_EINVAL, "sha256 must be 64 hex digits");
	if (q->size == 0 || q->size > FV_MAX_MODEL_BYTES)
		return fv_diag_set(d, FV_ELIMIT, "model size %llu outside 1..%u bytes",
				   (unsigned long long)q->size, FV_MAX_MODEL_BYTES);
	if (q->count != fv_chunk_count(q->size) || q->index >= q->count)
		return fv_diag_set(d, FV_EINVAL, "chunk %u of %u does not fit a %llu-byte model",
				   q->index, q->count, (unsigned long long)q->size);
	if (model_path(co, q->sha256, ".onnx", final, sizeof(final)) ||
	    model_path(co, q->sha256, ".part", part, sizeof(part)))
		return fv_diag_set(d, FV_ELIMIT, "models_dir path too long");
	if (stat(final, &sb) == 0)
		return reply_ack(r, q->sha256, "exists");

	store_lock(co->store);
	if (store_query(co->store, &st,
			"SELECT next_index FROM uploads WHERE sha256 = ? AND owner = ?", "tt",
			q->sha256, r->who.name) == FV_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		next = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (q->index == 0) {
		next = 0;
	} else if (next < 0) {
		e = fv_diag_set(d, FV_ESTATE, "upload of %.12s not started: send chunk 0 first",
				q->sha256);
		goto out;
	} else if ((int64_t)q->index < next) {
		e = reply_ack(r, q->sha256, "duplicate");
		goto out;
	} else if ((int64_t)q->index > next) {
		e = fv_diag_set(d, FV_ESTATE, "expected chunk %lld, got %u", (long long)next,
				q->index);
		goto out;
	}
	raw_len = q->index + 1 == q->count ? q->size - (uint64_t)q->index * FV_MODEL_CHUNK_RAW
					   : FV_MODEL_CHUNK_RAW;
	if (!(raw = fv_alloc(raw_len))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (q->data.len > FV_MODEL_CHUNK_MAX ||
	    fv_chunk_decompress(q->data.data, q->data.len, raw, raw_len) != FV_OK) {
		e = fv_diag_set(d, FV_ECORRUPT, "chunk %u is not a zstd frame of %zu bytes",
				q->index, raw_len);
		goto out;
	}
	fd = open(part, O_WRONLY | O_CREAT | (q->index == 0 ? O_TRUNC : 0) | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    pwrite(fd, raw, raw_len, (off_t)q->index * FV_MODEL_CHUNK_RAW) != (ssize_t)raw_len ||
	    fsync(fd) != 0) {
		e = fv_diag_set(d, FV_EIO, "cannot store chunk: %s", strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (q->index + 1 < q->count) {
		e = store_exec(
		    co->store, NULL,
		    "INSERT INTO uploads(sha256, size, count, next_index, owner, updated_us) "
		    "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET "
		    "next_index = excluded.next_index, owner = excluded.owner, "
		    "size = excluded.size, count = excluded.count, updated_us = "
		    "excluded.updated_us",
		    "tiiiti", q->sha256, (int64_t)q->size, (int64_t)q->count, (int64_t)q->index + 1,
		    r->who.name, fv_now_us());
		if (e == FV_OK)
			e = reply_ack(r, q->sha256, "accepted");
		goto out;
	}
	/* Last chunk: the whole must hash to the address it was uploaded under. */
	{
		uint8_t *all = NULL;
		size_t all_len = 0;
		char hex[FV_SHA256_HEX];
		if ((e = fv_file_read(part, FV_MAX_MODEL_BYTES, &all, &all_len, d)) != FV_OK)
			goto out;
		fv_sha256_hex(all, all_len, hex);
		fv_free(all);
		store_exec(co->store, NULL, "DELETE FROM uploads WHERE sha256 = ?", "t", q->sha256);
		if (all_len != q->size || strcmp(hex, q->sha256) != 0) {
			unlink(part);
			e = fv_diag_set(
			    d, FV_ECORRUPT,
			    "uploaded bytes hash to %.16s…, not %.16s…: upload discarded", hex,
			    q->sha256);
			goto out;
		}
		if (rename(part, final) != 0) {
			e = fv_diag_set(d, FV_EIO, "cannot store model: %s", strerror(errno));
			goto out;
		}
		fv_file_sync_dir(final); /* the model survives a crash once acknowledged */
	}
	fv_log(FV_LOG_INFO, "model_uploaded", "sha256=%s size=%llu by=%s", q->sha256,
	       (unsigned long long)q->size, r->who.name);
	e = reply_ack(r, q->sha256, "stored");
out:
	if (fd >= 0)
		close(fd);
	store_unlock(co->store);
	fv_free(raw);
	return e;
}

size_t coord_sweep_uploads(struct coord *co)
{
	DIR *dir = opendir(co->models_dir);
	struct dirent *de;
	sqlite3_stmt *st = NULL;
	size_t removed = 0;
	int64_t cutoff = fv_now_us() - (int64_t)FV_UPLOAD_STALE_S * 1000000;

	if (!dir)
		return 0;
	store_lock(co->store);
	store_exec(co->store, NULL, "DELETE FROM uploads WHERE updated_us < ?", "i", cutoff);
	while ((de = readdir(dir))) {
		char sha[FV_SHA256_HEX], path[4096];
		size_t len = strlen(de->d_name);
		bool owned = false;
		if (len != FV_SHA256_HEX - 1 + 5 || strcmp(de->d_name + FV_SHA256_HEX - 1, ".part"))
			continue;
		fv_strlcpy(sha, de->d_name, sizeof(sha));
		if (store_query(co->store, &st, "SELECT 1 FROM uploads WHERE sha256 = ?", "t",
				sha) == FV_OK)
			owned = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		st = NULL;
		if (owned || model_path(co, sha, ".part", path, sizeof(path)))
			continue;
		if (unlink(path) == 0) {
			removed++;
			fv_log(FV_LOG_INFO, "upload_swept", "sha256=%s reason=%s", sha,
			       "partial model file without an unfinished upload");
		}
	}
	store_unlock(co->store);
	closedir(dir);
	return removed;
}

/* Checks of a manifest the coordinator can make: fields, vendor, bytes present and loadable,
 * input count matching the model. */
static fv_err manifest_check(struct req *r, json_t *j, const char **sha, int64_t *size,
			     struct fv_diag *d)
{
	const char *s, *vendor;
	json_t *input, *vars;
	char path[4096];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_model *m = NULL;
	struct fv_diag md = {{0}};
	fv_err e;

	if ((e = json_str(j, "name", &s, d)) || (e = json_str(j, "version", &s, d)) ||
	    (e = json_str(j, "vendor", &vendor, d)) || (e = json_str(j, "intended_use", &s, d)) ||
	    (e = json_str(j, "model_sha256", sha, d)))
		return e;
	if (!fv_name_valid(json_string_value(json_object_get(j, "name"))))
		return fv_diag_set(d, FV_EINVAL, "field 'name' may hold only [A-Za-z0-9._-]");
	if (strcmp(vendor, r->who.name) != 0)
		return fv_diag_set(d, FV_EAUTH, "manifest vendor '%s' is not the submitter '%s'",
				   vendor, r->who.name);
	if (!sha_hex_valid(*sha))
		return fv_diag_set(d, FV_EINVAL, "field 'model_sha256' must be 64 hex digits");
	input = json_object_get(j, "input");
	vars = json_object_get(input, "variables");
	if (!json_is_array(vars) || json_array_size(vars) == 0)
		return fv_diag_set(d, FV_EINVAL,
				   "field 'input.variables' must be a non-empty array");
	if (model_path(r->co, *sha, ".onnx", path, sizeof(path)))
		return fv_diag_set(d, FV_ELIMIT, "models_dir path too long");
	if ((e = fv_file_read(path, FV_MAX_MODEL_BYTES, &buf, &len, d)) != FV_OK) {
		if (e == FV_ENOTFOUND)
			fv_diag_set(
			    d, e, "no uploaded model bytes with sha256 %.16s…: upload first", *sha);
		return e;
	}
	/* A model that fedval's runtime cannot run is refused now, not at every hospital. */
	e = fv_model_load(buf, len, &m, &md);
	fv_free(buf);
	if (e != FV_OK)
		return fv_diag_set(d, e, "model cannot be loaded: %s", md.msg);
	if (fv_model_n_features(m) != json_array_size(vars))
		e = fv_diag_set(
		    d, FV_EINVAL,
		    "manifest names %zu input variables but the model takes %zu features",
		    json_array_size(vars), fv_model_n_features(m));
	fv_model_free(m);
	*size = (int64_t)len;
	return e;
}

static fv_err handle_submit_model(struct req *r, struct fv_diag *d)
{
	Fedval__SubmitModel *q = r->env->submit_model;
	json_t *j = NULL;
	char *canon = NULL, vid[FV_SHA256_HEX];
	const char *sha = NULL;
	int64_t size = 0;
	sqlite3_stmt *st = NULL;
	fv_err e;

	if ((e = canonical_json(q->manifest_json, FV_MAX_JSON, &j, &canon, d)) != FV_OK)
		return e;
	if (strcmp(canon, q->manifest_json) != 0) {
		e = fv_diag_set(d, FV_EINVAL,
				"manifest is not in canonical form (sorted keys, compact, "
				"ASCII): the signature must cover the canonical bytes");
		goto out;
	}
	if ((e = manifest_check(r, j, &sha, &size, d)) != FV_OK)
		goto out;
	if (fv_verify(r->who.pub, r->who.pub_len, canon, strlen(canon), q->signature.data,
		      q->signature.len) != FV_OK) {
		e = fv_diag_set(d, FV_EAUTH,
				"manifest signature does not verify with the vendor's key");
		goto out;
	}
	fv_sha256_hex(canon, strlen(canon), vid);
	e = store_exec(r->co->store, NULL,
		       "INSERT INTO models(version_id, name, version, vendor, onnx_sha256, size, "
		       "manifest_json, signature, created_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       "tttttitbi", vid, json_string_value(json_object_get(j, "name")),
		       json_string_value(json_object_get(j, "version")), r->who.name, sha, size,
		       canon, q->signature.data, q->signature.len, fv_now_us());
	if (e == FV_EEXIST) {
		/* Either the very same version again (idempotent) or changed content under a used
		 * version string, which is refused: a version is never edited. */
		store_lock(r->co->store);
		bool same =
		    store_query(r->co->store, &st, "SELECT 1 FROM models WHERE version_id = ?", "t",
				vid) == FV_OK &&
		    sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		store_unlock(r->co->store);
		if (same) {
			e = reply_ack(r, vid, "exists");
		} else {
			e = fv_diag_set(d, FV_EEXIST,
					"model %s version %s is already registered with different "
					"content; a version is immutable: submit a new version",
					json_string_value(json_object_get(j, "name")),
					json_string_value(json_object_get(j, "version")));
		}
		goto out;
	}
	if (e != FV_OK) {
		e = fv_diag_set(d, e, "cannot store model");
		goto out;
	}
	fv_log(FV_LOG_INFO, "model_registered", "version_id=%s name=%s version=%s vendor=%s", vid,
	       json_string_value(json_object_get(j, "name")),
	       json_string_value(json_object_get(j, "version")), r->who.name);
	e = reply_ack(r, vid, "created");
out:
	free(canon);
	json_decref(j);
	return e;
}

/* ---- runs ---- */

static fv_err model_ref_load(struct req *r, const char *vid, Fedval__ModelRef *m, struct fv_diag *d)
{
	sqlite3_stmt *st = NULL;
	fv_err e;

	store_lock(r->co->store);
	e = store_query(r->co->store, &st,
			"SELECT m.onnx_sha256, m.size, m.manifest_json, m.vendor, p.cert_pem, "
			"m.signature FROM models m JOIN principals p ON p.name = m.vendor "
			"WHERE m.version_id = ?",
			"t", vid);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		m->version_id = keep_str(r, (const unsigned char *)vid);
		m->onnx_sha256 = keep_str(r, sqlite3_column_text(st, 0));
		m->size = (uint64_t)sqlite3_column_int64(st, 1);
		m->manifest_json = keep_str(r, sqlite3_column_text(st, 2));
		m->vendor = keep_str(r, sqlite3_column_text(st, 3));
		m->vendor_cert_pem = keep_str(r, sqlite3_column_text(st, 4));
		m->vendor_signature.len = (size_t)sqlite3_column_bytes(st, 5);
		m->vendor_signature.data =
		    keep_mem(r, sqlite3_column_blob(st, 5), m->vendor_signature.len);
		if (!m->onnx_sha256 || !m->manifest_json || !m->vendor || !m->vendor_cert_pem ||
		    !m->vendor_signature.data)
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
	} else if (e == FV_OK) {
		e = fv_diag_set(d, FV_ENOTFOUND, "no model version %s", vid);
	}
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	return e;
}

/* Resolve "name" (newest version) or "name@version"; fill the version and spec. */
/* The head-to-head models of a run, in order (none for a plain run). */
static fv_err compare_refs_load(struct req *r, const char *run_id, Fedval__ModelRef ***out,
				size_t *n, struct fv_diag *d)
{
	char *ids[FV_MAX_COMPARE];
	size_t k = 0;
	sqlite3_stmt *st = NULL;
	fv_err e;

	*out = NULL;
	*n = 0;
	store_lock(r->co->store);
	e = store_query(r->co->store, &st,
			"SELECT model_version_id FROM run_models WHERE run_id = ? ORDER BY idx",
			"t", run_id);
	while (e == FV_OK && k < FV_MAX_COMPARE && sqlite3_step(st) == SQLITE_ROW)
		if (!(ids[k++] = keep_str(r, sqlite3_column_text(st, 0))))
			e = FV_ENOMEM;
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (e != FV_OK || k == 0)
		return e;
	Fedval__ModelRef **arr = keep(r, fv_calloc(k, sizeof(*arr)));
	if (!arr)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < k && e == FV_OK; i++) {
		if (!(arr[i] = keep(r, fv_alloc(sizeof(**arr)))))
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
		fedval__model_ref__init(arr[i]);
		e = model_ref_load(r, ids[i], arr[i], d);
	}
	*out = arr;
	*n = k;
	return e;
}

static fv_err benchmark_find(struct req *r, const char *ref, char **name, char **version,
			     char **spec, struct fv_diag *d)
{
	char nm[FV_MAX_TEXT];
	const char *at = strchr(ref, '@');
	sqlite3_stmt *st = NULL;
	fv_err e;

	fv_strlcpy(nm, ref, sizeof(nm));
	if (at)
		nm[at - ref] = '\0';
	store_lock(r->co->store);
	if (at)
		e = store_query(
		    r->co->store, &st,
		    "SELECT name, version, spec_json FROM benchmarks WHERE name = ? AND "
		    "version = ?",
		    "tt", nm, at + 1);
	else
		e = store_query(r->co->store, &st,
				"SELECT name, version, spec_json FROM benchmarks WHERE name = ? "
				"ORDER BY created_us DESC LIMIT 1",
				"t", nm);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		*name = keep_str(r, sqlite3_column_text(st, 0));
		*version = keep_str(r, sqlite3_column_text(st, 1));
		*spec = keep_str(r, sqlite3_column_text(st, 2));
		if (!*name || !*version || !*spec)
			e = FV_ENOMEM;
	} else if (e == FV_OK) {
		e = fv_diag_set(d, FV_ENOTFOUND, "no benchmark '%s'", ref);
	}
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	return e;
}

/* Every variable the model reads must be one the benchmark defines. */
/* The benchmark's task (binary when it names none). */
static enum fv_task spec_task(const char *spec)
{
	json_t *b = json_loads(spec, 0, NULL);
	enum fv_task t = fv_task_parse(json_string_value(json_object_get(b, "task")));
	json_decref(b);
	return t;
}

static fv_err check_model_fits(const char *spec, const char *manifest, struct fv_diag *d)
{
	json_t *b = json_loads(spec, 0, NULL), *m = json_loads(manifest, 0, NULL), *v;
	json_t *mv = json_object_get(json_object_get(m, "input"), "variables");
	size_t i, k;
	fv_err e = FV_OK;

	json_array_foreach(mv, i, v)
	{
		bool found = false;
		json_t *bv;
		json_array_foreach(json_object_get(b, "variables"), k, bv)
		{
			if (json_equal(json_object_get(bv, "name"), v))
				found = true;
		}
		if (!found) {
			e = fv_diag_set(d, FV_EINVAL,
					"model input variable '%s' is not defined by the "
					"benchmark",
					json_string_value(v));
			break;
		}
	}
	json_decref(b);
	json_decref(m);
	return e;
}

/* ---- multi-round fits: the coordinator's Newton state, kept as JSON in runs.round_state ---- */

static json_t *darr(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static void dget(const json_t *a, double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = json_number_value(json_array_get(a, i));
}

static char *round_state_dump(const struct fv_newton *nw, unsigned step, const char *status)
{
	size_t k = nw->k;
	json_t *j = json_pack(
	    "{s:s,s:s,s:i,s:I,s:o,s:o,s:o,s:o,s:f,s:f,s:f,s:f,s:i,s:i,s:i}", "kind",
	    "recalibration", "status", status, "step", (int)step, "k", (json_int_t)k, "beta",
	    darr(nw->beta, k), "best", darr(nw->best, k), "dir", darr(nw->dir, k), "cov",
	    darr(nw->cov, k * k), "best_ll", isfinite(nw->best_ll) ? nw->best_ll : 0.0, "step_size",
	    nw->step, "decrement", isfinite(nw->decrement) ? nw->decrement : 0.0, "tol", nw->tol,
	    "rounds", nw->rounds, "have_best", nw->have_best, "converged", nw->converged);
	char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(j);
	return txt;
}

static fv_err round_state_load(const char *txt, struct fv_newton *nw, unsigned *step,
			       const char **status_out)
{
	static char status[32];
	json_t *j = txt ? json_loads(txt, 0, NULL) : NULL;
	if (!j)
		return FV_EDB;
	memset(nw, 0, sizeof(*nw));
	nw->k = (size_t)json_integer_value(json_object_get(j, "k"));
	if (nw->k == 0 || nw->k > FV_NEWTON_MAXK) {
		json_decref(j);
		return FV_EDB;
	}
	dget(json_object_get(j, "beta"), nw->beta, nw->k);
	dget(json_object_get(j, "best"), nw->best, nw->k);
	dget(json_object_get(j, "dir"), nw->dir, nw->k);
	dget(json_object_get(j, "cov"), nw->cov, nw->k * nw->k);
	nw->best_ll = json_number_value(json_object_get(j, "best_ll"));
	nw->step = json_number_value(json_object_get(j, "step_size"));
	nw->decrement = json_number_value(json_object_get(j, "decrement"));
	nw->tol = json_number_value(json_object_get(j, "tol"));
	nw->rounds = (int)json_integer_value(json_object_get(j, "rounds"));
	nw->have_best = (int)json_integer_value(json_object_get(j, "have_best"));
	nw->converged = (int)json_integer_value(json_object_get(j, "converged"));
	*step = (unsigned)json_integer_value(json_object_get(j, "step"));
	fv_strlcpy(status, json_string_value(json_object_get(j, "status")) ?: "", sizeof(status));
	if (status_out)
		*status_out = status;
	json_decref(j);
	return FV_OK;
}

static bool spec_requires_approval(const char *spec);
static bool spec_requires_acceptance(const char *spec);
static fv_err model_accepted(struct req *r, const char *vid, struct fv_diag *d);
static fv_err benchmark_is_open(struct req *r, const char *name, const char *version,
				struct fv_diag *d);

/* The core of a run start, shared by handle_start_run and the scheduler (coord_start_run):
 * checks, then one transaction inserting the run, its compared models and one job per site.
 * hook (optional) runs inside that transaction, with the store locked, before the commit; its
 * failure rolls the run back. body's arrays are fv_alloc'd (the caller frees them); strings
 * live in r's pool. */
static fv_err run_start(struct req *r, const Fedval__StartRun *q, char *run_id,
			Fedval__StartRunReply *body, coord_run_hook hook, void *hook_arg,
			struct fv_diag *d)
{
	Fedval__ModelRef mref = FEDVAL__MODEL_REF__INIT;
	char *bname, *bver, *spec, ts[32];
	uint8_t rnd[FV_SHA256_LEN];
	char rhex[9];
	sqlite3_stmt *st = NULL;
	struct store *s = r->co->store;
	int64_t now = fv_now_us();
	bool need_approval;
	fv_err e;

	if ((e = benchmark_find(r, q->benchmark, &bname, &bver, &spec, d)) != FV_OK)
		return e;
	if ((e = benchmark_is_open(r, bname, bver, d)) != FV_OK)
		return e;
	if ((e = model_ref_load(r, q->model_version_id, &mref, d)) != FV_OK)
		return e;
	if ((e = check_model_fits(spec, mref.manifest_json, d)) != FV_OK)
		return e;
	bool need_acceptance = spec_requires_acceptance(spec);
	if (need_acceptance && (e = model_accepted(r, q->model_version_id, d)) != FV_OK)
		return e;
	need_approval = spec_requires_approval(spec);
	const char *kind = q->kind && *q->kind ? q->kind : "evaluation";
	char *round_state = NULL;
	if (strcmp(kind, "evaluation") != 0 && strcmp(kind, "recalibration") != 0)
		return fv_diag_set(d, FV_EINVAL, "run kind '%.20s': evaluation or recalibration",
				   kind);
	enum fv_task task = spec_task(spec);
	if (task != FV_TASK_BINARY &&
	    (q->n_compare_model_version_ids || strcmp(kind, "evaluation") != 0))
		return fv_diag_set(
		    d, FV_EINVAL,
		    "a %s benchmark has evaluation runs of one model (no head-to-head "
		    "or recalibration yet)",
		    fv_task_name(task));
	if (!strcmp(kind, "recalibration")) {
		struct fv_newton nw;
		const double beta0[2] = {0.0, 1.0}; /* start at perfect calibration */
		if (q->n_compare_model_version_ids)
			return fv_diag_set(d, FV_EINVAL, "a recalibration run fits one model");
		fv_stats_newton_init(&nw, 2, beta0, 1e-12);
		if (!(round_state = keep(r, round_state_dump(&nw, 0, "running"))))
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	if (q->n_compare_model_version_ids > FV_MAX_COMPARE)
		return fv_diag_set(d, FV_ELIMIT, "at most %d models compared with the first",
				   FV_MAX_COMPARE);
	for (size_t i = 0; i < q->n_compare_model_version_ids; i++) {
		Fedval__ModelRef cref = FEDVAL__MODEL_REF__INIT;
		const char *id = q->compare_model_version_ids[i];
		if (!strcmp(id, q->model_version_id))
			return fv_diag_set(d, FV_EINVAL, "model %.16s… is compared with itself",
					   id);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(id, q->compare_model_version_ids[k]))
				return fv_diag_set(d, FV_EINVAL, "model %.16s… listed twice", id);
		if ((e = model_ref_load(r, id, &cref, d)) != FV_OK ||
		    (e = check_model_fits(spec, cref.manifest_json, d)) != FV_OK ||
		    (need_acceptance && (e = model_accepted(r, id, d)) != FV_OK))
			return e;
	}
	fv_sha256(&now, sizeof(now), rnd);
	fv_hex(rnd, 4, rhex);
	fv_time_iso(now, ts, sizeof(ts));
	/* run-YYYYmmddTHHMMSS-xxxxxxxx: sortable, readable, unique per microsecond */
	fv_fmt(run_id, FV_MAX_ID, "run-%.4s%.2s%.2sT%.2s%.2s%.2s-%s", ts, ts + 5, ts + 8, ts + 11,
	       ts + 14, ts + 17, rhex);

	store_lock(s);
	if ((e = store_begin(s)) != FV_OK)
		goto unlock;
	e = store_exec(
	    s, NULL,
	    "INSERT INTO runs(run_id, benchmark_name, benchmark_version, "
	    "model_version_id, created_by, created_us, kind, round_state) VALUES(?, ?, ?, "
	    "?, ?, ?, ?, ?)",
	    round_state ? "tttttitt" : "tttttitn", run_id, bname, bver, q->model_version_id,
	    r->who.name, now, kind, round_state);
	for (size_t i = 0; e == FV_OK && i < q->n_compare_model_version_ids; i++)
		e = store_exec(
		    s, NULL,
		    "INSERT INTO run_models(run_id, idx, model_version_id) VALUES(?, ?, ?)", "tit",
		    run_id, (int64_t)i, q->compare_model_version_ids[i]);
	if (e == FV_OK && need_approval)
		e = store_query(
		    s, &st,
		    "SELECT p.name, a.dataset FROM principals p JOIN dataset_approvals a ON "
		    "a.node = p.name WHERE p.role = 'node' AND p.revoked = 0 AND "
		    "a.benchmark_name = ? AND a.approved = 1 ORDER BY p.name",
		    "t", bname);
	else if (e == FV_OK)
		e = store_query(
		    s, &st,
		    "SELECT name, NULL FROM principals WHERE role = 'node' AND revoked = 0 "
		    "ORDER BY name",
		    "");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		char *node = keep_str(r, sqlite3_column_text(st, 0));
		const unsigned char *dataset = sqlite3_column_text(st, 1);
		char job_id[FV_MAX_ID + FV_MAX_NAME + 2];
		char **nj, **nn;
		if (!node || fv_fmt(job_id, sizeof(job_id), "%s.%s", run_id, node) != FV_OK) {
			e = FV_ENOMEM;
			break;
		}
		e = store_exec(s, NULL,
			       "INSERT INTO jobs(job_id, run_id, node, state, created_us, "
			       "updated_us, dataset) "
			       "VALUES(?, ?, ?, 'queued', ?, ?, ?)",
			       dataset ? "tttiit" : "tttiin", job_id, run_id, node, now, now,
			       (const char *)dataset);
		nj = fv_realloc(body->job_ids, (body->n_job_ids + 1) * sizeof(char *));
		if (nj)
			body->job_ids = nj;
		nn = fv_realloc(body->nodes, (body->n_nodes + 1) * sizeof(char *));
		if (nn)
			body->nodes = nn;
		if (!nj || !nn) {
			e = FV_ENOMEM;
			break;
		}
		body->job_ids[body->n_job_ids++] = keep_str(r, (const unsigned char *)job_id);
		body->nodes[body->n_nodes++] = node;
	}
	sqlite3_finalize(st);
	if (e == FV_OK && hook)
		e = hook(hook_arg, run_id);
	if (e == FV_OK && body->n_job_ids == 0)
		e = fv_diag_set(d, FV_ESTATE,
				need_approval
				    ? "no site has a dataset approved for benchmark %s"
				    : "no enrolled nodes: a run needs at least one site%s",
				need_approval ? bname : "");
	if (e == FV_OK)
		e = store_commit(s);
	if (e != FV_OK) {
		store_rollback(s);
		if (!d->msg[0])
			fv_diag_set(d, e, "cannot create run");
	}
unlock:
	store_unlock(s);
	if (e == FV_OK) {
		fv_log(FV_LOG_INFO, "run_started", "run=%s benchmark=%s@%s model=%.16s jobs=%zu",
		       run_id, bname, bver, q->model_version_id, body->n_job_ids);
		body->run_id = run_id;
	}
	return e;
}

static fv_err handle_start_run(struct req *r, struct fv_diag *d)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__StartRunReply body = FEDVAL__START_RUN_REPLY__INIT;
	char run_id[FV_MAX_ID];
	fv_err e = run_start(r, r->env->start_run, run_id, &body, NULL, NULL, d);

	if (e == FV_OK) {
		rep.body_case = FEDVAL__ENVELOPE__BODY_START_RUN_REPLY;
		rep.start_run_reply = &body;
		e = seal(r, &rep);
	}
	fv_free(body.job_ids);
	fv_free(body.nodes);
	return e;
}

/* ---- monitoring schedules (coordinator/schedule.c): runs started without a request ---- */

fv_err coord_start_run(struct coord *co, const char *by, const Fedval__StartRun *q,
		       coord_run_hook hook, void *hook_arg, char *run_id, size_t *njobs,
		       struct fv_diag *d)
{
	struct req r = {.co = co};
	Fedval__StartRunReply body = FEDVAL__START_RUN_REPLY__INIT;
	fv_err e;

	fv_strlcpy(r.who.name, by, sizeof(r.who.name));
	r.who.role = FV_ROLE_AUTHORITY;
	e = run_start(&r, q, run_id, &body, hook, hook_arg, d);
	if (njobs)
		*njobs = body.n_job_ids;
	fv_free(body.job_ids);
	fv_free(body.nodes);
	coord_req_fini(&r);
	return e;
}

/* Fill one RunInfo with its jobs. */
static fv_err run_info_load(struct req *r, const char *run_id, Fedval__RunInfo *ri)
{
	sqlite3_stmt *st = NULL;
	size_t done = 0;
	fv_err e;

	e = store_query(
	    r->co->store, &st,
	    "SELECT r.benchmark_name || '@' || r.benchmark_version, r.model_version_id, "
	    "m.name || ' ' || m.version, r.created_us, r.kind, r.round_state, r.published_us "
	    "FROM runs r JOIN "
	    "models m ON m.version_id = r.model_version_id WHERE r.run_id = ?",
	    "t", run_id);
	if (e != FV_OK)
		return e;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return FV_ENOTFOUND;
	}
	ri->run_id = keep_str(r, (const unsigned char *)run_id);
	ri->benchmark = keep_str(r, sqlite3_column_text(st, 0));
	ri->model_version_id = keep_str(r, sqlite3_column_text(st, 1));
	ri->model_name = keep_str(r, sqlite3_column_text(st, 2));
	ri->has_created_us = 1;
	ri->created_us = sqlite3_column_int64(st, 3);
	ri->kind = keep_str(r, sqlite3_column_text(st, 4));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		ri->round_json = keep_str(r, sqlite3_column_text(st, 5));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		ri->has_published_us = 1;
		ri->published_us = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	e = store_query(r->co->store, &st,
			"SELECT job_id, node, state, reason, updated_us FROM jobs WHERE run_id = ? "
			"ORDER BY node",
			"t", run_id);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		Fedval__JobStatus *js = keep(r, fv_alloc(sizeof(*js)));
		Fedval__JobStatus **nj = fv_realloc(ri->jobs, (ri->n_jobs + 1) * sizeof(*nj));
		if (!nj) {
			e = FV_ENOMEM;
			break;
		}
		ri->jobs = nj; /* handed to the pool once complete, below */
		if (!js) {
			e = FV_ENOMEM;
			break;
		}
		fedval__job_status__init(js);
		js->job_id = keep_str(r, sqlite3_column_text(st, 0));
		js->node = keep_str(r, sqlite3_column_text(st, 1));
		js->state = keep_str(r, sqlite3_column_text(st, 2));
		js->reason = sqlite3_column_type(st, 3) == SQLITE_NULL
				 ? NULL
				 : keep_str(r, sqlite3_column_text(st, 3));
		js->has_updated_us = 1;
		js->updated_us = sqlite3_column_int64(st, 4);
		if (!strcmp(js->state, "done") || !strcmp(js->state, "failed") ||
		    !strcmp(js->state, "vetoed"))
			done++;
		ri->jobs[ri->n_jobs++] = js;
	}
	sqlite3_finalize(st);
	if (ri->jobs && !keep(r, ri->jobs)) {
		ri->jobs = NULL;
		ri->n_jobs = 0;
		e = FV_ENOMEM;
	}
	ri->state = done == ri->n_jobs ? "complete" : "running";
	return e;
}

static fv_err handle_run_status(struct req *r, struct fv_diag *d)
{
	Fedval__RunStatusRequest *q = r->env->run_status;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__RunStatusReply body = FEDVAL__RUN_STATUS_REPLY__INIT;
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t nids = 0;
	fv_err e;

	store_lock(r->co->store);
	if (q->run_id && *q->run_id)
		e = store_query(r->co->store, &st, "SELECT run_id FROM runs WHERE run_id = ?", "t",
				q->run_id);
	else
		e = store_query(r->co->store, &st,
				"SELECT run_id FROM runs ORDER BY created_us DESC LIMIT 100", "");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		char **n = fv_realloc(ids, (nids + 1) * sizeof(*n));
		if (!n) {
			e = FV_ENOMEM;
			break;
		}
		ids = n;
		if (!(ids[nids++] = keep_str(r, sqlite3_column_text(st, 0))))
			e = FV_ENOMEM;
	}
	sqlite3_finalize(st);
	if (e == FV_OK && nids == 0 && q->run_id && *q->run_id)
		e = fv_diag_set(d, FV_ENOTFOUND, "no run %s", q->run_id);
	if (e == FV_OK && nids > 0) {
		body.runs = keep(r, fv_calloc(nids, sizeof(*body.runs)));
		if (!body.runs)
			e = FV_ENOMEM;
	}
	for (size_t i = 0; e == FV_OK && i < nids; i++) {
		Fedval__RunInfo *ri = keep(r, fv_alloc(sizeof(*ri)));
		if (!ri) {
			e = FV_ENOMEM;
			break;
		}
		fedval__run_info__init(ri);
		e = run_info_load(r, ids[i], ri);
		body.runs[body.n_runs++] = ri;
	}
	store_unlock(r->co->store);
	fv_free(ids);
	if (e != FV_OK)
		return d->msg[0] ? e : fv_diag_set(d, e, "cannot list runs");
	rep.body_case = FEDVAL__ENVELOPE__BODY_RUN_STATUS_REPLY;
	rep.run_status_reply = &body;
	return seal(r, &rep);
}

/* ---- nodes: jobs, model download, results ---- */

/* Seal a PollReply with the oldest undone job of r->who, if any. *found says whether one was
 * handed out. A job stays 'dispatched' until its result arrives, so a node that restarts gets
 * it again. */
static fv_err poll_reply(struct req *r, bool final, bool *found, struct fv_diag *d)
{
	Fedval__RoundRequest round = FEDVAL__ROUND_REQUEST__INIT;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__PollReply body = FEDVAL__POLL_REPLY__INIT;
	Fedval__Job job = FEDVAL__JOB__INIT;
	Fedval__ModelRef mref = FEDVAL__MODEL_REF__INIT;
	Fedval__Job *jobs[1] = {&job};
	sqlite3_stmt *st = NULL;
	char *vid = NULL, *bname = NULL, *bver = NULL;
	fv_err e;

	*found = false;
	store_lock(r->co->store);
	e = store_query(
	    r->co->store, &st,
	    "SELECT j.job_id, j.run_id, r.benchmark_name, r.benchmark_version, "
	    "r.model_version_id, j.created_us, j.state, j.dataset, r.kind, r.round_state FROM jobs "
	    "j JOIN principals p ON p.name = j.node AND p.revoked = 0 "
	    "JOIN runs r ON "
	    "r.run_id = j.run_id WHERE j.node = ? AND j.state IN ('queued', 'dispatched') "
	    "ORDER BY j.created_us, j.job_id LIMIT 1",
	    "t", r->who.name);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		*found = true;
		job.job_id = keep_str(r, sqlite3_column_text(st, 0));
		job.run_id = keep_str(r, sqlite3_column_text(st, 1));
		bname = keep_str(r, sqlite3_column_text(st, 2));
		bver = keep_str(r, sqlite3_column_text(st, 3));
		vid = keep_str(r, sqlite3_column_text(st, 4));
		job.has_created_us = 1;
		job.created_us = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			job.dataset = keep_str(r, sqlite3_column_text(st, 7));
		if (!strcmp((const char *)sqlite3_column_text(st, 8), "recalibration")) {
			struct fv_newton nw;
			unsigned stepno = 0;
			if (round_state_load((const char *)sqlite3_column_text(st, 9), &nw, &stepno,
					     NULL) == FV_OK &&
			    (round.beta = keep(r, fv_calloc(nw.k, sizeof(double))))) {
				round.kind = "recalibration";
				round.step = stepno;
				round.n_beta = nw.k;
				memcpy(round.beta, nw.beta, nw.k * sizeof(double));
				job.round = &round;
			}
		}
	}
	sqlite3_finalize(st);
	if (*found) {
		sqlite3_stmt *bs = NULL;
		if (!job.job_id || !job.run_id || !bname || !bver || !vid) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto unlock;
		}
		e = store_query(r->co->store, &bs,
				"SELECT spec_json FROM benchmarks WHERE name = ? AND version = ?",
				"tt", bname, bver);
		if (e == FV_OK && sqlite3_step(bs) == SQLITE_ROW)
			job.benchmark_json = keep_str(r, sqlite3_column_text(bs, 0));
		sqlite3_finalize(bs);
		if (!job.benchmark_json) {
			e = fv_diag_set(d, FV_EDB, "benchmark of job %s missing", job.job_id);
			goto unlock;
		}
		if ((e = model_ref_load(r, vid, &mref, d)) != FV_OK)
			goto unlock;
		job.model = &mref;
		/* A scheduled monitoring run carries its data window (coordinator/schedule.c). */
		if (store_query(
			r->co->store, &bs,
			"SELECT window_start, window_end FROM schedule_runs WHERE run_id = ?", "t",
			job.run_id) == FV_OK &&
		    sqlite3_step(bs) == SQLITE_ROW && sqlite3_column_type(bs, 0) != SQLITE_NULL) {
			job.window_start = keep_str(r, sqlite3_column_text(bs, 0));
			job.window_end = keep_str(r, sqlite3_column_text(bs, 1));
		}
		sqlite3_finalize(bs);
		if ((e = compare_refs_load(r, job.run_id, &job.compare_models,
					   &job.n_compare_models, d)) != FV_OK)
			goto unlock;
		int first = 0;
		e = store_exec(
		    r->co->store, &first,
		    "UPDATE jobs SET state = 'dispatched', updated_us = ? WHERE job_id = ? "
		    "AND state = 'queued'",
		    "it", fv_now_us(), job.job_id);
		body.n_jobs = 1;
		body.jobs = jobs;
		/* A job offered again (the node restarted, or is still working on it) is not a new
		 * event: only the first dispatch goes to the logs, so they cannot grow unbounded.
		 */
		if (first) {
			fv_log(FV_LOG_INFO, "job_dispatched", "job=%s node=%s", job.job_id,
			       r->who.name);
			coord_audit(r->co, "job_dispatched", r->who.name, job.job_id,
				    strlen(job.job_id));
		}
	}
unlock:
	store_unlock(r->co->store);
	if (e != FV_OK || (!*found && !final))
		return e;
	rep.body_case = FEDVAL__ENVELOPE__BODY_POLL_REPLY;
	rep.poll_reply = &body;
	return seal(r, &rep);
}

static fv_err handle_poll(struct req *r, struct fv_diag *d)
{
	const Fedval__PollJobs *q = r->env->poll;
	bool found;
	fv_err e;

	/* Wait as long as the node asked (0: answer now), never beyond the coordinator's own
	 * limit. */
	r->wait_ms = r->co->poll_wait_ms;
	if (q && q->has_wait_ms && q->wait_ms < (uint32_t)r->wait_ms)
		r->wait_ms = (int)q->wait_ms;
	if (r->wait_ms > 0 && !(r->park_slot = park_acquire(r->who.name))) {
		fv_log(FV_LOG_DEBUG, "poll_not_parked", "principal=%s reason=%s", r->who.name,
		       FV_Q("the principal already holds its parked polls"));
		r->wait_ms = 0;
	}
	e = poll_reply(r, r->wait_ms == 0, &found, d);
	if (e == FV_OK && !found && r->wait_ms > 0)
		r->park = true;
	return e;
}

bool coord_poll_again(struct coord *co, struct req *r, bool final)
{
	struct fv_diag d = {{0}};
	bool found = false;
	fv_err e = poll_reply(r, final, &found, &d);
	if (e != FV_OK) {
		reply_error(r, e, d.msg[0] ? d.msg : fv_strerror(e));
		return true;
	}
	return found || final;
}

static fv_err handle_chunk_request(struct req *r, struct fv_diag *d)
{
	Fedval__ChunkRequest *q = r->env->chunk_request;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__ModelChunk body = FEDVAL__MODEL_CHUNK__INIT;
	char path[4096];
	sqlite3_stmt *st = NULL;
	uint8_t *raw = NULL, *frame = NULL;
	size_t raw_len, frame_len = 0;
	struct stat sb;
	bool allowed = false;
	int fd = -1;
	fv_err e;

	if (!sha_hex_valid(q->sha256))
		return fv_diag_set(d, FV_EINVAL, "sha256 must be 64 hex digits");
	/* A node may fetch only models it has a job for: vendors' models are not public. */
	store_lock(r->co->store);
	if (store_query(r->co->store, &st,
			"SELECT 1 FROM jobs j JOIN runs r ON r.run_id = j.run_id JOIN models m ON "
			"m.version_id = r.model_version_id WHERE j.node = ? AND m.onnx_sha256 = ? "
			"UNION ALL SELECT 1 FROM jobs j JOIN run_models x ON x.run_id = j.run_id "
			"JOIN models m ON m.version_id = x.model_version_id WHERE j.node = ? AND "
			"m.onnx_sha256 = ? LIMIT 1",
			"tttt", r->who.name, q->sha256, r->who.name, q->sha256) == FV_OK)
		allowed = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (!allowed)
		return fv_diag_set(d, FV_EAUTH, "no job of %s uses model %.16s…", r->who.name,
				   q->sha256);
	if (model_path(r->co, q->sha256, ".onnx", path, sizeof(path)))
		return fv_diag_set(d, FV_ELIMIT, "models_dir path too long");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		e = fv_diag_set(d, FV_ENOTFOUND, "model bytes %.16s… not in the store", q->sha256);
		goto out;
	}
	body.size = (uint64_t)sb.st_size;
	body.count = fv_chunk_count(body.size);
	if (q->index >= body.count) {
		e = fv_diag_set(d, FV_EINVAL, "chunk %u out of range (model has %u)", q->index,
				body.count);
		goto out;
	}
	raw_len = q->index + 1 == body.count ? body.size - (uint64_t)q->index * FV_MODEL_CHUNK_RAW
					     : FV_MODEL_CHUNK_RAW;
	raw = fv_alloc(raw_len);
	frame = fv_alloc(FV_MODEL_CHUNK_MAX);
	if (!raw || !frame) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (pread(fd, raw, raw_len, (off_t)q->index * FV_MODEL_CHUNK_RAW) != (ssize_t)raw_len) {
		e = fv_diag_set(d, FV_EIO, "cannot read model bytes");
		goto out;
	}
	if ((e = fv_chunk_compress(raw, raw_len, frame, &frame_len)) != FV_OK) {
		e = fv_diag_set(d, e, "cannot compress chunk");
		goto out;
	}
	body.sha256 = q->sha256;
	body.index = q->index;
	body.chunk_raw = FV_MODEL_CHUNK_RAW;
	body.data.data = frame;
	body.data.len = frame_len;
	rep.body_case = FEDVAL__ENVELOPE__BODY_CHUNK;
	rep.chunk = &body;
	e = seal(r, &rep);
out:
	if (fd >= 0)
		close(fd);
	fv_free(raw);
	fv_free(frame);
	return e;
}

/* What the coordinator checks of a result before storing it: who, which job, and that the
 * numbers are shaped like sufficient statistics (the node's gate is the real disclosure
 * control; DESIGN.md §9). */
static fv_err result_check(struct req *r, const Fedval__SiteResult *res, const char *job_node,
			   struct fv_diag *d)
{
	if (strcmp(res->node, r->who.name) != 0 || strcmp(job_node, r->who.name) != 0)
		return fv_diag_set(d, FV_EAUTH, "result for job %s is not %s's to submit",
				   res->job_id, r->who.name);
	if (res->status > 1)
		return fv_diag_set(d, FV_EINVAL, "unknown result status %u", res->status);
	if (res->n_counts > FV_MAX_THRESHOLDS)
		return fv_diag_set(d, FV_ELIMIT, "more than %d thresholds", FV_MAX_THRESHOLDS);
	for (size_t i = 0; i < res->n_counts; i++) {
		const Fedval__ThresholdCounts *c = res->counts[i];
		if (c->tp + c->fn != res->n_pos || c->fp + c->tn != res->n - res->n_pos) {
			if (!(c->has_suppressed && c->suppressed))
				return fv_diag_set(d, FV_EINVAL,
						   "counts at threshold %g do not add up to n",
						   c->threshold);
		}
	}
	return FV_OK;
}

static fv_err handle_submit_result(struct req *r, struct fv_diag *d)
{
	Fedval__SubmitResult *q = r->env->submit_result;
	struct fv_pb *pb = NULL;
	Fedval__SiteResult *res;
	sqlite3_stmt *st = NULL;
	char *job_node = NULL;
	fv_err e;

	if (fv_verify(r->who.pub, r->who.pub_len, q->result.data, q->result.len, q->signature.data,
		      q->signature.len) != FV_OK)
		return fv_diag_set(d, FV_EAUTH, "result signature does not verify with %s's key",
				   r->who.name);
	if ((e = fv_pb_unpack(&fedval__site_result__descriptor, q->result.data, q->result.len,
			      FV_MAX_UNPACK_ALLOC, &pb, d)) != FV_OK)
		return e;
	res = (Fedval__SiteResult *)pb->msg;
	store_lock(r->co->store);
	char job_state[16] = "", job_run[FV_MAX_ID + 1] = "", run_kind[16] = "";
	e = store_query(r->co->store, &st,
			"SELECT j.node, j.state, j.run_id, r.kind FROM jobs j JOIN runs r ON "
			"r.run_id = j.run_id WHERE j.job_id = ?",
			"t", res->job_id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		job_node = fv_strdup((const char *)sqlite3_column_text(st, 0));
		fv_strlcpy(job_state, (const char *)sqlite3_column_text(st, 1), sizeof(job_state));
		fv_strlcpy(job_run, (const char *)sqlite3_column_text(st, 2), sizeof(job_run));
		fv_strlcpy(run_kind, (const char *)sqlite3_column_text(st, 3), sizeof(run_kind));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!job_node) {
		e = fv_diag_set(d, FV_ENOTFOUND, "no job %s", res->job_id);
		goto out;
	}
	/* A result belongs to an evaluation run's open job, for that run. (A stored result
	 * again is answered below, whatever the state.) */
	if (strcmp(run_kind, "evaluation") != 0 || strcmp(res->run_id, job_run) != 0) {
		e = fv_diag_set(d, FV_EINVAL, "job %s takes no result of this kind or run",
				res->job_id);
		goto out;
	}
	if ((e = result_check(r, res, job_node, d)) != FV_OK)
		goto out;
	/* Idempotent: the same job's result again returns the stored outcome. */
	e = store_query(r->co->store, &st, "SELECT result FROM results WHERE job_id = ?", "t",
			res->job_id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		bool same = (size_t)sqlite3_column_bytes(st, 0) == q->result.len &&
			    !memcmp(sqlite3_column_blob(st, 0), q->result.data, q->result.len);
		sqlite3_finalize(st);
		st = NULL;
		e = same ? reply_ack(r, res->job_id, "duplicate")
			 : fv_diag_set(d, FV_EEXIST, "job %s already has a different result",
				       res->job_id);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (strcmp(job_state, "queued") != 0 && strcmp(job_state, "dispatched") != 0 &&
	    strcmp(job_state, "held") != 0) {
		e = fv_diag_set(d, FV_ESTATE, "job %s is %s: it takes no result", res->job_id,
				job_state);
		goto out;
	}
	if ((e = store_begin(r->co->store)) != FV_OK)
		goto out;
	e = store_exec(r->co->store, NULL,
		       "INSERT INTO results(job_id, node, result, signature, received_us) "
		       "VALUES(?, ?, ?, ?, ?)",
		       "ttbbi", res->job_id, r->who.name, q->result.data, q->result.len,
		       q->signature.data, q->signature.len, fv_now_us());
	if (e == FV_OK)
		e = store_exec(
		    r->co->store, NULL,
		    "UPDATE jobs SET state = ?, reason = ?, updated_us = ? WHERE job_id = ?",
		    "ttit", res->status == 0 ? "done" : "failed", res->reason ? res->reason : "",
		    fv_now_us(), res->job_id);
	if (e == FV_OK)
		e = store_commit(r->co->store);
	if (e != FV_OK) {
		store_rollback(r->co->store);
		e = fv_diag_set(d, e, "cannot store result");
		goto out;
	}
	fv_log(FV_LOG_INFO, "result_stored", "job=%s node=%s status=%s", res->job_id, r->who.name,
	       res->status == 0 ? "ok" : "failed");
	e = reply_ack(r, res->job_id, "accepted");
out:
	store_unlock(r->co->store);
	fv_free(job_node);
	fv_pb_free(pb);
	return e;
}

static fv_err handle_results(struct req *r, struct fv_diag *d)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__ResultsReply body = FEDVAL__RESULTS_REPLY__INIT;
	Fedval__RunInfo ri = FEDVAL__RUN_INFO__INIT;
	Fedval__ModelRef mref = FEDVAL__MODEL_REF__INIT;
	char *bname, *bver, *spec, bref[2 * FV_MAX_TEXT];
	Fedval__StoredResult **arr = NULL;
	sqlite3_stmt *st = NULL;
	fv_err e;

	store_lock(r->co->store);
	e = run_info_load(r, r->env->results->run_id, &ri);
	if (e == FV_ENOTFOUND)
		e = fv_diag_set(d, e, "no run %s", r->env->results->run_id);
	if (e == FV_OK)
		e = model_ref_load(r, ri.model_version_id, &mref, d);
	if (e == FV_OK)
		fv_strlcpy(bref, ri.benchmark, sizeof(bref));
	if (e == FV_OK)
		e = benchmark_find(r, bref, &bname, &bver, &spec, d);
	if (e == FV_OK)
		e = store_query(
		    r->co->store, &st,
		    "SELECT s.node, s.result, s.signature, p.cert_pem, s.received_us FROM "
		    "results s JOIN jobs j ON j.job_id = s.job_id JOIN principals p ON "
		    "p.name = s.node WHERE j.run_id = ? ORDER BY s.node",
		    "t", ri.run_id);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		Fedval__StoredResult *sr = keep(r, fv_alloc(sizeof(*sr)));
		Fedval__StoredResult **na = fv_realloc(arr, (body.n_results + 1) * sizeof(*na));
		if (!na) {
			e = FV_ENOMEM;
			break;
		}
		arr = na;
		if (!sr) {
			e = FV_ENOMEM;
			break;
		}
		fedval__stored_result__init(sr);
		sr->node = keep_str(r, sqlite3_column_text(st, 0));
		sr->result.len = (size_t)sqlite3_column_bytes(st, 1);
		sr->result.data = keep_mem(r, sqlite3_column_blob(st, 1), sr->result.len);
		sr->signature.len = (size_t)sqlite3_column_bytes(st, 2);
		sr->signature.data = keep_mem(r, sqlite3_column_blob(st, 2), sr->signature.len);
		sr->node_cert_pem = keep_str(r, sqlite3_column_text(st, 3));
		sr->has_received_us = 1;
		sr->received_us = sqlite3_column_int64(st, 4);
		arr[body.n_results++] = sr;
	}
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (e != FV_OK) {
		fv_free(arr);
		return d->msg[0] ? e : fv_diag_set(d, e, "cannot read results");
	}
	if ((e = compare_refs_load(r, ri.run_id, &body.compare_models, &body.n_compare_models,
				   d)) != FV_OK) {
		fv_free(arr);
		return e;
	}
	body.run = &ri;
	body.benchmark_json = spec;
	body.model = &mref;
	body.results = arr;
	rep.body_case = FEDVAL__ENVELOPE__BODY_RESULTS_REPLY;
	rep.results_reply = &body;
	e = seal(r, &rep);
	fv_free(arr);
	return e;
}

/* A site's sums for one round of a multi-round fit. When every site of the run has sent the
 * round, the coordinator takes a Newton step: the next round, or the final estimate. */
static fv_err round_advance(struct req *r, const char *run_id, struct fv_diag *d)
{
	struct store *s = r->co->store;
	sqlite3_stmt *st = NULL;
	struct fv_newton nw;
	struct fv_newton_site sum = {0}, one;
	unsigned stepno = 0;
	const char *status = NULL;
	int64_t pending = 0, failed = 0;
	char *state = NULL, *txt = NULL;
	fv_err e;

	e = store_query(s, &st,
			"SELECT sum(state IN ('queued', 'dispatched', 'held')), sum(state = "
			"'failed' OR state = 'vetoed') FROM jobs WHERE run_id = ?",
			"t", run_id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		pending = sqlite3_column_int64(st, 0);
		failed = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (e != FV_OK || pending > 0)
		return e;
	e = store_query(s, &st, "SELECT round_state FROM runs WHERE run_id = ?", "t", run_id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW)
		state = keep_str(r, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (e != FV_OK || !state || round_state_load(state, &nw, &stepno, &status) != FV_OK)
		return fv_diag_set(d, FV_EDB, "run %s has no round state", run_id);
	if (failed) {
		/* The sum must cover the same sites every round: a site lost stops the fit. */
		txt = round_state_dump(&nw, stepno, "failed");
		e = store_exec(s, NULL,
			       "UPDATE jobs SET state = 'failed', reason = coalesce(reason, 'fit "
			       "stopped: another site failed') WHERE run_id = ? AND state = "
			       "'round_done'",
			       "t", run_id);
		goto save;
	}
	sum.k = nw.k;
	e = store_query(s, &st, "SELECT sums_json FROM round_results WHERE run_id = ? AND step = ?",
			"ti", run_id, (int64_t)stepno);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		json_t *j = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		memset(&one, 0, sizeof(one));
		one.k = nw.k;
		one.n = (uint64_t)json_integer_value(json_object_get(j, "n"));
		dget(json_object_get(j, "g"), one.g, nw.k);
		dget(json_object_get(j, "h"), one.h, nw.k * nw.k);
		one.ll = json_number_value(json_object_get(j, "ll"));
		json_decref(j);
		fv_stats_newton_site_add(&sum, &one);
	}
	sqlite3_finalize(st);
	if (e != FV_OK)
		return e;
	if ((e = fv_stats_newton_update(&nw, &sum, d)) != FV_OK) {
		txt = round_state_dump(&nw, stepno, "failed");
		store_exec(
		    s, NULL,
		    "UPDATE jobs SET state = 'failed', reason = 'fit did not converge' WHERE "
		    "run_id = ?",
		    "t", run_id);
		e = FV_OK;
		goto save;
	}
	if (nw.converged) {
		txt = round_state_dump(&nw, stepno, "converged");
		e = store_exec(
		    s, NULL,
		    "UPDATE jobs SET state = 'done', reason = NULL, updated_us = ? WHERE "
		    "run_id = ?",
		    "it", fv_now_us(), run_id);
		fv_log(FV_LOG_INFO, "fit_converged", "run=%s rounds=%u a=%.6f b=%.6f", run_id,
		       stepno + 1, nw.beta[0], nw.beta[1]);
	} else {
		txt = round_state_dump(&nw, stepno + 1, "running");
		e = store_exec(s, NULL,
			       "UPDATE jobs SET state = 'queued', updated_us = ? WHERE run_id = ?",
			       "it", fv_now_us(), run_id);
		fv_log(FV_LOG_INFO, "fit_round", "run=%s next_step=%u", run_id, stepno + 1);
	}
save:
	if (e == FV_OK)
		e = txt ? store_exec(s, NULL, "UPDATE runs SET round_state = ? WHERE run_id = ?",
				     "tt", txt, run_id)
			: FV_ENOMEM;
	free(txt);
	return e;
}

static fv_err handle_submit_round(struct req *r, struct fv_diag *d)
{
	Fedval__RoundResult *q = r->env->submit_round;
	struct store *s = r->co->store;
	sqlite3_stmt *st = NULL;
	char *node = NULL, *run = NULL, *rstate = NULL, *jstate = NULL;
	struct fv_newton nw;
	unsigned stepno = 0;
	const char *status = NULL;
	fv_err e;

	store_lock(s);
	e = store_query(
	    s, &st,
	    "SELECT j.node, j.run_id, r.round_state, j.state FROM jobs j JOIN runs r ON "
	    "r.run_id = j.run_id WHERE j.job_id = ? AND r.kind = 'recalibration'",
	    "t", q->job_id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		node = keep_str(r, sqlite3_column_text(st, 0));
		run = keep_str(r, sqlite3_column_text(st, 1));
		rstate = keep_str(r, sqlite3_column_text(st, 2));
		jstate = keep_str(r, sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	if (e == FV_OK && !node)
		e = fv_diag_set(d, FV_ENOTFOUND, "no round job %.80s", q->job_id);
	else if (e == FV_OK && strcmp(node, r->who.name) != 0)
		e = fv_diag_set(d, FV_EAUTH, "job %.80s is not %s's", q->job_id, r->who.name);
	else if (e == FV_OK && round_state_load(rstate, &nw, &stepno, &status) != FV_OK)
		e = fv_diag_set(d, FV_EDB, "run has no round state");
	if (e != FV_OK)
		goto unlock;
	if (q->step != stepno || strcmp(status, "running") != 0 ||
	    strcmp(jstate, "round_done") == 0) {
		/* A retry of a round already counted (or of an old one): nothing to do. */
		store_unlock(s);
		return reply_ack(r, q->job_id, "duplicate");
	}
	if (q->status == 0 && (!q->has_n || !q->has_ll || q->n_g != nw.k || q->n_h != nw.k * nw.k ||
			       !isfinite(q->ll)))
		e = fv_diag_set(d, FV_EINVAL,
				"round result needs n, ll, %zu gradient and %zu "
				"Hessian values",
				nw.k, nw.k * nw.k);
	for (size_t i = 0; e == FV_OK && i < q->n_g; i++)
		if (!isfinite(q->g[i]))
			e = fv_diag_set(d, FV_EINVAL, "gradient not finite");
	for (size_t i = 0; e == FV_OK && i < q->n_h; i++)
		if (!isfinite(q->h[i]))
			e = fv_diag_set(d, FV_EINVAL, "Hessian not finite");
	if (e != FV_OK || (e = store_begin(s)) != FV_OK)
		goto unlock;
	if (q->status != 0) {
		char why[FV_MAX_TEXT + 1];
		fv_strlcpy(why, q->reason ? q->reason : "failed", sizeof(why));
		e = store_exec(s, NULL,
			       "UPDATE jobs SET state = 'failed', reason = ?, updated_us = ? WHERE "
			       "job_id = ?",
			       "tit", why, fv_now_us(), q->job_id);
	} else {
		json_t *sj = json_pack("{s:I,s:o,s:o,s:f}", "n", (json_int_t)q->n, "g",
				       darr(q->g, q->n_g), "h", darr(q->h, q->n_h), "ll", q->ll);
		char *sums = json_dumps(sj, JSON_COMPACT | JSON_REAL_PRECISION(17));
		json_decref(sj);
		e = sums ? store_exec(s, NULL,
				      "INSERT INTO round_results(run_id, step, node, n, sums_json, "
				      "envelope, received_us) VALUES(?, ?, ?, ?, ?, ?, ?)",
				      "tititbi", run, (int64_t)stepno, node, (int64_t)q->n, sums,
				      r->raw, r->raw_len, fv_now_us())
			 : FV_ENOMEM;
		free(sums);
		if (e == FV_OK)
			e = store_exec(s, NULL,
				       "UPDATE jobs SET state = 'round_done', updated_us = ? WHERE "
				       "job_id = ?",
				       "it", fv_now_us(), q->job_id);
	}
	if (e == FV_OK)
		e = round_advance(r, run, d);
	if (e == FV_OK)
		e = store_commit(s);
	else
		store_rollback(s);
unlock:
	store_unlock(s);
	if (e != FV_OK)
		return d->msg[0] ? e : fv_diag_set(d, e, "cannot store round result");
	return reply_ack(r, q->job_id, "accepted");
}

/* Publication: every job finished (with manual approval, "done" is a released result). */
static fv_err handle_publish_run(struct req *r, struct fv_diag *d)
{
	const char *run = r->env->publish_run->run_id;
	struct store *s = r->co->store;
	sqlite3_stmt *st = NULL;
	int64_t jobs = -1, open = 0;
	int changed = 0;
	fv_err e;

	store_lock(s);
	e = store_query(s, &st,
			"SELECT count(*), sum(state NOT IN ('done', 'failed', 'vetoed')) FROM jobs "
			"WHERE run_id = ?",
			"t", run);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		jobs = sqlite3_column_int64(st, 0);
		open = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (e == FV_OK && jobs <= 0)
		e = fv_diag_set(d, FV_ENOTFOUND, "no run %.80s", run);
	else if (e == FV_OK && open > 0)
		e = fv_diag_set(
		    d, FV_ESTATE,
		    "run %.80s has %lld site(s) whose part is not in yet (held, dispatched "
		    "or queued): publish when every site has released or declined",
		    run, (long long)open);
	if (e == FV_OK)
		e = store_exec(
		    s, &changed,
		    "UPDATE runs SET published_us = ? WHERE run_id = ? AND published_us IS "
		    "NULL",
		    "it", fv_now_us(), run);
	store_unlock(s);
	if (e != FV_OK)
		return e;
	fv_log(FV_LOG_INFO, "run_published", "run=%s by=%s", run, r->who.name);
	return reply_ack(r, run, changed ? "published" : "already published");
}

/* ---- datasets and benchmark lifecycle ---- */

/* "model_acceptance": "required": runs of this benchmark take accepted model versions only. */
static bool spec_requires_acceptance(const char *spec)
{
	json_t *j = json_loads(spec, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "model_acceptance"));
	bool req = v && !strcmp(v, "required");
	json_decref(j);
	return req;
}

/* FV_OK when the authority accepted the model version; FV_EREFUSED naming its state. */
static fv_err model_accepted(struct req *r, const char *vid, struct fv_diag *d)
{
	sqlite3_stmt *st = NULL;
	char state[16] = "", why[FV_MAX_TEXT + 1] = "";
	fv_err e;

	store_lock(r->co->store);
	e = store_query(r->co->store, &st,
			"SELECT acceptance, coalesce(acceptance_reason, '') FROM models WHERE "
			"version_id = ?",
			"t", vid);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		fv_strlcpy(state, (const char *)sqlite3_column_text(st, 0), sizeof(state));
		fv_strlcpy(why, (const char *)sqlite3_column_text(st, 1), sizeof(why));
	}
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot read the model's review");
	if (!strcmp(state, "accepted"))
		return FV_OK;
	return fv_diag_set(d, FV_EREFUSED,
			   "model %.16s… is %s, not accepted by the authority%s%.200s (the "
			   "benchmark requires model_acceptance)",
			   vid, state[0] ? state : "unknown", why[0] ? ": " : "", why);
}

static bool spec_requires_approval(const char *spec)
{
	json_t *j = json_loads(spec, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "dataset_approval"));
	bool req = v && !strcmp(v, "required");
	json_decref(j);
	return req;
}

static fv_err benchmark_is_open(struct req *r, const char *name, const char *version,
				struct fv_diag *d)
{
	sqlite3_stmt *st = NULL;
	fv_err e;
	store_lock(r->co->store);
	e = store_query(r->co->store, &st,
			"SELECT state FROM benchmarks WHERE name = ? AND version = ?", "tt", name,
			version);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "open") != 0)
		e = fv_diag_set(d, FV_ESTATE,
				"benchmark %s@%s is %s: runs start only on open "
				"benchmarks",
				name, version, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	return e;
}

static fv_err handle_register_dataset(struct req *r, struct fv_diag *d)
{
	Fedval__DatasetRegistration *q = r->env->register_dataset;
	fv_err e;

	if (!fv_name_valid(q->name))
		return fv_diag_set(d, FV_EINVAL, "dataset name may hold only [A-Za-z0-9._-]");
	if ((q->description && strlen(q->description) > FV_MAX_TEXT) ||
	    (q->period && strlen(q->period) > FV_MAX_NAME) ||
	    (q->source_kind && strlen(q->source_kind) > FV_MAX_NAME) ||
	    (q->summary_json && strlen(q->summary_json) > FV_MAX_JSON))
		return fv_diag_set(d, FV_ELIMIT, "dataset registration field too long");
	if (q->summary_json) {
		/* The summary must be what its fingerprint says. */
		json_t *j = json_loads(q->summary_json, 0, NULL);
		char fp[FV_SHA256_HEX];
		struct fv_diag fd = {{0}};
		bool ok = j && fv_data_summary_fingerprint(j, fp, &fd) == FV_OK && q->fingerprint &&
			  !strcmp(fp, q->fingerprint);
		json_decref(j);
		if (!ok)
			return fv_diag_set(d, FV_EINVAL,
					   "dataset summary does not match its "
					   "fingerprint");
	}
	e = store_exec(
	    r->co->store, NULL,
	    "INSERT INTO datasets(node, name, description, period, source_kind, records, "
	    "summary_json, fingerprint, registered_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT(node, name) DO UPDATE SET description = excluded.description, "
	    "period = excluded.period, source_kind = excluded.source_kind, records = "
	    "excluded.records, summary_json = excluded.summary_json, fingerprint = "
	    "excluded.fingerprint, registered_us = excluded.registered_us",
	    "tttttitti", r->who.name, q->name, q->description ? q->description : "",
	    q->period ? q->period : "", q->source_kind ? q->source_kind : "", (int64_t)q->records,
	    q->summary_json ? q->summary_json : "", q->fingerprint ? q->fingerprint : "",
	    fv_now_us());
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot store dataset");
	fv_log(FV_LOG_INFO, "dataset_registered", "node=%s dataset=%s records=%llu", r->who.name,
	       q->name, (unsigned long long)q->records);
	return reply_ack(r, q->name, "registered");
}

static fv_err handle_approve_dataset(struct req *r, struct fv_diag *d)
{
	Fedval__DatasetApproval *q = r->env->approve_dataset;
	sqlite3_stmt *st = NULL;
	bool found = false;
	fv_err e;

	store_lock(r->co->store);
	if (store_query(r->co->store, &st, "SELECT 1 FROM datasets WHERE node = ? AND name = ?",
			"tt", q->node, q->dataset) == FV_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (!found)
		return fv_diag_set(d, FV_ENOTFOUND, "site %.64s has registered no dataset %.64s",
				   q->node, q->dataset);
	if (q->reason && strlen(q->reason) > FV_MAX_TEXT)
		return fv_diag_set(d, FV_ELIMIT, "reason too long");
	e = store_exec(
	    r->co->store, NULL,
	    "INSERT INTO dataset_approvals(benchmark_name, node, dataset, approved, reason, "
	    "by, at_us) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(benchmark_name, node) DO "
	    "UPDATE SET dataset = excluded.dataset, approved = excluded.approved, reason = "
	    "excluded.reason, by = excluded.by, at_us = excluded.at_us",
	    "tttitti", q->benchmark, q->node, q->dataset, (int64_t)(q->approve ? 1 : 0),
	    q->reason ? q->reason : "", r->who.name, fv_now_us());
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot store approval");
	fv_log(FV_LOG_INFO, "dataset_approval", "benchmark=%s node=%s dataset=%s approved=%d",
	       q->benchmark, q->node, q->dataset, q->approve ? 1 : 0);
	return reply_ack(r, q->dataset, q->approve ? "approved" : "withdrawn");
}

/* The authority's review of a submitted model version: accepted or rejected, with a reason;
 * a later review replaces an earlier one (a rejected version may be accepted after the
 * vendor's clarification, and the reverse). */
static fv_err handle_review_model(struct req *r, struct fv_diag *d)
{
	Fedval__ModelReview *q = r->env->review_model;
	int changed = 0;
	fv_err e;

	if (q->reason && strlen(q->reason) > FV_MAX_TEXT)
		return fv_diag_set(d, FV_ELIMIT, "reason too long");
	if (!q->accept && (!q->reason || !*q->reason))
		return fv_diag_set(d, FV_EINVAL, "a rejection needs a reason");
	e = store_exec(
	    r->co->store, &changed,
	    "UPDATE models SET acceptance = ?, acceptance_reason = ?, acceptance_by = ?, "
	    "acceptance_us = ? WHERE version_id = ?",
	    "tttit", q->accept ? "accepted" : "rejected", q->reason ? q->reason : "", r->who.name,
	    fv_now_us(), q->version_id);
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot store the review");
	if (!changed)
		return fv_diag_set(d, FV_ENOTFOUND, "no model version %.80s", q->version_id);
	fv_log(FV_LOG_INFO, "model_review", "version=%s decision=%s", q->version_id,
	       q->accept ? "accepted" : "rejected");
	return reply_ack(r, q->version_id, q->accept ? "accepted" : "rejected");
}

static fv_err handle_set_benchmark_state(struct req *r, struct fv_diag *d)
{
	Fedval__BenchmarkState *q = r->env->set_benchmark_state;
	char *name, *version, *spec;
	int changed = 0;
	fv_err e;

	if (strcmp(q->state, "open") != 0 && strcmp(q->state, "closed") != 0)
		return fv_diag_set(d, FV_EINVAL, "state must be open or closed");
	if ((e = benchmark_find(r, q->benchmark, &name, &version, &spec, d)) != FV_OK)
		return e;
	/* Forward only: draft -> open -> closed (or draft -> closed). */
	e = store_exec(r->co->store, &changed,
		       "UPDATE benchmarks SET state = ? WHERE name = ? AND version = ? AND "
		       "(state = 'draft' OR (state = 'open' AND ? = 'closed'))",
		       "tttt", q->state, name, version, q->state);
	if (e == FV_OK && changed == 0)
		e = fv_diag_set(d, FV_ESTATE,
				"benchmark %s@%s cannot become %s (draft -> open -> "
				"closed only)",
				name, version, q->state);
	if (e != FV_OK)
		return e;
	fv_log(FV_LOG_INFO, "benchmark_state", "benchmark=%s@%s state=%s", name, version, q->state);
	return reply_ack(r, q->benchmark, q->state);
}

static fv_err handle_datasets(struct req *r, struct fv_diag *d)
{
	Fedval__DatasetsRequest *q = r->env->datasets;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__DatasetsReply body = FEDVAL__DATASETS_REPLY__INIT;
	Fedval__DatasetInfo **arr = NULL;
	sqlite3_stmt *st = NULL;
	fv_err e;

	store_lock(r->co->store);
	e = store_query(
	    r->co->store, &st,
	    "SELECT d.node, d.name, d.description, d.period, d.source_kind, d.records, "
	    "d.fingerprint, d.registered_us, CASE WHEN a.approved = 1 THEN 'approved' "
	    "WHEN a.approved = 0 THEN 'withdrawn' ELSE '' END, d.summary_json FROM "
	    "datasets d LEFT JOIN dataset_approvals a ON a.node = d.node AND a.dataset = "
	    "d.name AND a.benchmark_name = ? ORDER BY d.node, d.name",
	    "t", q->benchmark ? q->benchmark : "");
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		Fedval__DatasetInfo **na = fv_realloc(arr, (body.n_datasets + 1) * sizeof(*na));
		if (!na) {
			e = FV_ENOMEM;
			break;
		}
		arr = na;
		Fedval__DatasetInfo *di = keep(r, fv_alloc(sizeof(*di)));
		if (!di) {
			e = FV_ENOMEM;
			break;
		}
		fedval__dataset_info__init(di);
		di->node = keep_str(r, sqlite3_column_text(st, 0));
		di->name = keep_str(r, sqlite3_column_text(st, 1));
		di->description = keep_str(r, sqlite3_column_text(st, 2));
		di->period = keep_str(r, sqlite3_column_text(st, 3));
		di->source_kind = keep_str(r, sqlite3_column_text(st, 4));
		di->has_records = 1;
		di->records = (uint64_t)sqlite3_column_int64(st, 5);
		di->fingerprint = keep_str(r, sqlite3_column_text(st, 6));
		di->has_registered_us = 1;
		di->registered_us = sqlite3_column_int64(st, 7);
		di->approval = keep_str(r, sqlite3_column_text(st, 8));
		di->summary_json = keep_str(r, sqlite3_column_text(st, 9));
		arr[body.n_datasets++] = di;
	}
	sqlite3_finalize(st);
	store_unlock(r->co->store);
	if (e != FV_OK) {
		fv_free(arr);
		return fv_diag_set(d, e, "cannot read datasets");
	}
	body.datasets = arr;
	rep.body_case = FEDVAL__ENVELOPE__BODY_DATASETS_REPLY;
	rep.datasets_reply = &body;
	e = seal(r, &rep);
	fv_free(arr);
	return e;
}

/* A site holds a job for its manual approval or vetoes it. The signed request is kept. */
static fv_err handle_job_decision(struct req *r, struct fv_diag *d)
{
	Fedval__JobDecision *q = r->env->job_decision;
	struct store *s = r->co->store;
	const char *reason = q->reason ? q->reason : "";
	int changed = 0;
	fv_err e;

	if (strcmp(q->decision, "held") != 0 && strcmp(q->decision, "vetoed") != 0)
		return fv_diag_set(d, FV_EINVAL, "decision '%.20s' is not held or vetoed",
				   q->decision);
	if (strlen(reason) > FV_MAX_TEXT)
		return fv_diag_set(d, FV_ELIMIT, "reason longer than %d characters", FV_MAX_TEXT);
	store_lock(s);
	if ((e = store_begin(s)) != FV_OK)
		goto unlock;
	e = store_exec(s, &changed,
		       "UPDATE jobs SET state = ?, reason = ?, updated_us = ? WHERE job_id = ? AND "
		       "node = ? AND state IN ('queued', 'dispatched', 'held')",
		       "ttitt", q->decision, reason, fv_now_us(), q->job_id, r->who.name);
	if (e == FV_OK && changed == 0)
		e = fv_diag_set(d, FV_ESTATE, "job %.80s is not an open job of %s", q->job_id,
				r->who.name);
	if (e == FV_OK && !strcmp(q->decision, "vetoed")) {
		/* A veto in a recalibration run: the round goes on without the site (or stops). */
		sqlite3_stmt *st = NULL;
		char *run = NULL;
		if (store_query(
			s, &st,
			"SELECT j.run_id FROM jobs j JOIN runs r ON r.run_id = j.run_id WHERE "
			"j.job_id = ? AND r.kind = 'recalibration'",
			"t", q->job_id) == FV_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			run = keep_str(r, sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (run)
			e = round_advance(r, run, d);
	}
	if (e == FV_OK)
		e = store_exec(s, NULL,
			       "INSERT INTO decisions(job_id, node, decision, reason, envelope, "
			       "received_us) VALUES(?, ?, ?, ?, ?, ?)",
			       "ttttbi", q->job_id, r->who.name, q->decision, reason, r->raw,
			       r->raw_len, fv_now_us());
	if (e == FV_OK)
		e = store_commit(s);
	else
		store_rollback(s);
unlock:
	store_unlock(s);
	if (e != FV_OK)
		return e;
	fv_log(FV_LOG_INFO, "job_decision", "job=%s node=%s decision=%s reason=%s", q->job_id,
	       r->who.name, q->decision, FV_Q(reason));
	return reply_ack(r, q->job_id, q->decision);
}

static fv_err handle_revoke(struct req *r, struct fv_diag *d)
{
	Fedval__RevokePrincipal *q = r->env->revoke;
	int changed = 0;
	fv_err e;

	if (!strcmp(q->name, r->who.name))
		return fv_diag_set(d, FV_EINVAL, "a principal cannot revoke itself");
	e = store_exec(r->co->store, &changed,
		       "UPDATE principals SET revoked = 1, revoked_reason = ? WHERE name = ?", "tt",
		       q->reason ? q->reason : "", q->name);
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot revoke");
	if (changed != 1)
		return fv_diag_set(d, FV_ENOTFOUND, "no principal '%s'", q->name);
	/* A revoked site's open jobs end now, so its runs can complete (and a recalibration
	 * round goes on without it, or stops) instead of waiting forever. */
	{
		struct store *s = r->co->store;
		sqlite3_stmt *st = NULL;
		char *runs[256];
		size_t nruns = 0;
		store_lock(s);
		if (store_query(
			s, &st,
			"SELECT DISTINCT j.run_id FROM jobs j JOIN runs r ON r.run_id = j.run_id "
			"WHERE j.node = ? AND r.kind = 'recalibration' AND j.state IN ('queued', "
			"'dispatched', 'held', 'round_done')",
			"t", q->name) == FV_OK)
			while (nruns < 256 && sqlite3_step(st) == SQLITE_ROW)
				runs[nruns++] = keep_str(r, sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (store_begin(s) == FV_OK) {
			fv_err je =
			    store_exec(s, NULL,
				       "UPDATE jobs SET state = 'failed', reason = 'site revoked', "
				       "updated_us = ? WHERE node = ? AND state IN ('queued', "
				       "'dispatched', 'held', 'round_done')",
				       "it", fv_now_us(), q->name);
			for (size_t i = 0; je == FV_OK && i < nruns; i++)
				if (runs[i])
					je = round_advance(r, runs[i], d);
			if (je == FV_OK)
				store_commit(s);
			else
				store_rollback(s);
		}
		store_unlock(s);
	}
	/* The monitoring schedules a revoked authority added end too: nothing runs in its name
	 * any more (their runs and drift state stay in the store). */
	int ended = 0;
	if (store_exec(r->co->store, &ended,
		       "UPDATE schedules SET removed_us = ? WHERE created_by = ? AND removed_us IS "
		       "NULL",
		       "it", fv_now_us(), q->name) == FV_OK &&
	    ended > 0)
		fv_log(FV_LOG_WARN, "schedule_removed", "count=%d by=%s reason=%s", ended,
		       r->who.name, FV_Q("the authority that added them was revoked"));
	fv_log(FV_LOG_WARN, "principal_revoked", "name=%s by=%s", q->name, r->who.name);
	return reply_ack(r, q->name, "revoked");
}

/* ---- dispatch ---- */

struct route {
	Fedval__Envelope__BodyCase body;
	unsigned roles; /* bit (1 << fv_role) for each role allowed */
	fv_err (*fn)(struct req *r, struct fv_diag *d);
};

#define R(x) (1u << (x))
static const struct route routes[] = {
    {FEDVAL__ENVELOPE__BODY_POLL, R(FV_ROLE_NODE), handle_poll},
    {FEDVAL__ENVELOPE__BODY_CHUNK_REQUEST, R(FV_ROLE_NODE), handle_chunk_request},
    {FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT, R(FV_ROLE_NODE), handle_submit_result},
    {FEDVAL__ENVELOPE__BODY_JOB_DECISION, R(FV_ROLE_NODE), handle_job_decision},
    {FEDVAL__ENVELOPE__BODY_REGISTER_DATASET, R(FV_ROLE_NODE), handle_register_dataset},
    {FEDVAL__ENVELOPE__BODY_SUBMIT_ROUND, R(FV_ROLE_NODE), handle_submit_round},
    {FEDVAL__ENVELOPE__BODY_PUBLISH_RUN, R(FV_ROLE_AUTHORITY), handle_publish_run},
    {FEDVAL__ENVELOPE__BODY_APPROVE_DATASET, R(FV_ROLE_AUTHORITY), handle_approve_dataset},
    {FEDVAL__ENVELOPE__BODY_REVIEW_MODEL, R(FV_ROLE_AUTHORITY), handle_review_model},
    {FEDVAL__ENVELOPE__BODY_SET_BENCHMARK_STATE, R(FV_ROLE_AUTHORITY), handle_set_benchmark_state},
    {FEDVAL__ENVELOPE__BODY_DATASETS, R(FV_ROLE_AUTHORITY), handle_datasets},
    {FEDVAL__ENVELOPE__BODY_UPLOAD_CHUNK, R(FV_ROLE_VENDOR), handle_upload_chunk},
    {FEDVAL__ENVELOPE__BODY_SUBMIT_MODEL, R(FV_ROLE_VENDOR), handle_submit_model},
    {FEDVAL__ENVELOPE__BODY_CREATE_BENCHMARK, R(FV_ROLE_AUTHORITY), handle_create_benchmark},
    {FEDVAL__ENVELOPE__BODY_START_RUN, R(FV_ROLE_AUTHORITY), handle_start_run},
    {FEDVAL__ENVELOPE__BODY_RUN_STATUS, R(FV_ROLE_AUTHORITY), handle_run_status},
    {FEDVAL__ENVELOPE__BODY_RESULTS, R(FV_ROLE_AUTHORITY), handle_results},
    {FEDVAL__ENVELOPE__BODY_REVOKE, R(FV_ROLE_AUTHORITY), handle_revoke},
    /* monitoring schedules: coordinator/schedule.c */
    {FEDVAL__ENVELOPE__BODY_SCHEDULE_ADD, R(FV_ROLE_AUTHORITY), schedule_handle_add},
    {FEDVAL__ENVELOPE__BODY_SCHEDULE_REMOVE, R(FV_ROLE_AUTHORITY), schedule_handle_remove},
    {FEDVAL__ENVELOPE__BODY_SCHEDULE_LIST, R(FV_ROLE_AUTHORITY), schedule_handle_list},
};

/* Who the sender is: registered, not revoked, signature good, sequence fresh. */
static fv_err authenticate(struct req *r, struct fv_diag *d)
{
	const char *name = r->env->principal;
	fv_err e = principal_load(r->co, name, &r->who);

	if (e == FV_ENOTFOUND)
		return fv_diag_set(d, FV_EAUTH, "unknown principal '%s': enrol first", name);
	if (e != FV_OK)
		return fv_diag_set(d, e, "registry lookup failed");
	if (r->who.revoked)
		return fv_diag_set(d, FV_EAUTH, "principal '%s' is revoked", name);
	if (fv_wire_verify(r->env, r->who.pub, r->who.pub_len) != FV_OK)
		return fv_diag_set(d, FV_EAUTH, "bad signature for principal '%s'", name);
	if (advance_seq(r->co, name, r->env->seq) != FV_OK)
		return fv_diag_set(d, FV_EAUTH,
				   "replayed or reordered sequence number %llu from '%s'",
				   (unsigned long long)r->env->seq, name);
	return FV_OK;
}

/* Requests that change the federation's records; each is audited with the digest of the
 * exact signed request, so the entry can be matched to the request bytes later. */
static bool changes_state(Fedval__Envelope__BodyCase c)
{
	switch (c) {
	case FEDVAL__ENVELOPE__BODY_ENROL:
	case FEDVAL__ENVELOPE__BODY_SUBMIT_MODEL:
	case FEDVAL__ENVELOPE__BODY_CREATE_BENCHMARK:
	case FEDVAL__ENVELOPE__BODY_START_RUN:
	case FEDVAL__ENVELOPE__BODY_SUBMIT_RESULT:
	case FEDVAL__ENVELOPE__BODY_JOB_DECISION:
	case FEDVAL__ENVELOPE__BODY_REVOKE:
	case FEDVAL__ENVELOPE__BODY_REGISTER_DATASET:
	case FEDVAL__ENVELOPE__BODY_SUBMIT_ROUND:
	case FEDVAL__ENVELOPE__BODY_PUBLISH_RUN:
	case FEDVAL__ENVELOPE__BODY_APPROVE_DATASET:
	case FEDVAL__ENVELOPE__BODY_REVIEW_MODEL:
	case FEDVAL__ENVELOPE__BODY_SET_BENCHMARK_STATE:
	case FEDVAL__ENVELOPE__BODY_SCHEDULE_ADD:
	case FEDVAL__ENVELOPE__BODY_SCHEDULE_REMOVE:
		return true;
	default:
		return false;
	}
}

void coord_audit(struct coord *co, const char *event, const char *principal, const void *payload,
		 size_t len)
{
	struct fv_diag d = {{0}};
	if (!co->audit)
		return;
	/* The store already holds the change; a failed audit append is loud, never silent. */
	if (fv_audit_append(co->audit, event, principal && *principal ? principal : "-", payload,
			    len, NULL, NULL, &d) != FV_OK)
		fv_log(FV_LOG_ERROR, "audit_append_failed", "event=%s reason=%s", event,
		       FV_Q(d.msg));
}

void coord_handle(struct coord *co, const uint8_t *buf, size_t len, struct req *r)
{
	struct fv_pb *pb = NULL;
	struct fv_diag d = {{0}};
	const struct route *rt = NULL;
	char who[FV_MAX_NAME + 3], why[600];
	fv_err e;

	r->co = co;
	r->env = NULL;
	r->raw = buf;
	r->raw_len = len;
	r->seq = 0;
	r->park = false;
	if ((e = fv_wire_open(buf, len, &pb, &d)) != FV_OK) {
		fv_log(FV_LOG_WARN, "request_refused", "reason=%s",
		       fv_log_quote(why, sizeof(why), d.msg));
		reply_error(r, e, d.msg);
		return;
	}
	r->env = fv_wire_env(pb);
	r->seq = r->env->seq;
	fv_log_quote(who, sizeof(who), r->env->principal);
	if (r->env->body_case == FEDVAL__ENVELOPE__BODY_ENROL) {
		e = handle_enrol(r, &d);
	} else {
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			if (routes[i].body == r->env->body_case)
				rt = &routes[i];
		if (!rt)
			e = fv_diag_set(&d, FV_EUNSUPPORTED, "request type %s is not served",
					fv_wire_body_name(r->env->body_case));
		else if ((e = authenticate(r, &d)) == FV_OK && !(rt->roles & R(r->who.role)))
			e = fv_diag_set(&d, FV_EAUTH, "%s (role %s) may not send %s", r->who.name,
					fv_role_name(r->who.role), fv_wire_body_name(rt->body));
		if (e == FV_OK)
			e = rt->fn(r, &d);
	}
	if (e != FV_OK) {
		fv_log(FV_LOG_WARN, "request_refused", "principal=%s body=%s code=%s reason=%s",
		       who, fv_wire_body_name(r->env->body_case), fv_strerror(e),
		       fv_log_quote(why, sizeof(why), d.msg[0] ? d.msg : fv_strerror(e)));
		fv_free(r->out);
		r->out = NULL;
		r->park = false;
		reply_error(r, e, d.msg[0] ? d.msg : fv_strerror(e));
	} else {
		fv_log(
		    r->env->body_case == FEDVAL__ENVELOPE__BODY_POLL ? FV_LOG_DEBUG : FV_LOG_INFO,
		    "request", "principal=%s body=%s", who, fv_wire_body_name(r->env->body_case));
		if (changes_state(r->env->body_case))
			coord_audit(co, fv_wire_body_name(r->env->body_case), r->who.name, buf,
				    len);
	}
	/* The envelope is only needed to answer now; a parked poll keeps just r->who and r->seq. */
	r->env = NULL;
	fv_pb_free(pb);
}
