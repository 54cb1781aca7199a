/* CSV reader and writer: RFC 4180 input, type inference, errors, limits, round trip. */
#include <churn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "utf8-ref.h"

static churn_dataset *read_str(const char *csv, const churn_params *p)
{
	churn_dataset *ds = NULL;
	churn_status st = churn_csv_read_buffer(csv, strlen(csv), "t.csv", p, &ds, NULL);
	ck_assert_msg(st == CHURN_OK, "read failed: %s", churn_last_error());
	return ds;
}

/* Read must fail with st and a detail containing where (e.g. "t.csv:3:2:") and what. */
static void expect_fail(const char *csv, size_t n, const churn_params *p, churn_status st, const char *where,
                        const char *what)
{
	churn_dataset *ds = NULL;
	if (n == SIZE_MAX)
		n = strlen(csv);
	churn_status got = churn_csv_read_buffer(csv, n, "t.csv", p, &ds, NULL);
	ck_assert_msg(got == st, "status %d (%s), expected %d", got, churn_last_error(), st);
	ck_assert_ptr_null(ds);
	const char *e = churn_last_error();
	ck_assert_msg(strstr(e, where) != NULL, "'%s' does not name '%s'", e, where);
	if (what)
		ck_assert_msg(strstr(e, what) != NULL, "'%s' does not say '%s'", e, what);
}

static char *to_csv(const churn_dataset *ds)
{
	char *s = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_csv_write_buffer(ds, &s, &n), CHURN_OK);
	ck_assert_uint_eq(strlen(s), n);
	return s;
}

static size_t col(const churn_dataset *ds, const char *name)
{
	size_t j = 0;
	ck_assert_msg(churn_dataset_find_col(ds, name, &j) == CHURN_OK, "%s", churn_last_error());
	return j;
}

/* ---- io ---- */

START_TEST(test_csv_read_telco_head_infers_types_and_values)
{
	char *path = churn_test_data_path("csv-telco-head.csv");
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &ds, NULL), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 5);
	ck_assert_uint_eq(churn_dataset_get_column_count(ds), 21);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, col(ds, "SeniorCitizen")), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, col(ds, "tenure")), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, col(ds, "Contract")), CHURN_COL_CATEGORICAL);
	const double *mc = churn_dataset_get_numeric(ds, col(ds, "MonthlyCharges"));
	ck_assert_double_eq(mc[0], 29.85);
	ck_assert_double_eq(mc[1], 56.95);
	size_t j = col(ds, "Contract");
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, j), 2);
	ck_assert_str_eq(churn_dataset_get_level(ds, j, 0), "Month-to-month");
	ck_assert_str_eq(churn_dataset_get_level(ds, j, 1), "One year");
	churn_dataset_free(ds);
	free(path);
}
END_TEST

START_TEST(test_csv_read_quoted_fields_after_bom_with_crlf)
{
	char *path = churn_test_data_path("csv-quoted.csv");
	churn_dataset *ds = NULL;
	size_t skipped = 99;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &ds, &skipped), CHURN_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 4);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 0), "id"); /* BOM skipped, trimmed */
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 1), "Monthly Charges ($)");
	size_t m = col(ds, "Monthly Charges ($)");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, m), CHURN_COL_NUMERIC);
	const double *v = churn_dataset_get_numeric(ds, m);
	ck_assert_double_eq(v[0], 29.85);
	ck_assert_double_eq(v[1], 56.95); /* surrounding spaces around a number */
	ck_assert(isnan(v[2]));           /* NA */
	ck_assert(isnan(v[3]));           /* empty */
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, m), 2);
	size_t note = col(ds, "Note");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, note), CHURN_COL_CATEGORICAL);
	const int32_t *codes = churn_dataset_get_codes(ds, note);
	ck_assert_str_eq(churn_dataset_get_level(ds, note, (size_t)codes[0]), "hello, world");
	ck_assert_str_eq(churn_dataset_get_level(ds, note, (size_t)codes[1]), "multi\r\nline \"quoted\"");
	ck_assert_int_eq(codes[3], -1); /* "" is missing */
	size_t flag = col(ds, "Flag");
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, flag), 1);
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, flag), 2);
	churn_dataset_free(ds);
	free(path);
}
END_TEST

