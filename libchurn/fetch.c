/*
 * fetch: bring a source (http(s), file://, path, synthetic:N) into a local
 * file atomically, with a "<dest>.meta.json" sidecar and change detection.
 *
 * Every source goes through one sink: it counts bytes against
 * fetch.max_bytes, rejects NUL bytes as they arrive, keeps the head of the
 * body for the "looks like CSV" check and writes into an ch_atomic temp file
 * next to the destination. The temp file is committed (renamed over dest)
 * only when the whole body arrived, passed the checks and differs from what
 * is stored; otherwise it is removed and dest is untouched.
 */
#include "churn/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "churn/synth.h"
#include "churn/version.h"
#include "core-private.h"
#include "fetch-private.h"
#include "params-private.h"
#include "pg-private.h"

#define SNIFF_BYTES 16384        /* head of the body kept for the CSV check */
#define META_MAX_BYTES (1u << 20)
#define MAX_RETRY_DELAY_S 60.0
#define SYNTH_DEFAULT_SEED 42
#define SYNTH_MAX_ROWS 10000000000ull

struct churn_fetch_info {
	bool changed;
	char sha256[65];
	uint64_t bytes;
	int http_status;
	unsigned attempts;
	char *url, *etag, *last_modified, *path, *fetched_at;
};

/* What "<dest>.meta.json" says about the stored file (valid only if it is about the same source). */
struct prev_meta {
	bool valid;
	char sha256[65];
	uint64_t bytes;
	int http_status;
	char *etag, *last_modified, *fetched_at;
	bool has_source_stat;
	int64_t source_size;
	char source_mtime[40];
};

struct sink {
	ch_atomic a;
	bool open;
	const char *name;    /* source for messages */
	uint64_t n, max;
	char head[SNIFF_BYTES];
	size_t head_n;
	churn_status st;     /* first failure seen inside a callback */
	char msg[512];       /* its detail, restored by sink_status() after the caller's own ch_fail */
};

static size_t sink_fail(struct sink *s, churn_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static size_t sink_fail(struct sink *s, churn_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	s->st = ch_fail(st, "%s", s->msg);
	return 0;
}

/* The sink's failure, with its detail set again (a writer may have replaced it). */
static churn_status sink_status(const struct sink *s)
{
	return s->st ? ch_fail(s->st, "%s", s->msg) : CHURN_OK;
}

/* ---- small helpers ---- */

static bool starts_with_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *prefix)
			return false;
	}
	return true;
}

static bool memmem_ci(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		for (; j < m; j++) {
			char c = hay[i + j];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != needle[j])
				break;
		}
		if (j == m)
			return true;
	}
	return false;
}

/*
 * The source as shown in messages and recorded in the meta: in a URL, the
 * userinfo and every query value are replaced by "***" (a token in the query
 * string is as secret as a password); names of query parameters stay.
 */
