/* lib/model/fast.c: the fused linear paths are recognised at load, and fv_model_predict through
 * them gives the interpreter's output (fv_model_run of the same graph) to 1e-6 relative, on
 * random weights and rows. Graphs are built here as protobuf-c structs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/model.h"
#include "fedval/util.h"
#include "model/model_int.h"

#define RTOL 1e-6

static uint64_t rng_state = 88172645463325252ull;

/* Uniform in [lo, hi) (xorshift64; fixed seed, so failures reproduce). */
static float uniform(float lo, float hi)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return lo + (hi - lo) * (float)((rng_state >> 11) * (1.0 / 9007199254740992.0));
}

/* ---- a small graph builder ---- */

#define MAXN 4
#define MAXA 5

struct gb {
	Onnx__NodeProto node[MAXN], *nodep[MAXN];
	Onnx__AttributeProto attr[MAXN][MAXA], *attrp[MAXN][MAXA];
	Onnx__TensorProto init[3], *initp[3];
	int64_t idims[3][2];
	size_t n_node, n_init;
};

static Onnx__NodeProto *gb_node(struct gb *g, const char *domain, const char *op, const char **in,
				size_t n_in, const char **out, size_t n_out)
{
	Onnx__NodeProto *n = &g->node[g->n_node];
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	n->name = (char *)op;
	n->domain = (char *)domain;
	n->input = (char **)in;
	n->n_input = n_in;
	n->output = (char **)out;
	n->n_output = n_out;
	n->attribute = g->attrp[g->n_node];
	g->nodep[g->n_node] = n;
	g->n_node++;
	return n;
}

static Onnx__AttributeProto *gb_attr(struct gb *g, Onnx__NodeProto *n, const char *name,
				     Onnx__AttributeProto__AttributeType type)
{
	size_t ni = (size_t)(n - g->node);
	Onnx__AttributeProto *a = &g->attr[ni][n->n_attribute];
	onnx__attribute_proto__init(a);
	a->name = (char *)name;
	a->has_type = 1;
	a->type = type;
	g->attrp[ni][n->n_attribute++] = a;
	return a;
}

static void gb_floats(struct gb *g, Onnx__NodeProto *n, const char *name, float *v, size_t k)
{
	Onnx__AttributeProto *a =
	    gb_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
	a->floats = v;
	a->n_floats = k;
}

static void gb_ints(struct gb *g, Onnx__NodeProto *n, const char *name, int64_t *v, size_t k)
{
	Onnx__AttributeProto *a = gb_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	a->ints = v;
	a->n_ints = k;
}

static void gb_int(struct gb *g, Onnx__NodeProto *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = gb_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = v;
}

static void gb_float(struct gb *g, Onnx__NodeProto *n, const char *name, float v)
{
	Onnx__AttributeProto *a = gb_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
	a->has_f = 1;
	a->f = v;
}

static void gb_str(struct gb *g, Onnx__NodeProto *n, const char *name, const char *v)
{
	Onnx__AttributeProto *a =
	    gb_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	a->has_s = 1;
	a->s.data = (uint8_t *)v;
	a->s.len = strlen(v);
}

static void gb_init(struct gb *g, const char *name, size_t rank, int64_t d0, int64_t d1, float *v)
{
	Onnx__TensorProto *t = &g->init[g->n_init];
	onnx__tensor_proto__init(t);
	t->name = (char *)name;
	g->idims[g->n_init][0] = d0;
	g->idims[g->n_init][1] = d1;
	t->n_dims = rank;
	t->dims = g->idims[g->n_init];
	t->has_data_type = 1;
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->n_float_data = (size_t)(rank == 0 ? 1 : rank == 1 ? d0 : d0 * d1);
	t->float_data = v;
	g->initp[g->n_init++] = t;
}

/* Pack the graph (input "X" float [N, nf], output `out`, untyped) and load it. */
static struct fv_model *gb_load(struct gb *g, size_t nf, const char *out)
{
	Onnx__ModelProto mp;
	Onnx__OperatorSetIdProto os[2], *osp[2] = {&os[0], &os[1]};
	Onnx__GraphProto gr;
	Onnx__ValueInfoProto vin, vout, *vinp = &vin, *voutp = &vout;
	Onnx__TypeProto tp;
	Onnx__TypeProto__Tensor tt;
	Onnx__TensorShapeProto sh;
	Onnx__TensorShapeProto__Dimension dim[2], *dimp[2] = {&dim[0], &dim[1]};
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	uint8_t *buf;
	size_t len;

