/* churn/pipeline.h: the pipeline module (being written). */
#ifndef CHURN_PIPELINE_H
#define CHURN_PIPELINE_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PIPELINE_H */
