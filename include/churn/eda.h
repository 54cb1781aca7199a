/*
 * churn/eda.h: exploratory data analysis of a churn dataset, and the figures
 * of the EDA and model reports.
 *
 * churn_eda_compute() derives, from a dataset with a target column
 * (params "data.target", "data.positive"):
 *   - per categorical column: churn rate per level with counts and a 95%
 *     Wilson interval, Pearson chi-square test of independence (no Yates
 *     correction) with its p-value, and Cramer's V;
 *   - per numeric column: histograms split by churn on shared bin edges
 *     ("eda.hist_bins"; integer columns get integer-width bins);
 *   - a Pearson correlation matrix of the numeric columns and the target
 *     (replace it with the encoded features through
 *     churn_eda_set_correlation()); with more than "eda.corr_max_features"
 *     (default 50) features, the matrix keeps the ones most correlated
 *     with the target (|r|) and every feature's r with the target is
 *     listed apart (wide data: what scales is computed, what does not is
 *     reduced, and eda.json says so);
 *   - Kaplan-Meier retention over "eda.tenure_col" (event = churned),
 *     overall and per level of "eda.segment_col", with Greenwood standard
 *     errors, a 95% band ("eda.km_band": "loglog" or "plain") and the median
 *     when the curve reaches 0.5.
 * Then the caller may attach random-forest importances per raw column
 * (churn_eda_importance_compute(), churn_eda_set_importance_of(); or its own
 * with churn_eda_set_importance()) and revenue at risk from model scores
 * (churn_eda_set_revenue_at_risk()). A part whose inputs are missing (no
 * tenure column, no scores, ...) is skipped with a note in the JSON, never an
 * error.
 *
 * JSON (churn_eda_to_json(), reports/eda.json), top-level keys:
 *   "generated_at", "rows", "target": {"name","positive","positive_count","rate"},
 *   "correlation": {"method", "features": [..], "matrix": [[..]]  (null for constant features),
 *                   "columns_total" (features + target before reduction),
 *                   "columns_shown" (the matrix's size), "reduced" (null, or
 *                   how: "top K of N features by |correlation with T|
 *                   (eda.corr_max_features)"), "with_target": {"target",
 *                   "features": [every feature], "r": [..]} (with a target)},
 *   "categorical": [{"name","n","chi2","df","p_value","cramers_v",
 *                    "levels": [{"value","count","churned","rate","ci_low","ci_high"}]}],
 *   "histograms": [{"name","edges":[..],"churned":[..],"retained":[..],"missing"}],
 *   "importance": {"features":[..],"impurity":[..],"permutation":[..]} or null
 *                (permutation null where it was not computed),
 *   "survival": {"time_col","event","band","overall": curve, "by_segment":
 *                {"column","curves":[curve + "segment"]}} or null, where curve =
 *                {"n","events","median" (null when not reached),
 *                 "time":[..],"at_risk":[..],"events_at":[..],"survival":[..],
 *                 "se":[..],"ci_low":[..],"ci_high":[..]},
 *   "revenue_at_risk": {"threshold","charges_col","customers","customers_at_risk",
 *                "monthly_revenue","monthly_revenue_at_risk","expected_monthly_loss",
 *                "by_segment": {"column","segments":[{"segment","customers",
 *                "customers_at_risk","monthly_revenue","monthly_revenue_at_risk",
 *                "expected_monthly_loss"}]}} or null,
 *   "notes": ["..."]  (why a part was skipped).
 *
 * Figures: plplot with its cairo drivers (drawn by "memcairo" into memory
 * and encoded as PNG by libchurn; "svgcairo" when "eda.svg"),
 * "eda.fig_width" x "eda.fig_height" pixels, white background,
 * a colour-blind-safe palette (Okabe-Ito). Each file is drawn to a temporary
 * name in the target directory and renamed, so readers never see half a file.
 *
 * Thread safety: as churn.h, plus: plplot keeps process-wide state, so every
 * use of plplot inside libchurn (churn_eda_draw_figures() and the
 * churn_plot_* calls) runs under one internal process-wide mutex, each figure
 * on its own private plplot stream. Concurrent drawing calls from different
 * threads are therefore safe; they are serialized. An application that also
 * calls plplot itself must not do so concurrently with these calls. plplot
 * errors that would call exit() are caught (CHURN_E_INTERNAL) and plplot
 * never reads stdin: only the installed cairo devices are selected.
 *
 * All calls here: @since 0.1.
 */
#ifndef CHURN_EDA_H
#define CHURN_EDA_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/matrix.h"
#include "churn/model.h"
#include "churn/params.h"
#include "churn/prep.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_eda churn_eda;

