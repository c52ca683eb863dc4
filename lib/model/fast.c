/* Fused prediction for linear binary classifiers: the graphs fv_model_write_logreg and the
 * usual exporters emit for a logistic regression, scored block by block of rows in one pass,
 * with no intermediate tensors. The result is the interpreter's (same operations, same
 * formulas, same roundings to float where a node stores float) up to float rounding: the dot
 * product is a float sum in another order (LinearClassifier's interpreter sums in double), and
 * the sigmoid is computed in float (expf) where the interpreter computes it in double and
 * rounds. Measured against the interpreter: within ~1e-6 relative (tests/unit/model/
 * test_fast.c). Any other graph is left to the interpreter. */
#include "model/model_int.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Rows per block: the block's rows (64 x 200 bytes at 50 features) and scores stay in L1
 * between the dot products and the sigmoid; measured faster than 256 or 1024. */
#define FAST_BLOCK 64

/* ---- recognition ---- */

static const struct fv_node *producer(const struct fv_model *m, int32_t v, size_t *out_idx)
{
	const struct fv_node *n;

	if (v < 0 || m->values[v].kind != FV_VAL_NODE)
		return NULL;
	n = &m->nodes[m->values[v].producer];
	for (size_t j = 0; j < n->n_out; j++)
		if (n->out[j] == v) {
			*out_idx = j;
			return n;
		}
	return NULL;
}

static bool is_op(const struct fv_node *n, const char *domain, const char *name)
{
	return n && !strcmp(n->op->domain, domain) && !strcmp(n->op->name, name);
}

/* A float initialiser; NULL otherwise. */
static const struct fv_tensor *init_float(const struct fv_model *m, int32_t v)
{
	if (v < 0 || m->values[v].kind != FV_VAL_INIT || m->values[v].init.dtype != FV_DTYPE_FLOAT)
		return NULL;
	return &m->values[v].init;
}

/* A float initialiser holding one value that broadcasts to [N, 1] (rank <= 2). */
static bool init_scalar(const struct fv_model *m, int32_t v, float *val)
{
	const struct fv_tensor *t = init_float(m, v);
	if (!t || t->count != 1 || t->rank > 2)
		return false;
	*val = *(const float *)t->data;
	return true;
}

/* x -> MatMul(x, W[F,1]) or Gemm(x, W, C?) -> (Add with a scalar) -> Sigmoid. */
static bool detect_sigmoid(const struct fv_model *m, int32_t out, size_t nf, struct fv_fast *f)
{
	size_t j;
	const struct fv_node *n = producer(m, out, &j);
	const struct fv_tensor *W;
	int32_t x = (int32_t)m->inputs[0];

	if (!is_op(n, "", "Sigmoid"))
		return false;
	n = producer(m, n->in[0], &j);
	if (is_op(n, "", "Add")) {
		int32_t a = n->in[0], b = n->in[1];
		if (init_scalar(m, b, &f->bias))
			n = producer(m, a, &j);
		else if (init_scalar(m, a, &f->bias))
			n = producer(m, b, &j);
		else
			return false;
		f->has_bias = true;
	}
	/* only a MatMul or Gemm (two inputs at least) is read further: another producer may
	 * have a single input */
	if (!n || !(is_op(n, "", "MatMul") || is_op(n, "", "Gemm")) || n->n_in < 2 ||
	    n->in[0] != x || !(W = init_float(m, n->in[1])) || W->rank != 2 || W->count != nf)
		return false;
	f->alpha = 1;
	if (is_op(n, "", "MatMul")) {
		if (W->dims[0] != (int64_t)nf)
			return false;
	} else if (is_op(n, "", "Gemm")) {
		bool tb = fv_attr_int(n, "transB", 0) != 0;
		float beta = fv_attr_float(n, "beta", 1.0f);
		if (fv_attr_int(n, "transA", 0) != 0 || W->dims[tb ? 1 : 0] != (int64_t)nf)
			return false;
		f->alpha = fv_attr_float(n, "alpha", 1.0f);
		if (n->n_in > 2 && n->in[2] >= 0 && beta != 0) {
			if (!init_scalar(m, n->in[2], &f->gemm_c))
				return false;
			f->gemm_c *= beta; /* as Gemm's BLAS call scales C */
			f->has_gemm_c = true;
		}
	} else {
		return false;
	}
	f->w = W->data;
	f->n_w = 1;
	f->kind = FV_FAST_SIGMOID;
	return true;
}

