/*
 * drift (white-box): PSI, the chi-square test of homogeneity and Wilson
 * intervals on hand-computed cases; the reference profile's bins; a
 * comparison that finds a moved column, an unseen level and schema changes;
 * no reference; bad references refused with the documented statuses; the
 * reference carried by a model artifact through a save and a load.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <churn.h>

#include "drift-private.h"
#include "test-common.h"

START_TEST(test_psi_hand_computed)
{
	/* e = .5 .3 .2, a = .3 .3 .4: .2 ln(.5/.3) + .2 ln 2 */
	const double ref[] = {50, 30, 20}, cur[] = {30, 30, 40};
	ck_assert_double_eq_tol(ch_drift_psi(ref, cur, 3), 0.2407945608651872, 1e-12);
	ck_assert_double_eq_tol(ch_drift_psi(ref, ref, 3), 0.0, 1e-15);
	/* proportions scale away: counts x 10 give the same PSI */
	const double ref10[] = {500, 300, 200};
	ck_assert_double_eq_tol(ch_drift_psi(ref10, cur, 3), 0.2407945608651872, 1e-12);
}
END_TEST

START_TEST(test_psi_empty_bin_uses_epsilon)
{
	/* the reference's empty bin counts as 1e-4: (.5 - 1) ln .5 + (.5 - 1e-4) ln(.5 / 1e-4) */
	const double ref[] = {10, 0}, cur[] = {5, 5};
	ck_assert_double_eq_tol(ch_drift_psi(ref, cur, 2), 4.60431846666895, 1e-12);
	const double none[] = {0, 0};
	ck_assert(isnan(ch_drift_psi(ref, none, 2)));
	ck_assert(isnan(ch_drift_psi(none, cur, 2)));
}
END_TEST

START_TEST(test_chisq_hand_computed)
{
	/* 2 x 2, every expected count 25: 4 x 5^2 / 25 = 4 on 1 df, p = 0.0455 */
	const double ref[] = {20, 30}, cur[] = {30, 20};
	double x2, df, p;
	ch_drift_chisq(ref, cur, 2, &x2, &df, &p);
	ck_assert_double_eq_tol(x2, 4.0, 1e-12);
	ck_assert_double_eq(df, 1.0);
	ck_assert_double_eq_tol(p, 0.04550026389635857, 1e-9);
	/* a bin empty on both sides is left out of the degrees of freedom; equal tables give p = 1 */
	const double a[] = {10, 0, 10};
	ch_drift_chisq(a, a, 3, &x2, &df, &p);
	ck_assert_double_eq(x2, 0.0);
	ck_assert_double_eq(df, 1.0);
	ck_assert_double_eq(p, 1.0);
	/* one bin left: no test */
	const double one[] = {0, 7, 0};
	ch_drift_chisq(one, one, 3, &x2, &df, &p);
	ck_assert(isnan(x2) && isnan(df) && isnan(p));
}
END_TEST

START_TEST(test_wilson_hand_computed)
{
	double lo, hi;
	ch_drift_wilson(5, 10, &lo, &hi);
	ck_assert_double_eq_tol(lo, 0.2365931, 1e-6);
	ck_assert_double_eq_tol(hi, 0.7634069, 1e-6);
	ch_drift_wilson(0, 10, &lo, &hi);
	ck_assert_double_eq(lo, 0.0);
	ck_assert_double_eq_tol(hi, 0.2775328, 1e-6);
	ch_drift_wilson(0, 0, &lo, &hi);
	ck_assert(isnan(lo) && isnan(hi));
}
END_TEST

START_TEST(test_bin_is_first_edge_at_or_above)
{
	const double e[] = {1, 2, 3};
	ck_assert_uint_eq(ch_drift_bin(e, 3, 0.5), 0);
	ck_assert_uint_eq(ch_drift_bin(e, 3, 1), 0);
	ck_assert_uint_eq(ch_drift_bin(e, 3, 1.5), 1);
	ck_assert_uint_eq(ch_drift_bin(e, 3, 3), 2);
	ck_assert_uint_eq(ch_drift_bin(e, 3, 3.5), 3);
	ck_assert_uint_eq(ch_drift_bin(e, 0, 3.5), 0);
}
END_TEST

enum { N = 100 };

/* N rows: x = 1..10 repeated, plan a/b alternating, Churn Yes on every fourth row, id unique. */
static churn_dataset *small(bool shift_plan, bool extra, bool drop_x)
{
	static char ids[N][8];
	double x[N];
	const char *plan[N], *churn[N], *id[N], *region[N];
	for (size_t i = 0; i < N; i++) {
		x[i] = (double)(i % 10 + 1);
		plan[i] = shift_plan ? (i % 10 == 0 ? "c" : "a") : (i % 2 ? "b" : "a");
		churn[i] = i % 4 == 0 ? "Yes" : "No";
		snprintf(ids[i], sizeof ids[i], "c%03zu", i);
		id[i] = ids[i];
		region[i] = "north";
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "customerID", id, N), CHURN_OK);
	if (!drop_x)
		ck_assert_int_eq(churn_dataset_add_numeric(ds, "x", x, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "plan", plan, N), CHURN_OK);
	if (extra)
		ck_assert_int_eq(churn_dataset_add_categorical(ds, "region", region, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, N), CHURN_OK);
	return ds;
}

