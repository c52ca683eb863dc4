/* Models exported by hand from scikit-learn (tests/unit/model/make_models.py, run at test time
 * with Debian's /usr/bin/python3). Expected values are scikit-learn's own outputs
 * (predict_proba, predict, transform) computed in float64 on the same float32-rounded inputs. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include "model_test.h"

static const char *dir;

static void setup(void)
{
	dir = generated_models_dir();
	cr_assert_not_null(dir, "make_models.py failed (see %s/model-tests-*/make_models.log)",
			   FV_BUILD_DIR);
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	generate_models("make_models.py");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	remove_generated_models();
}
TestSuite(sklearn, .init = setup);

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

/* fv_model_predict on the breast-cancer models against predict_proba[:, 1], 1e-5 relative. */
static void check_predict(const char *model, const char *expected)
{
	char path[1024];
	uint8_t *buf = NULL;
	size_t len = 0, nx, np, nf, rows;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	double *X = read_doubles("bc_X.txt", &nx), *want = read_doubles(expected, &np), *p;
	float *xf;

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, model);
	cr_assert_eq(read_all(path, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s: %s", model, d.msg);
	free(buf);
	nf = fv_model_n_features(m);
	cr_assert_eq(nf, 30);
	rows = np;
	cr_assert_eq(nx, rows * nf);
	xf = malloc(nx * sizeof(float));
	for (size_t i = 0; i < nx; i++)
		xf[i] = (float)X[i];
	p = calloc(rows, sizeof(double));
	cr_assert_eq(fv_model_predict(m, xf, rows, p, &d), FV_OK, "%s: %s", model, d.msg);
	for (size_t i = 0; i < rows; i++)
		cr_assert(fabs(p[i] - want[i]) <= 1e-5 * fabs(want[i]) + 1e-12,
			  "%s row %zu: got %.9g want %.9g (rel %.3g)", model, i, p[i], want[i],
			  fabs(p[i] - want[i]) / want[i]);
	free(X);
	free(want);
	free(xf);
	free(p);
	fv_model_free(m);
}

Test(sklearn, breast_cancer_linear_classifier_zipmap)
{
	check_predict("bc_linclf_zipmap", "bc_p.txt");
}

Test(sklearn, breast_cancer_gemm_sigmoid)
{
	check_predict("bc_gemm_sigmoid", "bc_p.txt");
}

Test(sklearn, breast_cancer_matmul_softmax_double)
{
	check_predict("bc_matmul_softmax_double", "bc_p.txt");
}

Test(sklearn, breast_cancer_random_forest)
{
	check_predict("bc_random_forest", "bc_rf_p.txt");
}

/* All outputs of each generated case (labels exactly, floats at 1e-5 relative). */
Test(sklearn, cases)
{
	static const char *const cases[] = {"bc_linclf_zipmap",
					    "bc_gemm_sigmoid",
					    "bc_matmul_softmax_double",
					    "iris_linclf_softmax",
					    "iris_linreg",
					    "normalizer_l1",
					    "normalizer_l2",
					    "normalizer_max",
					    "binarizer",
					    "imputer",
					    "scaler_maxabs",
					    "onehot_int64",
					    "array_feature_extractor",
					    "opset10_shapes",
					    "bc_random_forest",
					    "bc_tree_regressor",
					    "bc_gradient_boosting"};
	char path[1024], msg[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i]);
		cr_expect_eq(run_case_dir(path, 1e-5, 1e-6, false, msg, sizeof(msg)), CASE_PASS,
			     "%s: %s", cases[i], msg);
	}
}
