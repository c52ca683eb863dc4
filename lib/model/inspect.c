/* Model inspection: what an ONNX file declares (inputs, outputs, operators and their opsets)
 * and whether the interpreter accepts it, without running it. */
#include "model/model_int.h"

#include <stdio.h>
#include <string.h>

static const char *elem_name(int32_t t)
{
	static const char *const names[] = {
	    "undefined", "float",  "uint8",	"int8",	      "uint16",	 "int16",
	    "int32",	 "int64",  "string",	"bool",	      "float16", "double",
	    "uint32",	 "uint64", "complex64", "complex128", "bfloat16"};
	return t >= 0 && (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* Append the ONNX spelling of tp ("tensor(float)", "seq(tensor(int64))", ...) to buf. */
static void type_str(const Onnx__TypeProto *tp, char *buf, size_t cap, int depth)
{
	size_t used = strlen(buf);
	char *p = buf + used;
	size_t left = cap - used;

	if (!tp || depth > 8) {
		snprintf(p, left, "?");
		return;
	}
	switch (tp->value_case) {
	case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
		snprintf(p, left, "tensor(%s)",
			 tp->tensor_type && tp->tensor_type->has_elem_type
			     ? elem_name(tp->tensor_type->elem_type)
			     : "?");
		break;
	case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
		snprintf(p, left, "sparse_tensor(%s)",
			 tp->sparse_tensor_type && tp->sparse_tensor_type->has_elem_type
			     ? elem_name(tp->sparse_tensor_type->elem_type)
			     : "?");
		break;
	case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
		snprintf(p, left, "seq(");
		type_str(tp->sequence_type ? tp->sequence_type->elem_type : NULL, buf, cap,
			 depth + 1);
		used = strlen(buf);
		snprintf(buf + used, cap - used, ")");
		break;
	case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
		snprintf(p, left, "optional(");
		type_str(tp->optional_type ? tp->optional_type->elem_type : NULL, buf, cap,
			 depth + 1);
		used = strlen(buf);
		snprintf(buf + used, cap - used, ")");
		break;
	case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
		snprintf(p, left, "map(%s,",
			 tp->map_type && tp->map_type->has_key_type
			     ? elem_name(tp->map_type->key_type)
			     : "?");
		type_str(tp->map_type ? tp->map_type->value_type : NULL, buf, cap, depth + 1);
		used = strlen(buf);
		snprintf(buf + used, cap - used, ")");
		break;
	default:
		snprintf(p, left, "?");
	}
}

static void io_fini(struct fv_model_io *io)
{
	fv_free(io->name);
	fv_free(io->type);
	if (io->dim_params)
		for (size_t i = 0; i < io->rank; i++)
			fv_free(io->dim_params[i]);
	fv_free(io->dim_params);
	fv_free(io->dims);
}

void fv_model_info_free(struct fv_model_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->n_inputs; i++)
		io_fini(&info->inputs[i]);
	for (size_t i = 0; i < info->n_outputs; i++)
		io_fini(&info->outputs[i]);
	for (size_t i = 0; i < info->n_ops; i++) {
		fv_free(info->ops[i].domain);
		fv_free(info->ops[i].op_type);
	}
	fv_free(info->inputs);
	fv_free(info->outputs);
	fv_free(info->ops);
	fv_free(info->producer);
	fv_free(info);
}

static fv_err copy_io(const Onnx__ValueInfoProto *vi, struct fv_model_io *io, struct fv_diag *d)
{
	const Onnx__TensorShapeProto *sh = NULL;
	char buf[256] = "";

	memset(io, 0, sizeof(*io));
	type_str(vi->type, buf, sizeof(buf), 0);
	io->name = fv_strdup(vi->name ? vi->name : "");
	io->type = fv_strdup(buf);
	if (!io->name || !io->type)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
	    vi->type->tensor_type)
		sh = vi->type->tensor_type->shape;
	if (!sh)
		return FV_OK;
	if (sh->n_dim > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "'%s' declares rank %zu (limit %d)", io->name,
				   sh->n_dim, FV_MAX_TENSOR_RANK);
	io->has_shape = true;
	io->rank = sh->n_dim;
	io->dims = fv_calloc(io->rank ? io->rank : 1, sizeof(int64_t));
	io->dim_params = fv_calloc(io->rank ? io->rank : 1, sizeof(char *));
	if (!io->dims || !io->dim_params)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < io->rank; i++) {
		const Onnx__TensorShapeProto__Dimension *dim = sh->dim[i];
		io->dims[i] = -1;
		if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			io->dims[i] = dim->dim_value;
		else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
			 dim->dim_param && !(io->dim_params[i] = fv_strdup(dim->dim_param)))
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	return FV_OK;
}

