/* Random forest: rules, XOR, determinism, contributions, importance (impurity, permutation), artifacts, errors, Telco.
 * White-box: links the internal library for ch_model_permutation_importance(). */
#include <churn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "test-common.h"
#include "rng-private.h"
#include "model-private.h"
#include "tree-private.h"

static churn_params *small_params(int64_t trees)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "forest.n_trees", trees), CHURN_OK);
	return p;
}

START_TEST(test_rf_fit_threshold_rule_predicted_exactly)
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
	churn_params *p = small_params(20);
	ck_assert_int_eq(churn_params_set_double(p, "forest.max_features", 1), CHURN_OK);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
	double prob[400];
	size_t np = 0;
	ck_assert_int_eq(churn_model_predict(model, m, prob, n, &np), CHURN_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(prob[i] == (y[i] ? 1.0 : 0.0), "row %zu p=%g", i, prob[i]);
	double imp[2];
	size_t ni;
	ck_assert_int_eq(churn_model_get_importance(model, imp, 2, &ni), CHURN_OK);
	ck_assert_double_eq_tol(imp[0] + imp[1], 1, 1e-12);
	ck_assert(imp[0] > 0.99);
	ck_assert(!churn_model_score_is_logit(model));
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_rf_fit_xor_learned_at_depth2)
{
	const size_t sizes[4] = {60, 40, 50, 70};
	size_t n = 220, i = 0;
	double *x = malloc(n * 2 * sizeof(double));
	uint8_t *y = malloc(n);
	for (int q = 0; q < 4; q++)
		for (size_t k = 0; k < sizes[q]; k++, i++) {
			x[2 * i] = q & 1;
			x[2 * i + 1] = (q >> 1) & 1;
			y[i] = (uint8_t)((q & 1) ^ ((q >> 1) & 1));
		}
	churn_matrix *m = churn_test_matrix(n, 2, x, y);
	churn_params *p = small_params(50);
	ck_assert_int_eq(churn_params_set_int(p, "forest.max_depth", 2), CHURN_OK);
	ck_assert_int_eq(churn_params_set_double(p, "forest.max_features", 1), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "forest.bootstrap", false), CHURN_OK);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
	double *prob = churn_test_predict(model, m);
	for (i = 0; i < n; i++)
		ck_assert_msg(prob[i] == (y[i] ? 1.0 : 0.0), "row %zu p=%g", i, prob[i]);
	free(prob);
	free(x);
	free(y);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_rf_fit_threads_identical)
{
	churn_matrix *m = churn_test_mixed_matrix(3000, 3, false);
	char *parts[3];
	const int threads[3] = {1, 2, 3};
	for (int k = 0; k < 3; k++) {
		churn_params *p = small_params(12);
		ck_assert_int_eq(churn_params_set_int(p, "forest.n_threads", threads[k]), CHURN_OK);
		churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
		parts[k] = churn_test_model_part(model, "forest", NULL);
		churn_model_free(model);
		churn_params_free(p);
	}
	ck_assert_str_eq(parts[0], parts[1]);
	ck_assert_str_eq(parts[0], parts[2]);
	churn_params *p = small_params(12);
	ck_assert_int_eq(churn_params_set_int(p, "forest.seed", 7), CHURN_OK);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
	char *other = churn_test_model_part(model, "forest", NULL);
	ck_assert_str_ne(parts[0], other);
	free(other);
	for (int k = 0; k < 3; k++)
		free(parts[k]);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_rf_explain_sums_to_probability)
{
	churn_matrix *m = churn_test_mixed_matrix(2000, 4, false);
	churn_params *p = small_params(30);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
	size_t nf = churn_matrix_get_column_count(m);
	for (size_t i = 0; i < 50; i++) {
		const double *row = churn_matrix_get_row(m, i);
		double c[16], pr, sum = 0;
		ck_assert_int_eq(churn_model_explain(model, row, nf, c, 16), CHURN_OK);
		ck_assert_int_eq(churn_model_predict_row(model, row, nf, &pr), CHURN_OK);
		for (size_t j = 0; j <= nf; j++)
			sum += c[j];
		ck_assert_double_eq_tol(sum, pr, 1e-9);
	}
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

/* The definition, by the public API: shuffle group g with stream (seed, 0x9e77 << 32 | g), predict, AUC drop. */
static void reference_importance(const churn_model *model, const churn_matrix *m, const size_t *group, size_t ng,
                                 uint64_t seed, size_t repeats, double *out)
{
	size_t n = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m), got;
	const uint8_t *y = churn_matrix_get_labels(m);
	const double *src = churn_matrix_get_data_const(m);
	churn_matrix *w = churn_test_matrix(n, nf, src, y);
	double *d = churn_matrix_get_data(w), *pred = malloc(n * sizeof(double)), base;
	size_t *perm = malloc(n * sizeof(size_t));
	ck_assert_int_eq(churn_model_predict(model, m, pred, n, &got), CHURN_OK);
	ck_assert_int_eq(ch_roc_auc(pred, y, n, &base), CHURN_OK);
	for (size_t g = 0; g < ng; g++) {
		ch_rng rng;
		ch_rng_seed(&rng, seed, ((uint64_t)0x9e77 << 32) + g);
		double drop = 0;
		for (size_t r = 0; r < repeats; r++) {
			for (size_t i = 0; i < n; i++)
				perm[i] = i;
			for (size_t i = n; i > 1; i--) {
				size_t k = (size_t)ch_rng_below(&rng, i), t = perm[i - 1];
				perm[i - 1] = perm[k];
				perm[k] = t;
			}
			memcpy(d, src, n * nf * sizeof(double));
			for (size_t j = 0; j < nf; j++)
				if (group[j] == g)
					for (size_t i = 0; i < n; i++)
						d[i * nf + j] = src[perm[i] * nf + j];
			double auc;
			ck_assert_int_eq(churn_model_predict(model, w, pred, n, &got), CHURN_OK);
			ck_assert_int_eq(ch_roc_auc(pred, y, n, &auc), CHURN_OK);
			drop += base - auc;
		}
		out[g] = drop / (double)repeats;
	}
	free(perm);
	free(pred);
	churn_matrix_free(w);
}

