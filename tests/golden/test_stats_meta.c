/* Golden test: meta-analysis of the BCG vaccine trials (Colditz et al., JAMA 1994;271:698-702),
 * R metafor's data set dat.bcg (13 trials: tpos, tneg, cpos, cneg), log risk ratios and
 * their variances as escalc(measure = "RR"):
 *   y = log[(tpos/(tpos+tneg)) / (cpos/(cpos+cneg))],
 *   v = 1/tpos - 1/(tpos+tneg) + 1/cpos - 1/(cpos+cneg).
 * The counts are printed in metafor's documentation of dat.bcg / dat.colditz1994 (e.g.
 * https://www.metafor-project.org/doku.php/analyses:vanhouwelingen2002, data table); any
 * typing error would show in Q, which depends on every count.
 * Expected values (metafor prints 4 decimals, so we compare to 5e-5):
 *  - metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r, checked there against
 *    Stata's metan:
 *      rma(yi, vi, method = "FE"): estimate -0.4303, CI -0.5097 .. -0.3509, z -10.6247,
 *        QE 152.2330;
 *      rma(yi, vi, method = "DL"): estimate -0.7141, CI -1.0644 .. -0.3638, z -3.9952,
 *        tau2 0.3088, I2 92.1173; predict(res, transf = exp): 0.4896 (0.3449 .. 0.6950).
 *  - metafor tests/testthat/test_misc_confint.r, same DL model: H2 12.6861.
 *  - metafor tests/testthat/test_misc_rma_mv.r: the REML model of these data (rma.mv with
 *    random = ~ 1 | trial, equivalent to rma(method = "REML")) has tau2 (sigma2) 0.3132.
 * The REML estimate, its standard error, the Hartung-Knapp interval and the prediction
 * interval are checked against an independent implementation instead: scipy.optimize's
 * bounded minimisation of the restricted likelihood, run at test time with Debian's
 * /usr/bin/python3 (python3-scipy). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "fedval/stats.h"

#define K 13
static const double bcg[K][4] = {
    {4, 119, 11, 128},	     {6, 300, 29, 274},	       {3, 228, 11, 209},
    {62, 13536, 248, 12619}, {33, 5036, 47, 5761},     {180, 1361, 372, 1079},
    {8, 2537, 10, 619},	     {505, 87886, 499, 87892}, {29, 7470, 45, 7232},
    {17, 1699, 65, 1600},    {186, 50448, 141, 27197}, {5, 2493, 3, 2338},
    {27, 16886, 29, 17825},
};

static void log_rr(double *y, double *v)
{
	for (int i = 0; i < K; i++) {
		double a = bcg[i][0], b = bcg[i][1], c = bcg[i][2], d = bcg[i][3];
		y[i] = log((a / (a + b)) / (c / (c + d)));
		v[i] = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d);
	}
}

#define NEAR(x, ref) cr_assert_float_eq((x), (ref), 5e-5, #x " = %.6f, reference %.4f", (x), (ref))

Test(golden_stats, meta_bcg_fixed_effect)
{
	double y[K], v[K];
	struct fv_meta m;
	log_rr(y, v);
	cr_assert_eq(fv_stats_meta(y, v, K, FV_META_FE, 0, 0.95, &m, NULL), FV_OK);
	NEAR(m.mu, -0.4303);
	NEAR(m.ci_lo, -0.5097);
	NEAR(m.ci_hi, -0.3509);
	NEAR(m.stat, -10.6247);
	NEAR(m.q, 152.2330);
}

Test(golden_stats, meta_bcg_dersimonian_laird)
{
	double y[K], v[K];
	struct fv_meta m;
	log_rr(y, v);
	cr_assert_eq(fv_stats_meta(y, v, K, FV_META_DL, 0, 0.95, &m, NULL), FV_OK);
	NEAR(m.mu, -0.7141);
	NEAR(m.ci_lo, -1.0644);
	NEAR(m.ci_hi, -0.3638);
	NEAR(m.stat, -3.9952);
	NEAR(m.tau2, 0.3088);
	NEAR(m.i2, 92.1173);
	NEAR(m.h2, 12.6861);
	NEAR(m.q, 152.2330);
	NEAR(exp(m.mu), 0.4896);
	NEAR(exp(m.ci_lo), 0.3449);
	NEAR(exp(m.ci_hi), 0.6950);
	cr_assert(m.q_p < 1e-25);
}

static const char script[] =
    "import sys, numpy as np\n"
    "from scipy import optimize, stats\n"
    "y = np.array([float(t) for t in sys.argv[1].split(',')])\n"
    "v = np.array([float(t) for t in sys.argv[2].split(',')])\n"
    "k = len(y)\n"
    "def nll(t):\n"
    "    w = 1 / (v + t); mu = np.sum(w * y) / np.sum(w)\n"
    "    return 0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))\n"
    "t = optimize.minimize_scalar(nll, bounds=(0, 10), method='bounded',\n"
    "                             options={'xatol': 1e-13}).x\n"
    "w = 1 / (v + t); mu = np.sum(w * y) / np.sum(w); se = np.sqrt(1 / np.sum(w))\n"
    "sehk = np.sqrt(np.sum(w * (y - mu) ** 2) / (k - 1) / np.sum(w))\n"
    "q = stats.t.ppf(0.975, k - 1)\n"
    "pi = stats.t.ppf(0.975, k - 2) * np.sqrt(t + se ** 2)\n"
    "print(repr(t), repr(mu), repr(se), repr(mu - q * sehk), repr(mu + q * sehk),\n"
    "      repr(mu - pi), repr(mu + pi))\n";

Test(golden_stats, meta_bcg_reml, .timeout = 120)
{
	double y[K], v[K], ref[7];
	char ys[1024], vs[1024], path[4096], cmd[8192];
	size_t oy = 0, ov = 0;
	struct fv_meta m;
	FILE *f, *py;

	log_rr(y, v);
	cr_assert_eq(fv_stats_meta(y, v, K, FV_META_REML, 0, 0.95, &m, NULL), FV_OK);
	NEAR(m.tau2, 0.3132);

	/* Independent REML (scipy), tolerances limited by its optimiser (xatol 1e-13). */
	cr_assert(access("/usr/bin/python3", X_OK) == 0, "python3-scipy not installed");
	for (int i = 0; i < K; i++) {
		oy += (size_t)snprintf(ys + oy, sizeof(ys) - oy, "%s%.17g", i ? "," : "", y[i]);
		ov += (size_t)snprintf(vs + ov, sizeof(vs) - ov, "%s%.17g", i ? "," : "", v[i]);
	}
	snprintf(path, sizeof(path), "%s/golden_stats_meta.py", FV_BUILD_DIR);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(script, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s", path, ys, vs);
	py = popen(cmd, "r");
	cr_assert(py != NULL);
	cr_assert_eq(fscanf(py, "%lf %lf %lf %lf %lf %lf %lf", &ref[0], &ref[1], &ref[2], &ref[3],
			    &ref[4], &ref[5], &ref[6]),
		     7, "scipy produced no output");
	cr_assert_eq(pclose(py), 0);
	cr_assert_float_eq(m.tau2, ref[0], 1e-7, "tau2 %.10f vs %.10f", m.tau2, ref[0]);
	cr_assert_float_eq(m.mu, ref[1], 1e-7);
	cr_assert_float_eq(m.se, ref[2], 1e-7);
	cr_assert_float_eq(m.pi_lo, ref[5], 1e-6);
	cr_assert_float_eq(m.pi_hi, ref[6], 1e-6);
	cr_assert_eq(fv_stats_meta(y, v, K, FV_META_REML, 1, 0.95, &m, NULL), FV_OK);
	cr_assert_float_eq(m.ci_lo, ref[3], 1e-6);
	cr_assert_float_eq(m.ci_hi, ref[4], 1e-6);
}
