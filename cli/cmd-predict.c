/*
 * churn predict: score raw customer rows with a model artifact, through the
 * library's scorer (the same probabilities and reasons as /api/predict).
 * CSV id,probability,label,reason1,reason2,reason3 on stdout or --out FILE
 * (written atomically), or into a PostgreSQL table (--out postgresql://...?table=T:
 * its rows replaced in one transaction, churn/db.h); with --json, the
 * /api/predict document. The model is a file, a version of the workdir's
 * registry (gbm@v3, champion, challenger, previous), or without --model the
 * champion.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOP_REASONS 3

/* CSV scores into @p path through a temp file in its directory and a rename. */
static int write_scores_file(cli_ctx *ctx, const churn_scorer *s, const churn_dataset *ds, const char *path)
{
	size_t len = strlen(path) + 32;
	char *tmp = malloc(len);
	if (!tmp)
		return cli_fail(ctx, CHURN_E_NOMEM, "writing the scores");
	snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		cli_error(ctx, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return EX_CANTCREAT_;
	}
	churn_status st = churn_scorer_write_csv(s, ds, TOP_REASONS, f);
	int bad = st || fflush(f) || fsync(fileno(f));
	bad |= fclose(f);
	int rc = 0;
	if (st) {
		rc = cli_fail(ctx, st, "scoring");
	} else if (bad || rename(tmp, path) != 0) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		rc = EX_IOERR_;
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
	const char *model_path = NULL, *input = NULL, *outpath = NULL;
	const cli_opt opts[] = {
		{"model", "FILE|REF", &model_path, NULL,
		 "model artifact, or a registry version (gbm@v3, champion, challenger, previous); default the champion"},
		{"input", "CSV", &input, NULL, "customer rows to score (same columns as training; target optional)"},
		{"out", "FILE|URL", &outpath, NULL,
		 "write the CSV here (atomically) instead of stdout, or into postgresql://...?table=T (rows replaced)"},
		{NULL, NULL, NULL, NULL, NULL},
	};
	int rc = cli_parse(ctx, argc, argv, opts, "score customers with a trained model: probability, label, top reasons");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required");
		return EX_USAGE_;
	}
	char *path = cli_model_path(ctx, model_path, &rc);
	if (!path)
		return rc;
	churn_scorer *s = NULL;
	churn_dataset *ds = NULL;
	char *json = NULL;
	churn_status st;
	if ((st = churn_scorer_load_file(path, &s))) {
		rc = cli_fail(ctx, st, "loading the model");
	} else if ((st = churn_csv_read_file(input, ctx->params, &ds, NULL))) {
		rc = cli_fail(ctx, st, "reading the input");
	} else if ((st = churn_scorer_check_columns(s, ds))) {
		cli_error(ctx, "%s: %s", input, churn_last_error());
		rc = EX_DATAERR_;
	} else if (outpath && churn_db_is_url(outpath)) {
		uint64_t rows = 0;
		char *masked = NULL;
		if ((st = churn_db_write_scores(s, ds, outpath, ctx->params, &rows))) {
			rc = cli_fail(ctx, st, "writing the scores");
		} else if (!ctx->json && !ctx->quiet && !churn_db_mask_url(outpath, &masked)) {
			fprintf(stderr, "scored %llu rows into %s\n", (unsigned long long)rows, masked);
		}
		churn_free(masked);
	} else if (outpath) {
		rc = write_scores_file(ctx, s, ds, outpath);
		if (!rc && !ctx->json && !ctx->quiet)
			fprintf(stderr, "scored %zu rows into %s\n", churn_dataset_get_row_count(ds), outpath);
	} else if (!ctx->json && (st = churn_scorer_write_csv(s, ds, TOP_REASONS, stdout))) {
		rc = cli_fail(ctx, st, "scoring");
	}
	if (!rc && ctx->json) {
		if ((st = churn_scorer_score_dataset_json(s, ds, TOP_REASONS, &json)))
			rc = cli_fail(ctx, st, "scoring");
		else
			printf("%s\n", json);
	}
	churn_free(json);
	churn_dataset_free(ds);
	churn_scorer_free(s);
	free(path);
	return rc;
}
