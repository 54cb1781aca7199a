/*
 * Per-column EDA statistics over the labelled rows: churn by level of a
 * categorical column (Wilson score intervals, a chi-square test of
 * independence and Cramer's V) and histograms of a numeric column split by
 * churn (integer-width bins for integer columns).
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "core-private.h"
#include "eda-private.h"

/* Wilson score interval for k successes of n. */
static void wilson(size_t k, size_t n, double *lo, double *hi)
{
	if (n == 0) {
		*lo = *hi = NAN;
		return;
	}
	double p = (double)k / (double)n, nn = (double)n, z2 = CH_EDA_Z95 * CH_EDA_Z95;
	double den = 1 + z2 / nn;
	double center = (p + z2 / (2 * nn)) / den;
	double half = CH_EDA_Z95 / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	*lo = center - half < 0 ? 0 : center - half;
	*hi = center + half > 1 ? 1 : center + half;
}

/* Upper tail of chi-square; inputs are checked so GSL's error handler is never reached. */
static double chisq_q(double x, double df)
{
	if (!(df > 0) || !isfinite(x) || x < 0)
		return NAN;
	if (x == 0)
		return 1;
	return gsl_cdf_chisq_Q(x, df);
}

/* Labelled rows and churned rows per level code of column j (index nl: missing). */
static churn_status level_counts(const churn_dataset *ds, size_t j, const int8_t *y, size_t **out_cnt,
                                 size_t **out_pos)
{
	size_t n = churn_dataset_get_row_count(ds), nl = churn_dataset_get_level_count(ds, j);
	const int32_t *codes = churn_dataset_get_codes(ds, j);
	size_t *cnt = calloc(nl + 1, sizeof *cnt), *pos = calloc(nl + 1, sizeof *pos);
	if (!cnt || !pos) {
		free(cnt);
		free(pos);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0)
			continue;
		size_t k = codes[i] < 0 ? nl : (size_t)codes[i];
		cnt[k]++;
		pos[k] += (size_t)y[i];
	}
	*out_cnt = cnt;
	*out_pos = pos;
	return CHURN_OK;
}

/* Chi-square test of independence over c's non-missing levels x {churned, retained}, and Cramer's V. */
static void chi_square(eda_cat *c, size_t tot, size_t tpos)
{
	c->n = tot;
	c->chi2 = c->p_value = c->cramers_v = NAN;
	c->df = 0;
	size_t r = 0;
	for (size_t k = 0; k < c->nlevels; k++)
		r += c->levels[k].value != NULL;
	size_t cols = (tpos > 0) + (tot - tpos > 0);
	if (r < 2 || cols != 2)
		return;
	double chi2 = 0, N = (double)tot, cp = (double)tpos, cn = (double)(tot - tpos);
	for (size_t k = 0; k < c->nlevels; k++) {
		if (!c->levels[k].value)
			continue;
		double rt = (double)c->levels[k].count;
		double e1 = rt * cp / N, e0 = rt * cn / N;
		double o1 = (double)c->levels[k].churned, o0 = rt - o1;
		chi2 += (o1 - e1) * (o1 - e1) / e1 + (o0 - e0) * (o0 - e0) / e0;
	}
	c->chi2 = chi2;
	c->df = (r - 1) * (cols - 1);
	c->p_value = chisq_q(chi2, (double)c->df);
	size_t mn = (r < cols ? r : cols) - 1;
	c->cramers_v = sqrt(chi2 / (N * (double)mn));
}

churn_status ch_eda_cat_stats(const churn_dataset *ds, size_t j, const int8_t *y, eda_cat *c)
{
	size_t nl = churn_dataset_get_level_count(ds, j);
	c->name = ch_strdup(churn_dataset_get_col_name(ds, j));
	c->levels = calloc(nl + 1, sizeof *c->levels);
	if (!c->name || !c->levels)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t *cnt = NULL, *pos = NULL;
	churn_status st = level_counts(ds, j, y, &cnt, &pos);
	if (st)
		return st;
	/* levels with rows (the missing bucket last, only when present) */
	size_t tot = 0, tpos = 0;
	for (size_t k = 0; k <= nl; k++) {
		if (!cnt[k])
			continue;
		eda_level *L = &c->levels[c->nlevels];
		if (k < nl && !(L->value = ch_strdup(churn_dataset_get_level(ds, j, k)))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			break;
		}
		L->count = cnt[k];
		L->churned = pos[k];
		L->rate = (double)pos[k] / (double)cnt[k];
		wilson(pos[k], cnt[k], &L->lo, &L->hi);
		c->nlevels++;
		if (k < nl) {
			tot += cnt[k];
			tpos += pos[k];
		}
	}
	free(cnt);
	free(pos);
	if (!st)
		chi_square(c, tot, tpos);
	return st;
}

/* ---- histograms ---- */

/* Range of column v over the labelled rows; *integer when every value is whole; the count used. */
static size_t value_range(const double *v, const int8_t *y, size_t n, eda_hist *h, double *mn, double *mx,
                          bool *integer)
{
	size_t used = 0;
	*mn = INFINITY;
	*mx = -INFINITY;
	*integer = true;
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0)
			continue;
		if (isnan(v[i])) {
			h->missing++;
			continue;
		}
		used++;
		if (v[i] < *mn)
			*mn = v[i];
		if (v[i] > *mx)
			*mx = v[i];
		if (*integer && v[i] != floor(v[i]))
			*integer = false;
	}
	return used;
}

churn_status ch_eda_hist_stats(const churn_dataset *ds, size_t j, const int8_t *y, size_t bins, eda_hist *h)
{
	size_t n = churn_dataset_get_row_count(ds);
	const double *v = churn_dataset_get_numeric(ds, j);
	h->name = ch_strdup(churn_dataset_get_col_name(ds, j));
	if (!h->name)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	double mn, mx, width;
	bool integer;
	size_t nb, used = value_range(v, y, n, h, &mn, &mx, &integer);
	if (!used) {
		mn = 0;
		mx = 1;
	}
	if (integer && used) {
		double span = mx - mn + 1;
		width = ceil(span / (double)bins);
		if (width < 1)
			width = 1;
		nb = (size_t)ceil(span / width);
		if (width == 1)
			mn -= 0.5; /* unit bins centred on the integers */
	} else {
		if (!(mx > mn)) {
			mn -= 0.5;
			mx += 0.5;
		}
		nb = bins;
		width = (mx - mn) / (double)nb;
	}
	if (nb < 1)
		nb = 1;
	h->nbins = nb;
	h->edges = malloc((nb + 1) * sizeof *h->edges);
	h->churned = calloc(nb, sizeof *h->churned);
	h->retained = calloc(nb, sizeof *h->retained);
	if (!h->edges || !h->churned || !h->retained)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t b = 0; b <= nb; b++)
		h->edges[b] = mn + width * (double)b;
	if (!integer)
		h->edges[nb] = mx;
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || isnan(v[i]))
			continue;
		double f = (v[i] - mn) / width;
		size_t b = f <= 0 ? 0 : (size_t)f;
		if (b >= nb)
			b = nb - 1;
		if (y[i])
			h->churned[b]++;
		else
			h->retained[b]++;
	}
	return CHURN_OK;
}
