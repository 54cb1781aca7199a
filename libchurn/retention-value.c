/*
 * A posted customer's remaining months and value (churn_value_scorer,
 * churn/retention.h): the Cox artifact (artifacts/models/cox.json) loaded
 * once, applied to raw records as the training applied it (its prep, the
 * columns it left out), and its figures added to /api/predict's
 * predictions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "retention-private.h"
#include "train-private.h"

struct churn_value_scorer {
	churn_prep *prep;
	churn_cox *cox;
	size_t *feat, nfeat;
	char *time_col, *charges_col; /* charges_col NULL: no value figures */
	double horizon, rate;
};

void churn_value_scorer_free(churn_value_scorer *s)
{
	if (!s)
		return;
	churn_prep_free(s->prep);
	churn_cox_free(s->cox);
	free(s->feat);
	free(s->time_col);
	free(s->charges_col);
	free(s);
}

/* The prep, the model and the kept features of artifact a. */
static churn_status load_parts(churn_value_scorer *s, const cJSON *a)
{
	char *prep = ch_json_print(cJSON_GetObjectItemCaseSensitive(a, "prep"), false);
	char *cox = ch_json_print(cJSON_GetObjectItemCaseSensitive(a, "cox"), false);
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(a, "excluded_columns"), *e;
	size_t nex = 0;
	char **names = calloc((size_t)cJSON_GetArraySize(ex) + 1, sizeof(char *));
	churn_status st = prep && cox && names ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_ArrayForEach(e, ex)
	{
		if (!st && !cJSON_IsString(e))
			st = ch_fail(CHURN_E_FORMAT, "cox artifact: excluded_columns holds a non-string");
		if (!st)
			names[nex++] = e->valuestring;
	}
	if (!st)
		st = churn_prep_from_json(prep, &s->prep);
	if (!st)
		st = churn_cox_from_json(cox, &s->cox);
	if (!st)
		st = ch_cox_pick_features(s->prep, names, nex, &s->feat, &s->nfeat);
	if (!st && s->nfeat != churn_cox_get_feature_count(s->cox))
		st = ch_fail(CHURN_E_FORMAT, "cox artifact: the model has %zu features, its prep keeps %zu",
		             churn_cox_get_feature_count(s->cox), s->nfeat);
	free(names);
	free(prep);
	free(cox);
	return st;
}

churn_status churn_value_scorer_from_buffer(const char *json, size_t n, churn_value_scorer **out)
{
	if (!json || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_value_scorer_from_buffer: NULL argument");
	churn_status st = CHURN_OK;
	cJSON *a = ch_json_parse(json, n, "cox artifact", &st);
	if (!a)
		return st;
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "format"));
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(a, "version"), *h = cJSON_GetObjectItemCaseSensitive(a, "horizon");
	const char *tc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "time_column"));
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(a, "value");
	const char *cc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(value, "charges_column"));
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(value, "discount_rate");
	churn_value_scorer *s = calloc(1, sizeof(*s));
	if (!s)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	else if (!fmt || strcmp(fmt, "churn-cox-artifact") || !cJSON_IsNumber(ver))
		st = ch_fail(CHURN_E_FORMAT, "not a Cox artifact (format churn-cox-artifact)");
	else if (ver->valuedouble != 1)
		st = ch_fail(CHURN_E_FORMAT, "cox artifact version %g: this library reads version 1", ver->valuedouble);
	else if (!tc || !cJSON_IsNumber(h) || !(h->valuedouble > 0 && h->valuedouble <= 1e6) ||
	         (rate && !(cJSON_IsNumber(rate) && rate->valuedouble >= 0 && rate->valuedouble <= 1)))
		st = ch_fail(CHURN_E_FORMAT, "cox artifact: a bad time_column, horizon or discount_rate");
	if (!st) {
		s->horizon = h->valuedouble;
		s->rate = rate ? rate->valuedouble : 0;
		if (!(s->time_col = ch_strdup(tc)) || (cc && !(s->charges_col = ch_strdup(cc))))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (!st)
		st = load_parts(s, a);
	cJSON_Delete(a);
	if (st) {
		churn_value_scorer_free(s);
		return st;
	}
	*out = s;
	return CHURN_OK;
}

/* The number of record r named @p name (exactly, else ignoring case when unambiguous); NaN when absent or not a number. */
static double number_of(const cJSON *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, name), *it, *hit = NULL;
	if (!v) {
		cJSON_ArrayForEach(it, r)
		{
			if (it->string && !strcasecmp(it->string, name)) {
				if (hit)
					return NAN;
				hit = it;
			}
		}
		v = hit;
	}
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	double d;
	if (cJSON_IsString(v) && ch_parse_double(v->valuestring, strlen(v->valuestring), &d))
		return d;
	return NAN;
}

static bool add_num(cJSON *o, const char *key, double v)
{
	return isfinite(v) ? cJSON_AddNumberToObject(o, key, round(v * 100) / 100) != NULL
	                   : cJSON_AddNullToObject(o, key) != NULL;
}

