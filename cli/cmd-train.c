/*
 * churn train: read a CSV, stratified train/test split, fit the prep spec on
 * the training rows, fit each model, evaluate on the test rows, write
 * <out>/artifacts/models/<kind>.json and <out>/reports/metrics.json, and
 * print the metrics (ARCHITECTURE.md). With --cv K, stratified K-fold on the whole
 * data adds mean and standard deviation of each metric under "cv".
 * Thresholds: a number, best-f1, or cost-optimal (--cost-fn/--cost-fp),
 * chosen on out-of-fold predictions of the training part, never on test.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define INNER_FOLDS 5

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef enum { THR_FIXED, THR_BEST_F1, THR_COST } thr_mode;

typedef struct train_opts {
	thr_mode mode;
	double fixed, cost_fn, cost_fp;
	uint64_t seed;
} train_opts;

/* Fit a model of kind on x; *out on success. */
static churn_status fit_model(churn_model_kind kind, const churn_matrix *x, const churn_params *p, churn_model **out)
{
	churn_model *m = NULL;
	churn_status st = churn_model_new(kind, &m);
	if (!st)
		st = churn_model_fit(m, x, p);
	if (st) {
		churn_model_free(m);
		return st;
	}
	*out = m;
	return CHURN_OK;
}

/* The threshold for a model of kind trained on xtr, from out-of-fold predictions on xtr. */
static churn_status pick_threshold(churn_model_kind kind, const churn_matrix *xtr, const churn_params *p,
                                   const train_opts *o, double *out)
{
	if (o->mode == THR_FIXED) {
		*out = o->fixed;
		return CHURN_OK;
	}
	size_t n = churn_matrix_get_nrows(xtr);
	const uint8_t *y = churn_matrix_get_labels(xtr);
	uint32_t *fold = malloc(n * sizeof(uint32_t));
	double *oof = malloc(n * sizeof(double)), *prob = malloc(n * sizeof(double));
	size_t *idx = malloc(n * sizeof(size_t));
	churn_status st = (fold && oof && prob && idx) ? CHURN_OK : CHURN_E_NOMEM;
	if (!st)
		st = churn_split_kfold(y, n, INNER_FOLDS, o->seed + 1, fold);
	for (uint32_t k = 0; !st && k < INNER_FOLDS; k++) {
		size_t ntr = 0, nte = 0;
		for (size_t i = 0; i < n; i++)
			if (fold[i] != k)
				idx[ntr++] = i;
		churn_matrix *a = NULL, *b = NULL;
		churn_model *m = NULL;
		st = churn_matrix_subset_rows(xtr, idx, ntr, &a);
		for (size_t i = 0; i < n; i++)
			if (fold[i] == k)
				idx[nte++] = i;
		if (!st)
			st = churn_matrix_subset_rows(xtr, idx, nte, &b);
		if (!st)
			st = fit_model(kind, a, p, &m);
		size_t got;
		if (!st)
			st = churn_model_predict(m, b, prob, n, &got);
		for (size_t r = 0; !st && r < nte; r++)
			oof[idx[r]] = prob[r];
		churn_model_free(m);
		churn_matrix_free(a);
		churn_matrix_free(b);
	}
	if (!st) {
		if (o->mode == THR_BEST_F1)
			st = churn_metrics_best_f1_threshold(y, oof, n, out, NULL);
		else
			st = churn_metrics_cost_threshold(y, oof, n, o->cost_fn, o->cost_fp, out, NULL);
	}
	free(fold);
	free(oof);
	free(prob);
	free(idx);
	return st;
}

static const char *cv_keys[] = {"roc_auc", "pr_auc", "f1", "accuracy", "precision", "recall", "log_loss", "brier"};
#define NCV (sizeof(cv_keys) / sizeof(cv_keys[0]))

