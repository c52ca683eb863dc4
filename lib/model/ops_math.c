/* Arithmetic operators of the default domain: element-wise with numpy broadcasting, matrix
 * products (OpenBLAS), softmax, reductions, casts. */
#include "model/model_int.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- broadcasting ---- */

/* Output shape of numpy-broadcasting n tensors, with per-input strides (0 where a dimension
 * of size 1 is stretched). Inputs are right-aligned. */
struct bcast {
	size_t rank, count, n;
	int64_t dims[FV_MAX_TENSOR_RANK];
	size_t st[3][FV_MAX_TENSOR_RANK];
};

static fv_err bcast_init(struct bcast *b, size_t n, const struct fv_tensor *const *t,
			 struct fv_diag *d)
{
	char b1[160], b2[160];

	memset(b, 0, sizeof(*b));
	b->n = n;
	for (size_t k = 0; k < n; k++)
		if (t[k]->rank > b->rank)
			b->rank = t[k]->rank;
	for (size_t i = 0; i < b->rank; i++) {
		int64_t dim = 1;
		for (size_t k = 0; k < n; k++) {
			size_t off = b->rank - t[k]->rank;
			int64_t dk = i < off ? 1 : t[k]->dims[i - off];
			if (dk == dim || dk == 1)
				continue;
			if (dim != 1)
				return fv_diag_set(d, FV_EINVAL,
						   "shapes %s and %s do not broadcast",
						   fv_shape_str(t[0], b1, sizeof(b1)),
						   fv_shape_str(t[k], b2, sizeof(b2)));
			dim = dk;
		}
		b->dims[i] = dim;
	}
	for (size_t k = 0; k < n; k++) {
		size_t s = 1, off = b->rank - t[k]->rank;
		for (size_t i = b->rank; i-- > off;) {
			int64_t dk = t[k]->dims[i - off];
			b->st[k][i] = dk == 1 ? 0 : s;
			s *= (size_t)dk;
		}
	}
	if (!fv_dims_count(b->rank, b->dims, &b->count))
		return fv_diag_set(d, FV_ELIMIT, "broadcast result exceeds %u elements",
				   FV_MAX_TENSOR_ELEMS);
	return FV_OK;
}

/* Iterate the broadcast in rows of the last dimension: *inner elements per row, inner strides
 * ist[k]; bcast_next advances off[] to the next row and returns false at the end. */
static size_t bcast_inner(const struct bcast *b, size_t ist[3])
{
	for (size_t k = 0; k < 3; k++)
		ist[k] = b->rank ? b->st[k][b->rank - 1] : 0;
	return b->rank ? (size_t)b->dims[b->rank - 1] : 1;
}

static bool bcast_next(const struct bcast *b, size_t idx[FV_MAX_TENSOR_RANK], size_t off[3])
{
	if (b->rank < 2)
		return false;
	for (size_t i = b->rank - 1; i-- > 0;) {
		for (size_t k = 0; k < b->n; k++)
			off[k] += b->st[k][i];
		if (++idx[i] < (size_t)b->dims[i])
			return true;
		for (size_t k = 0; k < b->n; k++)
			off[k] -= b->st[k][i] * idx[i];
		idx[i] = 0;
	}
	return false;
}

/* ---- binary element-wise ---- */

enum binop {
	B_ADD,
	B_SUB,
	B_MUL,
	B_DIV,
	B_POW,
	B_GT,
	B_LT,
	B_GE,
	B_LE,
	B_EQ,
	B_AND,
	B_OR,
	B_XOR,
	B_MAX,
	B_MIN
};

static const struct {
	const char *name;
	enum binop op;
} binops[] = {{"Add", B_ADD},	     {"Sub", B_SUB},	{"Mul", B_MUL}, {"Div", B_DIV},
	      {"Pow", B_POW},	     {"Greater", B_GT}, {"Less", B_LT}, {"GreaterOrEqual", B_GE},
	      {"LessOrEqual", B_LE}, {"Equal", B_EQ},	{"And", B_AND}, {"Or", B_OR},
	      {"Xor", B_XOR},	     {"Max", B_MAX},	{"Min", B_MIN}};

static enum binop binop_of(const struct fv_node *n)
{
	for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
		if (strcmp(binops[i].name, n->op->name) == 0)
			return binops[i].op;
	return B_ADD;
}

static bool is_cmp(enum binop op)
{
	return op == B_GT || op == B_LT || op == B_GE || op == B_LE || op == B_EQ;
}

static bool is_logic(enum binop op)
{
	return op == B_AND || op == B_OR || op == B_XOR;
}

