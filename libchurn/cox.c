/*
 * The Cox proportional-hazards fit: lifetime, getters and Newton-Raphson on
 * Efron's log partial likelihood, step for step as R's coxph (survival's
 * coxfit6: start at zero, halve the step while the likelihood falls, stop at
 * a relative change of cox.tol), with the Newton systems solved by GSL's
 * Cholesky decomposition. Rows are sorted by time, descending, and centered
 * once; risk sets are then running sums.
 *
 * The information matrix is sum over event times of the Efron-weighted
 * covariance of the risk set. Its second-moment part is rewritten as
 * sum_j c_j w_j x_j x_j' (c_j: the sum of 1/S0 over the event times whose
 * risk set holds row j, Efron-adjusted for j's own death), one pass of
 * O(n p^2) split into at most 16 blocks of rows (fixed by the row count) on
 * cox.n_threads threads and summed in block order, so the model does not
 * depend on the thread count.
 */
#include "churn/survival.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "core-private.h"
#include "cox-private.h"
#include "thread-private.h"

#define ALIAS_TOL 1.8189894035458617e-12 /* R's toler.chol: .Machine$double.eps^0.75 */
#define CHUNK_ROWS 8192 /* fewest rows per block of the information's second moments */
#define MAX_BLOCKS 16    /* at most this many blocks (p x p sums each), whatever the rows */
#define MAX_HALVINGS 60

/* ---- GSL error handler: off once per process (as logreg.c; documented in churn/model.h) ---- */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
static void gsl_handler_off(void)
{
	gsl_set_error_handler_off();
}

/* ------------------------------------------------------------ lifetime */

churn_cox *ch_cox_alloc(size_t p, size_t nbase)
{
	churn_cox *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->p = p;
	m->nbase = nbase;
	m->names = calloc(p ? p : 1, sizeof *m->names);
	m->coef = calloc(p ? p : 1, sizeof *m->coef);
	m->se = calloc(p ? p : 1, sizeof *m->se);
	m->center = calloc(p ? p : 1, sizeof *m->center);
	m->aliased = calloc(p ? p : 1, 1);
	m->base_time = calloc(nbase ? nbase : 1, sizeof *m->base_time);
	m->base_haz = calloc(nbase ? nbase : 1, sizeof *m->base_haz);
	if (!m->names || !m->coef || !m->se || !m->center || !m->aliased || !m->base_time || !m->base_haz) {
		churn_cox_free(m);
		return NULL;
	}
	return m;
}

void churn_cox_free(churn_cox *m)
{
	if (!m)
		return;
	if (m->names)
		for (size_t j = 0; j < m->p; j++)
			free(m->names[j]);
	free(m->names);
	free(m->coef);
	free(m->se);
	free(m->center);
	free(m->aliased);
	free(m->base_time);
	free(m->base_haz);
	free(m);
}

/* ------------------------------------------------------------ getters */

size_t churn_cox_get_feature_count(const churn_cox *m) { return m ? m->p : 0; }
const char *churn_cox_get_feature_name(const churn_cox *m, size_t j) { return m && j < m->p ? m->names[j] : NULL; }
double churn_cox_get_coef(const churn_cox *m, size_t j) { return m && j < m->p ? m->coef[j] : 0; }
double churn_cox_get_se(const churn_cox *m, size_t j) { return m && j < m->p ? m->se[j] : 0; }
bool churn_cox_is_aliased(const churn_cox *m, size_t j) { return m && j < m->p && m->aliased[j]; }
double churn_cox_get_center(const churn_cox *m, size_t j) { return m && j < m->p ? m->center[j] : 0; }
double churn_cox_get_loglik_null(const churn_cox *m) { return m ? m->loglik_null : 0; }
double churn_cox_get_loglik(const churn_cox *m) { return m ? m->loglik : 0; }
int churn_cox_get_iterations(const churn_cox *m) { return m ? m->iterations : 0; }
bool churn_cox_is_converged(const churn_cox *m) { return m && m->converged; }
size_t churn_cox_get_row_count(const churn_cox *m) { return m ? m->nrows : 0; }
size_t churn_cox_get_event_count(const churn_cox *m) { return m ? m->nevents : 0; }
size_t churn_cox_get_baseline_count(const churn_cox *m) { return m ? m->nbase : 0; }

