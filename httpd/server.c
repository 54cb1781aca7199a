/*
 * churn-httpd: the HTTP API and dashboard of a libchurn workdir, on CivetWeb.
 * This file is the socket side: options, CivetWeb setup, the per-client
 * connection gate, reading requests under a deadline, writing responses, the
 * access log and signals. Routing and policy (host, token, CORS) are api.c.
 */
/* RTLD_NEXT: meson defines _GNU_SOURCE */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "api.h"
#include "assets.h"

static volatile sig_atomic_t stop_requested;
static FILE *access_log;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static double request_timeout_ms = 10000; /* headers, then the body, each within this */

/*
 * ---- The connection gate ----
 * CivetWeb gives every connection a worker thread from the moment it is
 * accepted until it closes, headers not yet read included: a few hundred
 * sockets that send a header line a second (slowloris) would hold every
 * worker. The gate counts open connections per client address and closes a
 * connection over the limit as soon as it is accepted, before it reaches a
 * worker; the limit is below the number of workers, so one address can never
 * take them all and the rest stay in reserve for other clients. The count
 * rises in accept() (interposed below: CivetWeb's master thread calls it) and
 * falls in the connection_close callback.
 */
#define GATE_BUCKETS 1024
typedef struct gate_entry {
	unsigned char addr[16]; /* IPv6, or IPv4 mapped (::ffff:a.b.c.d) */
	unsigned count;
	struct gate_entry *next;
} gate_entry;
static struct {
	pthread_mutex_t lock;
	gate_entry *bucket[GATE_BUCKETS];
	unsigned limit; /* 0 until the server starts: accept() passes everything */
	unsigned long refused;
} gate = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

static bool addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		memcpy(key, mapped, 12);
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static unsigned gate_hash(const unsigned char k[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % GATE_BUCKETS;
}

/* One more connection from @p key: false (nothing counted) when the address is at its limit. */
static bool gate_enter(const unsigned char key[16])
{
	bool ok = true;
	pthread_mutex_lock(&gate.lock);
	gate_entry **b = &gate.bucket[gate_hash(key)], *e = *b;
	while (e && memcmp(e->addr, key, 16))
		e = e->next;
	if (!e && (e = calloc(1, sizeof(*e)))) {
		memcpy(e->addr, key, 16);
		e->next = *b;
		*b = e;
	}
	if (e && e->count >= gate.limit) {
		ok = false;
		gate.refused++;
	} else if (e) {
		e->count++;
	}
	pthread_mutex_unlock(&gate.lock);
	return ok;
}

static void gate_leave(const unsigned char key[16])
{
	pthread_mutex_lock(&gate.lock);
	gate_entry **p = &gate.bucket[gate_hash(key)];
	while (*p && memcmp((*p)->addr, key, 16))
		p = &(*p)->next;
	if (*p && --(*p)->count == 0) {
		gate_entry *e = *p;
		*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&gate.lock);
}

static void gate_free(void)
{
	for (size_t i = 0; i < GATE_BUCKETS; i++) {
		while (gate.bucket[i]) {
			gate_entry *e = gate.bucket[i];
			gate.bucket[i] = e->next;
			free(e);
		}
	}
}

/* CivetWeb's accept(): a connection over its address's limit is answered 503 and closed here. */
int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	static int (*real_accept)(int, struct sockaddr *, socklen_t *);
	if (!real_accept)
		*(void **)&real_accept = dlsym(RTLD_NEXT, "accept");
	if (!real_accept) {
		errno = ENOSYS;
		return -1;
	}
	struct sockaddr_storage own;
	socklen_t own_len = sizeof(own);
	struct sockaddr *where = sa ? sa : (struct sockaddr *)&own;
	socklen_t *where_len = sa ? len : &own_len;
	int c = real_accept(fd, where, where_len);
	unsigned char key[16];
	if (c < 0 || !gate.limit || !addr_key(where, key) || gate_enter(key))
		return c;
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
	                           "Content-Length: 64\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
	                           "{\"error\": \"too many connections from your address; retry later\"}";
	_Static_assert(sizeof("{\"error\": \"too many connections from your address; retry later\"}") - 1 == 64,
	               "Content-Length of the busy answer");
	(void)!send(c, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(c);
	errno = EAGAIN; /* CivetWeb's master loop goes back to poll() */
	return -1;
}

static void on_connection_close(const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	unsigned char key[16];
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	if (!gate.limit || !ri)
		return;
	if (inet_pton(AF_INET, ri->remote_addr, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		addr_key((struct sockaddr *)&a4, key);
	} else if (inet_pton(AF_INET6, ri->remote_addr, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		addr_key((struct sockaddr *)&a6, key);
	} else {
		return;
	}
	gate_leave(key);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/*
 * ---- Body deadlines ----
 * mg_read() waits for the bytes it was asked for as long as each one comes
 * within the request timeout: a body sent a byte a second would hold its
 * worker for as many seconds as it has bytes. A worker reading a body is
 * registered here with its deadline; past it, a watchdog thread interrupts
 * the worker's poll() with a signal (no SA_RESTART: poll returns EINTR,
 * CivetWeb's read gives up), and read_body answers 408.
 */
typedef struct body_watch {
	pthread_t thread;
	double deadline; /* now_ms() clock */
	struct body_watch *next;
} body_watch;
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	body_watch *list;
	bool stop;
	pthread_t thread;
	bool started;
} watchdog = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false, 0, false};

#define WATCH_SIGNAL SIGUSR2

static void on_watch_signal(int sig)
{
	(void)sig; /* only to interrupt a blocking call */
}

static void *watchdog_run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&watchdog.lock);
	while (!watchdog.stop) {
		/* ten ticks a second whatever the load: a reader never wakes this thread (a wake per POST cost 25% of
		 * /api/predict's CPU in bench/http-cpu.sh) */
		double now = now_ms();
		for (body_watch *w = watchdog.list; w; w = w->next)
			if (now > w->deadline)
				pthread_kill(w->thread, WATCH_SIGNAL); /* again each tick until the reader leaves */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&watchdog.wake, &watchdog.lock, &ts);
	}
	pthread_mutex_unlock(&watchdog.lock);
	return NULL;
}

