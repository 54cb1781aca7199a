/*
 * Shortest round-trip text of a double without printf (ch_dtoa_short).
 *
 * The contract is ch_format_double_short()'s: the first of "%.15g",
 * "%.16g", "%.17g" that reads back to the same double. Here the value is
 * scaled by a power of ten from a 128-bit table (pow10-table.h, made by
 * scripts/gen-pow10.py) into N = v * 10^s in [10^16, 10^17) as a fixed-point
 * number with 64 fraction bits, together with half the gap to each
 * neighbouring double on the same scale. For P = 15, 16, 17 the correctly
 * rounded P-digit decimal reads back to v exactly when its distance to N is
 * below the half gap on its side. Both the rounding and that comparison are
 * decided with a margin thousands of times the arithmetic's error; closer
 * calls, zeros, subnormals, infinities and NaNs return false and the caller
 * takes the printf road, so the text is always printf's.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core-private.h"
#include "pow10-table.h"

typedef unsigned __int128 u128;

/* m * 2^e * 10^s as fixed point with 64 fraction bits (truncated), and 2^(e-1) * 10^s likewise. */
static bool scale(uint64_t m, int e, int s, u128 *n, u128 *h)
{
	if (s < POW10_MIN || s > POW10_MAX)
		return false;
	const struct pow10_entry *p = &pow10_table[s - POW10_MIN];
	u128 t = ((u128)p->hi << 64) | p->lo;
	u128 a = (u128)m * p->lo, b = (u128)m * p->hi;
	u128 mid = (a >> 64) + (uint64_t)b;
	uint64_t w0 = (uint64_t)a;
	u128 top = ((u128)((uint64_t)(b >> 64) + (uint64_t)(mid >> 64)) << 64) | (uint64_t)mid; /* product >> 64 */
	int r = -(e + p->b + 64); /* the fixed-point value is product >> r */
	if (r <= 0 || r >= 127)
		return false;
	if (r >= 64) {
		*n = top >> (r - 64);
	} else {
		if (top >> (64 + r))
			return false;
		*n = (top << (64 - r)) | (w0 >> r);
	}
	*h = t >> (r + 1);
	return true;
}

/* Lay out the P-digit decimal q * 10^(x - P + 1) as printf's %.<P>g does. */
static void emit(uint64_t q, int P, int x, bool neg, char *buf)
{
	char d[20];
	for (int i = P - 1; i >= 0; i--, q /= 10)
		d[i] = (char)('0' + q % 10);
	int nd = P;
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	char *o = buf;
	if (neg)
		*o++ = '-';
	if (x < -4 || x >= P) {
		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		int ax = x < 0 ? -x : x;
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	} else if (x >= 0) {
		for (int i = 0; i <= x; i++)
			*o++ = i < nd ? d[i] : '0';
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, d + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -x - 1; i++)
			*o++ = '0';
		memcpy(o, d, (size_t)nd);
		o += nd;
	}
	*o = '\0';
}

bool ch_dtoa_short(double v, char *buf, size_t cap)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	int be = (int)(bits >> 52 & 0x7ff);
	uint64_t frac = bits & (((uint64_t)1 << 52) - 1);
	if (be == 0 || be == 0x7ff || cap < 32)
		return false;
	uint64_t m = frac | (uint64_t)1 << 52;
	int e = be - 1075;
	int s = 16 - (int)floor(log10(fabs(v)));
	u128 n = 0, h = 0;
	uint64_t I = 0;
	for (int tries = 0;; tries++) {
		if (tries > 2 || !scale(m, e, s, &n, &h))
			return false;
		I = (uint64_t)(n >> 64);
		if (I < UINT64_C(10000000000000000))
			s++;
		else if (I >= UINT64_C(100000000000000000))
			s--;
		else
			break;
	}
	/* below a power of two the gap to the next smaller double is half as wide */
	u128 hlow = frac == 0 && be > 1 ? h >> 1 : h;
	const u128 eps = (u128)1 << 16; /* in 2^-64 units of N; the error is below 2^2 */
	uint64_t F = (uint64_t)n, unit = 100;
	for (int P = 15; P <= 17; P++, unit /= 10) {
		u128 rem = ((u128)(I % unit) << 64) | F, full = (u128)unit << 64, half = full >> 1;
		if (rem + eps > half && rem < half + eps)
			return false; /* near a decimal tie */
		bool up = rem > half;
		u128 dist = up ? full - rem : rem, lim = up ? h : hlow;
		if (dist + eps > lim && dist < lim + eps)
			return false; /* near the edge of v's rounding interval */
		if (dist < lim) {
			uint64_t q = I / unit + up;
			int x = 16 - s;
			if (q == UINT64_C(1000000000000000) * (100 / unit)) { /* rounded up to 10^P */
				q /= 10;
				x++;
			}
			emit(q, P, x, bits >> 63, buf);
			return true;
		}
	}
	return false;
}
