/*
 * L2-regularized logistic regression, fitted by Newton's method (IRLS) with
 * a Cholesky solve (GSL) and a backtracking line search.
 *
 * Objective (scikit-learn's, with C = logreg.C):
 *   sum_i s_i * logloss(y_i, sigmoid(b + w.x_i)) + ||w||^2 / (2C)
 * with s_i = 1, or n / (2 n_class) with logreg.class_weight = balanced; the
 * intercept b is not penalized. The L2 term keeps the Hessian positive
 * definite even with collinear one-hot columns.
 *
 * Speed: one pass over the rows per Newton step builds f, the gradient and
 * X^T W X together. Rows are visited through their non-zero entries (a
 * one-hot design is mostly zeros), the lower triangle is accumulated per
 * chunk of rows into a small d x d block that stays in L1, and chunks run on
 * logreg.n_threads threads. Chunk boundaries and the order of the final sum
 * do not depend on the thread count, so the model is bit-identical for any
 * n_threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "core-private.h"
#include "model-private.h"
#include "params-private.h"
#include "thread-private.h"

#define CHUNK_ROWS 4096
#define MAX_THREADS 64
#define CSR_MAX_CELLS ((size_t)1 << 22) /* rows x features up to which non-zeros are gathered once (<= 48 MiB) */

typedef struct logreg {
	size_t ncols;
	double *w;     /* ncols coefficients, then the intercept */
	double *sd;    /* standard deviation of each feature on the training rows */
	double C;
	bool balanced;
} logreg;

static void logreg_free(void *state)
{
	logreg *lr = state;
	if (!lr)
		return;
	free(lr->w);
	free(lr->sd);
	free(lr);
}

static logreg *logreg_alloc(size_t ncols)
{
	logreg *lr = calloc(1, sizeof(*lr));
	if (!lr)
		return NULL;
	lr->ncols = ncols;
	lr->w = calloc(ncols + 1, sizeof(double));
	lr->sd = calloc(ncols ? ncols : 1, sizeof(double));
	if (!lr->w || !lr->sd) {
		logreg_free(lr);
		return NULL;
	}
	return lr;
}

/* ---- GSL error handler: off once per process (documented in churn/model.h) ---- */

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
static void gsl_handler_off(void)
{
	gsl_set_error_handler_off();
}

/* ---- the pass over the rows ---- */

typedef struct pass_job {
	const double *X;
	const uint8_t *y;
	size_t nrows, ncols;
	double s0, s1;          /* class weights */
	const double *w;        /* d = ncols + 1 */
	bool want_hess;         /* else f only */
	size_t nchunks;         /* chunks visited: data chunk k * stride for k < nchunks */
	size_t stride;          /* 1, or > 1 for the subsample warm start */
	size_t nrows_all;
	double *chunk_f;        /* nchunks */
	double *chunk_g;        /* nchunks x d (when want_hess) */
	double *chunk_h;        /* nchunks x d x d lower triangle (when want_hess) */
	size_t *rp;             /* nrows + 1 offsets into ci/cv (NULL: gather each pass) */
	uint32_t *ci;           /* column of each non-zero, ascending per row */
	double *cv;             /* its value */
	size_t nthreads;
	atomic_bool oom;        /* a worker could not allocate its scratch */
} pass_job;

/*
 * One row's terms: the objective, and with g the gradient and the lower
 * triangle of the Hessian from its non-zeros (idx ascending, val).
 */
