/* churn-httpd request handlers: routing, caches, model reloads, errors. */
#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static const char *const JSON_TYPE = "application/json; charset=utf-8";

int api_http_status(churn_status st)
{
	switch (st) {
	case CHURN_OK: return 200;
	case CHURN_E_INVALID_ARG:
	case CHURN_E_PARSE:
	case CHURN_E_FORMAT: return 400;
	case CHURN_E_STATE: return 409;
	case CHURN_E_LIMIT: return 413;
	case CHURN_E_UNSUPPORTED: return 501;
	case CHURN_E_NOTFOUND: return 404;
	default: return 500;
	}
}

int api_ctx_init(api_ctx *ctx, const char *workdir)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->workdir = workdir;
	const char *slash = strrchr(workdir, '/');
	while (slash && slash[1] == '\0' && slash > workdir) { /* "dir/" */
		const char *p = slash - 1;
		while (p > workdir && *p != '/')
			p--;
		slash = *p == '/' ? p : NULL;
	}
	ctx->workdir_name = slash ? slash + 1 : workdir;
	ctx->max_body = 1u << 20;
	ctx->max_records = 10000;
	return pthread_mutex_init(&ctx->lock, NULL);
}

static void blob_release_locked(api_blob *b)
{
	if (b && --b->refs == 0) {
		churn_free(b->data);
		free(b);
	}
}

void api_ctx_destroy(api_ctx *ctx)
{
	for (size_t i = 0; i < API_NCACHE; i++)
		blob_release_locked(ctx->cache[i].blob);
	for (size_t i = 0; i < API_NMODELS; i++) {
		if (ctx->models[i].current) {
			churn_scorer_free(ctx->models[i].current->scorer);
			free(ctx->models[i].current);
		}
	}
	if (ctx->value) {
		churn_value_scorer_free(ctx->value->scorer);
		free(ctx->value);
	}
	pthread_mutex_destroy(&ctx->lock);
}

void api_response_clear(api_ctx *ctx, api_response *rs)
{
	free(rs->body);
	free(rs->file_path);
	free(rs->set_cookie);
	if (rs->blob) {
		pthread_mutex_lock(&ctx->lock);
		blob_release_locked(rs->blob);
		pthread_mutex_unlock(&ctx->lock);
	}
	memset(rs, 0, sizeof(*rs));
}

/* ---- responses ---- */

static void json_escape_into(char *dst, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
}

static void respond_error(api_response *rs, int status, const char *msg)
{
	char esc[1200];
	json_escape_into(esc, sizeof(esc), msg);
	size_t cap = strlen(esc) + 32;
	rs->status = status;
	rs->content_type = JSON_TYPE;
	rs->no_store = true;
	free(rs->body);
	if ((rs->body = malloc(cap)))
		rs->body_len = (size_t)snprintf(rs->body, cap, "{\"error\": \"%s\"}", esc);
}

static void respond_owned(api_response *rs, int status, const char *type, char *body)
{
	rs->status = status;
	rs->content_type = type;
	rs->body = body;
	rs->body_len = body ? strlen(body) : 0;
	rs->no_store = true;
}

/* ---- change detection and the cache ---- */

static void stamp_of(const char *workdir, const char *rel, api_stamp *out)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", workdir, rel);
	struct stat sb;
	memset(out, 0, sizeof(*out));
	if (stat(path, &sb) != 0)
		return;
	out->exists = true;
	out->dev = sb.st_dev;
	out->ino = sb.st_ino;
	out->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	out->size = (int64_t)sb.st_size;
}

static bool stamps_equal(const api_stamp *a, const api_stamp *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].exists != b[i].exists || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
		    a[i].mtime_ns != b[i].mtime_ns || a[i].size != b[i].size)
			return false;
	return true;
}

typedef churn_status (*builder_fn)(const char *workdir, char **out);

static churn_status build_metrics(const char *wd, char **out)
{
	return churn_report_metrics_json(wd, out);
}

static churn_status build_drift(const char *wd, char **out)
{
	return churn_report_drift_json(wd, out);
}

static churn_status build_details(const char *wd, char **out)
{
	return churn_report_details_json(wd, out);
}

static churn_status build_artifacts(const char *wd, char **out)
{
	return churn_report_artifacts_json(wd, out);
}

static churn_status build_models(const char *wd, char **out)
{
	return churn_registry_json(wd, out);
}

/*
 * The cached document @p key, rebuilt when any of the files @p rels changed.
 * On success *out holds a reference (released by api_response_clear).
 */
