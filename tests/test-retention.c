/*
 * The retention module (churn/retention.h): the expected profit curve and
 * its peak checked by hand on small cases, and the list churn_train makes
 * from its Cox model on synthetic data: value + loss = charge x horizon,
 * profit = success x loss - cost, the order, the curves, the discount, the
 * JSON list and the statuses of bad inputs. tests/test-cli.sh runs it end to
 * end (churn train = churn ml, data without tenure or charges, Telco).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

/*
 * Four customers: expected profits 5, -2, 10, 1 and churn probabilities 0.9, 0.8, 0.1, 0.5.
 * By profit: 10, 5, 1, -2 -> curve 0, 10, 15, 16, 14; the peak is 3 contacts (16).
 * By probability: 5, -2, 1, 10 -> curve 0, 5, 3, 4, 14; the peak is all 4 (14).
 */
START_TEST(test_profit_curve_small_case_by_hand)
{
	const double profit[4] = {5, -2, 10, 1}, prob[4] = {0.9, 0.8, 0.1, 0.5};
	double cum[5];
	size_t order[4];
	ck_assert_int_eq(churn_retention_profit_curve(profit, profit, 4, order, cum), CHURN_OK);
	const double want[5] = {0, 10, 15, 16, 14};
	const size_t want_order[4] = {2, 0, 3, 1};
	for (size_t k = 0; k < 5; k++)
		ck_assert_double_eq(cum[k], want[k]);
	for (size_t k = 0; k < 4; k++)
		ck_assert_uint_eq(order[k], want_order[k]);
	ck_assert_uint_eq(churn_retention_best_count(cum, 4), 3);
	ck_assert_int_eq(churn_retention_profit_curve(profit, prob, 4, NULL, cum), CHURN_OK);
	const double want_p[5] = {0, 5, 3, 4, 14};
	for (size_t k = 0; k < 5; k++)
		ck_assert_double_eq(cum[k], want_p[k]);
	ck_assert_uint_eq(churn_retention_best_count(cum, 4), 4);
}
END_TEST

/* Equal keys keep the customers' order; equal maxima give the smallest budget; nobody worth a call gives 0. */
START_TEST(test_profit_curve_ties_and_peaks)
{
	const double profit[3] = {1, 2, -3}, key[3] = {0.5, 0.5, 0.5};
	double cum[4];
	size_t order[3];
	ck_assert_int_eq(churn_retention_profit_curve(profit, key, 3, order, cum), CHURN_OK);
	ck_assert_uint_eq(order[0], 0);
	ck_assert_uint_eq(order[1], 1);
	ck_assert_uint_eq(order[2], 2);
	const double flat[4] = {0, 2, 2, 1};
	ck_assert_uint_eq(churn_retention_best_count(flat, 3), 1);
	const double losing[3] = {0, -1, -5};
	ck_assert_uint_eq(churn_retention_best_count(losing, 2), 0);
	ck_assert_int_eq(churn_retention_profit_curve(NULL, NULL, 0, NULL, cum), CHURN_OK);
	ck_assert_double_eq(cum[0], 0);
}
END_TEST

START_TEST(test_profit_curve_bad_input_statuses)
{
	const double profit[2] = {1, NAN}, key[2] = {1, 2};
	double cum[3];
	ck_assert_int_eq(churn_retention_profit_curve(profit, key, 2, NULL, cum), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_retention_profit_curve(NULL, key, 2, NULL, cum), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_retention_profit_curve(key, key, 2, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(churn_retention_best_count(NULL, 3), 0);
}
END_TEST

/* churn_train with cox on synthetic Telco-like rows, extra options as key/value pairs. */
static churn_training *train_cox(const char *key, const char *value)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(900, 11, &ds), CHURN_OK);
	churn_params *p = churn_test_params(CHURN_KEY_PIPELINE_MODELS, "logreg,cox", key, value, NULL);
	churn_training *t = NULL;
	churn_status st = churn_train(ds, NULL, p, &t);
	ck_assert_msg(st == CHURN_OK, "churn_train: %s", churn_last_error());
	churn_params_free(p);
	churn_dataset_free(ds);
	return t;
}

