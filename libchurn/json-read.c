/*
 * Reading JSON safely: one iterative pass over the text before cJSON's
 * recursive parser sees it. The pass bounds the nesting depth (cJSON's parser,
 * printer and cJSON_Delete recurse once per level: 700 levels overflow a small
 * worker stack), checks that the bytes are UTF-8, and counts the elements of a
 * top-level array up to a cap, so that an oversized request is refused before
 * anything is built from it.
 */
#include "core-private.h"
#include "utf8-private.h"

#include <cjson/cJSON.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One pass of ch_json_scan over s[0..len): where it is and what it has counted. */
typedef struct scan {
	const unsigned char *s;
	size_t len;
	const ch_json_limits *lim;
	const char *what;
	int depth;
	bool top_array, top_value; /* a top-level array; an element of it begun since the last ',' */
	size_t count;              /* elements of the top-level array ended so far */
} scan;

/*
 * The string whose text starts at s[i] (past its opening quote); *next is
 * past its closing quote (len when unterminated: cJSON's parser says so).
 * From its first byte >= 0x80 on, its text is checked with ch_utf8_check(),
 * the library's one decoder, in one call; an invalid sequence before a NUL
 * byte is the error reported.
 */
static churn_status scan_string(const scan *sc, size_t i, size_t *next)
{
	const unsigned char *s = sc->s;
	size_t j = i, len = sc->len, high = SIZE_MAX; /* locals: a byte load may alias *sc */
#ifdef __SSE2__
	/* 16 bytes at a time up to the first quote, backslash or NUL (or the first byte >= 0x80) */
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), zero = _mm_setzero_si128();
	for (; j + 16 <= len; j += 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
		__m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, bslash)),
		                            _mm_cmpeq_epi8(b, zero));
		unsigned m = (unsigned)_mm_movemask_epi8(stop), h = (unsigned)_mm_movemask_epi8(b);
		if (h && high == SIZE_MAX && (!m || __builtin_ctz(h) < __builtin_ctz(m)))
			high = j + (size_t)__builtin_ctz(h);
		if (m) {
			j += (size_t)__builtin_ctz(m);
			break;
		}
	}
#endif
	for (; j < len; j++) {
		unsigned c = s[j];
		if (c == '"' || c == 0)
			break;
		if (c == '\\')
			j++; /* the escaped byte cannot end the string */
		else if (c >= 0x80 && high == SIZE_MAX)
			high = j;
	}
	if (j > len)
		j = len; /* a final backslash */
	if (high < j) {
		size_t bad = high + ch_utf8_check((const char *)s + high, j - high, NULL);
		if (bad < j)
			return ch_fail(CHURN_E_PARSE, "%s: byte %zu: invalid UTF-8 (0x%02x)", sc->what, bad + 1, s[bad]);
	}
	if (j < len && s[j] == 0)
		return ch_fail(CHURN_E_PARSE, "%s: byte %zu: NUL byte", sc->what, j + 1);
	*next = j < len ? j + 1 : j;
	return CHURN_OK;
}

/* A byte >= 0x80 outside a string: invalid UTF-8 when its sequence is, else not JSON. */
static churn_status scan_stray_high(const scan *sc, size_t i)
{
	size_t j = i + 1;
	while (j < sc->len && j < i + 4 && (sc->s[j] & 0xc0) == 0x80)
		j++;
	if (ch_utf8_check((const char *)sc->s + i, j - i, NULL) == 0)
		return ch_fail(CHURN_E_PARSE, "%s: byte %zu: invalid UTF-8 (0x%02x)", sc->what, i + 1, sc->s[i]);
	return ch_fail(CHURN_E_PARSE, "%s: byte %zu: not valid JSON", sc->what, i + 1);
}

/* A value starts at depth 1 of the top-level array. */
static inline void scan_value(scan *sc)
{
	if (sc->depth == 1 && sc->top_array)
		sc->top_value = true;
}

