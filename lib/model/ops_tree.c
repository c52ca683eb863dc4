/* ai.onnx.ml TreeEnsembleRegressor and TreeEnsembleClassifier. The trees are checked and
 * compiled once at load into index-linked nodes (n->priv); evaluation only reads them. */
#include "model/model_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tmode { T_LEAF, T_LEQ, T_LT, T_GTE, T_GT, T_EQ, T_NEQ };
enum agg { A_SUM, A_AVERAGE, A_MIN, A_MAX };
enum tpost { TP_NONE, TP_LOGISTIC, TP_SOFTMAX, TP_SOFTMAX_ZERO };

struct tnode {
	int64_t feature;
	double value;
	enum tmode mode;
	bool missing_true;
	int32_t child[2];	   /* true, false: node indices */
	size_t leaf_first, leaf_n; /* range in leaves[] */
};

struct tleaf {
	size_t target;
	double w;
};

/* The hot copy of a node for the level-by-level walk: 16 bytes; a leaf points to itself on
 * both sides (feature 0), so a walk of the tree's depth in steps ends on it whatever the
 * path length. */
struct fnode {
	float value; /* nodes_values are float attributes: no precision lost */
	int32_t feature;
	int32_t child[2];
};

struct trees {
	bool classifier;
	size_t n_nodes, n_trees, n_targets, n_leaves;
	struct tnode *nodes;
	struct fnode *fast; /* same indices as nodes */
	/* T_LEQ or T_LT when every branch uses that mode without missing-value tracking and
	 * every tree is at most FAST_MAX_DEPTH deep: the level-by-level walk; else T_LEAF. */
	enum tmode fast_mode;
	uint8_t *depth; /* per tree: the longest root-to-leaf path, in branches */
	/* Sums and averages with at most one weight per (leaf, target) and few targets: each
	 * node's weights laid out densely, dense[node * n_targets + target] (0 where none), so
	 * a leaf is added without looking up its entries. NULL otherwise. */
	double *dense;
	int32_t *roots;
	struct tleaf *leaves;
	double *base; /* n_targets, zeros when absent */
	enum agg agg;
	enum tpost post;
	int64_t *labels; /* classifier: n_targets labels */
};

static void trees_free(void *p)
{
	struct trees *t = p;
	if (!t)
		return;
	fv_free(t->nodes);
	fv_free(t->fast);
	fv_free(t->depth);
	fv_free(t->dense);
	fv_free(t->roots);
	fv_free(t->leaves);
	fv_free(t->base);
	fv_free(t->labels);
	fv_free(t);
}

/* (tree id, node id) -> index, for linking children and leaves. */
struct key {
	int64_t tree, node;
	size_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->tree != y->tree)
		return x->tree < y->tree ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return 0;
}

static int32_t find_key(const struct key *keys, size_t n, int64_t tree, int64_t node)
{
	struct key k = {tree, node, 0};
	const struct key *r = bsearch(&k, keys, n, sizeof(k), key_cmp);
	return r ? (int32_t)r->idx : -1;
}

static const struct fv_attr *ints(const struct fv_node *n, const char *name, size_t len)
{
	const struct fv_attr *a = fv_attr_get(n, name);
	return a && a->n == len ? a : NULL;
}

struct lent {
	size_t node, target;
	double w;
};

static int lent_cmp(const void *a, const void *b)
{
	const struct lent *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node ? 1 : 0;
}

/* Trees at most this deep take the level-by-level walk. */
#define FAST_MAX_DEPTH 64

/* Depth of every tree, walked from its root (every node has at most one parent, each tree one
 * root: checked by the caller, so the walk visits each node once). false when a tree is
 * deeper than FAST_MAX_DEPTH or memory runs out. */
static bool tree_depths(struct trees *t)
{
	int32_t *stack = fv_calloc(t->n_nodes + 2, sizeof(int32_t));
	uint8_t *dep = fv_calloc(t->n_nodes + 1, 1);
	bool ok = stack && dep;
	for (size_t k = 0; ok && k < t->n_trees; k++) {
		size_t top = 0;
		stack[top++] = t->roots[k];
		dep[t->roots[k]] = 0;
		while (ok && top) {
			int32_t i = stack[--top];
			const struct tnode *x = &t->nodes[i];
			if (x->mode == T_LEAF) {
				if (dep[i] > t->depth[k])
					t->depth[k] = dep[i];
				continue;
			}
			if (dep[i] >= FAST_MAX_DEPTH || top + 2 > t->n_nodes + 2) {
				ok = false;
				break;
			}
			for (int c = 0; c < 2; c++) {
				dep[x->child[c]] = (uint8_t)(dep[i] + 1);
				stack[top++] = x->child[c];
			}
		}
	}
	fv_free(stack);
	fv_free(dep);
	return ok;
}

