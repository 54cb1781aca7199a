/*
 * EDA statistics and figures.
 *
 * Reference values were computed with Debian's scipy 1.10.1 (/usr/bin/python3):
 *   chi2, p, dof, _ = scipy.stats.chi2_contingency([[6,4],[3,9],[1,7]], correction=False)
 *     -> 5.137500000000001, 0.07663127467400793, 2;  V = sqrt(chi2 / (30 * 1)) = 0.4138236339311713
 *   scipy.stats.binomtest(k, n).proportion_ci(0.95, method='wilson')
 *     6/10 -> (0.3126737697336583, 0.8318196702937639)
 *     3/12 -> (0.08894166839405471, 0.5323053349335657)
 *     1/8  -> (0.02241749145005667, 0.4708881822128535)
 *   chi2_contingency([[4,11],[6,9]], correction=False) -> 0.6, 0.4385780260809997, 1; V = 0.1414213562373095
 *   scipy.stats.pearsonr([1,2,3,4,5], [2,4,5,4,5]) -> 0.7745966692414834
 *   scipy.stats.pearsonr([1,2,3,4,5], [0,0,1,1,1]) -> 0.8660254037844387
 * Kaplan-Meier: the 6-MP arm of Freireich et al. (1963), the textbook example
 * (Kleinbaum & Klein, Survival Analysis, ch. 2): S(6) = 0.857 (SE 0.076) ...
 * S(23) = 0.448 (SE 0.135), median 23; estimates, Greenwood SE and log-log
 * band recomputed in Python from the formulas (they match R's survfit with
 * conf.type = "log-log").
 */
#include <churn.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-common.h"

#define TOL 1e-9

static churn_dataset *make_contract(void)
{
	/* A: 10 rows, 6 churned; B: 12 rows, 3 churned; C: 8 rows, 1 churned */
	const char *contract[30], *churn[30], *gender[30];
	double tenure[30], charges[30];
	size_t i = 0;
	struct {
		const char *lvl;
		int n, pos;
	} g[] = {{"A", 10, 6}, {"B", 12, 3}, {"C", 8, 1}};
	for (int k = 0; k < 3; k++)
		for (int r = 0; r < g[k].n; r++, i++) {
			contract[i] = g[k].lvl;
			churn[i] = r < g[k].pos ? "Yes" : "No";
			gender[i] = i % 2 ? "Female" : "Male";
			tenure[i] = (double)(i % 13);
			charges[i] = 20.0 + (double)i;
		}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", contract, 30), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "gender", gender, 30), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", tenure, 30), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "MonthlyCharges", charges, 30), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, 30), CHURN_OK);
	return ds;
}

static cJSON *eda_json(const churn_eda *e)
{
	char *s = NULL;
	ck_assert_int_eq(churn_eda_to_json(e, &s), CHURN_OK);
	cJSON *j = churn_test_json_parse(s);
	churn_free(s);
	return j;
}

static const cJSON *find_named(const cJSON *arr, const char *key, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, key);
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return it;
	}
	ck_abort_msg("no %s = %s", key, name);
	return NULL;
}

static bool has_note(const cJSON *j, const char *needle)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "notes"))
	{
		if (cJSON_IsString(it) && strstr(it->valuestring, needle))
			return true;
	}
	return false;
}