char *ch_redact_url(const char *src)
{
	const char *sep = strstr(src, "://");
	if (!sep)
		return ch_strdup(src);
	size_t n = strlen(src);
	char *out = malloc(n + 4 * (n + 1) + 1); /* each part may grow to "***" */
	if (!out)
		return NULL;
	size_t o = 0;
	const char *host = sep + 3;
	size_t auth_len = strcspn(host, "/?#");
	memcpy(out, src, (size_t)(host - src));
	o = (size_t)(host - src);
	const char *p = host, *at = memchr(host, '@', auth_len), *last = NULL;
	/* keep the last '@' of the authority: userinfo may not contain '/' but may contain '@' */
	while (at) {
		last = at;
		at = memchr(last + 1, '@', auth_len - (size_t)(last + 1 - host));
	}
	if (last) {
		memcpy(out + o, "***", 3);
		o += 3;
		p = last;
	}
	const char *q = strchr(p, '?'), *frag = strchr(p, '#');
	if (frag && q && frag < q)
		q = NULL;
	size_t head = q ? (size_t)(q - p) + 1 : strlen(p);
	memcpy(out + o, p, head);
	o += head;
	if (q) {
		/* name=value pairs up to the fragment: values become "***" */
		for (p = q + 1; *p && *p != '#';) {
			size_t len = strcspn(p, "&#");
			const char *eq = memchr(p, '=', len);
			size_t keep = eq ? (size_t)(eq - p) + 1 : len;
			memcpy(out + o, p, keep);
			o += keep;
			if (eq && len > keep) {
				memcpy(out + o, "***", 3);
				o += 3;
			}
			p += len;
			if (*p == '&')
				out[o++] = *p++;
		}
		if (*p == '#') {
			memcpy(out + o, "#***", 4);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}

/* "seconds.nanoseconds" of the mtime: exact as text (a JSON number, a double, would round it). */
static void format_mtime(const struct stat *sb, char buf[40])
{
	snprintf(buf, 40, "%lld.%09ld", (long long)sb->st_mtim.tv_sec, (long)sb->st_mtim.tv_nsec);
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- info ---- */

static void info_free(churn_fetch_info *info)
{
	if (!info)
		return;
	free(info->url);
	free(info->etag);
	free(info->last_modified);
	free(info->path);
	free(info->fetched_at);
	free(info);
}

void churn_fetch_info_free(churn_fetch_info *info)
{
	info_free(info);
}

bool churn_fetch_info_is_changed(const churn_fetch_info *info) { return info && info->changed; }
const char *churn_fetch_info_get_sha256(const churn_fetch_info *info) { return info ? info->sha256 : ""; }
uint64_t churn_fetch_info_get_bytes(const churn_fetch_info *info) { return info ? info->bytes : 0; }
int churn_fetch_info_get_http_status(const churn_fetch_info *info) { return info ? info->http_status : 0; }
unsigned churn_fetch_info_get_attempts(const churn_fetch_info *info) { return info ? info->attempts : 0; }
const char *churn_fetch_info_get_url(const churn_fetch_info *info) { return info && info->url ? info->url : ""; }
const char *churn_fetch_info_get_etag(const churn_fetch_info *info) { return info ? info->etag : NULL; }
const char *churn_fetch_info_get_last_modified(const churn_fetch_info *info) { return info ? info->last_modified : NULL; }
const char *churn_fetch_info_get_path(const churn_fetch_info *info) { return info && info->path ? info->path : ""; }
const char *churn_fetch_info_get_fetched_at(const churn_fetch_info *info)
{
	return info && info->fetched_at ? info->fetched_at : "";
}

/* ---- meta sidecar ---- */

static void prev_meta_clear(struct prev_meta *m)
{
	free(m->etag);
	free(m->last_modified);
	free(m->fetched_at);
	memset(m, 0, sizeof(*m));
}

static char *json_str(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) && it->valuestring ? ch_strdup(it->valuestring) : NULL;
}

static bool json_num(const cJSON *o, const char *key, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(it))
		return false;
	*out = it->valuedouble;
	return true;
}

/* Read the meta of dest when it describes @p url; m->valid false otherwise (never an error). */
static void read_prev_meta(const churn_params *p, const char *meta_path, const char *url, struct prev_meta *m)
{
	memset(m, 0, sizeof(*m));
	char *text = NULL;
	if (ch_read_file(meta_path, META_MAX_BYTES, &text, NULL) != CHURN_OK) {
		ch_clear_error();
		return;
	}
	cJSON *o = ch_json_parse_str(text, meta_path);
	free(text);
	if (!cJSON_IsObject(o)) {
		ch_log(p, CHURN_LOG_WARN, "%s: not a JSON object; ignored", meta_path);
		cJSON_Delete(o);
		return;
	}
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "url");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(o, "sha256");
	double bytes, d;
	if (cJSON_IsString(u) && strcmp(u->valuestring, url) == 0 && cJSON_IsString(sha) &&
	    strlen(sha->valuestring) == 64 && json_num(o, "bytes", &bytes) && bytes >= 0) {
		m->valid = true;
		memcpy(m->sha256, sha->valuestring, 65);
		m->bytes = (uint64_t)bytes;
		m->etag = json_str(o, "etag");
		m->last_modified = json_str(o, "last_modified");
		m->fetched_at = json_str(o, "fetched_at");
		if (json_num(o, "http_status", &d))
			m->http_status = (int)d;
		double ss;
		const cJSON *sm = cJSON_GetObjectItemCaseSensitive(o, "source_mtime");
		if (json_num(o, "source_size", &ss) && cJSON_IsString(sm) && strlen(sm->valuestring) < 40) {
			m->has_source_stat = true;
			m->source_size = (int64_t)ss;
			memcpy(m->source_mtime, sm->valuestring, strlen(sm->valuestring) + 1);
		}
	}
	cJSON_Delete(o);
}

static cJSON *json_str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static churn_status write_meta(const char *meta_path, const churn_fetch_info *info, const char *content_type,
                               const struct stat *src_sb)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;
	ok = ok && cJSON_AddItemToObject(o, "url", cJSON_CreateString(info->url));
	ok = ok && cJSON_AddItemToObject(o, "etag", json_str_or_null(info->etag));
	ok = ok && cJSON_AddItemToObject(o, "last_modified", json_str_or_null(info->last_modified));
	ok = ok && cJSON_AddItemToObject(o, "sha256", cJSON_CreateString(info->sha256));
	ok = ok && cJSON_AddItemToObject(o, "bytes", cJSON_CreateNumber((double)info->bytes));
	ok = ok && cJSON_AddItemToObject(o, "fetched_at", cJSON_CreateString(info->fetched_at));
	ok = ok && cJSON_AddItemToObject(o, "http_status",
	                                 info->http_status ? cJSON_CreateNumber(info->http_status) : cJSON_CreateNull());
	if (content_type)
		ok = ok && cJSON_AddItemToObject(o, "content_type", cJSON_CreateString(content_type));
	if (src_sb) {
		ok = ok && cJSON_AddItemToObject(o, "source_size", cJSON_CreateNumber((double)src_sb->st_size));
		char mt[40];
		format_mtime(src_sb, mt);
		ok = ok && cJSON_AddItemToObject(o, "source_mtime", cJSON_CreateString(mt));
	}
	char *text = ok ? ch_json_print(o, true) : NULL;
	cJSON_Delete(o);
	if (!text) {
		if (info->changed)
			unlink(meta_path);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t n = strlen(text);
	char *withnl = realloc(text, n + 2);
	if (!withnl) {
		free(text);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	churn_status st = ch_write_file_atomic(meta_path, withnl, n + 1);
	free(withnl);
	if (st && info->changed)
		unlink(meta_path); /* best effort: the old meta no longer describes the new file */
	return st;
}

/* ---- sink ---- */

static churn_status sink_open(struct sink *s, const char *dest, const char *name, uint64_t max)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->max = max;
	churn_status st = ch_atomic_open(&s->a, dest);
	if (st)
		return st;
	s->open = true;
	return CHURN_OK;
}

static void sink_abort(struct sink *s)
{
	if (s->open)
		ch_atomic_abort(&s->a);
	s->open = false;
}