#define FLOAT_LOOP(T)                                                                              \
	do {                                                                                       \
		const T *a = (const T *)A->data + off[0], *b = (const T *)B->data + off[1];        \
		T *y = (T *)Y->data + o;                                                           \
		uint8_t *yb = (uint8_t *)Y->data + o;                                              \
		for (size_t j = 0; j < inner; j++) {                                               \
			T u = a[j * ist[0]], v = b[j * ist[1]];                                    \
			switch (op) {                                                              \
			case B_ADD:                                                                \
				y[j] = u + v;                                                      \
				break;                                                             \
			case B_SUB:                                                                \
				y[j] = u - v;                                                      \
				break;                                                             \
			case B_MUL:                                                                \
				y[j] = u * v;                                                      \
				break;                                                             \
			case B_DIV:                                                                \
				y[j] = u / v;                                                      \
				break;                                                             \
			case B_POW:                                                                \
				y[j] = (T)pow(u, v);                                               \
				break;                                                             \
			case B_MAX:                                                                \
				y[j] = (isnan(u) || u >= v) ? u : v;                               \
				break;                                                             \
			case B_MIN:                                                                \
				y[j] = (isnan(u) || u <= v) ? u : v;                               \
				break;                                                             \
			case B_GT:                                                                 \
				yb[j] = u > v;                                                     \
				break;                                                             \
			case B_LT:                                                                 \
				yb[j] = u < v;                                                     \
				break;                                                             \
			case B_GE:                                                                 \
				yb[j] = u >= v;                                                    \
				break;                                                             \
			case B_LE:                                                                 \
				yb[j] = u <= v;                                                    \
				break;                                                             \
			case B_EQ:                                                                 \
				yb[j] = u == v;                                                    \
				break;                                                             \
			default:                                                                   \
				break;                                                             \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* int64: wrapping arithmetic (no UB), division by zero refused. */
static fv_err int_row(enum binop op, const int64_t *a, size_t sa, const int64_t *b, size_t sb,
		      void *yv, size_t inner, struct fv_diag *d)
{
	int64_t *y = yv;
	uint8_t *yb = yv;

	for (size_t j = 0; j < inner; j++) {
		int64_t u = a[j * sa], v = b[j * sb];
		switch (op) {
		case B_ADD:
			y[j] = (int64_t)((uint64_t)u + (uint64_t)v);
			break;
		case B_SUB:
			y[j] = (int64_t)((uint64_t)u - (uint64_t)v);
			break;
		case B_MUL:
			y[j] = (int64_t)((uint64_t)u * (uint64_t)v);
			break;
		case B_DIV:
			if (v == 0)
				return fv_diag_set(d, FV_EINVAL, "integer division by zero");
			y[j] = (u == INT64_MIN && v == -1) ? INT64_MIN : u / v;
			break;
		case B_MAX:
			y[j] = u > v ? u : v;
			break;
		case B_MIN:
			y[j] = u < v ? u : v;
			break;
		case B_GT:
			yb[j] = u > v;
			break;
		case B_LT:
			yb[j] = u < v;
			break;
		case B_GE:
			yb[j] = u >= v;
			break;
		case B_LE:
			yb[j] = u <= v;
			break;
		case B_EQ:
			yb[j] = u == v;
			break;
		default:
			return fv_diag_set(d, FV_EUNSUPPORTED, "operation not defined on int64");
		}
	}
	return FV_OK;
}

static void bool_row(enum binop op, const uint8_t *a, size_t sa, const uint8_t *b, size_t sb,
		     uint8_t *y, size_t inner)
{
	for (size_t j = 0; j < inner; j++) {
		uint8_t u = a[j * sa], v = b[j * sb];
		y[j] = op == B_AND   ? (u & v)
		       : op == B_OR  ? (u | v)
		       : op == B_XOR ? (u ^ v)
				     : (u == v);
	}
}

/* Integer power with wrap-around; a negative exponent gives what truncating 1/x^-e gives. */
static int64_t ipow(int64_t b, int64_t e)
{
	uint64_t r = 1, x = (uint64_t)b;

	if (e < 0)
		return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
	for (; e; e >>= 1) {
		if (e & 1)
			r *= x;
		x *= x;
	}
	return (int64_t)r;
}

static double dbl_op(enum binop op, double u, double v)
{
	switch (op) {
	case B_ADD:
		return u + v;
	case B_SUB:
		return u - v;
	case B_MUL:
		return u * v;
	case B_DIV:
		return u / v;
	case B_POW:
		return pow(u, v);
	case B_MAX:
		return (isnan(u) || u >= v) ? u : v;
	case B_MIN:
		return (isnan(u) || u <= v) ? u : v;
	case B_GT:
		return u > v;
	case B_LT:
		return u < v;
	case B_GE:
		return u >= v;
	case B_LE:
		return u <= v;
	case B_EQ:
		return u == v;
	default:
		return 0;
	}
}

/* Element types without a dedicated loop: the half floats through double, the integers
 * through int64 (uint64 through uint64) with the result wrapped to the type's width. */
static fv_err generic_row(enum binop op, const struct fv_tensor *A, size_t oa, size_t sa,
			  const struct fv_tensor *B, size_t ob, size_t sb, struct fv_tensor *Y,
			  size_t o, size_t inner, struct fv_diag *d)
{
	bool isu = A->dtype == FV_DTYPE_UINT64;

	for (size_t j = 0; j < inner; j++) {
		size_t ia = oa + j * sa, ib = ob + j * sb;
		if (op == B_POW && !(fv_dtype_is_int(A->dtype) && fv_dtype_is_int(B->dtype))) {
			fv_tensor_setd(Y, o + j, pow(fv_tensor_getd(A, ia), fv_tensor_getd(B, ib)));
		} else if (fv_dtype_is_float(A->dtype)) {
			fv_tensor_setd(Y, o + j,
				       dbl_op(op, fv_tensor_getd(A, ia), fv_tensor_getd(B, ib)));
		} else {
			int64_t u = fv_tensor_geti(A, ia), v = fv_tensor_geti(B, ib), r;
			uint64_t uu = (uint64_t)u, uv = (uint64_t)v;
			switch (op) {
			case B_ADD:
				r = (int64_t)(uu + uv);
				break;
			case B_SUB:
				r = (int64_t)(uu - uv);
				break;
			case B_MUL:
				r = (int64_t)(uu * uv);
				break;
			case B_DIV:
				if (v == 0)
					return fv_diag_set(d, FV_EINVAL,
							   "integer division by zero");
				r = isu				  ? (int64_t)(uu / uv)
				    : (u == INT64_MIN && v == -1) ? INT64_MIN
								  : u / v;
				break;
			case B_POW:
				r = ipow(u, v);
				break;
			case B_MAX:
				r = (isu ? uu >= uv : u >= v) ? u : v;
				break;
			case B_MIN:
				r = (isu ? uu <= uv : u <= v) ? u : v;
				break;
			case B_GT:
				r = isu ? uu > uv : u > v;
				break;
			case B_LT:
				r = isu ? uu < uv : u < v;
				break;
			case B_GE:
				r = isu ? uu >= uv : u >= v;
				break;
			case B_LE:
				r = isu ? uu <= uv : u <= v;
				break;
			case B_EQ:
				r = u == v;
				break;
			default:
				return fv_diag_set(d, FV_EUNSUPPORTED, "%s",
						   "operation not defined on integers");
			}
			fv_tensor_seti(Y, o + j, r);
		}
	}
	return FV_OK;
}

static fv_err run_binary(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	enum binop op = binop_of(n);
	const struct fv_tensor *A = in[0], *B = in[1];
	struct fv_tensor *Y = out;
	enum fv_dtype yt;
	struct bcast bc;
	size_t idx[FV_MAX_TENSOR_RANK] = {0}, off[3] = {0}, ist[3], inner, o = 0;
	fv_err e;

	if (A->dtype != B->dtype && op != B_POW)
		return fv_diag_set(d, FV_EINVAL, "operands are %s and %s", fv_dtype_name(A->dtype),
				   fv_dtype_name(B->dtype));
	if (is_logic(op) ? A->dtype != FV_DTYPE_BOOL : (A->dtype == FV_DTYPE_BOOL && op != B_EQ))
		return fv_diag_set(d, FV_EINVAL, "not defined on %s", fv_dtype_name(A->dtype));
	if (op == B_POW && (A->dtype == FV_DTYPE_BOOL || B->dtype == FV_DTYPE_BOOL))
		return fv_diag_set(d, FV_EINVAL, "Pow of bool");
	if ((e = bcast_init(&bc, 2, in, d)) != FV_OK)
		return e;
	yt = (is_cmp(op) || is_logic(op)) ? FV_DTYPE_BOOL : A->dtype;
	if ((e = fv_tensor_alloc(Y, yt, bc.rank, bc.dims, d)) != FV_OK)
		return e;
	if (!bc.count)
		return FV_OK;
	inner = bcast_inner(&bc, ist);
	do {
		if (op == B_POW && (A->dtype != B->dtype || fv_dtype_is_int(A->dtype))) {
			e = generic_row(op, A, off[0], ist[0], B, off[1], ist[1], Y, o, inner, d);
			if (e != FV_OK)
				return e;
			o += inner;
			continue;
		}
		switch (A->dtype) {
		case FV_DTYPE_FLOAT:
			FLOAT_LOOP(float);
			break;
		case FV_DTYPE_DOUBLE:
			FLOAT_LOOP(double);
			break;
		case FV_DTYPE_INT64:
			e = int_row(op, (const int64_t *)A->data + off[0], ist[0],
				    (const int64_t *)B->data + off[1], ist[1],
				    (char *)Y->data + o * fv_dtype_size(yt), inner, d);
			if (e != FV_OK)
				return e;
			break;
		case FV_DTYPE_BOOL:
			bool_row(op, (const uint8_t *)A->data + off[0], ist[0],
				 (const uint8_t *)B->data + off[1], ist[1], (uint8_t *)Y->data + o,
				 inner);
			break;
		default:
			e = generic_row(op, A, off[0], ist[0], B, off[1], ist[1], Y, o, inner, d);
			if (e != FV_OK)
				return e;
			break;
		}
		o += inner;
	} while (bcast_next(&bc, idx, off));
	return FV_OK;
}

/* Max/Min/Sum/Mean: every input is required (ONNX has no optional variadic input), so an
 * empty input name is refused at load. */
static fv_err check_variadic(struct fv_node *n, struct fv_diag *d)
{
	for (size_t i = 0; i < n->n_in; i++)
		if (n->in[i] < 0)
			return fv_diag_set(d, FV_EINVAL, "input %zu of %s is empty", i,
					   n->op->name);
	return FV_OK;
}

/* Max/Min/Sum/Mean with one or more inputs, folded pairwise with broadcasting. */
static fv_err run_variadic(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			   struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	static const struct fv_op add = {.name = "Add"}, max = {.name = "Max"},
				  min = {.name = "Min"};
	bool mean = strcmp(n->op->name, "Mean") == 0;
	struct fv_node pair = *n;
	struct fv_tensor acc = {0}, next;
	fv_err e;

	pair.op = strcmp(n->op->name, "Max") == 0   ? &max
		  : strcmp(n->op->name, "Min") == 0 ? &min
						    : &add;
	if (in[0]->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "not defined on bool");
	if ((e = fv_tensor_copy(&acc, in[0], d)) != FV_OK)
		return e;
	for (size_t i = 1; i < n_in; i++) {
		const struct fv_tensor *pin[2] = {&acc, in[i]};
		memset(&next, 0, sizeof(next));
		e = run_binary(&pair, pin, 2, &next, 1, d);
		fv_tensor_fini(&acc);
		acc = next;
		if (e != FV_OK)
			goto fail;
	}
	if (mean) {
		if (acc.dtype == FV_DTYPE_INT64) {
			e = fv_diag_set(d, FV_EUNSUPPORTED, "Mean of int64");
			goto fail;
		}
		for (size_t i = 0; i < acc.count; i++)
			fv_tensor_setd(&acc, i, fv_tensor_getd(&acc, i) / (double)n_in);
	}
	*out = acc;
	return FV_OK;
fail:
	fv_tensor_fini(&acc);
	return e;
}

/* Where(cond, x, y) with three-way broadcasting. */
static fv_err run_where(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	struct bcast bc;
	size_t idx[FV_MAX_TENSOR_RANK] = {0}, off[3] = {0}, ist[3], inner, o = 0,
	       es = fv_dtype_size(in[1]->dtype);
	fv_err e;

	if (in[0]->dtype != FV_DTYPE_BOOL || in[1]->dtype != in[2]->dtype)
		return fv_diag_set(d, FV_EINVAL, "needs a bool condition and equal value types");
	if ((e = bcast_init(&bc, 3, in, d)) != FV_OK)
		return e;
	if ((e = fv_tensor_alloc(out, in[1]->dtype, bc.rank, bc.dims, d)) != FV_OK)
		return e;
	if (!bc.count)
		return FV_OK;
	inner = bcast_inner(&bc, ist);
	do {
		const uint8_t *c = (const uint8_t *)in[0]->data + off[0];
		for (size_t j = 0; j < inner; j++) {
			const char *src =
			    c[j * ist[0]] ? (const char *)in[1]->data + (off[1] + j * ist[1]) * es
					  : (const char *)in[2]->data + (off[2] + j * ist[2]) * es;
			memcpy((char *)out->data + (o + j) * es, src, es);
		}
		o += inner;
	} while (bcast_next(&bc, idx, off));
	return FV_OK;
}

/* ---- unary element-wise ---- */

static double sigmoid(double x)
{
	if (x >= 0)
		return 1.0 / (1.0 + exp(-x));
	double e = exp(x);
	return e / (1.0 + e);
}

enum unop {
	U_SIGMOID,
	U_RELU,
	U_TANH,
	U_EXP,
	U_LOG,
	U_NEG,
	U_ABS,
	U_SQRT,
	U_RECIP,
	U_FLOOR,
	U_CEIL,
	U_ROUND,
	U_ERF,
	U_SIGN,
	U_SOFTPLUS,
	U_SIN,
	U_COS,
	U_LEAKY,
	U_ELU,
	U_HARDSIG,
	U_NOT
};

static const char *const unop_names[] = {[U_SIGMOID] = "Sigmoid",
					 [U_RELU] = "Relu",
					 [U_TANH] = "Tanh",
					 [U_EXP] = "Exp",
					 [U_LOG] = "Log",
					 [U_NEG] = "Neg",
					 [U_ABS] = "Abs",
					 [U_SQRT] = "Sqrt",
					 [U_RECIP] = "Reciprocal",
					 [U_FLOOR] = "Floor",
					 [U_CEIL] = "Ceil",
					 [U_ROUND] = "Round",
					 [U_ERF] = "Erf",
					 [U_SIGN] = "Sign",
					 [U_SOFTPLUS] = "Softplus",
					 [U_SIN] = "Sin",
					 [U_COS] = "Cos",
					 [U_LEAKY] = "LeakyRelu",
					 [U_ELU] = "Elu",
					 [U_HARDSIG] = "HardSigmoid",
					 [U_NOT] = "Not"};

static enum unop unop_of(const struct fv_node *n)
{
	for (size_t i = 0; i < sizeof(unop_names) / sizeof(unop_names[0]); i++)
		if (!strcmp(unop_names[i], n->op->name))
			return (enum unop)i;
	return U_NEG;
}

/* alpha, beta: LeakyRelu, Elu and HardSigmoid parameters. */
static double unary(enum unop op, double x, double alpha, double beta)
{
	switch (op) {
	case U_SIGMOID:
		return sigmoid(x);
	case U_RELU:
		return x > 0 ? x : (x == x ? 0.0 : x);
	case U_TANH:
		return tanh(x);
	case U_EXP:
		return exp(x);
	case U_LOG:
		return log(x);
	case U_NEG:
		return -x;
	case U_ABS:
		return fabs(x);
	case U_SQRT:
		return sqrt(x);
	case U_RECIP:
		return 1.0 / x;
	case U_FLOOR:
		return floor(x);
	case U_CEIL:
		return ceil(x);
	case U_ROUND:
		return nearbyint(x); /* ties to even under the default rounding mode */
	case U_ERF:
		return erf(x);
	case U_SIGN:
		return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
	case U_SOFTPLUS:
		return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
	case U_SIN:
		return sin(x);
	case U_COS:
		return cos(x);
	case U_LEAKY:
		return x >= 0 ? x : x * alpha;
	case U_ELU:
		return x >= 0 ? x : alpha * expm1(x);
	case U_HARDSIG: {
		double v = alpha * x + beta;
		return v < 0 ? 0 : v > 1 ? 1 : v;
	}
	case U_NOT:
		break;
	}
	return x;
}

typedef float fv_v4f __attribute__((vector_size(16)));
typedef int32_t fv_v4i __attribute__((vector_size(16)));

/* unary(U_RELU) on floats, without the round trip through double, the switch and the branch
 * per element (a CNN's most frequent operator; its signs are unpredictable): x where x > 0 or
 * x is NaN, +0 elsewhere, with a mask over 4 floats (SSE2, native on every x86-64). */
static void relu_f(const float *x, float *y, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		fv_v4f v;
		memcpy(&v, x + i, sizeof(v));
		v = (fv_v4f)((fv_v4i)v & ((v > 0) | (v != v)));
		memcpy(y + i, &v, sizeof(v));
	}
	for (; i < n; i++)
		y[i] = x[i] > 0 || x[i] != x[i] ? x[i] : 0.0f;
}

/* Operators whose int64 result is exact when computed on the integer itself. */
static bool int_ok(enum unop op)
{
	return op == U_NEG || op == U_ABS || op == U_RELU || op == U_SIGN;
}

static fv_err run_unary(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	enum unop op = unop_of(n);
	double alpha = fv_attr_float(n, "alpha",
				     op == U_LEAKY ? 0.01f
				     : op == U_ELU ? 1.0f
						   : 0.2f),
	       beta = fv_attr_float(n, "beta", 0.5f);
	fv_err e;

	if (op == U_NOT) {
		if (X->dtype != FV_DTYPE_BOOL)
			return fv_diag_set(d, FV_EINVAL, "Not of %s", fv_dtype_name(X->dtype));
		if ((e = fv_tensor_alloc(out, FV_DTYPE_BOOL, X->rank, X->dims, d)) != FV_OK)
			return e;
		for (size_t i = 0; i < X->count; i++)
			((uint8_t *)out->data)[i] = !((const uint8_t *)X->data)[i];
		return FV_OK;
	}
	if (X->dtype == FV_DTYPE_BOOL || (fv_dtype_is_int(X->dtype) && !int_ok(op)))
		return fv_diag_set(d, FV_EUNSUPPORTED, "%s of %s is not supported", n->op->name,
				   fv_dtype_name(X->dtype));
	/* every path below writes every element */
	if ((e = fv_tensor_alloc_uninit(out, X->dtype, X->rank, X->dims, d)) != FV_OK)
		return e;
	if (X->dtype != FV_DTYPE_FLOAT && X->dtype != FV_DTYPE_DOUBLE &&
	    X->dtype != FV_DTYPE_INT64) {
		/* half floats through double, narrow integers through int64 */
		for (size_t i = 0; i < X->count; i++) {
			if (fv_dtype_is_float(X->dtype)) {
				fv_tensor_setd(out, i,
					       unary(op, fv_tensor_getd(X, i), alpha, beta));
				continue;
			}
			int64_t v = fv_tensor_geti(X, i);
			fv_tensor_seti(out, i,
				       op == U_NEG    ? (int64_t)(0 - (uint64_t)v)
				       : op == U_ABS  ? (v < 0 ? (int64_t)(0 - (uint64_t)v) : v)
				       : op == U_RELU ? (v > 0 ? v : 0)
						      : (v > 0	 ? 1
							 : v < 0 ? -1
								 : 0));
		}
		return FV_OK;
	}
	switch (X->dtype) {
	case FV_DTYPE_FLOAT: {
		const float *x = X->data;
		float *y = out->data;
		if (op == U_RELU) {
			relu_f(x, y, X->count);
			break;
		}
		for (size_t i = 0; i < X->count; i++)
			y[i] = (float)unary(op, x[i], alpha, beta);
		break;
	}
	case FV_DTYPE_DOUBLE: {
		const double *x = X->data;
		double *y = out->data;
		for (size_t i = 0; i < X->count; i++)
			y[i] = unary(op, x[i], alpha, beta);
		break;
	}
	case FV_DTYPE_INT64: {
		const int64_t *x = X->data;
		int64_t *y = out->data;
		for (size_t i = 0; i < X->count; i++) {
			int64_t v = x[i];
			if (op == U_NEG)
				y[i] = (int64_t)(0 - (uint64_t)v);
			else if (op == U_ABS)
				y[i] = v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
			else if (op == U_RELU)
				y[i] = v > 0 ? v : 0;
			else
				y[i] = v > 0 ? 1 : v < 0 ? -1 : 0;
		}
		break;
	}
	default:
		break;
	}
	return FV_OK;
}

/* ---- Softmax / LogSoftmax ---- */

static fv_err run_softmax(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			  struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool logsm = !strcmp(n->op->name, "LogSoftmax"), legacy = n->opset < 13;
	int64_t axis = fv_attr_int(n, "axis", legacy ? 1 : -1);
	size_t ax, outer = 1, len = 1, inner = 1;
	fv_err e;

	if (!fv_dtype_is_float(X->dtype))
		return fv_diag_set(d, FV_EINVAL, "input is %s", fv_dtype_name(X->dtype));
	if (X->rank == 0 || !fv_axis(axis, X->rank, &ax))
		return fv_diag_set(d, FV_EINVAL, "axis %lld out of range for rank %zu",
				   (long long)axis, X->rank);
	for (size_t i = 0; i < X->rank; i++) {
		size_t dim = (size_t)X->dims[i];
		if (i < ax)
			outer *= dim;
		else if (i == ax || legacy)
			len *= dim;
		else
			inner *= dim;
	}
	if ((e = fv_tensor_alloc(out, X->dtype, X->rank, X->dims, d)) != FV_OK)
		return e;
	for (size_t o = 0; o < outer; o++)
		for (size_t k = 0; k < inner; k++) {
			size_t base = o * len * inner + k;
			double mx = -INFINITY, sum = 0;
			for (size_t j = 0; j < len; j++) {
				double v = fv_tensor_getd(X, base + j * inner);
				if (v > mx)
					mx = v;
			}
			for (size_t j = 0; j < len; j++)
				sum += exp(fv_tensor_getd(X, base + j * inner) - mx);
			for (size_t j = 0; j < len; j++) {
				double v = fv_tensor_getd(X, base + j * inner) - mx;
				fv_tensor_setd(out, base + j * inner,
					       logsm ? v - log(sum) : exp(v) / sum);
			}
		}
	return FV_OK;
}

/* ---- Gemm, MatMul ---- */

static bool blas_dim(int64_t v)
{
	return v >= 0 && v <= INT_MAX;
}

static fv_err run_gemm(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *A = in[0], *B = in[1], *C = n_in > 2 ? in[2] : NULL;
	double alpha = fv_attr_float(n, "alpha", 1.0f), beta = fv_attr_float(n, "beta", 1.0f);
	bool ta = fv_attr_int(n, "transA", 0) != 0, tb = fv_attr_int(n, "transB", 0) != 0;
	int64_t M, K, K2, N, dims[2];
	char b1[160], b2[160];
	fv_err e;

	if (A->dtype != B->dtype || (C && C->dtype != A->dtype))
		return fv_diag_set(d, FV_EINVAL, "operands differ in type");
	if (A->dtype != FV_DTYPE_FLOAT && A->dtype != FV_DTYPE_DOUBLE)
		return fv_diag_set(d, FV_EUNSUPPORTED, "Gemm of %s (supported: float, double)",
				   fv_dtype_name(A->dtype));
	if (A->rank != 2 || B->rank != 2)
		return fv_diag_set(d, FV_EINVAL, "A %s and B %s must be matrices",
				   fv_shape_str(A, b1, sizeof(b1)),
				   fv_shape_str(B, b2, sizeof(b2)));
	M = A->dims[ta ? 1 : 0];
	K = A->dims[ta ? 0 : 1];
	K2 = B->dims[tb ? 1 : 0];
	N = B->dims[tb ? 0 : 1];
	if (K != K2)
		return fv_diag_set(d, FV_EINVAL, "A %s and B %s do not multiply",
				   fv_shape_str(A, b1, sizeof(b1)),
				   fv_shape_str(B, b2, sizeof(b2)));
	if (!blas_dim(M) || !blas_dim(N) || !blas_dim(K) || !blas_dim(A->dims[1]) ||
	    !blas_dim(B->dims[1]))
		return fv_diag_set(d, FV_ELIMIT, "matrix dimension over INT_MAX");
	dims[0] = M;
	dims[1] = N;
	if ((e = fv_tensor_alloc(out, A->dtype, 2, dims, d)) != FV_OK)
		return e;
	if (C && beta != 0) {
		/* Unidirectional broadcast of C to [M, N]. */
		int64_t cm = C->rank == 2 ? C->dims[0] : 1;
		int64_t cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
		if (C->rank > 2 || (cm != 1 && cm != M) || (cn != 1 && cn != N))
			return fv_diag_set(d, FV_EINVAL, "C %s does not broadcast to [%lld,%lld]",
					   fv_shape_str(C, b1, sizeof(b1)), (long long)M,
					   (long long)N);
		for (int64_t i = 0; i < M; i++)
			for (int64_t j = 0; j < N; j++)
				fv_tensor_setd(out, (size_t)(i * N + j),
					       fv_tensor_getd(C, (size_t)((cm == 1 ? 0 : i) * cn +
									  (cn == 1 ? 0 : j))));
	} else {
		beta = 0;
	}
	if (M == 0 || N == 0)
		return FV_OK;
	if (K == 0) {
		/* BLAS would leave beta*C; scale it ourselves. */
		for (size_t i = 0; i < out->count; i++)
			fv_tensor_setd(out, i, beta * fv_tensor_getd(out, i));
		return FV_OK;
	}
	if (A->dtype == FV_DTYPE_FLOAT)
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, (float)alpha,
			    A->data, (int)A->dims[1], B->data, (int)B->dims[1], (float)beta,
			    out->data, (int)N);
	else
		cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A->data,
			    (int)A->dims[1], B->data, (int)B->dims[1], beta, out->data, (int)N);
	return FV_OK;
}

