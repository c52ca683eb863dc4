/* Inline SVG charts drawn from struct rp. Geometry is in SVG user units (1 unit = 1 CSS px at
 * full width); colours come from the page's CSS classes so print styles apply. Site names are
 * escaped and cut to LABEL_MAX bytes in charts (tables show them whole). */
#include <math.h>
#include <string.h>

#include "fedval/util.h"
#include "report/report_int.h"

#define LABEL_MAX 28
#define ROW_H	  24
#define NPAL	  8
#define NSHAPE	  4
#define HEAD_MAX  120

/* ROW_HEAD: a heading over the rows below it, the label only, across the chart (up to
 * HEAD_MAX bytes). */
enum row_kind { ROW_SITE = 0, ROW_SUMMARY, ROW_PI, ROW_HEAD };

struct row {
	const char *label;
	double est, lo, hi;
	double size; /* marker scale in [0, 1]; < 0: a fixed-size dot */
	enum row_kind kind;
	double weight; /* percent, shown when finite */
};

struct axis {
	double dlo, dhi; /* the quantity's domain: the axis never leaves it */
	double ref;	 /* reference line, NaN for none */
	const char *xlabel, *head;
	int prec;	  /* decimals of the values shown */
	const char *rows; /* head of the label column; NULL: "site" */
};

struct scale {
	double lo, hi, x0, x1;
};

static double sx(const struct scale *s, double v)
{
	if (v < s->lo)
		v = s->lo;
	if (v > s->hi)
		v = s->hi;
	return s->x0 + (v - s->lo) / (s->hi - s->lo) * (s->x1 - s->x0);
}

static double nice_step(double span)
{
	double raw = span / 5.0, p = pow(10.0, floor(log10(raw))), f = raw / p;
	return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * p;
}

static void open_svg(struct rp_buf *b, const char *id, double w, double h, const char *title,
		     const char *desc)
{
	rp_printf(b,
		  "<svg class=\"chart\" id=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
		  "height=\"%.0f\" role=\"img\" aria-labelledby=\"%s-t %s-d\">"
		  "<title id=\"%s-t\">",
		  id, w, h, w, h, id, id, id);
	rp_esc(b, title, 0);
	rp_printf(b, "</title><desc id=\"%s-d\">", id);
	rp_esc(b, desc, 0);
	rp_put(b, "</desc>\n");
}

/* A label cut for a chart, with the whole name as its tooltip. */
static void label(struct rp_buf *b, double x, double y, const char *anchor, const char *cls,
		  const char *s)
{
	rp_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor,
		  cls);
	rp_esc(b, s, LABEL_MAX);
	if (strlen(s) > LABEL_MAX) {
		rp_put(b, "<title>");
		rp_esc(b, s, FV_MAX_REPORT_TEXT);
		rp_put(b, "</title>");
	}
	rp_put(b, "</text>");
}

static void xaxis(struct rp_buf *b, const struct scale *s, double step, double y, double ytop,
		  const char *xlabel)
{
	int prec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	rp_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
		  s->x0, y, s->x1, y);
	for (double t = s->lo; t <= s->hi + step * 1e-6; t += step) {
		double x = sx(s, t);
		rp_printf(b,
			  "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			  "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f"
			  "</text>",
			  x, ytop, x, y + 4, x, y + 17, prec, fabs(t) < step * 1e-6 ? 0.0 : t);
	}
	rp_printf(b, "<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		  (s->x0 + s->x1) / 2, y + 36);
	rp_esc(b, xlabel, 0);
	rp_put(b, "</text>\n");
}

/* Arrowheads where an interval runs off the axis. */
static void clip_marks(struct rp_buf *b, const struct scale *s, double lo, double hi, double y)
{
	if (lo < s->lo)
		rp_printf(b, "<path class=\"clip\" d=\"M%.1f %.1fl6 -4v8z\"/>", s->x0, y);
	if (hi > s->hi)
		rp_printf(b, "<path class=\"clip\" d=\"M%.1f %.1fl-6 -4v8z\"/>", s->x1, y);
}

