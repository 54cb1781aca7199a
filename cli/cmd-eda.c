/*
 * churn eda --input CSV [--out DIR] [--no-figures]
 *
 * Reads the CSV, computes the EDA statistics (churn/eda.h), replaces the
 * correlation matrix with one over the prepared (encoded) features, fits a
 * random forest on a stratified 70% split for impurity and permutation
 * importance (permutation: drop in ROC AUC on the held-out 30% when one
 * feature is shuffled), scores every customer with it for the revenue at
 * risk, and writes DIR/reports/eda.json and the PNG figures in DIR/reports/figures.
 * DIR defaults to the workdir. A step whose module is unavailable (no forest
 * in this build) is skipped with a note in eda.json.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
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

/* splitmix64, for the permutation shuffles (deterministic per seed) */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

typedef struct eda_run {
	churn_dataset *ds;
	churn_eda *eda;
	churn_prep *prep;
	churn_matrix *x, *train, *test, *shuf;
	churn_model *forest;
	size_t *itrain, *itest;
	double *proba, *imp, *perm, *col;
	uint8_t *y;
	char *reports, *figures, *json_path;
} eda_run;

static void eda_run_free(eda_run *r)
{
	churn_dataset_free(r->ds);
	churn_eda_free(r->eda);
	churn_prep_free(r->prep);
	churn_matrix_free(r->x);
	churn_matrix_free(r->train);
	churn_matrix_free(r->test);
	churn_matrix_free(r->shuf);
	churn_model_free(r->forest);
	churn_free(r->itrain);
	churn_free(r->itest);
	free(r->proba);
	free(r->imp);
	free(r->perm);
	free(r->col);
	free(r->y);
	free(r->reports);
	free(r->figures);
	free(r->json_path);
}