START_TEST(test_eda_categorical_tests_and_histograms_match_reference)
{
	churn_dataset *ds = make_contract();
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	double rate;
	size_t count;
	ck_assert_int_eq(churn_eda_get_level_rate(e, "Contract", "A", &rate, &count), CHURN_OK);
	ck_assert_double_eq_tol(rate, 0.6, TOL);
	ck_assert_uint_eq(count, 10);
	cJSON *j = eda_json(e);
	const cJSON *t = cJSON_GetObjectItem(j, "target");
	ck_assert_double_eq_tol(churn_test_json_num(t, "rate"), 10.0 / 30, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(t, "positive_count"), 10, TOL);
	const cJSON *c = find_named(cJSON_GetObjectItem(j, "categorical"), "name", "Contract");
	ck_assert_double_eq_tol(churn_test_json_num(c, "chi2"), 5.137500000000001, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(c, "df"), 2, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(c, "p_value"), 0.07663127467400793, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(c, "cramers_v"), 0.4138236339311713, 1e-12);
	const cJSON *lv = cJSON_GetObjectItem(c, "levels");
	const cJSON *a = find_named(lv, "value", "A"), *b = find_named(lv, "value", "B"),
	            *cc = find_named(lv, "value", "C");
	ck_assert_double_eq_tol(churn_test_json_num(a, "ci_low"), 0.3126737697336583, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(a, "ci_high"), 0.8318196702937639, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(b, "ci_low"), 0.08894166839405471, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(b, "ci_high"), 0.5323053349335657, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(cc, "ci_low"), 0.02241749145005667, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(cc, "ci_high"), 0.4708881822128535, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(cc, "churned"), 1, TOL);
	/* gender, a 2x2 table [[4,11],[6,9]]: no Yates correction (scipy correction=False) */
	const cJSON *g = find_named(cJSON_GetObjectItem(j, "categorical"), "name", "gender");
	ck_assert_double_eq_tol(churn_test_json_num(g, "chi2"), 0.6, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(g, "df"), 1, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(g, "p_value"), 0.4385780260809997, 1e-12);
	ck_assert_double_eq_tol(churn_test_json_num(g, "cramers_v"), 0.1414213562373095, 1e-12);
	/* histograms: shared edges, counts add up */
	const cJSON *h = find_named(cJSON_GetObjectItem(j, "histograms"), "name", "tenure");
	double tot = 0, churned = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(h, "churned")) churned += it->valuedouble;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(h, "retained")) tot += it->valuedouble;
	ck_assert_double_eq_tol(churned, 10, TOL);
	ck_assert_double_eq_tol(tot + churned, 30, TOL);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(h, "edges")),
	                 cJSON_GetArraySize(cJSON_GetObjectItem(h, "churned")) + 1);
	/* the missing revenue part is a note, not an error */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "revenue_at_risk")));
	cJSON_Delete(j);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_chi2_single_level_has_null_p_value)
{
	/* one level only: df = 0 -> p-value null, no GSL call */
	const char *k[4] = {"x", "x", "x", "x"}, *y[4] = {"Yes", "No", "No", "Yes"};
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "k", k, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, 4), CHURN_OK);
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	cJSON *j = eda_json(e);
	const cJSON *c = find_named(cJSON_GetObjectItem(j, "categorical"), "name", "k");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "p_value")));
	ck_assert_double_eq_tol(churn_test_json_num(c, "df"), 0, TOL);
	/* no tenure column: a note, survival null */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "survival")));
	ck_assert(has_note(j, "no numeric tenure column 'tenure'"));
	cJSON_Delete(j);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_correlation_matches_pearson_refuses_bad_matrix)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(5, 4, &m), CHURN_OK);
	double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 5, 4, 5};
	double *d = churn_matrix_get_data(m);
	for (size_t i = 0; i < 5; i++) {
		d[i * 4 + 0] = x[i];
		d[i * 4 + 1] = y[i];
		d[i * 4 + 2] = -2 * x[i] + 1;
		d[i * 4 + 3] = 7; /* constant */
	}
	const char *names[4] = {"x", "y", "neg_x", "const"};
	for (size_t j = 0; j < 4; j++)
		ck_assert_int_eq(churn_matrix_set_feature_name(m, j, names[j]), CHURN_OK);
	uint8_t lab[5] = {0, 0, 1, 1, 1};
	ck_assert_int_eq(churn_matrix_set_labels(m, lab, 5), CHURN_OK);
	churn_dataset *ds = make_contract();
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	ck_assert_int_eq(churn_eda_set_correlation(e, m), CHURN_OK);
	cJSON *j = eda_json(e);
	const cJSON *c = cJSON_GetObjectItem(j, "correlation");
	const cJSON *f = cJSON_GetObjectItem(c, "features");
	ck_assert_int_eq(cJSON_GetArraySize(f), 5);
	ck_assert_str_eq(cJSON_GetArrayItem(f, 4)->valuestring, "Churn");
	const cJSON *mx = cJSON_GetObjectItem(c, "matrix");
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 1)->valuedouble, 0.7745966692414834,
	                        1e-12);
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 1), 0)->valuedouble, 0.7745966692414834,
	                        1e-12);
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 2)->valuedouble, -1, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 0)->valuedouble, 1, 1e-12);
	/* x vs labels [0,0,1,1,1]: r = 0.8660254037844387 (scipy pearsonr) */
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 4)->valuedouble, 0.8660254037844387,
	                        1e-12);
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 3), 0)));
	ck_assert(has_note(j, "const"));
	cJSON_Delete(j);
	/* bad input */
	churn_matrix *one = NULL;
	ck_assert_int_eq(churn_matrix_new(1, 2, &one), CHURN_OK);
	ck_assert_int_eq(churn_eda_set_correlation(e, one), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	churn_matrix_free(one);
	d[3] = INFINITY;
	ck_assert_int_eq(churn_eda_set_correlation(e, m), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	churn_eda_free(e);
	churn_dataset_free(ds);
	churn_matrix_free(m);
}
END_TEST

static churn_dataset *make_freireich(bool with_segment)
{
	static const double t[21] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35};
	static const int ev[21] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
	const char *y[21], *seg[21];
	for (size_t i = 0; i < 21; i++) {
		y[i] = ev[i] ? "Yes" : "No";
		seg[i] = i % 3 ? "Month-to-month" : "Two year";
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", t, 21), CHURN_OK);
	if (with_segment)
		ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", seg, 21), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, 21), CHURN_OK);
	return ds;
}

START_TEST(test_eda_kaplan_meier_matches_textbook_freireich)
{
	churn_dataset *ds = make_freireich(true);
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	cJSON *j = eda_json(e);
	const cJSON *s = cJSON_GetObjectItem(j, "survival");
	ck_assert(cJSON_IsObject(s));
	const cJSON *o = cJSON_GetObjectItem(s, "overall");
	ck_assert_double_eq_tol(churn_test_json_num(o, "n"), 21, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(o, "events"), 9, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(o, "median"), 23, TOL);
	static const struct {
		double t, s, se, lo, hi;
		int risk;
	} ref[] = {
		{6, 0.8571428571428572, 0.07636035483212125, 0.6197179552659837, 0.9515517476469971, 21},
		{7, 0.8067226890756303, 0.0869352851800572, 0.5631465646222333, 0.9228090192028805, 17},
		{10, 0.7529411764705882, 0.09634965299432051, 0.5031995107999564, 0.8893618351692656, 15},
		{13, 0.6901960784313725, 0.10681470777500983, 0.431610222486184, 0.8490659633494508, 12},
		{16, 0.6274509803921569, 0.11405386525675254, 0.36751085598750205, 0.8049121894718413, 11},
		{22, 0.5378151260504203, 0.12823375169303403, 0.267778936767135, 0.7467907176353947, 7},
		{23, 0.44817927170868355, 0.13459145675576048, 0.1880520059592324, 0.6801426284952415, 6},
	};
	const cJSON *tm = cJSON_GetObjectItem(o, "time");
	for (size_t r = 0; r < sizeof ref / sizeof ref[0]; r++) {
		int k = -1;
		for (int i = 0; i < cJSON_GetArraySize(tm); i++)
			if (cJSON_GetArrayItem(tm, i)->valuedouble == ref[r].t)
				k = i;
		ck_assert_int_ge(k, 0);
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "survival"), k)->valuedouble, ref[r].s,
		                        1e-12);
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "se"), k)->valuedouble, ref[r].se, 1e-12);
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ci_low"), k)->valuedouble, ref[r].lo,
		                        1e-12);
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ci_high"), k)->valuedouble, ref[r].hi,
		                        1e-12);
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "at_risk"), k)->valuedouble, ref[r].risk,
		                        TOL);
	}
	const cJSON *bs = cJSON_GetObjectItem(s, "by_segment");
	ck_assert_str_eq(cJSON_GetObjectItem(bs, "column")->valuestring, "Contract");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(bs, "curves")), 2);
	cJSON_Delete(j);
	churn_eda_free(e);
	churn_dataset_free(ds);

	/* plain band and no segment column: a note */
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "eda.km_band", "plain"), CHURN_OK);
	ds = make_freireich(false);
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_OK);
	j = eda_json(e);
	o = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "survival"), "overall");
	double se0 = 0.07636035483212125, s0 = 0.8571428571428572;
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ci_low"), 0)->valuedouble,
	                        s0 - 1.959963984540054 * se0, 1e-12);
	ck_assert(has_note(j, "no categorical column 'Contract'"));
	cJSON_Delete(j);
	churn_eda_free(e);
	ck_assert_int_eq(churn_params_set_str(p, "eda.km_band", "wide"), CHURN_OK);
	e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(e);
	ck_assert_str_ne(churn_last_error(), "");
	churn_dataset_free(ds);
	churn_params_free(p);
}
END_TEST

