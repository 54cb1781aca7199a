/*
 * CSV reader and writer (see churn/csv.h for the rules).
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
#include "churn/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf-private.h"
#include "core-private.h"
#include "dataset-private.h"
#include "params-private.h"
#include "utf8-private.h"

#define PAD 64                     /* readable bytes after the data in every buffer we hash from */
#define PROGRESS_EVERY (16u << 20) /* bytes between progress reports */
#define MAX_NA 16                  /* NA tokens kept */

enum { ST_NUM = 0, ST_CAT = 1, ST_TEXT = 2 };
enum { F_QUOTED = 1, F_ESC = 2 };
enum { R_NEED_MORE = 0, R_DONE = 1, R_FAIL = -1 };

/* Bytes that stop the scan of an unquoted / quoted field. */
#if !defined(__SSE2__)
static const unsigned char stop_unq[256] = {[0] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};
#endif
static const unsigned char stop_q[256] = {[0] = 1, ['\n'] = 1, ['"'] = 1};

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
} rd;

/* ---- small helpers ---- */

static inline bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline void trim(const char **s, size_t *n)
{
	const char *a = *s, *b = *s + *n;
	while (a < b && is_ws((unsigned char)*a))
		a++;
	while (b > a && is_ws((unsigned char)b[-1]))
		b--;
	*s = a;
	*n = (size_t)(b - a);
}

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Missing: empty, whitespace only, or an NA token (after trimming). */
static bool is_missing(const rd *r, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (is_ws((unsigned char)s[0]) || is_ws((unsigned char)s[n - 1])) {
		trim(&s, &n);
		if (n == 0)
			return true;
	}
	if (n < r->na_min || n > r->na_max || !r->na_first[(unsigned char)s[0]])
		return false;
	for (size_t k = 0; k < r->nna; k++)
		if (r->na[k].len == n && ieq(r->na[k].s, s, n))
			return true;
	return false;
}

/* [+-](inf|infinity|nan), any case, already trimmed. */
static bool is_nonfinite(const char *s, size_t n)
{
	if (n && (*s == '+' || *s == '-')) {
		s++;
		n--;
	}
	return (n == 3 && (ieq(s, "inf", 3) || ieq(s, "nan", 3))) || (n == 8 && ieq(s, "infinity", 8));
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * Fast path for [-]digits[.digits] with at most 15 digits; else
 * ch_parse_double. *canon tells that the text is exactly what
 * ch_format_double_short() prints for the value (no '+', no leading or
 * trailing zeros, not below 1e-4), so it need not be kept.
 */
static inline bool parse_num(const char *s, size_t n, double *out, bool *canon)
{
	const char *p = s, *end = s + n;
	bool neg = false;
	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	uint64_t m = 0;
	size_t nd = 0, nfrac = 0;
	while (p < end && (unsigned)(*p - '0') < 10) {
		m = m * 10 + (uint64_t)(*p - '0');
		p++;
		nd++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && (unsigned)(*p - '0') < 10) {
			m = m * 10 + (uint64_t)(*p - '0');
			p++;
			nd++;
			nfrac++;
		}
	}
	if (p == end && nd > 0 && nd <= 15) {
		double v = (double)m / pow10_tab[nfrac];
		*out = neg ? -v : v;
		const char *d = s + neg; /* first digit */
		size_t nint = nd - nfrac;
		bool dot = (size_t)(end - d) > nint;
		bool ok = nint > 0 && (!dot || (nfrac > 0 && end[-1] != '0')) && (nint == 1 || d[0] != '0');
		if (ok && nint == 1 && d[0] == '0' && nfrac > 0) {
			size_t z = 0; /* zeros after "0." */
			while (z < nfrac && d[2 + z] == '0')
				z++;
			ok = z < 4;
		}
		*canon = ok;
		return true;
	}
	*canon = false;
	return ch_parse_double(s, n, out);
}

static inline uint64_t low_bytes(uint64_t w, size_t n)
{
	if (n >= 8)
		return w;
	if (n == 0)
		return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return w & (~0ull << (64 - 8 * n));
#else
	return w & (~0ull >> (64 - 8 * n));
#endif
}

/*
 * Key of a string: its first 16 bytes as two zero-padded words and a hash of
 * the whole. Reads 16 bytes past short strings: every buffer we hash from has
 * PAD readable bytes after its data.
 */
/* Masks keeping the first n (0..16) bytes of two words loaded from memory. */
static const uint64_t keep16[17][2] = {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	{0x0000000000000000ull, 0x0000000000000000ull},
	{0xff00000000000000ull, 0x0000000000000000ull},
	{0xffff000000000000ull, 0x0000000000000000ull},
	{0xffffff0000000000ull, 0x0000000000000000ull},
	{0xffffffff00000000ull, 0x0000000000000000ull},
	{0xffffffffff000000ull, 0x0000000000000000ull},
	{0xffffffffffff0000ull, 0x0000000000000000ull},
	{0xffffffffffffff00ull, 0x0000000000000000ull},
	{0xffffffffffffffffull, 0x0000000000000000ull},
	{0xffffffffffffffffull, 0xff00000000000000ull},
	{0xffffffffffffffffull, 0xffff000000000000ull},
	{0xffffffffffffffffull, 0xffffff0000000000ull},
	{0xffffffffffffffffull, 0xffffffff00000000ull},
	{0xffffffffffffffffull, 0xffffffffff000000ull},
	{0xffffffffffffffffull, 0xffffffffffff0000ull},
	{0xffffffffffffffffull, 0xffffffffffffff00ull},
	{0xffffffffffffffffull, 0xffffffffffffffffull}
#else
	{0x0000000000000000ull, 0x0000000000000000ull},
	{0x00000000000000ffull, 0x0000000000000000ull},
	{0x000000000000ffffull, 0x0000000000000000ull},
	{0x0000000000ffffffull, 0x0000000000000000ull},
	{0x00000000ffffffffull, 0x0000000000000000ull},
	{0x000000ffffffffffull, 0x0000000000000000ull},
	{0x0000ffffffffffffull, 0x0000000000000000ull},
	{0x00ffffffffffffffull, 0x0000000000000000ull},
	{0xffffffffffffffffull, 0x0000000000000000ull},
	{0xffffffffffffffffull, 0x00000000000000ffull},
	{0xffffffffffffffffull, 0x000000000000ffffull},
	{0xffffffffffffffffull, 0x0000000000ffffffull},
	{0xffffffffffffffffull, 0x00000000ffffffffull},
	{0xffffffffffffffffull, 0x000000ffffffffffull},
	{0xffffffffffffffffull, 0x0000ffffffffffffull},
	{0xffffffffffffffffull, 0x00ffffffffffffffull},
	{0xffffffffffffffffull, 0xffffffffffffffffull}
#endif
};

