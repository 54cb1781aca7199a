/*
 * ch_buf: the library's one growable text buffer, and the writers that
 * format into it: CSV fields (one quoting rule), JSON strings, shortest
 * round-trip numbers. A failed allocation sets oom and turns every later
 * call into a no-op, so a writer checks once at the end.
 */
#ifndef CHURN_BUF_PRIVATE_H
#define CHURN_BUF_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ch_buf {
	char *p;      /* NUL-terminated after every call that succeeded */
	size_t n, cap;
	bool oom;
} ch_buf;

/* Room for @p more bytes (and the NUL); false (oom set) when it cannot grow. */
bool ch_buf_reserve(ch_buf *b, size_t more);
void ch_buf_put(ch_buf *b, const char *s, size_t n);
void ch_buf_puts(ch_buf *b, const char *s);
void ch_buf_putc(ch_buf *b, char c);
/* Shortest text that reads back to @p v (ch_format_double_short); @p nonfinite for NaN and infinities. */
void ch_buf_num(ch_buf *b, double v, const char *nonfinite);
/* @p s as a JSON string, quotes included (control bytes as \u00XX). */
void ch_buf_json_str(ch_buf *b, const char *s);
/* Release the memory; the buffer is empty and usable again. */
void ch_buf_free(ch_buf *b);
/* The text (malloc'd, caller frees) and an empty buffer; NULL when oom (memory released). */
char *ch_buf_take(ch_buf *b);

/*
 * CSV fields, RFC 4180: quoted when the text holds a comma, a quote, CR or
 * LF, starts or ends with a space or tab (readers trim unquoted white
 * space), or, as the first field of a file, starts with a UTF-8 byte order
 * mark; quotes doubled. The one rule of every CSV the library writes
 * (ch_csv_field* write fields that are not first in the file).
 */
bool ch_csv_needs_quotes(const char *s, bool first);
void ch_csv_field(ch_buf *b, const char *s);
void ch_csv_field_file(FILE *f, const char *s);

#endif
