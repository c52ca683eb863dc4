/* Conformance runner: the ONNX project's backend node tests (an external suite) run through
 * fv_model_load + fv_model_run and compared at the tolerances of onnx.backend.test.
 *
 * A case directory holds model.onnx and test_data_set_N/{input,output}_K.pb. Each .pb file is
 * the message that the graph's declared type calls for: TensorProto for a tensor, while
 * sequence, optional and map values are SequenceProto, OptionalProto and MapProto (onnx-data
 * .proto, not shipped by Debian). The interpreter computes on tensors only and its loader
 * refuses non-tensor graph inputs, so those files are never decoded as tensors: such a case is
 * refused before its data is read, and a non-tensor output is refused, never compared.
 *
 * Results are counted per operator: a single-node model tests its node's operator (Constant
 * nodes feeding it are ignored); an "_expanded" case runs the function body of the operator
 * its sibling case tests, and counts for that operator. */
#include "model/model_int.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Graph inputs/outputs a case may have (the suite's largest has 9). */
#define CONF_MAX_IO 32
/* Test data sets per case (the suite has at most 3). */
#define CONF_MAX_SETS 64
/* A .pb data file may not exceed this. */
#define CONF_MAX_PB_BYTES (256u * 1024 * 1024)

#define EXPANDED_SUFFIX "_expanded"

static void set_msg(struct fv_conformance_case *c, enum fv_case_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(struct fv_conformance_case *c, enum fv_case_result r, const char *fmt, ...)
{
	va_list ap;

	c->result = r;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

/* What the graph declares for a value: the .pb message to expect. */
static const char *value_kind(const Onnx__ValueInfoProto *vi)
{
	if (!vi->type)
		return "untyped value";
	switch (vi->type->value_case) {
	case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
		return NULL;
	case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
		return "sequence (SequenceProto)";
	case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
		return "optional (OptionalProto)";
	case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
		return "map (MapProto)";
	case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
		return "sparse tensor";
	default:
		return "value of an unknown type";
	}
}

/* Declared element type of a tensor value, 0 when unknown. */
static int32_t declared_elem(const Onnx__ValueInfoProto *vi)
{
	if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !vi->type->tensor_type || !vi->type->tensor_type->has_elem_type)
		return 0;
	return vi->type->tensor_type->elem_type;
}

static const Onnx__ValueInfoProto *graph_input(const Onnx__GraphProto *g, const char *name)
{
	for (size_t i = 0; i < g->n_input; i++)
		if (g->input[i]->name && !strcmp(g->input[i]->name, name))
			return g->input[i];
	return NULL;
}

/* The suite stores bfloat16 data as the uint16 arrays numpy made of it (ONNX 1.12); where the
 * graph declares bfloat16, those are the 16-bit patterns. */
static void relabel(struct fv_tensor *t, int32_t declared)
{
	if (declared == FV_DTYPE_BFLOAT16 && t->dtype == FV_DTYPE_UINT16)
		t->dtype = FV_DTYPE_BFLOAT16;
}

static fv_err read_tensor(const char *path, struct fv_tensor *t, struct fv_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	Onnx__TensorProto *tp;
	fv_err e;

	memset(t, 0, sizeof(*t));
	if ((e = fv_file_read(path, CONF_MAX_PB_BYTES, &buf, &len, d)) != FV_OK)
		return e;
	tp = onnx__tensor_proto__unpack(NULL, len, buf);
	fv_free(buf);
	if (!tp)
		return fv_diag_set(d, FV_EPROTO, "%s: not a TensorProto", path);
	e = fv_tensor_from_proto(tp, t, d);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return e;
}

/* |got - want| <= atol + rtol * |want| for floating types, NaN matching NaN; integers and
 * bools exactly. Element types and shapes must be equal (as onnx.backend.test asserts). */
static bool tensors_close(const struct fv_tensor *got, const struct fv_tensor *want, double rtol,
			  double atol, char *msg, size_t cap)
{
	bool exact = !fv_dtype_is_float(want->dtype);
	char b1[160], b2[160];

	if (got->dtype != want->dtype || got->rank != want->rank || got->count != want->count ||
	    memcmp(got->dims, want->dims, got->rank * sizeof(got->dims[0])) != 0) {
		snprintf(msg, cap, "got %s %s, want %s %s", fv_dtype_name(got->dtype),
			 fv_shape_str(got, b1, sizeof(b1)), fv_dtype_name(want->dtype),
			 fv_shape_str(want, b2, sizeof(b2)));
		return false;
	}
	for (size_t i = 0; i < got->count; i++) {
		double g, w;
		if (exact) {
			if (fv_tensor_geti(got, i) == fv_tensor_geti(want, i))
				continue;
			snprintf(msg, cap, "element %zu: got %lld want %lld", i,
				 (long long)fv_tensor_geti(got, i),
				 (long long)fv_tensor_geti(want, i));
			return false;
		}
		g = fv_tensor_getd(got, i);
		w = fv_tensor_getd(want, i);
		if ((isnan(g) && isnan(w)) || g == w)
			continue;
		if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
			snprintf(msg, cap, "element %zu: got %.9g want %.9g", i, g, w);
			return false;
		}
	}
	return true;
}

