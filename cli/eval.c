/* fedval eval: the node's evaluation, run locally on a file — a hospital's dry run before
 * joining, a vendor's check of its own model, and the subject of benchmarks/eval. Nothing is
 * sent anywhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

static const char eval_usage[] =
    "usage: fedval eval --model MODEL.onnx --benchmark SPEC.json --manifest MANIFEST.json\n"
    "                   --data FILE [--source csv|sqlite|images] [--table T | --query SQL]\n"
    "                   [--image-column COL --image-shape C,H,W [--image-scale S]]\n"
    "                   [--threads N] [--batch ROWS] [--json]\n"
    "\n"
    "Evaluate a model on local data exactly as a node does (streaming, N threads) and print\n"
    "n, prevalence, AUROC with DeLong CI, Brier score, O/E and the confusion counts at the\n"
    "benchmark's thresholds. Variables come from the manifest's input.variables, the label\n"
    "from the benchmark; columns must carry those names. Nothing leaves this machine.\n"
    "A regression, survival or multiclass benchmark (its \"task\") gives that task's metrics\n"
    "instead (docs/statistics.md): the outcome and survival time columns carry the\n"
    "benchmark's label and time names.\n"
    "\n"
    "  --source images      --data is the CSV index of a folder of PNG images\n"
    "                       (docs/data-sources.md, \"Image folder\"); its pixels are the\n"
    "                       columns pixel_0 .. pixel_{C*H*W-1} in C,H,W order\n"
    "  --image-column COL   index column holding each image's path, relative to the index\n"
    "  --image-shape C,H,W  the model's input: C = 1 (gray) or 3 (RGB); every image must be\n"
    "                       exactly H x W pixels\n"
    "  --image-scale S      pixel = sample / S (16-bit: / 257 S); default 255, so [0, 1]\n"
    "  --threads N          model threads (default: all cores)\n"
    "  --batch ROWS         records per batch (default 8192)\n"
    "  --json               print the statistics as JSON\n";

/* "C,H,W" into the spec. */
static fv_err image_shape(const char *s, struct fv_source_spec *spec)
{
	long v[3];
	char *end;

	for (int i = 0; i < 3; i++) {
		v[i] = strtol(s, &end, 10);
		if (end == s || v[i] < 1 || v[i] > FV_MAX_FEATURES || *end != (i < 2 ? ',' : '\0'))
			return FV_EINVAL;
		s = end + 1;
	}
	spec->image_channels = (unsigned)v[0];
	spec->image_height = (unsigned)v[1];
	spec->image_width = (unsigned)v[2];
	return FV_OK;
}

