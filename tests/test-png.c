/*
 * White-box tests of the chart PNG encoder (libchurn/png.c): every image is
 * decoded again with zlib (chunk CRCs, the zlib stream and its Adler-32) and
 * compared byte for byte with the input.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core-private.h"
#include "png-private.h"
#include "test-common.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decode what ch_png_encode_rgb writes (RGB 8-bit, filter 0) and compare with the source. */
static void check_roundtrip(const uint8_t *rgb, size_t w, size_t h, size_t stride)
{
	uint8_t *png = NULL;
	size_t n = 0;
	ck_assert_int_eq(ch_png_encode_rgb(rgb, w, h, stride, &png, &n), CHURN_OK);
	static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
	ck_assert_uint_ge(n, 8 + 25 + 12 + 12);
	ck_assert_int_eq(memcmp(png, sig, 8), 0);
	uint8_t *idat = NULL;
	size_t nidat = 0, pos = 8;
	bool ihdr = false, iend = false;
	while (pos + 12 <= n) {
		uint32_t len = be32(png + pos);
		ck_assert_uint_le(pos + 12 + len, n);
		const uint8_t *type = png + pos + 4;
		uint32_t crc = (uint32_t)crc32(0, type, len + 4);
		ck_assert_uint_eq(crc, be32(png + pos + 8 + len));
		ck_assert_uint_eq(crc, ch_png_crc32(0, type, len + 4));
		if (memcmp(type, "IHDR", 4) == 0) {
			ck_assert_uint_eq(len, 13);
			ck_assert_uint_eq(be32(type + 4), w);
			ck_assert_uint_eq(be32(type + 8), h);
			ck_assert_int_eq(type[12], 8); /* depth */
			ck_assert_int_eq(type[13], 2); /* RGB */
			ihdr = true;
		} else if (memcmp(type, "IDAT", 4) == 0) {
			idat = realloc(idat, nidat + len);
			ck_assert_ptr_nonnull(idat);
			memcpy(idat + nidat, type + 4, len);
			nidat += len;
		} else if (memcmp(type, "IEND", 4) == 0) {
			iend = true;
		}
		pos += 12 + len;
	}
	ck_assert(ihdr && iend);
	ck_assert_uint_eq(pos, n);
	size_t rowb = 3 * w + 1, raw = rowb * h;
	uLongf got = (uLongf)raw + 16;
	uint8_t *dec = malloc(got);
	ck_assert_ptr_nonnull(dec);
	ck_assert_int_eq(uncompress(dec, &got, idat, (uLong)nidat), Z_OK); /* checks the Adler-32 too */
	ck_assert_uint_eq(got, raw);
	for (size_t y = 0; y < h; y++) {
		ck_assert_int_eq(dec[y * rowb], 0);
		ck_assert_msg(memcmp(dec + y * rowb + 1, rgb + y * stride, 3 * w) == 0, "row %zu differs", y);
	}
	free(dec);
	free(idat);
	free(png);
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

START_TEST(test_png_random_images_decode_back_identical)
{
	rng_state = 42;
	for (int trial = 0; trial < 400; trial++) {
		size_t w = 1 + rnd() % 70, h = 1 + rnd() % 9, stride = 3 * w + rnd() % 5;
		int mode = trial % 4;
		uint8_t *img = malloc(stride * h + 8);
		ck_assert_ptr_nonnull(img);
		for (size_t y = 0; y < h; y++)
			for (size_t i = 0; i < stride; i++) {
				uint8_t v;
				switch (mode) {
				case 0: v = (uint8_t)rnd(); break;                           /* noise: literals */
				case 1: v = rnd() % 5 ? 255 : (uint8_t)rnd(); break;         /* mostly white */
				case 2: v = (i / 3) % 7 < 4 ? 200 : 30; break;               /* flat runs */
				default: v = y % 3 == 0 ? (uint8_t)rnd() : img[i]; break;    /* repeated rows */
				}
				img[y * stride + i] = v;
			}
		check_roundtrip(img, w, h, stride);
		free(img);
	}
}
END_TEST

START_TEST(test_png_chart_like_images_decode_back_identical)
{
	/* a large mostly-white image with bars and noise: long matches split at 258 bytes */
	size_t w = 1500, h = 300, stride = 3 * w;
	uint8_t *img = malloc(stride * h);
	ck_assert_ptr_nonnull(img);
	memset(img, 255, stride * h);
	rng_state = 7;
	for (size_t y = 40; y < 200; y++)
		for (size_t x = 100; x < 1100; x++) {
			img[y * stride + 3 * x] = 0;
			img[y * stride + 3 * x + 1] = 114;
			img[y * stride + 3 * x + 2] = 178;
		}
	for (size_t k = 0; k < 5000; k++)
		img[rnd() % (stride * h)] = (uint8_t)rnd();
	check_roundtrip(img, w, h, stride);
	/* the widest image: a row is just within the 32 KiB window */
	free(img);
	w = 10000, h = 3, stride = 3 * w;
	img = calloc(stride * h, 1);
	ck_assert_ptr_nonnull(img);
	img[5] = 9;
	check_roundtrip(img, w, h, stride);
	free(img);
}
END_TEST

START_TEST(test_png_bad_sizes_refused_crc32_matches_reference)
{
	uint8_t px[3] = {1, 2, 3}, *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(ch_png_encode_rgb(px, 0, 1, 3, &out, &n), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(ch_png_encode_rgb(px, 1, 1, 2, &out, &n), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(ch_png_encode_rgb(px, 10001, 1, 30003, &out, &n), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(ch_png_encode_rgb(NULL, 1, 1, 3, &out, &n), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(ch_png_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("png");
	TCase *tc = tcase_create("io");
	tcase_add_test(tc, test_png_random_images_decode_back_identical);
	tcase_add_test(tc, test_png_chart_like_images_decode_back_identical);
	tcase_add_test(tc, test_png_bad_sizes_refused_crc32_matches_reference);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
