/* Operators of convolutional networks: convolution (im2col + GEMM through OpenBLAS),
 * transposed convolution (GEMM + col2im), pooling, batch normalisation, padding, resizing.
 * Tensors are NC[D...] (channels first) with any number of spatial dimensions. */
#include "model/model_int.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- spatial geometry shared by Conv, ConvTranspose and the pools ---- */

enum auto_pad { PAD_NOTSET, PAD_VALID, PAD_SAME_UPPER, PAD_SAME_LOWER };

struct geom {
	size_t nsp; /* spatial dimensions */
	int64_t in[FV_MAX_TENSOR_RANK], out[FV_MAX_TENSOR_RANK], k[FV_MAX_TENSOR_RANK],
	    s[FV_MAX_TENSOR_RANK], dil[FV_MAX_TENSOR_RANK], pb[FV_MAX_TENSOR_RANK],
	    pe[FV_MAX_TENSOR_RANK];
	size_t in_size, out_size, k_size; /* products over the spatial dimensions */
};

static fv_err auto_pad_of(const struct fv_node *n, enum auto_pad *ap, struct fv_diag *d)
{
	const char *s = fv_attr_str(n, "auto_pad", "NOTSET");

	if (!strcmp(s, "NOTSET"))
		*ap = PAD_NOTSET;
	else if (!strcmp(s, "VALID"))
		*ap = PAD_VALID;
	else if (!strcmp(s, "SAME_UPPER"))
		*ap = PAD_SAME_UPPER;
	else if (!strcmp(s, "SAME_LOWER"))
		*ap = PAD_SAME_LOWER;
	else
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported attribute value auto_pad=%s",
				   s);
	return FV_OK;
}

/* Load-time checks of the geometry attributes: known auto_pad, positive strides, dilations
 * and kernel sizes, non-negative pads, ranks the runtime can hold. */
static fv_err check_geom(struct fv_node *n, struct fv_diag *d)
{
	static const char *const pos[] = {"strides", "dilations", "kernel_shape"};
	const struct fv_attr *a;
	enum auto_pad ap;
	fv_err e;

	if ((e = auto_pad_of(n, &ap, d)) != FV_OK)
		return e;
	for (size_t k = 0; k < 3; k++)
		if ((a = fv_attr_get(n, pos[k]))) {
			if (a->n > FV_MAX_TENSOR_RANK)
				return fv_diag_set(d, FV_EINVAL, "%s has %zu entries", pos[k],
						   a->n);
			for (size_t i = 0; i < a->n; i++)
				if (a->ints[i] < 1 || a->ints[i] > INT32_MAX)
					return fv_diag_set(d, FV_EINVAL, "%s[%zu] = %lld", pos[k],
							   i, (long long)a->ints[i]);
		}
	if ((a = fv_attr_get(n, "pads"))) {
		if (a->n > 2 * FV_MAX_TENSOR_RANK)
			return fv_diag_set(d, FV_EINVAL, "pads has %zu entries", a->n);
		for (size_t i = 0; i < a->n; i++)
			if (a->ints[i] < 0 || a->ints[i] > INT32_MAX)
				return fv_diag_set(d, FV_EINVAL, "pads[%zu] = %lld", i,
						   (long long)a->ints[i]);
	}
	if (fv_attr_int(n, "group", 1) < 1 || fv_attr_int(n, "group", 1) > INT32_MAX)
		return fv_diag_set(d, FV_EINVAL, "group = %lld",
				   (long long)fv_attr_int(n, "group", 1));
	return FV_OK;
}

/* Read an ints attribute of nsp entries (or 2*nsp for pads) with default def. */
static fv_err spatial_ints(const struct fv_node *n, const char *name, size_t want, int64_t def,
			   int64_t *v, struct fv_diag *d)
{
	const struct fv_attr *a = fv_attr_get(n, name);

	for (size_t i = 0; i < want; i++)
		v[i] = def;
	if (!a)
		return FV_OK;
	if (a->n != want)
		return fv_diag_set(d, FV_EINVAL, "%s has %zu entries, the input needs %zu", name,
				   a->n, want);
	memcpy(v, a->ints, want * sizeof(int64_t));
	return FV_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return -floor_div(-a, b);
}

/* Geometry of a convolution or pool over X (rank >= 3). kernel: the spatial kernel (from W)
 * or NULL to take kernel_shape. ceil_mode: pools only. */
static fv_err geom_init(const struct fv_node *n, const struct fv_tensor *X, const int64_t *kernel,
			bool ceil_mode, struct geom *g, struct fv_diag *d)
{
	int64_t pads[2 * FV_MAX_TENSOR_RANK];
	enum auto_pad ap;
	fv_err e;

	memset(g, 0, sizeof(*g));
	if (X->rank < 3)
		return fv_diag_set(d, FV_EINVAL, "input must be [N, C, D1, ...], has rank %zu",
				   X->rank);
	g->nsp = X->rank - 2;
	if ((e = auto_pad_of(n, &ap, d)) != FV_OK ||
	    (e = spatial_ints(n, "strides", g->nsp, 1, g->s, d)) != FV_OK ||
	    (e = spatial_ints(n, "dilations", g->nsp, 1, g->dil, d)) != FV_OK ||
	    (e = spatial_ints(n, "pads", 2 * g->nsp, 0, pads, d)) != FV_OK)
		return e;
	if (kernel) {
		const struct fv_attr *ks = fv_attr_get(n, "kernel_shape");
		memcpy(g->k, kernel, g->nsp * sizeof(int64_t));
		if (ks && (ks->n != g->nsp || memcmp(ks->ints, kernel, g->nsp * sizeof(int64_t))))
			return fv_diag_set(d, FV_EINVAL, "kernel_shape does not match the weights");
	} else {
		const struct fv_attr *ks = fv_attr_get(n, "kernel_shape");
		if (!ks)
			return fv_diag_set(d, FV_EINVAL, "kernel_shape is required");
		if ((e = spatial_ints(n, "kernel_shape", g->nsp, 1, g->k, d)) != FV_OK)
			return e;
	}
	g->in_size = g->out_size = g->k_size = 1;
	for (size_t i = 0; i < g->nsp; i++) {
		int64_t in = X->dims[2 + i], ek = (g->k[i] - 1) * g->dil[i] + 1, out;
		if (g->k[i] < 1 || g->k[i] > INT32_MAX)
			return fv_diag_set(d, FV_EINVAL, "kernel dimension %lld",
					   (long long)g->k[i]);
		g->in[i] = in;
		g->pb[i] = pads[i];
		g->pe[i] = pads[g->nsp + i];
		switch (ap) {
		case PAD_NOTSET:
			if (in + g->pb[i] + g->pe[i] < ek)
				return fv_diag_set(
				    d, FV_EINVAL,
				    "kernel %lld (dilated) is larger than the padded "
				    "input %lld",
				    (long long)ek, (long long)(in + g->pb[i] + g->pe[i]));
			out = ceil_mode ? ceil_div(in + g->pb[i] + g->pe[i] - ek, g->s[i]) + 1
					: floor_div(in + g->pb[i] + g->pe[i] - ek, g->s[i]) + 1;
			/* the last window must start inside the input or its left padding */
			if (ceil_mode && (out - 1) * g->s[i] >= in + g->pb[i])
				out--;
			break;
		case PAD_VALID:
			if (in < ek)
				return fv_diag_set(d, FV_EINVAL, "kernel larger than the input");
			g->pb[i] = g->pe[i] = 0;
			out = floor_div(in - ek, g->s[i]) + 1;
			break;
		default: {
			int64_t total;
			out = ceil_div(in, g->s[i]);
			total = (out - 1) * g->s[i] + ek - in;
			if (total < 0)
				total = 0;
			g->pb[i] = ap == PAD_SAME_UPPER ? total / 2 : total - total / 2;
			g->pe[i] = total - g->pb[i];
		}
		}
		g->out[i] = out;
		g->in_size *= (size_t)in;
		g->out_size *= (size_t)out;
		g->k_size *= (size_t)g->k[i];
	}
	return FV_OK;
}

static bool blas_ok(size_t v)
{
	return v <= INT_MAX;
}

/* ---- im2col ---- */

/* col[(c*K + kk) * ld + p] = x[c, p*s - pb + kk*dil] or 0 outside, p < P; Cg channels of one
 * image; ld >= P lets several images share one column matrix side by side. A 2-D fast path;
 * the general case walks multi-indices. */
