/*
 * churn prepare: fit the feature preparation on a CSV and write the processed
 * data set (data/processed/churn.parquet, churn.csv), the prep spec
 * (artifacts/prep.json) and the column summary (reports/summary.json, .csv).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

typedef struct prepare_out {
	churn_dataset *ds;
	churn_prep *prep;
	churn_matrix *m;
	churn_profile *prof;
	churn_workdir *w;
	size_t *rows;
	const char **ids;
	char *id_arena;
	char *paths[5];
	char *json;
	cJSON *summary;
} prepare_out;

static void prepare_out_free(prepare_out *o)
{
	churn_dataset_free(o->ds);
	churn_prep_free(o->prep);
	churn_matrix_free(o->m);
	churn_profile_free(o->prof);
	churn_workdir_free(o->w);
	free(o->rows);
	free(o->ids);
	free(o->id_arena);
	for (size_t k = 0; k < 5; k++)
		churn_free(o->paths[k]);
	churn_free(o->json);
	cJSON_Delete(o->summary);
}

/* Ids of the first ID column of the spec for the chosen rows; NULL when there is none in the data. */
static int collect_ids(prepare_out *o, size_t nrows, const char **out_name)
{
	*out_name = NULL;
	if (churn_prep_get_id_count(o->prep) == 0)
		return 0;
	const char *name = churn_prep_get_id(o->prep, 0);
	size_t j;
	if (churn_dataset_find_col(o->ds, name, &j) != CHURN_OK)
		return 0;
	o->ids = calloc(nrows ? nrows : 1, sizeof(char *));
	if (!o->ids)
		return -1;
	bool numeric = churn_dataset_get_col_type(o->ds, j) == CHURN_COL_NUMERIC;
	if (numeric && !(o->id_arena = malloc((nrows ? nrows : 1) * 32)))
		return -1;
	for (size_t i = 0; i < nrows; i++) {
		size_t r = o->rows ? o->rows[i] : i;
		char *buf = numeric ? o->id_arena + i * 32 : NULL;
		o->ids[i] = churn_dataset_get_cell_text(o->ds, j, r, buf, 32);
	}
	*out_name = name;
	return 0;
}

/* Shortest %g text that reads back exactly (the C locale is in effect in the CLI). */
static void fmt_num(char *buf, size_t cap, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
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

static void csv_item(FILE *f, const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	char buf[48];
	fputc(',', f);
	if (cJSON_IsNumber(v)) {
		fmt_num(buf, sizeof buf, v->valuedouble);
		fputs(buf, f);
	} else if (cJSON_IsString(v)) {
		csv_cell(f, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	}
}

/* "a=1; b=2" from [{"value","count"}]. */
static void csv_levels(FILE *f, const cJSON *levels)
{
	fputc(',', f);
	if (!cJSON_IsArray(levels))
		return;
	size_t len = 0, cap = 256;
	char *s = malloc(cap);
	if (!s)
		return;
	s[0] = 0;
	for (const cJSON *e = levels->child; e; e = e->next) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "count");
		if (!cJSON_IsString(v))
			continue;
		size_t need = len + strlen(v->valuestring) + 32;
		if (need > cap) {
			char *ns = realloc(s, need * 2);
			if (!ns)
				break;
			s = ns;
			cap = need * 2;
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%s=%.0f", len ? "; " : "", v->valuestring,
		                        cJSON_IsNumber(c) ? c->valuedouble : 0.0);
	}
	csv_cell(f, s);
	free(s);
}

