/* Dataset built from memory: types, missing values, lookups, subsets. */
#include <churn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static churn_dataset *make_small(void)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double tenure[] = {1, 34, NAN, 45};
	const char *contract[] = {"Month-to-month", "One year", NULL, "Month-to-month"};
	const char *id[] = {"7590-VHVEG", "5575-GNVDE", "3668-QPYBK", NULL};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", tenure, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", contract, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "customer ID", id, 4), CHURN_OK);
	return ds;
}

START_TEST(test_dataset_columns_read_back_types_levels_and_missing)
{
	churn_dataset *ds = make_small();
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 4);
	ck_assert_uint_eq(churn_dataset_get_column_count(ds), 3);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 1), CHURN_COL_CATEGORICAL);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 2), CHURN_COL_TEXT);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 0), 1);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 1), 1);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 2), 1);
	ck_assert(churn_dataset_is_missing(ds, 0, 2));
	ck_assert(!churn_dataset_is_missing(ds, 0, 1));
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, 1), 2);
	ck_assert_str_eq(churn_dataset_get_level(ds, 1, 0), "Month-to-month");
	ck_assert_str_eq(churn_dataset_get_level(ds, 1, 1), "One year");
	const int32_t *codes = churn_dataset_get_codes(ds, 1);
	ck_assert_int_eq(codes[0], 0);
	ck_assert_int_eq(codes[1], 1);
	ck_assert_int_eq(codes[2], -1);
	ck_assert_str_eq(churn_dataset_get_text(ds, 2, 1), "5575-GNVDE");
	ck_assert_ptr_null(churn_dataset_get_text(ds, 2, 3));
	char buf[32];
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 0, 1, buf, sizeof buf), "34");
	ck_assert_ptr_null(churn_dataset_get_cell_text(ds, 0, 2, buf, sizeof buf));
	size_t j = 99;
	ck_assert_int_eq(churn_dataset_find_col(ds, "customer ID", &j), CHURN_OK);
	ck_assert_uint_eq(j, 2);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_dataset_bad_columns_refused_lookup_names_columns)
{
	churn_dataset *ds = make_small();
	size_t j = 0;
	ck_assert_int_eq(churn_dataset_find_col(ds, "Churn", &j), CHURN_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "tenure, Contract, customer ID"));
	double v[] = {1, 2, 3};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "short", v, 3), CHURN_E_INVALID_ARG);
	double w[] = {1, 2, 3, 4};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", w, 4), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "duplicate"));
	double inf[] = {1, INFINITY, 3, 4};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "x", inf, 4), CHURN_E_NUMERIC);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "", w, 4), CHURN_E_INVALID_ARG);
	ck_assert_uint_eq(churn_dataset_get_column_count(ds), 3);
	churn_dataset_free(ds);
	churn_dataset_free(NULL);
}
END_TEST

START_TEST(test_dataset_subset_rows_repeats_rows_refuses_out_of_range)
{
	churn_dataset *ds = make_small(), *sub = NULL;
	size_t idx[] = {3, 0, 3};
	ck_assert_int_eq(churn_dataset_subset_rows(ds, idx, 3, &sub), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_row_count(sub), 3);
	ck_assert_double_eq(churn_dataset_get_numeric(sub, 0)[0], 45);
	ck_assert_str_eq(churn_dataset_get_level(sub, 1, churn_dataset_get_codes(sub, 1)[1]), "Month-to-month");
	ck_assert_uint_eq(churn_dataset_get_missing_count(sub, 2), 2);
	size_t bad[] = {4};
	churn_dataset *none = NULL;
	ck_assert_int_eq(churn_dataset_subset_rows(ds, bad, 1, &none), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(none);
	churn_dataset_free(sub);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_matrix_subset_keeps_names_labels_refuses_non_binary)
{
	churn_matrix *m = NULL, *s = NULL;
	ck_assert_int_eq(churn_matrix_new(3, 2, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	for (int i = 0; i < 6; i++)
		d[i] = i;
	ck_assert_int_eq(churn_matrix_set_feature_name(m, 1, "Contract=One year"), CHURN_OK);
	uint8_t y[] = {0, 1, 1};
	ck_assert_int_eq(churn_matrix_set_labels(m, y, 3), CHURN_OK);
	uint8_t bad[] = {0, 2, 1};
	ck_assert_int_eq(churn_matrix_set_labels(m, bad, 3), CHURN_E_INVALID_ARG);
	size_t idx[] = {2, 1};
	ck_assert_int_eq(churn_matrix_subset_rows(m, idx, 2, &s), CHURN_OK);
	ck_assert_double_eq(churn_matrix_get_row(s, 0)[1], 5);
	ck_assert_str_eq(churn_matrix_get_feature_name(s, 1), "Contract=One year");
	ck_assert_str_eq(churn_matrix_get_feature_name(s, 0), "x0");
	ck_assert_uint_eq(churn_matrix_get_labels(s)[1], 1);
	churn_matrix_free(s);
	churn_matrix_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dataset");
	TCase *tc = tcase_create("create");
	tcase_add_test(tc, test_dataset_columns_read_back_types_levels_and_missing);
	tcase_add_test(tc, test_dataset_bad_columns_refused_lookup_names_columns);
	tcase_add_test(tc, test_dataset_subset_rows_repeats_rows_refuses_out_of_range);
	tcase_add_test(tc, test_matrix_subset_keeps_names_labels_refuses_non_binary);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
