/*
 * Applying a fitted spec: the labels (which may drop rows), then the design
 * matrix, filled in blocks of rows column by column (the hot loop; fast
 * paths for numeric and categorical sources), from a data set, from
 * name/value strings or from JSON records; and the labels alone.
 */
#include "churn/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "dataset-private.h"
#include "prep-private.h"

#define BLOCK_ROWS 2048

/* ---- apply_core, step by step ---- */

/*
 * The labels of *rows into *labels (NULL when ds has no target, or an
 * all-empty one: a scoring input). Rows with a missing target are dropped
 * when the spec says so: *rows and *nrows become the kept rows (*kept).
 * The caller frees *labels and *kept.
 */
static churn_status read_labels(const churn_prep *prep, const churn_dataset *ds, const size_t **rows, size_t *nrows,
                                uint8_t **labels, size_t **kept)
{
	churn_status st = CHURN_OK;
	const ch_column *tc = ch_prep_find_column(ds, prep->target);
	if (!tc || tc->n_missing == ds->nrows)
		return CHURN_OK;
	ch_prep_tsrc ts = {0};
	if ((st = ch_prep_tsrc_init(&ts, prep, tc)))
		return st;
	const size_t *r = *rows;
	size_t n = *nrows, a = 0, labelled = 0;
	/* a target of blanks only (missing once trimmed) is no target either: a scoring input, as an empty one */
	for (size_t i = 0; i < n && !labelled; i++)
		labelled += ch_prep_tsrc_label(prep, &ts, r[i]) != -1;
	if (!labelled) {
		free(ts.lvl);
		return CHURN_OK;
	}
	uint8_t *y = *labels = malloc(n ? n : 1);
	if (!y) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t *k = NULL;
	for (size_t i = 0; i < n; i++) {
		int l = ch_prep_tsrc_label(prep, &ts, r[i]);
		if (l == -2) {
			char buf[40], where[300];
			const char *t = ch_prep_cell_text(tc, r[i], buf, sizeof(buf));
			st = ch_fail(CHURN_E_PARSE, "target '%s' at %s: '%.60s' is neither the positive label '%s' nor the "
			             "negative '%s'", prep->target, ch_dataset_where(ds, r[i], where, sizeof(where)), t ? t : "",
			             prep->positive, prep->negative);
			goto out;
		}
		if (l == -1) {
			if (!prep->drop_missing_target) {
				char where[300];
				st = ch_fail(CHURN_E_PARSE, "target '%s' is missing at %s; set prep.drop_missing_target to drop "
				             "such rows", prep->target, ch_dataset_where(ds, r[i], where, sizeof(where)));
				goto out;
			}
			if (!k) {
				k = *kept = malloc((n ? n : 1) * sizeof(size_t));
				if (!k) {
					st = ch_fail(CHURN_E_NOMEM, "out of memory");
					goto out;
				}
				memcpy(k, r, i * sizeof(size_t));
			}
			continue;
		}
		if (k)
			k[a] = r[i];
		y[a++] = (uint8_t)l;
	}
	if (k) {
		*rows = k;
		*nrows = a;
	}
out:
	free(ts.lvl);
	return st;
}

/* An all-zero matrix of nrows rows with the spec's feature names (and the labels when there are). */
static churn_status new_matrix(const churn_prep *prep, size_t nrows, const uint8_t *labels, churn_matrix **out)
{
	churn_matrix *m = NULL;
	churn_status st = churn_matrix_new(nrows, prep->nfeatures, &m);
	for (size_t j = 0; !st && j < prep->nfeatures; j++)
		st = churn_matrix_set_feature_name(m, j, prep->features[j]);
	if (!st && labels)
		st = churn_matrix_set_labels(m, labels, nrows);
	if (st) {
		churn_matrix_free(m);
		return st;
	}
	*out = m;
	return CHURN_OK;
}

/* A reader of each fitted column's source in ds (*out: prep->ncols of them; the caller clears and frees them). */
static churn_status open_sources(const churn_prep *prep, const churn_dataset *ds, ch_prep_src **out)
{
	ch_prep_src *srcs = *out = calloc(prep->ncols ? prep->ncols : 1, sizeof(ch_prep_src));
	if (!srcs)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st;
	for (size_t c = 0; c < prep->ncols; c++)
		if ((st = ch_prep_src_init(&srcs[c], &prep->cols[c], ch_prep_find_column(ds, prep->cols[c].name))))
			return st;
	return CHURN_OK;
}