START_TEST(test_eda_revenue_at_risk_sums_by_segment_refuses_bad_input)
{
	const char *seg[4] = {"M", "M", "T", "T"}, *y[4] = {"Yes", "No", "No", "Yes"};
	double ch[4] = {10, 20, 30, 40};
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", seg, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "MonthlyCharges", ch, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, 4), CHURN_OK);
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	double pr[4] = {0.9, 0.2, 0.6, 0.5};
	ck_assert_int_eq(churn_eda_set_revenue_at_risk(e, ds, pr, 0.5), CHURN_OK);
	cJSON *j = eda_json(e);
	const cJSON *r = cJSON_GetObjectItem(j, "revenue_at_risk");
	ck_assert_double_eq_tol(churn_test_json_num(r, "monthly_revenue_at_risk"), 40, TOL); /* 0.5 is not above 0.5 */
	ck_assert_double_eq_tol(churn_test_json_num(r, "customers_at_risk"), 2, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(r, "monthly_revenue"), 100, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(r, "expected_monthly_loss"), 9 + 4 + 18 + 20, 1e-12);
	const cJSON *segs = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "by_segment"), "segments");
	const cJSON *seg_m = find_named(segs, "segment", "M"), *seg_t = find_named(segs, "segment", "T");
	ck_assert_double_eq_tol(churn_test_json_num(seg_m, "monthly_revenue_at_risk"), 10, TOL);
	ck_assert_double_eq_tol(churn_test_json_num(seg_t, "monthly_revenue_at_risk"), 30, TOL);
	cJSON_Delete(j);
	/* errors and skips */
	ck_assert_int_eq(churn_eda_set_revenue_at_risk(e, ds, pr, 1.5), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	pr[2] = NAN;
	ck_assert_int_eq(churn_eda_set_revenue_at_risk(e, ds, pr, 0.5), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_eda_set_revenue_at_risk(e, ds, NULL, 0.5), CHURN_OK);
	j = eda_json(e);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "revenue_at_risk")));
	ck_assert(has_note(j, "no churn probabilities"));
	cJSON_Delete(j);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_unknown_target_or_positive_and_bad_importance_refused)
{
	churn_dataset *ds = make_freireich(false);
	churn_params *p = churn_test_params("data.target", "Exited", NULL);
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_E_NOTFOUND);
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "Exited"));
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "Churn"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "data.positive", "Gone"), CHURN_OK);
	/* the target rule of every command (target.c): the status and message of churn train */
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "positive label 'Gone' is not a value of target 'Churn'"));
	ck_assert_int_eq(churn_params_set_str(p, "data.positive", "yes"), CHURN_OK); /* case-insensitive */
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_OK);
	const char *names[2] = {"a", "b"};
	double imp[2] = {0.5, NAN};
	ck_assert_int_eq(churn_eda_set_importance(e, names, imp, NULL, 2), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_eda_set_importance(e, names, NULL, NULL, 2), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_eda_get_level_rate(e, "nope", "x", NULL, NULL), CHURN_E_NOTFOUND);
	ck_assert_int_eq(churn_eda_save_json(e, "/nonexistent-dir/eda.json"), CHURN_E_CREATE);
	ck_assert_str_ne(churn_last_error(), "");
	churn_eda_free(e);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

static void assert_png(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "missing %s", path);
	unsigned char m[8] = {0};
	ck_assert_uint_eq(fread(m, 1, 8, f), 8);
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	ck_assert_msg(memcmp(m, sig, 8) == 0, "%s is not a PNG", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fclose(f);
	ck_assert_msg(sz > 8000, "%s is only %ld bytes", path, sz);
}