START_TEST(test_list_value_loss_profit_and_order)
{
	churn_training *t = train_cox(CHURN_KEY_RETENTION_OFFER_COST, "20");
	ck_assert(churn_training_has_cox(t));
	const churn_retention *r = churn_training_get_retention(t);
	ck_assert_ptr_nonnull(r);
	size_t n = churn_retention_get_count(r), nc = 0;
	ck_assert_uint_gt(n, 100);
	double *profit = malloc(n * sizeof(double)), *prob = malloc(n * sizeof(double)), *cum = malloc((n + 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double ch = churn_retention_get(r, i, CHURN_RETENTION_CHARGE);
		double v = churn_retention_get(r, i, CHURN_RETENTION_VALUE), l = churn_retention_get(r, i, CHURN_RETENTION_LOSS);
		double rm = churn_retention_get(r, i, CHURN_RETENTION_RMST);
		ck_assert_double_eq_tol(v + l, 24 * ch, 1e-9 * ch * 24);
		ck_assert_double_eq_tol(v, ch * rm, 1e-9 * ch * 24);
		ck_assert(rm > 0 && rm <= 24);
		profit[i] = churn_retention_get(r, i, CHURN_RETENTION_PROFIT);
		prob[i] = churn_retention_get(r, i, CHURN_RETENTION_PROBABILITY);
		ck_assert_double_eq_tol(profit[i], 0.3 * l - 20, 1e-9 * (l + 20));
		ck_assert(prob[i] >= 0 && prob[i] <= 1);
		if (i)
			ck_assert(profit[i] <= profit[i - 1]);
		ck_assert_ptr_nonnull(churn_retention_get_id(r, i));
		ck_assert_ptr_nonnull(churn_retention_get_reasons(r, i));
	}
	/* the stored curves are the hand-checked function's */
	const double *c0 = churn_retention_get_curve(r, CHURN_RETENTION_BY_PROFIT, &nc);
	ck_assert_uint_eq(nc, n + 1);
	ck_assert_int_eq(churn_retention_profit_curve(profit, prob, n, NULL, cum), CHURN_OK);
	const double *c1 = churn_retention_get_curve(r, CHURN_RETENTION_BY_PROBABILITY, NULL);
	for (size_t k = 0; k <= n; k++)
		ck_assert_double_eq_tol(c1[k], cum[k], 1e-6);
	ck_assert(c0[churn_retention_best_count(c0, n)] >= c1[churn_retention_best_count(c1, n)]);
	ck_assert(isnan(churn_retention_get(r, n, CHURN_RETENTION_PROFIT)));
	ck_assert_ptr_null(churn_retention_get_id(r, n));
	free(profit);
	free(prob);
	free(cum);
	churn_training_free(t);
}
END_TEST

/* A discount lowers the value; value + loss is then charge x the discounted horizon; a tiny rate is no rate. */
START_TEST(test_list_discount)
{
	churn_training *t0 = train_cox(CHURN_KEY_RETENTION_DISCOUNT_RATE, "0");
	churn_training *t1 = train_cox(CHURN_KEY_RETENTION_DISCOUNT_RATE, "0.01");
	churn_training *t2 = train_cox(CHURN_KEY_RETENTION_DISCOUNT_RATE, "1e-12");
	const churn_retention *r0 = churn_training_get_retention(t0), *r1 = churn_training_get_retention(t1);
	const churn_retention *r2 = churn_training_get_retention(t2);
	size_t n = churn_retention_get_count(r0);
	ck_assert_uint_eq(n, churn_retention_get_count(r1));
	double d = (1 - pow(1.01, -24)) / log(1.01), sum0 = 0, sum1 = 0, sum2 = 0;
	for (size_t i = 0; i < n; i++) {
		double ch = churn_retention_get(r1, i, CHURN_RETENTION_CHARGE);
		ck_assert_double_eq_tol(churn_retention_get(r1, i, CHURN_RETENTION_VALUE) +
		                            churn_retention_get(r1, i, CHURN_RETENTION_LOSS), ch * d, 1e-9 * ch * 24);
		sum0 += churn_retention_get(r0, i, CHURN_RETENTION_VALUE);
		sum1 += churn_retention_get(r1, i, CHURN_RETENTION_VALUE);
		sum2 += churn_retention_get(r2, i, CHURN_RETENTION_VALUE);
	}
	ck_assert(sum1 < sum0);
	/* the discounted integral over the baseline's steps agrees with churn_cox_remaining's restricted mean */
	ck_assert_double_eq_tol(sum2, sum0, 1e-6 * sum0);
	churn_training_free(t0);
	churn_training_free(t1);
	churn_training_free(t2);
}
END_TEST

START_TEST(test_list_json_and_csv)
{
	churn_training *t = train_cox(CHURN_KEY_RETENTION_BUDGET, "500");
	const churn_retention *r = churn_training_get_retention(t);
	char *json = NULL, *csv = NULL, *sum = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_retention_list_json(r, 5, &json), CHURN_OK);
	cJSON *j = churn_test_json_parse(json);
	ck_assert_double_eq(churn_test_json_num(j, "count"), 5);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "customers")), 5);
	cJSON_Delete(j);
	ck_assert_int_eq(churn_retention_to_csv(r, &csv, &n), CHURN_OK);
	ck_assert_uint_eq(strlen(csv), n);
	ck_assert(strncmp(csv, "id,churn_probability,months_remaining,", 38) == 0);
	ck_assert_int_eq(churn_retention_summary_json(r, &sum), CHURN_OK);
	j = churn_test_json_parse(sum);
	const cJSON *b = cJSON_GetObjectItem(j, "budget");
	ck_assert_double_eq(churn_test_json_num(b, "contacts"), 10); /* 500 / the default cost 50 */
	cJSON_Delete(j);
	churn_free(json);
	churn_free(csv);
	churn_free(sum);
	ck_assert_int_eq(churn_retention_to_csv(NULL, &csv, NULL), CHURN_E_INVALID_ARG);
	churn_training_free(t);
}
END_TEST