START_TEST(test_roc_auc_by_ranks_agrees_with_public_sweep)
{
	/* ch_roc_auc (ranks, radix-sorted scores) agrees with the public sweep, ties included */
	const size_t n = 3001;
	double *p = malloc(n * sizeof(double));
	uint8_t *y = malloc(n);
	churn_test_rng_seed(99);
	for (size_t i = 0; i < n; i++) {
		p[i] = floor(churn_test_urand() * 40) / 40; /* many ties */
		y[i] = churn_test_urand() < 0.2 + 0.6 * p[i];
	}
	double a, b;
	ck_assert_int_eq(ch_roc_auc(p, y, n, &a), CHURN_OK);
	ck_assert_int_eq(churn_metrics_roc_auc(y, p, n, &b), CHURN_OK);
	ck_assert_double_eq_tol(a, b, 1e-12);
	ck_assert(a > 0.6 && a < 0.9);
	for (size_t i = 0; i < n; i++)
		y[i] = 1;
	ck_assert_int_eq(ch_roc_auc(p, y, n, &a), CHURN_OK);
	ck_assert(a == 0.5); /* one class: no ranking */
	free(p);
	free(y);
}
END_TEST

START_TEST(test_permutation_fast_path_is_the_definition)
{
	/* tree ensembles skip the walks a shuffle cannot change: same bits as predicting everything */
	churn_matrix *train = churn_test_mixed_matrix(1500, 3, false), *hold = churn_test_mixed_matrix(701, 4, false);
	size_t group[15] = {0, 1, 2, 3, 4, 5, 5, 5, 6, 6, 7, 8, 9, 9, 9}, ng = 10;
	churn_params *p = small_params(30);
	ck_assert_int_eq(churn_params_set_int(p, "forest.max_depth", 9), CHURN_OK);
	/* forest and gbm take the ensemble road (byte codes, recorded paths); logreg the generic one */
	static const churn_model_kind kinds[] = {CHURN_MODEL_FOREST, CHURN_MODEL_GBM, CHURN_MODEL_LOGREG};
	for (int kind = 0; kind < 3; kind++) {
		churn_model *model = NULL;
		ck_assert_int_eq(churn_model_new(kinds[kind], &model), CHURN_OK);
		ck_assert_int_eq(churn_model_fit(model, train, p), CHURN_OK);
		double got[10], want[10];
		ck_assert_int_eq(ch_model_permutation_importance(model, hold, group, ng, 7, 3, got, 10), CHURN_OK);
		reference_importance(model, hold, group, ng, 7, 3, want);
		for (size_t g = 0; g < ng; g++)
			ck_assert_msg(got[g] == want[g], "kind %d group %zu: %.17g != %.17g", kind, g, got[g], want[g]);
		ck_assert(got[0] > 0.01); /* tenure-like x0 carries signal */
		churn_model_free(model);
	}
	churn_params_free(p);
	churn_matrix_free(train);
	churn_matrix_free(hold);
}
END_TEST

