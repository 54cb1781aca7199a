/*
 * churn_scorer: scoring raw customer records with a saved model, for
 * services (the HTTP server's /api/predict) and embedding programs. A scorer
 * owns a loaded model (with its prep spec) and answers JSON requests with
 * probability, label and the top reasons per record.
 *
 * Thread safety: a scorer is immutable after churn_scorer_load(); any number
 * of threads may call churn_scorer_score_json() on it concurrently.
 */
#ifndef CHURN_SCORE_H
#define CHURN_SCORE_H

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
CHURN_API CHURN_NODISCARD churn_status churn_scorer_load(const char *model_path, churn_scorer **out);
/**
 * As churn_scorer_load() from an artifact in memory (@p n bytes, copied).
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
 * scorer's compiled encoder, which answers CHURN_E_UNSUPPORTED for records it
 * leaves to the reference path (values that need conversion: numbers as
 * text, levels that differ in case, unseen levels, a target value). Both
 * give identical rows; churn_scorer_score_json() uses the compiled encoder
 * when it can. Errors as churn_scorer_score_json(). @since 0.1
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

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SCORE_H */
