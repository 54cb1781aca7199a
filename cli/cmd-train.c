/*
 * churn train: the library's training procedure (churn_train_file(),
 * churn/train.h: the call churn ml and churn run make) on a CSV; writes
 * <out>/artifacts/models/<kind>.json and <out>/reports/metrics.json through
 * the workdir and prints the metrics (ARCHITECTURE.md). The flags are
 * params keys: --models pipeline.models, --test-size/--seed split.*, --cv
 * train.cv, --threshold pipeline.threshold (a probability) or
 * train.threshold (best-f1, cost), --cost-fn/--cost-fp train.cost_*, --refit
 * train.refit.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct train_flags {
	const char *input, *models, *test_size, *seed, *cv, *threshold, *cost_fn, *cost_fp, *outdir;
	bool refit;
};

/* --threshold: a policy name (train.threshold) or a probability (pipeline.threshold, policy fixed). */
static int threshold_to_params(cli_ctx *ctx, const char *v)
{
	churn_params *p = ctx->params;
	bool policy = !strcmp(v, "best-f1") || !strcmp(v, "cost") || !strcmp(v, "fixed");
	if ((policy && churn_params_set_str(p, CHURN_KEY_TRAIN_THRESHOLD, v)) ||
	    (!policy && (churn_params_set_str(p, CHURN_KEY_PIPELINE_THRESHOLD, v) ||
	                 churn_params_set_str(p, CHURN_KEY_TRAIN_THRESHOLD, "fixed")))) {
		cli_error(ctx, "--threshold: '%s' is neither a probability in [0, 1] nor best-f1 or cost", v);
		return EX_USAGE_;
	}
	return 0;
}

/* The flags into ctx->params; 0 or an exit code. */
static int flags_to_params(cli_ctx *ctx, const struct train_flags *f)
{
	const struct {
		const char *flag, *key, *value;
	} map[] = {
		{"--models", CHURN_KEY_PIPELINE_MODELS, f->models}, {"--test-size", CHURN_KEY_SPLIT_TEST_SIZE, f->test_size},
		{"--seed", CHURN_KEY_SPLIT_SEED, f->seed},          {"--cv", CHURN_KEY_TRAIN_CV, f->cv},
		{"--cost-fn", CHURN_KEY_TRAIN_COST_FN, f->cost_fn}, {"--cost-fp", CHURN_KEY_TRAIN_COST_FP, f->cost_fp},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		churn_status st = map[i].value ? churn_params_set_str(ctx->params, map[i].key, map[i].value) : CHURN_OK;
		if (st)
			return cli_fail(ctx, st, map[i].flag);
	}
	if (!f->cost_fn != !f->cost_fp || (f->cost_fn && f->threshold)) {
		cli_error(ctx, "--cost-fn and --cost-fp go together, and exclude --threshold");
		return EX_USAGE_;
	}
	if (f->cost_fn && churn_params_set_str(ctx->params, CHURN_KEY_TRAIN_THRESHOLD, "cost"))
		return cli_fail(ctx, CHURN_E_INVALID_ARG, "--cost-fn");
	if (f->refit && churn_params_set_bool(ctx->params, CHURN_KEY_TRAIN_REFIT, true))
		return cli_fail(ctx, CHURN_E_INVALID_ARG, "--refit");
	return f->threshold ? threshold_to_params(ctx, f->threshold) : 0;
}

/* Artifacts and metrics.json into the workdir @p dir (locked meanwhile); *doc the document. */
static int write_outputs(cli_ctx *ctx, const churn_training *t, const char *dir, char **doc)
{
	churn_workdir *w = NULL;
	const char *what = dir;
	churn_status st = churn_workdir_open(dir, ctx->params, &w);
	if (!st)
		st = churn_workdir_lock(w);
	for (size_t k = 0; !st && k < churn_training_get_model_count(t); k++) {
		char rel[64];
		size_t n = 0;
		const char *bytes = churn_training_get_artifact(t, k, &n);
		snprintf(rel, sizeof(rel), "artifacts/models/%s.json",
		         churn_model_kind_name(churn_model_get_kind(churn_training_get_model(t, k))));
		what = "artifacts/models";
		st = churn_workdir_write(w, rel, bytes, n);
	}
	size_t cn = 0;
	const char *cox = churn_training_get_cox_artifact(t, &cn);
	if (!st && cox) {
		what = "artifacts/models/cox.json";
		st = churn_workdir_write(w, "artifacts/models/cox.json", cox, cn);
	}
	const churn_retention *r = churn_training_get_retention(t);
	char *csv = NULL;
	if (!st && r && !(st = churn_retention_to_csv(r, &csv, &cn))) {
		what = "reports/retention.csv";
		st = churn_workdir_write(w, "reports/retention.csv", csv, cn);
	}
	churn_free(csv);
	csv = NULL;
	if (!st && r && !(st = churn_retention_list_json(r, CHURN_RETENTION_JSON_MAX, &csv))) {
		what = "reports/retention.json";
		st = churn_workdir_write(w, "reports/retention.json", csv, strlen(csv));
	}
	churn_free(csv);
	char *run_id = NULL;
	if (!st) {
		what = "reports/metrics.json";
		st = churn_workdir_new_run_id(w, &run_id);
	}
	if (!st)
		st = churn_training_metrics_json(t, run_id, NULL, doc);
	if (!st)
		st = churn_workdir_write(w, "reports/metrics.json", *doc, strlen(*doc));
	churn_free(run_id);
	churn_workdir_free(w);
	return st ? cli_fail(ctx, st, what) : 0;
}

/* A number of a JSON entry ("key": value), NaN when absent: the CLI reads the library's documents, not its structs. */
static double json_number(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *s = json ? strstr(json, pat) : NULL;
	return s ? strtod(s + strlen(pat), NULL) : NAN;
}

