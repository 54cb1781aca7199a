/*
 * The stratified sample of train.max_rows, kept while the CSV is read
 * (churn_csv_read_file_sampled, churn/csv.h), so that memory follows the
 * sample, not the input.
 *
 * One reservoir per class of the target (Algorithm R: the k-th row of a
 * class replaces a uniformly drawn member of its reservoir with probability
 * max_rows / k), each of at most max_rows rows, so that whatever the shares
 * of the classes, each reservoir is a uniform sample of its class. At the
 * end each class keeps round(max_rows x its rows / all rows) (largest
 * remainders, so that the quotas add up to max_rows), drawn uniformly from
 * its reservoir (a uniform sample of a uniform sample is uniform). The
 * draws come from one seeded stream (split.seed), so a file and a seed give
 * one sample.
 *
 * Rows enter the reader's columns at the end (csv-infer.c) and leave by
 * compaction: an evicted row is marked dead, and the dead rows are dropped
 * once they are a quarter of the rows held, so the columns hold at most
 * about 4/3 of the reservoirs (up to max_rows rows per class: the final
 * shares are known only at the end); the rows keep the file's order. Every row, kept or
 * not, goes through the column types (a row not kept is stored, then taken
 * back), so the types are those of the whole file and the categorical
 * dictionaries hold the levels of every row read, also of rows not in the
 * sample.
 */
#include "churn/csv.h"

#include <stdlib.h>
#include <string.h>

#include "csv-private.h"
#include "params-private.h"
#include "rng-private.h"

#define MAX_CLASSES 16                  /* a target with more values is not a churn label */
#define SAMPLE_STREAM 0x73616d706c65ull /* "sample": the RNG stream of the draws */

typedef struct stratum {
	char *key;      /* the target's text (NULL: missing) */
	size_t len;
	size_t seen;    /* rows of the class read */
	size_t *slot;   /* its reservoir: stored rows (min(seen, cap) of them) */
	size_t slot_cap;
} stratum;

struct ch_csv_sampler {
	size_t cap;          /* train.max_rows */
	const char *target;  /* data.target (borrowed from the params) */
	size_t tj;           /* its column */
	ch_rng rng;
	stratum cls[MAX_CLASSES];
	size_t ncls;
	unsigned char *dead; /* per stored row */
	size_t *line;        /* per stored row: the line it starts on */
	size_t row_cap, ndead;
};

void ch_csv_sample_free(struct ch_csv_sampler *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->ncls; k++) {
		free(s->cls[k].key);
		free(s->cls[k].slot);
	}
	free(s->dead);
	free(s->line);
	free(s);
}

churn_status ch_csv_sample_header(rd *r)
{
	struct ch_csv_sampler *s = r->sample;
	size_t hit = SIZE_MAX, nci = 0;
	for (size_t j = 0; j < r->ncols; j++) {
		if (!strcmp(r->cols[j].name, s->target)) {
			hit = j;
			break;
		}
		if (strlen(r->cols[j].name) == strlen(s->target) && ch_csv_ieq(r->cols[j].name, s->target, strlen(s->target)) &&
		    nci++ == 0)
			s->tj = j;
	}
	if (hit == SIZE_MAX && nci != 1)
		return ch_fail(CHURN_E_NOTFOUND, "%s: no target column '%s' (data.target) to stratify the sample of "
		               "train.max_rows by", r->name, s->target);
	if (hit != SIZE_MAX)
		s->tj = hit;
	return CHURN_OK;
}

/* The class of the current record's target cell (a new one when first seen). */
static churn_status find_class(rd *r, stratum **out)
{
	struct ch_csv_sampler *s = r->sample;
	span *f = &r->sp[s->tj];
	churn_status st;
	if ((f->flags & F_ESC) && (st = ch_csv_unescape_field(r, f, s->tj)))
		return st;
	bool missing = ch_csv_is_missing(r, f->s, f->len);
	for (size_t k = 0; k < s->ncls; k++) {
		stratum *c = &s->cls[k];
		if (missing ? !c->key : (c->key && c->len == f->len && !memcmp(c->key, f->s, f->len))) {
			*out = c;
			return CHURN_OK;
		}
	}
	if (s->ncls == MAX_CLASSES) {
		char msg[200];
		snprintf(msg, sizeof msg, "the target column '%.60s' has more than %d distinct values: train.max_rows "
		         "samples each class of a churn label", r->cols[s->tj].name, MAX_CLASSES);
		return ch_csv_fail_at(r, CHURN_E_PARSE, s->tj + 1, msg);
	}
	stratum *c = &s->cls[s->ncls];
	if (!missing && !(c->key = ch_strndup(f->s, f->len)))
		return ch_csv_nomem();
	c->len = missing ? 0 : f->len;
	s->ncls++;
	*out = c;
	return CHURN_OK;
}

/* Room for one more stored row in the per-row arrays, and in c's reservoir for entry k. */
static bool room(struct ch_csv_sampler *s, size_t nrows, stratum *c, size_t k)
{
	if (nrows >= s->row_cap) {
		size_t nc = s->row_cap ? s->row_cap * 2 : 1024;
		unsigned char *d = realloc(s->dead, nc);
		if (d)
			s->dead = d;
		size_t *l = realloc(s->line, nc * sizeof(*l));
		if (l)
			s->line = l;
		if (!d || !l)
			return false;
		s->row_cap = nc;
	}
	if (k >= c->slot_cap) {
		size_t nc = c->slot_cap ? c->slot_cap * 2 : 256;
		if (nc > s->cap)
			nc = s->cap;
		size_t *g = realloc(c->slot, nc * sizeof(*g));
		if (!g)
			return false;
		c->slot = g;
		c->slot_cap = nc;
	}
	return true;
}

