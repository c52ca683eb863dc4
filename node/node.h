/* fedval-node internals: the session with the coordinator (main.c), job handling (job.c) and
 * evaluation in a child process (eval.c). */
#ifndef FEDVAL_NODE_H
#define FEDVAL_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fedval/audit.h"
#include "fedval/config.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/privacy.h"
#include "fedval/report.h"
#include "fedval/sandbox.h"
#include "fedval/stats.h"
#include "fedval/wire.h"

/* Site-supplied predictions ([predictions] in the node config): record key and score from a
 * CSV file, a SQLite table or query or a PostgreSQL query, joined to the labelled data by key,
 * used instead of running the model named `model`. */
struct node_byo {
	const char *model;	    /* manifest name it stands for; NULL: not configured */
	struct fv_source_spec spec; /* where the predictions are (never an image folder) */
	const char *key;	    /* its key column */
	const char *score;	    /* its score column (probabilities) */
	const char *data_key;	    /* key column of the [data] source */
	/* optional: a column naming the model version each score came from; only the rows of
	 * the job's model version (manifest "version") are used */
	const char *version_column;
};

struct node {
	struct fv_config *cfg;
	struct fv_client_opts copts;
	struct fv_client *client;
	char *ca_path, *cert_path, *key_path, *cache_dir, *state_dir, *data_path;
	struct fv_source_spec source;
	struct node_byo byo; /* byo.model == NULL: not configured */
	char *byo_path;
	int eval_threads;
	size_t eval_batch_rows;
	char *ca_pem;
	size_t ca_len;
	struct fv_policy policy;
	/* site policy ([policy] in the config; node/policy.c) */
	bool manual, require_legal_basis;
	const char *allowed_benchmarks, *allowed_vendors; /* comma lists; NULL = any */
	long budget_results, budget_period_days;
	/* differential-privacy noise on released counts (none by default), and the total
	 * epsilon per dataset per budget period (0: no limit) */
	struct fv_dp_params dp;
	double dp_budget;
	uint32_t rounding_base; /* released counts rounded to a multiple of it (0, 1: exact) */
	uint64_t min_subgroup;	/* smallest subgroup category released (0: min_cell rules only) */
	bool coarsen; /* [policy] small_cells = coarsen: withheld categories merged, released */
	const char *dataset; /* [data] name */
	/* the registered dataset summary; recomputed when a file source changes */
	char *summary_json, *summary_fp;
	uint64_t summary_rows;
	int64_t summary_stamp[4]; /* device, inode, size, mtime (ns) of the file summarised */
	struct fv_audit *audit;	  /* hash-chained record of what the node did (lib/audit) */
	int eval_timeout_s;
	int poll_wait_ms;
	int reconnect_max_ms; /* cap of the reconnection backoff */
	volatile int *stop;
};

#define NODE_MAX_THR   64
#define NODE_MAX_CMP   8 /* = FV_MAX_COMPARE */
#define NODE_MAX_SUB   FV_MAX_SUBGROUPS
#define NODE_MAX_CATS  FV_MAX_SUBGROUP_CATEGORIES
#define NODE_MAX_EDGES (NODE_MAX_CATS - 1)
/* The category under which [policy] small_cells = coarsen releases a subgroup's withheld
 * categories together. */
#define NODE_MERGED_CATEGORY "(merged)"
#define NODE_MAX_OP	     4 /* operating points of a benchmark, plus the vendor's declared one */
/* Operating-point targets (benchmark "operating_points"; DECLARED: the manifest's
 * "decision_threshold"). */
enum node_op { NODE_OP_SENS = 1, NODE_OP_SPEC, NODE_OP_PRATE, NODE_OP_DECLARED };
/* Bounds on a recalibration round the node evaluates (docs/security.md): |intercept|, |slope|
 * and the number of rounds of one job. */
#define NODE_ROUND_MAX_INTERCEPT 10.0
#define NODE_ROUND_MAX_SLOPE	 10.0
#define NODE_ROUND_MAX_STEPS	 50

/* A subgroup: a benchmark variable cut into bands by edges, or (no edges) its distinct
 * integer values. */