START_TEST(test_csv_read_skips_empty_lines_keeps_unterminated_last_line)
{
	churn_dataset *ds = read_str("\n\na,b\n1,x\n\n2,y", NULL);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 2);
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 1, 1, NULL, 0), "y");
	churn_dataset_free(ds);
	ds = read_str("a,b\r\n1,x\r\n2,y\r\n", NULL);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 2);
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 1, 1, NULL, 0), "y");
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_csv_read_quote_inside_unquoted_field_is_literal)
{
	churn_dataset *ds = read_str("name,size\nab\"c,12\"\n", NULL);
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 0, 0, NULL, 0), "ab\"c");
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 1, 0, NULL, 0), "12\"");
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_csv_read_header_names_trimmed_unquoted_blank_ones_numbered)
{
	churn_dataset *ds = read_str("  Total Charges ($) ,,\"a,b\"\n1,2,3\n", NULL);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 0), "Total Charges ($)");
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 1), "column_2");
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 2), "a,b");
	churn_dataset_free(ds);
}
END_TEST

/* ---- types ---- */

START_TEST(test_csv_types_inferred_na_tokens_missing_many_levels_text)
{
	churn_dataset *ds = read_str("id,flag,charge,plan,blank,note\n"
	                             "0001,0,1.5,basic, ,x1\n"
	                             "0002,1,-2e3,pro,,x2\n"
	                             "0003,1,  ,basic,NA,x3\n"
	                             "0004,0,null,n/a,none,x4\n",
	                             NULL);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_NUMERIC); /* numeric ID */
	ck_assert_double_eq(churn_dataset_get_numeric(ds, 0)[3], 4);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 1), CHURN_COL_NUMERIC); /* 0/1 stays numeric */
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 2), CHURN_COL_NUMERIC);
	ck_assert_double_eq(churn_dataset_get_numeric(ds, 2)[1], -2000);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 2), 2); /* blank and null */
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 3), CHURN_COL_CATEGORICAL);
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, 3), 2); /* n/a is missing */
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 3), 1);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 4), CHURN_COL_NUMERIC); /* all missing */
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 4), 4);
	churn_dataset_free(ds);

	churn_params *p = churn_test_params("csv.max_categories", "3", NULL);
	ds = read_str("id,flag,charge,plan,blank,note\n"
	              "0001,0,1.5,basic, ,x1\n"
	              "0002,1,-2e3,pro,,x2\n"
	              "0003,1,  ,basic,NA,x3\n"
	              "0004,0,null,n/a,none,x4\n",
	              p);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 5), CHURN_COL_TEXT); /* 4 distinct > 3 */
	ck_assert_str_eq(churn_dataset_get_text(ds, 5, 3), "x4");
	churn_dataset_free(ds);
	churn_params_free(p);
}
END_TEST

START_TEST(test_csv_types_word_after_numbers_makes_categorical_or_text)
{
	/* Numeric for 200 rows, then a word: categorical (few values) or text (many values). */
	size_t cap = 200 * 32 + 64;
	char *csv = malloc(cap);
	size_t n = (size_t)snprintf(csv, cap, "few,many\n");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(csv + n, cap - n, "%d,%d.5\n", i % 3, i);
	snprintf(csv + n, cap - n, "other,word\n");
	churn_params *p = churn_test_params("csv.chunk_bytes", "100", NULL); /* transitions across many refills */
	churn_dataset *ds = read_str(csv, p);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 201);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_CATEGORICAL);
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, 0), 4);
	ck_assert_str_eq(churn_dataset_get_level(ds, 0, 3), "other");
	ck_assert_str_eq(churn_dataset_get_cell_text(ds, 0, 5, NULL, 0), "2");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 1), CHURN_COL_TEXT);
	ck_assert_str_eq(churn_dataset_get_text(ds, 1, 7), "7.5");
	ck_assert_str_eq(churn_dataset_get_text(ds, 1, 200), "word");
	churn_dataset_free(ds);
	churn_params_free(p);
	free(csv);
}
END_TEST

/* A column that turns out not numeric keeps each value's exact text. */
START_TEST(test_csv_types_late_change_keeps_numbers_original_text)
{
	static const char *vals[] = {"29.85", "0.0001", "-0", "100", "123456789012345", "1.50", "05", "0.00001",
	                             "5.", ".5", "+3", "1e5", "-12.25", "0", "1234567890123456789", " 7 "};
	const size_t nv = sizeof vals / sizeof vals[0];
	char csv[1024];
	size_t n = (size_t)snprintf(csv, sizeof csv, "v\n");
	for (size_t i = 0; i < nv; i++)
		n += (size_t)snprintf(csv + n, sizeof csv - n, "%s\n", vals[i]);
	snprintf(csv + n, sizeof csv - n, "x\n");
	for (int cats = 0; cats < 2; cats++) {
		/* categorical, then text */
		churn_params *p = churn_test_params("csv.max_categories", cats ? "64" : "4", NULL);
		churn_dataset *ds = read_str(csv, p);
		ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), cats ? CHURN_COL_CATEGORICAL : CHURN_COL_TEXT);
		for (size_t i = 0; i < nv; i++)
			ck_assert_str_eq(churn_dataset_get_cell_text(ds, 0, i, NULL, 0), vals[i]);
		churn_dataset_free(ds);
		churn_params_free(p);
	}
}
END_TEST

