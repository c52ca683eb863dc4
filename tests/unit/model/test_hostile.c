/* Hostile and malformed models: each is refused with a message naming the problem, and
 * nothing crashes (run under ASan/UBSan in the sanitizer build). The models are the logreg
 * model of fv_model_write_logreg, unpacked, altered and repacked. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/model.h"
#include "fedval/util.h"
#include "onnx/onnx.pb-c.h"

static const double coef[4] = {1, -2, 3, 0.5};

static Onnx__ModelProto *base(void)
{
	uint8_t *buf;
	size_t len = 0;
	Onnx__ModelProto *mp;

	cr_assert_eq(fv_model_write_logreg("x", 4, coef, 0.25, &buf, &len, NULL), FV_OK);
	mp = onnx__model_proto__unpack(NULL, len, buf);
	cr_assert_not_null(mp);
	fv_free(buf);
	return mp;
}

/* Pack mp (then free it), load, and expect error e with every needle in the message. */
static void expect_refused(Onnx__ModelProto *mp, fv_err e, const char *n1, const char *n2)
{
	size_t len = onnx__model_proto__get_packed_size(mp);
	uint8_t *buf = malloc(len);
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	fv_err got;

	onnx__model_proto__pack(mp, buf);
	onnx__model_proto__free_unpacked(mp, NULL);
	got = fv_model_load(buf, len, &m, &d);
	free(buf);
	cr_assert_eq(got, e, "got %s (%s), want %s", fv_strerror(got), d.msg, fv_strerror(e));
	cr_assert_null(m);
	if (n1)
		cr_assert(strstr(d.msg, n1), "message '%s' lacks '%s'", d.msg, n1);
	if (n2)
		cr_assert(strstr(d.msg, n2), "message '%s' lacks '%s'", d.msg, n2);
}

static void set_str(char **field, const char *v)
{
	free(*field); /* protobuf-c's default allocator is malloc */
	*field = strdup(v);
}

Test(hostile, unmodified_loads)
{
	Onnx__ModelProto *mp = base();
	size_t len = onnx__model_proto__get_packed_size(mp);
	uint8_t *buf = malloc(len);
	struct fv_model *m = NULL;

	onnx__model_proto__pack(mp, buf);
	onnx__model_proto__free_unpacked(mp, NULL);
	cr_assert_eq(fv_model_load(buf, len, &m, NULL), FV_OK);
	fv_model_free(m);
	free(buf);
}

Test(hostile, unknown_op)
{
	Onnx__ModelProto *mp = base();
	set_str(&mp->graph->node[2]->op_type, "FancySigmoid");
	expect_refused(mp, FV_EUNSUPPORTED, "FancySigmoid", "ai.onnx");
}

Test(hostile, unknown_domain)
{
	Onnx__ModelProto *mp = base();
	set_str(&mp->graph->node[2]->domain, "com.vendor.secret");
	expect_refused(mp, FV_EUNSUPPORTED, "com.vendor.secret", "Sigmoid");
}

Test(hostile, external_data)
{
	Onnx__ModelProto *mp = base();
	Onnx__TensorProto *w = mp->graph->initializer[0];
	w->has_data_location = 1;
	w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	expect_refused(mp, FV_EUNSUPPORTED, "external data", "'W'");
}

Test(hostile, huge_declared_dimension)
{
	Onnx__ModelProto *mp = base();
	mp->graph->input[0]->type->tensor_type->shape->dim[1]->dim_value = (int64_t)1 << 40;
	expect_refused(mp, FV_ELIMIT, "dimension 1", "limit");
}

Test(hostile, huge_initializer_dims)
{
	Onnx__ModelProto *mp = base();
	Onnx__TensorProto *w = mp->graph->initializer[0];
	w->dims[0] = (int64_t)1 << 31;
	w->dims[1] = (int64_t)1 << 31;
	expect_refused(mp, FV_ELIMIT, "'W'", NULL);
}

Test(hostile, raw_data_shorter_than_shape)
{
	Onnx__ModelProto *mp = base();
	mp->graph->initializer[0]->raw_data.len -= 4;
	expect_refused(mp, FV_ECORRUPT, "raw_data", NULL);
}

Test(hostile, unsupported_attribute)
{
	Onnx__ModelProto *mp = base();
	Onnx__NodeProto *n = mp->graph->node[2];
	Onnx__AttributeProto *a = malloc(sizeof(*a));
	onnx__attribute_proto__init(a);
	a->name = strdup("temperature");
	a->has_type = 1;
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	a->has_f = 1;
	a->f = 2;
	n->attribute = malloc(sizeof(*n->attribute));
	n->attribute[0] = a;
	n->n_attribute = 1;
	expect_refused(mp, FV_EUNSUPPORTED, "temperature", "Sigmoid");
}

