/* churn/fetch.h: the fetch module (being written). */
#ifndef CHURN_FETCH_H
#define CHURN_FETCH_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_FETCH_H */
