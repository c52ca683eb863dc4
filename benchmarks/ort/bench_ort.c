/* fedval's side of benchmarks/ort/run.sh: the same ONNX file and input as onnxruntime-node,
 * through the node's evaluation paths.
 *
 * usage: bench_ort predict|run MODEL.onnx INPUT.bin DIMS THREADS REPEATS OUT.bin
 *   INPUT.bin  float32, row-major, of shape DIMS ("1000000,50" or "8,3,224,224")
 *   predict    fv_model_predict (a binary classifier's probability of class 1 per row, as a
 *              node scores tabular records); OUT.bin gets those as float32 [rows]
 *   run        fv_model_run on the tensor (the graph's single input, its first output);
 *              OUT.bin gets the output as float32 (an image model's logits)
 *   THREADS    the rows (or the batch) are cut into THREADS contiguous slices, each scored by
 *              its own thread with the same loaded model, as node/eval.c does; OpenBLAS is
 *              held to one thread (its threads would compete with ours)
 *
 * One untimed run, then REPEATS timed runs (wall clock, model loaded, input in memory); prints
 * one JSON line with the median and the minimum. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "fedval/model.h"
#include "fedval/util.h"

#include "../bench_util.h"

#define MAX_THREADS 64

struct slice {
	const struct fv_model *m;
	bool predict;
	const float *x;
	size_t n;	     /* rows or images */
	size_t per;	     /* floats per row or image */
	const int64_t *dims; /* full input dims (run) */
	size_t rank;
	float *y;     /* output of this slice */
	size_t y_per; /* output floats per row or image (run: learnt on the first run) */
	size_t y_cap; /* floats available at y */
	fv_err e;
	struct fv_diag d;
};

static void *run_slice(void *arg)
{
	struct slice *s = arg;

	if (s->predict) {
		double *p = malloc((s->n ? s->n : 1) * sizeof(double));
		if (!p) {
			s->e = FV_ENOMEM;
			return NULL;
		}
		s->e = fv_model_predict(s->m, s->x, s->n, p, &s->d);
		for (size_t i = 0; s->e == FV_OK && i < s->n; i++)
			s->y[i] = (float)p[i];
		free(p);
	} else {
		const char *in_name = fv_model_input_name_at(s->m, 0),
			   *out_name = fv_model_output_name_at(s->m, 0);
		struct fv_tensor in = {0}, out = {0};
		in.dtype = FV_DTYPE_FLOAT;
		in.rank = s->rank;
		memcpy(in.dims, s->dims, s->rank * sizeof(int64_t));
		in.dims[0] = (int64_t)s->n;
		in.count = s->n * s->per;
		in.data = (void *)s->x;
		s->e = fv_model_run(s->m, 1, &in_name, &in, 1, &out_name, &out, &s->d);
		if (s->e == FV_OK) {
			if (out.dtype != FV_DTYPE_FLOAT || out.count > s->y_cap)
				s->e = FV_EINVAL;
			else
				memcpy(s->y, out.data, out.count * sizeof(float));
			s->y_per = s->n ? out.count / s->n : 0;
		}
		fv_tensor_fini(&out);
	}
	return NULL;
}

/* One run over all rows on nt threads; y gets out_per floats per row (run: out_per 0 on the
 * first call, learnt then; y must hold ycap floats). Returns the wall time or -1. */
