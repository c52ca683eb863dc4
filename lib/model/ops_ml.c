/* ai.onnx.ml operators used by exported scikit-learn pipelines. Semantics follow the ONNX
 * reference implementation (onnx/reference/ops/aionnxml) and onnxruntime where they agree;
 * string labels are refused (the interpreter computes numbers only). */
#include "model/model_int.h"

#include <math.h>
#include <string.h>

/* Rows and columns of a tabular input: [N, F], or [F] as one row. */
static fv_err rows_cols(const struct fv_tensor *X, size_t *rows, size_t *cols, struct fv_diag *d)
{
	if (X->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "input is bool");
	if (X->rank == 1) {
		*rows = 1;
		*cols = (size_t)X->dims[0];
	} else if (X->rank == 2) {
		*rows = (size_t)X->dims[0];
		*cols = (size_t)X->dims[1];
	} else {
		return fv_diag_set(d, FV_EINVAL, "input must be [N, F] or [F], has rank %zu",
				   X->rank);
	}
	return FV_OK;
}

static bool str_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

enum post { P_NONE, P_LOGISTIC, P_SOFTMAX, P_SOFTMAX_ZERO };

static enum post post_of(const struct fv_node *n)
{
	const char *p = fv_attr_str(n, "post_transform", "NONE");
	return !strcmp(p, "LOGISTIC")	    ? P_LOGISTIC
	       : !strcmp(p, "SOFTMAX")	    ? P_SOFTMAX
	       : !strcmp(p, "SOFTMAX_ZERO") ? P_SOFTMAX_ZERO
					    : P_NONE;
}