static fv_err run_matmul(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	struct fv_tensor A = *in[0], B = *in[1], Ab, Bb;
	const struct fv_tensor *pb[2] = {&Ab, &Bb};
	int64_t M, K, N, dims[FV_MAX_TENSOR_RANK];
	size_t rank, idx[FV_MAX_TENSOR_RANK] = {0}, off[3] = {0}, es, nb = 0;
	bool a1 = A.rank == 1, b1 = B.rank == 1;
	struct bcast bc;
	char s1[160], s2[160];
	fv_err e;

	if (A.dtype != B.dtype || A.dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "operands are %s and %s", fv_dtype_name(A.dtype),
				   fv_dtype_name(B.dtype));
	if (A.dtype != FV_DTYPE_FLOAT && A.dtype != FV_DTYPE_DOUBLE && A.dtype != FV_DTYPE_INT64)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "MatMul of %s (supported: float, double, int64)",
				   fv_dtype_name(A.dtype));
	if (A.rank == 0 || B.rank == 0)
		return fv_diag_set(d, FV_EINVAL, "MatMul of a scalar");
	/* 1-D operands are promoted to matrices and the added dimension dropped at the end. */
	if (a1) {
		A.rank = 2;
		A.dims[1] = A.dims[0];
		A.dims[0] = 1;
	}
	if (b1) {
		B.rank = 2;
		B.dims[1] = 1;
	}
	M = A.dims[A.rank - 2];
	K = A.dims[A.rank - 1];
	N = B.dims[B.rank - 1];
	if (B.dims[B.rank - 2] != K)
		return fv_diag_set(d, FV_EINVAL, "shapes %s and %s do not multiply",
				   fv_shape_str(in[0], s1, sizeof(s1)),
				   fv_shape_str(in[1], s2, sizeof(s2)));
	if (!blas_dim(M) || !blas_dim(N) || !blas_dim(K))
		return fv_diag_set(d, FV_ELIMIT, "matrix dimension over INT_MAX");
	/* Broadcast the batch dimensions (all but the last two). */
	Ab = A;
	Bb = B;
	Ab.rank = A.rank - 2;
	Bb.rank = B.rank - 2;
	if ((e = bcast_init(&bc, 2, pb, d)) != FV_OK)
		return e;
	rank = 0;
	for (size_t i = 0; i < bc.rank; i++)
		dims[rank++] = bc.dims[i];
	if (!a1)
		dims[rank++] = M;
	if (!b1)
		dims[rank++] = N;
	if (rank > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "result rank over %d", FV_MAX_TENSOR_RANK);
	if ((e = fv_tensor_alloc(out, A.dtype, rank, dims, d)) != FV_OK)
		return e;
	if (!out->count || K == 0)
		return FV_OK;
	es = fv_dtype_size(A.dtype);
	/* Batch strides in elements: bcast strides count batch elements, each a matrix. */
	do {
		size_t inner = bc.rank ? (size_t)bc.dims[bc.rank - 1] : 1;
		for (size_t j = 0; j < inner; j++, nb++) {
			size_t oa = (off[0] + j * (bc.rank ? bc.st[0][bc.rank - 1] : 0)) *
				    (size_t)(M * K),
			       ob = (off[1] + j * (bc.rank ? bc.st[1][bc.rank - 1] : 0)) *
				    (size_t)(K * N);
			const char *pa = (const char *)A.data + oa * es,
				   *pB = (const char *)B.data + ob * es;
			char *py = (char *)out->data + nb * (size_t)(M * N) * es;
			if (A.dtype == FV_DTYPE_FLOAT) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M,
					    (int)N, (int)K, 1.0f, (const float *)pa, (int)K,
					    (const float *)pB, (int)N, 0.0f, (float *)py, (int)N);
			} else if (A.dtype == FV_DTYPE_DOUBLE) {
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M,
					    (int)N, (int)K, 1.0, (const double *)pa, (int)K,
					    (const double *)pB, (int)N, 0.0, (double *)py, (int)N);
			} else {
				const int64_t *ia = (const int64_t *)pa, *ib = (const int64_t *)pB;
				int64_t *iy = (int64_t *)py;
				for (int64_t r = 0; r < M; r++)
					for (int64_t c = 0; c < N; c++) {
						uint64_t s = 0;
						for (int64_t k = 0; k < K; k++)
							s += (uint64_t)ia[r * K + k] *
							     (uint64_t)ib[k * N + c];
						iy[r * N + c] = (int64_t)s;
					}
			}
		}
	} while (bcast_next(&bc, idx, off));
	return FV_OK;
}

