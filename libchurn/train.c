/*
 * The training procedure (churn/train.h): labels, the stratified split, the
 * prep spec fitted on the training rows, the models on threads of their own
 * (ch_parallel, one per model), thresholds from out-of-fold scores, test
 * metrics, cross-validation, the artifacts, and reports/metrics.json.
 */
#include "churn/train.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "churn/csv.h"
#include "churn/matrix.h"
#include "churn/metrics.h"
#include "churn/split.h"
#include "core-private.h"
#include "drift-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "screen-private.h"
#include "thread-private.h"
#include "train-private.h"

#define MAX_MODELS 3

enum policy { POLICY_FIXED, POLICY_BEST_F1, POLICY_COST };
static const char *const policy_names[] = {"fixed", "best-f1", "cost"};

/* The cross-validated metrics, in the order of each model's "cv" object. */
static const char *const cv_keys[] = {"roc_auc", "pr_auc", "f1", "accuracy", "precision", "recall", "log_loss", "brier"};
#define NCV (sizeof(cv_keys) / sizeof(cv_keys[0]))

/* The options of a training, read from the params once. */
struct options {
	churn_model_kind kinds[MAX_MODELS];
	size_t nmodels;
	enum policy policy;
	double fixed, cost_fn, cost_fp, test_size;
	size_t folds, cv;
	uint64_t seed;
	bool refit; /* train.refit: the artifacts are fitted again on every labelled row */
	bool cox;   /* pipeline.models lists cox: the survival model (train-cox.c) and the retention list */
};

/* One model's results. */
struct trained {
	churn_model *model;
	double threshold;
	char *artifact;       /* churn_model_to_buffer() */
	size_t artifact_n;
	char artifact_sha256[65];
	double *scores;       /* P(churn) of each row of rows[] */
	double *test_scores;  /* of each test row */
	double *cv;           /* cv[q * K + f]: metric cv_keys[q] on fold f */
	cJSON *entry;         /* the metrics.json entry */
	char *entry_text;
	double seconds;
};

struct churn_training {
	struct options o;
	char sha256[65];            /* of the data; "" when unknown */
	size_t *rows, n;            /* the rows of the dataset used */
	size_t rows_read, rows_sampled; /* ds is a sample (train.max_rows): the file's data rows and the sample's; else 0 */
	uint8_t *y;                 /* their labels */
	size_t *tr, *te, ntr, nte;  /* training and test rows (indices into the dataset) */
	uint8_t *yte;
	churn_prep *prep;           /* fitted on the training rows */
	churn_prep *prep_all;       /* train.refit: fitted on every row of rows[] (the artifacts' prep) */
	char *ref, *ref_all;        /* the drift reference profiles of the training rows and (refit) of all rows */
	struct trained m[MAX_MODELS];
	size_t best;
	ch_cox_training cox;        /* pipeline.models "cox" */
	char *cox_entry_text;
	churn_retention *retention; /* with cox and a charges column */
};

