/*
 * churn_dataset: a columnar table. Each column is numeric (double, missing
 * as NaN), categorical (int32 codes into a sorted dictionary of levels,
 * missing as -1) or text (strings, missing as NULL).
 *
 * Built from CSV (churn/csv.h) or from memory with the churn_dataset_add_*
 * calls below. Getters return borrowed pointers that live until the dataset
 * is changed or freed.
 *
 * Thread safety: getters are safe on a const dataset shared between threads.
 */
#ifndef CHURN_DATASET_H
#define CHURN_DATASET_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_dataset churn_dataset;

/** Column types. @since 0.1 */
typedef enum churn_col_type {
	CHURN_COL_NUMERIC = 0,
	CHURN_COL_CATEGORICAL = 1,
	CHURN_COL_TEXT = 2
} churn_col_type;

/** Lowercase name of a column type ("numeric", "categorical", "text"). @since 0.1 */
CHURN_API const char *churn_col_type_name(churn_col_type t);

/** An empty dataset (0 columns, 0 rows). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_new(churn_dataset **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_dataset_free(churn_dataset *ds);

/*
 * Adding columns (copies the input). The first column fixes the row count;
 * later columns must have the same @p n (else CHURN_E_INVALID_ARG). Column
 * names must be unique and non-empty.
 */
/** @p v may hold NaN for missing values; Inf is CHURN_E_NUMERIC. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_add_numeric(churn_dataset *ds, const char *name,
                                                                 const double *v, size_t n);
/** NULL entries are missing. Levels are sorted (strcmp order). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_add_categorical(churn_dataset *ds, const char *name,
                                                                     const char *const *values, size_t n);
/** NULL entries are missing. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_add_text(churn_dataset *ds, const char *name,
                                                              const char *const *values, size_t n);

/** Number of rows / columns. @since 0.1 */
CHURN_API size_t churn_dataset_get_row_count(const churn_dataset *ds);
CHURN_API size_t churn_dataset_get_column_count(const churn_dataset *ds);
/**
 * The data rows of the file @p ds was read from: more than its row count when
 * it is the sample of churn_csv_read_file_sampled(), else the row count (also
 * for datasets built otherwise; 0 for NULL). @since 0.1
 */
CHURN_API size_t churn_dataset_get_rows_read(const churn_dataset *ds);
/** Column name and type; NULL / CHURN_COL_TEXT when j is out of range. @since 0.1 */
CHURN_API const char *churn_dataset_get_col_name(const churn_dataset *ds, size_t j);
CHURN_API churn_col_type churn_dataset_get_col_type(const churn_dataset *ds, size_t j);
/** Index of a column by exact name; CHURN_E_NOTFOUND (detail lists the columns) when absent. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_find_col(const churn_dataset *ds, const char *name,
                                                              size_t *out_j);
/** Missing cells in column j. @since 0.1 */
CHURN_API size_t churn_dataset_get_missing_count(const churn_dataset *ds, size_t j);
/** Whether cell (row i, column j) is missing. @since 0.1 */
CHURN_API bool churn_dataset_is_missing(const churn_dataset *ds, size_t j, size_t i);

/** Numeric column values (NaN = missing); NULL unless column j is numeric. @since 0.1 */
CHURN_API const double *churn_dataset_get_numeric(const churn_dataset *ds, size_t j);
/** Categorical codes (-1 = missing); NULL unless column j is categorical. @since 0.1 */
CHURN_API const int32_t *churn_dataset_get_codes(const churn_dataset *ds, size_t j);
/** Number of levels of a categorical column (0 otherwise). @since 0.1 */
CHURN_API size_t churn_dataset_get_level_count(const churn_dataset *ds, size_t j);
/** Level k of categorical column j; NULL when out of range. @since 0.1 */
CHURN_API const char *churn_dataset_get_level(const churn_dataset *ds, size_t j, size_t k);
/** Text cell; NULL when missing or column j is not text. @since 0.1 */
CHURN_API const char *churn_dataset_get_text(const churn_dataset *ds, size_t j, size_t i);
/**
 * Any cell as text, whatever the column type (numbers round-trip exact,
 * categorical levels, text); NULL when missing. Writes into @p buf (cap >= 32)
 * for numbers, otherwise returns a borrowed pointer. @since 0.1
 */
CHURN_API const char *churn_dataset_get_cell_text(const churn_dataset *ds, size_t j, size_t i,
                                                  char *buf, size_t cap);

/** New dataset with rows idx[0..n) (in that order; repeats allowed). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_dataset_subset_rows(const churn_dataset *ds, const size_t *idx,
                                                                 size_t n, churn_dataset **out);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_DATASET_H */