static fv_err check_post(const struct fv_node *n, bool allow_prob, struct fv_diag *d)
{
	static const char *const ok[] = {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", NULL};
	const char *p = fv_attr_str(n, "post_transform", "NONE");
	if (!str_in(p, ok) || (!allow_prob && strcmp(p, "NONE")))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute value post_transform=%s", p);
	return FV_OK;
}

static double logistic(double x)
{
	double e = exp(-fabs(x));
	return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/* Apply post_transform to one row of c scores in place. */
static void post_row(enum post p, double *s, size_t c)
{
	double mx = -INFINITY, sum = 0;

	if (p == P_NONE)
		return;
	if (p == P_LOGISTIC) {
		for (size_t j = 0; j < c; j++)
			s[j] = logistic(s[j]);
		return;
	}
	for (size_t j = 0; j < c; j++)
		if (s[j] > mx)
			mx = s[j];
	for (size_t j = 0; j < c; j++) {
		/* SOFTMAX_ZERO keeps exact zeros at zero (scaled by exp(-max) instead). */
		if (p == P_SOFTMAX_ZERO && fabs(s[j]) <= 1e-7)
			s[j] *= exp(-mx);
		else
			s[j] = exp(s[j] - mx);
		sum += s[j];
	}
	for (size_t j = 0; j < c; j++)
		s[j] = (p == P_SOFTMAX_ZERO && sum == 0) ? 0.5 : s[j] / sum;
}

/* ---- LinearClassifier ---- */

static fv_err check_linclf(struct fv_node *n, struct fv_diag *d)
{
	const struct fv_attr *co = fv_attr_get(n, "coefficients"),
			     *ic = fv_attr_get(n, "intercepts"),
			     *li = fv_attr_get(n, "classlabels_ints");
	fv_err e;

	if (fv_attr_get(n, "classlabels_strings"))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute classlabels_strings (string labels)");
	if (!co || co->n == 0)
		return fv_diag_set(d, FV_EINVAL, "coefficients are required");
	if ((e = check_post(n, true, d)) != FV_OK)
		return e;
	if (ic && (ic->n == 0 || co->n % ic->n))
		return fv_diag_set(d, FV_EINVAL, "%zu coefficients do not split into %zu classes",
				   co->n, ic->n);
	if (ic && li && !(li->n == ic->n || (ic->n == 1 && li->n == 2)))
		return fv_diag_set(d, FV_EINVAL, "%zu class labels for %zu classes", li->n, ic->n);
	return FV_OK;
}

static fv_err run_linclf(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	const struct fv_attr *co = fv_attr_get(n, "coefficients"),
			     *ic = fv_attr_get(n, "intercepts"),
			     *li = fv_attr_get(n, "classlabels_ints");
	enum post post = post_of(n);
	size_t rows, F, C, Cout;
	int64_t dims[2];
	double *s = NULL;
	fv_err e;

	if ((e = rows_cols(X, &rows, &F, d)) != FV_OK)
		return e;
	if (F == 0 || co->n % F)
		return fv_diag_set(d, FV_EINVAL, "%zu features do not match %zu coefficients", F,
				   co->n);
	C = co->n / F;
	if (ic && ic->n != C)
		return fv_diag_set(d, FV_EINVAL, "%zu features give %zu classes, %zu intercepts", F,
				   C, ic->n);
	if (li && !(li->n == C || (C == 1 && li->n == 2)))
		return fv_diag_set(d, FV_EINVAL, "%zu class labels for %zu classes", li->n, C);
	/* One coefficient row with two labels: scores [-s, s] (as the ONNX reference does). */
	Cout = (C == 1 && li && li->n == 2) ? 2 : C;
	dims[0] = (int64_t)rows;
	dims[1] = (int64_t)Cout;
	if ((e = fv_tensor_alloc(&out[0], FV_DTYPE_INT64, 1, dims, d)) != FV_OK)
		return e;
	if (n_out > 1 && (e = fv_tensor_alloc(&out[1], FV_DTYPE_FLOAT, 2, dims, d)) != FV_OK)
		return e;
	s = fv_calloc(Cout, sizeof(double));
	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t r = 0; r < rows; r++) {
		size_t best = 0;
		for (size_t c = 0; c < C; c++) {
			double acc = ic ? ic->floats[c] : 0;
			for (size_t f = 0; f < F; f++)
				acc += co->floats[c * F + f] * fv_tensor_getd(X, r * F + f);
			s[Cout == C ? c : 1] = acc;
		}
		if (Cout != C)
			s[0] = -s[1];
		post_row(post, s, Cout);
		for (size_t c = 1; c < Cout; c++)
			if (s[c] > s[best])
				best = c;
		if (Cout == 1) {
			double thr = post == P_NONE ? 0.0 : 0.5;
			((int64_t *)out[0].data)[r] = s[0] >= thr ? (li ? li->ints[0] : 1) : 0;
		} else {
			((int64_t *)out[0].data)[r] = li ? li->ints[best] : (int64_t)best;
		}
		if (n_out > 1)
			for (size_t c = 0; c < Cout; c++)
				((float *)out[1].data)[r * Cout + c] = (float)s[c];
	}
	fv_free(s);
	return FV_OK;
}

/* ---- LinearRegressor ---- */

static fv_err check_linreg(struct fv_node *n, struct fv_diag *d)
{
	const struct fv_attr *co = fv_attr_get(n, "coefficients"),
			     *ic = fv_attr_get(n, "intercepts");
	int64_t t = fv_attr_int(n, "targets", 1);
	fv_err e;

	if ((e = check_post(n, false, d)) != FV_OK)
		return e;
	if (!co || t < 1 || co->n % (size_t)t || co->n == 0)
		return fv_diag_set(d, FV_EINVAL, "coefficients do not split into %lld targets",
				   (long long)t);
	if (ic && ic->n != (size_t)t)
		return fv_diag_set(d, FV_EINVAL, "%zu intercepts for %lld targets", ic->n,
				   (long long)t);
	return FV_OK;
}

static fv_err run_linreg(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_attr *co = fv_attr_get(n, "coefficients"),
			     *ic = fv_attr_get(n, "intercepts");
	size_t T = (size_t)fv_attr_int(n, "targets", 1), rows, F;
	int64_t dims[2];
	fv_err e;

	if ((e = rows_cols(in[0], &rows, &F, d)) != FV_OK)
		return e;
	if (F * T != co->n)
		return fv_diag_set(d, FV_EINVAL, "%zu features do not match %zu coefficients", F,
				   co->n);
	dims[0] = (int64_t)rows;
	dims[1] = (int64_t)T;
	if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, 2, dims, d)) != FV_OK)
		return e;
	for (size_t r = 0; r < rows; r++)
		for (size_t t = 0; t < T; t++) {
			double acc = ic ? ic->floats[t] : 0;
			for (size_t f = 0; f < F; f++)
				acc += co->floats[t * F + f] * fv_tensor_getd(in[0], r * F + f);
			((float *)out->data)[r * T + t] = (float)acc;
		}
	return FV_OK;
}

