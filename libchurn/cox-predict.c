/*
 * What a fitted Cox model says about customers: linear predictors, the
 * survival curve given the time already reached, the median and restricted
 * mean remaining time within a horizon, and the IPCW integrated Brier score.
 * S(t | x) = exp(-H0(t) exp(lp)), H0 the Efron-adjusted baseline (cox.c).
 */
#include "churn/survival.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "cox-private.h"

#define DEFAULT_HORIZON 24.0

static churn_status row_lp(const churn_cox *m, const double *row, const char *fn, double *out)
{
	double e = 0;
	for (size_t j = 0; j < m->p; j++) {
		if (!isfinite(row[j]))
			return ch_fail(CHURN_E_NUMERIC, "%s: feature \"%s\" is not a finite number", fn, m->names[j]);
		if (!m->aliased[j])
			e += (row[j] - m->center[j]) * m->coef[j];
	}
	*out = e;
	return CHURN_OK;
}

static churn_status check_x(const churn_cox *m, const churn_matrix *x, const char *fn)
{
	if (!m || !x)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL argument", fn);
	if (churn_matrix_get_column_count(x) != m->p)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the matrix has %zu columns, the model %zu", fn,
		               churn_matrix_get_column_count(x), m->p);
	return CHURN_OK;
}

churn_status churn_cox_linear_predictor(const churn_cox *m, const churn_matrix *x, double *out, size_t cap,
                                        size_t *out_n)
{
	churn_status st = check_x(m, x, "churn_cox_linear_predictor");
	if (st)
		return st;
	if (!out || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_linear_predictor: NULL argument");
	size_t n = churn_matrix_get_row_count(x);
	*out_n = n;
	if (cap < n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_linear_predictor: room for %zu values, %zu needed", cap, n);
	for (size_t i = 0; i < n; i++)
		if ((st = row_lp(m, churn_matrix_get_row(x, i), "churn_cox_linear_predictor", &out[i])))
			return st;
	return CHURN_OK;
}

churn_status churn_cox_conditional_survival(const churn_cox *m, const double *row, size_t ncols, double t0,
                                            const double *times, size_t nt, double *out)
{
	const char *fn = "churn_cox_conditional_survival";
	if (!m || !row || (nt && (!times || !out)))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL argument", fn);
	if (ncols != m->p)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: %zu features, the model has %zu", fn, ncols, m->p);
	if (!isfinite(t0) || t0 < 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the time reached is %g, not a finite time >= 0", fn, t0);
	double lp;
	churn_status st = row_lp(m, row, fn, &lp);
	if (st)
		return st;
	double r = exp(lp), h0 = ch_cox_baseline_at(m, t0);
	for (size_t k = 0; k < nt; k++) {
		if (!isfinite(times[k]) || times[k] < 0)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: time %zu is %g, not a finite time >= 0", fn, k, times[k]);
		out[k] = times[k] <= t0 ? 1 : exp(-(ch_cox_baseline_at(m, times[k]) - h0) * r);
	}
	return CHURN_OK;
}

/* Median (NaN and *beyond when not reached within the horizon) and restricted mean remaining time of one row. */
static void remaining_one(const churn_cox *m, double lp, double t0, double horizon, double *med, bool *beyond,
                          double *rmst)
{
	double r = exp(lp), h0 = ch_cox_baseline_at(m, t0), end = t0 + horizon;
	double area = 0, prev_t = t0, s = 1;
	*med = NAN;
	*beyond = true;
	/* steps after t0 up to the horizon: S is s on [prev_t, t_k) then drops */
	size_t lo = 0, hi = m->nbase;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->base_time[mid] <= t0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < m->nbase && m->base_time[k] <= end; k++) {
		area += s * (m->base_time[k] - prev_t);
		prev_t = m->base_time[k];
		s = exp(-(m->base_haz[k] - h0) * r);
		if (*beyond && s <= 0.5) {
			*med = m->base_time[k] - t0;
			*beyond = false;
		}
	}
	*rmst = area + s * (end - prev_t);
}

churn_status churn_cox_remaining(const churn_cox *m, const churn_matrix *x, const double *t0, double horizon,
                                 double *out_median, bool *out_beyond, double *out_rmst)
{
	const char *fn = "churn_cox_remaining";
	churn_status st = check_x(m, x, fn);
	if (st)
		return st;
	if (!t0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL times reached", fn);
	if (!isfinite(horizon))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the horizon is not finite", fn);
	if (horizon <= 0)
		horizon = DEFAULT_HORIZON;
	size_t n = churn_matrix_get_row_count(x);
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(t0[i]) || t0[i] < 0)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: row %zu has reached %g, not a finite time >= 0", fn, i, t0[i]);
		double lp, med, rmst;
		bool beyond;
		if ((st = row_lp(m, churn_matrix_get_row(x, i), fn, &lp)))
			return st;
		remaining_one(m, lp, t0[i], horizon, &med, &beyond, &rmst);
		if (out_median)
			out_median[i] = med;
		if (out_beyond)
			out_beyond[i] = beyond;
		if (out_rmst)
			out_rmst[i] = rmst;
	}
	return CHURN_OK;
}

/* ------------------------------------------------------------ integrated Brier score */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Kaplan-Meier of the censoring distribution at the sorted distinct times
 * ut[0..m): G[k] = G(ut[k]) (right-continuous); G(ut[k]-) is G[k-1] (1 for k = 0).
 * Events tied with censorings leave the risk set after them: a censoring at t
 * is at risk of censoring only among rows with time >= t.
 */
static void censoring_km(const double *time, const uint8_t *event, size_t n, const double *ut, size_t m, double *G)
{
	size_t *atrisk = calloc(m, sizeof *atrisk), *cens = calloc(m, sizeof *cens);
	if (!atrisk || !cens) {
		free(atrisk);
		free(cens);
		for (size_t k = 0; k < m; k++)
			G[k] = NAN;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double *pos = bsearch(&time[i], ut, m, sizeof *ut, cmp_double);
		size_t k = (size_t)(pos - ut);
		atrisk[k]++;
		cens[k] += !event[i];
	}
	size_t risk = n;
	double g = 1;
	for (size_t k = 0; k < m; k++) {
		if (cens[k])
			g *= 1 - (double)cens[k] / (double)risk;
		G[k] = g;
		risk -= atrisk[k];
	}
	free(atrisk);
	free(cens);
}

churn_status churn_cox_integrated_brier(const churn_cox *m, const churn_matrix *x, const double *time,
                                        const uint8_t *event, size_t n, double *out_ibs)
{
	const char *fn = "churn_cox_integrated_brier";
	churn_status st = check_x(m, x, fn);
	if (st)
		return st;
	if (!time || !event || !out_ibs || n != churn_matrix_get_row_count(x) || n == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL argument, no rows or %zu times for %zu rows", fn, n,
		               churn_matrix_get_row_count(x));
	if ((st = ch_survival_check_data(time, event, n, fn)))
		return st;
	double *ut = malloc(n * sizeof *ut), *G = malloc(n * sizeof *G), *risk = malloc(n * sizeof *risk);
	double *Gt = malloc(n * sizeof *Gt);
	if (!ut || !G || !risk || !Gt) {
		st = ch_fail(CHURN_E_NOMEM, "%s: out of memory", fn);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((st = row_lp(m, churn_matrix_get_row(x, i), fn, &risk[i])))
			goto out;
	for (size_t i = 0; i < n; i++)
		risk[i] = exp(risk[i]);
	memcpy(ut, time, n * sizeof *ut);
	qsort(ut, n, sizeof *ut, cmp_double);
	size_t mt = 0;
	for (size_t i = 0; i < n; i++)
		if (mt == 0 || ut[i] != ut[mt - 1])
			ut[mt++] = ut[i];
	censoring_km(time, event, n, ut, mt, G);
	/* G(T_i-) per row */
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)((double *)bsearch(&time[i], ut, mt, sizeof *ut, cmp_double) - ut);
		Gt[i] = k ? G[k - 1] : 1;
	}
	double area = 0, first_t = 0, prev_t = 0, prev_bs = 0;
	size_t used = 0;
	for (size_t k = 0; k + 1 < mt && G[k] > 0; k++) {
		double t = ut[k], h = ch_cox_baseline_at(m, t), bs = 0;
		for (size_t i = 0; i < n; i++) {
			double s = exp(-h * risk[i]);
			if (time[i] <= t && event[i])
				bs += s * s / Gt[i];
			else if (time[i] > t)
				bs += (1 - s) * (1 - s) / G[k];
		}
		bs /= (double)n;
		if (used++)
			area += (t - prev_t) * (bs + prev_bs) / 2;
		else
			first_t = t;
		prev_t = t;
		prev_bs = bs;
	}
	if (used < 2) {
		st = ch_fail(CHURN_E_NUMERIC, "%s: fewer than two observed times to integrate over", fn);
		goto out;
	}
	*out_ibs = area / (prev_t - first_t);
out:
	free(ut);
	free(G);
	free(risk);
	free(Gt);
	return st;
}
