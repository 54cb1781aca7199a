/*
 * The stratified sample of train.max_rows drawn while reading
 * (churn_csv_read_file_sampled, libchurn/csv-sample.c): class shares, the
 * rows are the file's rows (values and lines), reproducible by seed, the
 * full read when the cap covers the file, refused values, and memory that
 * follows the sample (peak RSS of a read in a child process).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <churn.h>

#include "dataset-private.h"
#include "test-common.h"

/*
 * A churn-shaped CSV of n rows: id "C<row>" (text), tenure (numbers), charge
 * (numbers as "12.50": kept as raw text), contract (3 levels), note (text,
 * mostly missing), Churn (Yes 27%, No, missing 1%). Row i is on line i + 2.
 */
static char *write_csv(const char *name, size_t n)
{
	char *path = churn_test_path(churn_test_tmp, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	static const char *const contracts[] = {"Month-to-month", "One year", "Two year"};
	fputs("id,tenure,charge,contract,note,Churn\n", f);
	churn_test_rng_seed(99);
	for (size_t i = 0; i < n; i++) {
		double u = churn_test_urand();
		const char *y = u < 0.01 ? "" : u < 0.28 ? "Yes" : "No";
		fprintf(f, "C%07zu,%zu,%zu.%02zu,%s,%s,%s\n", i, i % 72, 20 + i % 80, i % 100,
		        contracts[i % 3], i % 7 == 0 ? "called twice" : "", y);
	}
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static churn_dataset *read_sample(const char *path, const char *cap, const char *seed, size_t *rows_read)
{
	churn_params *p = churn_test_params("train.max_rows", cap, "split.seed", seed, NULL);
	churn_dataset *ds = NULL;
	churn_status st = churn_csv_read_file_sampled(path, p, &ds, NULL, rows_read);
	ck_assert_msg(st == CHURN_OK, "%s", churn_last_error());
	churn_params_free(p);
	return ds;
}

static char *as_csv(const churn_dataset *ds)
{
	char *text = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_csv_write_buffer(ds, &text, &n), CHURN_OK);
	return text;
}

/* Cell (j, i) as text (categorical level or text); NULL when missing. */
static const char *cell(const churn_dataset *ds, size_t j, size_t i)
{
	char buf[64];
	return churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC ? NULL : churn_dataset_get_cell_text(ds, j, i, buf, sizeof buf);
}

/* Rows per value of Churn: Yes, No, missing. */
static void class_counts(const churn_dataset *ds, size_t out[3])
{
	size_t j = 0;
	ck_assert_int_eq(churn_dataset_find_col(ds, "Churn", &j), CHURN_OK);
	memset(out, 0, 3 * sizeof(size_t));
	for (size_t i = 0; i < churn_dataset_get_row_count(ds); i++) {
		const char *v = cell(ds, j, i);
		out[!v ? 2 : !strcmp(v, "Yes") ? 0 : 1]++;
	}
}

START_TEST(test_sample_class_shares_within_one_row_of_the_file)
{
	char *path = write_csv("s.csv", 20000);
	size_t all[3], got[3], read = 0;
	churn_dataset *full = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &full, NULL), CHURN_OK);
	class_counts(full, all);
	static const char *const caps[] = {"1000", "777", "19999"};
	for (size_t c = 0; c < 3; c++) {
		churn_dataset *ds = read_sample(path, caps[c], "42", &read);
		size_t cap = (size_t)atol(caps[c]);
		ck_assert_uint_eq(read, 20000);
		ck_assert_uint_eq(churn_dataset_get_rows_read(ds), 20000);
		ck_assert_uint_eq(churn_dataset_get_row_count(ds), cap);
		class_counts(ds, got);
		for (int k = 0; k < 3; k++) {
			double exact = (double)cap * (double)all[k] / 20000.0;
			ck_assert_msg(fabs((double)got[k] - exact) < 1.0, "cap %zu class %d: %zu rows, share %.2f", cap, k,
			              got[k], exact);
		}
		churn_dataset_free(ds);
	}
	churn_dataset_free(full);
	free(path);
}
END_TEST

