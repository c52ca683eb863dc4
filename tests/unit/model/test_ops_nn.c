/* lib/model/ops_nn.c: the fast paths against the general ones they stand for. The ONNX node
 * tests (test_conformance.c) check both against the reference outputs, but they run batches of
 * one image and never ask MaxPool for fewer outputs than the general path needs, so here:
 * - Conv over a batch (images side by side in one GEMM when the output planes are small)
 *   equals Conv over each image alone;
 * - MaxPool's float 2-D path (one output) equals the general path (asked for the indices
 *   too), bit for bit, over strides, pads, dilations and ceil_mode. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static float unit_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((double)(rng >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

static void tensor_rand(struct fv_tensor *t, size_t rank, const int64_t *dims)
{
	cr_assert_eq(fv_tensor_alloc(t, FV_DTYPE_FLOAT, rank, dims, NULL), FV_OK);
	for (size_t i = 0; i < t->count; i++)
		((float *)t->data)[i] = unit_rand();
}

/* An ints attribute (the test keeps the array alive). */
static struct fv_attr ints_attr(const char *name, int64_t *v, size_t n)
{
	struct fv_attr a;
	memset(&a, 0, sizeof(a));
	a.name = (char *)name;
	a.type = FV_ATTR_INTS;
	a.ints = v;
	a.n = n;
	return a;
}

static struct fv_attr int_attr(const char *name, int64_t v)
{
	struct fv_attr a;
	memset(&a, 0, sizeof(a));
	a.name = (char *)name;
	a.type = FV_ATTR_INT;
	a.i = v;
	return a;
}

static fv_err run_op(const char *op, struct fv_attr *attr, size_t n_attr,
		     const struct fv_tensor *const *in, size_t n_in, struct fv_tensor *out,
		     size_t n_out)
{
	struct fv_node n;
	struct fv_diag d = {{0}};
	fv_err e;

	memset(&n, 0, sizeof(n));
	n.op = fv_op_lookup("", op);
	cr_assert_not_null(n.op);
	n.name = (char *)"t";
	n.attr = attr;
	n.n_attr = n_attr;
	n.n_in = n_in;
	n.n_out = n_out;
	memset(out, 0, n_out * sizeof(*out));
	e = n.op->run(&n, in, n_in, out, n_out, &d);
	cr_assert_eq(e, FV_OK, "%s: %s", op, d.msg);
	return e;
}

Test(ops_nn, conv_batch_equals_one_image_at_a_time)
{
	/* (N, C, H, W, M, k, stride, pad): small planes batch; the last has P >= 4096, one image
	 * per GEMM either way */
	static const int64_t cases[][8] = {{5, 3, 9, 9, 4, 3, 1, 1},   {8, 16, 14, 14, 32, 3, 2, 1},
					   {3, 8, 7, 7, 16, 1, 2, 0},  {4, 2, 11, 5, 3, 5, 1, 2},
					   {2, 1, 70, 70, 2, 3, 1, 1}, {7, 4, 6, 6, 6, 3, 1, 0}};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const int64_t *k = cases[c];
		int64_t xd[4] = {k[0], k[1], k[2], k[3]}, wd[4] = {k[4], k[1], k[5], k[5]},
			st[2] = {k[6], k[6]}, pd[4] = {k[7], k[7], k[7], k[7]};
		struct fv_attr at[2] = {ints_attr("strides", st, 2), ints_attr("pads", pd, 4)};
		struct fv_tensor X, Wt, B, Y, Y1;
		size_t per_in, per_out;

		tensor_rand(&X, 4, xd);
		tensor_rand(&Wt, 4, wd);
		tensor_rand(&B, 1, wd);
		run_op("Conv", at, 2, (const struct fv_tensor *[]){&X, &Wt, &B}, 3, &Y, 1);
		per_in = X.count / (size_t)k[0];
		per_out = Y.count / (size_t)k[0];
		for (int64_t i = 0; i < k[0]; i++) {
			struct fv_tensor Xi = X;
			Xi.dims[0] = 1;
			Xi.count = per_in;
			Xi.data = (float *)X.data + (size_t)i * per_in;
			run_op("Conv", at, 2, (const struct fv_tensor *[]){&Xi, &Wt, &B}, 3, &Y1,
			       1);
			cr_assert_eq(Y1.count, per_out);
			for (size_t j = 0; j < per_out; j++) {
				float a = ((float *)Y.data)[(size_t)i * per_out + j],
				      b = ((float *)Y1.data)[j];
				cr_assert(fabsf(a - b) <= 1e-5f * (1 + fabsf(b)),
					  "case %zu image %lld element %zu: %g vs %g", c,
					  (long long)i, j, a, b);
			}
			fv_tensor_fini(&Y1);
		}
		fv_tensor_fini(&X);
		fv_tensor_fini(&Wt);
		fv_tensor_fini(&B);
		fv_tensor_fini(&Y);
	}
}

