/*
 * alerts: the rules (each fires on its inputs, stays quiet without them),
 * the Wilson interval, reports/alerts.json (cap, corrupt file), the reader
 * for clients, and HMAC-SHA256 against RFC 4231's test vectors.
 * White-box: links the internal library.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alerts-private.h"
#include "core-private.h"
#include "test-common.h"
#include "utf8-private.h"

#include <churn.h>

/* The alerts @p in fires under @p p (NULL: the defaults); the test fails on an error. */
static cJSON *fired(const ch_alert_input *in, const churn_params *p)
{
	cJSON *out = NULL;
	ck_assert_int_eq(ch_alerts_evaluate(in, p, &out), CHURN_OK);
	ck_assert(cJSON_IsArray(out));
	return out;
}

static const char *field(const cJSON *alerts, int k, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(alerts, k), key));
}

static void base_input(ch_alert_input *in)
{
	ch_alert_input_init(in);
	in->run_id = "20261203T120000Z-abcdef";
	in->pipeline = "data";
	in->time = 1764763200; /* 2025-12-03T12:00:00Z */
}

START_TEST(test_evaluate_without_inputs_fires_nothing)
{
	ch_alert_input in;
	base_input(&in);
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_run_failed_fires_one_line_alert)
{
	ch_alert_input in;
	base_input(&in);
	in.failed = true;
	in.error = "data/raw/x.csv:3:1: bad\nrow";
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(field(a, 0, "rule"), "run_failed");
	ck_assert_str_eq(field(a, 0, "severity"), "alert");
	ck_assert_str_eq(field(a, 0, "message"), "the data run failed: data/raw/x.csv:3:1: bad row");
	ck_assert_str_eq(field(a, 0, "run_id"), "20261203T120000Z-abcdef");
	ck_assert_str_eq(field(a, 0, "pipeline"), "data");
	ck_assert_str_eq(field(a, 0, "time"), "2025-12-03T12:00:00Z");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "details")));
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_message_cut_keeps_utf8_whole)
{
	char error[1400];
	size_t n = 0;
	while (n + 2 < sizeof error - 1) {
		memcpy(error + n, "\xc3\xa9", 2); /* é */
		n += 2;
	}
	error[n] = '\0';
	ch_alert_input in;
	base_input(&in);
	in.failed = true;
	in.error = error;
	cJSON *a = fired(&in, NULL);
	const char *msg = field(a, 0, "message");
	size_t len = strlen(msg);
	ck_assert_uint_le(len, 600);
	ck_assert_str_eq(msg + len - 3, "...");
	ck_assert_uint_eq(ch_utf8_check(msg, len, NULL), len);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_wilson_matches_the_formula)
{
	double lo, hi;
	ch_alerts_wilson(1869, 7043, 0.95, &lo, &hi);
	/* (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.959963984540054 */
	ck_assert_double_eq_tol(lo, 0.255188112884507, 1e-12);
	ck_assert_double_eq_tol(hi, 0.275807437488908, 1e-12);
	ch_alerts_wilson(0, 10, 0.95, &lo, &hi);
	ck_assert_double_eq_tol(lo, 0, 1e-15);
	ck_assert_double_eq_tol(hi, 0.277532799862889, 1e-12);
	ch_alerts_wilson(10, 10, 0.95, &lo, &hi);
	ck_assert_double_eq(hi, 1);
}
END_TEST

START_TEST(test_churn_rate_fires_outside_the_previous_interval_only)
{
	ch_alert_input in;
	base_input(&in);
	in.prev_run_id = "prev";
	in.prev_rows = 7043;
	in.prev_positives = 1869;
	in.rows = 7043;
	in.positives = 1869; /* the same rate */
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	in.positives = 1940; /* 27.5%: inside [25.5%, 27.6%] */
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	in.positives = 1950; /* 27.7%: outside */
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(field(a, 0, "rule"), "churn_rate");
	ck_assert_str_eq(field(a, 0, "severity"), "warn");
	cJSON *prev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "details"),
	                                               "previous");
	ck_assert_str_eq(churn_test_json_str(prev, "run_id"), "prev");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(prev, "interval")), 2);
	cJSON_Delete(a);
	/* a wider interval (alerts.churn_rate_level 0.999) takes it in again */
	churn_params *p = churn_test_params("alerts.churn_rate_level", "0.999", NULL);
	a = fired(&in, p);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	churn_params_free(p);
	in.prev_rows = 0; /* no previous data run */
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_schema_change_names_added_removed_retyped)
{
	cJSON *now = churn_test_json_parse("[{\"name\":\"a\",\"type\":\"numeric\"},{\"name\":\"b\",\"type\":\"text\"},"
	                                   "{\"name\":\"d\",\"type\":\"numeric\"}]");
	cJSON *was = churn_test_json_parse("[{\"name\":\"a\",\"type\":\"numeric\"},{\"name\":\"b\",\"type\":\"categorical\"},"
	                                   "{\"name\":\"c\",\"type\":\"numeric\"}]");
	ch_alert_input in;
	base_input(&in);
	in.prev_run_id = "prev";
	in.schema = now;
	in.prev_schema = was;
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(field(a, 0, "rule"), "schema_change");
	ck_assert_str_eq(field(a, 0, "message"),
	                 "the columns changed since data run prev: added d; removed c; retyped b (categorical -> text)");
	cJSON_Delete(a);
	in.prev_schema = now; /* the same columns */
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	/* too wide to list: the digests decide */
	in.schema = in.prev_schema = NULL;
	in.schema_sha256 = "aa";
	in.prev_schema_sha256 = "aa";
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	in.prev_schema_sha256 = "bb";
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	cJSON_Delete(a);
	cJSON_Delete(now);
	cJSON_Delete(was);
}
END_TEST