#define DEFINE_IM2COL(T, NAME)                                                                     \
	static void NAME(const T *x, size_t Cg, const struct geom *g, T *col, size_t ld)           \
	{                                                                                          \
		size_t P = g->out_size, K = g->k_size, nsp = g->nsp;                               \
		if (nsp == 2) {                                                                    \
			int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];        \
			for (size_t c = 0; c < Cg; c++)                                            \
				for (int64_t kh = 0; kh < g->k[0]; kh++)                           \
					for (int64_t kw = 0; kw < g->k[1]; kw++) {                 \
						T *row =                                           \
						    col + ((c * (size_t)g->k[0] + (size_t)kh) *    \
							       (size_t)g->k[1] +                   \
							   (size_t)kw) *                           \
							      ld;                                  \
						const T *xc = x + c * (size_t)(H * W);             \
						for (int64_t oh = 0; oh < OH; oh++) {              \
							int64_t ih = oh * g->s[0] - g->pb[0] +     \
								     kh * g->dil[0];               \
							T *r = row + oh * OW;                      \
							if (ih < 0 || ih >= H) {                   \
								memset(r, 0,                       \
								       (size_t)OW * sizeof(T));    \
								continue;                          \
							}                                          \
							const T *xr = xc + ih * W;                 \
							int64_t iw = -g->pb[1] + kw * g->dil[1],   \
								s1 = g->s[1], lo = 0, hi = 0;      \
							/* columns ow in [lo, hi) read inside the  \
							 * row: 0 <= iw + ow*s1 < W */             \
							if (iw < 0)                                \
								lo = (-iw + s1 - 1) / s1;          \
							if (W - 1 - iw >= 0)                       \
								hi = (W - 1 - iw) / s1 + 1;        \
							lo = lo < OW ? lo : OW;                    \
							hi = hi < OW ? hi : OW;                    \
							hi = hi > lo ? hi : lo;                    \
							memset(r, 0, (size_t)lo * sizeof(T));      \
							if (s1 == 1 && hi > lo) {                  \
								memcpy(r + lo, xr + (iw + lo),     \
								       (size_t)(hi - lo) *         \
									   sizeof(T));             \
							} else if (hi > lo) {                      \
								const T *xs = xr + (iw + lo * s1); \
								for (int64_t ow = lo; ow < hi;     \
								     ow++, xs += s1)               \
									r[ow] = *xs;               \
							}                                          \
							memset(r + hi, 0,                          \
							       (size_t)(OW - hi) * sizeof(T));     \
						}                                                  \
					}                                                          \
			return;                                                                    \
		}                                                                                  \
		for (size_t r = 0; r < Cg * K; r++) {                                              \
			size_t c = r / K, kr = r % K, kk[FV_MAX_TENSOR_RANK],                      \
			       oo[FV_MAX_TENSOR_RANK] = {0};                                       \
			for (size_t i = nsp; i-- > 0;) {                                           \
				kk[i] = kr % (size_t)g->k[i];                                      \
				kr /= (size_t)g->k[i];                                             \
			}                                                                          \
			for (size_t p = 0; p < P; p++) {                                           \
				size_t off = 0;                                                    \
				bool inside = true;                                                \
				for (size_t i = 0; i < nsp; i++) {                                 \
					int64_t ii = (int64_t)oo[i] * g->s[i] - g->pb[i] +         \
						     (int64_t)kk[i] * g->dil[i];                   \
					if (ii < 0 || ii >= g->in[i])                              \
						inside = false;                                    \
					off = off * (size_t)g->in[i] + (size_t)ii;                 \
				}                                                                  \
				col[r * ld + p] = inside ? x[c * g->in_size + off] : 0;            \
				for (size_t i = nsp; i-- > 0;) {                                   \
					if (++oo[i] < (size_t)g->out[i])                           \
						break;                                             \
					oo[i] = 0;                                                 \
				}                                                                  \
			}                                                                          \
		}                                                                                  \
	}

DEFINE_IM2COL(float, im2col_f)
DEFINE_IM2COL(double, im2col_d)

/* col2im for ConvTranspose: y[m, i*s - pb + kk*dil] += col[(m*K + kk) * P + i] where P is the
 * input's spatial size and y has the geometry's out dims. */
#define DEFINE_COL2IM(T, NAME)                                                                     \
	static void NAME(const T *col, size_t Mg, const struct geom *g, T *y)                      \
	{                                                                                          \
		size_t P = g->in_size, K = g->k_size, nsp = g->nsp;                                \
		for (size_t r = 0; r < Mg * K; r++) {                                              \
			size_t m = r / K, kr = r % K, kk[FV_MAX_TENSOR_RANK],                      \
			       ii[FV_MAX_TENSOR_RANK] = {0};                                       \
			for (size_t i = nsp; i-- > 0;) {                                           \
				kk[i] = kr % (size_t)g->k[i];                                      \
				kr /= (size_t)g->k[i];                                             \
			}                                                                          \
			for (size_t p = 0; p < P; p++) {                                           \
				size_t off = 0;                                                    \
				bool inside = true;                                                \
				for (size_t i = 0; i < nsp; i++) {                                 \
					int64_t o = (int64_t)ii[i] * g->s[i] - g->pb[i] +          \
						    (int64_t)kk[i] * g->dil[i];                    \
					if (o < 0 || o >= g->out[i])                               \
						inside = false;                                    \
					off = off * (size_t)g->out[i] + (size_t)o;                 \
				}                                                                  \
				if (inside)                                                        \
					y[m * g->out_size + off] += col[r * P + p];                \
				for (size_t i = nsp; i-- > 0;) {                                   \
					if (++ii[i] < (size_t)g->in[i])                            \
						break;                                             \
					ii[i] = 0;                                                 \
				}                                                                  \
			}                                                                          \
		}                                                                                  \
	}

DEFINE_COL2IM(float, col2im_f)
DEFINE_COL2IM(double, col2im_d)

/* ---- Winograd F(2x2, 3x3) ---- */

/* Scratch of the Winograd path, in floats, for each of its two tile arrays: images are taken
 * in groups that fit (a single image that does not fit takes the im2col path). */
#define WINO_MAX_SCRATCH (2u * 1024 * 1024)
/* One cache line of floats (see conv_winograd). */
#define WINO_PAD 16u

/* 3x3 kernels, stride 1, no dilation, one group, float, enough channels for the 16 GEMMs to be
 * worth their transforms: 2.25x fewer multiplications than im2col + GEMM (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016). The results differ from the
 * direct sum by float rounding only (transforms with coefficients 0, +-1 and 1/2). */
static bool wino_ok(const struct geom *g, int64_t group, size_t C, size_t M, enum fv_dtype dt)
{
	size_t th, tw;

	if (dt != FV_DTYPE_FLOAT || group != 1 || g->nsp != 2 || g->k[0] != 3 || g->k[1] != 3 ||
	    g->s[0] != 1 || g->s[1] != 1 || g->dil[0] != 1 || g->dil[1] != 1 || C < 8 || M < 8)
		return false;
	th = (size_t)(g->out[0] + 1) / 2;
	tw = (size_t)(g->out[1] + 1) / 2;
	return th * tw <= WINO_MAX_SCRATCH / 16 / (C > M ? C : M) && blas_ok(C) && blas_ok(M);
}

typedef float wino_v4f __attribute__((vector_size(16)));
typedef int32_t wino_v4i __attribute__((vector_size(16)));
/* Interleave two vectors: GCC spells the shuffle __builtin_shuffle, clang (the fuzz builds)
 * __builtin_shufflevector with the indexes as arguments. */
#if defined(__clang__)
#define WINO_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define WINO_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (wino_v4i){i0, i1, i2, i3})
#endif

/* One 4x4 input tile at rows ih0.., columns iw0.. of plane x (zeros outside) to its 16
 * transformed values v[xi * st], V = B^T d B. */
static void wino_in1(const float *x, int64_t H, int64_t W, int64_t ih0, int64_t iw0, float *v,
		     size_t st)
{
	float d[4][4], t[4][4];

	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++) {
			int64_t ih = ih0 + a, iw = iw0 + b;
			d[a][b] = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[ih * W + iw] : 0.0f;
		}
	for (int b = 0; b < 4; b++) { /* B^T d */
		t[0][b] = d[0][b] - d[2][b];
		t[1][b] = d[1][b] + d[2][b];
		t[2][b] = d[2][b] - d[1][b];
		t[3][b] = d[1][b] - d[3][b];
	}
	for (int a = 0; a < 4; a++) { /* (B^T d) B */
		v[(size_t)(4 * a + 0) * st] = t[a][0] - t[a][2];
		v[(size_t)(4 * a + 1) * st] = t[a][1] + t[a][2];
		v[(size_t)(4 * a + 2) * st] = t[a][2] - t[a][1];
		v[(size_t)(4 * a + 3) * st] = t[a][1] - t[a][3];
	}
}

/* wino_in1 for the 4 tiles at columns iw0, iw0 + 2, iw0 + 4, iw0 + 6, each value of the 4
 * tiles in one vector (v[xi * st + 0..3]); the same arithmetic, so the same results. */
