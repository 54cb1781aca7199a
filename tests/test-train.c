/* train.h: the one training procedure. Deterministic bytes; nothing learnt
 * from the test rows (prep, models, thresholds); each model independent of
 * the others; thresholds and cross-validation against their definitions;
 * the metrics document; rows without a target; options checked first;
 * progress on the calling thread and cancellation; the real Telco file. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

#include "test-common.h"

static churn_dataset *synth(size_t rows, uint64_t seed)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(rows, seed, &ds), CHURN_OK);
	return ds;
}

static churn_params *params(const char *models)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "pipeline.models", models), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "gbm.n_trees", "30"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "forest.n_trees", "20"), CHURN_OK);
	return p;
}

static churn_training *train(const churn_dataset *ds, const churn_params *p)
{
	churn_training *t = NULL;
	churn_status st = churn_train(ds, NULL, p, &t);
	ck_assert_msg(st == CHURN_OK, "churn_train: %s", churn_last_error());
	return t;
}

static char *doc(const churn_training *t)
{
	char *js = NULL;
	ck_assert_int_eq(churn_training_metrics_json(t, "run-1", "2026-01-01T00:00:00Z", &js), CHURN_OK);
	return js;
}

static void assert_same_artifacts(const churn_training *a, const churn_training *b)
{
	ck_assert_uint_eq(churn_training_get_model_count(a), churn_training_get_model_count(b));
	for (size_t k = 0; k < churn_training_get_model_count(a); k++) {
		size_t na = 0, nb = 0;
		const char *x = churn_training_get_artifact(a, k, &na), *y = churn_training_get_artifact(b, k, &nb);
		ck_assert_uint_eq(na, nb);
		ck_assert_msg(memcmp(x, y, na) == 0, "artifact %zu differs", k);
		ck_assert_str_eq(churn_training_get_artifact_sha256(a, k), churn_training_get_artifact_sha256(b, k));
	}
}

START_TEST(test_same_data_and_options_give_the_same_bytes)
{
	churn_dataset *ds = synth(1500, 5);
	churn_params *p = params("logreg,gbm,forest");
	churn_training *a = train(ds, p), *b = train(ds, p);
	assert_same_artifacts(a, b);
	char *da = doc(a), *db = doc(b);
	ck_assert_str_eq(da, db);
	/* no timings in the document or the entries */
	ck_assert_ptr_null(strstr(da, "seconds"));
	ck_assert_ptr_null(strstr(da, "duration"));
	churn_free(da);
	churn_free(db);
	churn_training_free(a);
	churn_training_free(b);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_each_model_is_independent_of_the_others)
{
	churn_dataset *ds = synth(1200, 6);
	churn_params *all = params("forest,logreg,gbm"), *one = params("gbm");
	churn_training *a = train(ds, all), *b = train(ds, one);
	ck_assert_uint_eq(churn_training_get_model_count(a), 3);
	ck_assert_int_eq(churn_model_get_kind(churn_training_get_model(a, 0)), CHURN_MODEL_FOREST);
	size_t na = 0, nb = 0;
	const char *x = churn_training_get_artifact(a, 2, &na), *y = churn_training_get_artifact(b, 0, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(x, y, na) == 0);
	ck_assert_str_eq(churn_training_get_metrics_json(a, 2), churn_training_get_metrics_json(b, 0));
	churn_training_free(a);
	churn_training_free(b);
	churn_params_free(all);
	churn_params_free(one);
	churn_dataset_free(ds);
}
END_TEST

