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
		for (size_t j = 0; j < churn_dataset_get_column_count(data); j++) {
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
	char *req = records_json(churn_dataset_get_row_count(data)), *a = NULL, *b = NULL;
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

/*
 * One reason per raw column in the customer's own terms: the column's features' contributions summed, largest
 * absolute value first, sign kept ("effect"), the customer's value as given; the same rule per feature in
 * churn_model_reasons().
 */
START_TEST(test_reasons_are_raw_columns_largest_effect_first)
{
	char *out = NULL;
	ck_assert_int_eq(churn_scorer_score_dataset_json(scorer, data, 5, &out), CHURN_OK);
	cJSON *doc = cJSON_Parse(out), *p;
	const churn_model *m = churn_scorer_get_model(scorer);
	const churn_prep *prep = churn_model_get_prep(m);
	size_t nf = churn_prep_get_feature_count(prep), row = 0, lowers = 0, raises = 0;
	double *contrib = malloc((nf + 1) * sizeof(double));
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "predictions"))
	{
		churn_matrix *x = NULL;
		ck_assert_int_eq(churn_prep_apply_rows(prep, data, &row, 1, &x), CHURN_OK);
		ck_assert_int_eq(churn_model_explain(m, churn_matrix_get_row(x, 0), nf, contrib, nf + 1), CHURN_OK);
		double last = INFINITY;
		cJSON *r;
		ck_assert_int_le(cJSON_GetArraySize(cJSON_GetObjectItem(p, "reasons")), 5);
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "reasons"))
		{
			const char *col = cJSON_GetObjectItem(r, "feature")->valuestring;
			double c = cJSON_GetObjectItem(r, "contribution")->valuedouble, sum = 0;
			/* the sum of the column's features: its name, or "<name>=" one-hot levels, "<name>_missing" */
			size_t len = strlen(col);
			for (size_t f = 0; f < nf; f++) {
				const char *fn = churn_prep_get_feature_name(prep, f);
				if (!strncmp(fn, col, len) && (!fn[len] || fn[len] == '=' || !strcmp(fn + len, "_missing")))
					sum += contrib[f];
			}
			ck_assert_msg(fabs(c - sum) < 1e-12, "%s: %g is not the sum of its features %g", col, c, sum);
			ck_assert_msg(c != 0 && fabs(c) <= last, "largest effect first (%g after %g)", c, last);
			ck_assert_str_eq(cJSON_GetObjectItem(r, "effect")->valuestring, c > 0 ? "raises" : "lowers");
			/* the customer's own value: the data set's cell */
			size_t j;
			char buf[64];
			ck_assert_int_eq(churn_dataset_find_col(data, col, &j), CHURN_OK);
			const char *cell = churn_dataset_get_cell_text(data, j, row, buf, sizeof(buf));
			const cJSON *v = cJSON_GetObjectItem(r, "value");
			if (cJSON_IsString(v))
				ck_assert_str_eq(v->valuestring, cell);
			else if (cJSON_IsNumber(v))
				ck_assert(strtod(cell, NULL) == v->valuedouble);
			else
				ck_assert_ptr_null(cell);
			last = fabs(c);
			lowers += c < 0;
			raises += c > 0;
		}
		churn_matrix_free(x);
		row++;
	}
	ck_assert(lowers > 0 && raises > 0); /* both directions are shown */
	/* churn_model_reasons: the same rule on the encoded features */
	size_t row0 = 0, idx[5], k = 0;
	double c[5];
	churn_matrix *x = NULL;
	ck_assert_int_eq(churn_prep_apply_rows(prep, data, &row0, 1, &x), CHURN_OK);
	ck_assert_int_eq(churn_model_explain(m, churn_matrix_get_row(x, 0), nf, contrib, nf + 1), CHURN_OK);
	ck_assert_int_eq(churn_model_reasons(m, churn_matrix_get_row(x, 0), nf, 5, idx, c, &k), CHURN_OK);
	ck_assert_uint_eq(k, 5);
	for (size_t q = 0; q < k; q++) {
		ck_assert(c[q] == contrib[idx[q]] && c[q] != 0);
		ck_assert(q == 0 || fabs(c[q]) <= fabs(c[q - 1]));
		for (size_t f = 0; f < nf; f++) /* nothing left out is larger than the last one kept */
			ck_assert(fabs(contrib[f]) <= fabs(c[k - 1]) || f == idx[0] || f == idx[1] || f == idx[2] || f == idx[3] ||
			          f == idx[4]);
	}
	churn_matrix_free(x);
	free(contrib);
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
			/* "Contract = Month-to-month: raises churn risk (+0.90 log-odds)" */
			char t[300], u[64];
			double c = cJSON_GetObjectItem(r, "contribution")->valuedouble;
			snprintf(t, sizeof(t), "%s = ", cJSON_GetObjectItem(r, "feature")->valuestring);
			snprintf(u, sizeof(u), ": %s churn risk (%+.2f log-odds)", c > 0 ? "raises" : "lowers", c);
			ck_assert_msg(strstr(line, t) && strstr(line, u), "%s...%s not in %s", t, u, line);
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

