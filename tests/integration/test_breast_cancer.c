/* A real public data set, split across three hospital nodes: the Wisconsin diagnostic breast
 * cancer data (Street, Wolberg & Mangasarian 1993; UCI), as shipped inside Debian's
 * python3-sklearn. 569 records, 30 features, target 1 = benign (357), 0 = malignant (212).
 * The pooled confusion counts of the federation must equal those computed on the whole file. */
#include <jansson.h>
#include <math.h>

#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/stats.h"
#include "harness.h"

#define BC_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
#define NF     30
#define NROWS  569

static struct fed F;
static double X[NROWS][NF];
static uint8_t Y[NROWS];
static const double THR[] = {0.1, 0.3, 0.5, 0.7, 0.9};
#define NTHR (sizeof(THR) / sizeof(THR[0]))

static void teardown(void)
{
	h_fed_cleanup(&F);
}

/* The file's first line is "569,30,malignant,benign", not a header: write proper CSVs with a
 * header (f0..f29,label), record i going to site i % 3. */
static void split(void)
{
	FILE *in = fopen(BC_CSV, "r"), *out[3];
	char line[4096];
	cr_assert(in, "%s missing: python3-sklearn is installed by deploy/install-deps.sh", BC_CSV);
	cr_assert(fgets(line, sizeof(line), in));
	cr_assert(strncmp(line, "569,30,", 7) == 0, "unexpected first line: %s", line);
	for (int s = 0; s < 3; s++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/site%d.csv", F.dir, s);
		out[s] = fopen(path, "w");
		for (int j = 0; j < NF; j++)
			fprintf(out[s], "f%d,", j);
		fputs("label\n", out[s]);
	}
	for (int i = 0; i < NROWS; i++) {
		char *p = line, *end;
		cr_assert(fgets(line, sizeof(line), in), "short file at record %d", i);
		fputs(line, out[i % 3]);
		for (int j = 0; j < NF; j++) {
			X[i][j] = strtod(p, &end);
			cr_assert(*end == ',');
			p = end + 1;
		}
		Y[i] = (uint8_t)strtol(p, NULL, 10);
	}
	fclose(in);
	for (int s = 0; s < 3; s++)
		fclose(out[s]);
}

/* A vendor's model: ridge logistic regression on standardised features, scaling folded back. */
static void train(void)
{
	static double Z[NROWS * NF];
	double mean[NF], sd[NF], coef[NF], b = 0;
	uint8_t *onnx = NULL;
	size_t len = 0;
	struct fv_diag d = {{0}};
	char path[512];

	for (int j = 0; j < NF; j++) {
		double s = 0, ss = 0;
		for (int i = 0; i < NROWS; i++)
			s += X[i][j];
		mean[j] = s / NROWS;
		for (int i = 0; i < NROWS; i++)
			ss += (X[i][j] - mean[j]) * (X[i][j] - mean[j]);
		sd[j] = sqrt(ss / NROWS);
		for (int i = 0; i < NROWS; i++)
			Z[i * NF + j] = (X[i][j] - mean[j]) / sd[j];
	}
	cr_assert_eq(fv_stats_logreg_fit(Z, Y, NROWS, NF, 1.0, coef, &b, &d), FV_OK, "%s", d.msg);
	for (int j = 0; j < NF; j++) {
		coef[j] /= sd[j];
		b -= coef[j] * mean[j];
	}
	cr_assert_eq(fv_model_write_logreg("features", NF, coef, b, &onnx, &len, &d), FV_OK);
	snprintf(path, sizeof(path), "%s/bc.onnx", F.dir);
	cr_assert_eq(fv_file_write_atomic(path, onnx, len, 0644, &d), FV_OK);
	fv_free(onnx);

	json_t *vars = json_array(), *bvars = json_array(), *thr = json_array();
	for (int j = 0; j < NF; j++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", j);
		json_array_append_new(vars, json_string(name));
		json_array_append_new(bvars, json_pack("{s:s}", "name", name));
	}
	for (size_t t = 0; t < NTHR; t++)
		json_array_append_new(thr, json_real(THR[t]));
	json_t *man = json_pack("{s:s,s:s,s:s,s:{s:o}}", "name", "bc-lr", "version", "1",
				"intended_use", "benign vs malignant breast mass from FNA features",
				"input", "variables", vars);
	json_t *bench =
	    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "name", "wdbc", "version", "1", "task", "binary",
		      "label", "label", "variables", bvars, "thresholds", thr);
	snprintf(path, sizeof(path), "%s/bc-manifest.json", F.dir);
	cr_assert_eq(json_dump_file(man, path, 0), 0);
	snprintf(path, sizeof(path), "%s/bc-benchmark.json", F.dir);
	cr_assert_eq(json_dump_file(bench, path, 0), 0);
	json_decref(man);
	json_decref(bench);
}

/* Reference: the same model on the whole file, in this process. */
static void whole_file_counts(struct fv_confusion *c)
{
	static float xf[NROWS * NF];
	static double p[NROWS];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_model *m = NULL;
	struct fv_diag d = {{0}};
	char path[512];

	snprintf(path, sizeof(path), "%s/bc.onnx", F.dir);
	cr_assert_eq(fv_file_read(path, 1 << 26, &buf, &len, &d), FV_OK);
	cr_assert_eq(fv_model_load(buf, len, &m, &d), FV_OK, "%s", d.msg);
	fv_free(buf);
	for (int i = 0; i < NROWS; i++)
		for (int j = 0; j < NF; j++)
			xf[i * NF + j] = (float)X[i][j];
	cr_assert_eq(fv_model_predict(m, xf, NROWS, p, &d), FV_OK, "%s", d.msg);
	fv_model_free(m);
	for (size_t t = 0; t < NTHR; t++)
		cr_assert_eq(fv_stats_confusion(p, Y, NROWS, THR[t], &c[t]), FV_OK);
}

