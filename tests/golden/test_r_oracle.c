/* Golden tests against R packages from Debian, run at test time (tests/golden/r_oracle.R):
 *   - pROC 1.18 (Robin et al., BMC Bioinformatics 2011;12:77), data set aSAH: AUROC of s100b
 *     with its DeLong variance and 95% CI — published in pROC's documentation as
 *     0.7314 (0.6301-0.8326) — and the paired DeLong test of s100b against ndka (roc.test);
 *   - metafor 3.8 (Viechtbauer, J Stat Softw 2010;36(3)), data set dat.bcg: fixed effect,
 *     DerSimonian-Laird, REML, and REML with the Knapp-Hartung adjustment (rma, test="knha");
 *     published values DL tau2 0.3088, mu -0.7141, I2 92.12%, REML tau2 0.3132;
 *   - survival 3.5 (Therneau), concordance(): Harrell's C on synthetic censored data without
 *     tied times.
 * The data sets come out of the R packages into CSV files in a temporary directory, with R's
 * results at 17 significant digits; our library computes the same quantities from those files.
 * R is installed by deploy/install-deps.sh (r-base-core, r-cran-proc, r-cran-metafor,
 * r-cran-survival); a missing Rscript fails the test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/stats.h"

#define MAXN 512

static char dir[] = "/tmp/fedval-r-XXXXXX";
static char refkeys[64][32];
static double refvals[64];
static int nref;

static void run_r(void)
{
	char cmd[1024], path[600], key[32];
	double v;
	FILE *f;

	cr_assert(mkdtemp(dir), "mkdtemp");
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/Rscript " FV_SOURCE_DIR "/tests/golden/r_oracle.R %s > %s/r.log 2>&1",
		 dir, dir);
	cr_assert_eq(system(cmd), 0,
		     "Rscript failed (see %s/r.log); deploy/install-deps.sh "
		     "installs R and its packages",
		     dir);
	snprintf(path, sizeof(path), "%s/ref.txt", dir);
	cr_assert((f = fopen(path, "r")), "%s", path);
	while (nref < 64 && fscanf(f, "%31s %lf", key, &v) == 2) {
		strcpy(refkeys[nref], key);
		refvals[nref++] = v;
	}
	fclose(f);
}

static void cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/fedval-r-", 14) == 0 && !strchr(dir, 'X'))
		(void)system(cmd);
}

static double ref(const char *k)
{
	for (int i = 0; i < nref; i++)
		if (!strcmp(refkeys[i], k))
			return refvals[i];
	cr_assert_fail("R gave no %s", k);
	return NAN;
}

/* Rows of a numeric CSV with a header line: the first ncol columns into cols[c][i]. */
static size_t read_csv(const char *name, int ncol, double cols[][MAXN])
{
	char path[600], line[512];
	size_t n = 0;
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert((f = fopen(path, "r")), "%s", path);
	cr_assert(fgets(line, sizeof(line), f));
	while (n < MAXN && fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		for (int c = 0; c < ncol; c++) {
			cols[c][n] = strtod(p, &end);
			cr_assert(end != p, "%s line %zu: %s", name, n + 2, line);
			p = end + (*end == ',');
		}
		n++;
	}
	fclose(f);
	return n;
}

