/*
 * The CSV reader's shared parts (never installed). The reader is four files:
 *   csv-read.c    the input buffer, records split into fields, the header,
 *                 the UTF-8 check, the main loop and the public read calls;
 *   csv-infer.c   the columns typed while reading (NUM -> CAT -> TEXT, see
 *                 below) and the dataset made of them at the end;
 *   csv-sample.c  train.max_rows: which rows a sampled read keeps;
 *   csv-write.c   the writer (churn_csv_write*).
 *
 * The reader streams the input through one buffer in a single pass. Each
 * record is first split into spans (pointers into the buffer); when the
 * buffer ends inside a record, the partial record moves to the front, more
 * is read and the record is split again. A complete record is committed
 * column by column. Every column starts as a numeric candidate and moves
 * one way through three states:
 *
 *   NUM   doubles, plus the raw text of every cell ("side" text, varint
 *         length-prefixed) so that the column can still change its mind;
 *   CAT   int32 codes and a small open-addressing dictionary of distinct
 *         strings (at most csv.max_categories);
 *   TEXT  an arena of NUL-terminated strings and one offset per row.
 *
 * NUM goes to CAT on the first value that is not a number (the side text is
 * replayed into the dictionary), CAT goes to TEXT when the dictionary would
 * pass csv.max_categories (the codes are expanded into the arena). The type
 * is the state at the end, so no second pass over the input is needed.
 */
#ifndef CH_CSV_PRIVATE_H
#define CH_CSV_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "churn/csv.h"
#include "core-private.h"
#include "dataset-private.h"

#define PAD 64                     /* readable bytes after the data in every buffer we hash from */
#define MAX_NA 16                  /* NA tokens kept */

enum { ST_NUM = 0, ST_CAT = 1, ST_TEXT = 2 };
enum { F_QUOTED = 1, F_ESC = 2 };
enum { R_NEED_MORE = 0, R_DONE = 1, R_FAIL = -1 };

typedef struct span {
	char *s;
	uint32_t len; /* <= csv.max_field_bytes <= 2^30 */
	uint32_t flags;
} span;

/* Dictionary slot: the first 8 bytes and the length, so most lookups end in the slot. */
typedef struct dslot {
	uint64_t w0, w1; /* first 16 bytes, zero-padded */
	uint32_t len1;   /* length + 1; 0 = empty */
	int32_t code;
} dslot;

/* What a level is compared by (indexed by code). */
typedef struct dkey {
	uint64_t h;
	uint64_t w0, w1; /* first 16 bytes, zero-padded */
	size_t len;
} dkey;

typedef struct ccol {
	/* what every cell touches first (one cache line) */
	int st;
	size_t nmiss;   /* missing cells so far (the same in every state) */
	double *num;    /* NUM */
	unsigned char *side;
	size_t side_len, side_cap;
	int32_t *codes; /* CAT */
	dslot *tab;
	size_t tab_cap; /* power of two */
	dkey *keys;     /* by code */
	uint64_t *off;  /* TEXT */
	char *arena;
	size_t arena_len, arena_cap;
	/* the rest */
	char *name;
	char **lev; /* level strings by code (owned) */
	size_t nlev, lev_cap;
	bool has_inf;
	size_t inf_line;
	char inf_tok[24];
} ccol;

typedef struct na_tok {
	char s[16];
	size_t len;
} na_tok;

