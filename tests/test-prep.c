/* Prep: fit/apply, options, bad input, JSON round trip, single records, splits. */
#include <churn.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-common.h"

#define N8 8

static churn_dataset *make_small(void)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	const char *id[N8] = {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"};
	const char *gender[N8] = {"Female", "Male", "Male", "Male", "Female", "Female", "Male", "Female"};
	double senior[N8] = {0, 0, 0, 1, 0, 1, 0, 0};
	const char *partner[N8] = {"Yes", "No", "No", "No", "No", "Yes", "Yes", "No"};
	double tenure[N8] = {1, 34, 2, 45, 2, NAN, 10, 28};
	const char *contract[N8] = {"Month-to-month", "One year", "Month-to-month", "One year",
	                            "Month-to-month", "Two year", NULL, "Month-to-month"};
	const char *churn[N8] = {"No", "No", "Yes", "No", "Yes", "No", "Yes", "Yes"};
	ck_assert_int_eq(churn_dataset_add_text(ds, "customerID", id, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "gender", gender, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "SeniorCitizen", senior, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Partner", partner, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", tenure, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", contract, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, N8), CHURN_OK);
	return ds;
}

static void assert_finite(const churn_matrix *m)
{
	size_t n = churn_matrix_get_row_count(m) * churn_matrix_get_column_count(m);
	const double *x = churn_matrix_get_data_const(m);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(isfinite(x[i]), "non-finite value at %zu", i);
}

static size_t feat_index(const churn_prep *prep, const char *name)
{
	for (size_t j = 0; j < churn_prep_get_feature_count(prep); j++)
		if (strcmp(churn_prep_get_feature_name(prep, j), name) == 0)
			return j;
	ck_abort_msg("feature '%s' not found", name);
	return 0;
}

static bool has_feature(const churn_prep *prep, const char *name)
{
	for (size_t j = 0; j < churn_prep_get_feature_count(prep); j++)
		if (strcmp(churn_prep_get_feature_name(prep, j), name) == 0)
			return true;
	return false;
}

static double at(const churn_matrix *m, size_t i, size_t j)
{
	return churn_matrix_get_row(m, i)[j];
}

static const char *dropped_reason(const churn_prep *prep, const char *col)
{
	for (size_t k = 0; k < churn_prep_get_dropped_count(prep); k++)
		if (strcmp(churn_prep_get_dropped_column(prep, k), col) == 0)
			return churn_prep_get_dropped_reason(prep, k);
	return NULL;
}

/* ---- fit / apply ---- */

START_TEST(test_prep_fit_defaults_one_hot_and_scaled_features)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	const char *want[] = {"gender=Female", "gender=Male", "SeniorCitizen", "Partner=Yes", "tenure",
	                      "Contract=Month-to-month", "Contract=One year", "Contract=Two year"};
	ck_assert_uint_eq(churn_prep_get_feature_count(prep), 8);
	for (size_t j = 0; j < 8; j++)
		ck_assert_str_eq(churn_prep_get_feature_name(prep, j), want[j]);
	ck_assert_ptr_null(churn_prep_get_feature_name(prep, 8));
	ck_assert_str_eq(churn_prep_get_target(prep), "Churn");
	ck_assert_str_eq(churn_prep_get_positive(prep), "Yes");
	ck_assert_uint_eq(churn_prep_get_id_count(prep), 1);
	ck_assert_str_eq(churn_prep_get_id(prep, 0), "customerID");
	ck_assert_str_eq(dropped_reason(prep, "customerID"), "ID column");

	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	assert_finite(m);
	ck_assert_uint_eq(churn_matrix_get_row_count(m), N8);
	ck_assert_uint_eq(churn_matrix_get_column_count(m), 8);
	ck_assert_str_eq(churn_matrix_get_feature_name(m, 3), "Partner=Yes");
	const uint8_t *y = churn_matrix_get_labels(m);
	ck_assert_ptr_nonnull(y);
	uint8_t wy[N8] = {0, 0, 1, 0, 1, 0, 1, 1};
	ck_assert_mem_eq(y, wy, N8);
	/* Binary yes/no: one 0/1 column. */
	ck_assert_double_eq(at(m, 0, 3), 1);
	ck_assert_double_eq(at(m, 1, 3), 0);
	/* One-hot; missing Contract imputed with the most frequent level. */
	ck_assert_double_eq(at(m, 1, 6), 1);
	ck_assert_double_eq(at(m, 1, 5), 0);
	ck_assert_double_eq(at(m, 6, 5), 1);
	ck_assert_double_eq(at(m, 6, 6) + at(m, 6, 7), 0);
	/* tenure: median 10 imputed, then standard scaling (population std). */
	double t[N8] = {1, 34, 2, 45, 2, 10, 10, 28}, mu = 0, ss = 0;
	for (int i = 0; i < N8; i++)
		mu += t[i] / N8;
	for (int i = 0; i < N8; i++)
		ss += (t[i] - mu) * (t[i] - mu);
	double sd = sqrt(ss / N8);
	for (int i = 0; i < N8; i++)
		ck_assert_double_eq_tol(at(m, i, 4), (t[i] - mu) / sd, 1e-12);
	/* SeniorCitizen stays numeric (scaled), one column. */
	ck_assert(at(m, 3, 2) > 0 && at(m, 0, 2) < 0);
	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_fit_rows_subset_leaves_unseen_levels)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	/* Fit rows without "Two year": that level becomes unseen. */
	size_t rows[] = {0, 1, 2, 3, 4, 6};
	ck_assert_int_eq(churn_prep_fit(ds, rows, 6, NULL, &prep), CHURN_OK);
	ck_assert(!has_feature(prep, "Contract=Two year"));
	ck_assert_uint_eq(churn_prep_get_fit_row_count(prep), 6);
	churn_matrix *m = NULL;
	size_t unseen = 99, imputed = 99;
	ck_assert_int_eq(churn_prep_apply_rows_count(prep, ds, NULL, 0, &m, &unseen, &imputed), CHURN_OK);
	ck_assert_uint_eq(unseen, 1);
	ck_assert_uint_eq(imputed, 2); /* tenure row 6, Contract row 7 */
	size_t a = feat_index(prep, "Contract=Month-to-month"), b = feat_index(prep, "Contract=One year");
	ck_assert_double_eq(at(m, 5, a) + at(m, 5, b), 0); /* unseen: all zeros */
	assert_finite(m);
	churn_matrix_free(m);
	size_t pick[] = {7, 0};
	ck_assert_int_eq(churn_prep_apply_rows(prep, ds, pick, 2, &m), CHURN_OK);
	ck_assert_uint_eq(churn_matrix_get_row_count(m), 2);
	ck_assert_int_eq(churn_matrix_get_labels(m)[0], 1);
	ck_assert_int_eq(churn_matrix_get_labels(m)[1], 0);
	churn_matrix_free(m);
	size_t bad[] = {8};
	ck_assert_int_eq(churn_prep_apply_rows(prep, ds, bad, 1, &m), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_prep_fit(ds, bad, 1, NULL, &prep), CHURN_E_INVALID_ARG);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_options_change_imputation_scaling_and_indicators)
{
	churn_dataset *ds = make_small();
	churn_params *p = churn_test_params(NULL);
	churn_prep *prep = NULL;
	churn_matrix *m = NULL;
	size_t j;

	/* mean + indicator + no scaling */
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_numeric", "mean"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "prep.missing_indicator", true), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "none"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert(has_feature(prep, "tenure_missing"));
	ck_assert(!has_feature(prep, "SeniorCitizen_missing")); /* no missing values there */
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	j = feat_index(prep, "tenure");
	ck_assert_double_eq_tol(at(m, 5, j), (1 + 34 + 2 + 45 + 2 + 10 + 28) / 7.0, 1e-12);
	ck_assert_double_eq(at(m, 1, j), 34);
	ck_assert_double_eq(at(m, 5, j + 1), 1);
	ck_assert_double_eq(at(m, 4, j + 1), 0);
	assert_finite(m);
	churn_matrix_free(m);
	churn_prep_free(prep);

	/* constant + minmax */
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_numeric", "constant"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_double(p, "prep.impute_constant", -5), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "prep.missing_indicator", false), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "minmax"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	j = feat_index(prep, "tenure");
	ck_assert_double_eq(at(m, 5, j), 0);                  /* -5 is the minimum */
	ck_assert_double_eq(at(m, 3, j), 1);                  /* 45 the maximum */
	ck_assert_double_eq_tol(at(m, 0, j), 6.0 / 50, 1e-15);
	churn_matrix_free(m);
	churn_prep_free(prep);

	/* categorical missing level */
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_categorical", "missing_level"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert(has_feature(prep, "Contract=(missing)"));
	ck_assert(!has_feature(prep, "gender=(missing)"));
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	j = feat_index(prep, "Contract=(missing)");
	ck_assert_double_eq(at(m, 6, j), 1);
	ck_assert_double_eq(at(m, 6, feat_index(prep, "Contract=Month-to-month")), 0);
	ck_assert_double_eq(at(m, 0, j), 0);
	churn_matrix_free(m);
	churn_prep_free(prep);

	/* Bad enum values: clear INVALID_ARG at fit time. */
	prep = NULL;
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "robust"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "prep.scale"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "robust"));
	ck_assert_ptr_null(prep);
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "none"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_numeric", "mode"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_numeric", "median"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "prep.impute_categorical", "median"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");

	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_ids_dropped_text_parsed_encoded_or_dropped)
{
	churn_dataset *ds = make_small();
	const char *note[N8] = {"a", "b", "c", "d", "e", "f", "g", "h"};            /* too unique */
	const char *charges[N8] = {"1.5", " 2 ", "", "4", "NaN", "6", "7.25", "8"}; /* numbers as text */
	const char *plan[N8] = {"x", "y", "x", "y", "x", "y", "x", "y"};             /* low-cardinality text */
	ck_assert_int_eq(churn_dataset_add_text(ds, "note", note, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "charges", charges, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "plan", plan, N8), CHURN_OK);
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_str(p, "data.id", "gender, customerID"), CHURN_OK);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_uint_eq(churn_prep_get_id_count(prep), 2);
	ck_assert_str_eq(churn_prep_get_id(prep, 0), "gender");
	ck_assert(!has_feature(prep, "gender=Male"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "note"), "too unique"));
	ck_assert(has_feature(prep, "charges"));
	ck_assert(has_feature(prep, "plan=x") && has_feature(prep, "plan=y"));
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	assert_finite(m);
	churn_matrix_free(m);
	char *json = NULL;
	ck_assert_int_eq(churn_prep_to_json(prep, &json), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"dropped\""));
	ck_assert_ptr_nonnull(strstr(json, "too unique"));
	churn_free(json);
	churn_prep_free(prep);

	/* An ID column that does not exist. */
	ck_assert_int_eq(churn_params_set_str(p, "data.id", "nope"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "nope"));
	/* prep.max_levels */
	ck_assert_int_eq(churn_params_set_str(p, "data.id", ""), CHURN_OK);
	ck_assert_int_eq(churn_params_set_double(p, "prep.max_unique_ratio", 1), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "prep.max_levels", 5), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "note"), "prep.max_levels"));
	ck_assert_ptr_nonnull(dropped_reason(prep, "customerID"));
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_constant_and_empty_columns_dropped_with_reason)
{
	churn_dataset *ds = make_small();
	double c[N8] = {3, 3, 3, NAN, 3, 3, 3, 3}, allnan[N8];
	for (int i = 0; i < N8; i++)
		allnan[i] = NAN;
	const char *one[N8] = {"x", "x", "x", "x", "x", "x", "x", "x"};
	const char *none[N8] = {0};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "const", c, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "empty", allnan, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "onelevel", one, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "nolevel", none, N8), CHURN_OK);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	ck_assert_uint_eq(churn_prep_get_feature_count(prep), 8);
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "const"), "constant"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "empty"), "missing"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "onelevel"), "constant"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "nolevel"), "missing"));
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	assert_finite(m);
	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_dataset_free(ds);

	/* Nothing usable at all. */
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	const char *yn[4] = {"Yes", "No", "Yes", "No"};
	double k[4] = {1, 1, 1, 1};
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", yn, 4), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "k", k, 4), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "no usable feature"));
	churn_dataset_free(ds);
}
END_TEST


