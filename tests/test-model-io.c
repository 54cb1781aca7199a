/* Check suite of model artifacts: round trips (bit-identical) and bad files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

#include "test-common.h"

/* A logreg model fitted on tests/data/csv-telco-head.csv with its prep spec embedded. */
typedef struct fixture {
	churn_dataset *ds;
	churn_prep *prep;
	churn_matrix *x;
	churn_model *model;
} fixture;

static fixture fx;

static void setup(void)
{
	fx.ds = churn_test_load_data("csv-telco-head.csv");
	fx.model = churn_test_fit_with_prep(CHURN_MODEL_LOGREG, fx.ds, &fx.prep, &fx.x);
	ck_assert_int_eq(churn_model_set_metrics_json(fx.model, "{\"roc_auc\": 0.8123456789012345}"), CHURN_OK);
	ck_assert_int_eq(churn_model_set_training_info(fx.model, 123,
	                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), CHURN_OK);
	ck_assert_int_eq(churn_model_set_threshold(fx.model, 0.3141592653589793), CHURN_OK);
}

static void teardown(void)
{
	churn_model_free(fx.model);
	churn_matrix_free(fx.x);
	churn_prep_free(fx.prep);
	churn_dataset_free(fx.ds);
	memset(&fx, 0, sizeof(fx));
}

START_TEST(test_model_io_buffer_roundtrip_bit_identical)
{
	char *buf = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_model_to_buffer(fx.model, &buf, &n), CHURN_OK);
	ck_assert_uint_eq(n, strlen(buf));
	churn_model *back = NULL;
	ck_assert_int_eq(churn_model_from_buffer(buf, n, &back), CHURN_OK);
	size_t rows = churn_matrix_get_row_count(fx.x), nc = churn_model_get_feature_count(fx.model);
	double *p1 = churn_test_predict(fx.model, fx.x), *p2 = churn_test_predict(back, fx.x);
	ck_assert_int_eq(memcmp(p1, p2, rows * sizeof(double)), 0);
	double *w1 = malloc((nc + 1) * sizeof(double)), *w2 = malloc((nc + 1) * sizeof(double));
	size_t k;
	ck_assert_int_eq(churn_model_get_coefficients(fx.model, w1, nc + 1, &k), CHURN_OK);
	ck_assert_int_eq(churn_model_get_coefficients(back, w2, nc + 1, &k), CHURN_OK);
	ck_assert_int_eq(memcmp(w1, w2, (nc + 1) * sizeof(double)), 0);
	ck_assert_uint_eq(churn_model_get_feature_count(back), nc);
	for (size_t j = 0; j < nc; j++)
		ck_assert_str_eq(churn_model_get_feature_name(back, j), churn_model_get_feature_name(fx.model, j));
	ck_assert_int_eq(churn_model_get_kind(back), CHURN_MODEL_LOGREG);
	ck_assert_double_eq(churn_model_get_threshold(back), 0.3141592653589793);
	ck_assert_uint_eq(churn_model_get_training_row_count(back), 123);
	ck_assert_str_eq(churn_model_get_data_sha256(back),
	                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	ck_assert_ptr_nonnull(strstr(churn_model_get_metrics_json(back), "0.8123456789012345"));
	ck_assert_uint_eq(churn_model_get_iterations(back), churn_model_get_iterations(fx.model));
	ck_assert(churn_model_is_converged(back));
	/* the embedded prep spec scores raw rows identically */
	ck_assert_ptr_nonnull(churn_model_get_prep(back));
	churn_matrix *x2 = NULL;
	ck_assert_int_eq(churn_prep_apply(churn_model_get_prep(back), fx.ds, &x2), CHURN_OK);
	double *p3 = churn_test_predict(back, x2);
	ck_assert_int_eq(memcmp(p1, p3, rows * sizeof(double)), 0);
	/* a second save is byte-identical */
	char *buf2 = NULL;
	ck_assert_int_eq(churn_model_to_buffer(back, &buf2, &n), CHURN_OK);
	ck_assert_str_eq(buf, buf2);
	/* artifact contents a reader relies on */
	cJSON *o = cJSON_Parse(buf);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "format")->valuestring, "churn-model");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "version")->valueint, 1);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(o, "writer")->valuestring, "libchurn "));
	ck_assert_str_eq(cJSON_GetObjectItem(o, "kind")->valuestring, "logreg");
	cJSON *coefs = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "logreg"), "coefficients");
	ck_assert_int_eq(cJSON_GetArraySize(coefs), (int)nc);
	cJSON *c0 = cJSON_GetArrayItem(coefs, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(c0, "feature")->valuestring, churn_model_get_feature_name(fx.model, 0));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(c0, "odds_ratio")->valuedouble, exp(w1[0]), 1e-12);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(o, "prep")));
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(o, "params")));
	cJSON_Delete(o);
	churn_free(buf);
	churn_free(buf2);
	free(p1);
	free(p2);
	free(p3);
	free(w1);
	free(w2);
	churn_matrix_free(x2);
	churn_model_free(back);
}
END_TEST

