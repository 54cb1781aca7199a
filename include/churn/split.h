/*
 * churn/split.h: train/test splits and cross-validation folds of labelled
 * rows, stratified by the label, deterministic per seed (libchurn/split.c).
 *
 * Thread safety: pure functions of their arguments.
 */
#ifndef CHURN_SPLIT_H
#define CHURN_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Splits (deterministic per seed: splitmix64 + Fisher-Yates within each
 * class). Each part's positive rate is within one row of the whole.
 */

/**
 * Stratified train/test split of @p n rows with labels @p y (0/1).
 * test_size in (0, 1). The index arrays are sorted ascending and freed with
 * churn_free(). CHURN_E_INVALID_ARG for n < 2 or a bad test_size. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_split_stratified(const uint8_t *y, size_t n, double test_size,
                                                              uint64_t seed, size_t **out_train,
                                                              size_t *out_ntrain, size_t **out_test,
                                                              size_t *out_ntest);

/**
 * Stratified k-fold: out_fold[i] in [0, k) is the fold of row i.
 * CHURN_E_INVALID_ARG for k < 2 or k > n. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_split_kfold(const uint8_t *y, size_t n, size_t k, uint64_t seed,
                                                         uint32_t *out_fold);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SPLIT_H */