/* A feature and its impurity importance; cmp_ranked: highest first, then lowest index. */
typedef struct ranked {
	size_t j;
	double v;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

/* Forest importance and scores. Returns a status; CHURN_E_UNSUPPORTED when there is no forest. */
static churn_status forest_step(cli_ctx *ctx, eda_run *r, double *out_auc)
{
	churn_model_kind kind;
	churn_status st = churn_model_kind_from_name("forest", &kind);
	if (st)
		return CHURN_E_UNSUPPORTED;
	size_t n = churn_matrix_get_nrows(r->x), k = churn_matrix_get_ncols(r->x);
	const uint8_t *lab = churn_matrix_get_labels(r->x);
	if (!lab || n < 10)
		return CHURN_E_UNSUPPORTED;
	size_t ntr = 0, nte = 0;
	uint64_t seed = (uint64_t)churn_params_get_int(ctx->params, "split.seed");
	double ts = churn_params_get_double(ctx->params, "split.test_size");
	if ((st = churn_split_stratified(lab, n, ts, seed, &r->itrain, &ntr, &r->itest, &nte)))
		return st;
	if ((st = churn_matrix_subset_rows(r->x, r->itrain, ntr, &r->train)) ||
	    (st = churn_matrix_subset_rows(r->x, r->itest, nte, &r->test)) ||
	    (st = churn_matrix_subset_rows(r->x, r->itest, nte, &r->shuf)))
		return st;
	if ((st = churn_model_new(kind, &r->forest)) || (st = churn_model_fit(r->forest, r->train, ctx->params)))
		return st;
	r->proba = malloc(n * sizeof *r->proba);
	r->imp = malloc(k * sizeof *r->imp);
	r->perm = malloc(k * sizeof *r->perm);
	r->col = malloc(nte * sizeof *r->col);
	if (!r->proba || !r->imp || !r->perm || !r->col)
		return CHURN_E_NOMEM;
	size_t got = 0;
	if ((st = churn_model_get_importance(r->forest, r->imp, k, &got)))
		return st;
	/* held-out AUC, then the drop when each feature is shuffled */
	double *pt = r->proba; /* scratch: test scores first */
	if ((st = churn_model_predict(r->forest, r->test, pt, n, &got)))
		return st;
	const uint8_t *yt = churn_matrix_get_labels(r->test);
	double base = 0;
	if ((st = churn_metrics_roc_auc(yt, pt, nte, &base)))
		return st;
	*out_auc = base;
	double *sd = churn_matrix_get_data(r->shuf);
	const double *td = churn_matrix_get_data_const(r->test);
	/* wide data: only the eda.importance_max_columns features of highest impurity are permuted (NaN: the others) */
	size_t maxp = (size_t)churn_params_get_int(ctx->params, "eda.importance_max_columns");
	bool *permute = malloc(k * sizeof *permute);
	ranked *rk = malloc(k * sizeof *rk);
	if (!permute || !rk) {
		free(permute);
		free(rk);
		return CHURN_E_NOMEM;
	}
	for (size_t j = 0; j < k; j++)
		rk[j] = (ranked){j, r->imp[j]};
	qsort(rk, k, sizeof *rk, cmp_ranked);
	for (size_t q = 0; q < k; q++)
		permute[rk[q].j] = q < maxp;
	free(rk);
	for (size_t j = 0; j < k; j++) {
		if (!permute[j]) {
			r->perm[j] = NAN;
			continue;
		}
		uint64_t s = seed ^ (0x5851F42D4C957F2Dull * (j + 1));
		for (size_t i = 0; i < nte; i++)
			r->col[i] = td[i * k + j];
		for (size_t i = nte; i > 1; i--) {
			size_t a = (size_t)(next_rand(&s) % i);
			double t = r->col[i - 1];
			r->col[i - 1] = r->col[a];
			r->col[a] = t;
		}
		for (size_t i = 0; i < nte; i++)
			sd[i * k + j] = r->col[i];
		double auc = 0;
		if ((st = churn_model_predict(r->forest, r->shuf, pt, n, &got)) ||
		    (st = churn_metrics_roc_auc(yt, pt, nte, &auc))) {
			free(permute);
			return st;
		}
		r->perm[j] = base - auc;
		for (size_t i = 0; i < nte; i++)
			sd[i * k + j] = td[i * k + j];
		cli_progress(NULL, "importance", j + 1, k);
	}
	free(permute);
	/* scores of every customer (the training rows in-sample) */
	return churn_model_predict(r->forest, r->x, r->proba, n, &got);
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
	if (!out)
		out = ctx->workdir;
	if (no_figures && churn_params_set_bool(ctx->params, "eda.figures", false) != CHURN_OK)
		return cli_fail(ctx, CHURN_E_INTERNAL, "--no-figures");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	eda_run r = {0};
	churn_status st;
	size_t skipped = 0;
	rc = 0;
	if ((st = churn_csv_read_file(input, ctx->params, &r.ds, &skipped))) {
		rc = cli_fail(ctx, st, input);
		goto done;
	}
	if ((st = churn_eda_compute(r.ds, ctx->params, &r.eda))) {
		rc = cli_fail(ctx, st, "eda");
		goto done;
	}
	/* correlation of the encoded features */
	if ((st = churn_prep_fit(r.ds, NULL, 0, ctx->params, &r.prep)) ||
	    (st = churn_prep_apply(r.prep, r.ds, &r.x))) {
		rc = cli_fail(ctx, st, "prepare features");
		goto done;
	}
	if ((st = churn_eda_set_correlation(r.eda, r.x))) {
		rc = cli_fail(ctx, st, "correlation");
		goto done;
	}
	double auc = 0;
	bool have_scores = false;
	if (churn_params_get_bool(ctx->params, "eda.importance")) {
		st = forest_step(ctx, &r, &auc);
		if (st == CHURN_E_UNSUPPORTED) {
			if (churn_eda_add_note(r.eda, "importance: skipped: no random forest in this build") != CHURN_OK)
				goto nomem;
		} else if (st) {
			rc = cli_fail(ctx, st, "random forest importance");
			goto done;
		} else {
			size_t k = churn_matrix_get_ncols(r.x);
			const char **names = malloc(k * sizeof *names);
			if (!names)
				goto nomem;
			for (size_t j = 0; j < k; j++)
				names[j] = churn_matrix_get_feature_name(r.x, j);
			st = churn_eda_set_importance(r.eda, names, r.imp, r.perm, k);
			free(names);
			if (st) {
				rc = cli_fail(ctx, st, "importance");
				goto done;
			}
			have_scores = churn_matrix_get_nrows(r.x) == churn_dataset_get_nrows(r.ds);
			char note[200];
			snprintf(note, sizeof note,
			         "importance: random forest fitted on a stratified %d%% split; permutation importance is "
			         "the held-out ROC AUC drop (held-out AUC %.3f)",
			         (int)(100 * (1 - churn_params_get_double(ctx->params, "split.test_size")) + 0.5), auc);
			if (churn_eda_add_note(r.eda, note) != CHURN_OK)
				goto nomem;
		}
	} else if (churn_eda_add_note(r.eda, "importance: skipped (eda.importance = false)") != CHURN_OK) {
		goto nomem;
	}
	double thr = churn_params_get_double(ctx->params, "eda.threshold");
	if ((st = churn_eda_set_revenue_at_risk(r.eda, r.ds, have_scores ? r.proba : NULL, thr))) {
		rc = cli_fail(ctx, st, "revenue at risk");
		goto done;
	}
	if (have_scores &&
	    churn_eda_add_note(r.eda, "revenue_at_risk: scores of the EDA random forest (training rows in-sample); "
	                              "churn ml reports the held-out models") != CHURN_OK)
		goto nomem;
	r.reports = join(out, "reports");
	r.figures = join(out, "reports/figures");
	r.json_path = join(out, "reports/eda.json");
	if (!r.reports || !r.figures || !r.json_path)
		goto nomem;
	if (mkdir_p(r.reports) != 0) {
		cli_error(ctx, "cannot create %s: %s (choose another --out)", r.reports, strerror(errno));
		rc = EX_CANTCREAT_;
		goto done;
	}
	if ((st = churn_eda_save_json(r.eda, r.json_path))) {
		rc = cli_fail(ctx, st, "write eda.json");
		goto done;
	}
	if ((st = churn_eda_draw_figures(r.eda, r.figures, ctx->params))) {
		rc = cli_fail(ctx, st, "figures");
		goto done;
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	bool figs = churn_params_get_bool(ctx->params, "eda.figures");
	if (ctx->json) {
		printf("{\"eda\":\"%s\",\"figures\":%s%s%s,\"rows\":%zu,\"skipped_rows\":%zu,\"duration_s\":%.3f}\n",
		       r.json_path, figs ? "\"" : "", figs ? r.figures : "null", figs ? "\"" : "",
		       churn_dataset_get_nrows(r.ds), skipped, secs);
	} else if (!ctx->quiet) {
		printf("eda: %zu rows -> %s%s%s (%.2f s)\n", churn_dataset_get_nrows(r.ds), r.json_path,
		       figs ? ", figures in " : "", figs ? r.figures : "", secs);
	}
	goto done;
nomem:
	rc = cli_fail(ctx, CHURN_E_NOMEM, "eda");
done:
	eda_run_free(&r);
	return rc;
}
