/* The hospital's own policy (DESIGN.md §9), applied to every job whatever the coordinator says:
 *   - which benchmarks and vendors it takes part for, whether the authority must declare a
 *     legal basis and purpose, and whether each job waits for a person's approval;
 *   - a query budget: at most N released results per dataset per period;
 *   - differencing protection against the results released before for the same dataset:
 *     a cohort differing from an earlier one by fewer than min_cell records (overall, among
 *     events or among non-events) is refused; a threshold row whose positive calls differ by
 *     fewer than min_cell from another released row of the same cohort (a threshold sweep
 *     isolating single scores) is suppressed.
 * The history of released results lives in state_dir/released.jsonl, one JSON object a line. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "fedval/util.h"
#include "node.h"

#define HISTORY "released.jsonl"

static bool in_list(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == n && !strncmp(p, item, n))
			return true;
		p = e;
	}
	return false;
}

/* A number from [policy]: def when absent; an error naming the key otherwise. */
static fv_err policy_double(const struct node *n, const char *key, double def, double lo, double hi,
			    double *out, struct fv_diag *d)
{
	const char *v = fv_config_get(n->cfg, "policy", key);
	char *end;
	*out = def;
	if (!v)
		return FV_OK;
	errno = 0;
	*out = strtod(v, &end);
	if (!*v || *end || errno || !(*out >= lo && *out <= hi))
		return fv_diag_set(d, FV_EINVAL, "%s: [policy] %s = '%s': a number in [%g, %g]",
				   fv_config_path(n->cfg), key, v, lo, hi);
	return FV_OK;
}

/* Differential privacy: dp_mechanism = none | laplace | gaussian, dp_epsilon (per result),
 * dp_delta (gaussian), dp_budget_epsilon (per dataset per budget_period_days). */
static fv_err load_dp(struct node *n, struct fv_diag *d)
{
	const char *v = fv_config_get(n->cfg, "policy", "dp_mechanism");
	fv_err e;

	if (v && fv_dp_mechanism_parse(v, &n->dp.mechanism) != FV_OK)
		return fv_diag_set(
		    d, FV_EINVAL, "%s: [policy] dp_mechanism = '%s': use none, laplace or gaussian",
		    fv_config_path(n->cfg), v);
	if ((e = policy_double(n, "dp_epsilon", 1.0, 0.01, 10.0, &n->dp.epsilon, d)) ||
	    (e = policy_double(n, "dp_delta", 1e-6, 1e-12, 1e-3, &n->dp.delta, d)) ||
	    (e = policy_double(n, "dp_budget_epsilon", 0.0, 0.0, 1000.0, &n->dp_budget, d)))
		return e;
	if (n->dp.mechanism != FV_DP_NONE && n->dp_budget > 0 && n->dp_budget < n->dp.epsilon)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [policy] dp_budget_epsilon %g is below dp_epsilon %g: no "
				   "result could ever be released",
				   fv_config_path(n->cfg), n->dp_budget, n->dp.epsilon);
	return FV_OK;
}

fv_err node_policy_load(struct node *n, struct fv_diag *d)
{
	struct fv_config *cfg = n->cfg;
	const char *v;
	long l;
	fv_err e;

	v = fv_config_get(cfg, "policy", "approval");
	if (v && strcmp(v, "auto") != 0 && strcmp(v, "manual") != 0)
		return fv_diag_set(d, FV_EINVAL, "%s: [policy] approval = '%s': use auto or manual",
				   fv_config_path(cfg), v);
	n->manual = v && !strcmp(v, "manual");
	n->allowed_benchmarks = fv_config_get(cfg, "policy", "allowed_benchmarks");
	n->allowed_vendors = fv_config_get(cfg, "policy", "allowed_vendors");
	v = fv_config_get(cfg, "policy", "require_legal_basis");
	if (v && strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [policy] require_legal_basis = '%s': use yes or no",
				   fv_config_path(cfg), v);
	n->require_legal_basis = v && !strcmp(v, "yes");
	if ((e = fv_config_long(cfg, "policy", "budget_results", 0, 0, 1000000, &l, d)))
		return e;
	n->budget_results = l;
	if ((e = fv_config_long(cfg, "policy", "budget_period_days", 30, 1, 3650, &l, d)))
		return e;
	n->budget_period_days = l;
	if ((e = load_dp(n, d)) != FV_OK)
		return e;
	/* Rounding to a base below the minimum cell count would create small released counts
	 * (a difference of two rounded counts); at or above it every count is 0 or >= base. */
	if ((e = fv_config_long(cfg, "policy", "rounding_base", 0, 0, 1000000, &l, d)))
		return e;
	if (l > 1 && l < (long)n->policy.min_cell)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "%s: [policy] rounding_base = %ld is below min_cell_count %u: use "
		    "0 (exact counts) or at least %u",
		    fv_config_path(cfg), l, n->policy.min_cell, n->policy.min_cell);
	n->rounding_base = (uint32_t)l;
	if ((e = fv_config_long(cfg, "policy", "min_subgroup_size", 0, 0, 1000000000, &l, d)))
		return e;
	n->min_subgroup = (uint64_t)l;
	/* Below the minimum cell: withhold (suppress) or merge the withheld categories of a
	 * subgroup into one released category (coarsen). */
	v = fv_config_get(cfg, "policy", "small_cells");
	if (v && strcmp(v, "suppress") && strcmp(v, "coarsen"))
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [policy] small_cells = '%s': use suppress or coarsen",
				   fv_config_path(cfg), v);
	n->coarsen = v && !strcmp(v, "coarsen");
	n->dataset = fv_config_get(cfg, "data", "name");
	if (!n->dataset)
		n->dataset = "default";
	return FV_OK;
}

