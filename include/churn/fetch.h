/*
 * churn/fetch.h: ingestion. Copy a churn CSV from a source into a local file,
 * atomically, with a metadata sidecar, downloading only when it changed.
 *
 * Sources:
 *   http://..., https://...   libcurl; conditional GET, retries, limits
 *   file:///abs/path          a local file (file://localhost/... too)
 *   a plain path              a local file
 *   synthetic:N[?seed=S]      N rows of synthetic Telco data (churn/synth.h),
 *                             seed 42 unless given
 *   postgresql://...?table=T  a PostgreSQL table (schema.name) or query
 *   postgresql://...?query=Q  (%-encoded SELECT), read with COPY ... TO STDOUT
 *                             (FORMAT csv, HEADER) in a read-only transaction
 *                             (libpq loaded on first use; pg.connect_timeout_s,
 *                             pg.statement_timeout_s; ARCHITECTURE.md, "PostgreSQL
 *                             as a source and a sink"). The URL is recorded with
 *                             its password masked ("postgresql://u:***@h/db?...").
 *
 * The destination is replaced atomically (temp file in its directory, fsync,
 * rename): readers never see half a file, and on any failure the previous
 * good file stays as it was. Next to it, "<dest>.meta.json" (also atomic)
 * records what is stored:
 *
 *   {"url", "etag", "last_modified", "sha256", "bytes", "fetched_at",
 *    "http_status", ...}
 *
 * (etag, last_modified and http_status are null when not applicable; local
 * sources add "source_size" and "source_mtime", seconds.nanoseconds as text.) The meta file is written
 * after the data file; a reader racing a fetch may briefly see a new data
 * file with the previous meta file.
 *
 * Change detection: for http(s), when dest and its meta (same url, same size)
 * exist, the request carries If-None-Match / If-Modified-Since; a 304 keeps
 * the file untouched. For every source, a body whose SHA-256 equals the
 * stored file's is not written again (mtime unchanged); local sources whose
 * size and mtime match the meta are not even read.
 *
 * Options (churn_params): fetch.timeout_s (whole transfer, per attempt),
 * fetch.connect_timeout_s, fetch.retries, fetch.retry_delay_s (doubles on
 * each retry, at most 60 s), fetch.max_bytes. Retried: HTTP 5xx, 408 and
 * 429, timeouts, refused connections, truncated bodies, send/receive errors
 * and empty replies. Not retried: other 4xx, unresolvable hosts, TLS errors,
 * limits, bodies that are not CSV.
 *
 * Progress: churn_params progress callback with what = "download" (bytes
 * received of Content-Length, total 0 when unknown) or "copy"; returning
 * false cancels (CHURN_E_STATE). Log lines through the params log callback.
 *
 * Thread safety: churn_fetch() may run concurrently on distinct
 * destinations. libcurl's process-wide initialisation (curl_global_init,
 * not thread-safe before libcurl 7.84) is done once, under pthread_once, on
 * the first http(s) fetch; libchurn never calls curl_global_cleanup. A
 * program that also uses libcurl itself should call curl_global_init before
 * starting threads, as libcurl documents. Fetch info objects are immutable:
 * getters are safe from any thread.
 */
#ifndef CHURN_FETCH_H
#define CHURN_FETCH_H

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The IBM Telco Customer Churn CSV (7,043 rows); default of "data.source". @since 0.1 */
#define CHURN_FETCH_DEFAULT_URL \
	"https://raw.githubusercontent.com/IBM/telco-customer-churn-on-icp4d/master/data/Telco-Customer-Churn.csv"

/** Result of a successful churn_fetch(): opaque, immutable. @since 0.1 */
typedef struct churn_fetch_info churn_fetch_info;

