/* Gradient boosting through the public model API: rules, XOR, determinism, SHAP, artifacts, errors, Telco. */
#include <churn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "test-common.h"

START_TEST(test_gbm_fit_threshold_rule_first_split_at_threshold)
{
	const size_t n = 400;
	double x[400 * 2];
	uint8_t y[400];
	churn_test_rng_seed(7);
	for (size_t i = 0; i < n; i++) {
		x[2 * i] = (double)(i % 100);
		x[2 * i + 1] = churn_test_urand();
		y[i] = x[2 * i] >= 50;
	}
	churn_matrix *m = churn_test_matrix(n, 2, x, y);
	churn_params *p = churn_test_params("gbm.n_trees", "20", "gbm.min_samples_leaf", "1", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	double prob[400];
	size_t np = 0;
	ck_assert_int_eq(churn_model_predict(model, m, prob, n, &np), CHURN_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg((prob[i] > 0.5) == (y[i] == 1), "row %zu p=%g", i, prob[i]);
	/* first split of the first tree: feature 0 between 49 and 50 */
	cJSON *doc = NULL;
	char *part = churn_test_model_part(model, "gbm", &doc);
	free(part);
	cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gbm"), "trees"), 0);
	ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "feature"), 0)->valuedouble, 0);
	double thr = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "threshold"), 0)->valuedouble;
	ck_assert(thr >= 49 && thr < 50);
	cJSON_Delete(doc);
	double imp[2];
	size_t ni = 0;
	ck_assert_int_eq(churn_model_get_importance(model, imp, 2, &ni), CHURN_OK);
	ck_assert_double_eq_tol(imp[0] + imp[1], 1, 1e-12);
	ck_assert(imp[0] > 0.9);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_fit_xor_learned_at_depth2)
{
	/* XOR of two binary features, quadrants of unequal size (so the first split has gain) */
	const size_t sizes[4] = {60, 40, 50, 70};
	size_t n = 220;
	double *x = malloc(n * 3 * sizeof(double));
	uint8_t *y = malloc(n);
	size_t i = 0;
	churn_test_rng_seed(11);
	for (int q = 0; q < 4; q++)
		for (size_t k = 0; k < sizes[q]; k++, i++) {
			x[3 * i] = q & 1;
			x[3 * i + 1] = (q >> 1) & 1;
			x[3 * i + 2] = churn_test_urand();
			y[i] = (uint8_t)((q & 1) ^ ((q >> 1) & 1));
		}
	churn_matrix *m = churn_test_matrix(n, 3, x, y);
	churn_params *p = churn_test_params("gbm.max_depth", "2", "gbm.min_samples_leaf", "5",
	                                    "gbm.learning_rate", "0.5", "gbm.n_trees", "30", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	double *prob = churn_test_predict(model, m);
	for (i = 0; i < n; i++)
		ck_assert_msg((prob[i] > 0.5) == (y[i] == 1), "row %zu p=%g", i, prob[i]);
	double imp[3];
	size_t ni;
	ck_assert_int_eq(churn_model_get_importance(model, imp, 3, &ni), CHURN_OK);
	ck_assert(imp[2] < 0.05);
	free(prob);
	free(x);
	free(y);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_fit_threads_identical)
{
	churn_matrix *m = churn_test_mixed_matrix(60000, 3, false); /* the root histogram is built on several threads */
	char *parts[3];
	const char *threads[3] = {"1", "2", "3"};
	for (int k = 0; k < 3; k++) {
		churn_params *p = churn_test_params("gbm.n_threads", threads[k], "gbm.n_trees", "30",
		                                    "gbm.subsample", "0.8", "gbm.max_depth", "4", NULL);
		churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
		parts[k] = churn_test_model_part(model, "gbm", NULL);
		churn_model_free(model);
		churn_params_free(p);
	}
	ck_assert_str_eq(parts[0], parts[1]);
	ck_assert_str_eq(parts[0], parts[2]);
	for (int k = 0; k < 3; k++)
		free(parts[k]);
	/* a different seed gives a different model (subsampling) */
	churn_params *p = churn_test_params("gbm.n_trees", "30", "gbm.subsample", "0.8", "gbm.max_depth", "4",
	                                    "gbm.seed", "99", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	char *other = churn_test_model_part(model, "gbm", NULL);
	churn_model *model1 = NULL;
	ck_assert_int_eq(churn_params_set_int(p, "gbm.seed", 42), CHURN_OK);
	model1 = churn_test_fit(CHURN_MODEL_GBM, m, p);
	char *same = churn_test_model_part(model1, "gbm", NULL);
	ck_assert_str_ne(other, same);
	free(other);
	free(same);
	churn_model_free(model);
	churn_model_free(model1);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_fit_early_stopping_keeps_few_trees_on_noise)
{
	churn_matrix *m = churn_test_mixed_matrix(4000, 5, true);
	churn_params *p = churn_test_params("gbm.n_trees", "300", "gbm.early_stopping", "true",
	                                    "gbm.validation_fraction", "0.2", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	size_t it = churn_model_get_iterations(model);
	ck_assert_msg(it < 40, "early stopping kept %zu trees", it);
	churn_model_free(model);
	/* on signal it keeps more trees */
	churn_matrix *s = churn_test_mixed_matrix(4000, 5, false);
	model = churn_test_fit(CHURN_MODEL_GBM, s, p);
	ck_assert_uint_gt(churn_model_get_iterations(model), it);
	churn_model_free(model);
	churn_matrix_free(s);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_fit_best_first_stops_at_max_leaves)
{
	churn_matrix *m = churn_test_mixed_matrix(3000, 8, false);
	churn_params *p = churn_test_params("gbm.max_depth", "0", "gbm.max_leaves", "5", "gbm.n_trees", "10", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	cJSON *doc = NULL;
	free(churn_test_model_part(model, "gbm", &doc));
	cJSON *trees = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gbm"), "trees"), *t;
	bool deep = false;
	cJSON_ArrayForEach(t, trees) {
		int nodes = cJSON_GetArraySize(cJSON_GetObjectItem(t, "feature"));
		ck_assert_int_le(nodes, 9); /* 5 leaves */
		deep = deep || nodes == 9;
	}
	ck_assert(deep);
	cJSON_Delete(doc);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

/* Path-dependent conditional expectation of one tree given the features in mask (TreeSHAP's v(S)). */
static double tree_expect(cJSON *t, int node, const double *x, unsigned mask)
{
	int f = (int)cJSON_GetArrayItem(cJSON_GetObjectItem(t, "feature"), node)->valuedouble;
	if (f < 0)
		return cJSON_GetArrayItem(cJSON_GetObjectItem(t, "value"), node)->valuedouble;
	int l = (int)cJSON_GetArrayItem(cJSON_GetObjectItem(t, "left"), node)->valuedouble;
	int r = (int)cJSON_GetArrayItem(cJSON_GetObjectItem(t, "right"), node)->valuedouble;
	if (mask & (1u << f)) {
		double thr = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "threshold"), node)->valuedouble;
		return tree_expect(t, x[f] <= thr ? l : r, x, mask);
	}
	cJSON *cover = cJSON_GetObjectItem(t, "cover");
	double cl = cJSON_GetArrayItem(cover, l)->valuedouble, cr = cJSON_GetArrayItem(cover, r)->valuedouble;
	return (cl * tree_expect(t, l, x, mask) + cr * tree_expect(t, r, x, mask)) / (cl + cr);
}

START_TEST(test_gbm_explain_treeshap_exact)
{
	/* 4 features: brute-force Shapley values over all subsets must equal the contributions */
	const size_t n = 2000, nf = 4;
	double *x = malloc(n * nf * sizeof(double));
	uint8_t *y = malloc(n);
	churn_test_rng_seed(5);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nf; j++)
			x[i * nf + j] = floor(churn_test_urand() * 10);
		double z = 0.3 * x[i * nf] - 0.2 * x[i * nf + 1] + (x[i * nf + 2] > 5 && x[i * nf + 3] < 3 ? 2 : 0) - 1;
		y[i] = churn_test_urand() < 1 / (1 + exp(-z));
	}
	churn_matrix *m = churn_test_matrix(n, nf, x, y);
	churn_params *p = churn_test_params("gbm.n_trees", "15", "gbm.max_depth", "4", NULL);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, p);
	cJSON *doc = NULL;
	free(churn_test_model_part(model, "gbm", &doc));
	cJSON *gbm = cJSON_GetObjectItem(doc, "gbm");
	double init = cJSON_GetObjectItem(gbm, "init")->valuedouble;
	cJSON *trees = cJSON_GetObjectItem(gbm, "trees");
	double fact[5] = {1, 1, 2, 6, 24};
	for (size_t i = 0; i < 20; i++) {
		const double *row = churn_matrix_get_row(m, i);
		double c[5], pr;
		ck_assert_int_eq(churn_model_explain(model, row, nf, c, 5), CHURN_OK);
		ck_assert_int_eq(churn_model_predict_row(model, row, nf, &pr), CHURN_OK);
		double sum = 0;
		for (size_t j = 0; j <= nf; j++)
			sum += c[j];
		ck_assert_double_eq_tol(sum, log(pr / (1 - pr)), 1e-9);
		/* brute force */
		double phi[4] = {0}, bias = init;
		cJSON *t;
		cJSON_ArrayForEach(t, trees) {
			bias += tree_expect(t, 0, row, 0);
			for (unsigned j = 0; j < nf; j++)
				for (unsigned s = 0; s < 16; s++) {
					if (s & (1u << j))
						continue;
					int k = __builtin_popcount(s);
					double w = fact[k] * fact[nf - k - 1] / fact[nf];
					phi[j] += w * (tree_expect(t, 0, row, s | (1u << j)) - tree_expect(t, 0, row, s));
				}
		}
		for (size_t j = 0; j < nf; j++)
			ck_assert_double_eq_tol(c[j], phi[j], 1e-9);
		ck_assert_double_eq_tol(c[nf], bias, 1e-9);
	}
	cJSON_Delete(doc);
	free(x);
	free(y);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_io_roundtrip_bit_identical)
{
	churn_matrix *m = churn_test_mixed_matrix(5000, 9, false);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, NULL);
	char *buf = NULL;
	size_t bn = 0;
	ck_assert_int_eq(churn_model_to_buffer(model, &buf, &bn), CHURN_OK);
	churn_model *loaded = NULL;
	ck_assert_int_eq(churn_model_from_buffer(buf, bn, &loaded), CHURN_OK);
	size_t n = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m);
	double *a = churn_test_predict(model, m), *b = churn_test_predict(loaded, m);
	ck_assert_int_eq(memcmp(a, b, n * sizeof(double)), 0);
	/* the batch walk (8 rows at a time, blocks of 256) gives each row's own bits */
	for (size_t i = 0; i < n; i++) {
		double one;
		ck_assert_int_eq(churn_model_predict_row(model, churn_matrix_get_row(m, i), nf, &one), CHURN_OK);
		ck_assert_msg(one == a[i], "row %zu: batch %.17g, alone %.17g", i, a[i], one);
	}
	double ca[16], cb[16];
	ck_assert_int_eq(churn_model_explain(model, churn_matrix_get_row(m, 3), nf, ca, 16), CHURN_OK);
	ck_assert_int_eq(churn_model_explain(loaded, churn_matrix_get_row(m, 3), nf, cb, 16), CHURN_OK);
	ck_assert_int_eq(memcmp(ca, cb, (nf + 1) * sizeof(double)), 0);
	/* saved again: the same text */
	char *buf2 = NULL;
	size_t bn2 = 0;
	ck_assert_int_eq(churn_model_to_buffer(loaded, &buf2, &bn2), CHURN_OK);
	cJSON *d1 = cJSON_Parse(buf), *d2 = cJSON_Parse(buf2);
	char *p1 = cJSON_PrintUnformatted(cJSON_GetObjectItem(d1, "gbm"));
	char *p2 = cJSON_PrintUnformatted(cJSON_GetObjectItem(d2, "gbm"));
	ck_assert_str_eq(p1, p2);
	free(p1);
	free(p2);
	cJSON_Delete(d1);
	cJSON_Delete(d2);
	churn_free(buf);
	churn_free(buf2);
	free(a);
	free(b);
	churn_model_free(model);
	churn_model_free(loaded);
	churn_matrix_free(m);
}
END_TEST

