/* Tests for lib/audit/log.c: appending, reopening, verifying, every kind of tampering
 * reported at its line with its reason, concurrent appends, crash recovery, file mode. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "helpers.h"

static char *dir;
static char *log_path;

static void setup(void)
{
	dir = t_mkdtemp();
	log_path = t_path(dir, "node.audit.jsonl");
}

static void teardown(void)
{
	free(log_path);
	log_path = NULL;
	t_rmtree(dir);
	dir = NULL;
}

TestSuite(log, .init = setup, .fini = teardown);

/* Verify log_path expecting fault at line (FV_AUDIT_OK: every link holds, `line` entries). */
static void expect(enum fv_audit_fault fault, uint64_t line)
{
	struct fv_audit_verdict v;
	struct fv_diag d = {{0}};
	fv_err e = fv_audit_verify_file(log_path, &v, &d);

	if (fault == FV_AUDIT_OK) {
		cr_assert_eq(e, FV_OK, "%s", d.msg);
		cr_assert_eq(v.fault, FV_AUDIT_OK);
		cr_assert_eq(v.entries, line);
		cr_assert_eq(v.bad_line, 0);
		return;
	}
	cr_assert_eq(e, FV_ECORRUPT, "got %s (%s)", fv_strerror(e), d.msg);
	cr_assert_eq(v.fault, fault, "fault '%s' (%s), want '%s'", fv_audit_fault_name(v.fault),
		     v.why, fv_audit_fault_name(fault));
	cr_assert_eq(v.bad_line, line, "broken at line %llu, want %llu (%s)",
		     (unsigned long long)v.bad_line, (unsigned long long)line, v.why);
	cr_assert_eq(v.entries, line - 1);
	cr_assert_eq(v.last_seq, line - 1);
	cr_assert_not_null(strstr(d.msg, fv_audit_fault_name(fault)), "%s", d.msg);
}

Test(log, append_reopen_continue_verify)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	struct fv_audit_verdict v;
	char h[FV_SHA256_HEX], head[FV_SHA256_HEX];
	uint64_t seq;

	t_make_log(log_path, 200);
	expect(FV_AUDIT_OK, 200);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	fv_audit_head(a, &seq, head);
	cr_assert_eq(seq, 200);
	for (int i = 0; i < 50; i++)
		cr_assert_eq(fv_audit_append(a, "more", "tester", "x", 1, NULL, h, &d), FV_OK, "%s",
			     d.msg);
	fv_audit_head(a, &seq, head);
	cr_assert_eq(seq, 250);
	cr_assert_str_eq(head, h);
	fv_audit_close(a);
	cr_assert_eq(fv_audit_verify_file(log_path, &v, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(v.entries, 250);
	cr_assert_eq(v.first_seq, 1);
	cr_assert_eq(v.last_seq, 250);
	cr_assert_str_eq(v.head, h);
}

Test(log, entry_records_what_was_given)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	struct t_lines l;
	char h[FV_SHA256_HEX], digest[FV_SHA256_HEX];
	json_t *j;

	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_audit_append(a, "node.job.released", "hospital-a", "abc", 3,
				     "{\"job\":\"run-7/hospital-a\",\"cells\":\"12\"}", h, &d),
		     FV_OK, "%s", d.msg);
	fv_audit_close(a);
	t_lines_read(log_path, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_not(l.last_torn);
	j = json_loads(l.line[0], 0, NULL);
	cr_assert_not_null(j);
	fv_sha256_hex("abc", 3, digest);
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 1);
	cr_assert_gt(json_integer_value(json_object_get(j, "ts_us")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "event")), "node.job.released");
	cr_assert_str_eq(json_string_value(json_object_get(j, "principal")), "hospital-a");
	cr_assert_str_eq(json_string_value(json_object_get(j, "payload_sha256")), digest);
	cr_assert_str_eq(json_string_value(json_object_get(j, "prev")), FV_AUDIT_GENESIS);
	cr_assert_str_eq(json_string_value(json_object_get(j, "hash")), h);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "detail"), "job")),
			 "run-7/hospital-a");
	json_decref(j);
	t_lines_free(&l);
}

