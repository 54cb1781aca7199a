/*
 * Revenue at risk: the monthly charges of customers scored above a
 * threshold, overall and per level of the segment column, and the expected
 * loss sum(probability x charges); also the revenue part alone for the ML
 * pipeline (ch_eda_revenue).
 */
#include <math.h>
#include <stdlib.h>

#include "core-private.h"
#include "eda-private.h"

void ch_eda_rev_clear(churn_eda *e)
{
	for (size_t i = 0; i < e->rev_nseg; i++)
		free(e->rev_segs[i].segment);
	free(e->rev_segs);
	e->rev_segs = NULL;
	e->rev_nseg = 0;
	e->has_rev = false;
}

/* One empty segment per level of e->segment_col when it is categorical; *codes its codes (NULL: no breakdown). */
static churn_status rev_segments(churn_eda *e, const churn_dataset *ds, const int32_t **codes)
{
	size_t sj;
	*codes = NULL;
	if (churn_dataset_find_col(ds, e->segment_col, &sj) != CHURN_OK ||
	    churn_dataset_get_col_type(ds, sj) != CHURN_COL_CATEGORICAL)
		return CHURN_OK;
	size_t nl = churn_dataset_get_level_count(ds, sj);
	e->rev_segs = calloc(nl ? nl : 1, sizeof *e->rev_segs);
	if (!e->rev_segs)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	e->rev_nseg = nl;
	for (size_t k = 0; k < nl; k++)
		if (!(e->rev_segs[k].segment = ch_strdup(churn_dataset_get_level(ds, sj, k)))) {
			ch_eda_rev_clear(e);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	*codes = churn_dataset_get_codes(ds, sj);
	return CHURN_OK;
}

/* Sum the n customers' charges into e's totals and segments; the count of rows without charges. */
static size_t rev_accumulate(churn_eda *e, const double *ch, const double *proba, const int32_t *codes, size_t n,
                             double threshold)
{
	e->rev_threshold = threshold;
	e->rev_customers = e->rev_at_risk = 0;
	e->rev_total = e->rev_at_risk_sum = e->rev_expected = 0;
	size_t nocharge = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(ch[i])) {
			nocharge++;
			continue;
		}
		bool risk = proba[i] > threshold;
		e->rev_customers++;
		e->rev_total += ch[i];
		e->rev_expected += proba[i] * ch[i];
		if (risk) {
			e->rev_at_risk++;
			e->rev_at_risk_sum += ch[i];
		}
		if (codes && codes[i] >= 0) {
			rev_seg *s = &e->rev_segs[codes[i]];
			s->customers++;
			s->revenue += ch[i];
			s->expected_loss += proba[i] * ch[i];
			if (risk) {
				s->at_risk++;
				s->revenue_at_risk += ch[i];
			}
		}
	}
	return nocharge;
}

churn_status churn_eda_set_revenue_at_risk(churn_eda *e, const churn_dataset *ds, const double *proba,
                                           double threshold)
{
	if (!e || !ds)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_revenue_at_risk: NULL argument");
	if (!(threshold >= 0 && threshold <= 1))
		return ch_fail(CHURN_E_INVALID_ARG, "eda revenue at risk: threshold must be in [0, 1]");
	ch_eda_rev_clear(e);
	if (!proba)
		return churn_eda_add_note(e, "revenue_at_risk: skipped: no churn probabilities (no model scores)");
	size_t cj, n = churn_dataset_get_row_count(ds);
	churn_status st;
	if (churn_dataset_find_col(ds, e->charges_col, &cj) != CHURN_OK ||
	    churn_dataset_get_col_type(ds, cj) != CHURN_COL_NUMERIC) {
		st = ch_eda_note(e, "revenue_at_risk: skipped: no numeric charges column '%s' (set eda.charges_col)",
		                 e->charges_col);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!(proba[i] >= 0 && proba[i] <= 1))
			return ch_fail(CHURN_E_NUMERIC, "eda revenue at risk: probability of row %zu is not in [0, 1]", i);
	const int32_t *codes;
	if ((st = rev_segments(e, ds, &codes)))
		return st;
	size_t nocharge = rev_accumulate(e, churn_dataset_get_numeric(ds, cj), proba, codes, n, threshold);
	e->has_rev = true;
	if (nocharge)
		st = ch_eda_note(e, "revenue_at_risk: %zu rows without '%s' left out", nocharge, e->charges_col);
	if (!codes && !st)
		st = ch_eda_note(e, "revenue_at_risk: no breakdown: no categorical column '%s'", e->segment_col);
out:
	if (!st)
		ch_clear_error();
	return st;
}

churn_status ch_eda_revenue(const churn_dataset *ds, const churn_params *p, const double *proba, double threshold,
                            churn_eda **out, cJSON **out_json)
{
	churn_eda *e = calloc(1, sizeof *e);
	if (!e)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_eda_set_columns(e, ds, p);
	if (!st)
		st = churn_eda_set_revenue_at_risk(e, ds, proba, threshold);
	cJSON *j = st ? NULL : ch_eda_rev_json(e);
	if (!st && !j)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st) {
		churn_eda_free(e);
		return st;
	}
	*out = e;
	*out_json = j;
	return CHURN_OK;
}
