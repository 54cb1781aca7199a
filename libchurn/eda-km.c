/*
 * Kaplan-Meier retention for EDA: time is the tenure column, the event is
 * churn; Greenwood variance and a 95% band (log-log or plain), the median
 * when reached; one curve over every labelled customer and one per level of
 * the segment column.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "eda-private.h"

typedef struct km_obs {
	double t;
	int8_t ev;
} km_obs;

static int cmp_obs(const void *a, const void *b)
{
	double x = ((const km_obs *)a)->t, y = ((const km_obs *)b)->t;
	return x < y ? -1 : x > y;
}

void ch_eda_km_clear(km_curve *c)
{
	free(c->segment);
	free(c->time);
	free(c->surv);
	free(c->se);
	free(c->lo);
	free(c->hi);
	free(c->at_risk);
	free(c->ev);
	memset(c, 0, sizeof *c);
}

static churn_status km_alloc(km_curve *c, size_t m)
{
	size_t cap = m ? m : 1;
	c->time = malloc(cap * sizeof *c->time);
	c->surv = malloc(cap * sizeof *c->surv);
	c->se = malloc(cap * sizeof *c->se);
	c->lo = malloc(cap * sizeof *c->lo);
	c->hi = malloc(cap * sizeof *c->hi);
	c->at_risk = malloc(cap * sizeof *c->at_risk);
	c->ev = malloc(cap * sizeof *c->ev);
	if (!c->time || !c->surv || !c->se || !c->lo || !c->hi || !c->at_risk || !c->ev)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

/* Standard error and 95% band of point k at survival s with Greenwood sum gw (gw_inf: a step to zero). */
static void km_band(km_curve *c, size_t k, double s, double gw, bool gw_inf, bool loglog)
{
	c->se[k] = gw_inf ? NAN : s * sqrt(gw);
	if (gw_inf || s <= 0) {
		c->se[k] = gw_inf ? NAN : 0;
		c->lo[k] = c->hi[k] = s;
	} else if (s >= 1 || gw == 0) {
		c->lo[k] = c->hi[k] = s;
	} else if (loglog) {
		double th = sqrt(gw) / fabs(log(s));
		c->lo[k] = pow(s, exp(CH_EDA_Z95 * th));
		c->hi[k] = pow(s, exp(-CH_EDA_Z95 * th));
	} else {
		double se = s * sqrt(gw);
		c->lo[k] = s - CH_EDA_Z95 * se < 0 ? 0 : s - CH_EDA_Z95 * se;
		c->hi[k] = s + CH_EDA_Z95 * se > 1 ? 1 : s + CH_EDA_Z95 * se;
	}
}

/* KM estimate over obs[0..n) (sorted by time in place). */
static churn_status km_fit(km_obs *obs, size_t n, bool loglog, km_curve *c)
{
	qsort(obs, n, sizeof *obs, cmp_obs);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || obs[i].t != obs[i - 1].t)
			m++;
	c->n = n;
	c->median = NAN;
	churn_status st = km_alloc(c, m);
	if (st)
		return st;
	double s = 1, gw = 0;
	bool gw_inf = false;
	size_t risk = n, i = 0;
	while (i < n) {
		size_t j = i, d = 0;
		while (j < n && obs[j].t == obs[i].t) {
			d += obs[j].ev > 0;
			j++;
		}
		size_t k = c->m++;
		c->time[k] = obs[i].t;
		c->at_risk[k] = risk;
		c->ev[k] = d;
		c->events += d;
		if (d > 0) {
			s *= 1 - (double)d / (double)risk;
			if (risk > d)
				gw += (double)d / ((double)risk * (double)(risk - d));
			else
				gw_inf = true;
		}
		c->surv[k] = s;
		km_band(c, k, s, gw, gw_inf, loglog);
		if (isnan(c->median) && s <= 0.5)
			c->median = obs[i].t;
		risk -= j - i;
		i = j;
	}
	return CHURN_OK;
}

/*
 * The observations: labelled rows with a tenure >= 0 (obs[0..*out_m), their
 * rows in row[]), and a note for negative tenures.
 */
static churn_status km_observations(churn_eda *e, const double *t, const int8_t *y, size_t n, km_obs *obs,
                                    size_t *row, size_t *out_m)
{
	size_t m = 0, negative = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || isnan(t[i]))
			continue;
		if (t[i] < 0) {
			negative++;
			continue;
		}
		row[m] = i;
		obs[m++] = (km_obs){t[i], y[i]};
	}
	*out_m = m;
	if (negative)
		return ch_eda_note(e, "survival: %zu rows with negative '%s' left out", negative, e->tenure_col);
	return CHURN_OK;
}

/* One curve per level of categorical column sj (levels without observations skipped); obs is left unsorted. */
static churn_status km_by_segment(churn_eda *e, const churn_dataset *ds, size_t sj, const km_obs *obs,
                                  const size_t *row, size_t m, bool loglog)
{
	size_t nl = churn_dataset_get_level_count(ds, sj);
	const int32_t *codes = churn_dataset_get_codes(ds, sj);
	e->km_seg = calloc(nl ? nl : 1, sizeof *e->km_seg);
	km_obs *so = malloc(m * sizeof *so);
	churn_status st = CHURN_OK;
	if (!e->km_seg || !so) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nl; k++) {
		size_t sm = 0;
		for (size_t r = 0; r < m; r++)
			if (codes[row[r]] == (int32_t)k)
				so[sm++] = obs[r];
		if (!sm)
			continue;
		km_curve *c = &e->km_seg[e->nkm_seg++];
		if (!(c->segment = ch_strdup(churn_dataset_get_level(ds, sj, k)))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		if ((st = km_fit(so, sm, loglog, c)))
			goto out;
	}
out:
	free(so);
	return st;
}

churn_status ch_eda_km_compute(churn_eda *e, const churn_dataset *ds, const int8_t *y)
{
	size_t tj, sj, n = churn_dataset_get_row_count(ds);
	if (churn_dataset_find_col(ds, e->tenure_col, &tj) != CHURN_OK ||
	    churn_dataset_get_col_type(ds, tj) != CHURN_COL_NUMERIC)
		return ch_eda_note(e, "survival: skipped: no numeric tenure column '%s' (set eda.tenure_col)",
		                   e->tenure_col);
	bool loglog = strcmp(e->band, "plain") != 0;
	km_obs *obs = malloc((n ? n : 1) * sizeof *obs);
	size_t *row = malloc((n ? n : 1) * sizeof *row), m = 0;
	churn_status st = CHURN_OK;
	if (!obs || !row) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = km_observations(e, churn_dataset_get_numeric(ds, tj), y, n, obs, row, &m)))
		goto out;
	if (!m) {
		st = churn_eda_add_note(e, "survival: skipped: no rows with tenure and a label");
		goto out;
	}
	/* segments first (they need the row index before obs is sorted) */
	if (churn_dataset_find_col(ds, e->segment_col, &sj) == CHURN_OK &&
	    churn_dataset_get_col_type(ds, sj) == CHURN_COL_CATEGORICAL)
		st = km_by_segment(e, ds, sj, obs, row, m, loglog);
	else
		st = ch_eda_note(e, "survival: no curves by segment: no categorical column '%s' (set eda.segment_col)",
		                 e->segment_col);
	if (st || (st = km_fit(obs, m, loglog, &e->km_all)))
		goto out;
	e->has_km = true;
out:
	free(obs);
	free(row);
	return st;
}
