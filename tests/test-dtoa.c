/* dtoa: ch_dtoa_short() gives printf's text ("%.15g".."%.17g", first that reads back) or declines;
 * ch_json_print() writes what cJSON reads back exactly, in cJSON's layouts.
 * White-box: links the internal library. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "test-common.h"

static void printf_road(char *buf, size_t cap, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static uint64_t rs = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* Compare on v; returns 1 when the fast path declined. */
static int check(double v)
{
	char want[64], got[64];
	printf_road(want, sizeof want, v);
	if (!ch_dtoa_short(v, got, sizeof got))
		return 1;
	ck_assert_msg(strcmp(want, got) == 0, "%a: printf %s, fast %s", v, want, got);
	return 0;
}

START_TEST(test_dtoa_matches_printf)
{
	const long n = 1200000;
	long declined = 0, tried = 0;
	for (long i = 0; i < n; i++) {
		uint64_t r = rnd();
		double v;
		switch (i % 6) {
		case 0: memcpy(&v, &r, sizeof v); break;                                  /* any bits */
		case 1: v = (double)(int64_t)(r % 2000001) / 1000.0 - 1000; break;       /* money-like */
		case 2: v = ((double)(r >> 11) * 0x1.0p-53 - 0.5) * 7; break;             /* standardized */
		case 3: v = (double)(int64_t)(r >> 1); break;                             /* big integers */
		case 4: v = ldexp((double)(r >> 11), (int)(rnd() % 2000) - 1000); break; /* every scale */
		default: v = (double)(r % 100000) * pow(10, (int)(rnd() % 600) - 300); break;
		}
		if (!isfinite(v))
			continue;
		tried++;
		declined += check(v);
		if (i % 6 == 2)
			declined += check(nextafter(v, 0)) + check(nextafter(v, 1e300)), tried += 2;
	}
	/* the fast path must carry nearly everything, or it proves nothing */
	ck_assert_msg(declined < tried / 50, "declined %ld of %ld", declined, tried);
}
END_TEST

START_TEST(test_dtoa_edge_values_match_printf_or_decline)
{
	const double v[] = {1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e15, 1e16, 1e17, 1e21, 1e22, 1e23, 123456789012345.0,
	                    1234567890123456.0, 0.0001, 0.00001, 1.5e-5, 9.999999999999999e22, DBL_MAX, -DBL_MAX,
	                    DBL_MIN, 2.2250738585072014e-308, 4.9406564584124654e-324, 0.0, -0.0, 5e-324, 1e308,
	                    1.7976931348623157e308, 0.5, 0.25, 1024, 4096.5, 99999999999999999.0, 9007199254740993.0,
	                    0.30000000000000004, 100, 1e-300, 1e300, 3.141592653589793, 2.718281828459045};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		check(v[i]);
		check(-v[i]);
		for (int k = -1; k <= 1; k += 2)
			check(nextafter(v[i], k * INFINITY));
	}
	for (int e = -1074; e <= 1023; e++) /* powers of two: the narrow gap below */
		check(ldexp(1, e)), check(ldexp(1, e) * 3), check(nextafter(ldexp(1, e), 0));
	for (int e = -300; e <= 300; e++)   /* powers of ten and their neighbours */
		check(pow(10, e)), check(nextafter(pow(10, e), 0)), check(nextafter(pow(10, e), INFINITY));
	/* declines what it must */
	char b[64];
	ck_assert(!ch_dtoa_short(0.0, b, sizeof b));
	ck_assert(!ch_dtoa_short(INFINITY, b, sizeof b));
	ck_assert(!ch_dtoa_short(NAN, b, sizeof b));
	ck_assert(!ch_dtoa_short(5e-324, b, sizeof b));
	ck_assert(!ch_dtoa_short(1.5, b, 16)); /* buffer too small for the longest text */
	/* and the public road gives printf's text whatever the fast path did */
	char want[64];
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd();
		double x;
		memcpy(&x, &r, sizeof x);
		if (!isfinite(x))
			continue;
		ch_format_double_short(b, sizeof b, x);
		printf_road(want, sizeof want, x);
		ck_assert_str_eq(b, want);
	}
}
END_TEST

