/* churn/metrics.h: the metrics module (being written). */
#ifndef CHURN_METRICS_H
#define CHURN_METRICS_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_METRICS_H */
