/* churn/prep.h: the prep module (being written). */
#ifndef CHURN_PREP_H
#define CHURN_PREP_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PREP_H */