static const cJSON *column(const cJSON *doc, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "columns"))
	{
		if (!strcmp(churn_test_json_str(c, "name"), name))
			return c;
	}
	return NULL;
}

START_TEST(test_reference_quantile_bins_and_target)
{
	churn_dataset *ds = small(false, false, false);
	churn_params *p = churn_test_params("drift.bins", "5", NULL);
	char *json = NULL;
	ck_assert_int_eq(churn_drift_reference_compute(ds, NULL, 0, p, &json), CHURN_OK);
	cJSON *doc = churn_test_json_parse(json);
	ck_assert_double_eq(churn_test_json_num(doc, "rows"), N);
	/* 1..10: the 20/40/60/80% lower quantiles are 2, 4, 6, 8; two values in each bin */
	const cJSON *x = column(doc, "x");
	ck_assert_ptr_nonnull(x);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(x, "edges"), *k = cJSON_GetObjectItemCaseSensitive(x, "counts");
	ck_assert_int_eq(cJSON_GetArraySize(e), 4);
	for (int i = 0; i < 4; i++)
		ck_assert_double_eq(cJSON_GetArrayItem(e, i)->valuedouble, 2.0 * (i + 1));
	for (int i = 0; i < 5; i++)
		ck_assert_double_eq(cJSON_GetArrayItem(k, i)->valuedouble, 20.0);
	/* the target and the ID column are not features of the profile */
	ck_assert_ptr_null(column(doc, "Churn"));
	ck_assert_ptr_null(column(doc, "customerID"));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "target");
	ck_assert_str_eq(churn_test_json_str(t, "positive"), "Yes");
	ck_assert_double_eq(churn_test_json_num(t, "positive_count"), 25);
	ck_assert_double_eq_tol(churn_test_json_num(t, "rate"), 0.25, 1e-15);
	cJSON_Delete(doc);
	churn_free(json);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

static cJSON *compare(const churn_dataset *ref_ds, const churn_dataset *cur)
{
	char *ref = NULL, *out = NULL;
	ck_assert_int_eq(churn_drift_reference_compute(ref_ds, NULL, 0, NULL, &ref), CHURN_OK);
	ck_assert_int_eq(churn_drift_compare(ref, cur, NULL, &out), CHURN_OK);
	cJSON *doc = churn_test_json_parse(out);
	churn_free(ref);
	churn_free(out);
	return doc;
}

START_TEST(test_compare_same_rows_flags_nothing)
{
	churn_dataset *ds = small(false, false, false);
	cJSON *doc = compare(ds, ds);
	ck_assert_str_eq(churn_test_json_str(doc, "status"), "compared");
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	ck_assert_str_eq(churn_test_json_str(sum, "status"), "stable");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum, "flagged")), 0);
	ck_assert_double_eq(churn_test_json_num(column(doc, "x"), "psi"), 0.0);
	ck_assert_double_eq(churn_test_json_num(column(doc, "plan"), "psi"), 0.0);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "target");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "overlap")));
	ck_assert_double_eq(churn_test_json_num(t, "change"), 0.0);
	cJSON_Delete(doc);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_compare_flags_moved_column_unseen_level_and_schema)
{
	churn_dataset *a = small(false, false, false), *b = small(true, true, true);
	cJSON *doc = compare(a, b);
	/* plan: a 50 / b 50 before; a 90 / c 10 (unseen) now: bins a, b, other */
	const cJSON *plan = column(doc, "plan");
	double e[] = {.5, .5, 1e-4}, g[] = {.9, 1e-4, .1}, want = 0;
	for (int i = 0; i < 3; i++)
		want += (g[i] - e[i]) * log(g[i] / e[i]);
	ck_assert_double_eq_tol(churn_test_json_num(plan, "psi"), want, 1e-12);
	ck_assert_str_eq(churn_test_json_str(plan, "status"), "alert");
	const cJSON *unseen = cJSON_GetObjectItemCaseSensitive(plan, "unseen");
	ck_assert_int_eq(cJSON_GetArraySize(unseen), 1);
	ck_assert_str_eq(churn_test_json_str(cJSON_GetArrayItem(unseen, 0), "value"), "c");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "schema");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "changed")));
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "removed"), 0)->valuestring, "x");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "added"), 0)->valuestring, "region");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "added")), 1);
	cJSON_Delete(doc);
	churn_dataset_free(a);
	churn_dataset_free(b);
}
END_TEST

