/* fedval fuzz target: the CSV reader of lib/data (csv.c and dataset.c).
 *
 * The reader takes a path, so the input is written to a memfd and read back through
 * /proc/self/fd/N: no file system, nothing left behind.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/usr/include/postgresql tests/fuzz/fuzz_csv.c \
 *         lib/data/[a-z]*.c lib/crypto/[a-z]*.c lib/util/[a-z]*.c -lsqlite3 -lpq -lpng \
 *         -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_csv
 *   (or tests/fuzz/campaign.sh, which builds and runs every target)
 *   mkdir -p /tmp/csv-corpus
 *   /tmp/fuzz_csv -max_len=4096 -max_total_time=600 /tmp/csv-corpus tests/fuzz/corpus/csv
 * (new inputs go to /tmp/csv-corpus; copy small, interesting ones into tests/fuzz/corpus/csv,
 * which tests/unit/data/test_csv_corpus.c replays on every test run).
 *
 * Without clang, the same function runs over the seed corpus in the unit tests. Define
 * FV_FUZZ_NO_MAIN to compile this file into another program without LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fedval/data.h"
#include "fedval/limits.h"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_csv: invariant failed: %s (%s:%d)\n", #cond,         \
				__FILE__, __LINE__);                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Every error a reader may return on hostile input; anything else is a bug. */
static void fuzz_check_err(fv_err e, const struct fv_diag *d)
{
	FUZZ_CHECK(e == FV_OK || e == FV_EINVAL || e == FV_ELIMIT);
	if (e != FV_OK)
		FUZZ_CHECK(d->msg[0] != '\0' && memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
}

static void fuzz_reader(const char *path, const struct fv_csv_opts *o)
{
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	char **f;
	bool eof = false;
	size_t i, n;
	uint64_t last = 0;
	fv_err e;

	e = fv_csv_open(path, o, &c, &d);
	fuzz_check_err(e, &d);
	if (e != FV_OK) {
		FUZZ_CHECK(c == NULL);
		return;
	}
	n = fv_csv_ncols(c);
	FUZZ_CHECK(n >= 1 && n <= FV_MAX_CSV_COLS);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(fv_csv_find(c, fv_csv_colname(c, i)) == (long)i);
	for (;;) {
		d.msg[0] = '\0';
		e = fv_csv_next(c, &f, &eof, &d);
		fuzz_check_err(e, &d);
		if (e != FV_OK || eof)
			break;
		FUZZ_CHECK(fv_csv_line(c) > last);
		last = fv_csv_line(c);
		for (i = 0; i < n; i++) {
			double v;
			struct fv_diag why;
			(void)fv_csv_is_na(c, f[i]);
			if (fv_csv_parse_double(c, f[i], &v, &why) == FV_OK)
				FUZZ_CHECK(v == v && v - v == 0); /* finite */
		}
	}
	/* Errors and the end of file are sticky. */
	if (e != FV_OK)
		FUZZ_CHECK(fv_csv_next(c, &f, &eof, &d) == e);
	else
		FUZZ_CHECK(fv_csv_next(c, &f, &eof, &d) == FV_OK && eof);
	fv_csv_close(c);
}

/* Map the first column to a variable and the last one to the label, when there are two. */
static void fuzz_dataset(const char *path)
{
	static const char *const vars[] = {"v0", "v1"};
	struct fv_csv *c = NULL;
	struct fv_dataset ds;
	struct fv_mapping m;
	struct fv_diag d = {{0}};
	const char *cols[2];
	size_t n;
	fv_err e;

	if (fv_csv_open(path, NULL, &c, &d) != FV_OK)
		return;
	n = fv_csv_ncols(c);
	if (n < 2) {
		fv_csv_close(c);
		return;
	}
	cols[0] = fv_csv_colname(c, 0);
	cols[1] = fv_csv_colname(c, n > 2 ? 1 : 0);
	m = (struct fv_mapping){n > 2 ? 2 : 1, vars, cols, fv_csv_colname(c, n - 1)};
	e = fv_data_read_csv(path, NULL, &m, &ds, &d);
	fuzz_check_err(e, &d);
	if (e == FV_OK) {
		size_t i;
		for (i = 0; i < ds.n; i++)
			FUZZ_CHECK(ds.y[i] <= 1);
		for (i = 0; i < ds.n * ds.nvars; i++)
			FUZZ_CHECK(ds.x[i] - ds.x[i] == 0);
	} else {
		FUZZ_CHECK(ds.n == 0 && ds.x == NULL && ds.y == NULL);
	}
	fv_dataset_fini(&ds);
	fv_csv_close(c);
}

/* The lines of the records of a file read whole, or of its parts (fv_csv_split +
 * fv_csv_set_range) one after the other; -1 on an error, at most cap lines. */
static long record_lines(const char *path, bool parts, uint64_t *lines, size_t cap)
{
	uint64_t start[3] = {0}, first[3] = {0};
	size_t np = 1, n = 0;
	struct fv_diag d = {{0}};
	if (parts && fv_csv_split(path, 3, start, first, &np, &d) != FV_OK)
		return -1;
	for (size_t p = 0; p < np; p++) {
		struct fv_csv *c = NULL;
		char **f;
		bool eof = false;
		if (fv_csv_open(path, NULL, &c, &d) != FV_OK)
			return -1;
		if (parts && fv_csv_set_range(c, start[p], p + 1 < np ? start[p + 1] : UINT64_MAX,
					      first[p], &d) != FV_OK) {
			fv_csv_close(c);
			return -1;
		}
		while (fv_csv_next(c, &f, &eof, &d) == FV_OK && !eof && n < cap)
			lines[n++] = fv_csv_line(c);
		bool bad = !eof && n < cap;
		fv_csv_close(c);
		if (bad)
			return -1;
	}
	return (long)n;
}

/* A file that reads whole without an error gives the same records, on the same lines, when
 * read in the parts the parallel evaluation uses. */
static void fuzz_parts(const char *path)
{
	static uint64_t whole[4096], parts[4096];
	long a = record_lines(path, false, whole, 4096);
	if (a < 0 || a == 4096)
		return;
	long b = record_lines(path, true, parts, 4096);
	FUZZ_CHECK(b == a);
	FUZZ_CHECK(memcmp(whole, parts, (size_t)a * sizeof(uint64_t)) == 0);
}

int fv_fuzz_csv_one(const uint8_t *data, size_t size)
{
	static const struct fv_csv_opts semi = {.delimiter = ';', .decimal = ','};
	static const struct fv_csv_opts tab = {.delimiter = '\t'};
	char path[64];
	size_t off = 0;
	int fd;

	fd = memfd_create("fuzz_csv", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		FUZZ_CHECK(w > 0);
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fuzz_reader(path, NULL);
	fuzz_reader(path, &semi);
	fuzz_reader(path, &tab);
	fuzz_dataset(path);
	fuzz_parts(path);
	close(fd);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_csv_one(data, size);
}
#endif