/* Rows of estimates with intervals: a forest plot. */
static void intervals(struct rp_buf *b, const char *id, const char *title, const char *desc,
		      const struct row *rows, size_t n, const struct axis *ax)
{
	const double W = 900, top = 34;
	double lo = HUGE_VAL, hi = -HUGE_VAL, step, h, yaxis;
	struct scale s = {0, 1, 230, 620};
	bool any_weight = false;
	/* an en dash between negative numbers would read as a minus */
	const char *sep = ax->dlo < 0 ? " to " : "\xE2\x80\x93";

	for (size_t i = 0; i < n; i++) {
		double v[3] = {rows[i].est, rows[i].lo, rows[i].hi};
		for (int k = 0; k < 3; k++) {
			if (!isfinite(v[k]) || (rows[i].kind == ROW_PI && k == 0))
				continue;
			lo = fmin(lo, fmax(v[k], ax->dlo));
			hi = fmax(hi, fmin(v[k], ax->dhi));
		}
		any_weight = any_weight || isfinite(rows[i].weight);
	}
	if (isfinite(ax->ref)) {
		lo = fmin(lo, ax->ref);
		hi = fmax(hi, ax->ref);
	}
	if (!(lo <= hi)) {
		lo = ax->dlo;
		hi = isfinite(ax->dhi) ? ax->dhi : ax->dlo + 1;
	}
	double pad = fmax(0.05 * (hi - lo), 0.01);
	lo = fmax(lo - pad, ax->dlo);
	hi = fmin(hi + pad, ax->dhi);
	step = nice_step(hi - lo);
	s.lo = fmax(floor(lo / step) * step, ax->dlo);
	s.hi = fmin(ceil(hi / step) * step, ax->dhi);
	if (s.hi <= s.lo)
		s.hi = s.lo + step;
	yaxis = top + (double)n * ROW_H + 6;
	h = yaxis + 48;

	open_svg(b, id, W, h, title, desc);
	rp_put(b, "<text class=\"head\" x=\"8\" y=\"18\">");
	rp_esc(b, ax->rows ? ax->rows : "site", 0);
	rp_put(b, "</text><text class=\"head\" x=\"640\" y=\"18\">");
	rp_esc(b, ax->head, 0);
	rp_put(b, "</text>");
	if (any_weight)
		rp_put(b, "<text class=\"head\" x=\"892\" y=\"18\" text-anchor=\"end\">weight"
			  "</text>");
	xaxis(b, &s, step, yaxis, top - 8, ax->xlabel);
	if (isfinite(ax->ref))
		rp_printf(b,
			  "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			  sx(&s, ax->ref), top - 8, sx(&s, ax->ref), yaxis);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		double y = top + (double)i * ROW_H + ROW_H / 2.0;
		double xl = sx(&s, r->lo), xh = sx(&s, r->hi), xe = sx(&s, r->est);
		bool ci = isfinite(r->lo) && isfinite(r->hi);

		if (r->kind == ROW_HEAD) {
			rp_printf(b, "<text x=\"8\" y=\"%.1f\" class=\"head\">", y + 4);
			rp_esc(b, r->label, HEAD_MAX);
			rp_put(b, "</text>\n");
			continue;
		}
		label(b, 8, y + 4, "start", r->kind == ROW_SITE ? "lab" : "lab sum", r->label);
		if (r->kind == ROW_PI) {
			if (ci) {
				rp_printf(b,
					  "<line class=\"pi\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
					  "y2=\"%.1f\"/>",
					  xl, y, xh, y);
				clip_marks(b, &s, r->lo, r->hi, y);
			}
		} else if (r->kind == ROW_SUMMARY) {
			if (ci)
				rp_printf(b,
					  "<polygon class=\"diamond\" points=\"%.1f,%.1f %.1f,%.1f "
					  "%.1f,%.1f %.1f,%.1f\"/>",
					  xl, y, xe, y - 7, xh, y, xe, y + 7);
			else if (isfinite(r->est))
				rp_printf(b,
					  "<circle class=\"diamond\" cx=\"%.1f\" cy=\"%.1f\" "
					  "r=\"5\"/>",
					  xe, y);
		} else {
			if (ci) {
				rp_printf(b,
					  "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" "
					  "x2=\"%.1f\" y2=\"%.1f\"/>",
					  xl, y, xh, y);
				clip_marks(b, &s, r->lo, r->hi, y);
			}
			if (isfinite(r->est) && r->size >= 0) {
				double a = 5 + 9 * sqrt(fmin(r->size, 1.0));
				rp_printf(
				    b,
				    "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				    "height=\"%.1f\"/>",
				    xe - a / 2, y - a / 2, a, a);
			} else if (isfinite(r->est)) {
				rp_printf(
				    b, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>",
				    xe, y);
			}
		}
		rp_printf(b, "<text class=\"val\" x=\"640\" y=\"%.1f\">", y + 4);
		if (r->kind == ROW_PI) {
			rp_put(b, "(");
			rp_num(b, r->lo, ax->prec);
			rp_put(b, sep);
			rp_num(b, r->hi, ax->prec);
			rp_put(b, ")");
		} else {
			rp_num(b, r->est, ax->prec);
			if (ci) {
				rp_put(b, " (");
				rp_num(b, r->lo, ax->prec);
				rp_put(b, sep);
				rp_num(b, r->hi, ax->prec);
				rp_put(b, ")");
			}
		}
		rp_put(b, "</text>");
		if (isfinite(r->weight))
			rp_printf(b,
				  "<text class=\"val\" x=\"892\" y=\"%.1f\" "
				  "text-anchor=\"end\">%.1f%%</text>",
				  y + 4, r->weight);
		rp_put(b, "\n");
	}
	rp_put(b, "</svg>\n");
}

