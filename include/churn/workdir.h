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
 * Open a workdir, creating it and its layout when missing. Uses params
 * workdir.* (log cap, record cap, lock wait, report size). @p p is copied
 * (NULL: the defaults). On success *out is a new handle (churn_workdir_free).
 * Returns CHURN_OK; CHURN_E_INVALID_ARG (no directory or no @p out);
 * CHURN_E_CREATE (the directory or its layout cannot be made); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_open(const char *dir, const churn_params *p,
                                                          churn_workdir **out);
/** Releases the lock if held. NULL is a no-op. @since 0.1 */
CHURN_API void churn_workdir_free(churn_workdir *w);

/** The workdir path as given (owned by @p w, valid until churn_workdir_free); NULL for NULL. @since 0.1 */
CHURN_API const char *churn_workdir_get_path(const churn_workdir *w);
/**
 * "<dir>/<rel>" as a new string (churn_free) in *out.
 * Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_join(const churn_workdir *w, const char *rel, char **out);

/**
 * Take the exclusive workdir lock (flock on <dir>/.churn.lock), waiting up to
 * workdir.lock_wait_s seconds. The lock is released by churn_workdir_unlock(),
 * churn_workdir_free() or process exit (also kill -9). Taking it twice through
 * one handle is a no-op. Returns CHURN_OK; CHURN_E_INVALID_ARG (NULL);
 * CHURN_E_BUSY (another run still holds it after the wait); CHURN_E_CREATE
 * (the lock file cannot be opened); CHURN_E_IO (flock failed); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_lock(churn_workdir *w);
/** Release the lock if held; NULL is a no-op. @since 0.1 */
CHURN_API void churn_workdir_unlock(churn_workdir *w);

/**
 * Start a run: a fresh run id ("20261126T120000Z-1a2b3c", unique across
 * overlapping processes), which the handle's log lines carry from now on.
 * *out_id is a new string (churn_free).
 * Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_NOMEM.
 * @since 0.1; caller-owned since libchurn.so.1 (a borrowed pointer before)
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_new_run_id(churn_workdir *w, char **out_id);
/**
 * The current run id as a new string (churn_free) in *out_id; "" before the
 * first churn_workdir_new_run_id().
 * Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_NOMEM.
 * @since 0.1; caller-owned since libchurn.so.1 (a borrowed pointer before)
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_get_run_id(const churn_workdir *w, char **out_id);

/**
 * Append one line to logs/pipeline.log: "<UTC time> <LEVEL> run=<id> <msg>"
 * (one write on an O_APPEND descriptor: lines of concurrent writers never
 * interleave; a line past 2047 bytes is cut). The log is rotated to
 * pipeline.log.1 when it passes workdir.log_max_bytes, so it cannot grow
 * without bound. Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument);
 * CHURN_E_IO (the log cannot be opened or written); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API churn_status churn_workdir_log(churn_workdir *w, churn_log_level level, const char *msg);

/**
 * A churn_log_fn writing to the workdir log; userdata is the churn_workdir.
 * Install with churn_params_set_log(p, churn_workdir_log_fn, w, level).
 * Failures are dropped, and the thread's churn_last_error() is kept as it was.
 * @since 0.1
 */
CHURN_API void churn_workdir_log_fn(void *userdata, churn_log_level level, const char *msg);

/**
 * Append @p entry_json (one JSON object, or an array of them appended in
 * order with one write) to the "runs" array of the record
 * file @p rel (e.g. "reports/run_metadata.json"), keeping the last
 * workdir.max_records entries, oldest first. A missing file starts a new
 * record; a corrupt one is kept aside as <file>.corrupt and a new one begun.
 * Atomic. Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL argument, or
 * @p entry_json not an object or a non-empty array of objects); CHURN_E_LIMIT
 * (the record file is larger than workdir.max_report_bytes); CHURN_E_IO
 * (reading or replacing the file failed); CHURN_E_CREATE (its temporary file
 * cannot be made); CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_append_record(churn_workdir *w, const char *rel,
                                                                   const char *entry_json);

/**
 * Replace the file @p rel atomically with @p data (temp file in the same
 * directory, fsync, rename). Returns CHURN_OK; CHURN_E_INVALID_ARG (a NULL
 * argument); CHURN_E_CREATE (the temporary file cannot be made: missing
 * directory, permissions); CHURN_E_IO (writing, syncing or renaming failed);
 * CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_write(churn_workdir *w, const char *rel, const char *data,
                                                           size_t n);

/**
 * Read a JSON report @p rel of the workdir (validated: it must parse) into a
 * new string (churn_free) in *out, its length in *out_n (optional). Safe for
 * readers that do not hold the lock (files are replaced atomically); readers
 * that hold no handle (a server) use report.h. Returns CHURN_OK;
 * CHURN_E_INVALID_ARG (a NULL argument); CHURN_E_NOTFOUND (absent);
 * CHURN_E_PARSE (not valid JSON, nested deeper than 64 levels, invalid UTF-8
 * or a NUL byte); CHURN_E_LIMIT (larger than workdir.max_report_bytes);
 * CHURN_E_IO (reading failed); CHURN_E_NOMEM.
 * @since 0.1; takes the handle since libchurn.so.1 (the workdir path before)
 */
CHURN_API CHURN_NODISCARD churn_status churn_workdir_read_json(const churn_workdir *w, const char *rel, char **out,
                                                               size_t *out_n);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_WORKDIR_H */
