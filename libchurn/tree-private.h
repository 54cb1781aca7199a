/*
 * Shared internals of the tree models (gbm.c, forest.c): feature binning,
 * the stored tree (node arrays in original feature units), prediction,
 * contributions (TreeSHAP and Saabas), JSON I/O with validation and an exact
 * ROC AUC.
 */
#ifndef CH_TREE_PRIVATE_H
#define CH_TREE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/common.h"
#include "churn/matrix.h"
#include "churn/model.h"

/* ---- binning ---- */
#define CH_MAX_BINS 255

typedef struct ch_bins {
	size_t nfeat;
	uint16_t *nbins;  /* per feature, 1..CH_MAX_BINS */
	double *cuts;     /* nfeat x (CH_MAX_BINS - 1): bin b holds cuts[b-1] < x <= cuts[b] */
} ch_bins;

/*
 * Quantile bins from a seeded sample of at most sample_max rows of the
 * row-major x (nrows x nfeat). Features with at most max_bins distinct
 * values get one bin per value (cuts at midpoints). NaN/Inf fail with
 * CHURN_E_NUMERIC (checked over all rows, not only the sample).
 */
churn_status ch_bins_fit(ch_bins *b, const double *x, size_t nrows, size_t nfeat, size_t max_bins,
                         size_t sample_max, uint64_t seed, size_t nthreads);
void ch_bins_free(ch_bins *b);
static inline const double *ch_bins_cuts(const ch_bins *b, size_t f)
{
	return b->cuts + f * (CH_MAX_BINS - 1);
}
/* Bin of value v for feature f: the number of cuts below v. */
uint8_t ch_bins_bin(const ch_bins *b, size_t f, double v);
/*
 * Bin rows rows[0..n) of row-major x (all rows in order when rows is NULL)
 * into out (row-major n x nfeat uint8).
 */
void ch_bins_apply(const ch_bins *b, const double *x, const uint32_t *rows, size_t n, uint8_t *out,
                   size_t nthreads);

/* ---- trees ---- */
/* Deepest tree grown or loaded (bounds recursion and TreeSHAP scratch). */
#define CH_TREE_MAX_DEPTH 128

typedef struct ch_node {
	double threshold;  /* go left when x[feature] <= threshold */
	double value;      /* leaf output; internal: cover-weighted mean of children */
	double cover;      /* hessian sum (gbm) or weighted sample count (forest) */
	double gain;       /* split gain / impurity decrease; 0 for leaves */
	int32_t feature;   /* -1 for a leaf */
	int32_t left, right;
} ch_node;

/* Prediction layout: 16 bytes a node, the right child right after the left one. */
typedef struct ch_cnode {
	double v;          /* threshold, or the value of a leaf */
	int32_t feature;   /* -1 for a leaf */
	int32_t left;      /* right child is left + 1 */
} ch_cnode;

/*
 * A shallow tree as a complete one (ch_tree_compact, depth <= CH_FULL_MAX_DEPTH):
 * internal node i's children are 2i+1 and 2i+2, leaves follow the 2^depth - 1
 * internal nodes; a leaf above the last level becomes splits on +inf whose
 * every leaf holds its value, so a walk takes exactly depth steps and
 * reaches the same value for any x.
 */
#define CH_FULL_MAX_DEPTH 6
typedef struct ch_full {
	int32_t feature[(1 << CH_FULL_MAX_DEPTH) - 1];
	double threshold[(1 << CH_FULL_MAX_DEPTH) - 1];
	double leaf[1 << CH_FULL_MAX_DEPTH];
} ch_full;

typedef struct ch_tree {
	ch_node *nodes;
	size_t n, cap;
	size_t depth;      /* longest root-to-leaf edge count */
	ch_cnode *cn;      /* compact copy for prediction (ch_tree_compact), or NULL */
	ch_full *full;     /* complete copy of a shallow tree (ch_tree_compact), or NULL */
} ch_tree;

/* Append a leaf; returns its index or -1 on OOM. */
int32_t ch_tree_add(ch_tree *t);
void ch_tree_free(ch_tree *t);
/*
 * Recompute internal values/covers bottom-up from leaves (cover = sum of
 * children covers, value = cover-weighted mean) and the depth. Requires a
 * valid tree (children after parents).
 */
void ch_tree_finalize(ch_tree *t);

/* Build t->cn from the nodes (after finalize or load); false on OOM (prediction then uses the nodes). */
bool ch_tree_compact(ch_tree *t);

static inline double ch_tree_predict(const ch_tree *t, const double *x)
{
	if (t->cn) {
		const ch_cnode *c = t->cn;
		while (c->feature >= 0)
			c = t->cn + c->left + !(x[c->feature] <= c->v);
		return c->v;
	}
	const ch_node *nd = t->nodes;
	while (nd->feature >= 0) {
		int32_t l = nd->left, r = nd->right;
		int32_t right = !(x[nd->feature] <= nd->threshold);
		nd = t->nodes + (l + right * (r - l)); /* branch-free: the direction is data-dependent */
	}
	return nd->value;
}

/*
 * Batch form of ch_tree_predict: acc[i] += leaf value of row i (at
 * X + i * ncols) for i < n. Rows are walked several at a time for exactly
 * the tree's depth steps, a leaf stepping to itself, so the walks overlap
 * and no branch depends on the data; the sums are those of the loop.
 */