static fv_err check_trees(struct fv_node *n, struct fv_diag *d)
{
	bool clf = !strcmp(n->op->name, "TreeEnsembleClassifier");
	const char *pfx = clf ? "class_" : "target_";
	char an[64];
	const struct fv_attr *ids = fv_attr_get(n, "nodes_nodeids"), *tids, *feat, *vals, *modes,
			     *tr, *fa, *mt, *lt, *ln, *li, *lw, *labels = NULL, *base;
	const char *agg = fv_attr_str(n, "aggregate_function", "SUM"),
		   *post = fv_attr_str(n, "post_transform", "NONE");
	struct trees *t = NULL;
	struct key *keys = NULL;
	struct lent *le = NULL;
	uint8_t *parents = NULL;
	size_t nn, nl;
	fv_err e = FV_OK;

	if (fv_attr_get(n, "classlabels_strings"))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "unsupported attribute classlabels_strings (string labels)");
	if (fv_attr_get(n, "nodes_values_as_tensor") || fv_attr_get(n, "base_values_as_tensor") ||
	    fv_attr_get(n, "target_weights_as_tensor") || fv_attr_get(n, "class_weights_as_tensor"))
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported *_as_tensor attributes");
	if (!ids || ids->n == 0)
		return fv_diag_set(d, FV_EINVAL, "nodes_nodeids is required");
	nn = ids->n;
	tids = ints(n, "nodes_treeids", nn);
	feat = ints(n, "nodes_featureids", nn);
	vals = ints(n, "nodes_values", nn);
	modes = ints(n, "nodes_modes", nn);
	tr = ints(n, "nodes_truenodeids", nn);
	fa = ints(n, "nodes_falsenodeids", nn);
	mt = fv_attr_get(n, "nodes_missing_value_tracks_true");
	if (!tids || !feat || !vals || !modes || !tr || !fa || (mt && mt->n != nn))
		return fv_diag_set(d, FV_EINVAL, "node attributes differ in length");
	snprintf(an, sizeof(an), "%streeids", pfx);
	lt = fv_attr_get(n, an);
	nl = lt ? lt->n : 0;
	snprintf(an, sizeof(an), "%snodeids", pfx);
	ln = ints(n, an, nl);
	snprintf(an, sizeof(an), "%sids", pfx);
	li = ints(n, an, nl);
	snprintf(an, sizeof(an), "%sweights", pfx);
	lw = ints(n, an, nl);
	if (!lt || !ln || !li || !lw)
		return fv_diag_set(d, FV_EINVAL, "leaf attributes missing or differ in length");

	t = fv_calloc(1, sizeof(*t));
	if (!t)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	t->classifier = clf;
	if (clf) {
		labels = fv_attr_get(n, "classlabels_int64s");
		if (!labels || labels->n == 0) {
			e = fv_diag_set(d, FV_EINVAL, "classlabels_int64s is required");
			goto fail;
		}
		t->n_targets = labels->n;
	} else {
		int64_t nt = fv_attr_int(n, "n_targets", 1);
		if (nt < 1 || nt > FV_MAX_FEATURES) {
			e = fv_diag_set(d, FV_EINVAL, "n_targets %lld", (long long)nt);
			goto fail;
		}
		t->n_targets = (size_t)nt;
	}
	t->agg = !strcmp(agg, "SUM")	   ? A_SUM
		 : !strcmp(agg, "AVERAGE") ? A_AVERAGE
		 : !strcmp(agg, "MIN")	   ? A_MIN
		 : !strcmp(agg, "MAX")	   ? A_MAX
					   : (enum agg) - 1;
	t->post = !strcmp(post, "NONE")		  ? TP_NONE
		  : !strcmp(post, "LOGISTIC")	  ? TP_LOGISTIC
		  : !strcmp(post, "SOFTMAX")	  ? TP_SOFTMAX
		  : !strcmp(post, "SOFTMAX_ZERO") ? TP_SOFTMAX_ZERO
						  : (enum tpost) - 1;
	if ((int)t->agg < 0 || (int)t->post < 0 || (clf && strcmp(agg, "SUM"))) {
		e = fv_diag_set(d, FV_EUNSUPPORTED,
				"unsupported attribute value aggregate_function=%s or "
				"post_transform=%s",
				agg, post);
		goto fail;
	}
	base = fv_attr_get(n, "base_values");
	if (base && base->n != t->n_targets) {
		e = fv_diag_set(d, FV_EINVAL, "%zu base values for %zu targets", base->n,
				t->n_targets);
		goto fail;
	}
	t->base = fv_calloc(t->n_targets, sizeof(double));
	t->nodes = fv_calloc(nn, sizeof(*t->nodes));
	keys = fv_calloc(nn, sizeof(*keys));
	parents = fv_calloc(nn, 1);
	le = fv_calloc(nl ? nl : 1, sizeof(*le));
	t->leaves = fv_calloc(nl ? nl : 1, sizeof(*t->leaves));
	if (clf)
		t->labels = fv_calloc(t->n_targets, sizeof(int64_t));
	if (!t->base || !t->nodes || !keys || !parents || !le || !t->leaves ||
	    (clf && !t->labels)) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < t->n_targets; i++) {
		t->base[i] = base ? base->floats[i] : 0;
		if (clf)
			t->labels[i] = labels->ints[i];
	}
	t->n_nodes = nn;
	for (size_t i = 0; i < nn; i++)
		keys[i] = (struct key){tids->ints[i], ids->ints[i], i};
	qsort(keys, nn, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < nn; i++)
		if (!key_cmp(&keys[i - 1], &keys[i])) {
			e = fv_diag_set(d, FV_EINVAL, "tree %lld node %lld defined twice",
					(long long)keys[i].tree, (long long)keys[i].node);
			goto fail;
		}
	for (size_t i = 0; i < nn; i++) {
		static const char *const mn[] = {"LEAF",       "BRANCH_LEQ", "BRANCH_LT",
						 "BRANCH_GTE", "BRANCH_GT",  "BRANCH_EQ",
						 "BRANCH_NEQ"};
		struct tnode *x = &t->nodes[i];
		size_t m = 0;
		while (m < 7 && strcmp(modes->strings[i], mn[m]))
			m++;
		if (m == 7) {
			e = fv_diag_set(d, FV_EUNSUPPORTED, "unsupported node mode %s",
					modes->strings[i]);
			goto fail;
		}
		x->mode = (enum tmode)m;
		x->feature = feat->ints[i];
		x->value = vals->floats[i];
		x->missing_true = mt && mt->ints[i];
		if (x->mode == T_LEAF)
			continue;
		if (x->feature < 0 || x->feature >= FV_MAX_FEATURES) {
			e = fv_diag_set(d, FV_EINVAL, "feature id %lld", (long long)x->feature);
			goto fail;
		}
		x->child[0] = find_key(keys, nn, tids->ints[i], tr->ints[i]);
		x->child[1] = find_key(keys, nn, tids->ints[i], fa->ints[i]);
		/* At most one parent per node, and roots have none: walks cannot loop. */
		for (int c = 0; c < 2; c++)
			if (x->child[c] < 0 || x->child[c] == (int32_t)i ||
			    parents[x->child[c]]++) {
				e = fv_diag_set(d, FV_EINVAL,
						"tree %lld node %lld: missing or shared child",
						(long long)tids->ints[i], (long long)ids->ints[i]);
				goto fail;
			}
	}
	t->roots = fv_calloc(nn, sizeof(int32_t));
	if (!t->roots) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	/* One root per tree id: keys are sorted by tree, so trees are contiguous runs. */
	for (size_t i = 0; i < nn;) {
		size_t j = i;
		int32_t root = -1;
		while (j < nn && keys[j].tree == keys[i].tree) {
			if (!parents[keys[j].idx]) {
				if (root >= 0) {
					e = fv_diag_set(d, FV_EINVAL, "tree %lld has several roots",
							(long long)keys[i].tree);
					goto fail;
				}
				root = (int32_t)keys[j].idx;
			}
			j++;
		}
		if (root < 0) {
			e = fv_diag_set(d, FV_EINVAL, "tree %lld has no root",
					(long long)keys[i].tree);
			goto fail;
		}
		t->roots[t->n_trees++] = root;
		i = j;
	}
	for (size_t k = 0; k < nl; k++) {
		int32_t idx = find_key(keys, nn, lt->ints[k], ln->ints[k]);
		if (idx < 0 || t->nodes[idx].mode != T_LEAF || li->ints[k] < 0 ||
		    (uint64_t)li->ints[k] >= t->n_targets) {
			e = fv_diag_set(d, FV_EINVAL,
					"leaf weight %zu: unknown leaf or target %lld", k,
					(long long)li->ints[k]);
			goto fail;
		}
		le[k] = (struct lent){(size_t)idx, (size_t)li->ints[k], lw->floats[k]};
	}
	if (clf && t->n_targets == 2) {
		/* onnxruntime turns a binary ensemble that scores one class only into [1-p, p]
		 * or [-s, s] by rules not in the ONNX spec; refuse rather than guess. */
		bool has[2] = {false, false};
		for (size_t k = 0; k < nl; k++)
			has[le[k].target] = true;
		if (!has[0] || !has[1]) {
			e = fv_diag_set(d, FV_EUNSUPPORTED,
					"binary tree classifier with weights for one class only");
			goto fail;
		}
	}
	qsort(le, nl, sizeof(*le), lent_cmp);
	for (size_t k = 0; k < nl; k++) {
		struct tnode *x = &t->nodes[le[k].node];
		if (!x->leaf_n)
			x->leaf_first = k;
		x->leaf_n++;
		t->leaves[k] = (struct tleaf){le[k].target, le[k].w};
	}
	t->n_leaves = nl;
	if ((t->agg == A_SUM || t->agg == A_AVERAGE) && t->n_targets <= 8 &&
	    (t->dense = fv_calloc(nn * t->n_targets + 1, sizeof(double)))) {
		for (size_t i = 0; i < nn && t->dense; i++) {
			const struct tnode *x = &t->nodes[i];
			for (size_t l = 0; l < x->leaf_n; l++) {
				const struct tleaf *lf = &t->leaves[x->leaf_first + l];
				double *w = &t->dense[i * t->n_targets + lf->target];
				bool twice = false;
				for (size_t m = 0; m < l; m++)
					twice |= t->leaves[x->leaf_first + m].target == lf->target;
				if (twice) { /* summed in another order: keep the exact path */
					fv_free(t->dense);
					t->dense = NULL;
					break;
				}
				*w = lf->w;
			}
		}
	}
	t->fast = fv_calloc(nn, sizeof(*t->fast));
	if (!t->fast) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	t->fast_mode = T_LEAF;
	for (size_t i = 0; i < nn; i++) {
		const struct tnode *x = &t->nodes[i];
		bool leaf = x->mode == T_LEAF;
		t->fast[i] = leaf ? (struct fnode){0, 0, {(int32_t)i, (int32_t)i}}
				  : (struct fnode){(float)x->value,
						   (int32_t)x->feature,
						   {x->child[0], x->child[1]}};
		if (!leaf && t->fast_mode == T_LEAF)
			t->fast_mode = x->mode;
		if (!leaf && (x->mode != t->fast_mode || x->missing_true ||
			      (x->mode != T_LEQ && x->mode != T_LT)))
			t->fast_mode = T_NEQ; /* mixed: no fast walk (reset below) */
	}
	if (t->fast_mode == T_NEQ)
		t->fast_mode = T_LEAF;
	if (t->fast_mode == T_LEAF && nn)
		t->fast_mode = T_LEQ; /* only leaves: either mode walks 0 steps */
	if (!(t->depth = fv_calloc(t->n_trees + 1, 1))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	if ((t->fast_mode == T_LEQ || t->fast_mode == T_LT) && !tree_depths(t)) {
		t->fast_mode = T_LEAF;
	}
	n->priv = t;
	n->priv_free = trees_free;
	t = NULL;
fail:
	trees_free(t);
	fv_free(keys);
	fv_free(le);
	fv_free(parents);
	return e;
}

