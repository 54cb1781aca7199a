/*
 * PostgreSQL as a source and a sink (internal; ch_ prefix, never exported).
 * The files, one concern each:
 *   pg.c        libpq loaded on first use (dlopen), the source URL (libchurn's
 *               table= and query= taken out, the rest for libpq), its masked
 *               form, connecting with the pg.* timeouts, SQLSTATE -> status
 *   fetch-pg.c  the source: COPY ... TO STDOUT into churn_fetch's sink
 *   pg-sink.c   the sink: churn_db_write_scores (COPY ... FROM STDIN)
 *
 * libpq is loaded with dlopen like libcurl (fetch.c): a process that never
 * talks to PostgreSQL does not load it and its libraries (TLS, Kerberos,
 * LDAP). Its header is needed at build time (libpq-dev; CHURN_HAVE_LIBPQ);
 * without it the scheme is CHURN_E_UNSUPPORTED.
 *
 * A password never leaves these files except into libpq: messages and
 * records name the source by ch_pg_url.masked ("postgresql://u:***@h/db?
 * table=t"), and libpq's own messages are scrubbed of it (ch_pg_scrub).
 */
#ifndef CH_PG_PRIVATE_H
#define CH_PG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churn/common.h"
#include "churn/params.h"

/* "postgresql://..." or "postgres://..." (the schemes libpq takes as URIs). */
bool ch_pg_is_url(const char *s);

typedef struct ch_pg_url {
	char *conninfo; /* the URI for libpq: table= and query= removed */
	char *table;    /* decoded ?table=, or NULL */
	char *query;    /* decoded ?query=, or NULL */
	char *masked;   /* for messages and records: the password and unknown parameters' values "***" */
	char *secret;   /* the password as written (decoded too: secret2), to scrub from libpq's messages */
	char *secret2;
} ch_pg_url;

/*
 * Split @p url. CHURN_E_INVALID_ARG (naming the masked URL) when it is not a
 * postgresql:// URI, a parameter repeats, both or neither of table= and
 * query= are given and @p need_one is true, a value has a NUL or a bad
 * %-escape; CHURN_E_NOMEM. *u is cleared first; release with ch_pg_url_clear.
 */
churn_status ch_pg_url_parse(const char *url, bool need_one, ch_pg_url *u);
void ch_pg_url_clear(ch_pg_url *u);
/* The masked form of @p url (malloc'd; NULL on OOM): what may be shown, logged and stored. */
char *ch_pg_mask(const char *url);

/*
 * "schema.name" (or "name") of ?table= as SQL, each part quoted with
 * PQescapeIdentifier; an unquoted part is folded to lower case as
 * PostgreSQL folds unquoted names, a part in double quotes ("My Table") is
 * taken as written. NULL with the detail set (CHURN_E_INVALID_ARG) on a
 * malformed name. Only with a connection (pg.c's ch_pg_conn).
 */
struct ch_pg_conn;
char *ch_pg_table_sql(struct ch_pg_conn *c, const char *table);

#ifdef CHURN_HAVE_LIBPQ
#include <libpq-fe.h>

/* libpq's functions, filled by ch_pg_load(). */
typedef struct ch_pq_api {
	PGconn *(*connectdbParams)(const char *const *keywords, const char *const *values, int expand_dbname);
	ConnStatusType (*status)(const PGconn *conn);
	char *(*errorMessage)(const PGconn *conn);
	void (*finish)(PGconn *conn);
	PGresult *(*exec)(PGconn *conn, const char *query);
	PGresult *(*execParams)(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
	                        const char *const *paramValues, const int *paramLengths, const int *paramFormats,
	                        int resultFormat);
	ExecStatusType (*resultStatus)(const PGresult *res);
	char *(*resultErrorField)(const PGresult *res, int fieldcode);
	char *(*resultErrorMessage)(const PGresult *res);
	void (*clear)(PGresult *res);
	int (*getCopyData)(PGconn *conn, char **buffer, int async);
	int (*putCopyData)(PGconn *conn, const char *buffer, int nbytes);
	int (*putCopyEnd)(PGconn *conn, const char *errormsg);
	PGresult *(*getResult)(PGconn *conn);
	void (*freemem)(void *ptr);
	char *(*escapeIdentifier)(PGconn *conn, const char *str, size_t len);
	PQconninfoOption *(*conninfoParse)(const char *conninfo, char **errmsg);
	void (*conninfoFree)(PQconninfoOption *connOptions);
	int (*ntuples)(const PGresult *res);
	char *(*getvalue)(const PGresult *res, int tup_num, int field_num);
	int (*getisnull)(const PGresult *res, int tup_num, int field_num);
} ch_pq_api;

/* libpq's table once loaded; CHURN_E_UNSUPPORTED naming why it cannot be loaded. Thread-safe (pthread_once). */
churn_status ch_pg_load(const ch_pq_api **out);

typedef struct ch_pg_conn {
	const ch_pq_api *pq;
	PGconn *conn;
	const ch_pg_url *url; /* borrowed: the masked name and the secrets to scrub */
} ch_pg_conn;

/*
 * Connect to u->conninfo with pg.connect_timeout_s (unless the URI sets
 * connect_timeout) and client_encoding UTF8. CHURN_E_INVALID_ARG a
 * conninfo libpq cannot parse; CHURN_E_NETWORK unreachable, refused,
 * authentication failed, no such database ("MASKED: cannot connect: why").
 */
churn_status ch_pg_connect(const ch_pg_url *u, const churn_params *p, ch_pg_conn *c);
void ch_pg_close(ch_pg_conn *c);

/* Run @p sql (one statement, extended protocol: no second statement can ride along); expect @p want. */
churn_status ch_pg_exec(ch_pg_conn *c, const char *sql, ExecStatusType want, const char *what, bool sink);

/*
 * The status of a failed result: its SQLSTATE mapped (undefined table or
 * schema, insufficient privilege: CHURN_E_NOTFOUND for a source,
 * CHURN_E_CREATE for a sink, as are a missing column or a constraint the
 * scores break; syntax and other class 42 errors, read-only
 * violations: CHURN_E_INVALID_ARG; data exceptions (22): CHURN_E_PARSE;
 * the rest, timeouts and lost connections included: CHURN_E_NETWORK), the
 * detail "MASKED: WHAT: primary message" (scrubbed; one line).
 */
churn_status ch_pg_fail_result(ch_pg_conn *c, PGresult *res, const char *what, bool sink);

/* "SET LOCAL statement_timeout" to pg.statement_timeout_s, inside a transaction. */
churn_status ch_pg_set_timeout(ch_pg_conn *c, const churn_params *p);
#endif

/*
 * fetch-pg.c: the rows of @p u (its table, or its query) as CSV with a header
 * line through @p write (which returns n, or less after recording its own
 * failure: then CHURN_E_IO, and the caller reports the writer's), in one
 * read-only transaction; *out_rows the data rows. Statuses of ch_pg_connect,
 * ch_pg_fail_result; CHURN_E_STATE cancelled by the progress callback
 * ("copy"); CHURN_E_UNSUPPORTED without libpq.
 */
churn_status ch_pg_copy_out(const ch_pg_url *u, const churn_params *p, size_t (*write)(void *, const void *, size_t),
                            void *ud, uint64_t *out_rows);

/* Replace every occurrence of the URL's secrets in @p msg (in place, NUL-terminated) by "***". */
void ch_pg_scrub(const ch_pg_url *u, char *msg);

#endif /* CH_PG_PRIVATE_H */
