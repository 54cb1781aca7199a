/*
 * Random forest of Gini trees (ch_forest_ops).
 *
 * Each tree draws a bootstrap sample (or takes every row once) and, at every
 * node, tries features in a random order over the quantile bins of tree.c
 * (at most forest.max_bins thresholds per feature) until forest.max_features
 * features that are not constant in the node were tried and a valid split
 * was found (as scikit-learn does). A feature found constant in a node is
 * never drawn again below it.
 * Counts are bootstrap multiplicities summed as integers, so a tree depends
 * only on (seed, tree index): trees are built in parallel, each from its own
 * RNG stream, and the forest is identical whatever forest.n_threads.
 *
 * P(churn) is the mean over trees of the leaf's positive fraction; the raw
 * score is that probability (score_is_logit = false). Contributions are
 * Saabas path attributions (value changes along the path, averaged over
 * trees) plus the mean root value as bias: they sum to P exactly up to
 * rounding. Importance is the mean decrease in Gini impurity, normalized
 * per tree and then to sum 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn/model.h"
#include "core-private.h"
#include "model-private.h"
#include "params-private.h"
#include "rng-private.h"
#include "thread-private.h"
#include "tree-private.h"

#define RF_MAX_ROWS ((size_t)INT32_MAX)
#define RF_MAX_TREES 100000
#define BIN_SAMPLE 200000

typedef struct forest_state {
	size_t nfeat;
	size_t ntrees;
	ch_tree *trees;
} forest_state;

struct rf_shared {
	size_t n, nf, nbt;
	const ch_bins *bins;
	const uint8_t *xc;         /* column-major binned */
	const uint8_t *y;
	const uint32_t *off;
	size_t mtry, max_depth, msl, ntrees, nthreads;
	bool bootstrap;
	uint64_t seed;
	ch_tree *trees;
	churn_status *status;      /* per thread */
	const churn_params *p;
};

static void forest_free(void *p)
{
	forest_state *s = p;
	if (!s)
		return;
	for (size_t t = 0; t < s->ntrees; t++)
		ch_tree_free(&s->trees[t]);
	free(s->trees);
	free(s);
}

struct rf_scratch {
	uint32_t *rows, *tmp, *w;
	uint32_t *wy, *tmpwy;      /* per position of rows[]: weight << 1 | label, moved with the rows */
	uint64_t *cnt;             /* nbt x 2 */
	uint32_t *feats;
	size_t cw;                 /* 64-bit words of a feature set */
	uint64_t *cpool, *cur;     /* features known constant: per stack slot (capstack x cw), the node's */
	struct rf_item {
		int32_t node;
		uint32_t begin, end, depth;
		uint64_t c0, c1;       /* weighted class counts of the rows, from the parent's split */
	} *stack;
	size_t capstack;
};

static double gini_score(uint64_t a, uint64_t b)
{
	/* sum of squared class counts over the total: larger is purer */
	double n = (double)a + (double)b;
	return n > 0 ? ((double)a * (double)a + (double)b * (double)b) / n : 0;
}

/*
 * The rows of a tree into sc->rows, with weight << 1 | label in sc->wy: a
 * bootstrap sample drawn with the tree's stream, or every row once. Returns
 * how many distinct rows.
 */
static size_t draw_rows(const struct rf_shared *sh, struct rf_scratch *sc, ch_rng *rng)
{
	size_t n = sh->n, nrows = 0;
	if (sh->bootstrap) {
		memset(sc->w, 0, n * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++)
			sc->w[ch_rng_below(rng, n)]++;
		for (size_t i = 0; i < n; i++)
			if (sc->w[i]) {
				sc->wy[nrows] = sc->w[i] << 1 | (sh->y[i] != 0);
				sc->rows[nrows++] = (uint32_t)i;
			}
	} else {
		for (size_t i = 0; i < n; i++) {
			sc->wy[nrows] = 2u | (sh->y[i] != 0);
			sc->rows[nrows++] = (uint32_t)i;
		}
	}
	return nrows;
}

static inline void mark_constant(struct rf_scratch *sc, uint32_t f)
{
	sc->cur[f / 64] |= (uint64_t)1 << (f % 64);
}

