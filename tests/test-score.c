/* score.h: the scorer through the public API. The JSON request path and the
 * data-set paths (JSON and CSV) give the same numbers and reasons; reasons
 * follow the one rule (largest positive contributions, largest first);
 * missing columns are named; hostile requests are refused before parsing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

#include "test-common.h"

static churn_dataset *data;
static churn_scorer *scorer;

/* A logistic regression with its prep spec, trained on synthetic rows, as a scorer. */
static void setup(void)
{
	char *buf = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_synth_dataset(600, 9, &data), CHURN_OK);
	churn_model *m = churn_test_fit_with_prep(CHURN_MODEL_LOGREG, data, NULL, NULL);
	ck_assert_int_eq(churn_model_to_buffer(m, &buf, &n), CHURN_OK);
	ck_assert_int_eq(churn_scorer_from_buffer(buf, n, &scorer), CHURN_OK);
	churn_free(buf);
	churn_model_free(m);
}

static void teardown(void)
{
	churn_scorer_free(scorer);
	churn_dataset_free(data);
}

/* The first rows of the data set as a JSON array of raw records (values as text or numbers). */
static char *records_json(size_t nrows)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < nrows; i++) {
		cJSON *o = cJSON_CreateObject();
		for (size_t j = 0; j < churn_dataset_get_ncols(data); j++) {
			char buf[64];
			const char *name = churn_dataset_get_col_name(data, j);
			if (!strcmp(name, "Churn"))
				continue;
			const char *t = churn_dataset_get_cell_text(data, j, i, buf, sizeof(buf));
			if (!t)
				cJSON_AddNullToObject(o, name);
			else if (churn_dataset_get_col_type(data, j) == CHURN_COL_NUMERIC)
				cJSON_AddRawToObject(o, name, t);
			else
				cJSON_AddStringToObject(o, name, t);
		}
		cJSON_AddItemToArray(arr, o);
	}
	char *s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return s;
}

START_TEST(test_request_and_dataset_give_one_answer)
{
	char *req = records_json(churn_dataset_get_nrows(data)), *a = NULL, *b = NULL;
	ck_assert_int_eq(churn_scorer_score_json(scorer, req, strlen(req), 3, 0, &a), CHURN_OK);
	ck_assert_int_eq(churn_scorer_score_dataset_json(scorer, data, 3, &b), CHURN_OK);
	cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
	cJSON *pa = cJSON_GetObjectItem(ja, "predictions"), *pb = cJSON_GetObjectItem(jb, "predictions");
	ck_assert_int_eq(cJSON_GetArraySize(pa), cJSON_GetArraySize(pb));
	for (int i = 0; i < cJSON_GetArraySize(pa); i++) {
		cJSON *x = cJSON_GetArrayItem(pa, i), *y = cJSON_GetArrayItem(pb, i);
		ck_assert_double_eq(cJSON_GetObjectItem(x, "probability")->valuedouble,
		                    cJSON_GetObjectItem(y, "probability")->valuedouble);
		ck_assert(cJSON_Compare(cJSON_GetObjectItem(x, "reasons"), cJSON_GetObjectItem(y, "reasons"), true));
		ck_assert(cJSON_Compare(cJSON_GetObjectItem(x, "id"), cJSON_GetObjectItem(y, "id"), true));
	}
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	churn_free(a);
	churn_free(b);
	cJSON_free(req);
}
END_TEST

START_TEST(test_reasons_are_largest_positive_contributions_first)
{
	char *out = NULL;
	ck_assert_int_eq(churn_scorer_score_dataset_json(scorer, data, 5, &out), CHURN_OK);
	cJSON *doc = cJSON_Parse(out), *p;
	int with = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "predictions"))
	{
		double last = INFINITY;
		cJSON *r;
		ck_assert_int_le(cJSON_GetArraySize(cJSON_GetObjectItem(p, "reasons")), 5);
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "reasons"))
		{
			double c = cJSON_GetObjectItem(r, "contribution")->valuedouble;
			ck_assert_msg(c > 0 && c <= last, "reasons raise the score, largest first (%g after %g)", c, last);
			last = c;
			with++;
		}
	}
	ck_assert_int_gt(with, 0);
	/* churn_model_reasons gives the same for a row */
	const churn_model *m = churn_scorer_get_model(scorer);
	churn_matrix *x = NULL;
	size_t row0 = 0, idx[5], k = 0;
	double c[5];
	ck_assert_int_eq(churn_prep_apply_rows(churn_model_get_prep(m), data, &row0, 1, &x), CHURN_OK);
	ck_assert_int_eq(churn_model_reasons(m, churn_matrix_get_row(x, 0), churn_matrix_get_ncols(x), 5, idx, c, &k),
	                 CHURN_OK);
	cJSON *first = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "predictions"), 0), "reasons");
	ck_assert_int_eq((int)k, cJSON_GetArraySize(first));
	for (size_t q = 0; q < k; q++) {
		cJSON *r = cJSON_GetArrayItem(first, (int)q);
		ck_assert_str_eq(cJSON_GetObjectItem(r, "feature")->valuestring, churn_model_get_feature_name(m, idx[q]));
		ck_assert_double_eq(cJSON_GetObjectItem(r, "contribution")->valuedouble, c[q]);
	}
	churn_matrix_free(x);
	cJSON_Delete(doc);
	churn_free(out);
}
END_TEST

