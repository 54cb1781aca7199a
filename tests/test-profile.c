/* Profile: statistics by hand, target detection, JSON/CSV output and read-back, real Telco data. */
#include <churn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static churn_dataset *tiny(void)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double x[] = {1, 2, 3, 4, NAN};
	const char *cat[] = {"a", "b", "a", NULL, "a"};
	const char *txt[] = {"x", "y", "x", "z", NULL};
	const char *churn[] = {"No", "Yes", "No", "No", "Yes"};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "x", x, 5), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "cat", cat, 5), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "id text", txt, 5), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, 5), CHURN_OK);
	return ds;
}

static churn_profile *profile_of(const churn_dataset *ds, const char *target, const char *positive)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	if (target)
		ck_assert_int_eq(churn_params_set_str(p, "data.target", target), CHURN_OK);
	if (positive)
		ck_assert_int_eq(churn_params_set_str(p, "data.positive", positive), CHURN_OK);
	churn_profile *pr = NULL;
	ck_assert_int_eq(churn_profile_compute(ds, p, &pr), CHURN_OK);
	churn_params_free(p);
	return pr;
}

START_TEST(test_profile_compute_stats_match_hand_values)
{
	churn_dataset *ds = tiny();
	churn_profile *pr = profile_of(ds, NULL, NULL);
	ck_assert_uint_eq(churn_profile_get_row_count(pr), 5);
	ck_assert_uint_eq(churn_profile_get_column_count(pr), 4);
	ck_assert_str_eq(churn_profile_get_col_name(pr, 0), "x");
	ck_assert_int_eq(churn_profile_get_col_type(pr, 0), CHURN_COL_NUMERIC);
	ck_assert_uint_eq(churn_profile_get_col_missing(pr, 0), 1);
	ck_assert_uint_eq(churn_profile_get_col_present_count(pr, 0), 4);
	/* 1 2 3 4: mean 2.5, sample sd sqrt(5/3), quartiles at 0.75, 1.5, 2.25 (linear) */
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, 0, "mean"), 2.5, 1e-12);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, 0, "std"), sqrt(5.0 / 3.0), 1e-12);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 0, "min"), 1);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, 0, "p25"), 1.75, 1e-12);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, 0, "p50"), 2.5, 1e-12);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, 0, "p75"), 3.25, 1e-12);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 0, "max"), 4);
	ck_assert(isnan(churn_profile_get_col_stat(pr, 0, "bogus")));
	ck_assert(isnan(churn_profile_get_col_stat(pr, 1, "mean")));
	/* categorical: a 3, b 1, one missing */
	ck_assert_uint_eq(churn_profile_get_col_missing(pr, 1), 1);
	ck_assert_uint_eq(churn_profile_get_col_level_count(pr, 1), 2);
	size_t c = 0;
	ck_assert_str_eq(churn_profile_get_col_level(pr, 1, 0, &c), "a");
	ck_assert_uint_eq(c, 3);
	ck_assert_str_eq(churn_profile_get_col_level(pr, 1, 1, &c), "b");
	ck_assert_uint_eq(c, 1);
	ck_assert_ptr_null(churn_profile_get_col_level(pr, 1, 2, &c));
	/* text: 3 distinct of 4 */
	bool exact = false;
	ck_assert_uint_eq(churn_profile_get_col_distinct(pr, 2, &exact), 3);
	ck_assert(exact);
	ck_assert_uint_eq(churn_profile_get_col_missing(pr, 2), 1);
	ck_assert_str_eq(churn_profile_get_col_example(pr, 2), "x");
	/* target */
	ck_assert(churn_profile_has_target(pr));
	ck_assert_str_eq(churn_profile_get_target_name(pr), "Churn");
	ck_assert_str_eq(churn_profile_get_positive(pr), "Yes");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	ck_assert_double_eq_tol(churn_profile_get_target_rate(pr), 0.4, 1e-15);
	ck_assert_uint_eq(churn_profile_get_note_count(pr), 0);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_profile_edge_columns_give_null_stats_and_notes)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double allnan[] = {NAN, NAN, NAN};
	double one[] = {7, NAN, NAN};
	double neg[] = {-0.5, -2, 3e300};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "empty", allnan, 3), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "one", one, 3), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "neg", neg, 3), CHURN_OK);
	churn_profile *pr = profile_of(ds, NULL, NULL);
	ck_assert_uint_eq(churn_profile_get_col_present_count(pr, 0), 0);
	ck_assert(isnan(churn_profile_get_col_stat(pr, 0, "mean")));
	ck_assert(isnan(churn_profile_get_col_stat(pr, 0, "p50")));
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 1, "p75"), 7);
	ck_assert(isnan(churn_profile_get_col_stat(pr, 1, "std")));
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 2, "min"), -2);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 2, "p50"), -0.5);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 2, "max"), 3e300);
	ck_assert(!churn_profile_has_target(pr));
	char *json = NULL;
	ck_assert_int_eq(churn_profile_to_json(pr, &json), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"name\":\"empty\",\"type\":\"numeric\",\"missing\":3,\"count\":0,"
	                                   "\"mean\":null"));
	ck_assert_ptr_nonnull(strstr(json, "\"max\":3e+300"));
	ck_assert_ptr_nonnull(strstr(json, "\"target\":null"));
	churn_free(json);
	churn_profile_free(pr);
	churn_dataset_free(ds);

	/* no columns at all */
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	pr = profile_of(ds, NULL, NULL);
	ck_assert_uint_eq(churn_profile_get_row_count(pr), 0);
	ck_assert_uint_eq(churn_profile_get_column_count(pr), 0);
	ck_assert_uint_eq(churn_profile_get_note_count(pr), 1);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