/* Whether t has the element type and shape the model declares for its input i. */
static bool matches_declared(const struct fv_model *m, size_t i, const struct fv_tensor *t,
			     char *why, size_t cap)
{
	enum fv_dtype dt;
	bool has_shape;
	size_t rank;
	int64_t dims[FV_MAX_TENSOR_RANK];
	char b[160];

	if (fv_model_input_type(m, i, &dt, &has_shape, &rank, dims) != FV_OK)
		return true;
	if (dt != t->dtype) {
		snprintf(why, cap, "data is %s, the model declares %s", fv_dtype_name(t->dtype),
			 fv_dtype_name(dt));
		return false;
	}
	if (!has_shape)
		return true;
	for (size_t k = 0; k < rank && rank == t->rank; k++)
		if (dims[k] >= 0 && dims[k] != t->dims[k])
			rank = SIZE_MAX;
	if (rank != t->rank) {
		snprintf(why, cap, "data has shape %s, the model declares another",
			 fv_shape_str(t, b, sizeof(b)));
		return false;
	}
	return true;
}

/* Count the test_data_set_N directories (N from 0 without gaps). */
static size_t count_sets(const char *dir)
{
	char path[1200];
	struct stat st;
	size_t n = 0;

	for (; n < CONF_MAX_SETS; n++) {
		snprintf(path, sizeof(path), "%s/test_data_set_%zu", dir, n);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			break;
	}
	return n;
}

/* Run data set `set` of a loaded model. */
static void run_set(const char *dir, size_t set, const struct fv_model *m,
		    const Onnx__GraphProto *g, double rtol, double atol,
		    struct fv_conformance_case *c)
{
	size_t n_in = fv_model_n_inputs(m), n_out = fv_model_n_outputs(m);
	struct fv_tensor in[CONF_MAX_IO], out[CONF_MAX_IO], want = {0};
	const char *in_names[CONF_MAX_IO], *out_names[CONF_MAX_IO];
	struct fv_diag d = {{0}};
	char path[1200], why[300];
	fv_err e;

	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	if (n_in > CONF_MAX_IO || n_out > CONF_MAX_IO) {
		set_msg(c, FV_CASE_FAIL, "more than %d inputs or outputs", CONF_MAX_IO);
		return;
	}
	for (size_t i = 0; i < n_in; i++) {
		snprintf(path, sizeof(path), "%s/test_data_set_%zu/input_%zu.pb", dir, set, i);
		if ((e = read_tensor(path, &in[i], &d)) != FV_OK) {
			set_msg(c, e == FV_EUNSUPPORTED ? FV_CASE_REFUSED : FV_CASE_FAIL,
				"set %zu input %zu: %s", set, i, d.msg);
			goto out;
		}
		in_names[i] = fv_model_input_name_at(m, i);
		relabel(&in[i], declared_elem(graph_input(g, in_names[i])));
		if (!matches_declared(m, i, &in[i], why, sizeof(why))) {
			set_msg(c, FV_CASE_REFUSED,
				"set %zu input %zu: %s (the suite's data contradicts its model; "
				"fedval enforces declared shapes)",
				set, i, why);
			goto out;
		}
	}
	for (size_t j = 0; j < n_out; j++) {
		const char *kind = j < g->n_output ? value_kind(g->output[j]) : NULL;
		if (kind) {
			set_msg(c, FV_CASE_REFUSED, "output %zu is a %s; only tensors are compared",
				j, kind);
			goto out;
		}
		out_names[j] = fv_model_output_name_at(m, j);
	}
	e = fv_model_run(m, n_in, in_names, in, n_out, out_names, out, &d);
	if (e != FV_OK) {
		set_msg(c, e == FV_EUNSUPPORTED ? FV_CASE_REFUSED : FV_CASE_FAIL, "set %zu run: %s",
			set, d.msg);
		goto out;
	}
	for (size_t j = 0; j < n_out; j++) {
		snprintf(path, sizeof(path), "%s/test_data_set_%zu/output_%zu.pb", dir, set, j);
		if ((e = read_tensor(path, &want, &d)) != FV_OK) {
			set_msg(c, e == FV_EUNSUPPORTED ? FV_CASE_REFUSED : FV_CASE_FAIL,
				"set %zu output %zu: %s", set, j, d.msg);
			goto out;
		}
		relabel(&want, declared_elem(g->output[j]));
		if (!tensors_close(&out[j], &want, rtol, atol, why, sizeof(why))) {
			set_msg(c, FV_CASE_FAIL, "set %zu output %zu '%s': %s", set, j,
				out_names[j], why);
			goto out;
		}
		fv_tensor_fini(&want);
	}
out:
	fv_tensor_fini(&want);
	for (size_t i = 0; i < CONF_MAX_IO; i++) {
		fv_tensor_fini(&in[i]);
		fv_tensor_fini(&out[i]);
	}
}

