/*
 * Feature importance for eda.json (churn_eda_importance_*, churn/eda.h): a
 * random forest fitted on the prepared matrix, its impurity importance summed
 * per raw column (the one-hot levels of a column are one group) and the
 * permutation importance of each raw column (its features shuffled together:
 * the drop of ROC AUC). `churn eda` and the data pipeline both call it, so
 * they report the same numbers for the same data and options.
 *
 * Importance ranks columns; it needs neither every row nor a deep forest:
 * unless the parameters say otherwise, 50 trees of depth 8 are fitted on at
 * most 50,000 rows and permutations are scored on at most 2,000 (evenly
 * spaced rows; in-sample: the question is what the forest relies on, not how
 * well it generalizes). Wide data: permutations for the
 * CHURN_KEY_EDA_IMPORTANCE_MAX_COLUMNS columns of highest impurity only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn/eda.h"
#include "churn/model.h"
#include "core-private.h"
#include "prep-private.h"
#include "tree-private.h"

/* rows the forest is fitted on, and rows the permutations are scored on, at most */
#define FIT_ROWS_MAX 50000
#define PERM_ROWS_MAX 2000

struct churn_eda_importance {
	size_t n;            /* raw columns with at least one feature */
	char **names;
	double *impurity;    /* summed over each column's features */
	double *permutation; /* NaN: not computed (eda.importance_max_columns) */
	churn_model *forest;
};

void churn_eda_importance_free(churn_eda_importance *imp)
{
	if (!imp)
		return;
	for (size_t k = 0; k < imp->n; k++)
		free(imp->names[k]);
	free(imp->names);
	free(imp->impurity);
	free(imp->permutation);
	churn_model_free(imp->forest);
	free(imp);
}

/*
 * group[j] for each feature j of x: the index of its raw column among the
 * columns of @p prep that have features; their names copied into imp->names
 * (imp->n of them). CHURN_E_INVALID_ARG when x's features are not prep's.
 */
