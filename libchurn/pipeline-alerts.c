/*
 * The pipelines' alerts: what a run measured (its record, the previous data
 * run's from the published reports/run_metadata.json, and the per-column PSI
 * of the reports/drift.json the run staged) into the rules of alerts.c; what fired into the run record, the webhook (before the switch,
 * so its outcome is recorded) and reports/alerts.json of the generation
 * being committed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts-private.h"
#include "buf-private.h"
#include "churn/param-keys.h"
#include "churn/workdir.h"
#include "core-private.h"
#include "params-private.h"
#include "pipeline-private.h"

/*
 * Wider data sets are recorded by digest only: run records stay small, and
 * schema_change's comparison of two lists (quadratic) stays bounded.
 */
#define SCHEMA_MAX_LISTED 1000
#define SCHEMA_MAX_BYTES 65536 /* nor long names: a source's header cannot swell the run records */

churn_status ch_pipeline_schema_fields(const churn_dataset *ds, cJSON *fields)
{
	size_t n = churn_dataset_get_column_count(ds);
	ch_buf lines = {0};
	cJSON *list = n <= SCHEMA_MAX_LISTED ? cJSON_CreateArray() : NULL;
	bool oom = n <= SCHEMA_MAX_LISTED && !list;
	for (size_t j = 0; j < n && !oom; j++) {
		const char *name = churn_dataset_get_col_name(ds, j);
		const char *type = churn_col_type_name(churn_dataset_get_col_type(ds, j));
		ch_buf_puts(&lines, name);
		ch_buf_putc(&lines, '\t');
		ch_buf_puts(&lines, type);
		ch_buf_putc(&lines, '\n');
		cJSON *c = list ? cJSON_CreateObject() : NULL;
		oom = lines.oom || (list && (!c || !cJSON_AddStringToObject(c, "name", name) ||
		                             !cJSON_AddStringToObject(c, "type", type)));
		if (c)
			cJSON_AddItemToArray(list, c);
	}
	if (oom) {
		ch_buf_free(&lines);
		cJSON_Delete(list);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	char hex[65];
	ch_sha256_buf(lines.p ? lines.p : "", lines.n, hex);
	cJSON_AddStringToObject(fields, "schema_sha256", hex);
	if (list && lines.n <= SCHEMA_MAX_BYTES)
		cJSON_AddItemToObject(fields, "schema", list);
	else
		cJSON_Delete(list);
	ch_buf_free(&lines);
	return CHURN_OK;
}

/* The last succeeded data run of the published run records (a new copy), or NULL. */
static cJSON *previous_data_run(churn_workdir *w)
{
	char *text = NULL;
	if (churn_workdir_read_json(w, "reports/run_metadata.json", &text, NULL) != CHURN_OK) {
		ch_clear_error();
		return NULL;
	}
	cJSON *doc = cJSON_Parse(text), *found = NULL;
	churn_free(text);
	cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
	for (int i = cJSON_GetArraySize(runs) - 1; i >= 0 && !found; i--) {
		cJSON *e = cJSON_GetArrayItem(runs, i);
		const char *pl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "pipeline"));
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status"));
		if (pl && st && !strcmp(pl, "data") && !strcmp(st, "succeeded"))
			found = cJSON_Duplicate(e, 1);
	}
	cJSON_Delete(doc);
	return found;
}

/* Labelled rows and positives of a data run record (rows 0 when it has no churn rate). */
static void rate_of(const cJSON *rec, double *rows, double *pos)
{
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(rec, "churn_rate");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, "labelled_rows");
	if (!cJSON_IsNumber(n))
		n = cJSON_GetObjectItemCaseSensitive(rec, "rows"); /* a record from before labelled_rows */
	*rows = *pos = 0;
	if (cJSON_IsNumber(rate) && cJSON_IsNumber(n) && isfinite(rate->valuedouble) && n->valuedouble > 0) {
		*rows = n->valuedouble;
		*pos = round(rate->valuedouble * n->valuedouble); /* the rate is positives / rows, exactly */
	}
}

/*
 * The per-column PSI of the drift document the run staged in @p gen_dir
 * (pipeline-drift.c), when its record says drift compared it with a
 * reference; *n 0 otherwise. The names are borrowed from *doc (cJSON_Delete).
 */
static ch_alert_psi *psi_of(const cJSON *rec, const char *gen_dir, const churn_params *p, cJSON **doc, size_t *n)
{
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(rec, "drift");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum, "status"));
	char *text = NULL;
	*n = 0;
	*doc = NULL;
	if (!gen_dir || !status || !strcmp(status, "no_reference") ||
	    ch_json_read_file(gen_dir, "reports/drift.json",
	                      (size_t)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, NULL) != CHURN_OK) {
		ch_clear_error();
		return NULL;
	}
	*doc = cJSON_Parse(text);
	free(text);
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(*doc, "columns"), *c;
	ch_alert_psi *out = calloc((size_t)cJSON_GetArraySize(cols) + 1, sizeof(*out));
	cJSON_ArrayForEach(c, cols)
	{
		const cJSON *psi = cJSON_GetObjectItemCaseSensitive(c, "psi");
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		if (out && name && cJSON_IsNumber(psi))
			out[(*n)++] = (ch_alert_psi){name, psi->valuedouble};
	}
	return out;
}

/* The champion's ROC AUC at training and on the run's rows (the ML record's "performance", pipeline-drift.c). */
static void performance_of(const cJSON *rec, ch_alert_input *in)
{
	const cJSON *perf = cJSON_GetObjectItemCaseSensitive(rec, "performance");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(perf, "status"));
	if (!status || strcmp(status, "scored"))
		return;
	const cJSON *now = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(perf, "current"), "roc_auc");
	const cJSON *then = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(perf, "training"), "roc_auc");
	in->champion = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(perf, "model"));
	in->auc_new = cJSON_IsNumber(now) ? now->valuedouble : NAN;
	in->auc_train = cJSON_IsNumber(then) ? then->valuedouble : NAN;
}

