/*
 * The CSV reader's columns, typed while reading: NUM -> CAT -> TEXT (see
 * csv-private.h), the row commit and the dataset made of them at the end.
 */
#include "csv-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dataset-private.h"

/* Missing: empty, whitespace only, or an NA token (after trimming). */
static inline bool is_missing(const rd *r, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (ch_csv_is_ws((unsigned char)s[0]) || ch_csv_is_ws((unsigned char)s[n - 1])) {
		ch_csv_trim(&s, &n);
		if (n == 0)
			return true;
	}
	if (n < r->na_min || n > r->na_max || !r->na_first[(unsigned char)s[0]])
		return false;
	for (size_t k = 0; k < r->nna; k++)
		if (r->na[k].len == n && ch_csv_ieq(r->na[k].s, s, n))
			return true;
	return false;
}

bool ch_csv_is_missing(const rd *r, const char *s, size_t n)
{
	return is_missing(r, s, n);
}

/* [+-](inf|infinity|nan), any case, already trimmed. */
static bool is_nonfinite(const char *s, size_t n)
{
	if (n && (*s == '+' || *s == '-')) {
		s++;
		n--;
	}
	return (n == 3 && (ch_csv_ieq(s, "inf", 3) || ch_csv_ieq(s, "nan", 3))) || (n == 8 && ch_csv_ieq(s, "infinity", 8));
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
	if (r->sample) /* a sample's size does not follow the input's */
		return 0;
	if (!r->total || done < 4096 || r->total <= done || now == 0)
		return 0;
	double e = (double)now * ((double)r->total / (double)done) * 1.03 + 64;
	return e < (double)SIZE_MAX / 16 ? (size_t)e : 0;
}

/* ---- columns ---- */

void ch_csv_col_free(ccol *c)
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

/* Drop a column's categorical state (codes, level table, levels): it becomes text. */
static void cat_clear(ccol *c)
{
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
}

/* CAT -> TEXT: expand the first nrows codes into the arena. */
static churn_status cat_to_text(rd *r, ccol *c, size_t nrows, size_t pos)
{
	c->off = arr_resize(NULL, 0, r->row_cap * sizeof(uint64_t));
	if (!c->off)
		return ch_csv_nomem();
	for (size_t i = 0; i < nrows; i++) {
		if (c->codes[i] < 0) {
			c->off[i] = CH_TEXT_MISSING;
			continue;
		}
		const char *s = c->lev[c->codes[i]];
		if (!text_put(r, c, i, s, strlen(s), pos))
			return ch_csv_nomem();
	}
	cat_clear(c);
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
		return ch_csv_nomem();
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
			return ch_csv_nomem();
		if (code == -2)
			break;
		c->codes[i] = code;
	}
	if (i < nrows) {
		/* Too many distinct values: straight to TEXT, from the side text. */
		cat_clear(c);
		c->off = arr_resize(NULL, 0, r->row_cap * sizeof(uint64_t));
		if (!c->off)
			return ch_csv_nomem();
		c->st = ST_TEXT;
		at = 0;
		for (i = 0; i < nrows; i++) {
			const char *s;
			size_t n;
			if (!side_get(c, &at, i, buf, &s, &n))
				c->off[i] = CH_TEXT_MISSING;
			else if (!text_put(r, c, i, s, n, pos))
				return ch_csv_nomem();
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
			return ch_csv_nomem();
		*arr = np;
	}
	r->row_cap = nc;
	return CHURN_OK;
}

/* A record of the wrong width (skipped or an error), past csv.max_rows, or room for one more row. */
static churn_status check_row(rd *r, size_t pos, bool *skip)
{
	*skip = false;
	if (r->nf != r->ncols) {
		*skip = true;
		if (r->nf == 1 && r->sp[0].len == 0 && !(r->sp[0].flags & F_QUOTED))
			return CHURN_OK; /* empty line */
		if (r->skip_ragged) {
			r->skipped++;
			return CHURN_OK;
		}
		char msg[96];
		snprintf(msg, sizeof msg, "expected %zu fields, found %zu", r->ncols, r->nf);
		return ch_csv_fail_at(r, CHURN_E_PARSE, (r->nf < r->ncols ? r->nf : r->ncols) + 1, msg);
	}
	if (r->nread >= r->max_rows) {
		char msg[96];
		snprintf(msg, sizeof msg, "more than csv.max_rows (%zu) data rows", r->max_rows);
		return ch_csv_fail_at(r, CHURN_E_LIMIT, 1, msg);
	}
	return r->nrows == r->row_cap ? grow_rows(r, pos) : CHURN_OK;
}

