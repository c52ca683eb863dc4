/* fv_report_html: the page. Sections in order: summary, discrimination (forest plot and
 * meta-analysis), operating points, calibration, prevalence, population and data quality,
 * head-to-head comparison, per-site table, benchmark and model, provenance, methods, reporting
 * checklist, limitations, references. Every section is always there (the head-to-head one
 * says so for a single-model run), so a section's number never depends on the report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/util.h"
#include "report/report_int.h"

#define DASH	       "\xE2\x80\x93"
#define ELLIP	       "\xE2\x80\xA6"
#define JSON_MAX_DEPTH 4
#define JSON_MAX_ITEMS 200

static const char css[] =
    ":root{--fg:#1a1a1a;--mut:#5a5a5a;--line:#c8c8c8;--bg:#fff;--acc:#0b4f8a}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
    "main{max-width:960px;margin:0 auto;padding:24px}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:2px "
    "solid var(--acc);padding-bottom:2px}h3{font-size:1.05em;margin:1.2em 0 .3em}"
    ".sub{color:var(--mut)}"
    ".statement{border:2px solid #8a5a00;background:#fff6e0;padding:8px 12px;margin:12px 0;"
    "font-weight:600}"
    ".warn{color:#8a1c00;font-weight:600}"
    "nav ol{columns:2;margin:.4em 0;padding-left:1.4em}"
    "table{border-collapse:collapse;width:100%;margin:.4em 0 1em;font-size:.88em}"
    "th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;"
    "vertical-align:top}th{background:#f0f3f7}"
    "table.wide{font-size:.8em}table.wide td.num .ci{display:block}table.wide "
    "td:first-child{white-space:nowrap}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".ci{color:var(--mut)}"
    "table.kv th{width:28%;font-weight:600}"
    "table.kv table{margin:0;font-size:1em}"
    "code,.hex{font-family:'DejaVu Sans Mono',monospace;font-size:.85em;overflow-wrap:anywhere;"
    "word-break:break-all}"
    "details summary{cursor:pointer}summary "
    "code{white-space:nowrap;word-break:normal}.print-only{display:none}"
    "figure{margin:.6em 0 1.2em}figcaption{color:var(--mut);font-size:.88em}"
    "svg.chart{max-width:100%;height:auto;display:block}"
    "svg text{font-family:system-ui,'DejaVu Sans',sans-serif;font-size:12px;fill:var(--fg)}"
    "svg .head{font-weight:600}svg .sum{font-weight:600}svg .tick{fill:var(--mut)}"
    "svg .xlabel{font-size:13px}svg .tlab{font-size:11px}"
    "svg .axis{stroke:#333}svg .grid{stroke:#e4e4e4}svg .frame{fill:none;stroke:#333}"
    "svg .ref{stroke:#777;stroke-dasharray:4 3}"
    "svg .whisker{stroke:#222;stroke-width:1.5}svg .mark{fill:var(--acc)}"
    "svg .diamond{fill:#222}svg .pi{stroke:#222;stroke-width:2;stroke-dasharray:6 3}"
    "svg .clip{fill:#222}"
    "svg .bar{stroke-width:1;fill:none}svg .conn{fill:none;stroke-width:1.2}"
    "svg .pooled{fill:#000;stroke:#000}svg .conn.pooled{fill:none}"
    "svg .line{fill:none;stroke-width:1.5}svg .treatall{fill:#888;stroke:#888}"
    "svg .line.pooled,svg .line.treatall{fill:none}"
    "svg .s0{fill:#0072B2;stroke:#0072B2}svg .s1{fill:#D55E00;stroke:#D55E00}"
    "svg .s2{fill:#009E73;stroke:#009E73}svg .s3{fill:#CC79A7;stroke:#CC79A7}"
    "svg .s4{fill:#E69F00;stroke:#E69F00}svg .s5{fill:#56B4E9;stroke:#56B4E9}"
    "svg .s6{fill:#999933;stroke:#999933}svg .s7{fill:#882255;stroke:#882255}"
    "svg .conn.s0,svg .conn.s1,svg .conn.s2,svg .conn.s3,svg .conn.s4,svg .conn.s5,"
    "svg .conn.s6,svg .conn.s7{fill:none}"
    "svg rect.seg{stroke:#fff;stroke-width:.5}svg rect.oth{fill:#bbb}"
    "svg .wh{fill:#ececec;stroke:#777;stroke-width:.5}"
    "svg .hatch{fill:none;stroke:#888;stroke-dasharray:1.5 2.5}"
    "caption{text-align:left;font-weight:600;padding:2px 0}"
    "footer{margin-top:2em;color:var(--mut);font-size:.85em}"
    "@media print{@page{size:A4;margin:14mm}body{font-size:10.5pt}main{max-width:none;"
    "padding:0}nav{display:none}h2{break-after:avoid}figure,tr,.statement{break-inside:avoid}"
    "table{font-size:8.5pt}table.wide{font-size:7.5pt}details{display:none}.print-only{display:"
    "block}"
    "a{color:inherit;text-decoration:none}}";

/* ---- small pieces ---- */

static const char *meta_name(enum fv_meta_method m)
{
	return m == FV_META_REML ? "REML"
	       : m == FV_META_DL ? "DerSimonian" DASH "Laird"
				 : "fixed effect";
}

/* A digest or signature: the first 16 hex digits, the whole value in a <details> (and in
 * print, where <details> stays closed). */
static void hex(struct rp_buf *b, const char *h)
{
	if (!h || !*h) {
		rp_put(b, DASH);
		return;
	}
	if (strlen(h) <= 20) {
		rp_put(b, "<code>");
		rp_esc(b, h, FV_MAX_REPORT_TEXT);
		rp_put(b, "</code>");
		return;
	}
	rp_put(b, "<details><summary><code>");
	rp_esc(b, h, 12);
	rp_put(b, "</code></summary><code class=\"hex\">");
	rp_esc(b, h, FV_MAX_REPORT_TEXT);
	rp_put(b, "</code></details><code class=\"hex print-only\">");
	rp_esc(b, h, FV_MAX_REPORT_TEXT);
	rp_put(b, "</code>");
}

static void td_count(struct rp_buf *b, uint64_t v)
{
	rp_printf(b, "<td class=\"num\">%llu</td>", (unsigned long long)v);
}

static void td_prop(struct rp_buf *b, const struct rp_prop *p, int prec)
{
	rp_put(b, "<td class=\"num\">");
	rp_ci(b, p->est, p->lo, p->hi, prec);
	rp_put(b, "</td>");
}

static void td_text(struct rp_buf *b, const char *s)
{
	rp_put(b, "<td>");
	if (s)
		rp_esc(b, s, FV_MAX_REPORT_TEXT);
	else
		rp_put(b, DASH);
	rp_put(b, "</td>");
}

/* Untrusted JSON (manifest, benchmark spec) as nested tables; every key and value escaped. */
static void json_html(struct rp_buf *b, const json_t *v, int depth);

static void json_scalar(struct rp_buf *b, const json_t *v)
{
	if (json_is_string(v))
		rp_esc(b, json_string_value(v), FV_MAX_REPORT_TEXT);
	else if (json_is_integer(v))
		rp_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		rp_printf(b, "%.10g", json_real_value(v));
	else if (json_is_true(v))
		rp_put(b, "true");
	else if (json_is_false(v))
		rp_put(b, "false");
	else if (json_is_null(v))
		rp_put(b, DASH);
	else
		json_html(b, v, JSON_MAX_DEPTH);
}

static bool all_scalar(const json_t *a)
{
	size_t i;
	const json_t *x;
	json_array_foreach(a, i, x) if (json_is_object(x) || json_is_array(x)) return false;
	return true;
}

static void json_html(struct rp_buf *b, const json_t *v, int depth)
{
	const char *key;
	const json_t *x;
	size_t i, n = 0;

	if (!json_is_object(v) && !json_is_array(v)) {
		json_scalar(b, v);
		return;
	}
	if (depth >= JSON_MAX_DEPTH) {
		char *s = json_dumps(v, JSON_COMPACT);
		rp_put(b, "<code>");
		rp_esc(b, s ? s : "", FV_MAX_REPORT_TEXT);
		rp_put(b, "</code>");
		free(s); /* jansson's allocator */
		return;
	}
	if (json_is_object(v)) {
		rp_put(b, "<table class=\"kv\">");
		json_object_foreach((json_t *)v, key, x)
		{
			if (n++ == JSON_MAX_ITEMS) {
				rp_printf(b, "<tr><td colspan=\"2\">" ELLIP " %zu more</td></tr>",
					  json_object_size(v) - JSON_MAX_ITEMS);
				break;
			}
			rp_put(b, "<tr><th>");
			rp_esc(b, key, 256);
			rp_put(b, "</th><td>");
			json_html(b, x, depth + 1);
			rp_put(b, "</td></tr>");
		}
		rp_put(b, "</table>");
		return;
	}
	if (all_scalar(v)) {
		json_array_foreach(v, i, x)
		{
			if (i == JSON_MAX_ITEMS) {
				rp_printf(b, ", " ELLIP " %zu more", json_array_size(v) - i);
				break;
			}
			if (i)
				rp_put(b, ", ");
			json_scalar(b, x);
		}
		return;
	}
	/* An array of objects: one row each, columns from the first element. */
	const json_t *first = json_array_get(v, 0);
	if (!json_is_object(first)) {
		rp_put(b, "<ol>");
		json_array_foreach(v, i, x)
		{
			if (i == JSON_MAX_ITEMS)
				break;
			rp_put(b, "<li>");
			json_html(b, x, depth + 1);
			rp_put(b, "</li>");
		}
		rp_put(b, "</ol>");
		return;
	}
	rp_put(b, "<table><tr>");
	json_object_foreach((json_t *)first, key, x)
	{
		if (n++ == 8)
			break;
		rp_put(b, "<th>");
		rp_esc(b, key, 256);
		rp_put(b, "</th>");
	}
	rp_put(b, "</tr>");
	json_array_foreach(v, i, x)
	{
		size_t c = 0;
		const json_t *cell;
		if (i == JSON_MAX_ITEMS)
			break;
		rp_put(b, "<tr>");
		json_object_foreach((json_t *)first, key, cell)
		{
			if (c++ == 8)
				break;
			rp_put(b, "<td>");
			if ((cell = json_object_get(x, key)))
				json_html(b, cell, depth + 2);
			rp_put(b, "</td>");
		}
		rp_put(b, "</tr>");
	}
	rp_put(b, "</table>");
}

