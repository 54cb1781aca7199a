/*
 * churn_record: one customer's raw values set by column, typed (number,
 * text, boolean, missing), encoded into a design-matrix row and scored.
 *
 * Values are converted when they are set (numbers scaled, text parsed or
 * looked up among the fitted levels) with the prep module's own helpers,
 * the rules churn_prep_apply_json() applies to a data set of text cells;
 * encoding is then a walk over the columns. churn_scorer_score_json() fills
 * a record per request object (score.c), so there is one encoder.
 */
#include "churn/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core-private.h"
#include "model-private.h"
#include "prep-private.h"
#include "score-private.h"
#include "utf8-private.h"

size_t churn_scorer_get_column_count(const churn_scorer *s)
{
	return s ? s->nnames : 0;
}

const char *churn_scorer_get_column(const churn_scorer *s, size_t k)
{
	return s && k < s->nnames ? s->names[k].name : NULL;
}

churn_status churn_scorer_find_column(const churn_scorer *s, const char *name, size_t *out_index)
{
	if (!s || !name || !out_index)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_find_column: NULL argument");
	size_t k = ch_scorer_find_exact(s, name), found = (size_t)-1, n = 0;
	if (k != (size_t)-1) {
		*out_index = k;
		return CHURN_OK;
	}
	for (k = 0; k < s->nnames; k++) {
		if (strcasecmp(s->names[k].name, name) == 0) {
			if (n++ == 0)
				found = k;
			else
				return ch_fail(CHURN_E_INVALID_ARG, "column '%.100s' is ambiguous: the model has both '%s' and "
				               "'%s'; use the exact name", name, s->names[found].name, s->names[k].name);
		}
	}
	if (!n)
		return ch_fail(CHURN_E_NOTFOUND, "unknown column '%.100s': the model has no such column", name);
	*out_index = found;
	return CHURN_OK;
}

const char *churn_scorer_get_label(const churn_scorer *s, bool churn)
{
	return s ? (churn ? s->positive : s->negative) : NULL;
}

churn_status churn_record_new(const churn_scorer *s, churn_record **out)
{
	if (!s || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_record_new: NULL argument");
	/* One block: the JSON entry makes a record per request. */
	size_t nc = s->prep->ncols ? s->prep->ncols : 1, p = s->nfeatures;
	size_t off_z = sizeof(churn_record), off_x = off_z + nc * sizeof(double), off_row = off_x + nc * sizeof(double);
	size_t off_contrib = off_row + (p ? p : 1) * sizeof(double), off_level = off_contrib + (p + 1) * sizeof(double);
	size_t off_state = off_level + nc * sizeof(int32_t);
	char *blk = calloc(1, off_state + nc);
	if (!blk)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_record *r = (churn_record *)blk;
	r->s = s;
	r->z = (double *)(blk + off_z);
	r->x = (double *)(blk + off_x);
	r->row = (double *)(blk + off_row);
	r->contrib = (double *)(blk + off_contrib);
	r->level = (int32_t *)(blk + off_level);
	r->state = (uint8_t *)(blk + off_state);
	*out = r;
	return CHURN_OK;
}

void churn_record_free(churn_record *r)
{
	if (!r)
		return;
	free(r->idx);
	free(r->sums);
	free(r->vtext);
	free(r);
}

void churn_record_clear(churn_record *r)
{
	if (!r)
		return;
	memset(r->state, 0, r->s->prep->ncols);
	r->has_target = false;
	r->nreasons = 0;
	r->scored = false;
}

/* The field's prep column, or NULL for the target and other accepted names; *st on a bad index. */
static const ch_prep_col *field_col(const churn_record *r, size_t index, const ch_sc_name **e, churn_status *st)
{
	*st = CHURN_OK;
	if (!r || index >= r->s->nnames) {
		*st = ch_fail(CHURN_E_INVALID_ARG, "churn_record: field index %zu is out of range (%zu fields)", index,
		              r ? r->s->nnames : 0);
		return NULL;
	}
	*e = &r->s->names[index];
	return (*e)->role == CH_ROLE_COL ? &r->s->prep->cols[(*e)->col] : NULL;
}

/* A number for numeric column pc: scaled into the record. */
static churn_status put_number(churn_record *r, const ch_sc_name *e, const ch_prep_col *pc, double x)
{
	double z = (x - pc->center) / pc->scale;
	if (!isfinite(z))
		return ch_fail(CHURN_E_NUMERIC, "column '%s': value %g overflows when scaled", pc->name, x);
	r->z[e->col] = z;
	r->x[e->col] = x;
	r->state[e->col] = CH_CELL_VALUE;
	return CHURN_OK;
}

/* Text t (NUL-terminated, not empty) for categorical column pc. */
static void put_level(churn_record *r, const ch_sc_name *e, const ch_prep_col *pc, const char *t)
{
	int32_t k = ch_prep_lookup_level(pc, t);
	r->level[e->col] = k >= 0 ? k : -2;
	r->state[e->col] = CH_CELL_VALUE;
}

/* A target value: checked against the labels (as the reference path reads them), otherwise unused. */
static churn_status put_target(churn_record *r, const char *t)
{
	const churn_prep *prep = r->s->prep;
	int l = ch_prep_label_of_text(prep, t);
	if (l == -2)
		return ch_fail(CHURN_E_PARSE, "target '%s': '%.60s' is neither the positive label '%s' nor the negative "
		               "'%s'", prep->target, t, prep->positive, prep->negative);
	r->has_target = l >= 0;
	return CHURN_OK;
}

churn_status churn_record_set_number(churn_record *r, size_t index, double v)
{
	churn_status st;
	const ch_sc_name *e = NULL;
	const ch_prep_col *pc = field_col(r, index, &e, &st);
	if (st)
		return st;
	if (!isfinite(v))
		return ch_fail(CHURN_E_NUMERIC, "column '%s': %s is not a value (use missing)", e->name,
		               isnan(v) ? "NaN" : "an infinity");
	if (e->role == CH_ROLE_OTHER)
		return CHURN_OK;
	if (e->role == CH_ROLE_TARGET || pc->kind != CH_PC_NUMERIC) {
		/* As text, the way a JSON number reaches the reference path. */
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), v);
		if (e->role == CH_ROLE_TARGET)
			return put_target(r, buf);
		put_level(r, e, pc, buf);
		return CHURN_OK;
	}
	return put_number(r, e, pc, v);
}

