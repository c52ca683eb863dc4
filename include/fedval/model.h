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

/* Models on flat rows: the graph's single input is a float tensor [N, F], or [N, d1, ..., dk]
 * with every d fixed (an image model's [N, C, H, W]); F is then d1 * ... * dk and a row of F
 * values fills one sample in row-major order. Returns F, or 0 when the model takes no such
 * input (or F > FV_MAX_FEATURES). */
size_t fv_model_n_features(const struct fv_model *m);
/* Name of the graph input (valid while m lives). */
const char *fv_model_input_name(const struct fv_model *m);

/* Run a binary classifier on rows x[rows][F] (row-major, float32) and write the
 * probability of the positive class (label 1) of each row to p[rows].
 * The positive-class score is taken from: a [N,1] output; column 1 of a [N,2] output; the
 * probability output of an ai.onnx.ml classifier (column of class 1). */
fv_err fv_model_predict(const struct fv_model *m, const float *x, size_t rows, double *p,
			struct fv_diag *d);
/* Run a classifier of k >= 2 classes on rows x[rows][F] and write the probabilities of every
 * class, p[rows][k] row-major (class j in column j), from the same output fv_model_predict
 * reads, which must have shape [N, k]. */
fv_err fv_model_predict_classes(const struct fv_model *m, const float *x, size_t rows, size_t k,
				double *p, struct fv_diag *d);

/* Serialise a logistic-regression model as ONNX (MatMul + Add + Sigmoid, opset 13, input
 * `input_name` float [N, nf], output "probability" float [N, 1]) into a fresh buffer (fv_free).
 * Used by the demo vendor and by tests that need a model without Python. */
fv_err fv_model_write_logreg(const char *input_name, size_t nf, const double *coef,
			     double intercept, uint8_t **buf, size_t *len, struct fv_diag *d);
/* The same without the Sigmoid: a linear regression, output "prediction" float [N, 1]. */
fv_err fv_model_write_linear(const char *input_name, size_t nf, const double *coef,
			     double intercept, uint8_t **buf, size_t *len, struct fv_diag *d);

/* ---- general tensor API (any supported graph, not only tabular classifiers) ---- */

/* Element types the interpreter computes with. The values are ONNX TensorProto.DataType codes;
 * any other ONNX type (string, complex, ...) is refused with FV_EUNSUPPORTED. */
