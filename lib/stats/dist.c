/* Student t and chi-square distribution functions, built on the regularized incomplete beta
 * (proportion.c) and a regularized incomplete gamma below. */
#include "fedval/stats.h"

#include <float.h>
#include <math.h>

double fv_stats_pt(double t, double df)
{
	double tail;

	if (isnan(t) || !(df > 0.0))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1.0 : 0.0;
	/* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2). */
	tail = 0.5 * fv_stats_pbeta(df / (df + t * t), 0.5 * df, 0.5);
	return t > 0 ? 1.0 - tail : tail;
}

double fv_stats_qt(double p, double df)
{
	double x, t;

	if (isnan(p) || p < 0.0 || p > 1.0 || !(df > 0.0))
		return NAN;
	if (p == 0.0)
		return -INFINITY;
	if (p == 1.0)
		return INFINITY;
	if (p == 0.5)
		return 0.0;
	/* Invert the two-sided tail: 2 min(p, 1-p) = I_x(df/2, 1/2), t^2 = df (1-x)/x. */
	x = fv_stats_qbeta(2.0 * fmin(p, 1.0 - p), 0.5 * df, 0.5);
	t = sqrt(df * (1.0 - x) / x);
	return p < 0.5 ? -t : t;
}

/* Regularized upper incomplete gamma Q(a, x): series for P when x < a + 1, else the
 * continued fraction (modified Lentz) for Q. */
static double gamma_q(double a, double x)
{
	int sg;
	double lfront = a * log(x) - x - lgamma_r(a, &sg);

	if (x < a + 1.0) {
		double sum = 1.0 / a, term = sum, ap = a;
		for (int n = 0; n < 100000; n++) {
			ap += 1.0;
			term *= x / ap;
			sum += term;
			if (fabs(term) < fabs(sum) * DBL_EPSILON)
				break;
		}
		return 1.0 - sum * exp(lfront);
	} else {
		const double tiny = 1e-300;
		double b = x + 1.0 - a, c = 1.0 / tiny, dd = 1.0 / b, h = dd;
		for (int i = 1; i < 100000; i++) {
			double an = -i * (i - a), del;
			b += 2.0;
			dd = an * dd + b;
			if (fabs(dd) < tiny)
				dd = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			dd = 1.0 / dd;
			del = dd * c;
			h *= del;
			if (fabs(del - 1.0) < DBL_EPSILON)
				break;
		}
		return exp(lfront) * h;
	}
}

double fv_stats_pchisq_upper(double x, double df)
{
	if (isnan(x) || !(df > 0.0))
		return NAN;
	if (x <= 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	return gamma_q(0.5 * df, 0.5 * x);
}