Test(hostile, opset_out_of_range)
{
	Onnx__ModelProto *mp = base();
	mp->opset_import[0]->version = 99;
	expect_refused(mp, FV_EUNSUPPORTED, "opset", "99");
	mp = base();
	mp->opset_import[0]->version = 1;
	expect_refused(mp, FV_EUNSUPPORTED, "opset", NULL);
}

Test(hostile, not_topological)
{
	Onnx__ModelProto *mp = base();
	Onnx__NodeProto *t = mp->graph->node[0];
	mp->graph->node[0] = mp->graph->node[2];
	mp->graph->node[2] = t;
	expect_refused(mp, FV_EINVAL, "topologically", "logit");
}

Test(hostile, dangling_input)
{
	Onnx__ModelProto *mp = base();
	set_str(&mp->graph->node[1]->input[1], "nowhere");
	expect_refused(mp, FV_EINVAL, "nowhere", NULL);
}

Test(hostile, value_defined_twice)
{
	Onnx__ModelProto *mp = base();
	set_str(&mp->graph->node[1]->output[0], "logit_raw");
	expect_refused(mp, FV_EINVAL, "twice", NULL);
}

Test(hostile, output_never_computed)
{
	Onnx__ModelProto *mp = base();
	set_str(&mp->graph->output[0]->name, "ghost");
	expect_refused(mp, FV_EINVAL, "ghost", NULL);
}

Test(hostile, unsupported_cast_target)
{
	Onnx__ModelProto *mp = base();
	Onnx__NodeProto *n = mp->graph->node[2];
	Onnx__AttributeProto *a = malloc(sizeof(*a));
	set_str(&n->op_type, "Cast");
	onnx__attribute_proto__init(a);
	a->name = strdup("to");
	a->has_type = 1;
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	a->has_i = 1;
	a->i = 8; /* string */
	n->attribute = malloc(sizeof(*n->attribute));
	n->attribute[0] = a;
	n->n_attribute = 1;
	expect_refused(mp, FV_EUNSUPPORTED, "to=8", NULL);
}

Test(hostile, truncated)
{
	uint8_t *buf;
	size_t len = 0;

	cr_assert_eq(fv_model_write_logreg("x", 4, coef, 0.25, &buf, &len, NULL), FV_OK);
	for (size_t cut = 0; cut < len; cut++) {
		struct fv_model *m = NULL;
		struct fv_diag d = {{0}};
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size so ASan sees overreads */
		memcpy(copy, buf, cut);
		fv_err e = fv_model_load(copy, cut, &m, &d);
		free(copy);
		if (e == FV_OK) {
			/* A cut on a field boundary can leave a valid smaller model. */
			fv_model_free(m);
			continue;
		}
		cr_assert(d.msg[0], "cut %zu: empty message", cut);
		cr_assert_null(m);
	}
	fv_free(buf);
}

Test(hostile, random_bytes_and_bit_flips)
{
	uint8_t *buf, rnd[512];
	size_t len = 0;
	unsigned seed = 12345;
	float x[2 * 4] = {1, 2, 3, 4, -1, 0, 0.5f, 9};
	double p[2];

	for (int it = 0; it < 2000; it++) {
		struct fv_model *m = NULL;
		size_t n = (size_t)rand_r(&seed) % sizeof(rnd);
		for (size_t i = 0; i < n; i++)
			rnd[i] = (uint8_t)rand_r(&seed);
		if (fv_model_load(rnd, n, &m, NULL) == FV_OK)
			fv_model_free(m);
	}
	cr_assert_eq(fv_model_write_logreg("x", 4, coef, 0.25, &buf, &len, NULL), FV_OK);
	for (int it = 0; it < 3000; it++) {
		struct fv_model *m = NULL;
		uint8_t *copy = malloc(len);
		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + it % 4; k++)
			copy[(size_t)rand_r(&seed) % len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		if (fv_model_load(copy, len, &m, NULL) == FV_OK) {
			/* Whatever loads must run or fail cleanly. */
			if (fv_model_n_features(m) == 4)
				(void)fv_model_predict(m, x, 2, p, NULL);
			fv_model_free(m);
		}
		free(copy);
	}
	fv_free(buf);
}

Test(hostile, oversized_buffer)
{
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	static const uint8_t one = 0;
	cr_assert_eq(fv_model_load(&one, (size_t)FV_MAX_MODEL_BYTES + 1, &m, &d), FV_ELIMIT);
	cr_assert(strstr(d.msg, "limit"));
}
