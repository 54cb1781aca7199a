/*
 * Survival statistics that need no fitted model: Harrell's concordance index
 * of risk scores (R's concordance rules, O(n log n) with a Fenwick tree over
 * the ranks of the scores) and the screen for covariates that are a function
 * of the time column.
 */
#include "churn/survival.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "cox-private.h"

#define LEAK_MIN_ABS_R 0.8
#define LEAK_MAX_RATIO_CV 0.1
#define LEAK_MIN_PRODUCT_R 0.95
#define LEAK_MAX_FACTORS 64 /* numeric columns tried as the other factor of a product with the time */

typedef struct keyed {
	double key;
	size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void fenwick_add(uint64_t *tree, size_t m, size_t pos)
{
	for (size_t k = pos + 1; k <= m; k += k & (~k + 1))
		tree[k - 1]++;
}

/* Number of inserted ranks < pos. */
static uint64_t fenwick_below(const uint64_t *tree, size_t pos)
{
	uint64_t s = 0;
	for (size_t k = pos; k > 0; k -= k & (~k + 1))
		s += tree[k - 1];
	return s;
}

static churn_status concordance_check(const double *time, const uint8_t *event, const double *risk, size_t n)
{
	const char *fn = "churn_survival_concordance";
	if (!time || !event || !risk)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL array", fn);
	if (n == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: no rows", fn);
	churn_status st = ch_survival_check_data(time, event, n, fn);
	if (st)
		return st;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(risk[i]))
			return ch_fail(CHURN_E_NUMERIC, "%s: risk score of row %zu is not a finite number", fn, i);
	return CHURN_OK;
}

churn_status churn_survival_concordance(const double *time, const uint8_t *event, const double *risk, size_t n,
                                        double *out_c, double *out_concordant, double *out_discordant,
                                        double *out_tied)
{
	churn_status st = concordance_check(time, event, risk, n);
	if (st)
		return st;
	if (!out_c)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_survival_concordance: NULL out_c");
	keyed *byrisk = malloc(n * sizeof *byrisk), *bytime = malloc(n * sizeof *bytime);
	size_t *rank = malloc(n * sizeof *rank);
	uint64_t *tree = calloc(n, sizeof *tree);
	if (!byrisk || !bytime || !rank || !tree) {
		st = ch_fail(CHURN_E_NOMEM, "churn_survival_concordance: out of memory for %zu rows", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		byrisk[i] = (keyed){risk[i], i};
		bytime[i] = (keyed){-time[i], i};
	}
	qsort(byrisk, n, sizeof *byrisk, by_key);
	qsort(bytime, n, sizeof *bytime, by_key);
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		if (k && byrisk[k].key != byrisk[k - 1].key)
			m++;
		rank[byrisk[k].i] = m;
	}
	m++;
	double conc = 0, disc = 0, tied = 0;
	uint64_t inserted = 0;
	/* times descending; within a time: censored rows join first (they outlive its events), events query, then join */
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a; b < n && bytime[b].key == bytime[a].key; b++)
			if (!event[bytime[b].i]) {
				fenwick_add(tree, m, rank[bytime[b].i]);
				inserted++;
			}
		for (size_t k = a; k < b; k++) {
			size_t i = bytime[k].i;
			if (!event[i])
				continue;
			uint64_t below = fenwick_below(tree, rank[i]), upto = fenwick_below(tree, rank[i] + 1);
			conc += (double)below;
			tied += (double)(upto - below);
			disc += (double)(inserted - upto);
		}
		for (size_t k = a; k < b; k++)
			if (event[bytime[k].i]) {
				fenwick_add(tree, m, rank[bytime[k].i]);
				inserted++;
			}
	}
	if (conc + disc + tied == 0) {
		st = ch_fail(CHURN_E_NUMERIC, "churn_survival_concordance: no comparable pair (an event before another time)");
		goto out;
	}
	*out_c = (conc + tied / 2) / (conc + disc + tied);
	if (out_concordant)
		*out_concordant = conc;
	if (out_discordant)
		*out_discordant = disc;
	if (out_tied)
		*out_tied = tied;
out:
	free(byrisk);
	free(bytime);
	free(rank);
	free(tree);
	return st;
}

/* ------------------------------------------------------------ time-leaking covariates */

