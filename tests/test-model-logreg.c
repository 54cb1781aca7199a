/* Check suite of the logistic regression model (public API). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <churn.h>

#include "test-common.h"

/*
 * 60 rows x 3 features (the third a 0/1 dummy), produced with numpy:
 *   rng = np.random.RandomState(3); X = np.round(rng.randn(60, 3), 2)
 *   X[:, 2] = (rng.rand(60) < 0.4); z = 0.8 x0 - 1.2 x1 + 0.9 x2 - 0.7
 *   y = rng.rand(60) < sigmoid(z)
 * The reference coefficients are scikit-learn 1.2.1
 * LogisticRegression(C, class_weight, tol=1e-12, max_iter=100000) with the
 * lbfgs solver; lbfgs and newton-cg agree with each other to about 5e-6, so
 * the comparison tolerance is 2e-5 (our Newton fit is also checked to have a
 * zero gradient, which is the sharper test).
 */
#define NR 60
#define NC 3
static const uint8_t Y[NR] = {0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1,
                              1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0};
static const double X[NR * NC] = {
	1.79,  0.44,  0.0, -1.86, -0.28, 0.0, -0.08, -0.63, 1.0, -0.48, -1.31, 1.0, 0.88,  1.71,  0.0,
	-0.4,  -0.55, 1.0, 0.98,  -1.1,  0.0, -0.21, 1.49,  1.0, -1.02, -0.71, 1.0, -0.16, -0.77, 0.0,
	0.75,  1.98,  1.0, -0.63, -0.8,  0.0, -0.92, -1.02, 0.0, -0.13, -1.62, 1.0, -0.36, -1.74, 1.0,
	-0.59, -0.87, 0.0, -2.25, -0.27, 0.0, 0.85,  1.11,  0.0, 1.49,  -1.12, 1.0, -1.86, -0.6,  0.0,
	1.05,  1.33,  1.0, 1.77,  -0.67, 1.0, 0.15,  -1.06, 0.0, 1.94,  -1.02, 1.0, -0.15, 1.77,  1.0,
	0.68,  0.64,  0.0, -1.4,  1.39,  0.0, 0.24,  0.61,  0.0, 0.15,  1.17,  0.0, -0.89, -2.92, 0.0,
	-0.59, -0.52, 0.0, 0.38,  -0.57, 0.0, 0.68,  -0.86, 1.0, 2.16,  0.87,  0.0, -0.08, 0.56,  1.0,
	0.15,  -0.53, 0.0, 0.65,  0.31,  0.0, -0.19, -0.42, 0.0, -0.69, 0.49,  0.0, 0.49,  -0.83, 0.0,
	-0.68, 0.43,  0.0, -1.74, 0.23,  1.0, -0.08, 0.28,  0.0, -0.74, -0.17, 0.0, 0.81,  -0.52, 0.0,
	-0.48, -0.46, 1.0, -0.53, -1.68, 1.0, 0.09,  0.13,  0.0, -0.72, 0.73,  1.0, -0.15, 0.84,  1.0,
	-0.86, 1.07,  0.0, 0.06,  0.0,   0.0, -0.73, -0.03, 0.0, 1.0,   -0.8,  0.0, -0.26, -1.3,  0.0,
	-0.07, -1.49, 0.0, -1.07, 0.37,  1.0, -0.65, -0.43, 0.0, -0.13, -1.62, 0.0, -0.14, 1.04,  0.0};

static churn_matrix *small_matrix(bool labels)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(NR, NC, &m), CHURN_OK);
	memcpy(churn_matrix_get_data(m), X, sizeof(X));
	static const char *names[NC] = {"tenure", "charges", "Contract=Month-to-month"};
	for (size_t j = 0; j < NC; j++)
		ck_assert_int_eq(churn_matrix_set_feature_name(m, j, names[j]), CHURN_OK);
	if (labels)
		ck_assert_int_eq(churn_matrix_set_labels(m, Y, NR), CHURN_OK);
	return m;
}

static churn_model *fit_small(double C, const char *cw)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_double(p, "logreg.C", C), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "logreg.class_weight", cw), CHURN_OK);
	churn_matrix *m = small_matrix(true);
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &model), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_OK);
	churn_matrix_free(m);
	churn_params_free(p);
	return model;
}