/* The operator a case tests: its last node that is not a Constant (or its only node). */
static void case_operator(const Onnx__ModelProto *mp, struct fv_conformance_case *c)
{
	const Onnx__GraphProto *g = mp->graph;
	const Onnx__NodeProto *np = NULL;
	const char *dom;

	c->op[0] = c->domain[0] = '\0';
	c->opset = -1;
	if (!g || !g->n_node)
		return;
	for (size_t i = g->n_node; i-- > 0 && !np;)
		if (g->n_node == 1 || !g->node[i]->op_type ||
		    strcmp(g->node[i]->op_type, "Constant") != 0)
			np = g->node[i];
	dom = np->domain && strcmp(np->domain, "ai.onnx") ? np->domain : "";
	fv_strlcpy(c->op, np->op_type ? np->op_type : "", sizeof(c->op));
	fv_strlcpy(c->domain, dom, sizeof(c->domain));
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		const char *od = mp->opset_import[i]->domain ? mp->opset_import[i]->domain : "";
		if (!strcmp(od, "ai.onnx"))
			od = "";
		if (!strcmp(od, dom))
			c->opset = mp->opset_import[i]->version;
	}
}

/* Run a case: load, then every data set. With identify, also record the operator under test
 * and its opset in c. */
static void run_case(const char *dir, double rtol, double atol, struct fv_conformance_case *c,
		     bool identify)
{
	char path[1200];
	uint8_t *buf = NULL;
	size_t len = 0, sets;
	struct fv_pb_cap cap;
	Onnx__ModelProto *mp = NULL;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	fv_err e;

	c->result = FV_CASE_PASS;
	c->msg[0] = '\0';
	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	if ((e = fv_file_read(path, FV_MAX_MODEL_BYTES, &buf, &len, &d)) != FV_OK) {
		set_msg(c, FV_CASE_FAIL, "%s", d.msg);
		goto out;
	}
	if ((e = fv_model_unpack(buf, len, &cap, &mp, &d)) != FV_OK) {
		set_msg(c, FV_CASE_FAIL, "model.onnx: %s", d.msg);
		goto out;
	}
	if (identify)
		case_operator(mp, c);
	if (!mp->graph) {
		set_msg(c, FV_CASE_FAIL, "model.onnx has no graph");
		goto out;
	}
	if ((e = fv_model_load(buf, len, &m, &d)) != FV_OK) {
		set_msg(c, e == FV_EUNSUPPORTED ? FV_CASE_REFUSED : FV_CASE_FAIL, "load: %s",
			d.msg);
		goto out;
	}
	sets = count_sets(dir);
	if (!sets) {
		set_msg(c, FV_CASE_FAIL, "no test_data_set_0");
		goto out;
	}
	for (size_t s = 0; s < sets && c->result == FV_CASE_PASS; s++)
		run_set(dir, s, m, mp->graph, rtol, atol, c);
out:
	fv_model_free(m);
	fv_model_unpacked_free(mp, &cap);
	fv_free(buf);
}

void fv_model_run_case(const char *case_dir, double rtol, double atol,
		       struct fv_conformance_case *c)
{
	run_case(case_dir, rtol, atol, c, false);
}

/* ---- the suite ---- */