Test(log, empty_and_new_logs_verify)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	struct fv_audit_verdict v;
	uint64_t seq;
	char head[FV_SHA256_HEX];

	cr_assert_eq(fv_audit_verify_file(log_path, &v, &d), FV_ENOTFOUND);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	fv_audit_head(a, &seq, head);
	cr_assert_eq(seq, 0);
	cr_assert_str_eq(head, FV_AUDIT_GENESIS);
	fv_audit_close(a);
	cr_assert_eq(fv_audit_verify_file(log_path, &v, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(v.entries, 0);
	cr_assert_str_eq(v.head, FV_AUDIT_GENESIS);
}

Test(log, file_mode_is_0600_whatever_the_umask)
{
	mode_t old = umask(0);

	t_make_log(log_path, 1);
	umask(old);
	cr_assert_eq(t_mode(log_path), 0600, "mode %o", t_mode(log_path));
}

Test(log, bad_arguments_append_nothing)
{
	static const struct {
		const char *event, *principal, *detail;
	} cases[] = {
	    {"", "tester", NULL},
	    {"has space", "tester", NULL},
	    {"ok", NULL, NULL},
	    {"ok", "bad\"name", NULL},
	    {"ok", "tester", "[1]"},
	    {"ok", "tester", "{\"k\":1}"},
	    {"ok", "tester", "{\"k\":\"v\""},
	    {"ok", "tester", "{\"k\":\"v\",\"k\":\"w\"}"},
	};
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	uint64_t seq;

	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d.msg[0] = '\0';
		cr_assert_eq(fv_audit_append(a, cases[i].event, cases[i].principal, "", 0,
					     cases[i].detail, NULL, &d),
			     FV_EINVAL, "case %zu", i);
		cr_assert_neq(d.msg[0], '\0', "case %zu has no message", i);
	}
	cr_assert_eq(fv_audit_append_digest(a, "ok", "tester", "ABC", NULL, NULL, &d), FV_EINVAL);
	fv_audit_head(a, &seq, NULL);
	cr_assert_eq(seq, 0);
	fv_audit_close(a);
	expect(FV_AUDIT_OK, 0);
}

Test(log, entry_longer_than_the_limit_is_refused)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	json_t *detail = json_object();
	char val[FV_MAX_AUDIT_DETAIL_VALUE + 1], *s;

	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (int i = 0; i < FV_MAX_AUDIT_DETAIL_KEYS; i++) {
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		json_object_set_new(detail, k, json_string(val));
	}
	s = json_dumps(detail, 0);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_audit_append(a, "big", "tester", "", 0, s, NULL, &d), FV_ELIMIT);
	cr_assert_eq(fv_audit_append(a, "small", "tester", "", 0, NULL, NULL, &d), FV_OK);
	fv_audit_close(a);
	expect(FV_AUDIT_OK, 1);
	free(s);
	json_decref(detail);
}

/* ---- tampering: each reported at the right line with the right reason ---- */

Test(log, tamper_event_byte)
{
	struct t_lines l;
	char *p;

	t_make_log(log_path, 20);
	t_lines_read(log_path, &l);
	p = strstr(l.line[6], "test.event.7");
	cr_assert_not_null(p);
	p[5] = 'E'; /* "test.Event.7" */
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_HASH, 7);
}

Test(log, tamper_delete_line)
{
	struct t_lines l;

	t_make_log(log_path, 20);
	t_lines_read(log_path, &l);
	memmove(&l.line[9], &l.line[10], (l.n - 10) * sizeof(l.line[0]));
	l.n--;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_SEQ, 10);
}

Test(log, tamper_delete_first_line)
{
	struct t_lines l;

	t_make_log(log_path, 5);
	t_lines_read(log_path, &l);
	memmove(&l.line[0], &l.line[1], (l.n - 1) * sizeof(l.line[0]));
	l.n--;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_SEQ, 1);
}

Test(log, tamper_swap_lines)
{
	struct t_lines l;
	char *t;

	t_make_log(log_path, 20);
	t_lines_read(log_path, &l);
	t = l.line[11];
	l.line[11] = l.line[12];
	l.line[12] = t;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_SEQ, 12);
}

Test(log, tamper_duplicate_line)
{
	struct t_lines l;

	t_make_log(log_path, 5);
	t_lines_read(log_path, &l);
	l.line[l.n] = l.line[l.n - 1];
	l.n++;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_SEQ, 6);
}

