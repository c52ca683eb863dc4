/* Check a fedval.report/1 document and turn it into struct rp. Every field the HTML uses is
 * type-checked here, so the renderer never meets a surprise; errors name the field by its
 * path ("sites[2].thresholds[0].tp"). Intervals shown in the HTML are recomputed from the
 * counts (Wilson) and the DeLong variance, at the requested level. */
#include <math.h>
#include <string.h>

#include "fedval/util.h"
#include "report/report_int.h"

static fv_err bad(struct fv_diag *d, const char *path, const char *key, const char *what)
{
	return fv_diag_set(d, FV_EINVAL, "%s%s%s: %s", path, *path ? "." : "", key, what);
}

/* An optional array member key of o at path: absent, null or empty leaves *out NULL; else at
 * most max elements (unit names them in the error), and *out a zeroed allocation of that many
 * elements of size bytes. *arr: the member. */
static fv_err opt_array(const json_t *o, const char *key, const char *path, size_t max,
			const char *unit, size_t size, const json_t **arr, void **out,
			struct fv_diag *d)
{
	const json_t *a = json_object_get(o, key);

	*arr = a;
	*out = NULL;
	if (!a || json_is_null(a))
		return FV_OK;
	if (!json_is_array(a))
		return bad(d, path, key, "must be an array");
	if (json_array_size(a) > max)
		return fv_diag_set(d, FV_ELIMIT, "%s%s%s: more than %zu%s", path, *path ? "." : "",
				   key, max, unit);
	if (json_array_size(a) && !(*out = fv_calloc(json_array_size(a), size)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	return FV_OK;
}

/* Required string. */
static fv_err need_str(const json_t *o, const char *key, const char *path, const char **out,
		       struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return bad(d, path, key, "missing (a string is required)");
	if (!json_is_string(v))
		return bad(d, path, key, "must be a string");
	*out = json_string_value(v);
	return FV_OK;
}

/* Optional string: absent or null gives NULL. */
static fv_err opt_str(const json_t *o, const char *key, const char *path, const char **out,
		      struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return FV_OK;
	if (!json_is_string(v))
		return bad(d, path, key, "must be a string");
	*out = json_string_value(v);
	return FV_OK;
}

/* Optional finite number in [lo, hi]: absent or null gives NaN. */
static fv_err opt_num(const json_t *o, const char *key, const char *path, double lo, double hi,
		      double *out, struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	*out = NAN;
	if (!v || json_is_null(v))
		return FV_OK;
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return bad(d, path, key, "must be a number");
	if (json_number_value(v) < lo || json_number_value(v) > hi)
		return fv_diag_set(d, FV_EINVAL, "%s%s%s: %g is outside [%g, %g]", path,
				   *path ? "." : "", key, json_number_value(v), lo, hi);
	*out = json_number_value(v);
	return FV_OK;
}

static fv_err need_count(const json_t *o, const char *key, const char *path, uint64_t *out,
			 struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return bad(d, path, key, "missing (a count is required)");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > FV_MAX_REPORT_COUNT)
		return bad(d, path, key, "must be an integer between 0 and 10^15");
	*out = (uint64_t)json_integer_value(v);
	return FV_OK;
}

/* Optional count: absent or null gives *has = false and leaves *out alone. */
static fv_err opt_count(const json_t *o, const char *key, const char *path, uint64_t *out,
			bool *has, struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	*has = false;
	if (!v || json_is_null(v))
		return FV_OK;
	*has = true;
	return need_count(o, key, path, out, d);
}

static fv_err need_obj(const json_t *o, const char *key, const char *path, const json_t **out,
		       struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return bad(d, path, key, "missing (an object is required)");
	if (!json_is_object(v))
		return bad(d, path, key, "must be an object");
	*out = v;
	return FV_OK;
}

static void prop(struct rp_prop *p, uint64_t x, uint64_t n, double conf)
{
	p->x = x;
	p->n = n;
	p->est = p->lo = p->hi = NAN;
	if (n == 0)
		return;
	p->est = (double)x / (double)n;
	fv_stats_wilson(x, n, conf, &p->lo, &p->hi);
}

/* The chi-square quantile by bisection on the upper tail: the x with P(X > x) = upper. */
static double qchisq_upper(double upper, double df)
{
	double lo = 0.0, hi = df + 40.0 * sqrt(df) + 100.0;
	for (int i = 0; i < 300 && hi - lo > 1e-13 * hi; i++) {
		double mid = 0.5 * (lo + hi);
		if (fv_stats_pchisq_upper(mid, df) > upper)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

void rp_poisson_ci(uint64_t x, double conf, double *lo, double *hi)
{
	double a = 1.0 - conf;
	*lo = x == 0 ? 0.0 : 0.5 * qchisq_upper(1.0 - a / 2, 2.0 * (double)x);
	*hi = 0.5 * qchisq_upper(a / 2, 2.0 * (double)x + 2.0);
}

static void oe_ci(uint64_t obs, double expected, double conf, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (!(expected > 0))
		return;
	rp_poisson_ci(obs, conf, lo, hi);
	*lo /= expected;
	*hi /= expected;
}

/* One threshold row; pooled rows also carry "sites". */
static fv_err parse_thr(const json_t *t, const char *path, bool pooled, double conf,
			struct rp_thr *out, struct fv_diag *d)
{
	const json_t *v;
	fv_err e;

	memset(out, 0, sizeof(*out));
	out->sites = -1;
	if (!json_is_object(t))
		return fv_diag_set(d, FV_EINVAL, "%s: must be an object", path);
	if ((e = opt_num(t, "threshold", path, -HUGE_VAL, HUGE_VAL, &out->threshold, d)))
		return e;
	if (isnan(out->threshold))
		return bad(d, path, "threshold", "missing (a number is required)");
	v = json_object_get(t, "suppressed");
	if (v && !json_is_boolean(v))
		return bad(d, path, "suppressed", "must be true or false");
	if (v && json_is_true(v)) {
		out->suppressed = true;
		return FV_OK;
	}
	if ((e = need_count(t, "tp", path, &out->tp, d)) ||
	    (e = need_count(t, "fp", path, &out->fp, d)) ||
	    (e = need_count(t, "tn", path, &out->tn, d)) ||
	    (e = need_count(t, "fn", path, &out->fn, d)))
		return e;
	if (pooled && (v = json_object_get(t, "sites"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > FV_MAX_REPORT_SITES)
			return bad(d, path, "sites", "must be a small non-negative integer");
		out->sites = (long)json_integer_value(v);
	}
	prop(&out->sens, out->tp, out->tp + out->fn, conf);
	prop(&out->spec, out->tn, out->tn + out->fp, conf);
	prop(&out->ppv, out->tp, out->tp + out->fp, conf);
	prop(&out->npv, out->tn, out->tn + out->fn, conf);
	prop(&out->acc, out->tp + out->tn, out->tp + out->fp + out->tn + out->fn, conf);
	return FV_OK;
}

static fv_err parse_thresholds(const json_t *arr, const char *path, bool pooled, double conf,
			       struct rp_thr **out, size_t *n, struct fv_diag *d)
{
	char p[96];
	fv_err e;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return fv_diag_set(d, FV_EINVAL, "%s: must be an array", path);
	if (json_array_size(arr) > FV_MAX_THRESHOLDS)
		return fv_diag_set(d, FV_ELIMIT, "%s: more than %d thresholds", path,
				   FV_MAX_THRESHOLDS);
	if (json_array_size(arr) == 0)
		return FV_OK;
	if (!(*out = fv_calloc(json_array_size(arr), sizeof(**out))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		fv_fmt(p, sizeof(p), "%s[%zu]", path, i);
		if ((e = parse_thr(json_array_get(arr, i), p, pooled, conf, &(*out)[i], d)))
			return e;
		*n = i + 1;
	}
	return FV_OK;
}

/* sites[i].operating_points (optional: older reports have none): per target of the benchmark
 * the site's own threshold reaching it, then the vendor's declared threshold; each a threshold
 * row with "target" and, but for "declared", "value". The counts add up to the site's n and
 * n_pos like those of a threshold row. */
static fv_err parse_ops(const json_t *s, const char *path, double conf, struct rp_site *o,
			struct fv_diag *d)
{
	static const char *const names[] = {"sensitivity", "specificity", "positive_rate",
					    "declared"};
	const json_t *a, *x;
	void *buf;
	const char *target;
	char p[96];
	size_t k;
	fv_err e;

	if ((e = opt_array(s, "operating_points", path, FV_MAX_OPERATING_POINTS, "",
			   sizeof(*o->ops), &a, &buf, d)) != FV_OK)
		return e;
	if (!(o->ops = buf))
		return FV_OK;
	json_array_foreach(a, k, x)
	{
		struct rp_op *op = &o->ops[k];
		size_t t;
		fv_fmt(p, sizeof(p), "%s.operating_points[%zu]", path, k);
		if ((e = parse_thr(x, p, false, conf, &op->t, d)) ||
		    (e = need_str(x, "target", p, &target, d)))
			return e;
		for (t = 0; t < sizeof(names) / sizeof(names[0]) && strcmp(target, names[t]); t++)
			;
		if (t == sizeof(names) / sizeof(names[0]))
			return bad(d, p, "target",
				   "must be \"sensitivity\", \"specificity\", \"positive_rate\" "
				   "or \"declared\"");
		op->target = (enum rp_op_target)t;
		op->value = NAN;
		if (op->target != RP_OP_DECLARED) {
			if ((e = opt_num(x, "value", p, 0, 1, &op->value, d)))
				return e;
			if (isnan(op->value))
				return bad(d, p, "value", "missing (a number is required)");
		}
		if (!op->t.suppressed &&
		    (op->t.tp + op->t.fn != o->n_pos || op->t.fp + op->t.tn != o->n - o->n_pos))
			return fv_diag_set(d, FV_EINVAL,
					   "%s: the counts do not add up to n and n_pos", p);
		o->nops = k + 1;
	}
	return FV_OK;
}

/* sites[i].subgroups: [{subgroup, category, n, n_pos} or {subgroup, category, suppressed:
 * true}] (optional: older reports have none). A category listed twice is refused: it would be
 * counted twice in the case mix. A released count may exceed what the site's n leaves over
 * for it (sites round released counts), so only each category's own bounds are checked. */
static fv_err parse_mix(const json_t *s, const char *path, struct rp_site *o, struct fv_diag *d)
{
	const json_t *a, *c, *v;
	void *buf;
	char p[96];
	size_t k;
	fv_err e;

	if ((e = opt_array(s, "subgroups", path, FV_MAX_REPORT_SITE_CATEGORIES, " categories",
			   sizeof(*o->mix), &a, &buf, d)) != FV_OK)
		return e;
	if (!(o->mix = buf))
		return FV_OK;
	json_array_foreach(a, k, c)
	{
		struct rp_mix *m = &o->mix[k];
		fv_fmt(p, sizeof(p), "%s.subgroups[%zu]", path, k);
		m->group = m->cat = -1;
		if (!json_is_object(c))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = need_str(c, "subgroup", p, &m->subgroup, d)) ||
		    (e = need_str(c, "category", p, &m->category, d)))
			return e;
		for (size_t j = 0; j < k; j++)
			if (!strcmp(o->mix[j].subgroup, m->subgroup) &&
			    !strcmp(o->mix[j].category, m->category))
				return fv_diag_set(d, FV_EINVAL, "%s: repeats %s.subgroups[%zu]", p,
						   path, j);
		v = json_object_get(c, "suppressed");
		if (v && !json_is_boolean(v))
			return bad(d, p, "suppressed", "must be true or false");
		if (v && json_is_true(v)) {
			m->suppressed = true;
			continue;
		}
		if ((e = need_count(c, "n", p, &m->n, d)) ||
		    (e = need_count(c, "n_pos", p, &m->n_pos, d)))
			return e;
		if (m->n_pos > m->n)
			return fv_diag_set(d, FV_EINVAL, "%s.n_pos: %llu exceeds n = %llu", p,
					   (unsigned long long)m->n_pos, (unsigned long long)m->n);
		if (m->n > o->n)
			return fv_diag_set(d, FV_EINVAL, "%s.n: %llu exceeds the site's n = %llu",
					   p, (unsigned long long)m->n, (unsigned long long)o->n);
	}
	o->nmix = json_array_size(a);
	return FV_OK;
}

/* sites[i].data_summary.variables: per variable the four exclusive classes of its rows. */
static fv_err parse_dvars(const json_t *a, const char *path, struct rp_data *o, struct fv_diag *d)
{
	static const char *const stats[] = {"declared_min", "declared_max", "min",  "q25", "median",
					    "q75",	    "max",	    "mean", "sd"};
	const json_t *x;
	char p[112];
	size_t k;
	fv_err e;

	if (!a)
		return fv_diag_set(d, FV_EINVAL, "%s.variables: missing (an array is required)",
				   path);
	if (!json_is_array(a))
		return bad(d, path, "variables", "must be an array");
	if (json_array_size(a) > FV_MAX_REPORT_SUMMARY_VARS)
		return fv_diag_set(d, FV_ELIMIT, "%s.variables: more than %d", path,
				   FV_MAX_REPORT_SUMMARY_VARS);
	if (!json_array_size(a))
		return FV_OK;
	if (!(o->vars = fv_calloc(json_array_size(a), sizeof(*o->vars))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	json_array_foreach(a, k, x)
	{
		struct rp_dvar *v = &o->vars[k];
		uint64_t present;
		bool has_present;
		double num;
		fv_fmt(p, sizeof(p), "%s.variables[%zu]", path, k);
		v->row = -1;
		if (!json_is_object(x))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = need_str(x, "name", p, &v->name, d)) ||
		    (e = need_count(x, "n_missing", p, &v->missing, d)) ||
		    (e = need_count(x, "n_invalid", p, &v->invalid, d)) ||
		    (e = need_count(x, "n_out_of_range", p, &v->oor, d)) ||
		    (e = need_count(x, "n_valid", p, &v->valid, d)) ||
		    (e = opt_count(x, "n_present", p, &present, &has_present, d)))
			return e;
		for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			if ((e = opt_num(x, stats[i], p, -HUGE_VAL, HUGE_VAL, &num, d)))
				return e;
		for (size_t j = 0; j < k; j++)
			if (!strcmp(o->vars[j].name, v->name))
				return fv_diag_set(d, FV_EINVAL, "%s: repeats variables[%zu]", p,
						   j);
		/* each count is at most 10^15, so the sum cannot wrap */
		if (v->missing + v->invalid + v->oor + v->valid != o->rows ||
		    (has_present && present != o->rows - v->missing))
			return fv_diag_set(d, FV_EINVAL,
					   "%s: the counts do not add up to rows = %llu", p,
					   (unsigned long long)o->rows);
	}
	o->nvars = json_array_size(a);
	return FV_OK;
}

/* sites[i].data_summary.label (optional): the label's valid, missing and invalid rows;
 * positives, negatives and prevalence may be withheld (null). */
static fv_err parse_dlabel(const json_t *l, const char *path, struct rp_data *o, struct fv_diag *d)
{
	char p[112];
	uint64_t pos = 0, neg = 0;
	bool has_pos, has_neg;
	fv_err e;

	if (!l || json_is_null(l))
		return FV_OK;
	fv_fmt(p, sizeof(p), "%s.label", path);
	if (!json_is_object(l))
		return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
	if ((e = opt_str(l, "name", p, &o->label, d)) ||
	    (e = need_count(l, "n_valid", p, &o->lab_valid, d)) ||
	    (e = need_count(l, "n_missing", p, &o->lab_missing, d)) ||
	    (e = need_count(l, "n_invalid", p, &o->lab_invalid, d)) ||
	    (e = opt_count(l, "positives", p, &pos, &has_pos, d)) ||
	    (e = opt_count(l, "negatives", p, &neg, &has_neg, d)) ||
	    (e = opt_num(l, "prevalence", p, 0, 1, &o->lab_prev, d)))
		return e;
	if (o->lab_valid + o->lab_missing + o->lab_invalid != o->rows)
		return fv_diag_set(d, FV_EINVAL, "%s: the counts do not add up to rows = %llu", p,
				   (unsigned long long)o->rows);
	if (has_pos && has_neg && pos + neg != o->lab_valid)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: positives and negatives do not add up to n_valid", p);
	o->has_label = true;
	return FV_OK;
}

/* sites[i].dataset, data_summary and data_summary_note (all optional): the site's registered
 * dataset and the disclosure-safe summary bound to the result (docs/data-summary.md), or why
 * none is bound. */
static fv_err parse_data(const json_t *s, const char *path, struct rp_data *o, struct fv_diag *d)
{
	const json_t *v, *x;
	const char *format;
	char p[64];
	uint64_t records;
	bool has_records;
	fv_err e;

	o->lab_prev = NAN;
	o->ds_records = o->ds_registered_us = -1;
	if ((e = opt_str(s, "data_summary_note", path, &o->note, d)))
		return e;
	if ((v = json_object_get(s, "dataset")) && !json_is_null(v)) {
		fv_fmt(p, sizeof(p), "%s.dataset", path);
		if (!json_is_object(v))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = opt_str(v, "name", p, &o->ds_name, d)) ||
		    (e = opt_str(v, "period", p, &o->ds_period, d)) ||
		    (e = opt_str(v, "source", p, &o->ds_source, d)) ||
		    (e = opt_str(v, "fingerprint", p, &o->ds_fingerprint, d)) ||
		    (e = opt_count(v, "records", p, &records, &has_records, d)))
			return e;
		if (has_records)
			o->ds_records = (long long)records;
		if ((x = json_object_get(v, "registered_us")) && !json_is_null(x)) {
			if (!json_is_integer(x) || json_integer_value(x) < 0)
				return bad(d, p, "registered_us",
					   "must be a non-negative integer (microseconds since "
					   "the epoch)");
			o->ds_registered_us = (long long)json_integer_value(x);
		}
		o->has_dataset = true;
	}
	if (!(v = json_object_get(s, "data_summary")) || json_is_null(v))
		return FV_OK;
	fv_fmt(p, sizeof(p), "%s.data_summary", path);
	if (!json_is_object(v))
		return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
	if ((e = need_str(v, "format", p, &format, d)))
		return e;
	if (strcmp(format, "fedval-data-summary/1") != 0)
		return bad(d, p, "format", "not \"fedval-data-summary/1\"");
	if ((e = need_count(v, "rows", p, &o->rows, d)) ||
	    (e = opt_str(v, "fingerprint", p, &o->fingerprint, d)) ||
	    (e = parse_dvars(json_object_get(v, "variables"), p, o, d)) ||
	    (e = parse_dlabel(json_object_get(v, "label"), p, o, d)))
		return e;
	o->has_summary = true;
	return FV_OK;
}

static fv_err parse_site(const json_t *s, size_t i, double conf, struct rp_site *o,
			 struct fv_diag *d)
{
	char path[48], tp[64];
	const json_t *v, *auc;
	fv_err e;

