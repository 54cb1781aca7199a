/*
 * Alerts: the rules over what a run measured (ch_alerts_evaluate), the
 * capped reports/alerts.json (ch_alerts_append) and its reader for clients
 * (churn_alerts_json). The webhook is alerts-webhook.c.
 */
#include "churn/alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "alerts-private.h"
#include "churn/param-keys.h"
#include "core-private.h"
#include "params-private.h"
#include "report-private.h"

#define MAX_MESSAGE_BYTES 600 /* one line on a terminal, a log or a chat message */
#define MAX_SECRET_BYTES 4096
#define NAMES_IN_MESSAGE 5    /* columns named in a message; details list them all */

static const char *const rule_names[] = {"column_psi",    "churn_rate", "champion_auc",
                                         "schema_change", "run_failed", "challenger_refused"};

void ch_alert_input_init(ch_alert_input *in)
{
	memset(in, 0, sizeof(*in));
	in->auc_train = NAN;
	in->auc_new = NAN;
	in->refusals = -1;
}

void ch_alerts_wilson(double k, double n, double level, double *lo, double *hi)
{
	double z = gsl_cdf_ugaussian_Pinv(0.5 + level / 2), p = k / n, z2 = z * z;
	double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
	double half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
	*lo = fmax(0, centre - half);
	*hi = fmin(1, centre + half);
}

/* Whether @p name is in the comma-separated list @p rules (names trimmed). */
static bool rule_on(char **rules, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rules[i], name))
			return true;
	return false;
}

static churn_status rules_of(const churn_params *p, char ***out, size_t *out_n)
{
	churn_status st = ch_list_split(churn_params_get_str(p, CHURN_KEY_ALERTS_RULES), out, out_n);
	for (size_t i = 0; !st && i < *out_n; i++) {
		bool known = false;
		for (size_t k = 0; k < sizeof rule_names / sizeof rule_names[0]; k++)
			known = known || !strcmp((*out)[i], rule_names[k]);
		if (!known)
			st = ch_fail(CHURN_E_INVALID_ARG,
			             "alerts.rules: unknown rule \"%.64s\" (known: column_psi, churn_rate, champion_auc, "
			             "schema_change, run_failed, challenger_refused)",
			             (*out)[i]);
	}
	return st;
}

static void rules_free(char **rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rules[i]);
	free(rules);
}

