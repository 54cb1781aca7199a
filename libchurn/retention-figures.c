/*
 * The retention list's figures (churn_retention_draw): the expected profit
 * curve over the share of current customers contacted, ranked by expected
 * profit and by churn probability alone, with the best budget marked; and
 * the mean survival over the horizon of the current customers in three Cox
 * risk tiers (thirds of the linear predictor), computed with the list
 * (ch_retention_tiers) so that the figure needs no model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "plot-private.h"
#include "retention-private.h"

#define MAX_GRID 601
#define MAX_POINTS 1001

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The grid of months from now: every month (or horizon / 600) up to the horizon. */
static churn_status make_grid(churn_retention *r)
{
	double h = r->o.horizon, step = h / (MAX_GRID - 1) > 1 ? h / (MAX_GRID - 1) : 1;
	size_t n = (size_t)floor(h / step) + 1;
	bool tail = (double)(n - 1) * step < h;
	r->ngrid = n + tail;
	if (!(r->grid = malloc(r->ngrid * sizeof(double))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < n; k++)
		r->grid[k] = (double)k * step;
	if (tail)
		r->grid[n] = h;
	return CHURN_OK;
}

/* Tier of linear predictor lp: 0 low, 1 medium, 2 high risk. */
static size_t tier_of(const churn_retention *r, double lp)
{
	return lp < r->tier_lp[1] ? 0 : lp < r->tier_lp[2] ? 1 : 2;
}

churn_status ch_retention_tiers(churn_retention *r, const churn_cox *cox, const churn_matrix *X)
{
	size_t n = r->n, p = churn_matrix_get_column_count(X);
	churn_status st = make_grid(r);
	double *lp = malloc((n ? n : 1) * sizeof(double)), *times = NULL, *s = NULL;
	if (!st && (!lp || !(times = malloc(r->ngrid * sizeof(double))) || !(s = malloc(r->ngrid * sizeof(double))) ||
	            !(r->tier_curve = calloc(CH_RETENTION_TIERS * r->ngrid, sizeof(double)))))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < n; i++)
		lp[i] = r->c[i].lp;
	if (!st && n) {
		qsort(lp, n, sizeof(double), cmp_double);
		r->tier_lp[0] = lp[0];
		r->tier_lp[1] = lp[n / 3];
		r->tier_lp[2] = lp[(2 * n) / 3];
		r->tier_lp[3] = lp[n - 1];
	}
	for (size_t i = 0; !st && i < n; i++) {
		double t0 = r->c[i].f[CHURN_RETENTION_TIME];
		for (size_t k = 0; k < r->ngrid; k++)
			times[k] = t0 + r->grid[k];
		st = churn_cox_conditional_survival(cox, churn_matrix_get_row(X, i), p, t0, times, r->ngrid, s);
		size_t t = tier_of(r, r->c[i].lp);
		r->tier_n[t]++;
		for (size_t k = 0; !st && k < r->ngrid; k++)
			r->tier_curve[t * r->ngrid + k] += s[k];
	}
	for (size_t t = 0; !st && t < CH_RETENTION_TIERS; t++)
		for (size_t k = 0; r->tier_n[t] && k < r->ngrid; k++)
			r->tier_curve[t * r->ngrid + k] /= (double)r->tier_n[t];
	free(lp);
	free(times);
	free(s);
	return st;
}

/* Curve cum (n + 1 points) as percent contacted against profit, thinned to at most MAX_POINTS. */
static size_t thin_curve(const double *cum, size_t n, double *x, double *y)
{
	size_t steps = n < MAX_POINTS - 1 ? n : MAX_POINTS - 1;
	for (size_t q = 0; q <= steps; q++) {
		size_t k = steps ? (size_t)llround((double)q * (double)n / (double)steps) : 0;
		x[q] = n ? 100.0 * (double)k / (double)n : 0;
		y[q] = cum[k];
	}
	return steps + 1;
}

static void range_of(const double *y, size_t n, double *lo, double *hi)
{
	for (size_t i = 0; i < n; i++) {
		if (y[i] < *lo)
			*lo = y[i];
		if (y[i] > *hi)
			*hi = y[i];
	}
}