/*
 * Weighted class counts of feature f's nb bins over the node's rows into
 * sc->cnt (class 0, class 1 per bin); false, with f marked constant below this
 * node, when the rows fall in one bin. Called once: inlined into the split search.
 */
static inline bool count_bins(const struct rf_shared *sh, struct rf_scratch *sc, const struct rf_item *it, uint32_t f,
                              size_t nb)
{
	uint64_t *cnt = sc->cnt;
	const uint8_t *col = sh->xc + (size_t)f * sh->n;
	if (nb < 2) {
		mark_constant(sc, f);
		return false;
	}
	if (nb == 2) {
		/* most features are one-hot levels: sums in registers, no store-to-load chain */
		uint64_t a = 0, b = 0, tot = it->c0 + it->c1;
		for (size_t k = it->begin; k < it->end; k++) {
			uint32_t wy = sc->wy[k];
			uint64_t wc = (uint64_t)(wy >> 1) * col[sc->rows[k]];
			a += wc;
			b += wy & 1 ? wc : 0;
		}
		if (a == 0 || a == tot) {
			mark_constant(sc, f);
			return false;
		}
		cnt[0] = it->c0 - (a - b);
		cnt[1] = it->c1 - b;
		cnt[2] = a - b;
		cnt[3] = b;
		return true;
	}
	memset(cnt, 0, 2 * nb * sizeof(uint64_t));
	for (size_t k = it->begin; k < it->end; k++) {
		uint32_t wy = sc->wy[k];
		cnt[2 * col[sc->rows[k]] + (wy & 1)] += wy >> 1;
	}
	size_t used = 0;
	for (size_t b = 0; b < nb && used < 2; b++)
		used += cnt[2 * b] + cnt[2 * b + 1] > 0;
	if (used < 2) {
		mark_constant(sc, f);
		return false;
	}
	return true;
}

struct rf_split {
	double best;               /* score to beat: the parent's, then the best split's */
	int32_t feat;              /* -1: none found */
	uint8_t bin;
	uint64_t l0, l1;           /* class counts left of the best split */
};

/* Scan the bins of feature f (counts in cnt) for a split better than s's, with msl rows on each side. */
static inline void scan_bins(const struct rf_shared *sh, const uint64_t *cnt, size_t nb, uint32_t f,
                             const struct rf_item *it, struct rf_split *s)
{
	uint64_t c0 = it->c0, c1 = it->c1, tot = c0 + c1, l0 = 0, l1 = 0;
	for (size_t b = 0; b + 1 < nb; b++) {
		l0 += cnt[2 * b];
		l1 += cnt[2 * b + 1];
		uint64_t nl = l0 + l1;
		if (nl < sh->msl)
			continue;
		if (tot - nl < sh->msl)
			break;
		double sc2 = gini_score(l0, l1) + gini_score(c0 - l0, c1 - l1);
		if (sc2 > s->best) {
			s->best = sc2;
			s->feat = (int32_t)f;
			s->bin = (uint8_t)b;
			s->l0 = l0;
			s->l1 = l1;
		}
	}
}

/*
 * The node's best split into s. Features not known to be constant here (a
 * feature constant in a node is constant below it, as scikit-learn tracks)
 * are drawn in the tree's seeded order until mtry non-constant ones were
 * tried and a valid split was found.
 */
static void find_rf_split(const struct rf_shared *sh, struct rf_scratch *sc, const struct rf_item *it, ch_rng *rng,
                          struct rf_split *s)
{
	size_t nfc = 0, tried = 0;
	for (size_t f = 0; f < sh->nf; f++)
		if (!(sc->cur[f / 64] >> (f % 64) & 1))
			sc->feats[nfc++] = (uint32_t)f;
	for (size_t drawn = 0; drawn < nfc; drawn++) {
		if (tried >= sh->mtry && s->feat >= 0)
			break;
		size_t j = drawn + (size_t)ch_rng_below(rng, nfc - drawn);
		uint32_t f = sc->feats[j];
		sc->feats[j] = sc->feats[drawn];
		sc->feats[drawn] = f;
		size_t nb = sh->bins->nbins[f];
		if (!count_bins(sh, sc, it, f, nb))
			continue;
		tried++;
		scan_bins(sh, sc->cnt, nb, f, it, s);
	}
}

