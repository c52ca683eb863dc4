/* fv_model_write_logreg -> fv_model_load -> fv_model_predict / fv_model_run, checked against
 * a hand computation of sigmoid(x . w + b). */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "fedval/model.h"
#include "fedval/util.h"

/* Values exactly representable in float32, so the model's float weights equal these. */
static const double coef[3] = {0.5, -1.25, 2.0};
static const double intercept = 0.125;

static double hand(const float *x)
{
	double z = intercept;
	for (int j = 0; j < 3; j++)
		z += coef[j] * x[j];
	return 1.0 / (1.0 + exp(-z));
}

static struct fv_model *make(void)
{
	uint8_t *buf;
	size_t len = 0;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_write_logreg("features", 3, coef, intercept, &buf, &len, &d), FV_OK,
		     "%s", d.msg);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
	fv_free(buf);
	return m;
}

Test(logreg, predict_matches_hand_computation)
{
	struct fv_model *m = make();
	float x[5][3] = {
	    {0, 0, 0}, {1, 2, 3}, {-4.5f, 0.25f, 1}, {10, -3, 0.5f}, {0.1f, 0.2f, -0.3f}};
	double p[5];
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_n_features(m), 3);
	cr_assert_str_eq(fv_model_input_name(m), "features");
	cr_assert_eq(fv_model_n_inputs(m), 1);
	cr_assert_str_eq(fv_model_output_name_at(m, 0), "probability");
	cr_assert_eq(fv_model_predict(m, &x[0][0], 5, p, &d), FV_OK, "%s", d.msg);
	for (int i = 0; i < 5; i++)
		cr_assert(fabs(p[i] - hand(x[i])) < 1e-6, "row %d: %.9g vs %.9g", i, p[i],
			  hand(x[i]));
	fv_model_free(m);
}

Test(logreg, declared_input_type)
{
	struct fv_model *m = make();
	enum fv_dtype dt;
	bool has_shape;
	size_t rank;
	int64_t dims[FV_MAX_TENSOR_RANK];

	cr_assert_eq(fv_model_input_type(m, 0, &dt, &has_shape, &rank, dims), FV_OK);
	cr_assert_eq(dt, FV_DTYPE_FLOAT);
	cr_assert(has_shape);
	cr_assert_eq(rank, 2);
	cr_assert_eq(dims[0], -1);
	cr_assert_eq(dims[1], 3);
	cr_assert_eq(fv_model_input_type(m, 1, &dt, &has_shape, &rank, dims), FV_ENOTFOUND);
	fv_model_free(m);
}

Test(logreg, run_intermediate_only)
{
	struct fv_model *m = make();
	float x[2][3] = {{1, 2, 3}, {0, 0, 1}};
	struct fv_tensor in = {
	    .dtype = FV_DTYPE_FLOAT, .rank = 2, .dims = {2, 3}, .count = 6, .data = x};
	const char *in_name = "features", *outs[2] = {"logit", "probability"};
	struct fv_tensor out[2];
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_run(m, 1, &in_name, &in, 2, outs, out, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(out[0].rank, 2);
	cr_assert_eq(out[0].dims[0], 2);
	cr_assert_eq(out[0].dims[1], 1);
	cr_assert_float_eq(((float *)out[0].data)[0], 0.125 + 0.5 - 2.5 + 6.0, 1e-6);
	cr_assert_float_eq(((float *)out[1].data)[1], hand(x[1]), 1e-6);
	fv_tensor_fini(&out[0]);
	fv_tensor_fini(&out[1]);
	fv_model_free(m);
}

Test(logreg, run_refuses_wrong_inputs)
{
	struct fv_model *m = make();
	double xd[6] = {0};
	float xf[8] = {0};
	struct fv_tensor in = {
	    .dtype = FV_DTYPE_DOUBLE, .rank = 2, .dims = {2, 3}, .count = 6, .data = xd};
	const char *in_name = "features", *bad_name = "nope", *out_name = "probability";
	struct fv_tensor out = {0};
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_run(m, 1, &in_name, &in, 1, &out_name, &out, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "double"), "%s", d.msg);
	in = (struct fv_tensor){
	    .dtype = FV_DTYPE_FLOAT, .rank = 2, .dims = {2, 4}, .count = 8, .data = xf};
	cr_assert_eq(fv_model_run(m, 1, &in_name, &in, 1, &out_name, &out, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "dimension 1"), "%s", d.msg);
	in.dims[1] = 3;
	in.count = 5; /* does not match dims */
	cr_assert_eq(fv_model_run(m, 1, &in_name, &in, 1, &out_name, &out, &d), FV_EINVAL);
	in.count = 6;
	cr_assert_eq(fv_model_run(m, 1, &bad_name, &in, 1, &out_name, &out, &d), FV_ENOTFOUND);
	cr_assert_eq(fv_model_run(m, 1, &in_name, &in, 1, &bad_name, &out, &d), FV_ENOTFOUND);
	cr_assert_null(out.data);
	fv_model_free(m);
}

