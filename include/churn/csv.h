/*
 * churn/csv.h: reading a CSV file into a churn_dataset and writing one back.
 *
 * Reader
 * ------
 * - RFC 4180: fields separated by ',', records by LF or CRLF (a last record
 *   without a newline is fine); fields may be quoted with '"', a quote inside
 *   a quoted field is doubled (""), quoted fields may hold commas, CR and LF.
 *   A UTF-8 byte order mark at the start is skipped.
 * - A quote in the middle of an unquoted field (ab"c) is taken literally. A
 *   character other than ',' or the end of the record right after a closing
 *   quote ("ab"c) is an error. A lone CR inside an unquoted field is literal.
 * - Completely empty lines (no bytes at all) are skipped, anywhere.
 * - The first record is the header and is required. Names are trimmed of
 *   surrounding spaces and tabs; spaces and punctuation inside are kept. An
 *   empty name becomes "column_N" (N = 1-based position). Names must be
 *   unique and valid UTF-8.
 * - Missing values: an empty field, a field of only whitespace, and the
 *   tokens of csv.na_tokens (default "NA,N/A,NaN,null,None", compared
 *   case-insensitively after trimming whitespace), quoted or not.
 * - Type inference, per column, over every row:
 *   numeric      when every non-missing value is a number: optional sign,
 *                digits, optional '.', optional exponent, surrounding
 *                whitespace allowed; parsed locale-independently and
 *                correctly rounded. A numeric-looking column with few
 *                distinct values (0/1 flags such as SeniorCitizen) stays
 *                numeric. A column with no non-missing value is numeric.
 *                "inf", "infinity" or "nan" (any case, signed) in a column
 *                that is otherwise numeric is a CHURN_E_PARSE error
 *                ("non-finite number") naming file:line:column.
 *   categorical  otherwise, when it has at most csv.max_categories distinct
 *                non-missing values (compared byte for byte, not trimmed);
 *                levels are sorted by strcmp.
 *   text         otherwise (free text, identifiers such as customerID).
 * - The input must be UTF-8, header and cells alike: strict (no overlong
 *   forms, no UTF-16 surrogates, nothing above U+10FFFF). The first invalid
 *   sequence is a CHURN_E_PARSE error, "FILE:LINE:COL: invalid UTF-8 (byte
 *   0xNN: why) in column "NAME"; ..." (in the header: "in the header"), so
 *   that nothing downstream (Parquet, JSON, the server) sees invalid text.
 *   A row skipped as ragged is not checked. Convert Latin-1 or Windows-1252
 *   files first (iconv -f latin1 -t utf-8).
 * - Errors name the place as "FILE:LINE:COL: what", where LINE is the
 *   1-based line on which the record starts (lines inside quoted fields
 *   count) and COL the 1-based field number in that record:
 *   CHURN_E_PARSE    ragged row (unless csv.skip_ragged), unterminated
 *                    quote, junk after a closing quote, NUL byte, invalid
 *                    UTF-8, a duplicate name in the header, empty file,
 *                    header without data rows, non-finite number;
 *   CHURN_E_LIMIT    a field over csv.max_field_bytes, a record over
 *                    csv.max_line_bytes, more than csv.max_rows data rows or
 *                    csv.max_cols columns;
 *   CHURN_E_NOTFOUND the file does not exist; CHURN_E_IO it cannot be read;
 *   CHURN_E_STATE    the progress callback asked to cancel;
 *   CHURN_E_NOMEM, CHURN_E_INVALID_ARG (NULL arguments).
 * - The file is streamed in chunks of csv.chunk_bytes in one pass; memory is
 *   about the size of the resulting dataset. Progress is reported through
 *   the params' progress callback as ("parse", bytes done, bytes total; total
 *   is 0 when unknown, e.g. a pipe) every 16 MiB and at the end.
 *
 * Writer
 * ------
 * Header then one record per row, LF line ends. Numbers are written with the
 * shortest text that reads back to the same double, categorical levels and
 * text verbatim, missing cells as empty fields (as "" when the dataset has a
 * single column, so that the line is not empty). A field is quoted when it
 * holds ',', '"', CR or LF or starts or ends with a space or tab.
 * Reading what was written gives the same dataset when that dataset came
 * from the reader. Datasets built in memory round-trip except where the
 * reader's rules decide otherwise: a categorical or text column whose values
 * are all numbers reads back numeric, a text column with few distinct values
 * reads back categorical, and values equal to an NA token or made only of
 * whitespace read back missing.
 *
 * Thread safety: the calls only read their arguments; distinct calls may run
 * concurrently, and one const dataset may be written from several threads.
 */