static const char *model_label(const struct rp *r)
{
	return r->model_name ? r->model_name : r->version_id;
}

/* ---- sections ---- */

static void header(struct rp_buf *b, const struct rp *r)
{
	char when[40] = "";

	rp_put(b, "<header><h1>");
	if (r->title) {
		rp_esc(b, r->title, FV_MAX_REPORT_TEXT);
	} else {
		rp_put(b, "Validation report: ");
		rp_esc(b, model_label(r), 256);
		if (r->model_version) {
			rp_put(b, " ");
			rp_esc(b, r->model_version, 256);
		}
	}
	rp_put(b, "</h1><p class=\"sub\">External validation of a clinical prediction model "
		  "across sites, computed by fedval " FV_VERSION_STRING
		  " from a signed federated run. Run <code>");
	rp_esc(b, r->run_id, 256);
	rp_put(b, "</code>");
	if (r->benchmark) {
		rp_put(b, " on benchmark <code>");
		rp_esc(b, r->benchmark, 256);
		rp_put(b, "</code>");
	}
	if (r->run_state) {
		rp_put(b, " (state: ");
		rp_esc(b, r->run_state, 64);
		rp_put(b, ")");
	}
	if (r->generated_us >= 0) {
		fv_time_iso((int64_t)r->generated_us, when, sizeof(when));
		rp_put(b, "; results fetched ");
		rp_esc(b, when, 0);
	}
	rp_put(b, ".</p><p class=\"statement\" id=\"statement\">This report states measurements "
		  "of the model on each site's data. It is not an approval, a certification, a "
		  "conformity assessment or a recommendation to use the model.</p>");
	if (r->note) {
		rp_put(b, "<p class=\"sub\">Note in the report: ");
		rp_esc(b, r->note, FV_MAX_REPORT_TEXT);
		rp_put(b, "</p>");
	}
	rp_put(b, "</header>\n<nav><strong>Contents</strong><ol>"
		  "<li><a href=\"#summary\">Summary</a></li>"
		  "<li><a href=\"#discrimination\">Discrimination (AUROC)</a></li>"
		  "<li><a href=\"#operating-points\">Sensitivity and specificity</a></li>"
		  "<li><a href=\"#calibration\">Calibration</a></li>"
		  "<li><a href=\"#prevalence\">Prevalence</a></li>"
		  "<li><a href=\"#population\">Population and data quality</a></li>"
		  "<li><a href=\"#head-to-head\">Head-to-head comparison</a></li>"
		  "<li><a href=\"#sites\">Per-site metrics</a></li>"
		  "<li><a href=\"#benchmark\">Benchmark and model</a></li>"
		  "<li><a href=\"#provenance\">Data and provenance</a></li>"
		  "<li><a href=\"#methods\">Methods</a></li>"
		  "<li><a href=\"#checklist\">Reporting checklist</a></li>"
		  "<li><a href=\"#limitations\">Limitations</a></li>"
		  "<li><a href=\"#references\">References</a></li></ol></nav>\n");
}

static void summary(struct rp_buf *b, const struct rp *r)
{
	size_t nver = 0;
	const json_t *claim = NULL;

	for (size_t i = 0; i < r->nsites; i++)
		nver += r->sites[i].verified;
	rp_printf(b,
		  "<section id=\"summary\"><h2>1. Summary</h2><table class=\"kv\">"
		  "<tr><th>Sites</th><td>%zu in the report, %zu with verified signatures, %zu "
		  "with results (pooled below)</td></tr>",
		  r->nsites, nver, r->nok);
	if (r->has_pooled)
		rp_printf(b, "<tr><th>Records, events</th><td>%llu records, %llu events</td></tr>",
			  (unsigned long long)r->pn, (unsigned long long)r->ppos);
	rp_printf(b, "<tr><th>Pooled AUROC (random effects, %s)</th><td>",
		  meta_name(r->meta_method));
	if (r->has_meta) {
		rp_ci(b, r->mu, r->mu_lo, r->mu_hi, 3);
		rp_printf(b, "; %.0f%% prediction interval ", 100 * r->conf);
		if (isfinite(r->pi_lo)) {
			rp_num(b, r->pi_lo, 3);
			rp_put(b, DASH);
			rp_num(b, r->pi_hi, 3);
		} else {
			rp_put(b, "not estimable (fewer than 3 sites)");
		}
	} else {
		rp_esc(b, r->meta_why, 0);
	}
	rp_put(b, "</td></tr>");
	if (r->has_pooled) {
		rp_put(b, "<tr><th>Pooled observed/expected</th><td>");
		rp_ci(b, r->poe, r->poe_lo, r->poe_hi, 3);
		rp_put(b, "</td></tr><tr><th>Pooled Brier score</th><td>");
		rp_num(b, r->pbrier, 4);
		rp_put(b, "</td></tr><tr><th>Pooled prevalence</th><td>");
		rp_ci(b, r->pprev.est, r->pprev.lo, r->pprev.hi, 3);
		rp_put(b, "</td></tr>");
	}
	if (r->h2h.present)
		rp_printf(
		    b,
		    "<tr><th>Models compared (head to head)</th><td>%zu on the same records; "
		    "<a href=\"#head-to-head\">leaderboard and paired differences</a></td></tr>",
		    r->h2h.nmodels);
	if (r->manifest && (claim = json_object_get(r->manifest, "claimed_performance")) &&
	    json_is_number(json_object_get(claim, "auroc"))) {
		rp_put(b, "<tr><th>AUROC claimed in the vendor's manifest</th><td>");
		rp_num(b, json_number_value(json_object_get(claim, "auroc")), 3);
		if (json_is_string(json_object_get(claim, "population"))) {
			rp_put(b, " (");
			rp_esc(b, json_string_value(json_object_get(claim, "population")), 512);
			rp_put(b, ")");
		}
		rp_put(b, "; stated by the vendor, not measured here</td></tr>");
	}
	rp_printf(b,
		  "</table><p class=\"sub\">Intervals are %.0f%% intervals throughout.</p>"
		  "</section>\n",
		  100 * r->conf);
}

static void subgroups(struct rp_buf *b, const struct rp *r);

static void discrimination(struct rp_buf *b, const struct rp *r)
{
	const struct fv_meta *m = &r->meta;

	rp_put(b, "<section id=\"discrimination\"><h2>2. Discrimination: AUROC per site and "
		  "pooled</h2><figure>");
	rp_svg_forest(b, r);
	rp_printf(b,
		  "<figcaption>Figure 1. AUROC per site with DeLong %.0f%% intervals and the "
		  "random-effects (%s) pooled estimate on the logit scale, back-transformed, with "
		  "its prediction interval for a new site.</figcaption></figure>",
		  100 * r->conf, meta_name(r->meta_method));
	if (!r->has_meta) {
		rp_put(b, "<p>No meta-analysis: ");
		rp_esc(b, r->meta_why, 0);
		rp_put(b, ".</p>");
		subgroups(b, r);
		rp_put(b, "</section>\n");
		return;
	}
	if (r->meta_why[0]) {
		rp_put(b, "<p class=\"warn\">");
		rp_esc(b, r->meta_why, 0);
		rp_put(b, ".</p>");
	}
	rp_printf(b,
		  "<table class=\"kv\" id=\"meta-table\"><tr><th>Model</th><td>random effects, "
		  "between-site variance by %s%s; logit AUROC with delta-method variances</td></tr>"
		  "<tr><th>Sites pooled (k)</th><td>%zu</td></tr>"
		  "<tr><th>Pooled AUROC</th><td>",
		  meta_name(r->meta_method),
		  r->hk ? ", Hartung" DASH "Knapp" DASH "Sidik" DASH "Jonkman interval" : "", m->k);
	rp_ci(b, r->mu, r->mu_lo, r->mu_hi, 3);
	rp_put(b, "</td></tr><tr><th>Prediction interval</th><td>");
	if (isfinite(r->pi_lo)) {
		rp_num(b, r->pi_lo, 3);
		rp_put(b, DASH);
		rp_num(b, r->pi_hi, 3);
		rp_printf(b, " (t distribution, %zu df)", m->k - 2);
	} else {
		rp_put(b, "not estimable with fewer than 3 sites");
	}
	rp_put(b, "</td></tr><tr><th>&tau;&sup2; (logit scale), &tau;</th><td>");
	rp_num(b, m->tau2, 5);
	rp_put(b, ", ");
	rp_num(b, m->tau, 4);
	rp_put(b, "</td></tr><tr><th>I&sup2;, H&sup2;</th><td>");
	rp_num(b, m->i2, 1);
	rp_put(b, "%, ");
	rp_num(b, m->h2, 2);
	rp_printf(b, "</td></tr><tr><th>Cochran's Q (%zu df)</th><td>", m->k - 1);
	rp_num(b, m->q, 2);
	if (m->q_p < 1e-4) {
		rp_put(b, ", p &lt; 0.0001");
	} else {
		rp_put(b, ", p = ");
		rp_num(b, m->q_p, 4);
	}
	rp_put(b, "</td></tr>");
	if (isfinite(r->fe_est)) {
		rp_put(b, "<tr><th>Fixed-effect average (in the JSON report)</th><td>");
		rp_ci(b, r->fe_est, r->fe_lo, r->fe_hi, 3);
		rp_put(b, "; inverse-variance average on the AUROC scale, not the AUROC of the "
			  "pooled records</td></tr>");
	}
	rp_put(b, "</table>");
	subgroups(b, r);
	rp_put(b, "</section>\n");
}

