/* Tests for lib/stats/drift.c: the standardized CUSUM by its recursion, alarms and missing
 * periods; the change z test; Bonferroni and Holm as R's p.adjust defines them; the monitored
 * quantities; PSI and the merged chi-square test by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fedval/stats.h"
#include "fedval/util.h"

Test(drift, cusum_recursion_by_hand)
{
	const double y[6] = {0.10, -0.30, 0.90, 1.20, -0.05, 0.70};
	const double v[6] = {0.04, 0.09, 0.05, 0.02, 0.04, 0.03};
	const double b = 0.2, vb = 0.01, k = 0.5, h = 4;
	struct fv_cusum_point path[6];
	struct fv_cusum c;
	double cp = 0, cm = 0;

	cr_assert_eq(fv_stats_cusum(y, v, 6, b, vb, k, h, path, &c, NULL), FV_OK);
	for (int t = 0; t < 6; t++) {
		double z = (y[t] - b) / sqrt(v[t] + vb);
		cp = fmax(0, cp + z - k);
		cm = fmax(0, cm - z - k);
		cr_assert_float_eq(path[t].z, z, 1e-15);
		cr_assert_float_eq(path[t].cplus, cp, 1e-14);
		cr_assert_float_eq(path[t].cminus, cm, 1e-14);
		cr_assert_eq(path[t].missing, 0);
	}
	/* z: -0.447, -1.581, 3.130, 6.957, -1.118, 2.683: C+ crosses 4 at t = 3 */
	cr_assert_eq(c.alarm, 3);
	cr_assert_eq(c.direction, 1);
	cr_assert_eq(c.k, k);
	cr_assert_eq(c.h, h);
}

Test(drift, cusum_downward_alarm_and_strict_crossing)
{
	/* z = -1.5 each period: C- grows by 1 per period; equal to h is not an alarm */
	const double y[6] = {-1.5, -1.5, -1.5, -1.5, -1.5, -1.5}, v[6] = {1, 1, 1, 1, 1, 1};
	struct fv_cusum_point p[6];
	struct fv_cusum c;

	cr_assert_eq(fv_stats_cusum(y, v, 6, 0, 0, 0.5, 4, p, &c, NULL), FV_OK);
	cr_assert_float_eq(p[3].cminus, 4.0, 1e-15);
	cr_assert_eq(c.alarm, 4);
	cr_assert_eq(c.direction, -1);
	cr_assert_eq(p[5].cplus, 0.0);
	cr_assert_float_eq(p[5].cminus, 6.0, 1e-15, "no reset after the alarm");
}

Test(drift, cusum_missing_periods_carry_over)
{
	const double y[5] = {2.0, NAN, 2.0, 2.0, INFINITY}, v[5] = {1, 1, 0, 1, 1};
	struct fv_cusum_point p[5];
	struct fv_cusum c;

	cr_assert_eq(fv_stats_cusum(y, v, 5, 0, 0, 0.5, 4, p, &c, NULL), FV_OK);
	cr_assert_float_eq(p[0].cplus, 1.5, 1e-15);
	cr_assert(p[1].missing && isnan(p[1].z));
	cr_assert_float_eq(p[1].cplus, 1.5, 1e-15);
	cr_assert(p[2].missing, "zero variance is missing");
	cr_assert_float_eq(p[3].cplus, 3.0, 1e-15);
	cr_assert(p[4].missing);
	cr_assert_eq(c.alarm, 5, "no alarm: alarm == n");
	cr_assert_eq(c.direction, 0);
	/* with a baseline variance, a zero period variance is fine */
	cr_assert_eq(fv_stats_cusum(y, v, 5, 0, 1, 0.5, 4, p, &c, NULL), FV_OK);
	cr_assert(!p[2].missing);
	cr_assert_float_eq(p[2].z, 2.0, 1e-15);
	/* a NULL path is allowed */
	cr_assert_eq(fv_stats_cusum(y, v, 5, 0, 0, 0.5, 4, NULL, &c, NULL), FV_OK);
	cr_assert_eq(fv_stats_cusum(y, v, 0, 0, 0, 0.5, 4, NULL, &c, NULL), FV_OK);
	cr_assert_eq(c.alarm, 0);
}