/* Returns n, or 0 after recording the failure in s->st. */
static size_t sink_write(struct sink *s, const void *buf, size_t n)
{
	if (s->st)
		return 0;
	if (n == 0)
		return 0;
	if (n > s->max - s->n)
		return sink_fail(s, CHURN_E_LIMIT, "%s: larger than %llu bytes (fetch.max_bytes)", s->name,
		                 (unsigned long long)s->max);
	const char *nul = memchr(buf, '\0', n);
	if (nul)
		return sink_fail(s, CHURN_E_PARSE, "%s: not a CSV file (NUL byte at offset %llu)", s->name,
		                 (unsigned long long)(s->n + (uint64_t)(nul - (const char *)buf)));
	if (s->head_n < SNIFF_BYTES) {
		size_t k = SNIFF_BYTES - s->head_n < n ? SNIFF_BYTES - s->head_n : n;
		memcpy(s->head + s->head_n, buf, k);
		s->head_n += k;
	}
	if (fwrite(buf, 1, n, s->a.fp) != n)
		return sink_fail(s, CHURN_E_IO, "%s: write failed: %s", s->a.path, strerror(errno));
	s->n += n;
	return n;
}

/* The "looks like CSV" check on the head of a complete body. */
static churn_status sink_sniff(const struct sink *s)
{
	const char *h = s->head, *end = s->head + s->head_n;
	if (s->n == 0)
		return ch_fail(CHURN_E_PARSE, "%s: not a CSV file (empty)", s->name);
	if (end - h >= 3 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB && (unsigned char)h[2] == 0xBF)
		h += 3;
	while (h < end && (*h == ' ' || *h == '\t' || *h == '\r' || *h == '\n'))
		h++;
	if ((h < end && *h == '<') || memmem_ci(s->head, s->head_n, "<html") ||
	    memmem_ci(s->head, s->head_n, "<!doctype"))
		return ch_fail(CHURN_E_PARSE, "%s: not a CSV file (looks like HTML)", s->name);
	const char *nl = memchr(s->head, '\n', s->head_n);
	size_t line = nl ? (size_t)(nl - s->head) : s->head_n;
	if (!memchr(s->head, ',', line))
		return ch_fail(CHURN_E_PARSE, "%s: not a CSV file (no comma in the first line)", s->name);
	return CHURN_OK;
}

/*
 * A complete body is in the sink: check it, hash it, and commit it over dest
 * unless dest already holds the same bytes. Fills info->sha256, bytes, changed.
 */
static churn_status sink_finish(const churn_params *p, struct sink *s, const char *dest, const struct prev_meta *prev,
                                churn_fetch_info *info)
{
	churn_status st = sink_sniff(s);
	if (st)
		return st;
	if (fflush(s->a.fp) != 0)
		return ch_fail(CHURN_E_IO, "%s: write failed: %s", s->a.path, strerror(errno));
	if ((st = ch_sha256_file(s->a.tmp, info->sha256)))
		return st;
	info->bytes = s->n;
	struct stat dsb;
	bool same = false;
	if (stat(dest, &dsb) == 0 && S_ISREG(dsb.st_mode) && (uint64_t)dsb.st_size == s->n) {
		char old[65];
		if (prev->valid && prev->bytes == s->n)
			memcpy(old, prev->sha256, 65);
		else if (ch_sha256_file(dest, old) != CHURN_OK)
			old[0] = '\0';
		same = strcmp(old, info->sha256) == 0;
	}
	ch_clear_error();
	if (same) {
		ch_log(p, CHURN_LOG_DEBUG, "%s: same content as %s; not rewritten", s->name, dest);
		sink_abort(s);
		info->changed = false;
		return CHURN_OK;
	}
	s->open = false;
	if ((st = ch_atomic_commit(&s->a)))
		return st;
	info->changed = true;
	return CHURN_OK;
}

/* ---- http(s) ---- */

/*
 * libcurl is loaded when the first URL is fetched (dlopen), not when the
 * library is: it brings some thirty shared libraries (TLS, Kerberos, LDAP,
 * ...) that a run on a local file or synthetic data never needs, and loading
 * them is most of a short process's start-up. Its functions are called
 * through this table.
 */
static struct ch_curl cu;

#ifndef CHURN_LIBCURL_SONAME
#define CHURN_LIBCURL_SONAME "libcurl.so.4" /* Debian's libcurl4 (libcurl4-openssl-dev builds against it) */
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;
static char curl_load_error[256];

/* Load libcurl and run its global init (not thread-safe before 7.84) exactly once. Never unloaded. */
static void curl_init_once(void)
{
	const ch_dl_sym syms[] = {
		{(void **)&cu.global_init, "curl_global_init"},     {(void **)&cu.easy_init, "curl_easy_init"},
		{(void **)&cu.easy_setopt, "curl_easy_setopt"},     {(void **)&cu.easy_perform, "curl_easy_perform"},
		{(void **)&cu.easy_getinfo, "curl_easy_getinfo"},   {(void **)&cu.easy_cleanup, "curl_easy_cleanup"},
		{(void **)&cu.easy_strerror, "curl_easy_strerror"}, {(void **)&cu.slist_append, "curl_slist_append"},
		{(void **)&cu.slist_free_all, "curl_slist_free_all"},
	};
	if (!ch_dl_load(CHURN_LIBCURL_SONAME, syms, sizeof syms / sizeof syms[0], curl_load_error, sizeof curl_load_error))
		return;
	curl_init_result = cu.global_init(CURL_GLOBAL_DEFAULT);
	if (curl_init_result != CURLE_OK)
		snprintf(curl_load_error, sizeof curl_load_error, "initialisation failed: %s",
		         cu.easy_strerror(curl_init_result));
}

const struct ch_curl *ch_curl_load(void)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK) {
		ch_fail(CHURN_E_INTERNAL, "libcurl: %s", curl_load_error);
		return NULL;
	}
	return &cu;
}

struct http_hdr {
	long status;
	char reason[128];
	char *etag, *last_modified, *content_type;
};

static void http_hdr_clear(struct http_hdr *h)
{
	free(h->etag);
	free(h->last_modified);
	free(h->content_type);
	memset(h, 0, sizeof(*h));
}