START_TEST(test_model_io_file_roundtrip_predicts_same_bits)
{
	char *dir = churn_test_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/logreg.json", dir);
	ck_assert_int_eq(churn_model_save_file(fx.model, path), CHURN_OK);
	churn_model *back = NULL;
	ck_assert_int_eq(churn_model_load_file(path, &back), CHURN_OK);
	size_t rows = churn_matrix_get_row_count(fx.x);
	double *p1 = churn_test_predict(fx.model, fx.x), *p2 = churn_test_predict(back, fx.x);
	ck_assert_int_eq(memcmp(p1, p2, rows * sizeof(double)), 0);
	free(p1);
	free(p2);
	churn_model_free(back);
	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/no/such/dir/m.json", dir);
	ck_assert_int_ne(churn_model_save_file(fx.model, path), CHURN_OK);
	ck_assert_str_ne(churn_last_error(), "");
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_model_io_doubles_exact)
{
	/* extreme but finite coefficients survive the text form exactly */
	char *buf = NULL;
	size_t n;
	ck_assert_int_eq(churn_model_to_buffer(fx.model, &buf, &n), CHURN_OK);
	cJSON *o = cJSON_Parse(buf);
	cJSON *lr = cJSON_GetObjectItem(o, "logreg");
	cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(lr, "coefficients"), 0);
	static const double vals[] = {0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308,
	                              123456789.12345678};
	for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		/* written as %.17g text (cJSON's own printer rounds DBL_MAX up to inf) */
		char num[40];
		snprintf(num, sizeof(num), "%.17g", vals[k]);
		cJSON_ReplaceItemInObject(lr, "intercept", cJSON_CreateRaw(num));
		char *s = cJSON_Print(o);
		churn_model *m = NULL;
		ck_assert_msg(churn_model_from_buffer(s, strlen(s), &m) == CHURN_OK, "%s", churn_last_error());
		char *s2 = NULL;
		ck_assert_int_eq(churn_model_to_buffer(m, &s2, &n), CHURN_OK);
		cJSON *o2 = cJSON_Parse(s2);
		double back = cJSON_GetObjectItem(cJSON_GetObjectItem(o2, "logreg"), "intercept")->valuedouble;
		ck_assert_int_eq(memcmp(&back, &vals[k], sizeof(double)), 0);
		cJSON_Delete(o2);
		churn_free(s2);
		churn_model_free(m);
		free(s);
	}
	(void)c0;
	cJSON_Delete(o);
	churn_free(buf);
}
END_TEST

/* Load a mutated artifact and expect st with a detail containing want. */
static void expect_bad(const char *text, churn_status st, const char *want)
{
	churn_model *m = NULL;
	churn_status got = churn_model_from_buffer(text, strlen(text), &m);
	ck_assert_msg(got == st, "expected %s, got %s (%s)", churn_strerror(st), churn_strerror(got), churn_last_error());
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(churn_last_error(), want) != NULL, "detail '%s' lacks '%s'", churn_last_error(), want);
}

static void expect_bad_json(cJSON *o, churn_status st, const char *want)
{
	char *s = cJSON_Print(o);
	expect_bad(s, st, want);
	free(s);
}

