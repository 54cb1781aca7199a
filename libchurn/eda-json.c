/*
 * eda.json: churn_eda_to_json() builds the document one member at a time
 * (target, correlation, categorical, histograms, importance, survival,
 * revenue_at_risk, notes); non-finite numbers are written as null.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core-private.h"
#include "eda-private.h"

static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *darr(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, num(v[i]));
	return a;
}

static cJSON *zarr(const size_t *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

static cJSON *sarr(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i] ? v[i] : ""));
	return a;
}

/* ---- members ---- */

static void target_json(const churn_eda *e, cJSON *root)
{
	cJSON *t = cJSON_AddObjectToObject(root, "target");
	cJSON_AddStringToObject(t, "name", e->target);
	cJSON_AddStringToObject(t, "positive", e->positive);
	cJSON_AddNumberToObject(t, "labelled", (double)e->labelled);
	cJSON_AddNumberToObject(t, "positive_count", (double)e->positives);
	cJSON_AddItemToObject(t, "rate", num((double)e->positives / (double)e->labelled));
}

/* Why the matrix shows fewer columns than it had, or null. */
static cJSON *corr_reduced_json(const churn_eda *e)
{
	if (!e->corr_reduced)
		return cJSON_CreateNull();
	char why[200];
	size_t keep = e->ncorr - e->corr_has_target, nf = e->corr_total - e->corr_has_target;
	if (e->corr_has_target)
		snprintf(why, sizeof why, "top %zu of %zu features by |correlation with %s| (eda.corr_max_features)", keep,
		         nf, e->corr_names[e->ncorr - 1]);
	else
		snprintf(why, sizeof why, "first %zu of %zu features (eda.corr_max_features; no target)", keep, nf);
	return cJSON_CreateString(why);
}

static void corr_json(const churn_eda *e, cJSON *root)
{
	if (!e->ncorr) {
		cJSON_AddNullToObject(root, "correlation");
		return;
	}
	cJSON *c = cJSON_AddObjectToObject(root, "correlation");
	cJSON_AddStringToObject(c, "method", "pearson");
	cJSON_AddItemToObject(c, "features", sarr(e->corr_names, e->ncorr));
	cJSON *m = cJSON_AddArrayToObject(c, "matrix");
	for (size_t i = 0; i < e->ncorr; i++)
		cJSON_AddItemToArray(m, darr(e->corr + i * e->ncorr, e->ncorr));
	cJSON_AddNumberToObject(c, "columns_total", (double)e->corr_total);
	cJSON_AddNumberToObject(c, "columns_shown", (double)e->ncorr);
	cJSON_AddItemToObject(c, "reduced", corr_reduced_json(e));
	if (e->corr_has_target) {
		cJSON *w = cJSON_AddObjectToObject(c, "with_target");
		cJSON_AddStringToObject(w, "target", e->corr_names[e->ncorr - 1]);
		cJSON_AddItemToObject(w, "features", sarr(e->tr_names, e->ntr));
		cJSON_AddItemToObject(w, "r", darr(e->tr_r, e->ntr));
	}
}

static cJSON *level_json(const eda_level *L)
{
	cJSON *l = cJSON_CreateObject();
	if (L->value)
		cJSON_AddStringToObject(l, "value", L->value);
	else
		cJSON_AddNullToObject(l, "value");
	cJSON_AddNumberToObject(l, "count", (double)L->count);
	cJSON_AddNumberToObject(l, "churned", (double)L->churned);
	cJSON_AddItemToObject(l, "rate", num(L->rate));
	cJSON_AddItemToObject(l, "ci_low", num(L->lo));
	cJSON_AddItemToObject(l, "ci_high", num(L->hi));
	return l;
}

