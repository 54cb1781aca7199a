/*
 * Histogram gradient boosting for binary log-loss (ch_gbm_ops).
 *
 * Features are cut into at most 255 quantile bins (tree.c) and the matrix is
 * binned once into uint8 (row-major: one cache line per row serves every
 * feature's histogram). Trees grow depth-wise to gbm.max_depth, or best-first
 * up to gbm.max_leaves, with XGBoost's gain G^2/(H+lambda) and leaf value
 * -G/(H+lambda) times the learning rate. Histograms use the subtraction
 * trick: the smaller child is built, the larger is parent minus smaller.
 *
 * Determinism: gradients and hessians are quantized to 32.32 fixed point
 * (int64) before they are summed, so histogram sums are exact integer sums:
 * the same whatever the number of threads or the order of rows. Threads
 * split the rows of a node into contiguous chunks, each building its own
 * histogram; the chunks are added exactly. The quantization step (2^-32) is
 * far below what split finding can resolve.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "model-private.h"
#include "params-private.h"
#include "rng-private.h"
#include "thread-private.h"
#include "tree-private.h"

#define GSCALE 4294967296.0        /* 2^32 */
#define GINV (1.0 / 4294967296.0)
#define GBM_MAX_ROWS ((size_t)INT32_MAX)
#define GBM_MAX_TREES 1000000
#define BIN_SAMPLE 200000
#define PAR_MIN_CELLS 262144       /* rows x features below which a node is built on one thread */

typedef struct gbm_state {
	size_t nfeat;
	double init;
	size_t ntrees;
	ch_tree *trees;
	size_t max_depth;              /* deepest tree, for TreeSHAP scratch */
	ch_qs *qs;                     /* the trees by condition, for one row at a time (ch_qs_build), or NULL */
} gbm_state;

typedef struct hbin {
	int64_t g, h, c;
} hbin;

typedef int64_t v2i __attribute__((vector_size(16)));

struct cand {
	int32_t node;
	uint32_t begin, end;
	uint32_t depth;
	hbin *hist;
	int64_t G, H, C;
	bool open;                     /* a valid split was found and not yet applied */
	int32_t feat;
	uint8_t bin;
	double gain;
	int64_t gl, hl, cl;
};

struct trainer {
	size_t n, nf, nthreads;
	const ch_bins *bins;
	const uint8_t *xb;             /* n x nf binned, row-major */
	uint8_t *xc;                   /* the same, column-major (partitions) */
	const uint8_t *y;
	uint32_t *off;                 /* nf + 1 histogram offsets */
	size_t nbt;                    /* total bins */
	v2i *gp;                       /* per row: {g, 1 << HSHIFT | h}, quantized */
	uint16_t *ci;                  /* sparse layout: non-default hist indices per row, or NULL */
	uint64_t *rp;                  /* n + 1 row pointers into ci */
	uint32_t *dflt;                /* per feature: hist index of its default bin */
	size_t avg_nnz;
	double *score;                 /* margin per row */
	uint32_t *rows, *tmp;          /* node row ranges of the current tree */
	hbin *scratch;                 /* (nthreads - 1) x nbt */
	v2i *pscratch;                 /* nthreads x nbt packed */
	hbin **pool;                   /* free histograms */
	size_t npool, cappool;
	struct cand *cands;
	size_t ncand, capcand;
	uint8_t *sbin;                 /* split bin per tree node */
	size_t capsbin;
	/* params */
	double lr, l2, min_hess, subsample, val_frac;
	size_t max_depth, max_leaves, msl, n_trees, patience;
	bool early;
	uint64_t seed;
};

static void gbm_free(void *p)
{
	gbm_state *s = p;
	if (!s)
		return;
	for (size_t t = 0; t < s->ntrees; t++)
		ch_tree_free(&s->trees[t]);
	free(s->trees);
	ch_qs_free(s->qs);
	free(s);
}

/* ---------------------------------------------------------------- histograms */

/*
 * Rows are accumulated in chunks of at most CHUNK rows into a packed
 * histogram of int64 pairs {g, c << 46 | h} (one 128-bit add per row and
 * feature), then unpacked into the full {g, h, c} histogram. Per row
 * h < 2^30, so a chunk's h sum stays below 2^45 and its count below 2^15.
 * With the sparse layout only bins other than each feature's most frequent
 * ("default") bin are visited; default bins are recovered from the node
 * totals afterwards. Everything is exact integer arithmetic.
 */
#define CHUNK 32768
#define HSHIFT 46
#define HMASK (((int64_t)1 << HSHIFT) - 1)

struct hist_job {
	struct trainer *tr;
	const uint32_t *rows;
	size_t count, nthreads;
	hbin *out;
};

