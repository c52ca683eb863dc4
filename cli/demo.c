/* Demo helpers: synthetic hospital cohorts and the demo vendor's model. They exist so that the
 * README's demo and the tests need nothing downloaded and no Python. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/stats.h"
#include "fedval/util.h"

static const char data_usage[] =
    "usage: fedval demo data --profile P --rows N [--seed S] --out FILE.csv\n"
    "\n"
    "Write a deterministic synthetic heart-failure 30-day readmission cohort (20 predictors,\n"
    "label readmit_30d). Profile 0 is the vendor's development population; 1-3 are hospitals\n"
    "A-C with different case mix and prevalence (C: a shifted risk relationship).\n"
    "\n"
    "  --profile P   0..3\n"
    "  --rows N      number of patients (1..50000000)\n"
    "  --seed S      generator seed (default 1)\n"
    "  --out FILE    output CSV ('-' = stdout)\n";

int cmd_demo_data(int argc, char **argv)
{
	static const struct option opts[] = {{"profile", required_argument, NULL, 'p'},
					     {"rows", required_argument, NULL, 'n'},
					     {"seed", required_argument, NULL, 's'},
					     {"out", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	long profile = -1, rows = -1, seed = 1;
	const char *out = NULL;
	struct fv_diag d = {{0}};
	FILE *f;
	int c, bad = 0;
	fv_err e;

	if (cli_wants_help(argc, argv, data_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, data_usage, &bad)) != -1) {
		if (c == 'p' && fv_parse_long(optarg, 0, 3, &profile) != FV_OK)
			return cli_usage(data_usage, "--profile '%s' must be 0..3", optarg);
		if (c == 'n' && fv_parse_long(optarg, 1, 50000000, &rows) != FV_OK)
			return cli_usage(data_usage, "--rows '%s' must be 1..50000000", optarg);
		if (c == 's' && fv_parse_long(optarg, 0, 0x7fffffffL, &seed) != FV_OK)
			return cli_usage(data_usage, "--seed '%s' must be a non-negative integer",
					 optarg);
		if (c == 'o')
			out = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (profile < 0 || rows < 0 || !out || optind != argc)
		return cli_usage(data_usage, "demo data needs --profile, --rows and --out");
	f = strcmp(out, "-") ? fopen(out, "w") : stdout;
	if (!f) {
		fv_diag_set(&d, FV_EIO, "%s: cannot create", out);
		return cli_fail("demo data", &d);
	}
	e = fv_synth_hf_write(f, (int)profile, (uint64_t)seed, (size_t)rows, &d);
	if (f != stdout && fclose(f) != 0 && e == FV_OK)
		e = fv_diag_set(&d, FV_EIO, "%s: write error", out);
	return e == FV_OK ? CLI_OK : cli_fail("demo data", &d);
}

static const char train_usage[] =
    "usage: fedval demo train --data FILE.csv --out-dir DIR [--name NAME] [--version V]\n"
    "\n"
    "Fit the demo vendor's logistic-regression model on a synthetic development cohort (see\n"
    "'fedval demo data --profile 0') and write DIR/model.onnx (MatMul+Add+Sigmoid) and\n"
    "DIR/manifest.json (name, version, intended use, input variables, claimed AUROC on the\n"
    "development data). The manifest is submitted with 'fedval model submit'.\n"
    "\n"
    "  --data FILE    development cohort CSV\n"
    "  --out-dir DIR  where to write model.onnx and manifest.json\n"
    "  --name NAME    model name (default hf-readmit-lr)\n"
    "  --version V    model version (default 1.0.0)\n"
    "  --ridge L      ridge penalty on standardised coefficients (default 1.0)\n"
    "  --variables L  comma-separated predictors to use (default: all 21)\n"
    "  --target VAR   fit a linear regression of this variable instead (e.g.\n"
    "                 length_of_stay; it is left out of the predictors): model.onnx is\n"
    "                 MatMul+Add, the manifest claims MAE, RMSE and R2\n";

/* Mean and standard deviation (1 for a constant column, so dividing by it is harmless) of the
 * n values x[0], x[stride], ... of one column. */
static void column_scale(const float *x, size_t n, size_t stride, double *mean, double *sd)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i * stride];
	*mean = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i * stride] - *mean) * (x[i * stride] - *mean);
	*sd = ss > 0 ? sqrt(ss / (double)n) : 1.0;
}

