/*
 * The prepared outputs of a fitted spec (churn_prep_write_outputs()): the
 * processed data set as Parquet and CSV, written in row chunks (apply one
 * chunk, append it to both writers), the spec, and reports/summary.json|csv
 * (the profile merged with the per-column prep report). One implementation
 * for `churn prepare` and the data pipeline.
 */
#include "churn/prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "churn/parquet.h"
#include "churn/profile.h"
#include "buf-private.h"
#include "core-private.h"
#include "params-private.h"
#include "prep-private.h"
#include "thread-private.h"

enum { OUT_PARQUET, OUT_CSV, OUT_SPEC, OUT_SUMMARY_JSON, OUT_SUMMARY_CSV, NOUT };

static const char *const out_rel[NOUT] = {"data/processed/churn.parquet", "data/processed/churn.csv",
                                          "artifacts/prep.json", "reports/summary.json", "reports/summary.csv"};

const char *churn_prep_output_name(size_t k)
{
	return k < NOUT ? out_rel[k] : NULL;
}

static churn_status nomem(void)
{
	return ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* ---- reports/summary.json ---- */

/* The report's column rc merged into the profile's column c: its "role" and "reason", the rest as "prep". */
static bool merge_column(cJSON *c, const cJSON *rc)
{
	cJSON *dup = cJSON_Duplicate(rc, true);
	if (!dup)
		return false;
	cJSON *role = cJSON_DetachItemFromObjectCaseSensitive(dup, "role");
	cJSON *reason = cJSON_DetachItemFromObjectCaseSensitive(dup, "reason");
	cJSON_DeleteItemFromObjectCaseSensitive(dup, "name");
	cJSON_DeleteItemFromObjectCaseSensitive(dup, "input_type");
	if (role)
		cJSON_AddItemToObject(c, "role", role);
	if (reason)
		cJSON_AddItemToObject(c, "reason", reason);
	if (dup->child)
		cJSON_AddItemToObject(c, "prep", dup);
	else
		cJSON_Delete(dup);
	return true;
}

/* Each profile column (cols) merged with the report's column of the same name (rcols); false on OOM. */
static bool merge_columns(cJSON *cols, const cJSON *rcols)
{
	const cJSON *next = rcols ? rcols->child : NULL; /* both list the columns in order: look there first */
	for (cJSON *c = cols ? cols->child : NULL; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		if (!cJSON_IsString(name))
			continue;
		const cJSON *rn0 = next ? cJSON_GetObjectItemCaseSensitive(next, "name") : NULL;
		bool in_order = cJSON_IsString(rn0) && strcmp(rn0->valuestring, name->valuestring) == 0;
		for (const cJSON *rc = in_order ? next : rcols ? rcols->child : NULL; rc; rc = rc->next) {
			const cJSON *rn = cJSON_GetObjectItemCaseSensitive(rc, "name");
			if (!cJSON_IsString(rn) || strcmp(rn->valuestring, name->valuestring) != 0)
				continue;
			next = rc->next;
			if (!merge_column(c, rc))
				return false;
			break;
		}
	}
	return true;
}

/* The top-level "prep" object of the summary s (the report's "dropped" moved into it); false on OOM. */
static bool prep_totals(cJSON *s, cJSON *rep, const churn_prep *prep, size_t skipped, size_t imp, size_t uns)
{
	cJSON *po = cJSON_CreateObject();
	if (!po || !cJSON_AddItemToObject(s, "prep", po)) {
		cJSON_Delete(po);
		return false;
	}
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(rep, "rows");
	bool ok = cJSON_AddNumberToObject(po, "rows", cJSON_IsNumber(rows) ? rows->valuedouble : 0) &&
	          cJSON_AddNumberToObject(po, "features", (double)churn_prep_get_feature_count(prep));
	cJSON *names = ok ? cJSON_AddArrayToObject(po, "feature_names") : NULL;
	ok = names != NULL;
	for (size_t j = 0; ok && j < churn_prep_get_feature_count(prep); j++) {
		cJSON *e = cJSON_CreateString(churn_prep_get_feature_name(prep, j));
		ok = e && cJSON_AddItemToArray(names, e);
	}
	cJSON *dropped = cJSON_DetachItemFromObjectCaseSensitive(rep, "dropped");
	if (dropped)
		cJSON_AddItemToObject(po, "dropped", dropped);
	return ok && cJSON_AddNumberToObject(po, "dropped_target_rows", (double)churn_prep_get_dropped_target_row_count(prep)) &&
	       cJSON_AddNumberToObject(po, "skipped_rows", (double)skipped) &&
	       cJSON_AddNumberToObject(po, "imputed_cells", (double)imp) &&
	       cJSON_AddNumberToObject(po, "unseen_cells", (double)uns) &&
	       cJSON_AddStringToObject(po, "spec", out_rel[OUT_SPEC]);
}

/*
 * The profile (statistics before imputation) with, per column, "role",
 * "reason" and "prep" (fitted type, encoding, fill, imputed/unseen counts,
 * "after" statistics and the features it became), plus a top-level "prep"
 * object. Sums of the report's per-column imputed/unseen counts go to
 * *imputed / *unseen.
 */
static churn_status compose_summary(const char *profile_json, const char *report_json, const churn_prep *prep,
                                    size_t skipped, cJSON **out, size_t *imputed, size_t *unseen)
{
	cJSON *s = cJSON_Parse(profile_json);
	cJSON *rep = cJSON_Parse(report_json);
	size_t imp = 0, uns = 0;
	if (!s || !rep) {
		cJSON_Delete(s);
		cJSON_Delete(rep);
		return ch_fail(CHURN_E_INTERNAL, "summary: the profile or the prep report is not JSON");
	}
	const cJSON *rcols = cJSON_GetObjectItemCaseSensitive(rep, "columns");
	for (const cJSON *rc = rcols ? rcols->child : NULL; rc; rc = rc->next) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rc, "imputed");
		imp += cJSON_IsNumber(v) ? (size_t)v->valuedouble : 0;
		v = cJSON_GetObjectItemCaseSensitive(rc, "unseen");
		uns += cJSON_IsNumber(v) ? (size_t)v->valuedouble : 0;
	}
	if (!merge_columns(cJSON_GetObjectItemCaseSensitive(s, "columns"), rcols) ||
	    !prep_totals(s, rep, prep, skipped, imp, uns)) {
		cJSON_Delete(s);
		cJSON_Delete(rep);
		return nomem();
	}
	cJSON_Delete(rep);
	*out = s;
	*imputed = imp;
	*unseen = uns;
	return CHURN_OK;
}

