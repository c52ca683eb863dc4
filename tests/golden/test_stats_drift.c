/* Golden tests for lib/stats/drift.c.
 *
 * Published values:
 *  - Tabular CUSUM: Montgomery DC, Runger GC. Applied Statistics and Probability for Engineers,
 *    3rd ed. Wiley 2003, Example 16-6, Table 16-8 "The Tabular CUSUM for the Chemical Process
 *    Concentration Data" (p. 636): 20 concentrations x_i, target mu0 = 99, reference value
 *    K = 1 and decision interval H = 10 in data units; upper CUSUM sH(i) = max(0, x_i - 100 +
 *    sH(i-1)), lower sL(i) = max(0, 98 - x_i + sL(i-1)), printed to one decimal; the CUSUMs
 *    never exceed H. With v = 1 our standardized CUSUM is that scheme exactly (k = K, h = H).
 *  - Average run lengths: Montgomery DC. Introduction to Statistical Quality Control, 6th ed.
 *    Wiley 2009, Table 9.3 "ARL Performance of the Tabular Cusum with k = 1/2 and h = 4 or
 *    h = 5" (two-sided): shift 0: 168 (h = 4), 465 (h = 5); shift 1 sigma: 8.38, 10.4.
 *    Checked by simulating the library's CUSUM on N(delta, 1) series from a fixed-seed
 *    generator; tolerance 5 Monte Carlo standard errors.
 *
 * Independent computation at test time with Debian's /usr/bin/python3 (numpy, scipy) on
 * fixed inputs, where no published example could be typed in:
 *  - Holm and Bonferroni adjustments (numpy, step-down as R's p.adjust);
 *  - the change z test: scipy.stats.norm.sf;
 *  - PSI (numpy) and the Pearson chi-square of the merged 2 x B table:
 *    scipy.stats.chi2_contingency(correction=False). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fedval/stats.h"

#define MR_N 20
static const double mr_x[MR_N] = {102.0, 94.8,	98.3,  98.4,  102.0, 98.5,  99.0,
				  97.7,	 100.0, 98.1,  101.3, 98.7,  101.1, 98.4,
				  97.0,	 96.7,	100.3, 101.4, 97.2,  101.0};
static const double mr_sh[MR_N] = {2.0, 0.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0,
				   1.3, 0.0, 1.1, 0.0, 0.0, 0.0, 0.3, 1.7, 0.0, 1.0};
static const double mr_sl[MR_N] = {0.0, 3.2, 2.9, 2.5, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0,
				   0.0, 0.0, 0.0, 0.0, 1.0, 2.3, 0.0, 0.0, 0.8, 0.0};

Test(golden_stats, cusum_montgomery_runger_table_16_8)
{
	double v[MR_N];
	struct fv_cusum_point p[MR_N];
	struct fv_cusum c;

	for (int i = 0; i < MR_N; i++)
		v[i] = 1.0;
	cr_assert_eq(fv_stats_cusum(mr_x, v, MR_N, 99.0, 0.0, 1.0, 10.0, p, &c, NULL), FV_OK);
	for (int i = 0; i < MR_N; i++) {
		/* the table prints one decimal; the data have one, so the sums are exact to
		 * rounding error */
		cr_assert_float_eq(p[i].cplus, mr_sh[i], 1e-9, "sH(%d) = %.3f, table %.1f", i + 1,
				   p[i].cplus, mr_sh[i]);
		cr_assert_float_eq(p[i].cminus, mr_sl[i], 1e-9, "sL(%d) = %.3f, table %.1f", i + 1,
				   p[i].cminus, mr_sl[i]);
	}
	cr_assert_eq(c.direction, 0, "the example concludes the process is in control");
	cr_assert_eq(c.alarm, (size_t)MR_N);
}

