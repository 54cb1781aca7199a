/*
 * churn_prep: fitted feature preparation (impute, encode, scale) and its
 * JSON form. See churn/prep.h for the behaviour.
 */
#include "churn/prep.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf-private.h"
#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "prep-private.h"

#define PREP_FORMAT "churn-prep"
#define PREP_VERSION 1
#define MISSING_LEVEL_NAME "(missing)"

enum { PC_NUMERIC = 0, PC_CATEGORICAL = 1 };
enum { ENC_ONEHOT = 0, ENC_BINARY = 1 };
enum { IMP_MEDIAN = 0, IMP_MEAN = 1, IMP_CONSTANT = 2 };
enum { IMPC_MOST_FREQUENT = 0, IMPC_MISSING_LEVEL = 1 };
enum { SC_STANDARD = 0, SC_MINMAX = 1, SC_NONE = 2 };

static const char *const imp_names[] = {"median", "mean", "constant"};
static const char *const impc_names[] = {"most_frequent", "missing_level"};
static const char *const sc_names[] = {"standard", "minmax", "none"};

typedef struct prep_col {
	char *name;
	int kind;            /* PC_* */
	size_t fit_missing;  /* missing cells among the fit rows */
	/* numeric: x -> (x - center) / scale, missing -> fill */
	double fill, center, scale;
	bool indicator;      /* a "<name>_missing" feature follows */
	/* categorical */
	char **levels;       /* fitted levels, strcmp order */
	size_t nlevels;
	int encoding;        /* ENC_* */
	int32_t yes;         /* binary: the level that encodes as 1 */
	int32_t fill_level;  /* imputed level for missing cells, -1: none */
	bool missing_feature; /* onehot: a "<name>=(missing)" feature follows the levels */
	size_t feat0, nfeat; /* the features of this column */
} prep_col;

typedef struct prep_drop {
	char *column, *reason;
} prep_drop;

struct churn_prep {
	char *target;
	bool target_numeric;
	char *positive, *negative;
	double pos_num, neg_num;
	char **ids;
	size_t nids;
	int impute_numeric, impute_categorical, scale;
	double impute_constant;
	bool missing_indicator, drop_missing_target;
	double max_unique_ratio;
	int64_t max_levels;
	prep_col *cols;
	size_t ncols;
	char **features;
	size_t nfeatures;
	prep_drop *dropped;
	size_t ndropped;
	size_t fit_rows, dropped_target_rows;
};

/* ---- small helpers ---- */

static void col_clear(prep_col *c)
{
	free(c->name);
	for (size_t k = 0; k < c->nlevels; k++)
		free(c->levels[k]);
	free(c->levels);
	memset(c, 0, sizeof(*c));
}

void churn_prep_free(churn_prep *prep)
{
	if (!prep)
		return;
	free(prep->target);
	free(prep->positive);
	free(prep->negative);
	for (size_t k = 0; k < prep->nids; k++)
		free(prep->ids[k]);
	free(prep->ids);
	for (size_t j = 0; j < prep->ncols; j++)
		col_clear(&prep->cols[j]);
	free(prep->cols);
	for (size_t j = 0; j < prep->nfeatures; j++)
		free(prep->features[j]);
	free(prep->features);
	for (size_t k = 0; k < prep->ndropped; k++) {
		free(prep->dropped[k].column);
		free(prep->dropped[k].reason);
	}
	free(prep->dropped);
	free(prep);
}

static churn_status grow(void **arr, size_t n, size_t elem)
{
	/* Grow to hold n + 1 elements when n is 0 or a power of two (amortized doubling). */
	if (n != 0 && (n & (n - 1)) != 0)
		return CHURN_OK;
	size_t cap = n ? n * 2 : 4;
	void *p = realloc(*arr, cap * elem);
	if (!p)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*arr = p;
	return CHURN_OK;
}

static churn_status add_drop(churn_prep *prep, const char *column, char *reason /* owned */)
{
	if (!reason)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = grow((void **)&prep->dropped, prep->ndropped, sizeof(*prep->dropped));
	char *c = st ? NULL : ch_strdup(column);
	if (!c) {
		free(reason);
		return st ? st : ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	prep->dropped[prep->ndropped].column = c;
	prep->dropped[prep->ndropped].reason = reason;
	prep->ndropped++;
	return CHURN_OK;
}

static churn_status add_feature(churn_prep *prep, char *name /* owned */)
{
	if (!name)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = grow((void **)&prep->features, prep->nfeatures, sizeof(*prep->features));
	if (st) {
		free(name);
		return st;
	}
	prep->features[prep->nfeatures++] = name;
	return CHURN_OK;
}

static const char *const yes_tokens[] = {"yes", "true", "1", "y", "t", NULL};
static const char *const no_tokens[] = {"no", "false", "0", "n", "f", NULL};

/* Index in the yes/no pair tables (yes/no, true/false, 1/0, y/n, t/f), -1 when s is none of them. */
static int yes_index(const char *s)
{
	for (int k = 0; yes_tokens[k]; k++)
		if (strcasecmp(s, yes_tokens[k]) == 0)
			return k;
	return -1;
}
static int no_index(const char *s)
{
	for (int k = 0; no_tokens[k]; k++)
		if (strcasecmp(s, no_tokens[k]) == 0)
			return k;
	return -1;
}

/* Tokens that mean "missing" when a string is read as a number. */
static bool is_missing_token(const char *s, size_t n)
{
	static const char *const toks[] = {"nan", "na", "n/a", "null", "none", NULL};
	if (n == 0)
		return true;
	for (int k = 0; toks[k]; k++)
		if (strlen(toks[k]) == n && strncasecmp(s, toks[k], n) == 0)
			return true;
	return false;
}

/* Parse text as a number: 1 ok, 0 missing (blank or NaN-like token), -1 not a number (Inf included). */
static int parse_num_text(const char *s, double *out)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (is_missing_token(s, n))
		return 0;
	if (!ch_parse_double(s, n, out) || !isfinite(*out))
		return -1;
	return 1;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fitted level of exact text s (bsearch), -1 when absent. */
static int32_t find_level(const prep_col *pc, const char *s)
{
	size_t lo = 0, hi = pc->nlevels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(pc->levels[mid], s);
		if (r == 0)
			return (int32_t)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * Level for raw text at apply time: exact, else case-insensitive, else for a
 * binary column any yes/no token; -1 when unseen.
 */
static int32_t lookup_level(const prep_col *pc, const char *s)
{
	int32_t k = find_level(pc, s);
	if (k >= 0)
		return k;
	for (size_t a = 0; a < pc->nlevels; a++)
		if (strcasecmp(pc->levels[a], s) == 0)
			return (int32_t)a;
	if (pc->encoding == ENC_BINARY) {
		if (yes_index(s) >= 0)
			return pc->yes;
		if (no_index(s) >= 0)
			return 1 - pc->yes;
	}
	/* Numbers written differently ("1.0" for "1"). */
	double v, w;
	if (parse_num_text(s, &v) == 1)
		for (size_t a = 0; a < pc->nlevels; a++)
			if (parse_num_text(pc->levels[a], &w) == 1 && v == w)
				return (int32_t)a;
	return -1;
}

/* ---- reading a source column cell by cell, whatever its type ---- */

typedef struct src {
	const ch_column *c;   /* NULL: column absent, every cell missing */
	const prep_col *pc;
	/* numeric fit, categorical source: per source level 1 number, 0 missing, -1 not a number */
	double *lvl_num;
	int8_t *lvl_ok;
	/* categorical fit, categorical source: per source level the fitted level (-1 unseen) */
	int32_t *lvl_map;
} src;

static void src_clear(src *s)
{
	free(s->lvl_num);
	free(s->lvl_ok);
	free(s->lvl_map);
	memset(s, 0, sizeof(*s));
}

static churn_status src_init(src *s, const prep_col *pc, const ch_column *c)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->pc = pc;
	if (!c || c->type != CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	size_t nl = c->nlevels ? c->nlevels : 1;
	if (pc->kind == PC_NUMERIC) {
		s->lvl_num = malloc(nl * sizeof(double));
		s->lvl_ok = malloc(nl);
		if (!s->lvl_num || !s->lvl_ok)
			goto nomem;
		for (size_t k = 0; k < c->nlevels; k++)
			s->lvl_ok[k] = (int8_t)parse_num_text(c->levels[k], &s->lvl_num[k]);
	} else {
		s->lvl_map = malloc(nl * sizeof(int32_t));
		if (!s->lvl_map)
			goto nomem;
		for (size_t k = 0; k < c->nlevels; k++)
			s->lvl_map[k] = lookup_level(pc, c->levels[k]);
	}
	return CHURN_OK;
nomem:
	src_clear(s);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

static const char *text_cell(const ch_column *c, size_t r)
{
	return c->off[r] == CH_TEXT_MISSING ? NULL : c->arena + c->off[r];
}

/* Numeric cell: 1 value, 0 missing; -1 not a number (detail set). */
static int src_num(const src *s, size_t r, double *v)
{
	const ch_column *c = s->c;
	if (!c)
		return 0;
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		*v = c->num[r];
		return isnan(*v) ? 0 : 1;
	case CHURN_COL_CATEGORICAL: {
		int32_t code = c->codes[r];
		if (code < 0)
			return 0;
		if (s->lvl_ok[code] < 0)
			goto bad;
		*v = s->lvl_num[code];
		return s->lvl_ok[code];
	}
	case CHURN_COL_TEXT: {
		int k = parse_num_text(text_cell(c, r), v);
		if (k < 0)
			goto bad;
		return k;
	}
	}
	return 0;
bad:
	{
		const char *t = c->type == CHURN_COL_TEXT ? text_cell(c, r) : c->levels[c->codes[r]];
		ch_fail(CHURN_E_PARSE, "column '%s', row %zu: '%.60s' is not a number (the column was numeric when fitted)",
		        c->name, r + 1, t ? t : "");
	}
	return -1;
}

/* Categorical cell: level >= 0, -1 missing, -2 unseen level. */
static int32_t src_cat(const src *s, size_t r)
{
	const ch_column *c = s->c;
	if (!c)
		return -1;
	switch (c->type) {
	case CHURN_COL_CATEGORICAL: {
		int32_t code = c->codes[r];
		if (code < 0)
			return -1;
		int32_t k = s->lvl_map[code];
		return k >= 0 ? k : -2;
	}
	case CHURN_COL_TEXT: {
		const char *t = text_cell(c, r);
		if (!t || !t[0])
			return -1;
		int32_t k = lookup_level(s->pc, t);
		return k >= 0 ? k : -2;
	}
	case CHURN_COL_NUMERIC: {
		double v = c->num[r];
		if (isnan(v))
			return -1;
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), v);
		int32_t k = lookup_level(s->pc, buf);
		return k >= 0 ? k : -2;
	}
	}
	return -1;
}

