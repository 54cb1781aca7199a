/*
 * churn/train.h: the one training procedure of the library. `churn train`,
 * `churn ml` and `churn run` all call churn_train(); so can any program.
 *
 *   1. labels: the target of every row (data.target, data.positive; rows
 *      without a target are left out with prep.drop_missing_target, else an
 *      error);
 *   2. a stratified train/test split of those rows (split.test_size,
 *      split.seed; churn_split_stratified());
 *   3. the prep spec fitted on the TRAINING rows only (imputation values,
 *      scaling, levels: nothing is learnt from the test rows) and applied to
 *      both parts;
 *   4. each model of pipeline.models (logreg, gbm, forest; in that list's
 *      order, duplicates once), fitted on the training rows, the models
 *      concurrently (one thread each; model k's result does not depend on
 *      the others or on the number of threads);
 *   5. each model's label threshold by train.threshold: "fixed"
 *      (pipeline.threshold), "best-f1" (the highest F1) or "cost" (the
 *      lowest train.cost_fn x FN + train.cost_fp x FP), the last two chosen
 *      on out-of-fold scores of the training rows (train.threshold_folds
 *      stratified folds, seed split.seed + 1; the models of the folds are
 *      fitted on the training matrix), never on the test rows;
 *   6. test metrics at that threshold (churn_metrics_compute_json());
 *   7. with train.cv = K (>= 2): stratified K-fold cross-validation on all
 *      the rows (seed split.seed), the prep refitted on each fold's training
 *      part, each model scored at its threshold of step 5: the mean and
 *      (population) standard deviation of roc_auc, pr_auc, f1, accuracy,
 *      precision, recall, log_loss and brier;
 *   8. the artifact of each model (churn_model_to_buffer(): the model, the
 *      prep of step 3, its threshold, test metrics, training rows and
 *      data_sha256) and its SHA-256.
 *
 * The result is deterministic: the same rows, data_sha256 and options give
 * the same models, artifacts and documents, byte for byte, whichever
 * program asked. The data pipeline's processed files (data/processed,
 * artifacts/prep.json) keep a spec fitted on all rows: they describe the
 * data, not a model.
 *
 * Options: pipeline.models, pipeline.threshold, split.*, train.*, prep.*,
 * data.*, and the model keys logreg.*, gbm.*, forest.* (see `churn config`).
 * Progress: one figure for all models through @p p's progress callback, on
 * the calling thread only: ("train", done, total) for the fits of step 4,
 * then ("cv", ...) over every fold and ("refit", ...), in thousandths of the
 * models' mean progress; returning false cancels (CHURN_E_STATE).
 *
 * Thread safety: churn_train() reads @p ds and @p p only (both may be
 * shared, const, with other threads). A churn_training is read-only once
 * made: every getter may be called from several threads at once. Pointers
 * returned by the getters are borrowed and live as long as the training.
 */
#ifndef CHURN_TRAIN_H
#define CHURN_TRAIN_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/model.h"
#include "churn/params.h"
#include "churn/prep.h"
#include "churn/retention.h"
#include "churn/survival.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The models, artifacts and metrics of one training (opaque). @since 0.1 */
typedef struct churn_training churn_training;

/**
 * Train the models of pipeline.models on @p ds (see the file comment).
 * @p data_sha256 (64 hex characters, or NULL when unknown) is the SHA-256
 * of the file the rows came from, recorded in the artifacts and the metrics
 * document. @p p may be NULL (defaults). *out is written only on success;
 * free it with churn_training_free().
 * @return CHURN_OK;
 *   CHURN_E_INVALID_ARG: NULL ds or out, a bad data_sha256, an unknown or
 *     empty pipeline.models, a train.threshold other than fixed, best-f1 or
 *     cost, train.cost_fn and train.cost_fp both 0, train.cv 1 or more than
 *     the rows of a class, too few rows of a class to split or fold, bad
 *     prep.* values;
 *   CHURN_E_NOTFOUND: no target column;
 *   CHURN_E_PARSE: a target with one class, more than two, a missing target
 *     (without prep.drop_missing_target), a positive label that is absent;
 *   CHURN_E_NUMERIC: a model that cannot be fitted (divergence);
 *   CHURN_E_STATE: cancelled by the progress callback;
 *   CHURN_E_NOMEM.
 * The detail names the model when a model failed ("gbm: ...").
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_train(const churn_dataset *ds, const char *data_sha256,
                                                   const churn_params *p, churn_training **out);

/**
 * churn_train() on the CSV file @p path (read with
 * churn_csv_read_file_sampled() and @p p's csv.* options: with
 * train.max_rows, on the stratified sample of that many rows, holding only
 * the sample; metrics.json then has "sample" {"rows_read", "rows_sampled"}),
 * with the file's SHA-256 as data_sha256. The
 * options are checked before the file is read. Statuses as churn_train(),
 * plus those of churn_csv_read_file() (CHURN_E_NOTFOUND, CHURN_E_IO,
 * CHURN_E_PARSE, CHURN_E_LIMIT). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_train_file(const char *path, const churn_params *p,
                                                        churn_training **out);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_training_free(churn_training *t);

/** Number of classifiers trained (0 when pipeline.models lists only cox). @since 0.1 */
CHURN_API size_t churn_training_get_model_count(const churn_training *t);