/* Every sampled row is the file's row of its id, on its line, in the file's order (through compactions too). */
START_TEST(test_sample_rows_are_the_files_rows_in_order_with_their_lines)
{
	char *path = write_csv("s.csv", 60000);
	churn_dataset *full = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &full, NULL), CHURN_OK);
	static const char *const caps[] = {"500", "20000"};
	for (size_t c = 0; c < 2; c++) {
		churn_dataset *ds = read_sample(path, caps[c], "7", NULL);
		size_t n = churn_dataset_get_row_count(ds), prev = 0;
		ck_assert_uint_eq(churn_dataset_get_column_count(ds), churn_dataset_get_column_count(full));
		for (size_t i = 0; i < n; i++) {
			size_t id = (size_t)atol(cell(ds, 0, i) + 1);
			ck_assert_msg(i == 0 || id > prev, "row %zu: id %zu after %zu", i, id, prev);
			prev = id;
			for (size_t j = 1; j < churn_dataset_get_column_count(ds); j++) {
				ck_assert_int_eq(churn_dataset_get_col_type(ds, j), churn_dataset_get_col_type(full, j));
				if (churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC) {
					double a = churn_dataset_get_numeric(ds, j)[i], b = churn_dataset_get_numeric(full, j)[id];
					ck_assert(a == b || (isnan(a) && isnan(b)));
				} else {
					const char *a = cell(ds, j, i), *b = cell(full, j, id);
					ck_assert(a == b || (a && b && !strcmp(a, b)));
				}
				ck_assert_uint_eq(churn_dataset_is_missing(ds, j, i), churn_dataset_is_missing(full, j, id));
			}
			char where[256], want[256];
			ch_dataset_where(ds, i, where, sizeof where);
			snprintf(want, sizeof want, "%s:%zu", path, id + 2);
			ck_assert_str_eq(where, want);
		}
		/* missing counts follow the rows kept */
		for (size_t j = 0; j < churn_dataset_get_column_count(ds); j++) {
			size_t miss = 0;
			for (size_t i = 0; i < n; i++)
				miss += churn_dataset_is_missing(ds, j, i);
			ck_assert_uint_eq(churn_dataset_get_missing_count(ds, j), miss);
		}
		/* the levels are the whole file's */
		ck_assert_uint_eq(churn_dataset_get_level_count(ds, 3), churn_dataset_get_level_count(full, 3));
		churn_dataset_free(ds);
	}
	churn_dataset_free(full);
	free(path);
}
END_TEST

START_TEST(test_sample_same_seed_same_rows_other_seed_other_rows)
{
	char *path = write_csv("s.csv", 10000);
	churn_dataset *a = read_sample(path, "300", "42", NULL), *b = read_sample(path, "300", "42", NULL),
	              *c = read_sample(path, "300", "43", NULL);
	char *ta = as_csv(a), *tb = as_csv(b), *tc = as_csv(c);
	ck_assert_str_eq(ta, tb);
	ck_assert_str_ne(ta, tc);
	churn_free(ta);
	churn_free(tb);
	churn_free(tc);
	churn_dataset_free(a);
	churn_dataset_free(b);
	churn_dataset_free(c);
	free(path);
}
END_TEST

/* A cap of at least the rows, or 0, reads the file whole: the same dataset as churn_csv_read_file(). */
START_TEST(test_sample_cap_covering_the_file_is_the_full_read)
{
	char *path = write_csv("s.csv", 3000);
	churn_dataset *full = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &full, NULL), CHURN_OK);
	char *want = as_csv(full);
	static const char *const caps[] = {"3000", "100000", "0"};
	for (size_t c = 0; c < 3; c++) {
		size_t read = 0;
		churn_dataset *ds = read_sample(path, caps[c], "42", &read);
		char *got = as_csv(ds);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(read, 3000);
		ck_assert_uint_eq(churn_dataset_get_rows_read(ds), 3000);
		char w1[256], w2[256];
		ck_assert_str_eq(ch_dataset_where(ds, 2999, w1, sizeof w1), ch_dataset_where(full, 2999, w2, sizeof w2));
		churn_free(got);
		churn_dataset_free(ds);
	}
	churn_free(want);
	churn_dataset_free(full);
	free(path);
}
END_TEST

