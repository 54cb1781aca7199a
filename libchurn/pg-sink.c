/*
 * The PostgreSQL sink of scores (churn/db.h): churn predict --out
 * postgresql://...?table=T and pipeline.scores_out. The scorer's CSV
 * (churn_scorer_write_csv, the bytes of `churn predict --out FILE`) is
 * streamed through a FILE whose writes are PQputCopyData calls into
 * COPY ... FROM STDIN, after a TRUNCATE in the same transaction: readers
 * see the old rows or the new ones, and a failure rolls back to the old.
 */
#include "churn/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "params-private.h"
#include "pg-private.h"

#define TOP_REASONS 3 /* the reason1..reason3 columns: churn predict's CSV */
#define COLUMNS "id, probability, label, reason1, reason2, reason3"

bool churn_db_is_url(const char *s)
{
	return ch_pg_is_url(s);
}

churn_status churn_db_mask_url(const char *url, char **out)
{
	if (!url || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_db_mask_url: NULL argument");
	if (!(*out = ch_pg_mask(url)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

#ifdef CHURN_HAVE_LIBPQ

/* fopencookie's write: one PQputCopyData per buffer the FILE flushes. */
static ssize_t copy_write(void *cookie, const char *buf, size_t n)
{
	ch_pg_conn *c = cookie;
	for (size_t done = 0; done < n;) {
		int k = n - done > (1u << 30) ? 1 << 30 : (int)(n - done);
		if (c->pq->putCopyData(c->conn, buf + done, k) != 1)
			return -1;
		done += (size_t)k;
	}
	return (ssize_t)n;
}

/* The table (made when absent) emptied in the open transaction. */
static churn_status prepare_table(ch_pg_conn *c, const char *table)
{
	const char *param[1] = {table};
	PGresult *res = c->pq->execParams(c->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, param, NULL, NULL, 0);
	if (!res || c->pq->resultStatus(res) != PGRES_TUPLES_OK || c->pq->ntuples(res) != 1) {
		churn_status st = ch_pg_fail_result(c, res, "looking up the table", true);
		c->pq->clear(res);
		return st;
	}
	bool exists = c->pq->getvalue(res, 0, 0)[0] == 't';
	c->pq->clear(res);
	char *sql = exists ? ch_asprintf("TRUNCATE %s", table)
	                   : ch_asprintf("CREATE TABLE %s (id text, probability double precision, label text, "
	                                 "reason1 text, reason2 text, reason3 text)", table);
	if (!sql)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_pg_exec(c, sql, PGRES_COMMAND_OK, exists ? "emptying the table" : "creating the table", true);
	free(sql);
	return st;
}

/* COPY the scores into the table (the transaction open); *rows on success. */
static churn_status copy_scores(ch_pg_conn *c, const churn_scorer *s, const churn_dataset *ds, const char *table)
{
	char *sql = ch_asprintf("COPY %s (" COLUMNS ") FROM STDIN (FORMAT csv, HEADER)", table);
	if (!sql)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_pg_exec(c, sql, PGRES_COPY_IN, "writing the scores", true);
	free(sql);
	if (st)
		return st;
	FILE *f = fopencookie(c, "w", (cookie_io_functions_t){.write = copy_write});
	if (!f) {
		c->pq->putCopyEnd(c->conn, "out of memory");
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	st = churn_scorer_write_csv(s, ds, TOP_REASONS, f);
	bool lost = fclose(f) != 0;
	if (st || lost) {
		/* the COPY is abandoned: the transaction (and its TRUNCATE) rolls back */
		char saved[1024];
		snprintf(saved, sizeof saved, "%s", st ? churn_last_error() : "");
		c->pq->putCopyEnd(c->conn, "libchurn: scoring failed");
		return st ? ch_fail(st, "%s", saved) : ch_pg_fail_result(c, NULL, "writing the scores", true);
	}
	if (c->pq->putCopyEnd(c->conn, NULL) != 1)
		return ch_pg_fail_result(c, NULL, "writing the scores", true);
	PGresult *res = c->pq->getResult(c->conn);
	st = c->pq->resultStatus(res) == PGRES_COMMAND_OK ? CHURN_OK : ch_pg_fail_result(c, res, "writing the scores", true);
	c->pq->clear(res);
	while ((res = c->pq->getResult(c->conn)))
		c->pq->clear(res);
	return st;
}

static churn_status write_scores(const churn_scorer *s, const churn_dataset *ds, const ch_pg_url *u,
                                 const churn_params *p)
{
	ch_pg_conn c;
	char *table = NULL;
	churn_status st = ch_pg_connect(u, p, &c);
	if (st)
		return st;
	if (!(table = ch_pg_table_sql(&c, u->table)))
		st = CHURN_E_INVALID_ARG; /* the detail is set */
	if (!st && !(st = ch_pg_exec(&c, "BEGIN", PGRES_COMMAND_OK, "starting a transaction", true)) &&
	    !(st = ch_pg_set_timeout(&c, p)) && !(st = prepare_table(&c, table)) && !(st = copy_scores(&c, s, ds, table)))
		st = ch_pg_exec(&c, "COMMIT", PGRES_COMMAND_OK, "committing the scores", true);
	ch_pg_close(&c); /* without a COMMIT the server rolls the transaction back */
	free(table);
	return st;
}

#endif

churn_status churn_db_write_scores(const churn_scorer *s, const churn_dataset *ds, const char *url,
                                   const churn_params *p, uint64_t *out_rows)
{
	if (!s || !ds || !url)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_db_write_scores: NULL argument");
	ch_pg_url u;
	churn_status st = ch_pg_url_parse(url, false, &u);
	if (!st && (!u.table || u.query))
		st = ch_fail(CHURN_E_INVALID_ARG, "%s: a sink is a table: ?table=schema.name (no ?query=)", u.masked);
	if (!st && (st = churn_scorer_check_columns(s, ds)))
		st = ch_fail(st, "%s", churn_last_error());
#ifdef CHURN_HAVE_LIBPQ
	if (!st)
		st = write_scores(s, ds, &u, p);
#else
	(void)p;
	if (!st)
		st = ch_fail(CHURN_E_UNSUPPORTED, "%s: this libchurn was built without libpq (install libpq-dev and rebuild)",
		             u.masked);
#endif
	if (!st) {
		ch_log(p, CHURN_LOG_INFO, "%s: %zu scores written", u.masked, churn_dataset_get_row_count(ds));
		if (out_rows)
			*out_rows = churn_dataset_get_row_count(ds);
		ch_clear_error();
	}
	ch_pg_url_clear(&u);
	return st;
}
