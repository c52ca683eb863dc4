/* Tests lib/privacy/dp.c: the discrete Laplace and discrete Gaussian samplers against their
 * published distributions, the Gaussian calibration, and the noised result's consistency.
 * Draws come from a seeded generator (splitmix64) so that every run sees the same numbers;
 * tolerances are several standard errors of the estimates at these sample sizes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/privacy.h"

/* splitmix64 (Steele, Lea & Flood 2014): a small, well-mixed deterministic generator. */
static uint64_t splitmix(void *ctx)
{
	uint64_t *s = ctx, z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define DRAWS 400000

/* Discrete Laplace with scale b: P(x) = (1 - q)/(1 + q) q^|x|, q = e^(-1/b); mean 0, variance
 * 2q / (1 - q)^2 (Inusah & Kozubowski, "A discrete analogue of the Laplace distribution",
 * J. Stat. Plan. Inference 136 (2006) 1090-1102, §2). For b = 2:
 * q = 0.6065307, P(0) = 0.2449187, variance = 7.8353, P(|x| = 3) = 2 * 0.2449187 * q^3. */
Test(dp, discrete_laplace_matches_its_distribution)
{
	uint64_t seed = 1;
	struct fv_dp_rng r = {splitmix, &seed};
	double sum = 0, sum2 = 0;
	long zero = 0, three = 0;
	for (int i = 0; i < DRAWS; i++) {
		int64_t x = fv_dp_discrete_laplace(&r, 2.0);
		sum += (double)x;
		sum2 += (double)x * (double)x;
		zero += x == 0;
		three += x == 3 || x == -3;
	}
	double q = exp(-0.5), var = 2 * q / ((1 - q) * (1 - q)), p0 = (1 - q) / (1 + q);
	cr_assert_float_eq(var, 7.8353, 1e-4, "reference variance %f", var);
	cr_assert_float_eq(p0, 0.2449187, 1e-6);
	cr_assert(fabs(sum / DRAWS) < 0.02, "mean %f", sum / DRAWS);
	cr_assert(fabs(sum2 / DRAWS / var - 1) < 0.02, "variance %f vs %f", sum2 / DRAWS, var);
	cr_assert(fabs((double)zero / DRAWS - p0) < 0.003, "P(0) %f", (double)zero / DRAWS);
	cr_assert(fabs((double)three / DRAWS - 2 * p0 * q * q * q) < 0.003, "P(|x|=3) %f",
		  (double)three / DRAWS);
}

/* Discrete Gaussian N_Z(0, sigma^2): P(x) = exp(-x^2/(2 sigma^2)) / Σ_y exp(-y^2/(2 sigma^2)).
 * By Poisson summation the normaliser is sqrt(2π)σ (1 + 2 Σ_k exp(-2π²σ²k²)), i.e. sqrt(2π)·3
 * to a relative 1e-77 for sigma = 3, and the variance is below sigma^2 by as little
 * (Canonne, Kamath & Steinke, NeurIPS 2020, §2.1): P(0) = 0.1329808, variance 9. */
Test(dp, discrete_gaussian_matches_its_distribution)
{
	uint64_t seed = 2;
	struct fv_dp_rng r = {splitmix, &seed};
	double sum = 0, sum2 = 0;
	long zero = 0;
	for (int i = 0; i < DRAWS; i++) {
		int64_t x = fv_dp_discrete_gaussian(&r, 3.0);
		sum += (double)x;
		sum2 += (double)x * (double)x;
		zero += x == 0;
	}
	cr_assert(fabs(sum / DRAWS) < 0.02, "mean %f", sum / DRAWS);
	cr_assert(fabs(sum2 / DRAWS / 9.0 - 1) < 0.015, "variance %f", sum2 / DRAWS);
	cr_assert(fabs((double)zero / DRAWS - 0.1329808) < 0.002, "P(0) %f", (double)zero / DRAWS);
}

/* The calibration inverts Bun & Steinke's conversion (TCC 2016, Proposition 1.3): with
 * rho = Δ²/(2σ²), rho + 2 sqrt(rho ln(1/δ)) must give back epsilon; and a larger epsilon or
 * delta needs less noise. */
Test(dp, gaussian_calibration)
{
	const double eps[] = {0.1, 0.5, 1.0, 3.0}, del[] = {1e-9, 1e-6, 1e-3};
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 3; j++) {
			double s = fv_dp_gaussian_sigma(2.0, eps[i], del[j]);
			double rho = 4.0 / (2 * s * s);
			double back = rho + 2 * sqrt(rho * log(1 / del[j]));
			cr_assert_float_eq(back, eps[i], 1e-12 * eps[i], "eps %g delta %g", eps[i],
					   del[j]);
			if (i)
				cr_assert_lt(s, fv_dp_gaussian_sigma(2.0, eps[i - 1], del[j]));
			if (j)
				cr_assert_lt(s, fv_dp_gaussian_sigma(2.0, eps[i], del[j - 1]));
		}
}

