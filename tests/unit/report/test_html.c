/* Tests for lib/report: the HTML of the demo report is well formed, self-contained, shows
 * every site and chart, escapes hostile strings, and names the field of an invalid report. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "unit/report/report_test.h"

static size_t count(const char *h, const char *needle)
{
	size_t n = 0;
	for (const char *p = h; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool is_void(const char *name)
{
	static const char *const v[] = {"meta", "br", "hr", "img", "input", "link", NULL};
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(name, v[i]))
			return true;
	return false;
}

/* A tag-stack check: every element closed in order (void and self-closed ones excepted),
 * <style> content skipped. Returns NULL or a message. */
static const char *balanced(const char *h, char *why, size_t cap)
{
	char stack[256][24];
	size_t depth = 0;

	for (const char *p = h; (p = strchr(p, '<'));) {
		bool close = p[1] == '/';
		const char *q = p + 1 + close, *end = strchr(p, '>');
		char name[24];
		size_t n = 0;
		if (!end)
			return "unterminated tag";
		if (*q == '!') {
			p = end + 1;
			continue;
		}
		while (n + 1 < sizeof(name) && (isalnum((unsigned char)q[n]) || q[n] == '-'))
			n++;
		memcpy(name, q, n);
		name[n] = '\0';
		if (n == 0) {
			snprintf(why, cap, "bare '<' at offset %td", p - h);
			return why;
		}
		if (close) {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
				snprintf(why, cap, "</%s> closes <%s> at offset %td", name,
					 depth ? stack[depth - 1] : "(nothing)", p - h);
				return why;
			}
			depth--;
		} else if (end[-1] != '/' && !is_void(name)) {
			if (depth == 256)
				return "too deep";
			snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
			if (!strcmp(name, "style")) {
				if (!(end = strstr(end, "</style>")))
					return "unterminated <style>";
				end--;
			}
		}
		p = end + 1;
	}
	if (depth) {
		snprintf(why, cap, "<%s> never closed", stack[depth - 1]);
		return why;
	}
	return NULL;
}

Test(report_html, demo_renders_well_formed)
{
	json_t *j = load_fixture();
	char *h = render(j), why[160];
	const char *bad = balanced(h, why, sizeof(why));

	cr_assert_null(bad, "%s", bad);
	cr_assert(!strncmp(h, "<!DOCTYPE html>", 15));
	cr_assert_eq(count(h, "<svg"), 6, "six charts");
	cr_assert_eq(count(h, "<svg"), count(h, "</svg>"));
	cr_assert_eq(count(h, "<table"), count(h, "</table>"));
	for (const char *id =
		 "fig-forest\0fig-roc\0fig-oe\0fig-prev\0fig-decision\0fig-subgroups\0";
	     *id; id += strlen(id) + 1)
		cr_assert(strstr(h, id), "chart %s", id);
	cr_assert(strstr(h, "This report states measurements, not approvals or certifications."));
	cr_assert(strstr(h, "Random effects (REML)"));
	cr_assert(strstr(h, "Prediction interval"));
	cr_assert(strstr(h, "id=\"checklist-table\""));
	cr_assert(strstr(h, "TRIPOD+AI"));
	fv_free(h);
	json_decref(j);
}

Test(report_html, every_site_and_digest_is_shown)
{
	json_t *j = load_fixture(), *s;
	char *h = render(j);
	size_t i;

	json_array_foreach(json_object_get(j, "sites"), i, s)
	{
		const char *node = json_string_value(json_object_get(s, "node"));
		cr_assert_geq(count(h, node), 6, "site %s in every table and chart", node);
		cr_assert(strstr(h, json_string_value(json_object_get(s, "signature"))));
		cr_assert(strstr(h, json_string_value(json_object_get(s, "result_sha256"))));
		cr_assert(strstr(h, json_string_value(json_object_get(s, "cert_fingerprint"))));
	}
	cr_assert(strstr(
	    h, json_string_value(json_object_get(json_object_get(j, "model"), "onnx_sha256"))));
	fv_free(h);
	json_decref(j);
}

