/* Graph execution: per-call state only, so one loaded model serves many threads. */
#include "model/model_int.h"

#include <string.h>
#include <strings.h>

/* Per-call state: one slot per graph value. */
struct exec {
	struct fv_tensor *vals;
	bool *owned;	 /* vals[i].data belongs to this call */
	uint32_t *uses;	 /* remaining readers (nodes still to run + requested outputs) */
	bool *need_node; /* node must run */
	const struct fv_tensor **view; /* where value i lives (own slot, initialiser, caller) */
};

static void exec_fini(struct exec *x, size_t nv)
{
	if (x->vals && x->owned)
		for (size_t i = 0; i < nv; i++)
			if (x->owned[i])
				fv_tensor_fini(&x->vals[i]);
	fv_free(x->vals);
	fv_free(x->owned);
	fv_free(x->uses);
	fv_free(x->need_node);
	fv_free(x->view);
}

static fv_err check_input(const struct fv_value *v, const struct fv_tensor *t, struct fv_diag *d)
{
	const struct fv_decl *dc = &v->decl;
	size_t count;
	char buf[160];

	if (t->dtype != dc->dtype)
		return fv_diag_set(d, FV_EINVAL, "input '%s' is %s, the model declares %s", v->name,
				   fv_dtype_name(t->dtype), fv_dtype_name(dc->dtype));
	if (t->rank > FV_MAX_TENSOR_RANK || !fv_dims_count(t->rank, t->dims, &count))
		return fv_diag_set(d, FV_ELIMIT, "input '%s': bad rank or too many elements",
				   v->name);
	if (count != t->count || (count && !t->data))
		return fv_diag_set(d, FV_EINVAL,
				   "input '%s': count %zu does not match its shape %s", v->name,
				   t->count, fv_shape_str(t, buf, sizeof(buf)));
	if (!dc->has_shape)
		return FV_OK;
	if (t->rank != dc->rank)
		return fv_diag_set(d, FV_EINVAL,
				   "input '%s' has shape %s, the model declares rank %zu", v->name,
				   fv_shape_str(t, buf, sizeof(buf)), dc->rank);
	for (size_t i = 0; i < dc->rank; i++)
		if (dc->dims[i] >= 0 && dc->dims[i] != t->dims[i])
			return fv_diag_set(d, FV_EINVAL,
					   "input '%s' has shape %s, the model declares dimension "
					   "%zu = %lld",
					   v->name, fv_shape_str(t, buf, sizeof(buf)), i,
					   (long long)dc->dims[i]);
	return FV_OK;
}

static void release(struct exec *x, int32_t v)
{
	if (v < 0 || x->uses[v] == 0)
		return;
	if (--x->uses[v] == 0 && x->owned[v]) {
		fv_tensor_fini(&x->vals[v]);
		x->owned[v] = false;
		x->view[v] = NULL;
	}
}