/* splitmix64 and Box-Muller: deterministic, platform-independent normals */
static uint64_t rng_state = 20240613u;
static double unif(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* Mean run length (index of the first alarm + 1) of the library's CUSUM over `runs` series;
 * each series is extended (doubling) until it alarms. */
static double arl(double k, double h, double delta, int runs, double *sd)
{
	size_t cap = 1u << 16;
	double *y = malloc(cap * sizeof(double)), *v = malloc(cap * sizeof(double));
	double s = 0, s2 = 0;
	cr_assert(y && v);
	for (size_t i = 0; i < cap; i++)
		v[i] = 1.0;
	for (int r = 0; r < runs; r++) {
		size_t n = 0, len = 64;
		struct fv_cusum c = {0};
		for (;;) {
			cr_assert(len <= cap, "no alarm in %zu periods", cap);
			for (; n < len; n++)
				y[n] = delta + gauss();
			cr_assert_eq(fv_stats_cusum(y, v, n, 0, 0, k, h, NULL, &c, NULL), FV_OK);
			if (c.direction != 0)
				break;
			len *= 2;
		}
		double L = (double)c.alarm + 1;
		s += L;
		s2 += L * L;
	}
	free(y);
	free(v);
	double m = s / runs;
	*sd = sqrt((s2 / runs - m * m) / runs);
	return m;
}

Test(golden_stats, cusum_arl_montgomery_table_9_3)
{
	double se, a;
	a = arl(0.5, 4, 0, 20000, &se);
	cr_assert(fabs(a - 168) < 5 * se, "ARL0(h=4) %.1f (se %.2f), table 168", a, se);
	a = arl(0.5, 4, 1, 20000, &se);
	cr_assert(fabs(a - 8.38) < 5 * se, "ARL(1 sigma, h=4) %.3f (se %.3f), table 8.38", a, se);
	a = arl(0.5, 5, 0, 6000, &se);
	cr_assert(fabs(a - 465) < 5 * se, "ARL0(h=5) %.1f (se %.2f), table 465", a, se);
	a = arl(0.5, 5, 1, 20000, &se);
	cr_assert(fabs(a - 10.4) < 5 * se + 0.05, "ARL(1 sigma, h=5) %.3f (se %.3f), table 10.4", a,
		  se);
}

/* ---- against numpy/scipy at test time ---- */

#define NP 9
static const double pv[NP] = {0.0004, 0.012, 0.03, 0.03, 0.2, 0.049, 0.8, 0.0101, 0.5};
#define NB 8
static const uint64_t base[NB] = {120, 340, 610, 880, 760, 420, 150, 3};
static const uint64_t cur[NB] = {90, 300, 540, 905, 820, 510, 201, 0};
static const uint64_t base2[NB] = {400, 800, 1200, 900, 500, 150, 40, 10};
static const uint64_t cur2[NB] = {390, 820, 1150, 950, 480, 160, 45, 5};

static const char script[] =
    "import numpy as np\n"
    "from scipy import stats\n"
    "p = np.array([0.0004, 0.012, 0.03, 0.03, 0.2, 0.049, 0.8, 0.0101, 0.5])\n"
    "m = len(p); o = np.argsort(p, kind='stable')\n"
    "h = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[o]))\n"
    "holm = np.empty(m); holm[o] = h\n"
    "out = list(np.minimum(1, m * p)) + list(holm)\n"
    "for y, v, y0, v0 in [(1.1, 0.02, 1.4, 0.015), (-0.2, 0.01, 0.05, 0.004)]:\n"
    "    z = (y - y0) / np.sqrt(v + v0); out += [z, 2 * stats.norm.sf(abs(z))]\n"
    "def psi(a, c):\n"
    "    a = np.array(a, float); c = np.array(c, float)\n"
    "    if (a == 0).any() or (c == 0).any(): a += 0.5; c += 0.5\n"
    "    a /= a.sum(); c /= c.sum(); return float(((c - a) * np.log(c / a)).sum())\n"
    "def merged(a, c, mn):\n"
    "    na, nc = sum(a), sum(c); n = na + nc; g = []; ga = gc = 0; op = False\n"
    "    for x, y in zip(a, c):\n"
    "        ga += x; gc += y; op = True\n"
    "        if ga + gc > 0 and (ga + gc) * na / n >= mn and (ga + gc) * nc / n >= mn:\n"
    "            g.append([ga, gc]); ga = gc = 0; op = False\n"
    "    if op and ga + gc > 0:\n"
    "        if g: g[-1][0] += ga; g[-1][1] += gc\n"
    "        else: g.append([ga, gc])\n"
    "    t = np.array(g, float).T\n"
    "    chi2, pp, df, _ = stats.chi2_contingency(t, correction=False)\n"
    "    return [len(g), chi2, df, pp]\n"
    "for a, c in [([120, 340, 610, 880, 760, 420, 150, 3], [90, 300, 540, 905, 820, 510, 201, "
    "0]),\n"
    "             ([400, 800, 1200, 900, 500, 150, 40, 10], [390, 820, 1150, 950, 480, 160, "
    "45, 5])]:\n"
    "    out += [psi(a, c)] + merged(a, c, 5)\n"
    "print(' '.join(repr(float(x)) for x in out))\n";

static FILE *reference(void)
{
	char path[1024], cmd[2048];
	FILE *f;
	snprintf(path, sizeof(path), "%s/golden_stats_drift.py", FV_BUILD_DIR);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(script, f);
	fclose(f);
	cr_assert(access("/usr/bin/python3", X_OK) == 0,
		  "python3-scipy not installed (deploy/install-deps.sh installs it)");
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -W ignore %s", path);
	f = popen(cmd, "r");
	cr_assert(f != NULL);
	return f;
}

static double next(FILE *f)
{
	double v;
	cr_assert_eq(fscanf(f, "%lf", &v), 1, "reference output ended early");
	return v;
}

static void eq(double x, double ref, double tol, const char *what)
{
	cr_assert_float_eq(x, ref, tol, "%s: %.15g vs reference %.15g", what, x, ref);
}

Test(golden_stats, drift_against_numpy_scipy)
{
	FILE *f = reference();
	double a[NP];
	struct fv_change c;
	struct fv_psi r;

	cr_assert_eq(fv_stats_p_adjust(pv, NP, FV_PADJ_BONFERRONI, a), FV_OK);
	for (int i = 0; i < NP; i++)
		eq(a[i], next(f), 1e-15, "bonferroni");
	cr_assert_eq(fv_stats_p_adjust(pv, NP, FV_PADJ_HOLM, a), FV_OK);
	for (int i = 0; i < NP; i++)
		eq(a[i], next(f), 1e-15, "holm");
	fv_stats_change(1.1, 0.02, 1.4, 0.015, 0.95, &c);
	eq(c.z, next(f), 1e-13, "z");
	eq(c.p, next(f), 1e-13, "p");
	fv_stats_change(-0.2, 0.01, 0.05, 0.004, 0.95, &c);
	eq(c.z, next(f), 1e-13, "z");
	eq(c.p, next(f), 1e-13, "p");

	cr_assert_eq(fv_stats_psi(base, cur, NB, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.psi_corrected, 1);
	eq(r.psi, next(f), 1e-14, "psi (corrected)");
	cr_assert_eq((double)r.groups, next(f));
	eq(r.chi2, next(f), 1e-10, "chi2");
	eq(r.df, next(f), 0, "df");
	eq(r.p, next(f), 1e-12, "p");
	cr_assert_eq(fv_stats_psi(base2, cur2, NB, 5, &r, NULL), FV_OK);
	cr_assert_eq(r.psi_corrected, 0);
	eq(r.psi, next(f), 1e-14, "psi");
	cr_assert_eq((double)r.groups, next(f));
	eq(r.chi2, next(f), 1e-10, "chi2");
	eq(r.df, next(f), 0, "df");
	eq(r.p, next(f), 1e-12, "p");
	cr_assert_eq(pclose(f), 0, "the reference script failed");
}