Test(drift, cusum_rejects_bad_parameters)
{
	const double y[1] = {0}, v[1] = {1};
	struct fv_cusum c;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_stats_cusum(y, v, 1, 0, 0, -0.1, 4, NULL, &c, &d), FV_EINVAL);
	cr_assert(d.msg[0] != '\0');
	cr_assert_eq(fv_stats_cusum(y, v, 1, 0, 0, 0.5, 0, NULL, &c, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_cusum(y, v, 1, 0, 0, NAN, 4, NULL, &c, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_cusum(y, v, 1, NAN, 0, 0.5, 4, NULL, &c, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_cusum(y, v, 1, 0, -1, 0.5, 4, NULL, &c, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_cusum(NULL, v, 1, 0, 0, 0.5, 4, NULL, &c, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_cusum(y, v, 1, 0, 0, 0.5, 4, NULL, NULL, NULL), FV_EINVAL);
}

Test(drift, change_z_test)
{
	struct fv_change c;
	fv_stats_change(1.0, 0.03, 1.4, 0.01, 0.95, &c);
	cr_assert_float_eq(c.diff, -0.4, 1e-15);
	cr_assert_float_eq(c.se, 0.2, 1e-15);
	cr_assert_float_eq(c.z, -2.0, 1e-14);
	/* 2 (1 - Phi(2)), Phi(2) = 0.977249868051821 (Abramowitz & Stegun, Table 26.1) */
	cr_assert_float_eq(c.p, 2 * (1 - 0.977249868051821), 1e-13);
	cr_assert_float_eq(c.diff_lo, -0.4 - fv_stats_qnorm(0.975) * 0.2, 1e-14);
	cr_assert_float_eq(c.diff_hi, -0.4 + fv_stats_qnorm(0.975) * 0.2, 1e-14);
	fv_stats_change(1.0, 0, 1.0, 0, 0.95, &c);
	cr_assert(isnan(c.z) && isnan(c.p));
	fv_stats_change(NAN, 0.1, 1.0, 0.1, 0.95, &c);
	cr_assert(isnan(c.diff) && isnan(c.p));
	fv_stats_change(1, 0.1, 1.0, 0.1, 1.0, &c);
	cr_assert(isnan(c.diff_lo));
	/* far tail: no cancellation to 0 */
	fv_stats_change(30, 1, 0, 0, 0.95, &c);
	cr_assert(c.p > 1e-198 && c.p < 1e-196, "2 Phi(-30) = 9.81e-198 (scipy norm.sf): %g", c.p);
}

Test(drift, p_adjust_bonferroni_and_holm)
{
	const double p[5] = {0.01, 0.04, 0.03, 0.05, 0.02};
	/* p.adjust(c(.01,.04,.03,.05,.02), "holm") = .05 .09 .09 .09 .08 */
	const double holm[5] = {0.05, 0.09, 0.09, 0.09, 0.08};
	double a[5];

	cr_assert_eq(fv_stats_p_adjust(p, 5, FV_PADJ_BONFERRONI, a), FV_OK);
	for (int i = 0; i < 5; i++)
		cr_assert_float_eq(a[i], fmin(1, 5 * p[i]), 1e-15);
	cr_assert_eq(fv_stats_p_adjust(p, 5, FV_PADJ_HOLM, a), FV_OK);
	for (int i = 0; i < 5; i++)
		cr_assert_float_eq(a[i], holm[i], 1e-15, "i=%d: %g", i, a[i]);
}

Test(drift, p_adjust_nan_ties_alias_and_cap)
{
	double p[5] = {0.3, NAN, 0.01, 0.3, 0.6};
	/* m = 4 non-NaN: sorted .01 .3 .3 .6 -> .04, .9, .9 (max(.9, 2*.3)), 1*.6 -> .9 */
	cr_assert_eq(fv_stats_p_adjust(p, 5, FV_PADJ_HOLM, p), FV_OK);
	cr_assert_float_eq(p[2], 0.04, 1e-15);
	cr_assert_float_eq(p[0], 0.9, 1e-15);
	cr_assert_float_eq(p[3], 0.9, 1e-15);
	cr_assert_float_eq(p[4], 0.9, 1e-15);
	cr_assert(isnan(p[1]));
	double q[3] = {0.5, 0.6, NAN}, b[3];
	cr_assert_eq(fv_stats_p_adjust(q, 3, FV_PADJ_BONFERRONI, b), FV_OK);
	cr_assert_eq(b[0], 1.0);
	cr_assert_eq(b[1], 1.0);
	cr_assert(isnan(b[2]));
	double allnan[2] = {NAN, NAN};
	cr_assert_eq(fv_stats_p_adjust(allnan, 2, FV_PADJ_HOLM, b), FV_OK);
	cr_assert(isnan(b[0]) && isnan(b[1]));
	cr_assert_eq(fv_stats_p_adjust(NULL, 0, FV_PADJ_HOLM, NULL), FV_OK);
	cr_assert_eq(fv_stats_p_adjust(q, 2, (enum fv_padjust)7, b), FV_EINVAL);
}

Test(drift, p_adjust_allocation_failure)
{
	const double p[3] = {0.1, 0.2, 0.3};
	double a[3];
	fv_alloc_fail_after(1);
	fv_err e = fv_stats_p_adjust(p, 3, FV_PADJ_HOLM, a);
	fv_alloc_fail_after(0);
	cr_assert_eq(e, FV_ENOMEM);
}

Test(drift, monitored_quantities)
{
	double y, v, y2, v2;
	cr_assert_eq(fv_stats_monitor_auc(0.8, 0.0004, &y, &v), FV_OK);
	fv_stats_logit_delta(0.8, 0.0004, &y2, &v2);
	cr_assert_eq(y, y2);
	cr_assert_eq(v, v2);
	cr_assert_float_eq(y, log(4.0), 1e-15);
	cr_assert_float_eq(v, 0.0004 / (0.16 * 0.16), 1e-15);
	cr_assert_eq(fv_stats_monitor_auc(1.0, 0.001, &y, &v), FV_EINVAL);
	cr_assert(isnan(y) && isnan(v));
	cr_assert_eq(fv_stats_monitor_auc(0.7, 0, &y, &v), FV_EINVAL);
	cr_assert_eq(fv_stats_monitor_auc(0.7, NAN, &y, &v), FV_EINVAL);

	cr_assert_eq(fv_stats_monitor_oe(120, 100, &y, &v), FV_OK);
	cr_assert_float_eq(y, log(1.2), 1e-15);
	cr_assert_float_eq(v, 1.0 / 120, 1e-15);
	cr_assert_eq(fv_stats_monitor_oe(0, 4, &y, &v), FV_OK);
	cr_assert_float_eq(y, log(0.5 / 4), 1e-15);
	cr_assert_float_eq(v, 2.0, 1e-15);
	cr_assert_eq(fv_stats_monitor_oe(3, 0, &y, &v), FV_EINVAL);
	cr_assert_eq(fv_stats_monitor_oe(-1, 3, &y, &v), FV_EINVAL);
	cr_assert_eq(fv_stats_monitor_oe(1, 3, NULL, &v), FV_EINVAL);
}

Test(drift, psi_and_chi_square_by_hand)
{
	const uint64_t a[3] = {50, 30, 20}, c[3] = {40, 30, 30};
	struct fv_psi r;
	double psi = (0.4 - 0.5) * log(0.4 / 0.5) + 0 + (0.3 - 0.2) * log(0.3 / 0.2);

	cr_assert_eq(fv_stats_psi(a, c, 3, 5, &r, NULL), FV_OK);
	cr_assert_float_eq(r.psi, psi, 1e-15);
	cr_assert_eq(r.psi_corrected, 0);
	cr_assert_eq(r.groups, 3);
	/* 2 x 3 table, rows of 100: expected (45, 30, 25) in both rows */
	double chi2 = 2 * (25.0 / 45 + 0 + 25.0 / 25);
	cr_assert_float_eq(r.chi2, chi2, 1e-13);
	cr_assert_eq(r.df, 2.0);
	cr_assert_float_eq(r.p, exp(-chi2 / 2), 1e-14, "chi2(2) upper tail is exp(-x/2)");

	cr_assert_eq(fv_stats_psi(a, a, 3, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.psi, 0.0);
	cr_assert_float_eq(r.chi2, 0.0, 1e-15);
	cr_assert_float_eq(r.p, 1.0, 1e-15);
}

Test(drift, psi_small_cells)
{
	/* an empty bin: 0.5 added to every bin of both distributions */
	const uint64_t a[4] = {10, 0, 40, 50}, c[4] = {12, 3, 35, 50};
	struct fv_psi r;
	double psi = 0;
	for (int b = 0; b < 4; b++) {
		double pa = (a[b] + 0.5) / 102.0, pc = (c[b] + 0.5) / 102.0;
		psi += (pc - pa) * log(pc / pa);
	}
	cr_assert_eq(fv_stats_psi(a, c, 4, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.psi_corrected, 1);
	cr_assert_float_eq(r.psi, psi, 1e-15);
	/* expected counts per row are half of each column total: 11, 1.5, 37.5, 50, so bin 1
	 * (1.5 < 5) is merged with bin 2: groups {10, 12}, {0+40, 3+35}, {50, 50} */
	cr_assert_eq(r.groups, 3);
	double t1[3] = {10, 40, 50}, t2[3] = {12, 38, 50}, chi2 = 0;
	for (int g = 0; g < 3; g++) {
		double e = (t1[g] + t2[g]) / 2;
		chi2 += (t1[g] - e) * (t1[g] - e) / e + (t2[g] - e) * (t2[g] - e) / e;
	}
	cr_assert_float_eq(r.chi2, chi2, 1e-13);
	cr_assert_eq(r.df, 2.0);

	/* a short remainder at the right joins the last group */
	const uint64_t a2[3] = {30, 30, 1}, c2[3] = {30, 30, 0};
	cr_assert_eq(fv_stats_psi(a2, c2, 3, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.groups, 2);
	cr_assert_eq(r.df, 1.0);

	/* too small for two groups: no test, PSI still defined */
	const uint64_t a3[3] = {2, 1, 1}, c3[3] = {1, 2, 1};
	cr_assert_eq(fv_stats_psi(a3, c3, 3, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.groups, 1);
	cr_assert(isnan(r.chi2) && isnan(r.p));
	cr_assert(isfinite(r.psi));
}

Test(drift, psi_rejects_bad_input)
{
	const uint64_t a[2] = {1, 2}, z[2] = {0, 0};
	struct fv_psi r;
	cr_assert_eq(fv_stats_psi(a, z, 2, 5, &r, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_psi(a, a, 1, 5, &r, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_psi(a, a, 2, -1, &r, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_psi(NULL, a, 2, 5, &r, NULL), FV_EINVAL);
}

Test(drift, mix_shift_aligns_categories)
{
	/* Baseline: sex 1 = 60, 0 = 40 of 100. Period: 1 = 30, 0 = 90 of 120. Same as psi over
	 * two bins, no remainder. */
	const struct fv_mix_cell b[2] = {{"1", 60}, {"0", 40}}, c[2] = {{"0", 90}, {"1", 30}};
	const uint64_t ab[2] = {60, 40}, cb[2] = {30, 90};
	struct fv_psi r, ref;
	size_t kept;

	cr_assert_eq(fv_stats_mix_shift(b, 2, 100, c, 2, 120, 5, &r, &kept, NULL), FV_OK);
	cr_assert_eq(fv_stats_psi(ab, cb, 2, 5, &ref, NULL), FV_OK);
	cr_assert_eq(kept, 2);
	cr_assert_float_eq(r.psi, ref.psi, 1e-15);
	cr_assert_float_eq(r.chi2, ref.chi2, 1e-12);

	/* Age bands: "<65" withheld in the period and "[65, 80)" in neither list at baseline:
	 * only ">=80" is kept; the rest of each total forms the remainder bin. */
	const struct fv_mix_cell b2[2] = {{"<65", 50}, {">=80", 20}};
	const struct fv_mix_cell c2[2] = {{">=80", 70}, {"[65, 80)", 10}};
	const uint64_t ab2[2] = {20, 80}, cb2[2] = {70, 30};
	cr_assert_eq(fv_stats_mix_shift(b2, 2, 100, c2, 2, 100, 5, &r, &kept, NULL), FV_OK);
	cr_assert_eq(fv_stats_psi(ab2, cb2, 2, 5, &ref, NULL), FV_OK);
	cr_assert_eq(kept, 1);
	cr_assert_float_eq(r.psi, ref.psi, 1e-15);
	cr_assert_float_eq(r.p, ref.p, 1e-15);
}

Test(drift, mix_shift_rejects_bad_input)
{
	const struct fv_mix_cell b[2] = {{"1", 60}, {"0", 50}}, dup[2] = {{"1", 6}, {"1", 5}};
	const struct fv_mix_cell one[1] = {{"1", 10}};
	struct fv_psi r;
	size_t kept;
	struct fv_diag d = {{0}};

	cr_assert_eq(fv_stats_mix_shift(b, 2, 100, b, 2, 200, 5, &r, &kept, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "exceed the total 100"), "%s", d.msg);
	cr_assert_eq(fv_stats_mix_shift(dup, 2, 100, b, 2, 200, 5, &r, &kept, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "listed twice"), "%s", d.msg);
	cr_assert_eq(fv_stats_mix_shift(b, 2, 0, b, 2, 200, 5, &r, &kept, &d), FV_EINVAL);
	/* one category covering the whole total on both sides: nothing to compare */
	cr_assert_eq(fv_stats_mix_shift(one, 1, 10, one, 1, 10, 5, &r, &kept, &d), FV_EINVAL);
	cr_assert(strstr(d.msg, "fewer than two"), "%s", d.msg);
}

Test(drift, smd_by_hand)
{
	double smd, p;
	/* means 50 and 53, sds 10 and 12, n 400 and 100: smd = 3 / sqrt((100 + 144) / 2) =
	 * 3 / 11.0454 = 0.27161; z = 3 / sqrt(100/400 + 144/100) = 3 / 1.3 = 2.3077,
	 * p = 2 (1 - Phi(2.3077)) = 0.02101 */
	cr_assert_eq(fv_stats_smd(50, 10, 400, 53, 12, 100, &smd, &p), FV_OK);
	cr_assert_float_eq(smd, 3 / sqrt(122.0), 1e-12);
	cr_assert_float_eq(smd, 0.27161, 1e-5);
	cr_assert_float_eq(p, 0.02101, 1e-5);
	/* symmetric in the sign */
	cr_assert_eq(fv_stats_smd(53, 12, 100, 50, 10, 400, &smd, &p), FV_OK);
	cr_assert_float_eq(smd, -0.27161, 1e-5);
	cr_assert_eq(fv_stats_smd(1, 0, 10, 1, 0, 10, &smd, &p), FV_EINVAL, "both sds 0");
	cr_assert_eq(fv_stats_smd(1, 1, 1, 1, 1, 10, &smd, &p), FV_EINVAL, "n < 2");
	cr_assert_eq(fv_stats_smd(NAN, 1, 10, 1, 1, 10, &smd, &p), FV_EINVAL);
}