static fv_err run_node(const struct fv_model *m, struct exec *x, size_t ni, struct fv_diag *d)
{
	const struct fv_node *n = &m->nodes[ni];
	const struct fv_tensor *in[16];
	const struct fv_tensor **inp = in;
	struct fv_tensor outs[8];
	struct fv_tensor *outp = outs;
	fv_err e;

	if (n->n_in > 16) {
		inp = fv_calloc(n->n_in, sizeof(*inp));
		if (!inp)
			return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	if (n->n_out > 8) {
		outp = fv_calloc(n->n_out, sizeof(*outp));
		if (!outp) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
	}
	memset(outp, 0, n->n_out * sizeof(*outp));
	for (size_t i = 0; i < n->n_in; i++)
		inp[i] = n->in[i] >= 0 ? x->view[n->in[i]] : NULL;
	e = n->op->run(n, inp, n->n_in, outp, n->n_out, d);
	if (e != FV_OK) {
		fv_diag_prefix(d, "node '%s' (%s): ", n->name, n->op->name);
		for (size_t j = 0; j < n->n_out; j++)
			fv_tensor_fini(&outp[j]);
		goto out;
	}
	for (size_t j = 0; j < n->n_out; j++) {
		int32_t v = n->out[j];
		if (v < 0 || x->uses[v] == 0) {
			fv_tensor_fini(&outp[j]);
			continue;
		}
		x->vals[v] = outp[j];
		x->owned[v] = true;
		x->view[v] = &x->vals[v];
	}
	for (size_t i = 0; i < n->n_in; i++)
		release(x, n->in[i]);
out:
	if (inp != in)
		fv_free(inp);
	if (outp != outs)
		fv_free(outp);
	return e;
}

fv_err fv_model_run(const struct fv_model *m, size_t n_in, const char *const *in_names,
		    const struct fv_tensor *in, size_t n_out, const char *const *out_names,
		    struct fv_tensor *out, struct fv_diag *d)
{
	size_t nv = m->n_values;
	struct exec x = {0};
	int32_t *req = NULL;
	fv_err e = FV_OK;

	if (n_out)
		memset(out, 0, n_out * sizeof(*out));
	if (n_in != m->n_inputs) {
		e = fv_diag_set(d, FV_EINVAL, "the model has %zu inputs, %zu given", m->n_inputs,
				n_in);
		goto out;
	}
	x.vals = fv_calloc(nv ? nv : 1, sizeof(*x.vals));
	x.owned = fv_calloc(nv ? nv : 1, sizeof(*x.owned));
	x.uses = fv_calloc(nv ? nv : 1, sizeof(*x.uses));
	x.view = fv_calloc(nv ? nv : 1, sizeof(*x.view));
	x.need_node = fv_calloc(m->n_nodes ? m->n_nodes : 1, sizeof(*x.need_node));
	req = fv_calloc(n_out ? n_out : 1, sizeof(*req));
	if (!x.vals || !x.owned || !x.uses || !x.view || !x.need_node || !req) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nv; i++)
		if (m->values[i].kind == FV_VAL_INIT)
			x.view[i] = &m->values[i].init;
	for (size_t i = 0; i < n_in; i++) {
		int32_t v = in_names[i] ? fv_model_find_value(m, in_names[i]) : -1;
		if (v < 0 || m->values[v].kind != FV_VAL_INPUT) {
			e = fv_diag_set(d, FV_ENOTFOUND, "'%s' is not an input of the model",
					in_names[i] ? in_names[i] : "(null)");
			goto out;
		}
		if (x.view[v]) {
			e = fv_diag_set(d, FV_EINVAL, "input '%s' given twice", in_names[i]);
			goto out;
		}
		if ((e = check_input(&m->values[v], &in[i], d)) != FV_OK)
			goto out;
		x.view[v] = &in[i];
	}

	/* Mark what the requested values depend on, walking the plan backwards. */
	for (size_t i = 0; i < n_out; i++) {
		req[i] = out_names[i] ? fv_model_find_value(m, out_names[i]) : -1;
		if (req[i] < 0) {
			e = fv_diag_set(d, FV_ENOTFOUND, "the model has no value named '%s'",
					out_names[i] ? out_names[i] : "(null)");
			goto out;
		}
		x.uses[req[i]]++;
	}
	for (size_t k = m->n_nodes; k-- > 0;) {
		const struct fv_node *n = &m->nodes[k];
		for (size_t j = 0; j < n->n_out && !x.need_node[k]; j++)
			x.need_node[k] = n->out[j] >= 0 && x.uses[n->out[j]] > 0;
		if (!x.need_node[k])
			continue;
		for (size_t i = 0; i < n->n_in; i++)
			if (n->in[i] >= 0)
				x.uses[n->in[i]]++;
	}
	for (size_t k = 0; k < m->n_nodes; k++)
		if (x.need_node[k] && (e = run_node(m, &x, k, d)) != FV_OK)
			goto out;

	for (size_t i = 0; i < n_out; i++) {
		int32_t v = req[i];
		if (x.owned[v] && x.uses[v] == 1) {
			out[i] = x.vals[v]; /* last reader: hand over */
			x.owned[v] = false;
			memset(&x.vals[v], 0, sizeof(x.vals[v]));
		} else if ((e = fv_tensor_copy(&out[i], x.view[v], d)) != FV_OK) {
			goto out;
		}
		release(&x, v);
	}
out:
	if (e != FV_OK)
		for (size_t i = 0; i < n_out; i++)
			fv_tensor_fini(&out[i]);
	exec_fini(&x, nv);
	fv_free(req);
	return e;
}

/* ---- tabular binary classifiers ---- */

/* Rows per run: bounds the memory of intermediate tensors. */
#define PREDICT_CHUNK 8192

int32_t fv_model_score_output(const struct fv_model *m)
{
	for (size_t i = 0; i < m->n_outputs; i++)
		if (strcasestr(m->values[m->outputs[i]].name, "probabilit"))
			return (int32_t)i;
	for (size_t i = 0; i < m->n_outputs; i++) {
		const struct fv_decl *dc = &m->values[m->outputs[i]].decl;
		if (dc->is_tensor && (dc->dtype == FV_DTYPE_FLOAT || dc->dtype == FV_DTYPE_DOUBLE))
			return (int32_t)i;
	}
	return -1;
}

