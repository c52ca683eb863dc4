/* The node's evaluation: the streaming pipeline and the score summary.
 *  - node_summarise equals the stats module's DeLong AUROC and confusion counts;
 *  - the result is bit-for-bit the same for any thread count, batch size or record order;
 *  - CSV and SQLite sources give the same result on the same records. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

static const double THR[] = {0.5, 0.1, 0.25, 0.9, 1.5, 0.0};
#define NTHR (sizeof(THR) / sizeof(THR[0]))

Test(summary, matches_stats_module_with_ties)
{
	size_t n = 20000;
	double *p = malloc(n * sizeof(double));
	uint8_t *y = malloc(n);
	float *s = malloc(n * sizeof(float));
	struct eval_out o;
	double auc, var;
	struct fv_diag d;

	srand(7);
	for (size_t i = 0; i < n; i++) {
		/* Scores on a coarse grid (many ties) that are exact floats. */
		y[i] = rand() % 3 == 0;
		p[i] = (double)((rand() % 64) + (y[i] ? 12 : 0)) / 128.0;
		s[i] = node_pack(p[i], y[i]);
	}
	memset(&o, 0, sizeof(o));
	cr_assert_eq(node_summarise(s, n, THR, NTHR, &o), FV_OK);
	cr_assert_eq(fv_stats_auc_delong(p, y, n, &auc, &var, &d), FV_OK);
	cr_assert_float_eq(o.auc, auc, 1e-12);
	cr_assert_float_eq(o.auc_var, var, 1e-15);
	for (size_t t = 0; t < NTHR; t++) {
		struct fv_confusion c;
		cr_assert_eq(fv_stats_confusion(p, y, n, THR[t], &c), FV_OK);
		cr_assert_eq(o.tp[t], c.tp, "threshold %g", THR[t]);
		cr_assert_eq(o.fp[t], c.fp, "threshold %g", THR[t]);
		cr_assert_eq(o.tn[t], c.tn, "threshold %g", THR[t]);
		cr_assert_eq(o.fn[t], c.fn, "threshold %g", THR[t]);
		cr_assert_eq(o.thr[t], THR[t]);
	}
	free(p);
	free(y);
	free(s);
}

/* Operating points against the stats module's fv_stats_operating_point (tested there):
 * the node's threshold is the observed one moved onto the 0.01 grid — down for sensitivity
 * and positive rate, up for specificity — so the target still holds, and the counts are the
 * confusion at that grid threshold. Scores are continuous here (no exact grid values). */
Test(summary, operating_points_on_the_grid)
{
	size_t n = 5000;
	double *p = malloc(n * sizeof(double));
	uint8_t *y = malloc(n);
	float *s = malloc(n * sizeof(float));
	struct eval_out o;
	struct eval_in in;
	const uint8_t tg[4] = {NODE_OP_SENS, NODE_OP_SPEC, NODE_OP_PRATE, NODE_OP_DECLARED};
	const enum fv_op_target lt[3] = {FV_OP_SENSITIVITY, FV_OP_SPECIFICITY, FV_OP_POSITIVE_RATE};
	const double val[4] = {0.9, 0.8, 0.3, 0.37};

	srand(11);
	for (size_t i = 0; i < n; i++) {
		y[i] = rand() % 4 == 0;
		p[i] = (float)(0.6 * rand() / (double)RAND_MAX + (y[i] ? 0.3 : 0.0));
		s[i] = node_pack(p[i], y[i]);
	}
	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	in.n_op = 4;
	memcpy(in.op_target, tg, sizeof(tg));
	memcpy(in.op_value, val, sizeof(val));
	cr_assert_eq(node_summarise(s, n, THR, NTHR, &o), FV_OK);
	node_operating_points(s, n, &in, &o);
	cr_assert_eq(o.n_op, 4);
	cr_assert_eq(o.n_thr, NTHR + 4);
	for (int k = 0; k < 4; k++) {
		double t = o.thr[NTHR + k], obs;
		struct fv_confusion c, at;
		if (k < 3) {
			cr_assert_eq(
			    fv_stats_operating_point(p, y, n, lt[k], val[k], &obs, &c, NULL),
			    FV_OK);
			double want = k == 1 ? ceil(obs * 100) / 100 : floor(obs * 100) / 100;
			cr_assert_float_eq(t, want, 1e-12, "target %d: %g, observed %g", k, t, obs);
		} else {
			cr_assert_eq(t, 0.37, "the declared threshold is used as it is");
		}
		cr_assert_eq(fv_stats_confusion(p, y, n, t, &at), FV_OK);
		uint32_t r = (uint32_t)NTHR + (uint32_t)k;
		cr_assert(o.tp[r] == at.tp && o.fp[r] == at.fp && o.tn[r] == at.tn &&
			  o.fn[r] == at.fn);
		if (k == 0)
			cr_assert_geq((double)at.tp / (double)(at.tp + at.fn), 0.9);
		if (k == 1)
			cr_assert_geq((double)at.tn / (double)(at.tn + at.fp), 0.8);
		if (k == 2)
			cr_assert_geq((double)(at.tp + at.fp) / (double)n, 0.3);
	}
	free(p);
	free(y);
	free(s);
}

