/*
 * churn/db.h: PostgreSQL as a sink of scores.
 *
 * (PostgreSQL as a source is churn_fetch() with a postgresql:// URL: see
 * churn/fetch.h.)
 *
 * A sink is a libpq connection URI naming a table:
 *
 *   postgresql://user@host:5432/db?table=schema.churn_scores
 *
 * (the password from the URI, PGPASSWORD or ~/.pgpass, as libpq reads them;
 * never shown: messages and records carry the URL with the password
 * masked, "postgresql://user:***@host/db?table=..."). An unquoted table
 * name is folded to lower case as PostgreSQL folds it; a part in double
 * quotes keeps its case.
 *
 * The table holds the CSV of `churn predict`: id text, probability double
 * precision, label text, reason1 text, reason2 text, reason3 text (made
 * when absent; an existing table needs at least these columns). Its rows
 * are replaced in one transaction: TRUNCATE, then COPY ... FROM STDIN; a
 * reader sees the previous scores until the commit and the new ones after
 * (TRUNCATE's lock makes readers wait for the write, never see it half
 * done or empty), and a failure anywhere leaves the previous scores. The
 * connecting role needs SELECT, INSERT and TRUNCATE on the table (CREATE
 * on the schema the first time).
 *
 * libpq is loaded on first use (dlopen, like libcurl); options:
 * pg.connect_timeout_s, pg.statement_timeout_s.
 *
 * Thread safety: distinct calls may run concurrently.
 */
#ifndef CHURN_DB_H
#define CHURN_DB_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/params.h"
#include "churn/score.h"

#ifdef __cplusplus
extern "C" {
#endif

/** True when @p s is a postgresql:// (or postgres://) URL. @since 0.1 */
CHURN_API bool churn_db_is_url(const char *s);

/**
 * @p url with its password (and the values of connection parameters other
 * than host, port, dbname, user, sslmode, table, query and the like)
 * replaced by "***": what may be shown, logged and stored. Other strings are
 * copied unchanged. *out (free with churn_free()) only on success.
 * @return CHURN_OK, CHURN_E_INVALID_ARG (NULL), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_db_mask_url(const char *url, char **out);

/**
 * Score every row of @p ds with @p s (churn_scorer_write_csv(), three
 * reasons) into the table of @p url, replacing its rows in one transaction.
 *
 * @param out_rows receives the number of rows written on success; may be NULL.
 * @return CHURN_OK;
 *         CHURN_E_INVALID_ARG a NULL argument, a URL without ?table= (or
 *         with ?query=), a malformed URI or table name;
 *         CHURN_E_FORMAT columns the model needs are missing from @p ds;
 *         CHURN_E_NETWORK the server cannot be reached, refuses the login,
 *         times out (pg.statement_timeout_s) or fails during the write;
 *         CHURN_E_CREATE no privilege on the table or schema, the schema
 *         does not exist, the table lacks a column of the scores or one
 *         of its constraints refuses them;
 *         CHURN_E_UNSUPPORTED libpq cannot be loaded (or the library was
 *         built without its header);
 *         CHURN_E_NOMEM. The detail names the masked URL and what failed;
 *         on any failure the table keeps its previous rows.
 * Thread-safe. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_db_write_scores(const churn_scorer *s, const churn_dataset *ds,
                                                             const char *url, const churn_params *p,
                                                             uint64_t *out_rows);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_DB_H */
