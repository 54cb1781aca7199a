/*
 * The PostgreSQL source of churn_fetch: postgresql://...?table=T or
 * ?query=Q streamed as CSV (COPY ... TO STDOUT (FORMAT csv, HEADER)) into
 * fetch.c's sink, which counts fetch.max_bytes, hashes and commits it like a
 * download.
 *
 * A table name is quoted as identifiers (PQescapeIdentifier). A query is
 * made a temporary view first (CREATE TEMPORARY VIEW ... AS <query>, one
 * statement of the extended protocol): it must be one SELECT (or VALUES)
 * returning rows, and cannot close the COPY's parentheses to write a file
 * or run a program. The rows are then read in a READ ONLY transaction with
 * pg.statement_timeout_s, without parallel workers and synchronized scans,
 * so that a table that did not change gives the same bytes in the same
 * order (and so the same sha256: "unchanged").
 */
#include "pg-private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "params-private.h"

#define PROGRESS_EVERY (1u << 20)

#ifdef CHURN_HAVE_LIBPQ

/* The COPY statement of the source (malloc'd), the temporary view made first for a query. */
static churn_status copy_statement(ch_pg_conn *c, const ch_pg_url *u, char **out)
{
	if (u->query) {
		char *sql = ch_asprintf("CREATE TEMPORARY VIEW churn_source AS %s", u->query);
		if (!sql)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		churn_status st = ch_pg_exec(c, sql, PGRES_COMMAND_OK, "the query", false);
		free(sql);
		if (st)
			return st;
	}
	char *from = u->query ? ch_strdup("pg_temp.churn_source") : ch_pg_table_sql(c, u->table);
	if (!from)
		return u->query ? ch_fail(CHURN_E_NOMEM, "out of memory") : CHURN_E_INVALID_ARG;
	*out = ch_asprintf("COPY (SELECT * FROM %s) TO STDOUT (FORMAT csv, HEADER)", from);
	free(from);
	return *out ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* The rows of the COPY, row by row, into write(); the connection is left mid-COPY on a failure (closed after). */
static churn_status copy_rows(ch_pg_conn *c, const churn_params *p, size_t (*write)(void *, const void *, size_t),
                              void *ud, uint64_t *rows, uint64_t *bytes)
{
	char *buf = NULL;
	int n;
	uint64_t next = PROGRESS_EVERY;
	while ((n = c->pq->getCopyData(c->conn, &buf, 0)) > 0) {
		size_t w = write(ud, buf, (size_t)n);
		c->pq->freemem(buf);
		if (w != (size_t)n)
			return CHURN_E_IO; /* the writer's own failure: the caller reads it */
		*bytes += (uint64_t)n;
		(*rows)++;
		if (*bytes >= next) {
			next = *bytes + PROGRESS_EVERY;
			if (!ch_progress(p, "copy", *bytes, 0))
				return ch_fail(CHURN_E_STATE, "%s: copy cancelled", c->url->masked);
		}
	}
	if (n == -2)
		return ch_pg_fail_result(c, NULL, "reading the rows", false);
	PGresult *res = c->pq->getResult(c->conn);
	churn_status st = c->pq->resultStatus(res) == PGRES_COMMAND_OK ? CHURN_OK
	                                                                 : ch_pg_fail_result(c, res, "reading the rows", false);
	c->pq->clear(res);
	while ((res = c->pq->getResult(c->conn)))
		c->pq->clear(res);
	return st;
}

churn_status ch_pg_copy_out(const ch_pg_url *u, const churn_params *p, size_t (*write)(void *, const void *, size_t),
                            void *ud, uint64_t *out_rows)
{
	ch_pg_conn c;
	char *copy = NULL;
	uint64_t rows = 0, bytes = 0;
	churn_status st = ch_pg_connect(u, p, &c);
	if (st)
		return st;
	if ((st = copy_statement(&c, u, &copy)) ||
	    (st = ch_pg_exec(&c, "BEGIN READ ONLY", PGRES_COMMAND_OK, "starting a read-only transaction", false)) ||
	    (st = ch_pg_set_timeout(&c, p)) ||
	    (st = ch_pg_exec(&c, "SET LOCAL max_parallel_workers_per_gather = 0", PGRES_COMMAND_OK, "setting up", false)) ||
	    (st = ch_pg_exec(&c, "SET LOCAL synchronize_seqscans = off", PGRES_COMMAND_OK, "setting up", false)))
		goto out;
	ch_log(p, CHURN_LOG_DEBUG, "%s: %s", u->masked, copy);
	if ((st = ch_pg_exec(&c, copy, PGRES_COPY_OUT, u->table ? "reading the table" : "running the query", false)) ||
	    (st = copy_rows(&c, p, write, ud, &rows, &bytes)))
		goto out;
	st = ch_pg_exec(&c, "COMMIT", PGRES_COMMAND_OK, "ending the transaction", false);
	if (!st && rows)
		rows--; /* the header */
	if (!st && out_rows)
		*out_rows = rows;
out:
	ch_pg_close(&c); /* mid-COPY after a failure: the server abandons the statement */
	free(copy);
	return st;
}

#else

churn_status ch_pg_copy_out(const ch_pg_url *u, const churn_params *p, size_t (*write)(void *, const void *, size_t),
                            void *ud, uint64_t *out_rows)
{
	(void)p, (void)write, (void)ud, (void)out_rows;
	return ch_fail(CHURN_E_UNSUPPORTED, "%s: this libchurn was built without libpq (install libpq-dev and rebuild)",
	               u->masked);
}

#endif
