/* churn/parquet.h: the parquet module (being written). */
#ifndef CHURN_PARQUET_H
#define CHURN_PARQUET_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PARQUET_H */
