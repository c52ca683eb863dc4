/* Golden tests against scikit-learn / scipy, run at test time with Debian's /usr/bin/python3
 * (python3-sklearn 1.2, python3-scipy) on deterministic synthetic data written to a CSV in the
 * build directory. These are independent implementations, not published numbers: no
 * documented example of these statistics ships data small enough to type in.
 *  - average precision: sklearn.metrics.average_precision_score
 *  - AUPRC: sklearn.metrics.auc(recall, precision) over precision_recall_curve
 *  - Brier: brier_score_loss; scaled Brier 1 - B / (ybar (1 - ybar))
 *  - calibration curve: sklearn.calibration.calibration_curve, n_bins = 10, strategy
 *    "uniform" and "quantile" (prob_true, prob_pred of the non-empty bins)
 *  - calibration slope / intercept: LogisticRegression(penalty=None, solver="newton-cg",
 *    tol=1e-12) of y on logit(p); calibration-in-the-large: scipy.optimize.brentq on the
 *    score equation sum(y - expit(a + logit p)) = 0
 *  - regression: mean_absolute_error, mean_squared_error (root), r2_score, numpy.polyfit
 *  - multiclass: roc_auc_score(multi_class="ovr", average=None / "macro"), micro average as
 *    roc_auc_score(label_binarize(y), S, average="micro"), confusion_matrix(y, argmax S). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fedval/stats.h"

#define N  5000
#define K  4
#define NB 10

static const char script[] =
    "import sys, numpy as np\n"
    "from sklearn import metrics, calibration, linear_model, preprocessing\n"
    "from scipy import optimize, special\n"
    "d = np.loadtxt(sys.argv[1], delimiter=',')\n"
    "y = d[:, 0].astype(int); s = d[:, 1]; p = d[:, 2]; yr = d[:, 3]; pr = d[:, 4]\n"
    "yk = d[:, 5].astype(int); S = d[:, 6:]\n"
    "out = []\n"
    "out.append(metrics.average_precision_score(y, s))\n"
    "pc, rc, _ = metrics.precision_recall_curve(y, s)\n"
    "out.append(metrics.auc(rc, pc))\n"
    "b = metrics.brier_score_loss(y, p); yb = y.mean()\n"
    "out += [b, 1 - b / (yb * (1 - yb))]\n"
    "for st in ('uniform', 'quantile'):\n"
    "    t, q = calibration.calibration_curve(y, p, n_bins=10, strategy=st)\n"
    "    out += [len(t)] + list(t) + list(q)\n"
    "lp = special.logit(p)\n"
    "m = linear_model.LogisticRegression(penalty=None, solver='newton-cg', tol=1e-12,\n"
    "                                    max_iter=1000).fit(lp[:, None], y)\n"
    "out += [m.intercept_[0], m.coef_[0][0]]\n"
    "out.append(optimize.brentq(lambda a: np.sum(y - special.expit(a + lp)), -5, 5,\n"
    "                           xtol=1e-15))\n"
    "out += [metrics.mean_absolute_error(yr, pr), np.sqrt(metrics.mean_squared_error(yr, pr)),\n"
    "        metrics.r2_score(yr, pr)] + list(np.polyfit(pr, yr, 1))\n"
    "out += list(metrics.roc_auc_score(yk, S, multi_class='ovr', average=None))\n"
    "out.append(metrics.roc_auc_score(yk, S, multi_class='ovr', average='macro'))\n"
    "out.append(metrics.roc_auc_score(preprocessing.label_binarize(yk, classes=range(4)), S,\n"
    "                                 average='micro'))\n"
    "out += list(metrics.confusion_matrix(yk, S.argmax(axis=1)).ravel())\n"
    "print(' '.join(repr(float(v)) for v in out))\n";

static double s[N], p[N], yr[N], pr[N], S[N * K];
static uint8_t y[N], yk[N];

/* A fixed 64-bit LCG (Knuth's MMIX constants): the data do not depend on the C library. */
static uint64_t state = 12345;
static double unif(void)
{
	state = state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(state >> 11) / 9007199254740992.0;
}