Test(ops_nn, maxpool_fast_path_equals_general)
{
	/* (H, W, k, stride, pad, dilation, ceil_mode) */
	static const int64_t cases[][7] = {{112, 112, 3, 2, 1, 1, 0}, {9, 7, 3, 2, 1, 1, 1},
					   {8, 8, 2, 2, 0, 1, 0},     {10, 9, 3, 1, 2, 2, 0},
					   {5, 6, 4, 3, 1, 1, 1},     {7, 7, 3, 3, 0, 2, 1},
					   {1, 1, 1, 1, 0, 1, 0}};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const int64_t *k = cases[c];
		int64_t xd[4] = {2, 3, k[0], k[1]}, ks[2] = {k[2], k[2]}, st[2] = {k[3], k[3]},
			pd[4] = {k[4], k[4], k[4], k[4]}, dl[2] = {k[5], k[5]};
		struct fv_attr at[5] = {ints_attr("kernel_shape", ks, 2),
					ints_attr("strides", st, 2), ints_attr("pads", pd, 4),
					ints_attr("dilations", dl, 2), int_attr("ceil_mode", k[6])};
		struct fv_tensor X, fast, gen[2];

		tensor_rand(&X, 4, xd);
		((float *)X.data)[5] = NAN; /* the NaN rule must agree too */
		run_op("MaxPool", at, 5, (const struct fv_tensor *[]){&X}, 1, &fast, 1);
		run_op("MaxPool", at, 5, (const struct fv_tensor *[]){&X}, 1, gen, 2);
		cr_assert_eq(fast.count, gen[0].count, "case %zu", c);
		cr_assert(memcmp(fast.data, gen[0].data, fast.count * sizeof(float)) == 0,
			  "case %zu: the fast path differs", c);
		fv_tensor_fini(&X);
		fv_tensor_fini(&fast);
		fv_tensor_fini(&gen[0]);
		fv_tensor_fini(&gen[1]);
	}
}

/* Conv against the definition, summed in double: covers the Winograd path (3x3, stride 1,
 * >= 8 channels in and out; odd and even sizes, symmetric and asymmetric pads) and im2col. */
Test(ops_nn, conv_matches_direct_sum)
{
	/* (N, C, H, W, M, k, stride, pad begin h, pad begin w, pad end h, pad end w) */
	static const int64_t cases[][11] = {
	    {2, 8, 8, 8, 8, 3, 1, 1, 1, 1, 1},	   {3, 16, 7, 7, 12, 3, 1, 1, 1, 1, 1},
	    {1, 9, 5, 6, 10, 3, 1, 0, 0, 0, 0},	   {2, 8, 9, 4, 8, 3, 1, 2, 0, 1, 2},
	    {1, 32, 14, 14, 64, 3, 1, 1, 1, 1, 1}, {2, 4, 6, 6, 8, 3, 1, 1, 1, 1, 1},
	    {2, 8, 9, 9, 8, 3, 2, 1, 1, 1, 1},	   {1, 3, 11, 11, 8, 7, 2, 3, 3, 3, 3}};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const int64_t *k = cases[c];
		int64_t xd[4] = {k[0], k[1], k[2], k[3]}, wd[4] = {k[4], k[1], k[5], k[5]},
			st[2] = {k[6], k[6]}, pd[4] = {k[7], k[8], k[9], k[10]};
		struct fv_attr at[2] = {ints_attr("strides", st, 2), ints_attr("pads", pd, 4)};
		struct fv_tensor X, Wt, B, Y;
		int64_t OH = (k[2] + k[7] + k[9] - k[5]) / k[6] + 1,
			OW = (k[3] + k[8] + k[10] - k[5]) / k[6] + 1;
		const float *x, *w, *b, *y;

		tensor_rand(&X, 4, xd);
		tensor_rand(&Wt, 4, wd);
		tensor_rand(&B, 1, wd);
		run_op("Conv", at, 2, (const struct fv_tensor *[]){&X, &Wt, &B}, 3, &Y, 1);
		cr_assert_eq(Y.dims[2], OH, "case %zu", c);
		cr_assert_eq(Y.dims[3], OW, "case %zu", c);
		x = X.data;
		w = Wt.data;
		b = B.data;
		y = Y.data;
		for (int64_t n = 0; n < k[0]; n++)
			for (int64_t m = 0; m < k[4]; m++)
				for (int64_t oh = 0; oh < OH; oh++)
					for (int64_t ow = 0; ow < OW; ow++) {
						double acc = b[m], mag = fabs(b[m]);
						for (int64_t ci = 0; ci < k[1]; ci++)
							for (int64_t kh = 0; kh < k[5]; kh++)
								for (int64_t kw = 0; kw < k[5];
								     kw++) {
									int64_t ih = oh * k[6] -
										     k[7] + kh,
										iw = ow * k[6] -
										     k[8] + kw;
									double p;
									if (ih < 0 || ih >= k[2] ||
									    iw < 0 || iw >= k[3])
										continue;
									p = (double)
										x[((n * k[1] + ci) *
										       k[2] +
										   ih) *
										      k[3] +
										  iw] *
									    w[((m * k[1] + ci) *
										   k[5] +
									       kh) *
										  k[5] +
									      kw];
									acc += p;
									mag += fabs(p);
								}
						float got = y[((n * k[4] + m) * OH + oh) * OW + ow];
						/* float rounding of a sum of K products: a few ulps
						 * of the sum of their magnitudes */
						cr_assert(
						    fabs(got - acc) <= 1e-5 * (1 + mag),
						    "case %zu at (%lld,%lld,%lld,%lld): %g vs %g",
						    c, (long long)n, (long long)m, (long long)oh,
						    (long long)ow, got, acc);
					}
		fv_tensor_fini(&X);
		fv_tensor_fini(&Wt);
		fv_tensor_fini(&B);
		fv_tensor_fini(&Y);
	}
}