	fv_fmt(path, sizeof(path), "sites[%zu]", i);
	o->weight = o->brier = o->oe = o->expected = o->oe_lo = o->oe_hi = NAN;
	o->auc = o->auc_var = o->auc_lo = o->auc_hi = NAN;
	o->min_cell = -1;
	prop(&o->prev, 0, 0, conf);
	if (!json_is_object(s))
		return fv_diag_set(d, FV_EINVAL, "%s: must be an object", path);
	if ((e = need_str(s, "node", path, &o->node, d)))
		return e;
	v = json_object_get(s, "verified");
	if (!v)
		return bad(d, path, "verified", "missing (true or false is required)");
	if (!json_is_boolean(v))
		return bad(d, path, "verified", "must be true or false");
	o->verified = json_is_true(v);
	if ((e = opt_str(s, "result_sha256", path, &o->sha, d)) ||
	    (e = opt_str(s, "signature", path, &o->sig, d)) ||
	    (e = opt_str(s, "cert_fingerprint", path, &o->cert, d)) ||
	    (e = opt_str(s, "software", path, &o->software, d)) ||
	    (e = opt_str(s, "status", path, &o->status, d)))
		return e;
	if (!o->verified)
		return opt_str(s, "error", path, &o->why, d);
	if (!o->status)
		return bad(d, path, "status", "missing (\"ok\" or \"failed\" for a verified site)");
	if (strcmp(o->status, "ok") != 0)
		return opt_str(s, "reason", path, &o->why, d);
	o->ok = true;
	if ((e = need_count(s, "n", path, &o->n, d)) ||
	    (e = need_count(s, "n_pos", path, &o->n_pos, d)))
		return e;
	if (o->n_pos > o->n)
		return fv_diag_set(d, FV_EINVAL, "%s.n_pos: %llu exceeds n = %llu", path,
				   (unsigned long long)o->n_pos, (unsigned long long)o->n);
	prop(&o->prev, o->n_pos, o->n, conf);
	if ((e = opt_num(s, "brier", path, 0, 1, &o->brier, d)) ||
	    (e = opt_num(s, "observed_expected", path, 0, HUGE_VAL, &o->oe, d)) ||
	    (e = opt_num(s, "expected_events", path, 0, HUGE_VAL, &o->expected, d)))
		return e;
	if (isnan(o->expected) && o->oe > 0)
		o->expected = (double)o->n_pos / o->oe;
	if (isnan(o->oe) && o->expected > 0)
		o->oe = (double)o->n_pos / o->expected;
	oe_ci(o->n_pos, o->expected, conf, &o->oe_lo, &o->oe_hi);
	if ((v = json_object_get(s, "min_cell")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000)
			return bad(d, path, "min_cell", "must be a non-negative integer");
		o->min_cell = (long)json_integer_value(v);
	}
	if ((v = json_object_get(s, "differential_privacy")) && !json_is_null(v)) {
		fv_fmt(tp, sizeof(tp), "%s.differential_privacy", path);
		if (!json_is_object(v))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", tp);
		if ((e = opt_str(v, "mechanism", tp, &o->dp_mechanism, d)) ||
		    (e = opt_num(v, "epsilon", tp, 0, 1000, &o->dp_epsilon, d)))
			return e;
		if (!o->dp_mechanism)
			return bad(d, tp, "mechanism", "missing");
	}
	if ((auc = json_object_get(s, "auroc")) && !json_is_null(auc)) {
		fv_fmt(tp, sizeof(tp), "%s.auroc", path);
		if (!json_is_object(auc))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", tp);
		if ((e = opt_num(auc, "estimate", tp, 0, 1, &o->auc, d)) ||
		    (e = opt_num(auc, "delong_variance", tp, 0, 1, &o->auc_var, d)))
			return e;
		if (isnan(o->auc))
			return bad(d, tp, "estimate", "missing (a number is required)");
		o->has_auc = true;
		fv_stats_auc_ci(o->auc, o->auc_var, conf, &o->auc_lo, &o->auc_hi);
	}
	fv_fmt(tp, sizeof(tp), "%s.thresholds", path);
	if (!(v = json_object_get(s, "thresholds")))
		return fv_diag_set(d, FV_EINVAL, "%s: missing (an array is required)", tp);
	if ((e = parse_thresholds(v, tp, false, conf, &o->thr, &o->nthr, d)))
		return e;
	for (size_t t = 0; t < o->nthr; t++) {
		const struct rp_thr *r = &o->thr[t];
		if (!r->suppressed &&
		    (r->tp + r->fn != o->n_pos || r->fp + r->tn != o->n - o->n_pos))
			return fv_diag_set(d, FV_EINVAL,
					   "%s[%zu]: the counts do not add up to n and n_pos", tp,
					   t);
	}
	if ((e = parse_ops(s, path, conf, o, d)) || (e = parse_mix(s, path, o, d)))
		return e;
	return parse_data(s, path, &o->data, d);
}

/* "subgroups": [{subgroup, categories: [{category, sites, withheld_at_sites, n, n_pos,
 * auroc?}]}] (optional). */
static fv_err parse_subgroups(const json_t *a, struct rp *r, struct fv_diag *d)
{
	size_t i, k, total = 0;
	const json_t *g, *c;
	char path[64];
	fv_err e;

	if (!a || json_is_null(a))
		return FV_OK;
	if (!json_is_array(a))
		return fv_diag_set(d, FV_EINVAL, "subgroups: must be an array");
	json_array_foreach(a, i, g)
	{
		const json_t *cats = json_object_get(g, "categories");
		if (!json_is_object(g) || !json_is_array(cats))
			return fv_diag_set(d, FV_EINVAL, "subgroups[%zu]: needs categories", i);
		total += json_array_size(cats);
	}
	if (total > 64 * FV_MAX_REPORT_SITES)
		return fv_diag_set(d, FV_ELIMIT, "subgroups: more than %d categories",
				   64 * FV_MAX_REPORT_SITES);
	if (total && !(r->subs = fv_calloc(total, sizeof(*r->subs))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	json_array_foreach(a, i, g)
	{
		const char *name;
		fv_fmt(path, sizeof(path), "subgroups[%zu]", i);
		if ((e = need_str(g, "subgroup", path, &name, d)))
			return e;
		json_array_foreach(json_object_get(g, "categories"), k, c)
		{
			struct rp_sub *o = &r->subs[r->nsubs++];
			const json_t *auc = json_object_get(c, "auroc");
			double sites = 0, withheld = 0;
			fv_fmt(path, sizeof(path), "subgroups[%zu].categories[%zu]", i, k);
			o->subgroup = name;
			o->auc = o->lo = o->hi = NAN;
			if ((e = need_str(c, "category", path, &o->category, d)) ||
			    (e = need_count(c, "n", path, &o->n, d)) ||
			    (e = need_count(c, "n_pos", path, &o->n_pos, d)) ||
			    (e = opt_num(c, "sites", path, 0, 1e9, &sites, d)) ||
			    (e = opt_num(c, "withheld_at_sites", path, 0, 1e9, &withheld, d)))
				return e;
			o->sites = isnan(sites) ? 0 : (long)sites;
			o->withheld = isnan(withheld) ? 0 : (long)withheld;
			if (auc && json_is_object(auc)) {
				if ((e = opt_num(auc, "estimate", path, 0, 1, &o->auc, d)) ||
				    (e = opt_num(auc, "ci_low", path, 0, 1, &o->lo, d)) ||
				    (e = opt_num(auc, "ci_high", path, 0, 1, &o->hi, d)))
					return e;
				o->has_auc = !isnan(o->auc);
			}
		}
	}
	return FV_OK;
}

/* ---- head to head ---- */

/* Required finite number in [lo, hi]. */
static fv_err need_num(const json_t *o, const char *key, const char *path, double lo, double hi,
		       double *out, struct fv_diag *d)
{
	fv_err e = opt_num(o, key, path, lo, hi, out, d);
	if (!e && isnan(*out))
		return bad(d, path, key, "missing (a number is required)");
	return e;
}

/* A model named by its version id: its index in head_to_head.models. */
static fv_err need_model(const json_t *o, const char *key, const char *path, const struct rp_h2h *h,
			 int *out, struct fv_diag *d)
{
	const char *v;
	fv_err e;

	if ((e = need_str(o, key, path, &v, d)))
		return e;
	for (size_t k = 0; k < h->nmodels; k++)
		if (!strcmp(h->models[k].version_id, v)) {
			*out = (int)k;
			return FV_OK;
		}
	return bad(d, path, key, "not a model of head_to_head.models");
}

/* The pair (a, b), added when new; -1 when there are RP_H2H_PAIRS already. */
static int pair_of(struct rp_h2h *h, int a, int b)
{
	size_t k;
	for (k = 0; k < h->npairs && !(h->pairs[k].a == a && h->pairs[k].b == b); k++)
		;
	if (k == h->npairs) {
		if (k == RP_H2H_PAIRS)
			return -1;
		memset(&h->pairs[k], 0, sizeof(h->pairs[k]));
		h->pairs[k].a = a;
		h->pairs[k].b = b;
		h->pairs[k].j_sites = -1;
		h->npairs++;
	}
	return (int)k;
}

/* head_to_head.models: the run's model first, each version id once. */
static fv_err parse_h2h_models(const json_t *h, struct rp *r, struct fv_diag *d)
{
	struct rp_h2h *o = &r->h2h;
	const json_t *a = json_object_get(h, "models"), *x;
	char p[48];
	size_t k;
	fv_err e;

	if (!a)
		return fv_diag_set(d, FV_EINVAL,
				   "head_to_head.models: missing (an array is required)");
	if (!json_is_array(a))
		return fv_diag_set(d, FV_EINVAL, "head_to_head.models: must be an array");
	if (json_array_size(a) > RP_H2H_MODELS)
		return fv_diag_set(d, FV_ELIMIT, "head_to_head.models: more than %d",
				   RP_H2H_MODELS);
	if (json_array_size(a) < 2)
		return fv_diag_set(d, FV_EINVAL, "head_to_head.models: fewer than two models");
	json_array_foreach(a, k, x)
	{
		struct rp_model *m = &o->models[k];
		fv_fmt(p, sizeof(p), "head_to_head.models[%zu]", k);
		if (!json_is_object(x))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = need_str(x, "version_id", p, &m->version_id, d)) ||
		    (e = need_str(x, "vendor", p, &m->vendor, d)) ||
		    (e = opt_str(x, "name", p, &m->name, d)) ||
		    (e = opt_str(x, "version", p, &m->version, d)) ||
		    (e = opt_num(x, "auroc", p, 0, 1, &m->auc, d)) ||
		    (e = opt_num(x, "ci_low", p, 0, 1, &m->lo, d)) ||
		    (e = opt_num(x, "ci_high", p, 0, 1, &m->hi, d)))
			return e;
		if (k == 0 && strcmp(m->version_id, r->version_id) != 0)
			return bad(d, p, "version_id", "not the run's model (model.version_id)");
		for (size_t j = 0; j < k; j++)
			if (!strcmp(o->models[j].version_id, m->version_id))
				return fv_diag_set(
				    d, FV_EINVAL, "%s.version_id: repeats head_to_head.models[%zu]",
				    p, j);
		o->nmodels = k + 1;
	}
	return FV_OK;
}

/* A rank in [1, n]. */
static fv_err need_rank(const json_t *o, const char *key, const char *path, size_t n, long *out,
			struct fv_diag *d)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return bad(d, path, key, "missing (an integer is required)");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || (size_t)json_integer_value(v) > n)
		return fv_diag_set(d, FV_EINVAL, "%s.%s: must be an integer between 1 and %zu",
				   path, key, n);
	*out = (long)json_integer_value(v);
	return FV_OK;
}