START_TEST(test_csv_types_nonfinite_number_is_parse_error)
{
	expect_fail("a,b\n1,x\n2,y\n-Infinity,z\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:4:1:", "non-finite number");
	/* out of the range of a double */
	expect_fail("a\n1\n1e400\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:3:1:", "non-finite number '1e400'");
	/* in a column that is not numeric anyway, inf is just a word */
	churn_dataset *ds = read_str("a\ninf\nhello\n", NULL);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_CATEGORICAL);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_csv_types_custom_na_tokens_replace_defaults)
{
	churn_params *p = churn_test_params("csv.na_tokens", "?, -", NULL);
	churn_dataset *ds = read_str("a,b\n1,NA\n?,x\n-,y\n", p);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, 0), CHURN_COL_NUMERIC);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 0), 2);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, 1), 0); /* NA is a value now */
	churn_dataset_free(ds);
	churn_params_free(p);
}
END_TEST

/* Parsing in pieces of any size gives the same dataset. */
START_TEST(test_csv_read_any_chunk_size_gives_same_dataset)
{
	char *path = churn_test_data_path("csv-quoted.csv");
	size_t n = 0;
	char *data = churn_test_read_file(path, &n);
	ck_assert_ptr_nonnull(data);
	churn_dataset *ref = NULL;
	ck_assert_int_eq(churn_csv_read_buffer(data, n, "q.csv", NULL, &ref, NULL), CHURN_OK);
	char *want = to_csv(ref);
	for (int chunk = 1; chunk <= 40; chunk++) {
		char v[16];
		snprintf(v, sizeof v, "%d", chunk);
		churn_params *p = churn_test_params("csv.chunk_bytes", v, NULL);
		churn_dataset *ds = NULL;
		ck_assert_msg(churn_csv_read_buffer(data, n, "q.csv", p, &ds, NULL) == CHURN_OK, "chunk %d: %s", chunk,
		              churn_last_error());
		char *got = to_csv(ds);
		ck_assert_str_eq(got, want);
		churn_free(got);
		churn_dataset_free(ds);
		churn_params_free(p);
	}
	churn_free(want);
	churn_dataset_free(ref);
	free(data);
	free(path);
}
END_TEST

/* ---- writer ---- */

START_TEST(test_csv_write_quotes_as_needed_and_reads_back_same_bits)
{
	churn_dataset *ds = read_str("name,x,note\n"
	                             " lead,0.1,\"a,b\"\n"
	                             "q\"uote,1e300,\"line\nbreak\"\n"
	                             "plain,-0,\n"
	                             "z,123456789012345678,x\n",
	                             NULL);
	char *s = to_csv(ds);
	ck_assert_str_eq(s, "name,x,note\n"
	                    "\" lead\",0.1,\"a,b\"\n"
	                    "\"q\"\"uote\",1e+300,\"line\nbreak\"\n"
	                    "plain,-0,\n"
	                    "z,1.2345678901234568e+17,x\n");
	churn_dataset *back = read_str(s, NULL);
	char *s2 = to_csv(back);
	ck_assert_str_eq(s, s2);
	const double *a = churn_dataset_get_numeric(ds, 1), *b = churn_dataset_get_numeric(back, 1);
	for (size_t i = 0; i < 4; i++)
		ck_assert(memcmp(&a[i], &b[i], sizeof(double)) == 0);
	churn_free(s);
	churn_free(s2);
	churn_dataset_free(ds);
	churn_dataset_free(back);
}
END_TEST

START_TEST(test_csv_write_missing_in_single_column_as_quoted_empty)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double v[] = {1.5, NAN, 3};
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "v", v, 3), CHURN_OK);
	char *s = to_csv(ds);
	ck_assert_str_eq(s, "v\n1.5\n\"\"\n3\n");
	churn_dataset *back = read_str(s, NULL);
	ck_assert_uint_eq(churn_dataset_get_row_count(back), 3);
	ck_assert(isnan(churn_dataset_get_numeric(back, 0)[1]));
	churn_free(s);
	churn_dataset_free(ds);
	churn_dataset_free(back);
}
END_TEST

