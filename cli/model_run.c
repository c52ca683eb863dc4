/* fedval model run: score a CSV file with a model, locally, so that vendors and sites can check
 * a model before a benchmark. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/model.h"
#include "fedval/util.h"

#define RUN_BATCH 8192

static const char run_usage[] =
    "usage: fedval model run MODEL.onnx --csv IN.csv [--features COL,COL,...] --out OUT.csv\n"
    "\n"
    "Feed the listed columns (default: all columns, in file order) as the model's float input\n"
    "[N, F] and write one output row per input row, with a header naming the outputs: an\n"
    "output [N] or [N, 1] is one column named after it, an output [N, C] is C columns NAME_0 ..\n"
    "NAME_{C-1} (for a classifier's probabilities: the positive class last). Every value must\n"
    "be a number; a bad one is named by line and column.\n"
    "\n"
    "  --csv FILE        input records (CSV with a header)\n"
    "  --features LIST   comma-separated columns, in the model's input order\n"
    "  --out FILE        output CSV ('-' = stdout)\n";

static size_t split(char *list, const char **out, size_t cap)
{
	size_t n = 0;
	for (char *p = list; p && *p && n < cap;) {
		char *e = strchr(p, ',');
		if (e)
			*e = '\0';
		out[n++] = p;
		p = e ? e + 1 : NULL;
	}
	return n;
}

/* Columns an output occupies per row (1 for [N] and [N,1]). */
static size_t width(const struct fv_tensor *t)
{
	size_t w = 1;
	for (size_t i = 1; i < t->rank; i++)
		w *= (size_t)t->dims[i];
	return w;
}

static void put_value(FILE *f, const struct fv_tensor *t, size_t idx)
{
	switch (t->dtype) {
	case FV_DTYPE_FLOAT:
		fprintf(f, "%.9g", (double)((const float *)t->data)[idx]);
		break;
	case FV_DTYPE_DOUBLE:
		fprintf(f, "%.17g", ((const double *)t->data)[idx]);
		break;
	case FV_DTYPE_INT64:
		fprintf(f, "%lld", (long long)((const int64_t *)t->data)[idx]);
		break;
	case FV_DTYPE_BOOL:
		fprintf(f, "%d", ((const uint8_t *)t->data)[idx] ? 1 : 0);
		break;
	default:
		fputs("", f);
	}
}