static void hist_rows(const struct trainer *tr, const uint32_t *rows, size_t lo, size_t hi, hbin *h, v2i *pk)
{
	size_t nf = tr->nf, nbt = tr->nbt;
	const uint32_t *off = tr->off;
	const v2i *gp = tr->gp;
	if (lo >= hi)
		memset(h, 0, nbt * sizeof(hbin));
	for (size_t c0 = lo; c0 < hi; c0 += CHUNK) {
		size_t c1 = hi - c0 > CHUNK ? c0 + CHUNK : hi;
		memset(pk, 0, nbt * sizeof(v2i));
		if (tr->ci) {
			const uint16_t *ci = tr->ci;
			const uint64_t *rp = tr->rp;
			for (size_t k = c0; k < c1; k++) {
				uint32_t r = rows[k];
				v2i v = gp[r];
				const uint16_t *q = ci + rp[r], *e = ci + rp[(size_t)r + 1];
				/* unrolled: the loop overhead is half the cost of an add */
				for (; e - q >= 4; q += 4) {
					uint16_t b0 = q[0], b1 = q[1], b2 = q[2], b3 = q[3];
					pk[b0] += v;
					pk[b1] += v;
					pk[b2] += v;
					pk[b3] += v;
				}
				for (; q < e; q++)
					pk[*q] += v;
			}
		} else {
			for (size_t k = c0; k < c1; k++) {
				uint32_t r = rows[k];
				v2i v = gp[r];
				const uint8_t *xr = tr->xb + (size_t)r * nf;
				for (size_t f = 0; f < nf; f++)
					pk[off[f] + xr[f]] += v;
			}
		}
		if (c0 == lo) {
			for (size_t b = 0; b < nbt; b++)
				h[b] = (hbin){pk[b][0], pk[b][1] & HMASK, pk[b][1] >> HSHIFT};
		} else {
			for (size_t b = 0; b < nbt; b++) {
				h[b].g += pk[b][0];
				h[b].h += pk[b][1] & HMASK;
				h[b].c += pk[b][1] >> HSHIFT;
			}
		}
	}
}

/* Default bin per feature (most frequent in up to 65536 evenly spaced rows); sparse layout when it pays. */
struct csr_job {
	struct trainer *tr;
	size_t nthreads;
};

static void csr_count(void *p, size_t t)
{
	struct csr_job *j = p;
	struct trainer *tr = j->tr;
	size_t lo = tr->n * t / j->nthreads, hi = tr->n * (t + 1) / j->nthreads;
	for (size_t i = lo; i < hi; i++) {
		const uint8_t *xr = tr->xb + i * tr->nf;
		uint64_t c = 0;
		for (size_t f = 0; f < tr->nf; f++)
			c += tr->off[f] + xr[f] != tr->dflt[f];
		tr->rp[i + 1] = c;
	}
}

static void csr_fill(void *p, size_t t)
{
	struct csr_job *j = p;
	struct trainer *tr = j->tr;
	size_t lo = tr->n * t / j->nthreads, hi = tr->n * (t + 1) / j->nthreads;
	for (size_t i = lo; i < hi; i++) {
		const uint8_t *xr = tr->xb + i * tr->nf;
		uint64_t q = tr->rp[i];
		for (size_t f = 0; f < tr->nf; f++) {
			uint32_t b = tr->off[f] + xr[f];
			if (b != tr->dflt[f])
				tr->ci[q++] = (uint16_t)b;
		}
	}
}

static void transpose_worker(void *p, size_t t)
{
	struct csr_job *j = p;
	struct trainer *tr = j->tr;
	size_t nf = tr->nf, n = tr->n;
	size_t lo = n * t / j->nthreads, hi = n * (t + 1) / j->nthreads;
	for (size_t i0 = lo; i0 < hi; i0 += 256) {
		size_t i1 = hi - i0 > 256 ? i0 + 256 : hi;
		for (size_t f = 0; f < nf; f++)
			for (size_t i = i0; i < i1; i++)
				tr->xc[f * n + i] = tr->xb[i * nf + f];
	}
}

static void transpose(struct trainer *tr)
{
	struct csr_job j = {tr, tr->n < 65536 ? 1 : tr->nthreads};
	ch_parallel(j.nthreads, transpose_worker, &j);
}

