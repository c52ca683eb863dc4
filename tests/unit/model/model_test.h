/* Helpers shared by the model unit tests: running a case directory laid out like the ONNX
 * backend node tests (model.onnx + test_data_set_N/{input,output}_K.pb) and comparing. */
#ifndef FEDVAL_TESTS_MODEL_TEST_H
#define FEDVAL_TESTS_MODEL_TEST_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedval/model.h"
#include "fedval/util.h"
#include "model/model_int.h"

enum case_result { CASE_PASS, CASE_SKIP, CASE_FAIL };

/* Whole file into a malloc'd buffer (the tests do not depend on lib/util's file helpers). */
static inline fv_err read_all(const char *path, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	FILE *f = fopen(path, "rb");
	long n;

	*buf = NULL;
	if (!f)
		return fv_diag_set(d, FV_ENOTFOUND, "%s: cannot open", path);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(*buf = malloc((size_t)n + 1)) || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return fv_diag_set(d, FV_EIO, "%s: cannot read", path);
	}
	fclose(f);
	*len = (size_t)n;
	return FV_OK;
}

static inline fv_err read_tensor_pb(const char *path, struct fv_tensor *t, struct fv_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	Onnx__TensorProto *tp;
	fv_err e = read_all(path, &buf, &len, d);

	if (e != FV_OK)
		return e;
	tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!tp)
		return fv_diag_set(d, FV_EPROTO, "%s: not a TensorProto", path);
	e = fv_tensor_from_proto(tp, t, d);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return e;
}

/* |got - want| <= atol + rtol * |want|, NaN matching NaN. msg gets the first mismatch. */
static inline bool tensors_close(const struct fv_tensor *got, const struct fv_tensor *want,
				 double rtol, double atol, char *msg, size_t cap)
{
	if (got->dtype != want->dtype || got->rank != want->rank || got->count != want->count) {
		snprintf(msg, cap,
			 "type/shape: got %s rank %zu count %zu, want %s rank %zu count %zu",
			 fv_dtype_name(got->dtype), got->rank, got->count,
			 fv_dtype_name(want->dtype), want->rank, want->count);
		return false;
	}
	for (size_t i = 0; i < got->rank; i++)
		if (got->dims[i] != want->dims[i]) {
			snprintf(msg, cap, "dim %zu: got %lld want %lld", i,
				 (long long)got->dims[i], (long long)want->dims[i]);
			return false;
		}
	for (size_t i = 0; i < got->count; i++) {
		double g = fv_tensor_getd(got, i), w = fv_tensor_getd(want, i);
		if (got->dtype == FV_DTYPE_INT64 &&
		    fv_tensor_geti(got, i) == fv_tensor_geti(want, i))
			continue;
		if ((isnan(g) && isnan(w)) || g == w)
			continue;
		if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
			snprintf(msg, cap, "element %zu: got %.9g want %.9g", i, g, w);
			return false;
		}
	}
	return true;
}

/* Run every test_data_set_* of dir. Load or run refusals with FV_EUNSUPPORTED are a skip
 * when skip_unsupported; everything else that is not a match is a failure. */
