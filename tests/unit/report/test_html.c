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
	sites = strstr(h, "<section id=\"sites\"><h2>8. Per-site metrics");
	cr_assert(prev && pop && sites && prev < pop && pop < sites, "section order");
	cr_assert(strstr(h, "<li><a href=\"#population\">Population and data quality</a></li>"));
	for (const char *s =
		 "7. Head-to-head comparison\0009. Benchmark\00010. Data and provenance\000"
		 "11. Methods\00012. Reporting checklist\00013. Limitations\00014. References\0";
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

/* ---- head to head and operating points ---- */

#define VID_B "c0ffee0011223344556677889900aabbccddeeff00112233445566778899aabb"
#define VID_C "d00d00d0aabbccddeeff00112233445566778899aabbccddeeff001122334455"

static json_t *sdiff(const char *site, const char *b, double diff, double var)
{
	const char *a = "b0608824df16924f9821fb85d7ab83fc9a78ad503092ff4cc5d4ec1be7acf77d";
	double se = sqrt(var);
	return json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f}", "site", site, "a", a, "b", b,
			 "difference", diff, "variance", var, "ci_low", diff - 1.96 * se, "ci_high",
			 diff + 1.96 * se, "p", 0.5);
}

/* The demo report as a head-to-head run of three models, A (the run's model, hf-readmit-lr
 * b0608824...), B (VID_B, a hostile vendor name) and C (VID_C), with operating points.
 *
 * B - A, paired, variance 1e-4 (se 0.01) at each site; z = 1.959964:
 *   hospital-a 0.01: 0.01 -+ 0.0196 = -0.0096 to 0.0296, p = 2 Phi(-1) = 0.3173
 *   hospital-b 0.02: 0.0004 to 0.0396, p = 2 Phi(-2) = 0.0455
 *   hospital-c 0.06: 0.0404 to 0.0796, p = 2 Phi(-6) = 2e-9, shown "< 0.0001"
 *   pooled: with equal variances REML gives mu = the mean 0.03 and the Hartung-Knapp
 *   se^2 = sum (y - mu)^2 / ((k - 1) k) = (0.0004 + 0.0001 + 0.0009) / 6, se = 0.0152753,
 *   whatever tau^2; t(2, 0.975) = 4.302653: 0.03 -+ 0.0657 = -0.0357 to 0.0957; t = 1.96396,
 *   p = 1 - t / sqrt(2 + t^2) (t with 2 df) = 0.1885.
 * C - A at hospital-b only: -0.015, variance 2.5e-5 (se 0.005): -0.0248 to -0.0052,
 *   p = 2 Phi(-3) = 0.0027; pooled over one site: the same.
 * The JSON's own site intervals and p (1.96, p 0.5) are deliberately off: the page
 * recomputes them.
 *
 * Operating points (Wilson 95 %, by hand with the score formula):
 *   hospital-a (n 40000, n_pos 8204), sensitivity >= 0.8 at 0.17: TP 6600 FP 12000 TN 19796
 *     FN 1604: sensitivity 6600/8204 = 0.804 (0.796-0.813), specificity 19796/31796 = 0.623
 *     (0.617-0.628), PPV 6600/18600 = 0.355 (0.348-0.362), NPV 19796/21400 = 0.925
 *     (0.921-0.928);
 *   hospital-a declared 0.25: TP 5000 FP 6000 TN 25796 FN 3204: PPV 5000/11000 = 0.455
 *     (0.445-0.464);
 *   hospital-b (n 25000, n_pos 3005) positive rate >= 0.125 at 0.31: TP 1500 FP 1625 TN 20370
 *     FN 1505: sensitivity 1500/3005 = 0.499 (0.481-0.517); specificity >= 0.9 withheld. */
