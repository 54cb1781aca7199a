/*
 * PostgreSQL plumbing shared by the source (fetch-pg.c) and the sink
 * (pg-sink.c): the URL, its masked form, libpq loaded on first use,
 * connections and error mapping. See pg-private.h.
 */
#include "pg-private.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "churn/param-keys.h"
#include "core-private.h"
#include "params-private.h"

#define MASK "***"

bool ch_pg_is_url(const char *s)
{
	return s && (strncasecmp(s, "postgresql://", 13) == 0 || strncasecmp(s, "postgres://", 11) == 0);
}

/* Parameters whose values are shown in the masked URL; every other value (password, sslpassword, ...) is "***". */
static bool shown_param(const char *name, size_t n)
{
	static const char *const keep[] = {
		"table", "query", "host", "hostaddr", "port", "dbname", "user", "sslmode", "connect_timeout",
		"application_name", "fallback_application_name", "target_session_attrs", "gssencmode", "client_encoding",
		"options", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"channel_binding", "sslrootcert", "sslcert", "sslkey", "sslcrl", "service", "load_balance_hosts", NULL};
	for (size_t k = 0; keep[k]; k++)
		if (strlen(keep[k]) == n && strncmp(keep[k], name, n) == 0)
			return true;
	return false;
}

/* Percent-decode [s, s+n) into a new string; NULL on a bad escape or %00 (*bad set) or OOM. */
static char *pct_decode(const char *s, size_t n, bool *bad)
{
	char *out = malloc(n + 1), *o = out;
	*bad = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		int a = i + 2 < n ? ch_hexval(s[i + 1]) : -1, b = a >= 0 ? ch_hexval(s[i + 2]) : -1;
		if (a < 0 || b < 0 || (a == 0 && b == 0)) {
			free(out);
			*bad = true;
			return NULL;
		}
		*o++ = (char)(a * 16 + b);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* The parts of a URI: [scheme://][userinfo@]hostspec[/db][?params]. */
struct uri_parts {
	size_t scheme_n;           /* "postgresql://" */
	const char *user, *pw;     /* userinfo pieces (pw NULL when no ':') */
	size_t user_n, pw_n;
	const char *host;          /* hostspec and path, up to '?' */
	size_t host_n;
	const char *query;         /* after '?', or NULL */
};

static void split_uri(const char *url, struct uri_parts *u)
{
	memset(u, 0, sizeof(*u));
	u->scheme_n = strstr(url, "://") - url + 3;
	const char *auth = url + u->scheme_n;
	size_t auth_n = strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *q = auth; q < auth + auth_n; q++)
		if (*q == '@')
			at = q; /* the last '@': a password may hold one */
	u->host = auth;
	if (at) {
		u->user = auth;
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		u->user_n = (size_t)((colon ? colon : at) - auth);
		if (colon) {
			u->pw = colon + 1;
			u->pw_n = (size_t)(at - colon - 1);
		}
		u->host = at + 1;
	}
	u->host_n = strcspn(u->host, "?");
	u->query = u->host[u->host_n] == '?' ? u->host + u->host_n + 1 : NULL;
}

char *ch_pg_mask(const char *url)
{
	if (!ch_pg_is_url(url))
		return ch_strdup(url);
	struct uri_parts u;
	split_uri(url, &u);
	size_t cap = strlen(url) * 2 + 16, o = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)u.scheme_n, url);
	if (u.user)
		o += (size_t)snprintf(out + o, cap - o, "%.*s%s@", (int)u.user_n, u.user, u.pw ? ":" MASK : "");
	o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)u.host_n, u.host);
	if (u.query) {
		out[o++] = '?';
		for (const char *p = u.query; *p;) {
			size_t len = strcspn(p, "&"), nlen = strcspn(p, "=&");
			bool has_value = nlen < len;
			if (!has_value || shown_param(p, nlen))
				o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)len, p);
			else
				o += (size_t)snprintf(out + o, cap - o, "%.*s=" MASK, (int)nlen, p);
			p += len;
			if (*p == '&')
				out[o++] = *p++;
		}
		out[o] = '\0';
	}
	return out;
}

