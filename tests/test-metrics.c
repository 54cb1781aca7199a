/* Check suite of churn_metrics_*: hand-worked cases and agreement with scikit-learn. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

#include "test-common.h"

/*
 * A fixed vector with ties (scores rounded to 2 decimals). The expected
 * values below were produced once with scikit-learn 1.2.1 (/usr/bin/python3):
 *   rng = np.random.RandomState(7); y = (rng.rand(40) < 0.35).astype(int)
 *   p = np.round(np.clip(0.3 * y + rng.rand(40) * 0.7, 0, 1), 2)
 *   roc_auc_score(y, p), average_precision_score(y, p),
 *   log_loss(y, p, eps=1e-15), brier_score_loss(y, p),
 *   accuracy/precision/recall/f1_score(y, p >= 0.5), confusion_matrix,
 *   roc_curve(y, p, drop_intermediate=False) (32 points; point 5),
 *   precision_recall_curve -> argmax F1 threshold.
 */
static const uint8_t SK_Y[40] = {1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1,
                                 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1};
static const double SK_P[40] = {0.62, 0.25, 0.46, 0.26, 0.32, 0.5,  0.29, 0.93, 0.43, 0.52,
                                0.3,  0.3,  0.44, 0.67, 0.59, 0.0,  0.36, 0.5,  0.37, 0.79,
                                0.67, 0.48, 0.34, 0.22, 0.41, 0.46, 0.68, 0.66, 0.59, 0.33,
                                0.89, 0.09, 0.22, 0.32, 0.52, 0.34, 0.1,  0.54, 0.23, 0.51};
#define SK_AUC 0.8065476190476191
#define SK_AP 0.6641004463372885
#define SK_LOGLOSS 0.5235926032282722
#define SK_BRIER 0.17659
#define SK_ACC 0.7
#define SK_PREC 0.5
#define SK_REC 0.6666666666666666
#define SK_F1 0.5714285714285715
#define SK_BEST_F1_THR 0.34
#define SK_BEST_F1 0.631578947368421
#define TOL 1e-9

