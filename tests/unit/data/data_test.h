/* fedval tests: helpers shared by the tests of lib/data. Each test process gets its own
 * scratch directory under /tmp; files written there are removed at exit. */
#ifndef FEDVAL_TEST_DATA_H
#define FEDVAL_TEST_DATA_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/data.h"

static char dt_dir[64];
static unsigned dt_seq;

static inline void dt_rm_dir(void)
{
	char cmd[128];

	if (dt_dir[0] && snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dt_dir) < (int)sizeof(cmd))
		(void)!system(cmd);
}

/* Path of a fresh file in the scratch directory (static buffer: copy it to keep it). */
static inline const char *dt_path(const char *name)
{
	static char path[160];

	if (!dt_dir[0]) {
		snprintf(dt_dir, sizeof(dt_dir), "/tmp/fv_data_test.XXXXXX");
		cr_assert_not_null(mkdtemp(dt_dir));
		atexit(dt_rm_dir);
	}
	snprintf(path, sizeof(path), "%s/%u_%s", dt_dir, dt_seq++, name ? name : "f.csv");
	return path;
}

/* Write len bytes to a fresh file and return its path (static buffer). */
static inline const char *dt_write(const void *buf, size_t len)
{
	const char *p = dt_path(NULL);
	FILE *f = fopen(p, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return p;
}

static inline const char *dt_write_str(const char *s)
{
	return dt_write(s, strlen(s));
}

#endif