/* churn_record_set_text() of NUL-terminated t (no NUL inside, valid UTF-8, len bytes). */
static churn_status set_cstring(churn_record *r, const ch_sc_name *e, const ch_prep_col *pc, const char *t)
{
	if (e->role == CH_ROLE_TARGET)
		return put_target(r, t);
	if (pc->kind == CH_PC_NUMERIC) {
		double x;
		int k = ch_prep_parse_num_text(t, &x);
		if (k < 0)
			return ch_fail(CHURN_E_PARSE, "column '%s': '%.60s' is not a number (the column was numeric when "
			               "fitted)", e->name, t);
		if (k == 0) {
			r->state[e->col] = CH_CELL_MISSING;
			return CHURN_OK;
		}
		return put_number(r, e, pc, x);
	}
	put_level(r, e, pc, t);
	return CHURN_OK;
}

churn_status churn_record_set_text(churn_record *r, size_t index, const char *text, size_t len)
{
	churn_status st;
	const ch_sc_name *e = NULL;
	const ch_prep_col *pc = field_col(r, index, &e, &st);
	if (st)
		return st;
	if (!text && len)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_record_set_text: NULL text");
	if (e->role == CH_ROLE_OTHER)
		return CHURN_OK;
	if (len == 0)
		return churn_record_set_missing(r, index);
	if (e->role == CH_ROLE_TARGET && !r->s->prep->target_numeric) {
		/* a label as fitted (the common case): known, nothing to check further */
		const char *pos = r->s->prep->positive, *neg = r->s->prep->negative;
		if ((pos && strlen(pos) == len && memcmp(pos, text, len) == 0) ||
		    (neg && strlen(neg) == len && memcmp(neg, text, len) == 0)) {
			r->has_target = true;
			return CHURN_OK;
		}
	}
	if (pc && pc->kind == CH_PC_CATEGORICAL) {
		/* a fitted level as it was written (the common case): no copy, no checks needed */
		int32_t k = ch_scorer_find_level(r->s, e->col, text, len);
		if (k >= 0) {
			r->level[e->col] = k;
			r->state[e->col] = CH_CELL_VALUE;
			return CHURN_OK;
		}
	}
	if (memchr(text, '\0', len))
		return ch_fail(CHURN_E_PARSE, "column '%s': the text holds a NUL byte", e->name);
	int why = 0;
	size_t bad = ch_utf8_check(text, len, &why);
	if (bad < len)
		return ch_fail(CHURN_E_PARSE, "column '%s': invalid UTF-8 (byte 0x%02x at offset %zu)", e->name,
		               (unsigned char)text[bad], bad);
	char small[128], *t = len < sizeof(small) ? small : malloc(len + 1);
	if (!t)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	memcpy(t, text, len);
	t[len] = '\0';
	st = set_cstring(r, e, pc, t);
	if (t != small)
		free(t);
	return st;
}