static json_t *h2h_fixture(void)
{
	json_t *j = load_fixture(), *sites = json_object_get(j, "sites");
	const char *vid =
	    json_string_value(json_object_get(json_object_get(j, "model"), "version_id"));

	json_object_set_new(
	    j, "head_to_head",
	    json_pack(
		"{s:[{s:s,s:s,s:f,s:f,s:f},{s:s,s:s,s:f,s:f,s:f},{s:s,s:s,s:f,s:f,s:f}],"
		"s:[o,o,o,o],"
		"s:[{s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:s},{s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:s}],"
		"s:[{s:i,s:i,s:i,s:s,s:s,s:f,s:f,s:f},{s:i,s:i,s:i,s:s,s:s,s:f,s:f,s:f},"
		"{s:i,s:i,s:i,s:s,s:s,s:f,s:f,s:f}]}",
		"models", "version_id", vid, "vendor", "acme-ai", "auroc", 0.751, "ci_low", 0.702,
		"ci_high", 0.795, "version_id", VID_B, "vendor", "<b>rival</b> & co", "auroc",
		0.781, "ci_low", 0.733, "ci_high", 0.823, "version_id", VID_C, "vendor", "third-ai",
		"auroc", 0.736, "ci_low", 0.690, "ci_high", 0.779, "site_differences",
		sdiff("hospital-a", VID_B, 0.01, 1e-4), sdiff("hospital-b", VID_B, 0.02, 1e-4),
		sdiff("hospital-c", VID_B, 0.06, 1e-4), sdiff("hospital-b", VID_C, -0.015, 2.5e-5),
		"pooled_differences", "a", vid, "b", VID_B, "difference", 0.03, "ci_low", -0.0357,
		"ci_high", 0.0957, "p", 0.1885, "sites", 3, "method",
		"paired DeLong per site; random effects (REML, Hartung-Knapp) across sites", "a",
		vid, "b", VID_C, "difference", -0.015, "ci_low", -0.0248, "ci_high", -0.0052, "p",
		0.0027, "sites", 1, "method", "paired DeLong per site; random effects",
		"leaderboard", "rank", 1, "rank_low", 1, "rank_high", 2, "version_id", VID_B,
		"vendor", "<b>rival</b> & co", "auroc", 0.781, "ci_low", 0.733, "ci_high", 0.823,
		"rank", 2, "rank_low", 1, "rank_high", 3, "version_id", vid, "vendor", "acme-ai",
		"auroc", 0.751, "ci_low", 0.702, "ci_high", 0.795, "rank", 3, "rank_low", 2,
		"rank_high", 3, "version_id", VID_C, "vendor", "third-ai", "auroc", 0.736, "ci_low",
		0.690, "ci_high", 0.779));
	json_t *third =
	    json_array_get(json_object_get(json_object_get(j, "head_to_head"), "models"), 2);
	json_object_set_new(third, "name", json_string("sepsis <net>"));
	json_object_set_new(third, "version", json_string("3.1"));
	json_object_set_new(json_array_get(sites, 0), "operating_points",
			    json_pack("[{s:s,s:f,s:f,s:i,s:i,s:i,s:i},{s:s,s:f,s:i,s:i,s:i,s:i}]",
				      "target", "sensitivity", "value", 0.8, "threshold", 0.17,
				      "tp", 6600, "fp", 12000, "tn", 19796, "fn", 1604, "target",
				      "declared", "threshold", 0.25, "tp", 5000, "fp", 6000, "tn",
				      25796, "fn", 3204));
	json_object_set_new(json_array_get(sites, 1), "operating_points",
			    json_pack("[{s:s,s:f,s:f,s:i,s:i,s:i,s:i},{s:s,s:f,s:f,s:b}]", "target",
				      "positive_rate", "value", 0.125, "threshold", 0.31, "tp",
				      1500, "fp", 1625, "tn", 20370, "fn", 1505, "target",
				      "specificity", "value", 0.9, "threshold", 0.42, "suppressed",
				      1));
	return j;
}

