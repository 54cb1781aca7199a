/*
 * The EDA figures, drawn through plot.c (the only plplot user): the
 * correlation heatmap, histograms of the numeric columns, churn rate by
 * level (small multiples, and one figure per categorical with many levels),
 * feature importance, Kaplan-Meier retention and revenue at risk. Figures of
 * per-column panels show at most eda.fig_max_columns columns, the ones most
 * associated with churn; eda.json keeps them all (with a note).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "eda-private.h"
#include "params-private.h"
#include "plot-private.h"

/* ---- text ---- */

static char *fig_path(const char *dir, const char *prefix, const char *name)
{
	char *s = ch_plot_sanitize(name);
	if (!s)
		return NULL;
	char *r = name ? ch_asprintf("%s/%s%s", dir, prefix, s) : ch_asprintf("%s/%s", dir, prefix);
	free(s);
	return r;
}

/* Locale-free percentage with one decimal ("42.7%"). */
static void pct1(char *buf, size_t cap, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	long long t = llround(v * 1000);
	snprintf(buf, cap, "%lld.%lld%%", t / 10, (t < 0 ? -t : t) % 10);
}

static void pvalue_text(char *buf, size_t cap, double p)
{
	if (!isfinite(p)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	if (p < 0.001) {
		snprintf(buf, cap, "< 0.001");
		return;
	}
	long long t = llround(p * 1000);
	snprintf(buf, cap, "%lld.%03lld", t / 1000, t % 1000);
}

static void fixed2(char *buf, size_t cap, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	long long t = llround(fabs(v) * 100);
	snprintf(buf, cap, "%s%lld.%02lld", v < 0 ? "-" : "", t / 100, t % 100);
}

/* Locale-free integer with thousands separators ("1,234,567"). */
static void thousands(char *buf, size_t cap, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	char digits[32];
	long long iv = llround(fabs(v));
	snprintf(digits, sizeof digits, "%lld", iv);
	size_t nd = strlen(digits), o = 0;
	if (v < 0 && iv && o + 1 < cap)
		buf[o++] = '-';
	for (size_t i = 0; i < nd && o + 2 < cap; i++) {
		if (i && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/* ---- which columns the figures show ---- */

static bool in_grid(const eda_cat *c)
{
	return c->nlevels >= 1 && c->nlevels <= CH_EDA_GRID_MAX_LEVELS;
}

churn_status ch_eda_note_figure_caps(churn_eda *e)
{
	size_t ngrid = 0, nbig = 0;
	for (size_t i = 0; i < e->ncat; i++) {
		ngrid += in_grid(&e->cats[i]);
		nbig += e->cats[i].nlevels > CH_EDA_GRID_MAX_LEVELS;
	}
	churn_status st = CHURN_OK;
	if (e->nhist > e->fig_max &&
	    (st = ch_eda_note(e, "figures: histogram_numeric_columns shows the %zu of %zu numeric columns most correlated "
	                         "with %s (|Pearson r|; eda.fig_max_columns); eda.json has every histogram",
	                      e->fig_max, e->nhist, e->target)))
		return st;
	if (ngrid > e->fig_max &&
	    (st = ch_eda_note(e, "figures: churn_rate_categories shows the %zu of %zu categorical columns (at most 12 "
	                         "levels) most associated with %s (Cramer's V; eda.fig_max_columns); eda.json has every "
	                         "column",
	                      e->fig_max, ngrid, e->target)))
		return st;
	if (nbig > e->fig_max)
		st = ch_eda_note(e, "figures: churn_rate_<column> is drawn for the %zu of %zu categorical columns with more "
		                    "than 12 levels most associated with %s (Cramer's V; eda.fig_max_columns); eda.json has "
		                    "every column",
		                 e->fig_max, nbig, e->target);
	return st;
}

/* Categoricals by Cramer's V (strongest first; undefined last), then by name. */
static int cmp_v_desc(const void *a, const void *b)
{
	const eda_cat *x = *(const eda_cat *const *)a, *y = *(const eda_cat *const *)b;
	double u = isfinite(x->cramers_v) ? x->cramers_v : -1, v = isfinite(y->cramers_v) ? y->cramers_v : -1;
	if (u != v)
		return u > v ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The nh histograms most correlated with the target (|r|; all of them when nh == nhist), in their order. */
static churn_status top_columns(const churn_eda *e, size_t nh, size_t *pick)
{
	if (nh >= e->nhist) {
		for (size_t i = 0; i < e->nhist; i++)
			pick[i] = i;
		return CHURN_OK;
	}
	rank_item *rk = malloc(e->nhist * sizeof *rk);
	if (!rk)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < e->nhist; i++)
		rk[i] = (rank_item){i, isnan(e->hists[i].r) ? -1 : fabs(e->hists[i].r)};
	qsort(rk, e->nhist, sizeof *rk, ch_eda_cmp_rank_desc);
	for (size_t i = 0; i < nh; i++)
		pick[i] = rk[i].i;
	qsort(pick, nh, sizeof *pick, ch_eda_cmp_size);
	free(rk);
	return CHURN_OK;
}

/* ---- correlation heatmap ---- */

static churn_status draw_heatmap(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	char *path = fig_path(dir, "correlation_heatmap", NULL);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_fig f = *fig;
	if (e->ncorr > 14 && f.height < f.width)
		f.height = f.width; /* many labels: a square canvas */
	char title[200];
	if (e->corr_reduced && e->corr_has_target)
		snprintf(title, sizeof title, "Pearson correlation: the %zu of %zu features most correlated with %s",
		         e->ncorr - 1, e->corr_total - 1, e->corr_names[e->ncorr - 1]);
	else if (e->corr_has_target)
		snprintf(title, sizeof title, "Pearson correlation of %zu features and %s", e->ncorr - 1,
		         e->corr_names[e->ncorr - 1]);
	else
		snprintf(title, sizeof title, "Pearson correlation of %zu%s features", e->ncorr,
		         e->corr_reduced ? " (the first)" : "");
	churn_status st = ch_plot_heatmap(path, &f, title, e->ncorr, (const char *const *)e->corr_names, e->corr);
	free(path);
	return st;
}

/* ---- histograms ---- */

/* The value axis label of a histogram: units for the tenure and charges columns. */
static char *hist_xlabel(const churn_eda *e, const char *name)
{
	if (strcmp(name, e->tenure_col) == 0)
		return ch_asprintf("%s (%s)", name, e->time_unit);
	if (strcmp(name, e->charges_col) == 0)
		return ch_asprintf("%s (currency units per month)", name);
	if (strstr(name, "Charges"))
		return ch_asprintf("%s (currency units)", name);
	return ch_strdup(name);
}

/* The nh panels' figure: two columns of panels past one, a row height of 9/16 of the figure's. */
static churn_status hist_figure(const churn_eda *e, const char *path, const ch_fig *fig, size_t nh,
                                const ch_hist_panel *P)
{
	static const char *const labels[2] = {"Retained", "Churned"};
	size_t ncols = nh >= 2 ? 2 : 1, nrows = (nh + ncols - 1) / ncols;
	ch_fig f = *fig;
	f.width = ncols == 2 ? fig->width * 3 / 2 : fig->width;
	f.height = 70 + (int)nrows * (fig->height * 9 / 16);
	if (f.height > 8000)
		f.height = 8000;
	char title[200];
	if (nh < e->nhist)
		snprintf(title, sizeof title, "Distribution by churn of the %zu of %zu numeric columns most correlated with %s",
		         nh, e->nhist, e->target);
	else
		snprintf(title, sizeof title, "Distribution of %zu numeric column%s by churn", nh, nh == 1 ? "" : "s");
	return ch_plot_hist_grid(path, &f, title, nh, ncols, P, labels);
}

/* One figure of small multiples, of at most fig_max columns (the most correlated with the target). */
static churn_status draw_histograms(const churn_eda *e, const char *dir, const ch_fig *fig, size_t nh)
{
	ch_hist_panel *P = calloc(nh, sizeof *P);
	char **xl = calloc(nh, sizeof *xl);
	size_t *pick = malloc(nh * sizeof *pick);
	char *path = fig_path(dir, "histogram_numeric_columns", NULL);
	churn_status st = P && xl && pick && path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = top_columns(e, nh, pick);
	for (size_t i = 0; !st && i < nh; i++) {
		const eda_hist *h = &e->hists[pick[i]];
		if (!(xl[i] = hist_xlabel(e, h->name)))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		P[i] = (ch_hist_panel){NULL, xl[i], "Customers (count)", h->nbins, h->edges, {h->retained, h->churned}};
	}
	if (!st)
		st = hist_figure(e, path, fig, nh, P);
	ch_eda_free_strv(xl, xl ? nh : 0);
	free(P);
	free(pick);
	free(path);
	return st;
}

/* ---- churn rate by level ---- */

/* Bars of one categorical, levels sorted by churn rate (highest first); title set by the caller. */
typedef struct cat_bars {
	size_t n;
	const char **labels, **annot;
	double *v, *lo, *hi;
	char (*abuf)[48];
	char *title;
} cat_bars;

static void cat_bars_free(cat_bars *cb)
{
	free(cb->labels);
	free(cb->annot);
	free(cb->v);
	free(cb->lo);
	free(cb->hi);
	free(cb->abuf);
	free(cb->title);
}

/* The bars of c with their 95% Wilson whiskers and "rate  (n = N)" (wide) or "rate  n=N" annotations. */
static churn_status cat_bars_fill(const eda_cat *c, bool wide, cat_bars *cb)
{
	size_t n = c->nlevels;
	rank_item *rk = malloc(n * sizeof *rk);
	cb->n = n;
	cb->labels = malloc(n * sizeof *cb->labels);
	cb->annot = malloc(n * sizeof *cb->annot);
	cb->v = malloc(n * sizeof *cb->v);
	cb->lo = malloc(n * sizeof *cb->lo);
	cb->hi = malloc(n * sizeof *cb->hi);
	cb->abuf = malloc(n * sizeof *cb->abuf);
	if (!rk || !cb->labels || !cb->annot || !cb->v || !cb->lo || !cb->hi || !cb->abuf) {
		free(rk);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t k = 0; k < n; k++)
		rk[k] = (rank_item){k, c->levels[k].rate};
	qsort(rk, n, sizeof *rk, ch_eda_cmp_rank_desc);
	for (size_t r = 0; r < n; r++) {
		const eda_level *L = &c->levels[rk[r].i];
		cb->labels[r] = L->value ? L->value : "(missing)";
		cb->v[r] = L->rate;
		cb->lo[r] = L->lo;
		cb->hi[r] = L->hi;
		char pc[32];
		pct1(pc, sizeof pc, L->rate);
		if (wide)
			snprintf(cb->abuf[r], sizeof cb->abuf[r], "%s  (n = %zu)", pc, L->count);
		else
			snprintf(cb->abuf[r], sizeof cb->abuf[r], "%s  n=%zu", pc, L->count);
		cb->annot[r] = cb->abuf[r];
	}
	free(rk);
	return CHURN_OK;
}

/* The panel of cb: rate bars with whiskers, dashed overall rate (ref_label: its legend text, may be NULL). */
static ch_hbar_panel cat_panel(const cat_bars *cb, const char *xlabel, double overall, const char *ref_label)
{
	return (ch_hbar_panel){cb->title, xlabel,   cb->n,   cb->labels, cb->v, cb->lo, cb->hi, cb->annot,
	                       overall,   ref_label, true, CH_COL_VERMILLION};
}

static double overall_rate(const churn_eda *e)
{
	return (double)e->positives / (double)e->labelled;
}

/* churn_rate_<column>: one categorical with many levels, a figure of its own. */
static churn_status draw_categorical(const churn_eda *e, const eda_cat *c, const char *dir, const ch_fig *fig)
{
	cat_bars cb = {0};
	char *path = fig_path(dir, "churn_rate_", c->name), *title = NULL, *reflab = NULL;
	double overall = overall_rate(e);
	char pv[32], cv[32], ov[32];
	pvalue_text(pv, sizeof pv, c->p_value);
	fixed2(cv, sizeof cv, c->cramers_v);
	pct1(ov, sizeof ov, overall);
	title = ch_asprintf("Churn rate by %s   (chi-square p %s%s, Cramér's V %s)", c->name,
	                    pv[0] == '<' ? "" : "= ", pv, cv);
	reflab = ch_asprintf("overall %s", ov);
	churn_status st = path && title && reflab ? cat_bars_fill(c, true, &cb) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		ch_hbar_panel P = cat_panel(&cb, "Churn rate (% of customers; whiskers: 95% Wilson interval)", overall,
		                            reflab);
		ch_fig f = *fig;
		size_t n = c->nlevels;
		if (n > 12)
			f.height = f.height > 300 + (int)n * 32 ? f.height : 300 + (int)n * 32;
		st = ch_plot_hbars(path, &f, title, 1, &P);
	}
	cat_bars_free(&cb);
	free(path);
	free(title);
	free(reflab);
	return st;
}

/* The grid's size: wider with more columns; about 36 px per bar, 80 px per row, 100 px for the titles. */
static ch_fig grid_fig(const ch_fig *fig, const ch_hbar_panel *P, size_t np, size_t ncols)
{
	size_t nrows = (np + ncols - 1) / ncols;
	ch_fig f = *fig;
	f.width = fig->width * (int)(ncols == 3 ? 3 : 5) / (ncols == 3 ? 2 : 4);
	if (ncols == 1)
		f.width = fig->width;
	int h = 100;
	for (size_t r = 0; r < nrows; r++) {
		size_t m = 0;
		for (size_t j = 0; j < ncols && r * ncols + j < np; j++)
			if (P[r * ncols + j].n > m)
				m = P[r * ncols + j].n;
		h += 80 + 36 * (int)m;
	}
	f.height = h < 400 ? 400 : h > 8000 ? 8000 : h;
	return f;
}

/* The np panels (of nall) in one figure, with its title and subtitle. */
static churn_status grid_figure(const churn_eda *e, const char *path, const ch_fig *fig, const ch_hbar_panel *P,
                                size_t np, size_t nall)
{
	char ov[32];
	pct1(ov, sizeof ov, overall_rate(e));
	char *sub = ch_asprintf("Churn rate per level (%% of customers, 95%% Wilson interval, n customers); dashed: "
	                        "overall %s; panels by Cramér's V",
	                        ov);
	if (!sub)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t ncols = np >= 5 ? 3 : np >= 2 ? 2 : 1;
	ch_fig f = grid_fig(fig, P, np, ncols);
	char title[200];
	if (np < nall)
		snprintf(title, sizeof title, "Churn rate by level: the %zu of %zu categorical columns most associated with "
		         "%s (n = %zu)", np, nall, e->target, e->labelled);
	else
		snprintf(title, sizeof title, "Churn rate by level of %zu categorical columns (n = %zu)", np, e->labelled);
	churn_status st = ch_plot_hbar_grid(path, &f, title, sub, np, ncols, P);
	free(sub);
	return st;
}

/* The categoricals of at most CH_EDA_GRID_MAX_LEVELS levels, strongest first, into order; their count. */
static size_t grid_columns(const churn_eda *e, const eda_cat **order)
{
	size_t k = 0;
	for (size_t i = 0; i < e->ncat; i++)
		if (in_grid(&e->cats[i]))
			order[k++] = &e->cats[i];
	qsort(order, k, sizeof *order, cmp_v_desc);
	return k;
}

/* churn_rate_categories: small multiples of at most fig_max categoricals (eda.json has them all, and a note). */
static churn_status draw_categorical_grid(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	size_t nall = 0;
	for (size_t i = 0; i < e->ncat; i++)
		nall += in_grid(&e->cats[i]);
	if (!nall)
		return CHURN_OK;
	size_t np = nall > e->fig_max ? e->fig_max : nall;
	const eda_cat **order = malloc(nall * sizeof *order);
	cat_bars *cb = calloc(np, sizeof *cb);
	ch_hbar_panel *P = calloc(np, sizeof *P);
	char *path = fig_path(dir, "churn_rate_categories", NULL);
	churn_status st = order && cb && P && path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		grid_columns(e, order);
	double overall = overall_rate(e);
	for (size_t k = 0; !st && k < np; k++) {
		const eda_cat *c = order[k];
		char pv[32], cv[32];
		pvalue_text(pv, sizeof pv, c->p_value);
		fixed2(cv, sizeof cv, c->cramers_v);
		cb[k].title = ch_asprintf("%s   (V %s, p %s%s)", c->name, cv, pv[0] == '<' ? "" : "= ", pv);
		st = cb[k].title ? cat_bars_fill(c, false, &cb[k]) : ch_fail(CHURN_E_NOMEM, "out of memory");
		P[k] = cat_panel(&cb[k], NULL, overall, NULL);
	}
	if (!st)
		st = grid_figure(e, path, fig, P, np, nall);
	for (size_t i = 0; cb && i < np; i++)
		cat_bars_free(&cb[i]);
	free(cb);
	free(P);
	free(order);
	free(path);
	return st;
}

/* churn_rate_<column> for at most fig_max categoricals of many levels (strongest association first). */
static churn_status draw_big_categoricals(const churn_eda *e, const char *dir, const ch_fig *fig,
                                          const churn_params *p, uint64_t *done, uint64_t total)
{
	size_t nbig = 0;
	for (size_t i = 0; i < e->ncat; i++)
		nbig += e->cats[i].nlevels > CH_EDA_GRID_MAX_LEVELS;
	if (!nbig)
		return CHURN_OK;
	const eda_cat **big = malloc(nbig * sizeof *big);
	if (!big)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < e->ncat; i++)
		if (e->cats[i].nlevels > CH_EDA_GRID_MAX_LEVELS)
			big[k++] = &e->cats[i];
	if (nbig > e->fig_max) {
		qsort(big, nbig, sizeof *big, cmp_v_desc);
		nbig = e->fig_max;
	}
	churn_status st = CHURN_OK;
	for (k = 0; k < nbig && !st; k++) {
		st = draw_categorical(e, big[k], dir, fig);
		if (!st && !ch_progress(p, "figures", ++*done, total))
			st = ch_fail(CHURN_E_STATE, "eda figures: cancelled");
	}
	free(big);
	return st;
}

/* ---- importance ---- */

static churn_status draw_importance(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	size_t n = e->nimp, ncomp = 0;
	for (size_t i = 0; e->imp_perm && i < n; i++)
		ncomp += !isnan(e->imp_perm[i]);
	/* the permutation importance ranks, over the columns it was computed for (eda.importance_max_columns) */
	const double *perm = ncomp ? e->imp_perm : NULL;
	size_t top = perm ? (ncomp < 20 ? ncomp : 20) : (n < 20 ? n : 20);
	churn_status st = CHURN_OK;
	rank_item *rk = malloc(n * sizeof *rk);
	const char **labels = malloc(top * sizeof *labels);
	double *a = malloc(top * sizeof *a), *b = malloc(top * sizeof *b);
	char *path = fig_path(dir, "feature_importance", NULL);
	if (!rk || !labels || !a || !b || !path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	const double *key = perm ? perm : e->imp_impurity;
	for (size_t i = 0; i < n; i++) /* not computed (NaN) last */
		rk[i] = (rank_item){i, isnan(key[i]) ? -INFINITY : key[i]};
	qsort(rk, n, sizeof *rk, ch_eda_cmp_rank_desc);
	for (size_t r = 0; r < top; r++) {
		labels[r] = e->imp_names[rk[r].i];
		if (e->imp_impurity)
			a[r] = e->imp_impurity[rk[r].i];
		if (perm)
			b[r] = perm[rk[r].i];
	}
	ch_hbar_panel P[2];
	size_t np = 0;
	if (e->imp_impurity)
		P[np++] = (ch_hbar_panel){"Impurity (mean decrease in Gini)", "Share of total impurity decrease", top,
		                          labels, a, NULL, NULL, NULL, NAN, NULL, false, CH_COL_BLUE};
	if (perm)
		P[np++] = (ch_hbar_panel){"Permutation", "Drop in ROC AUC when the column is shuffled",
		                          top, labels, b, NULL, NULL, NULL, NAN, NULL, false, CH_COL_ORANGE};
	char title[160];
	if (perm && ncomp < n)
		snprintf(title, sizeof title, "Random-forest importance (top %zu of %zu, sorted by permutation, computed for "
		         "the %zu of highest impurity)", top, n, ncomp);
	else
		snprintf(title, sizeof title, "Random-forest importance (top %zu of %zu, sorted by %s)", top, n,
		         perm ? "permutation" : "impurity");
	st = ch_plot_hbars(path, fig, title, np, P);
out:
	free(rk);
	free(labels);
	free(a);
	free(b);
	free(path);
	return st;
}

/* ---- Kaplan-Meier ---- */

/* The points of one curve as drawn: starting at (0, 1), bands where defined (else the curve). */
typedef struct km_points {
	double *x, *y, *lo, *hi;
	char *label;
} km_points;

static void km_points_free(km_points *k)
{
	free(k->x);
	free(k->y);
	free(k->lo);
	free(k->hi);
	free(k->label);
}

/* Legend text of curve c: "All customers (n = N, median M <unit>)" or "<segment>: median M <unit>". */
static char *km_label(const km_curve *c, const char *unit_name)
{
	char med[48];
	if (isfinite(c->median)) {
		fixed2(med, sizeof med, c->median);
		char *dot = strstr(med, ".00");
		if (dot)
			*dot = '\0';
	} else {
		snprintf(med, sizeof med, "not reached");
	}
	const char *sp = isfinite(c->median) ? " " : "", *unit = isfinite(c->median) ? unit_name : "";
	if (!c->segment)
		return ch_asprintf("All customers (n = %zu, median %s%s%s)", c->n, med, sp, unit);
	return ch_asprintf("%s: median %s%s%s", c->segment, med, sp, unit);
}

/* The points of c into *k; *tmax raised to its last time. */
static churn_status km_points_fill(const km_curve *c, const char *unit, km_points *k, double *tmax)
{
	size_t m = c->m + 1;
	k->x = malloc(m * sizeof *k->x);
	k->y = malloc(m * sizeof *k->y);
	k->lo = malloc(m * sizeof *k->lo);
	k->hi = malloc(m * sizeof *k->hi);
	k->label = km_label(c, unit);
	if (!k->x || !k->y || !k->lo || !k->hi || !k->label)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	k->x[0] = c->m && c->time[0] < 0 ? c->time[0] : 0;
	k->y[0] = k->lo[0] = k->hi[0] = 1;
	for (size_t i = 0; i < c->m; i++) {
		k->x[i + 1] = c->time[i];
		k->y[i + 1] = c->surv[i];
		k->lo[i + 1] = isfinite(c->lo[i]) ? c->lo[i] : c->surv[i];
		k->hi[i + 1] = isfinite(c->hi[i]) ? c->hi[i] : c->surv[i];
		if (c->time[i] > *tmax)
			*tmax = c->time[i];
	}
	return CHURN_OK;
}

/*
 * Two panels over ns series, the first the overall curve: all customers
 * (titled overall, the overall curve's label) and, when there are segment
 * curves, by segment.
 */
static churn_status km_figure(const churn_eda *e, const char *path, const ch_fig *fig, const ch_line_series *ser,
                              size_t ns, double tmax, const char *overall)
{
	double ymin = 1;
	for (size_t s = 0; s < ns; s++)
		for (size_t i = 0; i < ser[s].n; i++)
			if (ser[s].lo[i] < ymin)
				ymin = ser[s].lo[i];
	ymin = floor(ymin * 10) / 10 - 0.05;
	if (ymin < 0)
		ymin = 0;
	char xl[160], yl[] = "Share of customers retained", t2[160], title[256];
	snprintf(xl, sizeof xl, "%s (%s)", e->tenure_col, e->time_unit);
	snprintf(t2, sizeof t2, "By %s", e->segment_col);
	ch_line_panel P[2] = {
		{overall, xl, yl, 0, tmax, ymin, 1.01, true, 1, ser, 2},
		{t2, xl, yl, 0, tmax, ymin, 1.01, true, ns - 1, ser + 1, 2},
	};
	snprintf(title, sizeof title, "Kaplan-Meier retention over %s (event: churn; shaded: 95%% %s band)",
	         e->tenure_col, strcmp(e->band, "plain") == 0 ? "Greenwood" : "log-log");
	return ch_plot_lines(path, fig, title, e->nkm_seg ? 2 : 1, P);
}

/* km_retention: the overall curve, and the segment curves beside it. */
static churn_status draw_km(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	size_t ns = 1 + e->nkm_seg;
	char *path = fig_path(dir, "km_retention", NULL);
	ch_line_series *ser = calloc(ns, sizeof *ser);
	km_points *pts = calloc(ns, sizeof *pts);
	churn_status st = path && ser && pts ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	double tmax = 1;
	for (size_t s = 0; !st && s < ns; s++) {
		const km_curve *c = s == 0 ? &e->km_all : &e->km_seg[s - 1];
		if ((st = km_points_fill(c, e->time_unit, &pts[s], &tmax)))
			break;
		/* the overall curve's label is its panel's title, not a legend entry */
		ser[s] = (ch_line_series){s == 0 ? NULL : pts[s].label, pts[s].x, pts[s].y, c->m + 1, pts[s].lo, pts[s].hi,
		                          true, false, s == 0 ? CH_COL_BLUE : ch_plot_series_color(s - 1)};
	}
	if (!st)
		st = km_figure(e, path, fig, ser, ns, tmax, pts[0].label);
	for (size_t s = 0; pts && s < ns; s++)
		km_points_free(&pts[s]);
	free(pts);
	free(ser);
	free(path);
	return st;
}

/* ---- revenue at risk ---- */

/* The bars of revenue_at_risk: one per segment (or one for all customers), with their annotations. */
typedef struct rev_bars {
	size_t n;
	const char **labels, **a1, **a2;
	double *rev, *cust;
	char (*b1)[112], (*b2)[112];
} rev_bars;

static void rev_bars_free(rev_bars *rb)
{
	free(rb->labels);
	free(rb->a1);
	free(rb->a2);
	free(rb->rev);
	free(rb->cust);
	free(rb->b1);
	free(rb->b2);
}

/* Bar k: revenue at risk "x (share)" and customers at risk "r of c (share)". */
static void rev_bar(const churn_eda *e, size_t k, rev_bars *rb)
{
	const rev_seg *s = e->rev_nseg ? &e->rev_segs[k] : NULL;
	size_t c = s ? s->customers : e->rev_customers, r = s ? s->at_risk : e->rev_at_risk;
	double tot = s ? s->revenue : e->rev_total, rr = s ? s->revenue_at_risk : e->rev_at_risk_sum;
	rb->labels[k] = s ? (s->segment ? s->segment : "(missing)") : "All customers";
	rb->rev[k] = rr;
	rb->cust[k] = (double)r;
	char x[32], y[32], pc[32];
	thousands(x, sizeof x, rr);
	pct1(pc, sizeof pc, tot > 0 ? rr / tot : NAN);
	snprintf(rb->b1[k], sizeof rb->b1[k], "%s (%s)", x, pc);
	thousands(x, sizeof x, (double)r);
	thousands(y, sizeof y, (double)c);
	pct1(pc, sizeof pc, c ? (double)r / (double)c : NAN);
	snprintf(rb->b2[k], sizeof rb->b2[k], "%s of %s (%s)", x, y, pc);
	rb->a1[k] = rb->b1[k];
	rb->a2[k] = rb->b2[k];
}

static churn_status rev_bars_fill(const churn_eda *e, rev_bars *rb)
{
	size_t n = rb->n = e->rev_nseg ? e->rev_nseg : 1;
	rb->labels = malloc(n * sizeof *rb->labels);
	rb->a1 = malloc(n * sizeof *rb->a1);
	rb->a2 = malloc(n * sizeof *rb->a2);
	rb->rev = malloc(n * sizeof *rb->rev);
	rb->cust = malloc(n * sizeof *rb->cust);
	rb->b1 = malloc(n * sizeof *rb->b1);
	rb->b2 = malloc(n * sizeof *rb->b2);
	if (!rb->labels || !rb->a1 || !rb->a2 || !rb->rev || !rb->cust || !rb->b1 || !rb->b2)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < n; k++)
		rev_bar(e, k, rb);
	return CHURN_OK;
}

/* revenue_at_risk: revenue and customers at risk per segment, side by side. */
static churn_status draw_revenue(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	rev_bars rb = {0};
	char x[32], y[32], pc[32], th[32];
	thousands(x, sizeof x, e->rev_at_risk_sum);
	thousands(y, sizeof y, e->rev_total);
	pct1(pc, sizeof pc, e->rev_total > 0 ? e->rev_at_risk_sum / e->rev_total : NAN);
	fixed2(th, sizeof th, e->rev_threshold);
	const char *by = e->rev_nseg ? e->segment_col : "customer";
	char *path = fig_path(dir, "revenue_at_risk", NULL);
	char *title = ch_asprintf("Revenue at risk: %s of %s a month (%s) scored above %s", x, y, pc, th);
	char *t1 = ch_asprintf("Monthly revenue at risk by %s (share)", by);
	char *t2 = ch_asprintf("Customers at risk by %s", by);
	churn_status st = path && title && t1 && t2 ? rev_bars_fill(e, &rb) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		char xl[200];
		snprintf(xl, sizeof xl, "Currency units per month (sum of %s)", e->charges_col);
		ch_hbar_panel P[2] = {
			{t1, xl, rb.n, rb.labels, rb.rev, NULL, NULL, rb.a1, NAN, NULL, false, CH_COL_VERMILLION},
			{t2, "Customers scored above the threshold", rb.n, rb.labels, rb.cust, NULL, NULL, rb.a2, NAN, NULL,
			 false, CH_COL_BLUE},
		};
		st = ch_plot_hbars(path, fig, title, 2, P);
	}
	rev_bars_free(&rb);
	free(path);
	free(title);
	free(t1);
	free(t2);
	return st;
}

churn_status churn_eda_draw_revenue(const churn_eda *e, const char *dir, const churn_params *p)
{
	if (!e || !dir)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_draw_revenue: NULL argument");
	if (!e->has_rev || !churn_params_get_bool(p, CHURN_KEY_EDA_FIGURES))
		return CHURN_OK;
	churn_status st = ch_plot_check_dir(dir);
	if (st)
		return st;
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	if ((st = draw_revenue(e, dir, &fig)))
		return st;
	ch_clear_error();
	return CHURN_OK;
}

/* ---- all of them ---- */

churn_status churn_eda_draw_figures(const churn_eda *e, const char *dir, const churn_params *p)
{
	if (!e || !dir)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_draw_figures: NULL argument");
	if (!churn_params_get_bool(p, CHURN_KEY_EDA_FIGURES))
		return CHURN_OK;
	churn_status st = ch_plot_check_dir(dir);
	if (st)
		return st;
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	size_t nh = e->nhist < e->fig_max ? e->nhist : e->fig_max;
	uint64_t total = 3 + (e->ncat < e->fig_max ? e->ncat : e->fig_max) + nh, done = 0;
	if (e->ncorr >= 2 && (st = draw_heatmap(e, dir, &fig)))
		return st;
	ch_progress(p, "figures", ++done, total);
	if (nh) {
		if ((st = draw_histograms(e, dir, &fig, nh)))
			return st;
		done += nh;
		if (!ch_progress(p, "figures", done, total))
			return ch_fail(CHURN_E_STATE, "eda figures: cancelled");
	}
	if ((st = draw_categorical_grid(e, dir, &fig)) || (st = draw_big_categoricals(e, dir, &fig, p, &done, total)))
		return st;
	if (e->nimp && (st = draw_importance(e, dir, &fig)))
		return st;
	ch_progress(p, "figures", ++done, total);
	if ((e->has_km && (st = draw_km(e, dir, &fig))) || (e->has_rev && (st = draw_revenue(e, dir, &fig))))
		return st;
	ch_progress(p, "figures", total, total);
	ch_clear_error();
	return CHURN_OK;
}