START_TEST(test_rf_permutation_importance_ranks_signal_over_noise)
{
	/* y depends on x0 and x1 only; x2, x3 are noise */
	const size_t n = 3000, nf = 4;
	double *x = malloc(n * nf * sizeof(double));
	uint8_t *y = malloc(n);
	churn_test_rng_seed(21);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nf; j++)
			x[i * nf + j] = churn_test_urand();
		double z = 6 * (x[i * nf] - 0.5) + 3 * (x[i * nf + 1] - 0.5);
		y[i] = churn_test_urand() < 1 / (1 + exp(-z));
	}
	churn_matrix *train = churn_test_matrix(n / 2, nf, x, y);
	churn_matrix *m = churn_test_matrix(n / 2, nf, x + n / 2 * nf, y + n / 2); /* held out */
	churn_params *p = small_params(40);
	ck_assert_int_eq(churn_params_set_int(p, "forest.min_samples_leaf", 10), CHURN_OK);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, train, p);
	churn_matrix_free(train);
	double imp[4], imp2[4];
	ck_assert_int_eq(ch_model_permutation_importance(model, m, NULL, 0, 1, 2, imp, 4), CHURN_OK);
	ck_assert(imp[0] > imp[1] && imp[1] > imp[2] && imp[1] > imp[3]);
	ck_assert(imp[0] > 0.1);
	ck_assert(fabs(imp[2]) < 0.02 && fabs(imp[3]) < 0.02);
	ck_assert_int_eq(ch_model_permutation_importance(model, m, NULL, 0, 1, 2, imp2, 4), CHURN_OK);
	ck_assert_int_eq(memcmp(imp, imp2, sizeof imp), 0);
	/* groups: the two signal features shuffled together cost more than either alone */
	size_t grp[4] = {0, 0, 1, 2}, bad[4] = {0, 0, 5, 1};
	double gi[3];
	ck_assert_int_eq(ch_model_permutation_importance(model, m, grp, 3, 1, 2, gi, 3), CHURN_OK);
	ck_assert(gi[0] > imp[0] && gi[0] > imp[1]);
	ck_assert(fabs(gi[1]) < 0.02 && fabs(gi[2]) < 0.02);
	ck_assert_int_eq(ch_model_permutation_importance(model, m, bad, 3, 1, 1, gi, 3), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(ch_model_permutation_importance(model, m, grp, 3, 1, 1, gi, 2), CHURN_E_INVALID_ARG);
	/* rows that do not suit the model: wrong width, a value that is not finite */
	churn_matrix *narrow = churn_test_matrix(n / 2, nf - 1, x, y);
	ck_assert_int_eq(ch_model_permutation_importance(model, narrow, NULL, 0, 1, 1, imp2, 4), CHURN_E_INVALID_ARG);
	churn_matrix_free(narrow);
	churn_matrix_get_data(m)[5 * nf + 2] = NAN;
	ck_assert_int_eq(ch_model_permutation_importance(model, m, NULL, 0, 1, 1, imp2, 4), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 5, column 2"));
	/* impurity importance agrees on the ranking of the signal */
	size_t ni;
	ck_assert_int_eq(churn_model_get_importance(model, imp2, 4, &ni), CHURN_OK);
	ck_assert(imp2[0] > imp2[1] && imp2[1] > imp2[2]);
	ck_assert_double_eq_tol(imp2[0] + imp2[1] + imp2[2] + imp2[3], 1, 1e-12);
	/* errors */
	ck_assert_int_eq(ch_model_permutation_importance(model, m, NULL, 0, 1, 1, imp, 3), CHURN_E_INVALID_ARG);
	churn_matrix *nolab = NULL;
	ck_assert_int_eq(churn_matrix_new(5, 4, &nolab), CHURN_OK);
	ck_assert_int_eq(ch_model_permutation_importance(model, nolab, NULL, 0, 1, 1, imp, 4), CHURN_E_INVALID_ARG);
	churn_matrix_free(nolab);
	free(x);
	free(y);
	churn_model_free(model);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_rf_io_roundtrip_identical_corrupt_refused)
{
	churn_matrix *m = churn_test_mixed_matrix(1500, 9, false);
	churn_params *p = small_params(10);
	churn_model *model = churn_test_fit(CHURN_MODEL_FOREST, m, p);
	char *buf = NULL;
	size_t bn = 0;
	ck_assert_int_eq(churn_model_to_buffer(model, &buf, &bn), CHURN_OK);
	churn_model *loaded = NULL;
	ck_assert_int_eq(churn_model_from_buffer(buf, bn, &loaded), CHURN_OK);
	size_t n = churn_matrix_get_row_count(m);
	double *a = churn_test_predict(model, m), *b = churn_test_predict(loaded, m);
	ck_assert_int_eq(memcmp(a, b, n * sizeof(double)), 0);
	/* corrupt: child index out of range, cycle, bad feature, no trees */
	const char *edits[][3] = {{"left", "0", "999999"}, {"left", "0", "0"}, {"feature", "0", "15"},
	                          {"right", "0", "-1"}, {"feature", "0", "-2"}};
	for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
		cJSON *doc = cJSON_Parse(buf);
		cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "forest"), "trees"), 0);
		cJSON_ReplaceItemInArray(cJSON_GetObjectItem(t, edits[e][0]), atoi(edits[e][1]),
		                         cJSON_CreateNumber(atof(edits[e][2])));
		char *txt = cJSON_PrintUnformatted(doc);
		churn_model *bad = NULL;
		ck_assert_int_eq(churn_model_from_buffer(txt, strlen(txt), &bad), CHURN_E_FORMAT);
		ck_assert_ptr_null(bad);
		ck_assert_str_ne(churn_last_error(), "");
		free(txt);
		cJSON_Delete(doc);
	}
	cJSON *doc = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(doc, "forest"), "trees", cJSON_CreateArray());
	char *txt = cJSON_PrintUnformatted(doc);
	churn_model *bad = NULL;
	ck_assert_int_eq(churn_model_from_buffer(txt, strlen(txt), &bad), CHURN_E_FORMAT);
	free(txt);
	cJSON_Delete(doc);
	churn_free(buf);
	free(a);
	free(b);
	churn_model_free(model);
	churn_model_free(loaded);
	churn_params_free(p);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_rf_bad_params_or_data_refused)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "forest.n_trees", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "forest.max_features", 1.5), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "forest.max_depth", -1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "forest.min_samples_leaf", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "forest.bootstrap", "perhaps"), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new(CHURN_MODEL_FOREST, &model), CHURN_OK);
	churn_matrix *nolab = NULL;
	ck_assert_int_eq(churn_matrix_new(10, 2, &nolab), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, nolab, p), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	churn_matrix *m = churn_test_mixed_matrix(300, 2, false);
	churn_matrix_get_data(m)[5] = INFINITY;
	ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert(!churn_model_is_fitted(model));
	churn_matrix_free(m);
	churn_matrix_free(nolab);
	churn_model_free(model);
	churn_params_free(p);
}
END_TEST

