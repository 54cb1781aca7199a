/*
 * The reference profile of a model's training rows (churn/drift.h): what
 * every later data run is compared with. churn_train() stores it in each
 * artifact, so every model version carries the profile of its own rows.
 */
#include "churn/drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn/param-keys.h"
#include "core-private.h"
#include "dataset-private.h"
#include "drift-private.h"
#include "target-private.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static bool add_doubles(cJSON *o, const char *key, const double *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; a && i < n; i++) {
		cJSON *x = cJSON_CreateNumber(v[i]);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			return false;
		}
	}
	return a != NULL;
}

/* Numeric column j: quantile edges (deduplicated) of its values on rows, and the counts of their bins. */
static churn_status numeric_profile(const churn_dataset *ds, size_t j, const size_t *rows, size_t n, size_t bins,
                                    cJSON *c)
{
	const double *v = churn_dataset_get_numeric(ds, j);
	double *x = malloc((n ? n : 1) * sizeof *x), edges[256], counts[257];
	size_t m = 0, ne = 0;
	if (!x)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		double y = v[rows ? rows[i] : i];
		if (!isnan(y))
			x[m++] = y;
	}
	qsort(x, m, sizeof *x, cmp_double);
	/* inner edges: the k/bins quantiles (lower), repeats dropped; the top one never equals the maximum */
	for (size_t k = 1; m && k < bins && ne < 256; k++) {
		double q = x[(k * m) / bins - ((k * m) % bins == 0 ? 1 : 0)];
		if ((ne == 0 || q > edges[ne - 1]) && q < x[m - 1])
			edges[ne++] = q;
	}
	memset(counts, 0, sizeof counts);
	for (size_t i = 0; i < m; i++)
		counts[ch_drift_bin(edges, ne, x[i])]++;
	bool ok = cJSON_AddNumberToObject(c, "count", (double)m) && ch_drift_add_number(c, "min", m ? x[0] : NAN) &&
	          ch_drift_add_number(c, "max", m ? x[m - 1] : NAN) && add_doubles(c, "edges", edges, ne) &&
	          add_doubles(c, "counts", counts, ne + 1);
	free(x);
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

struct level {
	size_t code, count;
	const char *name;
};

