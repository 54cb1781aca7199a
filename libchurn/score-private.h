/*
 * Internal scorer helpers (ch_ prefix, never exported): the scorer's layout
 * and the one encoder of raw values that every entry shares.
 *
 * The score module's files, one concern each:
 *   score.c         the scorer's lifetime, its names, JSON requests and data sets, the answer
 *   score-record.c  churn_record: typed values by column, encoded and scored without text
 *
 * The JSON entry fills a churn_record per request object and encodes it with
 * ch_record_encode(), so a JSON request, an embedding C program and the
 * PostgreSQL extension all go through the same conversion rules (those of
 * churn_prep_apply_json(), the reference path).
 */
#ifndef CH_SCORE_PRIVATE_H
#define CH_SCORE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf-private.h"
#include "churn/score.h"
#include "prep-private.h"

enum { CH_ROLE_COL, CH_ROLE_TARGET, CH_ROLE_OTHER };

/* A name a record may carry: a prep column (col), the target or an ID/dropped column. */
typedef struct ch_sc_name {
	char *name;
	int role;
	size_t col;
} ch_sc_name;

struct churn_scorer {
	churn_model *model;
	const churn_prep *prep; /* borrowed from the model */
	ch_sc_name *names;      /* the record's fields: prep columns in spec order, then target, dropped, IDs */
	size_t nnames;
	size_t *sorted;         /* indexes into names, in strcmp order of the name */
	size_t nfeatures;
	char *id;               /* first ID column, or NULL */
	char *positive, *negative;
	size_t *level_len;      /* the byte lengths of every column's levels, column c's from level_off[c] */
	size_t *level_off;
	int8_t *level_slot;     /* per column, 16 slots: the level whose (length, first, last byte) hash there, or
	                         * -1; all -2 when two of its levels share a slot, or it has more than 8 */
};

/* Fitted level of the n bytes at p in categorical prep column c (exact match, no copy); -1 when none. */
int32_t ch_scorer_find_level(const churn_scorer *s, size_t c, const char *p, size_t n);

/* The field named exactly @p name (bsearch); (size_t)-1 when none. */
size_t ch_scorer_find_exact(const churn_scorer *s, const char *name);

/* A cell's state in a record. */
enum { CH_CELL_ABSENT = 0, CH_CELL_VALUE = 1, CH_CELL_MISSING = 2 };

struct churn_record {
	const churn_scorer *s;
	uint8_t *state;   /* per prep column: CH_CELL_* */
	double *z;        /* numeric columns: the scaled value */
	int32_t *level;   /* categorical columns: the fitted level, -2 unseen */
	bool has_target;  /* a valid target value was set */
	double *row;      /* nfeatures: the encoded row */
	double *contrib;  /* nfeatures + 1 */
	double *x;        /* numeric columns: the value as given */
	size_t *idx;      /* kcap reasons: prep column indexes */
	double *sums;     /* their contributions */
	char (*vtext)[40]; /* numeric reasons' values as text (churn_record_get_reason) */
	size_t kcap, nreasons;
	double prob;      /* of the last churn_record_score() */
	bool scored;      /* since the last clear */
};

/* churn_record_set_string() of text already checked (valid UTF-8, NUL-terminated: a parsed request's). */
churn_status ch_record_set_valid_string(churn_record *r, size_t index, const char *text);

/* The design-matrix row of the record's values into row[0..nfeatures) (churn_prep_apply_json's rules). */
void ch_record_encode(const churn_record *r, double *row);

/*
 * The reasons of one prediction in the customer's own terms: the rule of
 * churn_model_reasons() (largest absolute contribution first, sign kept, zero
 * left out) applied to the raw columns, each column's contribution the sum of
 * its features' (one-hot levels, missing indicator, scaled value). Up to
 * top_k prep column indexes into cols and their sums into sums; returns how
 * many.
 */
size_t ch_column_reasons(const churn_prep *prep, const double *contrib, size_t top_k, size_t *cols, double *sums);

/*
 * Probability of @p row and, when top_k > 0, its contributions (p + 1) and up
 * to top_k reasons (ch_column_reasons: prep column indexes and their sums).
 */
churn_status ch_scorer_score_row(const churn_scorer *s, const double *row, size_t top_k, double *prob,
                                 double *contrib, size_t *cols, double *sums, size_t *nreasons);

/* A customer's value as an answer shows it: missing, text, or a number. */
typedef struct ch_sc_value {
	enum { CH_VALUE_NULL, CH_VALUE_TEXT, CH_VALUE_NUMBER } kind;
	const char *text;
	double num;
} ch_sc_value;

/*
 * One prediction of an answer (the one writer of /api/predict, churn predict
 * --json, the record and the SQL explain): "probability", "label", "churn" and
 * "reasons": [{"feature": the raw column, "value": the customer's own value,
 * "contribution": the column's summed contribution, "effect": "raises" or
 * "lowers"}], appended to b after whatever the caller wrote of the object.
 * value(ud, col) gives prep column col's value.
 */
void ch_scorer_write_prediction(ch_buf *b, const churn_scorer *s, double prob, const size_t *cols, const double *sums,
                                size_t nreasons, ch_sc_value (*value)(const void *ud, size_t col), const void *ud);

#endif