/* Beyond node_sort_scratch_max records the scores are sorted in place (MSD radix; the limit
 * lowered here): the statistics still equal the stats module's, a shuffled copy of the same
 * records gives the same bits, and so does the scratch-array sort. */
Test(summary, large_input_sorted_in_place, .timeout = 120)
{
	size_t n = (size_t)1500 * 1000, saved = node_sort_scratch_max;
	double *p = malloc(n * sizeof(double));
	uint8_t *y = malloc(n);
	float *s = malloc(n * sizeof(float)), *t = malloc(n * sizeof(float));
	struct eval_out *o = calloc(1, sizeof(*o)), *o2 = calloc(1, sizeof(*o2));
	double auc, var;

	srand(5);
	for (size_t i = 0; i < n; i++) {
		y[i] = rand() % 5 == 0;
		p[i] = (double)((rand() % 4096) + (y[i] ? 700 : 0)) / 8192.0; /* many ties */
		s[i] = node_pack(p[i], y[i]);
	}
	for (size_t i = 0; i < n; i++) /* a fixed shuffle: reversed, odd/even interleaved */
		t[i] = s[(i % 2) ? n - 1 - i / 2 : i / 2];
	float *u = malloc(n * sizeof(float));
	memcpy(u, t, n * sizeof(float));
	node_sort_scratch_max = 1000;
	cr_assert_eq(node_summarise(s, n, THR, NTHR, o), FV_OK);
	cr_assert_eq(fv_stats_auc_delong(p, y, n, &auc, &var, NULL), FV_OK);
	cr_assert_float_eq(o->auc, auc, 1e-12);
	cr_assert_float_eq(o->auc_var, var, 1e-15);
	for (size_t k = 0; k < NTHR; k++) {
		struct fv_confusion c;
		cr_assert_eq(fv_stats_confusion(p, y, n, THR[k], &c), FV_OK);
		cr_assert(o->tp[k] == c.tp && o->fp[k] == c.fp && o->tn[k] == c.tn &&
			  o->fn[k] == c.fn);
	}
	for (size_t i = 1; i < n; i++)
		cr_assert(fabsf(s[i - 1]) <= fabsf(s[i]), "not sorted at %zu", i);
	cr_assert_eq(node_summarise(t, n, THR, NTHR, o2), FV_OK);
	cr_assert_eq(memcmp(o, o2, sizeof(*o)), 0, "record order changed the result");
	node_sort_scratch_max = saved;
	memset(o2, 0, sizeof(*o2));
	cr_assert_eq(node_summarise(u, n, THR, NTHR, o2), FV_OK);
	cr_assert_eq(memcmp(o, o2, sizeof(*o)), 0, "the two sorts differ");
	cr_assert_eq(memcmp(t, u, n * sizeof(float)), 0, "the two sorts order differently");
	free(u);
	free(p);
	free(y);
	free(s);
	free(t);
	free(o);
	free(o2);
}

/* The compact store (2 bytes a record) gives bit for bit what the sorted array gives: the
 * summary, the threshold counts and the operating points, with ties, scores of 0 and 1,
 * buckets small and large, and the records added in any order. */
