/*
 * Identifier-like and leaking columns (screen-private.h).
 */
#include "screen-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn/metrics.h"
#include "core-private.h"
#include "prep-private.h"

#define AUC_MAX_ROWS 50000
#define AUC_FIRST_ROWS 2000
#define AUC_FIRST_BAR 0.95
#define MIN_CLASS_ROWS 10
#define MIN_ROWS_PER_LEVEL 20

/* ---- identifiers ---- */

/* A set of 64-bit keys (open addressing; the key 0 is kept aside). */
typedef struct keyset {
	uint64_t *slot;
	size_t mask;
	bool has_zero;
} keyset;

/* Add k: 1 added, 0 already there. */
static int keyset_add(keyset *s, uint64_t k)
{
	if (k == 0) {
		int added = !s->has_zero;
		s->has_zero = true;
		return added;
	}
	size_t h = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 17) & s->mask;
	while (s->slot[h]) {
		if (s->slot[h] == k)
			return 0;
		h = (h + 1) & s->mask;
	}
	s->slot[h] = k;
	return 1;
}

/* FNV-1a of a string (text codes; a clash only makes a column look less unique). */
static uint64_t text_key(const char *t)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * UINT64_C(1099511628211);
	return h;
}

/* The key of cell r when the column can be an identifier; false when the cell rules that out. */
static bool cell_key(const ch_column *c, size_t r, bool *integers, uint64_t *key)
{
	double v;
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		v = c->num[r];
		if (isnan(v) || v != floor(v) || fabs(v) > 9007199254740992.0)
			return false;
		*key = (uint64_t)(int64_t)v;
		return true;
	case CHURN_COL_TEXT: {
		const char *t = ch_prep_text_cell(c, r);
		if (!t || !t[0])
			return false;
		if (ch_prep_parse_num_text(t, &v) != 1 || v != floor(v))
			*integers = false;
		*key = text_key(t);
		return true;
	}
	case CHURN_COL_CATEGORICAL:
		return false; /* few levels by construction: values repeat */
	}
	return false;
}

churn_status ch_screen_identifier(const ch_column *c, const size_t *rows, size_t n, bool *out, char **why)
{
	*out = false;
	*why = NULL;
	if (n < CH_SCREEN_MIN_ROWS || c->type == CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	size_t cap = 1;
	while (cap < 2 * n)
		cap <<= 1;
	keyset s = {calloc(cap, sizeof(uint64_t)), cap - 1, false};
	if (!s.slot)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	bool integers = true, distinct = true;
	for (size_t i = 0; i < n && distinct; i++) {
		uint64_t k;
		distinct = cell_key(c, rows ? rows[i] : i, &integers, &k) && keyset_add(&s, k);
	}
	free(s.slot);
	if (!distinct)
		return CHURN_OK;
	*why = ch_asprintf("identifier-like: each of the %zu rows holds a different %s", n,
	                   integers ? "whole number" : "code");
	if (!*why)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = true;
	return CHURN_OK;
}

/* ---- leaks ---- */

/* A numeric or number-text cell: 1 a value, 0 missing or not a number. */
static int cell_number(const ch_column *c, size_t r, double *v)
{
	if (c->type == CHURN_COL_NUMERIC) {
		*v = c->num[r];
		return isnan(*v) ? 0 : 1;
	}
	return c->type == CHURN_COL_TEXT && ch_prep_parse_num_text(ch_prep_text_cell(c, r), v) == 1;
}

/* Numeric scores of at most `most` rows (evenly spread), mapped to [0, 1] keeping their order. */
static churn_status numeric_scores(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, size_t most,
                                   double *p, uint8_t *py, size_t *m)
{
	size_t step = n > most ? (n + most - 1) / most : 1, k = 0;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i += step) {
		double v;
		if (cell_number(c, rows ? rows[i] : i, &v) != 1)
			continue;
		p[k] = v;
		py[k++] = y[i];
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* halves: no overflow between -DBL_MAX and DBL_MAX */
	for (size_t i = 0; i < k; i++)
		p[i] = hi > lo ? (p[i] / 2 - lo / 2) / (hi / 2 - lo / 2) : 0.5;
	*m = k;
	return CHURN_OK;
}

/* Level counts, for ordering the levels by positive rate (pos/all, compared exactly by cross products). */
typedef struct lvl_count {
	size_t pos, all;
} lvl_count;

static int cmp_rate(const void *a, const void *b)
{
	const lvl_count *x = a, *y = b;
	unsigned __int128 l = (unsigned __int128)x->pos * y->all, r = (unsigned __int128)y->pos * x->all;
	return l < r ? -1 : l > r;
}

/*
 * The ROC AUC of a categorical column's rows scored by their level's positive rate, from the level counts alone
 * (no sort of the rows): levels in increasing rate, equal rates one group (ties count half),
 * AUC = sum over groups of pos_g * (negatives of lower groups + neg_g / 2) / (P * N). NaN when the levels are
 * too small (fewer than MIN_ROWS_PER_LEVEL rows each on average) or a class too rare.
 */
static churn_status level_auc(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, double *out)
{
	*out = NAN;
	if (c->nlevels == 0 || n / c->nlevels < MIN_ROWS_PER_LEVEL)
		return CHURN_OK;
	lvl_count *lv = calloc(c->nlevels, sizeof(*lv));
	if (!lv)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t P = 0, N = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t code = c->codes[rows ? rows[i] : i];
		if (code >= 0) {
			lv[code].pos += y[i];
			lv[code].all++;
		}
	}
	qsort(lv, c->nlevels, sizeof(*lv), cmp_rate);
	for (size_t k = 0; k < c->nlevels; k++) {
		P += lv[k].pos;
		N += lv[k].all - lv[k].pos;
	}
	if (P >= MIN_CLASS_ROWS && N >= MIN_CLASS_ROWS) {
		double area = 0, below = 0;
		for (size_t k = 0; k < c->nlevels;) {
			size_t gpos = 0, gneg = 0, e = k;
			for (; e < c->nlevels && cmp_rate(&lv[k], &lv[e]) == 0; e++) {
				gpos += lv[e].pos;
				gneg += lv[e].all - lv[e].pos;
			}
			area += (double)gpos * (below + (double)gneg / 2);
			below += (double)gneg;
			k = e;
		}
		double auc = area / ((double)P * (double)N);
		*out = auc >= 0.5 ? auc : 1 - auc;
	}
	free(lv);
	return CHURN_OK;
}

