/* ONNX loading: unpack under a memory cap, check everything the interpreter relies on, and
 * copy the graph into an immutable struct fv_model (the protobuf is released before return). */
#include "model/model_int.h"

#include <string.h>

/* ---- capped protobuf-c allocator ---- */

/* Each block carries its size so frees return budget; max_align_t keeps payloads aligned. */
union blockhdr {
	size_t size;
	max_align_t align;
};

static void *capped_alloc(void *data, size_t size)
{
	struct fv_pb_cap *c = data;
	size_t total;
	union blockhdr *h;

	if (fv_add_overflow(size, sizeof(*h), &total) || c->used + total > c->cap) {
		c->hit = true;
		return NULL;
	}
	h = fv_alloc(total);
	if (!h) {
		c->oom = true;
		return NULL;
	}
	h->size = total;
	c->used += total;
	return h + 1;
}

static void capped_free(void *data, void *ptr)
{
	struct fv_pb_cap *c = data;
	union blockhdr *h;

	if (!ptr)
		return;
	h = (union blockhdr *)ptr - 1;
	c->used -= h->size;
	fv_free(h);
}

fv_err fv_model_unpack(const void *buf, size_t len, struct fv_pb_cap *c, Onnx__ModelProto **mp,
		       struct fv_diag *d)
{
	memset(c, 0, sizeof(*c));
	c->a.alloc = capped_alloc;
	c->a.free = capped_free;
	c->a.allocator_data = c;
	*mp = NULL;
	if (!buf && len)
		return fv_diag_set(d, FV_EINVAL, "no model bytes");
	if (len > FV_MAX_MODEL_BYTES)
		return fv_diag_set(d, FV_ELIMIT, "model is %zu bytes (limit %u)", len,
				   FV_MAX_MODEL_BYTES);
	c->cap = len * FV_MODEL_UNPACK_FACTOR + FV_MODEL_UNPACK_EXTRA;
	*mp = onnx__model_proto__unpack(&c->a, len, buf);
	if (*mp)
		return FV_OK;
	if (c->oom)
		return fv_diag_set(d, FV_ENOMEM, "out of memory unpacking the model");
	if (c->hit)
		return fv_diag_set(d, FV_ELIMIT,
				   "ONNX model needs more than %zu bytes of memory to unpack",
				   c->cap);
	return fv_diag_set(d, FV_EPROTO, "not a valid ONNX ModelProto (%zu bytes)", len);
}

void fv_model_unpacked_free(Onnx__ModelProto *mp, struct fv_pb_cap *c)
{
	if (mp)
		onnx__model_proto__free_unpacked(mp, &c->a);
}

/* ---- names ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

int32_t fv_model_find_value(const struct fv_model *m, const char *name)
{
	size_t mask = m->hcap - 1;
	for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
		int32_t v = m->htab[i];
		if (v < 0)
			return -1;
		if (strcmp(m->values[v].name, name) == 0)
			return v;
	}
}

/* Add a value named name; FV_EEXIST-like refusal when the name is taken (SSA). */
static fv_err add_value(struct fv_model *m, const char *name, enum fv_value_kind kind, int32_t *idx,
			struct fv_diag *d)
{
	size_t mask = m->hcap - 1, i;
	struct fv_value *v;

	if (!name || !*name)
		return fv_diag_set(d, FV_EINVAL, "a graph value has an empty name");
	if (m->n_values >= m->cap_values)
		return fv_diag_set(d, FV_EINVAL, "more values than declared");
	for (i = hash_str(name) & mask; m->htab[i] >= 0; i = (i + 1) & mask)
		if (strcmp(m->values[m->htab[i]].name, name) == 0)
			return fv_diag_set(d, FV_EINVAL, "value '%s' is defined twice", name);
	v = &m->values[m->n_values];
	v->name = fv_strdup(name);
	if (!v->name)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	v->kind = kind;
	m->htab[i] = (int32_t)m->n_values;
	*idx = (int32_t)m->n_values++;
	return FV_OK;
}

/* ---- operator table ---- */

static bool domain_default(const char *domain)
{
	return !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
}

static bool domain_ml(const char *domain)
{
	return domain && strcmp(domain, "ai.onnx.ml") == 0;
}

static const struct {
	const struct fv_op *ops;
	const size_t *n;
} tables[] = {{fv_ops_math, &fv_ops_math_n},
	      {fv_ops_shape, &fv_ops_shape_n},
	      {fv_ops_nn, &fv_ops_nn_n},
	      {fv_ops_ml, &fv_ops_ml_n},
	      {fv_ops_tree, &fv_ops_tree_n}};