struct node_subgroup {
	char name[FV_MAX_NAME + 1];
	size_t var; /* index into eval_in.vars */
	uint32_t nedges;
	double edges[NODE_MAX_EDGES];
};

/* One category of a subgroup, as computed (before disclosure control). */
struct sub_out {
	uint8_t sub;
	char category[40];
	uint64_t n, n_pos;
	double auc, auc_var, brier_sum, sum_p;
	uint64_t tp[NODE_MAX_THR], fp[NODE_MAX_THR], tn[NODE_MAX_THR], fn[NODE_MAX_THR];
};
/* What the evaluation child hands back: sufficient statistics only. */
struct eval_out {
	int status; /* 0 ok, else an fv_err */
	char error[512];
	/* The error is about the model artefact itself (refused at load, wrong feature count),
	 * found before any record was read: the only kind of detail that may leave the site. */
	bool load_error;
	/* The model failed while running on records (its detail stays in the node log). */
	bool run_error;
	uint64_t n, n_pos;
	double auc, auc_var, brier_sum, sum_p;
	uint32_t n_thr;
	double thr[NODE_MAX_THR];
	uint64_t tp[NODE_MAX_THR], fp[NODE_MAX_THR], tn[NODE_MAX_THR], fn[NODE_MAX_THR];
	char mapping_sha256[65];
	double rows_per_s;
	uint64_t excluded; /* records the cohort rule left out */
	bool byo;	   /* scores came from site-supplied predictions */
	uint64_t byo_unmatched, byo_duplicates,
	    byo_unused;				 /* unused: predictions without a record */
	double round_g[2], round_h[4], round_ll; /* recalibration round sums */
	/* head-to-head: the compared models on the same records, paired with the first */
	uint32_t n_cmp;
	double cmp_auc[NODE_MAX_CMP], cmp_var[NODE_MAX_CMP], cmp_cov[NODE_MAX_CMP];
	double cmp_brier[NODE_MAX_CMP], cmp_sum_p[NODE_MAX_CMP];
	/* subgroups: categories in order of subgroup, then category */
	uint32_t n_subres;
	struct sub_out subres[NODE_MAX_SUB * NODE_MAX_CATS];
	char sub_error[NODE_MAX_SUB][128]; /* why a subgroup could not be formed ("" if ok) */
	/* Operating points: the last n_op of the n_thr threshold rows, in the order of
	 * eval_in.op_target, each at the threshold the site's scores give for its target. */
	uint32_t n_op;
	/* Other tasks (eval_task.c): the site's statistics before disclosure control
	 * (fv_task_compute); survival's events are also in n_pos. */
	struct fv_task_stats task;
};

/* Evaluation inputs, resolved from the benchmark, manifest and local mapping. */
struct eval_in {
	const uint8_t *model;
	size_t model_len;
	size_t nvars;
	const char **vars;    /* model input variables, in order */
	const char **columns; /* local column of each */
	const char *label_column;
	const char *cohort; /* the benchmark's cohort rule (docs/mapping.md) or NULL */
	const struct fv_source_spec *source;
	uint32_t n_thr;
	double thr[NODE_MAX_THR];
	/* operating points (n_thr + n_op <= NODE_MAX_THR): target and value, e.g. sensitivity
	 * 0.9; for NODE_OP_DECLARED the value is the threshold itself */
	uint32_t n_op;
	uint8_t op_target[NODE_MAX_OP + 1];
	double op_value[NODE_MAX_OP + 1];
	int timeout_s;
	int threads;	   /* model worker threads */
	size_t batch_rows; /* records per batch */
	/* A CSV file at least this large (0: 8 MiB) is cut into parts that the threads parse in
	 * parallel (fv_csv_split); smaller files are parsed by one thread. */
	uint64_t part_min_bytes;
	volatile int *cancel; /* set by the node on SIGTERM: the worker is killed */
	/* The first model reads vars[0..model_nvars); vars may hold more (the union of every
	 * compared model's inputs). Compared model k reads vars[cmp_index[k][j]]. */
	size_t model_nvars;
	uint32_t n_cmp;
	const uint8_t *cmp_model[NODE_MAX_CMP];
	size_t cmp_len[NODE_MAX_CMP], cmp_nvars[NODE_MAX_CMP];
	const size_t *cmp_index[NODE_MAX_CMP];
	uint32_t n_sub;
	struct node_subgroup sub[NODE_MAX_SUB];
	/* a round of a multi-round recalibration fit: sums at beta = (a, b) */
	bool round;
	double round_beta[2];
	/* Non-NULL (node_eval's child only): node_eval_compute enters this sandbox once the
	 * models are loaded and the source is open, before reading any record. */
	const struct fv_sandbox_opts *sandbox;
	/* Progress and cancellation (node_eval only): the worker sends its progress through
	 * progress_fd; the node writes it to status_path for `fedval site status`, and stops the
	 * worker when cancel_path (written by `fedval site cancel`) appears. */
	int progress_fd;	    /* 0 or -1: none (node_eval sets it for its child) */
	const struct node_byo *byo; /* non-NULL: join site-supplied predictions, no model */
	const char *model_version;  /* the job's manifest version (byo.version_column) */
	const char *job_id, *status_path, *cancel_path;
	/* Other tasks: the last n_outcomes of vars are outcomes no model reads (a regression's
	 * target, a survival time), and a multiclass label is a class 0..n_classes-1. */
	enum fv_task task;
	uint32_t n_classes;
	size_t n_outcomes;
};

