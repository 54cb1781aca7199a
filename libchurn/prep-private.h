/*
 * Internal prep helpers (ch_ prefix, never exported): the spec as a cJSON
 * object, for writers that embed it in a larger document (model artifacts).
 */
#ifndef CH_PREP_PRIVATE_H
#define CH_PREP_PRIVATE_H

#include <cjson/cJSON.h>

#include "churn/prep.h"

/*
 * The spec as a new cJSON object ({"format": "churn-prep", "version": 1,
 * ...}); NULL on OOM (detail set). The caller owns it (cJSON_Delete).
 */
cJSON *ch_prep_to_cjson(const churn_prep *prep);

/*
 * Build a spec from a cJSON object as written by ch_prep_to_cjson().
 * CHURN_E_FORMAT for another format or a newer version, CHURN_E_PARSE for
 * missing or malformed fields. *out written only on success.
 */
churn_status ch_prep_from_cjson(const cJSON *o, churn_prep **out);

#endif
