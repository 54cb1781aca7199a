/*
 * The target's classes and positive label (target-private.h): prep fit,
 * profile and EDA decide them here, so that they agree on every count.
 */
#include "target-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "prep-private.h"

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* s without its leading and trailing blanks: *len bytes from the return value. */
static const char *trimmed(const char *s, size_t *len)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_blank(s[n - 1]))
		n--;
	*len = n;
	return s;
}

bool ch_label_eq(const char *a, const char *b)
{
	size_t na, nb;
	a = trimmed(a, &na);
	b = trimmed(b, &nb);
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

int ch_label_of_text(const char *t, bool numeric, double pos_num, double neg_num, const char *positive,
                     const char *negative)
{
	size_t n;
	if (!t || (trimmed(t, &n), n == 0))
		return -1;
	if (numeric) {
		double v;
		int k = ch_prep_parse_num_text(t, &v);
		if (k == 0)
			return -1;
		if (k < 0)
			return -2;
		return v == pos_num ? 1 : v == neg_num ? 0 : -2;
	}
	if (ch_label_eq(t, positive))
		return 1;
	if (ch_label_eq(t, negative))
		return 0;
	return -2;
}

/* The distinct classes of the rows, up to CH_TARGET_MAX_SHOWN + 1 (the last meaning "more"). */
typedef struct classes {
	char *vals[CH_TARGET_MAX_SHOWN + 1]; /* owned */
	double nums[CH_TARGET_MAX_SHOWN + 1];
	size_t count[CH_TARGET_MAX_SHOWN + 1];
	size_t nv;
	size_t third_row; /* the first row of the third class */
	size_t missing, first_missing;
} classes;

static churn_status collect(const ch_column *c, const size_t *rows, size_t n, classes *cl)
{
	char buf[40];
	bool numeric = c->type == CHURN_COL_NUMERIC;
	for (size_t i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i, len;
		const char *t = ch_prep_cell_text(c, r, buf, sizeof(buf));
		if (!t || (trimmed(t, &len), len == 0)) {
			if (!cl->missing)
				cl->first_missing = r;
			cl->missing++;
			continue;
		}
		size_t k;
		for (k = 0; k < cl->nv; k++)
			if (numeric ? cl->nums[k] == c->num[r] : ch_label_eq(cl->vals[k], t))
				break;
		if (k < cl->nv) {
			cl->count[k]++;
			continue;
		}
		if (cl->nv == 2)
			cl->third_row = r;
		if (cl->nv == CH_TARGET_MAX_SHOWN + 1)
			continue; /* more than we show: counted as "..." */
		if (!(cl->vals[cl->nv] = ch_strdup(t)))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		cl->nums[cl->nv] = numeric ? c->num[r] : 0;
		cl->count[cl->nv++] = 1;
	}
	return CHURN_OK;
}

static churn_status too_many_classes(const churn_dataset *ds, const ch_column *c, const classes *cl)
{
	char where[300];
	char list[512];
	size_t used = 0, shown = cl->nv > CH_TARGET_MAX_SHOWN ? CH_TARGET_MAX_SHOWN : cl->nv;
	list[0] = 0;
	for (size_t k = 0; k < shown && used < sizeof(list); k++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s'%.40s'", k ? ", " : "", cl->vals[k]);
	bool more = cl->nv > CH_TARGET_MAX_SHOWN;
	return ch_fail(CHURN_E_PARSE, "target '%s' has %s%zu classes (%s%s), the third first at %s; a binary target "
	               "is needed", c->name, more ? "more than " : "", shown, list, more ? ", ..." : "",
	               ch_dataset_where(ds, cl->third_row, where, sizeof(where)));
}

/* Which of the two classes is positive: want when given, else 1 of 1/0 or the yes-like text. */
static churn_status positive_class(const ch_column *c, const classes *cl, const char *want, int *out)
{
	int pos = -1;
	if (want && want[0]) {
		for (int k = 0; k < 2 && pos < 0; k++)
			if (ch_label_eq(cl->vals[k], want))
				pos = k;
		double w;
		if (pos < 0 && c->type == CHURN_COL_NUMERIC && ch_prep_parse_num_text(want, &w) == 1)
			for (int k = 0; k < 2 && pos < 0; k++)
				if (cl->nums[k] == w)
					pos = k;
		if (pos < 0)
			return ch_fail(CHURN_E_PARSE, "positive label '%s' is not a value of target '%s' (values: %s, %s)",
			               want, c->name, cl->vals[0], cl->vals[1]);
	} else if (c->type == CHURN_COL_NUMERIC) {
		if ((cl->nums[0] == 1 && cl->nums[1] == 0) || (cl->nums[0] == 0 && cl->nums[1] == 1))
			pos = cl->nums[0] == 1 ? 0 : 1;
	} else {
		int best = 99;
		for (int k = 0; k < 2; k++) {
			size_t len;
			char word[16];
			const char *v = trimmed(cl->vals[k], &len);
			snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) ? len : sizeof(word) - 1), v);
			int y = len < sizeof(word) ? ch_prep_yes_index(word) : -1;
			if (y >= 0 && y < best) {
				best = y;
				pos = k;
			}
		}
	}
	if (pos < 0)
		return ch_fail(CHURN_E_PARSE, "cannot tell the positive label of target '%s' (values: %s, %s); set it with "
		               "--positive or data.positive", c->name, cl->vals[0], cl->vals[1]);
	*out = pos;
	return CHURN_OK;
}

churn_status ch_target_fit(const churn_dataset *ds, size_t tj, const size_t *rows, size_t n, const char *want_pos,
                           ch_target *out)
{
	const ch_column *c = &ds->cols[tj];
	memset(out, 0, sizeof(*out));
	classes cl = {0};
	int pos = -1;
	churn_status st = collect(c, rows, n, &cl);
	if (!st && cl.nv > 2)
		st = too_many_classes(ds, c, &cl);
	else if (!st && cl.nv == 0)
		st = ch_fail(CHURN_E_PARSE, "target '%s' has no values", c->name);
	else if (!st && cl.nv == 1)
		st = ch_fail(CHURN_E_PARSE, "target '%s' has one class only ('%s'); both classes are needed", c->name,
		             cl.vals[0]);
	if (!st)
		st = positive_class(c, &cl, want_pos, &pos);
	if (!st) {
		out->numeric = c->type == CHURN_COL_NUMERIC;
		out->positive = cl.vals[pos];
		out->negative = cl.vals[1 - pos];
		out->pos_num = cl.nums[pos];
		out->neg_num = cl.nums[1 - pos];
		out->npos = cl.count[pos];
		out->nneg = cl.count[1 - pos];
		out->missing = cl.missing;
		out->first_missing = cl.first_missing;
		cl.vals[0] = cl.vals[1] = NULL;
	}
	for (size_t k = 0; k < CH_TARGET_MAX_SHOWN + 1; k++)
		free(cl.vals[k]);
	return st;
}

void ch_target_clear(ch_target *t)
{
	if (!t)
		return;
	free(t->positive);
	free(t->negative);
	memset(t, 0, sizeof(*t));
}
