/*
 * churn publish: store a model artifact in a PostgreSQL database that has
 * the churn extension (CREATE EXTENSION churn), as a new version of
 * churn.models through churn.load_model(), which checks it. Exit codes:
 * 64 usage, 66 the file is missing, 65 it is not a model artifact (here or
 * on the server), 69 the database cannot be reached or lacks the extension,
 * 74 the file cannot be read. Prints "published NAME version V (sha256 ...)"
 * or, with --json, {"name", "version", "sha256", "database"}.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CHURN_HAVE_LIBPQ
#include <libpq-fe.h>

/* The file's bytes (NUL-terminated), or NULL with an exit code in *rc. */
static char *read_artifact(cli_ctx *ctx, const char *path, int *rc)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (!f) {
		cli_error(ctx, "cannot open %s: %s", path, strerror(errno));
		*rc = errno == ENOENT ? EX_NOINPUT_ : EX_IOERR_;
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *b = realloc(buf, cap = (n + 65536 + 1) * 2);
			if (!b)
				break;
			buf = b;
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	if (!buf || ferror(f)) {
		cli_error(ctx, "cannot read %s: %s", path, buf ? strerror(errno) : "out of memory");
		fclose(f);
		free(buf);
		*rc = EX_IOERR_;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* "dbname on host:port" of a connection, for messages (never the password). */
static void describe(PGconn *c, char *out, size_t cap)
{
	const char *host = PQhost(c), *port = PQport(c), *db = PQdb(c);
	snprintf(out, cap, "%s on %s:%s", db ? db : "?", host && host[0] ? host : "localhost", port ? port : "?");
}

/* Exit code of a failed statement: bad artifact 65, extension missing or server trouble 69. */
static int statement_failed(cli_ctx *ctx, PGresult *res, const char *where)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (state && (!strcmp(state, "3F000") || !strcmp(state, "42883") || !strcmp(state, "42P01"))) {
		cli_error(ctx, "%s: the churn extension is not installed there (run CREATE EXTENSION churn)", where);
		return EX_UNAVAILABLE_;
	}
	if (!msg || !msg[0])
		msg = PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : "no answer from churn.load_model()";
	cli_error(ctx, "%s: %.*s", where, (int)strcspn(msg, "\n"), msg);
	return state && !strncmp(state, "22", 2) ? EX_DATAERR_ : EX_UNAVAILABLE_;
}

static int publish(cli_ctx *ctx, const char *conninfo, const char *name, const char *artifact)
{
	char where[256];
	int rc = 0;
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names host and port, not the password */
		const char *m = PQerrorMessage(c);
		cli_error(ctx, "cannot connect to the database: %.*s", (int)strcspn(m, "\n"), m);
		PQfinish(c);
		return EX_UNAVAILABLE_;
	}
	describe(c, where, sizeof(where));
	/* The new row is not visible to the statement that inserts it: its sha256 is read by a second one. */
	const char *params[2] = {name, artifact};
	PGresult *res = PQexecParams(c, "SELECT churn.load_model($1, $2::jsonb)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = statement_failed(ctx, res, where);
	} else {
		char version[32];
		snprintf(version, sizeof(version), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		const char *key[2] = {name, version};
		res = PQexecParams(c, "SELECT sha256 FROM churn.models WHERE name = $1 AND version = $2::integer", 2, NULL,
		                   key, NULL, NULL, 0);
		const char *sha = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?";
		if (ctx->json)
			printf("{\"name\":\"%s\",\"version\":%s,\"sha256\":\"%s\",\"database\":\"%s\"}\n", name, version, sha,
			       PQdb(c));
		else if (!ctx->quiet)
			printf("published %s version %s (sha256 %s) to %s\n", name, version, sha, where);
	}
	PQclear(res);
	PQfinish(c);
	return rc;
}
#endif

int cmd_publish(cli_ctx *ctx, int argc, char **argv)
{
	const char *db = NULL, *model_path = NULL, *name = NULL;
	const cli_opt opts[] = {
		{"db", "CONNINFO", &db, NULL, "PostgreSQL connection string or URI (the churn extension installed)"},
		{"model", "FILE|REF", &model_path, NULL,
		 "model artifact, or a registry version (gbm@v3, champion, ...); default the workdir's champion"},
		{"name", "N", &name, NULL, "model name in churn.models (default the model's kind: gbm, logreg, forest)"},
		{NULL, NULL, NULL, NULL, NULL},
	};
	int rc = cli_parse(ctx, argc, argv, opts, "store a model artifact in PostgreSQL (churn.models) for SQL scoring");
	if (rc)
		return rc;
	if (!db) {
		cli_error(ctx, "--db CONNINFO is required");
		return EX_USAGE_;
	}
	if (name && (!name[0] || strpbrk(name, "\"\\") || strlen(name) > 100)) {
		cli_error(ctx, "--name: a name of 1 to 100 characters without quotes or backslashes");
		return EX_USAGE_;
	}
#ifdef CHURN_HAVE_LIBPQ
	/* Checked here first: a file that is not an artifact never reaches the database. */
	churn_scorer *s = NULL;
	char *path = cli_model_path(ctx, model_path, &rc);
	if (!path)
		return rc;
	churn_status st = churn_scorer_load_file(path, &s);
	if (st) {
		free(path);
		return cli_fail(ctx, st, "loading the model");
	}
	if (!name)
		name = churn_model_kind_name(churn_model_get_kind(churn_scorer_get_model(s)));
	char *artifact = read_artifact(ctx, path, &rc);
	if (artifact)
		rc = publish(ctx, db, name, artifact);
	free(artifact);
	free(path);
	churn_scorer_free(s);
	return rc;
#else
	cli_error(ctx, "this churn was built without libpq (install libpq-dev and rebuild)");
	return EX_UNAVAILABLE_;
#endif
}
