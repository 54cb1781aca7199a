/*
 * survival-dump: fit libchurn's Cox model on a churn CSV and write what an
 * outside tool needs to check it (tests/test-survival-r.sh, bench/cox.sh).
 *
 *   survival-dump CSV OUTDIR [TIME_COL [csv|bin]]      (TIME_COL: tenure; csv)
 *
 * The design is libchurn's prep of the CSV on all rows (default options,
 * target Churn) without the time column and the columns
 * churn_survival_find_time_leaks() names. Writes OUTDIR/design.csv
 * (x1..xp, time, event; with "bin" instead: OUTDIR/design.bin, the n x p
 * matrix column after column, then time and event, as native doubles, and
 * OUTDIR/design.dims "n p"), OUTDIR/result.json (features, coef, se, aliased,
 * loglik, concordance, baseline, leaks, fit_seconds, cpu_seconds) and
 * OUTDIR/model.json (churn_cox_to_json). Prints one summary line.
 */
#include <churn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what, churn_status st)
{
	fprintf(stderr, "survival-dump: %s: %s: %s\n", what, churn_strerror(st), churn_last_error());
	return 1;
}

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feature j comes from raw column col ("col", "col=level" or "col_missing"). */
static int from_column(const char *feature, const char *col)
{
	size_t n = strlen(col);
	return strncmp(feature, col, n) == 0 &&
	       (feature[n] == 0 || feature[n] == '=' || strcmp(feature + n, "_missing") == 0);
}

/* The design without the excluded raw columns (names[0..nex)). */
static churn_status keep_columns(const churn_matrix *full, const char **ex, size_t nex, churn_matrix **out)
{
	size_t n = churn_matrix_get_row_count(full), p = churn_matrix_get_column_count(full), q = 0;
	size_t *keep = malloc(p * sizeof *keep);
	if (!keep)
		return CHURN_E_NOMEM;
	for (size_t j = 0; j < p; j++) {
		int drop = 0;
		for (size_t k = 0; k < nex; k++)
			drop |= from_column(churn_matrix_get_feature_name(full, j), ex[k]);
		if (!drop)
			keep[q++] = j;
	}
	churn_matrix *m = NULL;
	churn_status st = churn_matrix_new(n, q, &m);
	for (size_t k = 0; !st && k < q; k++)
		st = churn_matrix_set_feature_name(m, k, churn_matrix_get_feature_name(full, keep[k]));
	if (!st) {
		double *d = churn_matrix_get_data(m);
		const double *s = churn_matrix_get_data_const(full);
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < q; k++)
				d[i * q + k] = s[i * p + keep[k]];
		*out = m;
	} else {
		churn_matrix_free(m);
	}
	free(keep);
	return st;
}

static void json_doubles(FILE *f, const char *key, const double *v, size_t n)
{
	fprintf(f, "\"%s\": [", key);
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%s%.17g", k ? ", " : "", v[k]);
	fprintf(f, "]");
}

static int write_design(const char *dir, const churn_matrix *x, const double *time, const uint8_t *event)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/design.csv", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	size_t n = churn_matrix_get_row_count(x), p = churn_matrix_get_column_count(x);
	for (size_t j = 0; j < p; j++)
		fprintf(f, "x%zu,", j + 1);
	fprintf(f, "time,event\n");
	for (size_t i = 0; i < n; i++) {
		const double *r = churn_matrix_get_row(x, i);
		for (size_t j = 0; j < p; j++)
			fprintf(f, "%.17g,", r[j]);
		fprintf(f, "%.17g,%u\n", time[i], (unsigned)event[i]);
	}
	return fclose(f) != 0;
}

static int write_design_bin(const char *dir, const churn_matrix *x, const double *time, const uint8_t *event)
{
	char path[4096];
	size_t n = churn_matrix_get_row_count(x), p = churn_matrix_get_column_count(x);
	snprintf(path, sizeof path, "%s/design.dims", dir);
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%zu %zu\n", n, p) < 0 || fclose(f) != 0)
		return 1;
	snprintf(path, sizeof path, "%s/design.bin", dir);
	if (!(f = fopen(path, "wb")))
		return 1;
	double *col = malloc(n * sizeof *col);
	int bad = !col;
	for (size_t j = 0; !bad && j <= p + 1; j++) {
		for (size_t i = 0; i < n; i++)
			col[i] = j < p ? churn_matrix_get_row(x, i)[j] : j == p ? time[i] : event[i];
		bad = fwrite(col, sizeof *col, n, f) != n;
	}
	free(col);
	return (fclose(f) != 0) | bad;
}