/* Drop the dead rows from the columns and the per-row arrays; the reservoirs follow. */
static churn_status compact(rd *r)
{
	struct ch_csv_sampler *s = r->sample;
	size_t n = r->nrows, w = 0;
	size_t *rank = malloc((n ? n : 1) * sizeof(*rank));
	if (!rank)
		return ch_csv_nomem();
	for (size_t i = 0; i < n; i++) {
		rank[i] = w;
		if (!s->dead[i])
			s->line[w++] = s->line[i];
	}
	ch_csv_compact(r, s->dead);
	for (size_t k = 0; k < s->ncls; k++) {
		stratum *c = &s->cls[k];
		size_t m = c->seen < s->cap ? c->seen : s->cap;
		for (size_t q = 0; q < m; q++)
			c->slot[q] = rank[c->slot[q]];
	}
	memset(s->dead, 0, w);
	s->ndead = 0;
	free(rank);
	return CHURN_OK;
}

churn_status ch_csv_sample_admit(rd *r, bool *keep)
{
	struct ch_csv_sampler *s = r->sample;
	stratum *c = NULL;
	churn_status st = find_class(r, &c);
	if (st)
		return st;
	size_t k = c->seen++;
	if (k >= s->cap) {
		k = (size_t)ch_rng_below(&s->rng, (uint64_t)c->seen);
		if (k >= s->cap) {
			*keep = false;
			return CHURN_OK;
		}
		s->dead[c->slot[k]] = 1;
		s->ndead++;
	}
	/* a quarter of the rows held are dead: drop them (the columns hold at most 4/3 of the reservoirs; a row
	 * moves about 4 times in all) */
	if (s->ndead > 1024 && 4 * s->ndead > r->nrows && (st = compact(r)))
		return st;
	if (!room(s, r->nrows, c, k))
		return ch_csv_nomem();
	c->slot[k] = r->nrows;
	s->dead[r->nrows] = 0;
	s->line[r->nrows] = r->line;
	*keep = true;
	return CHURN_OK;
}

/*
 * Each class's quota of the cap: floor(cap x seen / n), and one more for the
 * classes of the largest remainders (the first of equals) until they add up
 * to cap. n > cap, so no quota passes its class's rows or reservoir.
 */
static void quotas(const struct ch_csv_sampler *s, size_t n, size_t *q)
{
	uint64_t rem[MAX_CLASSES];
	size_t total = 0;
	for (size_t k = 0; k < s->ncls; k++) {
		/* cap and seen are below 2^32 (csv.max_rows): the product fits */
		uint64_t prod = (uint64_t)s->cap * (uint64_t)s->cls[k].seen;
		q[k] = (size_t)(prod / n);
		rem[k] = prod % n;
		total += q[k];
	}
	while (total < s->cap) {
		size_t best = 0;
		for (size_t k = 1; k < s->ncls; k++)
			if (rem[k] > rem[best])
				best = k;
		q[best]++;
		rem[best] = 0;
		total++;
	}
}

/* From each reservoir, a uniform draw of its quota (partial Fisher-Yates); the others die. */
static void keep_quotas(rd *r, const size_t *q)
{
	struct ch_csv_sampler *s = r->sample;
	for (size_t k = 0; k < s->ncls; k++) {
		stratum *c = &s->cls[k];
		size_t m = c->seen < s->cap ? c->seen : s->cap;
		for (size_t a = 0; a < q[k] && a < m; a++) {
			size_t b = a + (size_t)ch_rng_below(&s->rng, (uint64_t)(m - a));
			size_t t = c->slot[a];
			c->slot[a] = c->slot[b];
			c->slot[b] = t;
		}
		for (size_t a = q[k]; a < m; a++) {
			s->dead[c->slot[a]] = 1;
			s->ndead++;
		}
	}
}

/* r->lines from the kept rows' lines: a break where a row is not on the line after the one before. */
static churn_status line_breaks(rd *r)
{
	struct ch_csv_sampler *s = r->sample;
	size_t expect = 2;
	for (size_t i = 0; i < r->nrows; i++, expect++) {
		if (s->line[i] == expect)
			continue;
		if (r->nlines == r->lines_cap) {
			size_t cap = r->lines_cap ? 2 * r->lines_cap : 64;
			ch_line_break *g = realloc(r->lines, cap * sizeof(*g));
			if (!g)
				return ch_csv_nomem();
			r->lines = g;
			r->lines_cap = cap;
		}
		r->lines[r->nlines++] = (ch_line_break){i, s->line[i]};
		expect = s->line[i];
	}
	return CHURN_OK;
}

churn_status ch_csv_sample_finish(rd *r)
{
	struct ch_csv_sampler *s = r->sample;
	churn_status st;
	if (r->nread > s->cap) {
		size_t q[MAX_CLASSES];
		quotas(s, r->nread, q);
		keep_quotas(r, q);
	}
	if (s->ndead && (st = compact(r)))
		return st;
	return line_breaks(r);
}

struct ch_csv_sampler *ch_csv_sampler_new(const churn_params *p)
{
	struct ch_csv_sampler *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = (size_t)churn_params_get_int(p, CHURN_KEY_TRAIN_MAX_ROWS);
	s->target = churn_params_get_str(p, CHURN_KEY_DATA_TARGET);
	ch_rng_seed(&s->rng, (uint64_t)churn_params_get_int(p, CHURN_KEY_SPLIT_SEED), SAMPLE_STREAM);
	return s;
}