/* Scores of rows x: k == 0, the positive class of a binary classifier (one per row); k >= 2,
 * all k class probabilities of a classifier (k per row). */
static fv_err predict(const struct fv_model *m, const float *x, size_t rows, size_t k, double *p,
		      struct fv_diag *d)
{
	size_t nf = fv_model_n_features(m), chunk = PREDICT_CHUNK;
	const struct fv_decl *dc;
	int32_t oi = fv_model_score_output(m);
	const char *in_name, *out_name;
	struct fv_tensor it, ot = {0};
	char buf[160];
	fv_err e = FV_OK;

	if (!nf)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "not a tabular model: needs one float input of shape [N, F] (or "
				   "[N, C, H, W]) with fixed sizes after N");
	if (oi < 0)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "no probability output and no float output to take scores from");
	dc = &m->values[m->inputs[0]].decl;
	if (dc->dims[0] > 0)
		chunk = (size_t)dc->dims[0];
	if (rows % chunk && dc->dims[0] > 0)
		return fv_diag_set(d, FV_EINVAL, "the model takes batches of exactly %zu rows",
				   chunk);
	in_name = m->values[m->inputs[0]].name;
	out_name = m->values[m->outputs[oi]].name;
	if (k == 0 && m->fast.kind != FV_FAST_NONE && m->fast.out == (int32_t)m->outputs[oi] &&
	    m->fast.nf == nf) {
		fv_fast_predict(m, x, rows, p);
		return FV_OK;
	}

	for (size_t r0 = 0; r0 < rows; r0 += chunk) {
		size_t nr = rows - r0 < chunk ? rows - r0 : chunk, col;
		memset(&it, 0, sizeof(it));
		it.dtype = FV_DTYPE_FLOAT;
		/* A row of nf values is one sample of the declared shape, in row-major order
		 * ([N, C, H, W]: channel, then row, then column). */
		it.rank = dc->rank;
		it.dims[0] = (int64_t)nr;
		for (size_t k = 1; k < dc->rank; k++)
			it.dims[k] = dc->dims[k];
		it.count = nr * nf;
		it.data = (void *)(x + r0 * nf);
		e = fv_model_run(m, 1, &in_name, &it, 1, &out_name, &ot, d);
		if (e != FV_OK)
			goto out;
		if (ot.dtype != FV_DTYPE_FLOAT && ot.dtype != FV_DTYPE_DOUBLE) {
			e = fv_diag_set(d, FV_EUNSUPPORTED, "output '%s' is %s, not float",
					out_name, fv_dtype_name(ot.dtype));
			goto out;
		}
		if (k >= 2) {
			if (ot.rank != 2 || ot.dims[0] != (int64_t)nr || ot.dims[1] != (int64_t)k) {
				e = fv_diag_set(d, FV_EUNSUPPORTED,
						"output '%s' has shape %s; a classifier of %zu "
						"classes gives [N,%zu]",
						out_name, fv_shape_str(&ot, buf, sizeof(buf)), k,
						k);
				goto out;
			}
			for (size_t i = 0; i < nr * k; i++)
				p[r0 * k + i] = fv_tensor_getd(&ot, i);
			fv_tensor_fini(&ot);
			continue;
		} else if (ot.rank == 1 && ot.dims[0] == (int64_t)nr) {
			col = 0;
		} else if (ot.rank == 2 && ot.dims[0] == (int64_t)nr &&
			   (ot.dims[1] == 1 || ot.dims[1] == 2)) {
			col = (size_t)ot.dims[1] - 1;
		} else {
			e = fv_diag_set(
			    d, FV_EUNSUPPORTED,
			    "output '%s' has shape %s; a binary classifier gives [N,1] or "
			    "[N,2]",
			    out_name, fv_shape_str(&ot, buf, sizeof(buf)));
			goto out;
		}
		for (size_t r = 0; r < nr; r++)
			p[r0 + r] =
			    fv_tensor_getd(&ot, r * (ot.rank == 2 ? (size_t)ot.dims[1] : 1) + col);
		fv_tensor_fini(&ot);
	}
out:
	fv_tensor_fini(&ot);
	return e;
}

fv_err fv_model_predict(const struct fv_model *m, const float *x, size_t rows, double *p,
			struct fv_diag *d)
{
	return predict(m, x, rows, 0, p, d);
}

fv_err fv_model_predict_classes(const struct fv_model *m, const float *x, size_t rows, size_t k,
				double *p, struct fv_diag *d)
{
	if (k < 2)
		return fv_diag_set(d, FV_EINVAL, "a classifier has at least 2 classes, not %zu", k);
	return predict(m, x, rows, k, p, d);
}