bool fv_model_op_at(size_t i, const char **domain, const char **op_type)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		if (i < *tables[t].n) {
			*domain = tables[t].ops[i].domain;
			*op_type = tables[t].ops[i].name;
			return true;
		}
		i -= *tables[t].n;
	}
	return false;
}

const struct fv_op *fv_op_lookup(const char *domain, const char *op_type)
{
	const char *dom;

	if (!op_type)
		return NULL;
	if (domain_default(domain))
		dom = "";
	else if (domain_ml(domain))
		dom = "ai.onnx.ml";
	else
		return NULL;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t i = 0; i < *tables[t].n; i++)
			if (strcmp(tables[t].ops[i].domain, dom) == 0 &&
			    strcmp(tables[t].ops[i].name, op_type) == 0)
				return &tables[t].ops[i];
	return NULL;
}

bool fv_model_op_supported(const char *domain, const char *op_type)
{
	return fv_op_lookup(domain, op_type) != NULL;
}

bool fv_model_op_opsets(const char *domain, const char *op_type, int *lo, int *hi)
{
	const struct fv_op *op = fv_op_lookup(domain, op_type);
	bool ml = domain_ml(domain);
	int min = ml ? FV_OPSET_ML_MIN : FV_OPSET_MIN;

	if (!op)
		return false;
	*lo = op->min_opset > min ? op->min_opset : min;
	*hi = ml ? FV_OPSET_ML_MAX : FV_OPSET_MAX;
	return true;
}

/* ---- attributes ---- */

const struct fv_attr *fv_attr_get(const struct fv_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_attr; i++)
		if (strcmp(n->attr[i].name, name) == 0)
			return &n->attr[i];
	return NULL;
}

int64_t fv_attr_int(const struct fv_node *n, const char *name, int64_t def)
{
	const struct fv_attr *a = fv_attr_get(n, name);
	return a && a->type == FV_ATTR_INT ? a->i : def;
}

float fv_attr_float(const struct fv_node *n, const char *name, float def)
{
	const struct fv_attr *a = fv_attr_get(n, name);
	return a && a->type == FV_ATTR_FLOAT ? a->f : def;
}

const char *fv_attr_str(const struct fv_node *n, const char *name, const char *def)
{
	const struct fv_attr *a = fv_attr_get(n, name);
	return a && a->type == FV_ATTR_STRING ? a->s : def;
}

static char type_letter(enum fv_attr_type t)
{
	static const char letters[] = "?fist?FIS";
	return (unsigned)t < sizeof(letters) - 1 ? letters[t] : '?';
}

/* Whether "name:T" occurs in the op's space-separated spec. */
static bool attr_allowed(const char *spec, const char *name, char letter)
{
	size_t nl = strlen(name);
	const char *p = spec;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == nl + 2 && memcmp(p, name, nl) == 0 && p[nl] == ':' &&
		    p[nl + 1] == letter)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static char *dup_bytes(const ProtobufCBinaryData *b)
{
	char *s;
	if (b->len && memchr(b->data, '\0', b->len)) /* an empty field may have no data */
		return NULL;
	s = fv_alloc(b->len + 1);
	if (s) {
		if (b->len)
			memcpy(s, b->data, b->len);
		s[b->len] = '\0';
	}
	return s;
}

static void attr_fini(struct fv_attr *a)
{
	fv_free(a->name);
	fv_free(a->s);
	fv_free(a->floats);
	fv_free(a->ints);
	if (a->strings)
		for (size_t i = 0; i < a->n; i++)
			fv_free(a->strings[i]);
	fv_free(a->strings);
	fv_tensor_fini(&a->t);
}