static inline double row_terms(const pass_job *J, const uint32_t *restrict idx, const double *restrict val,
                               size_t nnz, size_t i, double *restrict g, double *restrict H)
{
	size_t ncols = J->ncols, d = ncols + 1;
	const double *restrict w = J->w;
	double z = w[ncols];
	for (size_t a = 0; a < nnz; a++)
		z += w[idx[a]] * val[a];
	int yi = J->y[i] != 0;
	double s = yi ? J->s1 : J->s0;
	double e = exp(-fabs(z));                    /* in (0, 1] */
	double p = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
	double f = s * (log1p(e) + (z > 0 ? z : 0) - (yi ? z : 0));
	if (!g)
		return f;
	double r = s * (p - yi);
	double h = s * p * (1 - p);
	double *restrict Hi = H + ncols * d;         /* intercept row */
	for (size_t a = 0; a < nnz; a++) {
		uint32_t ja = idx[a];
		double va = val[a];
		g[ja] += r * va;
		double t = h * va;
		double *restrict Hrow = H + (size_t)ja * d;
		size_t b = 0;
		for (; b + 1 <= a; b += 2) {
			uint32_t i0 = idx[b], i1 = idx[b + 1];
			double p0 = t * val[b], p1 = t * val[b + 1];
			Hrow[i0] += p0;
			Hrow[i1] += p1;
		}
		if (b <= a)
			Hrow[idx[b]] += t * val[b];
		Hi[ja] += t;
	}
	g[ncols] += r;
	Hi[ncols] += h;
	return f;
}

static void pass_chunk(const pass_job *J, size_t c, uint32_t *idx, double *val)
{
	size_t ncols = J->ncols, d = ncols + 1;
	size_t dc = c * J->stride;
	size_t r0 = dc * CHUNK_ROWS, r1 = r0 + CHUNK_ROWS < J->nrows ? r0 + CHUNK_ROWS : J->nrows;
	double f = 0;
	double *g = J->want_hess ? J->chunk_g + c * d : NULL;
	double *H = J->want_hess ? J->chunk_h + c * d * d : NULL;
	if (g) {
		memset(g, 0, d * sizeof(double));
		memset(H, 0, d * d * sizeof(double));
	}
	if (J->rp) {
		/* non-zeros gathered once per fit */
		for (size_t i = r0; i < r1; i++) {
			size_t q = J->rp[i];
			f += row_terms(J, J->ci + q, J->cv + q, J->rp[i + 1] - q, i, g, H);
		}
	} else {
		for (size_t i = r0; i < r1; i++) {
			const double *x = J->X + i * ncols;
			size_t nnz = 0;
			for (size_t j = 0; j < ncols; j++) {
				/* branch-free gather of the non-zeros (one-hot rows are mostly zeros) */
				double v = x[j];
				idx[nnz] = (uint32_t)j;
				val[nnz] = v;
				nnz += v != 0;
			}
			f += row_terms(J, idx, val, nnz, i, g, H);
		}
	}
	J->chunk_f[c] = f;
}

/* Worker t of the pass (ch_parallel): chunks t, t + nthreads, ... */
static void pass_worker(void *arg, size_t t)
{
	pass_job *J = arg;
	uint32_t *idx = malloc((J->ncols + 1) * sizeof(uint32_t));
	double *val = malloc((J->ncols + 1) * sizeof(double));
	if (!idx || !val)
		atomic_store(&J->oom, true);
	else
		for (size_t c = t; c < J->nchunks; c += J->nthreads)
			pass_chunk(J, c, idx, val);
	free(idx);
	free(val);
}

/* Run the pass; 0 ok, -1 out of memory. */
static int run_pass(pass_job *J)
{
	size_t nt = J->nthreads;
	if (nt > J->nchunks)
		nt = J->nchunks;
	if (nt < 1)
		nt = 1;
	J->nthreads = nt;
	atomic_store(&J->oom, false);
	ch_parallel(nt, pass_worker, J);
	return atomic_load(&J->oom) ? -1 : 0;
}

