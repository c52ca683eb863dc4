/* Operators that move data without arithmetic: Identity, Constant, Reshape and friends,
 * Concat, Gather, Slice, Transpose, Shape. Element type agnostic (copied by bytes). */
#include "model/model_int.h"

#include <string.h>

static fv_err run_identity(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			   struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	return fv_tensor_copy(out, in[0], d);
}

/* Dropout at inference is the identity; its optional mask output is all true. */
static fv_err run_dropout(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	fv_err e;

	bool training = n_in > 2 && in[2];
	double ratio = 0.5;

	if (training && (in[2]->dtype != FV_DTYPE_BOOL || in[2]->count != 1))
		return fv_diag_set(d, FV_EINVAL, "training_mode must be one bool");
	training = training && ((const uint8_t *)in[2]->data)[0];
	if (n_in > 1 && in[1]) {
		if (!fv_dtype_is_float(in[1]->dtype) || in[1]->count != 1)
			return fv_diag_set(d, FV_EINVAL, "ratio must be one float");
		ratio = fv_tensor_getd(in[1], 0);
	}
	/* Training mode with a ratio of 0 drops nothing; any other ratio would need random
	 * numbers, which have no place in a validation run. */
	if (training && ratio != 0)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "training mode with ratio %g (random dropping) is not supported",
				   ratio);
	if ((e = fv_tensor_copy(&out[0], in[0], d)) != FV_OK)
		return e;
	if (n_out > 1) {
		if ((e = fv_tensor_alloc(&out[1], FV_DTYPE_BOOL, in[0]->rank, in[0]->dims, d)) !=
		    FV_OK)
			return e;
		memset(out[1].data, 1, out[1].count);
	}
	return FV_OK;
}

/* ---- Constant ---- */

static fv_err check_constant(struct fv_node *n, struct fv_diag *d)
{
	if (n->n_attr != 1)
		return fv_diag_set(d, FV_EINVAL, "needs exactly one value attribute");
	return FV_OK;
}

static fv_err run_constant(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			   struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_attr *a = &n->attr[0];
	int64_t len;
	fv_err e;

	switch (a->type) {
	case FV_ATTR_TENSOR:
		return fv_tensor_copy(out, &a->t, d);
	case FV_ATTR_FLOAT:
		if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, 0, NULL, d)) == FV_OK)
			((float *)out->data)[0] = a->f;
		return e;
	case FV_ATTR_INT:
		if ((e = fv_tensor_alloc(out, FV_DTYPE_INT64, 0, NULL, d)) == FV_OK)
			((int64_t *)out->data)[0] = a->i;
		return e;
	case FV_ATTR_FLOATS:
		len = (int64_t)a->n;
		if ((e = fv_tensor_alloc(out, FV_DTYPE_FLOAT, 1, &len, d)) == FV_OK && a->n)
			memcpy(out->data, a->floats, a->n * sizeof(float));
		return e;
	case FV_ATTR_INTS:
		len = (int64_t)a->n;
		if ((e = fv_tensor_alloc(out, FV_DTYPE_INT64, 1, &len, d)) == FV_OK && a->n)
			memcpy(out->data, a->ints, a->n * sizeof(int64_t));
		return e;
	default:
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported value attribute");
	}
}

/* ---- reshaping ---- */

/* A copy of x with new dims (same element count). */
static fv_err reshaped(struct fv_tensor *out, const struct fv_tensor *x, size_t rank,
		       const int64_t *dims, struct fv_diag *d)
{
	char buf[160];
	fv_err e = fv_tensor_alloc(out, x->dtype, rank, dims, d);
	if (e != FV_OK)
		return e;
	if (out->count != x->count) {
		e = fv_diag_set(d, FV_EINVAL, "cannot reshape %s to %zu elements",
				fv_shape_str(x, buf, sizeof(buf)), out->count);
		fv_tensor_fini(out);
		return e;
	}
	if (x->count)
		memcpy(out->data, x->data, x->count * fv_dtype_size(x->dtype));
	return FV_OK;
}

static fv_err run_flatten(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	int64_t axis = fv_attr_int(n, "axis", 1), dims[2] = {1, 1};

	if (axis < 0)
		axis += (int64_t)X->rank;
	if (axis < 0 || axis > (int64_t)X->rank)
		return fv_diag_set(d, FV_EINVAL, "axis %lld out of range for rank %zu",
				   (long long)fv_attr_int(n, "axis", 1), X->rank);
	for (size_t i = 0; i < X->rank; i++)
		dims[(int64_t)i < axis ? 0 : 1] *= X->dims[i];
	return reshaped(out, X, 2, dims, d);
}