static void watch_add(body_watch *w)
{
	pthread_mutex_lock(&watchdog.lock);
	w->next = watchdog.list;
	watchdog.list = w;
	pthread_mutex_unlock(&watchdog.lock);
}

static void watch_remove(body_watch *w)
{
	pthread_mutex_lock(&watchdog.lock);
	body_watch **p = &watchdog.list;
	while (*p && *p != w)
		p = &(*p)->next;
	if (*p)
		*p = w->next;
	pthread_mutex_unlock(&watchdog.lock);
}

/*
 * Read the request body, up to max + 1 bytes (so an overlong one is noticed),
 * within request_timeout_ms: *late is set when the client was too slow.
 */
static char *read_body(struct mg_connection *conn, size_t max, size_t *out_len, bool *late)
{
	double deadline = now_ms() + request_timeout_ms;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	body_watch watch = {pthread_self(), deadline, NULL};
	watch_add(&watch);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				watch_remove(&watch);
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		int r = mg_read(conn, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > max)
			break;
		if (now_ms() > deadline) {
			*late = true;
			break;
		}
	}
	watch_remove(&watch);
	if (now_ms() > deadline)
		*late = true;
	buf[n] = '\0';
	*out_len = n;
	return buf;
}

static int write_all(struct mg_connection *conn, const char *data, size_t n)
{
	while (n > 0) {
		int w = mg_write(conn, data, n > (1u << 30) ? (1u << 30) : n);
		if (w <= 0)
			return -1;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * One access-log field: bytes below 0x20, 0x7f, '\\' and '"' as \xNN (a
 * forged line or a terminal escape cannot get through), and the value of a
 * token= query parameter as "***".
 */
static void log_field(FILE *f, const char *s, bool query)
{
	for (const char *p = s; p && *p; p++) {
		if (query && (p == s || p[-1] == '&') && !strncmp(p, "token=", 6)) {
			fputs("token=***", f);
			p += 6 + strcspn(p + 6, "&");
			if (!*p)
				break;
		}
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '"')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void log_access(const struct mg_request_info *ri, const char *method, const char *path, const char *query,
                       int status, size_t bytes, double t0)
{
	if (!access_log)
		return;
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(access_log, "%s %s ", stamp, ri && ri->remote_addr[0] ? ri->remote_addr : "-");
	log_field(access_log, method && *method ? method : "-", false);
	fputc(' ', access_log);
	log_field(access_log, path && *path ? path : "-", false);
	if (query) {
		fputc('?', access_log);
		log_field(access_log, query, true);
	}
	fprintf(access_log, " %d %zu %.2fms\n", status, bytes, now_ms() - t0);
	pthread_mutex_unlock(&log_lock);
}

/* The request's fields api_handle() looks at. */
static void request_of(struct mg_connection *conn, const struct mg_request_info *ri, api_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = ri->request_method;
	rq->path = ri->local_uri ? ri->local_uri : ri->request_uri;
	rq->query = ri->query_string;
	rq->content_length = ri->content_length;
	rq->authorization = mg_get_header(conn, "Authorization");
	rq->cookie = mg_get_header(conn, "Cookie");
	rq->host = mg_get_header(conn, "Host");
	rq->origin = mg_get_header(conn, "Origin");
	rq->acr_method = mg_get_header(conn, "Access-Control-Request-Method");
}

/* A JSON error that ends the exchange: the connection is closed after it. */
static void closing_error(api_response *rs, int status, const char *json)
{
	rs->status = status;
	rs->content_type = "application/json; charset=utf-8";
	rs->body = strdup(json);
	rs->body_len = rs->body ? strlen(rs->body) : 0;
	rs->close = true;
}

/*
 * The body of a POST or PUT into *body (malloc'd) and rq: false, with the
 * closing answer in rs, when it is over --max-body (announced or sent: it is
 * not read) or late.
 */
static bool take_body(struct mg_connection *conn, const api_ctx *ctx, api_request *rq, char **body, api_response *rs)
{
	bool late = false;
	if (strcmp(rq->method, "POST") != 0 && strcmp(rq->method, "PUT") != 0)
		return true;
	if (rq->content_length <= 0 || (size_t)rq->content_length <= ctx->max_body) {
		rq->body = *body = read_body(conn, ctx->max_body, &rq->body_len, &late);
		if (late) {
			closing_error(rs, 408, "{\"error\": \"the request body did not arrive in time\"}");
			return false;
		}
		if (rq->body_len <= ctx->max_body)
			return true;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "{\"error\": \"request body over the limit of %zu bytes\"}", ctx->max_body);
	closing_error(rs, 413, msg);
	return false;
}

/* The response's header block into hdr; its length, or -1 when it does not fit. */
static int format_head(const api_response *rs, size_t len, char *hdr, size_t cap)
{
	int h = snprintf(hdr, cap,
	                 "HTTP/1.1 %d %s\r\n"
	                 "Content-Type: %s\r\n"
	                 "Content-Length: %zu\r\n"
	                 "X-Content-Type-Options: nosniff\r\n"
	                 "%s%s%s"
	                 "%s%s%s"
	                 "%s"
	                 "%s%s%s"
	                 "%s%s%s"
	                 "%s%s%s"
	                 "%s"
	                 "\r\n",
	                 rs->status, reason(rs->status),
	                 rs->content_type ? rs->content_type : "application/octet-stream", len,
	                 rs->allow ? "Allow: " : "", rs->allow ? rs->allow : "", rs->allow ? "\r\n" : "",
	                 rs->cors_origin ? "Access-Control-Allow-Origin: " : "", rs->cors_origin ? rs->cors_origin : "",
	                 rs->cors_origin ? "\r\nVary: Origin\r\n" : "",
	                 rs->preflight ? "Access-Control-Allow-Methods: GET, POST\r\n"
	                                 "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
	                                 "Access-Control-Max-Age: 600\r\n"
	                               : "",
	                 rs->www_authenticate ? "WWW-Authenticate: " : "",
	                 rs->www_authenticate ? rs->www_authenticate : "", rs->www_authenticate ? "\r\n" : "",
	                 rs->set_cookie ? "Set-Cookie: " : "", rs->set_cookie ? rs->set_cookie : "",
	                 rs->set_cookie ? "\r\n" : "",
	                 rs->location ? "Location: " : "", rs->location ? rs->location : "", rs->location ? "\r\n" : "",
	                 rs->close ? "Connection: close\r\n" : (rs->no_store ? "Cache-Control: no-store\r\n" : ""));
	return h < 0 || (size_t)h >= cap ? -1 : h;
}

/* Open the file a response streams; a vanished file becomes a 404. *len is the body's length. */
static FILE *open_file_body(api_ctx *ctx, api_response *rs, size_t *len)
{
	FILE *f = fopen(rs->file_path, "rb");
	if (f && fseeko(f, 0, SEEK_END) == 0) {
		*len = (size_t)ftello(f);
		rewind(f);
		return f;
	}
	if (f)
		fclose(f);
	api_response_clear(ctx, rs);
	rs->status = 404;
	rs->content_type = "application/json; charset=utf-8";
	rs->body = strdup("{\"error\": \"no such artifact\"}");
	*len = rs->body_len = rs->body ? strlen(rs->body) : 0;
	return NULL;
}

/* Write the response; returns the body bytes for the log. */
static size_t send_response(struct mg_connection *conn, api_ctx *ctx, api_response *rs, bool head)
{
	size_t len = rs->blob ? rs->blob->len : rs->body_len;
	FILE *f = rs->file_path ? open_file_body(ctx, rs, &len) : NULL;
	char hdr[1536];
	int h = format_head(rs, len, hdr, sizeof(hdr));
	if (h < 0) { /* only a Set-Cookie of an absurd token could get here; tokens are checked at start */
		h = snprintf(hdr, sizeof(hdr), "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
		                               "Connection: close\r\n\r\n");
		mg_disable_connection_keep_alive(conn);
		rs->status = 500;
		head = true;
	}
	head = head || rs->status == 204;
	const char *mem = rs->blob ? rs->blob->data : rs->body;
	int rc = 0;
	bool body_sent = false;
	if (!head && !f && mem && len <= (256u << 10)) {
		/* Header and body in one send: one syscall and one segment train fewer per request. */
		char *one = malloc((size_t)h + len);
		if (one) {
			memcpy(one, hdr, (size_t)h);
			memcpy(one + h, mem, len);
			rc = write_all(conn, one, (size_t)h + len);
			free(one);
			body_sent = true;
		}
	}
	if (!body_sent)
		rc = write_all(conn, hdr, (size_t)h);
	if (!rc && !head && !body_sent) {
		if (f) {
			/* Worker stacks are small (CivetWeb's default): stream through a heap buffer. */
			char *buf = malloc(65536);
			size_t r;
			while (buf && !rc && (r = fread(buf, 1, 65536, f)) > 0)
				rc = write_all(conn, buf, r);
			free(buf);
		} else if (mem) {
			rc = write_all(conn, mem, len);
		}
	}
	if (f)
		fclose(f);
	return head ? 0 : len;
}

static int handler(struct mg_connection *conn, void *cbdata)
{
	api_ctx *ctx = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	double t0 = now_ms();
	api_request rq;
	api_response rs;
	char *body = NULL;
	memset(&rs, 0, sizeof(rs));
	request_of(conn, ri, &rq);
	if (take_body(conn, ctx, &rq, &body, &rs))
		api_handle(ctx, &rq, &rs);
	if (rs.close)
		mg_disable_connection_keep_alive(conn); /* CivetWeb then closes instead of draining the body */
	size_t sent = send_response(conn, ctx, &rs, !strcmp(rq.method, "HEAD"));
	log_access(ri, rq.method, rq.path, rq.query, rs.status, sent, t0);
	int status = rs.status ? rs.status : 200;
	api_response_clear(ctx, &rs);
	bool big = body && rq.body_len > (1u << 20);
	free(body);
#if defined(__GLIBC__)
	if (big)
		malloc_trim(0); /* a big body's pages go back to the system at once */
#else
	(void)big;
#endif
	/* Returning the status tells CivetWeb the request was handled (keep-alive continues). */
	return status;
}

/*
 * CivetWeb's own errors (a malformed request line, a missing length, an
 * unsupported version, headers over the limit): the JSON error of the
 * contract, with our words (the request's own text is never echoed), and the
 * connection closed.
 */
static int on_http_error(struct mg_connection *conn, int status, const char *msg)
{
	(void)msg;
	const char *what;
	switch (status) {
	case 400: what = "malformed request"; break;
	case 411: what = "a request body needs a Content-Length"; break;
	case 413: what = "request headers too large"; status = 431; break;
	case 505: what = "only HTTP/1.0 and HTTP/1.1 are served"; break;
	default: what = NULL; break;
	}
	char out[512];
	char body[160];
	int bn = what ? snprintf(body, sizeof(body), "{\"error\": \"%s\"}", what)
	              : snprintf(body, sizeof(body), "{\"error\": \"the request could not be served (HTTP %d)\"}", status);
	int n = snprintf(out, sizeof(out),
	                 "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
	                 "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
	                 status, reason(status), bn, body);
	mg_disable_connection_keep_alive(conn);
	write_all(conn, out, (size_t)n);
	log_access(mg_get_request_info(conn), NULL, NULL, NULL, status, (size_t)bn, now_ms());
	return 0; /* handled */
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	fprintf(stderr, "churn-httpd: civetweb: %s\n", message);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: churn-httpd [--workdir DIR] [--listen ADDR:PORT] [--threads N] [--token T | --token-file FILE]\n"
	        "                   [--allowed-host NAME]... [--cors ORIGIN]... [--max-body BYTES]\n"
	        "                   [--max-per-client N] [--request-timeout MS] [--access-log FILE|-|off]\n"
	        "                   [--public-without-token]\n"
	        "  Serves the HTTP API and dashboard of a libchurn workdir.\n"
	        "  --workdir DIR        workdir (default $CHURN_WORKDIR, else .)\n"
	        "  --listen ADDR:PORT   address to bind (default 127.0.0.1:8080; a bare PORT binds 127.0.0.1;\n"
	        "                       [::1]:PORT for IPv6; port 0 picks one)\n"
	        "  --threads N          worker threads = most connections served at once (default 256)\n"
	        "  --token T            every request but /api/health needs 'Authorization: Bearer T' or the\n"
	        "                       dashboard's cookie (sign in at /); also from --token-file FILE (first\n"
	        "                       line) or $CHURN_HTTPD_TOKEN, which keep it out of `ps`\n"
	        "  --allowed-host NAME  a Host name to answer besides localhost and IP literals (repeatable)\n"
	        "  --cors ORIGIN        send CORS headers to this exact origin, GET and POST only (repeatable)\n"
	        "  --max-body BYTES     largest request body (default 1048576)\n"
	        "  --max-per-client N   open connections per client address (default: half the threads)\n"
	        "  --request-timeout MS time for a request's headers, and again for its body (default 10000)\n"
	        "  --access-log FILE    access log lines to FILE, '-' for stdout (default), 'off'\n"
	        "  --public-without-token  allow a non-loopback address without a token\n");
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "churn-httpd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(64);
}

/* A positive decimal number from 1 to max, or exit 64 naming the option. */
static unsigned long long parse_count(const char *opt, const char *v, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long n = (v[0] >= '0' && v[0] <= '9') ? strtoull(v, &end, 10) : 0;
	if (v[0] < '0' || v[0] > '9' || *end || errno || n == 0 || n > max) {
		fprintf(stderr, "churn-httpd: %s: '%s' is not a number from 1 to %llu\n", opt, v, max);
		exit(64);
	}
	return n;
}

/* The token from a file's first line (mode checked: not readable by others). */
static char *read_token_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "churn-httpd: --token-file %s: %s\n", path, strerror(errno));
		exit(66);
	}
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 0004))
		fprintf(stderr, "churn-httpd: warning: token file %s is readable by every user (chmod 600)\n", path);
	char line[1024];
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