/* ---- Clip ---- */

static fv_err check_clip(struct fv_node *n, struct fv_diag *d)
{
	if (n->opset >= 11 && (fv_attr_get(n, "min") || fv_attr_get(n, "max")))
		return fv_diag_set(d, FV_EINVAL, "min and max are inputs from opset 11");
	if (n->opset < 11 && n->n_in > 1)
		return fv_diag_set(d, FV_EINVAL, "min and max are attributes before opset 11");
	return FV_OK;
}

static fv_err run_clip(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	double lo = -INFINITY, hi = INFINITY;
	fv_err e;

	if (X->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "Clip of bool");
	if (n->opset < 11) {
		lo = fv_attr_float(n, "min", -INFINITY);
		hi = fv_attr_float(n, "max", INFINITY);
	} else {
		for (size_t k = 1; k < n_in && k < 3; k++) {
			if (!in[k])
				continue;
			if (in[k]->count != 1 || in[k]->dtype != X->dtype)
				return fv_diag_set(d, FV_EINVAL,
						   "min and max must be scalars of the input type");
			if (k == 1)
				lo = fv_tensor_getd(in[k], 0);
			else
				hi = fv_tensor_getd(in[k], 0);
		}
	}
	if ((e = fv_tensor_copy(out, X, d)) != FV_OK)
		return e;
	if (X->dtype == FV_DTYPE_INT64) {
		int64_t ilo = n_in > 1 && in[1] ? fv_tensor_geti(in[1], 0) : INT64_MIN;
		int64_t ihi = n_in > 2 && in[2] ? fv_tensor_geti(in[2], 0) : INT64_MAX;
		int64_t *y = out->data;
		for (size_t i = 0; i < out->count; i++)
			y[i] = y[i] < ilo ? ilo : y[i] > ihi ? ihi : y[i];
		return FV_OK;
	}
	for (size_t i = 0; i < out->count; i++) {
		double v = fv_tensor_getd(out, i);
		if (v < lo)
			fv_tensor_setd(out, i, lo);
		else if (v > hi)
			fv_tensor_setd(out, i, hi);
	}
	return FV_OK;
}

