/* Printing regression, survival and multiclass metrics for `fedval results`, `fedval stats
 * --task` and `fedval eval` (the numbers come from lib/report/tasks.c). */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "fedval/stats.h"

json_t *cli_task_pool(enum fv_task task, const struct fv_task_stats *t, size_t k, bool print)
{
	json_t *j = fv_task_pool(task, t, k);
	uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "n"));
#define NUM(key) json_number_value(json_object_get(j, key))

	if (!print || k == 0)
		return j;
	if (task == FV_TASK_REGRESSION)
		printf("pooled (%zu sites, n %llu): MAE %.4g, RMSE %.4g, R2 %.4f, calibration "
		       "intercept %.4g, slope %.4f\n",
		       k, (unsigned long long)n, NUM("mae"), NUM("rmse"), NUM("r2"),
		       NUM("calibration_intercept"), NUM("calibration_slope"));
	else if (task == FV_TASK_SURVIVAL)
		printf(
		    "pooled (%zu sites, n %llu, events %llu): site-stratified C-index %.4f over "
		    "%llu comparable pairs\n",
		    k, (unsigned long long)n,
		    (unsigned long long)json_integer_value(json_object_get(j, "events")),
		    json_is_number(json_object_get(j, "c_index")) ? NUM("c_index") : NAN,
		    (unsigned long long)json_integer_value(json_object_get(j, "comparable_pairs")));
	else if (task == FV_TASK_MULTICLASS && json_is_number(json_object_get(j, "macro_auroc")))
		printf("pooled (%zu sites, n %llu): macro AUROC %.4f (mean of the classes' "
		       "random-effects AUROCs)\n",
		       k, (unsigned long long)n, NUM("macro_auroc"));
	else if (task == FV_TASK_MULTICLASS)
		printf("pooled (%zu sites, n %llu): macro AUROC not estimable\n", k,
		       (unsigned long long)n);
#undef NUM
	return j;
}

void cli_task_print_site(enum fv_task task, const char *who, const struct fv_task_stats *t)
{
	if (task == FV_TASK_REGRESSION) {
		struct fv_regression m;
		fv_stats_regression_from_sums(&t->reg, &m);
		printf("  %-24s n %-8llu MAE %-10.4g RMSE %-10.4g R2 %-8.4f slope %.4f\n", who,
		       (unsigned long long)t->n, m.mae, m.rmse, m.r2, m.slope);
	} else if (task == FV_TASK_SURVIVAL) {
		printf("  %-24s n %-8llu events %-8llu C-index %.4f (%llu pairs)\n", who,
		       (unsigned long long)t->n, (unsigned long long)t->events,
		       t->comparable ? (double)t->conc2 / (2.0 * (double)t->comparable) : NAN,
		       (unsigned long long)t->comparable);
	} else if (task == FV_TASK_MULTICLASS) {
		printf("  %-24s n %-8llu AUROC by class:", who, (unsigned long long)t->n);
		for (uint32_t c = 0; c < t->classes; c++) {
			if (t->has_auc[c])
				printf(" %.3f", t->auc[c]);
			else
				printf(" %s", t->released[c] ? "n/e" : "withheld");
		}
		printf("\n");
	}
}
