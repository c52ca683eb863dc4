/* Shared by the benchmark programs (bench_predict, bench_ort, bench_auc): a monotonic clock in
 * seconds and reading a whole input file. Benchmarks only; never part of fedval. */
#ifndef FEDVAL_BENCH_UTIL_H
#define FEDVAL_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole file in a malloc'd buffer (free), or NULL after a message naming prog and path. */
static inline void *bench_read_file(const char *prog, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n ? (size_t)n : 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno ? errno : EIO));
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#endif