/* ---- typed records (churn_record) ---- */

/* The scorer of a model of @p kind fitted (with its prep) on all rows of ds. */
static churn_scorer *scorer_of(churn_model_kind kind, const churn_dataset *ds)
{
	char *buf = NULL;
	size_t n = 0;
	churn_scorer *sc = NULL;
	churn_model *m = churn_test_fit_with_prep(kind, ds, NULL, NULL);
	ck_assert_int_eq(churn_model_to_buffer(m, &buf, &n), CHURN_OK);
	ck_assert_int_eq(churn_scorer_from_buffer(buf, n, &sc), CHURN_OK);
	churn_free(buf);
	churn_model_free(m);
	return sc;
}

/* Row i of ds (no target) as one JSON object, and into r by lower-cased names (as PostgreSQL gives them). */
static char *row_json_and_record(const churn_dataset *ds, size_t i, const churn_scorer *sc, churn_record *r)
{
	cJSON *o = cJSON_CreateObject();
	churn_record_clear(r);
	for (size_t j = 0; j < churn_dataset_get_column_count(ds); j++) {
		char buf[64], lower[128];
		const char *name = churn_dataset_get_col_name(ds, j);
		if (!strcmp(name, "Churn"))
			continue;
		size_t k, q;
		for (q = 0; name[q] && q + 1 < sizeof(lower); q++)
			lower[q] = (char)(name[q] >= 'A' && name[q] <= 'Z' ? name[q] + 32 : name[q]);
		lower[q] = '\0';
		ck_assert_int_eq(churn_scorer_find_column(sc, lower, &k), CHURN_OK);
		ck_assert_str_eq(churn_scorer_get_column(sc, k), name);
		const char *t = churn_dataset_get_cell_text(ds, j, i, buf, sizeof(buf));
		if (!t) {
			cJSON_AddNullToObject(o, name);
			/* empty text is missing; blank text too in a numeric column, as the CSV reader reads it */
			bool num = churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC;
			ck_assert_int_eq(churn_record_set_string(r, k, num && (i & 1) ? " " : ""), CHURN_OK);
		} else if (churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC) {
			cJSON_AddRawToObject(o, name, t);
			ck_assert_int_eq(churn_record_set_number(r, k, churn_dataset_get_numeric(ds, j)[i]), CHURN_OK);
		} else {
			cJSON_AddStringToObject(o, name, t);
			ck_assert_int_eq(churn_record_set_string(r, k, t), CHURN_OK);
		}
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The record's answer equals prediction p of a JSON answer: probability, label and reasons, bit for bit. */
static void assert_record_is(const churn_scorer *sc, churn_record *r, const cJSON *p)
{
	double prob;
	bool churn;
	ck_assert_int_eq(churn_record_score(r, 3, &prob, &churn), CHURN_OK);
	ck_assert_msg(prob == churn_test_json_num(p, "probability"), "record %.17g, JSON %.17g (%s)", prob,
	              churn_test_json_num(p, "probability"), cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "id")));
	ck_assert(churn == cJSON_IsTrue(cJSON_GetObjectItem(p, "churn")));
	ck_assert_str_eq(churn_scorer_get_label(sc, churn), churn_test_json_str(p, "label"));
	const cJSON *reasons = cJSON_GetObjectItem(p, "reasons");
	ck_assert_uint_eq(churn_record_get_reason_count(r), (size_t)cJSON_GetArraySize(reasons));
	for (size_t q = 0; q < churn_record_get_reason_count(r); q++) {
		const cJSON *e = cJSON_GetArrayItem(reasons, (int)q);
		const char *f = NULL, *v = NULL;
		double c;
		ck_assert_int_eq(churn_record_get_reason(r, q, &f, &v, &c), CHURN_OK);
		ck_assert_str_eq(f, churn_test_json_str(e, "feature"));
		const cJSON *jv = cJSON_GetObjectItem(e, "value");
		if (cJSON_IsNumber(jv))
			ck_assert(v && strtod(v, NULL) == jv->valuedouble);
		else if (cJSON_IsString(jv))
			ck_assert_str_eq(v, jv->valuestring);
		else
			ck_assert_ptr_null(v);
		ck_assert(c == churn_test_json_num(e, "contribution"));
		ck_assert_str_eq(churn_test_json_str(e, "effect"), c > 0 ? "raises" : "lowers");
	}
	/* the record's own answer is the same object, reasons and all (the SQL explain prints it) */
	char *ex = NULL;
	ck_assert_int_eq(churn_record_explain_json(r, &ex), CHURN_OK);
	cJSON *mine = churn_test_json_parse(ex);
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(mine, "reasons"), reasons, true));
	ck_assert(churn_test_json_num(mine, "probability") == prob);
	cJSON_Delete(mine);
	churn_free(ex);
}