/* What the worker reports while it runs (fixed size, written whole to a pipe). */
struct eval_progress {
	uint64_t rows;
	double rows_per_s, fraction; /* fraction of the input read, -1 when unknown */
};

#define NODE_MAX_THREADS 256

/* A failed evaluation: status e and the message (for the local log). */
void node_eval_fail(struct eval_out *out, fv_err e, const char *msg);
/* The site-supplied-predictions path of node_eval_compute (byo.c). */
void node_byo_compute(const struct eval_in *in, struct eval_out *out);
/* The path of node_eval_compute for regression, survival and multiclass (eval_task.c): one
 * thread reads and scores, every record's outcome and score is kept, then the task's
 * statistics are computed. */
void node_task_compute(const struct eval_in *in, struct eval_out *out);
/* Report the worker's progress (at most once a second): to the node through progress_fd, and
 * to the log with rows/s and, when the source knows its size, the ETA. */
void node_progress(const struct eval_in *in, const struct fv_source *src, uint64_t rows, int64_t t0,
		   int64_t *last);

/* A score and its label packed in one float (label in the sign bit). */
float node_pack(double p, uint8_t y);
/* Sort packed scores in place and compute n, n_pos, sums, AUROC with DeLong variance and the
 * confusion counts at thr[] (in the caller's order). FV_ENOMEM only. */
fv_err node_summarise(float *s, size_t n, const double *thr, uint32_t n_thr, struct eval_out *o);
/* Records up to which node_summarise sorts with a scratch array (default 16M); beyond, in
 * place. A variable so that tests can take the in-place path on small inputs. */
extern size_t node_sort_scratch_max;
/* After node_summarise on the same (now sorted) scores: for each operating point of in, the
 * threshold on a 0.01 grid that reaches its target at this site — sensitivity or positive
 * rate >= value: the largest such grid threshold at or below the most specific observed one;
 * specificity >= value: the smallest grid threshold at or above the most sensitive observed
 * one — or the declared threshold as is, appended as threshold rows n_thr .. n_thr + n_op - 1
 * with their confusion counts. The grid keeps any patient's exact score from being
 * released. */
void node_operating_points(const float *sorted, size_t n, const struct eval_in *in,
			   struct eval_out *o);

/* The scores of a run kept compactly when nothing needs them in record order (one model, no
 * subgroups, no rounds): 2 bytes a record (a sort key's low half, in a bucket for its high
 * half) instead of 4, so 50M records take 100 MB. node_summarise_store and
 * node_operating_points_store give bit for bit what node_summarise and
 * node_operating_points give on the same scores as an array. */
struct node_store;
fv_err node_store_new(struct node_store **out);
void node_store_free(struct node_store *st);
/* Add one packed score (node_pack). FV_ENOMEM only. */
fv_err node_store_add(struct node_store *st, float packed);
size_t node_store_count(const struct node_store *st);
fv_err node_summarise_store(struct node_store *st, const double *thr, uint32_t n_thr,
			    struct eval_out *o);