START_TEST(test_csv_write_file_reads_back_missing_dir_is_create_error)
{
	char *dir = churn_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/out.csv", dir);
	churn_dataset *ds = read_str("a,b\n1,x\n2,y\n", NULL);
	ck_assert_int_eq(churn_csv_write_file(ds, path), CHURN_OK);
	churn_dataset *back = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &back, NULL), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_row_count(back), 2);
	churn_dataset_free(back);
	snprintf(path, sizeof path, "%s/no/such/dir/out.csv", dir);
	ck_assert_int_eq(churn_csv_write_file(ds, path), CHURN_E_CREATE);
	ck_assert_str_ne(churn_last_error(), "");
	churn_dataset_free(ds);
	churn_test_rmdir(dir);
	free(dir);
}
END_TEST

static size_t failing_sink(void *ud, const void *buf, size_t n)
{
	(void)ud;
	(void)buf;
	return n / 2;
}

START_TEST(test_csv_write_sink_failure_is_io_error)
{
	churn_dataset *ds = read_str("a,b\n1,x\n", NULL);
	ck_assert_int_eq(churn_csv_write(ds, failing_sink, NULL), CHURN_E_IO);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_csv_write(NULL, failing_sink, NULL), CHURN_E_INVALID_ARG);
	churn_dataset_free(ds);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_csv_error_ragged_names_line_and_column)
{
	char *path = churn_test_data_path("csv-ragged.csv");
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &ds, NULL), CHURN_E_PARSE);
	ck_assert_ptr_null(ds);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "csv-ragged.csv:3:3:"));
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "expected 3 fields, found 2"));
	churn_params *p = churn_test_params("csv.skip_ragged", "true", NULL);
	size_t skipped = 0;
	ck_assert_int_eq(churn_csv_read_file(path, p, &ds, &skipped), CHURN_OK);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 2);
	churn_dataset_free(ds);
	churn_params_free(p);
	free(path);
	/* too many fields; the line counts the newline inside the quoted field */
	expect_fail("a,b\n\"x\ny\",1\n2,3,4\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:4:3:", "expected 2 fields, found 3");
}
END_TEST

START_TEST(test_csv_error_bad_quotes_located)
{
	expect_fail("a,b\n1,2\n3,\"abc\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:3:2:", "unterminated quoted field");
	expect_fail("a,b\n1,\"ab\"c\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:2:2:", "after a closing quote");
}
END_TEST

START_TEST(test_csv_error_nul_byte_located)
{
	expect_fail("a,b\n1,x\0y\n", 10, NULL, CHURN_E_PARSE, "t.csv:2:2:", "NUL byte");
	expect_fail("a,b\n1,\"x\0y\"\n", 12, NULL, CHURN_E_PARSE, "t.csv:2:2:", "NUL byte");
}
END_TEST

