/* Helpers shared by the audit unit tests (header-only: each test file is its own program). */
#ifndef FV_TEST_AUDIT_HELPERS_H
#define FV_TEST_AUDIT_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/audit.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static inline char *t_mkdtemp(void)
{
	char tmpl[] = "/tmp/fv-audit-test.XXXXXX";
	char *dir = mkdtemp(tmpl);

	cr_assert_not_null(dir);
	return strdup(dir);
}

static inline int t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void t_rmtree(char *dir)
{
	if (!dir)
		return;
	nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline char *t_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Whole file as a NUL-terminated string (aborts the test if it cannot be read). */
static inline char *t_slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	size_t n = 0;

	cr_assert_eq(fv_file_read(path, 64u << 20, &buf, &n, NULL), FV_OK, "read %s", path);
	if (len)
		*len = n;
	return (char *)buf;
}

static inline void t_spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "write %s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static inline unsigned t_mode(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return (unsigned)(st.st_mode & 07777);
}

/* A log at path with n entries "test.event.<i>" by "tester" (payload: the decimal i). */
static inline void t_make_log(const char *path, int n)
{
	struct fv_diag d = {{0}};
	struct fv_audit *a;

	cr_assert_eq(fv_audit_open(path, &a, &d), FV_OK, "%s", d.msg);
	for (int i = 1; i <= n; i++) {
		char ev[32], payload[16];
		snprintf(ev, sizeof(ev), "test.event.%d", i);
		snprintf(payload, sizeof(payload), "%d", i);
		cr_assert_eq(fv_audit_append(a, ev, "tester", payload, strlen(payload),
					     i % 3 ? NULL : "{\"job\":\"j-1\",\"n\":\"7\"}", NULL,
					     &d),
			     FV_OK, "%s", d.msg);
	}
	fv_audit_close(a);
}

/* The lines of a file (each without its newline; the last may be a torn fragment). */
struct t_lines {
	char *buf;
	char *line[4096];
	size_t n;
	bool last_torn; /* no newline after the last line */
};

static inline void t_lines_read(const char *path, struct t_lines *l)
{
	size_t len;
	char *p;

	memset(l, 0, sizeof(*l));
	l->buf = t_slurp(path, &len);
	p = l->buf;
	while (*p) {
		char *nl = strchr(p, '\n');
		cr_assert_lt(l->n, 4096);
		l->line[l->n++] = p;
		if (!nl) {
			l->last_torn = true;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
}

static inline void t_lines_write(const char *path, const struct t_lines *l)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s", l->line[i], i + 1 == l->n && l->last_torn ? "" : "\n");
	cr_assert_eq(fclose(f), 0);
}

static inline void t_lines_free(struct t_lines *l)
{
	fv_free(l->buf);
	memset(l, 0, sizeof(*l));
}

#endif
