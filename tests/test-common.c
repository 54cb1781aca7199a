/* Shared helpers of the Check suites: see test-common.h. */
#include "test-common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CHURN_TEST_DATA
#define CHURN_TEST_DATA "."
#endif

/* ---- running ---- */

int churn_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- files ---- */

char *churn_test_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *churn_test_data_path(const char *name)
{
	return churn_test_path(CHURN_TEST_DATA, name);
}

char *churn_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + 32;
	char *p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/churn-test-XXXXXX", base);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

void churn_test_rmdir(const char *dir)
{
	if (!dir || strncmp(dir, "/", 1) != 0 || !strstr(dir, "churn-test-"))
		return;
	size_t n = strlen(dir) + 16;
	char *cmd = malloc(n);
	if (!cmd)
		return;
	snprintf(cmd, n, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	free(cmd);
}

bool churn_test_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	size_t n = strlen(content);
	bool ok = fwrite(content, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

char *churn_test_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
		len += got;
		if (len == cap) {
			char *more = realloc(buf, 2 * cap + 1);
			if (!more) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = more;
			cap *= 2;
		}
	}
	bool failed = ferror(f);
	fclose(f);
	if (!buf || failed) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (n)
		*n = len;
	return buf;
}

char *churn_test_tmp;

void churn_test_tmp_setup(void)
{
	churn_test_tmp = churn_test_tmpdir();
	ck_assert_ptr_nonnull(churn_test_tmp);
}

void churn_test_tmp_teardown(void)
{
	churn_test_rmdir(churn_test_tmp);
	free(churn_test_tmp);
	churn_test_tmp = NULL;
}

/* ---- data and options ---- */

const char *churn_test_telco_csv(void)
{
	static int noted;
	const char *p = getenv("CHURN_TELCO_CSV");
	if (p && *p && access(p, R_OK) == 0)
		return p;
	if (!noted++)
		fprintf(stderr, "# SKIP real-data cases: CHURN_TELCO_CSV is %s\n",
		        p && *p ? "not readable" : "not set");
	return NULL;
}

static churn_dataset *load_csv(const char *path)
{
	churn_dataset *ds = NULL;
	churn_status st = churn_csv_read_file(path, NULL, &ds, NULL);
	ck_assert_msg(st == CHURN_OK, "reading %s: %s", path, churn_last_error());
	return ds;
}

churn_dataset *churn_test_load_data(const char *name)
{
	char *path = churn_test_data_path(name);
	churn_dataset *ds = load_csv(path);
	free(path);
	return ds;
}

churn_dataset *churn_test_load_telco(void)
{
	const char *path = churn_test_telco_csv();
	return path ? load_csv(path) : NULL;
}

churn_params *churn_test_params(const char *key, ...)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	va_list ap;
	va_start(ap, key);
	for (const char *k = key; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		ck_assert_msg(churn_params_set_str(p, k, v) == CHURN_OK, "%s=%s: %s", k, v, churn_last_error());
	}
	va_end(ap);
	return p;
}

/* ---- JSON ---- */

cJSON *churn_test_json_parse(const char *text)
{
	ck_assert_ptr_nonnull(text);
	cJSON *doc = cJSON_Parse(text);
	ck_assert_msg(doc != NULL, "not JSON: %.200s", text);
	return doc;
}

double churn_test_json_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	ck_assert_msg(cJSON_IsNumber(v), "key %s is not a number", key);
	return v->valuedouble;
}

const char *churn_test_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- models ---- */

static uint64_t rng_state = 1;

void churn_test_rng_seed(uint64_t state)
{
	rng_state = state;
}

double churn_test_urand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) * 0x1.0p-53;
}

churn_matrix *churn_test_matrix(size_t n, size_t nf, const double *x, const uint8_t *y)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, nf, &m), CHURN_OK);
	memcpy(churn_matrix_get_data(m), x, n * nf * sizeof(double));
	if (y)
		ck_assert_int_eq(churn_matrix_set_labels(m, y, n), CHURN_OK);
	return m;
}

churn_matrix *churn_test_mixed_matrix(size_t n, uint64_t seed, bool noise_labels)
{
	const size_t nf = 15;
	churn_test_rng_seed(seed * 2654435761u + 1);
	double *x = malloc(n * nf * sizeof(double));
	uint8_t *y = malloc(n);
	ck_assert(x && y);
	for (size_t i = 0; i < n; i++) {
		double *r = x + i * nf;
		for (size_t j = 0; j < 5; j++)
			r[j] = j == 0 ? floor(churn_test_urand() * 72) : churn_test_urand() * 100;
		for (size_t j = 5; j < nf; j++)
			r[j] = churn_test_urand() < 0.3;
		double z = -1 - 0.04 * r[0] + 0.03 * r[1] + 1.2 * r[5] + (r[6] > 0.5 && r[7] > 0.5 ? 1.5 : 0);
		y[i] = noise_labels ? churn_test_urand() < 0.3 : churn_test_urand() < 1 / (1 + exp(-z));
	}
	churn_matrix *m = churn_test_matrix(n, nf, x, y);
	free(x);
	free(y);
	return m;
}