struct http_ctx {
	const churn_params *p;
	struct sink *sink;
	struct http_hdr hdr;
	bool cancelled;
};

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k || !starts_with_ci(line, name))
		return NULL;
	const char *v = line + k, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return ch_strndup(v, (size_t)(end - v));
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct http_ctx *c = ud;
	size_t n = size * nitems;
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* a new response (redirect, 100 Continue): forget the previous headers */
		http_hdr_clear(&c->hdr);
		const char *sp = memchr(buf, ' ', n);
		if (sp) {
			const char *end = buf + n;
			const char *q = sp + 1;
			long code = 0;
			while (q < end && *q >= '0' && *q <= '9' && code < 1000)
				code = code * 10 + (*q++ - '0');
			c->hdr.status = code;
			while (q < end && *q == ' ')
				q++;
			const char *r = q;
			while (r < end && *r != '\r' && *r != '\n')
				r++;
			size_t rl = (size_t)(r - q) < sizeof(c->hdr.reason) - 1 ? (size_t)(r - q) : sizeof(c->hdr.reason) - 1;
			memcpy(c->hdr.reason, q, rl);
			c->hdr.reason[rl] = '\0';
		}
		return n;
	}
	char *v;
	if ((v = header_value(buf, n, "etag:"))) {
		free(c->hdr.etag);
		c->hdr.etag = v;
	} else if ((v = header_value(buf, n, "last-modified:"))) {
		free(c->hdr.last_modified);
		c->hdr.last_modified = v;
	} else if ((v = header_value(buf, n, "content-type:"))) {
		free(c->hdr.content_type);
		c->hdr.content_type = v;
	}
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct http_ctx *c = ud;
	size_t n = size * nmemb;
	if (c->hdr.status >= 300)
		return n; /* an error page: not stored, not counted */
	size_t w = sink_write(c->sink, buf, n);
	return w == n ? n : 0;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ultotal;
	(void)ulnow;
	struct http_ctx *c = ud;
	if (c->hdr.status >= 300)
		return 0;
	if (!ch_progress(c->p, "download", (uint64_t)(dlnow > 0 ? dlnow : 0), (uint64_t)(dltotal > 0 ? dltotal : 0))) {
		c->cancelled = true;
		return 1;
	}
	return 0;
}

static const char *reason_or_default(const struct http_hdr *h)
{
	if (h->reason[0])
		return h->reason;
	/* HTTP/2 and HTTP/3 have no reason phrase: name the common ones */
	switch (h->status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

enum attempt_result { ATTEMPT_OK, ATTEMPT_UNCHANGED, ATTEMPT_RETRY, ATTEMPT_FAIL };

static enum attempt_result classify_curl(CURLcode rc, const struct http_ctx *c, const char *name,
                                         const char *errbuf, double timeout_s, churn_status *st)
{
	const char *why = errbuf[0] ? errbuf : cu.easy_strerror(rc);
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		*st = ch_fail(CHURN_E_STATE, "%s: download cancelled", name);
		return ATTEMPT_FAIL;
	case CURLE_WRITE_ERROR:
		if (c->sink->st) {
			*st = sink_status(c->sink);
			return ATTEMPT_FAIL;
		}
		*st = ch_fail(CHURN_E_IO, "%s: %s", name, why);
		return ATTEMPT_FAIL;
	case CURLE_FILESIZE_EXCEEDED:
		*st = ch_fail(CHURN_E_LIMIT, "%s: larger than %llu bytes (fetch.max_bytes)", name,
		              (unsigned long long)c->sink->max);
		return ATTEMPT_FAIL;
	case CURLE_OPERATION_TIMEDOUT:
		*st = ch_fail(CHURN_E_NETWORK, "%s: timed out (fetch.timeout_s %g): %s", name, timeout_s, why);
		return ATTEMPT_RETRY;
	case CURLE_PARTIAL_FILE:
		*st = ch_fail(CHURN_E_NETWORK, "%s: truncated body: %s", name, why);
		return ATTEMPT_RETRY;
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		*st = ch_fail(CHURN_E_NETWORK, "%s: %s", name, why);
		return ATTEMPT_RETRY;
	case CURLE_UNSUPPORTED_PROTOCOL:
		*st = ch_fail(CHURN_E_UNSUPPORTED, "%s: %s", name, why);
		return ATTEMPT_FAIL;
	case CURLE_URL_MALFORMAT:
		*st = ch_fail(CHURN_E_INVALID_ARG, "%s: malformed URL: %s", name, why);
		return ATTEMPT_FAIL;
	case CURLE_OUT_OF_MEMORY:
		*st = ch_fail(CHURN_E_NOMEM, "%s: out of memory", name);
		return ATTEMPT_FAIL;
	default:
		*st = ch_fail(CHURN_E_NETWORK, "%s: %s", name, why);
		return ATTEMPT_FAIL;
	}
}

static churn_status set_opts(CURL *h, const char *url, struct http_ctx *c, char *errbuf, double timeout_s,
                             double connect_s, uint64_t max_bytes, struct curl_slist *headers)
{
	long timeout_ms = (long)(timeout_s * 1000.0 + 0.5), connect_ms = (long)(connect_s * 1000.0 + 0.5);
	CURLcode rc = CURLE_OK;
#define SET(opt, val) \
	if (rc == CURLE_OK) \
		rc = cu.easy_setopt(h, opt, val)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "libchurn/" CHURN_VERSION_STRING);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(max_bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)max_bytes));
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, c);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, c);
	SET(CURLOPT_HTTPHEADER, headers);
#undef SET
	if (rc != CURLE_OK)
		return ch_fail(CHURN_E_INTERNAL, "%s: libcurl setup failed: %s", url, cu.easy_strerror(rc));
	return CHURN_OK;
}

