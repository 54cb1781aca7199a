/* churn/eda.h: the eda module (being written). */
#ifndef CHURN_EDA_H
#define CHURN_EDA_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_EDA_H */