/* Stable partition of the node's rows (and their weights) by split s; returns where the right part starts. */
static size_t partition_rf(const struct rf_shared *sh, struct rf_scratch *sc, const struct rf_item *it,
                           const struct rf_split *s)
{
	const uint8_t *col = sh->xc + (size_t)s->feat * sh->n;
	size_t w = it->begin, nr = 0;
	for (size_t k = it->begin; k < it->end; k++) {
		uint32_t r = sc->rows[k], wy = sc->wy[k];
		size_t go = col[r] <= s->bin;
		sc->rows[w] = r;
		sc->wy[w] = wy;
		sc->tmp[nr] = r;
		sc->tmpwy[nr] = wy;
		w += go;
		nr += 1 - go;
	}
	memcpy(sc->rows + w, sc->tmp, nr * sizeof(uint32_t));
	memcpy(sc->wy + w, sc->tmpwy, nr * sizeof(uint32_t));
	return w;
}

/* Room for two more stack items above sp (and their constant-feature sets); false on OOM. */
static bool stack_reserve(struct rf_scratch *sc, size_t sp)
{
	if (sp + 2 <= sc->capstack)
		return true;
	size_t cap = sc->capstack * 2;
	struct rf_item *ns = realloc(sc->stack, cap * sizeof(*ns));
	if (!ns)
		return false;
	sc->stack = ns;
	uint64_t *np = realloc(sc->cpool, cap * sc->cw * sizeof(uint64_t));
	if (!np)
		return false;
	sc->cpool = np;
	sc->capstack = cap;
	return true;
}

