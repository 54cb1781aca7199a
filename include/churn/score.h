/*
 * churn_scorer: scoring raw customer records with a saved model, for
 * services (the HTTP server's /api/predict) and embedding programs. A scorer
 * owns a loaded model (with its prep spec) and answers JSON requests with
 * probability, label and the top reasons per record.
 *
 * Thread safety: a scorer is immutable after churn_scorer_load_file(); any number
 * of threads may call churn_scorer_score_json() on it concurrently.
 */
#ifndef CHURN_SCORE_H
#define CHURN_SCORE_H

#include <stdbool.h>
#include <stdio.h>

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_scorer churn_scorer;

/**
 * Load a model artifact (churn_model_load_file) that carries a prep spec.
 * CHURN_E_NOTFOUND, CHURN_E_FORMAT, CHURN_E_PARSE as the loader;
 * CHURN_E_STATE when the model has no prep spec. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_load_file(const char *model_path, churn_scorer **out);
/**
 * As churn_scorer_load_file() from an artifact in memory (@p n bytes, copied).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_from_buffer(const char *buf, size_t n, churn_scorer **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_scorer_free(churn_scorer *s);
/** The scorer's model (borrowed, lives as long as the scorer). @since 0.1 */
CHURN_API const churn_model *churn_scorer_get_model(const churn_scorer *s);

/**
 * Score @p request: one JSON object of raw column values (the training
 * columns; the target and ID columns are optional) or an array of them
 * (at most @p max_records; 0 = no limit). The
 * answer (churn_free) is
 *   {"model": "gbm", "threshold": 0.5, "count": N, "predictions": [
 *     {"id": "7590-VHVEG" | null, "probability": 0.73, "label": "Yes",
 *      "churn": true, "reasons": [{"feature", "value", "contribution"}]}]}
 * with up to @p top_k reasons: the features that raise the customer's churn
 * score the most (largest positive contribution to the log-odds, or to the
 * probability for forests), largest first. Features that lower the score
 * are never reasons; a customer nothing puts at risk has none. Every
 * front-end (churn predict, /api/predict, the examples) shows these.
 * Errors (the detail names the record and column): CHURN_E_PARSE for
 * malformed JSON, invalid UTF-8, a NUL byte, nesting deeper than three
 * levels or a value of the wrong type, CHURN_E_INVALID_ARG for an
 * unknown column, an empty array or a request that is not an object/array,
 * CHURN_E_LIMIT for more than @p max_records records. Nesting, encoding and
 * the record count are checked in one pass over the text before anything is
 * parsed: an oversized or hostile request costs no memory. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_score_json(const churn_scorer *s, const char *request, size_t len,
                                                               size_t top_k, size_t max_records, char **out_json);

/**
 * The design-matrix row of one raw record (a JSON object of @p len bytes), as
 * the model sees it: out_row[0..nfeatures), *out_n = nfeatures (also when
 * @p out_cap is too small: then CHURN_E_INVALID_ARG). With @p reference the
 * prep spec is applied through churn_prep_apply_json(); without, through the
 * scorer's own encoder (a churn_record filled from the object), the one
 * churn_scorer_score_json() uses. Both give identical rows (the reference
 * path is the oracle of tests/fuzz/fuzz-predict.c). Errors as
 * churn_scorer_score_json(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_encode_json(const churn_scorer *s, const char *record, size_t len,
                                                                bool reference, double *out_row, size_t out_cap,
                                                                size_t *out_n);

/**
 * CHURN_E_FORMAT naming every column the model's prep spec needs that @p ds
 * lacks ("missing columns the model needs: tenure, Contract"); CHURN_OK when
 * none is missing. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_check_columns(const churn_scorer *s, const churn_dataset *ds);

/**
 * Score every row of a data set of raw columns (as read by
 * churn_csv_read_file; the target is optional, extra columns are ignored):
 * the document of churn_scorer_score_json() with the same numbers and
 * reasons, "id" the row's first ID column (as text) or its 1-based row
 * number. Errors: churn_scorer_check_columns(), churn_prep_apply(),
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_score_dataset_json(const churn_scorer *s,
                                                                       const churn_dataset *ds, size_t top_k,
                                                                       char **out_json);

/**
 * As churn_scorer_score_dataset_json(), written as CSV to @p out: a header
 * "id,probability,label,reason1..reasonK" (K = @p top_k), then one line per
 * row: the ID, the probability as the JSON answer prints it (shortest text
 * that reads back exactly), the label text, and each reason as
 * "feature (+0.42)" (empty when there are fewer). Quoted per RFC 4180.
 * CHURN_E_IO when writing fails. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_write_csv(const churn_scorer *s, const churn_dataset *ds,
                                                              size_t top_k, FILE *out);

/* ---- typed records: one customer's values set by column, scored without JSON ---- */

/**
 * One customer's raw values for a scorer, set by column (by name or by the
 * index churn_scorer_find_column() resolves once), encoded and scored with
 * the rules of churn_scorer_score_json() (the same probability, label and
 * reasons, churn_model_reasons) without printing or parsing JSON. Made for
 * per-row callers: resolve the names once, then set values by index and
 * score; nothing is allocated per row.
 *
 * A record borrows its scorer (which must outlive it) and is used by one
 * thread at a time; any number of records may share one scorer.
 */
typedef struct churn_record churn_record;

/**
 * The number of fields a record may carry: the model's input columns, then
 * its target, dropped and ID columns (accepted, not used for scoring).
 * @since 0.1
 */
