/* churn_dataset: columnar table of numeric, categorical and text columns. */
#include "churn/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core-private.h"
#include "dataset-private.h"

const char *churn_col_type_name(churn_col_type t)
{
	switch (t) {
	case CHURN_COL_NUMERIC: return "numeric";
	case CHURN_COL_CATEGORICAL: return "categorical";
	case CHURN_COL_TEXT: return "text";
	}
	return "unknown";
}

churn_status churn_dataset_new(churn_dataset **out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_dataset_new: out is NULL");
	churn_dataset *ds = calloc(1, sizeof(*ds));
	if (!ds)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = ds;
	return CHURN_OK;
}

void ch_column_clear(ch_column *c)
{
	free(c->name);
	free(c->num);
	free(c->codes);
	for (size_t k = 0; k < c->nlevels; k++)
		free(c->levels[k]);
	free(c->levels);
	free(c->arena);
	free(c->off);
	memset(c, 0, sizeof(*c));
}

void churn_dataset_free(churn_dataset *ds)
{
	if (!ds)
		return;
	for (size_t j = 0; j < ds->ncols; j++)
		ch_column_clear(&ds->cols[j]);
	free(ds->cols);
	free(ds->source);
	free(ds->lines);
	free(ds);
}

const char *ch_dataset_where(const churn_dataset *ds, size_t row, char *buf, size_t cap)
{
	if (!ds || !ds->source) {
		snprintf(buf, cap, "row %zu", row + 1);
		return buf;
	}
	size_t lo = 0, hi = ds->nlines; /* the last break at or before row */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ds->lines[mid].row <= row)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t line = lo ? ds->lines[lo - 1].line + (row - ds->lines[lo - 1].row) : row + 2;
	snprintf(buf, cap, "%s:%zu", ds->source, line);
	return buf;
}