/* What the model threads share in one phase (the models, or one fold of the cross-validation). */
struct work {
	churn_training *t;
	const churn_params *p;                 /* the caller's: its progress callback is called on its thread only */
	churn_params *helper[MAX_MODELS];      /* each model's copy, its progress going to relay_progress */
	struct relay {
		struct work *w;
		size_t k;
	} relay[MAX_MODELS];
	atomic_uint permille[MAX_MODELS];      /* each model's progress in this phase (0..1000) */
	uint64_t reported;                     /* the last progress reported to the caller (caller's thread only) */
	atomic_bool stop;                      /* a model failed or the caller cancelled: the others stop at their next report */
	const size_t *tr, *te;                 /* training and test rows as indices into rows[] */
	const churn_matrix *xtr, *xte;         /* this phase's training and test matrices */
	enum phase { PHASE_MAIN, PHASE_CV, PHASE_REFIT } phase;
	size_t fold;
	struct {
		churn_status st;
		bool stopped; /* failed because another model did */
		char error[1024];
	} res[MAX_MODELS];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

/* pipeline.models: kinds separated by commas or spaces, each once, in order. */
static churn_status parse_models(const char *list, struct options *o)
{
	char *copy = ch_strdup(list), *save = NULL;
	if (!copy)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = CHURN_OK;
	for (char *tok = strtok_r(copy, ", ", &save); tok && !st; tok = strtok_r(NULL, ", ", &save)) {
		churn_model_kind k;
		if (!strcmp(tok, "cox")) {
			o->cox = true; /* not a classifier: train-cox.c */
			continue;
		}
		if (churn_model_kind_from_name(tok, &k) != CHURN_OK) {
			st = ch_fail(CHURN_E_INVALID_ARG, "pipeline.models: '%.40s' is not a model (logreg, gbm, forest or cox)",
			             tok);
			break;
		}
		bool seen = false;
		for (size_t i = 0; i < o->nmodels; i++)
			seen |= o->kinds[i] == k;
		if (!seen && o->nmodels < MAX_MODELS)
			o->kinds[o->nmodels++] = k;
	}
	free(copy);
	if (!st && !o->nmodels && !o->cox)
		st = ch_fail(CHURN_E_INVALID_ARG, "pipeline.models names no model (logreg, gbm, forest or cox)");
	return st;
}

static churn_status parse_options(const churn_params *p, struct options *o)
{
	memset(o, 0, sizeof(*o));
	churn_status st = parse_models(churn_params_get_str(p, CHURN_KEY_PIPELINE_MODELS), o);
	if (st)
		return st;
	const char *policy = churn_params_get_str(p, CHURN_KEY_TRAIN_THRESHOLD);
	o->policy = (enum policy)3;
	for (int i = 0; i < 3; i++)
		if (!strcmp(policy, policy_names[i]))
			o->policy = (enum policy)i;
	if (o->policy > POLICY_COST)
		return ch_fail(CHURN_E_INVALID_ARG, "train.threshold: '%.40s' is not fixed, best-f1 or cost", policy);
	o->fixed = churn_params_get_double(p, CHURN_KEY_PIPELINE_THRESHOLD);
	o->cost_fn = churn_params_get_double(p, CHURN_KEY_TRAIN_COST_FN);
	o->cost_fp = churn_params_get_double(p, CHURN_KEY_TRAIN_COST_FP);
	if (o->policy == POLICY_COST && !(o->cost_fn + o->cost_fp > 0))
		return ch_fail(CHURN_E_INVALID_ARG, "train.cost_fn and train.cost_fp are both 0: no threshold is cheaper");
	o->folds = (size_t)churn_params_get_int(p, CHURN_KEY_TRAIN_THRESHOLD_FOLDS);
	o->cv = (size_t)churn_params_get_int(p, CHURN_KEY_TRAIN_CV);
	if (o->cv == 1)
		return ch_fail(CHURN_E_INVALID_ARG, "train.cv: 1 is not a fold count (0: no cross-validation, or 2 to 100)");
	o->test_size = churn_params_get_double(p, CHURN_KEY_SPLIT_TEST_SIZE);
	o->refit = churn_params_get_bool(p, CHURN_KEY_TRAIN_REFIT);
	if (!(o->test_size > 0))
		return ch_fail(CHURN_E_INVALID_ARG, "split.test_size 0: the evaluation needs held-out rows; to fit the "
		               "deployed model on every row, keep a test size and set train.refit (churn train --refit)");
	o->seed = (uint64_t)churn_params_get_int(p, CHURN_KEY_SPLIT_SEED);
	return CHURN_OK;
}

static bool is_sha256(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F')))
			return false;
	return n == 64;
}

/* ------------------------------------------------------------------ */
/* Labels and the split                                                 */

/*
 * The prep of a side step (the labels, a CV fold, the refit): fitted like the
 * training rows' prep, but silent, so that what the prep logs (a dropped
 * column, say) is said once, by the prep of the training rows.
 */
static churn_status fit_prep_quietly(const churn_dataset *ds, const size_t *rows, size_t n, const churn_params *p,
                                     churn_prep **out)
{
	churn_params *q = NULL;
	churn_status st = p ? churn_params_copy(p, &q) : CHURN_OK;
	if (st)
		return st;
	if (q)
		churn_params_set_log(q, NULL, NULL, CHURN_LOG_ERROR);
	st = churn_prep_fit(ds, rows, n, q, out);
	churn_params_free(q);
	return st;
}

/*
 * The rows with a target and their labels, by a spec fitted on all rows
 * (the positive label, and the rows prep.drop_missing_target leaves out);
 * *sub: those rows as a dataset of their own, when some were left out.
 */
static churn_status label_rows(const churn_dataset *ds, const churn_params *p, churn_training *t,
                               churn_dataset **sub)
{
	churn_prep *all = NULL;
	size_t n = churn_dataset_get_row_count(ds), tj = 0, ny = 0;
	churn_status st = fit_prep_quietly(ds, NULL, 0, p, &all);
	if (st)
		return st;
	if (!(t->rows = malloc((n ? n : 1) * sizeof(size_t)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	bool dropped = churn_prep_get_dropped_target_row_count(all) > 0;
	if (dropped && (st = churn_dataset_find_col(ds, churn_prep_get_target(all), &tj)))
		goto out;
	t->n = 0;
	for (size_t i = 0; i < n; i++)
		if (!dropped || !churn_dataset_is_missing(ds, tj, i))
			t->rows[t->n++] = i;
	if (dropped && (st = churn_dataset_subset_rows(ds, t->rows, t->n, sub)))
		goto out;
	st = churn_prep_get_labels(all, dropped ? *sub : ds, &t->y, &ny);
out:
	churn_prep_free(all);
	return st;
}

/* The stratified split of rows[]: *tr and *te index rows[]; t gets them as dataset rows, and the test labels. */
static churn_status split(churn_training *t, size_t **tr, size_t **te)
{
	churn_status st = churn_split_stratified(t->y, t->n, t->o.test_size, t->o.seed, tr, &t->ntr, te, &t->nte);
	if (st)
		return st;
	t->tr = malloc((t->ntr ? t->ntr : 1) * sizeof(size_t));
	t->te = malloc((t->nte ? t->nte : 1) * sizeof(size_t));
	t->yte = malloc(t->nte ? t->nte : 1);
	if (!t->tr || !t->te || !t->yte)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < t->ntr; i++)
		t->tr[i] = t->rows[(*tr)[i]];
	for (size_t i = 0; i < t->nte; i++) {
		t->te[i] = t->rows[(*te)[i]];
		t->yte[i] = t->y[(*te)[i]];
	}
	return CHURN_OK;
}

/* ------------------------------------------------------------------ */
/* One model                                                            */

static churn_status fit(churn_model_kind kind, const churn_matrix *x, const churn_params *p, churn_model **out)
{
	churn_model *m = NULL;
	churn_status st = churn_model_new(kind, &m);
	if (!st)
		st = churn_model_fit(m, x, p);
	if (st) {
		churn_model_free(m);
		return st;
	}
	*out = m;
	return CHURN_OK;
}

/* Out-of-fold scores of x: oof[i] by a model fitted on the folds other than fold[i]. */
static churn_status oof_scores(churn_model_kind kind, const churn_matrix *x, const uint32_t *fold, size_t folds,
                               const churn_params *p, double *oof)
{
	size_t n = churn_matrix_get_row_count(x);
	size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
	double *prob = malloc((n ? n : 1) * sizeof(double));
	churn_status st = (idx && prob) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (uint32_t k = 0; !st && k < folds; k++) {
		churn_matrix *a = NULL, *b = NULL;
		churn_model *m = NULL;
		size_t na = 0, nb = 0, got = 0;
		for (size_t i = 0; i < n; i++)
			if (fold[i] != k)
				idx[na++] = i;
		st = churn_matrix_subset_rows(x, idx, na, &a);
		for (size_t i = 0; i < n; i++)
			if (fold[i] == k)
				idx[nb++] = i;
		if (!st)
			st = churn_matrix_subset_rows(x, idx, nb, &b);
		if (!st)
			st = fit(kind, a, p, &m);
		if (!st)
			st = churn_model_predict(m, b, prob, n, &got);
		for (size_t r = 0; !st && r < nb; r++)
			oof[idx[r]] = prob[r];
		churn_model_free(m);
		churn_matrix_free(a);
		churn_matrix_free(b);
	}
	free(idx);
	free(prob);
	return st;
}

/* The threshold of train.threshold for a model of kind trained on x (out of fold; never the test rows). */
static churn_status choose_threshold(const struct options *o, churn_model_kind kind, const churn_matrix *x,
                                     const churn_params *p, double *out)
{
	if (o->policy == POLICY_FIXED) {
		*out = o->fixed;
		return CHURN_OK;
	}
	size_t n = churn_matrix_get_row_count(x);
	const uint8_t *y = churn_matrix_get_labels(x);
	uint32_t *fold = malloc((n ? n : 1) * sizeof(uint32_t));
	double *oof = malloc((n ? n : 1) * sizeof(double));
	churn_status st = (fold && oof) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && (st = churn_split_kfold(y, n, o->folds, o->seed + 1, fold)))
		st = ch_fail_prefix(st, CHURN_KEY_TRAIN_THRESHOLD_FOLDS);
	if (!st)
		st = oof_scores(kind, x, fold, o->folds, p, oof);
	if (!st && o->policy == POLICY_BEST_F1)
		st = churn_metrics_best_f1_threshold(y, oof, n, out, NULL);
	else if (!st)
		st = churn_metrics_cost_threshold(y, oof, n, o->cost_fn, o->cost_fp, out, NULL);
	free(fold);
	free(oof);
	return st;
}

/* Scores of every row (the training and the test matrix, scattered into rows[] order) and the test metrics. */
static churn_status score_rows(const struct work *w, struct trained *m, char **metrics)
{
	const churn_training *t = w->t;
	size_t got = 0, cap = t->ntr > t->nte ? t->ntr : t->nte;
	double *prob = malloc((cap ? cap : 1) * sizeof(double));
	m->scores = malloc((t->n ? t->n : 1) * sizeof(double));
	m->test_scores = malloc((t->nte ? t->nte : 1) * sizeof(double));
	churn_status st = (prob && m->scores && m->test_scores) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && !(st = churn_model_predict(m->model, w->xtr, prob, cap, &got)))
		for (size_t i = 0; i < t->ntr; i++)
			m->scores[w->tr[i]] = prob[i];
	if (!st && !(st = churn_model_predict(m->model, w->xte, m->test_scores, t->nte, &got)))
		for (size_t i = 0; i < t->nte; i++)
			m->scores[w->te[i]] = m->test_scores[i];
	if (!st)
		st = churn_metrics_compute_json(t->yte, m->test_scores, t->nte, m->threshold, metrics);
	free(prob);
	return st;
}

/*
 * The artifact: the model with its threshold, prep, test metrics and provenance; its bytes and SHA-256.
 * The prep and the row count are those the model was fitted on (the training rows, or all rows on a refit).
 */
static churn_status make_artifact(const churn_training *t, struct trained *m, const char *metrics, bool all_rows)
{
	churn_status st;
	free(m->artifact);
	m->artifact = NULL;
	if ((st = churn_model_set_threshold(m->model, m->threshold)) ||
	    (st = churn_model_set_prep(m->model, all_rows ? t->prep_all : t->prep)) ||
	    (st = churn_model_set_metrics_json(m->model, metrics)) ||
	    (st = churn_model_set_reference_json(m->model, all_rows ? t->ref_all : t->ref)) ||
	    (st = churn_model_set_training_info(m->model, all_rows ? t->n : t->ntr, t->sha256[0] ? t->sha256 : NULL)) ||
	    (st = churn_model_to_buffer(m->model, &m->artifact, &m->artifact_n)))
		return st;
	ch_sha256_buf(m->artifact, m->artifact_n, m->artifact_sha256);
	return CHURN_OK;
}

/* Model k of the main phase: threshold, fit, scores, test metrics, artifact. */
static churn_status train_model(struct work *w, size_t k, const churn_params *p)
{
	churn_training *t = w->t;
	struct trained *m = &t->m[k];
	char *metrics = NULL;
	churn_status st = choose_threshold(&t->o, t->o.kinds[k], w->xtr, p, &m->threshold);
	if (!st)
		st = fit(t->o.kinds[k], w->xtr, p, &m->model);
	if (!st)
		st = score_rows(w, m, &metrics);
	if (!st)
		st = make_artifact(t, m, metrics, false);
	churn_free(metrics);
	return st;
}

/*
 * Model k refitted on every labelled row (train.refit), after its evaluation: the same kind, options and
 * threshold; it replaces the evaluated model, and its artifact keeps the evaluation's test metrics.
 */
static churn_status refit_model(struct work *w, size_t k, const churn_params *p)
{
	churn_training *t = w->t;
	struct trained *m = &t->m[k];
	churn_model *all = NULL;
	char *metrics = ch_strdup(churn_model_get_metrics_json(m->model));
	churn_status st = metrics ? fit(t->o.kinds[k], w->xtr, p, &all) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		churn_model_free(m->model);
		m->model = all;
		st = make_artifact(t, m, metrics, true);
	}
	free(metrics);
	return st;
}