START_TEST(test_csv_error_bad_header_or_no_rows_refused)
{
	expect_fail("a,b\xff\xfe,c\n1,2,3\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:2:", "invalid UTF-8");
	expect_fail("a,\xc0\xaf\n1,2\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:2:", "invalid UTF-8"); /* overlong */
	expect_fail("a,b, a\n1,2,3\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:3:", "duplicate column name 'a'");
	expect_fail("", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:1:", "empty file");
	expect_fail("\xef\xbb\xbf\n\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:1:", "empty file");
	expect_fail("a,b\n", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:2:1:", "no data rows");
	expect_fail("a,b", SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:", "no data rows");
	churn_dataset *ds = read_str("caf\xc3\xa9,\xe2\x82\xac\n1,2\n", NULL);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 0), "caf\xc3\xa9");
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_csv_error_over_limit_is_limit_error_naming_option)
{
	churn_params *p = churn_test_params("csv.max_field_bytes", "5", NULL);
	expect_fail("a,b\n1,123456\n", SIZE_MAX, p, CHURN_E_LIMIT, "t.csv:2:2:", "csv.max_field_bytes");
	expect_fail("a,b\n1,\"12\"\"3456\"\n", SIZE_MAX, p, CHURN_E_LIMIT, "t.csv:2:2:", "csv.max_field_bytes");
	churn_params_free(p);
	p = churn_test_params("csv.max_line_bytes", "10", NULL);
	expect_fail("a,b\n1,2\n3,1234567890123\n", SIZE_MAX, p, CHURN_E_LIMIT, "t.csv:3:", "csv.max_line_bytes");
	churn_params_free(p);
	p = churn_test_params("csv.max_rows", "2", NULL);
	expect_fail("a\n1\n2\n3\n", SIZE_MAX, p, CHURN_E_LIMIT, "t.csv:4:1:", "csv.max_rows");
	churn_params_free(p);
	p = churn_test_params("csv.max_cols", "2", NULL);
	expect_fail("a,b,c\n1,2,3\n", SIZE_MAX, p, CHURN_E_LIMIT, "t.csv:1:3:", "csv.max_cols");
	churn_params_free(p);
	/* a long record across small reads still hits the line limit */
	p = churn_test_params("csv.max_line_bytes", "100", NULL);
	ck_assert_int_eq(churn_params_set_str(p, "csv.chunk_bytes", "7"), CHURN_OK);
	char big[400];
	memset(big, 'x', sizeof big);
	memcpy(big, "a\n\"", 3);
	expect_fail(big, sizeof big, p, CHURN_E_LIMIT, "t.csv:2:1:", "unterminated quote?");
	churn_params_free(p);
}
END_TEST

START_TEST(test_csv_error_missing_file_is_notfound)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file("/nonexistent/x.csv", NULL, &ds, NULL), CHURN_E_NOTFOUND);
	ck_assert_ptr_null(ds);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "/nonexistent/x.csv"));
	ck_assert_int_eq(churn_csv_read_file("/", NULL, &ds, NULL), CHURN_E_IO);
	ck_assert_int_eq(churn_csv_read_file(NULL, NULL, &ds, NULL), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_csv_read_buffer("a\n1\n", 4, NULL, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
}
END_TEST

static bool count_progress(void *ud, const char *what, uint64_t done, uint64_t total)
{
	ck_assert_str_eq(what, "parse");
	ck_assert_uint_le(done, total);
	(*(int *)ud)++;
	return *(int *)ud < 2;
}

START_TEST(test_csv_progress_reported_and_cancel_stops_read)
{
	char *csv = malloc(40u << 20);
	size_t n = (size_t)sprintf(csv, "a,b\n");
	while (n < (40u << 20) - 32)
		n += (size_t)sprintf(csv + n, "%zu,abc\n", n);
	churn_params *p = churn_test_params(NULL);
	int calls = 0;
	churn_params_set_progress(p, count_progress, &calls);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_buffer(csv, n, "big.csv", p, &ds, NULL), CHURN_E_STATE);
	ck_assert_int_eq(calls, 2);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "cancelled"));
	churn_params_free(p);
	free(csv);
}
END_TEST

/* ---- real data ---- */

START_TEST(test_csv_read_telco_types_and_missing_counts)
{
	const char *path = churn_test_telco_csv();
	if (!path)
		return;
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_csv_read_file(path, NULL, &ds, NULL), CHURN_OK);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 7043);
	ck_assert_uint_eq(churn_dataset_get_column_count(ds), 21);
	size_t tc = col(ds, "TotalCharges");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, tc), CHURN_COL_NUMERIC);
	ck_assert_uint_eq(churn_dataset_get_missing_count(ds, tc), 11);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, col(ds, "SeniorCitizen")), CHURN_COL_NUMERIC);
	ck_assert_int_eq(churn_dataset_get_col_type(ds, col(ds, "customerID")), CHURN_COL_TEXT);
	size_t ch = col(ds, "Churn");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, ch), CHURN_COL_CATEGORICAL);
	ck_assert_str_eq(churn_dataset_get_level(ds, ch, 1), "Yes");
	const int32_t *codes = churn_dataset_get_codes(ds, ch);
	size_t yes = 0;
	for (size_t i = 0; i < 7043; i++)
		yes += codes[i] == 1;
	ck_assert_uint_eq(yes, 1869);
	/* round trip: write, read back, write again: identical text */
	char *s1 = to_csv(ds);
	churn_dataset *back = read_str(s1, NULL);
	char *s2 = to_csv(back);
	ck_assert_str_eq(s1, s2);
	for (size_t j = 0; j < 21; j++)
		ck_assert_int_eq(churn_dataset_get_col_type(ds, j), churn_dataset_get_col_type(back, j));
	churn_free(s1);
	churn_free(s2);
	churn_dataset_free(back);
	churn_dataset_free(ds);
}
END_TEST

/* ---- UTF-8 (rejected at read time: nothing downstream sees invalid text) ---- */

