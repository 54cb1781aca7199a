/*
 * Pearson correlations for EDA: the matrix of at most eda.corr_max_features
 * features and the target (pairwise complete; a blocked pass when nothing is
 * missing), every feature's r with the target (linear in width), the notes
 * on constant columns and reduction, and churn_eda_set_correlation().
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "eda-private.h"

/* Column j's value at row i: cols[j][i * stride[j]]. */
#define AT(j, i) (cols[j][(i) * stride[j]])

static bool any_nan(size_t n, size_t k, const double *const *cols, const size_t *stride)
{
	for (size_t j = 0; j < k; j++)
		for (size_t i = 0; i < n; i++)
			if (isnan(AT(j, i)))
				return true;
	return false;
}

/* Upper triangle of the centred cross products, four rows per pass: a quarter of the accumulator traffic. */
static void cross_products(size_t n, size_t k, const double *const *cols, const size_t *stride, const double *mean,
                           double *row, double *acc)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		for (size_t q = 0; q < 4; q++)
			for (size_t j = 0; j < k; j++)
				row[q * k + j] = AT(j, i + q) - mean[j];
		const double *r0 = row, *r1 = row + k, *r2 = row + 2 * k, *r3 = row + 3 * k;
		for (size_t a = 0; a < k; a++) {
			double a0 = r0[a], a1 = r1[a], a2 = r2[a], a3 = r3[a];
			double *acc_a = acc + a * k;
			for (size_t b = a; b < k; b++)
				acc_a[b] += a0 * r0[b] + a1 * r1[b] + a2 * r2[b] + a3 * r3[b];
		}
	}
	for (; i < n; i++) {
		for (size_t j = 0; j < k; j++)
			row[j] = AT(j, i) - mean[j];
		for (size_t a = 0; a < k; a++) {
			double ra = row[a];
			double *acc_a = acc + a * k;
			for (size_t b = a; b < k; b++)
				acc_a[b] += ra * row[b];
		}
	}
}

/* Correlations of k columns without a missing value: one pass for the means, one for the cross products. */
static churn_status pearson_complete(size_t n, size_t k, const double *const *cols, const size_t *stride, double *out)
{
	double *mean = calloc(k, sizeof *mean), *acc = calloc(k * k, sizeof *acc), *row = malloc(4 * k * sizeof *row);
	if (!mean || !acc || !row) {
		free(mean);
		free(acc);
		free(row);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t j = 0; j < k; j++) {
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += AT(j, i);
		mean[j] = s / (double)n;
	}
	cross_products(n, k, cols, stride, mean, row, acc);
	for (size_t a = 0; a < k; a++)
		for (size_t b = a; b < k; b++) {
			double den = sqrt(acc[a * k + a] * acc[b * k + b]);
			double r = den > 0 ? acc[a * k + b] / den : NAN;
			if (isfinite(r)) {
				if (r > 1)
					r = 1;
				if (r < -1)
					r = -1;
			}
			if (a == b && den > 0)
				r = 1;
			out[a * k + b] = out[b * k + a] = r;
		}
	free(mean);
	free(acc);
	free(row);
	return CHURN_OK;
}

/* r of columns a and b over the rows where both are present (NaN: fewer than 2 rows or no variance). */
static double pearson_pair(size_t n, const double *const *cols, const size_t *stride, size_t a, size_t b)
{
	double sa = 0, sb = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		double x = AT(a, i), z = AT(b, i);
		if (isnan(x) || isnan(z))
			continue;
		sa += x;
		sb += z;
		m++;
	}
	if (m < 2)
		return NAN;
	double ma = sa / (double)m, mb = sb / (double)m, sab = 0, saa = 0, sbb = 0;
	for (size_t i = 0; i < n; i++) {
		double x = AT(a, i), z = AT(b, i);
		if (isnan(x) || isnan(z))
			continue;
		sab += (x - ma) * (z - mb);
		saa += (x - ma) * (x - ma);
		sbb += (z - mb) * (z - mb);
	}
	double den = sqrt(saa * sbb);
	if (!(den > 0))
		return NAN;
	double r = sab / den;
	r = r > 1 ? 1 : r < -1 ? -1 : r;
	return a == b ? 1 : r;
}

/* Correlations of k columns over n rows into out[k * k]; pairwise-complete. */
static churn_status pearson(size_t n, size_t k, const double *const *cols, const size_t *stride, double *out)
{
	if (!any_nan(n, k, cols, stride))
		return pearson_complete(n, k, cols, stride, out);
	for (size_t a = 0; a < k; a++)
		for (size_t b = a; b < k; b++)
			out[a * k + b] = out[b * k + a] = pearson_pair(n, cols, stride, a, b);
	return CHURN_OK;
}

#undef AT

/*
 * Pearson r of each of nf columns with the column y (pairwise complete: rows
 * where either is NaN are left out), into out[nf]; NaN when undefined. Two
 * passes over the rows, each reading a row's columns in turn: linear in
 * width and friendly to a row-major matrix.
 */
