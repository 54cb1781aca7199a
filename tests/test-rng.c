/* rng: the one seeded RNG (rng-private.h). Known first values for a seed (from
 * the published splitmix64 reference and an independent Python model of each
 * draw), bounded draws in range and unbiased enough (chi-square), streams
 * independent. The sequences are part of the outputs (splits, synthetic rows,
 * forests, GBM subsampling), so these values must never change.
 * White-box: links the internal library. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rng-private.h"
#include "test-common.h"

START_TEST(test_splitmix64_seed_0_gives_reference_values)
{
	/* Vigna's splitmix64.c from state 0 */
	uint64_t x = 0;
	ck_assert_uint_eq(ch_splitmix64(&x), UINT64_C(0xe220a8397b1dcdaf));
	ck_assert_uint_eq(ch_splitmix64(&x), UINT64_C(0x6e789e6aa1b965f4));
	ck_assert_uint_eq(ch_splitmix64(&x), UINT64_C(0x06c45d188009454f));
	x = 42;
	ck_assert_uint_eq(ch_splitmix64(&x), UINT64_C(0xbdd732262feb6e95));
}
END_TEST

START_TEST(test_rng_seed_stream_first_values_are_fixed)
{
	ch_rng r;
	ch_rng_seed(&r, 42, 0);
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x19e479e2aaa77bfb));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x5e3efe753be27527));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0xc3ed7125b780200a));
	ch_rng_seed(&r, 42, 7);
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x288439a8e1597ade));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x076f68cc322b2a29));
}
END_TEST

START_TEST(test_rng_seed_splitmix_fills_state_and_advances)
{
	/* the synthetic generator's seeding: four splitmix64 outputs, then the state goes on */
	ch_rng r;
	uint64_t x = 1;
	ch_rng_seed_splitmix(&r, &x);
	ck_assert_uint_eq(x, UINT64_C(0x78dde6e5fd29f055));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0xb3f2af6d0fc710c5));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x853b559647364cea));
	ck_assert_uint_eq(ch_rng_next(&r), UINT64_C(0x92f89756082a4514));
}
END_TEST

START_TEST(test_rng_unit_is_top_53_bits)
{
	ch_rng r;
	ch_rng_seed(&r, 42, 0);
	ck_assert_double_eq(ch_rng_unit(&r), 0.10114251884320236);
	ck_assert_double_eq(ch_rng_unit(&r), 0.3681487117972979);
	size_t out = 0; /* counted, not asserted per draw: each ck_assert writes to Check's pipe */
	for (int i = 0; i < 100000; i++) {
		double u = ch_rng_unit(&r);
		out += !(u >= 0 && u < 1);
	}
	ck_assert_uint_eq(out, 0);
}
END_TEST

START_TEST(test_bounded_draws_first_values_are_fixed)
{
	static const uint64_t want_rng[] = {1, 3, 0, 4, 2, 5, 0, 2}, want_sm[] = {3, 1, 8, 4, 0, 2, 5, 8};
	ch_rng r;
	ch_rng_seed(&r, 42, 0);
	uint64_t x = 42;
	for (size_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(ch_rng_below(&r, 10), want_rng[i]);
		ck_assert_uint_eq(ch_splitmix64_below(&x, 10), want_sm[i]);
	}
}
END_TEST

/* Chi-square of n draws over k cells against uniform; < 2k is far inside any sane tail for k >= 7. */
static double chi2(const uint64_t *count, size_t k, size_t n)
{
	double e = (double)n / (double)k, c = 0;
	for (size_t i = 0; i < k; i++)
		c += ((double)count[i] - e) * ((double)count[i] - e) / e;
	return c;
}

START_TEST(test_bounded_draws_in_range_and_uniform)
{
	static const uint64_t bounds[] = {1, 2, 7, 10, 97, 1000};
	enum { N = 200000 };
	for (size_t b = 0; b < sizeof bounds / sizeof *bounds; b++) {
		uint64_t n = bounds[b], c1[1000] = {0}, c2[1000] = {0};
		ch_rng r;
		ch_rng_seed(&r, 1234 + b, 3);
		uint64_t x = 99 + b;
		size_t out = 0;
		for (size_t i = 0; i < N; i++) {
			uint64_t v = ch_rng_below(&r, n), w = ch_splitmix64_below(&x, n);
			out += v >= n || w >= n;
			c1[v < n ? v : 0]++;
			c2[w < n ? w : 0]++;
		}
		ck_assert_uint_eq(out, 0);
		if (n >= 7) {
			ck_assert_double_lt(chi2(c1, n, N), 2.0 * (double)n);
			ck_assert_double_lt(chi2(c2, n, N), 2.0 * (double)n);
		}
	}
	/* a bound just above 2^63: plain modulo would put 2/3 of the draws in the lower half */
	uint64_t n = (UINT64_C(1) << 63) + (UINT64_C(1) << 62), low = 0, out = 0;
	ch_rng r;
	ch_rng_seed(&r, 5, 5);
	uint64_t x = 5;
	for (size_t i = 0; i < 20000; i++) {
		uint64_t v = ch_rng_below(&r, n), w = ch_splitmix64_below(&x, n);
		out += v >= n || w >= n;
		low += (v < n / 2) + (w < n / 2);
	}
	ck_assert_uint_eq(out, 0);
	ck_assert(low > 19000 && low < 21000);
}
END_TEST

START_TEST(test_rng_streams_differ_and_repeat)
{
	ch_rng a, b, c;
	ch_rng_seed(&a, 42, 1);
	ch_rng_seed(&b, 42, 2);
	ch_rng_seed(&c, 42, 1);
	int same = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t va = ch_rng_next(&a), vb = ch_rng_next(&b), vc = ch_rng_next(&c);
		same += va == vb;
		ck_assert_uint_eq(va, vc);
	}
	ck_assert_int_eq(same, 0);
}
END_TEST

static Suite *rng_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("rng");
	tcase_add_test(tc, test_splitmix64_seed_0_gives_reference_values);
	tcase_add_test(tc, test_rng_seed_stream_first_values_are_fixed);
	tcase_add_test(tc, test_rng_seed_splitmix_fills_state_and_advances);
	tcase_add_test(tc, test_rng_unit_is_top_53_bits);
	tcase_add_test(tc, test_bounded_draws_first_values_are_fixed);
	tcase_add_test(tc, test_bounded_draws_in_range_and_uniform);
	tcase_add_test(tc, test_rng_streams_differ_and_repeat);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(rng_suite());
}
