/* churn data | ml | run: the pipelines in a workdir. */
#include "cli.h"

#include <string.h>

#include <cjson/cJSON.h>

typedef churn_status (*pipeline_fn)(const char *workdir, const churn_params *p, char **out_record);

/*
 * One line on stderr per alert the runs fired (also with --quiet: they are
 * what a cron mail is for; the exit code stays 0 for a run that succeeded).
 * A failed run prints its one error line instead: that is its run_failed
 * alert, and its alerts are in the record, reports/alerts.json and the webhook.
 */
static void print_alerts(const cli_ctx *ctx, const cJSON *doc)
{
	for (int k = 0; k < 3; k++) {
		const cJSON *rec = k == 0 ? doc : cJSON_GetObjectItemCaseSensitive(doc, k == 1 ? "data" : "ml"), *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rec, "alerts"))
		{
			cli_progress_clear();
			fprintf(stderr, "churn %s: alert [%s] %s: %s\n", ctx->cmd,
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "severity")),
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "rule")),
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "message")));
		}
	}
}

static int run_pipeline(cli_ctx *ctx, int argc, char **argv, pipeline_fn fn, bool data_opts, const char *summary)
{
	const char *source = NULL, *models = NULL;
	bool no_figures = false;
	cli_opt data_table[] = {
		{"source", "SRC", &source, NULL,
		 "https://, http://, file://, path, synthetic:N[?seed=S] or postgresql://...?table=T|query=Q "
		 "(default data.source)"},
		{"no-figures", NULL, NULL, &no_figures, "skip drawing figures (faster)"},
		{"models", "LIST", &models, NULL, "models to train (default logreg,gbm)"},
		{0}};
	cli_opt ml_table[] = {
		{"no-figures", NULL, NULL, &no_figures, "skip drawing figures (faster)"},
		{"models", "LIST", &models, NULL, "models to train (default logreg,gbm)"},
		{0}};
	int rc = cli_parse(ctx, argc, argv, data_opts ? data_table : ml_table, summary);
	if (rc)
		return rc;
	churn_status st = CHURN_OK;
	if (source && (st = churn_params_set_str(ctx->params, CHURN_KEY_DATA_SOURCE, source)))
		return cli_fail(ctx, st, "--source");
	if (models && (st = churn_params_set_str(ctx->params, CHURN_KEY_PIPELINE_MODELS, models)))
		return cli_fail(ctx, st, "--models");
	if (no_figures && (st = churn_params_set_bool(ctx->params, CHURN_KEY_PIPELINE_FIGURES, false)))
		return cli_fail(ctx, st, "--no-figures");
	char *record = NULL;
	st = fn(ctx->workdir, ctx->params, &record);
	if (ctx->json && record)
		printf("%s\n", record);
	/* The library could not record the run: the record (with the reason) is only here; say so. */
	char lost[1100] = "";
	cJSON *doc = record ? cJSON_Parse(record) : NULL;
	if (!st)
		print_alerts(ctx, doc);
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(doc, "record_error");
	for (int k = 0; k < 2 && !cJSON_IsString(why); k++)
		why = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, k ? "ml" : "data"),
		                                       "record_error");
	if (cJSON_IsString(why))
		snprintf(lost, sizeof(lost), "%s", why->valuestring);
	/* pipeline.scores_out failed after the commit: the run succeeded, the scores did not reach the database */
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(doc, "ml") ? cJSON_GetObjectItemCaseSensitive(doc, "ml") : doc;
	bool scores_only = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ml, "scores_out"), "error"));
	cJSON_Delete(doc);
	churn_free(record);
	if (lost[0])
		cli_error(ctx, "the run record could not be written to reports/run_metadata.json: %s", lost);
	if (st && scores_only) {
		cli_error(ctx, "%s", churn_last_error());
		return cli_exit_code(st);
	}
	if (st) {
		char what[64];
		snprintf(what, sizeof(what), "%s pipeline failed", ctx->cmd);
		return cli_fail(ctx, st, what);
	}
	cli_progress_clear();
	if (!ctx->quiet && !ctx->json)
		fprintf(stderr, "churn %s: succeeded (workdir %s; see reports/run_metadata.json)\n", ctx->cmd, ctx->workdir);
	return 0;
}

int cmd_data(cli_ctx *ctx, int argc, char **argv)
{
	return run_pipeline(ctx, argc, argv, churn_pipeline_data, true,
	                    "data pipeline: fetch (conditional GET), profile, prepare, EDA");
}

int cmd_ml(cli_ctx *ctx, int argc, char **argv)
{
	return run_pipeline(ctx, argc, argv, churn_pipeline_ml, false,
	                    "ML pipeline: split 70/30, train logreg + gbm, evaluate, save artifacts");
}

int cmd_run(cli_ctx *ctx, int argc, char **argv)
{
	return run_pipeline(ctx, argc, argv, churn_pipeline_run, true, "the data pipeline, then the ML pipeline");
}