Test(logreg, write_refuses_bad_arguments)
{
	uint8_t *buf;
	size_t len = 0;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_write_logreg("", 3, coef, 0, &buf, &len, &d), FV_EINVAL);
	cr_assert_eq(fv_model_write_logreg("x", 0, coef, 0, &buf, &len, &d), FV_EINVAL);
	cr_assert_eq(fv_model_write_logreg("W", 3, coef, 0, &buf, &len, &d), FV_EINVAL);
	cr_assert_null(buf);
}

struct job {
	const struct fv_model *m;
	const float *x;
	size_t rows;
	double *p;
	fv_err e;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	for (int k = 0; k < 20 && j->e == FV_OK; k++)
		j->e = fv_model_predict(j->m, j->x, j->rows, j->p, NULL);
	return NULL;
}

Test(logreg, concurrent_predict)
{
	struct fv_model *m = make();
	enum { T = 4, ROWS = 20000 }; /* more than one internal chunk */
	float *x = fv_calloc(ROWS * 3, sizeof(float));
	pthread_t th[T];
	struct job jobs[T];

	for (size_t i = 0; i < ROWS * 3; i++)
		x[i] = (float)((int)(i % 17) - 8) / 4.0f;
	for (int t = 0; t < T; t++) {
		jobs[t] = (struct job){m, x, ROWS, fv_calloc(ROWS, sizeof(double)), FV_OK};
		cr_assert_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
	}
	for (int t = 0; t < T; t++) {
		pthread_join(th[t], NULL);
		cr_assert_eq(jobs[t].e, FV_OK);
		for (size_t i = 0; i < ROWS; i++)
			cr_assert(fabs(jobs[t].p[i] - hand(&x[i * 3])) < 1e-6);
		fv_free(jobs[t].p);
	}
	fv_free(x);
	fv_model_free(m);
}

/* Every allocation failure on the load and predict paths is reported, never a crash or leak
 * (leaks are caught by the ASan build). */
Test(logreg, allocation_failures)
{
	uint8_t *buf;
	size_t len = 0;
	float x[3] = {1, 2, 3};
	double p;
	bool done = false;

	cr_assert_eq(fv_model_write_logreg("features", 3, coef, intercept, &buf, &len, NULL),
		     FV_OK);
	for (long k = 1; k < 400 && !done; k++) {
		struct fv_model *m = NULL;
		fv_err e;
		fv_alloc_fail_after(k);
		e = fv_model_load(buf, len, &m, NULL);
		if (e == FV_OK)
			e = fv_model_predict(m, x, 1, &p, NULL);
		fv_alloc_fail_after(0);
		fv_model_free(m);
		if (e == FV_OK) {
			done = true;
			cr_assert(fabs(p - hand(x)) < 1e-6);
		} else {
			cr_assert(e == FV_ENOMEM || e == FV_EPROTO || e == FV_ELIMIT, "k=%ld: %s",
				  k, fv_strerror(e));
		}
	}
	cr_assert(done, "never succeeded");
	fv_free(buf);
}

/* fv_model_write_linear: the same graph without the Sigmoid (the demo's regression model);
 * its output is x . w + b, named "prediction". */
Test(logreg, linear_model_predicts_the_linear_score)
{
	uint8_t *buf;
	size_t len = 0;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	float x[3][3] = {{1, 2, 3}, {-4, 0.5f, 8}, {0, 0, 0}};
	double p[3];

	cr_assert_eq(fv_model_write_linear("features", 3, coef, intercept, &buf, &len, &d), FV_OK,
		     "%s", d.msg);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
	fv_free(buf);
	cr_assert_str_eq(fv_model_output_name_at(m, 0), "prediction");
	cr_assert_eq(fv_model_predict(m, &x[0][0], 3, p, &d), FV_OK, "%s", d.msg);
	for (int i = 0; i < 3; i++) {
		double z = intercept;
		for (int j = 0; j < 3; j++)
			z += coef[j] * x[i][j];
		cr_assert_float_eq(p[i], z, 1e-6, "row %d: %g vs %g", i, p[i], z);
	}
	fv_model_free(m);
	cr_assert_eq(fv_model_write_linear("prediction", 3, coef, intercept, &buf, &len, &d),
		     FV_EINVAL, "an input named like the output must be refused");
}