/* One record's figures (churn_cox_remaining's, and the linear predictor for the discounted value). */
struct figures {
	double t0, charge, med, rmst, lp;
	bool beyond;
};

/* "survival" of prediction p from f. */
static bool annotate_one(const churn_value_scorer *s, const struct figures *f, cJSON *p)
{
	if (!(isfinite(f->t0) && f->t0 >= 0))
		return cJSON_AddNullToObject(p, "survival") != NULL; /* no tenure given: no remaining time */
	double months = s->rate > 0 ? ch_retention_discounted_rmst(s->cox, f->lp, f->t0, s->horizon, s->rate) : f->rmst;
	double full = ch_retention_discount_integral(s->rate, 0, s->horizon);
	cJSON *o = cJSON_AddObjectToObject(p, "survival");
	return o && cJSON_AddNumberToObject(o, "tenure", f->t0) && add_num(o, "months_remaining", f->beyond ? NAN : f->med) &&
	       cJSON_AddBoolToObject(o, "beyond_horizon", f->beyond) && cJSON_AddNumberToObject(o, "horizon", s->horizon) &&
	       add_num(o, "restricted_mean_months", f->rmst) && add_num(o, "expected_remaining_value", f->charge * months) &&
	       add_num(o, "expected_loss", f->charge * (full - months));
}

/* The figures of the nrec records (design x): times and charges from the records, the rest from the model. */
static churn_status compute(const churn_value_scorer *s, const cJSON *recs, const churn_matrix *x, size_t nrec,
                            struct figures *f)
{
	double *t0 = malloc(nrec * sizeof(double)), *med = malloc(nrec * sizeof(double));
	double *rmst = malloc(nrec * sizeof(double)), *lp = malloc(nrec * sizeof(double));
	bool *beyond = malloc(nrec);
	size_t got = 0;
	churn_status st = t0 && med && rmst && lp && beyond ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	const cJSON *rec = cJSON_IsArray(recs) ? recs->child : recs; /* walked along: GetArrayItem(i) is O(i) */
	for (size_t i = 0; !st && i < nrec && rec; i++, rec = cJSON_IsArray(recs) ? rec->next : rec) {
		f[i].t0 = number_of(rec, s->time_col);
		f[i].charge = s->charges_col ? number_of(rec, s->charges_col) : NAN;
		t0[i] = isfinite(f[i].t0) && f[i].t0 >= 0 ? f[i].t0 : 0; /* without a time the figures are dropped */
	}
	if (!st)
		st = churn_cox_remaining(s->cox, x, t0, s->horizon, med, beyond, rmst);
	if (!st)
		st = churn_cox_linear_predictor(s->cox, x, lp, nrec, &got);
	for (size_t i = 0; !st && i < nrec; i++) {
		f[i].med = med[i];
		f[i].beyond = beyond[i];
		f[i].rmst = rmst[i];
		f[i].lp = lp[i];
	}
	free(t0), free(med), free(rmst), free(lp), free(beyond);
	return st;
}

churn_status churn_value_scorer_annotate_json(const churn_value_scorer *s, const char *records, size_t n,
                                              const char *predictions, char **out_json)
{
	if (!s || !records || !predictions || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_value_scorer_annotate_json: NULL argument");
	churn_status st = CHURN_OK;
	char *text = strndup(records, n);
	cJSON *recs = text ? ch_json_parse(text, strlen(text), "records", &st) : NULL;
	cJSON *doc = recs ? ch_json_parse_str(predictions, "predictions") : NULL;
	cJSON *preds = cJSON_GetObjectItemCaseSensitive(doc, "predictions");
	churn_matrix *full = NULL, *x = NULL;
	if (!text)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	else if (!st && (!doc || !cJSON_IsArray(preds)))
		st = ch_fail(CHURN_E_PARSE, "predictions: not a predictions document");
	if (!st && !(st = churn_prep_apply_json(s->prep, text, &full)))
		st = ch_cox_select_columns(full, s->feat, s->nfeat, &x);
	size_t nrec = cJSON_IsArray(recs) ? (size_t)cJSON_GetArraySize(recs) : 1;
	if (!st && (nrec != churn_matrix_get_row_count(x) || nrec != (size_t)cJSON_GetArraySize(preds)))
		st = ch_fail(CHURN_E_INVALID_ARG, "records and predictions differ in number");
	struct figures *f = st ? NULL : malloc((nrec ? nrec : 1) * sizeof(*f));
	if (!st && !f)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = compute(s, recs, x, nrec, f);
	cJSON *pred = preds ? preds->child : NULL;
	for (size_t i = 0; !st && i < nrec && pred; i++, pred = pred->next)
		if (!annotate_one(s, &f[i], pred))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	free(f);
	char *outs = st ? NULL : ch_json_print(doc, false);
	if (!st && !outs)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		*out_json = outs;
	churn_matrix_free(full);
	churn_matrix_free(x);
	cJSON_Delete(recs);
	cJSON_Delete(doc);
	free(text);
	return st;
}
