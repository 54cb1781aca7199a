/*
 * churn_prep_fit: the spec from the fit rows of a data set, in steps: the
 * options, the target (its classes and positive label; rows with a missing
 * target dropped when asked), the ID columns, then each other column fitted
 * as numeric (fill, center, scale) or categorical (levels, fill level,
 * encoding), or dropped with a reason.
 */
#include "churn/prep.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "screen-private.h"
#include "target-private.h"

/* ---- small helpers ---- */

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

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

/* ---- numeric columns ---- */

/*
 * Fill, center and scale of a numeric column from its m non-missing values
 * v (of n fit rows; sum, mn, mx over them), and whether it gets a missing
 * indicator. v is reordered (median).
 */
static void numeric_stats(const churn_prep *prep, ch_prep_col *pc, double *v, size_t m, size_t n, double sum,
                          double mn, double mx)
{
	double mean = sum / (double)m;
	switch (prep->impute_numeric) {
	case CH_IMP_MEAN: pc->fill = mean; break;
	case CH_IMP_CONSTANT: pc->fill = prep->impute_constant; break;
	default: pc->fill = median_of(v, m); break;
	}
	/* Scaling statistics over the imputed values (as an imputer then a scaler would see them). */
	size_t nmiss = n - m;
	double fmn = nmiss ? fmin(mn, pc->fill) : mn, fmx = nmiss ? fmax(mx, pc->fill) : mx;
	pc->center = 0;
	pc->scale = 1;
	if (prep->scale == CH_SC_STANDARD) {
		double mu = (sum + (double)nmiss * pc->fill) / (double)n;
		/* Two-pass variance for accuracy. */
		double ss = 0;
		for (size_t i = 0; i < m; i++)
			ss += (v[i] - mu) * (v[i] - mu);
		ss += (double)nmiss * (pc->fill - mu) * (pc->fill - mu);
		double sd = sqrt(ss / (double)n);
		pc->center = mu;
		pc->scale = (sd > 0 && isfinite(sd)) ? sd : 1;
	} else if (prep->scale == CH_SC_MINMAX) {
		pc->center = fmn;
		pc->scale = (fmx > fmn && isfinite(fmx - fmn)) ? fmx - fmn : 1;
	}
	pc->indicator = prep->missing_indicator && nmiss > 0;
}

/* Fit a numeric column from fit rows; *dropped set when it is constant or all missing. */
static churn_status fit_numeric(churn_prep *prep, ch_prep_col *pc, const ch_column *c, const size_t *rows, size_t n,
                                bool *dropped)
{
	churn_status st = CHURN_OK;
	ch_prep_src s;
	if ((st = ch_prep_src_init(&s, pc, c)))
		return st;
	double *v = malloc((n ? n : 1) * sizeof(double));
	if (!v) {
		ch_prep_src_clear(&s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t m = 0;
	double mn = INFINITY, mx = -INFINITY, sum = 0;
	for (size_t i = 0; i < n; i++) {
		double x;
		int k = ch_prep_src_num(&s, rows[i], &x);
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
		st = ch_prep_add_drop(prep, c->name, ch_asprintf("all %zu values missing", n));
		goto out;
	}
	bool fill_differs = prep->impute_numeric == CH_IMP_CONSTANT && pc->fit_missing > 0 && prep->impute_constant != mn;
	bool has_indicator = prep->missing_indicator && pc->fit_missing > 0;
	if (mn == mx && !fill_differs && !has_indicator) {
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), mn);
		*dropped = true;
		st = ch_prep_add_drop(prep, c->name, ch_asprintf("constant (every value is %s)", buf));
		goto out;
	}
	numeric_stats(prep, pc, v, m, n, sum, mn, mx);
	if (!isfinite(pc->center) || !isfinite(pc->fill)) {
		st = ch_fail(CHURN_E_NUMERIC, "column '%s': statistics overflow (values too large)", c->name);
		goto out;
	}
out:
	free(v);
	ch_prep_src_clear(&s);
	return st;
}

/* ---- categorical columns ---- */