static const char *meta_name(enum fv_meta_method m)
{
	return m == FV_META_REML ? "REML"
	       : m == FV_META_DL ? "DerSimonian\xE2\x80\x93Laird"
				 : "fixed effect";
}

void rp_svg_forest(struct rp_buf *b, const struct rp *r)
{
	struct row *rows = fv_calloc(r->nsites + 2, sizeof(*rows));
	struct axis ax = {0, 1,	  0.5, "AUROC (dashed line: 0.5, no discrimination)", "AUROC (CI)",
			  3, NULL};
	char title[160], sum[96];
	double wmax = 0;
	size_t n = 0;

	if (!rows) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < r->nsites; i++)
		if (r->sites[i].in_meta)
			wmax = fmax(wmax, r->sites[i].weight);
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (!s->ok || !s->has_auc)
			continue;
		rows[n] =
		    (struct row){s->node, s->auc, s->auc_lo, s->auc_hi, -1, ROW_SITE, s->weight};
		if (s->in_meta && wmax > 0)
			rows[n].size = s->weight / wmax;
		n++;
	}
	fv_fmt(sum, sizeof(sum), "Random effects (%s%s)", meta_name(r->meta_method),
	       r->hk ? ", HKSJ" : "");
	if (r->has_meta) {
		rows[n++] = (struct row){sum, r->mu, r->mu_lo, r->mu_hi, -1, ROW_SUMMARY, NAN};
		if (isfinite(r->pi_lo))
			rows[n++] = (struct row){
			    "Prediction interval", NAN, r->pi_lo, r->pi_hi, -1, ROW_PI, NAN};
	}
	fv_fmt(title, sizeof(title), "Forest plot of AUROC per site and pooled (%.0f%% intervals)",
	       100 * r->conf);
	intervals(b, "fig-forest", title,
		  "Squares: site AUROC, area by random-effects weight; lines: DeLong Wald "
		  "intervals; diamond: pooled random-effects estimate on the logit scale, back-"
		  "transformed; dashed line: prediction interval for a new site.",
		  rows, n, &ax);
	fv_free(rows);
}

void rp_svg_oe(struct rp_buf *b, const struct rp *r)
{
	struct row *rows = fv_calloc(r->nsites + 1, sizeof(*rows));
	struct axis ax = {0, HUGE_VAL, 1.0, "observed / expected events", "O/E (CI)", 3, NULL};
	size_t n = 0;

	if (!rows) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (s->ok && isfinite(s->oe))
			rows[n++] =
			    (struct row){s->node, s->oe, s->oe_lo, s->oe_hi, -1, ROW_SITE, NAN};
	}
	if (r->has_pooled && isfinite(r->poe))
		rows[n++] = (struct row){
		    "Pooled (all records)", r->poe, r->poe_lo, r->poe_hi, -1, ROW_SUMMARY, NAN};
	intervals(b, "fig-oe", "Calibration in the large: observed/expected events per site",
		  "Dots: observed over expected events (sum of predicted probabilities); lines: "
		  "exact Poisson interval for the observed count divided by the expected count; "
		  "vertical line: O/E = 1 (perfect calibration in the large).",
		  rows, n, &ax);
	fv_free(rows);
}

void rp_svg_prevalence(struct rp_buf *b, const struct rp *r)
{
	struct row *rows = fv_calloc(r->nsites + 1, sizeof(*rows));
	struct axis ax = {0, 1, NAN, "prevalence (events / records)", "prevalence (CI)", 3, NULL};
	size_t n = 0;

	if (!rows) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (s->ok && s->n)
			rows[n++] = (struct row){s->node, s->prev.est, s->prev.lo, s->prev.hi,
						 -1,	  ROW_SITE,    NAN};
	}
	if (r->has_pooled && r->pn)
		rows[n++] = (struct row){"Pooled (all records)",
					 r->pprev.est,
					 r->pprev.lo,
					 r->pprev.hi,
					 -1,
					 ROW_SUMMARY,
					 NAN};
	intervals(b, "fig-prev", "Outcome prevalence per site",
		  "Dots: proportion of records with the outcome; lines: Wilson score intervals.",
		  rows, n, &ax);
	fv_free(rows);
}

