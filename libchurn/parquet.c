/*
 * Parquet writer: format 2 files with data pages V1, PLAIN values, RLE
 * definition levels, dictionary pages for categorical columns, optional ZSTD
 * compression, and column-chunk statistics. The footer (FileMetaData) and
 * page headers are Thrift compact protocol, encoded by thrift.c.
 *
 * Layout: "PAR1", row groups (for each column: [dictionary page] data
 * pages), FileMetaData, its length (u32 LE), "PAR1". The file is streamed
 * through ch_atomic_*: one page buffer (plus its compressed copy) is all the
 * extra memory besides the footer, which is built as row groups complete.
 */
#include "churn/parquet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zstd.h>

#include "churn/version.h"
#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "thrift-private.h"
#include "utf8-private.h"

/* parquet.thrift enums */
enum { PQ_T_INT32 = 1, PQ_T_DOUBLE = 5, PQ_T_BYTE_ARRAY = 6 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1 };
enum { PQ_CONVERTED_UTF8 = 0 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_ZSTD = 6 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

/* Matrix columns with at most this many distinct values in a row group are dictionary-encoded. */
#define PQ_DICT_MAX_DOUBLES 16

/* Longest BYTE_ARRAY min/max kept in statistics (longer: min/max omitted). */
#define PQ_STAT_MAX_BYTES 4096

#define PQ_CREATED_BY "libchurn version " CHURN_VERSION_STRING " (build " CHURN_VERSION_STRING ")"

typedef enum pq_src {
	SRC_NONE,    /* matrix columns of the streaming writer (not read through pq_col) */
	SRC_NUMERIC, /* DOUBLE OPTIONAL: base[i], NaN = null */
	SRC_CODES,   /* BYTE_ARRAY OPTIONAL from categorical codes and levels */
	SRC_TEXT     /* BYTE_ARRAY OPTIONAL from a text column */
} pq_src;

typedef struct pq_col {
	const char *name;
	int phys;
	bool optional;
	bool utf8;
	bool dict; /* SRC_CODES written with a dictionary page */
	pq_src src;
	const double *base;
	const ch_column *dc; /* dataset column (SRC_CODES, SRC_TEXT) */
} pq_col;

typedef struct pq_stats {
	uint64_t nulls;
	uint64_t nvals; /* non-null values that count for min/max (not NaN) */
	double dmin, dmax;
	int32_t imin, imax;
	const char *bmin, *bmax;
	size_t bmin_n, bmax_n;
} pq_stats;

typedef struct pq_chunk {
	uint64_t start;
	int64_t dict_off;  /* -1 when none */
	int64_t data_off;  /* first data page, -1 before it */
	uint64_t unc, comp; /* totals including page headers */
} pq_chunk;

typedef struct pq_writer {
	const char *path;
	ch_atomic a;
	bool open;
	uint64_t pos;
	int codec;
	int level;
	ZSTD_CCtx *zc;
	size_t page_bytes;
	size_t rg_rows;
	size_t max_page_rows;
	const churn_params *p;
	ch_tbuf vals;   /* PLAIN values (or dictionary indices) of one page */
	ch_tbuf body;   /* levels + values when the column has levels */
	ch_tbuf comp;   /* compressed page */
	ch_tbuf hdr;    /* page header */
	ch_tbuf pack;   /* bit-packed run being built */
	uint32_t *lv;   /* definition levels of one page */
	uint32_t *idx;  /* dictionary indices of one page */
	bool dict_doubles;  /* parquet.dictionary */
	ch_tbuf footer;
	ch_thrift ft;
} pq_writer;

/* ---------------------------------------------------------------- helpers */

static void put_le64(uint8_t *d, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(d, &v, 8);
#else
	for (int k = 0; k < 8; k++)
		d[k] = (uint8_t)(v >> (8 * k));
#endif
}

static void put_le32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)v;
	d[1] = (uint8_t)(v >> 8);
	d[2] = (uint8_t)(v >> 16);
	d[3] = (uint8_t)(v >> 24);
}

static void put_double(uint8_t *d, double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	put_le64(d, u);
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

/* Number of bits needed for values 0..n-1 (at least 1). */
static int bit_width_for(size_t n)
{
	int w = 1;
	while (w < 32 && ((size_t)1 << w) < n)
		w++;
	return w;
}

/*
 * RLE / bit-packing hybrid encoding of v[0..n) with bit width w (1..32):
 * runs of 8 or more equal values become RLE runs, the rest bit-packed groups
 * of 8 (the last group zero-padded).
 */
static void rle_hybrid(ch_tbuf *out, ch_tbuf *pack, const uint32_t *v, size_t n, int w)
{
	size_t vbytes = (size_t)(w + 7) / 8;
	size_t groups = 0;
	pack->n = 0;
	size_t i = 0;
	while (i < n) {
		size_t r = 1;
		while (i + r < n && v[i + r] == v[i])
			r++;
		if (r >= 8) {
			if (groups) {
				ch_tbuf_uvarint(out, (groups << 1) | 1);
				ch_tbuf_append(out, pack->p, pack->n);
				groups = 0;
				pack->n = 0;
			}
			ch_tbuf_uvarint(out, (uint64_t)r << 1);
			uint8_t x[4];
			put_le32(x, v[i]);
			ch_tbuf_append(out, x, vbytes);
			i += r;
			continue;
		}
		/* one bit-packed group of 8 values, LSB first */
		if (!ch_tbuf_reserve(pack, (size_t)w))
			return;
		uint8_t *d = pack->p + pack->n;
		if (w <= 8) {
			/* the 8 values fit one 64-bit word */
			uint64_t acc = 0;
			for (size_t k = 0; k < 8; k++)
				acc |= (uint64_t)(i + k < n ? v[i + k] & ((1u << w) - 1) : 0) << (k * (size_t)w);
			for (int b = 0; b < w; b++)
				d[b] = (uint8_t)(acc >> (8 * b));
		} else {
			memset(d, 0, (size_t)w);
			size_t bit = 0;
			for (size_t k = 0; k < 8; k++, bit += (size_t)w) {
				uint64_t x = i + k < n ? v[i + k] : 0;
				for (int b = 0; b < w; b++)
					if (x >> b & 1)
						d[(bit + (size_t)b) >> 3] |= (uint8_t)(1u << ((bit + (size_t)b) & 7));
			}
		}
		pack->n += (size_t)w;
		groups++;
		i += 8;
	}
	if (groups) {
		ch_tbuf_uvarint(out, (groups << 1) | 1);
		ch_tbuf_append(out, pack->p, pack->n);
	}
}

/* -------------------------------------------------------------- file I/O */

static churn_status w_write(pq_writer *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->a.fp) != n)
		return ch_fail(CHURN_E_IO, "%s: write failed: %s", w->path, strerror(errno ? errno : EIO));
	w->pos += n;
	return CHURN_OK;
}

