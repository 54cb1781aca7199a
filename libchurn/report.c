/* Reading a workdir's results for front-ends: details, records, artifacts. */
#include "churn/report.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "churn/version.h"
#include "churn/params.h"
#include "core-private.h"
#include "report-private.h"

/* Where artifacts live and which files in each directory are listed. */
static const struct {
	const char *dir;
	const char *kind;
	const char *suffixes[3];
	const char *only; /* a single file name, or NULL */
} places[] = {
	{"artifacts/models", "model", {".json", NULL, NULL}, NULL},
	{"artifacts", "prep", {".json", NULL, NULL}, "prep.json"},
	{"data/processed", "dataset", {".parquet", ".csv", NULL}, NULL},
	{"reports", "report", {".json", ".csv", NULL}, NULL},
	{"reports/figures", "figure", {".png", ".svg", NULL}, NULL},
};
#define NPLACES (sizeof(places) / sizeof(places[0]))

/* A JSON report of @p dir (a workdir or a pinned generation), at most workdir.max_report_bytes (its default). */
static churn_status read_report(const char *dir, const char *rel, char **out)
{
	return ch_json_read_file(dir, rel, (size_t)churn_params_get_int(NULL, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), out, NULL);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a > b && strcmp(s + a - b, suf) == 0;
}

static bool name_ok(const char *name)
{
	return name && name[0] && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\') && strlen(name) < 256;
}

static bool listed_in(size_t k, const char *name)
{
	if (!name_ok(name))
		return false;
	if (places[k].only)
		return strcmp(name, places[k].only) == 0;
	for (size_t s = 0; s < 3 && places[k].suffixes[s]; s++)
		if (has_suffix(name, places[k].suffixes[s]))
			return true;
	return false;
}

/* The regular file dir/name inside the workdir (no symlinks anywhere out of it). */
static churn_status inside(const char *workdir, const char *path)
{
	char root[PATH_MAX], real[PATH_MAX];
	if (!realpath(workdir, root) || !realpath(path, real))
		return ch_fail(CHURN_E_NOTFOUND, "not found");
	size_t n = strlen(root);
	if (strncmp(real, root, n) != 0 || real[n] != '/')
		return ch_fail(CHURN_E_NOTFOUND, "not found");
	struct stat sb;
	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return ch_fail(CHURN_E_NOTFOUND, "not found");
	return CHURN_OK;
}

churn_status churn_report_artifact_path(const char *workdir, const char *name, const char *kind, char **out_path)
{
	if (!workdir || !out_path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_artifact_path: NULL argument");
	if (!name_ok(name))
		return ch_fail(CHURN_E_NOTFOUND, "no artifact named '%s'", name ? name : "");
	for (size_t k = 0; k < NPLACES; k++) {
		if ((kind && strcmp(kind, places[k].kind) != 0) || !listed_in(k, name))
			continue;
		char *path = ch_asprintf("%s/%s/%s", workdir, places[k].dir, name);
		if (!path)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		if (inside(workdir, path) == CHURN_OK) {
			*out_path = path;
			return CHURN_OK;
		}
		free(path);
	}
	return ch_fail(CHURN_E_NOTFOUND, "no artifact named '%s'", name);
}

/*
 * The directory to read a consistent set from: the published generation
 * (<workdir>/.current resolved once; generation-private.h), or the workdir
 * itself when it has none. A commit meanwhile switches .current, but the
 * generation read stays whole (the previous one is kept a commit longer).
 */
static char *pinned_dir(const char *workdir)
{
	char *link = ch_asprintf("%s/.current", workdir);
	char *real = link ? realpath(link, NULL) : NULL;
	free(link);
	return real ? real : ch_strdup(workdir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

churn_status churn_report_artifacts_json(const char *workdir, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_artifacts_json: NULL argument");
	cJSON *arr = cJSON_CreateArray();
	char *root = pinned_dir(workdir); /* every directory listed from one generation */
	if (!arr || !root) {
		cJSON_Delete(arr);
		free(root);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	churn_status st = CHURN_OK;
	for (size_t k = 0; k < NPLACES && !st; k++) {
		char *dir = ch_asprintf("%s/%s", root, places[k].dir);
		DIR *d = dir ? opendir(dir) : NULL;
		if (!d) {
			free(dir);
			continue;
		}
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!listed_in(k, e->d_name))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				char **nn = realloc(names, cap * sizeof(*nn));
				if (!nn)
					break;
				names = nn;
			}
			if (!(names[n] = ch_strdup(e->d_name)))
				break;
			n++;
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), cmp_str);
		for (size_t i = 0; i < n; i++) {
			char *path = ch_asprintf("%s/%s", dir, names[i]);
			struct stat sb;
			char hex[65];
			if (path && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && inside(workdir, path) == CHURN_OK &&
			    ch_sha256_file(path, hex) == CHURN_OK) {
				char when[32];
				ch_format_time_utc(when, sizeof(when), (int64_t)sb.st_mtime);
				cJSON *o = cJSON_CreateObject();
				if (o) {
					cJSON_AddStringToObject(o, "name", names[i]);
					cJSON_AddStringToObject(o, "kind", places[k].kind);
					cJSON_AddNumberToObject(o, "bytes", (double)sb.st_size);
					cJSON_AddStringToObject(o, "sha256", hex);
					cJSON_AddStringToObject(o, "modified", when);
					cJSON_AddItemToArray(arr, o);
				}
			}
			free(path);
			free(names[i]);
		}
		free(names);
		free(dir);
	}
	free(root);
	char *s = ch_json_print(arr, false);
	cJSON_Delete(arr);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_clear_error();
	*out_json = s;
	return CHURN_OK;
}