Test(summary, compact_store_equals_array)
{
	size_t n = 300000;
	float *s = malloc(n * sizeof(float));
	struct eval_out *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node_store *st = NULL;
	struct eval_in in;
	const uint8_t tg[4] = {NODE_OP_SENS, NODE_OP_SPEC, NODE_OP_PRATE, NODE_OP_DECLARED};
	const double val[4] = {0.9, 0.8, 0.3, 0.37};

	srand(3);
	for (size_t i = 0; i < n; i++) {
		uint8_t y = rand() % 3 == 0;
		double p = i % 10 == 0	 ? (double)(rand() % 40) / 64.0 /* ties on a grid */
			   : i % 97 == 0 ? (double)(rand() % 2)		/* exactly 0 or 1 */
					 : pow((double)rand() / RAND_MAX, y ? 0.5 : 2.0);
		s[i] = node_pack(p, y);
	}
	cr_assert_eq(node_store_new(&st), FV_OK);
	for (size_t i = n; i-- > 0;) /* the other order */
		cr_assert_eq(node_store_add(st, s[i]), FV_OK);
	cr_assert_eq(node_store_count(st), n);
	memset(&in, 0, sizeof(in));
	in.n_op = 4;
	memcpy(in.op_target, tg, sizeof(tg));
	memcpy(in.op_value, val, sizeof(val));
	cr_assert_eq(node_summarise(s, n, THR, NTHR, a), FV_OK);
	node_operating_points(s, n, &in, a);
	cr_assert_eq(node_summarise_store(st, THR, NTHR, b), FV_OK);
	node_operating_points_store(st, &in, b);
	cr_assert(isfinite(a->auc) && a->n_op == 4);
	cr_assert_eq(memcmp(a, b, sizeof(*a)), 0, "store and array differ: AUROC %.17g vs %.17g",
		     a->auc, b->auc);
	node_store_free(st);
	free(s);
	free(a);
	free(b);
}

Test(summary, one_class_gives_no_auc)
{
	float s[3] = {node_pack(0.2, 0), node_pack(0.4, 0), node_pack(0.9, 0)};
	struct eval_out o;
	memset(&o, 0, sizeof(o));
	cr_assert_eq(node_summarise(s, 3, THR, NTHR, &o), FV_OK);
	cr_assert(isnan(o.auc));
	cr_assert_eq(o.n_pos, 0);
	cr_assert_eq(o.tn[0] + o.fp[0], 3);
}

/* ---- the pipeline on real files ---- */

static char dir[64];
static char csv[128], db[128];
static uint8_t *model;
static size_t model_len;

static void setup(void)
{
	struct fv_diag d = {{0}};
	const char *const *preds = fv_synth_hf_predictors();
	double coef[32];
	size_t np = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fv-node-eval-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(csv, sizeof(csv), "%s/records.csv", dir);
	snprintf(db, sizeof(db), "%s/records.db", dir);
	f = fopen(csv, "w");
	cr_assert_eq(fv_synth_hf_write(f, 2, 5, 5003, &d), FV_OK);
	fclose(f);
	while (preds[np])
		np++;
	for (size_t j = 0; j < np; j++)
		coef[j] = 0.01 * (double)((int)(j % 5) - 2);
	cr_assert_eq(fv_model_write_logreg("input", np, coef, -1.0, &model, &model_len, &d), FV_OK);
}

static void teardown(void)
{
	char cmd[128];
	fv_free(model);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* 1: cut even this small CSV file into parts (parts mode); 0: the default size limit */
static uint64_t part_min;

static void run(const struct fv_source_spec *spec, int threads, size_t batch, struct eval_out *o)
{
	const char *const *preds = fv_synth_hf_predictors();
	size_t np = 0;
	while (preds[np])
		np++;
	struct eval_in in = {.model = model,
			     .model_len = model_len,
			     .nvars = np,
			     .vars = (const char **)preds,
			     .columns = (const char **)preds,
			     .label_column = fv_synth_hf_label(),
			     .source = spec,
			     .n_thr = NTHR,
			     .timeout_s = 60,
			     .threads = threads,
			     .batch_rows = batch,
			     .part_min_bytes = part_min};
	memcpy(in.thr, THR, sizeof(THR));
	/* a subgroup of distinct values (numbered as they appear, so by timing) and one of
	 * bands, and two operating points: all must come out the same for any thread count */
	for (size_t j = 0; j < np; j++) {
		if (!strcmp(preds[j], "nyha_class"))
			in.sub[0] = (struct node_subgroup){"nyha", j, 0, {0}};
		if (!strcmp(preds[j], "age"))
			in.sub[1] = (struct node_subgroup){"age_band", j, 2, {65, 80}};
	}
	in.n_sub = 2;
	in.n_op = 2;
	in.op_target[0] = NODE_OP_SENS;
	in.op_value[0] = 0.8;
	in.op_target[1] = NODE_OP_SPEC;
	in.op_value[1] = 0.9;
	node_eval_compute(&in, o);
	cr_assert_eq(o->status, 0, "%s", o->error);
	cr_assert(o->n_subres >= 4 && o->n_op == 2);
	o->rows_per_s = 0; /* a timing, not a statistic */
}

Test(pipeline, bit_identical_for_any_threads_and_batch, .init = setup, .fini = teardown)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = csv};
	struct eval_out *ref = calloc(1, sizeof(*ref)), *o = calloc(1, sizeof(*o));
	const int threads[] = {1, 2, 4, 7};
	const size_t batches[] = {1, 7, 1000, 8192};

	part_min = 0;
	run(&spec, 1, 8192, ref);
	cr_assert_eq(ref->n, 5003);
	/* the file parsed by one thread, and cut into parts parsed by all (part_min 1) */
	for (int pm = 0; pm < 2; pm++) {
		part_min = (uint64_t)pm;
		for (size_t t = 0; t < 4; t++) {
			for (size_t b = 0; b < 4; b++) {
				memset(o, 0xa5, sizeof(*o));
				run(&spec, threads[t], batches[b], o);
				cr_assert_eq(memcmp(ref, o, sizeof(*o)), 0,
					     "threads %d batch %zu parts %d differ", threads[t],
					     batches[b], pm);
			}
		}
	}
	part_min = 0;
	free(ref);
	free(o);
}