/* Stratified K-fold on all rows: cv[model][metric][fold]. */
static churn_status cross_validate(const churn_dataset *ds, const uint8_t *y, size_t n, size_t k,
                                   const churn_model_kind *kinds, size_t nk, const double *thr,
                                   const churn_params *p, uint64_t seed, double *cv)
{
	uint32_t *fold = malloc(n * sizeof(uint32_t));
	size_t *tr = malloc(n * sizeof(size_t)), *te = malloc(n * sizeof(size_t));
	double *prob = malloc(n * sizeof(double));
	churn_status st = (fold && tr && te && prob) ? CHURN_OK : CHURN_E_NOMEM;
	if (!st)
		st = churn_split_kfold(y, n, k, seed, fold);
	for (size_t f = 0; !st && f < k; f++) {
		size_t ntr = 0, nte = 0;
		for (size_t i = 0; i < n; i++) {
			if (fold[i] == f)
				te[nte++] = i;
			else
				tr[ntr++] = i;
		}
		churn_prep *prep = NULL;
		churn_matrix *xtr = NULL, *xte = NULL;
		st = churn_prep_fit(ds, tr, ntr, p, &prep);
		if (!st)
			st = churn_prep_apply_rows(prep, ds, tr, ntr, &xtr);
		if (!st)
			st = churn_prep_apply_rows(prep, ds, te, nte, &xte);
		for (size_t mi = 0; !st && mi < nk; mi++) {
			churn_model *m = NULL;
			char *js = NULL;
			size_t got;
			st = fit_model(kinds[mi], xtr, p, &m);
			if (!st)
				st = churn_model_predict(m, xte, prob, n, &got);
			if (!st)
				st = churn_metrics_compute_json(churn_matrix_get_labels(xte), prob, nte, thr[mi], &js);
			if (!st) {
				cJSON *o = cJSON_Parse(js);
				for (size_t q = 0; q < NCV; q++) {
					cJSON *v = cJSON_GetObjectItemCaseSensitive(o, cv_keys[q]);
					cv[(mi * NCV + q) * k + f] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
				}
				cJSON_Delete(o);
			}
			churn_free(js);
			churn_model_free(m);
		}
		churn_prep_free(prep);
		churn_matrix_free(xtr);
		churn_matrix_free(xte);
	}
	free(fold);
	free(tr);
	free(te);
	free(prob);
	return st;
}

/* "logreg,gbm" -> kinds; returns 0 or an exit code. */
static int parse_models(cli_ctx *ctx, const char *list, churn_model_kind *kinds, size_t *nk)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return EX_SOFTWARE_;
	*nk = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		churn_model_kind k;
		if (churn_model_kind_from_name(tok, &k) != CHURN_OK) {
			int rc = cli_fail(ctx, CHURN_E_INVALID_ARG, "--models");
			free(copy);
			return rc;
		}
		bool dup = false;
		for (size_t i = 0; i < *nk; i++)
			dup |= kinds[i] == k;
		if (!dup && *nk < 3)
			kinds[(*nk)++] = k;
	}
	free(copy);
	if (*nk == 0) {
		cli_error(ctx, "--models: no model named (expected logreg, gbm and/or forest)");
		return EX_USAGE_;
	}
	return 0;
}

