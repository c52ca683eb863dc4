/* Regression, survival and multiclass benchmarks at a node (docs/statistics.md "Other tasks").
 *
 * One thread reads the source in batches and runs the model; every record's score(s), outcome
 * and label are kept (8 bytes per score, plus 9 per record), because Harrell's C and the
 * one-vs-rest AUROCs need all of them at once. The statistics are computed at the end by
 * lib/stats, exactly as `fedval stats --task` computes them offline. */
#include <math.h>
#include <string.h>

#include "fedval/model.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

/* Every kept record: k scores, the outcome (regression target or survival time) and label. */
struct kept {
	size_t n, cap, k;
	double *score, *outcome;
	uint8_t *label;
};

static fv_err keep_grow(struct kept *kp, size_t more)
{
	size_t ncap = kp->cap ? kp->cap : 1u << 14;
	double *s, *o;
	uint8_t *l;

	if (kp->n + more <= kp->cap)
		return FV_OK;
	while (ncap < kp->n + more)
		ncap += ncap / 2;
	if (!(s = fv_realloc(kp->score, ncap * kp->k * sizeof(double))))
		return FV_ENOMEM;
	kp->score = s;
	if (!(o = fv_realloc(kp->outcome, ncap * sizeof(double))))
		return FV_ENOMEM;
	kp->outcome = o;
	if (!(l = fv_realloc(kp->label, ncap)))
		return FV_ENOMEM;
	kp->label = l;
	kp->cap = ncap;
	return FV_OK;
}

void node_task_compute(const struct eval_in *in, struct eval_out *out)
{
	struct fv_model *m = NULL;
	struct fv_source *src = NULL;
	struct fv_mapping map = {in->nvars, in->vars, in->columns, in->label_column};
	struct fv_labels lab = {0, in->n_outcomes};
	struct fv_diag d = {{0}};
	struct kept kp = {0};
	size_t batch = in->batch_rows ? in->batch_rows : 8192, nv = in->nvars - in->n_outcomes;
	size_t k = in->task == FV_TASK_MULTICLASS ? in->n_classes : 1;
	float *x = NULL, *xm = NULL;
	uint8_t *y = NULL;
	double *p = NULL;
	int64_t t0 = fv_mono_ms(), last = t0;
	fv_err e;

	lab.classes = in->task == FV_TASK_REGRESSION   ? 1
		      : in->task == FV_TASK_MULTICLASS ? in->n_classes
						       : 0;
	kp.k = k;
	if (in->task == FV_TASK_MULTICLASS &&
	    (in->n_classes < 3 || in->n_classes > FV_MAX_CLASSES)) {
		node_eval_fail(out, FV_EINVAL, "a multiclass benchmark has 3 to 16 classes");
		return;
	}
	if (in->n_outcomes >= in->nvars ||
	    (in->task != FV_TASK_MULTICLASS && in->n_outcomes != 1)) {
		node_eval_fail(out, FV_EINVAL, "the task's outcome variable is missing");
		return;
	}
	if ((e = fv_model_load(in->model, in->model_len, &m, &d)) != FV_OK) {
		fv_diag_prefix(&d, "model refused: ");
		node_eval_fail(out, e, d.msg);
		out->load_error = true;
		return;
	}
	if (fv_model_n_features(m) != nv) {
		fv_diag_set(&d, FV_EINVAL, "model takes %zu features, manifest declares %zu",
			    fv_model_n_features(m), nv);
		node_eval_fail(out, FV_EINVAL, d.msg);
		out->load_error = true;
		goto out;
	}
	if ((e = fv_source_open_task(in->source, &map, &lab, &src, &d)) != FV_OK ||
	    (in->cohort && (e = fv_source_set_cohort(src, in->cohort, &d)) != FV_OK)) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	/* Inputs are open: from here on the worker may only compute (DESIGN.md §4). */
	if (in->sandbox && (e = fv_sandbox_enter(in->sandbox, &d)) != FV_OK) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	if (!(x = fv_alloc(batch * in->nvars * sizeof(float))) ||
	    !(xm = fv_alloc(batch * nv * sizeof(float))) || !(y = fv_alloc(batch)) ||
	    !(p = fv_alloc(batch * k * sizeof(double)))) {
		node_eval_fail(out, FV_ENOMEM, "out of memory for evaluation batches");
		goto out;
	}
	for (;;) {
		size_t got = 0;
		if ((e = fv_source_read(src, x, y, batch, &got, &d)) != FV_OK) {
			node_eval_fail(out, e, d.msg);
			goto out;
		}
		if (got == 0)
			break;
		/* The model reads the predictors, not the outcomes after them. */
		for (size_t r = 0; r < got; r++)
			memcpy(xm + r * nv, x + r * in->nvars, nv * sizeof(float));
		e = k > 1 ? fv_model_predict_classes(m, xm, got, k, p, &d)
			  : fv_model_predict(m, xm, got, p, &d);
		if (e != FV_OK) {
			char msg[300];
			fv_fmt(msg, sizeof(msg), "model evaluation: %s", d.msg);
			node_eval_fail(out, e, msg);
			out->run_error = true;
			goto out;
		}
		if (keep_grow(&kp, got) != FV_OK) {
			node_eval_fail(out, FV_ENOMEM, "out of memory keeping the scores");
			goto out;
		}
		for (size_t r = 0; r < got; r++) {
			for (size_t c = 0; c < k; c++) {
				double v = p[r * k + c];
				if (!isfinite(v)) {
					char msg[160];
					/* Says which record, never its values. */
					fv_fmt(msg, sizeof(msg),
					       "model output for data record %zu is not a finite "
					       "number",
					       kp.n + r + 1);
					node_eval_fail(out, FV_EINVAL, msg);
					out->run_error = true;
					goto out;
				}
			}
			kp.outcome[kp.n + r] =
			    in->n_outcomes ? (double)x[r * in->nvars + in->nvars - 1] : 0.0;
			kp.label[kp.n + r] = y[r];
		}
		memcpy(kp.score + kp.n * k, p, got * k * sizeof(double));
		kp.n += got;
		node_progress(in, src, kp.n, t0, &last);
	}
	if (kp.n == 0) {
		node_eval_fail(out, FV_EINVAL, "the dataset has no records");
		goto out;
	}
	e = fv_task_compute(in->task, in->n_classes, kp.score, kp.outcome, kp.label, kp.n,
			    &out->task, &d);
	if (e != FV_OK) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	out->n = kp.n;
	out->n_pos = out->task.events;
	out->excluded = fv_source_excluded(src);
	out->rows_per_s = (double)kp.n * 1000.0 / (double)(fv_mono_ms() - t0 + 1);
	fv_log(FV_LOG_INFO, "eval_done", "task=%s rows=%zu excluded=%llu rows_per_s=%.0f",
	       fv_task_name(in->task), kp.n, (unsigned long long)out->excluded, out->rows_per_s);
out:
	fv_free(x);
	fv_free(xm);
	fv_free(y);
	fv_free(p);
	fv_free(kp.score);
	fv_free(kp.outcome);
	fv_free(kp.label);
	fv_source_close(src);
	fv_model_free(m);
}