START_TEST(test_sample_bad_values_and_targets_refused)
{
	churn_params *p = churn_test_params(NULL);
	ck_assert_int_eq(churn_params_set_str(p, "train.max_rows", "-1"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "train.max_rows", "many"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "train.max_rows", "5000000000"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "train.max_rows", "10"), CHURN_OK);
	char *path = write_csv("s.csv", 100);
	churn_dataset *ds = NULL;
	/* no target column */
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "Exited"), CHURN_OK);
	ck_assert_int_eq(churn_csv_read_file_sampled(path, p, &ds, NULL, NULL), CHURN_E_NOTFOUND);
	ck_assert_ptr_null(ds);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "data.target"));
	/* the target found ignoring case; a target of many values is not a label */
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "TENURE"), CHURN_OK);
	ck_assert_int_eq(churn_csv_read_file_sampled(path, p, &ds, NULL, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "distinct values"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), ":18:2:")); /* the 17th value, on line 18 */
	/* a bad cell in a row the sample leaves out still fails the read, at its line */
	char *bad = churn_test_path(churn_test_tmp, "bad.csv");
	FILE *f = fopen(bad, "w");
	fputs("tenure,Churn\n", f);
	for (int i = 0; i < 1000; i++)
		fprintf(f, "%d,%s\n", i, i % 3 ? "No" : "Yes");
	fputs("inf,No\n", f);
	fclose(f);
	ck_assert_int_eq(churn_params_set_str(p, "data.target", "Churn"), CHURN_OK);
	ck_assert_int_eq(churn_csv_read_file_sampled(bad, p, &ds, NULL, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "bad.csv:1002:1: non-finite"));
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(churn_csv_read_file_sampled(NULL, p, &ds, NULL, NULL), CHURN_E_INVALID_ARG);
	free(bad);
	free(path);
	churn_params_free(p);
}
END_TEST

/* Peak RSS (KiB) of a child that reads path whole (cap NULL) or sampled; its row count in *rows. */
static long child_peak_kib(const char *path, const char *cap, size_t *rows)
{
	int fd[2];
	ck_assert_int_eq(pipe(fd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		churn_params *p = churn_test_params("train.max_rows", cap ? cap : "0", NULL);
		churn_dataset *ds = NULL;
		size_t out[2] = {0, 0};
		if (churn_csv_read_file_sampled(path, p, &ds, NULL, NULL) == CHURN_OK) {
			struct rusage ru;
			getrusage(RUSAGE_SELF, &ru);
			out[0] = churn_dataset_get_row_count(ds);
			out[1] = (size_t)ru.ru_maxrss;
		}
		ssize_t w = write(fd[1], out, sizeof out);
		_exit(w == (ssize_t)sizeof out ? 0 : 1);
	}
	close(fd[1]);
	size_t in[2] = {0, 0};
	ck_assert_int_eq(read(fd[0], in, sizeof in), (ssize_t)sizeof in);
	close(fd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	*rows = in[0];
	return (long)in[1];
}

START_TEST(test_sample_memory_follows_the_sample_not_the_file)
{
#if defined(__SANITIZE_ADDRESS__)
	printf("# skip: peak RSS under AddressSanitizer is its shadow memory and quarantine, not the reader's\n");
	return;
#endif
	char *path = write_csv("big.csv", 1000000);
	size_t nfull = 0, nsample = 0;
	long full = child_peak_kib(path, NULL, &nfull);
	long sample = child_peak_kib(path, "10000", &nsample);
	ck_assert_uint_eq(nfull, 1000000);
	ck_assert_uint_eq(nsample, 10000);
	printf("# peak RSS reading 1M rows: whole %ld KiB, sample of 10000 %ld KiB\n", full, sample);
	ck_assert_msg(sample * 4 < full, "sampled read peaked at %ld KiB, the whole read at %ld KiB", sample, full);
	free(path);
}
END_TEST

static Suite *sample_suite(void)
{
	Suite *s = suite_create("csv-sample");
	TCase *tc = tcase_create("sample");
	tcase_add_checked_fixture(tc, churn_test_tmp_setup, churn_test_tmp_teardown);
	tcase_add_test(tc, test_sample_class_shares_within_one_row_of_the_file);
	tcase_add_test(tc, test_sample_rows_are_the_files_rows_in_order_with_their_lines);
	tcase_add_test(tc, test_sample_same_seed_same_rows_other_seed_other_rows);
	tcase_add_test(tc, test_sample_cap_covering_the_file_is_the_full_read);
	tcase_add_test(tc, test_sample_bad_values_and_targets_refused);
	tcase_add_test(tc, test_sample_memory_follows_the_sample_not_the_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(sample_suite());
}