static churn_status build_sparse(struct trainer *tr)
{
	size_t n = tr->n, nf = tr->nf;
	uint32_t *cnt = calloc(tr->nbt ? tr->nbt : 1, sizeof(uint32_t));
	tr->dflt = malloc((nf ? nf : 1) * sizeof(uint32_t));
	if (!cnt || !tr->dflt) {
		free(cnt);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t step = n > 65536 ? n / 65536 : 1, m = 0;
	for (size_t i = 0; i < n; i += step, m++)
		for (size_t f = 0; f < nf; f++)
			cnt[tr->off[f] + tr->xb[i * nf + f]]++;
	uint64_t nd = 0; /* sampled default cells */
	for (size_t f = 0; f < nf; f++) {
		uint32_t best = tr->off[f];
		for (uint32_t b = tr->off[f]; b < tr->off[f + 1]; b++)
			if (cnt[b] > cnt[best])
				best = b;
		tr->dflt[f] = best;
		nd += cnt[best];
	}
	free(cnt);
	double density = m && nf ? 1.0 - (double)nd / ((double)m * (double)nf) : 1;
	tr->avg_nnz = (size_t)(density * (double)nf) + 1;
	if (tr->nbt > 65535 || density > 0.75)
		return CHURN_OK; /* dense layout */
	tr->rp = malloc((n + 1) * sizeof(uint64_t));
	if (!tr->rp)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t nth = n < 65536 ? 1 : tr->nthreads;
	struct csr_job j = {tr, nth};
	ch_parallel(nth, csr_count, &j);
	tr->rp[0] = 0;
	for (size_t i = 0; i < n; i++)
		tr->rp[i + 1] += tr->rp[i];
	tr->ci = malloc((tr->rp[n] ? tr->rp[n] : 1) * sizeof(uint16_t));
	if (!tr->ci) {
		free(tr->rp);
		tr->rp = NULL;
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	ch_parallel(nth, csr_fill, &j);
	return CHURN_OK;
}

static void hist_worker(void *p, size_t t)
{
	struct hist_job *j = p;
	size_t lo = j->count * t / j->nthreads, hi = j->count * (t + 1) / j->nthreads;
	hbin *h = t == 0 ? j->out : j->tr->scratch + (t - 1) * j->tr->nbt;
	hist_rows(j->tr, j->rows, lo, hi, h, j->tr->pscratch + t * j->tr->nbt);
}

/* Histogram of rows[0..count) whose totals are (G, H, C). */
static void build_hist(struct trainer *tr, const uint32_t *rows, size_t count, hbin *out, int64_t G, int64_t H,
                       int64_t C)
{
	size_t nth = tr->nthreads;
	if (count * (tr->ci ? tr->avg_nnz : tr->nf) < PAR_MIN_CELLS)
		nth = 1;
	struct hist_job j = {tr, rows, count, nth, out};
	ch_parallel(nth, hist_worker, &j);
	for (size_t t = 1; t < nth; t++) {
		const hbin *s = tr->scratch + (t - 1) * tr->nbt;
		for (size_t b = 0; b < tr->nbt; b++) {
			out[b].g += s[b].g;
			out[b].h += s[b].h;
			out[b].c += s[b].c;
		}
	}
	if (tr->ci) {
		for (size_t f = 0; f < tr->nf; f++) {
			int64_t g = 0, h = 0, c = 0;
			for (size_t b = tr->off[f]; b < tr->off[f + 1]; b++) {
				g += out[b].g;
				h += out[b].h;
				c += out[b].c;
			}
			hbin *d = &out[tr->dflt[f]];
			d->g = G - g;
			d->h = H - h;
			d->c = C - c;
		}
	}
}

static hbin *hist_get(struct trainer *tr)
{
	if (tr->npool)
		return tr->pool[--tr->npool];
	return malloc(tr->nbt * sizeof(hbin));
}

static bool hist_put(struct trainer *tr, hbin *h)
{
	if (!h)
		return true;
	if (tr->npool == tr->cappool) {
		size_t cap = tr->cappool ? tr->cappool * 2 : 16;
		hbin **np = realloc(tr->pool, cap * sizeof(*np));
		if (!np) {
			free(h);
			return false;
		}
		tr->pool = np;
		tr->cappool = cap;
	}
	tr->pool[tr->npool++] = h;
	return true;
}

/* ---------------------------------------------------------------- splits */

static double score_of(double g, double h, double l2)
{
	double d = h + l2;
	return d > 0 ? g * g / d : 0;
}

static void find_split(const struct trainer *tr, struct cand *c)
{
	c->open = false;
	c->gain = 0;
	if ((size_t)c->C < 2 * tr->msl)
		return;
	double G = (double)c->G * GINV, H = (double)c->H * GINV;
	double parent = score_of(G, H, tr->l2);
	double best = 0;
	for (size_t f = 0; f < tr->nf; f++) {
		size_t nb = tr->bins->nbins[f];
		const hbin *h = c->hist + tr->off[f];
		int64_t gl = 0, hl = 0, cl = 0;
		for (size_t b = 0; b + 1 < nb; b++) {
			gl += h[b].g;
			hl += h[b].h;
			cl += h[b].c;
			if ((size_t)cl < tr->msl)
				continue;
			int64_t cr = c->C - cl;
			if ((size_t)cr < tr->msl)
				break;
			double dgl = (double)gl * GINV, dhl = (double)hl * GINV;
			double dgr = (double)(c->G - gl) * GINV, dhr = (double)(c->H - hl) * GINV;
			if (dhl < tr->min_hess || dhr < tr->min_hess)
				continue;
			double gain = score_of(dgl, dhl, tr->l2) + score_of(dgr, dhr, tr->l2) - parent;
			if (gain > best) {
				best = gain;
				c->open = true;
				c->feat = (int32_t)f;
				c->bin = (uint8_t)b;
				c->gain = gain;
				c->gl = gl;
				c->hl = hl;
				c->cl = cl;
			}
		}
	}
}

static bool can_grow(const struct trainer *tr, uint32_t depth, int64_t count)
{
	return (tr->max_depth == 0 || depth < tr->max_depth) && (size_t)count >= 2 * tr->msl;
}

static struct cand *cand_add(struct trainer *tr)
{
	if (tr->ncand == tr->capcand) {
		size_t cap = tr->capcand ? tr->capcand * 2 : 64;
		struct cand *nc = realloc(tr->cands, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		tr->cands = nc;
		tr->capcand = cap;
	}
	struct cand *c = &tr->cands[tr->ncand++];
	memset(c, 0, sizeof(*c));
	return c;
}

static bool sbin_set(struct trainer *tr, size_t node, uint8_t bin)
{
	if (node >= tr->capsbin) {
		size_t cap = tr->capsbin ? tr->capsbin * 2 : 64;
		while (cap <= node)
			cap *= 2;
		uint8_t *nb = realloc(tr->sbin, cap);
		if (!nb)
			return false;
		tr->sbin = nb;
		tr->capsbin = cap;
	}
	tr->sbin[node] = bin;
	return true;
}

/* Return every histogram candidates still hold to the pool. */
static void cands_release(struct trainer *tr)
{
	for (size_t i = 0; i < tr->ncand; i++)
		if (tr->cands[i].hist) {
			hist_put(tr, tr->cands[i].hist);
			tr->cands[i].hist = NULL;
		}
}

/* Keep c's histogram only when c has a split to apply. */
static void cand_settle(struct trainer *tr, struct cand *c, bool grow)
{
	if (grow)
		find_split(tr, c);
	if (!c->open) {
		hist_put(tr, c->hist);
		c->hist = NULL;
	}
}

/* The root candidate over rows[0..nrows), its split searched; false on OOM. */
static bool grow_root(struct trainer *tr, size_t nrows)
{
	struct cand *root = cand_add(tr);
	if (!root)
		return false;
	root->node = 0;
	root->begin = 0;
	root->end = (uint32_t)nrows;
	for (size_t k = 0; k < nrows; k++) {
		v2i v = tr->gp[tr->rows[k]];
		root->G += v[0];
		root->H += v[1] & HMASK;
	}
	root->C = (int64_t)nrows;
	if (!can_grow(tr, 0, root->C))
		return true;
	if (!(root->hist = hist_get(tr)))
		return false;
	build_hist(tr, tr->rows, nrows, root->hist, root->G, root->H, root->C);
	cand_settle(tr, root, true);
	return true;
}

/*
 * The candidate to split next, SIZE_MAX when none: the largest gain with a
 * leaf limit (best-first), else the first open one (depth-wise, from *head).
 */
static size_t next_cand(const struct trainer *tr, size_t leaves, size_t *head)
{
	if (tr->max_leaves && leaves >= tr->max_leaves)
		return SIZE_MAX;
	size_t ci = SIZE_MAX;
	if (tr->max_leaves) {
		double best = -1;
		for (size_t i = 0; i < tr->ncand; i++)
			if (tr->cands[i].open && tr->cands[i].gain > best) {
				best = tr->cands[i].gain;
				ci = i;
			}
	} else {
		while (*head < tr->ncand && !tr->cands[*head].open)
			(*head)++;
		if (*head < tr->ncand)
			ci = *head;
	}
	return ci;
}

/* Stable partition of rows[c->begin, c->end) by c's split; returns where the right part starts. */
static size_t partition_rows(struct trainer *tr, const struct cand *c)
{
	size_t w = c->begin, nr = 0;
	const uint8_t *col = tr->xc + (size_t)c->feat * tr->n;
	for (size_t k = c->begin; k < c->end; k++) {
		uint32_t row = tr->rows[k];
		size_t go = col[row] <= c->bin;
		tr->rows[w] = row;
		tr->tmp[nr] = row;
		w += go;
		nr += 1 - go;
	}
	memcpy(tr->rows + w, tr->tmp, nr * sizeof(uint32_t));
	return w;
}

/*
 * Apply the split of cands[ci]: two children in t, its rows partitioned, and
 * the children as candidates with their splits searched (the smaller child's
 * histogram built, the larger's by subtraction from the parent's). False on OOM.
 */
static bool split_cand(struct trainer *tr, ch_tree *t, size_t ci)
{
	struct cand c = tr->cands[ci];
	tr->cands[ci].open = false;
	tr->cands[ci].hist = NULL;
	int32_t l = ch_tree_add(t), r = ch_tree_add(t);
	struct cand *lc = NULL, *rc = NULL;
	if (l < 0 || r < 0 || !sbin_set(tr, (size_t)c.node, c.bin))
		goto nomem;
	ch_node *nd = &t->nodes[c.node];
	nd->feature = c.feat;
	nd->threshold = ch_bins_cuts(tr->bins, (size_t)c.feat)[c.bin];
	nd->gain = c.gain;
	nd->left = l;
	nd->right = r;
	size_t w = partition_rows(tr, &c);
	if (!(lc = cand_add(tr)) || !(rc = cand_add(tr)))
		goto nomem;
	lc = &tr->cands[tr->ncand - 2];
	*lc = (struct cand){.node = l, .begin = c.begin, .end = (uint32_t)w, .depth = c.depth + 1,
	                    .G = c.gl, .H = c.hl, .C = c.cl};
	*rc = (struct cand){.node = r, .begin = (uint32_t)w, .end = c.end, .depth = c.depth + 1,
	                    .G = c.G - c.gl, .H = c.H - c.hl, .C = c.C - c.cl};
	bool gl = can_grow(tr, lc->depth, lc->C), gr = can_grow(tr, rc->depth, rc->C);
	if (!gl && !gr) {
		hist_put(tr, c.hist);
		return true;
	}
	struct cand *small = lc->C <= rc->C ? lc : rc, *large = small == lc ? rc : lc;
	if (!(small->hist = hist_get(tr)))
		goto nomem;
	build_hist(tr, tr->rows + small->begin, small->end - small->begin, small->hist, small->G, small->H, small->C);
	large->hist = c.hist;
	for (size_t b = 0; b < tr->nbt; b++) {
		large->hist[b].g -= small->hist[b].g;
		large->hist[b].h -= small->hist[b].h;
		large->hist[b].c -= small->hist[b].c;
	}
	cand_settle(tr, lc, gl);
	cand_settle(tr, rc, gr);
	return true;
nomem:
	hist_put(tr, c.hist);
	return false;
}

/* Leaf values (Newton step times the learning rate) and covers from the candidates' sums. */
static void set_leaves(const struct trainer *tr, ch_tree *t)
{
	for (size_t i = 0; i < tr->ncand; i++) {
		const struct cand *c = &tr->cands[i];
		ch_node *nd = &t->nodes[c->node];
		if (nd->feature >= 0)
			continue;
		double G = (double)c->G * GINV, H = (double)c->H * GINV;
		double d = H + tr->l2;
		nd->value = d > 0 ? -G / d * tr->lr : 0;
		nd->cover = (double)c->C;
	}
}

/* Grow one tree over rows[0..nrows) (gradients in tr->gp). */
static churn_status grow_tree(struct trainer *tr, size_t nrows, ch_tree *t)
{
	tr->ncand = 0;
	memset(t, 0, sizeof(*t));
	if (ch_tree_add(t) < 0 || !grow_root(tr, nrows))
		goto nomem;
	size_t leaves = 1, head = 0, ci;
	while ((ci = next_cand(tr, leaves, &head)) != SIZE_MAX) {
		if (!split_cand(tr, t, ci))
			goto nomem;
		leaves++;
	}
	cands_release(tr);
	set_leaves(tr, t);
	ch_tree_finalize(t);
	return CHURN_OK;
nomem:
	cands_release(tr);
	ch_tree_free(t);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* ---------------------------------------------------------------- boosting */

struct leafseg {
	uint32_t begin, end;
	double value;
};

struct upd_job {
	struct trainer *tr;
	const ch_tree *t;
	const uint8_t *is_train;
	size_t nthreads;
	const struct leafseg *segs;   /* leaves of t over rows[0..nrows), by begin */
	size_t nsegs, nrows;
	const uint32_t *others;       /* rows not in this tree's sample (NULL: every row, no sample) */
	size_t nothers;
};

static double tree_value_binned(const struct trainer *tr, const ch_tree *t, const uint8_t *xr)
{
	const ch_node *nd = t->nodes;
	while (nd->feature >= 0) {
		size_t k = (size_t)(nd - t->nodes);
		int32_t l = nd->left, r = nd->right;
		int32_t right = xr[nd->feature] > tr->sbin[k];
		nd = t->nodes + (l + right * (r - l));
	}
	return nd->value;
}

/* Round to nearest (ties away from zero), inline: llrint() is a libm call. */
static inline int64_t quantize(double v)
{
	return (int64_t)(v + (v >= 0 ? 0.5 : -0.5));
}

static inline v2i grad_of(double s, uint8_t y)
{
	double e = exp(-fabs(s));
	double p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
	int64_t g = quantize((p - (y ? 1.0 : 0.0)) * GSCALE);
	int64_t h = quantize(p * (1 - p) * GSCALE);
	return (v2i){g, ((int64_t)1 << HSHIFT) | h};
}

/*
 * Add the new tree to every row's score and refresh training gradients.
 * Rows of the tree's sample take their leaf from the partition (no
 * traversal); the other rows (not sampled, validation) walk the binned tree.
 */
static void upd_worker(void *p, size_t th)
{
	struct upd_job *j = p;
	struct trainer *tr = j->tr;
	size_t lo = j->nrows * th / j->nthreads, hi = j->nrows * (th + 1) / j->nthreads;
	for (size_t sgi = 0; sgi < j->nsegs; sgi++) {
		const struct leafseg *sg = &j->segs[sgi];
		size_t b = sg->begin > lo ? sg->begin : lo, e = sg->end < hi ? sg->end : hi;
		for (size_t k = b; k < e; k++) {
			uint32_t r = tr->rows[k];
			double sc = tr->score[r] + sg->value;
			tr->score[r] = sc;
			tr->gp[r] = grad_of(sc, tr->y[r]);
		}
	}
	size_t no = j->others ? j->nothers : tr->n;
	lo = no * th / j->nthreads;
	hi = no * (th + 1) / j->nthreads;
	for (size_t k = lo; k < hi; k++) {
		size_t i = j->others ? j->others[k] : k;
		if (j->t)
			tr->score[i] += tree_value_binned(tr, j->t, tr->xb + i * tr->nf);
		if (j->is_train[i])
			tr->gp[i] = grad_of(tr->score[i], tr->y[i]);
	}
}

static int cmp_seg(const void *a, const void *b)
{
	uint32_t x = ((const struct leafseg *)a)->begin, y = ((const struct leafseg *)b)->begin;
	return (x > y) - (x < y);
}

/* t NULL: gradients of every training row from the current scores. */
static churn_status update_scores(struct trainer *tr, const ch_tree *t, const uint8_t *is_train, size_t nrows,
                                  const uint32_t *others, size_t nothers)
{
	struct leafseg *segs = NULL;
	size_t nsegs = 0;
	if (t) {
		segs = malloc((tr->ncand ? tr->ncand : 1) * sizeof(*segs));
		if (!segs)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		for (size_t i = 0; i < tr->ncand; i++) {
			const struct cand *c = &tr->cands[i];
			if (t->nodes[c->node].feature < 0 && c->end > c->begin)
				segs[nsegs++] = (struct leafseg){c->begin, c->end, t->nodes[c->node].value};
		}
		qsort(segs, nsegs, sizeof(*segs), cmp_seg);
	}
	size_t work = t ? nrows + nothers : tr->n;
	size_t nth = work < 16384 ? 1 : tr->nthreads;
	struct upd_job j = {tr, t, is_train, nth, segs, nsegs, t ? nrows : 0, t ? others : NULL, nothers};
	ch_parallel(nth, upd_worker, &j);
	free(segs);
	return CHURN_OK;
}

static double val_loss(const struct trainer *tr, const uint32_t *val, size_t nval)
{
	double s = 0;
	for (size_t k = 0; k < nval; k++) {
		size_t i = val[k];
		double z = tr->score[i];
		/* log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, stably */
		double m = tr->y[i] ? -z : z;
		s += m > 0 ? m + log1p(exp(-m)) : log1p(exp(m));
	}
	return nval ? s / (double)nval : 0;
}

static uint64_t seed_of(const churn_params *p, const char *key)
{
	int64_t s = churn_params_get_int(p, key);
	return s >= 0 ? (uint64_t)s : (uint64_t)churn_params_get_int(p, CHURN_KEY_SPLIT_SEED);
}

static void shuffle_u32(uint32_t *a, size_t n, ch_rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)ch_rng_below(r, i);
		uint32_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* One fit's working set: the trainer, and the arrays only the fit's steps use. */
struct fit {
	struct trainer tr;
	ch_bins bins;
	size_t max_bins;
	uint8_t *xb;                   /* binned rows (tr.xb) */
	uint8_t *is_train;             /* per row: 0 for a validation row */
	uint32_t *train;               /* the training rows, ascending */
	uint32_t *val;                 /* the validation rows, ascending (early stopping only) */
	uint32_t *others;              /* per tree: training rows outside its sample, then the validation rows */
	size_t ntrain, npos, nval;
};

/* The gbm.* options into f; INVALID_ARG when the depth and leaf limits cannot grow a tree. */
static churn_status fit_params(struct fit *f, const churn_params *p)
{
	struct trainer *tr = &f->tr;
	tr->lr = churn_params_get_double(p, CHURN_KEY_GBM_LEARNING_RATE);
	tr->l2 = churn_params_get_double(p, CHURN_KEY_GBM_L2);
	tr->min_hess = churn_params_get_double(p, CHURN_KEY_GBM_MIN_HESSIAN);
	tr->subsample = churn_params_get_double(p, CHURN_KEY_GBM_SUBSAMPLE);
	tr->val_frac = churn_params_get_double(p, CHURN_KEY_GBM_VALIDATION_FRACTION);
	tr->max_depth = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_MAX_DEPTH);
	tr->max_leaves = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_MAX_LEAVES);
	tr->msl = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_MIN_SAMPLES_LEAF);
	tr->n_trees = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_N_TREES);
	tr->patience = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_N_ITER_NO_CHANGE);
	tr->early = churn_params_get_bool(p, CHURN_KEY_GBM_EARLY_STOPPING);
	tr->seed = seed_of(p, CHURN_KEY_GBM_SEED);
	f->max_bins = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_MAX_BINS);
	size_t nth = (size_t)churn_params_get_int(p, CHURN_KEY_GBM_N_THREADS);
	tr->nthreads = nth ? nth : ch_ncores();
	if (tr->max_depth == 0 || tr->max_depth > CH_TREE_MAX_DEPTH)
		tr->max_depth = tr->max_leaves ? CH_TREE_MAX_DEPTH : 0;
	if (tr->max_depth == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "gbm: gbm.max_depth 0 (unlimited) needs gbm.max_leaves > 0");
	if (tr->max_leaves == 1)
		return ch_fail(CHURN_E_INVALID_ARG, "gbm: gbm.max_leaves must be 0 (unlimited) or at least 2");
	return CHURN_OK;
}