fv_err node_policy_check_job(const struct node *n, const char *job, const json_t *bench,
			     const char *vendor, char *why, size_t cap)
{
	const char *bname = json_string_value(json_object_get(bench, "name"));
	const char *basis = json_string_value(json_object_get(bench, "legal_basis"));
	const char *purpose = json_string_value(json_object_get(bench, "purpose"));

	const char *key;
	json_t *val;
	json_object_foreach((json_t *)bench, key, val)
	{
		if (fv_privacy_is_policy_key(key)) {
			fv_fmt(why, cap,
			       "the benchmark sets '%.40s', a policy setting that only the site's "
			       "config may set",
			       key);
			return FV_EREFUSED;
		}
	}
	if (n->allowed_benchmarks && !in_list(n->allowed_benchmarks, bname ? bname : "")) {
		fv_fmt(why, cap, "benchmark '%s' is not in the site's allowed_benchmarks",
		       bname ? bname : "");
		return FV_EREFUSED;
	}
	if (n->allowed_vendors && !in_list(n->allowed_vendors, vendor)) {
		fv_fmt(why, cap, "vendor '%s' is not in the site's allowed_vendors", vendor);
		return FV_EREFUSED;
	}
	if (n->require_legal_basis && (!basis || !*basis || !purpose || !*purpose)) {
		fv_fmt(why, cap,
		       "the benchmark declares no legal_basis and purpose, which the site "
		       "requires");
		return FV_EREFUSED;
	}
	if (n->budget_results > 0 || (n->dp.mechanism != FV_DP_NONE && n->dp_budget > 0)) {
		int64_t since = fv_now_us() - (int64_t)n->budget_period_days * 86400 * 1000000;
		long used = 0;
		double spent = 0;
		json_t *h = node_policy_history(n);
		size_t i;
		json_t *en;
		json_array_foreach(h, i, en)
		{
			const char *ej = json_string_value(json_object_get(en, "job")) ?: "";
			/* later rounds of a multi-round job do not count again */
			if (json_integer_value(json_object_get(en, "round")) > 0 ||
			    (job && !strcmp(ej, job)))
				continue;
			if (json_integer_value(json_object_get(en, "ts_us")) >= since &&
			    !strcmp(json_string_value(json_object_get(en, "dataset")) ?: "",
				    n->dataset)) {
				used++;
				spent += json_number_value(json_object_get(en, "dp_epsilon"));
			}
		}
		json_decref(h);
		if (n->budget_results > 0 && used >= n->budget_results) {
			fv_fmt(why, cap,
			       "query budget of dataset '%s' spent: %ld results in %ld days",
			       n->dataset, used, n->budget_period_days);
			return FV_EREFUSED;
		}
		if (n->dp.mechanism != FV_DP_NONE && n->dp_budget > 0 &&
		    spent + n->dp.epsilon > n->dp_budget * (1 + 1e-12)) {
			fv_fmt(
			    why, cap,
			    "differential-privacy budget of dataset '%s' spent: epsilon %g of %g "
			    "used in %ld days, a result needs %g",
			    n->dataset, spent, n->dp_budget, n->budget_period_days, n->dp.epsilon);
			return FV_EREFUSED;
		}
	}
	return FV_OK;
}