void ch_pg_url_clear(ch_pg_url *u)
{
	free(u->conninfo);
	free(u->table);
	free(u->query);
	free(u->masked);
	free(u->secret);
	free(u->secret2);
	memset(u, 0, sizeof(*u));
}

/* One name=value of the query string: libchurn's own (table, query) taken, the rest appended to conninfo. */
static churn_status take_param(ch_pg_url *u, const char *p, size_t len, size_t *o)
{
	size_t nlen = strcspn(p, "=");
	if (nlen > len)
		nlen = len;
	const char *v = p + nlen + (nlen < len);
	size_t vlen = nlen < len ? len - nlen - 1 : 0;
	bool is_table = nlen == 5 && !strncmp(p, "table", 5), is_query = nlen == 5 && !strncmp(p, "query", 5);
	if (is_table || is_query) {
		char **dst = is_table ? &u->table : &u->query;
		bool bad = false;
		if (*dst)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: %.5s= given twice", u->masked, p);
		if (!(*dst = pct_decode(v, vlen, &bad)))
			return bad ? ch_fail(CHURN_E_INVALID_ARG, "%s: a bad %%-escape (or %%00) in %.5s=", u->masked, p)
			           : ch_fail(CHURN_E_NOMEM, "out of memory");
		if (!**dst)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: %.5s= is empty", u->masked, p);
		return CHURN_OK;
	}
	if (nlen == 8 && !strncmp(p, "password", 8) && vlen && !u->secret) {
		bool bad;
		u->secret = ch_strndup(v, vlen);
		u->secret2 = pct_decode(v, vlen, &bad);
	}
	size_t at = *o;
	u->conninfo[at] = '\0';
	*o += (size_t)sprintf(u->conninfo + at, "%s%.*s", strchr(u->conninfo, '?') ? "&" : "?", (int)len, p);
	return CHURN_OK;
}

churn_status ch_pg_url_parse(const char *url, bool need_one, ch_pg_url *u)
{
	memset(u, 0, sizeof(*u));
	if (!ch_pg_is_url(url))
		return ch_fail(CHURN_E_INVALID_ARG, "not a postgresql:// URL");
	struct uri_parts parts;
	split_uri(url, &parts);
	u->masked = ch_pg_mask(url);
	u->conninfo = malloc(strlen(url) + 2);
	if (!u->masked || !u->conninfo)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (parts.pw && parts.pw_n) {
		bool bad;
		u->secret = ch_strndup(parts.pw, parts.pw_n);
		u->secret2 = pct_decode(parts.pw, parts.pw_n, &bad);
	}
	size_t o = (size_t)(parts.host + parts.host_n - url);
	memcpy(u->conninfo, url, o);
	u->conninfo[o] = '\0';
	churn_status st = CHURN_OK;
	for (const char *p = parts.query; p && *p && !st;) {
		size_t len = strcspn(p, "&");
		if (len)
			st = take_param(u, p, len, &o);
		p += len + (p[len] == '&');
	}
	if (st)
		return st;
	if (need_one && !u->table == !u->query)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: give one of ?table=schema.name and ?query=SELECT...", u->masked);
	return CHURN_OK;
}

void ch_pg_scrub(const ch_pg_url *u, char *msg)
{
	const char *secrets[2] = {u ? u->secret : NULL, u ? u->secret2 : NULL};
	for (int k = 0; k < 2; k++) {
		size_t n = secrets[k] ? strlen(secrets[k]) : 0;
		if (n < 3)
			continue; /* scrubbing one or two characters would garble the message, not protect anything */
		for (char *hit; (hit = strstr(msg, secrets[k]));) {
			memcpy(hit, MASK, 3);
			memmove(hit + 3, hit + n, strlen(hit + n) + 1);
		}
	}
}

#ifdef CHURN_HAVE_LIBPQ

#ifndef CHURN_LIBPQ_SONAME
#define CHURN_LIBPQ_SONAME "libpq.so.5" /* Debian's libpq5 (libpq-dev builds against it) */
#endif

static ch_pq_api pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static bool pq_ok;
static char pq_error[256];

