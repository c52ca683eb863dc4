/* Threshold metrics with intervals, F1 and likelihood ratios (Simel, Samsa & Matchar 1991). */
#include "fedval/stats.h"

#include <math.h>

static void prop(uint64_t x, uint64_t n, enum fv_ci_method m, double conf, struct fv_interval *o)
{
	o->est = n ? (double)x / (double)n : NAN;
	if (n == 0) {
		o->lo = o->hi = NAN;
		return;
	}
	if (m == FV_CI_CLOPPER_PEARSON)
		fv_stats_clopper_pearson(x, n, conf, &o->lo, &o->hi);
	else
		fv_stats_wilson(x, n, conf, &o->lo, &o->hi);
}

/* Ratio of two proportions a/na over b/nb with the log-method interval; cells that make the
 * log undefined leave the bounds NaN. */
static void lr(uint64_t a, uint64_t na, uint64_t b, uint64_t nb, double z, struct fv_interval *o)
{
	double se;

	o->lo = o->hi = NAN;
	if (na == 0 || nb == 0) {
		o->est = NAN;
		return;
	}
	if (b == 0) {
		o->est = a ? INFINITY : NAN;
		return;
	}
	o->est = ((double)a / (double)na) / ((double)b / (double)nb);
	if (a == 0)
		return;
	se = sqrt(1.0 / (double)a - 1.0 / (double)na + 1.0 / (double)b - 1.0 / (double)nb);
	o->lo = exp(log(o->est) - z * se);
	o->hi = exp(log(o->est) + z * se);
}

void fv_stats_binary_metrics(const struct fv_confusion *c, enum fv_ci_method method, double conf,
			     struct fv_binary_metrics *out)
{
	uint64_t pos = c->tp + c->fn, neg = c->tn + c->fp, all = pos + neg;
	uint64_t f1den = 2 * c->tp + c->fp + c->fn;
	double z = (conf > 0.0 && conf < 1.0) ? fv_stats_qnorm(1.0 - 0.5 * (1.0 - conf)) : NAN;

	prop(c->tp, pos, method, conf, &out->sensitivity);
	prop(c->tn, neg, method, conf, &out->specificity);
	prop(c->tp, c->tp + c->fp, method, conf, &out->ppv);
	prop(c->tn, c->tn + c->fn, method, conf, &out->npv);
	prop(c->tp + c->tn, all, method, conf, &out->accuracy);
	prop(pos, all, method, conf, &out->prevalence);
	out->f1 = f1den ? 2.0 * (double)c->tp / (double)f1den : NAN;
	/* LR+ = [TP/(TP+FN)] / [FP/(FP+TN)], LR- = [FN/(TP+FN)] / [TN/(FP+TN)]. */
	lr(c->tp, pos, c->fp, neg, z, &out->lr_pos);
	lr(c->fn, pos, c->tn, neg, z, &out->lr_neg);
}
