/* Writing ONNX: a logistic-regression model built directly as protobuf-c structs. */
#include "model/model_int.h"

#include <string.h>

static void set_dim_param(Onnx__TensorShapeProto__Dimension *dm, const char *p)
{
	onnx__tensor_shape_proto__dimension__init(dm);
	dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
	dm->dim_param = (char *)p;
}

static void set_dim_value(Onnx__TensorShapeProto__Dimension *dm, int64_t v)
{
	onnx__tensor_shape_proto__dimension__init(dm);
	dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
	dm->dim_value = v;
}

/* A [N, cols] float tensor ValueInfo; every struct is provided by the caller. */
struct vinfo {
	Onnx__ValueInfoProto vi;
	Onnx__TypeProto tp;
	Onnx__TypeProto__Tensor tt;
	Onnx__TensorShapeProto sh;
	Onnx__TensorShapeProto__Dimension dim[2];
	Onnx__TensorShapeProto__Dimension *dimp[2];
};

static void vinfo_init(struct vinfo *v, const char *name, int64_t cols)
{
	onnx__value_info_proto__init(&v->vi);
	onnx__type_proto__init(&v->tp);
	onnx__type_proto__tensor__init(&v->tt);
	onnx__tensor_shape_proto__init(&v->sh);
	set_dim_param(&v->dim[0], "N");
	set_dim_value(&v->dim[1], cols);
	v->dimp[0] = &v->dim[0];
	v->dimp[1] = &v->dim[1];
	v->sh.n_dim = 2;
	v->sh.dim = v->dimp;
	v->tt.has_elem_type = 1;
	v->tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	v->tt.shape = &v->sh;
	v->tp.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	v->tp.tensor_type = &v->tt;
	v->vi.name = (char *)name;
	v->vi.type = &v->tp;
}

static void node_init(Onnx__NodeProto *n, const char *op, char **in, size_t n_in, char **out)
{
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	n->name = (char *)op;
	n->domain = (char *)"";
	n->input = in;
	n->n_input = n_in;
	n->output = out;
	n->n_output = 1;
}

/* MatMul + Add, then Sigmoid when sigmoid (output "probability"), else output "prediction". */
static fv_err write_linear(const char *input_name, size_t nf, const double *coef, double intercept,
			   bool sigmoid, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	static const char *const reserved[] = {"W",	"B",	       "logit_raw",
					       "logit", "probability", "prediction"};
	Onnx__ModelProto mp;
	Onnx__OperatorSetIdProto opset, *opsetp = &opset;
	Onnx__GraphProto g;
	Onnx__TensorProto W, B, *inits[2] = {&W, &B};
	Onnx__NodeProto nodes[3], *nodep[3] = {&nodes[0], &nodes[1], &nodes[2]};
	struct vinfo vin, vout;
	Onnx__ValueInfoProto *vinp = &vin.vi, *voutp = &vout.vi;
	char *mm_in[2] = {(char *)input_name, (char *)"W"}, *mm_out[1] = {(char *)"logit_raw"};
	char *add_in[2] = {(char *)"logit_raw", (char *)"B"},
	     *add_out[1] = {(char *)(sigmoid ? "logit" : "prediction")};
	char *sig_in[1] = {(char *)"logit"}, *sig_out[1] = {(char *)"probability"};
	int64_t wdims[2] = {(int64_t)nf, 1}, bdims[1] = {1};
	float *w = NULL, b = (float)intercept;
	uint8_t *out = NULL;
	size_t n;
	fv_err e = FV_OK;

	*buf = NULL;
	*len = 0;
	if (!input_name || !*input_name || strlen(input_name) > FV_MAX_NAME)
		return fv_diag_set(d, FV_EINVAL, "input name must be 1..%d characters",
				   FV_MAX_NAME);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(input_name, reserved[i]))
			return fv_diag_set(d, FV_EINVAL, "input name '%s' is used inside the model",
					   input_name);
	if (nf == 0 || nf > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL, "number of features %zu not in 1..%d", nf,
				   FV_MAX_FEATURES);
	w = fv_calloc(nf, sizeof(float));
	if (!w)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < nf; i++)
		w[i] = (float)coef[i];

	onnx__tensor_proto__init(&W);
	W.name = (char *)"W";
	W.n_dims = 2;
	W.dims = wdims;
	W.has_data_type = 1;
	W.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	W.has_raw_data = 1;
	W.raw_data.data = (uint8_t *)w;
	W.raw_data.len = nf * sizeof(float);
	onnx__tensor_proto__init(&B);
	B.name = (char *)"B";
	B.n_dims = 1;
	B.dims = bdims;
	B.has_data_type = 1;
	B.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	B.n_float_data = 1;
	B.float_data = &b;

	node_init(&nodes[0], "MatMul", mm_in, 2, mm_out);
	node_init(&nodes[1], "Add", add_in, 2, add_out);
	node_init(&nodes[2], "Sigmoid", sig_in, 1, sig_out);
	vinfo_init(&vin, input_name, (int64_t)nf);
	vinfo_init(&vout, sigmoid ? "probability" : "prediction", 1);

	onnx__graph_proto__init(&g);
	g.name = (char *)(sigmoid ? "fedval_logreg" : "fedval_linear");
	g.n_node = sigmoid ? 3 : 2;
	g.node = nodep;
	g.n_initializer = 2;
	g.initializer = inits;
	g.n_input = 1;
	g.input = &vinp;
	g.n_output = 1;
	g.output = &voutp;

	onnx__operator_set_id_proto__init(&opset);
	opset.domain = (char *)"";
	opset.has_version = 1;
	opset.version = 13;

	onnx__model_proto__init(&mp);
	mp.has_ir_version = 1;
	mp.ir_version = 8;
	mp.producer_name = (char *)"fedval";
	mp.producer_version = (char *)FV_VERSION_STRING;
	mp.n_opset_import = 1;
	mp.opset_import = &opsetp;
	mp.graph = &g;

	n = onnx__model_proto__get_packed_size(&mp);
	out = fv_alloc(n);
	if (!out) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (onnx__model_proto__pack(&mp, out) != n) {
		e = fv_diag_set(d, FV_EPROTO, "protobuf packing size mismatch");
		fv_free(out);
		goto out;
	}
	*buf = out;
	*len = n;
out:
	fv_free(w);
	return e;
}

fv_err fv_model_write_logreg(const char *input_name, size_t nf, const double *coef,
			     double intercept, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	return write_linear(input_name, nf, coef, intercept, true, buf, len, d);
}

fv_err fv_model_write_linear(const char *input_name, size_t nf, const double *coef,
			     double intercept, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	return write_linear(input_name, nf, coef, intercept, false, buf, len, d);
}