/**
 * Compute the dataset statistics described above. @p p may be NULL
 * (defaults). *out is written only on success; free with churn_eda_free().
 * CHURN_E_NOTFOUND: no target column; CHURN_E_INVALID_ARG: @p ds or @p out
 * NULL, a target without a recognisable positive label (a numeric target:
 * "data.positive" not a number), a free-text target, no labelled row, or
 * "eda.km_band" neither "loglog" nor "plain"; CHURN_E_STATE when the
 * progress callback cancels; CHURN_E_NOMEM. Safe concurrently on a const
 * dataset. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_compute(const churn_dataset *ds, const churn_params *p,
                                                         churn_eda **out);

/**
 * Replace the correlation matrix with Pearson correlations between the
 * columns of @p x (named by their feature names) and, when @p x has labels,
 * the labels as a last column named after the target. Copies what it needs.
 * Constant columns get null correlations and a note. Past
 * "eda.corr_max_features" features (of the params given to
 * churn_eda_compute()), only the ones most correlated with the labels are
 * kept (in their order), with a note; every feature's r with the labels is
 * kept apart ("with_target"). Time and memory are linear in the number of
 * features beyond that. CHURN_E_INVALID_ARG when an argument is NULL or
 * @p x has fewer than 2 rows or no columns; CHURN_E_NUMERIC for an infinite
 * value; CHURN_E_NOMEM. Needs exclusive
 * access to @p eda. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_set_correlation(churn_eda *eda, const churn_matrix *x);

/**
 * Attach feature importances (copied): @p names[n], @p impurity[n] and/or
 * @p permutation[n] (either may be NULL, not both). A NaN permutation
 * importance means "not computed" (JSON null, and a note; wide data computes
 * it for "eda.importance_max_columns" columns); other non-finite values are
 * CHURN_E_NUMERIC. CHURN_E_INVALID_ARG when @p eda or @p names is NULL, a
 * name is NULL, @p n is 0 or both vectors are NULL; CHURN_E_NOMEM. Replaces
 * earlier importances. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_set_importance(churn_eda *eda, const char *const *names,
                                                                const double *impurity,
                                                                const double *permutation, size_t n);

/**
 * Feature importance per raw column, the one eda.json reports (`churn eda`
 * and the data pipeline alike): a random forest (forest.* params; unless set,
 * 50 trees of depth 8) is fitted on the prepared matrix @p x (at most 50,000
 * evenly spaced rows of it); a column's impurity importance is the sum over
 * its features (one-hot levels); its permutation importance is the drop of
 * ROC AUC when its features are shuffled together (seed "split.seed"), on
 * at most 2,000 evenly spaced rows, for the "eda.importance_max_columns"
 * columns of highest impurity (NaN for the others). Columns are those of
 * @p prep with at least one feature, in the spec's order.
 */
typedef struct churn_eda_importance churn_eda_importance;

/**
 * Compute the importance of the columns of @p prep from @p x (the matrix
 * churn_prep_apply() made with @p prep, with labels). @p p may be NULL
 * (defaults); it is read, never changed, and its progress callback may be
 * called from the calling thread. *out is written only on success; free with
 * churn_eda_importance_free(). CHURN_E_INVALID_ARG: NULL argument, no labels,
 * or features of @p x that are not @p prep's, or one class only (as
 * churn_model_fit()); CHURN_E_UNSUPPORTED: no random forest in this build;
 * CHURN_E_NUMERIC: NaN or Inf in @p x; CHURN_E_STATE: cancelled by the
 * progress callback; CHURN_E_NOMEM. Safe concurrently on const inputs
 * (the pipeline runs it on a thread of its own). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_importance_compute(const churn_prep *prep, const churn_matrix *x,
                                                                    const churn_params *p,
                                                                    churn_eda_importance **out);

/** Number of columns (0 for NULL). @since 0.1 */
CHURN_API size_t churn_eda_importance_get_column_count(const churn_eda_importance *imp);
/** Name of column @p k (owned by @p imp); NULL when out of range. @since 0.1 */
CHURN_API const char *churn_eda_importance_get_column(const churn_eda_importance *imp, size_t k);
/** Impurity importance of column @p k; NaN when out of range. @since 0.1 */
CHURN_API double churn_eda_importance_get_impurity(const churn_eda_importance *imp, size_t k);
/** Permutation importance of column @p k; NaN when not computed or out of range. @since 0.1 */
CHURN_API double churn_eda_importance_get_permutation(const churn_eda_importance *imp, size_t k);
/**
 * The fitted forest (owned by @p imp; NULL for NULL), e.g. to score rows of
 * the same design (`churn eda` scores every row for the revenue at risk).
 * @since 0.1
 */
CHURN_API const churn_model *churn_eda_importance_get_model(const churn_eda_importance *imp);

