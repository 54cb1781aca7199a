/*
 * Internal core helpers shared by every module (ch_ prefix, never exported):
 * error detail, strings, locale-independent numbers, atomic files.
 */
#ifndef CH_CORE_PRIVATE_H
#define CH_CORE_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "churn/common.h"

/* Set the thread-local detail and return st. Usage: return ch_fail(CHURN_E_PARSE, "%s:%zu: ...", ...); */
churn_status ch_fail(churn_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current detail with "what: " (keeps st). */
churn_status ch_fail_prefix(churn_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the thread-local detail (called on entry of public functions that succeed). */
void ch_clear_error(void);

char *ch_strdup(const char *s);
char *ch_strndup(const char *s, size_t n);
/* Split "a, b,c" into trimmed, non-empty owned names (*out NULL when none; free each and the array). */
churn_status ch_list_split(const char *spec, char ***out, size_t *out_n);
/* printf into a fresh malloc'd string; NULL on OOM. */
char *ch_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list (ap is consumed). */
char *ch_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Locale-independent number parsing of exactly [s, s+n): optional sign,
 * digits, optional '.', digits, optional exponent. No surrounding spaces, no
 * hex, no inf/nan. Correctly rounded. Returns false when it is not a number.
 */
bool ch_parse_double(const char *s, size_t n, double *out);
/* Decimal integer, optional sign, whole string. */
bool ch_parse_int64(const char *s, int64_t *out);
/* Round-trip exact text for a double ("%.17g" with '.' whatever the locale); buf >= 32. */
void ch_format_double(char *buf, size_t cap, double v);
/* Shortest text that reads back to the same double (tries %.15g..%.17g). */
void ch_format_double_short(char *buf, size_t cap, double v);
/* The same text without printf for most doubles; false (buf unspecified) when it cannot tell (dtoa.c). cap >= 32. */
bool ch_dtoa_short(double v, char *buf, size_t cap);
/* JSON text of item as cJSON_Print (formatted) or cJSON_PrintUnformatted would lay it out, numbers
 * printed faster (json-print.c); malloc'd, NULL on OOM or an unprintable item. */
struct cJSON;
char *ch_json_print(const struct cJSON *item, bool formatted);

/*
 * Reading JSON (json-read.c). Every document the library reads goes through
 * ch_json_scan() before cJSON's recursive parser: nesting deeper than
 * lim->max_depth, invalid UTF-8 and NUL bytes are CHURN_E_PARSE ("WHAT: byte
 * N: ..."); with lim->max_elements, a top-level array of more elements is
 * CHURN_E_LIMIT, found while counting (nothing is built). *out_top_count
 * (optional) is the number of elements of a top-level array, 1 otherwise.
 */
#define CH_JSON_MAX_DEPTH 64 /* documents the library writes nest 6 levels at most */
typedef struct ch_json_limits {
	int max_depth;
	size_t max_elements; /* 0: no limit */
} ch_json_limits;
churn_status ch_json_scan(const char *text, size_t len, const ch_json_limits *lim, const char *what,
                          size_t *out_top_count);
/*
 * Read "<dir>/<rel>" (at most @p max bytes: CHURN_E_LIMIT) and check that it
 * is one JSON document: the text, NUL-terminated, in *out (free). NOTFOUND,
 * IO, PARSE, LIMIT, NOMEM. The public churn_workdir_read_json() reads through
 * a handle; this serves readers of a pinned generation (report.c, pipeline.c).
 */
churn_status ch_json_read_file(const char *dir, const char *rel, size_t max, char **out, size_t *out_n);
/* cJSON_ParseWithLength after ch_json_scan with CH_JSON_MAX_DEPTH; NULL with the detail set (and *out_st). */
struct cJSON *ch_json_parse(const char *text, size_t len, const char *what, churn_status *out_st);
/* As ch_json_parse of a NUL-terminated text; NULL text gives NULL. */
struct cJSON *ch_json_parse_str(const char *text, const char *what);

/* ISO 8601 UTC time "2026-11-26T12:00:00Z" of t (seconds since epoch); buf >= 21. */
void ch_format_time_utc(char *buf, size_t cap, int64_t t);

/*
 * Atomic file replacement: write to a temp file in the target's directory,
 * then ch_atomic_commit() flushes, fsyncs and renames over the target (and
 * fsyncs the directory). ch_atomic_abort() removes the temp file. A failure
 * never touches the previous file at path.
 */
typedef struct ch_atomic {
	char *path;
	char *tmp;
	FILE *fp;
} ch_atomic;
churn_status ch_atomic_open(ch_atomic *a, const char *path);
churn_status ch_atomic_commit(ch_atomic *a);
void ch_atomic_abort(ch_atomic *a);
churn_status ch_write_file_atomic(const char *path, const void *data, size_t n);

/*
 * Batch durability for a caller that writes many files and then makes them
 * durable at once (a pipeline's generation): while deferred on this thread,
 * ch_atomic_commit() renames without fsync; the caller then calls
 * ch_sync_fs_of() once (the commit, generation.c). Atomicity for readers is
 * unchanged (rename).
 */
void ch_set_defer_fsync(bool on);
/* syncfs() of the file system holding @p dir (falls back to sync()). */
void ch_sync_fs_of(const char *dir);

/* mkdir -p (0755). */
churn_status ch_mkdir_p(const char *path);
/* Read a whole file (NUL-terminated, *out_n excludes the NUL); CHURN_E_LIMIT past max bytes. */
churn_status ch_read_file(const char *path, size_t max, char **out, size_t *out_n);

/* SHA-256 of a file or buffer as 64 lowercase hex chars + NUL (hex >= 65). */
churn_status ch_sha256_file(const char *path, char hex[65]);
void ch_sha256_buf(const void *data, size_t n, char hex[65]);
/* HMAC-SHA256 (RFC 2104) of [data, data+n) with the key [key, key+key_n), as 64 lowercase hex chars + NUL. */
void ch_hmac_sha256_hex(const void *key, size_t key_n, const void *data, size_t n, char hex[65]);

/* The value of hex digit c, -1 when it is none (the %-escapes of URLs: fetch.c, pg.c). */
static inline int ch_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A function of a library loaded on first use: where its address goes, and its name. */
typedef struct ch_dl_sym {
	void **slot;
	const char *name;
} ch_dl_sym;
/*
 * dlopen @p soname (RTLD_NOW | RTLD_LOCAL; never closed: libcurl and libpq
 * are loaded by the first call that needs them) and resolve @p syms; false
 * with the reason in @p err (what could not be loaded or found).
 */
bool ch_dl_load(const char *soname, const ch_dl_sym *syms, size_t nsyms, char *err, size_t errsize);

#endif
