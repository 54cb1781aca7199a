/*
 * Permutation importance of a fitted model (ch_model_permutation_importance,
 * tree-private.h): the drop of ROC AUC when one group of features is shuffled.
 *
 * Groups are independent, so they are spread over threads; each group draws
 * its shuffles from its own RNG stream (seed, group), so the result does not
 * depend on the thread count.
 *
 * Tree ensembles (ops->ensemble) take a shorter road with the same bits.
 *  - Byte codes: a row only meets the ensemble through comparisons with the
 *    thresholds of its trees, so each value becomes the number of its
 *    feature's (distinct) thresholds below it, and each node compares that
 *    code with its threshold's rank: the same decisions on rows of bytes,
 *    eight times smaller than the doubles (when no feature has more than 255
 *    thresholds and there are at most 65535 features).
 *  - Shuffling group g changes a row's leaf in a tree only if the row's path
 *    tests a feature of g: before any shuffle every (tree, row) records its
 *    leaf value and the set of groups on its path (a 64-bit mask), and a
 *    shuffle walks again only the (tree, row) pairs whose mask holds g.
 * Each row's sum still runs over the trees in order, so P is the model's own
 * prediction; anything else takes the generic road (churn_model_predict).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "model-private.h"
#include "rng-private.h"
#include "thread-private.h"
#include "tree-private.h"

/* trees x rows of the recorded leaves and masks (16 bytes each) above which the generic road is taken */
#define FAST_MAX_CELLS ((size_t)1 << 22)

/* A node on byte codes: right when code > k. A leaf steps to itself (k = 255 is never exceeded). */
struct bnode {
	int32_t left;
	uint16_t f;
	uint8_t k;
	uint8_t leaf;
};

struct perm {
	const churn_matrix *x;
	const churn_model *m;
	const ch_ensemble *ens;   /* NULL: predict through churn_model_predict */
	const struct bnode *bn;   /* ens: every tree's nodes, tree t's from bn + boff[t] (its cn order) */
	const size_t *boff;
	const uint8_t *codes;     /* ens: n x nf byte codes of x */
	const double *leaf;       /* ens: ntrees x n leaf values of the unshuffled rows */
	const uint64_t *mask;     /* ens: ntrees x n groups on each path */
	const size_t *group;
	size_t n, nf, ngroups, repeats, nthreads;
	uint64_t seed;
	double base;              /* AUC of the unshuffled rows */
	double *out;
	churn_status *status;     /* per thread */
	char (*msg)[256];         /* per thread: the detail of a failure */
};

static bool in_group(const struct perm *c, size_t j, size_t g)
{
	return c->group ? c->group[j] == g : j == g;
}

/* vals[q] = leaf value of tree t for row rows[q] of the codes X, eight rows at a time, branch-free. */
static void walk_rows(const struct perm *c, size_t t, const uint8_t *X, const uint32_t *rows, size_t k, double *vals)
{
	enum { LANES = 8 };
	const ch_tree *tree = &c->ens->trees[t];
	const struct bnode *bn = c->bn + c->boff[t];
	size_t nf = c->nf, q = 0;
	for (; q + LANES <= k; q += LANES) {
		const uint8_t *x[LANES];
		uint32_t at[LANES];
		for (size_t l = 0; l < LANES; l++) {
			x[l] = X + (size_t)rows[q + l] * nf;
			at[l] = 0;
		}
		for (size_t d = 0; d < tree->depth; d++)
			for (size_t l = 0; l < LANES; l++) {
				const struct bnode *b = bn + at[l];
				at[l] = (uint32_t)b->left + (x[l][b->f] > b->k);
			}
		for (size_t l = 0; l < LANES; l++)
			vals[q + l] = tree->cn[at[l]].v;
	}
	for (; q < k; q++) {
		const uint8_t *x = X + (size_t)rows[q] * nf;
		const struct bnode *b = bn;
		while (!b->leaf)
			b = bn + b->left + (x[b->f] > b->k);
		vals[q] = tree->cn[b - bn].v;
	}
}