churn_status ch_alerts_check_params(const churn_params *p)
{
	char **rules = NULL;
	size_t n = 0;
	churn_status st = rules_of(p, &rules, &n);
	rules_free(rules, n);
	if (st)
		return st;
	const char *url = churn_params_get_str(p, CHURN_KEY_ALERTS_WEBHOOK_URL);
	if (url[0] && strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return ch_fail(CHURN_E_INVALID_ARG, "alerts.webhook_url: only http:// and https:// URLs are posted to");
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return ch_fail(CHURN_E_INVALID_ARG, "alerts.webhook_url: a space or control character in the URL");
	if (strlen(churn_params_get_str(p, CHURN_KEY_ALERTS_WEBHOOK_SECRET)) > MAX_SECRET_BYTES)
		return ch_fail(CHURN_E_INVALID_ARG, "alerts.webhook_secret: longer than %d bytes", MAX_SECRET_BYTES);
	return CHURN_OK;
}

/*
 * @p s as one line of at most MAX_MESSAGE_BYTES (malloc'd): control
 * characters become spaces, and a cut never splits a UTF-8 sequence.
 */
static char *one_line(const char *s)
{
	size_t n = strlen(s);
	if (n > MAX_MESSAGE_BYTES) {
		n = MAX_MESSAGE_BYTES - 3;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	char *out = malloc(n + 4);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < ' ' || s[i] == 0x7f) ? ' ' : s[i];
	strcpy(out + n, n < strlen(s) ? "..." : "");
	return out;
}

/* Append an alert to @p list; @p details is taken (deleted on failure). */
static churn_status fire(cJSON *list, const ch_alert_input *in, const char *rule, const char *severity,
                         cJSON *details, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static churn_status fire(cJSON *list, const ch_alert_input *in, const char *rule, const char *severity,
                         cJSON *details, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *raw = ch_vasprintf(fmt, ap);
	va_end(ap);
	char *msg = raw ? one_line(raw) : NULL, stamp[32];
	cJSON *a = cJSON_CreateObject();
	ch_format_time_utc(stamp, sizeof stamp, in->time);
	if (!msg || !a || !details || !cJSON_AddStringToObject(a, "rule", rule) ||
	    !cJSON_AddStringToObject(a, "severity", severity) || !cJSON_AddStringToObject(a, "message", msg)) {
		free(raw);
		free(msg);
		cJSON_Delete(a);
		cJSON_Delete(details);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	cJSON_AddItemToObject(a, "details", details);
	cJSON_AddStringToObject(a, "run_id", in->run_id ? in->run_id : "");
	cJSON_AddStringToObject(a, "pipeline", in->pipeline ? in->pipeline : "");
	cJSON_AddStringToObject(a, "time", stamp);
	cJSON_AddItemToArray(list, a);
	free(raw);
	free(msg);
	return CHURN_OK;
}

static churn_status rule_run_failed(const ch_alert_input *in, cJSON *list)
{
	if (!in->failed)
		return CHURN_OK;
	const char *error = in->error && in->error[0] ? in->error : "unknown error";
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "error", error);
	return fire(list, in, "run_failed", "alert", d, "the %s run failed: %s", in->pipeline ? in->pipeline : "", error);
}

static churn_status rule_churn_rate(const ch_alert_input *in, const churn_params *p, cJSON *list)
{
	if (!(in->rows > 0) || !(in->prev_rows > 0))
		return CHURN_OK;
	double level = churn_params_get_double(p, CHURN_KEY_ALERTS_CHURN_RATE_LEVEL), lo, hi;
	double rate = in->positives / in->rows, prev = in->prev_positives / in->prev_rows;
	ch_alerts_wilson(in->prev_positives, in->prev_rows, level, &lo, &hi);
	if (rate >= lo && rate <= hi)
		return CHURN_OK;
	cJSON *d = cJSON_CreateObject(), *pr = cJSON_CreateObject(), *iv = cJSON_CreateArray();
	if (d && pr && iv) {
		cJSON_AddNumberToObject(d, "rate", rate);
		cJSON_AddNumberToObject(d, "rows", in->rows);
		cJSON_AddNumberToObject(d, "positives", in->positives);
		cJSON_AddStringToObject(pr, "run_id", in->prev_run_id ? in->prev_run_id : "");
		cJSON_AddNumberToObject(pr, "rate", prev);
		cJSON_AddNumberToObject(pr, "rows", in->prev_rows);
		cJSON_AddNumberToObject(pr, "positives", in->prev_positives);
		cJSON_AddItemToArray(iv, cJSON_CreateNumber(lo));
		cJSON_AddItemToArray(iv, cJSON_CreateNumber(hi));
		cJSON_AddItemToObject(pr, "interval", iv);
		cJSON_AddNumberToObject(pr, "level", level);
		cJSON_AddItemToObject(d, "previous", pr);
	} else {
		cJSON_Delete(pr);
		cJSON_Delete(iv);
		cJSON_Delete(d);
		d = NULL;
	}
	return fire(list, in, "churn_rate", "warn", d,
	            "churn rate %.2f%% of %.0f rows is outside the previous data run's %g%% interval [%.2f%%, %.2f%%] "
	            "(%.2f%% of %.0f rows, run %s)",
	            100 * rate, in->rows, 100 * level, 100 * lo, 100 * hi, 100 * prev, in->prev_rows,
	            in->prev_run_id ? in->prev_run_id : "?");
}

/* The type of column @p name in @p schema, or NULL. */
static const char *type_in(const cJSON *schema, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, schema)
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		if (n && !strcmp(n, name))
			return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type"));
	}
	return NULL;
}

