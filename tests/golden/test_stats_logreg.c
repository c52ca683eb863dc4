/* Golden test: logistic regression against an independent implementation, scikit-learn's
 * LogisticRegression (solver newton-cg, tol 1e-12), run at test time with Debian's
 * /usr/bin/python3 (python3-sklearn) on the Wisconsin diagnostic breast cancer data shipped
 * with scikit-learn (datasets/data/breast_cancer.csv: first line "569,30,malignant,benign",
 * then 30 features and the 0/1 target). Features 0,1,4,7 (mean radius, mean texture, mean
 * smoothness, mean concave points) are not separable, so the unpenalised MLE exists.
 * sklearn's objective with C is 1/2 |w|^2 + C * sum(logloss), i.e. ours with lambda = 1/C.
 * Skipped when Python or scikit-learn is not installed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/stats.h"

#define CSV  "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
#define NCOL 4
static const int cols[NCOL] = {0, 1, 4, 7};

static const char script[] =
    "import sys, numpy as np\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "d = np.loadtxt('" CSV "', delimiter=',', skiprows=1)\n"
    "X, y = d[:, [0, 1, 4, 7]], d[:, 30]\n"
    "for kw in (dict(penalty=None), dict(C=1.0), dict(C=0.01)):\n"
    "    m = LogisticRegression(solver='newton-cg', tol=1e-12, max_iter=10000, **kw).fit(X, y)\n"
    "    print(repr(m.intercept_[0]), ' '.join(repr(v) for v in m.coef_[0]))\n";

static size_t load(double **x, uint8_t **y)
{
	FILE *f = fopen(CSV, "r");
	char line[8192];
	size_t n = 0;

	cr_assert(f != NULL);
	cr_assert(fgets(line, sizeof(line), f) != NULL); /* "569,30,malignant,benign" */
	*x = malloc(569 * NCOL * sizeof(double));
	*y = malloc(569);
	while (n < 569 && fgets(line, sizeof(line), f)) {
		char *p = line;
		double v[31];
		for (int j = 0; j < 31; j++) {
			v[j] = strtod(p, &p);
			if (*p == ',')
				p++;
		}
		for (int j = 0; j < NCOL; j++)
			(*x)[n * NCOL + j] = v[cols[j]];
		(*y)[n++] = (uint8_t)v[30];
	}
	fclose(f);
	return n;
}

Test(golden_stats, logreg_matches_sklearn_breast_cancer, .timeout = 300)
{
	static const double lambdas[3] = {0.0, 1.0, 100.0}; /* C = inf, 1, 0.01 */
	/* Newton-CG at tol 1e-12 still stops a little short of the unpenalised
	 * optimum (coefficients near 50 in size), hence the looser first tolerance. */
	static const double rtol[3] = {1e-6, 1e-8, 1e-8};
	char path[4096], cmd[8192];
	double *x, ref[NCOL + 1], coef[NCOL], b;
	uint8_t *y;
	FILE *f, *py;
	struct fv_diag d = {{0}};

	/* Installed by deploy/install-deps.sh: a missing reference is a failure, not a skip. */
	cr_assert(access(CSV, R_OK) == 0 && access("/usr/bin/python3", X_OK) == 0,
		  "python3-sklearn not installed (deploy/install-deps.sh installs it)");
	snprintf(path, sizeof(path), "%s/golden_stats_logreg.py", FV_BUILD_DIR);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(script, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -W ignore %s", path);
	py = popen(cmd, "r");
	cr_assert(py != NULL);
	cr_assert_eq(load(&x, &y), 569);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(
		    fscanf(py, "%lf %lf %lf %lf %lf", &ref[0], &ref[1], &ref[2], &ref[3], &ref[4]),
		    5, "sklearn produced no output");
		cr_assert_eq(fv_stats_logreg_fit(x, y, 569, NCOL, lambdas[k], coef, &b, &d), FV_OK,
			     "%s", d.msg);
		cr_assert_float_eq(b, ref[0], rtol[k] * fabs(ref[0]),
				   "lambda %g intercept %.12g vs %.12g", lambdas[k], b, ref[0]);
		for (int j = 0; j < NCOL; j++)
			cr_assert_float_eq(coef[j], ref[j + 1], rtol[k] * fabs(ref[j + 1]),
					   "lambda %g coef %d %.12g vs %.12g", lambdas[k], j,
					   coef[j], ref[j + 1]);
	}
	cr_assert_eq(pclose(py), 0);
	free(x);
	free(y);
}