/* Load an artifact whose first tree was edited by edit(); expect CHURN_E_FORMAT. */
static void expect_corrupt(const char *good, void (*edit)(cJSON *tree, cJSON *part), const char *what)
{
	cJSON *doc = cJSON_Parse(good);
	cJSON *part = cJSON_GetObjectItem(doc, "gbm");
	cJSON *tree = cJSON_GetArrayItem(cJSON_GetObjectItem(part, "trees"), 0);
	edit(tree, part);
	char *txt = cJSON_PrintUnformatted(doc);
	churn_model *m = NULL;
	churn_status st = churn_model_from_buffer(txt, strlen(txt), &m);
	ck_assert_msg(st == CHURN_E_FORMAT, "%s: status %d", what, st);
	ck_assert_ptr_null(m);
	ck_assert_str_ne(churn_last_error(), "");
	free(txt);
	cJSON_Delete(doc);
}

static void set_num(cJSON *tree, const char *key, int idx, double v)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(tree, key), idx, cJSON_CreateNumber(v));
}
static void ed_left_range(cJSON *t, cJSON *p) { (void)p; set_num(t, "left", 0, 1000); }
static void ed_cycle(cJSON *t, cJSON *p) { (void)p; set_num(t, "left", 0, 0); }
static void ed_back(cJSON *t, cJSON *p) { (void)p; set_num(t, "right", 1, 0); set_num(t, "feature", 1, 0); }
static void ed_shared_child(cJSON *t, cJSON *p) { (void)p; set_num(t, "right", 0, cJSON_GetArrayItem(cJSON_GetObjectItem(t, "left"), 0)->valuedouble); }
static void ed_feature(cJSON *t, cJSON *p) { (void)p; set_num(t, "feature", 0, 15); }
static void ed_feature_frac(cJSON *t, cJSON *p) { (void)p; set_num(t, "feature", 0, 0.5); }
static void ed_len(cJSON *t, cJSON *p) { (void)p; cJSON_DeleteItemFromArray(cJSON_GetObjectItem(t, "value"), 0); }
static void ed_missing(cJSON *t, cJSON *p) { (void)p; cJSON_DeleteItemFromObject(t, "cover"); }
static void ed_string(cJSON *t, cJSON *p) { (void)p; cJSON_ReplaceItemInArray(cJSON_GetObjectItem(t, "threshold"), 0, cJSON_CreateString("x")); }
static void ed_cover(cJSON *t, cJSON *p) { (void)p; set_num(t, "cover", 0, 0); }
static void ed_empty(cJSON *t, cJSON *p) { (void)p; const char *k[] = {"feature", "left", "right", "threshold", "value", "cover", "gain"}; for (int i = 0; i < 7; i++) cJSON_ReplaceItemInObject(t, k[i], cJSON_CreateArray()); }
static void ed_trees(cJSON *t, cJSON *p) { (void)t; cJSON_ReplaceItemInObject(p, "trees", cJSON_CreateString("no")); }
static void ed_init(cJSON *t, cJSON *p) { (void)t; cJSON_DeleteItemFromObject(p, "init"); }
static void ed_tree_type(cJSON *t, cJSON *p) { (void)t; cJSON_ReplaceItemInArray(cJSON_GetObjectItem(p, "trees"), 0, cJSON_CreateNumber(1)); }