/* P(churn) of the coded rows X in which only group g differs from the recorded rows. */
static void ensemble_predict(const struct perm *c, const uint8_t *X, size_t g, double *pred, double *vals,
                             uint32_t *idx)
{
	const ch_ensemble *e = c->ens;
	size_t n = c->n;
	for (size_t i = 0; i < n; i++)
		pred[i] = e->base;
	for (size_t t = 0; t < e->ntrees; t++) {
		const double *lv = c->leaf + t * n;
		const uint64_t *mk = c->mask + t * n;
		/* branch-free: which rows a shuffle reaches is data, not a pattern the CPU can guess */
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			idx[k] = (uint32_t)i;
			k += (size_t)(mk[i] >> g & 1);
		}
		walk_rows(c, t, X, idx, k, vals);
		k = 0;
		for (size_t i = 0; i < n; i++) {
			size_t hit = (size_t)(mk[i] >> g & 1);
			double v = vals[k < n ? k : n - 1];
			pred[i] += hit ? v : lv[i];
			k += hit;
		}
	}
	for (size_t i = 0; i < n; i++)
		pred[i] = ch_ensemble_prob(e, pred[i]);
}

/* One permutation of 0..n-1 (Fisher-Yates) from rng. */
static void shuffle(size_t *perm, size_t n, ch_rng *rng)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t k = (size_t)ch_rng_below(rng, i), t = perm[i - 1];
		perm[i - 1] = perm[k];
		perm[k] = t;
	}
}

/*
 * Shuffle group g's columns of this thread's copy (doubles in work, or codes
 * in wcodes on the ensemble road), score, put the columns back.
 */
static churn_status score_group(const struct perm *c, churn_matrix *work, uint8_t *wcodes, size_t g, size_t *perm,
                                double *pred, double *vals, uint32_t *idx)
{
	size_t n = c->n, nf = c->nf, got;
	const uint8_t *y = churn_matrix_get_labels(c->x);
	double *d = work ? churn_matrix_get_data(work) : NULL;
	const double *src = churn_matrix_get_data_const(c->x);
	ch_rng rng;
	ch_rng_seed(&rng, c->seed, ((uint64_t)0x9e77 << 32) + g);
	double drop = 0;
	churn_status st = CHURN_OK;
	for (size_t r = 0; r < c->repeats && !st; r++) {
		shuffle(perm, n, &rng); /* one permutation of the rows for every feature of the group */
		for (size_t j = 0; j < nf; j++)
			if (in_group(c, j, g))
				for (size_t i = 0; i < n; i++) {
					if (wcodes)
						wcodes[i * nf + j] = c->codes[perm[i] * nf + j];
					else
						d[i * nf + j] = src[perm[i] * nf + j];
				}
		double auc = 0;
		if (wcodes)
			ensemble_predict(c, wcodes, g, pred, vals, idx);
		else
			st = churn_model_predict(c->m, work, pred, n, &got);
		if (!st && !(st = ch_roc_auc(pred, y, n, &auc)))
			drop += c->base - auc;
	}
	for (size_t j = 0; j < nf; j++)
		if (in_group(c, j, g))
			for (size_t i = 0; i < n; i++) {
				if (wcodes)
					wcodes[i * nf + j] = c->codes[i * nf + j];
				else
					d[i * nf + j] = src[i * nf + j];
			}
	c->out[g] = drop / (double)c->repeats;
	return st;
}

static void perm_worker(void *p, size_t th)
{
	const struct perm *c = p;
	size_t n = c->n;
	churn_matrix *work = NULL;
	uint8_t *wcodes = NULL;
	size_t *perm = malloc((n ? n : 1) * sizeof(size_t));
	double *pred = malloc((n ? n : 1) * sizeof(double)), *vals = malloc((n ? n : 1) * sizeof(double));
	uint32_t *idx = malloc((n ? n : 1) * sizeof(uint32_t));
	churn_status st = (perm && pred && vals && idx) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* this thread's copy of the rows: codes on the ensemble road, else a subset with every row index */
	if (!st && c->ens) {
		if (!(wcodes = malloc(n * c->nf > 0 ? n * c->nf : 1)))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		else
			memcpy(wcodes, c->codes, n * c->nf);
	} else if (!st) {
		for (size_t i = 0; i < n; i++)
			perm[i] = i;
		st = churn_matrix_subset_rows(c->x, perm, n, &work);
	}
	for (size_t g = th; g < c->ngroups && !st; g += c->nthreads)
		st = score_group(c, work, wcodes, g, perm, pred, vals, idx);
	c->status[th] = st;
	if (st)
		snprintf(c->msg[th], sizeof c->msg[th], "%s", churn_last_error());
	churn_matrix_free(work);
	free(wcodes);
	free(perm);
	free(pred);
	free(vals);
	free(idx);
}