static FILE *run_python(void)
{
	char csv[2048], path[2048], cmd[8192];
	FILE *f;

	for (size_t i = 0; i < N; i++) {
		double lp = 4.0 * unif() - 2.5;
		y[i] = (uint8_t)(unif() < 1.0 / (1.0 + exp(-(0.4 + 1.2 * lp))));
		s[i] = round((lp + 0.8 * unif()) * 100.0) / 100.0; /* many ties */
		p[i] = 1.0 / (1.0 + exp(-lp));
		pr[i] = 10.0 * unif();
		yr[i] = 1.0 + 0.9 * pr[i] + 2.0 * (unif() - 0.5);
		yk[i] = (uint8_t)(unif() * K);
		double tot = 0.0;
		for (size_t c = 0; c < K; c++)
			tot += S[i * K + c] = unif() + (c == yk[i] ? 0.4 : 0.0);
		for (size_t c = 0; c < K; c++) /* sklearn wants probabilities */
			S[i * K + c] /= tot;
	}
	snprintf(csv, sizeof(csv), "%s/golden_stats_sklearn.csv", FV_BUILD_DIR);
	f = fopen(csv, "w");
	cr_assert(f != NULL);
	for (size_t i = 0; i < N; i++) {
		fprintf(f, "%d,%.17g,%.17g,%.17g,%.17g,%d", y[i], s[i], p[i], yr[i], pr[i], yk[i]);
		for (size_t c = 0; c < K; c++)
			fprintf(f, ",%.17g", S[i * K + c]);
		fputc('\n', f);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/golden_stats_sklearn.py", FV_BUILD_DIR);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(script, f);
	fclose(f);
	cr_assert(access("/usr/bin/python3", X_OK) == 0,
		  "python3-sklearn not installed (deploy/install-deps.sh installs it)");
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -W ignore %s %s", path, csv);
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

/* ref is read once (it consumes the reference stream). */
static void eq(double x, double ref, double tol, const char *what)
{
	cr_assert_float_eq(x, ref, tol, "%s: %.15g vs reference %.15g", what, x, ref);
}
#define EQ(x, ref, tol) eq((x), (ref), (tol), #x)

static void check_curve(FILE *f, int quantile)
{
	struct fv_calib_bin b[NB];
	double ece, t[NB], q[NB], ece_ref = 0;
	size_t m = (size_t)next(f), k = 0;

	cr_assert_eq(fv_stats_calibration_curve(p, y, N, NB, quantile, b, NULL, &ece, NULL), FV_OK);
	for (size_t i = 0; i < m; i++)
		t[i] = next(f);
	for (size_t i = 0; i < m; i++)
		q[i] = next(f);
	for (size_t i = 0; i < NB; i++) {
		if (!b[i].n)
			continue;
		cr_assert(k < m);
		EQ(b[i].sum_y / (double)b[i].n, t[k], 1e-12);
		EQ(b[i].sum_p / (double)b[i].n, q[k], 1e-12);
		ece_ref += (double)b[i].n / N * fabs(t[k] - q[k]);
		k++;
	}
	cr_assert_eq(k, m, "non-empty bins: %zu vs %zu", k, m);
	EQ(ece, ece_ref, 1e-12);
}

Test(golden_stats, sklearn_binary_calibration_regression_multiclass, .timeout = 300)
{
	FILE *f = run_python();
	double ap, auprc, brier, auc[K], macro, micro;
	uint64_t cm[K * K];
	struct fv_calibration cal;
	struct fv_regression r;
	double sq = 0, sy = 0;

	cr_assert_eq(fv_stats_average_precision(s, y, N, &ap, &auprc, NULL), FV_OK);
	EQ(ap, next(f), 1e-12);
	EQ(auprc, next(f), 1e-12);
	cr_assert_eq(fv_stats_brier(p, y, N, &brier), FV_OK);
	EQ(brier, next(f), 1e-14);
	for (size_t i = 0; i < N; i++) {
		sq += (p[i] - y[i]) * (p[i] - y[i]);
		sy += y[i];
	}
	EQ(fv_stats_brier_scaled(N, sy, sq), next(f), 1e-12);
	check_curve(f, 0);
	check_curve(f, 1);
	cr_assert_eq(fv_stats_calibration(p, y, N, &cal, NULL), FV_OK);
	EQ(cal.intercept, next(f), 1e-8);
	EQ(cal.slope, next(f), 1e-8);
	EQ(cal.citl, next(f), 1e-10);
	cr_assert_eq(fv_stats_regression(pr, yr, N, &r, NULL), FV_OK);
	EQ(r.mae, next(f), 1e-13);
	EQ(r.rmse, next(f), 1e-13);
	EQ(r.r2, next(f), 1e-13);
	EQ(r.slope, next(f), 1e-12);
	EQ(r.intercept, next(f), 1e-12);
	cr_assert_eq(fv_stats_multiclass(S, yk, N, K, auc, &macro, &micro, cm, NULL), FV_OK);
	for (size_t c = 0; c < K; c++)
		EQ(auc[c], next(f), 1e-13);
	EQ(macro, next(f), 1e-13);
	EQ(micro, next(f), 1e-13);
	for (size_t i = 0; i < K * K; i++)
		eq((double)cm[i], next(f), 0.0, "confusion cell");
	cr_assert_eq(pclose(f), 0);
}
