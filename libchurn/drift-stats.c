/*
 * The drift statistics: PSI on bins, the chi-square test of homogeneity of
 * a 2 x k table, and Wilson score intervals. Small and exact, so that
 * tests/test-drift.c checks them on hand-computed cases.
 */
#include <math.h>

#include <gsl/gsl_cdf.h>

#include "drift-private.h"

static double sum(const double *v, size_t k)
{
	double s = 0;
	for (size_t i = 0; i < k; i++)
		s += v[i];
	return s;
}

double ch_drift_psi(const double *ref, const double *cur, size_t k)
{
	double nr = sum(ref, k), nc = sum(cur, k);
	if (!(nr > 0) || !(nc > 0))
		return NAN;
	double psi = 0;
	for (size_t i = 0; i < k; i++) {
		double e = ref[i] / nr, a = cur[i] / nc;
		if (e < CH_DRIFT_PSI_EPS)
			e = CH_DRIFT_PSI_EPS;
		if (a < CH_DRIFT_PSI_EPS)
			a = CH_DRIFT_PSI_EPS;
		psi += (a - e) * log(a / e);
	}
	return psi;
}

void ch_drift_chisq(const double *ref, const double *cur, size_t k, double *out_stat, double *out_df, double *out_p)
{
	double nr = sum(ref, k), nc = sum(cur, k), n = nr + nc, x2 = 0;
	size_t kept = 0;
	*out_stat = *out_df = *out_p = NAN;
	if (!(nr > 0) || !(nc > 0))
		return;
	for (size_t i = 0; i < k; i++) {
		double col = ref[i] + cur[i];
		if (!(col > 0))
			continue;
		kept++;
		double er = col * nr / n, ec = col * nc / n;
		x2 += (ref[i] - er) * (ref[i] - er) / er + (cur[i] - ec) * (cur[i] - ec) / ec;
	}
	if (kept < 2)
		return;
	*out_stat = x2;
	*out_df = (double)(kept - 1);
	/* checked inputs: GSL's error handler is never reached */
	*out_p = !isfinite(x2) ? NAN : x2 <= 0 ? 1.0 : gsl_cdf_chisq_Q(x2, *out_df);
}

void ch_drift_wilson(size_t k, size_t n, double *out_lo, double *out_hi)
{
	if (n == 0 || k > n) {
		*out_lo = *out_hi = NAN;
		return;
	}
	const double z = 1.959963984540054;
	double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
	double den = 1 + z2 / nn;
	double center = (p + z2 / (2 * nn)) / den;
	double half = z / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	*out_lo = center - half < 0 ? 0 : center - half;
	*out_hi = center + half > 1 ? 1 : center + half;
}

size_t ch_drift_bin(const double *e, size_t ne, double v)
{
	size_t lo = 0, hi = ne;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v <= e[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

bool ch_drift_add_number(cJSON *o, const char *key, double v)
{
	return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}
