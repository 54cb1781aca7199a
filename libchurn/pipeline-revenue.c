/*
 * The revenue at risk of the ML pipeline (ch_pipeline_merge_revenue,
 * pipeline-private.h): every customer the training scored (with train.max_rows,
 * the sample: noted), by the best model and its threshold, merged into the data run's eda.json as its
 * "revenue_at_risk" (with the model and the run), the rest of the document
 * kept as it is.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn/model.h"
#include "core-private.h"
#include "eda-private.h"
#include "pipeline-private.h"
#include "retention-private.h"

/*
 * "horizons": [{"months", "customers", "expected_loss", "segments": [{"segment", "expected_loss"}]}]: what the
 * current customers of the retention list are expected to take away over retention.horizons months (charge x
 * (months - restricted mean remaining months) from the Cox model), by level of the segment column, beside the
 * one-month figures. Nothing without a retention list.
 */
static bool add_horizons(const churn_training *t, const churn_dataset *ds, const churn_eda *e, cJSON *rev)
{
	const churn_retention *r = churn_training_get_retention(t);
	if (!r || !r->o.nh)
		return true;
	const size_t *rows = churn_training_get_rows(t, NULL);
	size_t sj = 0, nl = 0;
	const int32_t *codes = NULL;
	if (churn_dataset_find_col(ds, e->segment_col, &sj) == CHURN_OK &&
	    churn_dataset_get_col_type(ds, sj) == CHURN_COL_CATEGORICAL) {
		codes = churn_dataset_get_codes(ds, sj);
		nl = churn_dataset_get_level_count(ds, sj);
	}
	ch_clear_error();
	cJSON *hs = cJSON_AddArrayToObject(rev, "horizons");
	double *seg = calloc(nl + 1, sizeof(double));
	bool ok = hs && seg;
	for (size_t h = 0; ok && h < r->o.nh; h++) {
		double total = 0;
		memset(seg, 0, (nl + 1) * sizeof(double));
		for (size_t i = 0; i < r->n; i++) {
			double v = r->c[i].hloss[h];
			int32_t code = codes ? codes[rows[r->c[i].row]] : -1;
			total += v;
			if (code >= 0 && (size_t)code < nl)
				seg[code] += v;
		}
		cJSON *o = cJSON_CreateObject(), *sa = NULL;
		ok = o && cJSON_AddItemToArray(hs, o) && cJSON_AddNumberToObject(o, "months", r->o.horizons[h]) &&
		     cJSON_AddNumberToObject(o, "customers", (double)r->n) &&
		     cJSON_AddNumberToObject(o, "expected_loss", round(total * 100) / 100) &&
		     (sa = cJSON_AddArrayToObject(o, "segments"));
		for (size_t k = 0; ok && k < nl; k++) {
			cJSON *so = cJSON_CreateObject();
			ok = so && cJSON_AddItemToArray(sa, so) &&
			     cJSON_AddStringToObject(so, "segment", churn_dataset_get_level(ds, sj, k)) &&
			     cJSON_AddNumberToObject(so, "expected_loss", round(seg[k] * 100) / 100);
		}
	}
	free(seg);
	return ok;
}

/* Revenue at risk: every customer the training scored, by the best model, as a JSON object (*out_rev). */
static churn_status revenue(const churn_training *t, const churn_dataset *ds, const churn_params *p,
                            const char *run_id, churn_eda **eda, cJSON **out_rev)
{
	size_t best = churn_training_get_best(t), n = 0;
	const churn_model *model = churn_training_get_model(t, best);
	const size_t *rows = churn_training_get_rows(t, &n);
	churn_dataset *sub = NULL;
	churn_status st = CHURN_OK;
	/* rows without a target (prep.drop_missing_target) were neither trained on nor scored */
	if (n != churn_dataset_get_row_count(ds) && (st = churn_dataset_subset_rows(ds, rows, n, &sub)))
		return st;
	st = ch_eda_revenue(sub ? sub : ds, p, churn_training_get_scores(t, best, NULL),
	                    churn_model_get_threshold(model), eda, out_rev);
	churn_dataset_free(sub);
	if (!st && cJSON_IsObject(*out_rev)) {
		cJSON_AddStringToObject(*out_rev, "model", churn_model_kind_name(churn_model_get_kind(model)));
		cJSON_AddStringToObject(*out_rev, "run_id", run_id);
		if (!add_horizons(t, ds, *eda, *out_rev))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return st;
}

churn_status ch_pipeline_merge_revenue(const churn_training *t, const churn_dataset *ds, const churn_params *p,
                                       const char *run_id, cJSON *eda_doc, churn_eda **out_eda)
{
	cJSON *rev = NULL;
	churn_status st = revenue(t, ds, p, run_id, out_eda, &rev);
	if (st)
		return st;
	cJSON_DeleteItemFromObjectCaseSensitive(eda_doc, "revenue_at_risk");
	cJSON_AddItemToObject(eda_doc, "revenue_at_risk", rev);
	/* and what it said about itself ("skipped: no numeric charges column ..."), in place of the data run's */
	cJSON *notes = cJSON_GetObjectItemCaseSensitive(eda_doc, "notes");
	if (!cJSON_IsArray(notes) && !(notes = cJSON_AddArrayToObject(eda_doc, "notes")))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (int i = cJSON_GetArraySize(notes) - 1; i >= 0; i--) {
		const char *n = cJSON_GetStringValue(cJSON_GetArrayItem(notes, i));
		if (n && !strncmp(n, "revenue_at_risk:", 16))
			cJSON_DeleteItemFromArray(notes, i);
	}
	for (size_t k = 0; k < (*out_eda)->nnotes; k++)
		if (!strncmp((*out_eda)->notes[k], "revenue_at_risk:", 16) &&
		    !cJSON_AddItemToArray(notes, cJSON_CreateString((*out_eda)->notes[k])))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (churn_dataset_get_rows_read(ds) > churn_dataset_get_row_count(ds)) {
		/* train.max_rows: the training scored its sample only */
		char *note = ch_asprintf("revenue_at_risk: over the %zu rows of the training's sample (train.max_rows), "
		                         "not all %zu rows of the data", churn_dataset_get_row_count(ds),
		                         churn_dataset_get_rows_read(ds));
		if (!note || !cJSON_AddItemToArray(notes, cJSON_CreateString(note))) {
			free(note);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		free(note);
	}
	return CHURN_OK;
}
