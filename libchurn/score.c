/* churn_scorer: JSON records in, probability + label + reasons out. */
#include "churn/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "churn/matrix.h"
#include "churn/prep.h"
#include "core-private.h"
#include "prep-private.h"

struct churn_scorer {
	churn_model *model;
	const churn_prep *prep; /* borrowed from the model */
	char **known;           /* sorted names a record may carry */
	size_t nknown;
	char *id;               /* first ID column, or NULL */
	char *positive, *negative;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static churn_status add_known(churn_scorer *s, const char *name, size_t *cap)
{
	if (!name)
		return CHURN_OK;
	if (s->nknown == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		char **nk = realloc(s->known, *cap * sizeof(*nk));
		if (!nk)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		s->known = nk;
	}
	if (!(s->known[s->nknown] = ch_strdup(name)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	s->nknown++;
	return CHURN_OK;
}

churn_status churn_scorer_load(const char *model_path, churn_scorer **out)
{
	if (!model_path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_load: NULL argument");
	churn_scorer *s = calloc(1, sizeof(*s));
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON *spec = NULL;
	size_t cap = 0;
	churn_status st = churn_model_load_file(model_path, &s->model);
	if (st)
		goto fail;
	if (!(s->prep = churn_model_get_prep(s->model))) {
		st = ch_fail(CHURN_E_STATE, "%s: the model has no prep spec; it cannot score raw records", model_path);
		goto fail;
	}
	/* The raw columns a record may name: inputs, IDs, the target and dropped columns. */
	if (!(spec = ch_prep_to_cjson(s->prep))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "columns"))
	if ((st = add_known(s, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), &cap)))
		goto fail;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "dropped"))
	if ((st = add_known(s, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "column")), &cap)))
		goto fail;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "ids"))
	if ((st = add_known(s, cJSON_GetStringValue(c), &cap)))
		goto fail;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "target");
	if ((st = add_known(s, churn_prep_get_target(s->prep), &cap)))
		goto fail;
	if (s->nknown)
		qsort(s->known, s->nknown, sizeof(*s->known), cmp_str);
	if (churn_prep_get_id_count(s->prep) && !(s->id = ch_strdup(churn_prep_get_id(s->prep, 0)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	const char *pos = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "positive"));
	const char *neg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "negative"));
	s->positive = ch_strdup(pos ? pos : "1");
	s->negative = ch_strdup(neg ? neg : "0");
	if (!s->positive || !s->negative) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	cJSON_Delete(spec);
	*out = s;
	return CHURN_OK;
fail:
	cJSON_Delete(spec);
	churn_scorer_free(s);
	return st;
}

void churn_scorer_free(churn_scorer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nknown; i++)
		free(s->known[i]);
	free(s->known);
	free(s->id);
	free(s->positive);
	free(s->negative);
	churn_model_free(s->model);
	free(s);
}

const churn_model *churn_scorer_get_model(const churn_scorer *s)
{
	return s ? s->model : NULL;
}

static bool is_known(const churn_scorer *s, const char *name)
{
	return bsearch(&name, s->known, s->nknown, sizeof(*s->known), cmp_str) != NULL;
}

