/*
 * libFuzzer harness for the CSV reader and writer.
 *
 * The first input byte picks options (small read chunks to exercise record
 * boundaries, a tiny csv.max_categories to force type changes, skipped
 * ragged rows, no NA tokens); the rest is the CSV. Whatever reads must write,
 * read back with the same shape and types, and write again to the same bytes;
 * it must be UTF-8 (checked against a plain reference decoder), and input the
 * reader calls invalid UTF-8 must be invalid for the reference too.
 * Built and run by scripts/fuzz.sh.
 */
#include <churn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../utf8-ref.h" /* the reference decoder: the reader's fast check must agree with it */

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz-csv: check failed: %s: ", #cond);          \
			fprintf(stderr, __VA_ARGS__);                                    \
			fprintf(stderr, "\n");                                           \
			__builtin_trap();                                                \
		}                                                                        \
	} while (0)

/* Is the detail the reader's UTF-8 error, "fuzz.csv:LINE:FIELD: invalid UTF-8 (byte 0x..."? */
static bool utf8_error(const char *e)
{
	if (strncmp(e, "fuzz.csv:", 9) != 0)
		return false;
	e += 9;
	for (int k = 0; k < 2; k++) {
		if (*e < '0' || *e > '9')
			return false;
		while (*e >= '0' && *e <= '9')
			e++;
		if (*e++ != ':')
			return false;
	}
	return strncmp(e, " invalid UTF-8 (byte 0x", 23) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	churn_params *p = NULL;
	if (churn_params_new(&p) != CHURN_OK)
		return 0;
	if (size > 0) {
		uint8_t opt = data[0];
		data++;
		size--;
		char v[16];
		if (opt & 1) {
			snprintf(v, sizeof v, "%d", 1 + (opt >> 4));
			CHECK(churn_params_set_str(p, "csv.chunk_bytes", v) == CHURN_OK, "%s", churn_last_error());
		}
		if (opt & 2)
			CHECK(churn_params_set_int(p, "csv.max_categories", 2) == CHURN_OK, "%s", churn_last_error());
		if (opt & 4)
			CHECK(churn_params_set_bool(p, "csv.skip_ragged", true) == CHURN_OK, "%s", churn_last_error());
		if (opt & 8)
			CHECK(churn_params_set_str(p, "csv.na_tokens", "") == CHURN_OK, "%s", churn_last_error());
	}

	churn_dataset *ds = NULL;
	size_t skipped = 0;
	churn_status st = churn_csv_read_buffer((const char *)data, size, "fuzz.csv", p, &ds, &skipped);
	if (st != CHURN_OK) {
		CHECK(ds == NULL, "dataset set on failure");
		CHECK(churn_last_error()[0] != '\0', "no detail for status %d", st);
		CHECK(!utf8_error(churn_last_error()) || !churn_test_utf8_valid(data, size),
		      "valid input rejected: %s", churn_last_error());
		churn_params_free(p);
		return 0;
	}
	size_t nrows = churn_dataset_get_row_count(ds), ncols = churn_dataset_get_column_count(ds);
	CHECK(nrows > 0 && ncols > 0, "%zu rows, %zu cols", nrows, ncols);

	char *out = NULL;
	size_t n = 0;
	CHECK(churn_csv_write_buffer(ds, &out, &n) == CHURN_OK, "%s", churn_last_error());
	CHECK(strlen(out) == n, "length");
	/* invalid UTF-8 never gets in; whole input valid when no row was skipped */
	CHECK(churn_test_utf8_valid((const unsigned char *)out, n), "invalid UTF-8 accepted\n--- written ---\n%s", out);
	CHECK(skipped || churn_test_utf8_valid(data, size), "invalid UTF-8 input accepted without skipped rows");

	churn_dataset *back = NULL;
	st = churn_csv_read_buffer(out, n, "rewritten.csv", p, &back, NULL);
	CHECK(st == CHURN_OK, "re-read: %s\n--- written ---\n%s", churn_last_error(), out);
	CHECK(churn_dataset_get_row_count(back) == nrows, "rows %zu vs %zu", churn_dataset_get_row_count(back), nrows);
	CHECK(churn_dataset_get_column_count(back) == ncols, "cols %zu vs %zu", churn_dataset_get_column_count(back), ncols);
	for (size_t j = 0; j < ncols; j++) {
		CHECK(churn_dataset_get_col_type(back, j) == churn_dataset_get_col_type(ds, j), "type of column %zu", j);
		CHECK(strcmp(churn_dataset_get_col_name(back, j), churn_dataset_get_col_name(ds, j)) == 0, "name %zu", j);
		CHECK(churn_dataset_get_missing_count(back, j) == churn_dataset_get_missing_count(ds, j), "missing %zu", j);
	}

	char *out2 = NULL;
	size_t n2 = 0;
	CHECK(churn_csv_write_buffer(back, &out2, &n2) == CHURN_OK, "%s", churn_last_error());
	CHECK(n2 == n && memcmp(out, out2, n) == 0, "second write differs\n--- first ---\n%s\n--- second ---\n%s", out,
	      out2);

	churn_free(out);
	churn_free(out2);
	churn_dataset_free(back);
	churn_dataset_free(ds);
	churn_params_free(p);
	return 0;
}