static churn_status nomem(void)
{
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/*
 * Build one page: body (uncompressed) -> compress -> header. Afterwards
 * w->hdr holds the page header and *out_data / *out_n the page data (the
 * body itself or w->comp). dict_n >= 0 makes it a dictionary page of dict_n
 * entries; otherwise a data page of num_values values with the given value
 * encoding.
 */
static churn_status make_page(pq_writer *w, const char *name, const uint8_t *body, size_t body_n,
                              int32_t num_values, int encoding, int32_t dict_n, const uint8_t **out_data,
                              size_t *out_n)
{
	if (body_n > INT32_MAX)
		return ch_fail(CHURN_E_LIMIT, "%s: column \"%s\": a page of %zu bytes exceeds the Parquet limit of 2 GiB",
		               w->path, name, body_n);
	const uint8_t *data = body;
	size_t data_n = body_n;
	if (w->codec == PQ_CODEC_ZSTD) {
		size_t bound = ZSTD_compressBound(body_n);
		w->comp.n = 0;
		if (!ch_tbuf_reserve(&w->comp, bound))
			return nomem();
		size_t r = ZSTD_compressCCtx(w->zc, w->comp.p, bound, body, body_n, w->level);
		if (ZSTD_isError(r))
			return ch_fail(CHURN_E_INTERNAL, "%s: column \"%s\": zstd: %s", w->path, name, ZSTD_getErrorName(r));
		data = w->comp.p;
		data_n = r;
	}
	if (data_n > INT32_MAX)
		return ch_fail(CHURN_E_LIMIT, "%s: column \"%s\": a page exceeds 2 GiB", w->path, name);

	w->hdr.n = 0;
	ch_thrift t;
	ch_thrift_init(&t, &w->hdr);
	ch_thrift_field_i32(&t, 1, dict_n >= 0 ? PQ_PAGE_DICTIONARY : PQ_PAGE_DATA);
	ch_thrift_field_i32(&t, 2, (int32_t)body_n);
	ch_thrift_field_i32(&t, 3, (int32_t)data_n);
	if (dict_n >= 0) {
		ch_thrift_field_struct_begin(&t, 7);
		ch_thrift_field_i32(&t, 1, dict_n);
		ch_thrift_field_i32(&t, 2, PQ_ENC_PLAIN);
		ch_thrift_struct_end(&t);
	} else {
		ch_thrift_field_struct_begin(&t, 5);
		ch_thrift_field_i32(&t, 1, num_values);
		ch_thrift_field_i32(&t, 2, encoding);
		ch_thrift_field_i32(&t, 3, PQ_ENC_RLE);
		ch_thrift_field_i32(&t, 4, PQ_ENC_RLE);
		ch_thrift_struct_end(&t);
	}
	ch_thrift_struct_end(&t);
	if (w->hdr.oom)
		return nomem();
	*out_data = data;
	*out_n = data_n;
	return CHURN_OK;
}

/* Build one page (see make_page()) and write it to the file. */
static churn_status write_page(pq_writer *w, pq_col *c, pq_chunk *ck, const uint8_t *body, size_t body_n,
                               int32_t num_values, int encoding, int32_t dict_n)
{
	const uint8_t *data = NULL;
	size_t data_n = 0;
	churn_status st = make_page(w, c->name, body, body_n, num_values, encoding, dict_n, &data, &data_n);
	if (st)
		return st;
	if (dict_n >= 0)
		ck->dict_off = (int64_t)w->pos;
	else if (ck->data_off < 0)
		ck->data_off = (int64_t)w->pos;
	st = w_write(w, w->hdr.p, w->hdr.n);
	if (!st)
		st = w_write(w, data, data_n);
	ck->unc += w->hdr.n + body_n;
	ck->comp += w->hdr.n + data_n;
	return st;
}

/* ------------------------------------------------------- value gathering */

static void stat_double(pq_stats *s, double v)
{
	if (isnan(v))
		return;
	if (!s->nvals++) {
		s->dmin = s->dmax = v;
		return;
	}
	if (v < s->dmin)
		s->dmin = v;
	if (v > s->dmax)
		s->dmax = v;
}

static void stat_bytes(pq_stats *s, const char *b, size_t n)
{
	if (!s->nvals++) {
		s->bmin = s->bmax = b;
		s->bmin_n = s->bmax_n = n;
		return;
	}
	if (bytes_cmp(b, n, s->bmin, s->bmin_n) < 0) {
		s->bmin = b;
		s->bmin_n = n;
	}
	if (bytes_cmp(b, n, s->bmax, s->bmax_n) > 0) {
		s->bmax = b;
		s->bmax_n = n;
	}
}

/* Cell i of a BYTE_ARRAY column; NULL when null. */
static const char *cell_bytes(const pq_col *c, size_t i, size_t *n)
{
	const char *s = NULL;
	switch (c->src) {
	case SRC_CODES:
		if (c->dc->codes[i] >= 0)
			s = c->dc->levels[c->dc->codes[i]];
		break;
	case SRC_TEXT:
		if (c->dc->off[i] != CH_TEXT_MISSING)
			s = c->dc->arena + c->dc->off[i];
		break;
	default:
		break;
	}
	if (s)
		*n = strlen(s);
	return s;
}

/*
 * Fill w->vals (and w->lv for optional columns) with the page starting at
 * row i, at most `left` rows; returns the number of rows taken.
 */
static size_t fill_page(pq_writer *w, pq_col *c, size_t i, size_t left, pq_stats *s)
{
	w->vals.n = 0;
	size_t k = 0;
	switch (c->src) {
	case SRC_NUMERIC: {
		k = left < w->max_page_rows ? left : w->max_page_rows;
		if (!ch_tbuf_reserve(&w->vals, k * 8))
			return 0;
		uint8_t *d = w->vals.p;
		size_t nv = 0;
		for (size_t r = 0; r < k; r++) {
			double v = c->base[i + r];
			if (isnan(v)) {
				w->lv[r] = 0;
				s->nulls++;
			} else {
				w->lv[r] = 1;
				put_double(d + 8 * nv++, v);
				stat_double(s, v);
			}
		}
		w->vals.n = nv * 8;
		return k;
	}
	case SRC_CODES:
		if (c->dict) {
			k = left < w->max_page_rows ? left : w->max_page_rows;
			size_t nv = 0;
			for (size_t r = 0; r < k; r++) {
				int32_t code = c->dc->codes[i + r];
				if (code < 0) {
					w->lv[r] = 0;
					s->nulls++;
				} else {
					w->lv[r] = 1;
					w->idx[nv++] = (uint32_t)code;
					const char *lvl = c->dc->levels[code];
					stat_bytes(s, lvl, strlen(lvl));
				}
			}
			/* indices: bit width byte + RLE/bit-packed hybrid */
			int bw = bit_width_for(c->dc->nlevels);
			ch_tbuf_u8(&w->vals, (uint8_t)bw);
			rle_hybrid(&w->vals, &w->pack, w->idx, nv, bw);
			return w->vals.oom ? 0 : k;
		}
		/* fall through: PLAIN strings */
		/* FALLTHROUGH */
	case SRC_TEXT:
		while (k < left && k < w->max_page_rows && (k == 0 || w->vals.n < w->page_bytes)) {
			size_t n = 0;
			const char *b = cell_bytes(c, i + k, &n);
			if (!b) {
				if (c->optional)
					w->lv[k] = 0;
				s->nulls++;
			} else {
				if (c->optional)
					w->lv[k] = 1;
				if (n > UINT32_MAX) {
					w->vals.oom = true;
					return 0;
				}
				ch_tbuf_u32le(&w->vals, (uint32_t)n);
				ch_tbuf_append(&w->vals, b, n);
				stat_bytes(s, b, n);
			}
			k++;
		}
		return w->vals.oom ? 0 : k;
	case SRC_NONE:
		break;
	}
	return 0;
}

/* Write the column chunk of column c for rows [r0, r1), then its metadata to the footer. */
static int dval_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	if (x != y)
		return x < y ? -1 : 1;
	return signbit(y) - signbit(x); /* -0.0 before +0.0 */
}