/* ---- screening: identifier-like and leaking columns ---- */

/* A bank-like table of n rows: row number, customer number, codes, a balance, an age, a leak, a status. */
static churn_dataset *bank_like(size_t n)
{
	double *rown = malloc(n * sizeof(double)), *cust = malloc(n * sizeof(double)), *bal = malloc(n * sizeof(double));
	double *age = malloc(n * sizeof(double)), *leak = malloc(n * sizeof(double));
	const char **code = malloc(n * sizeof(char *)), **y = malloc(n * sizeof(char *)), **status = malloc(n * sizeof(char *));
	char (*codes)[16] = malloc(n * 16);
	churn_test_rng_seed(77);
	for (size_t i = 0; i < n; i++) {
		bool churned = churn_test_urand() < 0.3 + 0.2 * (double)(i % 5 == 0);
		rown[i] = (double)(i + 1);
		cust[i] = 15500000.0 + (double)(i * 37 % 100003);
		bal[i] = floor(churn_test_urand() * 1e7) / 100; /* money: distinct, not whole */
		age[i] = 18 + floor(churn_test_urand() * 60);     /* whole, repeats */
		leak[i] = churned ? 5 + churn_test_urand() : churn_test_urand(); /* computed from the target */
		snprintf(codes[i], 16, "C%06zu", i * 7919 % 1000003);
		code[i] = codes[i];
		y[i] = churned ? "Yes" : "No";
		status[i] = churned ? "closed" : "open";
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "RowNumber", rown, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "CustomerNo", cust, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "Code", code, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Balance", bal, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Age", age, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Refund", leak, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Status", status, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, n), CHURN_OK);
	free(rown), free(cust), free(bal), free(age), free(leak), free(code), free(y), free(status), free(codes);
	return ds;
}

