/*
 * bench/parse_csv: read a CSV with churn_csv_read_file() and print one line
 * "rows cols seconds" (wall time of the read only). Used by bench/parse.sh
 * when `churn profile` is not built, and to separate parse from profile time.
 */
#define _POSIX_C_SOURCE 200809L
#include <churn.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: parse_csv FILE.csv\n");
		return 64;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	churn_dataset *ds = NULL;
	churn_status st = churn_csv_read_file(argv[1], NULL, &ds, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (st) {
		fprintf(stderr, "parse_csv: %s\n", churn_last_error());
		return 65;
	}
	printf("%zu %zu %.3f\n", churn_dataset_get_row_count(ds), churn_dataset_get_column_count(ds),
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	for (size_t j = 0; j < churn_dataset_get_column_count(ds); j++)
		fprintf(stderr, "%s:%s:%zu ", churn_dataset_get_col_name(ds, j),
		        churn_col_type_name(churn_dataset_get_col_type(ds, j)), churn_dataset_get_missing_count(ds, j));
	fprintf(stderr, "\n");
	churn_dataset_free(ds);
	return 0;
}