START_TEST(test_gbm_io_corrupt_trees_refused_as_format_errors)
{
	churn_matrix *m = churn_test_mixed_matrix(2000, 4, false);
	churn_model *model = churn_test_fit(CHURN_MODEL_GBM, m, NULL);
	char *buf = NULL;
	size_t bn;
	ck_assert_int_eq(churn_model_to_buffer(model, &buf, &bn), CHURN_OK);
	expect_corrupt(buf, ed_left_range, "child out of range");
	expect_corrupt(buf, ed_cycle, "cycle to root");
	expect_corrupt(buf, ed_back, "back edge");
	expect_corrupt(buf, ed_shared_child, "shared child");
	expect_corrupt(buf, ed_feature, "feature >= nfeatures");
	expect_corrupt(buf, ed_feature_frac, "fractional feature");
	expect_corrupt(buf, ed_len, "array lengths differ");
	expect_corrupt(buf, ed_missing, "missing array");
	expect_corrupt(buf, ed_string, "string threshold");
	expect_corrupt(buf, ed_cover, "zero cover");
	expect_corrupt(buf, ed_empty, "empty tree");
	expect_corrupt(buf, ed_trees, "trees not an array");
	expect_corrupt(buf, ed_init, "init missing");
	expect_corrupt(buf, ed_tree_type, "tree not an object");
	churn_free(buf);
	churn_model_free(model);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_gbm_bad_params_or_data_refused)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "gbm.n_trees", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "gbm.learning_rate", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "gbm.learning_rate", 1.5), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "gbm.max_depth", -1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "gbm.max_bins", 256), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "gbm.subsample", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "gbm.l2", -1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "gbm.min_samples_leaf", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "gbm.early_stopping", "maybe"), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");

	churn_matrix *m = churn_test_mixed_matrix(500, 1, false);
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new(CHURN_MODEL_GBM, &model), CHURN_OK);
	/* unlimited depth and leaves */
	ck_assert_int_eq(churn_params_set_int(p, "gbm.max_depth", 0), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_params_set_int(p, "gbm.max_leaves", 1), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_E_INVALID_ARG);
	ck_assert(!churn_model_is_fitted(model));

	/* no labels */
	churn_matrix *nolab = NULL;
	ck_assert_int_eq(churn_matrix_new(10, 2, &nolab), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, nolab, NULL), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	/* NaN in X */
	size_t n = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m);
	churn_matrix *bad = churn_test_matrix(n, nf, churn_matrix_get_data_const(m), churn_matrix_get_labels(m));
	churn_matrix_get_data(bad)[17] = NAN;
	ck_assert_int_eq(churn_model_fit(model, bad, NULL), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	/* predict before fit */
	double pr[1];
	size_t np;
	ck_assert_int_eq(churn_model_predict(model, m, pr, 1, &np), CHURN_E_STATE);
	/* fitted: NaN at predict, wrong width */
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_OK);
	double *out = malloc(n * sizeof(double));
	ck_assert_int_eq(churn_model_predict(model, bad, out, n, &np), CHURN_E_NUMERIC);
	ck_assert_int_eq(churn_model_predict(model, nolab, out, n, &np), CHURN_E_INVALID_ARG);
	free(out);
	churn_matrix_free(bad);
	churn_matrix_free(nolab);
	churn_matrix_free(m);
	churn_model_free(model);
	churn_params_free(p);
}
END_TEST