START_TEST(test_prep_identifiers_and_leaks_left_out_unless_kept)
{
	churn_dataset *ds = bank_like(600);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	const char *r;
	ck_assert_ptr_nonnull((r = dropped_reason(prep, "RowNumber")) && strstr(r, "identifier-like") ? r : NULL);
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "CustomerNo"), "different whole number"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Code"), "different code"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Refund"), "leaks the target"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Status"), "ROC AUC 1.0000"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Status"), "prep.keep_columns"));
	/* real features stay: a balance distinct in every row but not whole, an age that repeats */
	ck_assert_ptr_null(dropped_reason(prep, "Balance"));
	ck_assert_ptr_null(dropped_reason(prep, "Age"));
	ck_assert_uint_eq(churn_prep_get_feature_count(prep), 2);
	churn_prep_free(prep);
	/* kept when named */
	churn_params *p = churn_test_params("prep.keep_columns", "RowNumber, Refund", NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_ptr_null(dropped_reason(prep, "RowNumber"));
	ck_assert_ptr_null(dropped_reason(prep, "Refund"));
	ck_assert_ptr_nonnull(dropped_reason(prep, "CustomerNo"));
	ck_assert_uint_eq(churn_prep_get_feature_count(prep), 4);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
	/* a handful of rows says little: nothing screened below CH_SCREEN_MIN_ROWS (50) */
	ds = bank_like(40);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	ck_assert_ptr_null(dropped_reason(prep, "RowNumber"));
	ck_assert_ptr_null(dropped_reason(prep, "Refund"));
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

/* ---- target ---- */

static churn_dataset *with_target(const char *const *t, size_t n, bool numeric, const double *tn)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double x[16];
	for (size_t i = 0; i < n; i++)
		x[i] = (double)i;
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "x", x, n), CHURN_OK);
	if (numeric)
		ck_assert_int_eq(churn_dataset_add_numeric(ds, "Churn", tn, n), CHURN_OK);
	else
		ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", t, n), CHURN_OK);
	return ds;
}

START_TEST(test_prep_bad_target_refused_with_detail)
{
	churn_prep *prep = NULL;
	churn_params *p = churn_test_params(NULL);
	/* Missing column: the detail lists the columns there are. */
	churn_dataset *ds = make_small();
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "Exited"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "Exited"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "customerID, gender"));
	ck_assert_ptr_null(prep);
	churn_dataset_free(ds);
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "Churn"), CHURN_OK);

	const char *one[] = {"No", "No", "No", "No"};
	ds = with_target(one, 4, false, NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "one class"));
	churn_dataset_free(ds);

	const char *three[] = {"No", "Yes", "Maybe", "No"};
	ds = with_target(three, 4, false, NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "3 classes"));
	churn_dataset_free(ds);

	const char *miss[] = {"No", "Yes", NULL, "No", "Yes", NULL};
	ds = with_target(miss, 6, false, NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "missing in 2 rows"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 3"));
	ck_assert_int_eq(churn_params_set_bool(p, "prep.drop_missing_target", true), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_uint_eq(churn_prep_get_dropped_target_row_count(prep), 2);
	ck_assert_uint_eq(churn_prep_get_fit_row_count(prep), 4);
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	ck_assert_uint_eq(churn_matrix_get_row_count(m), 4); /* rows with a missing target left out */
	churn_matrix_free(m);
	uint8_t *y = NULL;
	size_t ny = 0;
	ck_assert_int_eq(churn_prep_get_labels(prep, ds, &y, &ny), CHURN_E_PARSE);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	ck_assert_int_eq(churn_params_set_bool(p, "prep.drop_missing_target", false), CHURN_OK);

	/* No yes-like label: ask for --positive. */
	const char *odd[] = {"stayed", "left", "left", "stayed"};
	ds = with_target(odd, 4, false, NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "positive"));
	ck_assert_int_eq(churn_params_set_str(p, "data.positive", "LEFT"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_str_eq(churn_prep_get_positive(prep), "left");
	ck_assert_int_eq(churn_prep_get_labels(prep, ds, &y, &ny), CHURN_OK);
	ck_assert_uint_eq(ny, 4);
	ck_assert_int_eq(y[0] * 1000 + y[1] * 100 + y[2] * 10 + y[3], 110);
	churn_free(y);
	churn_prep_free(prep);
	ck_assert_int_eq(churn_params_set_str(p, "data.positive", "gone"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "gone"));
	churn_dataset_free(ds);
	ck_assert_int_eq(churn_params_set_str(p, "data.positive", ""), CHURN_OK);

	/* Numeric 0/1 target: positive 1. */
	double t01[] = {0, 1, 1, 0, 0};
	ds = with_target(NULL, 5, true, t01);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_str_eq(churn_prep_get_positive(prep), "1");
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	ck_assert_int_eq(churn_matrix_get_labels(m)[1], 1);
	ck_assert_int_eq(churn_matrix_get_labels(m)[0], 0);
	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	double t3[] = {0, 1, 2, 0, 0};
	ds = with_target(NULL, 5, true, t3);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_E_PARSE);
	ck_assert_msg(strstr(churn_last_error(), "has 3 classes ('0', '1', '2'), the third first at row 3;"), "%s",
	              churn_last_error());
	churn_dataset_free(ds);

	/* Lowercase yes/no target; "True"/"False". */
	const char *tf[] = {"False", "True", "False", "True"};
	ds = with_target(tf, 4, false, NULL);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	ck_assert_str_eq(churn_prep_get_positive(prep), "True");
	churn_prep_free(prep);
	churn_dataset_free(ds);
	churn_params_free(p);
}
END_TEST

START_TEST(test_prep_apply_without_target_or_id_scores)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	/* A scoring dataset without the target (and without the ID). */
	churn_dataset *sc = NULL;
	ck_assert_int_eq(churn_dataset_new(&sc), CHURN_OK);
	const char *contract[2] = {"Two year", "Month-to-month"};
	double tenure[2] = {5, 70};
	ck_assert_int_eq(churn_dataset_add_categorical(sc, "Contract", contract, 2), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(sc, "tenure", tenure, 2), CHURN_OK);
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, sc, &m), CHURN_OK);
	ck_assert_ptr_null(churn_matrix_get_labels(m));
	ck_assert_double_eq(at(m, 0, feat_index(prep, "Contract=Two year")), 1);
	assert_finite(m);
	churn_matrix_free(m);
	uint8_t *y = NULL;
	size_t ny;
	ck_assert_int_eq(churn_prep_get_labels(prep, sc, &y, &ny), CHURN_E_NOTFOUND);
	churn_dataset_free(sc);
	/* A target value that is neither label. */
	ck_assert_int_eq(churn_dataset_new(&sc), CHURN_OK);
	const char *bad[2] = {"Yes", "Perhaps"};
	ck_assert_int_eq(churn_dataset_add_numeric(sc, "tenure", tenure, 2), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(sc, "Churn", bad, 2), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, sc, &m), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "Perhaps"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 2"));
	churn_dataset_free(sc);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

/* ---- type changes and bad input ---- */

