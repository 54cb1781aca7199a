/*
 * churn/model.h: one opaque churn_model for the three algorithms
 * (logistic regression, gradient boosting, random forest), chosen by
 * churn_model_kind. A model is fitted on a churn_matrix (with 0/1 labels),
 * predicts P(churn) per row, explains a row as per-feature contributions,
 * and is saved to / loaded from one self-contained JSON artifact that also
 * embeds the fitted prep spec, so raw customer rows can be scored later.
 *
 * Options come from churn_params keys "logreg.*", "gbm.*", "forest.*"
 * (see `churn config`).
 *
 * Thread safety: a fitted model may be shared between threads while every
 * call takes it as const (predict, explain, getters, save, to_buffer).
 * fit and the setters need exclusive access.
 *
 * GSL: logistic regression uses GSL's Cholesky solver. GSL's default error
 * handler aborts the process, so the first churn_model_fit() of a logistic
 * regression turns it off with gsl_set_error_handler_off() (once per process,
 * under pthread_once). That setting is process-global: an application that
 * relies on GSL's abort-on-error handler for its own GSL calls must install
 * its handler again after that first fit. libchurn checks every GSL return
 * code itself and never depends on the handler.
 */
#ifndef CHURN_MODEL_H
#define CHURN_MODEL_H

#include "churn/common.h"
#include "churn/matrix.h"
#include "churn/params.h"
#include "churn/prep.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_model churn_model;

/** The algorithms. Values are explicit and only ever appended. @since 0.1 */
typedef enum churn_model_kind {
	CHURN_MODEL_LOGREG = 0,  /**< L2-regularized logistic regression (Newton/IRLS) */
	CHURN_MODEL_GBM = 1,     /**< histogram gradient boosting */
	CHURN_MODEL_FOREST = 2   /**< random forest (Gini) */
} churn_model_kind;

/** "logreg", "gbm", "forest"; "unknown" for other values. Never NULL. Thread-safe. @since 0.1 */
CHURN_API const char *churn_model_kind_name(churn_model_kind k);
/**
 * Parse a kind name ("logreg", "gbm", "forest"). CHURN_E_INVALID_ARG for any
 * other name, or when that algorithm is not built into this library. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_kind_from_name(const char *name, churn_model_kind *out);

/**
 * New unfitted model of @p kind. *out is written only on success; free with
 * churn_model_free(). CHURN_E_INVALID_ARG for an unknown or unavailable kind,
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_new(churn_model_kind kind, churn_model **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_model_free(churn_model *m);

/**
 * Fit on @p train, which must carry labels (churn_matrix_set_labels) with both
 * classes present. @p p may be NULL (defaults). Refitting replaces the previous
 * fit (the prep spec and artifact fields are kept). Feature names are copied
 * from @p train. Errors: CHURN_E_INVALID_ARG (no rows, no labels, one class),
 * CHURN_E_NUMERIC (NaN/Inf in the matrix, divergence), CHURN_E_STATE
 * (cancelled by the progress callback), CHURN_E_NOMEM. Needs exclusive access.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_fit(churn_model *m, const churn_matrix *train,
                                                       const churn_params *p);

/** True once fitted (or loaded). @since 0.1 */
CHURN_API bool churn_model_is_fitted(const churn_model *m);

/**
 * P(churn) of each row of @p x into out[0..nrows). *out_n receives nrows
 * (also when out_cap is too small: then CHURN_E_INVALID_ARG). The matrix must
 * have churn_model_get_feature_count() columns (CHURN_E_INVALID_ARG) and finite
 * values (CHURN_E_NUMERIC). CHURN_E_STATE before fit. Safe concurrently on a
 * const model. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_predict(const churn_model *m, const churn_matrix *x,
                                                           double *out, size_t out_cap, size_t *out_n);

/**
 * P(churn) of one design-matrix row of @p ncols values. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_predict_row(const churn_model *m, const double *row,
                                                               size_t ncols, double *out_p);

/**
 * Per-feature contributions of one row: out_contrib[0..ncols) for the
 * features and out_contrib[ncols] for the bias, summing to the model's raw
 * score (churn_model_score_is_logit(): the log-odds for logreg and gbm; the
 * probability for forest). Logistic regression: coefficient x value, bias =
 * intercept. Gradient boosting: exact TreeSHAP; random forest: path-based
 * attribution (Saabas), far cheaper on deep trees. out_cap >= ncols + 1
 * (else CHURN_E_INVALID_ARG). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_explain(const churn_model *m, const double *row, size_t ncols,
                                                           double *out_contrib, size_t out_cap);
/**
 * The reasons of a prediction, the one rule every front-end shows: the
 * features whose churn_model_explain() contribution is largest in absolute
 * value, largest first, with their sign (positive raises the churn score,
 * negative lowers it; zero is no reason). The scorer (churn/score.h) applies
 * the same rule to the sum of each raw column's features, so that a customer
 * reads one reason per column in their own terms. Up to @p top_k indices
 * into out_idx and their contributions into out_contrib (both room for
 * top_k); *out_n how many. Errors as churn_model_explain(), plus
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_reasons(const churn_model *m, const double *row, size_t ncols,
                                                           size_t top_k, size_t *out_idx, double *out_contrib,
                                                           size_t *out_n);
/** True when churn_model_explain() contributions sum to log-odds, false when to a probability. @since 0.1 */
CHURN_API bool churn_model_score_is_logit(const churn_model *m);