churn_status churn_report_records_json(const char *workdir, const char *rel, size_t limit, char **out_json)
{
	if (!workdir || !rel || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_records_json: NULL argument");
	char *text = NULL;
	churn_status st = read_report(workdir, rel, &text);
	if (st)
		return st;
	cJSON *doc = ch_json_parse_str(text, rel);
	churn_free(text);
	cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
	if (!cJSON_IsArray(runs)) {
		cJSON_Delete(doc);
		return ch_fail(CHURN_E_PARSE, "%s/%s: no \"runs\" array", workdir, rel);
	}
	while (limit && (size_t)cJSON_GetArraySize(runs) > limit)
		cJSON_DeleteItemFromArray(runs, 0);
	char *s = ch_json_print(doc, false);
	cJSON_Delete(doc);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_json = s;
	return CHURN_OK;
}

/* Last entry of runs[] with pipeline == @p pipeline (and status succeeded when @p ok_only). */
static cJSON *last_run(cJSON *runs, const char *pipeline, bool ok_only)
{
	for (int i = cJSON_GetArraySize(runs) - 1; i >= 0; i--) {
		cJSON *e = cJSON_GetArrayItem(runs, i);
		const char *pl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "pipeline"));
		const char *stt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status"));
		if (pl && !strcmp(pl, pipeline) && (!ok_only || (stt && !strcmp(stt, "succeeded"))))
			return e;
	}
	return NULL;
}

/*
 * @p text with every absolute filesystem path cut to its last component
 * ("/srv/churn/data/raw/x.csv:12:3: ..." -> "x.csv:12:3: ..."): the details
 * go to HTTP clients, who need not learn the server's directory layout. A
 * path starts a word ('/' after a space, a quote, '(' or '=', or first) and
 * runs to white space, a quote, ')', ',' or ':'; URLs are left whole.
 */
char *ch_report_strip_paths(const char *text)
{
	char *out = ch_strdup(text);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = text; *p;) {
		bool starts = *p == '/' && (p == text || strchr(" \t\"'(=", p[-1]));
		if (!starts) {
			*o++ = *p++;
			continue;
		}
		size_t n = strcspn(p, " \t\n\"'),:");
		const char *last = p;
		for (const char *q = p; q < p + n; q++)
			if (*q == '/' && q + 1 < p + n)
				last = q + 1;
		memmove(o, last, (size_t)(p + n - last));
		o += p + n - last;
		p += n;
	}
	*o = '\0';
	return out;
}

