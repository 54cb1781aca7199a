/*
 * churn-httpd's request handling, apart from the socket I/O (server.c):
 * api_handle() maps one request to one response, so tests call it directly.
 * Everything read from the workdir goes through libchurn (<churn.h>).
 */
#ifndef CHURN_HTTPD_API_H
#define CHURN_HTTPD_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <churn.h>

typedef struct api_request {
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* decoded path, no query */
	const char *query;         /* raw query string or NULL */
	const char *body;          /* request body (POST) */
	size_t body_len;
	long long content_length;  /* -1 when absent */
	const char *authorization; /* Authorization header or NULL */
	const char *cookie;        /* Cookie header or NULL */
	const char *host;          /* Host header or NULL */
	const char *origin;        /* Origin header or NULL */
	const char *acr_method;    /* Access-Control-Request-Method (a CORS preflight) or NULL */
} api_request;

/* A shared, immutable response body with a reference count. */
typedef struct api_blob {
	char *data;
	size_t len;
	int refs; /* guarded by the cache lock */
} api_blob;

typedef struct api_response {
	int status;
	const char *content_type;
	char *body;            /* owned, or NULL */
	size_t body_len;
	api_blob *blob;        /* shared cached body (release with api_response_clear) */
	char *file_path;       /* stream this file as the body, when set */
	const char *allow;     /* Allow header for 405 and OPTIONS */
	bool no_store;         /* Cache-Control: no-store */
	bool close;            /* Connection: close, and the connection is closed after the answer */
	bool preflight;        /* a CORS preflight answer: the Access-Control-Allow-Methods/-Headers too */
	const char *cors_origin; /* Access-Control-Allow-Origin (an allowed origin of the request) or NULL */
	const char *www_authenticate; /* WWW-Authenticate for 401 */
	char *set_cookie;      /* Set-Cookie value (owned) or NULL */
	const char *location;  /* Location for 303 */
} api_response;

/* A file's identity for change detection: a rewrite replaces the inode. */
typedef struct api_stamp {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	int64_t size;
	bool exists;
} api_stamp;

#define API_NCACHE 8
#define API_NKINDS 3  /* slots 0..2: artifacts/models/<kind>.json (?model=logreg|gbm|forest) */
#define API_NMODELS 8 /* slots 3..7: registry versions (the champion, ?model=gbm@v3), reused oldest first */

/* A loaded model and the number of requests using it (guarded by the ctx lock). */
typedef struct api_model_ref {
	churn_scorer *scorer;
	int refs;
} api_model_ref;

typedef struct api_model_slot {
	char key[48];   /* "gbm" or "gbm@v3" ("" while free) */
	char rel[160];  /* its file, relative to the workdir */
	api_stamp stamp;
	api_model_ref *current; /* the latest model, or NULL; a replaced one is freed by its last user */
	bool loading;
} api_model_slot;

/* The Cox artifact's value scorer (artifacts/models/cox.json) and its users (guarded by the ctx lock). */
typedef struct api_value_ref {
	churn_value_scorer *scorer;
	int refs;
} api_value_ref;

typedef struct api_ctx {
	const char *workdir;
	const char *workdir_name; /* its base name: what clients are told */
	const char *token;     /* every request but /api/health needs it (bearer or cookie), or NULL */
	const char *const *allowed_hosts; /* Host names accepted besides localhost and IP literals */
	size_t nallowed_hosts;
	const char *listen_host; /* the bound address as text ("127.0.0.1", "::1"); NULL: every address */
	const char *const *cors_origins; /* origins that get CORS headers (exact match) */
	size_t ncors_origins;
	size_t max_body;       /* bytes; larger bodies get 413 */
	size_t max_records;    /* records per predict request */
	pthread_mutex_t lock;  /* guards caches and model slots */
	struct {
		const char *key;   /* "metrics", "details", "artifacts", ... */
		api_stamp stamps[6];
		api_blob *blob;
	} cache[API_NCACHE];
	api_model_slot models[API_NMODELS];
	api_stamp value_stamp[2]; /* artifacts/models/cox.json, reports/metrics.json */
	api_value_ref *value;  /* /api/predict's "survival"; a replaced one is freed by its last user */
	unsigned next_slot;    /* the version slot a new version takes next (round robin) */
	const char *dashboard; /* embedded assets */
	size_t dashboard_len;
	const char *openapi;
	size_t openapi_len;
} api_ctx;

int api_ctx_init(api_ctx *ctx, const char *workdir);
void api_ctx_destroy(api_ctx *ctx);

void api_handle(api_ctx *ctx, const api_request *rq, api_response *rs);
void api_response_clear(api_ctx *ctx, api_response *rs);

/* Constant-time comparison of a secret with a given value: the time depends on the given length only. */
bool api_secret_equal(const char *secret, const char *given, size_t given_len);

/* Is @p host (a Host header: name or IP literal, optional port) one this server answers to? */
bool api_host_allowed(const api_ctx *ctx, const char *host);

/* HTTP status for a libchurn status (the one table). */
int api_http_status(churn_status st);

#endif