/* ---- fitting ---- */

static const ch_column *find_column(const churn_dataset *ds, const char *name)
{
	for (size_t j = 0; j < ds->ncols; j++)
		if (strcmp(ds->cols[j].name, name) == 0)
			return &ds->cols[j];
	return NULL;
}

static churn_status parse_enum(const churn_params *p, const char *key, const char *const *names, int n, int *out)
{
	const char *v = churn_params_get_str(p, key);
	if (!v[0]) {
		*out = 0;
		return CHURN_OK;
	}
	for (int k = 0; k < n; k++)
		if (strcmp(v, names[k]) == 0) {
			*out = k;
			return CHURN_OK;
		}
	char list[160] = "";
	for (int k = 0; k < n; k++) {
		strncat(list, names[k], sizeof(list) - strlen(list) - 1);
		if (k + 1 < n)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	return ch_fail(CHURN_E_INVALID_ARG, "option %s: '%s' is not one of %s", key, v, list);
}

/* Split "a, b,c" into trimmed owned names. */
static churn_status split_ids(const char *spec, char ***out, size_t *out_n)
{
	char **ids = NULL;
	size_t n = 0;
	const char *s = spec;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *b = s + len;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			churn_status st = grow((void **)&ids, n, sizeof(*ids));
			char *name = st ? NULL : ch_strndup(a, (size_t)(b - a));
			if (!name) {
				for (size_t k = 0; k < n; k++)
					free(ids[k]);
				free(ids);
				return st ? st : ch_fail(CHURN_E_NOMEM, "out of memory");
			}
			ids[n++] = name;
		}
		if (!e)
			break;
		s = e + 1;
	}
	*out = ids;
	*out_n = n;
	return CHURN_OK;
}

/* Simple string hash set (open addressing) for distinct counting. */
typedef struct strset {
	const char **slot;
	size_t cap, n;
} strset;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* 1 added, 0 present, -1 OOM. */
static int strset_add(strset *set, const char *s)
{
	if (set->n * 2 >= set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64;
		const char **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t k = 0; k < set->cap; k++) {
			if (!set->slot[k])
				continue;
			size_t h = (size_t)hash_str(set->slot[k]) & (ncap - 1);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = set->slot[k];
		}
		free(set->slot);
		set->slot = ns;
		set->cap = ncap;
	}
	size_t h = (size_t)hash_str(s) & (set->cap - 1);
	while (set->slot[h]) {
		if (strcmp(set->slot[h], s) == 0)
			return 0;
		h = (h + 1) & (set->cap - 1);
	}
	set->slot[h] = s;
	set->n++;
	return 1;
}

/* Quickselect (Hoare/Wirth): the k-th smallest of v[0..n) (reorders v so v[0..k) <= v[k]). */
static double select_kth(double *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		ptrdiff_t i = lo, j = hi;
		do {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static double median_of(double *v, size_t n)
{
	size_t h = n / 2;
	double hi = select_kth(v, n, h);
	if (n % 2)
		return hi;
	/* v[0..h) now holds the h smallest values: the lower middle is their max. */
	double lo = v[0];
	for (size_t i = 1; i < h; i++)
		if (v[i] > lo)
			lo = v[i];
	return lo + (hi - lo) / 2;
}

/* Fit a numeric column from fit rows; *dropped set when it is constant or all missing. */
static churn_status fit_numeric(churn_prep *prep, prep_col *pc, const ch_column *c, const size_t *rows, size_t n,
                                bool *dropped)
{
	churn_status st = CHURN_OK;
	src s;
	if ((st = src_init(&s, pc, c)))
		return st;
	double *v = malloc((n ? n : 1) * sizeof(double));
	if (!v) {
		src_clear(&s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t m = 0;
	double mn = INFINITY, mx = -INFINITY, sum = 0;
	for (size_t i = 0; i < n; i++) {
		double x;
		int k = src_num(&s, rows[i], &x);
		if (k < 0) {
			st = CHURN_E_PARSE;
			goto out;
		}
		if (k == 0)
			continue;
		v[m++] = x;
		sum += x;
		if (x < mn)
			mn = x;
		if (x > mx)
			mx = x;
	}
	pc->fit_missing = n - m;
	*dropped = false;
	if (m == 0) {
		*dropped = true;
		st = add_drop(prep, c->name, ch_asprintf("all %zu values missing", n));
		goto out;
	}
	bool fill_differs = prep->impute_numeric == IMP_CONSTANT && pc->fit_missing > 0 && prep->impute_constant != mn;
	bool has_indicator = prep->missing_indicator && pc->fit_missing > 0;
	if (mn == mx && !fill_differs && !has_indicator) {
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), mn);
		*dropped = true;
		st = add_drop(prep, c->name, ch_asprintf("constant (every value is %s)", buf));
		goto out;
	}
	double mean = sum / (double)m;
	switch (prep->impute_numeric) {
	case IMP_MEAN: pc->fill = mean; break;
	case IMP_CONSTANT: pc->fill = prep->impute_constant; break;
	default: pc->fill = median_of(v, m); break;
	}
	/* Scaling statistics over the imputed values (as an imputer then a scaler would see them). */
	size_t nmiss = n - m;
	double fmn = nmiss ? fmin(mn, pc->fill) : mn, fmx = nmiss ? fmax(mx, pc->fill) : mx;
	pc->center = 0;
	pc->scale = 1;
	if (prep->scale == SC_STANDARD) {
		double mu = (sum + (double)nmiss * pc->fill) / (double)n;
		/* Two-pass variance for accuracy. */
		double ss = 0;
		for (size_t i = 0; i < m; i++)
			ss += (v[i] - mu) * (v[i] - mu);
		ss += (double)nmiss * (pc->fill - mu) * (pc->fill - mu);
		double sd = sqrt(ss / (double)n);
		pc->center = mu;
		pc->scale = (sd > 0 && isfinite(sd)) ? sd : 1;
	} else if (prep->scale == SC_MINMAX) {
		pc->center = fmn;
		pc->scale = (fmx > fmn && isfinite(fmx - fmn)) ? fmx - fmn : 1;
	}
	pc->indicator = prep->missing_indicator && nmiss > 0;
	if (!isfinite(pc->center) || !isfinite(pc->fill)) {
		st = ch_fail(CHURN_E_NUMERIC, "column '%s': statistics overflow (values too large)", c->name);
		goto out;
	}
out:
	free(v);
	src_clear(&s);
	return st;
}

/* Fitted levels of a categorical/text column over the fit rows, with counts; caller frees. */
static churn_status collect_levels(const churn_prep *prep, const ch_column *c, const size_t *rows, size_t n,
                                   char ***out_levels, size_t **out_counts, size_t *out_nlevels, size_t *out_missing,
                                   char **out_drop_reason)
{
	char **levels = NULL;
	size_t *counts = NULL, nl = 0, missing = 0;
	*out_drop_reason = NULL;
	if (c->type == CHURN_COL_CATEGORICAL) {
		size_t *cnt = calloc(c->nlevels ? c->nlevels : 1, sizeof(size_t));
		if (!cnt)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			int32_t code = c->codes[rows[i]];
			if (code < 0)
				missing++;
			else
				cnt[code]++;
		}
		for (size_t k = 0; k < c->nlevels; k++)
			nl += cnt[k] > 0;
		levels = calloc(nl ? nl : 1, sizeof(char *));
		counts = calloc(nl ? nl : 1, sizeof(size_t));
		if (!levels || !counts) {
			free(cnt);
			goto nomem;
		}
		size_t a = 0;
		for (size_t k = 0; k < c->nlevels; k++) {
			if (!cnt[k])
				continue;
			counts[a] = cnt[k];
			if (!(levels[a++] = ch_strdup(c->levels[k]))) {
				free(cnt);
				nl = a;
				goto nomem;
			}
		}
		free(cnt);
	} else { /* TEXT */
		strset set = {0};
		size_t nonmissing = 0;
		for (size_t i = 0; i < n; i++) {
			const char *t = text_cell(c, rows[i]);
			if (!t || !t[0]) {
				missing++;
				continue;
			}
			nonmissing++;
			int r = strset_add(&set, t);
			if (r < 0) {
				free(set.slot);
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			}
			if (set.n > (size_t)prep->max_levels) {
				free(set.slot);
				*out_drop_reason = ch_asprintf("text with more than %lld distinct values (prep.max_levels)",
				                               (long long)prep->max_levels);
				return *out_drop_reason ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
			}
		}
		if (nonmissing > 0 && (double)set.n > prep->max_unique_ratio * (double)nonmissing && set.n > 1) {
			free(set.slot);
			*out_drop_reason = ch_asprintf("text too unique to be a feature (%zu distinct of %zu values > "
			                               "prep.max_unique_ratio %g)", set.n, nonmissing, prep->max_unique_ratio);
			return *out_drop_reason ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		levels = calloc(set.n ? set.n : 1, sizeof(char *));
		counts = calloc(set.n ? set.n : 1, sizeof(size_t));
		if (!levels || !counts) {
			free(set.slot);
			goto nomem;
		}
		for (size_t k = 0; k < set.cap; k++) {
			if (!set.slot[k])
				continue;
			if (!(levels[nl++] = ch_strdup(set.slot[k]))) {
				free(set.slot);
				goto nomem;
			}
		}
		free(set.slot);
		qsort(levels, nl, sizeof(char *), cmp_str_ptr);
		prep_col tmp = {0};
		tmp.levels = levels;
		tmp.nlevels = nl;
		for (size_t i = 0; i < n; i++) {
			const char *t = text_cell(c, rows[i]);
			if (t && t[0])
				counts[find_level(&tmp, t)]++;
		}
	}
	*out_levels = levels;
	*out_counts = counts;
	*out_nlevels = nl;
	*out_missing = missing;
	return CHURN_OK;
nomem:
	for (size_t k = 0; k < nl; k++)
		if (levels)
			free(levels[k]);
	free(levels);
	free(counts);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* Whether every non-missing text cell of the fit rows is a number (and there is at least one). */
static bool text_is_numeric(const ch_column *c, const size_t *rows, size_t n)
{
	size_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		double v;
		int k = parse_num_text(text_cell(c, rows[i]), &v);
		if (k < 0)
			return false;
		seen += (size_t)k;
	}
	return seen > 0;
}

static churn_status fit_categorical(churn_prep *prep, prep_col *pc, const ch_column *c, const size_t *rows,
                                    size_t n, bool *dropped)
{
	char **levels = NULL, *reason = NULL;
	size_t *counts = NULL, nl = 0, missing = 0;
	churn_status st = collect_levels(prep, c, rows, n, &levels, &counts, &nl, &missing, &reason);
	if (st)
		return st;
	*dropped = false;
	if (reason) {
		*dropped = true;
		return add_drop(prep, c->name, reason);
	}
	pc->fit_missing = missing;
	if (nl == 0) {
		free(levels);
		free(counts);
		*dropped = true;
		return add_drop(prep, c->name, ch_asprintf("all %zu values missing", n));
	}
	bool missing_level = prep->impute_categorical == IMPC_MISSING_LEVEL && missing > 0;
	if (nl == 1 && !missing_level) {
		char *r = ch_asprintf("constant (every value is '%s')", levels[0]);
		free(levels[0]);
		free(levels);
		free(counts);
		*dropped = true;
		return add_drop(prep, c->name, r);
	}
	pc->levels = levels;
	pc->nlevels = nl;
	size_t best = 0;
	for (size_t k = 1; k < nl; k++)
		if (counts[k] > counts[best])
			best = k;
	free(counts);
	pc->fill_level = missing_level ? -1 : (int32_t)best;
	pc->missing_feature = missing_level;
	pc->encoding = ENC_ONEHOT;
	pc->yes = -1;
	if (nl == 2 && !missing_level) {
		int y0 = yes_index(levels[0]), y1 = yes_index(levels[1]);
		int n0 = no_index(levels[0]), n1 = no_index(levels[1]);
		if (y0 >= 0 && y0 == n1) {
			pc->encoding = ENC_BINARY;
			pc->yes = 0;
		} else if (y1 >= 0 && y1 == n0) {
			pc->encoding = ENC_BINARY;
			pc->yes = 1;
		}
	}
	return CHURN_OK;
}

/* Names of the features of pc, appended to prep->features. */
static churn_status name_features(churn_prep *prep, prep_col *pc)
{
	churn_status st;
	pc->feat0 = prep->nfeatures;
	if (pc->kind == PC_NUMERIC) {
		if ((st = add_feature(prep, ch_strdup(pc->name))))
			return st;
		if (pc->indicator && (st = add_feature(prep, ch_asprintf("%s_missing", pc->name))))
			return st;
	} else if (pc->encoding == ENC_BINARY) {
		if ((st = add_feature(prep, ch_asprintf("%s=%s", pc->name, pc->levels[pc->yes]))))
			return st;
	} else {
		for (size_t k = 0; k < pc->nlevels; k++)
			if ((st = add_feature(prep, ch_asprintf("%s=%s", pc->name, pc->levels[k]))))
				return st;
		if (pc->missing_feature && (st = add_feature(prep, ch_asprintf("%s=" MISSING_LEVEL_NAME, pc->name))))
			return st;
	}
	pc->nfeat = prep->nfeatures - pc->feat0;
	return CHURN_OK;
}

/* Target label of row r: 1, 0, -1 missing, -2 a third value. */
typedef struct tsrc {
	const ch_column *c;
	int8_t *lvl; /* categorical source: per level 1/0/-2 */
} tsrc;

static int label_of_text(const churn_prep *prep, const char *t)
{
	if (!t || !t[0])
		return -1;
	if (prep->target_numeric) {
		double v;
		int k = parse_num_text(t, &v);
		if (k == 0)
			return -1;
		if (k < 0)
			return -2;
		return v == prep->pos_num ? 1 : v == prep->neg_num ? 0 : -2;
	}
	if (strcmp(t, prep->positive) == 0)
		return 1;
	if (strcmp(t, prep->negative) == 0)
		return 0;
	if (strcasecmp(t, prep->positive) == 0)
		return 1;
	if (strcasecmp(t, prep->negative) == 0)
		return 0;
	return -2;
}

static churn_status tsrc_init(tsrc *ts, const churn_prep *prep, const ch_column *c)
{
	ts->c = c;
	ts->lvl = NULL;
	if (c->type != CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	ts->lvl = malloc(c->nlevels ? c->nlevels : 1);
	if (!ts->lvl)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < c->nlevels; k++)
		ts->lvl[k] = (int8_t)label_of_text(prep, c->levels[k]);
	return CHURN_OK;
}

static int tsrc_label(const churn_prep *prep, const tsrc *ts, size_t r)
{
	const ch_column *c = ts->c;
	switch (c->type) {
	case CHURN_COL_CATEGORICAL:
		return c->codes[r] < 0 ? -1 : ts->lvl[c->codes[r]];
	case CHURN_COL_TEXT:
		return label_of_text(prep, text_cell(c, r));
	case CHURN_COL_NUMERIC: {
		double v = c->num[r];
		if (isnan(v))
			return -1;
		if (prep->target_numeric)
			return v == prep->pos_num ? 1 : v == prep->neg_num ? 0 : -2;
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), v);
		return label_of_text(prep, buf);
	}
	}
	return -1;
}