/* One request header "NAME: value" appended to *headers. */
static churn_status add_header(struct curl_slist **headers, const char *name, const char *value)
{
	char *line = ch_asprintf("%s: %s", name, value);
	struct curl_slist *nh = line ? cu.slist_append(*headers, line) : NULL;
	free(line);
	if (!nh)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*headers = nh;
	return CHURN_OK;
}

/*
 * The headers of a conditional GET (If-None-Match, If-Modified-Since), only
 * when the stored file at @p dest is the one the meta describes; *conditional
 * says whether there are any.
 */
static churn_status conditional_headers(const struct prev_meta *prev, const char *dest,
                                        struct curl_slist **headers, bool *conditional)
{
	struct stat dsb;
	*conditional = false;
	if (!prev->valid || stat(dest, &dsb) != 0 || (uint64_t)dsb.st_size != prev->bytes ||
	    !(prev->etag || prev->last_modified))
		return CHURN_OK;
	churn_status st = CHURN_OK;
	if (prev->etag && (st = add_header(headers, "If-None-Match", prev->etag)))
		return st;
	if (prev->last_modified && (st = add_header(headers, "If-Modified-Since", prev->last_modified)))
		return st;
	*conditional = true;
	return CHURN_OK;
}

/* One request on handle h and what to do next; *st holds the failure of a RETRY or FAIL. */
static enum attempt_result perform(CURL *h, struct http_ctx *c, const char *name, char *errbuf, double timeout_s,
                                   bool conditional, churn_status *st)
{
	CURLcode rc = cu.easy_perform(h);
	long code = 0;
	cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code > 0)
		c->hdr.status = code;
	if (rc == CURLE_FILESIZE_EXCEEDED && c->hdr.status >= 400)
		rc = CURLE_OK; /* an oversized error page: report the status, not the size */
	if (rc != CURLE_OK)
		return classify_curl(rc, c, name, errbuf, timeout_s, st);
	if (code == 304 && conditional)
		return ATTEMPT_UNCHANGED;
	if (code >= 200 && code < 300)
		return ATTEMPT_OK;
	const char *reason = reason_or_default(&c->hdr);
	*st = ch_fail(CHURN_E_NETWORK, "%s: HTTP %ld%s%s", name, code, reason[0] ? " " : "", reason);
	return (code >= 500 || code == 408 || code == 429) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
}

/* A 2xx: the body in the sink becomes @p dest, its meta is written, info filled. */
static churn_status accept_body(const churn_params *p, struct http_ctx *c, const char *name, const char *dest,
                                const char *meta_path, const struct prev_meta *prev, churn_fetch_info *info)
{
	long code = c->hdr.status;
	info->http_status = (int)code;
	churn_status st = sink_finish(p, c->sink, dest, prev, info);
	if (st)
		return st;
	info->etag = c->hdr.etag ? ch_strdup(c->hdr.etag) : NULL;
	info->last_modified = c->hdr.last_modified ? ch_strdup(c->hdr.last_modified) : NULL;
	if ((c->hdr.etag && !info->etag) || (c->hdr.last_modified && !info->last_modified))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char now[32];
	ch_format_time_utc(now, sizeof(now), (int64_t)time(NULL));
	if (!(info->fetched_at = ch_strdup(now)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = write_meta(meta_path, info, c->hdr.content_type, NULL)))
		return st;
	ch_log(p, CHURN_LOG_INFO, "%s: HTTP %ld, %llu bytes, sha256 %s, %s", name, code, (unsigned long long)info->bytes,
	       info->sha256, info->changed ? "changed" : "unchanged");
	return CHURN_OK;
}

/* A 304 to a conditional GET: info describes the stored file. */
static churn_status accept_unchanged(const churn_params *p, const char *name, const char *dest,
                                     const struct prev_meta *prev, churn_fetch_info *info)
{
	info->http_status = 304;
	info->changed = false;
	info->bytes = prev->bytes;
	memcpy(info->sha256, prev->sha256, 65);
	info->etag = prev->etag ? ch_strdup(prev->etag) : NULL;
	info->last_modified = prev->last_modified ? ch_strdup(prev->last_modified) : NULL;
	info->fetched_at = ch_strdup(prev->fetched_at ? prev->fetched_at : "");
	if ((prev->etag && !info->etag) || (prev->last_modified && !info->last_modified) || !info->fetched_at)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_log(p, CHURN_LOG_INFO, "%s: HTTP 304 Not Modified; %s unchanged", name, dest);
	return CHURN_OK;
}

/*
 * After failed attempt number @p attempt (status st): false when the
 * fetch.retries are used up (the detail then says how many attempts were
 * made), else true after waiting fetch.retry_delay_s, doubled per attempt
 * up to MAX_RETRY_DELAY_S.
 */
static bool retry_after(const churn_params *p, unsigned attempt, churn_status st)
{
	int64_t retries = churn_params_get_int(p, CHURN_KEY_FETCH_RETRIES);
	if ((int64_t)attempt > retries) {
		if (retries > 0) {
			char msg[768];
			snprintf(msg, sizeof(msg), "%s", churn_last_error());
			ch_fail(st, "%s (after %u attempts)", msg, attempt);
		}
		return false;
	}
	double wait = churn_params_get_double(p, CHURN_KEY_FETCH_RETRY_DELAY_S);
	for (unsigned k = 1; k < attempt && wait < MAX_RETRY_DELAY_S; k++)
		wait *= 2;
	if (wait > MAX_RETRY_DELAY_S)
		wait = MAX_RETRY_DELAY_S;
	ch_log(p, CHURN_LOG_WARN, "%s; retry %u of %lld in %g s", churn_last_error(), attempt, (long long)retries, wait);
	sleep_s(wait);
	return true;
}