static bool goes_true(const struct tnode *x, double v)
{
	if (isnan(v) && x->missing_true)
		return true;
	switch (x->mode) {
	case T_LEQ:
		return v <= x->value;
	case T_LT:
		return v < x->value;
	case T_GTE:
		return v >= x->value;
	case T_GT:
		return v > x->value;
	case T_EQ:
		return v == x->value;
	case T_NEQ:
		return v != x->value;
	default:
		return false;
	}
}

/* Aggregate, post-transform and store the scores s[T] of row r. */
static void finish_row(const struct trees *t, double *s, size_t r, struct fv_tensor *out,
		       struct fv_tensor *score)
{
	size_t T = t->n_targets, best = 0;

	for (size_t j = 0; j < T; j++) {
		if (t->agg == A_AVERAGE)
			s[j] /= (double)t->n_trees;
		s[j] += t->base[j];
	}
	if (t->post == TP_LOGISTIC) {
		for (size_t j = 0; j < T; j++)
			s[j] = s[j] >= 0 ? 1.0 / (1.0 + exp(-s[j])) : exp(s[j]) / (1.0 + exp(s[j]));
	} else if (t->post != TP_NONE) {
		double mx = -INFINITY, sum = 0;
		for (size_t j = 0; j < T; j++)
			mx = s[j] > mx ? s[j] : mx;
		for (size_t j = 0; j < T; j++) {
			if (t->post == TP_SOFTMAX_ZERO && fabs(s[j]) <= 1e-7)
				s[j] *= exp(-mx);
			else
				s[j] = exp(s[j] - mx);
			sum += s[j];
		}
		for (size_t j = 0; j < T; j++)
			s[j] = sum == 0 ? 0.5 : s[j] / sum;
	}
	for (size_t j = 0; j < T; j++) {
		if (s[j] > s[best])
			best = j;
		if (score)
			((float *)score->data)[r * T + j] = (float)s[j];
	}
	if (t->classifier)
		((int64_t *)out[0].data)[r] = t->labels[best];
}