/* ---- operating points in ROC space ---- */

static void marker(struct rp_buf *b, int shape, double x, double y, double r, const char *cls)
{
	switch (shape % NSHAPE) {
	case 0:
		rp_printf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>", cls, x, y,
			  r);
		break;
	case 1:
		rp_printf(b,
			  "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			  "height=\"%.1f\"/>",
			  cls, x - r, y - r, 2 * r, 2 * r);
		break;
	case 2:
		rp_printf(b, "<polygon class=\"%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>",
			  cls, x, y - 1.2 * r, x + 1.1 * r, y + 0.9 * r, x - 1.1 * r, y + 0.9 * r);
		break;
	default:
		rp_printf(b,
			  "<polygon class=\"%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f "
			  "%.1f,%.1f\"/>",
			  cls, x, y - 1.3 * r, x + 1.3 * r, y, x, y + 1.3 * r, x - 1.3 * r, y);
	}
}

/* One series of operating points: error bars, the connecting line, the markers. */
static void series(struct rp_buf *b, const struct rp_thr *t, size_t n, double X0, double Y0,
		   double S, int shape, const char *cls, bool labels)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (t[i].suppressed || !(t[i].sens.n && t[i].spec.n))
			continue;
		double x = X0 + (1 - t[i].spec.est) * S, y = Y0 + S - t[i].sens.est * S;
		rp_printf(b, "<path class=\"bar %s\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f\"/>", cls,
			  X0 + (1 - t[i].spec.hi) * S, y, X0 + (1 - t[i].spec.lo) * S, x,
			  Y0 + S - t[i].sens.lo * S, Y0 + S - t[i].sens.hi * S);
	}
	rp_printf(b, "<polyline class=\"conn %s\" points=\"", cls);
	for (size_t i = 0; i < n; i++) {
		if (t[i].suppressed || !(t[i].sens.n && t[i].spec.n))
			continue;
		rp_printf(b, "%s%.1f,%.1f", first ? "" : " ", X0 + (1 - t[i].spec.est) * S,
			  Y0 + S - t[i].sens.est * S);
		first = false;
	}
	rp_put(b, "\"/>");
	for (size_t i = 0; i < n; i++) {
		if (t[i].suppressed || !(t[i].sens.n && t[i].spec.n))
			continue;
		double x = X0 + (1 - t[i].spec.est) * S, y = Y0 + S - t[i].sens.est * S;
		marker(b, shape, x, y, labels ? 5.5 : 4.5, cls);
		if (labels)
			rp_printf(b, "<text class=\"tlab\" x=\"%.1f\" y=\"%.1f\">t=%g</text>",
				  x + 8, y + 14, t[i].threshold);
	}
	rp_put(b, "\n");
}