CHURN_API size_t churn_scorer_get_column_count(const churn_scorer *s);
/** Field @p k's name (borrowed; NULL when out of range). @since 0.1 */
CHURN_API const char *churn_scorer_get_column(const churn_scorer *s, size_t k);
/**
 * The index of the field called @p name: the exact name, else the one name
 * equal to it ignoring ASCII case ("seniorcitizen" for "SeniorCitizen", as
 * PostgreSQL folds unquoted names). CHURN_E_NOTFOUND when no field has the
 * name, CHURN_E_INVALID_ARG when several do ignoring case and none exactly
 * (ambiguous) or an argument is NULL. Thread-safe (const scorer). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_scorer_find_column(const churn_scorer *s, const char *name,
                                                                size_t *out_index);
/**
 * The text of the scorer's label: the positive one (the target's churn
 * value, "Yes") when @p churn, else the negative one. Borrowed. @since 0.1
 */
CHURN_API const char *churn_scorer_get_label(const churn_scorer *s, bool churn);

/**
 * A record for @p s with every value missing (free with churn_record_free).
 * CHURN_E_INVALID_ARG for NULL, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_new(const churn_scorer *s, churn_record **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_record_free(churn_record *r);
/** Every value missing again (for the next row). @since 0.1 */
CHURN_API void churn_record_clear(churn_record *r);

/**
 * Set field @p index to a number. Numeric column: the value (scaled at
 * once); categorical column: the level written as that number ("1" for 1.0).
 * Statuses: CHURN_E_INVALID_ARG for an index out of range, CHURN_E_NUMERIC
 * for NaN or an infinity, or a value that overflows when scaled,
 * CHURN_E_PARSE for a target value that is neither label. On failure the
 * field is left as it was. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_number(churn_record *r, size_t index, double v);
/**
 * Set field @p index from text (@p len bytes, need not be NUL-terminated),
 * as the CSV reader and churn_scorer_score_json() read it: empty text is
 * missing; a numeric column parses the number (blank and "NA"-like tokens:
 * missing), a categorical one looks up the level (exact, else ignoring case,
 * else a yes/no token or the same number written differently; an unseen
 * level encodes as all zeros, as in training). Statuses:
 * CHURN_E_INVALID_ARG (index, NULL), CHURN_E_PARSE for text that is not a
 * number in a numeric column, invalid UTF-8 or a NUL byte, or a target value
 * that is neither label, CHURN_E_NUMERIC for a value that overflows when
 * scaled. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_text(churn_record *r, size_t index, const char *text,
                                                             size_t len);
/** churn_record_set_text() of a NUL-terminated string (NULL: missing). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_string(churn_record *r, size_t index, const char *text);
/**
 * Set field @p index to a boolean: a numeric column takes 1 or 0, a
 * categorical one the text "true" or "false" (which matches yes/no levels of
 * a binary column). Statuses as churn_record_set_number(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_bool(churn_record *r, size_t index, bool v);
/** Set field @p index missing. CHURN_E_INVALID_ARG for an index out of range. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_missing(churn_record *r, size_t index);
/**
 * The setters by name (churn_scorer_find_column(): exact, else unambiguous
 * ignoring case); its statuses, then the setter's. Per-row callers should
 * resolve names once and use the index forms. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_set_number_by_name(churn_record *r, const char *name, double v);
CHURN_API CHURN_NODISCARD churn_status churn_record_set_string_by_name(churn_record *r, const char *name,
                                                                       const char *text);
CHURN_API CHURN_NODISCARD churn_status churn_record_set_missing_by_name(churn_record *r, const char *name);

/**
 * Score the record: *out_probability, *out_churn (probability >= the
 * model's threshold; either out may be NULL) and, when @p top_k > 0, up to
 * @p top_k reasons (churn_record_get_reason), the same numbers as
 * churn_scorer_score_json() gives for the same values. With top_k 0 the
 * contributions are not computed (faster). Values unset are missing.
 * Statuses: CHURN_E_INVALID_ARG (NULL), CHURN_E_NOMEM, the model's predict
 * errors. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_score(churn_record *r, size_t top_k, double *out_probability,
                                                          bool *out_churn);
/** The number of reasons of the last churn_record_score() (0 before). @since 0.1 */
CHURN_API size_t churn_record_get_reason_count(const churn_record *r);
/**
 * Reason @p k of the last churn_record_score(), in the customer's own terms:
 * the raw column's name (borrowed from the scorer), the customer's value as
 * text (a number written shortest, the level, or NULL when missing; valid
 * until the record is scored again or freed) and the column's contribution
 * (the sum of its encoded features'; positive raises the churn score,
 * negative lowers it). Reasons come largest absolute contribution first
 * (churn_model_reasons()'s rule). Any out may be NULL. CHURN_E_INVALID_ARG
 * when @p k is out of range. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_get_reason(const churn_record *r, size_t k,
                                                               const char **out_column, const char **out_value,
                                                               double *out_contribution);
/**
 * The last churn_record_score() as the answer of churn_scorer_score_json()
 * prints one prediction, with the model's name and without an id:
 * {"model", "probability", "label", "churn", "reasons": [{"feature",
 * "value", "contribution", "effect"}]} (the SQL explain prints this).
 * *out_json is the caller's (churn_free). CHURN_E_INVALID_ARG (NULL),
 * CHURN_E_STATE (not scored since the last clear), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_record_explain_json(const churn_record *r, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SCORE_H */