static int cmp_level(const void *a, const void *b)
{
	const struct level *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Categorical column j: the counts of its most frequent levels (drift.max_levels), the others summed. */
static churn_status categorical_profile(const churn_dataset *ds, size_t j, const size_t *rows, size_t n,
                                        size_t max_levels, cJSON *c)
{
	size_t nl = churn_dataset_get_level_count(ds, j), m = 0, other = 0, seen = 0;
	const int32_t *codes = churn_dataset_get_codes(ds, j);
	struct level *lv = calloc(nl ? nl : 1, sizeof *lv);
	if (!lv)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < nl; k++) {
		lv[k].code = k;
		lv[k].name = churn_dataset_get_level(ds, j, k);
	}
	for (size_t i = 0; i < n; i++) {
		int32_t code = codes[rows ? rows[i] : i];
		if (code >= 0 && (size_t)code < nl) {
			lv[code].count++;
			m++;
		}
	}
	qsort(lv, nl, sizeof *lv, cmp_level);
	cJSON *a = cJSON_CreateArray();
	bool ok = a && cJSON_AddItemToObject(c, "levels", a);
	if (!ok)
		cJSON_Delete(a);
	for (size_t k = 0; ok && k < nl; k++) {
		if (lv[k].count == 0)
			break; /* a level of other rows only: unseen in these, and not in the profile */
		seen++;
		if (k >= max_levels) {
			other += lv[k].count;
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			ok = false;
			break;
		}
		ok = cJSON_AddStringToObject(o, "value", lv[k].name) &&
		     cJSON_AddNumberToObject(o, "count", (double)lv[k].count);
	}
	ok = ok && cJSON_AddNumberToObject(c, "count", (double)m) && cJSON_AddNumberToObject(c, "other", (double)other) &&
	     cJSON_AddNumberToObject(c, "level_count", (double)seen);
	free(lv);
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

static bool is_id(const churn_prep *prep, const char *name)
{
	for (size_t k = 0; k < churn_prep_get_id_count(prep); k++)
		if (!strcmp(churn_prep_get_id(prep, k), name))
			return true;
	return false;
}

/* "target": its name, positive label, labelled rows and positives among rows. */
static churn_status target_profile(const churn_dataset *ds, const size_t *rows, size_t n, const churn_prep *prep,
                                   cJSON *doc)
{
	size_t tj = 0;
	ch_target t;
	memset(&t, 0, sizeof t);
	churn_status st = churn_dataset_find_col(ds, churn_prep_get_target(prep), &tj);
	if (!st)
		st = ch_target_fit(ds, tj, rows, n, churn_prep_get_positive(prep), &t);
	if (st) {
		ch_target_clear(&t);
		return st;
	}
	size_t labelled = t.npos + t.nneg;
	cJSON *o = cJSON_AddObjectToObject(doc, "target");
	bool ok = o && cJSON_AddStringToObject(o, "name", churn_prep_get_target(prep)) &&
	          cJSON_AddStringToObject(o, "positive", t.positive ? t.positive : churn_prep_get_positive(prep)) &&
	          cJSON_AddNumberToObject(o, "rows", (double)labelled) &&
	          cJSON_AddNumberToObject(o, "positive_count", (double)t.npos) &&
	          ch_drift_add_number(o, "rate", labelled ? (double)t.npos / (double)labelled : NAN);
	ch_target_clear(&t);
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* The entry of column j (not the target, not an ID). */
static churn_status column_profile(const churn_dataset *ds, size_t j, const size_t *rows, size_t n,
                                   const churn_params *p, cJSON *cols)
{
	churn_col_type type = churn_dataset_get_col_type(ds, j);
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += churn_dataset_is_missing(ds, j, rows ? rows[i] : i);
	cJSON *c = cJSON_CreateObject();
	if (!c || !cJSON_AddItemToArray(cols, c)) {
		cJSON_Delete(c);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (!cJSON_AddStringToObject(c, "name", churn_dataset_get_col_name(ds, j)) ||
	    !cJSON_AddStringToObject(c, "type", churn_col_type_name(type)) ||
	    !cJSON_AddNumberToObject(c, "missing", (double)missing))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (type == CHURN_COL_NUMERIC)
		return numeric_profile(ds, j, rows, n, (size_t)churn_params_get_int(p, CHURN_KEY_DRIFT_BINS), c);
	if (type == CHURN_COL_CATEGORICAL)
		return categorical_profile(ds, j, rows, n, (size_t)churn_params_get_int(p, CHURN_KEY_DRIFT_MAX_LEVELS), c);
	return cJSON_AddNumberToObject(c, "count", (double)(n - missing)) ? CHURN_OK
	                                                                  : ch_fail(CHURN_E_NOMEM, "out of memory");
}

churn_status ch_drift_reference(const churn_dataset *ds, const size_t *rows, size_t n, const churn_prep *prep,
                                const churn_params *p, cJSON **out)
{
	cJSON *doc = cJSON_CreateObject(), *ids = NULL, *cols = NULL;
	churn_status st = CHURN_OK;
	if (!doc || !cJSON_AddStringToObject(doc, "format", CH_DRIFT_REF_FORMAT) ||
	    !cJSON_AddNumberToObject(doc, "version", CH_DRIFT_REF_VERSION) ||
	    !cJSON_AddNumberToObject(doc, "rows", (double)n) || !(ids = cJSON_AddArrayToObject(doc, "ids"))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = target_profile(ds, rows, n, prep, doc)))
		goto out;
	for (size_t k = 0; k < churn_prep_get_id_count(prep); k++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(churn_prep_get_id(prep, k)));
	if (!(cols = cJSON_AddArrayToObject(doc, "columns"))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < churn_dataset_get_column_count(ds) && !st; j++) {
		const char *name = churn_dataset_get_col_name(ds, j);
		if (strcmp(name, churn_prep_get_target(prep)) != 0 && !is_id(prep, name))
			st = column_profile(ds, j, rows, n, p, cols);
	}
out:
	if (st) {
		cJSON_Delete(doc);
		return st;
	}
	*out = doc;
	return CHURN_OK;
}

churn_status churn_drift_reference_compute(const churn_dataset *ds, const size_t *rows, size_t n,
                                           const churn_params *p, char **out_json)
{
	if (!ds || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_drift_reference_compute: NULL argument");
	size_t nrows = churn_dataset_get_row_count(ds);
	if (!rows)
		n = nrows;
	if (n == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_drift_reference_compute: no rows");
	for (size_t i = 0; rows && i < n; i++)
		if (rows[i] >= nrows)
			return ch_fail(CHURN_E_INVALID_ARG, "churn_drift_reference_compute: row %zu is out of range", rows[i]);
	churn_params *q = NULL;
	churn_prep *prep = NULL;
	cJSON *doc = NULL;
	/* the prep resolves the target, positive label and IDs as training does; quietly: it is not the training's */
	churn_status st = p ? churn_params_copy(p, &q) : CHURN_OK;
	if (!st && q)
		churn_params_set_log(q, NULL, NULL, CHURN_LOG_ERROR);
	if (!st)
		st = churn_prep_fit(ds, rows, rows ? n : 0, q, &prep);
	if (!st)
		st = ch_drift_reference(ds, rows, n, prep, p, &doc);
	if (!st && !(*out_json = ch_json_print(doc, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_Delete(doc);
	churn_prep_free(prep);
	churn_params_free(q);
	return st;
}