/* The cross-validated metrics of scores p of rows with labels y at threshold, in cv_keys order. */
static churn_status cv_values(const uint8_t *y, const double *p, size_t n, double threshold, double v[NCV])
{
	churn_confusion c;
	churn_status st;
	if ((st = churn_metrics_confusion(y, p, n, threshold, &c)) || (st = churn_metrics_roc_auc(y, p, n, &v[0])) ||
	    (st = churn_metrics_average_precision(y, p, n, &v[1])) || (st = churn_metrics_log_loss(y, p, n, &v[6])) ||
	    (st = churn_metrics_brier(y, p, n, &v[7])))
		return st;
	v[2] = churn_metrics_f1(&c);
	v[3] = churn_metrics_accuracy(&c);
	v[4] = churn_metrics_precision(&c);
	v[5] = churn_metrics_recall(&c);
	return CHURN_OK;
}

/* Model k on one fold of the cross-validation: fitted on its training part, scored on the rest. */
static churn_status cv_model(struct work *w, size_t k, const churn_params *p)
{
	churn_training *t = w->t;
	struct trained *m = &t->m[k];
	churn_model *model = NULL;
	size_t n = churn_matrix_get_row_count(w->xte), got = 0;
	double *prob = malloc((n ? n : 1) * sizeof(double)), v[NCV];
	churn_status st = prob ? fit(t->o.kinds[k], w->xtr, p, &model) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_model_predict(model, w->xte, prob, n, &got);
	if (!st)
		st = cv_values(churn_matrix_get_labels(w->xte), prob, n, m->threshold, v);
	for (size_t q = 0; !st && q < NCV; q++)
		m->cv[q * t->o.cv + w->fold] = v[q];
	churn_model_free(model);
	free(prob);
	return st;
}

