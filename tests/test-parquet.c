/*
 * Parquet writer: files read back by independent readers (DuckDB and
 * hyparquet through tests/parquet-read.mjs) and compared value by value,
 * bit-exactly for doubles, with schema and statistics; error paths,
 * atomicity (unwritable directory, disk full, cancel).
 *
 * The read-back cases skip with a message when node or its packages are
 * missing (scripts/deps.sh installs them).
 */
#include <churn.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "test-common.h"

#ifndef CHURN_PARQUET_READER
#define CHURN_PARQUET_READER "parquet-read.mjs"
#endif

/* ------------------------------------------------------------ the reader */

/* Run the node reader on one file; NULL (and a note) when it is unavailable. */
static cJSON *read_back(const char *path)
{
	static int noted;
	const char *node = getenv("NODE");
	if (!node || !*node)
		node = "node";
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' 2>&1", node, CHURN_PARQUET_READER, path);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[n] = '\0';
	int status = pclose(f);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == 77 || code == 127) {
		if (!noted++)
			fprintf(stderr, "# SKIP parquet read-back: %s\n",
			        code == 127 ? "node not found (set NODE or run scripts/deps.sh)" : buf);
		free(buf);
		return NULL;
	}
	ck_assert_msg(code == 0, "parquet-read.mjs failed (%d): %s", code, buf);
	cJSON *root = cJSON_Parse(buf);
	ck_assert_msg(root != NULL, "reader output is not JSON: %.400s", buf);
	free(buf);
	cJSON *file = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "files"), 0);
	ck_assert_ptr_nonnull(file);
	cJSON *copy = cJSON_Duplicate(file, true);
	cJSON_Delete(root);
	return copy;
}

/* ----------------------------------------------------- expected contents */

typedef struct tcol {
	const char *name;
	char kind; /* 'd' DOUBLE, 'i' INT32, 's' string */
	bool optional;
	const double *d; /* kind 'd': d[i * stride]; NaN is null when optional */
	size_t stride;
	const uint8_t *u8; /* kind 'i' */
	const char *const *s; /* kind 's': NULL = null */
} tcol;

static bool cell_null(const tcol *c, size_t i)
{
	if (c->kind == 's')
		return c->s[i] == NULL;
	if (c->kind == 'd')
		return c->optional && isnan(c->d[i * c->stride]);
	return false;
}

static void hex_of(char out[17], double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	snprintf(out, 17, "%016llx", (unsigned long long)u);
}

static cJSON *cell_json(const tcol *c, size_t i)
{
	if (cell_null(c, i))
		return cJSON_CreateNull();
	if (c->kind == 'd') {
		char h[17];
		hex_of(h, c->d[i * c->stride]);
		return cJSON_CreateString(h);
	}
	if (c->kind == 'i')
		return cJSON_CreateNumber(c->u8[i]);
	return cJSON_CreateString(c->s[i]);
}

static void check_rows(const cJSON *rows, const tcol *cols, size_t ncols, size_t nrows, const char *who)
{
	ck_assert_msg(cJSON_IsArray(rows), "%s: no rows", who);
	ck_assert_int_eq(cJSON_GetArraySize(rows), (int)nrows);
	size_t i = 0;
	for (const cJSON *row = rows->child; row; row = row->next, i++) {
		ck_assert_int_eq(cJSON_GetArraySize(row), (int)ncols);
		size_t j = 0;
		for (const cJSON *cell = row->child; cell; cell = cell->next, j++) {
			cJSON *want = cell_json(&cols[j], i);
			if (!cJSON_Compare(want, cell, true)) {
				char *a = cJSON_PrintUnformatted(want), *b = cJSON_PrintUnformatted(cell);
				ck_abort_msg("%s: row %zu column \"%s\": want %s, got %s", who, i, cols[j].name, a, b);
			}
			cJSON_Delete(want);
		}
	}
}

/* Expected min/max over rows [r0, r1) of column c; false when no non-null (non-NaN) value. */
typedef struct tstat {
	bool has;
	double dmin, dmax;
	int imin, imax;
	const char *smin, *smax;
	long nulls;
} tstat;

static tstat col_stats(const tcol *c, size_t r0, size_t r1)
{
	tstat s = {0};
	for (size_t i = r0; i < r1; i++) {
		if (cell_null(c, i)) {
			s.nulls++;
			continue;
		}
		if (c->kind == 'd') {
			double v = c->d[i * c->stride];
			if (isnan(v))
				continue;
			if (!s.has || v < s.dmin || (v == 0 && s.dmin == 0 && signbit(v)))
				s.dmin = v;
			if (!s.has || v > s.dmax || (v == 0 && s.dmax == 0 && !signbit(v)))
				s.dmax = v;
		} else if (c->kind == 'i') {
			int v = c->u8[i];
			if (!s.has || v < s.imin)
				s.imin = v;
			if (!s.has || v > s.imax)
				s.imax = v;
		} else {
			const char *v = c->s[i];
			if (!s.has || strcmp(v, s.smin) < 0)
				s.smin = v;
			if (!s.has || strcmp(v, s.smax) > 0)
				s.smax = v;
		}
		s.has = true;
	}
	if (s.has && c->kind == 'd') {
		/* Parquet writes a zero min as -0.0 and a zero max as +0.0 */
		if (s.dmin == 0)
			s.dmin = -0.0;
		if (s.dmax == 0)
			s.dmax = 0.0;
	}
	return s;
}