static churn_status feature_groups(churn_eda_importance *imp, const churn_prep *prep, const churn_matrix *x,
                                   size_t *group)
{
	size_t p = churn_matrix_get_column_count(x), j = 0;
	for (size_t c = 0; c < prep->ncols; c++) {
		const ch_prep_col *pc = &prep->cols[c];
		if (!pc->nfeat)
			continue;
		for (size_t f = pc->feat0; f < pc->feat0 + pc->nfeat; f++, j++) {
			if (j >= p || strcmp(prep->features[f], churn_matrix_get_feature_name(x, j)) != 0)
				return ch_fail(CHURN_E_INVALID_ARG, "importance: the matrix's features are not the prep spec's");
			group[j] = imp->n;
		}
		if (!(imp->names[imp->n++] = ch_strdup(pc->name)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (j != p)
		return ch_fail(CHURN_E_INVALID_ARG, "importance: the matrix's features are not the prep spec's");
	return CHURN_OK;
}

/* Evenly spaced rows of @p x, at most @p cap of them (all rows when fewer). */
static churn_status sample_rows(const churn_matrix *x, size_t cap, churn_matrix **out)
{
	size_t n = churn_matrix_get_row_count(x), ns = n < cap ? n : cap;
	size_t *rows = malloc((ns ? ns : 1) * sizeof(size_t));
	if (!rows)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < ns; i++)
		rows[i] = (size_t)((double)i * (double)n / (double)ns);
	churn_status st = churn_matrix_subset_rows(x, rows, ns, out);
	free(rows);
	return st;
}

/* The caller's parameters with the importance forest's defaults (50 trees of depth 8) where they set none. */
static churn_status forest_params(const churn_params *p, churn_params **out)
{
	churn_status st = p ? churn_params_copy(p, out) : churn_params_new(out);
	if (!st && !churn_params_is_set(*out, CHURN_KEY_FOREST_N_TREES))
		st = churn_params_set_int(*out, CHURN_KEY_FOREST_N_TREES, 50);
	if (!st && !churn_params_is_set(*out, CHURN_KEY_FOREST_MAX_DEPTH))
		st = churn_params_set_int(*out, CHURN_KEY_FOREST_MAX_DEPTH, 8);
	return st;
}

/* The forest, its impurity per column, and the permutations (group[] from feature_groups). */
static churn_status fit_and_permute(churn_eda_importance *imp, const churn_matrix *x, const size_t *group,
                                    const churn_params *fp)
{
	size_t p = churn_matrix_get_column_count(x), nr = churn_matrix_get_row_count(x), got = 0;
	churn_matrix *fit = NULL, *sample = NULL;
	double *fimp = malloc((p ? p : 1) * sizeof(double));
	churn_status st = fimp ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* a sample of every row is the matrix itself: no copy (wide data: one copy is the size of the data) */
	if (!st && nr > FIT_ROWS_MAX)
		st = sample_rows(x, FIT_ROWS_MAX, &fit);
	if (!st && nr > PERM_ROWS_MAX)
		st = sample_rows(x, PERM_ROWS_MAX, &sample);
	if (!st)
		st = churn_model_new(CHURN_MODEL_FOREST, &imp->forest);
	if (!st)
		st = churn_model_fit(imp->forest, fit ? fit : x, fp);
	if (!st)
		st = churn_model_get_importance(imp->forest, fimp, p, &got);
	for (size_t k = 0; !st && k < p; k++)
		imp->impurity[group[k]] += fimp[k];
	if (!st)
		st = ch_model_permutation_importance_top(imp->forest, sample ? sample : x, group, imp->n, imp->impurity,
		                                         (size_t)churn_params_get_int(fp, CHURN_KEY_EDA_IMPORTANCE_MAX_COLUMNS),
		                                         (uint64_t)churn_params_get_int(fp, CHURN_KEY_SPLIT_SEED), 1,
		                                         imp->permutation, p);
	churn_matrix_free(fit);
	churn_matrix_free(sample);
	free(fimp);
	return st;
}

churn_status churn_eda_importance_compute(const churn_prep *prep, const churn_matrix *x, const churn_params *p,
                                          churn_eda_importance **out)
{
	if (!prep || !x || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_importance_compute: NULL argument");
	if (!churn_matrix_get_labels(x))
		return ch_fail(CHURN_E_INVALID_ARG, "importance: the matrix has no labels (no target column)");
	size_t np = churn_matrix_get_column_count(x), cap = np ? np : 1;
	churn_params *fp = NULL;
	size_t *group = malloc(cap * sizeof(size_t));
	churn_eda_importance *imp = calloc(1, sizeof(*imp));
	if (imp) {
		imp->names = calloc(cap, sizeof(char *));
		imp->impurity = calloc(cap, sizeof(double));
		imp->permutation = malloc(cap * sizeof(double));
	}
	churn_status st = (group && imp && imp->names && imp->impurity && imp->permutation)
	                      ? CHURN_OK
	                      : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = forest_params(p, &fp);
	if (!st)
		st = feature_groups(imp, prep, x, group);
	if (!st)
		st = fit_and_permute(imp, x, group, fp);
	churn_params_free(fp);
	free(group);
	if (st) {
		churn_eda_importance_free(imp);
		return st;
	}
	*out = imp;
	return CHURN_OK;
}

size_t churn_eda_importance_get_column_count(const churn_eda_importance *imp)
{
	return imp ? imp->n : 0;
}

const char *churn_eda_importance_get_column(const churn_eda_importance *imp, size_t k)
{
	return imp && k < imp->n ? imp->names[k] : NULL;
}

double churn_eda_importance_get_impurity(const churn_eda_importance *imp, size_t k)
{
	return imp && k < imp->n ? imp->impurity[k] : NAN;
}

double churn_eda_importance_get_permutation(const churn_eda_importance *imp, size_t k)
{
	return imp && k < imp->n ? imp->permutation[k] : NAN;
}

const churn_model *churn_eda_importance_get_model(const churn_eda_importance *imp)
{
	return imp ? imp->forest : NULL;
}

churn_status churn_eda_set_importance_of(churn_eda *eda, const churn_eda_importance *imp)
{
	if (!eda || !imp)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_importance_of: NULL argument");
	return churn_eda_set_importance(eda, (const char *const *)imp->names, imp->impurity, imp->permutation, imp->n);
}

churn_status churn_eda_set_revenue_from_importance(churn_eda *eda, const churn_eda_importance *imp,
                                                   const churn_dataset *ds, const churn_matrix *x,
                                                   const churn_params *p)
{
	if (!eda || !ds || !x)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_revenue_from_importance: NULL argument");
	size_t n = churn_matrix_get_row_count(x), got = 0;
	double *proba = NULL;
	churn_status st = CHURN_OK;
	if (imp && n == churn_dataset_get_row_count(ds)) {
		if (!(proba = malloc((n ? n : 1) * sizeof(*proba))))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		st = churn_model_predict(imp->forest, x, proba, n, &got);
	}
	if (!st)
		st = churn_eda_set_revenue_at_risk(eda, ds, proba, churn_params_get_double(p, CHURN_KEY_EDA_THRESHOLD));
	if (!st && proba)
		st = churn_eda_add_note(eda, "revenue_at_risk: in-sample scores of the EDA importance forest; churn ml "
		                             "reports the held-out models");
	free(proba);
	return st;
}
