/* Monitoring schedules (issue 8 item 4, docs/monitoring.md "Scheduled monitoring"): a run per
 * (benchmark version, model version) every cadence, started by the coordinator itself exactly
 * as a StartRun request would be, and a CUSUM over the schedule's completed runs whose crossing
 * of h is an alert (stored per schedule, logged as event=monitor_alert, audited, shown by
 * `fedval monitor schedule list` and /api/v1/schedules).
 *
 * Thread-safety: the scheduler thread and the request handlers share only the store (its
 * mutex) and the audit log (its own lock). Lifecycle: scheduler_start once the store and the
 * audit log are open, scheduler_stop before they are closed. */
#ifndef FEDVAL_COORD_SCHEDULE_H
#define FEDVAL_COORD_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "coord.h"

/* Hostile-input limits of schedules (candidates for include/fedval/limits.h). */
#ifndef FV_SCHED_MAX
/* Active schedules: each is examined every second by one thread. */
#define FV_SCHED_MAX 1000
#endif
#ifndef FV_SCHED_MAX_PERIODS
/* Completed runs analysed per schedule (baseline first): monthly for 100 years, as
 * `fedval monitor check`; later runs are listed but not analysed. */
#define FV_SCHED_MAX_PERIODS 1200
#endif
#ifndef FV_SCHED_MIN_SECONDS
/* Shortest cadence ("PT1S"): anything shorter would only flood the sites with jobs. */
#define FV_SCHED_MIN_SECONDS 1
#endif
#ifndef FV_SCHED_MAX_UNITS
/* Largest number in one field of an ISO 8601 duration (P100000D is about 274 years). */
#define FV_SCHED_MAX_UNITS 100000
#endif

/* A cadence as calendar months plus seconds; "monthly" = P1M, "yearly" = P1Y = 12 months,
 * "biennial" = P2Y = 24 months. */
struct schedule_cadence {
	int months;
	int64_t seconds;
};

/* Parse "monthly", "yearly", "biennial" or an ISO 8601 duration P[nY][nM][nW][nD][T[nH][nM]
 * [nS]] (integers only). FV_EINVAL for anything else, FV_ELIMIT for a field above
 * FV_SCHED_MAX_UNITS or a total below FV_SCHED_MIN_SECONDS. */
fv_err schedule_cadence_parse(const char *s, struct schedule_cadence *c);
/* The cadence an MDR class suggests: IIa -> "biennial", IIb and III -> "yearly"; NULL for
 * anything else (class I devices get no periodic schedule by default). */
const char *schedule_mdr_cadence(const char *mdr_class);
/* due_us plus one cadence: months stepped on the UTC calendar (the day clamped to the month's
 * last), then the seconds. */
int64_t schedule_step(int64_t due_us, const struct schedule_cadence *c);

/* Called by the run-start core inside its transaction, store locked, before the commit;
 * a failure rolls the run back. */
typedef fv_err (*coord_run_hook)(void *arg, const char *run_id);

/* Start a run as principal `by` (recorded as the run's creator) exactly as a StartRun request
 * does (coordinator/handlers.c). run_id must hold FV_MAX_ID bytes; *njobs (optional) gets the
 * number of jobs. Errors say why in d. */
fv_err coord_start_run(struct coord *co, const char *by, const Fedval__StartRun *q,
		       coord_run_hook hook, void *hook_arg, char *run_id, size_t *njobs,
		       struct fv_diag *d);

/* Request handlers (authority): ScheduleAdd -> Ack{id, "created"}, ScheduleRemove ->
 * Ack{id, "removed"}, ScheduleListRequest -> ScheduleListReply. */
fv_err schedule_handle_add(struct req *r, struct fv_diag *d);
fv_err schedule_handle_remove(struct req *r, struct fv_diag *d);
fv_err schedule_handle_list(struct req *r, struct fv_diag *d);

/* The schedules as JSON for the dashboard: {"schedules": [...]}. Drift state and alerts only
 * when authority is true (they are derived from results). NULL when out of memory. */
json_t *schedule_json(struct coord *co, bool authority);

struct scheduler;
/* Start the thread that starts due runs and analyses completed ones, once a second. */
fv_err scheduler_start(struct coord *co, struct scheduler **out, struct fv_diag *d);
/* Stop and join the thread; accepts NULL. */
void scheduler_stop(struct scheduler *s);

#endif