static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* DuckDB prints stats as text: doubles parsed back must be bit-identical. */
static void check_duck_stat(const char *got, const tcol *c, const tstat *s, bool is_min, const char *where)
{
	if (!s->has) {
		ck_assert_msg(got == NULL, "%s: DuckDB has a %s stat %s, want none", where, is_min ? "min" : "max", got);
		return;
	}
	if (c->kind == 'd' && !got && isinf(is_min ? s->dmin : s->dmax))
		return; /* DuckDB's parquet_metadata() shows infinite bounds as NULL (hyparquet checks them) */
	ck_assert_msg(got != NULL, "%s: DuckDB has no %s stat", where, is_min ? "min" : "max");
	if (c->kind == 'd') {
		double want = is_min ? s->dmin : s->dmax;
		double v = strtod(got, NULL);
		ck_assert_msg(same_bits(v, want), "%s: DuckDB %s %s, want %.17g", where, is_min ? "min" : "max", got, want);
	} else if (c->kind == 'i') {
		ck_assert_int_eq(atoi(got), is_min ? s->imin : s->imax);
	} else {
		ck_assert_str_eq(got, is_min ? s->smin : s->smax);
	}
}

static void check_hyp_stat(const cJSON *got, const tcol *c, const tstat *s, bool is_min, const char *where)
{
	if (!s->has) {
		ck_assert_msg(cJSON_IsNull(got), "%s: hyparquet has a %s stat, want none", where, is_min ? "min" : "max");
		return;
	}
	if (c->kind == 'd') {
		char h[17];
		hex_of(h, is_min ? s->dmin : s->dmax);
		ck_assert_msg(cJSON_IsString(got) && strcmp(got->valuestring, h) == 0, "%s: hyparquet %s %s, want %s", where,
		              is_min ? "min" : "max", cJSON_IsString(got) ? got->valuestring : "?", h);
	} else if (c->kind == 'i') {
		ck_assert(cJSON_IsNumber(got));
		ck_assert_int_eq((int)got->valuedouble, is_min ? s->imin : s->imax);
	} else {
		ck_assert(cJSON_IsString(got));
		ck_assert_str_eq(got->valuestring, is_min ? s->smin : s->smax);
	}
}

static const char *duck_type(char kind)
{
	return kind == 'd' ? "DOUBLE" : kind == 'i' ? "INTEGER" : "VARCHAR";
}

static const char *phys_type(char kind)
{
	return kind == 'd' ? "DOUBLE" : kind == 'i' ? "INT32" : "BYTE_ARRAY";
}

/*
 * Read @p path back with both readers and compare everything: names, types,
 * repetition, rows, row groups of rg_rows, statistics, codec.
 */
static bool check_file(const char *path, const tcol *cols, size_t ncols, size_t nrows, size_t rg_rows,
                       const char *codec)
{
	cJSON *f = read_back(path);
	if (!f)
		return false;
	size_t nrg = nrows ? (nrows + rg_rows - 1) / rg_rows : 0;
	char where[512];

	/* DuckDB */
	const cJSON *dk = cJSON_GetObjectItem(f, "duckdb");
	ck_assert_msg(churn_test_json_str(dk, "error") == NULL, "DuckDB failed on %s: %s", path,
	              churn_test_json_str(dk, "error"));
	const cJSON *dcols = cJSON_GetObjectItem(dk, "columns");
	ck_assert_int_eq(cJSON_GetArraySize(dcols), (int)ncols);
	for (size_t j = 0; j < ncols; j++) {
		const cJSON *o = cJSON_GetArrayItem(dcols, (int)j);
		ck_assert_str_eq(churn_test_json_str(o, "name"), cols[j].name);
		ck_assert_str_eq(churn_test_json_str(o, "type"), duck_type(cols[j].kind));
	}
	check_rows(cJSON_GetObjectItem(dk, "rows"), cols, ncols, nrows, "DuckDB");
	const cJSON *fm = cJSON_GetObjectItem(dk, "file");
	ck_assert_int_eq((int)churn_test_json_num(fm, "num_rows"), (int)nrows);
	ck_assert_int_eq((int)churn_test_json_num(fm, "num_row_groups"), (int)nrg);
	ck_assert_ptr_nonnull(strstr(churn_test_json_str(fm, "created_by"), "libchurn version "));
	const cJSON *schema = cJSON_GetObjectItem(dk, "schema");
	ck_assert_int_eq(cJSON_GetArraySize(schema), (int)ncols + 1);
	for (size_t j = 0; j < ncols; j++) {
		const cJSON *o = cJSON_GetArrayItem(schema, (int)j + 1);
		ck_assert_str_eq(churn_test_json_str(o, "name"), cols[j].name);
		ck_assert_str_eq(churn_test_json_str(o, "type"), phys_type(cols[j].kind));
		ck_assert_str_eq(churn_test_json_str(o, "repetition_type"), cols[j].optional ? "OPTIONAL" : "REQUIRED");
		if (cols[j].kind == 's')
			ck_assert_str_eq(churn_test_json_str(o, "converted_type"), "UTF8");
	}
	const cJSON *meta = cJSON_GetObjectItem(dk, "metadata");
	ck_assert_int_eq(cJSON_GetArraySize(meta), (int)(nrg * ncols));
	const cJSON *m = meta->child;
	for (size_t g = 0; g < nrg; g++) {
		size_t r0 = g * rg_rows, r1 = r0 + rg_rows < nrows ? r0 + rg_rows : nrows;
		for (size_t j = 0; j < ncols; j++, m = m->next) {
			snprintf(where, sizeof where, "%s: row group %zu column \"%s\"", path, g, cols[j].name);
			ck_assert_int_eq((int)churn_test_json_num(m, "row_group_id"), (int)g);
			ck_assert_int_eq((int)churn_test_json_num(m, "column_id"), (int)j);
			ck_assert_int_eq((int)churn_test_json_num(m, "row_group_num_rows"), (int)(r1 - r0));
			ck_assert_int_eq((int)churn_test_json_num(m, "num_values"), (int)(r1 - r0));
			ck_assert_str_eq(churn_test_json_str(m, "compression"), codec);
			tstat s = col_stats(&cols[j], r0, r1);
			ck_assert_int_eq((long)churn_test_json_num(m, "stats_null_count"), s.nulls);
			check_duck_stat(churn_test_json_str(m, "stats_min_value"), &cols[j], &s, true, where);
			check_duck_stat(churn_test_json_str(m, "stats_max_value"), &cols[j], &s, false, where);
		}
	}

	/* hyparquet */
	const cJSON *hp = cJSON_GetObjectItem(f, "hyparquet");
	ck_assert_msg(churn_test_json_str(hp, "error") == NULL, "hyparquet failed on %s: %s", path,
	              churn_test_json_str(hp, "error"));
	ck_assert_int_eq((int)churn_test_json_num(hp, "num_rows"), (int)nrows);
	const cJSON *hs = cJSON_GetObjectItem(hp, "schema");
	ck_assert_int_eq(cJSON_GetArraySize(hs), (int)ncols);
	for (size_t j = 0; j < ncols; j++) {
		const cJSON *o = cJSON_GetArrayItem(hs, (int)j);
		ck_assert_str_eq(churn_test_json_str(o, "name"), cols[j].name);
		ck_assert_str_eq(churn_test_json_str(o, "type"), phys_type(cols[j].kind));
		ck_assert_str_eq(churn_test_json_str(o, "repetition_type"), cols[j].optional ? "OPTIONAL" : "REQUIRED");
		if (cols[j].kind == 's') {
			ck_assert_str_eq(churn_test_json_str(o, "converted_type"), "UTF8");
			ck_assert_str_eq(churn_test_json_str(o, "logical_type"), "STRING");
		}
	}
	const cJSON *rgs = cJSON_GetObjectItem(hp, "row_groups");
	ck_assert_int_eq(cJSON_GetArraySize(rgs), (int)nrg);
	for (size_t g = 0; g < nrg; g++) {
		size_t r0 = g * rg_rows, r1 = r0 + rg_rows < nrows ? r0 + rg_rows : nrows;
		const cJSON *rg = cJSON_GetArrayItem(rgs, (int)g);
		ck_assert_int_eq((int)churn_test_json_num(rg, "num_rows"), (int)(r1 - r0));
		const cJSON *hc = cJSON_GetObjectItem(rg, "columns");
		for (size_t j = 0; j < ncols; j++) {
			const cJSON *o = cJSON_GetArrayItem(hc, (int)j);
			snprintf(where, sizeof where, "%s: row group %zu column \"%s\"", path, g, cols[j].name);
			ck_assert_str_eq(churn_test_json_str(o, "path"), cols[j].name);
			ck_assert_str_eq(churn_test_json_str(o, "codec"), codec);
			ck_assert_int_eq((int)churn_test_json_num(o, "num_values"), (int)(r1 - r0));
			tstat s = col_stats(&cols[j], r0, r1);
			ck_assert_int_eq((long)churn_test_json_num(o, "null_count"), s.nulls);
			check_hyp_stat(cJSON_GetObjectItem(o, "min_value"), &cols[j], &s, true, where);
			check_hyp_stat(cJSON_GetObjectItem(o, "max_value"), &cols[j], &s, false, where);
		}
	}
	if (churn_test_json_str(hp, "skipped"))
		fprintf(stderr, "# hyparquet rows not compared for %s: %s\n", path, churn_test_json_str(hp, "skipped"));
	else
		check_rows(cJSON_GetObjectItem(hp, "rows"), cols, ncols, nrows, "hyparquet");
	cJSON_Delete(f);
	return true;
}

