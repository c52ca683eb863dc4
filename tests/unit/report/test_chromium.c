/* Browser test for lib/report: the demo report rendered by headless Chromium (Debian's
 * `chromium` package) gives a PNG screenshot and a PDF, logs nothing to the console, and its
 * dumped DOM holds every chart. Each chromium call is bounded by `timeout 60`.
 *
 * Console check, two ways: (1) with --enable-logging=stderr --v=0 Chromium writes every
 * console message (errors, CSP violations, uncaught exceptions) as a line containing
 * ":CONSOLE"; the report must produce none. (2) a copy of the page gets a probe script
 * before its Content-Security-Policy that records error events, CSP violations and
 * console.error calls and, on load, writes a summary into the DOM that --dump-dom prints.
 * Negative controls prove both detectors fire on a broken page. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit/report/report_test.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fv-report-chromium-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(report_chromium, .init = setup, .fini = teardown, .timeout = 300);

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(s, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	if (n)
		*n = (size_t)len;
	return buf;
}

/* Run chromium headless on dir/page with extra flags; stdout and stderr to files. */
static void chromium(const char *page, const char *flags, const char *out, const char *err)
{
	char cmd[1024];
	int rc;

	cr_assert_eq(system("command -v chromium >/dev/null 2>&1"), 0,
		     "chromium is not installed (apt-get install chromium)");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && HOME='%s' timeout 60 chromium --headless --no-sandbox --disable-gpu "
		 "--no-first-run --user-data-dir='%s/profile' %s 'file://%s/%s' >'%s/%s' 2>'%s/%s'",
		 dir, dir, dir, flags, dir, page, dir, out, dir, err);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "chromium exited with %d: %s", rc, cmd);
}

/* The demo fixture plus what a current `fedval results --json` adds per site: the case mix
 * (one category withheld, a hostile category name), a data summary, and a site whose summary
 * could not be bound (the note), so that figure 5 and the data-quality tables are drawn;
 * operating points (one withheld); and a head-to-head comparison of the run's model with two
 * others (a hostile vendor name), so that figure 6 is drawn. */
