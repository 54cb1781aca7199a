/* churn/csv.h: the csv module (being written). */
#ifndef CHURN_CSV_H
#define CHURN_CSV_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_CSV_H */
