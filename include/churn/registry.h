/*
 * churn/registry.h: the model registry of a workdir. Every model an ML run
 * trains becomes an immutable version, artifacts/models/<name>/v<N>.json
 * (<name> is the model's kind: logreg, gbm, forest; N counts up per name and
 * is never reused), listed in artifacts/registry.json with three aliases:
 * "champion" (what churn predict without --model, /api/predict without
 * ?model= and churn publish without --model serve), "challenger" (the last
 * run's candidate when it was not promoted) and "previous" (the champion
 * before the last change), and the history of promotion decisions.
 *
 * The rule an ML run applies (models.*_tolerance): its candidate is its model
 * of highest test ROC AUC; it becomes the champion when there is none (the
 * first run of a workdir), or when, scored on the run's own test rows, its
 * ROC AUC is at most models.auc_tolerance below the champion's and
 * its Brier score at most models.brier_tolerance above it; else it
 * stays the challenger. The registry keeps models.max_versions versions (all
 * names together; the oldest go first, never the champion, challenger or
 * previous) and models.max_history decisions.
 *
 * A reference names a version: "NAME@vN" (NAME 1 to 32 of [a-z0-9_-], N 1 to
 * 999999999 without leading zeros) or an alias (champion, challenger,
 * previous). A workdir written before the registry (artifacts/models/<kind>.json
 * and no registry) reads as if each of those files were version 1 of its
 * kind, with the best model of reports/metrics.json the champion; its first
 * ML run (or promote, rollback) writes that down.
 *
 * The registry and the version files are published by the workdir's commit
 * (a new generation switched by one rename): readers see the registry of one
 * commit, whole. Readers here resolve the published generation once.
 *
 * Thread safety: the readers may run concurrently with each other and with a
 * writer in another process; promote and rollback take the workdir lock.
 */
#ifndef CHURN_REGISTRY_H
#define CHURN_REGISTRY_H

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The registry of @p workdir as JSON (churn_free): {"format":
 * "churn-model-registry", "format_version": 1, "migrated" (false while the
 * workdir is still the pre-registry layout), "updated_at", "aliases":
 * {"champion", "challenger", "previous": "NAME@vN" | null}, "versions":
 * [{"ref", "name", "version", "path", "sha256", "bytes", "created_at",
 * "run_id", "metrics": {"roc_auc", "pr_auc", "brier", "log_loss", "f1",
 * "accuracy", "threshold"}, "aliases": [...]}] (oldest first), "history":
 * [{"at", "action": "first" | "evaluate" | "promote" | "rollback", "run_id",
 * "challenger", "champion" (before), "champion_after", "promoted", "reason",
 * ...}] (oldest first)}.
 * @return CHURN_OK; CHURN_E_NOTFOUND (no model in the workdir yet);
 *   CHURN_E_FORMAT (a registry file that is not one: the detail says where);
 *   CHURN_E_PARSE, CHURN_E_LIMIT, CHURN_E_IO (reading it); CHURN_E_INVALID_ARG
 *   (NULL); CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_registry_json(const char *workdir, char **out_json);

/**
 * One version, by reference (see the file comment): its registry entry with
 * "aliases", plus "artifact": the metrics the artifact carries (its test
 * metrics at training time) and "threshold". *out_json freed with churn_free().
 * @return CHURN_OK; CHURN_E_INVALID_ARG (a malformed reference, NULL);
 *   CHURN_E_NOTFOUND (no such version, an alias that is not set, no model);
 *   the statuses of churn_registry_json(); those of loading the artifact. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_registry_show_json(const char *workdir, const char *ref,
                                                               char **out_json);

/**
 * Resolve @p ref (NULL: the champion) to its file: *out_rel the path relative
 * to the workdir ("artifacts/models/gbm/v3.json"; "artifacts/models/gbm.json"
 * in a workdir not migrated yet) and *out_ref the version ("gbm@v3"), both
 * freed with churn_free(); either out may be NULL.
 * @return as churn_registry_show_json() (without loading the artifact). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_registry_resolve(const char *workdir, const char *ref, char **out_rel,
                                                             char **out_ref);

/**
 * Make version @p ref (NAME@vN or an alias) the champion by hand: the champion
 * becomes "previous", the challenger alias is cleared when it named @p ref,
 * and the decision ("promote") goes into the history. Takes the workdir lock
 * (workdir.lock_wait_s) and publishes through a commit. Promoting the
 * champion changes nothing. *out_json (may be NULL; churn_free) is the
 * history entry.
 * @return CHURN_OK; CHURN_E_INVALID_ARG (a malformed reference);
 *   CHURN_E_NOTFOUND (no such version, no model); CHURN_E_BUSY (the lock);
 *   CHURN_E_FORMAT (a broken registry file); CHURN_E_IO, CHURN_E_CREATE
 *   (writing); CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_registry_promote(const char *workdir, const churn_params *p,
                                                             const char *ref, char **out_json);

/**
 * Swap "champion" and "previous" (rollback to the model served before the
 * last change; a second rollback undoes the first), recorded as "rollback".
 * Lock, commit and statuses as churn_registry_promote(); CHURN_E_NOTFOUND
 * when there is no previous version. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_registry_rollback(const char *workdir, const churn_params *p,
                                                              char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_REGISTRY_H */
