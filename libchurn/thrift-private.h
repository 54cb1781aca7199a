/*
 * A Thrift compact-protocol encoder into a growable byte buffer: just what
 * the Parquet footer and page headers need (i16/i32/i64, binary, bool,
 * nested structs, lists). Internal (ch_ prefix, never exported).
 *
 * Usage: ch_thrift_init(); then field_* calls for the top-level struct, with
 * field_struct_begin()/struct_end() around nested structs and
 * field_list_begin() followed by that many elem_* calls (elem_struct_begin()
 * ... struct_end() for lists of structs); finish with struct_end() for the
 * top level. Out of memory is sticky: check ch_tbuf.oom at the end.
 */
#ifndef CH_THRIFT_PRIVATE_H
#define CH_THRIFT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer; oom set (and further appends ignored) on failure. */
typedef struct ch_tbuf {
	uint8_t *p;
	size_t n, cap;
	bool oom;
} ch_tbuf;

void ch_tbuf_free(ch_tbuf *b);
/* Make room for extra bytes; false (and oom set) on failure. */
bool ch_tbuf_reserve(ch_tbuf *b, size_t extra);
void ch_tbuf_append(ch_tbuf *b, const void *p, size_t n);
void ch_tbuf_u8(ch_tbuf *b, uint8_t v);
void ch_tbuf_u32le(ch_tbuf *b, uint32_t v);
void ch_tbuf_uvarint(ch_tbuf *b, uint64_t v);

/* Compact-protocol element types. */
enum {
	CH_TT_BOOL_TRUE = 1,
	CH_TT_BOOL_FALSE = 2,
	CH_TT_BYTE = 3,
	CH_TT_I16 = 4,
	CH_TT_I32 = 5,
	CH_TT_I64 = 6,
	CH_TT_DOUBLE = 7,
	CH_TT_BINARY = 8,
	CH_TT_LIST = 9,
	CH_TT_SET = 10,
	CH_TT_MAP = 11,
	CH_TT_STRUCT = 12
};

#define CH_THRIFT_MAX_DEPTH 16

typedef struct ch_thrift {
	ch_tbuf *b;
	int depth;
	int16_t last[CH_THRIFT_MAX_DEPTH];
	bool overflow; /* nesting deeper than CH_THRIFT_MAX_DEPTH (a bug) */
} ch_thrift;

void ch_thrift_init(ch_thrift *t, ch_tbuf *b);

void ch_thrift_field_bool(ch_thrift *t, int16_t id, bool v);
void ch_thrift_field_i16(ch_thrift *t, int16_t id, int16_t v);
void ch_thrift_field_i32(ch_thrift *t, int16_t id, int32_t v);
void ch_thrift_field_i64(ch_thrift *t, int16_t id, int64_t v);
void ch_thrift_field_binary(ch_thrift *t, int16_t id, const void *p, size_t n);
void ch_thrift_field_string(ch_thrift *t, int16_t id, const char *s);
/* Field header of a nested struct; write its fields, then ch_thrift_struct_end(). */
void ch_thrift_field_struct_begin(ch_thrift *t, int16_t id);
/* Write the stop byte of the current struct and return to its parent. */
void ch_thrift_struct_end(ch_thrift *t);
/* Field header and list header; then exactly n elem_* calls of elem_type. */
void ch_thrift_field_list_begin(ch_thrift *t, int16_t id, int elem_type, size_t n);

void ch_thrift_elem_i32(ch_thrift *t, int32_t v);
void ch_thrift_elem_binary(ch_thrift *t, const void *p, size_t n);
void ch_thrift_elem_string(ch_thrift *t, const char *s);
/* A struct element of a list; end it with ch_thrift_struct_end(). */
void ch_thrift_elem_struct_begin(ch_thrift *t);

#endif