/* ---- reports/summary.csv ---- */

static void csv_item(FILE *f, const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	char buf[48];
	fputc(',', f);
	if (cJSON_IsNumber(v)) {
		ch_format_double_short(buf, sizeof buf, v->valuedouble);
		fputs(buf, f);
	} else if (cJSON_IsString(v)) {
		ch_csv_field_file(f, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	}
}

/* Cell "a=1; b=2" from [{"value","count"}] (or "a; b" from strings when counts is false). */
static bool csv_list(FILE *f, const cJSON *arr, bool counts)
{
	if (!cJSON_IsArray(arr))
		return true;
	char *s = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&s, &n);
	if (!m)
		return false;
	bool first = true;
	for (const cJSON *e = arr->child; e; e = e->next) {
		if (counts) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "count");
			if (!cJSON_IsString(v))
				continue;
			char num[48];
			ch_format_double_short(num, sizeof num, cJSON_IsNumber(c) ? c->valuedouble : 0.0);
			fprintf(m, "%s%s=%s", first ? "" : "; ", v->valuestring, num);
		} else {
			if (!cJSON_IsString(e))
				continue;
			fprintf(m, "%s%s", first ? "" : "; ", e->valuestring);
		}
		first = false;
	}
	if (fclose(m) != 0) {
		free(s);
		return false;
	}
	ch_csv_field_file(f, s);
	free(s);
	return true;
}