churn_status churn_cox_get_baseline(const churn_cox *m, size_t k, double *out_time, double *out_hazard)
{
	if (!m || !out_time || !out_hazard)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_get_baseline: NULL argument");
	if (k >= m->nbase)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_get_baseline: step %zu of %zu", k, m->nbase);
	*out_time = m->base_time[k];
	*out_hazard = m->base_haz[k];
	return CHURN_OK;
}

double ch_cox_baseline_at(const churn_cox *m, double t)
{
	/* last step with base_time <= t */
	size_t lo = 0, hi = m->nbase;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->base_time[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? m->base_haz[lo - 1] : 0;
}

churn_status ch_survival_check_data(const double *time, const uint8_t *event, size_t n, const char *fn)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(time[i]))
			return ch_fail(CHURN_E_NUMERIC, "%s: time of row %zu is not a finite number", fn, i);
		if (time[i] < 0)
			return ch_fail(CHURN_E_NUMERIC, "%s: time of row %zu is negative (%g)", fn, i, time[i]);
		if (event[i] > 1)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: event of row %zu is %u, not 0 or 1", fn, i,
			               (unsigned)event[i]);
	}
	return CHURN_OK;
}

/* ------------------------------------------------------------ the fit's data */

/* Rows sorted by time (descending), centered, grouped by distinct time. */
typedef struct fitdata {
	size_t n, p, q;      /* rows, columns, columns kept (not aliased) */
	double *x;           /* n x q, row-major, centered, sorted */
	uint8_t *ev;         /* n */
	size_t ngrp;         /* distinct times */
	size_t *gstart;      /* ngrp + 1: group g is rows [gstart[g], gstart[g+1]) */
	double *gtime;       /* ngrp */
	size_t nth;
	/* scratch of one evaluation */
	double *eta, *w, *dw;  /* n */
	double *ga, *gb;       /* ngrp: sum 1/s0 and sum f/s0 of the group's event time */
	double *s1, *s1d;      /* q */
	double *part;          /* nchunks x q x q */
} fitdata;

typedef struct timed_row {
	double t;
	size_t i;
} timed_row;