/* Copy @p keys of @p src into @p dst, string values without absolute paths. */
static void copy_keys(cJSON *dst, const cJSON *src, const char *const *keys)
{
	for (; *keys; keys++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(src, *keys);
		if (cJSON_IsString(v)) {
			char *safe = ch_report_strip_paths(v->valuestring);
			cJSON_AddItemToObject(dst, *keys, safe ? cJSON_CreateString(safe) : cJSON_CreateNull());
			free(safe);
			continue;
		}
		cJSON_AddItemToObject(dst, *keys, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
}

/*
 * reports/summary.json as the dataset keys of a data run ({rows, columns,
 * churn_rate}), in a new document *out_doc; NULL when absent or unusable.
 */
static cJSON *summary_as_run(const char *workdir, cJSON **out_doc)
{
	char *text = NULL;
	if (read_report(workdir, "reports/summary.json", &text) != CHURN_OK)
		return NULL;
	cJSON *sum = ch_json_parse_str(text, "reports/summary.json");
	churn_free(text);
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(sum, "rows");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(sum, "columns");
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "target"), "rate");
	cJSON *run = cJSON_IsNumber(rows) ? cJSON_CreateObject() : NULL;
	if (run) {
		cJSON_AddNumberToObject(run, "rows", rows->valuedouble);
		if (cJSON_IsArray(cols))
			cJSON_AddNumberToObject(run, "columns", (double)cJSON_GetArraySize(cols));
		if (cJSON_IsNumber(rate))
			cJSON_AddNumberToObject(run, "churn_rate", rate->valuedouble);
	}
	cJSON_Delete(sum);
	*out_doc = run;
	return run;
}

/* The entry of models with the highest roc_auc (the first of equals; NaN never), or NULL. */
static cJSON *best_model(const cJSON *models)
{
	cJSON *best = NULL, *m;
	double best_auc = -1;
	cJSON_ArrayForEach(m, models)
	{
		double auc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "roc_auc"));
		if (auc == auc && auc > best_auc) {
			best_auc = auc;
			best = m;
		}
	}
	return best;
}

/* The documents the details are made of, read from one generation. */
typedef struct details_src {
	char *runs_text, *metrics_text;
	cJSON *runs_doc, *metrics_doc, *summary_doc;
	cJSON *runs;    /* runs[] of run_metadata.json (may be NULL) */
	cJSON *data_ok; /* the last succeeded data run, or the summary as one */
} details_src;

static void details_src_free(details_src *s)
{
	cJSON_Delete(s->runs_doc);
	cJSON_Delete(s->metrics_doc);
	cJSON_Delete(s->summary_doc);
	churn_free(s->runs_text);
	churn_free(s->metrics_text);
}

/* The run records, the summary and the metrics under dir; CHURN_E_NOTFOUND without a completed data run. */
static churn_status details_read(const char *workdir, const char *dir, details_src *s)
{
	if (read_report(dir, "reports/run_metadata.json", &s->runs_text) == CHURN_OK)
		s->runs_doc = ch_json_parse_str(s->runs_text, "reports/run_metadata.json");
	s->runs = cJSON_GetObjectItemCaseSensitive(s->runs_doc, "runs");
	/*
	 * The records keep the last N runs: after N ML runs the data run has
	 * rotated out, but its summary is still there to describe the data.
	 */
	if (!(s->data_ok = last_run(s->runs, "data", true)) && !(s->data_ok = summary_as_run(dir, &s->summary_doc)))
		return ch_fail(CHURN_E_NOTFOUND, "no completed data run in %s yet: run `churn run --workdir %s`", workdir,
		               workdir);
	if (read_report(dir, "reports/metrics.json", &s->metrics_text) == CHURN_OK)
		s->metrics_doc = ch_json_parse_str(s->metrics_text, "reports/metrics.json");
	return CHURN_OK;
}

/* The workdir's base name into buf: clients need not learn where it lives. */
static void workdir_name(const char *workdir, char *buf, size_t cap)
{
	size_t wl = strlen(workdir);
	while (wl > 1 && workdir[wl - 1] == '/')
		wl--;
	size_t ws = wl;
	while (ws > 0 && workdir[ws - 1] != '/')
		ws--;
	snprintf(buf, cap, "%.*s", (int)(wl - ws), workdir + ws);
}