	onnx__tensor_shape_proto__dimension__init(&dim[0]);
	dim[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
	dim[0].dim_param = (char *)"N";
	onnx__tensor_shape_proto__dimension__init(&dim[1]);
	dim[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
	dim[1].dim_value = (int64_t)nf;
	onnx__tensor_shape_proto__init(&sh);
	sh.n_dim = 2;
	sh.dim = dimp;
	onnx__type_proto__tensor__init(&tt);
	tt.has_elem_type = 1;
	tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	tt.shape = &sh;
	onnx__type_proto__init(&tp);
	tp.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp.tensor_type = &tt;
	onnx__value_info_proto__init(&vin);
	vin.name = (char *)"X";
	vin.type = &tp;
	onnx__value_info_proto__init(&vout);
	vout.name = (char *)out;

	onnx__graph_proto__init(&gr);
	gr.name = (char *)"test_fast";
	gr.n_node = g->n_node;
	gr.node = g->nodep;
	gr.n_initializer = g->n_init;
	gr.initializer = g->initp;
	gr.n_input = 1;
	gr.input = &vinp;
	gr.n_output = 1;
	gr.output = &voutp;
	onnx__operator_set_id_proto__init(&os[0]);
	os[0].domain = (char *)"";
	os[0].has_version = 1;
	os[0].version = 13;
	onnx__operator_set_id_proto__init(&os[1]);
	os[1].domain = (char *)"ai.onnx.ml";
	os[1].has_version = 1;
	os[1].version = 1;
	onnx__model_proto__init(&mp);
	mp.has_ir_version = 1;
	mp.ir_version = 8;
	mp.n_opset_import = 2;
	mp.opset_import = osp;
	mp.graph = &gr;

	len = onnx__model_proto__get_packed_size(&mp);
	buf = malloc(len);
	cr_assert_not_null(buf);
	cr_assert_eq(onnx__model_proto__pack(&mp, buf), len);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
	free(buf);
	return m;
}

/* ---- the comparison ---- */

/* fv_model_predict against the interpreter's output `out` (its last column), to RTOL relative
 * plus atol (0 for probabilities; raw scores near zero lose relative precision by cancellation,
 * the fused dot product being a float sum where LinearClassifier sums in double). */
static void expect_same(const struct fv_model *m, size_t nf, size_t rows, const char *out,
			double atol)
{
	float *x = malloc((rows ? rows : 1) * nf * sizeof(float));
	double *p = malloc((rows ? rows : 1) * sizeof(double));
	const char *in_name = "X";
	struct fv_tensor it = {0}, ot = {0};
	struct fv_diag d = {{0}};
	size_t cols, bad = 0;

	cr_assert(x && p);
	for (size_t i = 0; i < rows * nf; i++)
		x[i] = uniform(-1, 1);
	cr_assert_eq(fv_model_predict(m, x, rows, p, &d), FV_OK, "%s", d.msg);
	it.dtype = FV_DTYPE_FLOAT;
	it.rank = 2;
	it.dims[0] = (int64_t)rows;
	it.dims[1] = (int64_t)nf;
	it.count = rows * nf;
	it.data = x;
	cr_assert_eq(fv_model_run(m, 1, &in_name, &it, 1, &out, &ot, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(ot.dtype, FV_DTYPE_FLOAT);
	cols = ot.rank == 2 ? (size_t)ot.dims[1] : 1;
	cr_assert_eq(ot.count, rows * cols);
	for (size_t r = 0; r < rows; r++) {
		double want = ((const float *)ot.data)[r * cols + cols - 1];
		if (!(fabs(p[r] - want) <= atol + RTOL * fabs(want)) && !bad++)
			cr_expect_fail("%s nf=%zu row %zu of %zu: fused %.9g, interpreter %.9g",
				       out, nf, r, rows, p[r], want);
	}
	cr_expect_eq(bad, 0, "nf=%zu: %zu of %zu rows differ", nf, bad, rows);
	fv_tensor_fini(&ot);
	free(x);
	free(p);
}

static const size_t nfs[] = {1, 3, 8, 13, 50, 67};
static const size_t rowss[] = {0, 1, 7, 8, 65, 1000};

Test(fast, logreg_writer_graph)
{
	for (size_t k = 0; k < sizeof(nfs) / sizeof(nfs[0]); k++) {
		size_t nf = nfs[k];
		double coef[67];
		uint8_t *buf;
		size_t len;
		struct fv_model *m = NULL;
		struct fv_diag d = {{0}};

		for (size_t i = 0; i < nf; i++)
			coef[i] = uniform(-0.1f, 0.1f);
		cr_assert_eq(fv_model_write_logreg("X", nf, coef, uniform(-1, 1), &buf, &len, &d),
			     FV_OK, "%s", d.msg);
		cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
		fv_free(buf);
		cr_assert_eq(m->fast.kind, FV_FAST_SIGMOID, "nf=%zu", nf);
		for (size_t j = 0; j < sizeof(rowss) / sizeof(rowss[0]); j++)
			expect_same(m, nf, rowss[j], "probability", 0);
		fv_model_free(m);
	}
}

/* Gemm with transB, alpha, beta and C, then an Add with the bias first. */
Test(fast, gemm_graph)
{
	for (int tb = 0; tb < 2; tb++) {
		struct gb g = {0};
		size_t nf = 50;
		float w[50], c = uniform(-1, 1), b = uniform(-1, 1);
		const char *gin[] = {"X", "W", "C"}, *gout[] = {"logit_raw"};
		const char *ain[] = {"B", "logit_raw"}, *aout[] = {"logit"};
		const char *sin[] = {"logit"}, *sout[] = {"probability"};
		Onnx__NodeProto *n;
		struct fv_model *m;

		for (size_t i = 0; i < nf; i++)
			w[i] = uniform(-0.1f, 0.1f);
		gb_init(&g, "W", 2, tb ? 1 : (int64_t)nf, tb ? (int64_t)nf : 1, w);
		gb_init(&g, "C", 2, 1, 1, &c);
		gb_init(&g, "B", 0, 0, 0, &b);
		n = gb_node(&g, "", "Gemm", gin, 3, gout, 1);
		gb_int(&g, n, "transB", tb);
		gb_float(&g, n, "alpha", 0.75f);
		gb_float(&g, n, "beta", -1.5f);
		gb_node(&g, "", "Add", ain, 2, aout, 1);
		gb_node(&g, "", "Sigmoid", sin, 1, sout, 1);
		m = gb_load(&g, nf, "probability");
		cr_assert_eq(m->fast.kind, FV_FAST_SIGMOID, "transB=%d", tb);
		expect_same(m, nf, 1000, "probability", 0);
		fv_model_free(m);
	}
}

/* LinearClassifier (+ Normalizer) (+ ZipMap) as scikit-learn exporters lay it out. */
static void linclf_case(size_t nf, size_t rows_w, int mirror, size_t n_labels, const char *post,
			const char *norm, bool zipmap, enum fv_fast_kind want)
{
	struct gb g = {0};
	float co[2 * 67], ic[2];
	int64_t labels[2] = {0, 1};
	const char *lin[] = {"X"}, *lout[] = {"label", "probability_tensor"};
	const char *nin[] = {"probability_tensor"}, *nout[] = {"probabilities"};
	const char *zin[] = {norm ? "probabilities" : "probability_tensor"},
		   *zout[] = {"output_probability"};
	const char *out = zipmap ? "output_probability"
			  : norm ? "probabilities"
				 : "probability_tensor";
	Onnx__NodeProto *n;
	struct fv_model *m;

	for (size_t i = 0; i < rows_w * nf; i++)
		co[i] = uniform(-0.1f, 0.1f);
	for (size_t c = 0; c < rows_w; c++)
		ic[c] = uniform(-1, 1);
	if (mirror) {
		for (size_t i = 0; i < nf; i++)
			co[i] = -co[nf + i];
		ic[0] = -ic[1];
	}
	n = gb_node(&g, "ai.onnx.ml", "LinearClassifier", lin, 1, lout, 2);
	gb_floats(&g, n, "coefficients", co, rows_w * nf);
	gb_floats(&g, n, "intercepts", ic, rows_w);
	if (n_labels)
		gb_ints(&g, n, "classlabels_ints", labels, n_labels);
	gb_str(&g, n, "post_transform", post);
	if (norm) {
		n = gb_node(&g, "ai.onnx.ml", "Normalizer", nin, 1, nout, 1);
		gb_str(&g, n, "norm", norm);
	}
	if (zipmap) {
		size_t k = rows_w == 1 && n_labels == 2 ? 2 : rows_w;
		n = gb_node(&g, "ai.onnx.ml", "ZipMap", zin, 1, zout, 1);
		gb_ints(&g, n, "classlabels_int64s", labels, k);
	}
	m = gb_load(&g, nf, out);
	cr_assert_eq(m->fast.kind, want, "nf=%zu rows=%zu post=%s norm=%s", nf, rows_w, post,
		     norm ? norm : "-");
	cr_assert_eq(m->fast.mirror, want == FV_FAST_LINCLF && mirror);
	for (size_t j = 0; j < sizeof(rowss) / sizeof(rowss[0]); j++)
		expect_same(m, nf, rowss[j], out, strcmp(post, "NONE") ? 0 : 1e-7);
	fv_model_free(m);
}

Test(fast, linear_classifier_skl2onnx_layout)
{
	for (size_t k = 0; k < sizeof(nfs) / sizeof(nfs[0]); k++)
		linclf_case(nfs[k], 2, 1, 2, "LOGISTIC", "L1", true, FV_FAST_LINCLF);
}

Test(fast, linear_classifier_variants)
{
	linclf_case(50, 2, 0, 2, "LOGISTIC", "L2", false, FV_FAST_LINCLF);
	linclf_case(13, 2, 0, 0, "NONE", "MAX", true, FV_FAST_LINCLF);
	linclf_case(50, 1, 0, 2, "LOGISTIC", "MAX", true, FV_FAST_LINCLF);
	linclf_case(50, 1, 0, 2, "NONE", NULL, false, FV_FAST_LINCLF);
	linclf_case(7, 1, 0, 0, "LOGISTIC", NULL, true, FV_FAST_LINCLF);
	linclf_case(50, 1, 0, 1, "LOGISTIC", "L1", false, FV_FAST_LINCLF);
	/* Not fused: the interpreter alone. */
	linclf_case(50, 2, 1, 2, "SOFTMAX", "L1", true, FV_FAST_NONE);
}
