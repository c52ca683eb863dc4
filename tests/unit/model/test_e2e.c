/* End-to-end models (tests/unit/model/make_e2e.py, run once per test executable with Debian's
 * /usr/bin/python3): a logistic regression, a 300-tree depth-6 gradient-boosted ensemble of
 * scikit-learn and one of xgboost, two MLPs and a small residual CNN, exported by hand to ONNX.
 * Expected values are scikit-learn's / xgboost's predict_proba / predict on the same float32
 * inputs, and for the CNN a direct
 * numpy convolution in float64; fedval must match them to 1e-5 relative. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <pthread.h>

#include "model_test.h"

/* 1e-5 relative; the absolute floor only admits probabilities that are 0 to double precision. */
#define RTOL 1e-5
#define ATOL 1e-300

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	generate_models("make_e2e.py");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	remove_generated_models();
}

static const char *dir;

static void setup(void)
{
	dir = generated_models_dir();
	cr_assert_not_null(dir, "make_e2e.py failed (see %s/model-tests-*/make_models.log)",
			   FV_BUILD_DIR);
}

TestSuite(e2e, .init = setup);

static double *read_doubles(const char *name, size_t *n)
{
	char path[1024];
	FILE *f;
	size_t cap = 1024;
	double *v = malloc(cap * sizeof(double)), x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	*n = 0;
	while (fscanf(f, "%lf", &x) == 1) {
		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof(double));
		v[(*n)++] = x;
	}
	fclose(f);
	return v;
}