/* The ColumnChunk metadata of a written column chunk of @p nvalues rows, as an element of a list. */
static void chunk_meta(ch_thrift *t, const pq_col *c, int codec, const pq_chunk *ck, const pq_stats *s,
                       size_t nvalues)
{
	ch_thrift_elem_struct_begin(t);
	ch_thrift_field_i64(t, 2, (int64_t)ck->start);
	ch_thrift_field_struct_begin(t, 3); /* ColumnMetaData */
	ch_thrift_field_i32(t, 1, c->phys);
	size_t nenc = 1 + (c->optional ? 1 : 0) + (c->dict ? 1 : 0);
	ch_thrift_field_list_begin(t, 2, CH_TT_I32, nenc);
	ch_thrift_elem_i32(t, PQ_ENC_PLAIN);
	if (c->optional)
		ch_thrift_elem_i32(t, PQ_ENC_RLE);
	if (c->dict)
		ch_thrift_elem_i32(t, PQ_ENC_RLE_DICTIONARY);
	ch_thrift_field_list_begin(t, 3, CH_TT_BINARY, 1);
	ch_thrift_elem_string(t, c->name);
	ch_thrift_field_i32(t, 4, codec);
	ch_thrift_field_i64(t, 5, (int64_t)nvalues);
	ch_thrift_field_i64(t, 6, (int64_t)ck->unc);
	ch_thrift_field_i64(t, 7, (int64_t)ck->comp);
	ch_thrift_field_i64(t, 9, ck->data_off >= 0 ? ck->data_off : (int64_t)ck->start);
	if (ck->dict_off >= 0)
		ch_thrift_field_i64(t, 11, ck->dict_off);
	ch_thrift_field_struct_begin(t, 12); /* Statistics */
	uint8_t mn[8], mx[8];
	const void *pmin = NULL, *pmax = NULL;
	size_t nmin = 0, nmax = 0;
	if (s->nvals) {
		if (c->phys == PQ_T_DOUBLE) {
			/* zero: min is written -0.0, max +0.0 (parquet.thrift ColumnOrder notes) */
			put_double(mn, s->dmin == 0 ? -0.0 : s->dmin);
			put_double(mx, s->dmax == 0 ? 0.0 : s->dmax);
			pmin = mn;
			pmax = mx;
			nmin = nmax = 8;
		} else if (c->phys == PQ_T_INT32) {
			put_le32(mn, (uint32_t)s->imin);
			put_le32(mx, (uint32_t)s->imax);
			pmin = mn;
			pmax = mx;
			nmin = nmax = 4;
		} else if (s->bmin_n <= PQ_STAT_MAX_BYTES && s->bmax_n <= PQ_STAT_MAX_BYTES) {
			pmin = s->bmin;
			pmax = s->bmax;
			nmin = s->bmin_n;
			nmax = s->bmax_n;
		}
	}
	/* legacy min/max (signed order) only for numeric types */
	if (pmin && c->phys != PQ_T_BYTE_ARRAY) {
		ch_thrift_field_binary(t, 1, pmax, nmax);
		ch_thrift_field_binary(t, 2, pmin, nmin);
	}
	ch_thrift_field_i64(t, 3, (int64_t)s->nulls);
	if (pmin) {
		ch_thrift_field_binary(t, 5, pmax, nmax);
		ch_thrift_field_binary(t, 6, pmin, nmin);
	}
	ch_thrift_struct_end(t); /* Statistics */
	ch_thrift_struct_end(t); /* ColumnMetaData */
	ch_thrift_struct_end(t); /* ColumnChunk */
}

static churn_status write_chunk(pq_writer *w, pq_col *col, size_t r0, size_t r1, uint64_t *unc_total)
{
	pq_chunk ck = {.start = w->pos, .dict_off = -1, .data_off = -1};
	pq_stats s;
	memset(&s, 0, sizeof(s));
	churn_status st = CHURN_OK;
	pq_col *c = col;
	size_t base_row = r0;

	if (c->dict) {
		/* dictionary page: every level, PLAIN */
		w->vals.n = 0;
		for (size_t k = 0; k < c->dc->nlevels; k++) {
			size_t n = strlen(c->dc->levels[k]);
			ch_tbuf_u32le(&w->vals, (uint32_t)n);
			ch_tbuf_append(&w->vals, c->dc->levels[k], n);
		}
		if (w->vals.oom)
			return nomem();
		if (c->dc->nlevels > INT32_MAX)
			return ch_fail(CHURN_E_LIMIT, "column \"%s\": too many levels", c->name);
		st = write_page(w, c, &ck, w->vals.p, w->vals.n, 0, 0, (int32_t)c->dc->nlevels);
		if (st)
			return st;
	}

	for (size_t i = base_row; i < base_row + (r1 - r0);) {
		size_t k = fill_page(w, c, i, base_row + (r1 - r0) - i, &s);
		if (k == 0)
			return nomem();
		const uint8_t *body = w->vals.p;
		size_t body_n = w->vals.n;
		if (c->optional) {
			w->body.n = 0;
			ch_tbuf_u32le(&w->body, 0);
			rle_hybrid(&w->body, &w->pack, w->lv, k, 1);
			if (w->body.oom)
				return nomem();
			put_le32(w->body.p, (uint32_t)(w->body.n - 4));
			ch_tbuf_append(&w->body, w->vals.p, w->vals.n);
			if (w->body.oom)
				return nomem();
			body = w->body.p;
			body_n = w->body.n;
		}
		st = write_page(w, c, &ck, body, body_n, (int32_t)k, c->dict ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN, -1);
		if (st)
			return st;
		i += k;
	}

	chunk_meta(&w->ft, c, w->codec, &ck, &s, r1 - r0);
	if (w->footer.oom)
		return nomem();
	*unc_total += ck.unc;
	return CHURN_OK;
}

/* ---------------------------------------------------------------- writer */

static churn_status read_options(pq_writer *w, const churn_params *p)
{
	const char *comp = churn_params_get_str(p, CHURN_KEY_PARQUET_COMPRESSION);
	if (strcmp(comp, "zstd") == 0)
		w->codec = PQ_CODEC_ZSTD;
	else if (strcmp(comp, "none") == 0 || strcmp(comp, "uncompressed") == 0)
		w->codec = PQ_CODEC_UNCOMPRESSED;
	else
		return ch_fail(CHURN_E_INVALID_ARG, "parquet.compression: unknown codec \"%s\" (use zstd or none)", comp);
	w->level = (int)churn_params_get_int(p, CHURN_KEY_PARQUET_ZSTD_LEVEL);
	w->rg_rows = (size_t)churn_params_get_int(p, CHURN_KEY_PARQUET_ROW_GROUP_ROWS);
	w->page_bytes = (size_t)churn_params_get_int(p, CHURN_KEY_PARQUET_PAGE_BYTES);
	w->max_page_rows = w->page_bytes / 8 ? w->page_bytes / 8 : 1;
	w->dict_doubles = churn_params_get_bool(p, CHURN_KEY_PARQUET_DICTIONARY);
	return CHURN_OK;
}