/* "est (lo–hi)" as rp_ci writes it. */
static const char *ci(char *out, size_t cap, const char *est, const char *lo, const char *hi)
{
	snprintf(out, cap, "%s <span class=\"ci\">(%s\xE2\x80\x93%s)</span>", est, lo, hi);
	return out;
}

/* A row of the head-to-head table: site (or "<th>pooled</th>"), the signed difference
 * "est (lo to hi)", p. */
static bool diff_row(const char *h, const char *site, const char *est, const char *lo,
		     const char *hi, const char *p)
{
	char want[512];
	snprintf(want, sizeof(want),
		 "%s<td class=\"num\">%s <span class=\"ci\">(%s to %s)</span></td><td "
		 "class=\"num\">%s</td>",
		 site, est, lo, hi, p);
	return strstr(h, want) != NULL;
}

Test(report_html, head_to_head_section)
{
	json_t *j = h2h_fixture();
	char *h = render(j), why[160], c[128];
	const char *bad = balanced(h, why, sizeof(why)), *pop, *h2h, *sites, *fig, *end;

	cr_assert_null(bad, "%s", bad);
	pop = strstr(h, "<section id=\"population\"><h2>6. Population and data quality</h2>");
	h2h = strstr(h, "<section id=\"head-to-head\"><h2>7. Head-to-head comparison</h2>");
	sites = strstr(h, "<section id=\"sites\"><h2>8. Per-site metrics");
	cr_assert(pop && h2h && sites && pop < h2h && h2h < sites, "section order");
	cr_assert(strstr(h, "<li><a href=\"#population\">Population and data quality</a></li>"
			    "<li><a href=\"#head-to-head\">Head-to-head comparison</a></li>"
			    "<li><a href=\"#sites\">"),
		  "table of contents");
	cr_assert_eq(count(h, "<svg"), 7, "the demo's six charts and fig-h2h");
	fig = strstr(h, "<svg class=\"chart\" id=\"fig-h2h\"");
	cr_assert(fig && fig > h2h && fig < sites);
	end = strstr(fig, "</svg>");
	cr_assert(strstr(h, "Figure 6."));
	cr_assert(strstr(fig, "<line class=\"ref\"") < end, "the line at 0");
	cr_assert_eq(count(fig, "<polygon class=\"diamond\"") -
			 count(end, "<polygon class=\"diamond\""),
		     2, "one pooled diamond per pair");
	cr_assert(strstr(fig, ">B: third-ai [d00d00d0] \xE2\x88\x92 A: hf-readmit-lr "
			      "[b0608824]</text>"));
	cr_assert(strstr(fig, ">0.030 (-0.036 to 0.096)</text>"), "pooled B - A in the chart");
	cr_assert(strstr(h, "differences in AUROC below are <strong>paired</strong>"));
	cr_assert(strstr(h, "not approvals, certifications or recommendations"));
	/* leaderboard as the report states it */
	cr_assert(
	    strstr(h, "<tr><td class=\"num\">1</td><td class=\"num\">1\xE2\x80\x93"
		      "2</td><td>compared model</td><td>&lt;b&gt;rival&lt;/b&gt; &amp; co</td>"));
	cr_assert(strstr(h, "<td class=\"num\">2</td><td class=\"num\">1\xE2\x80\x93"
			    "3</td><td>hf-readmit-lr 1.0.0 (the run's model)</td>"));
	/* a compared model with its manifest name and version (escaped) */
	cr_assert(strstr(h, "3</td><td>sepsis &lt;net&gt; 3.1</td><td>third-ai</td>"), "%s",
		  strstr(h, "leaderboard-table"));
	cr_assert(strstr(h, ci(c, sizeof(c), "0.781", "0.733", "0.823")));
	/* the differences, recomputed (by hand in h2h_fixture's comment) */
	cr_assert(strstr(h, "<tr><th colspan=\"4\">B: &lt;b&gt;rival&lt;/b&gt; &amp; co "
			    "[c0ffee00] \xE2\x80\x93 A: hf-readmit-lr [b0608824]</th></tr><tr><td>"
			    "hospital-a</td>"),
		  "pair named B - A over its site rows");
	cr_assert(diff_row(h, "<td>hospital-a</td>", "0.0100", "-0.0096", "0.0296", "0.3173"));
	cr_assert(diff_row(h, "<td>hospital-b</td>", "0.0200", "0.0004", "0.0396", "0.0455"));
	cr_assert(diff_row(h, "<td>hospital-c</td>", "0.0600", "0.0404", "0.0796", "&lt; 0.0001"));
	cr_assert(diff_row(h, "<th>pooled</th>", "0.0300", "-0.0357", "0.0957", "0.1885"));
	cr_assert(strstr(h, "0.1885</td><td>random effects over 3 sites (REML, "
			    "Hartung\xE2\x80\x93Knapp)"));
	cr_assert(diff_row(h, "<td>hospital-b</td>", "-0.0150", "-0.0248", "-0.0052", "0.0027"));
	cr_assert(diff_row(h, "<th>pooled</th>", "-0.0150", "-0.0248", "-0.0052", "0.0027"));
	cr_assert(strstr(h, "0.0027</td><td>one site: its difference"));
	/* summary, methods, checklist, references */
	cr_assert(
	    strstr(h, "<tr><th>Models compared (head to head)</th><td>3 on the same records"));
	cr_assert(strstr(h, "<tr><th>Head to head</th><td>"));
	cr_assert(strstr(h, "Bonferroni over the m(m \xE2\x80\x93 1)/2 pairs"));
	cr_assert(strstr(h, "<tr><td>Comparison of models (index tests) on the same participants"
			    "</td><td>covered</td><td><a href=\"#head-to-head\">"));
	cr_assert(strstr(h, "Klein M, Wright T, Wieczorek J."));
	fv_free(h);
	json_decref(j);
}

