/*
 * The spec as JSON ({"format": "churn-prep", "version": 1, ...}, the
 * artifacts/prep.json and the "prep" member of model artifacts): written
 * with ch_prep_to_cjson(), read back and checked with ch_prep_from_cjson(),
 * in steps (header, target, options, columns, features, dropped columns).
 */
#include "churn/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "prep-private.h"

/* ---- cJSON building blocks ---- */

cJSON *ch_prep_json_num(double v)
{
	char buf[40];
	ch_format_double_short(buf, sizeof(buf), v);
	return cJSON_CreateRaw(buf);
}

bool ch_prep_json_add(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

cJSON *ch_prep_json_strs(char *const *v, size_t n)
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

cJSON *ch_prep_json_dropped(const churn_prep *prep)
{
	cJSON *drops = cJSON_CreateArray();
	for (size_t k = 0; drops && k < prep->ndropped; k++) {
		cJSON *d = cJSON_CreateObject();
		if (!d || !cJSON_AddItemToArray(drops, d)) {
			cJSON_Delete(d);
			cJSON_Delete(drops);
			return NULL;
		}
		if (!ch_prep_json_add(d, "column", cJSON_CreateString(prep->dropped[k].column)) ||
		    !ch_prep_json_add(d, "reason", cJSON_CreateString(prep->dropped[k].reason))) {
			cJSON_Delete(drops);
			return NULL;
		}
	}
	return drops;
}

/* ---- writing ---- */

/* {"name", "type", "positive", "negative"} (+ "positive_value", "negative_value" for a numeric target) into t. */
static bool target_json(const churn_prep *prep, cJSON *t)
{
	if (!ch_prep_json_add(t, "name", cJSON_CreateString(prep->target)) ||
	    !ch_prep_json_add(t, "type", cJSON_CreateString(prep->target_numeric ? "numeric" : "text")) ||
	    !ch_prep_json_add(t, "positive", cJSON_CreateString(prep->positive)) ||
	    !ch_prep_json_add(t, "negative", cJSON_CreateString(prep->negative)))
		return false;
	return !prep->target_numeric || (ch_prep_json_add(t, "positive_value", ch_prep_json_num(prep->pos_num)) &&
	                                 ch_prep_json_add(t, "negative_value", ch_prep_json_num(prep->neg_num)));
}

/* The fit options into pa. */
static bool params_json(const churn_prep *prep, cJSON *pa)
{
	return ch_prep_json_add(pa, "impute_numeric", cJSON_CreateString(ch_prep_imp_names[prep->impute_numeric])) &&
	       ch_prep_json_add(pa, "impute_constant", ch_prep_json_num(prep->impute_constant)) &&
	       ch_prep_json_add(pa, "impute_categorical",
	                        cJSON_CreateString(ch_prep_impc_names[prep->impute_categorical])) &&
	       ch_prep_json_add(pa, "missing_indicator", cJSON_CreateBool(prep->missing_indicator)) &&
	       ch_prep_json_add(pa, "scale", cJSON_CreateString(ch_prep_sc_names[prep->scale])) &&
	       ch_prep_json_add(pa, "max_unique_ratio", ch_prep_json_num(prep->max_unique_ratio)) &&
	       ch_prep_json_add(pa, "max_levels", cJSON_CreateNumber((double)prep->max_levels)) &&
	       ch_prep_json_add(pa, "drop_missing_target", cJSON_CreateBool(prep->drop_missing_target));
}

/* One fitted column into c. */
static bool column_json(const churn_prep *prep, const ch_prep_col *pc, cJSON *c)
{
	if (!ch_prep_json_add(c, "name", cJSON_CreateString(pc->name)) ||
	    !ch_prep_json_add(c, "type", cJSON_CreateString(pc->kind == CH_PC_NUMERIC ? "numeric" : "categorical")) ||
	    !ch_prep_json_add(c, "fit_missing", cJSON_CreateNumber((double)pc->fit_missing)))
		return false;
	if (pc->kind == CH_PC_NUMERIC) {
		if (!ch_prep_json_add(c, "fill", ch_prep_json_num(pc->fill)) ||
		    !ch_prep_json_add(c, "center", ch_prep_json_num(pc->center)) ||
		    !ch_prep_json_add(c, "scale", ch_prep_json_num(pc->scale)) ||
		    !ch_prep_json_add(c, "indicator", cJSON_CreateBool(pc->indicator)))
			return false;
	} else {
		if (!ch_prep_json_add(c, "encoding",
		                      cJSON_CreateString(pc->encoding == CH_ENC_BINARY ? "binary" : "onehot")) ||
		    !ch_prep_json_add(c, "levels", ch_prep_json_strs(pc->levels, pc->nlevels)))
			return false;
		if (pc->encoding == CH_ENC_BINARY && !ch_prep_json_add(c, "yes", cJSON_CreateString(pc->levels[pc->yes])))
			return false;
		if (!ch_prep_json_add(c, "fill", pc->fill_level >= 0 ? cJSON_CreateString(pc->levels[pc->fill_level])
		                                                     : cJSON_CreateNull()) ||
		    !ch_prep_json_add(c, "missing_level", cJSON_CreateBool(pc->missing_feature)))
			return false;
	}
	return ch_prep_json_add(c, "features", ch_prep_json_strs(prep->features + pc->feat0, pc->nfeat));
}

static bool columns_json(const churn_prep *prep, cJSON *cols)
{
	for (size_t j = 0; j < prep->ncols; j++) {
		cJSON *c = cJSON_CreateObject();
		if (!c || !cJSON_AddItemToArray(cols, c)) {
			cJSON_Delete(c);
			return false;
		}
		if (!column_json(prep, &prep->cols[j], c))
			return false;
	}
	return true;
}

cJSON *ch_prep_to_cjson(const churn_prep *prep)
{
	if (!prep) {
		ch_fail(CHURN_E_INVALID_ARG, "ch_prep_to_cjson: NULL argument");
		return NULL;
	}
	cJSON *o = cJSON_CreateObject(), *t, *pa, *cols;
	if (!o || !ch_prep_json_add(o, "format", cJSON_CreateString(CH_PREP_FORMAT)) ||
	    !ch_prep_json_add(o, "version", cJSON_CreateNumber(CH_PREP_VERSION)) ||
	    !ch_prep_json_add(o, "target", t = cJSON_CreateObject()) || !target_json(prep, t) ||
	    !ch_prep_json_add(o, "ids", ch_prep_json_strs(prep->ids, prep->nids)) ||
	    !ch_prep_json_add(o, "params", pa = cJSON_CreateObject()) || !params_json(prep, pa) ||
	    !ch_prep_json_add(o, "fit_rows", cJSON_CreateNumber((double)prep->fit_rows)) ||
	    !ch_prep_json_add(o, "dropped_target_rows", cJSON_CreateNumber((double)prep->dropped_target_rows)) ||
	    !ch_prep_json_add(o, "columns", cols = cJSON_CreateArray()) || !columns_json(prep, cols) ||
	    !ch_prep_json_add(o, "features", ch_prep_json_strs(prep->features, prep->nfeatures)) ||
	    !ch_prep_json_add(o, "dropped", ch_prep_json_dropped(prep))) {
		cJSON_Delete(o);
		ch_fail(CHURN_E_NOMEM, "out of memory");
		return NULL;
	}
	return o;
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

/* ---- reading ---- */

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

/* A count (a number in [0, 9e15)) into *out; left as it is otherwise. */
static void get_count(const cJSON *o, const char *key, size_t *out)
{
	double d;
	if (get_num(o, key, &d) && d >= 0 && d < 9e15)
		*out = (size_t)d;
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

/* The one error of a spec that does not read: what is missing or malformed. */
static churn_status bad(const char *what)
{
	return ch_fail(CHURN_E_PARSE, "prep spec: missing or malformed %s", what);
}

/* "format" and "version": this format, a version this libchurn reads. */
static churn_status check_header(const cJSON *o)
{
	const char *fmt = get_str(o, "format");
	if (!fmt || strcmp(fmt, CH_PREP_FORMAT) != 0)
		return ch_fail(CHURN_E_FORMAT, "prep spec: format is '%s', expected '" CH_PREP_FORMAT "'",
		               fmt ? fmt : "(none)");
	double ver;
	if (!get_num(o, "version", &ver) || ver != floor(ver) || ver < 1)
		return ch_fail(CHURN_E_FORMAT, "prep spec: missing or bad version");
	if (ver > CH_PREP_VERSION)
		return ch_fail(CHURN_E_FORMAT, "prep spec: version %.0f is newer than this libchurn reads (%d); upgrade "
		               "libchurn", ver, CH_PREP_VERSION);
	return CHURN_OK;
}

static churn_status read_target(churn_prep *prep, const cJSON *t)
{
	const char *s;
	if (!cJSON_IsObject(t) || !(s = get_str(t, "name")) || !(prep->target = ch_strdup(s)))
		return bad("target.name");
	if (!(s = get_str(t, "positive")) || !(prep->positive = ch_strdup(s)))
		return bad("target.positive");
	if (!(s = get_str(t, "negative")) || !(prep->negative = ch_strdup(s)))
		return bad("target.negative");
	s = get_str(t, "type");
	prep->target_numeric = s && strcmp(s, "numeric") == 0;
	if (prep->target_numeric &&
	    (!get_num(t, "positive_value", &prep->pos_num) || !get_num(t, "negative_value", &prep->neg_num)))
		return bad("target.positive_value");
	return CHURN_OK;
}

static churn_status read_params(churn_prep *prep, const cJSON *pa)
{
	if (!cJSON_IsObject(pa))
		return bad("params");
	if ((prep->impute_numeric = enum_index(get_str(pa, "impute_numeric"), ch_prep_imp_names, 3)) < 0)
		return bad("params.impute_numeric");
	if ((prep->impute_categorical = enum_index(get_str(pa, "impute_categorical"), ch_prep_impc_names, 2)) < 0)
		return bad("params.impute_categorical");
	if ((prep->scale = enum_index(get_str(pa, "scale"), ch_prep_sc_names, 3)) < 0)
		return bad("params.scale");
	double d;
	get_num(pa, "impute_constant", &prep->impute_constant);
	get_bool(pa, "missing_indicator", &prep->missing_indicator);
	get_bool(pa, "drop_missing_target", &prep->drop_missing_target);
	get_num(pa, "max_unique_ratio", &prep->max_unique_ratio);
	if (get_num(pa, "max_levels", &d) && d >= 0 && d < 9e15)
		prep->max_levels = (int64_t)d;
	return CHURN_OK;
}

/* The fields of a categorical column: sorted levels, encoding (and the yes level), fill level, missing level. */
static churn_status read_categorical(ch_prep_col *pc, const cJSON *c)
{
	pc->kind = CH_PC_CATEGORICAL;
	if (!load_strs(cJSON_GetObjectItemCaseSensitive(c, "levels"), &pc->levels, &pc->nlevels) || pc->nlevels == 0)
		return bad("columns[].levels");
	for (size_t k = 1; k < pc->nlevels; k++)
		if (strcmp(pc->levels[k - 1], pc->levels[k]) >= 0)
			return bad("columns[].levels (not sorted)");
	const char *enc = get_str(c, "encoding");
	pc->yes = -1;
	if (enc && strcmp(enc, "binary") == 0) {
		pc->encoding = CH_ENC_BINARY;
		const char *y = get_str(c, "yes");
		if (pc->nlevels != 2 || !y || (pc->yes = ch_prep_find_level(pc, y)) < 0)
			return bad("columns[].yes");
	} else if (enc && strcmp(enc, "onehot") == 0) {
		pc->encoding = CH_ENC_ONEHOT;
	} else {
		return bad("columns[].encoding");
	}
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "fill");
	if (cJSON_IsString(f)) {
		if ((pc->fill_level = ch_prep_find_level(pc, f->valuestring)) < 0)
			return bad("columns[].fill");
	} else {
		pc->fill_level = -1;
	}
	get_bool(c, "missing_level", &pc->missing_feature);
	if (pc->encoding == CH_ENC_BINARY && pc->missing_feature)
		return bad("columns[].missing_level");
	return CHURN_OK;
}

/* One column of "columns", appended to prep->cols (room made by the caller), and its features. */
static churn_status read_column(churn_prep *prep, const cJSON *c)
{
	ch_prep_col *pc = &prep->cols[prep->ncols];
	const char *s;
	if (!cJSON_IsObject(c) || !(s = get_str(c, "name")) || !(pc->name = ch_strdup(s)))
		return bad("columns[].name");
	prep->ncols++;
	s = get_str(c, "type");
	get_count(c, "fit_missing", &pc->fit_missing);
	churn_status st;
	if (s && strcmp(s, "numeric") == 0) {
		pc->kind = CH_PC_NUMERIC;
		if (!get_num(c, "fill", &pc->fill) || !get_num(c, "center", &pc->center) ||
		    !get_num(c, "scale", &pc->scale) || !(pc->scale > 0) || !get_bool(c, "indicator", &pc->indicator))
			return bad("columns[] numeric fields");
	} else if (s && strcmp(s, "categorical") == 0) {
		if ((st = read_categorical(pc, c)))
			return st;
	} else {
		return bad("columns[].type");
	}
	return ch_prep_name_features(prep, pc);
}

static churn_status read_columns(churn_prep *prep, const cJSON *cols)
{
	if (!cJSON_IsArray(cols))
		return bad("columns");
	size_t nc = (size_t)cJSON_GetArraySize(cols);
	prep->cols = calloc(nc ? nc : 1, sizeof(ch_prep_col));
	if (!prep->cols)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st;
	for (const cJSON *c = cols->child; c; c = c->next)
		if ((st = read_column(prep, c)))
			return st;
	return CHURN_OK;
}

/* The stored feature list must match what the columns produce. */
static churn_status check_features(const churn_prep *prep, const cJSON *a)
{
	char **feats = NULL;
	size_t nfe = 0;
	if (!load_strs(a, &feats, &nfe))
		return bad("features");
	bool same = nfe == prep->nfeatures;
	for (size_t k = 0; k < nfe; k++) {
		same = same && strcmp(feats[k], prep->features[k]) == 0;
		free(feats[k]);
	}
	free(feats);
	return same ? CHURN_OK : bad("features (do not match the columns)");
}

static churn_status read_dropped(churn_prep *prep, const cJSON *drops)
{
	churn_status st;
	if (cJSON_IsArray(drops))
		for (const cJSON *dd = drops->child; dd; dd = dd->next) {
			const char *col = get_str(dd, "column"), *why = get_str(dd, "reason");
			if (!col || !why)
				return bad("dropped[]");
			if ((st = ch_prep_add_drop(prep, col, ch_strdup(why))))
				return st;
		}
	return CHURN_OK;
}

churn_status ch_prep_from_cjson(const cJSON *o, churn_prep **out)
{
	if (!o || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "ch_prep_from_cjson: NULL argument");
	if (!cJSON_IsObject(o))
		return ch_fail(CHURN_E_PARSE, "prep spec: expected a JSON object");
	churn_status st = check_header(o);
	if (st)
		return st;
	churn_prep *prep = calloc(1, sizeof(*prep));
	if (!prep)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = read_target(prep, cJSON_GetObjectItemCaseSensitive(o, "target"))))
		goto fail;
	if (!load_strs(cJSON_GetObjectItemCaseSensitive(o, "ids"), &prep->ids, &prep->nids)) {
		st = bad("ids");
		goto fail;
	}
	if ((st = read_params(prep, cJSON_GetObjectItemCaseSensitive(o, "params"))))
		goto fail;
	get_count(o, "fit_rows", &prep->fit_rows);
	get_count(o, "dropped_target_rows", &prep->dropped_target_rows);
	if ((st = read_columns(prep, cJSON_GetObjectItemCaseSensitive(o, "columns"))) ||
	    (st = check_features(prep, cJSON_GetObjectItemCaseSensitive(o, "features"))) ||
	    (st = read_dropped(prep, cJSON_GetObjectItemCaseSensitive(o, "dropped"))))
		goto fail;
	if (prep->nfeatures == 0) {
		st = bad("columns (no features)");
		goto fail;
	}
	*out = prep;
	ch_clear_error();
	return CHURN_OK;
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