/* A copy of ds whose rows `rows` carry other tenure and charges, and a Contract level never seen elsewhere. */
static churn_dataset *perturbed(const churn_dataset *ds, const size_t *rows, size_t nrows)
{
	size_t n = churn_dataset_get_row_count(ds);
	bool *mark = calloc(n, 1);
	double *v = malloc(n * sizeof(double));
	const char **s = malloc(n * sizeof(char *));
	for (size_t i = 0; i < nrows; i++)
		mark[rows[i]] = true;
	churn_dataset *out = NULL;
	ck_assert_int_eq(churn_dataset_new(&out), CHURN_OK);
	for (size_t j = 0; j < churn_dataset_get_column_count(ds); j++) {
		const char *name = churn_dataset_get_col_name(ds, j);
		if (churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC) {
			memcpy(v, churn_dataset_get_numeric(ds, j), n * sizeof(double));
			for (size_t i = 0; i < n; i++)
				if (mark[i] && (!strcmp(name, "tenure") || !strcmp(name, "MonthlyCharges")))
					v[i] = 5000.0 + (double)i;
			ck_assert_int_eq(churn_dataset_add_numeric(out, name, v, n), CHURN_OK);
		} else if (churn_dataset_get_col_type(ds, j) == CHURN_COL_CATEGORICAL) {
			const int32_t *c = churn_dataset_get_codes(ds, j);
			for (size_t i = 0; i < n; i++)
				s[i] = c[i] < 0 ? NULL : churn_dataset_get_level(ds, j, (size_t)c[i]);
			for (size_t i = 0; i < n; i++)
				if (mark[i] && !strcmp(name, "Contract"))
					s[i] = "Decade";
			ck_assert_int_eq(churn_dataset_add_categorical(out, name, s, n), CHURN_OK);
		} else {
			for (size_t i = 0; i < n; i++)
				s[i] = churn_dataset_get_text(ds, j, i);
			ck_assert_int_eq(churn_dataset_add_text(out, name, s, n), CHURN_OK);
		}
	}
	free(mark);
	free(v);
	free(s);
	return out;
}

START_TEST(test_nothing_is_learnt_from_the_test_rows)
{
	churn_dataset *ds = synth(1500, 7);
	churn_params *p = params("logreg,gbm");
	static const char *const policies[] = {"fixed", "best-f1", "cost"};
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(churn_params_set_str(p, "train.threshold", policies[k]), CHURN_OK);
		churn_training *a = train(ds, p);
		size_t nte = 0;
		const size_t *te = churn_training_get_test_rows(a, &nte);
		churn_dataset *other = perturbed(ds, te, nte);
		churn_training *b = train(other, p);
		/* the split depends on the labels only: the same rows */
		size_t nte2 = 0;
		const size_t *te2 = churn_training_get_test_rows(b, &nte2);
		ck_assert_uint_eq(nte, nte2);
		ck_assert(memcmp(te, te2, nte * sizeof(size_t)) == 0);
		/* the same prep spec (no imputation value, scale or level of a test row), models and thresholds */
		char *sa = NULL, *sb = NULL;
		ck_assert_int_eq(churn_prep_to_json(churn_training_get_prep(a), &sa), CHURN_OK);
		ck_assert_int_eq(churn_prep_to_json(churn_training_get_prep(b), &sb), CHURN_OK);
		ck_assert_str_eq(sa, sb);
		ck_assert_ptr_null(strstr(sa, "Decade"));
		for (size_t m = 0; m < 2; m++) {
			const churn_model *ma = churn_training_get_model(a, m), *mb = churn_training_get_model(b, m);
			ck_assert(churn_model_get_threshold(ma) == churn_model_get_threshold(mb));
			char *pa = NULL, *pb = NULL;
			ck_assert_int_eq(churn_model_to_buffer(ma, &pa, NULL), CHURN_OK);
			ck_assert_int_eq(churn_model_to_buffer(mb, &pb, NULL), CHURN_OK);
			/* the artifacts differ in their test metrics only: compare the fitted parts */
			cJSON *ja = cJSON_Parse(pa), *jb = cJSON_Parse(pb);
			cJSON_DeleteItemFromObject(ja, "metrics");
			cJSON_DeleteItemFromObject(jb, "metrics");
			ck_assert(cJSON_Compare(ja, jb, true));
			cJSON_Delete(ja);
			cJSON_Delete(jb);
			churn_free(pa);
			churn_free(pb);
		}
		churn_free(sa);
		churn_free(sb);
		churn_training_free(a);
		churn_training_free(b);
		churn_dataset_free(other);
	}
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