static churn_status cached(api_ctx *ctx, const char *key, const char *const *rels, size_t nrels, builder_fn build,
                           api_blob **out)
{
	api_stamp now[6];
	for (size_t i = 0; i < nrels && i < 6; i++)
		stamp_of(ctx->workdir, rels[i], &now[i]);
	pthread_mutex_lock(&ctx->lock);
	size_t slot = API_NCACHE;
	for (size_t i = 0; i < API_NCACHE; i++) {
		if (ctx->cache[i].key && !strcmp(ctx->cache[i].key, key)) {
			slot = i;
			break;
		}
		if (!ctx->cache[i].key && slot == API_NCACHE)
			slot = i;
	}
	if (slot < API_NCACHE && ctx->cache[slot].key && ctx->cache[slot].blob &&
	    stamps_equal(ctx->cache[slot].stamps, now, nrels)) {
		api_blob *b = ctx->cache[slot].blob;
		b->refs++;
		pthread_mutex_unlock(&ctx->lock);
		*out = b;
		return CHURN_OK;
	}
	pthread_mutex_unlock(&ctx->lock);

	char *text = NULL;
	churn_status st = build(ctx->workdir, &text);
	if (st)
		return st;
	api_blob *b = malloc(sizeof(*b));
	if (!b) {
		churn_free(text);
		return CHURN_E_NOMEM;
	}
	b->data = text;
	b->len = strlen(text);
	b->refs = 1;
	pthread_mutex_lock(&ctx->lock);
	if (slot < API_NCACHE) {
		blob_release_locked(ctx->cache[slot].blob);
		ctx->cache[slot].key = key;
		memcpy(ctx->cache[slot].stamps, now, nrels * sizeof(api_stamp));
		ctx->cache[slot].blob = b;
		b->refs++;
	}
	pthread_mutex_unlock(&ctx->lock);
	*out = b;
	return CHURN_OK;
}

static void respond_cached(api_ctx *ctx, api_response *rs, const char *key, const char *const *rels, size_t nrels,
                           builder_fn build)
{
	api_blob *b = NULL;
	churn_status st = cached(ctx, key, rels, nrels, build, &b);
	if (st == CHURN_E_NOTFOUND) {
		char msg[1100];
		snprintf(msg, sizeof(msg), "no completed run yet: run `churn run` in the workdir %s", ctx->workdir_name);
		respond_error(rs, 503, msg);
		return;
	}
	if (st) {
		fprintf(stderr, "churn-httpd: %s: %s\n", key, churn_last_error());
		respond_error(rs, 500, "the report could not be read; see the server log");
		return;
	}
	rs->status = 200;
	rs->content_type = JSON_TYPE;
	rs->blob = b;
	rs->no_store = true;
}

/* ---- models ---- */