void rp_svg_roc(struct rp_buf *b, const struct rp *r)
{
	const double X0 = 70, Y0 = 20, S = 440, LX = 560;
	double h = fmax(Y0 + S + 60, 60 + (double)(r->nok + 2) * 22);
	size_t k = 0;
	char cls[32];

	open_svg(b, "fig-roc", 900, h, "Operating points in ROC space per site and pooled",
		 "Each point is one benchmark threshold: x = 1 - specificity, y = sensitivity, "
		 "bars are Wilson intervals; points of one site are joined in threshold order; "
		 "the black points are the pooled counts, labelled with their threshold.");
	rp_printf(b, "<rect class=\"frame\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>",
		  X0, Y0, S, S);
	for (int i = 0; i <= 5; i++) {
		double f = i / 5.0;
		rp_printf(b,
			  "<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
			  "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
			  "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.1f"
			  "</text><text class=\"tick\" x=\"%.0f\" y=\"%.1f\" "
			  "text-anchor=\"end\">%.1f</text>",
			  X0 + f * S, Y0, X0 + f * S, Y0 + S, X0, Y0 + S - f * S, X0 + S,
			  Y0 + S - f * S, X0 + f * S, Y0 + S + 17, f, X0 - 6, Y0 + S - f * S + 4,
			  f);
	}
	rp_printf(b,
		  "<line class=\"ref\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
		  "<text class=\"xlabel\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
		  "1 \xE2\x88\x92 specificity</text>"
		  "<text class=\"xlabel\" transform=\"translate(22 %.0f) rotate(-90)\" "
		  "text-anchor=\"middle\">sensitivity</text>\n",
		  X0, Y0 + S, X0 + S, Y0, X0 + S / 2, Y0 + S + 40, Y0 + S / 2);
	for (size_t i = 0; i < r->nsites; i++) {
		const struct rp_site *s = &r->sites[i];
		if (!s->ok)
			continue;
		fv_fmt(cls, sizeof(cls), "s%zu", k % NPAL);
		rp_printf(b, "<g class=\"site\">");
		series(b, s->thr, s->nthr, X0, Y0, S, (int)(k % NSHAPE), cls, false);
		rp_put(b, "</g>");
		marker(b, (int)(k % NSHAPE), LX + 8, 40 + (double)k * 22 - 4, 4.5, cls);
		label(b, LX + 22, 40 + (double)k * 22, "start", "lab", s->node);
		rp_put(b, "\n");
		k++;
	}
	if (r->npthr) {
		series(b, r->pthr, r->npthr, X0, Y0, S, 0, "pooled", true);
		marker(b, 0, LX + 8, 40 + (double)k * 22 - 4, 5.5, "pooled");
		rp_printf(
		    b,
		    "<text class=\"lab sum\" x=\"%.0f\" y=\"%.0f\">pooled (sum of site counts)"
		    "</text>\n",
		    LX + 22, 40 + (double)k * 22);
	}
	rp_put(b, "</svg>\n");
}

/* ---- subgroups: pooled AUROC per category ---- */

void rp_svg_subgroups(struct rp_buf *b, const struct rp *r)
{
	struct row *rows = fv_calloc(r->nsubs + 1, sizeof(*rows));
	char(*names)[2 * LABEL_MAX + 8] = fv_calloc(r->nsubs + 1, sizeof(*names));
	struct axis ax = {0,
			  1,
			  0.5,
			  "AUROC (dashed line: 0.5, no discrimination)",
			  "AUROC (CI)",
			  3,
			  "subgroup = category"};
	size_t n = 0;

	if (!rows || !names) {
		fv_free(rows);
		fv_free(names);
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < r->nsubs; i++) {
		const struct rp_sub *g = &r->subs[i];
		if (!g->has_auc)
			continue;
		fv_fmt(names[n], sizeof(names[n]), "%.*s = %.*s", LABEL_MAX / 2, g->subgroup,
		       LABEL_MAX, g->category);
		rows[n] = (struct row){names[n], g->auc, g->lo, g->hi, -1, ROW_SITE, NAN};
		n++;
	}
	if (n)
		intervals(b, "fig-subgroups", "AUROC per subgroup category, pooled over the sites",
			  "Dots: AUROC of the category pooled by random-effects meta-analysis of "
			  "the sites that released it (logit scale, back-transformed); lines: its "
			  "interval. Categories a site withheld (small cells) are pooled without "
			  "that site.",
			  rows, n, &ax);
	fv_free(rows);
	fv_free(names);
}

/* ---- decision curve from the pooled counts ---- */