Test(report_html, operating_points_per_site)
{
	json_t *j = h2h_fixture();
	char *h = render(j), want[1024], a[64], b[64], c[64], d[64];
	const char *t = strstr(h, "<table class=\"wide\" id=\"operating-points-table\">"), *sec;

	sec = strstr(h, "<section id=\"calibration\">");
	cr_assert(t && sec && strstr(h, "<section id=\"operating-points\">") < t && t < sec,
		  "in section 3");
	cr_assert(strstr(h, "<h3>Operating points per site</h3>"));
	snprintf(want, sizeof(want),
		 "<tr><td>hospital-a</td><td>sensitivity &ge; 0.80</td><td class=\"num\">0.17</td>"
		 "<td class=\"num\">6600</td><td class=\"num\">12000</td><td class=\"num\">19796"
		 "</td><td class=\"num\">1604</td><td class=\"num\">%s</td><td class=\"num\">%s"
		 "</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>",
		 ci(a, sizeof(a), "0.804", "0.796", "0.813"),
		 ci(b, sizeof(b), "0.623", "0.617", "0.628"),
		 ci(c, sizeof(c), "0.355", "0.348", "0.362"),
		 ci(d, sizeof(d), "0.925", "0.921", "0.928"));
	cr_assert(strstr(t, want), "want %s", want);
	cr_assert(strstr(t, "<tr><td>hospital-a</td><td>vendor's declared threshold</td><td "
			    "class=\"num\">0.25</td>"));
	cr_assert(strstr(t, ci(a, sizeof(a), "0.455", "0.445", "0.464")));
	cr_assert(strstr(t, "<tr><td>hospital-b</td><td>positive rate &ge; 0.125</td><td "
			    "class=\"num\">0.31</td><td class=\"num\">1500</td>"));
	cr_assert(strstr(t, ci(a, sizeof(a), "0.499", "0.481", "0.517")));
	cr_assert(strstr(t, "<tr><td>hospital-b</td><td>specificity &ge; 0.90</td><td "
			    "class=\"num\">0.42</td><td colspan=\"8\">withheld by the site"));
	cr_assert(strstr(t, "its own threshold on its own records: the largest threshold on a "
			    "0.01 grid"));
	cr_assert(strstr(t, "declared threshold is the decision threshold of the vendor's "
			    "manifest"));
	fv_free(h);
	json_decref(j);
}

