/* json-read: nesting, encoding and record-count checks before any recursive parse,
 * and every JSON reader of the library refusing deep documents with a clear error.
 * White-box: links the internal library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "test-common.h"

#include <churn.h>

/* n '[' then n ']' (malloc'd). */
static char *nested(size_t n, char open, char close)
{
	char *s = malloc(2 * n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, open, n);
	memset(s + n, close, n);
	s[2 * n] = '\0';
	return s;
}

START_TEST(test_scan_refuses_nesting_past_the_limit)
{
	ch_json_limits lim = {3, 0};
	ck_assert_int_eq(ch_json_scan("[{\"a\":1}]", 9, &lim, "request", NULL), CHURN_OK);
	ck_assert_int_eq(ch_json_scan("[{\"a\":[1]}]", 11, &lim, "request", NULL), CHURN_OK);
	ck_assert_int_eq(ch_json_scan("[{\"a\":[[1]]}]", 13, &lim, "request", NULL), CHURN_E_PARSE);
	ck_assert_str_eq(churn_last_error(), "request: byte 8: JSON nested deeper than 3 levels");
	/* brackets inside strings, escaped quotes included, do not count */
	const char *s = "{\"a\":\"[[[[\\\"[[[[\"}";
	ck_assert_int_eq(ch_json_scan(s, strlen(s), &lim, "x", NULL), CHURN_OK);
	char *deep = nested(100000, '[', ']');
	ch_json_limits doc = {CH_JSON_MAX_DEPTH, 0};
	ck_assert_int_eq(ch_json_scan(deep, strlen(deep), &doc, "doc", NULL), CHURN_E_PARSE);
	ck_assert_ptr_null(ch_json_parse(deep, strlen(deep), "doc", NULL));
	free(deep);
	deep = nested(CH_JSON_MAX_DEPTH, '[', ']');
	cJSON *o = ch_json_parse(deep, strlen(deep), "doc", NULL);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	free(deep);
}
END_TEST

START_TEST(test_scan_refuses_invalid_utf8_and_nul)
{
	ch_json_limits lim = {8, 0};
	static const char *const bad[] = {
	    "{\"a\":\"\xff\"}",             /* not a lead byte */
	    "{\"a\":\"\xc3\"}",             /* truncated */
	    "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
	    "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong, three bytes */
	    "{\"a\":\"\xed\xa0\x80\"}",     /* surrogate */
	    "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
	    "{\"a\":1}\xc3\xa9",            /* outside a string */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ch_json_scan(bad[i], strlen(bad[i]), &lim, "request", NULL) == CHURN_E_PARSE, "case %zu", i);
	const char *good = "{\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}";
	ck_assert_int_eq(ch_json_scan(good, strlen(good), &lim, "request", NULL), CHURN_OK);
	const char nul[] = "{\"a\":\"x\0y\"}";
	ck_assert_int_eq(ch_json_scan(nul, sizeof(nul) - 1, &lim, "request", NULL), CHURN_E_PARSE);
}
END_TEST

START_TEST(test_scan_counts_records_and_stops_at_the_cap)
{
	ch_json_limits lim = {3, 3};
	size_t n = 0;
	ck_assert_int_eq(ch_json_scan("[]", 2, &lim, "r", &n), CHURN_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ch_json_scan("[{},{\"a\":[1,2,3]},\"x\"]", 22, &lim, "r", &n), CHURN_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ch_json_scan("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", 25, &lim, "r", &n), CHURN_OK);
	ck_assert_uint_eq(n, 1);
	/* the fourth record is refused where it starts; what follows (not even JSON) is never read */
	const char *s = "[{},{},{},{} garbage \xff";
	ck_assert_int_eq(ch_json_scan(s, strlen(s), &lim, "request", NULL), CHURN_E_LIMIT);
	ck_assert_str_eq(churn_last_error(), "request: more than 3 records; at most 3 are accepted");
}
END_TEST

/* Every reader of workdir documents, artifacts and configuration refuses deep nesting with a clear error. */
START_TEST(test_readers_refuse_deep_documents)
{
	char *deep = nested(5000, '[', ']');
	char *obj = malloc(strlen(deep) + 16);
	sprintf(obj, "{\"x\":%s}", deep);
	churn_model *m = NULL;
	ck_assert_int_eq(churn_model_from_buffer(obj, strlen(obj), &m), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "nested deeper than"));
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_apply_json(p, obj), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "configuration: byte"));
	churn_prep *prep = NULL;
	ck_assert_int_eq(churn_prep_from_json(obj, &prep), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "prep spec: byte"));
	churn_profile *pr = NULL;
	ck_assert_int_eq(churn_profile_from_json(obj, &pr), CHURN_E_PARSE);

	char *dir = churn_test_tmpdir();
	char path[4096];
	snprintf(path, sizeof(path), "%s/reports", dir);
	ck_assert_int_eq(ch_mkdir_p(path), CHURN_OK);
	snprintf(path, sizeof(path), "%s/reports/metrics.json", dir);
	ck_assert(churn_test_write_file(path, obj));
	char *text = NULL;
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(dir, NULL, &w), CHURN_OK);
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/metrics.json", &text, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "reports/metrics.json: byte 69: JSON nested deeper than 64 levels"));
	churn_workdir_free(w);
	ck_assert_int_eq(churn_report_metrics_json(dir, &text), CHURN_E_PARSE);
	snprintf(path, sizeof(path), "%s/reports/model_run_metadata.json", dir);
	ck_assert(churn_test_write_file(path, obj));
	ck_assert_int_eq(churn_report_records_json(dir, "reports/model_run_metadata.json", 5, &text), CHURN_E_PARSE);
	ck_assert_int_ne(churn_report_details_json(dir, &text), CHURN_OK);
	churn_test_rmdir(dir);
	free(dir);
	churn_params_free(p);
	free(obj);
	free(deep);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, test_scan_refuses_nesting_past_the_limit);
	tcase_add_test(tc, test_scan_refuses_invalid_utf8_and_nul);
	tcase_add_test(tc, test_scan_counts_records_and_stops_at_the_cap);
	tcase_add_test(tc, test_readers_refuse_deep_documents);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(json_suite());
}
