/* CSV writer: churn_csv_write and its file and buffer forms (see churn/csv.h). */
#include "churn/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf-private.h"
#include "core-private.h"
#include "dataset-private.h"

static churn_status nomem(void)
{
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

typedef struct wr {
	churn_write_fn fn;
	void *ud;
	char buf[65536];
	size_t n;
	bool failed;
} wr;

static void w_flush(wr *w)
{
	if (w->n && !w->failed && w->fn(w->ud, w->buf, w->n) != w->n)
		w->failed = true;
	w->n = 0;
}

static void w_put(wr *w, const char *s, size_t n)
{
	while (n) {
		if (w->n == sizeof(w->buf))
			w_flush(w);
		size_t k = sizeof(w->buf) - w->n;
		if (k > n)
			k = n;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		n -= k;
	}
}

static inline void w_ch(wr *w, char c)
{
	if (w->n == sizeof(w->buf))
		w_flush(w);
	w->buf[w->n++] = c;
}

static void w_field(wr *w, const char *s, bool first)
{
	size_t n = strlen(s);
	if (!ch_csv_needs_quotes(s, first)) { /* the one quoting rule (buf.c) */
		w_put(w, s, n);
		return;
	}
	w_ch(w, '"');
	for (const char *e; (e = strchr(s, '"')); s = e + 1) {
		w_put(w, s, (size_t)(e - s) + 1);
		w_ch(w, '"');
	}
	w_put(w, s, strlen(s));
	w_ch(w, '"');
}

static void w_number(wr *w, double v)
{
	char b[40];
	if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
		int64_t x = (int64_t)v;
		uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
		char *e = b + sizeof b, *p = e;
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (x < 0)
			*--p = '-';
		w_put(w, p, (size_t)(e - p));
		return;
	}
	ch_format_double_short(b, sizeof b, v);
	w_put(w, b, strlen(b));
}

churn_status churn_csv_write(const churn_dataset *ds, churn_write_fn fn, void *userdata)
{
	if (!ds || !fn)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write: NULL argument");
	wr *w = malloc(sizeof(*w));
	if (!w)
		return nomem();
	w->fn = fn;
	w->ud = userdata;
	w->n = 0;
	w->failed = false;
	for (size_t j = 0; j < ds->ncols; j++) {
		if (j)
			w_ch(w, ',');
		w_field(w, ds->cols[j].name, j == 0);
	}
	w_ch(w, '\n');
	for (size_t i = 0; i < ds->nrows && !w->failed; i++) {
		for (size_t j = 0; j < ds->ncols; j++) {
			const ch_column *c = &ds->cols[j];
			if (j)
				w_ch(w, ',');
			switch (c->type) {
			case CHURN_COL_NUMERIC:
				if (isnan(c->num[i])) {
					if (ds->ncols == 1)
						w_put(w, "\"\"", 2);
				} else {
					w_number(w, c->num[i]);
				}
				break;
			case CHURN_COL_CATEGORICAL:
				if (c->codes[i] >= 0)
					w_field(w, c->levels[c->codes[i]], false);
				else if (ds->ncols == 1)
					w_put(w, "\"\"", 2);
				break;
			case CHURN_COL_TEXT:
				if (c->off[i] != CH_TEXT_MISSING)
					w_field(w, c->arena + c->off[i], false);
				else if (ds->ncols == 1)
					w_put(w, "\"\"", 2);
				break;
			}
		}
		w_ch(w, '\n');
	}
	w_flush(w);
	bool failed = w->failed;
	free(w);
	if (failed)
		return ch_fail(CHURN_E_IO, "CSV write failed: the output callback did not take all bytes");
	ch_clear_error();
	return CHURN_OK;
}

static size_t write_fp(void *ud, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, (FILE *)ud);
}

churn_status churn_csv_write_file(const churn_dataset *ds, const char *path)
{
	if (!ds || !path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write_file: NULL argument");
	ch_atomic a;
	churn_status st = ch_atomic_open(&a, path);
	if (st)
		return st;
	if ((st = churn_csv_write(ds, write_fp, a.fp))) {
		int e = errno;
		ch_atomic_abort(&a);
		return ch_fail(CHURN_E_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
	}
	return ch_atomic_commit(&a);
}

typedef struct membuf {
	char *b;
	size_t n, cap;
} membuf;

static size_t write_mem(void *ud, const void *buf, size_t n)
{
	membuf *m = ud;
	if (m->n + n + 1 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 65536;
		while (nc < m->n + n + 1)
			nc *= 2;
		char *nb = realloc(m->b, nc);
		if (!nb)
			return 0;
		m->b = nb;
		m->cap = nc;
	}
	memcpy(m->b + m->n, buf, n);
	m->n += n;
	return n;
}

churn_status churn_csv_write_buffer(const churn_dataset *ds, char **out, size_t *out_n)
{
	if (!ds || !out || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_write_buffer: NULL argument");
	membuf m = {0};
	churn_status st = churn_csv_write(ds, write_mem, &m);
	if (!st && !m.b && !(m.b = malloc(1)))
		st = nomem();
	if (st) {
		free(m.b);
		return st == CHURN_E_IO ? nomem() : st;
	}
	m.b[m.n] = '\0';
	*out = m.b;
	*out_n = m.n;
	return CHURN_OK;
}

