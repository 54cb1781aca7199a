/*
 * Customer value and the retention list (churn/retention.h): computed by
 * churn_train from its Cox model (ch_retention_compute, train-private.h),
 * the profit curves, the getters. retention-report.c writes the list (CSV,
 * JSON) and the summary; retention-figures.c the risk tiers and the figures.
 */
#include "churn/retention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf-private.h"
#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "retention-private.h"
#include "train-private.h"

#define NFIELDS 8

/* ------------------------------------------------------------------ */
/* The profit curve                                                     */

struct ranked {
	double key;
	size_t i;
};

static int by_key_desc(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

churn_status churn_retention_profit_curve(const double *profit, const double *key, size_t n, size_t *out_order,
                                          double *out_cum)
{
	if (!out_cum || (n && (!profit || !key)))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_retention_profit_curve: NULL argument");
	for (size_t i = 0; i < n; i++)
		if (!isfinite(profit[i]) || !isfinite(key[i]))
			return ch_fail(CHURN_E_NUMERIC, "churn_retention_profit_curve: customer %zu has a non-finite %s", i,
			               isfinite(profit[i]) ? "key" : "profit");
	struct ranked *r = malloc((n ? n : 1) * sizeof(*r));
	if (!r)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		r[i] = (struct ranked){key[i], i};
	qsort(r, n, sizeof(*r), by_key_desc);
	out_cum[0] = 0;
	for (size_t k = 0; k < n; k++) {
		out_cum[k + 1] = out_cum[k] + profit[r[k].i];
		if (out_order)
			out_order[k] = r[k].i;
	}
	free(r);
	return CHURN_OK;
}

size_t churn_retention_best_count(const double *cum, size_t n)
{
	size_t best = 0;
	for (size_t k = 1; cum && k <= n; k++)
		if (cum[k] > cum[best])
			best = k;
	return best;
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

/* retention.horizons: up to CH_RETENTION_MAX_HORIZONS positive numbers of months, comma-separated. */
static churn_status parse_horizons(const char *list, struct ch_retention_opts *o)
{
	o->nh = 0;
	for (const char *s = list; *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		char *end = NULL;
		double h = strtod(s, &end); /* digits and a point only: checked below, so no locale surprise */
		if (end == s || !(h > 0 && h <= 1e6) || o->nh == CH_RETENTION_MAX_HORIZONS)
			return ch_fail(CHURN_E_INVALID_ARG, "retention.horizons: '%.40s' is not a list of at most %d positive "
			                                    "numbers of months", list, CH_RETENTION_MAX_HORIZONS);
		for (const char *q = s; q < end; q++)
			if (!((*q >= '0' && *q <= '9') || *q == '.'))
				return ch_fail(CHURN_E_INVALID_ARG, "retention.horizons: '%.40s' is not a list of numbers", list);
		o->horizons[o->nh++] = h;
		s = end;
	}
	return CHURN_OK;
}

static churn_status read_options(const churn_params *p, const ch_cox_training *c, struct ch_retention_opts *o)
{
	o->horizon = c->horizon;
	o->rate = churn_params_get_double(p, CHURN_KEY_RETENTION_DISCOUNT_RATE);
	o->cost = churn_params_get_double(p, CHURN_KEY_RETENTION_OFFER_COST);
	o->success = churn_params_get_double(p, CHURN_KEY_RETENTION_OFFER_SUCCESS);
	o->budget = churn_params_get_double(p, CHURN_KEY_RETENTION_BUDGET);
	o->top = (size_t)churn_params_get_int(p, CHURN_KEY_RETENTION_TOP_REASONS);
	const char *miss = churn_params_get_str(p, CHURN_KEY_RETENTION_MISSING_CHARGES);
	if (strcmp(miss, "note") && strcmp(miss, "error"))
		return ch_fail(CHURN_E_INVALID_ARG, "retention.missing_charges: '%.40s' is not note or error", miss);
	o->charges_required = strcmp(miss, "error") == 0;
	return parse_horizons(churn_params_get_str(p, CHURN_KEY_RETENTION_HORIZONS), o);
}

/* ------------------------------------------------------------------ */
/* Value                                                                */

double ch_retention_discount_integral(double rate, double a, double b)
{
	if (rate <= 0)
		return b - a;
	double l = log1p(rate);
	return (exp(-l * a) - exp(-l * b)) / l;
}

/*
 * The discounted restricted mean remaining time: the integral of S(t0 + u | T > t0) (1 + rate)^-u over
 * (0, horizon], S a step function of the baseline's times: exp(-(H0(t) - H0(t0)) exp(lp)).
 */
double ch_retention_discounted_rmst(const churn_cox *m, double lp, double t0, double horizon, double rate)
{
	double risk = exp(lp), h0 = 0, u = 0, s = 1, sum = 0;
	size_t nb = churn_cox_get_baseline_count(m);
	for (size_t k = 0; k < nb; k++) {
		double bt, bh;
		if (churn_cox_get_baseline(m, k, &bt, &bh))
			break;
		if (bt <= t0) {
			h0 = bh;
			continue;
		}
		if (bt - t0 >= horizon)
			break;
		sum += s * ch_retention_discount_integral(rate, u, bt - t0);
		u = bt - t0;
		s = exp(-(bh - h0) * risk);
	}
	return sum + s * ch_retention_discount_integral(rate, u, horizon);
}

/* ------------------------------------------------------------------ */
/* Reasons                                                              */

struct contrib {
	double v;
	size_t col;
};

static int by_contrib_desc(const void *a, const void *b)
{
	const struct contrib *x = a, *y = b;
	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/* Customer row's reasons: raw columns (prep columns) by the sum of coef x (x - center) of their features. */
static char *reasons_of(const ch_retention_ctx *x, const double *row, size_t drow, struct contrib *buf)
{
	const churn_prep *prep = x->prep;
	for (size_t k = 0; k < prep->ncols; k++)
		buf[k] = (struct contrib){0, k};
	for (size_t j = 0; j < x->nfeat; j++)
		buf[x->featcol[j]].v += churn_cox_get_coef(x->cox, j) * (row[j] - churn_cox_get_center(x->cox, j));
	qsort(buf, prep->ncols, sizeof(*buf), by_contrib_desc);
	ch_buf b = {0};
	ch_buf_puts(&b, "");
	for (size_t k = 0, shown = 0; k < prep->ncols && shown < x->o.top; k++) {
		if (!(buf[k].v > 0.005))
			break; /* only what raises the hazard, and visibly (two decimals) */
		const char *name = prep->cols[buf[k].col].name;
		size_t dj;
		char cell[64], num[32];
		const char *val = churn_dataset_find_col(x->dw, name, &dj) == CHURN_OK
		                      ? churn_dataset_get_cell_text(x->dw, dj, drow, cell, sizeof(cell))
		                      : NULL;
		num[0] = '+';
		ch_format_double_short(num + 1, sizeof(num) - 1, round(buf[k].v * 100) / 100);
		if (shown++)
			ch_buf_puts(&b, "; ");
		ch_buf_puts(&b, name);
		ch_buf_puts(&b, " = ");
		ch_buf_puts(&b, val ? val : "(missing)");
		ch_buf_puts(&b, " (");
		ch_buf_puts(&b, num);
		ch_buf_puts(&b, ")");
	}
	ch_clear_error();
	return ch_buf_take(&b);
}

/* ------------------------------------------------------------------ */
/* The list                                                             */

void churn_retention_free(churn_retention *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->c[i].id);
		free(r->c[i].reasons);
	}
	free(r->c);
	free(r->cum[0]);
	free(r->cum[1]);
	free(r->tier_curve);
	free(r->grid);
	free(r->charges_col);
	free(r->time_col);
	free(r->prob_source);
	free(r);
}

/* The current customers of dw with a time and a charge: r->c (unsorted), their rows in *rows. */
static churn_status pick_customers(ch_retention_ctx *x, churn_retention *r, size_t **rows)
{
	const ch_cox_input *in = x->in;
	size_t n = 0, skipped = 0;
	*rows = malloc((in->n ? in->n : 1) * sizeof(size_t));
	r->c = calloc(in->n ? in->n : 1, sizeof(*r->c));
	if (!*rows || !r->c)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < in->n; i++) {
		if (in->y[i])
			continue;
		double t = x->time[i], ch = x->charge[i];
		if (churn_dataset_is_missing(in->dw, x->tj, i) || churn_dataset_is_missing(in->dw, x->cj, i) ||
		    !isfinite(t) || t < 0 || !isfinite(ch)) {
			skipped++;
			continue;
		}
		(*rows)[n] = i;
		r->c[n].row = i;
		r->c[n].f[CHURN_RETENTION_TIME] = t;
		r->c[n].f[CHURN_RETENTION_CHARGE] = ch;
		n++;
	}
	r->n = n;
	if (skipped)
		return ch_cox_note(x->c, "retention: %zu current customers without a usable '%s' or '%s' left out", skipped,
		                   r->time_col, r->charges_col);
	return CHURN_OK;
}

