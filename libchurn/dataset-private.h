/*
 * The dataset's internal layout, shared with the CSV reader and other
 * modules that build columns directly (ch_ prefix, never exported).
 */
#ifndef CH_DATASET_PRIVATE_H
#define CH_DATASET_PRIVATE_H

#include "churn/dataset.h"

#define CH_TEXT_MISSING UINT64_MAX

typedef struct ch_column {
	char *name;
	churn_col_type type;
	size_t n_missing;
	/* NUMERIC: nrows values, NaN = missing */
	double *num;
	/* CATEGORICAL: nrows codes (-1 = missing) into levels[0..nlevels), sorted by strcmp */
	int32_t *codes;
	char **levels;
	size_t nlevels;
	/* TEXT: cell i is arena + off[i] (NUL-terminated), or missing when off[i] == CH_TEXT_MISSING */
	char *arena;
	size_t arena_len;
	uint64_t *off;
} ch_column;

/* Where rows start in their source file: from row `row` on, row r is on line `line + (r - row)`. */
typedef struct ch_line_break {
	size_t row, line;
} ch_line_break;

struct churn_dataset {
	size_t nrows;
	size_t ncols;
	size_t cap;
	ch_column *cols;
	/* the CSV it was read from (NULL: built otherwise); row 0 on line 2 unless lines[] says otherwise */
	char *source;
	ch_line_break *lines; /* in row order; only where a record spans lines or a row was skipped */
	size_t nlines;
	size_t rows_read;     /* a sample (churn_csv_read_file_sampled): the data rows of the file; else 0 */
};

/*
 * Where row @p row of @p ds is, for messages: "FILE:LINE" when the dataset was read from a CSV, else
 * "row N" (1-based). Written into buf (cap bytes); returns buf.
 */
const char *ch_dataset_where(const churn_dataset *ds, size_t row, char *buf, size_t cap);

/*
 * The name of the column called @p name: itself when a column has that exact name or none is equal ignoring
 * ASCII case, else the one column name equal to it ignoring case ("Tenure" for "tenure"; several such: name).
 */
const char *ch_dataset_resolve_name(const churn_dataset *ds, const char *name);

/* Free the buffers of one column (not the struct itself). */
void ch_column_clear(ch_column *c);

/*
 * Append a column, taking ownership of its buffers on success (on failure the
 * caller still owns them). Checks the name is unique and non-empty; the first
 * column sets nrows (pass the row count), later ones must match.
 */
churn_status ch_dataset_take_column(churn_dataset *ds, ch_column *c, size_t nrows);

/*
 * Sort a categorical column's levels by strcmp and remap its codes. levels
 * are owned strings; codes refer to the unsorted order on entry.
 */
churn_status ch_column_sort_levels(ch_column *c, size_t nrows);

/* Find a level by exact text; -1 when absent (levels are sorted: bsearch). */
int32_t ch_column_find_level(const ch_column *c, const char *s);

#endif
