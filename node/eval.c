/* Evaluation of a model on local data, in a child process (DESIGN.md §4): the parent gets back
 * a fixed-size struct of sufficient statistics through a pipe, nothing else. */
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/model.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

void node_eval_fail(struct eval_out *out, fv_err e, const char *msg)
{
	out->status = (int)e;
	fv_strlcpy(out->error, msg, sizeof(out->error));
}

/* Digest of the mapping in use, so a result says which local mapping produced it. */
static void mapping_digest(const struct eval_in *in, char out[FV_SHA256_HEX])
{
	struct fv_sha256 *h = NULL;
	uint8_t dg[FV_SHA256_LEN];

	if (fv_sha256_new(&h) != FV_OK) {
		out[0] = '\0';
		return;
	}
	for (size_t i = 0; i < in->nvars; i++) {
		fv_sha256_update(h, in->vars[i], strlen(in->vars[i]) + 1);
		fv_sha256_update(h, in->columns[i], strlen(in->columns[i]) + 1);
	}
	if (in->label_column)
		fv_sha256_update(h, in->label_column, strlen(in->label_column) + 1);
	if (in->cohort)
		fv_sha256_update(h, in->cohort, strlen(in->cohort) + 1);
	fv_sha256_final(h, dg);
	fv_hex(dg, sizeof(dg), out);
}

/* ---- the streaming pipeline ----
 * The calling thread reads batches from the source into free slots and collects scored slots;
 * worker threads run the model on ready slots. Scores land in one packed array (node_pack) in
 * record order, or, when nothing needs that order (one model, no subgroups, no round), in the
 * compact store (node_store_*); statistics are computed from them at the end (summary.c), so
 * they do not depend on the thread count or batch size. Memory: the slots (2 x threads x
 * batch x variables floats) and 4 bytes per record (2 in the store). */
enum slot_state { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state;
	uint64_t first;	    /* record index of the first row */
	uint32_t part, seq; /* parts mode: the part and the batch within it */
	size_t rows;
	float *x;  /* [batch][nvars]: every variable any model reads */
	float *xg; /* gathered inputs of one model, when it reads a subset or another order */
	uint8_t *y;
	double *p[1 + NODE_MAX_CMP]; /* scores of model 0 (the run's) and the compared ones */
	fv_err err;
	char msg[256];
};

/* A model and which of the record's variables it reads, in its input order. */
struct pmodel {
	const struct fv_model *m;
	size_t nv;
	const size_t *index; /* NULL: the first nv variables in order */
};

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot *slots;
	size_t nslots, batch, nvars;
	struct pmodel models[1 + NODE_MAX_CMP];
	size_t nmodels;
	bool quit;
	/* subgroups (collector thread only): distinct values seen, for subgroups without edges */
	const struct eval_in *in;
	double cat_value[NODE_MAX_SUB][NODE_MAX_CATS];
	uint32_t ncat[NODE_MAX_SUB];
	uint8_t *cats[NODE_MAX_SUB]; /* per record: category index, 255 = subgroup unusable */
	/* One model, no subgroups, no round: scores go to this compact store (2 bytes a record)
	 * instead of the arrays in record order. */
	struct node_store *store;
	/* parts mode (a large CSV file parsed by all threads, see parts_run) */
	struct part *parts;
	size_t nparts, next_part, running;
};

/* One part of a CSV file (fv_csv_split): its own source, and what the collector has of it, in
 * record order: packed scores per model and the subgroup variables' values. */
struct part {
	struct fv_source *src;
	uint64_t bytes;
	uint32_t next_seq; /* the batch the collector takes next */
	uint32_t seqs;	   /* batches read so far (worker) */
	size_t n, cap;
	float *scores[1 + NODE_MAX_CMP];
	float *subv[NODE_MAX_SUB];
	fv_err err; /* the part's first read error (FV_OK if none), msg saying why */
	char msg[sizeof(((struct eval_out *)0)->error)];
	uint64_t bad_record; /* 1-based within the part: a model output that is no probability */
	bool bad_cmp;
};

#define CAT_BAD 255

/* Category of value v in subgroup k (collector thread). Bands by edges; otherwise each distinct
 * integer value is a category, at most NODE_MAX_CATS of them. */
static uint8_t categorise(struct pipeline *pl, uint32_t k, double v, struct eval_out *out)
{
	const struct node_subgroup *sg = &pl->in->sub[k];
	uint32_t c = 0;

	if (out->sub_error[k][0])
		return CAT_BAD;
	if (sg->nedges) {
		while (c < sg->nedges && v >= sg->edges[c])
			c++;
		return (uint8_t)c;
	}
	if (v != floor(v) || fabs(v) > 1e9) {
		fv_fmt(out->sub_error[k], sizeof(out->sub_error[k]),
		       "subgroup %s: values are not whole numbers; declare band edges", sg->name);
		return CAT_BAD;
	}
	for (c = 0; c < pl->ncat[k]; c++)
		if (pl->cat_value[k][c] == v)
			return (uint8_t)c;
	if (pl->ncat[k] == NODE_MAX_CATS) {
		fv_fmt(out->sub_error[k], sizeof(out->sub_error[k]),
		       "subgroup %s: more than %d distinct values; declare band edges", sg->name,
		       NODE_MAX_CATS);
		return CAT_BAD;
	}
	pl->cat_value[k][pl->ncat[k]] = v;
	return (uint8_t)pl->ncat[k]++;
}