/**
 * Model @p k (< churn_training_get_model_count(), in pipeline.models order),
 * fitted on the training rows, with its threshold, prep spec, test metrics
 * and provenance set; NULL out of range. Borrowed. @since 0.1
 */
CHURN_API const churn_model *churn_training_get_model(const churn_training *t, size_t k);

/** The index of the model with the highest test ROC AUC (the first of equals). @since 0.1 */
CHURN_API size_t churn_training_get_best(const churn_training *t);
/**
 * Whether the artifacts were fitted again on all labelled rows after the
 * evaluation (train.refit): then churn_training_get_model() and the artifacts
 * are the refitted models and churn_training_get_prep() is still the prep of
 * the training rows (the one the test metrics and scores come from). @since 0.1
 */
CHURN_API bool churn_training_is_refit(const churn_training *t);

/**
 * The artifact of model @p k: the bytes of artifacts/models/<kind>.json
 * (churn_model_to_buffer(), NUL-terminated; *out_n, when not NULL,
 * receives the length without the NUL). NULL out of range. Borrowed.
 * @since 0.1
 */
CHURN_API const char *churn_training_get_artifact(const churn_training *t, size_t k, size_t *out_n);

/** SHA-256 of that artifact, 64 lowercase hex characters; NULL out of range. Borrowed. @since 0.1 */
CHURN_API const char *churn_training_get_artifact_sha256(const churn_training *t, size_t k);

/**
 * The entry of model @p k in reports/metrics.json "models", as JSON text:
 * the test metrics of churn_metrics_compute_json() at the model's threshold,
 * then "threshold_method" (fixed, best-f1 or cost), "iterations",
 * "converged", "params" (churn_model_get_params_json()), "artifact" {"path"
 * (artifacts/models/<kind>.json), "bytes", "sha256"} and, with train.cv,
 * "cv" {"k", "<metric>_mean", "<metric>_std", ...}. No timings: the same
 * options give the same text. NULL out of range. Borrowed. @since 0.1
 */
CHURN_API const char *churn_training_get_metrics_json(const churn_training *t, size_t k);

/**
 * One number of that entry by name, "." between levels: "roc_auc",
 * "threshold", "confusion.tp", "cv.roc_auc_mean". NaN when @p k is out of
 * range or the entry has no such number. @since 0.1
 */
CHURN_API double churn_training_get_metric(const churn_training *t, size_t k, const char *name);

/**
 * Wall seconds model @p k took (threshold folds, fit, evaluation,
 * cross-validation): for run records and front-ends, never in the metrics
 * document. NaN out of range. @since 0.1
 */
CHURN_API double churn_training_get_seconds(const churn_training *t, size_t k);

/** The prep spec fitted on the training rows (embedded in every artifact). Borrowed. @since 0.1 */
CHURN_API const churn_prep *churn_training_get_prep(const churn_training *t);

/**
 * The rows of @p ds the training used, ascending: every row, unless
 * prep.drop_missing_target left out rows without a target. *out_n receives
 * their number. Borrowed. @since 0.1
 */
CHURN_API const size_t *churn_training_get_rows(const churn_training *t, size_t *out_n);

/** Their labels (0/1), in the same order. Borrowed. @since 0.1 */
CHURN_API const uint8_t *churn_training_get_labels(const churn_training *t, size_t *out_n);

/**
 * P(churn) by model @p k of each of those rows, in the same order (the
 * training rows are scored by a model fitted on them: use the test scores
 * to judge a model; these are for reports over every customer, such as
 * revenue at risk). NULL out of range. Borrowed. @since 0.1
 */
CHURN_API const double *churn_training_get_scores(const churn_training *t, size_t k, size_t *out_n);

/** The training and the test rows: indices into @p ds, ascending. Borrowed. @since 0.1 */
CHURN_API const size_t *churn_training_get_train_rows(const churn_training *t, size_t *out_n);
CHURN_API const size_t *churn_training_get_test_rows(const churn_training *t, size_t *out_n);