/* Relative agreement: both are double computations of the same definition. */
#define AGREE(x, key, tol)                                                                         \
	cr_assert(fabs((x)-ref(key)) <= (tol)*fmax(1.0, fabs(ref(key))),                           \
		  #x " = %.15g, R %s = %.15g", (x), key, ref(key))
/* The value printed in the package's documentation, to its 4 decimals. */
#define PUBLISHED(x, v) cr_assert_float_eq((x), (v), 5e-5, #x " = %.6f, published %.4f", (x), (v))

TestSuite(golden_r, .init = run_r, .fini = cleanup, .timeout = 120);

Test(golden_r, proc_asah_auroc_delong_and_paired_test)
{
	static double c[3][MAXN];
	uint8_t y[MAXN];
	size_t n = read_csv("asah.csv", 3, c);
	double auc, var, lo, hi;
	struct fv_delong_paired pd;

	cr_assert_eq(n, 113);
	for (size_t i = 0; i < n; i++)
		y[i] = (uint8_t)c[0][i];
	cr_assert_eq(fv_stats_auc_delong(c[1], y, n, &auc, &var, NULL), FV_OK);
	fv_stats_auc_ci(auc, var, 0.95, &lo, &hi);
	PUBLISHED(auc, 0.7314);
	PUBLISHED(lo, 0.6301);
	PUBLISHED(hi, 0.8326);
	AGREE(auc, "auc_s100b", 1e-12);
	AGREE(var, "var_s100b", 1e-10);
	AGREE(lo, "ci_lo_s100b", 1e-10);
	AGREE(hi, "ci_hi_s100b", 1e-10);
	cr_assert_eq(fv_stats_delong_paired(c[1], c[2], y, n, 0.95, &pd, NULL), FV_OK);
	AGREE(pd.auc_b, "auc_ndka", 1e-12);
	AGREE(pd.cov_ab, "cov_s100b_ndka", 1e-10);
	AGREE(pd.z, "paired_z", 1e-9);
	AGREE(pd.p, "paired_p", 1e-9);
}

Test(golden_r, metafor_bcg_fe_dl_reml_knha)
{
	static double c[2][MAXN];
	size_t k = read_csv("bcg.csv", 2, c);
	struct fv_meta m;

	cr_assert_eq(k, 13);
	cr_assert_eq(fv_stats_meta(c[0], c[1], k, FV_META_FE, 0, 0.95, &m, NULL), FV_OK);
	AGREE(m.mu, "fe_mu", 1e-10);
	AGREE(m.se, "fe_se", 1e-10);
	cr_assert_eq(fv_stats_meta(c[0], c[1], k, FV_META_DL, 0, 0.95, &m, NULL), FV_OK);
	PUBLISHED(m.tau2, 0.3088);
	PUBLISHED(m.mu, -0.7141);
	cr_assert_float_eq(m.i2, 92.12, 5e-3);
	AGREE(m.tau2, "dl_tau2", 1e-10);
	AGREE(m.mu, "dl_mu", 1e-10);
	AGREE(m.se, "dl_se", 1e-10);
	AGREE(m.i2, "dl_i2", 1e-10);
	AGREE(m.q, "dl_q", 1e-10);
	AGREE(m.ci_lo, "dl_ci_lo", 1e-10);
	AGREE(m.ci_hi, "dl_ci_hi", 1e-10);
	cr_assert_eq(fv_stats_meta(c[0], c[1], k, FV_META_REML, 0, 0.95, &m, NULL), FV_OK);
	PUBLISHED(m.tau2, 0.3132);
	/* metafor's REML stops at a relative change below 1e-5 of tau2 (rma control
	 * threshold = 1e-5); ours iterates further, so agreement is to that order. */
	AGREE(m.tau2, "reml_tau2", 1e-5);
	AGREE(m.mu, "reml_mu", 1e-6);
	AGREE(m.se, "reml_se", 1e-6);
	AGREE(m.i2, "reml_i2", 1e-5);
	cr_assert_eq(fv_stats_meta(c[0], c[1], k, FV_META_REML, 1, 0.95, &m, NULL), FV_OK);
	AGREE(m.se, "hk_se", 1e-6);
	AGREE(m.ci_lo, "hk_ci_lo", 1e-6);
	AGREE(m.ci_hi, "hk_ci_hi", 1e-6);
}

Test(golden_r, survival_concordance_harrell_c)
{
	static double c[3][MAXN];
	uint8_t ev[MAXN];
	size_t n = read_csv("surv.csv", 3, c);
	double cidx;
	uint64_t comparable;

	cr_assert_eq(n, 400);
	for (size_t i = 0; i < n; i++)
		ev[i] = (uint8_t)c[1][i];
	cr_assert_eq(fv_stats_cindex(c[0], ev, c[2], n, &cidx, &comparable, NULL), FV_OK);
	AGREE(cidx, "cindex", 1e-12);
}

/* What a federation publishes for a survival benchmark: each site's pair counts, summed, give
 * the site-stratified C-index, which R survival computes with strata(site). */
Test(golden_r, survival_concordance_stratified_by_site)
{
	static double c[4][MAXN], t[3][MAXN], r[3][MAXN];
	uint8_t ev[3][MAXN];
	size_t n = read_csv("surv.csv", 4, c), m[3] = {0};
	uint64_t conc2 = 0, comp = 0;

	cr_assert_eq(n, 400);
	for (size_t i = 0; i < n; i++) {
		int s = (int)c[3][i] - 1;
		cr_assert(s >= 0 && s < 3);
		t[s][m[s]] = c[0][i];
		ev[s][m[s]] = (uint8_t)c[1][i];
		r[s][m[s]++] = c[2][i];
	}
	for (int s = 0; s < 3; s++) {
		uint64_t c2, cp;
		cr_assert_eq(fv_stats_cindex_counts(t[s], ev[s], r[s], m[s], &c2, &cp, NULL),
			     FV_OK);
		conc2 += c2;
		comp += cp;
	}
	AGREE((double)conc2 / (2.0 * (double)comp), "cindex_strata", 1e-12);
}
