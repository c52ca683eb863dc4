/* fedval model runtime internals: the loaded graph, the operator table and tensor helpers.
 * Not installed; shared by the lib/model sources and the model unit tests. */
#ifndef FEDVAL_MODEL_INT_H
#define FEDVAL_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/limits.h"
#include "fedval/model.h"
#include "fedval/util.h"

#include "onnx/onnx.pb-c.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX raw_data is little-endian; this runtime copies it as is"
#endif

/* Opsets the interpreter implements; each operator sets its own first version (e.g. 7 for the
 * arithmetic ops, which used a legacy "broadcast" attribute before). Above the maxima the
 * semantics of operators may have changed unseen. */
#define FV_OPSET_MIN	1
#define FV_OPSET_MAX	21
#define FV_OPSET_ML_MIN 1
#define FV_OPSET_ML_MAX 5
/* Unpacking budget for protobuf-c: small messages (nodes, attributes) take several times their
 * wire size once unpacked; bulk data (raw_data) about once. */
#define FV_MODEL_UNPACK_FACTOR 8u
#define FV_MODEL_UNPACK_EXTRA  (16u * 1024 * 1024)

/* ONNX AttributeProto.AttributeType codes. */
enum fv_attr_type {
	FV_ATTR_FLOAT = 1,
	FV_ATTR_INT = 2,
	FV_ATTR_STRING = 3,
	FV_ATTR_TENSOR = 4,
	FV_ATTR_FLOATS = 6,
	FV_ATTR_INTS = 7,
	FV_ATTR_STRINGS = 8
};

/* A node attribute, copied out of the protobuf so the protobuf can be released after load. */
struct fv_attr {
	char *name;
	enum fv_attr_type type;
	float f;
	int64_t i;
	char *s;  /* NUL-terminated; embedded NULs are refused at load */
	size_t n; /* elements of floats, ints or strings */
	float *floats;
	int64_t *ints;
	char **strings;
	struct fv_tensor t; /* owned */
};

struct fv_node;
/* Run one node. in[i] is NULL for an omitted optional input. out[j] is zeroed on entry; the op
 * fills every output it has (unrequested outputs are freed by the caller). On error the op
 * leaves outputs it allocated in out[] for the caller to free. */
typedef fv_err (*fv_op_run_fn)(const struct fv_node *n, const struct fv_tensor *const *in,
			       size_t n_in, struct fv_tensor *out, size_t n_out, struct fv_diag *d);
/* Load-time check of attribute values (names and types are checked from the spec). It may
 * prepare immutable per-node state in n->priv (released with n->priv_free). */
typedef fv_err (*fv_op_check_fn)(struct fv_node *n, struct fv_diag *d);

struct fv_op {
	const char *domain; /* "" (ai.onnx) or "ai.onnx.ml" */
	const char *name;
	int min_opset; /* first opset version whose semantics this implements */
	unsigned min_in, max_in, min_out, max_out;
	/* Allowed attributes, "name:T" separated by spaces; T is f i s t F I S (float, int,
	 * string, tensor, floats, ints, strings). Any other attribute is refused. */
	const char *attrs;
	fv_op_check_fn check; /* may be NULL */
	fv_op_run_fn run;
};

struct fv_node {
	const struct fv_op *op;
	char *name;    /* never NULL, may be "" */
	int64_t opset; /* imported version of the node's domain */
	size_t n_in, n_out;
	int32_t *in;  /* value index, -1 for an omitted optional input */
	int32_t *out; /* value index, -1 for an unnamed (unused) output */
	size_t n_attr;
	struct fv_attr *attr;
	void *priv; /* op-specific state prepared at load, read-only afterwards */
	void (*priv_free)(void *priv);
};

enum fv_value_kind { FV_VAL_INPUT, FV_VAL_INIT, FV_VAL_NODE };

/* A declared tensor type from a ValueInfoProto. */
struct fv_decl {
	bool is_tensor; /* false: no type, or a non-tensor type (e.g. ZipMap's sequence) */
	enum fv_dtype dtype;
	bool has_shape;
	size_t rank;
	int64_t dims[FV_MAX_TENSOR_RANK]; /* -1 for a dynamic dimension */
};

struct fv_value {
	char *name;
	enum fv_value_kind kind;
	size_t producer;       /* node index, FV_VAL_NODE */
	struct fv_tensor init; /* FV_VAL_INIT, owned */
	struct fv_decl decl;   /* graph inputs and outputs */
};

/* A graph fv_model_predict can score without the interpreter, recognised once at load (see
 * fast.c). Weights point into the model's initialisers or attributes (not owned). */
enum fv_fast_kind {
	FV_FAST_NONE,
	FV_FAST_SIGMOID, /* x -> MatMul/Gemm [F,1]/[1,F] -> (Add scalar) -> Sigmoid */
	FV_FAST_LINCLF	 /* x -> LinearClassifier (<= 2 classes) -> (Normalizer) -> (ZipMap) */
};

struct fv_fast {
	enum fv_fast_kind kind;
	int32_t out; /* value index of the output it yields (the one predict reads) */
	size_t nf;   /* features */
	size_t n_w;  /* weight rows, 1 or 2; w is n_w x nf row-major */
	const float *w;
	/* FV_FAST_SIGMOID: logit = alpha * (x . w) [+ beta * c] [+ bias], in float. */
	float alpha, gemm_c, bias;
	bool has_gemm_c, has_bias;
	/* FV_FAST_LINCLF: double score c = ic[c] + x . w[c]; two output classes from one row are
	 * [-s, s]; mirror: w[0] == -w[1] and ic[0] == -ic[1] exactly, so s0 = -s1. */
	double ic[2];
	size_t n_cls; /* output columns, 1 or 2; predict reads the last */
	bool neg, mirror, logistic;
	int norm; /* 0 none, 1 L1, 2 L2, 3 MAX */
};