static int by_time_desc(const void *a, const void *b)
{
	const timed_row *x = a, *y = b;
	if (x->t != y->t)
		return x->t > y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void fitdata_free(fitdata *f)
{
	free(f->x);
	free(f->ev);
	free(f->gstart);
	free(f->gtime);
	free(f->eta);
	free(f->w);
	free(f->dw);
	free(f->ga);
	free(f->gb);
	free(f->s1);
	free(f->s1d);
	free(f->part);
}

/* Blocks of rows summed separately, then in block order: they depend on n only, not on the threads. */
static size_t nchunks(const fitdata *f)
{
	size_t k = (f->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
	return k < MAX_BLOCKS ? k : MAX_BLOCKS;
}

static size_t chunk_rows(const fitdata *f)
{
	return (f->n + nchunks(f) - 1) / nchunks(f);
}

/* Column centers as coxph: the mean, 0 for a column of 0s and 1s only (one pass over the rows). */
static void centers(const double *x, size_t n, size_t p, double *center, uint8_t *not01)
{
	memset(center, 0, p * sizeof *center);
	memset(not01, 0, p);
	for (size_t i = 0; i < n; i++) {
		const double *xi = x + i * p;
		for (size_t j = 0; j < p; j++) {
			center[j] += xi[j];
			not01[j] |= xi[j] != 0 && xi[j] != 1;
		}
	}
	for (size_t j = 0; j < p; j++)
		center[j] = not01[j] ? center[j] / (double)n : 0;
}

static churn_status fitdata_init(fitdata *f, const churn_matrix *xm, const double *time, const uint8_t *event,
                                 double *center, size_t nth)
{
	size_t n = churn_matrix_get_row_count(xm), p = churn_matrix_get_column_count(xm);
	const double *x = churn_matrix_get_data_const(xm);
	timed_row *ord = malloc(n * sizeof *ord);
	*f = (fitdata){.n = n, .p = p, .q = p, .nth = nth};
	f->x = malloc(n * p * sizeof *f->x);
	f->ev = malloc(n);
	f->gstart = malloc((n + 1) * sizeof *f->gstart);
	f->gtime = malloc(n * sizeof *f->gtime);
	f->eta = malloc(n * sizeof *f->eta);
	f->w = malloc(n * sizeof *f->w);
	f->dw = malloc(n * sizeof *f->dw);
	f->ga = malloc(n * sizeof *f->ga);
	f->gb = malloc(n * sizeof *f->gb);
	f->s1 = malloc(p * sizeof *f->s1);
	f->s1d = malloc(p * sizeof *f->s1d);
	f->part = malloc(nchunks(f) * p * p * sizeof *f->part);
	if (!ord || !f->x || !f->ev || !f->gstart || !f->gtime || !f->eta || !f->w || !f->dw || !f->ga || !f->gb ||
	    !f->s1 || !f->s1d || !f->part) {
		free(ord);
		return ch_fail(CHURN_E_NOMEM, "churn_cox_fit: out of memory for %zu rows x %zu columns", n, p);
	}
	uint8_t *not01 = malloc(p);
	if (!not01) {
		free(ord);
		return ch_fail(CHURN_E_NOMEM, "churn_cox_fit: out of memory");
	}
	centers(x, n, p, center, not01);
	free(not01);
	for (size_t i = 0; i < n; i++)
		ord[i] = (timed_row){time[i], i};
	qsort(ord, n, sizeof *ord, by_time_desc);
	f->ngrp = 0;
	for (size_t r = 0; r < n; r++) {
		size_t i = ord[r].i;
		for (size_t j = 0; j < p; j++)
			f->x[r * p + j] = x[i * p + j] - center[j];
		f->ev[r] = event[i];
		if (r == 0 || time[i] != f->gtime[f->ngrp - 1]) {
			f->gstart[f->ngrp] = r;
			f->gtime[f->ngrp++] = time[i];
		}
	}
	f->gstart[f->ngrp] = n;
	free(ord);
	return CHURN_OK;
}

/* ------------------------------------------------------------ one evaluation */

typedef struct xprod_ctx {
	fitdata *f;
	size_t nth;
} xprod_ctx;

/* part[c] = sum over chunk c's rows of dw_r x_r x_r' (lower triangle). */
static void xprod_chunks(void *vctx, size_t t)
{
	xprod_ctx *c = vctx;
	fitdata *f = c->f;
	size_t q = f->q;
	for (size_t k = t; k < nchunks(f); k += c->nth) {
		double *P = f->part + k * q * q;
		memset(P, 0, q * q * sizeof *P);
		size_t cr = chunk_rows(f), end = (k + 1) * cr < f->n ? (k + 1) * cr : f->n;
		size_t r = k * cr;
		/* four rows at a time: one load and store of P per four multiply-adds */
		for (; r + 4 <= end; r += 4) {
			const double *x0 = f->x + r * q, *x1 = x0 + q, *x2 = x1 + q, *x3 = x2 + q;
			double d0 = f->dw[r], d1 = f->dw[r + 1], d2 = f->dw[r + 2], d3 = f->dw[r + 3];
			for (size_t a = 0; a < q; a++) {
				double c0 = d0 * x0[a], c1 = d1 * x1[a], c2 = d2 * x2[a], c3 = d3 * x3[a];
				double *Pa = P + a * q;
				for (size_t b = 0; b <= a; b++)
					Pa[b] += c0 * x0[b] + c1 * x1[b] + c2 * x2[b] + c3 * x3[b];
			}
		}
		for (; r < end; r++) {
			const double *xr = f->x + r * q;
			double d = f->dw[r];
			for (size_t a = 0; a < q; a++) {
				double da = d * xr[a];
				double *Pa = P + a * q;
				for (size_t b = 0; b <= a; b++)
					Pa[b] += da * xr[b];
			}
		}
	}
}

/* Efron terms of one event time: loglik, score and the outer-product part of the information. */
static void efron_time(fitdata *f, size_t g, size_t d, double S0, double S0d, double *ll, double *u, double *imat)
{
	size_t q = f->q;
	double A = 0, B = 0, c1 = 0, c2 = 0, c3 = 0;
	for (size_t l = 0; l < d; l++) {
		double fr = (double)l / (double)d, s0 = S0 - fr * S0d, inv = 1 / s0;
		*ll -= log(s0);
		A += inv;
		B += fr * inv;
		c1 += inv * inv;
		c2 += fr * inv * inv;
		c3 += fr * fr * inv * inv;
	}
	for (size_t a = 0; a < q; a++) {
		u[a] -= A * f->s1[a] - B * f->s1d[a];
		for (size_t b = 0; b <= a; b++)
			imat[a * q + b] -= c1 * f->s1[a] * f->s1[b] - c2 * (f->s1[a] * f->s1d[b] + f->s1d[a] * f->s1[b]) +
			                   c3 * f->s1d[a] * f->s1d[b];
	}
	f->ga[g] = A;
	f->gb[g] = B;
}

/*
 * Log partial likelihood (Efron), score u and information imat (q x q, full)
 * at beta; false when a linear predictor overflows.
 */
static bool evaluate(fitdata *f, const double *beta, double *out_ll, double *u, double *imat)
{
	size_t q = f->q, n = f->n;
	for (size_t r = 0; r < n; r++) {
		const double *xr = f->x + r * q;
		double e = 0;
		for (size_t a = 0; a < q; a++)
			e += xr[a] * beta[a];
		f->eta[r] = e;
		f->w[r] = exp(e);
		if (!isfinite(f->w[r]))
			return false;
	}
	double ll = 0, S0 = 0;
	memset(u, 0, q * sizeof *u);
	memset(imat, 0, q * q * sizeof *imat);
	memset(f->s1, 0, q * sizeof *f->s1);
	for (size_t g = 0; g < f->ngrp; g++) {
		double S0d = 0;
		size_t d = 0;
		memset(f->s1d, 0, q * sizeof *f->s1d);
		for (size_t r = f->gstart[g]; r < f->gstart[g + 1]; r++) {
			const double *xr = f->x + r * q;
			double w = f->w[r];
			S0 += w;
			for (size_t a = 0; a < q; a++)
				f->s1[a] += w * xr[a];
			if (f->ev[r]) {
				d++;
				S0d += w;
				ll += f->eta[r];
				for (size_t a = 0; a < q; a++) {
					f->s1d[a] += w * xr[a];
					u[a] += xr[a];
				}
			}
		}
		f->ga[g] = f->gb[g] = 0;
		if (d)
			efron_time(f, g, d, S0, S0d, &ll, u, imat);
	}
	/* row weights of the second moments: c_j w_j (risk sets of times <= t_j) */
	double C = 0;
	for (size_t g = f->ngrp; g-- > 0;) {
		C += f->ga[g];
		for (size_t r = f->gstart[g]; r < f->gstart[g + 1]; r++)
			f->dw[r] = f->w[r] * (C - (f->ev[r] ? f->gb[g] : 0));
	}
	xprod_ctx xc = {f, f->nth < nchunks(f) ? f->nth : nchunks(f)};
	ch_parallel(xc.nth, xprod_chunks, &xc);
	for (size_t k = 0; k < nchunks(f); k++) {
		const double *P = f->part + k * q * q;
		for (size_t a = 0; a < q; a++)
			for (size_t b = 0; b <= a; b++)
				imat[a * q + b] += P[a * q + b];
	}
	for (size_t a = 0; a < q; a++)
		for (size_t b = 0; b < a; b++)
			imat[b * q + a] = imat[a * q + b];
	*out_ll = ll;
	return isfinite(ll);
}

/* ------------------------------------------------------------ aliasing and Newton steps */

/*
 * Columns that are linear combinations of earlier ones, as R's cholesky2 finds
 * them: a pivot of the LDL' decomposition of the information below
 * toler x the largest diagonal. Returns the number kept.
 */
static size_t find_aliased(const double *imat, size_t p, uint8_t *aliased, double *work)
{
	memcpy(work, imat, p * p * sizeof *work);
	double eps = 0;
	for (size_t i = 0; i < p; i++)
		if (fabs(work[i * p + i]) > eps)
			eps = fabs(work[i * p + i]);
	eps *= ALIAS_TOL;
	size_t kept = 0;
	for (size_t i = 0; i < p; i++) {
		double piv = work[i * p + i];
		if (!isfinite(piv) || piv < eps || piv == 0) {
			aliased[i] = 1;
			continue;
		}
		aliased[i] = 0;
		kept++;
		for (size_t j = i + 1; j < p; j++) {
			double t = work[j * p + i] / piv;
			work[j * p + j] -= t * t * piv;
			for (size_t k = j + 1; k < p; k++)
				work[k * p + j] -= t * work[k * p + i];
			work[j * p + i] = t;
		}
	}
	return kept;
}

/* Keep the columns not aliased (in place; the stride becomes q). */
static void drop_columns(fitdata *f, const uint8_t *aliased)
{
	size_t p = f->p, q = 0;
	for (size_t j = 0; j < p; j++)
		q += !aliased[j];
	for (size_t r = 0; r < f->n; r++) {
		size_t k = 0;
		for (size_t j = 0; j < p; j++)
			if (!aliased[j])
				f->x[r * q + k++] = f->x[r * p + j];
	}
	f->q = q;
}

/* step = imat^-1 u by Cholesky (imat is overwritten); false when imat is not positive definite. */
static bool newton_step(double *imat, const double *u, double *step, size_t q)
{
	gsl_matrix_view H = gsl_matrix_view_array(imat, q, q);
	gsl_vector_const_view g = gsl_vector_const_view_array(u, q);
	gsl_vector_view s = gsl_vector_view_array(step, q);
	if (gsl_linalg_cholesky_decomp1(&H.matrix) != GSL_SUCCESS)
		return false;
	return gsl_linalg_cholesky_solve(&H.matrix, &g.vector, &s.vector) == GSL_SUCCESS;
}

/* Penalized log likelihood, score and information of a ridge theta. */
static double penalize(double ll, const double *beta, double *u, double *imat, size_t q, double theta)
{
	if (theta <= 0)
		return ll;
	double ss = 0;
	for (size_t a = 0; a < q; a++) {
		ss += beta[a] * beta[a];
		u[a] -= theta * beta[a];
		imat[a * q + a] += theta;
	}
	return ll - theta / 2 * ss;
}

/* ------------------------------------------------------------ the fit */

typedef struct newton {
	double *beta, *nbeta, *u, *imat, *step;
	double ll;        /* penalized, at the result */
	double ll_plain;  /* unpenalized, at the result */
	int iter;
	bool converged;
} newton;

/* Evaluate at b: penalized log likelihood into *pll (unpenalized into *plain); false when not finite. */
static bool eval_pen(fitdata *f, const double *b, newton *N, double theta, double *pll, double *plain)
{
	double ll;
	if (!evaluate(f, b, &ll, N->u, N->imat))
		return false;
	*plain = ll;
	*pll = penalize(ll, b, N->u, N->imat, f->q, theta);
	return isfinite(*pll);
}

/* coxfit6's iteration: Newton from beta, halving toward it while the likelihood falls. */
static churn_status newton_run(fitdata *f, newton *N, double theta, int max_iter, double tol)
{
	size_t q = f->q;
	double ll, plain = 0, newlk = 0;
	if (!eval_pen(f, N->beta, N, theta, &ll, &plain))
		return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: the log likelihood at zero is not finite");
	if (!newton_step(N->imat, N->u, N->step, q))
		return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: the information matrix is not positive definite");
	for (size_t a = 0; a < q; a++)
		N->nbeta[a] = N->beta[a] + N->step[a];
	int halvings = 0;
	bool halving = false, ok = false;
	for (N->iter = 1; N->iter <= max_iter; N->iter++) {
		ok = eval_pen(f, N->nbeta, N, theta, &newlk, &plain);
		if (ok && fabs(1 - ll / newlk) <= tol && !halving) {
			N->converged = true;
			break;
		}
		if (N->iter == max_iter && ok)
			break;
		if (!ok || newlk < ll) {
			if (++halvings > MAX_HALVINGS)
				return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: no convergence: the likelihood does not "
				               "improve along the Newton direction (a column may separate the events)");
			halving = true;
			for (size_t a = 0; a < q; a++)
				N->nbeta[a] = (N->nbeta[a] + N->beta[a]) / 2;
			continue;
		}
		halving = false;
		ll = newlk;
		if (!newton_step(N->imat, N->u, N->step, q))
			return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: the information matrix is not positive definite");
		for (size_t a = 0; a < q; a++) {
			N->beta[a] = N->nbeta[a];
			N->nbeta[a] += N->step[a];
		}
	}
	if (!ok)
		return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: no convergence in %d iterations: the linear "
		               "predictors overflow (a column may separate the events)", max_iter);
	if (N->iter > max_iter)
		N->iter = max_iter;
	/* N->u and N->imat are those of nbeta, the result */
	N->ll = newlk;
	N->ll_plain = plain;
	for (size_t a = 0; a < q; a++)
		if (!isfinite(N->nbeta[a]) || fabs(N->nbeta[a]) > 1e6)
			return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: coefficient %zu diverges (%g): a column may "
			               "separate the events", a, N->nbeta[a]);
	return CHURN_OK;
}