static churn_status summary_csv(const cJSON *summary, char **out, size_t *out_n)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return nomem();
	bool ok = true;
	fputs("name,type,role,missing,count,mean,std,min,p25,p50,p75,max,levels,reason,fitted_type,encoding,fill,"
	      "imputed,unseen,after_count,after_mean,after_std,after_min,after_max,after_levels,features\n", f);
	static const char *const before[] = {"type", "role", "missing", "count", "mean", "std",
	                                     "min",  "p25",  "p50",     "p75",   "max"};
	static const char *const prepk[] = {"type", "encoding", "fill", "imputed", "unseen"};
	static const char *const afterk[] = {"count", "mean", "std", "min", "max"};
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(summary, "columns");
	for (const cJSON *c = cols ? cols->child : NULL; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		ch_csv_field_file(f, cJSON_IsString(name) ? name->valuestring : "");
		for (size_t k = 0; k < sizeof(before) / sizeof(before[0]); k++)
			csv_item(f, c, before[k]);
		fputc(',', f);
		ok = ok && csv_list(f, cJSON_GetObjectItemCaseSensitive(c, "levels"), true);
		csv_item(f, c, "reason");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "prep");
		for (size_t k = 0; k < sizeof(prepk) / sizeof(prepk[0]); k++)
			csv_item(f, p, prepk[k]);
		const cJSON *a = p ? cJSON_GetObjectItemCaseSensitive(p, "after") : NULL;
		for (size_t k = 0; k < sizeof(afterk) / sizeof(afterk[0]); k++)
			csv_item(f, a, afterk[k]);
		fputc(',', f);
		ok = ok && csv_list(f, a ? cJSON_GetObjectItemCaseSensitive(a, "levels") : NULL, true);
		fputc(',', f);
		ok = ok && csv_list(f, p ? cJSON_GetObjectItemCaseSensitive(p, "features") : NULL, false);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || !ok) {
		free(buf);
		return nomem();
	}
	*out = buf;
	*out_n = n;
	return CHURN_OK;
}

/* ---- the processed data set, in chunks ---- */

typedef struct chunker {
	const churn_prep *prep;
	const churn_dataset *ds;
	const churn_matrix *x; /* pre-applied rows, or NULL: apply */
	const size_t *rows;    /* rows of ds used (NULL: all) */
	size_t nrows, chunk;
	size_t *idx;           /* one chunk of row indices */
	bool has_id;
	size_t id_col;
	const char **ids;      /* one chunk of ids */
	char *id_buf;          /* 32 bytes per row for numeric ids */
	bool threads;          /* write the CSV on a second thread */
} chunker;

/* Rows [r0, r0 + n) of the output as a matrix (*out) and their ids. */
static churn_status chunk_rows(chunker *c, size_t r0, size_t n, churn_matrix **out)
{
	for (size_t i = 0; i < n; i++)
		c->idx[i] = c->rows ? c->rows[r0 + i] : r0 + i;
	if (c->has_id)
		for (size_t i = 0; i < n; i++)
			c->ids[i] = churn_dataset_get_cell_text(c->ds, c->id_col, c->idx[i], c->id_buf + 32 * i, 32);
	if (c->x) {
		/* positions in x, not dataset rows */
		for (size_t i = 0; i < n; i++)
			c->idx[i] = r0 + i;
		return churn_matrix_subset_rows(c->x, c->idx, n, out);
	}
	return churn_prep_apply_rows(c->prep, c->ds, c->idx, n, out);
}

/* The CSV half of one chunk, on a second thread while the Parquet half runs. */
typedef struct csv_job {
	ch_prep_csv *cw;
	const churn_matrix *m;
	const char *const *ids;
	churn_status st;
	char err[1024]; /* error detail is thread-local: carried back */
} csv_job;

static void *csv_job_run(void *arg)
{
	csv_job *j = arg;
	j->st = ch_prep_csv_append(j->cw, j->m, j->ids);
	if (j->st)
		snprintf(j->err, sizeof j->err, "%s", churn_last_error());
	return NULL;
}

