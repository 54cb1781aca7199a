/* churn_model: the common frame of the three algorithms, and model artifacts. */
#include "churn/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "churn/version.h"
#include "core-private.h"
#include "model-private.h"
#include "prep-private.h"

#define CH_MODEL_FORMAT "churn-model"
#define CH_MODEL_VERSION 1
#define CH_MODEL_MAX_FILE ((size_t)1 << 30)
#define CH_MODEL_MAX_FEATURES 1000000

/*
 * CH_MODEL_REGISTRY: the algorithms built into this library. To add one,
 * define its `const struct ch_model_ops ch_<name>_ops` in libchurn/<name>.c,
 * add the file to libchurn/meson.build and add one line here.
 */
static const struct ch_model_ops *const registry[] = {
	&ch_logreg_ops,
	&ch_gbm_ops,
	&ch_forest_ops,
};

const struct ch_model_ops *ch_model_ops_for(churn_model_kind kind)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i]->kind == kind)
			return registry[i];
	return NULL;
}

struct churn_model {
	churn_model_kind kind;
	const struct ch_model_ops *ops;
	void *state;            /* NULL until fitted */
	size_t ncols;
	char **names;           /* ncols feature names */
	ch_fit_info info;
	cJSON *params;          /* object: this kind's keys + split.seed */
	double threshold;
	churn_prep *prep;
	char *metrics;          /* JSON object text or NULL */
	char *reference;        /* the training rows' drift reference profile (JSON object text) or NULL */
	size_t training_rows;
	char sha256[65];
};

/* ---- small helpers ---- */

static void free_names(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t j = 0; j < n; j++)
		free(names[j]);
	free(names);
}

/* Drop the fitted part (state, names, info, params), keep prep and artifact fields. */
static void clear_fit(churn_model *m)
{
	if (m->state && m->ops)
		m->ops->free(m->state);
	m->state = NULL;
	free_names(m->names, m->ncols);
	m->names = NULL;
	m->ncols = 0;
	cJSON_Delete(m->params);
	m->params = NULL;
	memset(&m->info, 0, sizeof(m->info));
}

/* ---- kinds, lifetime ---- */

const char *churn_model_kind_name(churn_model_kind k)
{
	switch (k) {
	case CHURN_MODEL_LOGREG: return "logreg";
	case CHURN_MODEL_GBM: return "gbm";
	case CHURN_MODEL_FOREST: return "forest";
	}
	return "unknown";
}

churn_status churn_model_kind_from_name(const char *name, churn_model_kind *out)
{
	if (!name || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_kind_from_name: NULL argument");
	static const churn_model_kind all[] = {CHURN_MODEL_LOGREG, CHURN_MODEL_GBM, CHURN_MODEL_FOREST};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(name, churn_model_kind_name(all[i])) != 0)
			continue;
		if (!ch_model_ops_for(all[i]))
			return ch_fail(CHURN_E_INVALID_ARG, "model kind '%s' is not built into this libchurn", name);
		*out = all[i];
		return CHURN_OK;
	}
	return ch_fail(CHURN_E_INVALID_ARG, "unknown model kind '%s' (expected logreg, gbm or forest)", name);
}

churn_status churn_model_new(churn_model_kind kind, churn_model **out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_new: out is NULL");
	const struct ch_model_ops *ops = ch_model_ops_for(kind);
	if (!ops)
		return ch_fail(CHURN_E_INVALID_ARG, "model kind %d (%s) is not built into this libchurn", (int)kind,
		               churn_model_kind_name(kind));
	churn_model *m = calloc(1, sizeof(*m));
	if (!m)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	m->kind = kind;
	m->ops = ops;
	m->threshold = 0.5;
	*out = m;
	return CHURN_OK;
}

void churn_model_free(churn_model *m)
{
	if (!m)
		return;
	clear_fit(m);
	churn_prep_free(m->prep);
	free(m->metrics);
	free(m->reference);
	free(m);
}