static int model_index(const char *name)
{
	static const char *const names[API_NKINDS] = {"logreg", "gbm", "forest"};
	for (int i = 0; i < API_NKINDS; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* Drop one reference to @p r (lock held); the last user of a replaced model frees it. */
static void model_unref_locked(api_model_slot *s, api_model_ref *r)
{
	if (--r->refs == 0 && r != s->current) {
		churn_scorer_free(r->scorer);
		free(r);
	}
}

/*
 * The slot of model @p key (lock held): a kind's own slot, the version's
 * slot, or a version slot taken over (oldest first; not one being loaded:
 * its model is dropped, freed by its last user). -1 when every version slot
 * is loading.
 */
static int model_slot_locked(api_ctx *ctx, const char *key, const char *rel)
{
	int i = model_index(key);
	if (i < 0) {
		for (int k = API_NKINDS; k < API_NMODELS && i < 0; k++)
			if (!strcmp(ctx->models[k].key, key))
				i = k;
		for (int n = 0; i < 0 && n < API_NMODELS - API_NKINDS; n++) {
			int k = API_NKINDS + (int)(ctx->next_slot++ % (API_NMODELS - API_NKINDS));
			api_model_slot *s = &ctx->models[k];
			if (s->loading)
				continue;
			api_model_ref *old = s->current;
			s->current = NULL;
			if (old)
				model_unref_locked(s, old);
			memset(&s->stamp, 0, sizeof(s->stamp));
			i = k;
		}
	}
	if (i >= 0) {
		snprintf(ctx->models[i].key, sizeof(ctx->models[i].key), "%s", key);
		snprintf(ctx->models[i].rel, sizeof(ctx->models[i].rel), "%s", rel);
	}
	return i;
}

/* A scorer of "<workdir>/<rel>" (NULL with *st set; logged). */
static churn_scorer *model_load(api_ctx *ctx, const char *rel, churn_status *st)
{
	char *path = malloc(strlen(ctx->workdir) + strlen(rel) + 2);
	churn_scorer *sc = NULL;
	*st = CHURN_E_NOMEM;
	if (path) {
		sprintf(path, "%s/%s", ctx->workdir, rel);
		if ((*st = churn_scorer_load_file(path, &sc)))
			fprintf(stderr, "churn-httpd: cannot load %s: %s\n", path, churn_last_error());
	}
	free(path);
	return sc;
}

/*
 * Model @p key (a kind, or a registry version "gbm@v3") from @p rel with a
 * reference held (release with model_release on *out_slot), reloaded first
 * when its file changed; NULL with *st set when unavailable. A request that
 * finds its model being loaded by another loads its own copy.
 */
static api_model_ref *model_acquire(api_ctx *ctx, const char *key, const char *rel, int *out_slot, churn_status *st)
{
	api_stamp now;
	stamp_of(ctx->workdir, rel, &now);
	pthread_mutex_lock(&ctx->lock);
	int i = model_slot_locked(ctx, key, rel);
	api_model_slot *s = i >= 0 ? &ctx->models[i] : NULL;
	bool fresh = s && s->current && stamps_equal(&s->stamp, &now, 1), reloaded = false, own = !s || s->loading;
	if (!fresh && now.exists && (own ? !(s && s->current) : true)) {
		reloaded = true;
		/* This request reloads; concurrent ones keep using the previous model meanwhile. */
		if (!own)
			s->loading = true;
		pthread_mutex_unlock(&ctx->lock);
		churn_status lst = CHURN_OK;
		churn_scorer *nsc = model_load(ctx, rel, &lst);
		api_model_ref *nr = nsc ? malloc(sizeof(*nr)) : NULL;
		pthread_mutex_lock(&ctx->lock);
		if (!own)
			s->loading = false;
		if (nsc && nr) {
			nr->scorer = nsc;
			if (own || strcmp(s->key, key) != 0) {
				/* a copy of our own (freed on release: it is no slot's current model) */
				nr->refs = 1;
				pthread_mutex_unlock(&ctx->lock);
				*out_slot = i >= 0 ? i : 0;
				return nr;
			}
			nr->refs = 1; /* the slot's own reference */
			api_model_ref *old = s->current;
			s->current = nr;
			s->stamp = now;
			if (old)
				model_unref_locked(s, old);
		} else {
			churn_scorer_free(nsc);
			free(nr);
			if (!s || !s->current)
				*st = lst ? lst : CHURN_E_NOMEM;
		}
	}
	api_model_ref *r = s ? s->current : NULL;
	if (r)
		r->refs++;
	else if (!*st)
		*st = CHURN_E_NOTFOUND;
	*out_slot = i >= 0 ? i : 0;
	pthread_mutex_unlock(&ctx->lock);
#if defined(__GLIBC__)
	/*
	 * A model load spreads allocations over the worker's malloc arena; with
	 * many workers, the freed models' pages stay in their arenas and the RSS
	 * creeps up with every reload. Reloads are rare: give the pages back.
	 */
	if (reloaded)
		malloc_trim(0);
#endif
	return r;
}

static void model_release(api_ctx *ctx, int i, api_model_ref *r)
{
	pthread_mutex_lock(&ctx->lock);
	model_unref_locked(&ctx->models[i], r);
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- handlers ---- */

static bool query_param(const char *query, const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name);
	for (const char *q = query; q && *q;) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len > n && !strncmp(q, name, n) && q[n] == '=') {
			size_t vlen = len - n - 1;
			if (vlen >= cap)
				vlen = cap - 1;
			memcpy(buf, q + n + 1, vlen);
			buf[vlen] = '\0';
			return true;
		}
		q = amp ? amp + 1 : NULL;
	}
	return false;
}

bool api_secret_equal(const char *secret, const char *given, size_t given_len)
{
	/* Every byte of the given value is compared with the secret repeated: the time never depends on the secret. */
	size_t n = strlen(secret);
	if (n == 0)
		return false;
	unsigned diff = given_len != n;
	for (size_t i = 0; i < given_len; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)secret[i % n];
	return diff == 0;
}

/* The value of cookie @p name in a Cookie header (not NUL-terminated: *len), or NULL. */
static const char *cookie_value(const char *cookies, const char *name, size_t *len)
{
	size_t n = strlen(name);
	for (const char *c = cookies; c && *c;) {
		while (*c == ' ' || *c == ';')
			c++;
		size_t l = strcspn(c, ";");
		if (l > n && !strncmp(c, name, n) && c[n] == '=') {
			*len = l - n - 1;
			return c + n + 1;
		}
		c += l;
	}
	return NULL;
}

#define TOKEN_COOKIE "churn_token"

static bool token_ok(const api_ctx *ctx, const api_request *rq)
{
	if (!ctx->token)
		return true;
	static const char prefix[] = "Bearer ";
	const char *auth = rq->authorization;
	if (auth && !strncasecmp(auth, prefix, sizeof(prefix) - 1)) {
		const char *given = auth + sizeof(prefix) - 1;
		return api_secret_equal(ctx->token, given, strlen(given));
	}
	size_t len = 0;
	const char *c = cookie_value(rq->cookie, TOKEN_COOKIE, &len);
	return c && api_secret_equal(ctx->token, c, len);
}