typedef struct rd {
	const char *name;
	const churn_params *p;
	size_t max_field, max_line, max_rows, max_cols, max_cat, chunk;
	bool skip_ragged;
	na_tok na[MAX_NA];
	size_t nna, na_min, na_max;
	unsigned char na_first[256];
	/* source */
	int fd;
	const char *mem;
	size_t mem_n, mem_pos;
	uint64_t total;    /* 0 when unknown */
	uint64_t base;     /* input offset of buf[0] */
	uint64_t next_progress;
	char *buf;
	size_t cap, len;
	bool eof;
	/* unquoted-field scanner: stops of the 64-byte block at bb not yet consumed, valid when a field starts at expect */
	char *bb, *expect;
	uint64_t bm;
	/* UTF-8 check: the first byte at or after the current record with its high bit set (len: none) */
	size_t hi_at;
	/* parser */
	size_t line;       /* line on which the next record starts */
	span *sp;
	size_t sp_max, nf, rec_nl; /* sp holds sp_max (the header's limit) spans */
	/* columns */
	size_t ncols;
	ccol *cols;
	size_t nrows, row_cap, skipped;
	size_t nread;      /* data rows read (== nrows unless a sample drops rows) */
	struct ch_csv_sampler *sample; /* train.max_rows: the stratified sample kept while reading (csv-sample.c); NULL: every row */
	/* where rows start (dataset-private.h): a break where a row is not on the line after the one before */
	ch_line_break *lines;
	size_t nlines, lines_cap;
} rd;

/* ---- small helpers of both halves ---- */

static inline bool ch_csv_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline void ch_csv_trim(const char **s, size_t *n)
{
	const char *a = *s, *b = *s + *n;
	while (a < b && ch_csv_is_ws((unsigned char)*a))
		a++;
	while (b > a && ch_csv_is_ws((unsigned char)b[-1]))
		b--;
	*s = a;
	*n = (size_t)(b - a);
}

static inline unsigned char ch_csv_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline bool ch_csv_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ch_csv_lower((unsigned char)a[i]) != ch_csv_lower((unsigned char)b[i]))
			return false;
	return true;
}

static inline churn_status ch_csv_nomem(void)
{
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* "NAME:LINE:COL: what" for the record being read. */
static inline churn_status ch_csv_fail_at(const rd *r, churn_status st, size_t col, const char *what)
{
	return ch_fail(st, "%s:%zu:%zu: %s", r->name, r->line, col, what);
}

/* Undo doubled quotes in place. */
static inline void ch_csv_unescape(span *f)
{
	char *w = f->s, *s = f->s, *e = f->s + f->len;
	while (s < e) {
		char c = *s++;
		*w++ = c;
		if (c == '"' && s < e && *s == '"')
			s++;
	}
	f->len = (size_t)(w - f->s);
}

/* ---- csv-infer.c ---- */

/*
 * Store the fields r->sp[0..r->nf) as row r->nrows (a record of the wrong
 * width is skipped, with csv.skip_ragged, or an error; an empty line is
 * skipped). pos: the buffer offset reached, for size estimates.
 */
churn_status ch_csv_commit_row(rd *r, size_t pos);
/* The dataset made of the columns read (they are moved out of r). */
churn_status ch_csv_finish(rd *r, churn_dataset **out);
void ch_csv_col_free(ccol *c);
/* Missing by the reader's rule (empty, whitespace only, an NA token). */
bool ch_csv_is_missing(const rd *r, const char *s, size_t n);
/* Undo a field's doubled quotes (F_ESC) in place and clear the flag; csv.max_field_bytes applies to what is left. */
churn_status ch_csv_unescape_field(const rd *r, span *f, size_t j);
/*
 * Drop the stored rows i < r->nrows with dead[i] set from every column (the
 * others keep their order; missing counts follow). Rows only ever leave a
 * sample, so the columns' states and dictionaries stay as they are.
 */
void ch_csv_compact(rd *r, const unsigned char *dead);

/* ---- csv-sample.c (train.max_rows) ---- */

/*
 * Before the cells of a data row are stored at row r->nrows: whether the
 * sample keeps it (*keep; a row not kept is still read by the column types,
 * then taken back). May compact the stored rows first.
 */
churn_status ch_csv_sample_admit(rd *r, bool *keep);
/* The header is read: find the target column (CHURN_E_NOTFOUND when absent). */
churn_status ch_csv_sample_header(rd *r);
/* The input is read: keep each class's quota, compact, and set r->lines. */
churn_status ch_csv_sample_finish(rd *r);
/* The sampler of @p p's train.max_rows (> 0), data.target and split.seed; NULL when out of memory. */
struct ch_csv_sampler *ch_csv_sampler_new(const churn_params *p);
void ch_csv_sample_free(struct ch_csv_sampler *s);

#endif