churn_status ch_csv_unescape_field(const rd *r, span *f, size_t j)
{
	ch_csv_unescape(f);
	f->flags &= ~(uint32_t)F_ESC;
	if (f->len <= r->max_field)
		return CHURN_OK;
	char msg[96];
	snprintf(msg, sizeof msg, "field of %zu bytes is longer than csv.max_field_bytes (%zu)", (size_t)f->len,
	         r->max_field);
	return ch_csv_fail_at(r, CHURN_E_LIMIT, j + 1, msg);
}

/* A missing cell of a NUM column. */
static inline bool num_missing(rd *r, ccol *c, size_t row, size_t pos)
{
	c->num[row] = NAN;
	c->nmiss++;
	return side_put(r, c, "", 0, SIDE_MISSING, pos);
}

/*
 * A cell of a NUM column that the fast parse did not take: a number with
 * spaces around it, missing, or non-finite (inf, nan, out of range: the
 * column fails at the end unless it turns categorical). 1 stored, 0 not a
 * number (the column must change state), -1 out of memory.
 */
static int num_cell_slow(rd *r, ccol *c, size_t row, const char *s, size_t n, size_t pos)
{
	double v;
	const char *t = s;
	size_t tn = n;
	ch_csv_trim(&t, &tn);
	if (tn && ch_parse_double(t, tn, &v) && isfinite(v)) {
		c->num[row] = v;
		return side_put(r, c, s, n, SIDE_RAW, pos) ? 1 : -1;
	}
	if (is_missing(r, s, n))
		return num_missing(r, c, row, pos) ? 1 : -1;
	if (!is_nonfinite(t, tn) && !(tn && ch_parse_double(t, tn, &v)))
		return 0;
	if (!c->has_inf) {
		c->has_inf = true;
		c->inf_line = r->line;
		snprintf(c->inf_tok, sizeof c->inf_tok, "%.*s", (int)tn, t);
	}
	c->num[row] = NAN;
	return side_put(r, c, s, n, SIDE_RAW, pos) ? 1 : -1;
}

/* A cell of a NUM column: 1 stored, 0 not a number, -1 out of memory. */
static inline int num_cell(rd *r, ccol *c, size_t row, const char *s, size_t n, size_t pos)
{
	if (n == 0)
		return num_missing(r, c, row, pos) ? 1 : -1;
	double v;
	bool canon;
	if (parse_num(s, n, &v, &canon) && isfinite(v)) {
		c->num[row] = v;
		return side_put(r, c, s, n, canon ? SIDE_CANON : SIDE_RAW, pos) ? 1 : -1;
	}
	return num_cell_slow(r, c, row, s, n, pos);
}

/* A cell of a CAT column: 1 stored, 0 a level past csv.max_categories (the column must become TEXT), -1 no memory. */
static inline int cat_cell(const rd *r, ccol *c, size_t row, const char *s, size_t n)
{
	if (n == 0) {
		c->codes[row] = -1;
		c->nmiss++;
		return 1;
	}
	int32_t code = cat_code(r, c, s, n);
	if (code >= -1) {
		c->codes[row] = code;
		c->nmiss += code < 0;
		return 1;
	}
	return code == -3 ? -1 : 0;
}

/* A cell of a TEXT column. */
static inline bool text_cell(rd *r, ccol *c, size_t row, const char *s, size_t n, size_t pos)
{
	if (n == 0 || (n <= r->na_max || ch_csv_is_ws((unsigned char)s[0]) || ch_csv_is_ws((unsigned char)s[n - 1]))) {
		if (is_missing(r, s, n)) {
			c->off[row] = CH_TEXT_MISSING;
			c->nmiss++;
			return true;
		}
	}
	return text_put(r, c, row, s, n, pos);
}

/* One cell into its column, moving the column on (NUM -> CAT -> TEXT) when the cell does not fit its state. */
static inline churn_status put_cell(rd *r, ccol *c, size_t row, const char *s, size_t n, size_t pos)
{
	churn_status st;
	int k;
	switch (c->st) {
	case ST_NUM:
		if ((k = num_cell(r, c, row, s, n, pos)) != 0)
			return k > 0 ? CHURN_OK : ch_csv_nomem();
		if ((st = num_to_cat(r, c, row, pos)))
			return st;
		if (c->st == ST_TEXT)
			break;
		/* fall through */
	case ST_CAT:
		if ((k = cat_cell(r, c, row, s, n)) != 0)
			return k > 0 ? CHURN_OK : ch_csv_nomem();
		if ((st = cat_to_text(r, c, row, pos)))
			return st;
		break;
	default:
		break;
	}
	return text_cell(r, c, row, s, n, pos) ? CHURN_OK : ch_csv_nomem();
}