static churn_status write_data(chunker *c, const char *pq_path, const char *csv_path, const churn_params *p)
{
	const churn_prep *prep = c->prep;
	churn_parquet_writer *pw = NULL;
	ch_prep_csv *cw = NULL;
	churn_matrix *m = NULL;
	size_t nf = churn_prep_get_feature_count(prep);
	const char **names = malloc((nf ? nf : 1) * sizeof(*names));
	churn_status st = names ? CHURN_OK : nomem();
	for (size_t j = 0; names && j < nf; j++)
		names[j] = churn_prep_get_feature_name(prep, j);
	const char *id_name = c->has_id ? churn_prep_get_id(prep, 0) : NULL;
	unsigned flags = 0;
	for (size_t i = 0; c->has_id && i < c->nrows && !flags; i++)
		if (churn_dataset_is_missing(c->ds, c->id_col, c->rows ? c->rows[i] : i))
			flags = CHURN_PARQUET_ID_NULLABLE;
	for (size_t r0 = 0; !st && (r0 < c->nrows || r0 == 0); r0 += c->chunk) {
		size_t n = c->nrows - r0 < c->chunk ? c->nrows - r0 : c->chunk;
		if ((st = chunk_rows(c, r0, n, &m)))
			break;
		if (r0 == 0) {
			/* the first chunk tells whether there are labels (a target in ds) */
			const char *target = churn_matrix_get_labels(m) ? churn_prep_get_target(prep) : NULL;
			if (pq_path && (st = churn_parquet_writer_open(pq_path, names, nf, target, id_name, flags, c->nrows, p,
			                                               &pw)))
				break;
			if (csv_path && (st = ch_prep_csv_open(csv_path, names, nf, id_name, target, &cw)))
				break;
		}
		/* both writers read the chunk: the CSV on a second thread when there is a second CPU */
		csv_job job = {.cw = cw, .m = m, .ids = c->ids};
		ch_thread th;
		bool threaded = pw && cw && c->threads;
		if (threaded)
			ch_thread_start(&th, csv_job_run, &job);
		if (pw)
			st = churn_parquet_writer_append(pw, m, c->ids);
		if (threaded) {
			ch_thread_join(&th);
			if (!st && job.st)
				st = ch_fail(job.st, "%s", job.err);
		} else if (!st && cw) {
			st = ch_prep_csv_append(cw, m, c->ids);
		}
		if (st)
			break;
		churn_matrix_free(m);
		m = NULL;
		if (!ch_progress(p, "prepare", r0 + n, c->nrows)) {
			st = ch_fail(CHURN_E_STATE, "prepare: cancelled");
			break;
		}
		if (c->nrows == 0)
			break;
	}
	if (!st && pw)
		st = churn_parquet_writer_close(pw);
	if (!st && cw) {
		st = ch_prep_csv_close(cw);
		cw = NULL;
	}
	churn_matrix_free(m);
	churn_parquet_writer_free(pw);
	ch_prep_csv_free(cw);
	free(names);
	return st;
}

/* ---- the whole, step by step ---- */

/* Rows: all (*rows NULL), or those with a target when the spec drops missing targets (*rows, the caller frees it). */
static churn_status rows_with_target(const churn_prep *prep, const churn_dataset *ds, size_t **rows, size_t *nrows)
{
	size_t n = churn_dataset_get_row_count(ds), tj;
	*rows = NULL;
	*nrows = n;
	if (churn_prep_get_dropped_target_row_count(prep) == 0 ||
	    churn_dataset_find_col(ds, churn_prep_get_target(prep), &tj) != CHURN_OK)
		return CHURN_OK;
	size_t *r = malloc((n ? n : 1) * sizeof(size_t));
	if (!r)
		return nomem();
	size_t a = 0;
	for (size_t i = 0; i < n; i++)
		if (!churn_dataset_is_missing(ds, tj, i))
			r[a++] = i;
	*rows = r;
	*nrows = a;
	return CHURN_OK;
}

/* The texts of reports/summary.json and summary.csv (each when its path is set) and the imputed/unseen sums. */
typedef struct summaries {
	char *json, *csv;
	size_t csv_n, imputed, unseen;
} summaries;

/* The summaries (the profile, computed when prof is NULL, merged with the prep report of rows). */
static churn_status make_summaries(const churn_prep *prep, const churn_dataset *ds, const churn_profile *prof,
                                   size_t skipped_rows, const size_t *rows, size_t nrows, const char *const *path,
                                   const churn_params *p, summaries *out)
{
	churn_profile *own_prof = NULL;
	char *profile_json = NULL, *report_json = NULL;
	cJSON *summary = NULL;
	churn_status st = churn_prep_report_json(prep, ds, rows, rows ? nrows : 0, &report_json);
	if (!st && !prof && !(st = churn_profile_compute(ds, p, &own_prof)))
		prof = own_prof;
	if (!st)
		st = churn_profile_to_json(prof, &profile_json);
	if (!st)
		st = compose_summary(profile_json, report_json, prep, skipped_rows, &summary, &out->imputed, &out->unseen);
	churn_free(profile_json);
	churn_free(report_json);
	churn_profile_free(own_prof);
	if (!st && path[OUT_SUMMARY_JSON] && !(out->json = ch_json_print(summary, true)))
		st = nomem();
	if (!st && path[OUT_SUMMARY_CSV])
		st = summary_csv(summary, &out->csv, &out->csv_n);
	cJSON_Delete(summary);
	return st;
}