/* The training rows of t as a matrix by its own prep (what the models were fitted on). */
static churn_matrix *training_matrix(const churn_training *t, const churn_dataset *ds)
{
	size_t ntr = 0;
	const size_t *tr = churn_training_get_train_rows(t, &ntr);
	churn_matrix *x = NULL;
	ck_assert_int_eq(churn_prep_apply_rows(churn_training_get_prep(t), ds, tr, ntr, &x), CHURN_OK);
	return x;
}

/* Out-of-fold scores of x by 5 logreg fits, as train.h defines them. */
static double *oof_logreg(const churn_matrix *x, const churn_params *p)
{
	size_t n = churn_matrix_get_row_count(x), got = 0;
	uint32_t *fold = malloc(n * sizeof(uint32_t));
	size_t *a = malloc(n * sizeof(size_t)), *b = malloc(n * sizeof(size_t));
	double *oof = malloc(n * sizeof(double)), *prob = malloc(n * sizeof(double));
	ck_assert_int_eq(churn_split_kfold(churn_matrix_get_labels(x), n, 5, 42 + 1, fold), CHURN_OK);
	for (uint32_t f = 0; f < 5; f++) {
		size_t na = 0, nb = 0;
		for (size_t i = 0; i < n; i++) {
			if (fold[i] == f)
				b[nb++] = i;
			else
				a[na++] = i;
		}
		churn_matrix *xa = NULL, *xb = NULL;
		churn_model *m = NULL;
		ck_assert_int_eq(churn_matrix_subset_rows(x, a, na, &xa), CHURN_OK);
		ck_assert_int_eq(churn_matrix_subset_rows(x, b, nb, &xb), CHURN_OK);
		ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &m), CHURN_OK);
		ck_assert_int_eq(churn_model_fit(m, xa, p), CHURN_OK);
		ck_assert_int_eq(churn_model_predict(m, xb, prob, n, &got), CHURN_OK);
		for (size_t i = 0; i < nb; i++)
			oof[b[i]] = prob[i];
		churn_model_free(m);
		churn_matrix_free(xa);
		churn_matrix_free(xb);
	}
	free(fold);
	free(a);
	free(b);
	free(prob);
	return oof;
}