void rp_svg_decision(struct rp_buf *b, const struct rp *r)
{
	const double X0 = 70, Y0 = 20, W = 560, H = 300, LX = 660;
	double nb[FV_MAX_THRESHOLDS], all[FV_MAX_THRESHOLDS], t[FV_MAX_THRESHOLDS],
	    tmax = 0, ylo = -0.05, yhi = 0.05;
	size_t k = 0;

	for (size_t i = 0; i < r->npthr && k < FV_MAX_THRESHOLDS; i++) {
		const struct rp_thr *p = &r->pthr[i];
		double n = (double)(p->tp + p->fp + p->tn + p->fn), w;
		if (p->suppressed || n <= 0 || !(p->threshold > 0 && p->threshold < 1))
			continue;
		/* Net benefit (Vickers & Elkin 2006) at threshold probability t: the rows are the
		 * pooled counts of the sites that released them, so each row has its own n. */
		w = p->threshold / (1 - p->threshold);
		t[k] = p->threshold;
		nb[k] = (double)p->tp / n - (double)p->fp / n * w;
		all[k] = (double)(p->tp + p->fn) / n - (double)(p->fp + p->tn) / n * w;
		tmax = fmax(tmax, t[k]);
		ylo = fmin(ylo, fmin(nb[k], all[k]));
		yhi = fmax(yhi, fmax(nb[k], all[k]));
		k++;
	}
	if (!k)
		return;
	ylo = fmax(ylo, -0.5);
	yhi += 0.05 * (yhi - ylo);
	struct scale xs = {0, fmin(1, ceil(tmax * 10 + 1e-9) / 10), X0, X0 + W};
	double ystep = nice_step(yhi - ylo);
	ylo = floor(ylo / ystep) * ystep;
	open_svg(b, "fig-decision", 900, Y0 + H + 60,
		 "Decision curve: net benefit at the benchmark's thresholds, pooled",
		 "Net benefit = TP/n - FP/n x t/(1 - t) at threshold probability t (Vickers & "
		 "Elkin 2006), from the pooled counts at each benchmark threshold; grey: treat "
		 "all; the axis line at 0: treat none.");
#define YV(v) (Y0 + H - ((fmax((v), ylo) - ylo) / (yhi - ylo)) * H)
	for (double y = ylo; y <= yhi + ystep * 1e-6; y += ystep)
		rp_printf(b,
			  "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
			  "<text class=\"tick\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f"
			  "</text>",
			  X0, YV(y), X0 + W, YV(y), X0 - 6, YV(y) + 4,
			  fabs(y) < ystep * 1e-6 ? 0.0 : y);
	rp_printf(b,
		  "<line class=\"ref\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
		  "<text class=\"xlabel\" transform=\"translate(22 %.0f) rotate(-90)\" "
		  "text-anchor=\"middle\">net benefit</text>",
		  X0, YV(0), X0 + W, YV(0), Y0 + H / 2);
	xaxis(b, &xs, nice_step(xs.hi - xs.lo), Y0 + H, Y0, "threshold probability");
	for (int pass = 0; pass < 2; pass++) {
		const double *v = pass ? nb : all;
		rp_printf(b, "<polyline class=\"%s\" fill=\"none\" points=\"",
			  pass ? "line pooled" : "line treatall");
		for (size_t i = 0; i < k; i++)
			rp_printf(b, "%s%.1f,%.1f", i ? " " : "", sx(&xs, t[i]), YV(v[i]));
		rp_put(b, "\"/>");
		for (size_t i = 0; i < k; i++)
			marker(b, pass ? 0 : 2, sx(&xs, t[i]), YV(v[i]), pass ? 4.5 : 3.5,
			       pass ? "pooled" : "treatall");
	}
#undef YV
	marker(b, 0, LX, 40, 4.5, "pooled");
	rp_printf(b, "<text class=\"lab\" x=\"%.0f\" y=\"%.0f\">model (pooled counts)</text>",
		  LX + 14, 44.0);
	marker(b, 2, LX, 62, 3.5, "treatall");
	rp_printf(b, "<text class=\"lab\" x=\"%.0f\" y=\"%.0f\">treat all</text>", LX + 14, 66.0);
	rp_printf(b, "<text class=\"lab\" x=\"%.0f\" y=\"%.0f\">treat none: 0</text>", LX + 14,
		  88.0);
	rp_put(b, "</svg>\n");
}

/* ---- case mix: one 100%-stacked bar per site and subgroup ---- */

/* Hatching inside a rectangle: one line as thick as the rectangle is high, dashed into
 * stripes by the page's CSS (no <pattern>: the page references nothing by url()). */
static void hatch(struct rp_buf *b, double x, double y, double w, double h)
{
	rp_printf(b,
		  "<line class=\"hatch\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		  "stroke-width=\"%.0f\"/>",
		  x, y + h / 2, x + w, y + h / 2, h);
}

/* A stacked part's tooltip: "site: category n of N (p%)". */
static void part_title(struct rp_buf *b, const char *site, const char *what, uint64_t x, uint64_t n)
{
	rp_put(b, "<title>");
	rp_esc(b, site, 256);
	rp_put(b, ": ");
	rp_esc(b, what, 256);
	rp_printf(b, " %llu of %llu", (unsigned long long)x, (unsigned long long)n);
	if (n) {
		rp_put(b, " (");
		rp_num(b, 100.0 * (double)x / (double)n, 1);
		rp_put(b, "%)");
	}
	rp_put(b, "</title>");
}

/* What one site released for group g: counts per shown category, the rest of its released
 * entries ("other categories") and whether it listed the group at all. */
struct bar {
	uint64_t cat[RP_MIX_CATS], other, released;
	bool listed;
};

