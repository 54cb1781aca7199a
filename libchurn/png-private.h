/*
 * A small, fast PNG encoder for chart images (ch_ prefix, never exported).
 *
 * Charts are mostly flat colour: long runs of one pixel along a row and rows
 * equal to the row above, with antialiased edges and text in between. The
 * encoder writes 8-bit RGB, filter type 0 on every row, and one deflate block
 * with the fixed Huffman code whose only matches are "same as the pixel to
 * the left" (distance 3) and "same as the row above" (distance one row):
 * a greedy scan that compares 8 bytes at a time. No zlib: the Adler-32 and
 * CRC-32 checks are computed here. About 3-4 ms per 1200x800 chart (zlib at
 * level 1 takes 10-15 ms, cairo's PNG writer 33 ms); files are about twice
 * the size of zlib level 6.
 */
#ifndef CH_PNG_PRIVATE_H
#define CH_PNG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "churn/common.h"

/*
 * Encode a w x h RGB image (rows of 3*w bytes, @p stride bytes apart) as a
 * complete PNG file in a fresh malloc()ed buffer (*out, *out_n; free()).
 * CHURN_E_INVALID_ARG for an empty image or w > 10000 (a row must fit the
 * 32 KiB deflate window), CHURN_E_NOMEM.
 */
churn_status ch_png_encode_rgb(const uint8_t *rgb, size_t w, size_t h, size_t stride, uint8_t **out,
                               size_t *out_n);

/* CRC-32 (ISO-HDLC, as PNG and zlib) of n bytes, continuing from crc (0 to start). */
uint32_t ch_png_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