Test(report_html, self_contained)
{
	json_t *j = load_fixture();
	char *h = render(j);

	cr_assert_null(strstr(h, "http://"));
	cr_assert_null(strstr(h, "https://"));
	cr_assert_null(strstr(h, "<script"));
	cr_assert_null(strstr(h, " src="));
	cr_assert_null(strstr(h, "url("));
	cr_assert_null(strstr(h, "@import"));
	for (const char *p = h; (p = strstr(p, "href=\"")); p += 6)
		cr_assert_eq(p[6], '#', "only in-page links: %.40s", p);
	cr_assert(strstr(h, "Content-Security-Policy"));
	fv_free(h);
	json_decref(j);
}

Test(report_html, hostile_strings_are_escaped)
{
	json_t *j = load_fixture();
	json_t *sites = json_object_get(j, "sites"), *model = json_object_get(j, "model");
	json_t *man = json_object_get(model, "manifest");
	char *h;

	json_object_set_new(json_array_get(sites, 0), "node",
			    json_string("<script>alert(1)</script>"));
	json_object_set_new(json_array_get(sites, 1), "node",
			    json_string("b\" onmouseover=\"alert(2)\" x=\"&amp;'"));
	json_object_set_new(json_array_get(sites, 2), "signature",
			    json_string("<img src=x onerror=alert(3)>"));
	json_object_set_new(model, "vendor", json_string("</title><script>alert(4)</script>"));
	json_object_set_new(man, "name", json_string("</style><svg onload=alert(5)>"));
	json_object_set_new(man, "<b>key</b>", json_string("\xE2\x80\xAEreversed\x01"));
	h = render(j);
	cr_assert_null(strstr(h, "<script"));
	cr_assert_null(strstr(h, "<img"));
	cr_assert_null(strstr(h, "<svg onload"));
	cr_assert(strstr(h, "&lt;/style&gt;&lt;svg onload=alert(5)&gt;"));
	cr_assert_null(strstr(h, "<b>"));
	cr_assert_null(strstr(h, "\xE2\x80\xAE"), "bidi override replaced");
	cr_assert_null(strstr(h, "\x01"));
	cr_assert(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_assert(strstr(h, "b&quot; onmouseover=&quot;alert(2)&quot; x=&quot;&amp;amp;&#39;"));
	cr_assert(strstr(h, "&lt;/title&gt;&lt;script&gt;alert(4)&lt;/script&gt;"));
	cr_assert_eq(count(h, "<svg"), 6);
	char why[160];
	const char *bad = balanced(h, why, sizeof(why));
	cr_assert_null(bad, "%s", bad);
	fv_free(h);
	json_decref(j);
}

Test(report_html, unverified_and_failed_sites_are_excluded)
{
	json_t *j = load_fixture(), *sites = json_object_get(j, "sites");
	char *h;

	json_array_append_new(sites, json_pack("{s:s,s:b,s:s,s:s,s:s,s:s}", "node", "hospital-d",
					       "verified", 0, "error", "signature does not verify",
					       "result_sha256", "00", "signature", "",
					       "cert_fingerprint", ""));
	json_array_append_new(sites,
			      json_pack("{s:s,s:b,s:s,s:s}", "node", "hospital-e", "verified", 1,
					"status", "failed", "reason", "column bnp missing"));
	h = render(j);
	cr_assert(strstr(h, "NOT verified"));
	cr_assert(strstr(h, "signature does not verify"));
	cr_assert(strstr(h, "column bnp missing"));
	cr_assert(strstr(h, "<tr><th>Sites pooled (k)</th><td>3</td></tr>"));
	fv_free(h);
	json_decref(j);
}

/* The pooled AUROC shown equals fv_stats_meta on the fixture's logit AUROCs. */
Test(report_html, pooled_auroc_is_the_reml_meta_analysis)
{
	json_t *j = load_fixture(), *s;
	double y[3], v[3];
	struct fv_meta m;
	char want[64], *h;
	size_t i;

	json_array_foreach(json_object_get(j, "sites"), i, s)
	{
		json_t *a = json_object_get(s, "auroc");
		fv_stats_logit_delta(json_number_value(json_object_get(a, "estimate")),
				     json_number_value(json_object_get(a, "delong_variance")),
				     &y[i], &v[i]);
	}
	cr_assert_eq(fv_stats_meta(y, v, 3, FV_META_REML, 0, 0.95, &m, NULL), FV_OK);
	h = render(j);
	snprintf(want, sizeof(want), "%.3f <span class=\"ci\">(%.3f\xE2\x80\x93%.3f)</span>",
		 fv_stats_expit(m.mu), fv_stats_expit(m.ci_lo), fv_stats_expit(m.ci_hi));
	cr_assert(strstr(h, want), "want %s", want);
	fv_free(h);
	json_decref(j);
}

Test(report_html, dl_and_hk_options)
{
	json_t *j = load_fixture();
	struct fv_report_opts o;
	struct fv_diag d = {{0}};
	char *h = NULL;
	size_t len;

	fv_report_opts_init(&o);
	o.meta = FV_META_DL;
	o.hk = 1;
	o.conf = 0.9;
	o.title = "A <title>";
	cr_assert_eq(fv_report_html(j, &o, &h, &len, &d), FV_OK, "%s", d.msg);
	cr_assert(strstr(h, "Random effects (DerSimonian\xE2\x80\x93Laird, HKSJ)"));
	cr_assert(strstr(h, "90% intervals"));
	cr_assert(strstr(h, "<title>A &lt;title&gt;</title>"));
	fv_free(h);
	o.conf = 1.5;
	cr_assert_eq(fv_report_html(j, &o, &h, &len, &d), FV_EINVAL);
	cr_assert_null(h);
	json_decref(j);
}

static void expect_invalid(json_t *j, fv_err want, const char *field)
{
	char *h = (char *)1;
	size_t len;
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_report_html(j, NULL, &h, &len, &d), want, "%s", d.msg);
	cr_assert_null(h);
	cr_assert(strstr(d.msg, field), "message '%s' names %s", d.msg, field);
	json_decref(j);
}