/* The token goes into a cookie and a header: printable ASCII without separators, 16 to 512 bytes. */
static void check_token(const char *t)
{
	size_t n = strlen(t);
	if (n < 16 || n > 512) {
		fprintf(stderr, "churn-httpd: the token must be 16 to 512 characters long (it is %zu); "
		                "e.g. `head -c 24 /dev/urandom | base64`\n", n);
		exit(64);
	}
	for (const char *p = t; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') {
			fprintf(stderr, "churn-httpd: the token may hold printable ASCII characters only, without spaces, "
			                "';', ',', '\"' or '\\'\n");
			exit(64);
		}
	}
}

/*
 * --listen into CivetWeb's listening_ports and the bound host: a bare port
 * binds 127.0.0.1; "[v6]:port" and "v4:port" as given. *loopback tells
 * whether only this machine can connect.
 */
static void parse_listen(const char *v, char *ports, size_t cap, char *host, size_t hcap, bool *loopback)
{
	const char *port;
	if (v[0] == '[') {
		const char *end = strchr(v, ']');
		if (!end || end[1] != ':')
			die_usage("--listen: '%s' is not [IPV6]:PORT", v);
		snprintf(host, hcap, "%.*s", (int)(end - v - 1), v + 1);
		port = end + 2;
	} else if (strchr(v, ':')) {
		const char *colon = strrchr(v, ':');
		snprintf(host, hcap, "%.*s", (int)(colon - v), v);
		port = colon + 1;
	} else {
		snprintf(host, hcap, "127.0.0.1");
		port = v;
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (!*port || *end || pn < 0 || pn > 65535 || port[0] == '-' || port[0] == '+')
		die_usage("--listen: '%s' has no port from 0 to 65535", v);
	unsigned char a[16];
	bool v6 = inet_pton(AF_INET6, host, a) == 1;
	if (!v6 && inet_pton(AF_INET, host, a) != 1)
		die_usage("--listen: '%s' is not an IP address (name resolution is not done here)", host);
	*loopback = v6 ? (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0) : a[0] == 127;
	if (v6)
		snprintf(ports, cap, "[%s]:%ld", host, pn);
	else
		snprintf(ports, cap, "%s:%ld", host, pn);
	/* the wildcard addresses: every Host that is an IP literal is this server */
	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		host[0] = '\0';
}

#define MAX_LIST 32

/* The command line, checked. */
typedef struct options {
	const char *workdir, *listen, *token, *token_file, *logfile;
	const char *hosts[MAX_LIST], *origins[MAX_LIST];
	size_t nhosts, norigins, max_body;
	long threads;
	unsigned long long per_client;
	bool public_ok;
	/* derived */
	char *owned_token;
	char ports[128], host[64];
	bool loopback;
} options;

/* One option at argv[*i] (its value at argv[*i + 1]); exits 0 for --help/--version, 64 on a bad one. */
static void parse_option(options *o, int argc, char **argv, int *i, const char **threads)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && (v || (fprintf(stderr, "churn-httpd: %s needs a value\n", name), exit(64), 0)) && ++*i)
	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		usage(stdout);
		exit(0);
	} else if (!strcmp(a, "--version")) {
		printf("churn-httpd %s\n", churn_version());
		exit(0);
	} else if (OPT("--workdir")) {
		o->workdir = v;
	} else if (OPT("--listen")) {
		o->listen = v;
	} else if (OPT("--threads")) {
		*threads = v;
	} else if (OPT("--token")) {
		o->token = v;
	} else if (OPT("--token-file")) {
		o->token_file = v;
	} else if (OPT("--allowed-host")) {
		if (o->nhosts == MAX_LIST)
			die_usage("--allowed-host: at most %s names", "32");
		o->hosts[o->nhosts++] = v;
	} else if (OPT("--cors")) {
		if (o->norigins == MAX_LIST)
			die_usage("--cors: at most %s origins", "32");
		if (!strcmp(v, "*") || !strncmp(v, "null", 4) || !strstr(v, "://") || strchr(strstr(v, "://") + 3, '/'))
			die_usage("--cors: '%s' is not an origin like https://app.example.com ('*' is not accepted)", v);
		o->origins[o->norigins++] = v;
	} else if (OPT("--access-log")) {
		o->logfile = v;
	} else if (OPT("--max-body")) {
		o->max_body = (size_t)parse_count("--max-body", v, 1ull << 32);
	} else if (OPT("--max-per-client")) {
		o->per_client = parse_count("--max-per-client", v, 1024);
	} else if (OPT("--request-timeout")) {
		request_timeout_ms = (double)parse_count("--request-timeout", v, 600000);
	} else if (!strcmp(a, "--public-without-token")) {
		o->public_ok = true;
	} else {
		die_usage("unknown option '%s'", a);
	}
