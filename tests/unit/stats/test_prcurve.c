/* Tests for lib/stats/prcurve.c: average precision, AUPRC, operating points and the decision
 * curve against direct quadratic evaluations, plus hand examples. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"

static void counts(const double *s, const uint8_t *l, size_t n, double t, uint64_t *tp,
		   uint64_t *fp)
{
	*tp = *fp = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= t)
			l[i] ? (*tp)++ : (*fp)++;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* Distinct scores, descending, into u; returns their number. */
static size_t distinct(const double *s, size_t n, double *u)
{
	size_t m = 0;
	double *t = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		t[i] = s[i];
	qsort(t, n, sizeof(double), cmp_desc);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || t[i] != u[m - 1])
			u[m++] = t[i];
	free(t);
	return m;
}

static void random_data(unsigned seed, size_t n, double *s, uint8_t *l)
{
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		l[i] = (uint8_t)(rand() % 4 == 0);
		s[i] = seed % 2 ? (double)(rand() % 20) / 20 + 0.1 * l[i]
				: (double)rand() / RAND_MAX + 0.2 * l[i];
	}
	l[0] = 1;
	l[1] = 0;
}

Test(prcurve, average_precision_matches_definition)
{
	for (unsigned seed = 1; seed <= 12; seed++) {
		size_t n = 50 + 31 * seed, m, n1 = 0;
		double *s = malloc(n * sizeof(double)), *u = malloc(n * sizeof(double));
		double ap, auprc, a = 0, t = 0, rp = 0, pp = 1;
		uint8_t *l = malloc(n);
		random_data(seed, n, s, l);
		for (size_t i = 0; i < n; i++)
			n1 += l[i];
		m = distinct(s, n, u);
		for (size_t k = 0; k < m; k++) {
			uint64_t tp, fp;
			double r, p;
			counts(s, l, n, u[k], &tp, &fp);
			r = (double)tp / n1;
			p = (double)tp / (tp + fp);
			a += (r - rp) * p;
			t += (r - rp) * (p + pp) / 2;
			rp = r;
			pp = p;
		}
		cr_assert_eq(fv_stats_average_precision(s, l, n, &ap, &auprc, NULL), FV_OK);
		cr_assert_float_eq(ap, a, 1e-13, "seed %u", seed);
		cr_assert_float_eq(auprc, t, 1e-13, "seed %u", seed);
		free(s);
		free(u);
		free(l);
	}
}

Test(prcurve, average_precision_hand_example)
{
	/* sklearn docs: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333... */
	double s[4] = {0.1, 0.4, 0.35, 0.8}, ap, auprc;
	uint8_t l[4] = {0, 0, 1, 1}, none[4] = {0, 0, 0, 0};
	cr_assert_eq(fv_stats_average_precision(s, l, 4, &ap, &auprc, NULL), FV_OK);
	cr_assert_float_eq(ap, 5.0 / 6.0, 1e-15);
	/* points (0,1) (0.5,1) (0.5,0.5) (1,2/3): area 0.5 + 0.5 * (0.5 + 2/3) / 2 */
	cr_assert_float_eq(auprc, 0.5 + 0.25 * (0.5 + 2.0 / 3.0), 1e-15);
	cr_assert_eq(fv_stats_average_precision(s, none, 4, &ap, &auprc, NULL), FV_EINVAL);
}

Test(prcurve, brier_scaled)
{
	/* y = 1,0,0,0; p = 0.25 each: Brier = (0.5625 + 3 * 0.0625) / 4 = 0.1875 = ref. */
	cr_assert_float_eq(fv_stats_brier_scaled(4, 1.0, 0.75), 0.0, 1e-15);
	cr_assert_float_eq(fv_stats_brier_scaled(4, 1.0, 0.0), 1.0, 1e-15);
	cr_assert(isnan(fv_stats_brier_scaled(4, 0.0, 0.5)));
	cr_assert(isnan(fv_stats_brier_scaled(0, 0.0, 0.0)));
}

