/* Tests for lib/audit/entry.c: names, the form of an entry, its canonical bytes and hash.
 * The golden hash was computed outside fedval: printf '%s' "$CANON" | sha256sum (GNU
 * coreutils 9), with CANON the canonical serialization spelled out below (docs/audit.md). */
#include <criterion/criterion.h>
#include <string.h>

#include "audit/audit_int.h"
#include "fedval/limits.h"

#define ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define CANON                                                                                      \
	"{\"event\":\"node.job.approved\",\"payload_sha256\":\"" ABC_HEX                           \
	"\",\"prev\":\"" FV_AUDIT_GENESIS                                                          \
	"\",\"principal\":\"hospital-a\",\"seq\":1,\"ts_us\":1764064800000000}"
#define CANON_SHA256 "f701ff89175848677f6bb3dc7c730c2e296ed459120a81a06a60c9f0ef589b52"

static json_t *golden_entry(void)
{
	json_t *j =
	    json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "seq", (json_int_t)1, "ts_us",
		      (json_int_t)1764064800000000LL, "event", "node.job.approved", "principal",
		      "hospital-a", "payload_sha256", ABC_HEX, "prev", FV_AUDIT_GENESIS);
	cr_assert_not_null(j);
	return j;
}

Test(entry, fault_names)
{
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_OK), "ok");
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_JSON), "bad JSON");
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_SEQ), "seq gap");
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_PREV), "prev-hash mismatch");
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_HASH), "entry hash mismatch");
	cr_assert_str_eq(fv_audit_fault_name(FV_AUDIT_SIGNATURE), "bad signature");
	cr_assert_str_eq(fv_audit_fault_name((enum fv_audit_fault)99), "unknown");
}

Test(entry, tokens)
{
	char long_ok[65], too_long[66];

	memset(long_ok, 'e', 64);
	long_ok[64] = '\0';
	memset(too_long, 'e', 65);
	too_long[65] = '\0';
	cr_assert(fv_audit_token_valid("node.job.approved"));
	cr_assert(fv_audit_token_valid("cli:alice@hospital-a"));
	cr_assert(fv_audit_token_valid(long_ok));
	cr_assert_not(fv_audit_token_valid(too_long));
	cr_assert_not(fv_audit_token_valid(""));
	cr_assert_not(fv_audit_token_valid(NULL));
	cr_assert_not(fv_audit_token_valid("has space"));
	cr_assert_not(fv_audit_token_valid("quote\""));
	cr_assert_not(fv_audit_token_valid("new\nline"));
	cr_assert(fv_audit_hex64_valid(ABC_HEX));
	cr_assert_not(
	    fv_audit_hex64_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F"
				 "20015AD"));
	cr_assert_not(fv_audit_hex64_valid("ba78"));
}

Test(entry, canonical_hash_is_golden)
{
	json_t *j = golden_entry();
	char *canon = json_dumps(j, FV_AUDIT_JSON_FLAGS);
	char hash[FV_SHA256_HEX];

	cr_assert_str_eq(canon, CANON);
	cr_assert_eq(fv_audit_entry_hash(j, hash), FV_OK);
	cr_assert_str_eq(hash, CANON_SHA256);
	/* "hash" itself is not covered. */
	json_object_set_new(j, "hash", json_string(ABC_HEX));
	cr_assert_eq(fv_audit_entry_hash(j, hash), FV_OK);
	cr_assert_str_eq(hash, CANON_SHA256);
	free(canon);
	json_decref(j);
}

