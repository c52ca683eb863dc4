/* Regression, survival and multiclass results (docs/statistics.md "Other tasks"): one site's
 * metrics and the pooled ones, shared by `fedval results` (from the sites' signed results),
 * `fedval stats --task` (from a local file) and the coordinator's dashboard, so all publish the
 * same numbers.
 *
 * Pooling: regression sums merge exactly (the pooled metrics are those of all records);
 * survival counts add up to the site-stratified C-index (pairs within a site only);
 * multiclass confusion rows add up over the sites that released them, and each class's
 * one-vs-rest AUROC is pooled by a random-effects meta-analysis on the logit scale. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fedval/report.h"
#include "fedval/stats.h"
#include "fedval/util.h"

json_t *fv_json_finite(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

enum fv_task fv_task_parse(const char *name)
{
	if (!name || !strcmp(name, "binary"))
		return FV_TASK_BINARY;
	if (!strcmp(name, "regression"))
		return FV_TASK_REGRESSION;
	if (!strcmp(name, "survival"))
		return FV_TASK_SURVIVAL;
	if (!strcmp(name, "multiclass"))
		return FV_TASK_MULTICLASS;
	return FV_TASK_UNKNOWN;
}

const char *fv_task_name(enum fv_task task)
{
	static const char *const names[] = {"binary", "regression", "survival", "multiclass"};
	return task < FV_TASK_UNKNOWN ? names[task] : "unknown";
}

bool fv_task_from_result(const Fedval__SiteResult *r, struct fv_task_stats *t)
{
	memset(t, 0, sizeof(*t));
	t->n = r->n;
	if (r->regression) {
		const Fedval__RegressionSums *g = r->regression;
		t->reg = (struct fv_reg_sums){r->n,   g->mean_y, g->mean_p, g->syy,
					      g->spp, g->spy,	 g->sae,    g->sse};
		return true;
	}
	if (r->survival) {
		t->events = r->n_pos;
		t->comparable = r->survival->comparable;
		t->conc2 = r->survival->concordant2;
		return true;
	}
	if (r->multiclass && r->multiclass->classes <= FV_MAX_CLASSES &&
	    r->multiclass->n_per_class == r->multiclass->classes) {
		const Fedval__MulticlassResult *m = r->multiclass;
		t->classes = m->classes;
		t->has_micro = m->has_micro_auc;
		t->micro_auc = m->micro_auc;
		for (uint32_t c = 0; c < m->classes; c++) {
			const Fedval__ClassResult *k = m->per_class[c];
			t->released[c] = !(k->has_suppressed && k->suppressed) && k->has_n;
			t->class_n[c] = k->n;
			t->has_auc[c] = k->has_auc && k->has_auc_var;
			t->auc[c] = k->auc;
			t->auc_var[c] = k->auc_var;
			t->has_row[c] = k->n_predicted == m->classes;
			for (uint32_t j = 0; t->has_row[c] && j < m->classes; j++)
				t->row[c][j] = k->predicted[j];
		}
		return true;
	}
	return false;
}

fv_err fv_task_compute(enum fv_task task, size_t classes, const double *score,
		       const double *outcome, const uint8_t *label, size_t n,
		       struct fv_task_stats *t, struct fv_diag *d)
{
	double auc[FV_MAX_CLASSES], var[FV_MAX_CLASSES], macro, micro;
	uint64_t cm[FV_MAX_CLASSES * FV_MAX_CLASSES];
	fv_err e;

	memset(t, 0, sizeof(*t));
	t->n = n;
	switch (task) {
	case FV_TASK_REGRESSION:
		return fv_stats_regression_sums(score, outcome, n, &t->reg, d);
	case FV_TASK_SURVIVAL:
		for (size_t i = 0; i < n; i++)
			t->events += label[i];
		return fv_stats_cindex_counts(outcome, label, score, n, &t->conc2, &t->comparable,
					      d);
	case FV_TASK_MULTICLASS:
		if (classes < 3 || classes > FV_MAX_CLASSES)
			return fv_diag_set(d, FV_EINVAL, "multiclass: 3 to %d classes, not %zu",
					   FV_MAX_CLASSES, classes);
		if ((e = fv_stats_multiclass_var(score, label, n, classes, auc, var, &macro, &micro,
						 NULL, cm, d)) != FV_OK)
			return e;
		t->classes = (uint32_t)classes;
		t->has_micro = isfinite(micro);
		t->micro_auc = micro;
		for (size_t c = 0; c < classes; c++) {
			t->released[c] = t->has_row[c] = true;
			t->has_auc[c] = isfinite(auc[c]);
			t->auc[c] = auc[c];
			t->auc_var[c] = var[c];
			for (size_t p = 0; p < classes; p++) {
				t->row[c][p] = cm[c * classes + p];
				t->class_n[c] += cm[c * classes + p];
			}
		}
		return FV_OK;
	default:
		return fv_diag_set(d, FV_EINVAL, "not a regression, survival or multiclass task");
	}
}

static json_t *auc_json(double a, double v)
{
	double lo = NAN, hi = NAN;
	if (isfinite(a) && isfinite(v) && v >= 0)
		fv_stats_auc_ci(a, v, 0.95, &lo, &hi);
	return json_pack("{s:o,s:o,s:o,s:o}", "estimate", fv_json_finite(a), "variance",
			 fv_json_finite(v), "ci_low", fv_json_finite(lo), "ci_high",
			 fv_json_finite(hi));
}

static void regression_json(json_t *j, const struct fv_reg_sums *s)
{
	struct fv_regression m;
	fv_stats_regression_from_sums(s, &m);
	json_object_set_new(j, "mae", fv_json_finite(m.mae));
	json_object_set_new(j, "rmse", fv_json_finite(m.rmse));
	json_object_set_new(j, "r2", fv_json_finite(m.r2));
	json_object_set_new(j, "calibration_intercept", fv_json_finite(m.intercept));
	json_object_set_new(j, "calibration_slope", fv_json_finite(m.slope));
	json_object_set_new(j, "mean_outcome", fv_json_finite(s->mean_y));
	json_object_set_new(j, "mean_prediction", fv_json_finite(s->mean_p));
}

static void survival_json(json_t *j, uint64_t events, uint64_t comparable, uint64_t conc2)
{
	json_object_set_new(j, "events", json_integer((json_int_t)events));
	json_object_set_new(j, "comparable_pairs", json_integer((json_int_t)comparable));
	json_object_set_new(j, "c_index",
			    comparable ? json_real((double)conc2 / (2.0 * (double)comparable))
				       : json_null());
	if (!comparable)
		json_object_set_new(j, "c_index_reason",
				    json_string("no comparable pair (no event before a later "
						"time)"));
}

json_t *fv_task_json(enum fv_task task, const struct fv_task_stats *t)
{
	json_t *j = json_pack("{s:I}", "n", (json_int_t)t->n);

	if (task == FV_TASK_REGRESSION) {
		regression_json(j, &t->reg);
	} else if (task == FV_TASK_SURVIVAL) {
		survival_json(j, t->events, t->comparable, t->conc2);
	} else if (task == FV_TASK_MULTICLASS) {
		json_t *arr = json_array();
		double sum = 0;
		size_t used = 0;
		for (uint32_t c = 0; c < t->classes; c++) {
			json_t *k = json_pack("{s:I,s:b}", "class", (json_int_t)c, "withheld",
					      !t->released[c]);
			if (t->released[c]) {
				json_object_set_new(k, "n",
						    json_integer((json_int_t)t->class_n[c]));
				json_object_set_new(k, "auroc",
						    t->has_auc[c]
							? auc_json(t->auc[c], t->auc_var[c])
							: json_null());
				if (t->has_auc[c]) {
					sum += t->auc[c];
					used++;
				}
			}
			if (t->has_row[c]) {
				json_t *row = json_array();
				for (uint32_t p = 0; p < t->classes; p++)
					json_array_append_new(
					    row, json_integer((json_int_t)t->row[c][p]));
				json_object_set_new(k, "predicted", row);
			}
			json_array_append_new(arr, k);
		}
		json_object_set_new(j, "classes", json_integer(t->classes));
		json_object_set_new(j, "per_class", arr);
		json_object_set_new(j, "macro_auroc", used ? json_real(sum / used) : json_null());
		json_object_set_new(j, "micro_auroc",
				    t->has_micro ? fv_json_finite(t->micro_auc) : json_null());
	}
	return j;
}

/* Random-effects meta-analysis (REML, Hartung-Knapp) of logit AUROCs, back-transformed; the
 * keys of `fedval results`' meta-analyses. NULL for fewer than 2 estimates. */
