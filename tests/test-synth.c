/* Synthetic Telco data: determinism, header and value sets, rates, file and dataset forms. */
#include <churn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

typedef struct membuf {
	char *p;
	size_t n, cap;
	size_t calls;
	size_t fail_after; /* 0: never fail */
} membuf;

static size_t mem_write(void *ud, const void *buf, size_t n)
{
	membuf *m = ud;
	m->calls++;
	if (m->fail_after && m->calls >= m->fail_after)
		return n / 2;
	if (m->n + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 1 << 16;
		while (cap < m->n + n + 1)
			cap *= 2;
		m->p = realloc(m->p, cap);
		ck_assert_ptr_nonnull(m->p);
		m->cap = cap;
	}
	memcpy(m->p + m->n, buf, n);
	m->n += n;
	m->p[m->n] = '\0';
	return n;
}

static membuf gen(uint64_t rows, uint64_t seed)
{
	membuf m = {0};
	ck_assert_int_eq(churn_synth_write(rows, seed, mem_write, &m), CHURN_OK);
	return m;
}

static const char *header =
	"customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,"
	"OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,"
	"PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn\n";

START_TEST(test_synth_write_deterministic)
{
	membuf a = gen(5000, 7), b = gen(5000, 7), c = gen(5000, 8);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert(memcmp(a.p, b.p, a.n) == 0);
	ck_assert(a.n != c.n || memcmp(a.p, c.p, a.n) != 0);
	/* a prefix of a longer run is the shorter run */
	membuf d = gen(6000, 7);
	ck_assert(d.n > a.n && memcmp(a.p, d.p, a.n) == 0);
	free(a.p);
	free(b.p);
	free(c.p);
	free(d.p);
}
END_TEST

static bool in_set(const char *s, size_t n, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == n && !memcmp(*set, s, n))
			return true;
	return false;
}

START_TEST(test_synth_write_values_in_telco_domains)
{
	const uint64_t rows = 100000;
	membuf m = gen(rows, 1);
	ck_assert(!strncmp(m.p, header, strlen(header)));
	static const char *const yn[] = {"Yes", "No", NULL};
	static const char *const gender[] = {"Male", "Female", NULL};
	static const char *const senior[] = {"0", "1", NULL};
	static const char *const ml[] = {"Yes", "No", "No phone service", NULL};
	static const char *const net[] = {"DSL", "Fiber optic", "No", NULL};
	static const char *const addon[] = {"Yes", "No", "No internet service", NULL};
	static const char *const contract[] = {"Month-to-month", "One year", "Two year", NULL};
	static const char *const pay[] = {"Electronic check", "Mailed check", "Bank transfer (automatic)",
	                                  "Credit card (automatic)", NULL};
	const char *const *sets[21] = {NULL, gender, senior, yn, yn, NULL, yn, ml, net, addon, addon, addon, addon,
	                               addon, addon, contract, yn, pay, NULL, NULL, yn};
	size_t nrows = 0, churn = 0, blank_total = 0, tenure0 = 0;
	const char *p = m.p + strlen(header), *end = m.p + m.n;
	while (p < end) {
		const char *f[21];
		size_t len[21];
		int k = 0;
		const char *q = p;
		for (;;) {
			const char *e = q;
			while (*e != ',' && *e != '\n')
				e++;
			ck_assert_int_lt(k, 21);
			f[k] = q;
			len[k] = (size_t)(e - q);
			k++;
			q = e + 1;
			if (*e == '\n')
				break;
		}
		ck_assert_int_eq(k, 21);
		for (int j = 0; j < 21; j++)
			if (sets[j])
				ck_assert_msg(in_set(f[j], len[j], sets[j]), "row %zu column %d: '%.*s'", nrows, j, (int)len[j], f[j]);
		/* customerID dddd-LLLLL */
		ck_assert_uint_eq(len[0], 10);
		for (int c = 0; c < 10; c++)
			ck_assert(c < 4 ? (f[0][c] >= '0' && f[0][c] <= '9')
			                : c == 4 ? f[0][c] == '-' : (f[0][c] >= 'A' && f[0][c] <= 'Z'));
		int tenure = atoi(f[5]);
		ck_assert(tenure >= 0 && tenure <= 72);
		double mc = strtod(f[18], NULL);
		ck_assert(mc >= 18.0 && mc <= 119.0);
		bool no_phone = len[6] == 2, no_net = len[8] == 2 && !memcmp(f[8], "No", 2);
		ck_assert_int_eq(no_phone, len[7] == 16); /* "No phone service" exactly without phone */
		for (int j = 9; j <= 14; j++)
			ck_assert_int_eq(no_net, len[j] == 19); /* "No internet service" exactly without internet */
		if (len[19] == 0) {
			blank_total++;
			ck_assert_int_eq(tenure, 0);
		} else {
			double tc = strtod(f[19], NULL);
			ck_assert(tc >= 0.6 * tenure * mc && tc <= 1.6 * tenure * mc);
		}
		tenure0 += tenure == 0;
		churn += len[20] == 3;
		nrows++;
		p = q;
	}
	ck_assert_uint_eq(nrows, rows);
	ck_assert_uint_eq(tenure0, blank_total);
	double rate = (double)churn / (double)rows;
	ck_assert_msg(rate >= 0.24 && rate <= 0.28, "churn rate %g", rate);
	double blank = (double)blank_total / (double)rows;
	ck_assert_msg(blank >= 0.001 && blank <= 0.003, "blank TotalCharges %g", blank);
	free(m.p);
}
END_TEST

