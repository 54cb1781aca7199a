/*
 * Alerts: what the pipelines found worth a person's attention in a run
 * (a failed run, the churn rate outside the previous run's interval, a
 * schema change, drift, a weaker champion, refused challengers). The
 * pipelines evaluate the rules (alerts.* keys) at the end of each run and
 * record what fired in the run record, in reports/alerts.json
 * ({"alerts": [{"rule", "severity": "warn"|"alert", "message", "details",
 * "run_id", "pipeline", "time"}]}, oldest first, the last alerts.max_records)
 * and, when alerts.webhook_url is set, POST them to it signed with
 * alerts.webhook_secret. This header reads them back and signs bodies the
 * way the webhook does.
 *
 * Thread safety: all calls are safe concurrently.
 */
#ifndef CHURN_ALERTS_H
#define CHURN_ALERTS_H

#include <stddef.h>

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The last @p limit alerts (0 = all) of @p workdir's reports/alerts.json as
 * {"alerts": [...]}, oldest first, in a new string (churn_free) in *out_json;
 * {"alerts": []} when no alert has fired yet. Meant for clients: absolute
 * paths in messages and details are cut to their last component. Reads the
 * published file without the workdir lock. Returns CHURN_OK;
 * CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_PARSE (not an alerts
 * document); CHURN_E_LIMIT (larger than workdir.max_report_bytes' default);
 * CHURN_E_IO; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_alerts_json(const char *workdir, size_t limit, char **out_json);

/**
 * The webhook's signature of a body: "sha256=<64 lowercase hex digits of
 * HMAC-SHA256(@p secret, body)>", the value of its X-Churn-Signature header,
 * in a new string (churn_free) in *out. A receiver recomputes it over the
 * bytes it received and compares in constant time. Returns CHURN_OK;
 * CHURN_E_INVALID_ARG (a NULL argument, or a secret longer than 4096 bytes);
 * CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_alerts_signature(const char *secret, const void *body, size_t n,
                                                              char **out);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_ALERTS_H */