static fv_err run_reshape(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *S = in[1];
	bool allowzero = fv_attr_int(n, "allowzero", 0) != 0;
	int64_t dims[FV_MAX_TENSOR_RANK];
	size_t known = 1, infer = SIZE_MAX;

	if (S->dtype != FV_DTYPE_INT64 || S->rank != 1)
		return fv_diag_set(d, FV_EINVAL, "shape must be a 1-D int64 tensor");
	if (S->count > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "target rank %zu over %d", S->count,
				   FV_MAX_TENSOR_RANK);
	for (size_t i = 0; i < S->count; i++) {
		int64_t v = ((const int64_t *)S->data)[i];
		if (v == 0 && !allowzero) {
			if (i >= X->rank)
				return fv_diag_set(d, FV_EINVAL, "0 in shape copies a missing dim");
			v = X->dims[i];
		}
		if (v == -1) {
			if (infer != SIZE_MAX)
				return fv_diag_set(d, FV_EINVAL, "more than one -1 in shape");
			infer = i;
			dims[i] = 1;
			continue;
		}
		if (v < 0 || (uint64_t)v > FV_MAX_TENSOR_ELEMS ||
		    fv_mul_overflow(known, (size_t)v, &known) || known > FV_MAX_TENSOR_ELEMS)
			return fv_diag_set(d, FV_EINVAL, "bad target dimension %lld", (long long)v);
		dims[i] = v;
	}
	if (infer != SIZE_MAX) {
		if (known == 0 || X->count % known)
			return fv_diag_set(d, FV_EINVAL, "cannot infer the -1 dimension");
		dims[infer] = (int64_t)(X->count / known);
	}
	return reshaped(out, X, S->count, dims, d);
}

/* Axes of Squeeze/Unsqueeze: the attribute before opset 13, the input from 13. */
static fv_err check_axes_style(struct fv_node *n, struct fv_diag *d)
{
	if (n->opset >= 13 && fv_attr_get(n, "axes"))
		return fv_diag_set(d, FV_EINVAL, "axes is an input from opset 13");
	if (n->opset < 13 && n->n_in > 1)
		return fv_diag_set(d, FV_EINVAL, "axes is an attribute before opset 13");
	if (!strcmp(n->op->name, "Unsqueeze") && n->opset < 13 && !fv_attr_get(n, "axes"))
		return fv_diag_set(d, FV_EINVAL, "Unsqueeze needs axes");
	return FV_OK;
}

static fv_err get_axes(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       size_t *na, const int64_t **axes, struct fv_diag *d)
{
	const struct fv_attr *a = fv_attr_get(n, "axes");

	*na = 0;
	*axes = NULL;
	if (n_in > 1 && in[1]) {
		if (in[1]->dtype != FV_DTYPE_INT64 || in[1]->rank != 1)
			return fv_diag_set(d, FV_EINVAL, "axes must be a 1-D int64 tensor");
		*na = in[1]->count;
		*axes = in[1]->data;
	} else if (a) {
		*na = a->n;
		*axes = a->ints;
	}
	return FV_OK;
}

static fv_err run_squeeze(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool drop[FV_MAX_TENSOR_RANK] = {0};
	int64_t dims[FV_MAX_TENSOR_RANK];
	const int64_t *axes;
	size_t na, rank = 0, ax;
	fv_err e;

	if ((e = get_axes(n, in, n_in, &na, &axes, d)) != FV_OK)
		return e;
	for (size_t k = 0; k < na; k++) {
		if (!fv_axis(axes[k], X->rank, &ax) || X->dims[ax] != 1)
			return fv_diag_set(d, FV_EINVAL, "cannot squeeze axis %lld",
					   (long long)axes[k]);
		drop[ax] = true;
	}
	for (size_t i = 0; i < X->rank; i++)
		if (!(na ? drop[i] : X->dims[i] == 1))
			dims[rank++] = X->dims[i];
	return reshaped(out, X, rank, dims, d);
}

static fv_err run_unsqueeze(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			    struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool add[FV_MAX_TENSOR_RANK] = {0};
	int64_t dims[FV_MAX_TENSOR_RANK];
	const int64_t *axes;
	size_t na, rank, ax, j = 0;
	fv_err e;

	if ((e = get_axes(n, in, n_in, &na, &axes, d)) != FV_OK)
		return e;
	rank = X->rank + na;
	if (rank > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "result rank %zu over %d", rank,
				   FV_MAX_TENSOR_RANK);
	for (size_t k = 0; k < na; k++) {
		if (!fv_axis(axes[k], rank, &ax) || add[ax])
			return fv_diag_set(d, FV_EINVAL, "bad or repeated axis %lld",
					   (long long)axes[k]);
		add[ax] = true;
	}
	for (size_t i = 0; i < rank; i++)
		dims[i] = add[i] ? 1 : X->dims[j++];
	return reshaped(out, X, rank, dims, d);
}