bool api_host_allowed(const api_ctx *ctx, const char *host)
{
	if (!host)
		return true; /* HTTP/1.0 without Host: not a browser, nothing to rebind */
	char name[256];
	size_t n;
	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return false;
		n = (size_t)(end - host - 1);
		host++;
	} else {
		const char *colon = strchr(host, ':');
		n = colon ? (size_t)(colon - host) : strlen(host);
		if (colon && strchr(colon + 1, ':'))
			return false;
	}
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (n > 1 && name[n - 1] == '.') /* "localhost." */
		name[--n] = '\0';
	if (!strcasecmp(name, "localhost"))
		return true;
	unsigned char addr[16];
	bool literal = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
	if (literal) {
		/*
		 * A page can only be at an IP literal by being at that address: a
		 * rebinding attack needs a name. Bound to one address, only that one.
		 */
		return !ctx->listen_host || !strcasecmp(name, ctx->listen_host);
	}
	for (size_t i = 0; i < ctx->nallowed_hosts; i++)
		if (!strcasecmp(name, ctx->allowed_hosts[i]))
			return true;
	return false;
}

static const char *allowed_origin(const api_ctx *ctx, const char *origin)
{
	for (size_t i = 0; origin && i < ctx->ncors_origins; i++)
		if (!strcmp(origin, ctx->cors_origins[i]))
			return ctx->cors_origins[i];
	return NULL;
}

/* ---- the login page (a token is set and the browser has no cookie yet) ---- */

static const char LOGIN_PAGE[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>libchurn: sign in</title><style>"
    "body{font:16px system-ui,sans-serif;background:#f4f6f8;color:#1d2733;display:flex;justify-content:center;"
    "align-items:center;min-height:90vh;margin:0}"
    "form{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12);min-width:18rem}"
    "h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin-bottom:.4rem}"
    "input{width:100%%;box-sizing:border-box;padding:.5rem;font:inherit;margin-bottom:1rem}"
    "button{padding:.5rem 1.2rem;font:inherit;background:#1f5f99;color:#fff;border:0;border-radius:4px}"
    ".err{color:#a12622;margin:0 0 1rem}</style></head><body>"
    "<form method=\"post\" action=\"/login\"><h1>libchurn dashboard</h1>%s"
    "<label for=\"token\">Access token</label>"
    "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" autofocus required>"
    "<button type=\"submit\">Sign in</button></form></body></html>\n";

static void respond_login(api_response *rs, bool wrong)
{
	const char *msg = wrong ? "<p class=\"err\" id=\"login-error\">That token is not right.</p>" : "";
	size_t cap = sizeof(LOGIN_PAGE) + strlen(msg);
	char *body = malloc(cap);
	if (body)
		snprintf(body, cap, LOGIN_PAGE, msg);
	respond_owned(rs, 401, "text/html; charset=utf-8", body);
	rs->www_authenticate = "Bearer realm=\"churn-httpd\"";
}

/* Decode one application/x-www-form-urlencoded value in place; false on a bad escape. */
static bool form_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%') {
			int v = 0;
			for (int k = 1; k <= 2; k++) {
				char c = s[k];
				int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
				        : (c >= 'A' && c <= 'F')                ? c - 'A' + 10 : -1;
				if (d < 0)
					return false;
				v = v * 16 + d;
			}
			if (v == 0)
				return false;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return true;
}