static int64_t imported(const Onnx__ModelProto *mp, const char *domain)
{
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		const char *od = mp->opset_import[i]->domain ? mp->opset_import[i]->domain : "";
		if (!strcmp(od, "ai.onnx"))
			od = "";
		if (!strcmp(od, domain))
			return mp->opset_import[i]->has_version ? mp->opset_import[i]->version : -1;
	}
	return -1;
}

static fv_err collect(const Onnx__ModelProto *mp, struct fv_model_info *info, struct fv_diag *d)
{
	const Onnx__GraphProto *g = mp->graph;
	char prod[300];
	fv_err e;

	info->ir_version = mp->has_ir_version ? mp->ir_version : 0;
	snprintf(prod, sizeof(prod), "%s%s%s", mp->producer_name ? mp->producer_name : "",
		 mp->producer_version && *mp->producer_version ? " " : "",
		 mp->producer_version ? mp->producer_version : "");
	if (!(info->producer = fv_strdup(prod)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (!g)
		return FV_OK;
	info->n_nodes = g->n_node;
	info->n_initializers = g->n_initializer;
	for (size_t i = 0; i < g->n_initializer; i++) {
		const Onnx__TensorProto *t = g->initializer[i];
		info->initializer_bytes += t->has_raw_data
					       ? t->raw_data.len
					       : t->n_float_data * 4 + t->n_int32_data * 4 +
						     t->n_int64_data * 8 + t->n_double_data * 8 +
						     t->n_uint64_data * 8;
	}
	info->inputs = fv_calloc(g->n_input ? g->n_input : 1, sizeof(*info->inputs));
	info->outputs = fv_calloc(g->n_output ? g->n_output : 1, sizeof(*info->outputs));
	info->ops = fv_calloc(g->n_node ? g->n_node : 1, sizeof(*info->ops));
	if (!info->inputs || !info->outputs || !info->ops)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < g->n_input; i++) {
		bool is_init = false;
		for (size_t k = 0; k < g->n_initializer && !is_init; k++)
			is_init = g->input[i]->name && g->initializer[k]->name &&
				  !strcmp(g->input[i]->name, g->initializer[k]->name);
		if (is_init)
			continue;
		e = copy_io(g->input[i], &info->inputs[info->n_inputs++], d);
		if (e != FV_OK)
			return e;
	}
	for (size_t i = 0; i < g->n_output; i++)
		if ((e = copy_io(g->output[i], &info->outputs[info->n_outputs++], d)) != FV_OK)
			return e;
	for (size_t i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *np = g->node[i];
		const char *dom = np->domain && strcmp(np->domain, "ai.onnx") ? np->domain : "";
		const char *opt = np->op_type ? np->op_type : "";
		struct fv_model_opinfo *o = NULL;
		int lo, hi;
		for (size_t k = 0; k < info->n_ops && !o; k++)
			if (!strcmp(info->ops[k].domain, dom) && !strcmp(info->ops[k].op_type, opt))
				o = &info->ops[k];
		if (!o) {
			o = &info->ops[info->n_ops++];
			o->domain = fv_strdup(dom);
			o->op_type = fv_strdup(opt);
			if (!o->domain || !o->op_type)
				return fv_diag_set(d, FV_ENOMEM, "out of memory");
			o->opset = imported(mp, dom);
			o->supported = fv_model_op_opsets(dom, opt, &lo, &hi) && o->opset >= lo &&
				       o->opset <= hi;
		}
		o->count++;
	}
	return FV_OK;
}

fv_err fv_model_inspect(const void *buf, size_t len, struct fv_model_info **out, struct fv_diag *d)
{
	struct fv_pb_cap cap;
	Onnx__ModelProto *mp = NULL;
	struct fv_model_info *info = NULL;
	struct fv_model *m = NULL;
	struct fv_diag ld = {{0}};
	fv_err e;

	*out = NULL;
	if ((e = fv_model_unpack(buf, len, &cap, &mp, d)) != FV_OK)
		goto out;
	if (!(info = fv_calloc(1, sizeof(*info)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if ((e = collect(mp, info, d)) != FV_OK)
		goto out;
	/* Release the protobuf before the loader unpacks its own copy: one at a time. */
	fv_model_unpacked_free(mp, &cap);
	mp = NULL;
	if (fv_model_load(buf, len, &m, &ld) == FV_OK)
		info->runnable = true;
	else
		fv_strlcpy(info->refusal, ld.msg, sizeof(info->refusal));
	*out = info;
	info = NULL;
out:
	fv_model_free(m);
	fv_model_unpacked_free(mp, &cap);
	fv_model_info_free(info);
	return e;
}