Test(report_html, invalid_reports_name_the_field)
{
	json_t *j;

	j = load_fixture();
	json_object_set_new(j, "schema", json_string("fedval.report/9"));
	expect_invalid(j, FV_EUNSUPPORTED, "schema");
	j = load_fixture();
	json_object_del(json_array_get(json_object_get(j, "sites"), 1), "n");
	expect_invalid(j, FV_EINVAL, "sites[1].n: missing");
	j = load_fixture();
	json_object_set_new(json_array_get(json_object_get(j, "sites"), 2), "n_pos",
			    json_string("many"));
	expect_invalid(j, FV_EINVAL, "sites[2].n_pos");
	j = load_fixture();
	json_object_set_new(j, "sites", json_object());
	expect_invalid(j, FV_EINVAL, "sites: must be an array");
	j = load_fixture();
	json_object_del(json_object_get(j, "model"), "onnx_sha256");
	expect_invalid(j, FV_EINVAL, "model.onnx_sha256");
	j = load_fixture();
	json_object_set_new(
	    json_array_get(
		json_object_get(json_array_get(json_object_get(j, "sites"), 0), "thresholds"), 1),
	    "tp", json_integer(1));
	expect_invalid(j, FV_EINVAL, "sites[0].thresholds[1]");
	j = load_fixture();
	json_object_set_new(
	    json_object_get(json_array_get(json_object_get(j, "sites"), 0), "auroc"), "estimate",
	    json_real(1.5));
	expect_invalid(j, FV_EINVAL, "sites[0].auroc.estimate");
	j = json_array();
	expect_invalid(j, FV_EINVAL, "JSON object");
}

Test(report_html, suppressed_rows_and_no_results)
{
	json_t *j = load_fixture(), *s0 = json_array_get(json_object_get(j, "sites"), 0);
	char *h;

	json_array_set_new(json_object_get(s0, "thresholds"), 3,
			   json_pack("{s:f,s:b}", "threshold", 0.5, "suppressed", 1));
	h = render(j);
	cr_assert(strstr(h, "suppressed by the site"));
	fv_free(h);
	json_object_set_new(j, "sites", json_array());
	json_object_set_new(j, "pooled", json_pack("{s:i}", "sites", 0));
	json_object_del(j, "subgroups");
	h = render(j);
	cr_assert(strstr(h, "no site has an AUROC"));
	/* the four per-site charts are drawn empty; no decision curve without pooled rows */
	cr_assert_eq(count(h, "<svg"), 4, "empty charts still drawn");
	cr_assert_null(strstr(h, "fig-decision"));
	fv_free(h);
	json_decref(j);
}