/* ---- fit ---- */

static churn_status check_finite(const double *x, size_t nrows, size_t ncols, const char *what)
{
	size_t n = nrows * ncols;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return ch_fail(CHURN_E_NUMERIC, "%s: value at row %zu, column %zu is %s", what, i / ncols,
			               i % ncols, isnan(x[i]) ? "NaN" : "infinite");
	return CHURN_OK;
}

/* This kind's keys ("logreg.*") and split.seed from p, as a cJSON object. */
static churn_status params_subset(const churn_model *m, const churn_params *p, cJSON **out)
{
	char *json = NULL;
	churn_status st = churn_params_to_json(p, &json);
	if (st)
		return st;
	cJSON *all = ch_json_parse_str(json, "parameters");
	churn_free(json);
	cJSON *res = cJSON_CreateObject();
	if (!all || !res) {
		cJSON_Delete(all);
		cJSON_Delete(res);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t plen = strlen(m->ops->name);
	cJSON *it = all->child;
	while (it) {
		cJSON *next = it->next;
		if (it->string && ((!strncmp(it->string, m->ops->name, plen) && it->string[plen] == '.') ||
		                   !strcmp(it->string, CHURN_KEY_SPLIT_SEED))) {
			cJSON_DetachItemViaPointer(all, it);
			cJSON_AddItemToObject(res, it->string, it);
		}
		it = next;
	}
	cJSON_Delete(all);
	*out = res;
	return CHURN_OK;
}

churn_status churn_model_fit(churn_model *m, const churn_matrix *train, const churn_params *p)
{
	churn_status st;
	churn_params *defaults = NULL;
	void *state = NULL;
	char **names = NULL;
	cJSON *params = NULL;
	if (!m || !train)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_fit: NULL argument");
	size_t nrows = churn_matrix_get_row_count(train), ncols = churn_matrix_get_column_count(train);
	const uint8_t *y = churn_matrix_get_labels(train);
	if (nrows == 0 || ncols == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_fit: empty training matrix (%zu x %zu)", nrows, ncols);
	if (ncols > CH_MODEL_MAX_FEATURES)
		return ch_fail(CHURN_E_LIMIT, "churn_model_fit: %zu features (at most %d)", ncols, CH_MODEL_MAX_FEATURES);
	if (!y)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_fit: the training matrix has no labels");
	size_t npos = 0;
	for (size_t i = 0; i < nrows; i++)
		npos += y[i] != 0;
	if (npos == 0 || npos == nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_fit: the training labels have one class only (%zu of %zu positive)",
		               npos, nrows);
	if ((st = check_finite(churn_matrix_get_data_const(train), nrows, ncols, "churn_model_fit")))
		return st;
	if (!p) {
		if ((st = churn_params_new(&defaults)))
			return st;
		p = defaults;
	}
	if ((st = params_subset(m, p, &params)))
		goto out;
	if (!(names = calloc(ncols, sizeof(char *)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < ncols; j++) {
		const char *nm = churn_matrix_get_feature_name(train, j);
		if (!(names[j] = ch_strdup(nm ? nm : ""))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	ch_fit_info info = {0};
	if ((st = m->ops->fit(&state, train, p, &info)))
		goto out;
	clear_fit(m);
	m->state = state;
	m->names = names;
	m->ncols = ncols;
	m->params = params;
	m->info = info;
	m->training_rows = nrows;
	state = NULL;
	names = NULL;
	params = NULL;
	ch_clear_error();
out:
	free_names(names, ncols);
	cJSON_Delete(params);
	churn_params_free(defaults);
	return st;
}

bool churn_model_is_fitted(const churn_model *m)
{
	return m && m->state;
}

const struct ch_model_ops *ch_model_get_ops(const churn_model *m, const void **state)
{
	*state = m->state;
	return m->ops;
}

/* ---- predict, explain ---- */

static churn_status need_fitted(const churn_model *m, const char *fn)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: model is NULL", fn);
	if (!m->state)
		return ch_fail(CHURN_E_STATE, "%s: the model is not fitted", fn);
	return CHURN_OK;
}

static double prob_of(const churn_model *m, const double *row)
{
	double s = m->ops->margin(m->state, row, m->ncols);
	if (m->ops->score_is_logit)
		return ch_sigmoid(s);
	return s < 0 ? 0 : (s > 1 ? 1 : s);
}

churn_status churn_model_predict(const churn_model *m, const churn_matrix *x, double *out, size_t out_cap,
                                 size_t *out_n)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_predict")))
		return st;
	if (!x || !out_n || (out_cap && !out))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_predict: NULL argument");
	size_t nrows = churn_matrix_get_row_count(x), ncols = churn_matrix_get_column_count(x);
	*out_n = nrows;
	if (ncols != m->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_predict: the matrix has %zu columns, the model expects %zu",
		               ncols, m->ncols);
	if (out_cap < nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_predict: output holds %zu values, need %zu", out_cap, nrows);
	const double *X = churn_matrix_get_data_const(x);
	if ((st = check_finite(X, nrows, ncols, "churn_model_predict")))
		return st;
	if (m->ops->predict) {
		m->ops->predict(m->state, X, nrows, ncols, out);
	} else {
		for (size_t i = 0; i < nrows; i++)
			out[i] = prob_of(m, X + i * ncols);
	}
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_model_predict_row(const churn_model *m, const double *row, size_t ncols, double *out_p)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_predict_row")))
		return st;
	if (!row || !out_p)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_predict_row: NULL argument");
	if (ncols != m->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_predict_row: %zu values, the model expects %zu", ncols,
		               m->ncols);
	if ((st = check_finite(row, 1, ncols, "churn_model_predict_row")))
		return st;
	if (m->ops->predict)
		m->ops->predict(m->state, row, 1, ncols, out_p);
	else
		*out_p = prob_of(m, row);
	return CHURN_OK;
}

churn_status churn_model_explain(const churn_model *m, const double *row, size_t ncols, double *out_contrib,
                                 size_t out_cap)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_explain")))
		return st;
	if (!row || !out_contrib)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_explain: NULL argument");
	if (ncols != m->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_explain: %zu values, the model expects %zu", ncols,
		               m->ncols);
	if (out_cap < ncols + 1)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_explain: output holds %zu values, need %zu", out_cap,
		               ncols + 1);
	if ((st = check_finite(row, 1, ncols, "churn_model_explain")))
		return st;
	return m->ops->contrib(m->state, row, ncols, out_contrib);
}

size_t ch_top_reasons(const double *contrib, size_t p, size_t top_k, size_t *out)
{
	size_t k = 0;
	if (top_k == 0)
		return 0;
	for (size_t j = 0; j < p; j++) {
		double a = fabs(contrib[j]);
		if (!(a > 0))
			continue; /* no effect, or NaN */
		size_t pos = k < top_k ? k++ : top_k;
		if (pos == top_k && a <= fabs(contrib[out[top_k - 1]]))
			continue;
		if (pos == top_k)
			pos = top_k - 1;
		while (pos > 0 && fabs(contrib[out[pos - 1]]) < a) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = j;
	}
	return k;
}

churn_status churn_model_reasons(const churn_model *m, const double *row, size_t ncols, size_t top_k,
                                 size_t *out_idx, double *out_contrib, size_t *out_n)
{
	if (!out_idx || !out_contrib || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_reasons: NULL argument");
	*out_n = 0;
	double *c = malloc((ncols + 1) * sizeof(double));
	if (!c)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = churn_model_explain(m, row, ncols, c, ncols + 1);
	if (!st) {
		*out_n = ch_top_reasons(c, ncols, top_k, out_idx);
		for (size_t q = 0; q < *out_n; q++)
			out_contrib[q] = c[out_idx[q]];
	}
	free(c);
	return st;
}

bool churn_model_score_is_logit(const churn_model *m)
{
	return m && m->ops && m->ops->score_is_logit;
}

churn_status churn_model_get_importance(const churn_model *m, double *out, size_t out_cap, size_t *out_n)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_get_importance")))
		return st;
	if (!out_n || (out_cap && !out))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_get_importance: NULL argument");
	*out_n = m->ncols;
	if (out_cap < m->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_get_importance: output holds %zu values, need %zu",
		               out_cap, m->ncols);
	return m->ops->importance(m->state, out, m->ncols);
}

/* ---- getters and setters ---- */

churn_model_kind churn_model_get_kind(const churn_model *m) { return m ? m->kind : CHURN_MODEL_LOGREG; }
size_t churn_model_get_feature_count(const churn_model *m) { return m ? m->ncols : 0; }
size_t churn_model_get_iterations(const churn_model *m) { return m ? m->info.iterations : 0; }
bool churn_model_is_converged(const churn_model *m) { return m && m->state && m->info.converged; }
double churn_model_get_threshold(const churn_model *m) { return m ? m->threshold : 0.5; }
const churn_prep *churn_model_get_prep(const churn_model *m) { return m ? m->prep : NULL; }
const char *churn_model_get_metrics_json(const churn_model *m) { return m ? m->metrics : NULL; }
const char *churn_model_get_reference_json(const churn_model *m) { return m ? m->reference : NULL; }
size_t churn_model_get_training_row_count(const churn_model *m) { return m ? m->training_rows : 0; }
const char *churn_model_get_data_sha256(const churn_model *m) { return m ? m->sha256 : ""; }

const char *churn_model_get_feature_name(const churn_model *m, size_t j)
{
	return (m && m->names && j < m->ncols) ? m->names[j] : NULL;
}

churn_status churn_model_get_params_json(const churn_model *m, char **out_json)
{
	if (!m || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_get_params_json: NULL argument");
	char *s = m->params ? ch_json_print(m->params, false) : ch_strdup("{}");
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* cJSON allocates with malloc, as churn_free() releases. */
	*out_json = s;
	return CHURN_OK;
}

churn_status churn_model_set_threshold(churn_model *m, double threshold)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_threshold: model is NULL");
	if (!(threshold >= 0 && threshold <= 1))
		return ch_fail(CHURN_E_INVALID_ARG, "threshold %g is not in [0, 1]", threshold);
	m->threshold = threshold;
	return CHURN_OK;
}

static churn_status prep_copy(const churn_prep *prep, churn_prep **out)
{
	/* Through text: the spec's cJSON form holds raw number items that only a parse turns into numbers. */
	char *json = NULL;
	churn_status st = churn_prep_to_json(prep, &json);
	if (st)
		return st;
	st = churn_prep_from_json(json, out);
	churn_free(json);
	return st;
}

churn_status churn_model_set_prep(churn_model *m, const churn_prep *prep)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_prep: model is NULL");
	churn_prep *copy = NULL;
	if (prep) {
		churn_status st = prep_copy(prep, &copy);
		if (st)
			return st;
	}
	churn_prep_free(m->prep);
	m->prep = copy;
	return CHURN_OK;
}

churn_status churn_model_set_metrics_json(churn_model *m, const char *json)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_metrics_json: model is NULL");
	char *copy = NULL;
	if (json) {
		cJSON *o = ch_json_parse_str(json, "metrics");
		bool ok = cJSON_IsObject(o);
		if (ok)
			copy = ch_json_print(o, false);
		cJSON_Delete(o);
		if (!ok)
			return ch_fail(CHURN_E_PARSE, "churn_model_set_metrics_json: not a JSON object");
		if (!copy)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	free(m->metrics);
	m->metrics = copy;
	return CHURN_OK;
}

churn_status churn_model_set_reference_json(churn_model *m, const char *json)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_reference_json: model is NULL");
	char *copy = NULL;
	if (json) {
		cJSON *o = ch_json_parse_str(json, "reference");
		bool ok = cJSON_IsObject(o);
		if (ok)
			copy = ch_json_print(o, false);
		cJSON_Delete(o);
		if (!ok)
			return ch_fail(CHURN_E_PARSE, "churn_model_set_reference_json: not a JSON object");
		if (!copy)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	free(m->reference);
	m->reference = copy;
	return CHURN_OK;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

churn_status churn_model_set_training_info(churn_model *m, size_t rows, const char *sha256)
{
	if (!m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_training_info: model is NULL");
	if (sha256 && *sha256 && !is_hex64(sha256))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_training_info: sha256 must be 64 hex digits");
	m->training_rows = rows;
	snprintf(m->sha256, sizeof(m->sha256), "%s", sha256 ? sha256 : "");
	return CHURN_OK;
}

churn_status churn_model_set_training_file(churn_model *m, const char *path)
{
	if (!m || !path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_set_training_file: NULL argument");
	char hex[65];
	churn_status st = ch_sha256_file(path, hex);
	if (st)
		return st;
	memcpy(m->sha256, hex, sizeof(hex));
	return CHURN_OK;
}

churn_status churn_model_get_coefficients(const churn_model *m, double *out, size_t out_cap, size_t *out_n)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_get_coefficients")))
		return st;
	if (!out_n || (out_cap && !out))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_get_coefficients: NULL argument");
	if (m->kind != CHURN_MODEL_LOGREG)
		return ch_fail(CHURN_E_UNSUPPORTED, "churn_model_get_coefficients: a %s model has no coefficients",
		               churn_model_kind_name(m->kind));
	*out_n = m->ncols + 1;
	if (out_cap < m->ncols + 1)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_get_coefficients: output holds %zu values, need %zu",
		               out_cap, m->ncols + 1);
	/* contributions of the unit rows give the coefficients; use the dedicated helper instead */
	return ch_logreg_coefficients(m->state, m->ncols, out);
}

/* ---- artifacts ---- */

static cJSON *model_to_cjson(const churn_model *m)
{
	cJSON *o = cJSON_CreateObject(), *x;
	if (!o)
		goto nomem;
	if (!cJSON_AddStringToObject(o, "format", CH_MODEL_FORMAT) ||
	    !cJSON_AddNumberToObject(o, "version", CH_MODEL_VERSION) ||
	    !cJSON_AddStringToObject(o, "writer", "libchurn " CHURN_VERSION_STRING) ||
	    !cJSON_AddStringToObject(o, "kind", m->ops->name))
		goto nomem;
	x = m->params ? cJSON_Duplicate(m->params, true) : cJSON_CreateObject();
	if (!x || !cJSON_AddItemToObject(o, "params", x)) {
		cJSON_Delete(x);
		goto nomem;
	}
	if (!(x = cJSON_AddArrayToObject(o, "features")))
		goto nomem;
	for (size_t j = 0; j < m->ncols; j++) {
		cJSON *s = cJSON_CreateString(m->names[j]);
		if (!s || !cJSON_AddItemToArray(x, s)) {
			cJSON_Delete(s);
			goto nomem;
		}
	}
	if (!ch_json_add_number(o, "threshold", m->threshold) ||
	    !cJSON_AddNumberToObject(o, "training_rows", (double)m->training_rows) ||
	    !cJSON_AddStringToObject(o, "data_sha256", m->sha256))
		goto nomem;
	if (!(x = cJSON_AddObjectToObject(o, "fit")) ||
	    !cJSON_AddNumberToObject(x, "iterations", (double)m->info.iterations) ||
	    !cJSON_AddBoolToObject(x, "converged", m->info.converged))
		goto nomem;
	if (m->metrics) {
		x = ch_json_parse_str(m->metrics, "metrics");
		if (!x || !cJSON_AddItemToObject(o, "metrics", x)) {
			cJSON_Delete(x);
			goto nomem;
		}
	}
	if (m->reference) {
		x = ch_json_parse_str(m->reference, "reference");
		if (!x || !cJSON_AddItemToObject(o, "reference", x)) {
			cJSON_Delete(x);
			goto nomem;
		}
	}
	if (m->prep) {
		x = ch_prep_to_cjson(m->prep);
		if (!x || !cJSON_AddItemToObject(o, "prep", x)) {
			cJSON_Delete(x);
			goto nomem;
		}
	}
	x = m->ops->to_cjson(m->state, m->ncols, (const char *const *)m->names);
	if (!x || !cJSON_AddItemToObject(o, m->ops->name, x)) {
		cJSON_Delete(x);
		goto nomem;
	}
	return o;
nomem:
	cJSON_Delete(o);
	ch_fail(CHURN_E_NOMEM, "out of memory writing the model artifact");
	return NULL;
}

churn_status churn_model_to_buffer(const churn_model *m, char **out, size_t *out_n)
{
	churn_status st;
	if ((st = need_fitted(m, "churn_model_to_buffer")))
		return st;
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_to_buffer: out is NULL");
	cJSON *o = model_to_cjson(m);
	if (!o)
		return CHURN_E_NOMEM;
	char *s = ch_json_print(o, true);
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory writing the model artifact");
	*out = s;
	if (out_n)
		*out_n = strlen(s);
	return CHURN_OK;
}

churn_status churn_model_save_file(const churn_model *m, const char *path)
{
	if (!path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_save_file: path is NULL");
	char *buf = NULL;
	size_t n = 0;
	churn_status st = churn_model_to_buffer(m, &buf, &n);
	if (st)
		return st;
	char *text = realloc(buf, n + 2);
	if (!text) {
		free(buf);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	text[n] = '\n';
	text[n + 1] = '\0';
	st = ch_write_file_atomic(path, text, n + 1);
	free(text);
	if (st)
		return ch_fail_prefix(st, "saving model %s", path);
	return CHURN_OK;
}

/* 1-based line and column of offset off in buf. */
static void line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* "format", "version" and "kind": the model kind, when this libchurn reads it and has it built in. */
static churn_status read_kind(const cJSON *o, const char *w, churn_model_kind *out)
{
	churn_status st;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "format");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, CH_MODEL_FORMAT) != 0)
		return ch_fail(CHURN_E_FORMAT, "%s: \"format\" is not \"%s\" (not a libchurn model file)", w, CH_MODEL_FORMAT);
	double ver;
	if ((st = ch_json_get_double(o, "version", w, &ver)))
		return st;
	if (ver != floor(ver) || ver < 1)
		return ch_fail(CHURN_E_FORMAT, "%s: bad \"version\" %g", w, ver);
	if (ver > CH_MODEL_VERSION)
		return ch_fail(CHURN_E_FORMAT, "%s: format version %g is newer than this libchurn reads (%d); upgrade libchurn",
		               w, ver, CH_MODEL_VERSION);
	it = cJSON_GetObjectItemCaseSensitive(o, "kind");
	if (!cJSON_IsString(it))
		return ch_fail(CHURN_E_FORMAT, "%s: field 'kind' is missing or not a string", w);
	if (!strcmp(it->valuestring, "logreg"))
		*out = CHURN_MODEL_LOGREG;
	else if (!strcmp(it->valuestring, "gbm"))
		*out = CHURN_MODEL_GBM;
	else if (!strcmp(it->valuestring, "forest"))
		*out = CHURN_MODEL_FOREST;
	else
		return ch_fail(CHURN_E_FORMAT, "%s: unknown model kind '%.40s'", w, it->valuestring);
	if (!ch_model_ops_for(*out))
		return ch_fail(CHURN_E_FORMAT, "%s: model kind '%s' is not built into this libchurn", w, it->valuestring);
	return CHURN_OK;
}

/* "features": m->names and m->ncols (1 to CH_MODEL_MAX_FEATURES strings). */
static churn_status read_features(const cJSON *o, const char *w, churn_model *m)
{
	const cJSON *feats = cJSON_GetObjectItemCaseSensitive(o, "features"), *it;
	if (!cJSON_IsArray(feats))
		return ch_fail(CHURN_E_FORMAT, "%s: field 'features' is missing or not an array", w);
	size_t ncols = (size_t)cJSON_GetArraySize(feats);
	if (ncols == 0 || ncols > CH_MODEL_MAX_FEATURES)
		return ch_fail(CHURN_E_FORMAT, "%s: 'features' has %zu entries", w, ncols);
	if (!(m->names = calloc(ncols, sizeof(char *))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	m->ncols = ncols;
	size_t j = 0;
	cJSON_ArrayForEach(it, feats) {
		if (!cJSON_IsString(it))
			return ch_fail(CHURN_E_FORMAT, "%s: features[%zu] is not a string", w, j);
		if (!(m->names[j++] = ch_strdup(it->valuestring)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

/* "threshold", "training_rows", "data_sha256", "params" and "fit". */
static churn_status read_training(const cJSON *o, const char *w, churn_model *m)
{
	churn_status st;
	if ((st = ch_json_get_double(o, "threshold", w, &m->threshold)))
		return st;
	if (!(m->threshold >= 0 && m->threshold <= 1))
		return ch_fail(CHURN_E_FORMAT, "%s: 'threshold' is not in [0, 1]", w);
	if ((st = ch_json_get_size(o, "training_rows", w, (size_t)1 << 52, &m->training_rows)))
		return st;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "data_sha256");
	if (!cJSON_IsString(it) || (it->valuestring[0] && !is_hex64(it->valuestring)))
		return ch_fail(CHURN_E_FORMAT, "%s: 'data_sha256' is not empty or 64 hex digits", w);
	snprintf(m->sha256, sizeof(m->sha256), "%s", it->valuestring);
	it = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (!cJSON_IsObject(it))
		return ch_fail(CHURN_E_FORMAT, "%s: field 'params' is missing or not an object", w);
	if (!(m->params = cJSON_Duplicate(it, true)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	const cJSON *fit = cJSON_GetObjectItemCaseSensitive(o, "fit");
	if (!cJSON_IsObject(fit))
		return ch_fail(CHURN_E_FORMAT, "%s: field 'fit' is missing or not an object", w);
	if ((st = ch_json_get_size(fit, "iterations", "model artifact: fit", (size_t)1 << 40, &m->info.iterations)))
		return st;
	it = cJSON_GetObjectItemCaseSensitive(fit, "converged");
	if (!cJSON_IsBool(it))
		return ch_fail(CHURN_E_FORMAT, "%s: fit.converged is not a boolean", w);
	m->info.converged = cJSON_IsTrue(it);
	return CHURN_OK;
}

/* The optional "metrics" and "reference" (kept as text) and "prep" (its features must be the model's). */
static churn_status read_metrics_prep(const cJSON *o, const char *w, churn_model *m)
{
	churn_status st;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "metrics");
	if (it && !cJSON_IsNull(it)) {
		if (!cJSON_IsObject(it))
			return ch_fail(CHURN_E_FORMAT, "%s: 'metrics' is not an object", w);
		if (!(m->metrics = ch_json_print(it, false)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	/* the drift reference profile: artifacts from before drift monitoring have none */
	it = cJSON_GetObjectItemCaseSensitive(o, "reference");
	if (it && !cJSON_IsNull(it)) {
		if (!cJSON_IsObject(it))
			return ch_fail(CHURN_E_FORMAT, "%s: 'reference' is not an object", w);
		if (!(m->reference = ch_json_print(it, false)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "prep");
	if (it && !cJSON_IsNull(it)) {
		if ((st = ch_prep_from_cjson(it, &m->prep))) {
			ch_fail_prefix(st, "%s: prep", w);
			return st;
		}
		if (churn_prep_get_feature_count(m->prep) != m->ncols)
			return ch_fail(CHURN_E_FORMAT, "%s: the prep spec makes %zu features, the model has %zu", w,
			               churn_prep_get_feature_count(m->prep), m->ncols);
	}
	return CHURN_OK;
}

static churn_status model_from_cjson(const cJSON *o, churn_model **out)
{
	churn_status st;
	churn_model *m = NULL;
	const char *w = "model artifact";
	if (!cJSON_IsObject(o))
		return ch_fail(CHURN_E_FORMAT, "%s: not a JSON object", w);
	churn_model_kind kind = CHURN_MODEL_LOGREG;
	if ((st = read_kind(o, w, &kind)) || (st = churn_model_new(kind, &m)))
		return st;
	if ((st = read_features(o, w, m)) || (st = read_training(o, w, m)) || (st = read_metrics_prep(o, w, m)))
		goto fail;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, m->ops->name);
	if (!it) {
		st = ch_fail(CHURN_E_FORMAT, "%s: the '%s' part (the fitted model) is missing", w, m->ops->name);
		goto fail;
	}
	if ((st = m->ops->from_cjson(it, m->ncols, &m->state)))
		goto fail;
	*out = m;
	ch_clear_error();
	return CHURN_OK;
fail:
	churn_model_free(m);
	return st;
}

churn_status churn_model_from_buffer(const char *buf, size_t n, churn_model **out)
{
	if (!buf || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_from_buffer: NULL argument");
	if (n > CH_MODEL_MAX_FILE)
		return ch_fail(CHURN_E_LIMIT, "model artifact of %zu bytes is over the 1 GiB limit", n);
	static const ch_json_limits lim = {CH_JSON_MAX_DEPTH, 0};
	churn_status sst = ch_json_scan(buf, n, &lim, "model artifact", NULL);
	if (sst)
		return sst;
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(buf, n, &end, false);
	if (!o) {
		size_t off = (end && end >= buf && end <= buf + n) ? (size_t)(end - buf) : 0, line, col;
		line_col(buf, off, &line, &col);
		size_t last = n;
		while (last > 0 && (buf[last - 1] == ' ' || buf[last - 1] == '\n' || buf[last - 1] == '\r' ||
		                    buf[last - 1] == '\t' || buf[last - 1] == '\0'))
			last--;
		size_t first = 0;
		while (first < n && (buf[first] == ' ' || buf[first] == '\n' || buf[first] == '\r' || buf[first] == '\t'))
			first++;
		if (first < n && buf[first] == '{' && (off >= n || last == 0 || buf[last - 1] != '}'))
			return ch_fail(CHURN_E_PARSE, "model artifact:%zu:%zu: malformed JSON: the document ends early (truncated file?)",
			               line, col);
		return ch_fail(CHURN_E_PARSE, "model artifact:%zu:%zu: malformed JSON", line, col);
	}
	size_t off = end ? (size_t)(end - buf) : n;
	while (off < n && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\r' || buf[off] == '\t'))
		off++;
	if (off < n && buf[off] != '\0') {
		size_t line, col;
		line_col(buf, off, &line, &col);
		cJSON_Delete(o);
		return ch_fail(CHURN_E_PARSE, "model artifact:%zu:%zu: data after the JSON document", line, col);
	}
	churn_status st = model_from_cjson(o, out);
	cJSON_Delete(o);
	return st;
}

churn_status churn_model_load_file(const char *path, churn_model **out)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_model_load_file: NULL argument");
	char *buf = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(path, CH_MODEL_MAX_FILE, &buf, &n);
	if (st)
		return ch_fail_prefix(st, "loading model %s", path);
	st = churn_model_from_buffer(buf, n, out);
	free(buf);
	if (st)
		return ch_fail_prefix(st, "%s", path);
	return CHURN_OK;
}