START_TEST(test_eda_figures_written)
{
	churn_dataset *ds = make_contract();
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	const char *names[3] = {"Contract=A", "tenure", "MonthlyCharges"};
	double imp[3] = {0.5, 0.3, 0.2}, perm[3] = {0.08, 0.05, -0.001};
	ck_assert_int_eq(churn_eda_set_importance(e, names, imp, perm, 3), CHURN_OK);
	char *dir = churn_test_tmpdir();
	char sub[1024];
	snprintf(sub, sizeof sub, "%s/reports/figures", dir);
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "eda.svg", true), CHURN_OK);
	ck_assert_int_eq(churn_eda_draw_figures(e, sub, p), CHURN_OK);
	assert_png(sub, "correlation_heatmap.png");
	assert_png(sub, "histogram_numeric_columns.png"); /* tenure and MonthlyCharges */
	assert_png(sub, "churn_rate_categories.png"); /* small multiples: Contract and gender */
	char one[1100];
	snprintf(one, sizeof one, "%s/churn_rate_Contract.png", sub);
	struct stat sb0;
	ck_assert_int_ne(stat(one, &sb0), 0); /* few levels: no figure of its own */
	assert_png(sub, "feature_importance.png");
	assert_png(sub, "km_retention.png");
	char svg[1100];
	snprintf(svg, sizeof svg, "%s/km_retention.svg", sub);
	struct stat sb;
	ck_assert_int_eq(stat(svg, &sb), 0);
	/* eda.figures = false draws nothing */
	char none[1024];
	snprintf(none, sizeof none, "%s/none", dir);
	ck_assert_int_eq(churn_params_set_bool(p, "eda.figures", false), CHURN_OK);
	ck_assert_int_eq(churn_eda_draw_figures(e, none, p), CHURN_OK);
	ck_assert_int_ne(stat(none, &sb), 0);
	/* an output directory that cannot exist: CHURN_E_CREATE, not a plplot prompt or exit */
	char bad[1024];
	snprintf(bad, sizeof bad, "%s/reports/figures/correlation_heatmap.png/sub", dir);
	ck_assert_int_eq(churn_eda_draw_figures(e, bad, NULL), CHURN_E_CREATE);
	ck_assert_str_ne(churn_last_error(), "");
	churn_params_free(p);
	churn_test_rmdir(dir);
	free(dir);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_draw_revenue_png_only_when_set_and_figures_on)
{
	churn_dataset *ds = make_contract();
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	char *dir = churn_test_tmpdir();
	char sub[1024], png[1100];
	snprintf(sub, sizeof sub, "%s/figs", dir);
	snprintf(png, sizeof png, "%s/revenue_at_risk.png", sub);
	struct stat sb;
	/* nothing set yet: OK, no file */
	ck_assert_int_eq(churn_eda_draw_revenue(e, sub, NULL), CHURN_OK);
	ck_assert_int_ne(stat(png, &sb), 0);
	double pr[30];
	for (size_t i = 0; i < 30; i++)
		pr[i] = (double)(i % 10) / 10.0;
	ck_assert_int_eq(churn_eda_set_revenue_at_risk(e, ds, pr, 0.5), CHURN_OK);
	churn_params *p = churn_test_params("eda.figures", "false", NULL);
	ck_assert_int_eq(churn_eda_draw_revenue(e, sub, p), CHURN_OK); /* figures off: nothing */
	ck_assert_int_ne(stat(png, &sb), 0);
	ck_assert_int_eq(churn_eda_draw_revenue(e, sub, NULL), CHURN_OK);
	assert_png(sub, "revenue_at_risk.png");
	const char *keep = getenv("CHURN_EDA_FIG_DIR");
	if (keep)
		ck_assert_int_eq(churn_eda_draw_revenue(e, keep, NULL), CHURN_OK);
	/* churn_eda_draw_figures draws it too */
	char all[1024];
	snprintf(all, sizeof all, "%s/all", dir);
	ck_assert_int_eq(churn_eda_draw_figures(e, all, NULL), CHURN_OK);
	assert_png(all, "revenue_at_risk.png");
	ck_assert_int_eq(churn_eda_draw_revenue(NULL, sub, NULL), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	char bad[1100];
	snprintf(bad, sizeof bad, "%s/revenue_at_risk.png/x", sub);
	ck_assert_int_eq(churn_eda_draw_revenue(e, bad, NULL), CHURN_E_CREATE);
	churn_params_free(p);
	churn_test_rmdir(dir);
	free(dir);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

/* model figures from made-up curves */
static void draw_model_figures(const char *dir)
{
	static const double f1[] = {0, 0.05, 0.1, 0.2, 0.4, 0.7, 1}, t1[] = {0, 0.35, 0.55, 0.72, 0.86, 0.95, 1};
	static const double f2[] = {0, 0.1, 0.3, 0.6, 1}, t2[] = {0, 0.4, 0.7, 0.88, 1};
	const double *fpr[2] = {f1, f2}, *tpr[2] = {t1, t2};
	const size_t np[2] = {7, 5};
	const char *lab[2] = {"logreg", "gbm"};
	const double auc[2] = {0.842, 0.835};
	char path[1024];
	snprintf(path, sizeof path, "%s/roc_curves", dir);
	ck_assert_int_eq(churn_plot_roc(path, NULL, 2, lab, fpr, tpr, np, auc, NULL), CHURN_OK);
	static const double r1[] = {0, 0.2, 0.5, 0.8, 1}, p1[] = {1, 0.75, 0.62, 0.48, 0.27};
	const double *rec[2] = {r1, r1}, *pre[2] = {p1, p1};
	const size_t np2[2] = {5, 5};
	snprintf(path, sizeof path, "%s/pr_curves", dir);
	ck_assert_int_eq(churn_plot_pr(path, NULL, 2, lab, rec, pre, np2, auc, 0.265, NULL), CHURN_OK);
	snprintf(path, sizeof path, "%s/confusion_logreg", dir);
	ck_assert_int_eq(churn_plot_confusion(path, "Confusion matrix: logreg (threshold 0.5)", 310, 150, 1400, 250,
	                                      NULL),
	                 CHURN_OK);
	static const double l1[10] = {2.9, 2.2, 1.6, 1.2, 0.9, 0.6, 0.3, 0.2, 0.08, 0.02};
	static const double l2[10] = {2.8, 2.3, 1.5, 1.1, 1.0, 0.6, 0.35, 0.2, 0.1, 0.05};
	const double *lift[2] = {l1, l2};
	snprintf(path, sizeof path, "%s/lift_chart", dir);
	ck_assert_int_eq(churn_plot_lift(path, NULL, 2, lab, lift, 10, NULL), CHURN_OK);
}

START_TEST(test_plot_model_figures_are_pngs)
{
	char *dir = churn_test_tmpdir();
	draw_model_figures(dir);
	const char *keep = getenv("CHURN_EDA_FIG_DIR"); /* set to keep the figures for a look */
	if (keep)
		draw_model_figures(keep);
	assert_png(dir, "roc_curves.png");
	assert_png(dir, "pr_curves.png");
	assert_png(dir, "confusion_logreg.png");
	assert_png(dir, "lift_chart.png");
	/* bad inputs */
	char path[1024];
	snprintf(path, sizeof path, "%s/bad", dir);
	const double bx[2] = {0, 1.5}, by[2] = {0, 1};
	const double *fx[1] = {bx}, *fy[1] = {by};
	const size_t n2[1] = {2};
	const char *lab[1] = {"m"};
	ck_assert_int_eq(churn_plot_roc(path, NULL, 1, lab, fx, fy, n2, NULL, NULL), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_plot_roc(path, NULL, 0, lab, fx, fy, n2, NULL, NULL), CHURN_E_INVALID_ARG);
	const double nl[2] = {1, NAN};
	const double *lp[1] = {nl};
	ck_assert_int_eq(churn_plot_lift(path, NULL, 1, lab, lp, 2, NULL), CHURN_E_NUMERIC);
	struct stat sb;
	char png[1100];
	snprintf(png, sizeof png, "%s.png", path);
	ck_assert_int_ne(stat(png, &sb), 0);
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

static void *thread_draw(void *arg)
{
	draw_model_figures(arg);
	return NULL;
}

START_TEST(test_plot_concurrent_threads_draw_complete_pngs)
{
	char *d1 = churn_test_tmpdir(), *d2 = churn_test_tmpdir();
	pthread_t a, b;
	ck_assert_int_eq(pthread_create(&a, NULL, thread_draw, d1), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, thread_draw, d2), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	const char *names[] = {"roc_curves.png", "pr_curves.png", "confusion_logreg.png", "lift_chart.png"};
	for (size_t i = 0; i < 4; i++) {
		assert_png(d1, names[i]);
		assert_png(d2, names[i]);
	}
	churn_test_rmdir(d1);
	churn_test_rmdir(d2);
	free(d1);
	free(d2);
}
END_TEST

START_TEST(test_eda_telco_contract_rates_and_segment_curves)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	double r = 0;
	size_t n = 0;
	ck_assert_int_eq(churn_eda_get_level_rate(e, "Contract", "Month-to-month", &r, &n), CHURN_OK);
	ck_assert_double_eq_tol(r, 0.427, 0.001);
	ck_assert_uint_eq(n, 3875);
	ck_assert_int_eq(churn_eda_get_level_rate(e, "Contract", "Two year", &r, &n), CHURN_OK);
	ck_assert_double_eq_tol(r, 0.028, 0.001);
	cJSON *j = eda_json(e);
	const cJSON *s = cJSON_GetObjectItem(j, "survival");
	ck_assert(cJSON_IsObject(s));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "by_segment"), "curves")), 3);
	cJSON_Delete(j);
	const char *fig = getenv("CHURN_EDA_FIG_DIR"); /* set to keep the figures for a look */
	if (fig)
		ck_assert_int_eq(churn_eda_draw_figures(e, fig, NULL), CHURN_OK);
	churn_eda_free(e);
	churn_dataset_free(ds);
}
END_TEST

