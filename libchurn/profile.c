/*
 * Data profile: per-column statistics and the target summary, JSON and CSV
 * output, JSON read-back. Numeric quantiles come from GSL on a radix-sorted
 * copy of the non-missing values (GSL is only called with n >= 1, so its
 * abort-by-default error handler is never reached).
 */
#include "churn/profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_statistics_double.h> /* quantiles; GSL is only called with n >= 1 */

#include "buf-private.h"
#include "core-private.h"
#include "dataset-private.h"
#include "prep-private.h"
#include "screen-private.h"
#include "target-private.h"

#define PROFILE_JSON_MAX (256u << 20)

typedef struct prof_level {
	char *value;
	size_t count;
} prof_level;

typedef struct prof_col {
	char *name;
	churn_col_type type;
	size_t missing, count;
	double mean, std, min, p25, p50, p75, max;
	prof_level *levels;
	size_t nlevels;
	size_t distinct;
	bool distinct_exact;
	char *example;
} prof_col;

struct churn_profile {
	size_t nrows, ncols;
	prof_col *cols;
	bool has_target;
	char *target_name, *positive;
	size_t positive_count, target_count;
	double rate;
	char **notes;
	size_t nnotes;
};

/* ---- small helpers ----------------------------------------------------- */

static churn_status add_note(churn_profile *pr, char *note)
{
	if (!note)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char **nn = realloc(pr->notes, (pr->nnotes + 1) * sizeof(*nn));
	if (!nn) {
		free(note);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	pr->notes = nn;
	pr->notes[pr->nnotes++] = note;
	return CHURN_OK;
}

static void col_init(prof_col *c)
{
	memset(c, 0, sizeof(*c));
	c->mean = c->std = c->min = c->p25 = c->p50 = c->p75 = c->max = NAN;
	c->distinct_exact = true;
}

void churn_profile_free(churn_profile *pr)
{
	if (!pr)
		return;
	for (size_t j = 0; j < pr->ncols && pr->cols; j++) {
		prof_col *c = &pr->cols[j];
		free(c->name);
		for (size_t k = 0; k < c->nlevels; k++)
			free(c->levels[k].value);
		free(c->levels);
		free(c->example);
	}
	free(pr->cols);
	free(pr->target_name);
	free(pr->positive);
	for (size_t k = 0; k < pr->nnotes; k++)
		free(pr->notes[k]);
	free(pr->notes);
	free(pr);
}

/* ---- numeric columns: LSD radix sort of the IEEE bits, then GSL ---------- */

static inline uint64_t dbl_key(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return (u & UINT64_C(0x8000000000000000)) ? ~u : (u | UINT64_C(0x8000000000000000));
}

static inline double key_dbl(uint64_t k)
{
	uint64_t u = (k & UINT64_C(0x8000000000000000)) ? (k & ~UINT64_C(0x8000000000000000)) : ~k;
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

/*
 * LSD radix sort of a[0..n) on bytes [d_lo, d_hi) (byte 0 least significant)
 * using scratch b; passes where every key has the same byte are skipped.
 * Returns a or b, whichever holds the result. hist: (d_hi - d_lo) x 256 zeros.
 */
static uint64_t *lsd_sort(uint64_t *a, uint64_t *b, size_t n, int d_lo, int d_hi, size_t (*hist)[256])
{
	int nd = d_hi - d_lo;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i] >> (8 * d_lo);
		for (int d = 0; d < nd; d++)
			hist[d][(k >> (8 * d)) & 0xff]++;
	}
	for (int d = 0; d < nd; d++) {
		size_t *h = hist[d];
		int sh = 8 * (d_lo + d);
		if (h[(a[0] >> sh) & 0xff] == n)
			continue; /* every key has the same byte: nothing to do */
		size_t sum = 0;
		for (int v = 0; v < 256; v++) {
			size_t c = h[v];
			h[v] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t k = a[i];
			b[h[(k >> sh) & 0xff]++] = k;
		}
		uint64_t *t = a;
		a = b;
		b = t;
	}
	return a;
}

/*
 * LSD sort of a[0..n) on bits [32, 64) using scratch b; returns a or b. When
 * the top byte is the same in every key (doubles of one sign and similar
 * magnitude), bits [32, 56) take two passes of 12 bits instead of three of
 * 8. NULL when out of memory.
 */
static uint64_t *sort_top32(uint64_t *a, uint64_t *b, size_t n, size_t (*hist)[256])
{
	size_t *h = calloc(2 * 4096, sizeof(*h));
	if (!h)
		return NULL;
	size_t *lo = h, *hi = h + 4096;
	uint64_t top = a[0] >> 56;
	bool one_top = true;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i];
		lo[(k >> 32) & 0xfff]++;
		hi[(k >> 44) & 0xfff]++;
		one_top &= (k >> 56) == top;
	}
	if (!one_top) {
		free(h);
		return lsd_sort(a, b, n, 4, 8, hist);
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t *c = pass ? hi : lo;
		int sh = pass ? 44 : 32;
		if (c[(a[0] >> sh) & 0xfff] == n)
			continue;
		size_t sum = 0;
		for (size_t v = 0; v < 4096; v++) {
			size_t t = c[v];
			c[v] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t k = a[i];
			b[c[(k >> sh) & 0xfff]++] = k;
		}
		uint64_t *t = a;
		a = b;
		b = t;
	}
	free(h);
	return a;
}