/* "a, b, c and 4 more" of the strings in @p names (malloc'd). */
static char *name_list(const cJSON *names)
{
	char *s = ch_strdup("");
	int n = cJSON_GetArraySize(names), i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, names)
	{
		if (!s || i == NAMES_IN_MESSAGE)
			break;
		char *more = ch_asprintf("%s%s%.80s", s, i ? ", " : "", cJSON_GetStringValue(it));
		free(s);
		s = more;
		i++;
	}
	if (s && n > i) {
		char *more = ch_asprintf("%s and %d more", s, n - i);
		free(s);
		s = more;
	}
	return s;
}

/* Added, removed and retyped columns of @p in's schemas into @p d; whether any. */
static bool schema_diff(const ch_alert_input *in, cJSON *d)
{
	cJSON *added = cJSON_AddArrayToObject(d, "added"), *removed = cJSON_AddArrayToObject(d, "removed");
	cJSON *retyped = cJSON_AddArrayToObject(d, "retyped");
	const cJSON *c;
	cJSON_ArrayForEach(c, in->schema)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type"));
		const char *was = name ? type_in(in->prev_schema, name) : NULL;
		if (name && !was) {
			cJSON_AddItemToArray(added, cJSON_CreateString(name));
		} else if (name && type && strcmp(was, type)) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "name", name);
			cJSON_AddStringToObject(r, "from", was);
			cJSON_AddStringToObject(r, "to", type);
			cJSON_AddItemToArray(retyped, r);
		}
	}
	cJSON_ArrayForEach(c, in->prev_schema)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		if (name && !type_in(in->schema, name))
			cJSON_AddItemToArray(removed, cJSON_CreateString(name));
	}
	return cJSON_GetArraySize(added) || cJSON_GetArraySize(removed) || cJSON_GetArraySize(retyped);
}

static churn_status rule_schema_change(const ch_alert_input *in, cJSON *list)
{
	bool listed = in->schema && in->prev_schema;
	if (!listed && !(in->schema_sha256 && in->prev_schema_sha256))
		return CHURN_OK;
	if (!listed && !strcmp(in->schema_sha256, in->prev_schema_sha256))
		return CHURN_OK;
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_AddStringToObject(d, "previous_run_id", in->prev_run_id ? in->prev_run_id : "");
	if (!listed)
		return fire(list, in, "schema_change", "alert", d,
		            "the columns changed since data run %s (too many to list)", in->prev_run_id ? in->prev_run_id : "?");
	if (!schema_diff(in, d)) {
		cJSON_Delete(d);
		return CHURN_OK;
	}
	char *added = name_list(cJSON_GetObjectItemCaseSensitive(d, "added"));
	char *removed = name_list(cJSON_GetObjectItemCaseSensitive(d, "removed"));
	cJSON *names = cJSON_CreateArray(), *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(d, "retyped"))
	{
		char *one = ch_asprintf("%.80s (%s -> %s)", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "name")),
		                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "from")),
		                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "to")));
		cJSON_AddItemToArray(names, cJSON_CreateString(one ? one : "?"));
		free(one);
	}
	char *retyped = name_list(names);
	cJSON_Delete(names);
	churn_status st = (added && removed && retyped)
	                      ? fire(list, in, "schema_change", "alert", d, "the columns changed since data run %s:%s%s%s%s%s%s",
	                             in->prev_run_id ? in->prev_run_id : "?", added[0] ? " added " : "", added,
	                             removed[0] ? "; removed " : "", removed, retyped[0] ? "; retyped " : "", retyped)
	                      : (cJSON_Delete(d), ch_fail(CHURN_E_NOMEM, "out of memory"));
	free(added);
	free(removed);
	free(retyped);
	return st;
}

