/*
 * The pipelines' part of drift monitoring: which model is served, the data
 * run's reports/drift.json (its rows against that model's reference profile,
 * with the history of the last runs) and drift_psi.png, and the ML run's
 * performance of that model on the new labelled rows before anything is
 * retrained. Nothing here fails a run for what it finds: a missing or old
 * artifact, a reference it cannot read or rows it cannot score are written
 * down in the document; only writing the outputs (and memory) can fail.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churn/drift.h"
#include "churn/matrix.h"
#include "churn/metrics.h"
#include "churn/model.h"
#include "churn/param-keys.h"
#include "churn/registry.h"
#include "churn/report.h"
#include "core-private.h"
#include "drift-private.h"
#include "pipeline-private.h"
#include "plot-private.h"

/* Artifacts are read up to the model loader's own limit. */
#define MAX_ARTIFACT_BYTES ((size_t)1 << 30)

/*
 * The serving model: the one artifact the pipeline and /api/predict treat as
 * the default, the model registry's champion (churn_registry_resolve:
 * artifacts/models/<name>/v<N>.json; in a workdir from before the registry
 * the best model of reports/metrics.json, artifacts/models/<name>.json).
 * *out_name is its kind. CHURN_E_NOTFOUND when no model is published;
 * CHURN_E_FORMAT (a broken registry), CHURN_E_NOMEM.
 */
churn_status ch_drift_serving_model(const char *wd, char **out_name, char **out_rel)
{
	char *ref = NULL, *rel = NULL;
	churn_status st = churn_registry_resolve(wd, NULL, &rel, &ref);
	if (st)
		return st;
	*out_rel = ch_strdup(rel);
	*out_name = ch_asprintf("%.*s", (int)strcspn(ref, "@"), ref);
	churn_free(ref);
	churn_free(rel);
	if (!*out_rel || !*out_name) {
		free(*out_rel);
		free(*out_name);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

/* The serving model's artifact, parsed (NULL with *why set when there is none or it cannot be read). */
static cJSON *serving_artifact(const char *wd, char **name, char **rel, char sha[65], char *why, size_t cap)
{
	char *text = NULL;
	size_t n = 0;
	cJSON *a = NULL;
	churn_status st = ch_drift_serving_model(wd, name, rel);
	if (st == CHURN_E_NOTFOUND) {
		snprintf(why, cap, "no model published in this workdir yet: nothing to compare with (first run)");
	} else if (st) {
		snprintf(why, cap, "the serving model is not known: %s", churn_last_error());
	} else if (ch_json_read_file(wd, *rel, MAX_ARTIFACT_BYTES, &text, &n)) {
		snprintf(why, cap, "%s: %s", *rel, churn_last_error());
	} else if (!(a = ch_json_parse(text, n, *rel, &st))) {
		snprintf(why, cap, "%s: %s", *rel, churn_last_error());
	} else {
		ch_sha256_buf(text, n, sha);
	}
	free(text);
	ch_clear_error();
	return a;
}

/* "reference": which model's rows the run was compared with (null without one). */
static bool add_reference_info(cJSON *doc, const char *name, const char *rel, const char *sha, const cJSON *art)
{
	if (!art)
		return cJSON_AddNullToObject(doc, "reference") != NULL;
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(art, "reference");
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(ref, "target");
	cJSON *o = cJSON_AddObjectToObject(doc, "reference");
	const char *data_sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "data_sha256"));
	return o && cJSON_AddStringToObject(o, "model", name) && cJSON_AddStringToObject(o, "artifact", rel) &&
	       cJSON_AddStringToObject(o, "artifact_sha256", sha) &&
	       cJSON_AddStringToObject(o, "data_sha256", data_sha ? data_sha : "") &&
	       ch_drift_add_number(o, "rows", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ref, "rows"))) &&
	       ch_drift_add_number(o, "churn_rate", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(target, "rate"))) &&
	       cJSON_AddBoolToObject(o, "has_profile", cJSON_IsObject(ref));
}

