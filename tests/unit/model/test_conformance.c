/* Conformance against the ONNX project's node tests (Debian libonnx-testdata,
 * /usr/include/onnx/backend/test/data/node), run by the library's runner (the same code as
 * `fedval model conformance`), at the tolerances of onnx.backend.test: rtol 1e-3, atol 1e-7.
 *
 * Every test of a supported operator must pass, except tests refused at load or run as
 * unsupported (an attribute value, an element type, an opset): those are counted and listed
 * on stderr, never silently passed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "fedval/model.h"

Test(conformance, onnx_node_tests)
{
	struct fv_conformance *r = NULL;
	struct fv_diag d = {{0}};
	size_t pass = 0, fail = 0, refused_sup = 0, refused_unsup = 0, ops_sup = 0;
	bool verbose = getenv("FV_CONFORMANCE_VERBOSE") != NULL;

	cr_assert_eq(access(FV_CONFORMANCE_DIR, R_OK), 0,
		     "%s missing: install libonnx-testdata (deploy/install-deps.sh)",
		     FV_CONFORMANCE_DIR);
	cr_assert_eq(fv_model_conformance(NULL, NULL, &r, &d), FV_OK, "%s", d.msg);
	cr_assert_gt(r->n_cases, 900, "only %zu cases found", r->n_cases);
	for (size_t i = 0; i < r->n_cases; i++) {
		const struct fv_conformance_case *c = &r->cases[i];
		bool sup = fv_model_op_supported(c->domain, c->op);
		switch (c->result) {
		case FV_CASE_PASS:
			pass++;
			break;
		case FV_CASE_FAIL:
			fail++;
			cr_expect_fail("%s (%s): %s", c->name, c->op, c->msg);
			break;
		case FV_CASE_REFUSED:
			if (sup) {
				refused_sup++;
				fprintf(stderr, "refused (supported op %s): %s: %s\n", c->op,
					c->name, c->msg);
			} else {
				refused_unsup++;
				if (verbose)
					fprintf(stderr, "refused %s: %s\n", c->name, c->msg);
			}
			break;
		}
	}
	for (size_t i = 0; i < r->n_ops; i++) {
		const struct fv_conformance_op *o = &r->ops[i];
		if (!o->supported)
			continue;
		ops_sup++;
		cr_expect_eq(o->failed, 0, "%s: %zu of %zu tests fail", o->op, o->failed, o->tests);
		cr_expect_eq(o->passed + o->refused, o->tests);
	}
	fprintf(stderr,
		"onnx node tests: %zu cases, %zu passed, %zu failed, %zu refused (%zu of them of "
		"a supported operator); %zu supported operators\n",
		r->n_cases, pass, fail, refused_sup + refused_unsup, refused_sup, ops_sup);
	cr_expect_gt(pass, 300);
	fv_conformance_free(r);
}

Test(conformance, single_operator)
{
	struct fv_conformance *r = NULL;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_model_conformance(NULL, "gemm", &r, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(r->n_ops, 1);
	cr_expect_str_eq(r->ops[0].op, "Gemm");
	cr_expect(r->ops[0].supported);
	cr_expect_eq(r->ops[0].tests, r->n_cases);
	cr_expect_geq(r->ops[0].tests, 11);
	cr_expect_eq(r->ops[0].passed, r->ops[0].tests);
	fv_conformance_free(r);
}

Test(conformance, missing_dir)
{
	struct fv_conformance *r = NULL;
	struct fv_diag d = {{0}};

	cr_expect_eq(fv_model_conformance("/nonexistent/onnx/node", NULL, &r, &d), FV_ENOTFOUND);
	cr_expect_null(r);
	cr_expect(strstr(d.msg, "/nonexistent/onnx/node") != NULL);
}