static char *summary_csv(const cJSON *summary, size_t *out_n)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return NULL;
	fputs("name,type,role,missing,count,mean,std,min,p25,p50,p75,max,levels,reason,fitted_type,encoding,fill,"
	      "imputed,unseen,after_count,after_mean,after_std,after_min,after_max,after_levels,features\n", f);
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(summary, "columns");
	for (const cJSON *c = cols ? cols->child : NULL; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		csv_cell(f, cJSON_IsString(name) ? name->valuestring : "");
		static const char *const before[] = {"type", "role", "missing", "count", "mean", "std", "min",
		                                     "p25",  "p50",  "p75",     "max"};
		for (size_t k = 0; k < sizeof(before) / sizeof(before[0]); k++)
			csv_item(f, c, before[k]);
		csv_levels(f, cJSON_GetObjectItemCaseSensitive(c, "levels"));
		csv_item(f, c, "reason");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "prep");
		static const char *const prepk[] = {"type", "encoding", "fill", "imputed", "unseen"};
		for (size_t k = 0; k < 5; k++)
			csv_item(f, p, prepk[k]);
		const cJSON *a = p ? cJSON_GetObjectItemCaseSensitive(p, "after") : NULL;
		static const char *const afterk[] = {"count", "mean", "std", "min", "max"};
		for (size_t k = 0; k < 5; k++)
			csv_item(f, a, afterk[k]);
		csv_levels(f, a ? cJSON_GetObjectItemCaseSensitive(a, "levels") : NULL);
		fputc(',', f);
		const cJSON *fe = p ? cJSON_GetObjectItemCaseSensitive(p, "features") : NULL;
		if (cJSON_IsArray(fe)) {
			size_t len = 0;
			for (const cJSON *e = fe->child; e; e = e->next)
				len += strlen(e->valuestring) + 2;
			char *s = malloc(len + 1);
			if (s) {
				s[0] = 0;
				for (const cJSON *e = fe->child; e; e = e->next) {
					if (e != fe->child)
						strcat(s, "; ");
					strcat(s, e->valuestring);
				}
				csv_cell(f, s);
				free(s);
			}
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*out_n = n;
	return buf;
}

/*
 * reports/summary.json: the profile (statistics before imputation) with, per
 * column, "role" and "prep" (fitted type, encoding, fill, imputed/unseen
 * counts, "after" statistics and the features it became), plus a top-level
 * "prep" object.
 */
static cJSON *compose_summary(const char *profile_json, const char *report_json, const churn_prep *prep,
                              size_t skipped, size_t unseen, size_t imputed)
{
	cJSON *s = cJSON_Parse(profile_json);
	cJSON *rep = cJSON_Parse(report_json);
	if (!s || !rep)
		goto fail;
	const cJSON *rcols = cJSON_GetObjectItemCaseSensitive(rep, "columns");
	cJSON *cols = cJSON_GetObjectItemCaseSensitive(s, "columns");
	for (cJSON *c = cols ? cols->child : NULL; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		if (!cJSON_IsString(name))
			continue;
		for (const cJSON *rc = rcols ? rcols->child : NULL; rc; rc = rc->next) {
			const cJSON *rn = cJSON_GetObjectItemCaseSensitive(rc, "name");
			if (!cJSON_IsString(rn) || strcmp(rn->valuestring, name->valuestring) != 0)
				continue;
			cJSON *dup = cJSON_Duplicate(rc, true);
			if (!dup)
				goto fail;
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
			break;
		}
	}
	cJSON *po = cJSON_CreateObject();
	if (!po || !cJSON_AddItemToObject(s, "prep", po))
		goto fail;
	cJSON_AddNumberToObject(po, "rows", cJSON_GetObjectItemCaseSensitive(rep, "rows")->valuedouble);
	cJSON_AddNumberToObject(po, "features", (double)churn_prep_get_nfeatures(prep));
	cJSON *names = cJSON_AddArrayToObject(po, "feature_names");
	for (size_t j = 0; names && j < churn_prep_get_nfeatures(prep); j++)
		cJSON_AddItemToArray(names, cJSON_CreateString(churn_prep_get_feature_name(prep, j)));
	cJSON *dropped = cJSON_DetachItemFromObjectCaseSensitive(rep, "dropped");
	if (dropped)
		cJSON_AddItemToObject(po, "dropped", dropped);
	cJSON_AddNumberToObject(po, "dropped_target_rows", (double)churn_prep_get_dropped_target_rows(prep));
	cJSON_AddNumberToObject(po, "skipped_rows", (double)skipped);
	cJSON_AddNumberToObject(po, "imputed_cells", (double)imputed);
	cJSON_AddNumberToObject(po, "unseen_cells", (double)unseen);
	cJSON_AddStringToObject(po, "spec", "artifacts/prep.json");
	cJSON_Delete(rep);
	return s;
fail:
	cJSON_Delete(s);
	cJSON_Delete(rep);
	return NULL;
}

