/* Conformance against the ONNX project's node tests (Debian libonnx-testdata / libonnx-dev,
 * /usr/include/onnx/backend/test/data/node): every case whose model loads must reproduce the
 * expected outputs. Cases refused as unsupported (operator, element type, attribute) are
 * skipped and counted. Tolerance as in onnx.backend.test: rtol 1e-3, atol 1e-7. */
#include <criterion/criterion.h>

#include "model_test.h"

#define NODE_TESTS "/usr/include/onnx/backend/test/data/node"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(conformance, onnx_node_tests)
{
	DIR *dp = opendir(NODE_TESTS);
	struct dirent *de;
	char **names = NULL, path[1024], msg[1024];
	size_t n = 0, cap = 0, pass = 0, skip = 0, fail = 0;

	if (!dp)
		cr_skip_test("%s not installed", NODE_TESTS);
	while ((de = readdir(dp))) {
		if (strncmp(de->d_name, "test_", 5) != 0)
			continue;
		if (n == cap)
			names = realloc(names, (cap = cap ? 2 * cap : 1024) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", NODE_TESTS, names[i]);
		switch (run_case_dir(path, 1e-3, 1e-7, true, msg, sizeof(msg))) {
		case CASE_PASS:
			pass++;
			if (getenv("FV_CONFORMANCE_VERBOSE"))
				fprintf(stderr, "pass %s\n", names[i]);
			break;
		case CASE_SKIP:
			skip++;
			if (getenv("FV_CONFORMANCE_VERBOSE"))
				fprintf(stderr, "skip %s: %s\n", names[i], msg);
			break;
		case CASE_FAIL:
			fail++;
			cr_expect_fail("%s: %s", names[i], msg);
			break;
		}
		free(names[i]);
	}
	free(names);
	fprintf(stderr, "onnx node tests: %zu passed, %zu skipped (unsupported), %zu failed\n",
		pass, skip, fail);
	cr_expect_gt(pass, 100);
}
