/*
 * Internal prep helpers (ch_ prefix, never exported): the fitted spec's
 * layout and the helpers its files share, the spec as a cJSON object (for
 * writers that embed it in a larger document: model artifacts) and the
 * streaming writer of the processed CSV.
 *
 * The prep module's files, one concern each:
 *   prep.c          the spec's lifetime, the helpers below, the getters
 *   prep-fit.c      churn_prep_fit: options, target, ID columns, per-column statistics
 *   prep-apply.c    churn_prep_apply*, churn_prep_get_labels: labels and the design matrix
 *   prep-json.c     the spec as JSON (ch_prep_to_cjson, ch_prep_from_cjson, churn_prep_to|from_json)
 *   prep-report.c   churn_prep_report_json: what the spec does to each column of a data set
 *   prep-csv.c      the processed CSV (ch_prep_csv_*, churn_prep_write_csv)
 *   prep-outputs.c  churn_prep_write_outputs: Parquet and CSV in chunks, the spec, summary.json|csv
 */
#ifndef CH_PREP_PRIVATE_H
#define CH_PREP_PRIVATE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/prep.h"
#include "core-private.h"
#include "dataset-private.h"

#define CH_PREP_FORMAT "churn-prep"
#define CH_PREP_VERSION 1
#define CH_PREP_MISSING_LEVEL "(missing)"

enum { CH_PC_NUMERIC = 0, CH_PC_CATEGORICAL = 1 };
enum { CH_ENC_ONEHOT = 0, CH_ENC_BINARY = 1 };
enum { CH_IMP_MEDIAN = 0, CH_IMP_MEAN = 1, CH_IMP_CONSTANT = 2 };
enum { CH_IMPC_MOST_FREQUENT = 0, CH_IMPC_MISSING_LEVEL = 1 };
enum { CH_SC_STANDARD = 0, CH_SC_MINMAX = 1, CH_SC_NONE = 2 };

/* Option values by their CH_IMP_*, CH_IMPC_*, CH_SC_* index (the params and the spec's JSON spell them so). */
extern const char *const ch_prep_imp_names[3];
extern const char *const ch_prep_impc_names[2];
extern const char *const ch_prep_sc_names[3];

typedef struct ch_prep_col {
	char *name;
	int kind;            /* CH_PC_* */
	size_t fit_missing;  /* missing cells among the fit rows */
	/* numeric: x -> (x - center) / scale, missing -> fill */
	double fill, center, scale;
	bool indicator;      /* a "<name>_missing" feature follows */
	/* categorical */
	char **levels;       /* fitted levels, strcmp order */
	size_t nlevels;
	int encoding;        /* CH_ENC_* */
	int32_t yes;         /* binary: the level that encodes as 1 */
	int32_t fill_level;  /* imputed level for missing cells, -1: none */
	bool missing_feature; /* onehot: a "<name>=(missing)" feature follows the levels */
	size_t feat0, nfeat; /* the features of this column */
} ch_prep_col;

typedef struct ch_prep_drop {
	char *column, *reason;
} ch_prep_drop;

struct churn_prep {
	char *target;
	bool target_numeric;
	char *positive, *negative;
	double pos_num, neg_num;
	char **ids;
	size_t nids;
	int impute_numeric, impute_categorical, scale;
	double impute_constant;
	bool missing_indicator, drop_missing_target;
	double max_unique_ratio;
	int64_t max_levels;
	ch_prep_col *cols;
	size_t ncols;
	char **features;
	size_t nfeatures;
	ch_prep_drop *dropped;
	size_t ndropped;
	size_t fit_rows, dropped_target_rows;
};

/* ---- the spec's parts (prep.c) ---- */

/* Free a column's buffers and zero it (not the struct itself). */
void ch_prep_col_clear(ch_prep_col *c);

/*
 * Make room in *arr for element n (of elem bytes) when n is 0 or a power of
 * two (amortized doubling); CHURN_E_NOMEM (detail set) when it cannot.
 */
churn_status ch_prep_grow(void **arr, size_t n, size_t elem);

/* Record a dropped column with its @p reason (owned, freed on failure; NULL: CHURN_E_NOMEM). */
churn_status ch_prep_add_drop(churn_prep *prep, const char *column, char *reason);

/* Names of the features of @p pc, appended to prep->features (sets pc->feat0 and pc->nfeat). */
churn_status ch_prep_name_features(churn_prep *prep, ch_prep_col *pc);

/* Index in the yes/no pair tables (yes/no, true/false, 1/0, y/n, t/f), -1 when s is none of them. */
int ch_prep_yes_index(const char *s);
int ch_prep_no_index(const char *s);

