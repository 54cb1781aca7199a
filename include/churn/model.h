/* churn/model.h: the model module (being written). */
#ifndef CHURN_MODEL_H
#define CHURN_MODEL_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_MODEL_H */