/* One two-class target column; returns the profile. */
static churn_profile *target_case(const char *name, const char *const *vals, const double *nums, size_t n,
                                  const char *target, const char *positive)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "feature", f, n), CHURN_OK);
	if (vals)
		ck_assert_int_eq(churn_dataset_add_categorical(ds, name, vals, n), CHURN_OK);
	else
		ck_assert_int_eq(churn_dataset_add_numeric(ds, name, nums, n), CHURN_OK);
	churn_profile *pr = profile_of(ds, target, positive);
	churn_dataset_free(ds);
	return pr;
}

START_TEST(test_profile_target_detected_only_with_two_classes)
{
	static const char *const yn[] = {"No", "Yes", "No", "No", "yes", "No"};
	/* "Yes" and "yes" are one class: labels are compared trimmed, ignoring case */
	churn_profile *pr = target_case("Churn", yn, NULL, 6, NULL, NULL);
	ck_assert(churn_profile_has_target(pr));
	ck_assert_str_eq(churn_profile_get_positive(pr), "Yes");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	churn_profile_free(pr);
	/* --positive in any case names the same class, and counts its every spelling */
	pr = target_case("Churn", yn, NULL, 6, NULL, "YES");
	ck_assert_str_eq(churn_profile_get_positive(pr), "Yes");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	churn_profile_free(pr);
	/* three classes: a note naming them, no target */
	static const char *const three[] = {"No", "Yes", "No", "Maybe", "yes", "No"};
	pr = target_case("Churn", three, NULL, 6, NULL, NULL);
	ck_assert(!churn_profile_has_target(pr));
	ck_assert_msg(strstr(churn_profile_get_note(pr, 0), "3 classes ('No', 'Yes', 'Maybe'), the third first at row 4"),
	              "%s", churn_profile_get_note(pr, 0));
	churn_profile_free(pr);

	static const char *const tf[] = {"False", "True", "True", "False"};
	pr = target_case("Churn", tf, NULL, 4, NULL, NULL);
	ck_assert_str_eq(churn_profile_get_positive(pr), "True");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	ck_assert_double_eq_tol(churn_profile_get_target_rate(pr), 0.5, 1e-15);
	churn_profile_free(pr);

	static const char *const yn2[] = {"N", "Y", "N", "N"};
	pr = target_case("Churn", yn2, NULL, 4, NULL, NULL);
	ck_assert_str_eq(churn_profile_get_positive(pr), "Y");
	churn_profile_free(pr);

	/* numeric 0/1 target named otherwise */
	const double exited[] = {0, 1, 1, 0, 0, NAN, 1, 0};
	pr = target_case("Exited", NULL, exited, 8, "Exited", NULL);
	ck_assert(churn_profile_has_target(pr));
	ck_assert_str_eq(churn_profile_get_target_name(pr), "Exited");
	ck_assert_str_eq(churn_profile_get_positive(pr), "1");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 3);
	ck_assert_uint_eq(churn_profile_get_target_count(pr), 7);
	ck_assert_double_eq_tol(churn_profile_get_target_rate(pr), 3.0 / 7.0, 1e-15);
	churn_profile_free(pr);
	/* ... with the default target name it is absent: a note, not an error */
	pr = target_case("Exited", NULL, exited, 8, NULL, NULL);
	ck_assert(!churn_profile_has_target(pr));
	ck_assert(isnan(churn_profile_get_target_rate(pr)));
	ck_assert_uint_eq(churn_profile_get_note_count(pr), 1);
	ck_assert_ptr_nonnull(strstr(churn_profile_get_note(pr, 0), "'Churn' not found"));
	churn_profile_free(pr);

	/* numeric target with a third value: no target, as churn train would refuse it (with or without --positive) */
	const double score[] = {0, 1, 2, 0};
	for (int k = 0; k < 2; k++) {
		pr = target_case("Churn", NULL, score, 4, NULL, k ? "2" : NULL);
		ck_assert(!churn_profile_has_target(pr));
		ck_assert_ptr_nonnull(strstr(churn_profile_get_note(pr, 0), "3 classes ('0', '1', '2')"));
		churn_profile_free(pr);
	}
	const double two[] = {5, 7, 7, 5};
	pr = target_case("Churn", NULL, two, 4, NULL, "7.0");
	ck_assert_str_eq(churn_profile_get_positive(pr), "7");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	churn_profile_free(pr);

	/* unknown positive labels, unrecognisable pairs */
	static const char *const ab[] = {"stay", "leave", "stay", "stay"};
	pr = target_case("Churn", ab, NULL, 4, NULL, NULL);
	ck_assert(!churn_profile_has_target(pr));
	ck_assert_ptr_nonnull(strstr(churn_profile_get_note(pr, 0), "--positive"));
	churn_profile_free(pr);
	pr = target_case("Churn", ab, NULL, 4, NULL, "LEAVE");
	ck_assert_str_eq(churn_profile_get_positive(pr), "leave");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 1);
	churn_profile_free(pr);
	pr = target_case("Churn", ab, NULL, 4, NULL, "gone");
	ck_assert(!churn_profile_has_target(pr));
	churn_profile_free(pr);
}
END_TEST

