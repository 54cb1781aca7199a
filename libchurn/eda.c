/*
 * EDA statistics: churn by category (Wilson intervals, chi-square, Cramer's
 * V), histograms split by churn, Pearson correlations, Kaplan-Meier
 * retention with Greenwood variance, revenue at risk; JSON output; and the
 * EDA figures (drawn through plot.c, the only plplot user).
 */
#include "churn/eda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>

#include "core-private.h"
#include "eda-private.h"
#include "params-private.h"
#include "plot-private.h"

#define Z95 1.959963984540054

typedef struct eda_level {
	char *value; /* NULL: missing */
	size_t count, churned;
	double rate, lo, hi;
} eda_level;

typedef struct eda_cat {
	char *name;
	size_t n, nlevels;
	eda_level *levels;
	double chi2, p_value, cramers_v;
	size_t df;
} eda_cat;

typedef struct eda_hist {
	char *name;
	size_t nbins, missing;
	double *edges;
	double *churned, *retained;
	double r; /* Pearson r with the target (NaN: undefined), to pick the columns a figure shows */
} eda_hist;

typedef struct km_curve {
	char *segment; /* NULL: overall */
	size_t n, events, m;
	double *time, *surv, *se, *lo, *hi;
	size_t *at_risk, *ev;
	double median; /* NaN: not reached */
} km_curve;

typedef struct rev_seg {
	char *segment;
	size_t customers, at_risk;
	double revenue, revenue_at_risk, expected_loss;
} rev_seg;

struct churn_eda {
	size_t rows, labelled, positives;
	char *target, *positive;
	/* params captured at compute time */
	char *tenure_col, *charges_col, *segment_col, *band;
	size_t corr_max; /* eda.corr_max_features */
	size_t fig_max;  /* eda.fig_max_columns */
	/* correlation: the matrix (ncorr x ncorr, the target last), of corr_total columns before reduction */
	size_t ncorr, corr_total;
	char **corr_names;
	double *corr;
	bool corr_reduced, corr_has_target;
	/* every feature's r with the target (linear in width, kept whatever the matrix keeps) */
	size_t ntr;
	char **tr_names;
	double *tr_r;
	/* categorical */
	size_t ncat;
	eda_cat *cats;
	/* histograms */
	size_t nhist;
	eda_hist *hists;
	/* importance */
	size_t nimp;
	char **imp_names;
	double *imp_impurity, *imp_perm;
	/* survival */
	bool has_km;
	km_curve km_all;
	size_t nkm_seg;
	km_curve *km_seg;
	/* revenue */
	bool has_rev;
	double rev_threshold;
	size_t rev_customers, rev_at_risk, rev_nseg;
	double rev_total, rev_at_risk_sum, rev_expected;
	rev_seg *rev_segs;
	/* notes */
	size_t nnotes;
	char **notes;
};

/* ---- small helpers ---- */

/* An index and its sort key (cmp_rank_desc: highest key first, then lowest index). */
typedef struct rank_item {
	size_t i;
	double v;
} rank_item;

