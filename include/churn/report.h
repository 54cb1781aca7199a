/*
 * Reading a workdir's results for front-ends (the HTTP server, dashboards,
 * embedding programs): composed JSON documents built from the files the
 * pipelines write, and safe resolution of artifact names to paths. Every
 * call reads the files afresh; none holds the workdir lock (files are
 * replaced atomically, so a reader sees either the old or the new version;
 * a document made of several files reads them from one published
 * generation).
 *
 * Thread safety: all calls are safe concurrently.
 */
#ifndef CHURN_REPORT_H
#define CHURN_REPORT_H

#include "churn/common.h"
#include "churn/retention.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The application values of /api/details as JSON (churn_free): name,
 * version, dataset {source, rows, columns, churn_rate, sha256}, last_data_run
 * {run_id, status, started_at, finished_at, duration_s, error},
 * last_model_run {run_id, status, finished_at, models}, best_model {name,
 * metrics}, figures [names]. Meant for clients: "workdir" is the workdir's
 * base name and absolute paths in the copied strings (a local source, an
 * error's file:line) are cut to their last component; URLs in them are
 * already masked by the fetcher. CHURN_E_NOTFOUND (detail says what to run)
 * when no run has completed yet. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_details_json(const char *workdir, char **out_json);

/**
 * The last @p limit entries (0 = all) of the record file @p rel
 * ("reports/model_run_metadata.json", "reports/run_metadata.json") as
 * {"runs": [...]}, oldest first. CHURN_E_NOTFOUND when absent. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_records_json(const char *workdir, const char *rel, size_t limit,
                                                                 char **out_json);

/**
 * The artifacts a front-end may serve, as a JSON array of {"name", "kind",
 * "bytes", "sha256", "modified"}: models (artifacts/models/<kind>.json, kind
 * "model"), the prep spec ("prep"), the processed data set ("dataset"), the
 * reports ("report") and figures ("figure"). Names are unique file names
 * without directories. Regular files only; symlinks are not listed.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_artifacts_json(const char *workdir, char **out_json);

/**
 * Resolve an artifact @p name to its path (churn_free) when, and only when,
 * it is listed by churn_report_artifacts_json() (with @p kind, or any kind
 * when NULL). Names with '/', "..", NUL or a leading '.' and anything that is
 * not a regular file inside the workdir are CHURN_E_NOTFOUND. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_artifact_path(const char *workdir, const char *name,
                                                                  const char *kind, char **out_path);

/**
 * Name of the model with the best test ROC AUC in reports/metrics.json
 * ("gbm", "logreg", ...) as a new string (churn_free). CHURN_E_NOTFOUND when
 * no model has been evaluated yet. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_best_model(const char *workdir, char **out_name);

/**
 * reports/metrics.json as written (checked to be one JSON document, at most
 * workdir.max_report_bytes' default) in a new string (churn_free). Returns
 * CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_NOTFOUND (no model
 * evaluated yet); CHURN_E_PARSE (not valid JSON); CHURN_E_LIMIT (too large);
 * CHURN_E_IO; CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_metrics_json(const char *workdir, char **out_json);

/**
 * reports/drift.json as written (the data run's rows against the serving
 * model's training rows, churn/drift.h, with "history" and the ML run's
 * "performance"), checked to be one JSON document, in a new string
 * (churn_free). Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument);
 * CHURN_E_NOTFOUND (no data run has written one yet); CHURN_E_PARSE;
 * CHURN_E_LIMIT; CHURN_E_IO; CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_drift_json(const char *workdir, char **out_json);

/**
 * /api/retention: reports/retention.json (churn_retention_list_json() of the
 * last ML run with cox, from the published generation; only when its summary
 * is metrics.json's "retention": the last training's) with its
 * "customers" cut to the first @p limit (1 to CHURN_RETENTION_JSON_MAX) and
 * "count" set to match, in a new string (churn_free). CHURN_E_INVALID_ARG (a
 * NULL argument, limit out of range); CHURN_E_NOTFOUND (no retention list:
 * no ML run with cox in pipeline.models, or the data had no tenure or charges
 * column); CHURN_E_PARSE, CHURN_E_LIMIT, CHURN_E_IO, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_retention_json(const char *workdir, size_t limit, char **out_json);

/**
 * The value scorer of the published generation's artifacts/models/cox.json
 * (churn_value_scorer_from_buffer()) for /api/predict, when, and only when,
 * its SHA-256 is the one reports/metrics.json gives for the last training's
 * Cox model (a later run without cox leaves the older file in place).
 * *out freed with churn_value_scorer_free(). CHURN_E_INVALID_ARG (NULL);
 * CHURN_E_NOTFOUND (no Cox model in the last training, or a stale file);
 * those of churn_value_scorer_from_buffer(), CHURN_E_IO, CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_report_value_scorer(const char *workdir, churn_value_scorer **out);

/** Content type for an artifact name ("application/json; charset=utf-8", "image/png", ...). @since 0.1 */
CHURN_API const char *churn_report_content_type(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_REPORT_H */