/* A token offered by the login form or a ?token= link: the cookie and a redirect to the dashboard, or the form again. */
static void handle_login(api_ctx *ctx, const char *given, api_response *rs)
{
	if (!ctx->token || !api_secret_equal(ctx->token, given, strlen(given))) {
		respond_login(rs, true);
		return;
	}
	rs->status = 303;
	rs->content_type = "application/json; charset=utf-8";
	rs->body = strdup("{\"status\": \"signed in\"}");
	rs->body_len = rs->body ? strlen(rs->body) : 0;
	rs->location = "/";
	rs->no_store = true;
	rs->set_cookie = malloc(strlen(ctx->token) + 64);
	if (rs->set_cookie)
		sprintf(rs->set_cookie, TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", ctx->token);
}

static void handle_health(api_ctx *ctx, api_response *rs)
{
	char *body = malloc(256);
	if (body)
		snprintf(body, 256, "{\"status\":\"ok\",\"name\":\"churn-httpd\",\"version\":\"%s\"}", churn_version());
	respond_owned(rs, 200, JSON_TYPE, body);
	(void)ctx;
}

/* ?limit=N (1..100000) into *limit; false (400 sent) when it is malformed. */
static bool limit_param(const api_request *rq, api_response *rs, size_t *limit)
{
	char buf[32];
	if (!query_param(rq->query, "limit", buf, sizeof(buf)))
		return true;
	char *end;
	errno = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (!buf[0] || *end || errno || v == 0 || v > 100000 || buf[0] == '-') {
		respond_error(rs, 400, "limit must be a positive integer");
		return false;
	}
	*limit = v;
	return true;
}

static void handle_model_runs(api_ctx *ctx, const api_request *rq, api_response *rs)
{
	size_t limit = 20;
	if (!limit_param(rq, rs, &limit))
		return;
	char *json = NULL;
	churn_status st = churn_report_records_json(ctx->workdir, "reports/model_run_metadata.json", limit, &json);
	if (st == CHURN_E_NOTFOUND) {
		char msg[600];
		snprintf(msg, sizeof(msg), "no model run yet: run `churn ml` in the workdir %s", ctx->workdir_name);
		respond_error(rs, 503, msg);
		return;
	}
	if (st) {
		fprintf(stderr, "churn-httpd: model-runs: %s\n", churn_last_error());
		respond_error(rs, 500, "the model run records could not be read; see the server log");
		return;
	}
	respond_owned(rs, 200, JSON_TYPE, json);
}

/* GET /api/retention?limit=N (1-1000, default 50): the top of the retention list with its summary and curve. */
static void handle_retention(api_ctx *ctx, const api_request *rq, api_response *rs)
{
	char buf[32];
	size_t limit = 50;
	if (query_param(rq->query, "limit", buf, sizeof(buf))) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(buf, &end, 10);
		if (!buf[0] || *end || errno || v == 0 || v > CHURN_RETENTION_JSON_MAX || buf[0] == '-') {
			respond_error(rs, 400, "limit must be an integer from 1 to 1000");
			return;
		}
		limit = v;
	}
	char *json = NULL;
	churn_status st = churn_report_retention_json(ctx->workdir, limit, &json);
	if (st == CHURN_E_NOTFOUND) {
		char msg[700];
		snprintf(msg, sizeof(msg), "no retention list yet: run `churn ml` with cox in pipeline.models in the workdir %s",
		         ctx->workdir_name);
		respond_error(rs, 503, msg);
		return;
	}
	if (st) {
		fprintf(stderr, "churn-httpd: retention: %s\n", churn_last_error());
		respond_error(rs, 500, "the retention list could not be read; see the server log");
		return;
	}
	respond_owned(rs, 200, JSON_TYPE, json);
}

/* reports/alerts.json, the last ?limit=N (all by default), {"alerts": []} before any fired. */
static void handle_alerts(api_ctx *ctx, const api_request *rq, api_response *rs)
{
	size_t limit = 0;
	if (!limit_param(rq, rs, &limit))
		return;
	char *json = NULL;
	if (churn_alerts_json(ctx->workdir, limit, &json)) {
		fprintf(stderr, "churn-httpd: alerts: %s\n", churn_last_error());
		respond_error(rs, 500, "the alerts could not be read; see the server log");
		return;
	}
	respond_owned(rs, 200, JSON_TYPE, json);
}

static void handle_file(api_ctx *ctx, const char *name, const char *kind, api_response *rs)
{
	char *path = NULL;
	churn_status st = churn_report_artifact_path(ctx->workdir, name, kind, &path);
	if (st) {
		respond_error(rs, 404, kind && !strcmp(kind, "figure") ? "no such figure" : "no such artifact");
		return;
	}
	rs->status = 200;
	rs->content_type = churn_report_content_type(name);
	rs->file_path = strdup(path);
	churn_free(path);
	if (!rs->file_path)
		respond_error(rs, 500, "out of memory");
}

static void value_unref_locked(api_ctx *ctx, api_value_ref *r)
{
	if (--r->refs == 0 && r != ctx->value) {
		churn_value_scorer_free(r->scorer);
		free(r);
	}
}

/* A new value scorer from the last training's artifacts/models/cox.json, or NULL (none, or logged). */
static api_value_ref *value_load(api_ctx *ctx)
{
	api_value_ref *r = calloc(1, sizeof(*r));
	churn_status st = r ? churn_report_value_scorer(ctx->workdir, &r->scorer) : CHURN_E_NOMEM;
	if (st && st != CHURN_E_NOTFOUND)
		fprintf(stderr, "churn-httpd: cannot load artifacts/models/cox.json: %s\n", churn_last_error());
	if (st) {
		free(r);
		return NULL;
	}
	return r;
}

/*
 * The current value scorer with a reference held (released by value_unref_locked), looked at again when cox.json
 * or metrics.json changed (a run without cox leaves the older cox.json: metrics.json says whose it is); NULL: none.
 */