/* ------------------------------------------------------------- fixtures */

/* Files in churn_test_tmp other than `keep` (temp leftovers). */
static int stray_files(const char *keep)
{
	DIR *d = opendir(churn_test_tmp);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!keep || strcmp(e->d_name, keep)))
			n++;
	closedir(d);
	return n;
}

static const char *feature_names[] = {
	"Contract=Month-to-month", "tenure", "Payment method=Bank transfer (automatic)", "Größe=ü 日本 ✓", "odd \"quote\" 'x'",
};
#define NF 5
#define NR 7

/* A small matrix exercising names and special doubles; labels set. */
static churn_matrix *small_matrix(void)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(NR, NF, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	const double col[NF][NR] = {
		{1, 0, 0, 1, 0, 1, 1},
		{1, 34, 2, 45, 2, 8, 72},
		{-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0},
		{5e-324, -DBL_MAX, DBL_MAX, 0.1, -1.5e-300, INFINITY, 1.0 / 3},
		{NAN, -INFINITY, 2.5, NAN, -7.25, 1e15, -0.0},
	};
	for (size_t i = 0; i < NR; i++)
		for (size_t j = 0; j < NF; j++)
			d[i * NF + j] = col[j][i];
	for (size_t j = 0; j < NF; j++)
		ck_assert_int_eq(churn_matrix_set_feature_name(m, j, feature_names[j]), CHURN_OK);
	uint8_t y[NR] = {0, 1, 1, 0, 0, 1, 0};
	ck_assert_int_eq(churn_matrix_set_labels(m, y, NR), CHURN_OK);
	return m;
}

static const char *small_ids[NR] = {"7590-VHVEG", "5575-GNVDE", NULL, "7795-CFOCW", "façade ☃", "", NULL};
static const char *full_ids[NR] = {"a", "b", "c", "d", "e", "f", "g"};