static void site_bar(const struct rp_site *s, int g, struct bar *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t k = 0; k < s->nmix; k++) {
		const struct rp_mix *m = &s->mix[k];
		if (m->group != g)
			continue;
		o->listed = true;
		if (m->suppressed)
			continue;
		if (m->cat >= 0)
			o->cat[m->cat] += m->n;
		else
			o->other += m->n;
		o->released += m->n;
	}
}

void rp_svg_casemix(struct rp_buf *b, const struct rp *r)
{
	const double W = 900, X0 = 200, BW = 400, LX = 700, BH = 14, LH = 18;
	bool used[RP_MIX_GROUPS][RP_MIX_CATS + 2]; /* legend: categories, other, withheld */
	size_t nleg[RP_MIX_GROUPS] = {0};
	double h = 8, y = 8;
	struct bar bar;

	if (!r->ngroups)
		return;
	memset(used, 0, sizeof(used));
	for (size_t g = 0; g < r->ngroups; g++) {
		for (size_t i = 0; i < r->nsites; i++) {
			const struct rp_site *s = &r->sites[i];
			if (!s->ok)
				continue;
			site_bar(s, (int)g, &bar);
			for (size_t c = 0; c < r->groups[g].ncats; c++)
				used[g][c] = used[g][c] || bar.cat[c];
			used[g][RP_MIX_CATS] = used[g][RP_MIX_CATS] || bar.other;
			used[g][RP_MIX_CATS + 1] =
			    used[g][RP_MIX_CATS + 1] || (bar.listed && s->n > bar.released);
		}
		for (size_t c = 0; c < RP_MIX_CATS + 2; c++)
			nleg[g] += used[g][c];
		h += 26 + fmax((double)r->nok * ROW_H, (double)nleg[g] * LH) + 34;
	}
	open_svg(b, "fig-casemix", W, h, "Case mix per site: share of each subgroup category",
		 "For each benchmark subgroup, one bar per site: the share of the site's "
		 "evaluated records in each category the site released; striped grey: records in "
		 "categories the site withheld for small counts (its n minus the released "
		 "counts).");
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct rp_group *G = &r->groups[g];
		double top = y + 26, ly = top, bottom;
		size_t row = 0;

		rp_printf(b, "<g class=\"casemix\"><text class=\"head\" x=\"8\" y=\"%.1f\">",
			  y + 16);
		rp_put(b, "subgroup: ");
		rp_esc(b, G->name, 2 * LABEL_MAX);
		rp_put(b, "</text>\n");
		for (size_t i = 0; i < r->nsites; i++) {
			const struct rp_site *s = &r->sites[i];
			double ry = top + (double)row * ROW_H, x = X0, den;
			if (!s->ok)
				continue;
			row++;
			label(b, 8, ry + BH - 2, "start", "lab", s->node);
			site_bar(s, (int)g, &bar);
			if (!bar.listed || !s->n) {
				rp_printf(b,
					  "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
					  X0, ry + BH - 2,
					  !bar.listed ? "not reported by the site" : "no records");
				continue;
			}
			/* rounded released counts can add up to a little more than n */
			den = (double)(bar.released > s->n ? bar.released : s->n);
			for (size_t c = 0; c <= G->ncats; c++) {
				uint64_t v = c < G->ncats ? bar.cat[c] : bar.other;
				double w = BW * (double)v / den;
				if (!v)
					continue;
				if (c < G->ncats)
					rp_printf(b, "<rect class=\"seg s%zu\"", c % NPAL);
				else
					rp_put(b, "<rect class=\"seg oth\"");
				rp_printf(b,
					  " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">",
					  x, ry, w, BH);
				part_title(b, s->node,
					   c < G->ncats ? G->cats[c] : "other categories", v, s->n);
				rp_put(b, "</rect>");
				x += w;
			}
			if (s->n > bar.released) {
				double w = X0 + BW - x;
				rp_printf(b,
					  "<rect class=\"wh\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					  "height=\"%.0f\">",
					  x, ry, w, BH);
				part_title(b, s->node, "withheld", s->n - bar.released, s->n);
				rp_put(b, "</rect>");
				hatch(b, x, ry, w, BH);
			}
			rp_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">n = %llu</text>\n",
				  X0 + BW + 8, ry + BH - 2, (unsigned long long)s->n);
		}
		for (size_t c = 0; c < RP_MIX_CATS + 2; c++) {
			if (!used[g][c])
				continue;
			if (c < G->ncats)
				rp_printf(b,
					  "<rect class=\"seg s%zu\" x=\"%.1f\" y=\"%.1f\" "
					  "width=\"10\" height=\"10\"/>",
					  c % NPAL, LX, ly);
			else if (c == RP_MIX_CATS)
				rp_printf(b,
					  "<rect class=\"seg oth\" x=\"%.1f\" y=\"%.1f\" "
					  "width=\"10\" height=\"10\"/>",
					  LX, ly);
			else {
				rp_printf(b,
					  "<rect class=\"wh\" x=\"%.1f\" y=\"%.1f\" width=\"10\" "
					  "height=\"10\"/>",
					  LX, ly);
				hatch(b, LX, ly, 10, 10);
			}
			label(b, LX + 16, ly + 9, "start", "lab",
			      c < G->ncats	 ? G->cats[c]
			      : c == RP_MIX_CATS ? "other categories"
						 : "withheld (small counts)");
			ly += LH;
		}
		bottom = top + fmax((double)r->nok * ROW_H, (double)nleg[g] * LH);
		rp_printf(b,
			  "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			  X0, bottom, X0 + BW, bottom);
		for (int t = 0; t <= 4; t++)
			rp_printf(b,
				  "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				  "y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
				  "text-anchor=\"middle\">%d%%</text>",
				  X0 + BW * t / 4, bottom, X0 + BW * t / 4, bottom + 4,
				  X0 + BW * t / 4, bottom + 16, 25 * t);
		rp_put(b, "</g>\n");
		y = bottom + 34;
	}
	rp_put(b, "</svg>\n");
}

