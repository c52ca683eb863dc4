/* fedval fuzz target: a hostile ONNX artefact (lib/model): fv_model_load, fv_model_inspect
 * (whose "runnable" must agree with the load), and for a tabular model -- one float input
 * [N, F] -- one fv_model_predict on three rows.
 *
 * Build and run with libFuzzer (clang), from the repository root, after a cmake configure into
 * /work/build-fuzz (for the protoc-c output under gen/):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/work/build-fuzz/gen \
 *         -I/usr/include/x86_64-linux-gnu/openblas-pthread \
 *         tests/fuzz/fuzz_model.c lib/model/[a-z]*.c lib/util/[a-z]*.c \
 *         /work/build-fuzz/gen/onnx/onnx.pb-c.c \
 *         -lprotobuf-c -lopenblas -linih -lm -lpthread -o /tmp/fuzz_model
 *   mkdir -p /tmp/model-corpus
 *   /tmp/fuzz_model -max_len=16384 -rss_limit_mb=4096 -max_total_time=120 /tmp/model-corpus \
 *         tests/fuzz/corpus/model
 * tests/unit/model/test_model_corpus.c replays tests/fuzz/corpus/model on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_model.h"

#include <math.h>
#include <string.h>

#include "fedval/model.h"
#include "fuzz/fuzz_common.h"

/* Every refusal fv_model_load documents; running adds ENOTFOUND (a name) and nothing else. */
#define LOAD_ERRS                                                                                  \
	(FUZZ_ERR(FV_EPROTO) | FUZZ_ERR(FV_EINVAL) | FUZZ_ERR(FV_ELIMIT) |                         \
	 FUZZ_ERR(FV_EUNSUPPORTED) | FUZZ_ERR(FV_ECORRUPT) | FUZZ_ERR(FV_EEXIST) |                 \
	 FUZZ_ERR(FV_ENOTFOUND))
#define RUN_ERRS (LOAD_ERRS | FUZZ_ERR(FV_ENOTFOUND))

/* Features of the predict call; a wider model is loaded and inspected but not run. */
#define PREDICT_MAX_F 256
#define PREDICT_ROWS  3

static void fuzz_predict(const struct fv_model *m)
{
	static float x[PREDICT_ROWS * PREDICT_MAX_F];
	double p[PREDICT_ROWS];
	struct fv_diag d = {{0}};
	size_t nf = fv_model_n_features(m);
	enum fv_dtype dt;
	bool has_shape;
	size_t rank;
	int64_t dims[FV_MAX_TENSOR_RANK];

	if (nf == 0 || nf > PREDICT_MAX_F || fv_model_n_inputs(m) != 1)
		return;
	FUZZ_CHECK(fv_model_input_type(m, 0, &dt, &has_shape, &rank, dims) == FV_OK);
	if (dt != FV_DTYPE_FLOAT)
		return;
	FUZZ_CHECK(fv_model_input_name(m) != NULL);
	for (size_t i = 0; i < PREDICT_ROWS * nf; i++)
		x[i] = (float)((int)(i % 7) - 3) * 0.5f;
	fuzz_check_err(fv_model_predict(m, x, PREDICT_ROWS, p, &d), &d, RUN_ERRS);
}

int fv_fuzz_model_one(const uint8_t *data, size_t size)
{
	struct fv_model *m = NULL;
	struct fv_model_info *info = NULL;
	struct fv_diag d = {{0}};
	fv_err e, ie;

	e = fuzz_check_err(fv_model_load(data, size, &m, &d), &d, LOAD_ERRS);
	fuzz_result(e);
	if (e == FV_OK) {
		FUZZ_CHECK(m != NULL);
		for (size_t i = 0; i < fv_model_n_inputs(m); i++)
			FUZZ_CHECK(fv_model_input_name_at(m, i) != NULL);
		for (size_t i = 0; i < fv_model_n_outputs(m); i++)
			FUZZ_CHECK(fv_model_output_name_at(m, i) != NULL);
		fuzz_predict(m);
	}
	fv_model_free(m);

	d.msg[0] = '\0';
	ie = fuzz_check_err(fv_model_inspect(data, size, &info, &d), &d,
			    FUZZ_ERR(FV_EPROTO) | FUZZ_ERR(FV_ELIMIT) | FUZZ_ERR(FV_EINVAL));
	if (ie == FV_OK) {
		FUZZ_CHECK(info->runnable == (e == FV_OK));
		FUZZ_CHECK(memchr(info->refusal, '\0', sizeof(info->refusal)) != NULL);
		for (size_t i = 0; i < info->n_inputs; i++)
			FUZZ_CHECK(info->inputs[i].name && info->inputs[i].type);
		for (size_t i = 0; i < info->n_ops; i++)
			FUZZ_CHECK(info->ops[i].op_type && info->ops[i].domain);
	} else {
		/* Only bytes that do not parse at all are an error, and those never load. */
		FUZZ_CHECK(e != FV_OK);
	}
	fv_model_info_free(info);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_model_one(data, size);
}
#endif
