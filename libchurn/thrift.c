/* Thrift compact-protocol encoder (see thrift-private.h). */
#include "thrift-private.h"

#include <stdlib.h>
#include <string.h>

void ch_tbuf_free(ch_tbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

bool ch_tbuf_reserve(ch_tbuf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra <= b->cap - b->n)
		return true;
	if (extra > SIZE_MAX / 2 - b->n) {
		b->oom = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->n < extra)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void ch_tbuf_append(ch_tbuf *b, const void *p, size_t n)
{
	if (!n || !ch_tbuf_reserve(b, n))
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

void ch_tbuf_u8(ch_tbuf *b, uint8_t v)
{
	if (!ch_tbuf_reserve(b, 1))
		return;
	b->p[b->n++] = v;
}

void ch_tbuf_u32le(ch_tbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	ch_tbuf_append(b, x, 4);
}

void ch_tbuf_uvarint(ch_tbuf *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;
	while (v >= 0x80) {
		x[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (uint8_t)v;
	ch_tbuf_append(b, x, n);
}

static uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void ch_thrift_init(ch_thrift *t, ch_tbuf *b)
{
	memset(t, 0, sizeof(*t));
	t->b = b;
}

static void field_header(ch_thrift *t, int16_t id, int type)
{
	int16_t last = t->last[t->depth];
	int delta = (int)id - (int)last;
	if (delta > 0 && delta <= 15) {
		ch_tbuf_u8(t->b, (uint8_t)((delta << 4) | type));
	} else {
		ch_tbuf_u8(t->b, (uint8_t)type);
		ch_tbuf_uvarint(t->b, zigzag64(id));
	}
	t->last[t->depth] = id;
}

static void push(ch_thrift *t)
{
	if (t->depth + 1 >= CH_THRIFT_MAX_DEPTH) {
		t->overflow = true;
		t->b->oom = true;
		return;
	}
	t->last[++t->depth] = 0;
}

void ch_thrift_field_bool(ch_thrift *t, int16_t id, bool v)
{
	field_header(t, id, v ? CH_TT_BOOL_TRUE : CH_TT_BOOL_FALSE);
}

void ch_thrift_field_i16(ch_thrift *t, int16_t id, int16_t v)
{
	field_header(t, id, CH_TT_I16);
	ch_tbuf_uvarint(t->b, zigzag64(v));
}

void ch_thrift_field_i32(ch_thrift *t, int16_t id, int32_t v)
{
	field_header(t, id, CH_TT_I32);
	ch_tbuf_uvarint(t->b, zigzag64(v));
}

void ch_thrift_field_i64(ch_thrift *t, int16_t id, int64_t v)
{
	field_header(t, id, CH_TT_I64);
	ch_tbuf_uvarint(t->b, zigzag64(v));
}

void ch_thrift_field_binary(ch_thrift *t, int16_t id, const void *p, size_t n)
{
	field_header(t, id, CH_TT_BINARY);
	ch_thrift_elem_binary(t, p, n);
}

void ch_thrift_field_string(ch_thrift *t, int16_t id, const char *s)
{
	ch_thrift_field_binary(t, id, s, strlen(s));
}

void ch_thrift_field_struct_begin(ch_thrift *t, int16_t id)
{
	field_header(t, id, CH_TT_STRUCT);
	push(t);
}

void ch_thrift_struct_end(ch_thrift *t)
{
	ch_tbuf_u8(t->b, 0);
	if (t->depth > 0)
		t->depth--;
}

void ch_thrift_field_list_begin(ch_thrift *t, int16_t id, int elem_type, size_t n)
{
	field_header(t, id, CH_TT_LIST);
	if (n < 15) {
		ch_tbuf_u8(t->b, (uint8_t)((n << 4) | (size_t)elem_type));
	} else {
		ch_tbuf_u8(t->b, (uint8_t)(0xF0 | elem_type));
		ch_tbuf_uvarint(t->b, n);
	}
}

void ch_thrift_elem_i32(ch_thrift *t, int32_t v)
{
	ch_tbuf_uvarint(t->b, zigzag64(v));
}

void ch_thrift_elem_binary(ch_thrift *t, const void *p, size_t n)
{
	ch_tbuf_uvarint(t->b, n);
	ch_tbuf_append(t->b, p, n);
}

void ch_thrift_elem_string(ch_thrift *t, const char *s)
{
	ch_thrift_elem_binary(t, s, strlen(s));
}

void ch_thrift_elem_struct_begin(ch_thrift *t)
{
	push(t);
}