static void thr_row(struct rp_buf *b, const char *who, const struct rp_thr *t, bool pooled)
{
	rp_put(b, "<tr>");
	if (who)
		td_text(b, who);
	rp_printf(b, "<td class=\"num\">%g</td>", t->threshold);
	if (pooled)
		t->sites >= 0 ? rp_printf(b, "<td class=\"num\">%ld</td>", t->sites)
			      : rp_put(b, "<td class=\"num\">" DASH "</td>");
	if (t->suppressed) {
		rp_put(b, "<td colspan=\"9\">suppressed by the site (a cell below its minimum "
			  "size)</td></tr>");
		return;
	}
	td_count(b, t->tp);
	td_count(b, t->fp);
	td_count(b, t->tn);
	td_count(b, t->fn);
	td_prop(b, &t->sens, 3);
	td_prop(b, &t->spec, 3);
	td_prop(b, &t->ppv, 3);
	td_prop(b, &t->npv, 3);
	td_prop(b, &t->acc, 3);
	rp_put(b, "</tr>");
}

static const char thr_head[] =
    "<th class=\"num\">TP</th><th class=\"num\">FP</th><th class=\"num\">TN</th>"
    "<th class=\"num\">FN</th><th class=\"num\">sensitivity</th><th class=\"num\">specificity"
    "</th><th class=\"num\">PPV</th><th class=\"num\">NPV</th><th class=\"num\">accuracy</th>"
    "</tr>";

/* Net benefit at the benchmark's thresholds from the pooled counts (a decision curve
 * sampled where the benchmark asks for counts). */
static void decision(struct rp_buf *b, const struct rp *r)
{
	size_t k = 0;
	for (size_t t = 0; t < r->npthr; t++)
		k += !r->pthr[t].suppressed && r->pthr[t].threshold > 0 && r->pthr[t].threshold < 1;
	if (!k)
		return;
	rp_put(b, "<h3>Decision curve</h3><figure>");
	rp_svg_decision(b, r);
	rp_put(b, "<figcaption>Figure 2b. Net benefit of acting on the model at each benchmark "
		  "threshold, against treating everyone and no one, from the pooled counts. The "
		  "curve is sampled only at the benchmark's thresholds.</figcaption></figure>"
		  "<table id=\"decision-table\"><tr><th class=\"num\">threshold</th><th "
		  "class=\"num\">net benefit, model</th><th class=\"num\">treat all</th><th "
		  "class=\"num\">treat none</th></tr>");
	for (size_t t = 0; t < r->npthr; t++) {
		const struct rp_thr *p = &r->pthr[t];
		double n = (double)(p->tp + p->fp + p->tn + p->fn), th = p->threshold;
		if (p->suppressed || n <= 0 || !(th > 0 && th < 1))
			continue;
		double w = th / (1 - th);
		rp_printf(b,
			  "<tr><td class=\"num\">%g</td><td class=\"num\">%.4f</td><td "
			  "class=\"num\">%.4f</td><td class=\"num\">0</td></tr>",
			  th, (double)p->tp / n - (double)p->fp / n * w,
			  (double)(p->tp + p->fn) / n - (double)(p->fp + p->tn) / n * w);
	}
	rp_put(b, "</table>");
}

/* Subgroup categories pooled over the sites (report "subgroups"). */
static void subgroups(struct rp_buf *b, const struct rp *r)
{
	if (!r->nsubs)
		return;
	rp_put(b, "<h3>Subgroups</h3><figure>");
	rp_svg_subgroups(b, r);
	rp_put(b, "<figcaption>Figure 1b. AUROC per subgroup category, pooled over the sites "
		  "that released the category.</figcaption></figure><table id=\"subgroup-table\">"
		  "<tr><th>subgroup</th><th>category</th><th class=\"num\">sites</th><th "
		  "class=\"num\">withheld at</th><th class=\"num\">records</th><th "
		  "class=\"num\">events</th><th class=\"num\">AUROC (CI)</th></tr>");
	for (size_t i = 0; i < r->nsubs; i++) {
		const struct rp_sub *g = &r->subs[i];
		rp_put(b, "<tr>");
		td_text(b, g->subgroup);
		td_text(b, g->category);
		rp_printf(b, "<td class=\"num\">%ld</td><td class=\"num\">%ld</td>", g->sites,
			  g->withheld);
		td_count(b, g->n);
		td_count(b, g->n_pos);
		rp_put(b, "<td class=\"num\">");
		if (g->has_auc)
			rp_ci(b, g->auc, g->lo, g->hi, 3);
		else
			rp_put(b, DASH);
		rp_put(b, "</td></tr>");
	}
	rp_put(b, "</table><p class=\"sub\">A category whose records, events or non-events (or "
		  "those of its complement) were below a site's minimum cell count was withheld "
		  "there; the largest differences between categories, with intervals, are in the "
		  "JSON report (<code>subgroups[].disparity</code>).</p>");
}

/* "sensitivity &ge; 0.80", "vendor's declared threshold". */
static void op_target(struct rp_buf *b, const struct rp_op *op)
{
	static const char *const what[] = {"sensitivity", "specificity", "positive rate"};

	if (op->target == RP_OP_DECLARED) {
		rp_put(b, "vendor's declared threshold");
		return;
	}
	rp_printf(b, "%s &ge; ", what[op->target]);
	if (fabs(op->value * 100 - round(op->value * 100)) < 1e-9)
		rp_printf(b, "%.2f", op->value);
	else
		rp_printf(b, "%g", op->value);
}

/* Each site's operating points: its own threshold for each target, the declared one. */
static void site_ops(struct rp_buf *b, const struct rp *r)
{
	size_t any = 0;

	for (size_t i = 0; i < r->nsites; i++)
		any += r->sites[i].ok ? r->sites[i].nops : 0;
	rp_put(b, "<h3>Operating points per site</h3>");
	if (!any) {
		rp_put(b, "<p>No site reported operating points: the benchmark sets no target "
			  "(such as sensitivity &ge; 0.80) and the vendor's manifest declares no "
			  "decision threshold, or the results predate them.</p>");
		return;
	}
	rp_put(b, "<table class=\"wide\" id=\"operating-points-table\"><tr><th>site</th>"
		  "<th>target</th><th class=\"num\">threshold</th><th class=\"num\">TP</th>"
		  "<th class=\"num\">FP</th><th class=\"num\">TN</th><th class=\"num\">FN</th>"
		  "<th class=\"num\">sensitivity</th><th class=\"num\">specificity</th>"
		  "<th class=\"num\">PPV</th><th class=\"num\">NPV</th></tr>");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		for (size_t k = 0; s->ok && k < s->nops; k++) {
			const struct rp_op *op = &s->ops[k];
			rp_put(b, "<tr>");
			td_text(b, s->node);
			rp_put(b, "<td>");
			op_target(b, op);
			rp_printf(b, "</td><td class=\"num\">%g</td>", op->t.threshold);
			if (op->t.suppressed) {
				rp_put(b,
				       "<td colspan=\"8\">withheld by the site (a cell below its "
				       "minimum size)</td></tr>");
				continue;
			}
			td_count(b, op->t.tp);
			td_count(b, op->t.fp);
			td_count(b, op->t.tn);
			td_count(b, op->t.fn);
			td_prop(b, &op->t.sens, 3);
			td_prop(b, &op->t.spec, 3);
			td_prop(b, &op->t.ppv, 3);
			td_prop(b, &op->t.npv, 3);
			rp_put(b, "</tr>");
		}
	}
	rp_printf(b,
		  "</table><p class=\"sub\">For a target of the benchmark each site found its "
		  "own threshold on its own records: the largest threshold on a 0.01 grid at "
		  "which they reach the target (for specificity the smallest), so thresholds "
		  "differ between sites and no patient's exact score is released. The vendor's "
		  "declared threshold is the decision threshold of the vendor's manifest, the same "
		  "at every site. Counts at each threshold as the site reported them; Wilson "
		  "%.0f%% intervals recomputed from the counts.</p>",
		  100 * r->conf);
}

static void operating_points(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<section id=\"operating-points\"><h2>3. Sensitivity and specificity at the "
		  "benchmark thresholds</h2><figure>");
	rp_svg_roc(b, r);
	rp_printf(b,
		  "<figcaption>Figure 2. Operating points in ROC space: one point per site and "
		  "threshold (a record is positive when its score is at least the threshold), "
		  "with Wilson %.0f%% intervals; black: pooled counts.</figcaption></figure>",
		  100 * r->conf);
	rp_put(b, "<h3>Pooled confusion metrics (counts summed over sites)</h3>"
		  "<table class=\"wide\" id=\"pooled-table\"><tr><th class=\"num\">threshold</th>"
		  "<th class=\"num\">sites</th>");
	rp_put(b, thr_head);
	for (size_t t = 0; t < r->npthr; t++)
		thr_row(b, NULL, &r->pthr[t], true);
	if (!r->npthr)
		rp_put(b, "<tr><td colspan=\"11\">no pooled rows in the report</td></tr>");
	rp_put(b, "</table><h3>Per site</h3><table class=\"wide\" "
		  "id=\"site-threshold-table\"><tr><th>site</th>"
		  "<th class=\"num\">threshold</th>");
	rp_put(b, thr_head);
	for (size_t i = 0; i < r->nsites; i++)
		for (size_t t = 0; r->sites[i].ok && t < r->sites[i].nthr; t++)
			thr_row(b, r->sites[i].node, &r->sites[i].thr[t], false);
	rp_put(b, "</table>");
	site_ops(b, r);
	decision(b, r);
	rp_put(b, "</section>\n");
}