/* ---- Cast ---- */

static fv_err check_cast(struct fv_node *n, struct fv_diag *d)
{
	const struct fv_attr *a = fv_attr_get(n, "to");
	if (!a || fv_dtype_size((enum fv_dtype)a->i) == 0)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute value to=%lld (supported: float, double, "
				   "float16, bfloat16, bool, integers)",
				   a ? (long long)a->i : -1LL);
	return FV_OK;
}

static fv_err cast_to(const struct fv_node *n, const struct fv_tensor *X, enum fv_dtype to,
		      struct fv_tensor *out, struct fv_diag *d);

static fv_err run_cast(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	return cast_to(n, in[0], (enum fv_dtype)fv_attr_int(n, "to", 0), out, d);
}

/* CastLike: Cast to the element type of the second input. */
static fv_err run_castlike(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			   struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	return cast_to(n, in[0], in[1]->dtype, out, d);
}

static fv_err cast_to(const struct fv_node *n, const struct fv_tensor *X, enum fv_dtype to,
		      struct fv_tensor *out, struct fv_diag *d)
{
	fv_err e;

	if ((e = fv_tensor_alloc(out, to, X->rank, X->dims, d)) != FV_OK)
		return e;
	if (X->dtype == to) {
		if (X->count)
			memcpy(out->data, X->data, X->count * fv_dtype_size(to));
	} else if (to == FV_DTYPE_BOOL) {
		for (size_t i = 0; i < X->count; i++)
			((uint8_t *)out->data)[i] = fv_dtype_is_int(X->dtype)
							? fv_tensor_geti(X, i) != 0
							: fv_tensor_getd(X, i) != 0;
	} else if (fv_dtype_is_int(to) && !fv_dtype_is_float(X->dtype)) {
		/* integer to integer: exact, wrapped to the target's width */
		for (size_t i = 0; i < X->count; i++)
			fv_tensor_seti(out, i, fv_tensor_geti(X, i));
	} else if (to == FV_DTYPE_FLOAT16 || to == FV_DTYPE_BFLOAT16) {
		/* one rounding, from the value itself (a double rounded to float first could
		 * round twice) */
		for (size_t i = 0; i < X->count; i++) {
			double v = fv_tensor_getd(X, i);
			float f = (float)v;
			if ((double)f != v && isfinite(v) && isfinite(f)) {
				/* truncate towards zero, then mark the lost bits in the last
				 * place: the float has 13+ bits below the half's mantissa, so
				 * the rounding below sees them */
				uint32_t u;
				if (fabs((double)f) > fabs(v))
					f = nextafterf(f, 0.0f);
				memcpy(&u, &f, 4);
				u |= 1;
				memcpy(&f, &u, 4);
			}
			if (to == FV_DTYPE_FLOAT16) {
				((uint16_t *)out->data)[i] = fv_float_to_half(f);
			} else if (n->opset >= 19) {
				((uint16_t *)out->data)[i] = fv_float_to_bfloat16(f);
			} else {
				/* Before opset 19 the reference (and the suite's data) keeps
				 * the upper 16 bits: truncation */
				uint32_t u;
				memcpy(&u, &f, 4);
				((uint16_t *)out->data)[i] =
				    (uint16_t)(isnan(f) ? (u >> 16) | 0x40 : u >> 16);
			}
		}
	} else {
		for (size_t i = 0; i < X->count; i++)
			fv_tensor_setd(out, i, fv_tensor_getd(X, i));
	}
	return FV_OK;
}

