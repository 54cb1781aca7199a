/*
 * churn_prep: fitted feature preparation (impute, encode, scale). This file
 * holds the spec's lifetime, the helpers the prep files share (yes/no
 * tokens, number text, level lookup, source cells, target labels, feature
 * names, dropped columns, row lists) and the getters; prep-private.h lists
 * the other files. See churn/prep.h for the behaviour.
 */
#include "churn/prep.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core-private.h"
#include "dataset-private.h"
#include "prep-private.h"
#include "target-private.h"

const char *const ch_prep_imp_names[3] = {"median", "mean", "constant"};
const char *const ch_prep_impc_names[2] = {"most_frequent", "missing_level"};
const char *const ch_prep_sc_names[3] = {"standard", "minmax", "none"};

/* ---- lifetime ---- */

void ch_prep_col_clear(ch_prep_col *c)
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
		ch_prep_col_clear(&prep->cols[j]);
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

/* ---- the spec's parts ---- */

churn_status ch_prep_grow(void **arr, size_t n, size_t elem)
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

churn_status ch_prep_add_drop(churn_prep *prep, const char *column, char *reason /* owned */)
{
	if (!reason)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_prep_grow((void **)&prep->dropped, prep->ndropped, sizeof(*prep->dropped));
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
	churn_status st = ch_prep_grow((void **)&prep->features, prep->nfeatures, sizeof(*prep->features));
	if (st) {
		free(name);
		return st;
	}
	prep->features[prep->nfeatures++] = name;
	return CHURN_OK;
}

churn_status ch_prep_name_features(churn_prep *prep, ch_prep_col *pc)
{
	churn_status st;
	pc->feat0 = prep->nfeatures;
	if (pc->kind == CH_PC_NUMERIC) {
		if ((st = add_feature(prep, ch_strdup(pc->name))))
			return st;
		if (pc->indicator && (st = add_feature(prep, ch_asprintf("%s_missing", pc->name))))
			return st;
	} else if (pc->encoding == CH_ENC_BINARY) {
		if ((st = add_feature(prep, ch_asprintf("%s=%s", pc->name, pc->levels[pc->yes]))))
			return st;
	} else {
		for (size_t k = 0; k < pc->nlevels; k++)
			if ((st = add_feature(prep, ch_asprintf("%s=%s", pc->name, pc->levels[k]))))
				return st;
		if (pc->missing_feature &&
		    (st = add_feature(prep, ch_asprintf("%s=" CH_PREP_MISSING_LEVEL, pc->name))))
			return st;
	}
	pc->nfeat = prep->nfeatures - pc->feat0;
	return CHURN_OK;
}

/* ---- tokens, numbers and levels ---- */

static const char *const yes_tokens[] = {"yes", "true", "1", "y", "t", NULL};
static const char *const no_tokens[] = {"no", "false", "0", "n", "f", NULL};

int ch_prep_yes_index(const char *s)
{
	for (int k = 0; yes_tokens[k]; k++)
		if (strcasecmp(s, yes_tokens[k]) == 0)
			return k;
	return -1;
}

int ch_prep_no_index(const char *s)
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
	if ((s[0] | 0x20) != 'n') /* every token starts with n: a number is rejected at once */
		return false;
	for (int k = 0; toks[k]; k++)
		if (strlen(toks[k]) == n && strncasecmp(s, toks[k], n) == 0)
			return true;
	return false;
}

int ch_prep_parse_num_text(const char *s, double *out)
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

int32_t ch_prep_find_level(const ch_prep_col *pc, const char *s)
{
	return ch_prep_find_level_n(pc, s, strlen(s));
}

/* strcmp(lv, the n bytes at p) in sign, for p not NUL-terminated (a NUL inside p never matches a level). */
static int cmp_level_n(const char *lv, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!lv[i])
			return -1;
		int d = (unsigned char)lv[i] - (unsigned char)p[i];
		if (d)
			return d;
	}
	return lv[n] ? 1 : 0;
}