/* head_to_head.leaderboard: each model at most once, its rank inside its rank interval. */
static fv_err parse_h2h_board(const json_t *h, struct rp_h2h *o, struct fv_diag *d)
{
	const json_t *a = json_object_get(h, "leaderboard"), *x;
	char p[48];
	size_t k;
	fv_err e;

	if (!a)
		return fv_diag_set(d, FV_EINVAL,
				   "head_to_head.leaderboard: missing (an array is required)");
	if (!json_is_array(a))
		return fv_diag_set(d, FV_EINVAL, "head_to_head.leaderboard: must be an array");
	if (json_array_size(a) > o->nmodels)
		return fv_diag_set(d, FV_EINVAL,
				   "head_to_head.leaderboard: more rows than head_to_head.models");
	json_array_foreach(a, k, x)
	{
		struct rp_rank *b = &o->board[k];
		size_t n = json_array_size(a);
		fv_fmt(p, sizeof(p), "head_to_head.leaderboard[%zu]", k);
		if (!json_is_object(x))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = need_model(x, "version_id", p, o, &b->model, d)) ||
		    (e = need_rank(x, "rank", p, n, &b->rank, d)) ||
		    (e = need_rank(x, "rank_low", p, n, &b->lo, d)) ||
		    (e = need_rank(x, "rank_high", p, n, &b->hi, d)) ||
		    (e = opt_num(x, "auroc", p, 0, 1, &b->auc, d)) ||
		    (e = opt_num(x, "ci_low", p, 0, 1, &b->auc_lo, d)) ||
		    (e = opt_num(x, "ci_high", p, 0, 1, &b->auc_hi, d)))
			return e;
		if (b->lo > b->rank || b->rank > b->hi)
			return fv_diag_set(d, FV_EINVAL,
					   "%s: rank %ld is outside its interval %ld to %ld", p,
					   b->rank, b->lo, b->hi);
		for (size_t j = 0; j < k; j++)
			if (o->board[j].model == b->model)
				return fv_diag_set(
				    d, FV_EINVAL,
				    "%s.version_id: repeats head_to_head.leaderboard[%zu]", p, j);
		o->nboard = k + 1;
	}
	return FV_OK;
}