static void write_kv_and_tail(pq_writer *w, const cJSON *kv, size_t ncols)
{
	ch_thrift *t = &w->ft;
	if (kv) {
		size_t n = (size_t)cJSON_GetArraySize(kv);
		ch_thrift_field_list_begin(t, 5, CH_TT_STRUCT, n);
		for (const cJSON *it = kv->child; it; it = it->next) {
			ch_thrift_elem_struct_begin(t);
			ch_thrift_field_string(t, 1, it->string);
			ch_thrift_field_string(t, 2, it->valuestring);
			ch_thrift_struct_end(t);
		}
	}
	ch_thrift_field_string(t, 6, PQ_CREATED_BY);
	ch_thrift_field_list_begin(t, 7, CH_TT_STRUCT, ncols);
	for (size_t j = 0; j < ncols; j++) {
		ch_thrift_elem_struct_begin(t);   /* ColumnOrder */
		ch_thrift_field_struct_begin(t, 1); /* TYPE_ORDER: TypeDefinedOrder {} */
		ch_thrift_struct_end(t);
		ch_thrift_struct_end(t);
	}
	ch_thrift_struct_end(t); /* FileMetaData */
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static churn_status check_names(const pq_col *cols, size_t ncols)
{
	for (size_t j = 0; j < ncols; j++) {
		const char *nm = cols[j].name;
		if (!nm || !*nm)
			return ch_fail(CHURN_E_INVALID_ARG, "parquet: column %zu has an empty name", j);
		int why;
		size_t len = strlen(nm), at = ch_utf8_check(nm, len, &why);
		if (at < len)
			return ch_fail(CHURN_E_PARSE, "parquet: column %zu: name is not valid UTF-8 (byte %zu, 0x%02x: %s)", j,
			               at + 1, (unsigned char)nm[at], ch_utf8_reason(why));
	}
	/* duplicates: sort a copy of the name pointers */
	const char **v = malloc(ncols * sizeof(*v));
	if (!v)
		return nomem();
	for (size_t j = 0; j < ncols; j++)
		v[j] = cols[j].name;
	churn_status st = CHURN_OK;
	qsort(v, ncols, sizeof(*v), strp_cmp);
	for (size_t j = 1; j < ncols; j++)
		if (strcmp(v[j - 1], v[j]) == 0) {
			st = ch_fail(CHURN_E_PARSE, "parquet: duplicate column name \"%s\" (column names must be distinct)",
			             v[j]);
			break;
		}
	free(v);
	return st;
}

/* Check that every string cell of BYTE_ARRAY columns is valid UTF-8. */
static churn_status check_strings(const pq_col *cols, size_t ncols, size_t nrows)
{
	for (size_t j = 0; j < ncols; j++) {
		const pq_col *c = &cols[j];
		if (c->src == SRC_TEXT) {
			for (size_t i = 0; i < nrows; i++) {
				size_t n = 0;
				const char *b = cell_bytes(c, i, &n);
				size_t at = b ? ch_utf8_check(b, n, NULL) : n;
				if (at < n)
					return ch_fail(CHURN_E_PARSE, "parquet: column \"%s\", row %zu, byte %zu: invalid UTF-8",
					               c->name, i + 1, at + 1);
			}
		} else if (c->src == SRC_CODES) {
			for (size_t k = 0; k < c->dc->nlevels; k++) {
				size_t len = strlen(c->dc->levels[k]);
				if (ch_utf8_check(c->dc->levels[k], len, NULL) < len)
					return ch_fail(CHURN_E_PARSE, "parquet: column \"%s\", level %zu: invalid UTF-8", c->name,
					               k + 1);
			}
		}
	}
	return CHURN_OK;
}

/* parquet.kv: a JSON object of strings (key/value metadata), or NULL in *out when empty. */
static churn_status read_kv(const churn_params *p, cJSON **out)
{
	*out = NULL;
	const char *kvs = churn_params_get_str(p, CHURN_KEY_PARQUET_KV);
	if (!kvs || !*kvs)
		return CHURN_OK;
	cJSON *kv = ch_json_parse_str(kvs, CHURN_KEY_PARQUET_KV);
	churn_status st = CHURN_OK;
	if (!kv || !cJSON_IsObject(kv))
		st = ch_fail(CHURN_E_INVALID_ARG, "parquet.kv: not a JSON object");
	for (const cJSON *it = kv ? kv->child : NULL; !st && it; it = it->next)
		if (!cJSON_IsString(it))
			st = ch_fail(CHURN_E_INVALID_ARG, "parquet.kv: value of \"%s\" is not a string", it->string);
	if (st) {
		cJSON_Delete(kv);
		return st;
	}
	*out = kv;
	return CHURN_OK;
}

/* The footer's head up to its schema: FileMetaData version and the schema root of ncols columns. */
static void footer_schema_begin(ch_thrift *t, size_t ncols)
{
	ch_thrift_field_i32(t, 1, 2);
	ch_thrift_field_list_begin(t, 2, CH_TT_STRUCT, ncols + 1);
	ch_thrift_elem_struct_begin(t);
	ch_thrift_field_string(t, 4, "schema");
	ch_thrift_field_i32(t, 5, (int32_t)ncols);
	ch_thrift_struct_end(t);
}

/* One column's SchemaElement. */
static void footer_schema_column(ch_thrift *t, const pq_col *c)
{
	ch_thrift_elem_struct_begin(t);
	ch_thrift_field_i32(t, 1, c->phys);
	ch_thrift_field_i32(t, 3, c->optional ? PQ_OPTIONAL : PQ_REQUIRED);
	ch_thrift_field_string(t, 4, c->name);
	if (c->utf8) {
		ch_thrift_field_i32(t, 6, PQ_CONVERTED_UTF8);
		ch_thrift_field_struct_begin(t, 10); /* LogicalType */
		ch_thrift_field_struct_begin(t, 1);  /* STRING: StringType {} */
		ch_thrift_struct_end(t);
		ch_thrift_struct_end(t);
	}
	ch_thrift_struct_end(t);
}

/* After the schema: num_rows and the head of the row_groups list. */
static void footer_schema_end(ch_thrift *t, uint64_t nrows, uint64_t nrg)
{
	ch_thrift_field_i64(t, 3, (int64_t)nrows);
	ch_thrift_field_list_begin(t, 4, CH_TT_STRUCT, nrg);
}

/* The footer's end (kv, created_by, column orders), the footer and the tail written, the file committed. */
static churn_status finish_file(pq_writer *w, const cJSON *kv, size_t ncols)
{
	write_kv_and_tail(w, kv, ncols);
	if (w->footer.oom)
		return nomem();
	if (w->footer.n > UINT32_MAX)
		return ch_fail(CHURN_E_LIMIT, "%s: footer too large", w->path);
	uint8_t tail[8];
	put_le32(tail, (uint32_t)w->footer.n);
	memcpy(tail + 4, "PAR1", 4);
	churn_status st;
	if ((st = w_write(w, w->footer.p, w->footer.n)) || (st = w_write(w, tail, 8)))
		return st;
	w->open = false;
	return ch_atomic_commit(&w->a);
}

/* Everything a pq_writer holds (the temporary file removed unless committed). */
static void pq_writer_clear(pq_writer *w)
{
	if (w->open)
		ch_atomic_abort(&w->a);
	w->open = false;
	ZSTD_freeCCtx(w->zc);
	ch_tbuf_free(&w->vals);
	ch_tbuf_free(&w->body);
	ch_tbuf_free(&w->comp);
	ch_tbuf_free(&w->hdr);
	ch_tbuf_free(&w->pack);
	ch_tbuf_free(&w->footer);
	free(w->lv);
	free(w->idx);
	w->zc = NULL;
	w->lv = w->idx = NULL;
}

/* Row group g of nrg (rows r0..r1 of every column) and its RowGroup element in the footer. */
static churn_status write_row_group(pq_writer *w, pq_col *cols, size_t ncols, size_t nrows, size_t g, size_t nrg)
{
	ch_thrift *t = &w->ft;
	size_t r0 = g * w->rg_rows;
	size_t r1 = r0 + w->rg_rows < nrows ? r0 + w->rg_rows : nrows;
	uint64_t rg_start = w->pos, total_unc = 0;
	churn_status st;
	ch_thrift_elem_struct_begin(t); /* RowGroup */
	ch_thrift_field_list_begin(t, 1, CH_TT_STRUCT, ncols);
	for (size_t j = 0; j < ncols; j++)
		if ((st = write_chunk(w, &cols[j], r0, r1, &total_unc)))
			return st;
	ch_thrift_field_i64(t, 2, (int64_t)total_unc);
	ch_thrift_field_i64(t, 3, (int64_t)(r1 - r0));
	ch_thrift_field_i64(t, 5, (int64_t)rg_start);
	ch_thrift_field_i64(t, 6, (int64_t)(w->pos - rg_start));
	if (nrg <= INT16_MAX)
		ch_thrift_field_i16(t, 7, (int16_t)g);
	ch_thrift_struct_end(t);
	if (w->footer.oom)
		return nomem();
	if (!ch_progress(w->p, "parquet", r1, nrows))
		return ch_fail(CHURN_E_STATE, "%s: cancelled", w->path);
	return CHURN_OK;
}

static churn_status write_file(const char *path, pq_col *cols, size_t ncols, size_t nrows, const churn_params *p_in)
{
	pq_writer w;
	memset(&w, 0, sizeof(w));
	w.path = path;
	churn_params *own = NULL;
	cJSON *kv = NULL;
	churn_status st = CHURN_OK;
	if (!p_in && (st = churn_params_new(&own)))
		return st;
	const churn_params *p = p_in ? p_in : own;
	w.p = p;
	if ((st = read_options(&w, p)) || (st = read_kv(p, &kv)) || (st = check_names(cols, ncols)) ||
	    (st = check_strings(cols, ncols, nrows)))
		goto out;
	if (w.codec == PQ_CODEC_ZSTD && !(w.zc = ZSTD_createCCtx())) {
		st = nomem();
		goto out;
	}
	w.lv = malloc(w.max_page_rows * sizeof(*w.lv));
	w.idx = malloc(w.max_page_rows * sizeof(*w.idx));
	if (!w.lv || !w.idx) {
		st = nomem();
		goto out;
	}
	size_t nrg = nrows ? (nrows + w.rg_rows - 1) / w.rg_rows : 0;
	ch_thrift_init(&w.ft, &w.footer);
	footer_schema_begin(&w.ft, ncols);
	for (size_t j = 0; j < ncols; j++)
		footer_schema_column(&w.ft, &cols[j]);
	footer_schema_end(&w.ft, nrows, nrg);
	if (w.footer.oom) {
		st = nomem();
		goto out;
	}
	if ((st = ch_atomic_open(&w.a, path)))
		goto out;
	w.open = true;
	if ((st = w_write(&w, "PAR1", 4)))
		goto out;
	for (size_t g = 0; g < nrg; g++)
		if ((st = write_row_group(&w, cols, ncols, nrows, g, nrg)))
			goto out;
	if ((st = finish_file(&w, kv, ncols)))
		goto out;
	ch_log(p, CHURN_LOG_INFO, "wrote %s: %zu rows, %zu columns, %zu row groups, %llu bytes", path, nrows, ncols, nrg,
	       (unsigned long long)w.pos);
out:
	pq_writer_clear(&w);
	cJSON_Delete(kv);
	churn_params_free(own);
	if (!st)
		ch_clear_error();
	return st;
}

/* ------------------------------------------------------ streaming writer */

/*
 * The matrix writer streams: rows arrive in chunks of any size and the file
 * is the same, byte for byte, whatever the chunking. Within the current row
 * group each column keeps only:
 *   - features still at most PQ_DICT_MAX_DOUBLES distinct values: one code
 *     byte per row (the dictionary and the page split need the whole group);
 *   - other features and the ID column: their finished pages, encoded and
 *     compressed, plus the page being filled;
 *   - labels: one byte per row.
 * A full row group is written out column chunk by column chunk.
 */

enum { SW_ID, SW_FEAT, SW_LABEL };

/* Rows of a chunk taken column by column at a time (a block of a few hundred KB stays in cache). */
#define SW_BLOCK_ROWS 512

typedef struct sw_col {
	pq_col c;          /* name (owned by the writer), phys, optional, utf8, dict */
	int role;
	pq_chunk ck;       /* offsets relative to enc while the group is open */
	pq_stats s;
	ch_tbuf enc;       /* finished pages (header + data) of this row group */
	ch_tbuf page;      /* PLAIN values of the page being filled */
	size_t page_rows;
	bool dict;         /* SW_FEAT: still a dictionary candidate */
	uint64_t bits[PQ_DICT_MAX_DOUBLES];
	size_t nd;
	uint8_t *codes;    /* SW_FEAT codes / SW_LABEL labels, per row of the group */
	size_t codes_cap;
	char *smin, *smax; /* SW_ID: owned copies of the statistics */
	size_t smin_cap, smax_cap;
} sw_col;

struct churn_parquet_writer {
	pq_writer pw;
	char *path;
	churn_params *own;
	cJSON *kv;
	sw_col *cols;
	size_t ncols, nfeat;
	bool has_id, has_target;
	uint32_t *id_lv;   /* definition levels of the ID page being filled */
	size_t rg_fill;    /* rows in the open row group */
	uint64_t nrows, nrows_hint, nrg;
	ch_tbuf rgs;       /* RowGroup elements of the footer */
	size_t *ord_at;    /* offset in rgs of each row group's ordinal field (first INT16_MAX + 1) */
	churn_status failed;
	bool closed;
};

static churn_status sw_fail(churn_parquet_writer *w, churn_status st)
{
	w->failed = st;
	return st;
}

/* Encode the pending page of an enc-buffered column (ID or PLAIN feature) into its enc buffer. */
static churn_status sw_flush_page(churn_parquet_writer *w, sw_col *sc)
{
	pq_writer *pw = &w->pw;
	if (!sc->page_rows)
		return CHURN_OK;
	if (sc->page.oom)
		return nomem();
	const uint8_t *body = sc->page.p;
	size_t body_n = sc->page.n;
	if (sc->c.optional) {
		pw->body.n = 0;
		ch_tbuf_u32le(&pw->body, 0);
		rle_hybrid(&pw->body, &pw->pack, w->id_lv, sc->page_rows, 1);
		if (pw->body.oom)
			return nomem();
		put_le32(pw->body.p, (uint32_t)(pw->body.n - 4));
		ch_tbuf_append(&pw->body, sc->page.p, sc->page.n);
		if (pw->body.oom)
			return nomem();
		body = pw->body.p;
		body_n = pw->body.n;
	}
	const uint8_t *data = NULL;
	size_t data_n = 0;
	churn_status st = make_page(pw, sc->c.name, body, body_n, (int32_t)sc->page_rows, PQ_ENC_PLAIN, -1, &data,
	                            &data_n);
	if (st)
		return st;
	if (sc->ck.data_off < 0)
		sc->ck.data_off = (int64_t)sc->enc.n;
	ch_tbuf_append(&sc->enc, pw->hdr.p, pw->hdr.n);
	ch_tbuf_append(&sc->enc, data, data_n);
	if (sc->enc.oom)
		return nomem();
	sc->ck.unc += pw->hdr.n + body_n;
	sc->ck.comp += pw->hdr.n + data_n;
	sc->page.n = 0;
	sc->page_rows = 0;
	return CHURN_OK;
}

/* Append n PLAIN doubles x[i * stride] to a feature's pages. */
static churn_status sw_plain(churn_parquet_writer *w, sw_col *sc, const double *x, size_t stride, size_t n)
{
	while (n) {
		if (sc->page_rows == w->pw.max_page_rows) {
			churn_status st = sw_flush_page(w, sc);
			if (st)
				return st;
		}
		size_t k = w->pw.max_page_rows - sc->page_rows;
		if (k > n)
			k = n;
		if (!ch_tbuf_reserve(&sc->page, k * 8))
			return nomem();
		uint8_t *d = sc->page.p + sc->page.n;
		double mn = INFINITY, mx = -INFINITY;
		uint64_t nv = 0;
		for (size_t r = 0; r < k; r++, x += stride) {
			double v = *x;
			put_double(d + 8 * r, v);
			nv += !isnan(v);
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		if (nv) {
			stat_double(&sc->s, mn);
			stat_double(&sc->s, mx);
		}
		sc->page.n += k * 8;
		sc->page_rows += k;
		n -= k;
	}
	return CHURN_OK;
}

static bool sw_reserve_codes(sw_col *sc, size_t need, size_t cap_max)
{
	if (need <= sc->codes_cap)
		return true;
	size_t cap = sc->codes_cap ? sc->codes_cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > cap_max)
		cap = cap_max < need ? need : cap_max;
	uint8_t *p = realloc(sc->codes, cap);
	if (!p)
		return false;
	sc->codes = p;
	sc->codes_cap = cap;
	return true;
}

/* Feature column: n values x[i * stride] as rows r0.. of the open row group. */
static churn_status sw_feature(churn_parquet_writer *w, sw_col *sc, const double *x, size_t stride, size_t n,
                               size_t r0)
{
	size_t i = 0;
	if (sc->dict) {
		if (!sw_reserve_codes(sc, r0 + n, w->pw.rg_rows))
			return nomem();
		uint8_t *codes = sc->codes + r0;
		size_t nd = sc->nd, last = 0;
		for (; i < n; i++) {
			uint64_t u;
			memcpy(&u, &x[i * stride], 8);
			size_t k = last;
			if (k >= nd || sc->bits[k] != u)
				for (k = 0; k < nd && sc->bits[k] != u;)
					k++;
			last = k;
			if (k == nd) {
				if (nd == PQ_DICT_MAX_DOUBLES)
					break;
				sc->bits[nd++] = u;
			}
			codes[i] = (uint8_t)k;
		}
		sc->nd = nd;
		if (i == n)
			return CHURN_OK;
		/* A 17th distinct value: replay the group so far as PLAIN pages. */
		sc->dict = false;
		for (size_t r = 0; r < r0 + i; r++) {
			double v;
			memcpy(&v, &sc->bits[sc->codes[r]], 8);
			churn_status st = sw_plain(w, sc, &v, 1, 1);
			if (st)
				return st;
		}
	}
	return sw_plain(w, sc, x + i * stride, stride, n - i);
}

static bool keep_copy(char **dst, size_t *cap, const char *s, size_t n)
{
	if (n + 1 > *cap) {
		char *p = realloc(*dst, n + 1);
		if (!p)
			return false;
		*dst = p;
		*cap = n + 1;
	}
	memcpy(*dst, s, n);
	(*dst)[n] = 0;
	return true;
}

/* ID column: ids[0..n) into the open row group; row numbers (for messages) from base + 1. */
static churn_status sw_ids(churn_parquet_writer *w, sw_col *sc, const char *const *ids, size_t n, uint64_t base)
{
	pq_writer *pw = &w->pw;
	for (size_t i = 0; i < n; i++) {
		if (sc->page_rows == pw->max_page_rows || (sc->page_rows && sc->page.n >= pw->page_bytes)) {
			churn_status st = sw_flush_page(w, sc);
			if (st)
				return st;
		}
		const char *b = ids ? ids[i] : NULL;
		if (!b) {
			if (!sc->c.optional)
				return ch_fail(CHURN_E_INVALID_ARG,
				               "%s: id column \"%s\", row %llu: NULL id (open the writer with "
				               "CHURN_PARQUET_ID_NULLABLE)", w->path, sc->c.name,
				               (unsigned long long)(base + i + 1));
			w->id_lv[sc->page_rows++] = 0;
			sc->s.nulls++;
			continue;
		}
		size_t len = strlen(b);
		size_t at = ch_utf8_check(b, len, NULL);
		if (at < len)
			return ch_fail(CHURN_E_PARSE, "parquet: column \"%s\", row %llu, byte %zu: invalid UTF-8",
			               sc->c.name, (unsigned long long)(base + i + 1), at + 1);
		if (len > UINT32_MAX)
			return ch_fail(CHURN_E_LIMIT, "parquet: column \"%s\": a value over 4 GiB", sc->c.name);
		if (sc->c.optional)
			w->id_lv[sc->page_rows] = 1;
		sc->page_rows++;
		ch_tbuf_u32le(&sc->page, (uint32_t)len);
		ch_tbuf_append(&sc->page, b, len);
		if (sc->page.oom)
			return nomem();
		pq_stats *s = &sc->s;
		bool first = !s->nvals++;
		if (first || bytes_cmp(b, len, s->bmin, s->bmin_n) < 0) {
			if (!keep_copy(&sc->smin, &sc->smin_cap, b, len))
				return nomem();
			s->bmin = sc->smin;
			s->bmin_n = len;
		}
		if (first || bytes_cmp(b, len, s->bmax, s->bmax_n) > 0) {
			if (!keep_copy(&sc->smax, &sc->smax_cap, b, len))
				return nomem();
			s->bmax = sc->smax;
			s->bmax_n = len;
		}
	}
	return CHURN_OK;
}

/* Write the column chunk of a dictionary feature or the labels from its per-row bytes. */
static churn_status sw_write_coded(churn_parquet_writer *w, sw_col *sc, size_t n)
{
	pq_writer *pw = &w->pw;
	pq_col c = sc->c;
	churn_status st;
	if (sc->role == SW_LABEL) {
		size_t per = pw->page_bytes / 4 ? pw->page_bytes / 4 : 1;
		for (size_t i = 0; i < n;) {
			size_t k = n - i < per ? n - i : per;
			pw->vals.n = 0;
			if (!ch_tbuf_reserve(&pw->vals, k * 4))
				return nomem();
			for (size_t r = 0; r < k; r++) {
				int32_t v = sc->codes[i + r];
				put_le32(pw->vals.p + 4 * r, (uint32_t)v);
				if (!sc->s.nvals++) {
					sc->s.imin = sc->s.imax = v;
				} else {
					sc->s.imin = v < sc->s.imin ? v : sc->s.imin;
					sc->s.imax = v > sc->s.imax ? v : sc->s.imax;
				}
			}
			pw->vals.n = k * 4;
			if ((st = write_page(pw, &c, &sc->ck, pw->vals.p, pw->vals.n, (int32_t)k, PQ_ENC_PLAIN, -1)))
				return st;
			i += k;
		}
		chunk_meta(&pw->ft, &c, pw->codec, &sc->ck, &sc->s, n);
		return CHURN_OK;
	}
	/* the dictionary sorted, codes remapped */
	double d[PQ_DICT_MAX_DOUBLES], dv[PQ_DICT_MAX_DOUBLES];
	size_t nd = sc->nd;
	for (size_t k = 0; k < nd; k++)
		memcpy(&d[k], &sc->bits[k], 8);
	memcpy(dv, d, nd * sizeof(double));
	qsort(dv, nd, sizeof(double), dval_cmp);
	uint8_t remap[PQ_DICT_MAX_DOUBLES];
	for (size_t k = 0; k < nd; k++)
		for (size_t q = 0; q < nd; q++)
			if (memcmp(&dv[q], &d[k], 8) == 0)
				remap[k] = (uint8_t)q;
	pw->vals.n = 0;
	if (!ch_tbuf_reserve(&pw->vals, nd * 8))
		return nomem();
	for (size_t k = 0; k < nd; k++) {
		put_double(pw->vals.p + 8 * k, dv[k]);
		stat_double(&sc->s, dv[k]);
	}
	pw->vals.n = nd * 8;
	c.dict = true;
	if ((st = write_page(pw, &c, &sc->ck, pw->vals.p, pw->vals.n, 0, 0, (int32_t)nd)))
		return st;
	int bw = bit_width_for(nd);
	for (size_t i = 0; i < n;) {
		size_t k = n - i < pw->max_page_rows ? n - i : pw->max_page_rows;
		for (size_t r = 0; r < k; r++)
			pw->idx[r] = remap[sc->codes[i + r]];
		pw->vals.n = 0;
		ch_tbuf_u8(&pw->vals, (uint8_t)bw);
		rle_hybrid(&pw->vals, &pw->pack, pw->idx, k, bw);
		if (pw->vals.oom)
			return nomem();
		if ((st = write_page(pw, &c, &sc->ck, pw->vals.p, pw->vals.n, (int32_t)k, PQ_ENC_RLE_DICTIONARY, -1)))
			return st;
		i += k;
	}
	chunk_meta(&pw->ft, &c, pw->codec, &sc->ck, &sc->s, n);
	return CHURN_OK;
}

/* Write the open row group and start the next one. */
static churn_status sw_flush_group(churn_parquet_writer *w)
{
	pq_writer *pw = &w->pw;
	size_t n = w->rg_fill;
	if (!n)
		return CHURN_OK;
	churn_status st;
	uint64_t rg_start = pw->pos, total_unc = 0;
	ch_thrift *t = &pw->ft;
	ch_thrift_init(t, &w->rgs);
	ch_thrift_elem_struct_begin(t); /* RowGroup */
	ch_thrift_field_list_begin(t, 1, CH_TT_STRUCT, w->ncols);
	for (size_t j = 0; j < w->ncols; j++) {
		sw_col *sc = &w->cols[j];
		sc->ck.start = pw->pos;
		if (sc->role == SW_LABEL || (sc->role == SW_FEAT && sc->dict)) {
			if ((st = sw_write_coded(w, sc, n)))
				return st;
		} else {
			if ((st = sw_flush_page(w, sc)))
				return st;
			if (sc->ck.data_off >= 0)
				sc->ck.data_off += (int64_t)pw->pos;
			if ((st = w_write(pw, sc->enc.p, sc->enc.n)))
				return st;
			chunk_meta(t, &sc->c, pw->codec, &sc->ck, &sc->s, n);
		}
		total_unc += sc->ck.unc;
		/* reset for the next group */
		sc->ck = (pq_chunk){.dict_off = -1, .data_off = -1};
		memset(&sc->s, 0, sizeof(sc->s));
		sc->enc.n = 0;
		sc->page.n = 0;
		sc->page_rows = 0;
		sc->nd = 0;
		sc->dict = sc->role == SW_FEAT && pw->dict_doubles;
	}
	ch_thrift_field_i64(t, 2, (int64_t)total_unc);
	ch_thrift_field_i64(t, 3, (int64_t)n);
	ch_thrift_field_i64(t, 5, (int64_t)rg_start);
	ch_thrift_field_i64(t, 6, (int64_t)(pw->pos - rg_start));
	if (w->nrg <= INT16_MAX) {
		/* dropped again at close when the file has more than INT16_MAX + 1 groups */
		w->ord_at[w->nrg] = w->rgs.n;
		ch_thrift_field_i16(t, 7, (int16_t)w->nrg);
	}
	ch_thrift_struct_end(t);
	if (w->rgs.oom)
		return nomem();
	w->nrg++;
	w->rg_fill = 0;
	if (!ch_progress(pw->p, "parquet", w->nrows, w->nrows_hint > w->nrows ? w->nrows_hint : w->nrows))
		return ch_fail(CHURN_E_STATE, "%s: cancelled", w->path);
	return CHURN_OK;
}

void churn_parquet_writer_free(churn_parquet_writer *w)
{
	if (!w)
		return;
	pq_writer_clear(&w->pw);
	for (size_t j = 0; w->cols && j < w->ncols; j++) {
		sw_col *sc = &w->cols[j];
		free((char *)sc->c.name);
		ch_tbuf_free(&sc->enc);
		ch_tbuf_free(&sc->page);
		free(sc->codes);
		free(sc->smin);
		free(sc->smax);
	}
	free(w->cols);
	free(w->id_lv);
	free(w->ord_at);
	ch_tbuf_free(&w->rgs);
	free(w->path);
	cJSON_Delete(w->kv);
	churn_params_free(w->own);
	free(w);
}

/* The writer's own copy of the params (p is only read while opening, then by progress and log) and its options. */
static churn_status writer_options(churn_parquet_writer *w, const churn_params *p)
{
	churn_status st = p ? churn_params_copy(p, &w->own) : churn_params_new(&w->own);
	if (st)
		return st;
	w->pw.p = w->own;
	if ((st = read_options(&w->pw, w->own)))
		return st;
	return read_kv(w->own, &w->kv);
}

/* One column of the streaming writer: its name copied, its role and its layout. */
static bool add_column(churn_parquet_writer *w, size_t *j, const char *name, int role, pq_col layout)
{
	sw_col *sc = &w->cols[(*j)++];
	sc->c = layout;
	sc->c.name = ch_strdup(name);
	sc->role = role;
	sc->dict = role == SW_FEAT && w->pw.dict_doubles;
	sc->ck = (pq_chunk){.dict_off = -1, .data_off = -1};
	return sc->c.name != NULL;
}

/* The columns in file order: the ID, the features, the target; their names checked (check_names). */
static churn_status add_columns(churn_parquet_writer *w, const char *const *feature_names, size_t nfeatures,
                                const char *target_name, const char *id_name, unsigned flags)
{
	size_t j = 0;
	bool ok = true;
	if (id_name)
		ok = add_column(w, &j, id_name, SW_ID,
		                (pq_col){.phys = PQ_T_BYTE_ARRAY, .optional = (flags & CHURN_PARQUET_ID_NULLABLE) != 0,
		                         .utf8 = true});
	for (size_t f = 0; ok && f < nfeatures; f++)
		ok = add_column(w, &j, feature_names[f] ? feature_names[f] : "", SW_FEAT, (pq_col){.phys = PQ_T_DOUBLE});
	if (ok && target_name)
		ok = add_column(w, &j, target_name, SW_LABEL, (pq_col){.phys = PQ_T_INT32});
	pq_col *tmp = ok ? malloc(w->ncols * sizeof(*tmp)) : NULL;
	if (!tmp)
		return nomem();
	for (j = 0; j < w->ncols; j++)
		tmp[j] = w->cols[j].c;
	churn_status st = check_names(tmp, w->ncols);
	free(tmp);
	return st;
}

churn_status churn_parquet_writer_open(const char *path, const char *const *feature_names, size_t nfeatures,
                                       const char *target_name, const char *id_name, unsigned flags,
                                       uint64_t nrows_hint, const churn_params *p, churn_parquet_writer **out)
{
	if (!path || !*path || !out || (nfeatures && !feature_names))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_writer_open: NULL argument");
	if (flags & ~(unsigned)CHURN_PARQUET_ID_NULLABLE)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_writer_open: unknown flags 0x%x", flags);
	size_t ncols = nfeatures + (id_name ? 1 : 0) + (target_name ? 1 : 0);
	if (!ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: nothing to write (no features, id or target)", path);
	churn_parquet_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return nomem();
	pq_writer *pw = &w->pw;
	churn_status st = CHURN_OK;
	w->nrows_hint = nrows_hint;
	w->has_id = id_name != NULL;
	w->has_target = target_name != NULL;
	w->nfeat = nfeatures;
	if (!(w->path = ch_strdup(path)) || !(w->cols = calloc(ncols, sizeof(*w->cols))) ||
	    !(w->ord_at = malloc(((size_t)INT16_MAX + 1) * sizeof(size_t))))
		goto nomem;
	pw->path = w->path;
	w->ncols = ncols;
	if ((st = writer_options(w, p)) || (st = add_columns(w, feature_names, nfeatures, target_name, id_name, flags)))
		goto fail;
	if (pw->codec == PQ_CODEC_ZSTD && !(pw->zc = ZSTD_createCCtx()))
		goto nomem;
	pw->idx = malloc(pw->max_page_rows * sizeof(*pw->idx));
	if (!pw->idx || (id_name && !(w->id_lv = malloc(pw->max_page_rows * sizeof(*w->id_lv)))))
		goto nomem;
	if ((st = ch_atomic_open(&pw->a, path)))
		goto fail;
	pw->open = true;
	if ((st = w_write(pw, "PAR1", 4)))
		goto fail;
	*out = w;
	ch_clear_error();
	return CHURN_OK;
nomem:
	st = nomem();
fail:
	churn_parquet_writer_free(w);
	return st;
}

churn_status churn_parquet_writer_append(churn_parquet_writer *w, const churn_matrix *chunk,
                                         const char *const *ids)
{
	if (!w || !chunk)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_writer_append: NULL argument");
	if (w->failed || w->closed)
		return ch_fail(CHURN_E_STATE, "%s: the Parquet writer %s", w->path,
		               w->closed ? "is closed" : "failed earlier");
	size_t n = churn_matrix_get_row_count(chunk), nf = churn_matrix_get_column_count(chunk);
	if (nf != w->nfeat)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: chunk has %zu columns, the writer %zu features", w->path, nf,
		               w->nfeat);
	const uint8_t *labels = churn_matrix_get_labels(chunk);
	if (w->has_target && !labels && n)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: target column \"%s\" but the chunk has no labels", w->path,
		               w->cols[w->ncols - 1].c.name);
	if (w->has_id && !ids && n)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: id column \"%s\" but no ids given", w->path, w->cols[0].c.name);
	const double *X = churn_matrix_get_data_const(chunk);
	size_t done = 0;
	churn_status st = CHURN_OK;
	while (done < n) {
		size_t k = w->pw.rg_rows - w->rg_fill;
		if (k > n - done)
			k = n - done;
		/* blocks of rows, all columns of a block while its rows are in cache */
		for (size_t b = 0; b < k && !st; b += SW_BLOCK_ROWS) {
			size_t bn = k - b < SW_BLOCK_ROWS ? k - b : SW_BLOCK_ROWS;
			size_t at = done + b, r0 = w->rg_fill + b;
			for (size_t j = 0; j < w->ncols && !st; j++) {
				sw_col *sc = &w->cols[j];
				switch (sc->role) {
				case SW_ID:
					st = sw_ids(w, sc, ids + at, bn, w->nrows + b);
					break;
				case SW_FEAT: {
					size_t f = j - (w->has_id ? 1 : 0);
					st = sw_feature(w, sc, X + at * nf + f, nf, bn, r0);
					break;
				}
				default:
					if (!sw_reserve_codes(sc, r0 + bn, w->pw.rg_rows))
						st = nomem();
					else
						memcpy(sc->codes + r0, labels + at, bn);
					break;
				}
			}
		}
		if (st)
			return sw_fail(w, st);
		w->rg_fill += k;
		w->nrows += k;
		done += k;
		if (w->rg_fill == w->pw.rg_rows && (st = sw_flush_group(w)))
			return sw_fail(w, st);
	}
	return CHURN_OK;
}