/*
 * Sort keys a[0..n) using scratch b (same size); returns a or b. LSD passes
 * on the top 32 bits (for doubles: sign, exponent and 20 mantissa bits, so
 * prices and counts are mostly resolved), then each run of equal top bits is
 * finished on its own: skipped when all equal (integers and other repeated
 * values), insertion sort when short, LSD on the low 4 bytes otherwise.
 * About 3-4 passes over the data instead of 8.
 */
static uint64_t *radix_sort(uint64_t *a, uint64_t *b, size_t n)
{
	size_t (*hist)[256] = calloc(5, sizeof(*hist));
	if (!hist)
		return NULL;
	uint64_t *s = sort_top32(a, b, n, hist);
	if (!s) {
		free(hist);
		return NULL;
	}
	uint64_t *other = s == a ? b : a;
	for (size_t i = 0; i < n;) {
		uint64_t top = s[i] >> 32;
		size_t j = i + 1;
		bool same = true;
		while (j < n && (s[j] >> 32) == top) {
			same = same && s[j] == s[i];
			j++;
		}
		size_t len = j - i;
		if (len > 1 && !same) {
			uint64_t *g = s + i;
			if (len <= 48) {
				for (size_t x = 1; x < len; x++) {
					uint64_t k = g[x];
					size_t y = x;
					for (; y > 0 && g[y - 1] > k; y--)
						g[y] = g[y - 1];
					g[y] = k;
				}
			} else {
				memset(hist, 0, 5 * sizeof(*hist));
				uint64_t *r = lsd_sort(g, other + i, len, 0, 4, hist);
				if (r != g)
					memcpy(g, r, len * sizeof(*g));
			}
		}
		i = j;
	}
	free(hist);
	return s;
}

/*
 * Sum of d[i] (sq false) or of (d[i] - c)^2 (sq true): blocks of 256 with four
 * accumulators, block sums added with Kahan compensation (the error stays a
 * few ulps per block instead of growing with n). Vectorizable, unlike GSL's
 * running-mean recurrence (one division per element, 5x slower on 1M rows);
 * the results are the quantities of gsl_stats_mean and gsl_stats_sd_m.
 */
static double block_sum(const double *d, size_t m, double c, bool sq)
{
	double total = 0, comp = 0; /* Kahan over the block sums */
	for (size_t b0 = 0; b0 < m; b0 += 256) {
		size_t b1 = b0 + 256 < m ? b0 + 256 : m, i = b0;
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		if (sq) {
			for (; i + 4 <= b1; i += 4) {
				double x0 = d[i] - c, x1 = d[i + 1] - c, x2 = d[i + 2] - c, x3 = d[i + 3] - c;
				s0 += x0 * x0;
				s1 += x1 * x1;
				s2 += x2 * x2;
				s3 += x3 * x3;
			}
			for (; i < b1; i++)
				s0 += (d[i] - c) * (d[i] - c);
		} else {
			for (; i + 4 <= b1; i += 4) {
				s0 += d[i];
				s1 += d[i + 1];
				s2 += d[i + 2];
				s3 += d[i + 3];
			}
			for (; i < b1; i++)
				s0 += d[i];
		}
		double y = ((s0 + s1) + (s2 + s3)) - comp;
		double t = total + y;
		comp = (t - total) - y;
		total = t;
	}
	return total;
}

/*
 * Few distinct values (integers, prices): count each distinct key in a small
 * open-addressing table while filtering out the missing cells, sort the
 * distinct keys and write the sorted column by expanding the counts -- the
 * same sorted array a full sort gives, in about one pass instead of 4-5.
 * More than NUM_DISTINCT_MAX distinct keys: fall back to the radix sort.
 */
#define NUM_DISTINCT_MAX 4096u
#define NUM_TAB_BITS 13
#define NUM_TAB_SIZE (1u << NUM_TAB_BITS)

typedef struct num_tab {
	uint64_t key[NUM_TAB_SIZE]; /* 0 = empty (dbl_key of a non-NaN double is never 0) */
	uint32_t cnt[NUM_TAB_SIZE];
	uint64_t distinct[NUM_DISTINCT_MAX];
	uint32_t dcnt[NUM_DISTINCT_MAX];
} num_tab;

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return a < b ? -1 : a > b;
}

/*
 * Filters v[0..n) into buf as keys; returns the count m. When tab is given and
 * the column has at most NUM_DISTINCT_MAX distinct values (and m < 2^32),
 * *nd is their number and tab->key/cnt hold them; else *nd = 0.
 */
