/* End to end: `fedval eval --source images` runs a small CNN (input [N, 1, 8, 8]) on a folder
 * of PNG images written here with libpng. Expected values come from
 * tests/integration/eval_images.py, which decodes the same PNG files itself (zlib + struct),
 * runs the same network in numpy (float64) and computes AUROC (Mann-Whitney) and Brier. The
 * scores of fv_model_predict on the pixels of the image source are checked against the same
 * reference, so a wrong pixel order (C,H,W) or a wrong feed of the rank-4 input shows. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/util.h"
#include "unit/data/image_test.h"

#define BIN  FV_BUILD_DIR "/fedval"
#define NIMG 40
#define SIDE 8

static char dir[64];

static void rm_dir(void)
{
	char cmd[128];
	if (dir[0] && snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd))
		(void)!system(cmd);
}

static json_t *run_json(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	json_error_t err;
	json_t *j;

	cr_assert(p);
	j = json_loadf(p, 0, &err);
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert(j, "%s: %s", cmd, err.text);
	return j;
}

static void write_text(const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert(f = fopen(path, "w"));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* NIMG images: noise, plus a bright square in the upper left for most positives, so the model
 * separates the classes well but not perfectly. */
static void write_folder(void)
{
	uint32_t seed = 12345;
	char path[160], line[64], *index = NULL;
	size_t len = 0;
	FILE *idx = open_memstream(&index, &len);

	cr_assert(idx);
	fputs("file,y\n", idx);
	for (int i = 0; i < NIMG; i++) {
		uint16_t s[SIDE * SIDE];
		int y = i % 2, blob = y ? i % 7 != 1 : i % 9 == 0;
		for (int p = 0; p < SIDE * SIDE; p++) {
			seed = seed * 1664525u + 1013904223u;
			s[p] = (uint16_t)(seed >> 25); /* 0..127 */
			if (blob && p / SIDE < 4 && p % SIDE < 4)
				s[p] = (uint16_t)(s[p] + 120);
		}
		snprintf(line, sizeof(line), "img%02d.png", i);
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		it_write_png(path, SIDE, SIDE, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, s);
		fprintf(idx, "%s,%d\n", line, y);
	}
	cr_assert_eq(fclose(idx), 0);
	write_text("index.csv", index);
	free(index);
}

static void write_specs(void)
{
	json_t *vars = json_array(), *man;
	char name[32], *text;

	for (int k = 0; k < SIDE * SIDE; k++) {
		snprintf(name, sizeof(name), "pixel_%d", k);
		json_array_append_new(vars, json_string(name));
	}
	man = json_pack("{s:{s:o}}", "input", "variables", vars);
	text = json_dumps(man, 0);
	write_text("manifest.json", text);
	free(text);
	json_decref(man);
	write_text("benchmark.json", "{\"label\": \"y\", \"thresholds\": [0.5]}\n");
}