/* head_to_head.pooled_differences: each ordered pair of distinct models at most once. */
static fv_err parse_h2h_pooled(const json_t *h, struct rp_h2h *o, struct fv_diag *d)
{
	const json_t *a = json_object_get(h, "pooled_differences"), *x, *v;
	char p[64];
	size_t k;
	fv_err e;

	if (!a)
		return fv_diag_set(
		    d, FV_EINVAL,
		    "head_to_head.pooled_differences: missing (an array is required)");
	if (!json_is_array(a))
		return fv_diag_set(d, FV_EINVAL,
				   "head_to_head.pooled_differences: must be an array");
	if (json_array_size(a) > RP_H2H_PAIRS)
		return fv_diag_set(d, FV_ELIMIT, "head_to_head.pooled_differences: more than %d",
				   RP_H2H_PAIRS);
	json_array_foreach(a, k, x)
	{
		struct rp_pair *q;
		int ma, mb, at;
		fv_fmt(p, sizeof(p), "head_to_head.pooled_differences[%zu]", k);
		if (!json_is_object(x))
			return fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
		if ((e = need_model(x, "a", p, o, &ma, d)) ||
		    (e = need_model(x, "b", p, o, &mb, d)))
			return e;
		if (ma == mb)
			return bad(d, p, "b", "the same model as a");
		/* the pairs so far are those of the entries before, in order */
		if ((at = pair_of(o, ma, mb)) < 0 || (size_t)at < k)
			return fv_diag_set(
			    d, FV_EINVAL, "%s: repeats head_to_head.pooled_differences[%d]", p, at);
		q = &o->pairs[at];
		q->has_json = true;
		if ((e = need_num(x, "difference", p, -1, 1, &q->j_diff, d)) ||
		    (e = opt_num(x, "ci_low", p, -HUGE_VAL, HUGE_VAL, &q->j_lo, d)) ||
		    (e = opt_num(x, "ci_high", p, -HUGE_VAL, HUGE_VAL, &q->j_hi, d)) ||
		    (e = opt_num(x, "p", p, 0, 1, &q->j_p, d)) ||
		    (e = opt_str(x, "method", p, &q->j_method, d)))
			return e;
		if ((v = json_object_get(x, "sites")) && !json_is_null(v)) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > FV_MAX_REPORT_SITES)
				return bad(d, p, "sites", "must be a small non-negative integer");
			q->j_sites = (long)json_integer_value(v);
		}
	}
	return FV_OK;
}

