/*
 * /api/retention (churn_report_retention_json, churn/report.h): the retention
 * list of the published generation's reports/retention.json, cut to the
 * first customers the client asked for.
 */
#include "churn/report.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "churn/param-keys.h"
#include "churn/retention.h"
#include "core-private.h"
#include "params-private.h"
#include "report-private.h"

churn_status churn_report_retention_json(const char *workdir, size_t limit, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_retention_json: NULL argument");
	if (limit < 1 || limit > CHURN_RETENTION_JSON_MAX)
		return ch_fail(CHURN_E_INVALID_ARG, "limit must be 1 to %d", CHURN_RETENTION_JSON_MAX);
	char *dir = ch_report_pinned_dir(workdir), *text = NULL;
	size_t n = 0;
	churn_status st = dir ? ch_json_read_file(dir, "reports/retention.json",
	                                          (size_t)churn_params_get_int(NULL, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES),
	                                          &text, &n)
	                      : ch_fail(CHURN_E_NOMEM, "out of memory");
	free(dir);
	if (st == CHURN_E_NOTFOUND)
		return ch_fail(st, "no retention list: an ML run with cox in pipeline.models on data with tenure and "
		                   "charges columns writes one");
	cJSON *doc = st ? NULL : ch_json_parse(text, n, "reports/retention.json", &st);
	free(text);
	if (st)
		return st;
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