#undef OPT
}

/* Parse and check the command line: exits 64 (usage) or 66 (token file) on a bad one. */
static void parse_options(options *o, int argc, char **argv)
{
	const char *wd = getenv("CHURN_WORKDIR"), *threads = "256";
	memset(o, 0, sizeof(*o));
	o->workdir = (wd && *wd) ? wd : ".";
	o->listen = "127.0.0.1:8080";
	o->logfile = "-";
	o->max_body = 1u << 20;
	for (int i = 1; i < argc; i++)
		parse_option(o, argc, argv, &i, &threads);
	o->threads = (long)parse_count("--threads", threads, 1024);
	if (!o->per_client)
		o->per_client = o->threads > 1 ? (unsigned long long)o->threads / 2 : 1;
	if (o->per_client > (unsigned long long)o->threads)
		o->per_client = (unsigned long long)o->threads;
	if (o->token && o->token_file)
		die_usage("%s: give --token or --token-file, not both", "--token-file");
	if (o->token_file)
		o->token = o->owned_token = read_token_file(o->token_file);
	else if (!o->token && getenv("CHURN_HTTPD_TOKEN") && *getenv("CHURN_HTTPD_TOKEN"))
		o->token = getenv("CHURN_HTTPD_TOKEN");
	if (o->token)
		check_token(o->token);
	parse_listen(o->listen, o->ports, sizeof(o->ports), o->host, sizeof(o->host), &o->loopback);
	if (!o->loopback && !o->token && !o->public_ok) {
		fprintf(stderr, "churn-httpd: --listen %s reaches beyond this machine and no token is set: give --token-file "
		                "FILE (or $CHURN_HTTPD_TOKEN), or --public-without-token if everyone who can reach it may "
		                "read the customer data\n", o->listen);
		exit(64);
	}
}

