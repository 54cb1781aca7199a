/*
 * The retention outputs of the published generation for front-ends
 * (churn/report.h): /api/retention (reports/retention.json cut to the first
 * customers asked for) and /api/predict's value scorer (the Cox artifact).
 * Both are served only when the generation's metrics.json says its last
 * training made them: a later run without cox leaves the older files in
 * place (a generation links the files a run did not rewrite), and they must
 * not be served as current.
 */
#include "churn/report.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "churn/param-keys.h"
#include "churn/retention.h"
#include "core-private.h"
#include "params-private.h"
#include "report-private.h"

/* metrics.json of dir, parsed; NOTFOUND without one. */
static churn_status read_metrics(const char *dir, cJSON **out)
{
	char *text = NULL;
	size_t n = 0;
	churn_status st = ch_json_read_file(dir, "reports/metrics.json",
	                                    (size_t)churn_params_get_int(NULL, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, &n);
	if (!st)
		*out = ch_json_parse(text, n, "reports/metrics.json", &st);
	free(text);
	return st;
}

churn_status churn_report_retention_json(const char *workdir, size_t limit, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_retention_json: NULL argument");
	if (limit < 1 || limit > CHURN_RETENTION_JSON_MAX)
		return ch_fail(CHURN_E_INVALID_ARG, "limit must be 1 to %d", CHURN_RETENTION_JSON_MAX);
	char *dir = ch_report_pinned_dir(workdir), *text = NULL;
	size_t n = 0;
	cJSON *metrics = NULL;
	churn_status st = dir ? read_metrics(dir, &metrics) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = ch_json_read_file(dir, "reports/retention.json",
		                       (size_t)churn_params_get_int(NULL, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, &n);
	free(dir);
	cJSON *doc = st ? NULL : ch_json_parse(text, n, "reports/retention.json", &st);
	free(text);
	/* the list of the last training, or none: its summary is the one metrics.json holds */
	if (!st && !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(metrics, "retention"),
	                          cJSON_GetObjectItemCaseSensitive(doc, "summary"), true))
		st = CHURN_E_NOTFOUND;
	cJSON_Delete(metrics);
	if (st == CHURN_E_NOTFOUND) {
		cJSON_Delete(doc);
		return ch_fail(st, "no retention list: an ML run with cox in pipeline.models on data with tenure and "
		                   "charges columns writes one");
	}
	if (st) {
		cJSON_Delete(doc);
		return st;
	}
	cJSON *cust = cJSON_GetObjectItemCaseSensitive(doc, "customers");
	if (!cJSON_IsArray(cust) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "summary"))) {
		cJSON_Delete(doc);
		return ch_fail(CHURN_E_PARSE, "reports/retention.json: no \"customers\" list or \"summary\"");
	}
	/* cut the list after the limit-th customer in one step (deleting from the end walks the list each time) */
	cJSON *last = cJSON_GetArrayItem(cust, (int)limit - 1);
	if (last && last->next) {
		cJSON *rest = last->next;
		last->next = NULL;
		rest->prev = NULL;
		cust->child->prev = last; /* cJSON keeps the last item in the first one's prev */
		cJSON_Delete(rest);       /* and the items after it, through next */
	}
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "count");
	char *s = cJSON_AddNumberToObject(doc, "count", (double)cJSON_GetArraySize(cust)) ? ch_json_print(doc, false)
	                                                                                  : NULL;
	cJSON_Delete(doc);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_json = s;
	return CHURN_OK;
}

churn_status churn_report_value_scorer(const char *workdir, churn_value_scorer **out)
{
	if (!workdir || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_value_scorer: NULL argument");
	char *dir = ch_report_pinned_dir(workdir), *path = NULL, *bytes = NULL, sha[65];
	size_t n = 0;
	cJSON *metrics = NULL;
	churn_status st = dir ? read_metrics(dir, &metrics) : ch_fail(CHURN_E_NOMEM, "out of memory");
	const char *want = NULL;
	if (!st) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(metrics, "survival"), "cox");
		want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "artifact"),
		                                                             "sha256"));
		if (!want)
			st = ch_fail(CHURN_E_NOTFOUND, "the last training made no Cox model");
	}
	if (!st && !(path = ch_asprintf("%s/artifacts/models/cox.json", dir)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = ch_read_file(path, 1 << 24, &bytes, &n);
	if (!st) {
		ch_sha256_buf(bytes, n, sha);
		if (strcmp(sha, want))
			st = ch_fail(CHURN_E_NOTFOUND, "artifacts/models/cox.json is not the last training's (sha256 differs)");
	}
	if (!st)
		st = churn_value_scorer_from_buffer(bytes, n, out);
	cJSON_Delete(metrics);
	free(dir);
	free(path);
	free(bytes);
	return st;
}
