/*
 * JSON text of a cJSON tree (ch_json_print), in cJSON's own layouts.
 *
 * cJSON prints each number with sprintf("%1.15g"), reads it back with
 * sscanf and prints it again with "%1.17g" when that changed it: most of the
 * time of writing a report full of fractions. Here numbers go through
 * ch_format_double_short() (dtoa.c: the shortest of %.15g..%.17g that reads
 * back, mostly without printf); integers print as integers; non-finite
 * numbers as null, as cJSON does. Raw items are copied as they are.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"

struct out {
	char *p;
	size_t n, cap;
	bool oom;
};

static bool reserve(struct out *o, size_t more)
{
	if (o->oom)
		return false;
	if (o->n + more + 1 <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 256;
	while (cap < o->n + more + 1)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (!p) {
		o->oom = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (reserve(o, n)) {
		memcpy(o->p + o->n, s, n);
		o->n += n;
	}
}

static void putc1(struct out *o, char c)
{
	if (reserve(o, 1))
		o->p[o->n++] = c;
}

static void put_tabs(struct out *o, size_t depth)
{
	for (size_t i = 0; i < depth; i++)
		putc1(o, '\t');
}

static void put_string(struct out *o, const char *s)
{
	putc1(o, '"');
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		const char *esc = NULL;
		switch (*c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc) {
			put(o, esc, 2);
		} else if (*c < 0x20) {
			char u[8];
			snprintf(u, sizeof u, "\\u%04x", *c);
			put(o, u, 6);
		} else {
			putc1(o, (char)*c);
		}
	}
	putc1(o, '"');
}

static void put_number(struct out *o, double d)
{
	char b[40];
	if (!isfinite(d)) {
		put(o, "null", 4);
		return;
	}
	if (d == 0) {
		putc1(o, '0'); /* cJSON prints -0 as 0 too */
		return;
	}
	if (fabs(d) < 1e15 && d == floor(d)) {
		/* an integer: its digits, as %.15g would print them */
		uint64_t u = (uint64_t)fabs(d);
		char *e = b + sizeof b, *q = e;
		do
			*--q = (char)('0' + u % 10);
		while (u /= 10);
		if (d < 0)
			*--q = '-';
		put(o, q, (size_t)(e - q));
		return;
	}
	ch_format_double_short(b, sizeof b, d);
	put(o, b, strlen(b));
}

static void put_value(struct out *o, const cJSON *it, bool fmt, size_t depth)
{
	switch (it->type & 0xff) {
	case cJSON_NULL: put(o, "null", 4); break;
	case cJSON_False: put(o, "false", 5); break;
	case cJSON_True: put(o, "true", 4); break;
	case cJSON_Number: put_number(o, it->valuedouble); break;
	case cJSON_Raw:
		if (it->valuestring)
			put(o, it->valuestring, strlen(it->valuestring));
		else
			o->oom = true; /* as cJSON: a raw item without text cannot print */
		break;
	case cJSON_String: put_string(o, it->valuestring); break;
	case cJSON_Array:
		putc1(o, '[');
		for (const cJSON *c = it->child; c; c = c->next) {
			put_value(o, c, fmt, depth + 1);
			if (c->next)
				put(o, ", ", fmt ? 2 : 1);
		}
		putc1(o, ']');
		break;
	case cJSON_Object:
		putc1(o, '{');
		if (fmt)
			putc1(o, '\n');
		for (const cJSON *c = it->child; c; c = c->next) {
			if (fmt)
				put_tabs(o, depth + 1);
			put_string(o, c->string);
			put(o, ":\t", fmt ? 2 : 1);
			put_value(o, c, fmt, depth + 1);
			if (c->next)
				putc1(o, ',');
			if (fmt)
				putc1(o, '\n');
		}
		if (fmt)
			put_tabs(o, depth);
		putc1(o, '}');
		break;
	default: o->oom = true; break; /* cJSON_Invalid */
	}
}

char *ch_json_print(const cJSON *item, bool formatted)
{
	if (!item)
		return NULL;
	struct out o = {0};
	put_value(&o, item, formatted, 0);
	if (o.oom || !reserve(&o, 0)) {
		free(o.p);
		return NULL;
	}
	o.p[o.n] = '\0';
	return o.p;
}