static fv_err copy_attr(const Onnx__AttributeProto *ap, struct fv_attr *a, struct fv_diag *d)
{
	const char *name = ap->name ? ap->name : "";
	fv_err e = FV_OK;

	memset(a, 0, sizeof(*a));
	if (!*name)
		return fv_diag_set(d, FV_EINVAL, "attribute without a name");
	if (ap->ref_attr_name && *ap->ref_attr_name)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "attribute '%s' refers to a function attribute", name);
	if (!ap->has_type)
		return fv_diag_set(d, FV_EUNSUPPORTED, "attribute '%s' has no type", name);
	a->name = fv_strdup(name);
	if (!a->name)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	a->type = (enum fv_attr_type)ap->type;
	switch (ap->type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		a->f = ap->f;
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		a->i = ap->i;
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
		a->s = dup_bytes(&ap->s);
		if (!a->s)
			e = fv_diag_set(
			    d, FV_EUNSUPPORTED,
			    "attribute '%s': string with an embedded NUL (or out of memory)", name);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
		if (!ap->t)
			e = fv_diag_set(d, FV_EINVAL, "attribute '%s' has no tensor", name);
		else
			e = fv_tensor_from_proto(ap->t, &a->t, d);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
		a->n = ap->n_floats;
		a->floats = fv_calloc(a->n ? a->n : 1, sizeof(float));
		if (!a->floats)
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		else if (a->n)
			memcpy(a->floats, ap->floats, a->n * sizeof(float));
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		a->n = ap->n_ints;
		a->ints = fv_calloc(a->n ? a->n : 1, sizeof(int64_t));
		if (!a->ints)
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		else if (a->n)
			memcpy(a->ints, ap->ints, a->n * sizeof(int64_t));
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
		a->strings = fv_calloc(ap->n_strings ? ap->n_strings : 1, sizeof(char *));
		if (!a->strings) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			break;
		}
		for (; a->n < ap->n_strings; a->n++) {
			a->strings[a->n] = dup_bytes(&ap->strings[a->n]);
			if (!a->strings[a->n]) {
				e = fv_diag_set(
				    d, FV_EUNSUPPORTED,
				    "attribute '%s': string with an embedded NUL (or out "
				    "of memory)",
				    name);
				break;
			}
		}
		break;
	default:
		e = fv_diag_set(d, FV_EUNSUPPORTED,
				"attribute '%s' has unsupported type %d (graphs, sparse tensors "
				"and type protos are not interpreted)",
				name, (int)ap->type);
	}
	return e;
}

/* ---- declared types ---- */

static fv_err parse_decl(const Onnx__ValueInfoProto *vi, struct fv_decl *decl, bool required,
			 struct fv_diag *d)
{
	const char *name = vi->name ? vi->name : "";
	const Onnx__TypeProto__Tensor *tt;
	size_t count = 1;

	memset(decl, 0, sizeof(*decl));
	if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !vi->type->tensor_type) {
		if (required)
			return fv_diag_set(d, FV_EUNSUPPORTED, "graph input '%s' is not a tensor",
					   name);
		return FV_OK;
	}
	tt = vi->type->tensor_type;
	if (!tt->has_elem_type || fv_dtype_size((enum fv_dtype)tt->elem_type) == 0) {
		if (required)
			return fv_diag_set(
			    d, FV_EUNSUPPORTED,
			    "graph input '%s' has unsupported element type %d "
			    "(supported: float, double, float16, bfloat16, bool, integers)",
			    name, tt->has_elem_type ? (int)tt->elem_type : 0);
		return FV_OK;
	}
	decl->is_tensor = true;
	decl->dtype = (enum fv_dtype)tt->elem_type;
	if (!tt->shape)
		return FV_OK;
	if (tt->shape->n_dim > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "'%s' declares rank %zu (limit %d)", name,
				   tt->shape->n_dim, FV_MAX_TENSOR_RANK);
	decl->has_shape = true;
	decl->rank = tt->shape->n_dim;
	for (size_t i = 0; i < decl->rank; i++) {
		const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[i];
		decl->dims[i] = -1;
		if (dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			continue;
		if (dim->dim_value < 0 || (uint64_t)dim->dim_value > FV_MAX_TENSOR_ELEMS ||
		    fv_mul_overflow(count, (size_t)dim->dim_value, &count) ||
		    count > FV_MAX_TENSOR_ELEMS)
			return fv_diag_set(
			    d, FV_ELIMIT,
			    "'%s' declares dimension %zu = %lld: negative or over the "
			    "limit of %u elements",
			    name, i, (long long)dim->dim_value, FV_MAX_TENSOR_ELEMS);
		decl->dims[i] = dim->dim_value;
	}
	return FV_OK;
}

/* ---- nodes ---- */