/* A random tree of depth <= d; ints_only: numbers are small integers (cJSON prints those the same way). */
static cJSON *random_tree(int d, bool ints_only)
{
	static const char *strs[] = {"", "plain", "quote \" back \\ slash", "tab\tnew\nline\r\b\f", "ctl \x01\x1f",
	                             "utf-8 \xc3\xa9\xe2\x82\xac", "/slash"};
	uint64_t r = rnd();
	int kind = d <= 0 ? (int)(r % 5) : (int)(r % 7);
	double x;
	switch (kind) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateBool(r >> 8 & 1);
	case 2:
		if (ints_only)
			return cJSON_CreateNumber((double)((int64_t)(rnd() % 2000001) - 1000000));
		switch (rnd() % 4) {
		case 0: memcpy(&x, &r, sizeof x); if (!isfinite(x)) x = 0.5; break;
		case 1: x = (double)((int64_t)(rnd() >> 12) - ((int64_t)1 << 51)); break;
		case 2: x = ((double)(rnd() >> 11) * 0x1.0p-53 - 0.5) * 9; break;
		default: x = -0.0; break;
		}
		return cJSON_CreateNumber(x);
	case 3: return cJSON_CreateString(strs[rnd() % (sizeof strs / sizeof strs[0])]);
	case 4: return cJSON_CreateRaw(ints_only ? "7" : "1.2345678901234567e-300");
	case 5: {
		cJSON *a = cJSON_CreateArray();
		for (int i = (int)(rnd() % 4); i > 0; i--)
			cJSON_AddItemToArray(a, random_tree(d - 1, ints_only));
		return a;
	}
	default: {
		cJSON *o = cJSON_CreateObject();
		for (int i = (int)(rnd() % 4); i > 0; i--) {
			char key[32];
			snprintf(key, sizeof key, "k%d \"%d\"", i, (int)(rnd() % 100));
			cJSON_AddItemToObject(o, key, random_tree(d - 1, ints_only));
		}
		return o;
	}
	}
}

/* Same structure, keys, strings and number bits (cJSON_Compare allows an epsilon; this does not). */
static bool same(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff)) {
		/* a raw item reads back as what its text is */
		if ((a->type & 0xff) == cJSON_Raw && (b->type & 0xff) == cJSON_Number)
			return strtod(a->valuestring, NULL) == b->valuedouble;
		return false;
	}
	if ((a->string || b->string) && (!a->string || !b->string || strcmp(a->string, b->string)))
		return false;
	switch (a->type & 0xff) {
	case cJSON_Number: return a->valuedouble == b->valuedouble || (a->valuedouble == 0 && b->valuedouble == 0);
	case cJSON_String: return strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Array:
	case cJSON_Object: {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!same(x, y))
				return false;
		return !x && !y;
	}
	default: return true;
	}
}

START_TEST(test_json_print_random_trees_read_back_equal)
{
	for (int i = 0; i < 3000; i++) {
		cJSON *t = random_tree(4, false);
		for (int fmt = 0; fmt < 2; fmt++) {
			char *s = ch_json_print(t, fmt);
			ck_assert_ptr_nonnull(s);
			cJSON *back = cJSON_Parse(s);
			ck_assert_msg(back && same(t, back), "tree %d fmt %d: %s", i, fmt, s);
			cJSON_Delete(back);
			free(s);
		}
		cJSON_Delete(t);
	}
	/* non-finite numbers print as null, as cJSON prints them */
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(-INFINITY));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(0.1));
	char *s = ch_json_print(a, false);
	ck_assert_str_eq(s, "[null,null,0.1]");
	free(s);
	cJSON_Delete(a);
	ck_assert_ptr_null(ch_json_print(NULL, true));
}
END_TEST

START_TEST(test_json_print_layout_is_cjson)
{
	/* with integers only, the text is cJSON's own, byte for byte, formatted or not */
	for (int i = 0; i < 2000; i++) {
		cJSON *t = random_tree(5, true);
		for (int fmt = 0; fmt < 2; fmt++) {
			char *want = fmt ? cJSON_Print(t) : cJSON_PrintUnformatted(t), *got = ch_json_print(t, fmt);
			ck_assert_ptr_nonnull(got);
			ck_assert_str_eq(got, want);
			cJSON_free(want);
			free(got);
		}
		cJSON_Delete(t);
	}
}
END_TEST

static Suite *dtoa_suite(void)
{
	Suite *s = suite_create("dtoa");
	TCase *tc = tcase_create("dtoa");
	tcase_add_test(tc, test_dtoa_matches_printf);
	tcase_add_test(tc, test_dtoa_edge_values_match_printf_or_decline);
	tcase_add_test(tc, test_json_print_random_trees_read_back_equal);
	tcase_add_test(tc, test_json_print_layout_is_cjson);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(dtoa_suite());
}
