/* Tests lib/util/config.c: INI loading with line numbers, checks and path resolution. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/config.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static char dir[64];
static char cfg_path[128];
static struct fv_config *cfg;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fv-util-config.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cfg_path, sizeof(cfg_path), "%s/node.ini", dir);
	cfg = NULL;
}

static void teardown(void)
{
	fv_config_free(cfg);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(config, .init = setup, .fini = teardown);

static void write_cfg(const char *text)
{
	cr_assert_eq(fv_file_write_atomic(cfg_path, text, strlen(text), 0600, NULL), FV_OK);
}

static fv_err load(const char *text, struct fv_diag *d)
{
	write_cfg(text);
	return fv_config_load(cfg_path, &cfg, d);
}

static const char sample[] = "; node settings\n"	     /* 1 */
			     "[node]\n"			     /* 2 */
			     "name = hospital-a\n"	     /* 3 */
			     "\n"			     /* 4 */
			     "url=tls+tcp://c:1\n"	     /* 5 */
			     "# comment\n"		     /* 6 */
			     "[policy]\n"		     /* 7 */
			     "min_cell_count = 5 ; inline\n" /* 8 */
			     "data = data/x.csv\n"	     /* 9 */
			     "[map]\n"			     /* 10 */
			     "age: AGE\n";		     /* 11 */

Test(config, load_and_lookup)
{
	struct fv_diag d;
	const char *v = NULL;
	long n = 0;

	cr_assert_eq(load(sample, &d), FV_OK, "%s", d.msg);
	cr_assert_str_eq(fv_config_path(cfg), cfg_path);
	cr_assert_eq(fv_config_count(cfg), 5);
	cr_assert_str_eq(fv_config_get(cfg, "node", "name"), "hospital-a");
	cr_assert_str_eq(fv_config_get(cfg, "policy", "min_cell_count"), "5");
	cr_assert_str_eq(fv_config_get(cfg, "map", "age"), "AGE");
	cr_assert_null(fv_config_get(cfg, "node", "absent"));
	cr_assert_null(fv_config_get(cfg, "policy", "name"), "sections are separate");
	cr_assert_eq(fv_config_require(cfg, "node", "url", &v, &d), FV_OK);
	cr_assert_str_eq(v, "tls+tcp://c:1");
	cr_assert_eq(fv_config_long(cfg, "policy", "min_cell_count", 11, 1, 100, &n, &d), FV_OK);
	cr_assert_eq(n, 5);
	cr_assert_eq(fv_config_long(cfg, "policy", "absent", 11, 1, 100, &n, &d), FV_OK);
	cr_assert_eq(n, 11, "default when absent");
	cr_assert_null(fv_config_entry(cfg, 5));
}

Test(config, entries_carry_their_lines)
{
	const int lines[] = {3, 5, 8, 9, 11};
	const char *keys[] = {"name", "url", "min_cell_count", "data", "age"};
	cr_assert_eq(load(sample, NULL), FV_OK);
	for (size_t i = 0; i < 5; i++) {
		const struct fv_config_entry *e = fv_config_entry(cfg, i);
		cr_assert_str_eq(e->key, keys[i]);
		cr_assert_eq(e->line, lines[i], "%s on line %d", e->key, e->line);
	}
}

Test(config, continuation_lines_keep_line_numbers_in_step)
{
	const struct fv_config_entry *e;
	cr_assert_eq(load("[a]\n"
			  "x = 1\n"
			  "  more\n"
			  "\n"
			  "y = 2\n"
			  "z = abc\n",
			  NULL),
		     FV_OK);
	cr_assert_eq(fv_config_count(cfg), 4);
	e = fv_config_entry(cfg, 1);
	cr_assert_str_eq(e->key, "x");
	cr_assert_str_eq(e->value, "more");
	cr_assert_eq(e->line, 3);
	cr_assert_eq(fv_config_entry(cfg, 2)->line, 5, "y");
	cr_assert_eq(fv_config_entry(cfg, 3)->line, 6, "z");
}

