/* fedval fuzz target: fv_data_summarise (lib/data/summary.c over the CSV source) of a hostile
 * CSV file, with fixed variables, label and subgroups. The file is a memfd read back through
 * /proc/self/fd/N.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests tests/fuzz/fuzz_summary.c lib/data/[a-z]*.c \
 *         lib/crypto/[a-z]*.c lib/util/[a-z]*.c -I/usr/include/postgresql \
 *         -lsqlite3 -lpq -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_summary
 *   mkdir -p /tmp/summary-corpus
 *   /tmp/fuzz_summary -max_len=4096 -max_total_time=120 /tmp/summary-corpus \
 *         tests/fuzz/corpus/summary
 * tests/unit/data/test_summary_corpus.c replays tests/fuzz/corpus/summary on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_summary.h"

#include <jansson.h>
#include <string.h>

#include "fedval/data.h"
#include "fuzz/fuzz_common.h"

/* The seeds' header is age,crp,y,sex (any order, more columns allowed). */
static const struct fv_summary_var sm_vars[] = {
    {"age", "age", true, true, 0, 120},
    {"crp", "crp", false, false, 0, 0},
    {"age_min", "age", true, false, 18, 0},
};
static const double sm_edges[] = {18, 65, 80};
static const struct fv_summary_subgroup sm_groups[] = {
    {"sex", "sex", 0, NULL},
    {"age band", "age", 3, sm_edges},
};

static fv_err summarise(const char *path, const struct fv_csv_opts *csv, uint32_t min_cell)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = path};
	struct fv_summary_opts o = {3, sm_vars, "readmitted", "y", 2, sm_groups, min_cell};
	struct fv_diag d = {{0}};
	json_t *j = NULL;
	char hex[65];
	fv_err e;

	if (csv)
		spec.csv = *csv;
	e = fuzz_check_err(fv_data_summarise(&spec, &o, &j, &d), &d,
			   FUZZ_ERR(FV_EINVAL) | FUZZ_ERR(FV_ELIMIT));
	if (e != FV_OK) {
		FUZZ_CHECK(j == NULL);
		return e;
	}
	FUZZ_CHECK(json_is_object(j));
	/* The summary carries the fingerprint a receiver recomputes. */
	FUZZ_CHECK(fv_data_summary_fingerprint(j, hex, &d) == FV_OK);
	FUZZ_CHECK(json_is_string(json_object_get(j, "fingerprint")));
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "fingerprint")), hex) == 0);
	json_decref(j);
	return e;
}

int fv_fuzz_summary_one(const uint8_t *data, size_t size)
{
	static const struct fv_csv_opts semi = {.delimiter = ';', .decimal = ','};
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	fuzz_result(summarise(path, NULL, 5));
	summarise(path, NULL, 0);
	summarise(path, &semi, 11);
	close(fd);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_summary_one(data, size);
}
#endif