/* Options: a time or charges column that is not there is a note (or an error when asked); bad values fail. */
START_TEST(test_missing_columns_and_bad_options)
{
	churn_training *t = train_cox(CHURN_KEY_COX_TIME_COL, "months_with_us");
	ck_assert(!churn_training_has_cox(t));
	ck_assert_ptr_null(churn_training_get_retention(t));
	ck_assert_uint_eq(churn_training_get_survival_note_count(t), 1);
	ck_assert(strstr(churn_training_get_survival_note(t, 0), "cox: skipped: no time column 'months_with_us'"));
	churn_training_free(t);
	t = train_cox(CHURN_KEY_RETENTION_CHARGES_COL, "Fee");
	ck_assert(churn_training_has_cox(t));
	ck_assert_ptr_null(churn_training_get_retention(t));
	churn_training_free(t);
	t = train_cox(CHURN_KEY_COX_TIME_COL, "TENURE"); /* found ignoring case */
	ck_assert(churn_training_has_cox(t));
	churn_training_free(t);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(300, 3, &ds), CHURN_OK);
	churn_params *p = churn_test_params(CHURN_KEY_PIPELINE_MODELS, "cox", CHURN_KEY_RETENTION_CHARGES_COL, "Fee",
	                                    CHURN_KEY_RETENTION_MISSING_CHARGES, "error", NULL);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_NOTFOUND);
	ck_assert_str_ne(churn_last_error(), "");
	churn_params_free(p);
	p = churn_test_params(CHURN_KEY_PIPELINE_MODELS, "cox", CHURN_KEY_RETENTION_HORIZONS, "3,six", NULL);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_INVALID_ARG);
	churn_params_free(p);
	p = churn_test_params(CHURN_KEY_PIPELINE_MODELS, "cox", CHURN_KEY_RETENTION_MISSING_CHARGES, "ignore", NULL);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_E_INVALID_ARG);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("retention");
	TCase *curve = tcase_create("curve");
	tcase_add_test(curve, test_profit_curve_small_case_by_hand);
	tcase_add_test(curve, test_profit_curve_ties_and_peaks);
	tcase_add_test(curve, test_profit_curve_bad_input_statuses);
	suite_add_tcase(s, curve);
	TCase *list = tcase_create("list");
	tcase_set_timeout(list, 120);
	tcase_add_test(list, test_list_value_loss_profit_and_order);
	tcase_add_test(list, test_list_discount);
	tcase_add_test(list, test_list_json_and_csv);
	tcase_add_test(list, test_missing_columns_and_bad_options);
	suite_add_tcase(s, list);
	return churn_test_run(s);
}
