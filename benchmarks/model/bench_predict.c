/* Batch prediction throughput of fedval's model runtime: fv_model_predict (the node's
 * evaluation path) over rows held in memory, on one thread and on several, each thread
 * scoring a contiguous slice of the rows with the same loaded model.
 *
 * usage: bench_predict MODEL.onnx X.bin NF THREADS REPEATS [P_REF.bin]
 *   X.bin     float32 [rows, NF], row-major (numpy tofile)
 *   P_REF.bin float64 [rows], scikit-learn's predict_proba[:, 1] on the same rows: the
 *             largest relative difference is reported (a check that the timed work is right)
 *
 * Prints one line of JSON: {"model":..., "rows":..., "threads":..., "seconds":...,
 * "rows_per_s":..., "max_rel_err":..., "read_seconds":..., "read_rows_per_s":...,
 * "read_gb_per_s":...}; seconds is the best of REPEATS runs after an untimed one (wall clock,
 * model already loaded, rows already in memory). The read_* fields are the memory-bandwidth
 * reference measured in the same process on the same array and the same threads: a plain sum
 * of every float of X (each thread its slice, vectorised, four independent accumulators), best
 * of REPEATS, interleaved with the prediction runs. No model can score rows faster than it can
 * read them, so rows_per_s / read_rows_per_s is the fraction of the bandwidth limit reached. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fedval/model.h"
#include "fedval/util.h"

#include "../bench_util.h"

#define MAX_THREADS 256

struct slice {
	const struct fv_model *m; /* NULL: the memory read reference */
	const float *x;
	size_t rows, nf;
	double *p;
	float sum; /* the read's result, so that it is not optimised away */
	fv_err e;
	struct fv_diag d;
};

typedef float v8f __attribute__((vector_size(32)));

/* The sum of x[0..n): streams the array once at full speed (GCC vector extension, so SSE2 or
 * AVX as the target allows; four accumulators hide the add latency). */
static float read_all(const float *x, size_t n)
{
	v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, t0, t1, t2, t3;
	size_t i = 0;
	float s = 0;

	for (; i + 32 <= n; i += 32) {
		memcpy(&t0, x + i, sizeof(t0));
		memcpy(&t1, x + i + 8, sizeof(t1));
		memcpy(&t2, x + i + 16, sizeof(t2));
		memcpy(&t3, x + i + 24, sizeof(t3));
		a0 += t0;
		a1 += t1;
		a2 += t2;
		a3 += t3;
	}
	a0 += a1 + a2 + a3;
	for (int k = 0; k < 8; k++)
		s += a0[k];
	for (; i < n; i++)
		s += x[i];
	return s;
}

static void *run_slice(void *arg)
{
	struct slice *s = arg;
	if (s->m)
		s->e = fv_model_predict(s->m, s->x, s->rows, s->p, &s->d);
	else
		s->sum = read_all(s->x, s->rows * s->nf);
	return NULL;
}

static volatile float sink;

/* Score all rows on nt threads (m NULL: only read them); returns the wall time, or a negative
 * value on error. */
static double run(const struct fv_model *m, const float *x, size_t rows, size_t nf, double *p,
		  size_t nt)
{
	struct slice s[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	size_t per = (rows + nt - 1) / nt;
	double t0 = bench_now(), t1;
	int bad = 0;

	for (size_t t = 0; t < nt; t++) {
		size_t r0 = t * per < rows ? t * per : rows;
		memset(&s[t], 0, sizeof(s[t]));
		s[t].m = m;
		s[t].x = x + r0 * nf;
		s[t].rows = rows - r0 < per ? rows - r0 : per;
		s[t].nf = nf;
		s[t].p = p + r0;
		if (pthread_create(&th[t], NULL, run_slice, &s[t]) != 0) {
			fprintf(stderr, "bench_predict: cannot start thread %zu\n", t);
			nt = t;
			bad = 1;
			break;
		}
	}
	for (size_t t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		if (s[t].e != FV_OK) {
			fprintf(stderr, "bench_predict: %s: %s\n", fv_strerror(s[t].e), s[t].d.msg);
			bad = 1;
		}
		sink += s[t].sum;
	}
	t1 = bench_now();
	return bad ? -1 : t1 - t0;
}

int main(int argc, char **argv)
{
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	void *model = NULL, *xb = NULL, *pb = NULL;
	size_t mlen, xlen, plen = 0, nf, nt, reps, rows;
	double *p = NULL, best = -1, err = -1, rbest = -1;
	const double *ref = NULL;
	char *end;
	int rc = 1;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: bench_predict MODEL.onnx X.bin NF THREADS REPEATS "
				"[P_REF.bin]\n");
		return 2;
	}
	nf = strtoul(argv[3], &end, 10);
	nt = strtoul(argv[4], &end, 10);
	reps = strtoul(argv[5], &end, 10);
	if (!nf || !nt || nt > MAX_THREADS || !reps) {
		fprintf(stderr, "bench_predict: bad NF, THREADS or REPEATS\n");
		return 2;
	}
	if (!(model = bench_read_file("bench_predict", argv[1], &mlen)) ||
	    !(xb = bench_read_file("bench_predict", argv[2], &xlen)))
		goto out;
	if (argc == 7 && !(pb = bench_read_file("bench_predict", argv[6], &plen)))
		goto out;
	rows = xlen / (nf * sizeof(float));
	if (xlen % (nf * sizeof(float)) || (pb && plen != rows * sizeof(double))) {
		fprintf(stderr, "bench_predict: file sizes do not match NF\n");
		goto out;
	}
	ref = pb;
	if (fv_model_load(model, mlen, &m, &d) != FV_OK) {
		fprintf(stderr, "bench_predict: %s: %s\n", argv[1], d.msg);
		goto out;
	}
	if (fv_model_n_features(m) != nf) {
		fprintf(stderr, "bench_predict: the model takes %zu features\n",
			fv_model_n_features(m));
		goto out;
	}
	if (!(p = calloc(rows ? rows : 1, sizeof(double))))
		goto out;
	/* An untimed run first: page faults on p, OpenBLAS's start-up, caches. */
	if (run(m, xb, rows, nf, p, nt) < 0 || run(NULL, xb, rows, nf, p, nt) < 0)
		goto out;
	for (size_t r = 0; r < reps; r++) {
		double t = run(m, xb, rows, nf, p, nt), tr = run(NULL, xb, rows, nf, p, nt);
		if (t < 0 || tr < 0)
			goto out;
		if (best < 0 || t < best)
			best = t;
		if (rbest < 0 || tr < rbest)
			rbest = tr;
	}
	if (ref) {
		err = 0;
		for (size_t i = 0; i < rows; i++) {
			double e = ref[i] ? (p[i] - ref[i]) / ref[i] : p[i];
			e = e < 0 ? -e : e;
			err = e > err ? e : err;
		}
	}
	printf("{\"model\": \"%s\", \"rows\": %zu, \"threads\": %zu, \"seconds\": %.6f, "
	       "\"rows_per_s\": %.1f, \"max_rel_err\": %.3g, \"read_seconds\": %.6f, "
	       "\"read_rows_per_s\": %.1f, \"read_gb_per_s\": %.3f}\n",
	       argv[1], rows, nt, best, (double)rows / best, err, rbest, (double)rows / rbest,
	       (double)xlen / rbest / 1e9);
	rc = 0;
out:
	fv_model_free(m);
	free(model);
	free(xb);
	free(pb);
	free(p);
	return rc;
}