/* Grow tree ti depth-first (an explicit stack of nodes, left subtree first). */
static churn_status grow_rf_tree(const struct rf_shared *sh, struct rf_scratch *sc, size_t ti, ch_tree *t)
{
	ch_rng rng;
	ch_rng_seed(&rng, sh->seed, 0x100000 + ti);
	size_t nrows = draw_rows(sh, sc, &rng);
	memset(t, 0, sizeof(*t));
	if (ch_tree_add(t) < 0)
		goto nomem;
	size_t sp = 0, cw = sc->cw;
	uint64_t r0 = 0, r1 = 0;
	for (size_t k = 0; k < nrows; k++) {
		uint32_t wy = sc->wy[k];
		r1 += wy & 1 ? wy >> 1 : 0;
		r0 += wy & 1 ? 0 : wy >> 1;
	}
	sc->stack[sp++] = (struct rf_item){0, 0, (uint32_t)nrows, 0, r0, r1};
	memset(sc->cpool, 0, cw * sizeof(uint64_t));
	while (sp) {
		struct rf_item it = sc->stack[--sp];
		memcpy(sc->cur, sc->cpool + sp * cw, cw * sizeof(uint64_t));
		uint64_t c0 = it.c0, c1 = it.c1, tot = c0 + c1;
		ch_node *nd = &t->nodes[it.node];
		nd->cover = (double)tot;
		nd->value = tot ? (double)c1 / (double)tot : 0;
		if ((sh->max_depth && it.depth >= sh->max_depth) || it.depth >= CH_TREE_MAX_DEPTH || c0 == 0 ||
		    c1 == 0 || tot < 2 * sh->msl)
			continue;
		double parent = gini_score(c0, c1);
		struct rf_split s = {.best = parent * (1 + 1e-12), .feat = -1};
		find_rf_split(sh, sc, &it, &rng, &s);
		if (s.feat < 0)
			continue;
		size_t w = partition_rf(sh, sc, &it, &s);
		int32_t l = ch_tree_add(t), r = ch_tree_add(t);
		if (l < 0 || r < 0 || !stack_reserve(sc, sp))
			goto nomem;
		nd = &t->nodes[it.node];
		nd->feature = s.feat;
		nd->threshold = ch_bins_cuts(sh->bins, (size_t)s.feat)[s.bin];
		nd->left = l;
		nd->right = r;
		nd->gain = s.best - parent; /* = weighted Gini decrease N*g - NL*gL - NR*gR */
		memcpy(sc->cpool + sp * cw, sc->cur, cw * sizeof(uint64_t));
		memcpy(sc->cpool + (sp + 1) * cw, sc->cur, cw * sizeof(uint64_t));
		/* right pushed first: the left subtree is built first */
		sc->stack[sp++] = (struct rf_item){r, (uint32_t)w, it.end, it.depth + 1, c0 - s.l0, c1 - s.l1};
		sc->stack[sp++] = (struct rf_item){l, it.begin, (uint32_t)w, it.depth + 1, s.l0, s.l1};
	}
	/* node values are the leaf fractions already; internal values are cover-weighted means */
	ch_tree_finalize(t);
	return CHURN_OK;
nomem:
	ch_tree_free(t);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

struct rf_job {
	struct rf_shared *sh;
};

static void rf_worker(void *p, size_t th)
{
	struct rf_shared *sh = ((struct rf_job *)p)->sh;
	struct rf_scratch sc = {0};
	size_t n = sh->n;
	sc.rows = malloc(n * sizeof(uint32_t));
	sc.tmp = malloc(n * sizeof(uint32_t));
	sc.w = malloc(n * sizeof(uint32_t));
	sc.wy = malloc(n * sizeof(uint32_t));
	sc.tmpwy = malloc(n * sizeof(uint32_t));
	sc.cnt = malloc(2 * CH_MAX_BINS * sizeof(uint64_t));
	sc.feats = malloc(sh->nf * sizeof(uint32_t));
	sc.capstack = 256;
	sc.stack = malloc(sc.capstack * sizeof(*sc.stack));
	sc.cw = (sh->nf + 63) / 64 ? (sh->nf + 63) / 64 : 1;
	sc.cpool = malloc(sc.capstack * sc.cw * sizeof(uint64_t));
	sc.cur = malloc(sc.cw * sizeof(uint64_t));
	churn_status st = CHURN_OK;
	if (!sc.rows || !sc.tmp || !sc.w || !sc.wy || !sc.tmpwy || !sc.cnt || !sc.feats || !sc.stack || !sc.cpool || !sc.cur) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	} else {
		for (size_t t = th; t < sh->ntrees; t += sh->nthreads) {
			if (th == 0 && !ch_progress(sh->p, "forest", t, sh->ntrees)) {
				st = ch_fail(CHURN_E_STATE, "forest: cancelled after %zu trees", t);
				break;
			}
			if ((st = grow_rf_tree(sh, &sc, t, &sh->trees[t])))
				break;
		}
	}
	sh->status[th] = st;
	free(sc.rows);
	free(sc.tmp);
	free(sc.w);
	free(sc.wy);
	free(sc.tmpwy);
	free(sc.cnt);
	free(sc.feats);
	free(sc.stack);
	free(sc.cpool);
	free(sc.cur);
}

static uint64_t seed_of(const churn_params *p, const char *key)
{
	int64_t s = churn_params_get_int(p, key);
	return s >= 0 ? (uint64_t)s : (uint64_t)churn_params_get_int(p, CHURN_KEY_SPLIT_SEED);
}

/* The forest.* options into sh (n, nf, y set); the number of bins into *max_bins. */
static void forest_params(struct rf_shared *sh, const churn_params *p, size_t *max_bins)
{
	size_t nf = sh->nf;
	sh->ntrees = (size_t)churn_params_get_int(p, CHURN_KEY_FOREST_N_TREES);
	double mf = churn_params_get_double(p, CHURN_KEY_FOREST_MAX_FEATURES);
	sh->mtry = mf > 0 ? (size_t)ceil(mf * (double)nf) : (size_t)floor(sqrt((double)nf));
	if (sh->mtry < 1)
		sh->mtry = 1;
	if (sh->mtry > nf)
		sh->mtry = nf;
	sh->max_depth = (size_t)churn_params_get_int(p, CHURN_KEY_FOREST_MAX_DEPTH);
	sh->msl = (size_t)churn_params_get_int(p, CHURN_KEY_FOREST_MIN_SAMPLES_LEAF);
	sh->bootstrap = churn_params_get_bool(p, CHURN_KEY_FOREST_BOOTSTRAP);
	sh->seed = seed_of(p, CHURN_KEY_FOREST_SEED);
	sh->p = p;
	size_t nth = (size_t)churn_params_get_int(p, CHURN_KEY_FOREST_N_THREADS);
	nth = nth ? nth : ch_ncores();
	if (nth > sh->ntrees)
		nth = sh->ntrees;
	sh->nthreads = nth;
	*max_bins = (size_t)churn_params_get_int(p, CHURN_KEY_FOREST_MAX_BINS);
}

