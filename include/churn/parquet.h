/*
 * churn/parquet.h: write Apache Parquet files (format 2, data pages V1,
 * PLAIN encoding, dictionary pages for low-cardinality columns, uncompressed or
 * ZSTD pages, min/max/null-count statistics) without an outside Parquet
 * library.
 *
 * Files are written atomically: a temp file in the target's directory is
 * filled row group by row group (memory use is one page buffer, not the
 * file, plus one column of one row group for matrices), fsynced and
 * renamed over @p path. A failure leaves any previous
 * file at @p path untouched and removes the temp file.
 *
 * Options (churn_params, NULL = defaults):
 *   parquet.compression     "zstd" (default) or "none"
 *   parquet.zstd_level      ZSTD level (default 1)
 *   parquet.row_group_rows  rows per row group (default 1048576)
 *   parquet.page_bytes      target uncompressed page size (default 1 MiB)
 *   parquet.dictionary      dictionary-encode categorical columns, and matrix
 *                           columns with at most 16 distinct values in a row
 *                           group, e.g. one-hot 0/1 (default true)
 *   parquet.kv              a JSON object of string values, written as the
 *                           file's key_value_metadata (default "": none)
 *
 * Thread safety: the inputs are only read; distinct calls may run
 * concurrently (on different paths).
 */
#ifndef CHURN_PARQUET_H
#define CHURN_PARQUET_H

#include "churn/common.h"
#include "churn/dataset.h"
#include "churn/matrix.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write a design matrix as Parquet. Columns, in order:
 *  - when @p id_name is non-NULL: the ID column @p id_name (BYTE_ARRAY,
 *    STRING/UTF8) from @p ids (nrows strings, valid UTF-8). It is REQUIRED,
 *    or OPTIONAL when some ids are NULL. @p ids is ignored when @p id_name
 *    is NULL.
 *  - one DOUBLE REQUIRED column per feature, named by
 *    churn_matrix_get_feature_name();
 *  - when @p target_name is non-NULL: the labels as INT32 REQUIRED (0/1)
 *    named @p target_name; the matrix must have labels.
 * Column names must be non-empty, valid UTF-8 and distinct.
 *
 * @return CHURN_OK; CHURN_E_INVALID_ARG (NULL path/matrix, no columns,
 *         target_name without labels, id_name without ids, bad or duplicate
 *         names, invalid UTF-8 id, bad parquet.* option); CHURN_E_CREATE
 *         (cannot create the file, e.g. missing or unwritable directory);
 *         CHURN_E_IO (write failed, e.g. disk full); CHURN_E_LIMIT (a single
 *         page over 2 GiB); CHURN_E_NOMEM; CHURN_E_STATE (cancelled through
 *         the progress callback).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_write_matrix(const char *path, const churn_matrix *m,
                                                                  const char *target_name, const char *id_name,
                                                                  const char *const *ids, const churn_params *p);

/**
 * Write a raw dataset as Parquet, every column OPTIONAL: numeric as DOUBLE
 * (NaN = null), categorical as BYTE_ARRAY STRING/UTF8 (dictionary-encoded
 * unless parquet.dictionary is false), text as BYTE_ARRAY STRING/UTF8.
 * Strings must be valid UTF-8.
 *
 * @return as churn_parquet_write_matrix() (CHURN_E_INVALID_ARG also for a
 *         dataset without columns).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_write_dataset(const char *path, const churn_dataset *ds,
                                                                   const churn_params *p);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PARQUET_H */