/* Row @p row starts on r->line: a break when that is not the line after the previous row's (dataset-private.h). */
static churn_status note_line(rd *r, size_t row)
{
	const ch_line_break *last = r->nlines ? &r->lines[r->nlines - 1] : NULL;
	size_t expect = last ? last->line + (row - last->row) : row + 2;
	if (r->line == expect)
		return CHURN_OK;
	if (r->nlines == r->lines_cap) {
		size_t cap = r->lines_cap ? 2 * r->lines_cap : 64;
		ch_line_break *g = realloc(r->lines, cap * sizeof(*g));
		if (!g)
			return ch_csv_nomem();
		r->lines = g;
		r->lines_cap = cap;
	}
	r->lines[r->nlines++] = (ch_line_break){row, r->line};
	return CHURN_OK;
}

/*
 * Take back the cell of row `row` (not kept by the sample) that put_cell
 * stored in c: what it appended goes, the state it moved the column to
 * stays (the types are those of every row read). side0 and st0: the side
 * text's length and the state before the cell.
 */
static void retract_cell(ccol *c, size_t row, size_t side0, int st0, size_t nmiss0)
{
	c->nmiss = nmiss0;
	if (c->st == ST_NUM && st0 == ST_NUM)
		c->side_len = side0;
	else if (c->st == ST_TEXT && c->off[row] != CH_TEXT_MISSING)
		c->arena_len = (size_t)c->off[row];
}

churn_status ch_csv_commit_row(rd *r, size_t pos)
{
	bool skip, keep = true;
	churn_status st = check_row(r, pos, &skip);
	if (st || skip)
		return st;
	if (r->sample && (st = ch_csv_sample_admit(r, &keep)))
		return st;
	r->nread++;
	const size_t row = r->nrows, ncols = r->ncols;
	for (size_t j = 0; j < ncols; j++) {
		ccol *c = &r->cols[j];
		span *f = &r->sp[j];
		size_t side0 = c->side_len, nmiss0 = c->nmiss;
		int st0 = c->st;
		if ((f->flags & F_ESC) && (st = ch_csv_unescape_field(r, f, j)))
			return st;
		if ((st = put_cell(r, c, row, f->s, f->len, pos)))
			return st;
		if (!keep)
			retract_cell(c, row, side0, st0, nmiss0);
	}
	if (!keep)
		return CHURN_OK;
	if (!r->sample && (st = note_line(r, row)))
		return st;
	r->nrows++;
	return CHURN_OK;
}

/* The next side-text entry at *at: its kind (SIDE_MISSING, SIDE_CANON, or length + 2 of raw text), *at past it. */
static uint64_t side_next(const ccol *c, size_t *at)
{
	uint64_t v = 0;
	unsigned sh = 0;
	const unsigned char *p = c->side + *at;
	while (*p & 0x80) {
		v |= (uint64_t)(*p++ & 0x7f) << sh;
		sh += 7;
	}
	v |= (uint64_t)*p++ << sh;
	*at = (size_t)(p - c->side) + (v >= SIDE_RAW ? (size_t)v - 2 : 0);
	return v;
}

/* One column without the dead rows (see ch_csv_compact). */
static void compact_col(ccol *c, const unsigned char *dead, size_t n)
{
	size_t w = 0;
	if (c->st == ST_NUM) {
		size_t at = 0, wat = 0;
		for (size_t i = 0; i < n; i++) {
			size_t a = at;
			uint64_t kind = side_next(c, &at);
			if (dead[i]) {
				c->nmiss -= kind == SIDE_MISSING;
				continue;
			}
			memmove(c->side + wat, c->side + a, at - a);
			wat += at - a;
			c->num[w++] = c->num[i];
		}
		c->side_len = wat;
	} else if (c->st == ST_CAT) {
		for (size_t i = 0; i < n; i++) {
			if (dead[i])
				c->nmiss -= c->codes[i] < 0;
			else
				c->codes[w++] = c->codes[i];
		}
	} else {
		size_t wpos = 0; /* offsets grow with the row: moving down never overwrites a live string */
		for (size_t i = 0; i < n; i++) {
			uint64_t o = c->off[i];
			if (dead[i]) {
				c->nmiss -= o == CH_TEXT_MISSING;
				continue;
			}
			if (o != CH_TEXT_MISSING) {
				size_t len = strlen(c->arena + o) + 1;
				memmove(c->arena + wpos, c->arena + o, len);
				o = wpos;
				wpos += len;
			}
			c->off[w++] = o;
		}
		c->arena_len = wpos;
	}
}

