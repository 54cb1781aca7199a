/*
 * churn/drift.h: how a data set's rows differ from the rows a model learned from.
 *
 * A reference profile describes a model's training rows: per raw column (the
 * target and ID columns aside) its type, missing count and distribution
 * (numeric: drift.bins quantile bins, inner edges kept; categorical: level
 * counts, at most drift.max_levels levels, the rest in "other"; text: the
 * missing count only), the target's positive rate and the row count.
 * churn_train() stores one in every model artifact ("reference"). Its JSON:
 *
 *   {"format": "churn-drift-reference", "version": 1, "rows",
 *    "target": {"name", "positive", "rows", "positive_count", "rate"},
 *    "ids": [names],
 *    "columns": [{"name", "type", "missing", "count",
 *                 numeric: "min", "max", "edges": [inner edges], "counts": [edges + 1],
 *                 categorical: "levels": [{"value", "count"}], "other", "level_count" (levels
 *                 present in the rows)}]}
 *
 * The profile depends on the given rows alone (never on other rows of the
 * data set, e.g. a level only the test rows have).
 *
 * A comparison (churn_drift_compare) holds, per column present on both sides
 * with one type, the PSI (numeric on the reference bins, a value v in the
 * first bin i with v <= edges[i]; categorical per reference level with the
 * unseen and other levels in one slot; proportions under 1e-4 count as 1e-4),
 * a chi-square test of homogeneity on the same bins with its p-value, the
 * missing rates, and a status (stable, warn at drift.psi_warn, alert at
 * drift.psi_alert); the target's rate on both sides with 95% Wilson
 * intervals; the row counts; the schema changes (columns added, removed,
 * retyped). The document ARCHITECTURE.md describes as reports/drift.json is
 * this one with the pipeline's run, history and performance added.
 *
 * Thread safety: every call is independent (no shared state).
 */
#ifndef CHURN_DRIFT_H
#define CHURN_DRIFT_H

#include <stddef.h>

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The reference profile of rows[0..n) of @p ds (@p rows NULL: every row; n
 * is then the row count) as JSON text (churn_free). The target, positive
 * label and ID columns are data.target, data.positive and data.id of @p p
 * (as churn_prep_fit resolves them); rows without a target value count in
 * the columns, not in the target rate.
 *
 * @return CHURN_OK; CHURN_E_INVALID_ARG (NULL ds or out, n of 0, a row out of
 *         range); CHURN_E_NOTFOUND (no target column); CHURN_E_PARSE (the
 *         target is not two classes); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_drift_reference_compute(const churn_dataset *ds, const size_t *rows,
                                                                     size_t n, const churn_params *p,
                                                                     char **out_json);

/**
 * Compare every row of @p ds with the reference profile @p reference_json
 * (NULL: no reference yet; the document then says so, "status":
 * "no_reference", and compares nothing). The document, as JSON text
 * (churn_free): {"status": "compared" | "no_reference", "message",
 * "thresholds": {"psi_warn", "psi_alert"}, "rows": {"reference", "current",
 * "change", "ratio"}, "columns": [{"name", "type", "status", "psi", "test":
 * {"name", "statistic", "df", "p_value"}, "missing_rate": {"reference",
 * "current", "change"}, ...}], "target": {"name", "positive", "reference":
 * {"rate", "lo", "hi", "rows"}, "current": {...}, "change", "overlap"},
 * "schema": {"changed", "added", "removed", "retyped": [{"name", "from",
 * "to"}]}, "summary": {"status", "max_psi", "warn", "alert", "flagged"}}.
 *
 * @return CHURN_OK; CHURN_E_INVALID_ARG (NULL ds or out); CHURN_E_PARSE (the
 *         reference is not JSON); CHURN_E_FORMAT (not a reference profile, a
 *         newer version, inconsistent bins); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_drift_compare(const char *reference_json, const churn_dataset *ds,
                                                           const churn_params *p, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_DRIFT_H */