static churn_status rule_column_psi(const ch_alert_input *in, const churn_params *p, cJSON *list)
{
	double warn = churn_params_get_double(p, CHURN_KEY_DRIFT_PSI_WARN);
	double alert = churn_params_get_double(p, CHURN_KEY_DRIFT_PSI_ALERT);
	cJSON *d = cJSON_CreateObject(), *cols = cJSON_AddArrayToObject(d, "columns"), *names = cJSON_CreateArray();
	bool any_alert = false;
	for (size_t i = 0; d && cols && names && i < in->psi_n; i++) {
		double v = in->psi[i].psi;
		if (!(v >= warn))
			continue;
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", in->psi[i].name);
		cJSON_AddNumberToObject(c, "psi", v);
		cJSON_AddStringToObject(c, "severity", v >= alert ? "alert" : "warn");
		cJSON_AddItemToArray(cols, c);
		any_alert = any_alert || v >= alert;
		char one[128];
		snprintf(one, sizeof one, "%.60s PSI %.3f", in->psi[i].name, v); /* inside name_list's 80 */
		cJSON_AddItemToArray(names, cJSON_CreateString(one));
	}
	if (!d || !cols || !names || !cJSON_GetArraySize(cols)) {
		bool oom = !d || !cols || !names;
		cJSON_Delete(d);
		cJSON_Delete(names);
		return oom ? ch_fail(CHURN_E_NOMEM, "out of memory") : CHURN_OK;
	}
	cJSON_AddNumberToObject(d, "warn", warn);
	cJSON_AddNumberToObject(d, "alert", alert);
	char *text = name_list(names);
	cJSON_Delete(names);
	churn_status st = text ? fire(list, in, "column_psi", any_alert ? "alert" : "warn", d,
	                              "drift: %s (warn at %g, alert at %g)", text, warn, alert)
	                       : (cJSON_Delete(d), ch_fail(CHURN_E_NOMEM, "out of memory"));
	free(text);
	return st;
}

static churn_status rule_champion_auc(const ch_alert_input *in, const churn_params *p, cJSON *list)
{
	double drop = churn_params_get_double(p, CHURN_KEY_ALERTS_AUC_DROP);
	if (!isfinite(in->auc_train) || !isfinite(in->auc_new) || !(in->auc_train - in->auc_new >= drop))
		return CHURN_OK;
	const char *name = in->champion ? in->champion : "the champion";
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "model", name);
	cJSON_AddNumberToObject(d, "roc_auc_train", in->auc_train);
	cJSON_AddNumberToObject(d, "roc_auc_new", in->auc_new);
	cJSON_AddNumberToObject(d, "threshold", drop);
	return fire(list, in, "champion_auc", "alert", d,
	            "%s: ROC AUC %.4f on the new rows, %.4f below its %.4f at training (alert at a drop of %g)", name,
	            in->auc_new, in->auc_train - in->auc_new, in->auc_train, drop);
}

static churn_status rule_challenger_refused(const ch_alert_input *in, const churn_params *p, cJSON *list)
{
	int64_t limit = churn_params_get_int(p, CHURN_KEY_ALERTS_REFUSALS);
	if (in->refusals < 0 || in->refusals < limit)
		return CHURN_OK;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "refusals", in->refusals);
	cJSON_AddNumberToObject(d, "threshold", (double)limit);
	return fire(list, in, "challenger_refused", "warn", d,
	            "no challenger was promoted in the last %d model runs (the champion is kept)", in->refusals);
}

churn_status ch_alerts_evaluate(const ch_alert_input *in, const churn_params *p, cJSON **out)
{
	char **rules = NULL;
	size_t n = 0;
	cJSON *list = cJSON_CreateArray();
	churn_status st = list ? rules_of(p, &rules, &n) : ch_fail(CHURN_E_NOMEM, "out of memory");
	/* the order of the messages a person reads: what failed, then what changed */
	if (!st && rule_on(rules, n, "run_failed"))
		st = rule_run_failed(in, list);
	if (!st && rule_on(rules, n, "schema_change"))
		st = rule_schema_change(in, list);
	if (!st && rule_on(rules, n, "churn_rate"))
		st = rule_churn_rate(in, p, list);
	if (!st && rule_on(rules, n, "column_psi"))
		st = rule_column_psi(in, p, list);
	if (!st && rule_on(rules, n, "champion_auc"))
		st = rule_champion_auc(in, p, list);
	if (!st && rule_on(rules, n, "challenger_refused"))
		st = rule_challenger_refused(in, p, list);
	rules_free(rules, n);
	if (st) {
		cJSON_Delete(list);
		return st;
	}
	*out = list;
	return CHURN_OK;
}