/* ------------------------------------------------------------------ */
/* The models on threads                                                */

static churn_status make_entry(const churn_training *t, struct trained *m);

/*
 * The caller's progress for a phase: the models' mean progress, as
 * ("train" | "cv" | "refit", done, total) in thousandths (the folds of the
 * cross-validation one after the other). Called on the caller's thread only:
 * by model 0 (which ch_parallel runs there) and, once model 0 is done, by
 * ch_parallel_watch while the others run.
 */
static void report_phase(void *ctx)
{
	struct work *w = ctx;
	size_t nm = w->t->o.nmodels;
	uint64_t sum = 0, total = 1000u * nm, before = 0;
	for (size_t k = 0; k < nm; k++)
		sum += atomic_load(&w->permille[k]);
	const char *what = w->phase == PHASE_CV ? "cv" : w->phase == PHASE_REFIT ? "refit" : "train";
	if (w->phase == PHASE_CV) {
		before = total * w->fold;
		total *= w->t->o.cv;
	}
	if (before + sum == w->reported)
		return;
	w->reported = before + sum;
	if (!ch_progress(w->p, what, before + sum, total))
		atomic_store(&w->stop, true);
}

/* A model's progress callback: its share of the phase; false once a model failed or the caller cancelled. */
static bool relay_progress(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)what;
	struct relay *r = ud;
	struct work *w = r->w;
	if (total)
		atomic_store(&w->permille[r->k], (unsigned)(done >= total ? 1000 : done * 1000 / total));
	if (r->k == 0)
		report_phase(w);
	return !atomic_load(&w->stop);
}

static void model_worker(void *ctx, size_t k)
{
	struct work *w = ctx;
	const churn_params *p = w->helper[k];
	double t0 = now_s();
	const struct options *o = &w->t->o;
	churn_status st = w->phase == PHASE_CV      ? cv_model(w, k, p)
	                  : w->phase == PHASE_REFIT ? refit_model(w, k, p)
	                                            : train_model(w, k, p);
	/* after the model's last phase, its metrics.json entry (here: on its own thread) */
	bool last = o->refit ? w->phase == PHASE_REFIT
	                     : (w->phase == PHASE_CV ? w->fold + 1 == o->cv : w->phase == PHASE_MAIN && !o->cv);
	if (!st && last)
		st = make_entry(w->t, &w->t->m[k]);
	w->t->m[k].seconds += now_s() - t0;
	atomic_store(&w->permille[k], 1000u);
	if (st) {
		w->res[k].stopped = st == CHURN_E_STATE && atomic_load(&w->stop);
		snprintf(w->res[k].error, sizeof(w->res[k].error), "%s", churn_last_error());
		w->res[k].st = st;
		atomic_store(&w->stop, true);
	}
}

/* Each model's copy of the params, reporting to relay_progress. */
static churn_status work_init(struct work *w, churn_training *t, const churn_params *p)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->p = p;
	atomic_init(&w->stop, false);
	for (size_t k = 0; k < t->o.nmodels; k++) {
		churn_status st = p ? churn_params_copy(p, &w->helper[k]) : churn_params_new(&w->helper[k]);
		if (st)
			return st;
		w->relay[k] = (struct relay){w, k};
		atomic_init(&w->permille[k], 0u);
		churn_params_set_progress(w->helper[k], relay_progress, &w->relay[k]);
	}
	return CHURN_OK;
}

static void work_clear(struct work *w)
{
	for (size_t k = 0; k < MAX_MODELS; k++)
		churn_params_free(w->helper[k]);
}

/* Run the phase for every model at once; the first failure in model order (not one caused by another's). */
static churn_status run_phase(struct work *w)
{
	size_t nm = w->t->o.nmodels;
	memset(w->res, 0, sizeof(w->res));
	atomic_store(&w->stop, false);
	for (size_t k = 0; k < nm; k++)
		atomic_store(&w->permille[k], 0u);
	w->reported = UINT64_MAX;
	ch_parallel_watch(nm, model_worker, w, report_phase, 100);
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < nm; k++)
			if (w->res[k].st && (pass || !w->res[k].stopped))
				return ch_fail(w->res[k].st, "%s: %s", churn_model_kind_name(w->t->o.kinds[k]), w->res[k].error);
	return CHURN_OK;
}