START_TEST(test_prep_apply_type_change_parsed_or_refused)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	churn_matrix *ref = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &ref), CHURN_OK);

	/* tenure arrives as text holding numbers: parsed, same features. */
	churn_dataset *t = NULL;
	ck_assert_int_eq(churn_dataset_new(&t), CHURN_OK);
	const char *ten[2] = {"34", "NaN"};
	const char *senior[2] = {"0", "1"};
	ck_assert_int_eq(churn_dataset_add_text(t, "tenure", ten, 2), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(t, "SeniorCitizen", senior, 2), CHURN_OK);
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, t, &m), CHURN_OK);
	size_t j = feat_index(prep, "tenure");
	ck_assert_double_eq(at(m, 0, j), at(ref, 1, j));
	ck_assert_double_eq(at(m, 1, j), at(ref, 5, j)); /* NaN token: imputed */
	assert_finite(m);
	churn_matrix_free(m);
	churn_dataset_free(t);

	/* tenure arrives as words: PARSE naming column and row. */
	m = NULL;
	ck_assert_int_eq(churn_dataset_new(&t), CHURN_OK);
	const char *words[3] = {"12", "", "twelve"};
	ck_assert_int_eq(churn_dataset_add_categorical(t, "tenure", words, 3), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, t, &m), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "'tenure'"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 3"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "twelve"));
	ck_assert_ptr_null(m);
	churn_dataset_free(t);
	/* Inf as text is not a number either. */
	ck_assert_int_eq(churn_dataset_new(&t), CHURN_OK);
	const char *inf[1] = {"inf"};
	ck_assert_int_eq(churn_dataset_add_text(t, "tenure", inf, 1), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, t, &m), CHURN_E_PARSE);
	churn_dataset_free(t);

	/* Categorical fitted, numeric at apply: numbers matched as text. */
	ck_assert_int_eq(churn_dataset_new(&t), CHURN_OK);
	double partner[2] = {1, 0};
	ck_assert_int_eq(churn_dataset_add_numeric(t, "Partner", partner, 2), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(prep, t, &m), CHURN_OK);
	ck_assert_double_eq(at(m, 0, feat_index(prep, "Partner=Yes")), 1); /* 1/0 as yes/no of a binary column */
	ck_assert_double_eq(at(m, 1, feat_index(prep, "Partner=Yes")), 0);
	churn_matrix_free(m);
	churn_dataset_free(t);

	/* Huge values that overflow when scaled: NUMERIC, never Inf in the matrix. */
	ck_assert_int_eq(churn_dataset_new(&t), CHURN_OK);
	double huge[1] = {-1.7e308};
	ck_assert_int_eq(churn_dataset_add_numeric(t, "tenure", huge, 1), CHURN_OK);
	churn_prep *p2 = NULL;
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "minmax"), CHURN_OK);
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &p2), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(p2, t, &m), CHURN_OK);
	assert_finite(m);
	churn_matrix_free(m);
	churn_prep_free(p2);
	churn_params_free(p);
	churn_dataset_free(t);

	churn_matrix_free(ref);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_csv_files_fit_apply_and_write)
{
	churn_dataset *ds = churn_test_load_data("prep-small.csv");
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	assert_finite(m);
	ck_assert(has_feature(prep, "TotalCharges"));
	ck_assert(has_feature(prep, "SeniorCitizen"));
	ck_assert(has_feature(prep, "PaperlessBilling=Yes"));
	ck_assert(has_feature(prep, "InternetService=No"));
	ck_assert_ptr_nonnull(dropped_reason(prep, "customerID"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Region"), "constant"));
	ck_assert_ptr_nonnull(strstr(dropped_reason(prep, "Notes"), "missing"));
	ck_assert_uint_eq(churn_matrix_get_row_count(m), churn_dataset_get_row_count(ds));

	/* Apply to a second CSV whose TotalCharges has words and whose Contract has a new level. */
	churn_dataset *ds2 = churn_test_load_data("prep-apply-new-level.csv");
	churn_matrix *m2 = NULL;
	size_t unseen = 0;
	ck_assert_int_eq(churn_prep_apply_rows_count(prep, ds2, NULL, 0, &m2, &unseen, NULL), CHURN_OK);
	ck_assert_uint_eq(unseen, 1);
	assert_finite(m2);
	churn_matrix_free(m2);
	churn_dataset_free(ds2);
	ds2 = churn_test_load_data("prep-apply-type-change.csv");
	ck_assert_int_eq(churn_prep_apply(prep, ds2, &m2), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "TotalCharges"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 2"));
	churn_dataset_free(ds2);

	/* Inf in a numeric column is the CSV reader's parse error. */
	char *path = churn_test_data_path("prep-inf.csv");
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &ds2, NULL), CHURN_E_PARSE);
	ck_assert_str_ne(churn_last_error(), "");
	free(path);

	/* Processed CSV and report. */
	char *dir = churn_test_tmpdir();
	char out[512];
	snprintf(out, sizeof out, "%s/p.csv", dir);
	const char *ids[64];
	size_t idj;
	ck_assert_int_eq(churn_dataset_find_col(ds, "customerID", &idj), CHURN_OK);
	for (size_t i = 0; i < churn_dataset_get_row_count(ds); i++)
		ids[i] = churn_dataset_get_text(ds, idj, i);
	ck_assert_int_eq(churn_prep_write_csv(prep, m, "customerID", ids, out), CHURN_OK);
	churn_dataset *back = NULL;
	ck_assert_int_eq(churn_csv_read_file(out, NULL, &back, NULL), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_column_count(back), churn_matrix_get_column_count(m) + 2);
	ck_assert_str_eq(churn_dataset_get_col_name(back, 0), "customerID");
	for (size_t j = 0; j < churn_matrix_get_column_count(m); j++) {
		const double *col = churn_dataset_get_numeric(back, j + 1);
		ck_assert_ptr_nonnull(col);
		for (size_t i = 0; i < churn_matrix_get_row_count(m); i++)
			ck_assert_msg(col[i] == at(m, i, j), "csv value (%zu,%zu) differs", i, j);
	}
	churn_dataset_free(back);
	snprintf(out, sizeof out, "%s/nodir/p.csv", dir);
	ck_assert_int_eq(churn_prep_write_csv(prep, m, NULL, NULL, out), CHURN_E_CREATE);
	char *rep = NULL;
	ck_assert_int_eq(churn_prep_report_json(prep, ds, NULL, 0, &rep), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(rep, "\"role\":\"target\""));
	ck_assert_ptr_nonnull(strstr(rep, "\"role\":\"id\""));
	ck_assert_ptr_nonnull(strstr(rep, "\"after\""));
	churn_free(rep);
	churn_test_rmdir(dir);
	free(dir);

	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_prep_write_csv_numbers_exact)
{
	/* Every double the CSV writer prints reads back bit-identical. */
	enum { N = 20000 };
	double *x = malloc(N * sizeof(double)), *z = malloc(N * sizeof(double));
	const char **t = malloc(N * sizeof(char *));
	uint64_t s = 12345;
	for (size_t i = 0; i < N; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t bits = s;
		double v;
		if (i % 4 == 0) { /* any finite bit pattern */
			memcpy(&v, &bits, sizeof v);
			if (!isfinite(v))
				v = 1.5;
		} else if (i % 4 == 1) { /* scaled-like values */
			v = ((double)(bits >> 11) / 9007199254740992.0 - 0.5) * 6;
		} else if (i % 4 == 2) { /* money */
			v = (double)(bits % 1000000) / 100;
		} else {
			v = ldexp((double)(bits >> 11), (int)(bits % 200) - 150);
		}
		x[i] = v;
		z[i] = (double)(i % 3);
		t[i] = i % 2 ? "Yes" : "No";
	}
	x[0] = 5e-324;
	x[1] = 1.7976931348623157e308;
	x[2] = -0.1;
	x[3] = 1e22;
	x[4] = 123456789012345678.0;
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "x", x, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "z", z, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", t, N), CHURN_OK);
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_str(p, "prep.scale", "none"), CHURN_OK);
	churn_prep *prep = NULL;
	churn_status fst = churn_prep_fit(ds, NULL, 0, p, &prep);
	ck_assert_msg(fst == CHURN_OK, "%s", churn_last_error());
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	char *dir = churn_test_tmpdir(), path[512];
	snprintf(path, sizeof path, "%s/n.csv", dir);
	ck_assert_int_eq(churn_prep_write_csv(prep, m, NULL, NULL, path), CHURN_OK);
	churn_dataset *back = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &back, NULL), CHURN_OK);
	const double *bx = churn_dataset_get_numeric(back, 0);
	ck_assert_ptr_nonnull(bx);
	for (size_t i = 0; i < N; i++)
		ck_assert_msg(memcmp(&bx[i], &x[i], sizeof(double)) == 0, "row %zu: %.17g read back as %.17g", i, x[i],
		              bx[i]);
	churn_dataset_free(back);
	churn_test_rmdir(dir);
	free(dir);
	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
	free(x);
	free(z);
	free(t);
}
END_TEST