json_t *node_policy_history(const struct node *n)
{
	char path[4096];
	json_t *arr = json_array();
	FILE *f;
	char line[65536];

	if (fv_fmt(path, sizeof(path), "%s/" HISTORY, n->state_dir) || !(f = fopen(path, "r")))
		return arr;
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		if (json_is_object(j))
			json_array_append_new(arr, j);
		else
			json_decref(j);
	}
	fclose(f);
	return arr;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static bool too_close(uint64_t a, uint64_t b, uint32_t min_cell)
{
	uint64_t dlt = absdiff(a, b);
	return dlt > 0 && dlt < min_cell;
}

fv_err node_policy_difference(const struct node *n, struct eval_out *o, bool keep[], char *why,
			      size_t cap)
{
	uint32_t mc = n->policy.min_cell;
	json_t *h = node_policy_history(n), *en;
	/* Positive calls and true positives of every row released for the same cohort, and of
	 * this result's rows: all of them, however long the history (a fixed array once let a
	 * history of 64 full jobs switch the comparison off). */
	uint64_t *calls = NULL, *tps = NULL;
	size_t ncalls = 0, room = o->n_thr + 1, i;
	fv_err e = FV_OK;

	json_array_foreach(h, i, en)
	{
		room += json_array_size(json_object_get(en, "rows"));
	}
	calls = fv_calloc(room, sizeof(*calls));
	tps = fv_calloc(room, sizeof(*tps));
	if (!calls || !tps) {
		fv_fmt(why, cap, "out of memory comparing with earlier releases (differencing)");
		e = FV_EREFUSED;
		goto out;
	}
	json_array_foreach(h, i, en)
	{
		uint64_t pn, pp;
		if (strcmp(json_string_value(json_object_get(en, "dataset")) ?: "", n->dataset))
			continue;
		pn = (uint64_t)json_integer_value(json_object_get(en, "n"));
		pp = (uint64_t)json_integer_value(json_object_get(en, "n_pos"));
		if (too_close(pn, o->n, mc) || too_close(pp, o->n_pos, mc) ||
		    too_close(pn - pp, o->n - o->n_pos, mc)) {
			fv_fmt(why, cap,
			       "cohort differs from the one released for job %s by fewer than %u "
			       "records (differencing)",
			       json_string_value(json_object_get(en, "job")) ?: "?", mc);
			e = FV_EREFUSED;
			goto out;
		}
		if (pn != o->n || pp != o->n_pos)
			continue;
		size_t k;
		json_t *row;
		json_array_foreach(json_object_get(en, "rows"), k, row)
		{
			calls[ncalls] = (uint64_t)json_integer_value(json_array_get(row, 1));
			tps[ncalls++] = (uint64_t)json_integer_value(json_array_get(row, 2));
		}
	}
	/* Rows of this result, in ascending threshold order, against every row kept so far: the
	 * benchmark's thresholds first, then the operating points (the last n_op rows), so that
	 * an operating point never costs a benchmark row. */
	{
		uint32_t order[NODE_MAX_THR], nb = o->n_thr - (o->n_op <= o->n_thr ? o->n_op : 0);
		for (uint32_t k = 0; k < o->n_thr; k++) {
			uint32_t m = k;
			while (m > 0 && ((order[m - 1] >= nb) > (k >= nb) ||
					 ((order[m - 1] >= nb) == (k >= nb) &&
					  o->thr[order[m - 1]] > o->thr[k]))) {
				order[m] = order[m - 1];
				m--;
			}
			order[m] = k;
		}
		for (uint32_t q = 0; q < o->n_thr; q++) {
			uint32_t t = order[q];
			uint64_t c = o->tp[t] + o->fp[t];
			if (!keep[t])
				continue;
			for (size_t k = 0; k < ncalls && keep[t]; k++)
				if (too_close(c, calls[k], mc) || too_close(o->tp[t], tps[k], mc))
					keep[t] = false;
			if (keep[t]) {
				calls[ncalls] = c;
				tps[ncalls++] = o->tp[t];
			}
		}
	}
out:
	fv_free(calls);
	fv_free(tps);
	json_decref(h);
	return e;
}