/* ---- Scaler, Normalizer, Imputer, Binarizer ---- */

static fv_err run_scaler(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_attr *of = fv_attr_get(n, "offset"), *sc = fv_attr_get(n, "scale");
	size_t rows, F;
	fv_err e;

	if ((e = rows_cols(in[0], &rows, &F, d)) != FV_OK)
		return e;
	if ((of && of->n != 1 && of->n != F) || (sc && sc->n != 1 && sc->n != F))
		return fv_diag_set(d, FV_EINVAL, "offset/scale lengths do not match %zu features",
				   F);
	if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, in[0]->rank, in[0]->dims, d)) != FV_OK)
		return e;
	for (size_t r = 0; r < rows; r++)
		for (size_t f = 0; f < F; f++) {
			double o = of && of->n ? of->floats[of->n == 1 ? 0 : f] : 0,
			       s = sc && sc->n ? sc->floats[sc->n == 1 ? 0 : f] : 1;
			((float *)out->data)[r * F + f] =
			    (float)((fv_tensor_getd(in[0], r * F + f) - o) * s);
		}
	return FV_OK;
}

static fv_err check_normalizer(struct fv_node *n, struct fv_diag *d)
{
	static const char *const ok[] = {"MAX", "L1", "L2", NULL};
	const char *p = fv_attr_str(n, "norm", "MAX");
	return str_in(p, ok)
		   ? FV_OK
		   : fv_diag_set(d, FV_EUNSUPPORTED, "unsupported attribute value norm=%s", p);
}

static fv_err run_normalizer(const struct fv_node *n, const struct fv_tensor *const *in,
			     size_t n_in, struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const char *norm = fv_attr_str(n, "norm", "MAX");
	size_t rows, F;
	fv_err e;

	if ((e = rows_cols(in[0], &rows, &F, d)) != FV_OK)
		return e;
	if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, in[0]->rank, in[0]->dims, d)) != FV_OK)
		return e;
	for (size_t r = 0; r < rows; r++) {
		double z = 0, mx = -INFINITY;
		for (size_t f = 0; f < F; f++) {
			double v = fv_tensor_getd(in[0], r * F + f);
			if (!strcmp(norm, "L1"))
				z += fabs(v);
			else if (!strcmp(norm, "L2"))
				z += v * v;
			else if (v > mx)
				mx = v;
		}
		if (!strcmp(norm, "L2"))
			z = sqrt(z);
		else if (!strcmp(norm, "MAX"))
			z = mx;
		/* A zero norm leaves the row unchanged (as onnxruntime and scikit-learn do). */
		if (z == 0 || F == 0)
			z = 1;
		for (size_t f = 0; f < F; f++)
			((float *)out->data)[r * F + f] =
			    (float)(fv_tensor_getd(in[0], r * F + f) / z);
	}
	return FV_OK;
}

