/* churn profile: per-column statistics and the target summary of a CSV. */
#include "cli.h"

#include <math.h>
#include <string.h>

static void print_num(double v)
{
	if (isnan(v))
		printf("-");
	else
		printf("%.4g", v);
}

static void print_table(const churn_profile *pr)
{
	size_t nc = churn_profile_get_column_count(pr), w = 6;
	for (size_t j = 0; j < nc; j++) {
		size_t l = strlen(churn_profile_get_col_name(pr, j));
		if (l > w)
			w = l;
	}
	if (w > 32)
		w = 32;
	printf("rows: %zu   columns: %zu\n\n", churn_profile_get_row_count(pr), nc);
	printf("%-*s  %-11s  %8s  %s\n", (int)w, "column", "type", "missing", "summary");
	for (size_t j = 0; j < nc; j++) {
		churn_col_type t = churn_profile_get_col_type(pr, j);
		printf("%-*.*s  %-11s  %8zu  ", (int)w, (int)w, churn_profile_get_col_name(pr, j), churn_col_type_name(t),
		       churn_profile_get_col_missing(pr, j));
		size_t count = churn_profile_get_col_present_count(pr, j);
		if (t == CHURN_COL_NUMERIC) {
			static const char *const stats[] = {"mean", "std", "min", "p50", "max"};
			for (size_t k = 0; k < 5; k++) {
				printf("%s%s ", k ? "  " : "", stats[k]);
				print_num(churn_profile_get_col_stat(pr, j, stats[k]));
			}
		} else if (t == CHURN_COL_CATEGORICAL) {
			size_t nl = churn_profile_get_col_level_count(pr, j);
			for (size_t k = 0; k < nl && k < 4; k++) {
				size_t c = 0;
				const char *v = churn_profile_get_col_level(pr, j, k, &c);
				printf("%s%s %zu (%.1f%%)", k ? ", " : "", v, c, count ? 100.0 * (double)c / (double)count : 0.0);
			}
			if (nl > 4)
				printf(", ... (%zu levels)", nl);
		} else {
			bool exact = true;
			size_t d = churn_profile_get_col_distinct(pr, j, &exact);
			const char *ex = churn_profile_get_col_example(pr, j);
			printf("%s%zu distinct", exact ? "" : "~", d);
			if (ex)
				printf(", e.g. %.40s", ex);
		}
		putchar('\n');
	}
	putchar('\n');
	if (churn_profile_has_target(pr))
		printf("target: %s   positive \"%s\": %zu of %zu (%.2f%%)\n", churn_profile_get_target_name(pr),
		       churn_profile_get_positive(pr), churn_profile_get_positive_count(pr),
		       churn_profile_get_target_count(pr), 100.0 * churn_profile_get_target_rate(pr));
	else
		printf("target: none\n");
	for (size_t k = 0; k < churn_profile_get_note_count(pr); k++)
		printf("note: %s\n", churn_profile_get_note(pr, k));
}

int cmd_profile(cli_ctx *ctx, int argc, char **argv)
{
	const char *input = NULL;
	const cli_opt opts[] = {
		{"input", "CSV", &input, NULL, "CSV file to profile (required)"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "profile a CSV: per-column type, missing, statistics or levels, and the target rate");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required (see churn profile --help)");
		return EX_USAGE_;
	}
	churn_dataset *ds = NULL;
	churn_profile *pr = NULL;
	size_t skipped = 0;
	churn_status st = churn_csv_read_file(input, ctx->params, &ds, &skipped);
	if (st)
		return cli_fail(ctx, st, "read");
	if (skipped && !ctx->quiet)
		cli_error(ctx, "warning: skipped %zu ragged rows of %s", skipped, input);
	st = churn_profile_compute(ds, ctx->params, &pr);
	churn_dataset_free(ds);
	if (st)
		return cli_fail(ctx, st, "profile");
	if (ctx->json) {
		char *json = NULL;
		st = churn_profile_to_json(pr, &json);
		if (st) {
			churn_profile_free(pr);
			return cli_fail(ctx, st, "profile");
		}
		fputs(json, stdout);
		putchar('\n');
		churn_free(json);
	} else {
		print_table(pr);
	}
	churn_profile_free(pr);
	if (fflush(stdout) != 0) {
		cli_error(ctx, "cannot write to stdout");
		return EX_IOERR_;
	}
	return 0;
}