START_TEST(test_rf_telco_cv_auc_reaches_reference)
{
	double auc = churn_test_telco_cv_auc(CHURN_MODEL_FOREST, NULL, NULL);
	if (!isnan(auc))
		ck_assert_double_ge(auc, 0.82);
}
END_TEST


/* Grow node k of t into a random subtree of depth d (leaves early at random, off the leftmost path). */
static void grow_random(ch_tree *t, int32_t k, size_t d, bool leftmost, ch_rng *r, size_t nfeat)
{
	if (d == 0 || (!leftmost && ch_rng_below(r, 4) == 0)) {
		t->nodes[k].value = ch_rng_unit(r) - 0.5;
		return;
	}
	int32_t l = ch_tree_add(t), rt = ch_tree_add(t);
	ck_assert(l >= 0 && rt >= 0);
	t->nodes[k].feature = (int32_t)ch_rng_below(r, nfeat);
	t->nodes[k].threshold = (double)ch_rng_below(r, 5) - 2; /* on the grid of x: ties are common */
	t->nodes[k].left = l;
	t->nodes[k].right = rt;
	grow_random(t, l, d - 1, leftmost, r, nfeat);
	grow_random(t, rt, d - 1, false, r, nfeat);
}

/* The walk over the nodes as stored, without the prediction layouts. */
static double walk_nodes(const ch_tree *t, const double *x)
{
	const ch_node *nd = t->nodes;
	while (nd->feature >= 0)
		nd = t->nodes + (x[nd->feature] <= nd->threshold ? nd->left : nd->right);
	return nd->value;
}