static fv_err predict_all(const struct pipeline *pl, struct slot *sl, struct fv_diag *d)
{
	fv_err e = FV_OK;
	for (size_t k = 0; k < pl->nmodels && e == FV_OK; k++) {
		const struct pmodel *pm = &pl->models[k];
		const float *x = sl->x;
		if (pm->index || pm->nv != pl->nvars) {
			for (size_t r = 0; r < sl->rows; r++)
				for (size_t j = 0; j < pm->nv; j++)
					sl->xg[r * pm->nv + j] =
					    sl->x[r * pl->nvars + (pm->index ? pm->index[j] : j)];
			x = sl->xg;
		}
		e = fv_model_predict(pm->m, x, sl->rows, sl->p[k], d);
		if (e != FV_OK && k > 0)
			fv_diag_prefix(d, "compared model %zu: ", k);
	}
	return e;
}

static void *worker(void *arg)
{
	struct pipeline *pl = arg;

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		struct slot *sl = NULL;
		for (size_t i = 0; i < pl->nslots && !sl; i++)
			if (pl->slots[i].state == SLOT_READY)
				sl = &pl->slots[i];
		if (!sl) {
			if (pl->quit)
				break;
			pthread_cond_wait(&pl->cv, &pl->mu);
			continue;
		}
		sl->state = SLOT_BUSY;
		pthread_mutex_unlock(&pl->mu);
		struct fv_diag d = {{0}};
		sl->err = predict_all(pl, sl, &d);
		if (sl->err != FV_OK)
			fv_strlcpy(sl->msg, d.msg, sizeof(sl->msg));
		pthread_mutex_lock(&pl->mu);
		sl->state = SLOT_DONE;
		pthread_cond_broadcast(&pl->cv);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/* A batch the model failed on fails the evaluation (the runtime's detail stays in the log). */
static fv_err slot_failed(const struct slot *sl, struct eval_out *out)
{
	char msg[300];
	fv_fmt(msg, sizeof(msg), "model evaluation: %s", sl->msg);
	node_eval_fail(out, sl->err, msg);
	out->run_error = true;
	return sl->err;
}

/* Append a scored slot to the packed score array. */
static fv_err collect(struct pipeline *pl, struct slot *sl, float **scores, size_t nmodels,
		      struct eval_out *out)
{
	for (uint32_t k = 0; k < pl->in->n_sub && sl->err == FV_OK; k++)
		for (size_t i = 0; i < sl->rows; i++)
			pl->cats[k][sl->first + i] =
			    categorise(pl, k, sl->x[i * pl->nvars + pl->in->sub[k].var], out);
	if (sl->err != FV_OK)
		return slot_failed(sl, out);
	for (size_t k = 0; k < nmodels; k++) {
		for (size_t i = 0; i < sl->rows; i++) {
			double p = sl->p[k][i];
			if (!(p >= 0.0 && p <= 1.0)) {
				char msg[160];
				/* Says which record, never its values. */
				fv_fmt(msg, sizeof(msg),
				       "%smodel output for data record %llu is not a probability",
				       k ? "compared " : "",
				       (unsigned long long)(sl->first + i + 1));
				node_eval_fail(out, FV_EINVAL, msg);
				return FV_EINVAL;
			}
			if (!pl->store) {
				scores[k][sl->first + i] = node_pack(p, sl->y[i]);
			} else if (node_store_add(pl->store, node_pack(p, sl->y[i])) != FV_OK) {
				node_eval_fail(out, FV_ENOMEM, "out of memory for the scores");
				return FV_ENOMEM;
			}
		}
	}
	return FV_OK;
}

void node_progress(const struct eval_in *in, const struct fv_source *src, uint64_t rows, int64_t t0,
		   int64_t *last)
{
	int64_t now = fv_mono_ms();
	double frac = fv_source_progress(src), secs = (double)(now - t0) / 1000.0;
	if (now - *last < 1000)
		return;
	*last = now;
	if (in->progress_fd > 0) { /* 0 (a zeroed eval_in) and -1 mean none */
		/* Non-blocking: a node that is slow to read never slows the evaluation. */
		struct eval_progress pr = {rows, secs > 0 ? rows / secs : 0, frac};
		if (write(in->progress_fd, &pr, sizeof(pr)) < 0) {
			/* dropped: the next report supersedes it */
		}
	}
	if (frac > 0 && frac < 1)
		fv_log(FV_LOG_INFO, "eval_progress", "rows=%llu rows_per_s=%.0f eta_s=%.0f",
		       (unsigned long long)rows, rows / secs, secs / frac - secs);
	else
		fv_log(FV_LOG_INFO, "eval_progress", "rows=%llu rows_per_s=%.0f",
		       (unsigned long long)rows, rows / secs);
}

/* Head-to-head: each compared model against the first on the same records, before the first's
 * scores are sorted (pairing needs record order). */
static fv_err compare(const struct eval_in *in, float **scores, size_t n, struct eval_out *out)
{
	double *a = fv_alloc(n * sizeof(double) + 1), *b = fv_alloc(n * sizeof(double) + 1);
	uint8_t *y = fv_alloc(n + 1);
	struct fv_diag d = {{0}};
	fv_err e = FV_OK;

	if (!a || !b || !y) {
		e = FV_ENOMEM;
		node_eval_fail(out, e, "out of memory for the paired comparison");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		a[i] = fabsf(scores[0][i]);
		y[i] = signbit(scores[0][i]) ? 1 : 0;
	}
	out->n_cmp = in->n_cmp;
	for (uint32_t k = 0; k < in->n_cmp; k++) {
		struct fv_delong_paired pr;
		double brier = 0, sum_p = 0;
		for (size_t i = 0; i < n; i++) {
			b[i] = fabsf(scores[k + 1][i]);
			sum_p += b[i];
			brier += (b[i] - y[i]) * (b[i] - y[i]);
		}
		if ((e = fv_stats_delong_paired(a, b, y, n, 0.95, &pr, &d)) != FV_OK) {
			node_eval_fail(out, e, d.msg);
			goto out;
		}
		out->cmp_auc[k] = pr.auc_b;
		out->cmp_var[k] = pr.var_b;
		out->cmp_cov[k] = pr.cov_ab;
		out->cmp_brier[k] = brier;
		out->cmp_sum_p[k] = sum_p;
	}
out:
	fv_free(a);
	fv_free(b);
	fv_free(y);
	return e;
}

/* One Newton round of the recalibration model logit P(y=1) = a + b logit(p): the site's
 * gradient, negative Hessian and log-likelihood at (a, b), sums over its records. */
static fv_err recal_round(const struct eval_in *in, const float *scores, size_t n,
			  struct eval_out *out)
{
	double *p = fv_alloc(n * sizeof(double) + 1);
	uint8_t *y = fv_alloc(n + 1);
	struct fv_newton_site site;
	struct fv_diag d = {{0}};
	fv_err e = FV_ENOMEM;

	if (p && y) {
		for (size_t i = 0; i < n; i++) {
			p[i] = fabsf(scores[i]);
			y[i] = signbit(scores[i]) ? 1 : 0;
		}
		e = fv_stats_newton_site_recal(p, y, n, in->round_beta, &site, &d);
	}
	if (e == FV_OK) {
		memcpy(out->round_g, site.g, sizeof(out->round_g));
		memcpy(out->round_h, site.h, sizeof(out->round_h));
		out->round_ll = site.ll;
	} else {
		node_eval_fail(out, e, d.msg[0] ? d.msg : "out of memory for the round");
	}
	fv_free(p);
	fv_free(y);
	return e;
}

/* Per category of each subgroup: the same statistics as the whole, from the scores in
 * record order (before they are sorted). Disclosure control happens later, at the node. */
static fv_err subgroups(struct pipeline *pl, const float *scores, size_t n, struct eval_out *out)
{
	const struct eval_in *in = pl->in;
	float *tmp = fv_alloc(n * sizeof(float) + 1);
	struct eval_out *o = fv_calloc(1, sizeof(*o));
	fv_err e = FV_OK;

	if (!tmp || !o) {
		e = FV_ENOMEM;
		node_eval_fail(out, e, "out of memory for subgroups");
		goto done;
	}
	for (uint32_t k = 0; k < in->n_sub; k++) {
		const struct node_subgroup *sg = &in->sub[k];
		uint32_t ncats = sg->nedges ? sg->nedges + 1 : pl->ncat[k], order[NODE_MAX_CATS];
		if (out->sub_error[k][0])
			continue;
		/* Distinct values were numbered as they appeared, which depends on which batch
		 * finished first: release them in order of value, so the result does not. */
		for (uint32_t c = 0; c < ncats && c < NODE_MAX_CATS; c++) {
			uint32_t m = c;
			while (!sg->nedges && m > 0 &&
			       pl->cat_value[k][order[m - 1]] > pl->cat_value[k][c]) {
				order[m] = order[m - 1];
				m--;
			}
			order[m] = c;
		}
		for (uint32_t oc = 0; oc < ncats && oc < NODE_MAX_CATS; oc++) {
			uint32_t c = order[oc];
			struct sub_out *so;
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if (pl->cats[k][i] == c)
					tmp[m++] = scores[i];
			if (m == 0 || out->n_subres == NODE_MAX_SUB * NODE_MAX_CATS)
				continue;
			memset(o, 0, sizeof(*o));
			if ((e = node_summarise(tmp, m, in->thr, in->n_thr, o)) != FV_OK) {
				node_eval_fail(out, e, "out of memory for subgroups");
				goto done;
			}
			so = &out->subres[out->n_subres++];
			so->sub = (uint8_t)k;
			if (!sg->nedges)
				fv_fmt(so->category, sizeof(so->category), "%.0f",
				       pl->cat_value[k][c]);
			else if (c == 0)
				fv_fmt(so->category, sizeof(so->category), "< %g", sg->edges[0]);
			else if (c == sg->nedges)
				fv_fmt(so->category, sizeof(so->category), ">= %g",
				       sg->edges[c - 1]);
			else
				fv_fmt(so->category, sizeof(so->category), "[%g, %g)",
				       sg->edges[c - 1], sg->edges[c]);
			so->n = o->n;
			so->n_pos = o->n_pos;
			so->auc = o->auc;
			so->auc_var = o->auc_var;
			so->brier_sum = o->brier_sum;
			so->sum_p = o->sum_p;
			memcpy(so->tp, o->tp, sizeof(so->tp));
			memcpy(so->fp, o->fp, sizeof(so->fp));
			memcpy(so->tn, o->tn, sizeof(so->tn));
			memcpy(so->fn, o->fn, sizeof(so->fn));
		}
	}
done:
	fv_free(tmp);
	fv_free(o);
	return e;
}

/* ---- parts mode: a large CSV file parsed by every thread ----
 * Each worker takes the next part, reads its batches into free slots and scores them; the
 * calling thread appends each part's scored batches in order to that part's arrays, and at the
 * end joins the parts in file order. The records, their order and hence every statistic are
 * those of the one-thread pipeline; so is the error reported (the first part's that failed,
 * whose first error is the file's first). */
static void *part_worker(void *arg)
{
	struct pipeline *pl = arg;

	pthread_mutex_lock(&pl->mu);
	while (!pl->quit && pl->next_part < pl->nparts) {
		size_t p = pl->next_part++;
		struct part *pt = &pl->parts[p];
		for (;;) {
			struct slot *sl = NULL;
			while (!pl->quit) {
				for (size_t i = 0; i < pl->nslots && !sl; i++)
					if (pl->slots[i].state == SLOT_FREE)
						sl = &pl->slots[i];
				if (sl)
					break;
				pthread_cond_wait(&pl->cv, &pl->mu);
			}
			if (!sl)
				break;
			sl->state = SLOT_BUSY;
			pthread_mutex_unlock(&pl->mu);
			struct fv_diag d = {{0}};
			size_t got = 0;
			fv_err e = fv_source_read(pt->src, sl->x, sl->y, pl->batch, &got, &d);
			if (e == FV_OK && got) {
				sl->rows = got;
				sl->err = predict_all(pl, sl, &d);
				if (sl->err != FV_OK)
					fv_strlcpy(sl->msg, d.msg, sizeof(sl->msg));
			}
			pthread_mutex_lock(&pl->mu);
			if (e != FV_OK || got == 0) {
				if (e != FV_OK) {
					pt->err = e;
					fv_strlcpy(pt->msg, d.msg, sizeof(pt->msg));
				}
				sl->state = SLOT_FREE;
				pthread_cond_broadcast(&pl->cv);
				break;
			}
			sl->part = (uint32_t)p;
			sl->seq = pt->seqs++;
			sl->state = SLOT_DONE;
			pthread_cond_broadcast(&pl->cv);
		}
	}
	pl->running--;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/* Append a scored batch to its part (calling thread). */
static fv_err part_collect(struct pipeline *pl, struct slot *sl, size_t nmodels,
			   struct eval_out *out)
{
	struct part *pt = &pl->parts[sl->part];
	if (sl->err != FV_OK)
		return slot_failed(sl, out);
	if (pt->n + sl->rows > pt->cap && pl->store && !pl->in->n_sub) {
		pt->cap = pt->n + sl->rows; /* nothing kept per record in the part */
	} else if (pt->n + sl->rows > pt->cap) {
		size_t ncap = pt->cap ? pt->cap * 2 : 1u << 14;
		while (ncap < pt->n + sl->rows)
			ncap *= 2;
		for (size_t k = 0; k < nmodels; k++) {
			float *ns = fv_realloc(pt->scores[k], ncap * sizeof(float));
			if (!ns)
				goto nomem;
			pt->scores[k] = ns;
		}
		for (uint32_t k = 0; k < pl->in->n_sub; k++) {
			float *nv = fv_realloc(pt->subv[k], ncap * sizeof(float));
			if (!nv)
				goto nomem;
			pt->subv[k] = nv;
		}
		pt->cap = ncap;
	}
	for (uint32_t k = 0; k < pl->in->n_sub; k++)
		for (size_t i = 0; i < sl->rows; i++)
			pt->subv[k][pt->n + i] = sl->x[i * pl->nvars + pl->in->sub[k].var];
	for (size_t k = 0; k < nmodels; k++)
		for (size_t i = 0; i < sl->rows; i++) {
			double p = sl->p[k][i];
			if (!(p >= 0.0 && p <= 1.0) && !pt->bad_record) {
				pt->bad_record = pt->n + i + 1;
				pt->bad_cmp = k > 0;
			}
			if (!pl->store)
				pt->scores[k][pt->n + i] = node_pack(p, sl->y[i]);
			else if (node_store_add(pl->store, node_pack(p, sl->y[i])) != FV_OK)
				goto nomem;
		}
	pt->n += sl->rows;
	pt->next_seq++;
	return FV_OK;
nomem:
	node_eval_fail(out, FV_ENOMEM, "out of memory for the scores");
	return FV_ENOMEM;
}

/* Run the parts through the threads and join them: *records and the score and category arrays
 * as the one-thread pipeline leaves them. FV_OK, or the failure already in out. */
static fv_err parts_run(const struct eval_in *in, struct pipeline *pl, size_t nthreads,
			size_t nmodels, float **scores, uint64_t *records, uint64_t *excluded,
			struct eval_out *out)
{
	pthread_t tid[NODE_MAX_THREADS];
	size_t started = 0;
	int64_t t0 = fv_mono_ms(), last = t0;
	fv_err e = FV_OK;
	uint64_t rows = 0, total_bytes = 0;

	for (size_t p = 0; p < pl->nparts; p++)
		total_bytes += pl->parts[p].bytes;
	pthread_mutex_lock(&pl->mu);
	for (; started < nthreads; started++) {
		if (pthread_create(&tid[started], NULL, part_worker, pl) != 0)
			break;
		pl->running++;
	}
	if (started == 0) {
		pthread_mutex_unlock(&pl->mu);
		node_eval_fail(out, FV_EIO, "cannot start evaluation threads");
		return FV_EIO;
	}
	for (;;) {
		struct slot *sl = NULL;
		for (size_t i = 0; i < pl->nslots && !sl; i++)
			if (pl->slots[i].state == SLOT_DONE &&
			    pl->slots[i].seq == pl->parts[pl->slots[i].part].next_seq)
				sl = &pl->slots[i];
		if (sl) {
			pthread_mutex_unlock(&pl->mu);
			e = part_collect(pl, sl, nmodels, out);
			rows += sl->rows;
			pthread_mutex_lock(&pl->mu);
			sl->state = SLOT_FREE;
			pthread_cond_broadcast(&pl->cv);
			if (e != FV_OK)
				break;
			/* progress: the records so far, the fraction of the file's bytes read */
			int64_t now = fv_mono_ms();
			if (now - last >= 1000 && in->progress_fd > 0) {
				double done = 0, secs = (double)(now - t0) / 1000.0;
				for (size_t p = 0; p < pl->nparts; p++) {
					double f = fv_source_progress(pl->parts[p].src);
					done += f > 0 ? f * (double)pl->parts[p].bytes : 0;
				}
				struct eval_progress pr = {rows, secs > 0 ? rows / secs : 0,
							   total_bytes ? done / (double)total_bytes
								       : -1};
				if (write(in->progress_fd, &pr, sizeof(pr)) < 0) {
					/* dropped: the next report supersedes it */
				}
				last = now;
			}
			continue;
		}
		if (pl->running == 0)
			break;
		pthread_cond_wait(&pl->cv, &pl->mu);
	}
	pl->quit = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (e != FV_OK)
		return e;
	/* The first part that failed holds the file's first error. */
	uint64_t before = 0;
	for (size_t p = 0; p < pl->nparts; p++) {
		struct part *pt = &pl->parts[p];
		if (pt->bad_record) {
			char msg[160];
			fv_fmt(msg, sizeof(msg),
			       "%smodel output for data record %llu is not a probability",
			       pt->bad_cmp ? "compared " : "",
			       (unsigned long long)(before + pt->bad_record));
			node_eval_fail(out, FV_EINVAL, msg);
			return FV_EINVAL;
		}
		if (pt->err != FV_OK) {
			node_eval_fail(out, pt->err, pt->msg);
			return pt->err;
		}
		before += pt->n;
	}
	if (before > FV_MAX_ROWS) {
		char msg[64];
		fv_fmt(msg, sizeof(msg), "more than %u records", (unsigned)FV_MAX_ROWS);
		node_eval_fail(out, FV_ELIMIT, msg);
		return FV_ELIMIT;
	}
	/* Join the parts in file order; categories numbered in record order. */
	size_t n = (size_t)before, at = 0;
	for (size_t k = 0; k < nmodels && !pl->store; k++)
		if (!(scores[k] = fv_alloc(n * sizeof(float) + 1)))
			goto nomem;
	for (uint32_t k = 0; k < in->n_sub; k++)
		if (!(pl->cats[k] = fv_alloc(n + 1)))
			goto nomem;
	for (size_t p = 0; p < pl->nparts; p++) {
		struct part *pt = &pl->parts[p];
		for (size_t k = 0; k < nmodels && !pl->store; k++)
			memcpy(scores[k] + at, pt->scores[k], pt->n * sizeof(float));
		for (uint32_t k = 0; k < in->n_sub; k++)
			for (size_t i = 0; i < pt->n; i++)
				pl->cats[k][at + i] = categorise(pl, k, pt->subv[k][i], out);
		*excluded += fv_source_excluded(pt->src);
		at += pt->n;
		/* copied: give the memory back before the next part's copy */
		for (size_t k = 0; k < nmodels; k++) {
			fv_free(pt->scores[k]);
			pt->scores[k] = NULL;
		}
		for (uint32_t k = 0; k < in->n_sub; k++) {
			fv_free(pt->subv[k]);
			pt->subv[k] = NULL;
		}
	}
	*records = n;
	return FV_OK;
nomem:
	node_eval_fail(out, FV_ENOMEM, "out of memory for the scores");
	return FV_ENOMEM;
}

void node_eval_compute(const struct eval_in *in, struct eval_out *out)
{
	struct fv_model *mods[1 + NODE_MAX_CMP] = {0};
	struct fv_source *src = NULL;
	struct fv_mapping map = {in->nvars, in->vars, in->columns, in->label_column};
	struct fv_diag d = {{0}};
	struct pipeline pl = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	pthread_t tid[NODE_MAX_THREADS];
	size_t nthreads = in->threads > 0 ? (size_t)in->threads : 1, started = 0, cap = 0;
	uint64_t records = 0, collected = 0, excluded = 0;
	float *scores[1 + NODE_MAX_CMP] = {0};
	size_t nmodels = 1 + (in->n_cmp <= NODE_MAX_CMP ? in->n_cmp : 0), gather = 0;
	bool eof = false, failed = false;
	int64_t t0 = fv_mono_ms(), last = t0;
	fv_err e;

	memset(out, 0, sizeof(*out));
	mapping_digest(in, out->mapping_sha256);
	if (in->byo) {
		node_byo_compute(in, out);
		return;
	}
	if (in->task != FV_TASK_BINARY) {
		node_task_compute(in, out);
		return;
	}
	if (nthreads > NODE_MAX_THREADS)
		nthreads = NODE_MAX_THREADS;
	for (size_t k = 0; k < nmodels; k++) {
		const uint8_t *bytes = k ? in->cmp_model[k - 1] : in->model;
		size_t len = k ? in->cmp_len[k - 1] : in->model_len;
		size_t nv =
		    k ? in->cmp_nvars[k - 1] : (in->model_nvars ? in->model_nvars : in->nvars);
		if ((e = fv_model_load(bytes, len, &mods[k], &d)) != FV_OK) {
			fv_diag_prefix(&d, "%smodel refused: ", k ? "compared " : "");
			node_eval_fail(out, e, d.msg);
			out->load_error = true;
			goto out;
		}
		if (fv_model_n_features(mods[k]) != nv) {
			fv_diag_set(&d, FV_EINVAL,
				    "%smodel takes %zu features, manifest declares %zu",
				    k ? "compared " : "", fv_model_n_features(mods[k]), nv);
			node_eval_fail(out, FV_EINVAL, d.msg);
			out->load_error = true;
			goto out;
		}
		pl.models[k] = (struct pmodel){mods[k], nv, k ? in->cmp_index[k - 1] : NULL};
		if (k || nv != in->nvars)
			gather = nv > gather ? nv : gather;
	}
	pl.nmodels = nmodels;
	if (nmodels == 1 && !in->n_sub && !in->round && node_store_new(&pl.store) != FV_OK) {
		node_eval_fail(out, FV_ENOMEM, "out of memory");
		goto out;
	}
	if ((e = fv_source_open(in->source, &map, &src, &d)) != FV_OK) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	if (in->cohort && (e = fv_source_set_cohort(src, in->cohort, &d)) != FV_OK) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	/* A large CSV file: cut into parts that every thread parses (parts_run). Opened here,
	 * before the sandbox. */
	uint64_t part_min = in->part_min_bytes ? in->part_min_bytes : (uint64_t)8 << 20;
	struct stat sb;
	if (in->source->kind == FV_SOURCE_CSV && nthreads > 1 && !in->source->range_end &&
	    stat(in->source->path, &sb) == 0 && (uint64_t)sb.st_size >= part_min) {
		size_t want = nthreads * 4 > 64 ? 64 : nthreads * 4, got = 0;
		uint64_t starts[64], lines[64];
		if ((e = fv_csv_split(in->source->path, want, starts, lines, &got, &d)) != FV_OK) {
			node_eval_fail(out, e, d.msg);
			goto out;
		}
		if (got >= 2 && !(pl.parts = fv_calloc(got, sizeof(*pl.parts)))) {
			node_eval_fail(out, FV_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t p = 0; got >= 2 && p < got; p++) {
			struct fv_source_spec ps = *in->source;
			ps.range_start = starts[p];
			ps.range_end = p + 1 < got ? starts[p + 1] : (uint64_t)sb.st_size;
			ps.range_line = lines[p];
			pl.parts[p].bytes = ps.range_end - ps.range_start;
			pl.nparts = p + 1;
			if ((e = fv_source_open(&ps, &map, &pl.parts[p].src, &d)) != FV_OK ||
			    (in->cohort && (e = fv_source_set_cohort(pl.parts[p].src, in->cohort,
								     &d)) != FV_OK)) {
				node_eval_fail(out, e, d.msg);
				goto out;
			}
		}
	}
	/* Inputs are open: from here on the worker may only compute (DESIGN.md §4). */
	if (in->sandbox && (e = fv_sandbox_enter(in->sandbox, &d)) != FV_OK) {
		node_eval_fail(out, e, d.msg);
		goto out;
	}
	pl.nvars = in->nvars;
	pl.in = in;
	pl.batch = in->batch_rows ? in->batch_rows : 8192;
	pl.nslots = 2 * nthreads;
	if (!(pl.slots = fv_calloc(pl.nslots, sizeof(*pl.slots)))) {
		node_eval_fail(out, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < pl.nslots; i++) {
		struct slot *sl = &pl.slots[i];
		bool ok = true;
		sl->x = fv_alloc(pl.batch * pl.nvars * sizeof(float));
		sl->xg = gather ? fv_alloc(pl.batch * gather * sizeof(float)) : NULL;
		sl->y = fv_alloc(pl.batch);
		for (size_t k = 0; k < nmodels; k++)
			ok = ok && (sl->p[k] = fv_alloc(pl.batch * sizeof(double)));
		if (!ok || !sl->x || !sl->y || (gather && !sl->xg)) {
			node_eval_fail(out, FV_ENOMEM, "out of memory for evaluation batches");
			goto out;
		}
	}
	if (pl.nparts) {
		if (parts_run(in, &pl, nthreads, nmodels, scores, &records, &excluded, out) !=
		    FV_OK)
			goto out;
		goto scored;
	}
	for (; started < nthreads; started++)
		if (pthread_create(&tid[started], NULL, worker, &pl) != 0)
			break;
	if (started == 0) {
		node_eval_fail(out, FV_EIO, "cannot start evaluation threads");
		goto out;
	}

	pthread_mutex_lock(&pl.mu);
	while (!failed && (!eof || collected < records)) {
		struct slot *free_sl = NULL, *done_sl = NULL;
		for (size_t i = 0; i < pl.nslots; i++) {
			if (pl.slots[i].state == SLOT_DONE && !done_sl)
				done_sl = &pl.slots[i];
			if (pl.slots[i].state == SLOT_FREE && !free_sl)
				free_sl = &pl.slots[i];
		}
		if (done_sl) {
			pthread_mutex_unlock(&pl.mu);
			if (collect(&pl, done_sl, scores, nmodels, out) != FV_OK)
				failed = true;
			collected += done_sl->rows;
			pthread_mutex_lock(&pl.mu);
			done_sl->state = SLOT_FREE;
			continue;
		}
		if (!eof && free_sl) {
			size_t got = 0;
			pthread_mutex_unlock(&pl.mu);
			e = fv_source_read(src, free_sl->x, free_sl->y, pl.batch, &got, &d);
			if (e == FV_OK && !pl.store && records + got > cap) {
				/* Only this thread touches the score array: grow it freely. */
				size_t ncap = cap ? cap + cap / 2 : 1u << 16;
				while (ncap < records + got)
					ncap += ncap / 2;
				for (size_t k = 0; k < nmodels && e == FV_OK; k++) {
					float *ns = fv_realloc(scores[k], ncap * sizeof(float));
					if (!ns)
						e = fv_diag_set(&d, FV_ENOMEM,
								"out of memory for %llu scores",
								(unsigned long long)ncap);
					else
						scores[k] = ns;
				}
				for (uint32_t k = 0; k < in->n_sub && e == FV_OK; k++) {
					uint8_t *nc = fv_realloc(pl.cats[k], ncap);
					if (!nc)
						e = fv_diag_set(&d, FV_ENOMEM, "out of memory");
					else
						pl.cats[k] = nc;
				}
				if (e == FV_OK)
					cap = ncap;
			}
			pthread_mutex_lock(&pl.mu);
			if (e != FV_OK) {
				node_eval_fail(out, e, d.msg);
				failed = true;
				break;
			}
			if (got == 0) {
				eof = true;
				continue;
			}
			free_sl->first = records;
			free_sl->rows = got;
			free_sl->state = SLOT_READY;
			records += got;
			pthread_cond_broadcast(&pl.cv);
			node_progress(in, src, records, t0, &last);
			continue;
		}
		pthread_cond_wait(&pl.cv, &pl.mu);
	}
	pl.quit = true;
	pthread_cond_broadcast(&pl.cv);
	pthread_mutex_unlock(&pl.mu);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	started = 0;
	if (failed)
		goto out;
	excluded = fv_source_excluded(src);
scored:
	if (records == 0) {
		node_eval_fail(out, FV_EINVAL, "the dataset has no records");
		goto out;
	}
	if (nmodels > 1 && compare(in, scores, (size_t)records, out) != FV_OK)
		goto out;
	if (in->n_sub && subgroups(&pl, scores[0], (size_t)records, out) != FV_OK)
		goto out;
	if (in->round && recal_round(in, scores[0], (size_t)records, out) != FV_OK)
		goto out;
	e = pl.store ? node_summarise_store(pl.store, in->thr, in->n_thr, out)
		     : node_summarise(scores[0], (size_t)records, in->thr, in->n_thr, out);
	if (e != FV_OK) {
		node_eval_fail(out, e, "out of memory summarising scores");
		goto out;
	}
	if (pl.store)
		node_operating_points_store(pl.store, in, out);
	else
		node_operating_points(scores[0], (size_t)records, in, out);
	out->rows_per_s = (double)records * 1000.0 / (double)(fv_mono_ms() - t0 + 1);
	out->excluded = excluded;
	fv_log(FV_LOG_INFO, "eval_done",
	       "rows=%llu excluded=%llu threads=%zu parts=%zu rows_per_s=%.0f",
	       (unsigned long long)records, (unsigned long long)out->excluded, nthreads, pl.nparts,
	       out->rows_per_s);
out:
	if (started) {
		pthread_mutex_lock(&pl.mu);
		pl.quit = true;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
		for (size_t i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
	}
	for (size_t i = 0; pl.slots && i < pl.nslots; i++) {
		fv_free(pl.slots[i].x);
		fv_free(pl.slots[i].xg);
		fv_free(pl.slots[i].y);
		for (size_t k = 0; k <= NODE_MAX_CMP; k++)
			fv_free(pl.slots[i].p[k]);
	}
	fv_free(pl.slots);
	for (uint32_t k = 0; k < NODE_MAX_SUB; k++)
		fv_free(pl.cats[k]);
	for (size_t p = 0; p < pl.nparts; p++) {
		fv_source_close(pl.parts[p].src);
		for (size_t k = 0; k <= NODE_MAX_CMP; k++)
			fv_free(pl.parts[p].scores[k]);
		for (uint32_t k = 0; k < NODE_MAX_SUB; k++)
			fv_free(pl.parts[p].subv[k]);
	}
	fv_free(pl.parts);
	node_store_free(pl.store);
	for (size_t k = 0; k <= NODE_MAX_CMP; k++) {
		fv_free(scores[k]);
		fv_model_free(mods[k]);
	}
	fv_source_close(src);
}

/* The node's view of a running evaluation, for `fedval site status`. */
static void write_status(const struct eval_in *in, const char *state, const struct eval_progress *p)
{
	char buf[512], ts[32];
	struct fv_diag d;
	if (!in->status_path)
		return;
	/* Seconds left: the time so far (rows / rate) times what is left of the input. */
	double eta = -1;
	if (p && p->fraction > 0 && p->fraction < 1 && p->rows_per_s > 0)
		eta = (double)p->rows / p->rows_per_s * (1 - p->fraction) / p->fraction;
	fv_time_iso(fv_now_us(), ts, sizeof(ts));
	fv_fmt(buf, sizeof(buf),
	       "{\"job\": \"%s\", \"state\": \"%s\", \"rows\": %llu, \"rows_per_s\": %.0f, "
	       "\"fraction\": %.4f, \"eta_s\": %.0f, \"updated\": \"%s\"}\n",
	       in->job_id ? in->job_id : "", state, (unsigned long long)(p ? p->rows : 0),
	       p ? p->rows_per_s : 0.0, p ? p->fraction : -1.0, eta, ts);
	fv_file_write_atomic(in->status_path, buf, strlen(buf), 0600, &d);
}

/* Wait for the worker's summary on fd, relaying its progress from pfd. FV_ECANCELED when the
 * node stops, FV_EREFUSED when the site cancels the job. */
static fv_err read_result(const struct eval_in *in, int fd, int pfd, void *buf, size_t n,
			  int64_t deadline_ms)
{
	uint8_t *b = buf;
	size_t got = 0;
	while (got < n) {
		struct pollfd fds[2] = {{fd, POLLIN, 0}, {pfd, POLLIN, 0}};
		int64_t left = deadline_ms - fv_mono_ms();
		ssize_t r;
		if (left <= 0)
			return FV_ETIMEDOUT;
		if (in->cancel && *in->cancel)
			return FV_ECANCELED;
		if (in->cancel_path && access(in->cancel_path, F_OK) == 0)
			return FV_EREFUSED;
		if (poll(fds, pfd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left)) < 0 &&
		    errno != EINTR)
			return FV_EIO;
		if (pfd >= 0 && (fds[1].revents & POLLIN)) {
			struct eval_progress p;
			if (read(pfd, &p, sizeof(p)) == (ssize_t)sizeof(p))
				write_status(in, "evaluating", &p);
		}
		if (!(fds[0].revents & (POLLIN | POLLHUP)))
			continue;
		r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return FV_EIO;
		got += (size_t)r;
	}
	return FV_OK;
}

fv_err node_eval(const struct eval_in *in, struct eval_out *out, struct fv_diag *d)
{
	int fds[2], pfds[2] = {-1, -1};
	pid_t pid;
	int status = 0;
	fv_err e;

	if (pipe(fds) != 0)
		return fv_diag_set(d, FV_EIO, "pipe: %s", strerror(errno));
	if (pipe2(pfds, O_NONBLOCK | O_CLOEXEC) != 0)
		pfds[0] = pfds[1] = -1;
	write_status(in, "starting", NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		if (pfds[0] >= 0) {
			close(pfds[0]);
			close(pfds[1]);
		}
		return fv_diag_set(d, FV_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* If the node dies (even SIGKILL), the worker goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Child: compute, hand back the fixed-size summary, exit without running the
		 * parent's atexit handlers or touching its sockets. */
		struct eval_out res;
		const uint8_t *b = (const uint8_t *)&res;
		size_t left = sizeof(res);
		sigset_t all;
		struct eval_in cin = *in;
		struct stat st;
		/* An image folder's files are opened record by record, read-only. */
		struct fv_sandbox_opts sb = {
		    .allow_open_rdonly = in->source->kind == FV_SOURCE_IMAGES,
		    .allow_socket_io = in->source->kind == FV_SOURCE_POSTGRES,
		    .allow_file_growth = fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)};
		int keep[2] = {fds[1], pfds[1]};
		close(fds[0]);
		if (pfds[0] >= 0)
			close(pfds[0]);
		/* Not the parent's sockets, database or audit log: only stdio and the pipes. */
		fv_sandbox_close_fds(keep, pfds[1] >= 0 ? 2 : 1, NULL);
		cin.sandbox = &sb;
		cin.progress_fd = pfds[1];
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		alarm((unsigned)in->timeout_s);
		/* Our worker threads parallelise; OpenBLAS threads on top would oversubscribe. */
		openblas_set_num_threads(1);
		node_eval_compute(&cin, &res);
		while (left > 0) {
			ssize_t w = write(fds[1], b, left);
			if (w <= 0)
				_exit(3);
			b += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	if (pfds[1] >= 0)
		close(pfds[1]);
	e = read_result(in, fds[0], pfds[0], out, sizeof(*out),
			fv_mono_ms() + (int64_t)in->timeout_s * 1000 + 5000);
	close(fds[0]);
	if (pfds[0] >= 0)
		close(pfds[0]);
	if (e == FV_ETIMEDOUT || e == FV_ECANCELED || e == FV_EREFUSED)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	write_status(in, e == FV_OK ? "done" : e == FV_EREFUSED ? "cancelled" : "stopped", NULL);
	if (e == FV_ECANCELED)
		return fv_diag_set(d, e, "evaluation stopped: the node is shutting down");
	if (e == FV_EREFUSED)
		return fv_diag_set(d, e, "evaluation cancelled by the site");
	if (e != FV_OK) {
		if (WIFSIGNALED(status))
			return fv_diag_set(d, FV_EIO, "evaluation worker died (signal %d%s)",
					   WTERMSIG(status),
					   WTERMSIG(status) == SIGALRM ? ", time limit" : "");
		return fv_diag_set(d, e, "evaluation worker gave no result (%s)", fv_strerror(e));
	}
	/* The worker ran vendor code on local data: its summary is checked like a peer's. */
	out->error[sizeof(out->error) - 1] = '\0';
	out->mapping_sha256[sizeof(out->mapping_sha256) - 1] = '\0';
	for (size_t k = 0; k < NODE_MAX_SUB; k++)
		out->sub_error[k][sizeof(out->sub_error[k]) - 1] = '\0';
	if (out->n_thr > NODE_MAX_THR ||
	    (out->status == 0 && (out->n_op != in->n_op || out->n_thr != in->n_thr + in->n_op)) ||
	    out->n_subres > NODE_MAX_SUB * NODE_MAX_CATS || out->n_cmp > in->n_cmp ||
	    out->n_pos > out->n ||
	    (out->status == 0 && in->task == FV_TASK_MULTICLASS &&
	     out->task.classes != in->n_classes) ||
	    out->task.classes > FV_MAX_CLASSES)
		return fv_diag_set(d, FV_EPROTO, "evaluation worker returned a malformed summary");
	/* multiclass: the class counts add up to the cohort, each row to its class */
	uint64_t classes_total = 0;
	for (uint32_t c = 0; c < out->task.classes; c++) {
		uint64_t row = 0;
		for (uint32_t p = 0; p < out->task.classes; p++) {
			if (out->task.row[c][p] > out->task.class_n[c] - row)
				return fv_diag_set(
				    d, FV_EPROTO,
				    "evaluation worker returned a malformed class row");
			row += out->task.row[c][p];
		}
		if (row != out->task.class_n[c] || out->task.class_n[c] > out->n - classes_total)
			return fv_diag_set(d, FV_EPROTO,
					   "evaluation worker returned malformed class counts");
		classes_total += out->task.class_n[c];
	}
	if (out->task.classes && classes_total != out->n)
		return fv_diag_set(d, FV_EPROTO,
				   "evaluation worker returned malformed class counts");
	for (uint32_t i = 0; i < out->n_subres; i++) {
		struct sub_out *so = &out->subres[i];
		so->category[sizeof(so->category) - 1] = '\0';
		if (so->sub >= in->n_sub || so->n > out->n || so->n_pos > so->n)
			return fv_diag_set(
			    d, FV_EPROTO,
			    "evaluation worker returned a malformed subgroup summary");
	}
	return FV_OK;
}
