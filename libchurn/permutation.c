/*
 * Permutation importance of a fitted model (ch_model_permutation_importance,
 * tree-private.h): the drop of ROC AUC when one group of features is shuffled.
 *
 * Groups are independent, so they are spread over threads; each group draws
 * its shuffles from its own RNG stream (seed, group), so the result does not
 * depend on the thread count.
 *
 * Tree ensembles (ops->ensemble) take a shorter road with the same bits.
 * Shuffling group g changes a row's leaf in a tree only if the row's path
 * tests a feature of g: before any shuffle every (tree, row) records its leaf
 * value and the set of groups on its path (a 64-bit mask), and a shuffle
 * walks again only the (tree, row) pairs whose mask holds g. Each row's sum
 * still runs over the trees in order, so P is the model's own prediction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "model-private.h"
#include "tree-private.h"

/* trees x rows of the recorded leaves and masks (16 bytes each) above which the generic road is taken */
#define FAST_MAX_CELLS ((size_t)1 << 22)

struct perm {
	const churn_matrix *x;
	const churn_model *m;
	const ch_ensemble *ens;   /* NULL: predict through churn_model_predict */
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

/* P(churn) of the rows of X (nf columns) in which only group g differs from the recorded rows. */
static void ensemble_predict(const struct perm *c, const double *X, size_t g, double *pred, double *vals,
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
		ch_tree_predict_rows(&e->trees[t], X, c->nf, idx, k, vals);
		k = 0;
		for (size_t i = 0; i < n; i++) {
			size_t hit = (size_t)(mk[i] >> g & 1);
			double v = vals[k < n ? k : n - 1];
			pred[i] += hit ? v : lv[i];
			k += hit;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (e->mean) {
			double m = e->ntrees ? pred[i] / (double)e->ntrees : 0;
			pred[i] = m < 0 ? 0 : (m > 1 ? 1 : m);
		} else {
			pred[i] = ch_sigmoid(pred[i]);
		}
	}
}

static churn_status score_group(const struct perm *c, churn_matrix *work, size_t g, size_t *perm, double *pred,
                                double *vals, uint32_t *idx)
{
	size_t n = c->n, nf = c->nf, got;
	double *d = churn_matrix_get_data(work);
	const double *src = churn_matrix_get_data_const(c->x);
	const uint8_t *y = churn_matrix_get_labels(c->x);
	ch_rng rng;
	ch_rng_seed(&rng, c->seed, ((uint64_t)0x9e77 << 32) + g);
	double drop = 0;
	churn_status st = CHURN_OK;
	for (size_t r = 0; r < c->repeats && !st; r++) {
		/* one permutation of the rows for every feature of the group (Fisher-Yates) */
		for (size_t i = 0; i < n; i++)
			perm[i] = i;
		for (size_t i = n; i > 1; i--) {
			size_t k = (size_t)ch_rng_below(&rng, i), t = perm[i - 1];
			perm[i - 1] = perm[k];
			perm[k] = t;
		}
		for (size_t j = 0; j < nf; j++)
			if (in_group(c, j, g))
				for (size_t i = 0; i < n; i++)
					d[i * nf + j] = src[perm[i] * nf + j];
		double auc = 0;
		if (c->ens)
			ensemble_predict(c, d, g, pred, vals, idx);
		else
			st = churn_model_predict(c->m, work, pred, n, &got);
		if (!st && !(st = ch_roc_auc(pred, y, n, &auc)))
			drop += c->base - auc;
	}
	for (size_t j = 0; j < nf; j++)
		if (in_group(c, j, g))
			for (size_t i = 0; i < n; i++)
				d[i * nf + j] = src[i * nf + j];
	c->out[g] = drop / (double)c->repeats;
	return st;
}

static void perm_worker(void *p, size_t th)
{
	const struct perm *c = p;
	size_t n = c->n;
	churn_matrix *work = NULL;
	size_t *perm = malloc((n ? n : 1) * sizeof(size_t));
	double *pred = malloc((n ? n : 1) * sizeof(double)), *vals = malloc((n ? n : 1) * sizeof(double));
	uint32_t *idx = malloc((n ? n : 1) * sizeof(uint32_t));
	churn_status st = (perm && pred && vals && idx) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		/* this thread's copy of the rows: a subset with every row index */
		for (size_t i = 0; i < n; i++)
			perm[i] = i;
		st = churn_matrix_subset_rows(c->x, perm, n, &work);
	}
	for (size_t g = th; g < c->ngroups && !st; g += c->nthreads)
		st = score_group(c, work, g, perm, pred, vals, idx);
	c->status[th] = st;
	if (st)
		snprintf(c->msg[th], sizeof c->msg[th], "%s", churn_last_error());
	churn_matrix_free(work);
	free(perm);
	free(pred);
	free(vals);
	free(idx);
}

struct record_job {
	const struct perm *c;
	const ch_ensemble *e;
	const uint64_t *fbit;
	double *leaf;
	uint64_t *mask;
	size_t nthreads;
};