churn_status churn_parquet_writer_close(churn_parquet_writer *w)
{
	if (!w)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_writer_close: NULL argument");
	if (w->failed || w->closed)
		return ch_fail(CHURN_E_STATE, "%s: the Parquet writer %s", w->path,
		               w->closed ? "is closed" : "failed earlier");
	pq_writer *pw = &w->pw;
	churn_status st = sw_flush_group(w);
	if (st)
		return sw_fail(w, st);
	if (w->nrg > (uint64_t)INT16_MAX + 1) {
		/* too many groups for the i16 ordinal: drop it from those that have one */
		size_t out = w->ord_at[0];
		for (uint64_t g = 0; g <= INT16_MAX; g++) {
			size_t from = w->ord_at[g];
			size_t ord_n = 1; /* field header, then the zigzag varint */
			uint32_t z = (uint32_t)g << 1;
			do {
				ord_n++;
				z >>= 7;
			} while (z);
			size_t end = g < INT16_MAX ? w->ord_at[g + 1] : w->rgs.n;
			memmove(w->rgs.p + out, w->rgs.p + from + ord_n, end - from - ord_n);
			out += end - from - ord_n;
		}
		w->rgs.n = out;
	}
	/* footer: version, schema, num_rows, row groups, kv, created_by, column orders */
	ch_thrift *t = &pw->ft;
	ch_thrift_init(t, &pw->footer);
	footer_schema_begin(t, w->ncols);
	for (size_t j = 0; j < w->ncols; j++)
		footer_schema_column(t, &w->cols[j].c);
	footer_schema_end(t, w->nrows, w->nrg);
	ch_tbuf_append(&pw->footer, w->rgs.p, w->rgs.n);
	if ((st = finish_file(pw, w->kv, w->ncols)))
		return sw_fail(w, st);
	w->closed = true;
	ch_log(pw->p, CHURN_LOG_INFO, "wrote %s: %llu rows, %zu columns, %llu row groups, %llu bytes", w->path,
	       (unsigned long long)w->nrows, w->ncols, (unsigned long long)w->nrg, (unsigned long long)pw->pos);
	ch_clear_error();
	return CHURN_OK;
}

