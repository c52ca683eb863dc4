/* Tests lib/util/log.c: the one-line key=value format and value quoting. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/util.h"

/* Everything fv_log wrote to stderr while fn ran (NUL-terminated, fv_free). */
static char *capture(void (*fn)(void))
{
	char tmpl[] = "/tmp/fv-util-log.XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
	uint8_t *buf = NULL;
	size_t len;

	cr_assert(fd >= 0 && saved >= 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	cr_assert_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	cr_assert_eq(fv_file_read(tmpl, 1 << 20, &buf, &len, NULL), FV_OK);
	unlink(tmpl);
	return (char *)buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void log_simple(void)
{
	fv_log_set_level(FV_LOG_INFO);
	fv_log_set_component("node:hospital-a");
	fv_log(FV_LOG_INFO, "job_done", "job=%s n=%d", "j1", 42);
}

Test(log, one_line_key_value)
{
	char *out = capture(log_simple);
	regex_t re;

	cr_assert_eq(
	    regcomp(&re,
		    "^level=info ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z "
		    "comp=node:hospital-a event=job_done job=j1 n=42\n$",
		    REG_EXTENDED),
	    0);
	cr_assert_eq(regexec(&re, out, 0, NULL, 0), 0, "got '%s'", out);
	regfree(&re);
	fv_free(out);
}

static void log_levels(void)
{
	fv_log_set_component("t");
	fv_log_set_level(FV_LOG_WARN);
	fv_log(FV_LOG_DEBUG, "hidden_debug", "a=1");
	fv_log(FV_LOG_INFO, "hidden_info", "a=1");
	fv_log(FV_LOG_WARN, "shown_warn", "a=1");
	fv_log(FV_LOG_ERROR, "shown_error", "%s", "");
	fv_log_set_level(FV_LOG_DEBUG);
	fv_log(FV_LOG_DEBUG, "shown_debug", "a=1");
	fv_log_set_level(FV_LOG_INFO);
}

Test(log, level_filter_and_names)
{
	char *out = capture(log_levels);
	cr_assert_eq(count_lines(out), 3, "%s", out);
	cr_assert_null(strstr(out, "hidden"));
	cr_assert_not_null(strstr(out, "level=warn "));
	cr_assert_not_null(strstr(out, "level=error "));
	cr_assert_not_null(strstr(out, "event=shown_error\n"), "no trailing space: %s", out);
	cr_assert_not_null(strstr(out, "level=debug "));
	fv_free(out);
}

static void log_injection(void)
{
	fv_log_set_level(FV_LOG_INFO);
	/* A caller forgot FV_Q around a peer-controlled value. */
	fv_log(FV_LOG_WARN, "enrol_refused", "name=%s",
	       "evil\nlevel=info ts=x comp=coordinator event=admin_login\r\n");
	fv_log(FV_LOG_INFO, "quoted", "name=%s", FV_Q("a\nb c"));
}

Test(log, newline_never_splits_a_line)
{
	char *out = capture(log_injection);
	char *second;
	cr_assert_eq(count_lines(out), 2, "%s", out);
	cr_assert_eq(strncmp(out, "level=warn ", 11), 0);
	second = strchr(out, '\n') + 1;
	cr_assert_eq(strncmp(second, "level=info ", 11), 0, "%s", out);
	cr_assert_not_null(strstr(out, "name=evil?level=info"), "%s", out);
	cr_assert_null(strchr(out, '\r'));
	cr_assert_not_null(strstr(second, "name=\"a?b c\"\n"), "%s", second);
	fv_free(out);
}

static void log_long(void)
{
	char big[5000];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fv_log_set_level(FV_LOG_INFO);
	fv_log(FV_LOG_INFO, "long", "v=%s", big);
	fv_log(FV_LOG_INFO, big, "v=1");
}

Test(log, long_lines_are_cut_but_whole)
{
	char *out = capture(log_long);
	char *nl = strchr(out, '\n');
	cr_assert_eq(count_lines(out), 2, "each event is still exactly one line");
	cr_assert_eq(strncmp(out, "level=info ", 11), 0);
	cr_assert(nl - out < 2048);
	cr_assert_eq(strncmp(nl + 1, "level=info ", 11), 0);
	fv_free(out);
}

Test(log_quote, plain_values_unchanged)
{
	char buf[64];
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "hospital-a"), "hospital-a");
	cr_assert_str_eq(FV_Q("/var/lib/x.csv"), "/var/lib/x.csv");
	cr_assert_str_eq(FV_Q("caf\xc3\xa9"), "caf\xc3\xa9", "UTF-8 passes");
}

Test(log_quote, quotes_and_escapes)
{
	char buf[64];
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "a b"), "\"a b\"");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), ""), "\"\"", "empty is visible");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "k=v"), "\"k=v\"");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "say \"hi\""), "\"say 'hi'\"",
			 "an inner quote cannot close the value");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "a\tb"), "\"a?b\"");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "a\nb"), "a?b");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "x\r\n\x01\x1b[31m\x7f"), "x????[31m?");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), "x\nlevel=error event=fake"),
			 "\"x?level=error event=fake\"");
	cr_assert_str_eq(fv_log_quote(buf, sizeof(buf), NULL), "\"\"");
}

Test(log_quote, truncation_keeps_quotes_and_bounds)
{
	char buf[8];
	memset(buf, '#', sizeof(buf));
	fv_log_quote(buf, sizeof(buf), "a b c d e f g h");
	cr_assert_eq(strlen(buf), 7);
	cr_assert_eq(buf[0], '"');
	cr_assert_eq(buf[6], '"', "closing quote kept: %s", buf);
	fv_log_quote(buf, sizeof(buf), "abcdefghijkl");
	cr_assert_str_eq(buf, "abcdef");
	fv_log_quote(buf, 2, "abc");
	cr_assert_str_eq(buf, "");
	fv_log_quote(buf, 3, "a b");
	cr_assert_str_eq(buf, "\"\"");
}