/* Gradient of the objective at the fitted coefficients (must be ~0). */
static double max_abs_gradient(const double *w, double C, bool balanced)
{
	double g[NC + 1] = {0};
	size_t npos = 0;
	for (size_t i = 0; i < NR; i++)
		npos += Y[i];
	double s1 = balanced ? NR / (2.0 * npos) : 1, s0 = balanced ? NR / (2.0 * (NR - npos)) : 1;
	for (size_t i = 0; i < NR; i++) {
		double z = w[NC];
		for (size_t j = 0; j < NC; j++)
			z += w[j] * X[i * NC + j];
		double r = (Y[i] ? s1 : s0) * (1 / (1 + exp(-z)) - Y[i]);
		for (size_t j = 0; j < NC; j++)
			g[j] += r * X[i * NC + j];
		g[NC] += r;
	}
	double mx = 0;
	for (size_t j = 0; j <= NC; j++) {
		double v = fabs(g[j] + (j < NC ? w[j] / C : 0));
		mx = v > mx ? v : mx;
	}
	return mx;
}

static void check_against(double C, const char *cw, const double ref[NC + 1])
{
	churn_model *model = fit_small(C, cw);
	double w[NC + 1];
	size_t n = 0;
	ck_assert_int_eq(churn_model_get_coefficients(model, w, NC + 1, &n), CHURN_OK);
	ck_assert_uint_eq(n, NC + 1);
	for (size_t j = 0; j <= NC; j++)
		ck_assert_double_eq_tol(w[j], ref[j], 2e-5);
	ck_assert_double_lt(max_abs_gradient(w, C, !strcmp(cw, "balanced")), 1e-9);
	ck_assert(churn_model_is_converged(model));
	ck_assert_uint_le(churn_model_get_iterations(model), 20);
	ck_assert_uint_ge(churn_model_get_iterations(model), 2);
	churn_model_free(model);
}

START_TEST(test_model_fit_matches_sklearn)
{
	static const double c1[] = {0.854578949159242, -1.013544597697893, 0.5940892929727368, -0.7401031863483153};
	static const double c01[] = {0.400121778870337, -0.5400910771346269, 0.16281812499424297, -0.48420923971163154};
	static const double b1[] = {0.8761650876831741, -0.9917351320778949, 0.6017528553309873, -0.41062752627375776};
	static const double b01[] = {0.41021666670193685, -0.5370598835020566, 0.16364558421586498, -0.17476718070421465};
	check_against(1.0, "none", c1);
	check_against(0.1, "none", c01);
	check_against(1.0, "balanced", b1);
	check_against(0.1, "balanced", b01);
}
END_TEST

START_TEST(test_model_explain_sums_to_logit_of_prediction)
{
	churn_model *model = fit_small(1.0, "none");
	churn_matrix *m = small_matrix(false);
	double prob[NR], w[NC + 1], contrib[NC + 1];
	size_t n = 0;
	ck_assert_int_eq(churn_model_predict(model, m, prob, NR, &n), CHURN_OK);
	ck_assert_uint_eq(n, NR);
	ck_assert_int_eq(churn_model_get_coefficients(model, w, NC + 1, &n), CHURN_OK);
	ck_assert(churn_model_score_is_logit(model));
	for (size_t i = 0; i < NR; i++) {
		ck_assert(prob[i] > 0 && prob[i] < 1);
		ck_assert_int_eq(churn_model_explain(model, X + i * NC, NC, contrib, NC + 1), CHURN_OK);
		double z = 0;
		for (size_t j = 0; j <= NC; j++)
			z += contrib[j];
		ck_assert_double_eq_tol(1 / (1 + exp(-z)), prob[i], 1e-12);
		ck_assert_double_eq_tol(contrib[0], w[0] * X[i * NC], 1e-15);
		ck_assert_double_eq(contrib[NC], w[NC]);
		double p1;
		ck_assert_int_eq(churn_model_predict_row(model, X + i * NC, NC, &p1), CHURN_OK);
		ck_assert_double_eq(p1, prob[i]);
	}
	ck_assert_uint_eq(churn_model_get_feature_count(model), NC);
	ck_assert_str_eq(churn_model_get_feature_name(model, 2), "Contract=Month-to-month");
	ck_assert_ptr_null(churn_model_get_feature_name(model, 3));
	ck_assert_uint_eq(churn_model_get_training_row_count(model), NR);
	double imp[NC];
	ck_assert_int_eq(churn_model_get_importance(model, imp, NC, &n), CHURN_OK);
	ck_assert_uint_eq(n, NC);
	for (size_t j = 0; j < NC; j++)
		ck_assert(imp[j] > 0);
	char *pj = NULL;
	ck_assert_int_eq(churn_model_get_params_json(model, &pj), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(pj, "\"logreg.C\""));
	ck_assert_ptr_null(strstr(pj, "gbm."));
	churn_free(pj);
	churn_matrix_free(m);
	churn_model_free(model);
}
END_TEST

