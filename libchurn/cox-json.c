/*
 * The Cox model as JSON for artifacts: {"format": "churn-cox", "version": 1,
 * ...}, numbers printed by ch_json_print (shortest text that reads back to
 * the same double), so a model read back predicts the same bits.
 */
#include "churn/survival.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "cox-private.h"

#define COX_FORMAT "churn-cox"
#define COX_VERSION 1

static bool add_array(cJSON *o, const char *key, const double *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	if (!a)
		return false;
	for (size_t k = 0; k < n; k++) {
		cJSON *x = cJSON_CreateNumber(v[k]);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			return false;
		}
	}
	return true;
}

static bool build(const churn_cox *m, cJSON *o)
{
	cJSON *names = cJSON_AddArrayToObject(o, "features"), *al;
	if (!cJSON_AddStringToObject(o, "format", COX_FORMAT) || !cJSON_AddNumberToObject(o, "version", COX_VERSION) ||
	    !names)
		return false;
	for (size_t j = 0; j < m->p; j++) {
		cJSON *s = cJSON_CreateString(m->names[j]);
		if (!s || !cJSON_AddItemToArray(names, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	if (!add_array(o, "coef", m->coef, m->p) || !add_array(o, "se", m->se, m->p) ||
	    !(al = cJSON_AddArrayToObject(o, "aliased")))
		return false;
	for (size_t j = 0; j < m->p; j++) {
		cJSON *b = cJSON_CreateBool(m->aliased[j]);
		if (!b || !cJSON_AddItemToArray(al, b)) {
			cJSON_Delete(b);
			return false;
		}
	}
	cJSON *base;
	return add_array(o, "center", m->center, m->p) && cJSON_AddNumberToObject(o, "loglik", m->loglik) &&
	       cJSON_AddNumberToObject(o, "loglik_null", m->loglik_null) &&
	       cJSON_AddNumberToObject(o, "iterations", m->iterations) &&
	       cJSON_AddBoolToObject(o, "converged", m->converged) &&
	       cJSON_AddNumberToObject(o, "rows", (double)m->nrows) &&
	       cJSON_AddNumberToObject(o, "events", (double)m->nevents) &&
	       cJSON_AddNumberToObject(o, "ridge", m->ridge) && (base = cJSON_AddObjectToObject(o, "baseline")) &&
	       add_array(base, "time", m->base_time, m->nbase) && add_array(base, "hazard", m->base_haz, m->nbase);
}

churn_status churn_cox_to_json(const churn_cox *m, char **out_json)
{
	if (!m || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_to_json: NULL argument");
	cJSON *o = cJSON_CreateObject();
	char *s = o && build(m, o) ? ch_json_print(o, true) : NULL;
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "churn_cox_to_json: out of memory");
	*out_json = s;
	return CHURN_OK;
}

/* ------------------------------------------------------------ reading */

static bool get_number(const cJSON *o, const char *key, double *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return false;
	*out = x->valuedouble;
	return true;
}

/* Array of exactly n finite numbers. */
static bool get_array(const cJSON *o, const char *key, double *v, size_t n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *x;
	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return false;
	size_t k = 0;
	cJSON_ArrayForEach(x, a) {
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
			return false;
		v[k++] = x->valuedouble;
	}
	return true;
}

static bool read_features(const cJSON *o, churn_cox *m)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(o, "features"), *x;
	const cJSON *al = cJSON_GetObjectItemCaseSensitive(o, "aliased");
	if ((size_t)cJSON_GetArraySize(al) != m->p || !cJSON_IsArray(al))
		return false;
	size_t k = 0;
	cJSON_ArrayForEach(x, names) {
		if (!cJSON_IsString(x) || !(m->names[k++] = ch_strdup(x->valuestring)))
			return false;
	}
	k = 0;
	cJSON_ArrayForEach(x, al) {
		if (!cJSON_IsBool(x))
			return false;
		m->aliased[k++] = cJSON_IsTrue(x);
	}
	return true;
}

static bool read_model(const cJSON *o, churn_cox *m)
{
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(o, "baseline");
	double it, rows, ev;
	if (!read_features(o, m) || !get_array(o, "coef", m->coef, m->p) || !get_array(o, "se", m->se, m->p) ||
	    !get_array(o, "center", m->center, m->p) || !get_number(o, "loglik", &m->loglik) ||
	    !get_number(o, "loglik_null", &m->loglik_null) || !get_number(o, "ridge", &m->ridge) ||
	    !get_number(o, "iterations", &it) || !get_number(o, "rows", &rows) || !get_number(o, "events", &ev) ||
	    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "converged")) ||
	    !get_array(base, "time", m->base_time, m->nbase) || !get_array(base, "hazard", m->base_haz, m->nbase))
		return false;
	if (it < 0 || it > 1e6 || rows < 0 || rows > 1e15 || ev < 0 || ev > rows || m->ridge < 0)
		return false;
	m->iterations = (int)it;
	m->nrows = (size_t)rows;
	m->nevents = (size_t)ev;
	m->converged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "converged"));
	for (size_t k = 1; k < m->nbase; k++)
		if (!(m->base_time[k] > m->base_time[k - 1]) || m->base_haz[k] < m->base_haz[k - 1])
			return false;
	return true;
}

churn_status churn_cox_from_json(const char *json, churn_cox **out)
{
	if (!json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_from_json: NULL argument");
	churn_status st = CHURN_OK;
	cJSON *o = ch_json_parse(json, strlen(json), "churn_cox_from_json", &st);
	if (!o)
		return st ? st : ch_fail(CHURN_E_PARSE, "churn_cox_from_json: malformed JSON");
	churn_cox *m = NULL;
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(o, "features");
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(o, "baseline");
	if (!cJSON_IsObject(o) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, COX_FORMAT) != 0) {
		st = ch_fail(CHURN_E_FORMAT, "churn_cox_from_json: not a churn-cox model");
		goto out;
	}
	if (!cJSON_IsNumber(ver) || ver->valuedouble != COX_VERSION) {
		st = ch_fail(CHURN_E_FORMAT, "churn_cox_from_json: model version %g, this library reads %d",
		             cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, COX_VERSION);
		goto out;
	}
	const cJSON *bt = cJSON_GetObjectItemCaseSensitive(base, "time");
	if (!cJSON_IsArray(names) || !cJSON_IsArray(bt)) {
		st = ch_fail(CHURN_E_FORMAT, "churn_cox_from_json: no \"features\" or \"baseline\" arrays");
		goto out;
	}
	m = ch_cox_alloc((size_t)cJSON_GetArraySize(names), (size_t)cJSON_GetArraySize(bt));
	if (!m) {
		st = ch_fail(CHURN_E_NOMEM, "churn_cox_from_json: out of memory");
		goto out;
	}
	if (!read_model(o, m))
		st = ch_fail(CHURN_E_FORMAT, "churn_cox_from_json: missing, non-finite or inconsistent fields");
out:
	cJSON_Delete(o);
	if (st) {
		churn_cox_free(m);
		return st;
	}
	*out = m;
	return CHURN_OK;
}