/* R 4.x: poisson.test(10)$conf.int = 4.795389 18.390356; poisson.test(0) upper 3.688879. */
Test(report_html, exact_poisson_interval)
{
	double lo, hi;
	rp_poisson_ci(10, 0.95, &lo, &hi);
	cr_assert_float_eq(lo, 4.795389, 1e-6);
	cr_assert_float_eq(hi, 18.390356, 1e-6);
	rp_poisson_ci(0, 0.95, &lo, &hi);
	cr_assert_eq(lo, 0.0);
	cr_assert_float_eq(hi, 3.688879, 1e-6);
}

Test(report_html, escape_cuts_on_character_boundary)
{
	struct rp_buf b = {0};
	rp_esc(&b, "ab\xC3\xA9\xC3\xA9", 3); /* "abéé" cut inside the first é */
	cr_assert_str_eq(b.p, "ab\xE2\x80\xA6");
	b.len = 0;
	rp_esc(&b, "a&<>\"'\tz\x7f", 0);
	cr_assert_str_eq(b.p, "a&amp;&lt;&gt;&quot;&#39;\tz\xEF\xBF\xBD");
	fv_free(b.p);
}

/* Every allocation failure gives FV_ENOMEM and leaks nothing (ASan build). */
Test(report_html, allocation_failure)
{
	json_t *j = load_fixture();
	struct fv_diag d = {{0}};
	char *h = NULL;
	size_t len;
	fv_err e = FV_ENOMEM;

	for (long n = 1; n < 500 && e == FV_ENOMEM; n++) {
		fv_alloc_fail_after(n);
		e = fv_report_html(j, NULL, &h, &len, &d);
		fv_alloc_fail_after(0);
		if (e == FV_ENOMEM)
			cr_assert_null(h);
	}
	cr_assert_eq(e, FV_OK);
	fv_free(h);
	json_decref(j);
}

/* The decision curve's numbers: net benefit = TP/n - FP/n t/(1-t) from the pooled row, and
 * treat-all = prevalence - (1 - prevalence) t/(1-t) (Vickers & Elkin, Med Decis Making
 * 2006;26:565-574, eq. 1): for TP 60, FP 140, TN 760, FN 40 at t = 0.2 (n = 1000):
 * model 0.06 - 0.14 x 0.25 = 0.0250, treat all 0.1 - 0.9 x 0.25 = -0.1250. A recalibration
 * fit in the report shows its slope and intercept with Wald intervals. */
Test(report_html, decision_curve_and_recalibration_values)
{
	json_t *j = load_fixture();
	json_object_set_new(j, "pooled",
			    json_pack("{s:i,s:i,s:i,s:[{s:f,s:i,s:i,s:i,s:i}]}", "sites", 1, "n",
				      1000, "n_pos", 100, "thresholds", "threshold", 0.2, "tp", 60,
				      "fp", 140, "tn", 760, "fn", 40));
	json_object_set_new(j, "recalibration",
			    json_pack("{s:s,s:f,s:f,s:f,s:f}", "status", "converged", "intercept",
				      -0.25, "intercept_se", 0.1, "slope", 0.8, "slope_se", 0.05));
	char *h = render(j);
	cr_assert(strstr(h, "id=\"fig-decision\""));
	cr_assert(strstr(h, "<td class=\"num\">0.2</td><td class=\"num\">0.0250</td><td "
			    "class=\"num\">-0.1250</td>"),
		  "decision table");
	cr_assert(strstr(h, "id=\"recalibration-table\""));
	cr_assert(strstr(h, "0.800"), "slope shown");
	fv_free(h);
	json_decref(j);
}

/* ---- population and data quality ---- */

static const char summary_note[] =
    "the site's registered summary differs from the one at evaluation (its data changed since)";

/* A data summary as docs/data-summary.md shows it; the variables are [name, missing, invalid,
 * out of range] and the rest of the rows valid. */