START_TEST(test_metrics_agree_with_sklearn)
{
	double v;
	ck_assert_int_eq(churn_metrics_roc_auc(SK_Y, SK_P, 40, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, SK_AUC, TOL);
	ck_assert_int_eq(churn_metrics_average_precision(SK_Y, SK_P, 40, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, SK_AP, TOL);
	ck_assert_int_eq(churn_metrics_log_loss(SK_Y, SK_P, 40, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, SK_LOGLOSS, TOL);
	ck_assert_int_eq(churn_metrics_brier(SK_Y, SK_P, 40, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, SK_BRIER, TOL);
	churn_confusion c;
	ck_assert_int_eq(churn_metrics_confusion(SK_Y, SK_P, 40, 0.5, &c), CHURN_OK);
	/* sklearn confusion_matrix(...).ravel() = tn, fp, fn, tp = 20 8 4 8 */
	ck_assert_uint_eq(c.tn, 20);
	ck_assert_uint_eq(c.fp, 8);
	ck_assert_uint_eq(c.fn, 4);
	ck_assert_uint_eq(c.tp, 8);
	ck_assert_double_eq_tol(churn_metrics_accuracy(&c), SK_ACC, TOL);
	ck_assert_double_eq_tol(churn_metrics_precision(&c), SK_PREC, TOL);
	ck_assert_double_eq_tol(churn_metrics_recall(&c), SK_REC, TOL);
	ck_assert_double_eq_tol(churn_metrics_f1(&c), SK_F1, TOL);
	double thr, f1;
	ck_assert_int_eq(churn_metrics_best_f1_threshold(SK_Y, SK_P, 40, &thr, &f1), CHURN_OK);
	ck_assert_double_eq_tol(thr, SK_BEST_F1_THR, TOL);
	ck_assert_double_eq_tol(f1, SK_BEST_F1, TOL);
	double fpr[41], tpr[41], th[41];
	size_t np;
	ck_assert_int_eq(churn_metrics_roc_curve(SK_Y, SK_P, 40, fpr, tpr, th, 41, &np), CHURN_OK);
	ck_assert_uint_eq(np, 32);
	ck_assert_double_eq_tol(fpr[5], 0.07142857142857142, TOL);
	ck_assert_double_eq_tol(tpr[5], 1.0 / 3.0, TOL);
	ck_assert_double_eq_tol(th[5], 0.67, TOL);
	ck_assert_double_eq_tol(th[0], 1.93, TOL);
	ck_assert_double_eq_tol(fpr[np - 1], 1, TOL);
	ck_assert_double_eq_tol(tpr[np - 1], 1, TOL);
}
END_TEST

/* Hand-worked: y = 1 1 0 0, p = .9 .4 .6 .1: pairs (pos > neg): .9>.6 .9>.1 .4>.1 -> 3/4. */
START_TEST(test_metrics_scores_match_hand_computation)
{
	const uint8_t y[4] = {1, 1, 0, 0};
	const double p[4] = {0.9, 0.4, 0.6, 0.1};
	double v;
	ck_assert_int_eq(churn_metrics_roc_auc(y, p, 4, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, 0.75, 1e-15);
	/* AP: thresholds .9 (P=1,R=.5), .6 (P=.5,R=.5), .4 (P=2/3,R=1) -> .5*1 + 0 + .5*2/3 */
	ck_assert_int_eq(churn_metrics_average_precision(y, p, 4, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, 0.5 + 1.0 / 3.0, 1e-15);
	/* Brier: (.01 + .36 + .36 + .01) / 4 */
	ck_assert_int_eq(churn_metrics_brier(y, p, 4, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, 0.185, 1e-15);
	/* log loss: -(ln .9 + ln .4 + ln .4 + ln .9) / 4 */
	ck_assert_int_eq(churn_metrics_log_loss(y, p, 4, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, -(2 * log(0.9) + 2 * log(0.4)) / 4, 1e-15);
}
END_TEST

/* All scores tied: AUC is exactly 1/2, AP is the positive rate. */
START_TEST(test_metrics_roc_auc_counts_ties_as_half)
{
	const uint8_t y[5] = {1, 0, 0, 1, 0};
	const double p[5] = {0.3, 0.3, 0.3, 0.3, 0.3};
	double v;
	ck_assert_int_eq(churn_metrics_roc_auc(y, p, 5, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, 0.5, 1e-15);
	ck_assert_int_eq(churn_metrics_average_precision(y, p, 5, &v), CHURN_OK);
	ck_assert_double_eq_tol(v, 0.4, 1e-15);
	/* one tie between a positive and a negative counts 1/2: y 1 0 1 0, p .8 .8 .2 .1 */
	const uint8_t y2[4] = {1, 0, 1, 0};
	const double p2[4] = {0.8, 0.8, 0.2, 0.1};
	ck_assert_int_eq(churn_metrics_roc_auc(y2, p2, 4, &v), CHURN_OK);
	/* pairs: (.8,.8) 1/2, (.8,.1) 1, (.2,.8) 0, (.2,.1) 1 -> 2.5/4 */
	ck_assert_double_eq_tol(v, 0.625, 1e-15);
}
END_TEST

START_TEST(test_metrics_confusion_matches_hand_count)
{
	const uint8_t y[6] = {1, 1, 1, 0, 0, 0};
	const double p[6] = {0.9, 0.5, 0.2, 0.5, 0.1, 0.7};
	churn_confusion c;
	ck_assert_int_eq(churn_metrics_confusion(y, p, 6, 0.5, &c), CHURN_OK);
	ck_assert_uint_eq(c.tp, 2);
	ck_assert_uint_eq(c.fn, 1);
	ck_assert_uint_eq(c.fp, 2);
	ck_assert_uint_eq(c.tn, 1);
	ck_assert_double_eq_tol(churn_metrics_accuracy(&c), 0.5, 1e-15);
	ck_assert_double_eq_tol(churn_metrics_precision(&c), 0.5, 1e-15);
	ck_assert_double_eq_tol(churn_metrics_recall(&c), 2.0 / 3, 1e-15);
	ck_assert_double_eq_tol(churn_metrics_f1(&c), 4.0 / 7, 1e-15);
	/* nothing predicted positive: precision and F1 are 0, not NaN */
	ck_assert_int_eq(churn_metrics_confusion(y, p, 6, 0.95, &c), CHURN_OK);
	ck_assert_double_eq(churn_metrics_precision(&c), 0);
	ck_assert_double_eq(churn_metrics_f1(&c), 0);
}
END_TEST

START_TEST(test_metrics_lift_matches_hand_computation)
{
	/* 10 rows, 2 positives, both at the top: top-decile lift = (1/1) / 0.2 = 5 */
	const uint8_t y[10] = {0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
	const double p[10] = {0.1, 0.2, 0.95, 0.3, 0.4, 0.05, 0.9, 0.15, 0.25, 0.35};
	double lift[10], gain[10];
	ck_assert_int_eq(churn_metrics_lift(y, p, 10, 10, lift, gain), CHURN_OK);
	ck_assert_double_eq_tol(lift[0], 5, 1e-12);
	ck_assert_double_eq_tol(lift[1], 5, 1e-12);
	ck_assert_double_eq_tol(lift[2], 0, 1e-12);
	ck_assert_double_eq_tol(gain[0], 0.5, 1e-12);
	ck_assert_double_eq_tol(gain[1], 1, 1e-12);
	ck_assert_double_eq_tol(gain[9], 1, 1e-12);
	/* 5 bins */
	ck_assert_int_eq(churn_metrics_lift(y, p, 10, 5, lift, gain), CHURN_OK);
	ck_assert_double_eq_tol(lift[0], 5, 1e-12);
	ck_assert_double_eq_tol(gain[0], 1, 1e-12);
	ck_assert_int_eq(churn_metrics_lift(y, p, 10, 11, lift, gain), CHURN_E_INVALID_ARG);
}
END_TEST

START_TEST(test_metrics_calibration_matches_hand_computation)
{
	const uint8_t y[5] = {0, 1, 1, 0, 1};
	const double p[5] = {0.05, 0.15, 0.95, 1.0, 0.12};
	uint64_t cnt[10];
	double mp[10], fp[10];
	ck_assert_int_eq(churn_metrics_calibration(y, p, 5, 10, cnt, mp, fp), CHURN_OK);
	ck_assert_uint_eq(cnt[0], 1);
	ck_assert_uint_eq(cnt[1], 2);
	ck_assert_uint_eq(cnt[9], 2); /* 1.0 goes to the last bin */
	ck_assert_uint_eq(cnt[5], 0);
	ck_assert_double_eq_tol(mp[1], 0.135, 1e-15);
	ck_assert_double_eq_tol(fp[1], 1, 1e-15);
	ck_assert_double_eq_tol(fp[9], 0.5, 1e-15);
	ck_assert_double_eq(mp[5], 0);
}
END_TEST

START_TEST(test_metrics_cost_threshold_matches_hand_computation)
{
	const uint8_t y[4] = {1, 0, 1, 0};
	const double p[4] = {0.9, 0.7, 0.4, 0.2};
	double thr, cost;
	/* missing a churner costs 10, an offer 1: catch everyone down to .4 (1 FP) -> cost 1 */
	ck_assert_int_eq(churn_metrics_cost_threshold(y, p, 4, 10, 1, &thr, &cost), CHURN_OK);
	ck_assert_double_eq(thr, 0.4);
	ck_assert_double_eq_tol(cost, 1, 1e-15);
	/* offers cost 100: target nobody? cost_fn 1 * 2 = 2 vs at .9: 1 FN = 1 -> .9 */
	ck_assert_int_eq(churn_metrics_cost_threshold(y, p, 4, 1, 100, &thr, &cost), CHURN_OK);
	ck_assert_double_eq(thr, 0.9);
	ck_assert_double_eq_tol(cost, 1, 1e-15);
	/* missing costs nothing: nobody, threshold just above the max */
	ck_assert_int_eq(churn_metrics_cost_threshold(y, p, 4, 0, 1, &thr, &cost), CHURN_OK);
	ck_assert(thr > 0.9 && thr < 0.9000001);
	ck_assert_double_eq(cost, 0);
	ck_assert_int_eq(churn_metrics_cost_threshold(y, p, 4, -1, 1, &thr, &cost), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_metrics_cost_threshold(y, p, 4, 0, 0, &thr, &cost), CHURN_E_INVALID_ARG);
}
END_TEST

START_TEST(test_metrics_compute_json_has_contract_keys)
{
	char *js = NULL;
	ck_assert_int_eq(churn_metrics_compute_json(SK_Y, SK_P, 40, 0.5, &js), CHURN_OK);
	cJSON *o = churn_test_json_parse(js);
	static const char *keys[] = {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier",
	                             "threshold", "top_decile_lift"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(o, keys[k])), "key %s", keys[k]);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "roc_auc")->valuedouble, SK_AUC, 1e-15);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "pr_auc")->valuedouble, SK_AP, 1e-15);
	cJSON *conf = cJSON_GetObjectItem(o, "confusion");
	ck_assert_int_eq(cJSON_GetObjectItem(conf, "tp")->valueint, 8);
	ck_assert_int_eq(cJSON_GetObjectItem(conf, "fp")->valueint, 8);
	ck_assert_int_eq(cJSON_GetObjectItem(conf, "tn")->valueint, 20);
	ck_assert_int_eq(cJSON_GetObjectItem(conf, "fn")->valueint, 4);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "lift")), 10);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "calibration")), 10);
	cJSON *roc = cJSON_GetObjectItem(o, "roc_curve");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(roc, "fpr")), 32);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(o, "pr_curve")));
	cJSON_Delete(o);
	churn_free(js);
}
END_TEST

