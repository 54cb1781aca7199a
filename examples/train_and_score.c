/*
 * train_and_score: train a logistic regression on a churn CSV and score one
 * customer record, through the public libchurn API only.
 *
 *   cc train_and_score.c $(pkg-config --cflags --libs libchurn) -o train_and_score
 *   ./train_and_score telco.csv
 *
 * Trains with churn_train_file() (churn/train.h: the procedure of churn train
 * and churn ml), prints the test ROC AUC and, for the first row of the file
 * scored as a raw record, the churn probability and its reasons.
 */
#include <stdio.h>

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
	churn_params *p = NULL;
	churn_training *t = NULL;
	churn_dataset *ds = NULL;
	churn_matrix *one = NULL;
	int rc = 1;
	churn_status st;

	/* the library's training procedure (what churn train does): a 70/30 split, prep fitted on the training rows */
	if ((st = churn_params_new(&p)) || (st = churn_params_set_str(p, CHURN_KEY_PIPELINE_MODELS, "logreg")))
		return fail("options", st);
	if ((st = churn_train_file(argv[1], p, &t))) {
		rc = fail("training", st);
		goto out;
	}
	const churn_model *model = churn_training_get_model(t, 0);
	size_t ntr = 0;
	churn_training_get_train_rows(t, &ntr);
	printf("trained on %zu rows, %zu features, %zu Newton iterations; test ROC AUC %.4f\n", ntr,
	       churn_model_get_feature_count(model), churn_model_get_iterations(model),
	       churn_training_get_metric(t, 0, "roc_auc"));

	/* score one raw record: the first row of the file, through the model's prep spec */
	size_t first = 0, nc = churn_model_get_feature_count(model);
	double prob;
	if ((st = churn_csv_read_file(argv[1], NULL, &ds, NULL)) ||
	    (st = churn_prep_apply_rows(churn_model_get_prep(model), ds, &first, 1, &one)) ||
	    (st = churn_model_predict_row(model, churn_matrix_get_row(one, 0), nc, &prob))) {
		rc = fail("scoring", st);
		goto out;
	}
	printf("first customer: P(churn) = %.3f\n", prob);
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
	churn_matrix_free(one);
	churn_dataset_free(ds);
	churn_training_free(t);
	churn_params_free(p);
	return rc;
}