/*
 * Rows [b0, b1) of a numeric column into col (the column's first feature of
 * row 0; rows nf apart); missing cells imputed (counted in *imputed).
 */
static churn_status apply_numeric(const ch_prep_col *pc, const ch_prep_src *s, const size_t *rows, size_t b0,
                                  size_t b1, double *col, size_t nf, size_t *imputed)
{
	size_t imp = 0;
	const ch_column *dc = s->c;
	if (dc && dc->type == CHURN_COL_NUMERIC && !pc->indicator) {
		/* Fast path. */
		const double *v = dc->num;
		for (size_t i = b0; i < b1; i++) {
			double x = v[rows[i]];
			if (isnan(x)) {
				x = pc->fill;
				imp++;
			}
			double z = (x - pc->center) / pc->scale;
			if (!isfinite(z))
				return ch_fail(CHURN_E_NUMERIC, "column '%s', row %zu: value %g overflows when scaled", pc->name,
				               rows[i] + 1, x);
			col[i * nf] = z;
		}
		*imputed += imp;
		return CHURN_OK;
	}
	for (size_t i = b0; i < b1; i++) {
		double x;
		int k = ch_prep_src_num(s, rows[i], &x);
		if (k < 0)
			return CHURN_E_PARSE;
		if (k == 0) {
			x = pc->fill;
			imp++;
			if (pc->indicator)
				col[i * nf + 1] = 1;
		}
		double z = (x - pc->center) / pc->scale;
		if (!isfinite(z))
			return ch_fail(CHURN_E_NUMERIC, "column '%s', row %zu: value %g overflows when scaled", pc->name,
			               rows[i] + 1, x);
		col[i * nf] = z;
	}
	*imputed += imp;
	return CHURN_OK;
}

/*
 * Rows [b0, b1) of a categorical column into col (one-hot or binary); missing
 * cells imputed or marked (counted in *imputed), unseen levels left all
 * zero (counted in *unseen).
 */