static const char *cell_text(const ch_column *c, size_t r, char *buf, size_t cap)
{
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		if (isnan(c->num[r]))
			return NULL;
		ch_format_double_short(buf, cap, c->num[r]);
		return buf;
	case CHURN_COL_CATEGORICAL:
		return c->codes[r] < 0 ? NULL : c->levels[c->codes[r]];
	case CHURN_COL_TEXT:
		return text_cell(c, r);
	}
	return NULL;
}

/* Decide the target's classes and positive label from the fit rows. */
static churn_status fit_target(churn_prep *prep, const ch_column *c, const size_t *rows, size_t n,
                               const char *want_pos, size_t *out_missing)
{
	/* Distinct non-missing values (up to 3), as text or numbers. */
	char *vals[3] = {0};
	double nums[3] = {0};
	size_t nv = 0, missing = 0, first_missing = 0;
	char buf[40];
	churn_status st = CHURN_OK;
	bool numeric = c->type == CHURN_COL_NUMERIC;
	for (size_t i = 0; i < n; i++) {
		const char *t = cell_text(c, rows[i], buf, sizeof(buf));
		if (!t || !t[0]) {
			if (!missing)
				first_missing = rows[i];
			missing++;
			continue;
		}
		size_t k;
		for (k = 0; k < nv; k++)
			if (numeric ? nums[k] == c->num[rows[i]] : strcmp(vals[k], t) == 0)
				break;
		if (k < nv)
			continue;
		if (nv == 3) {
			nv++;
			break;
		}
		if (!(vals[nv] = ch_strdup(t))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		nums[nv] = numeric ? c->num[rows[i]] : 0;
		nv++;
	}
	if (nv > 2) {
		size_t total = 0;
		if (!numeric) {
			/* Count all classes for the message. */
			strset set = {0};
			for (size_t i = 0; i < n; i++) {
				const char *t = cell_text(c, rows[i], buf, sizeof(buf));
				if (t && t[0] && strset_add(&set, t) < 0)
					break;
			}
			total = set.n;
			free(set.slot);
		}
		if (total > 0)
			st = ch_fail(CHURN_E_PARSE, "target '%s' has %zu classes (%s, %s, %s%s); a binary target is needed",
			             c->name, total, vals[0], vals[1], vals[2], total > 3 ? ", ..." : "");
		else
			st = ch_fail(CHURN_E_PARSE, "target '%s' has more than two classes (%s, %s, %s, ...); a binary target "
			             "is needed", c->name, vals[0], vals[1], vals[2]);
		goto out;
	}
	if (nv == 0) {
		st = ch_fail(CHURN_E_PARSE, "target '%s' has no values", c->name);
		goto out;
	}
	if (nv == 1) {
		st = ch_fail(CHURN_E_PARSE, "target '%s' has one class only ('%s'); both classes are needed to fit",
		             c->name, vals[0]);
		goto out;
	}
	int pos = -1;
	if (want_pos && want_pos[0]) {
		for (int k = 0; k < 2 && pos < 0; k++)
			if (strcmp(vals[k], want_pos) == 0)
				pos = k;
		for (int k = 0; k < 2 && pos < 0; k++)
			if (strcasecmp(vals[k], want_pos) == 0)
				pos = k;
		double w, x;
		if (pos < 0 && numeric && parse_num_text(want_pos, &w) == 1)
			for (int k = 0; k < 2 && pos < 0; k++)
				if (parse_num_text(vals[k], &x) == 1 && x == w)
					pos = k;
		if (pos < 0) {
			st = ch_fail(CHURN_E_PARSE, "positive label '%s' is not a value of target '%s' (values: %s, %s)",
			             want_pos, c->name, vals[0], vals[1]);
			goto out;
		}
	} else if (numeric) {
		if ((nums[0] == 1 && nums[1] == 0) || (nums[0] == 0 && nums[1] == 1))
			pos = nums[0] == 1 ? 0 : 1;
	} else {
		int best = 99;
		for (int k = 0; k < 2; k++) {
			int y = yes_index(vals[k]);
			if (y >= 0 && y < best) {
				best = y;
				pos = k;
			}
		}
	}
	if (pos < 0) {
		st = ch_fail(CHURN_E_PARSE, "cannot tell the positive label of target '%s' (values: %s, %s); set it with "
		             "--positive or data.positive", c->name, vals[0], vals[1]);
		goto out;
	}
	prep->target_numeric = numeric;
	prep->pos_num = nums[pos];
	prep->neg_num = nums[1 - pos];
	prep->positive = vals[pos];
	prep->negative = vals[1 - pos];
	vals[0] = vals[1] = NULL;
	if (missing && !prep->drop_missing_target) {
		st = ch_fail(CHURN_E_PARSE, "target '%s' is missing in %zu rows (first: row %zu); set "
		             "prep.drop_missing_target to drop those rows", c->name, missing, first_missing + 1);
		goto out;
	}
	*out_missing = missing;
out:
	for (int k = 0; k < 3; k++)
		free(vals[k]);
	return st;
}

churn_status churn_prep_fit(const churn_dataset *ds, const size_t *rows, size_t nrows, const churn_params *p,
                            churn_prep **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_fit: NULL argument");
	churn_status st = CHURN_OK;
	size_t *all = NULL, *kept = NULL;
	churn_prep *prep = calloc(1, sizeof(*prep));
	if (!prep)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!rows) {
		nrows = ds->nrows;
		all = malloc((nrows ? nrows : 1) * sizeof(size_t));
		if (!all)
			goto nomem;
		for (size_t i = 0; i < nrows; i++)
			all[i] = i;
		rows = all;
	} else {
		for (size_t i = 0; i < nrows; i++)
			if (rows[i] >= ds->nrows) {
				st = ch_fail(CHURN_E_INVALID_ARG, "row index %zu is out of range (%zu rows)", rows[i], ds->nrows);
				goto fail;
			}
	}
	if (nrows == 0) {
		st = ch_fail(CHURN_E_INVALID_ARG, "cannot fit on zero rows");
		goto fail;
	}
	/* Options. */
	if ((st = parse_enum(p, "prep.impute_numeric", imp_names, 3, &prep->impute_numeric)) ||
	    (st = parse_enum(p, "prep.impute_categorical", impc_names, 2, &prep->impute_categorical)) ||
	    (st = parse_enum(p, "prep.scale", sc_names, 3, &prep->scale)))
		goto fail;
	/* (no params: the registry's defaults, params-keys.def) */
	prep->impute_constant = churn_params_get_double(p, "prep.impute_constant");
	prep->missing_indicator = churn_params_get_bool(p, "prep.missing_indicator");
	prep->drop_missing_target = churn_params_get_bool(p, "prep.drop_missing_target");
	prep->max_unique_ratio = churn_params_get_double(p, "prep.max_unique_ratio");
	prep->max_levels = churn_params_get_int(p, "prep.max_levels");
	const char *target = churn_params_get_str(p, "data.target");
	if (!target[0]) {
		st = ch_fail(CHURN_E_INVALID_ARG, "data.target: the target column's name is empty");
		goto fail;
	}
	const char *want_pos = churn_params_get_str(p, "data.positive");
	const char *idspec = churn_params_get_str(p, "data.id");
	if (!(prep->target = ch_strdup(target)))
		goto nomem;

	/* Target. */
	size_t tj;
	if ((st = churn_dataset_find_col(ds, target, &tj))) {
		ch_fail_prefix(st, "target column '%s'", target);
		goto fail;
	}
	const ch_column *tc = &ds->cols[tj];
	size_t tmissing = 0;
	if ((st = fit_target(prep, tc, rows, nrows, want_pos, &tmissing)))
		goto fail;
	if (tmissing) {
		kept = malloc((nrows - tmissing ? nrows - tmissing : 1) * sizeof(size_t));
		if (!kept)
			goto nomem;
		size_t a = 0;
		char buf[40];
		for (size_t i = 0; i < nrows; i++) {
			const char *t = cell_text(tc, rows[i], buf, sizeof(buf));
			if (t && t[0])
				kept[a++] = rows[i];
		}
		rows = kept;
		nrows = a;
		prep->dropped_target_rows = tmissing;
		ch_log(p, CHURN_LOG_WARN, "dropped %zu rows with a missing target '%s'", tmissing, target);
	}
	prep->fit_rows = nrows;

	/* ID columns. */
	if (idspec && idspec[0]) {
		if ((st = split_ids(idspec, &prep->ids, &prep->nids)))
			goto fail;
		for (size_t k = 0; k < prep->nids; k++) {
			size_t j;
			if ((st = churn_dataset_find_col(ds, prep->ids[k], &j))) {
				ch_fail_prefix(st, "ID column '%s'", prep->ids[k]);
				goto fail;
			}
			if (strcmp(prep->ids[k], target) == 0) {
				st = ch_fail(CHURN_E_INVALID_ARG, "column '%s' cannot be both the target and an ID", target);
				goto fail;
			}
		}
	} else if (find_column(ds, "customerID") && strcmp(target, "customerID") != 0) {
		if (!(prep->ids = malloc(sizeof(char *))) || !(prep->ids[0] = ch_strdup("customerID")))
			goto nomem;
		prep->nids = 1;
	}

	/* Feature columns. */
	prep->cols = calloc(ds->ncols ? ds->ncols : 1, sizeof(prep_col));
	if (!prep->cols)
		goto nomem;
	for (size_t j = 0; j < ds->ncols; j++) {
		const ch_column *c = &ds->cols[j];
		if (j == tj)
			continue;
		bool is_id = false;
		for (size_t k = 0; k < prep->nids; k++)
			is_id |= strcmp(prep->ids[k], c->name) == 0;
		if (is_id) {
			if ((st = add_drop(prep, c->name, ch_strdup("ID column"))))
				goto fail;
			continue;
		}
		prep_col *pc = &prep->cols[prep->ncols];
		if (!(pc->name = ch_strdup(c->name)))
			goto nomem;
		bool numeric = c->type == CHURN_COL_NUMERIC ||
		               (c->type == CHURN_COL_TEXT && text_is_numeric(c, rows, nrows));
		pc->kind = numeric ? PC_NUMERIC : PC_CATEGORICAL;
		bool dropped = false;
		st = numeric ? fit_numeric(prep, pc, c, rows, nrows, &dropped)
		             : fit_categorical(prep, pc, c, rows, nrows, &dropped);
		if (st) {
			col_clear(pc);
			goto fail;
		}
		if (dropped) {
			ch_log(p, CHURN_LOG_INFO, "prep: dropped column '%s': %s", c->name,
			       prep->dropped[prep->ndropped - 1].reason);
			col_clear(pc);
			continue;
		}
		prep->ncols++;
		if ((st = name_features(prep, pc)))
			goto fail;
	}
	if (prep->nfeatures == 0) {
		st = ch_fail(CHURN_E_PARSE, "no usable feature columns (every column is the target, an ID, constant, "
		             "missing or too unique)");
		goto fail;
	}
	free(all);
	free(kept);
	*out = prep;
	ch_clear_error();
	return CHURN_OK;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
fail:
	free(all);
	free(kept);
	churn_prep_free(prep);
	return st;
}