static api_value_ref *value_acquire(api_ctx *ctx)
{
	api_stamp now[2];
	stamp_of(ctx->workdir, "artifacts/models/cox.json", &now[0]);
	stamp_of(ctx->workdir, "reports/metrics.json", &now[1]);
	if (!now[0].exists)
		return NULL; /* no Cox model in the published generation */
	pthread_mutex_lock(&ctx->lock);
	if (!stamps_equal(ctx->value_stamp, now, 2)) {
		pthread_mutex_unlock(&ctx->lock);
		api_value_ref *nr = value_load(ctx); /* concurrent loaders: the last one's stays */
		pthread_mutex_lock(&ctx->lock);
		if (nr)
			nr->refs = 1; /* the ctx's own reference */
		api_value_ref *old = ctx->value;
		ctx->value = nr; /* NULL: none for these files (not retried until they change) */
		memcpy(ctx->value_stamp, now, sizeof(now));
		if (old)
			value_unref_locked(ctx, old);
	}
	api_value_ref *r = ctx->value;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

/*
 * With a Cox model in the workdir (artifacts/models/cox.json, loaded once per version): each prediction gains
 * "survival" (months remaining, value; churn_value_scorer_annotate_json). A failure leaves the predictions as they
 * are and is logged.
 */
static char *add_survival(api_ctx *ctx, const api_request *rq, char *json)
{
	api_value_ref *r = value_acquire(ctx);
	char *out = NULL;
	if (!r)
		return json;
	if (churn_value_scorer_annotate_json(r->scorer, rq->body, rq->body_len, json, &out))
		fprintf(stderr, "churn-httpd: predict: no survival figures: %s\n", churn_last_error());
	pthread_mutex_lock(&ctx->lock);
	value_unref_locked(ctx, r);
	pthread_mutex_unlock(&ctx->lock);
	if (!out)
		return json;
	churn_free(json);
	return out;
}

/* The champion as "REF\tREL" (churn_registry_resolve), cached until the registry or metrics.json changes. */
static churn_status build_champion(const char *wd, char **out)
{
	char *rel = NULL, *ref = NULL;
	churn_status st = churn_registry_resolve(wd, NULL, &rel, &ref);
	if (!st && !(*out = malloc(strlen(ref) + strlen(rel) + 2)))
		st = CHURN_E_NOMEM;
	if (!st)
		sprintf(*out, "%s\t%s", ref, rel);
	churn_free(rel);
	churn_free(ref);
	return st;
}

/*
 * Which model a predict request names (?model=): a kind's file
 * (logreg|gbm|forest: artifacts/models/<kind>.json, as before the registry),
 * a registry version or alias (gbm@v3, champion, ...), or without ?model= the
 * champion. Fills key and rel (and version, "" for a kind); false after an
 * error response.
 */
static bool predict_model(api_ctx *ctx, const api_request *rq, api_response *rs, char *key, size_t keycap,
                          char *rel, size_t relcap, char *version, size_t vcap)
{
	char name[128];
	version[0] = '\0';
	if (query_param(rq->query, "model", name, sizeof(name))) {
		if (strlen(name) >= sizeof(name) - 1 || !form_decode(name)) {
			respond_error(rs, 400, "?model=: a model kind (logreg, gbm, forest), NAME@vN or champion, challenger, previous");
			return false;
		}
		if (model_index(name) >= 0) {
			snprintf(key, keycap, "%s", name);
			snprintf(rel, relcap, "artifacts/models/%s.json", name);
			return true;
		}
	}
	bool by_ref = query_param(rq->query, "model", name, sizeof(name)) && form_decode(name);
	char *r_rel = NULL, *r_ref = NULL;
	api_blob *champ = NULL;
	churn_status st;
	if (by_ref) {
		st = churn_registry_resolve(ctx->workdir, name, &r_rel, &r_ref);
	} else {
		static const char *const rels[] = {"artifacts/registry.json", "reports/metrics.json"};
		st = cached(ctx, "champion", rels, 2, build_champion, &champ);
	}
	if (st) {
		char msg[700];
		int code = st == CHURN_E_INVALID_ARG ? 400 : st == CHURN_E_NOTFOUND ? (by_ref ? 404 : 503) : 500;
		if (code == 400 || (code == 404 && by_ref))
			snprintf(msg, sizeof(msg), "%s", churn_last_error());
		else if (code == 503)
			snprintf(msg, sizeof(msg), "no trained model yet: run `churn run` in the workdir %s", ctx->workdir_name);
		else
			snprintf(msg, sizeof(msg), "the model registry cannot be read; see the server log");
		if (code == 500)
			fprintf(stderr, "churn-httpd: predict: %s\n", churn_last_error());
		respond_error(rs, code, msg);
		return false;
	}
	if (champ) {
		const char *tab = strchr(champ->data, '\t');
		snprintf(key, keycap, "%.*s", (int)(tab - champ->data), champ->data);
		snprintf(rel, relcap, "%s", tab + 1);
		pthread_mutex_lock(&ctx->lock);
		blob_release_locked(champ);
		pthread_mutex_unlock(&ctx->lock);
	} else {
		snprintf(key, keycap, "%s", r_ref);
		snprintf(rel, relcap, "%s", r_rel);
	}
	snprintf(version, vcap, "%s", key);
	churn_free(r_rel);
	churn_free(r_ref);
	return true;
}

/* The answer with "version" first when the model came from the registry: {"version": "gbm@v3", "model": ...}. */
static char *with_version(char *json, const char *version)
{
	if (!version[0] || json[0] != '{')
		return json;
	size_t n = strlen(json), extra = strlen(version) + 16;
	char *out = malloc(n + extra);
	if (!out)
		return json;
	snprintf(out, n + extra, "{\"version\":\"%s\",%s", version, json + 1);
	churn_free(json);
	return out;
}

static void handle_predict(api_ctx *ctx, const api_request *rq, api_response *rs)
{
	if (rq->body_len > ctx->max_body || (rq->content_length > 0 && (size_t)rq->content_length > ctx->max_body)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "request body over the limit of %zu bytes", ctx->max_body);
		respond_error(rs, 413, msg);
		return;
	}
	char key[48], rel[160], version[48];
	if (!predict_model(ctx, rq, rs, key, sizeof(key), rel, sizeof(rel), version, sizeof(version)))
		return;
	if (!rq->body || rq->body_len == 0) {
		respond_error(rs, 400, "empty request body: send a JSON object of customer columns, or an array of them");
		return;
	}
	churn_status st = CHURN_OK;
	int slot = 0;
	api_model_ref *sc = model_acquire(ctx, key, rel, &slot, &st);
	if (!sc) {
		char msg[700];
		if (st == CHURN_E_NOTFOUND)
			snprintf(msg, sizeof(msg), "no %s model yet: run `churn ml` in the workdir %s", key, ctx->workdir_name);
		else
			snprintf(msg, sizeof(msg), "the %s model cannot be loaded; see the server log", key);
		respond_error(rs, st == CHURN_E_NOTFOUND ? 503 : 500, msg);
		return;
	}
	char *json = NULL;
	st = churn_scorer_score_json(sc->scorer, rq->body, rq->body_len, 3, ctx->max_records, &json);
	char detail[1024];
	snprintf(detail, sizeof(detail), "%s", churn_last_error());
	model_release(ctx, slot, sc);
	if (st) {
		int code = api_http_status(st);
		if (code >= 500) {
			fprintf(stderr, "churn-httpd: predict: %s\n", detail);
			respond_error(rs, code, "scoring failed; see the server log");
		} else {
			respond_error(rs, code, detail);
		}
		return;
	}
	respond_owned(rs, 200, JSON_TYPE, with_version(add_survival(ctx, rq, json), version));
}