int cmd_eval(int argc, char **argv)
{
	static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
					     {"benchmark", required_argument, NULL, 'b'},
					     {"manifest", required_argument, NULL, 'f'},
					     {"data", required_argument, NULL, 'd'},
					     {"source", required_argument, NULL, 's'},
					     {"table", required_argument, NULL, 't'},
					     {"query", required_argument, NULL, 'q'},
					     {"threads", required_argument, NULL, 'n'},
					     {"batch", required_argument, NULL, 'B'},
					     {"json", no_argument, NULL, 'j'},
					     {"image-column", required_argument, NULL, 'I'},
					     {"image-shape", required_argument, NULL, 'S'},
					     {"image-scale", required_argument, NULL, 'G'},
					     {NULL, 0, NULL, 0}};
	const char *model = NULL, *bench = NULL, *manifest = NULL;
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV};
	long threads = sysconf(_SC_NPROCESSORS_ONLN), batch = 8192;
	bool as_json = false;
	struct fv_diag d = {{0}};
	json_t *b = NULL, *m = NULL, *v;
	struct eval_in in = {0};
	struct eval_out *o = NULL;
	const char *vars[FV_MAX_FEATURES];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int c, bad = 0, rc = CLI_FAIL;
	int64_t t0;

	if (cli_wants_help(argc, argv, eval_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, eval_usage, &bad)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'b':
			bench = optarg;
			break;
		case 'f':
			manifest = optarg;
			break;
		case 'd':
			spec.path = optarg;
			break;
		case 's':
			if (fv_source_kind_parse(optarg, &spec.kind) != FV_OK ||
			    spec.kind == FV_SOURCE_POSTGRES)
				return cli_usage(eval_usage, "--source '%s': csv, sqlite or images",
						 optarg);
			break;
		case 'I':
			spec.image_column = optarg;
			break;
		case 'S':
			if (image_shape(optarg, &spec) != FV_OK)
				return cli_usage(eval_usage,
						 "--image-shape '%s': C,H,W (three positive "
						 "integers)",
						 optarg);
			break;
		case 'G':
			if (fv_parse_double(optarg, &spec.image_scale) != FV_OK ||
			    spec.image_scale <= 0)
				return cli_usage(eval_usage, "--image-scale '%s': a number > 0",
						 optarg);
			break;
		case 't':
			spec.table = optarg;
			break;
		case 'q':
			spec.query = optarg;
			break;
		case 'n':
			if (fv_parse_long(optarg, 1, NODE_MAX_THREADS, &threads) != FV_OK)
				return cli_usage(eval_usage, "--threads '%s': 1..%d", optarg,
						 NODE_MAX_THREADS);
			break;
		case 'B':
			if (fv_parse_long(optarg, 1, 1 << 20, &batch) != FV_OK)
				return cli_usage(eval_usage, "--batch '%s': 1..1048576", optarg);
			break;
		case 'j':
			as_json = true;
			break;
		}
	}
	if (bad)
		return CLI_USAGE;
	if (!model || !bench || !manifest || !spec.path || optind != argc)
		return cli_usage(eval_usage,
				 "eval needs --model, --benchmark, --manifest and --data");
	if (spec.kind == FV_SOURCE_SQLITE && !spec.table == !spec.query)
		return cli_usage(eval_usage, "--source sqlite needs --table or --query");
	if (spec.kind == FV_SOURCE_IMAGES && (!spec.image_column || !spec.image_channels))
		return cli_usage(eval_usage,
				 "--source images needs --image-column and --image-shape");
	if (spec.kind != FV_SOURCE_IMAGES &&
	    (spec.image_column || spec.image_channels || spec.image_scale))
		return cli_usage(eval_usage, "--image-* options need --source images");
	if (cli_json_file(bench, &b, &d) != FV_OK || cli_json_file(manifest, &m, &d) != FV_OK ||
	    fv_file_read(model, FV_MAX_MODEL_BYTES, &buf, &len, &d) != FV_OK)
		goto out;
	json_array_foreach(json_object_get(json_object_get(m, "input"), "variables"), i, v)
	{
		if (!json_is_string(v) || in.nvars == FV_MAX_FEATURES) {
			fv_diag_set(&d, FV_EINVAL, "%s: input.variables[%zu] is not a name",
				    manifest, i);
			goto out;
		}
		vars[in.nvars++] = json_string_value(v);
	}
	json_array_foreach(json_object_get(b, "thresholds"), i, v)
	{
		if (!json_is_number(v) || in.n_thr == NODE_MAX_THR) {
			fv_diag_set(&d, FV_EINVAL, "%s: thresholds[%zu] is not a number", bench, i);
			goto out;
		}
		in.thr[in.n_thr++] = json_number_value(v);
	}
	in.label_column = json_string_value(json_object_get(b, "label"));
	if (!in.nvars || !in.label_column) {
		fv_diag_set(&d, FV_EINVAL, "need manifest input.variables and benchmark label");
		goto out;
	}
	/* Other tasks: the outcome variable read after the model's (as the node does). */
	enum fv_task task = fv_task_parse(json_string_value(json_object_get(b, "task")));
	if (task == FV_TASK_UNKNOWN) {
		fv_diag_set(&d, FV_EINVAL, "%s: unknown task", bench);
		goto out;
	}
	if (task != FV_TASK_BINARY) {
		const char *outcome = task == FV_TASK_REGRESSION
					  ? in.label_column
					  : json_string_value(json_object_get(b, "time"));
		in.task = task;
		in.n_classes = (uint32_t)json_integer_value(json_object_get(b, "classes"));
		if (task != FV_TASK_MULTICLASS) {
			if (!outcome || in.nvars == FV_MAX_FEATURES) {
				fv_diag_set(&d, FV_EINVAL, "%s: a survival benchmark names 'time'",
					    bench);
				goto out;
			}
			vars[in.nvars++] = outcome;
			in.n_outcomes = 1;
		}
		if (task == FV_TASK_REGRESSION)
			in.label_column = NULL;
	}
	in.model = buf;
	in.model_len = len;
	in.vars = vars;
	in.columns = vars;
	in.source = &spec;
	in.timeout_s = 0;
	in.threads = (int)threads;
	in.batch_rows = (size_t)batch;
	if (!(o = fv_calloc(1, sizeof(*o)))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	t0 = fv_mono_ms();
	node_eval_compute(&in, o);
	if (o->status) {
		fv_diag_set(&d, (fv_err)o->status, "%s", o->error);
		goto out;
	}
	double secs = (double)(fv_mono_ms() - t0) / 1000.0, lo = NAN, hi = NAN;
	if (task != FV_TASK_BINARY) {
		/* everything, unsuppressed: nothing leaves the machine in a dry run */
		if (as_json) {
			json_t *j = fv_task_json(task, &o->task);
			json_object_set_new(j, "seconds", json_real(secs));
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
			putchar('\n');
			json_decref(j);
		} else {
			cli_task_print_site(task, "this file", &o->task);
		}
		rc = CLI_OK;
		goto out;
	}
	if (isfinite(o->auc))
		fv_stats_auc_ci(o->auc, o->auc_var, 0.95, &lo, &hi);
	if (as_json) {
		json_t *rows = json_array();
		for (uint32_t t = 0; t < o->n_thr; t++)
			json_array_append_new(
			    rows, json_pack("{s:f,s:I,s:I,s:I,s:I}", "threshold", o->thr[t], "tp",
					    (json_int_t)o->tp[t], "fp", (json_int_t)o->fp[t], "tn",
					    (json_int_t)o->tn[t], "fn", (json_int_t)o->fn[t]));
		json_t *j = json_pack(
		    "{s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o,s:f,s:I}", "n", (json_int_t)o->n,
		    "n_pos", (json_int_t)o->n_pos, "auc", o->auc, "auc_var", o->auc_var,
		    "auc_ci_low", lo, "auc_ci_high", hi, "brier", o->brier_sum / (double)o->n,
		    "observed_expected", (double)o->n_pos / o->sum_p, "seconds", secs, "thresholds",
		    rows, "rows_per_s", (double)o->n / secs, "threads", (json_int_t)threads);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
		putchar('\n');
		json_decref(j);
	} else {
		printf("n %llu, events %llu (%.2f%%)\nAUROC %.4f (95%% CI %.4f-%.4f, DeLong)\n"
		       "Brier %.5f, O/E %.3f\n",
		       (unsigned long long)o->n, (unsigned long long)o->n_pos,
		       100.0 * (double)o->n_pos / (double)o->n, o->auc, lo, hi,
		       o->brier_sum / (double)o->n, (double)o->n_pos / o->sum_p);
		for (uint32_t t = 0; t < o->n_thr; t++)
			printf("threshold %-5g TP %llu FP %llu TN %llu FN %llu\n", o->thr[t],
			       (unsigned long long)o->tp[t], (unsigned long long)o->fp[t],
			       (unsigned long long)o->tn[t], (unsigned long long)o->fn[t]);
		fprintf(stderr, "%llu records in %.2f s (%.0f records/s, %ld threads)\n",
			(unsigned long long)o->n, secs, (double)o->n / secs, threads);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("eval", &d);
	fv_free(o);
	fv_free(buf);
	json_decref(b);
	json_decref(m);
	return rc;
}