START_TEST(test_model_fit_separable_and_collinear_stays_finite)
{
	/* Perfectly separable data and a duplicated column: the L2 term keeps it finite. */
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(20, 3, &m), CHURN_OK);
	double *x = churn_matrix_get_data(m);
	uint8_t y[20];
	for (size_t i = 0; i < 20; i++) {
		y[i] = i >= 10;
		x[i * 3] = (double)i - 9.5;
		x[i * 3 + 1] = x[i * 3];
		x[i * 3 + 2] = 0; /* all-zero column */
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, y, 20), CHURN_OK);
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &model), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_OK);
	double w[4];
	size_t n;
	ck_assert_int_eq(churn_model_get_coefficients(model, w, 4, &n), CHURN_OK);
	for (size_t j = 0; j < 4; j++)
		ck_assert(isfinite(w[j]));
	ck_assert_double_eq_tol(w[0], w[1], 1e-9);
	ck_assert_double_eq(w[2], 0);
	churn_model_free(model);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_model_fit_threads_identical)
{
	/* Enough rows for several threads: the model must not depend on n_threads. */
	size_t nr = 100000, nc = 6;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(nr, nc, &m), CHURN_OK);
	double *x = churn_matrix_get_data(m);
	uint8_t *y = malloc(nr);
	uint64_t s = 12345;
	for (size_t i = 0; i < nr; i++) {
		double z = -0.5;
		for (size_t j = 0; j < nc; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			double u = (double)(s >> 11) / 9007199254740992.0;
			x[i * nc + j] = j < 3 ? u * 2 - 1 : (u < 0.3);
			z += (double)(j + 1) * 0.3 * x[i * nc + j] * (j % 2 ? -1 : 1);
		}
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		y[i] = (double)(s >> 11) / 9007199254740992.0 < 1 / (1 + exp(-z));
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, y, nr), CHURN_OK);
	double w[3][7];
	for (int t = 0; t < 3; t++) {
		churn_params *p = NULL;
		ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
		ck_assert_int_eq(churn_params_set_int(p, "logreg.n_threads", t == 0 ? 1 : (t == 1 ? 2 : 5)), CHURN_OK);
		churn_model *model = NULL;
		ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &model), CHURN_OK);
		ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_OK);
		size_t n;
		ck_assert_int_eq(churn_model_get_coefficients(model, w[t], 7, &n), CHURN_OK);
		churn_model_free(model);
		churn_params_free(p);
	}
	ck_assert_int_eq(memcmp(w[0], w[1], sizeof(w[0])), 0);
	ck_assert_int_eq(memcmp(w[0], w[2], sizeof(w[0])), 0);
	free(y);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_model_bad_input_refused_with_detail)
{
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new((churn_model_kind)77, &model), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(model);
	ck_assert_str_ne(churn_last_error(), "");
	churn_model_kind k;
	ck_assert_int_eq(churn_model_kind_from_name("svm", &k), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "svm"));
	ck_assert_int_eq(churn_model_kind_from_name("logreg", &k), CHURN_OK);
	ck_assert_int_eq(k, CHURN_MODEL_LOGREG);
	ck_assert_str_eq(churn_model_kind_name(CHURN_MODEL_GBM), "gbm");
	ck_assert_str_eq(churn_model_kind_name((churn_model_kind)9), "unknown");

	ck_assert_int_eq(churn_model_new(CHURN_MODEL_LOGREG, &model), CHURN_OK);
	churn_matrix *m = small_matrix(false);
	double out[NR];
	size_t n = 0;
	/* predict before fit */
	ck_assert_int_eq(churn_model_predict(model, m, out, NR, &n), CHURN_E_STATE);
	ck_assert_str_ne(churn_last_error(), "");
	char *buf = NULL;
	ck_assert_int_eq(churn_model_to_buffer(model, &buf, &n), CHURN_E_STATE);
	/* no labels */
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "labels"));
	/* one class */
	uint8_t zeros[NR] = {0};
	ck_assert_int_eq(churn_matrix_set_labels(m, zeros, NR), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "one class"));
	/* NaN and Inf */
	ck_assert_int_eq(churn_matrix_set_labels(m, Y, NR), CHURN_OK);
	churn_matrix_get_data(m)[7] = NAN;
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_E_NUMERIC);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 2"));
	churn_matrix_get_data(m)[7] = INFINITY;
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_E_NUMERIC);
	ck_assert(!churn_model_is_fitted(model));
	churn_matrix_get_data(m)[7] = X[7];
	/* bad class_weight */
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "logreg.class_weight", "heavy"), CHURN_OK);
	ck_assert_int_eq(churn_model_fit(model, m, p), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "heavy"));
	ck_assert_int_eq(churn_params_set_double(p, "logreg.C", 0), CHURN_E_INVALID_ARG);
	churn_params_free(p);
	ck_assert_int_eq(churn_model_fit(model, m, NULL), CHURN_OK);
	/* capacity and shape */
	ck_assert_int_eq(churn_model_predict(model, m, out, NR - 1, &n), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(n, NR);
	double contrib[NC];
	ck_assert_int_eq(churn_model_explain(model, X, NC, contrib, NC), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_model_explain(model, X, NC - 1, contrib, NC), CHURN_E_INVALID_ARG);
	churn_matrix *wrong = NULL;
	ck_assert_int_eq(churn_matrix_new(2, NC + 1, &wrong), CHURN_OK);
	ck_assert_int_eq(churn_model_predict(model, wrong, out, NR, &n), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "columns"));
	churn_matrix_get_data(m)[0] = NAN;
	ck_assert_int_eq(churn_model_predict(model, m, out, NR, &n), CHURN_E_NUMERIC);
	double w[NC + 1];
	ck_assert_int_eq(churn_model_get_coefficients(model, w, NC, &n), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(n, NC + 1);
	ck_assert_int_eq(churn_model_set_threshold(model, 1.5), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_model_set_threshold(model, 0.3), CHURN_OK);
	ck_assert_double_eq(churn_model_get_threshold(model), 0.3);
	ck_assert_int_eq(churn_model_set_training_info(model, 5, "xyz"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_model_set_metrics_json(model, "[1,2]"), CHURN_E_PARSE);
	churn_matrix_free(wrong);
	churn_matrix_free(m);
	churn_model_free(model);
	churn_model_free(NULL);
}
END_TEST

static void assert_converged(const churn_model *model)
{
	ck_assert(churn_model_is_converged(model));
}

/* Telco: 5-fold stratified CV ROC AUC of logreg (scikit-learn: 0.845); every fold's fit converges. */
START_TEST(test_model_telco_cv_auc_reaches_sklearn)
{
	double auc = churn_test_telco_cv_auc(CHURN_MODEL_LOGREG, NULL, assert_converged);
	if (!isnan(auc))
		ck_assert_double_ge(auc, 0.835);
}
END_TEST

static Suite *logreg_suite(void)
{
	Suite *s = suite_create("model-logreg");
	TCase *tc = tcase_create("fit");
	tcase_add_test(tc, test_model_fit_matches_sklearn);
	tcase_add_test(tc, test_model_explain_sums_to_logit_of_prediction);
	tcase_add_test(tc, test_model_fit_separable_and_collinear_stays_finite);
	tcase_add_test(tc, test_model_fit_threads_identical);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_model_bad_input_refused_with_detail);
	suite_add_tcase(s, te);
	TCase *tq = tcase_create("quality");
	tcase_set_timeout(tq, 300);
	tcase_add_test(tq, test_model_telco_cv_auc_reaches_sklearn);
	suite_add_tcase(s, tq);
	return s;
}

int main(void)
{
	return churn_test_run(logreg_suite());
}
