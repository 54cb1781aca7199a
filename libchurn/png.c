/*
 * Fast PNG encoder for charts: see png-private.h.
 *
 * Format references: PNG (ISO/IEC 15948, W3C REC-PNG), zlib (RFC 1950),
 * deflate (RFC 1951, section 3.2.6 for the fixed Huffman code).
 */
#include "png-private.h"

#include <stdlib.h>
#include <string.h>

#include "core-private.h"

/* ---- bit writer (LSB first, as deflate) ---- */

typedef struct bitw {
	uint8_t *p;
	size_t n, cap;
	uint64_t acc;
	int nb;
	bool oom;
} bitw;

static void bw_drain(bitw *b)
{
	if (b->oom)
		return;
	if (b->n + 16 > b->cap) {
		size_t nc = b->cap + b->cap / 2 + 4096;
		uint8_t *q = realloc(b->p, nc);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = nc;
	}
	while (b->nb >= 8) {
		b->p[b->n++] = (uint8_t)b->acc;
		b->acc >>= 8;
		b->nb -= 8;
	}
}

/* n <= 32 bits; the accumulator holds < 32 bits between calls. */
static inline void bw_put(bitw *b, uint32_t v, int n)
{
	b->acc |= (uint64_t)v << b->nb;
	b->nb += n;
	if (b->nb >= 32) {
		bw_drain(b);
		if (b->oom) { /* keep going without writing; the caller checks oom */
			b->acc = 0;
			b->nb = 0;
		}
	}
}