/* ---- JSON ---- */

START_TEST(test_prep_json_round_trip_exact_for_every_option)
{
	churn_dataset *ds = make_small();
	/* Awkward doubles: the stored statistics must round-trip exactly. */
	double odd[N8] = {0.1, 0.2, 0.30000000000000004, 1e-300, 123456789.123456789, 2.0 / 3, NAN, 1e15 + 0.3};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "odd", odd, N8), CHURN_OK);
	churn_params *p = churn_test_params(NULL);
	const char *scales[] = {"standard", "minmax", "none"};
	for (int s = 0; s < 3; s++) {
		ck_assert_int_eq(churn_params_set_str(p, "prep.scale", scales[s]), CHURN_OK);
		ck_assert_int_eq(churn_params_set_str(p, "prep.impute_numeric", s == 1 ? "mean" : "median"), CHURN_OK);
		ck_assert_int_eq(churn_params_set_bool(p, "prep.missing_indicator", s == 2), CHURN_OK);
		ck_assert_int_eq(churn_params_set_str(p, "prep.impute_categorical", s == 2 ? "missing_level" : "most_frequent"),
		                 CHURN_OK);
		churn_prep *a = NULL, *b = NULL;
		ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &a), CHURN_OK);
		char *json = NULL, *json2 = NULL;
		ck_assert_int_eq(churn_prep_to_json(a, &json), CHURN_OK);
		ck_assert_ptr_nonnull(strstr(json, "\"format\":\t\"churn-prep\""));
		ck_assert_int_eq(churn_prep_from_json(json, &b), CHURN_OK);
		ck_assert_int_eq(churn_prep_to_json(b, &json2), CHURN_OK);
		ck_assert_str_eq(json, json2);
		churn_matrix *ma = NULL, *mb = NULL;
		ck_assert_int_eq(churn_prep_apply(a, ds, &ma), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply(b, ds, &mb), CHURN_OK);
		ck_assert_uint_eq(churn_matrix_get_column_count(ma), churn_matrix_get_column_count(mb));
		ck_assert_int_eq(memcmp(churn_matrix_get_data_const(ma), churn_matrix_get_data_const(mb),
		                        N8 * churn_matrix_get_column_count(ma) * sizeof(double)), 0);
		for (size_t j = 0; j < churn_matrix_get_column_count(ma); j++)
			ck_assert_str_eq(churn_matrix_get_feature_name(ma, j), churn_matrix_get_feature_name(mb, j));
		ck_assert_str_eq(churn_prep_get_positive(b), "Yes");
		ck_assert_uint_eq(churn_prep_get_id_count(b), 1);
		ck_assert_uint_eq(churn_prep_get_dropped_count(b), churn_prep_get_dropped_count(a));
		assert_finite(ma);
		churn_matrix_free(ma);
		churn_matrix_free(mb);
		churn_free(json);
		churn_free(json2);
		churn_prep_free(a);
		churn_prep_free(b);
	}
	churn_params_free(p);
	churn_dataset_free(ds);
}
END_TEST

static char *replace(const char *s, const char *from, const char *to)
{
	const char *hit = strstr(s, from);
	ck_assert_ptr_nonnull(hit);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *r = malloc(n);
	snprintf(r, n, "%.*s%s%s", (int)(hit - s), s, to, hit + strlen(from));
	return r;
}

START_TEST(test_prep_json_bad_spec_refused)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL, *b = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	char *json = NULL;
	ck_assert_int_eq(churn_prep_to_json(prep, &json), CHURN_OK);
	char *newer = replace(json, "\"version\":\t1", "\"version\":\t2");
	ck_assert_int_eq(churn_prep_from_json(newer, &b), CHURN_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "newer"));
	ck_assert_ptr_null(b);
	free(newer);
	char *other = replace(json, "churn-prep", "churn-model");
	ck_assert_int_eq(churn_prep_from_json(other, &b), CHURN_E_FORMAT);
	free(other);
	char *broken = replace(json, "\"levels\"", "\"lvls\"");
	ck_assert_int_eq(churn_prep_from_json(broken, &b), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "levels"));
	free(broken);
	/* The top-level feature list (the last occurrence) must match what the columns give. */
	char *mism = strdup(json);
	char *last = NULL;
	for (char *h = strstr(mism, "Contract=Two year"); h; h = strstr(h + 1, "Contract=Two year"))
		last = h;
	ck_assert_ptr_nonnull(last);
	memcpy(last, "Contract=Two yeah", 17);
	ck_assert_int_eq(churn_prep_from_json(mism, &b), CHURN_E_PARSE);
	free(mism);
	ck_assert_int_eq(churn_prep_from_json("{\"format\": \"churn-prep\"", &b), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_from_json("[]", &b), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_from_json("{}", &b), CHURN_E_FORMAT);
	ck_assert_int_eq(churn_prep_from_json(NULL, &b), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(b);
	churn_free(json);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

/* ---- single records ---- */

START_TEST(test_prep_single_record_matches_dataset_row)
{
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	churn_matrix *ref = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &ref), CHURN_OK);
	size_t nf = churn_matrix_get_column_count(ref);

	const char *names[] = {"customerID", "gender", "SeniorCitizen", "Partner", "tenure", "Contract"};
	const char *vals[] = {"C2", "Male", "0", "No", "34", "One year"};
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply_strings(prep, names, vals, 6, &m), CHURN_OK);
	ck_assert_uint_eq(churn_matrix_get_row_count(m), 1);
	ck_assert_ptr_null(churn_matrix_get_labels(m));
	ck_assert_int_eq(memcmp(churn_matrix_get_row(m, 0), churn_matrix_get_row(ref, 1), nf * sizeof(double)), 0);
	churn_matrix_free(m);

	/* Missing and empty values are imputed; unknown fields ignored. */
	const char *n2[] = {"tenure", "Contract", "extra"};
	const char *v2[] = {"", NULL, "whatever"};
	ck_assert_int_eq(churn_prep_apply_strings(prep, n2, v2, 3, &m), CHURN_OK);
	ck_assert_double_eq(at(m, 0, feat_index(prep, "tenure")), at(ref, 5, feat_index(prep, "tenure")));
	ck_assert_double_eq(at(m, 0, feat_index(prep, "Contract=Month-to-month")), 1);
	assert_finite(m);
	churn_matrix_free(m);
	ck_assert_int_eq(churn_prep_apply_strings(prep, NULL, NULL, 0, &m), CHURN_OK);
	assert_finite(m);
	churn_matrix_free(m);
	m = NULL;
	const char *n3[] = {"tenure"};
	const char *v3[] = {"lots"};
	ck_assert_int_eq(churn_prep_apply_strings(prep, n3, v3, 1, &m), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "tenure"));

	/* JSON: numbers, strings, booleans, null; one object or an array. */
	const char *one = "{\"customerID\": \"C2\", \"gender\": \"Male\", \"SeniorCitizen\": 0, \"Partner\": false, "
	                  "\"tenure\": 34, \"Contract\": \"One year\"}";
	ck_assert_int_eq(churn_prep_apply_json(prep, one, &m), CHURN_OK);
	ck_assert_int_eq(memcmp(churn_matrix_get_row(m, 0), churn_matrix_get_row(ref, 1), nf * sizeof(double)), 0);
	churn_matrix_free(m);
	const char *arr = "[{\"tenure\": 1, \"gender\": \"Female\", \"SeniorCitizen\": \"0\", \"Partner\": \"Yes\", "
	                  "\"Contract\": \"Month-to-month\", \"Churn\": \"No\"},"
	                  " {\"tenure\": null, \"Contract\": \"Three year\", \"Churn\": \"yes\"}]";
	ck_assert_int_eq(churn_prep_apply_json(prep, arr, &m), CHURN_OK);
	ck_assert_uint_eq(churn_matrix_get_row_count(m), 2);
	ck_assert_ptr_nonnull(churn_matrix_get_labels(m));
	ck_assert_int_eq(churn_matrix_get_labels(m)[0], 0);
	ck_assert_int_eq(churn_matrix_get_labels(m)[1], 1);
	ck_assert_int_eq(memcmp(churn_matrix_get_row(m, 0), churn_matrix_get_row(ref, 0), nf * sizeof(double)), 0);
	assert_finite(m);
	churn_matrix_free(m);
	m = NULL;
	ck_assert_int_eq(churn_prep_apply_json(prep, "{\"tenure\": [1]}", &m), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_apply_json(prep, "{\"tenure\": ", &m), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_apply_json(prep, "42", &m), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_apply_json(prep, "[]", &m), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_apply_json(prep, "[1]", &m), CHURN_E_PARSE);
	ck_assert_int_eq(churn_prep_apply_json(prep, "{\"tenure\": \"x\"}", &m), CHURN_E_PARSE);
	ck_assert_ptr_null(m);
	churn_matrix_free(ref);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

