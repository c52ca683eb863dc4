/* The evaluation worker's real work under lib/util/sandbox.c's filter: the ONNX runtime with
 * OpenBLAS on worker threads, reading CSV and SQLite sources opened before entering, and
 * node_eval_compute as a whole. Each run forks a child that enters the sandbox and sends its
 * result through a pipe; the parent compares it with the same work done unsandboxed. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/sandbox.h"
#include "fedval/util.h"
#include "node.h"
#include "unit/data/image_test.h"
#include "unit/pg_test.h"

#define ROWS	 3001
#define BATCH	 256
#define NTHREADS 4

static char dir[64], csv[128], db[128];
static uint8_t *model;
static size_t model_len, npred;

static void setup(void)
{
	struct fv_diag d = {{0}};
	const char *const *preds = fv_synth_hf_predictors();
	double coef[64];
	char cmd[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fv-sandbox-eval-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(csv, sizeof(csv), "%s/records.csv", dir);
	snprintf(db, sizeof(db), "%s/records.db", dir);
	cr_assert_not_null(f = fopen(csv, "w"));
	cr_assert_eq(fv_synth_hf_write(f, 2, 11, ROWS, &d), FV_OK, "%s", d.msg);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s \".mode csv\" \".import %s admissions\" 2>&1", db,
		 csv);
	cr_assert_eq(system(cmd), 0);
	for (npred = 0; preds[npred]; npred++)
		coef[npred] = 0.02 * (double)((int)(npred % 7) - 3);
	cr_assert_eq(fv_model_write_logreg("input", npred, coef, -0.5, &model, &model_len, &d),
		     FV_OK, "%s", d.msg);
}

static void teardown(void)
{
	char cmd[128];
	fv_free(model);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- a small pipeline: the calling thread reads batches, worker threads score them ---- */

struct result {
	int status; /* 0, or the step that failed */
	char msg[256];
	uint64_t n, n_pos;
	double sum_p, sum_py; /* sum of scores, and of scores of positive records */
};

struct batch {
	const struct fv_model *m;
	float x[BATCH * 64];
	uint8_t y[BATCH];
	double p[BATCH];
	size_t rows;
	fv_err e;
};

static void *score_batch(void *arg)
{
	struct batch *b = arg;
	struct fv_diag d = {{0}};
	b->e = fv_model_predict(b->m, b->x, b->rows, b->p, &d);
	return NULL;
}

static void score(struct fv_source *src, const struct fv_model *m, struct result *r)
{
	struct batch *b = fv_calloc(NTHREADS, sizeof(*b));
	struct fv_diag d = {{0}};
	bool eof = false;

	if (!b) {
		r->status = 1;
		return;
	}
	while (!eof && r->status == 0) {
		pthread_t t[NTHREADS];
		size_t started = 0;
		for (; started < NTHREADS; started++) {
			b[started].m = m;
			if (fv_source_read(src, b[started].x, b[started].y, BATCH, &b[started].rows,
					   &d) != FV_OK) {
				r->status = 2;
				fv_strlcpy(r->msg, d.msg, sizeof(r->msg));
				break;
			}
			if (b[started].rows == 0) {
				eof = true;
				break;
			}
			if (pthread_create(&t[started], NULL, score_batch, &b[started]) != 0) {
				r->status = 3;
				break;
			}
		}
		/* Collect in record order so that the sums do not depend on scheduling. */
		for (size_t i = 0; i < started; i++) {
			pthread_join(t[i], NULL);
			if (b[i].e != FV_OK)
				r->status = 4;
			for (size_t k = 0; k < b[i].rows; k++) {
				r->n++;
				r->n_pos += b[i].y[k];
				r->sum_p += b[i].p[k];
				r->sum_py += b[i].y[k] ? b[i].p[k] : 0;
			}
		}
	}
	fv_free(b);
}

/* Load the model and open the source (as the worker would before entering), then optionally
 * enter the sandbox, then score. */
static void work(const struct fv_source_spec *spec, const struct fv_sandbox_opts *sb,
		 struct result *r)
{
	const char *const *preds = fv_synth_hf_predictors();
	struct fv_mapping map = {npred, (const char **)preds, (const char **)preds,
				 fv_synth_hf_label()};
	struct fv_model *m = NULL;
	struct fv_source *src = NULL;
	struct fv_diag d = {{0}};