static bool method_is(const api_request *rq, const char *m)
{
	return rq->method && !strcmp(rq->method, m);
}

/* Host, CORS and token: true when the request may go on to its endpoint. */
static bool admit(api_ctx *ctx, const api_request *rq, const char *p, api_response *rs)
{
	if (!api_host_allowed(ctx, rq->host)) {
		respond_error(rs, 421, "this server does not answer to that Host name (see churn-httpd --allowed-host)");
		rs->close = true;
		return false;
	}
	rs->cors_origin = allowed_origin(ctx, rq->origin);
	if (method_is(rq, "OPTIONS")) {
		/* A CORS preflight carries no credentials: answered for allowed origins, GET and POST only. */
		respond_owned(rs, 204, JSON_TYPE, NULL);
		rs->allow = "GET, HEAD, POST, OPTIONS";
		rs->preflight = rs->cors_origin && rq->acr_method &&
		                (!strcmp(rq->acr_method, "GET") || !strcmp(rq->acr_method, "POST"));
		if (!rs->preflight)
			rs->cors_origin = NULL;
		return false;
	}
	if (!ctx->token || !strcmp(p, "/api/health") || token_ok(ctx, rq))
		return true;
	bool page = !strcmp(p, "/") || !strcmp(p, "/index.html");
	char given[512];
	if (page && (method_is(rq, "GET") || method_is(rq, "HEAD")) &&
	    query_param(rq->query, "token", given, sizeof(given))) {
		if (!form_decode(given))
			given[0] = '\0';
		handle_login(ctx, given, rs);
	} else if (!strcmp(p, "/login") && method_is(rq, "POST")) {
		char *form = rq->body ? strndup(rq->body, rq->body_len) : NULL;
		if (form && query_param(form, "token", given, sizeof(given)) && form_decode(given))
			handle_login(ctx, given, rs);
		else
			respond_login(rs, true);
		free(form);
	} else if (page) {
		respond_login(rs, false);
	} else {
		respond_error(rs, 401, "this server needs its token: send 'Authorization: Bearer TOKEN'");
		rs->www_authenticate = "Bearer realm=\"churn-httpd\"";
	}
	return false;
}