/* ------------------------------------------------------------------ */
/* Cross-validation                                                     */

static churn_status check_cv_classes(const churn_training *t)
{
	size_t pos = 0;
	for (size_t i = 0; i < t->n; i++)
		pos += t->y[i];
	size_t fewest = pos < t->n - pos ? pos : t->n - pos;
	if (t->o.cv > fewest)
		return ch_fail(CHURN_E_INVALID_ARG, "train.cv: %zu folds, but a class has only %zu rows", t->o.cv, fewest);
	return CHURN_OK;
}

/* Fold f: the prep refitted on its training part (of dw, the rows[] dataset), then every model. */
static churn_status cv_fold(struct work *w, const churn_dataset *dw, const uint32_t *fold, size_t f, size_t *a,
                            size_t *b, const churn_params *p)
{
	churn_training *t = w->t;
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (fold[i] == f)
			b[nb++] = i;
		else
			a[na++] = i;
	}
	churn_prep *prep = NULL;
	churn_matrix *xa = NULL, *xb = NULL;
	churn_status st = fit_prep_quietly(dw, a, na, p, &prep);
	if (!st)
		st = churn_prep_apply_rows(prep, dw, a, na, &xa);
	if (!st)
		st = churn_prep_apply_rows(prep, dw, b, nb, &xb);
	if (!st) {
		w->xtr = xa;
		w->xte = xb;
		w->fold = f;
		w->phase = PHASE_CV;
		st = run_phase(w);
	}
	churn_prep_free(prep);
	churn_matrix_free(xa);
	churn_matrix_free(xb);
	return st;
}

static churn_status cross_validate(struct work *w, const churn_dataset *dw, const churn_params *p)
{
	churn_training *t = w->t;
	size_t n = t->n, k = t->o.cv;
	uint32_t *fold = malloc((n ? n : 1) * sizeof(uint32_t));
	size_t *a = malloc((n ? n : 1) * sizeof(size_t)), *b = malloc((n ? n : 1) * sizeof(size_t));
	churn_status st = (fold && a && b) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; !st && i < t->o.nmodels; i++)
		if (!(t->m[i].cv = malloc(NCV * k * sizeof(double))))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_split_kfold(t->y, n, k, t->o.seed, fold);
	for (size_t f = 0; !st && f < k; f++)
		st = cv_fold(w, dw, fold, f, a, b, p);
	free(fold);
	free(a);
	free(b);
	return st;
}