void ch_tree_predict_add(const ch_tree *t, const double *X, size_t ncols, size_t n, double *acc);
/* out[k] = leaf value of row rows[k] of X, for k < n (the same walk). */
void ch_tree_predict_rows(const ch_tree *t, const double *X, size_t ncols, const uint32_t *rows, size_t n,
                          double *out);

/* Scratch size (in ch_shap_elem units) needed by ch_tree_shap for a tree of depth d. */
typedef struct ch_shap_elem {
	double zero_fraction, one_fraction, pweight;
	int32_t feature;
} ch_shap_elem;
size_t ch_tree_shap_scratch(size_t depth);
/*
 * Exact TreeSHAP (Lundberg et al. 2018, Algorithm 2): adds phi[j] for each
 * feature j; sum(phi) = predict(x) - nodes[0].value. scratch holds
 * ch_tree_shap_scratch(t->depth) elements.
 */
void ch_tree_shap(const ch_tree *t, const double *x, double *phi, ch_shap_elem *scratch);
/* Saabas path attribution: adds value changes along x's path to phi. */
void ch_tree_saabas(const ch_tree *t, const double *x, double *phi);

/*
 * JSON: {"feature":[...],"threshold":[...],"left":[...],"right":[...],
 * "value":[...],"cover":[...],"gain":[...]} (parallel arrays; leaves have
 * feature -1, left/right -1 and threshold 0).
 */
cJSON *ch_tree_to_cjson(const ch_tree *t);
/* Add "trees": [...] (ch_tree_to_cjson of each) to object o; false on OOM. */
bool ch_trees_add_cjson(cJSON *o, const ch_tree *trees, size_t n);
/*
 * Parse and validate (every child index after its parent and in range, each
 * node referenced once, feature < nfeat, finite numbers): CHURN_E_FORMAT with
 * detail prefixed by where ("trees[3]") otherwise.
 */
churn_status ch_tree_from_cjson(const cJSON *j, size_t nfeat, const char *where, ch_tree *out);

/*
 * The trees of an ensemble by condition, for one row at a time (the
 * QuickScorer idea: Lucchese et al., SIGIR 2015). A split that sends the row
 * right (!(x <= threshold), all of them for NaN) removes the leaves of its
 * left subtree from its tree's bitmask of reachable leaves; the leftmost leaf
 * left is where the walk ends. Here the splits of one feature are taken
 * together: a feature's distinct thresholds cut its values into intervals,
 * and for each interval the table holds every tree's mask once all the
 * splits below it have sent the row right. A row then costs, per feature, a
 * search among its thresholds and one AND of a table row (a few vector
 * operations), whatever the number of splits; no dependent loads from node
 * to node. Gradient boosting's thresholds are bin edges, so there are few
 * distinct ones (170 for 700 splits of 100 trees of depth 3 on Telco).
 * Built for complete trees (ch_full) of depth <= 6 whose table is at most
 * QS_MAX_TABLE bytes (tree.c); NULL otherwise, and the caller walks.
 */
typedef struct ch_qs {
	size_t ntrees, nfeat;
	size_t width;      /* bytes of one tree's mask: 1, 2, 4 or 8 (up to 8, 16, 32, 64 leaves) */
	size_t shift;      /* log2 of the leaves per tree in leaf[] (the deepest tree's) */
	size_t words;      /* uint64_t words of one table row: ntrees * width, rounded up */
	size_t *start;     /* nfeat + 1: feature f's distinct thresholds are [start[f], start[f + 1]) */
	double *threshold; /* ascending within a feature */
	uint64_t *mask;    /* per distinct threshold k, a row of `words`: every tree's reachable leaves once
	                    * each split of that feature with threshold <= threshold[k] sent the row right */
	double *leaf;      /* tree t's leaf values at t << shift */
} ch_qs;

/* The trees by condition, or NULL when they do not qualify (see above) or on OOM. */
ch_qs *ch_qs_build(const ch_tree *trees, size_t ntrees);
void ch_qs_free(ch_qs *q);
/* base + the trees' leaf values of row x, summed in tree order: the bits of the walk. */
double ch_qs_row_sum(const ch_qs *q, double base, const double *x);

/* ---- metrics ---- */
/* Exact ROC AUC with ties (0.5 when one class is absent). NOMEM on allocation failure. */
churn_status ch_roc_auc(const double *score, const uint8_t *y, size_t n, double *out);

/*
 * Permutation importance of any fitted model on labelled rows x: the mean drop
 * of ROC AUC over `repeats` seeded shuffles of the rows of each group of
 * features (group[j] in [0, ngroups) for each feature; NULL: one group per
 * feature). Features of a group, such as the one-hot levels of a column, are
 * shuffled together, so no impossible rows appear. out[0..ngroups);
 * cap >= ngroups. Deterministic per seed (forest.c).
 */
churn_status ch_model_permutation_importance(const churn_model *m, const churn_matrix *x, const size_t *group,
                                             size_t ngroups, uint64_t seed, size_t repeats, double *out, size_t cap);

/*
 * The same for at most max_groups groups (0: all): those of highest key[g]
 * (e.g. impurity importance; ties by lower index); out[g] is NaN for the
 * others, which are shuffled together as one extra group whose drop is not
 * reported, so the cost follows max_groups, not the width. Each reported
 * value is a permutation importance of its group, though not bit for bit the
 * one the full call gives (the shuffles are seeded by the group's rank).
 */
churn_status ch_model_permutation_importance_top(const churn_model *m, const churn_matrix *x, const size_t *group,
                                                 size_t ngroups, const double *key, size_t max_groups, uint64_t seed,
                                                 size_t repeats, double *out, size_t cap);

#endif
