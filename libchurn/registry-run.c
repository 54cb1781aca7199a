/*
 * What an ML run adds to the model registry (registry-private.h): its models
 * as new versions, and the decision whether its candidate (the model of
 * highest test ROC AUC) replaces the champion. Both are scored on the same
 * rows, the run's test split: the candidate's scores come from the training,
 * the champion's from its artifact applied to those rows of the data set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn/matrix.h"
#include "churn/metrics.h"
#include "churn/model.h"
#include "churn/prep.h"
#include "core-private.h"
#include "params-private.h"
#include "registry-private.h"

/* ROC AUC and Brier score of one model on the test rows. */
struct figures {
	double auc, brier;
};

static churn_status figures_of(const uint8_t *y, const double *p, size_t n, struct figures *f)
{
	churn_status st = churn_metrics_roc_auc(y, p, n, &f->auc);
	return st ? st : churn_metrics_brier(y, p, n, &f->brier);
}

/* The champion's figures on the run's test rows of @p ds (its artifact read from @p path). */
static churn_status champion_figures(const char *path, const churn_training *t, const churn_dataset *ds,
                                     struct figures *f)
{
	churn_model *m = NULL;
	churn_matrix *x = NULL;
	double *p = NULL;
	size_t nte = 0, ny = 0, np = 0;
	const size_t *rows = churn_training_get_test_rows(t, &nte);
	const uint8_t *y = churn_training_get_test_labels(t, &ny);
	churn_status st = churn_model_load_file(path, &m);
	if (!st && !churn_model_get_prep(m))
		st = ch_fail(CHURN_E_STATE, "%s: the artifact has no prep spec", path);
	if (!st)
		st = churn_prep_apply_rows(churn_model_get_prep(m), ds, rows, nte, &x);
	if (!st && !(p = malloc((nte ? nte : 1) * sizeof(*p))))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_model_predict(m, x, p, nte, &np);
	if (!st && (np != nte || ny != nte))
		st = ch_fail(CHURN_E_INTERNAL, "the champion scored %zu of %zu test rows", np, nte);
	if (!st)
		st = figures_of(y, p, nte, f);
	free(p);
	churn_matrix_free(x);
	churn_model_free(m);
	return st;
}

static cJSON *figures_json(const struct figures *f)
{
	cJSON *o = cJSON_CreateObject();
	if (o) {
		cJSON_AddItemToObject(o, "roc_auc", isfinite(f->auc) ? cJSON_CreateNumber(f->auc) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "brier", isfinite(f->brier) ? cJSON_CreateNumber(f->brier) : cJSON_CreateNull());
	}
	return o;
}

/*
 * The rule of churn/registry.h: promote when the candidate's ROC AUC is at
 * most the AUC tolerance below the champion's and its Brier score at most the
 * Brier tolerance above it. A reason in words either way.
 */
static bool rule(const struct figures *cand, const struct figures *champ, double tol_auc, double tol_brier,
                 char *why, size_t cap)
{
	double d_auc = cand->auc - champ->auc, d_brier = cand->brier - champ->brier;
	if (!(d_auc >= -tol_auc)) {
		snprintf(why, cap, "not promoted: ROC AUC %.4f is %.4f below the champion's %.4f (tolerance %g)", cand->auc,
		         -d_auc, champ->auc, tol_auc);
		return false;
	}
	if (!(d_brier <= tol_brier)) {
		snprintf(why, cap, "not promoted: Brier score %.4f is %.4f above the champion's %.4f (tolerance %g)",
		         cand->brier, d_brier, champ->brier, tol_brier);
		return false;
	}
	snprintf(why, cap, "promoted: ROC AUC %.4f vs %.4f (tolerance %g), Brier score %.4f vs %.4f (tolerance %g)",
	         cand->auc, champ->auc, tol_auc, cand->brier, champ->brier, tol_brier);
	return true;
}

/* Model k of the training as a new version, its artifact written into g. */
static churn_status add_model(cJSON *reg, ch_gen *g, const churn_training *t, size_t k, const char *run_id,
                              cJSON **out)
{
	const churn_model *m = churn_training_get_model(t, k);
	size_t n = 0;
	const char *bytes = churn_training_get_artifact(t, k, &n);
	churn_status st = ch_registry_add_version(reg, churn_model_kind_name(churn_model_get_kind(m)),
	                                          churn_training_get_artifact_sha256(t, k), n, run_id,
	                                          churn_model_get_metrics_json(m), out);
	if (st)
		return st;
	char *rel = ch_registry_rel(reg, *out), *path = rel ? ch_gen_path(g, rel) : NULL;
	char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	} else {
		*slash = '\0';
		st = ch_mkdir_p(path);
		*slash = '/';
		if (!st)
			st = ch_write_file_atomic(path, bytes, n);
	}
	free(rel);
	free(path);
	return st;
}