Test(breast_cancer, three_sites_pool_to_whole_file_counts, .fini = teardown, .timeout = 180)
{
	struct fv_confusion ref[NTHR];
	char *out = NULL, vid[128], run[128], path[512];
	json_error_t jerr;

	h_fed_init(&F);
	split();
	train();
	whole_file_counts(ref);
	for (int s = 0; s < 3; s++) {
		char name[32], csv[32];
		snprintf(name, sizeof(name), "site-%d", s);
		snprintf(csv, sizeof(csv), "site%d.csv", s);
		/* Each site allows cells of 1 so that every count is released and comparable. */
		h_node_add(&F, name, csv, "[policy]\nmin_cell_count = 1\nmin_cohort_size = 50\n");
	}
	h_coord_start(&F);
	for (int s = 0; s < 3; s++)
		h_node_start(&F, s);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model bc.onnx --manifest "
			   "bc-manifest.json"),
		     0, "%s", out);
	h_last_line(out, vid, sizeof(vid));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create bc-benchmark.json 2>&1"), 0,
		     "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run start --benchmark wdbc --model %s", vid), 0,
		     "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120", run), 0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/bc-report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);

	json_t *rep = json_load_file(path, 0, &jerr);
	cr_assert(rep, "%s", jerr.text);
	json_t *pooled = json_object_get(rep, "pooled");
	cr_assert_eq(json_integer_value(json_object_get(pooled, "n")), NROWS);
	cr_assert_eq(json_integer_value(json_object_get(pooled, "n_pos")), 357);
	cr_assert_eq(json_integer_value(json_object_get(pooled, "sites")), 3);
	for (size_t t = 0; t < NTHR; t++) {
		json_t *row = json_array_get(json_object_get(pooled, "thresholds"), t);
		cr_assert_eq(json_integer_value(json_object_get(row, "sites")), 3);
		cr_assert_eq((uint64_t)json_integer_value(json_object_get(row, "tp")), ref[t].tp,
			     "tp at %g", THR[t]);
		cr_assert_eq((uint64_t)json_integer_value(json_object_get(row, "fp")), ref[t].fp,
			     "fp at %g", THR[t]);
		cr_assert_eq((uint64_t)json_integer_value(json_object_get(row, "tn")), ref[t].tn,
			     "tn at %g", THR[t]);
		cr_assert_eq((uint64_t)json_integer_value(json_object_get(row, "fn")), ref[t].fn,
			     "fn at %g", THR[t]);
	}

	/* fedval stats on one file of (score, label, site) computes what this federation
	 * published: per-site AUROCs and the random-effects pooled AUROC. The scores are the
	 * model's, written by fedval model run at float precision, as the nodes score. */
	cr_assert_eq(
	    h_run(
		&out,
		"cd %s && for s in 0 1 2; do " H_BIN(
		    "fedval") " model run bc.onnx --csv site$s.csv --features $(/usr/bin/python3 "
			      "-c \"import json; print(','.join(json.load(open('bc-manifest.json'))"
			      "['input']['variables']))\") --out score$s.csv || exit 1; done && "
			      "/usr/bin/python3 -c \"import csv\n"
			      "w = csv.writer(open('all.csv', 'w'), lineterminator='\\n')\n"
			      "w.writerow(['score', 'label', 'site'])\n"
			      "for s in range(3):\n"
			      "  sc = [r['probability'] for r in "
			      "csv.DictReader(open('score%%d.csv' "
			      "%% s))]\n"
			      "  lab = [r['label'] for r in csv.DictReader(open('site%%d.csv' %% "
			      "s))]\n"
			      "  [w.writerow([a, b, 'site-%%d' %% s]) for a, b in zip(sc, lab)]\n"
			      "\" && " H_BIN("fedval") " stats --csv all.csv --score score --label "
						       "label --site site --json > stats.json 2>&1",
		F.dir),
	    0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/stats.json", F.dir);
	json_t *st = json_load_file(path, 0, &jerr);
	cr_assert(st, "%s", jerr.text);
	json_t *sre = json_object_get(json_object_get(st, "pooled"), "auroc_random_effects");
	json_t *fre = json_object_get(pooled, "auroc_random_effects");
	cr_assert(json_is_object(sre) && json_is_object(fre));
	const char *keys[] = {"estimate", "ci_low", "ci_high", "tau2"};
	for (int k = 0; k < 4; k++)
		cr_assert_float_eq(json_number_value(json_object_get(sre, keys[k])),
				   json_number_value(json_object_get(fre, keys[k])), 1e-9,
				   "auroc_random_effects.%s", keys[k]);
	size_t i;
	json_t *ss;
	json_array_foreach(json_object_get(st, "sites"), i, ss)
	{
		const char *name = json_string_value(json_object_get(ss, "site"));
		size_t k;
		json_t *fs;
		bool found = false;
		json_array_foreach(json_object_get(rep, "sites"), k, fs)
		{
			if (strcmp(json_string_value(json_object_get(fs, "node")), name))
				continue;
			found = true;
			cr_assert_float_eq(
			    json_number_value(
				json_object_get(json_object_get(ss, "auroc"), "estimate")),
			    json_number_value(
				json_object_get(json_object_get(fs, "auroc"), "estimate")),
			    1e-9, "%s AUROC", name); /* the report prints 10 digits */
		}
		cr_assert(found, "site %s", name);
	}
	json_decref(st);
	json_decref(rep);
}