enum fv_dtype {
	FV_DTYPE_FLOAT = 1,   /* float32 */
	FV_DTYPE_INT64 = 7,   /* int64_t */
	FV_DTYPE_BOOL = 9,    /* one byte per element, 0 or 1 */
	FV_DTYPE_DOUBLE = 11, /* float64 */
	/* Storage types: computed through float64 / int64 by the operators that accept them
	 * (arithmetic, comparisons, Cast, Clip, data movement), refused by the others. */
	FV_DTYPE_UINT8 = 2,
	FV_DTYPE_INT8 = 3,
	FV_DTYPE_UINT16 = 4,
	FV_DTYPE_INT16 = 5,
	FV_DTYPE_INT32 = 6,
	FV_DTYPE_FLOAT16 = 10, /* IEEE binary16 bits in a uint16_t */
	FV_DTYPE_UINT32 = 12,
	FV_DTYPE_UINT64 = 13,
	FV_DTYPE_BFLOAT16 = 16 /* upper half of a float32, in a uint16_t */
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
/* float, double, float16, bfloat16 (the types compared with a tolerance). */
bool fv_dtype_is_float(enum fv_dtype dt);
/* The integer types other than bool. */
bool fv_dtype_is_int(enum fv_dtype dt);
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

/* Opsets of domain ("" / "ai.onnx" or "ai.onnx.ml") under which op_type is implemented: from
 * *lo (the first version whose semantics the interpreter follows) to *hi. False when the
 * operator is unsupported (refused at load). */
bool fv_model_op_opsets(const char *domain, const char *op_type, int *lo, int *hi);
/* The i-th implemented operator (i from 0; false past the end), for listings. */
bool fv_model_op_at(size_t i, const char **domain, const char **op_type);

/* ---- conformance against the ONNX backend node tests ---- */

/* Where Debian's libonnx-testdata installs the node tests, and the tolerances of
 * onnx.backend.test (|got - want| <= atol + rtol * |want|). */
#define FV_CONFORMANCE_DIR  "/usr/include/onnx/backend/test/data/node"
#define FV_CONFORMANCE_RTOL 1e-3
#define FV_CONFORMANCE_ATOL 1e-7

enum fv_case_result {
	FV_CASE_PASS,
	FV_CASE_FAIL,	/* loaded and ran, but a wrong result or an error other than refusal */
	FV_CASE_REFUSED /* refused as unsupported (operator, attribute, opset, element type) */
};

/* One test directory: model.onnx + test_data_set_N/{input,output}_K.pb. */
struct fv_conformance_case {
	char name[128];	 /* directory name, e.g. "test_softmax_axis_0_expanded" */
	char op[64];	 /* operator under test; an _expanded case counts for the function */
	char domain[32]; /* "" (ai.onnx) or the node's domain */
	int64_t opset;	 /* version of that domain the model imports */
	bool expanded;	 /* the graph is the function body of op, not op itself */
	enum fv_case_result result;
	char msg[512]; /* why it failed or was refused; "" on pass */
};

/* Totals per operator; supported is fv_model_op_supported(domain, op). */
struct fv_conformance_op {
	char op[64];
	char domain[32];
	bool supported;
	size_t tests, passed, failed, refused;
	int64_t opset_lo, opset_hi; /* opsets imported by its test models */
};

struct fv_conformance {
	size_t n_cases;
	struct fv_conformance_case *cases; /* by name */
	size_t n_ops;
	struct fv_conformance_op *ops; /* by domain, then operator name */
};

/* Run every test_* directory of dir (FV_CONFORMANCE_DIR when NULL), or only those of
 * operator only_op (case-insensitive) when it is not NULL, at the ONNX tolerances. A missing
 * or unreadable dir is an error; a broken case is a failed case. Free with
 * fv_conformance_free. */
fv_err fv_model_conformance(const char *dir, const char *only_op, struct fv_conformance **out,
			    struct fv_diag *d);
void fv_conformance_free(struct fv_conformance *c);
/* Run one case directory (any layout like the node tests, e.g. generated end-to-end models)
 * at the given tolerances: fills c->result and c->msg (c->name etc. are left as they are). */
void fv_model_run_case(const char *case_dir, double rtol, double atol,
		       struct fv_conformance_case *c);

/* ---- inspection (no graph check beyond parsing; see runnable) ---- */

/* A graph input or output as declared. */
struct fv_model_io {
	char *name;
	char *type; /* "tensor(float)", "seq(tensor(float))", "map(int64,tensor(float))", ... */
	bool has_shape;
	size_t rank;
	int64_t *dims;	   /* rank entries; -1 when not a fixed value */
	char **dim_params; /* rank entries; symbolic name ("N") or NULL */
};

struct fv_model_opinfo {
	char *domain; /* "" for ai.onnx */
	char *op_type;
	int64_t opset;	/* version of the domain the model imports, -1 when not imported */
	size_t count;	/* nodes of this operator */
	bool supported; /* implemented at this opset */
};

struct fv_model_info {
	int64_t ir_version;
	char *producer; /* "name version", may be "" */
	size_t n_inputs, n_outputs, n_ops;
	struct fv_model_io *inputs; /* initialisers excluded */
	struct fv_model_io *outputs;
	struct fv_model_opinfo *ops; /* in order of first use */
	size_t n_nodes, n_initializers;
	uint64_t initializer_bytes; /* raw payload of the initialisers */
	bool runnable;		    /* fv_model_load accepts it */
	char refusal[512];	    /* fv_model_load's message when not runnable */
};

/* Describe an ONNX model (same size limit and unpacking cap as fv_model_load). Only a
 * model that does not parse at all is an error. */
fv_err fv_model_inspect(const void *buf, size_t len, struct fv_model_info **out, struct fv_diag *d);
void fv_model_info_free(struct fv_model_info *info);

#endif