/* Append bytes at a byte boundary (outside the deflate bit stream, or after its padding). */
static void out_bytes(bitw *b, const void *p, size_t n)
{
	bw_drain(b);
	if (b->oom)
		return;
	if (b->n + n + 16 > b->cap) {
		size_t nc = b->n + n + b->cap / 2 + 4096;
		uint8_t *q = realloc(b->p, nc);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = nc;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* ---- fixed Huffman code tables (built per call: no global state) ---- */

typedef struct codes {
	uint16_t lit[257];     /* bit-reversed literal codes 0..255 and end of block */
	uint8_t lit_n[257];
	uint32_t len[259];     /* length 3..258: code + extra bits */
	uint8_t len_n[259];
	uint32_t up, left;     /* distance codes + extra of "row above" and "pixel left" */
	uint8_t up_n, left_n;
} codes;

static uint32_t bitrev(uint32_t c, int n)
{
	uint32_t r = 0;
	for (int i = 0; i < n; i++, c >>= 1)
		r = (r << 1) | (c & 1);
	return r;
}

static void fixed_code(int s, uint32_t *code, int *n)
{
	if (s < 144) {
		*code = bitrev(0x30 + (uint32_t)s, 8);
		*n = 8;
	} else if (s < 256) {
		*code = bitrev(0x190 + (uint32_t)(s - 144), 9);
		*n = 9;
	} else if (s < 280) {
		*code = bitrev((uint32_t)(s - 256), 7);
		*n = 7;
	} else {
		*code = bitrev(0xC0 + (uint32_t)(s - 280), 8);
		*n = 8;
	}
}

static void dist_code(uint32_t d, uint32_t *bits, uint8_t *nbits)
{
	static const uint16_t base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
	                                  33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
	                                  1025, 1537, 2049, 3073, 4097, 6145,  8193,  12289, 16385, 24577};
	static const uint8_t extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
	                                  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
	int k = 29;
	while (base[k] > d)
		k--;
	*bits = bitrev((uint32_t)k, 5) | ((d - base[k]) << 5);
	*nbits = (uint8_t)(5 + extra[k]);
}

static void build_codes(codes *c, uint32_t row_dist)
{
	static const uint16_t base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
	                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
	static const uint8_t extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
	                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
	for (int s = 0; s < 257; s++) {
		uint32_t code;
		int n;
		fixed_code(s, &code, &n);
		c->lit[s] = (uint16_t)code;
		c->lit_n[s] = (uint8_t)n;
	}
	for (int L = 3; L <= 258; L++) {
		int k = L == 258 ? 28 : 27;
		while (base[k] > L)
			k--;
		uint32_t code;
		int n;
		fixed_code(257 + k, &code, &n);
		c->len[L] = code | ((uint32_t)(L - base[k]) << n);
		c->len_n[L] = (uint8_t)(n + extra[k]);
	}
	dist_code(row_dist, &c->up, &c->up_n);
	dist_code(3, &c->left, &c->left_n);
}

static inline void put_match(bitw *b, const codes *c, size_t len, uint32_t dbits, int dn)
{
	while (len) {
		size_t l = len > 258 ? 258 : len;
		if (len > 258 && len - 258 < 3)
			l = len - 3;
		bw_put(b, c->len[l], c->len_n[l]);
		bw_put(b, dbits, dn);
		len -= l;
	}
}

/* Length of the common prefix of a and b (n bytes at most). */
static inline size_t common(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i + 8 <= n) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + ((size_t)__builtin_ctzll(x ^ y) >> 3); /* little-endian load order */
		i += 8;
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* ---- checksums ---- */

static uint32_t adler32(uint32_t adler, const uint8_t *p, size_t n)
{
	uint32_t a = adler & 0xffff, s = adler >> 16;
	while (n) {
		size_t k = n < 5552 ? n : 5552; /* no 32-bit overflow before the modulo */
		n -= k;
		while (k >= 8) {
			a += p[0];
			s += a;
			a += p[1];
			s += a;
			a += p[2];
			s += a;
			a += p[3];
			s += a;
			a += p[4];
			s += a;
			a += p[5];
			s += a;
			a += p[6];
			s += a;
			a += p[7];
			s += a;
			p += 8;
			k -= 8;
		}
		while (k--) {
			a += *p++;
			s += a;
		}
		a %= 65521;
		s %= 65521;
	}
	return (s << 16) | a;
}

uint32_t ch_png_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	uint32_t t[16];
	for (uint32_t i = 0; i < 16; i++) {
		uint32_t c = i;
		for (int k = 0; k < 4; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return ~crc;
}

/* ---- PNG ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Append a chunk header; the caller appends the data, then chunk_end(). Returns where the type starts. */
static size_t chunk_begin(bitw *b, const char *type, uint32_t len)
{
	uint8_t h[8];
	put_be32(h, len);
	memcpy(h + 4, type, 4);
	out_bytes(b, h, 8);
	return b->n - 4;
}

/* CRC of type + data, from type_at to the end. */
static void chunk_end(bitw *b, size_t type_at)
{
	bw_drain(b);
	if (b->oom)
		return;
	uint8_t c[4];
	put_be32(c, ch_png_crc32(0, b->p + type_at, b->n - type_at));
	out_bytes(b, c, 4);
}

churn_status ch_png_encode_rgb(const uint8_t *rgb, size_t w, size_t h, size_t stride, uint8_t **out,
                               size_t *out_n)
{
	if (!rgb || !out || !out_n || !w || !h || w > 10000 || h > 100000 || stride < 3 * w)
		return ch_fail(CHURN_E_INVALID_ARG, "png: bad image (%zu x %zu)", w, h);
	size_t rowb = 3 * w;
	codes c;
	build_codes(&c, (uint32_t)rowb + 1);
	bitw b = {0};
	b.cap = rowb * h / 10 + 8192;
	if (!(b.p = malloc(b.cap)))
		return ch_fail(CHURN_E_NOMEM, "png: out of memory");
	static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
	out_bytes(&b, sig, 8);
	/* IHDR: width, height, depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace */
	uint8_t ihdr[13] = {0};
	put_be32(ihdr, (uint32_t)w);
	put_be32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;
	ihdr[9] = 2;
	size_t at = chunk_begin(&b, "IHDR", 13);
	out_bytes(&b, ihdr, 13);
	chunk_end(&b, at);
	/* IDAT: one chunk, its length patched in at the end */
	size_t idat_at = chunk_begin(&b, "IDAT", 0);
	static const uint8_t zhdr[2] = {0x78, 0x01}; /* deflate, 32 KiB window, fastest; 0x7801 % 31 == 0 */
	out_bytes(&b, zhdr, 2);
	bw_put(&b, 1, 1);  /* BFINAL */
	bw_put(&b, 1, 2);  /* BTYPE 01: fixed Huffman */
	uint32_t adler = 1;
	static const uint8_t zero = 0;
	for (size_t y = 0; y < h && !b.oom; y++) {
		const uint8_t *cur = rgb + y * stride, *prev = y ? cur - stride : NULL;
		adler = adler32(adler, &zero, 1);
		adler = adler32(adler, cur, rowb);
		if (prev && memcmp(cur, prev, rowb) == 0) {
			/* the filter byte and the whole row, one row back */
			put_match(&b, &c, rowb + 1, c.up, c.up_n);
			continue;
		}
		bw_put(&b, c.lit[0], c.lit_n[0]); /* filter type 0 */
		size_t i = 0;
		while (i < rowb) {
			size_t up = prev ? common(cur + i, prev + i, rowb - i) : 0;
			size_t left = i >= 3 ? common(cur + i, cur + i - 3, rowb - i) : 0;
			if (up >= 3 && up >= left) {
				put_match(&b, &c, up, c.up, c.up_n);
				i += up;
			} else if (left >= 3) {
				put_match(&b, &c, left, c.left, c.left_n);
				i += left;
			} else {
				bw_put(&b, c.lit[cur[i]], c.lit_n[cur[i]]);
				i++;
			}
		}
	}
	bw_put(&b, c.lit[256], c.lit_n[256]);
	bw_drain(&b);
	if (b.nb > 0) { /* pad the last partial byte */
		bw_put(&b, 0, 8 - b.nb);
		bw_drain(&b);
	}
	uint8_t ad[4];
	put_be32(ad, adler);
	out_bytes(&b, ad, 4);
	if (!b.oom) {
		put_be32(b.p + idat_at - 4, (uint32_t)(b.n - idat_at - 4));
		chunk_end(&b, idat_at);
		chunk_end(&b, chunk_begin(&b, "IEND", 0));
	}
	if (b.oom) {
		free(b.p);
		return ch_fail(CHURN_E_NOMEM, "png: out of memory (%zu x %zu image)", w, h);
	}
	*out = b.p;
	*out_n = b.n;
	return CHURN_OK;
}