/* Parse text as a number: 1 ok, 0 missing (NULL, blank or NaN-like token), -1 not a number (Inf included). */
int ch_prep_parse_num_text(const char *s, double *out);

/* Fitted level of exact text s (bsearch), -1 when absent. */
int32_t ch_prep_find_level(const ch_prep_col *pc, const char *s);
/* The same for the n bytes at p (not NUL-terminated): a per-row caller's exact match without a copy. */
int32_t ch_prep_find_level_n(const ch_prep_col *pc, const char *p, size_t n);

/*
 * Level for raw text at apply time: exact, else case-insensitive, else for a
 * binary column any yes/no token, else the same number written differently;
 * -1 when unseen.
 */
int32_t ch_prep_lookup_level(const ch_prep_col *pc, const char *s);

/* The column of @p ds named @p name; NULL when absent (no detail set). */
const ch_column *ch_prep_find_column(const churn_dataset *ds, const char *name);
/*
 * The ID columns: data.id (each must exist and not be @p target), else customerID when present. *out
 * (malloc'd names, *out_n of them) is set even on failure; the caller frees each name and the array.
 */
churn_status ch_prep_id_columns(const churn_dataset *ds, const churn_params *p, const char *target, char ***out,
                                size_t *out_n);

/*
 * The rows a call works on: *rows as given, checked against ds (CHURN_E_INVALID_ARG),
 * or when *rows is NULL all of ds's rows (*nrows set), listed in *all (the caller frees it).
 */
churn_status ch_prep_rows(const churn_dataset *ds, const size_t **rows, size_t *nrows, size_t **all);

/* ---- reading a source column cell by cell, whatever its type (prep.c; the per-cell readers inline) ---- */

typedef struct ch_prep_src {
	const ch_column *c;   /* NULL: column absent, every cell missing */
	const ch_prep_col *pc;
	/* numeric fit, categorical source: per source level 1 number, 0 missing, -1 not a number */
	double *lvl_num;
	int8_t *lvl_ok;
	/* categorical fit, categorical source: per source level the fitted level (-1 unseen) */
	int32_t *lvl_map;
} ch_prep_src;

/* Read column @p c (NULL: absent) for the fitted column @p pc; ch_prep_src_clear() releases it. */
churn_status ch_prep_src_init(ch_prep_src *s, const ch_prep_col *pc, const ch_column *c);
void ch_prep_src_clear(ch_prep_src *s);
/* Sets the detail "column 'x', row r: 'v' is not a number ..." for cell r; returns -1. */
int ch_prep_src_not_number(const ch_prep_src *s, size_t r);

/* Text of a TEXT column's cell; NULL when missing. */
static inline const char *ch_prep_text_cell(const ch_column *c, size_t r)
{
	return c->off[r] == CH_TEXT_MISSING ? NULL : c->arena + c->off[r];
}

/* Any cell as text (numbers shortest round-trip into buf); NULL when missing. */
static inline const char *ch_prep_cell_text(const ch_column *c, size_t r, char *buf, size_t cap)
{
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		if (isnan(c->num[r]))
			return NULL;
		ch_format_double_short(buf, cap, c->num[r]);
		return buf;
	case CHURN_COL_CATEGORICAL:
		return c->codes[r] < 0 ? NULL : c->levels[c->codes[r]];
	case CHURN_COL_TEXT:
		return ch_prep_text_cell(c, r);
	}
	return NULL;
}

/* Numeric cell: 1 value, 0 missing; -1 not a number (detail set). */
static inline int ch_prep_src_num(const ch_prep_src *s, size_t r, double *v)
{
	const ch_column *c = s->c;
	if (!c)
		return 0;
	switch (c->type) {
	case CHURN_COL_NUMERIC:
		*v = c->num[r];
		return isnan(*v) ? 0 : 1;
	case CHURN_COL_CATEGORICAL: {
		int32_t code = c->codes[r];
		if (code < 0)
			return 0;
		if (s->lvl_ok[code] < 0)
			return ch_prep_src_not_number(s, r);
		*v = s->lvl_num[code];
		return s->lvl_ok[code];
	}
	case CHURN_COL_TEXT: {
		int k = ch_prep_parse_num_text(ch_prep_text_cell(c, r), v);
		if (k < 0)
			return ch_prep_src_not_number(s, r);
		return k;
	}
	}
	return 0;
}