static double run(struct slice *tmpl, size_t rows, size_t nt, float *y, size_t ycap,
		  size_t *out_per)
{
	struct slice s[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	size_t per = (rows + nt - 1) / nt, started = 0;
	double t0 = bench_now(), t1;
	int bad = 0;

	for (size_t t = 0; t < nt; t++) {
		size_t r0 = t * per < rows ? t * per : rows;
		s[t] = *tmpl;
		s[t].x = tmpl->x + r0 * tmpl->per;
		s[t].n = rows - r0 < per ? rows - r0 : per;
		s[t].y = y + r0 * *out_per;
		s[t].y_cap = *out_per ? s[t].n * *out_per : ycap;
		if (!*out_per && nt > 1) {
			fprintf(stderr, "bench_ort: internal: output size unknown\n");
			return -1;
		}
		if (pthread_create(&th[t], NULL, run_slice, &s[t]) != 0) {
			fprintf(stderr, "bench_ort: cannot start thread %zu\n", t);
			bad = 1;
			break;
		}
		started++;
	}
	for (size_t t = 0; t < started; t++) {
		pthread_join(th[t], NULL);
		if (s[t].e != FV_OK) {
			fprintf(stderr, "bench_ort: %s: %s\n", fv_strerror(s[t].e), s[t].d.msg);
			bad = 1;
		}
	}
	t1 = bench_now();
	if (!*out_per && !bad)
		*out_per = tmpl->predict ? 1 : s[0].y_per;
	return bad ? -1 : t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	struct slice tmpl;
	void *model = NULL, *xb = NULL;
	float *y = NULL;
	double *ts = NULL, med;
	int64_t dims[FV_MAX_TENSOR_RANK];
	size_t mlen, xlen, rank = 0, count = 1, nt, reps, rows, per, ycap, out_per = 0;
	char *end;
	FILE *f = NULL;
	int rc = 1;

	if (argc != 8 || (strcmp(argv[1], "predict") && strcmp(argv[1], "run"))) {
		fprintf(stderr, "usage: bench_ort predict|run MODEL.onnx INPUT.bin DIMS THREADS "
				"REPEATS OUT.bin\n");
		return 2;
	}
	for (const char *p = argv[4];; p = end + 1) {
		long long v = strtoll(p, &end, 10);
		if (end == p || (*end && *end != ',') || v < 1 || rank == FV_MAX_TENSOR_RANK) {
			fprintf(stderr, "bench_ort: bad DIMS\n");
			return 2;
		}
		dims[rank++] = v;
		count *= (size_t)v;
		if (!*end)
			break;
	}
	nt = strtoul(argv[5], &end, 10);
	reps = strtoul(argv[6], &end, 10);
	if (rank < 2 || !nt || nt > MAX_THREADS || !reps) {
		fprintf(stderr, "bench_ort: bad DIMS, THREADS or REPEATS\n");
		return 2;
	}
	rows = (size_t)dims[0];
	per = count / rows;
	if (!(model = bench_read_file("bench_ort", argv[2], &mlen)) ||
	    !(xb = bench_read_file("bench_ort", argv[3], &xlen)))
		goto out;
	if (xlen != count * sizeof(float)) {
		fprintf(stderr, "bench_ort: %s has %zu bytes, DIMS need %zu\n", argv[3], xlen,
			count * sizeof(float));
		goto out;
	}
	if (fv_model_load(model, mlen, &m, &d) != FV_OK) {
		fprintf(stderr, "bench_ort: %s: %s\n", argv[2], d.msg);
		goto out;
	}
	openblas_set_num_threads(1);
	/* Room for the output: a row's probability, or up to 4096 floats per image. */
	ycap = rows * (strcmp(argv[1], "predict") ? 4096 : 1);
	if (!(y = calloc(ycap, sizeof(float))) || !(ts = calloc(reps, sizeof(double))))
		goto out;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.m = m;
	tmpl.predict = !strcmp(argv[1], "predict");
	tmpl.x = xb;
	tmpl.per = per;
	tmpl.dims = dims;
	tmpl.rank = rank;
	/* Untimed: learns the output size (one thread), then warms the nt-thread path. */
	if (run(&tmpl, rows, 1, y, ycap, &out_per) < 0 ||
	    run(&tmpl, rows, nt, y, ycap, &out_per) < 0)
		goto out;
	for (size_t r = 0; r < reps; r++)
		if ((ts[r] = run(&tmpl, rows, nt, y, ycap, &out_per)) < 0)
			goto out;
	if (!(f = fopen(argv[7], "wb")) ||
	    fwrite(y, sizeof(float), rows * out_per, f) != rows * out_per) {
		fprintf(stderr, "bench_ort: cannot write %s\n", argv[7]);
		goto out;
	}
	qsort(ts, reps, sizeof(double), cmp_double);
	med = reps % 2 ? ts[reps / 2] : (ts[reps / 2 - 1] + ts[reps / 2]) / 2;
	printf("{\"engine\": \"fedval\", \"model\": \"%s\", \"mode\": \"%s\", \"threads\": %zu, "
	       "\"batch\": %zu, \"seconds_median\": %.6f, \"seconds_min\": %.6f, \"runs\": %zu}\n",
	       argv[2], argv[1], nt, rows, med, ts[0], reps);
	rc = 0;
out:
	if (f && fclose(f) != 0)
		rc = 1;
	fv_model_free(m);
	free(model);
	free(xb);
	free(y);
	free(ts);
	return rc;
}