Test(log, tamper_prev)
{
	struct t_lines l;
	char *p;

	t_make_log(log_path, 20);
	t_lines_read(log_path, &l);
	p = strstr(l.line[14], "\"prev\":\"");
	cr_assert_not_null(p);
	p += 8;
	*p = *p == '0' ? '1' : '0';
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_PREV, 15);
}

/* An editor who recomputes the hash of the entry they changed breaks the next link. */
Test(log, tamper_with_recomputed_hash_breaks_next_link)
{
	struct t_lines l;
	json_t *j;
	char hash[FV_SHA256_HEX], *s;

	t_make_log(log_path, 10);
	t_lines_read(log_path, &l);
	j = json_loads(l.line[3], 0, NULL);
	json_object_set_new(j, "principal", json_string("someone-else"));
	json_object_del(j, "hash");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	fv_sha256_hex(s, strlen(s), hash);
	free(s);
	json_object_set_new(j, "hash", json_string(hash));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	l.line[3] = s;
	t_lines_write(log_path, &l);
	free(s);
	json_decref(j);
	t_lines_free(&l);
	expect(FV_AUDIT_PREV, 5);
}

Test(log, tamper_truncate_mid_line)
{
	size_t len;
	char *buf;

	t_make_log(log_path, 8);
	buf = t_slurp(log_path, &len);
	cr_assert_eq(truncate(log_path, (off_t)(len - 40)), 0);
	fv_free(buf);
	expect(FV_AUDIT_TORN, 8);
}

Test(log, tamper_bad_json)
{
	struct t_lines l;

	t_make_log(log_path, 6);
	t_lines_read(log_path, &l);
	l.line[2] = "{\"seq\":3,";
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_JSON, 3);
}

Test(log, tamper_blank_and_non_object_lines)
{
	struct t_lines l;

	t_make_log(log_path, 6);
	t_lines_read(log_path, &l);
	l.line[4] = "";
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_JSON, 5);

	unlink(log_path);
	t_make_log(log_path, 3);
	t_lines_read(log_path, &l);
	l.line[1] = "[1,2]";
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_JSON, 2);
}

Test(log, tamper_non_canonical_spelling)
{
	struct t_lines l;
	char buf[FV_MAX_AUDIT_LINE];

	t_make_log(log_path, 6);
	t_lines_read(log_path, &l);
	/* Same members and values, with a space after the brace: meaningfully equal, but not
	 * the bytes that were hashed and written. */
	snprintf(buf, sizeof(buf), "{ %s", l.line[3] + 1);
	l.line[3] = buf;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_FORM, 4);
}

Test(log, tamper_overlong_line)
{
	FILE *f;

	t_make_log(log_path, 2);
	f = fopen(log_path, "a");
	for (int i = 0; i < FV_MAX_AUDIT_LINE + 10; i++)
		fputc('x', f);
	fputc('\n', f);
	fclose(f);
	expect(FV_AUDIT_FORM, 3);
}

Test(log, open_refuses_a_broken_chain_and_leaves_it_alone)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a = NULL;
	struct t_lines l;
	size_t len0, len1;
	char *before, *after;

	t_make_log(log_path, 10);
	t_lines_read(log_path, &l);
	l.line[4][10] ^= 1;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	before = t_slurp(log_path, &len0);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_ECORRUPT);
	cr_assert_null(a);
	cr_assert_not_null(strstr(d.msg, "line 5"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "broken chain"), "%s", d.msg);
	after = t_slurp(log_path, &len1);
	cr_assert_eq(len0, len1);
	cr_assert_eq(memcmp(before, after, len0), 0);
	fv_free(before);
	fv_free(after);
}

/* ---- crashes ---- */

/* A crash during an append leaves the start of a line; open drops it, says so in the log
 * itself, and the chain goes on. Acknowledged entries are all kept. */
Test(log, torn_final_line_is_recovered_on_open)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	struct t_lines l;
	char h10[FV_SHA256_HEX], h[FV_SHA256_HEX];
	uint64_t seq;
	json_t *j;
	FILE *f;

	t_make_log(log_path, 10);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	fv_audit_head(a, NULL, h10);
	fv_audit_close(a);
	f = fopen(log_path, "a");
	fputs("{\"event\":\"test.event.11\",\"hash\":\"ab", f);
	fclose(f);
	expect(FV_AUDIT_TORN, 11);

	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	fv_audit_head(a, &seq, NULL);
	cr_assert_eq(seq, 11);
	cr_assert_eq(fv_audit_append(a, "after.crash", "tester", "", 0, NULL, h, &d), FV_OK);
	fv_audit_close(a);
	expect(FV_AUDIT_OK, 12);

	t_lines_read(log_path, &l);
	cr_assert_eq(l.n, 12);
	j = json_loads(l.line[10], 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(j, "event")), "audit.recovered");
	cr_assert_str_eq(json_string_value(json_object_get(j, "prev")), h10);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "detail"), "dropped_bytes")),
	    "35");
	json_decref(j);
	t_lines_free(&l);
}

