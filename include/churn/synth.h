/* churn/synth.h: the synth module (being written). */
#ifndef CHURN_SYNTH_H
#define CHURN_SYNTH_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SYNTH_H */
