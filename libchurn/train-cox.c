/*
 * The Cox model as a model of the training (pipeline.models "cox";
 * train-private.h): the time column (cox.time_col, found ignoring case), the
 * design (the training prep's features without the time column and, unless
 * cox.keep_time_leaks, the columns churn_survival_find_time_leaks() names,
 * each with a note), the fit on the training rows, Harrell's concordance and
 * the integrated Brier score on the test rows and on the train.cv folds
 * (the folds of the classifiers: churn_split_kfold with split.seed), the
 * artifact (artifacts/models/cox.json: the model, the prep, what was left
 * out and why, the test figures) and the metrics.json entry.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churn/split.h"
#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "train-private.h"

#define COX_FORMAT "churn-cox-artifact"
#define COX_FORMAT_VERSION 1

churn_status ch_cox_note(ch_cox_training *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ch_vasprintf(fmt, ap);
	va_end(ap);
	char **grown = s ? realloc(c->notes, (c->nnotes + 1) * sizeof(char *)) : NULL;
	if (!grown) {
		free(s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	c->notes = grown;
	c->notes[c->nnotes++] = s;
	return CHURN_OK;
}

void ch_cox_training_clear(ch_cox_training *c)
{
	churn_cox_free(c->cox);
	free(c->time_col);
	for (size_t k = 0; k < c->nexcluded; k++)
		free(c->excluded[k]);
	free(c->excluded);
	free(c->feat);
	churn_free(c->artifact);
	cJSON_Delete(c->entry);
	for (size_t k = 0; k < c->nnotes; k++)
		free(c->notes[k]);
	free(c->notes);
	memset(c, 0, sizeof(*c));
}

const double *ch_cox_times(const ch_cox_training *c, const churn_dataset *dw, size_t *out_col)
{
	size_t j;
	if (!c->time_col || churn_dataset_find_col(dw, c->time_col, &j) != CHURN_OK ||
	    churn_dataset_get_col_type(dw, j) != CHURN_COL_NUMERIC)
		return NULL;
	if (out_col)
		*out_col = j;
	return churn_dataset_get_numeric(dw, j);
}

static bool is_excluded(char *const *excluded, size_t nex, const char *col)
{
	for (size_t k = 0; k < nex; k++)
		if (strcmp(excluded[k], col) == 0)
			return true;
	return false;
}

static churn_status exclude(ch_cox_training *c, const char *col)
{
	char **grown = realloc(c->excluded, (c->nexcluded + 1) * sizeof(char *));
	if (!grown)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	c->excluded = grown;
	if (!(c->excluded[c->nexcluded] = ch_strdup(col)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	c->nexcluded++;
	return CHURN_OK;
}

churn_status ch_cox_pick_features(const churn_prep *prep, char *const *excluded, size_t nex, size_t **out,
                                  size_t *nout)
{
	size_t *f = malloc((prep->nfeatures ? prep->nfeatures : 1) * sizeof(size_t)), n = 0;
	if (!f)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t k = 0; k < prep->ncols; k++) {
		const ch_prep_col *pc = &prep->cols[k];
		if (is_excluded(excluded, nex, pc->name))
			continue;
		for (size_t j = 0; j < pc->nfeat; j++)
			f[n++] = pc->feat0 + j;
	}
	*out = f;
	*nout = n;
	return CHURN_OK;
}

churn_status ch_cox_select_columns(const churn_matrix *full, const size_t *feat, size_t nfeat, churn_matrix **out)
{
	size_t n = churn_matrix_get_row_count(full), p = churn_matrix_get_column_count(full);
	churn_matrix *m = NULL;
	churn_status st = churn_matrix_new(n, nfeat, &m);
	for (size_t k = 0; !st && k < nfeat; k++)
		st = churn_matrix_set_feature_name(m, k, churn_matrix_get_feature_name(full, feat[k]));
	if (st) {
		churn_matrix_free(m);
		return st;
	}
	double *d = churn_matrix_get_data(m);
	const double *s = churn_matrix_get_data_const(full);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nfeat; k++)
			d[i * nfeat + k] = s[i * p + feat[k]];
	*out = m;
	return CHURN_OK;
}

static churn_status design_with(const churn_prep *prep, const size_t *feat, size_t nfeat, const churn_dataset *dw,
                                const size_t *rows, size_t nrows, churn_matrix **out)
{
	churn_matrix *full = NULL;
	churn_status st = churn_prep_apply_rows(prep, dw, rows, nrows, &full);
	if (!st)
		st = ch_cox_select_columns(full, feat, nfeat, out);
	churn_matrix_free(full);
	return st;
}

churn_status ch_cox_design(const ch_cox_training *c, const churn_prep *prep, const churn_dataset *dw,
                           const size_t *rows, size_t nrows, churn_matrix **out)
{
	return design_with(prep, c->feat, c->nfeat, dw, rows, nrows, out);
}

/*
 * The time column and the columns left out with it: the time itself, and (unless cox.keep_time_leaks) the
 * columns that are a function of it. false in *go with a note when there is no usable time column.
 */