static void calibration(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<section id=\"calibration\"><h2>4. Calibration</h2><figure>");
	rp_svg_oe(b, r);
	rp_printf(b,
		  "<figcaption>Figure 3. Observed over expected events (O/E) with exact Poisson "
		  "%.0f%% intervals; O/E &gt; 1: the model under-predicts risk.</figcaption>"
		  "</figure><table id=\"calibration-table\"><tr><th>site</th><th class=\"num\">"
		  "observed events</th><th class=\"num\">expected events</th><th class=\"num\">"
		  "O/E (CI)</th><th class=\"num\">Brier score</th></tr>",
		  100 * r->conf);
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (!s->ok)
			continue;
		rp_put(b, "<tr>");
		td_text(b, s->node);
		td_count(b, s->n_pos);
		rp_put(b, "<td class=\"num\">");
		rp_num(b, s->expected, 1);
		rp_put(b, "</td><td class=\"num\">");
		rp_ci(b, s->oe, s->oe_lo, s->oe_hi, 3);
		rp_put(b, "</td><td class=\"num\">");
		rp_num(b, s->brier, 4);
		rp_put(b, "</td></tr>");
	}
	if (r->has_pooled) {
		rp_put(b, "<tr><th>pooled</th>");
		td_count(b, r->ppos);
		rp_put(b, "<td class=\"num\">");
		rp_num(b, r->pexpected, 1);
		rp_put(b, "</td><td class=\"num\">");
		rp_ci(b, r->poe, r->poe_lo, r->poe_hi, 3);
		rp_put(b, "</td><td class=\"num\">");
		rp_num(b, r->pbrier, 4);
		rp_put(b, "</td></tr>");
	}
	rp_put(b, "</table>");
	if (isfinite(r->recal_b)) {
		rp_put(b, "<h3>Calibration slope and intercept</h3><table class=\"kv\" "
			  "id=\"recalibration-table\"><tr><th>fit</th><td>logit P(y=1) = a + b "
			  "logit(p), maximum likelihood over every site's records by federated "
			  "Newton rounds (status ");
		rp_esc(b, r->recal_status ? r->recal_status : "?", 32);
		rp_put(b, ")</td></tr><tr><th>slope b</th><td>");
		rp_ci(b, r->recal_b, r->recal_b - r->z * r->recal_b_se,
		      r->recal_b + r->z * r->recal_b_se, 3);
		rp_put(b, "</td></tr><tr><th>intercept a</th><td>");
		rp_ci(b, r->recal_a, r->recal_a - r->z * r->recal_a_se,
		      r->recal_a + r->z * r->recal_a_se, 3);
		rp_put(b, "</td></tr></table><p class=\"sub\">Slope 1 and intercept 0: calibrated; "
			  "slope &lt; 1: predictions too extreme. Wald intervals from the "
			  "information matrix.</p>");
	} else {
		rp_put(b, "<p class=\"sub\">A calibration slope and intercept come from a "
			  "recalibration run (<code>fedval run start --recalibrate</code>); this "
			  "run reports O/E and the Brier score.</p>");
	}
	rp_put(b, "</section>\n");
}

static void prevalence(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<section id=\"prevalence\"><h2>5. Prevalence</h2><figure>");
	rp_svg_prevalence(b, r);
	rp_printf(b,
		  "<figcaption>Figure 4. Proportion of records with the outcome per site, with "
		  "Wilson %.0f%% intervals. Predictive values (PPV, NPV) depend on it.</figcaption>"
		  "</figure></section>\n",
		  100 * r->conf);
}

/* ---- population and data quality ---- */

/* A string member of an object (NULL object allowed), or NULL. */
static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void kv_text(struct rp_buf *b, const char *th, const char *s)
{
	rp_printf(b, "<tr><th>%s</th><td>", th);
	rp_esc(b, s, FV_MAX_REPORT_TEXT);
	rp_put(b, "</td></tr>");
}

/* 100 x / n with one decimal; "<0.1%" rather than "0.0%" when x is not 0. */
static void pct(struct rp_buf *b, uint64_t x, uint64_t n)
{
	double p = 100.0 * (double)x / (double)n;
	if (x && p < 0.05)
		rp_put(b, "&lt;0.1%");
	else {
		rp_num(b, p, 1);
		rp_put(b, "%");
	}
}

/* "x (p%)" with p the share of n; only x when n is 0. */
static void count_pct(struct rp_buf *b, uint64_t x, uint64_t n)
{
	rp_printf(b, "%llu", (unsigned long long)x);
	if (n) {
		rp_put(b, " <span class=\"ci\">(");
		pct(b, x, n);
		rp_put(b, ")</span>");
	}
}

/* Site headers of a sites-as-columns table: the successful sites, in report order. */
static void site_columns(struct rp_buf *b, const struct rp *r, const char *first, bool need_sum)
{
	rp_printf(b, "<tr><th>%s</th>", first);
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (!s->ok || (need_sum && !s->data.has_summary))
			continue;
		rp_put(b, "<th class=\"num\">");
		rp_esc(b, s->node, FV_MAX_REPORT_TEXT);
		rp_put(b, "</th>");
	}
	rp_put(b, "</tr>");
}

/* One table per subgroup: categories x successful sites, each cell the site's released
 * count and its share of the site's n, "withheld" where the site withheld the category. */
static void casemix_tables(struct rp_buf *b, const struct rp *r)
{
	const struct rp_mix **cell = fv_calloc(RP_MIX_CATS * r->nok, sizeof(*cell));
	bool star = false;

	if (!cell) {
		b->oom = true;
		return;
	}
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct rp_group *G = &r->groups[g];
		size_t col = 0;
		memset(cell, 0, RP_MIX_CATS * r->nok * sizeof(*cell));
		for (size_t i = 0; i < r->nsites; i++) {
			const struct rp_site *s = &r->sites[i];
			if (!s->ok)
				continue;
			for (size_t k = 0; k < s->nmix; k++)
				if (s->mix[k].group == (int)g && s->mix[k].cat >= 0)
					cell[(size_t)s->mix[k].cat * r->nok + col] = &s->mix[k];
			col++;
		}
		rp_printf(b, "<table class=\"wide\" id=\"casemix-table-%zu\"><caption>Subgroup ",
			  g);
		rp_esc(b, G->name, FV_MAX_REPORT_TEXT);
		rp_put(b, ": records per category (share of the site's records)</caption>");
		site_columns(b, r, "category", false);
		for (size_t c = 0; c < G->ncats; c++) {
			rp_put(b, "<tr>");
			td_text(b, G->cats[c]);
			star = star || !strcmp(G->cats[c], "*");
			col = 0;
			for (size_t i = 0; i < r->nsites; i++) {
				const struct rp_site *s = &r->sites[i];
				const struct rp_mix *m;
				if (!s->ok)
					continue;
				m = cell[c * r->nok + col++];
				rp_put(b, "<td class=\"num\">");
				if (!m)
					rp_put(b, DASH);
				else if (m->suppressed)
					rp_put(b, "withheld");
				else
					count_pct(b, m->n, s->n);
				rp_put(b, "</td>");
			}
			rp_put(b, "</tr>");
		}
		for (int row = G->more ? 0 : 1; row < 3; row++) {
			static const char *const head[] = {
			    "other categories (not shown)",
			    "withheld, together (records minus the released counts)",
			    "records evaluated"};
			rp_printf(b, "<tr><th>%s</th>", head[row]);
			for (size_t i = 0; i < r->nsites; i++) {
				const struct rp_site *s = &r->sites[i];
				uint64_t other = 0, released = 0;
				bool listed = false;
				if (!s->ok)
					continue;
				for (size_t k = 0; k < s->nmix; k++) {
					const struct rp_mix *m = &s->mix[k];
					if (m->group != (int)g)
						continue;
					listed = true;
					released += m->n;
					other += m->cat < 0 ? m->n : 0;
				}
				rp_put(b, "<td class=\"num\">");
				if (row == 2)
					rp_printf(b, "%llu", (unsigned long long)s->n);
				else if (!listed)
					rp_put(b, DASH);
				else
					count_pct(b,
						  row ? (s->n > released ? s->n - released : 0)
						      : other,
						  s->n);
				rp_put(b, "</td>");
			}
			rp_put(b, "</tr>");
		}
		rp_put(b, "</table>");
	}
	fv_free(cell);
	rp_put(b, "<p class=\"sub\">" DASH ": the site's result does not list the category. "
		  "Withheld: the site released no count for the category (fewer records, events "
		  "or non-events than its minimum cell count, or to keep another withheld "
		  "category from being recovered by subtraction).");
	if (star)
		rp_put(b, " Category <code>*</code>: the site withheld the whole subgroup (under "
			  "differential privacy, or too many distinct values to form it).");
	if (r->groups_more)
		rp_printf(b,
			  " %zu site entries of further subgroups are not shown; they are in the "
			  "JSON report.",
			  r->groups_more);
	rp_put(b, "</p>");
}

static void casemix(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<h3>Case mix per site</h3>");
	if (!r->ngroups) {
		rp_put(b, "<p>No site reported its case mix per subgroup (the benchmark defines no "
			  "subgroups, the results predate them, or no site succeeded).</p>");
		return;
	}
	rp_put(b, "<figure>");
	rp_svg_casemix(b, r);
	rp_put(b, "<figcaption>Figure 5. Share of each site's evaluated records in each category "
		  "of the benchmark's subgroups; striped grey: categories the site withheld for "
		  "small counts, together (its records minus the released counts).</figcaption>"
		  "</figure>");
	casemix_tables(b, r);
}

static void dataset_cell(struct rp_buf *b, const struct rp_data *x)
{
	char when[40];
	bool any = false;

	rp_put(b, "<td>");
	if (x->ds_name) {
		rp_esc(b, x->ds_name, FV_MAX_REPORT_TEXT);
		any = true;
	}
	if (x->ds_period) {
		rp_put(b, any ? "; period " : "period ");
		rp_esc(b, x->ds_period, FV_MAX_REPORT_TEXT);
		any = true;
	}
	if (x->ds_source) {
		rp_put(b, any ? "; source " : "source ");
		rp_esc(b, x->ds_source, FV_MAX_REPORT_TEXT);
		any = true;
	}
	if (x->ds_registered_us >= 0) {
		fv_time_iso((int64_t)x->ds_registered_us, when, sizeof(when));
		rp_put(b, any ? "; registered " : "registered ");
		rp_esc(b, when, 0);
		any = true;
	}
	if (!any)
		rp_put(b, DASH);
	rp_put(b, "</td>");
}