/* The drift reference profile (churn/drift.h) of rows[0..n) of ds (NULL: all), as the artifacts store it. */
static churn_status reference_of(const churn_dataset *ds, const size_t *rows, size_t n, const churn_prep *prep,
                                 const churn_params *p, char **out)
{
	cJSON *doc = NULL;
	churn_status st = ch_drift_reference(ds, rows, n, prep, p, &doc);
	if (!st && !(*out = ch_json_print(doc, false)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_Delete(doc);
	return st;
}

/* train.refit: the prep and every model fitted again on all rows of dw (the rows[] dataset). */
static churn_status refit_all(struct work *w, const churn_dataset *dw, const churn_params *p)
{
	churn_training *t = w->t;
	churn_matrix *x = NULL;
	churn_status st = fit_prep_quietly(dw, NULL, 0, p, &t->prep_all);
	if (!st)
		st = reference_of(dw, NULL, t->n, t->prep_all, p, &t->ref_all);
	if (!st)
		st = churn_prep_apply(t->prep_all, dw, &x);
	if (!st) {
		w->xtr = x;
		w->xte = NULL;
		w->phase = PHASE_REFIT;
		st = run_phase(w);
	}
	churn_matrix_free(x);
	return st;
}

/* ------------------------------------------------------------------ */
/* Documents                                                            */

static bool add_cv(cJSON *e, const struct trained *m, size_t k)
{
	cJSON *c = cJSON_AddObjectToObject(e, "cv");
	if (!c || !cJSON_AddNumberToObject(c, "k", (double)k))
		return false;
	for (size_t q = 0; q < NCV; q++) {
		const double *v = m->cv + q * k;
		double mean = 0, var = 0;
		for (size_t f = 0; f < k; f++)
			mean += v[f] / (double)k;
		for (size_t f = 0; f < k; f++)
			var += (v[f] - mean) * (v[f] - mean) / (double)k;
		char key[48];
		snprintf(key, sizeof(key), "%s_mean", cv_keys[q]);
		if (!cJSON_AddNumberToObject(c, key, mean))
			return false;
		snprintf(key, sizeof(key), "%s_std", cv_keys[q]);
		if (!cJSON_AddNumberToObject(c, key, sqrt(var)))
			return false;
	}
	return true;
}

/* The metrics.json entry of model m (no timings). */
static churn_status make_entry(const churn_training *t, struct trained *m)
{
	const char *name = churn_model_kind_name(churn_model_get_kind(m->model));
	char *params = NULL, path[64];
	cJSON *e = cJSON_Parse(churn_model_get_metrics_json(m->model)), *a = NULL;
	churn_status st = e ? churn_model_get_params_json(m->model, &params) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st)
		goto out;
	snprintf(path, sizeof(path), "artifacts/models/%s.json", name);
	if (!cJSON_AddStringToObject(e, "threshold_method", policy_names[t->o.policy]) ||
	    !cJSON_AddNumberToObject(e, "iterations", (double)churn_model_get_iterations(m->model)) ||
	    !cJSON_AddBoolToObject(e, "converged", churn_model_is_converged(m->model)) ||
	    !cJSON_AddItemToObject(e, "params", cJSON_Parse(params)) || !(a = cJSON_AddObjectToObject(e, "artifact")) ||
	    !cJSON_AddStringToObject(a, "path", path) || !cJSON_AddNumberToObject(a, "bytes", (double)m->artifact_n) ||
	    !cJSON_AddStringToObject(a, "sha256", m->artifact_sha256) || (t->o.cv && !add_cv(e, m, t->o.cv)) ||
	    !(m->entry_text = ch_json_print(e, true))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	m->entry = e;
	e = NULL;
out:
	cJSON_Delete(e);
	churn_free(params);
	return st;
}

/* The best model (highest test ROC AUC, the first of equals). */
static churn_status finish(churn_training *t)
{
	double best_auc = -INFINITY;
	for (size_t k = 0; k < t->o.nmodels; k++) {
		if (!t->m[k].entry)
			return ch_fail(CHURN_E_INTERNAL, "train: no metrics entry for model %zu", k);
		double auc = churn_training_get_metric(t, k, "roc_auc");
		if (auc > best_auc) {
			best_auc = auc;
			t->best = k;
		}
	}
	return CHURN_OK;
}

/* ------------------------------------------------------------------ */
/* The survival model and the retention list (train-cox.c, retention.c)  */

/* The Cox model on the same split and folds, then the retention list scored by the best classifier. */
static churn_status survival(churn_training *t, const churn_dataset *dw, const size_t *tr, const size_t *te,
                             const churn_params *p)
{
	ch_cox_input in = {.dw = dw, .prep = t->prep, .tr = tr, .te = te, .ntr = t->ntr, .nte = t->nte, .y = t->y,
	                   .n = t->n, .cv = t->o.cv, .seed = t->o.seed, .sha256 = t->sha256};
	churn_status st = ch_train_cox(&in, p, &t->cox);
	if (!st && t->cox.entry && !(t->cox_entry_text = ch_json_print(t->cox.entry, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	const double *prob = t->o.nmodels ? t->m[t->best].scores : NULL;
	const char *source = t->o.nmodels ? churn_model_kind_name(t->o.kinds[t->best]) : "cox";
	if (!st && t->cox.cox)
		st = ch_retention_compute(&in, &t->cox, prob, source, p, &t->retention);
	return st;
}

/* ------------------------------------------------------------------ */
/* Public calls                                                         */

/* Steps 2 to 8 on dw (the rows[] of the caller's dataset, labelled in t->y). */
static churn_status train_rows(churn_training *t, const churn_dataset *dw, const churn_params *p)
{
	size_t *tr = NULL, *te = NULL;
	churn_matrix *xtr = NULL, *xte = NULL;
	struct work w;
	churn_status st = work_init(&w, t, p);
	if (!st && t->o.cv)
		st = check_cv_classes(t);
	if (!st)
		st = split(t, &tr, &te);
	if (!st)
		st = churn_prep_fit(dw, tr, t->ntr, p, &t->prep);
	if (!st)
		st = reference_of(dw, tr, t->ntr, t->prep, p, &t->ref);
	if (!st)
		st = churn_prep_apply_rows(t->prep, dw, tr, t->ntr, &xtr);
	if (!st)
		st = churn_prep_apply_rows(t->prep, dw, te, t->nte, &xte);
	if (!st && t->o.nmodels) { /* ch_parallel(0) would still run one worker */
		w.tr = tr, w.te = te, w.xtr = xtr, w.xte = xte;
		st = run_phase(&w);
	}
	if (!st && t->o.cv && t->o.nmodels)
		st = cross_validate(&w, dw, p);
	if (!st && t->o.refit && t->o.nmodels)
		st = refit_all(&w, dw, p);
	if (!st)
		st = finish(t);
	if (!st && t->o.cox)
		st = survival(t, dw, tr, te, p);
	work_clear(&w);
	churn_free(tr);
	churn_free(te);
	churn_matrix_free(xtr);
	churn_matrix_free(xte);
	return st;
}

churn_status churn_train(const churn_dataset *ds, const char *data_sha256, const churn_params *p,
                         churn_training **out)
{
	if (!ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_train: NULL argument");
	if (data_sha256 && !is_sha256(data_sha256))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_train: data_sha256 is not 64 hex characters");
	churn_training *t = calloc(1, sizeof(*t));
	if (!t)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_dataset *sub = NULL;
	churn_status st = parse_options(p, &t->o);
	if (!st) {
		snprintf(t->sha256, sizeof(t->sha256), "%s", data_sha256 ? data_sha256 : "");
		if (churn_dataset_get_rows_read(ds) > churn_dataset_get_row_count(ds))
			t->rows_read = churn_dataset_get_rows_read(ds), t->rows_sampled = churn_dataset_get_row_count(ds);
		st = label_rows(ds, p, t, &sub);
	}
	if (!st)
		st = train_rows(t, sub ? sub : ds, p);
	churn_dataset_free(sub);
	if (st) {
		churn_training_free(t);
		return st;
	}
	*out = t;
	return CHURN_OK;
}

churn_status churn_train_file(const char *path, const churn_params *p, churn_training **out)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_train_file: NULL argument");
	struct options o;
	churn_dataset *ds = NULL;
	char sha[65];
	churn_status st = parse_options(p, &o);
	if (!st) /* train.max_rows: only the sample is held */
		st = churn_csv_read_file_sampled(path, p, &ds, NULL, NULL);
	if (!st)
		st = ch_sha256_file(path, sha);
	if (!st)
		st = churn_train(ds, sha, p, out);
	churn_dataset_free(ds);
	return st;
}

void churn_training_free(churn_training *t)
{
	if (!t)
		return;
	for (size_t k = 0; k < MAX_MODELS; k++) {
		struct trained *m = &t->m[k];
		churn_model_free(m->model);
		churn_free(m->artifact);
		free(m->scores);
		free(m->test_scores);
		free(m->cv);
		cJSON_Delete(m->entry);
		free(m->entry_text);
	}
	ch_cox_training_clear(&t->cox);
	free(t->cox_entry_text);
	churn_retention_free(t->retention);
	churn_prep_free(t->prep);
	churn_prep_free(t->prep_all);
	free(t->ref);
	free(t->ref_all);
	free(t->rows);
	churn_free(t->y);
	free(t->tr);
	free(t->te);
	free(t->yte);
	free(t);
}

/* Model k, or NULL out of range. */
static const struct trained *model_at(const churn_training *t, size_t k)
{
	return t && k < t->o.nmodels ? &t->m[k] : NULL;
}

size_t churn_training_get_model_count(const churn_training *t)
{
	return t ? t->o.nmodels : 0;
}

const churn_model *churn_training_get_model(const churn_training *t, size_t k)
{
	const struct trained *m = model_at(t, k);
	return m ? m->model : NULL;
}

size_t churn_training_get_best(const churn_training *t)
{
	return t ? t->best : 0;
}

bool churn_training_is_refit(const churn_training *t)
{
	return t && t->o.refit;
}

const char *churn_training_get_artifact(const churn_training *t, size_t k, size_t *out_n)
{
	const struct trained *m = model_at(t, k);
	if (out_n)
		*out_n = m ? m->artifact_n : 0;
	return m ? m->artifact : NULL;
}

const char *churn_training_get_artifact_sha256(const churn_training *t, size_t k)
{
	const struct trained *m = model_at(t, k);
	return m ? m->artifact_sha256 : NULL;
}

const char *churn_training_get_metrics_json(const churn_training *t, size_t k)
{
	const struct trained *m = model_at(t, k);
	return m ? m->entry_text : NULL;
}

double churn_training_get_metric(const churn_training *t, size_t k, const char *name)
{
	const struct trained *m = model_at(t, k);
	const cJSON *v = m ? m->entry : NULL;
	char part[64];
	for (const char *s = name; v && s && *s;) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		if (len >= sizeof(part))
			return NAN;
		memcpy(part, s, len);
		part[len] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(v, part);
		s = dot ? dot + 1 : NULL;
	}
	return name && cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

double churn_training_get_seconds(const churn_training *t, size_t k)
{
	const struct trained *m = model_at(t, k);
	return m ? m->seconds : NAN;
}

const churn_prep *churn_training_get_prep(const churn_training *t)
{
	return t ? t->prep : NULL;
}

const size_t *churn_training_get_rows(const churn_training *t, size_t *out_n)
{
	if (out_n)
		*out_n = t ? t->n : 0;
	return t ? t->rows : NULL;
}

const uint8_t *churn_training_get_labels(const churn_training *t, size_t *out_n)
{
	if (out_n)
		*out_n = t ? t->n : 0;
	return t ? t->y : NULL;
}

const double *churn_training_get_scores(const churn_training *t, size_t k, size_t *out_n)
{
	const struct trained *m = model_at(t, k);
	if (out_n)
		*out_n = m ? t->n : 0;
	return m ? m->scores : NULL;
}

const size_t *churn_training_get_train_rows(const churn_training *t, size_t *out_n)
{
	if (out_n)
		*out_n = t ? t->ntr : 0;
	return t ? t->tr : NULL;
}

const size_t *churn_training_get_test_rows(const churn_training *t, size_t *out_n)
{
	if (out_n)
		*out_n = t ? t->nte : 0;
	return t ? t->te : NULL;
}

const uint8_t *churn_training_get_test_labels(const churn_training *t, size_t *out_n)
{
	if (out_n)
		*out_n = t ? t->nte : 0;
	return t ? t->yte : NULL;
}

const double *churn_training_get_test_scores(const churn_training *t, size_t k, size_t *out_n)
{
	const struct trained *m = model_at(t, k);
	if (out_n)
		*out_n = m ? t->nte : 0;
	return m ? m->test_scores : NULL;
}

/* "threshold_policy": how the thresholds were chosen. */
static cJSON *policy_json(const struct options *o)
{
	cJSON *j = cJSON_CreateObject();
	if (!j || !cJSON_AddStringToObject(j, "method", policy_names[o->policy]) ||
	    (o->policy == POLICY_FIXED && !cJSON_AddNumberToObject(j, "value", o->fixed)) ||
	    (o->policy != POLICY_FIXED && !cJSON_AddNumberToObject(j, "folds", (double)o->folds)) ||
	    (o->policy == POLICY_COST &&
	     (!cJSON_AddNumberToObject(j, "cost_fn", o->cost_fn) || !cJSON_AddNumberToObject(j, "cost_fp", o->cost_fp)))) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* "sample" (train.max_rows took one): the rows read from the file and the rows of the sample trained on. */
static bool sample_json(cJSON *doc, const churn_training *t)
{
	cJSON *s = cJSON_AddObjectToObject(doc, "sample");
	return s && cJSON_AddNumberToObject(s, "rows_read", (double)t->rows_read) &&
	       cJSON_AddNumberToObject(s, "rows_sampled", (double)t->rows_sampled) &&
	       cJSON_AddStringToObject(s, "method", "stratified by target class, drawn while reading (train.max_rows)");
}

/* The document but for its models. */
static bool doc_head(cJSON *doc, const churn_training *t, const char *run_id, const char *generated_at)
{
	char stamp[32];
	if (!generated_at) {
		ch_format_time_utc(stamp, sizeof(stamp), (int64_t)time(NULL));
		generated_at = stamp;
	}
	cJSON *s = NULL;
	return cJSON_AddStringToObject(doc, "generated_at", generated_at) &&
	       (run_id ? cJSON_AddStringToObject(doc, "run_id", run_id) : cJSON_AddNullToObject(doc, "run_id")) &&
	       (t->sha256[0] ? cJSON_AddStringToObject(doc, "data_sha256", t->sha256)
	                     : cJSON_AddNullToObject(doc, "data_sha256")) &&
	       cJSON_AddNumberToObject(doc, "rows", (double)t->n) &&
	       cJSON_AddNumberToObject(doc, "train_rows", (double)t->ntr) &&
	       cJSON_AddNumberToObject(doc, "test_rows", (double)t->nte) &&
	       cJSON_AddNumberToObject(doc, "fitted_rows", (double)(t->o.refit ? t->n : t->ntr)) &&
	       cJSON_AddBoolToObject(doc, "refit", t->o.refit) &&
	       cJSON_AddNumberToObject(doc, "features", (double)churn_prep_get_feature_count(t->prep)) &&
	       (s = cJSON_AddObjectToObject(doc, "split")) && cJSON_AddNumberToObject(s, "test_size", t->o.test_size) &&
	       cJSON_AddNumberToObject(s, "seed", (double)t->o.seed) &&
	       cJSON_AddItemToObject(doc, "threshold_policy", policy_json(&t->o)) && (!t->rows_read || sample_json(doc, t));
}

/*
 * "notes": what a reader must not miss. Columns the prep left out as identifier-like or as leaking the target
 * (screen-private.h), and a test ROC AUC of 0.99 or more, which real churn data does not give without a leak.
 */
static cJSON *notes_json(const churn_training *t)
{
	cJSON *notes = ch_prep_screen_notes_json(t->prep);
	for (size_t k = 0; notes && k < t->o.nmodels; k++) {
		double auc = churn_training_get_metric(t, k, "roc_auc");
		if (!(auc >= CH_SCREEN_LEAK_AUC))
			continue;
		char *note = ch_asprintf("%s: test ROC AUC %.4f is %.2f or more, which churn data rarely gives: check for a "
		                         "column computed from the target", churn_model_kind_name(t->o.kinds[k]), auc,
		                         CH_SCREEN_LEAK_AUC);
		if (!note || !cJSON_AddItemToArray(notes, cJSON_CreateString(note))) {
			free(note);
			cJSON_Delete(notes);
			return NULL;
		}
		free(note);
	}
	return notes;
}

/* With cox: "survival" {"notes", "cox": its entry} (when fitted) and "retention" (the summary of the list, when made). */
static bool survival_json(cJSON *doc, const churn_training *t)
{
	if (!t->o.cox)
		return true;
	cJSON *s = cJSON_AddObjectToObject(doc, "survival"), *notes = s ? cJSON_AddArrayToObject(s, "notes") : NULL;
	if (!notes || (t->cox.entry && !cJSON_AddItemToObject(s, "cox", cJSON_Duplicate(t->cox.entry, 1))))
		return false;
	/* beside the model, not in "notes": those are about the data (the dashboard's "Check the data") */
	for (size_t k = 0; k < t->cox.nnotes; k++)
		if (!cJSON_AddItemToArray(notes, cJSON_CreateString(t->cox.notes[k])))
			return false;
	if (!t->retention)
		return true;
	char *text = NULL;
	if (churn_retention_summary_json(t->retention, &text))
		return false;
	cJSON *r = cJSON_Parse(text);
	churn_free(text);
	return r && cJSON_AddItemToObject(doc, "retention", r);
}

churn_status churn_training_metrics_json(const churn_training *t, const char *run_id, const char *generated_at,
                                         char **out_json)
{
	if (!t || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_training_metrics_json: NULL argument");
	cJSON *doc = cJSON_CreateObject(), *models = NULL;
	bool ok = doc && doc_head(doc, t, run_id, generated_at) && (models = cJSON_AddObjectToObject(doc, "models"));
	for (size_t k = 0; ok && k < t->o.nmodels; k++)
		ok = cJSON_AddItemToObject(models, churn_model_kind_name(t->o.kinds[k]), cJSON_Duplicate(t->m[k].entry, 1));
	ok = ok && (t->o.nmodels ? cJSON_AddStringToObject(doc, "best_model", churn_model_kind_name(t->o.kinds[t->best]))
	                         : cJSON_AddNullToObject(doc, "best_model")) &&
	     survival_json(doc, t) && cJSON_AddItemToObject(doc, "notes", notes_json(t));
	char *text = ok ? ch_json_print(doc, true) : NULL;
	cJSON_Delete(doc);
	if (!text)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_json = text;
	return CHURN_OK;
}

bool churn_training_has_cox(const churn_training *t)
{
	return t && t->cox.cox;
}

const churn_cox *churn_training_get_cox(const churn_training *t)
{
	return t ? t->cox.cox : NULL;
}

const char *churn_training_get_cox_artifact(const churn_training *t, size_t *out_n)
{
	bool ok = t && t->cox.artifact;
	if (out_n)
		*out_n = ok ? t->cox.artifact_n : 0;
	return ok ? t->cox.artifact : NULL;
}

const char *churn_training_get_cox_artifact_sha256(const churn_training *t)
{
	return t && t->cox.artifact ? t->cox.artifact_sha256 : NULL;
}

const char *churn_training_get_cox_metrics_json(const churn_training *t)
{
	return t ? t->cox_entry_text : NULL;
}

const churn_retention *churn_training_get_retention(const churn_training *t)
{
	return t ? t->retention : NULL;
}

size_t churn_training_get_survival_note_count(const churn_training *t)
{
	return t ? t->cox.nnotes : 0;
}

const char *churn_training_get_survival_note(const churn_training *t, size_t k)
{
	return t && k < t->cox.nnotes ? t->cox.notes[k] : NULL;
}