static churn_status choose_columns(const ch_cox_input *in, const churn_params *p, ch_cox_training *c, bool *go)
{
	const char *want = churn_params_get_str(p, CHURN_KEY_COX_TIME_COL);
	const char *name = ch_dataset_resolve_name(in->dw, want);
	size_t j, *leaks = NULL, nleaks = 0;
	*go = false;
	if (churn_dataset_find_col(in->dw, name, &j) != CHURN_OK)
		return ch_cox_note(c, "cox: skipped: no time column '%s' (set cox.time_col)", want);
	if (churn_dataset_get_col_type(in->dw, j) != CHURN_COL_NUMERIC)
		return ch_cox_note(c, "cox: skipped: the time column '%s' is not numeric", name);
	if (!(c->time_col = ch_strdup(name)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = exclude(c, name);
	if (!st)
		st = churn_survival_find_time_leaks(in->dw, name, &leaks, &nleaks);
	bool keep = churn_params_get_bool(p, CHURN_KEY_COX_KEEP_TIME_LEAKS);
	for (size_t k = 0; !st && k < nleaks; k++) {
		const char *col = churn_dataset_get_col_name(in->dw, leaks[k]);
		if (keep)
			st = ch_cox_note(c, "cox: column '%s' kept although it is a function of '%s' (cox.keep_time_leaks): "
			                    "it leaks the duration into the model", col, name);
		else if (!(st = exclude(c, col)))
			st = ch_cox_note(c, "cox: column '%s' left out: a function of '%s' leaks the duration into the model "
			                    "(set cox.keep_time_leaks to keep it)", col, name);
	}
	churn_free(leaks);
	*go = !st;
	return st;
}

/* The rows of idx[0..n) whose time is present, finite and >= 0: into *out (malloc'd), their number. */
static churn_status usable_rows(const double *time, const churn_dataset *dw, size_t tj, const size_t *idx, size_t n,
                                size_t **out, size_t *nout)
{
	size_t *r = malloc((n ? n : 1) * sizeof(size_t)), k = 0;
	if (!r)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!churn_dataset_is_missing(dw, tj, idx[i]) && isfinite(time[idx[i]]) && time[idx[i]] >= 0)
			r[k++] = idx[i];
	*out = r;
	*nout = k;
	return CHURN_OK;
}

/* Times and events of rows[0..n): into fresh arrays. */
static churn_status gather(const double *time, const uint8_t *y, const size_t *rows, size_t n, double **t,
                           uint8_t **e)
{
	*t = malloc((n ? n : 1) * sizeof(double));
	*e = malloc(n ? n : 1);
	if (!*t || !*e)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		(*t)[i] = time[rows[i]];
		(*e)[i] = y[rows[i]];
	}
	return CHURN_OK;
}

/* A fit on rows[0..n) of design x. */
static churn_status fit_rows(const churn_matrix *x, const double *time, const uint8_t *y, const size_t *rows,
                             size_t n, const churn_params *p, churn_cox **out)
{
	double *t = NULL;
	uint8_t *e = NULL;
	churn_status st = gather(time, y, rows, n, &t, &e);
	if (!st)
		st = churn_cox_fit(x, t, e, n, p, out);
	free(t);
	free(e);
	return st;
}