/*
 * Wide data: 600 features (more than the 500 that used to fail), 200 rows.
 * Feature j = labels * w_j + noise, with w_j decreasing for j = 0..59 and 0
 * after, so the most correlated with the target are known; feature 7 is
 * constant. The matrix and heatmap keep eda.corr_max_features (50) of them,
 * in their order, and the target; every feature's r with the target is kept.
 */
#define WIDE_N 200
#define WIDE_P 600

static churn_matrix *make_wide(void)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(WIDE_N, WIDE_P, &m), CHURN_OK);
	uint8_t lab[WIDE_N];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < WIDE_N; i++)
		lab[i] = (uint8_t)(i % 3 == 0);
	double *d = churn_matrix_get_data(m);
	for (size_t i = 0; i < WIDE_N; i++)
		for (size_t j = 0; j < WIDE_P; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			double noise = (double)(x >> 11) / 9007199254740992.0 - 0.5;
			double w = j < 60 ? 3.0 - 0.05 * (double)j : 0;
			d[i * WIDE_P + j] = j == 7 ? 1 : w * lab[i] + noise;
		}
	for (size_t j = 0; j < WIDE_P; j++) {
		char name[32];
		snprintf(name, sizeof name, "f%03zu", j);
		ck_assert_int_eq(churn_matrix_set_feature_name(m, j, name), CHURN_OK);
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, lab, WIDE_N), CHURN_OK);
	return m;
}

