/* fedval: the model runtime. Loads a frozen ONNX artefact under hostile-input limits and runs
 * it on batches. No vendor code ever runs: fedval interprets the graph itself.
 *
 * Contract: a loaded struct fv_model is immutable; fv_model_predict may be called from several
 * threads at once on the same model. */
#ifndef FEDVAL_MODEL_H
#define FEDVAL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/limits.h"

struct fv_model;

/* Parse and check an ONNX ModelProto (types, shapes, opsets, supported operators). An
 * unsupported operator, attribute or opset is refused here with a message naming it. */
fv_err fv_model_load(const void *buf, size_t len, struct fv_model **out, struct fv_diag *d);
void fv_model_free(struct fv_model *m);

/* Tabular models: the graph's single input is a float tensor [N, F]. Returns F, or 0 when the
 * model is not a tabular model. */
size_t fv_model_n_features(const struct fv_model *m);
/* Name of the graph input (valid while m lives). */
const char *fv_model_input_name(const struct fv_model *m);

/* Run a tabular binary classifier on rows x[rows][F] (row-major, float32) and write the
 * probability of the positive class (label 1) of each row to p[rows].
 * The positive-class score is taken from: a [N,1] output; column 1 of a [N,2] output; the
 * probability output of an ai.onnx.ml classifier (column of class 1). */
fv_err fv_model_predict(const struct fv_model *m, const float *x, size_t rows, double *p,
			struct fv_diag *d);

/* Serialise a logistic-regression model as ONNX (MatMul + Add + Sigmoid, opset 13, input
 * `input_name` float [N, nf], output "probability" float [N, 1]) into a fresh buffer (fv_free).
 * Used by the demo vendor and by tests that need a model without Python. */
fv_err fv_model_write_logreg(const char *input_name, size_t nf, const double *coef,
			     double intercept, uint8_t **buf, size_t *len, struct fv_diag *d);

/* ---- general tensor API (any supported graph, not only tabular classifiers) ---- */

/* Element types the interpreter computes with. The values are ONNX TensorProto.DataType codes;
 * any other ONNX type (string, float16, int32, ...) is refused with FV_EUNSUPPORTED. */
enum fv_dtype {
	FV_DTYPE_FLOAT = 1,  /* float32 */
	FV_DTYPE_INT64 = 7,  /* int64_t */
	FV_DTYPE_BOOL = 9,   /* one byte per element, 0 or 1 */
	FV_DTYPE_DOUBLE = 11 /* float64 */
};

/* A dense row-major tensor. count is the product of dims (1 for rank 0). As an input to
 * fv_model_run, data is borrowed from the caller; as an output it is a fresh allocation owned
 * by the caller, released with fv_tensor_fini. */
struct fv_tensor {
	enum fv_dtype dtype;
	size_t rank;
	int64_t dims[FV_MAX_TENSOR_RANK];
	size_t count;
	void *data;
};

/* Bytes per element of dt (0 for an unknown type). */
size_t fv_dtype_size(enum fv_dtype dt);
/* Name such as "float" or "int64" (for messages). */
const char *fv_dtype_name(enum fv_dtype dt);
/* Free an output tensor's data and zero it; accepts NULL and zeroed tensors. */
void fv_tensor_fini(struct fv_tensor *t);

/* Graph inputs the caller must feed (initialisers excluded) and the graph's outputs, in graph
 * order. Names stay valid while m lives. */
size_t fv_model_n_inputs(const struct fv_model *m);
size_t fv_model_n_outputs(const struct fv_model *m);
const char *fv_model_input_name_at(const struct fv_model *m, size_t i);
const char *fv_model_output_name_at(const struct fv_model *m, size_t i);
/* Declared type of input i: element type, rank, and dims with -1 for a dynamic dimension.
 * *has_shape is false when the model declares no shape (any rank is accepted then). */
fv_err fv_model_input_type(const struct fv_model *m, size_t i, enum fv_dtype *dtype,
			   bool *has_shape, size_t *rank, int64_t dims[FV_MAX_TENSOR_RANK]);

/* Run the graph. Every input of fv_model_n_inputs must be given exactly once by name, with the
 * declared element type and a shape that matches the declared one. out_names may name graph
 * outputs or any intermediate value; out[i] receives a fresh tensor (fv_tensor_fini each,
 * also on error the array is left zeroed). Only nodes the requested outputs depend on run.
 * An ai.onnx.ml ZipMap yields its input's [N, C] float probabilities (column j = class j of
 * its classlabels), not a sequence of maps. Thread-safe on one model. */
fv_err fv_model_run(const struct fv_model *m, size_t n_in, const char *const *in_names,
		    const struct fv_tensor *in, size_t n_out, const char *const *out_names,
		    struct fv_tensor *out, struct fv_diag *d);

/* Whether the interpreter implements op_type in domain ("" or "ai.onnx" for the default
 * domain, "ai.onnx.ml"). */
bool fv_model_op_supported(const char *domain, const char *op_type);

#endif