struct fv_model {
	size_t n_values, cap_values;
	struct fv_value *values;
	size_t n_nodes;
	struct fv_node *nodes;
	size_t n_inputs;
	size_t *inputs; /* value indices of graph inputs that are not initialisers */
	size_t n_outputs;
	size_t *outputs;
	size_t hcap;   /* power of two */
	int32_t *htab; /* name -> value index, -1 empty */
	struct fv_fast fast;
};

/* ---- unpacking ---- */

/* protobuf-c allocator with a byte budget (FV_MODEL_UNPACK_FACTOR x the input + EXTRA). */
struct fv_pb_cap {
	ProtobufCAllocator a;
	size_t used, cap;
	bool hit; /* the cap refused an allocation */
	bool oom; /* the system refused one */
};
/* Unpack a ModelProto under FV_MAX_MODEL_BYTES and the cap; release with
 * fv_model_unpacked_free(mp, c) (accepts NULL mp). */
fv_err fv_model_unpack(const void *buf, size_t len, struct fv_pb_cap *c, Onnx__ModelProto **mp,
		       struct fv_diag *d);
void fv_model_unpacked_free(Onnx__ModelProto *mp, struct fv_pb_cap *c);

/* ---- fused prediction (fast.c) ---- */

/* Recognise a graph fast.c can score directly and fill m->fast (kind FV_FAST_NONE when not);
 * needs no allocation. */
void fv_fast_detect(struct fv_model *m);
/* Score rows with m->fast into p (the same values as the interpreter's output, up to float
 * rounding of the dot product). */
void fv_fast_predict(const struct fv_model *m, const float *x, size_t rows, double *p);
/* Index in m->outputs of the output fv_model_predict reads, or -1. */
int32_t fv_model_score_output(const struct fv_model *m);

/* ---- lookup ---- */
int32_t fv_model_find_value(const struct fv_model *m, const char *name);
const struct fv_op *fv_op_lookup(const char *domain, const char *op_type);

/* Operator tables, one per file. */
extern const struct fv_op fv_ops_math[];
extern const size_t fv_ops_math_n;
extern const struct fv_op fv_ops_shape[];
extern const size_t fv_ops_shape_n;
extern const struct fv_op fv_ops_nn[];
extern const size_t fv_ops_nn_n;
extern const struct fv_op fv_ops_ml[];
extern const size_t fv_ops_ml_n;
extern const struct fv_op fv_ops_tree[];
extern const size_t fv_ops_tree_n;

/* ---- attributes ---- */
const struct fv_attr *fv_attr_get(const struct fv_node *n, const char *name);
int64_t fv_attr_int(const struct fv_node *n, const char *name, int64_t def);
float fv_attr_float(const struct fv_node *n, const char *name, float def);
const char *fv_attr_str(const struct fv_node *n, const char *name, const char *def);

/* ---- tensors ---- */
/* Convert a TensorProto (initialiser, Constant value, test data) to an owned tensor. Refuses
 * external data, unsupported element types and sizes over the limits. */
fv_err fv_tensor_from_proto(const Onnx__TensorProto *tp, struct fv_tensor *t, struct fv_diag *d);
/* Allocate t's data for dtype and dims (checked against FV_MAX_TENSOR_ELEMS), zero-filled. */
fv_err fv_tensor_alloc(struct fv_tensor *t, enum fv_dtype dt, size_t rank, const int64_t *dims,
		       struct fv_diag *d);
/* The same without zeroing, for an operator that writes every element of its output before
 * returning FV_OK (zeroing large outputs cost ~5% of a CNN's run). */
fv_err fv_tensor_alloc_uninit(struct fv_tensor *t, enum fv_dtype dt, size_t rank,
			      const int64_t *dims, struct fv_diag *d);
/* Deep copy of src into a fresh dst. */
fv_err fv_tensor_copy(struct fv_tensor *dst, const struct fv_tensor *src, struct fv_diag *d);
/* Element i as double (any dtype). */
double fv_tensor_getd(const struct fv_tensor *t, size_t i);
/* Element i as int64 (integers and bools; floats truncated, saturated, NaN -> 0). */
int64_t fv_tensor_geti(const struct fv_tensor *t, size_t i);
/* Store v as element i converted to t's dtype (saturating for int64, NaN -> 0). */
void fv_tensor_setd(struct fv_tensor *t, size_t i, double v);
/* Store v as element i of an integer tensor, wrapping to its width (two's complement);
 * converted for the other types. */
void fv_tensor_seti(struct fv_tensor *t, size_t i, int64_t v);
/* IEEE binary16 and bfloat16 conversions, rounding to nearest even. */
float fv_half_to_float(uint16_t h);
uint16_t fv_float_to_half(float f);
float fv_bfloat16_to_float(uint16_t h);
uint16_t fv_float_to_bfloat16(float f);
/* Saturating, NaN-safe double -> int64. */
int64_t fv_d2i(double v);
/* Product of dims with overflow and limit check; false when over FV_MAX_TENSOR_ELEMS. */
bool fv_dims_count(size_t rank, const int64_t *dims, size_t *count);
/* Normalise an axis in [-rank, rank) to [0, rank); false when out of range. */
bool fv_axis(int64_t axis, size_t rank, size_t *out);
/* Writes "[2,3]" into buf. */
const char *fv_shape_str(const struct fv_tensor *t, char *buf, size_t cap);

#endif
