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

/* What churn_prep_write_outputs() wrote, for the summary. */
typedef struct prepared {
	const char *input;
	const churn_prep *prep;
	char *paths[NOUT];
	size_t skipped, nrows, imputed;
} prepared;

static void print_json(const prepared *r)
{
	size_t nd = churn_prep_get_dropped_count(r->prep);
	printf("{\"input\":");
	cli_json_string(stdout, r->input);
	printf(",\"rows\":%zu,\"features\":%zu,\"target\":", r->nrows, churn_prep_get_feature_count(r->prep));
	cli_json_string(stdout, churn_prep_get_target(r->prep));
	printf(",\"positive\":");
	cli_json_string(stdout, churn_prep_get_positive(r->prep));
	printf(",\"dropped\":[");
	for (size_t k = 0; k < nd; k++) {
		printf("%s{\"column\":", k ? "," : "");
		cli_json_string(stdout, churn_prep_get_dropped_column(r->prep, k));
		printf(",\"reason\":");
		cli_json_string(stdout, churn_prep_get_dropped_reason(r->prep, k));
		printf("}");
	}
	printf("],\"dropped_target_rows\":%zu,\"skipped_rows\":%zu,\"imputed_cells\":%zu,\"outputs\":{",
	       churn_prep_get_dropped_target_row_count(r->prep), r->skipped, r->imputed);
	static const char *const keys[NOUT] = {"parquet", "csv", "prep", "summary_json", "summary_csv"};
	for (size_t k = 0; k < NOUT; k++) {
		printf("%s\"%s\":", k ? "," : "", keys[k]);
		cli_json_string(stdout, r->paths[k]);
	}
	printf("}}\n");
}

static void print_text(const prepared *r)
{
	const churn_prep *prep = r->prep;
	printf("prepared %zu rows x %zu features from %s (target %s, positive \"%s\")\n", r->nrows,
	       churn_prep_get_feature_count(prep), r->input, churn_prep_get_target(prep), churn_prep_get_positive(prep));
	for (size_t k = 0; k < churn_prep_get_dropped_count(prep); k++)
		printf("  dropped %s: %s\n", churn_prep_get_dropped_column(prep, k), churn_prep_get_dropped_reason(prep, k));
	if (churn_prep_get_dropped_target_row_count(prep))
		printf("  dropped %zu rows with a missing target\n", churn_prep_get_dropped_target_row_count(prep));
	if (r->imputed)
		printf("  imputed %zu missing cells\n", r->imputed);
	for (size_t k = 0; k < NOUT; k++)
		printf("  wrote %s\n", r->paths[k]);
}

/* Read, fit and write into @p outdir (locked, as a workdir); *what names the step that failed. */
static churn_status prepare(cli_ctx *ctx, const char *outdir, churn_prep **prep, prepared *r, const char **what)
{
	churn_dataset *ds = NULL;
	churn_workdir *w = NULL;
	churn_status st;
	*what = r->input;
	if ((st = churn_csv_read_file(r->input, ctx->params, &ds, &r->skipped)))
		goto out;
	*what = "fit";
	if ((st = churn_prep_fit(ds, NULL, 0, ctx->params, prep)))
		goto out;
	r->prep = *prep;
	*what = outdir;
	if ((st = churn_workdir_open(outdir, ctx->params, &w)) || (st = churn_workdir_lock(w)))
		goto out;
	for (size_t k = 0; k < NOUT && !st; k++)
		st = churn_workdir_join(w, churn_prep_output_name(k), &r->paths[k]);
	*what = "prepare";
	if (!st)
		st = churn_prep_write_outputs(*prep, ds, NULL, r->skipped, NULL, (const char *const *)r->paths, NOUT,
		                              ctx->params, &r->nrows, &r->imputed, NULL);
out:
	churn_workdir_free(w);
	churn_dataset_free(ds);
	return st;
}

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
	churn_prep *prep = NULL;
	prepared r = {.input = input};
	const char *what = input;
	churn_status st = prepare(ctx, outdir ? outdir : ctx->workdir, &prep, &r, &what);
	if (st)
		rc = cli_fail(ctx, st, what);
	else if (ctx->json)
		print_json(&r);
	else if (!ctx->quiet)
		print_text(&r);
	for (size_t k = 0; k < NOUT; k++)
		churn_free(r.paths[k]);
	churn_prep_free(prep);
	return rc;
}