static int write_result(const char *dir, const churn_cox *m, double c, double ibs, const char **leaks,
                        size_t nleaks, double wall, double cpu)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/result.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	size_t p = churn_cox_get_feature_count(m), nb = churn_cox_get_baseline_count(m);
	double *coef = malloc((p + 1) * sizeof *coef), *se = malloc((p + 1) * sizeof *se);
	double *bt = malloc((nb + 1) * sizeof *bt), *bh = malloc((nb + 1) * sizeof *bh);
	for (size_t j = 0; j < p; j++) {
		coef[j] = churn_cox_get_coef(m, j);
		se[j] = churn_cox_get_se(m, j);
	}
	for (size_t k = 0; k < nb; k++)
		if (churn_cox_get_baseline(m, k, &bt[k], &bh[k]))
			return 1;
	fprintf(f, "{\"features\": [");
	for (size_t j = 0; j < p; j++)
		fprintf(f, "%s\"%s\"", j ? ", " : "", churn_cox_get_feature_name(m, j));
	fprintf(f, "], \"aliased\": [");
	for (size_t j = 0; j < p; j++)
		fprintf(f, "%s%s", j ? ", " : "", churn_cox_is_aliased(m, j) ? "true" : "false");
	fprintf(f, "], \"leaks\": [");
	for (size_t k = 0; k < nleaks; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", leaks[k]);
	fprintf(f, "],\n");
	json_doubles(f, "coef", coef, p);
	fprintf(f, ",\n");
	json_doubles(f, "se", se, p);
	fprintf(f, ",\n");
	json_doubles(f, "baseline_time", bt, nb);
	fprintf(f, ",\n");
	json_doubles(f, "baseline_hazard", bh, nb);
	fprintf(f, ",\n\"loglik\": %.17g, \"loglik_null\": %.17g, \"iterations\": %d, \"concordance\": %.17g, "
	        "\"ibs\": %.17g, \"fit_seconds\": %.6f, \"cpu_seconds\": %.6f}\n",
	        churn_cox_get_loglik(m), churn_cox_get_loglik_null(m), churn_cox_get_iterations(m), c, ibs, wall, cpu);
	free(coef);
	free(se);
	free(bt);
	free(bh);
	return fclose(f) != 0;
}

static int write_model(const char *dir, const churn_cox *m)
{
	char path[4096], *json = NULL;
	snprintf(path, sizeof path, "%s/model.json", dir);
	if (churn_cox_to_json(m, &json))
		return 1;
	FILE *f = fopen(path, "w");
	int bad = !f || fputs(json, f) < 0;
	churn_free(json);
	return (f && fclose(f) != 0) || bad;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: survival-dump CSV OUTDIR [TIME_COL]\n");
		return 64;
	}
	const char *time_col = argc > 3 ? argv[3] : "tenure";
	churn_dataset *ds = NULL;
	churn_prep *prep = NULL;
	churn_matrix *full = NULL, *x = NULL;
	churn_cox *m = NULL;
	size_t *leak = NULL, nleak = 0, jt, nfit;
	churn_status st;
	if ((st = churn_csv_read_file(argv[1], NULL, &ds, NULL)))
		return fail("reading the CSV", st);
	if ((st = churn_survival_find_time_leaks(ds, time_col, &leak, &nleak)))
		return fail("finding time leaks", st);
	const char **ex = malloc((nleak + 1) * sizeof *ex);
	ex[0] = time_col;
	for (size_t k = 0; k < nleak; k++)
		ex[k + 1] = churn_dataset_get_col_name(ds, leak[k]);
	if ((st = churn_prep_fit(ds, NULL, 0, NULL, &prep)) || (st = churn_prep_apply(prep, ds, &full)))
		return fail("preparing the features", st);
	if ((st = keep_columns(full, ex, nleak + 1, &x)))
		return fail("selecting the columns", st);
	size_t n = churn_matrix_get_row_count(x);
	if ((st = churn_dataset_find_col(ds, time_col, &jt)))
		return fail("finding the time column", st);
	const double *time = churn_dataset_get_numeric(ds, jt);
	const uint8_t *event = churn_matrix_get_labels(x) ? churn_matrix_get_labels(x) : churn_matrix_get_labels(full);
	double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	if ((st = churn_cox_fit(x, time, event, n, NULL, &m)))
		return fail("fitting the Cox model", st);
	double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	double *lp = malloc(n * sizeof *lp), c = 0, ibs = 0;
	if ((st = churn_cox_linear_predictor(m, x, lp, n, &nfit)) ||
	    (st = churn_survival_concordance(time, event, lp, n, &c, NULL, NULL, NULL)) ||
	    (st = churn_cox_integrated_brier(m, x, time, event, n, &ibs)))
		return fail("evaluating the model", st);
	int bin = argc > 4 && strcmp(argv[4], "bin") == 0;
	if ((bin ? write_design_bin(argv[2], x, time, event) : write_design(argv[2], x, time, event)) ||
	    write_result(argv[2], m, c, ibs, ex + 1, nleak, wall, cpu) || write_model(argv[2], m)) {
		fprintf(stderr, "survival-dump: cannot write into %s\n", argv[2]);
		return 73;
	}
	printf("survival-dump: %zu rows, %zu features, %zu events, time leaks:", n, churn_matrix_get_column_count(x),
	       churn_cox_get_event_count(m));
	for (size_t k = 0; k < nleak; k++)
		printf(" %s", ex[k + 1]);
	printf("; fit %.1f ms (cpu %.1f ms), %d iterations, concordance %.6f, IBS %.6f\n", wall * 1e3, cpu * 1e3,
	       churn_cox_get_iterations(m), c, ibs);
	free(lp);
	free(ex);
	churn_free(leak);
	churn_cox_free(m);
	churn_matrix_free(x);
	churn_matrix_free(full);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	return 0;
}