/* Reading tests/data/NAME fails with CHURN_E_PARSE at "NAME:where" saying what, whatever the read size. */
static void expect_file_fail(const char *name, const char *where, const char *what)
{
	char *path = churn_test_data_path(name);
	char *want = NULL;
	ck_assert_int_gt(asprintf(&want, "%s:%s", path, where), 0);
	for (int chunk = 0; chunk <= 24; chunk++) {
		churn_params *p = NULL;
		if (chunk) {
			char v[16];
			snprintf(v, sizeof v, "%d", chunk);
			p = churn_test_params("csv.chunk_bytes", v, NULL);
		}
		churn_dataset *ds = NULL;
		churn_status st = churn_csv_read_file(path, p, &ds, NULL);
		ck_assert_msg(st == CHURN_E_PARSE, "%s (chunk %d): status %d: %s", name, chunk, st, churn_last_error());
		ck_assert_ptr_null(ds);
		const char *e = churn_last_error();
		ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "'%s' does not start with '%s'", e, want);
		ck_assert_msg(strstr(e, what) != NULL, "'%s' does not say '%s'", e, what);
		ck_assert_msg(strstr(e, "iconv") != NULL, "'%s' does not say what to do", e);
		ck_assert_msg(!strchr(e, '\n'), "'%s' is not one line", e);
		for (const char *c = e; *c; c++) /* the message itself is ASCII: it goes into JSON run records */
			ck_assert_msg((unsigned char)*c < 0x80, "'%s' carries a non-ASCII byte", e);
		churn_params_free(p);
	}
	free(want);
	free(path);
}

START_TEST(test_csv_utf8_invalid_files_refused_with_position)
{
	expect_file_fail("csv-utf8-value.csv", "4:18: ",
	                 "invalid UTF-8 (byte 0xe8: incomplete sequence) in column \"PaymentMethod\"");
	expect_file_fail("csv-utf8-header.csv", "1:3: ", "invalid UTF-8 (byte 0xe9: incomplete sequence) in the header");
	expect_file_fail("csv-utf8-truncated.csv", "3:3: ",
	                 "invalid UTF-8 (byte 0xe2: incomplete sequence) in column \"plan\"");
	expect_file_fail("csv-utf8-overlong.csv", "3:2: ", "invalid UTF-8 (byte 0xc0: overlong encoding) in column \"path\"");
	expect_file_fail("csv-utf8-surrogate.csv", "3:2: ",
	                 "invalid UTF-8 (byte 0xed: encoded UTF-16 surrogate) in column \"score\"");
}
END_TEST

START_TEST(test_csv_utf8_valid_file_read_intact)
{
	char *path = churn_test_data_path("csv-utf8-valid.csv");
	churn_dataset *ds = NULL;
	ck_assert_msg(churn_csv_read_file(path, NULL, &ds, NULL) == CHURN_OK, "%s", churn_last_error());
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 0), "customerID"); /* BOM skipped */
	ck_assert_str_eq(churn_dataset_get_col_name(ds, 1), "r\xc3\xa9gion");
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 3);
	size_t r = col(ds, "r\xc3\xa9gion");
	ck_assert_int_eq(churn_dataset_get_col_type(ds, r), CHURN_COL_CATEGORICAL);
	ck_assert_uint_eq(churn_dataset_get_level_count(ds, r), 2);
	ck_assert_str_eq(churn_dataset_get_level(ds, r, 0), "Z\xc3\xbcrich");
	ck_assert_str_eq(churn_dataset_get_level(ds, r, 1), "\xc3\x8ele-de-France");
	size_t n = col(ds, "note");
	const int32_t *codes = churn_dataset_get_codes(ds, n);
	ck_assert_str_eq(churn_dataset_get_level(ds, n, (size_t)codes[0]),
	                 "prix en \xe2\x82\xac pour \xf0\x9f\x98\x80 et \xf4\x8f\xbf\xbf");
	ck_assert_str_eq(churn_dataset_get_level(ds, n, (size_t)codes[1]), "multi\nligne \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	churn_dataset_free(ds);
	free(path);
}
END_TEST