static size_t num_filter_count(const double *v, size_t n, uint64_t *buf, num_tab *tab, size_t *nd)
{
	size_t m = 0, i = 0, d = 0;
	*nd = 0;
	if (tab && n < UINT32_MAX) {
		memset(tab->key, 0, sizeof tab->key);
		for (; i < n; i++) {
			if (isnan(v[i]))
				continue;
			uint64_t k = dbl_key(v[i]);
			buf[m++] = k;
			size_t h = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - NUM_TAB_BITS));
			while (tab->key[h] != k && tab->key[h] != 0)
				h = (h + 1) & (NUM_TAB_SIZE - 1);
			if (tab->key[h] == k) {
				tab->cnt[h]++;
				continue;
			}
			if (d == NUM_DISTINCT_MAX) {
				i++;
				d = 0;
				break; /* too many distinct values */
			}
			tab->key[h] = k;
			tab->cnt[h] = 1;
			d++;
		}
		if (d) {
			*nd = d;
			return m;
		}
	}
	for (; i < n; i++)
		if (!isnan(v[i]))
			buf[m++] = dbl_key(v[i]);
	return m;
}

/* buf/scratch hold at least n (the row count) elements; tab may be NULL. */
static churn_status profile_numeric(prof_col *c, const double *v, size_t n, uint64_t *buf, uint64_t *scratch,
                                    num_tab *tab)
{
	size_t nd = 0;
	size_t m = num_filter_count(v, n, buf, tab, &nd);
	c->count = m;
	c->missing = n - m;
	if (m == 0)
		return CHURN_OK;
	uint64_t *sorted;
	if (nd) {
		size_t d = 0;
		for (size_t h = 0; h < NUM_TAB_SIZE; h++)
			if (tab->key[h])
				tab->distinct[d++] = tab->key[h];
		qsort(tab->distinct, d, sizeof(*tab->distinct), cmp_u64);
		for (size_t k = 0; k < d; k++) { /* counts in sorted order */
			uint64_t key = tab->distinct[k];
			size_t h = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - NUM_TAB_BITS));
			while (tab->key[h] != key)
				h = (h + 1) & (NUM_TAB_SIZE - 1);
			tab->dcnt[k] = tab->cnt[h];
		}
		double *out = (double *)(void *)buf;
		size_t o = 0;
		for (size_t k = 0; k < d; k++) {
			double x = key_dbl(tab->distinct[k]);
			for (uint32_t r = 0; r < tab->dcnt[k]; r++)
				out[o++] = x;
		}
		sorted = buf;
	} else {
		sorted = radix_sort(buf, scratch, m);
		if (!sorted)
			return ch_fail(CHURN_E_NOMEM, "profile: out of memory sorting column %s", c->name);
		/* back to doubles in place (same size; malloc'd memory takes the type stored by memcpy) */
		for (size_t i = 0; i < m; i++) {
			double x = key_dbl(sorted[i]);
			memcpy(&sorted[i], &x, sizeof x);
		}
	}
	const double *d = (const double *)(void *)sorted;
	c->mean = block_sum(d, m, 0, false) / (double)m;
	c->std = m >= 2 ? sqrt(block_sum(d, m, c->mean, true) / (double)(m - 1)) : NAN;
	c->min = d[0];
	c->max = d[m - 1];
	c->p25 = gsl_stats_quantile_from_sorted_data(d, 1, m, 0.25);
	c->p50 = gsl_stats_quantile_from_sorted_data(d, 1, m, 0.50);
	c->p75 = gsl_stats_quantile_from_sorted_data(d, 1, m, 0.75);
	return CHURN_OK;
}

/* ---- categorical columns ------------------------------------------------ */

static int cmp_level(const void *pa, const void *pb)
{
	const prof_level *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->value, b->value);
}

static churn_status profile_categorical(prof_col *c, const churn_dataset *ds, size_t j, size_t n)
{
	size_t nl = churn_dataset_get_level_count(ds, j);
	const int32_t *codes = churn_dataset_get_codes(ds, j);
	/* Four interleaved counter sets break the store-to-load chain on repeated codes. */
	size_t stride = nl + 1;
	size_t *cnt = calloc(4 * stride, sizeof(*cnt));
	if (!cnt)
		return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
	size_t i = 0;
#define CAT_SLOT(k) ((k) >= 0 && (size_t)(k) < nl ? (size_t)(k) : nl)
	for (; i + 4 <= n; i += 4) {
		cnt[CAT_SLOT(codes[i])]++;
		cnt[stride + CAT_SLOT(codes[i + 1])]++;
		cnt[2 * stride + CAT_SLOT(codes[i + 2])]++;
		cnt[3 * stride + CAT_SLOT(codes[i + 3])]++;
	}
	for (; i < n; i++)
		cnt[CAT_SLOT(codes[i])]++;
#undef CAT_SLOT
	for (size_t k = 0; k < stride; k++)
		cnt[k] += cnt[stride + k] + cnt[2 * stride + k] + cnt[3 * stride + k];
	c->missing = cnt[nl];
	c->count = n - c->missing;
	size_t used = 0;
	for (size_t k = 0; k < nl; k++)
		used += cnt[k] > 0;
	c->levels = calloc(used ? used : 1, sizeof(*c->levels));
	if (!c->levels) {
		free(cnt);
		return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
	}
	for (size_t k = 0; k < nl; k++) {
		if (!cnt[k])
			continue;
		prof_level *l = &c->levels[c->nlevels];
		l->value = ch_strdup(churn_dataset_get_level(ds, j, k));
		l->count = cnt[k];
		if (!l->value) {
			free(cnt);
			return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
		}
		c->nlevels++;
	}
	free(cnt);
	qsort(c->levels, c->nlevels, sizeof(*c->levels), cmp_level);
	c->distinct = c->nlevels;
	return CHURN_OK;
}