/* Zeros where the last line should be (a file extended but not written before a crash). */
Test(log, torn_zero_filled_tail_is_recovered)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	size_t len;
	char *buf;

	t_make_log(log_path, 3);
	buf = t_slurp(log_path, &len);
	fv_free(buf);
	cr_assert_eq(truncate(log_path, (off_t)(len + 100)), 0);
	expect(FV_AUDIT_TORN, 4);
	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	fv_audit_close(a);
	expect(FV_AUDIT_OK, 4);
}

/* A log cut off exactly at a line boundary loses its tail without a trace in the chain:
 * documented in docs/audit.md (anchor the head elsewhere). It still verifies. */
Test(log, truncation_at_a_line_boundary_verifies)
{
	struct t_lines l;

	t_make_log(log_path, 10);
	t_lines_read(log_path, &l);
	l.n = 7;
	t_lines_write(log_path, &l);
	t_lines_free(&l);
	expect(FV_AUDIT_OK, 7);
}

/* ---- concurrency ---- */

struct worker {
	struct fv_audit *a;
	int id;
	fv_err e;
};

static void *append_many(void *arg)
{
	struct worker *w = arg;
	struct fv_diag d = {{0}};
	char principal[32];

	snprintf(principal, sizeof(principal), "thread-%d", w->id);
	for (int i = 0; i < 250 && w->e == FV_OK; i++)
		w->e =
		    fv_audit_append(w->a, "concurrent", principal, &i, sizeof(i), NULL, NULL, &d);
	return NULL;
}

Test(log, concurrent_appends_make_one_valid_chain)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	struct worker w[4];
	pthread_t th[4];
	struct t_lines l;
	int per[4] = {0};

	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.a = a, .id = i, .e = FV_OK};
		cr_assert_eq(pthread_create(&th[i], NULL, append_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].e, FV_OK);
	}
	fv_audit_close(a);
	expect(FV_AUDIT_OK, 1000);
	t_lines_read(log_path, &l);
	for (size_t i = 0; i < l.n; i++) {
		char *p = strstr(l.line[i], "\"principal\":\"thread-");
		cr_assert_not_null(p);
		per[p[20] - '0']++;
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(per[i], 250, "thread %d wrote %d entries", i, per[i]);
	t_lines_free(&l);
}

Test(log, second_writer_is_refused)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a, *b = NULL;

	cr_assert_eq(fv_audit_open(log_path, &a, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_audit_open(log_path, &b, &d), FV_ESTATE);
	cr_assert_null(b);
	cr_assert_not_null(strstr(d.msg, "in use"), "%s", d.msg);
	fv_audit_close(a);
	cr_assert_eq(fv_audit_open(log_path, &b, &d), FV_OK, "%s", d.msg);
	fv_audit_close(b);
}

Test(log, symlink_is_not_followed)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a = NULL;
	char *target = t_path(dir, "elsewhere");

	t_spit(target, "", 0);
	cr_assert_eq(symlink(target, log_path), 0);
	cr_assert_neq(fv_audit_open(log_path, &a, &d), FV_OK);
	cr_assert_null(a);
	free(target);
}

Test(log, allocation_failures_are_clean)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;
	fv_err e;

	t_make_log(log_path, 3);
	for (long n = 1; n < 20; n++) {
		a = NULL;
		fv_alloc_fail_after(n);
		e = fv_audit_open(log_path, &a, &d);
		fv_alloc_fail_after(0);
		cr_assert(e == FV_OK || e == FV_ENOMEM, "n=%ld: %s", n, fv_strerror(e));
		if (e == FV_OK) {
			cr_assert_not_null(a);
			fv_audit_close(a);
		} else {
			cr_assert_null(a);
		}
	}
	expect(FV_AUDIT_OK, 3);
}
