/* The growable text buffer and its writers (buf-private.h). */
#include "buf-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"

bool ch_buf_reserve(ch_buf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->n + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->n + more + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

void ch_buf_put(ch_buf *b, const char *s, size_t n)
{
	if (!ch_buf_reserve(b, n))
		return;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void ch_buf_puts(ch_buf *b, const char *s)
{
	ch_buf_put(b, s, strlen(s));
}

void ch_buf_putc(ch_buf *b, char c)
{
	ch_buf_put(b, &c, 1);
}

void ch_buf_num(ch_buf *b, double v, const char *nonfinite)
{
	if (!isfinite(v)) {
		ch_buf_puts(b, nonfinite);
		return;
	}
	char t[40];
	ch_format_double_short(t, sizeof(t), v);
	ch_buf_puts(b, t);
}

void ch_buf_json_str(ch_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	if (!ch_buf_reserve(b, n * 6 + 2))
		return;
	char *o = b->p + b->n;
	*o++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = '\0';
	b->n = (size_t)(o - b->p);
}

void ch_buf_free(ch_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *ch_buf_take(ch_buf *b)
{
	char *p = b->oom ? NULL : b->p;
	if (b->oom)
		free(b->p);
	else if (!p && (p = malloc(1)))
		p[0] = '\0';
	memset(b, 0, sizeof(*b));
	return p;
}

bool ch_csv_needs_quotes(const char *s, bool first)
{
	size_t n = strlen(s);
	if (n == 0)
		return false;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return true; /* readers trim unquoted white space */
	if (first && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		return true; /* else a reader would take it for a byte order mark */
	return strpbrk(s, ",\"\r\n") != NULL;
}

void ch_csv_field(ch_buf *b, const char *s)
{
	if (!ch_csv_needs_quotes(s, false)) {
		ch_buf_puts(b, s);
		return;
	}
	ch_buf_putc(b, '"');
	for (const char *q = s; *q; q++) {
		if (*q == '"')
			ch_buf_putc(b, '"');
		ch_buf_putc(b, *q);
	}
	ch_buf_putc(b, '"');
}

void ch_csv_field_file(FILE *f, const char *s)
{
	if (!ch_csv_needs_quotes(s, false)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