churn_status ch_record_set_valid_string(churn_record *r, size_t index, const char *text)
{
	churn_status st;
	const ch_sc_name *e = NULL;
	const ch_prep_col *pc = field_col(r, index, &e, &st);
	if (st || e->role == CH_ROLE_OTHER)
		return st;
	if (!text[0])
		return churn_record_set_missing(r, index);
	return set_cstring(r, e, pc, text);
}

churn_status churn_record_set_string(churn_record *r, size_t index, const char *text)
{
	return churn_record_set_text(r, index, text, text ? strlen(text) : 0);
}

churn_status churn_record_set_bool(churn_record *r, size_t index, bool v)
{
	churn_status st;
	const ch_sc_name *e = NULL;
	const ch_prep_col *pc = field_col(r, index, &e, &st);
	if (st)
		return st;
	if (pc && pc->kind == CH_PC_NUMERIC)
		return put_number(r, e, pc, v ? 1 : 0);
	return churn_record_set_text(r, index, v ? "true" : "false", v ? 4 : 5);
}

churn_status churn_record_set_missing(churn_record *r, size_t index)
{
	churn_status st;
	const ch_sc_name *e = NULL;
	field_col(r, index, &e, &st);
	if (st)
		return st;
	if (e->role == CH_ROLE_COL)
		r->state[e->col] = CH_CELL_MISSING;
	else if (e->role == CH_ROLE_TARGET)
		r->has_target = false;
	return CHURN_OK;
}

churn_status churn_record_set_number_by_name(churn_record *r, const char *name, double v)
{
	size_t k;
	churn_status st = churn_scorer_find_column(r ? r->s : NULL, name, &k);
	return st ? st : churn_record_set_number(r, k, v);
}

churn_status churn_record_set_string_by_name(churn_record *r, const char *name, const char *text)
{
	size_t k;
	churn_status st = churn_scorer_find_column(r ? r->s : NULL, name, &k);
	return st ? st : churn_record_set_string(r, k, text);
}

churn_status churn_record_set_missing_by_name(churn_record *r, const char *name)
{
	size_t k;
	churn_status st = churn_scorer_find_column(r ? r->s : NULL, name, &k);
	return st ? st : churn_record_set_missing(r, k);
}

/* A missing cell: the fill (+ indicator), the "(missing)" feature or the fill level (as prep-apply.c). */
static void encode_missing(const ch_prep_col *pc, double *row)
{
	if (pc->kind == CH_PC_NUMERIC) {
		row[pc->feat0] = (pc->fill - pc->center) / pc->scale;
		if (pc->indicator)
			row[pc->feat0 + 1] = 1;
	} else if (pc->missing_feature) {
		row[pc->feat0 + pc->nlevels] = 1;
	} else if (pc->fill_level >= 0) {
		if (pc->encoding == CH_ENC_BINARY)
			row[pc->feat0] = pc->fill_level == pc->yes ? 1 : 0;
		else
			row[pc->feat0 + (size_t)pc->fill_level] = 1;
	}
}

void ch_record_encode(const churn_record *r, double *row)
{
	const churn_prep *prep = r->s->prep;
	memset(row, 0, r->s->nfeatures * sizeof(double));
	for (size_t c = 0; c < prep->ncols; c++) {
		const ch_prep_col *pc = &prep->cols[c];
		if (r->state[c] != CH_CELL_VALUE) {
			encode_missing(pc, row);
		} else if (pc->kind == CH_PC_NUMERIC) {
			row[pc->feat0] = r->z[c];
		} else if (r->level[c] >= 0) { /* unseen levels stay all zero */
			if (pc->encoding == CH_ENC_BINARY)
				row[pc->feat0] = r->level[c] == pc->yes ? 1 : 0;
			else
				row[pc->feat0 + (size_t)r->level[c]] = 1;
		}
	}
}

size_t ch_column_reasons(const churn_prep *prep, const double *contrib, size_t top_k, size_t *cols, double *sums)
{
	size_t k = 0;
	if (top_k == 0)
		return 0;
	for (size_t j = 0; j < prep->ncols; j++) {
		const ch_prep_col *pc = &prep->cols[j];
		double sum = 0;
		for (size_t f = 0; f < pc->nfeat; f++)
			sum += contrib[pc->feat0 + f];
		double a = fabs(sum);
		if (!(a > 0))
			continue; /* no effect, or NaN: as ch_top_reasons() */
		size_t pos = k < top_k ? k++ : top_k;
		if (pos == top_k && a <= fabs(sums[top_k - 1]))
			continue;
		if (pos == top_k)
			pos = top_k - 1;
		while (pos > 0 && fabs(sums[pos - 1]) < a) {
			cols[pos] = cols[pos - 1];
			sums[pos] = sums[pos - 1];
			pos--;
		}
		cols[pos] = j;
		sums[pos] = sum;
	}
	return k;
}

