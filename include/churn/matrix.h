/*
 * churn_matrix: a dense design matrix (row-major doubles) with readable
 * feature names and, optionally, 0/1 labels. Produced by churn_prep_apply()
 * and consumed by models and EDA.
 *
 * Thread safety: getters are safe on a const matrix shared between threads.
 */
#ifndef CHURN_MATRIX_H
#define CHURN_MATRIX_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_matrix churn_matrix;

/** Zero-filled nrows x ncols matrix, features named "x0".."x<n-1>", no labels. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_matrix_new(size_t nrows, size_t ncols, churn_matrix **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_matrix_free(churn_matrix *m);

CHURN_API size_t churn_matrix_get_row_count(const churn_matrix *m);
CHURN_API size_t churn_matrix_get_column_count(const churn_matrix *m);
/** Row-major values: element (i, j) is at [i * ncols + j]. @since 0.1 */
CHURN_API double *churn_matrix_get_data(churn_matrix *m);
CHURN_API const double *churn_matrix_get_data_const(const churn_matrix *m);
/** Pointer to row i; NULL when out of range. @since 0.1 */
CHURN_API const double *churn_matrix_get_row(const churn_matrix *m, size_t i);

/** Feature name of column j (borrowed); NULL when out of range. @since 0.1 */
CHURN_API const char *churn_matrix_get_feature_name(const churn_matrix *m, size_t j);
/** Copies @p name. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_matrix_set_feature_name(churn_matrix *m, size_t j, const char *name);

/** Labels (0/1, nrows of them) or NULL when the matrix has none. @since 0.1 */
CHURN_API const uint8_t *churn_matrix_get_labels(const churn_matrix *m);
/** Copies @p y (n must equal nrows; values 0 or 1). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_matrix_set_labels(churn_matrix *m, const uint8_t *y, size_t n);

/** New matrix with rows idx[0..n) (repeats allowed), names and labels kept. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_matrix_subset_rows(const churn_matrix *m, const size_t *idx,
                                                                size_t n, churn_matrix **out);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_MATRIX_H */
