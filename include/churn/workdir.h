/*
 * churn_workdir: the on-disk layout of ARCHITECTURE.md (data/raw, data/processed,
 * reports, reports/figures, artifacts/models, logs), the workdir lock that
 * keeps overlapping runs from interleaving, the pipeline log, and run records
 * capped to the last N entries.
 *
 * Every file written through this module is replaced atomically (temp file in
 * the same directory, fsync, rename): readers never see half a file.
 *
 * The pipelines publish data/processed, reports and artifacts as generations:
 * those paths become links through <dir>/.current (see pipeline.h). Files
 * there may be shared by two generations (hard links): replace them, never
 * rewrite them in place.
 *
 * Thread safety: one churn_workdir per thread; distinct handles on the same
 * directory (in one or several processes) are coordinated by the lock.
 */
#ifndef CHURN_WORKDIR_H
#define CHURN_WORKDIR_H

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_workdir churn_workdir;

/**
 * Open a workdir, creating it and its layout when missing (CHURN_E_CREATE
 * when that fails). Uses params workdir.* (log cap, record cap, lock wait).
 * @p p is copied. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_open(const char *dir, const churn_params *p,
                                                          churn_workdir **out);
/** Releases the lock if held. NULL is a no-op. @since 0.1 */
CHURN_API void churn_workdir_free(churn_workdir *w);

/** The workdir path as given. @since 0.1 */
CHURN_API const char *churn_workdir_get_path(const churn_workdir *w);
/** "<dir>/<rel>" as a new string (churn_free). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_join(const churn_workdir *w, const char *rel, char **out);

/**
 * Take the exclusive workdir lock (flock on <dir>/.churn.lock), waiting up to
 * workdir.lock_wait_s seconds; CHURN_E_BUSY when another run still holds it.
 * The lock is released by churn_workdir_unlock(), churn_workdir_free() or
 * process exit (also kill -9). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_lock(churn_workdir *w);
/** @since 0.1 */
CHURN_API void churn_workdir_unlock(churn_workdir *w);

/**
 * Start a run: a fresh run id ("20261126T120000Z-1a2b3c"), used by log lines.
 * Returns the id (borrowed, valid until the next call). @since 0.1
 */
CHURN_API const char *churn_workdir_new_run_id(churn_workdir *w);
/** Current run id ("" before the first churn_workdir_new_run_id). @since 0.1 */
CHURN_API const char *churn_workdir_get_run_id(const churn_workdir *w);

/**
 * Append one line to logs/pipeline.log: "<UTC time> <LEVEL> run=<id> <msg>".
 * The log is rotated to pipeline.log.1 when it passes workdir.log_max_bytes,
 * so it cannot grow without bound. @since 0.1
 */
CHURN_API churn_status churn_workdir_log(churn_workdir *w, churn_log_level level, const char *msg);

/**
 * A churn_log_fn writing to the workdir log; userdata is the churn_workdir.
 * Install with churn_params_set_log(p, churn_workdir_log_fn, w, level). @since 0.1
 */
CHURN_API void churn_workdir_log_fn(void *userdata, churn_log_level level, const char *msg);

/**
 * Append @p entry_json (one JSON object, or an array of them appended in
 * order with one write) to the "runs" array of the record
 * file @p rel (e.g. "reports/run_metadata.json"), keeping the last
 * workdir.max_records entries, oldest first. A missing file starts a new
 * record; a corrupt one is kept aside as <file>.corrupt and a new one begun.
 * Atomic. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_append_record(churn_workdir *w, const char *rel,
                                                                   const char *entry_json);

/**
 * Replace the file @p rel atomically with @p data. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_write(churn_workdir *w, const char *rel, const char *data,
                                                           size_t n);

/**
 * Read a JSON report @p rel (validated: it must parse) into a new string
 * (churn_free). CHURN_E_NOTFOUND when absent, CHURN_E_PARSE when invalid,
 * CHURN_E_LIMIT past workdir.max_report_bytes. Safe for readers that do not
 * hold the lock (files are replaced atomically). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_read_json(const char *dir, const char *rel, char **out,
                                                               size_t *out_n);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_WORKDIR_H */
