/* Site-supplied predictions ("bring your own"): when a vendor's AI runs inside its own
 * appliance at the hospital, only its scores exist. The node then joins the predictions
 * (record key, score, optional model version) to its labelled data by key instead of running a
 * model, and computes the same statistics. Both sides are fv_sources read unmapped, so each may
 * be a CSV file, a SQLite table or read-only query, or a PostgreSQL read-only query streamed in
 * a read-only transaction. Keys of the data without a prediction, keys the predictions list
 * twice (left out: which score would be right?) and predictions without a record are counted.
 * Runs in the evaluation worker like the model path: the predictions are read whole and their
 * source closed, the data source opened, and then the same sandbox entered. Errors name the
 * source, the record ("line 12", "row 12"), the column and at most 40 bytes of the value; they
 * go to the node's log, never to the coordinator. */
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

/* How messages name the predictions: their file, or the query of a PostgreSQL source. */
static const char *pred_name(const struct node_byo *b)
{
	return b->spec.path ? b->spec.path : "predictions (postgres)";
}

/* A column of a source by name, or an error naming what it was for. */
static fv_err column(struct fv_source *s, const char *src, const char *key, const char *name,
		     long *out, struct fv_diag *d)
{
	if ((*out = fv_source_find(s, name)) >= 0)
		return FV_OK;
	return fv_diag_set(d, FV_EINVAL, "%s: no %s column '%s'", src, key, name);
}

/* Read the predictions (file, SQLite table or query, PostgreSQL query) into m; *dups counts
 * keys listed more than once. The source is closed on return, before the sandbox. */
static fv_err load_predictions(const struct eval_in *in, struct keymap *m, uint64_t *dups,
			       struct eval_out *out)
{
	const struct node_byo *b = in->byo;
	const char *name = pred_name(b);
	struct fv_source *s = NULL;
	struct fv_diag d = {{0}};
	long kc, sc, vc = -1;
	bool eof = false;
	uint64_t other = 0;
	char where[64], shown[64];
	fv_err e;

	if (b->spec.kind == FV_SOURCE_IMAGES) {
		e = fv_diag_set(&d, FV_EINVAL,
				"[predictions] source: use csv, sqlite or postgres, not images");
		goto fail;
	}
	if ((e = fv_source_open(&b->spec, NULL, &s, &d)) != FV_OK) {
		fv_diag_prefix(&d, "predictions: ");
		goto fail;
	}
	if ((e = column(s, name, "key", b->key, &kc, &d)) != FV_OK ||
	    (e = column(s, name, "score", b->score, &sc, &d)) != FV_OK ||
	    (b->version_column &&
	     (e = column(s, name, "version", b->version_column, &vc, &d)) != FV_OK))
		goto fail;
	for (;;) {
		char **f;
		double v;
		struct fv_diag why = {{0}};
		if ((e = fv_source_next_fields(s, &f, &eof, &d)) != FV_OK) {
			fv_diag_prefix(&d, "%s: ", name);
			goto fail;
		}
		if (eof)
			break;
		fv_source_where(s, where, sizeof(where));
		/* another version's score is not this model's */
		if (vc >= 0 &&
		    strcmp(f[vc] ? f[vc] : "", in->model_version ? in->model_version : "") != 0) {
			other++;
			continue;
		}
		if (fv_source_is_na(s, f[kc])) {
			e = fv_diag_set(&d, FV_EINVAL, "%s %s: key (column '%s') is missing", name,
					where, b->key);
			goto fail;
		}
		if (fv_source_is_na(s, f[sc])) {
			e = fv_diag_set(&d, FV_EINVAL, "%s %s: score (column '%s') is missing",
					name, where, b->score);
			goto fail;
		}
		if (fv_source_parse_number(s, f[sc], &v, &why) != FV_OK || !(v >= 0 && v <= 1)) {
			e = fv_diag_set(&d, FV_EINVAL,
					"%s %s: score (column '%s'): value '%s' is not a "
					"probability (a number from 0 to 1)",
					name, where, b->score,
					fv_data_show_value(shown, sizeof(shown), f[sc]));
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
	fv_source_close(s);
	s = NULL;
	if (vc >= 0) {
		fv_log(FV_LOG_INFO, "predictions_version",
		       "version=%s used=%zu other_versions=%llu", FV_Q(in->model_version), m->n,
		       (unsigned long long)other);
		if (m->n == 0) {
			e = fv_diag_set(
			    &d, FV_EINVAL, "%s: no prediction of model version '%s' (column '%s')",
			    name, in->model_version ? in->model_version : "", b->version_column);
			goto fail;
		}
	}
	return FV_OK;
fail:
	fv_source_close(s);
	node_eval_fail(out, e, d.msg);
	return e;
}

void node_byo_compute(const struct eval_in *in, struct eval_out *out)
{
	struct keymap m = {0};
	struct fv_source *src = NULL;
	struct fv_diag d = {{0}};
	float *scores = NULL;
	size_t n = 0, cap = 0;
	uint64_t dups = 0, unmatched = 0;
	long kc, lc;
	bool eof = false;
	char where[64], shown[64];
	fv_err e;

	if (in->source->kind == FV_SOURCE_IMAGES) {
		e = fv_diag_set(&d, FV_EUNSUPPORTED,
				"site-supplied predictions need a csv, sqlite or postgres data "
				"source");
		goto fail;
	}
	if (load_predictions(in, &m, &dups, out) != FV_OK)
		goto out;
	if ((e = fv_source_open(in->source, NULL, &src, &d)) != FV_OK)
		goto fail;
	if ((e = column(src, "data", "key", in->byo->data_key, &kc, &d)) != FV_OK ||
	    (e = column(src, "data", "label", in->label_column, &lc, &d)) != FV_OK)
		goto fail;
	if (in->sandbox && (e = fv_sandbox_enter(in->sandbox, &d)) != FV_OK)
		goto fail;
	for (;;) {
		char **f;
		double y;
		struct fv_diag why = {{0}};
		if ((e = fv_source_next_fields(src, &f, &eof, &d)) != FV_OK)
			goto fail;
		if (eof)
			break;
		if (fv_source_is_na(src, f[lc]) ||
		    fv_source_parse_number(src, f[lc], &y, &why) != FV_OK || (y != 0 && y != 1)) {
			fv_source_where(src, where, sizeof(where));
			e = fv_diag_set(
			    &d, FV_EINVAL, "%s: label (column '%s'): value '%s' is not 0 or 1",
			    where, in->label_column,
			    fv_data_show_value(shown, sizeof(shown), f[lc] ? f[lc] : ""));
			goto fail;
		}
		/* a record without a key cannot have a prediction */
		bool keyed = m.cap && !fv_source_is_na(src, f[kc]);
		size_t i = keyed ? slot(&m, f[kc]) : 0;
		if (!keyed || !m.key[i] || isnan(m.score[i])) {
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
	node_eval_fail(out, e, d.msg);
out:
	fv_free(scores);
	fv_source_close(src);
	keymap_free(&m);
}