int cmd_prepare(cli_ctx *ctx, int argc, char **argv)
{
	const char *input = NULL, *outdir = NULL;
	const cli_opt opts[] = {
		{"input", "CSV", &input, NULL, "CSV file to prepare (required)"},
		{"out", "DIR", &outdir, NULL, "output directory (default: the workdir)"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "fit the feature preparation on a CSV; write data/processed/churn.parquet|csv, "
	                   "artifacts/prep.json and reports/summary.json|csv");
	if (rc)
		return rc;
	if (!input) {
		cli_error(ctx, "--input CSV is required (see churn prepare --help)");
		return EX_USAGE_;
	}
	if (!outdir)
		outdir = ctx->workdir;
	prepare_out o = {0};
	churn_status st;
	const char *what = input;
	size_t skipped = 0, unseen = 0, imputed = 0;
	char *profile_json = NULL, *report_json = NULL, *text = NULL;
	size_t text_n = 0;

	if ((st = churn_csv_read_file(input, ctx->params, &o.ds, &skipped)))
		goto fail;
	what = "profile";
	if ((st = churn_profile_compute(o.ds, ctx->params, &o.prof)) || (st = churn_profile_to_json(o.prof, &profile_json)))
		goto fail;
	what = "fit";
	if ((st = churn_prep_fit(o.ds, NULL, 0, ctx->params, &o.prep)))
		goto fail;
	/* Rows: all, or those with a target when missing targets are dropped. */
	size_t nrows = churn_dataset_get_nrows(o.ds);
	size_t tj;
	if (churn_prep_get_dropped_target_rows(o.prep) > 0 &&
	    churn_dataset_find_col(o.ds, churn_prep_get_target(o.prep), &tj) == CHURN_OK) {
		o.rows = malloc((nrows ? nrows : 1) * sizeof(size_t));
		if (!o.rows) {
			st = CHURN_E_NOMEM;
			goto fail;
		}
		size_t a = 0;
		for (size_t i = 0; i < nrows; i++)
			if (!churn_dataset_is_missing(o.ds, tj, i))
				o.rows[a++] = i;
		nrows = a;
	}
	what = "apply";
	if ((st = churn_prep_apply_rows_count(o.prep, o.ds, o.rows, o.rows ? nrows : 0, &o.m, &unseen, &imputed)))
		goto fail;
	const char *id_name = NULL;
	if (collect_ids(&o, nrows, &id_name) < 0) {
		st = CHURN_E_NOMEM;
		goto fail;
	}

	what = outdir;
	if ((st = churn_workdir_open(outdir, ctx->params, &o.w)) || (st = churn_workdir_lock(o.w)))
		goto fail;
	static const char *const rel[5] = {"data/processed/churn.parquet", "data/processed/churn.csv",
	                                   "artifacts/prep.json", "reports/summary.json", "reports/summary.csv"};
	for (size_t k = 0; k < 5; k++)
		if ((st = churn_workdir_join(o.w, rel[k], &o.paths[k])))
			goto fail;
	const char *target = churn_matrix_get_labels(o.m) ? churn_prep_get_target(o.prep) : NULL;
	what = o.paths[0];
	if ((st = churn_parquet_write_matrix(o.paths[0], o.m, target, id_name, o.ids, ctx->params)))
		goto fail;
	what = o.paths[1];
	if ((st = churn_prep_write_csv(o.prep, o.m, id_name, o.ids, o.paths[1])))
		goto fail;
	what = o.paths[2];
	if ((st = churn_prep_to_json(o.prep, &o.json)) ||
	    (st = churn_workdir_write(o.w, rel[2], o.json, strlen(o.json))))
		goto fail;
	what = o.paths[3];
	if ((st = churn_prep_report_json(o.prep, o.ds, o.rows, o.rows ? nrows : 0, &report_json)))
		goto fail;
	if (!(o.summary = compose_summary(profile_json, report_json, o.prep, skipped, unseen, imputed)) ||
	    !(text = cJSON_Print(o.summary))) {
		st = CHURN_E_NOMEM;
		goto fail;
	}
	if ((st = churn_workdir_write(o.w, rel[3], text, strlen(text))))
		goto fail;
	cJSON_free(text);
	text = NULL;
	what = o.paths[4];
	if (!(text = summary_csv(o.summary, &text_n))) {
		st = CHURN_E_NOMEM;
		goto fail;
	}
	if ((st = churn_workdir_write(o.w, rel[4], text, text_n)))
		goto fail;
	free(text);
	text = NULL;

	size_t nf = churn_prep_get_nfeatures(o.prep), nd = churn_prep_get_dropped_count(o.prep);
	if (ctx->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "input", input);
		cJSON_AddNumberToObject(j, "rows", (double)nrows);
		cJSON_AddNumberToObject(j, "features", (double)nf);
		cJSON_AddStringToObject(j, "target", churn_prep_get_target(o.prep));
		cJSON_AddStringToObject(j, "positive", churn_prep_get_positive(o.prep));
		cJSON *dr = cJSON_AddArrayToObject(j, "dropped");
		for (size_t k = 0; k < nd; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "column", churn_prep_get_dropped_column(o.prep, k));
			cJSON_AddStringToObject(e, "reason", churn_prep_get_dropped_reason(o.prep, k));
			cJSON_AddItemToArray(dr, e);
		}
		cJSON_AddNumberToObject(j, "dropped_target_rows", (double)churn_prep_get_dropped_target_rows(o.prep));
		cJSON_AddNumberToObject(j, "skipped_rows", (double)skipped);
		cJSON_AddNumberToObject(j, "imputed_cells", (double)imputed);
		cJSON *outs = cJSON_AddObjectToObject(j, "outputs");
		static const char *const keys[5] = {"parquet", "csv", "prep", "summary_json", "summary_csv"};
		for (size_t k = 0; k < 5; k++)
			cJSON_AddStringToObject(outs, keys[k], o.paths[k]);
		char *s = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		if (s)
			printf("%s\n", s);
		cJSON_free(s);
	} else if (!ctx->quiet) {
		printf("prepared %zu rows x %zu features from %s (target %s, positive \"%s\")\n", nrows, nf, input,
		       churn_prep_get_target(o.prep), churn_prep_get_positive(o.prep));
		for (size_t k = 0; k < nd; k++)
			printf("  dropped %s: %s\n", churn_prep_get_dropped_column(o.prep, k),
			       churn_prep_get_dropped_reason(o.prep, k));
		if (churn_prep_get_dropped_target_rows(o.prep))
			printf("  dropped %zu rows with a missing target\n", churn_prep_get_dropped_target_rows(o.prep));
		if (imputed)
			printf("  imputed %zu missing cells\n", imputed);
		for (size_t k = 0; k < 5; k++)
			printf("  wrote %s\n", o.paths[k]);
	}
	churn_free(profile_json);
	churn_free(report_json);
	prepare_out_free(&o);
	return 0;
fail:
	rc = cli_fail(ctx, st, what);
	cJSON_free(text);
	churn_free(profile_json);
	churn_free(report_json);
	prepare_out_free(&o);
	return rc;
}
