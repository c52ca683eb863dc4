/* fedval audit: the form of one entry, its canonical bytes and its hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static const char *const fault_names[] = {
    [FV_AUDIT_OK] = "ok",
    [FV_AUDIT_TORN] = "incomplete line",
    [FV_AUDIT_JSON] = "bad JSON",
    [FV_AUDIT_FORM] = "malformed entry",
    [FV_AUDIT_SEQ] = "seq gap",
    [FV_AUDIT_PREV] = "prev-hash mismatch",
    [FV_AUDIT_HASH] = "entry hash mismatch",
    [FV_AUDIT_EXTRACT] = "bad extract",
    [FV_AUDIT_SIGNATURE] = "bad signature",
};

const char *fv_audit_fault_name(enum fv_audit_fault f)
{
	if ((unsigned)f >= sizeof(fault_names) / sizeof(fault_names[0]))
		return "unknown";
	return fault_names[f];
}

bool fv_audit_token_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > FV_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

bool fv_audit_hex64_valid(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool fv_audit_detail_valid(const json_t *detail, char *why, size_t cap)
{
	const char *k;
	json_t *v;

	if (!json_is_object(detail)) {
		snprintf(why, cap, "detail must be a JSON object");
		return false;
	}
	if (json_object_size(detail) > FV_MAX_AUDIT_DETAIL_KEYS) {
		snprintf(why, cap, "detail has more than %d keys", FV_MAX_AUDIT_DETAIL_KEYS);
		return false;
	}
	json_object_foreach((json_t *)detail, k, v)
	{
		const char *s;
		size_t n;
		if (!fv_audit_token_valid(k)) {
			snprintf(why, cap, "detail key is not 1-64 chars of [A-Za-z0-9._:@-]");
			return false;
		}
		if (!json_is_string(v)) {
			snprintf(why, cap, "detail value of '%s' is not a string", k);
			return false;
		}
		s = json_string_value(v);
		n = json_string_length(v);
		if (n > FV_MAX_AUDIT_DETAIL_VALUE) {
			snprintf(why, cap, "detail value of '%s' is longer than %d bytes", k,
				 FV_MAX_AUDIT_DETAIL_VALUE);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				snprintf(why, cap, "detail value of '%s' holds a control character",
					 k);
				return false;
			}
		}
	}
	return true;
}

fv_err fv_audit_entry_hash(const json_t *entry, char out[FV_SHA256_HEX])
{
	json_t *copy = json_copy((json_t *)entry);
	char *canon = NULL;
	fv_err e = FV_ENOMEM;

	if (!copy)
		goto out;
	json_object_del(copy, "hash");
	if (!(canon = json_dumps(copy, FV_AUDIT_JSON_FLAGS)))
		goto out;
	fv_sha256_hex(canon, strlen(canon), out);
	e = FV_OK;
out:
	free(canon);
	json_decref(copy);
	return e;
}

/* Members an entry has, besides the optional "detail". */
static const char *const entry_keys[] = {"seq",	 "ts_us", "event", "principal", "payload_sha256",
					 "prev", "hash",  NULL};

