/*
 * The model framework's internal interface (ch_ prefix, never exported).
 *
 * Each algorithm provides one const struct ch_model_ops (logreg.c, gbm.c,
 * forest.c). model.c owns everything common: argument checks, feature names,
 * the prep spec, artifact framing (format/version/writer/kind/params/...),
 * predict loops, thresholds. An algorithm only sees the design matrix and
 * keeps its own opaque state.
 *
 * Registering an algorithm: define its const struct ch_model_ops
 * ch_<name>_ops in its own file, add the file to libchurn/meson.build and
 * one line to the registry in model.c (search for "CH_MODEL_REGISTRY"); the
 * three built today are ch_logreg_ops, ch_gbm_ops and ch_forest_ops.
 */
#ifndef CH_MODEL_PRIVATE_H
#define CH_MODEL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/matrix.h"
#include "churn/model.h"
#include "churn/params.h"

/* What a fit reports back to model.c (recorded in the artifact's "fit"). */
typedef struct ch_fit_info {
	size_t iterations;   /* Newton steps, or trees built */
	bool converged;      /* trees: true */
} ch_fit_info;

/*
 * A tree ensemble's prediction, with each row's sum taken over the trees in
 * order: P = clamp(sum / ntrees, 0, 1) when mean (a forest), else
 * P = sigmoid(base + sum) (boosting). Gives the bits of the model's predict.
 */
typedef struct ch_ensemble {
	const struct ch_tree *trees;
	size_t ntrees;
	double base;
	bool mean;
	const struct ch_qs *qs; /* the trees by condition, for one row at a time (ch_qs_build), or NULL */
} ch_ensemble;

/* P(churn) from base + the trees' sum (tree.c). */
double ch_ensemble_prob(const ch_ensemble *e, double sum);
/* P(churn) of nrows rows (row-major), tree by tree over blocks of rows (tree.c). */
void ch_ensemble_predict(const ch_ensemble *e, const double *X, size_t nrows, size_t ncols, double *out);

struct ch_model_ops {
	churn_model_kind kind;
	const char *name;     /* "logreg": also the key of the algorithm's part in the artifact */
	bool score_is_logit;  /* margin() is log-odds (P = sigmoid); false: margin() is P itself */

	/*
	 * Fit on X (nrows x ncols, labels present, both classes present, all
	 * values finite: model.c checks these first). *state receives a new
	 * state on success only. Fail with ch_fail() (CHURN_E_NUMERIC on
	 * divergence, CHURN_E_STATE when ch_progress() asks to cancel).
	 */
	churn_status (*fit)(void **state, const churn_matrix *X, const churn_params *p, ch_fit_info *info);

	/* Raw score of one row of ncols finite values (log-odds, or P when !score_is_logit). */
	double (*margin)(const void *state, const double *row, size_t ncols);

	/*
	 * Optional batch prediction of P(churn) for nrows rows (row-major); when
	 * NULL model.c loops over margin(). Must give the same bits as the loop
	 * (the artifact round trip is tested with memcmp).
	 */
	void (*predict)(const void *state, const double *X, size_t nrows, size_t ncols, double *out_p);

	/* Contributions out[0..ncols) + bias out[ncols], summing to margin(row). */
	churn_status (*contrib)(const void *state, const double *row, size_t ncols, double *out);

	/* Importance per feature into out[0..ncols). */
	churn_status (*importance)(const void *state, double *out, size_t ncols);

	/*
	 * The algorithm's own part of the artifact (stored under key `name`);
	 * NULL on OOM. feature_names (ncols of them) are passed so a part may
	 * label its numbers (logreg writes {"feature","coef","odds_ratio"}).
	 * Write doubles with ch_json_number() so they round-trip exactly.
	 */
	cJSON *(*to_cjson)(const void *state, size_t ncols, const char *const *feature_names);

	/*
	 * Rebuild a state from that part, for a model of ncols features.
	 * Validate everything (the input is untrusted, fuzzed): CHURN_E_FORMAT
	 * naming the field on any missing, mistyped, out-of-range or
	 * inconsistent value; never crash, never read out of bounds.
	 */
	churn_status (*from_cjson)(const cJSON *part, size_t ncols, void **state);

	void (*free)(void *state);

	/* Optional: the model as a tree ensemble (permutation.c predicts from it); false if it is none. */
	bool (*ensemble)(const void *state, ch_ensemble *out);
};

extern const struct ch_model_ops ch_logreg_ops;
/* Defined by gbm.c / forest.c when those are built (see the registry in model.c). */
extern const struct ch_model_ops ch_gbm_ops;
extern const struct ch_model_ops ch_forest_ops;

/* The ops and (possibly NULL) state of a model. */
const struct ch_model_ops *ch_model_get_ops(const churn_model *m, const void **state);

/* The ops of a kind, or NULL when not built in. */
const struct ch_model_ops *ch_model_ops_for(churn_model_kind kind);

/*
 * JSON number helpers for artifacts. ch_json_number() writes the shortest
 * text that reads back to the same double (locale-independent), as a raw
 * cJSON item; non-finite values become null (callers store only finite
 * values). ch_json_get_double()/_size() read a member, failing with
 * CHURN_E_FORMAT "<where>: field 'key' ..." when absent, mistyped or (for
 * sizes) negative, fractional or above max.
 */
cJSON *ch_json_number(double v);
bool ch_json_add_number(cJSON *obj, const char *key, double v);
churn_status ch_json_get_double(const cJSON *obj, const char *key, const char *where, double *out);
churn_status ch_json_get_size(const cJSON *obj, const char *key, const char *where, size_t max, size_t *out);
/* Read a JSON array of exactly n finite numbers into out[0..n). */
churn_status ch_json_get_doubles(const cJSON *arr, size_t n, const char *where, double *out);

/* Logistic regression coefficients out[0..ncols) and intercept out[ncols] (logreg.c). */
churn_status ch_logreg_coefficients(const void *state, size_t ncols, double *out);

/*
 * The reasons rule (churn_model_reasons; the scorer applies it to the sums of
 * each raw column's features): indices of the top_k contrib[j], j < p, of
 * largest absolute value (zero and NaN left out; the first of equals first),
 * largest first, into out; returns how many.
 */
size_t ch_top_reasons(const double *contrib, size_t p, size_t top_k, size_t *out);

/* 1 / (1 + exp(-z)), computed stably for both signs. */
double ch_sigmoid(double z);

#endif