static void apply_categorical(const ch_prep_col *pc, const ch_prep_src *s, const size_t *rows, size_t b0, size_t b1,
                              double *col, size_t nf, size_t *unseen, size_t *imputed)
{
	size_t imp = 0, uns = 0;
	bool binary = pc->encoding == CH_ENC_BINARY;
	const ch_column *dc = s->c;
	if (dc && dc->type == CHURN_COL_CATEGORICAL && !pc->missing_feature) {
		/* Fast path: source codes through the level map. */
		const int32_t *codes = dc->codes, *map = s->lvl_map;
		int32_t fill = pc->fill_level;
		for (size_t i = b0; i < b1; i++) {
			int32_t code = codes[rows[i]];
			int32_t k;
			if (code < 0) {
				imp++;
				k = fill;
			} else if ((k = map[code]) < 0) {
				uns++;
				continue;
			}
			if (k < 0)
				continue;
			if (binary)
				col[i * nf] = k == pc->yes ? 1 : 0;
			else
				col[i * nf + (size_t)k] = 1;
		}
		*imputed += imp;
		*unseen += uns;
		return;
	}
	for (size_t i = b0; i < b1; i++) {
		int32_t k = ch_prep_src_cat(s, rows[i]);
		if (k == -2) {
			uns++;
			continue;
		}
		if (k == -1) {
			imp++;
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
	*imputed += imp;
	*unseen += uns;
}

/* The design matrix X (nrows x nfeatures, zeroed) of rows, in blocks of BLOCK_ROWS rows, column by column. */
static churn_status fill_matrix(const churn_prep *prep, const ch_prep_src *srcs, const size_t *rows, size_t nrows,
                                double *X, size_t *unseen, size_t *imputed)
{
	churn_status st;
	size_t nf = prep->nfeatures;
	for (size_t b0 = 0; b0 < nrows; b0 += BLOCK_ROWS) {
		size_t b1 = b0 + BLOCK_ROWS < nrows ? b0 + BLOCK_ROWS : nrows;
		for (size_t c = 0; c < prep->ncols; c++) {
			const ch_prep_col *pc = &prep->cols[c];
			double *col = X + pc->feat0;
			if (pc->kind == CH_PC_NUMERIC) {
				if ((st = apply_numeric(pc, &srcs[c], rows, b0, b1, col, nf, imputed)))
					return st;
			} else {
				apply_categorical(pc, &srcs[c], rows, b0, b1, col, nf, unseen, imputed);
			}
		}
	}
	return CHURN_OK;
}

static churn_status apply_core(const churn_prep *prep, const churn_dataset *ds, const size_t *rows, size_t nrows,
                               churn_matrix **out, size_t *out_unseen, size_t *out_imputed)
{
	churn_matrix *m = NULL;
	ch_prep_src *srcs = NULL;
	uint8_t *labels = NULL;
	size_t *kept = NULL;
	size_t unseen = 0, imputed = 0;
	/* Labels first: they may drop rows. */
	churn_status st = read_labels(prep, ds, &rows, &nrows, &labels, &kept);
	if (!st)
		st = new_matrix(prep, nrows, labels, &m);
	if (!st)
		st = open_sources(prep, ds, &srcs);
	if (!st)
		st = fill_matrix(prep, srcs, rows, nrows, churn_matrix_get_data(m), &unseen, &imputed);
	if (!st) {
		if (out_unseen)
			*out_unseen = unseen;
		if (out_imputed)
			*out_imputed = imputed;
		*out = m;
		m = NULL;
	}
	if (srcs)
		for (size_t c = 0; c < prep->ncols; c++)
			ch_prep_src_clear(&srcs[c]);
	free(srcs);
	free(labels);
	free(kept);
	churn_matrix_free(m);
	return st;
}

/* ---- the public calls ---- */

churn_status churn_prep_apply_rows_count(const churn_prep *prep, const churn_dataset *ds, const size_t *rows,
                                         size_t nrows, churn_matrix **out, size_t *out_unseen, size_t *out_imputed)
{
	if (!prep || !ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply: NULL argument");
	size_t *all = NULL;
	churn_status st = ch_prep_rows(ds, &rows, &nrows, &all);
	if (st)
		return st;
	st = apply_core(prep, ds, rows, nrows, out, out_unseen, out_imputed);
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

/* ---- JSON records, step by step ---- */

/* The records of root (an object, or an array of them) in order into *out (cJSON arrays are linked lists: index them once). */
static churn_status records_of(const cJSON *root, const cJSON ***out, size_t *out_n)
{
	size_t nrec;
	if (cJSON_IsObject(root))
		nrec = 1;
	else if (cJSON_IsArray(root))
		nrec = (size_t)cJSON_GetArraySize(root);
	else
		return ch_fail(CHURN_E_PARSE, "records: expected an object or an array of objects");
	if (nrec == 0)
		return ch_fail(CHURN_E_PARSE, "records: empty array");
	const cJSON **recs = malloc(nrec * sizeof(*recs));
	if (!recs)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (cJSON_IsArray(root)) {
		size_t r = 0;
		for (const cJSON *e = root->child; e && r < nrec; e = e->next)
			recs[r++] = e;
	} else {
		recs[0] = root;
	}
	*out = recs;
	*out_n = nrec;
	return CHURN_OK;
}

/* Column names: the union of the records' keys, in order of first appearance (*names: the caller frees *nnames of them). */
static churn_status field_names(const cJSON *const *recs, size_t nrec, char ***names, size_t *nnames)
{
	churn_status st;
	for (size_t r = 0; r < nrec; r++) {
		const cJSON *rec = recs[r];
		if (!cJSON_IsObject(rec))
			return ch_fail(CHURN_E_PARSE, "records: record %zu is not an object", r + 1);
		for (const cJSON *f = rec->child; f; f = f->next) {
			size_t k;
			for (k = 0; k < *nnames; k++)
				if (strcmp((*names)[k], f->string) == 0)
					break;
			if (k < *nnames)
				continue;
			if ((st = ch_prep_grow((void **)names, *nnames, sizeof(**names))))
				return st;
			if (!((*names)[*nnames] = ch_strdup(f->string)))
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			(*nnames)++;
		}
	}
	return CHURN_OK;
}

/*
 * The cell of field @p name of record r as text into *cell (NULL: missing),
 * numbers written into num (40 bytes).
 */
static churn_status record_cell(const cJSON *rec, size_t r, const char *name, char *num, const char **cell)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
	*cell = NULL;
	if (!v || cJSON_IsNull(v))
		return CHURN_OK;
	if (cJSON_IsString(v)) {
		*cell = v->valuestring[0] ? v->valuestring : NULL;
	} else if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble))
			return ch_fail(CHURN_E_PARSE, "record %zu, field '%s': number out of range", r + 1, name);
		ch_format_double_short(num, 40, v->valuedouble);
		*cell = num;
	} else if (cJSON_IsBool(v)) {
		*cell = cJSON_IsTrue(v) ? "true" : "false";
	} else {
		return ch_fail(CHURN_E_PARSE, "record %zu, field '%s': expected a string, number, boolean or null", r + 1,
		               name);
	}
	return CHURN_OK;
}

