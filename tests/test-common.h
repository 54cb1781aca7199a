/*
 * Shared helpers of the Check suites (tests/test-*.c): one copy of each, linked
 * into every suite by tests/meson.build (the `test-common` static library).
 *
 * Helpers that take a step fail the running test through ck_assert when that
 * step fails (the message says which), unless the comment says otherwise;
 * every returned pointer is the caller's to free with free() (or the named
 * free function). The reference UTF-8 decoder shared with the fuzz harnesses
 * is in utf8-ref.h (header only: the harnesses are built without Check).
 */
#ifndef CHURN_TEST_COMMON_H
#define CHURN_TEST_COMMON_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <churn.h>

/* ---- running ---------------------------------------------------------------------------------------- */

/* Run a suite with CK_ENV (CK_RUN_CASE, CK_FORK, CK_VERBOSITY work); EXIT_FAILURE on any failure. */
int churn_test_run(Suite *s);

/* ---- files -------------------------------------------------------------------------------------------- */

/* Path of a file in tests/data (malloc'd). */
char *churn_test_data_path(const char *name);
/* "dir/name" (malloc'd). */
char *churn_test_path(const char *dir, const char *name);

/* Fresh temporary directory (mkdtemp under $TMPDIR or /tmp, named churn-test-*); malloc'd path, NULL on failure. */
char *churn_test_tmpdir(void);
/* rm -rf a directory made by churn_test_tmpdir (anything else is left alone). */
void churn_test_rmdir(const char *dir);
/* Write a string to a file; false on failure (does not fail the test). */
bool churn_test_write_file(const char *path, const char *content);
/* The whole file (malloc'd, NUL-terminated after the content; *n its size when n is not NULL), or NULL when it
 * cannot be read (does not fail the test). */
char *churn_test_read_file(const char *path, size_t *n);

/* A temporary directory per test: churn_test_tmp is made by churn_test_tmp_setup() and removed by
 * churn_test_tmp_teardown(); tcase_add_checked_fixture(tc, churn_test_tmp_setup, churn_test_tmp_teardown). */
extern char *churn_test_tmp;
void churn_test_tmp_setup(void);
void churn_test_tmp_teardown(void);

/* ---- data and options --------------------------------------------------------------------------------- */

/* Path of the real Telco CSV from $CHURN_TELCO_CSV, or NULL (and prints a skip note once) when absent. */
const char *churn_test_telco_csv(void);
/* tests/data/<name> read by the CSV reader with the default options. */
churn_dataset *churn_test_load_data(const char *name);
/* The real Telco file read by the CSV reader with the default options; NULL (skip) when it is not set. */
churn_dataset *churn_test_load_telco(void);

/* New parameters with the NULL-terminated (key, value) pairs set as text (churn_params_set_str);
 * churn_test_params(NULL) gives the defaults. Free with churn_params_free. */
churn_params *churn_test_params(const char *key, ...);

/* ---- JSON --------------------------------------------------------------------------------------------- */

/* The parsed document (cJSON_Delete it); fails the test, showing the start of the text, when it is not JSON. */
cJSON *churn_test_json_parse(const char *text);
/* o[key], which must be a number. */
double churn_test_json_num(const cJSON *o, const char *key);
/* o[key] when it is a string, else NULL (does not fail the test). */
const char *churn_test_json_str(const cJSON *o, const char *key);

/* ---- models ------------------------------------------------------------------------------------------- */

/* The suites' random numbers (xorshift64): seed, then uniform doubles in [0, 1). Same seed, same sequence. */
void churn_test_rng_seed(uint64_t state);
double churn_test_urand(void);

/* An n x nf matrix holding x (row-major), with the labels y when y is not NULL. */
churn_matrix *churn_test_matrix(size_t n, size_t nf, const double *x, const uint8_t *y);
/* n random rows of 5 continuous and 10 binary features (reseeds churn_test_urand from seed); labels from a known
 * rule (x0 lowers, x1, x5 and x6&x7 raise the churn odds) plus noise, or pure noise (30 % positive). */
churn_matrix *churn_test_mixed_matrix(size_t n, uint64_t seed, bool noise_labels);
/* A model of that kind fitted on m with p (NULL: defaults); the fit's error detail is the failure message. */
churn_model *churn_test_fit(churn_model_kind kind, const churn_matrix *m, const churn_params *p);
/* The model's probabilities for every row of x (malloc'd, one per row). */
double *churn_test_predict(const churn_model *model, const churn_matrix *x);
/* A model of that kind fitted with the default parameters on all rows of ds, through a prep fitted on them and
 * embedded in the model (as in an artifact); *prep and *x, when not NULL, get that prep and the design matrix. */
churn_model *churn_test_fit_with_prep(churn_model_kind kind, const churn_dataset *ds, churn_prep **prep,
                                      churn_matrix **x);
/* The algorithm's part of the model's artifact (key "logreg", "gbm", "forest"), printed unformatted (malloc'd);
 * *doc, when doc is not NULL, gets the whole parsed artifact (cJSON_Delete it). */
char *churn_test_model_part(const churn_model *model, const char *key, cJSON **doc);

/* Mean ROC AUC of a model kind over the 5 stratified folds (seed 42) of the real Telco file, each fold's prep
 * fitted on its training rows only and the model with p (NULL: defaults); fold_check, when not NULL, is called
 * with each fold's fitted model. Prints the mean as a TAP comment. NAN (skip) when CHURN_TELCO_CSV is not set. */
double churn_test_telco_cv_auc(churn_model_kind kind, const churn_params *p, void (*fold_check)(const churn_model *));

#endif