churn_status ch_scorer_score_row(const churn_scorer *s, const double *row, size_t top_k, double *prob,
                                 double *contrib, size_t *cols, double *sums, size_t *nreasons)
{
	size_t p = s->nfeatures;
	churn_status st = churn_model_predict_row(s->model, row, p, prob);
	*nreasons = 0;
	if (st || !top_k)
		return st;
	if ((st = churn_model_explain(s->model, row, p, contrib, p + 1)))
		return st;
	*nreasons = ch_column_reasons(s->prep, contrib, top_k, cols, sums);
	return CHURN_OK;
}

churn_status churn_record_score(churn_record *r, size_t top_k, double *out_probability, bool *out_churn)
{
	if (!r)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_record_score: NULL argument");
	if (top_k > r->s->prep->ncols)
		top_k = r->s->prep->ncols; /* no more reasons than columns */
	if (top_k > r->kcap) {
		size_t *idx = realloc(r->idx, top_k * sizeof(size_t));
		if (idx)
			r->idx = idx;
		double *sums = idx ? realloc(r->sums, top_k * sizeof(double)) : NULL;
		if (sums)
			r->sums = sums;
		char(*vt)[40] = sums ? realloc(r->vtext, top_k * sizeof(*vt)) : NULL;
		if (!vt)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		r->vtext = vt;
		r->kcap = top_k;
	}
	double prob;
	r->nreasons = 0;
	ch_record_encode(r, r->row);
	churn_status st = ch_scorer_score_row(r->s, r->row, top_k, &prob, r->contrib, r->idx, r->sums, &r->nreasons);
	if (st)
		return st;
	r->prob = prob;
	r->scored = true;
	if (out_probability)
		*out_probability = prob;
	if (out_churn)
		*out_churn = prob >= churn_model_get_threshold(r->s->model);
	return CHURN_OK;
}

size_t churn_record_get_reason_count(const churn_record *r)
{
	return r ? r->nreasons : 0;
}

/* Prep column c's value in record r, as the answer shows it (ch_sc_value). */
static ch_sc_value record_value(const void *ud, size_t c)
{
	const churn_record *r = ud;
	const ch_prep_col *pc = &r->s->prep->cols[c];
	if (r->state[c] != CH_CELL_VALUE)
		return (ch_sc_value){CH_VALUE_NULL, NULL, 0};
	if (pc->kind == CH_PC_NUMERIC)
		return (ch_sc_value){CH_VALUE_NUMBER, NULL, r->x[c]};
	if (r->level[c] >= 0)
		return (ch_sc_value){CH_VALUE_TEXT, pc->levels[r->level[c]], 0};
	return (ch_sc_value){CH_VALUE_TEXT, "(a level not seen in training)", 0};
}

churn_status churn_record_get_reason(const churn_record *r, size_t k, const char **out_column, const char **out_value,
                                     double *out_contribution)
{
	if (!r || k >= r->nreasons)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_record_get_reason: reason %zu of %zu", k, r ? r->nreasons : 0);
	size_t c = r->idx[k];
	ch_sc_value v = record_value(r, c);
	if (v.kind == CH_VALUE_NUMBER) {
		churn_record *w = (churn_record *)r; /* the text buffer of reason k, not the record's state */
		ch_format_double_short(w->vtext[k], sizeof(w->vtext[k]), v.num);
		v.text = w->vtext[k];
	}
	if (out_column)
		*out_column = r->s->prep->cols[c].name;
	if (out_value)
		*out_value = v.text;
	if (out_contribution)
		*out_contribution = r->sums[k];
	return CHURN_OK;
}

churn_status churn_record_explain_json(const churn_record *r, char **out_json)
{
	if (!r || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_record_explain_json: NULL argument");
	if (!r->scored)
		return ch_fail(CHURN_E_STATE, "churn_record_explain_json: the record has not been scored");
	ch_buf b = {0};
	ch_buf_puts(&b, "{\"model\":");
	ch_buf_json_str(&b, churn_model_kind_name(churn_model_get_kind(r->s->model)));
	ch_buf_putc(&b, ',');
	ch_scorer_write_prediction(&b, r->s, r->prob, r->idx, r->sums, r->nreasons, record_value, r);
	ch_buf_putc(&b, '}');
	if (!(*out_json = ch_buf_take(&b)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}