static churn_status fetch_http(const char *url, const char *name, const char *dest, const char *meta_path,
                               const churn_params *p, const struct prev_meta *prev, churn_fetch_info *info)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK)
		return ch_fail(CHURN_E_INTERNAL, "libcurl: %s", curl_load_error);
	double timeout_s = churn_params_get_double(p, CHURN_KEY_FETCH_TIMEOUT_S);
	uint64_t max_bytes = (uint64_t)churn_params_get_int(p, CHURN_KEY_FETCH_MAX_BYTES);
	struct curl_slist *headers = NULL;
	struct sink sink;
	memset(&sink, 0, sizeof(sink));
	struct http_ctx c = {.p = p, .sink = &sink};
	char errbuf[CURL_ERROR_SIZE];
	bool conditional = false;
	CURL *h = cu.easy_init();
	if (!h)
		return ch_fail(CHURN_E_NOMEM, "%s: cannot create a libcurl handle", name);
	churn_status st = conditional_headers(prev, dest, &headers, &conditional);
	if (st || (st = set_opts(h, url, &c, errbuf, timeout_s, churn_params_get_double(p, CHURN_KEY_FETCH_CONNECT_TIMEOUT_S),
	                         max_bytes, headers)))
		goto out;
	for (unsigned attempt = 1;; attempt++) {
		info->attempts = attempt;
		http_hdr_clear(&c.hdr);
		errbuf[0] = '\0';
		if ((st = sink_open(&sink, dest, name, max_bytes)))
			goto out;
		ch_log(p, CHURN_LOG_DEBUG, "GET %s%s (attempt %u)", name, conditional ? " (conditional)" : "", attempt);
		enum attempt_result r = perform(h, &c, name, errbuf, timeout_s, conditional, &st);
		if (r == ATTEMPT_OK) {
			st = accept_body(p, &c, name, dest, meta_path, prev, info);
			goto out;
		}
		sink_abort(&sink);
		if (r == ATTEMPT_UNCHANGED) {
			st = accept_unchanged(p, name, dest, prev, info);
			goto out;
		}
		if (r == ATTEMPT_FAIL || !retry_after(p, attempt, st))
			goto out;
	}
out:
	sink_abort(&sink);
	http_hdr_clear(&c.hdr);
	cu.slist_free_all(headers);
	cu.easy_cleanup(h);
	return st;
}

/* ---- local files ---- */