/* ---- splits ---- */

START_TEST(test_split_stratified_keeps_rate_and_is_seeded)
{
	size_t n = 1003;
	uint8_t *y = malloc(n);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		y[i] = (i * 7919 % 100) < 27;
		pos += y[i];
	}
	size_t *tr = NULL, *te = NULL, ntr = 0, nte = 0;
	ck_assert_int_eq(churn_split_stratified(y, n, 0.3, 42, &tr, &ntr, &te, &nte), CHURN_OK);
	ck_assert_uint_eq(ntr + nte, n);
	ck_assert_uint_eq(nte, 301); /* ceil(0.3 * 1003) */
	double rate = (double)pos / (double)n;
	size_t ptr = 0, pte = 0;
	char *seen = calloc(n, 1);
	for (size_t i = 0; i < ntr; i++) {
		ck_assert(i == 0 || tr[i] > tr[i - 1]);
		ptr += y[tr[i]];
		seen[tr[i]]++;
	}
	for (size_t i = 0; i < nte; i++) {
		ck_assert(i == 0 || te[i] > te[i - 1]);
		pte += y[te[i]];
		seen[te[i]]++;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert(fabs((double)pte - rate * (double)nte) <= 1.0);
	ck_assert(fabs((double)ptr - rate * (double)ntr) <= 1.0);
	/* Deterministic per seed, different across seeds. */
	size_t *tr2 = NULL, *te2 = NULL, ntr2, nte2;
	ck_assert_int_eq(churn_split_stratified(y, n, 0.3, 42, &tr2, &ntr2, &te2, &nte2), CHURN_OK);
	ck_assert_uint_eq(nte2, nte);
	ck_assert_int_eq(memcmp(te, te2, nte * sizeof(size_t)), 0);
	churn_free(tr2);
	churn_free(te2);
	ck_assert_int_eq(churn_split_stratified(y, n, 0.3, 7, &tr2, &ntr2, &te2, &nte2), CHURN_OK);
	ck_assert_int_ne(memcmp(te, te2, nte * sizeof(size_t)), 0);
	churn_free(tr2);
	churn_free(te2);
	churn_free(tr);
	churn_free(te);
	free(seen);

	ck_assert_int_eq(churn_split_stratified(y, 1, 0.3, 42, &tr, &ntr, &te, &nte), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_split_stratified(y, n, 1.0, 42, &tr, &ntr, &te, &nte), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_split_stratified(y, n, 0, 42, &tr, &ntr, &te, &nte), CHURN_E_INVALID_ARG);
	y[5] = 2;
	ck_assert_int_eq(churn_split_stratified(y, n, 0.3, 42, &tr, &ntr, &te, &nte), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	/* Tiny: two rows still give one each side. */
	uint8_t y2[2] = {0, 1};
	ck_assert_int_eq(churn_split_stratified(y2, 2, 0.3, 42, &tr, &ntr, &te, &nte), CHURN_OK);
	ck_assert_uint_eq(ntr, 1);
	ck_assert_uint_eq(nte, 1);
	churn_free(tr);
	churn_free(te);
	free(y);
}
END_TEST

START_TEST(test_split_kfold_balanced_folds_and_seeded)
{
	size_t n = 997, k = 5;
	uint8_t *y = malloc(n);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		y[i] = (i % 11) < 3;
		pos += y[i];
	}
	uint32_t *f = malloc(n * sizeof(uint32_t)), *g = malloc(n * sizeof(uint32_t));
	ck_assert_int_eq(churn_split_kfold(y, n, k, 42, f), CHURN_OK);
	ck_assert_int_eq(churn_split_kfold(y, n, k, 42, g), CHURN_OK);
	ck_assert_int_eq(memcmp(f, g, n * sizeof(uint32_t)), 0);
	double rate = (double)pos / (double)n;
	for (uint32_t fold = 0; fold < k; fold++) {
		size_t sz = 0, p = 0;
		for (size_t i = 0; i < n; i++)
			if (f[i] == fold) {
				sz++;
				p += y[i];
			}
		ck_assert(sz == n / k || sz == n / k + 1);
		ck_assert(fabs((double)p - rate * (double)sz) <= 1.0);
		/* The complement (training part) too. */
		ck_assert(fabs((double)(pos - p) - rate * (double)(n - sz)) <= 1.0);
	}
	ck_assert_int_eq(churn_split_kfold(y, n, 7, 43, g), CHURN_OK);
	ck_assert_int_eq(churn_split_kfold(y, n, 1, 42, f), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_split_kfold(y, 3, 4, 42, f), CHURN_E_INVALID_ARG);
	free(f);
	free(g);
	free(y);
}
END_TEST

/* ---- real data ---- */