churn_status churn_parquet_write_matrix(const char *path, const churn_matrix *m, const char *target_name,
                                        const char *id_name, const char *const *ids, const churn_params *p)
{
	if (!path || !*path || !m)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_write_matrix: path or matrix is NULL");
	size_t nrows = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m);
	if (target_name && !churn_matrix_get_labels(m))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: target column \"%s\" requested but the matrix has no labels", path,
		               target_name);
	if (id_name && !ids && nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: id column \"%s\" requested without ids", path, id_name);
	unsigned flags = 0;
	for (size_t i = 0; id_name && i < nrows && !flags; i++)
		if (!ids[i])
			flags = CHURN_PARQUET_ID_NULLABLE;
	const char **names = malloc((nf ? nf : 1) * sizeof(*names));
	if (!names)
		return nomem();
	for (size_t f = 0; f < nf; f++)
		names[f] = churn_matrix_get_feature_name(m, f);
	churn_parquet_writer *w = NULL;
	churn_status st = churn_parquet_writer_open(path, names, nf, target_name, id_name, flags, nrows, p, &w);
	free(names);
	if (!st && !(st = churn_parquet_writer_append(w, m, ids)))
		st = churn_parquet_writer_close(w);
	churn_parquet_writer_free(w);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_parquet_write_dataset(const char *path, const churn_dataset *ds, const churn_params *p)
{
	if (!path || !*path || !ds)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_parquet_write_dataset: path or dataset is NULL");
	if (!ds->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the dataset has no columns", path);
	bool dict = churn_params_get_bool(p, CHURN_KEY_PARQUET_DICTIONARY);
	pq_col *cols = calloc(ds->ncols, sizeof(*cols));
	if (!cols)
		return nomem();
	for (size_t j = 0; j < ds->ncols; j++) {
		const ch_column *dc = &ds->cols[j];
		pq_col *c = &cols[j];
		c->name = dc->name;
		c->optional = true;
		c->dc = dc;
		switch (dc->type) {
		case CHURN_COL_NUMERIC:
			c->phys = PQ_T_DOUBLE;
			c->src = SRC_NUMERIC;
			c->base = dc->num;
			break;
		case CHURN_COL_CATEGORICAL:
			c->phys = PQ_T_BYTE_ARRAY;
			c->utf8 = true;
			c->src = SRC_CODES;
			c->dict = dict;
			break;
		default:
			c->phys = PQ_T_BYTE_ARRAY;
			c->utf8 = true;
			c->src = SRC_TEXT;
			break;
		}
	}
	churn_status st = write_file(path, cols, ds->ncols, ds->nrows, p);
	free(cols);
	return st;
}