#ifndef CHURN_CSV_H
#define CHURN_CSV_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read the CSV file at @p path. @p p may be NULL (defaults; keys csv.*).
 * On success *out is a new dataset (free with churn_dataset_free()) and
 * *out_skipped_rows (when non-NULL) the number of ragged rows skipped with
 * csv.skip_ragged. *out is written only on success.
 * Status: see the file comment. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_read_file(const char *path, const churn_params *p,
                                                           churn_dataset **out, size_t *out_skipped_rows);

/**
 * Read CSV text from memory (@p n bytes, not necessarily NUL-terminated).
 * @p name is used as the FILE in error messages (NULL: "<buffer>"). The data
 * is copied as it is parsed; nothing is kept. Otherwise as
 * churn_csv_read_file(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_read_buffer(const char *data, size_t n, const char *name,
                                                             const churn_params *p, churn_dataset **out,
                                                             size_t *out_skipped_rows);


/**
 * churn_csv_read_file() keeping only a stratified sample of @p p's
 * train.max_rows rows (0: every row, then exactly churn_csv_read_file()),
 * drawn while reading, so that memory follows the sample, not the file.
 * The strata are the values of the target column (data.target: its exact
 * name, else the one name equal ignoring case; the text of the cell, missing
 * cells as one class of their own); each class keeps round(train.max_rows x
 * its share of the rows) rows (largest remainders: the quotas add up to
 * train.max_rows), a uniform draw of the class (one reservoir per class
 * while reading, seeded with split.seed: a file and a seed give one
 * sample). A file of at most train.max_rows rows is read whole, the same
 * dataset as churn_csv_read_file(). The sample keeps the file's row order.
 * Types are inferred from every row read (a row left out still goes
 * through the type inference), so they are the whole file's; a categorical
 * column's levels are those of every row read, also of rows not in the
 * sample (a level may then have no row), except that a column which turns
 * from numeric to categorical partway counts only the values of the rows
 * held at that moment. Errors name lines of the file as
 * churn_csv_read_file()'s, for rows left out too; csv.max_rows bounds the
 * rows read. *out_rows_read (when non-NULL) receives the data rows read
 * (also churn_dataset_get_rows_read()).
 * Status: as churn_csv_read_file(), plus CHURN_E_NOTFOUND (no target
 * column) and CHURN_E_PARSE (a target of more than 16 distinct values).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_read_file_sampled(const char *path, const churn_params *p,
                                                                   churn_dataset **out, size_t *out_skipped_rows,
                                                                   size_t *out_rows_read);

/**
 * Output sink for churn_csv_write(): consume @p n bytes of @p buf and return
 * @p n; any other value is a failure (the write stops with CHURN_E_IO).
 * @since 0.1
 */
typedef size_t (*churn_write_fn)(void *userdata, const void *buf, size_t n);

/**
 * Write @p ds as CSV through @p fn (in pieces of up to 64 KiB).
 * CHURN_E_INVALID_ARG on NULL arguments, CHURN_E_IO when @p fn fails.
 * Safe on a const dataset shared between threads. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_write(const churn_dataset *ds, churn_write_fn fn, void *userdata);

/**
 * Write @p ds as CSV to @p path atomically (temp file in the same directory,
 * fsync, rename): on failure the previous file at @p path is untouched.
 * CHURN_E_CREATE when the file cannot be created, CHURN_E_IO on a write
 * failure. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_write_file(const churn_dataset *ds, const char *path);

/**
 * Write @p ds as CSV into a new buffer: *out (NUL-terminated, free with
 * churn_free()) and *out_n its length without the NUL. Both are written only
 * on success. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_csv_write_buffer(const churn_dataset *ds, char **out, size_t *out_n);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_CSV_H */