/* Expected columns of a matrix file. */
static size_t matrix_cols(tcol *cols, const churn_matrix *m, const char *id_name, const char *const *ids,
                          const char *target)
{
	size_t k = 0, nf = churn_matrix_get_column_count(m), n = churn_matrix_get_row_count(m);
	if (id_name) {
		bool opt = false;
		for (size_t i = 0; i < n; i++)
			opt |= ids[i] == NULL;
		cols[k++] = (tcol){.name = id_name, .kind = 's', .optional = opt, .s = ids};
	}
	for (size_t j = 0; j < nf; j++)
		cols[k++] = (tcol){.name = churn_matrix_get_feature_name(m, j), .kind = 'd',
		                   .d = churn_matrix_get_data_const(m) + j, .stride = nf};
	if (target)
		cols[k++] = (tcol){.name = target, .kind = 'i', .u8 = churn_matrix_get_labels(m)};
	return k;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_parquet_write_matrix_small_reads_back_per_codec)
{
	churn_matrix *m = small_matrix();
	const char *codecs[] = {"zstd", "none"};
	const char *want[] = {"ZSTD", "UNCOMPRESSED"};
	for (int c = 0; c < 2; c++) {
		char name[64];
		snprintf(name, sizeof name, "small-%s.parquet", codecs[c]);
		char *path = churn_test_path(churn_test_tmp, name);
		churn_params *p = churn_test_params("parquet.compression", codecs[c], NULL);
		ck_assert_int_eq(churn_parquet_write_matrix(path, m, "Churn", "customerID", small_ids, p), CHURN_OK);
		ck_assert_str_eq(churn_last_error(), "");
		tcol cols[NF + 2];
		size_t nc = matrix_cols(cols, m, "customerID", small_ids, "Churn");
		check_file(path, cols, nc, NR, NR, want[c]);
		churn_params_free(p);
		free(path);
	}
	ck_assert_int_eq(stray_files("small-zstd.parquet"), 1);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_parquet_write_matrix_required_ids_without_target_reads_back)
{
	churn_matrix *m = small_matrix();
	char *path = churn_test_path(churn_test_tmp, "req.parquet");
	/* NULL params: defaults (zstd) */
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, "id", full_ids, NULL), CHURN_OK);
	tcol cols[NF + 2];
	size_t nc = matrix_cols(cols, m, "id", full_ids, NULL);
	ck_assert(!cols[0].optional);
	check_file(path, cols, nc, NR, NR, "ZSTD");
	/* features only; ids ignored without id_name */
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, full_ids, NULL), CHURN_OK);
	nc = matrix_cols(cols, m, NULL, NULL, NULL);
	check_file(path, cols, nc, NR, NR, "ZSTD");
	free(path);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_parquet_write_matrix_empty_is_a_valid_file)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(0, 3, &m), CHURN_OK);
	ck_assert_int_eq(churn_matrix_set_feature_name(m, 1, "b=1"), CHURN_OK);
	uint8_t y0 = 0;
	ck_assert_int_eq(churn_matrix_set_labels(m, &y0, 0), CHURN_OK);
	char *path = churn_test_path(churn_test_tmp, "empty.parquet");
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "Churn", "customerID", NULL, NULL), CHURN_OK);
	tcol cols[5];
	size_t nc = matrix_cols(cols, m, "customerID", NULL, "Churn");
	check_file(path, cols, nc, 0, 1, "ZSTD");
	free(path);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_parquet_write_matrix_row_groups_split_with_stats)
{
	const size_t n = 2500, nf = 3;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, nf, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	uint8_t *y = malloc(n);
	char **ids = malloc(n * sizeof(*ids));
	uint64_t s = 42;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nf; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			d[i * nf + j] = j == 2 ? (double)(i % 17) : ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 1e3;
		}
		y[i] = (uint8_t)((s >> 7) & 1);
		ids[i] = NULL;
		if (i % 13) {
			ids[i] = malloc(24);
			snprintf(ids[i], 24, "C%06zu-%c", i, (char)('A' + (int)(s % 26)));
		}
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, y, n), CHURN_OK);
	char *path = churn_test_path(churn_test_tmp, "groups.parquet");
	churn_params *p = churn_test_params("parquet.row_group_rows", "1000", "parquet.page_bytes", "1000", NULL);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "y", "id", (const char *const *)ids, p), CHURN_OK);
	tcol cols[5];
	size_t nc = matrix_cols(cols, m, "id", (const char *const *)ids, "y");
	check_file(path, cols, nc, n, 1000, "ZSTD");
	ck_assert_int_eq(churn_params_set_str(p, "parquet.compression", "none"), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "parquet.row_group_rows", "2499"), CHURN_OK);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "y", "id", (const char *const *)ids, p), CHURN_OK);
	check_file(path, cols, nc, n, 2499, "UNCOMPRESSED");
	churn_params_free(p);
	free(path);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(y);
	churn_matrix_free(m);
}
END_TEST

static churn_dataset *make_dataset(size_t n)
{
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	double *num = malloc(n * sizeof(*num)), *allnan = malloc(n * sizeof(*allnan));
	const char **cat = malloc(n * sizeof(*cat)), **txt = malloc(n * sizeof(*txt));
	char **own = malloc(n * sizeof(*own));
	static const char *levels[] = {"Month-to-month", "One year", "Two year", "Ünïcode ✓"};
	for (size_t i = 0; i < n; i++) {
		num[i] = i % 5 == 3 ? NAN : (double)i * 0.25 - 3;
		allnan[i] = NAN;
		cat[i] = i % 7 == 6 ? NULL : levels[(i * 7 + i / 3) % 4];
		own[i] = NULL;
		if (i % 4 != 1) {
			own[i] = malloc(32);
			snprintf(own[i], 32, "text %zu é", i * 31 % 97);
		}
		txt[i] = own[i];
	}
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "MonthlyCharges", num, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "Contract", cat, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_text(ds, "notes", txt, n), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "all missing", allnan, n), CHURN_OK);
	const char **nocat = calloc(n, sizeof(*nocat));
	ck_assert_int_eq(churn_dataset_add_categorical(ds, "no levels", nocat, n), CHURN_OK);
	free(nocat);
	for (size_t i = 0; i < n; i++)
		free(own[i]);
	free(own);
	free(num);
	free(allnan);
	free(cat);
	free(txt);
	return ds;
}

