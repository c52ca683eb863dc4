/* fedval monitor check, input drift of each variable: the site's dataset summary bound to its
 * signed result (report field sites[i].data_summary, docs/data-summary.md) in each period
 * against the baseline period's. Per (site, variable): the standardized mean difference and
 * the z test of the means (fv_stats_smd) from the summaries' winsorised mean, sd and valid
 * count; p-values Holm-adjusted across the period's (site, variable) tests. Stop criterion as
 * for the case mix: the first period with |SMD| >= the limit and adjusted p < alpha raises an
 * alert. Variables are matched by name (the site's column names). docs/monitoring.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

/* Variables followed per site: a summary lists at most this many (docs/data-summary.md). */
#define VAR_MAX_PER_SITE 512

struct var_key {
	const char *site, *var;
};

struct mon_vars {
	size_t np, n;
	struct var_key *s;
	struct fv_psi *r; /* [q * np + t]: psi = |SMD|, p = the z test's p (fv_stats_mix_alarms) */
	double *smd, *p_holm;
	int *ok;
	size_t *alarm;
	double limit, alpha;
};

static const json_t *summary_var(const json_t *site, const char *name)
{
	size_t i;
	json_t *v;
	if (!site || !json_is_true(json_object_get(site, "verified")))
		return NULL;
	json_array_foreach(json_object_get(json_object_get(site, "data_summary"), "variables"), i,
			   v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

/* mean, sd and valid count of a summary variable; false when any is withheld (null). */
static bool moments(const json_t *v, double *m, double *s, double *n)
{
	const json_t *jm = json_object_get(v, "mean"), *js = json_object_get(v, "sd"),
		     *jn = json_object_get(v, "n_valid");
	if (!json_is_number(jm) || !json_is_number(js) || !json_is_integer(jn))
		return false;
	*m = json_number_value(jm);
	*s = json_number_value(js);
	*n = (double)json_integer_value(jn);
	return true;
}

void mon_vars_free(struct mon_vars *M)
{
	if (!M)
		return;
	fv_free(M->s);
	fv_free(M->r);
	fv_free(M->smd);
	fv_free(M->p_holm);
	fv_free(M->ok);
	fv_free(M->alarm);
	fv_free(M);
}

fv_err mon_vars_analyse(json_t *const *rep, size_t np, double limit, double alpha,
			struct mon_vars **out, struct fv_diag *d)
{
	struct mon_vars *M = fv_calloc(1, sizeof(*M));
	size_t i, j, cap = 0;
	json_t *s, *v;
	fv_err e = FV_OK;

	*out = NULL;
	if (!M)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	M->np = np;
	M->limit = limit;
	M->alpha = alpha;
	/* Series: every (site, variable) of the baseline's summaries. */
	json_array_foreach(json_object_get(rep[0], "sites"), i, s)
	{
		const char *site = json_string_value(json_object_get(s, "node"));
		const json_t *vars =
		    json_object_get(json_object_get(s, "data_summary"), "variables");
		if (!site || json_array_size(vars) > VAR_MAX_PER_SITE)
			continue;
		json_array_foreach(vars, j, v)
		{
			const char *name = json_string_value(json_object_get(v, "name"));
			if (!name)
				continue;
			if (M->n == cap) {
				cap = cap ? 2 * cap : 64;
				struct var_key *ns = fv_realloc(M->s, cap * sizeof(*ns));
				if (!ns) {
					e = fv_diag_set(d, FV_ENOMEM, "out of memory");
					goto out;
				}
				M->s = ns;
			}
			M->s[M->n++] = (struct var_key){site, name};
		}
	}
	size_t cells = M->n * np + 1;
	M->r = fv_calloc(cells, sizeof(*M->r));
	M->smd = fv_calloc(cells, sizeof(*M->smd));
	M->p_holm = fv_calloc(cells, sizeof(*M->p_holm));
	M->ok = fv_calloc(cells, sizeof(*M->ok));
	M->alarm = fv_calloc(M->n + 1, sizeof(*M->alarm));
	if (!M->r || !M->smd || !M->p_holm || !M->ok || !M->alarm) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t q = 0; q < M->n; q++) {
		double m0, s0, n0, m1, s1, n1;
		const json_t *b = summary_var(mon_find_site(rep[0], M->s[q].site), M->s[q].var);
		if (!b || !moments(b, &m0, &s0, &n0))
			continue;
		for (size_t t = 1; t < np; t++) {
			size_t x = q * np + t;
			const json_t *c =
			    summary_var(mon_find_site(rep[t], M->s[q].site), M->s[q].var);
			double p;
			M->ok[x] = c && moments(c, &m1, &s1, &n1) &&
				   fv_stats_smd(m0, s0, n0, m1, s1, n1, &M->smd[x], &p) == FV_OK;
			if (M->ok[x])
				M->r[x] = (struct fv_psi){.psi = fabs(M->smd[x]), .p = p};
		}
	}
	if ((e = fv_stats_mix_alarms(M->r, M->ok, M->n, np, limit, alpha, M->p_holm, M->alarm)) !=
	    FV_OK) {
		fv_diag_set(d, e, "variable drift: out of memory");
		goto out;
	}
	*out = M;
	M = NULL;
out:
	mon_vars_free(M);
	return e;
}

/* Only the series with a comparison in some period are shown (a site without summaries has
 * none). */
static bool compared(const struct mon_vars *M, size_t q)
{
	for (size_t t = 1; t < M->np; t++)
		if (M->ok[q * M->np + t])
			return true;
	return false;
}

void mon_vars_print(const struct mon_vars *M)
{
	size_t shown = 0;
	for (size_t q = 0; q < M->n; q++)
		shown += compared(M, q);
	if (!shown) {
		printf("input variables: no dataset summaries bound to the results in both the "
		       "baseline and a later period: not monitored\n\n");
		return;
	}
	printf("input variables (dataset summaries bound to the results: standardized mean "
	       "difference, z test of the means,\np Holm-adjusted across the period's tests; "
	       "alert: |SMD| >= %g and p < %g)\n",
	       M->limit, M->alpha);
	printf("%6s  %-20s  %-22s %8s %10s  %s\n", "period", "site", "variable", "SMD", "p (Holm)",
	       "");
	for (size_t t = 1; t < M->np; t++)
		for (size_t q = 0; q < M->n; q++) {
			size_t x = q * M->np + t;
			if (!compared(M, q))
				continue;
			const char *note = M->alarm[q] == t  ? "ALARM"
					   : M->alarm[q] < t ? "(alarm raised earlier)"
					   : !M->ok[x]	     ? "missing"
							     : "";
			if (!M->ok[x])
				printf("%6zu  %-20.20s  %-22.22s %8s %10s  %s\n", t, M->s[q].site,
				       M->s[q].var, "-", "-", note);
			else
				printf("%6zu  %-20.20s  %-22.22s %8.3f %10.3g  %s\n", t,
				       M->s[q].site, M->s[q].var, M->smd[x], M->p_holm[x], note);
		}
	putchar('\n');
}

json_t *mon_vars_json(const struct mon_vars *M, json_t *alerts)
{
	json_t *out = json_array();
	for (size_t q = 0; q < M->n; q++) {
		json_t *pts = json_pack("[{s:i,s:b}]", "period", 0, "baseline", 1),
		       *al = json_null();
		if (!compared(M, q)) {
			json_decref(pts);
			continue;
		}
		for (size_t t = 1; t < M->np; t++) {
			size_t x = q * M->np + t;
			json_t *pt =
			    json_pack("{s:I,s:b}", "period", (json_int_t)t, "missing", !M->ok[x]);
			if (M->ok[x])
				json_object_update_new(pt, json_pack("{s:f,s:f,s:f}", "smd",
								     M->smd[x], "p", M->r[x].p,
								     "p_holm", M->p_holm[x]));
			json_array_append_new(pts, pt);
		}
		if (M->alarm[q] < M->np) {
			char metric[FV_MAX_NAME + 8];
			fv_fmt(metric, sizeof(metric), "variable:%s", M->s[q].var);
			al = json_pack("{s:I}", "period", (json_int_t)M->alarm[q]);
			json_array_append_new(alerts, json_pack("{s:s,s:s,s:I,s:s}", "site",
								M->s[q].site, "metric", metric,
								"period", (json_int_t)M->alarm[q],
								"direction", "shift"));
		}
		json_array_append_new(out, json_pack("{s:s,s:s,s:o,s:o}", "site", M->s[q].site,
						     "variable", M->s[q].var, "alarm", al, "points",
						     pts));
	}
	return out;
}

int mon_vars_alerts(const struct mon_vars *M, FILE *f)
{
	int n = 0;
	for (size_t q = 0; q < M->n; q++) {
		if (M->alarm[q] >= M->np)
			continue;
		size_t x = q * M->np + M->alarm[q];
		fprintf(f,
			"ALERT: %s variable:%s drift at period %zu (shift: SMD %.3f, |SMD| >= %g, "
			"p (Holm) %.3g < %g)\n",
			M->s[q].site, M->s[q].var, M->alarm[q], M->smd[x], M->limit, M->p_holm[x],
			M->alpha);
		n++;
	}
	return n;
}