/* ---- reductions ---- */

enum redop { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_SUMSQ, R_L1, R_L2 };

static const struct {
	const char *name;
	enum redop op;
	int axes_input_from; /* opset from which axes is an input instead of an attribute */
} redops[] = {{"ReduceSum", R_SUM, 13},	  {"ReduceMean", R_MEAN, 18},
	      {"ReduceMax", R_MAX, 18},	  {"ReduceMin", R_MIN, 18},
	      {"ReduceProd", R_PROD, 18}, {"ReduceSumSquare", R_SUMSQ, 18},
	      {"ReduceL1", R_L1, 18},	  {"ReduceL2", R_L2, 18}};

static size_t redop_idx(const struct fv_node *n)
{
	for (size_t i = 0; i < sizeof(redops) / sizeof(redops[0]); i++)
		if (!strcmp(redops[i].name, n->op->name))
			return i;
	return 0;
}

static fv_err check_reduce(struct fv_node *n, struct fv_diag *d)
{
	size_t r = redop_idx(n);
	if (n->opset >= redops[r].axes_input_from && fv_attr_get(n, "axes"))
		return fv_diag_set(d, FV_EINVAL, "axes is an input from opset %d",
				   redops[r].axes_input_from);
	if (n->opset < redops[r].axes_input_from && n->n_in > 1)
		return fv_diag_set(d, FV_EINVAL, "axes is an attribute before opset %d",
				   redops[r].axes_input_from);
	return FV_OK;
}