static json_t *summary_of(json_int_t rows, const json_t *label, const char *const *names,
			  const json_int_t (*cnt)[3], size_t nvars)
{
	json_t *vars = json_array();
	for (size_t i = 0; i < nvars; i++)
		json_array_append_new(
		    vars, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:n,s:n,s:f,s:n,s:f,s:n,s:f,s:f,s:n}",
				    "name", names[i], "n_present", rows - cnt[i][0], "n_missing",
				    cnt[i][0], "n_invalid", cnt[i][1], "n_out_of_range", cnt[i][2],
				    "n_valid", rows - cnt[i][0] - cnt[i][1] - cnt[i][2],
				    "declared_min", "declared_max", "min", 26.0, "q25", "median",
				    65.0, "q75", "max", 100.0, "mean", 64.94, "sd"));
	return json_pack("{s:s,s:s,s:i,s:I,s:o,s:O,s:[],s:s}", "format", "fedval-data-summary/1",
			 "source", "csv", "min_cell", 5, "rows", rows, "variables", vars, "label",
			 label, "subgroups", "fingerprint",
			 "575064c5e2a1d0b3c4f5a6978899aabbccddeeff00112233445566778899aabb");
}

/* The fixture's three sites (n = 40000, 25000, 30000) with a case mix and data summaries:
 *   hospital-a: age_band "[65, 80)" 15000 of 40000 = 37.5 %; "<50" 6000, "[50, 65)" 14000,
 *     ">=80" withheld, so 40000 - 35000 = 5000 withheld = 12.5 %; variable "<img ...>" missing
 *     400 of 40000 = 1.0 %, "age" 10 of 40000 = 0.025 % (shown "<0.1%"), 2 invalid, 3 out of
 *     range; label prevalence 0.205.
 *   hospital-b: "[65, 80)" 10000 of 25000 = 40.0 %; category "<script>..." 1000 = 4.0 %; no
 *     "<50": 25000 - 11000 = 14000 withheld = 56.0 %; "age" missing 2500 of 25000 = 10.0 %;
 *     label prevalence withheld (null).
 *   hospital-c: no case mix (an older node) and no summary bound, only the note. */
static json_t *population_fixture(void)
{
	static const char *const va[] = {"age", "<img src=x onerror=alert(7)>",
					 "ejection_fraction"};
	static const json_int_t ca[][3] = {{10, 2, 3}, {400, 0, 0}, {1000, 0, 0}};
	static const char *const vb[] = {"age"};
	static const json_int_t cb[][3] = {{2500, 0, 0}};
	json_t *j = load_fixture(), *sites = json_object_get(j, "sites");
	json_t *a = json_array_get(sites, 0), *b = json_array_get(sites, 1),
	       *c = json_array_get(sites, 2);
	json_t *man = json_object_get(json_object_get(j, "model"), "manifest"), *lab;

	json_object_set_new(man, "intended_population",
			    json_string("<i>adults</i> with heart failure & over 18"));
	json_object_set_new(
	    a, "subgroups",
	    json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},"
		      "{s:s,s:s,s:i,s:i},{s:s,s:s,s:b}]",
		      "subgroup", "sex", "category", "0", "n", 19000, "n_pos", 3900, "subgroup",
		      "sex", "category", "1", "n", 21000, "n_pos", 4304, "subgroup", "age_band",
		      "category", "<50", "n", 6000, "n_pos", 900, "subgroup", "age_band",
		      "category", "[50, 65)", "n", 14000, "n_pos", 2800, "subgroup", "age_band",
		      "category", "[65, 80)", "n", 15000, "n_pos", 3200, "subgroup", "age_band",
		      "category", ">=80", "suppressed", 1));
	json_object_set_new(
	    b, "subgroups",
	    json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i}]",
		      "subgroup", "sex", "category", "0", "n", 12500, "n_pos", 1500, "subgroup",
		      "sex", "category", "1", "n", 12500, "n_pos", 1505, "subgroup", "age_band",
		      "category", "<script>alert(6)</script>", "n", 1000, "n_pos", 100, "subgroup",
		      "age_band", "category", "[65, 80)", "n", 10000, "n_pos", 1200));
	json_object_set_new(c, "subgroups", json_array());
	lab = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:f}", "name", "readmit_30d", "n_valid", 40000,
			"n_missing", 0, "n_invalid", 0, "positives", 8204, "negatives", 31796,
			"prevalence", 0.205);
	json_object_set_new(a, "data_summary", summary_of(40000, lab, va, ca, 3));
	json_decref(lab);
	json_object_set_new(a, "dataset",
			    json_pack("{s:s,s:s,s:s,s:i,s:I,s:s}", "name", "ehr-2024", "period",
				      "2024-01/2024-12", "source", "csv", "records", 40000,
				      "registered_us", (json_int_t)1767225600000000, "fingerprint",
				      "575064c5"));
	lab = json_pack("{s:s,s:i,s:i,s:i,s:n,s:n,s:n}", "name", "readmit_30d", "n_valid", 24990,
			"n_missing", 10, "n_invalid", 0, "positives", "negatives", "prevalence");
	json_object_set_new(b, "data_summary", summary_of(25000, lab, vb, cb, 1));
	json_decref(lab);
	json_object_set_new(c, "data_summary_note", json_string(summary_note));
	json_object_set_new(c, "dataset", json_pack("{s:s}", "name", "</td><script>x</script>"));
	return j;
}