static void wino_in4(const float *x, int64_t H, int64_t W, int64_t ih0, int64_t iw0, float *v,
		     size_t st)
{
	float r[4][10];
	wino_v4f d[4][4], t[4][4], o;

	for (int a = 0; a < 4; a++) {
		int64_t ih = ih0 + a;
		if (ih < 0 || ih >= H) {
			memset(r[a], 0, sizeof(r[a]));
		} else if (iw0 >= 0 && iw0 + 10 <= W) {
			memcpy(r[a], x + ih * W + iw0, sizeof(r[a]));
		} else {
			for (int b = 0; b < 10; b++)
				r[a][b] = iw0 + b >= 0 && iw0 + b < W ? x[ih * W + iw0 + b] : 0.0f;
		}
		for (int b = 0; b < 4; b++)
			d[a][b] = (wino_v4f){r[a][b], r[a][b + 2], r[a][b + 4], r[a][b + 6]};
	}
	for (int b = 0; b < 4; b++) {
		t[0][b] = d[0][b] - d[2][b];
		t[1][b] = d[1][b] + d[2][b];
		t[2][b] = d[2][b] - d[1][b];
		t[3][b] = d[1][b] - d[3][b];
	}
	for (int a = 0; a < 4; a++) {
		o = t[a][0] - t[a][2];
		memcpy(v + (size_t)(4 * a + 0) * st, &o, sizeof(o));
		o = t[a][1] + t[a][2];
		memcpy(v + (size_t)(4 * a + 1) * st, &o, sizeof(o));
		o = t[a][2] - t[a][1];
		memcpy(v + (size_t)(4 * a + 2) * st, &o, sizeof(o));
		o = t[a][1] - t[a][3];
		memcpy(v + (size_t)(4 * a + 3) * st, &o, sizeof(o));
	}
}

/* One tile's 16 products m[xi * st] to its 2x2 outputs A^T m A at (oh, ow) of plane y, those
 * inside OH x OW. */
static void wino_out1(const float *m, size_t st, float *y, int64_t OH, int64_t OW, int64_t oh,
		      int64_t ow)
{
	float s[2][4];

	for (int b = 0; b < 4; b++) { /* A^T m */
		float m0 = m[(size_t)b * st], m1 = m[(size_t)(4 + b) * st],
		      m2 = m[(size_t)(8 + b) * st], m3 = m[(size_t)(12 + b) * st];
		s[0][b] = m0 + m1 + m2;
		s[1][b] = m1 - m2 - m3;
	}
	for (int a = 0; a < 2 && oh + a < OH; a++) {
		y[(oh + a) * OW + ow] = s[a][0] + s[a][1] + s[a][2];
		if (ow + 1 < OW)
			y[(oh + a) * OW + ow + 1] = s[a][1] - s[a][2] - s[a][3];
	}
}

/* wino_out1 for 4 tiles side by side, columns ow .. ow + 7 all inside OW. */
static void wino_out4(const float *m, size_t st, float *y, int64_t OH, int64_t OW, int64_t oh,
		      int64_t ow)
{
	wino_v4f s[2][4], y0, y1, lo, hi;

	for (int b = 0; b < 4; b++) {
		wino_v4f m0, m1, m2, m3;
		memcpy(&m0, m + (size_t)b * st, sizeof(m0));
		memcpy(&m1, m + (size_t)(4 + b) * st, sizeof(m1));
		memcpy(&m2, m + (size_t)(8 + b) * st, sizeof(m2));
		memcpy(&m3, m + (size_t)(12 + b) * st, sizeof(m3));
		s[0][b] = m0 + m1 + m2;
		s[1][b] = m1 - m2 - m3;
	}
	for (int a = 0; a < 2 && oh + a < OH; a++) {
		y0 = s[a][0] + s[a][1] + s[a][2];
		y1 = s[a][1] - s[a][2] - s[a][3];
		lo = WINO_SHUFFLE(y0, y1, 0, 4, 1, 5);
		hi = WINO_SHUFFLE(y0, y1, 2, 6, 3, 7);
		memcpy(y + (oh + a) * OW + ow, &lo, sizeof(lo));
		memcpy(y + (oh + a) * OW + ow + 4, &hi, sizeof(hi));
	}
}

/* Y[N, M, OH, OW] = X * W by Winograd F(2x2, 3x3): U = G w G^T per (m, c), V = B^T d B per
 * (c, 4x4 input tile), 16 GEMMs U[xi] (M x C) V[xi] (C x T), Y tile = A^T m A. */
