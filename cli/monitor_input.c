/* fedval monitor check, input drift: each site's case mix over the benchmark's subgroups
 * (sex, age band, scanner, ...) in each period against the baseline period, from the released
 * category counts of the signed site results (report field sites[i].subgroups).
 *
 * Per (site, subgroup) and period: PSI and the chi-square test of homogeneity over the
 * categories released in both periods plus one remainder bin (fv_stats_mix_shift); p-values
 * Holm-adjusted across the period's (site, subgroup) tests. Stop criterion: the first period
 * where PSI >= the PSI limit (a major shift by the usual reading) and the adjusted p < alpha
 * (the shift is not sampling noise) raises an alert. docs/monitoring.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/limits.h"
#include "fedval/stats.h"
#include "fedval/util.h"

/* Subgroups followed per site: the benchmark declares a handful. */
#define MIX_MAX_SUBGROUPS 32

/* Series q = (site, subgroup); period t of it at [q * np + t]. */
struct mix_key {
	const char *site, *subgroup;
};

struct mon_inputs {
	size_t np, n;
	struct mix_key *s;
	struct fv_psi *r;
	int *ok;
	size_t *kept, *alarm;
	double *p_holm;
	double psi_limit, alpha;
};

static bool site_ok(const json_t *s)
{
	const char *st = json_string_value(json_object_get(s, "status"));
	return json_is_true(json_object_get(s, "verified")) && st && !strcmp(st, "ok") &&
	       json_integer_value(json_object_get(s, "n")) > 0;
}

/* The categories of subgroup sub released by site s; the count of them, or -1 when the site
 * has no usable result or did not report the subgroup at all. */
static int mix_cells(const json_t *s, const char *sub, struct fv_mix_cell *out, uint64_t *total)
{
	size_t i, k = 0;
	json_t *c;
	bool seen = false;

	if (!s || !site_ok(s))
		return -1;
	*total = (uint64_t)json_integer_value(json_object_get(s, "n"));
	json_array_foreach(json_object_get(s, "subgroups"), i, c)
	{
		const char *g = json_string_value(json_object_get(c, "subgroup"));
		const char *cat = json_string_value(json_object_get(c, "category"));
		if (!g || !cat || strcmp(g, sub) != 0)
			continue;
		seen = true;
		/* a coarsened site's merged category changes make-up between periods: it counts
		 * in the remainder */
		if (json_is_true(json_object_get(c, "suppressed")) || !strcmp(cat, "(merged)") ||
		    !json_is_integer(json_object_get(c, "n")) || k == FV_MAX_MIX_CATEGORIES)
			continue;
		json_int_t n = json_integer_value(json_object_get(c, "n"));
		out[k++] = (struct fv_mix_cell){cat, n > 0 ? (uint64_t)n : 0};
	}
	return seen ? (int)k : -1;
}

static fv_err add_series(struct mon_inputs *M, const char *site, const char *sub, struct fv_diag *d)
{
	for (size_t q = 0; q < M->n; q++)
		if (!strcmp(M->s[q].site, site) && !strcmp(M->s[q].subgroup, sub))
			return FV_OK;
	if (M->n == FV_MAX_REPORT_SITES * MIX_MAX_SUBGROUPS)
		return fv_diag_set(d, FV_EINVAL, "%s: more than %d subgroups per site", site,
				   MIX_MAX_SUBGROUPS);
	struct mix_key *ns = fv_realloc(M->s, (M->n + 1) * sizeof(*ns));
	if (!ns)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	M->s = ns;
	ns[M->n++] = (struct mix_key){site, sub};
	return FV_OK;
}

void mon_inputs_free(struct mon_inputs *M)
{
	if (!M)
		return;
	fv_free(M->s);
	fv_free(M->r);
	fv_free(M->ok);
	fv_free(M->kept);
	fv_free(M->alarm);
	fv_free(M->p_holm);
	fv_free(M);
}

fv_err mon_inputs_analyse(json_t *const *rep, size_t np, double psi_limit, double alpha,
			  struct mon_inputs **out, struct fv_diag *d)
{
	struct mon_inputs *M = fv_calloc(1, sizeof(*M));
	struct fv_mix_cell *b = fv_calloc(FV_MAX_MIX_CATEGORIES, sizeof(*b));
	struct fv_mix_cell *c = fv_calloc(FV_MAX_MIX_CATEGORIES, sizeof(*c));
	fv_err e = FV_OK;
	size_t i, j;
	json_t *s, *g;

	*out = NULL;
	if (!M || !b || !c) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	M->np = np;
	M->psi_limit = psi_limit;
	M->alpha = alpha;
	/* Series: every (site, subgroup) of the baseline. */
	json_array_foreach(json_object_get(rep[0], "sites"), i, s)
	{
		const char *site = json_string_value(json_object_get(s, "node"));
		if (!site || !site_ok(s))
			continue;
		json_array_foreach(json_object_get(s, "subgroups"), j, g)
		{
			const char *sub = json_string_value(json_object_get(g, "subgroup"));
			if (sub && (e = add_series(M, site, sub, d)) != FV_OK)
				goto out;
		}
	}
	size_t cells = M->n * np + 1;
	M->r = fv_calloc(cells, sizeof(*M->r));
	M->ok = fv_calloc(cells, sizeof(*M->ok));
	M->kept = fv_calloc(cells, sizeof(*M->kept));
	M->p_holm = fv_calloc(cells, sizeof(*M->p_holm));
	M->alarm = fv_calloc(M->n + 1, sizeof(*M->alarm));
	if (!M->r || !M->ok || !M->kept || !M->p_holm || !M->alarm) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t q = 0; q < M->n; q++) {
		uint64_t bt = 0, ct = 0;
		int nb = mix_cells(mon_find_site(rep[0], M->s[q].site), M->s[q].subgroup, b, &bt);
		for (size_t t = 1; t < np && nb >= 0; t++) {
			int nc = mix_cells(mon_find_site(rep[t], M->s[q].site), M->s[q].subgroup, c,
					   &ct);
			size_t x = q * np + t;
			M->ok[x] =
			    nc >= 0 && fv_stats_mix_shift(b, (size_t)nb, bt, c, (size_t)nc, ct, 5,
							  &M->r[x], &M->kept[x], NULL) == FV_OK;
		}
	}
	if ((e = fv_stats_mix_alarms(M->r, M->ok, M->n, np, psi_limit, alpha, M->p_holm,
				     M->alarm)) != FV_OK) {
		fv_diag_set(d, e, "input drift: out of memory");
		goto out;
	}
	*out = M;
	M = NULL;