Test(report_html, population_section)
{
	json_t *j = population_fixture();
	char *h = render(j), why[160];
	const char *bad = balanced(h, why, sizeof(why)), *prev, *pop, *sites;

	cr_assert_null(bad, "%s", bad);
	prev = strstr(h, "<section id=\"prevalence\"><h2>5. Prevalence");
	pop = strstr(h, "<section id=\"population\"><h2>6. Population and data quality</h2>");
	sites = strstr(h, "<section id=\"sites\"><h2>7. Per-site metrics");
	cr_assert(prev && pop && sites && prev < pop && pop < sites, "section order");
	cr_assert(strstr(h, "<li><a href=\"#population\">Population and data quality</a></li>"));
	for (const char *s =
		 "8. Benchmark\0009. Data and provenance\00010. Methods\00011. Reporting "
		 "checklist\00012. Limitations\00013. References\0";
	     *s; s += strlen(s) + 1)
		cr_assert(strstr(h, s), "renumbered: %s", s);
	cr_assert_eq(count(h, "<svg"), 7, "the case-mix figure is the seventh chart");
	cr_assert(strstr(h, "<svg class=\"chart\" id=\"fig-casemix\""));
	cr_assert(strstr(h, "Figure 5."));
	/* populations: the benchmark's and the vendor's, labelled, escaped */
	cr_assert(strstr(h, "adults discharged alive after an index admission for heart failure"));
	cr_assert(strstr(h, "Intended population stated by the vendor (the vendor's text)"
			    "</th><td>&lt;i&gt;adults&lt;/i&gt; with heart failure &amp; over 18"));
	cr_assert(strstr(h, "Population of the vendor's claimed performance"));
	/* case-mix tables: shares by hand in population_fixture's comment */
	cr_assert(strstr(h, "15000 <span class=\"ci\">(37.5%)</span>"));
	cr_assert(strstr(h, "10000 <span class=\"ci\">(40.0%)</span>"));
	cr_assert(strstr(h, "1000 <span class=\"ci\">(4.0%)</span>"));
	cr_assert(strstr(h, "5000 <span class=\"ci\">(12.5%)</span>"), "withheld at hospital-a");
	cr_assert(strstr(h, "14000 <span class=\"ci\">(56.0%)</span>"), "withheld at hospital-b");
	cr_assert(strstr(h, "<td>&gt;=80</td><td class=\"num\">withheld</td><td "
			    "class=\"num\">\xE2\x80\x93</td>"),
		  "withheld at a, not listed at b");
	cr_assert(strstr(h, "id=\"casemix-table-0\"") && strstr(h, "id=\"casemix-table-1\""));
	/* the figure: a hatched withheld part, a site without a case mix, the legend */
	cr_assert(strstr(h, "<line class=\"hatch\""));
	cr_assert(strstr(h, "hospital-a: withheld 5000 of 40000 (12.5%)"));
	cr_assert(strstr(h, "not reported by the site"));
	cr_assert(strstr(h, ">withheld (small counts)</text>"));
	/* data quality */
	cr_assert(strstr(h, "id=\"dq-sites-table\"") && strstr(h, "id=\"dq-variables-table\""));
	cr_assert(strstr(h, "ehr-2024; period 2024-01/2024-12; source csv; registered "
			    "2026-01-01T00:00:00Z"));
	cr_assert(strstr(h, "<td class=\"num\">0.205</td>"), "label prevalence of the summary");
	cr_assert(strstr(h, "<td class=\"num\">withheld</td><td class=\"num\">10 / 0</td>"),
		  "withheld label prevalence, label missing / invalid");
	cr_assert(strstr(h, "<td class=\"num\">&lt;0.1%<span class=\"ci\">2 invalid</span><span "
			    "class=\"ci\">3 out of range</span></td>"));
	cr_assert(strstr(h, "<td class=\"num\">1.0%</td>"));
	cr_assert(strstr(h, "<td class=\"num\">2.5%</td>"));
	cr_assert(strstr(h, "<td class=\"num\">10.0%</td>"));
	cr_assert(strstr(h, "the site&#39;s registered summary differs from the one at evaluation "
			    "(its data changed since)"),
		  "the note is shown, escaped");
	/* checklist: the new topics point at the section */
	cr_assert(strstr(h, "<tr><td>Participant characteristics per site</td><td>partly</td><td>"
			    "<a href=\"#population\">"));
	cr_assert(strstr(h, "<tr><td>Participant flow, exclusions and missing data</td><td>partly"
			    "</td><td><a href=\"#population\">"));
	fv_free(h);
	json_decref(j);
}