START_TEST(test_tree_prediction_layouts_agree)
{
	/* Shallow trees get a complete layout, deeper ones the compact one; one row walks eight trees at once
	 * (trees 0-15 of depth 3, then mixed depths up to 9). */
	enum { NFEAT = 5, NTREES = 21, NROWS = 300 };
	ch_rng r;
	ch_rng_seed(&r, 7, 0);
	ch_tree trees[NTREES];
	double X[NROWS * NFEAT];
	for (size_t i = 0; i < NROWS * NFEAT; i++)
		X[i] = i % 37 == 0 ? NAN : (double)ch_rng_below(&r, 7) - 3;
	for (size_t t = 0; t < NTREES; t++) {
		memset(&trees[t], 0, sizeof(trees[t]));
		ck_assert_int_eq(ch_tree_add(&trees[t]), 0);
		grow_random(&trees[t], 0, t < 16 ? 3 : (t % 3 == 2 ? 9 : 1 + t % 6), true, &r, NFEAT);
		ch_tree_finalize(&trees[t]);
		ck_assert(trees[t].cn);
		ck_assert(trees[t].depth > CH_FULL_MAX_DEPTH || trees[t].depth == 0 || trees[t].full);
	}
	double acc[NROWS] = {0}, ref[NROWS] = {0};
	for (size_t t = 0; t < NTREES; t++) {
		ch_tree_predict_add(&trees[t], X, NFEAT, NROWS, acc);
		for (size_t i = 0; i < NROWS; i++) {
			double v = walk_nodes(&trees[t], X + i * NFEAT);
			ck_assert(ch_tree_predict(&trees[t], X + i * NFEAT) == v);
			ref[i] += v;
		}
	}
	ch_ensemble e = {trees, NTREES, 0.25, false, NULL};
	double many[NROWS], one;
	ch_ensemble_predict(&e, X, NROWS, NFEAT, many);
	/* the trees by condition: only when every tree is complete (not the deep ones here) */
	ck_assert_ptr_null(ch_qs_build(trees, NTREES));
	ch_qs *qs = ch_qs_build(trees, 16);
	ck_assert_ptr_nonnull(qs);
	ch_ensemble e16 = {trees, 16, 0.25, false, qs};
	for (size_t i = 0; i < NROWS; i++) {
		ck_assert(acc[i] == ref[i]);
		double sum = 0.25, sum16 = 0;
		for (size_t t = 0; t < NTREES; t++) {
			sum += walk_nodes(&trees[t], X + i * NFEAT); /* the sum in tree order, bit for bit */
			if (t == 15)
				sum16 = sum;
		}
		ch_ensemble_predict(&e, X + i * NFEAT, 1, NFEAT, &one);
		ck_assert(one == ch_ensemble_prob(&e, sum));
		ck_assert(many[i] == one);
		ck_assert(ch_qs_row_sum(qs, 0.25, X + i * NFEAT) == sum16);
		ch_ensemble_predict(&e16, X + i * NFEAT, 1, NFEAT, &one);
		ck_assert(one == ch_ensemble_prob(&e16, sum16));
	}
	ch_qs_free(qs);
	/* complete trees of mixed depths (5, 1, 2, 3): shallow copies, read only */
	ch_tree mixed[4] = {trees[16], trees[18], trees[19], trees[0]};
	ck_assert_uint_eq(mixed[0].depth, 5);
	ck_assert_ptr_nonnull(qs = ch_qs_build(mixed, 4));
	for (size_t i = 0; i < NROWS; i++) {
		double sum = -1;
		for (size_t t = 0; t < 4; t++)
			sum += walk_nodes(&mixed[t], X + i * NFEAT);
		ck_assert(ch_qs_row_sum(qs, -1, X + i * NFEAT) == sum);
	}
	ch_qs_free(qs);
	for (size_t t = 0; t < NTREES; t++)
		ch_tree_free(&trees[t]);
}
END_TEST