/* ---- Concat ---- */

static fv_err check_concat(struct fv_node *n, struct fv_diag *d)
{
	return fv_attr_get(n, "axis") ? FV_OK : fv_diag_set(d, FV_EINVAL, "axis is required");
}

static fv_err run_concat(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X0 = in[0];
	int64_t axis = fv_attr_int(n, "axis", 0), dims[FV_MAX_TENSOR_RANK];
	size_t ax, outer = 1, inner = 1, es = fv_dtype_size(X0->dtype), pos = 0;
	fv_err e;

	if (!fv_axis(axis, X0->rank, &ax))
		return fv_diag_set(d, FV_EINVAL, "axis %lld out of range for rank %zu",
				   (long long)axis, X0->rank);
	memcpy(dims, X0->dims, sizeof(dims));
	dims[ax] = 0;
	for (size_t k = 0; k < n_in; k++) {
		const struct fv_tensor *X = in[k];
		if (!X || X->dtype != X0->dtype || X->rank != X0->rank)
			return fv_diag_set(d, FV_EINVAL, "inputs differ in type or rank");
		for (size_t i = 0; i < X->rank; i++)
			if (i != ax && X->dims[i] != X0->dims[i])
				return fv_diag_set(d, FV_EINVAL, "inputs differ in dimension %zu",
						   i);
		if ((uint64_t)X->dims[ax] > FV_MAX_TENSOR_ELEMS - (uint64_t)dims[ax])
			return fv_diag_set(d, FV_ELIMIT, "result too large");
		dims[ax] += X->dims[ax];
	}
	if ((e = fv_tensor_alloc(out, X0->dtype, X0->rank, dims, d)) != FV_OK)
		return e;
	for (size_t i = 0; i < ax; i++)
		outer *= (size_t)dims[i];
	for (size_t i = ax + 1; i < X0->rank; i++)
		inner *= (size_t)dims[i];
	/* Each input contributes a block of dims[ax]*inner elements per outer index. */
	for (size_t k = 0; k < n_in; k++) {
		size_t blk = (size_t)in[k]->dims[ax] * inner;
		for (size_t o = 0; o < outer && blk; o++)
			memcpy((char *)out->data + (o * (size_t)dims[ax] * inner + pos) * es,
			       (const char *)in[k]->data + o * blk * es, blk * es);
		pos += blk;
	}
	return FV_OK;
}

/* ---- Shape ---- */

static fv_err run_shape(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	int64_t r = (int64_t)in[0]->rank, start = fv_attr_int(n, "start", 0),
		end = fv_attr_int(n, "end", r), len;
	fv_err e;

	if (start < 0)
		start += r;
	if (end < 0)
		end += r;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	len = end > start ? end - start : 0;
	if ((e = fv_tensor_alloc(out, FV_DTYPE_INT64, 1, &len, d)) != FV_OK)
		return e;
	for (int64_t i = 0; i < len; i++)
		((int64_t *)out->data)[i] = in[0]->dims[start + i];
	return FV_OK;
}

/* ---- strided copies (Gather, Slice, Transpose) ---- */

/* Copy out->count elements: output element at multi-index idx comes from input offset
 * base + sum(idx[i] * st[i]) (strides in elements, may be negative). */
static void strided_copy(struct fv_tensor *out, const struct fv_tensor *x, int64_t base,
			 const int64_t *st)
{
	size_t es = fv_dtype_size(x->dtype), idx[FV_MAX_TENSOR_RANK] = {0};
	int64_t off = base;

	for (size_t o = 0; o < out->count; o++) {
		memcpy((char *)out->data + o * es, (const char *)x->data + (size_t)off * es, es);
		for (size_t k = out->rank; k-- > 0;) {
			off += st[k];
			if (++idx[k] < (size_t)out->dims[k])
				break;
			off -= st[k] * (int64_t)idx[k];
			idx[k] = 0;
		}
	}
}

static void strides_of(const struct fv_tensor *x, int64_t *st)
{
	int64_t s = 1;
	for (size_t i = x->rank; i-- > 0;) {
		st[i] = s;
		s *= x->dims[i];
	}
}