/* ---- text columns ------------------------------------------------------ */

static inline uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

#define TXT_BUCKET_BITS 11
#define TXT_NBUCKETS (1u << TXT_BUCKET_BITS)
#define TXT_SET_MAX 8192u /* slots of the per-bucket set; larger buckets are radix sorted */

/*
 * Distinct values of h[0..len), all with the same top TXT_BUCKET_BITS bits:
 * an open-addressing set on the low bits (in cache) when the bucket is small,
 * else a radix sort (scratch: len elements) and a count of the runs.
 */
static size_t bucket_distinct(uint64_t *h, size_t len, uint64_t *scratch, uint64_t *set, bool *nomem)
{
	if (len < 2)
		return len;
	size_t size = 16;
	while (size < 2 * len && size < TXT_SET_MAX)
		size *= 2;
	if (2 * len > size) {
		const uint64_t *s = radix_sort(h, scratch, len);
		if (!s) {
			*nomem = true;
			return 0;
		}
		size_t d = 1;
		for (size_t i = 1; i < len; i++)
			d += s[i] != s[i - 1];
		return d;
	}
	memset(set, 0, size * sizeof(*set));
	size_t mask = size - 1, d = 0;
	bool zero = false; /* 0 marks an empty slot, so a hash of 0 is tracked here */
	for (size_t i = 0; i < len; i++) {
		uint64_t k = h[i];
		if (!k) {
			d += !zero;
			zero = true;
			continue;
		}
		size_t x = (size_t)k & mask;
		while (set[x] != k && set[x] != 0)
			x = (x + 1) & mask;
		if (!set[x]) {
			set[x] = k;
			d++;
		}
	}
	return d;
}

/*
 * Distinct values: the number of distinct 64-bit hashes of the non-missing
 * cells. The hashes are scattered by their top bits into buckets (one pass),
 * then each bucket is counted on its own in cache.
 */
static churn_status profile_text(prof_col *c, const churn_dataset *ds, size_t j, size_t n, uint64_t *buf,
                                 uint64_t *scratch)
{
	const char *example = NULL;
	size_t m = 0;
	size_t *hist = calloc(TXT_NBUCKETS + 1, sizeof(*hist));
	uint64_t *set = malloc(TXT_SET_MAX * sizeof(*set));
	if (!hist || !set) {
		free(hist);
		free(set);
		return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = churn_dataset_get_text(ds, j, i);
		if (!s)
			continue;
		if (!example)
			example = s;
		uint64_t h = hash_str(s);
		hist[h >> (64 - TXT_BUCKET_BITS)]++;
		buf[m++] = h;
	}
	c->count = m;
	c->missing = n - m;
	c->distinct = 0;
	c->distinct_exact = true;
	bool nomem = false;
	if (m) {
		size_t sum = 0; /* hist[b] becomes the start of bucket b; hist[TXT_NBUCKETS] = m */
		for (size_t b = 0; b <= TXT_NBUCKETS; b++) {
			size_t cnt = hist[b];
			hist[b] = sum;
			sum += cnt;
		}
		for (size_t i = 0; i < m; i++) {
			uint64_t h = buf[i];
			scratch[hist[h >> (64 - TXT_BUCKET_BITS)]++] = h;
		}
		/* hist[b] is now the end of bucket b */
		size_t start = 0;
		for (size_t b = 0; b < TXT_NBUCKETS && !nomem; b++) {
			size_t end = hist[b];
			c->distinct += bucket_distinct(scratch + start, end - start, buf + start, set, &nomem);
			start = end;
		}
	}
	free(hist);
	free(set);
	if (nomem)
		return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
	if (example && !(c->example = ch_strdup(example)))
		return ch_fail(CHURN_E_NOMEM, "profile: out of memory");
	return CHURN_OK;
}

/* ---- target ------------------------------------------------------------- */

static churn_status set_target(churn_profile *pr, const char *name, const char *positive, size_t pos, size_t count)
{
	pr->target_name = ch_strdup(name);
	pr->positive = ch_strdup(positive);
	if (!pr->target_name || !pr->positive)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	pr->has_target = true;
	pr->positive_count = pos;
	pr->target_count = count;
	pr->rate = (double)pos / (double)count;
	return CHURN_OK;
}