/* The same records in a SQLite table (in a shuffled order) give the same statistics. */
Test(pipeline, sqlite_source_equals_csv, .init = setup, .fini = teardown)
{
	struct fv_source_spec c = {.kind = FV_SOURCE_CSV, .path = csv};
	struct fv_source_spec s = {.kind = FV_SOURCE_SQLITE, .path = db, .table = "admissions"};
	struct fv_source_spec q = {.kind = FV_SOURCE_SQLITE,
				   .path = db,
				   .query = "SELECT * FROM admissions ORDER BY random()"};
	struct fv_source_spec w = {
	    .kind = FV_SOURCE_SQLITE, .path = db, .query = "DELETE FROM admissions RETURNING *"};
	struct eval_out *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct fv_source *src = NULL;
	struct fv_diag d = {{0}};
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sqlite3 %s \".mode csv\" \".import %s admissions\" 2>&1", db,
		 csv);
	cr_assert_eq(system(cmd), 0);
	run(&c, 2, 500, a);
	run(&s, 2, 500, b);
	cr_assert_eq(memcmp(a, b, sizeof(*a)), 0);
	run(&q, 3, 333, b);
	cr_assert_eq(memcmp(a, b, sizeof(*a)), 0, "record order changed the result");
	/* A query that writes is refused before any row is read. */
	cr_assert_eq(fv_source_open(&w, NULL, &src, &d), FV_EREFUSED, "%s", d.msg);
	free(a);
	free(b);
}

/* A data error names the record for the local operator. */
Test(pipeline, bad_value_names_record, .init = setup, .fini = teardown)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = csv};
	struct eval_out *o = calloc(1, sizeof(*o));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sed -i '4000s/^\\([^,]*\\),[^,]*,/\\1,abc,/' %s", csv);
	cr_assert_eq(system(cmd), 0);
	const char *const *preds = fv_synth_hf_predictors();
	size_t np = 0;
	while (preds[np])
		np++;
	struct eval_in in = {.model = model,
			     .model_len = model_len,
			     .nvars = np,
			     .vars = (const char **)preds,
			     .columns = (const char **)preds,
			     .label_column = fv_synth_hf_label(),
			     .source = &spec,
			     .n_thr = 1,
			     .thr = {0.5},
			     .timeout_s = 60,
			     .threads = 2,
			     .batch_rows = 100};
	node_eval_compute(&in, o);
	cr_assert_eq(o->status, FV_EINVAL);
	cr_assert(strstr(o->error, "line 4000") && strstr(o->error, "'age'"), "%s", o->error);
	/* Cut into parts parsed by both threads: the same, first, error and line, also with a
	 * second bad value in a later part (the first in file order wins). */
	snprintf(cmd, sizeof(cmd), "sed -i '4900s/^\\([^,]*\\),[^,]*,/\\1,xyz,/' %s", csv);
	cr_assert_eq(system(cmd), 0);
	in.part_min_bytes = 1;
	for (int rep = 0; rep < 5; rep++) {
		memset(o, 0, sizeof(*o));
		node_eval_compute(&in, o);
		cr_assert_eq(o->status, FV_EINVAL);
		cr_assert(strstr(o->error, "line 4000") && strstr(o->error, "'age'"), "%s",
			  o->error);
	}
	free(o);
}