/* Categorical cell: level >= 0, -1 missing, -2 unseen level. */
static inline int32_t ch_prep_src_cat(const ch_prep_src *s, size_t r)
{
	const ch_column *c = s->c;
	if (!c)
		return -1;
	switch (c->type) {
	case CHURN_COL_CATEGORICAL: {
		int32_t code = c->codes[r];
		if (code < 0)
			return -1;
		int32_t k = s->lvl_map[code];
		return k >= 0 ? k : -2;
	}
	case CHURN_COL_TEXT: {
		const char *t = ch_prep_text_cell(c, r);
		if (!t || !t[0])
			return -1;
		int32_t k = ch_prep_lookup_level(s->pc, t);
		return k >= 0 ? k : -2;
	}
	case CHURN_COL_NUMERIC: {
		double v = c->num[r];
		if (isnan(v))
			return -1;
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), v);
		int32_t k = ch_prep_lookup_level(s->pc, buf);
		return k >= 0 ? k : -2;
	}
	}
	return -1;
}

/* ---- the target's labels (prep.c; the per-row reader inline) ---- */

/* Target label of row r: 1, 0, -1 missing, -2 a third value. */
typedef struct ch_prep_tsrc {
	const ch_column *c;
	int8_t *lvl; /* categorical source: per level 1/0/-2 (the caller frees it) */
} ch_prep_tsrc;

/* Label of the text @p t (1, 0, -1 missing, -2 a third value). */
int ch_prep_label_of_text(const churn_prep *prep, const char *t);
churn_status ch_prep_tsrc_init(ch_prep_tsrc *ts, const churn_prep *prep, const ch_column *c);

static inline int ch_prep_tsrc_label(const churn_prep *prep, const ch_prep_tsrc *ts, size_t r)
{
	const ch_column *c = ts->c;
	switch (c->type) {
	case CHURN_COL_CATEGORICAL:
		return c->codes[r] < 0 ? -1 : ts->lvl[c->codes[r]];
	case CHURN_COL_TEXT:
		return ch_prep_label_of_text(prep, ch_prep_text_cell(c, r));
	case CHURN_COL_NUMERIC: {
		double v = c->num[r];
		if (isnan(v))
			return -1;
		if (prep->target_numeric)
			return v == prep->pos_num ? 1 : v == prep->neg_num ? 0 : -2;
		char buf[40];
		ch_format_double_short(buf, sizeof(buf), v);
		return ch_prep_label_of_text(prep, buf);
	}
	}
	return -1;
}

/* ---- cJSON building blocks (prep-json.c; the report uses them too) ---- */

/*
 * The columns left out as identifier-like or leaking the target (screen-private.h), as a JSON array of
 * "column 'X' left out: <reason>" (metrics.json and the data run record say them); NULL on OOM.
 */
cJSON *ch_prep_screen_notes_json(const churn_prep *prep);

/* A number as shortest round-trip text, written raw so the JSON shows a number; NULL on OOM. */
cJSON *ch_prep_json_num(double v);
/* Add @p item under @p key; false (item freed) when item is NULL or cannot be added. */
bool ch_prep_json_add(cJSON *o, const char *key, cJSON *item);
/* An array of the @p n strings @p v; NULL on OOM. */
cJSON *ch_prep_json_strs(char *const *v, size_t n);
/* The dropped columns as [{"column", "reason"}]; NULL on OOM. */
cJSON *ch_prep_json_dropped(const churn_prep *prep);

/* ---- the spec as JSON (prep-json.c) ---- */

/*
 * The spec as a new cJSON object ({"format": "churn-prep", "version": 1,
 * ...}); NULL on OOM (detail set). The caller owns it (cJSON_Delete).
 */
cJSON *ch_prep_to_cjson(const churn_prep *prep);

/*
 * Build a spec from a cJSON object as written by ch_prep_to_cjson().
 * CHURN_E_FORMAT for another format or a newer version, CHURN_E_PARSE for
 * missing or malformed fields. *out written only on success.
 */
churn_status ch_prep_from_cjson(const cJSON *o, churn_prep **out);

/* ---- the processed CSV (prep-csv.c) ---- */

/*
 * Streaming writer of prepared rows as CSV (churn_prep_write_csv() is one
 * open/append/close): header of the optional ID column @p id_name, the @p nc
 * feature @p names and the optional @p target; then rows as appended. The
 * file appears at @p path (atomically) on close; close and free always
 * release the writer, free without close removes the temp file.
 */
typedef struct ch_prep_csv ch_prep_csv;
churn_status ch_prep_csv_open(const char *path, const char *const *names, size_t nc, const char *id_name,
                              const char *target, ch_prep_csv **out);
churn_status ch_prep_csv_append(ch_prep_csv *w, const churn_matrix *m, const char *const *ids);
churn_status ch_prep_csv_close(ch_prep_csv *w);
void ch_prep_csv_free(ch_prep_csv *w);

#endif