/* n complete trees of the given depths (cycled), thresholds on x's grid or apart from each other. */
static ch_tree *grow_forest(size_t n, const size_t *depths, size_t ndepths, bool distinct, ch_rng *r, size_t nfeat)
{
	ch_tree *trees = calloc(n, sizeof(*trees));
	ck_assert_ptr_nonnull(trees);
	for (size_t t = 0; t < n; t++) {
		ck_assert_int_eq(ch_tree_add(&trees[t]), 0);
		grow_random(&trees[t], 0, depths[t % ndepths], true, r, nfeat);
		for (size_t k = 0; distinct && k < trees[t].n; k++)
			trees[t].nodes[k].threshold += ch_rng_unit(r) * 0.9;
		ch_tree_finalize(&trees[t]);
		ck_assert_ptr_nonnull(trees[t].full);
	}
	return trees;
}

/* The trees by condition against the walk, in tree order, bit for bit; false when ch_qs_build declined. */
static bool qs_matches_walk(const ch_tree *trees, size_t n, const double *X, size_t nrows, size_t nfeat)
{
	ch_qs *qs = ch_qs_build(trees, n);
	if (!qs)
		return false;
	for (size_t i = 0; i < nrows; i++) {
		double sum = 0.5;
		for (size_t t = 0; t < n; t++)
			sum += walk_nodes(&trees[t], X + i * nfeat);
		ck_assert(ch_qs_row_sum(qs, 0.5, X + i * nfeat) == sum);
	}
	ch_qs_free(qs);
	return true;
}

START_TEST(test_trees_by_condition_widths)
{
	/* one tree's mask in 1, 2, 4 and 8 bytes (the deepest tree's 2^depth leaves); thresholds tied or all
	 * distinct; x on the thresholds' grid, between it and NaN */
	enum { NFEAT = 6, NROWS = 400 };
	ch_rng r;
	ch_rng_seed(&r, 11, 0);
	double X[NROWS * NFEAT];
	for (size_t i = 0; i < NROWS * NFEAT; i++)
		X[i] = i % 29 == 0 ? NAN : ((double)ch_rng_below(&r, 9) - 4) * (i % 3 ? 1 : 0.7);
	static const size_t sets[][3] = {{3, 2, 1}, {4, 1, 2}, {5, 3, 5}, {6, 4, 2}, {6, 6, 6}};
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
		for (int distinct = 0; distinct < 2; distinct++) {
			ch_tree *trees = grow_forest(37, sets[s], 3, distinct, &r, NFEAT);
			ck_assert(qs_matches_walk(trees, 37, X, NROWS, NFEAT));
			for (size_t t = 0; t < 37; t++)
				ch_tree_free(&trees[t]);
			free(trees);
		}
	/* a table past its size limit (200 trees of depth 6, a row of 1600 bytes per distinct threshold, some
	 * 12,000 of them): declined, so the caller walks */
	static const size_t deep[] = {6};
	ch_tree *trees = grow_forest(200, deep, 1, true, &r, NFEAT);
	ck_assert(!qs_matches_walk(trees, 200, X, NROWS, NFEAT));
	ck_assert(qs_matches_walk(trees, 16, X, NROWS, NFEAT));
	for (size_t t = 0; t < 200; t++)
		ch_tree_free(&trees[t]);
	free(trees);
}
END_TEST

static Suite *rf_suite(void)
{
	Suite *s = suite_create("model-rf");
	TCase *tc = tcase_create("fit");
	tcase_add_test(tc, test_rf_fit_threshold_rule_predicted_exactly);
	tcase_add_test(tc, test_rf_fit_xor_learned_at_depth2);
	tcase_add_test(tc, test_rf_fit_threads_identical);
	tcase_add_test(tc, test_rf_explain_sums_to_probability);
	tcase_add_test(tc, test_rf_permutation_importance_ranks_signal_over_noise);
	tcase_add_test(tc, test_permutation_fast_path_is_the_definition);
	tcase_add_test(tc, test_roc_auc_by_ranks_agrees_with_public_sweep);
	tcase_add_test(tc, test_tree_prediction_layouts_agree);
	tcase_add_test(tc, test_trees_by_condition_widths);
	suite_add_tcase(s, tc);
	TCase *ti = tcase_create("io");
	tcase_add_test(ti, test_rf_io_roundtrip_identical_corrupt_refused);
	suite_add_tcase(s, ti);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_rf_bad_params_or_data_refused);
	suite_add_tcase(s, te);
	TCase *tq = tcase_create("quality");
	tcase_set_timeout(tq, 300);
	tcase_add_test(tq, test_rf_telco_cv_auc_reaches_reference);
	suite_add_tcase(s, tq);
	return s;
}

int main(void)
{
	return churn_test_run(rf_suite());
}