/* Missing values per variable: variables x sites with a summary. */
static void dq_variables(struct rp_buf *b, const struct rp *r)
{
	size_t ncol = 0;
	const struct rp_dvar **cell;

	for (size_t i = 0; i < r->nsites; i++)
		ncol += r->sites[i].ok && r->sites[i].data.has_summary;
	if (!r->ndvars || !ncol)
		return;
	if (!(cell = fv_calloc(r->ndvars * ncol, sizeof(*cell)))) {
		b->oom = true;
		return;
	}
	for (size_t i = 0, col = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (!s->ok || !s->data.has_summary)
			continue;
		for (size_t k = 0; k < s->data.nvars; k++)
			if (s->data.vars[k].row >= 0)
				cell[(size_t)s->data.vars[k].row * ncol + col] = &s->data.vars[k];
		col++;
	}
	rp_put(b, "<table class=\"wide\" id=\"dq-variables-table\"><caption>Missing values per "
		  "variable (% of the summary's rows); invalid and out-of-range values counted "
		  "where there are any</caption>");
	site_columns(b, r, "variable", true);
	for (size_t v = 0; v < r->ndvars; v++) {
		size_t col = 0;
		rp_put(b, "<tr>");
		td_text(b, r->dvars[v]);
		for (size_t i = 0; i < r->nsites; i++) {
			const struct rp_site *s = &r->sites[i];
			const struct rp_dvar *x;
			if (!s->ok || !s->data.has_summary)
				continue;
			x = cell[v * ncol + col++];
			rp_put(b, "<td class=\"num\">");
			if (!x) {
				rp_put(b, DASH);
			} else {
				if (s->data.rows) {
					pct(b, x->missing, s->data.rows);
				} else {
					rp_put(b, DASH);
				}
				if (x->invalid)
					rp_printf(b, "<span class=\"ci\">%llu invalid</span>",
						  (unsigned long long)x->invalid);
				if (x->oor)
					rp_printf(b, "<span class=\"ci\">%llu out of range</span>",
						  (unsigned long long)x->oor);
			}
			rp_put(b, "</td>");
		}
		rp_put(b, "</tr>");
	}
	rp_put(b, "</table>");
	fv_free(cell);
	if (r->dvars_more)
		rp_printf(b,
			  "<p class=\"sub\">%zu site entries of further variables are not shown; "
			  "they are in the JSON report.</p>",
			  r->dvars_more);
}

static void data_quality(struct rp_buf *b, const struct rp *r)
{
	size_t any = 0;

	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_data *x = &r->sites[i].data;
		any += r->sites[i].ok && (x->has_summary || x->has_dataset || x->note);
	}
	rp_put(b, "<h3>Data quality per site</h3>");
	if (!any) {
		rp_put(b, "<p>No site's result carries a dataset description or a data summary "
			  "(older results, or the sites registered none).</p>");
		return;
	}
	rp_put(b, "<table class=\"wide\" id=\"dq-sites-table\"><tr><th>site</th><th>dataset</th>"
		  "<th class=\"num\">records<br>registered</th><th class=\"num\">records<br>"
		  "evaluated</th><th class=\"num\">prevalence<br>evaluated</th><th "
		  "class=\"num\">rows in<br>the summary</th><th class=\"num\">label prevalence"
		  "<br>in the summary</th><th class=\"num\">label missing<br>/ invalid</th>"
		  "<th>summary fingerprint</th></tr>");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		const struct rp_data *x = &s->data;
		if (!s->ok)
			continue;
		rp_put(b, "<tr>");
		td_text(b, s->node);
		dataset_cell(b, x);
		if (x->ds_records >= 0)
			td_count(b, (uint64_t)x->ds_records);
		else
			rp_put(b, "<td class=\"num\">" DASH "</td>");
		td_count(b, s->n);
		rp_put(b, "<td class=\"num\">");
		rp_num(b, s->prev.est, 3);
		rp_put(b, "</td>");
		if (!x->has_summary) {
			rp_put(b, "<td colspan=\"4\">");
			if (x->note) {
				rp_put(b, "<span class=\"warn\">no summary bound to the result: ");
				rp_esc(b, x->note, FV_MAX_REPORT_TEXT);
				rp_put(b, "</span>");
			} else {
				rp_put(b, "no data summary in the result");
			}
			rp_put(b, "</td></tr>");
			continue;
		}
		td_count(b, x->rows);
		rp_put(b, "<td class=\"num\">");
		if (!x->has_label)
			rp_put(b, DASH);
		else if (isfinite(x->lab_prev))
			rp_num(b, x->lab_prev, 3);
		else
			rp_put(b, "withheld");
		rp_put(b, "</td><td class=\"num\">");
		if (x->has_label)
			rp_printf(b, "%llu / %llu", (unsigned long long)x->lab_missing,
				  (unsigned long long)x->lab_invalid);
		else
			rp_put(b, DASH);
		rp_put(b, "</td><td>");
		hex(b, x->fingerprint);
		if (x->note) {
			rp_put(b, "<br><span class=\"warn\">");
			rp_esc(b, x->note, FV_MAX_REPORT_TEXT);
			rp_put(b, "</span>");
		}
		rp_put(b, "</td></tr>");
	}
	rp_put(b, "</table>");
	dq_variables(b, r);
	rp_put(b,
	       "<p class=\"sub\">Each site's data summary is its disclosure-controlled "
	       "description of the registered dataset (format fedval-data-summary/1), bound to "
	       "the signed result by its fingerprint. Every row of a variable is missing, invalid "
	       "(not a number), out of the benchmark's declared range, or valid. The summary "
	       "describes the registered dataset; the records evaluated may be fewer. Variable "
	       "names are as each site's summary gives them.</p>");
}

static void population(struct rp_buf *b, const struct rp *r)
{
	const json_t *claim =
	    r->manifest ? json_object_get(r->manifest, "claimed_performance") : NULL;
	const char *bench = jstr(r->spec, "population"),
		   *ip = jstr(r->manifest, "intended_population"),
		   *cp = json_is_object(claim) ? jstr(claim, "population") : NULL,
		   *use = jstr(r->manifest, "intended_use");

	rp_put(b, "<section id=\"population\"><h2>6. Population and data quality</h2>"
		  "<table class=\"kv\" id=\"population-table\">");
	if (bench)
		kv_text(b, "Intended population (benchmark specification)", bench);
	else
		rp_put(b, "<tr><th>Intended population (benchmark specification)</th><td>not "
			  "stated in the benchmark specification</td></tr>");
	if (ip)
		kv_text(b, "Intended population stated by the vendor (the vendor's text)", ip);
	if (cp)
		kv_text(b, "Population of the vendor's claimed performance (the vendor's text)",
			cp);
	if (use)
		kv_text(b, "Intended use stated by the vendor (the vendor's text)", use);
	if (!ip && !cp && !use)
		rp_put(b, "<tr><th>Population stated by the vendor</th><td>not stated in the "
			  "manifest</td></tr>");
	rp_put(b, "</table><p class=\"sub\">The case mix and data quality below describe the "
		  "records at each site; compare them with the intended populations above. The "
		  "vendor's text is quoted as submitted, not checked.</p>");
	casemix(b, r);
	data_quality(b, r);
	rp_put(b, "</section>\n");
}

/* ---- head to head ---- */

/* The first bytes of s, at most max, cut on a character boundary. */
static int cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

void rp_model_label(const struct rp *r, int model, char *out, size_t cap, size_t max)
{
	const struct rp_model *m = &r->h2h.models[model];
	const char *who = m->vendor;

	if (r->model_name && !strcmp(m->version_id, r->version_id))
		who = r->model_name;
	fv_fmt(out, cap, "%.*s [%.*s]", cut_utf8(who, max), who, cut_utf8(m->version_id, 8),
	       m->version_id);
}

/* p = 0.0123, or p < 0.0001; an en dash when not finite. */
static void pval(struct rp_buf *b, double p)
{
	if (isfinite(p) && p < 1e-4) {
		rp_put(b, "&lt; 0.0001");
		return;
	}
	rp_num(b, p, 4);
}

static void h2h_board(struct rp_buf *b, const struct rp *r)
{
	const struct rp_h2h *h = &r->h2h;

	rp_put(b, "<table id=\"leaderboard-table\"><caption>Leaderboard by pooled AUROC"
		  "</caption><tr><th class=\"num\">rank</th><th class=\"num\">rank interval</th>"
		  "<th>model</th><th>vendor</th><th>version id</th><th class=\"num\">pooled "
		  "AUROC (95% CI)</th></tr>");
	for (size_t i = 0; i < h->nboard; i++) {
		const struct rp_rank *k = &h->board[i];
		const struct rp_model *m = &h->models[k->model];
		bool run = !strcmp(m->version_id, r->version_id);
		rp_printf(b,
			  "<tr><td class=\"num\">%ld</td><td class=\"num\">%ld" DASH "%ld</td><td>",
			  k->rank, k->lo, k->hi);
		if (run) {
			rp_esc(b, r->model_name ? r->model_name : "the run's model", 256);
			if (r->model_version) {
				rp_put(b, " ");
				rp_esc(b, r->model_version, 256);
			}
			rp_put(b, " (the run's model)");
		} else if (m->name) {
			rp_esc(b, m->name, 256);
			if (m->version) {
				rp_put(b, " ");
				rp_esc(b, m->version, 256);
			}
		} else {
			rp_put(b, "compared model");
		}
		rp_put(b, "</td>");
		td_text(b, m->vendor);
		rp_put(b, "<td>");
		hex(b, m->version_id);
		rp_put(b, "</td><td class=\"num\">");
		rp_ci(b, k->auc, k->auc_lo, k->auc_hi, 3);
		rp_put(b, "</td></tr>");
	}
	if (!h->nboard)
		rp_put(b, "<tr><td colspan=\"6\">no leaderboard in the report</td></tr>");
	rp_put(b,
	       "</table><p class=\"sub\">Pooled AUROC: random-effects meta-analysis of each "
	       "model's logit AUROC over the sites. Rank interval: the ranks the model can "
	       "take given the pairwise comparisons of the pooled AUROCs (joint 95% over all "
	       "pairs, Bonferroni for more than two models). An interval of one rank (1" DASH "1) "
	       "means the comparisons separate the model from every other on these records; an "
	       "interval over several ranks, that they do not separate it from the models "
	       "there. Both as <code>fedval results</code> computed them "
	       "(95%).</p>");
}