START_TEST(test_synth_write_zero_rows_is_header_only)
{
	membuf m = gen(0, 1);
	ck_assert_str_eq(m.p, header);
	free(m.p);
}
END_TEST

START_TEST(test_synth_write_bad_args_and_sink_failure_refused)
{
	ck_assert_int_eq(churn_synth_write(10, 1, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	membuf m = {0};
	ck_assert_int_eq(churn_synth_write(UINT64_C(20000000000), 1, mem_write, &m), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	m.fail_after = 2;
	ck_assert_int_eq(churn_synth_write(20000, 1, mem_write, &m), CHURN_E_IO);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "bytes"));
	free(m.p);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(0, 1, &ds), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(churn_synth_dataset(10, 1, NULL), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_synth_write_file(10, 1, "/nonexistent-dir/x.csv"), CHURN_E_CREATE);
	ck_assert_str_ne(churn_last_error(), "");
}
END_TEST

START_TEST(test_synth_write_file_matches_stream)
{
	char *dir = churn_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	char path[4096];
	snprintf(path, sizeof path, "%s/synth.csv", dir);
	ck_assert_int_eq(churn_synth_write_file(3000, 5, path), CHURN_OK);
	membuf m = gen(3000, 5);
	size_t got = 0;
	char *buf = churn_test_read_file(path, &got);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(got, m.n);
	ck_assert(memcmp(buf, m.p, m.n) == 0);
	free(buf);
	free(m.p);
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_synth_dataset_same_values_as_csv_text)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_synth_dataset(20000, 3, &ds), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 20000);
	ck_assert_uint_eq(churn_dataset_get_column_count(ds), CHURN_SYNTH_NCOLS);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 0), "customerID");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_TEXT);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 2), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 15), CHURN_COL_CATEGORICAL);
	size_t j = 0;
	ck_assert_int_eq(churn_dataset_find_col(ds, "TotalCharges", &j), CHURN_OK);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, j), CHURN_COL_NUMERIC);
	size_t miss = churn_dataset_get_missing_count(ds, j);
	ck_assert(miss >= 10 && miss <= 80);
	/* same values as the CSV text */
	membuf m = gen(20000, 3);
	const char *row1 = strchr(m.p, '\n') + 1;
	ck_assert(!strncmp(row1, churn_dataset_get_text(ds, 0, 0), 10));
	ck_assert_int_eq(churn_dataset_find_col(ds, "Churn", &j), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, j), 2);
	char buf[64];
	ck_assert_int_eq(churn_dataset_find_col(ds, "MonthlyCharges", &j), CHURN_OK);
	const char *mc = churn_dataset_get_cell_text(ds, j, 0, buf, sizeof buf);
	/* row 1, field 19 */
	const char *q = row1;
	for (int k = 0; k < 18; k++)
		q = strchr(q, ',') + 1;
	ck_assert(!strncmp(q, mc, strlen(mc)) && q[strlen(mc)] == ',');
	free(m.p);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_synth_csv_read_back_typed_as_dataset)
{
	/* The CSV reader types the file as churn_synth_dataset() does. */
	char *dir = churn_test_tmpdir();
	char path[4096];
	snprintf(path, sizeof path, "%s/synth.csv", dir);
	ck_assert_int_eq(churn_synth_write_file(2000, 9, path), CHURN_OK);
	churn_dataset *a = NULL, *b = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &a, NULL), CHURN_OK);
	ck_assert_int_eq(churn_synth_dataset(2000, 9, &b), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_column_count(a), churn_dataset_get_column_count(b));
	for (size_t j = 0; j < churn_dataset_get_column_count(a); j++) {
		ck_assert_str_eq(churn_dataset_get_col_name(a, j), churn_dataset_get_col_name(b, j));
		ck_assert_msg(churn_dataset_get_col_type(a, j) == churn_dataset_get_col_type(b, j), "column %s",
		              churn_dataset_get_col_name(a, j));
		ck_assert_uint_eq(churn_dataset_get_missing_count(a, j), churn_dataset_get_missing_count(b, j));
		for (size_t i = 0; i < 2000; i += 97) {
			char x[64], y[64];
			const char *s = churn_dataset_get_cell_text(a, j, i, x, sizeof x);
			const char *t = churn_dataset_get_cell_text(b, j, i, y, sizeof y);
			ck_assert(s == t || (s && t && !strcmp(s, t)));
		}
	}
	churn_dataset_free(a);
	churn_dataset_free(b);
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *synth_suite(void)
{
	Suite *s = suite_create("synth");
	TCase *tc = tcase_create("write");
	tcase_add_test(tc, test_synth_write_deterministic);
	tcase_add_test(tc, test_synth_write_values_in_telco_domains);
	tcase_add_test(tc, test_synth_write_zero_rows_is_header_only);
	tcase_add_test(tc, test_synth_write_file_matches_stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_synth_write_bad_args_and_sink_failure_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("dataset");
	tcase_add_test(tc, test_synth_dataset_same_values_as_csv_text);
	tcase_add_test(tc, test_synth_csv_read_back_typed_as_dataset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(synth_suite());
}