/* The screening's notes (screen-private.h) on the rows with a label: the profile names what training leaves out. */
static churn_status profile_screen(churn_profile *pr, const churn_dataset *ds, const churn_params *p, size_t tj,
                                   const ch_target *t)
{
	char buf[40], **notes = NULL;
	size_t nnotes = 0;
	int8_t *y = malloc(ds->nrows ? ds->nrows : 1);
	if (!y)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < ds->nrows; i++)
		y[i] = (int8_t)ch_label_of_text(ch_prep_cell_text(&ds->cols[tj], i, buf, sizeof(buf)), t->numeric,
		                                t->pos_num, t->neg_num, t->positive, t->negative);
	churn_status st = ch_screen_notes(ds, p, tj, y, &notes, &nnotes, NULL);
	for (size_t k = 0; k < nnotes; k++) {
		if (!st)
			st = add_note(pr, notes[k]);
		else
			free(notes[k]);
	}
	free(notes);
	free(y);
	return st;
}

/*
 * The target by the rule of every command (target-private.h: trimmed,
 * case-insensitive labels; data.positive or the yes-like one), so that
 * profile, train and predict count the same rows. A column that is no usable
 * target leaves a "no target: ..." note instead of failing the profile.
 */
static churn_status profile_target(churn_profile *pr, const churn_dataset *ds, const churn_params *p)
{
	const char *name = churn_params_get_str(p, CHURN_KEY_DATA_TARGET);
	size_t j;
	if (churn_dataset_find_col(ds, name, &j) != CHURN_OK) {
		ch_clear_error();
		return add_note(pr, ch_asprintf("no target: column '%s' not found (use --target COL)", name));
	}
	ch_target t;
	churn_status st = ch_target_fit(ds, j, NULL, ds->nrows, churn_params_get_str(p, CHURN_KEY_DATA_POSITIVE), &t);
	if (st == CHURN_E_NOMEM)
		return st;
	if (st) {
		st = add_note(pr, ch_asprintf("no target: %s", churn_last_error()));
		ch_clear_error();
		return st;
	}
	st = set_target(pr, name, t.positive, t.npos, t.npos + t.nneg);
	if (!st)
		st = profile_screen(pr, ds, p, j, &t);
	ch_target_clear(&t);
	return st;
}

/* ---- compute ------------------------------------------------------------ */

