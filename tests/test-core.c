/* Core: status strings, error detail, versions, params. */
#include <churn.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

START_TEST(test_strerror_never_null)
{
	for (int s = 0; s < 40; s++)
		ck_assert_ptr_nonnull(churn_strerror((churn_status)s));
	ck_assert_str_eq(churn_strerror(CHURN_OK), "success");
}
END_TEST

START_TEST(test_version_matches_header)
{
	ck_assert_str_eq(churn_version(), CHURN_VERSION_STRING);
	ck_assert_uint_eq(churn_version_num(), CHURN_VERSION_NUM);
	ck_assert(CHURN_VERSION_AT_LEAST(0, 0, 1));
}
END_TEST

START_TEST(test_params_set_overrides_default_and_survives_copy)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_str_eq(churn_params_get_str(p, "data.target"), "Churn");
	ck_assert_double_eq_tol(churn_params_get_double(p, "split.test_size"), 0.3, 1e-12);
	ck_assert(!churn_params_is_set(p, "split.test_size"));
	ck_assert_int_eq(churn_params_set_str(p, "split.test_size", "0.25"), CHURN_OK);
	ck_assert_double_eq_tol(churn_params_get_double(p, "split.test_size"), 0.25, 1e-12);
	ck_assert(churn_params_is_set(p, "split.test_size"));
	ck_assert_int_eq(churn_params_set_int(p, "split.seed", 7), CHURN_OK);
	ck_assert_int_eq(churn_params_get_int(p, "split.seed"), 7);
	churn_params *q = NULL;
	ck_assert_int_eq(churn_params_copy(p, &q), CHURN_OK);
	ck_assert_int_eq(churn_params_get_int(q, "split.seed"), 7);
	churn_params_free(q);
	churn_params_free(p);
}
END_TEST

/* No params: every getter answers the registry's default, as new params hold it. */
START_TEST(test_params_null_reads_registry_defaults)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_str_eq(churn_params_get_str(NULL, "data.target"), "Churn");
	ck_assert_double_eq(churn_params_get_double(NULL, "prep.max_unique_ratio"), 0.5);
	ck_assert_int_eq(churn_params_get_int(NULL, "prep.max_levels"), 100);
	ck_assert(churn_params_get_bool(NULL, "parquet.dictionary"));
	char *json = NULL;
	ck_assert_int_eq(churn_params_to_json(p, &json), CHURN_OK);
	/* every key of the registry, typed as it is */
	static const char *const keys[] = {"split.seed", "split.test_size", "pipeline.models", "gbm.n_trees",
	                                   "forest.n_trees", "logreg.C", "workdir.max_records", "eda.figures"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		ck_assert_int_eq(churn_params_get_int(NULL, keys[k]), churn_params_get_int(p, keys[k]));
		ck_assert_double_eq(churn_params_get_double(NULL, keys[k]), churn_params_get_double(p, keys[k]));
		ck_assert_int_eq(churn_params_get_bool(NULL, keys[k]), churn_params_get_bool(p, keys[k]));
		ck_assert_str_eq(churn_params_get_str(NULL, keys[k]), churn_params_get_str(p, keys[k]));
	}
	churn_free(json);
	churn_params_free(p);
}
END_TEST

START_TEST(test_params_refuse_unknown_keys_and_bad_values)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "no.such.key", "1"), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "no.such.key"));
	ck_assert_int_eq(churn_params_set_str(p, "split.test_size", "abc"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "split.test_size", "1.5"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_double(p, "split.test_size", -1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(p, "split.test_size", 1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "csv.skip_ragged", "maybe"), CHURN_E_INVALID_ARG);
	ck_assert_double_eq_tol(churn_params_get_double(p, "split.test_size"), 0.3, 1e-12);
	ck_assert_int_eq(churn_params_apply_json(p, "{\"split\": {\"seed\": 9}, \"data.target\": \"Exited\"}"), CHURN_OK);
	ck_assert_int_eq(churn_params_get_int(p, "split.seed"), 9);
	ck_assert_str_eq(churn_params_get_str(p, "data.target"), "Exited");
	ck_assert_int_eq(churn_params_apply_json(p, "{\"bogus\": 1}"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_apply_json(p, "[1,2"), CHURN_E_PARSE);
	char *json = NULL;
	ck_assert_int_eq(churn_params_to_json(p, &json), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"split.seed\":\t9"));
	churn_free(json);
	churn_params_free(p);
}
END_TEST

Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_strerror_never_null);
	tcase_add_test(tc, test_version_matches_header);
	tcase_add_test(tc, test_params_set_overrides_default_and_survives_copy);
	tcase_add_test(tc, test_params_null_reads_registry_defaults);
	tcase_add_test(tc, test_params_refuse_unknown_keys_and_bad_values);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(core_suite());
}