static churn_status draw_profit(const churn_retention *r, const char *dir, const ch_fig *fig)
{
	double *buf = malloc(4 * MAX_POINTS * sizeof(double));
	char *path = ch_asprintf("%s/retention_profit_curve", dir);
	if (!buf || !path) {
		free(buf);
		free(path);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	double *x0 = buf, *y0 = buf + MAX_POINTS, *x1 = buf + 2 * MAX_POINTS, *y1 = buf + 3 * MAX_POINTS;
	size_t n0 = thin_curve(r->cum[0], r->n, x0, y0), n1 = thin_curve(r->cum[1], r->n, x1, y1);
	size_t kb = churn_retention_best_count(r->cum[0], r->n);
	double lo = 0, hi = 0;
	range_of(y0, n0, &lo, &hi);
	range_of(y1, n1, &lo, &hi);
	/* large sums in thousands, so that the tick labels stay short */
	double unit = fmax(fabs(lo), fabs(hi)) >= 1e4 ? 1000 : 1;
	for (size_t i = 0; i < MAX_POINTS; i++)
		y0[i] /= unit, y1[i] /= unit;
	lo /= unit, hi /= unit;
	double pad = (hi - lo) * 0.08 + 1e-9, bx = r->n ? 100.0 * (double)kb / (double)r->n : 0;
	double mx[2] = {bx, bx}, my[2] = {lo - pad, r->cum[0][kb] / unit}, zx[2] = {0, 100}, zy[2] = {0, 0};
	char l0[96], l1[96], lb[160], title[160];
	snprintf(l0, sizeof l0, "ranked by expected profit of contact");
	snprintf(l1, sizeof l1, "ranked by churn probability (%s)", r->prob_source);
	snprintf(lb, sizeof lb, "best budget: %zu contacts (%.1f%%), profit %.0f", kb,
	         r->n ? 100.0 * (double)kb / (double)r->n : 0.0, r->cum[0][kb]);
	snprintf(title, sizeof title, "Expected profit of a retention offer (cost %.2f, success %.0f%%, %.0f-month horizon)",
	         r->o.cost, 100 * r->o.success, r->o.horizon);
	ch_line_series ser[4] = {
	    {.label = NULL, .x = zx, .y = zy, .n = 2, .dashed = true, .color = CH_COL_GREY},
	    {.label = l1, .x = x1, .y = y1, .n = n1, .color = CH_COL_ORANGE},
	    {.label = l0, .x = x0, .y = y0, .n = n0, .color = CH_COL_BLUE},
	    {.label = lb, .x = mx, .y = my, .n = 2, .dashed = true, .color = CH_COL_VERMILLION},
	};
	/* the legend where the curves are not: lower right while they end high, else upper right */
	ch_line_panel P = {.xlabel = "current customers contacted (%, in ranking order)",
	                   .ylabel = unit > 1 ? "expected profit (thousands)" : "expected profit", .xmin = 0,
	                   .xmax = 100, .ymin = lo - pad, .ymax = hi + pad, .nseries = 4, .series = ser,
	                   .legend = r->cum[0][r->n] / unit > lo + 0.35 * (hi - lo) ? 0 : 1};
	churn_status st = ch_plot_lines(path, fig, title, 1, &P);
	free(buf);
	free(path);
	return st;
}

static churn_status draw_tiers(const churn_retention *r, const char *dir, const ch_fig *fig)
{
	static const char *const names[] = {"low", "medium", "high"};
	static const int colors[] = {CH_COL_BLUE, CH_COL_ORANGE, CH_COL_VERMILLION};
	char labels[CH_RETENTION_TIERS][96], title[160];
	ch_line_series ser[CH_RETENTION_TIERS];
	size_t ns = 0;
	for (size_t t = CH_RETENTION_TIERS; t-- > 0;) {
		if (!r->tier_n[t])
			continue;
		snprintf(labels[t], sizeof labels[t], "%s risk (%zu customers)", names[t], r->tier_n[t]);
		ser[ns++] = (ch_line_series){.label = labels[t], .x = r->grid, .y = r->tier_curve + t * r->ngrid,
		                             .n = r->ngrid, .step = true, .color = colors[t]};
	}
	snprintf(title, sizeof title, "Current customers still with us, by Cox risk tier (thirds of the risk score)");
	ch_line_panel P = {.xlabel = "months from now", .ylabel = "mean survival given tenure so far", .xmin = 0,
	                   .xmax = r->o.horizon, .ymin = 0, .ymax = 1.02, .y_percent = true, .nseries = ns,
	                   .series = ser, .legend = 2};
	char *path = ch_asprintf("%s/survival_by_risk_tier", dir);
	churn_status st = path ? ch_plot_lines(path, fig, title, 1, &P) : ch_fail(CHURN_E_NOMEM, "out of memory");
	free(path);
	return st;
}

churn_status churn_retention_draw(const churn_retention *r, const char *dir, const churn_params *p)
{
	if (!r || !dir)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_retention_draw: NULL argument");
	if (!r->n)
		return CHURN_OK; /* no current customers: nothing to draw */
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	churn_status st = ch_plot_check_dir(dir);
	if (!st)
		st = draw_profit(r, dir, &fig);
	if (!st)
		st = draw_tiers(r, dir, &fig);
	return st;
}
