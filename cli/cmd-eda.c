/*
 * churn eda --input CSV [--out DIR] [--no-figures]
 *
 * Reads the CSV and writes DIR/reports/eda.json and the PNG figures in
 * DIR/reports/figures (DIR defaults to the workdir), in the steps of the data
 * pipeline's EDA: the statistics (churn_eda_compute), the correlation of the
 * prepared (encoded) features, the random-forest importance per raw column
 * (churn_eda_importance_compute: the same call as `churn data`, so both write
 * the same "importance"); then, as only this command does, the revenue at
 * risk from that forest's scores of every customer. Importance that cannot be
 * computed (no forest in this build) is skipped with a note in eda.json.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int mkdir_p(const char *path)
{
	char *t = strdup(path);
	if (!t)
		return -1;
	for (char *p = t + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(t, 0755) != 0 && errno != EEXIST) {
				free(t);
				return -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(t);
	return 0;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

typedef struct eda_run {
	churn_dataset *ds;
	churn_eda *eda;
	churn_prep *prep;
	churn_matrix *x;
	churn_eda_importance *imp;
	size_t skipped;
	char *reports, *figures, *json_path;
	const char *what; /* what failed, for the message */
} eda_run;

static void eda_run_free(eda_run *r)
{
	churn_dataset_free(r->ds);
	churn_eda_free(r->eda);
	churn_prep_free(r->prep);
	churn_matrix_free(r->x);
	churn_eda_importance_free(r->imp);
	free(r->reports);
	free(r->figures);
	free(r->json_path);
}

/* The rows, their statistics, and the correlation of the encoded features. */
static churn_status statistics(cli_ctx *ctx, eda_run *r, const char *input)
{
	churn_status st;
	r->what = input;
	if ((st = churn_csv_read_file(input, ctx->params, &r->ds, &r->skipped)))
		return st;
	r->what = "eda";
	if ((st = churn_eda_compute(r->ds, ctx->params, &r->eda)))
		return st;
	r->what = "prepare features";
	if ((st = churn_prep_fit(r->ds, NULL, 0, ctx->params, &r->prep)) ||
	    (st = churn_prep_apply(r->prep, r->ds, &r->x)))
		return st;
	r->what = "correlation";
	return churn_eda_set_correlation(r->eda, r->x);
}

/* The forest importance per raw column; like the data pipeline, a note when it cannot be computed. */
static churn_status importance(cli_ctx *ctx, eda_run *r)
{
	r->what = "importance";
	if (!churn_params_get_bool(ctx->params, CHURN_KEY_EDA_IMPORTANCE))
		return churn_eda_add_note(r->eda, "importance: skipped (eda.importance = false)");
	churn_status st = churn_eda_importance_compute(r->prep, r->x, ctx->params, &r->imp);
	if (st == CHURN_E_NOMEM)
		return st;
	if (st) {
		char note[1200];
		snprintf(note, sizeof note, "feature importance skipped: %s", churn_last_error());
		return churn_eda_add_note(r->eda, note);
	}
	return churn_eda_set_importance_of(r->eda, r->imp);
}

/* Revenue at risk from the importance forest's scores of every customer (a note when there are none). */
static churn_status revenue(cli_ctx *ctx, eda_run *r)
{
	r->what = "revenue at risk";
	return churn_eda_set_revenue_from_importance(r->eda, r->imp, r->ds, r->x, ctx->params);
}

/* DIR/reports/eda.json and the figures. */
static int write_outputs(cli_ctx *ctx, eda_run *r, const char *out)
{
	churn_status st;
	r->reports = join(out, "reports");
	r->figures = join(out, "reports/figures");
	r->json_path = join(out, "reports/eda.json");
	if (!r->reports || !r->figures || !r->json_path)
		return cli_fail(ctx, CHURN_E_NOMEM, "eda");
	if (mkdir_p(r->reports) != 0) {
		cli_error(ctx, "cannot create %s: %s (choose another --out)", r->reports, strerror(errno));
		return EX_CANTCREAT_;
	}
	if ((st = churn_eda_save_json(r->eda, r->json_path)))
		return cli_fail(ctx, st, "write eda.json");
	if ((st = churn_eda_draw_figures(r->eda, r->figures, ctx->params)))
		return cli_fail(ctx, st, "figures");
	return 0;
}

static void print_summary(const cli_ctx *ctx, const eda_run *r, double secs)
{
	bool figs = churn_params_get_bool(ctx->params, CHURN_KEY_EDA_FIGURES);
	if (ctx->json) {
		printf("{\"eda\":\"%s\",\"figures\":%s%s%s,\"rows\":%zu,\"skipped_rows\":%zu,\"duration_s\":%.3f}\n",
		       r->json_path, figs ? "\"" : "", figs ? r->figures : "null", figs ? "\"" : "",
		       churn_dataset_get_row_count(r->ds), r->skipped, secs);
	} else if (!ctx->quiet) {
		printf("eda: %zu rows -> %s%s%s (%.2f s)\n", churn_dataset_get_row_count(r->ds), r->json_path,
		       figs ? ", figures in " : "", figs ? r->figures : "", secs);
	}
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int cmd_eda(cli_ctx *ctx, int argc, char **argv)
{
	const char *input = NULL, *out = NULL;
	bool no_figures = false;
	cli_opt opts[] = {
		{"input", "CSV", &input, NULL, "CSV to explore (required)"},
		{"out", "DIR", &out, NULL, "output directory (default: the workdir); writes reports/eda.json, reports/figures/"},
		{"no-figures", NULL, NULL, &no_figures, "statistics only, no figures"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "EDA statistics (eda.json) and figures: churn by category, histograms, correlations, "
	                   "forest importance, Kaplan-Meier retention, revenue at risk");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required (see churn eda --help)");
		return EX_USAGE_;
	}
	if (no_figures && churn_params_set_bool(ctx->params, CHURN_KEY_EDA_FIGURES, false) != CHURN_OK)
		return cli_fail(ctx, CHURN_E_INTERNAL, "--no-figures");
	double t0 = now_s();
	eda_run r = {0};
	churn_status st = statistics(ctx, &r, input);
	if (!st)
		st = importance(ctx, &r);
	if (!st)
		st = revenue(ctx, &r);
	if (st)
		rc = cli_fail(ctx, st, r.what);
	else if (!(rc = write_outputs(ctx, &r, out ? out : ctx->workdir)))
		print_summary(ctx, &r, now_s() - t0);
	eda_run_free(&r);
	return rc;
}