void ch_csv_compact(rd *r, const unsigned char *dead)
{
	size_t live = 0;
	for (size_t j = 0; j < r->ncols; j++)
		compact_col(&r->cols[j], dead, r->nrows);
	for (size_t i = 0; i < r->nrows; i++)
		live += !dead[i];
	r->nrows = live;
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
		return ch_csv_nomem();
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

/* A column that stayed numeric but held inf, nan or an out-of-range number: the first one, where it was. */
static churn_status check_finite(const rd *r)
{
	for (size_t j = 0; j < r->ncols; j++) {
		const ccol *c = &r->cols[j];
		if (c->st == ST_NUM && c->has_inf) {
			char msg[128];
			snprintf(msg, sizeof msg, "non-finite number '%s' in column '%s' (otherwise numeric)", c->inf_tok,
			         c->name);
			return ch_fail(CHURN_E_PARSE, "%s:%zu:%zu: %s", r->name, c->inf_line, j + 1, msg);
		}
	}
	return CHURN_OK;
}

/*
 * Move column c's values into col (its type's arrays trimmed to nrows). Only
 * a failure to allocate an empty level list or arena fails; c keeps what was
 * not moved.
 */
static churn_status take_values(ccol *c, size_t nrows, ch_column *col)
{
	size_t nb = nrows ? nrows : 1;
	if (c->st == ST_NUM) {
		col->type = CHURN_COL_NUMERIC;
		double *v = realloc(c->num, nb * sizeof(double));
		col->num = v ? v : c->num;
		c->num = NULL;
		free(c->side);
		c->side = NULL;
	} else if (c->st == ST_CAT) {
		col->type = CHURN_COL_CATEGORICAL;
		int32_t *v = realloc(c->codes, nb * sizeof(int32_t));
		col->codes = v ? v : c->codes;
		c->codes = NULL;
		col->levels = c->lev ? c->lev : malloc(sizeof(char *));
		if (!col->levels) {
			free(col->codes);
			return ch_csv_nomem();
		}
		col->nlevels = c->nlev;
		c->lev = NULL;
		c->nlev = 0;
		free(c->tab);
		free(c->keys);
		c->tab = NULL;
		c->keys = NULL;
	} else {
		col->type = CHURN_COL_TEXT;
		uint64_t *v = realloc(c->off, nb * sizeof(uint64_t));
		col->off = v ? v : c->off;
		c->off = NULL;
		char *a = c->arena ? realloc(c->arena, c->arena_len ? c->arena_len : 1) : malloc(1);
		col->arena = a ? a : c->arena;
		col->arena_len = c->arena_len;
		c->arena = NULL;
		if (!col->arena) {
			free(col->off);
			return ch_csv_nomem();
		}
	}
	return CHURN_OK;
}

churn_status ch_csv_finish(rd *r, churn_dataset **out)
{
	churn_dataset *ds = NULL;
	churn_status st = check_finite(r);
	if (st || (st = churn_dataset_new(&ds)))
		return st;
	for (size_t j = 0; j < r->ncols; j++) {
		ccol *c = &r->cols[j];
		ch_column col = {0};
		if ((st = take_values(c, r->nrows, &col)))
			goto fail;
		col.n_missing = c->nmiss;
		col.name = c->name;
		c->name = NULL;
		if ((col.type == CHURN_COL_CATEGORICAL && (st = sort_levels(&col, r->nrows))) ||
		    (st = ch_dataset_take_column(ds, &col, r->nrows))) {
			ch_column_clear(&col);
			goto fail;
		}
	}
	if (!(ds->source = ch_strdup(r->name))) {
		st = ch_csv_nomem();
		goto fail;
	}
	ds->lines = r->lines;
	ds->nlines = r->nlines;
	r->lines = NULL;
	r->nlines = 0;
	*out = ds;
	return CHURN_OK;
fail:
	churn_dataset_free(ds);
	return st;
}