void api_handle(api_ctx *ctx, const api_request *rq, api_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	const char *p = rq->path ? rq->path : "";
	bool get = method_is(rq, "GET") || method_is(rq, "HEAD");
	if (!admit(ctx, rq, p, rs))
		return;
	if (!strcmp(p, "/login")) {
		/* no token to sign in with: the dashboard is open */
		rs->status = 303;
		rs->location = "/";
		rs->content_type = JSON_TYPE;
		return;
	}

	if (!strcmp(p, "/api/predict")) {
		if (!method_is(rq, "POST")) {
			respond_error(rs, 405, "use POST for /api/predict");
			rs->allow = "POST";
			return;
		}
		handle_predict(ctx, rq, rs);
		return;
	}
	/* Everything else is read-only. */
	bool known = !strcmp(p, "/") || !strcmp(p, "/index.html") || !strcmp(p, "/api/health") ||
	             !strcmp(p, "/api/details") || !strcmp(p, "/api/metrics") || !strcmp(p, "/api/model-runs") ||
	             !strcmp(p, "/api/alerts") || !strcmp(p, "/api/models") || !strcmp(p, "/api/artifacts") ||
	             !strcmp(p, "/api/openapi.json") ||
	             !strcmp(p, "/api/drift") || !strcmp(p, "/api/retention") ||
	             !strncmp(p, "/api/artifacts/", 15) || !strncmp(p, "/api/figures/", 13);
	if (!known) {
		respond_error(rs, 404, "no such endpoint (see /api/openapi.json)");
		return;
	}
	if (!get) {
		respond_error(rs, 405, "method not allowed (this endpoint answers GET)");
		rs->allow = "GET, HEAD";
		return;
	}
	if (!strcmp(p, "/") || !strcmp(p, "/index.html")) {
		rs->status = 200;
		rs->content_type = "text/html; charset=utf-8";
		rs->body = malloc(ctx->dashboard_len + 1);
		if (rs->body) {
			memcpy(rs->body, ctx->dashboard, ctx->dashboard_len);
			rs->body_len = ctx->dashboard_len;
		}
		return;
	}
	if (!strcmp(p, "/api/openapi.json")) {
		rs->status = 200;
		rs->content_type = JSON_TYPE;
		rs->body = malloc(ctx->openapi_len + 1);
		if (rs->body) {
			memcpy(rs->body, ctx->openapi, ctx->openapi_len);
			rs->body_len = ctx->openapi_len;
		}
		return;
	}
	if (!strcmp(p, "/api/health")) {
		handle_health(ctx, rs);
	} else if (!strcmp(p, "/api/metrics")) {
		static const char *const rels[] = {"reports/metrics.json"};
		respond_cached(ctx, rs, "metrics", rels, 1, build_metrics);
	} else if (!strcmp(p, "/api/drift")) {
		static const char *const rels[] = {"reports/drift.json"};
		respond_cached(ctx, rs, "drift", rels, 1, build_drift);
	} else if (!strcmp(p, "/api/details")) {
		static const char *const rels[] = {"reports/run_metadata.json", "reports/metrics.json",
		                                   "reports/summary.json"};
		respond_cached(ctx, rs, "details", rels, 3, build_details);
	} else if (!strcmp(p, "/api/model-runs")) {
		handle_model_runs(ctx, rq, rs);
	} else if (!strcmp(p, "/api/retention")) {
		handle_retention(ctx, rq, rs);
	} else if (!strcmp(p, "/api/alerts")) {
		handle_alerts(ctx, rq, rs);
	} else if (!strcmp(p, "/api/models")) {
		/* the registry (a workdir from before it: its models as v1), rebuilt when it or metrics.json changes */
		static const char *const rels[] = {"artifacts/registry.json", "reports/metrics.json"};
		respond_cached(ctx, rs, "models", rels, 2, build_models);
	} else if (!strcmp(p, "/api/artifacts")) {
		static const char *const rels[] = {"artifacts/models", "artifacts", "data/processed", "reports",
		                                   "reports/figures"};
		respond_cached(ctx, rs, "artifacts", rels, 5, build_artifacts);
	} else if (!strncmp(p, "/api/artifacts/", 15)) {
		handle_file(ctx, p + 15, NULL, rs);
	} else {
		handle_file(ctx, p + 13, "figure", rs);
	}
}