/* Indices of the top_k largest |contrib[j]|, j < p, largest first. */
static size_t top_reasons(const double *contrib, size_t p, size_t top_k, size_t *out)
{
	size_t k = 0;
	for (size_t j = 0; j < p; j++) {
		double a = fabs(contrib[j]);
		if (a == 0)
			continue;
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

churn_status churn_scorer_score_json(const churn_scorer *s, const char *request, size_t len, size_t top_k,
                                     size_t max_records, char **out_json)
{
	if (!s || !request || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_score_json: NULL argument");
	cJSON *req = cJSON_ParseWithLength(request, len);
	cJSON *resp = NULL;
	churn_matrix *x = NULL;
	double *prob = NULL, *contrib = NULL;
	size_t *idx = NULL;
	churn_status st = CHURN_OK;
	if (!req) {
		st = ch_fail(CHURN_E_PARSE, "request body is not valid JSON");
		goto out;
	}
	size_t nrec = cJSON_IsArray(req) ? (size_t)cJSON_GetArraySize(req) : 1;
	if (!cJSON_IsArray(req) && !cJSON_IsObject(req)) {
		st = ch_fail(CHURN_E_INVALID_ARG, "request must be a JSON object (one customer) or an array of them");
		goto out;
	}
	if (nrec == 0) {
		st = ch_fail(CHURN_E_INVALID_ARG, "request is an empty array");
		goto out;
	}
	if (max_records && nrec > max_records) {
		st = ch_fail(CHURN_E_LIMIT, "request has %zu records; at most %zu are accepted", nrec, max_records);
		goto out;
	}
	for (size_t r = 0; r < nrec; r++) {
		const cJSON *rec = cJSON_IsArray(req) ? cJSON_GetArrayItem(req, (int)r) : req;
		if (!cJSON_IsObject(rec)) {
			st = ch_fail(CHURN_E_INVALID_ARG, "record %zu is not a JSON object", r + 1);
			goto out;
		}
		const cJSON *f;
		cJSON_ArrayForEach(f, rec)
		{
			if (!is_known(s, f->string)) {
				st = ch_fail(CHURN_E_INVALID_ARG, "record %zu: unknown column '%s'", r + 1, f->string);
				goto out;
			}
			if (cJSON_IsArray(f) || cJSON_IsObject(f)) {
				st = ch_fail(CHURN_E_PARSE, "record %zu, column '%s': expected a string, number, boolean or null",
				             r + 1, f->string);
				goto out;
			}
		}
	}
	if ((st = churn_prep_apply_json(s->prep, request, &x)))
		goto out;
	size_t n = churn_matrix_get_nrows(x), p = churn_matrix_get_ncols(x), got = 0;
	prob = malloc(n * sizeof(double));
	contrib = malloc((p + 1) * sizeof(double));
	idx = malloc((top_k ? top_k : 1) * sizeof(size_t));
	resp = cJSON_CreateObject();
	if (!prob || !contrib || !idx || !resp) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = churn_model_predict(s->model, x, prob, n, &got)))
		goto out;
	double thr = churn_model_get_threshold(s->model);
	cJSON_AddStringToObject(resp, "model", churn_model_kind_name(churn_model_get_kind(s->model)));
	cJSON_AddNumberToObject(resp, "threshold", thr);
	cJSON_AddNumberToObject(resp, "count", (double)n);
	cJSON *preds = cJSON_AddArrayToObject(resp, "predictions");
	for (size_t i = 0; i < n; i++) {
		const cJSON *rec = cJSON_IsArray(req) ? cJSON_GetArrayItem(req, (int)i) : req;
		const double *row = churn_matrix_get_row(x, i);
		if ((st = churn_model_explain(s->model, row, p, contrib, p + 1)))
			goto out;
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(preds, o)) {
			cJSON_Delete(o);
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		const cJSON *idv = s->id ? cJSON_GetObjectItemCaseSensitive(rec, s->id) : NULL;
		if (cJSON_IsString(idv))
			cJSON_AddStringToObject(o, "id", idv->valuestring);
		else if (cJSON_IsNumber(idv))
			cJSON_AddNumberToObject(o, "id", idv->valuedouble);
		else
			cJSON_AddNullToObject(o, "id");
		bool churn = prob[i] >= thr;
		cJSON_AddNumberToObject(o, "probability", prob[i]);
		cJSON_AddStringToObject(o, "label", churn ? s->positive : s->negative);
		cJSON_AddBoolToObject(o, "churn", churn);
		cJSON *reasons = cJSON_AddArrayToObject(o, "reasons");
		size_t k = top_reasons(contrib, p, top_k, idx);
		for (size_t q = 0; q < k; q++) {
			cJSON *rr = cJSON_CreateObject();
			if (!rr || !cJSON_AddItemToArray(reasons, rr)) {
				cJSON_Delete(rr);
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
				goto out;
			}
			cJSON_AddStringToObject(rr, "feature", churn_matrix_get_feature_name(x, idx[q]));
			cJSON_AddNumberToObject(rr, "value", row[idx[q]]);
			cJSON_AddNumberToObject(rr, "contribution", contrib[idx[q]]);
		}
	}
	char *text = cJSON_PrintUnformatted(resp);
	if (!text) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	*out_json = text;
out:
	cJSON_Delete(req);
	cJSON_Delete(resp);
	churn_matrix_free(x);
	free(prob);
	free(contrib);
	free(idx);
	return st;
}
