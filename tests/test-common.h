/* Shared helpers of the Check suites. */
#ifndef CHURN_TEST_COMMON_H
#define CHURN_TEST_COMMON_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Run a suite with CK_ENV (CK_RUN_CASE, CK_FORK, CK_VERBOSITY work); EXIT_FAILURE on any failure. */
int churn_test_run(Suite *s);

/* Path of a file in tests/data (static buffer per call site is not used: returns malloc'd; free it). */
char *churn_test_data_path(const char *name);

/* Fresh temporary directory (mkdtemp under $TMPDIR or /tmp); malloc'd path. */
char *churn_test_tmpdir(void);
/* rm -rf a directory made by churn_test_tmpdir. */
void churn_test_rmdir(const char *dir);
/* Write a string to a file; returns false on failure. */
bool churn_test_write_file(const char *path, const char *content);

/* Path of the real Telco CSV from $CHURN_TELCO_CSV, or NULL (and prints a skip note once) when absent. */
const char *churn_test_telco_csv(void);

#endif
