/* Threshold metrics and calibration summaries from per-record values or their sufficient
 * statistics (DESIGN.md §8). */
#include "fedval/stats.h"

#include <math.h>
#include <string.h>

fv_err fv_stats_confusion(const double *score, const uint8_t *label, size_t n, double threshold,
			  struct fv_confusion *out)
{
	struct fv_confusion c = {0, 0, 0, 0};

	if (!out)
		return FV_EINVAL;
	memset(out, 0, sizeof(*out));
	if (n > 0 && (!score || !label))
		return FV_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int pos = score[i] >= threshold;
		if (label[i] > 1)
			return FV_EINVAL;
		if (label[i])
			pos ? c.tp++ : c.fn++;
		else
			pos ? c.fp++ : c.tn++;
	}
	*out = c;
	return FV_OK;
}

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : NAN;
}

void fv_stats_metrics(const struct fv_confusion *c, struct fv_metrics *out)
{
	out->sensitivity = ratio(c->tp, c->tp + c->fn);
	out->specificity = ratio(c->tn, c->tn + c->fp);
	out->ppv = ratio(c->tp, c->tp + c->fp);
	out->npv = ratio(c->tn, c->tn + c->fn);
	out->accuracy = ratio(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn);
}

fv_err fv_stats_brier(const double *p, const uint8_t *y, size_t n, double *out)
{
	double sum = 0.0;

	if (!out || n == 0 || !p || !y)
		return FV_EINVAL;
	for (size_t i = 0; i < n; i++) {
		double r;
		if (!(p[i] >= 0.0 && p[i] <= 1.0) || y[i] > 1)
			return FV_EINVAL;
		r = p[i] - (double)y[i];
		sum += r * r;
	}
	*out = sum / (double)n;
	return FV_OK;
}

double fv_stats_oe_ratio(double observed, double expected)
{
	if (!(expected > 0.0) || isnan(observed))
		return NAN;
	return observed / expected;
}