static json_t *meta_logit(const double *y, const double *v, size_t k)
{
	struct fv_meta m;
	json_t *j;

	if (k < 2 || fv_stats_meta(y, v, k, FV_META_REML, 1, 0.95, &m, NULL) != FV_OK)
		return NULL;
	j = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:s}", "estimate", fv_stats_expit(m.mu),
		      "ci_low", fv_stats_expit(m.ci_lo), "ci_high", fv_stats_expit(m.ci_hi), "tau2",
		      m.tau2, "i2_percent", m.i2, "q", m.q, "q_p", m.q_p, "sites", (json_int_t)k,
		      "method", "random effects (REML, Hartung-Knapp) on logit scale");
	if (!isnan(m.pi_lo)) {
		json_object_set_new(j, "pi_low", json_real(fv_stats_expit(m.pi_lo)));
		json_object_set_new(j, "pi_high", json_real(fv_stats_expit(m.pi_hi)));
	}
	return j;
}

json_t *fv_task_pool(enum fv_task task, const struct fv_task_stats *t, size_t k)
{
	json_t *j = json_object();
	uint64_t n = 0;

	for (size_t i = 0; i < k; i++)
		n += t[i].n;
	json_object_set_new(j, "n", json_integer((json_int_t)n));
	json_object_set_new(j, "sites", json_integer((json_int_t)k));
	if (k == 0)
		return j;
	if (task == FV_TASK_REGRESSION) {
		struct fv_reg_sums s = {0};
		for (size_t i = 0; i < k; i++)
			fv_stats_regression_merge(&s, &t[i].reg);
		regression_json(j, &s);
	} else if (task == FV_TASK_SURVIVAL) {
		uint64_t ev = 0, comp = 0, c2 = 0;
		for (size_t i = 0; i < k; i++) {
			ev += t[i].events;
			comp += t[i].comparable;
			c2 += t[i].conc2;
		}
		survival_json(j, ev, comp, c2);
		json_object_set_new(j, "stratified_by_site", json_true());
	} else if (task == FV_TASK_MULTICLASS) {
		uint32_t K = t[0].classes;
		json_t *arr = json_array();
		double sum = 0;
		size_t used = 0;
		for (uint32_t c = 0; c < K; c++) {
			double y[64], v[64], one = NAN;
			size_t ka = 0, rows = 0;
			uint64_t row[FV_MAX_CLASSES] = {0}, cn = 0;
			bool all_n = true;
			for (size_t i = 0; i < k; i++) {
				if (t[i].classes != K)
					continue;
				if (t[i].released[c])
					cn += t[i].class_n[c];
				else
					all_n = false;
				if (t[i].has_auc[c] && t[i].auc[c] > 0 && t[i].auc[c] < 1 &&
				    t[i].auc_var[c] > 0 && ka < 64) {
					fv_stats_logit_delta(t[i].auc[c], t[i].auc_var[c], &y[ka],
							     &v[ka]);
					one = t[i].auc[c];
					ka++;
				}
				if (t[i].has_row[c]) {
					rows++;
					for (uint32_t p = 0; p < K; p++)
						row[p] += t[i].row[c][p];
				}
			}
			json_t *o = json_pack("{s:I,s:I,s:b,s:I}", "class", (json_int_t)c, "n",
					      (json_int_t)cn, "n_complete", all_n, "row_sites",
					      (json_int_t)rows);
			/* one site: its own estimate */
			json_t *m = ka == 1 ? json_pack("{s:f,s:I}", "estimate", one, "sites",
							(json_int_t)1)
					    : meta_logit(y, v, ka);
			json_object_set_new(o, "auroc_random_effects", m ? m : json_null());
			const json_t *mu = json_object_get(m, "estimate");
			if (json_is_number(mu)) {
				sum += json_number_value(mu);
				used++;
			}
			json_t *pr = json_array();
			for (uint32_t p = 0; p < K; p++)
				json_array_append_new(pr, json_integer((json_int_t)row[p]));
			json_object_set_new(o, "predicted", pr);
			json_array_append_new(arr, o);
		}
		json_object_set_new(j, "classes", json_integer(K));
		json_object_set_new(j, "per_class", arr);
		json_object_set_new(j, "macro_auroc", used ? json_real(sum / used) : json_null());
	}
	return j;
}
