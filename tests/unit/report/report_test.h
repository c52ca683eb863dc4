/* Shared by the lib/report tests: load the demo fixture and render it. */
#ifndef FV_REPORT_TEST_H
#define FV_REPORT_TEST_H

#include <criterion/criterion.h>
#include <jansson.h>

#include "fedval/report.h"
#include "fedval/util.h"

/* tests/unit/report/fixtures/demo-report.json: `fedval results --json` from
 * deploy/demo/run-demo.sh (three hospitals), with the variable lists cut to three entries. */
#define FIXTURE FV_SOURCE_DIR "/tests/unit/report/fixtures/demo-report.json"

static inline json_t *load_fixture(void)
{
	json_error_t e;
	json_t *j = json_load_file(FIXTURE, 0, &e);
	cr_assert_not_null(j, "%s:%d: %s", FIXTURE, e.line, e.text);
	return j;
}

/* Render with default options; fails the test on error. Free with fv_free. */
static inline char *render(const json_t *j)
{
	char *html = NULL;
	size_t len = 0;
	struct fv_diag d = {{0}};
	fv_err e = fv_report_html(j, NULL, &html, &len, &d);
	cr_assert_eq(e, FV_OK, "fv_report_html: %s", d.msg);
	cr_assert_not_null(html);
	cr_assert_eq(strlen(html), len);
	return html;
}

#endif