Test(eval_images, cnn_on_a_png_folder_matches_an_independent_computation, .timeout = 300)
{
	char cmd[1024], mpath[160];
	json_t *ref, *got, *scores;
	struct fv_source_spec sp = {.kind = FV_SOURCE_IMAGES,
				    .image_column = "file",
				    .image_channels = 1,
				    .image_height = SIDE,
				    .image_width = SIDE};
	const char *vars[SIDE * SIDE];
	char names[SIDE * SIDE][16], ipath[160];
	struct fv_mapping map = {SIDE * SIDE, vars, vars, "y"};
	struct fv_source *src = NULL;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	float *x = calloc((size_t)NIMG * SIDE * SIDE, sizeof(float));
	uint8_t y[NIMG];
	double p[NIMG];
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;

	snprintf(dir, sizeof(dir), "/tmp/fv-eval-images-XXXXXX");
	cr_assert(mkdtemp(dir));
	atexit(rm_dir);
	write_folder();
	write_specs();
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/integration/eval_images.py' '%s'",
		 FV_SOURCE_DIR, dir);
	ref = run_json(cmd);

	snprintf(cmd, sizeof(cmd),
		 BIN " eval --model %s/model.onnx --benchmark %s/benchmark.json --manifest "
		     "%s/manifest.json --data %s/index.csv --source images --image-column file "
		     "--image-shape 1,%d,%d --threads 2 --batch 7 --json",
		 dir, dir, dir, dir, SIDE, SIDE);
	got = run_json(cmd);
	cr_assert_eq(json_integer_value(json_object_get(got, "n")), NIMG);
	cr_assert_eq(json_integer_value(json_object_get(ref, "n")), NIMG);
	cr_assert_float_eq(json_number_value(json_object_get(got, "auc")),
			   json_number_value(json_object_get(ref, "auc")), 1e-12);
	cr_assert(json_number_value(json_object_get(ref, "auc")) > 0.75, "a trivial model: %g",
		  json_number_value(json_object_get(ref, "auc")));
	cr_assert(json_number_value(json_object_get(ref, "auc")) < 1.0, "a trivial data set");
	cr_assert_float_eq(json_number_value(json_object_get(got, "brier")),
			   json_number_value(json_object_get(ref, "brier")), 1e-6);

	/* The same pixels through the library: the model's scores, one by one. */
	for (int k = 0; k < SIDE * SIDE; k++) {
		snprintf(names[k], sizeof(names[k]), "pixel_%d", k);
		vars[k] = names[k];
	}
	snprintf(ipath, sizeof(ipath), "%s/index.csv", dir);
	sp.path = ipath;
	snprintf(mpath, sizeof(mpath), "%s/model.onnx", dir);
	cr_assert_eq(fv_file_read(mpath, FV_MAX_MODEL_BYTES, &buf, &len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_model_n_features(m), SIDE * SIDE);
	cr_assert_eq(fv_source_open(&sp, &map, &src, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(src, x, y, NIMG, &n, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(n, NIMG);
	cr_assert_eq(fv_model_predict(m, x, n, p, &d), FV_OK, "%s", d.msg);
	scores = json_object_get(ref, "scores");
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(p[i], json_number_value(json_array_get(scores, i)), 1e-5,
				   "image %zu: %.9g", i, p[i]);

	/* A missing image stops the evaluation with a message naming its line. */
	snprintf(cmd, sizeof(cmd), "rm %s/img07.png", dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 BIN " eval --model %s/model.onnx --benchmark %s/benchmark.json --manifest "
		     "%s/manifest.json --data %s/index.csv --source images --image-column file "
		     "--image-shape 1,%d,%d 2>&1",
		 dir, dir, dir, dir, SIDE, SIDE);
	{
		FILE *pp = popen(cmd, "r");
		char out[2048] = "";
		size_t r = fread(out, 1, sizeof(out) - 1, pp);
		out[r] = '\0';
		cr_assert_eq(WEXITSTATUS(pclose(pp)), 1, "%s", out);
		cr_assert(strstr(out, "line 9") && strstr(out, "img07.png"), "%s", out);
	}
	fv_source_close(src);
	fv_model_free(m);
	fv_free(buf);
	free(x);
	json_decref(ref);
	json_decref(got);
}

/* The same network on a folder of DICOM files (8-bit MONOCHROME2 Explicit VR, 8-bit
 * MONOCHROME1 Implicit VR, 16-bit with a rescale), written by eval_images.py --dicom with
 * pydicom, whose pixel values (pydicom's pixel_array, inverted for MONOCHROME1, rescaled) are
 * the reference's. */
Test(eval_images, cnn_on_a_dicom_folder_matches_pydicom, .timeout = 300)
{
	char cmd[1024];
	json_t *ref, *got;

	snprintf(dir, sizeof(dir), "/tmp/fv-eval-dicom-XXXXXX");
	cr_assert(mkdtemp(dir));
	atexit(rm_dir);
	write_specs();
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 '%s/tests/integration/eval_images.py' --dicom '%s'",
		 FV_SOURCE_DIR, dir);
	ref = run_json(cmd);
	snprintf(cmd, sizeof(cmd),
		 BIN " eval --model %s/model.onnx --benchmark %s/benchmark.json --manifest "
		     "%s/manifest.json --data %s/index.csv --source images --image-column file "
		     "--image-shape 1,%d,%d --threads 2 --batch 7 --json",
		 dir, dir, dir, dir, SIDE, SIDE);
	got = run_json(cmd);
	cr_assert_eq(json_integer_value(json_object_get(got, "n")), NIMG);
	cr_assert_eq(json_integer_value(json_object_get(ref, "n")), NIMG);
	cr_assert(json_number_value(json_object_get(ref, "auc")) > 0.75, "a trivial model: %g",
		  json_number_value(json_object_get(ref, "auc")));
	cr_assert_float_eq(json_number_value(json_object_get(got, "auc")),
			   json_number_value(json_object_get(ref, "auc")), 1e-12);
	cr_assert_float_eq(json_number_value(json_object_get(got, "brier")),
			   json_number_value(json_object_get(ref, "brier")), 1e-6);

	/* A compressed file stops the evaluation with a message naming it and its transfer
	 * syntax. */
	snprintf(
	    cmd, sizeof(cmd),
	    "/usr/bin/python3 -c \"import sys; p=sys.argv[1]; d=open(p,'rb').read(); "
	    "open(p,'wb').write(d.replace(b'1.2.840.10008.1.2.1\\0', b'1.2.840.10008.1.2.5\\0', "
	    "1))\" %s/img03.dcm",
	    dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 BIN " eval --model %s/model.onnx --benchmark %s/benchmark.json --manifest "
		     "%s/manifest.json --data %s/index.csv --source images --image-column file "
		     "--image-shape 1,%d,%d 2>&1",
		 dir, dir, dir, dir, SIDE, SIDE);
	{
		FILE *pp = popen(cmd, "r");
		char out[2048] = "";
		size_t r = fread(out, 1, sizeof(out) - 1, pp);
		out[r] = '\0';
		cr_assert_eq(WEXITSTATUS(pclose(pp)), 1, "%s", out);
		cr_assert(strstr(out, "line 5") && strstr(out, "img03.dcm") &&
			      strstr(out, "1.2.840.10008.1.2.5 (0002,0010) is compressed"),
			  "%s", out);
	}
	json_decref(ref);
	json_decref(got);
}