static fv_err run_transpose(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			    struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	const struct fv_attr *p = fv_attr_get(n, "perm");
	int64_t perm[FV_MAX_TENSOR_RANK], dims[FV_MAX_TENSOR_RANK], xs[FV_MAX_TENSOR_RANK],
	    st[FV_MAX_TENSOR_RANK];
	bool seen[FV_MAX_TENSOR_RANK] = {0};
	fv_err e;

	if (p && p->n != X->rank)
		return fv_diag_set(d, FV_EINVAL, "perm has %zu entries for rank %zu", p->n,
				   X->rank);
	for (size_t i = 0; i < X->rank; i++) {
		perm[i] = p ? p->ints[i] : (int64_t)(X->rank - 1 - i);
		if (perm[i] < 0 || perm[i] >= (int64_t)X->rank || seen[perm[i]])
			return fv_diag_set(d, FV_EINVAL, "perm is not a permutation");
		seen[perm[i]] = true;
		dims[i] = X->dims[perm[i]];
	}
	if ((e = fv_tensor_alloc(out, X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	strides_of(X, xs);
	for (size_t i = 0; i < X->rank; i++)
		st[i] = xs[perm[i]];
	strided_copy(out, X, 0, st);
	return FV_OK;
}

static fv_err run_gather(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *I = in[1];
	int64_t axis = fv_attr_int(n, "axis", 0), dims[FV_MAX_TENSOR_RANK], len;
	size_t ax, rank = 0, outer = 1, inner = 1, es = fv_dtype_size(X->dtype);
	fv_err e;

	if (I->dtype != FV_DTYPE_INT64)
		return fv_diag_set(d, FV_EINVAL, "indices must be int64");
	if (!fv_axis(axis, X->rank, &ax))
		return fv_diag_set(d, FV_EINVAL, "axis %lld out of range", (long long)axis);
	if (X->rank + I->rank - 1 > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "result rank over %d", FV_MAX_TENSOR_RANK);
	len = X->dims[ax];
	for (size_t i = 0; i < ax; i++) {
		dims[rank++] = X->dims[i];
		outer *= (size_t)X->dims[i];
	}
	for (size_t i = 0; i < I->rank; i++)
		dims[rank++] = I->dims[i];
	for (size_t i = ax + 1; i < X->rank; i++) {
		dims[rank++] = X->dims[i];
		inner *= (size_t)X->dims[i];
	}
	for (size_t j = 0; j < I->count; j++) {
		int64_t v = ((const int64_t *)I->data)[j];
		if (v < -len || v >= len)
			return fv_diag_set(d, FV_EINVAL, "index %lld out of range [%lld, %lld)",
					   (long long)v, (long long)-len, (long long)len);
	}
	if ((e = fv_tensor_alloc(out, X->dtype, rank, dims, d)) != FV_OK)
		return e;
	for (size_t o = 0; o < outer; o++)
		for (size_t j = 0; j < I->count; j++) {
			int64_t v = ((const int64_t *)I->data)[j];
			size_t src = (o * (size_t)len + (size_t)(v < 0 ? v + len : v)) * inner;
			size_t dst = (o * I->count + j) * inner;
			if (inner)
				memcpy((char *)out->data + dst * es,
				       (const char *)X->data + src * es, inner * es);
		}
	return FV_OK;
}

static fv_err check_slice(struct fv_node *n, struct fv_diag *d)
{
	if (n->opset >= 10 && (fv_attr_get(n, "starts") || fv_attr_get(n, "ends")))
		return fv_diag_set(d, FV_EINVAL, "starts/ends are inputs from opset 10");
	if (n->opset < 10 && (n->n_in > 1 || !fv_attr_get(n, "starts") || !fv_attr_get(n, "ends")))
		return fv_diag_set(d, FV_EINVAL, "starts/ends are attributes before opset 10");
	if (n->opset >= 10 && n->n_in < 3)
		return fv_diag_set(d, FV_EINVAL, "needs data, starts and ends");
	return FV_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static fv_err slice_param(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  size_t k, const char *attr, size_t *cnt, const int64_t **v,
			  struct fv_diag *d)
{
	const struct fv_attr *a;

	if (n->opset >= 10) {
		if (k >= n_in || !in[k]) {
			*cnt = SIZE_MAX;
			*v = NULL;
			return FV_OK;
		}
		if (in[k]->dtype != FV_DTYPE_INT64 || in[k]->rank != 1)
			return fv_diag_set(d, FV_EINVAL, "%s must be a 1-D int64 tensor", attr);
		*cnt = in[k]->count;
		*v = in[k]->data;
		return FV_OK;
	}
	a = fv_attr_get(n, attr);
	*cnt = a ? a->n : SIZE_MAX;
	*v = a ? a->ints : NULL;
	return FV_OK;
}

static fv_err run_slice(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	const int64_t *starts, *ends, *axes, *steps;
	size_t ns, ne, na, nst;
	int64_t dims[FV_MAX_TENSOR_RANK], xs[FV_MAX_TENSOR_RANK], st[FV_MAX_TENSOR_RANK], base = 0;
	int64_t first[FV_MAX_TENSOR_RANK] = {0}, step[FV_MAX_TENSOR_RANK];
	bool seen[FV_MAX_TENSOR_RANK] = {0};
	fv_err e;

	if ((e = slice_param(n, in, n_in, 1, "starts", &ns, &starts, d)) != FV_OK ||
	    (e = slice_param(n, in, n_in, 2, "ends", &ne, &ends, d)) != FV_OK ||
	    (e = slice_param(n, in, n_in, 3, "axes", &na, &axes, d)) != FV_OK ||
	    (e = slice_param(n, in, n_in, 4, "steps", &nst, &steps, d)) != FV_OK)
		return e;
	if (ns != ne || (axes && na != ns) || (steps && nst != ns))
		return fv_diag_set(d, FV_EINVAL, "starts, ends, axes and steps differ in length");
	for (size_t i = 0; i < X->rank; i++) {
		dims[i] = X->dims[i];
		step[i] = 1;
	}
	for (size_t k = 0; k < ns; k++) {
		int64_t a = axes ? axes[k] : (int64_t)k, s = steps ? steps[k] : 1, dim, b, en;
		size_t ax;
		if (!fv_axis(a, X->rank, &ax) || seen[ax])
			return fv_diag_set(d, FV_EINVAL, "bad or repeated axis %lld", (long long)a);
		seen[ax] = true;
		if (s == 0)
			return fv_diag_set(d, FV_EINVAL, "step 0");
		dim = X->dims[ax];
		b = starts[k] < 0 ? (starts[k] < -dim ? -1 : starts[k] + dim) : starts[k];
		en = ends[k] < 0 ? (ends[k] < -dim ? -1 : ends[k] + dim) : ends[k];
		if (s > 0) {
			b = clamp64(b, 0, dim);
			en = clamp64(en, 0, dim);
			dims[ax] = en > b ? (en - b - 1) / s + 1 : 0;
		} else {
			b = clamp64(b, 0, dim - 1);
			en = clamp64(en, -1, dim - 1);
			/* -s cannot overflow: s == INT64_MIN gives at most one element anyway */
			dims[ax] =
			    b > en
				? (int64_t)(((uint64_t)b - (uint64_t)en - 1) / (0 - (uint64_t)s)) +
				      1
				: 0;
		}
		first[ax] = b;
		step[ax] = s;
	}
	if ((e = fv_tensor_alloc(out, X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	if (!out->count)
		return FV_OK;
	strides_of(X, xs);
	for (size_t i = 0; i < X->rank; i++) {
		base += first[i] * xs[i];
		/* Steps beyond the dimension only matter for the first element (dims[i] == 1). */
		st[i] = dims[i] > 1 ? step[i] * xs[i] : 0;
	}
	strided_copy(out, X, base, st);
	return FV_OK;
}

const struct fv_op fv_ops_shape[] = {
    {"", "Identity", 1, 1, 1, 1, 1, "", NULL, run_identity},
    {"", "Dropout", 7, 1, 3, 1, 2, "ratio:f seed:i", NULL, run_dropout},
    {"", "Constant", 1, 0, 0, 1, 1, "value:t value_float:f value_floats:F value_int:i value_ints:I",
     check_constant, run_constant},
    {"", "Flatten", 1, 1, 1, 1, 1, "axis:i", NULL, run_flatten},
    {"", "Reshape", 5, 2, 2, 1, 1, "allowzero:i", NULL, run_reshape},
    {"", "Squeeze", 1, 1, 2, 1, 1, "axes:I", check_axes_style, run_squeeze},
    {"", "Unsqueeze", 1, 1, 2, 1, 1, "axes:I", check_axes_style, run_unsqueeze},
    {"", "Concat", 4, 1, 1024, 1, 1, "axis:i", check_concat, run_concat},
    {"", "Shape", 1, 1, 1, 1, 1, "start:i end:i", NULL, run_shape},
    {"", "Transpose", 1, 1, 1, 1, 1, "perm:I", NULL, run_transpose},
    {"", "Gather", 1, 2, 2, 1, 1, "axis:i", NULL, run_gather},
    {"", "Slice", 1, 1, 5, 1, 1, "starts:I ends:I axes:I", check_slice, run_slice},
};
const size_t fv_ops_shape_n = sizeof(fv_ops_shape) / sizeof(fv_ops_shape[0]);