/* Expected columns of a dataset file (string cells borrowed from ds; arrays malloc'd into bufs). */
static size_t dataset_cols(tcol *cols, const churn_dataset *ds, const char ***bufs)
{
	size_t nc = churn_dataset_get_column_count(ds), n = churn_dataset_get_row_count(ds);
	for (size_t j = 0; j < nc; j++) {
		cols[j] = (tcol){.name = churn_dataset_get_col_name(ds, j), .optional = true};
		bufs[j] = NULL;
		if (churn_dataset_get_col_type(ds, j) == CHURN_COL_NUMERIC) {
			cols[j].kind = 'd';
			cols[j].d = churn_dataset_get_numeric(ds, j);
			cols[j].stride = 1;
			continue;
		}
		cols[j].kind = 's';
		bufs[j] = malloc((n ? n : 1) * sizeof(char *));
		const int32_t *codes = churn_dataset_get_codes(ds, j);
		for (size_t i = 0; i < n; i++)
			bufs[j][i] = codes ? (codes[i] < 0 ? NULL : churn_dataset_get_level(ds, j, (size_t)codes[i]))
			                   : churn_dataset_get_text(ds, j, i);
		cols[j].s = bufs[j];
	}
	return nc;
}

START_TEST(test_parquet_write_dataset_reads_back_every_cell)
{
	const size_t n = 300;
	churn_dataset *ds = make_dataset(n);
	tcol cols[5];
	const char **bufs[5];
	size_t nc = dataset_cols(cols, ds, bufs);
	ck_assert_uint_eq(nc, 5);
	char *path = churn_test_path(churn_test_tmp, "raw.parquet");
	churn_params *p = churn_test_params("parquet.row_group_rows", "128", "parquet.page_bytes", "256", NULL);
	ck_assert_int_eq(churn_parquet_write_dataset(path, ds, p), CHURN_OK);
	check_file(path, cols, nc, n, 128, "ZSTD");
	ck_assert_int_eq(churn_params_set_bool(p, "parquet.dictionary", false), CHURN_OK);
	ck_assert_int_eq(churn_params_set_str(p, "parquet.compression", "none"), CHURN_OK);
	ck_assert_int_eq(churn_parquet_write_dataset(path, ds, p), CHURN_OK);
	check_file(path, cols, nc, n, 128, "UNCOMPRESSED");
	ck_assert_int_eq(churn_parquet_write_dataset(path, ds, NULL), CHURN_OK);
	check_file(path, cols, nc, n, 1048576, "ZSTD");
	churn_params_free(p);
	free(path);
	for (size_t j = 0; j < nc; j++)
		free(bufs[j]);
	churn_dataset_free(ds);
}
END_TEST

/* The real Telco CSV (7,043 rows, 21 columns) as a raw dataset, every cell compared. */
START_TEST(test_parquet_write_dataset_telco_reads_back_every_cell)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	size_t nc = churn_dataset_get_column_count(ds);
	tcol *cols = calloc(nc, sizeof(*cols));
	const char ***bufs = calloc(nc, sizeof(*bufs));
	ck_assert_uint_eq(dataset_cols(cols, ds, bufs), nc);
	char *path = churn_test_path(churn_test_tmp, "telco.parquet");
	churn_params *p = churn_test_params("parquet.row_group_rows", "3000", NULL);
	ck_assert_int_eq(churn_parquet_write_dataset(path, ds, p), CHURN_OK);
	check_file(path, cols, nc, churn_dataset_get_row_count(ds), 3000, "ZSTD");
	churn_params_free(p);
	free(path);
	for (size_t j = 0; j < nc; j++)
		free(bufs[j]);
	free(bufs);
	free(cols);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_parquet_write_kv_metadata_reads_back)
{
	churn_matrix *m = small_matrix();
	char *path = churn_test_path(churn_test_tmp, "kv.parquet");
	const char *kv_json = "{\"churn.prep_spec\": \"{\\\"version\\\": 1}\", \"note\": \"é\"}";
	churn_params *p = churn_test_params("parquet.kv", kv_json, NULL);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "Churn", NULL, NULL, p), CHURN_OK);
	cJSON *f = read_back(path);
	if (f) {
		const cJSON *kv = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "duckdb"), "kv");
		ck_assert_int_eq(cJSON_GetArraySize(kv), 2);
		ck_assert_str_eq(churn_test_json_str(cJSON_GetArrayItem(kv, 0), "key"), "churn.prep_spec");
		ck_assert_str_eq(churn_test_json_str(cJSON_GetArrayItem(kv, 0), "value"), "{\"version\": 1}");
		const cJSON *hkv = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "hyparquet"), "kv");
		ck_assert_str_eq(churn_test_json_str(cJSON_GetArrayItem(hkv, 1), "value"), "é");
		cJSON_Delete(f);
	}
	churn_params_free(p);
	free(path);
	churn_matrix_free(m);
}
END_TEST

/* ----------------------------------------------------------------- errors */