/**
 * Bring @p source into @p dest_path (parent directories are created) and
 * update "<dest_path>.meta.json".
 *
 * @param p        options and callbacks; NULL for the defaults.
 * @param out_info receives a new churn_fetch_info (free with
 *                 churn_fetch_info_free()) on success only; may be NULL.
 * @return CHURN_OK (stored or found unchanged);
 *         CHURN_E_INVALID_ARG bad arguments or a malformed source;
 *         CHURN_E_UNSUPPORTED an unknown URL scheme, synthetic data when
 *         the synth module is not built in, or postgresql:// without libpq;
 *         CHURN_E_NETWORK unreachable host, timeout, truncated body (after
 *         the retries) or an HTTP error status ("URL: HTTP 404 Not Found");
 *         CHURN_E_NOTFOUND a local source that does not exist, or a
 *         PostgreSQL table or schema that does not exist or may not be read;
 *         (PostgreSQL: CHURN_E_NETWORK also a refused login, a missing
 *         database or pg.statement_timeout_s; CHURN_E_INVALID_ARG a URI
 *         libpq cannot parse, neither or both of table= and query=, a query
 *         that is not one SELECT returning rows;)
 *         CHURN_E_LIMIT a body larger than fetch.max_bytes (the transfer is
 *         stopped early);
 *         CHURN_E_PARSE a body that is not CSV (HTML page, NUL bytes, no
 *         comma in the first line, empty);
 *         CHURN_E_STATE cancelled by the progress callback;
 *         CHURN_E_CREATE / CHURN_E_IO the destination cannot be written;
 *         CHURN_E_NOMEM; CHURN_E_INTERNAL libcurl cannot be initialised.
 *         On failure the previous dest and meta files are left untouched and
 *         churn_last_error() names the source (URL without credentials) and
 *         the cause.
 * Thread-safe for distinct @p dest_path values. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_fetch(const char *source, const char *dest_path, const churn_params *p,
                                                   churn_fetch_info **out_info);

/**
 * A file name for what @p source brings: the last path segment of a URL or
 * path, lowercased, with characters other than [a-z0-9._-] replaced by '-'
 * ("Telco-Customer-Churn.csv" -> "telco-customer-churn.csv"), or
 * "synthetic-N.csv"; "download.csv" when the path has no usable name.
 * *out_name (free with churn_free()) is written only on success.
 * @return CHURN_OK, CHURN_E_INVALID_ARG, CHURN_E_NOMEM. Thread-safe. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_fetch_default_name(const char *source, char **out_name);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_fetch_info_free(churn_fetch_info *info);

/** True when the file at the destination was (re)written by this call. @since 0.1 */
CHURN_API bool churn_fetch_info_is_changed(const churn_fetch_info *info);
/** SHA-256 of the stored file, 64 lowercase hex digits; borrowed, never NULL. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_sha256(const churn_fetch_info *info);
/** Size of the stored file in bytes. @since 0.1 */
CHURN_API uint64_t churn_fetch_info_get_bytes(const churn_fetch_info *info);
/** Final HTTP status of this call (200, 304); 0 for non-HTTP sources. @since 0.1 */
CHURN_API int churn_fetch_info_get_http_status(const churn_fetch_info *info);
/** Number of requests or attempts made (1 when the first succeeded). @since 0.1 */
CHURN_API unsigned churn_fetch_info_get_attempts(const churn_fetch_info *info);
/** The source as recorded (credentials removed); borrowed, never NULL. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_url(const churn_fetch_info *info);
/** ETag of the stored body, or NULL when the server sent none. Borrowed. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_etag(const churn_fetch_info *info);
/** Last-Modified of the stored body, or NULL. Borrowed. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_last_modified(const churn_fetch_info *info);
/** The destination path; borrowed, never NULL. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_path(const churn_fetch_info *info);
/** When the stored body was fetched, ISO 8601 UTC; borrowed, never NULL. @since 0.1 */
CHURN_API const char *churn_fetch_info_get_fetched_at(const churn_fetch_info *info);

#if defined(__GNUC__)
/** For __attribute__((cleanup(churn_fetch_info_freep))). @since 0.1 */
static inline void churn_fetch_info_freep(churn_fetch_info **info)
{
	churn_fetch_info_free(*info);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHURN_FETCH_H */