/* Sum the chunks in chunk order: f, and g/H when wanted (H made symmetric). */
static double reduce(const pass_job *J, double *g, double *H)
{
	size_t d = J->ncols + 1;
	double f = 0;
	for (size_t c = 0; c < J->nchunks; c++)
		f += J->chunk_f[c];
	if (!g)
		return f;
	memset(g, 0, d * sizeof(double));
	memset(H, 0, d * d * sizeof(double));
	for (size_t c = 0; c < J->nchunks; c++) {
		const double *gc = J->chunk_g + c * d, *Hc = J->chunk_h + c * d * d;
		for (size_t j = 0; j < d; j++)
			g[j] += gc[j];
		for (size_t j = 0; j < d; j++)
			for (size_t k = 0; k <= j; k++)
				H[j * d + k] += Hc[j * d + k];
	}
	for (size_t j = 0; j < d; j++)
		for (size_t k = 0; k < j; k++)
			H[k * d + j] = H[j * d + k];
	return f;
}

static double penalty(const double *w, size_t ncols, double C)
{
	double s = 0;
	for (size_t j = 0; j < ncols; j++)
		s += w[j] * w[j];
	return s / (2 * C);
}

typedef struct newton_ctx {
	size_t ncols;
	double C;
	size_t nthreads;
	const churn_params *p;
	double *g, *H, *delta, *wn;   /* d, d x d, d, d */
} newton_ctx;

/* Pass at w: f (with the penalty), and g/H with the penalty when want_hess. -1 on OOM. */
static int evaluate(pass_job *J, const newton_ctx *N, const double *w, bool want_hess, double *f)
{
	size_t ncols = N->ncols, d = ncols + 1;
	J->w = w;
	J->want_hess = want_hess;
	J->nthreads = N->nthreads;
	if (run_pass(J))
		return -1;
	*f = reduce(J, want_hess ? N->g : NULL, want_hess ? N->H : NULL) + penalty(w, ncols, N->C);
	if (want_hess)
		for (size_t j = 0; j < ncols; j++) {
			N->g[j] += w[j] / N->C;
			N->H[j * d + j] += 1.0 / N->C;
		}
	return 0;
}

/* Solve H delta = g by Cholesky; on failure add a growing ridge and retry. */
static int newton_solve(pass_job *J, const newton_ctx *N, const double *w)
{
	size_t ncols = N->ncols, d = ncols + 1;
	int gs = GSL_EDOM;
	double ridge = 0;
	for (int attempt = 0; attempt < 6 && gs; attempt++) {
		if (attempt > 0) {
			/* the failed factorization overwrote H: rebuild it from the chunk sums */
			reduce(J, N->g, N->H);
			double tr = 0;
			for (size_t j = 0; j < d; j++)
				tr += N->H[j * d + j];
			ridge = (ridge == 0 ? 1e-10 : ridge * 100) * (tr / (double)d + 1);
			for (size_t j = 0; j < ncols; j++) {
				N->g[j] += w[j] / N->C;
				N->H[j * d + j] += 1.0 / N->C;
			}
			for (size_t j = 0; j < d; j++)
				N->H[j * d + j] += ridge;
		}
		gsl_matrix_view Hv = gsl_matrix_view_array(N->H, d, d);
		gsl_vector_view gv = gsl_vector_view_array(N->g, d);
		gsl_vector_view dv = gsl_vector_view_array(N->delta, d);
		gs = gsl_linalg_cholesky_decomp1(&Hv.matrix);
		if (!gs)
			gs = gsl_linalg_cholesky_solve(&Hv.matrix, &gv.vector, &dv.vector);
	}
	return gs;
}

/*
 * Damped Newton from w (updated in place) on the rows J visits. The full
 * step is tried speculatively with the next Hessian pass (it is accepted
 * almost always); on an Armijo failure, backtrack with objective-only passes.
 */