START_TEST(test_column_psi_warns_then_alerts)
{
	ch_alert_psi psi[] = {{"tenure", 0.05}, {"Contract", 0.15}, {"MonthlyCharges", 0.25}};
	ch_alert_input in;
	base_input(&in);
	in.psi = psi;
	in.psi_n = 2;
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(field(a, 0, "rule"), "column_psi");
	ck_assert_str_eq(field(a, 0, "severity"), "warn");
	cJSON_Delete(a);
	in.psi_n = 3;
	a = fired(&in, NULL);
	ck_assert_str_eq(field(a, 0, "severity"), "alert");
	ck_assert_ptr_nonnull(strstr(field(a, 0, "message"), "Contract PSI 0.150"));
	ck_assert_ptr_nonnull(strstr(field(a, 0, "message"), "(warn at 0.1, alert at 0.2)"));
	cJSON *cols = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "details"),
	                                               "columns");
	ck_assert_int_eq(cJSON_GetArraySize(cols), 2); /* tenure is below the warning */
	cJSON_Delete(a);
	in.psi_n = 1;
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_champion_auc_and_refusals)
{
	ch_alert_input in;
	base_input(&in);
	in.pipeline = "ml";
	in.champion = "gbm@v3";
	in.auc_train = 0.85;
	in.auc_new = 0.84;
	in.refusals = 1;
	cJSON *a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	in.auc_new = 0.82;
	in.refusals = 2;
	a = fired(&in, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_str_eq(field(a, 0, "rule"), "champion_auc");
	ck_assert_str_eq(field(a, 1, "rule"), "challenger_refused");
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_rules_key_selects_and_refuses_unknown)
{
	ch_alert_input in;
	base_input(&in);
	in.failed = true;
	in.refusals = 5;
	churn_params *p = churn_test_params("alerts.rules", "challenger_refused", NULL);
	cJSON *a = fired(&in, p);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(field(a, 0, "rule"), "challenger_refused");
	cJSON_Delete(a);
	ck_assert_int_eq(churn_params_set_str(p, "alerts.rules", "run_failed, nope"), CHURN_OK);
	a = NULL;
	ck_assert_int_eq(ch_alerts_evaluate(&in, p, &a), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "nope"));
	ck_assert_int_eq(ch_alerts_check_params(p), CHURN_E_INVALID_ARG);
	churn_params_free(p);
}
END_TEST

START_TEST(test_check_params_only_http_urls)
{
	churn_params *p = churn_test_params("alerts.webhook_url", "https://hooks.example/x?token=1", NULL);
	ck_assert_int_eq(ch_alerts_check_params(p), CHURN_OK);
	static const char *const bad[] = {"file:///etc/passwd", "ftp://x/", "gopher://x", "http://a b/", "x"};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		ck_assert_int_eq(churn_params_set_str(p, "alerts.webhook_url", bad[k]), CHURN_OK);
		ck_assert_int_eq(ch_alerts_check_params(p), CHURN_E_INVALID_ARG);
		ck_assert_ptr_nonnull(strstr(churn_last_error(), "alerts.webhook_url"));
	}
	churn_params_free(p);
}
END_TEST

/* One alert with @p rule and a message naming a server path. */
static cJSON *one_alert(const char *rule)
{
	cJSON *list = cJSON_CreateArray(), *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "rule", rule);
	cJSON_AddStringToObject(a, "severity", "warn");
	cJSON_AddStringToObject(a, "message", "the data run failed: /srv/secret/layout/data.csv:3:1: bad");
	cJSON_AddItemToObject(a, "details", cJSON_CreateObject());
	cJSON_AddItemToArray(list, a);
	return list;
}