out:
	mon_inputs_free(M);
	fv_free(b);
	fv_free(c);
	return e;
}

void mon_inputs_print(const struct mon_inputs *M)
{
	if (!M->n) {
		printf("input case mix: no subgroup counts in the baseline report: not "
		       "monitored\n\n");
		return;
	}
	printf("input case mix per subgroup (PSI over the categories released in both periods "
	       "and the rest;\nchi-square test of homogeneity, p Holm-adjusted across the "
	       "period's tests; alert: PSI >= %g and p < %g)\n",
	       M->psi_limit, M->alpha);
	printf("%6s  %-20s  %-14s %6s %8s %9s %4s %10s  %s\n", "period", "site", "subgroup", "bins",
	       "PSI", "chi2", "df", "p (Holm)", "");
	for (size_t t = 1; t < M->np; t++)
		for (size_t q = 0; q < M->n; q++) {
			const struct mix_key *S = &M->s[q];
			size_t x = q * M->np + t;
			const struct fv_psi *P = &M->r[x];
			const char *note = M->alarm[q] == t  ? "ALARM"
					   : M->alarm[q] < t ? "(alarm raised earlier)"
					   : !M->ok[x]	     ? "missing"
							     : "";
			if (!M->ok[x]) {
				printf("%6zu  %-20.20s  %-14.14s %6s %8s %9s %4s %10s  %s\n", t,
				       S->site, S->subgroup, "-", "-", "-", "-", "-", note);
				continue;
			}
			char chi[16] = "-", df[8] = "-", ph[16] = "-";
			if (isfinite(P->chi2)) {
				fv_fmt(chi, sizeof(chi), "%.2f", P->chi2);
				fv_fmt(df, sizeof(df), "%.0f", P->df);
				fv_fmt(ph, sizeof(ph), "%.3g", M->p_holm[x]);
			}
			printf("%6zu  %-20.20s  %-14.14s %6zu %8.3f %9s %4s %10s  %s\n", t, S->site,
			       S->subgroup, P->groups, P->psi, chi, df, ph, note);
		}
	putchar('\n');
}

json_t *mon_inputs_json(const struct mon_inputs *M, json_t *alerts)
{
	json_t *out = json_array();
	for (size_t q = 0; q < M->n; q++) {
		const struct mix_key *S = &M->s[q];
		json_t *pts = json_pack("[{s:i,s:b}]", "period", 0, "baseline", 1),
		       *al = json_null();
		for (size_t t = 1; t < M->np; t++) {
			size_t x = q * M->np + t;
			const struct fv_psi *P = &M->r[x];
			json_t *pt =
			    json_pack("{s:I,s:b}", "period", (json_int_t)t, "missing", !M->ok[x]);
			if (M->ok[x])
				json_object_update_new(
				    pt, json_pack("{s:o,s:b,s:o,s:o,s:o,s:o,s:I,s:I}", "psi",
						  fv_json_finite(P->psi), "psi_corrected",
						  P->psi_corrected, "chi2", fv_json_finite(P->chi2),
						  "df", fv_json_finite(P->df), "p",
						  fv_json_finite(P->p), "p_holm",
						  fv_json_finite(M->p_holm[x]), "bins",
						  (json_int_t)P->groups, "categories_compared",
						  (json_int_t)M->kept[x]));
			json_array_append_new(pts, pt);
		}
		if (M->alarm[q] < M->np) {
			char metric[FV_MAX_NAME + 8];
			fv_fmt(metric, sizeof(metric), "input:%s", S->subgroup);
			al = json_pack("{s:I}", "period", (json_int_t)M->alarm[q]);
			json_array_append_new(alerts, json_pack("{s:s,s:s,s:I,s:s}", "site",
								S->site, "metric", metric, "period",
								(json_int_t)M->alarm[q],
								"direction", "shift"));
		}
		json_array_append_new(out,
				      json_pack("{s:s,s:s,s:o,s:o}", "site", S->site, "subgroup",
						S->subgroup, "alarm", al, "points", pts));
	}
	return out;
}

int mon_inputs_alerts(const struct mon_inputs *M, FILE *f)
{
	int n = 0;
	for (size_t q = 0; q < M->n; q++) {
		if (M->alarm[q] >= M->np)
			continue;
		size_t x = q * M->np + M->alarm[q];
		fprintf(f,
			"ALERT: %s input:%s drift at period %zu (shift: PSI %.3f >= %g, "
			"chi-square p (Holm) %.3g < %g)\n",
			M->s[q].site, M->s[q].subgroup, M->alarm[q], M->r[x].psi, M->psi_limit,
			M->p_holm[x], M->alpha);
		n++;
	}
	return n;
}