Test(entry, check_accepts_golden_and_names_each_fault)
{
	json_t *j = golden_entry();
	char hash[FV_SHA256_HEX], why[256];
	char *line;

	json_object_set_new(j, "hash", json_string(CANON_SHA256));
	line = json_dumps(j, FV_AUDIT_JSON_FLAGS);
	cr_assert_eq(fv_audit_entry_check(j, line, strlen(line), 1, FV_AUDIT_GENESIS, hash, why,
					  sizeof(why)),
		     FV_AUDIT_OK, "%s", why);
	cr_assert_str_eq(hash, CANON_SHA256);
	cr_assert_eq(fv_audit_entry_check(j, line, strlen(line), 2, FV_AUDIT_GENESIS, hash, why,
					  sizeof(why)),
		     FV_AUDIT_SEQ);
	cr_assert_eq(
	    fv_audit_entry_check(j, line, strlen(line), 1, ABC_HEX, hash, why, sizeof(why)),
	    FV_AUDIT_PREV);
	/* Same entry, spelled with a space: not canonical. */
	cr_assert_eq(fv_audit_entry_check(j, " ", 1, 1, FV_AUDIT_GENESIS, hash, why, sizeof(why)),
		     FV_AUDIT_FORM);
	cr_assert_not_null(strstr(why, "canonical"), "%s", why);
	json_object_set_new(j, "event", json_string("node.job.vetoed"));
	cr_assert_eq(fv_audit_entry_check(j, NULL, 0, 1, FV_AUDIT_GENESIS, hash, why, sizeof(why)),
		     FV_AUDIT_HASH);
	free(line);
	json_decref(j);
}

/* Every way an entry can be ill-formed is FV_AUDIT_FORM with a reason. */
Test(entry, form_faults)
{
	static const struct {
		const char *key;
		const char *json; /* replacement value; NULL deletes the member */
		const char *why;
	} cases[] = {
	    {"seq", NULL, "missing"},
	    {"seq", "0", "seq"},
	    {"seq", "1.0", "seq"},
	    {"seq", "\"1\"", "seq"},
	    {"ts_us", "-1", "ts_us"},
	    {"event", "\"a b\"", "event"},
	    {"event", "7", "event"},
	    {"principal", "\"\"", "principal"},
	    {"payload_sha256", "\"abc\"", "payload_sha256"},
	    {"prev", "null", "prev"},
	    {"hash", NULL, "missing"},
	    {"extra", "\"x\"", "unknown"},
	    {"detail", "[]", "object"},
	    {"detail", "{\"k\":1}", "not a string"},
	    {"detail", "{\"bad key\":\"v\"}", "key"},
	    {"detail", "{\"k\":\"line\\nbreak\"}", "control"},
	};
	char hash[FV_SHA256_HEX], why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = golden_entry();
		json_object_set_new(j, "hash", json_string(CANON_SHA256));
		if (cases[i].json)
			json_object_set_new(j, cases[i].key,
					    json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
		else
			json_object_del(j, cases[i].key);
		cr_assert_eq(
		    fv_audit_entry_check(j, NULL, 0, 1, FV_AUDIT_GENESIS, hash, why, sizeof(why)),
		    FV_AUDIT_FORM, "case %zu", i);
		cr_assert_not_null(strstr(why, cases[i].why), "case %zu: '%s' lacks '%s'", i, why,
				   cases[i].why);
		json_decref(j);
	}
}

Test(entry, detail_limits)
{
	char why[256], big[FV_MAX_AUDIT_DETAIL_VALUE + 2];
	json_t *d = json_object();

	for (int i = 0; i < FV_MAX_AUDIT_DETAIL_KEYS; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		json_object_set_new(d, k, json_string("v"));
	}
	cr_assert(fv_audit_detail_valid(d, why, sizeof(why)), "%s", why);
	json_object_set_new(d, "one_more", json_string("v"));
	cr_assert_not(fv_audit_detail_valid(d, why, sizeof(why)));
	json_decref(d);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	d = json_pack("{s:s}", "reason", big);
	cr_assert_not(fv_audit_detail_valid(d, why, sizeof(why)));
	json_decref(d);
	big[FV_MAX_AUDIT_DETAIL_VALUE] = '\0';
	d = json_pack("{s:s}", "reason", big);
	cr_assert(fv_audit_detail_valid(d, why, sizeof(why)), "%s", why);
	json_decref(d);
}