static json_t *load_report(void)
{
	json_t *j = load_fixture(), *sites = json_object_get(j, "sites");
	json_t *a = json_array_get(sites, 0), *b = json_array_get(sites, 1);
	const char *va =
	    json_string_value(json_object_get(json_object_get(j, "model"), "version_id"));
	const char *vb = "c0ffee0011223344556677889900aabbccddeeff00112233445566778899aabb";
	const char *vc = "d00d00d0aabbccddeeff00112233445566778899aabbccddeeff001122334455";

	json_object_set_new(
	    a, "subgroups",
	    json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:b}]",
		      "subgroup", "sex", "category", "0", "n", 19000, "n_pos", 3900, "subgroup",
		      "sex", "category", "1", "n", 21000, "n_pos", 4304, "subgroup", "age_band",
		      "category", "[65, 80)", "n", 15000, "n_pos", 3200, "subgroup", "age_band",
		      "category", ">=80", "suppressed", 1));
	json_object_set_new(
	    b, "subgroups",
	    json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i}]", "subgroup", "sex",
		      "category", "0", "n", 12500, "n_pos", 1500, "subgroup", "sex", "category",
		      "1", "n", 12500, "n_pos", 1505, "subgroup", "age_band", "category",
		      "<script>console.error(1)</script>", "n", 10000, "n_pos", 1200));
	json_object_set_new(
	    a, "data_summary",
	    json_pack("{s:s,s:i,s:[{s:s,s:i,s:i,s:i,s:i,s:f,s:n}],s:{s:s,s:i,s:i,s:i,s:f},s:s}",
		      "format", "fedval-data-summary/1", "rows", 40000, "variables", "name",
		      "<img src=x onerror=console.error(2)>", "n_missing", 400, "n_invalid", 2,
		      "n_out_of_range", 3, "n_valid", 39595, "median", 65.0, "sd", "label", "name",
		      "readmit_30d", "n_valid", 40000, "n_missing", 0, "n_invalid", 0, "prevalence",
		      0.205, "fingerprint",
		      "575064c5e2a1d0b3c4f5a6978899aabbccddeeff00112233445566778899aabb"));
	json_object_set_new(
	    a, "dataset",
	    json_pack("{s:s,s:s,s:i}", "name", "ehr-2024", "period", "2024", "records", 40000));
	json_object_set_new(b, "data_summary_note",
			    json_string("the site's registered summary differs from the one at "
					"evaluation (its data changed since)"));
	json_object_set_new(a, "operating_points",
			    json_pack("[{s:s,s:f,s:f,s:i,s:i,s:i,s:i},{s:s,s:f,s:i,s:i,s:i,s:i}]",
				      "target", "sensitivity", "value", 0.8, "threshold", 0.17,
				      "tp", 6600, "fp", 12000, "tn", 19796, "fn", 1604, "target",
				      "declared", "threshold", 0.25, "tp", 5000, "fp", 6000, "tn",
				      25796, "fn", 3204));
	json_object_set_new(b, "operating_points",
			    json_pack("[{s:s,s:f,s:f,s:b}]", "target", "specificity", "value", 0.9,
				      "threshold", 0.42, "suppressed", 1));
	json_object_set_new(
	    j, "head_to_head",
	    json_pack("{s:[{s:s,s:s,s:f,s:f,s:f},{s:s,s:s,s:f,s:f,s:f},{s:s,s:s,s:f,s:f,s:f}],"
		      "s:[{s:s,s:s,s:s,s:f,s:f},{s:s,s:s,s:s,s:f,s:f},{s:s,s:s,s:s,s:f,s:f},"
		      "{s:s,s:s,s:s,s:f,s:f}],"
		      "s:[{s:s,s:s,s:f,s:f,s:f,s:f,s:i}],"
		      "s:[{s:i,s:i,s:i,s:s,s:s},{s:i,s:i,s:i,s:s,s:s},{s:i,s:i,s:i,s:s,s:s}]}",
		      "models", "version_id", va, "vendor", "acme-ai", "auroc", 0.751, "ci_low",
		      0.702, "ci_high", 0.795, "version_id", vb, "vendor",
		      "<script>console.error(3)</script>", "auroc", 0.781, "ci_low", 0.733,
		      "ci_high", 0.823, "version_id", vc, "vendor", "third-ai", "auroc", 0.736,
		      "ci_low", 0.690, "ci_high", 0.779, "site_differences", "site", "hospital-a",
		      "a", va, "b", vb, "difference", 0.01, "variance", 1e-4, "site", "hospital-b",
		      "a", va, "b", vb, "difference", 0.02, "variance", 1e-4, "site", "hospital-c",
		      "a", va, "b", vb, "difference", 0.06, "variance", 1e-4, "site", "hospital-b",
		      "a", va, "b", vc, "difference", -0.015, "variance", 2.5e-5,
		      "pooled_differences", "a", va, "b", vc, "difference", -0.015, "ci_low",
		      -0.0248, "ci_high", -0.0052, "p", 0.0027, "sites", 1, "leaderboard", "rank",
		      1, "rank_low", 1, "rank_high", 2, "version_id", vb, "vendor", "x", "rank", 2,
		      "rank_low", 1, "rank_high", 3, "version_id", va, "vendor", "acme-ai", "rank",
		      3, "rank_low", 2, "rank_high", 3, "version_id", vc, "vendor", "third-ai"));
	return j;
}

static void write_report(const char *name)
{
	char path[128];
	json_t *j = load_report();
	char *h = render(j);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, h, strlen(h));
	fv_free(h);
	json_decref(j);
}

static const char probe[] =
    "<script>(function(){var errs=[];function rec(m){errs.push(String(m));}"
    "window.addEventListener('error',function(e){rec('error: '+(e.message||e.type)+' '+"
    "((e.target&&(e.target.src||e.target.href))||''));},true);"
    "document.addEventListener('securitypolicyviolation',function(e){rec('csp: '+"
    "e.violatedDirective+' '+e.blockedURI);});"
    "window.addEventListener('unhandledrejection',function(e){rec('rejection: '+e.reason);});"
    "var ce=console.error;console.error=function(){rec('console.error: '+"
    "Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};"
    "window.addEventListener('load',function(){var p=document.createElement('pre');"
    "p.id='fv-probe';p.textContent='FV-PROBE errors='+errs.length+' charts='+"
    "document.querySelectorAll('svg.chart').length+' texts='+"
    "document.querySelectorAll('svg.chart text').length+' '+errs.join(' | ');"
    "document.body.appendChild(p);});})();</script>";

/* A copy of the report with the probe before the CSP (so the probe itself may run) and
 * `extra` at the end of <body>. */
static void write_probe(const char *name, const char *extra)
{
	char path[128];
	json_t *j = load_report();
	char *h = render(j), *at = strstr(h, "<meta http-equiv"), *end = strstr(h, "</main>");
	FILE *f;

	cr_assert(at && end && at < end);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	fwrite(h, 1, (size_t)(at - h), f);
	fputs(probe, f);
	fwrite(at, 1, (size_t)(end - at), f);
	fputs(extra, f);
	fputs(end, f);
	cr_assert_eq(fclose(f), 0);
	fv_free(h);
	json_decref(j);
}