/* Bin the rows of X and allocate the trainer's arrays (bins both ways, sparse layout, scratch). */
static churn_status fit_setup(struct fit *f, const double *X)
{
	struct trainer *tr = &f->tr;
	size_t n = tr->n, nf = tr->nf;
	churn_status st = ch_bins_fit(&f->bins, X, n, nf, f->max_bins, BIN_SAMPLE, tr->seed, tr->nthreads);
	if (st)
		return st;
	tr->bins = &f->bins;
	f->xb = malloc(n * nf > 0 ? n * nf : 1);
	tr->off = malloc((nf + 1) * sizeof(uint32_t));
	tr->gp = aligned_alloc(16, (n ? n : 1) * sizeof(v2i));
	tr->score = malloc(n * sizeof(double));
	tr->rows = malloc(n * sizeof(uint32_t));
	tr->tmp = malloc(n * sizeof(uint32_t));
	f->is_train = malloc(n);
	f->train = malloc(n * sizeof(uint32_t));
	f->others = malloc(n * sizeof(uint32_t));
	if (!f->others || !f->xb || !tr->off || !tr->gp || !tr->score || !tr->rows || !tr->tmp || !f->is_train ||
	    !f->train)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_bins_apply(&f->bins, X, NULL, n, f->xb, tr->nthreads);
	tr->xb = f->xb;
	tr->off[0] = 0;
	for (size_t j = 0; j < nf; j++)
		tr->off[j + 1] = tr->off[j] + f->bins.nbins[j];
	tr->nbt = tr->off[nf];
	if (tr->nthreads > 1 && !(tr->scratch = malloc((tr->nthreads - 1) * tr->nbt * sizeof(hbin))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!(tr->pscratch = aligned_alloc(16, tr->nthreads * tr->nbt * sizeof(v2i))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = build_sparse(tr)))
		return st;
	if (!(tr->xc = malloc(n * nf > 0 ? n * nf : 1)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	transpose(tr);
	return CHURN_OK;
}

/*
 * The rows: with early stopping, a stratified seeded validation share of each
 * class first; the training rows are the rest. INVALID_ARG when they have one
 * class only.
 */
static churn_status fit_split(struct fit *f)
{
	struct trainer *tr = &f->tr;
	size_t n = tr->n;
	const uint8_t *y = tr->y;
	memset(f->is_train, 1, n);
	f->nval = 0;
	if (tr->early) {
		if (!(f->val = malloc(n * sizeof(uint32_t))))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		ch_rng r;
		ch_rng_seed(&r, tr->seed, 0x7a1);
		for (int cls = 0; cls < 2; cls++) {
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if ((y[i] != 0) == (cls == 1))
					f->train[m++] = (uint32_t)i;
			shuffle_u32(f->train, m, &r);
			size_t k = (size_t)llround(tr->val_frac * (double)m);
			if (k >= m)
				k = m ? m - 1 : 0;
			for (size_t q = 0; q < k; q++) {
				f->val[f->nval++] = f->train[q];
				f->is_train[f->train[q]] = 0;
			}
		}
		qsort(f->val, f->nval, sizeof(uint32_t), cmp_u32);
	}
	f->ntrain = f->npos = 0;
	for (size_t i = 0; i < n; i++)
		if (f->is_train[i]) {
			f->train[f->ntrain++] = (uint32_t)i;
			f->npos += y[i] != 0;
		}
	if (f->npos == 0 || f->npos == f->ntrain)
		return ch_fail(CHURN_E_INVALID_ARG, "gbm: the training rows have one class only");
	return CHURN_OK;
}

/*
 * The rows of tree `it` into tr.rows: nsub training rows drawn in order with
 * the tree's seeded stream (all of them when nsub = ntrain); the training rows
 * left out, then the validation rows, into others.
 */
static void fit_sample(struct fit *f, size_t it, size_t nsub, size_t *out_nrows, size_t *out_nothers)
{
	struct trainer *tr = &f->tr;
	size_t ntrain = f->ntrain, nrows = ntrain, nothers = 0;
	if (nsub < ntrain) {
		/* selection sampling (Knuth's algorithm S): exactly nsub rows, in order */
		ch_rng r;
		ch_rng_seed(&r, tr->seed, 0x5b5 + it);
		size_t need = nsub, left = ntrain;
		nrows = 0;
		for (size_t k = 0; k < ntrain; k++, left--) {
			if (need && ch_rng_below(&r, left) < need) {
				tr->rows[nrows++] = f->train[k];
				need--;
			} else {
				f->others[nothers++] = f->train[k];
			}
		}
	} else {
		memcpy(tr->rows, f->train, ntrain * sizeof(uint32_t));
	}
	if (f->nval)
		memcpy(f->others + nothers, f->val, f->nval * sizeof(uint32_t));
	*out_nrows = nrows;
	*out_nothers = nothers + f->nval;
}

struct early {
	double best_loss;
	size_t best_iter, since;
};

/* After tree `it`: *stop when the validation loss has not improved for gbm.n_iter_no_change trees. */
static churn_status fit_early_stop(const struct fit *f, size_t it, struct early *e, bool *stop)
{
	double loss = val_loss(&f->tr, f->val, f->nval);
	if (!isfinite(loss))
		return ch_fail(CHURN_E_NUMERIC, "gbm: validation loss is not finite after %zu trees", it + 1);
	if (loss < e->best_loss - 1e-7 * fabs(e->best_loss) || it == 0) {
		e->best_loss = loss;
		e->best_iter = it + 1;
		e->since = 0;
	} else if (++e->since >= f->tr.patience) {
		*stop = true;
	}
	return CHURN_OK;
}

/* Keep the first `ntrees` trees (the best validation loss), and the depth of the deepest. */
static void keep_trees(gbm_state *s, size_t ntrees)
{
	if (ntrees >= s->ntrees)
		return;
	for (size_t t = ntrees; t < s->ntrees; t++)
		ch_tree_free(&s->trees[t]);
	s->ntrees = ntrees;
	s->max_depth = 0;
	for (size_t t = 0; t < s->ntrees; t++)
		if (s->trees[t].depth > s->max_depth)
			s->max_depth = s->trees[t].depth;
}

static void fit_free(struct fit *f)
{
	struct trainer *tr = &f->tr;
	for (size_t i = 0; i < tr->npool; i++)
		free(tr->pool[i]);
	free(tr->pool);
	free(tr->cands);
	free(tr->sbin);
	free(tr->scratch);
	free(tr->off);
	free(tr->gp);
	free(tr->xc);
	free(tr->pscratch);
	free(tr->ci);
	free(tr->rp);
	free(tr->dflt);
	free(tr->score);
	free(tr->rows);
	free(tr->tmp);
	free(f->xb);
	free(f->is_train);
	free(f->train);
	free(f->val);
	free(f->others);
	ch_bins_free(&f->bins);
}

/* Boost tr.n_trees trees (fewer with early stopping) on the training rows. */
static churn_status fit_trees(struct fit *f, gbm_state *s, const churn_params *p)
{
	struct trainer *tr = &f->tr;
	churn_status st;
	size_t nsub = tr->subsample < 1 ? (size_t)llround(tr->subsample * (double)f->ntrain) : f->ntrain;
	if (nsub < 1)
		nsub = 1;
	struct early e = {.best_loss = INFINITY};
	for (size_t it = 0; it < tr->n_trees; it++) {
		if (!ch_progress(p, "gbm", it, tr->n_trees))
			return ch_fail(CHURN_E_STATE, "gbm: cancelled after %zu trees", it);
		size_t nrows, nothers;
		fit_sample(f, it, nsub, &nrows, &nothers);
		if ((st = grow_tree(tr, nrows, &s->trees[it])))
			return st;
		s->ntrees = it + 1;
		if (s->trees[it].depth > s->max_depth)
			s->max_depth = s->trees[it].depth;
		if ((st = update_scores(tr, &s->trees[it], f->is_train, nrows, f->others, nothers)))
			return st;
		if (tr->early) {
			bool stop = false;
			if ((st = fit_early_stop(f, it, &e, &stop)))
				return st;
			if (stop)
				break;
		}
	}
	if (tr->early)
		keep_trees(s, e.best_iter);
	return CHURN_OK;
}

static churn_status gbm_fit(void **out, const churn_matrix *Xm, const churn_params *p, ch_fit_info *info)
{
	struct fit f = {0};
	struct trainer *tr = &f.tr;
	gbm_state *s = NULL;
	size_t n = churn_matrix_get_row_count(Xm), nf = churn_matrix_get_column_count(Xm);
	const uint8_t *y = churn_matrix_get_labels(Xm);
	if (!y)
		return ch_fail(CHURN_E_INVALID_ARG, "gbm: the training matrix has no labels");
	if (n > GBM_MAX_ROWS)
		return ch_fail(CHURN_E_LIMIT, "gbm: %zu rows (at most %zu)", n, GBM_MAX_ROWS);
	tr->n = n;
	tr->nf = nf;
	tr->y = y;
	churn_status st = fit_params(&f, p);
	if (st)
		return st;
	if ((st = fit_setup(&f, churn_matrix_get_data_const(Xm))) || (st = fit_split(&f)))
		goto out;
	if (!(s = calloc(1, sizeof(*s))) || !(s->trees = calloc(tr->n_trees, sizeof(ch_tree)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	s->nfeat = nf;
	s->init = log((double)f.npos / (double)(f.ntrain - f.npos));
	for (size_t i = 0; i < n; i++)
		tr->score[i] = s->init;
	if ((st = update_scores(tr, NULL, f.is_train, 0, NULL, 0)) || (st = fit_trees(&f, s, p)))
		goto out;
	ch_progress(p, "gbm", tr->n_trees, tr->n_trees);
	ch_log(p, CHURN_LOG_DEBUG, "gbm: %zu trees on %zu rows x %zu features (%zu bins), %zu threads", s->ntrees,
	       f.ntrain, nf, tr->nbt, tr->nthreads);
	info->iterations = s->ntrees;
	info->converged = true;
	s->qs = ch_qs_build(s->trees, s->ntrees); /* NULL (the walk) when the trees do not qualify */
	*out = s;
	s = NULL;
out:
	gbm_free(s);
	fit_free(&f);
	return st;
}

/* ---------------------------------------------------------------- ops */

static double gbm_margin(const void *p, const double *row, size_t ncols)
{
	(void)ncols;
	const gbm_state *s = p;
	double m = s->init;
	for (size_t t = 0; t < s->ntrees; t++)
		m += ch_tree_predict(&s->trees[t], row);
	return m;
}

static bool gbm_ensemble(const void *p, ch_ensemble *out)
{
	const gbm_state *s = p;
	*out = (ch_ensemble){s->trees, s->ntrees, s->init, false, s->qs};
	return true;
}

/* Batch prediction: the same bits as gbm_margin() row by row (sums in tree order). */
static void gbm_predict(const void *p, const double *X, size_t nrows, size_t ncols, double *out)
{
	ch_ensemble e;
	gbm_ensemble(p, &e);
	ch_ensemble_predict(&e, X, nrows, ncols, out);
}

static churn_status gbm_contrib(const void *p, const double *row, size_t ncols, double *out)
{
	const gbm_state *s = p;
	ch_shap_elem *scratch = malloc(ch_tree_shap_scratch(s->max_depth) * sizeof(*scratch));
	if (!scratch)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	memset(out, 0, (ncols + 1) * sizeof(double));
	double bias = s->init;
	for (size_t t = 0; t < s->ntrees; t++) {
		ch_tree_shap(&s->trees[t], row, out, scratch);
		bias += s->trees[t].nodes[0].value;
	}
	out[ncols] = bias;
	free(scratch);
	return CHURN_OK;
}

static churn_status gbm_importance(const void *p, double *out, size_t ncols)
{
	const gbm_state *s = p;
	memset(out, 0, ncols * sizeof(double));
	double tot = 0;
	for (size_t t = 0; t < s->ntrees; t++)
		for (size_t k = 0; k < s->trees[t].n; k++) {
			const ch_node *nd = &s->trees[t].nodes[k];
			if (nd->feature >= 0 && (size_t)nd->feature < ncols) {
				out[nd->feature] += nd->gain;
				tot += nd->gain;
			}
		}
	if (tot > 0)
		for (size_t j = 0; j < ncols; j++)
			out[j] /= tot;
	return CHURN_OK;
}

static cJSON *gbm_to_cjson(const void *p, size_t ncols, const char *const *names)
{
	(void)ncols;
	(void)names;
	const gbm_state *s = p;
	cJSON *o = cJSON_CreateObject();
	if (!o || !ch_json_add_number(o, "init", s->init) || !ch_trees_add_cjson(o, s->trees, s->ntrees)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static churn_status gbm_from_cjson(const cJSON *part, size_t ncols, void **out)
{
	churn_status st;
	if (!cJSON_IsObject(part))
		return ch_fail(CHURN_E_FORMAT, "model artifact: gbm: not an object");
	gbm_state *s = calloc(1, sizeof(*s));
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	s->nfeat = ncols;
	if ((st = ch_json_get_double(part, "init", "model artifact: gbm", &s->init)))
		goto fail;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(part, "trees");
	if (!cJSON_IsArray(arr)) {
		st = ch_fail(CHURN_E_FORMAT, "model artifact: gbm: field 'trees' is missing or not an array");
		goto fail;
	}
	int nt = cJSON_GetArraySize(arr);
	if (nt < 0 || nt > GBM_MAX_TREES) {
		st = ch_fail(CHURN_E_FORMAT, "model artifact: gbm: %d trees (at most %d)", nt, GBM_MAX_TREES);
		goto fail;
	}
	if (!(s->trees = calloc(nt ? (size_t)nt : 1, sizeof(ch_tree)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	const cJSON *tj;
	cJSON_ArrayForEach(tj, arr) {
		char where[64];
		snprintf(where, sizeof where, "model artifact: gbm: trees[%zu]", s->ntrees);
		if ((st = ch_tree_from_cjson(tj, ncols, where, &s->trees[s->ntrees])))
			goto fail;
		if (s->trees[s->ntrees].depth > s->max_depth)
			s->max_depth = s->trees[s->ntrees].depth;
		s->ntrees++;
	}
	s->qs = ch_qs_build(s->trees, s->ntrees);
	*out = s;
	return CHURN_OK;
fail:
	gbm_free(s);
	return st;
}

const struct ch_model_ops ch_gbm_ops = {
	.kind = CHURN_MODEL_GBM,
	.name = "gbm",
	.score_is_logit = true,
	.fit = gbm_fit,
	.margin = gbm_margin,
	.predict = gbm_predict,
	.contrib = gbm_contrib,
	.importance = gbm_importance,
	.to_cjson = gbm_to_cjson,
	.from_cjson = gbm_from_cjson,
	.free = gbm_free,
	.ensemble = gbm_ensemble,
};