int cmd_model_run(int argc, char **argv)
{
	static const struct option opts[] = {{"csv", required_argument, NULL, 'i'},
					     {"features", required_argument, NULL, 'f'},
					     {"out", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	const char *in_path = NULL, *out_path = NULL, *model_path = NULL;
	char *features = NULL;
	const char *names[FV_MAX_FEATURES];
	size_t col[FV_MAX_FEATURES], nf = 0, nout = 0, rows = 0;
	struct fv_diag d = {{0}};
	struct fv_model *m = NULL;
	struct fv_csv *csv = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	float *x = NULL;
	FILE *out = NULL;
	uint64_t lines[RUN_BATCH];
	int c, bad = 0, rc = CLI_FAIL;
	bool header = false, eof = false;

	if (cli_wants_help(argc, argv, run_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, run_usage, &bad)) != -1) {
		if (c == 'i')
			in_path = optarg;
		else if (c == 'f')
			features = optarg;
		else if (c == 'o')
			out_path = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc || !in_path || !out_path)
		return cli_usage(run_usage, "model run needs MODEL.onnx, --csv and --out");
	model_path = argv[optind];
	if (fv_file_read(model_path, FV_MAX_MODEL_BYTES, &bytes, &len, &d) != FV_OK ||
	    fv_model_load(bytes, len, &m, &d) != FV_OK)
		goto out;
	if (fv_model_n_inputs(m) != 1) {
		fv_diag_set(&d, FV_EUNSUPPORTED,
			    "%s has %zu inputs; model run feeds one [N, F] input", model_path,
			    fv_model_n_inputs(m));
		goto out;
	}
	if (fv_csv_open(in_path, NULL, &csv, &d) != FV_OK)
		goto out;
	if (features) {
		nf = split(features, names, FV_MAX_FEATURES);
		for (size_t j = 0; j < nf; j++) {
			long k = fv_csv_find(csv, names[j]);
			if (k < 0) {
				fv_diag_set(&d, FV_EINVAL, "%s: no column '%s'", in_path, names[j]);
				goto out;
			}
			col[j] = (size_t)k;
		}
	} else {
		nf = fv_csv_ncols(csv);
		for (size_t j = 0; j < nf && j < FV_MAX_FEATURES; j++) {
			names[j] = fv_csv_colname(csv, j);
			col[j] = j;
		}
	}
	if (fv_model_n_features(m) && fv_model_n_features(m) != nf) {
		fv_diag_set(&d, FV_EINVAL, "the model takes %zu features, %zu columns given",
			    fv_model_n_features(m), nf);
		goto out;
	}
	nout = fv_model_n_outputs(m);
	if (!(x = fv_alloc(RUN_BATCH * nf * sizeof(float) + 1))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	out = strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
	if (!out) {
		fv_diag_set(&d, FV_EIO, "%s: cannot create", out_path);
		goto out;
	}
	while (!eof) {
		size_t n = 0;
		while (n < RUN_BATCH) {
			char **f;
			if (fv_csv_next(csv, &f, &eof, &d) != FV_OK)
				goto out;
			if (eof)
				break;
			lines[n] = fv_csv_line(csv);
			for (size_t j = 0; j < nf; j++) {
				double v;
				struct fv_diag why = {{0}};
				if (fv_csv_is_na(csv, f[col[j]]) ||
				    fv_csv_parse_double(csv, f[col[j]], &v, &why) != FV_OK) {
					fv_diag_set(&d, FV_EINVAL, "%s line %llu, column '%s': %s",
						    in_path, (unsigned long long)lines[n], names[j],
						    why.msg[0] ? why.msg : "missing");
					goto out;
				}
				x[n * nf + j] = (float)v;
			}
			n++;
		}
		if (n == 0)
			break;
		struct fv_tensor in = {.dtype = FV_DTYPE_FLOAT,
				       .rank = 2,
				       .dims = {(int64_t)n, (int64_t)nf},
				       .count = n * nf,
				       .data = x};
		const char *in_name = fv_model_input_name_at(m, 0);
		const char *out_names[16];
		struct fv_tensor res[16];
		size_t k = nout < 16 ? nout : 16;
		memset(res, 0, sizeof(res));
		for (size_t o = 0; o < k; o++)
			out_names[o] = fv_model_output_name_at(m, o);
		if (fv_model_run(m, 1, &in_name, &in, k, out_names, res, &d) != FV_OK)
			goto out;
		if (!header) {
			for (size_t o = 0; o < k; o++) {
				size_t w = width(&res[o]);
				for (size_t j = 0; j < w; j++) {
					fputs(o || j ? "," : "", out);
					if (w == 1)
						fputs(out_names[o], out);
					else
						fprintf(out, "%s_%zu", out_names[o], j);
				}
			}
			fputc('\n', out);
			header = true;
		}
		for (size_t r = 0; r < n; r++) {
			for (size_t o = 0; o < k; o++) {
				size_t w = width(&res[o]);
				for (size_t j = 0; j < w; j++) {
					fputs(o || j ? "," : "", out);
					put_value(out, &res[o], r * w + j);
				}
			}
			fputc('\n', out);
		}
		for (size_t o = 0; o < k; o++)
			fv_tensor_fini(&res[o]);
		rows += n;
	}
	if (out != stdout && fclose(out) != 0) {
		out = NULL;
		fv_diag_set(&d, FV_EIO, "%s: write error", out_path);
		goto out;
	}
	if (out != stdout)
		out = NULL;
	fprintf(stderr, "scored %zu records with %s\n", rows, model_path);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("model run", &d);
	if (out && out != stdout)
		fclose(out);
	fv_free(x);
	fv_csv_close(csv);
	fv_model_free(m);
	fv_free(bytes);
	return rc;
}
