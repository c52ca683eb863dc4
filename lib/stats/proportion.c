/* Confidence intervals for a binomial proportion (Wilson score, Clopper–Pearson exact) and the
 * regularized incomplete beta function they rest on. */
#include "fedval/stats.h"

#include <float.h>
#include <math.h>

/* Continued fraction for I_x(a,b) (the even/odd terms of the classical expansion), evaluated
 * by the modified Lentz method. Converges quickly for x < (a+1)/(a+b+2); the number of terms
 * grows like sqrt(max(a,b)), so the cap is generous enough for n in the hundreds of millions. */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double qab = a + b, qap = a + 1.0, qam = a - 1.0;
	double cc = 1.0, dd = 1.0 - qab * x / qap, h;

	if (fabs(dd) < tiny)
		dd = tiny;
	dd = 1.0 / dd;
	h = dd;
	for (long m = 1; m <= 2000000; m++) {
		double m2 = 2.0 * (double)m, aa, del;

		aa = (double)m * (b - (double)m) * x / ((qam + m2) * (a + m2));
		dd = 1.0 + aa * dd;
		if (fabs(dd) < tiny)
			dd = tiny;
		cc = 1.0 + aa / cc;
		if (fabs(cc) < tiny)
			cc = tiny;
		dd = 1.0 / dd;
		h *= dd * cc;
		aa = -(a + (double)m) * (qab + (double)m) * x / ((a + m2) * (qap + m2));
		dd = 1.0 + aa * dd;
		if (fabs(dd) < tiny)
			dd = tiny;
		cc = 1.0 + aa / cc;
		if (fabs(cc) < tiny)
			cc = tiny;
		dd = 1.0 / dd;
		del = dd * cc;
		h *= del;
		if (fabs(del - 1.0) < 4.0 * DBL_EPSILON)
			break;
	}
	return h;
}

/* lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), the Stirling remainder, by its
 * asymptotic series through x^-13; for x >= 10 the omitted terms are below 1e-15. */
static double stirling_delta(double x)
{
	double r = 1.0 / (x * x);
	return (1.0 / 12.0 -
		r * (1.0 / 360.0 -
		     r * (1.0 / 1260.0 -
			  r * (1.0 / 1680.0 -
			       r * (1.0 / 1188.0 - r * (691.0 / 360360.0 - r / 156.0)))))) /
	       x;
}

/* log B(a, b). Computing lgamma(a) + lgamma(b) - lgamma(a + b) directly loses about
 * log10(b lg b) digits to cancellation when b is large (1e-7 relative at b = 5e7), which
 * would show in Clopper–Pearson bounds for large n; the Stirling forms below cancel the large
 * terms analytically. lgamma_r (not lgamma) because lgamma writes the global signgam. */
static double lbeta(double a, double b)
{
	double p = fmin(a, b), q = fmax(a, b), lq;
	int s;

	if (q < 10.0)
		return lgamma_r(p, &s) + lgamma_r(q, &s) - lgamma_r(p + q, &s);
	lq = log1p(-p / (p + q)); /* log(q / (p + q)) */
	if (p < 10.0)
		return lgamma_r(p, &s) + (q - 0.5) * lq - p * log(p + q) + p + stirling_delta(q) -
		       stirling_delta(p + q);
	return (p - 0.5) * log(p / (p + q)) + q * lq - 0.5 * log(q) + 0.5 * log(2.0 * M_PI) +
	       stirling_delta(p) + stirling_delta(q) - stirling_delta(p + q);
}

double fv_stats_pbeta(double x, double a, double b)
{
	double lfront;

	if (isnan(x) || isnan(a) || isnan(b) || !(a > 0.0) || !(b > 0.0))
		return NAN;
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	lfront = a * log(x) + b * log1p(-x) - lbeta(a, b);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lfront) * betacf(a, b, x) / a;
	/* Symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges fast. */
	return 1.0 - exp(lfront) * betacf(b, a, 1.0 - x) / b;
}

double fv_stats_qbeta(double p, double a, double b)
{
	double lo = 0.0, hi = 1.0;

	if (isnan(p) || p < 0.0 || p > 1.0 || !(a > 0.0) || !(b > 0.0))
		return NAN;
	if (p == 0.0)
		return 0.0;
	if (p == 1.0)
		return 1.0;
	/* Bisection: I_x(a,b) is increasing in x. Stop at adjacent doubles or a relative width of
	 * 1e-15, whichever first; the cap only guards against a bug (2^-1100 < DBL_TRUE_MIN). */
	for (int it = 0; it < 1100; it++) {
		double mid = 0.5 * (lo + hi);
		if (mid <= lo || mid >= hi || hi - lo <= 1e-15 * hi)
			break;
		if (fv_stats_pbeta(mid, a, b) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* Two-sided level conf as a tail probability alpha/2; a bad conf gives NaN. */
static double half_alpha(double conf)
{
	if (!(conf > 0.0 && conf < 1.0))
		return NAN;
	return 0.5 * (1.0 - conf);
}

void fv_stats_wilson(uint64_t x, uint64_t n, double conf, double *lo, double *hi)
{
	double z, z2, nn, xx, centre, half;
	double ha = half_alpha(conf);

	if (isnan(ha) || x > n) {
		*lo = *hi = NAN;
		return;
	}
	if (n == 0) {
		*lo = 0.0;
		*hi = 1.0;
		return;
	}
	z = fv_stats_qnorm(1.0 - ha);
	z2 = z * z;
	nn = (double)n;
	xx = (double)x;
	centre = (xx + z2 / 2.0) / (nn + z2);
	half = z * sqrt(xx * (nn - xx) / nn + z2 / 4.0) / (nn + z2);
	/* At x == 0 (x == n) the bound is exactly 0 (1); do not let rounding move it. */
	*lo = x == 0 ? 0.0 : fmax(0.0, centre - half);
	*hi = x == n ? 1.0 : fmin(1.0, centre + half);
}

/* Lower exact bound: the p with P(X >= x | n, p) = alpha/2, i.e. the alpha/2 quantile of
 * Beta(x, n - x + 1). */
static double cp_lower(uint64_t x, uint64_t n, double ha)
{
	if (x == 0)
		return 0.0;
	return fv_stats_qbeta(ha, (double)x, (double)(n - x) + 1.0);
}

void fv_stats_clopper_pearson(uint64_t x, uint64_t n, double conf, double *lo, double *hi)
{
	double ha = half_alpha(conf);

	if (isnan(ha) || x > n) {
		*lo = *hi = NAN;
		return;
	}
	if (n == 0) {
		*lo = 0.0;
		*hi = 1.0;
		return;
	}
	*lo = cp_lower(x, n, ha);
	/* The upper bound for x is one minus the lower bound for the n - x failures; solving it in
	 * that form avoids computing 1 - I near 1. */
	*hi = 1.0 - cp_lower(n - x, n, ha);
}
