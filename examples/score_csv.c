/*
 * score_csv: score a CSV of customers with a model artifact, as an outside
 * program would: the same CSV as `churn predict` (id, probability, label and
 * the three reasons that raise each customer's churn score most).
 *   cc score_csv.c $(pkg-config --cflags --libs libchurn) -o score_csv
 *   ./score_csv artifacts/models/gbm.json customers.csv > scores.csv
 */
#include <stdio.h>

#include <churn.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: score_csv MODEL.json CUSTOMERS.csv\n");
		return 64;
	}
	churn_scorer *scorer = NULL;
	churn_dataset *ds = NULL;
	churn_status st = churn_scorer_load_file(argv[1], &scorer);
	if (!st)
		st = churn_csv_read_file(argv[2], NULL, &ds, NULL);
	if (!st)
		st = churn_scorer_write_csv(scorer, ds, 3, stdout);
	if (st)
		fprintf(stderr, "score_csv: %s\n", churn_last_error());
	churn_dataset_free(ds);
	churn_scorer_free(scorer);
	return st ? 65 : 0;
}
