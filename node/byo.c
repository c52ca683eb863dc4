/* Site-supplied predictions ("bring your own"): when a vendor's AI runs inside its own
 * appliance at the hospital, only its scores exist. The node then joins a predictions file
 * (record key, score) to its labelled data by key instead of running a model, and computes the
 * same statistics. Keys of the data without a prediction, and keys the predictions list twice
 * (left out: which score would be right?), are counted. Runs in the evaluation worker like the
 * model path, and enters the same sandbox once both files are open. */
#include <math.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "node.h"

/* Open-addressing hash table of keys -> score; a score of NAN marks a duplicated key. */
struct keymap {
	size_t cap, n;
	char **key;
	double *score;
	uint8_t *used; /* 1 once a label record matched it */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static size_t slot(const struct keymap *m, const char *k)
{
	size_t i = (size_t)hash(k) & (m->cap - 1);
	while (m->key[i] && strcmp(m->key[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static fv_err grow(struct keymap *m)
{
	struct keymap g = {m->cap ? 2 * m->cap : 1024, 0, NULL, NULL, NULL};
	if (!(g.key = fv_calloc(g.cap, sizeof(char *))) ||
	    !(g.score = fv_calloc(g.cap, sizeof(double))) || !(g.used = fv_calloc(g.cap, 1))) {
		fv_free(g.key);
		fv_free(g.score);
		return FV_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->key[i])
			continue;
		size_t j = slot(&g, m->key[i]);
		g.key[j] = m->key[i];
		g.score[j] = m->score[i];
		g.n++;
	}
	fv_free(m->key);
	fv_free(m->score);
	fv_free(m->used);
	*m = g;
	return FV_OK;
}

static void keymap_free(struct keymap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		fv_free(m->key[i]);
	fv_free(m->key);
	fv_free(m->score);
	fv_free(m->used);
}

/* Read the predictions file into m; *dups counts keys listed more than once. */
static fv_err load_predictions(const struct eval_in *in, struct keymap *m, uint64_t *dups,
			       struct eval_out *out)
{
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	long kc, sc, vc = -1;
	bool eof = false;
	uint64_t other = 0;
	fv_err e;

	if ((e = fv_csv_open(in->byo->path, NULL, &c, &d)) != FV_OK)
		goto fail;
	if ((kc = fv_csv_find(c, in->byo->key)) < 0 || (sc = fv_csv_find(c, in->byo->score)) < 0) {
		e = fv_diag_set(&d, FV_EINVAL, "%s: no column '%s' or '%s'", in->byo->path,
				in->byo->key, in->byo->score);
		goto fail;
	}
	if (in->byo->version_column && (vc = fv_csv_find(c, in->byo->version_column)) < 0) {
		e = fv_diag_set(&d, FV_EINVAL, "%s: no version column '%s'", in->byo->path,
				in->byo->version_column);
		goto fail;
	}
	for (;;) {
		char **f;
		double v;
		struct fv_diag why = {{0}};
		if ((e = fv_csv_next(c, &f, &eof, &d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		/* another version's score is not this model's */
		if (vc >= 0 && strcmp(f[vc], in->model_version ? in->model_version : "") != 0) {
			other++;
			continue;
		}
		if (fv_csv_parse_double(c, f[sc], &v, &why) != FV_OK || !(v >= 0 && v <= 1)) {
			e = fv_diag_set(&d, FV_EINVAL, "%s line %llu: score is not a probability",
					in->byo->path, (unsigned long long)fv_csv_line(c));
			goto fail;
		}
		if ((m->n + 1) * 2 > m->cap && (e = grow(m)) != FV_OK) {
			fv_diag_set(&d, e, "out of memory for predictions");
			goto fail;
		}
		size_t i = slot(m, f[kc]);
		if (m->key[i]) {
			if (!isnan(m->score[i]))
				(*dups)++;
			m->score[i] = NAN;
			continue;
		}
		if (!(m->key[i] = fv_strdup(f[kc]))) {
			e = fv_diag_set(&d, FV_ENOMEM, "out of memory for predictions");
			goto fail;
		}
		m->score[i] = v;
		m->n++;
	}
	fv_csv_close(c);
	if (vc >= 0) {
		fv_log(FV_LOG_INFO, "predictions_version",
		       "version=%s used=%zu other_versions=%llu", FV_Q(in->model_version), m->n,
		       (unsigned long long)other);
		if (m->n == 0) {
			e = fv_diag_set(&d, FV_EINVAL,
					"%s: no prediction of model version '%s' (column '%s')",
					in->byo->path, in->model_version ? in->model_version : "",
					in->byo->version_column);
			goto fail_closed;
		}
	}
	return FV_OK;
fail_closed:
	c = NULL;
fail:
	fv_csv_close(c);
	out->status = (int)e;
	fv_strlcpy(out->error, d.msg, sizeof(out->error));
	return e;
}

void node_byo_compute(const struct eval_in *in, struct eval_out *out)
{
	struct keymap m = {0};
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	float *scores = NULL;
	size_t n = 0, cap = 0;
	uint64_t dups = 0, unmatched = 0;
	long kc, lc;
	bool eof = false;
	fv_err e;

	if (in->source->kind != FV_SOURCE_CSV) {
		e = fv_diag_set(&d, FV_EUNSUPPORTED,
				"site-supplied predictions need a CSV data source so far");
		goto fail;
	}
	if (load_predictions(in, &m, &dups, out) != FV_OK)
		goto out;
	if ((e = fv_csv_open(in->source->path, &in->source->csv, &c, &d)) != FV_OK)
		goto fail;
	if ((kc = fv_csv_find(c, in->byo->data_key)) < 0 ||
	    (lc = fv_csv_find(c, in->label_column)) < 0) {
		e = fv_diag_set(&d, FV_EINVAL, "data: no key column '%s' or label column '%s'",
				in->byo->data_key, in->label_column);
		goto fail;
	}
	if (in->sandbox && (e = fv_sandbox_enter(in->sandbox, &d)) != FV_OK)
		goto fail;
	for (;;) {
		char **f;
		double y;
		struct fv_diag why = {{0}};
		if ((e = fv_csv_next(c, &f, &eof, &d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		if (fv_csv_parse_double(c, f[lc], &y, &why) != FV_OK || (y != 0 && y != 1)) {
			e = fv_diag_set(&d, FV_EINVAL, "line %llu: label is not 0 or 1",
					(unsigned long long)fv_csv_line(c));
			goto fail;
		}
		size_t i = m.cap ? slot(&m, f[kc]) : 0;
		if (!m.cap || !m.key[i] || isnan(m.score[i])) {
			unmatched++;
			continue;
		}
		if (m.used[i]) {
			/* the data lists the key twice: the second record has no score of its own
			 */
			unmatched++;
			continue;
		}
		m.used[i] = 1;
		if (n == cap) {
			size_t nc = cap ? cap + cap / 2 : 1u << 16;
			float *ns = fv_realloc(scores, nc * sizeof(float));
			if (!ns) {
				e = fv_diag_set(&d, FV_ENOMEM, "out of memory for scores");
				goto fail;
			}
			scores = ns;
			cap = nc;
		}
		scores[n++] = node_pack(m.score[i], (uint8_t)y);
	}
	if (n == 0) {
		e = fv_diag_set(&d, FV_EINVAL, "no record of the data has a prediction");
		goto fail;
	}
	if ((e = node_summarise(scores, n, in->thr, in->n_thr, out)) != FV_OK) {
		fv_diag_set(&d, e, "out of memory summarising");
		goto fail;
	}
	node_operating_points(scores, n, in, out);
	/* predictions whose key no data record has (a duplicated key is counted as such) */
	uint64_t unused = 0;
	for (size_t i = 0; i < m.cap; i++)
		unused += m.key[i] && !isnan(m.score[i]) && !m.used[i];
	out->byo = true;
	out->byo_unmatched = unmatched;
	out->byo_duplicates = dups;
	out->byo_unused = unused;
	fv_log(FV_LOG_INFO, "byo_joined",
	       "matched=%zu unmatched=%llu duplicate_keys=%llu unused_predictions=%llu", n,
	       (unsigned long long)unmatched, (unsigned long long)dups, (unsigned long long)unused);
	goto out;
fail:
	out->status = (int)e;
	fv_strlcpy(out->error, d.msg, sizeof(out->error));
out:
	fv_free(scores);
	fv_csv_close(c);
	keymap_free(&m);
}