Test(report_html, head_to_head_strings_are_escaped)
{
	json_t *j = h2h_fixture(), *h2h = json_object_get(j, "head_to_head");
	json_t *sites = json_object_get(j, "sites");
	const char *evil = "<script>alert(8)</script>";
	char *h, why[160];
	const char *bad;

	json_object_set_new(json_array_get(sites, 2), "node", json_string(evil));
	json_object_set_new(json_array_get(json_object_get(h2h, "site_differences"), 2), "site",
			    json_string(evil));
	json_object_set_new(json_array_get(json_object_get(h2h, "models"), 2), "vendor",
			    json_string("\"><svg onload=alert(9)>\xE2\x80\xAE"));
	h = render(j);
	bad = balanced(h, why, sizeof(why));
	cr_assert_null(bad, "%s", bad);
	cr_assert_null(strstr(h, "<script"));
	cr_assert_null(strstr(h, "<svg onload"));
	cr_assert_null(strstr(h, "<b>"));
	cr_assert_null(strstr(h, "\xE2\x80\xAE"));
	cr_assert(diff_row(h, "<td>&lt;script&gt;alert(8)&lt;/script&gt;</td>", "0.0600", "0.0404",
			   "0.0796", "&lt; 0.0001"));
	cr_assert(strstr(h, ">&lt;script&gt;alert(8)&lt;/script&gt;</text>"), "in the chart");
	cr_assert(strstr(h, "&quot;&gt;&lt;svg onload=alert(9)&gt;\xEF\xBF\xBD [d00d00d0]"));
	cr_assert(strstr(h, "&lt;b&gt;rival&lt;/b&gt; &amp; co [c0ffee00]"));
	fv_free(h);
	json_decref(j);
}

/* An older report (no head_to_head, no operating points), a single-model run (null) and a
 * head-to-head report from before site_differences all render, the section numbered alike. */
Test(report_html, head_to_head_absent_or_older)
{
	json_t *j = load_fixture();
	char *h = render(j), *h2;

	cr_assert(strstr(h, "<section id=\"head-to-head\"><h2>7. Head-to-head comparison</h2><p>"
			    "This run evaluated one model"));
	cr_assert(strstr(h, "<li><a href=\"#head-to-head\">Head-to-head comparison</a></li>"));
	cr_assert_null(strstr(h, "fig-h2h"));
	cr_assert_null(strstr(h, "Models compared"));
	cr_assert(strstr(h, "No site reported operating points"));
	cr_assert_null(strstr(h, "operating-points-table"));
	cr_assert(strstr(h, "<tr><td>Comparison of models (index tests) on the same participants"
			    "</td><td>not in this report</td><td><a href=\"#head-to-head\">the run "
			    "evaluated one model</a>"));
	json_object_set_new(j, "head_to_head", json_null());
	h2 = render(j);
	cr_assert_str_eq(h, h2, "null is a single-model run");
	fv_free(h);
	fv_free(h2);
	json_decref(j);

	j = h2h_fixture();
	json_object_del(json_object_get(j, "head_to_head"), "site_differences");
	json_object_set_new(
	    json_array_get(
		json_object_get(json_object_get(j, "head_to_head"), "pooled_differences"), 0),
	    "method", json_string("<i>method</i>"));
	h = render(j);
	cr_assert(strstr(h, "id=\"fig-h2h\""));
	cr_assert(diff_row(h, "<th>pooled</th>", "0.0300", "-0.0357", "0.0957", "0.1885"));
	cr_assert(strstr(h, "0.1885</td><td>as in the JSON report (95%; no site differences in "
			    "it), 3 sites: &lt;i&gt;method&lt;/i&gt;</td>"));
	cr_assert(strstr(h, ">Pooled (JSON report, 95%)</text>"));
	cr_assert(strstr(h, ">-0.015 (-0.025 to -0.005)</text>"), "signed intervals with \"to\"");
	fv_free(h);
	json_decref(j);
}