/* A signed estimate with its interval, "est (lo to hi)": an en dash between negative
 * numbers would read as a minus. */
static void ci_to(struct rp_buf *b, double est, double lo, double hi, int prec)
{
	rp_num(b, est, prec);
	rp_put(b, " <span class=\"ci\">(");
	rp_num(b, lo, prec);
	rp_put(b, " to ");
	rp_num(b, hi, prec);
	rp_put(b, ")</span>");
}

/* Site and pooled differences, b - a, under a heading row per pair. */
static void h2h_table(struct rp_buf *b, const struct rp *r)
{
	const struct rp_h2h *h = &r->h2h;
	char la[96], lb[96];

	rp_printf(b,
		  "<table class=\"wide\" id=\"h2h-table\"><tr><th>site</th><th "
		  "class=\"num\">difference in AUROC, B " DASH " A (%.0f%% CI)</th><th "
		  "class=\"num\">p</th><th>how</th></tr>",
		  100 * r->conf);
	for (size_t q = 0; q < h->npairs; q++) {
		const struct rp_pair *pr = &h->pairs[q];
		rp_model_label(r, pr->b, lb, sizeof(lb), 40);
		rp_model_label(r, pr->a, la, sizeof(la), 40);
		rp_put(b, "<tr><th colspan=\"4\">B: ");
		rp_esc(b, lb, 0);
		rp_put(b, " " DASH " A: ");
		rp_esc(b, la, 0);
		rp_put(b, "</th></tr>");
		for (size_t i = 0; i < h->nsd; i++) {
			const struct rp_sdiff *sd = &h->sd[i];
			if (sd->pair != (int)q)
				continue;
			rp_put(b, "<tr>");
			td_text(b, sd->site);
			rp_put(b, "<td class=\"num\">");
			ci_to(b, sd->diff, sd->lo, sd->hi, 4);
			rp_put(b, "</td><td class=\"num\">");
			pval(b, sd->p);
			rp_put(b, "</td><td>paired DeLong, same records</td></tr>");
		}
		rp_put(b, "<tr><th>pooled</th><td class=\"num\">");
		if (pr->has_pool) {
			ci_to(b, pr->mu, pr->lo, pr->hi, 4);
			rp_put(b, "</td><td class=\"num\">");
			pval(b, pr->p);
			if (pr->k == 1)
				rp_put(b, "</td><td>one site: its difference");
			else
				rp_printf(b,
					  "</td><td>random effects over %zu sites (%s%s), "
					  "&tau;&sup2; = %.2g",
					  pr->k,
					  pr->method == FV_META_REML ? "REML"
								     : "DerSimonian" DASH "Laird",
					  pr->hk ? ", Hartung" DASH "Knapp" : "",
					  pr->tau2 < 1e-12 ? 0.0 : pr->tau2);
		} else if (pr->has_json) {
			ci_to(b, pr->j_diff, pr->j_lo, pr->j_hi, 4);
			rp_put(b, "</td><td class=\"num\">");
			pval(b, pr->j_p);
			rp_put(b,
			       "</td><td>as in the JSON report (95%; no site differences in it)");
			if (pr->j_sites >= 0)
				rp_printf(b, ", %ld sites", pr->j_sites);
			if (pr->j_method) {
				rp_put(b, ": ");
				rp_esc(b, pr->j_method, 512);
			}
		} else {
			rp_put(b, DASH "</td><td class=\"num\">" DASH "</td><td>not pooled");
		}
		rp_put(b, "</td></tr>");
	}
	if (!h->npairs)
		rp_put(b, "<tr><td colspan=\"4\">no paired differences in the report</td></tr>");
	rp_put(b, "</table>");
}

static void head_to_head(struct rp_buf *b, const struct rp *r)
{
	const struct rp_h2h *h = &r->h2h;
	bool drawn = false;

	rp_put(b, "<section id=\"head-to-head\"><h2>7. Head-to-head comparison</h2>");
	if (!h->present) {
		rp_put(b, "<p>This run evaluated one model, so there is no head-to-head comparison "
			  "(a head-to-head run, <code>fedval run start --compare</code>, evaluates "
			  "several models on the same records at each site).</p></section>\n");
		return;
	}
	rp_printf(
	    b,
	    "<p>%zu models were evaluated on the same records at each site. The differences "
	    "in AUROC below are <strong>paired</strong>: both models scored the same records, "
	    "so the variance of a site's difference accounts for the correlation between "
	    "them (paired DeLong). Ranks and rank intervals are measurements on this "
	    "benchmark's records, not approvals, certifications or recommendations of a "
	    "model.</p>",
	    h->nmodels);
	h2h_board(b, r);
	for (size_t q = 0; q < h->npairs; q++)
		drawn = drawn || h->pairs[q].nsites || h->pairs[q].has_pool || h->pairs[q].has_json;
	if (drawn) {
		rp_put(b, "<figure>");
		rp_svg_h2h(b, r);
		rp_printf(
		    b,
		    "<figcaption>Figure 6. Paired difference in AUROC, B " DASH " A, per site "
		    "with %.0f%% intervals, and pooled over the sites (diamond: random effects, "
		    "REML with the Hartung" DASH "Knapp interval); above 0: model B "
		    "discriminates better on these records.</figcaption></figure>",
		    100 * r->conf);
	}
	h2h_table(b, r);
	rp_put(b, "<p class=\"sub\">Models are named by the run's manifest name or their vendor "
		  "and the first 8 digits of their version id (whole in the leaderboard). "
		  "Pairs as the report lists them (<code>fedval results</code> compares each "
		  "model with the run's model); site intervals and p are "
		  "recomputed from each site's difference and paired variance, the pooled "
		  "difference from the site differences.</p></section>\n");
}

static void site_table(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<section id=\"sites\"><h2>8. Per-site metrics</h2><table class=\"wide\" "
		  "id=\"site-table\">"
		  "<tr><th>site</th><th>status</th><th class=\"num\">records</th>"
		  "<th class=\"num\">events</th><th class=\"num\">prevalence</th>"
		  "<th class=\"num\">AUROC</th><th class=\"num\">Brier</th>"
		  "<th class=\"num\">O/E</th><th class=\"num\">weight</th></tr>");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		rp_put(b, "<tr>");
		td_text(b, s->node);
		if (!s->ok) {
			rp_put(b, "<td colspan=\"8\">");
			rp_put(b, !s->verified ? "<span class=\"warn\">not verified</span>"
					       : "failed at the site");
			if (s->why) {
				rp_put(b, ": ");
				rp_esc(b, s->why, FV_MAX_REPORT_TEXT);
			}
			rp_put(b, "; excluded from every pooled value</td></tr>");
			continue;
		}
		rp_put(b, "<td>ok, verified");
		if (s->dp_mechanism) {
			rp_put(b, "; differential privacy (");
			rp_esc(b, s->dp_mechanism, 16);
			rp_printf(b, ", &epsilon; = %g): counts carry noise, AUROC not released",
				  s->dp_epsilon);
		}
		rp_put(b, "</td>");
		td_count(b, s->n);
		td_count(b, s->n_pos);
		td_prop(b, &s->prev, 3);
		rp_put(b, "<td class=\"num\">");
		if (s->has_auc)
			rp_ci(b, s->auc, s->auc_lo, s->auc_hi, 3);
		else
			rp_put(b, DASH);
		rp_put(b, "</td><td class=\"num\">");
		rp_num(b, s->brier, 4);
		rp_put(b, "</td><td class=\"num\">");
		rp_ci(b, s->oe, s->oe_lo, s->oe_hi, 3);
		rp_put(b, "</td><td class=\"num\">");
		if (isfinite(s->weight))
			rp_printf(b, "%.1f%%", s->weight);
		else
			rp_put(b, DASH);
		rp_put(b, "</td></tr>");
	}
	rp_put(b, "</table><p class=\"sub\">Weight: share of the random-effects meta-analysis of "
		  "logit AUROC.</p></section>\n");
}

static void benchmark(struct rp_buf *b, const struct rp *r)
{
	rp_put(b, "<section id=\"benchmark\"><h2>9. Benchmark and model</h2>"
		  "<h3>Benchmark specification (frozen before the run)</h3>");
	if (r->spec)
		json_html(b, r->spec, 0);
	else
		rp_put(b, "<p>Not in the report.</p>");
	rp_put(b, "<h3>Vendor's manifest (as submitted; claims are the vendor's)</h3>");
	if (r->manifest)
		json_html(b, r->manifest, 0);
	else
		rp_put(b, "<p>Not in the report.</p>");
	rp_put(b, "</section>\n");
}