static bool parse_num(const char *s, double *out)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (!s[0] || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
	const char *input = NULL, *models = NULL, *test_size = NULL, *seed = NULL, *cv = NULL, *threshold = NULL,
	           *cost_fn = NULL, *cost_fp = NULL, *outdir = NULL;
	const cli_opt opts[] = {
		{"input", "CSV", &input, NULL, "training data (required)"},
		{"models", "LIST", &models, NULL, "comma-separated: logreg, gbm, forest (default pipeline.models)"},
		{"test-size", "F", &test_size, NULL, "fraction held out for testing (default 0.3)"},
		{"seed", "S", &seed, NULL, "seed of the split, folds and models (default 42)"},
		{"cv", "K", &cv, NULL, "also run stratified K-fold cross-validation on all rows"},
		{"threshold", "T", &threshold, NULL, "label threshold: a probability (default 0.5) or best-f1"},
		{"cost-fn", "X", &cost_fn, NULL, "cost of a missed churner (with --cost-fp: cost-optimal threshold)"},
		{"cost-fp", "Y", &cost_fp, NULL, "cost of a retention offer to a non-churner"},
		{"out", "DIR", &outdir, NULL, "output directory (default the workdir)"},
		{NULL, NULL, NULL, NULL, NULL},
	};
	int rc = cli_parse(ctx, argc, argv, opts, "fit models on a CSV, evaluate them and write model artifacts");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required");
		return EX_USAGE_;
	}
	churn_params *p = ctx->params;
	if (test_size && churn_params_set_str(p, "split.test_size", test_size))
		return cli_fail(ctx, CHURN_E_INVALID_ARG, "--test-size");
	if (seed && churn_params_set_str(p, "split.seed", seed))
		return cli_fail(ctx, CHURN_E_INVALID_ARG, "--seed");
	train_opts o = {THR_FIXED, 0.5, 0, 0, (uint64_t)churn_params_get_int(p, "split.seed")};
	if (threshold) {
		if (!strcmp(threshold, "best-f1")) {
			o.mode = THR_BEST_F1;
		} else if (!parse_num(threshold, &o.fixed) || o.fixed < 0 || o.fixed > 1) {
			cli_error(ctx, "--threshold: '%s' is neither a probability in [0, 1] nor best-f1", threshold);
			return EX_USAGE_;
		}
	}
	if (cost_fn || cost_fp) {
		if (!cost_fn || !cost_fp || !parse_num(cost_fn, &o.cost_fn) || !parse_num(cost_fp, &o.cost_fp) ||
		    o.cost_fn < 0 || o.cost_fp < 0 || o.cost_fn + o.cost_fp <= 0) {
			cli_error(ctx, "--cost-fn and --cost-fp go together and take non-negative numbers, not both 0");
			return EX_USAGE_;
		}
		if (threshold) {
			cli_error(ctx, "--threshold and --cost-fn/--cost-fp exclude each other");
			return EX_USAGE_;
		}
		o.mode = THR_COST;
	}
	size_t k = 0;
	if (cv) {
		double kv;
		if (!parse_num(cv, &kv) || kv < 2 || kv > 100 || kv != floor(kv)) {
			cli_error(ctx, "--cv: '%s' is not a fold count in [2, 100]", cv);
			return EX_USAGE_;
		}
		k = (size_t)kv;
	}
	churn_model_kind kinds[3];
	size_t nk = 0;
	if ((rc = parse_models(ctx, models ? models : churn_params_get_str(p, "pipeline.models"), kinds, &nk)))
		return rc;
	if (ctx->verbose)
		churn_params_set_log(p, cli_log_stderr, (void *)1, CHURN_LOG_DEBUG);
	if (!ctx->quiet && !ctx->json)
		churn_params_set_progress(p, cli_progress, NULL);

	churn_status st;
	const char *what = "reading the input";
	churn_dataset *ds = NULL;
	churn_prep *prep0 = NULL, *prep = NULL;
	churn_matrix *xtr = NULL, *xte = NULL;
	churn_workdir *w = NULL;
	uint8_t *y = NULL;
	size_t *tr = NULL, *te = NULL, ntr = 0, nte = 0, n = 0;
	double *prob = NULL, thr[3] = {0.5, 0.5, 0.5}, *cvv = NULL;
	cJSON *doc = NULL, *mods = NULL;
	char *text = NULL;

	if ((st = churn_csv_read_file(input, p, &ds, NULL)))
		goto fail;
	what = "labels";
	n = churn_dataset_get_nrows(ds);
	/* the labels only (positive label and target); the features are fitted on the training rows */
	if ((st = churn_prep_fit(ds, NULL, 0, p, &prep0)) || (st = churn_prep_get_labels(prep0, ds, &y, &n)))
		goto fail;
	what = "split";
	if ((st = churn_split_stratified(y, n, churn_params_get_double(p, "split.test_size"), o.seed, &tr, &ntr, &te,
	                                 &nte)))
		goto fail;
	what = "prep";
	if ((st = churn_prep_fit(ds, tr, ntr, p, &prep)) || (st = churn_prep_apply_rows(prep, ds, tr, ntr, &xtr)) ||
	    (st = churn_prep_apply_rows(prep, ds, te, nte, &xte)))
		goto fail;
	what = outdir ? outdir : ctx->workdir;
	if ((st = churn_workdir_open(what, p, &w)) || (st = churn_workdir_lock(w)))
		goto fail;
	const char *run_id = churn_workdir_new_run_id(w);
	if (!(prob = malloc((nte ? nte : 1) * sizeof(double))) || !(doc = cJSON_CreateObject()))
		goto nomem;
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(doc, "generated_at", stamp);
	cJSON_AddStringToObject(doc, "run_id", run_id);
	cJSON_AddStringToObject(doc, "input", input);
	cJSON_AddNumberToObject(doc, "train_rows", (double)ntr);
	cJSON_AddNumberToObject(doc, "test_rows", (double)nte);
	cJSON_AddNumberToObject(doc, "features", (double)churn_matrix_get_ncols(xtr));
	cJSON_AddNumberToObject(doc, "seed", (double)o.seed);
	if (!(mods = cJSON_AddObjectToObject(doc, "models")))
		goto nomem;

	for (size_t mi = 0; mi < nk; mi++) {
		const char *name = churn_model_kind_name(kinds[mi]);
		churn_model *m = NULL;
		char *metrics = NULL, *buf = NULL, *params = NULL;
		size_t got, nbuf;
		char rel[64];
		snprintf(rel, sizeof(rel), "artifacts/models/%s.json", name);
		what = name;
		double t0 = now_s();
		if ((st = pick_threshold(kinds[mi], xtr, p, &o, &thr[mi])))
			goto fail;
		double t1 = now_s();
		if ((st = fit_model(kinds[mi], xtr, p, &m)))
			goto fail;
		double t2 = now_s();
		if (!(st = churn_model_predict(m, xte, prob, nte, &got)) &&
		    !(st = churn_metrics_compute_json(churn_matrix_get_labels(xte), prob, nte, thr[mi], &metrics)) &&
		    !(st = churn_model_set_threshold(m, thr[mi])) && !(st = churn_model_set_prep(m, prep)) &&
		    !(st = churn_model_set_metrics_json(m, metrics)) &&
		    !(st = churn_model_set_training_info(m, ntr, NULL)) && !(st = churn_model_set_training_file(m, input)) &&
		    !(st = churn_model_to_buffer(m, &buf, &nbuf)) && !(st = churn_model_get_params_json(m, &params)))
			st = churn_workdir_write(w, rel, buf, nbuf);
		if (!st) {
			cJSON *mo = cJSON_Parse(metrics);
			if (!mo || !cJSON_AddItemToObject(mods, name, mo)) {
				cJSON_Delete(mo);
				st = CHURN_E_NOMEM;
			} else {
				static const char *thr_names[] = {"fixed", "best-f1", "cost"};
				cJSON_AddStringToObject(mo, "threshold_method", thr_names[o.mode]);
				cJSON_AddNumberToObject(mo, "fit_seconds", t2 - t1);
				cJSON_AddNumberToObject(mo, "threshold_seconds", t1 - t0);
				cJSON_AddNumberToObject(mo, "iterations", (double)churn_model_get_iterations(m));
				cJSON_AddBoolToObject(mo, "converged", churn_model_is_converged(m));
				cJSON_AddItemToObject(mo, "params", cJSON_Parse(params));
				char *path = NULL;
				if (!churn_workdir_join(w, rel, &path))
					cJSON_AddStringToObject(mo, "artifact", path);
				churn_free(path);
			}
		}
		churn_free(metrics);
		churn_free(buf);
		churn_free(params);
		churn_model_free(m);
		if (st)
			goto fail;
	}

	if (k) {
		what = "cross-validation";
		if (!(cvv = malloc(nk * NCV * k * sizeof(double))))
			goto nomem;
		if ((st = cross_validate(ds, y, n, k, kinds, nk, thr, p, o.seed, cvv)))
			goto fail;
		for (size_t mi = 0; mi < nk; mi++) {
			cJSON *c = cJSON_AddObjectToObject(cJSON_GetObjectItem(mods, churn_model_kind_name(kinds[mi])), "cv");
			if (!c)
				goto nomem;
			cJSON_AddNumberToObject(c, "k", (double)k);
			for (size_t q = 0; q < NCV; q++) {
				const double *v = cvv + (mi * NCV + q) * k;
				double mean = 0, var = 0;
				for (size_t f = 0; f < k; f++)
					mean += v[f] / (double)k;
				for (size_t f = 0; f < k; f++)
					var += (v[f] - mean) * (v[f] - mean) / (double)k;
				char key[48];
				snprintf(key, sizeof(key), "%s_mean", cv_keys[q]);
				cJSON_AddNumberToObject(c, key, mean);
				snprintf(key, sizeof(key), "%s_std", cv_keys[q]);
				cJSON_AddNumberToObject(c, key, sqrt(var));
			}
		}
	}

	what = "reports/metrics.json";
	if (!(text = cJSON_Print(doc)))
		goto nomem;
	if ((st = churn_workdir_write(w, "reports/metrics.json", text, strlen(text))))
		goto fail;
	if (ctx->json) {
		printf("%s\n", text);
	} else if (!ctx->quiet) {
		printf("%-8s %8s %8s %8s %8s %9s %8s\n", "model", "roc_auc", "pr_auc", "f1", "accuracy", "threshold",
		       "fit_s");
		for (size_t mi = 0; mi < nk; mi++) {
			cJSON *mo = cJSON_GetObjectItem(mods, churn_model_kind_name(kinds[mi]));
			printf("%-8s %8.4f %8.4f %8.4f %8.4f %9.4f %8.3f", churn_model_kind_name(kinds[mi]),
			       cJSON_GetObjectItem(mo, "roc_auc")->valuedouble, cJSON_GetObjectItem(mo, "pr_auc")->valuedouble,
			       cJSON_GetObjectItem(mo, "f1")->valuedouble, cJSON_GetObjectItem(mo, "accuracy")->valuedouble,
			       thr[mi], cJSON_GetObjectItem(mo, "fit_seconds")->valuedouble);
			cJSON *c = cJSON_GetObjectItem(mo, "cv");
			if (c)
				printf("   cv%zu roc_auc %.4f +- %.4f", k, cJSON_GetObjectItem(c, "roc_auc_mean")->valuedouble,
				       cJSON_GetObjectItem(c, "roc_auc_std")->valuedouble);
			printf("\n");
		}
		printf("train %zu rows, test %zu rows; artifacts in %s/artifacts/models\n", ntr, nte,
		       churn_workdir_get_path(w));
	}
	rc = 0;
	goto out;
nomem:
	st = CHURN_E_NOMEM;
fail:
	rc = cli_fail(ctx, st, what);
out:
	cJSON_free(text);
	cJSON_Delete(doc);
	free(cvv);
	free(prob);
	churn_free(tr);
	churn_free(te);
	churn_free(y);
	churn_matrix_free(xtr);
	churn_matrix_free(xte);
	churn_prep_free(prep);
	churn_prep_free(prep0);
	churn_dataset_free(ds);
	churn_workdir_free(w);
	return rc;
}