static inline uint64_t str_key(const char *s, size_t n, uint64_t *w0, uint64_t *w1)
{
	uint64_t a, b;
	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 8);
	const uint64_t *k16 = keep16[n < 16 ? n : 16];
	a &= k16[0];
	b &= k16[1];
	*w0 = a;
	*w1 = b;
	uint64_t h = (a ^ (uint64_t)n) * 0x9E3779B97F4A7C15ull + b;
	for (size_t k = 16; k < n; k += 8) {
		uint64_t w;
		memcpy(&w, s + k, 8);
		h = (h ^ (h >> 31)) * 0x94d049bb133111ebull + low_bytes(w, n - k);
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32); /* low bits pick the slot, high bits are the tag */
}

static churn_status nomem(void)
{
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/*
 * Resize an array from old_n to new_n bytes (+ PAD). Arrays of 2 MiB and more
 * are 2 MiB-aligned and marked for transparent huge pages: filling a large
 * column then costs a few hundred page faults instead of tens of thousands.
 */
static void *arr_resize(void *old, size_t old_n, size_t new_n)
{
#ifdef MADV_HUGEPAGE
	const size_t huge = (size_t)2 << 20;
	if (new_n >= huge) {
		void *np = NULL;
		if (posix_memalign(&np, huge, new_n + PAD) != 0)
			return NULL;
		madvise(np, new_n & ~(huge - 1), MADV_HUGEPAGE);
		if (old) {
			memcpy(np, old, old_n < new_n ? old_n : new_n);
			free(old);
		}
		return np;
	}
#endif
	(void)old_n;
	return realloc(old, new_n + PAD);
}

/* Grow *p (element size sz) to hold at least need elements; est is a preferred size. */
static bool grow(void **p, size_t *cap, size_t need, size_t est, size_t sz)
{
	if (need <= *cap)
		return true;
	size_t nc = *cap ? *cap + *cap / 2 : 64;
	if (nc < need)
		nc = need;
	if (est > nc)
		nc = est;
	if (nc > SIZE_MAX / sz)
		return false;
	void *np = arr_resize(*p, *cap * sz, nc * sz);
	if (!np)
		return false;
	*p = np;
	*cap = nc;
	return true;
}

/* Expected final size of something that has reached `now` after the bytes read so far. */
static size_t estimate(const rd *r, size_t now, size_t pos)
{
	uint64_t done = r->base + pos;
	if (!r->total || done < 4096 || r->total <= done || now == 0)
		return 0;
	double e = (double)now * ((double)r->total / (double)done) * 1.03 + 64;
	return e < (double)SIZE_MAX / 16 ? (size_t)e : 0;
}

/* ---- columns ---- */

static void col_free(ccol *c)
{
	free(c->name);
	free(c->num);
	free(c->side);
	free(c->codes);
	free(c->tab);
	free(c->keys);
	for (size_t k = 0; k < c->nlev; k++)
		free(c->lev[k]);
	free(c->lev);
	free(c->arena);
	free(c->off);
	memset(c, 0, sizeof(*c));
}

enum { SIDE_MISSING = 0, SIDE_CANON = 1, SIDE_RAW = 2 };

static bool side_put_slow(rd *r, ccol *c, const char *s, size_t n, int kind, size_t pos)
{
	size_t need = c->side_len + n + 10;
	if (need > c->side_cap && !grow((void **)&c->side, &c->side_cap, need,
	                                estimate(r, c->side_len, pos), 1))
		return false;
	unsigned char *o = c->side + c->side_len;
	uint64_t v = kind == SIDE_RAW ? (uint64_t)n + 2 : (uint64_t)kind;
	if (kind != SIDE_RAW)
		n = 0;
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	memcpy(o, s, n);
	c->side_len = (size_t)(o - c->side) + n;
	return true;
}

/*
 * Record one cell of a NUM column in its side text: missing, canonical (the
 * text is rebuilt from the double if ever needed), or raw bytes.
 */
static inline bool side_put(rd *r, ccol *c, const char *s, size_t n, int kind, size_t pos)
{
	if (c->side_len + 17 <= c->side_cap) {
		unsigned char *o = c->side + c->side_len;
		if (kind != SIDE_RAW) {
			o[0] = (unsigned char)kind;
			c->side_len++;
			return true;
		}
		if (n < 16) {
			/* one length byte and a 16-byte copy (both buffers have PAD bytes to spare) */
			uint64_t a, b;
			memcpy(&a, s, 8);
			memcpy(&b, s + 8, 8);
			o[0] = (unsigned char)(n + 2);
			memcpy(o + 1, &a, 8);
			memcpy(o + 9, &b, 8);
			c->side_len += n + 1;
			return true;
		}
	}
	return side_put_slow(r, c, s, n, kind, pos);
}

/*
 * Decode the side-text entry of row i at *at; false = missing. A canonical
 * entry is printed from the double into buf (64 bytes, zeroed by the caller).
 */
static bool side_get(const ccol *c, size_t *at, size_t i, char *buf, const char **s, size_t *n)
{
	uint64_t v = 0;
	unsigned sh = 0;
	const unsigned char *p = c->side + *at;
	while (*p & 0x80) {
		v |= (uint64_t)(*p++ & 0x7f) << sh;
		sh += 7;
	}
	v |= (uint64_t)*p++ << sh;
	*at = (size_t)(p - c->side);
	if (v == SIDE_MISSING)
		return false;
	if (v == SIDE_CANON) {
		ch_format_double_short(buf, 40, c->num[i]);
		*s = buf;
		*n = strlen(buf);
		return true;
	}
	*s = (const char *)p;
	*n = (size_t)v - 2;
	*at += *n;
	return true;
}

static inline bool text_put(rd *r, ccol *c, size_t row, const char *s, size_t n, size_t pos)
{
	if (c->arena_len + n + 1 > c->arena_cap &&
	    !grow((void **)&c->arena, &c->arena_cap, c->arena_len + n + 1, estimate(r, c->arena_len, pos), 1))
		return false;
	char *o = c->arena + c->arena_len;
	if (n < 16) {
		/* 16-byte copy: s has PAD readable bytes after it, the arena PAD spare bytes */
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + 8, 8);
		memcpy(o, &a, 8);
		memcpy(o + 8, &b, 8);
	} else {
		memcpy(o, s, n);
	}
	o[n] = '\0';
	c->off[row] = c->arena_len;
	c->arena_len += n + 1;
	return true;
}

