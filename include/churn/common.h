/*
 * libchurn: common definitions: export macros, status codes, error detail,
 * memory release and logging.
 *
 * Thread safety: libchurn keeps no mutable global state: no global hooks,
 * log/print functions, locale changes or static caches; error detail is
 * thread-local. Distinct objects may be used from different threads
 * concurrently. One object may be shared between threads only while every
 * call takes it as const (predict, metrics, getters, save). Calls taking a
 * non-const pointer (fit, set, transform, free) need exclusive access.
 * libchurn does no locking of caller objects. (The one internal lock guards
 * plplot, whose own state is global; see churn/eda.h.)
 */
#ifndef CHURN_COMMON_H
#define CHURN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(CHURN_BUILDING)
#    define CHURN_API __declspec(dllexport)
#  else
#    define CHURN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define CHURN_API __attribute__((visibility("default")))
#else
#  define CHURN_API
#endif

#if defined(__GNUC__)
#  define CHURN_NODISCARD __attribute__((warn_unused_result))
#  define CHURN_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#  define CHURN_NODISCARD
#  define CHURN_DEPRECATED(msg)
#endif

/**
 * Result of every fallible call. Values are explicit and only ever appended.
 * @since 0.1
 */
typedef enum churn_status {
	CHURN_OK = 0,
	CHURN_E_NOMEM = 1,        /**< out of memory */
	CHURN_E_INVALID_ARG = 2,  /**< caller mistake: bad argument, unknown key */
	CHURN_E_IO = 3,           /**< read/write failure */
	CHURN_E_PARSE = 4,        /**< malformed input (CSV, JSON) */
	CHURN_E_STATE = 5,        /**< wrong object state (predict before fit) */
	CHURN_E_NUMERIC = 6,      /**< NaN/Inf, zero variance, non-convergence */
	CHURN_E_UNSUPPORTED = 7,  /**< feature not available */
	CHURN_E_FORMAT = 8,       /**< unknown, newer or wrong-kind file format */
	CHURN_E_LIMIT = 9,        /**< a configured limit was exceeded */
	CHURN_E_INTERNAL = 10,    /**< a bug in libchurn */
	CHURN_E_NETWORK = 11,     /**< source unreachable, HTTP error status */
	CHURN_E_BUSY = 12,        /**< workdir lock held by another run */
	CHURN_E_NOTFOUND = 13,    /**< input file or column does not exist */
	CHURN_E_CREATE = 14       /**< output cannot be created */
} churn_status;

/**
 * Static English message for a status; never NULL.
 * Thread-safe. @since 0.1
 */
CHURN_API const char *churn_strerror(churn_status st);

/**
 * Detail of the last failure on the calling thread, e.g.
 * "data.csv:17:4: unterminated quoted field". Valid until the next libchurn
 * call on this thread; never NULL (may be ""). Do not free. @since 0.1
 */
CHURN_API const char *churn_last_error(void);

/**
 * Release memory that libchurn handed to the caller (strings, arrays).
 * NULL is a no-op. @since 0.1
 */
CHURN_API void churn_free(void *p);

/** Log levels for churn_log_fn. @since 0.1 */
typedef enum churn_log_level {
	CHURN_LOG_ERROR = 0,
	CHURN_LOG_WARN = 1,
	CHURN_LOG_INFO = 2,
	CHURN_LOG_DEBUG = 3
} churn_log_level;

/**
 * Log callback, installed per call through churn_params_set_log(). Runs on
 * the calling thread. @p msg is one line without a trailing newline and is
 * valid only during the call. @since 0.1
 */
typedef void (*churn_log_fn)(void *userdata, churn_log_level level, const char *msg);

/**
 * Progress callback: @p done of @p total units (bytes, rows, trees) for the
 * step @p what. Return false to cancel (the call then fails with
 * CHURN_E_STATE). Runs on the calling thread. @since 0.1
 */
typedef bool (*churn_progress_fn)(void *userdata, const char *what, uint64_t done, uint64_t total);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_COMMON_H */
