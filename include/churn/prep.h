/*
 * churn/prep.h: fitted feature preparation (splits of the rows are in churn/split.h).
 *
 * A churn_prep ("prep spec") is fitted on training rows of a dataset and then
 * applied to any rows, to another dataset with the same columns, or to a
 * single raw record given as strings or JSON. It
 *   - drops ID columns (data.id, default customerID when present) and text
 *     columns too unique to be features (prep.max_unique_ratio);
 *   - drops constant and all-missing columns (noted in the spec JSON
 *     "dropped": [{"column", "reason"}]);
 *   - imputes numeric missing values (prep.impute_numeric: median, mean,
 *     constant = prep.impute_constant; optional "<col>_missing" indicator
 *     feature with prep.missing_indicator) and categorical ones
 *     (prep.impute_categorical: most_frequent, missing_level);
 *   - one-hot encodes categoricals ("Contract=Month-to-month"), levels in
 *     strcmp order; a two-level column whose levels are a yes/no pair
 *     (Yes/No, True/False, 1/0, Y/N, case-insensitive) becomes one 0/1
 *     feature ("Partner=Yes"); levels unseen at fit time encode as all zeros
 *     (counted, see churn_prep_apply_rows_count());
 *   - scales numerics (prep.scale: standard, minmax, none).
 * The target (data.target, default "Churn") and ID columns are never
 * features. The positive label is data.positive or the one of
 * yes/true/1/y/t present (case-insensitive); a numeric 0/1 target has
 * positive 1.
 *
 * The matrix never holds NaN or Inf.
 *
 * Thread safety: a fitted churn_prep is read-only; apply/to_json/getters are
 * safe on one const prep shared between threads.
 */
#ifndef CHURN_PREP_H
#define CHURN_PREP_H

#include "churn/common.h"
#include "churn/params.h"
#include "churn/dataset.h"
#include "churn/matrix.h"
#include "churn/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fitted prep spec (opaque). @since 0.1 */
typedef struct churn_prep churn_prep;

