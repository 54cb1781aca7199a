/*
 * bench helper (built by bench/gbm.sh): read a churn CSV, 70/30 stratified
 * split (seed 42), fit the prep spec on the training rows, write both
 * prepared matrices for the Python peers, then time churn_model_fit() of
 * each model (default gbm: 100 trees, depth 3, lr 0.1) and its evaluation
 * (predict the test rows + churn_metrics_compute_json), and report test ROC
 * AUC: one JSON line per model.
 * Usage: gbm_bench CSV OUTPREFIX NTHREADS [MODEL[,MODEL...]] [REPEATS]
 * OUTPREFIX "-" writes no matrices. With REPEATS > 1 each model is fitted
 * and evaluated that many times: fit_s / fit_cpu_s / eval_s / eval_cpu_s are
 * the best wall and CPU times, fit_all_s lists every fit's wall time.
 */
#include <churn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
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

static int die(const char *what)
{
	fprintf(stderr, "gbm_bench: %s: %s\n", what, churn_last_error());
	return 1;
}

static int dump(const churn_matrix *m, const char *prefix, const char *part)
{
	char path[4096];
	snprintf(path, sizeof path, "%s.%s.x", prefix, part);
	FILE *f = fopen(path, "wb");
	size_t n = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m);
	if (!f || fwrite(churn_matrix_get_data_const(m), sizeof(double), n * nf, f) != n * nf || fclose(f))
		return 1;
	snprintf(path, sizeof path, "%s.%s.y", prefix, part);
	f = fopen(path, "wb");
	if (!f || fwrite(churn_matrix_get_labels(m), 1, n, f) != n || fclose(f))
		return 1;
	return 0;
}

/* Fit (best of reps), then evaluate: predict the test rows + every metric (churn_metrics_compute_json). */
static int bench_model(const char *kind_name, const char *nthreads, int reps, const churn_matrix *mtr,
                       const churn_matrix *mte, double t_read, double t_prep)
{
	churn_model_kind kind;
	if (churn_model_kind_from_name(kind_name, &kind))
		return die("model kind");
	size_t nte = churn_matrix_get_row_count(mte);
	churn_params *p = NULL;
	char key[64];
	snprintf(key, sizeof key, "%s.n_threads", kind_name);
	if (churn_params_new(&p) || churn_params_set_int(p, key, atoi(nthreads)))
		return die("params");
	churn_model *m = NULL;
	double *prob = malloc((nte ? nte : 1) * sizeof(double));
	double t_fit = 1e300, c_fit = 1e300, t_pred = 1e300, t_eval = 1e300, c_eval = 1e300, auc = 0;
	char all[4096] = "";
	size_t used = 0;
	if (!prob)
		return die("memory");
	for (int r = 0; r < reps; r++) {
		churn_model_free(m);
		m = NULL;
		if (churn_model_new(kind, &m))
			return die("model");
		double t0 = now(), c0 = cpu();
		if (churn_model_fit(m, mtr, p))
			return die("fit");
		double tw = now() - t0, tc = cpu() - c0;
		t_fit = tw < t_fit ? tw : t_fit;
		c_fit = tc < c_fit ? tc : c_fit;
		if (used + 16 < sizeof all)
			used += (size_t)snprintf(all + used, sizeof all - used, "%s%.4f", r ? "," : "", tw);
		size_t np;
		char *js = NULL;
		t0 = now();
		c0 = cpu();
		if (churn_model_predict(m, mte, prob, nte, &np))
			return die("predict");
		double tp = now() - t0;
		if (churn_metrics_compute_json(churn_matrix_get_labels(mte), prob, nte, 0.5, &js))
			return die("metrics");
		tw = now() - t0;
		tc = cpu() - c0;
		churn_free(js);
		t_pred = tp < t_pred ? tp : t_pred;
		t_eval = tw < t_eval ? tw : t_eval;
		c_eval = tc < c_eval ? tc : c_eval;
	}
	if (churn_metrics_roc_auc(churn_matrix_get_labels(mte), prob, nte, &auc))
		return die("auc");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"model\":\"%s\",\"train_rows\":%zu,\"test_rows\":%zu,\"features\":%zu,\"read_s\":%.4f,"
	       "\"prep_s\":%.4f,\"fit_s\":%.4f,\"fit_cpu_s\":%.4f,\"predict_s\":%.4f,\"eval_s\":%.4f,"
	       "\"eval_cpu_s\":%.4f,\"auc\":%.6f,\"iterations\":%zu,\"peak_rss_mb\":%.1f,\"fit_all_s\":[%s]}\n",
	       kind_name, churn_matrix_get_row_count(mtr), nte, churn_matrix_get_column_count(mtr), t_read, t_prep, t_fit, c_fit,
	       t_pred, t_eval, c_eval, auc, churn_model_get_iterations(m), (double)ru.ru_maxrss / 1024.0, all);
	fflush(stdout);
	free(prob);
	churn_model_free(m);
	churn_params_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: gbm_bench CSV OUTPREFIX NTHREADS [MODEL[,MODEL...]] [REPEATS]\n");
		return 64;
	}
	const char *models = argc > 4 ? argv[4] : "gbm";
	int reps = argc > 5 ? atoi(argv[5]) : 1;
	if (reps < 1)
		reps = 1;
	double t0 = now();
	churn_dataset *ds = NULL;
	if (churn_csv_read_file(argv[1], NULL, &ds, NULL))
		return die("read csv");
	double t_read = now() - t0;
	size_t n = churn_dataset_get_row_count(ds);
	churn_prep *prep0 = NULL;
	uint8_t *y = NULL;
	size_t ny;
	if (churn_prep_fit(ds, NULL, 0, NULL, &prep0) || churn_prep_get_labels(prep0, ds, &y, &ny))
		return die("labels");
	size_t *tr = NULL, *te = NULL, ntr, nte;
	if (churn_split_stratified(y, n, 0.3, 42, &tr, &ntr, &te, &nte))
		return die("split");
	t0 = now();
	churn_prep *prep = NULL;
	churn_matrix *mtr = NULL, *mte = NULL;
	if (churn_prep_fit(ds, tr, ntr, NULL, &prep) || churn_prep_apply_rows(prep, ds, tr, ntr, &mtr) ||
	    churn_prep_apply_rows(prep, ds, te, nte, &mte))
		return die("prep");
	double t_prep = now() - t0;
	if (strcmp(argv[2], "-") && (dump(mtr, argv[2], "train") || dump(mte, argv[2], "test"))) {
		fprintf(stderr, "gbm_bench: cannot write %s.*\n", argv[2]);
		return 73;
	}
	char list[256];
	snprintf(list, sizeof list, "%s", models);
	for (char *save = NULL, *kind_name = strtok_r(list, ",", &save); kind_name;
	     kind_name = strtok_r(NULL, ",", &save))
		if (bench_model(kind_name, argv[3], reps, mtr, mte, t_read, t_prep))
			return 1;
	churn_matrix_free(mtr);
	churn_matrix_free(mte);
	churn_prep_free(prep);
	churn_prep_free(prep0);
	churn_free(tr);
	churn_free(te);
	churn_free(y);
	churn_dataset_free(ds);
	return 0;
}
