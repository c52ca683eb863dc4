/* fedval fuzz target: fv_config_load (lib/util/config.c) of an INI file, and every accessor on
 * what it loads. The file is a memfd read back through /proc/self/fd/N.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests tests/fuzz/fuzz_config.c lib/util/[a-z]*.c \
 *         -linih -lm -lpthread -o /tmp/fuzz_config
 *   mkdir -p /tmp/config-corpus
 *   /tmp/fuzz_config -max_len=4096 -max_total_time=120 /tmp/config-corpus tests/fuzz/corpus/config
 * tests/unit/util/test_config_corpus.c replays tests/fuzz/corpus/config on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_config.h"

#include <string.h>

#include "fedval/config.h"
#include "fedval/util.h"
#include "fuzz/fuzz_common.h"

#define CONFIG_ERRS (FUZZ_ERR(FV_EINVAL) | FUZZ_ERR(FV_ELIMIT))

static void fuzz_entries(const struct fv_config *c)
{
	static const char *const known[] = {"node.name", "node.key", "coordinator.*", "mapping.*",
					    NULL};
	struct fv_diag d = {{0}};
	size_t n = fv_config_count(c);

	FUZZ_CHECK(fv_config_path(c) != NULL);
	for (size_t i = 0; i < n; i++) {
		const struct fv_config_entry *en = fv_config_entry(c, i);
		const char *got = NULL;
		char *res;
		long v;

		FUZZ_CHECK(en && en->section && en->key && en->value && en->line >= 1);
		/* Later entries may override earlier ones, but some value is found; only an
		 * empty one is "missing". */
		FUZZ_CHECK(fv_config_get(c, en->section, en->key) != NULL);
		d.msg[0] = '\0';
		if (fuzz_check_err(fv_config_require(c, en->section, en->key, &got, &d), &d,
				   FUZZ_ERR(FV_EINVAL)) == FV_OK)
			FUZZ_CHECK(got && got[0] != '\0');
		else
			FUZZ_CHECK(fv_config_get(c, en->section, en->key)[0] == '\0');
		d.msg[0] = '\0';
		fuzz_check_err(fv_config_long(c, en->section, en->key, 7, -1000, 1000, &v, &d), &d,
			       FUZZ_ERR(FV_EINVAL));
		res = fv_config_resolve(c, en->value);
		FUZZ_CHECK(res != NULL);
		fv_free(res);
	}
	d.msg[0] = '\0';
	fuzz_check_err(fv_config_check_known(c, known, &d), &d, FUZZ_ERR(FV_EINVAL));
	d.msg[0] = '\0';
	fuzz_check_err(fv_config_require(c, "no such", "key", &(const char *){NULL}, &d), &d,
		       FUZZ_ERR(FV_EINVAL));
}

int fv_fuzz_config_one(const uint8_t *data, size_t size)
{
	struct fv_config *c = NULL;
	struct fv_diag d = {{0}};
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path));
	fv_err e;

	e = fuzz_check_err(fv_config_load(path, &c, &d), &d, CONFIG_ERRS);
	fuzz_result(e);
	if (e == FV_OK)
		fuzz_entries(c);
	fv_config_free(c);
	close(fd);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_config_one(data, size);
}
#endif