START_TEST(test_profile_to_json_keys_and_round_trip)
{
	churn_dataset *ds = tiny();
	churn_profile *pr = profile_of(ds, NULL, NULL), *back = NULL;
	char *json = NULL, *json2 = NULL;
	ck_assert_int_eq(churn_profile_to_json(pr, &json), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(json, "{\"rows\":5,\"columns\":[{\"name\":\"x\",\"type\":\"numeric\",\"missing\":1,"
	                                   "\"count\":4,\"mean\":2.5,"));
	ck_assert_ptr_nonnull(strstr(json, "\"p25\":1.75,\"p50\":2.5,\"p75\":3.25,\"max\":4}"));
	ck_assert_ptr_nonnull(strstr(json, "\"levels\":[{\"value\":\"a\",\"count\":3},{\"value\":\"b\",\"count\":1}]"));
	ck_assert_ptr_nonnull(strstr(json, "\"target\":{\"name\":\"Churn\",\"positive\":\"Yes\",\"positive_count\":2,"
	                                   "\"count\":5,\"rate\":0.4}"));
	ck_assert_int_eq(churn_profile_from_json(json, &back), CHURN_OK);
	ck_assert_int_eq(churn_profile_to_json(back, &json2), CHURN_OK);
	ck_assert_str_eq(json, json2);
	ck_assert_double_eq(churn_profile_get_target_rate(back), 0.4);
	churn_free(json);
	churn_free(json2);
	churn_profile_free(back);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_profile_save_files_read_back)
{
	churn_dataset *ds = tiny();
	churn_profile *pr = profile_of(ds, NULL, NULL), *back = NULL;
	char *dir = churn_test_tmpdir();
	char pj[4096], pc[4096];
	snprintf(pj, sizeof pj, "%s/summary.json", dir);
	snprintf(pc, sizeof pc, "%s/summary.csv", dir);
	ck_assert_int_eq(churn_profile_save_json(pr, pj), CHURN_OK);
	ck_assert_int_eq(churn_profile_save_csv(pr, pc), CHURN_OK);
	ck_assert_int_eq(churn_profile_load_json(pj, &back), CHURN_OK);
	ck_assert_uint_eq(churn_profile_get_column_count(back), 4);
	ck_assert_str_eq(churn_profile_get_col_name(back, 2), "id text");
	ck_assert_double_eq(churn_profile_get_col_stat(back, 0, "p75"), 3.25);
	char *buf = churn_test_read_file(pc, NULL);
	ck_assert_ptr_nonnull(buf);
	ck_assert_str_eq(buf, "name,type,missing,count,mean,std,min,p25,p50,p75,max,levels\n"
	                      "x,numeric,1,4,2.5,1.2909944487358056,1,1.75,2.5,3.25,4,\n"
	                      "cat,categorical,1,4,,,,,,,,a:3;b:1\n"
	                      "id text,text,1,4,,,,,,,,\n"
	                      "Churn,categorical,0,5,,,,,,,,No:3;Yes:2\n");
	free(buf);
	churn_profile_free(back);
	churn_test_rmdir(dir);
	free(dir);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_profile_bad_input_refused)
{
	churn_profile *pr = NULL;
	ck_assert_int_eq(churn_profile_compute(NULL, NULL, &pr), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_ptr_null(pr);
	ck_assert_int_eq(churn_profile_from_json("not json", &pr), CHURN_E_PARSE);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_profile_from_json("{\"rows\":3}", &pr), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "columns"));
	ck_assert_int_eq(churn_profile_from_json("{\"rows\":1,\"columns\":[{\"name\":\"a\",\"type\":\"blob\","
	                                         "\"missing\":0}]}", &pr), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "blob"));
	ck_assert_int_eq(churn_profile_from_json("{\"rows\":1,\"columns\":[],\"target\":7}", &pr), CHURN_E_PARSE);
	ck_assert_ptr_null(pr);
	ck_assert_int_eq(churn_profile_load_json("/nonexistent/summary.json", &pr), CHURN_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "/nonexistent/summary.json"));
	churn_dataset *ds = tiny();
	pr = profile_of(ds, NULL, NULL);
	ck_assert_int_eq(churn_profile_save_json(pr, "/nonexistent-dir/summary.json"), CHURN_E_CREATE);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_profile_save_csv(pr, "/nonexistent-dir/summary.csv"), CHURN_E_CREATE);
	ck_assert_int_eq(churn_profile_to_json(pr, NULL), CHURN_E_INVALID_ARG);
	churn_profile_free(pr);
	churn_profile_free(NULL);
	churn_dataset_free(ds);
	/* getters on NULL */
	ck_assert_uint_eq(churn_profile_get_row_count(NULL), 0);
	ck_assert_ptr_null(churn_profile_get_col_name(NULL, 0));
	ck_assert(!churn_profile_has_target(NULL));
}
END_TEST