/* dataset, last_data_run and last_model_run. */
static void add_runs(cJSON *out, const details_src *s)
{
	static const char *const ds_keys[] = {"source", "rows", "columns", "churn_rate", "sha256", "features", NULL};
	static const char *const run_keys[] = {"run_id",     "status", "started_at", "finished_at",
	                                       "duration_s", "error",  NULL};
	copy_keys(cJSON_AddObjectToObject(out, "dataset"), s->data_ok, ds_keys);
	copy_keys(cJSON_AddObjectToObject(out, "last_data_run"), last_run(s->runs, "data", false), run_keys);
	cJSON *ml = last_run(s->runs, "ml", false);
	if (ml)
		copy_keys(cJSON_AddObjectToObject(out, "last_model_run"), ml, run_keys);
	else
		cJSON_AddNullToObject(out, "last_model_run");
}

/* best_model (by ROC AUC) with its metrics, and when the metrics were made. */
static void add_best(cJSON *out, const cJSON *metrics_doc)
{
	cJSON *best = best_model(cJSON_GetObjectItemCaseSensitive(metrics_doc, "models"));
	if (!best) {
		cJSON_AddNullToObject(out, "best_model");
		return;
	}
	cJSON *b = cJSON_AddObjectToObject(out, "best_model");
	cJSON_AddStringToObject(b, "name", best->string);
	cJSON_AddItemToObject(b, "metrics", cJSON_Duplicate(best, 1));
	cJSON_AddStringToObject(out, "metrics_generated_at",
	                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(metrics_doc, "generated_at")));
}

churn_status churn_report_details_json(const char *workdir, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_details_json: NULL argument");
	details_src src = {0};
	cJSON *out = NULL;
	/* the records, the summary and the metrics of one generation */
	char *dir = pinned_dir(workdir);
	if (!dir)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = details_read(workdir, dir, &src);
	if (st)
		goto out;
	if (!(out = cJSON_CreateObject())) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	char now[32], wname[256];
	ch_format_time_utc(now, sizeof(now), (int64_t)time(NULL));
	workdir_name(workdir, wname, sizeof wname);
	cJSON_AddStringToObject(out, "name", "libchurn");
	cJSON_AddStringToObject(out, "version", churn_version());
	cJSON_AddStringToObject(out, "generated_at", now);
	cJSON_AddStringToObject(out, "workdir", wname);
	add_runs(out, &src);
	add_best(out, src.metrics_doc);
	char *s = ch_json_print(out, false);
	if (!s) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	*out_json = s;
out:
	free(dir);
	cJSON_Delete(out);
	details_src_free(&src);
	return st;
}

churn_status churn_report_best_model(const char *workdir, char **out_name)
{
	if (!workdir || !out_name)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_best_model: NULL argument");
	char *text = NULL;
	churn_status st = read_report(workdir, "reports/metrics.json", &text);
	if (st)
		return st == CHURN_E_NOTFOUND ? ch_fail(st, "no model evaluated in %s yet: run `churn ml --workdir %s`",
		                                        workdir, workdir)
		                              : st;
	cJSON *doc = ch_json_parse_str(text, "reports/metrics.json");
	churn_free(text);
	const cJSON *best = best_model(cJSON_GetObjectItemCaseSensitive(doc, "models"));
	*out_name = best ? ch_strdup(best->string) : NULL;
	cJSON_Delete(doc);
	if (!best)
		return ch_fail(CHURN_E_NOTFOUND, "no model evaluated in %s yet: run `churn ml --workdir %s`", workdir, workdir);
	return *out_name ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

const char *churn_report_content_type(const char *name)
{
	if (!name)
		return "application/octet-stream";
	if (has_suffix(name, ".json"))
		return "application/json; charset=utf-8";
	if (has_suffix(name, ".csv"))
		return "text/csv; charset=utf-8";
	if (has_suffix(name, ".png"))
		return "image/png";
	if (has_suffix(name, ".svg"))
		return "image/svg+xml; charset=utf-8";
	if (has_suffix(name, ".parquet"))
		return "application/vnd.apache.parquet";
	return "application/octet-stream";
}

churn_status churn_report_metrics_json(const char *workdir, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_metrics_json: NULL argument");
	return read_report(workdir, "reports/metrics.json", out_json);
}

churn_status churn_report_drift_json(const char *workdir, char **out_json)
{
	if (!workdir || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_report_drift_json: NULL argument");
	return read_report(workdir, "reports/drift.json", out_json);
}

char *ch_report_pinned_dir(const char *workdir)
{
	return pinned_dir(workdir);
}
