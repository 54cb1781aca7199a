/*
 * The target column's two classes and its positive label: one rule for every
 * command (prep fit, profile, EDA) so that they count the same rows.
 *
 * Labels are compared as text after trimming ASCII blanks and ignoring ASCII
 * case (ch_label_eq: "TRUE", "True " and "true" are one class, written as
 * first seen); a numeric target compares values. The positive label is
 * data.positive when given (the same comparison; a number for a numeric
 * target), else 1 of 0/1 or the yes-like text (yes, true, 1, y, t).
 */
#ifndef CH_TARGET_PRIVATE_H
#define CH_TARGET_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "churn/common.h"
#include "dataset-private.h"

/* Most distinct classes counted for an error message; more are "...". */
#define CH_TARGET_MAX_SHOWN 6

typedef struct ch_target {
	bool numeric;
	char *positive, *negative; /* owned: the spelling first seen */
	double pos_num, neg_num;   /* numeric target: the values */
	size_t npos, nneg;         /* rows of each class */
	size_t missing;            /* rows with no value */
	size_t first_missing;      /* the first of them (a row index), when missing > 0 */
} ch_target;

/* Whether two labels are one class: equal after trimming ASCII blanks, ignoring ASCII case. */
bool ch_label_eq(const char *a, const char *b);

/*
 * The classes of column @p tj of @p ds over rows[0..n) (NULL: all n rows)
 * and which one is positive (@p want_pos: "" or NULL to guess).
 * CHURN_E_PARSE, with a message naming the column, the classes (up to
 * CH_TARGET_MAX_SHOWN, "..." only when there are more) and where the third
 * class first appears (FILE:LINE, ch_dataset_where), when there are more
 * than two classes, fewer than two, or no way to tell the positive one;
 * CHURN_E_NOMEM. *out is cleared first and released with ch_target_clear().
 */
churn_status ch_target_fit(const churn_dataset *ds, size_t tj, const size_t *rows, size_t n, const char *want_pos,
                           ch_target *out);

/*
 * Label of a text cell: 1, 0, -1 missing (NULL or blank), -2 another value;
 * numeric targets parse the text as a number and compare values.
 */
int ch_label_of_text(const char *text, bool numeric, double pos_num, double neg_num, const char *positive,
                     const char *negative);

void ch_target_clear(ch_target *t);

#endif /* CH_TARGET_PRIVATE_H */