	memset(r, 0, sizeof(*r));
	openblas_set_num_threads(1);
	if (fv_model_load(model, model_len, &m, &d) != FV_OK) {
		r->status = 10;
		goto out;
	}
	if (fv_source_open(spec, &map, &src, &d) != FV_OK) {
		r->status = 11;
		goto out;
	}
	if (sb && fv_sandbox_enter(sb, &d) != FV_OK) {
		r->status = 12;
		goto out;
	}
	score(src, m, r);
out:
	if (r->status && !r->msg[0])
		fv_strlcpy(r->msg, d.msg, sizeof(r->msg));
	fv_source_close(src);
	fv_model_free(m);
}

/* Run fn in a child, read back n bytes of result, and return the wait status. */
typedef void (*child_fn)(const void *arg, void *res);

static int in_child(child_fn fn, const void *arg, void *res, size_t n)
{
	int fds[2], status = 0;
	size_t got = 0;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		void *buf = calloc(1, n);
		const uint8_t *b = buf;
		size_t left = n;
		close(fds[0]);
		if (!buf)
			_exit(2);
		fn(arg, buf);
		while (left > 0) {
			ssize_t w = write(fds[1], b, left);
			if (w <= 0)
				_exit(3);
			b += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	while (got < n) {
		ssize_t r = read(fds[0], (uint8_t *)res + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "worker died: %s %d (got %zu of %zu bytes)",
		  WIFSIGNALED(status) ? "signal" : "exit",
		  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), got, n);
	cr_assert_eq(got, n);
	return status;
}

struct work_arg {
	const struct fv_source_spec *spec;
	const struct fv_sandbox_opts *sb;
};

static void work_child(const void *arg, void *res)
{
	const struct work_arg *a = arg;
	work(a->spec, a->sb, res);
}

static void check_sandboxed_equals_plain(const struct fv_source_spec *spec)
{
	struct fv_sandbox_opts sb = {.report = true}; /* no opens, no network */
	struct work_arg a = {spec, &sb};
	struct result plain, boxed;

	work(spec, NULL, &plain);
	cr_assert_eq(plain.status, 0, "step %d: %s", plain.status, plain.msg);
	cr_assert_eq(plain.n, ROWS);
	cr_assert_gt(plain.n_pos, 0);
	in_child(work_child, &a, &boxed, sizeof(boxed));
	cr_assert_eq(boxed.status, 0, "sandboxed step %d: %s", boxed.status, boxed.msg);
	cr_assert_eq(boxed.n, plain.n);
	cr_assert_eq(boxed.n_pos, plain.n_pos);
	cr_assert_eq(boxed.sum_p, plain.sum_p, "%.17g vs %.17g", boxed.sum_p, plain.sum_p);
	cr_assert_eq(boxed.sum_py, plain.sum_py);
}

Test(sandbox_eval, onnx_on_threads_csv_opened_before, .init = setup, .fini = teardown)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = csv};
	check_sandboxed_equals_plain(&spec);
}

Test(sandbox_eval, onnx_on_threads_sqlite_opened_before, .init = setup, .fini = teardown)
{
	struct fv_source_spec spec = {
	    .kind = FV_SOURCE_SQLITE, .path = db, .query = "SELECT * FROM admissions"};
	check_sandboxed_equals_plain(&spec);
}

/* ---- PostgreSQL: a connection made before entering, used with allow_socket_io ---- */

static struct pg_test pg;

static void pg_setup(void)
{
	char args[1024];

	setup();
	pg_test_start(&pg, "sandbox");
	snprintf(args, sizeof(args),
		 "-c \"CREATE TABLE admissions (patient_id text, age float8, sex_male float8, "
		 "ejection_fraction float8, nyha_class float8, systolic_bp float8, heart_rate "
		 "float8, sodium float8, creatinine float8, bnp float8, hemoglobin float8, bmi "
		 "float8, diabetes float8, copd float8, ckd float8, atrial_fibrillation float8, "
		 "prior_admissions_12m float8, length_of_stay float8, loop_diuretic_dose float8, "
		 "beta_blocker float8, ace_arb float8, discharge_home float8, readmit_30d int)\" "
		 "-c \"\\copy admissions FROM '%s' CSV HEADER\"",
		 csv);
	cr_assert_eq(pg_test_psql(&pg, args), 0, "loading the table failed: see %s/psql.log",
		     pg.dir);
}

static void pg_teardown(void)
{
	pg_test_stop(&pg);
	teardown();
}