static churn_status newton(pass_job *J, const newton_ctx *N, double *w, double tol, size_t max_iter, size_t *out_iter,
                           bool *out_converged)
{
	size_t d = N->ncols + 1, iter = 0;
	bool converged = false;
	double f;
	if (evaluate(J, N, w, true, &f))
		return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
	while (iter < max_iter) {
		if (!ch_progress(N->p, "logreg", iter, max_iter))
			return ch_fail(CHURN_E_STATE, "logreg: cancelled");
		if (!isfinite(f))
			return ch_fail(CHURN_E_NUMERIC, "logreg: the objective is not finite at iteration %zu", iter);
		int gs = newton_solve(J, N, w);
		if (gs)
			return ch_fail(CHURN_E_NUMERIC, "logreg: the Hessian is not positive definite at iteration %zu (%s)",
			               iter, gsl_strerror(gs));
		double dec = 0; /* squared Newton decrement g . H^-1 g */
		for (size_t j = 0; j < d; j++)
			dec += N->g[j] * N->delta[j];
		if (!isfinite(dec))
			return ch_fail(CHURN_E_NUMERIC, "logreg: non-finite Newton step at iteration %zu", iter);
		ch_log(N->p, CHURN_LOG_DEBUG, "logreg: iteration %zu objective %.12g decrement %.3g", iter, f, dec / 2);
		iter++;
		if (dec / 2 <= tol * (1 + fabs(f))) {
			/* within tolerance: take the full step (quadratic convergence) and stop */
			for (size_t j = 0; j < d; j++)
				w[j] -= N->delta[j];
			converged = true;
			break;
		}
		for (size_t j = 0; j < d; j++)
			N->wn[j] = w[j] - N->delta[j];
		double fn;
		if (evaluate(J, N, N->wn, true, &fn))
			return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
		if (isfinite(fn) && fn <= f - 1e-4 * dec) {
			memcpy(w, N->wn, d * sizeof(double));
			f = fn;
			continue;
		}
		double t = 0.5;
		bool accepted = false;
		for (int ls = 0; ls < 40; ls++, t *= 0.5) {
			for (size_t j = 0; j < d; j++)
				N->wn[j] = w[j] - t * N->delta[j];
			if (evaluate(J, N, N->wn, false, &fn))
				return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
			if (isfinite(fn) && fn <= f - 1e-4 * t * dec) {
				accepted = true;
				break;
			}
		}
		if (!accepted) {
			/* no decrease is possible in floating point: this is the optimum */
			converged = true;
			break;
		}
		memcpy(w, N->wn, d * sizeof(double));
		if (evaluate(J, N, w, true, &f))
			return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
	}
	*out_iter = iter;
	*out_converged = converged;
	return CHURN_OK;
}

static size_t default_threads(void)
{
	size_t n = ch_ncores();
	return n > MAX_THREADS ? MAX_THREADS : n;
}

/* Small designs: the non-zeros of X gathered once (J->rp, ci, cv) instead of on every pass. False on OOM. */
static bool gather_nonzeros(pass_job *J)
{
	size_t nrows = J->nrows, ncols = J->ncols, nnz = 0;
	const double *X = J->X;
	for (size_t k = 0; k < nrows * ncols; k++)
		nnz += X[k] != 0;
	J->rp = malloc((nrows + 1) * sizeof(size_t));
	J->ci = malloc((nnz ? nnz : 1) * sizeof(uint32_t));
	J->cv = malloc((nnz ? nnz : 1) * sizeof(double));
	if (!J->rp || !J->ci || !J->cv)
		return false;
	size_t q = 0;
	for (size_t i = 0; i < nrows; i++) {
		J->rp[i] = q;
		for (size_t j = 0; j < ncols; j++) {
			double v = X[i * ncols + j];
			if (v != 0) {
				J->ci[q] = (uint32_t)j;
				J->cv[q++] = v;
			}
		}
	}
	J->rp[nrows] = q;
	return true;
}

