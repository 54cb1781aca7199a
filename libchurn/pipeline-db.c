/*
 * The pipeline and PostgreSQL: names of a table's columns (folded to lower
 * case) matched to the data options, and the scores of the current
 * customers written to pipeline.scores_out after an ML run's commit.
 */
#include <stdlib.h>
#include <string.h>

#include "churn/db.h"
#include "churn/param-keys.h"
#include "churn/prep.h"
#include "churn/score.h"
#include "core-private.h"
#include "pipeline-private.h"
#include "target-private.h"

/*
 * The column PostgreSQL would have made of @p name: the name itself, else its
 * ASCII lower-case fold (an unquoted CREATE TABLE name), else NULL. Only the
 * fold: a CSV's "CustomerId" is another column than "customerID" (a bank's
 * identifier, screened as such), as before.
 */
static const char *folded_column(const churn_dataset *ds, const char *name, char *buf, size_t cap)
{
	size_t j, n = strlen(name);
	if (churn_dataset_find_col(ds, name, &j) == CHURN_OK || n >= cap) {
		ch_clear_error();
		return NULL;
	}
	for (size_t k = 0; k <= n; k++)
		buf[k] = (name[k] >= 'A' && name[k] <= 'Z') ? (char)(name[k] - 'A' + 'a') : name[k];
	bool found = strcmp(buf, name) != 0 && churn_dataset_find_col(ds, buf, &j) == CHURN_OK;
	ch_clear_error();
	return found ? buf : NULL;
}

churn_status ch_pipeline_resolve_names(churn_params *p, const churn_dataset *ds)
{
	char buf[256];
	const char *hit = folded_column(ds, churn_params_get_str(p, CHURN_KEY_DATA_TARGET), buf, sizeof buf);
	churn_status st = CHURN_OK;
	if (hit && (st = churn_params_set_str(p, CHURN_KEY_DATA_TARGET, hit)))
		return st;
	if (!churn_params_get_str(p, CHURN_KEY_DATA_ID)[0] && (hit = folded_column(ds, "customerID", buf, sizeof buf)))
		st = churn_params_set_str(p, CHURN_KEY_DATA_ID, hit);
	return st;
}

/* The rows of @p ds whose target is not the positive label (missing included): *idx (free), *n. */
static churn_status current_rows(const churn_training *t, const churn_dataset *ds, size_t **idx, size_t *n)
{
	const churn_prep *prep = churn_training_get_prep(t);
	const char *positive = churn_prep_get_positive(prep);
	size_t rows = churn_dataset_get_row_count(ds), tj = 0, k = 0;
	bool has_target = churn_dataset_find_col(ds, churn_prep_get_target(prep), &tj) == CHURN_OK;
	ch_clear_error();
	if (!(*idx = malloc((rows ? rows : 1) * sizeof(size_t))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < rows; i++) {
		char buf[64];
		const char *text = has_target && !churn_dataset_is_missing(ds, tj, i)
		                       ? churn_dataset_get_cell_text(ds, tj, i, buf, sizeof buf)
		                       : NULL;
		if (!text || !positive || !ch_label_eq(text, positive))
			(*idx)[k++] = i;
	}
	*n = k;
	return CHURN_OK;
}

churn_status ch_pipeline_write_scores(const churn_training *t, const churn_dataset *ds, const char *url,
                                      const churn_params *p, uint64_t *out_rows)
{
	size_t n = 0, len = 0, *idx = NULL;
	if (!churn_training_get_model_count(t)) /* pipeline.models is cox alone: no churn probabilities */
		return ch_fail(CHURN_E_INVALID_ARG, "pipeline.scores_out: no classifier in pipeline.models to score with");
	const char *artifact = churn_training_get_artifact(t, churn_training_get_best(t), &len);
	churn_scorer *s = NULL;
	churn_dataset *cur = NULL;
	churn_status st = churn_scorer_from_buffer(artifact, len, &s);
	if (!st)
		st = current_rows(t, ds, &idx, &n);
	if (!st)
		st = churn_dataset_subset_rows(ds, idx, n, &cur);
	if (!st)
		st = churn_db_write_scores(s, cur, url, p, out_rows);
	churn_dataset_free(cur);
	churn_scorer_free(s);
	free(idx);
	return st;
}