START_TEST(test_prep_telco_expected_features_labels_and_round_trip)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 7043);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &m), CHURN_OK);
	assert_finite(m);
	size_t nf = churn_prep_get_feature_count(prep);
	fprintf(stderr, "# telco: %zu features:", nf);
	for (size_t j = 0; j < nf; j++)
		fprintf(stderr, " %s%s", churn_prep_get_feature_name(prep, j), j + 1 < nf ? "," : "\n");
	/*
	 * 3 numeric (SeniorCitizen, tenure, MonthlyCharges, TotalCharges = 4) +
	 * binary: gender is Female/Male (2), Partner, Dependents, PhoneService,
	 * PaperlessBilling (1 each) + MultipleLines 3, 6 internet add-ons x 3,
	 * InternetService 3, Contract 3, PaymentMethod 4.
	 */
	ck_assert_uint_eq(nf, 4 + 2 + 4 + 3 + 18 + 3 + 3 + 4);
	ck_assert(!has_feature(prep, "customerID"));
	ck_assert_str_eq(churn_prep_get_id(prep, 0), "customerID");
	ck_assert(has_feature(prep, "Contract=Month-to-month"));
	ck_assert(has_feature(prep, "Partner=Yes"));
	ck_assert(has_feature(prep, "SeniorCitizen"));
	const uint8_t *y = churn_matrix_get_labels(m);
	size_t pos = 0;
	for (size_t i = 0; i < 7043; i++)
		pos += y[i];
	ck_assert_uint_eq(pos, 1869);
	/* Round trip on real data. */
	char *json = NULL;
	churn_prep *b = NULL;
	churn_matrix *mb = NULL;
	ck_assert_int_eq(churn_prep_to_json(prep, &json), CHURN_OK);
	ck_assert_int_eq(churn_prep_from_json(json, &b), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(b, ds, &mb), CHURN_OK);
	ck_assert_int_eq(memcmp(churn_matrix_get_data_const(m), churn_matrix_get_data_const(mb),
	                        7043 * nf * sizeof(double)), 0);
	/* Fit on a stratified train split, apply to the test split. */
	size_t *tr, *te, ntr, nte;
	ck_assert_int_eq(churn_split_stratified(y, 7043, 0.3, 42, &tr, &ntr, &te, &nte), CHURN_OK);
	churn_prep *pt = NULL;
	churn_matrix *mt = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, tr, ntr, NULL, &pt), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply_rows(pt, ds, te, nte, &mt), CHURN_OK);
	assert_finite(mt);
	churn_matrix_free(mt);
	churn_prep_free(pt);
	churn_free(tr);
	churn_free(te);
	churn_matrix_free(mb);
	churn_prep_free(b);
	churn_free(json);
	churn_matrix_free(m);
	churn_prep_free(prep);
	churn_dataset_free(ds);
}
END_TEST

/* ---- churn_prep_write_outputs ---- */

/* Output k of two directories holds the same bytes. */
static void assert_same_outputs(const char *a, const char *b, const char *what)
{
	for (size_t k = 0; churn_prep_output_name(k); k++) {
		char pa[600], pb[600];
		snprintf(pa, sizeof pa, "%s/%s", a, churn_prep_output_name(k));
		snprintf(pb, sizeof pb, "%s/%s", b, churn_prep_output_name(k));
		size_t na = 0, nb = 0;
		char *x = churn_test_read_file(pa, &na), *y = churn_test_read_file(pb, &nb);
		ck_assert_msg(x && y, "%s: %s missing", what, churn_prep_output_name(k));
		ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s: %s differs", what, churn_prep_output_name(k));
		free(x);
		free(y);
	}
}

/* The five outputs of prep/ds into dir (created with its subdirectories). */
static churn_status write_into(const char *dir, const churn_prep *prep, const churn_dataset *ds,
                               const churn_matrix *x, const churn_params *p, size_t *rows, size_t *imputed)
{
	char *paths[5];
	char sub[600];
	static const char *const dirs[] = {"data", "data/processed", "artifacts", "reports"};
	mkdir(dir, 0755);
	for (size_t k = 0; k < 4; k++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, dirs[k]);
		mkdir(sub, 0755);
	}
	for (size_t k = 0; k < 5; k++) {
		paths[k] = malloc(600);
		snprintf(paths[k], 600, "%s/%s", dir, churn_prep_output_name(k));
	}
	churn_status st = churn_prep_write_outputs(prep, ds, NULL, 0, x, (const char *const *)paths, 5, p, rows, imputed,
	                                           NULL);
	for (size_t k = 0; k < 5; k++)
		free(paths[k]);
	return st;
}

/*
 * One chunk, chunks of 7 rows, a pre-applied matrix and the data pipeline
 * all write the same five files, byte for byte.
 */
START_TEST(test_prep_write_outputs_same_files)
{
	char *tmp = churn_test_tmpdir();
	char csv[512], dir[900];
	snprintf(csv, sizeof csv, "%s/in.csv", tmp);
	ck_assert_int_eq(churn_synth_write_file(3000, 5, csv), CHURN_OK);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file(csv, NULL, &ds, NULL), CHURN_OK);
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_int(p, "parquet.row_group_rows", 500), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "parquet.page_bytes", 2048), CHURN_OK);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);

	char a[600];
	snprintf(a, sizeof a, "%s/one", tmp);
	size_t rows = 0, imputed = 0;
	ck_assert_int_eq(write_into(a, prep, ds, NULL, p, &rows, &imputed), CHURN_OK);
	ck_assert_uint_eq(rows, 3000);
	churn_matrix *x = NULL;
	size_t imputed_apply = 0;
	ck_assert_int_eq(churn_prep_apply_rows_count(prep, ds, NULL, 0, &x, NULL, &imputed_apply), CHURN_OK);
	ck_assert_uint_eq(imputed, imputed_apply);

	/* the summary: profile + prep report */
	snprintf(dir, sizeof dir, "%s/reports/summary.json", a);
	size_t n = 0;
	char *js = churn_test_read_file(dir, &n);
	ck_assert_ptr_nonnull(strstr(js, "\"prep\":"));
	ck_assert_ptr_nonnull(strstr(js, "\"imputed_cells\":"));
	ck_assert_ptr_nonnull(strstr(js, "\"role\":\t\"id\""));
	free(js);

	snprintf(dir, sizeof dir, "%s/chunks", tmp);
	ck_assert_int_eq(churn_params_set_int(p, "prep.chunk_rows", 7), CHURN_OK);
	ck_assert_int_eq(write_into(dir, prep, ds, NULL, p, NULL, NULL), CHURN_OK);
	assert_same_outputs(a, dir, "chunks of 7");
	snprintf(dir, sizeof dir, "%s/matrix", tmp);
	ck_assert_int_eq(write_into(dir, prep, ds, x, p, NULL, NULL), CHURN_OK);
	assert_same_outputs(a, dir, "pre-applied matrix");

	/* the data pipeline on the same CSV */
	snprintf(dir, sizeof dir, "%s/wd", tmp);
	ck_assert_int_eq(churn_params_set_str(p, "data.source", csv), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "pipeline.figures", false), CHURN_OK);
	ck_assert_int_eq(churn_params_set_bool(p, "pipeline.importance", false), CHURN_OK);
	ck_assert_int_eq(churn_pipeline_data(dir, p, NULL), CHURN_OK);
	assert_same_outputs(a, dir, "churn_pipeline_data");

	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
	churn_test_rmdir(tmp);
	free(tmp);
}
END_TEST