/* Signals: SIGINT/SIGTERM stop, SIGPIPE ignored, the watchdog's signal interrupts; the watchdog thread. */
static void start_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction wa = {0};
	wa.sa_handler = on_watch_signal; /* no SA_RESTART: the worker's poll() returns */
	sigaction(WATCH_SIGNAL, &wa, NULL);
	if (pthread_create(&watchdog.thread, NULL, watchdog_run, NULL) == 0)
		watchdog.started = true;
}

static void stop_watchdog(void)
{
	if (!watchdog.started)
		return;
	pthread_mutex_lock(&watchdog.lock);
	watchdog.stop = true;
	pthread_cond_signal(&watchdog.wake);
	pthread_mutex_unlock(&watchdog.lock);
	pthread_join(watchdog.thread, NULL);
}

/* CivetWeb on the parsed options, serving ctx until SIGINT/SIGTERM; the exit status. */
static int serve(const options *o, api_ctx *ctx)
{
	char nthreads_s[16], timeout_s[32];
	snprintf(nthreads_s, sizeof(nthreads_s), "%ld", o->threads);
	snprintf(timeout_s, sizeof(timeout_s), "%.0f", request_timeout_ms);
	const char *mg_options[] = {
		"listening_ports", o->ports,
		"num_threads", nthreads_s,
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", "5000",
		"request_timeout_ms", timeout_s, /* CivetWeb: the whole header, from its first byte */
		"tcp_nodelay", "1",
		"listen_backlog", "1024",
		"connection_queue", "1024",
		/* CivetWeb answers CORS preflights itself with '*' unless this is empty: api.c answers them */
		"access_control_allow_methods", "",
		"access_control_allow_origin", "",
		"access_control_allow_headers", "",
		NULL};
	struct mg_callbacks cb = {0};
	cb.log_message = log_message;
	cb.http_error = on_http_error;
	cb.connection_close = on_connection_close;
	gate.limit = (unsigned)o->per_client;
	mg_init_library(0);
	struct mg_context *mg = mg_start(&cb, ctx, mg_options);
	if (!mg) {
		fprintf(stderr, "churn-httpd: cannot listen on %s (address in use, not on this machine, or IPv6 off)\n",
		        o->listen);
		mg_exit_library();
		return 69;
	}
	mg_set_request_handler(mg, "/", handler, ctx);
	struct mg_server_port sp[4];
	int np = mg_get_server_ports(mg, 4, sp);
	for (int i = 0; i < np; i++)
		fprintf(stderr, "churn-httpd %s: serving %s, listening on %s (port %d, %ld threads, %llu per client%s%s)\n",
		        churn_version(), o->workdir, o->ports, sp[i].port, o->threads, o->per_client,
		        o->token ? ", token required" : "", o->loopback ? "" : ", reachable from other machines");
	fflush(stderr);
	while (!stop_requested)
		pause();
	fprintf(stderr, "churn-httpd: shutting down\n");
	mg_stop(mg);
	gate.limit = 0;
	mg_exit_library();
	return 0;
}