/* Rows scored together: each tree is walked for all of them while it is in cache, and the
 * block's features (converted to double once) stay in L1/L2. */
#define TREE_BLOCK 64

/* Tree k for nb rows at once, one level at a time: the rows' walks are independent, so the
 * loads of one level overlap instead of each row's walk waiting on its own branch. A leaf
 * points to itself, so depth[k] steps end every walk on its leaf; at[r] is row r's. */
/* Tree k for nb rows at once, one level at a time: the rows' walks are independent, so the
 * loads of one level overlap instead of each row's walk waiting on its own branch. A leaf
 * points to itself, so depth[k] steps end every walk on its leaf; at[r] is row r's. The rows
 * are float (read in place: a float against a float threshold compares as in double) or
 * double. */
#define WALK_LEVELS(NAME, TYPE)                                                                    \
	static void NAME(const struct trees *t, size_t k, const TYPE *xb, size_t F, size_t nb,     \
			 int32_t *at)                                                              \
	{                                                                                          \
		const struct fnode *f = t->fast;                                                   \
		for (size_t r = 0; r < nb; r++)                                                    \
			at[r] = t->roots[k];                                                       \
		if (t->fast_mode == T_LT) {                                                        \
			for (unsigned lv = 0; lv < t->depth[k]; lv++)                              \
				for (size_t r = 0; r < nb; r++) {                                  \
					const struct fnode *x = &f[at[r]];                         \
					at[r] = x->child[!(xb[r * F + (size_t)x->feature] <        \
							   x->value)];                             \
				}                                                                  \
		} else {                                                                           \
			for (unsigned lv = 0; lv < t->depth[k]; lv++)                              \
				for (size_t r = 0; r < nb; r++) {                                  \
					const struct fnode *x = &f[at[r]];                         \
					at[r] = x->child[!(xb[r * F + (size_t)x->feature] <=       \
							   x->value)];                             \
				}                                                                  \
		}                                                                                  \
	}