START_TEST(test_parquet_write_matrix_bad_args_refused)
{
	churn_matrix *m = small_matrix(), *nolab = NULL;
	ck_assert_int_eq(churn_matrix_new(2, 1, &nolab), CHURN_OK);
	char *path = churn_test_path(churn_test_tmp, "bad.parquet");
	ck_assert_int_eq(churn_parquet_write_matrix(NULL, m, NULL, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_parquet_write_matrix(path, NULL, NULL, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_parquet_write_matrix(path, nolab, "Churn", NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "no labels"));
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, "id", NULL, NULL), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "without ids"));
	/* duplicate and empty names */
	/* names come from data: duplicates and invalid UTF-8 are data errors (exit 65), not usage (64) */
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "tenure", NULL, NULL, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "duplicate column name \"tenure\""));
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "", NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	/* invalid UTF-8 in an id and in a name */
	const char *ids[NR] = {"a", "b", "c\xff", "d", "e", "f", "g"};
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, "id", ids, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "row 3, byte 2"));
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "\xc0\xaf", NULL, NULL, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "overlong"));
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, "\xed\xa0\x80", NULL, NULL, NULL), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "surrogate"));
	/* bad options */
	churn_params *p = churn_test_params("parquet.compression", "snappy", NULL);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "snappy"));
	churn_params_free(p);
	p = churn_test_params("parquet.kv", "{\"a\": 1}", NULL);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_str(p, "parquet.kv", "[1,"), CHURN_OK);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p), CHURN_E_INVALID_ARG);
	churn_params_free(p);
	churn_params *q = NULL;
	ck_assert_int_eq(churn_params_new(&q), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(q, "parquet.row_group_rows", 0), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_params_set_int(q, "parquet.page_bytes", 4), CHURN_E_INVALID_ARG);
	churn_params_free(q);
	/* nothing to write */
	churn_matrix *empty = NULL;
	ck_assert_int_eq(churn_matrix_new(3, 0, &empty), CHURN_OK);
	ck_assert_int_eq(churn_parquet_write_matrix(path, empty, NULL, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	churn_matrix_free(empty);
	/* no file, no temp file left behind */
	ck_assert_int_eq(stray_files(NULL), 0);
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_parquet_write_dataset(path, ds, NULL), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_parquet_write_dataset(path, NULL, NULL), CHURN_E_INVALID_ARG);
	churn_dataset_free(ds);
	free(path);
	churn_matrix_free(nolab);
	churn_matrix_free(m);
}
END_TEST

static bool file_equals(const char *path, const char *content)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[256];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return n == strlen(content) && memcmp(buf, content, n) == 0;
}

START_TEST(test_parquet_write_unwritable_path_is_create_error)
{
	churn_matrix *m = small_matrix();
	/* a path under a regular file: works as root too */
	char *file = churn_test_path(churn_test_tmp, "plain.txt");
	ck_assert(churn_test_write_file(file, "x"));
	char *bad = churn_test_path(churn_test_tmp, "plain.txt/out.parquet");
	ck_assert_int_eq(churn_parquet_write_matrix(bad, m, "Churn", NULL, NULL, NULL), CHURN_E_CREATE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "out.parquet"));
	char *missing = churn_test_path(churn_test_tmp, "no/such/dir/out.parquet");
	ck_assert_int_eq(churn_parquet_write_matrix(missing, m, "Churn", NULL, NULL, NULL), CHURN_E_CREATE);
	/* a read-only directory keeps its previous file (only meaningful when not root) */
	if (geteuid() != 0) {
		char *dir = churn_test_path(churn_test_tmp, "ro");
		ck_assert_int_eq(mkdir(dir, 0755), 0);
		char *prev = churn_test_path(churn_test_tmp, "ro/out.parquet");
		ck_assert(churn_test_write_file(prev, "previous"));
		ck_assert_int_eq(chmod(dir, 0555), 0);
		ck_assert_int_eq(churn_parquet_write_matrix(prev, m, "Churn", NULL, NULL, NULL), CHURN_E_CREATE);
		ck_assert(file_equals(prev, "previous"));
		ck_assert_int_eq(chmod(dir, 0755), 0);
		free(prev);
		free(dir);
	} else {
		fprintf(stderr, "# SKIP read-only directory case: running as root\n");
	}
	free(missing);
	free(bad);
	free(file);
	churn_matrix_free(m);
}
END_TEST

/* In a child: a file-size limit makes writes fail like a full disk. */
START_TEST(test_parquet_write_disk_full_is_io_error_keeps_previous)
{
	const size_t n = 20000, nf = 4;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, nf, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	for (size_t i = 0; i < n * nf; i++)
		d[i] = sin((double)i) * 1e6;
	char *path = churn_test_path(churn_test_tmp, "full.parquet");
	ck_assert(churn_test_write_file(path, "previous"));
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {.rlim_cur = 64 * 1024, .rlim_max = 64 * 1024};
		setrlimit(RLIMIT_FSIZE, &rl);
		churn_params *p = NULL;
		if (churn_params_new(&p) || churn_params_set_str(p, "parquet.compression", "none"))
			_exit(90);
		churn_status st = churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p);
		int ok_detail = strstr(churn_last_error(), "full.parquet") != NULL;
		_exit(st == CHURN_E_IO && ok_detail ? 0 : 10 + (int)st);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(file_equals(path, "previous"));
	ck_assert_int_eq(stray_files("full.parquet"), 0);
	free(path);
	churn_matrix_free(m);
}
END_TEST

static bool cancel_after_first(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)what;
	(void)total;
	int *calls = ud;
	++*calls;
	return done < 200; /* cancel at the second row group */
}

START_TEST(test_parquet_write_cancel_keeps_previous)
{
	const size_t n = 1000;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, 2, &m), CHURN_OK);
	char *path = churn_test_path(churn_test_tmp, "cancel.parquet");
	ck_assert(churn_test_write_file(path, "previous"));
	churn_params *p = churn_test_params("parquet.row_group_rows", "100", NULL);
	int calls = 0;
	churn_params_set_progress(p, cancel_after_first, &calls);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p), CHURN_E_STATE);
	ck_assert_int_eq(calls, 2);
	ck_assert(file_equals(path, "previous"));
	ck_assert_int_eq(stray_files("cancel.parquet"), 0);
	/* and a successful write replaces it */
	churn_params_set_progress(p, NULL, NULL);
	ck_assert_int_eq(churn_parquet_write_matrix(path, m, NULL, NULL, NULL, p), CHURN_OK);
	ck_assert(!file_equals(path, "previous"));
	ck_assert_int_eq(stray_files("cancel.parquet"), 0);
	FILE *f = fopen(path, "rb");
	char magic[4];
	ck_assert_int_eq(fread(magic, 1, 4, f), 4);
	ck_assert_int_eq(memcmp(magic, "PAR1", 4), 0);
	ck_assert_int_eq(fseek(f, -4, SEEK_END), 0);
	ck_assert_int_eq(fread(magic, 1, 4, f), 4);
	ck_assert_int_eq(memcmp(magic, "PAR1", 4), 0);
	fclose(f);
	churn_params_free(p);
	free(path);
	churn_matrix_free(m);
}
END_TEST