/* The history entry of this run: its PSI per column and the headline figures. */
static cJSON *history_entry(const cJSON *doc)
{
	cJSON *h = cJSON_CreateObject(), *psi = cJSON_CreateObject(), *c;
	if (!h || !psi) {
		cJSON_Delete(h);
		cJSON_Delete(psi);
		return NULL;
	}
	static const char *const keys[] = {"run_id", "generated_at", "status"};
	for (size_t k = 0; k < 3; k++)
		cJSON_AddItemToObject(h, keys[k], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, keys[k]), 1));
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(doc, "reference"), *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(ref, "model");
	cJSON_AddItemToObject(h, "model", model ? cJSON_Duplicate(model, 1) : cJSON_CreateNull());
	ch_drift_add_number(h, "rows", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "rows"), "current")));
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "target"), "current");
	ch_drift_add_number(h, "churn_rate", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cur, "rate")));
	ch_drift_add_number(h, "max_psi", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "max_psi")));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "columns"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "psi");
		if (name && cJSON_IsNumber(v))
			cJSON_AddNumberToObject(psi, name, v->valuedouble);
	}
	cJSON_AddItemToObject(h, "psi", psi);
	return h;
}

/* "history": the previous document's entries and this run's, the last workdir.max_records of them. */
static bool add_history(cJSON *doc, const char *prev_dir, const churn_params *p)
{
	char *text = NULL;
	cJSON *prev = NULL, *hist = NULL;
	if (ch_json_read_file(prev_dir, "reports/drift.json",
	                      (size_t)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, NULL) == CHURN_OK)
		prev = ch_json_parse_str(text, "reports/drift.json");
	free(text);
	ch_clear_error();
	cJSON *old = cJSON_GetObjectItemCaseSensitive(prev, "history");
	hist = cJSON_IsArray(old) ? cJSON_DetachItemViaPointer(prev, old) : cJSON_CreateArray();
	cJSON_Delete(prev);
	cJSON *e = history_entry(doc);
	if (!hist || !e || !cJSON_AddItemToArray(hist, e)) {
		cJSON_Delete(hist);
		cJSON_Delete(e);
		return false;
	}
	int keep = (int)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_RECORDS);
	while (cJSON_GetArraySize(hist) > keep)
		cJSON_DeleteItemFromArray(hist, 0);
	return cJSON_AddItemToObject(doc, "history", hist);
}

/* The run record's summary of the document. */
static cJSON *record_summary(const cJSON *doc)
{
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	cJSON *o = cJSON_Duplicate(sum, 1);
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "reference"), "model");
	if (o)
		cJSON_AddItemToObject(o, "model", model ? cJSON_Duplicate(model, 1) : cJSON_CreateNull());
	return o;
}