/* Bytes 16..n of a level (stored with 16 zero bytes after it) and of a field (PAD after it) are equal. */
static inline bool tail_eq(const char *lev, const char *s, size_t n)
{
	for (size_t k = 16; k < n; k += 8) {
		uint64_t a, b;
		memcpy(&a, lev + k, 8);
		memcpy(&b, s + k, 8);
		if (low_bytes(a ^ b, n - k))
			return false;
	}
	return true;
}

/* Find a value: its code, or -4 with *at the empty slot where it would go. */
static inline __attribute__((always_inline)) int32_t cat_find(const ccol *c, const char *s, size_t n, uint64_t h, uint64_t w0, uint64_t w1,
                               size_t *at)
{
	const size_t mask = c->tab_cap - 1;
	size_t i = (size_t)h & mask;
	for (;;) {
		const dslot *e = &c->tab[i];
		if (e->w0 == w0 && e->w1 == w1 && e->len1 == n + 1 && (n <= 16 || tail_eq(c->lev[e->code], s, n)))
			return e->code;
		if (!e->len1) {
			*at = i;
			return -4;
		}
		i = (i + 1) & mask;
	}
}

/* Add a new level at slot `at`; its code, -1 (missing), -2 (past max_categories) or -3 (no memory). */
static __attribute__((noinline)) int32_t cat_add(const rd *r, ccol *c, const char *s, size_t n, uint64_t h, uint64_t w0, uint64_t w1,
                       size_t at)
{
	if (is_missing(r, s, n))
		return -1;
	if (c->nlev >= r->max_cat)
		return -2;
	if (c->nlev == c->lev_cap) {
		size_t nc = c->lev_cap ? c->lev_cap * 2 : 16;
		char **nl = realloc(c->lev, nc * sizeof(*nl));
		if (!nl)
			return -3;
		c->lev = nl;
		dkey *nk = realloc(c->keys, nc * sizeof(*nk));
		if (!nk)
			return -3;
		c->keys = nk;
		c->lev_cap = nc;
	}
	char *copy = calloc(1, n + 17);
	if (!copy)
		return -3;
	memcpy(copy, s, n);
	int32_t code = (int32_t)c->nlev;
	c->lev[c->nlev] = copy;
	c->keys[c->nlev] = (dkey){h, w0, w1, n};
	c->nlev++;
	c->tab[at] = (dslot){w0, w1, (uint32_t)n + 1, code};
	if (c->nlev * 2 > c->tab_cap) {
		size_t ncap = c->tab_cap * 2;
		dslot *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return -3;
		for (size_t k = 0; k < c->nlev; k++) {
			size_t j = (size_t)c->keys[k].h & (ncap - 1);
			while (nt[j].len1)
				j = (j + 1) & (ncap - 1);
			nt[j] = (dslot){c->keys[k].w0, c->keys[k].w1, (uint32_t)c->keys[k].len + 1, (int32_t)k};
		}
		free(c->tab);
		c->tab = nt;
		c->tab_cap = ncap;
	}
	return code;
}

/*
 * Code of a non-empty value in a CAT column: >= 0 a level, -1 missing,
 * -2 a new level past max_categories, -3 out of memory.
 */
static inline __attribute__((always_inline)) int32_t cat_code(const rd *r, ccol *c, const char *s, size_t n)
{
	uint64_t w0, w1;
	uint64_t h = str_key(s, n, &w0, &w1);
	size_t at = 0;
	int32_t code = cat_find(c, s, n, h, w0, w1, &at);
	if (code != -4)
		return code;
	return cat_add(r, c, s, n, h, w0, w1, at);
}

/* CAT -> TEXT: expand the first nrows codes into the arena. */
static churn_status cat_to_text(rd *r, ccol *c, size_t nrows, size_t pos)
{
	c->off = arr_resize(NULL, 0, r->row_cap * sizeof(uint64_t));
	if (!c->off)
		return nomem();
	for (size_t i = 0; i < nrows; i++) {
		if (c->codes[i] < 0) {
			c->off[i] = CH_TEXT_MISSING;
			continue;
		}
		const char *s = c->lev[c->codes[i]];
		if (!text_put(r, c, i, s, strlen(s), pos))
			return nomem();
	}
	free(c->codes);
	free(c->tab);
	free(c->keys);
	for (size_t k = 0; k < c->nlev; k++)
		free(c->lev[k]);
	free(c->lev);
	c->codes = NULL;
	c->tab = NULL;
	c->keys = NULL;
	c->lev = NULL;
	c->nlev = c->lev_cap = c->tab_cap = 0;
	c->st = ST_TEXT;
	return CHURN_OK;
}

/* NUM -> CAT (or TEXT when the values are too many): replay the side text of the first nrows. */
static churn_status num_to_cat(rd *r, ccol *c, size_t nrows, size_t pos)
{
	c->codes = arr_resize(NULL, 0, r->row_cap * sizeof(int32_t));
	c->tab_cap = 64;
	c->tab = calloc(c->tab_cap, sizeof(dslot));
	if (!c->codes || !c->tab)
		return nomem();
	c->st = ST_CAT;
	size_t at = 0, i;
	char buf[64] = {0};
	for (i = 0; i < nrows; i++) {
		const char *s;
		size_t n;
		if (!side_get(c, &at, i, buf, &s, &n)) {
			c->codes[i] = -1;
			continue;
		}
		int32_t code = cat_code(r, c, s, n);
		if (code == -3)
			return nomem();
		if (code == -2)
			break;
		c->codes[i] = code;
	}
	if (i < nrows) {
		/* Too many distinct values: straight to TEXT, from the side text. */
		free(c->codes);
		free(c->tab);
		free(c->keys);
		for (size_t k = 0; k < c->nlev; k++)
			free(c->lev[k]);
		free(c->lev);
		c->codes = NULL;
		c->tab = NULL;
		c->keys = NULL;
		c->lev = NULL;
		c->nlev = c->lev_cap = c->tab_cap = 0;
		c->off = arr_resize(NULL, 0, r->row_cap * sizeof(uint64_t));
		if (!c->off)
			return nomem();
		c->st = ST_TEXT;
		at = 0;
		for (i = 0; i < nrows; i++) {
			const char *s;
			size_t n;
			if (!side_get(c, &at, i, buf, &s, &n))
				c->off[i] = CH_TEXT_MISSING;
			else if (!text_put(r, c, i, s, n, pos))
				return nomem();
		}
	}
	free(c->num);
	free(c->side);
	c->num = NULL;
	c->side = NULL;
	c->side_len = c->side_cap = 0;
	c->has_inf = false;
	return CHURN_OK;
}