static fv_err load_node(struct fv_model *m, const Onnx__NodeProto *np, size_t idx,
			int64_t opset_default, int64_t opset_ml, struct fv_diag *d)
{
	struct fv_node *n = &m->nodes[idx];
	const char *op_type = np->op_type ? np->op_type : "";
	const char *domain = np->domain ? np->domain : "";
	const char *nname = np->name ? np->name : "";
	const struct fv_op *op;
	fv_err e;

	n->name = fv_strdup(nname);
	if (!n->name)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (!domain_default(domain) && !domain_ml(domain))
		return fv_diag_set(
		    d, FV_EUNSUPPORTED,
		    "node %zu '%s': operator %s is in unknown domain '%s' (supported: "
		    "ai.onnx, ai.onnx.ml)",
		    idx, nname, op_type, domain);
	n->opset = domain_ml(domain) ? opset_ml : opset_default;
	if (n->opset < 0)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "node %zu '%s': operator %s uses domain '%s' that the model does "
		    "not import",
		    idx, nname, op_type, domain);
	op = fv_op_lookup(domain, op_type);
	if (!op)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "node %zu '%s': unsupported operator %s (domain '%s')", idx,
				   nname, op_type, domain_default(domain) ? "ai.onnx" : domain);
	n->op = op;
	if (n->opset < op->min_opset)
		return fv_diag_set(
		    d, FV_EUNSUPPORTED,
		    "node %zu '%s': operator %s is implemented from opset %d, the model "
		    "imports opset %lld",
		    idx, nname, op_type, op->min_opset, (long long)n->opset);
	if (np->n_input < op->min_in || np->n_input > op->max_in || np->n_output < op->min_out ||
	    np->n_output > op->max_out)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "node %zu '%s': %s takes %u..%u inputs and %u..%u outputs, has %zu "
		    "and %zu",
		    idx, nname, op_type, op->min_in, op->max_in, op->min_out, op->max_out,
		    np->n_input, np->n_output);

	n->in = fv_calloc(np->n_input ? np->n_input : 1, sizeof(int32_t));
	n->out = fv_calloc(np->n_output ? np->n_output : 1, sizeof(int32_t));
	n->attr = fv_calloc(np->n_attribute ? np->n_attribute : 1, sizeof(struct fv_attr));
	if (!n->in || !n->out || !n->attr)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");

	for (; n->n_attr < np->n_attribute; n->n_attr++) {
		struct fv_attr *a = &n->attr[n->n_attr];
		e = copy_attr(np->attribute[n->n_attr], a, d);
		if (e != FV_OK) {
			n->n_attr++; /* so that free releases the partial copy */
			goto fail;
		}
		if (!attr_allowed(op->attrs, a->name, type_letter(a->type))) {
			n->n_attr++;
			e = fv_diag_set(d, FV_EUNSUPPORTED,
					"unsupported attribute '%s' (type %d) of %s", a->name,
					(int)a->type, op_type);
			goto fail;
		}
		for (size_t j = 0; j < n->n_attr; j++)
			if (strcmp(n->attr[j].name, a->name) == 0) {
				n->n_attr++;
				e = fv_diag_set(d, FV_EINVAL, "attribute '%s' given twice",
						a->name);
				goto fail;
			}
	}

	/* Inputs must already be defined: this is what makes node order a valid plan. */
	for (; n->n_in < np->n_input; n->n_in++) {
		const char *in = np->input[n->n_in];
		if (!in || !*in) {
			if (n->n_in < op->min_in) {
				e = fv_diag_set(d, FV_EINVAL, "required input %zu of %s is empty",
						n->n_in, op_type);
				goto fail;
			}
			n->in[n->n_in] = -1;
			continue;
		}
		n->in[n->n_in] = fv_model_find_value(m, in);
		if (n->in[n->n_in] < 0) {
			e = fv_diag_set(
			    d, FV_EINVAL,
			    "input '%s' of %s is not defined before the node (graph not "
			    "topologically sorted, or a dangling input)",
			    in, op_type);
			goto fail;
		}
	}
	for (; n->n_out < np->n_output; n->n_out++) {
		const char *out = np->output[n->n_out];
		if (!out || !*out) {
			n->out[n->n_out] = -1;
			continue;
		}
		e = add_value(m, out, FV_VAL_NODE, &n->out[n->n_out], d);
		if (e != FV_OK)
			goto fail;
		m->values[n->out[n->n_out]].producer = idx;
	}
	if (op->check && (e = op->check(n, d)) != FV_OK)
		goto fail;
	return FV_OK;
fail:
	fv_diag_prefix(d, "node %zu '%s' (%s): ", idx, nname, op_type);
	return e;
}

/* ---- the model ---- */