/* x -> LinearClassifier (one or two coefficient rows, post_transform NONE or LOGISTIC),
 * probabilities -> (Normalizer) -> (ZipMap). */
static bool detect_linclf(const struct fv_model *m, int32_t out, size_t nf, struct fv_fast *f)
{
	size_t j, C;
	const struct fv_node *n = producer(m, out, &j);
	const struct fv_attr *co, *ic, *li;
	const char *post;
	size_t zip_labels = 0;

	if (is_op(n, "ai.onnx.ml", "ZipMap")) {
		const struct fv_attr *zl = fv_attr_get(n, "classlabels_int64s");
		if (!zl)
			zl = fv_attr_get(n, "classlabels_strings");
		if (!zl)
			return false;
		zip_labels = zl->n;
		n = producer(m, n->in[0], &j);
	}
	if (is_op(n, "ai.onnx.ml", "Normalizer")) {
		const char *norm = fv_attr_str(n, "norm", "MAX");
		f->norm = !strcmp(norm, "L1") ? 1 : !strcmp(norm, "L2") ? 2 : 3;
		n = producer(m, n->in[0], &j);
	}
	if (!is_op(n, "ai.onnx.ml", "LinearClassifier") || j != 1 ||
	    n->in[0] != (int32_t)m->inputs[0])
		return false;
	co = fv_attr_get(n, "coefficients");
	ic = fv_attr_get(n, "intercepts");
	li = fv_attr_get(n, "classlabels_ints");
	post = fv_attr_str(n, "post_transform", "NONE");
	if (!co || co->n % nf)
		return false;
	C = co->n / nf;
	if (C < 1 || C > 2 || (ic && ic->n != C) || (li && !(li->n == C || (C == 1 && li->n == 2))))
		return false;
	if (strcmp(post, "NONE") && strcmp(post, "LOGISTIC"))
		return false;
	f->logistic = !strcmp(post, "LOGISTIC");
	f->neg = C == 1 && li && li->n == 2;
	f->n_cls = f->neg ? 2 : C;
	if (zip_labels && zip_labels != f->n_cls)
		return false;
	for (size_t c = 0; c < C; c++)
		f->ic[c] = ic ? ic->floats[c] : 0;
	f->w = co->floats;
	f->n_w = C;
	f->mirror = C == 2 && f->ic[0] == -f->ic[1];
	for (size_t i = 0; f->mirror && i < nf; i++)
		f->mirror = co->floats[i] == -co->floats[nf + i];
	if (f->mirror)
		f->w = co->floats + nf; /* the positive row; s0 = -s1 */
	f->kind = FV_FAST_LINCLF;
	return true;
}

void fv_fast_detect(struct fv_model *m)
{
	size_t nf = fv_model_n_features(m);
	int32_t oi = nf ? fv_model_score_output(m) : -1, out;
	struct fv_fast f;

	memset(&m->fast, 0, sizeof(m->fast));
	/* The fast paths read the input as a matrix [N, F]; an image model's [N, C, H, W] is
	 * always interpreted. */
	if (oi < 0 || m->values[m->inputs[0]].decl.rank != 2)
		return;
	out = (int32_t)m->outputs[oi];
	memset(&f, 0, sizeof(f));
	if (!detect_sigmoid(m, out, nf, &f)) {
		memset(&f, 0, sizeof(f));
		if (!detect_linclf(m, out, nf, &f))
			return;
	}
	f.out = out;
	f.nf = nf;
	m->fast = f;
}

/* ---- scoring ---- */

#if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__) && !defined(FV_FAST_PORTABLE)
#define FAST_AVX2 1
#include <immintrin.h>

