/*
 * The pipelines of ARCHITECTURE.md, as library calls so any host can run them:
 *
 *   data: fetch (conditional GET) -> profile -> prepare -> EDA
 *   ml:   processed data -> stratified split -> logreg + gbm -> evaluate ->
 *         artifacts, metrics.json
 *   run:  data then ml
 *
 * Each run takes the workdir lock (CHURN_E_BUSY after workdir.lock_wait_s),
 * gets a run id, logs one line per step to logs/pipeline.log, writes its
 * outputs into a staging directory inside the workdir and moves them into
 * place only when every step succeeded, and appends its record to
 * reports/run_metadata.json (and each trained model to
 * reports/model_run_metadata.json), capped to workdir.max_records entries.
 * A failed run is recorded as "failed" with its error and leaves the previous
 * good reports, figures, processed data and models in place.
 *
 * Options: data.source, data.target, data.id, data.positive, split.*,
 * pipeline.*, the model keys, eda.*, workdir.* (see `churn config`).
 *
 * Thread safety: distinct calls may run concurrently; the workdir lock
 * serializes runs on the same workdir across threads and processes.
 */
#ifndef CHURN_PIPELINE_H
#define CHURN_PIPELINE_H

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Run the data pipeline in @p workdir. *out_record (may be NULL) receives the
 * run record JSON (churn_free), also on failure when the run got far enough
 * to be recorded. Status: that of the failing step. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_data(const char *workdir, const churn_params *p,
                                                           char **out_record);

/** Run the ML pipeline in @p workdir (needs a completed data run). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_ml(const char *workdir, const churn_params *p,
                                                         char **out_record);

/**
 * The data pipeline then, when it succeeded, the ML pipeline, under one hold
 * of the lock. *out_record receives {"data": {...}, "ml": {...}}. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_run(const char *workdir, const churn_params *p,
                                                          char **out_record);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PIPELINE_H */