churn_status churn_profile_compute(const churn_dataset *ds, const churn_params *p, churn_profile **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_compute: NULL argument");
	churn_status st = CHURN_OK;
	uint64_t *buf = NULL, *scratch = NULL;
	num_tab *tab = NULL;
	churn_profile *pr = calloc(1, sizeof(*pr));
	if (!pr)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	pr->rate = NAN;
	pr->nrows = churn_dataset_get_row_count(ds);
	size_t ncols = churn_dataset_get_column_count(ds);
	pr->cols = calloc(ncols ? ncols : 1, sizeof(*pr->cols));
	if (!pr->cols) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t n = pr->nrows;
	for (size_t j = 0; j < ncols; j++) {
		prof_col *c = &pr->cols[j];
		col_init(c);
		pr->ncols = j + 1;
		c->type = churn_dataset_get_col_type(ds, j);
		if (!(c->name = ch_strdup(churn_dataset_get_col_name(ds, j)))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		if (c->type != CHURN_COL_CATEGORICAL && !buf && n) {
			buf = malloc(n * sizeof(*buf));
			scratch = malloc(n * sizeof(*scratch));
			if (!buf || !scratch) {
				st = ch_fail(CHURN_E_NOMEM, "profile: out of memory for %zu rows", n);
				goto out;
			}
		}
		switch (c->type) {
		case CHURN_COL_NUMERIC:
			if (!tab)
				tab = malloc(sizeof(*tab)); /* NULL: every column takes the radix sort */
			st = profile_numeric(c, churn_dataset_get_numeric(ds, j), n, buf, scratch, tab);
			break;
		case CHURN_COL_CATEGORICAL:
			st = profile_categorical(c, ds, j, n);
			break;
		default:
			st = profile_text(c, ds, j, n, buf, scratch);
			break;
		}
		if (st)
			goto out;
	}
	if ((st = profile_target(pr, ds, p)))
		goto out;
	*out = pr;
	pr = NULL;
	ch_clear_error();
out:
	free(buf);
	free(scratch);
	free(tab);
	churn_profile_free(pr);
	return st;
}

/* ---- JSON --------------------------------------------------------------- */

/* A number as raw JSON (locale-independent, round-trip exact); null for NaN. */
static bool add_num(cJSON *o, const char *key, double v)
{
	char b[40];
	if (isnan(v) || isinf(v))
		return cJSON_AddNullToObject(o, key) != NULL;
	ch_format_double_short(b, sizeof b, v);
	return cJSON_AddRawToObject(o, key, b) != NULL;
}

static bool add_size(cJSON *o, const char *key, size_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%zu", v);
	return cJSON_AddRawToObject(o, key, b) != NULL;
}

static cJSON *col_json(const prof_col *c)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "name", c->name) &&
	          cJSON_AddStringToObject(o, "type", churn_col_type_name(c->type)) &&
	          add_size(o, "missing", c->missing) && add_size(o, "count", c->count);
	if (ok && c->type == CHURN_COL_NUMERIC) {
		ok = add_num(o, "mean", c->mean) && add_num(o, "std", c->std) && add_num(o, "min", c->min) &&
		     add_num(o, "p25", c->p25) && add_num(o, "p50", c->p50) && add_num(o, "p75", c->p75) &&
		     add_num(o, "max", c->max);
	} else if (ok && c->type == CHURN_COL_CATEGORICAL) {
		cJSON *lv = NULL;
		ok = add_size(o, "distinct", c->distinct) && (lv = cJSON_AddArrayToObject(o, "levels"));
		for (size_t k = 0; ok && k < c->nlevels; k++) {
			cJSON *l = cJSON_CreateObject();
			ok = l && cJSON_AddStringToObject(l, "value", c->levels[k].value) &&
			     add_size(l, "count", c->levels[k].count);
			if (l)
				cJSON_AddItemToArray(lv, l);
		}
	} else if (ok) {
		ok = add_size(o, "distinct", c->distinct) && cJSON_AddBoolToObject(o, "distinct_exact", c->distinct_exact) &&
		     (c->example ? cJSON_AddStringToObject(o, "example", c->example) != NULL
		                 : cJSON_AddNullToObject(o, "example") != NULL);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

churn_status churn_profile_to_json(const churn_profile *pr, char **out_json)
{
	if (!pr || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_to_json: NULL argument");
	cJSON *root = cJSON_CreateObject(), *cols = NULL, *notes = NULL;
	bool ok = root && add_size(root, "rows", pr->nrows) && (cols = cJSON_AddArrayToObject(root, "columns"));
	for (size_t j = 0; ok && j < pr->ncols; j++) {
		cJSON *c = col_json(&pr->cols[j]);
		ok = c != NULL;
		if (c)
			cJSON_AddItemToArray(cols, c);
	}
	if (ok && pr->has_target) {
		cJSON *t = cJSON_AddObjectToObject(root, "target");
		ok = t && cJSON_AddStringToObject(t, "name", pr->target_name) &&
		     cJSON_AddStringToObject(t, "positive", pr->positive) &&
		     add_size(t, "positive_count", pr->positive_count) && add_size(t, "count", pr->target_count) &&
		     add_num(t, "rate", pr->rate);
	} else if (ok) {
		ok = cJSON_AddNullToObject(root, "target") != NULL;
	}
	ok = ok && (notes = cJSON_AddArrayToObject(root, "notes"));
	for (size_t k = 0; ok && k < pr->nnotes; k++) {
		cJSON *s = cJSON_CreateString(pr->notes[k]);
		ok = s != NULL;
		if (s)
			cJSON_AddItemToArray(notes, s);
	}
	char *txt = ok ? ch_json_print(root, false) : NULL;
	cJSON_Delete(root);
	if (!txt)
		return ch_fail(CHURN_E_NOMEM, "churn_profile_to_json: out of memory");
	/* cJSON allocates with malloc (no hooks installed), so churn_free() releases it. */
	*out_json = txt;
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_profile_save_json(const churn_profile *pr, const char *path)
{
	if (!pr || !path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_save_json: NULL argument");
	char *txt = NULL;
	churn_status st = churn_profile_to_json(pr, &txt);
	if (st)
		return st;
	size_t n = strlen(txt);
	char *nl = realloc(txt, n + 2);
	if (!nl) {
		free(txt);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	nl[n] = '\n';
	nl[n + 1] = '\0';
	st = ch_write_file_atomic(path, nl, n + 1);
	free(nl);
	return st;
}

/* ---- JSON read-back ----------------------------------------------------- */

static bool get_size(const cJSON *o, const char *key, size_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.007199254740992e15)
		return false;
	*out = (size_t)v->valuedouble;
	return true;
}

static double get_dbl(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static churn_status col_from_json(prof_col *c, const cJSON *o, size_t j)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!cJSON_IsString(name) || !cJSON_IsString(type))
		return ch_fail(CHURN_E_PARSE, "profile JSON: columns[%zu]: \"name\" and \"type\" must be strings", j);
	if (!strcmp(type->valuestring, "numeric"))
		c->type = CHURN_COL_NUMERIC;
	else if (!strcmp(type->valuestring, "categorical"))
		c->type = CHURN_COL_CATEGORICAL;
	else if (!strcmp(type->valuestring, "text"))
		c->type = CHURN_COL_TEXT;
	else
		return ch_fail(CHURN_E_PARSE, "profile JSON: columns[%zu]: unknown type '%s'", j, type->valuestring);
	if (!(c->name = ch_strdup(name->valuestring)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!get_size(o, "missing", &c->missing))
		return ch_fail(CHURN_E_PARSE, "profile JSON: columns[%zu] (%s): \"missing\" must be a count", j, c->name);
	if (!get_size(o, "count", &c->count))
		c->count = 0;
	c->mean = get_dbl(o, "mean");
	c->std = get_dbl(o, "std");
	c->min = get_dbl(o, "min");
	c->p25 = get_dbl(o, "p25");
	c->p50 = get_dbl(o, "p50");
	c->p75 = get_dbl(o, "p75");
	c->max = get_dbl(o, "max");
	get_size(o, "distinct", &c->distinct);
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "distinct_exact");
	if (cJSON_IsBool(ex))
		c->distinct_exact = cJSON_IsTrue(ex);
	const cJSON *example = cJSON_GetObjectItemCaseSensitive(o, "example");
	if (cJSON_IsString(example) && !(c->example = ch_strdup(example->valuestring)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	const cJSON *levels = cJSON_GetObjectItemCaseSensitive(o, "levels");
	if (cJSON_IsArray(levels)) {
		size_t nl = (size_t)cJSON_GetArraySize(levels);
		c->levels = calloc(nl ? nl : 1, sizeof(*c->levels));
		if (!c->levels)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		const cJSON *l;
		cJSON_ArrayForEach(l, levels)
		{
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "value");
			prof_level *pl = &c->levels[c->nlevels];
			if (!cJSON_IsString(v) || !get_size(l, "count", &pl->count))
				return ch_fail(CHURN_E_PARSE, "profile JSON: columns[%zu] (%s): levels[%zu] needs \"value\" "
				               "and \"count\"", j, c->name, c->nlevels);
			if (!(pl->value = ch_strdup(v->valuestring)))
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			c->nlevels++;
		}
		if (!cJSON_GetObjectItemCaseSensitive(o, "distinct"))
			c->distinct = c->nlevels;
	}
	return CHURN_OK;
}

churn_status churn_profile_from_json(const char *json, churn_profile **out)
{
	if (!json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_from_json: NULL argument");
	churn_status st = CHURN_OK;
	churn_profile *pr = NULL;
	cJSON *root = ch_json_parse(json, strlen(json), "profile JSON", &st);
	if (st)
		goto out;
	if (!root || !cJSON_IsObject(root)) {
		st = ch_fail(CHURN_E_PARSE, "profile JSON: not a JSON object");
		goto out;
	}
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "columns");
	if (!(pr = calloc(1, sizeof(*pr)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	pr->rate = NAN;
	if (!get_size(root, "rows", &pr->nrows) || !cJSON_IsArray(cols)) {
		st = ch_fail(CHURN_E_PARSE, "profile JSON: needs \"rows\" (a count) and \"columns\" (an array)");
		goto out;
	}
	size_t nc = (size_t)cJSON_GetArraySize(cols);
	if (!(pr->cols = calloc(nc ? nc : 1, sizeof(*pr->cols)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, cols)
	{
		col_init(&pr->cols[pr->ncols]);
		pr->ncols++;
		if ((st = col_from_json(&pr->cols[pr->ncols - 1], c, pr->ncols - 1)))
			goto out;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target");
	if (cJSON_IsObject(t)) {
		const cJSON *tn = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *tp = cJSON_GetObjectItemCaseSensitive(t, "positive");
		size_t pc = 0, cnt = 0;
		if (!cJSON_IsString(tn) || !cJSON_IsString(tp) || !get_size(t, "positive_count", &pc)) {
			st = ch_fail(CHURN_E_PARSE, "profile JSON: \"target\" needs \"name\", \"positive\", \"positive_count\"");
			goto out;
		}
		if (!get_size(t, "count", &cnt))
			cnt = pr->nrows;
		if ((st = set_target(pr, tn->valuestring, tp->valuestring, pc, cnt)))
			goto out;
		double r = get_dbl(t, "rate");
		if (!isnan(r))
			pr->rate = r;
	} else if (t && !cJSON_IsNull(t)) {
		st = ch_fail(CHURN_E_PARSE, "profile JSON: \"target\" must be an object or null");
		goto out;
	}
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(root, "notes"), *s;
	if (cJSON_IsArray(notes)) {
		cJSON_ArrayForEach(s, notes)
		{
			if (cJSON_IsString(s) && (st = add_note(pr, ch_strdup(s->valuestring))))
				goto out;
		}
	}
	*out = pr;
	pr = NULL;
	ch_clear_error();
out:
	cJSON_Delete(root);
	churn_profile_free(pr);
	return st;
}

churn_status churn_profile_load_json(const char *path, churn_profile **out)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_load_json: NULL argument");
	char *txt = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(path, PROFILE_JSON_MAX, &txt, &n);
	if (st)
		return st;
	st = churn_profile_from_json(txt, out);
	free(txt);
	if (st)
		return ch_fail_prefix(st, "%s", path);
	return st;
}

/* ---- CSV ---------------------------------------------------------------- */

/* ",v" (shortest round-trip text), or "," alone for NaN. */
static void csv_num(ch_buf *b, double v)
{
	ch_buf_putc(b, ',');
	ch_buf_num(b, v, "");
}

churn_status churn_profile_save_csv(const churn_profile *pr, const char *path)
{
	if (!pr || !path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_profile_save_csv: NULL argument");
	ch_buf b = {0}, lv = {0};
	ch_buf_puts(&b, "name,type,missing,count,mean,std,min,p25,p50,p75,max,levels\n");
	for (size_t j = 0; j < pr->ncols; j++) {
		const prof_col *c = &pr->cols[j];
		char t[64];
		ch_csv_field(&b, c->name);
		snprintf(t, sizeof t, ",%s,%zu,%zu", churn_col_type_name(c->type), c->missing, c->count);
		ch_buf_puts(&b, t);
		bool num = c->type == CHURN_COL_NUMERIC;
		csv_num(&b, num ? c->mean : NAN);
		csv_num(&b, num ? c->std : NAN);
		csv_num(&b, num ? c->min : NAN);
		csv_num(&b, num ? c->p25 : NAN);
		csv_num(&b, num ? c->p50 : NAN);
		csv_num(&b, num ? c->p75 : NAN);
		csv_num(&b, num ? c->max : NAN);
		ch_buf_putc(&b, ',');
		lv.n = 0;
		ch_buf_puts(&lv, "");
		for (size_t k = 0; k < c->nlevels; k++) {
			if (k)
				ch_buf_putc(&lv, ';');
			ch_buf_puts(&lv, c->levels[k].value);
			snprintf(t, sizeof t, ":%zu", c->levels[k].count);
			ch_buf_puts(&lv, t);
		}
		if (lv.oom)
			b.oom = true;
		else
			ch_csv_field(&b, lv.p);
		ch_buf_putc(&b, '\n');
	}
	churn_status st;
	if (b.oom)
		st = ch_fail(CHURN_E_NOMEM, "churn_profile_save_csv: out of memory");
	else
		st = ch_write_file_atomic(path, b.p, b.n);
	ch_buf_free(&b);
	ch_buf_free(&lv);
	if (!st)
		ch_clear_error();
	return st;
}

/* ---- getters ------------------------------------------------------------ */

static const prof_col *pcol(const churn_profile *pr, size_t j)
{
	return pr && j < pr->ncols ? &pr->cols[j] : NULL;
}

size_t churn_profile_get_row_count(const churn_profile *pr)
{
	return pr ? pr->nrows : 0;
}

size_t churn_profile_get_column_count(const churn_profile *pr)
{
	return pr ? pr->ncols : 0;
}

const char *churn_profile_get_col_name(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->name : NULL;
}

churn_col_type churn_profile_get_col_type(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->type : CHURN_COL_TEXT;
}

size_t churn_profile_get_col_missing(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->missing : 0;
}

size_t churn_profile_get_col_present_count(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->count : 0;
}

double churn_profile_get_col_stat(const churn_profile *pr, size_t j, const char *stat)
{
	const prof_col *c = pcol(pr, j);
	if (!c || !stat || c->type != CHURN_COL_NUMERIC)
		return NAN;
	static const struct {
		const char *name;
		size_t off;
	} stats[] = {{"mean", offsetof(prof_col, mean)}, {"std", offsetof(prof_col, std)},
	             {"min", offsetof(prof_col, min)},   {"p25", offsetof(prof_col, p25)},
	             {"p50", offsetof(prof_col, p50)},   {"p75", offsetof(prof_col, p75)},
	             {"max", offsetof(prof_col, max)}};
	for (size_t k = 0; k < sizeof(stats) / sizeof(*stats); k++)
		if (!strcmp(stat, stats[k].name)) {
			double v;
			memcpy(&v, (const char *)c + stats[k].off, sizeof v);
			return v;
		}
	return NAN;
}

size_t churn_profile_get_col_level_count(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->nlevels : 0;
}

const char *churn_profile_get_col_level(const churn_profile *pr, size_t j, size_t k, size_t *out_count)
{
	const prof_col *c = pcol(pr, j);
	if (!c || k >= c->nlevels) {
		if (out_count)
			*out_count = 0;
		return NULL;
	}
	if (out_count)
		*out_count = c->levels[k].count;
	return c->levels[k].value;
}

size_t churn_profile_get_col_distinct(const churn_profile *pr, size_t j, bool *out_exact)
{
	const prof_col *c = pcol(pr, j);
	if (out_exact)
		*out_exact = c ? c->distinct_exact : true;
	return c && c->type != CHURN_COL_NUMERIC ? c->distinct : 0;
}

const char *churn_profile_get_col_example(const churn_profile *pr, size_t j)
{
	const prof_col *c = pcol(pr, j);
	return c ? c->example : NULL;
}

bool churn_profile_has_target(const churn_profile *pr)
{
	return pr && pr->has_target;
}

const char *churn_profile_get_target_name(const churn_profile *pr)
{
	return pr && pr->has_target ? pr->target_name : NULL;
}

const char *churn_profile_get_positive(const churn_profile *pr)
{
	return pr && pr->has_target ? pr->positive : NULL;
}

size_t churn_profile_get_positive_count(const churn_profile *pr)
{
	return pr && pr->has_target ? pr->positive_count : 0;
}

size_t churn_profile_get_target_count(const churn_profile *pr)
{
	return pr && pr->has_target ? pr->target_count : 0;
}

double churn_profile_get_target_rate(const churn_profile *pr)
{
	return pr && pr->has_target ? pr->rate : NAN;
}

size_t churn_profile_get_note_count(const churn_profile *pr)
{
	return pr ? pr->nnotes : 0;
}

const char *churn_profile_get_note(const churn_profile *pr, size_t k)
{
	return pr && k < pr->nnotes ? pr->notes[k] : NULL;
}