static churn_status grow_rows(rd *r, size_t pos)
{
	size_t need = r->nrows + 1;
	size_t nc = r->row_cap ? r->row_cap + r->row_cap / 2 : 1024;
	size_t est = estimate(r, r->nrows, pos);
	if (est > nc)
		nc = est;
	if (nc < need)
		nc = need;
	for (size_t j = 0; j < r->ncols; j++) {
		ccol *c = &r->cols[j];
		void **arr = c->st == ST_NUM ? (void **)&c->num : c->st == ST_CAT ? (void **)&c->codes : (void **)&c->off;
		size_t sz = c->st == ST_CAT ? sizeof(int32_t) : 8;
		void *np = arr_resize(*arr, r->row_cap * sz, nc * sz);
		if (!np)
			return nomem();
		*arr = np;
	}
	r->row_cap = nc;
	return CHURN_OK;
}

/* ---- input ---- */

/*
 * Position of the first byte at or after buf[from] with its high bit set, or
 * r->len. 64 bytes per step (the buffer has PAD readable bytes after its
 * data), so that ASCII input costs the UTF-8 check one quick pass per chunk
 * and no work per record.
 */
static size_t next_high(const rd *r, size_t from)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t i = from, n = r->len;
	for (; i < n; i += 64) {
#ifdef __SSE2__
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 16));
		__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 32));
		__m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 48));
		if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))))
			continue;
		uint64_t m = (uint64_t)(unsigned)_mm_movemask_epi8(v0) | (uint64_t)(unsigned)_mm_movemask_epi8(v1) << 16 |
		             (uint64_t)(unsigned)_mm_movemask_epi8(v2) << 32 | (uint64_t)(unsigned)_mm_movemask_epi8(v3) << 48;
		size_t k = i + (size_t)__builtin_ctzll(m);
		return k < n ? k : n;
#else
		uint64_t w[8];
		memcpy(w, b + i, 64);
		if (!((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) & 0x8080808080808080ull))
			continue;
		for (size_t k = i; k < i + 64 && k < n; k++)
			if (b[k] & 0x80)
				return k;
#endif
	}
	return n;
}

static churn_status refill(rd *r, size_t keep_from)
{
	size_t keep = r->len - keep_from;
	r->base += keep_from;
	if (keep && keep_from)
		memmove(r->buf, r->buf + keep_from, keep);
	r->len = keep;
	/* Read at least a chunk, and at least as much as is kept (a long record then costs O(n)). */
	size_t want = r->chunk > keep ? r->chunk : keep;
	if (r->cap < keep + want) {
		size_t nc = keep + want;
		char *nb = realloc(r->buf, nc + PAD);
		if (!nb)
			return nomem();
		r->buf = nb;
		r->cap = nc;
	}
	size_t got = 0;
	while (got < want) {
		if (r->mem) {
			size_t n = r->mem_n - r->mem_pos;
			if (n > want - got)
				n = want - got;
			memcpy(r->buf + r->len, r->mem + r->mem_pos, n);
			r->mem_pos += n;
			r->len += n;
			got += n;
			if (r->mem_pos == r->mem_n)
				r->eof = true;
			break;
		}
		ssize_t n = read(r->fd, r->buf + r->len, want - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ch_fail(CHURN_E_IO, "%s: read failed: %s", r->name, strerror(errno));
		}
		if (n == 0) {
			r->eof = true;
			break;
		}
		r->len += (size_t)n;
		got += (size_t)n;
	}
	memset(r->buf + r->len, 0, PAD);
	r->expect = NULL;
	r->hi_at = next_high(r, 0);
	return CHURN_OK;
}

/* ---- records ---- */

/*
 * Bit k set when byte b[k] is ',', LF, CR, '"' or NUL, for the 64 bytes at
 * b (the buffer has PAD zero bytes after its data, so whole blocks can be
 * read). Blocks are computed independently of where fields end, so the CPU
 * overlaps them; a field end is then one bit search.
 */
static inline uint64_t block_mask(const char *b)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
	              quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
	uint64_t bits = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
		                         _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)),
		                                      _mm_cmpeq_epi8(v, zero)));
		bits |= (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
	}
	return bits;
#else
	uint64_t bits = 0;
	for (int k = 0; k < 64; k++)
		bits |= (uint64_t)stop_unq[(unsigned char)b[k]] << k;
	return bits;
#endif
}

static churn_status fail_at(const rd *r, churn_status st, size_t col, const char *what)
{
	return ch_fail(st, "%s:%zu:%zu: %s", r->name, r->line, col, what);
}

/*
 * Split the record starting at buf[start] into r->sp (at most r->sp_max
 * spans; r->nf counts all fields). Returns R_DONE (*next = start of the next
 * record), R_NEED_MORE, or R_FAIL with the detail set in *st.
 */