/* |Pearson r| of v with t and the coefficient of variation of v / t (t > 0), over rows with both present. */
static void leak_stats(const churn_dataset *ds, size_t jt, size_t jv, double *abs_r, double *ratio_cv)
{
	const double *t = churn_dataset_get_numeric(ds, jt), *v = churn_dataset_get_numeric(ds, jv);
	size_t n = churn_dataset_get_row_count(ds), k = 0, kr = 0;
	double mt = 0, mv = 0, stt = 0, svv = 0, stv = 0, mr = 0, srr = 0;
	for (size_t i = 0; i < n; i++) { /* Welford, for both statistics */
		if (churn_dataset_is_missing(ds, jt, i) || churn_dataset_is_missing(ds, jv, i) || !isfinite(t[i]) ||
		    !isfinite(v[i]))
			continue;
		k++;
		double dt = t[i] - mt, dv = v[i] - mv;
		mt += dt / (double)k;
		mv += dv / (double)k;
		stt += dt * (t[i] - mt);
		svv += dv * (v[i] - mv);
		stv += dt * (v[i] - mv);
		if (t[i] > 0) {
			double r = v[i] / t[i], dr = r - mr;
			kr++;
			mr += dr / (double)kr;
			srr += dr * (r - mr);
		}
	}
	*abs_r = k > 2 && stt > 0 && svv > 0 ? fabs(stv / sqrt(stt * svv)) : 0;
	*ratio_cv = kr > 2 && mr != 0 ? sqrt(srr / (double)(kr - 1)) / fabs(mr) : INFINITY;
}

/* |Pearson r| of v / t (t > 0) with column m, over rows where all three are present. */
static double ratio_corr(const churn_dataset *ds, size_t jt, size_t jv, size_t jm)
{
	const double *t = churn_dataset_get_numeric(ds, jt), *v = churn_dataset_get_numeric(ds, jv);
	const double *w = churn_dataset_get_numeric(ds, jm);
	size_t n = churn_dataset_get_row_count(ds), k = 0;
	double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
	for (size_t i = 0; i < n; i++) {
		if (churn_dataset_is_missing(ds, jt, i) || churn_dataset_is_missing(ds, jv, i) ||
		    churn_dataset_is_missing(ds, jm, i) || !(t[i] > 0) || !isfinite(v[i]) || !isfinite(w[i]) ||
		    !isfinite(t[i]))
			continue;
		double a = v[i] / t[i], da = a - ma, db = w[i] - mb;
		k++;
		ma += da / (double)k;
		mb += db / (double)k;
		saa += da * (a - ma);
		sbb += db * (w[i] - mb);
		sab += da * (w[i] - mb);
	}
	return k > 2 && saa > 0 && sbb > 0 ? fabs(sab / sqrt(saa * sbb)) : 0;
}

/* v is the time times another numeric column m (v / t follows m). */
static bool is_time_product(const churn_dataset *ds, size_t jt, size_t jv)
{
	size_t tried = 0;
	for (size_t jm = 0; jm < churn_dataset_get_column_count(ds) && tried < LEAK_MAX_FACTORS; jm++) {
		if (jm == jt || jm == jv || churn_dataset_get_col_type(ds, jm) != CHURN_COL_NUMERIC)
			continue;
		tried++;
		if (ratio_corr(ds, jt, jv, jm) >= LEAK_MIN_PRODUCT_R)
			return true;
	}
	return false;
}

churn_status churn_survival_find_time_leaks(const churn_dataset *ds, const char *time_col, size_t **out_cols,
                                            size_t *out_n)
{
	if (!ds || !time_col || !out_cols || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_survival_find_time_leaks: NULL argument");
	size_t jt;
	if (churn_dataset_find_col(ds, time_col, &jt) != CHURN_OK)
		return ch_fail(CHURN_E_NOTFOUND, "churn_survival_find_time_leaks: no column \"%s\"", time_col);
	if (churn_dataset_get_col_type(ds, jt) != CHURN_COL_NUMERIC)
		return ch_fail(CHURN_E_PARSE, "churn_survival_find_time_leaks: the time column \"%s\" is not numeric",
		               time_col);
	size_t nc = churn_dataset_get_column_count(ds), k = 0;
	size_t *cols = malloc((nc ? nc : 1) * sizeof *cols);
	if (!cols)
		return ch_fail(CHURN_E_NOMEM, "churn_survival_find_time_leaks: out of memory");
	for (size_t j = 0; j < nc; j++) {
		if (j == jt || churn_dataset_get_col_type(ds, j) != CHURN_COL_NUMERIC)
			continue;
		double r, cv;
		leak_stats(ds, jt, j, &r, &cv);
		if (r >= LEAK_MIN_ABS_R || cv < LEAK_MAX_RATIO_CV || is_time_product(ds, jt, j))
			cols[k++] = j;
	}
	if (k == 0) {
		free(cols);
		cols = NULL;
	}
	*out_cols = cols;
	*out_n = k;
	return CHURN_OK;
}