/*
 * challenger_refused: the ML runs in a row, newest back, whose challenger
 * the registry (artifacts/registry.json staged in @p gen_dir, registry-run.c)
 * did not promote; a promotion, a first run, a promote or rollback by hand
 * ends the count. Left absent for runs without a decision ("promotion").
 */
static void refusals_of(const cJSON *rec, const char *gen_dir, const churn_params *p, ch_alert_input *in)
{
	char *text = NULL;
	if (!gen_dir || !cJSON_GetObjectItemCaseSensitive(rec, "promotion") ||
	    ch_json_read_file(gen_dir, "artifacts/registry.json",
	                      (size_t)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, NULL) != CHURN_OK) {
		ch_clear_error();
		return;
	}
	cJSON *doc = cJSON_Parse(text), *h = cJSON_GetObjectItemCaseSensitive(doc, "history");
	free(text);
	int n = 0;
	for (int i = cJSON_GetArraySize(h) - 1; i >= 0; i--, n++) {
		const cJSON *e = cJSON_GetArrayItem(h, i);
		const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "action"));
		if (!action || strcmp(action, "evaluate") || !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "promoted")))
			break;
	}
	in->refusals = n;
	cJSON_Delete(doc);
}

/* The input of the rules for run record @p rec (and the previous data run @p prev, may be NULL). */
static void input_of(const cJSON *rec, const cJSON *prev, ch_alert_input *in)
{
	ch_alert_input_init(in);
	in->run_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "run_id"));
	in->pipeline = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "pipeline"));
	in->time = (int64_t)time(NULL);
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "status"));
	in->failed = status && !strcmp(status, "failed");
	in->error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "error"));
	performance_of(rec, in);
	if (!in->pipeline || strcmp(in->pipeline, "data") || !prev)
		return; /* the data rules compare a data run with the previous one */
	in->prev_run_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prev, "run_id"));
	rate_of(rec, &in->rows, &in->positives);
	rate_of(prev, &in->prev_rows, &in->prev_positives);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "schema");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(prev, "schema");
	in->schema = cJSON_IsArray(s) ? s : NULL;
	in->prev_schema = cJSON_IsArray(ps) ? ps : NULL;
	in->schema_sha256 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "schema_sha256"));
	in->prev_schema_sha256 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prev, "schema_sha256"));
}

/* Alerts of @p in into rec's "alerts" and @p call_alerts; an evaluation failure is logged (the run goes on). */
static void fire_into(const ch_alert_input *in, const churn_params *p, cJSON *rec, cJSON *call_alerts)
{
	cJSON *fired = NULL, *mine = cJSON_GetObjectItemCaseSensitive(rec, "alerts"), *a;
	if (ch_alerts_evaluate(in, p, &fired) != CHURN_OK) {
		ch_log(p, CHURN_LOG_ERROR, "alerts not evaluated: %s", churn_last_error());
		ch_clear_error();
		return;
	}
	if (!mine)
		mine = cJSON_AddArrayToObject(rec, "alerts");
	cJSON_ArrayForEach(a, fired)
	{
		ch_log(p, CHURN_LOG_INFO, "alert %s [%s]: %s",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "rule")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "severity")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "message")));
		cJSON_AddItemToArray(mine, cJSON_Duplicate(a, 1));
		cJSON_AddItemToArray(call_alerts, cJSON_Duplicate(a, 1));
	}
	cJSON_Delete(fired);
}

void ch_pipeline_alerts(churn_workdir *w, const char *gen_dir, const churn_params *p, cJSON *rec, cJSON *call_alerts)
{
	const char *pl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "pipeline"));
	cJSON *prev = pl && !strcmp(pl, "data") ? previous_data_run(w) : NULL, *drift = NULL;
	ch_alert_input in;
	input_of(rec, prev, &in);
	refusals_of(rec, gen_dir, p, &in);
	ch_alert_psi *psi = psi_of(rec, gen_dir, p, &drift, &in.psi_n);
	in.psi = psi;
	fire_into(&in, p, rec, call_alerts);
	free(psi);
	cJSON_Delete(drift);
	cJSON_Delete(prev);
}

void ch_pipeline_alerts_failed(const churn_params *p, cJSON *rec, cJSON *call_alerts)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rec, "alerts"))
	{
		const char *rule = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "rule"));
		if (rule && !strcmp(rule, "run_failed"))
			return;
	}
	ch_alert_input in;
	input_of(rec, NULL, &in); /* the failure alone: the rest was evaluated when the run ended */
	fire_into(&in, p, rec, call_alerts);
}

void ch_pipeline_alerts_deliver(const churn_params *p, cJSON *runs, cJSON *call_alerts, int *sent)
{
	int n = cJSON_GetArraySize(call_alerts);
	if (*sent >= n)
		return;
	cJSON *fresh = cJSON_CreateArray(), *outcome = NULL, *rec;
	for (int i = *sent; fresh && i < n; i++)
		cJSON_AddItemToArray(fresh, cJSON_Duplicate(cJSON_GetArrayItem(call_alerts, i), 1));
	ch_alerts_webhook(fresh, p, &outcome);
	*sent = n;
	cJSON_ArrayForEach(rec, runs)
	{
		if (outcome && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "alerts")) > 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "webhook");
			cJSON_AddItemToObject(rec, "webhook", cJSON_Duplicate(outcome, 1));
		}
	}
	cJSON_Delete(outcome);
	cJSON_Delete(fresh);
}