void node_operating_points_store(const struct node_store *st, const struct eval_in *in,
				 struct eval_out *o);

/* Run the evaluation in a child process so that a crash or hang of the model runtime fails
 * the job, never the node. */
fv_err node_eval(const struct eval_in *in, struct eval_out *out, struct fv_diag *d);
/* The same computation in-process (the child's body; also used by tests). */
void node_eval_compute(const struct eval_in *in, struct eval_out *out);

/* Handle one job from poll to submitted result. Returns FV_OK when the coordinator has the
 * result (ok or failed); another code when submission must be retried later. */
fv_err node_job(struct node *n, const Fedval__Job *job, struct fv_diag *d);
/* Before a job: when the data file changed since its summary was registered, summarise it
 * again and register the new summary (node/main.c). A PostgreSQL source is summarised once
 * per connection to the coordinator. */
void node_dataset_refresh(struct node *n);

/* Send every result persisted in state_dir but not yet acknowledged (after a crash or an
 * outage). */
fv_err node_resubmit_pending(struct node *n, struct fv_diag *d);

/* Local column for a benchmark variable: [mapping] entry, or the same name. */
const char *node_column(const struct node *n, const char *var);

/* Append an audit entry (event, SHA-256 of payload); failures are logged loudly. */
void node_audit(struct node *n, const char *event, const void *payload, size_t len);

/* ---- site policy (policy.c) ---- */
fv_err node_policy_load(struct node *n, struct fv_diag *d);
/* Whether the site takes part in this job at all (FV_EREFUSED with the reason in why). The
 * query budget counts released jobs other than job (a multi-round job counts once). */
fv_err node_policy_check_job(const struct node *n, const char *job, const json_t *bench,
			     const char *vendor, char *why, size_t cap);
/* Differencing protection: FV_EREFUSED (reason in why) when the cohort is too close to an
 * earlier released one; clears keep[t] for threshold rows too close to released rows. */
fv_err node_policy_difference(const struct node *n, struct eval_out *o, bool keep[], char *why,
			      size_t cap);
/* Append a released result to the history; round >= 0: a round of a multi-round fit (its
 * sums, no threshold rows) at coefficients beta (2 values); dp_epsilon > 0: the privacy loss
 * the release spent; subs (taken, may be NULL): the released subgroup categories
 * [[subgroup, category, n, n_pos], ...]. */
fv_err node_policy_record(const struct node *n, const char *job, int round, const double *beta,
			  double dp_epsilon, const struct eval_out *o, const bool keep[],
			  json_t *subs, struct fv_diag *d);
/* A round of multi-round job `job` at step and beta (2 values), against the rounds of that job
 * released before: FV_EREFUSED (reason in why) for a step at or below a released one with
 * other coefficients (each new beta is one more equation on the same records) or for more than
 * NODE_ROUND_MAX_STEPS rounds; *resend = true when exactly this round was released before
 * (the same sums again: nothing new, not recorded again). */
fv_err node_policy_round(const struct node *n, const char *job, uint32_t step, const double beta[2],
			 bool *resend, char *why, size_t cap);
/* Differencing for a subgroup category: whether a release in hist (node_policy_history) had
 * the same subgroup and category with records, events or non-events differing from these by
 * more than 0 and less than the minimum cell count. */
bool node_policy_category_close(const struct node *n, const json_t *hist, const char *sub,
				const char *cat, uint64_t cn, uint64_t cpos);
/* The history (a JSON array; never NULL). */
json_t *node_policy_history(const struct node *n);

/* ---- manual approval (job.c): files in state_dir ----
 *   <job>.job       the job as received (packed Job), waiting for a decision
 *   <job>.approved  written by `fedval site approve`; the node then evaluates
 *   <job>.vetoed    written by `fedval site veto` (holds the reason); the node reports it
 *   <job>.result    the signed result; with manual approval sent only after
 *   <job>.released  written by `fedval site release`
 *   <job>.sent      the coordinator acknowledged the result */
fv_err node_process_decisions(struct node *n, struct fv_diag *d);

#endif