START_TEST(test_append_caps_and_keeps_a_corrupt_file)
{
	char *reports = churn_test_path(churn_test_tmp, "reports");
	ck_assert_int_eq(ch_mkdir_p(reports), CHURN_OK);
	char *path = churn_test_path(reports, "alerts.json"), *aside = ch_asprintf("%s.corrupt", path);
	ck_assert(churn_test_write_file(path, "{\"runs\": 3}"));
	churn_params *p = churn_test_params("alerts.max_records", "3", NULL);
	char rule[8];
	for (int k = 0; k < 5; k++) {
		snprintf(rule, sizeof rule, "r%d", k);
		cJSON *list = one_alert(rule);
		ck_assert_int_eq(ch_alerts_append(path, list, p), CHURN_OK);
		cJSON_Delete(list);
	}
	ck_assert_int_eq(access(aside, F_OK), 0);
	char *text = churn_test_read_file(path, NULL);
	cJSON *doc = churn_test_json_parse(text), *list = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
	ck_assert_int_eq(cJSON_GetArraySize(list), 3);
	ck_assert_str_eq(field(list, 0, "rule"), "r2");
	ck_assert_str_eq(field(list, 2, "rule"), "r4");
	cJSON_Delete(doc);
	free(text);
	/* the reader for clients: the last N, no server paths */
	char *json = NULL;
	ck_assert_int_eq(churn_alerts_json(churn_test_tmp, 2, &json), CHURN_OK);
	doc = churn_test_json_parse(json);
	list = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_str_eq(field(list, 0, "rule"), "r3");
	ck_assert_str_eq(field(list, 0, "message"), "the data run failed: data.csv:3:1: bad");
	cJSON_Delete(doc);
	churn_free(json);
	churn_params_free(p);
	free(aside);
	free(path);
	free(reports);
}
END_TEST

START_TEST(test_alerts_json_before_any_alert_is_empty)
{
	char *json = NULL;
	ck_assert_int_eq(churn_alerts_json(churn_test_tmp, 0, &json), CHURN_OK);
	ck_assert_str_eq(json, "{\"alerts\":[]}");
	churn_free(json);
	ck_assert_int_eq(churn_alerts_json(NULL, 0, &json), CHURN_E_INVALID_ARG);
	char *reports = churn_test_path(churn_test_tmp, "reports"), *path = churn_test_path(reports, "alerts.json");
	ck_assert_int_eq(ch_mkdir_p(reports), CHURN_OK);
	ck_assert(churn_test_write_file(path, "{\"alerts\": {}}"));
	json = NULL;
	ck_assert_int_eq(churn_alerts_json(churn_test_tmp, 0, &json), CHURN_E_PARSE);
	ck_assert_ptr_null(json);
	free(path);
	free(reports);
}
END_TEST

/* RFC 4231, test cases 1-4, 6 and 7 (5 truncates the output). */
START_TEST(test_hmac_sha256_rfc4231)
{
	unsigned char k1[20], k3[20], k4[25], k6[131], d3[50], d4[50];
	memset(k1, 0x0b, sizeof k1);
	memset(k3, 0xaa, sizeof k3);
	memset(d3, 0xdd, sizeof d3);
	for (int i = 0; i < 25; i++)
		k4[i] = (unsigned char)(i + 1);
	memset(d4, 0xcd, sizeof d4);
	memset(k6, 0xaa, sizeof k6);
	static const char d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char d7[] = "This is a test using a larger than block-size key and a larger than block-size data. "
	                         "The key needs to be hashed before being used by the HMAC algorithm.";
	struct {
		const void *key, *data;
		size_t key_n, n;
		const char *want;
	} cases[] = {
		{k1, "Hi There", 20, 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"Jefe", "what do ya want for nothing?", 4, 28,
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{k3, d3, 20, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{k4, d4, 25, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{k6, d6, 131, sizeof d6 - 1, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{k6, d7, 131, sizeof d7 - 1, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char hex[65];
		ch_hmac_sha256_hex(cases[k].key, cases[k].key_n, cases[k].data, cases[k].n, hex);
		ck_assert_str_eq(hex, cases[k].want);
	}
	char *sig = NULL;
	ck_assert_int_eq(churn_alerts_signature("Jefe", "what do ya want for nothing?", 28, &sig), CHURN_OK);
	ck_assert_str_eq(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	churn_free(sig);
	ck_assert_int_eq(churn_alerts_signature(NULL, "", 0, &sig), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
}
END_TEST

static Suite *alerts_suite(void)
{
	Suite *s = suite_create("alerts");
	TCase *rules = tcase_create("rules");
	tcase_add_test(rules, test_evaluate_without_inputs_fires_nothing);
	tcase_add_test(rules, test_run_failed_fires_one_line_alert);
	tcase_add_test(rules, test_message_cut_keeps_utf8_whole);
	tcase_add_test(rules, test_wilson_matches_the_formula);
	tcase_add_test(rules, test_churn_rate_fires_outside_the_previous_interval_only);
	tcase_add_test(rules, test_schema_change_names_added_removed_retyped);
	tcase_add_test(rules, test_column_psi_warns_then_alerts);
	tcase_add_test(rules, test_champion_auc_and_refusals);
	tcase_add_test(rules, test_rules_key_selects_and_refuses_unknown);
	tcase_add_test(rules, test_check_params_only_http_urls);
	suite_add_tcase(s, rules);
	TCase *io = tcase_create("io");
	tcase_add_checked_fixture(io, churn_test_tmp_setup, churn_test_tmp_teardown);
	tcase_add_test(io, test_append_caps_and_keeps_a_corrupt_file);
	tcase_add_test(io, test_alerts_json_before_any_alert_is_empty);
	suite_add_tcase(s, io);
	TCase *sig = tcase_create("signature");
	tcase_add_test(sig, test_hmac_sha256_rfc4231);
	suite_add_tcase(s, sig);
	return s;
}

int main(void)
{
	return churn_test_run(alerts_suite());
}