/* Telco: 5-fold stratified CV ROC AUC (scikit-learn GradientBoostingClassifier 0.847, XGBoost 0.846). */
START_TEST(test_gbm_telco_cv_auc_reaches_reference)
{
	double auc = churn_test_telco_cv_auc(CHURN_MODEL_GBM, NULL, NULL);
	if (!isnan(auc))
		ck_assert_double_ge(auc, 0.840);
}
END_TEST

static Suite *gbm_suite(void)
{
	Suite *s = suite_create("model-gbm");
	TCase *tc = tcase_create("fit");
	tcase_add_test(tc, test_gbm_fit_threshold_rule_first_split_at_threshold);
	tcase_add_test(tc, test_gbm_fit_xor_learned_at_depth2);
	tcase_add_test(tc, test_gbm_fit_threads_identical);
	tcase_add_test(tc, test_gbm_fit_early_stopping_keeps_few_trees_on_noise);
	tcase_add_test(tc, test_gbm_fit_best_first_stops_at_max_leaves);
	tcase_add_test(tc, test_gbm_explain_treeshap_exact);
	suite_add_tcase(s, tc);
	TCase *ti = tcase_create("io");
	tcase_add_test(ti, test_gbm_io_roundtrip_bit_identical);
	tcase_add_test(ti, test_gbm_io_corrupt_trees_refused_as_format_errors);
	suite_add_tcase(s, ti);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_gbm_bad_params_or_data_refused);
	suite_add_tcase(s, te);
	TCase *tq = tcase_create("quality");
	tcase_set_timeout(tq, 300);
	tcase_add_test(tq, test_gbm_telco_cv_auc_reaches_reference);
	suite_add_tcase(s, tq);
	return s;
}

int main(void)
{
	return churn_test_run(gbm_suite());
}