Test(report_html, population_strings_are_escaped)
{
	json_t *j = population_fixture();
	char *h = render(j);

	cr_assert_null(strstr(h, "<script"));
	cr_assert_null(strstr(h, "<img"));
	cr_assert_null(strstr(h, "<i>"));
	cr_assert(strstr(h, "<td>&lt;script&gt;alert(6)&lt;/script&gt;</td>"), "category in table");
	cr_assert(strstr(h, ">&lt;script&gt;alert(6)&lt;/script&gt;</text>"), "in the legend");
	cr_assert(strstr(h, "<td>&lt;img src=x onerror=alert(7)&gt;</td>"), "variable name");
	cr_assert(strstr(h, "&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;"), "dataset name");
	fv_free(h);
	json_decref(j);
}

/* Same report, same bytes; and an older report (no case mix, no summaries) still renders,
 * with the section saying so and the checklist not claiming it. */
Test(report_html, population_deterministic_and_older_reports)
{
	json_t *j = population_fixture();
	char *h1 = render(j), *h2 = render(j);
	cr_assert_str_eq(h1, h2);
	fv_free(h1);
	fv_free(h2);
	json_decref(j);

	j = load_fixture();
	h1 = render(j);
	cr_assert(strstr(h1, "<section id=\"population\">"));
	cr_assert(strstr(h1, "No site reported its case mix per subgroup"));
	cr_assert(strstr(h1, "No site's result carries a dataset description"));
	cr_assert_null(strstr(h1, "fig-casemix"));
	cr_assert(strstr(h1, "<tr><td>Participant characteristics per site</td><td>not in this "
			     "report</td>"));
	fv_free(h1);
	json_decref(j);
}