static int split_record(rd *r, size_t start, size_t *next, churn_status *st)
{
	char *const end = r->buf + r->len;
	char *p = r->buf + start;
	size_t nf = 0, nl = 0;
	char *fs;
	char *bb = r->bb, *expect = r->expect;
	uint64_t bm = r->bm;
	for (;;) {
		fs = p;
		char *content;
		size_t flen;
		unsigned flags = 0;
		if (*p == '"') {
			char *q = p + 1;
			flags = F_QUOTED;
			for (;;) {
				while (!stop_q[(unsigned char)*q])
					q++;
				if (*q == '"') {
					if (q + 1 == end && !r->eof)
						goto need_more;
					if (q + 1 < end && q[1] == '"') {
						flags |= F_ESC;
						q += 2;
						continue;
					}
					break;
				}
				if (*q == '\n') {
					nl++;
					q++;
					continue;
				}
				if (q == end) {
					if (!r->eof)
						goto need_more;
					*st = fail_at(r, CHURN_E_PARSE, nf + 1, "unterminated quoted field");
					return R_FAIL;
				}
				*st = fail_at(r, CHURN_E_PARSE, nf + 1, "NUL byte in quoted field");
				return R_FAIL;
			}
			content = p + 1;
			flen = (size_t)(q - content);
			p = q + 1;
			if (p == end && !r->eof)
				goto need_more;
			if (p < end && *p != ',' && *p != '\n') {
				if (*p == '\r' && p + 1 == end && !r->eof)
					goto need_more;
				if (!(*p == '\r' && (p + 1 == end || p[1] == '\n'))) {
					char msg[64];
					unsigned char c = (unsigned char)*p;
					if (c >= 0x20 && c < 0x7f)
						snprintf(msg, sizeof msg, "unexpected '%c' after a closing quote", c);
					else
						snprintf(msg, sizeof msg, "unexpected byte 0x%02x after a closing quote", c);
					*st = fail_at(r, CHURN_E_PARSE, nf + 1, msg);
					return R_FAIL;
				}
			}
		} else {
			char *q;
			if (p != expect) {
				bb = r->buf + ((size_t)(p - r->buf) & ~(size_t)63);
				bm = block_mask(bb) & (~0ull << (p - bb));
			}
			for (;;) {
				while (!bm) {
					bb += 64;
					bm = block_mask(bb);
				}
				q = bb + __builtin_ctzll(bm);
				bm &= bm - 1;
				unsigned char c = (unsigned char)*q;
				if (c == ',' || c == '\n')
					break;
				if (c == '"')
					continue;
				if (c == '\r') {
					if (q + 1 == end) {
						if (!r->eof)
							goto need_more;
						break;
					}
					if (q[1] == '\n')
						break;
					continue;
				}
				if (q == end) {
					if (!r->eof)
						goto need_more;
					break;
				}
				*st = fail_at(r, CHURN_E_PARSE, nf + 1, "NUL byte");
				return R_FAIL;
			}
			expect = q + 1;
			content = p;
			flen = (size_t)(q - p);
			p = q;
		}
		if (flen > r->max_field && !(flags & F_ESC)) {
			char msg[96];
			snprintf(msg, sizeof msg, "field of %zu bytes is longer than csv.max_field_bytes (%zu)", flen,
			         r->max_field);
			*st = fail_at(r, CHURN_E_LIMIT, nf + 1, msg);
			return R_FAIL;
		}
		if (nf < r->sp_max)
			r->sp[nf] = (span){content, (uint32_t)flen, flags};
		nf++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		/* end of record: '\n', "\r\n", '\r' at the end of input, or the end of input */
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		break;
	}
	if ((size_t)(p - (r->buf + start)) > r->max_line + 2) {
		char msg[96];
		snprintf(msg, sizeof msg, "record of %zu bytes is longer than csv.max_line_bytes (%zu)",
		         (size_t)(p - (r->buf + start)), r->max_line);
		*st = fail_at(r, CHURN_E_LIMIT, 1, msg);
		return R_FAIL;
	}
	r->bb = bb;
	r->bm = bm;
	r->expect = expect;
	r->nf = nf;
	r->rec_nl = nl;
	*next = (size_t)(p - r->buf);
	return R_DONE;
need_more:
	r->expect = NULL;
	if ((size_t)(end - (r->buf + start)) > r->max_line + 2) {
		char msg[160];
		snprintf(msg, sizeof msg, "record longer than csv.max_line_bytes (%zu)%s", r->max_line,
		         *fs == '"' ? " (inside a quoted field: an unterminated quote?)" : "");
		*st = fail_at(r, CHURN_E_LIMIT, nf + 1, msg);
		return R_FAIL;
	}
	if ((size_t)(end - fs) > r->max_field + 2) {
		char msg[96];
		snprintf(msg, sizeof msg, "field longer than csv.max_field_bytes (%zu)", r->max_field);
		*st = fail_at(r, CHURN_E_LIMIT, nf + 1, msg);
		return R_FAIL;
	}
	return R_NEED_MORE;
}

/*
 * The record just split at buf[start..next), which has a byte with its high
 * bit set (r->hi_at), must be UTF-8 (see churn/csv.h). An invalid sequence
 * is reported at its field. A data row of the wrong width is left to commit_row, which
 * fails or skips it (its bytes never reach the dataset).
 */
static churn_status check_utf8(const rd *r, size_t start, size_t next, bool header)
{
	int why;
	size_t from = r->hi_at > start ? r->hi_at : start; /* ASCII before it */
	size_t n = next - from, at = ch_utf8_check(r->buf + from, n, &why);
	if (at == n || (!header && r->nf != r->ncols))
		return CHURN_OK;
	const char *bad = r->buf + from + at;
	size_t nf = r->nf < r->sp_max ? r->nf : r->sp_max;
	for (size_t j = 0; j < nf; j++) {
		const span *f = &r->sp[j];
		if (bad < f->s || bad >= f->s + f->len)
			continue;
		char where[160];
		if (header)
			snprintf(where, sizeof where, "the header");
		else
			snprintf(where, sizeof where, "column \"%.120s\"", r->cols[j].name);
		char msg[320];
		snprintf(msg, sizeof msg,
		         "invalid UTF-8 (byte 0x%02x: %s) in %s; the file must be UTF-8: convert it "
		         "(e.g. iconv -f latin1 -t utf-8 IN > OUT)",
		         (unsigned char)*bad, ch_utf8_reason(why), where);
		return fail_at(r, CHURN_E_PARSE, j + 1, msg);
	}
	return CHURN_OK;
}

/* Undo doubled quotes in place. */
static void unescape(span *f)
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

typedef struct name_ref {
	const char *s;
	size_t j;
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
	const name_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	if (c)
		return c;
	return x->j < y->j ? -1 : x->j > y->j;
}

static churn_status take_header(rd *r)
{
	size_t n = r->nf;
	if (n > r->max_cols) {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu columns, more than csv.max_cols (%zu)", n, r->max_cols);
		return fail_at(r, CHURN_E_LIMIT, r->max_cols + 1, msg);
	}
	r->cols = calloc(n, sizeof(ccol));
	if (!r->cols)
		return nomem();
	r->ncols = n;
	for (size_t j = 0; j < n; j++) {
		span *f = &r->sp[j];
		if (f->flags & F_ESC)
			unescape(f);
		const char *s = f->s;
		size_t len = f->len;
		const char *a = s, *b = s + len;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		r->cols[j].name = a < b ? ch_strndup(a, (size_t)(b - a)) : ch_asprintf("column_%zu", j + 1);
		if (!r->cols[j].name)
			return nomem();
	}
	/* Duplicates: sort (name, position) pairs. */
	name_ref *refs = malloc((n ? n : 1) * sizeof(*refs));
	if (!refs)
		return nomem();
	for (size_t j = 0; j < n; j++)
		refs[j] = (name_ref){r->cols[j].name, j};
	qsort(refs, n, sizeof(*refs), cmp_name_ref);
	size_t dup = SIZE_MAX, first = 0;
	for (size_t k = 1; k < n; k++)
		if (strcmp(refs[k].s, refs[k - 1].s) == 0 && refs[k].j < dup) {
			dup = refs[k].j;
			first = refs[k - 1].j;
		}
	free(refs);
	if (dup != SIZE_MAX) {
		/* report the earliest first occurrence of that name */
		for (size_t j = 0; j < dup; j++)
			if (strcmp(r->cols[j].name, r->cols[dup].name) == 0) {
				first = j;
				break;
			}
		return ch_fail(CHURN_E_PARSE, "%s:%zu:%zu: duplicate column name '%s' (also column %zu)", r->name,
		               r->line, dup + 1, r->cols[dup].name, first + 1);
	}
	for (size_t j = 0; j < n; j++) {
		ccol *c = &r->cols[j];
		c->st = ST_NUM;
	}
	r->sp_max = n + 1;
	return CHURN_OK;
}