START_TEST(test_eda_correlation_wide_reduced)
{
	churn_matrix *m = make_wide();
	churn_dataset *ds = make_contract();
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, NULL, &e), CHURN_OK);
	ck_assert_msg(churn_eda_set_correlation(e, m) == CHURN_OK, "%s", churn_last_error()); /* was CHURN_E_LIMIT */
	cJSON *j = eda_json(e);
	const cJSON *c = cJSON_GetObjectItem(j, "correlation");
	ck_assert_double_eq(churn_test_json_num(c, "columns_total"), WIDE_P + 1);
	ck_assert_double_eq(churn_test_json_num(c, "columns_shown"), 51);
	const cJSON *why = cJSON_GetObjectItem(c, "reduced");
	ck_assert(cJSON_IsString(why));
	ck_assert_str_eq(why->valuestring, "top 50 of 600 features by |correlation with Churn| (eda.corr_max_features)");
	/* the 50 most correlated: f000..f049 except the constant f007, then f050 (next strongest), in order */
	const cJSON *f = cJSON_GetObjectItem(c, "features");
	ck_assert_int_eq(cJSON_GetArraySize(f), 51);
	for (int k = 0, want = 0; k < 50; k++, want++) {
		if (want == 7)
			want++;
		char name[32];
		snprintf(name, sizeof name, "f%03d", want);
		ck_assert_str_eq(cJSON_GetArrayItem(f, k)->valuestring, name);
	}
	ck_assert_str_eq(cJSON_GetArrayItem(f, 50)->valuestring, "Churn");
	const cJSON *mx = cJSON_GetObjectItem(c, "matrix");
	ck_assert_int_eq(cJSON_GetArraySize(mx), 51);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(mx, 0)), 51);
	/* every feature's r with the target, in feature order; the matrix's last row agrees */
	const cJSON *w = cJSON_GetObjectItem(c, "with_target");
	ck_assert_str_eq(cJSON_GetObjectItem(w, "target")->valuestring, "Churn");
	const cJSON *wf = cJSON_GetObjectItem(w, "features"), *wr = cJSON_GetObjectItem(w, "r");
	ck_assert_int_eq(cJSON_GetArraySize(wf), WIDE_P);
	ck_assert_int_eq(cJSON_GetArraySize(wr), WIDE_P);
	ck_assert_str_eq(cJSON_GetArrayItem(wf, 599)->valuestring, "f599");
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(wr, 7))); /* constant */
	ck_assert_double_gt(cJSON_GetArrayItem(wr, 0)->valuedouble, 0.9);
	ck_assert_double_lt(fabs(cJSON_GetArrayItem(wr, 300)->valuedouble), 0.3);
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 50), 0)->valuedouble,
	                        cJSON_GetArrayItem(wr, 0)->valuedouble, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 50), 49)->valuedouble,
	                        cJSON_GetArrayItem(wr, 50)->valuedouble, 1e-12);
	ck_assert(has_note(j, "600 features, more than eda.corr_max_features (50)"));
	cJSON_Delete(j);

	/* a higher limit keeps more; at most the limit, all of them under it */
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "eda.corr_max_features", 499), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "eda.corr_max_features", 500), CHURN_E_INVALID_ARG);
	churn_eda *e2 = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, p, &e2), CHURN_OK);
	ck_assert_int_eq(churn_eda_set_correlation(e2, m), CHURN_OK);
	j = eda_json(e2);
	c = cJSON_GetObjectItem(j, "correlation");
	ck_assert_double_eq(churn_test_json_num(c, "columns_shown"), 500);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "features")), 500);
	cJSON_Delete(j);
	churn_eda_free(e2);
	churn_params_free(p);

	/* the heatmap of the reduced matrix is drawn */
	char *dir = churn_test_tmpdir();
	ck_assert_int_eq(churn_eda_draw_figures(e, dir, NULL), CHURN_OK);
	assert_png(dir, "correlation_heatmap.png");
	churn_test_rmdir(dir);
	free(dir);
	churn_eda_free(e);
	churn_dataset_free(ds);
	churn_matrix_free(m);
}
END_TEST

/* Many numeric columns: every histogram in eda.json, the figure shows eda.fig_max_columns of them (and says so). */
START_TEST(test_eda_wide_dataset_figures)
{
	enum { N = 60, P = 40 };
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	const char *y[N];
	for (size_t i = 0; i < N; i++)
		y[i] = i % 2 ? "Yes" : "No";
	for (size_t j = 0; j < P; j++) {
		double v[N];
		for (size_t i = 0; i < N; i++)
			v[i] = (double)((i * 7 + j * 13) % 17) + (j < 5 ? 10.0 * (double)(i % 2) : 0);
		char name[16];
		snprintf(name, sizeof name, "n%02zu", j);
		ck_assert_int_eq(churn_dataset_add_numeric(ds, name, v, N), CHURN_OK);
	}
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, N), CHURN_OK);
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "eda.fig_max_columns", 6), CHURN_OK);
	churn_eda *e = NULL;
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_OK);
	cJSON *j = eda_json(e);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "histograms")), P);
	ck_assert(has_note(j, "histogram_numeric_columns shows the 6 of 40 numeric columns most correlated with Churn"));
	/* eda_compute's own correlation: numeric columns and the target, reduced the same way */
	const cJSON *c = cJSON_GetObjectItem(j, "correlation");
	ck_assert_double_eq(churn_test_json_num(c, "columns_total"), P + 1);
	ck_assert_double_eq(churn_test_json_num(c, "columns_shown"), P + 1); /* 40 <= 50 */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "reduced")));
	cJSON_Delete(j);
	/* importance with permutations for some columns only: null for the others, a note, and a figure */
	const char *names[3] = {"n00", "n01", "n02"};
	double imp[3] = {0.5, 0.3, 0.2}, perm[3] = {0.08, NAN, NAN};
	ck_assert_int_eq(churn_eda_set_importance(e, names, imp, perm, 3), CHURN_OK);
	perm[1] = INFINITY;
	ck_assert_int_eq(churn_eda_set_importance(e, names, imp, perm, 3), CHURN_E_NUMERIC);
	j = eda_json(e);
	const cJSON *ip = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "importance"), "permutation");
	ck_assert_double_eq(cJSON_GetArrayItem(ip, 0)->valuedouble, 0.08);
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(ip, 1)));
	ck_assert(has_note(j, "permutation computed for the 1 of 3 columns"));
	cJSON_Delete(j);
	char *dir = churn_test_tmpdir();
	ck_assert_int_eq(churn_eda_draw_figures(e, dir, p), CHURN_OK);
	assert_png(dir, "histogram_numeric_columns.png");
	assert_png(dir, "feature_importance.png");
	churn_test_rmdir(dir);
	free(dir);
	churn_eda_free(e);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