/* The pass's chunk sums and the Newton step's arrays; LIMIT when d x d per chunk does not fit in memory. */
static churn_status fit_alloc(pass_job *J, newton_ctx *N)
{
	size_t d = J->ncols + 1;
	if (d > SIZE_MAX / sizeof(double) / d / (J->nchunks + 1))
		return ch_fail(CHURN_E_LIMIT, "logreg: %zu features is too many", J->ncols);
	J->chunk_f = calloc(J->nchunks, sizeof(double));
	J->chunk_g = calloc(J->nchunks * d, sizeof(double));
	J->chunk_h = calloc(J->nchunks * d * d, sizeof(double));
	N->g = calloc(d, sizeof(double));
	N->H = calloc(d * d, sizeof(double));
	N->delta = calloc(d, sizeof(double));
	N->wn = calloc(d, sizeof(double));
	if (!J->chunk_f || !J->chunk_g || !J->chunk_h || !N->g || !N->H || !N->delta || !N->wn)
		return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
	if (J->nrows * J->ncols <= CSR_MAX_CELLS && !gather_nonzeros(J))
		return ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
	return CHURN_OK;
}

static void fit_free(pass_job *J, newton_ctx *N)
{
	free(J->chunk_f);
	free(J->chunk_g);
	free(J->chunk_h);
	free(J->rp);
	free(J->ci);
	free(J->cv);
	free(N->g);
	free(N->H);
	free(N->delta);
	free(N->wn);
}

/* Population standard deviation of each column of X into sd (for importance): two row-major passes; mean is scratch. */
static void feature_sd(const double *X, size_t nrows, size_t ncols, double *sd, double *mean)
{
	for (size_t j = 0; j < ncols; j++)
		mean[j] = 0;
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < ncols; j++)
			mean[j] += X[i * ncols + j];
	for (size_t j = 0; j < ncols; j++) {
		mean[j] /= (double)nrows;
		sd[j] = 0;
	}
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < ncols; j++) {
			double dv = X[i * ncols + j] - mean[j];
			sd[j] += dv * dv;
		}
	for (size_t j = 0; j < ncols; j++) {
		sd[j] = sqrt(sd[j] / (double)nrows);
		mean[j] = 0;
	}
}

/*
 * Newton from w. A warm start on a subsample (every 8th chunk, losses scaled
 * up to the whole) when there are many rows; then Newton on all rows from
 * there, which usually needs 2 or 3 steps. The result is the full-data
 * optimum either way; only the time changes.
 */
static churn_status fit_newton(pass_job *J, const newton_ctx *N, double *w, double tol, size_t max_iter,
                               size_t *out_iter, bool *out_converged)
{
	churn_status st;
	size_t iters = 0, nchunks_all = J->nchunks, nrows = J->nrows;
	if (nchunks_all >= 64) {
		size_t stride = 8;
		J->stride = stride;
		J->nchunks = (nchunks_all + stride - 1) / stride;
		size_t sub_rows = 0;
		for (size_t k = 0; k < J->nchunks; k++) {
			size_t r0 = k * stride * CHUNK_ROWS;
			sub_rows += (r0 + CHUNK_ROWS < nrows ? CHUNK_ROWS : nrows - r0);
		}
		double scale = (double)nrows / (double)sub_rows;
		J->s0 *= scale;
		J->s1 *= scale;
		bool conv1 = false;
		size_t it1 = 0;
		st = newton(J, N, w, 1e-6, max_iter, &it1, &conv1);
		iters += it1;
		J->s0 /= scale;
		J->s1 /= scale;
		J->stride = 1;
		J->nchunks = nchunks_all;
		if (st)
			return st;
	}
	size_t it2 = 0;
	st = newton(J, N, w, tol, max_iter, &it2, out_converged);
	*out_iter = iters + it2;
	return st;
}