static fv_err conv_winograd(const struct fv_tensor *X, const struct fv_tensor *W,
			    const struct geom *g, struct fv_tensor *Y, struct fv_diag *d)
{
	size_t N = (size_t)X->dims[0], C = (size_t)X->dims[1], M = (size_t)W->dims[0];
	int64_t H = g->in[0], Wd = g->in[1], OH = g->out[0], OW = g->out[1];
	size_t TH = (size_t)(OH + 1) / 2, TW = (size_t)(OW + 1) / 2, per = TH * TW;
	size_t cm = C > M ? C : M, gn = WINO_MAX_SCRATCH / 16 / cm / per, T;
	/* The 16 matrices of U, V and Mo lie WINO_PAD floats further apart than their sizes:
	 * the transforms read or write all 16 at once, and sizes that are multiples of 4 KiB
	 * would put those 16 streams in the same cache sets (measured: 9x slower). */
	size_t su = M * C + WINO_PAD, sv, sm;
	float *U = NULL, *V = NULL, *Mo = NULL;
	const float *w = W->data;
	fv_err e = FV_OK;

	gn = gn < N ? gn : N;
	gn = gn ? gn : 1;
	while (gn > 1 && !blas_ok(gn * per))
		gn--;
	T = gn * per;
	sv = C * T + WINO_PAD;
	sm = M * T + WINO_PAD;
	if (!(U = fv_alloc(16 * su * sizeof(float))) || !(V = fv_alloc(16 * sv * sizeof(float))) ||
	    !(Mo = fv_alloc(16 * sm * sizeof(float)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory for a Winograd convolution");
		goto out;
	}
	for (size_t mc = 0; mc < M * C; mc++) {
		const float *k = w + mc * 9;
		float t[4][3], u[4][4];
		for (int j = 0; j < 3; j++) { /* G k: rows of the 4x3 product */
			t[0][j] = k[j];
			t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
			t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
			t[3][j] = k[6 + j];
		}
		for (int i = 0; i < 4; i++) { /* (G k) G^T */
			u[i][0] = t[i][0];
			u[i][1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
			u[i][2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
			u[i][3] = t[i][2];
		}
		for (int xi = 0; xi < 16; xi++)
			U[(size_t)xi * su + mc] = u[xi / 4][xi % 4];
	}
	for (size_t n0 = 0; n0 < N; n0 += gn) {
		size_t gc = N - n0 < gn ? N - n0 : gn, Tc = gc * per;
		for (size_t i = 0; i < gc; i++)
			for (size_t c = 0; c < C; c++) {
				const float *xp =
				    (const float *)X->data + ((n0 + i) * C + c) * (size_t)(H * Wd);
				for (size_t th = 0; th < TH; th++) {
					float *v = V + c * Tc + (i * TH + th) * TW;
					int64_t ih0 = (int64_t)(2 * th) - g->pb[0];
					size_t tw = 0;
					for (; tw + 4 <= TW; tw += 4)
						wino_in4(xp, H, Wd, ih0,
							 (int64_t)(2 * tw) - g->pb[1], v + tw, sv);
					for (; tw < TW; tw++)
						wino_in1(xp, H, Wd, ih0,
							 (int64_t)(2 * tw) - g->pb[1], v + tw, sv);
				}
			}
		for (size_t xi = 0; xi < 16; xi++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)Tc,
				    (int)C, 1.0f, U + xi * su, (int)C, V + xi * sv, (int)Tc, 0.0f,
				    Mo + xi * sm, (int)Tc);
		for (size_t i = 0; i < gc; i++)
			for (size_t m = 0; m < M; m++) {
				float *yp =
				    (float *)Y->data + ((n0 + i) * M + m) * (size_t)(OH * OW);
				for (size_t th = 0; th < TH; th++) {
					const float *mp = Mo + m * Tc + (i * TH + th) * TW;
					int64_t oh = (int64_t)(2 * th);
					size_t tw = 0;
					for (; tw + 4 <= TW && (int64_t)(2 * tw + 8) <= OW; tw += 4)
						wino_out4(mp + tw, sm, yp, OH, OW, oh,
							  (int64_t)(2 * tw));
					for (; tw < TW; tw++)
						wino_out1(mp + tw, sm, yp, OH, OW, oh,
							  (int64_t)(2 * tw));
				}
			}
	}
out:
	fv_free(U);
	fv_free(V);
	fv_free(Mo);
	return e;
}

/* ---- Conv ---- */

static fv_err conv_types(const struct fv_tensor *const *in, size_t n_in, struct fv_diag *d)
{
	enum fv_dtype dt = in[0]->dtype;

	if (dt != FV_DTYPE_FLOAT && dt != FV_DTYPE_DOUBLE)
		return fv_diag_set(d, FV_EUNSUPPORTED, "%s input (supported: float, double)",
				   fv_dtype_name(dt));
	for (size_t i = 1; i < n_in; i++)
		if (in[i] && in[i]->dtype != dt)
			return fv_diag_set(d, FV_EINVAL, "input %zu is %s, input 0 %s", i,
					   fv_dtype_name(in[i]->dtype), fv_dtype_name(dt));
	return FV_OK;
}

/* Y[n, m, ...] += B[m]. */
static fv_err add_bias(struct fv_tensor *Y, const struct fv_tensor *B, int64_t M, size_t inner,
		       struct fv_diag *d)
{
	size_t N = (size_t)Y->dims[0];

	if (!B)
		return FV_OK;
	if (B->rank != 1 || B->dims[0] != M)
		return fv_diag_set(d, FV_EINVAL, "bias must be [%lld]", (long long)M);
	for (size_t nn = 0; nn < N; nn++)
		for (size_t m = 0; m < (size_t)M; m++) {
			size_t base = (nn * (size_t)M + m) * inner;
			if (Y->dtype == FV_DTYPE_FLOAT) {
				float b = ((const float *)B->data)[m], *y = (float *)Y->data + base;
				for (size_t i = 0; i < inner; i++)
					y[i] += b;
			} else {
				double b = ((const double *)B->data)[m],
				       *y = (double *)Y->data + base;
				for (size_t i = 0; i < inner; i++)
					y[i] += b;
			}
		}
	return FV_OK;
}

/* Columns of one convolution GEMM up to which images are batched (see run_conv). */
#define CONV_BATCH_COLS 4096

static fv_err run_conv(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *W = in[1], *B = n_in > 2 ? in[2] : NULL;
	int64_t group = fv_attr_int(n, "group", 1), C, M, dims[FV_MAX_TENSOR_RANK];
	size_t Cg, Mg, K, P, es, N = (size_t)X->dims[0], G = 1;
	struct geom g;
	void *col = NULL, *prod = NULL;
	bool direct;
	fv_err e;

	if ((e = conv_types(in, n_in, d)) != FV_OK)
		return e;
	if (W->rank != X->rank)
		return fv_diag_set(d, FV_EINVAL, "weights of rank %zu for an input of rank %zu",
				   W->rank, X->rank);
	if ((e = geom_init(n, X, W->rank >= 3 ? W->dims + 2 : NULL, false, &g, d)) != FV_OK)
		return e;
	C = X->dims[1];
	M = W->dims[0];
	if (C % group || M % group || W->dims[1] != C / group)
		return fv_diag_set(
		    d, FV_EINVAL, "channels: input %lld, weights [%lld, %lld, ...], group %lld",
		    (long long)C, (long long)M, (long long)W->dims[1], (long long)group);
	Cg = (size_t)(C / group);
	Mg = (size_t)(M / group);
	K = Cg * g.k_size;
	P = g.out_size;
	if (!blas_ok(K) || !blas_ok(P) || !blas_ok(Mg))
		return fv_diag_set(d, FV_ELIMIT, "convolution too large for BLAS");
	dims[0] = X->dims[0];
	dims[1] = M;
	memcpy(dims + 2, g.out, g.nsp * sizeof(int64_t));
	/* every element is written by the GEMMs below (beta 0) or, for K = 0, here */
	if ((e = fv_tensor_alloc_uninit(out, X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	if (!out->count)
		return FV_OK;
	es = fv_dtype_size(X->dtype);
	if (K == 0) {
		memset(out->data, 0, out->count * es);
		return add_bias(out, B, M, P, d);
	}
	if (wino_ok(&g, group, (size_t)C, (size_t)M, X->dtype)) {
		if ((e = conv_winograd(X, W, &g, out, d)) != FV_OK)
			return e;
		return add_bias(out, B, M, P, d);
	}
	/* A 1x1 kernel with stride 1 and no padding reads the input as its own column matrix. */
	direct = g.k_size == 1;
	for (size_t i = 0; i < g.nsp && direct; i++)
		direct = g.s[i] == 1 && g.pb[i] == 0 && g.pe[i] == 0 && g.out[i] == g.in[i];
	/* Thin products (small output planes, the late stages of a CNN) spend much of their time
	 * packing W, once per GEMM call: float convolutions of one group put G images side by
	 * side in one column matrix [K, G*P], multiply once, and copy each image's columns out. */
	if (!direct && group == 1 && X->dtype == FV_DTYPE_FLOAT && P < CONV_BATCH_COLS) {
		G = CONV_BATCH_COLS / P;
		G = G < N ? G : N;
		while (G > 1 && (K * G * P > FV_MAX_TENSOR_ELEMS ||
				 (size_t)M * G * P > FV_MAX_TENSOR_ELEMS || !blas_ok(G * P)))
			G--;
	}
	if (!direct) {
		size_t cells;
		if (fv_mul_overflow(K, P, &cells) || cells > FV_MAX_TENSOR_ELEMS)
			return fv_diag_set(d, FV_ELIMIT, "im2col buffer over %u elements",
					   FV_MAX_TENSOR_ELEMS);
		if (!(col = fv_alloc(cells * G * es)))
			return fv_diag_set(d, FV_ENOMEM, "out of memory for im2col");
		if (G > 1 && !(prod = fv_alloc((size_t)M * G * P * es))) {
			fv_free(col);
			return fv_diag_set(d, FV_ENOMEM, "out of memory for a convolution");
		}
	}
	for (size_t n0 = 0; n0 < N && G > 1; n0 += G) {
		size_t gn = N - n0 < G ? N - n0 : G;
		float *y = (float *)out->data + n0 * (size_t)M * P;
		for (size_t i = 0; i < gn; i++)
			im2col_f((const float *)X->data + (n0 + i) * (size_t)C * g.in_size, Cg, &g,
				 (float *)col + i * P, gn * P);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)(gn * P),
			    (int)K, 1.0f, (const float *)W->data, (int)K, col, (int)(gn * P), 0.0f,
			    prod, (int)(gn * P));
		for (size_t i = 0; i < gn; i++)
			for (size_t m = 0; m < (size_t)M; m++)
				memcpy(y + (i * (size_t)M + m) * P,
				       (const float *)prod + m * gn * P + i * P, P * sizeof(float));
	}
	for (size_t nn = 0; nn < (size_t)X->dims[0] && G == 1; nn++)
		for (size_t gi = 0; gi < (size_t)group; gi++) {
			size_t xo = (nn * (size_t)C + gi * Cg) * g.in_size,
			       yo = (nn * (size_t)M + gi * Mg) * P, wo = gi * Mg * K;
			if (X->dtype == FV_DTYPE_FLOAT) {
				const float *xp = (const float *)X->data + xo;
				if (!direct)
					im2col_f(xp, Cg, &g, col, P);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Mg,
					    (int)P, (int)K, 1.0f, (const float *)W->data + wo,
					    (int)K, direct ? xp : col, (int)P, 0.0f,
					    (float *)out->data + yo, (int)P);
			} else {
				const double *xp = (const double *)X->data + xo;
				if (!direct)
					im2col_d(xp, Cg, &g, col, P);
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Mg,
					    (int)P, (int)K, 1.0, (const double *)W->data + wo,
					    (int)K, direct ? xp : col, (int)P, 0.0,
					    (double *)out->data + yo, (int)P);
			}
		}
	fv_free(prod);
	fv_free(col);
	return add_bias(out, B, M, P, d);
}

/* ---- ConvTranspose ---- */

static fv_err run_convtranspose(const struct fv_node *n, const struct fv_tensor *const *in,
				size_t n_in, struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *W = in[1], *B = n_in > 2 ? in[2] : NULL;
	int64_t group = fv_attr_int(n, "group", 1), C, M, Mg, dims[FV_MAX_TENSOR_RANK],
		pads[2 * FV_MAX_TENSOR_RANK], opad[FV_MAX_TENSOR_RANK];
	const struct fv_attr *os = fv_attr_get(n, "output_shape");
	size_t Cg, K, P, es, cells;
	enum auto_pad ap;
	struct geom g;
	void *col = NULL;
	fv_err e;

	if ((e = conv_types(in, n_in, d)) != FV_OK)
		return e;
	if (W->rank != X->rank || X->rank < 3)
		return fv_diag_set(d, FV_EINVAL, "weights of rank %zu for an input of rank %zu",
				   W->rank, X->rank);
	memset(&g, 0, sizeof(g));
	g.nsp = X->rank - 2;
	if ((e = auto_pad_of(n, &ap, d)) != FV_OK ||
	    (e = spatial_ints(n, "strides", g.nsp, 1, g.s, d)) != FV_OK ||
	    (e = spatial_ints(n, "dilations", g.nsp, 1, g.dil, d)) != FV_OK ||
	    (e = spatial_ints(n, "pads", 2 * g.nsp, 0, pads, d)) != FV_OK ||
	    (e = spatial_ints(n, "output_padding", g.nsp, 0, opad, d)) != FV_OK)
		return e;
	if (os && os->n != g.nsp)
		return fv_diag_set(d, FV_EINVAL, "output_shape has %zu entries for %zu dims", os->n,
				   g.nsp);
	C = X->dims[1];
	Mg = W->dims[1];
	M = Mg * group;
	if (C % group || W->dims[0] != C)
		return fv_diag_set(d, FV_EINVAL, "channels: input %lld, weights [%lld, ...]",
				   (long long)C, (long long)W->dims[0]);
	g.in_size = g.out_size = g.k_size = 1;
	for (size_t i = 0; i < g.nsp; i++) {
		int64_t in_i = X->dims[2 + i], ek, full;
		const struct fv_attr *ks = fv_attr_get(n, "kernel_shape");
		g.k[i] = W->dims[2 + i];
		if (ks && (ks->n != g.nsp || ks->ints[i] != g.k[i]))
			return fv_diag_set(d, FV_EINVAL, "kernel_shape does not match the weights");
		if (opad[i] < 0 || opad[i] >= (g.s[i] > g.dil[i] ? g.s[i] : g.dil[i]))
			return fv_diag_set(d, FV_EINVAL, "output_padding[%zu] = %lld", i,
					   (long long)opad[i]);
		ek = (g.k[i] - 1) * g.dil[i] + 1;
		full = g.s[i] * (in_i - 1) + opad[i] + ek;
		g.in[i] = in_i;
		if (os || ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
			int64_t want = os ? os->ints[i] : in_i * g.s[i], total = full - want;
			if (want < 0)
				return fv_diag_set(d, FV_EINVAL, "output_shape[%zu] = %lld", i,
						   (long long)want);
			/* floor division: a negative total pads the end (more output) */
			if (ap == PAD_SAME_UPPER) {
				g.pb[i] = floor_div(total, 2);
				g.pe[i] = total - g.pb[i];
			} else {
				g.pe[i] = floor_div(total, 2);
				g.pb[i] = total - g.pe[i];
			}
			g.out[i] = want;
		} else {
			g.pb[i] = ap == PAD_VALID ? 0 : pads[i];
			g.pe[i] = ap == PAD_VALID ? 0 : pads[g.nsp + i];
			g.out[i] = full - g.pb[i] - g.pe[i];
			if (g.out[i] < 0)
				return fv_diag_set(d, FV_EINVAL, "pads exceed the output");
		}
		g.in_size *= (size_t)in_i;
		g.out_size *= (size_t)g.out[i];
		g.k_size *= (size_t)g.k[i];
	}
	Cg = (size_t)(C / group);
	K = (size_t)Mg * g.k_size;
	P = g.in_size;
	if (!blas_ok(K) || !blas_ok(P) || !blas_ok(Cg))
		return fv_diag_set(d, FV_ELIMIT, "convolution too large for BLAS");
	dims[0] = X->dims[0];
	dims[1] = M;
	memcpy(dims + 2, g.out, g.nsp * sizeof(int64_t));
	if ((e = fv_tensor_alloc(out, X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	if (!out->count)
		return FV_OK;
	es = fv_dtype_size(X->dtype);
	if (fv_mul_overflow(K, P, &cells) || cells > FV_MAX_TENSOR_ELEMS)
		return fv_diag_set(d, FV_ELIMIT, "col2im buffer over %u elements",
				   FV_MAX_TENSOR_ELEMS);
	if (!(col = fv_alloc((cells ? cells : 1) * es)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory for col2im");
	for (size_t nn = 0; nn < (size_t)X->dims[0]; nn++)
		for (size_t gi = 0; gi < (size_t)group; gi++) {
			size_t xo = (nn * (size_t)C + gi * Cg) * P,
			       yo = (nn * (size_t)M + gi * (size_t)Mg) * g.out_size,
			       wo = gi * Cg * K;
			/* col = W_g^T [K x Cg] . X_g [Cg x P] */
			if (X->dtype == FV_DTYPE_FLOAT) {
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)P,
					    (int)Cg, 1.0f, (const float *)W->data + wo, (int)K,
					    (const float *)X->data + xo, (int)P, 0.0f, col, (int)P);
				col2im_f(col, (size_t)Mg, &g, (float *)out->data + yo);
			} else {
				cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)P,
					    (int)Cg, 1.0, (const double *)W->data + wo, (int)K,
					    (const double *)X->data + xo, (int)P, 0.0, col, (int)P);
				col2im_d(col, (size_t)Mg, &g, (double *)out->data + yo);
			}
		}
	fv_free(col);
	return add_bias(out, B, M, g.out_size, d);
}

/* ---- pooling ---- */

/* Max or average over each window of one [N*C] plane set; values through double, so any
 * element type works (a float result is rounded once). idx receives the argmax offsets
 * (row-major, or column-major with storage_order 1) for MaxPool's second output. */
static void pool_planes(const struct fv_tensor *X, struct fv_tensor *Y, struct fv_tensor *idx_out,
			const struct geom *g, bool is_max, bool count_pad, bool col_major)
{
	size_t planes = (size_t)X->dims[0] * (size_t)X->dims[1], nsp = g->nsp;

	for (size_t pl = 0; pl < planes; pl++) {
		size_t xb = pl * g->in_size, oo[FV_MAX_TENSOR_RANK] = {0};
		for (size_t p = 0; p < g->out_size; p++) {
			size_t kk[FV_MAX_TENSOR_RANK] = {0}, cnt = 0, pad_cnt = 1, best = 0;
			double acc = is_max ? -INFINITY : 0;
			bool any = false;
			/* with count_include_pad, a window counts its taps inside the padded
			 * input (taps past the end padding, from ceil_mode, are not counted) */
			for (size_t i = 0; i < nsp; i++) {
				int64_t lo = (int64_t)oo[i] * g->s[i] - g->pb[i], span = 0;
				for (int64_t k = 0; k < g->k[i]; k++) {
					int64_t c = lo + k * g->dil[i];
					span += c >= -g->pb[i] && c < g->in[i] + g->pe[i];
				}
				pad_cnt *= (size_t)span;
			}
			for (size_t t = 0; t < g->k_size; t++) {
				size_t off = 0, cm = 0, mul = 1;
				bool inside = true;
				for (size_t i = 0; i < nsp; i++) {
					int64_t c = (int64_t)oo[i] * g->s[i] - g->pb[i] +
						    (int64_t)kk[i] * g->dil[i];
					if (c < 0 || c >= g->in[i])
						inside = false;
					off = off * (size_t)g->in[i] + (size_t)c;
				}
				if (inside && col_major)
					for (size_t i = 0; i < nsp; i++) {
						int64_t c = (int64_t)oo[i] * g->s[i] - g->pb[i] +
							    (int64_t)kk[i] * g->dil[i];
						cm += (size_t)c * mul;
						mul *= (size_t)g->in[i];
					}
				if (inside) {
					double v = fv_tensor_getd(X, xb + off);
					if (is_max) {
						if (!any || v > acc) {
							acc = v;
							best = col_major ? cm : off;
						}
					} else {
						acc += v;
					}
					any = true;
					cnt++;
				}
				for (size_t i = nsp; i-- > 0;) {
					if (++kk[i] < (size_t)g->k[i])
						break;
					kk[i] = 0;
				}
			}
			if (!is_max)
				acc = (count_pad ? pad_cnt : cnt)
					  ? acc / (double)(count_pad ? pad_cnt : cnt)
					  : 0;
			fv_tensor_setd(Y, pl * g->out_size + p, acc);
			if (idx_out)
				((int64_t *)idx_out->data)[pl * g->out_size + p] =
				    (int64_t)(xb + best);
			for (size_t i = nsp; i-- > 0;) {
				if (++oo[i] < (size_t)g->out[i])
					break;
				oo[i] = 0;
			}
		}
	}
}

/* pool_planes for the common case, float [N, C, H, W] without MaxPool's indices: the window's
 * rows and columns inside the input are found once per output instead of testing every tap,
 * and values are read as floats. Same results as pool_planes: the maximum is the first inside
 * value unless a later one is greater (a NaN first stays), an average is summed and divided
 * in double and rounded once. */
static void pool_planes_2d_f(const struct fv_tensor *X, struct fv_tensor *Y, const struct geom *g,
			     bool is_max, bool count_pad)
{
	size_t planes = (size_t)X->dims[0] * (size_t)X->dims[1];
	int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];

	for (size_t pl = 0; pl < planes; pl++) {
		const float *x = (const float *)X->data + pl * g->in_size;
		float *y = (float *)Y->data + pl * g->out_size;
		for (int64_t oh = 0; oh < OH; oh++) {
			int64_t h0 = oh * g->s[0] - g->pb[0], kh_lo = 0, kh_hi = g->k[0], hspan = 0;
			/* taps inside the input: h0 + k*dil in [0, H) */
			if (h0 < 0)
				kh_lo = (-h0 + g->dil[0] - 1) / g->dil[0];
			if (h0 + (kh_hi - 1) * g->dil[0] >= H)
				kh_hi = H - 1 - h0 < 0 ? 0 : (H - 1 - h0) / g->dil[0] + 1;
			if (count_pad)
				for (int64_t k = 0; k < g->k[0]; k++) {
					int64_t c = h0 + k * g->dil[0];
					hspan += c >= -g->pb[0] && c < H + g->pe[0];
				}
			for (int64_t ow = 0; ow < OW; ow++) {
				int64_t w0 = ow * g->s[1] - g->pb[1], kw_lo = 0, kw_hi = g->k[1],
					wspan = 0;
				double acc = is_max ? -INFINITY : 0;
				bool any = false;
				if (w0 < 0)
					kw_lo = (-w0 + g->dil[1] - 1) / g->dil[1];
				if (w0 + (kw_hi - 1) * g->dil[1] >= W)
					kw_hi = W - 1 - w0 < 0 ? 0 : (W - 1 - w0) / g->dil[1] + 1;
				for (int64_t kh = kh_lo; kh < kh_hi; kh++) {
					const float *xr = x + (h0 + kh * g->dil[0]) * W + w0;
					for (int64_t kw = kw_lo; kw < kw_hi; kw++) {
						double v = xr[kw * g->dil[1]];
						if (!is_max)
							acc += v;
						else if (!any || v > acc)
							acc = v;
						any = true;
					}
				}
				if (!is_max) {
					size_t cnt;
					if (count_pad) {
						for (int64_t k = 0; k < g->k[1]; k++) {
							int64_t c = w0 + k * g->dil[1];
							wspan += c >= -g->pb[1] && c < W + g->pe[1];
						}
						cnt = (size_t)(hspan * wspan);
					} else {
						cnt = kh_hi > kh_lo && kw_hi > kw_lo
							  ? (size_t)((kh_hi - kh_lo) *
								     (kw_hi - kw_lo))
							  : 0;
					}
					acc = cnt ? acc / (double)cnt : 0;
				}
				y[oh * OW + ow] = (float)acc;
			}
		}
	}
}

static fv_err run_pool(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		       struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool is_max = !strcmp(n->op->name, "MaxPool");
	bool ceil_mode = fv_attr_int(n, "ceil_mode", 0) != 0,
	     count_pad = fv_attr_int(n, "count_include_pad", 0) != 0,
	     col_major = fv_attr_int(n, "storage_order", 0) != 0;
	int64_t dims[FV_MAX_TENSOR_RANK];
	struct geom g;
	fv_err e;

	if (X->dtype == FV_DTYPE_BOOL || (!is_max && !fv_dtype_is_float(X->dtype)))
		return fv_diag_set(d, FV_EUNSUPPORTED, "%s of %s", n->op->name,
				   fv_dtype_name(X->dtype));
	if ((e = geom_init(n, X, NULL, ceil_mode, &g, d)) != FV_OK)
		return e;
	dims[0] = X->dims[0];
	dims[1] = X->dims[1];
	memcpy(dims + 2, g.out, g.nsp * sizeof(int64_t));
	/* pool_planes and pool_planes_2d_f write every output element */
	if ((e = fv_tensor_alloc_uninit(&out[0], X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	if (n_out > 1 &&
	    (e = fv_tensor_alloc_uninit(&out[1], FV_DTYPE_INT64, X->rank, dims, d)) != FV_OK)
		return e;
	if (X->dtype == FV_DTYPE_FLOAT && g.nsp == 2 && n_out == 1)
		pool_planes_2d_f(X, &out[0], &g, is_max, count_pad);
	else
		pool_planes(X, &out[0], n_out > 1 ? &out[1] : NULL, &g, is_max, count_pad,
			    col_major);
	return FV_OK;
}

static fv_err check_pool(struct fv_node *n, struct fv_diag *d)
{
	fv_err e = check_geom(n, d);
	if (e == FV_OK && !fv_attr_get(n, "kernel_shape"))
		e = fv_diag_set(d, FV_EINVAL, "kernel_shape is required");
	return e;
}

static fv_err run_global_pool(const struct fv_node *n, const struct fv_tensor *const *in,
			      size_t n_in, struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	bool is_max = !strcmp(n->op->name, "GlobalMaxPool");
	int64_t dims[FV_MAX_TENSOR_RANK];
	size_t planes, inner = 1;
	fv_err e;

	if (!fv_dtype_is_float(X->dtype))
		return fv_diag_set(d, FV_EUNSUPPORTED, "%s of %s", n->op->name,
				   fv_dtype_name(X->dtype));
	if (X->rank < 3)
		return fv_diag_set(d, FV_EINVAL, "input must be [N, C, D1, ...]");
	for (size_t i = 0; i < X->rank; i++) {
		dims[i] = i < 2 ? X->dims[i] : 1;
		if (i >= 2)
			inner *= (size_t)X->dims[i];
	}
	if (inner == 0)
		return fv_diag_set(d, FV_EINVAL, "empty spatial dimensions");
	if ((e = fv_tensor_alloc(out, X->dtype, X->rank, dims, d)) != FV_OK)
		return e;
	planes = (size_t)X->dims[0] * (size_t)X->dims[1];
	for (size_t p = 0; p < planes; p++) {
		double acc = is_max ? -INFINITY : 0;
		if (X->dtype == FV_DTYPE_FLOAT) {
			const float *x = (const float *)X->data + p * inner;
			for (size_t i = 0; i < inner; i++)
				acc = is_max ? (x[i] > acc ? x[i] : acc) : acc + x[i];
		} else {
			for (size_t i = 0; i < inner; i++) {
				double v = fv_tensor_getd(X, p * inner + i);
				acc = is_max ? (v > acc ? v : acc) : acc + v;
			}
		}
		fv_tensor_setd(out, p, is_max ? acc : acc / (double)inner);
	}
	return FV_OK;
}

/* ---- BatchNormalization ---- */

static fv_err check_bn(struct fv_node *n, struct fv_diag *d)
{
	if (fv_attr_int(n, "spatial", 1) != 1)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute value spatial=0 (per-activation "
				   "statistics)");
	if (n->n_out > 1 && !fv_attr_int(n, "training_mode", 0))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "outputs beyond Y exist only in training mode");
	if (n->n_out > 3)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "saved_mean / saved_var outputs (before opset 14) are not "
				   "supported");
	return FV_OK;
}

/* Inference: y = scale * (x - mean) / sqrt(var + epsilon) + B per channel. Training mode
 * (opset 14+) normalises with the batch's own mean and (population) variance and also
 * returns the running statistics updated with momentum, as the ONNX reference does. */
static fv_err run_bn(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		     struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	double eps = fv_attr_float(n, "epsilon", 1e-5f), mom = fv_attr_float(n, "momentum", 0.9f);
	bool train = fv_attr_int(n, "training_mode", 0) != 0;
	size_t N, C, inner = 1;
	fv_err e;

	if (!fv_dtype_is_float(X->dtype))
		return fv_diag_set(d, FV_EUNSUPPORTED, "BatchNormalization of %s",
				   fv_dtype_name(X->dtype));
	if (X->rank < 2)
		return fv_diag_set(d, FV_EINVAL, "input must be [N, C, ...]");
	N = (size_t)X->dims[0];
	C = (size_t)X->dims[1];
	for (size_t i = 2; i < X->rank; i++)
		inner *= (size_t)X->dims[i];
	for (size_t k = 1; k < 5; k++)
		if (in[k]->count != C || !fv_dtype_is_float(in[k]->dtype))
			return fv_diag_set(d, FV_EINVAL, "input %zu must hold %zu floats", k, C);
	/* the loop over channels below writes every element of Y */
	if ((e = fv_tensor_alloc_uninit(&out[0], X->dtype, X->rank, X->dims, d)) != FV_OK)
		return e;
	for (size_t k = 1; k < n_out; k++)
		if ((e = fv_tensor_alloc(&out[k], in[3 + k - 1]->dtype, 1, (int64_t[]){(int64_t)C},
					 d)) != FV_OK)
			return e;
	for (size_t c = 0; c < C; c++) {
		double mean = fv_tensor_getd(in[3], c), var = fv_tensor_getd(in[4], c), a, b;
		if (train) {
			double s = 0, ss = 0, cnt = (double)(N * inner), bm, bv;
			for (size_t nn = 0; nn < N; nn++)
				for (size_t i = 0; i < inner; i++) {
					double v = fv_tensor_getd(X, (nn * C + c) * inner + i);
					s += v;
				}
			bm = cnt ? s / cnt : 0;
			for (size_t nn = 0; nn < N; nn++)
				for (size_t i = 0; i < inner; i++) {
					double v = fv_tensor_getd(X, (nn * C + c) * inner + i) - bm;
					ss += v * v;
				}
			bv = cnt ? ss / cnt : 0;
			if (n_out > 1)
				fv_tensor_setd(&out[1], c, mean * mom + bm * (1 - mom));
			if (n_out > 2)
				fv_tensor_setd(&out[2], c, var * mom + bv * (1 - mom));
			mean = bm;
			var = bv;
		}
		a = fv_tensor_getd(in[1], c) / sqrt(var + eps);
		b = fv_tensor_getd(in[2], c) - mean * a;
		for (size_t nn = 0; nn < N; nn++) {
			size_t base = (nn * C + c) * inner;
			if (X->dtype == FV_DTYPE_FLOAT) {
				const float *x = (const float *)X->data + base;
				float *y = (float *)out[0].data + base, af = (float)a,
				      bf = (float)b;
				for (size_t i = 0; i < inner; i++)
					y[i] = x[i] * af + bf;
			} else {
				for (size_t i = 0; i < inner; i++)
					fv_tensor_setd(&out[0], base + i,
						       fv_tensor_getd(X, base + i) * a + b);
			}
		}
	}
	return FV_OK;
}

/* ---- Pad ---- */

enum pad_mode { PM_CONSTANT, PM_REFLECT, PM_EDGE };

static fv_err pad_mode_of(const struct fv_node *n, enum pad_mode *m, struct fv_diag *d)
{
	const char *s = fv_attr_str(n, "mode", "constant");

	if (!strcmp(s, "constant"))
		*m = PM_CONSTANT;
	else if (!strcmp(s, "reflect"))
		*m = PM_REFLECT;
	else if (!strcmp(s, "edge"))
		*m = PM_EDGE;
	else
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported attribute value mode=%s", s);
	return FV_OK;
}

static fv_err check_pad(struct fv_node *n, struct fv_diag *d)
{
	enum pad_mode m;
	fv_err e = pad_mode_of(n, &m, d);

	if (e != FV_OK)
		return e;
	if (n->opset < 11 && (n->n_in > 1 || !fv_attr_get(n, "pads")))
		return fv_diag_set(d, FV_EINVAL, "pads is an attribute before opset 11");
	if (n->opset >= 11 && (n->n_in < 2 || fv_attr_get(n, "pads") || fv_attr_get(n, "value")))
		return fv_diag_set(d, FV_EINVAL, "pads and value are inputs from opset 11");
	return FV_OK;
}

static fv_err run_pad(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
		      struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0];
	int64_t pb[FV_MAX_TENSOR_RANK] = {0}, pe[FV_MAX_TENSOR_RANK] = {0},
		dims[FV_MAX_TENSOR_RANK];
	size_t r = X->rank, es = fv_dtype_size(X->dtype), oi[FV_MAX_TENSOR_RANK] = {0};
	struct fv_tensor cv = {0};
	uint8_t value[8] = {0};
	enum pad_mode mode;
	fv_err e;

	if ((e = pad_mode_of(n, &mode, d)) != FV_OK)
		return e;
	/* constant value as one element of X's type */
	cv.dtype = X->dtype;
	cv.data = value;
	if (n->opset < 11) {
		const struct fv_attr *a = fv_attr_get(n, "pads");
		if (a->n != 2 * r)
			return fv_diag_set(d, FV_EINVAL, "pads has %zu entries for rank %zu", a->n,
					   r);
		for (size_t i = 0; i < r; i++) {
			pb[i] = a->ints[i];
			pe[i] = a->ints[r + i];
		}
		fv_tensor_setd(&cv, 0, fv_attr_float(n, "value", 0.0f));
	} else {
		const struct fv_tensor *P = in[1], *A = n_in > 3 ? in[3] : NULL;
		size_t na = A ? A->count : r;
		if (P->dtype != FV_DTYPE_INT64 || P->rank != 1 || P->count != 2 * na)
			return fv_diag_set(d, FV_EINVAL, "pads must be int64 [%zu]", 2 * na);
		if (A && (A->dtype != FV_DTYPE_INT64 || A->rank != 1))
			return fv_diag_set(d, FV_EINVAL, "axes must be a 1-D int64 tensor");
		for (size_t k = 0; k < na; k++) {
			size_t ax = k;
			if (A && !fv_axis(((const int64_t *)A->data)[k], r, &ax))
				return fv_diag_set(d, FV_EINVAL, "axis out of range");
			pb[ax] = ((const int64_t *)P->data)[k];
			pe[ax] = ((const int64_t *)P->data)[na + k];
		}
		if (n_in > 2 && in[2]) {
			if (in[2]->dtype != X->dtype || in[2]->count != 1)
				return fv_diag_set(d, FV_EINVAL, "constant_value must be one %s",
						   fv_dtype_name(X->dtype));
			memcpy(value, in[2]->data, es);
		}
	}
	for (size_t i = 0; i < r; i++) {
		if (pb[i] < -X->dims[i] || pe[i] < -X->dims[i] || pb[i] > FV_MAX_TENSOR_ELEMS ||
		    pe[i] > FV_MAX_TENSOR_ELEMS)
			return fv_diag_set(d, FV_EINVAL, "pads out of range on axis %zu", i);
		dims[i] = X->dims[i] + pb[i] + pe[i];
		if (dims[i] < 0)
			return fv_diag_set(d, FV_EINVAL, "negative pads remove more than axis %zu",
					   i);
		if (mode != PM_CONSTANT && dims[i] > 0 && X->dims[i] == 0)
			return fv_diag_set(d, FV_EINVAL, "cannot %s-pad an empty axis",
					   mode == PM_EDGE ? "edge" : "reflect");
		if (mode == PM_REFLECT && X->dims[i] == 1 && (pb[i] > 0 || pe[i] > 0))
			return fv_diag_set(d, FV_EINVAL, "cannot reflect-pad an axis of size 1");
	}
	if ((e = fv_tensor_alloc(out, X->dtype, r, dims, d)) != FV_OK)
		return e;
	for (size_t o = 0; o < out->count; o++) {
		size_t off = 0;
		bool constant = false;
		for (size_t i = 0; i < r; i++) {
			int64_t j = (int64_t)oi[i] - pb[i], len = X->dims[i];
			if (j < 0 || j >= len) {
				if (mode == PM_CONSTANT) {
					constant = true;
					break;
				}
				if (mode == PM_EDGE) {
					j = j < 0 ? 0 : len - 1;
				} else {
					/* reflect about the edges, period 2*(len-1) */
					int64_t per = 2 * (len - 1);
					j = j % per;
					if (j < 0)
						j += per;
					if (j >= len)
						j = per - j;
				}
			}
			off = off * (size_t)len + (size_t)j;
		}
		memcpy((char *)out->data + o * es,
		       constant ? (const void *)value : (const char *)X->data + off * es, es);
		for (size_t i = r; i-- > 0;) {
			if (++oi[i] < (size_t)dims[i])
				break;
			oi[i] = 0;
		}
	}
	return FV_OK;
}

/* ---- Resize ---- */

enum coord_mode { CM_HALF_PIXEL, CM_PYTORCH, CM_ALIGN, CM_ASYM, CM_TF_NN, CM_TF_CROP };
enum interp { IM_NEAREST, IM_LINEAR, IM_CUBIC };
enum nearest { NR_PREFER_FLOOR, NR_PREFER_CEIL, NR_FLOOR, NR_CEIL };

struct resize_cfg {
	enum coord_mode cm;
	enum interp im;
	enum nearest nm;
	double a, extrap;
	bool exclude;
};

static fv_err resize_cfg(const struct fv_node *n, struct resize_cfg *c, struct fv_diag *d)
{
	static const char *const cms[] = {"half_pixel",		  "pytorch_half_pixel",
					  "align_corners",	  "asymmetric",
					  "tf_half_pixel_for_nn", "tf_crop_and_resize"};
	static const char *const ims[] = {"nearest", "linear", "cubic"};
	static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
					  "ceil"};
	const char *cm = fv_attr_str(n, "coordinate_transformation_mode", "half_pixel"),
		   *im = fv_attr_str(n, "mode", "nearest"),
		   *nm = fv_attr_str(n, "nearest_mode", "round_prefer_floor");
	size_t i;

	for (i = 0; i < 6 && strcmp(cms[i], cm); i++)
		;
	if (i == 6)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute value coordinate_transformation_mode=%s",
				   cm);
	c->cm = (enum coord_mode)i;
	for (i = 0; i < 3 && strcmp(ims[i], im); i++)
		;
	if (i == 3)
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported attribute value mode=%s", im);
	c->im = (enum interp)i;
	for (i = 0; i < 4 && strcmp(nms[i], nm); i++)
		;
	if (i == 4)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute value nearest_mode=%s", nm);
	c->nm = (enum nearest)i;
	c->a = fv_attr_float(n, "cubic_coeff_a", -0.75f);
	c->extrap = fv_attr_float(n, "extrapolation_value", 0.0f);
	c->exclude = fv_attr_int(n, "exclude_outside", 0) != 0;
	return FV_OK;
}