static int probe_errors(const char *dom, int *charts)
{
	const char *p = strstr(dom, "<pre id=\"fv-probe\">");
	int errors = -1;
	cr_assert_not_null(p, "the probe did not run (no load event?)");
	cr_assert_eq(
	    sscanf(p, "<pre id=\"fv-probe\">FV-PROBE errors=%d charts=%d", &errors, charts), 2);
	return errors;
}

Test(report_chromium, screenshot_is_a_png)
{
	char path[128];
	size_t n;
	char *png;

	write_report("report.html");
	chromium("report.html", "--screenshot=out.png --window-size=1200,3000 --hide-scrollbars",
		 "shot.out", "shot.err");
	snprintf(path, sizeof(path), "%s/out.png", dir);
	png = read_all(path, &n);
	cr_assert_gt(n, 10000, "screenshot of %zu bytes", n);
	cr_assert(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	free(png);
}

Test(report_chromium, no_console_messages)
{
	char path[128], *err;

	write_report("report.html");
	chromium("report.html",
		 "--enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom", "dom.html",
		 "log.txt");
	snprintf(path, sizeof(path), "%s/log.txt", dir);
	err = read_all(path, NULL);
	cr_assert_null(strstr(err, ":CONSOLE"), "console output:\n%s", err);
	free(err);
}

/* Negative control for the log check: a script blocked by the CSP is logged. */
Test(report_chromium, console_check_sees_a_csp_violation)
{
	static const char bad[] =
	    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-"
	    "Security-Policy\" content=\"default-src 'none'\"></head><body><p>x</p>"
	    "<script>console.error('boom')</script></body></html>";
	char path[128], *err;

	snprintf(path, sizeof(path), "%s/bad.html", dir);
	write_file(path, bad, strlen(bad));
	chromium("bad.html", "--enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom",
		 "dom.html", "log.txt");
	snprintf(path, sizeof(path), "%s/log.txt", dir);
	err = read_all(path, NULL);
	cr_assert_not_null(strstr(err, ":CONSOLE"), "no console line for a blocked script:\n%s",
			   err);
	free(err);
}

Test(report_chromium, dom_has_charts_and_no_errors)
{
	char path[128], *dom;
	int charts = 0;

	write_probe("probe.html", "");
	chromium("probe.html", "--virtual-time-budget=3000 --dump-dom", "dom.html", "dom.err");
	snprintf(path, sizeof(path), "%s/dom.html", dir);
	dom = read_all(path, NULL);
	cr_assert_eq(probe_errors(dom, &charts), 0, "errors in the page: %s",
		     strstr(dom, "<pre id=\"fv-probe\">"));
	cr_assert_eq(charts, 8);
	cr_assert(strstr(dom, "id=\"fig-forest\"") && strstr(dom, "id=\"fig-roc\"") &&
		  strstr(dom, "id=\"fig-oe\"") && strstr(dom, "id=\"fig-prev\"") &&
		  strstr(dom, "id=\"fig-decision\"") && strstr(dom, "id=\"fig-subgroups\"") &&
		  strstr(dom, "id=\"fig-casemix\"") && strstr(dom, "id=\"fig-h2h\""));
	cr_assert(strstr(dom, "id=\"leaderboard-table\"") && strstr(dom, "id=\"h2h-table\""),
		  "head-to-head tables");
	cr_assert(strstr(dom, "id=\"operating-points-table\""), "operating points per site");
	cr_assert(strstr(dom, "<line class=\"hatch\""), "withheld part of the case mix drawn");
	cr_assert(strstr(dom, "id=\"dq-variables-table\""), "data-quality table");
	cr_assert(strstr(dom, "<polygon class=\"diamond\""), "pooled diamond drawn");
	free(dom);
}

/* Negative control for the probe: an external image is blocked and counted. */
Test(report_chromium, probe_sees_an_external_resource)
{
	char path[128], *dom;
	int charts = 0;

	write_probe("probe.html", "<img src=\"https://example.invalid/x.png\" alt=\"\">");
	chromium("probe.html", "--virtual-time-budget=3000 --dump-dom", "dom.html", "dom.err");
	snprintf(path, sizeof(path), "%s/dom.html", dir);
	dom = read_all(path, NULL);
	cr_assert_gt(probe_errors(dom, &charts), 0, "%s", strstr(dom, "<pre id=\"fv-probe\">"));
	free(dom);
}

Test(report_chromium, prints_to_pdf)
{
	char path[128], *pdf;
	size_t n;

	write_report("report.html");
	chromium("report.html", "--print-to-pdf=out.pdf --no-pdf-header-footer", "pdf.out",
		 "pdf.err");
	snprintf(path, sizeof(path), "%s/out.pdf", dir);
	pdf = read_all(path, &n);
	cr_assert_gt(n, 10000, "PDF of %zu bytes", n);
	cr_assert(!memcmp(pdf, "%PDF", 4));
	free(pdf);
}