static void pg_killed_child(const void *arg, void *res)
{
	const struct work_arg *a = arg;
	work(a->spec, a->sb, res);
	_exit(7); /* not reached: the first recv/poll on the socket is forbidden */
}

Test(sandbox_eval, postgres_connected_before, .init = pg_setup, .fini = pg_teardown)
{
	char ci[160];
	struct fv_source_spec spec = {.kind = FV_SOURCE_POSTGRES, .table = "admissions"};
	struct fv_sandbox_opts sb = {.allow_socket_io = true, .report = true};
	struct fv_sandbox_opts none = {0};
	struct work_arg a = {&spec, &sb}, b = {&spec, &none};
	struct result plain, boxed;
	struct fv_source_spec ref = {.kind = FV_SOURCE_CSV, .path = csv};
	int status;
	pid_t pid;

	snprintf(ci, sizeof(ci), "host=%s dbname=postgres user=postgres", pg.dir);
	spec.conninfo = ci;
	work(&ref, NULL, &plain);
	cr_assert_eq(plain.status, 0, "step %d: %s", plain.status, plain.msg);
	in_child(work_child, &a, &boxed, sizeof(boxed));
	cr_assert_eq(boxed.status, 0, "sandboxed step %d: %s", boxed.status, boxed.msg);
	cr_assert_eq(boxed.n, plain.n);
	cr_assert_eq(boxed.n_pos, plain.n_pos);
	cr_assert_eq(boxed.sum_p, plain.sum_p, "%.17g vs %.17g", boxed.sum_p, plain.sum_p);
	/* Without allow_socket_io the worker dies on its first use of the connection. */
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct result r;
		pg_killed_child(&b, &r);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "status %#x", status);
}

/* ---- node_eval_compute as it stands: it opens the source itself ---- */

struct compute_arg {
	const struct eval_in *in;
	const struct fv_sandbox_opts *sb;
};

static void compute_child(const void *arg, void *res)
{
	const struct compute_arg *a = arg;
	struct eval_out *o = res;
	struct fv_diag d = {{0}};
	openblas_set_num_threads(1);
	if (fv_sandbox_enter(a->sb, &d) != FV_OK) {
		o->status = FV_EIO;
		fv_strlcpy(o->error, d.msg, sizeof(o->error));
		return;
	}
	node_eval_compute(a->in, o);
}

static void eval_in_for(struct eval_in *in, const struct fv_source_spec *spec)
{
	const char *const *preds = fv_synth_hf_predictors();
	*in = (struct eval_in){.model = model,
			       .model_len = model_len,
			       .nvars = npred,
			       .vars = (const char **)preds,
			       .columns = (const char **)preds,
			       .label_column = fv_synth_hf_label(),
			       .source = spec,
			       .n_thr = 2,
			       .thr = {0.5, 0.2},
			       .timeout_s = 60,
			       .threads = 3,
			       .batch_rows = 500};
}

/* With late read-only opens allowed, the unchanged worker gives bit-identical statistics. */
Test(sandbox_eval, node_eval_compute_with_late_open, .init = setup, .fini = teardown)
{
	struct fv_source_spec specs[2] = {
	    {.kind = FV_SOURCE_CSV, .path = csv},
	    {.kind = FV_SOURCE_SQLITE, .path = db, .table = "admissions"}};
	struct fv_sandbox_opts sb = {.allow_open_rdonly = true, .report = true};
	struct eval_out *plain = calloc(1, sizeof(*plain)), *boxed = calloc(1, sizeof(*boxed));

	for (size_t i = 0; i < 2; i++) {
		struct eval_in in;
		struct compute_arg a = {&in, &sb};
		eval_in_for(&in, &specs[i]);
		node_eval_compute(&in, plain);
		cr_assert_eq(plain->status, 0, "%s", plain->error);
		cr_assert_eq(plain->n, ROWS);
		in_child(compute_child, &a, boxed, sizeof(*boxed));
		cr_assert_eq(boxed->status, 0, "%s", boxed->error);
		plain->rows_per_s = boxed->rows_per_s = 0; /* a timing, not a statistic */
		cr_assert_eq(memcmp(plain, boxed, sizeof(*plain)), 0, "source %zu differs", i);
	}
	free(plain);
	free(boxed);
}

/* Without it, the worker fails cleanly (a message, no crash): why the source must be opened
 * before entering (docs/sandbox.md, "Integration"). */
