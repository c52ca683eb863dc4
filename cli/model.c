/* Model commands that need no coordinator: inspect an ONNX file, and measure the interpreter's
 * conformance on the ONNX backend node tests. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/model.h"
#include "fedval/util.h"

static const char conformance_usage[] =
    "usage: fedval model conformance [--dir DIR] [--op NAME] [--json | --markdown] [--verbose]\n"
    "\n"
    "Run the ONNX backend node tests (Debian libonnx-testdata) through fedval's interpreter\n"
    "and print, per operator, the number of tests and how many passed, failed, or were\n"
    "refused as unsupported (an operator, attribute, opset or element type fedval does not\n"
    "implement is refused at load, never computed). Outputs are compared as onnx.backend.test\n"
    "does: |got - want| <= 1e-7 + 1e-3 * |want|, integers exactly.\n"
    "\n"
    "  --dir DIR     node test directory (default " FV_CONFORMANCE_DIR ")\n"
    "  --op NAME     only the tests of operator NAME\n"
    "  --json        print {\"<op>\": {\"tests\": N, \"passed\": M, ...}, ...} instead\n"
    "  --markdown    print the table of docs/onnx-support.md instead\n"
    "  --verbose     also list every failed and refused test with the reason\n"
    "\n"
    "Exit status: 0 when every test of every supported operator passes or is refused,\n"
    "1 when one fails (or nothing matched --op), 2 on bad usage.\n";

static const char inspect_usage[] =
    "usage: fedval model inspect MODEL.onnx [--json]\n"
    "\n"
    "Describe an ONNX model without running it: file size and SHA-256, IR version and\n"
    "producer, graph inputs and outputs (name, type, shape), operators with their domain,\n"
    "imported opset and node count, and whether fedval can run it (if not, what its loader\n"
    "refuses and why).\n"
    "\n"
    "  --json   print the description as a JSON object\n"
    "\n"
    "Exit status: 0 when the file was described (runnable or not), 1 when it cannot be read\n"
    "or is not an ONNX model, 2 on bad usage.\n";

/* ---- conformance ---- */

static const char *domain_label(const char *domain)
{
	return *domain ? domain : "ai.onnx";
}

static json_t *conformance_json(const struct fv_conformance *r, bool verbose)
{
	json_t *j = json_object();

	for (size_t i = 0; i < r->n_ops; i++) {
		const struct fv_conformance_op *o = &r->ops[i];
		char key[100];
		json_t *row;
		fv_fmt(key, sizeof(key), "%s%s%s", o->domain, *o->domain ? ":" : "", o->op);
		row = json_pack("{s:I,s:I,s:I,s:I,s:b,s:s}", "tests", (json_int_t)o->tests,
				"passed", (json_int_t)o->passed, "failed", (json_int_t)o->failed,
				"refused", (json_int_t)o->refused, "supported", o->supported,
				"domain", domain_label(o->domain));
		if (verbose) {
			json_t *cases = json_object();
			for (size_t k = 0; k < r->n_cases; k++) {
				const struct fv_conformance_case *c = &r->cases[k];
				if (strcmp(c->op, o->op) || strcmp(c->domain, o->domain))
					continue;
				json_object_set_new(cases, c->name,
						    c->result == FV_CASE_PASS
							? json_string("passed")
						    : c->result == FV_CASE_FAIL
							? json_pack("{s:s}", "failed", c->msg)
							: json_pack("{s:s}", "refused", c->msg));
			}
			json_object_set_new(row, "cases", cases);
		}
		json_object_set_new(j, key, row);
	}
	return j;
}

/* The row of (domain, op) in the report, or NULL when the suite has no test of it. */
static const struct fv_conformance_op *find_row(const struct fv_conformance *r, const char *domain,
						const char *op)
{
	for (size_t i = 0; i < r->n_ops; i++)
		if (!strcmp(r->ops[i].op, op) && !strcmp(r->ops[i].domain, domain))
			return &r->ops[i];
	return NULL;
}

/* Markdown: every implemented operator (with its node tests, if the suite has any), then the
 * suite's operators that fedval does not implement. */
static void print_markdown(const struct fv_conformance *r)
{
	const char *dom, *op;
	size_t n_unsup = 0;

	puts("| Operator | Domain | Opsets | Node tests | Passed | Failed | Refused |");
	puts("|---|---|---|---:|---:|---:|---:|");
	for (size_t i = 0; fv_model_op_at(i, &dom, &op); i++) {
		const struct fv_conformance_op *o = find_row(r, dom, op);
		int lo = 0, hi = 0;
		fv_model_op_opsets(dom, op, &lo, &hi);
		if (o)
			printf("| %s | %s | %d–%d | %zu | %zu | %zu | %zu |\n", op,
			       domain_label(dom), lo, hi, o->tests, o->passed, o->failed,
			       o->refused);
		else
			printf("| %s | %s | %d–%d | — | — | — | — |\n", op, domain_label(dom), lo,
			       hi);
	}
	for (size_t i = 0; i < r->n_ops; i++)
		n_unsup += !r->ops[i].supported;
	if (!n_unsup)
		return;
	printf("\nOperators of the suite that fedval does not implement (%zu; their models are "
	       "refused at load):\n\n",
	       n_unsup);
	for (size_t i = 0, k = 0; i < r->n_ops; i++) {
		if (r->ops[i].supported)
			continue;
		printf("%s%s (%zu)", k++ ? ", " : "", r->ops[i].op, r->ops[i].tests);
	}
	putchar('\n');
}

