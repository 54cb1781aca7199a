/*
 * The model registry inside the library (churn/registry.h says what it is).
 * Files: registry.c (the document: reading and checking it, references,
 * versions, aliases, the commit of a change; the public readers, promote and
 * rollback) and registry-run.c (what an ML run adds: its versions and the
 * promotion decision, ch_registry_ml_run).
 *
 * The document lives in memory as cJSON, checked field by field when read
 * (a file is input like any other); paths are always derived from a
 * version's checked name and number, never taken from the file.
 */
#ifndef CH_REGISTRY_PRIVATE_H
#define CH_REGISTRY_PRIVATE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/params.h"
#include "churn/registry.h"
#include "churn/train.h"
#include "generation-private.h"

#define CH_REGISTRY_REL "artifacts/registry.json"
#define CH_REGISTRY_MAX_VERSION 999999999u
#define CH_REGISTRY_NAME_MAX 32

/*
 * The registry of the generation at @p dir (a workdir, through its links, or
 * a resolved generation): artifacts/registry.json checked, or, in a workdir
 * from before the registry, one made from its artifacts/models/<kind>.json
 * ("migrated": false); CHURN_E_NOTFOUND when it has neither.
 */
churn_status ch_registry_read(const char *dir, cJSON **out);

/* An empty registry (no version, no alias). NULL on OOM. */
cJSON *ch_registry_new(void);

/* The version named by @p ref (NAME@vN or an alias): INVALID_ARG (malformed), NOTFOUND. Borrowed. */
churn_status ch_registry_lookup(const cJSON *reg, const char *ref, cJSON **out_version);

/* The alias's reference ("gbm@v3"), or NULL when unset. Borrowed. */
const char *ch_registry_alias(const cJSON *reg, const char *alias);
/* Set (ref) or clear (NULL) an alias. */
churn_status ch_registry_set_alias(cJSON *reg, const char *alias, const char *ref);

/* "NAME@vN" of a version entry. Borrowed. */
const char *ch_registry_ref(const cJSON *version);

/* The version's file relative to the workdir (malloc; NULL on OOM). */
char *ch_registry_rel(const cJSON *reg, const cJSON *version);

/*
 * A new version of @p name (the next number of that name) for an artifact
 * of @p bytes bytes with SHA-256 @p sha256 and the test metrics
 * @p metrics_json (the model's, may be NULL): appended to the versions and
 * returned (borrowed). CHURN_E_LIMIT past the largest number.
 */
churn_status ch_registry_add_version(cJSON *reg, const char *name, const char *sha256, size_t bytes,
                                     const char *run_id, const char *metrics_json, cJSON **out);

/* A new history entry {"at": now, "action", "run_id"} appended to the history (borrowed); NULL on OOM. */
cJSON *ch_registry_add_history(cJSON *reg, const char *action, const char *run_id);

/*
 * Write the registry into generation g: the files of a workdir being
 * migrated (artifacts/models/<kind>.json as <kind>/v1.json, read from @p wd),
 * the oldest versions past models.max_versions dropped (never an alias's),
 * the history capped at models.max_history, then artifacts/registry.json.
 */
churn_status ch_registry_stage(cJSON *reg, ch_gen *g, const char *wd, const churn_params *p);

/*
 * The ML run's part, under the workdir lock, into generation g: every model
 * of @p t becomes a version; its candidate (churn_training_get_best) is
 * evaluated against the champion on the run's test rows of @p ds and
 * promoted by the rule of churn/registry.h; the registry is staged
 * (ch_registry_stage). *out_decision is the history entry (the caller's),
 * *out_refs the versions' references in model order (a cJSON array, the
 * caller's).
 */
churn_status ch_registry_ml_run(const char *wd, ch_gen *g, const churn_training *t, const churn_dataset *ds,
                                const char *run_id, const churn_params *p, cJSON **out_decision, cJSON **out_refs);

#endif
