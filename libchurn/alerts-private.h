/*
 * Internal alert helpers (ch_ prefix, never exported). The alert module's
 * files, one concern each:
 *   alerts.c          the rules (ch_alerts_evaluate), reports/alerts.json, churn_alerts_json
 *   alerts-webhook.c  the webhook: a signed POST of a commit's alerts (libcurl, fetch-private.h)
 *
 * An alert is a JSON object {"rule", "severity": "warn"|"alert", "message"
 * (one line), "details" (an object), "run_id", "pipeline", "time"}. The
 * pipeline fills a ch_alert_input with what a run measured; a rule whose
 * inputs are absent (drift or the model registry not there, no previous
 * run) is skipped, never failed.
 */
#ifndef CH_ALERTS_PRIVATE_H
#define CH_ALERTS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/alerts.h"
#include "churn/params.h"

/* One column's population stability index (drift's figure). */
typedef struct ch_alert_psi {
	const char *name;
	double psi;
} ch_alert_psi;

/* What one run measured; every pointer is borrowed. ch_alert_input_init marks everything absent. */
typedef struct ch_alert_input {
	const char *run_id;
	const char *pipeline;  /* "data" | "ml" */
	int64_t time;          /* when the alerts fire (seconds since the epoch) */
	/* run_failed */
	bool failed;
	const char *error;
	/* churn_rate: labelled rows and positives of this run and of the previous data run (rows 0: absent) */
	double rows, positives;
	double prev_rows, prev_positives;
	const char *prev_run_id;
	/*
	 * schema_change: this run's columns and the previous data run's, arrays of
	 * {"name", "type"} (NULL: absent), and the digests of both (compared when a
	 * list is absent: a schema too wide to list).
	 */
	const cJSON *schema, *prev_schema;
	const char *schema_sha256, *prev_schema_sha256;
	/* column_psi (psi_n 0: absent) */
	const ch_alert_psi *psi;
	size_t psi_n;
	/* champion_auc: the champion's ROC AUC at training and on the run's new rows (NaN: absent) */
	const char *champion;
	double auc_train, auc_new;
	/* challenger_refused: runs in a row whose challenger was not promoted (negative: absent) */
	int refusals;
} ch_alert_input;

void ch_alert_input_init(ch_alert_input *in);

/*
 * Check the alerts.* options before a run starts: alerts.rules names known
 * rules, alerts.webhook_url is empty or an http(s) URL, the secret is at
 * most 4096 bytes. CHURN_E_INVALID_ARG naming the key; CHURN_E_NOMEM.
 */
churn_status ch_alerts_check_params(const churn_params *p);

/*
 * The alerts @p in fires under the rules enabled by alerts.rules, as a new
 * JSON array (possibly empty) in *out. CHURN_E_INVALID_ARG (an unknown
 * rule); CHURN_E_NOMEM.
 */
churn_status ch_alerts_evaluate(const ch_alert_input *in, const churn_params *p, cJSON **out);

/*
 * The Wilson score interval of @p k successes in @p n trials at confidence
 * @p level (0.5 < level < 1): [*lo, *hi]. n must be positive.
 */
void ch_alerts_wilson(double k, double n, double level, double *lo, double *hi);

/*
 * Append the alerts of @p alerts (a JSON array) to the file @p path
 * (reports/alerts.json of a generation being built: replaced, never
 * rewritten in place), keeping the last alerts.max_records, oldest first. A
 * file that is not an alerts document, or larger than
 * workdir.max_report_bytes, is kept aside as <path>.corrupt (logged) and a
 * new one begun. CHURN_E_IO; CHURN_E_CREATE; CHURN_E_NOMEM.
 */
churn_status ch_alerts_append(const char *path, const cJSON *alerts, const churn_params *p);

/*
 * POST {"alerts": [...]} (@p alerts, a JSON array) to alerts.webhook_url,
 * signed with alerts.webhook_secret when set, with its timeout and retries.
 * Never fails the run: the outcome is a new object in *out ({"url"
 * (redacted), "status": "delivered"|"failed", "attempts", "http_status",
 * "error"?}), NULL when no webhook is configured or @p alerts is empty;
 * failures are logged through @p p. The secret never reaches a log line or
 * the outcome.
 */
void ch_alerts_webhook(const cJSON *alerts, const churn_params *p, cJSON **out);

#endif
