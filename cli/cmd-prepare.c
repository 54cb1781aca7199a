/*
 * churn prepare: fit the feature preparation on a CSV and write the processed
 * data set (data/processed/churn.parquet, churn.csv), the prep spec
 * (artifacts/prep.json) and the column summary (reports/summary.json, .csv)
 * through churn_prep_write_outputs(), the call the data pipeline makes too.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define NOUT 5

int cmd_prepare(cli_ctx *ctx, int argc, char **argv)
{
	const char *input = NULL, *outdir = NULL;
	const cli_opt opts[] = {
		{"input", "CSV", &input, NULL, "CSV file to prepare (required)"},
		{"out", "DIR", &outdir, NULL, "output directory (default: the workdir)"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "fit the feature preparation on a CSV; write data/processed/churn.parquet|csv, "
	                   "artifacts/prep.json and reports/summary.json|csv");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required (see churn prepare --help)");
		return EX_USAGE_;
	}
	if (!outdir)
		outdir = ctx->workdir;
	churn_dataset *ds = NULL;
	churn_prep *prep = NULL;
	churn_workdir *w = NULL;
	char *paths[NOUT] = {0};
	churn_status st;
	const char *what = input;
	size_t skipped = 0, nrows = 0, imputed = 0;

	if ((st = churn_csv_read_file(input, ctx->params, &ds, &skipped)))
		goto fail;
	what = "fit";
	if ((st = churn_prep_fit(ds, NULL, 0, ctx->params, &prep)))
		goto fail;
	what = outdir;
	if ((st = churn_workdir_open(outdir, ctx->params, &w)) || (st = churn_workdir_lock(w)))
		goto fail;
	for (size_t k = 0; k < NOUT; k++)
		if ((st = churn_workdir_join(w, churn_prep_output_name(k), &paths[k])))
			goto fail;
	what = "prepare";
	if ((st = churn_prep_write_outputs(prep, ds, NULL, skipped, NULL, (const char *const *)paths, NOUT,
	                                   ctx->params, &nrows, &imputed, NULL)))
		goto fail;

	size_t nf = churn_prep_get_nfeatures(prep), nd = churn_prep_get_dropped_count(prep);
	if (ctx->json) {
		printf("{\"input\":");
		cli_json_string(stdout, input);
		printf(",\"rows\":%zu,\"features\":%zu,\"target\":", nrows, nf);
		cli_json_string(stdout, churn_prep_get_target(prep));
		printf(",\"positive\":");
		cli_json_string(stdout, churn_prep_get_positive(prep));
		printf(",\"dropped\":[");
		for (size_t k = 0; k < nd; k++) {
			printf("%s{\"column\":", k ? "," : "");
			cli_json_string(stdout, churn_prep_get_dropped_column(prep, k));
			printf(",\"reason\":");
			cli_json_string(stdout, churn_prep_get_dropped_reason(prep, k));
			printf("}");
		}
		printf("],\"dropped_target_rows\":%zu,\"skipped_rows\":%zu,\"imputed_cells\":%zu,\"outputs\":{",
		       churn_prep_get_dropped_target_rows(prep), skipped, imputed);
		static const char *const keys[NOUT] = {"parquet", "csv", "prep", "summary_json", "summary_csv"};
		for (size_t k = 0; k < NOUT; k++) {
			printf("%s\"%s\":", k ? "," : "", keys[k]);
			cli_json_string(stdout, paths[k]);
		}
		printf("}}\n");
	} else if (!ctx->quiet) {
		printf("prepared %zu rows x %zu features from %s (target %s, positive \"%s\")\n", nrows, nf, input,
		       churn_prep_get_target(prep), churn_prep_get_positive(prep));
		for (size_t k = 0; k < nd; k++)
			printf("  dropped %s: %s\n", churn_prep_get_dropped_column(prep, k),
			       churn_prep_get_dropped_reason(prep, k));
		if (churn_prep_get_dropped_target_rows(prep))
			printf("  dropped %zu rows with a missing target\n", churn_prep_get_dropped_target_rows(prep));
		if (imputed)
			printf("  imputed %zu missing cells\n", imputed);
		for (size_t k = 0; k < NOUT; k++)
			printf("  wrote %s\n", paths[k]);
	}
	rc = 0;
	goto out;
fail:
	rc = cli_fail(ctx, st, what);
out:
	for (size_t k = 0; k < NOUT; k++)
		churn_free(paths[k]);
	churn_workdir_free(w);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	return rc;
}