static struct fv_model *load_case(const char *name)
{
	char path[1024];
	uint8_t *buf;
	size_t len = 0;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
	cr_assert_eq(read_all(path, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s: %s", name, d.msg);
	free(buf);
	return m;
}

/* The tabular rows: float32 [rows, 50], written by numpy's tofile. */
static float *read_rows(size_t *rows)
{
	char path[1024];
	uint8_t *buf;
	size_t len = 0;
	struct fv_diag d = {{0}};

	snprintf(path, sizeof(path), "%s/e2e_X.bin", dir);
	cr_assert_eq(read_all(path, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(len % (50 * sizeof(float)), 0);
	*rows = len / (50 * sizeof(float));
	return (float *)buf;
}

static void expect_close(const char *what, const double *got, const double *want, size_t n)
{
	size_t bad = 0;
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		double err = fabs(got[i] - want[i]);
		if (!(err <= ATOL + RTOL * fabs(want[i]))) {
			if (!bad++)
				cr_expect_fail("%s row %zu: got %.9g want %.9g", what, i, got[i],
					       want[i]);
		}
		if (want[i] != 0 && err / fabs(want[i]) > worst)
			worst = err / fabs(want[i]);
	}
	cr_expect_eq(bad, 0, "%s: %zu of %zu rows off (worst relative error %.3g)", what, bad, n,
		     worst);
	fprintf(stderr, "%s: %zu rows, worst relative error %.3g\n", what, n, worst);
}

/* fv_model_predict (the node's evaluation path) against predict_proba[:, 1]. */
static void check_predict(const char *model, const char *expected)
{
	struct fv_model *m = load_case(model);
	struct fv_diag d = {{0}};
	size_t rows, np;
	float *x = read_rows(&rows);
	double *want = read_doubles(expected, &np), *p = calloc(rows, sizeof(double));

	cr_assert_eq(fv_model_n_features(m), 50);
	cr_assert_eq(np, rows);
	cr_assert_eq(fv_model_predict(m, x, rows, p, &d), FV_OK, "%s: %s", model, d.msg);
	expect_close(model, p, want, rows);
	free(x);
	free(want);
	free(p);
	fv_model_free(m);
}

/* Every output of a case directory, labels exactly. (Not fv_model_run_case: it reads the
 * expected value of a declared sequence output as a SequenceProto, while these cases store
 * the [N, C] tensor that fedval's ZipMap yields.) */
static void check_case(const char *name)
{
	char path[1024], msg[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_expect_eq(run_case_dir(path, RTOL, ATOL, false, msg, sizeof(msg)), CASE_PASS, "%s: %s",
		     name, msg);
}

Test(e2e, logistic_regression_linear_classifier)
{
	check_predict("e2e_lr", "e2e_lr_p.txt");
	check_case("e2e_lr");
}

Test(e2e, logistic_regression_gemm)
{
	check_predict("e2e_lr_gemm", "e2e_lr_p.txt");
	check_case("e2e_lr_gemm");
}

Test(e2e, gradient_boosting_300_trees)
{
	check_predict("e2e_gbt", "e2e_gbt_p.txt");
	check_case("e2e_gbt");
}

/* xgboost's own trees and predict_proba (float32 sums in xgboost, exact float32 thresholds
 * from its JSON model). */
Test(e2e, xgboost_300_trees)
{
	check_predict("e2e_xgb", "e2e_xgb_p.txt");
	check_case("e2e_xgb");
}

Test(e2e, mlp_binary_float)
{
	check_predict("e2e_mlp", "e2e_mlp_p.txt");
	check_case("e2e_mlp");
}

Test(e2e, mlp_three_classes_double)
{
	check_case("e2e_mlp3");
}

Test(e2e, cnn_residual)
{
	check_case("e2e_cnn");
}

/* The batch dimension is dynamic: each image alone gives its row of the batch result. */
Test(e2e, cnn_one_image_at_a_time)
{
	char path[1024], msg[300];
	struct fv_model *m = load_case("e2e_cnn");
	struct fv_diag d = {{0}};
	struct fv_tensor x = {0}, want = {0}, one, got;
	const char *in_name = fv_model_input_name_at(m, 0), *out_name = "probabilities";
	size_t per_image, classes;

	snprintf(path, sizeof(path), "%s/e2e_cnn/test_data_set_0/input_0.pb", dir);
	cr_assert_eq(read_tensor_pb(path, &x, &d), FV_OK, "%s", d.msg);
	snprintf(path, sizeof(path), "%s/e2e_cnn/test_data_set_0/output_0.pb", dir);
	cr_assert_eq(read_tensor_pb(path, &want, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(x.rank, 4);
	per_image = x.count / (size_t)x.dims[0];
	classes = (size_t)want.dims[1];
	for (int64_t i = 0; i < x.dims[0]; i++) {
		struct fv_tensor w1 = want;
		one = x;
		one.dims[0] = 1;
		one.count = per_image;
		one.data = (float *)x.data + (size_t)i * per_image;
		w1.dims[0] = 1;
		w1.count = classes;
		w1.data = (float *)want.data + (size_t)i * classes;
		cr_assert_eq(fv_model_run(m, 1, &in_name, &one, 1, &out_name, &got, &d), FV_OK,
			     "image %lld: %s", (long long)i, d.msg);
		cr_expect(tensors_close(&got, &w1, RTOL, ATOL, msg, sizeof(msg)), "image %lld: %s",
			  (long long)i, msg);
		fv_tensor_fini(&got);
	}
	fv_tensor_fini(&x);
	fv_tensor_fini(&want);
	fv_model_free(m);
}

struct slice {
	const struct fv_model *m;
	const float *x;
	size_t rows;
	double *p;
	fv_err e;
};

static void *predict_slice(void *arg)
{
	struct slice *s = arg;
	struct fv_diag d = {{0}};
	s->e = fv_model_predict(s->m, s->x, s->rows, s->p, &d);
	return NULL;
}

/* One loaded ensemble serves several threads at once, with the single-threaded result. */
Test(e2e, gradient_boosting_threads)
{
	struct fv_model *m = load_case("e2e_gbt");
	struct fv_diag d = {{0}};
	size_t rows;
	float *x = read_rows(&rows);
	double *p1 = calloc(rows, sizeof(double)), *p4 = calloc(rows, sizeof(double));
	struct slice s[4];
	pthread_t th[4];
	size_t per = (rows + 3) / 4;

	cr_assert_eq(fv_model_predict(m, x, rows, p1, &d), FV_OK, "%s", d.msg);
	for (size_t t = 0; t < 4; t++) {
		size_t r0 = t * per < rows ? t * per : rows;
		s[t] = (struct slice){m, x + r0 * 50, rows - r0 < per ? rows - r0 : per, p4 + r0,
				      FV_OK};
		cr_assert_eq(pthread_create(&th[t], NULL, predict_slice, &s[t]), 0);
	}
	for (size_t t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		cr_expect_eq(s[t].e, FV_OK);
	}
	cr_expect_eq(memcmp(p1, p4, rows * sizeof(double)), 0);
	free(x);
	free(p1);
	free(p4);
	fv_model_free(m);
}