/* Fit on standardised predictors (well-conditioned Newton steps), then fold the scaling back
 * so the ONNX model takes raw values. */
static fv_err fit(const struct fv_dataset *ds, double lambda, double *coef, double *intercept,
		  struct fv_diag *d)
{
	size_t n = ds->n, p = ds->nvars;
	double *x = fv_calloc(n * p, sizeof(double)), *mean = fv_calloc(p, sizeof(double)),
	       *sd = fv_calloc(p, sizeof(double));
	fv_err e = FV_ENOMEM;

	if (!x || !mean || !sd) {
		fv_diag_set(d, e, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < p; j++) {
		column_scale(ds->x + j, n, p, &mean[j], &sd[j]);
		for (size_t i = 0; i < n; i++)
			x[i * p + j] = (ds->x[i * p + j] - mean[j]) / sd[j];
	}
	if ((e = fv_stats_logreg_fit(x, ds->y, n, p, lambda, coef, intercept, d)) != FV_OK)
		goto out;
	for (size_t j = 0; j < p; j++) {
		coef[j] /= sd[j];
		*intercept -= coef[j] * mean[j];
	}
out:
	fv_free(x);
	fv_free(mean);
	fv_free(sd);
	return e;
}

/* The vendor's artefacts: DIR/model.onnx and DIR/manifest.json (sorted keys, indented). */
static fv_err write_artefacts(const char *dir, const uint8_t *onnx, size_t onnx_len,
			      const json_t *man, struct fv_diag *d)
{
	char path[4096];
	fv_err e;

	if ((e = fv_mkdir_p(dir, 0755, d)) != FV_OK)
		return e;
	if (fv_fmt(path, sizeof(path), "%s/model.onnx", dir))
		return fv_diag_set(d, FV_ELIMIT, "%s: path too long", dir);
	if ((e = fv_file_write_atomic(path, onnx, onnx_len, 0644, d)) != FV_OK)
		return e;
	if (fv_fmt(path, sizeof(path), "%s/manifest.json", dir) ||
	    json_dump_file(man, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		return fv_diag_set(d, FV_EIO, "cannot write %s/manifest.json", dir);
	return FV_OK;
}

/* Ridge least squares of the last column of ds->x on the others (standardised; the intercept
 * unpenalised) by the normal equations and a Cholesky factorisation, folded back to raw
 * values. */
static fv_err fit_linear(const struct fv_dataset *ds, double lambda, double *coef,
			 double *intercept, struct fv_diag *d)
{
	size_t n = ds->n, w = ds->nvars, p = w - 1;
	double mean[64] = {0}, sd[64] = {0}, a[64][64] = {{0}}, b[64] = {0}, ym = 0;

	if (p == 0 || p > 63 || n < 2)
		return fv_diag_set(d, FV_EINVAL, "a regression needs 1..63 predictors and data");
	for (size_t i = 0; i < n; i++)
		ym += ds->x[i * w + p];
	ym /= (double)n;
	for (size_t j = 0; j < p; j++)
		column_scale(ds->x + j, n, w, &mean[j], &sd[j]);
	for (size_t i = 0; i < n; i++) {
		double z[64], y = ds->x[i * w + p] - ym;
		for (size_t j = 0; j < p; j++)
			z[j] = (ds->x[i * w + j] - mean[j]) / sd[j];
		for (size_t j = 0; j < p; j++) {
			b[j] += z[j] * y;
			for (size_t k = 0; k <= j; k++)
				a[j][k] += z[j] * z[k];
		}
	}
	/* (Z'Z + lambda I) beta = Z'y: Cholesky L L' then two triangular solves */
	for (size_t j = 0; j < p; j++) {
		a[j][j] += lambda;
		for (size_t k = 0; k <= j; k++) {
			double s = a[j][k];
			for (size_t m = 0; m < k; m++)
				s -= a[j][m] * a[k][m];
			if (k == j) {
				if (!(s > 0))
					return fv_diag_set(
					    d, FV_EINVAL,
					    "the predictors are collinear: add --ridge");
				a[j][j] = sqrt(s);
			} else {
				a[j][k] = s / a[k][k];
			}
		}
	}
	for (size_t j = 0; j < p; j++) {
		for (size_t m = 0; m < j; m++)
			b[j] -= a[j][m] * b[m];
		b[j] /= a[j][j];
	}
	for (size_t j = p; j-- > 0;) {
		for (size_t m = j + 1; m < p; m++)
			b[j] -= a[m][j] * b[m];
		b[j] /= a[j][j];
	}
	*intercept = ym;
	for (size_t j = 0; j < p; j++) {
		coef[j] = b[j] / sd[j];
		*intercept -= coef[j] * mean[j];
	}
	return FV_OK;
}

/* `demo train --target VAR`: the vendor's linear regression of VAR and its manifest. */
static int train_regression(const char *data, const char *dir, const char *name,
			    const char *version, const char *target, const char *const *preds,
			    size_t np, double lambda)
{
	const char *vars[65];
	struct fv_dataset ds = {0};
	struct fv_diag d = {{0}};
	double coef[64], intercept = 0, *pred = NULL, *y = NULL;
	struct fv_regression m;
	uint8_t *onnx = NULL;
	size_t onnx_len = 0, nv = 0;
	json_t *man = NULL, *jv;
	int rc = CLI_FAIL;

	for (size_t j = 0; j < np; j++)
		if (strcmp(preds[j], target) != 0)
			vars[nv++] = preds[j];
	vars[nv] = target; /* read last, as the outcome */
	/* the cohort's 0/1 label is read and ignored: the outcome is a variable */
	struct fv_mapping map = {nv + 1, vars, vars, fv_synth_hf_label()};
	if (fv_data_read_csv(data, NULL, &map, &ds, &d) != FV_OK ||
	    fit_linear(&ds, lambda, coef, &intercept, &d) != FV_OK)
		goto out;
	if (!(pred = fv_calloc(ds.n, sizeof(double))) || !(y = fv_calloc(ds.n, sizeof(double)))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ds.n; i++) {
		pred[i] = intercept;
		for (size_t j = 0; j < nv; j++)
			pred[i] += coef[j] * ds.x[i * (nv + 1) + j];
		y[i] = ds.x[i * (nv + 1) + nv];
	}
	if (fv_stats_regression(pred, y, ds.n, &m, &d) != FV_OK ||
	    fv_model_write_linear("input", nv, coef, intercept, &onnx, &onnx_len, &d) != FV_OK)
		goto out;
	jv = json_array();
	for (size_t j = 0; j < nv; j++)
		json_array_append_new(jv, json_string(vars[j]));
	man =
	    json_pack("{s:s,s:s,s:s,s:{s:s,s:o},s:{s:f,s:f,s:f,s:s,s:I},s:{s:s,s:s},s:s}", "name",
		      name, "version", version, "intended_use",
		      "Expected length of stay of adults admitted with heart failure, for bed "
		      "and discharge planning.",
		      "input", "tensor", "input", "variables", jv, "claimed_performance", "mae",
		      m.mae, "rmse", m.rmse, "r2", m.r2, "population",
		      "development cohort (synthetic profile 0)", "n", (json_int_t)ds.n,
		      "regulatory", "mdr_class", "I", "ai_act", "not high-risk", "output", target);
	if (write_artefacts(dir, onnx, onnx_len, man, &d) != FV_OK)
		goto out;
	printf("trained %s %s, a linear regression of %s on %zu records (development MAE %.3f, "
	       "R2 %.3f): %s/model.onnx, %s/manifest.json\n",
	       name, version, target, ds.n, m.mae, m.r2, dir, dir);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("demo train", &d);
	json_decref(man);
	fv_free(onnx);
	fv_free(pred);
	fv_free(y);
	fv_dataset_fini(&ds);
	return rc;
}

int cmd_demo_train(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},   {"out-dir", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, 'n'},   {"version", required_argument, NULL, 'v'},
	    {"ridge", required_argument, NULL, 'r'},  {"variables", required_argument, NULL, 'V'},
	    {"target", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	const char *only = NULL, *target = NULL;
	const char *chosen[64];
	const char *data = NULL, *dir = NULL, *name = "hf-readmit-lr", *version = "1.0.0";
	const char *const *preds = fv_synth_hf_predictors();
	double lambda = 1.0, coef[64], intercept = 0, *p = NULL, auc = 0, var = 0;
	struct fv_dataset ds = {0};
	struct fv_diag d = {{0}};
	size_t np = 0;
	uint8_t *onnx = NULL;
	size_t onnx_len = 0;
	json_t *man = NULL, *vars;
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, train_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, train_usage, &bad)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'o')
			dir = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 'v')
			version = optarg;
		else if (c == 'r' && (fv_parse_double(optarg, &lambda) != FV_OK || lambda < 0))
			return cli_usage(train_usage, "--ridge '%s' must be a number >= 0", optarg);
		else if (c == 'V')
			only = optarg;
		else if (c == 't')
			target = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (!data || !dir || optind != argc)
		return cli_usage(train_usage, "demo train needs --data and --out-dir");
	for (size_t i = 0; preds[i]; i++) {
		size_t len = strlen(preds[i]);
		const char *p = only;
		bool take = !only;
		while (p && *p && !take) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			take = l == len && !strncmp(p, preds[i], len);
			p = e ? e + 1 : NULL;
		}
		if (take)
			chosen[np++] = preds[i];
	}
	if (np == 0)
		return cli_usage(train_usage, "--variables names none of the cohort's predictors");
	preds = chosen;
	if (target) {
		bool known = false;
		for (size_t i = 0; fv_synth_hf_predictors()[i]; i++)
			known = known || !strcmp(fv_synth_hf_predictors()[i], target);
		if (!known)
			return cli_usage(train_usage,
					 "--target '%s' is not one of the cohort's "
					 "variables",
					 target);
		return train_regression(data, dir, name, version, target, preds, np, lambda);
	}
	struct fv_mapping map = {np, preds, preds, fv_synth_hf_label()};
	if (fv_data_read_csv(data, NULL, &map, &ds, &d) != FV_OK ||
	    fit(&ds, lambda, coef, &intercept, &d) != FV_OK)
		goto out;
	if (!(p = fv_calloc(ds.n, sizeof(double)))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ds.n; i++) {
		double z = intercept;
		for (size_t j = 0; j < np; j++)
			z += coef[j] * ds.x[i * np + j];
		p[i] = 1.0 / (1.0 + exp(-z));
	}
	if (fv_stats_auc_delong(p, ds.y, ds.n, &auc, &var, &d) != FV_OK ||
	    fv_model_write_logreg("input", np, coef, intercept, &onnx, &onnx_len, &d) != FV_OK)
		goto out;
	vars = json_array();
	for (size_t j = 0; j < np; j++)
		json_array_append_new(vars, json_string(preds[j]));
	/* Apparent sensitivity and specificity at 0.2 on the development data: what a vendor
	 * would claim. */
	size_t tp = 0, pos = 0, tn = 0;
	for (size_t i = 0; i < ds.n; i++) {
		pos += ds.y[i];
		tp += ds.y[i] && p[i] >= 0.2;
		tn += !ds.y[i] && p[i] < 0.2;
	}
	man = json_pack("{s:s,s:s,s:s,s:{s:s,s:o},s:{s:f,s:{s:f,s:f},s:{s:f,s:f},s:s,s:I},s:{s:s,"
			"s:s},s:s,s:f}",
			"name", name, "version", version, "intended_use",
			"Risk of unplanned readmission within 30 days of discharge for adults "
			"hospitalised with heart failure; decision support for transitional care.",
			"input", "tensor", "input", "variables", vars, "claimed_performance",
			"auroc", auc, "sensitivity", "threshold", 0.2, "value",
			pos ? (double)tp / (double)pos : 0.0, "specificity", "threshold", 0.2,
			"value", ds.n > pos ? (double)tn / (double)(ds.n - pos) : 0.0, "population",
			"development cohort (synthetic profile 0)", "n", (json_int_t)ds.n,
			"regulatory", "mdr_class", "IIa", "ai_act", "high-risk", "output",
			"probability of readmit_30d = 1", "decision_threshold", 0.2);
	if (write_artefacts(dir, onnx, onnx_len, man, &d) != FV_OK)
		goto out;
	printf("trained %s %s on %zu records (development AUROC %.3f): %s/model.onnx, "
	       "%s/manifest.json\n",
	       name, version, ds.n, auc, dir, dir);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("demo train", &d);
	json_decref(man);
	fv_free(onnx);
	fv_free(p);
	fv_dataset_fini(&ds);
	return rc;
}