/* ---- the ensemble road: codes, nodes on codes, recorded paths ---- */

struct road {
	double *thr;          /* per feature, its sorted distinct thresholds: feature f's from thr + toff[f] */
	size_t *toff;
	struct bnode *bn;
	size_t *boff;
	uint8_t *codes;
	double *leaf;
	uint64_t *mask;
};

static void road_free(struct road *r)
{
	free(r->thr);
	free(r->toff);
	free(r->bn);
	free(r->boff);
	free(r->codes);
	free(r->leaf);
	free(r->mask);
	memset(r, 0, sizeof(*r));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Number of the sorted t[0..n) below v. */
static size_t rank_below(const double *t, size_t n, double v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Thresholds, byte-code nodes and codes of the rows; false (nothing kept) when a feature has more than 255. */
static churn_status build_codes(const struct perm *c, const ch_ensemble *e, struct road *rd, bool *ok)
{
	size_t nf = c->nf, nt = e->ntrees, total = 0;
	*ok = false;
	rd->toff = calloc(nf + 1, sizeof(size_t));
	rd->boff = calloc(nt + 1, sizeof(size_t));
	if (!rd->toff || !rd->boff)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t t = 0; t < nt; t++) {
		rd->boff[t + 1] = rd->boff[t] + e->trees[t].n;
		for (size_t i = 0; i < e->trees[t].n; i++)
			if (e->trees[t].cn[i].feature >= 0)
				rd->toff[e->trees[t].cn[i].feature + 1]++, total++;
	}
	for (size_t f = 0; f < nf; f++)
		rd->toff[f + 1] += rd->toff[f];
	rd->thr = malloc((total ? total : 1) * sizeof(double));
	size_t *fill = malloc((nf ? nf : 1) * sizeof(size_t)), *nthr = malloc((nf ? nf : 1) * sizeof(size_t));
	if (!rd->thr || !fill || !nthr) {
		free(fill);
		free(nthr);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	memcpy(fill, rd->toff, nf * sizeof(size_t));
	for (size_t t = 0; t < nt; t++)
		for (size_t i = 0; i < e->trees[t].n; i++)
			if (e->trees[t].cn[i].feature >= 0)
				rd->thr[fill[e->trees[t].cn[i].feature]++] = e->trees[t].cn[i].v;
	bool fits = true;
	for (size_t f = 0; f < nf; f++) {
		double *t = rd->thr + rd->toff[f];
		size_t m = rd->toff[f + 1] - rd->toff[f], u = 0;
		qsort(t, m, sizeof(double), cmp_double);
		for (size_t i = 0; i < m; i++)
			if (!u || t[i] != t[u - 1])
				t[u++] = t[i];
		nthr[f] = u;
		fits = fits && u <= 255;
	}
	churn_status st = CHURN_OK;
	if (fits) {
		rd->bn = malloc((rd->boff[nt] ? rd->boff[nt] : 1) * sizeof(struct bnode));
		rd->codes = malloc(c->n * nf > 0 ? c->n * nf : 1);
		if (!rd->bn || !rd->codes)
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (fits && !st) {
		for (size_t t = 0; t < nt; t++)
			for (size_t i = 0; i < e->trees[t].n; i++) {
				const ch_cnode *cn = &e->trees[t].cn[i];
				struct bnode *b = &rd->bn[rd->boff[t] + i];
				if (cn->feature < 0) {
					*b = (struct bnode){(int32_t)i, 0, 255, 1};
				} else {
					size_t f = (size_t)cn->feature;
					*b = (struct bnode){cn->left, (uint16_t)f,
					                    (uint8_t)rank_below(rd->thr + rd->toff[f], nthr[f], cn->v), 0};
				}
			}
		/* x <= thr[k] exactly when the number of thresholds below x is at most k */
		const double *X = churn_matrix_get_data_const(c->x);
		for (size_t i = 0; i < c->n; i++)
			for (size_t f = 0; f < nf; f++)
				rd->codes[i * nf + f] = (uint8_t)rank_below(rd->thr + rd->toff[f], nthr[f], X[i * nf + f]);
		*ok = true;
	}
	free(fill);
	free(nthr);
	return st;
}

struct record_job {
	const struct perm *c;
	const uint64_t *fbit;
	double *leaf;
	uint64_t *mask;
	size_t nthreads;
};

/* Trees th, th + nthreads, ...: each (tree, row)'s leaf value and the groups on its path. */
static void record_worker(void *p, size_t th)
{
	const struct record_job *j = p;
	const struct perm *c = j->c;
	size_t n = c->n, nf = c->nf;
	for (size_t t = th; t < c->ens->ntrees; t += j->nthreads) {
		const struct bnode *bn = c->bn + c->boff[t];
		const ch_cnode *cn = c->ens->trees[t].cn;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *x = c->codes + i * nf;
			const struct bnode *b = bn;
			uint64_t mk = 0;
			while (!b->leaf) {
				mk |= j->fbit[b->f];
				b = bn + b->left + (x[b->f] > b->k);
			}
			j->leaf[t * n + i] = cn[b - bn].v;
			j->mask[t * n + i] = mk;
		}
	}
}

/*
 * Set up the ensemble road in c (c->ens and the rest), or leave c->ens NULL
 * (the generic road) when the model is no compact ensemble, has more than 64
 * groups, 65535 features or 255 thresholds on a feature, or the records
 * would be too large.
 */
static churn_status ensemble_road(struct perm *c, ch_ensemble *e, struct road *rd)
{
	size_t n = c->n, nf = c->nf;
	const void *state;
	const struct ch_model_ops *ops = ch_model_get_ops(c->m, &state);
	if (!ops->ensemble || !ops->ensemble(state, e) || c->ngroups > 64 || nf > UINT16_MAX ||
	    (e->ntrees && n > FAST_MAX_CELLS / e->ntrees))
		return CHURN_OK;
	for (size_t t = 0; t < e->ntrees; t++)
		if (!e->trees[t].cn)
			return CHURN_OK;
	bool ok;
	churn_status st = build_codes(c, e, rd, &ok);
	if (st || !ok) {
		road_free(rd);
		return st;
	}
	size_t cells = e->ntrees * n > 0 ? e->ntrees * n : 1;
	uint64_t *fbit = malloc((nf ? nf : 1) * sizeof(uint64_t));
	rd->leaf = malloc(cells * sizeof(double));
	rd->mask = malloc(cells * sizeof(uint64_t));
	if (!fbit || !rd->leaf || !rd->mask) {
		free(fbit);
		road_free(rd);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t j = 0; j < nf; j++)
		fbit[j] = (uint64_t)1 << (c->group ? c->group[j] : j);
	c->ens = e;
	c->bn = rd->bn;
	c->boff = rd->boff;
	c->codes = rd->codes;
	struct record_job job = {c, fbit, rd->leaf, rd->mask, c->nthreads < e->ntrees ? c->nthreads : 1};
	ch_parallel(job.nthreads, record_worker, &job);
	free(fbit);
	c->leaf = rd->leaf;
	c->mask = rd->mask;
	return CHURN_OK;
}

/* P(churn) of the unshuffled rows: the model's predict, or the sums of the recorded leaves (the same bits). */
static churn_status base_predict(const struct perm *c, double *pred)
{
	size_t got, n = c->n;
	const ch_ensemble *e = c->ens;
	if (!e)
		return churn_model_predict(c->m, c->x, pred, n, &got);
	for (size_t i = 0; i < n; i++)
		pred[i] = e->base;
	for (size_t t = 0; t < e->ntrees; t++)
		for (size_t i = 0; i < n; i++)
			pred[i] += c->leaf[t * n + i];
	for (size_t i = 0; i < n; i++)
		pred[i] = ch_ensemble_prob(e, pred[i]);
	return CHURN_OK;
}

churn_status ch_model_permutation_importance(const churn_model *m, const churn_matrix *x, const size_t *group,
                                             size_t ngroups, uint64_t seed, size_t repeats, double *out, size_t cap)
{
	if (!m || !x || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: NULL argument");
	if (!churn_model_is_fitted(m))
		return ch_fail(CHURN_E_STATE, "permutation importance: the model is not fitted");
	size_t n = churn_matrix_get_row_count(x), nf = churn_matrix_get_column_count(x);
	const uint8_t *y = churn_matrix_get_labels(x);
	if (!y)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: the matrix has no labels");
	if (!group)
		ngroups = nf; /* one group per feature */
	for (size_t j = 0; group && j < nf; j++)
		if (group[j] >= ngroups)
			return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: feature %zu in group %zu of %zu", j,
			               group[j], ngroups);
	if (cap < ngroups)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: output holds %zu values, need %zu", cap,
		               ngroups);
	if (n > UINT32_MAX)
		return ch_fail(CHURN_E_LIMIT, "permutation importance: %zu rows (at most %u)", n, UINT32_MAX);
	struct perm c = {.x = x, .m = m, .group = group, .n = n, .nf = nf, .ngroups = ngroups,
	                 .repeats = repeats < 1 ? 1 : repeats, .seed = seed, .out = out};
	double *pred = malloc((n ? n : 1) * sizeof(double));
	struct road rd = {0};
	size_t nth = ch_ncores();
	nth = nth > ngroups ? ngroups : nth;
	nth = nth ? nth : 1;
	c.nthreads = nth;
	c.status = calloc(nth, sizeof(*c.status));
	c.msg = calloc(nth, sizeof(*c.msg));
	ch_ensemble e;
	churn_status st = (pred && c.status && c.msg) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* the rows must suit the model (as churn_model_predict checks) whichever road is taken */
	if (!st && churn_model_get_feature_count(m) != nf)
		st = ch_fail(CHURN_E_INVALID_ARG, "permutation importance: the matrix has %zu columns, the model expects %zu",
		             nf, churn_model_get_feature_count(m));
	const double *X = churn_matrix_get_data_const(x);
	for (size_t k = 0; !st && k < n * nf; k++)
		if (!isfinite(X[k]))
			st = ch_fail(CHURN_E_INVALID_ARG, "permutation importance: row %zu, column %zu is not finite", k / nf,
			             k % nf);
	if (!st && !(st = ensemble_road(&c, &e, &rd)) && !(st = base_predict(&c, pred)))
		st = ch_roc_auc(pred, y, n, &c.base);
	if (!st) {
		ch_parallel(nth, perm_worker, &c);
		for (size_t t = 0; t < nth && !st; t++)
			if (c.status[t])
				st = ch_fail(c.status[t], "%s", c.msg[t]);
	}
	if (!st)
		ch_clear_error();
	free(pred);
	road_free(&rd);
	free(c.status);
	free(c.msg);
	return st;
}

/* Group g's rank by key (highest first, then lowest index). */
typedef struct grank {
	size_t g;
	double k;
} grank;

static int cmp_grank(const void *a, const void *b)
{
	const grank *x = a, *y = b;
	if (x->k != y->k)
		return x->k > y->k ? -1 : 1;
	return x->g < y->g ? -1 : x->g > y->g;
}

churn_status ch_model_permutation_importance_top(const churn_model *m, const churn_matrix *x, const size_t *group,
                                                 size_t ngroups, const double *key, size_t max_groups, uint64_t seed,
                                                 size_t repeats, double *out, size_t cap)
{
	if (!m || !x || !out || !key)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: NULL argument");
	size_t nf = churn_matrix_get_column_count(x);
	if (!group)
		ngroups = nf;
	if (max_groups == 0 || ngroups <= max_groups)
		return ch_model_permutation_importance(m, x, group, ngroups, seed, repeats, out, cap);
	if (cap < ngroups)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: output holds %zu values, need %zu", cap,
		               ngroups);
	for (size_t j = 0; group && j < nf; j++)
		if (group[j] >= ngroups)
			return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: feature %zu in group %zu of %zu", j,
			               group[j], ngroups);
	grank *rk = malloc(ngroups * sizeof *rk);
	size_t *map = malloc(ngroups * sizeof *map), *g2 = malloc((nf ? nf : 1) * sizeof *g2);
	double *o2 = malloc((max_groups + 1) * sizeof *o2);
	churn_status st = rk && map && g2 && o2 ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		for (size_t g = 0; g < ngroups; g++)
			rk[g] = (grank){g, isfinite(key[g]) ? key[g] : -INFINITY};
		qsort(rk, ngroups, sizeof *rk, cmp_grank);
		for (size_t g = 0; g < ngroups; g++)
			map[g] = max_groups; /* the others: one group, shuffled once, its result dropped */
		for (size_t r = 0; r < max_groups; r++)
			map[rk[r].g] = r;
		for (size_t j = 0; j < nf; j++)
			g2[j] = map[group ? group[j] : j];
		st = ch_model_permutation_importance(m, x, g2, max_groups + 1, seed, repeats, o2, max_groups + 1);
	}
	if (!st)
		for (size_t g = 0; g < ngroups; g++)
			out[g] = map[g] < max_groups ? o2[map[g]] : NAN;
	free(rk);
	free(map);
	free(g2);
	free(o2);
	return st;
}