/* ------------------------------------------------------ streaming writer */

static bool same_file(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	char *x = churn_test_read_file(a, &na), *y = churn_test_read_file(b, &nb);
	bool same = x && y && na == nb && memcmp(x, y, na) == 0;
	free(x);
	free(y);
	return same;
}

/* Stream rows of m to path in chunks of `chunk` rows. */
static churn_status stream_matrix(const char *path, const churn_matrix *m, const char *target, const char *id_name,
                                  const char *const *ids, unsigned flags, const churn_params *p, size_t chunk)
{
	size_t n = churn_matrix_get_row_count(m), nf = churn_matrix_get_column_count(m);
	const char **names = malloc((nf ? nf : 1) * sizeof(*names));
	for (size_t j = 0; j < nf; j++)
		names[j] = churn_matrix_get_feature_name(m, j);
	churn_parquet_writer *w = NULL;
	churn_status st = churn_parquet_writer_open(path, names, nf, target, id_name, flags, 0, p, &w);
	free(names);
	size_t *idx = malloc((chunk ? chunk : 1) * sizeof(size_t));
	for (size_t r0 = 0; !st && r0 < n; r0 += chunk) {
		size_t k = n - r0 < chunk ? n - r0 : chunk;
		for (size_t i = 0; i < k; i++)
			idx[i] = r0 + i;
		churn_matrix *c = NULL;
		ck_assert_int_eq(churn_matrix_subset_rows(m, idx, k, &c), CHURN_OK);
		st = churn_parquet_writer_append(w, c, ids ? ids + r0 : NULL);
		churn_matrix_free(c);
	}
	if (!st)
		st = churn_parquet_writer_close(w);
	churn_parquet_writer_free(w);
	free(idx);
	return st;
}

/*
 * Columns that keep, lose early, and lose late (in a later row group) the
 * dictionary; ids with NULLs: the streamed file equals the whole-matrix file
 * byte for byte whatever the chunking, and reads back.
 */
START_TEST(test_parquet_writer_chunks_same_bytes)
{
	const size_t n = 2500, nf = 5;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, nf, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	uint8_t *y = malloc(n);
	char **ids = malloc(n * sizeof(*ids));
	uint64_t s = 7;
	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double r = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 1e3;
		d[i * nf + 0] = r;
		d[i * nf + 1] = (double)(i % 17);
		d[i * nf + 2] = (s >> 20) & 1 ? 1.0 : (i % 5 ? 0.0 : -0.0);
		d[i * nf + 3] = i < 1700 ? (double)(i % 3) - 1 : r;
		d[i * nf + 4] = i % 997 == 5 ? 1e300 : 0.25;
		y[i] = (uint8_t)((s >> 7) & 1);
		ids[i] = NULL;
		if (i % 11) {
			ids[i] = malloc(24);
			snprintf(ids[i], 24, "C%06zu-%c", (i * 7919) % n, (char)('A' + (int)(s % 26)));
		}
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, y, n), CHURN_OK);
	static const char *const fn[] = {"r", "mod17", "onehot", "late", "rare"};
	for (size_t j = 0; j < nf; j++)
		ck_assert_int_eq(churn_matrix_set_feature_name(m, j, fn[j]), CHURN_OK);
	char *whole = churn_test_path(churn_test_tmp, "whole.parquet");
	char *streamed = churn_test_path(churn_test_tmp, "streamed.parquet");
	const char *const *cids = (const char *const *)ids;
	static const char *const opts[][6] = {
		{"parquet.row_group_rows", "1000", "parquet.page_bytes", "1000", NULL, NULL},
		{"parquet.row_group_rows", "700", "parquet.page_bytes", "64", "parquet.compression", "none"},
		{"parquet.row_group_rows", "1048576", "parquet.dictionary", "false", NULL, NULL},
		{"parquet.row_group_rows", "3", "parquet.page_bytes", "8", NULL, NULL},
	};
	static const size_t chunks[] = {1, 7, 999, 1000, 1001, 2500, 4000};
	for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
		churn_params *p =
			churn_test_params(opts[o][0], opts[o][1], opts[o][2], opts[o][3], opts[o][4], opts[o][5], NULL);
		ck_assert_int_eq(churn_parquet_write_matrix(whole, m, "Churn", "id", cids, p), CHURN_OK);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			ck_assert_int_eq(stream_matrix(streamed, m, "Churn", "id", cids, CHURN_PARQUET_ID_NULLABLE, p, chunks[c]),
			                 CHURN_OK);
			if (!same_file(whole, streamed))
				ck_abort_msg("options %zu, chunks of %zu rows: the streamed file differs", o, chunks[c]);
		}
		if (o == 0) {
			tcol cols[8];
			size_t nc = matrix_cols(cols, m, "id", cids, "Churn");
			check_file(streamed, cols, nc, n, 1000, "ZSTD");
		}
		churn_params_free(p);
	}
	/* no id, no target */
	ck_assert_int_eq(churn_parquet_write_matrix(whole, m, NULL, NULL, NULL, NULL), CHURN_OK);
	ck_assert_int_eq(stream_matrix(streamed, m, NULL, NULL, NULL, 0, NULL, 333), CHURN_OK);
	ck_assert(same_file(whole, streamed));
	ck_assert_int_eq(stray_files("streamed.parquet") - 1, 0); /* whole + streamed only */
	free(whole);
	free(streamed);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(y);
	churn_matrix_free(m);
}
END_TEST