static churn_status target_r(size_t n, size_t nf, const double *const *cols, const size_t *stride, const double *y,
                             size_t ystride, double *out)
{
	size_t *cnt = calloc(nf ? nf : 1, sizeof *cnt);
	double *mx = calloc(nf ? nf : 1, sizeof *mx), *my = calloc(nf ? nf : 1, sizeof *my);
	double *sxy = calloc(nf ? nf : 1, sizeof *sxy), *sxx = calloc(nf ? nf : 1, sizeof *sxx);
	double *syy = calloc(nf ? nf : 1, sizeof *syy);
	churn_status st = CHURN_OK;
	if (!cnt || !mx || !my || !sxy || !sxx || !syy) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		double yi = y[i * ystride];
		if (isnan(yi))
			continue;
		for (size_t j = 0; j < nf; j++) {
			double x = cols[j][i * stride[j]];
			if (isnan(x))
				continue;
			cnt[j]++;
			mx[j] += x;
			my[j] += yi;
		}
	}
	for (size_t j = 0; j < nf; j++)
		if (cnt[j]) {
			mx[j] /= (double)cnt[j];
			my[j] /= (double)cnt[j];
		}
	for (size_t i = 0; i < n; i++) {
		double yi = y[i * ystride];
		if (isnan(yi))
			continue;
		for (size_t j = 0; j < nf; j++) {
			double x = cols[j][i * stride[j]];
			if (isnan(x))
				continue;
			double dx = x - mx[j], dy = yi - my[j];
			sxy[j] += dx * dy;
			sxx[j] += dx * dx;
			syy[j] += dy * dy;
		}
	}
	for (size_t j = 0; j < nf; j++) {
		double den = sqrt(sxx[j] * syy[j]), r = NAN;
		if (cnt[j] >= 2 && den > 0) {
			r = sxy[j] / den;
			r = r > 1 ? 1 : r < -1 ? -1 : r;
		}
		out[j] = r;
	}
out:
	free(cnt);
	free(mx);
	free(my);
	free(sxy);
	free(sxx);
	free(syy);
	return st;
}

/* A note naming the matrix's constant or empty columns (their diagonal is NaN). */
static churn_status note_constant(churn_eda *e)
{
	char buf[1024];
	size_t o = 0;
	for (size_t j = 0; j < e->ncorr; j++) {
		if (!isnan(e->corr[j * e->ncorr + j]))
			continue;
		int w = snprintf(buf + o, sizeof buf - o, "%s%s", o ? ", " : "", e->corr_names[j]);
		if (w < 0 || (size_t)w >= sizeof buf - o)
			break;
		o += (size_t)w;
	}
	if (!o)
		return CHURN_OK;
	return ch_eda_note(e, "correlation: constant or empty columns have null correlations: %s", buf);
}

/*
 * The keep columns of nf features the matrix shows, in their order, into
 * sel: those of highest |r| with the target (tr; NULL: no target, the
 * first ones).
 */
static churn_status select_features(size_t nf, size_t keep, const double *tr, size_t *sel)
{
	if (keep >= nf) {
		for (size_t j = 0; j < nf; j++)
			sel[j] = j;
		return CHURN_OK;
	}
	rank_item *rk = malloc(nf * sizeof *rk);
	if (!rk)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t j = 0; j < nf; j++)
		rk[j] = (rank_item){j, tr && !isnan(tr[j]) ? fabs(tr[j]) : -1};
	qsort(rk, nf, sizeof *rk, ch_eda_cmp_rank_desc);
	for (size_t r = 0; r < keep; r++)
		sel[r] = rk[r].i;
	qsort(sel, keep, sizeof *sel, ch_eda_cmp_size);
	free(rk);
	return CHURN_OK;
}

/* A fresh copy of names[sel[r]] for r < n (or of names[r] when sel is NULL); NULL when out of memory. */
static char **copy_names(const char *const *names, const size_t *sel, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof *v);
	for (size_t r = 0; v && r < n; r++)
		if (!(v[r] = ch_strdup(names[sel ? sel[r] : r]))) {
			ch_eda_free_strv(v, r);
			return NULL;
		}
	return v;
}

/* The matrix and its notes, computed; installed in e by install(). */
typedef struct corr_result {
	size_t k, nf, keep, ks;
	bool has_target;
	char **names, **tr_names;
	double *m, *tr;
} corr_result;

/* Replace e's correlation with r's (taking its memory) and add the notes; target: the target's name (NULL: none). */
static churn_status install(churn_eda *e, corr_result *r, const char *target)
{
	ch_eda_free_strv(e->corr_names, e->ncorr);
	free(e->corr);
	ch_eda_free_strv(e->tr_names, e->ntr);
	free(e->tr_r);
	ch_eda_drop_notes(e, "correlation:"); /* of the matrix replaced */
	e->corr_names = r->names;
	e->corr = r->m;
	e->ncorr = r->ks;
	e->corr_total = r->k;
	e->corr_reduced = r->keep < r->nf;
	e->corr_has_target = r->has_target;
	e->tr_names = r->tr_names;
	e->tr_r = r->tr;
	e->ntr = r->has_target ? r->nf : 0;
	r->names = r->tr_names = NULL;
	r->m = r->tr = NULL;
	churn_status st = note_constant(e);
	if (st || !e->corr_reduced)
		return st;
	if (r->has_target)
		return ch_eda_note(e, "correlation: %zu features, more than eda.corr_max_features (%zu): the matrix and its "
		                      "heatmap keep the %zu most correlated with %s (|Pearson r|); correlation.with_target "
		                      "has the r of every feature",
		                   r->nf, e->corr_max, r->keep, target);
	return ch_eda_note(e, "correlation: %zu features, more than eda.corr_max_features (%zu): the matrix and its "
	                      "heatmap keep the first %zu (no target to rank them by)",
	                   r->nf, e->corr_max, r->keep);
}