static fv_err run_reduce(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	size_t ri = redop_idx(n);
	enum redop op = redops[ri].op;
	const struct fv_tensor *X = in[0];
	bool keep = fv_attr_int(n, "keepdims", 1) != 0, red[FV_MAX_TENSOR_RANK] = {0},
	     noop = fv_attr_int(n, "noop_with_empty_axes", 0) != 0;
	const struct fv_attr *aa = fv_attr_get(n, "axes");
	size_t n_axes = 0, rank = 0, ostride[FV_MAX_TENSOR_RANK], idx[FV_MAX_TENSOR_RANK] = {0},
	       oo = 0, cnt = 1;
	int64_t dims[FV_MAX_TENSOR_RANK];
	double *acc = NULL;
	fv_err e = FV_OK;

	if (X->dtype == FV_DTYPE_BOOL)
		return fv_diag_set(d, FV_EINVAL, "reduction of bool");
	if (X->dtype == FV_DTYPE_INT64 && op != R_MAX && op != R_MIN)
		return fv_diag_set(d, FV_EUNSUPPORTED, "%s of int64 is not supported", n->op->name);
	if (n_in > 1 && in[1]) {
		if (in[1]->dtype != FV_DTYPE_INT64 || in[1]->rank != 1)
			return fv_diag_set(d, FV_EINVAL, "axes must be a 1-D int64 tensor");
		n_axes = in[1]->count;
	} else if (aa) {
		n_axes = aa->n;
	}
	if (n_axes == 0 && noop)
		return fv_tensor_copy(out, X, d);
	for (size_t k = 0; k < n_axes; k++) {
		int64_t a = n_in > 1 && in[1] ? ((const int64_t *)in[1]->data)[k] : aa->ints[k];
		size_t ax;
		if (!fv_axis(a, X->rank, &ax))
			return fv_diag_set(d, FV_EINVAL, "axis %lld out of range", (long long)a);
		red[ax] = true;
	}
	for (size_t i = 0; i < X->rank; i++) {
		if (n_axes == 0)
			red[i] = true;
		if (red[i])
			cnt *= (size_t)X->dims[i];
		if (!red[i] || keep)
			dims[rank++] = red[i] ? 1 : X->dims[i];
	}
	if ((e = fv_tensor_alloc(out, X->dtype, rank, dims, d)) != FV_OK)
		return e;
	acc = fv_calloc(out->count, sizeof(double));
	if (!acc)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	/* Output strides seen from the input's dimensions (0 on reduced axes). */
	{
		size_t s = 1;
		for (size_t i = X->rank; i-- > 0;) {
			ostride[i] = red[i] ? 0 : s;
			if (!red[i])
				s *= (size_t)X->dims[i];
		}
	}
	for (size_t i = 0; i < out->count; i++)
		acc[i] = op == R_MAX ? -INFINITY : op == R_MIN ? INFINITY : op == R_PROD ? 1 : 0;
	if (X->dtype == FV_DTYPE_INT64) {
		int64_t *y = out->data;
		for (size_t i = 0; i < out->count; i++)
			y[i] = op == R_MAX ? INT64_MIN : INT64_MAX;
	}
	for (size_t i = 0; i < X->count; i++) {
		if (X->dtype == FV_DTYPE_INT64) {
			int64_t v = ((const int64_t *)X->data)[i], *y = (int64_t *)out->data + oo;
			if (op == R_MAX ? v > *y : v < *y)
				*y = v;
		} else {
			double v = fv_tensor_getd(X, i), *a = &acc[oo];
			switch (op) {
			case R_SUM:
			case R_MEAN:
				*a += v;
				break;
			case R_MAX:
				if (v > *a || isnan(v))
					*a = v;
				break;
			case R_MIN:
				if (v < *a || isnan(v))
					*a = v;
				break;
			case R_PROD:
				*a *= v;
				break;
			case R_SUMSQ:
			case R_L2:
				*a += v * v;
				break;
			case R_L1:
				*a += fabs(v);
				break;
			default:
				break;
			}
		}
		for (size_t k = X->rank; k-- > 0;) {
			oo += ostride[k];
			if (++idx[k] < (size_t)X->dims[k])
				break;
			oo -= ostride[k] * idx[k];
			idx[k] = 0;
		}
	}
	if (X->dtype != FV_DTYPE_INT64)
		for (size_t i = 0; i < out->count; i++) {
			double v = acc[i];
			if (op == R_MEAN)
				v /= (double)cnt;
			else if (op == R_L2)
				v = sqrt(v);
			fv_tensor_setd(out, i, v);
		}
	fv_free(acc);
	return e;
}