bool node_policy_category_close(const struct node *n, const json_t *hist, const char *sub,
				const char *cat, uint64_t cn, uint64_t cpos)
{
	uint32_t mc = n->policy.min_cell;
	size_t i, k;
	json_t *en, *c;

	json_array_foreach(hist, i, en)
	{
		if (strcmp(json_string_value(json_object_get(en, "dataset")) ?: "", n->dataset))
			continue;
		json_array_foreach(json_object_get(en, "subs"), k, c)
		{
			uint64_t pn = (uint64_t)json_integer_value(json_array_get(c, 2));
			uint64_t pp = (uint64_t)json_integer_value(json_array_get(c, 3));
			if (strcmp(json_string_value(json_array_get(c, 0)) ?: "", sub) ||
			    strcmp(json_string_value(json_array_get(c, 1)) ?: "", cat))
				continue;
			if (too_close(pn, cn, mc) || too_close(pp, cpos, mc) ||
			    too_close(pn - pp, cn - cpos, mc))
				return true;
		}
	}
	return false;
}

fv_err node_policy_round(const struct node *n, const char *job, uint32_t step, const double beta[2],
			 bool *resend, char *why, size_t cap)
{
	json_t *h = node_policy_history(n), *en;
	size_t i, rounds = 0;
	fv_err e = FV_OK;

	*resend = false;
	json_array_foreach(h, i, en)
	{
		json_t *r = json_object_get(en, "round"), *b = json_object_get(en, "beta");
		if (!json_is_integer(r) ||
		    strcmp(json_string_value(json_object_get(en, "job")) ?: "", job))
			continue;
		rounds++;
		if (json_integer_value(r) < (json_int_t)step)
			continue;
		if (json_integer_value(r) == (json_int_t)step && json_array_size(b) == 2 &&
		    json_number_value(json_array_get(b, 0)) == beta[0] &&
		    json_number_value(json_array_get(b, 1)) == beta[1]) {
			*resend = true;
			continue;
		}
		fv_fmt(why, cap,
		       "round refused: step %u replayed with other coefficients after step %lld "
		       "(replay)",
		       step, (long long)json_integer_value(r));
		e = FV_EREFUSED;
		goto out;
	}
	if (!*resend && rounds >= NODE_ROUND_MAX_STEPS) {
		fv_fmt(why, cap, "round refused: job has had %zu rounds, the most the site allows",
		       rounds);
		e = FV_EREFUSED;
	}
out:
	json_decref(h);
	return e;
}

fv_err node_policy_record(const struct node *n, const char *job, int round, const double *beta,
			  double dp_epsilon, const struct eval_out *o, const bool keep[],
			  json_t *subs, struct fv_diag *d)
{
	char path[4096], *line;
	json_t *rows = json_array(), *en;
	FILE *f;
	fv_err e = FV_OK;

	for (uint32_t t = 0; round < 0 && t < o->n_thr; t++)
		if (keep[t])
			json_array_append_new(rows, json_pack("[f,I,I]", o->thr[t],
							      (json_int_t)(o->tp[t] + o->fp[t]),
							      (json_int_t)o->tp[t]));
	en = json_pack("{s:s,s:s,s:I,s:I,s:I,s:o}", "job", job, "dataset", n->dataset, "ts_us",
		       (json_int_t)fv_now_us(), "n", (json_int_t)o->n, "n_pos",
		       (json_int_t)o->n_pos, "rows", rows);
	if (round >= 0)
		json_object_set_new(en, "round", json_integer(round));
	if (round >= 0 && beta)
		json_object_set_new(en, "beta", json_pack("[f,f]", beta[0], beta[1]));
	if (dp_epsilon > 0)
		json_object_set_new(en, "dp_epsilon", json_real(dp_epsilon));
	if (subs && json_array_size(subs))
		json_object_set(en, "subs", subs);
	json_decref(subs);
	line = json_dumps(en, JSON_COMPACT);
	json_decref(en);
	if (!line || fv_fmt(path, sizeof(path), "%s/" HISTORY, n->state_dir) ||
	    !(f = fopen(path, "a"))) {
		free(line);
		return fv_diag_set(d, FV_EIO, "cannot record the release in %s/" HISTORY,
				   n->state_dir);
	}
	if (fprintf(f, "%s\n", line) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
		e = fv_diag_set(d, FV_EIO, "cannot record the release in %s", path);
	fclose(f);
	free(line);
	return e;
}