/* Dropped target rows and missing ids: the streamed and the whole-matrix outputs agree. */
START_TEST(test_prep_write_outputs_dropped_rows_streamed_as_whole)
{
	char *tmp = churn_test_tmpdir();
	/* a missing target in row 3, a missing id in row 5 */
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	const char *id[N8] = {"C1", "C2", "C3", "C4", NULL, "C6", "C7", "C8"};
	double tenure[N8] = {1, 34, 2, 45, 2, NAN, 10, 28};
	const char *contract[N8] = {"Month-to-month", "One year", "Month-to-month", "One year",
	                            "Month-to-month", "Two year", NULL, "Month-to-month"};
	const char *churn[N8] = {"No", "No", NULL, "No", "Yes", "No", "Yes", "Yes"};
	ck_assert_int_eq(churn_dataset_add_text(ds, "customerID", id, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", tenure, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", contract, N8), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", churn, N8), CHURN_OK);
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_bool(p, "prep.drop_missing_target", true), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "prep.chunk_rows", 3), CHURN_OK);
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, p, &prep), CHURN_OK);
	char a[600], b[600];
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(b, sizeof b, "%s/b", tmp);
	size_t rows = 0, imputed = 0;
	ck_assert_int_eq(write_into(a, prep, ds, NULL, p, &rows, &imputed), CHURN_OK);
	ck_assert_uint_eq(rows, 7);
	ck_assert_uint_eq(imputed, 2);
	churn_matrix *x = NULL;
	ck_assert_int_eq(churn_prep_apply(prep, ds, &x), CHURN_OK);
	ck_assert_uint_eq(churn_matrix_get_row_count(x), 7);
	ck_assert_int_eq(write_into(b, prep, ds, x, p, NULL, NULL), CHURN_OK);
	assert_same_outputs(a, b, "dropped rows");
	char path[900];
	snprintf(path, sizeof path, "%s/data/processed/churn.csv", a);
	size_t n = 0;
	char *text = churn_test_read_file(path, &n);
	ck_assert_ptr_nonnull(strstr(text, "\n,")); /* the missing id: an empty first cell */
	ck_assert_ptr_null(strstr(text, "C3,"));    /* the row without a target is left out */
	free(text);
	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
	churn_test_rmdir(tmp);
	free(tmp);
}
END_TEST

static bool cancel_now(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)ud;
	(void)done;
	(void)total;
	return strcmp(what, "prepare") != 0;
}

START_TEST(test_prep_write_outputs_failure_keeps_previous_files)
{
	char *tmp = churn_test_tmpdir();
	churn_dataset *ds = make_small();
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep), CHURN_OK);
	const char *six[6] = {0};
	ck_assert_int_eq(churn_prep_write_outputs(prep, ds, NULL, 0, NULL, six, 6, NULL, NULL, NULL, NULL),
	                 CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_prep_write_outputs(NULL, ds, NULL, 0, NULL, six, 5, NULL, NULL, NULL, NULL),
	                 CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_prep_write_outputs(prep, ds, NULL, 0, NULL, NULL, 1, NULL, NULL, NULL, NULL),
	                 CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(churn_prep_output_name(5));
	ck_assert_str_eq(churn_prep_output_name(0), "data/processed/churn.parquet");

	/* a matrix of other rows */
	churn_matrix *x = NULL;
	size_t first3[3] = {0, 1, 2};
	ck_assert_int_eq(churn_prep_apply_rows(prep, ds, first3, 3, &x), CHURN_OK);
	ck_assert_int_eq(churn_prep_write_outputs(prep, ds, NULL, 0, x, six, 5, NULL, NULL, NULL, NULL),
	                 CHURN_E_INVALID_ARG);
	churn_matrix_free(x);

	/* the Parquet file cannot be created: the spec written after it keeps its previous text */
	char blocker[600], pq[700], spec[600];
	snprintf(blocker, sizeof blocker, "%s/plain", tmp);
	ck_assert(churn_test_write_file(blocker, "x"));
	snprintf(pq, sizeof pq, "%s/out.parquet", blocker);
	snprintf(spec, sizeof spec, "%s/prep.json", tmp);
	ck_assert(churn_test_write_file(spec, "previous"));
	const char *paths[3] = {pq, NULL, spec};
	ck_assert_int_eq(churn_prep_write_outputs(prep, ds, NULL, 0, NULL, paths, 3, NULL, NULL, NULL, NULL),
	                 CHURN_E_CREATE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "out.parquet"));
	size_t n = 0;
	char *text = churn_test_read_file(spec, &n);
	ck_assert_str_eq(text, "previous");
	free(text);

	/* cancelled through the progress callback: nothing replaced, no temp files left */
	char pq2[600];
	snprintf(pq2, sizeof pq2, "%s/out.parquet", tmp);
	paths[0] = pq2;
	churn_params *p = churn_test_params(NULL);
	churn_params_set_progress(p, cancel_now, NULL);
	ck_assert_int_eq(churn_prep_write_outputs(prep, ds, NULL, 0, NULL, paths, 3, p, NULL, NULL, NULL),
	                 CHURN_E_STATE);
	text = churn_test_read_file(spec, &n);
	ck_assert_str_eq(text, "previous");
	free(text);
	ck_assert_ptr_null(fopen(pq2, "rb"));
	DIR *d = opendir(tmp);
	struct dirent *e;
	size_t entries = 0;
	while ((e = readdir(d)))
		entries += e->d_name[0] != '.';
	closedir(d);
	ck_assert_uint_eq(entries, 2); /* plain, prep.json */
	churn_params_free(p);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	churn_test_rmdir(tmp);
	free(tmp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prep");
	TCase *tc = tcase_create("create");
	tcase_add_test(tc, test_prep_fit_defaults_one_hot_and_scaled_features);
	tcase_add_test(tc, test_prep_fit_rows_subset_leaves_unseen_levels);
	tcase_add_test(tc, test_prep_options_change_imputation_scaling_and_indicators);
	tcase_add_test(tc, test_prep_ids_dropped_text_parsed_encoded_or_dropped);
	tcase_add_test(tc, test_prep_constant_and_empty_columns_dropped_with_reason);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_prep_bad_target_refused_with_detail);
	tcase_add_test(tc, test_prep_identifiers_and_leaks_left_out_unless_kept);
	tcase_add_test(tc, test_prep_apply_without_target_or_id_scores);
	tcase_add_test(tc, test_prep_apply_type_change_parsed_or_refused);
	tcase_add_test(tc, test_prep_csv_files_fit_apply_and_write);
	suite_add_tcase(s, tc);
	tc = tcase_create("io");
	tcase_add_test(tc, test_prep_json_round_trip_exact_for_every_option);
	tcase_add_test(tc, test_prep_write_csv_numbers_exact);
	tcase_add_test(tc, test_prep_json_bad_spec_refused);
	tcase_add_test(tc, test_prep_single_record_matches_dataset_row);
	tcase_add_test(tc, test_prep_write_outputs_same_files);
	tcase_add_test(tc, test_prep_write_outputs_dropped_rows_streamed_as_whole);
	tcase_add_test(tc, test_prep_write_outputs_failure_keeps_previous_files);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tc = tcase_create("split");
	tcase_add_test(tc, test_split_stratified_keeps_rate_and_is_seeded);
	tcase_add_test(tc, test_split_kfold_balanced_folds_and_seeded);
	suite_add_tcase(s, tc);
	tc = tcase_create("real");
	tcase_add_test(tc, test_prep_telco_expected_features_labels_and_round_trip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