/* The document: run, reference, then the comparison's keys, in that order. */
static churn_status drift_document(const char *wd, const churn_dataset *ds, const churn_params *p, const char *run_id,
                                   cJSON **out)
{
	char *name = NULL, *rel = NULL, sha[65] = "", why[1200] = "", stamp[32];
	cJSON *art = serving_artifact(wd, &name, &rel, sha, why, sizeof why), *cmp = NULL, *doc = cJSON_CreateObject();
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(art, "reference");
	if (art && !cJSON_IsObject(ref))
		snprintf(why, sizeof why, "%s was trained before drift monitoring (no reference profile): retrain to compare", rel);
	churn_status st = ch_drift_compare(cJSON_IsObject(ref) ? ref : NULL, ds, p, &cmp);
	if (st == CHURN_E_FORMAT) {
		snprintf(why, sizeof why, "%s: %s", rel, churn_last_error());
		st = ch_drift_compare(NULL, ds, p, &cmp);
	}
	ch_format_time_utc(stamp, sizeof stamp, (int64_t)time(NULL));
	if (!st && (!doc || !cJSON_AddStringToObject(doc, "generated_at", stamp) ||
	            !cJSON_AddStringToObject(doc, "run_id", run_id) || !add_reference_info(doc, name, rel, sha, art)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	while (!st && cmp->child) {
		cJSON *it = cJSON_DetachItemViaPointer(cmp, cmp->child);
		if (why[0] && !strcmp(it->string, "message")) {
			cJSON_Delete(it);
			it = cJSON_CreateString(why);
			cJSON_AddItemToObject(doc, "message", it);
		} else {
			cJSON_AddItemToObject(doc, it->string, it);
		}
	}
	if (!st && !add_history(doc, wd, p))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_Delete(cmp);
	cJSON_Delete(art);
	free(name);
	free(rel);
	if (st) {
		cJSON_Delete(doc);
		return st;
	}
	*out = doc;
	return CHURN_OK;
}

/* drift_psi.png: the PSI of each compared column, largest first, coloured by status, with both thresholds. */
static churn_status drift_figure(const cJSON *doc, const char *dir, const churn_params *p)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(doc, "columns"), *c;
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(doc, "thresholds");
	double warn = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(th, "psi_warn"));
	double alert = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(th, "psi_alert"));
	size_t cap = (size_t)cJSON_GetArraySize(cols), n = 0;
	struct bar {
		const char *name;
		double psi;
	} *b = malloc((cap ? cap : 1) * sizeof *b);
	const char **labels = malloc((cap ? cap : 1) * sizeof *labels);
	double *v = malloc((cap ? cap : 1) * sizeof *v);
	int *colors = malloc((cap ? cap : 1) * sizeof *colors);
	char **annot = calloc(cap ? cap : 1, sizeof *annot);
	char *path = ch_asprintf("%s/drift_psi", dir), *title = NULL, wl[64], al[64];
	churn_status st = b && labels && v && colors && annot && path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_ArrayForEach(c, cols)
	{
		const cJSON *psi = cJSON_GetObjectItemCaseSensitive(c, "psi");
		if (!st && cJSON_IsNumber(psi))
			b[n++] = (struct bar){cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), psi->valuedouble};
	}
	/* largest first (a stable insertion sort: a few dozen columns) */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && b[j].psi > b[j - 1].psi; j--) {
			struct bar t = b[j];
			b[j] = b[j - 1];
			b[j - 1] = t;
		}
	for (size_t i = 0; !st && i < n; i++) {
		labels[i] = b[i].name;
		v[i] = b[i].psi;
		colors[i] = v[i] >= alert ? CH_COL_VERMILLION : v[i] >= warn ? CH_COL_ORANGE : CH_COL_BLUE;
		if (!(annot[i] = v[i] < 0.0005 ? ch_strdup("< 0.001") : ch_asprintf("%.3f", v[i])))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	const char *model = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "reference"), "model"));
	/* wide data: the columns of largest PSI only (eda.fig_max_columns), the title says how many */
	size_t shown = n, most = (size_t)churn_params_get_int(p, CHURN_KEY_EDA_FIG_MAX_COLUMNS);
	if (shown > most)
		shown = most;
	if (shown < n)
		title = ch_asprintf("Drift against the %s model's training rows: PSI, the %zu largest of %zu columns",
		                    model ? model : "serving", shown, n);
	else
		title = ch_asprintf("Drift against the %s model's training rows: PSI per column (%zu compared)",
		                    model ? model : "serving", n);
	snprintf(wl, sizeof wl, "warn %.2g", warn);
	snprintf(al, sizeof al, "alert %.2g", alert);
	if (!st && !title)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && shown) {
		ch_fig fig;
		ch_fig_from_params(&fig, p);
		if (shown > 16)
			fig.height = fig.height > 300 + (int)shown * 28 ? fig.height : 300 + (int)shown * 28;
		ch_hbar_panel P = {
			.xlabel = "Population stability index (blue: stable, orange: warn, red: alert)",
			.n = shown, .labels = labels, .value = v, .annot = (const char *const *)annot, .ref = warn,
			.ref_label = wl, .color = CH_COL_BLUE,
		};
		ch_hbar_extra X = {colors, alert, al};
		st = ch_plot_hbars_extra(path, &fig, title, &P, &X);
	}
	for (size_t i = 0; annot && i < n; i++)
		free(annot[i]);
	free(annot);
	free(b);
	free(labels);
	free(v);
	free(colors);
	free(path);
	free(title);
	return st;
}

