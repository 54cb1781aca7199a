/*
 * UTF-8 validation shared inside the library (the CSV reader, the JSON
 * scan before every parse, the Parquet writer): its one decoder. Strict: no overlong forms, no UTF-16 surrogates, nothing above
 * U+10FFFF (Unicode 15, table 3-7). ASCII runs are skipped 16 bytes (SSE2)
 * and 8 bytes at a time, straight to the first byte with its high bit set;
 * only there is a sequence decoded.
 */
#ifndef CH_UTF8_PRIVATE_H
#define CH_UTF8_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Why a sequence is invalid (ch_utf8_check's *why). */
enum {
	CH_UTF8_OK = 0,
	CH_UTF8_STRAY,     /* 0x80..0xbf where a character should start */
	CH_UTF8_BAD_BYTE,  /* 0xf5..0xff: never in UTF-8 */
	CH_UTF8_TRUNCATED, /* a lead byte without all its continuation bytes */
	CH_UTF8_OVERLONG,  /* 0xc0, 0xc1, 0xe0 0x80..0x9f, 0xf0 0x80..0x8f */
	CH_UTF8_SURROGATE, /* 0xed 0xa0..0xbf: U+D800..U+DFFF */
	CH_UTF8_TOO_BIG    /* 0xf4 0x90..0xbf: above U+10FFFF */
};

/* A few words on an invalid sequence, for error messages ("byte 0xe9: %s"). */
static inline const char *ch_utf8_reason(int why)
{
	switch (why) {
	case CH_UTF8_STRAY: return "continuation byte without a lead byte";
	case CH_UTF8_BAD_BYTE: return "never valid in UTF-8";
	case CH_UTF8_TRUNCATED: return "incomplete sequence";
	case CH_UTF8_OVERLONG: return "overlong encoding";
	case CH_UTF8_SURROGATE: return "encoded UTF-16 surrogate";
	case CH_UTF8_TOO_BIG: return "code point above U+10FFFF";
	default: return "valid";
	}
}

/*
 * Offset of the first byte of the first invalid sequence in s[0..n), or n
 * when all of it is valid UTF-8; *why (optional) says what is wrong. Reads
 * only s[0..n).
 */
static inline size_t ch_utf8_check(const char *str, size_t n, int *why)
{
	const unsigned char *s = (const unsigned char *)str;
	const uint64_t hi = 0x8080808080808080ull;
	size_t i = 0;
	int w = CH_UTF8_OK;
	for (;;) {
		/* skip ASCII: 16 bytes, then 8, at a time; land on the first byte with the high bit */
#ifdef __SSE2__
		for (; i + 16 <= n; i += 16) {
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
			if (m) {
				i += (size_t)__builtin_ctz(m);
				goto high;
			}
		}
#endif
		for (; i + 8 <= n; i += 8) {
			uint64_t a;
			memcpy(&a, s + i, 8);
			if (a & hi) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
				i += (size_t)__builtin_clzll(a & hi) >> 3;
#else
				i += (size_t)__builtin_ctzll(a & hi) >> 3;
#endif
				goto high;
			}
		}
		while (i < n && s[i] < 0x80)
			i++;
		if (i == n)
			break;
	high:;
		unsigned c = s[i];
		size_t len;
		unsigned lo = 0x80, up = 0xbf; /* range of the second byte */
		int bad2 = CH_UTF8_TRUNCATED;  /* what a second byte outside it (but 0x80..0xbf) means */
		if (c < 0xc2) {
			w = c < 0xc0 ? CH_UTF8_STRAY : CH_UTF8_OVERLONG;
			break;
		} else if (c < 0xe0) {
			len = 2;
		} else if (c < 0xf0) {
			len = 3;
			if (c == 0xe0) {
				lo = 0xa0;
				bad2 = CH_UTF8_OVERLONG;
			} else if (c == 0xed) {
				up = 0x9f;
				bad2 = CH_UTF8_SURROGATE;
			}
		} else if (c < 0xf5) {
			len = 4;
			if (c == 0xf0) {
				lo = 0x90;
				bad2 = CH_UTF8_OVERLONG;
			} else if (c == 0xf4) {
				up = 0x8f;
				bad2 = CH_UTF8_TOO_BIG;
			}
		} else {
			w = CH_UTF8_BAD_BYTE;
			break;
		}
		if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80) {
			w = CH_UTF8_TRUNCATED;
			break;
		}
		if (s[i + 1] < lo || s[i + 1] > up) {
			w = bad2;
			break;
		}
		size_t k = 2;
		while (k < len && i + k < n && (s[i + k] & 0xc0) == 0x80)
			k++;
		if (k < len) {
			w = CH_UTF8_TRUNCATED;
			break;
		}
		i += len;
	}
	if (why)
		*why = w;
	return w == CH_UTF8_OK ? n : i;
}

#endif