static fv_err check_resize(struct fv_node *n, struct fv_diag *d)
{
	struct resize_cfg c;
	return resize_cfg(n, &c, d);
}

/* Taps of one output coordinate along one axis. */
struct taps {
	int64_t idx[4];
	double w[4];
	int n;
	bool extrap; /* tf_crop_and_resize outside the input: the extrapolation value */
};

static void cubic_coeffs(double r, double A, double *c)
{
	double s = 1 - r;
	c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
	c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
	c[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
	c[3] = ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A;
}

/* Source taps of output coordinate x along an axis of length in resized by scale (as the
 * ONNX reference implementation computes them: output length taken as scale * in). */
static void axis_taps(const struct resize_cfg *c, int64_t x, int64_t in, double scale, double roi0,
		      double roi1, struct taps *t)
{
	double ow = scale * (double)in, xo, r;
	int64_t base;

	memset(t, 0, sizeof(*t));
	switch (c->cm) {
	case CM_ALIGN:
		xo = ow == 1 ? 0 : (double)x * (double)(in - 1) / (ow - 1);
		break;
	case CM_ASYM:
		xo = (double)x / scale;
		break;
	case CM_TF_CROP:
		xo = ow == 1 ? (roi1 - roi0) * (double)(in - 1) / 2
			     : (double)x * (roi1 - roi0) * (double)(in - 1) / (ow - 1);
		xo += roi0 * (double)(in - 1);
		if (xo < 0 || xo > (double)(in - 1)) {
			t->extrap = true;
			return;
		}
		break;
	case CM_TF_NN:
		xo = ((double)x + 0.5) / scale;
		break;
	case CM_PYTORCH:
		xo = ow == 1 ? -0.5 : ((double)x + 0.5) / scale - 0.5;
		break;
	default:
		xo = ((double)x + 0.5) / scale - 0.5;
	}
	base = (int64_t)floor(xo);
	r = xo - (double)base;
	if (r == 0) {
		/* an exact source position: the reference takes it as ratio 1 from the left */
		base -= 1;
		r = 1;
	}
	if (c->im == IM_NEAREST) {
		bool right;
		if (r == 1)
			right = true;
		else if (c->nm == NR_PREFER_FLOOR)
			right = r > 0.5;
		else if (c->nm == NR_PREFER_CEIL)
			right = r >= 0.5;
		else
			right = c->nm == NR_CEIL;
		t->n = 1;
		t->idx[0] = base + (right ? 1 : 0);
		t->w[0] = 1;
	} else if (c->im == IM_LINEAR) {
		t->n = 2;
		t->idx[0] = base;
		t->idx[1] = base + 1;
		t->w[0] = 1 - r;
		t->w[1] = r;
	} else {
		t->n = 4;
		cubic_coeffs(r, c->a, t->w);
		for (int k = 0; k < 4; k++)
			t->idx[k] = base - 1 + k;
	}
	if (c->exclude) {
		double sum = 0;
		for (int k = 0; k < t->n; k++) {
			if (t->idx[k] < 0 || t->idx[k] >= in)
				t->w[k] = 0;
			sum += t->w[k];
		}
		for (int k = 0; k < t->n && sum != 0; k++)
			t->w[k] /= sum;
	}
	/* the reference pads with edge values */
	for (int k = 0; k < t->n; k++)
		t->idx[k] = t->idx[k] < 0 ? 0 : t->idx[k] >= in ? in - 1 : t->idx[k];
}

static fv_err run_resize(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			 struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct fv_tensor *X = in[0], *roi = n_in > 1 ? in[1] : NULL,
			       *S = n_in > 2 ? in[2] : NULL, *Z = n_in > 3 ? in[3] : NULL;
	size_t r = X->rank, cur_count = X->count;
	double scale[FV_MAX_TENSOR_RANK], *cur = NULL, *nxt = NULL;
	int64_t dims[FV_MAX_TENSOR_RANK], cdims[FV_MAX_TENSOR_RANK];
	struct taps *tp = NULL;
	struct resize_cfg c;
	fv_err e;

	if ((e = resize_cfg(n, &c, d)) != FV_OK)
		return e;
	if (X->dtype == FV_DTYPE_BOOL || (c.im != IM_NEAREST && !fv_dtype_is_float(X->dtype)))
		return fv_diag_set(d, FV_EUNSUPPORTED, "Resize of %s", fv_dtype_name(X->dtype));
	if (S && S->count == 0)
		S = NULL;
	if (Z && Z->count == 0)
		Z = NULL;
	if (!S == !Z)
		return fv_diag_set(d, FV_EINVAL, "exactly one of scales and sizes must be given");
	if (S && (!fv_dtype_is_float(S->dtype) || S->rank != 1 || S->count != r))
		return fv_diag_set(d, FV_EINVAL, "scales must be %zu floats", r);
	if (Z && (Z->dtype != FV_DTYPE_INT64 || Z->rank != 1 || Z->count != r))
		return fv_diag_set(d, FV_EINVAL, "sizes must be %zu int64", r);
	if (c.cm == CM_TF_CROP && (!roi || roi->count != 2 * r || !fv_dtype_is_float(roi->dtype)))
		return fv_diag_set(d, FV_EINVAL, "tf_crop_and_resize needs roi of %zu values",
				   2 * r);
	for (size_t i = 0; i < r; i++) {
		if (S) {
			double s = fv_tensor_getd(S, i), o = floor(s * (double)X->dims[i]);
			if (!(s > 0) || o > FV_MAX_TENSOR_ELEMS)
				return fv_diag_set(d, FV_EINVAL, "scale %g", s);
			scale[i] = s;
			dims[i] = (int64_t)o;
		} else {
			dims[i] = ((const int64_t *)Z->data)[i];
			if (dims[i] < 0 || dims[i] > FV_MAX_TENSOR_ELEMS)
				return fv_diag_set(d, FV_EINVAL, "size %lld", (long long)dims[i]);
			scale[i] = X->dims[i] ? (double)dims[i] / (double)X->dims[i] : 1;
		}
	}
	if ((e = fv_tensor_alloc(out, X->dtype, r, dims, d)) != FV_OK)
		return e;
	if (!out->count)
		return FV_OK;
	if (!X->count)
		return fv_diag_set(d, FV_EINVAL, "cannot resize an empty tensor");
	/* Separable: one axis at a time, in double. */
	cur = fv_alloc(X->count * sizeof(double));
	if (!cur) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < X->count; i++)
		cur[i] = fv_tensor_getd(X, i);
	memcpy(cdims, X->dims, r * sizeof(int64_t));
	for (size_t ax = 0; ax < r; ax++) {
		size_t outer = 1, inner = 1, cnt;
		int64_t len = cdims[ax], olen = dims[ax];
		bool identity = olen == len && scale[ax] == 1 &&
				(c.cm == CM_HALF_PIXEL || c.cm == CM_ASYM || c.cm == CM_ALIGN ||
				 (c.cm == CM_PYTORCH && olen > 1));
		if (identity)
			continue;
		for (size_t i = 0; i < ax; i++)
			outer *= (size_t)cdims[i];
		for (size_t i = ax + 1; i < r; i++)
			inner *= (size_t)cdims[i];
		cnt = outer * (size_t)olen * inner;
		fv_free(tp);
		tp = fv_calloc((size_t)olen, sizeof(*tp));
		nxt = fv_alloc((cnt ? cnt : 1) * sizeof(double));
		if (!tp || !nxt) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
		for (int64_t x = 0; x < olen; x++)
			axis_taps(&c, x, len, scale[ax],
				  roi && c.cm == CM_TF_CROP ? fv_tensor_getd(roi, ax) : 0,
				  roi && c.cm == CM_TF_CROP ? fv_tensor_getd(roi, r + ax) : 1,
				  &tp[x]);
		for (size_t o = 0; o < outer; o++)
			for (int64_t x = 0; x < olen; x++) {
				const struct taps *t = &tp[x];
				double *dst = nxt + (o * (size_t)olen + (size_t)x) * inner;
				if (t->extrap) {
					for (size_t k = 0; k < inner; k++)
						dst[k] = c.extrap;
					continue;
				}
				for (size_t k = 0; k < inner; k++) {
					double acc = 0;
					for (int q = 0; q < t->n; q++)
						acc += t->w[q] *
						       cur[(o * (size_t)len + (size_t)t->idx[q]) *
							       inner +
							   k];
					/* nearest copies exactly (no 0 * inf) */
					dst[k] = t->n == 1
						     ? cur[(o * (size_t)len + (size_t)t->idx[0]) *
							       inner +
							   k]
						     : acc;
				}
			}
		fv_free(cur);
		cur = nxt;
		nxt = NULL;
		cdims[ax] = olen;
		cur_count = cnt;
	}
	for (size_t i = 0; i < out->count && i < cur_count; i++)
		fv_tensor_setd(out, i, cur[i]);
out:
	fv_free(tp);
	fv_free(cur);
	fv_free(nxt);
	return e;
}

