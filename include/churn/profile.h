/*
 * churn/profile.h: a data profile (reports/summary.json, summary.csv,
 * `churn profile`).
 *
 * Per column: name, type, missing count and the non-missing count; numeric
 * columns add mean, std (sample, n - 1), min, p25, p50, p75, max (quantiles
 * with linear interpolation, as GSL's gsl_stats_quantile_from_sorted_data and
 * pandas' describe()); categorical columns their levels with counts, most
 * frequent first (ties by value); text columns the number of distinct values
 * (counted on 64-bit hashes: exact barring a hash collision, odds about
 * n^2 / 2^65) and an example value (the first non-missing one).
 *
 * The target (params "data.target", default "Churn") is summarised as its
 * positive label, the count of positive rows and the rate among non-missing
 * target rows. The positive label is "data.positive" when set (compared
 * exactly, then ASCII case-insensitively; for a numeric target, as a number),
 * else the level among yes/true/1/y/t (ASCII case-insensitive, that order)
 * of a two-class target; a numeric 0/1 target has positive "1". A target
 * that is absent or unusable (not two classes, no recognisable positive
 * label) is not an error: the profile has no target and a note saying why.
 *
 * JSON (ARCHITECTURE.md): {"rows", "columns": [{"name", "type", "missing", "count",
 * numeric: "mean", "std", "min", "p25", "p50", "p75", "max" (null when count
 * is 0; std null when count < 2); categorical: "distinct", "levels": [{"value",
 * "count"}]; text: "distinct", "distinct_exact", "example"}], "target":
 * {"name", "positive", "positive_count", "count", "rate"} or null,
 * "notes": [strings]}. Numbers are written locale-independently and
 * round-trip exactly.
 *
 * Cost: O(n) per column (radix sorts of numeric values and text hashes);
 * memory: two 8-byte scratch arrays of the row count.
 *
 * Thread safety: a const profile may be read from several threads.
 */
#ifndef CHURN_PROFILE_H
#define CHURN_PROFILE_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_profile churn_profile;

/**
 * Profile @p ds. @p p may be NULL (defaults). *out (free with
 * churn_profile_free()) is written only on success.
 * @return CHURN_OK; CHURN_E_INVALID_ARG (ds or out NULL); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_compute(const churn_dataset *ds, const churn_params *p,
                                                             churn_profile **out);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_profile_free(churn_profile *prof);

/**
 * The profile as one JSON document (see above, no trailing newline). Free
 * *out_json with churn_free(). @return CHURN_OK; CHURN_E_INVALID_ARG;
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_to_json(const churn_profile *prof, char **out_json);

/**
 * Parse a profile written by churn_profile_to_json() (e.g.
 * reports/summary.json). Unknown keys are ignored.
 * @return CHURN_OK; CHURN_E_PARSE (not JSON, or a required key missing or
 *         of the wrong type: the detail names it); CHURN_E_INVALID_ARG; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_from_json(const char *json, churn_profile **out);

/**
 * churn_profile_from_json() of a file. @return as above, plus
 * CHURN_E_NOTFOUND (no such file), CHURN_E_IO, CHURN_E_LIMIT (over 256 MiB).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_load_json(const char *path, churn_profile **out);

/**
 * Write the JSON (with a final newline) to @p path atomically.
 * @return CHURN_OK; CHURN_E_CREATE; CHURN_E_IO; CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_save_json(const churn_profile *prof, const char *path);

/**
 * Write one CSV row per column to @p path atomically, header
 * name,type,missing,count,mean,std,min,p25,p50,p75,max,levels (levels as
 * "value:count;value:count"; empty cells where not applicable).
 * @return CHURN_OK; CHURN_E_CREATE; CHURN_E_IO; CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_profile_save_csv(const churn_profile *prof, const char *path);

/* Getters (0 / NULL / NaN when out of range or not applicable). @since 0.1 */
CHURN_API size_t churn_profile_get_row_count(const churn_profile *prof);
CHURN_API size_t churn_profile_get_column_count(const churn_profile *prof);
CHURN_API const char *churn_profile_get_col_name(const churn_profile *prof, size_t j);
CHURN_API churn_col_type churn_profile_get_col_type(const churn_profile *prof, size_t j);
CHURN_API size_t churn_profile_get_col_missing(const churn_profile *prof, size_t j);
/** Non-missing cells of column j. @since 0.1 */
CHURN_API size_t churn_profile_get_col_present_count(const churn_profile *prof, size_t j);
/**
 * A numeric statistic of column j by name: "mean", "std", "min", "p25",
 * "p50", "p75", "max". NaN when unknown, not applicable or not computed.
 * @since 0.1
 */
CHURN_API double churn_profile_get_col_stat(const churn_profile *prof, size_t j, const char *stat);
/** Levels of a categorical column, most frequent first. @since 0.1 */
CHURN_API size_t churn_profile_get_col_level_count(const churn_profile *prof, size_t j);
/** Level k (borrowed) and its count in *out_count (may be NULL). @since 0.1 */
CHURN_API const char *churn_profile_get_col_level(const churn_profile *prof, size_t j, size_t k,
                                                  size_t *out_count);
/** Distinct non-missing values (categorical, text); *out_exact false for an estimate. @since 0.1 */
CHURN_API size_t churn_profile_get_col_distinct(const churn_profile *prof, size_t j, bool *out_exact);
/** An example value of a text column (borrowed), else NULL. @since 0.1 */
CHURN_API const char *churn_profile_get_col_example(const churn_profile *prof, size_t j);

/** Whether the profile has a usable target summary. @since 0.1 */
CHURN_API bool churn_profile_has_target(const churn_profile *prof);
/** Target name and positive label (borrowed); NULL without a target. @since 0.1 */
CHURN_API const char *churn_profile_get_target_name(const churn_profile *prof);
CHURN_API const char *churn_profile_get_positive(const churn_profile *prof);
/** Positive rows; non-missing target rows. 0 without a target. @since 0.1 */
CHURN_API size_t churn_profile_get_positive_count(const churn_profile *prof);
CHURN_API size_t churn_profile_get_target_count(const churn_profile *prof);
/** positive_count / target_count; NaN without a target. @since 0.1 */
CHURN_API double churn_profile_get_target_rate(const churn_profile *prof);
/** Notes (e.g. why there is no target); n of them, each borrowed. @since 0.1 */
CHURN_API size_t churn_profile_get_note_count(const churn_profile *prof);
CHURN_API const char *churn_profile_get_note(const churn_profile *prof, size_t k);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PROFILE_H */