/* Every row of ds through a record, a one-record JSON request and the data-set scorer (churn predict): one answer. */
static void check_record_matches_json(const churn_dataset *ds, churn_model_kind kind)
{
	churn_scorer *sc = scorer_of(kind, ds);
	churn_record *r = NULL;
	char *all = NULL;
	ck_assert_int_eq(churn_record_new(sc, &r), CHURN_OK);
	ck_assert_int_eq(churn_scorer_score_dataset_json(sc, ds, 3, &all), CHURN_OK);
	cJSON *doc = churn_test_json_parse(all);
	const cJSON *preds = cJSON_GetObjectItem(doc, "predictions");
	ck_assert_uint_eq((size_t)cJSON_GetArraySize(preds), churn_dataset_get_row_count(ds));
	size_t i = 0;
	for (const cJSON *p = preds->child; p; p = p->next, i++) {
		char *req = row_json_and_record(ds, i, sc, r), *ans = NULL;
		ck_assert_int_eq(churn_scorer_score_json(sc, req, strlen(req), 3, 0, &ans), CHURN_OK);
		cJSON *one = churn_test_json_parse(ans);
		assert_record_is(sc, r, cJSON_GetArrayItem(cJSON_GetObjectItem(one, "predictions"), 0));
		assert_record_is(sc, r, p);
		cJSON_Delete(one);
		churn_free(ans);
		free(req);
	}
	cJSON_Delete(doc);
	churn_free(all);
	churn_record_free(r);
	churn_scorer_free(sc);
}

START_TEST(test_record_matches_json_on_test_data)
{
	const char *files[] = {"prep-small.csv", "csv-telco-head.csv"};
	for (size_t f = 0; f < sizeof(files) / sizeof(*files); f++) {
		churn_dataset *ds = churn_test_load_data(files[f]);
		check_record_matches_json(ds, CHURN_MODEL_LOGREG);
		check_record_matches_json(ds, CHURN_MODEL_GBM);
		churn_dataset_free(ds);
	}
	check_record_matches_json(data, CHURN_MODEL_GBM);
}
END_TEST

START_TEST(test_record_matches_json_on_telco)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	check_record_matches_json(ds, CHURN_MODEL_GBM);
	check_record_matches_json(ds, CHURN_MODEL_LOGREG);
	churn_dataset_free(ds);
}
END_TEST

