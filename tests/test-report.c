/* report.h: the documents front-ends serve, read from a workdir filled by the
 * pipeline API: details (no absolute paths, masked secrets), record windows,
 * the artifact list and path resolution (nothing outside the list), the best
 * model, content types, and a clear error before any run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

#include "test-common.h"

static char *wd; /* churn_test_tmp/wd, after one churn_pipeline_run */

static void setup(void)
{
	churn_test_tmp_setup();
	wd = churn_test_path(churn_test_tmp, "wd");
	churn_params *p = churn_test_params("data.source", "synthetic:800?seed=3", "pipeline.models", "logreg",
	                                    "pipeline.figures", "false", NULL);
	char *rec = NULL;
	ck_assert_int_eq(churn_pipeline_run(wd, p, &rec), CHURN_OK);
	churn_free(rec);
	churn_params_free(p);
}

static void teardown(void)
{
	churn_test_tmp_teardown();
	free(wd);
}

START_TEST(test_details_hide_paths_and_secrets)
{
	char *js = NULL;
	ck_assert_int_eq(churn_report_details_json(wd, &js), CHURN_OK);
	cJSON *d = churn_test_json_parse(js);
	ck_assert_str_eq(cJSON_GetObjectItem(d, "workdir")->valuestring, "wd");
	ck_assert_ptr_null(strstr(js, churn_test_tmp));
	ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(d, "dataset"), "rows")->valuedouble, 800);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "best_model"), "name")->valuestring, "logreg");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "last_data_run"), "status")->valuestring,
	                 "succeeded");
	cJSON_Delete(d);
	churn_free(js);
	/* a failed run from a local path and a URL with a token: neither the path nor the token shows */
	char *src = churn_test_path(churn_test_tmp, "no/such/file.csv");
	churn_params *p = churn_test_params("data.source", src, NULL);
	free(src);
	ck_assert_int_ne(churn_pipeline_data(wd, p, NULL), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "data.source", "http://127.0.0.1:1/x.csv?token=T0PSECRET"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "fetch.retries", "0"), CHURN_OK);
	ck_assert_int_ne(churn_pipeline_data(wd, p, NULL), CHURN_OK);
	churn_params_free(p);
	ck_assert_int_eq(churn_report_details_json(wd, &js), CHURN_OK);
	ck_assert_msg(!strstr(js, churn_test_tmp) && !strstr(js, "T0PSECRET") && strstr(js, "token=***"), "%s", js);
	churn_free(js);
}
END_TEST

START_TEST(test_records_window_limits_runs)
{
	char *js = NULL;
	ck_assert_int_eq(churn_report_records_json(wd, "reports/run_metadata.json", 1, &js), CHURN_OK);
	cJSON *d = churn_test_json_parse(js);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "runs")), 1);
	cJSON_Delete(d);
	churn_free(js);
	ck_assert_int_eq(churn_report_records_json(wd, "reports/run_metadata.json", 0, &js), CHURN_OK);
	d = churn_test_json_parse(js);
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(d, "runs")), 2); /* data and ml */
	cJSON_Delete(d);
	churn_free(js);
	ck_assert_int_eq(churn_report_records_json(wd, "reports/nope.json", 1, &js), CHURN_E_NOTFOUND);
}
END_TEST

START_TEST(test_artifact_paths_only_for_listed_names)
{
	char *js = NULL, *path = NULL;
	ck_assert_int_eq(churn_report_artifacts_json(wd, &js), CHURN_OK);
	cJSON *a = churn_test_json_parse(js), *e;
	bool model = false, dataset = false;
	cJSON_ArrayForEach(e, a)
	{
		const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
		ck_assert_ptr_null(strchr(name, '/'));
		ck_assert_int_eq(churn_report_artifact_path(wd, name, NULL, &path), CHURN_OK);
		ck_assert_ptr_nonnull(strstr(path, name));
		churn_free(path);
		model |= !strcmp(name, "logreg.json");
		dataset |= !strcmp(name, "churn.csv");
	}
	ck_assert(model && dataset);
	cJSON_Delete(a);
	churn_free(js);
	static const char *const bad[] = {"../reports/metrics.json", "..", ".current", "/etc/passwd", "logs",
	                                  "pipeline.log", "nope.json", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(churn_report_artifact_path(wd, bad[i], NULL, &path) == CHURN_E_NOTFOUND, "%s", bad[i]);
	ck_assert_int_eq(churn_report_artifact_path(wd, "logreg.json", "figure", &path), CHURN_E_NOTFOUND);
}
END_TEST

START_TEST(test_best_model_named_and_content_types_by_extension)
{
	char *name = NULL;
	ck_assert_int_eq(churn_report_best_model(wd, &name), CHURN_OK);
	ck_assert_str_eq(name, "logreg");
	churn_free(name);
	ck_assert_str_eq(churn_report_content_type("roc_curve.png"), "image/png");
	ck_assert_ptr_nonnull(strstr(churn_report_content_type("metrics.json"), "application/json"));
}
END_TEST

START_TEST(test_empty_workdir_says_to_run_churn)
{
	char *js = NULL, *empty = churn_test_tmpdir();
	ck_assert_int_eq(churn_report_details_json(empty, &js), CHURN_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "churn run"));
	ck_assert_int_eq(churn_report_best_model(empty, &js), CHURN_E_NOTFOUND);
	churn_test_rmdir(empty);
	free(empty);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_details_hide_paths_and_secrets);
	tcase_add_test(tc, test_records_window_limits_runs);
	tcase_add_test(tc, test_artifact_paths_only_for_listed_names);
	tcase_add_test(tc, test_best_model_named_and_content_types_by_extension);
	tcase_add_test(tc, test_empty_workdir_says_to_run_churn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(report_suite());
}
