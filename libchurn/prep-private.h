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

/*
 * Streaming writer of prepared rows as CSV (churn_prep_write_csv() is one
 * open/append/close): header of the optional ID column @p id_name, the @p nc
 * feature @p names and the optional @p target; then rows as appended. The
 * file appears at @p path (atomically) on close; close and free always
 * release the writer, free without close removes the temp file.
 */
typedef struct ch_prep_csv ch_prep_csv;
churn_status ch_prep_csv_open(const char *path, const char *const *names, size_t nc, const char *id_name,
                              const char *target, ch_prep_csv **out);
churn_status ch_prep_csv_append(ch_prep_csv *w, const churn_matrix *m, const char *const *ids);
churn_status ch_prep_csv_close(ch_prep_csv *w);
void ch_prep_csv_free(ch_prep_csv *w);

#endif