/**
 * Fit a prep spec on rows[0..nrows) of @p ds (@p rows NULL: all rows, nrows
 * ignored). @p p may be NULL (defaults). *out is written only on success;
 * free with churn_prep_free().
 * Errors: CHURN_E_INVALID_ARG (bad arguments, bad enum-like param value),
 * CHURN_E_NOTFOUND (target column absent; detail lists the columns),
 * CHURN_E_PARSE (target with one class, more than two classes, missing
 * target values unless prep.drop_missing_target, positive label absent),
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_fit(const churn_dataset *ds, const size_t *rows, size_t nrows,
                                                      const churn_params *p, churn_prep **out);

/**
 * Apply the spec to every row of @p ds. Labels are set in the matrix when the
 * target column is present (rows with a missing target fail with
 * CHURN_E_PARSE unless the spec was fitted with prep.drop_missing_target, in
 * which case those rows are left out). Feature columns absent from @p ds
 * are imputed. A column fitted as numeric that arrives as text/categorical
 * is parsed as numbers; a value that does not parse is CHURN_E_PARSE naming
 * column and row. *out freed with churn_matrix_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_apply(const churn_prep *prep, const churn_dataset *ds,
                                                        churn_matrix **out);

/** As churn_prep_apply() on rows[0..nrows) of @p ds, in that order. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_apply_rows(const churn_prep *prep, const churn_dataset *ds,
                                                             const size_t *rows, size_t nrows,
                                                             churn_matrix **out);

/**
 * As churn_prep_apply_rows() (@p rows NULL: all rows), also counting cells
 * whose categorical level was not seen at fit time (*out_unseen, encoded as
 * all zeros) and cells imputed (*out_imputed). Either out may be NULL.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_apply_rows_count(const churn_prep *prep, const churn_dataset *ds,
                                                                   const size_t *rows, size_t nrows,
                                                                   churn_matrix **out, size_t *out_unseen,
                                                                   size_t *out_imputed);

/**
 * Apply to raw records in JSON: one object or an array of objects, keys are
 * column names, values strings, numbers, booleans or null (missing). Absent
 * keys are missing. Labels are set when every record has the target.
 * CHURN_E_PARSE on malformed JSON or a value of the wrong kind. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_apply_json(const churn_prep *prep, const char *json,
                                                             churn_matrix **out);

/**
 * Apply to one record given as @p n name/value strings (value NULL or ""
 * = missing). One-row matrix. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_apply_strings(const churn_prep *prep, const char *const *names,
                                                                const char *const *values, size_t n,
                                                                churn_matrix **out);

/**
 * Serialize the spec as JSON ({"format": "churn-prep", "version": 1, ...}).
 * Numbers round-trip exactly. Free *out_json with churn_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_to_json(const churn_prep *prep, char **out_json);

/**
 * Load a spec written by churn_prep_to_json(). CHURN_E_PARSE on malformed
 * JSON, CHURN_E_FORMAT on another format or a newer version. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_from_json(const char *json, churn_prep **out);

/** Number of features (matrix columns). @since 0.1 */
CHURN_API size_t churn_prep_get_feature_count(const churn_prep *prep);
/** Feature name j (borrowed); NULL when out of range. @since 0.1 */
CHURN_API const char *churn_prep_get_feature_name(const churn_prep *prep, size_t j);
/** Target column name (borrowed). @since 0.1 */
CHURN_API const char *churn_prep_get_target(const churn_prep *prep);
/** Positive label as text (borrowed), e.g. "Yes" or "1". @since 0.1 */
CHURN_API const char *churn_prep_get_positive(const churn_prep *prep);
/** Raw input columns the spec encodes (the columns a data set to apply it to must have). @since 0.1 */
CHURN_API size_t churn_prep_get_column_count(const churn_prep *prep);
/** Name of input column @p j (< churn_prep_get_column_count), NULL out of range. @since 0.1 */
CHURN_API const char *churn_prep_get_column(const churn_prep *prep, size_t j);
/** Number of ID columns dropped as IDs, and their names (borrowed; NULL out of range). @since 0.1 */
CHURN_API size_t churn_prep_get_id_count(const churn_prep *prep);
CHURN_API const char *churn_prep_get_id(const churn_prep *prep, size_t k);
/** Rows used for fitting (after dropping missing targets) and rows dropped for a missing target. @since 0.1 */
CHURN_API size_t churn_prep_get_fit_row_count(const churn_prep *prep);
CHURN_API size_t churn_prep_get_dropped_target_row_count(const churn_prep *prep);
/** Columns dropped at fit time and the reason (borrowed; NULL out of range). @since 0.1 */
CHURN_API size_t churn_prep_get_dropped_count(const churn_prep *prep);
CHURN_API const char *churn_prep_get_dropped_column(const churn_prep *prep, size_t k);
CHURN_API const char *churn_prep_get_dropped_reason(const churn_prep *prep, size_t k);