int32_t ch_prep_find_level_n(const ch_prep_col *pc, const char *p, size_t n)
{
	size_t lo = 0, hi = pc->nlevels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = cmp_level_n(pc->levels[mid], p, n);
		if (r == 0)
			return (int32_t)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int32_t ch_prep_lookup_level(const ch_prep_col *pc, const char *s)
{
	int32_t k = ch_prep_find_level(pc, s);
	if (k >= 0)
		return k;
	for (size_t a = 0; a < pc->nlevels; a++)
		if (strcasecmp(pc->levels[a], s) == 0)
			return (int32_t)a;
	if (pc->encoding == CH_ENC_BINARY) {
		if (ch_prep_yes_index(s) >= 0)
			return pc->yes;
		if (ch_prep_no_index(s) >= 0)
			return 1 - pc->yes;
	}
	/* Numbers written differently ("1.0" for "1"). */
	double v, w;
	if (ch_prep_parse_num_text(s, &v) == 1)
		for (size_t a = 0; a < pc->nlevels; a++)
			if (ch_prep_parse_num_text(pc->levels[a], &w) == 1 && v == w)
				return (int32_t)a;
	return -1;
}

/* ---- data sets and rows ---- */

const ch_column *ch_prep_find_column(const churn_dataset *ds, const char *name)
{
	for (size_t j = 0; j < ds->ncols; j++)
		if (strcmp(ds->cols[j].name, name) == 0)
			return &ds->cols[j];
	return NULL;
}

churn_status ch_prep_rows(const churn_dataset *ds, const size_t **rows, size_t *nrows, size_t **all)
{
	*all = NULL;
	if (!*rows) {
		size_t n = ds->nrows;
		size_t *a = malloc((n ? n : 1) * sizeof(size_t));
		if (!a)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			a[i] = i;
		*all = a;
		*rows = a;
		*nrows = n;
		return CHURN_OK;
	}
	for (size_t i = 0; i < *nrows; i++)
		if ((*rows)[i] >= ds->nrows)
			return ch_fail(CHURN_E_INVALID_ARG, "row index %zu is out of range (%zu rows)", (*rows)[i], ds->nrows);
	return CHURN_OK;
}

/* ---- reading a source column cell by cell, whatever its type ---- */

void ch_prep_src_clear(ch_prep_src *s)
{
	free(s->lvl_num);
	free(s->lvl_ok);
	free(s->lvl_map);
	memset(s, 0, sizeof(*s));
}

churn_status ch_prep_src_init(ch_prep_src *s, const ch_prep_col *pc, const ch_column *c)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->pc = pc;
	if (!c || c->type != CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	size_t nl = c->nlevels ? c->nlevels : 1;
	if (pc->kind == CH_PC_NUMERIC) {
		s->lvl_num = malloc(nl * sizeof(double));
		s->lvl_ok = malloc(nl);
		if (!s->lvl_num || !s->lvl_ok)
			goto nomem;
		for (size_t k = 0; k < c->nlevels; k++)
			s->lvl_ok[k] = (int8_t)ch_prep_parse_num_text(c->levels[k], &s->lvl_num[k]);
	} else {
		s->lvl_map = malloc(nl * sizeof(int32_t));
		if (!s->lvl_map)
			goto nomem;
		for (size_t k = 0; k < c->nlevels; k++)
			s->lvl_map[k] = ch_prep_lookup_level(pc, c->levels[k]);
	}
	return CHURN_OK;
nomem:
	ch_prep_src_clear(s);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

int ch_prep_src_not_number(const ch_prep_src *s, size_t r)
{
	const ch_column *c = s->c;
	const char *t = c->type == CHURN_COL_TEXT ? ch_prep_text_cell(c, r) : c->levels[c->codes[r]];
	ch_fail(CHURN_E_PARSE, "column '%s', row %zu: '%.60s' is not a number (the column was numeric when fitted)",
	        c->name, r + 1, t ? t : "");
	return -1;
}

/* ---- the target's labels ---- */

int ch_prep_label_of_text(const churn_prep *prep, const char *t)
{
	return ch_label_of_text(t, prep->target_numeric, prep->pos_num, prep->neg_num, prep->positive, prep->negative);
}

churn_status ch_prep_tsrc_init(ch_prep_tsrc *ts, const churn_prep *prep, const ch_column *c)
{
	ts->c = c;
	ts->lvl = NULL;
	if (c->type != CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	ts->lvl = malloc(c->nlevels ? c->nlevels : 1);
	if (!ts->lvl)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < c->nlevels; k++)
		ts->lvl[k] = (int8_t)ch_prep_label_of_text(prep, c->levels[k]);
	return CHURN_OK;
}

/* ---- getters ---- */

size_t churn_prep_get_feature_count(const churn_prep *prep) { return prep ? prep->nfeatures : 0; }
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
size_t churn_prep_get_fit_row_count(const churn_prep *prep) { return prep ? prep->fit_rows : 0; }
size_t churn_prep_get_dropped_target_row_count(const churn_prep *prep) { return prep ? prep->dropped_target_rows : 0; }
size_t churn_prep_get_dropped_count(const churn_prep *prep) { return prep ? prep->ndropped : 0; }
const char *churn_prep_get_dropped_column(const churn_prep *prep, size_t k)
{
	return prep && k < prep->ndropped ? prep->dropped[k].column : NULL;
}
const char *churn_prep_get_dropped_reason(const churn_prep *prep, size_t k)
{
	return prep && k < prep->ndropped ? prep->dropped[k].reason : NULL;
}
