/*
 * churn/parquet.h: write Apache Parquet files (format 2, data pages V1,
 * PLAIN encoding, dictionary pages for low-cardinality columns, uncompressed or
 * ZSTD pages, min/max/null-count statistics) without an outside Parquet
 * library.
 *
 * Files are written atomically: a temp file in the target's directory is
 * filled row group by row group, fsynced and renamed over @p path. A
 * failure leaves any previous file at @p path untouched and removes the
 * temp file.
 *
 * Matrices can be streamed (churn_parquet_writer_*): rows arrive in chunks
 * of any size and the file is byte for byte the one churn_parquet_write_matrix()
 * writes for the whole matrix. Memory besides the caller's chunk: per row
 * group, one byte per row for each feature column with at most 16 distinct
 * values so far (dictionary candidates, e.g. one-hot 0/1) and for the
 * target, the finished compressed pages of the other feature columns and of
 * the ID column, and one page buffer per column.
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
 * concurrently (on different paths). A churn_parquet_writer is used by one
 * thread at a time.
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
 *         target_name without labels, id_name without ids, an empty name,
 *         bad parquet.* option); CHURN_E_PARSE (duplicate names, a name or
 *         id that is not valid UTF-8: names and ids come from data, so a
 *         data status); CHURN_E_CREATE
 *         (cannot create the file, e.g. missing or unwritable directory);
 *         CHURN_E_IO (write failed, e.g. disk full); CHURN_E_LIMIT (a single
 *         page over 2 GiB); CHURN_E_NOMEM; CHURN_E_STATE (cancelled through
 *         the progress callback).
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_write_matrix(const char *path, const churn_matrix *m,
                                                                  const char *target_name, const char *id_name,
                                                                  const char *const *ids, const churn_params *p);

/** A streaming matrix writer (opaque). @since 0.1 */
typedef struct churn_parquet_writer churn_parquet_writer;

/** Flag of churn_parquet_writer_open(): the ID column is OPTIONAL (NULL ids allowed). @since 0.1 */
#define CHURN_PARQUET_ID_NULLABLE 1u

/**
 * Start a Parquet file of a design matrix streamed in row chunks; columns
 * as churn_parquet_write_matrix(): the ID column @p id_name (when non-NULL;
 * REQUIRED unless @p flags has CHURN_PARQUET_ID_NULLABLE), the @p nfeatures
 * DOUBLE features named @p feature_names, the INT32 target @p target_name
 * (when non-NULL). @p nrows_hint is the expected row count, used only for
 * progress reports (0: unknown). Names and @p p are copied. The file is
 * created as a temp file now and appears at @p path only on
 * churn_parquet_writer_close(). *out (free with churn_parquet_writer_free())
 * is written only on success.
 * @return CHURN_OK; CHURN_E_INVALID_ARG (NULL path/out, no columns, an
 *         empty name, unknown flags, bad parquet.* option); CHURN_E_PARSE
 *         (duplicate names, a name that is not valid UTF-8);
 *         CHURN_E_CREATE; CHURN_E_IO; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_writer_open(const char *path, const char *const *feature_names,
                                                                 size_t nfeatures, const char *target_name,
                                                                 const char *id_name, unsigned flags,
                                                                 uint64_t nrows_hint, const churn_params *p,
                                                                 churn_parquet_writer **out);

/**
 * Append the rows of @p chunk (nfeatures columns, in the writer's order;
 * labels when the writer has a target) and their @p ids (one per row, valid
 * UTF-8; NULL only for a nullable ID column; @p ids ignored without an ID
 * column). Row groups are written as they fill (parquet.row_group_rows).
 * Nothing of @p chunk or @p ids is kept after the call. After a failure the
 * writer only accepts churn_parquet_writer_free().
 * @return CHURN_OK; CHURN_E_INVALID_ARG (column count, missing labels or
 *         ids, NULL id of a non-nullable column); CHURN_E_PARSE (an id that
 *         is not valid UTF-8);
 *         CHURN_E_STATE (closed or failed earlier; cancelled through the
 *         progress callback); CHURN_E_IO; CHURN_E_LIMIT; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_writer_append(churn_parquet_writer *w,
                                                                   const churn_matrix *chunk,
                                                                   const char *const *ids);

/**
 * Write the last row group and the footer, fsync and rename the file over
 * the path given at open. The writer must still be freed.
 * @return CHURN_OK; CHURN_E_STATE (closed or failed earlier, cancelled);
 *         CHURN_E_IO; CHURN_E_LIMIT; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_parquet_writer_close(churn_parquet_writer *w);

/**
 * Free the writer. Without a successful close the temp file is removed and
 * any previous file at the path is left as it was. NULL is a no-op.
 * @since 0.1
 */
CHURN_API void churn_parquet_writer_free(churn_parquet_writer *w);

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
