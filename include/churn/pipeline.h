/*
 * The pipelines of ARCHITECTURE.md, as library calls so any host can run them:
 *
 *   data: fetch (conditional GET) -> profile -> prepare -> EDA
 *   ml:   the last data run's rows -> churn_train() (churn/train.h: split,
 *         prep on the training rows, logreg + gbm, thresholds, metrics) ->
 *         artifacts, metrics.json, model figures, revenue at risk
 *   run:  data then ml
 *
 * Each run takes the workdir lock (CHURN_E_BUSY after workdir.lock_wait_s),
 * gets a run id, logs one line per step to logs/pipeline.log, and writes its
 * outputs into a new generation of the workdir's published files, with its
 * record appended to reports/run_metadata.json (and each trained model to
 * reports/model_run_metadata.json), capped to workdir.max_records entries.
 * When every step succeeded the generation is published as a whole: reports,
 * artifacts and data/processed are links through <workdir>/.current, which
 * one rename switches; readers see the previous run's set or this one's,
 * never a mix, whatever the point of a failure or a kill. The fetched source
 * reaches data/raw with that commit only. A failed run is recorded as
 * "failed" with its error and leaves the previous good reports, figures,
 * processed data, models and raw file in place. A workdir made by an earlier
 * version (real directories) is converted by its first run.
 *
 * Options: data.source, data.target, data.id, data.positive, split.*,
 * pipeline.*, train.*, the model keys, eda.*, workdir.* (see `churn config`).
 * churn_pipeline_ml() uses the data run's target, positive label and ID
 * columns (its artifacts/prep.json) unless @p p sets them.
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
 * to be recorded. When the record could not be written to the workdir (a
 * full disk), it carries "record_error": why. Status: that of the failing
 * step. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_data(const char *workdir, const churn_params *p,
                                                           char **out_record);

/** Run the ML pipeline in @p workdir (needs a completed data run). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_ml(const char *workdir, const churn_params *p,
                                                         char **out_record);

/**
 * The data pipeline then, when it succeeded, the ML pipeline, under one hold
 * of the lock, published together: when the ML run fails, nothing of the data
 * run is published either (its record says "not published"). *out_record
 * receives {"data": {...}, "ml": {...}}. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_pipeline_run(const char *workdir, const churn_params *p,
                                                          char **out_record);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PIPELINE_H */