/* The customer's id: the first ID column's text, else the row number. */
static char *id_of(const ch_retention_ctx *x, size_t drow)
{
	char buf[64];
	const char *s = NULL;
	size_t j;
	if (churn_prep_get_id_count(x->prep) &&
	    churn_dataset_find_col(x->in->dw, churn_prep_get_id(x->prep, 0), &j) == CHURN_OK)
		s = churn_dataset_get_cell_text(x->in->dw, j, drow, buf, sizeof(buf));
	ch_clear_error();
	return s ? ch_strdup(s) : ch_asprintf("%zu", drow + 1);
}

/* Months remaining, value, loss, profit, probability, reasons of every customer of r. */
static churn_status value_customers(ch_retention_ctx *x, churn_retention *r, const churn_matrix *X, const double *prob)
{
	size_t n = r->n;
	double *t0 = malloc((n ? n : 1) * sizeof(double)), *med = malloc((n ? n : 1) * sizeof(double));
	double *rmst = malloc((n ? n : 1) * sizeof(double)), *lp = malloc((n ? n : 1) * sizeof(double));
	bool *beyond = malloc(n ? n : 1);
	struct contrib *cb = malloc((x->prep->ncols ? x->prep->ncols : 1) * sizeof(*cb));
	size_t got = 0;
	churn_status st = t0 && med && rmst && lp && beyond && cb ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < n; i++)
		t0[i] = r->c[i].f[CHURN_RETENTION_TIME];
	if (!st)
		st = churn_cox_remaining(x->cox, X, t0, x->o.horizon, med, beyond, rmst);
	if (!st)
		st = churn_cox_linear_predictor(x->cox, X, lp, n, &got);
	double full = ch_retention_discount_integral(x->o.rate, 0, x->o.horizon);
	for (size_t i = 0; !st && i < n; i++) {
		struct ch_retention_customer *c = &r->c[i];
		double ch = c->f[CHURN_RETENTION_CHARGE];
		double months = x->o.rate > 0 ? ch_retention_discounted_rmst(x->cox, lp[i], t0[i], x->o.horizon, x->o.rate) : rmst[i];
		c->lp = lp[i];
		c->f[CHURN_RETENTION_MONTHS_REMAINING] = beyond[i] ? NAN : med[i];
		c->f[CHURN_RETENTION_RMST] = rmst[i];
		c->f[CHURN_RETENTION_VALUE] = ch * months;
		c->f[CHURN_RETENTION_LOSS] = ch * (full - months);
		c->f[CHURN_RETENTION_PROFIT] = x->o.success * c->f[CHURN_RETENTION_LOSS] - x->o.cost;
		for (size_t h = 0; h < x->o.nh; h++) /* revenue at risk's horizons (pipeline-revenue.c) */
			c->hloss[h] = ch * (ch_retention_discount_integral(x->o.rate, 0, x->o.horizons[h]) -
			                    ch_retention_discounted_rmst(x->cox, lp[i], t0[i], x->o.horizons[h], x->o.rate));
		if (prob) {
			c->f[CHURN_RETENTION_PROBABILITY] = prob[c->row];
		} else {
			double s1 = 1, tt = t0[i] + 1;
			st = churn_cox_conditional_survival(x->cox, churn_matrix_get_row(X, i), x->nfeat, t0[i], &tt, 1, &s1);
			c->f[CHURN_RETENTION_PROBABILITY] = 1 - s1;
		}
		if (!st && (!(c->id = id_of(x, c->row)) ||
		            !(c->reasons = reasons_of(x, churn_matrix_get_row(X, i), c->row, cb))))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	free(t0), free(med), free(rmst), free(lp), free(beyond), free(cb);
	return st;
}