/**
 * Target of @p ds as 0/1 with the fitted positive label; *out_y (n entries)
 * is freed with churn_free(). CHURN_E_NOTFOUND when the target column is
 * absent; CHURN_E_PARSE (naming the row) for a missing target value or a
 * value that is neither the positive label nor the negative one. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_get_labels(const churn_prep *prep, const churn_dataset *ds,
                                                             uint8_t **out_y, size_t *out_n);

/**
 * Per-column report of fitting/applying @p prep to rows[0..nrows) of @p ds
 * (@p rows NULL: all rows) as JSON: {"rows", "features", "columns": [{"name",
 * "role": "feature"|"target"|"id"|"dropped", "reason", "type" (as fitted),
 * "imputed", "fill", "unseen", "after": numeric {"count", "mean",
 * "std", "min", "max"} or categorical {"levels": [{"value", "count"}]}}],
 * "dropped": [{"column", "reason"}]}. Statistics "after" are of the imputed
 * values before scaling. Free *out_json with churn_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_report_json(const churn_prep *prep, const churn_dataset *ds,
                                                              const size_t *rows, size_t nrows, char **out_json);

/**
 * Write a matrix made by this spec as CSV, atomically: optional ID column
 * first (@p id_name with @p ids, one per row; both NULL for none), the
 * features, then the target as 0/1 when the matrix has labels. Numbers are
 * shortest round-trip text. CHURN_E_IO / CHURN_E_CREATE on write failure
 * (an existing file at @p path is left as it was). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_write_csv(const churn_prep *prep, const churn_matrix *m,
                                                            const char *id_name, const char *const *ids,
                                                            const char *path);

/**
 * Relative path, inside a workdir, of prepared output @p k of
 * churn_prep_write_outputs(): 0 "data/processed/churn.parquet", 1
 * "data/processed/churn.csv", 2 "artifacts/prep.json", 3
 * "reports/summary.json", 4 "reports/summary.csv"; NULL past the last (more
 * may be added at the end). Static string. @since 0.1
 */
CHURN_API const char *churn_prep_output_name(size_t k);

/**
 * Write the prepared outputs of @p prep fitted on @p ds, as `churn prepare`
 * and the data pipeline do; output k goes to @p paths[k] (k <
 * @p npaths; a NULL path or k >= npaths: not written), see
 * churn_prep_output_name():
 *  0, 1: the processed data set (features + target, the spec's first ID
 *     column first when it is in @p ds) as Parquet (churn_parquet_write_matrix()
 *     layout, parquet.* params) and CSV (churn_prep_write_csv() format), of
 *     the rows of @p ds with a target (all rows unless the spec was fitted
 *     with prep.drop_missing_target);
 *  2: the spec (churn_prep_to_json());
 *  3: the summary JSON: the profile (@p prof, or computed from @p ds when
 *     NULL) with per column "role", "reason" and "prep" (the
 *     churn_prep_report_json() entry: fitted type, encoding, fill,
 *     imputed/unseen, "after", features), and a top-level "prep" object
 *     {"rows", "features", "feature_names", "dropped",
 *     "dropped_target_rows", "skipped_rows" (@p skipped_rows, e.g. from
 *     churn_csv_read_file()), "imputed_cells", "unseen_cells", "spec"};
 *  4: the summary as CSV, one row per column.
 * The data set is produced in chunks of prep.chunk_rows rows (apply, then
 * append to both writers), so memory beyond @p ds stays small; when @p x is
 * non-NULL it must be churn_prep_apply(prep, ds) and its rows are written
 * instead (same bytes). Each file is replaced atomically; the reports are
 * computed before any file is written, the files written in the order
 * above, and a failure leaves the files not yet written as they were.
 * *out_rows, *out_imputed, *out_unseen (each may be NULL): rows written,
 * cells imputed, categorical cells with a level unseen at fit time.
 * @return CHURN_OK; CHURN_E_INVALID_ARG (NULL prep/ds, npaths > 5, @p x of
 *         another row count, bad params); CHURN_E_PARSE as
 *         churn_prep_apply(); CHURN_E_CREATE, CHURN_E_IO (writing);
 *         CHURN_E_STATE (cancelled by the progress callback); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_prep_write_outputs(const churn_prep *prep, const churn_dataset *ds,
                                                                const churn_profile *prof, size_t skipped_rows,
                                                                const churn_matrix *x, const char *const *paths,
                                                                size_t npaths, const churn_params *p,
                                                                size_t *out_rows, size_t *out_imputed,
                                                                size_t *out_unseen);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_prep_free(churn_prep *prep);

#if defined(__GNUC__)
static inline void churn_prep_freep(churn_prep **p)
{
	churn_prep_free(*p);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PREP_H */
