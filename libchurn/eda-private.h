/*
 * The EDA module's internals, shared by its files (one concern each):
 *   eda.c          the object's lifetime, notes, options, churn_eda_compute()
 *                  and its steps, getters, importances
 *   eda-stats.c    per-column statistics: churn by level (Wilson intervals,
 *                  chi-square, Cramer's V) and histograms split by churn
 *   eda-corr.c     Pearson correlations (the matrix, every feature's r with
 *                  the target), churn_eda_set_correlation()
 *   eda-km.c       Kaplan-Meier retention (Greenwood variance, bands)
 *   eda-revenue.c  revenue at risk, churn_eda_set_revenue_at_risk()
 *   eda-json.c     eda.json: churn_eda_to_json(), churn_eda_save_json()
 *   eda-figures.c  the EDA figures, drawn through plot.c
 */
#ifndef CH_EDA_PRIVATE_H
#define CH_EDA_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/eda.h"
#include "churn/params.h"

/* The normal quantile of a two-sided 95% interval. */
#define CH_EDA_Z95 1.959963984540054

/* Categoricals with at most this many levels share one figure of small multiples. */
#define CH_EDA_GRID_MAX_LEVELS 12

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
	char *time_unit; /* eda.tenure_unit: in every label of the tenure */
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

/* ---- eda.c: shared helpers ---- */

/* An index and its sort key (ch_eda_cmp_rank_desc: highest key first, then lowest index). */
typedef struct rank_item {
	size_t i;
	double v;
} rank_item;
int ch_eda_cmp_rank_desc(const void *a, const void *b);
/* qsort comparator of size_t, ascending. */
int ch_eda_cmp_size(const void *a, const void *b);

/* Free n strings and the vector (v may be NULL). */
void ch_eda_free_strv(char **v, size_t n);

/* Add a formatted note (churn_eda_add_note); CHURN_E_NOMEM. */
churn_status ch_eda_note(churn_eda *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Remove the notes that start with prefix (they describe something replaced). */
void ch_eda_drop_notes(churn_eda *e, const char *prefix);

/* The tenure, charges and segment column names, the band kind and the caps, from p's eda.* keys. */
churn_status ch_eda_set_columns(churn_eda *e, const churn_dataset *ds, const churn_params *p);

/* ---- eda-stats.c ---- */

/* Churn by level of categorical column j (labelled rows: y >= 0), with its chi-square test, into *c. */
churn_status ch_eda_cat_stats(const churn_dataset *ds, size_t j, const int8_t *y, eda_cat *c);

/* Histogram of numeric column j over about bins bins, split by churn, into *h. */
churn_status ch_eda_hist_stats(const churn_dataset *ds, size_t j, const int8_t *y, size_t bins, eda_hist *h);

/* ---- eda-corr.c ---- */

/*
 * Replace e's correlation matrix with the one of k columns (cols[j][i *
 * stride[j]] over n rows; the target last when has_target), reduced to
 * e->corr_max features, with its notes.
 */
churn_status ch_eda_set_corr(churn_eda *e, size_t n, size_t k, const char *const *names, const double *const *cols,
                             const size_t *stride, bool has_target);

/* ---- eda-km.c ---- */

/* Kaplan-Meier curves (overall and by e->segment_col) over e->tenure_col, or a note why not. */
churn_status ch_eda_km_compute(churn_eda *e, const churn_dataset *ds, const int8_t *y);
void ch_eda_km_clear(km_curve *c);

/* ---- eda-revenue.c ---- */

void ch_eda_rev_clear(churn_eda *e);

/*
 * Revenue at risk alone (churn_eda_set_revenue_at_risk on an otherwise empty
 * EDA, columns from p's eda.* keys): *out for churn_eda_draw_revenue, and
 * *out_json the revenue_at_risk member of eda.json (null when skipped).
 */
churn_status ch_eda_revenue(const churn_dataset *ds, const churn_params *p, const double *proba, double threshold,
                            churn_eda **out, cJSON **out_json);

/* ---- eda-json.c ---- */

/* The revenue_at_risk member of eda.json (null when not computed); NULL when out of memory. */
cJSON *ch_eda_rev_json(const churn_eda *e);

/* ---- eda-figures.c ---- */

/* Notes for the figures that show only e->fig_max of their columns (eda.json keeps them all). */
churn_status ch_eda_note_figure_caps(churn_eda *e);

#endif
