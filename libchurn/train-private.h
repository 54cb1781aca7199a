/*
 * The training's survival part (ch_ prefix, never exported), shared by:
 *   train.c       the procedure (churn_train), the metrics document
 *   train-cox.c   the Cox model of pipeline.models "cox": its design (the
 *                 training prep without the time column and the columns
 *                 that leak it), fit, test and CV figures, artifact, entry
 *   retention.c   customer value and the retention list from that model
 */
#ifndef CH_TRAIN_PRIVATE_H
#define CH_TRAIN_PRIVATE_H

#include <cjson/cJSON.h>

#include "churn/prep.h"
#include "churn/retention.h"
#include "churn/survival.h"
#include "churn/train.h"

/* The Cox model of one training, or why there is none (notes). */
typedef struct ch_cox_training {
	churn_cox *cox;          /* NULL: skipped (notes say why) */
	char *time_col;          /* the time column as the data names it */
	char **excluded;         /* raw columns left out of the design: the time column, then the leaks */
	size_t nexcluded;
	size_t *feat, nfeat;     /* the training prep's features the design keeps */
	double horizon;
	size_t fitted_rows, rows_without_time;
	char *artifact;          /* artifacts/models/cox.json */
	size_t artifact_n;
	char artifact_sha256[65];
	cJSON *entry;            /* metrics.json "survival"."cox" */
	char **notes;            /* "cox: ..." */
	size_t nnotes;
	double seconds;
} ch_cox_training;

/* Where the training's rows are (all indices into the rows[] dataset dw). */
typedef struct ch_cox_input {
	const churn_dataset *dw;
	const churn_prep *prep;  /* fitted on the training rows */
	const size_t *tr, *te;
	size_t ntr, nte;
	const uint8_t *y;        /* labels of every row of dw */
	size_t n;
	size_t cv;               /* train.cv folds (0: none) */
	uint64_t seed;           /* split.seed: the folds of train.cv */
	const char *sha256;      /* of the data; "" when unknown */
} ch_cox_input;

/*
 * Fit the Cox model of a training into *c (zeroed by the caller): skipped
 * with a note when the time column is absent, not numeric or has fewer than
 * two usable rows. Statuses: those of the prep, the fit ("cox: ..."),
 * CHURN_E_NOMEM.
 */
churn_status ch_train_cox(const ch_cox_input *in, const churn_params *p, ch_cox_training *c);

/* The features of @p prep whose raw column is not one of excluded[0..nex): *out (malloc'd), *nout. NOMEM. */
churn_status ch_cox_pick_features(const churn_prep *prep, char *const *excluded, size_t nex, size_t **out,
                                  size_t *nout);

/* The rows of @p full, columns feat[0..nfeat), with their names: *out. NOMEM. */
churn_status ch_cox_select_columns(const churn_matrix *full, const size_t *feat, size_t nfeat, churn_matrix **out);

/* Free what *c holds and zero it. */
void ch_cox_training_clear(ch_cox_training *c);

/* Append a formatted note to c->notes (CHURN_E_NOMEM). */
churn_status ch_cox_note(ch_cox_training *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The design of the rows @p rows (nrows of them) of @p dw for the model of
 * @p c: the training prep applied, the kept features. *out freed by the caller.
 */
churn_status ch_cox_design(const ch_cox_training *c, const churn_prep *prep, const churn_dataset *dw,
                           const size_t *rows, size_t nrows, churn_matrix **out);

/* The time column of dw as numbers (borrowed), or NULL when it is absent or not numeric. */
const double *ch_cox_times(const ch_cox_training *c, const churn_dataset *dw, size_t *out_col);

/*
 * The retention list of a training (retention.c): the current customers
 * (label 0) of dw with a time, valued with the Cox model of @p c, and
 * @p prob (P(churn) of every row of dw by the best classifier; NULL: the
 * Cox model's one-month probability, named @p prob_source). *out NULL with a
 * note in c when there is no charges column (retention.missing_charges
 * "note"). Statuses: CHURN_E_NOTFOUND (no charges column with "error"),
 * CHURN_E_INVALID_ARG (a bad retention.* value), those of the Cox calls,
 * CHURN_E_NOMEM.
 */
churn_status ch_retention_compute(const ch_cox_input *in, ch_cox_training *c, const double *prob,
                                  const char *prob_source, const churn_params *p, churn_retention **out);

#endif /* CH_TRAIN_PRIVATE_H */