/* The AUC (either direction) of numeric column c on at most `most` of the rows; NaN with too few of a class. */
static churn_status numeric_auc(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, size_t most,
                                double *p, uint8_t *py, double *out)
{
	size_t m = 0, npos = 0;
	churn_status st = numeric_scores(c, rows, y, n, most, p, py, &m);
	for (size_t i = 0; i < m; i++)
		npos += py[i];
	*out = NAN;
	if (!st && npos >= MIN_CLASS_ROWS && m - npos >= MIN_CLASS_ROWS) {
		double auc;
		st = churn_metrics_roc_auc(py, p, m, &auc);
		if (!st)
			*out = auc >= 0.5 ? auc : 1 - auc;
	}
	return st;
}

churn_status ch_screen_auc(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, double *out)
{
	*out = NAN;
	if (n < CH_SCREEN_MIN_ROWS)
		return CHURN_OK;
	if (c->type == CHURN_COL_CATEGORICAL)
		return level_auc(c, rows, y, n, out);
	double *p = malloc(n * sizeof(double));
	uint8_t *py = malloc(n);
	churn_status st = p && py ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	/*
	 * A first look at AUC_FIRST_ROWS rows: an AUC below AUC_FIRST_BAR there (its sampling error is about 0.01)
	 * rules a leak out, and that estimate is the answer; only a column that may leak is measured on more rows.
	 */
	if (!st)
		st = numeric_auc(c, rows, y, n, n > 2 * AUC_FIRST_ROWS ? AUC_FIRST_ROWS : AUC_MAX_ROWS, p, py, out);
	if (!st && n > 2 * AUC_FIRST_ROWS && !(*out < AUC_FIRST_BAR))
		st = numeric_auc(c, rows, y, n, AUC_MAX_ROWS, p, py, out);
	free(p);
	free(py);
	return st;
}

/* ---- notes for readers of the data ---- */

static bool listed(char *const *names, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(names[k], name) == 0)
			return true;
	return false;
}

static void free_names(char **names, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
}

/* The note of column c over rows[0..n) labelled y, or NULL (nothing to say); *st on failure. */
static char *column_note(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, bool *out_id,
                         churn_status *st)
{
	bool id = false;
	char *why = NULL, *note = NULL;
	double auc = NAN;
	*st = ch_screen_identifier(c, rows, n, &id, &why);
	if (!*st && !id)
		*st = ch_screen_auc(c, rows, y, n, &auc);
	if (!*st && id)
		note = ch_asprintf("column '%s' is %s: left out of the features (keep it with prep.keep_columns)", c->name,
		                   why);
	else if (!*st && auc >= CH_SCREEN_LEAK_AUC)
		note = ch_asprintf("column '%s' leaks the target: alone it separates the classes (ROC AUC %.4f); left out "
		                   "of the features (keep it with prep.keep_columns)", c->name, auc);
	free(why);
	*out_id = !*st && id;
	if (!*st && (id || auc >= CH_SCREEN_LEAK_AUC) && !note)
		*st = ch_fail(CHURN_E_NOMEM, "out of memory");
	return note;
}

churn_status ch_screen_notes(const churn_dataset *ds, const churn_params *p, size_t tj, const int8_t *y, char ***out,
                             size_t *out_n, bool *identifier)
{
	char **ids = NULL, **keep = NULL, **notes = NULL;
	size_t nids = 0, nkeep = 0, n = 0, nn = 0;
	*out = NULL;
	*out_n = 0;
	if (identifier)
		memset(identifier, 0, ds->ncols * sizeof(bool));
	size_t *rows = malloc((ds->nrows ? ds->nrows : 1) * sizeof(size_t));
	uint8_t *yy = malloc(ds->nrows ? ds->nrows : 1);
	notes = malloc((ds->ncols ? ds->ncols : 1) * sizeof(char *));
	churn_status st = rows && yy && notes ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < ds->nrows; i++)
		if (y[i] >= 0) {
			rows[n] = i;
			yy[n++] = (uint8_t)y[i];
		}
	if (!st && ch_prep_id_columns(ds, p, ds->cols[tj].name, &ids, &nids) != CHURN_OK)
		ch_clear_error(); /* a bad data.id is the prep's error to report */
	if (!st)
		st = ch_list_split(churn_params_get_str(p, CHURN_KEY_PREP_KEEP_COLUMNS), &keep, &nkeep);
	for (size_t j = 0; !st && j < ds->ncols; j++) {
		const char *name = ds->cols[j].name;
		if (j == tj || listed(ids, nids, name) || listed(keep, nkeep, name))
			continue;
		bool id = false;
		char *note = column_note(&ds->cols[j], rows, yy, n, &id, &st);
		if (identifier)
			identifier[j] = id;
		if (note)
			notes[nn++] = note;
	}
	free_names(ids, nids);
	free_names(keep, nkeep);
	free(rows);
	free(yy);
	if (st) {
		free_names(notes, nn);
		return st;
	}
	*out = notes;
	*out_n = nn;
	return CHURN_OK;
}
