/*
 * Screening of candidate feature columns before the prep fits them: columns
 * that look like identifiers (a value distinct in every row: a row number, a
 * customer number, a code) and columns that leak the target (alone they
 * separate the classes almost perfectly, as columns computed from the target
 * do). The prep leaves both out unless prep.keep_columns names them; the
 * profile notes them by the same tests.
 */
#ifndef CH_SCREEN_PRIVATE_H
#define CH_SCREEN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churn/common.h"
#include "churn/params.h"
#include "dataset-private.h"

/* Fewest rows for either test: below it nothing is flagged (a handful of rows says little). */
#define CH_SCREEN_MIN_ROWS 50
/* A univariate ROC AUC (either direction) of at least this flags a leak. */
#define CH_SCREEN_LEAK_AUC 0.99

/*
 * Whether column @p c over rows[0..n) (NULL: rows 0..n-1) looks like an
 * identifier: no missing cell, every value distinct, and integers (a
 * numeric column, or text that parses as integers) or codes (text).
 * *why (malloc'd) says so in words when true. CHURN_E_NOMEM.
 */
churn_status ch_screen_identifier(const ch_column *c, const size_t *rows, size_t n, bool *out, char **why);

/*
 * The univariate ROC AUC, in the direction that is at least 0.5, of column
 * @p c against labels y[i] (0/1, for rows[i]): numeric values (or text
 * that parses as numbers) as scores (at most 50,000 rows, taken evenly,
 * missing cells left out), a categorical
 * column's levels scored by their positive rate (only with at least 20 rows
 * per level on average: fewer would separate any classes). NaN when not
 * computed (too few rows or a class with fewer than 10). A numeric column is
 * first measured on 2,000 rows: below 0.95 there, that estimate is the
 * answer (no leak), else it is measured on the 50,000. CHURN_E_NOMEM.
 */
churn_status ch_screen_auc(const ch_column *c, const size_t *rows, const uint8_t *y, size_t n, double *out);

/*
 * Notes naming the columns the prep would leave out as identifier-like or
 * leaking, for readers of the data (profile, EDA): every column of @p ds but
 * the target (column @p tj), the ID columns and prep.keep_columns, over the
 * rows with y[i] >= 0 (labels 0/1, -1 unlabelled). *out: malloc'd strings
 * (*out_n; each and the array the caller's). @p identifier (NULL, or one per
 * column of @p ds): true for the columns found identifier-like. CHURN_E_NOMEM.
 */
churn_status ch_screen_notes(const churn_dataset *ds, const churn_params *p, size_t tj, const int8_t *y, char ***out,
                             size_t *out_n, bool *identifier);

#endif /* CH_SCREEN_PRIVATE_H */