/* file:///p or file://localhost/p -> "/p" (percent-decoded); NULL with the detail set. */
static char *file_url_path(const char *url, churn_status *st)
{
	const char *rest = url + 7; /* after "file://" */
	if (starts_with_ci(rest, "localhost/"))
		rest += 9;
	if (*rest != '/') {
		*st = ch_fail(CHURN_E_INVALID_ARG, "%s: only local file:// URLs (file:///path) are supported", url);
		return NULL;
	}
	size_t n = strcspn(rest, "?#");
	char *out = malloc(n + 1), *o = out;
	if (!out) {
		*st = ch_fail(CHURN_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int a, b;
		if (rest[i] == '%' && i + 2 < n + 1 && (a = ch_hexval(rest[i + 1])) >= 0 && (b = ch_hexval(rest[i + 2])) >= 0) {
			char ch = (char)(a * 16 + b);
			if (ch == '\0') {
				free(out);
				*st = ch_fail(CHURN_E_INVALID_ARG, "%s: NUL in the path", url);
				return NULL;
			}
			*o++ = ch;
			i += 2;
		} else {
			*o++ = rest[i];
		}
	}
	*o = '\0';
	return out;
}

static churn_status fill_from_prev(churn_fetch_info *info, const struct prev_meta *prev)
{
	info->changed = false;
	info->bytes = prev->bytes;
	memcpy(info->sha256, prev->sha256, 65);
	info->fetched_at = ch_strdup(prev->fetched_at ? prev->fetched_at : "");
	if (!info->fetched_at)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

static churn_status set_now(churn_fetch_info *info)
{
	char now[32];
	ch_format_time_utc(now, sizeof(now), (int64_t)time(NULL));
	free(info->fetched_at);
	if (!(info->fetched_at = ch_strdup(now)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

static churn_status fetch_local(const char *path, const char *name, const char *dest, const char *meta_path,
                                const churn_params *p, const struct prev_meta *prev, churn_fetch_info *info)
{
	uint64_t max_bytes = (uint64_t)churn_params_get_int(p, CHURN_KEY_FETCH_MAX_BYTES);
	struct stat ssb, dsb;
	char mt[40];
	info->attempts = 1;
	if (stat(path, &ssb) != 0)
		return ch_fail(errno == ENOENT || errno == ENOTDIR ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: %s", name,
		               strerror(errno));
	if (!S_ISREG(ssb.st_mode))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: not a regular file", name);
	bool dest_exists = stat(dest, &dsb) == 0 && S_ISREG(dsb.st_mode);
	churn_status st;
	if (dest_exists && dsb.st_dev == ssb.st_dev && dsb.st_ino == ssb.st_ino) {
		/* the source is the destination: nothing to copy; describe it */
		info->changed = false;
		info->bytes = (uint64_t)ssb.st_size;
		if ((st = ch_sha256_file(dest, info->sha256)) || (st = set_now(info)))
			return st;
		return write_meta(meta_path, info, NULL, &ssb);
	}
	if ((uint64_t)ssb.st_size > max_bytes)
		return ch_fail(CHURN_E_LIMIT, "%s: %llu bytes, larger than %llu (fetch.max_bytes)", name,
		               (unsigned long long)ssb.st_size, (unsigned long long)max_bytes);
	if (dest_exists && prev->valid && prev->has_source_stat && prev->source_size == (int64_t)ssb.st_size &&
	    (format_mtime(&ssb, mt), strcmp(prev->source_mtime, mt) == 0) && (uint64_t)dsb.st_size == prev->bytes) {
		ch_log(p, CHURN_LOG_INFO, "%s: same size and mtime as recorded; %s unchanged", name, dest);
		return fill_from_prev(info, prev);
	}

	FILE *f = fopen(path, "rb");
	if (!f)
		return ch_fail(errno == ENOENT ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: cannot open: %s", name, strerror(errno));
	struct sink sink;
	char *buf = malloc(1 << 16);
	if (!buf) {
		fclose(f);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if ((st = sink_open(&sink, dest, name, max_bytes)))
		goto out;
	size_t r;
	while ((r = fread(buf, 1, 1 << 16, f)) > 0) {
		if (sink_write(&sink, buf, r) != r) {
			st = sink_status(&sink);
			goto out;
		}
		if (!ch_progress(p, "copy", sink.n, (uint64_t)ssb.st_size)) {
			st = ch_fail(CHURN_E_STATE, "%s: copy cancelled", name);
			goto out;
		}
	}
	if (ferror(f)) {
		st = ch_fail(CHURN_E_IO, "%s: read failed: %s", name, strerror(errno));
		goto out;
	}
	if ((st = sink_finish(p, &sink, dest, prev, info)) || (st = set_now(info)))
		goto out;
	if ((st = write_meta(meta_path, info, NULL, &ssb)))
		goto out;
	ch_log(p, CHURN_LOG_INFO, "%s: %llu bytes, sha256 %s, %s", name, (unsigned long long)info->bytes, info->sha256,
	       info->changed ? "changed" : "unchanged");
out:
	sink_abort(&sink);
	free(buf);
	fclose(f);
	return st;
}

/* ---- synthetic ---- */

static churn_status parse_synthetic(const char *src, uint64_t *rows, uint64_t *seed)
{
	const char *s = src + strlen("synthetic:");
	char *end;
	*seed = SYNTH_DEFAULT_SEED;
	if (*s < '0' || *s > '9')
		return ch_fail(CHURN_E_INVALID_ARG, "%s: expected synthetic:N[?seed=S] with N rows", src);
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || n == 0 || n > SYNTH_MAX_ROWS)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: row count must be 1 to %llu", src, SYNTH_MAX_ROWS);
	*rows = n;
	if (*end == '\0')
		return CHURN_OK;
	if (strncmp(end, "?seed=", 6) == 0 && end[6] >= '0' && end[6] <= '9') {
		char *e2;
		errno = 0;
		unsigned long long sd = strtoull(end + 6, &e2, 10);
		if (!errno && *e2 == '\0') {
			*seed = sd;
			return CHURN_OK;
		}
	}
	return ch_fail(CHURN_E_INVALID_ARG, "%s: expected synthetic:N[?seed=S] with N rows", src);
}

static size_t synth_to_sink(void *ud, const void *buf, size_t n)
{
	return sink_write(ud, buf, n);
}

/* The synth module's writer (churn/synth.h); kept behind one function so it can be swapped out. */
static churn_status synth_generate(uint64_t rows, uint64_t seed, struct sink *s)
{
	return churn_synth_write(rows, seed, synth_to_sink, s);
}

static churn_status fetch_synthetic(const char *src, const char *dest, const char *meta_path, const churn_params *p,
                                    const struct prev_meta *prev, churn_fetch_info *info)
{
	uint64_t rows = 0, seed = 0;
	churn_status st = parse_synthetic(src, &rows, &seed);
	if (st)
		return st;
	info->attempts = 1;
	struct sink sink;
	if ((st = sink_open(&sink, dest, info->url, (uint64_t)churn_params_get_int(p, CHURN_KEY_FETCH_MAX_BYTES))))
		return st;
	st = synth_generate(rows, seed, &sink);
	if (sink.st)
		st = sink_status(&sink); /* the sink's own failure (limit, disk) explains the writer's */
	if (!st && !(st = sink_finish(p, &sink, dest, prev, info)) && !(st = set_now(info)))
		st = write_meta(meta_path, info, NULL, NULL);
	sink_abort(&sink);
	if (!st)
		ch_log(p, CHURN_LOG_INFO, "%s: %llu bytes, sha256 %s, %s", info->url, (unsigned long long)info->bytes,
		       info->sha256, info->changed ? "changed" : "unchanged");
	return st;
}

/* ---- PostgreSQL (fetch-pg.c: COPY ... TO STDOUT) ---- */

static churn_status fetch_pg(const char *src, const char *dest, const char *meta_path, const churn_params *p,
                             const struct prev_meta *prev, churn_fetch_info *info)
{
	ch_pg_url u;
	uint64_t rows = 0;
	churn_status st = ch_pg_url_parse(src, true, &u);
	struct sink sink;
	memset(&sink, 0, sizeof(sink));
	info->attempts = 1;
	if (st || (st = sink_open(&sink, dest, info->url, (uint64_t)churn_params_get_int(p, CHURN_KEY_FETCH_MAX_BYTES))))
		goto out;
	st = ch_pg_copy_out(&u, p, synth_to_sink, &sink, &rows);
	if (sink.st)
		st = sink_status(&sink); /* the sink's own failure (limit, NUL byte, disk) */
	if (!st && !(st = sink_finish(p, &sink, dest, prev, info)) && !(st = set_now(info)))
		st = write_meta(meta_path, info, NULL, NULL);
	if (!st)
		ch_log(p, CHURN_LOG_INFO, "%s: %llu rows, %llu bytes, sha256 %s, %s", info->url, (unsigned long long)rows,
		       (unsigned long long)info->bytes, info->sha256, info->changed ? "changed" : "unchanged");
out:
	sink_abort(&sink);
	ch_pg_url_clear(&u);
	return st;
}

/* ---- entry points ---- */

enum source_kind { SRC_HTTP, SRC_FILE_URL, SRC_PATH, SRC_SYNTH, SRC_PG };

static churn_status source_kind_of(const char *src, enum source_kind *kind)
{
	if (starts_with_ci(src, "http://") || starts_with_ci(src, "https://"))
		*kind = SRC_HTTP;
	else if (starts_with_ci(src, "file://"))
		*kind = SRC_FILE_URL;
	else if (starts_with_ci(src, "synthetic:"))
		*kind = SRC_SYNTH;
	else if (ch_pg_is_url(src))
		*kind = SRC_PG;
	else {
		/* "scheme://..." with another scheme is not a path */
		size_t k = strspn(src, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
		if (k > 0 && strncmp(src + k, "://", 3) == 0)
			return ch_fail(CHURN_E_UNSUPPORTED, "%.*s: unsupported source scheme (http, https, file, synthetic, postgresql)",
			               (int)(k + 3), src);
		*kind = SRC_PATH;
	}
	return CHURN_OK;
}

static churn_status make_parent_dir(const char *dest)
{
	const char *slash = strrchr(dest, '/');
	if (!slash || slash == dest)
		return CHURN_OK;
	char *dir = ch_strndup(dest, (size_t)(slash - dest));
	if (!dir)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	struct stat sb;
	churn_status st = (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) ? CHURN_OK : ch_mkdir_p(dir);
	free(dir);
	return st;
}

churn_status churn_fetch(const char *source, const char *dest_path, const churn_params *p, churn_fetch_info **out_info)
{
	if (!source || !*source || !dest_path || !*dest_path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_fetch: source and dest_path must be non-empty");
	churn_params *defaults = NULL;
	churn_status st;
	if (!p) {
		if ((st = churn_params_new(&defaults)))
			return st;
		p = defaults;
	}
	enum source_kind kind = SRC_PATH;
	char *meta_path = NULL, *local = NULL;
	struct prev_meta prev;
	memset(&prev, 0, sizeof(prev));
	churn_fetch_info *info = calloc(1, sizeof(*info));
	if (!info) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = source_kind_of(source, &kind)))
		goto out;
	info->url = kind == SRC_PG ? ch_pg_mask(source) : ch_redact_url(source);
	info->path = ch_strdup(dest_path);
	meta_path = ch_asprintf("%s.meta.json", dest_path);
	if (!info->url || !info->path || !meta_path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = make_parent_dir(dest_path)))
		goto out;
	read_prev_meta(p, meta_path, info->url, &prev);
	switch (kind) {
	case SRC_HTTP:
		st = fetch_http(source, info->url, dest_path, meta_path, p, &prev, info);
		break;
	case SRC_FILE_URL:
		if (!(local = file_url_path(source, &st)))
			goto out;
		st = fetch_local(local, info->url, dest_path, meta_path, p, &prev, info);
		break;
	case SRC_PATH:
		st = fetch_local(source, info->url, dest_path, meta_path, p, &prev, info);
		break;
	case SRC_SYNTH:
		st = fetch_synthetic(source, dest_path, meta_path, p, &prev, info);
		break;
	case SRC_PG:
		st = fetch_pg(source, dest_path, meta_path, p, &prev, info);
		break;
	}
out:
	prev_meta_clear(&prev);
	free(meta_path);
	free(local);
	churn_params_free(defaults);
	if (st) {
		info_free(info);
		return st;
	}
	ch_clear_error();
	if (out_info)
		*out_info = info;
	else
		info_free(info);
	return CHURN_OK;
}

churn_status churn_fetch_default_name(const char *source, char **out_name)
{
	if (!source || !out_name)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_fetch_default_name: NULL argument");
	char *name;
	if (starts_with_ci(source, "synthetic:")) {
		uint64_t rows = 0, seed = 0;
		churn_status st = parse_synthetic(source, &rows, &seed);
		if (st)
			return st;
		name = ch_asprintf("synthetic-%llu.csv", (unsigned long long)rows);
	} else if (ch_pg_is_url(source)) {
		ch_pg_url u;
		churn_status st = ch_pg_url_parse(source, true, &u);
		name = st ? NULL : u.table ? ch_asprintf("%s.csv", u.table) : ch_strdup("query.csv");
		ch_pg_url_clear(&u);
		if (st)
			return st;
		for (char *c = name; c && *c; c++) {
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
			else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
				*c = '-';
		}
		if (name && name[0] == '.')
			name[0] = '-'; /* never a hidden file (data/raw/.incoming-*) */
	} else {
		const char *path = source, *sep = strstr(source, "://");
		size_t n;
		if (sep) {
			path = sep + 3;
			path += strcspn(path, "/?#"); /* skip the authority */
			n = strcspn(path, "?#");
		} else {
			n = strlen(path);
		}
		while (n > 0 && path[n - 1] == '/')
			n--;
		size_t b = n;
		while (b > 0 && path[b - 1] != '/')
			b--;
		name = malloc(n - b + 1);
		if (name) {
			size_t k = 0;
			for (size_t i = b; i < n; i++) {
				char c = path[i];
				if (sep && c == '%' && i + 2 < n && ch_hexval(path[i + 1]) >= 0 && ch_hexval(path[i + 2]) >= 0) {
					c = (char)(ch_hexval(path[i + 1]) * 16 + ch_hexval(path[i + 2]));
					i += 2;
				}
				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
					c = '-';
				name[k++] = c;
			}
			name[k] = '\0';
			if (k == 0 || strspn(name, ".") == k) {
				free(name);
				name = ch_strdup("download.csv");
			}
		}
	}
	if (!name)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_name = name;
	return CHURN_OK;
}
