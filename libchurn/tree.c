/* Shared tree-model internals: binning, trees, TreeSHAP, JSON, AUC. */
#include "tree-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "model-private.h"
#include "rng-private.h"
#include "thread-private.h"

/* ---------------------------------------------------------------- sorting */

static void sort_doubles(double *a, size_t n)
{
	while (n > 16) {
		/* median of three, 3-way partition (many ties in binned data) */
		double x = a[0], y = a[n / 2], z = a[n - 1];
		double p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		size_t lt = 0, i = 0, gt = n;
		while (i < gt) {
			if (a[i] < p) {
				double t = a[lt]; a[lt] = a[i]; a[i] = t;
				lt++, i++;
			} else if (a[i] > p) {
				gt--;
				double t = a[gt]; a[gt] = a[i]; a[i] = t;
			} else {
				i++;
			}
		}
		/* recurse on the smaller side */
		if (lt < n - gt) {
			sort_doubles(a, lt);
			a += gt;
			n -= gt;
		} else {
			sort_doubles(a + gt, n - gt);
			n = lt;
		}
	}
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* ---------------------------------------------------------------- binning */

void ch_bins_free(ch_bins *b)
{
	if (!b)
		return;
	free(b->nbins);
	free(b->cuts);
	memset(b, 0, sizeof(*b));
}

static double midpoint(double a, double b)
{
	double m = a + (b - a) / 2;
	if (!(m >= a && m < b))
		m = a;
	return m;
}

struct binfit_ctx {
	ch_bins *b;
	const double *x;
	size_t nrows, nfeat, max_bins, nthreads;
	const uint32_t *sample; /* NULL: all rows */
	size_t m;
	bool nomem;
};

static uint64_t dbits(double v)
{
	if (v == 0)
		v = 0; /* -0.0 and 0.0 are one value */
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	return u;
}

static void binfit_feature(struct binfit_ctx *c, size_t f, double *vals, double *distinct)
{
	const size_t HS = 1024; /* hash slots (> 2 * max distinct tracked) */
	uint64_t keys[1024];
	bool used[1024];
	memset(used, 0, sizeof used);
	size_t nd = 0;
	bool many = false;
	for (size_t k = 0; k < c->m; k++) {
		size_t i = c->sample ? c->sample[k] : k;
		double v = c->x[i * c->nfeat + f];
		vals[k] = v;
		if (many)
			continue;
		uint64_t u = dbits(v);
		size_t h = (size_t)((u * 0x9e3779b97f4a7c15ULL) >> 54) & (HS - 1);
		while (used[h] && keys[h] != u)
			h = (h + 1) & (HS - 1);
		if (!used[h]) {
			if (nd == c->max_bins) {
				many = true;
				continue;
			}
			used[h] = true;
			keys[h] = u;
			distinct[nd++] = v == 0 ? 0.0 : v;
		}
	}
	double *cuts = c->b->cuts + f * (CH_MAX_BINS - 1);
	size_t nc = 0;
	if (!many) {
		sort_doubles(distinct, nd);
		for (size_t k = 0; k + 1 < nd; k++)
			cuts[nc++] = midpoint(distinct[k], distinct[k + 1]);
	} else {
		sort_doubles(vals, c->m);
		size_t m = c->m, cum = 0, i = 0;
		size_t nb = c->max_bins;
		size_t next = 1; /* next bin boundary: cut once cum >= next * m / nb */
		while (i < m && nc + 1 < nb) {
			size_t j = i;
			while (j < m && vals[j] == vals[i])
				j++;
			cum = j;
			if (j >= m)
				break;
			if ((double)cum >= (double)next * (double)m / (double)nb) {
				cuts[nc++] = midpoint(vals[i], vals[j]);
				next = (size_t)((double)cum * (double)nb / (double)m) + 1;
			}
			i = j;
		}
	}
	c->b->nbins[f] = (uint16_t)(nc + 1);
}

static void binfit_worker(void *p, size_t t)
{
	struct binfit_ctx *c = p;
	double *vals = malloc((c->m ? c->m : 1) * sizeof(double));
	double *distinct = malloc((CH_MAX_BINS + 1) * sizeof(double));
	if (!vals || !distinct) {
		c->nomem = true; /* benign race: every writer stores true */
		free(vals);
		free(distinct);
		return;
	}
	for (size_t f = t; f < c->nfeat; f += c->nthreads)
		binfit_feature(c, f, vals, distinct);
	free(vals);
	free(distinct);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

churn_status ch_bins_fit(ch_bins *b, const double *x, size_t nrows, size_t nfeat, size_t max_bins,
                         size_t sample_max, uint64_t seed, size_t nthreads)
{
	memset(b, 0, sizeof(*b));
	if (max_bins < 2 || max_bins > CH_MAX_BINS)
		return ch_fail(CHURN_E_INVALID_ARG, "max_bins %zu is outside [2, %d]", max_bins, CH_MAX_BINS);
	for (size_t i = 0; i < nrows; i++)
		for (size_t f = 0; f < nfeat; f++)
			if (!isfinite(x[i * nfeat + f]))
				return ch_fail(CHURN_E_NUMERIC, "row %zu, feature %zu: value is not finite", i, f);
	b->nfeat = nfeat;
	b->nbins = calloc(nfeat ? nfeat : 1, sizeof(uint16_t));
	b->cuts = calloc((nfeat ? nfeat : 1) * (CH_MAX_BINS - 1), sizeof(double));
	uint32_t *sample = NULL;
	if (!b->nbins || !b->cuts)
		goto nomem;
	size_t m = nrows;
	if (sample_max && nrows > sample_max) {
		sample = malloc(nrows * sizeof(uint32_t));
		if (!sample)
			goto nomem;
		for (size_t i = 0; i < nrows; i++)
			sample[i] = (uint32_t)i;
		ch_rng r;
		ch_rng_seed(&r, seed, 0xb1);
		for (size_t i = 0; i < sample_max; i++) {
			size_t j = i + (size_t)ch_rng_below(&r, nrows - i);
			uint32_t t = sample[i];
			sample[i] = sample[j];
			sample[j] = t;
		}
		m = sample_max;
		qsort(sample, m, sizeof(uint32_t), cmp_u32);
	}
	if (nthreads > nfeat)
		nthreads = nfeat ? nfeat : 1;
	if (m * nfeat < ((size_t)1 << 20))
		nthreads = 1; /* small: a thread costs more than it saves, and waits for a core on a busy machine */
	struct binfit_ctx c = {b, x, nrows, nfeat, max_bins, nthreads ? nthreads : 1, sample, m, false};
	ch_parallel(c.nthreads, binfit_worker, &c);
	free(sample);
	if (c.nomem) {
		ch_bins_free(b);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
nomem:
	free(sample);
	ch_bins_free(b);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

uint8_t ch_bins_bin(const ch_bins *b, size_t f, double v)
{
	const double *c = ch_bins_cuts(b, f);
	size_t n = (size_t)b->nbins[f] - 1; /* number of cuts */
	/* count of cuts < v (cuts are sorted ascending) */
	size_t lo = 0;
	while (n > 0) {
		size_t half = n / 2;
		if (c[lo + half] < v) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return (uint8_t)lo;
}

struct binapply_ctx {
	const ch_bins *b;
	const double *x;
	const uint32_t *rows;
	size_t n, nthreads;
	uint8_t *out;
};

static void binapply_worker(void *p, size_t t)
{
	struct binapply_ctx *c = p;
	size_t nf = c->b->nfeat;
	size_t lo = c->n * t / c->nthreads, hi = c->n * (t + 1) / c->nthreads;
	for (size_t k = lo; k < hi; k++) {
		size_t i = c->rows ? c->rows[k] : k;
		const double *row = c->x + i * nf;
		uint8_t *o = c->out + k * nf;
		for (size_t f = 0; f < nf; f++) {
			uint16_t nb = c->b->nbins[f];
			if (nb <= 1)
				o[f] = 0;
			else if (nb == 2)
				o[f] = row[f] > ch_bins_cuts(c->b, f)[0];
			else
				o[f] = ch_bins_bin(c->b, f, row[f]);
		}
	}
}

void ch_bins_apply(const ch_bins *b, const double *x, const uint32_t *rows, size_t n, uint8_t *out,
                   size_t nthreads)
{
	if (nthreads < 1 || n * b->nfeat < ((size_t)1 << 19))
		nthreads = 1;
	struct binapply_ctx c = {b, x, rows, n, nthreads, out};
	ch_parallel(nthreads, binapply_worker, &c);
}

/* ---------------------------------------------------------------- trees */

int32_t ch_tree_add(ch_tree *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		if (cap > INT32_MAX)
			return -1;
		ch_node *nn = realloc(t->nodes, cap * sizeof(ch_node));
		if (!nn)
			return -1;
		t->nodes = nn;
		t->cap = cap;
	}
	t->nodes[t->n] = (ch_node){0, 0, 0, 0, -1, -1, -1};
	return (int32_t)t->n++;
}

void ch_tree_free(ch_tree *t)
{
	if (!t)
		return;
	free(t->cn);
	free(t->full);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static void tree_depth(ch_tree *t)
{
	/* children come after parents: one forward pass; depth kept in a temp array */
	size_t *d = calloc(t->n ? t->n : 1, sizeof(size_t));
	size_t maxd = 0;
	if (!d) {
		/* fall back to a safe bound */
		t->depth = t->n;
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		const ch_node *nd = &t->nodes[i];
		if (d[i] > maxd)
			maxd = d[i];
		if (nd->feature >= 0) {
			d[nd->left] = d[i] + 1;
			d[nd->right] = d[i] + 1;
		}
	}
	free(d);
	t->depth = maxd;
}

/* Place node k of t at position pos (depth d) of the complete tree f of depth t->depth. */
static void full_fill(const ch_tree *t, ch_full *f, int32_t k, size_t pos, size_t d)
{
	const ch_node *nd = &t->nodes[k];
	size_t ninternal = ((size_t)1 << t->depth) - 1;
	if (d == t->depth) {
		f->leaf[pos - ninternal] = nd->value;
		return;
	}
	if (nd->feature < 0) {
		f->feature[pos] = 0;
		f->threshold[pos] = INFINITY; /* a finite value goes left, NaN right: both reach the leaf */
		full_fill(t, f, k, 2 * pos + 1, d + 1);
		full_fill(t, f, k, 2 * pos + 2, d + 1);
		return;
	}
	f->feature[pos] = nd->feature;
	f->threshold[pos] = nd->threshold;
	full_fill(t, f, nd->left, 2 * pos + 1, d + 1);
	full_fill(t, f, nd->right, 2 * pos + 2, d + 1);
}

bool ch_tree_compact(ch_tree *t)
{
	free(t->full);
	t->full = NULL;
	if (t->n && t->depth >= 1 && t->depth <= CH_FULL_MAX_DEPTH && (t->full = malloc(sizeof(ch_full))))
		full_fill(t, t->full, 0, 0, 0);
	free(t->cn);
	t->cn = NULL;
	if (!t->n)
		return true;
	ch_cnode *cn = malloc(t->n * sizeof(*cn));
	uint32_t *queue = malloc(t->n * sizeof(uint32_t)); /* BFS order: queue[k] = node placed at k */
	if (!cn || !queue) {
		free(cn);
		free(queue);
		return false;
	}
	size_t head = 0, tail = 1;
	queue[0] = 0;
	while (head < tail) {
		size_t k = head;
		const ch_node *nd = &t->nodes[queue[head++]];
		cn[k].feature = nd->feature;
		if (nd->feature < 0 || tail + 2 > t->n) {
			cn[k].feature = -1;
			cn[k].v = nd->value;
			cn[k].left = -1;
			continue;
		}
		cn[k].v = nd->threshold;
		cn[k].left = (int32_t)tail;
		queue[tail++] = (uint32_t)nd->left;
		queue[tail++] = (uint32_t)nd->right;
	}
	free(queue);
	t->cn = cn;
	return true;
}

/* out[k] = (or +=) the leaf value of row rows[k] (rows NULL: row k); see ch_tree_predict_add. */
static inline void predict_batch(const ch_tree *t, const double *X, size_t ncols, const uint32_t *rows, size_t n,
                                 double *out, bool add)
{
	enum { LANES = 8 };
	const ch_cnode *cn = t->cn;
	const ch_full *f = t->full;
	size_t k = 0;
	if (f) {
		uint32_t first_leaf = (1u << t->depth) - 1;
		for (; k + LANES <= n; k += LANES) {
			const double *x[LANES];
			uint32_t at[LANES];
			for (size_t l = 0; l < LANES; l++) {
				x[l] = X + (rows ? rows[k + l] : k + l) * ncols;
				at[l] = 0;
			}
			for (size_t d = 0; d < t->depth; d++)
				for (size_t l = 0; l < LANES; l++)
					at[l] = 2 * at[l] + 1 + !(x[l][f->feature[at[l]]] <= f->threshold[at[l]]);
			for (size_t l = 0; l < LANES; l++)
				out[k + l] = add ? out[k + l] + f->leaf[at[l] - first_leaf] : f->leaf[at[l] - first_leaf];
		}
	} else if (cn) {
		/* the compact tree is never deeper than t->depth (ch_tree_compact only cuts) */
		for (; k + LANES <= n; k += LANES) {
			const double *x[LANES];
			uint32_t at[LANES];
			for (size_t l = 0; l < LANES; l++) {
				x[l] = X + (rows ? rows[k + l] : k + l) * ncols;
				at[l] = 0;
			}
			for (size_t d = 0; d < t->depth; d++)
				for (size_t l = 0; l < LANES; l++) {
					const ch_cnode *c = cn + at[l];
					int32_t f = c->feature;
					uint32_t next = (uint32_t)c->left + !(x[l][f < 0 ? 0 : f] <= c->v);
					at[l] = f < 0 ? at[l] : next;
				}
			for (size_t l = 0; l < LANES; l++)
				out[k + l] = add ? out[k + l] + cn[at[l]].v : cn[at[l]].v;
		}
	}
	for (; k < n; k++) {
		double v = ch_tree_predict(t, X + (rows ? rows[k] : k) * ncols);
		out[k] = add ? out[k] + v : v;
	}
}

void ch_tree_predict_add(const ch_tree *t, const double *X, size_t ncols, size_t n, double *acc)
{
	predict_batch(t, X, ncols, NULL, n, acc, true);
}

void ch_tree_predict_rows(const ch_tree *t, const double *X, size_t ncols, const uint32_t *rows, size_t n,
                          double *out)
{
	predict_batch(t, X, ncols, rows, n, out, false);
}

double ch_ensemble_prob(const ch_ensemble *e, double sum)
{
	if (!e->mean)
		return ch_sigmoid(sum);
	double m = e->ntrees ? sum / (double)e->ntrees : 0;
	return m < 0 ? 0 : (m > 1 ? 1 : m);
}

/*
 * base + the leaf values of one row x, summed in tree order. The lanes are
 * trees here, not rows: a scorer called once per customer (a SQL function,
 * an API request) has one row, and the walks of eight trees overlap as eight
 * rows' walks do in predict_batch.
 */
static double ensemble_row_sum(const ch_ensemble *e, const double *x)
{
	enum { LANES = 8 };
	double acc = e->base;
	size_t t = 0;
	for (; t + LANES <= e->ntrees; t += LANES) {
		const ch_tree *tr = e->trees + t;
		const ch_cnode *cn[LANES];
		uint32_t at[LANES];
		size_t depth = 0;
		bool compact = true, full = true;
		for (size_t l = 0; l < LANES; l++) {
			cn[l] = tr[l].cn;
			compact = compact && cn[l];
			full = full && tr[l].full && tr[l].depth == tr[0].depth;
			at[l] = 0;
			depth = tr[l].depth > depth ? tr[l].depth : depth;
		}
		if (full) {
			for (size_t d = 0; d < depth; d++)
				for (size_t l = 0; l < LANES; l++) {
					const ch_full *f = tr[l].full;
					at[l] = 2 * at[l] + 1 + !(x[f->feature[at[l]]] <= f->threshold[at[l]]);
				}
			for (size_t l = 0; l < LANES; l++)
				acc += tr[l].full->leaf[at[l] - ((1u << depth) - 1)];
			continue;
		}
		if (!compact) {
			for (size_t l = 0; l < LANES; l++)
				acc += ch_tree_predict(&tr[l], x);
			continue;
		}
		for (size_t d = 0; d < depth; d++)
			for (size_t l = 0; l < LANES; l++) {
				const ch_cnode *c = cn[l] + at[l];
				int32_t f = c->feature;
				uint32_t next = (uint32_t)c->left + !(x[f < 0 ? 0 : f] <= c->v);
				at[l] = f < 0 ? at[l] : next; /* a leaf steps to itself */
			}
		for (size_t l = 0; l < LANES; l++)
			acc += cn[l][at[l]].v;
	}
	for (; t < e->ntrees; t++)
		acc += ch_tree_predict(&e->trees[t], x);
	return acc;
}

/* ---- the trees by condition (ch_qs) ---- */

#define QS_MAX_TREES 1024             /* a row's masks live on the stack: at most 8 KB */
#define QS_MAX_TABLE ((size_t)1 << 20) /* bytes of the table; beyond, the walk */

typedef struct qs_split {
	double threshold;
	int32_t feature;
	uint32_t tree;
	uint64_t clear; /* the mask to AND when the split sends the row right */
} qs_split;

/* By feature, then threshold, then tree. */
static int qs_split_cmp(const void *a, const void *b)
{
	const qs_split *x = a, *y = b;
	if (x->feature != y->feature)
		return x->feature < y->feature ? -1 : 1;
	if (x->threshold != y->threshold)
		return x->threshold < y->threshold ? -1 : 1;
	return (x->tree > y->tree) - (x->tree < y->tree);
}

/* Tree t's mask in a row of the table, `width` bytes in the machine's order (read back by qs_mask_get). */
static void qs_mask_put(uint64_t *row, size_t width, size_t t, uint64_t m)
{
	unsigned char *p = (unsigned char *)row + t * width;
	uint8_t m8 = (uint8_t)m;
	uint16_t m16 = (uint16_t)m;
	uint32_t m32 = (uint32_t)m;
	switch (width) {
	case 1: memcpy(p, &m8, 1); break;
	case 2: memcpy(p, &m16, 2); break;
	case 4: memcpy(p, &m32, 4); break;
	default: memcpy(p, &m, 8); break;
	}
}

void ch_qs_free(ch_qs *q)
{
	if (!q)
		return;
	free(q->start);
	free(q->threshold);
	free(q->mask);
	free(q->leaf);
	free(q);
}

ch_qs *ch_qs_build(const ch_tree *trees, size_t ntrees)
{
	size_t nsplits = 0, nfeat = 0, depth = 0;
	if (ntrees == 0 || ntrees > QS_MAX_TREES)
		return NULL;
	for (size_t t = 0; t < ntrees; t++) {
		const ch_full *f = trees[t].full;
		size_t ninternal = ((size_t)1 << trees[t].depth) - 1;
		if (!f || trees[t].depth < 1 || trees[t].depth > CH_FULL_MAX_DEPTH)
			return NULL;
		for (size_t i = 0; i < ninternal; i++) {
			if (isnan(f->threshold[i]) || f->feature[i] < 0)
				return NULL;
			if ((size_t)f->feature[i] + 1 > nfeat)
				nfeat = (size_t)f->feature[i] + 1;
		}
		nsplits += ninternal;
		if (trees[t].depth > depth)
			depth = trees[t].depth;
	}
	qs_split *sp = malloc(nsplits * sizeof(*sp));
	if (!sp)
		return NULL;
	for (size_t t = 0, k = 0; t < ntrees; t++) {
		const ch_full *f = trees[t].full;
		size_t d = trees[t].depth;
		for (size_t level = 0, i = 0; level < d; level++) {
			size_t span = (size_t)1 << (d - level); /* leaves under a node of this level */
			for (size_t p = 0; p < ((size_t)1 << level); p++, i++) {
				uint64_t left = (((uint64_t)1 << (span / 2)) - 1) << (p * span); /* its left subtree's leaves */
				sp[k++] = (qs_split){f->threshold[i], f->feature[i], (uint32_t)t, ~left};
			}
		}
	}
	qsort(sp, nsplits, sizeof(*sp), qs_split_cmp);
	size_t ndistinct = 0;
	for (size_t k = 0; k < nsplits; k++)
		ndistinct += k == 0 || sp[k].feature != sp[k - 1].feature || sp[k].threshold != sp[k - 1].threshold;
	size_t width = depth <= 3 ? 1 : (size_t)1 << (depth - 3);
	size_t words = (ntrees * width + 7) / 8;
	if (ndistinct > QS_MAX_TABLE / (words * sizeof(uint64_t))) {
		free(sp);
		return NULL;
	}
	ch_qs *q = calloc(1, sizeof(*q));
	uint64_t *cur = malloc(ntrees * sizeof(*cur)); /* the masks of the feature being filled in */
	if (!q || !cur || !(q->start = calloc(nfeat + 1, sizeof(size_t))) ||
	    !(q->threshold = malloc(ndistinct * sizeof(double))) ||
	    !(q->mask = calloc(ndistinct * words, sizeof(uint64_t))) ||
	    !(q->leaf = calloc(ntrees << depth, sizeof(double)))) {
		free(sp);
		free(cur);
		ch_qs_free(q);
		return NULL;
	}
	q->ntrees = ntrees;
	q->nfeat = nfeat;
	q->width = width;
	q->shift = depth;
	q->words = words;
	for (size_t t = 0; t < ntrees; t++)
		memcpy(q->leaf + (t << depth), trees[t].full->leaf, ((size_t)1 << trees[t].depth) * sizeof(double));
	/* Feature by feature, the masks so far after each group of equal thresholds. Bits above a shallower
	 * tree's leaves stay set: never the lowest, since the leaf where its walk ends stays set too. */
	for (size_t k = 0, d = 0; k < nsplits; d++) {
		int32_t feature = sp[k].feature;
		if (k == 0 || feature != sp[k - 1].feature)
			for (size_t t = 0; t < ntrees; t++)
				cur[t] = ~(uint64_t)0;
		double thr = sp[k].threshold;
		for (; k < nsplits && sp[k].feature == feature && sp[k].threshold == thr; k++)
			cur[sp[k].tree] &= sp[k].clear;
		q->threshold[d] = thr;
		for (size_t t = 0; t < ntrees; t++)
			qs_mask_put(q->mask + d * words, width, t, cur[t]);
		q->start[feature + 1] = d + 1; /* the end of its feature's thresholds so far */
	}
	for (size_t f = 0; f < nfeat; f++) /* a feature without splits: an empty range */
		if (q->start[f + 1] < q->start[f])
			q->start[f + 1] = q->start[f];
	free(sp);
	free(cur);
	return q;
}

/* The leftmost reachable leaf of each tree, summed in tree order. One loop per mask width. */
#define QS_LEAVES(type)                                                      \
	for (size_t t = 0; t < q->ntrees; t++) {                             \
		type m;                                                      \
		memcpy(&m, (const unsigned char *)reach + t * sizeof(m), sizeof(m)); \
		acc += q->leaf[(t << q->shift) + (size_t)__builtin_ctzll(m)];     \
	}

double ch_qs_row_sum(const ch_qs *q, double base, const double *x)
{
	uint64_t reach[QS_MAX_TREES];
	const size_t words = q->words;
	for (size_t w = 0; w < words; w++)
		reach[w] = ~(uint64_t)0;
	for (size_t f = 0; f < q->nfeat; f++) {
		/* how many of the feature's thresholds send x right: a prefix (all for NaN), found without branches */
		const double v = x[f], *lo = q->threshold + q->start[f];
		size_t n = q->start[f + 1] - q->start[f];
		if (n == 0)
			continue;
		while (n > 1) {
			size_t half = n / 2;
			lo = !(v <= lo[half - 1]) ? lo + half : lo;
			n -= half;
		}
		size_t right = (size_t)(lo - q->threshold) + !(v <= *lo); /* table row right - 1, if any */
		if (right == q->start[f])
			continue;
		const uint64_t *m = q->mask + (right - 1) * words;
		for (size_t w = 0; w < words; w++)
			reach[w] &= m[w];
	}
	double acc = base;
	switch (q->width) {
	case 1: QS_LEAVES(uint8_t) break;
	case 2: QS_LEAVES(uint16_t) break;
	case 4: QS_LEAVES(uint32_t) break;
	default: QS_LEAVES(uint64_t) break;
	}
	return acc;
}

void ch_ensemble_predict(const ch_ensemble *e, const double *X, size_t nrows, size_t ncols, double *out)
{
	/* one tree's nodes stay in cache while a block of rows walks it; each row sums in tree order */
	enum { BLOCK = 256 };
	if (nrows < 8) {
		for (size_t i = 0; i < nrows; i++)
			out[i] = ch_ensemble_prob(e, e->qs ? ch_qs_row_sum(e->qs, e->base, X + i * ncols)
			                                   : ensemble_row_sum(e, X + i * ncols));
		return;
	}
	for (size_t i0 = 0; i0 < nrows; i0 += BLOCK) {
		size_t n = nrows - i0 < BLOCK ? nrows - i0 : BLOCK;
		double acc[BLOCK];
		for (size_t i = 0; i < n; i++)
			acc[i] = e->base;
		for (size_t t = 0; t < e->ntrees; t++)
			ch_tree_predict_add(&e->trees[t], X + i0 * ncols, ncols, n, acc);
		for (size_t i = 0; i < n; i++)
			out[i0 + i] = ch_ensemble_prob(e, acc[i]);
	}
}

void ch_tree_finalize(ch_tree *t)
{
	for (size_t k = t->n; k-- > 0;) {
		ch_node *nd = &t->nodes[k];
		if (nd->feature < 0)
			continue;
		const ch_node *l = &t->nodes[nd->left], *r = &t->nodes[nd->right];
		nd->cover = l->cover + r->cover;
		nd->value = nd->cover > 0 ? (l->cover * l->value + r->cover * r->value) / nd->cover
		                          : (l->value + r->value) / 2;
	}
	tree_depth(t);
	ch_tree_compact(t);
}

/* ---- TreeSHAP ---- */

size_t ch_tree_shap_scratch(size_t depth)
{
	size_t d = depth + 2;
	return d * (d + 1) / 2 + 1;
}

static void shap_extend(ch_shap_elem *p, size_t ud, double zf, double of, int32_t feat)
{
	p[ud].feature = feat;
	p[ud].zero_fraction = zf;
	p[ud].one_fraction = of;
	p[ud].pweight = ud == 0 ? 1.0 : 0.0;
	for (size_t i = ud; i-- > 0;) {
		p[i + 1].pweight += of * p[i].pweight * (double)(i + 1) / (double)(ud + 1);
		p[i].pweight = zf * p[i].pweight * (double)(ud - i) / (double)(ud + 1);
	}
}

static void shap_unwind(ch_shap_elem *p, size_t ud, size_t pi)
{
	double of = p[pi].one_fraction, zf = p[pi].zero_fraction;
	double next = p[ud].pweight;
	for (size_t i = ud; i-- > 0;) {
		if (of != 0) {
			double tmp = p[i].pweight;
			p[i].pweight = next * (double)(ud + 1) / ((double)(i + 1) * of);
			next = tmp - p[i].pweight * zf * (double)(ud - i) / (double)(ud + 1);
		} else {
			p[i].pweight = p[i].pweight * (double)(ud + 1) / (zf * (double)(ud - i));
		}
	}
	for (size_t i = pi; i < ud; i++) {
		p[i].feature = p[i + 1].feature;
		p[i].zero_fraction = p[i + 1].zero_fraction;
		p[i].one_fraction = p[i + 1].one_fraction;
	}
}

static double shap_unwound_sum(const ch_shap_elem *p, size_t ud, size_t pi)
{
	double of = p[pi].one_fraction, zf = p[pi].zero_fraction;
	double next = p[ud].pweight, total = 0;
	for (size_t i = ud; i-- > 0;) {
		if (of != 0) {
			double tmp = next * (double)(ud + 1) / ((double)(i + 1) * of);
			total += tmp;
			next = p[i].pweight - tmp * zf * ((double)(ud - i) / (double)(ud + 1));
		} else {
			total += (p[i].pweight / zf) / ((double)(ud - i) / (double)(ud + 1));
		}
	}
	return total;
}

static void shap_rec(const ch_tree *t, const double *x, double *phi, size_t node, size_t ud,
                     ch_shap_elem *parent, double pzf, double pof, int32_t pfeat)
{
	ch_shap_elem *p = parent + ud;
	if (ud)
		memcpy(p, parent, ud * sizeof(*p));
	shap_extend(p, ud, pzf, pof, pfeat);
	const ch_node *nd = &t->nodes[node];
	if (nd->feature < 0) {
		for (size_t i = 1; i <= ud; i++) {
			double w = shap_unwound_sum(p, ud, i);
			phi[p[i].feature] += w * (p[i].one_fraction - p[i].zero_fraction) * nd->value;
		}
		return;
	}
	size_t hot = (size_t)(x[nd->feature] <= nd->threshold ? nd->left : nd->right);
	size_t cold = (size_t)(hot == (size_t)nd->left ? nd->right : nd->left);
	double w = nd->cover;
	double hzf = t->nodes[hot].cover / w, czf = t->nodes[cold].cover / w;
	double izf = 1, iof = 1;
	size_t pi = 0;
	for (; pi <= ud; pi++)
		if (p[pi].feature == nd->feature)
			break;
	if (pi != ud + 1) {
		izf = p[pi].zero_fraction;
		iof = p[pi].one_fraction;
		shap_unwind(p, ud, pi);
		ud -= 1;
	}
	shap_rec(t, x, phi, hot, ud + 1, p, hzf * izf, iof, nd->feature);
	shap_rec(t, x, phi, cold, ud + 1, p, czf * izf, 0, nd->feature);
}

void ch_tree_shap(const ch_tree *t, const double *x, double *phi, ch_shap_elem *scratch)
{
	if (t->n == 0)
		return;
	if (t->nodes[0].feature < 0)
		return; /* a single leaf contributes only to the bias */
	shap_rec(t, x, phi, 0, 0, scratch, 1, 1, -1);
}

void ch_tree_saabas(const ch_tree *t, const double *x, double *phi)
{
	const ch_node *nd = t->nodes;
	while (nd->feature >= 0) {
		const ch_node *next = t->nodes + (x[nd->feature] <= nd->threshold ? nd->left : nd->right);
		phi[nd->feature] += next->value - nd->value;
		nd = next;
	}
}

/* ---- JSON ---- */

cJSON *ch_tree_to_cjson(const ch_tree *t)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	static const char *const dkeys[] = {"threshold", "value", "cover", "gain"};
	static const char *const ikeys[] = {"feature", "left", "right"};
	cJSON *da[4], *ia[3];
	for (int k = 0; k < 3; k++)
		if (!(ia[k] = cJSON_AddArrayToObject(o, ikeys[k])))
			goto fail;
	for (int k = 0; k < 4; k++)
		if (!(da[k] = cJSON_AddArrayToObject(o, dkeys[k])))
			goto fail;
	for (size_t i = 0; i < t->n; i++) {
		const ch_node *nd = &t->nodes[i];
		int32_t iv[3] = {nd->feature, nd->feature >= 0 ? nd->left : -1, nd->feature >= 0 ? nd->right : -1};
		double dv[4] = {nd->feature >= 0 ? nd->threshold : 0, nd->value, nd->cover, nd->gain};
		for (int k = 0; k < 3; k++) {
			cJSON *it = cJSON_CreateNumber(iv[k]);
			if (!it || !cJSON_AddItemToArray(ia[k], it)) {
				cJSON_Delete(it);
				goto fail;
			}
		}
		for (int k = 0; k < 4; k++) {
			cJSON *it = ch_json_number(dv[k]);
			if (!it || !cJSON_AddItemToArray(da[k], it)) {
				cJSON_Delete(it);
				goto fail;
			}
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static const cJSON *get_array(const cJSON *j, const char *key, const char *where, int *n, churn_status *st)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
	if (!cJSON_IsArray(a)) {
		*st = ch_fail(CHURN_E_FORMAT, "%s: \"%s\" is missing or not an array", where, key);
		return NULL;
	}
	int k = cJSON_GetArraySize(a);
	if (*n >= 0 && k != *n) {
		*st = ch_fail(CHURN_E_FORMAT, "%s: \"%s\" has %d entries, expected %d", where, key, k, *n);
		return NULL;
	}
	*n = k;
	return a;
}

static const char *const tree_keys[] = {"feature", "left", "right", "threshold", "value", "cover", "gain"};

/*
 * Node i of n from its seven numbers v (in tree_keys order), checked: a
 * feature index below nfeat or -1, a positive cover, and for a split two
 * children after it that no other node claimed (marked in seen).
 */
static churn_status node_from_values(const double v[7], int i, int n, size_t nfeat, const char *where, uint8_t *seen,
                                     ch_node *nd)
{
	if (v[0] != floor(v[0]) || v[0] < -1 || v[0] >= (double)nfeat)
		return ch_fail(CHURN_E_FORMAT, "%s: feature[%d] = %.17g is not -1 or a feature index below %zu", where, i,
		               v[0], nfeat);
	nd->feature = (int32_t)v[0];
	nd->threshold = v[3];
	nd->value = v[4];
	nd->cover = v[5];
	nd->gain = v[6];
	nd->left = nd->right = -1;
	if (!(v[5] > 0))
		return ch_fail(CHURN_E_FORMAT, "%s: cover[%d] must be positive", where, i);
	if (nd->feature < 0)
		return CHURN_OK;
	for (int k = 1; k <= 2; k++) {
		if (v[k] != floor(v[k]) || v[k] <= i || v[k] >= n)
			return ch_fail(CHURN_E_FORMAT, "%s: %s[%d] = %.17g is not a node after %d", where, tree_keys[k], i,
			               v[k], i);
		size_t c = (size_t)v[k];
		if (seen[c])
			return ch_fail(CHURN_E_FORMAT, "%s: node %zu has two parents", where, c);
		seen[c] = 1;
	}
	nd->left = (int32_t)v[1];
	nd->right = (int32_t)v[2];
	return CHURN_OK;
}

/* The n nodes from the seven parallel arrays into t->nodes; every node but the root must have a parent. */
static churn_status nodes_from_arrays(const cJSON *const arr[7], int n, size_t nfeat, const char *where, ch_tree *t)
{
	uint8_t *seen = calloc((size_t)n, 1);
	if (!seen)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = CHURN_OK;
	const cJSON *it[7];
	for (int k = 0; k < 7; k++)
		it[k] = arr[k]->child;
	for (int i = 0; i < n && !st; i++) {
		double v[7];
		for (int k = 0; k < 7; k++) {
			if (!cJSON_IsNumber(it[k]) || !isfinite(it[k]->valuedouble)) {
				st = ch_fail(CHURN_E_FORMAT, "%s: %s[%d] is not a finite number", where, tree_keys[k], i);
				goto out;
			}
			v[k] = it[k]->valuedouble;
			it[k] = it[k]->next;
		}
		st = node_from_values(v, i, n, nfeat, where, seen, &t->nodes[i]);
	}
	for (int i = 1; i < n && !st; i++)
		if (!seen[i])
			st = ch_fail(CHURN_E_FORMAT, "%s: node %d is unreachable", where, i);
out:
	free(seen);
	return st;
}

churn_status ch_tree_from_cjson(const cJSON *j, size_t nfeat, const char *where, ch_tree *out)
{
	memset(out, 0, sizeof(*out));
	if (!where)
		where = "tree";
	if (!cJSON_IsObject(j))
		return ch_fail(CHURN_E_FORMAT, "%s: not an object", where);
	const cJSON *arr[7];
	int n = -1;
	churn_status st = CHURN_OK;
	for (int k = 0; k < 7; k++)
		if (!(arr[k] = get_array(j, tree_keys[k], where, &n, &st)))
			return st;
	if (n < 1 || n > (1 << 24))
		return ch_fail(CHURN_E_FORMAT, "%s: %d nodes (expected 1 to %d)", where, n, 1 << 24);
	ch_tree t = {0};
	if (!(t.nodes = calloc((size_t)n, sizeof(ch_node))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	t.n = t.cap = (size_t)n;
	if ((st = nodes_from_arrays(arr, n, nfeat, where, &t))) {
		ch_tree_free(&t);
		return st;
	}
	tree_depth(&t);
	if (t.depth > CH_TREE_MAX_DEPTH) {
		ch_tree_free(&t);
		return ch_fail(CHURN_E_FORMAT, "%s: depth %zu exceeds %d", where, t.depth, CH_TREE_MAX_DEPTH);
	}
	ch_tree_compact(&t);
	*out = t;
	return CHURN_OK;
}

bool ch_trees_add_cjson(cJSON *o, const ch_tree *trees, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "trees");
	if (!arr)
		return false;
	for (size_t t = 0; t < n; t++) {
		cJSON *tj = ch_tree_to_cjson(&trees[t]);
		if (!tj || !cJSON_AddItemToArray(arr, tj)) {
			cJSON_Delete(tj);
			return false;
		}
	}
	return true;
}