static churn_status logreg_fit(void **state, const churn_matrix *Xm, const churn_params *p, ch_fit_info *info)
{
	churn_status st = CHURN_OK;
	size_t nrows = churn_matrix_get_row_count(Xm), ncols = churn_matrix_get_column_count(Xm), d = ncols + 1;
	const double *X = churn_matrix_get_data_const(Xm);
	const uint8_t *y = churn_matrix_get_labels(Xm);
	double C = churn_params_get_double(p, "logreg.C");
	double tol = churn_params_get_double(p, CHURN_KEY_LOGREG_TOL);
	int64_t max_iter = churn_params_get_int(p, CHURN_KEY_LOGREG_MAX_ITER);
	int64_t nth = churn_params_get_int(p, CHURN_KEY_LOGREG_N_THREADS);
	const char *cw = churn_params_get_str(p, CHURN_KEY_LOGREG_CLASS_WEIGHT);
	bool balanced;
	if (!strcmp(cw, "none"))
		balanced = false;
	else if (!strcmp(cw, "balanced"))
		balanced = true;
	else
		return ch_fail(CHURN_E_INVALID_ARG, "logreg.class_weight is '%s' (expected none or balanced)", cw);

	pthread_once(&gsl_once, gsl_handler_off);

	logreg *lr = logreg_alloc(ncols);
	pass_job J = {0};
	newton_ctx N = {0};
	if (!lr) {
		st = ch_fail(CHURN_E_NOMEM, "logreg: out of memory");
		goto out;
	}
	lr->C = C;
	lr->balanced = balanced;

	size_t npos = 0;
	for (size_t i = 0; i < nrows; i++)
		npos += y[i] != 0;
	J.X = X;
	J.y = y;
	J.nrows = nrows;
	J.ncols = ncols;
	J.s0 = balanced ? (double)nrows / (2.0 * (double)(nrows - npos)) : 1.0;
	J.s1 = balanced ? (double)nrows / (2.0 * (double)npos) : 1.0;
	J.nchunks = (nrows + CHUNK_ROWS - 1) / CHUNK_ROWS;
	J.stride = 1;
	N.ncols = ncols;
	N.C = C;
	N.nthreads = nth > 0 ? (size_t)nth : default_threads();
	if (N.nthreads > MAX_THREADS)
		N.nthreads = MAX_THREADS;
	if (nrows < 8 * CHUNK_ROWS)
		N.nthreads = 1;
	N.p = p;
	if ((st = fit_alloc(&J, &N)))
		goto out;
	feature_sd(X, nrows, ncols, lr->sd, N.delta);

	/* start: w = 0, intercept = log-odds of the weighted positive rate */
	double *w = lr->w;
	double wpos = J.s1 * (double)npos, wneg = J.s0 * (double)(nrows - npos);
	w[ncols] = log(wpos / wneg);
	size_t iters = 0;
	bool converged = false;
	if ((st = fit_newton(&J, &N, w, tol, (size_t)max_iter, &iters, &converged)))
		goto out;
	for (size_t j = 0; j < d; j++)
		if (!isfinite(w[j])) {
			st = ch_fail(CHURN_E_NUMERIC, "logreg: coefficient %zu is not finite", j);
			goto out;
		}
	if (!converged)
		ch_log(p, CHURN_LOG_WARN, "logreg: did not converge in %zu iterations (logreg.max_iter)", iters);
	ch_progress(p, "logreg", (uint64_t)max_iter, (uint64_t)max_iter);
	info->iterations = iters;
	info->converged = converged;
	*state = lr;
	lr = NULL;
out:
	fit_free(&J, &N);
	logreg_free(lr);
	return st;
}

static double logreg_margin(const void *state, const double *row, size_t ncols)
{
	const logreg *lr = state;
	double z = lr->w[ncols];
	for (size_t j = 0; j < ncols; j++)
		z += lr->w[j] * row[j];
	return z;
}

static churn_status logreg_contrib(const void *state, const double *row, size_t ncols, double *out)
{
	const logreg *lr = state;
	for (size_t j = 0; j < ncols; j++)
		out[j] = lr->w[j] * row[j];
	out[ncols] = lr->w[ncols];
	return CHURN_OK;
}

static churn_status logreg_importance(const void *state, double *out, size_t ncols)
{
	const logreg *lr = state;
	for (size_t j = 0; j < ncols; j++)
		out[j] = fabs(lr->w[j]) * lr->sd[j];
	return CHURN_OK;
}