churn_model *churn_test_fit(churn_model_kind kind, const churn_matrix *m, const churn_params *p)
{
	churn_model *model = NULL;
	ck_assert_int_eq(churn_model_new(kind, &model), CHURN_OK);
	churn_status st = churn_model_fit(model, m, p);
	if (st)
		ck_abort_msg("%s fit failed: %s", churn_model_kind_name(kind), churn_last_error());
	return model;
}

double *churn_test_predict(const churn_model *model, const churn_matrix *x)
{
	size_t n = churn_matrix_get_row_count(x), got = 0;
	double *p = malloc((n ? n : 1) * sizeof(double));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(churn_model_predict(model, x, p, n, &got), CHURN_OK);
	ck_assert_uint_eq(got, n);
	return p;
}

churn_model *churn_test_fit_with_prep(churn_model_kind kind, const churn_dataset *ds, churn_prep **prep,
                                      churn_matrix **x)
{
	churn_prep *pr = NULL;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &pr), CHURN_OK);
	ck_assert_int_eq(churn_prep_apply(pr, ds, &m), CHURN_OK);
	churn_model *model = churn_test_fit(kind, m, NULL);
	ck_assert_int_eq(churn_model_set_prep(model, pr), CHURN_OK);
	if (prep)
		*prep = pr;
	else
		churn_prep_free(pr);
	if (x)
		*x = m;
	else
		churn_matrix_free(m);
	return model;
}

char *churn_test_model_part(const churn_model *model, const char *key, cJSON **doc)
{
	char *buf = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_model_to_buffer(model, &buf, &n), CHURN_OK);
	cJSON *d = churn_test_json_parse(buf);
	churn_free(buf);
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(d, key);
	ck_assert_msg(part != NULL, "the artifact has no \"%s\"", key);
	char *s = cJSON_PrintUnformatted(part);
	if (doc)
		*doc = d;
	else
		cJSON_Delete(d);
	return s;
}

double churn_test_telco_cv_auc(churn_model_kind kind, const churn_params *p, void (*fold_check)(const churn_model *))
{
	enum { K = 5 };
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return NAN;
	size_t n = churn_dataset_get_row_count(ds);
	churn_prep *prep0 = NULL;
	ck_assert_int_eq(churn_prep_fit(ds, NULL, 0, NULL, &prep0), CHURN_OK);
	uint8_t *y = NULL;
	size_t ny = 0;
	ck_assert_int_eq(churn_prep_get_labels(prep0, ds, &y, &ny), CHURN_OK);
	ck_assert_uint_eq(ny, n);
	uint32_t *fold = malloc(n * sizeof(uint32_t));
	ck_assert_int_eq(churn_split_kfold(y, n, K, 42, fold), CHURN_OK);
	double sum = 0;
	size_t *tr = malloc(n * sizeof(size_t)), *te = malloc(n * sizeof(size_t));
	double *prob = malloc(n * sizeof(double));
	uint8_t *yt = malloc(n);
	for (uint32_t k = 0; k < K; k++) {
		size_t ntr = 0, nte = 0;
		for (size_t i = 0; i < n; i++) {
			if (fold[i] == k) {
				yt[nte] = y[i];
				te[nte++] = i;
			} else {
				tr[ntr++] = i;
			}
		}
		churn_prep *prep = NULL;
		churn_matrix *mtr = NULL, *mte = NULL;
		ck_assert_int_eq(churn_prep_fit(ds, tr, ntr, NULL, &prep), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply_rows(prep, ds, tr, ntr, &mtr), CHURN_OK);
		ck_assert_int_eq(churn_prep_apply_rows(prep, ds, te, nte, &mte), CHURN_OK);
		churn_model *model = churn_test_fit(kind, mtr, p);
		if (fold_check)
			fold_check(model);
		size_t np;
		ck_assert_int_eq(churn_model_predict(model, mte, prob, n, &np), CHURN_OK);
		double auc;
		ck_assert_int_eq(churn_metrics_roc_auc(yt, prob, nte, &auc), CHURN_OK);
		sum += auc;
		churn_model_free(model);
		churn_matrix_free(mtr);
		churn_matrix_free(mte);
		churn_prep_free(prep);
	}
	double mean = sum / K;
	fprintf(stderr, "# telco %s %d-fold CV ROC AUC %.4f\n", churn_model_kind_name(kind), K, mean);
	free(tr);
	free(te);
	free(prob);
	free(yt);
	free(fold);
	churn_free(y);
	churn_prep_free(prep0);
	churn_dataset_free(ds);
	return mean;
}
