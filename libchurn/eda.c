/*
 * The EDA object: its lifetime, notes and options, churn_eda_compute() (the
 * target's labels, then per-column statistics, the default correlation and
 * the survival curves, each in the file of its concern: see eda-private.h),
 * the getters and the importances a caller attaches.
 */
#include "churn/eda.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core-private.h"
#include "dataset-private.h"
#include "eda-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "screen-private.h"
#include "target-private.h"

/* ---- shared helpers ---- */

int ch_eda_cmp_rank_desc(const void *a, const void *b)
{
	double x = ((const rank_item *)a)->v, y = ((const rank_item *)b)->v;
	if (x != y)
		return x > y ? -1 : 1;
	size_t p = ((const rank_item *)a)->i, q = ((const rank_item *)b)->i;
	return p < q ? -1 : p > q;
}

int ch_eda_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

void ch_eda_free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void churn_eda_free(churn_eda *e)
{
	if (!e)
		return;
	free(e->target);
	free(e->positive);
	free(e->tenure_col);
	free(e->time_unit);
	free(e->charges_col);
	free(e->segment_col);
	free(e->band);
	ch_eda_free_strv(e->corr_names, e->ncorr);
	free(e->corr);
	ch_eda_free_strv(e->tr_names, e->ntr);
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
	ch_eda_free_strv(e->imp_names, e->nimp);
	free(e->imp_impurity);
	free(e->imp_perm);
	ch_eda_km_clear(&e->km_all);
	for (size_t i = 0; i < e->nkm_seg; i++)
		ch_eda_km_clear(&e->km_seg[i]);
	free(e->km_seg);
	ch_eda_rev_clear(e);
	ch_eda_free_strv(e->notes, e->nnotes);
	free(e);
}

/* ---- notes ---- */

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

churn_status ch_eda_note(churn_eda *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = ch_vasprintf(fmt, ap);
	va_end(ap);
	churn_status st = msg ? churn_eda_add_note(e, msg) : ch_fail(CHURN_E_NOMEM, "out of memory");
	free(msg);
	return st;
}

void ch_eda_drop_notes(churn_eda *e, const char *prefix)
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

/* ---- options ---- */

churn_status ch_eda_set_columns(churn_eda *e, const churn_dataset *ds, const churn_params *p)
{
	/* named columns found ignoring case when that is unambiguous: a bank's "Tenure" is the tenure */
	e->tenure_col = ch_strdup(ch_dataset_resolve_name(ds, churn_params_get_str(p, CHURN_KEY_EDA_TENURE_COL)));
	e->charges_col = ch_strdup(ch_dataset_resolve_name(ds, churn_params_get_str(p, CHURN_KEY_EDA_CHARGES_COL)));
	e->segment_col = ch_strdup(ch_dataset_resolve_name(ds, churn_params_get_str(p, CHURN_KEY_EDA_SEGMENT_COL)));
	e->time_unit = ch_strdup(churn_params_get_str(p, CHURN_KEY_EDA_TENURE_UNIT));
	e->band = ch_strdup(churn_params_get_str(p, CHURN_KEY_EDA_KM_BAND));
	if (!e->tenure_col || !e->charges_col || !e->segment_col || !e->band || !e->time_unit)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	e->corr_max = (size_t)churn_params_get_int(p, CHURN_KEY_EDA_CORR_MAX_FEATURES);
	e->fig_max = (size_t)churn_params_get_int(p, CHURN_KEY_EDA_FIG_MAX_COLUMNS);
	return CHURN_OK;
}

/* ---- the target ---- */