START_TEST(test_csv_matches_json)
{
	char *out = NULL, *csv = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&csv, &n);
	ck_assert_int_eq(churn_scorer_write_csv(scorer, data, 3, f), CHURN_OK);
	fclose(f);
	ck_assert_int_eq(churn_scorer_score_dataset_json(scorer, data, 3, &out), CHURN_OK);
	cJSON *doc = cJSON_Parse(out), *p;
	char *line = strtok(csv, "\n");
	ck_assert_str_eq(line, "id,probability,label,reason1,reason2,reason3");
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "predictions"))
	{
		line = strtok(NULL, "\n");
		ck_assert_ptr_nonnull(line);
		const char *id = cJSON_GetObjectItem(p, "id")->valuestring;
		ck_assert_msg(!strncmp(line, id, strlen(id)) && line[strlen(id)] == ',', "%s does not start with %s", line, id);
		ck_assert_double_eq(strtod(strchr(line, ',') + 1, NULL), cJSON_GetObjectItem(p, "probability")->valuedouble);
		ck_assert_ptr_nonnull(strstr(line, cJSON_GetObjectItem(p, "label")->valuestring));
		cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "reasons"))
		{
			char t[300];
			snprintf(t, sizeof(t), "%s (%+.2f)", cJSON_GetObjectItem(r, "feature")->valuestring,
			         cJSON_GetObjectItem(r, "contribution")->valuedouble);
			ck_assert_msg(strstr(line, t), "%s not in %s", t, line);
		}
	}
	ck_assert_ptr_null(strtok(NULL, "\n"));
	cJSON_Delete(doc);
	churn_free(out);
	free(csv);
}
END_TEST

START_TEST(test_missing_columns_named)
{
	const char *csv = "customerID,gender,tenure\nA-1,Male,3\n";
	churn_dataset *few = NULL;
	ck_assert_int_eq(churn_csv_read_buffer(csv, strlen(csv), "few.csv", NULL, &few, NULL), CHURN_OK);
	ck_assert_int_eq(churn_scorer_check_columns(scorer, few), CHURN_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "missing columns the model needs: "));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "Contract"));
	ck_assert_ptr_null(strstr(churn_last_error(), "tenure"));
	char *out = NULL;
	ck_assert_int_eq(churn_scorer_score_dataset_json(scorer, few, 3, &out), CHURN_E_FORMAT);
	ck_assert_int_eq(churn_scorer_check_columns(scorer, data), CHURN_OK);
	churn_dataset_free(few);
}
END_TEST

START_TEST(test_hostile_requests_refused_before_parsing)
{
	char *out = NULL;
	char deep[2001];
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	deep[2000] = '\0';
	ck_assert_int_eq(churn_scorer_score_json(scorer, deep, 2000, 3, 10, &out), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "nested deeper than 3"));
	const char *bad = "{\"gender\":\"Fe\xc3male\"}";
	ck_assert_int_eq(churn_scorer_score_json(scorer, bad, strlen(bad), 3, 10, &out), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "UTF-8"));
	const char *many = "[{},{},{},{}";
	ck_assert_int_eq(churn_scorer_score_json(scorer, many, strlen(many), 3, 3, &out), CHURN_E_LIMIT);
	ck_assert_int_eq(churn_scorer_score_json(scorer, "[]", 2, 3, 3, &out), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_scorer_score_json(scorer, "{\"nope\":1}", 10, 3, 3, &out), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "nope"));
}
END_TEST

static Suite *score_suite(void)
{
	Suite *s = suite_create("score");
	TCase *tc = tcase_create("score");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_and_dataset_give_one_answer);
	tcase_add_test(tc, test_reasons_are_largest_positive_contributions_first);
	tcase_add_test(tc, test_csv_matches_json);
	tcase_add_test(tc, test_missing_columns_named);
	tcase_add_test(tc, test_hostile_requests_refused_before_parsing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(score_suite());
}