static void print_table(const struct fv_conformance *r, bool verbose)
{
	size_t tests = 0, passed = 0, failed = 0, refused = 0, sup = 0;

	printf("%-26s %-10s %6s %7s %7s %8s  %s\n", "operator", "domain", "tests", "passed",
	       "failed", "refused", "status");
	for (size_t i = 0; i < r->n_ops; i++) {
		const struct fv_conformance_op *o = &r->ops[i];
		const char *status = !o->supported	     ? "unsupported (refused)"
				     : o->failed	     ? "FAILING"
				     : o->passed == o->tests ? "ok"
							     : "ok (some refused)";
		printf("%-26s %-10s %6zu %7zu %7zu %8zu  %s\n", o->op, domain_label(o->domain),
		       o->tests, o->passed, o->failed, o->refused, status);
		tests += o->tests;
		passed += o->passed;
		failed += o->failed;
		refused += o->refused;
		sup += o->supported;
	}
	printf("%-26s %-10s %6zu %7zu %7zu %8zu  %zu of %zu operators implemented\n", "total", "",
	       tests, passed, failed, refused, sup, r->n_ops);
	for (size_t k = 0; k < r->n_cases; k++) {
		const struct fv_conformance_case *c = &r->cases[k];
		bool sup_op = fv_model_op_supported(c->domain, c->op);
		if (c->result == FV_CASE_FAIL)
			printf("FAILED  %s (%s): %s\n", c->name, c->op, c->msg);
		else if (c->result == FV_CASE_REFUSED && (verbose || sup_op))
			printf("refused %s (%s%s): %s\n", c->name, c->op,
			       sup_op ? ", implemented" : "", c->msg);
	}
}

int cmd_model_conformance(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'}, {"op", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},	   {"markdown", no_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},   {NULL, 0, NULL, 0}};
	const char *dir = NULL, *only = NULL;
	bool json = false, markdown = false, verbose = false;
	struct fv_conformance *r = NULL;
	struct fv_diag d = {{0}};
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, conformance_usage))
		return CLI_OK;
	optind = 1;
	while ((c = cli_getopt(argc, argv, opts, conformance_usage, &bad)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'o')
			only = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'm')
			markdown = true;
		else if (c == 'v')
			verbose = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind != argc)
		return cli_usage(conformance_usage, "model conformance: unexpected argument '%s'",
				 argv[optind]);
	if (json && markdown)
		return cli_usage(conformance_usage,
				 "model conformance: --json and --markdown exclude each other");
	if (fv_model_conformance(dir, only, &r, &d) != FV_OK)
		goto out;
	if (only && r->n_cases == 0) {
		fv_diag_set(&d, FV_ENOTFOUND, "no test of operator '%s' in %s", only,
			    dir ? dir : FV_CONFORMANCE_DIR);
		goto out;
	}
	if (json) {
		json_t *j = conformance_json(r, verbose);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
			json_decref(j);
			fv_diag_set(&d, FV_EIO, "cannot write JSON");
			goto out;
		}
		putchar('\n');
		json_decref(j);
	} else if (markdown) {
		print_markdown(r);
	} else {
		print_table(r, verbose);
	}
	rc = CLI_OK;
	for (size_t i = 0; i < r->n_ops; i++)
		if (r->ops[i].supported && r->ops[i].failed)
			rc = CLI_FAIL;
	if (rc != CLI_OK)
		fv_diag_set(&d, FV_EINVAL, "tests of implemented operators fail");
out:
	if (rc != CLI_OK)
		cli_fail("model conformance", &d);
	fflush(stdout);
	fv_conformance_free(r);
	return rc;
}

/* ---- inspect ---- */

static void shape_text(const struct fv_model_io *io, char *buf, size_t cap)
{
	size_t used;

	if (!io->has_shape) {
		fv_strlcpy(buf, "(no shape)", cap);
		return;
	}
	fv_strlcpy(buf, "[", cap);
	for (size_t i = 0; i < io->rank; i++) {
		used = strlen(buf);
		if (io->dim_params[i])
			fv_fmt(buf + used, cap - used, "%s%s", i ? "," : "", io->dim_params[i]);
		else if (io->dims[i] >= 0)
			fv_fmt(buf + used, cap - used, "%s%lld", i ? "," : "",
			       (long long)io->dims[i]);
		else
			fv_fmt(buf + used, cap - used, "%s?", i ? "," : "");
	}
	used = strlen(buf);
	fv_fmt(buf + used, cap - used, "]");
}