static churn_status commit_row(rd *r, size_t pos)
{
	churn_status st;
	if (r->nf != r->ncols) {
		if (r->nf == 1 && r->sp[0].len == 0 && !(r->sp[0].flags & F_QUOTED))
			return CHURN_OK; /* empty line */
		if (r->skip_ragged) {
			r->skipped++;
			return CHURN_OK;
		}
		char msg[96];
		snprintf(msg, sizeof msg, "expected %zu fields, found %zu", r->ncols, r->nf);
		return fail_at(r, CHURN_E_PARSE, (r->nf < r->ncols ? r->nf : r->ncols) + 1, msg);
	}
	if (r->nrows >= r->max_rows) {
		char msg[96];
		snprintf(msg, sizeof msg, "more than csv.max_rows (%zu) data rows", r->max_rows);
		return fail_at(r, CHURN_E_LIMIT, 1, msg);
	}
	if (r->nrows == r->row_cap && (st = grow_rows(r, pos)))
		return st;
	const size_t row = r->nrows;
	for (size_t j = 0; j < r->ncols; j++) {
		ccol *c = &r->cols[j];
		span *f = &r->sp[j];
		if (f->flags & F_ESC) {
			unescape(f);
			if (f->len > r->max_field) {
				char msg[96];
				snprintf(msg, sizeof msg, "field of %zu bytes is longer than csv.max_field_bytes (%zu)",
				         (size_t)f->len, r->max_field);
				return fail_at(r, CHURN_E_LIMIT, j + 1, msg);
			}
		}
		const char *s = f->s;
		size_t n = f->len;
		switch (c->st) {
		case ST_NUM: {
			double v;
			if (n == 0) {
				c->num[row] = NAN;
				c->nmiss++;
				if (!side_put(r, c, s, 0, SIDE_MISSING, pos))
					return nomem();
				break;
			}
			bool canon;
			if (parse_num(s, n, &v, &canon) && isfinite(v)) {
				c->num[row] = v;
				if (!side_put(r, c, s, n, canon ? SIDE_CANON : SIDE_RAW, pos))
					return nomem();
				break;
			}
			const char *t = s;
			size_t tn = n;
			trim(&t, &tn);
			if (tn && ch_parse_double(t, tn, &v) && isfinite(v)) {
				c->num[row] = v;
				if (!side_put(r, c, s, n, SIDE_RAW, pos))
					return nomem();
				break;
			}
			if (is_missing(r, s, n)) {
				c->num[row] = NAN;
				c->nmiss++;
				if (!side_put(r, c, s, 0, SIDE_MISSING, pos))
					return nomem();
				break;
			}
			if (is_nonfinite(t, tn) || (tn && ch_parse_double(t, tn, &v))) { /* inf, nan, or out of range */
				if (!c->has_inf) {
					c->has_inf = true;
					c->inf_line = r->line;
					snprintf(c->inf_tok, sizeof c->inf_tok, "%.*s", (int)tn, t);
				}
				c->num[row] = NAN;
				if (!side_put(r, c, s, n, SIDE_RAW, pos))
					return nomem();
				break;
			}
			if ((st = num_to_cat(r, c, row, pos)))
				return st;
			if (c->st == ST_TEXT)
				goto text;
		}
			/* fall through */
		case ST_CAT: {
			if (n == 0) {
				c->codes[row] = -1;
				c->nmiss++;
				break;
			}
			int32_t code = cat_code(r, c, s, n);
			if (code >= -1) {
				c->codes[row] = code;
				c->nmiss += code < 0;
				break;
			}
			if (code == -3)
				return nomem();
			if ((st = cat_to_text(r, c, row, pos)))
				return st;
		}
			/* fall through */
		case ST_TEXT:
		text:
			if (n == 0 || (n <= r->na_max || is_ws((unsigned char)s[0]) || is_ws((unsigned char)s[n - 1]))) {
				if (is_missing(r, s, n)) {
					c->off[row] = CH_TEXT_MISSING;
					c->nmiss++;
					break;
				}
			}
			if (!text_put(r, c, row, s, n, pos))
				return nomem();
			break;
		}
	}
	r->nrows++;
	return CHURN_OK;
}

/* ---- setup, main loop, result ---- */

static churn_status read_params(rd *r, const churn_params *p)
{
	churn_params *def = NULL;
	if (!p) {
		churn_status st = churn_params_new(&def);
		if (st)
			return st;
		p = def;
	}
	r->max_field = (size_t)churn_params_get_int(p, "csv.max_field_bytes");
	r->max_line = (size_t)churn_params_get_int(p, "csv.max_line_bytes");
	r->max_rows = (size_t)churn_params_get_int(p, "csv.max_rows");
	r->max_cols = (size_t)churn_params_get_int(p, "csv.max_cols");
	r->max_cat = (size_t)churn_params_get_int(p, "csv.max_categories");
	r->chunk = (size_t)churn_params_get_int(p, "csv.chunk_bytes");
	r->skip_ragged = churn_params_get_bool(p, "csv.skip_ragged");
	if (r->max_cat > INT32_MAX - 1)
		r->max_cat = INT32_MAX - 1;
	const char *na = churn_params_get_str(p, "csv.na_tokens");
	r->na_min = SIZE_MAX;
	r->na_max = 0;
	while (*na && r->nna < MAX_NA) {
		const char *e = strchr(na, ',');
		size_t n = e ? (size_t)(e - na) : strlen(na);
		const char *t = na;
		size_t tn = n;
		trim(&t, &tn);
		if (tn > 0 && tn < sizeof(r->na[0].s)) {
			memcpy(r->na[r->nna].s, t, tn);
			r->na[r->nna].len = tn;
			r->nna++;
			if (tn < r->na_min)
				r->na_min = tn;
			if (tn > r->na_max)
				r->na_max = tn;
			unsigned char f = lower((unsigned char)t[0]);
			r->na_first[f] = 1;
			if (f >= 'a' && f <= 'z')
				r->na_first[f - 32] = 1;
		}
		na += n;
		if (*na == ',')
			na++;
	}
	r->p = p == def ? NULL : p;
	churn_params_free(def);
	return CHURN_OK;
}