START_TEST(test_thresholds_are_their_definitions)
{
	churn_dataset *ds = synth(1200, 8);
	churn_params *p = params("logreg");
	churn_training *t = train(ds, p);
	ck_assert(churn_model_get_threshold(churn_training_get_model(t, 0)) == 0.5);
	churn_training_free(t);
	ck_assert_int_eq(churn_params_set_str(p, "pipeline.threshold", "0.3"), CHURN_OK);
	t = train(ds, p);
	ck_assert(churn_training_get_metric(t, 0, "threshold") == 0.3);
	churn_training_free(t);

	ck_assert_int_eq(churn_params_set_str(p, "train.threshold", "best-f1"), CHURN_OK);
	t = train(ds, p);
	churn_matrix *x = training_matrix(t, ds);
	double *oof = oof_logreg(x, p), want = 0, got = churn_training_get_metric(t, 0, "threshold");
	size_t n = churn_matrix_get_row_count(x);
	ck_assert_int_eq(churn_metrics_best_f1_threshold(churn_matrix_get_labels(x), oof, n, &want, NULL), CHURN_OK);
	ck_assert_msg(got == want, "best-f1 threshold %.17g, by definition %.17g", got, want);
	churn_training_free(t);

	ck_assert_int_eq(churn_params_set_str(p, "train.threshold", "cost"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "train.cost_fn", "10"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "train.cost_fp", "1"), CHURN_OK);
	t = train(ds, p);
	ck_assert_int_eq(churn_metrics_cost_threshold(churn_matrix_get_labels(x), oof, n, 10, 1, &want, NULL), CHURN_OK);
	ck_assert(churn_training_get_metric(t, 0, "threshold") == want);
	ck_assert(want < 0.5); /* a missed churner costs more: a lower threshold */
	char *js = doc(t);
	cJSON *d = cJSON_Parse(js);
	cJSON *pol = cJSON_GetObjectItem(d, "threshold_policy");
	ck_assert_str_eq(cJSON_GetObjectItem(pol, "method")->valuestring, "cost");
	ck_assert(cJSON_GetObjectItem(pol, "cost_fn")->valuedouble == 10);
	ck_assert_str_eq(
		cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "models"), "logreg"), "threshold_method")
			->valuestring,
		"cost");
	cJSON_Delete(d);
	churn_free(js);
	churn_training_free(t);
	free(oof);
	churn_matrix_free(x);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_cross_validation_is_its_definition)
{
	churn_dataset *ds = synth(900, 9);
	churn_params *p = params("logreg");
	ck_assert_int_eq(churn_params_set_str(p, "train.cv", "3"), CHURN_OK);
	churn_training *t = train(ds, p);
	ck_assert(churn_training_get_metric(t, 0, "cv.k") == 3);
	/* by hand: stratified 3 folds of all rows (seed split.seed), prep refitted on each training part */
	size_t n = churn_dataset_get_row_count(ds), got = 0;
	const uint8_t *y = churn_training_get_labels(t, NULL);
	uint32_t *fold = malloc(n * sizeof(uint32_t));
	size_t *a = malloc(n * sizeof(size_t)), *b = malloc(n * sizeof(size_t));
	double *prob = malloc(n * sizeof(double)), auc[3], mean = 0, var = 0;
	ck_assert_int_eq(churn_split_kfold(y, n, 3, 42, fold), CHURN_OK);
	for (uint32_t f = 0; f < 3; f++) {
		size_t na = 0, nb = 0;
		for (size_t i = 0; i < n; i++) {
			if (fold[i] == f)
				b[nb++] = i;
			else
				a[na++] = i;
		}
		churn_prep *prep = NULL;
		churn_matrix *xa = NULL, *xb = NULL;
		churn_model *m = NULL;
		ck_assert_int_eq(churn_prep_fit(ds, a, na, p, &prep), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply_rows(prep, ds, a, na, &xa), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply_rows(prep, ds, b, nb, &xb), CHURN_OK);
		ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &m), CHURN_OK);
		ck_assert_int_eq(churn_model_fit(m, xa, p), CHURN_OK);
		ck_assert_int_eq(churn_model_predict(m, xb, prob, n, &got), CHURN_OK);
		ck_assert_int_eq(churn_metrics_roc_auc(churn_matrix_get_labels(xb), prob, nb, &auc[f]), CHURN_OK);
		churn_model_free(m);
		churn_prep_free(prep);
		churn_matrix_free(xa);
		churn_matrix_free(xb);
	}
	for (int f = 0; f < 3; f++)
		mean += auc[f] / 3;
	for (int f = 0; f < 3; f++)
		var += (auc[f] - mean) * (auc[f] - mean) / 3;
	ck_assert(churn_training_get_metric(t, 0, "cv.roc_auc_mean") == mean);
	ck_assert(churn_training_get_metric(t, 0, "cv.roc_auc_std") == sqrt(var));
	ck_assert(isnan(churn_training_get_metric(t, 0, "cv.nothing")));
	free(fold);
	free(a);
	free(b);
	free(prob);
	churn_training_free(t);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_scores_and_artifacts_agree)
{
	churn_dataset *ds = synth(1000, 10);
	churn_params *p = params("logreg,gbm");
	churn_training *t = train(ds, p);
	size_t n = 0, ntr = 0, nte = 0, got = 0;
	const size_t *rows = churn_training_get_rows(t, &n), *te = churn_training_get_test_rows(t, &nte);
	churn_training_get_train_rows(t, &ntr);
	ck_assert_uint_eq(n, 1000);
	ck_assert_uint_eq(ntr + nte, n);
	ck_assert_uint_eq(rows[999], 999);
	churn_matrix *xte = NULL;
	ck_assert_int_eq(churn_prep_apply_rows(churn_training_get_prep(t), ds, te, nte, &xte), CHURN_OK);
	double *prob = malloc(nte * sizeof(double));
	for (size_t k = 0; k < 2; k++) {
		/* the artifact is the model: loaded back, it scores the test rows as the training did */
		size_t bytes = 0;
		const char *art = churn_training_get_artifact(t, k, &bytes);
		churn_model *m = NULL;
		ck_assert_int_eq(churn_model_from_buffer(art, bytes, &m), CHURN_OK);
		ck_assert_int_eq(churn_model_predict(m, xte, prob, nte, &got), CHURN_OK);
		const double *ts = churn_training_get_test_scores(t, k, NULL), *all = churn_training_get_scores(t, k, NULL);
		for (size_t i = 0; i < nte; i++) {
			ck_assert(prob[i] == ts[i]);
			ck_assert(all[te[i]] == ts[i]);
		}
		ck_assert_uint_eq(churn_model_get_training_row_count(m), ntr);
		ck_assert(churn_model_get_threshold(m) == churn_training_get_metric(t, k, "threshold"));
		ck_assert(churn_training_get_seconds(t, k) >= 0);
		churn_model_free(m);
	}
	ck_assert_ptr_null(churn_training_get_model(t, 2));
	ck_assert_ptr_null(churn_training_get_artifact(t, 2, NULL));
	ck_assert_ptr_null(churn_training_get_test_scores(t, 2, NULL));
	ck_assert(isnan(churn_training_get_metric(t, 2, "roc_auc")));
	free(prob);
	churn_matrix_free(xte);
	churn_training_free(t);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_metrics_document)
{
	churn_dataset *ds = synth(800, 11);
	churn_params *p = params("logreg,gbm");
	churn_training *t = NULL;
	static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	ck_assert_int_eq(churn_train(ds, sha, p, &t), CHURN_OK);
	char *js = doc(t);
	cJSON *d = cJSON_Parse(js);
	ck_assert_str_eq(cJSON_GetObjectItem(d, "generated_at")->valuestring, "2026-01-01T00:00:00Z");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "run_id")->valuestring, "run-1");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "data_sha256")->valuestring, sha);
	ck_assert_int_eq((int)cJSON_GetObjectItem(d, "train_rows")->valuedouble +
	                     (int)cJSON_GetObjectItem(d, "test_rows")->valuedouble,
	                 800);
	cJSON *models = cJSON_GetObjectItem(d, "models");
	ck_assert_int_eq(cJSON_GetArraySize(models), 2);
	ck_assert_str_eq(models->child->string, "logreg");
	size_t best = churn_training_get_best(t);
	ck_assert(churn_training_get_metric(t, best, "roc_auc") >= churn_training_get_metric(t, 1 - best, "roc_auc"));
	ck_assert_str_eq(cJSON_GetObjectItem(d, "best_model")->valuestring,
	                 churn_model_kind_name(churn_model_get_kind(churn_training_get_model(t, best))));
	for (size_t k = 0; k < 2; k++) {
		cJSON *e = cJSON_GetArrayItem(models, (int)k), *want = cJSON_Parse(churn_training_get_metrics_json(t, k));
		ck_assert(cJSON_Compare(e, want, true));
		static const char *const keys[] = {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
		                                   "log_loss", "brier", "threshold", "confusion", "threshold_method",
		                                   "params", "artifact"};
		for (size_t q = 0; q < sizeof(keys) / sizeof(keys[0]); q++)
			ck_assert_msg(cJSON_GetObjectItem(e, keys[q]), "no %s", keys[q]);
		ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "artifact"), "sha256")->valuestring,
		                 churn_training_get_artifact_sha256(t, k));
		ck_assert_str_eq(churn_model_get_data_sha256(churn_training_get_model(t, k)), sha);
		cJSON_Delete(want);
	}
	cJSON_Delete(d);
	churn_free(js);
	/* without a run id, a time or a data hash */
	ck_assert_int_eq(churn_training_metrics_json(t, NULL, NULL, &js), CHURN_OK);
	d = cJSON_Parse(js);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "run_id")));
	ck_assert_int_eq((int)strlen(cJSON_GetObjectItem(d, "generated_at")->valuestring), 20);
	cJSON_Delete(d);
	churn_free(js);
	churn_training_free(t);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_OK);
	ck_assert_int_eq(churn_training_metrics_json(t, "r", "t", &js), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(js, "\"data_sha256\":\tnull"));
	churn_free(js);
	churn_training_free(t);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_rows_without_a_target)
{
	/* 60 rows, every fifth without a target */
	char csv[8192] = "customerID,x,c,Churn\n";
	for (int i = 0; i < 60; i++) {
		char line[96];
		snprintf(line, sizeof(line), "id%d,%d.5,%s,%s\n", i, (i * 7) % 23, i % 3 ? "a" : "b",
		         i % 5 == 4 ? "" : (i % 4 == 0 || i % 7 == 0) ? "Yes" : "No");
		strcat(csv, line);
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_buffer(csv, strlen(csv), "t.csv", NULL, &ds, NULL), CHURN_OK);
	churn_params *p = params("logreg");
	churn_training *t = NULL;
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_PARSE);
	ck_assert_int_eq(churn_params_set_str(p, "prep.drop_missing_target", "true"), CHURN_OK);
	t = train(ds, p);
	size_t n = 0, nte = 0;
	const size_t *rows = churn_training_get_rows(t, &n), *te = churn_training_get_test_rows(t, &nte);
	ck_assert_uint_eq(n, 48);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_ne(rows[i] % 5, 4);
	for (size_t i = 0; i < nte; i++)
		ck_assert_uint_ne(te[i] % 5, 4);
	size_t ns = 0;
	ck_assert_ptr_nonnull(churn_training_get_scores(t, 0, &ns));
	ck_assert_uint_eq(ns, 48);
	churn_training_free(t);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_bad_options_fail_before_work)
{
	churn_dataset *ds = synth(300, 12);
	churn_training *t = NULL;
	static const char *const bad[][2] = {
		{"pipeline.models", "logreg,svm"}, {"pipeline.models", " , "},   {"train.threshold", "median"},
		{"train.cv", "1"},                 {"train.cv", "100"},          {"split.seed", "7"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		churn_params *p = params("logreg");
		ck_assert_int_eq(churn_params_set_str(p, bad[i][0], bad[i][1]), CHURN_OK);
		churn_status st = churn_train(ds, NULL, p, &t);
		if (!strcmp(bad[i][0], "split.seed")) {
			/* not bad: the control case */
			ck_assert_int_eq(st, CHURN_OK);
			churn_training_free(t);
			t = NULL;
		} else {
			ck_assert_msg(st == CHURN_E_INVALID_ARG, "%s=%s: %d", bad[i][0], bad[i][1], st);
			ck_assert_ptr_null(t);
			ck_assert_ptr_nonnull(strstr(churn_last_error(), bad[i][0]));
		}
		churn_params_free(p);
	}
	churn_params *p = params("logreg");
	ck_assert_int_eq(churn_params_set_str(p, "train.threshold", "cost"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "train.cost_fn", "0"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "train.cost_fp", "0"), CHURN_OK);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_train(ds, "abc", NULL, &t), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_train(NULL, NULL, NULL, &t), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_train(ds, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	/* churn_train_file checks the options before it opens the file */
	ck_assert_int_eq(churn_train_file("/nonexistent/x.csv", p, &t), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_train_file("/nonexistent/x.csv", NULL, &t), CHURN_E_NOTFOUND);
	ck_assert_int_eq(churn_training_metrics_json(NULL, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(churn_training_get_model_count(NULL), 0);
	churn_training_free(NULL);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

static size_t put(void *ud, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, ud);
}

START_TEST(test_train_file_is_train_on_its_rows)
{
	char *dir = churn_test_tmpdir(), path[4200];
	snprintf(path, sizeof(path), "%s/s.csv", dir);
	FILE *f = fopen(path, "wb");
	ck_assert_int_eq(churn_synth_write(700, 13, put, f), CHURN_OK);
	fclose(f);
	churn_params *p = params("logreg,gbm");
	churn_training *a = NULL, *b = NULL;
	ck_assert_int_eq(churn_train_file(path, p, &a), CHURN_OK);
	const char *sha = churn_model_get_data_sha256(churn_training_get_model(a, 0));
	ck_assert_uint_eq(strlen(sha), 64);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, p, &ds, NULL), CHURN_OK);
	ck_assert_int_eq(churn_train(ds, sha, p, &b), CHURN_OK);
	assert_same_artifacts(a, b);
	churn_training_free(a);
	churn_training_free(b);
	churn_dataset_free(ds);
	churn_params_free(p);
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

static bool cancel_at_once(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)ud, (void)what, (void)done, (void)total;
	return false;
}

START_TEST(test_cancel)
{
	churn_dataset *ds = synth(2000, 14);
	churn_params *p = params("gbm,logreg");
	churn_params_set_progress(p, cancel_at_once, NULL);
	churn_training *t = NULL;
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_STATE);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "gbm"));
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