Test(config, unknown_key_names_file_line_and_key)
{
	const char *const known[] = {"node.name",   "node.url", "policy.min_cell_count",
				     "policy.data", "map.*",	NULL};
	const char *const fewer[] = {"node.name", "node.url", "map.*", NULL};
	struct fv_diag d;
	char want[256];

	cr_assert_eq(load(sample, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_config_check_known(cfg, known, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_config_check_known(cfg, fewer, &d), FV_EINVAL);
	snprintf(want, sizeof(want), "%s:8:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "min_cell_count"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "[policy]"), "%s", d.msg);
}

Test(config, missing_required_key_is_named)
{
	struct fv_diag d;
	const char *v = NULL;

	cr_assert_eq(load("[node]\nname = a\nempty =\n", &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_config_require(cfg, "node", "url", &v, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "'url'"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "[node]"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, cfg_path), "%s", d.msg);
	cr_assert_eq(fv_config_require(cfg, "node", "empty", &v, &d), FV_EINVAL,
		     "an empty value counts as missing");
}

Test(config, long_out_of_range_names_line)
{
	struct fv_diag d;
	long n = 7;
	char want[256];

	cr_assert_eq(load("[policy]\n\nmin_cell_count = 0\nmin_cohort_size = 12x\n", &d), FV_OK);
	cr_assert_eq(fv_config_long(cfg, "policy", "min_cell_count", 5, 1, 1000, &n, &d),
		     FV_EINVAL);
	snprintf(want, sizeof(want), "%s:3:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "min_cell_count"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "1..1000"), "%s", d.msg);
	cr_assert_eq(fv_config_long(cfg, "policy", "min_cohort_size", 5, 1, 1000, &n, &d),
		     FV_EINVAL);
	snprintf(want, sizeof(want), "%s:4:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);
}

Test(config, last_occurrence_wins)
{
	cr_assert_eq(load("[a]\nk = 1\nk = 2\n", NULL), FV_OK);
	cr_assert_str_eq(fv_config_get(cfg, "a", "k"), "2");
}

Test(config, resolve_relative_to_config_dir)
{
	char want[256];
	char *r;

	cr_assert_eq(load(sample, NULL), FV_OK);
	r = fv_config_resolve(cfg, "data/x.csv");
	snprintf(want, sizeof(want), "%s/data/x.csv", dir);
	cr_assert_str_eq(r, want);
	fv_free(r);
	r = fv_config_resolve(cfg, "/etc/fedval/ca.crt");
	cr_assert_str_eq(r, "/etc/fedval/ca.crt", "absolute paths are kept");
	fv_free(r);
}

Test(config, resolve_without_directory_part)
{
	char cwd[4096];
	char *r;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	write_cfg("[a]\nk = v\n");
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(fv_config_load("node.ini", &cfg, NULL), FV_OK);
	r = fv_config_resolve(cfg, "x.csv");
	cr_assert_str_eq(r, "x.csv");
	fv_free(r);
	cr_assert_eq(chdir(cwd), 0);
}

Test(config, over_max_bytes_refused)
{
	size_t n = FV_MAX_CONFIG_BYTES + 1;
	char *big = malloc(n + 1);
	struct fv_diag d;

	for (size_t i = 0; i < n; i++)
		big[i] = (i % 64 == 63) ? '\n' : ';';
	big[n] = '\0';
	cr_assert_eq(fv_file_write_atomic(cfg_path, big, n, 0600, NULL), FV_OK);
	free(big);
	cr_assert_eq(fv_config_load(cfg_path, &cfg, &d), FV_ELIMIT);
	cr_assert_null(cfg);
	cr_assert_not_null(strstr(d.msg, cfg_path), "%s", d.msg);
}

Test(config, malformed_line_reported_with_line_number)
{
	struct fv_diag d;
	char want[256];

	cr_assert_eq(load("[node]\nname = a\n\nthis line has no equals sign\nurl = b\n", &d),
		     FV_EINVAL);
	cr_assert_null(cfg);
	snprintf(want, sizeof(want), "%s:4:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);

	cr_assert_eq(load("[node\nname = a\n", &d), FV_EINVAL);
	snprintf(want, sizeof(want), "%s:1:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);
}

Test(config, overlong_line_refused_not_split)
{
	/* inih would cut this line at its buffer size and parse the tail as a new setting. */
	char text[600];
	struct fv_diag d;
	char want[256];
	int n = snprintf(text, sizeof(text), "[node]\nname = a\ndata = /");
	memset(text + n, 'a', 300);
	snprintf(text + n + 300, sizeof(text) - (size_t)n - 300, "key_file = /tmp/evil\n");
	cr_assert_eq(load(text, &d), FV_ELIMIT);
	cr_assert_null(cfg);
	snprintf(want, sizeof(want), "%s:3:", cfg_path);
	cr_assert_not_null(strstr(d.msg, want), "%s", d.msg);
}

Test(config, nul_byte_and_missing_file)
{
	struct fv_diag d;
	cr_assert_eq(fv_file_write_atomic(cfg_path, "[a]\nk = v\0x\n", 11, 0600, NULL), FV_OK);
	cr_assert_eq(fv_config_load(cfg_path, &cfg, &d), FV_EINVAL);
	cr_assert_eq(fv_config_load("/nonexistent/fedval.ini", &cfg, &d), FV_ENOTFOUND);
	cr_assert_null(cfg);
}

Test(config, out_of_memory_anywhere_is_clean)
{
	/* Every allocation in turn fails; each load must fail cleanly (ASan checks leaks). */
	write_cfg(sample);
	for (long k = 1; k < 200; k++) {
		struct fv_config *c = NULL;
		fv_err e;
		fv_alloc_fail_after(k);
		e = fv_config_load(cfg_path, &c, NULL);
		fv_alloc_fail_after(0);
		if (e == FV_OK) {
			cr_assert_eq(fv_config_count(c), 5);
			fv_config_free(c);
			return;
		}
		cr_assert_eq(e, FV_ENOMEM, "allocation %ld", k);
		cr_assert_null(c);
	}
	cr_assert_fail("config load never succeeded");
}