/** Labels (0/1) of the test rows, in the order of churn_training_get_test_rows(). Borrowed. @since 0.1 */
CHURN_API const uint8_t *churn_training_get_test_labels(const churn_training *t, size_t *out_n);

/** P(churn) by model @p k of each test row, in that order; NULL out of range. Borrowed. @since 0.1 */
CHURN_API const double *churn_training_get_test_scores(const churn_training *t, size_t k, size_t *out_n);

/**
 * reports/metrics.json: {"generated_at", "run_id", "data_sha256" (null when
 * unknown), "rows", "train_rows", "test_rows", "features", "split"
 * {"test_size", "seed"}, "threshold_policy" {"method", and "value" (fixed),
 * "folds" (best-f1, cost), "cost_fn", "cost_fp" (cost)}, "models" {"<kind>":
 * churn_training_get_metrics_json()}, "best_model"}, formatted with tabs as
 * every report. @p generated_at (ISO 8601 UTC) NULL: now; @p run_id NULL:
 * null. Everything but those two is a function of the training: no
 * timings. *out_json freed with churn_free(). CHURN_E_INVALID_ARG (NULL t or
 * out_json), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_training_metrics_json(const churn_training *t, const char *run_id,
                                                                   const char *generated_at, char **out_json);

/*
 * The survival model (pipeline.models "cox"; not one of the classifiers
 * above, which churn_training_get_model_count() counts): a Cox model on the
 * training rows, with cox.time_col (default tenure, found ignoring case) as
 * the time and the target as the event, on the training prep's features
 * without the time column and, unless cox.keep_time_leaks, without the
 * columns churn_survival_find_time_leaks() names (each a note). It is
 * skipped with a note, and the training still succeeds, when the data has
 * no numeric time column. metrics.json gets "survival" {"notes" (those
 * notes, and why there is no retention list), "cox": {
 * "concordance" (Harrell's, test rows), "integrated_brier" (test rows, over
 * their observed times), "time_column", "horizon", "excluded_columns",
 * "fitted_rows", "events", "rows_without_time", "iterations", "converged",
 * "params", "cv" (train.cv: "k", "concordance_mean", "concordance_std",
 * "integrated_brier_mean", "integrated_brier_std"), "artifact" {"path",
 * "bytes", "sha256"}}} and, with a retention list, "retention"
 * (churn_retention_summary_json()). With only cox in pipeline.models,
 * "models" is empty and "best_model" null.
 */

/** Whether a Cox model was fitted. @since 0.1 */
CHURN_API bool churn_training_has_cox(const churn_training *t);
/** The Cox model (borrowed), NULL when none. @since 0.1 */
CHURN_API const churn_cox *churn_training_get_cox(const churn_training *t);
/**
 * artifacts/models/cox.json (borrowed, NUL-terminated; *out_n its length):
 * {"format": "churn-cox-artifact", "version": 1, "model": "cox",
 * "time_column", "horizon", "excluded_columns", "metrics" {"concordance",
 * "integrated_brier", ...}, "training_rows", "data_sha256", "prep" (the
 * prep spec), "cox" (churn_cox_to_json())}. NULL when no Cox model. @since 0.1
 */
CHURN_API const char *churn_training_get_cox_artifact(const churn_training *t, size_t *out_n);
/** SHA-256 of that artifact (borrowed); NULL when none. @since 0.1 */
CHURN_API const char *churn_training_get_cox_artifact_sha256(const churn_training *t);
/** The Cox model's metrics.json entry as JSON text (borrowed); NULL when none. @since 0.1 */
CHURN_API const char *churn_training_get_cox_metrics_json(const churn_training *t);
/**
 * The retention list (churn/retention.h; borrowed): made with a Cox model
 * when the data has retention.charges_col; NULL otherwise (a note says why).
 * @since 0.1
 */
CHURN_API const churn_retention *churn_training_get_retention(const churn_training *t);
/**
 * The notes of the survival part (metrics.json "survival"."notes"): "cox:
 * skipped: ...", "cox: column ... left out: ...", "retention: skipped:
 * ...". Count, and note k (borrowed; NULL out of range). @since 0.1
 */
CHURN_API size_t churn_training_get_survival_note_count(const churn_training *t);
CHURN_API const char *churn_training_get_survival_note(const churn_training *t, size_t k);

#if defined(__GNUC__)
/** Cleanup helper for __attribute__((cleanup(churn_training_freep))). @since 0.1 */
static inline void churn_training_freep(churn_training **t)
{
	churn_training_free(*t);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_TRAIN_H */
