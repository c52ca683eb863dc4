/* AUROC + DeLong variance throughput: lib/stats's fv_stats_auc_delong (float64 scores) and the
 * node's own path, node_summarise from node/summary.c (float32 scores with the label in the
 * sign bit, radix-sorted), on one thread, over scores held in memory.
 *
 * usage: bench_auc SCORES.f64 LABELS.u8 REPEATS
 *   SCORES.f64  float64 [n] (numpy tofile), LABELS.u8  uint8 [n] in {0, 1}
 *
 * Prints one line of JSON with, for each of "stats" (fv_stats_auc_delong) and "node"
 * (node_summarise, 4 thresholds, as a node's job): seconds (best of REPEATS after an untimed
 * run), scores_per_s, auc, var. node_summarise sorts in place, so each run starts from a fresh
 * copy of the packed array (the copy is not timed; packing is, separately, as "pack_seconds":
 * a node packs while scoring). "node_check_auc"/"node_check_var" are fv_stats_auc_delong on the
 * float32-rounded scores (untimed): node_summarise must agree with them. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

#include "../bench_util.h"

static struct eval_out out; /* large; static */

int main(int argc, char **argv)
{
	static const double thr[4] = {0.1, 0.2, 0.5, 0.8};
	size_t slen, llen, n, reps;
	double *s = NULL, *s32 = NULL, auc = NAN, var = NAN, cauc = NAN, cvar = NAN;
	double best_stats = -1, best_node = -1, best_pack = -1;
	uint8_t *y = NULL;
	float *packed = NULL, *work = NULL;
	struct fv_diag d = {{0}};
	int rc = 1;

	if (argc != 4 || !(reps = strtoul(argv[3], NULL, 10))) {
		fprintf(stderr, "usage: bench_auc SCORES.f64 LABELS.u8 REPEATS\n");
		return 2;
	}
	if (!(s = bench_read_file("bench_auc", argv[1], &slen)) ||
	    !(y = bench_read_file("bench_auc", argv[2], &llen)))
		goto done;
	n = llen;
	if (slen != n * sizeof(double)) {
		fprintf(stderr, "bench_auc: %s has %zu bytes, %zu labels\n", argv[1], slen, n);
		goto done;
	}
	if (!(packed = malloc(n * sizeof(float))) || !(work = malloc(n * sizeof(float))) ||
	    !(s32 = malloc(n * sizeof(double))))
		goto done;

	/* lib/stats, float64 scores */
	for (size_t r = 0; r <= reps; r++) {
		double t0 = bench_now();
		if (fv_stats_auc_delong(s, y, n, &auc, &var, &d) != FV_OK) {
			fprintf(stderr, "bench_auc: fv_stats_auc_delong: %s\n", d.msg);
			goto done;
		}
		double t = bench_now() - t0;
		if (r > 0 && (best_stats < 0 || t < best_stats))
			best_stats = t;
	}

	/* the node: pack (as the workers do while scoring), then summarise */
	for (size_t r = 0; r <= reps; r++) {
		double t0 = bench_now();
		for (size_t i = 0; i < n; i++)
			packed[i] = node_pack(s[i], y[i]);
		double t = bench_now() - t0;
		if (r > 0 && (best_pack < 0 || t < best_pack))
			best_pack = t;
	}
	for (size_t r = 0; r <= reps; r++) {
		memcpy(work, packed, n * sizeof(float));
		double t0 = bench_now();
		memset(&out, 0, sizeof(out));
		if (node_summarise(work, n, thr, 4, &out) != FV_OK) {
			fprintf(stderr, "bench_auc: node_summarise: out of memory\n");
			goto done;
		}
		double t = bench_now() - t0;
		if (r > 0 && (best_node < 0 || t < best_node))
			best_node = t;
	}
	/* untimed check: lib/stats on the same float32-rounded scores */
	for (size_t i = 0; i < n; i++)
		s32[i] = (double)(float)s[i];
	if (fv_stats_auc_delong(s32, y, n, &cauc, &cvar, &d) != FV_OK) {
		fprintf(stderr, "bench_auc: fv_stats_auc_delong (float32 check): %s\n", d.msg);
		goto done;
	}
	printf(
	    "{\"n\": %zu, \"stats\": {\"seconds\": %.6f, \"scores_per_s\": %.1f, \"auc\": %.17g, "
	    "\"var\": %.17g}, \"node\": {\"seconds\": %.6f, \"scores_per_s\": %.1f, "
	    "\"pack_seconds\": %.6f, \"auc\": %.17g, \"var\": %.17g, \"check_auc\": %.17g, "
	    "\"check_var\": %.17g}}\n",
	    n, best_stats, (double)n / best_stats, auc, var, best_node, (double)n / best_node,
	    best_pack, out.auc, out.auc_var, cauc, cvar);
	rc = 0;
done:
	free(s);
	free(y);
	free(s32);
	free(packed);
	free(work);
	return rc;
}