WALK_LEVELS(walk_levels_f, float)
WALK_LEVELS(walk_levels_d, double)

static fv_err run_trees(const struct fv_node *n, const struct fv_tensor *const *in, size_t n_in,
			struct fv_tensor *out, size_t n_out, struct fv_diag *d)
{
	const struct trees *t = n->priv;
	const struct fv_tensor *X = in[0];
	size_t rows, F, T = t->n_targets;
	double *s = NULL, *xb = NULL;
	bool *seen = NULL;
	int64_t dims[2];
	struct fv_tensor *score = t->classifier ? (n_out > 1 ? &out[1] : NULL) : &out[0];
	fv_err e;

	if (X->dtype == FV_DTYPE_BOOL || (X->rank != 1 && X->rank != 2))
		return fv_diag_set(d, FV_EINVAL, "input must be numeric [N, F] or [F]");
	rows = X->rank == 2 ? (size_t)X->dims[0] : 1;
	F = (size_t)X->dims[X->rank - 1];
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].mode != T_LEAF && (uint64_t)t->nodes[i].feature >= F)
			return fv_diag_set(d, FV_EINVAL,
					   "the trees use feature %lld, input has %zu",
					   (long long)t->nodes[i].feature, F);
	dims[0] = (int64_t)rows;
	dims[1] = (int64_t)T;
	if (t->classifier && (e = fv_tensor_alloc(&out[0], FV_DTYPE_INT64, 1, dims, d)) != FV_OK)
		return e;
	if (score && (e = fv_tensor_alloc(score, FV_DTYPE_FLOAT, 2, dims, d)) != FV_OK)
		return e;
	s = fv_calloc(TREE_BLOCK * T, sizeof(double));
	seen = fv_calloc(TREE_BLOCK * T, sizeof(bool));
	xb = fv_calloc(TREE_BLOCK * (F ? F : 1), sizeof(double));
	if (!s || !seen || !xb) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	bool fast = t->fast_mode == T_LEQ || t->fast_mode == T_LT;
	for (size_t r0 = 0; r0 < rows; r0 += TREE_BLOCK) {
		size_t nb = rows - r0 < TREE_BLOCK ? rows - r0 : TREE_BLOCK;
		const float *xf =
		    X->dtype == FV_DTYPE_FLOAT ? (const float *)X->data + r0 * F : NULL;
		/* float and the integer types convert to double exactly, as fv_tensor_getd
		 * does; thresholds are compared in double like the generic walk. The fast walk
		 * reads float rows in place. */
		if (xf && fast) {
			/* nothing to convert */
		} else if (xf) {
			for (size_t i = 0; i < nb * F; i++)
				xb[i] = xf[i];
		} else {
			for (size_t i = 0; i < nb * F; i++)
				xb[i] = fv_tensor_getd(X, r0 * F + i);
		}
		memset(s, 0, nb * T * sizeof(double));
		memset(seen, 0, nb * T * sizeof(bool));
		for (size_t k = 0; k < t->n_trees; k++) {
			int32_t at[TREE_BLOCK];
			if (fast && xf)
				walk_levels_f(t, k, xf, F, nb, at);
			else if (fast)
				walk_levels_d(t, k, xb, F, nb, at);
			for (size_t r = 0; r < nb; r++) {
				const double *xr = xb + r * F;
				double *sr = s + r * T;
				bool *seenr = seen + r * T;
				int32_t i = t->roots[k];
				const struct tnode *x;
				if (fast) {
					i = at[r];
				} else {
					while (t->nodes[i].mode != T_LEAF)
						i = t->nodes[i]
							.child[goes_true(&t->nodes[i],
									 xr[t->nodes[i].feature])
								   ? 0
								   : 1];
				}
				if (t->dense) {
					const double *w = t->dense + (size_t)i * T;
					for (size_t j = 0; j < T; j++)
						sr[j] += w[j];
					continue;
				}
				x = &t->nodes[i];
				for (size_t l = 0; l < x->leaf_n; l++) {
					const struct tleaf *lf = &t->leaves[x->leaf_first + l];
					double *v = &sr[lf->target];
					if (t->agg == A_MIN)
						*v = seenr[lf->target] && *v < lf->w ? *v : lf->w;
					else if (t->agg == A_MAX)
						*v = seenr[lf->target] && *v > lf->w ? *v : lf->w;
					else
						*v += lf->w;
					seenr[lf->target] = true;
				}
			}
		}
		for (size_t r = 0; r < nb; r++)
			finish_row(t, s + r * T, r0 + r, out, score);
	}
	e = FV_OK;