/* What the progress callback saw: every call on the caller's thread, each phase's figure never going back. */
struct seen {
	pthread_t caller;
	int calls, other_thread, went_back, cancel_after;
	char last_what[16];
	uint64_t last_done, last_total;
	char phases[64];
	uint64_t train_max, train_total;
};

static bool record_progress(void *ud, const char *what, uint64_t done, uint64_t total)
{
	struct seen *s = ud;
	s->calls++;
	s->other_thread += !pthread_equal(pthread_self(), s->caller);
	if (strcmp(what, s->last_what)) {
		snprintf(s->last_what, sizeof s->last_what, "%s", what);
		if (strlen(s->phases) + strlen(what) + 2 < sizeof s->phases)
			strcat(strcat(s->phases, what), " ");
	} else {
		s->went_back += done < s->last_done;
	}
	s->last_done = done;
	s->last_total = total;
	if (!strcmp(what, "train") && done > s->train_max)
		s->train_max = done, s->train_total = total;
	return s->cancel_after == 0 || s->calls < s->cancel_after;
}

START_TEST(test_progress_on_the_calling_thread)
{
	churn_dataset *ds = synth(3000, 15);
	churn_params *p = params("logreg,gbm,forest");
	ck_assert_int_eq(churn_params_set_str(p, "train.cv", "2"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "train.refit", "true"), CHURN_OK);
	struct seen s = {.caller = pthread_self()};
	churn_params_set_progress(p, record_progress, &s);
	churn_training *t = train(ds, p);
	/* one figure for all models per phase, reaching its total; never from a model's thread */
	ck_assert_int_eq(s.other_thread, 0);
	ck_assert_int_eq(s.went_back, 0);
	ck_assert_str_eq(s.phases, "train cv refit ");
	ck_assert_uint_gt(s.train_total, 0);
	ck_assert_uint_eq(s.train_max, s.train_total);
	ck_assert_uint_eq(s.last_done, s.last_total);
	churn_training_free(t);

	/* cancelled part-way (not at once): CHURN_E_STATE, no training */
	memset(&s, 0, sizeof s);
	s.caller = pthread_self();
	s.cancel_after = 3;
	t = NULL;
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_STATE);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(s.other_thread, 0);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "cancel"));
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_telco)
{
	const char *csv = churn_test_telco_csv();
	if (!csv)
		return;
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	churn_training *t = NULL;
	ck_assert_int_eq(churn_train_file(csv, p, &t), CHURN_OK);
	size_t n = 0, ntr = 0;
	churn_training_get_rows(t, &n);
	churn_training_get_train_rows(t, &ntr);
	ck_assert_uint_eq(n, 7043);
	ck_assert_uint_eq(ntr, 4930);
	ck_assert_uint_eq(churn_prep_get_fit_row_count(churn_training_get_prep(t)), 4930);
	for (size_t k = 0; k < 2; k++)
		ck_assert(churn_training_get_metric(t, k, "roc_auc") >= 0.82);
	churn_training_free(t);
	churn_params_free(p);
}
END_TEST