START_TEST(test_compare_without_reference_says_so)
{
	churn_dataset *ds = small(false, false, false);
	char *out = NULL;
	ck_assert_int_eq(churn_drift_compare(NULL, ds, NULL, &out), CHURN_OK);
	cJSON *doc = churn_test_json_parse(out);
	ck_assert_str_eq(churn_test_json_str(doc, "status"), "no_reference");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "columns")), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "target")));
	cJSON_Delete(doc);
	churn_free(out);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_compare_refuses_bad_references)
{
	churn_dataset *ds = small(false, false, false);
	char *out = NULL;
	ck_assert_int_eq(churn_drift_compare("{\"format\": ", ds, NULL, &out), CHURN_E_PARSE);
	ck_assert_int_eq(churn_drift_compare("{\"format\": \"other\"}", ds, NULL, &out), CHURN_E_FORMAT);
	ck_assert_int_eq(churn_drift_compare("{\"format\": \"churn-drift-reference\", \"version\": 2, \"rows\": 1, "
	                                     "\"target\": {\"name\": \"Churn\"}, \"columns\": []}",
	                                     ds, NULL, &out),
	                 CHURN_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "newer"));
	/* edges not increasing */
	ck_assert_int_eq(churn_drift_compare("{\"format\": \"churn-drift-reference\", \"version\": 1, \"rows\": 1, "
	                                     "\"target\": {\"name\": \"Churn\", \"positive\": \"Yes\", \"rows\": 1, "
	                                     "\"positive_count\": 0}, \"columns\": [{\"name\": \"x\", \"type\": "
	                                     "\"numeric\", \"missing\": 0, \"edges\": [3, 2], \"counts\": [1, 0, 0]}]}",
	                                     ds, NULL, &out),
	                 CHURN_E_FORMAT);
	ck_assert_int_eq(churn_drift_compare(NULL, NULL, NULL, &out), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(out);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_artifact_keeps_the_reference_and_loads_without_one)
{
	churn_dataset *ds = small(false, false, false);
	churn_training *t = NULL;
	churn_params *p = churn_test_params("pipeline.models", "logreg", NULL);
	ck_assert_int_eq(churn_train(ds, NULL, p, &t), CHURN_OK);
	size_t n = 0;
	const char *bytes = churn_training_get_artifact(t, 0, &n);
	churn_model *m = NULL;
	ck_assert_int_eq(churn_model_from_buffer(bytes, n, &m), CHURN_OK);
	const char *ref = churn_model_get_reference_json(m);
	ck_assert_ptr_nonnull(ref);
	cJSON *doc = churn_test_json_parse(ref);
	size_t ntr = 0;
	churn_training_get_train_rows(t, &ntr);
	ck_assert_double_eq(churn_test_json_num(doc, "rows"), (double)ntr); /* the training rows, not all */
	cJSON_Delete(doc);
	/* without it (an artifact from before drift monitoring) the model still loads */
	ck_assert_int_eq(churn_model_set_reference_json(m, NULL), CHURN_OK);
	char *buf = NULL;
	size_t bn = 0;
	ck_assert_int_eq(churn_model_to_buffer(m, &buf, &bn), CHURN_OK);
	ck_assert_ptr_null(strstr(buf, "\"reference\""));
	churn_model *old = NULL;
	ck_assert_int_eq(churn_model_from_buffer(buf, bn, &old), CHURN_OK);
	ck_assert_ptr_null(churn_model_get_reference_json(old));
	ck_assert_int_eq(churn_model_set_reference_json(old, "[1]"), CHURN_E_PARSE);
	churn_model_free(old);
	churn_free(buf);
	churn_model_free(m);
	churn_training_free(t);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

static Suite *drift_suite(void)
{
	Suite *s = suite_create("drift");
	TCase *tc = tcase_create("stats");
	tcase_add_test(tc, test_psi_hand_computed);
	tcase_add_test(tc, test_psi_empty_bin_uses_epsilon);
	tcase_add_test(tc, test_chisq_hand_computed);
	tcase_add_test(tc, test_wilson_hand_computed);
	tcase_add_test(tc, test_bin_is_first_edge_at_or_above);
	suite_add_tcase(s, tc);
	tc = tcase_create("profiles");
	tcase_add_test(tc, test_reference_quantile_bins_and_target);
	tcase_add_test(tc, test_compare_same_rows_flags_nothing);
	tcase_add_test(tc, test_compare_flags_moved_column_unseen_level_and_schema);
	tcase_add_test(tc, test_compare_without_reference_says_so);
	tcase_add_test(tc, test_compare_refuses_bad_references);
	tcase_add_test(tc, test_artifact_keeps_the_reference_and_loads_without_one);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(drift_suite());
}