START_TEST(test_metrics_bad_labels_or_scores_refused_log_loss_clipped)
{
	const uint8_t y[3] = {1, 0, 1};
	const uint8_t ybad[3] = {1, 2, 0};
	const uint8_t yone[3] = {1, 1, 1};
	const double p[3] = {0.1, 0.2, 0.3};
	const double pnan[3] = {0.1, NAN, 0.3};
	const double pout[3] = {0.1, 1.5, 0.3};
	double v;
	ck_assert_int_eq(churn_metrics_roc_auc(ybad, p, 3, &v), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_metrics_roc_auc(y, pnan, 3, &v), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_metrics_roc_auc(y, pout, 3, &v), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_metrics_roc_auc(yone, p, 3, &v), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "one class"));
	ck_assert_int_eq(churn_metrics_average_precision(y, p, 0, &v), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_metrics_log_loss(NULL, p, 3, &v), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_metrics_brier(y, pnan, 3, &v), CHURN_E_NUMERIC);
	char *js = NULL;
	ck_assert_int_eq(churn_metrics_compute_json(yone, p, 3, 0.5, &js), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(js);
	ck_assert_int_eq(churn_metrics_compute_json(y, p, 3, 2, &js), CHURN_E_INVALID_ARG);
	/* curve capacity too small: out_n says how many */
	double a[2], b[2];
	size_t np = 0;
	ck_assert_int_eq(churn_metrics_roc_curve(y, p, 3, a, b, NULL, 2, &np), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(np, 4);
	/* log loss clips 0 and 1 */
	const double p01[3] = {0, 1, 1};
	ck_assert_int_eq(churn_metrics_log_loss(y, p01, 3, &v), CHURN_OK);
	ck_assert(isfinite(v));
	ck_assert_double_eq_tol(v, (-log(1e-15) - log1p(-(1 - 1e-15))) / 3, 1e-9);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("compute");
	tcase_add_test(tc, test_metrics_agree_with_sklearn);
	tcase_add_test(tc, test_metrics_scores_match_hand_computation);
	tcase_add_test(tc, test_metrics_roc_auc_counts_ties_as_half);
	tcase_add_test(tc, test_metrics_confusion_matches_hand_count);
	tcase_add_test(tc, test_metrics_lift_matches_hand_computation);
	tcase_add_test(tc, test_metrics_calibration_matches_hand_computation);
	tcase_add_test(tc, test_metrics_cost_threshold_matches_hand_computation);
	tcase_add_test(tc, test_metrics_compute_json_has_contract_keys);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_metrics_bad_labels_or_scores_refused_log_loss_clipped);
	suite_add_tcase(s, te);
	return s;
}

int main(void)
{
	return churn_test_run(metrics_suite());
}
