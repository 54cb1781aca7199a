/*
 * train_and_score: train a logistic regression on a churn CSV and score one
 * customer record, through the public libchurn API only.
 *
 *   cc train_and_score.c $(pkg-config --cflags --libs libchurn) -o train_and_score
 *   ./train_and_score telco.csv
 *
 * Prints the test ROC AUC and, for the first row of the file scored as a raw
 * record, the churn probability and the three largest contributions.
 */
#include <stdio.h>
#include <stdlib.h>

#include <churn.h>

static int fail(const char *what, churn_status st)
{
	fprintf(stderr, "train_and_score: %s: %s (%s)\n", what, churn_strerror(st), churn_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DATA.csv\n", argv[0]);
		return 64;
	}
	churn_dataset *ds = NULL;
	churn_prep *prep = NULL;
	churn_matrix *train = NULL, *test = NULL, *one = NULL;
	churn_model *model = NULL;
	uint8_t *y = NULL;
	size_t *tr = NULL, *te = NULL, ntr, nte, n;
	double *prob = NULL;
	int rc = 1;
	churn_status st;

	if ((st = churn_dataset_load_csv(argv[1], &ds)))
		return fail("reading the CSV", st);
	/* labels from a spec fitted on all rows; the features' spec is fitted on the training rows only */
	if ((st = churn_prep_fit(ds, NULL, 0, NULL, &prep)) || (st = churn_prep_get_labels(prep, ds, &y, &n))) {
		rc = fail("labels", st);
		goto out;
	}
	churn_prep_free(prep);
	prep = NULL;
	if ((st = churn_split_stratified(y, n, 0.3, 42, &tr, &ntr, &te, &nte)) ||
	    (st = churn_prep_fit(ds, tr, ntr, NULL, &prep)) || (st = churn_prep_apply_rows(prep, ds, tr, ntr, &train)) ||
	    (st = churn_prep_apply_rows(prep, ds, te, nte, &test))) {
		rc = fail("preparing features", st);
		goto out;
	}
	if ((st = churn_model_new(CHURN_MODEL_LOGREG, &model)) || (st = churn_model_fit(model, train, NULL))) {
		rc = fail("fitting", st);
		goto out;
	}
	prob = malloc(nte * sizeof(double));
	double auc;
	if (!prob || (st = churn_model_predict(model, test, prob, nte, &n)) ||
	    (st = churn_metrics_roc_auc(churn_matrix_get_labels(test), prob, nte, &auc))) {
		rc = fail("evaluating", st ? st : CHURN_E_NOMEM);
		goto out;
	}
	printf("trained on %zu rows, %zu features, %zu Newton iterations; test ROC AUC %.4f\n", ntr,
	       churn_model_get_nfeatures(model), churn_model_get_iterations(model), auc);

	/* score one raw record: the first row of the file */
	size_t first = 0, nc = churn_model_get_nfeatures(model);
	double p;
	if ((st = churn_prep_apply_rows(prep, ds, &first, 1, &one)) ||
	    (st = churn_model_predict_row(model, churn_matrix_get_row(one, 0), nc, &p))) {
		rc = fail("scoring", st);
		goto out;
	}
	printf("first customer: P(churn) = %.3f\n", p);
	/* the reasons every front-end shows: what raises this customer's churn score most */
	size_t idx[3], k = 0;
	double contrib[3];
	if ((st = churn_model_reasons(model, churn_matrix_get_row(one, 0), nc, 3, idx, contrib, &k))) {
		rc = fail("explaining", st);
		goto out;
	}
	for (size_t q = 0; q < k; q++)
		printf("  reason %zu: %s (%+.2f)\n", q + 1, churn_model_get_feature_name(model, idx[q]), contrib[q]);
	rc = 0;
out:
	free(prob);
	churn_free(y);
	churn_free(tr);
	churn_free(te);
	churn_matrix_free(train);
	churn_matrix_free(test);
	churn_matrix_free(one);
	churn_model_free(model);
	churn_prep_free(prep);
	churn_dataset_free(ds);
	return rc;
}