static int cmp_level(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Sort a categorical column's levels by strcmp and remap its codes, as
 * ch_column_sort_levels() does, with a branch-free remap (map[code + 1],
 * map[0] = -1) and no pass at all when the levels are already in order.
 */
static churn_status sort_levels(ch_column *c, size_t nrows)
{
	size_t k = c->nlevels;
	bool sorted = true;
	for (size_t a = 1; a < k && sorted; a++)
		sorted = strcmp(c->levels[a - 1], c->levels[a]) < 0;
	if (sorted)
		return CHURN_OK;
	char **order = malloc(k * sizeof(*order));
	int32_t *map = malloc((k + 1) * sizeof(*map));
	if (!order || !map) {
		free(order);
		free(map);
		return nomem();
	}
	memcpy(order, c->levels, k * sizeof(*order));
	qsort(order, k, sizeof(*order), cmp_level);
	map[0] = -1;
	for (size_t a = 0; a < k; a++) {
		char **hit = bsearch(&c->levels[a], order, k, sizeof(*order), cmp_level);
		map[a + 1] = (int32_t)(hit - order);
	}
	int32_t *codes = c->codes;
	for (size_t i = 0; i < nrows; i++)
		codes[i] = map[codes[i] + 1];
	free(c->levels);
	c->levels = order;
	free(map);
	return CHURN_OK;
}

static churn_status finish(rd *r, churn_dataset **out)
{
	churn_dataset *ds = NULL;
	churn_status st = churn_dataset_new(&ds);
	if (st)
		return st;
	const size_t nrows = r->nrows;
	for (size_t j = 0; j < r->ncols; j++) {
		ccol *c = &r->cols[j];
		if (c->st == ST_NUM && c->has_inf) {
			char msg[128];
			snprintf(msg, sizeof msg, "non-finite number '%s' in column '%s' (otherwise numeric)", c->inf_tok,
			         c->name);
			/* find the field number: j + 1 */
			st = ch_fail(CHURN_E_PARSE, "%s:%zu:%zu: %s", r->name, c->inf_line, j + 1, msg);
			goto fail;
		}
	}
	for (size_t j = 0; j < r->ncols; j++) {
		ccol *c = &r->cols[j];
		ch_column col = {0};
		size_t nb = nrows ? nrows : 1;
		if (c->st == ST_NUM) {
			col.type = CHURN_COL_NUMERIC;
			double *v = realloc(c->num, nb * sizeof(double));
			col.num = v ? v : c->num;
			c->num = NULL;
			free(c->side);
			c->side = NULL;
		} else if (c->st == ST_CAT) {
			col.type = CHURN_COL_CATEGORICAL;
			int32_t *v = realloc(c->codes, nb * sizeof(int32_t));
			col.codes = v ? v : c->codes;
			c->codes = NULL;
			col.levels = c->lev ? c->lev : malloc(sizeof(char *));
			if (!col.levels) {
				free(col.codes);
				st = nomem();
				goto fail;
			}
			col.nlevels = c->nlev;
			c->lev = NULL;
			c->nlev = 0;
			free(c->tab);
			free(c->keys);
			c->tab = NULL;
			c->keys = NULL;
		} else {
			col.type = CHURN_COL_TEXT;
			uint64_t *v = realloc(c->off, nb * sizeof(uint64_t));
			col.off = v ? v : c->off;
			c->off = NULL;
			char *a = c->arena ? realloc(c->arena, c->arena_len ? c->arena_len : 1) : malloc(1);
			col.arena = a ? a : c->arena;
			col.arena_len = c->arena_len;
			c->arena = NULL;
			if (!col.arena) {
				free(col.off);
				st = nomem();
				goto fail;
			}
		}
		col.n_missing = c->nmiss;
		col.name = c->name;
		c->name = NULL;
		if (col.type == CHURN_COL_CATEGORICAL && (st = sort_levels(&col, nrows))) {
			ch_column_clear(&col);
			goto fail;
		}
		if ((st = ch_dataset_take_column(ds, &col, nrows))) {
			ch_column_clear(&col);
			goto fail;
		}
	}
	*out = ds;
	return CHURN_OK;
fail:
	churn_dataset_free(ds);
	return st;
}

static churn_status run(rd *r, churn_dataset **out)
{
	churn_status st;
	size_t pos = 0;
	bool header = false, bom_checked = false;
	r->line = 1;
	r->sp_max = r->max_cols + 1;
	r->sp = malloc(r->sp_max * sizeof(span)); /* pages past the widest record are never touched */
	if (!r->sp)
		return nomem();
	for (;;) {
		if ((st = refill(r, pos)))
			return st;
		pos = 0;
		if (!bom_checked) {
			if (r->len < 3 && !r->eof)
				continue;
			bom_checked = true;
			if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
				pos = 3;
		}
		while (pos < r->len) {
			size_t next;
			int rc = split_record(r, pos, &next, &st);
			if (rc == R_FAIL)
				return st;
			if (rc == R_NEED_MORE)
				break;
			if (r->hi_at < next) {
				if ((st = check_utf8(r, pos, next, !header)))
					return st;
				r->hi_at = next_high(r, next);
			}
			if (!header) {
				if (!(r->nf == 1 && r->sp[0].len == 0 && !(r->sp[0].flags & F_QUOTED))) {
					if ((st = take_header(r)))
						return st;
					header = true;
				}
			} else if ((st = commit_row(r, next))) {
				return st;
			}
			r->line += r->rec_nl + 1;
			pos = next;
		}
		uint64_t done = r->base + pos;
		if (done >= r->next_progress || (r->eof && pos >= r->len)) {
			r->next_progress = done + PROGRESS_EVERY;
			if (!ch_progress(r->p, "parse", done, r->total))
				return ch_fail(CHURN_E_STATE, "%s: parse cancelled at line %zu", r->name, r->line);
		}
		if (r->eof && pos >= r->len)
			break;
	}
	if (!header)
		return ch_fail(CHURN_E_PARSE, "%s:1:1: empty file (a header line is required)", r->name);
	if (r->nrows == 0) {
		if (r->skipped)
			return ch_fail(CHURN_E_PARSE, "%s:%zu:1: no data rows: all %zu rows were skipped as ragged", r->name,
			               r->line, r->skipped);
		return ch_fail(CHURN_E_PARSE, "%s:%zu:1: no data rows after the header", r->name, r->line);
	}
	return finish(r, out);
}

static void rd_free(rd *r)
{
	for (size_t j = 0; j < r->ncols; j++)
		col_free(&r->cols[j]);
	free(r->cols);
	free(r->sp);
	free(r->buf);
}

static churn_status read_any(rd *r, const churn_params *p, churn_dataset **out, size_t *out_skipped)
{
	churn_dataset *ds = NULL;
	churn_status st = read_params(r, p);
	if (!st)
		st = run(r, &ds);
	rd_free(r);
	if (st)
		return st;
	ch_clear_error();
	*out = ds;
	if (out_skipped)
		*out_skipped = r->skipped;
	return CHURN_OK;
}

churn_status churn_csv_read_file(const char *path, const churn_params *p, churn_dataset **out, size_t *out_skipped_rows)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_read_file: NULL argument");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_fail(errno == ENOENT || errno == ENOTDIR ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: cannot open: %s",
		               path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
		int e = S_ISDIR(sb.st_mode) ? EISDIR : errno;
		close(fd);
		return ch_fail(CHURN_E_IO, "%s: cannot read: %s", path, strerror(e));
	}
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	rd r = {0};
	r.name = path;
	r.fd = fd;
	r.total = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	churn_status st = read_any(&r, p, out, out_skipped_rows);
	close(fd);
	return st;
}