/* Values given differently (numbers as text, levels in another case, booleans) encode as the JSON entry reads them. */
START_TEST(test_record_converts_values_as_json)
{
	churn_dataset *ds = churn_test_load_data("prep-small.csv");
	churn_scorer *sc = scorer_of(CHURN_MODEL_LOGREG, ds);
	churn_record *r = NULL;
	ck_assert_int_eq(churn_record_new(sc, &r), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "tenure", " 12 "), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "CONTRACT", "one year"), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "partner", "true"), CHURN_OK);
	ck_assert_int_eq(churn_record_set_number_by_name(r, "MonthlyCharges", 70.5), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "TotalCharges", "NA"), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "InternetService", "Satellite"), CHURN_OK); /* unseen */
	ck_assert_int_eq(churn_record_set_missing_by_name(r, "gender"), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "Churn", "yes"), CHURN_OK);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "customerID", "X-1"), CHURN_OK);
	const char *req = "{\"tenure\":\" 12 \",\"Contract\":\"one year\",\"Partner\":true,\"MonthlyCharges\":70.5,"
	                  "\"TotalCharges\":\"NA\",\"InternetService\":\"Satellite\",\"gender\":null,\"Churn\":\"yes\","
	                  "\"customerID\":\"X-1\"}";
	char *ans = NULL;
	ck_assert_int_eq(churn_scorer_score_json(sc, req, strlen(req), 3, 0, &ans), CHURN_OK);
	cJSON *doc = churn_test_json_parse(ans);
	assert_record_is(sc, r, cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "predictions"), 0));
	/* and the JSON entry still equals the reference path (churn_prep_apply_json) */
	double a[64], b[64];
	size_t na = 0, nb = 0;
	ck_assert_int_eq(churn_scorer_encode_json(sc, req, strlen(req), false, a, 64, &na), CHURN_OK);
	ck_assert_int_eq(churn_scorer_encode_json(sc, req, strlen(req), true, b, 64, &nb), CHURN_OK);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(a, b, na * sizeof(double)) == 0);
	cJSON_Delete(doc);
	churn_free(ans);
	churn_record_free(r);
	churn_scorer_free(sc);
	churn_dataset_free(ds);
}
END_TEST

/*
 * Fitted levels are found by a hash of (length, first, last byte) when a
 * column's levels do not share a slot (red, green, blue), else by a search
 * ("a_b" and "b_o" share one). Every probe (the levels, texts that differ
 * in one byte, in case, in length, unseen ones) set by churn_record_set_text
 * scores as the same JSON request, whose strings the spec's own search
 * matches. (The reasons differ in one way, left as it is: a level matched
 * ignoring case is named as fitted by the record, as sent by the JSON path.)
 */
START_TEST(test_record_finds_levels_as_the_reference)
{
	static const char csv[] = "plan,code,tenure,Churn\n"
	                          "a_b,red,1,Yes\nb_o,green,2,No\nx,blue,3,No\nlong level name here,red,4,Yes\n"
	                          "a_b,green,5,No\nb_o,blue,6,Yes\nx,red,7,No\nlong level name here,green,8,No\n"
	                          "a_b,blue,9,Yes\nb_o,red,10,No\nx,green,11,Yes\nlong level name here,blue,12,No\n";
	static const char *const probes[] = {"a_b", "b_o", "x", "long level name here", "Yes", "No", "a_c", "c_b",
	                                     "A_b", "a_bb", "a_", "b_o ", " x", "y", "long level name herf",
	                                     "long level name her", "yes", "NO", "Yez", "Y", "\u00e9t\u00e9", "Yas",
	                                     "axb", "lonX level name here", "Nx", "red", "green", "blue", "rxd",
	                                     "gxxxn", "bxxe", "Red", "re", "redd"};
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_buffer(csv, strlen(csv), "levels.csv", NULL, &ds, NULL), CHURN_OK);
	churn_scorer *sc = scorer_of(CHURN_MODEL_LOGREG, ds);
	churn_record *r = NULL;
	ck_assert_int_eq(churn_record_new(sc, &r), CHURN_OK);
	for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
		for (int col = 0; col < 2; col++) {
			const char *name = col ? "code" : "plan";
			size_t field;
			ck_assert_int_eq(churn_scorer_find_column(sc, name, &field), CHURN_OK);
			churn_record_clear(r);
			ck_assert_int_eq(churn_record_set_text(r, field, probes[i], strlen(probes[i])), CHURN_OK);
			ck_assert_int_eq(churn_record_set_number_by_name(r, "tenure", 3), CHURN_OK);
			char req[200], *ans = NULL;
			snprintf(req, sizeof req, "{\"%s\": \"%s\", \"tenure\": 3}", name, probes[i]);
			ck_assert_int_eq(churn_scorer_score_json(sc, req, strlen(req), 3, 0, &ans), CHURN_OK);
			cJSON *doc = churn_test_json_parse(ans);
			const cJSON *want = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "predictions"), 0);
			double prob;
			bool churn;
			ck_assert_int_eq(churn_record_score(r, 0, &prob, &churn), CHURN_OK);
			ck_assert_msg(prob == churn_test_json_num(want, "probability"), "%s", req);
			ck_assert(churn == cJSON_IsTrue(cJSON_GetObjectItem(want, "churn")));
			cJSON_Delete(doc);
			churn_free(ans);
		}
	}
	churn_record_free(r);
	churn_scorer_free(sc);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_record_bad_inputs_give_documented_statuses)
{
	churn_dataset *ds = churn_test_load_data("prep-small.csv");
	churn_scorer *sc = scorer_of(CHURN_MODEL_LOGREG, ds);
	churn_record *r = NULL;
	size_t k, tenure, contract;
	ck_assert_int_eq(churn_record_new(sc, &r), CHURN_OK);
	ck_assert_int_eq(churn_scorer_find_column(sc, "tenure", &tenure), CHURN_OK);
	ck_assert_int_eq(churn_scorer_find_column(sc, "contract", &contract), CHURN_OK);
	ck_assert_int_eq(churn_scorer_find_column(sc, "no_such", &k), CHURN_E_NOTFOUND);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_record_set_number_by_name(r, "no_such", 1), CHURN_E_NOTFOUND);
	ck_assert_int_eq(churn_record_set_number(r, tenure, NAN), CHURN_E_NUMERIC);
	ck_assert_int_eq(churn_record_set_number(r, tenure, INFINITY), CHURN_E_NUMERIC);
	ck_assert_int_eq(churn_record_set_string(r, tenure, "twelve"), CHURN_E_PARSE);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_record_set_text(r, contract, "a\0b", 3), CHURN_E_PARSE);
	ck_assert_int_eq(churn_record_set_string(r, contract, "\xc3\x28"), CHURN_E_PARSE);
	ck_assert_int_eq(churn_record_set_string_by_name(r, "churn", "maybe"), CHURN_E_PARSE);
	ck_assert_int_eq(churn_record_set_number(r, churn_scorer_get_column_count(sc), 1), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_record_get_reason(r, 0, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_record_new(NULL, &r), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_scorer_find_column(NULL, "x", &k), CHURN_E_INVALID_ARG);
	/* failed sets left the record as it was: all missing, as an empty request */
	double p;
	char *ans = NULL;
	ck_assert_int_eq(churn_record_score(r, 0, &p, NULL), CHURN_OK);
	ck_assert_uint_eq(churn_record_get_reason_count(r), 0);
	ck_assert_int_eq(churn_scorer_score_json(sc, "{}", 2, 0, 0, &ans), CHURN_OK);
	cJSON *doc = churn_test_json_parse(ans);
	ck_assert(p == churn_test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "predictions"), 0), "probability"));
	cJSON_Delete(doc);
	churn_free(ans);
	churn_record_free(r);
	churn_scorer_free(sc);
	churn_dataset_free(ds);
}
END_TEST

