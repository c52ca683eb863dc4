/* Tests lib/util/file.c: whole-file reads, atomic writes, private-file check, mkdir -p. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/util.h"

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fv-util-file.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(file, .init = setup, .fini = teardown);

static void path_of(char *out, size_t cap, const char *name)
{
	cr_assert_eq(fv_fmt(out, cap, "%s/%s", dir, name), FV_OK);
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (unsigned)(st.st_mode & 07777);
}

/* Names in dir other than . and .. */
static int entries(void)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;
	cr_assert_not_null(dp);
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

Test(file, write_atomic_mode_and_content)
{
	char p[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_diag d;
	mode_t old = umask(077);

	path_of(p, sizeof(p), "pub.txt");
	cr_assert_eq(fv_file_write_atomic(p, "hello", 5, 0644, &d), FV_OK, "%s", d.msg);
	umask(old);
	cr_assert_eq(mode_of(p), 0644, "the umask does not narrow the mode");
	cr_assert_eq(fv_file_read(p, 100, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(len, 5);
	cr_assert_str_eq((char *)buf, "hello");
	fv_free(buf);

	path_of(p, sizeof(p), "key.pem");
	old = umask(0);
	cr_assert_eq(fv_file_write_atomic(p, "k", 1, 0600, &d), FV_OK, "%s", d.msg);
	umask(old);
	cr_assert_eq(mode_of(p), 0600, "the umask does not widen the mode");
	cr_assert_eq(entries(), 2, "no temp file is left behind");
}

Test(file, write_atomic_replaces_whole_file)
{
	char p[256], big[10000];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat before, after;

	memset(big, 'a', sizeof(big));
	path_of(p, sizeof(p), "f");
	cr_assert_eq(fv_file_write_atomic(p, big, sizeof(big), 0600, NULL), FV_OK);
	cr_assert_eq(stat(p, &before), 0);
	cr_assert_eq(fv_file_write_atomic(p, "short", 5, 0600, NULL), FV_OK);
	cr_assert_eq(stat(p, &after), 0);
	/* A new inode renamed over the old one, not the old file rewritten in place. */
	cr_assert_neq(before.st_ino, after.st_ino);
	cr_assert_eq(fv_file_read(p, 1 << 20, &buf, &len, NULL), FV_OK);
	cr_assert_eq(len, 5, "no tail of the old content remains");
	cr_assert_str_eq((char *)buf, "short");
	fv_free(buf);
	cr_assert_eq(fv_file_write_atomic(p, "", 0, 0600, NULL), FV_OK);
	cr_assert_eq(fv_file_read(p, 10, &buf, &len, NULL), FV_OK);
	cr_assert_eq(len, 0);
	fv_free(buf);
	cr_assert_eq(entries(), 1, "no temp file is left behind");
}

Test(file, write_atomic_failure_leaves_no_temp)
{
	char p[256];
	struct fv_diag d;

	path_of(p, sizeof(p), "sub");
	cr_assert_eq(mkdir(p, 0700), 0);
	/* rename() of a file over a directory fails. */
	cr_assert_eq(fv_file_write_atomic(p, "x", 1, 0600, &d), FV_EIO);
	cr_assert_eq(entries(), 1, "only the directory remains");
	path_of(p, sizeof(p), "missing/f");
	cr_assert_eq(fv_file_write_atomic(p, "x", 1, 0600, &d), FV_EIO);
}

Test(file, write_atomic_does_not_follow_planted_symlink)
{
	char p[256], victim[256], link[300];
	uint8_t *buf = NULL;
	size_t len;

	path_of(p, sizeof(p), "target");
	path_of(victim, sizeof(victim), "victim");
	cr_assert_eq(fv_file_write_atomic(victim, "safe", 4, 0600, NULL), FV_OK);
	/* The old temp name was predictable (path.tmp.<pid>). */
	snprintf(link, sizeof(link), "%s.tmp.%ld", p, (long)getpid());
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(fv_file_write_atomic(p, "new", 3, 0600, NULL), FV_OK);
	cr_assert_eq(fv_file_read(victim, 100, &buf, &len, NULL), FV_OK);
	cr_assert_str_eq((char *)buf, "safe");
	fv_free(buf);
	unlink(link);
}

Test(file, read_refuses_over_max)
{
	char p[256], data[200000];
	uint8_t *buf = (uint8_t *)0x1;
	size_t len = 0;
	struct fv_diag d;

	memset(data, 'x', sizeof(data));
	path_of(p, sizeof(p), "big");
	cr_assert_eq(fv_file_write_atomic(p, data, sizeof(data), 0600, NULL), FV_OK);
	cr_assert_eq(fv_file_read(p, sizeof(data) - 1, &buf, &len, &d), FV_ELIMIT);
	cr_assert_not_null(strstr(d.msg, "larger than"), "%s", d.msg);
	cr_assert_eq(buf, (uint8_t *)0x1, "no buffer handed out");
	cr_assert_eq(fv_file_read(p, 10, &buf, &len, &d), FV_ELIMIT);
	cr_assert_eq(fv_file_read(p, sizeof(data), &buf, &len, &d), FV_OK, "exactly max is fine");
	cr_assert_eq(len, sizeof(data));
	cr_assert_eq(buf[len], '\0');
	fv_free(buf);
	cr_assert_eq(fv_file_read(p, SIZE_MAX, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(len, sizeof(data));
	fv_free(buf);
	path_of(p, sizeof(p), "nope");
	cr_assert_eq(fv_file_read(p, 10, &buf, &len, &d), FV_ENOTFOUND);
	cr_assert_not_null(strstr(d.msg, "nope"), "%s", d.msg);
}

Test(file, read_out_of_memory)
{
	char p[256];
	uint8_t *buf = NULL;
	size_t len;

	path_of(p, sizeof(p), "f");
	cr_assert_eq(fv_file_write_atomic(p, "abc", 3, 0600, NULL), FV_OK);
	fv_alloc_fail_after(1);
	cr_assert_eq(fv_file_read(p, 10, &buf, &len, NULL), FV_ENOMEM);
	fv_alloc_fail_after(0);
}

Test(file, check_private)
{
	char p[256];
	struct fv_diag d;

	path_of(p, sizeof(p), "k");
	cr_assert_eq(fv_file_write_atomic(p, "k", 1, 0600, NULL), FV_OK);
	cr_assert_eq(fv_file_check_private(p, &d), FV_OK);
	cr_assert_eq(chmod(p, 0400), 0);
	cr_assert_eq(fv_file_check_private(p, &d), FV_OK);
	const unsigned bad[] = {0640, 0604, 0660, 0644, 0601, 0610, 0620, 0602};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(chmod(p, bad[i]), 0);
		cr_assert_eq(fv_file_check_private(p, &d), FV_EAUTH, "mode %o", bad[i]);
		cr_assert_not_null(strstr(d.msg, p), "%s", d.msg);
	}
	path_of(p, sizeof(p), "absent");
	cr_assert_eq(fv_file_check_private(p, &d), FV_ENOTFOUND);
}

Test(file, mkdir_p)
{
	char p[256], f[256];
	struct stat st;
	struct fv_diag d;

	path_of(p, sizeof(p), "a/b/c");
	cr_assert_eq(fv_mkdir_p(p, 0700, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(fv_mkdir_p(p, 0700, &d), FV_OK, "existing directories are fine");
	path_of(p, sizeof(p), "a/b/c/");
	cr_assert_eq(fv_mkdir_p(p, 0700, &d), FV_OK, "trailing slash");
	path_of(f, sizeof(f), "a/file");
	cr_assert_eq(fv_file_write_atomic(f, "x", 1, 0600, NULL), FV_OK);
	cr_assert_eq(fv_mkdir_p(f, 0700, &d), FV_EIO, "a file in the way is an error");
	path_of(p, sizeof(p), "a/file/sub");
	cr_assert_eq(fv_mkdir_p(p, 0700, &d), FV_EIO);
}