/* The Cox model's test figures, the retention list's best budget and the survival notes. */
static void print_survival(const churn_training *t)
{
	const char *e = churn_training_get_cox_metrics_json(t);
	double cv = json_number(e, "concordance_mean");
	if (e && cv == cv)
		printf("\ncox      concordance %.4f  integrated Brier %.4f  (test rows; cv concordance %.4f)\n",
		       json_number(e, "concordance"), json_number(e, "integrated_brier"), cv);
	else if (e)
		printf("\ncox      concordance %.4f  integrated Brier %.4f  (test rows)\n", json_number(e, "concordance"),
		       json_number(e, "integrated_brier"));
	const churn_retention *r = churn_training_get_retention(t);
	size_t n = 0;
	const double *cum = churn_retention_get_curve(r, CHURN_RETENTION_BY_PROFIT, &n);
	if (r && n) {
		size_t k = churn_retention_best_count(cum, n - 1);
		printf("retention: %zu current customers; best budget: contact the first %zu (expected profit %.2f)\n",
		       n - 1, k, cum[k]);
	}
	for (size_t k = 0; k < churn_training_get_survival_note_count(t); k++)
		printf("note: %s\n", churn_training_get_survival_note(t, k));
}

/* The metrics of metrics.json as a table: test split, then cross-validation (means), then where the models came from. */
static void print_table(const churn_training *t, const char *dir)
{
	static const char *const keys[] = {"roc_auc", "pr_auc", "f1", "accuracy", "precision", "recall", "log_loss",
	                                   "brier"};
	enum { NK = sizeof(keys) / sizeof(keys[0]) };
	size_t nm = churn_training_get_model_count(t), ntr = 0, nte = 0, nall = 0;
	double folds = churn_training_get_metric(t, 0, "cv.k");
	for (int cv = 0; cv < (folds == folds ? 2 : 1); cv++) {
		printf(cv ? "\n%-8s" : "%-8s", cv ? "cv" : "test");
		for (size_t q = 0; q < NK; q++)
			printf(" %9s", keys[q]);
		if (cv)
			printf("  (mean of %.0f folds)\n", folds);
		else
			printf(" %9s %7s\n", "threshold", "fit_s");
		for (size_t k = 0; k < nm; k++) {
			printf("%-8s", churn_model_kind_name(churn_model_get_kind(churn_training_get_model(t, k))));
			for (size_t q = 0; q < NK; q++) {
				char key[32];
				snprintf(key, sizeof(key), cv ? "cv.%s_mean" : "%s", keys[q]);
				printf(" %9.4f", churn_training_get_metric(t, k, key));
			}
			if (!cv)
				printf(" %9.4f %7.3f", churn_training_get_metric(t, k, "threshold"), churn_training_get_seconds(t, k));
			printf("\n");
		}
	}
	print_survival(t);
	churn_training_get_train_rows(t, &ntr);
	churn_training_get_test_rows(t, &nte);
	churn_training_get_rows(t, &nall);
	printf("\ntrained on %zu rows, tested on %zu; ", ntr, nte);
	if (churn_training_is_refit(t))
		printf("artifacts refitted on all %zu rows, in %s/artifacts/models\n", nall, dir);
	else
		printf("artifacts in %s/artifacts/models\n", dir);
}

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
	struct train_flags f = {0};
	const cli_opt opts[] = {
		{"input", "CSV", &f.input, NULL, "training data (required)"},
		{"models", "LIST", &f.models, NULL, "comma-separated: logreg, gbm, forest, cox (default pipeline.models)"},
		{"test-size", "F", &f.test_size, NULL, "fraction held out for testing (default 0.3)"},
		{"seed", "S", &f.seed, NULL, "seed of the split, folds and models (default 42)"},
		{"cv", "K", &f.cv, NULL, "also run stratified K-fold cross-validation on all rows"},
		{"threshold", "T", &f.threshold, NULL, "label threshold: a probability (default 0.5), best-f1 or cost"},
		{"cost-fn", "X", &f.cost_fn, NULL, "cost of a missed churner (with --cost-fp: cost-optimal threshold)"},
		{"cost-fp", "Y", &f.cost_fp, NULL, "cost of a retention offer to a non-churner"},
		{"refit", NULL, NULL, &f.refit, "after the evaluation, fit the artifacts again on all rows (train.refit)"},
		{"out", "DIR", &f.outdir, NULL, "output directory (default the workdir)"},
		{NULL, NULL, NULL, NULL, NULL},
	};
	int rc = cli_parse(ctx, argc, argv, opts, "fit models on a CSV, evaluate them and write model artifacts");
	if (rc)
		return rc;
	if (!f.input) {
		cli_error(ctx, "--input CSV is required");
		return EX_USAGE_;
	}
	if ((rc = flags_to_params(ctx, &f)))
		return rc;
	if (ctx->verbose)
		churn_params_set_log(ctx->params, cli_log_stderr, (void *)1, CHURN_LOG_DEBUG);
	if (!ctx->quiet && !ctx->json)
		churn_params_set_progress(ctx->params, cli_progress, NULL);
	churn_training *t = NULL;
	char *doc = NULL;
	const char *dir = f.outdir ? f.outdir : ctx->workdir;
	churn_status st = churn_train_file(f.input, ctx->params, &t);
	if (st)
		return cli_fail(ctx, st, "training");
	if (!(rc = write_outputs(ctx, t, dir, &doc))) {
		if (ctx->json)
			printf("%s\n", doc);
		else if (!ctx->quiet) {
			cli_progress_clear();
			print_table(t, dir);
		}
	}
	churn_free(doc);
	churn_training_free(t);
	return rc;
}