static int by_profit_desc(const void *a, const void *b)
{
	const struct ch_retention_customer *x = a, *y = b;
	double px = x->f[CHURN_RETENTION_PROFIT], py = y->f[CHURN_RETENTION_PROFIT];
	if (px != py)
		return px > py ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* The two profit curves (the list is sorted by profit already: its curve is the running sum). */
static churn_status curves(churn_retention *r)
{
	size_t n = r->n;
	double *profit = malloc((n ? n : 1) * sizeof(double)), *key = malloc((n ? n : 1) * sizeof(double));
	r->cum[0] = malloc((n + 1) * sizeof(double));
	r->cum[1] = malloc((n + 1) * sizeof(double));
	churn_status st = profit && key && r->cum[0] && r->cum[1] ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < n; i++) {
		profit[i] = r->c[i].f[CHURN_RETENTION_PROFIT];
		key[i] = r->c[i].f[CHURN_RETENTION_PROBABILITY];
	}
	if (!st)
		st = churn_retention_profit_curve(profit, profit, n, NULL, r->cum[0]);
	if (!st)
		st = churn_retention_profit_curve(profit, key, n, NULL, r->cum[1]);
	free(profit);
	free(key);
	return st;
}

churn_status ch_retention_compute(const ch_cox_input *in, ch_cox_training *c, const double *prob,
                                  const char *prob_source, const churn_params *p, churn_retention **out)
{
	*out = NULL;
	ch_retention_ctx x = {.in = in, .c = c, .prep = in->prep, .cox = c->cox, .nfeat = c->nfeat, .dw = in->dw};
	churn_status st = read_options(p, c, &x.o);
	if (st || !c->cox)
		return st;
	const char *want = churn_params_get_str(p, CHURN_KEY_RETENTION_CHARGES_COL);
	const char *name = ch_dataset_resolve_name(in->dw, want);
	if (churn_dataset_find_col(in->dw, name, &x.cj) != CHURN_OK ||
	    churn_dataset_get_col_type(in->dw, x.cj) != CHURN_COL_NUMERIC) {
		if (x.o.charges_required)
			return ch_fail(CHURN_E_NOTFOUND, "retention: no numeric charges column '%s' (retention.charges_col; "
			                                 "retention.missing_charges is error)", want);
		return ch_cox_note(c, "retention: skipped: no numeric charges column '%s' (set retention.charges_col): no "
		                      "value columns, no retention list", want);
	}
	x.charge = churn_dataset_get_numeric(in->dw, x.cj);
	x.time = ch_cox_times(c, in->dw, &x.tj);
	churn_retention *r = calloc(1, sizeof(*r));
	size_t *rows = NULL;
	churn_matrix *X = NULL;
	if (!r || !(r->charges_col = ch_strdup(name)) || !(r->time_col = ch_strdup(c->time_col)) ||
	    !(r->prob_source = ch_strdup(prob_source))) {
		churn_retention_free(r);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	r->o = x.o;
	if (!(x.featcol = ch_retention_feature_columns(x.prep, c->feat, c->nfeat)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = pick_customers(&x, r, &rows);
	if (!st)
		st = ch_cox_design(c, in->prep, in->dw, rows, r->n, &X);
	if (!st)
		st = value_customers(&x, r, X, prob);
	if (!st)
		st = ch_retention_tiers(r, x.cox, X);
	if (!st) {
		qsort(r->c, r->n, sizeof(*r->c), by_profit_desc);
		st = curves(r);
	}
	churn_matrix_free(X);
	free(rows);
	free(x.featcol);
	if (st) {
		churn_retention_free(r);
		return st;
	}
	*out = r;
	return CHURN_OK;
}

size_t *ch_retention_feature_columns(const churn_prep *prep, const size_t *feat, size_t nfeat)
{
	size_t *fc = malloc((nfeat ? nfeat : 1) * sizeof(size_t));
	for (size_t j = 0; fc && j < nfeat; j++)
		for (size_t k = 0; k < prep->ncols; k++)
			if (feat[j] >= prep->cols[k].feat0 && feat[j] < prep->cols[k].feat0 + prep->cols[k].nfeat)
				fc[j] = k;
	return fc;
}

/* ------------------------------------------------------------------ */
/* Getters                                                              */

size_t churn_retention_get_count(const churn_retention *r)
{
	return r ? r->n : 0;
}

const char *churn_retention_get_id(const churn_retention *r, size_t i)
{
	return r && i < r->n ? r->c[i].id : NULL;
}

double churn_retention_get(const churn_retention *r, size_t i, churn_retention_field f)
{
	return r && i < r->n && (unsigned)f < NFIELDS ? r->c[i].f[f] : NAN;
}

const char *churn_retention_get_reasons(const churn_retention *r, size_t i)
{
	return r && i < r->n ? r->c[i].reasons : NULL;
}

const double *churn_retention_get_curve(const churn_retention *r, churn_retention_ranking ranking, size_t *out_n)
{
	bool ok = r && (ranking == CHURN_RETENTION_BY_PROFIT || ranking == CHURN_RETENTION_BY_PROBABILITY);
	if (out_n)
		*out_n = ok ? r->n + 1 : 0;
	return ok ? r->cum[ranking] : NULL;
}
