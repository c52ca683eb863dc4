/* Precision-recall summaries, operating points and the decision curve: each sorts the case
 * and control scores once and walks the distinct thresholds, O(n log n) time, 8n bytes. */
#include "fedval/stats.h"

#include <math.h>

#include "fedval/util.h"
#include "stats/internal.h"

/* Walk the distinct scores from the highest down. At step s, *v is the threshold and *tp,
 * *fp the counts of cases and controls with score >= v. Returns 0 when done. */
struct walk {
	const double *pos, *neg;
	size_t i, j; /* remaining: pos[0..i), neg[0..j) */
	uint64_t tp, fp;
};

static int walk_next(struct walk *w, double *v)
{
	double x;

	if (w->i == 0 && w->j == 0)
		return 0;
	if (w->j == 0 || (w->i > 0 && w->pos[w->i - 1] > w->neg[w->j - 1]))
		x = w->pos[w->i - 1];
	else
		x = w->neg[w->j - 1];
	while (w->i > 0 && w->pos[w->i - 1] == x) {
		w->i--;
		w->tp++;
	}
	while (w->j > 0 && w->neg[w->j - 1] == x) {
		w->j--;
		w->fp++;
	}
	*v = x;
	return 1;
}

fv_err fv_stats_average_precision(const double *score, const uint8_t *label, size_t n, double *ap,
				  double *auprc, struct fv_diag *d)
{
	double *pos = NULL, *neg = NULL, v, rprev = 0.0, pprev = 1.0;
	struct fv_ksum a = {0, 0}, t = {0, 0};
	size_t n1, n0;
	struct walk w;
	fv_err e;

	if (!ap || !auprc)
		return fv_diag_set(d, FV_EINVAL, "average_precision: NULL argument");
	if ((e = fv_stats_split_sorted(score, label, n, &pos, &n1, &neg, &n0, "average_precision",
				       d)) != FV_OK)
		return e;
	if (n1 == 0) {
		e = fv_diag_set(d, FV_EINVAL, "average_precision: no cases (label 1)");
		goto out;
	}
	w = (struct walk){pos, neg, n1, n0, 0, 0};
	while (walk_next(&w, &v)) {
		double r = (double)w.tp / (double)n1, p = (double)w.tp / (double)(w.tp + w.fp);
		fv_ksum_add(&a, (r - rprev) * p);
		fv_ksum_add(&t, (r - rprev) * 0.5 * (p + pprev));
		rprev = r;
		pprev = p;
		if (w.tp == n1)
			break; /* sklearn stops at full recall; later points add no area */
	}
	*ap = fv_ksum_get(&a);
	*auprc = fv_ksum_get(&t);
out:
	fv_free(pos);
	fv_free(neg);
	return e;
}

double fv_stats_brier_scaled(uint64_t n, double sum_y, double sum_sq)
{
	double ybar, ref;

	if (n == 0)
		return NAN;
	ybar = sum_y / (double)n;
	ref = ybar * (1.0 - ybar);
	if (!(ref > 0.0))
		return NAN;
	return 1.0 - (sum_sq / (double)n) / ref;
}

fv_err fv_stats_operating_point(const double *score, const uint8_t *label, size_t n,
				enum fv_op_target target, double value, double *threshold,
				struct fv_confusion *c, struct fv_diag *d)
{
	double *pos = NULL, *neg = NULL, v, found = INFINITY;
	uint64_t ftp = 0, ffp = 0;
	size_t n1, n0;
	struct walk w;
	fv_err e;

	if (!threshold || !c || isnan(value))
		return fv_diag_set(d, FV_EINVAL, "operating_point: NULL argument or NaN target");
	if ((e = fv_stats_split_sorted(score, label, n, &pos, &n1, &neg, &n0, "operating_point",
				       d)) != FV_OK)
		return e;
	if ((target == FV_OP_SENSITIVITY && n1 == 0) || (target == FV_OP_SPECIFICITY && n0 == 0) ||
	    n == 0) {
		e = fv_diag_set(d, FV_EINVAL,
				"operating_point: the class the target needs is empty");
		goto out;
	}
	w = (struct walk){pos, neg, n1, n0, 0, 0};
	while (walk_next(&w, &v)) {
		if (target == FV_OP_SPECIFICITY) {
			/* Specificity only falls as t falls: keep the last t that still reaches it.
			 */
			if ((double)(n0 - w.fp) / (double)n0 < value)
				break;
			found = v;
			ftp = w.tp;
			ffp = w.fp;
			continue;
		}
		if ((target == FV_OP_SENSITIVITY && (double)w.tp / (double)n1 >= value) ||
		    (target == FV_OP_POSITIVE_RATE && (double)(w.tp + w.fp) / (double)n >= value)) {
			found = v;
			ftp = w.tp;
			ffp = w.fp;
			break;
		}
	}
	if (target != FV_OP_SPECIFICITY && isinf(found)) {
		e = fv_diag_set(d, FV_EINVAL, "operating_point: target %g is not reachable", value);
		goto out;
	}
	*threshold = found;
	c->tp = ftp;
	c->fp = ffp;
	c->fn = n1 - ftp;
	c->tn = n0 - ffp;
out:
	fv_free(pos);
	fv_free(neg);
	return e;
}

double fv_stats_net_benefit(uint64_t tp, uint64_t fp, uint64_t n, double t)
{
	if (n == 0 || !(t > 0.0 && t < 1.0))
		return NAN;
	return (double)tp / (double)n - (double)fp / (double)n * (t / (1.0 - t));
}

fv_err fv_stats_decision_curve(const double *p, const uint8_t *y, size_t n, const double *t,
			       size_t nt, struct fv_dca_point *out, struct fv_diag *d)
{
	double *pos = NULL, *neg = NULL;
	size_t n1, n0;
	fv_err e;

	if (n == 0 || (nt > 0 && (!t || !out)))
		return fv_diag_set(d, FV_EINVAL, "decision_curve: no records or NULL argument");
	for (size_t k = 0; k < nt; k++)
		if (!(t[k] > 0.0 && t[k] < 1.0))
			return fv_diag_set(d, FV_EINVAL,
					   "decision_curve: threshold %zu is not in (0, 1)", k + 1);
	if ((e = fv_stats_split_sorted(p, y, n, &pos, &n1, &neg, &n0, "decision_curve", d)) !=
	    FV_OK)
		return e;
	for (size_t k = 0; k < nt; k++) {
		struct fv_dca_point *o = &out[k];
		o->threshold = t[k];
		o->tp = n1 - fv_stats_count_lt(pos, n1, t[k]);
		o->fp = n0 - fv_stats_count_lt(neg, n0, t[k]);
		o->model = fv_stats_net_benefit(o->tp, o->fp, n, t[k]);
		o->treat_all = fv_stats_net_benefit(n1, n0, n, t[k]);
		o->treat_none = 0.0;
	}
	fv_free(pos);
	fv_free(neg);
	return FV_OK;
}