static void provenance(struct rp_buf *b, const struct rp *r)
{
	const char *msha = NULL;

	if (r->manifest && json_is_string(json_object_get(r->manifest, "model_sha256")))
		msha = json_string_value(json_object_get(r->manifest, "model_sha256"));
	rp_put(b, "<section id=\"provenance\"><h2>10. Data and provenance</h2>"
		  "<table class=\"kv\" id=\"model-table\"><tr><th>Model</th><td>");
	rp_esc(b, r->model_name ? r->model_name : DASH, 256);
	rp_put(b, "</td></tr><tr><th>Model version</th><td>");
	rp_esc(b, r->model_version ? r->model_version : DASH, 256);
	rp_put(b, "</td></tr><tr><th>Vendor</th><td>");
	rp_esc(b, r->vendor, 256);
	rp_put(b, "</td></tr><tr><th>Version id (registered, immutable)</th><td>");
	hex(b, r->version_id);
	rp_put(b, "</td></tr><tr><th>ONNX SHA-256</th><td>");
	hex(b, r->onnx_sha);
	if (msha && strcmp(msha, r->onnx_sha) != 0)
		rp_put(b, " <span class=\"warn\">differs from the manifest's model_sha256</span>");
	else if (msha)
		rp_put(b, " (equal to the manifest's model_sha256)");
	rp_put(b, "</td></tr><tr><th>Run</th><td><code>");
	rp_esc(b, r->run_id, 256);
	rp_put(b, "</code></td></tr></table>"
		  "<table id=\"provenance-table\"><tr><th>site</th><th>verification</th>"
		  "<th>result SHA-256</th><th>signature</th><th>certificate SHA-256</th>"
		  "<th>software</th></tr>");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		rp_put(b, "<tr>");
		td_text(b, s->node);
		rp_put(b, "<td>");
		if (s->verified)
			rp_put(b, "verified (certificate of the federation CA for this node; "
				  "signature over the result)");
		else {
			rp_put(b, "<span class=\"warn\">NOT verified</span>");
			if (s->why) {
				rp_put(b, ": ");
				rp_esc(b, s->why, FV_MAX_REPORT_TEXT);
			}
		}
		rp_put(b, "</td><td>");
		hex(b, s->sha);
		rp_put(b, "</td><td>");
		hex(b, s->sig);
		rp_put(b, "</td><td>");
		hex(b, s->cert);
		rp_put(b, "</td>");
		td_text(b, s->software);
		rp_put(b, "</tr>");
	}
	rp_put(b, "</table><p class=\"sub\">Verification was done by <code>fedval results</code> "
		  "when it wrote the JSON report; this page shows its outcome. To check again, "
		  "fetch the run with <code>fedval results</code>: the signature covers the exact "
		  "result bytes whose SHA-256 is shown.</p></section>\n");
}

static void methods(struct rp_buf *b, const struct rp *r)
{
	rp_printf(
	    b,
	    "<section id=\"methods\"><h2>11. Methods</h2>"
	    "<p>Each site evaluated the frozen model on its own records and sent only sufficient "
	    "statistics, signed with its key; no record left a site. All intervals are %.0f%% "
	    "intervals (z = %.4f).</p><table class=\"kv\">"
	    "<tr><th>AUROC</th><td>Mann" DASH "Whitney statistic, ties counted one half (Hanley "
	    "&amp; McNeil 1982). Variance by DeLong, DeLong &amp; Clarke-Pearson (1988) from the "
	    "structural components; Wald interval AUROC &plusmn; z&radic;Var on the AUROC scale, "
	    "clipped to [0, 1], as pROC's <code>ci.auc(method = \"delong\")</code>.</td></tr>"
	    "<tr><th>Pooled AUROC</th><td>Random-effects meta-analysis of logit AUROC with the "
	    "delta-method variance Var/(AUROC(1 " DASH " AUROC))&sup2;. Between-site variance "
	    "&tau;&sup2; by %s%s; pooled estimate &mu; = &Sigma;w*y/&Sigma;w* with w* = 1/(v + "
	    "&tau;&sup2;), Wald interval%s, back-transformed with the inverse logit. Prediction "
	    "interval for the AUROC at a new site: &mu; &plusmn; t<sub>k" DASH "2</sub> "
	    "&radic;(&tau;&sup2; + se&sup2;) (Higgins, Thompson &amp; Spiegelhalter 2009), not "
	    "estimable for k &lt; 3. Heterogeneity: Cochran's Q, I&sup2; and H&sup2; as metafor "
	    "reports them (Higgins &amp; Thompson 2002; Viechtbauer 2010).</td></tr>"
	    "<tr><th>Sensitivity, specificity, PPV, NPV, accuracy</th><td>From the confusion "
	    "counts at each benchmark threshold (positive when score &ge; threshold): TP/(TP+FN), "
	    "TN/(TN+FP), TP/(TP+FP), TN/(TN+FN), (TP+TN)/n. Wilson score intervals (Wilson "
	    "1927; recommended by Newcombe 1998), recomputed here from the counts. Pooled rows "
	    "add the counts of the sites that did not suppress the row, so pooled proportions are "
	    "exact; they weight sites by size and do not model between-site "
	    "heterogeneity.</td></tr>"
	    "<tr><th>Operating points per site</th><td>For each target of the benchmark "
	    "(sensitivity, specificity or positive rate &ge; a value) each site takes the "
	    "threshold on its sorted scores that reaches the target and is most specific (for "
	    "specificity: most sensitive), moved onto a 0.01 grid (down for sensitivity and "
	    "positive rate, up for specificity) so that the target still holds and no exact "
	    "score is released; the vendor's declared threshold is evaluated as it is. Measures "
	    "and Wilson intervals from the counts there, as for the benchmark "
	    "thresholds.</td></tr>"
	    "<tr><th>Head to head</th><td>Every model scored the same records at each site. "
	    "Per site the difference of AUROCs B " DASH " A with the paired DeLong variance "
	    "Var<sub>A</sub> + Var<sub>B</sub> " DASH " 2Cov<sub>AB</sub> from the structural "
	    "components (DeLong, DeLong &amp; Clarke-Pearson 1988; pROC's <code>roc.test(paired "
	    "= TRUE)</code>), Wald interval and z test. Site differences pooled by random-effects "
	    "meta-analysis, &tau;&sup2; by REML, Hartung" DASH "Knapp interval and t test with "
	    "k " DASH " 1 df (one site: its difference). Each model's pooled AUROC: random "
	    "effects on the logit scale. Rank intervals from the pairwise comparisons of pooled "
	    "AUROCs: a model's best rank is 1 + the number of models significantly better, its "
	    "worst the number of models minus those significantly worse, each pair tested at "
	    "z<sub>1" DASH "0.05/(m(m" DASH "1))</sub> for m &gt; 2 models (Bonferroni over the "
	    "m(m " DASH " 1)/2 pairs, so that all intervals hold jointly with 95%% probability; "
	    "Klein, Wright &amp; Wieczorek 2020), z<sub>0.975</sub> for two; pairs without the "
	    "run's model compared unpaired (variances added, conservative).</td></tr>"
	    "<tr><th>Prevalence</th><td>Events/records with a Wilson interval.</td></tr>"
	    "<tr><th>Brier score</th><td>Mean of (p " DASH " y)&sup2; over records; the pooled "
	    "value is the record-weighted mean.</td></tr>"
	    "<tr><th>Observed/expected (O/E)</th><td>Observed events &Sigma;y over expected events "
	    "&Sigma;p (calibration in the large). Interval: the exact Poisson (Garwood 1936) "
	    "interval for the observed count, &chi;&sup2;<sub>2O, &alpha;/2</sub>/2 to "
	    "&chi;&sup2;<sub>2O+2, 1" DASH "&alpha;/2</sub>/2, divided by the expected count, "
	    "which is treated as fixed, as for a standardised mortality ratio (Ulm 1990; Debray "
	    "et al. 2017).</td></tr>"
	    "<tr><th>Case mix and data quality</th><td>Each category's share is its released "
	    "count over the site's evaluated records n; the categories a site withheld are shown "
	    "together as n minus the released counts (a site may round released counts, so shares "
	    "can add up to slightly more than 100%%). Missing, invalid and out-of-range counts "
	    "come from the site's data summary (fedval-data-summary/1, bound to the result by its "
	    "fingerprint): %% missing = missing rows / summary rows.</td></tr>"
	    "<tr><th>Small cells</th><td>A site may suppress a threshold row whose smallest cell "
	    "is "
	    "below its minimum; such a row is left out of that threshold's pooled counts and the "
	    "pooled row states how many sites it covers.</td></tr>"
	    "<tr><th>Software</th><td>fedval " FV_VERSION_STRING
	    " (lib/stats: golden tests against published values, see docs/statistics.md); "
	    "each site's node software is listed under provenance.</td></tr></table></section>\n",
	    100 * r->conf, r->z, meta_name(r->meta_method),
	    r->meta_method == FV_META_REML ? " (Fisher scoring, as metafor), started at the "
					     "DerSimonian" DASH "Laird value"
					   : " (DerSimonian &amp; Laird 1986)",
	    r->hk ? " with the Hartung" DASH "Knapp" DASH "Sidik" DASH "Jonkman variance and t "
		    "quantiles (Hartung &amp; Knapp 2001; Sidik &amp; Jonkman 2002)"
		  : "");
}

/* Items shaped after TRIPOD+AI (Collins et al. 2024) and STARD-AI; paraphrased topics, not
 * the checklists' wording or numbering. */
enum { NEED_MIX = 1, NEED_SUMMARY = 2, NEED_H2H = 4 };
struct item {
	const char *topic, *where, *anchor;
	int covered;   /* 2 covered, 1 partly, 0 not in this report */
	unsigned need; /* NEED_*: covered only when some site's result (or the run) carries it */
};