/* Trees th, th + nthreads, ...: each (tree, row)'s leaf value and the groups on its path. */
static void record_worker(void *p, size_t th)
{
	const struct record_job *j = p;
	size_t n = j->c->n, nf = j->c->nf;
	const double *X = churn_matrix_get_data_const(j->c->x);
	for (size_t t = th; t < j->e->ntrees; t += j->nthreads) {
		const ch_cnode *cn = j->e->trees[t].cn;
		for (size_t i = 0; i < n; i++) {
			const double *row = X + i * nf;
			const ch_cnode *nd = cn;
			uint64_t mk = 0;
			while (nd->feature >= 0) {
				mk |= j->fbit[nd->feature];
				nd = cn + nd->left + !(row[nd->feature] <= nd->v);
			}
			j->leaf[t * n + i] = nd->v;
			j->mask[t * n + i] = mk;
		}
	}
}

/*
 * Record each (tree, row)'s leaf value and path groups and set c->ens, or
 * leave c->ens NULL (the generic road) when the model is no compact
 * ensemble, has more than 64 groups or the records would be too large.
 */
static churn_status record_paths(struct perm *c, ch_ensemble *e, double **leaf, uint64_t **mask)
{
	size_t n = c->n, nf = c->nf;
	*leaf = NULL;
	*mask = NULL;
	const void *state;
	const struct ch_model_ops *ops = ch_model_get_ops(c->m, &state);
	if (!ops->ensemble || !ops->ensemble(state, e) || c->ngroups > 64 ||
	    (e->ntrees && n > FAST_MAX_CELLS / e->ntrees))
		return CHURN_OK;
	for (size_t t = 0; t < e->ntrees; t++)
		if (!e->trees[t].cn)
			return CHURN_OK;
	size_t cells = e->ntrees * n > 0 ? e->ntrees * n : 1;
	uint64_t *fbit = malloc((nf ? nf : 1) * sizeof(uint64_t));
	*leaf = malloc(cells * sizeof(double));
	*mask = malloc(cells * sizeof(uint64_t));
	if (!fbit || !*leaf || !*mask) {
		free(fbit);
		free(*leaf);
		free(*mask);
		*leaf = NULL;
		*mask = NULL;
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t j = 0; j < nf; j++)
		fbit[j] = (uint64_t)1 << (c->group ? c->group[j] : j);
	struct record_job job = {c, e, fbit, *leaf, *mask, c->nthreads < e->ntrees ? c->nthreads : 1};
	ch_parallel(job.nthreads, record_worker, &job);
	free(fbit);
	c->ens = e;
	c->leaf = *leaf;
	c->mask = *mask;
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
	for (size_t i = 0; i < n; i++) {
		if (e->mean) {
			double m = e->ntrees ? pred[i] / (double)e->ntrees : 0;
			pred[i] = m < 0 ? 0 : (m > 1 ? 1 : m);
		} else {
			pred[i] = ch_sigmoid(pred[i]);
		}
	}
	return CHURN_OK;
}

churn_status ch_model_permutation_importance(const churn_model *m, const churn_matrix *x, const size_t *group,
                                             size_t ngroups, uint64_t seed, size_t repeats, double *out, size_t cap)
{
	if (!m || !x || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "permutation importance: NULL argument");
	if (!churn_model_is_fitted(m))
		return ch_fail(CHURN_E_STATE, "permutation importance: the model is not fitted");
	size_t n = churn_matrix_get_nrows(x), nf = churn_matrix_get_ncols(x);
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
	double *pred = malloc((n ? n : 1) * sizeof(double)), *leaf = NULL;
	uint64_t *mask = NULL;
	size_t nth = ch_ncores();
	nth = nth > ngroups ? ngroups : nth;
	nth = nth ? nth : 1;
	c.nthreads = nth;
	c.status = calloc(nth, sizeof(*c.status));
	c.msg = calloc(nth, sizeof(*c.msg));
	ch_ensemble e;
	churn_status st = (pred && c.status && c.msg) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* the rows must suit the model (as churn_model_predict checks) whichever road is taken */
	if (!st && churn_model_get_nfeatures(m) != nf)
		st = ch_fail(CHURN_E_INVALID_ARG, "permutation importance: the matrix has %zu columns, the model expects %zu",
		             nf, churn_model_get_nfeatures(m));
	const double *X = churn_matrix_get_data_const(x);
	for (size_t k = 0; !st && k < n * nf; k++)
		if (!isfinite(X[k]))
			st = ch_fail(CHURN_E_INVALID_ARG, "permutation importance: row %zu, column %zu is not finite", k / nf,
			             k % nf);
	if (!st && !(st = record_paths(&c, &e, &leaf, &mask)) && !(st = base_predict(&c, pred)))
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
	free(leaf);
	free(mask);
	free(c.status);
	free(c.msg);
	return st;
}
