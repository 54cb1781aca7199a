/*
 * Experiment for bench/README.md "Pipeline": the cost of the EDA step's
 * random-forest importance in `churn data` (libchurn/pipeline.c eda_importance:
 * a forest on every prepared row, then permutation importance = 1 + 3 x p
 * calls of churn_model_predict over min(n, 20000) rows).
 *
 * For a few forest settings: fit seconds, seconds of one churn_model_predict
 * over the permutation sample, and the permutation importance extrapolated
 * as (1 + 3 p) predictions.
 *
 * usage: forest_exp CSV
 * build: cc -O2 -std=c11 -o forest_exp bench/forest_exp.c -Iinclude -Ibuild/include -Lbuild/libchurn -lchurn
 */
#define _POSIX_C_SOURCE 200809L
#include <churn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int die(const char *what, churn_status st)
{
	fprintf(stderr, "forest_exp: %s: %s (%s)\n", what, churn_strerror(st), churn_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CSV\n", argv[0]);
		return 64;
	}
	churn_dataset *ds = NULL;
	churn_prep *prep = NULL;
	churn_matrix *x = NULL;
	churn_status st;
	if ((st = churn_csv_read_file(argv[1], NULL, &ds, NULL)))
		return die("read", st);
	if ((st = churn_prep_fit(ds, NULL, 0, NULL, &prep)) || (st = churn_prep_apply(prep, ds, &x)))
		return die("prep", st);
	size_t n = churn_matrix_get_row_count(x), p = churn_matrix_get_column_count(x);
	double *prob = malloc(n * sizeof(double));
	static const struct {
		int trees, depth, threads;
	} cfg[] = {{200, 12, 0}, {200, 12, 1}, {100, 12, 0}, {100, 8, 0}, {50, 8, 0}};
	printf("%zu rows, %zu features; permutation importance = 1 + 3 x %zu = %zu predictions\n", n, p, p, 1 + 3 * p);
	for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
		churn_params *par = NULL;
		churn_model *m = NULL;
		if ((st = churn_params_new(&par)) || (st = churn_params_set_int(par, "forest.n_trees", cfg[c].trees)) ||
		    (st = churn_params_set_int(par, "forest.max_depth", cfg[c].depth)) ||
		    (st = churn_params_set_int(par, "forest.n_threads", cfg[c].threads)) ||
		    (st = churn_model_new(CHURN_MODEL_FOREST, &m)))
			return die("params", st);
		double w0 = wall(), c0 = cpu();
		if ((st = churn_model_fit(m, x, par)))
			return die("fit", st);
		double w1 = wall(), c1 = cpu();
		size_t got;
		if ((st = churn_model_predict(m, x, prob, n, &got)))
			return die("predict", st);
		double w2 = wall(), c2 = cpu();
		double k = (double)(1 + 3 * p);
		printf("trees %3d depth %2d threads %s: fit %6.3f s wall %6.3f s cpu; one predict %6.3f s wall %6.3f s cpu"
		       " (%.0f ns/row/tree) -> permutation ~%6.1f s wall %6.1f s cpu\n",
		       cfg[c].trees, cfg[c].depth, cfg[c].threads ? "1  " : "all", w1 - w0, c1 - c0, w2 - w1, c2 - c1,
		       1e9 * (c2 - c1) / (double)n / cfg[c].trees, k * (w2 - w1), k * (c2 - c1));
		churn_model_free(m);
		churn_params_free(par);
	}
	free(prob);
	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	return 0;
}