int main(int argc, char **argv)
{
	options o;
	parse_options(&o, argc, argv);
	if (access(o.workdir, R_OK | X_OK) != 0) {
		fprintf(stderr, "churn-httpd: workdir %s: %s\n", o.workdir, strerror(errno));
		return 66;
	}
	if (!strcmp(o.logfile, "-"))
		access_log = stdout;
	else if (strcmp(o.logfile, "off") != 0 && !(access_log = fopen(o.logfile, "a"))) {
		fprintf(stderr, "churn-httpd: access log %s: %s\n", o.logfile, strerror(errno));
		return 73;
	}
	if (access_log)
		setvbuf(access_log, NULL, _IOLBF, 0);
	api_ctx ctx;
	if (api_ctx_init(&ctx, o.workdir) != 0) {
		fprintf(stderr, "churn-httpd: cannot initialise\n");
		return 70;
	}
	ctx.token = o.token;
	ctx.max_body = o.max_body;
	ctx.allowed_hosts = o.hosts;
	ctx.nallowed_hosts = o.nhosts;
	ctx.listen_host = o.host[0] ? o.host : NULL;
	ctx.cors_origins = o.origins;
	ctx.ncors_origins = o.norigins;
	ctx.dashboard = asset_dashboard_html;
	ctx.dashboard_len = asset_dashboard_html_len;
	ctx.openapi = asset_openapi_json;
	ctx.openapi_len = asset_openapi_json_len;
	start_signals();
	int rc = serve(&o, &ctx);
	stop_watchdog();
	api_ctx_destroy(&ctx);
	gate_free();
	free(o.owned_token);
	if (access_log && access_log != stdout)
		fclose(access_log);
	return rc;
}