Test(prcurve, operating_points_match_scan)
{
	static const double targets[] = {0.0, 0.1, 0.5, 0.8, 0.95, 1.0};
	for (unsigned seed = 1; seed <= 8; seed++) {
		size_t n = 80 + 17 * seed, m, n1 = 0, n0;
		double *s = malloc(n * sizeof(double)), *u = malloc(n * sizeof(double));
		uint8_t *l = malloc(n);
		random_data(seed, n, s, l);
		for (size_t i = 0; i < n; i++)
			n1 += l[i];
		n0 = n - n1;
		m = distinct(s, n, u);
		for (size_t ti = 0; ti < sizeof(targets) / sizeof(targets[0]); ti++) {
			double v = targets[ti];
			for (int tg = 0; tg < 3; tg++) {
				double thr, want = INFINITY;
				struct fv_confusion c;
				uint64_t tp, fp;
				/* Scan all distinct thresholds (descending). */
				for (size_t k = 0; k < m; k++) {
					counts(s, l, n, u[k], &tp, &fp);
					if (tg == FV_OP_SENSITIVITY && (double)tp / n1 >= v) {
						want = u[k];
						break;
					}
					if (tg == FV_OP_POSITIVE_RATE &&
					    (double)(tp + fp) / n >= v) {
						want = u[k];
						break;
					}
					if (tg == FV_OP_SPECIFICITY && (double)(n0 - fp) / n0 >= v)
						want = u[k];
				}
				cr_assert_eq(fv_stats_operating_point(
						 s, l, n, (enum fv_op_target)tg, v, &thr, &c, NULL),
					     FV_OK);
				cr_assert_eq(thr, want, "seed %u target %d %g: %g vs %g", seed, tg,
					     v, thr, want);
				counts(s, l, n, thr, &tp, &fp);
				cr_assert_eq(c.tp, tp);
				cr_assert_eq(c.fp, fp);
				cr_assert_eq(c.tp + c.fn, n1);
				cr_assert_eq(c.tn + c.fp, n0);
			}
		}
		free(s);
		free(u);
		free(l);
	}
}

Test(prcurve, operating_point_unreachable_and_spec_one)
{
	double s[4] = {0.1, 0.2, 0.3, 0.4}, thr;
	uint8_t l[4] = {0, 1, 0, 1};
	struct fv_confusion c;
	cr_assert_eq(fv_stats_operating_point(s, l, 4, FV_OP_SENSITIVITY, 1.5, &thr, &c, NULL),
		     FV_EINVAL);
	/* Specificity 1 needs t above the highest control (0.3): 0.4. */
	cr_assert_eq(fv_stats_operating_point(s, l, 4, FV_OP_SPECIFICITY, 1.0, &thr, &c, NULL),
		     FV_OK);
	cr_assert_eq(thr, 0.4);
	cr_assert_eq(c.tp, 1);
	cr_assert_eq(c.fp, 0);
}

Test(prcurve, decision_curve)
{
	double p[6] = {0.9, 0.8, 0.3, 0.6, 0.2, 0.1}, t[3] = {0.1, 0.5, 0.85};
	uint8_t y[6] = {1, 1, 1, 0, 0, 0};
	struct fv_dca_point o[3];
	cr_assert_eq(fv_stats_decision_curve(p, y, 6, t, 3, o, NULL), FV_OK);
	/* t = 0.5: treated 0.9, 0.8, 0.6 -> tp 2, fp 1; NB = 2/6 - 1/6 * 1 */
	cr_assert_eq(o[1].tp, 2);
	cr_assert_eq(o[1].fp, 1);
	cr_assert_float_eq(o[1].model, 1.0 / 6.0, 1e-15);
	cr_assert_float_eq(o[1].treat_all, 0.5 - 0.5, 1e-15);
	cr_assert_eq(o[0].tp, 3);
	cr_assert_eq(o[0].fp, 3);
	cr_assert_float_eq(o[0].model, 0.5 - 0.5 / 9.0, 1e-15);
	cr_assert_float_eq(o[0].treat_all, o[0].model, 1e-15);
	cr_assert_eq(o[2].tp, 1);
	cr_assert_eq(o[2].fp, 0);
	cr_assert_eq(o[2].treat_none, 0.0);
	t[0] = 1.0;
	cr_assert_eq(fv_stats_decision_curve(p, y, 6, t, 3, o, NULL), FV_EINVAL);
}