/* Every class of invalid sequence, where it is found, and the edges that are valid. */
START_TEST(test_csv_utf8_bad_sequences_refused_edges_accepted)
{
	static const struct {
		const char *bytes, *why;
	} bad[] = {
		{"\x80", "0x80: continuation byte without a lead byte"},
		{"a\xbf", "0xbf: continuation byte without a lead byte"},
		{"\xc0\x80", "0xc0: overlong encoding"},
		{"\xc1\xbf", "0xc1: overlong encoding"},
		{"\xe0\x80\xaf", "0xe0: overlong encoding"},
		{"\xe0\x9f\xbf", "0xe0: overlong encoding"},
		{"\xf0\x80\x80\xaf", "0xf0: overlong encoding"},
		{"\xf0\x8f\xbf\xbf", "0xf0: overlong encoding"},
		{"\xed\xa0\x80", "0xed: encoded UTF-16 surrogate"},
		{"\xed\xbf\xbf", "0xed: encoded UTF-16 surrogate"},
		{"\xf4\x90\x80\x80", "0xf4: code point above U+10FFFF"},
		{"\xf5\x80\x80\x80", "0xf5: never valid in UTF-8"},
		{"\xf8\x88\x80\x80\x80", "0xf8: never valid in UTF-8"},
		{"\xff", "0xff: never valid in UTF-8"},
		{"\xfe", "0xfe: never valid in UTF-8"},
		{"\xc3", "0xc3: incomplete sequence"},
		{"\xc3x", "0xc3: incomplete sequence"},
		{"\xe2\x82", "0xe2: incomplete sequence"},
		{"\xe2\x82x", "0xe2: incomplete sequence"},
		{"\xf0\x9f\x98", "0xf0: incomplete sequence"},
		{"\xf0\x9f\x98\xc3\xa9", "0xf0: incomplete sequence"},
		{"caf\xe9", "0xe9: incomplete sequence"},
		{"0123456789abcdefghijklmnopqrstu\xe9v", "0xe9: incomplete sequence"}, /* past the 16-byte fast path */
		{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe9", "0xe9: incomplete sequence"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		char csv[256], what[128];
		/* unquoted, last field, end of input without a newline */
		snprintf(csv, sizeof csv, "id,v\n1,ok\n2,%s", bad[k].bytes);
		snprintf(what, sizeof what, "invalid UTF-8 (byte %s) in column \"v\"", bad[k].why);
		expect_fail(csv, SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:3:2: ", what);
		/* quoted with an escaped quote and a newline before it, first field, CRLF */
		snprintf(csv, sizeof csv, "v,id\r\n\"a\"\"\nb%s\",2\r\n", bad[k].bytes);
		snprintf(what, sizeof what, "invalid UTF-8 (byte %s) in column \"v\"", bad[k].why);
		expect_fail(csv, SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:2:1: ", what);
		/* in the header */
		snprintf(csv, sizeof csv, "id,x%s\n1,2\n", bad[k].bytes);
		snprintf(what, sizeof what, "invalid UTF-8 (byte %s) in the header", bad[k].why);
		expect_fail(csv, SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:1:2: ", what);
	}
	/* the edges of the valid ranges */
	static const char *const good[] = {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
	                                   "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xef\xbb\xbf"};
	for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
		char csv[64];
		snprintf(csv, sizeof csv, "id,v%s\n1,%s\n2,\"%s,\"\n", good[k], good[k], good[k]);
		churn_dataset *ds = read_str(csv, NULL);
		ck_assert_uint_eq(churn_dataset_get_row_count(ds), 2);
		ck_assert_str_eq(churn_dataset_get_level(ds, 1, (size_t)churn_dataset_get_codes(ds, 1)[0]), good[k]);
		churn_dataset_free(ds);
	}
	/* a skipped ragged row never reaches the dataset, so it is not checked */
	churn_params *p = churn_test_params("csv.skip_ragged", "true", NULL);
	size_t skipped = 0;
	churn_dataset *ds = NULL;
	const char *csv = "id,v\n1,a\n2,\xe9,extra\n3,b\n";
	ck_assert_int_eq(churn_csv_read_buffer(csv, strlen(csv), "t.csv", p, &ds, &skipped), CHURN_OK);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(churn_dataset_get_row_count(ds), 2);
	churn_dataset_free(ds);
	churn_params_free(p);
	/* without csv.skip_ragged the row is reported as ragged, as before */
	expect_fail(csv, SIZE_MAX, NULL, CHURN_E_PARSE, "t.csv:3:3: ", "expected 2 fields, found 3");
}
END_TEST

/* Random values made of pieces near the edges: the reader accepts exactly what the reference decoder does. */
START_TEST(test_csv_utf8_random_values_agree_with_reference)
{
	static const char *const pieces[] = {"a", "0123456789abcdef", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	                                     "b", "0123456789abcdefghij", "\xc2\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
	                                     "c", "\xef\xbb\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80", "\xdf\xbf",
	                                     "\x80", "\xbf", "\xc0", "\xc1", "\xc2", "\xdf", "\xe0", "\xe0\xa0", "\xed",
	                                     "\xed\x9f", "\xed\xa0", "\xef", "\xf0", "\xf0\x90", "\xf4", "\xf4\x8f",
	                                     "\xf4\x90", "\xf5", "\xff", "\x8f\xbf"};
	const size_t np = sizeof pieces / sizeof *pieces;
	uint64_t x = 88172645463325252ull;
	size_t accepted = 0, rejected = 0;
	for (int it = 0; it < 3000; it++) {
		char val[128] = "";
		size_t vn = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int npieces = 1 + (int)(x % 4);
		for (int k = 0; k < npieces; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			const char *pc = pieces[x % np];
			memcpy(val + vn, pc, strlen(pc));
			vn += strlen(pc);
		}
		val[vn] = '\0';
		char csv[256];
		int n = snprintf(csv, sizeof csv, "id,v\n1,%s\n", val);
		bool want = churn_test_utf8_valid((const unsigned char *)val, vn);
		churn_dataset *ds = NULL;
		churn_status st = churn_csv_read_buffer(csv, (size_t)n, "t.csv", NULL, &ds, NULL);
		if (want) {
			ck_assert_msg(st == CHURN_OK, "valid value rejected: %s", churn_last_error());
			accepted++;
		} else {
			ck_assert_msg(st == CHURN_E_PARSE && strstr(churn_last_error(), "t.csv:2:2: invalid UTF-8"),
			              "invalid value (iteration %d) gave %d: %s", it, st, churn_last_error());
			rejected++;
		}
		churn_dataset_free(ds);
	}
	ck_assert_uint_gt(accepted, 300);
	ck_assert_uint_gt(rejected, 300);
}
END_TEST

static Suite *csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("io");
	tcase_add_test(tc, test_csv_read_telco_head_infers_types_and_values);
	tcase_add_test(tc, test_csv_read_quoted_fields_after_bom_with_crlf);
	tcase_add_test(tc, test_csv_read_skips_empty_lines_keeps_unterminated_last_line);
	tcase_add_test(tc, test_csv_read_quote_inside_unquoted_field_is_literal);
	tcase_add_test(tc, test_csv_read_header_names_trimmed_unquoted_blank_ones_numbered);
	tcase_add_test(tc, test_csv_read_any_chunk_size_gives_same_dataset);
	tcase_add_test(tc, test_csv_progress_reported_and_cancel_stops_read);
	tcase_add_test(tc, test_csv_read_telco_types_and_missing_counts);
	suite_add_tcase(s, tc);
	tc = tcase_create("types");
	tcase_add_test(tc, test_csv_types_inferred_na_tokens_missing_many_levels_text);
	tcase_add_test(tc, test_csv_types_word_after_numbers_makes_categorical_or_text);
	tcase_add_test(tc, test_csv_types_late_change_keeps_numbers_original_text);
	tcase_add_test(tc, test_csv_types_nonfinite_number_is_parse_error);
	tcase_add_test(tc, test_csv_types_custom_na_tokens_replace_defaults);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_test(tc, test_csv_write_quotes_as_needed_and_reads_back_same_bits);
	tcase_add_test(tc, test_csv_write_missing_in_single_column_as_quoted_empty);
	tcase_add_test(tc, test_csv_write_file_reads_back_missing_dir_is_create_error);
	tcase_add_test(tc, test_csv_write_sink_failure_is_io_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_csv_error_ragged_names_line_and_column);
	tcase_add_test(tc, test_csv_error_bad_quotes_located);
	tcase_add_test(tc, test_csv_error_nul_byte_located);
	tcase_add_test(tc, test_csv_error_bad_header_or_no_rows_refused);
	tcase_add_test(tc, test_csv_error_over_limit_is_limit_error_naming_option);
	tcase_add_test(tc, test_csv_error_missing_file_is_notfound);
	suite_add_tcase(s, tc);
	tc = tcase_create("utf8");
	tcase_add_test(tc, test_csv_utf8_invalid_files_refused_with_position);
	tcase_add_test(tc, test_csv_utf8_valid_file_read_intact);
	tcase_add_test(tc, test_csv_utf8_bad_sequences_refused_edges_accepted);
	tcase_add_test(tc, test_csv_utf8_random_values_agree_with_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(csv_suite());
}