/* n rows: "s" decides churn (plus noise), "plan" (3 levels) shifts it a little, "noise" (when asked for) does not;
 * an ID column. */
static churn_dataset *make_signal(size_t n, uint64_t seed, bool with_noise)
{
	const char **id = malloc(n * sizeof *id), **plan = malloc(n * sizeof *plan), **churn = malloc(n * sizeof *churn);
	double *sig = malloc(n * sizeof *sig), *noise = malloc(n * sizeof *noise);
	char (*ids)[24] = malloc(n * sizeof *ids);
	ck_assert(id && plan && churn && sig && noise && ids);
	static const char *const plans[] = {"basic", "plus", "pro"};
	churn_test_rng_seed(seed);
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "c%zu", i);
		id[i] = ids[i];
		sig[i] = churn_test_urand();
		noise[i] = churn_test_urand();
		size_t k = (size_t)(churn_test_urand() * 3) % 3;
		plan[i] = plans[k];
		double z = 6 * (sig[i] - 0.5) + 0.8 * ((double)k - 1) + 2 * (churn_test_urand() - 0.5);
		churn[i] = z > 0 ? "Yes" : "No";
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "customerID", id, n), CHURN_OK);
	if (with_noise)
		ck_assert_int_eq(churn_dataset_add_numeric(ds, "noise", noise, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "plan", plan, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "s", sig, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, n), CHURN_OK);
	free(id), free(plan), free(churn), free(sig), free(noise), free(ids);
	return ds;
}

/* The forest's params as JSON contain "key":value (the defaults the call sets, or the caller's). */
static bool forest_param_is(const churn_eda_importance *imp, const char *key, double v)
{
	char *text = NULL;
	ck_assert_int_eq(churn_model_get_params_json(churn_eda_importance_get_model(imp), &text), CHURN_OK);
	cJSON *j = churn_test_json_parse(text);
	bool ok = churn_test_json_num(j, key) == v;
	cJSON_Delete(j);
	churn_free(text);
	return ok;
}