/* Load libpq once; never unloaded. */
static void pq_load_once(void)
{
	const ch_dl_sym syms[] = {
		{(void **)&pq.connectdbParams, "PQconnectdbParams"}, {(void **)&pq.status, "PQstatus"},
		{(void **)&pq.errorMessage, "PQerrorMessage"},       {(void **)&pq.finish, "PQfinish"},
		{(void **)&pq.exec, "PQexec"},                       {(void **)&pq.execParams, "PQexecParams"},
		{(void **)&pq.resultStatus, "PQresultStatus"},       {(void **)&pq.resultErrorField, "PQresultErrorField"},
		{(void **)&pq.resultErrorMessage, "PQresultErrorMessage"}, {(void **)&pq.clear, "PQclear"},
		{(void **)&pq.getCopyData, "PQgetCopyData"},         {(void **)&pq.putCopyData, "PQputCopyData"},
		{(void **)&pq.putCopyEnd, "PQputCopyEnd"},           {(void **)&pq.getResult, "PQgetResult"},
		{(void **)&pq.freemem, "PQfreemem"},                 {(void **)&pq.escapeIdentifier, "PQescapeIdentifier"},
		{(void **)&pq.conninfoParse, "PQconninfoParse"},     {(void **)&pq.conninfoFree, "PQconninfoFree"},
		{(void **)&pq.ntuples, "PQntuples"},                 {(void **)&pq.getvalue, "PQgetvalue"},
		{(void **)&pq.getisnull, "PQgetisnull"},
	};
	if (!ch_dl_load(CHURN_LIBPQ_SONAME, syms, sizeof syms / sizeof syms[0], pq_error, sizeof pq_error))
		return;
	pq_ok = true;
}

churn_status ch_pg_load(const ch_pq_api **out)
{
	pthread_once(&pq_once, pq_load_once);
	if (!pq_ok)
		return ch_fail(CHURN_E_UNSUPPORTED, "libpq: %s (install libpq5)", pq_error);
	*out = &pq;
	return CHURN_OK;
}

/* The first line of a libpq message, scrubbed, into buf. */
static void one_line(const ch_pg_url *u, const char *msg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "");
	ch_pg_scrub(u, buf);
	if (!buf[0])
		snprintf(buf, cap, "no message from the server");
}

churn_status ch_pg_connect(const ch_pg_url *u, const churn_params *p, ch_pg_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->url = u;
	churn_status st = ch_pg_load(&c->pq);
	if (st)
		return ch_fail(st, "%s: %s", u->masked, churn_last_error());
	char *err = NULL, line[512];
	PQconninfoOption *opts = c->pq->conninfoParse(u->conninfo, &err);
	if (!opts) {
		one_line(u, err ? err : "out of memory", line, sizeof line);
		if (err)
			c->pq->freemem(err);
		return ch_fail(CHURN_E_INVALID_ARG, "%s: not a valid connection URI: %s", u->masked, line);
	}
	c->pq->conninfoFree(opts);
	/* libpq takes whole seconds and treats 1 as 2; ours first so that the URI's own settings win */
	char timeout[32];
	snprintf(timeout, sizeof timeout, "%.0f", fmax(2.0, ceil(churn_params_get_double(p, CHURN_KEY_PG_CONNECT_TIMEOUT_S))));
	const char *const keys[] = {"connect_timeout", "client_encoding", "fallback_application_name", "dbname", NULL};
	const char *const vals[] = {timeout, "UTF8", "libchurn", u->conninfo, NULL};
	c->conn = c->pq->connectdbParams(keys, vals, 1);
	if (!c->conn)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (c->pq->status(c->conn) != CONNECTION_OK) {
		one_line(u, c->pq->errorMessage(c->conn), line, sizeof line);
		ch_pg_close(c);
		return ch_fail(CHURN_E_NETWORK, "%s: cannot connect: %s", u->masked, line);
	}
	ch_log(p, CHURN_LOG_DEBUG, "%s: connected", u->masked);
	return CHURN_OK;
}

void ch_pg_close(ch_pg_conn *c)
{
	if (c && c->conn)
		c->pq->finish(c->conn);
	if (c)
		c->conn = NULL;
}