static fv_err run_imputer(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	const struct fv_attr *vf = fv_attr_get(n, "imputed_value_floats"),
			     *vi = fv_attr_get(n, "imputed_value_int64s");
	size_t rows, F, nv;
	fv_err e;

	if ((e = rows_cols(X, &rows, &F, d)) != FV_OK)
		return e;
	if (X->dtype == FV_DTYPE_INT64 ? !vi : !vf)
		return fv_diag_set(d, FV_EINVAL, "no imputed values for a %s input",
				   fv_dtype_name(X->dtype));
	nv = X->dtype == FV_DTYPE_INT64 ? vi->n : vf->n;
	if (nv != 1 && nv != F)
		return fv_diag_set(d, FV_EINVAL, "%zu imputed values for %zu features", nv, F);
	if ((e = fv_tensor_copy(out, X, d)) != FV_OK)
		return e;
	if (X->dtype == FV_DTYPE_INT64) {
		int64_t rep = fv_attr_int(n, "replaced_value_int64", 0), *y = out->data;
		for (size_t i = 0; i < out->count; i++)
			if (y[i] == rep)
				y[i] = vi->ints[nv == 1 ? 0 : i % F];
	} else {
		double rep = fv_attr_float(n, "replaced_value_float", 0.0f);
		for (size_t i = 0; i < out->count; i++) {
			double v = fv_tensor_getd(out, i);
			if (v == rep || (isnan(rep) && isnan(v)))
				fv_tensor_setd(out, i, vf->floats[nv == 1 ? 0 : i % F]);
		}
	}
	return FV_OK;
}

static fv_err run_binarizer(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			    struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	double thr = fv_attr_float(n, "threshold", 0.0f);
	fv_err e;

	if (in[0]->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "input is bool");
	if ((e = fv_tensor_alloc(out, in[0]->dtype, in[0]->rank, in[0]->dims, d)) != FV_OK)
		return e;
	for (size_t i = 0; i < out->count; i++)
		fv_tensor_setd(out, i, fv_tensor_getd(in[0], i) > thr ? 1.0 : 0.0);
	return FV_OK;
}

/* ---- OneHotEncoder, ArrayFeatureExtractor, ZipMap ---- */

static fv_err check_onehot(struct fv_node *n, struct fv_diag *d)
{
	const struct fv_attr *c = fv_attr_get(n, "cats_int64s");
	if (fv_attr_get(n, "cats_strings"))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute cats_strings (string categories)");
	if (!c || c->n == 0)
		return fv_diag_set(d, FV_EINVAL, "cats_int64s is required");
	return FV_OK;
}

static fv_err run_onehot(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	const struct fv_attr *c = fv_attr_get(n, "cats_int64s");
	bool zeros = fv_attr_int(n, "zeros", 1) != 0;
	int64_t dims[FV_MAX_TENSOR_RANK];
	fv_err e;

	if (X->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "input is bool");
	if (X->rank + 1 > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "result rank over %d", FV_MAX_TENSOR_RANK);
	memcpy(dims, X->dims, X->rank * sizeof(int64_t));
	dims[X->rank] = (int64_t)c->n;
	if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, X->rank + 1, dims, d)) != FV_OK)
		return e;
	for (size_t i = 0; i < X->count; i++) {
		int64_t v = fv_tensor_geti(X, i);
		size_t j = 0;
		while (j < c->n && c->ints[j] != v)
			j++;
		if (j < c->n)
			((float *)out->data)[i * c->n + j] = 1.0f;
		else if (!zeros)
			return fv_diag_set(d, FV_EINVAL, "value %lld is not a known category",
					   (long long)v);
	}
	return FV_OK;
}