START_TEST(test_model_io_bad_files_refused_with_detail)
{
	char *buf = NULL;
	size_t n;
	ck_assert_int_eq(churn_model_to_buffer(fx.model, &buf, &n), CHURN_OK);

	/* not JSON, truncated, trailing data */
	expect_bad("this is not a model", CHURN_E_PARSE, "malformed JSON");
	char *half = strndup(buf, n / 2);
	expect_bad(half, CHURN_E_PARSE, "truncated");
	free(half);
	char *extra = malloc(n + 8);
	snprintf(extra, n + 8, "%s xyz", buf);
	expect_bad(extra, CHURN_E_PARSE, "after the JSON");
	free(extra);
	expect_bad("[1, 2, 3]", CHURN_E_FORMAT, "not a JSON object");
	expect_bad("{}", CHURN_E_FORMAT, "format");

	cJSON *o;
	/* wrong format name */
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "format", cJSON_CreateString("churn-prep"));
	expect_bad_json(o, CHURN_E_FORMAT, "not a libchurn model");
	cJSON_Delete(o);
	/* newer version */
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "version", cJSON_CreateNumber(2));
	expect_bad_json(o, CHURN_E_FORMAT, "newer");
	cJSON_Delete(o);
	/* wrong kind */
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "kind", cJSON_CreateString("svm"));
	expect_bad_json(o, CHURN_E_FORMAT, "unknown model kind");
	cJSON_Delete(o);
	/* kind says another algorithm than the part present */
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "kind", cJSON_CreateString("forest"));
	expect_bad_json(o, CHURN_E_FORMAT, "forest");
	cJSON_Delete(o);
	/* missing algorithm part */
	o = cJSON_Parse(buf);
	cJSON_DeleteItemFromObject(o, "logreg");
	expect_bad_json(o, CHURN_E_FORMAT, "'logreg' part");
	cJSON_Delete(o);
	/* coefficient count disagrees with the features */
	o = cJSON_Parse(buf);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "logreg"), "coefficients"), 0);
	expect_bad_json(o, CHURN_E_FORMAT, "coefficients");
	cJSON_Delete(o);
	/* a coefficient of the wrong type */
	o = cJSON_Parse(buf);
	cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "logreg"), "coefficients"), 0);
	cJSON_ReplaceItemInObject(c0, "coef", cJSON_CreateString("1.5"));
	expect_bad_json(o, CHURN_E_FORMAT, "coefficients[0]");
	cJSON_Delete(o);
	/* threshold out of range, features not strings, bad sha */
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "threshold", cJSON_CreateNumber(7));
	expect_bad_json(o, CHURN_E_FORMAT, "threshold");
	cJSON_Delete(o);
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(o, "features"), 1, cJSON_CreateNumber(3));
	expect_bad_json(o, CHURN_E_FORMAT, "features[1]");
	cJSON_Delete(o);
	o = cJSON_Parse(buf);
	cJSON_ReplaceItemInObject(o, "data_sha256", cJSON_CreateString("zz"));
	expect_bad_json(o, CHURN_E_FORMAT, "data_sha256");
	cJSON_Delete(o);
	/* the prep spec disagrees with the model's feature count */
	o = cJSON_Parse(buf);
	cJSON *feats = cJSON_GetObjectItem(o, "features");
	cJSON_AddItemToArray(feats, cJSON_CreateString("extra"));
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "logreg"), "coefficients"),
	                     cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "logreg"),
	                                                                             "coefficients"), 0), true));
	expect_bad_json(o, CHURN_E_FORMAT, "prep spec");
	cJSON_Delete(o);

	/* files */
	churn_model *m = NULL;
	churn_status st = churn_model_load_file("/nonexistent/model.json", &m);
	ck_assert(st == CHURN_E_NOTFOUND || st == CHURN_E_IO);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "/nonexistent/model.json"));
	ck_assert_ptr_null(m);
	char *dir = churn_test_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	ck_assert(churn_test_write_file(path, "{\"format\": \"churn-model\", \"version\": 1, "));
	ck_assert_int_eq(churn_model_load_file(path, &m), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "bad.json"));
	churn_test_rmdir(dir);
	free(dir);
	ck_assert_int_eq(churn_model_from_buffer(NULL, 0, &m), CHURN_E_INVALID_ARG);
	churn_free(buf);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("model-io");
	TCase *tc = tcase_create("io");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_model_io_buffer_roundtrip_bit_identical);
	tcase_add_test(tc, test_model_io_file_roundtrip_predicts_same_bits);
	tcase_add_test(tc, test_model_io_doubles_exact);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_checked_fixture(te, setup, teardown);
	tcase_add_test(te, test_model_io_bad_files_refused_with_detail);
	suite_add_tcase(s, te);
	return s;
}

int main(void)
{
	return churn_test_run(io_suite());
}