Test(report_html, population_invalid_fields_name_the_path)
{
	json_t *j, *s;

#define SITE(k)	   json_array_get(json_object_get(j, "sites"), (k))
#define MIX(k, c)  json_array_get(json_object_get(SITE(k), "subgroups"), (c))
#define SUMM(k)	   json_object_get(SITE(k), "data_summary")
#define DVAR(k, v) json_array_get(json_object_get(SUMM(k), "variables"), (v))
	j = population_fixture();
	json_object_del(MIX(1, 3), "n");
	expect_invalid(j, FV_EINVAL, "sites[1].subgroups[3].n: missing (a count is required)");
	j = population_fixture();
	json_object_set_new(MIX(0, 1), "n_pos", json_integer(21001));
	expect_invalid(j, FV_EINVAL, "sites[0].subgroups[1].n_pos: 21001 exceeds n = 21000");
	j = population_fixture();
	json_object_set_new(MIX(1, 0), "n", json_integer(25001));
	expect_invalid(j, FV_EINVAL, "sites[1].subgroups[0].n: 25001 exceeds the site's n");
	j = population_fixture();
	json_object_del(MIX(0, 2), "category");
	expect_invalid(j, FV_EINVAL, "sites[0].subgroups[2].category: missing");
	j = population_fixture();
	json_object_set_new(MIX(0, 5), "suppressed", json_string("yes"));
	expect_invalid(j, FV_EINVAL, "sites[0].subgroups[5].suppressed");
	j = population_fixture();
	json_array_append(json_object_get(SITE(1), "subgroups"), MIX(1, 2));
	expect_invalid(j, FV_EINVAL, "sites[1].subgroups[4]: repeats sites[1].subgroups[2]");
	j = population_fixture();
	json_object_set_new(SITE(2), "subgroups", json_object());
	expect_invalid(j, FV_EINVAL, "sites[2].subgroups: must be an array");
	j = population_fixture();
	s = json_object_get(SITE(2), "subgroups");
	for (int i = 0; i < 257; i++)
		json_array_append_new(s, json_pack("{s:s,s:s,s:b}", "subgroup", "g", "category",
						   "c", "suppressed", 1));
	expect_invalid(j, FV_ELIMIT, "sites[2].subgroups: more than 256");
	j = population_fixture();
	json_object_set_new(SUMM(0), "format", json_string("fedval-data-summary/9"));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.format");
	j = population_fixture();
	json_object_set_new(SITE(1), "data_summary", json_string("summary"));
	expect_invalid(j, FV_EINVAL, "sites[1].data_summary: must be an object");
	j = population_fixture();
	json_object_del(SUMM(1), "rows");
	expect_invalid(j, FV_EINVAL, "sites[1].data_summary.rows: missing");
	j = population_fixture();
	json_object_set_new(DVAR(0, 1), "n_missing", json_string("400"));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.variables[1].n_missing");
	j = population_fixture();
	json_object_set_new(DVAR(0, 2), "n_missing", json_integer(999));
	expect_invalid(j, FV_EINVAL,
		       "sites[0].data_summary.variables[2]: the counts do not add up to rows");
	j = population_fixture();
	json_object_set_new(DVAR(0, 0), "median", json_string("65"));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.variables[0].median");
	j = population_fixture();
	json_object_set_new(DVAR(0, 2), "name", json_string("age"));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.variables[2]: repeats variables[0]");
	j = population_fixture();
	s = json_object_get(SUMM(1), "variables");
	for (int i = 0; i < 512; i++)
		json_array_append(s, DVAR(1, 0));
	expect_invalid(j, FV_ELIMIT, "sites[1].data_summary.variables: more than 512");
	j = population_fixture();
	json_object_set_new(json_object_get(SUMM(0), "label"), "prevalence", json_real(2.05));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.label.prevalence");
	j = population_fixture();
	json_object_set_new(json_object_get(SUMM(0), "label"), "positives", json_integer(8205));
	expect_invalid(j, FV_EINVAL, "sites[0].data_summary.label: positives and negatives");
	j = population_fixture();
	json_object_set_new(json_object_get(SITE(0), "dataset"), "registered_us", json_integer(-1));
	expect_invalid(j, FV_EINVAL, "sites[0].dataset.registered_us");
	j = population_fixture();
	json_object_set_new(SITE(2), "dataset", json_array());
	expect_invalid(j, FV_EINVAL, "sites[2].dataset: must be an object");
	j = population_fixture();
	json_object_set_new(SITE(2), "data_summary_note", json_integer(1));
	expect_invalid(j, FV_EINVAL, "sites[2].data_summary_note: must be a string");
#undef SITE
#undef MIX
#undef SUMM
#undef DVAR
}

/* The population section's allocations fail cleanly too (ASan build: no leak). */
Test(report_html, population_allocation_failure)
{
	json_t *j = population_fixture();
	struct fv_diag d = {{0}};
	char *h = NULL;
	size_t len;
	fv_err e = FV_ENOMEM;

	for (long n = 1; n < 500 && e == FV_ENOMEM; n++) {
		fv_alloc_fail_after(n);
		e = fv_report_html(j, NULL, &h, &len, &d);
		fv_alloc_fail_after(0);
		if (e == FV_ENOMEM)
			cr_assert_null(h);
	}
	cr_assert_eq(e, FV_OK);
	fv_free(h);
	json_decref(j);
}