static bool have_avx2(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* y[0..8) = the dot products of eight rows with w: eight independent accumulators, reduced
 * together. */
__attribute__((target("avx2,fma"))) static void dots8_avx2(const float *x, size_t nf,
							   const float *w, float *y)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
	       a7 = a0;
	size_t f = 0;

	for (; f + 8 <= nf; f += 8) {
		__m256 wv = _mm256_loadu_ps(w + f);
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + f), wv, a0);
		a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + nf + f), wv, a1);
		a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * nf + f), wv, a2);
		a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 3 * nf + f), wv, a3);
		a4 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 4 * nf + f), wv, a4);
		a5 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 5 * nf + f), wv, a5);
		a6 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 6 * nf + f), wv, a6);
		a7 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 7 * nf + f), wv, a7);
	}
	/* hadd twice: [r0..r3 low halves | r0..r3 high halves], likewise r4..r7. */
	a0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
	a4 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
	a0 = _mm256_add_ps(_mm256_permute2f128_ps(a0, a4, 0x20),
			   _mm256_permute2f128_ps(a0, a4, 0x31));
	_mm256_storeu_ps(y, a0);
	for (; f < nf; f++)
		for (size_t r = 0; r < 8; r++)
			y[r] += x[r * nf + f] * w[f];
}
#endif

/* y[r] = x[r] . w for nr rows of nf floats. Every row is computed by the same arithmetic
 * whatever its position in the batch (the node's results must not depend on the batch size):
 * a tail of fewer than 8 rows goes through the 8-row kernel from a zero-padded copy. */
static void dots(const float *x, size_t nr, size_t nf, const float *w, float *y)
{
#ifdef FAST_AVX2
	if (have_avx2()) {
		size_t r = 0;
		for (; r + 8 <= nr; r += 8)
			dots8_avx2(x + r * nf, nf, w, y + r);
		if (r < nr) {
			float *pad = fv_calloc(8 * nf, sizeof(float)), out[8];
			if (pad) {
				memcpy(pad, x + r * nf, (nr - r) * nf * sizeof(float));
				dots8_avx2(pad, nf, w, out);
				memcpy(y + r, out, (nr - r) * sizeof(float));
				fv_free(pad);
				return;
			}
			/* No memory for the pad (a few KiB): the portable loop below serves the
			 * whole batch instead. */
		} else {
			return;
		}
	}
#endif
	for (size_t r = 0; r < nr; r++) {
		float acc = 0;
		for (size_t f = 0; f < nf; f++)
			acc += x[r * nf + f] * w[f];
		y[r] = acc;
	}
}

/* sigmoid(v) in float by the interpreter's formula (ops_math.c): 1 / (1 + e^-v) for v >= 0,
 * e^v / (1 + e^v) below, so that tiny results keep their precision. */
static float sigmoidf(float v)
{
	float e = expf(-fabsf(v));
	return v >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* v[i] = sigmoidf(v[i]) for i < n, and when neg is not NULL neg[i] = sigmoidf(-v[i]) from the
 * same exponential. With glibc's vector math library on an AVX2 machine, eight at a time
 * (libmvec's expf: within 4 ulp, handles overflow, underflow and NaN as expf). */
#ifdef FAST_AVX2
__attribute__((target("avx2,fma"))) __m256 _ZGVdN8v_expf(__m256 x); /* libmvec, via -lm */

__attribute__((target("avx2,fma"))) static void sigmoid_avx2(float *v, float *neg, size_t n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f),
		     zero = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(v + i);
		__m256 e = _ZGVdN8v_expf(_mm256_or_ps(x, sign)); /* e^-|x| */
		__m256 d = _mm256_add_ps(one, e);
		__m256 pos = _mm256_cmp_ps(x, zero, _CMP_GE_OQ);
		_mm256_storeu_ps(v + i, _mm256_div_ps(_mm256_blendv_ps(e, one, pos), d));
		if (neg) {
			__m256 npos = _mm256_cmp_ps(x, zero, _CMP_LE_OQ); /* -x >= 0 */
			_mm256_storeu_ps(neg + i, _mm256_div_ps(_mm256_blendv_ps(e, one, npos), d));
		}
	}
	if (i < n) {
		/* The tail through the same vector code (a zero-padded copy), so that a value's
		 * sigmoid does not depend on where it falls in the batch. */
		float tv[8] = {0}, tn[8] = {0};
		memcpy(tv, v + i, (n - i) * sizeof(float));
		sigmoid_avx2(tv, neg ? tn : NULL, 8);
		memcpy(v + i, tv, (n - i) * sizeof(float));
		if (neg)
			memcpy(neg + i, tn, (n - i) * sizeof(float));
	}
}
#endif