void fv_model_free(struct fv_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_values; i++) {
		fv_free(m->values[i].name);
		fv_tensor_fini(&m->values[i].init);
	}
	fv_free(m->values);
	if (m->nodes)
		for (size_t i = 0; i < m->n_nodes; i++) {
			struct fv_node *n = &m->nodes[i];
			fv_free(n->name);
			fv_free(n->in);
			fv_free(n->out);
			for (size_t j = 0; j < n->n_attr; j++)
				attr_fini(&n->attr[j]);
			fv_free(n->attr);
			if (n->priv_free)
				n->priv_free(n->priv);
		}
	fv_free(m->nodes);
	fv_free(m->inputs);
	fv_free(m->outputs);
	fv_free(m->htab);
	fv_free(m);
}

static fv_err opsets(const Onnx__ModelProto *mp, int64_t *def, int64_t *ml, struct fv_diag *d)
{
	*def = *ml = -1;
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
		int64_t v = o->has_version ? o->version : -1;
		if (domain_default(o->domain)) {
			if (*def >= 0)
				return fv_diag_set(d, FV_EINVAL, "opset ai.onnx imported twice");
			if (v < FV_OPSET_MIN || v > FV_OPSET_MAX)
				return fv_diag_set(d, FV_EUNSUPPORTED,
						   "opset ai.onnx %lld is outside the supported "
						   "range %d..%d",
						   (long long)v, FV_OPSET_MIN, FV_OPSET_MAX);
			*def = v;
		} else if (domain_ml(o->domain)) {
			if (*ml >= 0)
				return fv_diag_set(d, FV_EINVAL, "opset ai.onnx.ml imported twice");
			if (v < FV_OPSET_ML_MIN || v > FV_OPSET_ML_MAX)
				return fv_diag_set(d, FV_EUNSUPPORTED,
						   "opset ai.onnx.ml %lld is outside the supported "
						   "range %d..%d",
						   (long long)v, FV_OPSET_ML_MIN, FV_OPSET_ML_MAX);
			*ml = v;
		}
		/* Other imported domains only matter if a node uses them (refused there). */
	}
	return FV_OK;
}

static fv_err build(struct fv_model *m, const Onnx__ModelProto *mp, struct fv_diag *d)
{
	const Onnx__GraphProto *g = mp->graph;
	int64_t op_def, op_ml;
	size_t nv, hcap = 16;
	fv_err e;

	if (!mp->has_ir_version || mp->ir_version < 3 || mp->ir_version > 11)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "ONNX IR version %lld is not supported (3..11)",
				   mp->has_ir_version ? (long long)mp->ir_version : 0LL);
	if ((e = opsets(mp, &op_def, &op_ml, d)) != FV_OK)
		return e;
	if (!g)
		return fv_diag_set(d, FV_EINVAL, "model has no graph");
	if (g->n_node > FV_MAX_MODEL_NODES)
		return fv_diag_set(d, FV_ELIMIT, "graph has %zu nodes (limit %d)", g->n_node,
				   FV_MAX_MODEL_NODES);
	if (g->n_sparse_initializer)
		return fv_diag_set(d, FV_EUNSUPPORTED, "sparse initialisers are not supported");
	if (g->n_output == 0)
		return fv_diag_set(d, FV_EINVAL, "graph has no outputs");

	/* Upper bound of distinct values; each node output list is bounded by the message. */
	nv = g->n_initializer + g->n_input;
	for (size_t i = 0; i < g->n_node; i++)
		if (fv_add_overflow(nv, g->node[i]->n_output, &nv))
			return fv_diag_set(d, FV_ELIMIT, "too many values");
	if (nv > INT32_MAX / 4)
		return fv_diag_set(d, FV_ELIMIT, "too many values (%zu)", nv);
	while (hcap < 2 * nv)
		hcap *= 2;
	m->cap_values = nv;
	m->hcap = hcap;
	m->values = fv_calloc(nv ? nv : 1, sizeof(*m->values));
	m->htab = fv_alloc(hcap * sizeof(int32_t));
	m->nodes = fv_calloc(g->n_node ? g->n_node : 1, sizeof(*m->nodes));
	m->inputs = fv_calloc(g->n_input ? g->n_input : 1, sizeof(size_t));
	m->outputs = fv_calloc(g->n_output, sizeof(size_t));
	if (!m->values || !m->htab || !m->nodes || !m->inputs || !m->outputs)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	memset(m->htab, 0xff, hcap * sizeof(int32_t));

	for (size_t i = 0; i < g->n_initializer; i++) {
		int32_t v;
		if ((e = add_value(m, g->initializer[i]->name, FV_VAL_INIT, &v, d)) != FV_OK)
			return e;
		if ((e = fv_tensor_from_proto(g->initializer[i], &m->values[v].init, d)) != FV_OK)
			return e;
	}
	for (size_t i = 0; i < g->n_input; i++) {
		const Onnx__ValueInfoProto *vi = g->input[i];
		int32_t v;
		if (!vi->name || !*vi->name)
			return fv_diag_set(d, FV_EINVAL, "graph input %zu has no name", i);
		v = fv_model_find_value(m, vi->name);
		if (v >= 0 && m->values[v].kind == FV_VAL_INIT)
			continue; /* an initialiser listed as input (IR < 4): a constant to us */
		if ((e = add_value(m, vi->name, FV_VAL_INPUT, &v, d)) != FV_OK)
			return e;
		if ((e = parse_decl(vi, &m->values[v].decl, true, d)) != FV_OK)
			return e;
		m->inputs[m->n_inputs++] = (size_t)v;
	}
	for (size_t i = 0; i < g->n_node; i++) {
		m->n_nodes = i + 1; /* free what was built so far on error */
		if ((e = load_node(m, g->node[i], i, op_def, op_ml, d)) != FV_OK)
			return e;
	}
	for (size_t i = 0; i < g->n_output; i++) {
		const Onnx__ValueInfoProto *vi = g->output[i];
		int32_t v = vi->name ? fv_model_find_value(m, vi->name) : -1;
		if (v < 0)
			return fv_diag_set(d, FV_EINVAL, "graph output '%s' is never computed",
					   vi->name ? vi->name : "");
		m->outputs[m->n_outputs++] = (size_t)v;
		if (m->values[v].kind == FV_VAL_NODE &&
		    (e = parse_decl(vi, &m->values[v].decl, false, d)) != FV_OK)
			return e;
	}
	return FV_OK;
}

