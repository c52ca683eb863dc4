/* fv_model_inspect: what a model declares and whether the loader accepts it. */
#include <criterion/criterion.h>
#include <string.h>

#include "fedval/model.h"
#include "fedval/util.h"

Test(inspect, logreg)
{
	double coef[3] = {0.5, -1, 2};
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_model_info *info = NULL;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_write_logreg("x", 3, coef, 0.25, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_inspect(buf, len, &info, &d), FV_OK, "%s", d.msg);
	cr_expect(info->runnable, "%s", info->refusal);
	cr_assert_eq(info->n_inputs, 1);
	cr_expect_str_eq(info->inputs[0].name, "x");
	cr_expect_str_eq(info->inputs[0].type, "tensor(float)");
	cr_assert(info->inputs[0].has_shape);
	cr_assert_eq(info->inputs[0].rank, 2);
	cr_expect_eq(info->inputs[0].dims[1], 3);
	cr_expect_eq(info->n_outputs, 1);
	cr_expect_eq(info->n_ops, 3); /* MatMul, Add, Sigmoid */
	for (size_t i = 0; i < info->n_ops; i++) {
		cr_expect(info->ops[i].supported, "%s", info->ops[i].op_type);
		cr_expect_eq(info->ops[i].opset, 13);
		cr_expect_eq(info->ops[i].count, 1);
	}
	fv_model_info_free(info);
	fv_free(buf);
}

Test(inspect, refused_model_is_described)
{
	/* test_det_2d (ONNX node tests) uses an operator fedval does not implement */
	static const char path[] =
	    "/usr/include/onnx/backend/test/data/node/test_det_2d/model.onnx";
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_model_info *info = NULL;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_file_read(path, 1 << 20, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_inspect(buf, len, &info, &d), FV_OK, "%s", d.msg);
	cr_expect(!info->runnable);
	cr_expect(strstr(info->refusal, "Det") != NULL, "%s", info->refusal);
	cr_assert_eq(info->n_ops, 1);
	cr_expect_str_eq(info->ops[0].op_type, "Det");
	cr_expect(!info->ops[0].supported);
	fv_model_info_free(info);
	fv_free(buf);
}

Test(inspect, garbage_is_an_error)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	struct fv_model_info *info = NULL;
	struct fv_diag d = {{0}};

	cr_expect_neq(fv_model_inspect(junk, sizeof(junk), &info, &d), FV_OK);
	cr_expect_null(info);
}