/*
 * The correlation matrix of k columns (the target last when has_target): all
 * of them when there are at most e->corr_max features, else the e->corr_max
 * features most correlated with the target (|r|, kept in their order) and
 * the target; without a target, the first e->corr_max. With a target, every
 * feature's r with it is kept too. What scales with width is linear; the
 * matrix is at most (corr_max + 1)^2.
 */
churn_status ch_eda_set_corr(churn_eda *e, size_t n, size_t k, const char *const *names, const double *const *cols,
                             const size_t *stride, bool has_target)
{
	corr_result r = {.k = k, .has_target = has_target};
	r.nf = has_target ? k - 1 : k;
	r.keep = r.nf <= e->corr_max ? r.nf : e->corr_max;
	r.ks = r.keep + has_target;
	size_t *sel = malloc((r.ks ? r.ks : 1) * sizeof *sel), *ss = malloc((r.ks ? r.ks : 1) * sizeof *ss);
	const double **sc = malloc((r.ks ? r.ks : 1) * sizeof *sc);
	r.m = malloc((r.ks ? r.ks * r.ks : 1) * sizeof *r.m);
	if (has_target)
		r.tr = malloc((r.nf ? r.nf : 1) * sizeof *r.tr);
	churn_status st = CHURN_OK;
	if (!sel || !ss || !sc || !r.m || (has_target && !r.tr)) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((has_target && (st = target_r(n, r.nf, cols, stride, cols[r.nf], stride[r.nf], r.tr))) ||
	    (st = select_features(r.nf, r.keep, r.tr, sel)))
		goto out;
	if (has_target)
		sel[r.keep] = r.nf;
	for (size_t q = 0; q < r.ks; q++) {
		sc[q] = cols[sel[q]];
		ss[q] = stride[sel[q]];
	}
	r.names = copy_names(names, sel, r.ks);
	if (has_target)
		r.tr_names = copy_names(names, NULL, r.nf);
	if (!r.names || (has_target && !r.tr_names)) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if (!(st = pearson(n, r.ks, sc, ss, r.m)))
		st = install(e, &r, has_target ? names[r.nf] : NULL);
out:
	ch_eda_free_strv(r.names, r.ks);
	ch_eda_free_strv(r.tr_names, r.nf);
	free(r.m);
	free(r.tr);
	free(sel);
	free(ss);
	free(sc);
	return st;
}

churn_status churn_eda_set_correlation(churn_eda *e, const churn_matrix *x)
{
	if (!e || !x)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_correlation: NULL argument");
	size_t n = churn_matrix_get_row_count(x), nc = churn_matrix_get_column_count(x);
	const uint8_t *lab = churn_matrix_get_labels(x);
	if (n < 2 || nc == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "eda correlation: matrix has %zu rows and %zu columns (need 2+ and 1+)",
		               n, nc);
	size_t k = nc + (lab != NULL);
	const double *data = churn_matrix_get_data_const(x);
	for (size_t q = 0; q < n * nc; q++) /* row by row: the matrix is row-major */
		if (isinf(data[q]))
			return ch_fail(CHURN_E_NUMERIC, "eda correlation: feature '%s' row %zu is infinite",
			               churn_matrix_get_feature_name(x, q % nc), q / nc);
	const char **names = calloc(k, sizeof *names);
	const double **cols = calloc(k, sizeof *cols);
	size_t *stride = calloc(k, sizeof *stride);
	double *ycol = lab ? malloc(n * sizeof *ycol) : NULL;
	churn_status st = CHURN_OK;
	if (!names || !cols || !stride || (lab && !ycol)) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < nc; j++) {
		names[j] = churn_matrix_get_feature_name(x, j);
		cols[j] = data + j;
		stride[j] = nc;
	}
	if (lab) {
		for (size_t i = 0; i < n; i++)
			ycol[i] = lab[i];
		/* an EDA made by churn_eda_compute() always has its target's name */
		names[nc] = e->target ? e->target : churn_params_get_str(NULL, CHURN_KEY_DATA_TARGET);
		cols[nc] = ycol;
		stride[nc] = 1;
	}
	st = ch_eda_set_corr(e, n, k, names, cols, stride, lab != NULL);
out:
	free(names);
	free(cols);
	free(stride);
	free(ycol);
	if (!st)
		ch_clear_error();
	return st;
}