churn_status ch_pg_fail_result(ch_pg_conn *c, PGresult *res, const char *what, bool sink)
{
	const char *state = res ? c->pq->resultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? c->pq->resultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[512];
	one_line(c->url, msg && msg[0] ? msg : res ? c->pq->resultErrorMessage(res) : c->pq->errorMessage(c->conn), line,
	         sizeof line);
	churn_status st = CHURN_E_NETWORK;
	if (!state)
		st = CHURN_E_NETWORK;
	else if (!strcmp(state, "42P01") || !strcmp(state, "3F000") || !strcmp(state, "42501"))
		st = sink ? CHURN_E_CREATE : CHURN_E_NOTFOUND;
	else if (sink && (!strcmp(state, "42703") || !strncmp(state, "23", 2)))
		st = CHURN_E_CREATE; /* the table lacks a column of the scores, or a constraint refuses them */
	else if (!strncmp(state, "42", 2) || !strcmp(state, "25006") || !strcmp(state, "0A000"))
		st = CHURN_E_INVALID_ARG;
	else if (!strncmp(state, "22", 2))
		st = CHURN_E_PARSE;
	else if (!strcmp(state, "57014"))
		return ch_fail(CHURN_E_NETWORK, "%s: %s: %s (pg.statement_timeout_s)", c->url->masked, what, line);
	return ch_fail(st, "%s: %s: %s", c->url->masked, what, line);
}

churn_status ch_pg_exec(ch_pg_conn *c, const char *sql, ExecStatusType want, const char *what, bool sink)
{
	PGresult *res = c->pq->execParams(c->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	churn_status st = res && c->pq->resultStatus(res) == want ? CHURN_OK : ch_pg_fail_result(c, res, what, sink);
	c->pq->clear(res);
	return st;
}

churn_status ch_pg_set_timeout(ch_pg_conn *c, const churn_params *p)
{
	char sql[96];
	double ms = ceil(churn_params_get_double(p, CHURN_KEY_PG_STATEMENT_TIMEOUT_S) * 1000.0);
	snprintf(sql, sizeof sql, "SET LOCAL statement_timeout = %.0f", ms > 2147483647.0 ? 2147483647.0 : ms);
	return ch_pg_exec(c, sql, PGRES_COMMAND_OK, "setting statement_timeout", false);
}

/* One part of a table name into *out (NUL-terminated, folded unless quoted); the rest after it in *end. */
static bool name_part(const char *s, char *out, size_t cap, const char **end)
{
	size_t o = 0;
	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				return false;
			if (*s == '"' && s[1] != '"')
				break;
			if (*s == '"')
				s++;
			if (o + 1 >= cap)
				return false;
			out[o++] = *s;
		}
		s++;
	} else {
		for (; *s && *s != '.'; s++) {
			if (*s == '"' || o + 1 >= cap)
				return false;
			out[o++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
		}
	}
	out[o] = '\0';
	*end = s;
	return o > 0;
}

char *ch_pg_table_sql(struct ch_pg_conn *c, const char *table)
{
	char part[2][256];
	const char *s = table, *end;
	int n = 0;
	for (;; n++) {
		if (n == 2 || !name_part(s, part[n], sizeof part[n], &end) || (*end && *end != '.')) {
			ch_fail(CHURN_E_INVALID_ARG, "%s: table=%s: expected name or schema.name (a part in double quotes "
			        "keeps its case)", c->url->masked, table);
			return NULL;
		}
		if (!*end)
			break;
		s = end + 1;
	}
	char *q[2] = {NULL, NULL}, *out = NULL;
	for (int k = 0; k <= n; k++)
		q[k] = c->pq->escapeIdentifier(c->conn, part[k], strlen(part[k]));
	if (q[0] && (n == 0 || q[1]))
		out = n ? ch_asprintf("%s.%s", q[0], q[1]) : ch_strdup(q[0]);
	for (int k = 0; k <= n; k++)
		if (q[k])
			c->pq->freemem(q[k]);
	if (!out)
		ch_fail(CHURN_E_NOMEM, "out of memory");
	return out;
}

#endif /* CHURN_HAVE_LIBPQ */