/* The "alerts" array of the document in @p path (a new empty document when absent or not one). */
static churn_status read_alerts(const char *path, const churn_params *p, cJSON **out)
{
	char *text = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(path, (size_t)churn_params_get_int(p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, &n);
	if (st && st != CHURN_E_NOTFOUND && st != CHURN_E_LIMIT)
		return st;
	cJSON *doc = st ? NULL : ch_json_parse(text, n, path, NULL);
	free(text);
	if (st == CHURN_E_LIMIT || (!st && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "alerts")))) {
		/* keep the unreadable (or too large) file for inspection and begin a new one */
		ch_log(p, CHURN_LOG_WARN, "%s: not an alerts document, or too large; kept as %s.corrupt", path, path);
		char *aside = ch_asprintf("%s.corrupt", path);
		if (aside)
			rename(path, aside);
		free(aside);
		cJSON_Delete(doc);
		doc = NULL;
	}
	if (!doc && (!(doc = cJSON_CreateObject()) || !cJSON_AddArrayToObject(doc, "alerts"))) {
		cJSON_Delete(doc);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	ch_clear_error();
	*out = doc;
	return CHURN_OK;
}

churn_status ch_alerts_append(const char *path, const cJSON *alerts, const churn_params *p)
{
	cJSON *doc = NULL;
	churn_status st = read_alerts(path, p, &doc);
	if (st)
		return st;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
	const cJSON *a;
	cJSON_ArrayForEach(a, alerts) cJSON_AddItemToArray(list, cJSON_Duplicate(a, 1));
	int64_t cap = churn_params_get_int(p, CHURN_KEY_ALERTS_MAX_RECORDS);
	while (cJSON_GetArraySize(list) > cap)
		cJSON_DeleteItemFromArray(list, 0);
	char *text = ch_json_print(doc, true);
	cJSON_Delete(doc);
	if (!text)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	st = ch_write_file_atomic(path, text, strlen(text));
	free(text);
	return st;
}

/* Every string in @p item (recursively) with absolute paths cut (clients need not learn the layout). */
static void strip_strings(cJSON *item)
{
	for (cJSON *c = item ? item->child : NULL; c; c = c->next) {
		if (cJSON_IsString(c)) {
			char *safe = ch_report_strip_paths(c->valuestring);
			if (safe)
				cJSON_SetValuestring(c, safe);
			free(safe);
		} else {
			strip_strings(c);
		}
	}
}

churn_status churn_alerts_json(const char *workdir, size_t limit, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_alerts_json: NULL argument");
	char *text = NULL;
	size_t n = 0;
	cJSON *doc = NULL;
	churn_status st = ch_json_read_file(workdir, "reports/alerts.json",
	                                    (size_t)churn_params_get_int(NULL, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &text, &n);
	if (st == CHURN_E_NOTFOUND)
		doc = cJSON_Parse("{\"alerts\": []}");
	else if (!st)
		doc = ch_json_parse(text, n, "reports/alerts.json", &st);
	free(text);
	if (st && st != CHURN_E_NOTFOUND)
		return st;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(doc);
		return doc ? ch_fail(CHURN_E_PARSE, "%s/reports/alerts.json: no \"alerts\" array", workdir)
		           : ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	while (limit && (size_t)cJSON_GetArraySize(list) > limit)
		cJSON_DeleteItemFromArray(list, 0);
	strip_strings(list);
	char *s = ch_json_print(doc, false);
	cJSON_Delete(doc);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_clear_error();
	*out_json = s;
	return CHURN_OK;
}

churn_status churn_alerts_signature(const char *secret, const void *body, size_t n, char **out)
{
	if (!secret || (!body && n) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_alerts_signature: NULL argument");
	size_t key_n = strlen(secret);
	if (key_n > MAX_SECRET_BYTES)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_alerts_signature: a secret longer than %d bytes", MAX_SECRET_BYTES);
	char hex[65];
	ch_hmac_sha256_hex(secret, key_n, body, n, hex);
	char *s = ch_asprintf("sha256=%s", hex);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = s;
	return CHURN_OK;
}