/* More row groups than an i16 ordinal holds: the ordinals are left out, as the format wants. */
START_TEST(test_parquet_writer_many_row_groups_omit_ordinals)
{
	const size_t n = 32770;
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, 1, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	uint8_t *y = malloc(n);
	for (size_t i = 0; i < n; i++) {
		d[i] = (double)i * 0.5;
		y[i] = (uint8_t)(i & 1);
	}
	ck_assert_int_eq(churn_matrix_set_labels(m, y, n), CHURN_OK);
	char *path = churn_test_path(churn_test_tmp, "many.parquet");
	churn_params *p = churn_test_params("parquet.row_group_rows", "1", "parquet.compression", "none", NULL);
	ck_assert_int_eq(stream_matrix(path, m, "y", NULL, NULL, 0, p, 4096), CHURN_OK);
	tcol cols[2];
	size_t nc = matrix_cols(cols, m, NULL, NULL, "y");
	check_file(path, cols, nc, n, 1, "UNCOMPRESSED");
	churn_params_free(p);
	free(path);
	free(y);
	churn_matrix_free(m);
}
END_TEST

START_TEST(test_parquet_writer_bad_use_refused)
{
	churn_matrix *m = small_matrix();
	const char *names[NF];
	for (size_t j = 0; j < NF; j++)
		names[j] = feature_names[j];
	char *path = churn_test_path(churn_test_tmp, "w.parquet");
	churn_parquet_writer *w = NULL;
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "Churn", "id", 4, 0, NULL, &w), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(w);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "tenure", NULL, 0, 0, NULL, &w), CHURN_E_PARSE);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "duplicate"));
	ck_assert_int_eq(churn_parquet_writer_open(path, NULL, 0, NULL, NULL, 0, 0, NULL, &w), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_parquet_writer_open(NULL, names, NF, NULL, NULL, 0, 0, NULL, &w), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(stray_files(NULL), 0);

	/* a previous file stays while the writer is open and after a failure */
	ck_assert(churn_test_write_file(path, "previous"));
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "Churn", "id", 0, 0, NULL, &w), CHURN_OK);
	ck_assert(file_equals(path, "previous"));
	churn_matrix *narrow = NULL;
	ck_assert_int_eq(churn_matrix_new(2, NF - 1, &narrow), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_append(w, narrow, full_ids), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_parquet_writer_append(w, m, NULL), CHURN_E_INVALID_ARG); /* ids missing */
	ck_assert_int_eq(churn_parquet_writer_append(w, m, full_ids), CHURN_OK);
	/* NULL id of a non-nullable column */
	ck_assert_int_eq(churn_parquet_writer_append(w, m, small_ids), CHURN_E_INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "NULL id"));
	ck_assert_int_eq(churn_parquet_writer_append(w, m, full_ids), CHURN_E_STATE);
	ck_assert_int_eq(churn_parquet_writer_close(w), CHURN_E_STATE);
	churn_parquet_writer_free(w);
	w = NULL;
	ck_assert(file_equals(path, "previous"));
	ck_assert_int_eq(stray_files("w.parquet"), 0);

	/* free without close: no file, no temp */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "Churn", NULL, 0, 0, NULL, &w), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_append(w, m, NULL), CHURN_OK);
	churn_parquet_writer_free(w);
	w = NULL;
	ck_assert_int_eq(stray_files(NULL), 0);

	/* chunk without labels for a target; append after close */
	churn_matrix *nolab = NULL;
	ck_assert_int_eq(churn_matrix_new(2, NF, &nolab), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "Churn", NULL, 0, 0, NULL, &w), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_append(w, nolab, NULL), CHURN_E_INVALID_ARG);
	churn_parquet_writer_free(w);
	ck_assert_int_eq(churn_parquet_writer_open(path, names, NF, "Churn", NULL, 0, 0, NULL, &w), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_append(w, m, NULL), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_close(w), CHURN_OK);
	ck_assert_int_eq(churn_parquet_writer_append(w, m, NULL), CHURN_E_STATE);
	ck_assert_int_eq(churn_parquet_writer_close(w), CHURN_E_STATE);
	churn_parquet_writer_free(w);
	ck_assert_int_eq(stray_files("w.parquet"), 0);
	churn_parquet_writer_free(NULL);
	churn_matrix_free(nolab);
	churn_matrix_free(narrow);
	free(path);
	churn_matrix_free(m);
}
END_TEST

static Suite *parquet_suite(void)
{
	Suite *s = suite_create("parquet");
	TCase *io = tcase_create("io");
	tcase_add_checked_fixture(io, churn_test_tmp_setup, churn_test_tmp_teardown);
	tcase_set_timeout(io, 120);
	tcase_add_test(io, test_parquet_write_matrix_small_reads_back_per_codec);
	tcase_add_test(io, test_parquet_write_matrix_required_ids_without_target_reads_back);
	tcase_add_test(io, test_parquet_write_matrix_empty_is_a_valid_file);
	tcase_add_test(io, test_parquet_write_matrix_row_groups_split_with_stats);
	tcase_add_test(io, test_parquet_write_dataset_reads_back_every_cell);
	tcase_add_test(io, test_parquet_write_dataset_telco_reads_back_every_cell);
	tcase_add_test(io, test_parquet_write_kv_metadata_reads_back);
	tcase_add_test(io, test_parquet_writer_chunks_same_bytes);
	tcase_add_test(io, test_parquet_writer_many_row_groups_omit_ordinals);
	suite_add_tcase(s, io);
	TCase *err = tcase_create("errors");
	tcase_add_checked_fixture(err, churn_test_tmp_setup, churn_test_tmp_teardown);
	tcase_add_test(err, test_parquet_write_matrix_bad_args_refused);
	tcase_add_test(err, test_parquet_write_unwritable_path_is_create_error);
	tcase_add_test(err, test_parquet_write_disk_full_is_io_error_keeps_previous);
	tcase_add_test(err, test_parquet_write_cancel_keeps_previous);
	tcase_add_test(err, test_parquet_writer_bad_use_refused);
	suite_add_tcase(s, err);
	return s;
}

int main(void)
{
	return churn_test_run(parquet_suite());
}