void fv_conformance_free(struct fv_conformance *c)
{
	if (!c)
		return;
	fv_free(c->cases);
	fv_free(c->ops);
	fv_free(c);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int case_by_name(const void *a, const void *b)
{
	return strcmp(((const struct fv_conformance_case *)a)->name,
		      ((const struct fv_conformance_case *)b)->name);
}

static int op_by_name(const void *a, const void *b)
{
	const struct fv_conformance_op *x = a, *y = b;
	int r = strcmp(x->domain, y->domain);
	return r ? r : strcmp(x->op, y->op);
}

/* Sorted test_* names of dir that hold a model.onnx. */
static fv_err list_cases(const char *dir, char ***names, size_t *n, struct fv_diag *d)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	char path[1200];
	struct stat st;
	fv_err e = FV_OK;

	*names = NULL;
	*n = 0;
	if (!dp)
		return fv_diag_set(d, FV_ENOTFOUND,
				   "%s: cannot open (the node tests come with Debian's "
				   "libonnx-testdata)",
				   dir);
	while ((de = readdir(dp))) {
		if (strncmp(de->d_name, "test_", 5) != 0 || strlen(de->d_name) >= 128)
			continue;
		snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (*n == cap) {
			char **nn =
			    fv_realloc(*names, (cap = cap ? 2 * cap : 256) * sizeof(char *));
			if (!nn) {
				e = fv_diag_set(d, FV_ENOMEM, "out of memory");
				break;
			}
			*names = nn;
		}
		if (!((*names)[*n] = fv_strdup(de->d_name))) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(dp);
	if (e == FV_OK && *n)
		qsort(*names, *n, sizeof(char *), by_name);
	return e;
}

/* Find or add the totals row of (domain, op). */
static struct fv_conformance_op *op_row(struct fv_conformance *r, size_t *cap,
					const struct fv_conformance_case *c)
{
	struct fv_conformance_op *o;

	for (size_t i = 0; i < r->n_ops; i++)
		if (!strcmp(r->ops[i].op, c->op) && !strcmp(r->ops[i].domain, c->domain))
			return &r->ops[i];
	if (r->n_ops == *cap) {
		o = fv_realloc(r->ops, (*cap = *cap ? 2 * *cap : 64) * sizeof(*o));
		if (!o)
			return NULL;
		r->ops = o;
	}
	o = &r->ops[r->n_ops++];
	memset(o, 0, sizeof(*o));
	fv_strlcpy(o->op, c->op, sizeof(o->op));
	fv_strlcpy(o->domain, c->domain, sizeof(o->domain));
	o->supported = fv_model_op_supported(c->domain, c->op);
	o->opset_lo = INT64_MAX;
	o->opset_hi = -1;
	return o;
}

fv_err fv_model_conformance(const char *dir, const char *only_op, struct fv_conformance **out,
			    struct fv_diag *d)
{
	struct fv_conformance *r = NULL;
	char **names = NULL, path[1200];
	size_t n = 0, opcap = 0;
	fv_err e;

	*out = NULL;
	if (!dir)
		dir = FV_CONFORMANCE_DIR;
	if ((e = list_cases(dir, &names, &n, d)) != FV_OK)
		goto out;
	r = fv_calloc(1, sizeof(*r));
	if (!r || !(r->cases = fv_calloc(n ? n : 1, sizeof(*r->cases)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	/* Identify every case first: an _expanded case takes its sibling's operator. */
	for (size_t i = 0; i < n; i++) {
		struct fv_conformance_case *c = &r->cases[i];
		size_t nl = strlen(names[i]), sl = strlen(EXPANDED_SUFFIX);
		fv_strlcpy(c->name, names[i], sizeof(c->name));
		c->expanded = nl > sl && !strcmp(names[i] + nl - sl, EXPANDED_SUFFIX);
	}
	r->n_cases = n;
	for (size_t i = 0; i < n; i++) {
		struct fv_conformance_case *c = &r->cases[i];
		snprintf(path, sizeof(path), "%s/%s", dir, c->name);
		run_case(path, FV_CONFORMANCE_RTOL, FV_CONFORMANCE_ATOL, c, true);
	}
	for (size_t i = 0; i < n; i++) {
		struct fv_conformance_case *c = &r->cases[i], key, *sib;
		if (!c->expanded)
			continue;
		memset(&key, 0, sizeof(key));
		memcpy(key.name, c->name, strlen(c->name) - strlen(EXPANDED_SUFFIX));
		sib = bsearch(&key, r->cases, n, sizeof(*c), case_by_name);
		if (sib && sib->op[0]) {
			fv_strlcpy(c->op, sib->op, sizeof(c->op));
			fv_strlcpy(c->domain, sib->domain, sizeof(c->domain));
		}
	}
	/* Keep only the requested operator's cases. */
	if (only_op) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcasecmp(r->cases[i].op, only_op))
				r->cases[k++] = r->cases[i];
		r->n_cases = k;
	}
	for (size_t i = 0; i < r->n_cases; i++) {
		const struct fv_conformance_case *c = &r->cases[i];
		struct fv_conformance_op *o = op_row(r, &opcap, c);
		if (!o) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
		o->tests++;
		o->passed += c->result == FV_CASE_PASS;
		o->failed += c->result == FV_CASE_FAIL;
		o->refused += c->result == FV_CASE_REFUSED;
		if (c->opset >= 0 && c->opset < o->opset_lo)
			o->opset_lo = c->opset;
		if (c->opset > o->opset_hi)
			o->opset_hi = c->opset;
	}
	for (size_t i = 0; i < r->n_ops; i++)
		if (r->ops[i].opset_hi < 0)
			r->ops[i].opset_lo = -1;
	if (r->n_ops)
		qsort(r->ops, r->n_ops, sizeof(*r->ops), op_by_name);
	*out = r;
	r = NULL;
out:
	for (size_t i = 0; i < n; i++)
		fv_free(names[i]);
	fv_free(names);
	fv_conformance_free(r);
	return e;
}