churn_status ch_pipeline_drift(const char *wd, const churn_dataset *ds, const churn_params *p, const char *run_id,
                               const char *out_path, const char *fig_dir, cJSON **out_summary)
{
	cJSON *doc = NULL;
	char *text = NULL;
	churn_status st = drift_document(wd, ds, p, run_id, &doc);
	if (!st && !(text = ch_json_print(doc, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = ch_write_file_atomic(out_path, text, strlen(text));
	if (!st && fig_dir)
		st = drift_figure(doc, fig_dir, p);
	if (!st && !(*out_summary = record_summary(doc)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	free(text);
	cJSON_Delete(doc);
	return st;
}

/* The serving model's figures on the labelled rows of x (its scores in prob). */
static bool add_scores(cJSON *perf, const uint8_t *y, const double *prob, size_t n, const char *metrics_json)
{
	double auc = NAN, brier = NAN, mean = 0, pos = 0;
	if (churn_metrics_roc_auc(y, prob, n, &auc))
		auc = NAN;
	if (churn_metrics_brier(y, prob, n, &brier))
		brier = NAN;
	ch_clear_error();
	for (size_t i = 0; i < n; i++) {
		mean += prob[i];
		pos += y[i];
	}
	mean /= (double)n;
	pos /= (double)n;
	cJSON *m = ch_json_parse_str(metrics_json, "metrics");
	double tauc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "roc_auc"));
	double tbrier = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "brier"));
	cJSON_Delete(m);
	cJSON *cur = cJSON_AddObjectToObject(perf, "current"), *tr = cJSON_AddObjectToObject(perf, "training"),
	      *ch = cJSON_AddObjectToObject(perf, "change"), *cal = cJSON_AddObjectToObject(perf, "calibration");
	return cur && tr && ch && cal && cJSON_AddNumberToObject(perf, "rows", (double)n) &&
	       ch_drift_add_number(cur, "roc_auc", auc) && ch_drift_add_number(cur, "brier", brier) &&
	       ch_drift_add_number(tr, "roc_auc", tauc) && ch_drift_add_number(tr, "brier", tbrier) &&
	       ch_drift_add_number(ch, "roc_auc", auc - tauc) && ch_drift_add_number(ch, "brier", brier - tbrier) &&
	       ch_drift_add_number(cal, "observed_rate", pos) && ch_drift_add_number(cal, "mean_predicted", mean) &&
	       ch_drift_add_number(cal, "difference", mean - pos);
}

/* Score ds with the model at wd/rel: "scored" with the figures, or another status saying why not. */
/* Rows scored per chunk: the encoded chunk stays small (a 1M-row design matrix would be 300 MB beside the training). */
#define SCORE_CHUNK 65536

/*
 * P(churn) and labels of the labelled rows of ds by model, chunk by chunk, into *prob and *y (n_out rows);
 * *why says why not (not an error: rows that do not fit, no labels). CHURN_E_NOMEM only.
 */
static churn_status score_chunks(const churn_model *model, const churn_dataset *ds, double **prob, uint8_t **y,
                                 size_t *n_out, char *why, size_t cap)
{
	size_t n = churn_dataset_get_row_count(ds), m = 0, *idx = malloc(SCORE_CHUNK * sizeof *idx);
	*prob = malloc((n ? n : 1) * sizeof **prob);
	*y = malloc(n ? n : 1);
	if (!idx || !*prob || !*y) {
		free(idx);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t at = 0; at < n && !why[0]; at += SCORE_CHUNK) {
		size_t k = n - at < SCORE_CHUNK ? n - at : SCORE_CHUNK, got = 0;
		churn_matrix *x = NULL;
		for (size_t i = 0; i < k; i++)
			idx[i] = at + i;
		if (churn_prep_apply_rows(churn_model_get_prep(model), ds, idx, k, &x))
			snprintf(why, cap, "these rows do not fit the serving model: %s", churn_last_error());
		else if (!churn_matrix_get_labels(x))
			snprintf(why, cap, "these rows have no labels");
		else if (churn_model_predict(model, x, *prob + m, n - m, &got))
			snprintf(why, cap, "scoring failed: %s", churn_last_error());
		else
			memcpy(*y + m, churn_matrix_get_labels(x), got);
		m += got;
		churn_matrix_free(x);
	}
	if (!why[0] && m == 0)
		snprintf(why, cap, "no labelled rows to score");
	free(idx);
	*n_out = m;
	return CHURN_OK;
}

/* Score ds with the model at wd/rel: "scored" with the figures, or "not_scored" saying why not. */
static churn_status score_serving(const char *wd, const char *rel, const churn_dataset *ds, cJSON *perf)
{
	char *path = ch_asprintf("%s/%s", wd, rel), why[1200] = "";
	churn_model *model = NULL;
	double *prob = NULL;
	uint8_t *y = NULL;
	size_t n = 0;
	churn_status st = path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st)
		return st;
	if (churn_model_load_file(path, &model) || !churn_model_get_prep(model))
		snprintf(why, sizeof why, "%s: %s", rel, model ? "no prep spec in the artifact" : churn_last_error());
	else
		st = score_chunks(model, ds, &prob, &y, &n, why, sizeof why);
	if (!st && why[0])
		st = cJSON_AddStringToObject(perf, "status", "not_scored") && cJSON_AddStringToObject(perf, "note", why)
		             ? CHURN_OK
		             : ch_fail(CHURN_E_NOMEM, "out of memory");
	else if (!st && (!cJSON_AddStringToObject(perf, "status", "scored") ||
	                 !add_scores(perf, y, prob, n, churn_model_get_metrics_json(model))))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		ch_clear_error();
	free(prob);
	free(y);
	churn_model_free(model);
	free(path);
	return st;
}