churn_status ch_logreg_coefficients(const void *state, size_t ncols, double *out)
{
	const logreg *lr = state;
	memcpy(out, lr->w, (ncols + 1) * sizeof(double));
	return CHURN_OK;
}

static cJSON *logreg_to_cjson(const void *state, size_t ncols, const char *const *names)
{
	const logreg *lr = state;
	cJSON *o = cJSON_CreateObject(), *arr;
	if (!o || !ch_json_add_number(o, "intercept", lr->w[ncols]) || !ch_json_add_number(o, "C", lr->C) ||
	    !cJSON_AddStringToObject(o, "class_weight", lr->balanced ? "balanced" : "none") ||
	    !(arr = cJSON_AddArrayToObject(o, "coefficients")))
		goto nomem;
	for (size_t j = 0; j < ncols; j++) {
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto nomem;
		}
		if (!cJSON_AddStringToObject(e, "feature", names[j]) || !ch_json_add_number(e, "coef", lr->w[j]) ||
		    !ch_json_add_number(e, "odds_ratio", exp(lr->w[j])) || !ch_json_add_number(e, "sd", lr->sd[j]))
			goto nomem;
	}
	return o;
nomem:
	cJSON_Delete(o);
	return NULL;
}

static churn_status logreg_from_cjson(const cJSON *part, size_t ncols, void **state)
{
	churn_status st;
	const char *w = "model artifact: logreg";
	if (!cJSON_IsObject(part))
		return ch_fail(CHURN_E_FORMAT, "%s: not an object", w);
	logreg *lr = logreg_alloc(ncols);
	if (!lr)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = ch_json_get_double(part, "intercept", w, &lr->w[ncols])) ||
	    (st = ch_json_get_double(part, "C", w, &lr->C)))
		goto fail;
	if (!(lr->C > 0)) {
		st = ch_fail(CHURN_E_FORMAT, "%s: 'C' must be positive", w);
		goto fail;
	}
	const cJSON *cw = cJSON_GetObjectItemCaseSensitive(part, "class_weight");
	if (!cJSON_IsString(cw) || (strcmp(cw->valuestring, "none") && strcmp(cw->valuestring, "balanced"))) {
		st = ch_fail(CHURN_E_FORMAT, "%s: 'class_weight' must be \"none\" or \"balanced\"", w);
		goto fail;
	}
	lr->balanced = !strcmp(cw->valuestring, "balanced");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(part, "coefficients");
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != ncols) {
		st = ch_fail(CHURN_E_FORMAT, "%s: 'coefficients' must be an array of %zu entries (one per feature)", w, ncols);
		goto fail;
	}
	size_t j = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		char where[96];
		snprintf(where, sizeof(where), "%s: coefficients[%zu]", w, j);
		if (!cJSON_IsObject(e)) {
			st = ch_fail(CHURN_E_FORMAT, "%s: not an object", where);
			goto fail;
		}
		if ((st = ch_json_get_double(e, "coef", where, &lr->w[j])) ||
		    (st = ch_json_get_double(e, "sd", where, &lr->sd[j])))
			goto fail;
		if (lr->sd[j] < 0) {
			st = ch_fail(CHURN_E_FORMAT, "%s: 'sd' is negative", where);
			goto fail;
		}
		j++;
	}
	*state = lr;
	return CHURN_OK;
fail:
	logreg_free(lr);
	return st;
}

const struct ch_model_ops ch_logreg_ops = {
	.kind = CHURN_MODEL_LOGREG,
	.name = "logreg",
	.score_is_logit = true,
	.fit = logreg_fit,
	.margin = logreg_margin,
	.predict = NULL,
	.contrib = logreg_contrib,
	.importance = logreg_importance,
	.to_cjson = logreg_to_cjson,
	.from_cjson = logreg_from_cjson,
	.free = logreg_free,
};