static churn_status check_fit_args(const churn_matrix *x, const double *time, const uint8_t *event, size_t n,
                                   churn_cox **out, size_t *out_events)
{
	if (!x || !time || !event || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_fit: NULL argument");
	size_t p = churn_matrix_get_column_count(x);
	if (n != churn_matrix_get_row_count(x))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_fit: %zu times for %zu rows", n, churn_matrix_get_row_count(x));
	if (n == 0 || p == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_cox_fit: the design has %zu rows and %zu columns", n, p);
	churn_status st = ch_survival_check_data(time, event, n, "churn_cox_fit");
	if (st)
		return st;
	const double *v = churn_matrix_get_data_const(x);
	for (size_t k = 0; k < n * p; k++)
		if (!isfinite(v[k]))
			return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: row %zu, column \"%s\" is not a finite number",
			               k / p, churn_matrix_get_feature_name(x, k % p));
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += event[i];
	if (d == 0)
		return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: no events among %zu rows: nothing to fit", n);
	*out_events = d;
	return CHURN_OK;
}

/* Coefficients, standard errors and the baseline of the result into m. */
static churn_status fill_model(churn_cox *m, fitdata *f, newton *N, const double *center)
{
	size_t q = f->q, k = 0;
	gsl_matrix_view H = gsl_matrix_view_array(N->imat, q, q);
	if (gsl_linalg_cholesky_decomp1(&H.matrix) != GSL_SUCCESS || gsl_linalg_cholesky_invert(&H.matrix))
		return ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: the information matrix at the result is singular");
	for (size_t j = 0; j < m->p; j++) {
		m->center[j] = center[j];
		if (m->aliased[j])
			continue;
		m->coef[j] = N->nbeta[k];
		m->se[j] = sqrt(N->imat[k * q + k]);
		k++;
	}
	double H0 = 0;
	size_t b = 0;
	for (size_t g = f->ngrp; g-- > 0;) {
		if (f->ga[g] == 0)
			continue;
		H0 += f->ga[g];
		m->base_time[b] = f->gtime[g];
		m->base_haz[b++] = H0;
	}
	m->nbase = b;
	m->loglik = N->ll_plain;
	m->iterations = N->iter;
	m->converged = N->converged;
	return CHURN_OK;
}

static size_t event_times(const fitdata *f)
{
	size_t k = 0;
	for (size_t g = 0; g < f->ngrp; g++)
		for (size_t r = f->gstart[g]; r < f->gstart[g + 1]; r++)
			if (f->ev[r]) {
				k++;
				break;
			}
	return k;
}

static size_t fit_threads(const churn_params *p)
{
	int64_t nth = p ? churn_params_get_int(p, CHURN_KEY_COX_N_THREADS) : 0;
	return nth > 0 ? (size_t)nth : ch_ncores();
}

churn_status churn_cox_fit(const churn_matrix *x, const double *time, const uint8_t *event, size_t n,
                           const churn_params *p, churn_cox **out)
{
	size_t nev = 0;
	churn_status st = check_fit_args(x, time, event, n, out, &nev);
	if (st)
		return st;
	pthread_once(&gsl_once, gsl_handler_off);
	size_t np = churn_matrix_get_column_count(x);
	double theta = p ? churn_params_get_double(p, CHURN_KEY_COX_RIDGE) : 0;
	int max_iter = p ? (int)churn_params_get_int(p, CHURN_KEY_COX_MAX_ITER) : 20;
	double tol = p ? churn_params_get_double(p, CHURN_KEY_COX_TOL) : 1e-9;
	fitdata f = {0};
	newton N = {0};
	churn_cox *m = NULL;
	double *center = malloc(np * sizeof *center), ll0;
	st = center ? fitdata_init(&f, x, time, event, center, fit_threads(p))
	            : ch_fail(CHURN_E_NOMEM, "churn_cox_fit: out of memory");
	if (st)
		goto out;
	N.beta = calloc(np, sizeof *N.beta);
	N.nbeta = calloc(np, sizeof *N.nbeta);
	N.u = malloc(np * sizeof *N.u);
	N.step = malloc(np * sizeof *N.step);
	N.imat = malloc(np * np * sizeof *N.imat);
	m = ch_cox_alloc(np, event_times(&f));
	double *work = malloc(np * np * sizeof *work);
	if (!N.beta || !N.nbeta || !N.u || !N.step || !N.imat || !m || !work) {
		free(work);
		st = ch_fail(CHURN_E_NOMEM, "churn_cox_fit: out of memory");
		goto out;
	}
	for (size_t j = 0; j < np; j++)
		if (!(m->names[j] = ch_strdup(churn_matrix_get_feature_name(x, j)))) {
			free(work);
			st = ch_fail(CHURN_E_NOMEM, "churn_cox_fit: out of memory");
			goto out;
		}
	if (!evaluate(&f, N.beta, &ll0, N.u, N.imat)) {
		free(work);
		st = ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: the log likelihood at zero is not finite");
		goto out;
	}
	size_t q = find_aliased(N.imat, np, m->aliased, work);
	free(work);
	if (q == 0) {
		st = ch_fail(CHURN_E_NUMERIC, "churn_cox_fit: singular design: every one of the %zu columns is constant "
		             "or a combination of others", np);
		goto out;
	}
	if (q < np)
		drop_columns(&f, m->aliased);
	m->loglik_null = ll0;
	m->ridge = theta;
	m->nrows = n;
	m->nevents = nev;
	st = newton_run(&f, &N, theta, max_iter, tol);
	if (!st)
		st = fill_model(m, &f, &N, center);
out:
	fitdata_free(&f);
	free(center);
	free(N.beta);
	free(N.nbeta);
	free(N.u);
	free(N.step);
	free(N.imat);
	if (st) {
		churn_cox_free(m);
		return st;
	}
	*out = m;
	return CHURN_OK;
}
