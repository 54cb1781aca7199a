/*
 * churn-httpd: the HTTP API and dashboard of a libchurn workdir, on CivetWeb.
 * This file is the socket side: options, CivetWeb setup, reading requests,
 * writing responses, the access log and signals. Routing is api.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "api.h"
#include "assets.h"

static volatile sig_atomic_t stop_requested;
static FILE *access_log;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *cors_origin;

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
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
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

/* Read the request body, up to max + 1 bytes (so an overlong one is noticed). */
static char *read_body(struct mg_connection *conn, size_t max, size_t *out_len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
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
	}
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

static int handler(struct mg_connection *conn, void *cbdata)
{
	api_ctx *ctx = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	double t0 = now_ms();
	api_request rq = {0};
	rq.method = ri->request_method;
	rq.path = ri->local_uri ? ri->local_uri : ri->request_uri;
	rq.query = ri->query_string;
	rq.content_length = ri->content_length;
	rq.authorization = mg_get_header(conn, "Authorization");
	char *body = NULL;
	bool too_big = false;
	if (!strcmp(rq.method, "POST") || !strcmp(rq.method, "PUT")) {
		if (ri->content_length > 0 && (size_t)ri->content_length > ctx->max_body) {
			too_big = true; /* do not read it; the connection is closed after the answer */
		} else {
			body = read_body(conn, ctx->max_body, &rq.body_len);
			rq.body = body;
			too_big = rq.body_len > ctx->max_body;
		}
	}
	api_response rs;
	if (too_big) {
		memset(&rs, 0, sizeof(rs));
		rq.body_len = ctx->max_body + 1;
	}
	api_handle(ctx, &rq, &rs);

	/* Headers */
	FILE *f = NULL;
	size_t len = rs.blob ? rs.blob->len : rs.body_len;
	if (rs.file_path) {
		f = fopen(rs.file_path, "rb");
		if (!f || fseeko(f, 0, SEEK_END) != 0) {
			if (f)
				fclose(f);
			f = NULL;
			api_response_clear(ctx, &rs);
			rs.status = 404;
			rs.content_type = "application/json; charset=utf-8";
			rs.body = strdup("{\"error\": \"no such artifact\"}");
			rs.body_len = rs.body ? strlen(rs.body) : 0;
			len = rs.body_len;
		} else {
			len = (size_t)ftello(f);
			rewind(f);
		}
	}
	char hdr[1024];
	int h = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %d %s\r\n"
	                 "Content-Type: %s\r\n"
	                 "Content-Length: %zu\r\n"
	                 "X-Content-Type-Options: nosniff\r\n"
	                 "%s%s%s"
	                 "%s%s%s"
	                 "%s"
	                 "\r\n",
	                 rs.status, reason(rs.status), rs.content_type ? rs.content_type : "application/octet-stream", len,
	                 rs.allow ? "Allow: " : "", rs.allow ? rs.allow : "", rs.allow ? "\r\n" : "",
	                 cors_origin ? "Access-Control-Allow-Origin: " : "", cors_origin ? cors_origin : "",
	                 cors_origin ? "\r\nVary: Origin\r\n" : "",
	                 too_big ? "Connection: close\r\n" : (rs.no_store ? "Cache-Control: no-store\r\n" : ""));
	bool head = !strcmp(rq.method, "HEAD"), body_sent = false;
	const char *mem = rs.blob ? rs.blob->data : rs.body;
	int rc;
	if (!head && !f && mem && len <= (256u << 10) && (size_t)h < sizeof(hdr)) {
		/* Header and body in one send: one syscall and one segment train fewer per request. */
		char *one = malloc((size_t)h + len);
		if (one) {
			memcpy(one, hdr, (size_t)h);
			memcpy(one + h, mem, len);
			rc = write_all(conn, one, (size_t)h + len);
			free(one);
			body_sent = true;
		} else {
			rc = write_all(conn, hdr, (size_t)h);
		}
	} else {
		rc = write_all(conn, hdr, (size_t)h);
	}
	if (!rc && !head && !body_sent) {
		if (f) {
			/* Worker stacks are small (CivetWeb's default): stream through a heap buffer. */
			char *buf = malloc(65536);
			size_t r;
			while (buf && !rc && (r = fread(buf, 1, 65536, f)) > 0)
				rc = write_all(conn, buf, r);
			free(buf);
		} else if (rs.blob) {
			rc = write_all(conn, rs.blob->data, rs.blob->len);
		} else if (rs.body) {
			rc = write_all(conn, rs.body, rs.body_len);
		}
	}
	if (f)
		fclose(f);
	if (access_log) {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pthread_mutex_lock(&log_lock);
		fprintf(access_log, "%s %s %s %s%s%s %d %zu %.2fms\n", stamp, ri->remote_addr, rq.method, rq.path,
		        rq.query ? "?" : "", rq.query ? rq.query : "", rs.status, head ? 0 : len, now_ms() - t0);
		pthread_mutex_unlock(&log_lock);
	}
	api_response_clear(ctx, &rs);
	free(body);
	/* Returning the status tells CivetWeb the request was handled (keep-alive continues). */
	return rs.status ? rs.status : 200;
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
	        "usage: churn-httpd [--workdir DIR] [--listen ADDR:PORT] [--threads N] [--token T]\n"
	        "                   [--cors ORIGIN] [--max-body BYTES] [--access-log FILE|-|off]\n"
	        "  Serves the HTTP API and dashboard of a libchurn workdir.\n"
	        "  --workdir DIR      workdir (default $CHURN_WORKDIR, else .)\n"
	        "  --listen ADDR:PORT address to bind (default 127.0.0.1:8080; port 0 picks one)\n"
	        "  --threads N        worker threads = most connections served at once (default 128;\n"
	        "                     a keep-alive connection holds its worker until it closes)\n"
	        "  --token T          require 'Authorization: Bearer T' on POST /api/predict\n"
	        "  --cors ORIGIN      send Access-Control-Allow-Origin: ORIGIN (default: no CORS)\n"
	        "  --max-body BYTES   largest request body (default 1048576)\n"
	        "  --access-log FILE  access log lines to FILE, '-' for stdout (default), 'off'\n");
}