static struct fv_dp_result sample_result(void)
{
	struct fv_dp_result x = {.n_pos = 300, .n_neg = 700, .n_thr = 3};
	const uint64_t tp[] = {290, 200, 40}, fp[] = {600, 150, 3};
	for (int t = 0; t < 3; t++) {
		x.tp[t] = tp[t];
		x.fp[t] = fp[t];
	}
	x.sum_p = 310.25;
	x.brier_sum = 160.5;
	return x;
}

/* Noised counts stay consistent (tp <= n_pos, fp <= n_neg, sums within [0, n]); they are
 * unbiased away from the bounds, and their spread follows the declared calibration. */
Test(dp, noised_result_is_consistent_and_calibrated)
{
	const enum fv_dp_mechanism mech[] = {FV_DP_LAPLACE, FV_DP_GAUSSIAN};
	for (int m = 0; m < 2; m++) {
		struct fv_dp_params p = {mech[m], 1.0, 1e-6};
		uint64_t seed = 3 + (uint64_t)m;
		struct fv_dp_rng r = {splitmix, &seed};
		struct fv_diag d = {{0}};
		double s1 = 0, s2 = 0, changed = 0;
		const int reps = 20000;
		for (int i = 0; i < reps; i++) {
			struct fv_dp_result x = sample_result();
			cr_assert_eq(fv_dp_noise_result(&p, &r, &x, &d), FV_OK, "%s", d.msg);
			for (uint32_t t = 0; t < x.n_thr; t++) {
				cr_assert_leq(x.tp[t], x.n_pos);
				cr_assert_leq(x.fp[t], x.n_neg);
			}
			cr_assert(x.sum_p >= 0 && x.sum_p <= (double)(x.n_pos + x.n_neg));
			cr_assert(x.brier_sum >= 0 && x.brier_sum <= (double)(x.n_pos + x.n_neg));
			double z = (double)x.n_pos - 300.0;
			s1 += z;
			s2 += z * z;
			changed += x.n_pos != 300;
		}
		/* Counts get epsilon/2 at L1 sensitivity 1 + 3 = 4 (Laplace scale 8), or the
		 * Gaussian sigma for L2 sensitivity 2 at (0.5, 1e-6). */
		double q = exp(-1.0 / 8.0), var = 2 * q / ((1 - q) * (1 - q));
		if (mech[m] == FV_DP_GAUSSIAN) {
			double s = fv_dp_gaussian_sigma(2.0, 0.5, 1e-6);
			var = s * s;
		}
		cr_assert(fabs(s1 / reps) < 0.1 * sqrt(var), "mean shift %f", s1 / reps);
		cr_assert(fabs(s2 / reps / var - 1) < 0.05, "variance %f vs %f", s2 / reps, var);
		cr_assert_gt(changed, reps * 0.8, "noise was rarely added");
	}
}

Test(dp, none_changes_nothing_and_bad_parameters_are_refused)
{
	uint64_t seed = 9;
	struct fv_dp_rng r = {splitmix, &seed};
	struct fv_diag d = {{0}};
	struct fv_dp_result x = sample_result(), y = x;
	struct fv_dp_params none = {FV_DP_NONE, 0, 0};
	cr_assert_eq(fv_dp_noise_result(&none, &r, &x, &d), FV_OK);
	cr_assert_eq(memcmp(&x, &y, sizeof(x)), 0);
	struct fv_dp_params bad[] = {{FV_DP_LAPLACE, 0.0, 0},
				     {FV_DP_LAPLACE, 11.0, 0},
				     {FV_DP_GAUSSIAN, 1.0, 0.0},
				     {FV_DP_GAUSSIAN, 1.0, 0.01},
				     {(enum fv_dp_mechanism)7, 1.0, 1e-6}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fv_dp_noise_result(&bad[i], &r, &x, &d), FV_EINVAL, "case %zu", i);
	x.tp[0] = 301; /* more true positives than events: not a result */
	struct fv_dp_params lap = {FV_DP_LAPLACE, 1.0, 0};
	cr_assert_eq(fv_dp_noise_result(&lap, &r, &x, &d), FV_EINVAL);
	enum fv_dp_mechanism m;
	cr_assert_eq(fv_dp_mechanism_parse("gaussian", &m), FV_OK);
	cr_assert_eq(m, FV_DP_GAUSSIAN);
	cr_assert_eq(fv_dp_mechanism_parse("Laplace", &m), FV_EINVAL);
}