static json_t *io_json(const struct fv_model_io *io)
{
	json_t *j = json_pack("{s:s,s:s}", "name", io->name, "type", io->type), *shape;

	if (!io->has_shape) {
		json_object_set_new(j, "shape", json_null());
		return j;
	}
	shape = json_array();
	for (size_t i = 0; i < io->rank; i++)
		json_array_append_new(shape, io->dim_params[i] ? json_string(io->dim_params[i])
					     : io->dims[i] >= 0
						 ? json_integer((json_int_t)io->dims[i])
						 : json_null());
	json_object_set_new(j, "shape", shape);
	return j;
}

static json_t *inspect_json(const char *path, size_t len, const char *sha,
			    const struct fv_model_info *info)
{
	json_t *j = json_pack(
	    "{s:s,s:I,s:s,s:I,s:s,s:I,s:I,s:I,s:b}", "file", path, "size", (json_int_t)len,
	    "sha256", sha, "ir_version", (json_int_t)info->ir_version, "producer", info->producer,
	    "nodes", (json_int_t)info->n_nodes, "initializers", (json_int_t)info->n_initializers,
	    "initializer_bytes", (json_int_t)info->initializer_bytes, "runnable", info->runnable);
	json_t *ins = json_array(), *outs = json_array(), *ops = json_array();

	for (size_t i = 0; i < info->n_inputs; i++)
		json_array_append_new(ins, io_json(&info->inputs[i]));
	for (size_t i = 0; i < info->n_outputs; i++)
		json_array_append_new(outs, io_json(&info->outputs[i]));
	for (size_t i = 0; i < info->n_ops; i++) {
		const struct fv_model_opinfo *o = &info->ops[i];
		json_array_append_new(
		    ops, json_pack("{s:s,s:s,s:I,s:I,s:b}", "op", o->op_type, "domain",
				   domain_label(o->domain), "opset", (json_int_t)o->opset, "count",
				   (json_int_t)o->count, "supported", o->supported));
	}
	json_object_set_new(j, "inputs", ins);
	json_object_set_new(j, "outputs", outs);
	json_object_set_new(j, "operators", ops);
	json_object_set_new(j, "refusal",
			    info->runnable ? json_null() : json_string(info->refusal));
	return j;
}

static void inspect_text(const char *path, size_t len, const char *sha,
			 const struct fv_model_info *info)
{
	char shape[400];

	printf("file        %s\n", path);
	printf("size        %zu bytes\n", len);
	printf("sha256      %s\n", sha);
	printf("ir_version  %lld\n", (long long)info->ir_version);
	printf("producer    %s\n", *info->producer ? info->producer : "(none)");
	printf("graph       %zu nodes, %zu initialisers (%llu bytes)\n", info->n_nodes,
	       info->n_initializers, (unsigned long long)info->initializer_bytes);
	printf("\ninputs:\n");
	for (size_t i = 0; i < info->n_inputs; i++) {
		shape_text(&info->inputs[i], shape, sizeof(shape));
		printf("  %-24s %-22s %s\n", info->inputs[i].name, info->inputs[i].type, shape);
	}
	printf("outputs:\n");
	for (size_t i = 0; i < info->n_outputs; i++) {
		shape_text(&info->outputs[i], shape, sizeof(shape));
		printf("  %-24s %-22s %s\n", info->outputs[i].name, info->outputs[i].type, shape);
	}
	printf("operators:\n  %-28s %-12s %5s %6s  %s\n", "operator", "domain", "opset", "nodes",
	       "fedval");
	for (size_t i = 0; i < info->n_ops; i++) {
		const struct fv_model_opinfo *o = &info->ops[i];
		printf("  %-28s %-12s %5lld %6zu  %s\n", o->op_type, domain_label(o->domain),
		       (long long)o->opset, o->count, o->supported ? "yes" : "NO");
	}
	if (info->runnable)
		printf("\nrunnable    yes\n");
	else
		printf("\nrunnable    no: %s\n", info->refusal);
}

int cmd_model_inspect(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	const char *path = NULL;
	bool json = false;
	struct fv_model_info *info = NULL;
	struct fv_diag d = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	char sha[FV_SHA256_HEX];
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, inspect_usage))
		return CLI_OK;
	optind = 1;
	while ((c = cli_getopt(argc, argv, opts, inspect_usage, &bad)) != -1)
		if (c == 'j')
			json = true;
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(inspect_usage, "model inspect takes one MODEL.onnx");
	path = argv[optind];
	if (fv_file_read(path, FV_MAX_MODEL_BYTES, &buf, &len, &d) != FV_OK)
		goto out;
	fv_sha256_hex(buf, len, sha);
	if (fv_model_inspect(buf, len, &info, &d) != FV_OK) {
		fv_diag_prefix(&d, "%s: ", path);
		goto out;
	}
	if (json) {
		json_t *j = inspect_json(path, len, sha, info);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
			json_decref(j);
			fv_diag_set(&d, FV_EIO, "cannot write JSON");
			goto out;
		}
		putchar('\n');
		json_decref(j);
	} else {
		inspect_text(path, len, sha, info);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("model inspect", &d);
	fv_model_info_free(info);
	fv_free(buf);
	return rc;
}