/* Free the first nl levels (levels may be NULL) and the counts; CHURN_E_NOMEM. */
static churn_status levels_nomem(char **levels, size_t nl, size_t *counts)
{
	for (size_t k = 0; k < nl; k++)
		if (levels)
			free(levels[k]);
	free(levels);
	free(counts);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* Levels of a categorical column present among the fit rows (the column's order), with counts. */
static churn_status categorical_levels(const ch_column *c, const size_t *rows, size_t n, char ***out_levels,
                                       size_t **out_counts, size_t *out_nlevels, size_t *out_missing)
{
	char **levels = NULL;
	size_t *counts = NULL, nl = 0, missing = 0;
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
		return levels_nomem(levels, nl, counts);
	}
	size_t a = 0;
	for (size_t k = 0; k < c->nlevels; k++) {
		if (!cnt[k])
			continue;
		counts[a] = cnt[k];
		if (!(levels[a++] = ch_strdup(c->levels[k]))) {
			free(cnt);
			return levels_nomem(levels, a, counts);
		}
	}
	free(cnt);
	*out_levels = levels;
	*out_counts = counts;
	*out_nlevels = nl;
	*out_missing = missing;
	return CHURN_OK;
}

/*
 * The distinct non-empty texts of the fit rows into *set (pointers into the
 * column), missing cells counted; *out_drop_reason set (and the set freed)
 * when there are too many (prep.max_levels) or they are too unique.
 */
static churn_status distinct_texts(const churn_prep *prep, const ch_column *c, const size_t *rows, size_t n,
                                   strset *set, size_t *out_missing, char **out_drop_reason)
{
	size_t nonmissing = 0, missing = 0;
	for (size_t i = 0; i < n; i++) {
		const char *t = ch_prep_text_cell(c, rows[i]);
		if (!t || !t[0]) {
			missing++;
			continue;
		}
		nonmissing++;
		int r = strset_add(set, t);
		if (r < 0) {
			free(set->slot);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		if (set->n > (size_t)prep->max_levels) {
			free(set->slot);
			*out_drop_reason = ch_asprintf("text with more than %lld distinct values (prep.max_levels)",
			                               (long long)prep->max_levels);
			return *out_drop_reason ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	}
	if (nonmissing > 0 && (double)set->n > prep->max_unique_ratio * (double)nonmissing && set->n > 1) {
		free(set->slot);
		*out_drop_reason = ch_asprintf("text too unique to be a feature (%zu distinct of %zu values > "
		                               "prep.max_unique_ratio %g)", set->n, nonmissing, prep->max_unique_ratio);
		return *out_drop_reason ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	*out_missing = missing;
	return CHURN_OK;
}

/* Levels of a text column over the fit rows (strcmp order), with counts; *out_drop_reason as distinct_texts. */
static churn_status text_levels(const churn_prep *prep, const ch_column *c, const size_t *rows, size_t n,
                                char ***out_levels, size_t **out_counts, size_t *out_nlevels, size_t *out_missing,
                                char **out_drop_reason)
{
	char **levels = NULL;
	size_t *counts = NULL, nl = 0, missing = 0;
	strset set = {0};
	churn_status st = distinct_texts(prep, c, rows, n, &set, &missing, out_drop_reason);
	if (st || *out_drop_reason)
		return st;
	levels = calloc(set.n ? set.n : 1, sizeof(char *));
	counts = calloc(set.n ? set.n : 1, sizeof(size_t));
	if (!levels || !counts) {
		free(set.slot);
		return levels_nomem(levels, nl, counts);
	}
	for (size_t k = 0; k < set.cap; k++) {
		if (!set.slot[k])
			continue;
		if (!(levels[nl++] = ch_strdup(set.slot[k]))) {
			free(set.slot);
			return levels_nomem(levels, nl, counts);
		}
	}
	free(set.slot);
	qsort(levels, nl, sizeof(char *), cmp_str_ptr);
	ch_prep_col tmp = {0};
	tmp.levels = levels;
	tmp.nlevels = nl;
	for (size_t i = 0; i < n; i++) {
		const char *t = ch_prep_text_cell(c, rows[i]);
		if (t && t[0])
			counts[ch_prep_find_level(&tmp, t)]++;
	}
	*out_levels = levels;
	*out_counts = counts;
	*out_nlevels = nl;
	*out_missing = missing;
	return CHURN_OK;
}

/* Whether every non-missing text cell of the fit rows is a number (and there is at least one). */
static bool text_is_numeric(const ch_column *c, const size_t *rows, size_t n)
{
	size_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		double v;
		int k = ch_prep_parse_num_text(ch_prep_text_cell(c, rows[i]), &v);
		if (k < 0)
			return false;
		seen += (size_t)k;
	}
	return seen > 0;
}

static churn_status fit_categorical(churn_prep *prep, ch_prep_col *pc, const ch_column *c, const size_t *rows,
                                    size_t n, bool *dropped)
{
	char **levels = NULL, *reason = NULL;
	size_t *counts = NULL, nl = 0, missing = 0;
	churn_status st = c->type == CHURN_COL_CATEGORICAL
	                          ? categorical_levels(c, rows, n, &levels, &counts, &nl, &missing)
	                          : text_levels(prep, c, rows, n, &levels, &counts, &nl, &missing, &reason);
	if (st)
		return st;
	*dropped = false;
	if (reason) {
		*dropped = true;
		return ch_prep_add_drop(prep, c->name, reason);
	}
	pc->fit_missing = missing;
	if (nl == 0) {
		free(levels);
		free(counts);
		*dropped = true;
		return ch_prep_add_drop(prep, c->name, ch_asprintf("all %zu values missing", n));
	}
	bool missing_level = prep->impute_categorical == CH_IMPC_MISSING_LEVEL && missing > 0;
	if (nl == 1 && !missing_level) {
		char *r = ch_asprintf("constant (every value is '%s')", levels[0]);
		free(levels[0]);
		free(levels);
		free(counts);
		*dropped = true;
		return ch_prep_add_drop(prep, c->name, r);
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
	pc->encoding = CH_ENC_ONEHOT;
	pc->yes = -1;
	if (nl == 2 && !missing_level) {
		int y0 = ch_prep_yes_index(levels[0]), y1 = ch_prep_yes_index(levels[1]);
		int n0 = ch_prep_no_index(levels[0]), n1 = ch_prep_no_index(levels[1]);
		if (y0 >= 0 && y0 == n1) {
			pc->encoding = CH_ENC_BINARY;
			pc->yes = 0;
		} else if (y1 >= 0 && y1 == n0) {
			pc->encoding = CH_ENC_BINARY;
			pc->yes = 1;
		}
	}
	return CHURN_OK;
}

/* ---- the target ---- */

/* Decide the target's classes and positive label from the fit rows (target-private.h: the rule of every command). */
static churn_status fit_target(churn_prep *prep, const churn_dataset *ds, size_t tj, const size_t *rows, size_t n,
                               const char *want_pos, size_t *out_missing)
{
	const ch_column *c = &ds->cols[tj];
	char where[300];
	ch_target t;
	churn_status st = ch_target_fit(ds, tj, rows, n, want_pos, &t);
	if (st)
		return st;
	if (t.missing && !prep->drop_missing_target) {
		st = ch_fail(CHURN_E_PARSE, "target '%s' is missing in %zu rows (first at %s); set "
		             "prep.drop_missing_target to drop those rows", c->name, t.missing,
		             ch_dataset_where(ds, t.first_missing, where, sizeof(where)));
		ch_target_clear(&t);
		return st;
	}
	prep->target_numeric = t.numeric;
	prep->pos_num = t.pos_num;
	prep->neg_num = t.neg_num;
	prep->positive = t.positive;
	prep->negative = t.negative;
	*out_missing = t.missing;
	return CHURN_OK;
}

/* ---- churn_prep_fit, step by step ---- */

/* The prep.* options and the target's name into prep (no params: the registry's defaults, params-keys.def). */
static churn_status read_options(churn_prep *prep, const churn_params *p)
{
	churn_status st;
	if ((st = parse_enum(p, CHURN_KEY_PREP_IMPUTE_NUMERIC, ch_prep_imp_names, 3, &prep->impute_numeric)) ||
	    (st = parse_enum(p, CHURN_KEY_PREP_IMPUTE_CATEGORICAL, ch_prep_impc_names, 2, &prep->impute_categorical)) ||
	    (st = parse_enum(p, CHURN_KEY_PREP_SCALE, ch_prep_sc_names, 3, &prep->scale)))
		return st;
	prep->impute_constant = churn_params_get_double(p, CHURN_KEY_PREP_IMPUTE_CONSTANT);
	prep->missing_indicator = churn_params_get_bool(p, CHURN_KEY_PREP_MISSING_INDICATOR);
	prep->drop_missing_target = churn_params_get_bool(p, CHURN_KEY_PREP_DROP_MISSING_TARGET);
	prep->max_unique_ratio = churn_params_get_double(p, CHURN_KEY_PREP_MAX_UNIQUE_RATIO);
	prep->max_levels = churn_params_get_int(p, CHURN_KEY_PREP_MAX_LEVELS);
	const char *target = churn_params_get_str(p, CHURN_KEY_DATA_TARGET);
	if (!target[0])
		return ch_fail(CHURN_E_INVALID_ARG, "data.target: the target column's name is empty");
	if (!(prep->target = ch_strdup(target)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

/*
 * Fit the target on *rows; when rows with a missing target are dropped,
 * *rows and *nrows become the kept rows (*kept, the caller frees it). *tj is
 * the target's column.
 */
static churn_status fit_target_rows(churn_prep *prep, const churn_dataset *ds, const churn_params *p,
                                    const size_t **rows, size_t *nrows, size_t **kept, size_t *tj)
{
	churn_status st;
	if ((st = churn_dataset_find_col(ds, prep->target, tj)))
		return ch_fail_prefix(st, "target column '%s'", prep->target);
	const ch_column *tc = &ds->cols[*tj];
	size_t tmissing = 0;
	if ((st = fit_target(prep, ds, *tj, *rows, *nrows, churn_params_get_str(p, CHURN_KEY_DATA_POSITIVE), &tmissing)))
		return st;
	if (tmissing) {
		size_t *k = malloc((*nrows - tmissing ? *nrows - tmissing : 1) * sizeof(size_t));
		if (!k)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		size_t a = 0;
		char buf[40];
		for (size_t i = 0; i < *nrows; i++) {
			if (ch_prep_label_of_text(prep, ch_prep_cell_text(tc, (*rows)[i], buf, sizeof(buf))) != -1)
				k[a++] = (*rows)[i];
		}
		*kept = k;
		*rows = k;
		*nrows = a;
		prep->dropped_target_rows = tmissing;
		ch_log(p, CHURN_LOG_WARN, "dropped %zu rows with a missing target '%s'", tmissing, prep->target);
	}
	prep->fit_rows = *nrows;
	return CHURN_OK;
}

/* The ID columns: data.id (each must exist and not be the target), else customerID when present. */
churn_status ch_prep_id_columns(const churn_dataset *ds, const churn_params *p, const char *target, char ***out,
                                size_t *out_n)
{
	churn_status st;
	const char *idspec = churn_params_get_str(p, CHURN_KEY_DATA_ID);
	*out = NULL;
	*out_n = 0;
	if (idspec[0]) {
		if ((st = ch_list_split(idspec, out, out_n)))
			return st;
		for (size_t k = 0; k < *out_n; k++) {
			size_t j;
			if ((st = churn_dataset_find_col(ds, (*out)[k], &j)))
				return ch_fail_prefix(st, "ID column '%s'", (*out)[k]);
			if (strcmp((*out)[k], target) == 0)
				return ch_fail(CHURN_E_INVALID_ARG, "column '%s' cannot be both the target and an ID", target);
		}
	} else if (ch_prep_find_column(ds, "customerID") && strcmp(target, "customerID") != 0) {
		if (!(*out = malloc(sizeof(char *))) || !((*out)[0] = ch_strdup("customerID")))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		*out_n = 1;
	}
	return CHURN_OK;
}

static churn_status fit_ids(churn_prep *prep, const churn_dataset *ds, const churn_params *p)
{
	return ch_prep_id_columns(ds, p, prep->target, &prep->ids, &prep->nids);
}

/* The labels of the fit rows (0/1: fit_target_rows kept only rows with one of the two classes). */
static churn_status fit_labels(const churn_prep *prep, const ch_column *tc, const size_t *rows, size_t n,
                               uint8_t **out)
{
	ch_prep_tsrc ts;
	churn_status st = ch_prep_tsrc_init(&ts, prep, tc);
	uint8_t *y = st ? NULL : malloc(n ? n : 1);
	if (!st && !y)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < n; i++)
		y[i] = ch_prep_tsrc_label(prep, &ts, rows[i]) == 1;
	free(ts.lvl);
	*out = y;
	return st;
}

/*
 * Columns that look like identifiers or leak the target (screen-private.h) are dropped with a reason saying
 * how to keep them (prep.keep_columns); *dropped then.
 */
static churn_status screen_column(churn_prep *prep, const ch_column *c, const size_t *rows, size_t n,
                                  const uint8_t *y, const churn_params *p, bool *dropped)
{
	bool id = false;
	char *why = NULL;
	double auc = NAN;
	churn_status st = ch_screen_identifier(c, rows, n, &id, &why);
	if (!st && !id)
		st = ch_screen_auc(c, rows, y, n, &auc);
	*dropped = !st && (id || auc >= CH_SCREEN_LEAK_AUC);
	if (st || !*dropped)
		return st;
	char *reason = id ? ch_asprintf("%s; keep it as a feature with prep.keep_columns", why)
	                  : ch_asprintf("leaks the target: alone it separates the classes (ROC AUC %.4f on the fit "
	                                "rows); keep it with prep.keep_columns", auc);
	free(why);
	if (reason)
		ch_log(p, id ? CHURN_LOG_INFO : CHURN_LOG_WARN, "prep: dropped column '%s': %s", c->name, reason);
	return ch_prep_add_drop(prep, c->name, reason);
}

/* Whether the comma-separated list (prep.keep_columns) names column @p name. */
static bool listed(char *const *names, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(names[k], name) == 0)
			return true;
	return false;
}

static churn_status fit_each_column(churn_prep *prep, const churn_dataset *ds, size_t tj, const size_t *rows,
                                    size_t nrows, const uint8_t *y, char *const *keep, size_t nkeep,
                                    const churn_params *p);

/* Fit every column but the target (column tj) and the IDs, or record why it is dropped. */
static churn_status fit_columns(churn_prep *prep, const churn_dataset *ds, size_t tj, const size_t *rows,
                                size_t nrows, const churn_params *p)
{
	char **keep = NULL;
	size_t nkeep = 0;
	uint8_t *y = NULL;
	churn_status st = ch_list_split(churn_params_get_str(p, CHURN_KEY_PREP_KEEP_COLUMNS), &keep, &nkeep);
	if (!st)
		st = fit_labels(prep, &ds->cols[tj], rows, nrows, &y);
	if (!st)
		st = fit_each_column(prep, ds, tj, rows, nrows, y, keep, nkeep, p);
	for (size_t k = 0; k < nkeep; k++)
		free(keep[k]);
	free(keep);
	free(y);
	return st;
}

static churn_status fit_each_column(churn_prep *prep, const churn_dataset *ds, size_t tj, const size_t *rows,
                                    size_t nrows, const uint8_t *y, char *const *keep, size_t nkeep,
                                    const churn_params *p)
{
	churn_status st;
	prep->cols = calloc(ds->ncols ? ds->ncols : 1, sizeof(ch_prep_col));
	if (!prep->cols)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t j = 0; j < ds->ncols; j++) {
		const ch_column *c = &ds->cols[j];
		if (j == tj)
			continue;
		bool is_id = false;
		for (size_t k = 0; k < prep->nids; k++)
			is_id |= strcmp(prep->ids[k], c->name) == 0;
		if (is_id) {
			if ((st = ch_prep_add_drop(prep, c->name, ch_strdup("ID column"))))
				return st;
			continue;
		}
		bool dropped = false;
		if (!listed(keep, nkeep, c->name) && (st = screen_column(prep, c, rows, nrows, y, p, &dropped)))
			return st;
		if (dropped)
			continue;
		ch_prep_col *pc = &prep->cols[prep->ncols];
		if (!(pc->name = ch_strdup(c->name)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		bool numeric = c->type == CHURN_COL_NUMERIC ||
		               (c->type == CHURN_COL_TEXT && text_is_numeric(c, rows, nrows));
		pc->kind = numeric ? CH_PC_NUMERIC : CH_PC_CATEGORICAL;
		st = numeric ? fit_numeric(prep, pc, c, rows, nrows, &dropped)
		             : fit_categorical(prep, pc, c, rows, nrows, &dropped);
		if (st) {
			ch_prep_col_clear(pc);
			return st;
		}
		if (dropped) {
			ch_log(p, CHURN_LOG_INFO, "prep: dropped column '%s': %s", c->name,
			       prep->dropped[prep->ndropped - 1].reason);
			ch_prep_col_clear(pc);
			continue;
		}
		prep->ncols++;
		if ((st = ch_prep_name_features(prep, pc)))
			return st;
	}
	if (prep->nfeatures == 0)
		return ch_fail(CHURN_E_PARSE, "no usable feature columns (every column is the target, an ID, constant, "
		               "missing or too unique)");
	return CHURN_OK;
}

churn_status churn_prep_fit(const churn_dataset *ds, const size_t *rows, size_t nrows, const churn_params *p,
                            churn_prep **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_fit: NULL argument");
	size_t *all = NULL, *kept = NULL, tj = 0;
	churn_prep *prep = calloc(1, sizeof(*prep));
	if (!prep)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_prep_rows(ds, &rows, &nrows, &all);
	if (!st && nrows == 0)
		st = ch_fail(CHURN_E_INVALID_ARG, "cannot fit on zero rows");
	if (!st)
		st = read_options(prep, p);
	if (!st)
		st = fit_target_rows(prep, ds, p, &rows, &nrows, &kept, &tj);
	if (!st)
		st = fit_ids(prep, ds, p);
	if (!st)
		st = fit_columns(prep, ds, tj, rows, nrows, p);
	free(all);
	free(kept);
	if (st) {
		churn_prep_free(prep);
		return st;
	}
	*out = prep;
	ch_clear_error();
	return CHURN_OK;
}