/* The processed data set (Parquet and CSV, each when its path is set) of rows (NULL: all nrows), in chunks. */
static churn_status processed_data(const churn_prep *prep, const churn_dataset *ds, const churn_matrix *x,
                                   const size_t *rows, size_t nrows, const char *const *path, const churn_params *p)
{
	chunker c = {.prep = prep, .ds = ds, .x = x, .rows = rows, .nrows = nrows};
	int64_t chunk = churn_params_get_int(p, CHURN_KEY_PREP_CHUNK_ROWS);
	c.threads = ch_ncores() > 1;
	c.chunk = chunk > 0 ? (size_t)chunk : 65536;
	if (c.chunk > nrows && nrows)
		c.chunk = nrows;
	size_t cap = c.chunk ? c.chunk : 1;
	if (churn_prep_get_id_count(prep) > 0 &&
	    churn_dataset_find_col(ds, churn_prep_get_id(prep, 0), &c.id_col) == CHURN_OK)
		c.has_id = true;
	churn_status st;
	if (!(c.idx = malloc(cap * sizeof(size_t))) ||
	    (c.has_id && (!(c.ids = malloc(cap * sizeof(char *))) || !(c.id_buf = malloc(cap * 32)))))
		st = nomem();
	else
		st = write_data(&c, path[OUT_PARQUET], path[OUT_CSV], p);
	free(c.idx);
	free(c.ids);
	free(c.id_buf);
	return st;
}

churn_status churn_prep_write_outputs(const churn_prep *prep, const churn_dataset *ds, const churn_profile *prof,
                                      size_t skipped_rows, const churn_matrix *x, const char *const *paths,
                                      size_t npaths, const churn_params *p, size_t *out_rows, size_t *out_imputed,
                                      size_t *out_unseen)
{
	if (!prep || !ds || (npaths && !paths))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_write_outputs: NULL argument");
	if (npaths > NOUT)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_write_outputs: %zu paths for %d outputs", npaths, NOUT);
	const char *path[NOUT] = {0};
	for (size_t k = 0; k < npaths; k++)
		path[k] = paths[k];
	churn_status st = CHURN_OK;
	churn_params *own = NULL;
	size_t *rows = NULL, nrows = 0;
	char *spec = NULL;
	summaries sum = {0};
	if (!p) {
		if ((st = churn_params_new(&own)))
			return st;
		p = own;
	}
	if ((st = rows_with_target(prep, ds, &rows, &nrows)))
		goto out;
	if (x && churn_matrix_get_row_count(x) != nrows) {
		st = ch_fail(CHURN_E_INVALID_ARG, "churn_prep_write_outputs: the matrix has %zu rows, the data %zu",
		             churn_matrix_get_row_count(x), nrows);
		goto out;
	}
	/* Reports first: nothing is replaced when they fail. */
	if ((st = make_summaries(prep, ds, prof, skipped_rows, rows, nrows, path, p, &sum)))
		goto out;
	if (path[OUT_SPEC] && (st = churn_prep_to_json(prep, &spec)))
		goto out;
	if ((path[OUT_PARQUET] || path[OUT_CSV]) && (st = processed_data(prep, ds, x, rows, nrows, path, p)))
		goto out;
	if (path[OUT_SPEC] && (st = ch_write_file_atomic(path[OUT_SPEC], spec, strlen(spec))))
		goto out;
	if (path[OUT_SUMMARY_JSON] && (st = ch_write_file_atomic(path[OUT_SUMMARY_JSON], sum.json, strlen(sum.json))))
		goto out;
	if (path[OUT_SUMMARY_CSV] && (st = ch_write_file_atomic(path[OUT_SUMMARY_CSV], sum.csv, sum.csv_n)))
		goto out;
	if (out_rows)
		*out_rows = nrows;
	if (out_imputed)
		*out_imputed = sum.imputed;
	if (out_unseen)
		*out_unseen = sum.unseen;
	ch_clear_error();
out:
	free(rows);
	churn_free(spec);
	free(sum.json);
	free(sum.csv);
	churn_params_free(own);
	return st;
}