/* train.refit: the same evaluation; artifacts fitted on all rows, as a direct fit on all rows would be. */
START_TEST(test_refit_fits_the_artifacts_on_all_rows)
{
	churn_dataset *ds = synth(1200, 11);
	churn_params *p = params("logreg,gbm");
	churn_training *a = train(ds, p);
	ck_assert_int_eq(churn_params_set_bool(p, "train.refit", true), CHURN_OK);
	churn_training *b = train(ds, p);
	ck_assert(!churn_training_is_refit(a) && churn_training_is_refit(b));
	for (size_t k = 0; k < 2; k++) {
		static const char *const keys[] = {"roc_auc", "f1", "threshold", "brier"};
		for (size_t q = 0; q < 4; q++)
			ck_assert(churn_training_get_metric(a, k, keys[q]) == churn_training_get_metric(b, k, keys[q]));
		const churn_model *m = churn_training_get_model(b, k);
		ck_assert_uint_eq(churn_model_get_training_row_count(m), 1200);
		ck_assert_uint_eq(churn_model_get_training_row_count(churn_training_get_model(a, k)), 840);
		/* the refitted model is the model of the same kind fitted on a prep of all rows */
		churn_prep *prep = NULL;
		churn_matrix *x = NULL;
		churn_model *direct = NULL;
		double pa[1200], pb[1200];
		size_t got = 0;
		ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply(prep, ds, &x), CHURN_OK);
		ck_assert_int_eq(churn_model_new(churn_model_get_kind(m), &direct), CHURN_OK);
		ck_assert_int_eq(churn_model_fit(direct, x, p), CHURN_OK);
		ck_assert_int_eq(churn_model_predict(direct, x, pa, 1200, &got), CHURN_OK);
		ck_assert_int_eq(churn_model_predict(m, x, pb, 1200, &got), CHURN_OK);
		ck_assert(memcmp(pa, pb, sizeof(pa)) == 0);
		churn_model_free(direct);
		churn_matrix_free(x);
		churn_prep_free(prep);
	}
	char *js = doc(b);
	cJSON *d = churn_test_json_parse(js);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "refit")));
	ck_assert(churn_test_json_num(d, "fitted_rows") == 1200 && churn_test_json_num(d, "train_rows") == 840);
	cJSON_Delete(d);
	churn_free(js);
	/* a test size of 0 is refused, naming the option that does what was meant */
	churn_training *c = NULL;
	ck_assert_int_eq(churn_params_set_double(p, "split.test_size", 0), CHURN_OK);
	ck_assert_int_eq(churn_train(ds, NULL, p, &c), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "train.refit"));
	ck_assert_ptr_null(c);
	churn_training_free(a);
	churn_training_free(b);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("train");
	TCase *tc = tcase_create("train");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_same_data_and_options_give_the_same_bytes);
	tcase_add_test(tc, test_each_model_is_independent_of_the_others);
	tcase_add_test(tc, test_nothing_is_learnt_from_the_test_rows);
	tcase_add_test(tc, test_thresholds_are_their_definitions);
	tcase_add_test(tc, test_cross_validation_is_its_definition);
	tcase_add_test(tc, test_scores_and_artifacts_agree);
	tcase_add_test(tc, test_metrics_document);
	tcase_add_test(tc, test_rows_without_a_target);
	tcase_add_test(tc, test_bad_options_fail_before_work);
	tcase_add_test(tc, test_train_file_is_train_on_its_rows);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_progress_on_the_calling_thread);
	tcase_add_test(tc, test_refit_fits_the_artifacts_on_all_rows);
	tcase_add_test(tc, test_telco);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
