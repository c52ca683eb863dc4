/* Tests for lib/stats/newton.c: Newton rounds over three "sites" reach the pooled fit to 1e-9,
 * and the pooled fit equals fv_stats_logreg_fit on the same design. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "fedval/stats.h"

#define N 3000

static void make(double *p, uint8_t *y, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < N; i++) {
		double lp = 3.0 * ((double)rand() / RAND_MAX) - 2.0; /* model's logit */
		double truth = 1.0 / (1.0 + exp(-(0.3 + 0.7 * lp))); /* miscalibrated */
		p[i] = 1.0 / (1.0 + exp(-lp));
		y[i] = (uint8_t)((double)rand() / RAND_MAX < truth);
	}
}

/* Runs the rounds with the records split at cut[0..nsite) boundaries. */
static void fit(const double *p, const uint8_t *y, const size_t *cut, size_t nsite, double *beta,
		int *rounds)
{
	struct fv_newton s;
	fv_stats_newton_init(&s, 2, NULL, 1e-14);
	for (int r = 0; r < 100 && !s.converged; r++) {
		struct fv_newton_site sum, site;
		size_t lo = 0;
		for (size_t k = 0; k < nsite; k++) {
			cr_assert_eq(fv_stats_newton_site_recal(p + lo, y + lo, cut[k] - lo, s.beta,
								&site, NULL),
				     FV_OK);
			if (k == 0)
				sum = site;
			else
				cr_assert_eq(fv_stats_newton_site_add(&sum, &site), FV_OK);
			lo = cut[k];
		}
		cr_assert_eq(sum.n, N);
		cr_assert_eq(fv_stats_newton_update(&s, &sum, NULL), FV_OK);
	}
	cr_assert(s.converged);
	beta[0] = s.beta[0];
	beta[1] = s.beta[1];
	*rounds = s.rounds;
}

Test(newton, three_sites_equal_pooled_fit)
{
	static double p[N], lp[N];
	static uint8_t y[N];
	size_t three[3] = {700, 1900, N}, one[1] = {N};
	double fed[2], pooled[2], coef, icpt;
	int r1, r2;

	make(p, y, 11);
	fit(p, y, three, 3, fed, &r1);
	fit(p, y, one, 1, pooled, &r2);
	cr_assert_float_eq(fed[0], pooled[0], 1e-9);
	cr_assert_float_eq(fed[1], pooled[1], 1e-9);
	cr_assert(r1 < 20, "%d rounds", r1);
	/* And the same as the IRLS fit of y on logit(p). */
	for (size_t i = 0; i < N; i++)
		lp[i] = log(p[i] / (1 - p[i]));
	cr_assert_eq(fv_stats_logreg_fit(lp, y, N, 1, 0.0, &coef, &icpt, NULL), FV_OK);
	cr_assert_float_eq(fed[0], icpt, 1e-9, "%.15g %.15g", fed[0], icpt);
	cr_assert_float_eq(fed[1], coef, 1e-9, "%.15g %.15g", fed[1], coef);
	cr_assert(fabs(fed[1] - 0.7) < 0.15 && fabs(fed[0] - 0.3) < 0.2);
}

Test(newton, general_design_with_offset_and_halving)
{
	static double x[N * 2], off[N], p[N];
	static uint8_t y[N];
	struct fv_newton s;
	double start[2] = {8.0, -8.0}; /* far away: forces step halving */
	make(p, y, 5);
	for (size_t i = 0; i < N; i++) {
		x[2 * i] = 1.0;
		x[2 * i + 1] = (double)(i % 7) - 3.0;
		off[i] = log(p[i] / (1 - p[i]));
	}
	fv_stats_newton_init(&s, 2, start, 1e-14);
	for (int r = 0; r < 200 && !s.converged; r++) {
		struct fv_newton_site a, b;
		cr_assert_eq(fv_stats_newton_site(x, off, y, N / 2, 2, s.beta, &a, NULL), FV_OK);
		cr_assert_eq(fv_stats_newton_site(x + N, off + N / 2, y + N / 2, N - N / 2, 2,
						  s.beta, &b, NULL),
			     FV_OK);
		cr_assert_eq(fv_stats_newton_site_add(&a, &b), FV_OK);
		cr_assert_eq(fv_stats_newton_update(&s, &a, NULL), FV_OK);
	}
	cr_assert(s.converged);
	/* At the optimum the gradient vanishes. */
	{
		struct fv_newton_site g;
		cr_assert_eq(fv_stats_newton_site(x, off, y, N, 2, s.beta, &g, NULL), FV_OK);
		cr_assert(fabs(g.g[0]) < 1e-8 && fabs(g.g[1]) < 1e-8, "%g %g", g.g[0], g.g[1]);
	}
}

Test(newton, singular_and_bad_input)
{
	double x[4] = {1, 0, 1, 0}, beta[2] = {0, 0};
	uint8_t y[2] = {0, 1}, bad[2] = {0, 2};
	struct fv_newton_site a, b = {.k = 3};
	struct fv_newton s;
	cr_assert_eq(fv_stats_newton_site(x, NULL, y, 2, 2, beta, &a, NULL), FV_OK);
	fv_stats_newton_init(&s, 2, NULL, 0);
	cr_assert_eq(fv_stats_newton_update(&s, &a, NULL), FV_EINVAL); /* column of zeros */
	cr_assert_eq(fv_stats_newton_site(x, NULL, bad, 2, 2, beta, &a, NULL), FV_EINVAL);
	cr_assert_eq(fv_stats_newton_site(x, NULL, y, 2, FV_NEWTON_MAXK + 1, beta, &a, NULL),
		     FV_EINVAL);
	a.k = 2;
	cr_assert_eq(fv_stats_newton_site_add(&a, &b), FV_EINVAL);
}