/* ---- applying ---- */

#define BLOCK_ROWS 2048

static churn_status apply_core(const churn_prep *prep, const churn_dataset *ds, const size_t *rows, size_t nrows,
                               churn_matrix **out, size_t *out_unseen, size_t *out_imputed)
{
	churn_status st = CHURN_OK;
	churn_matrix *m = NULL;
	src *srcs = NULL;
	uint8_t *labels = NULL;
	size_t *kept = NULL;
	size_t unseen = 0, imputed = 0;
	tsrc ts = {0};

	/* Labels first: they may drop rows. */
	const ch_column *tc = find_column(ds, prep->target);
	if (tc && tc->n_missing == ds->nrows)
		tc = NULL; /* an all-empty target column is a scoring input */
	if (tc) {
		if ((st = tsrc_init(&ts, prep, tc)))
			goto out;
		labels = malloc(nrows ? nrows : 1);
		if (!labels)
			goto nomem;
		size_t a = 0, dropped = 0;
		for (size_t i = 0; i < nrows; i++) {
			int l = tsrc_label(prep, &ts, rows[i]);
			if (l == -2) {
				char buf[40];
				const char *t = cell_text(tc, rows[i], buf, sizeof(buf));
				st = ch_fail(CHURN_E_PARSE, "target '%s', row %zu: '%.60s' is neither the positive label '%s' nor "
				             "the negative '%s'", prep->target, rows[i] + 1, t ? t : "", prep->positive,
				             prep->negative);
				goto out;
			}
			if (l == -1) {
				if (!prep->drop_missing_target) {
					st = ch_fail(CHURN_E_PARSE, "target '%s' is missing in row %zu; set prep.drop_missing_target "
					             "to drop such rows", prep->target, rows[i] + 1);
					goto out;
				}
				if (!kept) {
					kept = malloc((nrows ? nrows : 1) * sizeof(size_t));
					if (!kept)
						goto nomem;
					memcpy(kept, rows, i * sizeof(size_t));
				}
				dropped++;
				continue;
			}
			if (kept)
				kept[a] = rows[i];
			labels[a++] = (uint8_t)l;
		}
		if (kept) {
			rows = kept;
			nrows = a;
		}
		(void)dropped;
	}

	if ((st = churn_matrix_new(nrows, prep->nfeatures, &m)))
		goto out;
	for (size_t j = 0; j < prep->nfeatures; j++)
		if ((st = churn_matrix_set_feature_name(m, j, prep->features[j])))
			goto out;
	if (labels && (st = churn_matrix_set_labels(m, labels, nrows)))
		goto out;

	srcs = calloc(prep->ncols ? prep->ncols : 1, sizeof(src));
	if (!srcs)
		goto nomem;
	for (size_t c = 0; c < prep->ncols; c++)
		if ((st = src_init(&srcs[c], &prep->cols[c], find_column(ds, prep->cols[c].name))))
			goto out;

	double *X = churn_matrix_get_data(m);
	size_t nf = prep->nfeatures;
	for (size_t b0 = 0; b0 < nrows; b0 += BLOCK_ROWS) {
		size_t b1 = b0 + BLOCK_ROWS < nrows ? b0 + BLOCK_ROWS : nrows;
		for (size_t c = 0; c < prep->ncols; c++) {
			const prep_col *pc = &prep->cols[c];
			const src *s = &srcs[c];
			double *col = X + pc->feat0;
			if (pc->kind == PC_NUMERIC) {
				const ch_column *dc = s->c;
				if (dc && dc->type == CHURN_COL_NUMERIC && !pc->indicator) {
					/* Fast path. */
					const double *v = dc->num;
					for (size_t i = b0; i < b1; i++) {
						double x = v[rows[i]];
						if (isnan(x)) {
							x = pc->fill;
							imputed++;
						}
						double z = (x - pc->center) / pc->scale;
						if (!isfinite(z)) {
							st = ch_fail(CHURN_E_NUMERIC, "column '%s', row %zu: value %g overflows when scaled",
							             pc->name, rows[i] + 1, x);
							goto out;
						}
						col[i * nf] = z;
					}
					continue;
				}
				for (size_t i = b0; i < b1; i++) {
					double x;
					int k = src_num(s, rows[i], &x);
					if (k < 0) {
						st = CHURN_E_PARSE;
						goto out;
					}
					if (k == 0) {
						x = pc->fill;
						imputed++;
						if (pc->indicator)
							col[i * nf + 1] = 1;
					}
					double z = (x - pc->center) / pc->scale;
					if (!isfinite(z)) {
						st = ch_fail(CHURN_E_NUMERIC, "column '%s', row %zu: value %g overflows when scaled",
						             pc->name, rows[i] + 1, x);
						goto out;
					}
					col[i * nf] = z;
				}
			} else {
				bool binary = pc->encoding == ENC_BINARY;
				const ch_column *dc = s->c;
				if (dc && dc->type == CHURN_COL_CATEGORICAL && !pc->missing_feature) {
					/* Fast path: source codes through the level map. */
					const int32_t *codes = dc->codes, *map = s->lvl_map;
					int32_t fill = pc->fill_level;
					for (size_t i = b0; i < b1; i++) {
						int32_t code = codes[rows[i]];
						int32_t k;
						if (code < 0) {
							imputed++;
							k = fill;
						} else if ((k = map[code]) < 0) {
							unseen++;
							continue;
						}
						if (k < 0)
							continue;
						if (binary)
							col[i * nf] = k == pc->yes ? 1 : 0;
						else
							col[i * nf + (size_t)k] = 1;
					}
					continue;
				}
				for (size_t i = b0; i < b1; i++) {
					int32_t k = src_cat(s, rows[i]);
					if (k == -2) {
						unseen++;
						continue;
					}
					if (k == -1) {
						imputed++;
						if (pc->missing_feature) {
							col[i * nf + pc->nlevels] = 1;
							continue;
						}
						k = pc->fill_level;
						if (k < 0)
							continue;
					}
					if (binary) {
						if (k == pc->yes)
							col[i * nf] = 1;
					} else {
						col[i * nf + (size_t)k] = 1;
					}
				}
			}
		}
	}
	if (out_unseen)
		*out_unseen = unseen;
	if (out_imputed)
		*out_imputed = imputed;
	*out = m;
	m = NULL;
	goto out;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	if (srcs)
		for (size_t c = 0; c < prep->ncols; c++)
			src_clear(&srcs[c]);
	free(srcs);
	free(ts.lvl);
	free(labels);
	free(kept);
	churn_matrix_free(m);
	return st;
}