/* Compare the candidate with the champion (when there is one) and record the decision in @p h. */
static churn_status decide(cJSON *reg, cJSON *h, const char *wd, const churn_training *t, const churn_dataset *ds,
                           const churn_params *p, const char *cand_ref, bool *promote)
{
	size_t nte = 0, ny = 0;
	const size_t best = churn_training_get_best(t);
	const double *scores = churn_training_get_test_scores(t, best, &nte);
	const uint8_t *y = churn_training_get_test_labels(t, &ny);
	struct figures cand = {NAN, NAN}, champ = {NAN, NAN};
	double tol_auc = churn_params_get_double(p, CHURN_KEY_MODELS_AUC_TOLERANCE);
	double tol_brier = churn_params_get_double(p, CHURN_KEY_MODELS_BRIER_TOLERANCE);
	const char *champion = ch_registry_alias(reg, "champion");
	char why[600];
	churn_status st = figures_of(y, scores, nte < ny ? nte : ny, &cand);
	if (st)
		return st;
	cJSON *champ_v = NULL;
	if (!champion) {
		*promote = true;
		snprintf(why, sizeof(why), "promoted: no champion yet (the first ML run of the workdir); its best model");
	} else if (ch_registry_lookup(reg, champion, &champ_v) == CHURN_OK) {
		char *rel = ch_registry_rel(reg, champ_v), *path = rel ? ch_asprintf("%s/%s", wd, rel) : NULL;
		st = path ? champion_figures(path, t, ds, &champ) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(rel);
		free(path);
		if (st == CHURN_E_NOMEM)
			return st;
		if (st) {
			/* a champion that cannot score these rows (other columns, a damaged file) cannot be compared */
			*promote = true;
			snprintf(why, sizeof(why), "promoted: the champion %s cannot score this run's rows: %.400s", champion,
			         churn_last_error());
			ch_clear_error();
			st = CHURN_OK;
		} else {
			*promote = rule(&cand, &champ, tol_auc, tol_brier, why, sizeof(why));
		}
	} else {
		return ch_fail(CHURN_E_FORMAT, "%s: champion %s is not a listed version", CH_REGISTRY_REL, champion);
	}
	cJSON *rl = cJSON_CreateObject(), *fig = cJSON_CreateObject();
	if (!rl || !fig) {
		cJSON_Delete(rl);
		cJSON_Delete(fig);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	cJSON_AddItemToObject(h, "champion", champion ? cJSON_CreateString(champion) : cJSON_CreateNull());
	cJSON_AddStringToObject(h, "challenger", cand_ref);
	cJSON_AddBoolToObject(h, "promoted", *promote);
	cJSON_AddStringToObject(h, "champion_after", *promote ? cand_ref : champion);
	cJSON_AddStringToObject(h, "reason", why);
	cJSON_AddNumberToObject(rl, "auc_tolerance", tol_auc);
	cJSON_AddNumberToObject(rl, "brier_tolerance", tol_brier);
	cJSON_AddItemToObject(h, "rule", rl);
	cJSON_AddNumberToObject(fig, "rows", (double)nte);
	cJSON_AddItemToObject(fig, "challenger", figures_json(&cand));
	cJSON_AddItemToObject(fig, "champion", champ_v && isfinite(champ.auc) ? figures_json(&champ) : cJSON_CreateNull());
	cJSON_AddItemToObject(h, "figures", fig);
	return st;
}

churn_status ch_registry_ml_run(const char *wd, ch_gen *g, const churn_training *t, const churn_dataset *ds,
                                const char *run_id, const churn_params *p, cJSON **out_decision, cJSON **out_refs)
{
	cJSON *reg = NULL, *refs = cJSON_CreateArray(), *v = NULL, *h = NULL;
	char cand[64] = "", old[64] = "";
	bool promote = false;
	churn_status st = refs ? ch_registry_read(wd, &reg) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st == CHURN_E_NOTFOUND) {
		ch_clear_error();
		st = (reg = ch_registry_new()) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t k = 0; !st && k < churn_training_get_model_count(t); k++) {
		if (!(st = add_model(reg, g, t, k, run_id, &v))) {
			cJSON_AddItemToArray(refs, cJSON_CreateString(ch_registry_ref(v)));
			if (k == churn_training_get_best(t))
				snprintf(cand, sizeof(cand), "%s", ch_registry_ref(v));
		}
	}
	if (!st && !(h = ch_registry_add_history(reg, ch_registry_alias(reg, "champion") ? "evaluate" : "first", run_id)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = decide(reg, h, wd, t, ds, p, cand, &promote);
	if (!st && promote) {
		snprintf(old, sizeof(old), "%s", ch_registry_alias(reg, "champion") ? ch_registry_alias(reg, "champion") : "");
		if (!(st = ch_registry_set_alias(reg, "champion", cand)) && old[0])
			st = ch_registry_set_alias(reg, "previous", old);
		if (!st)
			st = ch_registry_set_alias(reg, "challenger", NULL);
	} else if (!st) {
		st = ch_registry_set_alias(reg, "challenger", cand);
	}
	if (!st)
		ch_log(p, CHURN_LOG_INFO, "registry: %s",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "reason")));
	if (!st && !(*out_decision = cJSON_Duplicate(h, 1)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && (st = ch_registry_stage(reg, g, wd, p))) {
		cJSON_Delete(*out_decision);
		*out_decision = NULL;
	}
	if (!st) {
		*out_refs = refs;
		refs = NULL;
	}
	cJSON_Delete(refs);
	cJSON_Delete(reg);
	return st;
}