churn_status ch_dataset_take_column(churn_dataset *ds, ch_column *c, size_t nrows)
{
	if (!c->name || !c->name[0])
		return ch_fail(CHURN_E_INVALID_ARG, "column %zu has an empty name", ds->ncols + 1);
	for (size_t j = 0; j < ds->ncols; j++)
		if (strcmp(ds->cols[j].name, c->name) == 0)
			return ch_fail(CHURN_E_INVALID_ARG, "duplicate column name '%s' (columns %zu and %zu)",
			               c->name, j + 1, ds->ncols + 1);
	if (ds->ncols > 0 && nrows != ds->nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "column '%s' has %zu rows, the dataset has %zu",
		               c->name, nrows, ds->nrows);
	if (ds->ncols == ds->cap) {
		size_t ncap = ds->cap ? ds->cap * 2 : 16;
		ch_column *nc = realloc(ds->cols, ncap * sizeof(*nc));
		if (!nc)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		ds->cols = nc;
		ds->cap = ncap;
	}
	ds->cols[ds->ncols++] = *c;
	ds->nrows = nrows;
	memset(c, 0, sizeof(*c));
	return CHURN_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

churn_status ch_column_sort_levels(ch_column *c, size_t nrows)
{
	size_t k = c->nlevels;
	if (k < 2)
		return CHURN_OK;
	char **sorted = malloc(k * sizeof(*sorted));
	int32_t *remap = malloc(k * sizeof(*remap));
	if (!sorted || !remap) {
		free(sorted);
		free(remap);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	memcpy(sorted, c->levels, k * sizeof(*sorted));
	qsort(sorted, k, sizeof(*sorted), cmp_str_ptr);
	for (size_t a = 0; a < k; a++) {
		char *key = c->levels[a];
		char **hit = bsearch(&key, sorted, k, sizeof(*sorted), cmp_str_ptr);
		remap[a] = (int32_t)(hit - sorted);
	}
	for (size_t i = 0; i < nrows; i++)
		if (c->codes[i] >= 0)
			c->codes[i] = remap[c->codes[i]];
	free(c->levels);
	c->levels = sorted;
	free(remap);
	return CHURN_OK;
}

int32_t ch_column_find_level(const ch_column *c, const char *s)
{
	size_t lo = 0, hi = c->nlevels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->levels[mid], s);
		if (r == 0)
			return (int32_t)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static churn_status check_add(churn_dataset *ds, const char *name, const void *v, size_t n)
{
	if (!ds || !name || (n > 0 && !v))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_dataset_add: NULL argument");
	if (ds->ncols > 0 && n != ds->nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "column '%s' has %zu rows, the dataset has %zu", name, n, ds->nrows);
	return CHURN_OK;
}

churn_status churn_dataset_add_numeric(churn_dataset *ds, const char *name, const double *v, size_t n)
{
	churn_status st = check_add(ds, name, v, n);
	if (st)
		return st;
	ch_column c = {0};
	c.type = CHURN_COL_NUMERIC;
	c.name = ch_strdup(name);
	c.num = malloc((n ? n : 1) * sizeof(double));
	if (!c.name || !c.num) {
		ch_column_clear(&c);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (isinf(v[i])) {
			ch_column_clear(&c);
			return ch_fail(CHURN_E_NUMERIC, "column '%s', row %zu: infinite value", name, i + 1);
		}
		if (isnan(v[i]))
			c.n_missing++;
		c.num[i] = v[i];
	}
	st = ch_dataset_take_column(ds, &c, n);
	if (st)
		ch_column_clear(&c);
	return st;
}

churn_status churn_dataset_add_categorical(churn_dataset *ds, const char *name, const char *const *values, size_t n)
{
	churn_status st = check_add(ds, name, values, n);
	if (st)
		return st;
	ch_column c = {0};
	c.type = CHURN_COL_CATEGORICAL;
	c.name = ch_strdup(name);
	c.codes = malloc((n ? n : 1) * sizeof(int32_t));
	if (!c.name || !c.codes)
		goto nomem;
	/* Dictionary in first-appearance order (linear search; small by design), then sort. */
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (!values[i]) {
			c.codes[i] = -1;
			c.n_missing++;
			continue;
		}
		size_t k;
		for (k = 0; k < c.nlevels; k++)
			if (strcmp(c.levels[k], values[i]) == 0)
				break;
		if (k == c.nlevels) {
			if (c.nlevels == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				char **nl = realloc(c.levels, ncap * sizeof(*nl));
				if (!nl)
					goto nomem;
				c.levels = nl;
				cap = ncap;
			}
			if (!(c.levels[c.nlevels] = ch_strdup(values[i])))
				goto nomem;
			c.nlevels++;
		}
		c.codes[i] = (int32_t)k;
	}
	if ((st = ch_column_sort_levels(&c, n)) || (st = ch_dataset_take_column(ds, &c, n))) {
		ch_column_clear(&c);
		return st;
	}
	return CHURN_OK;
nomem:
	ch_column_clear(&c);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

churn_status churn_dataset_add_text(churn_dataset *ds, const char *name, const char *const *values, size_t n)
{
	churn_status st = check_add(ds, name, values, n);
	if (st)
		return st;
	ch_column c = {0};
	c.type = CHURN_COL_TEXT;
	c.name = ch_strdup(name);
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (values[i])
			total += strlen(values[i]) + 1;
	c.arena = malloc(total ? total : 1);
	c.off = malloc((n ? n : 1) * sizeof(uint64_t));
	if (!c.name || !c.arena || !c.off) {
		ch_column_clear(&c);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (!values[i]) {
			c.off[i] = CH_TEXT_MISSING;
			c.n_missing++;
			continue;
		}
		size_t len = strlen(values[i]) + 1;
		memcpy(c.arena + c.arena_len, values[i], len);
		c.off[i] = c.arena_len;
		c.arena_len += len;
	}
	st = ch_dataset_take_column(ds, &c, n);
	if (st)
		ch_column_clear(&c);
	return st;
}

size_t churn_dataset_get_row_count(const churn_dataset *ds)
{
	return ds ? ds->nrows : 0;
}

size_t churn_dataset_get_rows_read(const churn_dataset *ds)
{
	return !ds ? 0 : ds->rows_read > ds->nrows ? ds->rows_read : ds->nrows;
}

size_t churn_dataset_get_column_count(const churn_dataset *ds)
{
	return ds ? ds->ncols : 0;
}

static const ch_column *col(const churn_dataset *ds, size_t j)
{
	return (ds && j < ds->ncols) ? &ds->cols[j] : NULL;
}

const char *churn_dataset_get_col_name(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return c ? c->name : NULL;
}

churn_col_type churn_dataset_get_col_type(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return c ? c->type : CHURN_COL_TEXT;
}

churn_status churn_dataset_find_col(const churn_dataset *ds, const char *name, size_t *out_j)
{
	if (!ds || !name || !out_j)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_dataset_find_col: NULL argument");
	for (size_t j = 0; j < ds->ncols; j++) {
		if (strcmp(ds->cols[j].name, name) == 0) {
			*out_j = j;
			return CHURN_OK;
		}
	}
	char list[700];
	size_t used = 0;
	list[0] = '\0';
	for (size_t j = 0; j < ds->ncols && used + 4 < sizeof(list); j++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "", ds->cols[j].name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (used >= sizeof(list))
		strcpy(list + sizeof(list) - 5, "...");
	return ch_fail(CHURN_E_NOTFOUND, "no column '%s'; the columns are: %s", name, list);
}

size_t churn_dataset_get_missing_count(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return c ? c->n_missing : 0;
}

bool churn_dataset_is_missing(const churn_dataset *ds, size_t j, size_t i)
{
	const ch_column *c = col(ds, j);
	if (!c || i >= ds->nrows)
		return true;
	switch (c->type) {
	case CHURN_COL_NUMERIC: return isnan(c->num[i]);
	case CHURN_COL_CATEGORICAL: return c->codes[i] < 0;
	case CHURN_COL_TEXT: return c->off[i] == CH_TEXT_MISSING;
	}
	return true;
}

const double *churn_dataset_get_numeric(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return (c && c->type == CHURN_COL_NUMERIC) ? c->num : NULL;
}

const int32_t *churn_dataset_get_codes(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return (c && c->type == CHURN_COL_CATEGORICAL) ? c->codes : NULL;
}

size_t churn_dataset_get_level_count(const churn_dataset *ds, size_t j)
{
	const ch_column *c = col(ds, j);
	return (c && c->type == CHURN_COL_CATEGORICAL) ? c->nlevels : 0;
}

const char *churn_dataset_get_level(const churn_dataset *ds, size_t j, size_t k)
{
	const ch_column *c = col(ds, j);
	return (c && c->type == CHURN_COL_CATEGORICAL && k < c->nlevels) ? c->levels[k] : NULL;
}

const char *churn_dataset_get_text(const churn_dataset *ds, size_t j, size_t i)
{
	const ch_column *c = col(ds, j);
	if (!c || c->type != CHURN_COL_TEXT || i >= ds->nrows || c->off[i] == CH_TEXT_MISSING)
		return NULL;
	return c->arena + c->off[i];
}

const char *churn_dataset_get_cell_text(const churn_dataset *ds, size_t j, size_t i, char *buf, size_t cap)
{
	const ch_column *c = col(ds, j);
	if (!c || i >= ds->nrows)
		return NULL;
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		if (isnan(c->num[i]) || !buf || cap < 32)
			return NULL;
		ch_format_double_short(buf, cap, c->num[i]);
		return buf;
	case CHURN_COL_CATEGORICAL:
		return c->codes[i] < 0 ? NULL : c->levels[c->codes[i]];
	case CHURN_COL_TEXT:
		return c->off[i] == CH_TEXT_MISSING ? NULL : c->arena + c->off[i];
	}
	return NULL;
}

churn_status churn_dataset_subset_rows(const churn_dataset *ds, const size_t *idx, size_t n, churn_dataset **out)
{
	if (!ds || (n && !idx) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_dataset_subset_rows: NULL argument");
	for (size_t r = 0; r < n; r++)
		if (idx[r] >= ds->nrows)
			return ch_fail(CHURN_E_INVALID_ARG, "row index %zu out of range (%zu rows)", idx[r], ds->nrows);
	churn_dataset *res = NULL;
	churn_status st = churn_dataset_new(&res);
	if (st)
		return st;
	for (size_t j = 0; j < ds->ncols; j++) {
		const ch_column *s = &ds->cols[j];
		ch_column c = {0};
		c.type = s->type;
		c.name = ch_strdup(s->name);
		if (!c.name)
			goto nomem;
		if (s->type == CHURN_COL_NUMERIC) {
			if (!(c.num = malloc((n ? n : 1) * sizeof(double))))
				goto nomem;
			for (size_t r = 0; r < n; r++) {
				c.num[r] = s->num[idx[r]];
				c.n_missing += isnan(c.num[r]);
			}
		} else if (s->type == CHURN_COL_CATEGORICAL) {
			if (!(c.codes = malloc((n ? n : 1) * sizeof(int32_t))))
				goto nomem;
			if (!(c.levels = calloc(s->nlevels ? s->nlevels : 1, sizeof(char *))))
				goto nomem;
			for (size_t k = 0; k < s->nlevels; k++) {
				if (!(c.levels[k] = ch_strdup(s->levels[k])))
					goto nomem;
				c.nlevels++;
			}
			for (size_t r = 0; r < n; r++) {
				c.codes[r] = s->codes[idx[r]];
				c.n_missing += c.codes[r] < 0;
			}
		} else {
			size_t total = 0;
			for (size_t r = 0; r < n; r++)
				if (s->off[idx[r]] != CH_TEXT_MISSING)
					total += strlen(s->arena + s->off[idx[r]]) + 1;
			c.arena = malloc(total ? total : 1);
			c.off = malloc((n ? n : 1) * sizeof(uint64_t));
			if (!c.arena || !c.off)
				goto nomem;
			for (size_t r = 0; r < n; r++) {
				if (s->off[idx[r]] == CH_TEXT_MISSING) {
					c.off[r] = CH_TEXT_MISSING;
					c.n_missing++;
					continue;
				}
				const char *src = s->arena + s->off[idx[r]];
				size_t len = strlen(src) + 1;
				memcpy(c.arena + c.arena_len, src, len);
				c.off[r] = c.arena_len;
				c.arena_len += len;
			}
		}
		if ((st = ch_dataset_take_column(res, &c, n))) {
			ch_column_clear(&c);
			churn_dataset_free(res);
			return st;
		}
		continue;
nomem:
		ch_column_clear(&c);
		churn_dataset_free(res);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	*out = res;
	return CHURN_OK;
}

const char *ch_dataset_resolve_name(const churn_dataset *ds, const char *name)
{
	const char *hit = NULL;
	for (size_t j = 0; j < ds->ncols; j++) {
		if (strcmp(ds->cols[j].name, name) == 0)
			return ds->cols[j].name;
		if (strcasecmp(ds->cols[j].name, name) == 0) {
			if (hit)
				return name; /* ambiguous: only the exact name will do */
			hit = ds->cols[j].name;
		}
	}
	return hit ? hit : name;
}