/* The records as a data set of text columns, one per name (one all-missing column when there are none). */
static churn_status records_dataset(const cJSON *const *recs, size_t nrec, char *const *names, size_t nnames,
                                    churn_dataset *ds)
{
	churn_status st = CHURN_OK;
	const char **cells = malloc(nrec * sizeof(*cells));
	char *strs = malloc(nrec * 40); /* number text, 40 bytes per cell */
	if (!cells || !strs) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nnames; k++) {
		for (size_t r = 0; r < nrec; r++)
			if ((st = record_cell(recs[r], r, names[k], strs + r * 40, &cells[r])))
				goto out;
		if ((st = churn_dataset_add_text(ds, names[k], cells, nrec)))
			goto out;
	}
	if (nnames == 0) {
		for (size_t r = 0; r < nrec; r++)
			cells[r] = NULL;
		st = churn_dataset_add_text(ds, "\x01empty", cells, nrec);
	}
out:
	free(cells);
	free(strs);
	return st;
}

churn_status churn_prep_apply_json(const churn_prep *prep, const char *json, churn_matrix **out)
{
	if (!prep || !json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_apply_json: NULL argument");
	churn_dataset *ds = NULL;
	char **names = NULL;
	const cJSON **recs = NULL;
	size_t nnames = 0, nrec = 0;
	static const ch_json_limits lim = {CH_JSON_MAX_DEPTH, 0};
	churn_status st = ch_json_scan(json, strlen(json), &lim, "records", NULL);
	if (st)
		return st;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(json, &end, true);
	if (!root)
		return ch_fail(CHURN_E_PARSE, "records: malformed JSON at byte %zu", end && end >= json ? (size_t)(end - json) : 0);
	if (!(st = records_of(root, &recs, &nrec)) && !(st = field_names(recs, nrec, &names, &nnames)) &&
	    !(st = churn_dataset_new(&ds)) && !(st = records_dataset(recs, nrec, names, nnames, ds)))
		st = churn_prep_apply(prep, ds, out);
	for (size_t k = 0; k < nnames; k++)
		free(names[k]);
	free(names);
	free(recs);
	cJSON_Delete(root);
	churn_dataset_free(ds);
	return st;
}

/* ---- labels alone ---- */

churn_status churn_prep_get_labels(const churn_prep *prep, const churn_dataset *ds, uint8_t **out_y, size_t *out_n)
{
	if (!prep || !ds || !out_y || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_get_labels: NULL argument");
	size_t tj;
	churn_status st = churn_dataset_find_col(ds, prep->target, &tj);
	if (st)
		return ch_fail_prefix(st, "target column '%s'", prep->target);
	const ch_column *tc = &ds->cols[tj];
	ch_prep_tsrc ts;
	if ((st = ch_prep_tsrc_init(&ts, prep, tc)))
		return st;
	uint8_t *y = malloc(ds->nrows ? ds->nrows : 1);
	if (!y) {
		free(ts.lvl);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < ds->nrows; i++) {
		int l = ch_prep_tsrc_label(prep, &ts, i);
		if (l < 0) {
			char buf[40], where[300];
			const char *t = ch_prep_cell_text(tc, i, buf, sizeof(buf));
			ch_dataset_where(ds, i, where, sizeof(where));
			if (l == -1)
				st = ch_fail(CHURN_E_PARSE, "target '%s' is missing at %s", prep->target, where);
			else
				st = ch_fail(CHURN_E_PARSE, "target '%s' at %s: '%.60s' is neither the positive label '%s' nor "
				             "the negative '%s'", prep->target, where, t ? t : "", prep->positive, prep->negative);
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
