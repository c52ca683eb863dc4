/* Tests for lib/stats/meta.c: fixed effect, DerSimonian-Laird and REML by their defining
 * equations, Hartung-Knapp, the prediction interval, edge cases; logit helpers. */
#include <criterion/criterion.h>
#include <math.h>

#include "fedval/stats.h"

static const double y[5] = {0.10, 0.45, -0.20, 0.80, 0.30};
static const double v[5] = {0.04, 0.02, 0.09, 0.05, 0.01};

Test(meta, fixed_and_dl_by_hand)
{
	struct fv_meta m;
	double w = 0, wy = 0, w2 = 0, mu, q = 0, tau2, ws = 0, wsy = 0;
	for (int i = 0; i < 5; i++) {
		w += 1 / v[i];
		wy += y[i] / v[i];
		w2 += 1 / (v[i] * v[i]);
	}
	mu = wy / w;
	for (int i = 0; i < 5; i++)
		q += (y[i] - mu) * (y[i] - mu) / v[i];
	cr_assert_eq(fv_stats_meta(y, v, 5, FV_META_FE, 0, 0.95, &m, NULL), FV_OK);
	cr_assert_float_eq(m.mu, mu, 1e-15);
	cr_assert_float_eq(m.se, sqrt(1 / w), 1e-15);
	cr_assert_float_eq(m.q, q, 1e-13);
	cr_assert_float_eq(m.i2, 100 * (q - 4) / q, 1e-12);
	cr_assert_float_eq(m.q_p, fv_stats_pchisq_upper(q, 4), 1e-15);
	cr_assert_eq(m.tau2, 0.0);
	tau2 = (q - 4) / (w - w2 / w);
	cr_assert(tau2 > 0);
	cr_assert_eq(fv_stats_meta(y, v, 5, FV_META_DL, 0, 0.95, &m, NULL), FV_OK);
	cr_assert_float_eq(m.tau2, tau2, 1e-14);
	for (int i = 0; i < 5; i++) {
		ws += 1 / (v[i] + tau2);
		wsy += y[i] / (v[i] + tau2);
	}
	cr_assert_float_eq(m.mu, wsy / ws, 1e-14);
	cr_assert_float_eq(m.se, sqrt(1 / ws), 1e-14);
	cr_assert_float_eq(m.ci_lo, m.mu - fv_stats_qnorm(0.975) * m.se, 1e-14);
	/* DL: I^2 by tau2 and the typical variance equals (Q - df)/Q. */
	cr_assert_float_eq(m.i2, 100 * (q - 4) / q, 1e-10);
	cr_assert_float_eq(m.h2, q / 4, 1e-10);
	cr_assert_float_eq(m.pi_lo, m.mu - fv_stats_qt(0.975, 3) * sqrt(tau2 + m.se * m.se), 1e-13);
	/* Hartung-Knapp. */
	{
		double qs = 0;
		for (int i = 0; i < 5; i++)
			qs += (y[i] - m.mu) * (y[i] - m.mu) / (v[i] + tau2);
		cr_assert_eq(fv_stats_meta(y, v, 5, FV_META_DL, 1, 0.95, &m, NULL), FV_OK);
		cr_assert_float_eq(m.se, sqrt(qs / 4 / ws), 1e-14);
		cr_assert_float_eq(m.ci_hi, m.mu + fv_stats_qt(0.975, 4) * m.se, 1e-13);
		cr_assert_float_eq(m.p, 2 * fv_stats_pt(-fabs(m.mu / m.se), 4), 1e-14);
	}
}

Test(meta, reml_solves_score_equation)
{
	struct fv_meta m;
	double ws = 0, wsy = 0, mu, score = 0, w2 = 0;
	cr_assert_eq(fv_stats_meta(y, v, 5, FV_META_REML, 0, 0.95, &m, NULL), FV_OK);
	cr_assert(m.tau2 > 0 && m.iterations > 0);
	for (int i = 0; i < 5; i++) {
		double w = 1 / (v[i] + m.tau2);
		ws += w;
		wsy += w * y[i];
		w2 += w * w;
	}
	mu = wsy / ws;
	for (int i = 0; i < 5; i++) {
		double w = 1 / (v[i] + m.tau2);
		score += w * w * (y[i] - mu) * (y[i] - mu);
	}
	score -= ws - w2 / ws;
	cr_assert(fabs(score) < 1e-9, "score %g", score);
	cr_assert_float_eq(m.mu, mu, 1e-14);
}

Test(meta, homogeneous_and_small_k)
{
	double yy[3] = {0.5, 0.5, 0.5}, vv[3] = {0.1, 0.2, 0.3};
	struct fv_meta m;
	cr_assert_eq(fv_stats_meta(yy, vv, 3, FV_META_REML, 0, 0.95, &m, NULL), FV_OK);
	cr_assert_eq(m.tau2, 0.0);
	cr_assert_eq(m.q, 0.0);
	cr_assert_eq(m.i2, 0.0);
	cr_assert_eq(fv_stats_meta(yy, vv, 1, FV_META_DL, 0, 0.95, &m, NULL), FV_OK);
	cr_assert_eq(m.mu, 0.5);
	cr_assert(isnan(m.i2) && isnan(m.pi_lo) && isnan(m.q_p));
	cr_assert_eq(fv_stats_meta(yy, vv, 2, FV_META_DL, 0, 0.95, &m, NULL), FV_OK);
	cr_assert(isnan(m.pi_lo));
	vv[1] = 0.0;
	cr_assert_eq(fv_stats_meta(yy, vv, 3, FV_META_DL, 0, 0.95, &m, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_meta(yy, vv, 0, FV_META_DL, 0, 0.95, &m, NULL), FV_EINVAL);
}

Test(meta, logit_helpers)
{
	double t, vt;
	fv_stats_logit_delta(0.8, 0.0016, &t, &vt);
	cr_assert_float_eq(t, log(4.0), 1e-15);
	cr_assert_float_eq(vt, 0.0016 / (0.16 * 0.16), 1e-15);
	cr_assert_float_eq(fv_stats_expit(t), 0.8, 1e-15);
	cr_assert_float_eq(fv_stats_expit(-800.0), 0.0, 1e-300);
	fv_stats_logit_delta(1.0, 0.1, &t, &vt);
	cr_assert(isnan(t) && isnan(vt));
	fv_stats_logit_prop(30, 40, &t, &vt);
	cr_assert_float_eq(t, log(3.0), 1e-15);
	cr_assert_float_eq(vt, 1.0 / 30 + 1.0 / 10, 1e-15);
	fv_stats_logit_prop(0, 40, &t, &vt);
	cr_assert_float_eq(t, log(0.5 / 40.5), 1e-15);
}