fv_err fv_model_load(const void *buf, size_t len, struct fv_model **out, struct fv_diag *d)
{
	struct fv_pb_cap c;
	Onnx__ModelProto *mp = NULL;
	struct fv_model *m = NULL;
	fv_err e;

	*out = NULL;
	if ((e = fv_model_unpack(buf, len, &c, &mp, d)) != FV_OK)
		goto out;
	m = fv_calloc(1, sizeof(*m));
	if (!m) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	e = build(m, mp, d);
	if (e != FV_OK)
		goto out;
	fv_fast_detect(m);
	*out = m;
	m = NULL;
out:
	fv_model_unpacked_free(mp, &c);
	fv_model_free(m);
	return e;
}

/* ---- accessors ---- */

size_t fv_model_n_inputs(const struct fv_model *m)
{
	return m->n_inputs;
}

size_t fv_model_n_outputs(const struct fv_model *m)
{
	return m->n_outputs;
}

const char *fv_model_input_name_at(const struct fv_model *m, size_t i)
{
	return i < m->n_inputs ? m->values[m->inputs[i]].name : NULL;
}

const char *fv_model_output_name_at(const struct fv_model *m, size_t i)
{
	return i < m->n_outputs ? m->values[m->outputs[i]].name : NULL;
}

fv_err fv_model_input_type(const struct fv_model *m, size_t i, enum fv_dtype *dtype,
			   bool *has_shape, size_t *rank, int64_t dims[FV_MAX_TENSOR_RANK])
{
	const struct fv_decl *dc;

	if (i >= m->n_inputs)
		return FV_ENOTFOUND;
	dc = &m->values[m->inputs[i]].decl;
	*dtype = dc->dtype;
	*has_shape = dc->has_shape;
	*rank = dc->rank;
	for (size_t k = 0; k < FV_MAX_TENSOR_RANK; k++)
		dims[k] = k < dc->rank ? dc->dims[k] : 0;
	return FV_OK;
}

size_t fv_model_n_features(const struct fv_model *m)
{
	const struct fv_decl *dc;
	size_t nf = 1;

	if (m->n_inputs != 1)
		return 0;
	dc = &m->values[m->inputs[0]].decl;
	if (dc->dtype != FV_DTYPE_FLOAT || !dc->has_shape || dc->rank < 2)
		return 0;
	for (size_t k = 1; k < dc->rank; k++) {
		if (dc->dims[k] <= 0 || dc->dims[k] > FV_MAX_FEATURES)
			return 0;
		nf *= (size_t)dc->dims[k];
		if (nf > FV_MAX_FEATURES)
			return 0;
	}
	return nf;
}

const char *fv_model_input_name(const struct fv_model *m)
{
	return m->n_inputs ? m->values[m->inputs[0]].name : NULL;
}