churn_status churn_csv_read_buffer(const char *data, size_t n, const char *name, const churn_params *p,
                                   churn_dataset **out, size_t *out_skipped_rows)
{
	if ((!data && n) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_read_buffer: NULL argument");
	rd r = {0};
	r.name = name ? name : "<buffer>";
	r.fd = -1;
	r.mem = data ? data : "";
	r.mem_n = n;
	r.total = n;
	if (n == 0)
		r.eof = true;
	return read_any(&r, p, out, out_skipped_rows);
}

churn_status churn_dataset_load_csv(const char *path, churn_dataset **out)
{
	return churn_csv_read_file(path, NULL, out, NULL);
}

/* ---- writer ---- */

typedef struct wr {
	churn_write_fn fn;
	void *ud;
	char buf[65536];
	size_t n;
	bool failed;
} wr;

static void w_flush(wr *w)
{
	if (w->n && !w->failed && w->fn(w->ud, w->buf, w->n) != w->n)
		w->failed = true;
	w->n = 0;
}

static void w_put(wr *w, const char *s, size_t n)
{
	while (n) {
		if (w->n == sizeof(w->buf))
			w_flush(w);
		size_t k = sizeof(w->buf) - w->n;
		if (k > n)
			k = n;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		n -= k;
	}
}

static inline void w_ch(wr *w, char c)
{
	if (w->n == sizeof(w->buf))
		w_flush(w);
	w->buf[w->n++] = c;
}

static void w_field(wr *w, const char *s, bool first)
{
	size_t n = strlen(s);
	if (!ch_csv_needs_quotes(s, first)) { /* the one quoting rule (buf.c) */
		w_put(w, s, n);
		return;
	}
	w_ch(w, '"');
	for (const char *e; (e = strchr(s, '"')); s = e + 1) {
		w_put(w, s, (size_t)(e - s) + 1);
		w_ch(w, '"');
	}
	w_put(w, s, strlen(s));
	w_ch(w, '"');
}

static void w_number(wr *w, double v)
{
	char b[40];
	if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
		int64_t x = (int64_t)v;
		uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
		char *e = b + sizeof b, *p = e;
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (x < 0)
			*--p = '-';
		w_put(w, p, (size_t)(e - p));
		return;
	}
	ch_format_double_short(b, sizeof b, v);
	w_put(w, b, strlen(b));
}

churn_status churn_csv_write(const churn_dataset *ds, churn_write_fn fn, void *userdata)
{
	if (!ds || !fn)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write: NULL argument");
	wr *w = malloc(sizeof(*w));
	if (!w)
		return nomem();
	w->fn = fn;
	w->ud = userdata;
	w->n = 0;
	w->failed = false;
	for (size_t j = 0; j < ds->ncols; j++) {
		if (j)
			w_ch(w, ',');
		w_field(w, ds->cols[j].name, j == 0);
	}
	w_ch(w, '\n');
	for (size_t i = 0; i < ds->nrows && !w->failed; i++) {
		for (size_t j = 0; j < ds->ncols; j++) {
			const ch_column *c = &ds->cols[j];
			if (j)
				w_ch(w, ',');
			switch (c->type) {
			case CHURN_COL_NUMERIC:
				if (isnan(c->num[i])) {
					if (ds->ncols == 1)
						w_put(w, "\"\"", 2);
				} else {
					w_number(w, c->num[i]);
				}
				break;
			case CHURN_COL_CATEGORICAL:
				if (c->codes[i] >= 0)
					w_field(w, c->levels[c->codes[i]], false);
				else if (ds->ncols == 1)
					w_put(w, "\"\"", 2);
				break;
			case CHURN_COL_TEXT:
				if (c->off[i] != CH_TEXT_MISSING)
					w_field(w, c->arena + c->off[i], false);
				else if (ds->ncols == 1)
					w_put(w, "\"\"", 2);
				break;
			}
		}
		w_ch(w, '\n');
	}
	w_flush(w);
	bool failed = w->failed;
	free(w);
	if (failed)
		return ch_fail(CHURN_E_IO, "CSV write failed: the output callback did not take all bytes");
	ch_clear_error();
	return CHURN_OK;
}

static size_t write_fp(void *ud, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, (FILE *)ud);
}

churn_status churn_csv_write_file(const churn_dataset *ds, const char *path)
{
	if (!ds || !path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write_file: NULL argument");
	ch_atomic a;
	churn_status st = ch_atomic_open(&a, path);
	if (st)
		return st;
	if ((st = churn_csv_write(ds, write_fp, a.fp))) {
		int e = errno;
		ch_atomic_abort(&a);
		return ch_fail(CHURN_E_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
	}
	return ch_atomic_commit(&a);
}

typedef struct membuf {
	char *b;
	size_t n, cap;
} membuf;

static size_t write_mem(void *ud, const void *buf, size_t n)
{
	membuf *m = ud;
	if (m->n + n + 1 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 65536;
		while (nc < m->n + n + 1)
			nc *= 2;
		char *nb = realloc(m->b, nc);
		if (!nb)
			return 0;
		m->b = nb;
		m->cap = nc;
	}
	memcpy(m->b + m->n, buf, n);
	m->n += n;
	return n;
}

churn_status churn_csv_write_buffer(const churn_dataset *ds, char **out, size_t *out_n)
{
	if (!ds || !out || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write_buffer: NULL argument");
	membuf m = {0};
	churn_status st = churn_csv_write(ds, write_mem, &m);
	if (!st && !m.b && !(m.b = malloc(1)))
		st = nomem();
	if (st) {
		free(m.b);
		return st == CHURN_E_IO ? nomem() : st;
	}
	m.b[m.n] = '\0';
	*out = m.b;
	*out_n = m.n;
	return CHURN_OK;
}
