/*
 * Internal pipeline helpers (ch_ prefix, never exported). The pipeline's
 * files, one concern each:
 *   pipeline.c          the data and ML pipelines: steps, runs, the commit, records
 *   pipeline-figures.c  ch_pipeline_model_figures: the ML run's model figures
 *   pipeline-revenue.c  ch_pipeline_merge_revenue: the best model's revenue at risk into eda.json
 *                       (with the Cox model: the expected loss over retention.horizons by segment)
 *   pipeline-drift.c    ch_pipeline_drift, ch_pipeline_performance: reports/drift.json (drift-private.h)
 *   pipeline-db.c       ch_pipeline_resolve_names, ch_pipeline_write_scores: PostgreSQL sources and pipeline.scores_out
 *   pipeline-retention.c ch_pipeline_retention_record: the survival part's summary in the run record
 *   pipeline-alerts.c   ch_pipeline_alerts*: a run's alerts (alerts.c's rules) into its record, the webhook
 */
#ifndef CH_PIPELINE_PRIVATE_H
#define CH_PIPELINE_PRIVATE_H

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/eda.h"
#include "churn/params.h"
#include "churn/train.h"
#include "churn/workdir.h"

/*
 * Into directory @p dir (which exists): roc_curve, pr_curve, lift_chart and
 * confusion_<model> of the models of @p t on its test rows, and, when
 * @p rev_eda is not NULL, its revenue_at_risk figure (churn_eda_draw_revenue).
 * Statuses of the churn_metrics_* and churn_plot_* calls; CHURN_E_NOMEM.
 */
churn_status ch_pipeline_model_figures(const churn_training *t, const churn_eda *rev_eda, const char *dir,
                                       const churn_params *p);

/*
 * Replace "revenue_at_risk" of @p eda_doc (eda.json, parsed) with the revenue
 * at risk of the rows @p t scored (of @p ds, the rows it was given), by its
 * best model's scores and threshold, with "model" and "run_id" @p run_id
 * added; *out_eda holds it for churn_eda_draw_revenue (the caller frees it).
 * Statuses of ch_eda_revenue and churn_dataset_subset_rows; CHURN_E_NOMEM.
 */
churn_status ch_pipeline_merge_revenue(const churn_training *t, const churn_dataset *ds, const churn_params *p,
                                       const char *run_id, cJSON *eda_doc, churn_eda **out_eda);

/*
 * The data run's drift: every row of @p ds against the serving model's
 * reference profile (ch_drift_serving_model, read through the workdir @p wd:
 * the published generation), with the history of the published
 * reports/drift.json, written to @p out_path; drift_psi.png into @p fig_dir
 * when not NULL. *out_summary: the run record's "drift". A model without a
 * reference (none yet, or an old artifact) gives the "no_reference" document.
 * Statuses: CHURN_E_NOMEM, the writers' CHURN_E_CREATE / CHURN_E_IO, the
 * figure's.
 */
churn_status ch_pipeline_drift(const char *wd, const churn_dataset *ds, const churn_params *p, const char *run_id,
                               const char *out_path, const char *fig_dir, cJSON **out_summary);

/*
 * The ML run's monitoring, before anything is retrained: the serving model's
 * ROC AUC, Brier score and calibration (observed against mean predicted
 * churn rate) on the labelled rows of @p ds beside its figures at training
 * time. *out_perf: the run record's "performance"; the same object replaces
 * "performance" of the drift document found under @p drift_dir, written to
 * @p out_path (nothing is written without one). Rows the model cannot score
 * are a "not_scored" status, not an error. CHURN_E_NOMEM, CHURN_E_IO.
 */
churn_status ch_pipeline_performance(const char *wd, const char *drift_dir, const churn_dataset *ds,
                                     const churn_params *p, const char *run_id, const char *out_path,
                                     cJSON **out_perf);

/*
 * The columns of @p ds into a data run's record fields: "schema_sha256"
 * (of the "name<TAB>type" lines) and, up to 1,000 columns and 64 KiB of
 * names, "schema" [{"name", "type"}] (what schema_change compares).
 * CHURN_E_NOMEM.
 */
churn_status ch_pipeline_schema_fields(const churn_dataset *ds, cJSON *fields);

/*
 * Evaluate the alert rules on the run record @p rec (a data run against the
 * last succeeded data run of the published records, and the per-column PSI
 * of the reports/drift.json it staged in the generation directory @p gen_dir
 * (NULL: none); an ML run's "performance") and add what fired to rec's
 * "alerts" array (made, possibly empty) and to @p call_alerts. Never fails
 * the run: an evaluation failure is logged through @p p.
 */
void ch_pipeline_alerts(churn_workdir *w, const char *gen_dir, const churn_params *p, cJSON *rec, cJSON *call_alerts);

/* Add the run_failed alert to @p rec (marked failed after its alerts were evaluated) unless it has one. */
void ch_pipeline_alerts_failed(const churn_params *p, cJSON *rec, cJSON *call_alerts);

/*
 * POST the alerts of @p call_alerts from index *sent on (ch_alerts_webhook)
 * and record the outcome as "webhook" in each record of @p runs that has
 * alerts; *sent becomes their count. Never fails.
 */
void ch_pipeline_alerts_deliver(const churn_params *p, cJSON *runs, cJSON *call_alerts, int *sent);

/*
 * data.target, and data.id when it is empty (the default customerID), set
 * in @p p to the name's lower-case fold when @p ds has no column of the name
 * itself but one of the fold: a table read from PostgreSQL has its unquoted
 * names folded to lower case ("churn", "customerid"). Other spellings
 * ("CustomerId") are other columns, as before.
 * Statuses of churn_params_set_str.
 */
churn_status ch_pipeline_resolve_names(churn_params *p, const churn_dataset *ds);

/*
 * pipeline.scores_out: the best model of @p t scores the current customers
 * of @p ds (rows whose target is not the positive label, missing included)
 * into the table of @p url (churn_db_write_scores: one transaction). Its
 * statuses; those of churn_scorer_from_buffer, churn_dataset_subset_rows.
 */
churn_status ch_pipeline_write_scores(const churn_training *t, const churn_dataset *ds, const char *url,
                                      const churn_params *p, uint64_t *out_rows);

/*
 * Into the ML run record's @p fields: "survival" {"concordance", "integrated_brier"} of the Cox model, and
 * "retention" (the list's summary without its curve), when @p t has them; the survival notes into "notes".
 * CHURN_E_NOMEM.
 */
churn_status ch_pipeline_retention_record(const churn_training *t, cJSON *fields);

#endif