START_TEST(test_eda_importance_per_raw_column_sums_levels_ranks_signal)
{
	churn_dataset *ds = make_signal(600, 5, true);
	churn_params *p = churn_test_params(NULL);
	churn_prep *prep = NULL;
	churn_matrix *x = NULL;
	churn_eda_importance *imp = NULL, *again = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, ds, &x), CHURN_OK);
	ck_assert_int_eq(churn_eda_importance_compute(prep, x, p, &imp), CHURN_OK);
	/* one entry per raw column (the ID and the target have no features), in the spec's order */
	ck_assert_uint_eq(churn_eda_importance_get_column_count(imp), 3);
	ck_assert_str_eq(churn_eda_importance_get_column(imp, 0), "noise");
	ck_assert_str_eq(churn_eda_importance_get_column(imp, 1), "plan");
	ck_assert_str_eq(churn_eda_importance_get_column(imp, 2), "s");
	ck_assert_ptr_null(churn_eda_importance_get_column(imp, 3));
	ck_assert(isnan(churn_eda_importance_get_impurity(imp, 3)));
	/* a column's impurity is the sum over its features (the one-hot levels of plan) */
	size_t nf = churn_matrix_get_column_count(x), got = 0;
	double *fi = malloc(nf * sizeof *fi), sums[3] = {0};
	ck_assert_int_eq(churn_model_get_importance(churn_eda_importance_get_model(imp), fi, nf, &got), CHURN_OK);
	for (size_t j = 0; j < nf; j++) {
		const char *f = churn_matrix_get_feature_name(x, j);
		sums[!strncmp(f, "plan=", 5) ? 1 : !strcmp(f, "s") ? 2 : 0] += fi[j];
	}
	for (size_t k = 0; k < 3; k++)
		ck_assert_double_eq(churn_eda_importance_get_impurity(imp, k), sums[k]);
	/* the signal ranks first by both measures, the noise last by permutation */
	ck_assert(churn_eda_importance_get_impurity(imp, 2) > churn_eda_importance_get_impurity(imp, 1));
	ck_assert(churn_eda_importance_get_impurity(imp, 2) > churn_eda_importance_get_impurity(imp, 0));
	ck_assert(churn_eda_importance_get_permutation(imp, 2) > 0.2);
	ck_assert(churn_eda_importance_get_permutation(imp, 2) > churn_eda_importance_get_permutation(imp, 1));
	ck_assert(churn_eda_importance_get_permutation(imp, 1) > churn_eda_importance_get_permutation(imp, 0));
	/* its own forest defaults (50 trees of depth 8), the caller's params untouched; deterministic */
	ck_assert(forest_param_is(imp, "forest.n_trees", 50) && forest_param_is(imp, "forest.max_depth", 8));
	ck_assert(!churn_params_is_set(p, "forest.n_trees"));
	ck_assert_int_eq(churn_eda_importance_compute(prep, x, p, &again), CHURN_OK);
	for (size_t k = 0; k < 3; k++) {
		ck_assert_double_eq(churn_eda_importance_get_impurity(again, k), churn_eda_importance_get_impurity(imp, k));
		ck_assert_double_eq(churn_eda_importance_get_permutation(again, k),
		                    churn_eda_importance_get_permutation(imp, k));
	}
	free(fi);
	churn_eda_importance_free(again);
	churn_eda_importance_free(imp);
	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_importance_options_cap_and_attach_to_eda_json)
{
	churn_dataset *ds = make_signal(300, 9, true);
	churn_params *p = churn_test_params("forest.n_trees", "7", "eda.importance_max_columns", "1", NULL);
	churn_prep *prep = NULL;
	churn_matrix *x = NULL;
	churn_eda_importance *imp = NULL;
	churn_eda *e = NULL;
	char *json = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, ds, &x), CHURN_OK);
	ck_assert_int_eq(churn_eda_importance_compute(prep, x, p, &imp), CHURN_OK);
	ck_assert(forest_param_is(imp, "forest.n_trees", 7) && forest_param_is(imp, "forest.max_depth", 8));
	/* eda.importance_max_columns 1: the permutation of the column of highest impurity only */
	ck_assert(!isnan(churn_eda_importance_get_permutation(imp, 2)));
	ck_assert(isnan(churn_eda_importance_get_permutation(imp, 0)) && isnan(churn_eda_importance_get_permutation(imp, 1)));
	ck_assert_int_eq(churn_eda_compute(ds, p, &e), CHURN_OK);
	ck_assert_int_eq(churn_eda_set_importance_of(e, imp), CHURN_OK);
	ck_assert_int_eq(churn_eda_to_json(e, &json), CHURN_OK);
	cJSON *j = churn_test_json_parse(json);
	const cJSON *im = cJSON_GetObjectItem(j, "importance");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(im, "features")), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(im, "features"), 1)->valuestring, "plan");
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItem(im, "permutation"), 0)));
	ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(im, "impurity"), 2)->valuedouble,
	                    churn_eda_importance_get_impurity(imp, 2));
	ck_assert_ptr_nonnull(strstr(json, "importance: permutation computed for the 1 of 3 columns"));
	cJSON_Delete(j);
	churn_free(json);
	churn_eda_free(e);
	churn_eda_importance_free(imp);
	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_eda_importance_refuses_null_unlabelled_and_foreign_matrix)
{
	churn_dataset *ds = make_signal(100, 2, true), *other = make_signal(100, 2, false);
	churn_prep *prep = NULL, *oprep = NULL;
	churn_matrix *x = NULL, *ox = NULL, *nolab = NULL;
	churn_eda_importance *imp = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, ds, &x), CHURN_OK);
	ck_assert_int_eq(churn_eda_importance_compute(NULL, x, NULL, &imp), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_eda_importance_compute(prep, NULL, NULL, &imp), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_eda_importance_compute(prep, x, NULL, NULL), CHURN_E_INVALID_ARG);
	/* a matrix of other features (no "noise" column), and the other way round */
	ck_assert_int_eq(churn_prep_fit(other, NULL, 0, NULL, &oprep), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(oprep, other, &ox), CHURN_OK);
	ck_assert_int_eq(churn_eda_importance_compute(prep, ox, NULL, &imp), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_eda_importance_compute(oprep, x, NULL, &imp), CHURN_E_INVALID_ARG);
	/* no labels */
	double v[4] = {0, 1, 2, 3};
	nolab = churn_test_matrix(4, 1, v, NULL);
	ck_assert_int_eq(churn_eda_importance_compute(prep, nolab, NULL, &imp), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(imp);
	ck_assert_uint_eq(churn_eda_importance_get_column_count(NULL), 0);
	ck_assert_ptr_null(churn_eda_importance_get_model(NULL));
	ck_assert_int_eq(churn_eda_set_importance_of(NULL, NULL), CHURN_E_INVALID_ARG);
	churn_eda_importance_free(NULL);
	churn_matrix_free(nolab);
	churn_matrix_free(ox);
	churn_matrix_free(x);
	churn_prep_free(oprep);
	churn_prep_free(prep);
	churn_dataset_free(other);
	churn_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("eda");
	TCase *tc = tcase_create("numerics");
	tcase_add_test(tc, test_eda_categorical_tests_and_histograms_match_reference);
	tcase_add_test(tc, test_eda_chi2_single_level_has_null_p_value);
	tcase_add_test(tc, test_eda_correlation_matches_pearson_refuses_bad_matrix);
	tcase_add_test(tc, test_eda_kaplan_meier_matches_textbook_freireich);
	tcase_add_test(tc, test_eda_revenue_at_risk_sums_by_segment_refuses_bad_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_eda_unknown_target_or_positive_and_bad_importance_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("importance");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_eda_importance_per_raw_column_sums_levels_ranks_signal);
	tcase_add_test(tc, test_eda_importance_options_cap_and_attach_to_eda_json);
	tcase_add_test(tc, test_eda_importance_refuses_null_unlabelled_and_foreign_matrix);
	suite_add_tcase(s, tc);
	tc = tcase_create("figures");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_eda_figures_written);
	tcase_add_test(tc, test_eda_draw_revenue_png_only_when_set_and_figures_on);
	tcase_add_test(tc, test_plot_model_figures_are_pngs);
	tcase_add_test(tc, test_plot_concurrent_threads_draw_complete_pngs);
	suite_add_tcase(s, tc);
	tc = tcase_create("wide");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_eda_correlation_wide_reduced);
	tcase_add_test(tc, test_eda_wide_dataset_figures);
	suite_add_tcase(s, tc);
	tc = tcase_create("telco");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_eda_telco_contract_rates_and_segment_curves);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