START_TEST(test_profile_synth_large_rate_and_distinct_ids)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(100000, 11, &ds), CHURN_OK);
	churn_profile *pr = profile_of(ds, NULL, NULL);
	ck_assert_str_eq(churn_profile_get_positive(pr), "Yes");
	double rate = churn_profile_get_target_rate(pr);
	ck_assert_msg(rate >= 0.24 && rate <= 0.28, "rate %g", rate);
	bool exact = false;
	ck_assert_uint_eq(churn_profile_get_col_distinct(pr, 0, &exact), 100000);
	double t = churn_profile_get_col_stat(pr, 5, "max");
	ck_assert_double_eq(t, 72);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_profile_other_churn_file_stats_and_positive_needed)
{
	/* spaces and punctuation in names, a numeric ID, a True/False target named Churned */
	churn_dataset *ds = churn_test_load_data("profile-other.csv");
	churn_profile *pr = profile_of(ds, "Churned", NULL);
	ck_assert_uint_eq(churn_profile_get_row_count(pr), 6);
	ck_assert_str_eq(churn_profile_get_col_name(pr, 1), "Monthly Fee ($)");
	ck_assert_int_eq(churn_profile_get_col_type(pr, 0), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_profile_get_col_type(pr, 1), CHURN_COL_NUMERIC);
	ck_assert_uint_eq(churn_profile_get_col_missing(pr, 1), 1);
	/* 9.99 19.5 29.5 49.99 49.99: p25 19.5, p50 29.5, p75 49.99 */
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 1, "p25"), 19.5);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 1, "p50"), 29.5);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, 1, "p75"), 49.99);
	size_t c = 0;
	ck_assert_str_eq(churn_profile_get_col_level(pr, 2, 0, &c), "basic");
	ck_assert_uint_eq(c, 3);
	ck_assert_str_eq(churn_profile_get_col_level(pr, 2, 1, &c), "pro, annual");
	/* "False" and "FALSE" are one class (labels are compared trimmed, ignoring case), "True" the positive */
	ck_assert(churn_profile_has_target(pr));
	ck_assert_str_eq(churn_profile_get_positive(pr), "True");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	churn_profile_free(pr);
	pr = profile_of(ds, "Churned", "true");
	ck_assert_str_eq(churn_profile_get_positive(pr), "True");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 2);
	ck_assert_double_eq_tol(churn_profile_get_target_rate(pr), 2.0 / 6.0, 1e-15);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_profile_telco_counts_types_and_rate)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	churn_profile *pr = profile_of(ds, NULL, NULL);
	ck_assert_uint_eq(churn_profile_get_row_count(pr), 7043);
	ck_assert_uint_eq(churn_profile_get_column_count(pr), 21);
	size_t j;
	ck_assert_int_eq(churn_dataset_find_col(ds, "TotalCharges", &j), CHURN_OK);
	ck_assert_int_eq(churn_profile_get_col_type(pr, j), CHURN_COL_NUMERIC);
	ck_assert_uint_eq(churn_profile_get_col_missing(pr, j), 11);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, j, "mean"), 2283.3004408418656, 1e-9);
	ck_assert_int_eq(churn_dataset_find_col(ds, "tenure", &j), CHURN_OK);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, j, "p25"), 9);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, j, "p50"), 29);
	ck_assert_double_eq(churn_profile_get_col_stat(pr, j, "p75"), 55);
	ck_assert_double_eq_tol(churn_profile_get_col_stat(pr, j, "std"), 24.55948102309423, 1e-9);
	ck_assert_str_eq(churn_profile_get_target_name(pr), "Churn");
	ck_assert_str_eq(churn_profile_get_positive(pr), "Yes");
	ck_assert_uint_eq(churn_profile_get_positive_count(pr), 1869);
	ck_assert_double_eq_tol(churn_profile_get_target_rate(pr), 0.2654, 1e-4);
	churn_profile_free(pr);
	churn_dataset_free(ds);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("numerics");
	tcase_add_test(tc, test_profile_compute_stats_match_hand_values);
	tcase_add_test(tc, test_profile_edge_columns_give_null_stats_and_notes);
	tcase_add_test(tc, test_profile_synth_large_rate_and_distinct_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("target");
	tcase_add_test(tc, test_profile_target_detected_only_with_two_classes);
	suite_add_tcase(s, tc);
	tc = tcase_create("io");
	tcase_add_test(tc, test_profile_to_json_keys_and_round_trip);
	tcase_add_test(tc, test_profile_save_files_read_back);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_profile_bad_input_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("real");
	tcase_add_test(tc, test_profile_other_churn_file_stats_and_positive_needed);
	tcase_add_test(tc, test_profile_telco_counts_types_and_rate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(profile_suite());
}
