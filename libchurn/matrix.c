/* churn_matrix: dense row-major design matrix with feature names and labels. */
#include "churn/matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"

struct churn_matrix {
	size_t nrows, ncols;
	double *data;
	char **names;
	uint8_t *labels;
};

churn_status churn_matrix_new(size_t nrows, size_t ncols, churn_matrix **out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_matrix_new: out is NULL");
	if (ncols && nrows > SIZE_MAX / sizeof(double) / ncols)
		return ch_fail(CHURN_E_LIMIT, "matrix of %zu x %zu is too large", nrows, ncols);
	churn_matrix *m = calloc(1, sizeof(*m));
	if (!m)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	m->nrows = nrows;
	m->ncols = ncols;
	size_t cells = nrows * ncols;
	m->data = calloc(cells ? cells : 1, sizeof(double));
	m->names = calloc(ncols ? ncols : 1, sizeof(char *));
	if (!m->data || !m->names)
		goto nomem;
	for (size_t j = 0; j < ncols; j++)
		if (!(m->names[j] = ch_asprintf("x%zu", j)))
			goto nomem;
	*out = m;
	return CHURN_OK;
nomem:
	churn_matrix_free(m);
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

void churn_matrix_free(churn_matrix *m)
{
	if (!m)
		return;
	if (m->names)
		for (size_t j = 0; j < m->ncols; j++)
			free(m->names[j]);
	free(m->names);
	free(m->data);
	free(m->labels);
	free(m);
}

size_t churn_matrix_get_row_count(const churn_matrix *m) { return m ? m->nrows : 0; }
size_t churn_matrix_get_column_count(const churn_matrix *m) { return m ? m->ncols : 0; }
double *churn_matrix_get_data(churn_matrix *m) { return m ? m->data : NULL; }
const double *churn_matrix_get_data_const(const churn_matrix *m) { return m ? m->data : NULL; }

const double *churn_matrix_get_row(const churn_matrix *m, size_t i)
{
	return (m && i < m->nrows) ? m->data + i * m->ncols : NULL;
}

const char *churn_matrix_get_feature_name(const churn_matrix *m, size_t j)
{
	return (m && j < m->ncols) ? m->names[j] : NULL;
}

churn_status churn_matrix_set_feature_name(churn_matrix *m, size_t j, const char *name)
{
	if (!m || !name || j >= m->ncols)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_matrix_set_feature_name: bad argument");
	char *s = ch_strdup(name);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	free(m->names[j]);
	m->names[j] = s;
	return CHURN_OK;
}

const uint8_t *churn_matrix_get_labels(const churn_matrix *m)
{
	return m ? m->labels : NULL;
}

churn_status churn_matrix_set_labels(churn_matrix *m, const uint8_t *y, size_t n)
{
	if (!m || (n && !y) || n != m->nrows)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_matrix_set_labels: need %zu labels", m ? m->nrows : 0);
	for (size_t i = 0; i < n; i++)
		if (y[i] > 1)
			return ch_fail(CHURN_E_INVALID_ARG, "label %zu is %u, not 0 or 1", i, y[i]);
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (n)
		memcpy(c, y, n);
	free(m->labels);
	m->labels = c;
	return CHURN_OK;
}

churn_status churn_matrix_subset_rows(const churn_matrix *m, const size_t *idx, size_t n, churn_matrix **out)
{
	if (!m || (n && !idx) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_matrix_subset_rows: NULL argument");
	for (size_t r = 0; r < n; r++)
		if (idx[r] >= m->nrows)
			return ch_fail(CHURN_E_INVALID_ARG, "row index %zu out of range (%zu rows)", idx[r], m->nrows);
	churn_matrix *res = NULL;
	churn_status st = churn_matrix_new(n, m->ncols, &res);
	if (st)
		return st;
	for (size_t r = 0; r < n; r++)
		memcpy(res->data + r * m->ncols, m->data + idx[r] * m->ncols, m->ncols * sizeof(double));
	for (size_t j = 0; j < m->ncols; j++)
		if ((st = churn_matrix_set_feature_name(res, j, m->names[j])))
			goto fail;
	if (m->labels) {
		if (!(res->labels = malloc(n ? n : 1))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto fail;
		}
		for (size_t r = 0; r < n; r++)
			res->labels[r] = m->labels[idx[r]];
	}
	*out = res;
	return CHURN_OK;
fail:
	churn_matrix_free(res);
	return st;
}