/* An element of the top-level array ended; CHURN_E_LIMIT once max_elements have been followed by a ','. */
static churn_status scan_element(scan *sc, bool comma)
{
	sc->count++;
	sc->top_value = false;
	if (comma && sc->lim->max_elements && sc->count >= sc->lim->max_elements)
		return ch_fail(CHURN_E_LIMIT, "%s: more than %zu records; at most %zu are accepted", sc->what,
		               sc->lim->max_elements, sc->lim->max_elements);
	return CHURN_OK;
}

/* One ASCII byte outside strings (not '"'): nesting, the top-level count, NUL. */
static churn_status scan_byte(scan *sc, unsigned c, size_t i)
{
	switch (c) {
	case '[':
	case '{':
		if (sc->depth == 0 && c == '[')
			sc->top_array = true;
		scan_value(sc);
		if (++sc->depth > sc->lim->max_depth)
			return ch_fail(CHURN_E_PARSE, "%s: byte %zu: JSON nested deeper than %d levels", sc->what, i + 1,
			               sc->lim->max_depth);
		return CHURN_OK;
	case ']':
	case '}':
		if (sc->depth == 1 && sc->top_array && sc->top_value)
			(void)scan_element(sc, false);
		if (sc->depth > 0)
			sc->depth--;
		return CHURN_OK;
	case ',':
		return sc->depth == 1 && sc->top_array ? scan_element(sc, true) : CHURN_OK;
	case 0:
		return ch_fail(CHURN_E_PARSE, "%s: byte %zu: NUL byte", sc->what, i + 1);
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		return CHURN_OK;
	default:
		scan_value(sc);
		return CHURN_OK;
	}
}

churn_status ch_json_scan(const char *text, size_t len, const ch_json_limits *lim, const char *what,
                          size_t *out_top_count)
{
	scan sc = {(const unsigned char *)text, len, lim, what ? what : "JSON document", 0, false, false, 0};
	churn_status st = CHURN_OK;
	for (size_t i = 0; i < len && !st;) {
		unsigned c = sc.s[i];
		if (c == '"') {
			scan_value(&sc);
			st = scan_string(&sc, i + 1, &i);
		} else if (c >= 0x80) {
			st = scan_stray_high(&sc, i);
		} else {
			st = scan_byte(&sc, c, i++);
		}
	}
	if (st)
		return st;
	if (lim->max_elements && sc.count > lim->max_elements)
		return ch_fail(CHURN_E_LIMIT, "%s: %zu records; at most %zu are accepted", sc.what, sc.count,
		               lim->max_elements);
	if (out_top_count)
		*out_top_count = sc.top_array ? sc.count : 1;
	return CHURN_OK;
}

cJSON *ch_json_parse(const char *text, size_t len, const char *what, churn_status *out_st)
{
	static const ch_json_limits doc = {CH_JSON_MAX_DEPTH, 0};
	churn_status st = ch_json_scan(text, len, &doc, what, NULL);
	cJSON *o = NULL;
	if (!st && !(o = cJSON_ParseWithLength(text, len)))
		st = ch_fail(CHURN_E_PARSE, "%s: not valid JSON", what ? what : "JSON document");
	if (out_st)
		*out_st = st;
	return o;
}

cJSON *ch_json_parse_str(const char *text, const char *what)
{
	return text ? ch_json_parse(text, strlen(text), what, NULL) : NULL;
}

churn_status ch_json_read_file(const char *dir, const char *rel, size_t max, char **out, size_t *out_n)
{
	char *path = ch_asprintf("%s/%s", dir, rel);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char *buf = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(path, max, &buf, &n);
	if (st)
		goto out;
	cJSON *o = ch_json_parse(buf, n, path, &st);
	if (!o) {
		if (!st)
			st = ch_fail(CHURN_E_PARSE, "%s: not valid JSON", path);
		free(buf);
		goto out;
	}
	cJSON_Delete(o);
	*out = buf;
	if (out_n)
		*out_n = n;
out:
	free(path);
	return st;
}