/* ArgMax / ArgMin: int64 indices along axis. */
static fv_err run_arg(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		      struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool is_max = !strcmp(n->op->name, "ArgMax"), keep = fv_attr_int(n, "keepdims", 1) != 0,
	     last = fv_attr_int(n, "select_last_index", 0) != 0;
	int64_t axis = fv_attr_int(n, "axis", 0), dims[FV_MAX_TENSOR_RANK];
	size_t ax, outer = 1, len, inner = 1, rank = 0;
	fv_err e;

	if (X->dtype == FV_DTYPE_BOOL || X->rank == 0)
		return fv_diag_set(d, FV_EINVAL, "needs a numeric tensor of rank >= 1");
	if (!fv_axis(axis, X->rank, &ax))
		return fv_diag_set(d, FV_EINVAL, "axis %lld out of range", (long long)axis);
	len = (size_t)X->dims[ax];
	if (len == 0)
		return fv_diag_set(d, FV_EINVAL, "%s over an empty axis", n->op->name);
	for (size_t i = 0; i < X->rank; i++) {
		if (i < ax)
			outer *= (size_t)X->dims[i];
		else if (i > ax)
			inner *= (size_t)X->dims[i];
		if (i != ax || keep)
			dims[rank++] = i == ax ? 1 : X->dims[i];
	}
	if ((e = fv_tensor_alloc(out, FV_DTYPE_INT64, rank, dims, d)) != FV_OK)
		return e;
	for (size_t o = 0; o < outer; o++)
		for (size_t k = 0; k < inner; k++) {
			size_t base = o * len * inner + k, best = 0;
			for (size_t j = 1; j < len; j++) {
				double v = fv_tensor_getd(X, base + j * inner),
				       b = fv_tensor_getd(X, base + best * inner);
				if (is_max ? (v > b || (last && v == b))
					   : (v < b || (last && v == b)))
					best = j;
			}
			((int64_t *)out->data)[o * inner + k] = (int64_t)best;
		}
	return FV_OK;
}

#define UNARY(nm, since)                                                                           \
	{                                                                                          \
		"", nm, since, 1, 1, 1, 1, "", NULL, run_unary                                     \
	}
#define BINARY(nm, since)                                                                          \
	{                                                                                          \
		"", nm, since, 2, 2, 1, 1, "", NULL, run_binary                                    \
	}
#define REDUCE(nm)                                                                                 \
	{                                                                                          \
		"", nm, 1, 1, 2, 1, 1, "axes:I keepdims:i noop_with_empty_axes:i", check_reduce,   \
		    run_reduce                                                                     \
	}

const struct fv_op fv_ops_math[] = {
    UNARY("Sigmoid", 1),
    UNARY("Relu", 1),
    UNARY("Tanh", 1),
    UNARY("Exp", 1),
    UNARY("Log", 1),
    UNARY("Neg", 1),
    UNARY("Abs", 1),
    UNARY("Sqrt", 1),
    UNARY("Reciprocal", 1),
    UNARY("Floor", 1),
    UNARY("Ceil", 1),
    UNARY("Round", 11),
    UNARY("Erf", 9),
    UNARY("Sign", 9),
    UNARY("Softplus", 1),
    UNARY("Sin", 7),
    UNARY("Cos", 7),
    UNARY("Not", 1),
    {"", "LeakyRelu", 6, 1, 1, 1, 1, "alpha:f", NULL, run_unary},
    {"", "Elu", 6, 1, 1, 1, 1, "alpha:f", NULL, run_unary},
    {"", "HardSigmoid", 6, 1, 1, 1, 1, "alpha:f beta:f", NULL, run_unary},
    BINARY("Add", 7),
    BINARY("Sub", 7),
    BINARY("Mul", 7),
    BINARY("Div", 7),
    BINARY("Pow", 7),
    BINARY("Greater", 7),
    BINARY("Less", 7),
    BINARY("GreaterOrEqual", 12),
    BINARY("LessOrEqual", 12),
    BINARY("Equal", 7),
    BINARY("And", 7),
    BINARY("Or", 7),
    BINARY("Xor", 7),
    {"", "Max", 8, 1, 64, 1, 1, "", check_variadic, run_variadic},
    {"", "Min", 8, 1, 64, 1, 1, "", check_variadic, run_variadic},
    {"", "Sum", 8, 1, 64, 1, 1, "", check_variadic, run_variadic},
    {"", "Mean", 8, 1, 64, 1, 1, "", check_variadic, run_variadic},
    {"", "Where", 9, 3, 3, 1, 1, "", NULL, run_where},
    {"", "Softmax", 1, 1, 1, 1, 1, "axis:i", NULL, run_softmax},
    {"", "LogSoftmax", 1, 1, 1, 1, 1, "axis:i", NULL, run_softmax},
    {"", "Gemm", 7, 2, 3, 1, 1, "alpha:f beta:f transA:i transB:i", NULL, run_gemm},
    {"", "MatMul", 1, 2, 2, 1, 1, "", NULL, run_matmul},
    {"", "Clip", 6, 1, 3, 1, 1, "min:f max:f", check_clip, run_clip},
    {"", "Cast", 6, 1, 1, 1, 1, "to:i saturate:i", check_cast, run_cast},
    {"", "CastLike", 15, 2, 2, 1, 1, "saturate:i", NULL, run_castlike},
    REDUCE("ReduceSum"),
    REDUCE("ReduceMean"),
    REDUCE("ReduceMax"),
    REDUCE("ReduceMin"),
    REDUCE("ReduceProd"),
    REDUCE("ReduceSumSquare"),
    REDUCE("ReduceL1"),
    REDUCE("ReduceL2"),
    {"", "ArgMax", 1, 1, 1, 1, 1, "axis:i keepdims:i select_last_index:i", NULL, run_arg},
    {"", "ArgMin", 1, 1, 1, 1, 1, "axis:i keepdims:i select_last_index:i", NULL, run_arg},
};
const size_t fv_ops_math_n = sizeof(fv_ops_math) / sizeof(fv_ops_math[0]);