static fv_err check_dims_geom(struct fv_node *n, struct fv_diag *d)
{
	return check_geom(n, d);
}

#define GEOM_ATTRS "auto_pad:s dilations:I kernel_shape:I pads:I strides:I "

const struct fv_op fv_ops_nn[] = {
    {"", "Conv", 1, 2, 3, 1, 1, GEOM_ATTRS "group:i", check_dims_geom, run_conv},
    {"", "ConvTranspose", 1, 2, 3, 1, 1, GEOM_ATTRS "group:i output_padding:I output_shape:I",
     check_dims_geom, run_convtranspose},
    {"", "MaxPool", 1, 1, 1, 1, 2, GEOM_ATTRS "ceil_mode:i storage_order:i", check_pool, run_pool},
    /* dilations of AveragePool arrive in opset 19, after what the suite covers */
    {"", "AveragePool", 1, 1, 1, 1, 1, GEOM_ATTRS "ceil_mode:i count_include_pad:i", check_pool,
     run_pool},
    {"", "GlobalAveragePool", 1, 1, 1, 1, 1, "", NULL, run_global_pool},
    {"", "GlobalMaxPool", 1, 1, 1, 1, 1, "", NULL, run_global_pool},
    {"", "BatchNormalization", 7, 5, 5, 1, 3, "epsilon:f momentum:f spatial:i training_mode:i",
     check_bn, run_bn},
    {"", "Pad", 2, 1, 4, 1, 1, "mode:s pads:I value:f", check_pad, run_pad},
    {"", "Resize", 11, 1, 4, 1, 1,
     "coordinate_transformation_mode:s cubic_coeff_a:f exclude_outside:i "
     "extrapolation_value:f mode:s nearest_mode:s",
     check_resize, run_resize},
};
const size_t fv_ops_nn_n = sizeof(fv_ops_nn) / sizeof(fv_ops_nn[0]);
