/* CSV ingest + parse throughput of lib/data/csv.c (benchmarks/ingest/run.sh): the node's CSV
 * reader splits every record into fields and converts every field with fv_csv_parse_double,
 * on one thread or on T threads that each read one part of the file (fv_csv_split +
 * fv_csv_set_range, as the node's evaluation does for large files). Nothing is scored.
 *
 *   bench_ingest make FILE ROWS            write the benchmark's numeric CSV (13 columns)
 *   bench_ingest time FILE THREADS REPEATS one JSON line: best wall time of REPEATS runs,
 *                                          bytes, MB/s, rows, columns, bad fields, sum
 *   bench_ingest verify FILE               every field converted by fv_csv_parse_double
 *                                          against strtod, bit for bit; exit 1 on a mismatch
 *
 * Not installed, not part of the normal build (EXCLUDE_FROM_ALL). */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fedval/data.h"
#include "fedval/err.h"

#define MAX_THREADS 64

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same file for the same ROWS on any machine. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Columns like a clinical export: an id, lab values with 1-2 decimals, ratios with 4-6,
 * small integers, one model score at full double precision and one value in exponent form. */
static int make(const char *path, long rows)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f, "id,age,sbp,creatinine,sodium,bmi,ef,ratio_a,ratio_b,nyha,visits,score,"
		   "bnp\n");
	for (long i = 1; i <= rows; i++)
		fprintf(f, "%ld,%.1f,%.1f,%.2f,%.1f,%.2f,%.4f,%.6f,%.5f,%d,%d,%.17g,%.3e\n", i,
			18 + 80 * unif(), 80 + 120 * unif(), 0.3 + 4 * unif(), 125 + 25 * unif(),
			15 + 30 * unif(), unif(), unif(), 10 * unif() - 5, (int)(rnd() % 4) + 1,
			(int)(rnd() % 40), unif(), 1e4 * unif() * unif());
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

struct part {
	const char *path;
	uint64_t start, end, line; /* end 0: the whole file */
	uint64_t rows, bad, mismatches;
	size_t cols;
	double sum;
	int verify;
	char err[600];
};

static void *scan(void *arg)
{
	struct part *p = arg;
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	char **f;
	bool eof = false;

	if (fv_csv_open(p->path, NULL, &c, &d) != FV_OK ||
	    (p->end && fv_csv_set_range(c, p->start, p->end, p->line, &d) != FV_OK)) {
		snprintf(p->err, sizeof(p->err), "%s", d.msg);
		fv_csv_close(c);
		return NULL;
	}
	p->cols = fv_csv_ncols(c);
	while (fv_csv_next(c, &f, &eof, &d) == FV_OK && !eof) {
		p->rows++;
		for (size_t i = 0; i < p->cols; i++) {
			struct fv_diag why;
			double v;
			if (fv_csv_parse_double(c, f[i], &v, &why) != FV_OK) {
				p->bad++;
				continue;
			}
			p->sum += v;
			if (p->verify) {
				double r = strtod(f[i], NULL);
				if (memcmp(&r, &v, sizeof(v)) != 0) {
					if (!p->mismatches)
						fprintf(stderr,
							"line %" PRIu64 " field %zu '%s': "
							"%.17g, strtod %.17g\n",
							fv_csv_line(c), i + 1, f[i], v, r);
					p->mismatches++;
				}
			}
		}
	}
	if (d.msg[0])
		snprintf(p->err, sizeof(p->err), "%s", d.msg);
	fv_csv_close(c);
	return NULL;
}

/* One pass over the file on nthreads threads; returns the wall time, totals in *tot. */
static double run(const char *path, size_t nthreads, int verify, struct part *tot)
{
	struct part parts[MAX_THREADS];
	uint64_t start[MAX_THREADS], line[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	struct fv_diag d = {{0}};
	size_t got = 1;
	double t0 = now_s(), t;
	struct stat st;

	memset(parts, 0, sizeof(parts));
	if (stat(path, &st) != 0) {
		perror(path);
		exit(1);
	}
	if (nthreads > 1 && fv_csv_split(path, nthreads, start, line, &got, &d) != FV_OK) {
		fprintf(stderr, "split: %s\n", d.msg);
		exit(1);
	}
	for (size_t k = 0; k < got; k++) {
		parts[k].path = path;
		parts[k].verify = verify;
		if (nthreads > 1) {
			parts[k].start = start[k];
			parts[k].line = line[k];
			parts[k].end = k + 1 < got ? start[k + 1] : (uint64_t)st.st_size;
		}
		if (pthread_create(&tid[k], NULL, scan, &parts[k]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	memset(tot, 0, sizeof(*tot));
	for (size_t k = 0; k < got; k++) {
		pthread_join(tid[k], NULL);
		if (parts[k].err[0]) {
			fprintf(stderr, "part %zu: %s\n", k, parts[k].err);
			exit(1);
		}
		tot->rows += parts[k].rows;
		tot->bad += parts[k].bad;
		tot->mismatches += parts[k].mismatches;
		tot->sum += parts[k].sum;
		tot->cols = parts[k].cols;
	}
	t = now_s() - t0;
	return t;
}

int main(int argc, char **argv)
{
	struct part tot;
	struct stat st;

	if (argc == 4 && !strcmp(argv[1], "make"))
		return make(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "verify")) {
		run(argv[2], 1, 1, &tot);
		printf("{\"rows\": %" PRIu64 ", \"fields\": %" PRIu64 ", \"bad\": %" PRIu64
		       ", \"mismatches\": %" PRIu64 "}\n",
		       tot.rows, tot.rows * tot.cols, tot.bad, tot.mismatches);
		return tot.mismatches ? 1 : 0;
	}
	if (argc == 5 && !strcmp(argv[1], "time")) {
		long threads = strtol(argv[3], NULL, 10), repeats = strtol(argv[4], NULL, 10);
		double best = INFINITY;
		if (threads < 1 || threads > MAX_THREADS || repeats < 1 || stat(argv[2], &st)) {
			fprintf(stderr, "bench_ingest: bad arguments\n");
			return 2;
		}
		for (long r = 0; r < repeats; r++) {
			double t = run(argv[2], (size_t)threads, 0, &tot);
			if (t < best)
				best = t;
		}
		printf("{\"threads\": %ld, \"seconds\": %.4f, \"bytes\": %lld, \"mb_s\": %.1f, "
		       "\"rows\": %" PRIu64 ", \"cols\": %zu, \"bad\": %" PRIu64
		       ", \"sum\": %.17g}\n",
		       threads, best, (long long)st.st_size, (double)st.st_size / 1e6 / best,
		       tot.rows, tot.cols, tot.bad, tot.sum);
		return 0;
	}
	fprintf(stderr, "usage: bench_ingest make FILE ROWS | time FILE THREADS REPEATS | verify "
			"FILE\n");
	return 2;
}