/* The bins of X, column-major (n x nf), into *out (malloc'd). */
static churn_status binned_columns(const ch_bins *bins, const double *X, size_t n, size_t nf, size_t nth,
                                   uint8_t **out)
{
	uint8_t *xb = malloc(n * nf > 0 ? n * nf : 1), *xc = malloc(n * nf > 0 ? n * nf : 1);
	if (!xb || !xc) {
		free(xb);
		free(xc);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	ch_bins_apply(bins, X, NULL, n, xb, nth);
	for (size_t i = 0; i < n; i++)
		for (size_t f = 0; f < nf; f++)
			xc[f * n + i] = xb[i * nf + f];
	free(xb);
	*out = xc;
	return CHURN_OK;
}

/* The first failing worker's status (its detail was set on that thread: a new one here). */
static churn_status workers_status(const churn_status *status, size_t nth)
{
	for (size_t t = 0; t < nth; t++)
		if (status[t])
			return status[t] == CHURN_E_STATE
			               ? ch_fail(CHURN_E_STATE, "forest: cancelled by the progress callback")
			               : ch_fail(status[t], "forest: building trees failed (%s)", churn_strerror(status[t]));
	return CHURN_OK;
}

static churn_status forest_fit(void **out, const churn_matrix *Xm, const churn_params *p, ch_fit_info *info)
{
	churn_status st = CHURN_OK;
	ch_bins bins = {0};
	uint8_t *xc = NULL;
	churn_status *status = NULL;
	forest_state *s = NULL;
	size_t n = churn_matrix_get_row_count(Xm), nf = churn_matrix_get_column_count(Xm), max_bins;
	const double *X = churn_matrix_get_data_const(Xm);
	const uint8_t *y = churn_matrix_get_labels(Xm);
	if (!y)
		return ch_fail(CHURN_E_INVALID_ARG, "forest: the training matrix has no labels");
	if (n > RF_MAX_ROWS)
		return ch_fail(CHURN_E_LIMIT, "forest: %zu rows (at most %zu)", n, RF_MAX_ROWS);
	struct rf_shared sh = {.n = n, .nf = nf, .y = y};
	forest_params(&sh, p, &max_bins);
	size_t nth = sh.nthreads;
	if ((st = ch_bins_fit(&bins, X, n, nf, max_bins, BIN_SAMPLE, sh.seed, nth)))
		goto out;
	sh.bins = &bins;
	status = calloc(nth, sizeof(churn_status));
	s = calloc(1, sizeof(*s));
	if (!status || !s || !(s->trees = calloc(sh.ntrees, sizeof(ch_tree)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = binned_columns(&bins, X, n, nf, nth, &xc)))
		goto out;
	sh.xc = xc;
	sh.trees = s->trees;
	sh.status = status;
	s->nfeat = nf;
	s->ntrees = sh.ntrees;
	struct rf_job job = {&sh};
	ch_parallel(nth, rf_worker, &job);
	if ((st = workers_status(status, nth)))
		goto out;
	ch_progress(p, "forest", sh.ntrees, sh.ntrees);
	info->iterations = s->ntrees;
	info->converged = true;
	*out = s;
	s = NULL;
out:
	forest_free(s);
	free(xc);
	free(status);
	ch_bins_free(&bins);
	return st;
}

/* ---------------------------------------------------------------- ops */

static double forest_margin(const void *p, const double *row, size_t ncols)
{
	(void)ncols;
	const forest_state *s = p;
	double m = 0;
	for (size_t t = 0; t < s->ntrees; t++)
		m += ch_tree_predict(&s->trees[t], row);
	return s->ntrees ? m / (double)s->ntrees : 0;
}

static bool forest_ensemble(const void *p, ch_ensemble *out)
{
	const forest_state *s = p;
	*out = (ch_ensemble){s->trees, s->ntrees, 0, true, NULL};
	return true;
}

/* Batch prediction: the same bits as forest_margin() row by row (sums in tree order). */
static void forest_predict(const void *p, const double *X, size_t nrows, size_t ncols, double *out)
{
	ch_ensemble e;
	forest_ensemble(p, &e);
	ch_ensemble_predict(&e, X, nrows, ncols, out);
}

static churn_status forest_contrib(const void *p, const double *row, size_t ncols, double *out)
{
	const forest_state *s = p;
	memset(out, 0, (ncols + 1) * sizeof(double));
	double bias = 0;
	for (size_t t = 0; t < s->ntrees; t++) {
		ch_tree_saabas(&s->trees[t], row, out);
		bias += s->trees[t].nodes[0].value;
	}
	if (s->ntrees) {
		for (size_t j = 0; j < ncols; j++)
			out[j] /= (double)s->ntrees;
		bias /= (double)s->ntrees;
	}
	out[ncols] = bias;
	return CHURN_OK;
}

static churn_status forest_importance(const void *p, double *out, size_t ncols)
{
	const forest_state *s = p;
	double *tmp = calloc(ncols ? ncols : 1, sizeof(double));
	if (!tmp)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	memset(out, 0, ncols * sizeof(double));
	for (size_t t = 0; t < s->ntrees; t++) {
		memset(tmp, 0, ncols * sizeof(double));
		double tot = 0;
		for (size_t k = 0; k < s->trees[t].n; k++) {
			const ch_node *nd = &s->trees[t].nodes[k];
			if (nd->feature >= 0 && (size_t)nd->feature < ncols && nd->gain > 0) {
				tmp[nd->feature] += nd->gain;
				tot += nd->gain;
			}
		}
		if (tot > 0)
			for (size_t j = 0; j < ncols; j++)
				out[j] += tmp[j] / tot;
	}
	free(tmp);
	double tot = 0;
	for (size_t j = 0; j < ncols; j++)
		tot += out[j];
	if (tot > 0)
		for (size_t j = 0; j < ncols; j++)
			out[j] /= tot;
	return CHURN_OK;
}

static cJSON *forest_to_cjson(const void *p, size_t ncols, const char *const *names)
{
	(void)ncols;
	(void)names;
	const forest_state *s = p;
	cJSON *o = cJSON_CreateObject();
	if (!o || !ch_trees_add_cjson(o, s->trees, s->ntrees)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static churn_status forest_from_cjson(const cJSON *part, size_t ncols, void **out)
{
	churn_status st;
	if (!cJSON_IsObject(part))
		return ch_fail(CHURN_E_FORMAT, "model artifact: forest: not an object");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(part, "trees");
	if (!cJSON_IsArray(arr))
		return ch_fail(CHURN_E_FORMAT, "model artifact: forest: field 'trees' is missing or not an array");
	int nt = cJSON_GetArraySize(arr);
	if (nt < 1 || nt > RF_MAX_TREES)
		return ch_fail(CHURN_E_FORMAT, "model artifact: forest: %d trees (expected 1 to %d)", nt, RF_MAX_TREES);
	forest_state *s = calloc(1, sizeof(*s));
	if (!s || !(s->trees = calloc((size_t)nt, sizeof(ch_tree)))) {
		free(s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	s->nfeat = ncols;
	const cJSON *tj;
	cJSON_ArrayForEach(tj, arr) {
		char where[64];
		snprintf(where, sizeof where, "model artifact: forest: trees[%zu]", s->ntrees);
		if ((st = ch_tree_from_cjson(tj, ncols, where, &s->trees[s->ntrees])))
			goto fail;
		s->ntrees++;
	}
	*out = s;
	return CHURN_OK;
fail:
	forest_free(s);
	return st;
}

const struct ch_model_ops ch_forest_ops = {
	.kind = CHURN_MODEL_FOREST,
	.name = "forest",
	.score_is_logit = false,
	.fit = forest_fit,
	.margin = forest_margin,
	.predict = forest_predict,
	.contrib = forest_contrib,
	.importance = forest_importance,
	.to_cjson = forest_to_cjson,
	.from_cjson = forest_from_cjson,
	.free = forest_free,
	.ensemble = forest_ensemble,
};
