/*
 * The reference UTF-8 decoder of the tests (RFC 3629), one code point at a
 * time: the definition the CSV reader's fast check must agree with
 * (test-csv.c compares them on random input, fuzz/fuzz-csv.c on fuzzed input).
 * Header only, so that the libFuzzer harnesses (built by scripts/fuzz.sh
 * without Check or test-common.c) include the same copy.
 */
#ifndef CHURN_TEST_UTF8_REF_H
#define CHURN_TEST_UTF8_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8: no overlong forms, surrogates or code points above U+10FFFF. */
static inline bool churn_test_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t c = s[i], cp, min;
		size_t len;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

#endif