/* ---- head to head: paired differences per pair of models ---- */

void rp_svg_h2h(struct rp_buf *b, const struct rp *r)
{
	const struct rp_h2h *h = &r->h2h;
	struct row *rows = fv_calloc(h->nsd + 2 * h->npairs + 1, sizeof(*rows));
	char(*heads)[2 * HEAD_MAX] = fv_calloc(h->npairs + 1, sizeof(*heads));
	char(*sums)[64] = fv_calloc(h->npairs + 1, sizeof(*sums));
	struct axis ax = {-1,
			  1,
			  0,
			  "difference in AUROC, B \xE2\x88\x92 A (line: 0, no difference)",
			  "difference (CI)",
			  3,
			  "comparison: site"};
	char title[160];
	size_t n = 0;

	if (!rows || !heads || !sums) {
		b->oom = true;
		goto out;
	}
	for (size_t q = 0; q < h->npairs; q++) {
		const struct rp_pair *pr = &h->pairs[q];
		char la[96], lb[96];
		if (!pr->nsites && !pr->has_pool && !pr->has_json)
			continue;
		rp_model_label(r, pr->b, lb, sizeof(lb), 40);
		rp_model_label(r, pr->a, la, sizeof(la), 40);
		fv_fmt(heads[q], sizeof(heads[q]), "B: %s \xE2\x88\x92 A: %s", lb, la);
		rows[n++] = (struct row){heads[q], NAN, NAN, NAN, -1, ROW_HEAD, NAN};
		for (size_t i = 0; i < h->nsd; i++) {
			const struct rp_sdiff *sd = &h->sd[i];
			if (sd->pair == (int)q)
				rows[n++] = (struct row){sd->site, sd->diff, sd->lo, sd->hi,
							 -1,	   ROW_SITE, NAN};
		}
		if (pr->has_pool)
			fv_fmt(sums[q], sizeof(sums[q]), "%s",
			       pr->k == 1 ? "Pooled (one site)" : "Pooled (random effects, HK)");
		else
			fv_fmt(sums[q], sizeof(sums[q]), "Pooled (JSON report, 95%%)");
		if (pr->has_pool)
			rows[n++] =
			    (struct row){sums[q], pr->mu, pr->lo, pr->hi, -1, ROW_SUMMARY, NAN};
		else if (pr->has_json)
			rows[n++] = (struct row){sums[q], pr->j_diff,  pr->j_lo, pr->j_hi,
						 -1,	  ROW_SUMMARY, NAN};
	}
	fv_fmt(title, sizeof(title),
	       "Head to head: paired AUROC differences per site and pooled (%.0f%% intervals)",
	       100 * r->conf);
	intervals(b, "fig-h2h", title,
		  "For each pair of models B and A, evaluated on the same records: dots, the "
		  "difference of their AUROCs B - A at each site with its paired DeLong interval; "
		  "diamond, the difference pooled over the sites by random effects; vertical line "
		  "at 0, no difference.",
		  rows, n, &ax);
out:
	fv_free(rows);
	fv_free(heads);
	fv_free(sums);
}
