/* Evaluation of a model on local data, in a child process (DESIGN.md §4): the parent gets back
 * a fixed-size struct of sufficient statistics through a pipe, nothing else. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/model.h"
#include "fedval/stats.h"
#include "fedval/util.h"
#include "node.h"

static void fail(struct eval_out *out, fv_err e, const char *msg)
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
	fv_sha256_update(h, in->label_column, strlen(in->label_column) + 1);
	fv_sha256_final(h, dg);
	fv_hex(dg, sizeof(dg), out);
}

void node_eval_compute(const struct eval_in *in, struct eval_out *out)
{
	struct fv_model *m = NULL;
	struct fv_dataset ds = {0};
	struct fv_mapping map = {in->nvars, in->vars, in->columns, in->label_column};
	struct fv_diag d = {{0}};
	double *p = NULL;
	fv_err e;

	memset(out, 0, sizeof(*out));
	mapping_digest(in, out->mapping_sha256);
	if ((e = fv_model_load(in->model, in->model_len, &m, &d)) != FV_OK) {
		fv_diag_prefix(&d, "model refused: ");
		fail(out, e, d.msg);
		goto out;
	}
	if (fv_model_n_features(m) != in->nvars) {
		fv_diag_set(&d, FV_EINVAL, "model takes %zu features, manifest declares %zu",
			    fv_model_n_features(m), in->nvars);
		fail(out, FV_EINVAL, d.msg);
		goto out;
	}
	if ((e = fv_data_read_csv(in->data_path, in->csv, &map, &ds, &d)) != FV_OK) {
		fail(out, e, d.msg);
		goto out;
	}
	if (ds.n == 0) {
		fail(out, FV_EINVAL, "the dataset has no rows");
		goto out;
	}
	if (!(p = fv_calloc(ds.n, sizeof(*p)))) {
		fail(out, FV_ENOMEM, "out of memory for scores");
		goto out;
	}
	if ((e = fv_model_predict(m, ds.x, ds.n, p, &d)) != FV_OK) {
		fv_diag_prefix(&d, "model evaluation: ");
		fail(out, e, d.msg);
		goto out;
	}
	out->n = ds.n;
	for (size_t i = 0; i < ds.n; i++) {
		if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
			/* Says which row, never its values. */
			fv_diag_set(&d, FV_EINVAL,
				    "model output for data row %zu is not a probability", i + 1);
			fail(out, FV_EINVAL, d.msg);
			goto out;
		}
		out->n_pos += ds.y[i];
		out->sum_p += p[i];
		out->brier_sum += (p[i] - ds.y[i]) * (p[i] - ds.y[i]);
	}
	if (out->n_pos > 0 && out->n_pos < out->n) {
		if ((e = fv_stats_auc_delong(p, ds.y, ds.n, &out->auc, &out->auc_var, &d)) !=
		    FV_OK) {
			fail(out, e, d.msg);
			goto out;
		}
	} else {
		out->auc = NAN;
		out->auc_var = NAN;
	}
	out->n_thr = in->n_thr;
	for (uint32_t t = 0; t < in->n_thr; t++) {
		struct fv_confusion c;
		fv_stats_confusion(p, ds.y, ds.n, in->thr[t], &c);
		out->thr[t] = in->thr[t];
		out->tp[t] = c.tp;
		out->fp[t] = c.fp;
		out->tn[t] = c.tn;
		out->fn[t] = c.fn;
	}
out:
	fv_free(p);
	fv_dataset_fini(&ds);
	fv_model_free(m);
}

static fv_err read_all(int fd, void *buf, size_t n, int64_t deadline_ms)
{
	uint8_t *b = buf;
	size_t got = 0;
	while (got < n) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int64_t left = deadline_ms - fv_mono_ms();
		ssize_t r;
		if (left <= 0)
			return FV_ETIMEDOUT;
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			return FV_EIO;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
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
	int fds[2];
	pid_t pid;
	int status = 0;
	fv_err e;

	if (pipe(fds) != 0)
		return fv_diag_set(d, FV_EIO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fv_diag_set(d, FV_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Child: compute, hand back the fixed-size summary, exit without running the
		 * parent's atexit handlers or touching its sockets. */
		struct eval_out res;
		const uint8_t *b = (const uint8_t *)&res;
		size_t left = sizeof(res);
		sigset_t all;
		close(fds[0]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		alarm((unsigned)in->timeout_s);
		node_eval_compute(in, &res);
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
	e = read_all(fds[0], out, sizeof(*out),
		     fv_mono_ms() + (int64_t)in->timeout_s * 1000 + 5000);
	close(fds[0]);
	if (e == FV_ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (e != FV_OK) {
		if (WIFSIGNALED(status))
			return fv_diag_set(d, FV_EIO, "evaluation worker died (signal %d%s)",
					   WTERMSIG(status),
					   WTERMSIG(status) == SIGALRM ? ", time limit" : "");
		return fv_diag_set(d, e, "evaluation worker gave no result (%s)", fv_strerror(e));
	}
	out->error[sizeof(out->error) - 1] = '\0';
	out->mapping_sha256[sizeof(out->mapping_sha256) - 1] = '\0';
	if (out->n_thr > NODE_MAX_THR)
		return fv_diag_set(d, FV_EPROTO, "evaluation worker returned a malformed summary");
	return FV_OK;
}