/* Concordance and integrated Brier score of model m on rows[0..n) (design x): NaN where undefined. */
static churn_status evaluate(const churn_cox *m, const churn_matrix *x, const double *time, const uint8_t *y,
                             const size_t *rows, size_t n, double *conc, double *ibs)
{
	double *t = NULL, *lp = malloc((n ? n : 1) * sizeof(double));
	uint8_t *e = NULL;
	size_t got = 0;
	*conc = *ibs = NAN;
	churn_status st = lp ? gather(time, y, rows, n, &t, &e) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_cox_linear_predictor(m, x, lp, n, &got);
	/* too few comparable pairs or times on a small test part: a null figure, not a failed training */
	if (!st && churn_survival_concordance(t, e, lp, n, conc, NULL, NULL, NULL) == CHURN_E_NUMERIC)
		*conc = NAN;
	if (!st && churn_cox_integrated_brier(m, x, t, e, n, ibs) == CHURN_E_NUMERIC)
		*ibs = NAN;
	if (!st)
		ch_clear_error();
	free(lp);
	free(t);
	free(e);
	return st;
}

/* One fold of train.cv: the prep refitted on its training part, the model, its figures on the rest. */
static churn_status cv_fold(const ch_cox_input *in, const ch_cox_training *c, const double *time, size_t tj,
                            const uint32_t *fold, size_t f, const churn_params *quiet, double *conc, double *ibs)
{
	size_t *a = malloc(in->n * sizeof(size_t)), *b = malloc(in->n * sizeof(size_t)), na = 0, nb = 0;
	size_t *ua = NULL, *ub = NULL, nua = 0, nub = 0, *feat = NULL, nfeat = 0;
	churn_prep *prep = NULL;
	churn_matrix *xa = NULL, *xb = NULL;
	churn_cox *m = NULL;
	churn_status st = a && b ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < in->n; i++) {
		if (fold[i] == f)
			b[nb++] = i;
		else
			a[na++] = i;
	}
	if (!st)
		st = usable_rows(time, in->dw, tj, a, na, &ua, &nua);
	if (!st)
		st = usable_rows(time, in->dw, tj, b, nb, &ub, &nub);
	if (!st)
		st = churn_prep_fit(in->dw, a, na, quiet, &prep);
	if (!st)
		st = ch_cox_pick_features(prep, c->excluded, c->nexcluded, &feat, &nfeat);
	if (!st)
		st = design_with(prep, feat, nfeat, in->dw, ua, nua, &xa);
	if (!st)
		st = design_with(prep, feat, nfeat, in->dw, ub, nub, &xb);
	if (!st)
		st = fit_rows(xa, time, in->y, ua, nua, quiet, &m);
	if (!st)
		st = evaluate(m, xb, time, in->y, ub, nub, conc, ibs);
	churn_cox_free(m);
	churn_matrix_free(xa);
	churn_matrix_free(xb);
	churn_prep_free(prep);
	free(a), free(b), free(ua), free(ub), free(feat);
	return st;
}

static double mean_of(const double *v, size_t k, double *sd)
{
	double m = 0, var = 0;
	for (size_t f = 0; f < k; f++)
		m += v[f] / (double)k;
	for (size_t f = 0; f < k; f++)
		var += (v[f] - m) * (v[f] - m) / (double)k;
	*sd = sqrt(var);
	return m;
}

static bool add_num(cJSON *o, const char *key, double v)
{
	return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

/* train.cv on the classifiers' folds: "cv" {"k", "concordance_mean", ...} into entry e. */
static churn_status cross_validate(const ch_cox_input *in, const ch_cox_training *c, const double *time, size_t tj,
                                   const churn_params *p, cJSON *e)
{
	size_t k = in->cv;
	uint32_t *fold = malloc(in->n * sizeof(uint32_t));
	double *v = malloc(2 * k * sizeof(double));
	churn_params *quiet = NULL;
	churn_status st = fold && v ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && p && !(st = churn_params_copy(p, &quiet)))
		churn_params_set_log(quiet, NULL, NULL, CHURN_LOG_ERROR);
	if (!st)
		st = churn_split_kfold(in->y, in->n, k, in->seed, fold);
	for (size_t f = 0; !st && f < k; f++)
		st = cv_fold(in, c, time, tj, fold, f, quiet, &v[f], &v[k + f]);
	cJSON *cv = st ? NULL : cJSON_AddObjectToObject(e, "cv");
	double sd[2], mean[2];
	for (int q = 0; cv && q < 2; q++)
		mean[q] = mean_of(v + (size_t)q * k, k, &sd[q]);
	if (!st && !(cv && cJSON_AddNumberToObject(cv, "k", (double)k) && add_num(cv, "concordance_mean", mean[0]) &&
	             add_num(cv, "concordance_std", sd[0]) && add_num(cv, "integrated_brier_mean", mean[1]) &&
	             add_num(cv, "integrated_brier_std", sd[1])))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_params_free(quiet);
	free(fold);
	free(v);
	return st;
}