/**
 * Attach @p imp to @p eda (copied): churn_eda_set_importance() with its
 * columns, impurity and permutation importances, and its notes.
 * CHURN_E_INVALID_ARG for a NULL argument; CHURN_E_NOMEM. Needs exclusive
 * access to @p eda. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_set_importance_of(churn_eda *eda, const churn_eda_importance *imp);

/**
 * Revenue at risk from the importance forest's in-sample scores (what `churn
 * eda` reports without a trained model): every row of @p x (the design of
 * @p ds, one row per data set row) scored by @p imp's forest, then
 * churn_eda_set_revenue_at_risk() at "eda.threshold" of @p p, with a note
 * saying where the scores come from. @p imp NULL, or @p x not one row per
 * row of @p ds (rows without a target were left out): no scores, the
 * revenue is skipped with its note. CHURN_E_INVALID_ARG for a NULL eda, ds
 * or x; CHURN_E_NOMEM; the model's predict errors. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_set_revenue_from_importance(churn_eda *eda,
                                                                             const churn_eda_importance *imp,
                                                                             const churn_dataset *ds,
                                                                             const churn_matrix *x,
                                                                             const churn_params *p);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_eda_importance_free(churn_eda_importance *imp);

/**
 * Monthly revenue at risk: the sum of the charges column ("eda.charges_col"
 * of the params given to churn_eda_compute()) over customers with
 * @p proba[i] > @p threshold, overall and per level of "eda.segment_col";
 * also the expected loss sum(proba * charges). @p proba has one value per
 * row of @p ds (the dataset given to churn_eda_compute(), or one with the
 * same columns). @p proba NULL, or an absent charges column, records a note
 * and returns CHURN_OK. CHURN_E_INVALID_ARG when @p eda or @p ds is NULL or
 * @p threshold is outside [0, 1]; CHURN_E_NUMERIC for a probability outside
 * [0, 1] or NaN; CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_set_revenue_at_risk(churn_eda *eda, const churn_dataset *ds,
                                                                     const double *proba, double threshold);

/** Add a free-text note to the "notes" array (copied). CHURN_E_INVALID_ARG for a NULL argument, CHURN_E_NOMEM. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_add_note(churn_eda *eda, const char *note);

/**
 * Churn rate and row count of one level of a categorical column (either out
 * pointer may be NULL). CHURN_E_NOTFOUND when the column or level is absent;
 * CHURN_E_INVALID_ARG for a NULL @p eda, @p column or @p level. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_get_level_rate(const churn_eda *eda, const char *column,
                                                                const char *level, double *out_rate,
                                                                size_t *out_count);

/**
 * The statistics as a JSON document (above); free with churn_free().
 * CHURN_E_INVALID_ARG for a NULL argument, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_to_json(const churn_eda *eda, char **out_json);

/**
 * Write the JSON atomically to @p path (temp file + fsync + rename).
 * CHURN_E_CREATE when the directory is missing or not writable, CHURN_E_IO;
 * CHURN_E_INVALID_ARG for a NULL argument or an empty path; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_save_json(const churn_eda *eda, const char *path);

/**
 * Draw the EDA figures into directory @p dir (created if needed), PNG and,
 * with "eda.svg", SVG:
 *   correlation_heatmap (the correlation matrix, reduced as above),
 *   histogram_numeric_columns (small multiples of the numeric columns),
 *   churn_rate_categories (the categoricals with at most 12 levels, small
 *   multiples ordered by Cramer's V), churn_rate_<col> (each categorical
 *   with more levels), feature_importance (when set; top 20), km_retention
 *   (when computed), revenue_at_risk (when set). Each of the three kinds
 *   of per-column figure shows at most "eda.fig_max_columns" (default 24)
 *   columns, those most associated with churn (|r| with the target,
 *   Cramer's V), with a note in eda.json; eda.json keeps every column.
 * Names are sanitised ([A-Za-z0-9_-], others '_'). Nothing is drawn when
 * "eda.figures" is false. CHURN_E_CREATE when @p dir cannot be created or
 * written; CHURN_E_UNSUPPORTED when plplot lacks the cairo driver;
 * CHURN_E_INTERNAL for a plplot failure; CHURN_E_INVALID_ARG for a NULL
 * @p eda or @p dir; CHURN_E_STATE when the progress callback cancels;
 * CHURN_E_IO when a file cannot be written; CHURN_E_NOMEM. Serialized (see
 * above). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_draw_figures(const churn_eda *eda, const char *dir,
                                                              const churn_params *p);

/**
 * Draw revenue_at_risk.png (and .svg with "eda.svg") into @p dir: monthly
 * revenue at risk and customers at risk per segment, as set by
 * churn_eda_set_revenue_at_risk(). CHURN_OK without drawing when no revenue
 * at risk was set (a note explains why) or "eda.figures" is false.
 * churn_eda_draw_figures() draws it too when it is set. Errors as
 * churn_eda_draw_figures(). Serialized (see above). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_eda_draw_revenue(const churn_eda *eda, const char *dir,
                                                              const churn_params *p);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_eda_free(churn_eda *eda);

#if defined(__GNUC__)
static inline void churn_eda_freep(churn_eda **e)
{
	churn_eda_free(*e);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_EDA_H */
