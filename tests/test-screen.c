/*
 * screen.c (white-box): the identifier test and the univariate ROC AUC that
 * flags a leak. A categorical column's AUC comes from its level counts alone
 * (no sort of the rows): it must equal churn_metrics_roc_auc() of the rows
 * scored by their level's positive rate, ties included.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <churn.h>

#include "dataset-private.h"
#include "screen-private.h"
#include "test-common.h"

/* The AUC (either direction) of rows scored by their level's positive rate, through the metrics module. */
static double rows_auc(const ch_column *c, const uint8_t *y, size_t n)
{
	size_t *pos = calloc(c->nlevels, sizeof(size_t)), *all = calloc(c->nlevels, sizeof(size_t)), m = 0;
	double *p = malloc(n * sizeof(double));
	uint8_t *yy = malloc(n);
	for (size_t i = 0; i < n; i++)
		if (c->codes[i] >= 0) {
			pos[c->codes[i]] += y[i];
			all[c->codes[i]]++;
		}
	for (size_t i = 0; i < n; i++)
		if (c->codes[i] >= 0) {
			p[m] = (double)pos[c->codes[i]] / (double)all[c->codes[i]];
			yy[m++] = y[i];
		}
	double auc = NAN;
	ck_assert_int_eq(churn_metrics_roc_auc(yy, p, m, &auc), CHURN_OK);
	free(pos), free(all), free(p), free(yy);
	return auc >= 0.5 ? auc : 1 - auc;
}

START_TEST(test_level_auc_equals_the_rows_auc)
{
	static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
	enum { N = 3000 };
	churn_test_rng_seed(31);
	for (int round = 0; round < 20; round++) {
		const char *v[N];
		uint8_t y[N];
		size_t nl = 2 + (size_t)round % 5;
		for (size_t i = 0; i < N; i++) {
			size_t k = (size_t)(churn_test_urand() * (double)nl);
			v[i] = churn_test_urand() < 0.02 ? NULL : names[k]; /* some missing cells */
			/* rates from the level, two levels sharing one rate now and then (ties) */
			double rate = round % 3 == 0 ? 0.1 + 0.2 * (double)(k / 2) : 0.1 + 0.15 * (double)k;
			y[i] = churn_test_urand() < rate;
		}
		churn_dataset *ds = NULL;
		ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
		ck_assert_int_eq(churn_dataset_add_categorical(ds, "plan", v, N), CHURN_OK);
		double auc = NAN;
		ck_assert_int_eq(ch_screen_auc(&ds->cols[0], NULL, y, N, &auc), CHURN_OK);
		double want = rows_auc(&ds->cols[0], y, N);
		ck_assert_msg(fabs(auc - want) < 1e-12, "round %d: %.15f from the levels, %.15f from the rows", round, auc,
		              want);
		churn_dataset_free(ds);
	}
}
END_TEST

START_TEST(test_identifiers_and_leaks)
{
	enum { N = 200 };
	double rown[N], money[N], age[N], leak[N];
	uint8_t y[N];
	churn_test_rng_seed(5);
	for (size_t i = 0; i < N; i++) {
		y[i] = churn_test_urand() < 0.3;
		rown[i] = (double)(i + 1);
		money[i] = floor(churn_test_urand() * 1e6) / 100 + 0.01;
		age[i] = 18 + floor(churn_test_urand() * 40);
		leak[i] = y[i] ? 2 + churn_test_urand() : churn_test_urand();
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "RowNumber", rown, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Balance", money, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Age", age, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Refund", leak, N), CHURN_OK);
	bool id;
	char *why;
	ck_assert_int_eq(ch_screen_identifier(&ds->cols[0], NULL, N, &id, &why), CHURN_OK);
	ck_assert(id && strstr(why, "whole number"));
	free(why);
	for (size_t j = 1; j < 4; j++) { /* money is distinct but not whole; ages repeat */
		ck_assert_int_eq(ch_screen_identifier(&ds->cols[j], NULL, N, &id, &why), CHURN_OK);
		ck_assert(!id && !why);
	}
	double auc;
	ck_assert_int_eq(ch_screen_auc(&ds->cols[3], NULL, y, N, &auc), CHURN_OK);
	ck_assert(auc == 1.0);
	ck_assert_int_eq(ch_screen_auc(&ds->cols[2], NULL, y, N, &auc), CHURN_OK);
	ck_assert(auc < CH_SCREEN_LEAK_AUC);
	/* too few rows: nothing said */
	ck_assert_int_eq(ch_screen_identifier(&ds->cols[0], NULL, CH_SCREEN_MIN_ROWS - 1, &id, &why), CHURN_OK);
	ck_assert(!id);
	ck_assert_int_eq(ch_screen_auc(&ds->cols[3], NULL, y, CH_SCREEN_MIN_ROWS - 1, &auc), CHURN_OK);
	ck_assert(isnan(auc));
	churn_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("screen");
	TCase *tc = tcase_create("screen");
	tcase_add_test(tc, test_level_auc_equals_the_rows_auc);
	tcase_add_test(tc, test_identifiers_and_leaks);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