static cJSON *string_array(char *const *s, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t k = 0; a && k < n; k++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(s[k]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* The test figures and the options: the artifact's "metrics" and the start of the metrics.json entry. */
static cJSON *test_figures(const ch_cox_training *c, const churn_params *p, double conc, double ibs, size_t nte)
{
	cJSON *e = cJSON_CreateObject(), *par = NULL;
	bool ok = e && add_num(e, "concordance", conc) && add_num(e, "integrated_brier", ibs) &&
	          cJSON_AddNumberToObject(e, "test_rows", (double)nte) &&
	          cJSON_AddStringToObject(e, "time_column", c->time_col) &&
	          cJSON_AddNumberToObject(e, "horizon", c->horizon) &&
	          cJSON_AddItemToObject(e, "excluded_columns", string_array(c->excluded, c->nexcluded)) &&
	          cJSON_AddNumberToObject(e, "fitted_rows", (double)c->fitted_rows) &&
	          cJSON_AddNumberToObject(e, "events", (double)churn_cox_get_event_count(c->cox)) &&
	          cJSON_AddNumberToObject(e, "rows_without_time", (double)c->rows_without_time) &&
	          cJSON_AddNumberToObject(e, "iterations", (double)churn_cox_get_iterations(c->cox)) &&
	          cJSON_AddBoolToObject(e, "converged", churn_cox_is_converged(c->cox)) &&
	          (par = cJSON_AddObjectToObject(e, "params")) &&
	          cJSON_AddNumberToObject(par, "ridge", churn_params_get_double(p, CHURN_KEY_COX_RIDGE)) &&
	          cJSON_AddNumberToObject(par, "max_iter", (double)churn_params_get_int(p, CHURN_KEY_COX_MAX_ITER)) &&
	          cJSON_AddNumberToObject(par, "tol", churn_params_get_double(p, CHURN_KEY_COX_TOL));
	if (!ok) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

/*
 * artifacts/models/cox.json: {"format", "version", "model": "cox", "time_column", "horizon",
 * "excluded_columns", "value" {"charges_column", "discount_rate"}, "metrics", "training_rows", "data_sha256",
 * "prep", "cox"}.
 */
static churn_status make_artifact(const ch_cox_input *in, ch_cox_training *c, const cJSON *metrics,
                                  const churn_params *p)
{
	cJSON *value = cJSON_CreateObject(); /* what /api/predict needs to value a posted customer */
	if (value && (!cJSON_AddStringToObject(value, "charges_column",
	                                       ch_dataset_resolve_name(in->dw, churn_params_get_str(p, CHURN_KEY_RETENTION_CHARGES_COL))) ||
	              !cJSON_AddNumberToObject(value, "discount_rate",
	                                       churn_params_get_double(p, CHURN_KEY_RETENTION_DISCOUNT_RATE)))) {
		cJSON_Delete(value);
		value = NULL;
	}
	char *prep = NULL, *cox = NULL;
	churn_status st = churn_prep_to_json(in->prep, &prep);
	if (!st)
		st = churn_cox_to_json(c->cox, &cox);
	cJSON *a = st ? NULL : cJSON_CreateObject();
	bool ok = a && cJSON_AddStringToObject(a, "format", COX_FORMAT) &&
	          cJSON_AddNumberToObject(a, "version", COX_FORMAT_VERSION) && cJSON_AddStringToObject(a, "model", "cox") &&
	          cJSON_AddStringToObject(a, "time_column", c->time_col) &&
	          cJSON_AddNumberToObject(a, "horizon", c->horizon) &&
	          cJSON_AddItemToObject(a, "excluded_columns", string_array(c->excluded, c->nexcluded)) &&
	          cJSON_AddItemToObject(a, "value", value) && (value = NULL, true) &&
	          cJSON_AddItemToObject(a, "metrics", cJSON_Duplicate(metrics, 1)) &&
	          cJSON_AddNumberToObject(a, "training_rows", (double)c->fitted_rows) &&
	          (in->sha256[0] ? cJSON_AddStringToObject(a, "data_sha256", in->sha256) != NULL
	                         : cJSON_AddNullToObject(a, "data_sha256") != NULL) &&
	          cJSON_AddItemToObject(a, "prep", cJSON_Parse(prep)) && cJSON_AddItemToObject(a, "cox", cJSON_Parse(cox)) &&
	          (c->artifact = ch_json_print(a, true));
	if (!st && !ok)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		c->artifact_n = strlen(c->artifact);
		ch_sha256_buf(c->artifact, c->artifact_n, c->artifact_sha256);
	}
	cJSON_Delete(a);
	cJSON_Delete(value);
	churn_free(prep);
	churn_free(cox);
	return st;
}

/* The fit on the training rows and the test figures; the artifact and the entry. */
static churn_status fit_and_evaluate(const ch_cox_input *in, const churn_params *p, ch_cox_training *c,
                                     const double *time, size_t tj)
{
	size_t *utr = NULL, *ute = NULL, nutr = 0, nute = 0;
	churn_matrix *xtr = NULL, *xte = NULL;
	double conc = NAN, ibs = NAN;
	cJSON *e = NULL;
	churn_status st = usable_rows(time, in->dw, tj, in->tr, in->ntr, &utr, &nutr);
	if (!st)
		st = usable_rows(time, in->dw, tj, in->te, in->nte, &ute, &nute);
	c->rows_without_time = in->ntr + in->nte - nutr - nute;
	if (!st && c->rows_without_time)
		st = ch_cox_note(c, "cox: %zu rows without a usable '%s' (missing or negative) left out", c->rows_without_time,
		                 c->time_col);
	if (!st)
		st = ch_cox_pick_features(in->prep, c->excluded, c->nexcluded, &c->feat, &c->nfeat);
	if (!st)
		st = ch_cox_design(c, in->prep, in->dw, utr, nutr, &xtr);
	if (!st)
		st = ch_cox_design(c, in->prep, in->dw, ute, nute, &xte);
	if (!st && (st = fit_rows(xtr, time, in->y, utr, nutr, p, &c->cox)))
		st = ch_fail(st, "cox: %s", churn_last_error());
	c->fitted_rows = nutr;
	if (!st)
		st = evaluate(c->cox, xte, time, in->y, ute, nute, &conc, &ibs);
	if (!st && !(e = test_figures(c, p, conc, ibs, nute)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = make_artifact(in, c, e, p);
	if (!st && in->cv)
		st = cross_validate(in, c, time, tj, p, e);
	cJSON *a = NULL;
	if (!st && (!(a = cJSON_AddObjectToObject(e, "artifact")) ||
	            !cJSON_AddStringToObject(a, "path", "artifacts/models/cox.json") ||
	            !cJSON_AddNumberToObject(a, "bytes", (double)c->artifact_n) ||
	            !cJSON_AddStringToObject(a, "sha256", c->artifact_sha256)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		c->entry = e;
		e = NULL;
	}
	cJSON_Delete(e);
	churn_matrix_free(xtr);
	churn_matrix_free(xte);
	free(utr);
	free(ute);
	return st;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

churn_status ch_train_cox(const ch_cox_input *in, const churn_params *p, ch_cox_training *c)
{
	double t0 = now_s();
	bool go = false;
	size_t tj = 0;
	c->horizon = churn_params_get_double(p, CHURN_KEY_COX_HORIZON);
	churn_status st = choose_columns(in, p, c, &go);
	const double *time = go ? ch_cox_times(c, in->dw, &tj) : NULL;
	if (!st && time)
		st = fit_and_evaluate(in, p, c, time, tj);
	c->seconds = now_s() - t0;
	return st;
}