out:
	fv_free(s);
	fv_free(seen);
	fv_free(xb);
	return e;
}

#define ML "ai.onnx.ml"
#define NODE_ATTRS                                                                                 \
	"nodes_treeids:I nodes_nodeids:I nodes_featureids:I nodes_values:F nodes_modes:S "         \
	"nodes_truenodeids:I nodes_falsenodeids:I nodes_missing_value_tracks_true:I "              \
	"nodes_hitrates:F base_values:F post_transform:s nodes_values_as_tensor:t "                \
	"nodes_hitrates_as_tensor:t base_values_as_tensor:t "

const struct fv_op fv_ops_tree[] = {
    {ML, "TreeEnsembleRegressor", 1, 1, 1, 1, 1,
     NODE_ATTRS "target_treeids:I target_nodeids:I target_ids:I target_weights:F n_targets:i "
		"aggregate_function:s target_weights_as_tensor:t",
     check_trees, run_trees},
    {ML, "TreeEnsembleClassifier", 1, 1, 1, 1, 2,
     NODE_ATTRS "class_treeids:I class_nodeids:I class_ids:I class_weights:F "
		"classlabels_int64s:I classlabels_strings:S class_weights_as_tensor:t",
     check_trees, run_trees},
};
const size_t fv_ops_tree_n = sizeof(fv_ops_tree) / sizeof(fv_ops_tree[0]);