/**
 * Feature importance, one value per feature, into out[0..nfeatures) (*out_n =
 * nfeatures). Logistic regression: |coefficient| x standard deviation of the
 * feature on the training rows; trees: total gain / impurity decrease,
 * normalized to sum 1. CHURN_E_INVALID_ARG when out_cap is too small. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_get_importance(const churn_model *m, double *out,
                                                                  size_t out_cap, size_t *out_n);

/**
 * Logistic regression coefficients: out[0..nfeatures) then the intercept at
 * out[nfeatures] (*out_n = nfeatures + 1). The odds ratio of feature j is
 * exp(out[j]). CHURN_E_UNSUPPORTED for other kinds; CHURN_E_INVALID_ARG when
 * out_cap is too small. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_get_coefficients(const churn_model *m, double *out,
                                                                    size_t out_cap, size_t *out_n);

/* Getters (safe concurrently on a const model). */
/** @since 0.1 */
CHURN_API churn_model_kind churn_model_get_kind(const churn_model *m);
/** Number of design-matrix columns the model expects (0 before fit). @since 0.1 */
CHURN_API size_t churn_model_get_feature_count(const churn_model *m);
/** Feature name j (borrowed, lives as long as the model); NULL when out of range. @since 0.1 */
CHURN_API const char *churn_model_get_feature_name(const churn_model *m, size_t j);
/** Iterations (logreg Newton steps; trees fitted for gbm/forest) of the last fit. @since 0.1 */
CHURN_API size_t churn_model_get_iterations(const churn_model *m);
/** Whether the last fit converged (always true for trees). @since 0.1 */
CHURN_API bool churn_model_is_converged(const churn_model *m);
/**
 * The parameters of the fit (this kind's keys and split.seed) as a JSON
 * object; free with churn_free(). "{}" before fit. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_get_params_json(const churn_model *m, char **out_json);

/** Decision threshold stored with the model (default 0.5), used to label predictions. @since 0.1 */
CHURN_API double churn_model_get_threshold(const churn_model *m);
/** Must be in [0, 1] (CHURN_E_INVALID_ARG). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_threshold(churn_model *m, double threshold);

/** Attach a copy of the fitted prep spec; NULL removes it. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_prep(churn_model *m, const churn_prep *prep);
/** The embedded prep spec (borrowed; lives until set_prep or free) or NULL. @since 0.1 */
CHURN_API const churn_prep *churn_model_get_prep(const churn_model *m);

/**
 * Test metrics to embed in the artifact: a JSON object (copied; validated,
 * CHURN_E_PARSE when not an object). NULL removes them. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_metrics_json(churn_model *m, const char *json);
/** The embedded metrics JSON (borrowed) or NULL. @since 0.1 */
CHURN_API const char *churn_model_get_metrics_json(const churn_model *m);

/**
 * The drift reference profile of the training rows (churn/drift.h) to embed
 * in the artifact as "reference": a JSON object (copied; CHURN_E_PARSE when
 * not an object; CHURN_E_INVALID_ARG when @p m is NULL; CHURN_E_NOMEM). NULL
 * removes it. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_reference_json(churn_model *m, const char *json);
/** The embedded reference profile (borrowed) or NULL (an artifact from before drift monitoring). @since 0.1 */
CHURN_API const char *churn_model_get_reference_json(const churn_model *m);

/**
 * Provenance recorded in the artifact: the number of training rows and the
 * SHA-256 (64 hex chars) of the training data file; sha256 may be NULL.
 * churn_model_fit() sets the row count itself. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_training_info(churn_model *m, size_t rows,
                                                                     const char *sha256);
/**
 * Record the SHA-256 of the training data file @p path (read in full) as
 * the artifact's data_sha256. CHURN_E_NOTFOUND / CHURN_E_IO. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_set_training_file(churn_model *m, const char *path);
/** @since 0.1 */
CHURN_API size_t churn_model_get_training_row_count(const churn_model *m);
/** Borrowed; "" when unknown. @since 0.1 */
CHURN_API const char *churn_model_get_data_sha256(const churn_model *m);

/**
 * Artifact I/O. The artifact is one JSON object: "format": "churn-model",
 * "version": 1, "writer": "libchurn X.Y.Z", "kind", "params", "prep" (the
 * fitted prep spec, when set), "features", "threshold", "training_rows",
 * "data_sha256", "metrics", "reference" (the training rows' drift
 * profile, when set), "fit" {iterations, converged} and the
 * algorithm's own part ("logreg" coefficients with odds ratios, or trees).
 * Doubles round-trip exactly: a loaded model predicts bit-identical
 * probabilities.
 *
 * save_file writes atomically (temp file + fsync + rename): CHURN_E_CREATE /
 * CHURN_E_IO. to_buffer returns a NUL-terminated string (*out_n excludes the
 * NUL), free with churn_free(). CHURN_E_STATE before fit.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_save_file(const churn_model *m, const char *path);
CHURN_API CHURN_NODISCARD churn_status churn_model_to_buffer(const churn_model *m, char **out, size_t *out_n);

/**
 * Load an artifact. *out is written only on success. CHURN_E_NOTFOUND /
 * CHURN_E_IO (file), CHURN_E_PARSE (not JSON, truncated), CHURN_E_FORMAT
 * (not a churn-model, newer version, unknown kind, missing or inconsistent
 * fields), CHURN_E_LIMIT (file over 1 GiB); the detail names the field.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_model_load_file(const char *path, churn_model **out);
CHURN_API CHURN_NODISCARD churn_status churn_model_from_buffer(const char *buf, size_t n, churn_model **out);

#if defined(__GNUC__)
/** Cleanup helper for __attribute__((cleanup(churn_model_freep))). @since 0.1 */
static inline void churn_model_freep(churn_model **m)
{
	churn_model_free(*m);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_MODEL_H */