Test(sandbox_eval, node_eval_compute_without_open_fails_cleanly, .init = setup, .fini = teardown)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = csv};
	struct fv_sandbox_opts sb = {.report = true};
	struct eval_out *o = calloc(1, sizeof(*o));
	struct eval_in in;
	struct compute_arg a = {&in, &sb};

	eval_in_for(&in, &spec);
	in_child(compute_child, &a, o, sizeof(*o));
	cr_assert_neq(o->status, 0);
	cr_assert_not_null(strstr(o->error, "not permitted") ? o->error : NULL, "%s", o->error);
	free(o);
}

/* An image folder opens one PNG per record after the worker has entered the sandbox: node_eval
 * (the production fork, filter and pipe) allows read-only opens for this source and gives the
 * statistics of the same evaluation done unsandboxed; without late opens the worker fails
 * cleanly. 60 gray 8x8 images, a logistic model over their 64 pixels. */
Test(sandbox_eval, image_folder_opened_record_by_record, .timeout = 120)
{
	char idir[64], path[160], names[64][16];
	const char *vars[64];
	double coef[64];
	uint8_t *lr = NULL;
	size_t lr_len = 0;
	struct fv_diag d = {{0}};
	uint32_t seed = 7;
	FILE *idx;

	snprintf(idir, sizeof(idir), "/tmp/fv-sandbox-img-XXXXXX");
	cr_assert_not_null(mkdtemp(idir));
	snprintf(path, sizeof(path), "%s/index.csv", idir);
	cr_assert_not_null(idx = fopen(path, "w"));
	fputs("file,y\n", idx);
	for (int i = 0; i < 60; i++) {
		uint16_t s[64];
		for (int p = 0; p < 64; p++) {
			seed = seed * 1664525u + 1013904223u;
			s[p] = (uint16_t)((seed >> 25) + (i % 2 && p < 8 ? 100 : 0));
		}
		snprintf(path, sizeof(path), "%s/im%02d.png", idir, i);
		it_write_png(path, 8, 8, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, s);
		fprintf(idx, "im%02d.png,%d\n", i, i % 2);
	}
	cr_assert_eq(fclose(idx), 0);
	for (int k = 0; k < 64; k++) {
		snprintf(names[k], sizeof(names[k]), "pixel_%d", k);
		vars[k] = names[k];
		coef[k] = k < 8 ? 0.8 : -0.01;
	}
	cr_assert_eq(fv_model_write_logreg("input", 64, coef, -3.0, &lr, &lr_len, &d), FV_OK, "%s",
		     d.msg);
	snprintf(path, sizeof(path), "%s/index.csv", idir);
	struct fv_source_spec spec = {.kind = FV_SOURCE_IMAGES,
				      .path = path,
				      .image_column = "file",
				      .image_channels = 1,
				      .image_height = 8,
				      .image_width = 8};
	struct eval_in in = {.model = lr,
			     .model_len = lr_len,
			     .nvars = 64,
			     .vars = vars,
			     .columns = vars,
			     .label_column = "y",
			     .source = &spec,
			     .n_thr = 1,
			     .thr = {0.5},
			     .timeout_s = 60,
			     .threads = 2,
			     .batch_rows = 16};
	struct eval_out *plain = calloc(1, sizeof(*plain)), *boxed = calloc(1, sizeof(*boxed));
	node_eval_compute(&in, plain);
	cr_assert_eq(plain->status, 0, "%s", plain->error);
	cr_assert_eq(plain->n, 60);
	cr_assert(plain->auc > 0.9, "AUROC %g", plain->auc);
	cr_assert_eq(node_eval(&in, boxed, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(boxed->status, 0, "%s", boxed->error);
	cr_assert_eq(boxed->n, plain->n);
	cr_assert_eq(boxed->auc, plain->auc);
	cr_assert_eq(boxed->tp[0], plain->tp[0]);
	/* the filter without late opens: a clean failure naming the refused call */
	struct fv_sandbox_opts strict = {.report = true};
	struct compute_arg a = {&in, &strict};
	memset(boxed, 0, sizeof(*boxed));
	in_child(compute_child, &a, boxed, sizeof(*boxed));
	cr_assert_neq(boxed->status, 0);
	free(plain);
	free(boxed);
	fv_free(lr);
	snprintf(path, sizeof(path), "rm -rf %s", idir);
	cr_assert_eq(system(path), 0);
}
