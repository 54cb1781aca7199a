/*
 * Stratified train/test split and stratified k-fold (declared in
 * churn/split.h). Deterministic per seed: splitmix64 (rng-private.h) drives a Fisher-Yates
 * shuffle of each class's row indices; no global state.
 */
#include "churn/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "rng-private.h"

static void shuffle(size_t *a, size_t n, uint64_t *s)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)ch_splitmix64_below(s, i);
		size_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Row indices of class 0 then class 1, each shuffled; *out_n1 = positives. */
static churn_status class_order(const uint8_t *y, size_t n, uint64_t seed, size_t **out, size_t *out_n0)
{
	size_t n0 = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 1)
			return ch_fail(CHURN_E_INVALID_ARG, "label of row %zu is %u, expected 0 or 1", i + 1, (unsigned)y[i]);
		n0 += y[i] == 0;
	}
	size_t *idx = malloc(n * sizeof(*idx));
	if (!idx)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t a = 0, b = n0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] == 0)
			idx[a++] = i;
		else
			idx[b++] = i;
	}
	uint64_t s = seed ^ 0x6A09E667F3BCC909ull;
	shuffle(idx, n0, &s);
	shuffle(idx + n0, n - n0, &s);
	*out = idx;
	*out_n0 = n0;
	return CHURN_OK;
}

churn_status churn_split_stratified(const uint8_t *y, size_t n, double test_size, uint64_t seed, size_t **out_train,
                                    size_t *out_ntrain, size_t **out_test, size_t *out_ntest)
{
	if (!y || !out_train || !out_ntrain || !out_test || !out_ntest)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_split_stratified: NULL argument");
	if (n < 2)
		return ch_fail(CHURN_E_INVALID_ARG, "cannot split %zu rows into train and test", n);
	if (!(test_size > 0 && test_size < 1))
		return ch_fail(CHURN_E_INVALID_ARG, "test size %g is not in (0, 1)", test_size);
	size_t *idx = NULL, n0 = 0;
	churn_status st = class_order(y, n, seed, &idx, &n0);
	if (st)
		return st;
	size_t n1 = n - n0;
	/* Test size rounded up (as scikit-learn), at least one row on each side. */
	size_t ntest = (size_t)ceil(test_size * (double)n - 1e-9);
	if (ntest < 1)
		ntest = 1;
	if (ntest > n - 1)
		ntest = n - 1;
	/* Positives in test: the proportional share rounded, so each part is within one row of the whole's rate. */
	size_t t1 = (size_t)floor((double)ntest * (double)n1 / (double)n + 0.5);
	if (t1 > n1)
		t1 = n1;
	size_t t0 = ntest - t1;
	if (t0 > n0) {
		t0 = n0;
		t1 = ntest - t0;
	}
	size_t *train = malloc((n - ntest) * sizeof(*train));
	size_t *test = malloc(ntest * sizeof(*test));
	if (!train || !test) {
		free(idx);
		free(train);
		free(test);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t a = 0, b = 0;
	for (size_t k = 0; k < n0; k++) {
		if (k < t0)
			test[b++] = idx[k];
		else
			train[a++] = idx[k];
	}
	for (size_t k = 0; k < n1; k++) {
		if (k < t1)
			test[b++] = idx[n0 + k];
		else
			train[a++] = idx[n0 + k];
	}
	free(idx);
	qsort(train, a, sizeof(*train), cmp_size);
	qsort(test, b, sizeof(*test), cmp_size);
	*out_train = train;
	*out_ntrain = a;
	*out_test = test;
	*out_ntest = b;
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_split_kfold(const uint8_t *y, size_t n, size_t k, uint64_t seed, uint32_t *out_fold)
{
	if (!y || !out_fold)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_split_kfold: NULL argument");
	if (k < 2 || k > n || k > UINT32_MAX)
		return ch_fail(CHURN_E_INVALID_ARG, "cannot make %zu folds of %zu rows (need 2 <= k <= rows)", k, n);
	size_t *idx = NULL, n0 = 0;
	churn_status st = class_order(y, n, seed, &idx, &n0);
	if (st)
		return st;
	/* Deal the class-ordered rows round-robin: fold sizes and per-fold class counts differ by at most one. */
	for (size_t i = 0; i < n; i++)
		out_fold[idx[i]] = (uint32_t)(i % k);
	free(idx);
	ch_clear_error();
	return CHURN_OK;
}