static int cmp_rank_desc(const void *a, const void *b)
{
	double x = ((const rank_item *)a)->v, y = ((const rank_item *)b)->v;
	if (x != y)
		return x > y ? -1 : 1;
	size_t p = ((const rank_item *)a)->i, q = ((const rank_item *)b)->i;
	return p < q ? -1 : p > q;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void km_clear(km_curve *c)
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

static void rev_clear(churn_eda *e)
{
	for (size_t i = 0; i < e->rev_nseg; i++)
		free(e->rev_segs[i].segment);
	free(e->rev_segs);
	e->rev_segs = NULL;
	e->rev_nseg = 0;
	e->has_rev = false;
}

void churn_eda_free(churn_eda *e)
{
	if (!e)
		return;
	free(e->target);
	free(e->positive);
	free(e->tenure_col);
	free(e->charges_col);
	free(e->segment_col);
	free(e->band);
	free_strv(e->corr_names, e->ncorr);
	free(e->corr);
	free_strv(e->tr_names, e->ntr);
	free(e->tr_r);
	for (size_t i = 0; i < e->ncat; i++) {
		for (size_t k = 0; k < e->cats[i].nlevels; k++)
			free(e->cats[i].levels[k].value);
		free(e->cats[i].levels);
		free(e->cats[i].name);
	}
	free(e->cats);
	for (size_t i = 0; i < e->nhist; i++) {
		free(e->hists[i].name);
		free(e->hists[i].edges);
		free(e->hists[i].churned);
		free(e->hists[i].retained);
	}
	free(e->hists);
	free_strv(e->imp_names, e->nimp);
	free(e->imp_impurity);
	free(e->imp_perm);
	km_clear(&e->km_all);
	for (size_t i = 0; i < e->nkm_seg; i++)
		km_clear(&e->km_seg[i]);
	free(e->km_seg);
	rev_clear(e);
	free_strv(e->notes, e->nnotes);
	free(e);
}

churn_status churn_eda_add_note(churn_eda *e, const char *note)
{
	if (!e || !note)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_add_note: NULL argument");
	char **nv = realloc(e->notes, (e->nnotes + 1) * sizeof *nv);
	if (!nv)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	e->notes = nv;
	if (!(nv[e->nnotes] = ch_strdup(note)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	e->nnotes++;
	return CHURN_OK;
}

/* Remove the notes that start with prefix (they describe something replaced). */
static void drop_notes(churn_eda *e, const char *prefix)
{
	size_t o = 0, len = strlen(prefix);
	for (size_t i = 0; i < e->nnotes; i++) {
		if (strncmp(e->notes[i], prefix, len) == 0)
			free(e->notes[i]);
		else
			e->notes[o++] = e->notes[i];
	}
	e->nnotes = o;
}

/* Wilson score interval for k successes of n. */
static void wilson(size_t k, size_t n, double *lo, double *hi)
{
	if (n == 0) {
		*lo = *hi = NAN;
		return;
	}
	double p = (double)k / (double)n, nn = (double)n, z2 = Z95 * Z95;
	double den = 1 + z2 / nn;
	double center = (p + z2 / (2 * nn)) / den;
	double half = Z95 / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
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

static bool is_id_col(const churn_params *p, const char *name)
{
	const char *ids = p ? churn_params_get_str(p, "data.id") : "";
	if (!ids || !*ids)
		return strcmp(name, "customerID") == 0;
	size_t len = strlen(name);
	for (const char *s = ids; *s;) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (l == len && strncmp(s, name, l) == 0)
			return true;
		if (!c)
			break;
		s = c + 1;
	}
	return false;
}

/*
 * 0/1 labels of the target column (-1 where missing or unusable). The
 * positive label is "data.positive" when set (exact, then case-insensitive),
 * else the first of yes/true/1/y/t present.
 */
static churn_status target_labels(const churn_dataset *ds, const churn_params *p, size_t *out_col, int8_t **out_y,
                                  char **out_target, char **out_pos)
{
	const char *target = p ? churn_params_get_str(p, "data.target") : "Churn";
	const char *want = p ? churn_params_get_str(p, "data.positive") : "";
	size_t tj;
	churn_status st = churn_dataset_find_col(ds, target, &tj);
	if (st)
		return ch_fail_prefix(st, "eda: target column");
	size_t n = churn_dataset_get_nrows(ds);
	int8_t *y = malloc(n ? n : 1);
	if (!y)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char posbuf[32] = "1";
	const char *pos = NULL;
	churn_col_type t = churn_dataset_get_col_type(ds, tj);
	if (t == CHURN_COL_CATEGORICAL) {
		size_t nl = churn_dataset_get_nlevels(ds, tj);
		long pk = -1;
		if (want && *want) {
			for (size_t k = 0; k < nl && pk < 0; k++)
				if (strcmp(churn_dataset_get_level(ds, tj, k), want) == 0)
					pk = (long)k;
			for (size_t k = 0; k < nl && pk < 0; k++)
				if (strcasecmp(churn_dataset_get_level(ds, tj, k), want) == 0)
					pk = (long)k;
		} else {
			static const char *cands[] = {"yes", "true", "1", "y", "t"};
			for (size_t c = 0; c < 5 && pk < 0; c++)
				for (size_t k = 0; k < nl && pk < 0; k++)
					if (strcasecmp(churn_dataset_get_level(ds, tj, k), cands[c]) == 0)
						pk = (long)k;
		}
		if (pk < 0) {
			free(y);
			return ch_fail(CHURN_E_INVALID_ARG,
			               "eda: target column '%s' has no positive label %s%s%s (set --positive)", target,
			               want && *want ? "'" : "(yes/true/1/y/t)", want && *want ? want : "",
			               want && *want ? "'" : "");
		}
		pos = churn_dataset_get_level(ds, tj, (size_t)pk);
		const int32_t *codes = churn_dataset_get_codes(ds, tj);
		for (size_t i = 0; i < n; i++)
			y[i] = codes[i] < 0 ? -1 : codes[i] == pk ? 1 : 0;
	} else if (t == CHURN_COL_NUMERIC) {
		double pv = 1;
		if (want && *want && !ch_parse_double(want, strlen(want), &pv)) {
			free(y);
			return ch_fail(CHURN_E_INVALID_ARG, "eda: numeric target '%s': positive label '%s' is not a number",
			               target, want);
		}
		ch_format_double_short(posbuf, sizeof posbuf, pv);
		pos = posbuf;
		const double *v = churn_dataset_get_numeric(ds, tj);
		for (size_t i = 0; i < n; i++)
			y[i] = isnan(v[i]) ? -1 : v[i] == pv ? 1 : 0;
	} else {
		free(y);
		return ch_fail(CHURN_E_INVALID_ARG, "eda: target column '%s' is free text, not a label", target);
	}
	*out_target = ch_strdup(target);
	*out_pos = ch_strdup(pos);
	if (!*out_target || !*out_pos) {
		free(*out_target);
		free(*out_pos);
		free(y);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	*out_col = tj;
	*out_y = y;
	return CHURN_OK;
}

/* ---- categorical association ---- */

static churn_status cat_stats(const churn_dataset *ds, size_t j, const int8_t *y, eda_cat *c)
{
	size_t n = churn_dataset_get_nrows(ds), nl = churn_dataset_get_nlevels(ds, j);
	const int32_t *codes = churn_dataset_get_codes(ds, j);
	c->name = ch_strdup(churn_dataset_get_col_name(ds, j));
	c->levels = calloc(nl + 1, sizeof *c->levels);
	if (!c->name || !c->levels)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
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
	/* levels with rows (the missing bucket last, only when present) */
	size_t tot = 0, tpos = 0;
	for (size_t k = 0; k <= nl; k++) {
		if (!cnt[k])
			continue;
		eda_level *L = &c->levels[c->nlevels];
		if (k < nl && !(L->value = ch_strdup(churn_dataset_get_level(ds, j, k)))) {
			free(cnt);
			free(pos);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
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
	/* chi-square over non-missing levels x {churned, retained} */
	c->n = tot;
	c->chi2 = c->p_value = c->cramers_v = NAN;
	c->df = 0;
	size_t r = 0;
	for (size_t k = 0; k < c->nlevels; k++)
		r += c->levels[k].value != NULL;
	size_t cols = (tpos > 0) + (tot - tpos > 0);
	if (r >= 2 && cols == 2) {
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
	return CHURN_OK;
}

/* ---- histograms ---- */

static churn_status hist_stats(const churn_dataset *ds, size_t j, const int8_t *y, size_t bins, eda_hist *h)
{
	size_t n = churn_dataset_get_nrows(ds);
	const double *v = churn_dataset_get_numeric(ds, j);
	h->name = ch_strdup(churn_dataset_get_col_name(ds, j));
	if (!h->name)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	double mn = INFINITY, mx = -INFINITY;
	bool integer = true;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0)
			continue;
		if (isnan(v[i])) {
			h->missing++;
			continue;
		}
		used++;
		if (v[i] < mn)
			mn = v[i];
		if (v[i] > mx)
			mx = v[i];
		if (integer && v[i] != floor(v[i]))
			integer = false;
	}
	if (!used) {
		mn = 0;
		mx = 1;
	}
	double width;
	size_t nb;
	if (integer && used) {
		double span = mx - mn + 1;
		width = ceil(span / (double)bins);
		if (width < 1)
			width = 1;
		nb = (size_t)ceil(span / width);
		if (width == 1) {
			mn -= 0.5; /* unit bins centred on the integers */
		}
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

/* ---- Pearson correlation ---- */

/* Correlations of k columns given as col(j)[i] accessors over n rows; pairwise-complete. */
static churn_status pearson(size_t n, size_t k, const double *const *cols, const size_t *stride, double *out)
{
#define AT(j, i) (cols[j][(i) * stride[j]])
	bool anynan = false;
	for (size_t j = 0; j < k && !anynan; j++)
		for (size_t i = 0; i < n; i++)
			if (isnan(AT(j, i))) {
				anynan = true;
				break;
			}
	if (!anynan) {
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
		/* four rows per pass over the upper triangle: a quarter of the accumulator traffic */
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
	for (size_t a = 0; a < k; a++)
		for (size_t b = a; b < k; b++) {
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
			double r = NAN;
			if (m >= 2) {
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
				if (den > 0) {
					r = sab / den;
					r = r > 1 ? 1 : r < -1 ? -1 : r;
					if (a == b)
						r = 1;
				}
			}
			out[a * k + b] = out[b * k + a] = r;
		}
	return CHURN_OK;
#undef AT
}

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
	char *msg = ch_asprintf("correlation: constant or empty columns have null correlations: %s", buf);
	if (!msg)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = churn_eda_add_note(e, msg);
	free(msg);
	return st;
}

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
	if (!cnt || !mx || !my || !sxy || !sxx || !syy) {
		free(cnt);
		free(mx);
		free(my);
		free(sxy);
		free(sxx);
		free(syy);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
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
	free(cnt);
	free(mx);
	free(my);
	free(sxy);
	free(sxx);
	free(syy);
	return CHURN_OK;
}

/*
 * The correlation matrix of k columns (the target last when has_target): all
 * of them when there are at most e->corr_max features, else the e->corr_max
 * features most correlated with the target (|r|, kept in their order) and
 * the target; without a target, the first e->corr_max. With a target, every
 * feature's r with it is kept too. What scales with width is linear; the
 * matrix is at most (corr_max + 1)^2.
 */
static churn_status set_corr(churn_eda *e, size_t n, size_t k, const char *const *names, const double *const *cols,
                             const size_t *stride, bool has_target)
{
	size_t nf = has_target ? k - 1 : k, keep = nf <= e->corr_max ? nf : e->corr_max, ks = keep + has_target;
	churn_status st = CHURN_OK;
	double *tr = NULL, *m = NULL;
	char **trn = NULL, **nn = NULL;
	size_t *sel = malloc((ks ? ks : 1) * sizeof *sel), *ss = malloc((ks ? ks : 1) * sizeof *ss);
	const double **sc = malloc((ks ? ks : 1) * sizeof *sc);
	rank_item *rk = NULL;
	nn = calloc(ks ? ks : 1, sizeof *nn);
	m = malloc((ks ? ks * ks : 1) * sizeof *m);
	if (has_target) {
		tr = malloc((nf ? nf : 1) * sizeof *tr);
		trn = calloc(nf ? nf : 1, sizeof *trn);
	}
	if (!sel || !ss || !sc || !nn || !m || (has_target && (!tr || !trn))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if (has_target && (st = target_r(n, nf, cols, stride, cols[nf], stride[nf], tr)))
		goto out;
	if (keep < nf) {
		if (!(rk = malloc(nf * sizeof *rk))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < nf; j++)
			rk[j] = (rank_item){j, has_target && !isnan(tr[j]) ? fabs(tr[j]) : -1};
		qsort(rk, nf, sizeof *rk, cmp_rank_desc);
		for (size_t r = 0; r < keep; r++)
			sel[r] = rk[r].i;
		qsort(sel, keep, sizeof *sel, cmp_size);
	} else {
		for (size_t j = 0; j < nf; j++)
			sel[j] = j;
	}
	if (has_target)
		sel[keep] = nf;
	for (size_t r = 0; r < ks; r++) {
		sc[r] = cols[sel[r]];
		ss[r] = stride[sel[r]];
		if (!(nn[r] = ch_strdup(names[sel[r]]))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t j = 0; has_target && j < nf; j++)
		if (!(trn[j] = ch_strdup(names[j]))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
	if ((st = pearson(n, ks, sc, ss, m)))
		goto out;
	free_strv(e->corr_names, e->ncorr);
	free(e->corr);
	free_strv(e->tr_names, e->ntr);
	free(e->tr_r);
	drop_notes(e, "correlation:"); /* of the matrix replaced */
	e->corr_names = nn;
	e->corr = m;
	e->ncorr = ks;
	e->corr_total = k;
	e->corr_reduced = keep < nf;
	e->corr_has_target = has_target;
	e->tr_names = trn;
	e->tr_r = tr;
	e->ntr = has_target ? nf : 0;
	nn = trn = NULL;
	m = tr = NULL;
	if ((st = note_constant(e)))
		goto out;
	if (e->corr_reduced) {
		char *msg = has_target ? ch_asprintf("correlation: %zu features, more than eda.corr_max_features (%zu): the "
		                                     "matrix and its heatmap keep the %zu most correlated with %s (|Pearson "
		                                     "r|); correlation.with_target has the r of every feature",
		                                     nf, e->corr_max, keep, names[nf])
		                       : ch_asprintf("correlation: %zu features, more than eda.corr_max_features (%zu): the "
		                                     "matrix and its heatmap keep the first %zu (no target to rank them by)",
		                                     nf, e->corr_max, keep);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
	}
out:
	free_strv(nn, ks);
	free_strv(trn, nf);
	free(m);
	free(tr);
	free(sel);
	free(ss);
	free(sc);
	free(rk);
	return st;
}

churn_status churn_eda_set_correlation(churn_eda *e, const churn_matrix *x)
{
	if (!e || !x)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_correlation: NULL argument");
	size_t n = churn_matrix_get_nrows(x), nc = churn_matrix_get_ncols(x);
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
		names[nc] = e->target ? e->target : "Churn";
		cols[nc] = ycol;
		stride[nc] = 1;
	}
	st = set_corr(e, n, k, names, cols, stride, lab != NULL);
out:
	free(names);
	free(cols);
	free(stride);
	free(ycol);
	if (!st)
		ch_clear_error();
	return st;
}

/* ---- Kaplan-Meier ---- */

typedef struct km_obs {
	double t;
	int8_t ev;
} km_obs;

static int cmp_obs(const void *a, const void *b)
{
	double x = ((const km_obs *)a)->t, y = ((const km_obs *)b)->t;
	return x < y ? -1 : x > y;
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
		c->se[k] = gw_inf ? NAN : s * sqrt(gw);
		if (gw_inf || s <= 0) {
			c->se[k] = gw_inf ? NAN : 0;
			c->lo[k] = c->hi[k] = s;
		} else if (s >= 1 || gw == 0) {
			c->lo[k] = c->hi[k] = s;
		} else if (loglog) {
			double th = sqrt(gw) / fabs(log(s));
			c->lo[k] = pow(s, exp(Z95 * th));
			c->hi[k] = pow(s, exp(-Z95 * th));
		} else {
			double se = s * sqrt(gw);
			c->lo[k] = s - Z95 * se < 0 ? 0 : s - Z95 * se;
			c->hi[k] = s + Z95 * se > 1 ? 1 : s + Z95 * se;
		}
		if (isnan(c->median) && s <= 0.5)
			c->median = obs[i].t;
		risk -= j - i;
		i = j;
	}
	return CHURN_OK;
}

static churn_status km_compute(churn_eda *e, const churn_dataset *ds, const int8_t *y, const churn_params *p)
{
	size_t tj, n = churn_dataset_get_nrows(ds);
	char *msg = NULL;
	churn_status st;
	if (churn_dataset_find_col(ds, e->tenure_col, &tj) != CHURN_OK ||
	    churn_dataset_get_col_type(ds, tj) != CHURN_COL_NUMERIC) {
		msg = ch_asprintf("survival: skipped: no numeric tenure column '%s' (set eda.tenure_col)", e->tenure_col);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		return st;
	}
	bool loglog = strcmp(e->band, "plain") != 0;
	const double *t = churn_dataset_get_numeric(ds, tj);
	km_obs *obs = malloc((n ? n : 1) * sizeof *obs);
	size_t *seg_idx = malloc((n ? n : 1) * sizeof *seg_idx);
	if (!obs || !seg_idx) {
		free(obs);
		free(seg_idx);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t m = 0, negative = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || isnan(t[i]))
			continue;
		if (t[i] < 0) {
			negative++;
			continue;
		}
		seg_idx[m] = i;
		obs[m++] = (km_obs){t[i], y[i]};
	}
	if (negative) {
		msg = ch_asprintf("survival: %zu rows with negative '%s' left out", negative, e->tenure_col);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (st)
			goto out;
	}
	if (!m) {
		st = churn_eda_add_note(e, "survival: skipped: no rows with tenure and a label");
		goto out;
	}
	/* segments first (they need the row index before obs is sorted) */
	size_t sj;
	if (churn_dataset_find_col(ds, e->segment_col, &sj) == CHURN_OK &&
	    churn_dataset_get_col_type(ds, sj) == CHURN_COL_CATEGORICAL) {
		size_t nl = churn_dataset_get_nlevels(ds, sj);
		const int32_t *codes = churn_dataset_get_codes(ds, sj);
		e->km_seg = calloc(nl ? nl : 1, sizeof *e->km_seg);
		km_obs *so = malloc(m * sizeof *so);
		if (!e->km_seg || !so) {
			free(so);
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < nl; k++) {
			size_t sm = 0;
			for (size_t r = 0; r < m; r++)
				if (codes[seg_idx[r]] == (int32_t)k)
					so[sm++] = obs[r];
			if (!sm)
				continue;
			km_curve *c = &e->km_seg[e->nkm_seg++];
			if (!(c->segment = ch_strdup(churn_dataset_get_level(ds, sj, k)))) {
				free(so);
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
				goto out;
			}
			if ((st = km_fit(so, sm, loglog, c))) {
				free(so);
				goto out;
			}
		}
		free(so);
	} else {
		msg = ch_asprintf("survival: no curves by segment: no categorical column '%s' (set eda.segment_col)",
		                  e->segment_col);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (st)
			goto out;
	}
	if ((st = km_fit(obs, m, loglog, &e->km_all)))
		goto out;
	e->has_km = true;
	(void)p;
out:
	free(obs);
	free(seg_idx);
	return st;
}

/* ---- compute ---- */

/* The tenure, charges and segment column names and the band kind, from p's eda.* keys. */
static churn_status set_columns(churn_eda *e, const churn_params *p)
{
	e->tenure_col = ch_strdup(p ? churn_params_get_str(p, "eda.tenure_col") : "tenure");
	e->charges_col = ch_strdup(p ? churn_params_get_str(p, "eda.charges_col") : "MonthlyCharges");
	e->segment_col = ch_strdup(p ? churn_params_get_str(p, "eda.segment_col") : "Contract");
	e->band = ch_strdup(p ? churn_params_get_str(p, "eda.km_band") : "loglog");
	if (!e->tenure_col || !e->charges_col || !e->segment_col || !e->band)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	e->corr_max = p ? (size_t)churn_params_get_int(p, "eda.corr_max_features") : 50;
	e->fig_max = p ? (size_t)churn_params_get_int(p, "eda.fig_max_columns") : 24;
	return CHURN_OK;
}

/* Categoricals with at most GRID_MAX_LEVELS levels share one figure of small multiples. */
#define GRID_MAX_LEVELS 12

/*
 * Figures of small multiples and per-column figures draw at most e->fig_max
 * columns each (those most associated with churn); eda.json keeps every
 * column. Say so when a figure leaves columns out.
 */
static churn_status note_figure_caps(churn_eda *e)
{
	size_t ngrid = 0, nbig = 0;
	for (size_t i = 0; i < e->ncat; i++) {
		ngrid += e->cats[i].nlevels >= 1 && e->cats[i].nlevels <= GRID_MAX_LEVELS;
		nbig += e->cats[i].nlevels > GRID_MAX_LEVELS;
	}
	struct {
		size_t n;
		const char *fmt;
	} caps[3] = {
		{e->nhist, "figures: histogram_numeric_columns shows the %zu of %zu numeric columns most correlated with "
		           "%s (|Pearson r|; eda.fig_max_columns); eda.json has every histogram"},
		{ngrid, "figures: churn_rate_categories shows the %zu of %zu categorical columns (at most 12 levels) most "
		        "associated with %s (Cramer's V; eda.fig_max_columns); eda.json has every column"},
		{nbig, "figures: churn_rate_<column> is drawn for the %zu of %zu categorical columns with more than 12 "
		       "levels most associated with %s (Cramer's V; eda.fig_max_columns); eda.json has every column"},
	};
	for (size_t k = 0; k < 3; k++) {
		if (caps[k].n <= e->fig_max)
			continue;
		char *msg = ch_asprintf(caps[k].fmt, e->fig_max, caps[k].n, e->target);
		churn_status st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (st)
			return st;
	}
	return CHURN_OK;
}

churn_status churn_eda_compute(const churn_dataset *ds, const churn_params *p, churn_eda **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_compute: NULL argument");
	churn_status st = CHURN_OK;
	int8_t *y = NULL;
	const double **ncols = NULL;
	const char **nnames = NULL;
	double *ycol = NULL;
	churn_eda *e = calloc(1, sizeof *e);
	if (!e)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t tj = 0;
	if ((st = target_labels(ds, p, &tj, &y, &e->target, &e->positive)))
		goto out;
	if ((st = set_columns(e, p)))
		goto out;
	if (strcmp(e->band, "loglog") != 0 && strcmp(e->band, "plain") != 0) {
		st = ch_fail(CHURN_E_INVALID_ARG, "eda.km_band: '%s' is not loglog or plain", e->band);
		goto out;
	}
	size_t n = churn_dataset_get_nrows(ds), nc = churn_dataset_get_ncols(ds);
	e->rows = n;
	for (size_t i = 0; i < n; i++)
		if (y[i] >= 0) {
			e->labelled++;
			e->positives += (size_t)y[i];
		}
	if (!e->labelled) {
		st = ch_fail(CHURN_E_INVALID_ARG, "eda: target column '%s' has no labelled rows", e->target);
		goto out;
	}
	if (e->labelled < n) {
		char *msg = ch_asprintf("%zu rows with a missing target left out", n - e->labelled);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (st)
			goto out;
	}
	size_t bins = p ? (size_t)churn_params_get_int(p, "eda.hist_bins") : 20;
	if (bins < 2)
		bins = 20;
	e->cats = calloc(nc ? nc : 1, sizeof *e->cats);
	e->hists = calloc(nc ? nc : 1, sizeof *e->hists);
	ncols = calloc(nc + 1, sizeof *ncols);
	nnames = calloc(nc + 1, sizeof *nnames);
	ycol = malloc((n ? n : 1) * sizeof *ycol);
	if (!e->cats || !e->hists || !ncols || !nnames || !ycol) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t nnum = 0;
	for (size_t j = 0; j < nc; j++) {
		if (j == tj)
			continue;
		const char *name = churn_dataset_get_col_name(ds, j);
		if (is_id_col(p, name))
			continue;
		churn_col_type t = churn_dataset_get_col_type(ds, j);
		if (t == CHURN_COL_CATEGORICAL) {
			st = cat_stats(ds, j, y, &e->cats[e->ncat++]);
		} else if (t == CHURN_COL_NUMERIC) {
			st = hist_stats(ds, j, y, bins, &e->hists[e->nhist++]);
			ncols[nnum] = churn_dataset_get_numeric(ds, j);
			nnames[nnum++] = name;
		}
		if (st)
			goto out;
		if (!ch_progress(p, "eda", j + 1, nc + 2)) {
			st = ch_fail(CHURN_E_STATE, "eda: cancelled");
			goto out;
		}
	}
	/* default correlation: numeric columns and the target (labelled rows; others NaN) */
	for (size_t i = 0; i < n; i++)
		ycol[i] = y[i] < 0 ? NAN : (double)y[i];
	ncols[nnum] = ycol;
	nnames[nnum] = e->target;
	for (size_t j = 0; j < e->nhist; j++)
		e->hists[j].r = NAN;
	if (n >= 2) {
		size_t *ones = malloc((nnum + 1) * sizeof *ones);
		if (!ones) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j <= nnum; j++)
			ones[j] = 1;
		st = set_corr(e, n, nnum + 1, nnames, ncols, ones, true);
		free(ones);
		if (st)
			goto out;
		for (size_t j = 0; j < e->nhist; j++) /* the histograms are the numeric columns, in order */
			e->hists[j].r = e->tr_r[j];
	}
	if ((st = note_figure_caps(e)))
		goto out;
	if ((st = km_compute(e, ds, y, p)))
		goto out;
	ch_log(p, CHURN_LOG_DEBUG, "eda: %zu rows, %zu categorical, %zu numeric columns", n, e->ncat, e->nhist);
out:
	free(y);
	free(ncols);
	free(nnames);
	free(ycol);
	if (st) {
		churn_eda_free(e);
		return st;
	}
	*out = e;
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_eda_get_level_rate(const churn_eda *e, const char *column, const char *level, double *out_rate,
                                      size_t *out_count)
{
	if (!e || !column || !level)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_get_level_rate: NULL argument");
	for (size_t i = 0; i < e->ncat; i++) {
		if (strcmp(e->cats[i].name, column) != 0)
			continue;
		for (size_t k = 0; k < e->cats[i].nlevels; k++) {
			const eda_level *L = &e->cats[i].levels[k];
			if (L->value && strcmp(L->value, level) == 0) {
				if (out_rate)
					*out_rate = L->rate;
				if (out_count)
					*out_count = L->count;
				return CHURN_OK;
			}
		}
		return ch_fail(CHURN_E_NOTFOUND, "eda: column '%s' has no level '%s'", column, level);
	}
	return ch_fail(CHURN_E_NOTFOUND, "eda: no categorical column '%s'", column);
}

/* ---- importance ---- */

churn_status churn_eda_set_importance(churn_eda *e, const char *const *names, const double *impurity,
                                      const double *permutation, size_t n)
{
	if (!e || !names || (!impurity && !permutation) || !n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_importance: need names and impurity or permutation");
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			return ch_fail(CHURN_E_INVALID_ARG, "eda importance: feature %zu has no name", i);
		/* a NaN permutation importance means "not computed" (wide data: eda.importance_max_columns) */
		if ((impurity && !isfinite(impurity[i])) || (permutation && isinf(permutation[i])))
			return ch_fail(CHURN_E_NUMERIC, "eda importance: feature '%s' has a non-finite importance", names[i]);
	}
	char **nn = calloc(n, sizeof *nn);
	double *im = impurity ? malloc(n * sizeof *im) : NULL;
	double *pm = permutation ? malloc(n * sizeof *pm) : NULL;
	if (!nn || (impurity && !im) || (permutation && !pm))
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (!(nn[i] = ch_strdup(names[i])))
			goto nomem;
	if (im)
		memcpy(im, impurity, n * sizeof *im);
	if (pm)
		memcpy(pm, permutation, n * sizeof *pm);
	free_strv(e->imp_names, e->nimp);
	free(e->imp_impurity);
	free(e->imp_perm);
	e->imp_names = nn;
	e->imp_impurity = im;
	e->imp_perm = pm;
	e->nimp = n;
	drop_notes(e, "importance: permutation computed"); /* of the importances replaced */
	size_t ncomp = 0;
	for (size_t i = 0; pm && i < n; i++)
		ncomp += !isnan(pm[i]);
	if (pm && ncomp < n) {
		char *msg = ch_asprintf("importance: permutation computed for the %zu of %zu columns of highest impurity "
		                        "importance (eda.importance_max_columns); null for the others",
		                        ncomp, n);
		churn_status st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (st)
			return st;
	}
	ch_clear_error();
	return CHURN_OK;
nomem:
	free_strv(nn, n);
	free(im);
	free(pm);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* ---- revenue at risk ---- */

churn_status churn_eda_set_revenue_at_risk(churn_eda *e, const churn_dataset *ds, const double *proba,
                                           double threshold)
{
	if (!e || !ds)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_revenue_at_risk: NULL argument");
	if (!(threshold >= 0 && threshold <= 1))
		return ch_fail(CHURN_E_INVALID_ARG, "eda revenue at risk: threshold must be in [0, 1]");
	rev_clear(e);
	if (!proba)
		return churn_eda_add_note(e, "revenue_at_risk: skipped: no churn probabilities (no model scores)");
	size_t cj, n = churn_dataset_get_nrows(ds);
	if (churn_dataset_find_col(ds, e->charges_col, &cj) != CHURN_OK ||
	    churn_dataset_get_col_type(ds, cj) != CHURN_COL_NUMERIC) {
		char *msg = ch_asprintf("revenue_at_risk: skipped: no numeric charges column '%s' (set eda.charges_col)",
		                        e->charges_col);
		churn_status st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
		if (!st)
			ch_clear_error();
		return st;
	}
	for (size_t i = 0; i < n; i++)
		if (!(proba[i] >= 0 && proba[i] <= 1))
			return ch_fail(CHURN_E_NUMERIC, "eda revenue at risk: probability of row %zu is not in [0, 1]", i);
	const double *ch = churn_dataset_get_numeric(ds, cj);
	size_t sj, nl = 0;
	const int32_t *codes = NULL;
	if (churn_dataset_find_col(ds, e->segment_col, &sj) == CHURN_OK &&
	    churn_dataset_get_col_type(ds, sj) == CHURN_COL_CATEGORICAL) {
		nl = churn_dataset_get_nlevels(ds, sj);
		codes = churn_dataset_get_codes(ds, sj);
		e->rev_segs = calloc(nl ? nl : 1, sizeof *e->rev_segs);
		if (!e->rev_segs)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		e->rev_nseg = nl;
		for (size_t k = 0; k < nl; k++)
			if (!(e->rev_segs[k].segment = ch_strdup(churn_dataset_get_level(ds, sj, k)))) {
				rev_clear(e);
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			}
	}
	e->rev_threshold = threshold;
	e->rev_customers = e->rev_at_risk = 0;
	e->rev_total = e->rev_at_risk_sum = e->rev_expected = 0;
	size_t nocharge = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(ch[i])) {
			nocharge++;
			continue;
		}
		bool risk = proba[i] > threshold;
		e->rev_customers++;
		e->rev_total += ch[i];
		e->rev_expected += proba[i] * ch[i];
		if (risk) {
			e->rev_at_risk++;
			e->rev_at_risk_sum += ch[i];
		}
		if (codes && codes[i] >= 0) {
			rev_seg *s = &e->rev_segs[codes[i]];
			s->customers++;
			s->revenue += ch[i];
			s->expected_loss += proba[i] * ch[i];
			if (risk) {
				s->at_risk++;
				s->revenue_at_risk += ch[i];
			}
		}
	}
	e->has_rev = true;
	churn_status st = CHURN_OK;
	if (nocharge) {
		char *msg = ch_asprintf("revenue_at_risk: %zu rows without '%s' left out", nocharge, e->charges_col);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
	}
	if (!codes && !st) {
		char *msg = ch_asprintf("revenue_at_risk: no breakdown: no categorical column '%s'", e->segment_col);
		st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(msg);
	}
	if (!st)
		ch_clear_error();
	return st;
}

/* ---- JSON ---- */

static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *darr(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, num(v[i]));
	return a;
}

static cJSON *zarr(const size_t *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

static cJSON *sarr(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i] ? v[i] : ""));
	return a;
}

static cJSON *km_json(const km_curve *c)
{
	cJSON *o = cJSON_CreateObject();
	if (c->segment)
		cJSON_AddStringToObject(o, "segment", c->segment);
	cJSON_AddNumberToObject(o, "n", (double)c->n);
	cJSON_AddNumberToObject(o, "events", (double)c->events);
	cJSON_AddItemToObject(o, "median", num(c->median));
	cJSON_AddItemToObject(o, "time", darr(c->time, c->m));
	cJSON_AddItemToObject(o, "at_risk", zarr(c->at_risk, c->m));
	cJSON_AddItemToObject(o, "events_at", zarr(c->ev, c->m));
	cJSON_AddItemToObject(o, "survival", darr(c->surv, c->m));
	cJSON_AddItemToObject(o, "se", darr(c->se, c->m));
	cJSON_AddItemToObject(o, "ci_low", darr(c->lo, c->m));
	cJSON_AddItemToObject(o, "ci_high", darr(c->hi, c->m));
	return o;
}

static cJSON *rev_seg_json(const char *name, size_t cust, size_t risk, double rev, double rar, double exp_loss)
{
	cJSON *o = cJSON_CreateObject();
	if (name)
		cJSON_AddStringToObject(o, "segment", name);
	cJSON_AddNumberToObject(o, "customers", (double)cust);
	cJSON_AddNumberToObject(o, "customers_at_risk", (double)risk);
	cJSON_AddItemToObject(o, "monthly_revenue", num(rev));
	cJSON_AddItemToObject(o, "monthly_revenue_at_risk", num(rar));
	cJSON_AddItemToObject(o, "expected_monthly_loss", num(exp_loss));
	return o;
}

/* The revenue_at_risk member of eda.json (null when not computed). */
static cJSON *rev_json(const churn_eda *e)
{
	if (e->has_rev) {
		cJSON *o = rev_seg_json(NULL, e->rev_customers, e->rev_at_risk, e->rev_total, e->rev_at_risk_sum,
		                        e->rev_expected);
		cJSON_AddItemToObject(o, "threshold", num(e->rev_threshold));
		cJSON_AddStringToObject(o, "charges_col", e->charges_col);
		if (e->rev_segs) {
			cJSON *b = cJSON_AddObjectToObject(o, "by_segment");
			cJSON_AddStringToObject(b, "column", e->segment_col);
			cJSON *sv = cJSON_AddArrayToObject(b, "segments");
			for (size_t k = 0; k < e->rev_nseg; k++) {
				const rev_seg *s = &e->rev_segs[k];
				cJSON_AddItemToArray(sv, rev_seg_json(s->segment, s->customers, s->at_risk, s->revenue,
				                                      s->revenue_at_risk, s->expected_loss));
			}
		} else {
			cJSON_AddNullToObject(o, "by_segment");
		}
		return o;
	}
	return cJSON_CreateNull();
}

churn_status churn_eda_to_json(const churn_eda *e, char **out_json)
{
	if (!e || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_to_json: NULL argument");
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char ts[32];
	ch_format_time_utc(ts, sizeof ts, (int64_t)time(NULL));
	cJSON_AddStringToObject(root, "generated_at", ts);
	cJSON_AddNumberToObject(root, "rows", (double)e->rows);
	cJSON *t = cJSON_AddObjectToObject(root, "target");
	cJSON_AddStringToObject(t, "name", e->target);
	cJSON_AddStringToObject(t, "positive", e->positive);
	cJSON_AddNumberToObject(t, "labelled", (double)e->labelled);
	cJSON_AddNumberToObject(t, "positive_count", (double)e->positives);
	cJSON_AddItemToObject(t, "rate", num((double)e->positives / (double)e->labelled));

	if (e->ncorr) {
		cJSON *c = cJSON_AddObjectToObject(root, "correlation");
		cJSON_AddStringToObject(c, "method", "pearson");
		cJSON_AddItemToObject(c, "features", sarr(e->corr_names, e->ncorr));
		cJSON *m = cJSON_AddArrayToObject(c, "matrix");
		for (size_t i = 0; i < e->ncorr; i++)
			cJSON_AddItemToArray(m, darr(e->corr + i * e->ncorr, e->ncorr));
		cJSON_AddNumberToObject(c, "columns_total", (double)e->corr_total);
		cJSON_AddNumberToObject(c, "columns_shown", (double)e->ncorr);
		if (e->corr_reduced) {
			char why[200];
			size_t keep = e->ncorr - e->corr_has_target, nf = e->corr_total - e->corr_has_target;
			if (e->corr_has_target)
				snprintf(why, sizeof why, "top %zu of %zu features by |correlation with %s| (eda.corr_max_features)",
				         keep, nf, e->corr_names[e->ncorr - 1]);
			else
				snprintf(why, sizeof why, "first %zu of %zu features (eda.corr_max_features; no target)", keep, nf);
			cJSON_AddStringToObject(c, "reduced", why);
		} else {
			cJSON_AddNullToObject(c, "reduced");
		}
		if (e->corr_has_target) {
			cJSON *w = cJSON_AddObjectToObject(c, "with_target");
			cJSON_AddStringToObject(w, "target", e->corr_names[e->ncorr - 1]);
			cJSON_AddItemToObject(w, "features", sarr(e->tr_names, e->ntr));
			cJSON_AddItemToObject(w, "r", darr(e->tr_r, e->ntr));
		}
	} else {
		cJSON_AddNullToObject(root, "correlation");
	}

	cJSON *cats = cJSON_AddArrayToObject(root, "categorical");
	for (size_t i = 0; i < e->ncat; i++) {
		const eda_cat *c = &e->cats[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddNumberToObject(o, "n", (double)c->n);
		cJSON_AddItemToObject(o, "chi2", num(c->chi2));
		cJSON_AddNumberToObject(o, "df", (double)c->df);
		cJSON_AddItemToObject(o, "p_value", num(c->p_value));
		cJSON_AddItemToObject(o, "cramers_v", num(c->cramers_v));
		cJSON *lv = cJSON_AddArrayToObject(o, "levels");
		for (size_t k = 0; k < c->nlevels; k++) {
			const eda_level *L = &c->levels[k];
			cJSON *l = cJSON_CreateObject();
			if (L->value)
				cJSON_AddStringToObject(l, "value", L->value);
			else
				cJSON_AddNullToObject(l, "value");
			cJSON_AddNumberToObject(l, "count", (double)L->count);
			cJSON_AddNumberToObject(l, "churned", (double)L->churned);
			cJSON_AddItemToObject(l, "rate", num(L->rate));
			cJSON_AddItemToObject(l, "ci_low", num(L->lo));
			cJSON_AddItemToObject(l, "ci_high", num(L->hi));
			cJSON_AddItemToArray(lv, l);
		}
		cJSON_AddItemToArray(cats, o);
	}

	cJSON *hs = cJSON_AddArrayToObject(root, "histograms");
	for (size_t i = 0; i < e->nhist; i++) {
		const eda_hist *h = &e->hists[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", h->name);
		cJSON_AddItemToObject(o, "edges", darr(h->edges, h->nbins + 1));
		cJSON_AddItemToObject(o, "churned", darr(h->churned, h->nbins));
		cJSON_AddItemToObject(o, "retained", darr(h->retained, h->nbins));
		cJSON_AddNumberToObject(o, "missing", (double)h->missing);
		cJSON_AddItemToArray(hs, o);
	}

	if (e->nimp) {
		cJSON *o = cJSON_AddObjectToObject(root, "importance");
		cJSON_AddItemToObject(o, "features", sarr(e->imp_names, e->nimp));
		if (e->imp_impurity)
			cJSON_AddItemToObject(o, "impurity", darr(e->imp_impurity, e->nimp));
		else
			cJSON_AddNullToObject(o, "impurity");
		if (e->imp_perm)
			cJSON_AddItemToObject(o, "permutation", darr(e->imp_perm, e->nimp));
		else
			cJSON_AddNullToObject(o, "permutation");
	} else {
		cJSON_AddNullToObject(root, "importance");
	}

	if (e->has_km) {
		cJSON *o = cJSON_AddObjectToObject(root, "survival");
		cJSON_AddStringToObject(o, "method", "kaplan-meier");
		cJSON_AddStringToObject(o, "time_col", e->tenure_col);
		cJSON_AddStringToObject(o, "event", "churned");
		cJSON_AddStringToObject(o, "band", e->band);
		cJSON_AddNumberToObject(o, "confidence", 0.95);
		cJSON_AddItemToObject(o, "overall", km_json(&e->km_all));
		if (e->nkm_seg) {
			cJSON *b = cJSON_AddObjectToObject(o, "by_segment");
			cJSON_AddStringToObject(b, "column", e->segment_col);
			cJSON *cv = cJSON_AddArrayToObject(b, "curves");
			for (size_t i = 0; i < e->nkm_seg; i++)
				cJSON_AddItemToArray(cv, km_json(&e->km_seg[i]));
		} else {
			cJSON_AddNullToObject(o, "by_segment");
		}
	} else {
		cJSON_AddNullToObject(root, "survival");
	}

	cJSON_AddItemToObject(root, "revenue_at_risk", rev_json(e));
	cJSON_AddItemToObject(root, "notes", sarr(e->notes, e->nnotes));

	char *s = ch_json_print(root, false);
	cJSON_Delete(root);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* hand back memory the caller frees with churn_free() (== free) */
	*out_json = s;
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_eda_save_json(const churn_eda *e, const char *path)
{
	if (!e || !path || !*path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_save_json: NULL argument");
	char *json = NULL;
	churn_status st = churn_eda_to_json(e, &json);
	if (st)
		return st;
	size_t len = strlen(json);
	json[len] = '\0';
	char *withnl = ch_asprintf("%s\n", json);
	free(json);
	if (!withnl)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	st = ch_write_file_atomic(path, withnl, len + 1);
	free(withnl);
	if (!st)
		ch_clear_error();
	return st;
}

/* ---- figures ---- */

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


static churn_status draw_categorical(const churn_eda *e, const eda_cat *c, const char *dir, const ch_fig *fig)
{
	size_t n = c->nlevels;
	churn_status st = CHURN_OK;
	rank_item *rk = malloc(n * sizeof *rk);
	const char **labels = malloc(n * sizeof *labels);
	const char **annot = malloc(n * sizeof *annot);
	double *v = malloc(n * sizeof *v), *lo = malloc(n * sizeof *lo), *hi = malloc(n * sizeof *hi);
	char(*abuf)[64] = malloc(n * sizeof *abuf);
	char *path = fig_path(dir, "churn_rate_", c->name);
	char *title = NULL, *reflab = NULL;
	if (!rk || !labels || !annot || !v || !lo || !hi || !abuf || !path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		rk[k] = (rank_item){k, c->levels[k].rate};
	qsort(rk, n, sizeof *rk, cmp_rank_desc);
	for (size_t r = 0; r < n; r++) {
		const eda_level *L = &c->levels[rk[r].i];
		labels[r] = L->value ? L->value : "(missing)";
		v[r] = L->rate;
		lo[r] = L->lo;
		hi[r] = L->hi;
		char p[32];
		pct1(p, sizeof p, L->rate);
		snprintf(abuf[r], sizeof abuf[r], "%s  (n = %zu)", p, L->count);
		annot[r] = abuf[r];
	}
	double overall = (double)e->positives / (double)e->labelled;
	char pv[32], cv[32], ov[32];
	pvalue_text(pv, sizeof pv, c->p_value);
	fixed2(cv, sizeof cv, c->cramers_v);
	pct1(ov, sizeof ov, overall);
	title = ch_asprintf("Churn rate by %s   (chi-square p %s%s, Cramér's V %s)", c->name,
	                    pv[0] == '<' ? "" : "= ", pv, cv);
	reflab = ch_asprintf("overall %s", ov);
	if (!title || !reflab) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	ch_hbar_panel P = {NULL,     "Churn rate (% of customers; whiskers: 95% Wilson interval)",
	                   n,        labels,
	                   v,        lo,
	                   hi,       annot,
	                   overall,  reflab,
	                   true,     CH_COL_VERMILLION};
	ch_fig f = *fig;
	if (n > 12)
		f.height = f.height > 300 + (int)n * 32 ? f.height : 300 + (int)n * 32;
	st = ch_plot_hbars(path, &f, title, 1, &P);
out:
	free(rk);
	free(labels);
	free(annot);
	free(v);
	free(lo);
	free(hi);
	free(abuf);
	free(path);
	free(title);
	free(reflab);
	return st;
}

/* Bars of one categorical, levels sorted by churn rate (highest first). */
typedef struct cat_bars {
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

static churn_status cat_bars_fill(const eda_cat *c, double overall, cat_bars *cb, ch_hbar_panel *P)
{
	size_t n = c->nlevels;
	rank_item *rk = malloc(n * sizeof *rk);
	cb->labels = malloc(n * sizeof *cb->labels);
	cb->annot = malloc(n * sizeof *cb->annot);
	cb->v = malloc(n * sizeof *cb->v);
	cb->lo = malloc(n * sizeof *cb->lo);
	cb->hi = malloc(n * sizeof *cb->hi);
	cb->abuf = malloc(n * sizeof *cb->abuf);
	char pv[32], cv[32];
	pvalue_text(pv, sizeof pv, c->p_value);
	fixed2(cv, sizeof cv, c->cramers_v);
	cb->title = ch_asprintf("%s   (V %s, p %s%s)", c->name, cv, pv[0] == '<' ? "" : "= ", pv);
	if (!rk || !cb->labels || !cb->annot || !cb->v || !cb->lo || !cb->hi || !cb->abuf || !cb->title) {
		free(rk);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t k = 0; k < n; k++)
		rk[k] = (rank_item){k, c->levels[k].rate};
	qsort(rk, n, sizeof *rk, cmp_rank_desc);
	for (size_t r = 0; r < n; r++) {
		const eda_level *L = &c->levels[rk[r].i];
		cb->labels[r] = L->value ? L->value : "(missing)";
		cb->v[r] = L->rate;
		cb->lo[r] = L->lo;
		cb->hi[r] = L->hi;
		char pc[32];
		pct1(pc, sizeof pc, L->rate);
		snprintf(cb->abuf[r], sizeof cb->abuf[r], "%s  n=%zu", pc, L->count);
		cb->annot[r] = cb->abuf[r];
	}
	free(rk);
	*P = (ch_hbar_panel){cb->title, NULL,  n,       cb->labels, cb->v, cb->lo, cb->hi, cb->annot,
	                     overall,   NULL, true, CH_COL_VERMILLION};
	return CHURN_OK;
}

static int cmp_v_desc(const void *a, const void *b)
{
	const eda_cat *x = *(const eda_cat *const *)a, *y = *(const eda_cat *const *)b;
	double u = isfinite(x->cramers_v) ? x->cramers_v : -1, v = isfinite(y->cramers_v) ? y->cramers_v : -1;
	if (u != v)
		return u > v ? -1 : 1;
	return strcmp(x->name, y->name);
}

static churn_status draw_categorical_grid(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	size_t np = 0;
	for (size_t i = 0; i < e->ncat; i++)
		np += e->cats[i].nlevels >= 1 && e->cats[i].nlevels <= GRID_MAX_LEVELS;
	if (!np)
		return CHURN_OK;
	churn_status st = CHURN_OK;
	const eda_cat **order = malloc(np * sizeof *order);
	cat_bars *cb = calloc(np, sizeof *cb);
	ch_hbar_panel *P = calloc(np, sizeof *P);
	char *path = fig_path(dir, "churn_rate_categories", NULL);
	char *sub = NULL;
	if (!order || !cb || !P || !path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < e->ncat; i++)
		if (e->cats[i].nlevels >= 1 && e->cats[i].nlevels <= GRID_MAX_LEVELS)
			order[k++] = &e->cats[i];
	qsort(order, np, sizeof *order, cmp_v_desc); /* strongest association first */
	size_t nall = np;
	if (np > e->fig_max)
		np = e->fig_max; /* the strongest; eda.json has them all (and a note) */
	double overall = (double)e->positives / (double)e->labelled;
	for (k = 0; k < np; k++)
		if ((st = cat_bars_fill(order[k], overall, &cb[k], &P[k])))
			goto out;
	char ov[32];
	pct1(ov, sizeof ov, overall);
	sub = ch_asprintf("Churn rate per level (%% of customers, 95%% Wilson interval, n customers); dashed: overall "
	                  "%s; panels by Cramér's V",
	                  ov);
	if (!sub) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t ncols = np >= 5 ? 3 : np >= 2 ? 2 : 1, nrows = (np + ncols - 1) / ncols;
	ch_fig f = *fig;
	f.width = fig->width * (int)(ncols == 3 ? 3 : 5) / (ncols == 3 ? 2 : 4);
	if (ncols == 1)
		f.width = fig->width;
	/* about 36 px per bar, 80 px per row for its title and tick labels, 100 px for the titles */
	int h = 100;
	for (size_t r = 0; r < nrows; r++) {
		size_t m = 0;
		for (size_t j = 0; j < ncols && r * ncols + j < np; j++)
			if (P[r * ncols + j].n > m)
				m = P[r * ncols + j].n;
		h += 80 + 36 * (int)m;
	}
	f.height = h < 400 ? 400 : h > 8000 ? 8000 : h;
	char title[200];
	if (np < nall)
		snprintf(title, sizeof title, "Churn rate by level: the %zu of %zu categorical columns most associated with "
		         "%s (n = %zu)", np, nall, e->target, e->labelled);
	else
		snprintf(title, sizeof title, "Churn rate by level of %zu categorical columns (n = %zu)", np, e->labelled);
	st = ch_plot_hbar_grid(path, &f, title, sub, np, ncols, P);
out:
	for (size_t i = 0; cb && i < np; i++)
		cat_bars_free(&cb[i]);
	free(cb);
	free(P);
	free(order);
	free(path);
	free(sub);
	return st;
}

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
	qsort(rk, n, sizeof *rk, cmp_rank_desc);
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

static churn_status draw_km(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	char *path = fig_path(dir, "km_retention", NULL);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* curves start at (0, 1) */
	size_t ns = 1 + e->nkm_seg;
	ch_line_series *ser = calloc(ns, sizeof *ser);
	double **bufs = calloc(ns * 4, sizeof *bufs);
	char **labels = calloc(ns, sizeof *labels);
	churn_status st = CHURN_OK;
	if (!ser || !bufs || !labels) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	double tmax = 1;
	for (size_t s = 0; s < ns; s++) {
		const km_curve *c = s == 0 ? &e->km_all : &e->km_seg[s - 1];
		size_t m = c->m + 1;
		double *x = malloc(m * sizeof *x), *y = malloc(m * sizeof *y), *lo = malloc(m * sizeof *lo),
		       *hi = malloc(m * sizeof *hi);
		bufs[s * 4] = x;
		bufs[s * 4 + 1] = y;
		bufs[s * 4 + 2] = lo;
		bufs[s * 4 + 3] = hi;
		if (!x || !y || !lo || !hi) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		x[0] = c->m && c->time[0] < 0 ? c->time[0] : 0;
		y[0] = lo[0] = hi[0] = 1;
		for (size_t i = 0; i < c->m; i++) {
			x[i + 1] = c->time[i];
			y[i + 1] = c->surv[i];
			lo[i + 1] = isfinite(c->lo[i]) ? c->lo[i] : c->surv[i];
			hi[i + 1] = isfinite(c->hi[i]) ? c->hi[i] : c->surv[i];
			if (c->time[i] > tmax)
				tmax = c->time[i];
		}
		char med[48];
		if (isfinite(c->median)) {
			fixed2(med, sizeof med, c->median);
			char *dot = strstr(med, ".00");
			if (dot)
				*dot = '\0';
		} else {
			snprintf(med, sizeof med, "not reached");
		}
		if (s == 0)
			labels[s] = ch_asprintf("All customers (n = %zu, median %s%s)", c->n, med,
			                        isfinite(c->median) ? " months" : "");
		else
			labels[s] = ch_asprintf("%s: median %s%s", c->segment, med, isfinite(c->median) ? " months" : "");
		if (!labels[s]) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		ser[s] = (ch_line_series){s == 0 ? NULL : labels[s], x, y, m, lo, hi, true, false,
		                          s == 0 ? CH_COL_BLUE : ch_plot_series_color(s - 1)};
	}
	double ymin = 1;
	for (size_t s = 0; s < ns; s++)
		for (size_t i = 0; i < ser[s].n; i++)
			if (ser[s].lo[i] < ymin)
				ymin = ser[s].lo[i];
	ymin = floor(ymin * 10) / 10 - 0.05;
	if (ymin < 0)
		ymin = 0;
	char xl[160], yl[] = "Share of customers retained";
	snprintf(xl, sizeof xl, "%s (months)", e->tenure_col);
	ch_line_panel P[2] = {
		{labels[0], xl, yl, 0, tmax, ymin, 1.01, true, 1, ser, 2},
		{NULL, xl, yl, 0, tmax, ymin, 1.01, true, ns - 1, ser + 1, 2},
	};
	char t2[160];
	snprintf(t2, sizeof t2, "By %s", e->segment_col);
	P[1].title = t2;
	char title[256];
	snprintf(title, sizeof title, "Kaplan-Meier retention over %s (event: churn; shaded: 95%% %s band)",
	         e->tenure_col, strcmp(e->band, "plain") == 0 ? "Greenwood" : "log-log");
	st = ch_plot_lines(path, fig, title, e->nkm_seg ? 2 : 1, P);
out:
	for (size_t i = 0; bufs && i < ns * 4; i++)
		free(bufs[i]);
	free(bufs);
	free_strv(labels, labels ? ns : 0);
	free(ser);
	free(path);
	return st;
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

static churn_status draw_revenue(const churn_eda *e, const char *dir, const ch_fig *fig)
{
	size_t n = e->rev_nseg ? e->rev_nseg : 1;
	churn_status st = CHURN_OK;
	const char **labels = malloc(n * sizeof *labels), **a1 = malloc(n * sizeof *a1), **a2 = malloc(n * sizeof *a2);
	double *rev = malloc(n * sizeof *rev), *cust = malloc(n * sizeof *cust);
	char(*b1)[112] = malloc(n * sizeof *b1), (*b2)[112] = malloc(n * sizeof *b2);
	char *path = fig_path(dir, "revenue_at_risk", NULL), *title = NULL, *t1 = NULL, *t2 = NULL;
	if (!labels || !a1 || !a2 || !rev || !cust || !b1 || !b2 || !path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const rev_seg *s = e->rev_nseg ? &e->rev_segs[k] : NULL;
		size_t c = s ? s->customers : e->rev_customers, r = s ? s->at_risk : e->rev_at_risk;
		double tot = s ? s->revenue : e->rev_total, rr = s ? s->revenue_at_risk : e->rev_at_risk_sum;
		labels[k] = s ? (s->segment ? s->segment : "(missing)") : "All customers";
		rev[k] = rr;
		cust[k] = (double)r;
		char x[32], y[32], pc[32];
		thousands(x, sizeof x, rr);
		thousands(y, sizeof y, tot);
		pct1(pc, sizeof pc, tot > 0 ? rr / tot : NAN);
		snprintf(b1[k], sizeof b1[k], "%s (%s)", x, pc);
		thousands(x, sizeof x, (double)r);
		thousands(y, sizeof y, (double)c);
		pct1(pc, sizeof pc, c ? (double)r / (double)c : NAN);
		snprintf(b2[k], sizeof b2[k], "%s of %s (%s)", x, y, pc);
		a1[k] = b1[k];
		a2[k] = b2[k];
	}
	char x[32], y[32], pc[32], th[32], el[32];
	thousands(x, sizeof x, e->rev_at_risk_sum);
	thousands(y, sizeof y, e->rev_total);
	pct1(pc, sizeof pc, e->rev_total > 0 ? e->rev_at_risk_sum / e->rev_total : NAN);
	fixed2(th, sizeof th, e->rev_threshold);
	thousands(el, sizeof el, e->rev_expected);
	title = ch_asprintf("Revenue at risk: %s of %s a month (%s) scored above %s", x, y, pc, th);
	(void)el;
	t1 = ch_asprintf("Monthly revenue at risk by %s (share)", e->rev_nseg ? e->segment_col : "customer");
	t2 = ch_asprintf("Customers at risk by %s", e->rev_nseg ? e->segment_col : "customer");
	if (!title || !t1 || !t2) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	char xl[200];
	snprintf(xl, sizeof xl, "Currency units per month (sum of %s)", e->charges_col);
	ch_hbar_panel P[2] = {
		{t1, xl, n, labels, rev, NULL, NULL, a1, NAN, NULL, false, CH_COL_VERMILLION},
		{t2, "Customers scored above the threshold", n, labels, cust, NULL, NULL, a2, NAN, NULL, false,
		 CH_COL_BLUE},
	};
	st = ch_plot_hbars(path, fig, title, 2, P);
out:
	free(labels);
	free(a1);
	free(a2);
	free(rev);
	free(cust);
	free(b1);
	free(b2);
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
	if (!e->has_rev || (p && !churn_params_get_bool(p, "eda.figures")))
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
	qsort(rk, e->nhist, sizeof *rk, cmp_rank_desc);
	for (size_t i = 0; i < nh; i++)
		pick[i] = rk[i].i;
	qsort(pick, nh, sizeof *pick, cmp_size);
	free(rk);
	return CHURN_OK;
}

churn_status churn_eda_draw_figures(const churn_eda *e, const char *dir, const churn_params *p)
{
	if (!e || !dir)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_draw_figures: NULL argument");
	if (p && !churn_params_get_bool(p, "eda.figures"))
		return CHURN_OK;
	churn_status st = ch_plot_check_dir(dir);
	if (st)
		return st;
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	uint64_t total = 3 + (e->ncat < e->fig_max ? e->ncat : e->fig_max) + (e->nhist < e->fig_max ? e->nhist : e->fig_max),
	         done = 0;
	/* correlation heatmap */
	if (e->ncorr >= 2) {
		char *path = fig_path(dir, "correlation_heatmap", NULL);
		if (!path)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		ch_fig f = fig;
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
		st = ch_plot_heatmap(path, &f, title, e->ncorr, (const char *const *)e->corr_names, e->corr);
		free(path);
		if (st)
			return st;
	}
	ch_progress(p, "figures", ++done, total);
	/* histograms: one figure of small multiples, of at most fig_max columns (most correlated with the target) */
	if (e->nhist) {
		size_t nh = e->nhist < e->fig_max ? e->nhist : e->fig_max;
		ch_hist_panel *P = calloc(nh, sizeof *P);
		char **xl = calloc(nh, sizeof *xl);
		size_t *pick = malloc(nh * sizeof *pick);
		char *path = fig_path(dir, "histogram_numeric_columns", NULL);
		st = P && xl && pick && path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
		if (!st)
			st = top_columns(e, nh, pick);
		for (size_t i = 0; !st && i < nh; i++) {
			const eda_hist *h = &e->hists[pick[i]];
			xl[i] = strcmp(h->name, e->tenure_col) == 0    ? ch_asprintf("%s (months)", h->name)
			        : strcmp(h->name, e->charges_col) == 0 ? ch_asprintf("%s (currency units per month)", h->name)
			        : strstr(h->name, "Charges")           ? ch_asprintf("%s (currency units)", h->name)
			                                               : ch_strdup(h->name);
			if (!xl[i])
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
			P[i] = (ch_hist_panel){NULL, xl[i], "Customers (count)", h->nbins, h->edges, {h->retained, h->churned}};
		}
		if (!st) {
			static const char *const labels[2] = {"Retained", "Churned"};
			size_t ncols = nh >= 2 ? 2 : 1, nrows = (nh + ncols - 1) / ncols;
			ch_fig f = fig;
			f.width = ncols == 2 ? fig.width * 3 / 2 : fig.width;
			f.height = 70 + (int)nrows * (fig.height * 9 / 16);
			if (f.height > 8000)
				f.height = 8000;
			char title[200];
			if (nh < e->nhist)
				snprintf(title, sizeof title,
				         "Distribution by churn of the %zu of %zu numeric columns most correlated with %s", nh,
				         e->nhist, e->target);
			else
				snprintf(title, sizeof title, "Distribution of %zu numeric column%s by churn", nh, nh == 1 ? "" : "s");
			st = ch_plot_hist_grid(path, &f, title, nh, ncols, P, labels);
		}
		for (size_t i = 0; xl && i < nh; i++)
			free(xl[i]);
		free(xl);
		free(P);
		free(pick);
		free(path);
		if (st)
			return st;
		done += nh;
		if (!ch_progress(p, "figures", done, total))
			return ch_fail(CHURN_E_STATE, "eda figures: cancelled");
	}
	if ((st = draw_categorical_grid(e, dir, &fig)))
		return st;
	/* categoricals with more levels: one figure each, for at most fig_max of them (strongest association first) */
	size_t nbig = 0;
	for (size_t i = 0; i < e->ncat; i++)
		nbig += e->cats[i].nlevels > GRID_MAX_LEVELS;
	if (nbig) {
		const eda_cat **big = malloc(nbig * sizeof *big);
		if (!big)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		size_t k = 0;
		for (size_t i = 0; i < e->ncat; i++)
			if (e->cats[i].nlevels > GRID_MAX_LEVELS)
				big[k++] = &e->cats[i];
		if (nbig > e->fig_max) {
			qsort(big, nbig, sizeof *big, cmp_v_desc);
			nbig = e->fig_max;
		}
		for (k = 0; k < nbig && !st; k++) {
			st = draw_categorical(e, big[k], dir, &fig);
			if (!st && !ch_progress(p, "figures", ++done, total))
				st = ch_fail(CHURN_E_STATE, "eda figures: cancelled");
		}
		free(big);
		if (st)
			return st;
	}
	if (e->nimp && (st = draw_importance(e, dir, &fig)))
		return st;
	ch_progress(p, "figures", ++done, total);
	if (e->has_km && (st = draw_km(e, dir, &fig)))
		return st;
	if (e->has_rev && (st = draw_revenue(e, dir, &fig)))
		return st;
	ch_progress(p, "figures", total, total);
	ch_clear_error();
	return CHURN_OK;
}

churn_status ch_eda_revenue(const churn_dataset *ds, const churn_params *p, const double *proba, double threshold,
                            churn_eda **out, cJSON **out_json)
{
	churn_eda *e = calloc(1, sizeof *e);
	if (!e)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = set_columns(e, p);
	if (!st)
		st = churn_eda_set_revenue_at_risk(e, ds, proba, threshold);
	cJSON *j = st ? NULL : rev_json(e);
	if (!st && !j)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st) {
		churn_eda_free(e);
		return st;
	}
	*out = e;
	*out_json = j;
	return CHURN_OK;
}