int main(int argc, char **argv)
{
	const char *wd = getenv("CHURN_WORKDIR");
	const char *workdir = (wd && *wd) ? wd : ".";
	const char *listen = "127.0.0.1:8080", *threads = "128", *token = NULL, *logfile = "-";
	size_t max_body = 1u << 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && (v || (fprintf(stderr, "churn-httpd: %s needs a value\n", name), exit(64), 0)) && ++i)
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("churn-httpd %s\n", churn_version());
			return 0;
		} else if (OPT("--workdir")) {
			workdir = v;
		} else if (OPT("--listen")) {
			listen = v;
		} else if (OPT("--threads")) {
			threads = v;
		} else if (OPT("--token")) {
			token = v;
		} else if (OPT("--cors")) {
			cors_origin = v;
		} else if (OPT("--access-log")) {
			logfile = v;
		} else if (OPT("--max-body")) {
			char *end;
			unsigned long long b = strtoull(v, &end, 10);
			if (*end || b == 0) {
				fprintf(stderr, "churn-httpd: --max-body: '%s' is not a positive number of bytes\n", v);
				return 64;
			}
			max_body = (size_t)b;
		} else {
			fprintf(stderr, "churn-httpd: unknown option '%s' (see --help)\n", a);
			return 64;
		}
#undef OPT
	}
	char *end;
	long nthreads = strtol(threads, &end, 10);
	if (*end || nthreads < 1 || nthreads > 1024) {
		fprintf(stderr, "churn-httpd: --threads: '%s' is not a number from 1 to 1024\n", threads);
		return 64;
	}
	if (access(workdir, R_OK | X_OK) != 0) {
		fprintf(stderr, "churn-httpd: workdir %s: %s\n", workdir, strerror(errno));
		return 66;
	}
	if (!strcmp(logfile, "-"))
		access_log = stdout;
	else if (strcmp(logfile, "off") != 0 && !(access_log = fopen(logfile, "a"))) {
		fprintf(stderr, "churn-httpd: access log %s: %s\n", logfile, strerror(errno));
		return 73;
	}
	if (access_log)
		setvbuf(access_log, NULL, _IOLBF, 0);

	api_ctx ctx;
	if (api_ctx_init(&ctx, workdir) != 0) {
		fprintf(stderr, "churn-httpd: cannot initialise\n");
		return 70;
	}
	ctx.token = token;
	ctx.max_body = max_body;
	ctx.dashboard = asset_dashboard_html;
	ctx.dashboard_len = asset_dashboard_html_len;
	ctx.openapi = asset_openapi_json;
	ctx.openapi_len = asset_openapi_json_len;

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	mg_init_library(0);
	char nthreads_s[16];
	snprintf(nthreads_s, sizeof(nthreads_s), "%ld", nthreads);
	const char *options[] = {
		"listening_ports", listen,
		"num_threads", nthreads_s,
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", "5000",
		"request_timeout_ms", "10000",
		"tcp_nodelay", "1",
		"listen_backlog", "1024",
		"connection_queue", "1024",
		NULL};
	struct mg_callbacks cb = {0};
	cb.log_message = log_message;
	struct mg_context *mg = mg_start(&cb, &ctx, options);
	if (!mg) {
		fprintf(stderr, "churn-httpd: cannot listen on %s (address in use or not allowed)\n", listen);
		api_ctx_destroy(&ctx);
		return 69;
	}
	mg_set_request_handler(mg, "/", handler, &ctx);
	struct mg_server_port ports[4];
	int np = mg_get_server_ports(mg, 4, ports);
	for (int i = 0; i < np; i++)
		fprintf(stderr, "churn-httpd %s: serving %s, listening on %s (port %d, %ld threads)\n", churn_version(),
		        workdir, listen, ports[i].port, nthreads);
	fflush(stderr);
	while (!stop_requested)
		pause();
	fprintf(stderr, "churn-httpd: shutting down\n");
	mg_stop(mg);
	mg_exit_library();
	api_ctx_destroy(&ctx);
	if (access_log && access_log != stdout)
		fclose(access_log);
	return 0;
}
