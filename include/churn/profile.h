/* churn/profile.h: the profile module (being written). */
#ifndef CHURN_PROFILE_H
#define CHURN_PROFILE_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PROFILE_H */
