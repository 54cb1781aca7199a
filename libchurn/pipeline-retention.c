/*
 * The ML run record's survival part (ch_pipeline_retention_record,
 * pipeline-private.h): the Cox model's test figures and the retention list's
 * summary, without the curve (records are kept 20 at a time and read
 * whole), and the notes of the survival part (a skipped model or list).
 */
#include <math.h>

#include "churn/retention.h"
#include "core-private.h"
#include "pipeline-private.h"

static bool add_notes(const churn_training *t, cJSON *fields)
{
	size_t n = churn_training_get_survival_note_count(t);
	if (!n)
		return true;
	cJSON *notes = cJSON_GetObjectItemCaseSensitive(fields, "notes");
	if (!cJSON_IsArray(notes) && !(notes = cJSON_AddArrayToObject(fields, "notes")))
		return false;
	for (size_t k = 0; k < n; k++)
		if (!cJSON_AddItemToArray(notes, cJSON_CreateString(churn_training_get_survival_note(t, k))))
			return false;
	return true;
}

churn_status ch_pipeline_retention_record(const churn_training *t, cJSON *fields)
{
	const char *entry = churn_training_get_cox_metrics_json(t);
	cJSON *e = entry ? cJSON_Parse(entry) : NULL, *s = NULL;
	bool ok = !entry || e;
	if (ok && e) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "concordance"), *b = cJSON_GetObjectItemCaseSensitive(e, "integrated_brier");
		ok = (s = cJSON_AddObjectToObject(fields, "survival")) &&
		     cJSON_AddItemToObject(s, "concordance", cJSON_Duplicate(c, 0)) &&
		     cJSON_AddItemToObject(s, "integrated_brier", cJSON_Duplicate(b, 0));
	}
	cJSON_Delete(e);
	const churn_retention *r = churn_training_get_retention(t);
	char *text = NULL;
	if (ok && r) {
		cJSON *sum = NULL;
		ok = !churn_retention_summary_json(r, &text) && (sum = cJSON_Parse(text));
		if (ok) {
			cJSON_DeleteItemFromObjectCaseSensitive(sum, "curve");
			ok = cJSON_AddItemToObject(fields, "retention", sum);
		}
	}
	churn_free(text);
	if (!ok || !add_notes(t, fields))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}