static const struct item items[] = {
    {"Title identifies an evaluation (external validation) of a prediction model",
     "page title and header", "summary", 2, 0},
    {"Intended use, target population and role of the model",
     "benchmark's intended population beside the vendor's; vendor's manifest (intended use, "
     "regulatory metadata)",
     "population", 1, 0},
    {"Outcome (reference standard) definition", "benchmark specification (label, title)",
     "benchmark", 1, 0},
    {"Predictors / model inputs and their units", "benchmark variables; manifest input",
     "benchmark", 2, 0},
    {"Data sources, settings and sites",
     "site list; each site's dataset (name, period, source, records) when its result names "
     "it; each site's eligibility criteria are not in schema /1",
     "population", 1, 0},
    {"Eligibility criteria of participants", "benchmark's intended population", "population", 1, 0},
    {"Participant characteristics per site",
     "case mix over the benchmark's subgroups per site (figure 5) with counts", "population", 1,
     NEED_MIX},
    {"Sample size and number of events per site and pooled", "per-site and calibration tables",
     "sites", 2, 0},
    {"Model identity and specification (index test)",
     "model name, version, vendor, version id, ONNX SHA-256", "provenance", 2, 0},
    {"Prespecified thresholds",
     "benchmark thresholds; operating-point tables; each site's threshold for the benchmark's "
     "targets beside the vendor's declared threshold, when the run has them",
     "operating-points", 2, 0},
    {"Cross-tabulation of model output against the reference standard (2&times;2 per "
     "threshold)",
     "per-site and pooled TP/FP/TN/FN", "operating-points", 2, 0},
    {"Discrimination with intervals", "AUROC per site and pooled (figure 1)", "discrimination", 2,
     0},
    {"Calibration", "O/E and Brier; slope and intercept when the run is a recalibration run",
     "calibration", 1, 0},
    {"Classification measures with intervals",
     "sensitivity, specificity, PPV, NPV, accuracy with Wilson intervals", "operating-points", 2,
     0},
    {"Statistical methods, interval methods and software", "methods section", "methods", 2, 0},
    {"Heterogeneity across sites / clusters",
     "random-effects &tau;&sup2;, I&sup2;, Q, prediction "
     "interval",
     "discrimination", 2, 0},
    {"Participant flow, exclusions and missing data",
     "missing, invalid and out-of-range values per variable and of the label, from each "
     "site's data summary; participant flow and exclusions are not in this report",
     "population", 1, NEED_SUMMARY},
    {"Data preparation and harmonisation at each site", "not in this report", "limitations", 0, 0},
    {"Fairness: performance in subgroups",
     "AUROC per subgroup category pooled over sites (figure 1b); counts and disparities in the "
     "JSON report",
     "discrimination", 1, 0},
    {"Comparison of models (index tests) on the same participants",
     "head to head: paired per-site and pooled AUROC differences (figure 6), leaderboard with "
     "rank intervals",
     "head-to-head", 2, NEED_H2H},
    {"Clinical utility", "net benefit at the benchmark thresholds (decision curve, figure 2b)",
     "operating-points", 1, 0},
    {"Model updating or recalibration", "none performed; the frozen model was evaluated",
     "limitations", 2, 0},
    {"Integrity and traceability of results", "signatures, digests, certificate fingerprints",
     "provenance", 2, 0},
    {"Protocol and prespecification", "benchmark version frozen before the run", "benchmark", 1, 0},
    {"Funding, conflicts of interest, ethics approval", "not in this report", "limitations", 0, 0},
    {"Interpretation and limitations", "limitations section and the statement in the header",
     "limitations", 1, 0},
};

static void checklist(struct rp_buf *b, const struct rp *r)
{
	static const char *const mark[] = {"not in this report", "partly", "covered"};
	unsigned have = (r->ngroups ? NEED_MIX : 0) | (r->h2h.present ? NEED_H2H : 0);

	for (size_t i = 0; i < r->nsites; i++)
		if (r->sites[i].ok && r->sites[i].data.has_summary)
			have |= NEED_SUMMARY;

	rp_put(b,
	       "<section id=\"checklist\"><h2>12. Reporting checklist (shaped after "
	       "TRIPOD+AI and STARD-AI)</h2><p class=\"sub\">Topics paraphrased from the "
	       "TRIPOD+AI statement (Collins et al. 2024) and the STARD 2015 / STARD-AI items for "
	       "diagnostic accuracy; a reader preparing an HTA submission should check the "
	       "published checklists item by item.</p><table id=\"checklist-table\"><tr><th>topic"
	       "</th><th>in this report</th><th>where</th></tr>");
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		bool met = (items[i].need & have) == items[i].need;
		rp_printf(b, "<tr><td>%s</td><td>%s</td><td><a href=\"#%s\">%s</a></td></tr>",
			  items[i].topic, mark[met ? items[i].covered : 0], items[i].anchor,
			  met			     ? items[i].where
			  : items[i].need & NEED_H2H ? "the run evaluated one model"
						     : "no site's result in this run carries it");
	}
	rp_put(b, "</table></section>\n");
}

static void limitations(struct rp_buf *b, const struct rp *r)
{
	size_t bad = r->nsites - r->nok;

	rp_put(
	    b,
	    "<section id=\"limitations\"><h2>13. Limitations</h2><ul>"
	    "<li>Measurements on the records each site selected for this benchmark; they do "
	    "not establish performance in other populations, settings or times.</li>"
	    "<li>The AUROC interval is a Wald interval on the AUROC scale and can be too "
	    "narrow for small sites or AUROC near 1; the pooled estimate uses the logit "
	    "scale.</li><li>Pooled confusion metrics add counts: they describe the pooled "
	    "records, not a typical site. The random-effects prediction interval describes "
	    "a new site.</li><li>With few sites, &tau;&sup2; and the prediction interval are "
	    "imprecise.</li><li>Participant flow, exclusions and data preparation at each site are "
	    "not part of report schema fedval.report/1. Missing data is shown only as counts "
	    "from each site's data summary, which describes its registered dataset; the case "
	    "mix only over the benchmark's subgroups, without what a site withheld for small "
	    "counts.</li>");
	if (r->h2h.present)
		rp_put(b,
		       "<li>Head to head: the models are compared on these sites' records only; "
		       "a better rank is a measurement on them, not an approval. The rank "
		       "intervals and the models' pooled AUROCs are 95% as the JSON report states "
		       "them, whatever the level of this page.</li>");
	if (bad)
		rp_printf(b,
			  "<li class=\"warn\">%zu site(s) did not contribute (failed or not "
			  "verified); see the per-site table.</li>",
			  bad);
	rp_put(b, "</ul></section>\n");
}

static void references(struct rp_buf *b)
{
	rp_put(
	    b,
	    "<section id=\"references\"><h2>14. References</h2><ol>"
	    "<li>DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more "
	    "correlated receiver operating characteristic curves: a nonparametric approach. "
	    "Biometrics 1988;44:837-845.</li>"
	    "<li>Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating "
	    "characteristic (ROC) curve. Radiology 1982;143:29-36.</li>"
	    "<li>Wilson EB. Probable inference, the law of succession, and statistical inference. "
	    "JASA 1927;22:209-212.</li>"
	    "<li>Newcombe RG. Two-sided confidence intervals for the single proportion: comparison "
	    "of seven methods. Stat Med 1998;17:857-872.</li>"
	    "<li>DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials "
	    "1986;7:177-188.</li>"
	    "<li>Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat "
	    "Softw 2010;36(3):1-48.</li>"
	    "<li>Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical "
	    "trials with binary outcome. Stat Med 2001;20:3875-3889.</li>"
	    "<li>Sidik K, Jonkman JN. A simple confidence interval for meta-analysis. Stat Med "
	    "2002;21:3153-3159.</li>"
	    "<li>Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med "
	    "2002;21:1539-1558.</li>"
	    "<li>Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of random-effects "
	    "meta-analysis. J R Stat Soc A 2009;172:137-159.</li>"
	    "<li>Garwood F. Fiducial limits for the Poisson distribution. Biometrika "
	    "1936;28:437-442.</li>"
	    "<li>Ulm K. A simple method to calculate the confidence interval of a standardized "
	    "mortality ratio (SMR). Am J Epidemiol 1990;131:373-375.</li>"
	    "<li>Debray TPA, Damen JAAG, Snell KIE, et al. A guide to systematic review and "
	    "meta-analysis of prediction model performance. BMJ 2017;356:i6460.</li>"
	    "<li>Robin X et al. pROC: an open-source package for R and S+ to analyze and compare "
	    "ROC curves. BMC Bioinformatics 2011;12:77.</li>"
	    "<li>Klein M, Wright T, Wieczorek J. A joint confidence region for an overall ranking "
	    "of populations. J R Stat Soc C 2020;69(3).</li>"
	    "<li>Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for "
	    "reporting clinical prediction models that use regression or machine learning "
	    "methods. BMJ 2024;385:e078378.</li>"
	    "<li>Bossuyt PM, Reitsma JB, Bruns DE, et al. STARD 2015: an updated list of essential "
	    "items for reporting diagnostic accuracy studies. BMJ 2015;351:h5527. (STARD-AI: "
	    "Sounderajah V et al., Nat Med 2020;26:807-808, protocol.)</li>"
	    "</ol></section>\n");
}

void fv_report_opts_init(struct fv_report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->conf = 0.95;
	o->meta = FV_META_REML;
}

fv_err fv_report_html(const json_t *report, const struct fv_report_opts *opts, char **html,
		      size_t *len, struct fv_diag *d)
{
	struct fv_report_opts o;
	struct rp r;
	struct rp_buf b = {0};
	fv_err e;

	*html = NULL;
	*len = 0;
	if (opts)
		o = *opts;
	else
		fv_report_opts_init(&o);
	if (!(o.conf > 0 && o.conf < 1))
		return fv_diag_set(d, FV_EINVAL, "interval level must lie in (0, 1)");
	if (o.meta != FV_META_REML && o.meta != FV_META_DL)
		return fv_diag_set(d, FV_EINVAL, "pooled AUROC method must be REML or DL");
	if ((e = rp_parse(report, &o, &r, d)))
		goto out;
	rp_put(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		   "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<meta name=\"generator\" content=\"fedval " FV_VERSION_STRING "\">\n<title>");
	if (r.title)
		rp_esc(&b, r.title, FV_MAX_REPORT_TEXT);
	else {
		rp_put(&b, "Validation report: ");
		rp_esc(&b, model_label(&r), 256);
	}
	rp_put(&b, "</title>\n<style>");
	rp_put(&b, css);
	rp_put(&b, "</style></head>\n<body><main>\n");
	header(&b, &r);
	summary(&b, &r);
	discrimination(&b, &r);
	operating_points(&b, &r);
	calibration(&b, &r);
	prevalence(&b, &r);
	population(&b, &r);
	head_to_head(&b, &r);
	site_table(&b, &r);
	benchmark(&b, &r);
	provenance(&b, &r);
	methods(&b, &r);
	checklist(&b, &r);
	limitations(&b, &r);
	references(&b);
	rp_put(&b, "<footer><p>Generated by fedval " FV_VERSION_STRING
		   " from report schema " FV_REPORT_SCHEMA
		   ". This report states measurements, not approvals or "
		   "certifications.</p></footer>\n</main></body></html>\n");
	if (b.oom) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory rendering the report");
		goto out;
	}
	*html = b.p;
	*len = b.len;
	b.p = NULL;
out:
	fv_free(b.p);
	rp_fini(&r);
	return e;
}
