/*
 * The processed CSV: the ID column, the features and the target of prepared
 * rows, written as they are appended (ch_prep_csv_*: the data pipeline
 * writes it in chunks, beside the Parquet file) or all at once
 * (churn_prep_write_csv). Numbers are shortest round-trip text.
 */
#include "churn/prep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf-private.h"
#include "core-private.h"
#include "prep-private.h"

/*
 * Shortest round-trip text of v into buf (>= 40), no locale, as every number
 * the library writes: integers by a digit loop, the rest by ch_dtoa_short()
 * (15, 16 or 17 significant digits: the first that reads back). Returns the length.
 */
static size_t fmt_fast(char *buf, double v)
{
	if (v == 0) {
		buf[0] = '0';
		buf[1] = 0;
		return 1;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		long long x = (long long)v;
		char tmp[24];
		size_t n = 0;
		bool neg = x < 0;
		unsigned long long u = neg ? (unsigned long long)(-x) : (unsigned long long)x;
		do {
			tmp[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		size_t k = 0;
		if (neg)
			buf[k++] = '-';
		while (n)
			buf[k++] = tmp[--n];
		buf[k] = 0;
		return k;
	}
	if (!ch_dtoa_short(v, buf, 40))
		ch_format_double_short(buf, 40, v);
	return strlen(buf);
}

struct ch_prep_csv {
	ch_atomic a;
	char *path;
	char *line;
	size_t nc;
	bool ids, y;
};

void ch_prep_csv_free(ch_prep_csv *w)
{
	if (!w)
		return;
	ch_atomic_abort(&w->a); /* no-op after a commit */
	free(w->line);
	free(w->path);
	free(w);
}

churn_status ch_prep_csv_open(const char *path, const char *const *names, size_t nc, const char *id_name,
                              const char *target, ch_prep_csv **out)
{
	ch_prep_csv *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = ch_strdup(path)) || !(w->line = malloc((nc + 2) * 41 + 8))) {
		ch_prep_csv_free(w);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	w->nc = nc;
	w->ids = id_name != NULL;
	w->y = target != NULL;
	churn_status st = ch_atomic_open(&w->a, path);
	if (st) {
		ch_prep_csv_free(w);
		return st;
	}
	FILE *f = w->a.fp;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	bool first = true;
	if (id_name) {
		ch_csv_field_file(f, id_name);
		first = false;
	}
	for (size_t j = 0; j < nc; j++) {
		if (!first)
			fputc(',', f);
		ch_csv_field_file(f, names[j]);
		first = false;
	}
	if (target) {
		fputc(',', f);
		ch_csv_field_file(f, target);
	}
	fputc('\n', f);
	*out = w;
	return CHURN_OK;
}

churn_status ch_prep_csv_append(ch_prep_csv *w, const churn_matrix *m, const char *const *ids)
{
	size_t nr = churn_matrix_get_row_count(m), nc = w->nc;
	if (churn_matrix_get_column_count(m) != nc || (w->y && nr && !churn_matrix_get_labels(m)) || (w->ids && nr && !ids))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: rows do not match the CSV columns", w->path);
	const double *X = churn_matrix_get_data_const(m);
	const uint8_t *y = w->y ? churn_matrix_get_labels(m) : NULL;
	FILE *f = w->a.fp;
	char *line = w->line;
	for (size_t i = 0; i < nr; i++) {
		if (w->ids) {
			ch_csv_field_file(f, ids[i] ? ids[i] : "");
			if (nc || y)
				fputc(',', f);
		}
		size_t len = 0;
		const double *row = X + i * nc;
		for (size_t j = 0; j < nc; j++) {
			double v = row[j];
			if (v == 0)
				line[len++] = '0';
			else if (v == 1)
				line[len++] = '1';
			else
				len += fmt_fast(line + len, v);
			line[len++] = ',';
		}
		if (y) {
			line[len++] = (char)('0' + y[i]);
		} else if (len) {
			len--;
		}
		line[len++] = '\n';
		if (fwrite(line, 1, len, f) != len)
			break;
	}
	if (ferror(f))
		return ch_fail(CHURN_E_IO, "%s: write failed", w->path);
	return CHURN_OK;
}

churn_status ch_prep_csv_close(ch_prep_csv *w)
{
	churn_status st;
	if (ferror(w->a.fp)) {
		st = ch_fail(CHURN_E_IO, "%s: write failed", w->path);
	} else {
		st = ch_atomic_commit(&w->a);
	}
	ch_prep_csv_free(w);
	return st;
}

churn_status churn_prep_write_csv(const churn_prep *prep, const churn_matrix *m, const char *id_name,
                                  const char *const *ids, const char *path)
{
	if (!prep || !m || !path || (ids && !id_name))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_write_csv: NULL argument");
	size_t nc = churn_matrix_get_column_count(m);
	const char **names = malloc((nc ? nc : 1) * sizeof(*names));
	if (!names)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t j = 0; j < nc; j++)
		names[j] = churn_matrix_get_feature_name(m, j);
	ch_prep_csv *w = NULL;
	churn_status st = ch_prep_csv_open(path, names, nc, ids ? id_name : NULL,
	                                   churn_matrix_get_labels(m) ? prep->target : NULL, &w);
	free(names);
	if (st)
		return st;
	if ((st = ch_prep_csv_append(w, m, ids))) {
		ch_prep_csv_free(w);
		return st;
	}
	st = ch_prep_csv_close(w);
	if (!st)
		ch_clear_error();
	return st;
}