static fv_err run_afe(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		      struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *I = in[1];
	size_t last, outer = 1, es = fv_dtype_size(X->dtype), rank;
	int64_t dims[FV_MAX_TENSOR_RANK];
	fv_err e;

	if (I->dtype != FV_DTYPE_INT64 || X->rank == 0)
		return fv_diag_set(d, FV_EINVAL, "needs a tensor and int64 indices");
	last = (size_t)X->dims[X->rank - 1];
	/* A 1-D input yields [1, k] (onnxruntime's behaviour). */
	if (X->rank == 1) {
		dims[0] = 1;
		rank = 2;
	} else {
		memcpy(dims, X->dims, (X->rank - 1) * sizeof(int64_t));
		rank = X->rank;
	}
	dims[rank - 1] = (int64_t)I->count;
	for (size_t i = 0; i + 1 < X->rank; i++)
		outer *= (size_t)X->dims[i];
	for (size_t j = 0; j < I->count; j++) {
		int64_t v = ((const int64_t *)I->data)[j];
		if (v < 0 || (uint64_t)v >= last)
			return fv_diag_set(d, FV_EINVAL, "index %lld out of range [0, %zu)",
					   (long long)v, last);
	}
	if ((e = fv_tensor_alloc(out, X->dtype, rank, dims, d)) != FV_OK)
		return e;
	for (size_t o = 0; o < outer; o++)
		for (size_t j = 0; j < I->count; j++)
			memcpy((char *)out->data + (o * I->count + j) * es,
			       (const char *)X->data +
				   (o * last + (size_t)((const int64_t *)I->data)[j]) * es,
			       es);
	return FV_OK;
}

static fv_err check_zipmap(struct fv_node *n, struct fv_diag *d)
{
	const struct fv_attr *li = fv_attr_get(n, "classlabels_int64s"),
			     *ls = fv_attr_get(n, "classlabels_strings");
	if (!li == !ls)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "needs exactly one of classlabels_int64s and classlabels_strings");
	return FV_OK;
}

/* The probabilities pass through as [N, C] float; column j belongs to class label j. */
static fv_err run_zipmap(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_attr *li = fv_attr_get(n, "classlabels_int64s"),
			     *ls = fv_attr_get(n, "classlabels_strings");
	size_t nl = li ? li->n : ls->n, rows, C;
	fv_err e;

	if (in[0]->dtype != FV_DTYPE_FLOAT)
		return fv_diag_set(d, FV_EINVAL, "input must be float");
	if ((e = rows_cols(in[0], &rows, &C, d)) != FV_OK)
		return e;
	if (C != nl)
		return fv_diag_set(d, FV_EINVAL, "%zu columns for %zu class labels", C, nl);
	return fv_tensor_copy(out, in[0], d);
}

#define ML "ai.onnx.ml"

const struct fv_op fv_ops_ml[] = {
    {ML, "LinearClassifier", 1, 1, 1, 1, 2,
     "coefficients:F intercepts:F classlabels_ints:I classlabels_strings:S multi_class:i "
     "post_transform:s",
     check_linclf, run_linclf},
    {ML, "LinearRegressor", 1, 1, 1, 1, 1, "coefficients:F intercepts:F targets:i post_transform:s",
     check_linreg, run_linreg},
    {ML, "Scaler", 1, 1, 1, 1, 1, "offset:F scale:F", NULL, run_scaler},
    {ML, "Normalizer", 1, 1, 1, 1, 1, "norm:s", check_normalizer, run_normalizer},
    {ML, "Imputer", 1, 1, 1, 1, 1,
     "imputed_value_floats:F imputed_value_int64s:I replaced_value_float:f "
     "replaced_value_int64:i",
     NULL, run_imputer},
    {ML, "Binarizer", 1, 1, 1, 1, 1, "threshold:f", NULL, run_binarizer},
    {ML, "OneHotEncoder", 1, 1, 1, 1, 1, "cats_int64s:I cats_strings:S zeros:i", check_onehot,
     run_onehot},
    {ML, "ArrayFeatureExtractor", 1, 2, 2, 1, 1, "", NULL, run_afe},
    {ML, "ZipMap", 1, 1, 1, 1, 1, "classlabels_int64s:I classlabels_strings:S", check_zipmap,
     run_zipmap},
};
const size_t fv_ops_ml_n = sizeof(fv_ops_ml) / sizeof(fv_ops_ml[0]);