/* head_to_head.site_differences (optional: older head-to-head reports have none): each names a
 * site with results and an ordered pair of models, at most once per site and pair; the
 * interval and p are recomputed from the difference and its paired variance. */
static fv_err parse_h2h_sites(const json_t *h, struct rp *r, struct fv_diag *d)
{
	struct rp_h2h *o = &r->h2h;
	const json_t *a, *x;
	void *buf;
	uint16_t *seen = NULL; /* per pair and site: 1 + the entry naming it, 0 for none */
	_Static_assert(FV_MAX_REPORT_SITE_DIFFS < UINT16_MAX, "entries numbered in a uint16_t");
	char p[64];
	size_t k;
	fv_err e = FV_OK;

	if ((e = opt_array(h, "site_differences", "head_to_head", FV_MAX_REPORT_SITE_DIFFS, "",
			   sizeof(*o->sd), &a, &buf, d)) != FV_OK)
		return e;
	if (!(o->sd = buf))
		return FV_OK;
	if (!(seen = fv_calloc((size_t)RP_H2H_PAIRS * r->nsites + 1, sizeof(*seen)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(a, k, x)
	{
		struct rp_sdiff *s = &o->sd[k];
		int ma, mb;
		double num;
		size_t i;
		fv_fmt(p, sizeof(p), "head_to_head.site_differences[%zu]", k);
		if (!json_is_object(x)) {
			e = fv_diag_set(d, FV_EINVAL, "%s: must be an object", p);
			goto out;
		}
		if ((e = need_str(x, "site", p, &s->site, d)) ||
		    (e = need_model(x, "a", p, o, &ma, d)) ||
		    (e = need_model(x, "b", p, o, &mb, d)) ||
		    (e = need_num(x, "difference", p, -1, 1, &s->diff, d)) ||
		    (e = need_num(x, "variance", p, 0, 1, &s->var, d)) ||
		    (e = opt_num(x, "ci_low", p, -HUGE_VAL, HUGE_VAL, &num, d)) ||
		    (e = opt_num(x, "ci_high", p, -HUGE_VAL, HUGE_VAL, &num, d)) ||
		    (e = opt_num(x, "p", p, 0, 1, &num, d)))
			goto out;
		for (i = 0;
		     i < r->nsites && !(r->sites[i].ok && !strcmp(r->sites[i].node, s->site)); i++)
			;
		if (i == r->nsites) {
			e = bad(d, p, "site", "not a site with results in this report");
			goto out;
		}
		if (ma == mb) {
			e = bad(d, p, "b", "the same model as a");
			goto out;
		}
		if (!(s->var > 0)) {
			e = bad(d, p, "variance", "must be positive");
			goto out;
		}
		if ((s->pair = pair_of(o, ma, mb)) < 0) {
			e = fv_diag_set(d, FV_ELIMIT, "%s: more than %d pairs of models", p,
					RP_H2H_PAIRS);
			goto out;
		}
		s->node = i;
		if (seen[(size_t)s->pair * r->nsites + i]) {
			e = fv_diag_set(d, FV_EINVAL,
					"%s: repeats head_to_head.site_differences[%u] (same site "
					"and models)",
					p, (unsigned)seen[(size_t)s->pair * r->nsites + i] - 1);
			goto out;
		}
		seen[(size_t)s->pair * r->nsites + i] = (uint16_t)(k + 1);
		s->lo = s->diff - r->z * sqrt(s->var);
		s->hi = s->diff + r->z * sqrt(s->var);
		s->p = 2 * fv_stats_pnorm(-fabs(s->diff) / sqrt(s->var));
		o->pairs[s->pair].nsites++;
		o->nsd = k + 1;
	}
out:
	fv_free(seen);
	return e;
}

/* Each pair's pooled difference from its site differences, as `fedval results` pools them:
 * random effects by REML with the Hartung-Knapp interval (DerSimonian-Laird when REML does
 * not converge), one site as it is. */
static void h2h_pool(struct rp *r)
{
	double y[FV_MAX_REPORT_SITES], v[FV_MAX_REPORT_SITES];

	for (size_t q = 0; q < r->h2h.npairs; q++) {
		struct rp_pair *pr = &r->h2h.pairs[q];
		struct fv_meta m;
		size_t k = 0;
		for (size_t i = 0; i < r->h2h.nsd && k < FV_MAX_REPORT_SITES; i++)
			if (r->h2h.sd[i].pair == (int)q) {
				y[k] = r->h2h.sd[i].diff;
				v[k++] = r->h2h.sd[i].var;
			}
		if (!k)
			continue;
		pr->method = k >= 2 ? FV_META_REML : FV_META_FE;
		pr->hk = k >= 2;
		if (fv_stats_meta(y, v, k, pr->method, pr->hk, r->conf, &m, NULL) != FV_OK) {
			pr->method = FV_META_DL;
			if (fv_stats_meta(y, v, k, pr->method, pr->hk, r->conf, &m, NULL) != FV_OK)
				continue;
		}
		pr->has_pool = true;
		pr->k = k;
		pr->mu = m.mu;
		pr->lo = m.ci_lo;
		pr->hi = m.ci_hi;
		pr->p = m.p;
		pr->tau2 = m.tau2;
	}
}

/* "head_to_head" (optional; null for a single-model run). */
static fv_err parse_h2h(const json_t *h, struct rp *r, struct fv_diag *d)
{
	fv_err e;

	if (!h || json_is_null(h))
		return FV_OK;
	if (!json_is_object(h))
		return fv_diag_set(d, FV_EINVAL, "head_to_head: must be an object or null");
	if ((e = parse_h2h_models(h, r, d)) || (e = parse_h2h_board(h, &r->h2h, d)) ||
	    (e = parse_h2h_pooled(h, &r->h2h, d)) || (e = parse_h2h_sites(h, r, d)))
		return e;
	h2h_pool(r);
	r->h2h.present = true;
	return FV_OK;
}

/* "recalibration": {status, intercept, intercept_se, slope, slope_se} (optional). */
static fv_err parse_recal(const json_t *f, struct rp *r, struct fv_diag *d)
{
	fv_err e;

	r->recal_a = r->recal_a_se = r->recal_b = r->recal_b_se = NAN;
	if (!f || json_is_null(f))
		return FV_OK;
	if (!json_is_object(f))
		return fv_diag_set(d, FV_EINVAL, "recalibration: must be an object");
	if ((e = opt_str(f, "status", "recalibration", &r->recal_status, d)) ||
	    (e = opt_num(f, "intercept", "recalibration", -HUGE_VAL, HUGE_VAL, &r->recal_a, d)) ||
	    (e = opt_num(f, "intercept_se", "recalibration", 0, HUGE_VAL, &r->recal_a_se, d)) ||
	    (e = opt_num(f, "slope", "recalibration", -HUGE_VAL, HUGE_VAL, &r->recal_b, d)) ||
	    (e = opt_num(f, "slope_se", "recalibration", 0, HUGE_VAL, &r->recal_b_se, d)))
		return e;
	return FV_OK;
}

static fv_err parse_pooled(const json_t *p, struct rp *r, struct fv_diag *d)
{
	const json_t *v, *fe;
	fv_err e;

	r->pbrier = r->poe = r->fe_est = r->fe_lo = r->fe_hi = r->poe_lo = r->poe_hi = NAN;
	prop(&r->pprev, 0, 0, r->conf);
	if (!p || json_is_null(p))
		return FV_OK;
	if (!json_is_object(p))
		return fv_diag_set(d, FV_EINVAL, "pooled: must be an object");
	if (!json_object_get(p, "n"))
		return FV_OK; /* no successful site: the report has only "sites" */
	r->has_pooled = true;
	if ((e = need_count(p, "n", "pooled", &r->pn, d)) ||
	    (e = need_count(p, "n_pos", "pooled", &r->ppos, d)) ||
	    (e = opt_num(p, "brier", "pooled", 0, 1, &r->pbrier, d)) ||
	    (e = opt_num(p, "observed_expected", "pooled", 0, HUGE_VAL, &r->poe, d)))
		return e;
	if (r->ppos > r->pn)
		return fv_diag_set(d, FV_EINVAL, "pooled.n_pos: exceeds pooled.n");
	prop(&r->pprev, r->ppos, r->pn, r->conf);
	if (r->poe > 0) {
		r->pexpected = (double)r->ppos / r->poe;
		oe_ci(r->ppos, r->pexpected, r->conf, &r->poe_lo, &r->poe_hi);
	}
	if ((fe = json_object_get(p, "auroc_fixed_effect")) && !json_is_null(fe)) {
		if (!json_is_object(fe))
			return fv_diag_set(d, FV_EINVAL,
					   "pooled.auroc_fixed_effect: must be an object");
		if ((e = opt_num(fe, "estimate", "pooled.auroc_fixed_effect", 0, 1, &r->fe_est,
				 d)) ||
		    (e = opt_num(fe, "ci_low", "pooled.auroc_fixed_effect", -HUGE_VAL, HUGE_VAL,
				 &r->fe_lo, d)) ||
		    (e = opt_num(fe, "ci_high", "pooled.auroc_fixed_effect", -HUGE_VAL, HUGE_VAL,
				 &r->fe_hi, d)))
			return e;
	}
	if ((v = json_object_get(p, "thresholds")) &&
	    (e = parse_thresholds(v, "pooled.thresholds", true, r->conf, &r->pthr, &r->npthr, d)))
		return e;
	return FV_OK;
}

/* The distinct subgroups, categories and summary variables of the successful sites, in order
 * of first appearance, for the population section's rows; entries beyond the shown ones are
 * counted. Linear searches: at most RP_MIX_GROUPS, RP_MIX_CATS, RP_DQ_VARS names. */
static void index_population(struct rp *r)
{
	size_t ncats = 0; /* over all subgroups */

	for (size_t i = 0; i < r->nsites; i++) {
		struct rp_site *s = &r->sites[i];
		if (!s->ok)
			continue;
		for (size_t k = 0; k < s->nmix; k++) {
			struct rp_mix *m = &s->mix[k];
			struct rp_group *g;
			size_t a, c;
			for (a = 0; a < r->ngroups && strcmp(r->groups[a].name, m->subgroup); a++)
				;
			if (a == r->ngroups) {
				if (a == RP_MIX_GROUPS) {
					r->groups_more++;
					continue;
				}
				r->groups[r->ngroups++].name = m->subgroup;
			}
			g = &r->groups[a];
			m->group = (int)a;
			for (c = 0; c < g->ncats && strcmp(g->cats[c], m->category); c++)
				;
			if (c == g->ncats) {
				if (ncats == RP_MIX_CATS) {
					g->more++;
					continue;
				}
				g->cats[g->ncats++] = m->category;
				ncats++;
			}
			m->cat = (int)c;
		}
		for (size_t k = 0; k < s->data.nvars; k++) {
			struct rp_dvar *v = &s->data.vars[k];
			size_t a;
			for (a = 0; a < r->ndvars && strcmp(r->dvars[a], v->name); a++)
				;
			if (a == r->ndvars) {
				if (a == RP_DQ_VARS) {
					r->dvars_more++;
					continue;
				}
				r->dvars[r->ndvars++] = v->name;
			}
			v->row = (int)a;
		}
	}
}

/* Random-effects meta-analysis of logit AUROC with the delta-method variance. */
static void meta(struct rp *r, enum fv_meta_method method, int hk)
{
	double y[FV_MAX_REPORT_SITES], v[FV_MAX_REPORT_SITES];
	size_t k = 0, idx[FV_MAX_REPORT_SITES];
	struct fv_diag md = {{0}};

	r->meta_method = method;
	r->hk = hk;
	for (size_t i = 0; i < r->nsites; i++) {
		struct rp_site *s = &r->sites[i];
		double yi, vi;
		if (!s->ok || !s->has_auc || !(s->auc > 0 && s->auc < 1) || !(s->auc_var > 0))
			continue;
		fv_stats_logit_delta(s->auc, s->auc_var, &yi, &vi);
		if (!isfinite(yi) || !(vi > 0) || !isfinite(vi))
			continue;
		y[k] = yi;
		v[k] = vi;
		idx[k++] = i;
	}
	if (k < 2) {
		fv_strlcpy(
		    r->meta_why,
		    k ? "only one site has an AUROC with a positive variance: nothing to pool"
		      : "no site has an AUROC with a positive variance",
		    sizeof(r->meta_why));
		return;
	}
	if (fv_stats_meta(y, v, k, method, hk, r->conf, &r->meta, &md) != FV_OK) {
		if (method != FV_META_REML ||
		    fv_stats_meta(y, v, k, FV_META_DL, hk, r->conf, &r->meta, &md) != FV_OK) {
			fv_fmt(r->meta_why, sizeof(r->meta_why), "the meta-analysis failed: %s",
			       md.msg);
			return;
		}
		r->meta_method = FV_META_DL;
		fv_strlcpy(r->meta_why, "REML did not converge; DerSimonian-Laird used instead",
			   sizeof(r->meta_why));
	}
	r->has_meta = true;
	r->mu = fv_stats_expit(r->meta.mu);
	r->mu_lo = fv_stats_expit(r->meta.ci_lo);
	r->mu_hi = fv_stats_expit(r->meta.ci_hi);
	r->pi_lo = fv_stats_expit(r->meta.pi_lo);
	r->pi_hi = fv_stats_expit(r->meta.pi_hi);
	double sw = 0;
	for (size_t j = 0; j < k; j++)
		sw += 1.0 / (v[j] + r->meta.tau2);
	for (size_t j = 0; j < k; j++) {
		r->sites[idx[j]].in_meta = true;
		r->sites[idx[j]].weight = 100.0 / (v[j] + r->meta.tau2) / sw;
	}
}

fv_err rp_parse(const json_t *j, const struct fv_report_opts *o, struct rp *r, struct fv_diag *d)
{
	const json_t *run, *model, *sites, *v;
	const char *schema;
	fv_err e;

	memset(r, 0, sizeof(*r));
	r->conf = o->conf;
	r->z = fv_stats_qnorm(1 - (1 - o->conf) / 2);
	r->title = o->title;
	r->generated_us = -1;
	if (!json_is_object(j))
		return fv_diag_set(d, FV_EINVAL, "the report must be a JSON object");
	if ((e = need_str(j, "schema", "", &schema, d)))
		return e;
	if (strcmp(schema, FV_REPORT_SCHEMA) != 0)
		return fv_diag_set(d, FV_EUNSUPPORTED, "schema: not \"%s\"", FV_REPORT_SCHEMA);
	if ((v = json_object_get(j, "task")) && json_is_string(v))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "task: a %.20s run is not rendered as HTML (binary runs only); "
				   "its metrics are in the JSON report (pooled, sites[].metrics)",
				   json_string_value(v));
	if ((v = json_object_get(j, "generated_us")) && json_is_integer(v) &&
	    json_integer_value(v) >= 0)
		r->generated_us = (long long)json_integer_value(v);
	if ((e = need_obj(j, "run", "", &run, d)) ||
	    (e = need_str(run, "run_id", "run", &r->run_id, d)) ||
	    (e = opt_str(run, "state", "run", &r->run_state, d)) ||
	    (e = opt_str(run, "benchmark", "run", &r->benchmark, d)) ||
	    (e = need_obj(j, "model", "", &model, d)) ||
	    (e = need_str(model, "version_id", "model", &r->version_id, d)) ||
	    (e = need_str(model, "onnx_sha256", "model", &r->onnx_sha, d)) ||
	    (e = need_str(model, "vendor", "model", &r->vendor, d)) ||
	    (e = opt_str(j, "note", "", &r->note, d)))
		return e;
	if ((v = json_object_get(j, "benchmark_spec")) && !json_is_null(v)) {
		if (!json_is_object(v))
			return fv_diag_set(d, FV_EINVAL, "benchmark_spec: must be an object");
		r->spec = v;
	}
	if ((v = json_object_get(model, "manifest")) && !json_is_null(v)) {
		if (!json_is_object(v))
			return fv_diag_set(d, FV_EINVAL, "model.manifest: must be an object");
		r->manifest = v;
		if ((e = opt_str(v, "name", "model.manifest", &r->model_name, d)) ||
		    (e = opt_str(v, "version", "model.manifest", &r->model_version, d)))
			return e;
	}
	if (!(sites = json_object_get(j, "sites")))
		return fv_diag_set(d, FV_EINVAL, "sites: missing (an array is required)");
	if (!json_is_array(sites))
		return fv_diag_set(d, FV_EINVAL, "sites: must be an array");
	if (json_array_size(sites) > FV_MAX_REPORT_SITES)
		return fv_diag_set(d, FV_ELIMIT, "sites: more than %d", FV_MAX_REPORT_SITES);
	if (json_array_size(sites) &&
	    !(r->sites = fv_calloc(json_array_size(sites), sizeof(*r->sites))))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(sites); i++) {
		r->nsites = i + 1;
		if ((e = parse_site(json_array_get(sites, i), i, r->conf, &r->sites[i], d)))
			return e;
		r->nok += r->sites[i].ok;
	}
	if ((e = parse_pooled(json_object_get(j, "pooled"), r, d)))
		return e;
	if ((e = parse_subgroups(json_object_get(j, "subgroups"), r, d)) ||
	    (e = parse_recal(json_object_get(j, "recalibration"), r, d)) ||
	    (e = parse_h2h(json_object_get(j, "head_to_head"), r, d)))
		return e;
	index_population(r);
	meta(r, o->meta, o->hk);
	return FV_OK;
}

void rp_fini(struct rp *r)
{
	for (size_t i = 0; i < r->nsites && r->sites; i++) {
		fv_free(r->sites[i].thr);
		fv_free(r->sites[i].ops);
		fv_free(r->sites[i].mix);
		fv_free(r->sites[i].data.vars);
	}
	fv_free(r->sites);
	fv_free(r->pthr);
	fv_free(r->subs);
	fv_free(r->h2h.sd);
	memset(r, 0, sizeof(*r));
}