static void sigmoid_block(float *v, float *neg, size_t n)
{
#ifdef FAST_AVX2
	if (have_avx2()) {
		sigmoid_avx2(v, neg, n);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++) {
		if (neg)
			neg[i] = sigmoidf(-v[i]);
		v[i] = sigmoidf(v[i]);
	}
}

static void predict_sigmoid(const struct fv_fast *f, const float *x, size_t nr, double *p)
{
	float y[FAST_BLOCK];

	dots(x, nr, f->nf, f->w, y);
	for (size_t r = 0; r < nr; r++) {
		float v = f->alpha * y[r];
		if (f->has_gemm_c)
			v += f->gemm_c;
		if (f->has_bias)
			v += f->bias;
		y[r] = v;
	}
	sigmoid_block(y, NULL, nr);
	for (size_t r = 0; r < nr; r++)
		p[r] = y[r];
}

/* The Normalizer as ops_ml.c runs it, on one row of k <= 2 float probabilities; returns the
 * last column. */
static double normalize_last(int norm, const float *o, size_t k)
{
	double z = 0, mx = -INFINITY;

	if (!norm)
		return o[k - 1];
	for (size_t c = 0; c < k; c++) {
		double v = o[c];
		if (norm == 1)
			z += fabs(v);
		else if (norm == 2)
			z += v * v;
		else if (v > mx)
			mx = v;
	}
	if (norm == 2)
		z = sqrt(z);
	else if (norm == 3)
		z = mx;
	if (z == 0)
		z = 1;
	return (float)((double)o[k - 1] / z);
}

/* LinearClassifier's scores ic[c] + x . w[c] (two classes from one row: [-s, s]), the
 * post-transform, stored as float as the node's output is, then the Normalizer. */
static void predict_linclf(const struct fv_fast *f, const float *x, size_t nr, double *p)
{
	float y0[FAST_BLOCK], y1[FAST_BLOCK], s0[FAST_BLOCK], s1[FAST_BLOCK];
	bool two = f->n_w == 2 && !f->mirror;

	dots(x, nr, f->nf, f->w, y0);
	if (two)
		dots(x, nr, f->nf, f->w + f->nf, y1);
	for (size_t r = 0; r < nr; r++) {
		if (two) {
			s0[r] = (float)(f->ic[0] + y0[r]);
			s1[r] = (float)(f->ic[1] + y1[r]);
		} else {
			s1[r] = (float)(f->ic[f->mirror ? 1 : 0] + y0[r]);
			s0[r] = -s1[r];
		}
	}
	if (f->logistic) {
		if (two) {
			sigmoid_block(s0, NULL, nr);
			sigmoid_block(s1, NULL, nr);
		} else {
			sigmoid_block(s1, f->n_cls == 2 ? s0 : NULL, nr); /* s0 = -s1 */
		}
	}
	for (size_t r = 0; r < nr; r++) {
		float o[2] = {s0[r], s1[r]};
		p[r] = f->n_cls == 2 ? normalize_last(f->norm, o, 2)
				     : normalize_last(f->norm, o + 1, 1);
	}
}

void fv_fast_predict(const struct fv_model *m, const float *x, size_t rows, double *p)
{
	const struct fv_fast *f = &m->fast;

	for (size_t r0 = 0; r0 < rows; r0 += FAST_BLOCK) {
		size_t nr = rows - r0 < FAST_BLOCK ? rows - r0 : FAST_BLOCK;
		if (f->kind == FV_FAST_SIGMOID)
			predict_sigmoid(f, x + r0 * f->nf, nr, p + r0);
		else
			predict_linclf(f, x + r0 * f->nf, nr, p + r0);
	}
}