/* Two columns whose names differ only in case: the exact name works, the folded one is ambiguous. */
START_TEST(test_record_ambiguous_name_refused)
{
	double a[40], b[40];
	const char *y[40];
	for (size_t i = 0; i < 40; i++) {
		a[i] = (double)(i % 7);
		b[i] = (double)(i % 5);
		y[i] = i % 3 ? "No" : "Yes";
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Tenure", a, 40), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", b, 40), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Churn", y, 40), CHURN_OK);
	churn_scorer *sc = scorer_of(CHURN_MODEL_LOGREG, ds);
	size_t k;
	ck_assert_int_eq(churn_scorer_find_column(sc, "TENURE", &k), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "ambiguous"));
	ck_assert_int_eq(churn_scorer_find_column(sc, "tenure", &k), CHURN_OK);
	ck_assert_str_eq(churn_scorer_get_column(sc, k), "tenure");
	churn_scorer_free(sc);
	churn_dataset_free(ds);
}
END_TEST

static Suite *score_suite(void)
{
	Suite *s = suite_create("score");
	TCase *tc = tcase_create("score");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_and_dataset_give_one_answer);
	tcase_add_test(tc, test_reasons_are_raw_columns_largest_effect_first);
	tcase_add_test(tc, test_csv_matches_json);
	tcase_add_test(tc, test_missing_columns_named);
	tcase_add_test(tc, test_hostile_requests_refused_before_parsing);
	tcase_add_test(tc, test_record_matches_json_on_test_data);
	tcase_add_test(tc, test_record_matches_json_on_telco);
	tcase_add_test(tc, test_record_converts_values_as_json);
	tcase_add_test(tc, test_record_finds_levels_as_the_reference);
	tcase_add_test(tc, test_record_bad_inputs_give_documented_statuses);
	tcase_add_test(tc, test_record_ambiguous_name_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(score_suite());
}