static enum fv_audit_fault check_form(const json_t *entry, const char *raw, size_t raw_len,
				      char *why, size_t cap)
{
	const json_t *seq = json_object_get(entry, "seq"), *ts = json_object_get(entry, "ts_us");
	const json_t *detail = json_object_get(entry, "detail");
	size_t want = detail ? 8 : 7;
	const char *k;
	json_t *v;
	char *canon;
	bool same;

	json_object_foreach((json_t *)entry, k, v)
	{
		bool known = !strcmp(k, "detail");
		for (size_t i = 0; !known && entry_keys[i]; i++)
			known = !strcmp(k, entry_keys[i]);
		if (!known) {
			snprintf(why, cap, "unknown member '%.64s'", k);
			return FV_AUDIT_FORM;
		}
	}
	for (size_t i = 0; entry_keys[i]; i++) {
		if (!json_object_get(entry, entry_keys[i])) {
			snprintf(why, cap, "member '%s' is missing", entry_keys[i]);
			return FV_AUDIT_FORM;
		}
	}
	if (json_object_size(entry) != want) {
		snprintf(why, cap, "unexpected members");
		return FV_AUDIT_FORM;
	}
	if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
		snprintf(why, cap, "seq must be an integer >= 1");
		return FV_AUDIT_FORM;
	}
	if (!json_is_integer(ts) || json_integer_value(ts) < 0) {
		snprintf(why, cap, "ts_us must be an integer >= 0");
		return FV_AUDIT_FORM;
	}
	if (!fv_audit_token_valid(json_string_value(json_object_get(entry, "event")))) {
		snprintf(why, cap, "event must be 1-64 chars of [A-Za-z0-9._:@-]");
		return FV_AUDIT_FORM;
	}
	if (!fv_audit_token_valid(json_string_value(json_object_get(entry, "principal")))) {
		snprintf(why, cap, "principal must be 1-64 chars of [A-Za-z0-9._:@-]");
		return FV_AUDIT_FORM;
	}
	for (size_t i = 4; i < 7; i++) {
		if (!fv_audit_hex64_valid(
			json_string_value(json_object_get(entry, entry_keys[i])))) {
			snprintf(why, cap, "%s must be 64 lowercase hex digits", entry_keys[i]);
			return FV_AUDIT_FORM;
		}
	}
	if (detail && !fv_audit_detail_valid(detail, why, cap))
		return FV_AUDIT_FORM;
	if (!raw)
		return FV_AUDIT_OK;
	/* The stored bytes must be the canonical ones: one entry, one spelling. */
	if (!(canon = json_dumps(entry, FV_AUDIT_JSON_FLAGS))) {
		snprintf(why, cap, "out of memory");
		return FV_AUDIT_FORM;
	}
	same = strlen(canon) == raw_len && !memcmp(canon, raw, raw_len);
	free(canon);
	if (!same) {
		snprintf(why, cap, "not in canonical form (sorted keys, compact, ASCII)");
		return FV_AUDIT_FORM;
	}
	return FV_AUDIT_OK;
}

enum fv_audit_fault fv_audit_entry_check(const json_t *entry, const char *raw, size_t raw_len,
					 uint64_t want_seq, const char *want_prev,
					 char hash[FV_SHA256_HEX], char *why, size_t cap)
{
	enum fv_audit_fault f;
	uint64_t seq;
	const char *prev, *stored;
	char computed[FV_SHA256_HEX];

	if (!json_is_object(entry)) {
		snprintf(why, cap, "not a JSON object");
		return FV_AUDIT_JSON;
	}
	if ((f = check_form(entry, raw, raw_len, why, cap)) != FV_AUDIT_OK)
		return f;
	seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
	if (seq != want_seq) {
		snprintf(why, cap, "seq %llu where %llu was expected", (unsigned long long)seq,
			 (unsigned long long)want_seq);
		return FV_AUDIT_SEQ;
	}
	prev = json_string_value(json_object_get(entry, "prev"));
	if (strcmp(prev, want_prev) != 0) {
		snprintf(why, cap, "prev %.16s... but the previous entry's hash is %.16s...", prev,
			 want_prev);
		return FV_AUDIT_PREV;
	}
	if (fv_audit_entry_hash(entry, computed) != FV_OK) {
		snprintf(why, cap, "out of memory");
		return FV_AUDIT_FORM;
	}
	stored = json_string_value(json_object_get(entry, "hash"));
	if (strcmp(stored, computed) != 0) {
		snprintf(why, cap, "hash %.16s... but the entry hashes to %.16s...", stored,
			 computed);
		return FV_AUDIT_HASH;
	}
	memcpy(hash, computed, FV_SHA256_HEX);
	return FV_AUDIT_OK;
}