/* Put perf into the drift document read from drift_dir (when there is one) and write it to out_path. */
static churn_status merge_performance(const char *drift_dir, const cJSON *perf, const churn_params *p,
                                      const char *out_path)
{
	char *text = NULL;
	cJSON *doc = NULL;
	if (ch_json_read_file(drift_dir, "reports/drift.json",
	                      (size_t)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, NULL) == CHURN_OK)
		doc = ch_json_parse_str(text, "reports/drift.json");
	free(text);
	text = NULL;
	ch_clear_error();
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return CHURN_OK; /* no data run has written one: the run record keeps the figures */
	}
	cJSON *copy = cJSON_Duplicate(perf, 1), *hist = cJSON_GetObjectItemCaseSensitive(doc, "history");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "performance");
	churn_status st = copy && cJSON_AddItemToObject(doc, "performance", copy) ? CHURN_OK
	                                                                          : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* the history entry of the data run this document describes gets the serving model's ROC AUC on its rows */
	cJSON *last = cJSON_GetArrayItem(hist, cJSON_GetArraySize(hist) - 1);
	const cJSON *auc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(perf, "current"), "roc_auc");
	if (!st && last && auc) {
		cJSON_DeleteItemFromObjectCaseSensitive(last, "roc_auc");
		cJSON_AddItemToObject(last, "roc_auc", cJSON_Duplicate(auc, 1));
	}
	if (!st && !(text = ch_json_print(doc, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = ch_write_file_atomic(out_path, text, strlen(text));
	free(text);
	cJSON_Delete(doc);
	return st;
}

churn_status ch_pipeline_performance(const char *wd, const char *drift_dir, const churn_dataset *ds,
                                     const churn_params *p, const char *run_id, const char *out_path,
                                     cJSON **out_perf)
{
	char *name = NULL, *rel = NULL, stamp[32];
	cJSON *perf = cJSON_CreateObject();
	ch_format_time_utc(stamp, sizeof stamp, (int64_t)time(NULL));
	churn_status st = perf && cJSON_AddStringToObject(perf, "run_id", run_id) &&
	                          cJSON_AddStringToObject(perf, "generated_at", stamp)
	                      ? CHURN_OK
	                      : ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status sst = st ? st : ch_drift_serving_model(wd, &name, &rel);
	if (!st && sst == CHURN_E_NOTFOUND) {
		if (!cJSON_AddNullToObject(perf, "model") || !cJSON_AddStringToObject(perf, "status", "no_model") ||
		    !cJSON_AddStringToObject(perf, "note", "no model published in this workdir yet: nothing to score"))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		ch_clear_error();
	} else if (!st && sst) {
		st = sst;
	} else if (!st) {
		if (!cJSON_AddStringToObject(perf, "model", name) || !cJSON_AddStringToObject(perf, "artifact", rel))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		else
			st = score_serving(wd, rel, ds, perf);
	}
	if (!st)
		st = merge_performance(drift_dir, perf, p, out_path);
	free(name);
	free(rel);
	if (st) {
		cJSON_Delete(perf);
		return st;
	}
	*out_perf = perf;
	return CHURN_OK;
}