static void cats_json(const churn_eda *e, cJSON *root)
{
	cJSON *cats = cJSON_AddArrayToObject(root, "categorical");
	for (size_t i = 0; i < e->ncat; i++) {
		const eda_cat *c = &e->cats[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddNumberToObject(o, "n", (double)c->n);
		cJSON_AddItemToObject(o, "chi2", num(c->chi2));
		cJSON_AddNumberToObject(o, "df", (double)c->df);
		cJSON_AddItemToObject(o, "p_value", num(c->p_value));
		cJSON_AddItemToObject(o, "cramers_v", num(c->cramers_v));
		cJSON *lv = cJSON_AddArrayToObject(o, "levels");
		for (size_t k = 0; k < c->nlevels; k++)
			cJSON_AddItemToArray(lv, level_json(&c->levels[k]));
		cJSON_AddItemToArray(cats, o);
	}
}

static void hists_json(const churn_eda *e, cJSON *root)
{
	cJSON *hs = cJSON_AddArrayToObject(root, "histograms");
	for (size_t i = 0; i < e->nhist; i++) {
		const eda_hist *h = &e->hists[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", h->name);
		cJSON_AddItemToObject(o, "edges", darr(h->edges, h->nbins + 1));
		cJSON_AddItemToObject(o, "churned", darr(h->churned, h->nbins));
		cJSON_AddItemToObject(o, "retained", darr(h->retained, h->nbins));
		cJSON_AddNumberToObject(o, "missing", (double)h->missing);
		cJSON_AddItemToArray(hs, o);
	}
}

static void importance_json(const churn_eda *e, cJSON *root)
{
	if (!e->nimp) {
		cJSON_AddNullToObject(root, "importance");
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(root, "importance");
	cJSON_AddItemToObject(o, "features", sarr(e->imp_names, e->nimp));
	cJSON_AddItemToObject(o, "impurity", e->imp_impurity ? darr(e->imp_impurity, e->nimp) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "permutation", e->imp_perm ? darr(e->imp_perm, e->nimp) : cJSON_CreateNull());
}

static cJSON *km_json(const km_curve *c)
{
	cJSON *o = cJSON_CreateObject();
	if (c->segment)
		cJSON_AddStringToObject(o, "segment", c->segment);
	cJSON_AddNumberToObject(o, "n", (double)c->n);
	cJSON_AddNumberToObject(o, "events", (double)c->events);
	cJSON_AddItemToObject(o, "median", num(c->median));
	cJSON_AddItemToObject(o, "time", darr(c->time, c->m));
	cJSON_AddItemToObject(o, "at_risk", zarr(c->at_risk, c->m));
	cJSON_AddItemToObject(o, "events_at", zarr(c->ev, c->m));
	cJSON_AddItemToObject(o, "survival", darr(c->surv, c->m));
	cJSON_AddItemToObject(o, "se", darr(c->se, c->m));
	cJSON_AddItemToObject(o, "ci_low", darr(c->lo, c->m));
	cJSON_AddItemToObject(o, "ci_high", darr(c->hi, c->m));
	return o;
}

static void survival_json(const churn_eda *e, cJSON *root)
{
	if (!e->has_km) {
		cJSON_AddNullToObject(root, "survival");
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(root, "survival");
	cJSON_AddStringToObject(o, "method", "kaplan-meier");
	cJSON_AddStringToObject(o, "time_col", e->tenure_col);
	cJSON_AddStringToObject(o, "time_unit", e->time_unit);
	cJSON_AddStringToObject(o, "event", "churned");
	cJSON_AddStringToObject(o, "band", e->band);
	cJSON_AddNumberToObject(o, "confidence", 0.95);
	cJSON_AddItemToObject(o, "overall", km_json(&e->km_all));
	if (!e->nkm_seg) {
		cJSON_AddNullToObject(o, "by_segment");
		return;
	}
	cJSON *b = cJSON_AddObjectToObject(o, "by_segment");
	cJSON_AddStringToObject(b, "column", e->segment_col);
	cJSON *cv = cJSON_AddArrayToObject(b, "curves");
	for (size_t i = 0; i < e->nkm_seg; i++)
		cJSON_AddItemToArray(cv, km_json(&e->km_seg[i]));
}

static cJSON *rev_seg_json(const char *name, size_t cust, size_t risk, double rev, double rar, double exp_loss)
{
	cJSON *o = cJSON_CreateObject();
	if (name)
		cJSON_AddStringToObject(o, "segment", name);
	cJSON_AddNumberToObject(o, "customers", (double)cust);
	cJSON_AddNumberToObject(o, "customers_at_risk", (double)risk);
	cJSON_AddItemToObject(o, "monthly_revenue", num(rev));
	cJSON_AddItemToObject(o, "monthly_revenue_at_risk", num(rar));
	cJSON_AddItemToObject(o, "expected_monthly_loss", num(exp_loss));
	return o;
}

cJSON *ch_eda_rev_json(const churn_eda *e)
{
	if (!e->has_rev)
		return cJSON_CreateNull();
	cJSON *o = rev_seg_json(NULL, e->rev_customers, e->rev_at_risk, e->rev_total, e->rev_at_risk_sum,
	                        e->rev_expected);
	cJSON_AddItemToObject(o, "threshold", num(e->rev_threshold));
	cJSON_AddStringToObject(o, "charges_col", e->charges_col);
	if (!e->rev_segs) {
		cJSON_AddNullToObject(o, "by_segment");
		return o;
	}
	cJSON *b = cJSON_AddObjectToObject(o, "by_segment");
	cJSON_AddStringToObject(b, "column", e->segment_col);
	cJSON *sv = cJSON_AddArrayToObject(b, "segments");
	for (size_t k = 0; k < e->rev_nseg; k++) {
		const rev_seg *s = &e->rev_segs[k];
		cJSON_AddItemToArray(sv, rev_seg_json(s->segment, s->customers, s->at_risk, s->revenue, s->revenue_at_risk,
		                                      s->expected_loss));
	}
	return o;
}

/* ---- the document ---- */

churn_status churn_eda_to_json(const churn_eda *e, char **out_json)
{
	if (!e || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_to_json: NULL argument");
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char ts[32];
	ch_format_time_utc(ts, sizeof ts, (int64_t)time(NULL));
	cJSON_AddStringToObject(root, "generated_at", ts);
	cJSON_AddNumberToObject(root, "rows", (double)e->rows);
	target_json(e, root);
	corr_json(e, root);
	cats_json(e, root);
	hists_json(e, root);
	importance_json(e, root);
	survival_json(e, root);
	cJSON_AddItemToObject(root, "revenue_at_risk", ch_eda_rev_json(e));
	cJSON_AddItemToObject(root, "notes", sarr(e->notes, e->nnotes));
	char *s = ch_json_print(root, false);
	cJSON_Delete(root);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* hand back memory the caller frees with churn_free() (== free) */
	*out_json = s;
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_eda_save_json(const churn_eda *e, const char *path)
{
	if (!e || !path || !*path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_save_json: NULL argument");
	char *json = NULL;
	churn_status st = churn_eda_to_json(e, &json);
	if (st)
		return st;
	size_t len = strlen(json);
	char *withnl = ch_asprintf("%s\n", json);
	free(json);
	if (!withnl)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	st = ch_write_file_atomic(path, withnl, len + 1);
	free(withnl);
	if (!st)
		ch_clear_error();
	return st;
}