/* At another level the site and pooled intervals follow it: z(0.95) = 1.644854, so
 * hospital-a's 0.01 -+ 0.0164 = -0.0064 to 0.0264; the leaderboard stays at 95 %. */
Test(report_html, head_to_head_level_and_determinism)
{
	json_t *j = h2h_fixture();
	struct fv_report_opts o;
	struct fv_diag d = {{0}};
	char *h = NULL, *h2;
	size_t len;

	fv_report_opts_init(&o);
	o.conf = 0.9;
	cr_assert_eq(fv_report_html(j, &o, &h, &len, &d), FV_OK, "%s", d.msg);
	cr_assert(diff_row(h, "<td>hospital-a</td>", "0.0100", "-0.0064", "0.0264", "0.3173"));
	cr_assert(strstr(h, "difference in AUROC, B \xE2\x80\x93 A (90% CI)"));
	cr_assert(strstr(h, "pooled AUROC (95% CI)"));
	fv_free(h);
	h = render(j);
	h2 = render(j);
	cr_assert_str_eq(h, h2);
	fv_free(h);
	fv_free(h2);
	json_decref(j);
}

/* sites[k].operating_points[o] */
static json_t *op_at(json_t *j, size_t k, size_t o)
{
	json_t *s = json_array_get(json_object_get(j, "sites"), k);
	return json_array_get(json_object_get(s, "operating_points"), o);
}