churn_status churn_prep_apply_rows_count(const churn_prep *prep, const churn_dataset *ds, const size_t *rows,
                                         size_t nrows, churn_matrix **out, size_t *out_unseen, size_t *out_imputed)
{
	if (!prep || !ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply: NULL argument");
	size_t *all = NULL;
	if (!rows) {
		nrows = ds->nrows;
		all = malloc((nrows ? nrows : 1) * sizeof(size_t));
		if (!all)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		for (size_t i = 0; i < nrows; i++)
			all[i] = i;
		rows = all;
	} else {
		for (size_t i = 0; i < nrows; i++)
			if (rows[i] >= ds->nrows)
				return ch_fail(CHURN_E_INVALID_ARG, "row index %zu is out of range (%zu rows)", rows[i], ds->nrows);
	}
	churn_status st = apply_core(prep, ds, rows, nrows, out, out_unseen, out_imputed);
	free(all);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_prep_apply_rows(const churn_prep *prep, const churn_dataset *ds, const size_t *rows, size_t nrows,
                                   churn_matrix **out)
{
	if (!rows && nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply_rows: rows is NULL");
	if (!rows) {
		/* Zero rows requested. */
		static const size_t none[1] = {0};
		return churn_prep_apply_rows_count(prep, ds, none, 0, out, NULL, NULL);
	}
	return churn_prep_apply_rows_count(prep, ds, rows, nrows, out, NULL, NULL);
}

churn_status churn_prep_apply(const churn_prep *prep, const churn_dataset *ds, churn_matrix **out)
{
	return churn_prep_apply_rows_count(prep, ds, NULL, 0, out, NULL, NULL);
}

churn_status churn_prep_apply_strings(const churn_prep *prep, const char *const *names, const char *const *values,
                                      size_t n, churn_matrix **out)
{
	if (!prep || (n && (!names || !values)) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply_strings: NULL argument");
	churn_dataset *ds = NULL;
	churn_status st = churn_dataset_new(&ds);
	if (st)
		return st;
	for (size_t k = 0; k < n; k++) {
		if (!names[k] || !names[k][0]) {
			st = ch_fail(CHURN_E_INVALID_ARG, "field %zu has no name", k + 1);
			goto out;
		}
		const char *v = values[k] && values[k][0] ? values[k] : NULL;
		if ((st = churn_dataset_add_text(ds, names[k], &v, 1)))
			goto out;
	}
	if (n == 0) {
		/* No fields: one record with every value missing. */
		const char *v = NULL;
		if ((st = churn_dataset_add_text(ds, "\x01empty", &v, 1)))
			goto out;
	}
	st = churn_prep_apply(prep, ds, out);
out:
	churn_dataset_free(ds);
	return st;
}

churn_status churn_prep_apply_json(const churn_prep *prep, const char *json, churn_matrix **out)
{
	if (!prep || !json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply_json: NULL argument");
	churn_status st = CHURN_OK;
	churn_dataset *ds = NULL;
	char **names = NULL;
	const char **cells = NULL;
	char *strs = NULL; /* number text, 40 bytes per cell */
	const cJSON **recs = NULL;
	size_t nnames = 0;
	static const ch_json_limits lim = {CH_JSON_MAX_DEPTH, 0};
	churn_status sst = ch_json_scan(json, strlen(json), &lim, "records", NULL);
	if (sst)
		return sst;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(json, &end, true);
	if (!root)
		return ch_fail(CHURN_E_PARSE, "records: malformed JSON at byte %zu", end && end >= json ? (size_t)(end - json) : 0);
	size_t nrec;
	if (cJSON_IsObject(root)) {
		nrec = 1;
	} else if (cJSON_IsArray(root)) {
		nrec = (size_t)cJSON_GetArraySize(root);
	} else {
		st = ch_fail(CHURN_E_PARSE, "records: expected an object or an array of objects");
		goto out;
	}
	if (nrec == 0) {
		st = ch_fail(CHURN_E_PARSE, "records: empty array");
		goto out;
	}
	/* Records in order (cJSON arrays are linked lists: index them once). */
	recs = malloc(nrec * sizeof(*recs));
	if (!recs)
		goto nomem;
	if (cJSON_IsArray(root)) {
		size_t r = 0;
		for (const cJSON *e = root->child; e && r < nrec; e = e->next)
			recs[r++] = e;
	} else {
		recs[0] = root;
	}
	/* Column names: union of keys, in order of first appearance. */
	for (size_t r = 0; r < nrec; r++) {
		const cJSON *rec = recs[r];
		if (!cJSON_IsObject(rec)) {
			st = ch_fail(CHURN_E_PARSE, "records: record %zu is not an object", r + 1);
			goto out;
		}
		for (const cJSON *f = rec->child; f; f = f->next) {
			size_t k;
			for (k = 0; k < nnames; k++)
				if (strcmp(names[k], f->string) == 0)
					break;
			if (k < nnames)
				continue;
			if ((st = grow((void **)&names, nnames, sizeof(*names))))
				goto out;
			if (!(names[nnames] = ch_strdup(f->string)))
				goto nomem;
			nnames++;
		}
	}
	if ((st = churn_dataset_new(&ds)))
		goto out;
	cells = malloc(nrec * sizeof(*cells));
	strs = malloc(nrec * 40);
	if (!cells || !strs)
		goto nomem;
	for (size_t k = 0; k < nnames; k++) {
		for (size_t r = 0; r < nrec; r++) {
			const cJSON *rec = recs[r];
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, names[k]);
			cells[r] = NULL;
			if (!v || cJSON_IsNull(v))
				continue;
			if (cJSON_IsString(v)) {
				cells[r] = v->valuestring[0] ? v->valuestring : NULL;
			} else if (cJSON_IsNumber(v)) {
				if (!isfinite(v->valuedouble)) {
					st = ch_fail(CHURN_E_PARSE, "record %zu, field '%s': number out of range", r + 1, names[k]);
					goto out;
				}
				ch_format_double_short(strs + r * 40, 40, v->valuedouble);
				cells[r] = strs + r * 40;
			} else if (cJSON_IsBool(v)) {
				cells[r] = cJSON_IsTrue(v) ? "true" : "false";
			} else {
				st = ch_fail(CHURN_E_PARSE, "record %zu, field '%s': expected a string, number, boolean or null",
				             r + 1, names[k]);
				goto out;
			}
		}
		if ((st = churn_dataset_add_text(ds, names[k], cells, nrec)))
			goto out;
	}
	if (nnames == 0) {
		for (size_t r = 0; r < nrec; r++)
			cells[r] = NULL;
		if ((st = churn_dataset_add_text(ds, "\x01empty", cells, nrec)))
			goto out;
	}
	st = churn_prep_apply(prep, ds, out);
	goto out;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	for (size_t k = 0; k < nnames; k++)
		free(names[k]);
	free(names);
	free(cells);
	free(strs);
	free(recs);
	cJSON_Delete(root);
	churn_dataset_free(ds);
	return st;
}

churn_status churn_prep_get_labels(const churn_prep *prep, const churn_dataset *ds, uint8_t **out_y, size_t *out_n)
{
	if (!prep || !ds || !out_y || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_get_labels: NULL argument");
	size_t tj;
	churn_status st = churn_dataset_find_col(ds, prep->target, &tj);
	if (st)
		return ch_fail_prefix(st, "target column '%s'", prep->target);
	const ch_column *tc = &ds->cols[tj];
	tsrc ts;
	if ((st = tsrc_init(&ts, prep, tc)))
		return st;
	uint8_t *y = malloc(ds->nrows ? ds->nrows : 1);
	if (!y) {
		free(ts.lvl);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < ds->nrows; i++) {
		int l = tsrc_label(prep, &ts, i);
		if (l < 0) {
			char buf[40];
			const char *t = cell_text(tc, i, buf, sizeof(buf));
			if (l == -1)
				st = ch_fail(CHURN_E_PARSE, "target '%s' is missing in row %zu", prep->target, i + 1);
			else
				st = ch_fail(CHURN_E_PARSE, "target '%s', row %zu: '%.60s' is neither the positive label '%s' "
				             "nor the negative '%s'", prep->target, i + 1, t ? t : "", prep->positive,
				             prep->negative);
			free(y);
			free(ts.lvl);
			return st;
		}
		y[i] = (uint8_t)l;
	}
	free(ts.lvl);
	*out_y = y;
	*out_n = ds->nrows;
	ch_clear_error();
	return CHURN_OK;
}

/* ---- getters ---- */

size_t churn_prep_get_nfeatures(const churn_prep *prep) { return prep ? prep->nfeatures : 0; }
const char *churn_prep_get_feature_name(const churn_prep *prep, size_t j)
{
	return prep && j < prep->nfeatures ? prep->features[j] : NULL;
}
const char *churn_prep_get_target(const churn_prep *prep) { return prep ? prep->target : NULL; }
const char *churn_prep_get_positive(const churn_prep *prep) { return prep ? prep->positive : NULL; }
size_t churn_prep_get_column_count(const churn_prep *prep) { return prep ? prep->ncols : 0; }
const char *churn_prep_get_column(const churn_prep *prep, size_t j)
{
	return prep && j < prep->ncols ? prep->cols[j].name : NULL;
}
size_t churn_prep_get_id_count(const churn_prep *prep) { return prep ? prep->nids : 0; }
const char *churn_prep_get_id(const churn_prep *prep, size_t k)
{
	return prep && k < prep->nids ? prep->ids[k] : NULL;
}
size_t churn_prep_get_fit_rows(const churn_prep *prep) { return prep ? prep->fit_rows : 0; }
size_t churn_prep_get_dropped_target_rows(const churn_prep *prep) { return prep ? prep->dropped_target_rows : 0; }
size_t churn_prep_get_dropped_count(const churn_prep *prep) { return prep ? prep->ndropped : 0; }
const char *churn_prep_get_dropped_column(const churn_prep *prep, size_t k)
{
	return prep && k < prep->ndropped ? prep->dropped[k].column : NULL;
}
const char *churn_prep_get_dropped_reason(const churn_prep *prep, size_t k)
{
	return prep && k < prep->ndropped ? prep->dropped[k].reason : NULL;
}

/* ---- JSON ---- */

/* A number as shortest round-trip text, written raw so the JSON shows a number. */
static cJSON *num_json(double v)
{
	char buf[40];
	ch_format_double_short(buf, sizeof(buf), v);
	return cJSON_CreateRaw(buf);
}

static bool add_item(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *str_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t k = 0; a && k < n; k++) {
		cJSON *s = cJSON_CreateString(v[k]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

cJSON *ch_prep_to_cjson(const churn_prep *prep)
{
	if (!prep) {
		ch_fail(CHURN_E_INVALID_ARG, "ch_prep_to_cjson: NULL argument");
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o)
		goto nomem;
	cJSON *t, *pa, *cols, *drops;
	if (!add_item(o, "format", cJSON_CreateString(PREP_FORMAT)) || !add_item(o, "version", cJSON_CreateNumber(PREP_VERSION)))
		goto nomem;
	if (!add_item(o, "target", t = cJSON_CreateObject()) || !add_item(t, "name", cJSON_CreateString(prep->target)) ||
	    !add_item(t, "type", cJSON_CreateString(prep->target_numeric ? "numeric" : "text")) ||
	    !add_item(t, "positive", cJSON_CreateString(prep->positive)) ||
	    !add_item(t, "negative", cJSON_CreateString(prep->negative)))
		goto nomem;
	if (prep->target_numeric &&
	    (!add_item(t, "positive_value", num_json(prep->pos_num)) || !add_item(t, "negative_value", num_json(prep->neg_num))))
		goto nomem;
	if (!add_item(o, "ids", str_array(prep->ids, prep->nids)))
		goto nomem;
	if (!add_item(o, "params", pa = cJSON_CreateObject()) ||
	    !add_item(pa, "impute_numeric", cJSON_CreateString(imp_names[prep->impute_numeric])) ||
	    !add_item(pa, "impute_constant", num_json(prep->impute_constant)) ||
	    !add_item(pa, "impute_categorical", cJSON_CreateString(impc_names[prep->impute_categorical])) ||
	    !add_item(pa, "missing_indicator", cJSON_CreateBool(prep->missing_indicator)) ||
	    !add_item(pa, "scale", cJSON_CreateString(sc_names[prep->scale])) ||
	    !add_item(pa, "max_unique_ratio", num_json(prep->max_unique_ratio)) ||
	    !add_item(pa, "max_levels", cJSON_CreateNumber((double)prep->max_levels)) ||
	    !add_item(pa, "drop_missing_target", cJSON_CreateBool(prep->drop_missing_target)))
		goto nomem;
	if (!add_item(o, "fit_rows", cJSON_CreateNumber((double)prep->fit_rows)) ||
	    !add_item(o, "dropped_target_rows", cJSON_CreateNumber((double)prep->dropped_target_rows)))
		goto nomem;
	if (!add_item(o, "columns", cols = cJSON_CreateArray()))
		goto nomem;
	for (size_t j = 0; j < prep->ncols; j++) {
		const prep_col *pc = &prep->cols[j];
		cJSON *c = cJSON_CreateObject();
		if (!c || !cJSON_AddItemToArray(cols, c)) {
			cJSON_Delete(c);
			goto nomem;
		}
		if (!add_item(c, "name", cJSON_CreateString(pc->name)) ||
		    !add_item(c, "type", cJSON_CreateString(pc->kind == PC_NUMERIC ? "numeric" : "categorical")) ||
		    !add_item(c, "fit_missing", cJSON_CreateNumber((double)pc->fit_missing)))
			goto nomem;
		if (pc->kind == PC_NUMERIC) {
			if (!add_item(c, "fill", num_json(pc->fill)) || !add_item(c, "center", num_json(pc->center)) ||
			    !add_item(c, "scale", num_json(pc->scale)) ||
			    !add_item(c, "indicator", cJSON_CreateBool(pc->indicator)))
				goto nomem;
		} else {
			if (!add_item(c, "encoding", cJSON_CreateString(pc->encoding == ENC_BINARY ? "binary" : "onehot")) ||
			    !add_item(c, "levels", str_array(pc->levels, pc->nlevels)))
				goto nomem;
			if (pc->encoding == ENC_BINARY && !add_item(c, "yes", cJSON_CreateString(pc->levels[pc->yes])))
				goto nomem;
			if (!add_item(c, "fill", pc->fill_level >= 0 ? cJSON_CreateString(pc->levels[pc->fill_level])
			                                             : cJSON_CreateNull()) ||
			    !add_item(c, "missing_level", cJSON_CreateBool(pc->missing_feature)))
				goto nomem;
		}
		if (!add_item(c, "features", str_array(prep->features + pc->feat0, pc->nfeat)))
			goto nomem;
	}
	if (!add_item(o, "features", str_array(prep->features, prep->nfeatures)))
		goto nomem;
	if (!add_item(o, "dropped", drops = cJSON_CreateArray()))
		goto nomem;
	for (size_t k = 0; k < prep->ndropped; k++) {
		cJSON *d = cJSON_CreateObject();
		if (!d || !cJSON_AddItemToArray(drops, d)) {
			cJSON_Delete(d);
			goto nomem;
		}
		if (!add_item(d, "column", cJSON_CreateString(prep->dropped[k].column)) ||
		    !add_item(d, "reason", cJSON_CreateString(prep->dropped[k].reason)))
			goto nomem;
	}
	return o;
nomem:
	cJSON_Delete(o);
	ch_fail(CHURN_E_NOMEM, "out of memory");
	return NULL;
}

churn_status churn_prep_to_json(const churn_prep *prep, char **out_json)
{
	if (!prep || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_to_json: NULL argument");
	cJSON *o = ch_prep_to_cjson(prep);
	if (!o)
		return CHURN_E_NOMEM;
	char *s = ch_json_print(o, true);
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* Hand out memory from our allocator (churn_free is free()). */
	char *r = ch_strdup(s);
	free(s);
	if (!r)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_json = r;
	ch_clear_error();
	return CHURN_OK;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_num(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return false;
	*out = v->valuedouble;
	return true;
}

static bool get_bool(const cJSON *o, const char *key, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsBool(v))
		return false;
	*out = cJSON_IsTrue(v);
	return true;
}

static int enum_index(const char *s, const char *const *names, int n)
{
	if (!s)
		return -1;
	for (int k = 0; k < n; k++)
		if (strcmp(s, names[k]) == 0)
			return k;
	return -1;
}

/* Owned copies of an array of strings. */
static bool load_strs(const cJSON *a, char ***out, size_t *out_n)
{
	if (!cJSON_IsArray(a))
		return false;
	size_t n = (size_t)cJSON_GetArraySize(a);
	char **v = calloc(n ? n : 1, sizeof(char *));
	if (!v)
		return false;
	size_t k = 0;
	for (const cJSON *e = a->child; e; e = e->next, k++) {
		if (!cJSON_IsString(e) || !(v[k] = ch_strdup(e->valuestring))) {
			for (size_t i = 0; i < k; i++)
				free(v[i]);
			free(v);
			return false;
		}
	}
	*out = v;
	*out_n = n;
	return true;
}

churn_status ch_prep_from_cjson(const cJSON *o, churn_prep **out)
{
	if (!o || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "ch_prep_from_cjson: NULL argument");
	if (!cJSON_IsObject(o))
		return ch_fail(CHURN_E_PARSE, "prep spec: expected a JSON object");
	const char *fmt = get_str(o, "format");
	if (!fmt || strcmp(fmt, PREP_FORMAT) != 0)
		return ch_fail(CHURN_E_FORMAT, "prep spec: format is '%s', expected '" PREP_FORMAT "'", fmt ? fmt : "(none)");
	double ver;
	if (!get_num(o, "version", &ver) || ver != floor(ver) || ver < 1)
		return ch_fail(CHURN_E_FORMAT, "prep spec: missing or bad version");
	if (ver > PREP_VERSION)
		return ch_fail(CHURN_E_FORMAT, "prep spec: version %.0f is newer than this libchurn reads (%d); upgrade "
		               "libchurn", ver, PREP_VERSION);
	churn_status st = CHURN_OK;
	const char *what = "";
	churn_prep *prep = calloc(1, sizeof(*prep));
	if (!prep)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
#define BAD(w) do { what = (w); goto bad; } while (0)
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "target");
	const char *s;
	if (!cJSON_IsObject(t) || !(s = get_str(t, "name")) || !(prep->target = ch_strdup(s)))
		BAD("target.name");
	if (!(s = get_str(t, "positive")) || !(prep->positive = ch_strdup(s)))
		BAD("target.positive");
	if (!(s = get_str(t, "negative")) || !(prep->negative = ch_strdup(s)))
		BAD("target.negative");
	s = get_str(t, "type");
	prep->target_numeric = s && strcmp(s, "numeric") == 0;
	if (prep->target_numeric &&
	    (!get_num(t, "positive_value", &prep->pos_num) || !get_num(t, "negative_value", &prep->neg_num)))
		BAD("target.positive_value");
	if (!load_strs(cJSON_GetObjectItemCaseSensitive(o, "ids"), &prep->ids, &prep->nids))
		BAD("ids");
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (!cJSON_IsObject(pa))
		BAD("params");
	if ((prep->impute_numeric = enum_index(get_str(pa, "impute_numeric"), imp_names, 3)) < 0)
		BAD("params.impute_numeric");
	if ((prep->impute_categorical = enum_index(get_str(pa, "impute_categorical"), impc_names, 2)) < 0)
		BAD("params.impute_categorical");
	if ((prep->scale = enum_index(get_str(pa, "scale"), sc_names, 3)) < 0)
		BAD("params.scale");
	double d;
	get_num(pa, "impute_constant", &prep->impute_constant);
	get_bool(pa, "missing_indicator", &prep->missing_indicator);
	get_bool(pa, "drop_missing_target", &prep->drop_missing_target);
	get_num(pa, "max_unique_ratio", &prep->max_unique_ratio);
	if (get_num(pa, "max_levels", &d) && d >= 0 && d < 9e15)
		prep->max_levels = (int64_t)d;
	if (get_num(o, "fit_rows", &d) && d >= 0 && d < 9e15)
		prep->fit_rows = (size_t)d;
	if (get_num(o, "dropped_target_rows", &d) && d >= 0 && d < 9e15)
		prep->dropped_target_rows = (size_t)d;
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(o, "columns");
	if (!cJSON_IsArray(cols))
		BAD("columns");
	size_t nc = (size_t)cJSON_GetArraySize(cols);
	prep->cols = calloc(nc ? nc : 1, sizeof(prep_col));
	if (!prep->cols)
		goto nomem;
	for (const cJSON *c = cols->child; c; c = c->next) {
		prep_col *pc = &prep->cols[prep->ncols];
		if (!cJSON_IsObject(c) || !(s = get_str(c, "name")) || !(pc->name = ch_strdup(s)))
			BAD("columns[].name");
		prep->ncols++;
		s = get_str(c, "type");
		if (get_num(c, "fit_missing", &d) && d >= 0 && d < 9e15)
			pc->fit_missing = (size_t)d;
		if (s && strcmp(s, "numeric") == 0) {
			pc->kind = PC_NUMERIC;
			if (!get_num(c, "fill", &pc->fill) || !get_num(c, "center", &pc->center) ||
			    !get_num(c, "scale", &pc->scale) || !(pc->scale > 0) || !get_bool(c, "indicator", &pc->indicator))
				BAD("columns[] numeric fields");
		} else if (s && strcmp(s, "categorical") == 0) {
			pc->kind = PC_CATEGORICAL;
			if (!load_strs(cJSON_GetObjectItemCaseSensitive(c, "levels"), &pc->levels, &pc->nlevels) ||
			    pc->nlevels == 0)
				BAD("columns[].levels");
			for (size_t k = 1; k < pc->nlevels; k++)
				if (strcmp(pc->levels[k - 1], pc->levels[k]) >= 0)
					BAD("columns[].levels (not sorted)");
			const char *enc = get_str(c, "encoding");
			pc->yes = -1;
			if (enc && strcmp(enc, "binary") == 0) {
				pc->encoding = ENC_BINARY;
				const char *y = get_str(c, "yes");
				if (pc->nlevels != 2 || !y || (pc->yes = find_level(pc, y)) < 0)
					BAD("columns[].yes");
			} else if (enc && strcmp(enc, "onehot") == 0) {
				pc->encoding = ENC_ONEHOT;
			} else {
				BAD("columns[].encoding");
			}
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "fill");
			if (cJSON_IsString(f)) {
				if ((pc->fill_level = find_level(pc, f->valuestring)) < 0)
					BAD("columns[].fill");
			} else {
				pc->fill_level = -1;
			}
			get_bool(c, "missing_level", &pc->missing_feature);
			if (pc->encoding == ENC_BINARY && pc->missing_feature)
				BAD("columns[].missing_level");
		} else {
			BAD("columns[].type");
		}
		if ((st = name_features(prep, pc)))
			goto fail;
	}
	/* The stored feature list must match what the columns produce. */
	char **feats = NULL;
	size_t nfe = 0;
	if (!load_strs(cJSON_GetObjectItemCaseSensitive(o, "features"), &feats, &nfe))
		BAD("features");
	bool same = nfe == prep->nfeatures;
	for (size_t k = 0; k < nfe; k++) {
		same = same && strcmp(feats[k], prep->features[k]) == 0;
		free(feats[k]);
	}
	free(feats);
	if (!same)
		BAD("features (do not match the columns)");
	const cJSON *drops = cJSON_GetObjectItemCaseSensitive(o, "dropped");
	if (cJSON_IsArray(drops))
		for (const cJSON *dd = drops->child; dd; dd = dd->next) {
			const char *col = get_str(dd, "column"), *why = get_str(dd, "reason");
			if (!col || !why)
				BAD("dropped[]");
			if ((st = add_drop(prep, col, ch_strdup(why))))
				goto fail;
		}
	if (prep->nfeatures == 0)
		BAD("columns (no features)");
#undef BAD
	*out = prep;
	ch_clear_error();
	return CHURN_OK;
bad:
	st = ch_fail(CHURN_E_PARSE, "prep spec: missing or malformed %s", what);
	goto fail;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
fail:
	churn_prep_free(prep);
	return st;
}

churn_status churn_prep_from_json(const char *json, churn_prep **out)
{
	if (!json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_from_json: NULL argument");
	static const ch_json_limits lim = {CH_JSON_MAX_DEPTH, 0};
	churn_status sst = ch_json_scan(json, strlen(json), &lim, "prep spec", NULL);
	if (sst)
		return sst;
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithOpts(json, &end, true);
	if (!o)
		return ch_fail(CHURN_E_PARSE, "prep spec: malformed JSON at byte %zu", end && end >= json ? (size_t)(end - json) : 0);
	churn_status st = ch_prep_from_cjson(o, out);
	cJSON_Delete(o);
	return st;
}

/* ---- report and CSV ---- */

static const prep_col *find_prep_col(const churn_prep *prep, const char *name)
{
	for (size_t c = 0; c < prep->ncols; c++)
		if (strcmp(prep->cols[c].name, name) == 0)
			return &prep->cols[c];
	return NULL;
}

static churn_status report_column(const churn_prep *prep, const ch_column *dc, const size_t *rows, size_t n,
                                  cJSON *jc)
{
	const prep_col *pc = find_prep_col(prep, dc->name);
	const char *role = "feature", *reason = NULL;
	if (strcmp(dc->name, prep->target) == 0)
		role = "target";
	for (size_t k = 0; k < prep->nids; k++)
		if (strcmp(prep->ids[k], dc->name) == 0)
			role = "id";
	if (!pc && strcmp(role, "feature") == 0) {
		role = "dropped";
		for (size_t k = 0; k < prep->ndropped; k++)
			if (strcmp(prep->dropped[k].column, dc->name) == 0)
				reason = prep->dropped[k].reason;
		if (!reason)
			reason = "not in the fitted spec";
	}
	if (!add_item(jc, "name", cJSON_CreateString(dc->name)) || !add_item(jc, "role", cJSON_CreateString(role)) ||
	    !add_item(jc, "input_type", cJSON_CreateString(churn_col_type_name(dc->type))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (reason && !add_item(jc, "reason", cJSON_CreateString(reason)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!pc)
		return CHURN_OK;
	src s;
	churn_status st = src_init(&s, pc, dc);
	if (st)
		return st;
	cJSON *after = cJSON_CreateObject();
	if (!add_item(jc, "type", cJSON_CreateString(pc->kind == PC_NUMERIC ? "numeric" : "categorical")) ||
	    !add_item(jc, "features", str_array(prep->features + pc->feat0, pc->nfeat)) || !add_item(jc, "after", after)) {
		src_clear(&s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t imputed = 0, unseen = 0;
	if (pc->kind == PC_NUMERIC) {
		double sum = 0, mn = INFINITY, mx = -INFINITY;
		double *v = malloc((n ? n : 1) * sizeof(double));
		if (!v) {
			src_clear(&s);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			double x;
			int k = src_num(&s, rows[i], &x);
			if (k < 0) {
				free(v);
				src_clear(&s);
				return CHURN_E_PARSE;
			}
			if (k == 0) {
				x = pc->fill;
				imputed++;
			}
			v[i] = x;
			sum += x;
			mn = fmin(mn, x);
			mx = fmax(mx, x);
		}
		double mean = n ? sum / (double)n : 0, ss = 0;
		for (size_t i = 0; i < n; i++)
			ss += (v[i] - mean) * (v[i] - mean);
		free(v);
		double sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
		bool ok = add_item(after, "count", cJSON_CreateNumber((double)n)) && add_item(jc, "fill", num_json(pc->fill));
		if (ok && n)
			ok = add_item(after, "mean", num_json(mean)) && add_item(after, "std", num_json(sd)) &&
			     add_item(after, "min", num_json(mn)) && add_item(after, "max", num_json(mx));
		if (!ok) {
			src_clear(&s);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	} else {
		size_t *cnt = calloc(pc->nlevels + 1, sizeof(size_t));
		if (!cnt) {
			src_clear(&s);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			int32_t k = src_cat(&s, rows[i]);
			if (k == -2) {
				unseen++;
				continue;
			}
			if (k == -1) {
				imputed++;
				k = pc->missing_feature ? (int32_t)pc->nlevels : pc->fill_level;
				if (k < 0)
					continue;
			}
			cnt[k]++;
		}
		cJSON *lv = cJSON_CreateArray();
		bool ok = add_item(after, "levels", lv) &&
		          add_item(jc, "fill", pc->fill_level >= 0 ? cJSON_CreateString(pc->levels[pc->fill_level])
		                                                   : cJSON_CreateString(MISSING_LEVEL_NAME)) &&
		          add_item(jc, "encoding", cJSON_CreateString(pc->encoding == ENC_BINARY ? "binary" : "onehot"));
		for (size_t k = 0; ok && k < pc->nlevels + (pc->missing_feature ? 1 : 0); k++) {
			cJSON *e = cJSON_CreateObject();
			ok = e && cJSON_AddItemToArray(lv, e) &&
			     add_item(e, "value", cJSON_CreateString(k < pc->nlevels ? pc->levels[k] : MISSING_LEVEL_NAME)) &&
			     add_item(e, "count", cJSON_CreateNumber((double)cnt[k]));
		}
		free(cnt);
		if (!ok) {
			src_clear(&s);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	}
	src_clear(&s);
	if (!add_item(jc, "imputed", cJSON_CreateNumber((double)imputed)) ||
	    !add_item(jc, "unseen", cJSON_CreateNumber((double)unseen)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

churn_status churn_prep_report_json(const churn_prep *prep, const churn_dataset *ds, const size_t *rows, size_t nrows,
                                    char **out_json)
{
	if (!prep || !ds || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_report_json: NULL argument");
	churn_status st = CHURN_OK;
	size_t *all = NULL;
	cJSON *o = NULL;
	if (!rows) {
		nrows = ds->nrows;
		if (!(all = malloc((nrows ? nrows : 1) * sizeof(size_t))))
			goto nomem;
		for (size_t i = 0; i < nrows; i++)
			all[i] = i;
		rows = all;
	} else {
		for (size_t i = 0; i < nrows; i++)
			if (rows[i] >= ds->nrows) {
				st = ch_fail(CHURN_E_INVALID_ARG, "row index %zu is out of range (%zu rows)", rows[i], ds->nrows);
				goto out;
			}
	}
	cJSON *cols, *drops;
	if (!(o = cJSON_CreateObject()) || !add_item(o, "rows", cJSON_CreateNumber((double)nrows)) ||
	    !add_item(o, "features", cJSON_CreateNumber((double)prep->nfeatures)) ||
	    !add_item(o, "columns", cols = cJSON_CreateArray()))
		goto nomem;
	for (size_t j = 0; j < ds->ncols; j++) {
		cJSON *jc = cJSON_CreateObject();
		if (!jc || !cJSON_AddItemToArray(cols, jc)) {
			cJSON_Delete(jc);
			goto nomem;
		}
		if ((st = report_column(prep, &ds->cols[j], rows, nrows, jc)))
			goto out;
	}
	if (!add_item(o, "dropped", drops = cJSON_CreateArray()))
		goto nomem;
	for (size_t k = 0; k < prep->ndropped; k++) {
		cJSON *d = cJSON_CreateObject();
		if (!d || !cJSON_AddItemToArray(drops, d) ||
		    !add_item(d, "column", cJSON_CreateString(prep->dropped[k].column)) ||
		    !add_item(d, "reason", cJSON_CreateString(prep->dropped[k].reason)))
			goto nomem;
	}
	char *s = ch_json_print(o, false);
	if (!s)
		goto nomem;
	*out_json = ch_strdup(s);
	free(s);
	if (!*out_json)
		goto nomem;
	ch_clear_error();
	goto out;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	cJSON_Delete(o);
	free(all);
	return st;
}

/*
 * Shortest round-trip text of v into buf (>= 40), no locale, as every number
 * the library writes: integers by a digit loop, the rest by ch_dtoa_short()
 * (15, 16 or 17 significant digits: the first that reads back). Returns the length.
 */
static size_t fmt_fast(char *buf, double v)
{
	if (v == 0) {
		buf[0] = '0';
		buf[1] = 0;
		return 1;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		long long x = (long long)v;
		char tmp[24];
		size_t n = 0;
		bool neg = x < 0;
		unsigned long long u = neg ? (unsigned long long)(-x) : (unsigned long long)x;
		do {
			tmp[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		size_t k = 0;
		if (neg)
			buf[k++] = '-';
		while (n)
			buf[k++] = tmp[--n];
		buf[k] = 0;
		return k;
	}
	if (!ch_dtoa_short(v, buf, 40))
		ch_format_double_short(buf, 40, v);
	return strlen(buf);
}

struct ch_prep_csv {
	ch_atomic a;
	char *path;
	char *line;
	size_t nc;
	bool ids, y;
};

void ch_prep_csv_free(ch_prep_csv *w)
{
	if (!w)
		return;
	ch_atomic_abort(&w->a); /* no-op after a commit */
	free(w->line);
	free(w->path);
	free(w);
}

churn_status ch_prep_csv_open(const char *path, const char *const *names, size_t nc, const char *id_name,
                              const char *target, ch_prep_csv **out)
{
	ch_prep_csv *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = ch_strdup(path)) || !(w->line = malloc((nc + 2) * 41 + 8))) {
		ch_prep_csv_free(w);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	w->nc = nc;
	w->ids = id_name != NULL;
	w->y = target != NULL;
	churn_status st = ch_atomic_open(&w->a, path);
	if (st) {
		ch_prep_csv_free(w);
		return st;
	}
	FILE *f = w->a.fp;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	bool first = true;
	if (id_name) {
		ch_csv_field_file(f, id_name);
		first = false;
	}
	for (size_t j = 0; j < nc; j++) {
		if (!first)
			fputc(',', f);
		ch_csv_field_file(f, names[j]);
		first = false;
	}
	if (target) {
		fputc(',', f);
		ch_csv_field_file(f, target);
	}
	fputc('\n', f);
	*out = w;
	return CHURN_OK;
}

churn_status ch_prep_csv_append(ch_prep_csv *w, const churn_matrix *m, const char *const *ids)
{
	size_t nr = churn_matrix_get_nrows(m), nc = w->nc;
	if (churn_matrix_get_ncols(m) != nc || (w->y && nr && !churn_matrix_get_labels(m)) || (w->ids && nr && !ids))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: rows do not match the CSV columns", w->path);
	const double *X = churn_matrix_get_data_const(m);
	const uint8_t *y = w->y ? churn_matrix_get_labels(m) : NULL;
	FILE *f = w->a.fp;
	char *line = w->line;
	for (size_t i = 0; i < nr; i++) {
		if (w->ids) {
			ch_csv_field_file(f, ids[i] ? ids[i] : "");
			if (nc || y)
				fputc(',', f);
		}
		size_t len = 0;
		const double *row = X + i * nc;
		for (size_t j = 0; j < nc; j++) {
			double v = row[j];
			if (v == 0)
				line[len++] = '0';
			else if (v == 1)
				line[len++] = '1';
			else
				len += fmt_fast(line + len, v);
			line[len++] = ',';
		}
		if (y) {
			line[len++] = (char)('0' + y[i]);
		} else if (len) {
			len--;
		}
		line[len++] = '\n';
		if (fwrite(line, 1, len, f) != len)
			break;
	}
	if (ferror(f))
		return ch_fail(CHURN_E_IO, "%s: write failed", w->path);
	return CHURN_OK;
}

churn_status ch_prep_csv_close(ch_prep_csv *w)
{
	churn_status st;
	if (ferror(w->a.fp)) {
		st = ch_fail(CHURN_E_IO, "%s: write failed", w->path);
	} else {
		st = ch_atomic_commit(&w->a);
	}
	ch_prep_csv_free(w);
	return st;
}

churn_status churn_prep_write_csv(const churn_prep *prep, const churn_matrix *m, const char *id_name,
                                  const char *const *ids, const char *path)
{
	if (!prep || !m || !path || (ids && !id_name))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_write_csv: NULL argument");
	size_t nc = churn_matrix_get_ncols(m);
	const char **names = malloc((nc ? nc : 1) * sizeof(*names));
	if (!names)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t j = 0; j < nc; j++)
		names[j] = churn_matrix_get_feature_name(m, j);
	ch_prep_csv *w = NULL;
	churn_status st = ch_prep_csv_open(path, names, nc, ids ? id_name : NULL,
	                                   churn_matrix_get_labels(m) ? prep->target : NULL, &w);
	free(names);
	if (st)
		return st;
	if ((st = ch_prep_csv_append(w, m, ids))) {
		ch_prep_csv_free(w);
		return st;
	}
	st = ch_prep_csv_close(w);
	if (!st)
		ch_clear_error();
	return st;
}
