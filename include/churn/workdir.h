/* churn/workdir.h: the workdir module (being written). */
#ifndef CHURN_WORKDIR_H
#define CHURN_WORKDIR_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_WORKDIR_H */