static inline enum case_result run_case_dir(const char *dir, double rtol, double atol,
					    bool skip_unsupported, char *msg, size_t cap)
{
	char path[2048];
	uint8_t *buf = NULL;
	size_t len = 0, n_in = 0, n_out = 0;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	struct fv_tensor in[16], out[16], want;
	const char *in_names[16], *out_names[16];
	enum case_result r = CASE_PASS;
	fv_err e;

	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	msg[0] = '\0';
	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	if ((e = read_all(path, &buf, &len, &d)) != FV_OK) {
		snprintf(msg, cap, "read: %s", d.msg);
		return CASE_FAIL;
	}
	e = fv_model_load(buf, len, &m, &d);
	free(buf);
	if (e != FV_OK) {
		snprintf(msg, cap, "load: %s: %s", fv_strerror(e), d.msg);
		return (e == FV_EUNSUPPORTED && skip_unsupported) ? CASE_SKIP : CASE_FAIL;
	}
	n_in = fv_model_n_inputs(m);
	n_out = fv_model_n_outputs(m);
	if (n_in > 16 || n_out > 16) {
		snprintf(msg, cap, "too many inputs/outputs for the harness");
		r = CASE_SKIP;
		goto out;
	}
	for (int set = 0;; set++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/test_data_set_%d", dir, set);
		if (stat(path, &st) != 0)
			break;
		for (size_t i = 0; i < n_in; i++) {
			snprintf(path, sizeof(path), "%s/test_data_set_%d/input_%zu.pb", dir, set,
				 i);
			if ((e = read_tensor_pb(path, &in[i], &d)) != FV_OK) {
				snprintf(msg, cap, "input %zu: %s", i, d.msg);
				r = e == FV_EUNSUPPORTED && skip_unsupported ? CASE_SKIP
									     : CASE_FAIL;
				goto out;
			}
			in_names[i] = fv_model_input_name_at(m, i);
		}
		for (size_t j = 0; j < n_out; j++)
			out_names[j] = fv_model_output_name_at(m, j);
		e = fv_model_run(m, n_in, in_names, in, n_out, out_names, out, &d);
		if (e != FV_OK) {
			snprintf(msg, cap, "run: %s: %s", fv_strerror(e), d.msg);
			r = e == FV_EUNSUPPORTED && skip_unsupported ? CASE_SKIP : CASE_FAIL;
			goto out;
		}
		for (size_t j = 0; j < n_out; j++) {
			char m2[300];
			snprintf(path, sizeof(path), "%s/test_data_set_%d/output_%zu.pb", dir, set,
				 j);
			if ((e = read_tensor_pb(path, &want, &d)) != FV_OK) {
				snprintf(msg, cap, "output %zu: %s", j, d.msg);
				r = e == FV_EUNSUPPORTED && skip_unsupported ? CASE_SKIP
									     : CASE_FAIL;
				goto out;
			}
			if (!tensors_close(&out[j], &want, rtol, atol, m2, sizeof(m2))) {
				snprintf(msg, cap, "set %d output %zu '%s': %s", set, j,
					 out_names[j], m2);
				r = CASE_FAIL;
			}
			fv_tensor_fini(&want);
			if (r == CASE_FAIL)
				goto out;
		}
		for (size_t i = 0; i < n_in; i++)
			fv_tensor_fini(&in[i]);
		for (size_t j = 0; j < n_out; j++)
			fv_tensor_fini(&out[j]);
	}
out:
	for (size_t i = 0; i < 16; i++) {
		fv_tensor_fini(&in[i]);
		fv_tensor_fini(&out[i]);
	}
	fv_model_free(m);
	return r;
}

/* Python-made cases are generated once per test executable. Criterion runs every test in a
 * fresh process that inherits no variables of the runner, only its environment: so the runner
 * generates them in a PRE_ALL report hook (GENERATED_MODELS below) and passes the directory
 * down in FV_MODEL_TESTS_DIR. A failed generation leaves the variable empty and keeps the
 * directory with its log for inspection. */
#define GENERATED_MODELS_ENV "FV_MODEL_TESTS_DIR"

static char generated_dir[512];

/* Run /usr/bin/python3 tests/unit/model/<script> DIR into a fresh DIR under the build tree. */
static inline void generate_models(const char *script)
{
	char cmd[1400];
	char *dir = generated_dir;

	setenv(GENERATED_MODELS_ENV, "", 1);
	snprintf(dir, sizeof(generated_dir), "%s/model-tests-XXXXXX", FV_BUILD_DIR);
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 '%s/tests/unit/model/%s' '%s' >'%s/make_models.log' 2>&1",
		 FV_SOURCE_DIR, script, dir, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed: see %s/make_models.log\n", script, dir);
		dir[0] = '\0'; /* keep the directory and its log */
		return;
	}
	setenv(GENERATED_MODELS_ENV, dir, 1);
}

/* The directory of the generated cases, or NULL when generation failed. */
static inline const char *generated_models_dir(void)
{
	const char *dir = getenv(GENERATED_MODELS_ENV);
	return dir && dir[0] ? dir : NULL;
}

static inline void remove_generated_models(void)
{
	char cmd[600];
	if (!generated_dir[0] || !strstr(generated_dir, "/model-tests-"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", generated_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", generated_dir);
	generated_dir[0] = '\0';
}

/* Each test file that uses generated models declares, so that the runner generates them before
 * its first test and removes them after its last:
 *   ReportHook(PRE_ALL)(struct criterion_test_set *s) { generate_models("make_x.py"); }
 *   ReportHook(POST_ALL)(struct criterion_global_stats *s) { remove_generated_models(); }
 */

#endif