Test(report_html, head_to_head_invalid_fields_name_the_path)
{
	json_t *j;

#define H2H	     json_object_get(j, "head_to_head")
#define H2H_AT(f, k) json_array_get(json_object_get(H2H, f), (k))
#define OPS(k, o)    op_at(j, (k), (o))
	j = h2h_fixture();
	json_object_set_new(j, "head_to_head", json_string("yes"));
	expect_invalid(j, FV_EINVAL, "head_to_head: must be an object or null");
	j = h2h_fixture();
	json_object_del(H2H_AT("site_differences", 2), "difference");
	expect_invalid(
	    j, FV_EINVAL,
	    "head_to_head.site_differences[2].difference: missing (a number is required)");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("site_differences", 1), "variance", json_real(0.0));
	expect_invalid(j, FV_EINVAL, "head_to_head.site_differences[1].variance: must be positive");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("site_differences", 0), "difference", json_real(1.5));
	expect_invalid(j, FV_EINVAL, "head_to_head.site_differences[0].difference: 1.5 is outside");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("site_differences", 3), "site", json_string("hospital-z"));
	expect_invalid(j, FV_EINVAL,
		       "head_to_head.site_differences[3].site: not a site with results");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("site_differences", 3), "b", json_string("feedface"));
	expect_invalid(j, FV_EINVAL,
		       "head_to_head.site_differences[3].b: not a model of head_to_head.models");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("site_differences", 3), "site", json_string("hospital-a"));
	json_object_set_new(H2H_AT("site_differences", 3), "b", json_string(VID_B));
	expect_invalid(j, FV_EINVAL,
		       "head_to_head.site_differences[3]: repeats "
		       "head_to_head.site_differences[0]");
	j = h2h_fixture();
	json_object_set_new(
	    H2H_AT("pooled_differences", 1), "b",
	    json_string(json_string_value(json_object_get(H2H_AT("pooled_differences", 1), "a"))));
	expect_invalid(j, FV_EINVAL, "head_to_head.pooled_differences[1].b: the same model as a");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("pooled_differences", 1), "b", json_string(VID_B));
	expect_invalid(
	    j, FV_EINVAL,
	    "head_to_head.pooled_differences[1]: repeats head_to_head.pooled_differences[0]");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("pooled_differences", 0), "p", json_string("0.1"));
	expect_invalid(j, FV_EINVAL, "head_to_head.pooled_differences[0].p: must be a number");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("models", 0), "version_id", json_string(VID_C "0"));
	expect_invalid(j, FV_EINVAL, "head_to_head.models[0].version_id: not the run's model");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("models", 2), "version_id", json_string(VID_B));
	expect_invalid(j, FV_EINVAL,
		       "head_to_head.models[2].version_id: repeats head_to_head.models[1]");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("models", 1), "auroc", json_real(1.2));
	expect_invalid(j, FV_EINVAL, "head_to_head.models[1].auroc");
	j = h2h_fixture();
	for (int i = 0; i < 7; i++)
		json_array_append_new(json_object_get(H2H, "models"),
				      json_pack("{s:s,s:s}", "version_id", "x", "vendor", "v"));
	expect_invalid(j, FV_ELIMIT, "head_to_head.models: more than 9");
	j = h2h_fixture();
	json_object_del(H2H, "leaderboard");
	expect_invalid(j, FV_EINVAL, "head_to_head.leaderboard: missing");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("leaderboard", 2), "rank_low", json_integer(4));
	expect_invalid(j, FV_EINVAL,
		       "head_to_head.leaderboard[2].rank_low: must be an integer between 1 and 3");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("leaderboard", 0), "rank_high", json_integer(1));
	json_object_set_new(H2H_AT("leaderboard", 0), "rank", json_integer(2));
	expect_invalid(j, FV_EINVAL, "head_to_head.leaderboard[0]: rank 2 is outside its interval");
	j = h2h_fixture();
	json_object_set_new(H2H_AT("leaderboard", 1), "version_id", json_string(VID_B));
	expect_invalid(
	    j, FV_EINVAL,
	    "head_to_head.leaderboard[1].version_id: repeats head_to_head.leaderboard[0]");
	j = h2h_fixture();
	json_object_del(OPS(0, 0), "value");
	expect_invalid(j, FV_EINVAL, "sites[0].operating_points[0].value: missing");
	j = h2h_fixture();
	json_object_set_new(OPS(0, 1), "target", json_string("youden"));
	expect_invalid(j, FV_EINVAL, "sites[0].operating_points[1].target: must be");
	j = h2h_fixture();
	json_object_set_new(OPS(0, 0), "tp", json_integer(6601));
	expect_invalid(j, FV_EINVAL,
		       "sites[0].operating_points[0]: the counts do not add up to n and n_pos");
	j = h2h_fixture();
	json_object_del(OPS(1, 0), "fn");
	expect_invalid(j, FV_EINVAL, "sites[1].operating_points[0].fn: missing");
	j = h2h_fixture();
	json_object_del(OPS(1, 1), "threshold");
	expect_invalid(j, FV_EINVAL, "sites[1].operating_points[1].threshold: missing");
	j = h2h_fixture();
	for (int i = 0; i < 4; i++)
		json_array_append(json_object_get(json_array_get(json_object_get(j, "sites"), 1),
						  "operating_points"),
				  OPS(1, 1));
	expect_invalid(j, FV_ELIMIT, "sites[1].operating_points: more than 5");
	j = h2h_fixture();
	json_object_set_new(json_array_get(json_object_get(j, "sites"), 2), "operating_points",
			    json_object());
	expect_invalid(j, FV_EINVAL, "sites[2].operating_points: must be an array");
#undef H2H
#undef H2H_AT
#undef OPS
}

/* Every allocation of the head-to-head section and operating points fails cleanly. */
Test(report_html, head_to_head_allocation_failure)
{
	json_t *j = h2h_fixture();
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