/* An ID column: one of CHURN_KEY_DATA_ID (comma-separated), or customerID when that is empty. */
static bool is_id_col(const churn_params *p, const char *name)
{
	const char *ids = churn_params_get_str(p, CHURN_KEY_DATA_ID);
	if (!*ids)
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
 * 0/1 labels of the target column (-1 where missing), by the rule of every command (target-private.h:
 * labels trimmed and compared ignoring case; data.positive, else the yes-like one or 1 of 0/1).
 */
static churn_status target_labels(const churn_dataset *ds, const churn_params *p, size_t *out_col, int8_t **out_y,
                                  char **out_target, char **out_pos)
{
	const char *target = churn_params_get_str(p, CHURN_KEY_DATA_TARGET);
	size_t tj;
	churn_status st = churn_dataset_find_col(ds, target, &tj);
	if (st)
		return ch_fail_prefix(st, "eda: target column");
	const ch_column *c = &ds->cols[tj];
	ch_target t;
	if ((st = ch_target_fit(ds, tj, NULL, ds->nrows, churn_params_get_str(p, CHURN_KEY_DATA_POSITIVE), &t)))
		return ch_fail_prefix(st, "eda");
	int8_t *y = malloc(ds->nrows ? ds->nrows : 1);
	*out_target = ch_strdup(target);
	if (!y || !*out_target) {
		free(y);
		free(*out_target);
		ch_target_clear(&t);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	char buf[40];
	for (size_t i = 0; i < ds->nrows; i++)
		y[i] = (int8_t)ch_label_of_text(ch_prep_cell_text(c, i, buf, sizeof(buf)), t.numeric, t.pos_num, t.neg_num,
		                                t.positive, t.negative);
	*out_pos = t.positive;
	t.positive = NULL;
	ch_target_clear(&t);
	*out_col = tj;
	*out_y = y;
	return CHURN_OK;
}

/* e->rows, e->labelled, e->positives; CHURN_E_INVALID_ARG without a labelled row, a note for unlabelled ones. */
static churn_status count_labels(churn_eda *e, const int8_t *y, size_t n)
{
	e->rows = n;
	for (size_t i = 0; i < n; i++)
		if (y[i] >= 0) {
			e->labelled++;
			e->positives += (size_t)y[i];
		}
	if (!e->labelled)
		return ch_fail(CHURN_E_INVALID_ARG, "eda: target column '%s' has no labelled rows", e->target);
	if (e->labelled < n)
		return ch_eda_note(e, "%zu rows with a missing target left out", n - e->labelled);
	return CHURN_OK;
}

/*
 * Columns the prep leaves out as identifier-like or leaking the target
 * (screen-private.h), as notes; identifier[j] marks the identifier-like ones,
 * whose distributions say nothing about churn (a leaking column's do: its
 * figures show why it was left out).
 */
static churn_status screen_notes(churn_eda *e, const churn_dataset *ds, const churn_params *p, size_t tj,
                                 const int8_t *y, bool *identifier)
{
	char **notes = NULL;
	size_t n = 0;
	churn_status st = ch_screen_notes(ds, p, tj, y, &notes, &n, identifier);
	for (size_t k = 0; k < n; k++) {
		if (!st)
			st = ch_eda_note(e, "%s", notes[k]);
		free(notes[k]);
	}
	free(notes);
	return st;
}

/* ---- compute ---- */

/* The numeric columns of a dataset, by pointer, for the correlation (the target appended last). */
typedef struct num_cols {
	size_t n;
	const double **cols;
	const char **names;
} num_cols;

/*
 * Statistics of every column but the target and the IDs: churn by level of
 * each categorical, a histogram of each numeric (collected into *nc too).
 */
static churn_status column_stats(churn_eda *e, const churn_dataset *ds, const churn_params *p, size_t tj,
                                 const int8_t *y, const bool *identifier, num_cols *nc)
{
	size_t ncol = churn_dataset_get_column_count(ds), bins = (size_t)churn_params_get_int(p, CHURN_KEY_EDA_HIST_BINS);
	for (size_t j = 0; j < ncol; j++) {
		if (j == tj || identifier[j])
			continue;
		const char *name = churn_dataset_get_col_name(ds, j);
		if (is_id_col(p, name))
			continue;
		churn_status st = CHURN_OK;
		churn_col_type t = churn_dataset_get_col_type(ds, j);
		if (t == CHURN_COL_CATEGORICAL) {
			st = ch_eda_cat_stats(ds, j, y, &e->cats[e->ncat++]);
		} else if (t == CHURN_COL_NUMERIC) {
			st = ch_eda_hist_stats(ds, j, y, bins, &e->hists[e->nhist++]);
			nc->cols[nc->n] = churn_dataset_get_numeric(ds, j);
			nc->names[nc->n++] = name;
		}
		if (st)
			return st;
		if (!ch_progress(p, "eda", j + 1, ncol + 2))
			return ch_fail(CHURN_E_STATE, "eda: cancelled");
	}
	return CHURN_OK;
}

/*
 * The default correlation: the numeric columns and the target (labelled rows;
 * others NaN), and each histogram's r with the target.
 */
static churn_status default_correlation(churn_eda *e, const int8_t *y, size_t n, num_cols *nc)
{
	for (size_t j = 0; j < e->nhist; j++)
		e->hists[j].r = NAN;
	if (n < 2)
		return CHURN_OK;
	double *ycol = malloc(n * sizeof *ycol);
	size_t *ones = malloc((nc->n + 1) * sizeof *ones);
	churn_status st = CHURN_OK;
	if (!ycol || !ones) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ycol[i] = y[i] < 0 ? NAN : (double)y[i];
	nc->cols[nc->n] = ycol;
	nc->names[nc->n] = e->target;
	for (size_t j = 0; j <= nc->n; j++)
		ones[j] = 1;
	if ((st = ch_eda_set_corr(e, n, nc->n + 1, nc->names, nc->cols, ones, true)))
		goto out;
	for (size_t j = 0; j < e->nhist; j++) /* the histograms are the numeric columns, in order */
		e->hists[j].r = e->tr_r[j];
out:
	free(ycol);
	free(ones);
	return st;
}

/* e's columns and options from p, checked. */
static churn_status set_options(churn_eda *e, const churn_dataset *ds, const churn_params *p)
{
	churn_status st = ch_eda_set_columns(e, ds, p);
	if (st)
		return st;
	if (strcmp(e->band, "loglog") != 0 && strcmp(e->band, "plain") != 0)
		return ch_fail(CHURN_E_INVALID_ARG, "eda.km_band: '%s' is not loglog or plain", e->band);
	return CHURN_OK;
}

churn_status churn_eda_compute(const churn_dataset *ds, const churn_params *p, churn_eda **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_compute: NULL argument");
	int8_t *y = NULL;
	num_cols nc = {0};
	churn_eda *e = calloc(1, sizeof *e);
	size_t tj = 0, n = churn_dataset_get_row_count(ds), ncol = churn_dataset_get_column_count(ds);
	bool *identifier = calloc(ncol ? ncol : 1, sizeof(bool));
	if (!e || !identifier) {
		free(e);
		free(identifier);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	churn_status st = target_labels(ds, p, &tj, &y, &e->target, &e->positive);
	if (!st)
		st = set_options(e, ds, p);
	if (!st)
		st = count_labels(e, y, n);
	if (!st)
		st = screen_notes(e, ds, p, tj, y, identifier);
	if (st)
		goto out;
	e->cats = calloc(ncol ? ncol : 1, sizeof *e->cats);
	e->hists = calloc(ncol ? ncol : 1, sizeof *e->hists);
	nc.cols = calloc(ncol + 1, sizeof *nc.cols);
	nc.names = calloc(ncol + 1, sizeof *nc.names);
	if (!e->cats || !e->hists || !nc.cols || !nc.names) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = column_stats(e, ds, p, tj, y, identifier, &nc)) || (st = default_correlation(e, y, n, &nc)))
		goto out;
	if (!ch_progress(p, "eda", ncol + 1, ncol + 2)) {
		st = ch_fail(CHURN_E_STATE, "eda: cancelled");
		goto out;
	}
	if ((st = ch_eda_note_figure_caps(e)) || (st = ch_eda_km_compute(e, ds, y)))
		goto out;
	ch_progress(p, "eda", ncol + 2, ncol + 2);
	ch_log(p, CHURN_LOG_DEBUG, "eda: %zu rows, %zu categorical, %zu numeric columns", n, e->ncat, e->nhist);
out:
	free(y);
	free(identifier);
	free(nc.cols);
	free(nc.names);
	if (st) {
		churn_eda_free(e);
		return st;
	}
	*out = e;
	ch_clear_error();
	return CHURN_OK;
}

/* ---- getters ---- */

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

/* Names and at least one importance vector; a NaN permutation importance is "not computed", not an error. */
static churn_status check_importance(const char *const *names, const double *impurity, const double *permutation,
                                     size_t n)
{
	if (!names || (!impurity && !permutation) || !n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_importance: need names and impurity or permutation");
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			return ch_fail(CHURN_E_INVALID_ARG, "eda importance: feature %zu has no name", i);
		/* a NaN permutation importance means "not computed" (wide data: eda.importance_max_columns) */
		if ((impurity && !isfinite(impurity[i])) || (permutation && isinf(permutation[i])))
			return ch_fail(CHURN_E_NUMERIC, "eda importance: feature '%s' has a non-finite importance", names[i]);
	}
	return CHURN_OK;
}

churn_status churn_eda_set_importance(churn_eda *e, const char *const *names, const double *impurity,
                                      const double *permutation, size_t n)
{
	if (!e)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_eda_set_importance: need names and impurity or permutation");
	churn_status st = check_importance(names, impurity, permutation, n);
	if (st)
		return st;
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
	ch_eda_free_strv(e->imp_names, e->nimp);
	free(e->imp_impurity);
	free(e->imp_perm);
	e->imp_names = nn;
	e->imp_impurity = im;
	e->imp_perm = pm;
	e->nimp = n;
	ch_eda_drop_notes(e, "importance: permutation computed"); /* of the importances replaced */
	size_t ncomp = 0;
	for (size_t i = 0; pm && i < n; i++)
		ncomp += !isnan(pm[i]);
	if (pm && ncomp < n &&
	    (st = ch_eda_note(e, "importance: permutation computed for the %zu of %zu columns of highest impurity "
	                         "importance (eda.importance_max_columns); null for the others",
	                      ncomp, n)))
		return st;
	ch_clear_error();
	return CHURN_OK;
nomem:
	ch_eda_free_strv(nn, n);
	free(im);
	free(pm);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}
