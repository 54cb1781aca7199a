/*
 * The data and ML pipelines: steps over the library's modules, run under the
 * workdir lock, written into a new generation of the workdir and published
 * whole by one commit (struct txn), so a failure or a kill leaves the previous
 * good outputs in place, and recorded in reports/run_metadata.json.
 */
#include "churn/pipeline.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "churn/csv.h"
#include "churn/db.h"
#include "churn/dataset.h"
#include "churn/eda.h"
#include "churn/fetch.h"
#include "churn/matrix.h"
#include "churn/model.h"
#include "churn/parquet.h"
#include "churn/prep.h"
#include "churn/train.h"
#include "churn/profile.h"
#include "churn/workdir.h"
#include "alerts-private.h"
#include "core-private.h"
#include "generation-private.h"
#include "params-private.h"
#include "pipeline-private.h"
#include "prep-private.h"
#include "registry-private.h"
#include "thread-private.h"

#define MAX_STEPS 16

/*
 * One commit: a pipeline run, or both runs of `churn run` (published
 * together, or neither). Outputs are written into a new generation of the
 * workdir (generation-private.h); the commit completes it with hard links of
 * the current generation's other files and the run records, moves the fetched
 * raw file into data/raw, and switches .current with one rename. A failure
 * (or a kill) before the switch leaves the previous generation published; a
 * failed run is then recorded by a commit of its own: the current generation
 * with only run_metadata.json changed.
 */
struct txn {
	churn_workdir *w;
	ch_gen_steps steps;  /* the test hook's counter, over every commit of the call */
	ch_gen *gen;         /* the generation the runs write into */
	cJSON *runs;         /* the run records of the call so far (what the commit appends) */
	/* the raw file of the data run: fetched into raw_dir, moved into data/raw by the commit */
	char *raw_dir;       /* <wd>/data/raw/.incoming-<run_id> */
	char *raw_name;
	bool moved[2], had_old[2]; /* the file and its .meta.json: moved into place; an older one kept */
	char record_error[1024];   /* why the run records could not be written ("" when they were) */
	cJSON *alerts;             /* the alerts the call's runs fired (pipeline-alerts.c) */
	int alerts_sent;           /* how many of them the webhook was given */
};

/* One pipeline run: its steps and record fields. */
struct run {
	churn_workdir *w;
	struct txn *txn;
	churn_params *p;       /* copy of the caller's params, logging into the workdir */
	const char *pipeline;  /* "data" | "ml" */
	char run_id[48];
	double t0;
	int64_t started;
	struct {
		const char *name;
		double duration;
		bool ok;
	} steps[MAX_STEPS];
	size_t nsteps;
	cJSON *fields;         /* source, sha256, rows, columns, churn_rate, ... */
	cJSON *model_records;  /* borrowed: appended to model_run_metadata.json by the commit */
	/* The caller's log callback: lines go to pipeline.log and to it. */
	churn_log_fn caller_log;
	void *caller_ud;
	churn_log_level caller_max;
};

/* Log callback of a run: the workdir log, then the caller's own callback. */
static void run_log(void *ud, churn_log_level level, const char *msg)
{
	struct run *r = ud;
	churn_workdir_log_fn(r->w, level, msg);
	if (r->caller_log && level <= r->caller_max) {
		char line[1600];
		snprintf(line, sizeof(line), "run=%s %.1500s", r->run_id, msg);
		r->caller_log(r->caller_ud, level, line);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The path of output @p rel in the run's new generation (its directory made). */
static churn_status stage(struct run *r, const char *rel, char **out)
{
	char *path = ch_gen_path(r->txn->gen, rel);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char *slash = strrchr(path, '/');
	*slash = '\0';
	churn_status st = ch_mkdir_p(path);
	*slash = '/';
	if (st) {
		free(path);
		return st;
	}
	*out = path;
	return CHURN_OK;
}

static void txn_init(struct txn *t, churn_workdir *w)
{
	memset(t, 0, sizeof(*t));
	t->w = w;
	t->runs = cJSON_CreateArray();
	t->alerts = cJSON_CreateArray();
}

static void txn_clear(struct txn *t)
{
	ch_gen_discard(t->gen);
	if (t->raw_dir)
		ch_remove_tree(t->raw_dir);
	free(t->raw_dir);
	free(t->raw_name);
	cJSON_Delete(t->runs);
	cJSON_Delete(t->alerts);
	memset(t, 0, sizeof(*t));
}

/* "<wd>/data/raw/<name>" (k 0) or its "<name>.meta.json" (k 1), in place or in the incoming directory. */
static char *raw_file(const struct txn *t, bool incoming, int k, const char *prefix)
{
	const char *dir = incoming ? t->raw_dir : NULL;
	char *base = dir ? ch_strdup(dir) : ch_asprintf("%s/data/raw", churn_workdir_get_path(t->w));
	char *path = base ? ch_asprintf("%s/%s%s%s", base, prefix, t->raw_name, k ? ".meta.json" : "") : NULL;
	free(base);
	return path;
}

/* Move the fetched raw file and its meta into data/raw (the stored ones kept aside until the switch). */
static churn_status raw_commit(struct txn *t)
{
	churn_status st = CHURN_OK;
	if (!t->raw_name)
		return CHURN_OK;
	for (int k = 0; k < 2 && !st; k++) {
		char *src = raw_file(t, true, k, ""), *dst = raw_file(t, false, k, ""), *old = raw_file(t, true, k, "old-");
		struct stat ssb, dsb;
		if (!src || !dst || !old) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		} else if (lstat(src, &ssb) != 0) {
			/* nothing fetched under this name */
		} else if (lstat(dst, &dsb) == 0 && dsb.st_ino == ssb.st_ino && dsb.st_dev == ssb.st_dev) {
			/* unchanged: the incoming file is a link of the stored one */
		} else {
			t->had_old[k] = lstat(dst, &dsb) == 0;
			if (t->had_old[k] && !(st = ch_gen_step(&t->steps, "keep data/raw/%s%s", t->raw_name, k ? ".meta.json" : "")) &&
			    link(dst, old) != 0 && errno != EEXIST)
				st = ch_fail(CHURN_E_IO, "%s: cannot keep the stored file: %s", old, strerror(errno));
			if (!st && !(st = ch_gen_step(&t->steps, "move data/raw/%s%s", t->raw_name, k ? ".meta.json" : ""))) {
				if (rename(src, dst) != 0)
					st = ch_fail(CHURN_E_IO, "%s: cannot move into place: %s", dst, strerror(errno));
				else
					t->moved[k] = true;
			}
		}
		free(src);
		free(dst);
		free(old);
	}
	return st;
}

/* Put the stored raw file and meta back (the commit failed after moving them). */
static void raw_restore(struct txn *t)
{
	for (int k = 0; k < 2; k++) {
		if (!t->moved[k])
			continue;
		char *dst = raw_file(t, false, k, ""), *old = raw_file(t, true, k, "old-");
		if (dst && old) {
			if (t->had_old[k])
				rename(old, dst);
			else
				unlink(dst);
		}
		t->moved[k] = false;
		free(dst);
		free(old);
	}
}

static churn_status run_begin(struct run *r, churn_workdir *w, const churn_params *p, const char *pipeline,
                              struct txn *t)
{
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->txn = t;
	r->pipeline = pipeline;
	r->t0 = now_s();
	r->started = (int64_t)time(NULL);
	churn_status st = churn_params_copy(p, &r->p);
	if (st)
		return st;
	ch_params_get_log(p, &r->caller_log, &r->caller_ud, &r->caller_max);
	churn_params_set_log(r->p, run_log, r, CHURN_LOG_INFO);
	char *run_id = NULL;
	if ((st = churn_workdir_new_run_id(w, &run_id)))
		return st;
	snprintf(r->run_id, sizeof(r->run_id), "%s", run_id);
	churn_free(run_id);
	if (!(r->fields = cJSON_CreateObject()) || !t->runs || !t->alerts)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = ch_alerts_check_params(r->p)))
		return st;
	t->steps.p = r->p;
	char line[256];
	snprintf(line, sizeof(line), "pipeline=%s status=started", pipeline);
	run_log(r, CHURN_LOG_INFO, line);
	if (!t->gen) {
		/* Under the lock: the generation layout (and what killed runs left), then this run's generation. */
		char id[64];
		snprintf(id, sizeof(id), "%s.layout", r->run_id);
		if ((st = ch_gen_layout(churn_workdir_get_path(w), id, &t->steps)) ||
		    (st = ch_gen_begin(churn_workdir_get_path(w), r->run_id, &t->steps, &t->gen)))
			return st;
	}
	ch_set_defer_fsync(true);
	return CHURN_OK;
}

static void step_done(struct run *r, const char *name, double t0, churn_status st)
{
	double d = now_s() - t0;
	if (r->nsteps < MAX_STEPS) {
		r->steps[r->nsteps].name = name;
		r->steps[r->nsteps].duration = d;
		r->steps[r->nsteps].ok = (st == CHURN_OK);
		r->nsteps++;
	}
	char line[1400];
	if (st)
		snprintf(line, sizeof(line), "pipeline=%s step=%s duration_s=%.3f status=failed error=\"%s\"", r->pipeline,
		         name, d, churn_last_error());
	else
		snprintf(line, sizeof(line), "pipeline=%s step=%s duration_s=%.3f status=succeeded", r->pipeline, name, d);
	char saved[1024];
	snprintf(saved, sizeof(saved), "%s", churn_last_error());
	run_log(r, st ? CHURN_LOG_ERROR : CHURN_LOG_INFO, line);
	ch_fail(st, "%s", saved);
}

/* The run record of r (NULL on OOM). */
static cJSON *run_record(struct run *r, churn_status st, const char *error)
{
	char t_start[32], t_end[32];
	ch_format_time_utc(t_start, sizeof(t_start), r->started);
	ch_format_time_utc(t_end, sizeof(t_end), (int64_t)time(NULL));
	cJSON *rec = cJSON_CreateObject();
	cJSON *steps = cJSON_CreateArray();
	if (!rec || !steps) {
		cJSON_Delete(rec);
		cJSON_Delete(steps);
		return NULL;
	}
	cJSON_AddStringToObject(rec, "run_id", r->run_id);
	cJSON_AddStringToObject(rec, "pipeline", r->pipeline);
	cJSON_AddStringToObject(rec, "started_at", t_start);
	cJSON_AddStringToObject(rec, "finished_at", t_end);
	cJSON_AddNumberToObject(rec, "duration_s", round((now_s() - r->t0) * 1000) / 1000);
	cJSON_AddStringToObject(rec, "status", st ? "failed" : "succeeded");
	if (st)
		cJSON_AddStringToObject(rec, "error", error);
	else
		cJSON_AddNullToObject(rec, "error");
	static const char *const keys[] = {"source", "sha256", "rows", "columns", "churn_rate"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		cJSON *v = r->fields ? cJSON_GetObjectItemCaseSensitive(r->fields, keys[k]) : NULL;
		cJSON_AddItemToObject(rec, keys[k], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	cJSON *extra;
	cJSON_ArrayForEach(extra, r->fields)
	{
		if (!cJSON_GetObjectItemCaseSensitive(rec, extra->string))
			cJSON_AddItemToObject(rec, extra->string, cJSON_Duplicate(extra, 1));
	}
	for (size_t i = 0; i < r->nsteps; i++) {
		cJSON *s = cJSON_CreateObject();
		if (!s)
			break;
		cJSON_AddStringToObject(s, "name", r->steps[i].name);
		cJSON_AddNumberToObject(s, "duration_s", round(r->steps[i].duration * 1000) / 1000);
		cJSON_AddStringToObject(s, "status", r->steps[i].ok ? "succeeded" : "failed");
		cJSON_AddItemToArray(steps, s);
	}
	cJSON_AddItemToObject(rec, "steps", steps);
	return rec;
}

/* Mark a record failed with @p error (and its commit step, when it has one). */
static void record_fail(cJSON *rec, const char *error)
{
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "status", cJSON_CreateString("failed"));
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "error", cJSON_CreateString(error));
	cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rec, "steps"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name"));
		if (name && !strcmp(name, "commit"))
			cJSON_ReplaceItemInObjectCaseSensitive(s, "status", cJSON_CreateString("failed"));
	}
}

/* Append @p items (a JSON array) to the record @p rel of generation g. */
static churn_status append_records(struct txn *t, ch_gen *g, const char *rel, const cJSON *items)
{
	char *text = ch_json_print(items, false);
	char *in_gen = ch_asprintf(".gen/%s/%s", g->id, rel);
	churn_status st = (text && in_gen) ? ch_gen_step(&t->steps, "write %s", rel) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_workdir_append_record(t->w, in_gen, text);
	free(text);
	free(in_gen);
	return st;
}

/* The call's fired alerts appended to reports/alerts.json of generation g (nothing when none fired). */
static churn_status append_alerts(struct txn *t, ch_gen *g, const churn_params *p)
{
	if (!cJSON_GetArraySize(t->alerts))
		return CHURN_OK;
	char *path = ch_gen_path(g, "reports/alerts.json");
	churn_status st = path ? ch_gen_step(&t->steps, "write reports/alerts.json") : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		*strrchr(path, '/') = '\0';
		st = ch_mkdir_p(path);
		path[strlen(path)] = '/';
	}
	if (!st)
		st = ch_alerts_append(path, t->alerts, p);
	free(path);
	return st;
}

/* The commit of a call whose runs succeeded: records into the generation, raw file into data/raw, the switch. */
static churn_status commit_publish(struct txn *t, struct run *r)
{
	ch_pipeline_alerts_deliver(r->p, t->runs, t->alerts, &t->alerts_sent);
	churn_status st = append_records(t, t->gen, "reports/run_metadata.json", t->runs);
	if (!st)
		st = append_alerts(t, t->gen, r->p);
	if (!st && cJSON_GetArraySize(r->model_records) > 0)
		st = append_records(t, t->gen, "reports/model_run_metadata.json", r->model_records);
	if (!st)
		st = raw_commit(t);
	if (!st)
		st = ch_gen_publish(t->gen, r->p);
	if (st) {
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", churn_last_error());
		raw_restore(t);
		ch_fail(st, "%s", saved);
	}
	return st;
}

/*
 * A failed call: nothing of its runs is published but their records, written
 * by a commit of their own (the current generation with run_metadata.json
 * changed). When that cannot be done, t->record_error says why.
 */
static void commit_failure(struct txn *t, struct run *r, const char *error)
{
	ch_gen_discard(t->gen);
	t->gen = NULL;
	raw_restore(t);
	if (t->raw_dir)
		ch_remove_tree(t->raw_dir);
	/* the earlier runs of the call (the data run of `churn run`) succeeded but are not published */
	cJSON *rec;
	int n = cJSON_GetArraySize(t->runs), i = 0;
	cJSON_ArrayForEach(rec, t->runs)
	{
		const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "status"));
		if (++i < n && status && !strcmp(status, "succeeded")) {
			char msg[1200];
			snprintf(msg, sizeof(msg), "not published: the %s run %s failed: %s", r->pipeline, r->run_id, error);
			record_fail(rec, msg);
		}
	}
	/* this run's failure is an alert (also when its commit failed after its alerts were evaluated) */
	ch_pipeline_alerts_failed(r->p, cJSON_GetArrayItem(t->runs, n - 1), t->alerts);
	ch_pipeline_alerts_deliver(r->p, t->runs, t->alerts, &t->alerts_sent);
	ch_gen *g = NULL;
	char id[64], lid[64];
	snprintf(id, sizeof(id), "%s.failed", r->run_id);
	snprintf(lid, sizeof(lid), "%s.layout2", r->run_id);
	const char *wd = churn_workdir_get_path(t->w);
	churn_status st = ch_gen_layout(wd, lid, &t->steps);
	if (!st)
		st = ch_gen_begin(wd, id, &t->steps, &g);
	if (!st)
		st = ch_gen_fill(g);
	if (!st)
		st = append_records(t, g, "reports/run_metadata.json", t->runs);
	if (!st && append_alerts(t, g, r->p)) {
		/* the record (which lists the alerts) matters more: publish it without alerts.json */
		ch_log(r->p, CHURN_LOG_ERROR, "reports/alerts.json not written: %s", churn_last_error());
		ch_clear_error();
	}
	if (!st)
		st = ch_gen_publish(g, r->p);
	if (st) {
		snprintf(t->record_error, sizeof(t->record_error), "%s", churn_last_error());
		char line[1200];
		snprintf(line, sizeof(line), "pipeline=%s the run record could not be written: %s", r->pipeline,
		         t->record_error);
		run_log(r, CHURN_LOG_ERROR, line);
	}
	ch_gen_discard(g);
}

/*
 * End a run: record it; on success, when @p last, commit the call's outputs
 * (an earlier run of `churn run` leaves that to the last); on failure, commit
 * the records alone.
 */
static churn_status run_end(struct run *r, churn_status st, bool last)
{
	struct txn *t = r->txn;
	char error[1024];
	snprintf(error, sizeof(error), "%s", st ? churn_last_error() : "");
	if (!st && last) {
		double t0 = now_s();
		st = ch_gen_fill(t->gen);
		step_done(r, "commit", t0, st);
		if (st)
			snprintf(error, sizeof(error), "%s", churn_last_error());
	}
	cJSON *rec = run_record(r, st, error);
	if (rec) {
		ch_pipeline_alerts(r->w, t->gen ? t->gen->dir : NULL, r->p, rec, t->alerts);
		cJSON_AddItemToArray(t->runs, rec);
	}
	else if (!st)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && last) {
		double t0 = now_s();
		if ((st = commit_publish(t, r))) {
			snprintf(error, sizeof(error), "%s", churn_last_error());
			record_fail(rec, error);
		} else {
			char line[256];
			snprintf(line, sizeof(line), "pipeline=%s published generation %s (records, sync and switch %.3f s)",
			         r->pipeline, t->gen->id, now_s() - t0);
			run_log(r, CHURN_LOG_INFO, line);
		}
	}
	if (st)
		commit_failure(t, r, error);
	ch_set_defer_fsync(false);
	char line[1400];
	snprintf(line, sizeof(line), "pipeline=%s status=%s duration_s=%.3f%s%s%s", r->pipeline,
	         st ? "failed" : "succeeded", now_s() - r->t0, st ? " error=\"" : "", st ? error : "", st ? "\"" : "");
	run_log(r, st ? CHURN_LOG_ERROR : CHURN_LOG_INFO, line); /* (the data run of churn run: published with the ML run) */
	t->steps.p = NULL;
	cJSON_Delete(r->fields);
	churn_params_free(r->p);
	if (st)
		ch_fail(st, "%s", error); /* the caller sees the step's error, not a later one */
	return st;
}

/* The record of run k of the call as text (churn_free), with "record_error" when it was not written. */
static char *txn_record(const struct txn *t, int k)
{
	cJSON *rec = cJSON_GetArrayItem(t->runs, k);
	if (!rec)
		return NULL;
	cJSON *copy = cJSON_Duplicate(rec, 1);
	if (copy && t->record_error[0])
		cJSON_AddStringToObject(copy, "record_error", t->record_error);
	char *text = copy ? ch_json_print(copy, true) : NULL;
	cJSON_Delete(copy);
	return text;
}

#define STEP(r, name, call)                                   \
	do {                                                      \
		double t0_ = now_s();                                 \
		st = (call);                                          \
		step_done((r), (name), t0_, st);                      \
		if (st)                                               \
			goto out;                                         \
	} while (0)

/* ------------------------------------------------------------------ */
/* Shared pieces                                                        */

static churn_status save_string(const char *path, const char *s)
{
	return ch_write_file_atomic(path, s, strlen(s));
}

static double positive_rate(const churn_matrix *x)
{
	const uint8_t *y = churn_matrix_get_labels(x);
	size_t n = churn_matrix_get_row_count(x), pos = 0;
	if (!y || !n)
		return NAN;
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	return (double)pos / (double)n;
}

/* ------------------------------------------------------------------ */
/* Data pipeline: fetch -> profile -> prepare -> eda                    */

struct prefit;
static struct prefit *prefit_start(const churn_params *p, churn_workdir *w, const churn_dataset *ds,
                                   const char *path, const char *sha256);
static void prefit_free(struct prefit *f);

struct data_state {
	char *raw_path;      /* where the run reads the raw file (data/raw/.incoming-<run_id>/<name>) */
	char *raw_rel;       /* where the commit puts it: "data/raw/<name>" */
	churn_fetch_info *info;
	churn_dataset *ds;
	churn_prep *prep;
	churn_matrix *x;
	churn_eda *eda;
	churn_profile *prof; /* from step_profile, written (and freed) by step_prepare */
	size_t skipped;      /* rows the CSV reader skipped */
	struct importance *imp; /* started by step_prepare, collected by step_eda */
	bool want_prefit;       /* churn run: start the ML run's training once the rows are read */
	struct prefit *pre;     /* that training (handed to the ML run on success) */
};

static churn_status importance_start(struct run *r, struct data_state *d);

/*
 * The source is fetched into data/raw/.incoming-<run_id>/, which starts with
 * hard links of the stored file and its meta (for the conditional GET and
 * change detection); the commit moves it into data/raw. A source the run
 * rejects (size, CSV errors, ...) never replaces the stored one.
 */
static churn_status step_fetch(struct run *r, struct data_state *d)
{
	const char *source = churn_params_get_str(r->p, CHURN_KEY_DATA_SOURCE);
	const char *wd = churn_workdir_get_path(r->w);
	struct txn *t = r->txn;
	char *name = NULL;
	churn_status st = churn_fetch_default_name(source, &name);
	if (st)
		return st;
	free(t->raw_name);
	t->raw_name = ch_strdup(name);
	churn_free(name);
	free(t->raw_dir);
	t->raw_dir = ch_asprintf("%s/data/raw/.incoming-%s", wd, r->run_id);
	d->raw_rel = t->raw_name ? ch_asprintf("data/raw/%s", t->raw_name) : NULL;
	d->raw_path = t->raw_dir && t->raw_name ? ch_asprintf("%s/%s", t->raw_dir, t->raw_name) : NULL;
	if (!t->raw_name || !t->raw_dir || !d->raw_rel || !d->raw_path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = ch_mkdir_p(t->raw_dir)))
		return st;
	for (int k = 0; k < 2; k++) {
		char *stored = raw_file(t, false, k, ""), *in = raw_file(t, true, k, "");
		if (stored && in && link(stored, in) != 0 && errno != ENOENT)
			ch_log(r->p, CHURN_LOG_DEBUG, "%s: not linked (%s); fetched anew", stored, strerror(errno));
		free(stored);
		free(in);
	}
	if ((st = churn_fetch(source, d->raw_path, r->p, &d->info)))
		return st;
	cJSON_AddStringToObject(r->fields, "source", churn_fetch_info_get_url(d->info)); /* credentials masked */
	cJSON_AddStringToObject(r->fields, "sha256", churn_fetch_info_get_sha256(d->info));
	cJSON_AddStringToObject(r->fields, "raw_path", d->raw_rel);
	cJSON_AddBoolToObject(r->fields, "source_changed", churn_fetch_info_is_changed(d->info));
	return CHURN_OK;
}

static churn_status step_profile(struct run *r, struct data_state *d)
{
	size_t skipped = 0;
	churn_status st = churn_csv_read_file(d->raw_path, r->p, &d->ds, &skipped);
	if (st || (st = ch_pipeline_resolve_names(r->p, d->ds)))
		return st;
	/* churn run: the ML run's training starts now, on a thread of its own (see prefit_start) */
	if (d->want_prefit)
		d->pre = prefit_start(r->p, r->w, d->ds, d->raw_path, churn_fetch_info_get_sha256(d->info));
	cJSON_AddNumberToObject(r->fields, "rows", (double)churn_dataset_get_row_count(d->ds));
	cJSON_AddNumberToObject(r->fields, "columns", (double)churn_dataset_get_column_count(d->ds));
	if (skipped)
		cJSON_AddNumberToObject(r->fields, "skipped_rows", (double)skipped);
	d->skipped = skipped;
	if ((st = ch_pipeline_schema_fields(d->ds, r->fields)))
		return st;
	/* reports/summary.json|csv hold the profile and the prep report: step_prepare writes them. */
	return churn_profile_compute(d->ds, r->p, &d->prof);
}

/*
 * data/processed/source.json: which raw file (and which bytes of it, by
 * sha256) the processed data came from; the ML pipeline reads the data it
 * scores from there. Committed with the processed data, so it never points
 * at a file a later failed run left behind.
 */
static churn_status stage_source_record(struct run *r, struct data_state *d)
{
	cJSON *o = cJSON_CreateObject();
	char *path = NULL, *text = NULL;
	churn_status st = o ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st)
		return st;
	cJSON_AddStringToObject(o, "run_id", r->run_id);
	cJSON_AddStringToObject(o, "source", churn_fetch_info_get_url(d->info));
	cJSON_AddStringToObject(o, "raw_path", d->raw_rel);
	cJSON_AddStringToObject(o, "sha256", churn_fetch_info_get_sha256(d->info));
	cJSON_AddNumberToObject(o, "rows", (double)churn_dataset_get_row_count(d->ds));
	cJSON_AddNumberToObject(o, "columns", (double)churn_dataset_get_column_count(d->ds));
	if (!(text = ch_json_print(o, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	else if (!(st = stage(r, "data/processed/source.json", &path)))
		st = save_string(path, text);
	cJSON_Delete(o);
	free(text);
	free(path);
	return st;
}

static churn_status step_prepare(struct run *r, struct data_state *d)
{
	churn_status st = churn_prep_fit(d->ds, NULL, 0, r->p, &d->prep);
	if (!st)
		st = churn_prep_apply(d->prep, d->ds, &d->x);
	if (st) {
		churn_profile_free(d->prof);
		d->prof = NULL;
		return st;
	}
	cJSON_AddNumberToObject(r->fields, "churn_rate", positive_rate(d->x));
	cJSON_AddNumberToObject(r->fields, "labelled_rows", (double)churn_matrix_get_row_count(d->x));
	cJSON_AddNumberToObject(r->fields, "features", (double)churn_matrix_get_column_count(d->x));
	cJSON_AddItemToObject(r->fields, "notes", ch_prep_screen_notes_json(d->prep));
	if ((st = importance_start(r, d)))
		return st;
	/* The same five files as `churn prepare`, from the matrix applied above. */
	char *paths[5] = {0};
	for (size_t k = 0; k < 5 && !st; k++)
		st = stage(r, churn_prep_output_name(k), &paths[k]);
	if (!st)
		st = churn_prep_write_outputs(d->prep, d->ds, d->prof, d->skipped, d->x, (const char *const *)paths, 5, r->p,
		                              NULL, NULL, NULL);
	for (size_t k = 0; k < 5; k++)
		free(paths[k]);
	churn_profile_free(d->prof);
	d->prof = NULL;
	if (!st)
		st = stage_source_record(r, d);
	return st;
}

/*
 * The EDA feature importance (churn_eda_importance_compute: a random forest,
 * impurity and permutation per raw column, the same call as `churn eda`).
 * It needs only the prepared matrix, so step_prepare starts it on a thread of
 * its own and step_eda collects it: the forest grows while the processed files
 * are written and the statistics computed. The job reads the spec and the
 * matrix (which nothing changes until it is joined) and a copy of the
 * parameters whose progress step_eda shows while it waits (ch_job).
 */
struct importance {
	ch_job job;
	churn_params *p;
	const churn_prep *prep;
	const churn_matrix *x;
	churn_status st;
	char error[1024];
	churn_eda_importance *result;
};

static void *importance_main(void *arg)
{
	struct importance *j = arg;
	if ((j->st = churn_eda_importance_compute(j->prep, j->x, j->p, &j->result)))
		snprintf(j->error, sizeof j->error, "%s", churn_last_error());
	return NULL;
}

/* Start the job (on the calling thread when no thread can be made); NULL job when importance is off. */
static churn_status importance_start(struct run *r, struct data_state *d)
{
	if (!churn_params_get_bool(r->p, CHURN_KEY_PIPELINE_IMPORTANCE))
		return CHURN_OK;
	struct importance *j = calloc(1, sizeof(*j));
	if (!j)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = churn_params_copy(r->p, &j->p);
	if (st) {
		free(j);
		return st;
	}
	churn_params_set_progress(j->p, ch_job_progress, &j->job);
	j->prep = d->prep;
	j->x = d->x;
	d->imp = j;
	ch_job_start(&j->job, importance_main, j);
	return CHURN_OK;
}

static void importance_free(struct importance *j)
{
	if (!j)
		return;
	ch_job_cancel(&j->job);
	ch_job_destroy(&j->job);
	churn_params_free(j->p);
	churn_eda_importance_free(j->result);
	free(j);
}

static churn_status step_eda(struct run *r, struct data_state *d)
{
	churn_status st = churn_eda_compute(d->ds, r->p, &d->eda);
	if (st)
		return st;
	if ((st = churn_eda_set_correlation(d->eda, d->x)))
		return st;
	if (d->imp && !ch_job_wait(&d->imp->job, r->p, 100))
		return ch_fail(CHURN_E_STATE, "eda: cancelled by the progress callback");
	if (d->imp && d->imp->st) {
		/* Importance is one figure among many: note why it is missing and go on. */
		char note[1200];
		snprintf(note, sizeof(note), "feature importance skipped: %s", d->imp->error);
		ch_log(r->p, CHURN_LOG_WARN, "%s", note);
		if ((st = churn_eda_add_note(d->eda, note)))
			return st;
	} else if (d->imp && (st = churn_eda_set_importance_of(d->eda, d->imp->result))) {
		return st;
	}
	/* Revenue at risk needs model scores: the ML pipeline adds it. */
	char *path = NULL;
	if ((st = stage(r, "reports/eda.json", &path)))
		return st;
	st = churn_eda_save_json(d->eda, path);
	free(path);
	return st;
}

/* reports/drift.json (and drift_psi.png): these rows against the serving model's training rows (pipeline-drift.c). */
static churn_status step_drift(struct run *r, struct data_state *d)
{
	char *path = NULL, *dir = NULL;
	cJSON *summary = NULL;
	bool figures = churn_params_get_bool(r->p, CHURN_KEY_PIPELINE_FIGURES);
	churn_status st = stage(r, "reports/drift.json", &path);
	if (!st && figures)
		st = stage(r, "reports/figures/", &dir);
	if (!st)
		st = ch_pipeline_drift(churn_workdir_get_path(r->w), d->ds, r->p, r->run_id, path, dir, &summary);
	if (!st)
		cJSON_AddItemToObject(r->fields, "drift", summary);
	free(path);
	free(dir);
	return st;
}

static churn_status step_figures(struct run *r, struct data_state *d)
{
	char *dir = NULL;
	churn_status st = stage(r, "reports/figures/", &dir);
	if (st)
		return st;
	st = churn_eda_draw_figures(d->eda, dir, r->p);
	free(dir);
	return st;
}

/*
 * What `churn run` hands from its data run to its ML run: the rows just
 * committed, so the ML run need not read and hash the raw file again (the
 * same bytes: the workdir stays locked in between), and its training,
 * started as soon as the rows were read.
 */

struct handoff {
	char *raw_path;
	char *read_path;       /* where the raw file is until the commit (data/raw/.incoming-<run_id>/<name>) */
	char sha256[65];
	churn_dataset *ds;
	struct prefit *pre;    /* the ML run's churn_train, started after the CSV was read */
};

static void handoff_clear(struct handoff *h)
{
	prefit_free(h->pre); /* before the rows it reads */
	free(h->raw_path);
	free(h->read_path);
	churn_dataset_free(h->ds);
	memset(h, 0, sizeof(*h));
}

/* The data run; with @p keep (`churn run`), its commit is left to the ML run, which gets the rows and matrix. */
static churn_status data_locked(churn_workdir *w, const churn_params *p, struct txn *t, struct handoff *keep)
{
	struct run r;
	struct data_state d = {.want_prefit = keep != NULL};
	churn_status st = run_begin(&r, w, p, "data", t);
	if (st)
		goto out;
	STEP(&r, "fetch", step_fetch(&r, &d));
	STEP(&r, "profile", step_profile(&r, &d));
	STEP(&r, "prepare", step_prepare(&r, &d));
	STEP(&r, "eda", step_eda(&r, &d));
	if (churn_params_get_bool(r.p, CHURN_KEY_DRIFT_ENABLED))
		STEP(&r, "drift", step_drift(&r, &d));
	if (churn_params_get_bool(r.p, CHURN_KEY_PIPELINE_FIGURES))
		STEP(&r, "figures", step_figures(&r, &d));
out:
	importance_free(d.imp);
	st = run_end(&r, st, keep == NULL);
	if (!st && keep) {
		keep->raw_path = ch_asprintf("%s/%s", churn_workdir_get_path(w), d.raw_rel);
		snprintf(keep->sha256, sizeof keep->sha256, "%s", churn_fetch_info_get_sha256(d.info));
		keep->ds = d.ds;
		keep->pre = d.pre;
		keep->read_path = d.raw_path;
		d.raw_path = NULL;
		d.pre = NULL;
		d.ds = NULL;
	}
	prefit_free(d.pre); /* the data run failed: its rows go */
	free(d.raw_path);
	free(d.raw_rel);
	churn_fetch_info_free(d.info);
	churn_dataset_free(d.ds);
	churn_prep_free(d.prep);
	churn_matrix_free(d.x);
	churn_eda_free(d.eda);
	return st;
}

/* ------------------------------------------------------------------ */
/* ML pipeline: the last data run's rows -> churn_train -> artifacts, metrics */

struct ml_state {
	churn_dataset *ds;     /* raw rows of the last data run (the training's sample with train.max_rows) */
	char *read_path;       /* where the raw file is read from */
	char sha256[65];
	churn_training *t;     /* split, models, thresholds, metrics (churn/train.h) */
	cJSON *records;        /* model records, appended after commit */
	churn_eda *rev_eda;    /* revenue at risk of the best model (step_report), for its figure */
};

/* The raw CSV of the last successful data run and its sha256, from data/processed/source.json. */
static churn_status find_raw_input(struct run *r, char **out_path, char sha256[65])
{
	const char *wd = churn_workdir_get_path(r->w);
	char *json = NULL;
	churn_status st = churn_workdir_read_json(r->w, "data/processed/source.json", &json, NULL);
	if (st == CHURN_E_NOTFOUND)
		return ch_fail(CHURN_E_NOTFOUND, "%s: no completed data run yet; run `churn data` first", wd);
	if (st)
		return st;
	cJSON *doc = cJSON_Parse(json);
	churn_free(json);
	const char *raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "raw_path"));
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "sha256"));
	if (!raw || !sha || strlen(sha) != 64 || strstr(raw, "..")) {
		cJSON_Delete(doc);
		return ch_fail(CHURN_E_PARSE, "%s/data/processed/source.json: no raw_path and sha256; run `churn data`", wd);
	}
	memcpy(sha256, sha, 65);
	*out_path = ch_asprintf("%s/%s", wd, raw);
	cJSON_Delete(doc);
	return *out_path ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/*
 * The data run's target, positive label and ID columns (from its spec,
 * artifacts/prep.json), unless this run's options name them: the ML run
 * learns the data the last data run prepared.
 */
static churn_status adopt_data_options(struct run *r)
{
	char *path = NULL, *spec = NULL, *ids = NULL;
	churn_prep *prep = NULL;
	churn_status st = churn_workdir_join(r->w, "artifacts/prep.json", &path);
	if (!st)
		st = ch_read_file(path, 64u << 20, &spec, NULL);
	if (!st)
		st = churn_prep_from_json(spec, &prep);
	if (!st && !churn_params_is_set(r->p, CHURN_KEY_DATA_TARGET))
		st = churn_params_set_str(r->p, CHURN_KEY_DATA_TARGET, churn_prep_get_target(prep));
	if (!st && !churn_params_is_set(r->p, CHURN_KEY_DATA_POSITIVE))
		st = churn_params_set_str(r->p, CHURN_KEY_DATA_POSITIVE, churn_prep_get_positive(prep));
	for (size_t k = 0; !st && k < churn_prep_get_id_count(prep); k++) {
		char *more = ch_asprintf("%s%s%s", ids ? ids : "", ids ? "," : "", churn_prep_get_id(prep, k));
		free(ids);
		if (!(ids = more))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (!st && ids && !churn_params_is_set(r->p, CHURN_KEY_DATA_ID))
		st = churn_params_set_str(r->p, CHURN_KEY_DATA_ID, ids);
	churn_prep_free(prep);
	free(ids);
	free(spec);
	free(path);
	return st;
}

static churn_status step_load(struct run *r, struct ml_state *m, struct handoff *in)
{
	char *raw = NULL, want[65];
	churn_status st;
	if (in && in->ds) {
		/* `churn run`: the data run's own rows */
		if (!in->raw_path)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		raw = in->raw_path;
		m->read_path = in->read_path;
		in->read_path = NULL;
		snprintf(m->sha256, sizeof m->sha256, "%s", in->sha256);
		m->ds = in->ds;
		in->raw_path = NULL;
		in->ds = NULL;
		goto fields;
	}
	if ((st = find_raw_input(r, &raw, want)) || (st = adopt_data_options(r)))
		goto out;
	/* Hash first: a raw file replaced by a later, failed data run is not the processed data's. */
	if ((st = ch_sha256_file(raw, m->sha256)))
		goto out;
	if (strcmp(m->sha256, want) != 0) {
		st = ch_fail(CHURN_E_NOTFOUND,
		             "%s changed since the last successful data run (sha256 %.12s..., expected %.12s...); "
		             "run `churn data` again",
		             raw, m->sha256, want);
		goto out;
	}
	/* train.max_rows: only the training's sample is read */
	if ((st = churn_csv_read_file_sampled(raw, r->p, &m->ds, NULL, NULL)))
		goto out;
fields:
	st = CHURN_OK;
	cJSON_AddStringToObject(r->fields, "source", raw + strlen(churn_workdir_get_path(r->w)) + 1);
	cJSON_AddStringToObject(r->fields, "sha256", m->sha256);
	cJSON_AddNumberToObject(r->fields, "rows", (double)churn_dataset_get_rows_read(m->ds));
	cJSON_AddNumberToObject(r->fields, "columns", (double)churn_dataset_get_column_count(m->ds));
out:
	free(raw);
	return st;
}

/*
 * The early training: `churn run` starts its ML run's churn_train as soon
 * as the data run has its rows, so it overlaps the data run's prepare and
 * EDA; the ML run takes the result (the training it would do itself: same
 * rows, options and seeds). It runs as a ch_job with a copy of the
 * parameters: the ML run shows its progress while it waits (step_train), a
 * failed data run cancels it, and its log lines go to the workdir's log (not
 * through the data run, which may be over by then).
 */
struct prefit {
	ch_job job;
	churn_params *p;
	const churn_dataset *ds;  /* the data run's, alive until this is freed */
	char *path;               /* the raw file, for a sample (train.max_rows) */
	churn_dataset *sample;    /* that sample, trained on instead of ds */
	char sha256[65];
	churn_training *t;
	churn_status st;
	char error[1024];
};

/*
 * Whether the training of ds (every row of the file) takes a sample of it
 * instead (train.max_rows, and more rows than that): the sample is then read
 * from the file by churn_csv_read_file_sampled(), the rows `churn ml` trains
 * on from the same file.
 */
static bool wants_sample(const churn_dataset *ds, const churn_params *p)
{
	size_t cap = (size_t)churn_params_get_int(p, CHURN_KEY_TRAIN_MAX_ROWS);
	return cap > 0 && churn_dataset_get_rows_read(ds) == churn_dataset_get_row_count(ds) &&
	       churn_dataset_get_row_count(ds) > cap;
}

static void *prefit_main(void *arg)
{
	struct prefit *f = arg;
	f->st = CHURN_OK;
	if (wants_sample(f->ds, f->p))
		f->st = churn_csv_read_file_sampled(f->path, f->p, &f->sample, NULL, NULL);
	if (!f->st)
		f->st = churn_train(f->sample ? f->sample : f->ds, f->sha256, f->p, &f->t);
	if (f->st)
		snprintf(f->error, sizeof f->error, "%s", churn_last_error());
	return NULL;
}

static void prefit_free(struct prefit *f)
{
	if (!f)
		return;
	ch_job_cancel(&f->job);
	ch_job_destroy(&f->job);
	churn_training_free(f->t);
	churn_dataset_free(f->sample);
	churn_params_free(f->p);
	free(f->path);
	free(f);
}

/* Start the early training on ds; NULL when it cannot start (the ML run then trains itself). */
static struct prefit *prefit_start(const churn_params *p, churn_workdir *w, const churn_dataset *ds,
                                   const char *path, const char *sha256)
{
	struct prefit *f = calloc(1, sizeof(*f));
	if (!f || !(f->path = ch_strdup(path)) || churn_params_copy(p, &f->p)) {
		if (f)
			free(f->path);
		free(f);
		ch_clear_error();
		return NULL;
	}
	f->ds = ds;
	snprintf(f->sha256, sizeof f->sha256, "%s", sha256);
	churn_params_set_log(f->p, churn_workdir_log_fn, w, CHURN_LOG_INFO);
	churn_params_set_progress(f->p, ch_job_progress, &f->job);
	ch_job_start(&f->job, prefit_main, f);
	return f;
}

/* The training: the early one of `churn run` (waited for), or churn_train now. */
static churn_status step_train(struct run *r, struct ml_state *m, struct prefit *pre)
{
	churn_status st;
	if (pre) {
		if (!ch_job_wait(&pre->job, r->p, 100))
			return ch_fail(CHURN_E_STATE, "train: cancelled by the progress callback");
		if (pre->st)
			return ch_fail(pre->st, "%s", pre->error);
		m->t = pre->t;
		pre->t = NULL;
		if (pre->sample) {
			churn_dataset_free(m->ds);
			m->ds = pre->sample;
			pre->sample = NULL;
		}
	} else {
		churn_dataset *s = NULL;
		if (m->read_path && wants_sample(m->ds, r->p)) {
			if ((st = churn_csv_read_file_sampled(m->read_path, r->p, &s, NULL, NULL)))
				return st;
			churn_dataset_free(m->ds);
			m->ds = s;
		}
		if ((st = churn_train(m->ds, m->sha256, r->p, &m->t)))
			return st;
	}
	size_t n = 0, pos = 0, ntr = 0, nte = 0;
	const uint8_t *y = churn_training_get_labels(m->t, &n);
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	churn_training_get_train_rows(m->t, &ntr);
	churn_training_get_test_rows(m->t, &nte);
	cJSON_AddNumberToObject(r->fields, "churn_rate", n ? (double)pos / (double)n : NAN);
	cJSON_AddNumberToObject(r->fields, "train_rows", (double)ntr);
	cJSON_AddNumberToObject(r->fields, "test_rows", (double)nte);
	if (churn_dataset_get_rows_read(m->ds) > churn_dataset_get_row_count(m->ds))
		cJSON_AddNumberToObject(r->fields, "sampled_rows", (double)churn_dataset_get_row_count(m->ds));
	return CHURN_OK;
}

/*
 * The serving model on this run's labelled rows, before anything is retrained
 * (the published model: this run's are not published yet), into the run
 * record and drift.json's "performance" (pipeline-drift.c).
 */
static churn_status step_monitor(struct run *r, struct ml_state *m)
{
	char *path = NULL;
	cJSON *perf = NULL;
	churn_status st = stage(r, "reports/drift.json", &path);
	if (!st)
		st = ch_pipeline_performance(churn_workdir_get_path(r->w), ch_gen_read_dir(r->txn->gen, "reports/drift.json"),
		                             m->ds, r->p, r->run_id, path, &perf);
	if (!st)
		cJSON_AddItemToObject(r->fields, "performance", perf);
	free(path);
	return st;
}

/* The model figures (pipeline-figures.c) into the generation's reports/figures. */
static churn_status model_figures(struct run *r, struct ml_state *m)
{
	char *dir = NULL;
	churn_status st = stage(r, "reports/figures/", &dir);
	if (!st && churn_training_get_model_count(m->t))
		st = ch_pipeline_model_figures(m->t, m->rev_eda, dir, r->p);
	if (!st && churn_training_get_retention(m->t))
		st = churn_retention_draw(churn_training_get_retention(m->t), dir, r->p);
	free(dir);
	return st;
}

/* The run record of model k (NULL on OOM). */
static cJSON *model_record(struct run *r, const struct ml_state *m, size_t k, const char *rel)
{
	const churn_model *model = churn_training_get_model(m->t, k);
	char *params = NULL, stamp[32];
	size_t bytes = 0, ntr = 0, nte = 0;
	churn_training_get_artifact(m->t, k, &bytes);
	churn_training_get_train_rows(m->t, &ntr);
	churn_training_get_test_rows(m->t, &nte);
	ch_format_time_utc(stamp, sizeof(stamp), (int64_t)time(NULL));
	cJSON *rec = cJSON_CreateObject(), *a = cJSON_CreateObject();
	if (!rec || !a || churn_model_get_params_json(model, &params)) {
		cJSON_Delete(rec);
		cJSON_Delete(a);
		return NULL;
	}
	cJSON_AddStringToObject(rec, "run_id", r->run_id);
	cJSON_AddStringToObject(rec, "model", churn_model_kind_name(churn_model_get_kind(model)));
	cJSON_AddStringToObject(rec, "trained_at", stamp);
	cJSON_AddItemToObject(rec, "params", cJSON_Parse(params));
	cJSON_AddItemToObject(rec, "metrics", cJSON_Parse(churn_model_get_metrics_json(model)));
	cJSON_AddStringToObject(a, "path", rel);
	cJSON_AddStringToObject(a, "sha256", churn_training_get_artifact_sha256(m->t, k));
	cJSON_AddNumberToObject(a, "bytes", (double)bytes);
	cJSON_AddItemToObject(rec, "artifact", a);
	cJSON_AddNumberToObject(rec, "train_rows", (double)ntr);
	cJSON_AddNumberToObject(rec, "test_rows", (double)nte);
	if (churn_dataset_get_rows_read(m->ds) > churn_dataset_get_row_count(m->ds)) {
		/* train.max_rows: the rows of the file and of the sample trained on */
		cJSON_AddNumberToObject(rec, "rows_read", (double)churn_dataset_get_rows_read(m->ds));
		cJSON_AddNumberToObject(rec, "rows_sampled", (double)churn_dataset_get_row_count(m->ds));
	}
	cJSON_AddNumberToObject(rec, "iterations", (double)churn_model_get_iterations(model));
	cJSON_AddBoolToObject(rec, "converged", churn_model_is_converged(model));
	churn_free(params);
	return rec;
}

/* Model k's artifact (the training's bytes) into the generation, and its run record. */
static churn_status save_model(struct run *r, struct ml_state *m, size_t k)
{
	const char *name = churn_model_kind_name(churn_model_get_kind(churn_training_get_model(m->t, k)));
	size_t n = 0;
	const char *bytes = churn_training_get_artifact(m->t, k, &n);
	char *rel = ch_asprintf("artifacts/models/%s.json", name), *art = NULL;
	churn_status st = rel ? stage(r, rel, &art) : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = ch_write_file_atomic(art, bytes, n);
	cJSON *rec = st ? NULL : model_record(r, m, k, rel);
	if (!st && !rec)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (rec)
		cJSON_AddItemToArray(m->records, rec);
	free(art);
	free(rel);
	return st;
}

/*
 * pipeline.models "cox" (survival and value: pipeline-retention.c): the Cox artifact, reports/retention.csv and
 * retention.json, and the list's summary (without its curve) in the run record.
 */
static churn_status step_survival(struct run *r, struct ml_state *m)
{
	size_t n = 0;
	const char *cox = churn_training_get_cox_artifact(m->t, &n);
	char *path = NULL, *csv = NULL;
	churn_status st = CHURN_OK;
	if (cox && !(st = stage(r, "artifacts/models/cox.json", &path)))
		st = ch_write_file_atomic(path, cox, n);
	free(path);
	path = NULL;
	const churn_retention *ret = churn_training_get_retention(m->t);
	if (!st && ret && !(st = churn_retention_to_csv(ret, &csv, &n)) && !(st = stage(r, "reports/retention.csv", &path)))
		st = ch_write_file_atomic(path, csv, n);
	churn_free(csv);
	csv = NULL;
	free(path);
	path = NULL;
	/* the top of the list with its summary, for /api/retention (churn_report_retention_json) */
	if (!st && ret && !(st = churn_retention_list_json(ret, CHURN_RETENTION_JSON_MAX, &csv)) &&
	    !(st = stage(r, "reports/retention.json", &path)))
		st = ch_write_file_atomic(path, csv, strlen(csv));
	if (!st)
		st = ch_pipeline_retention_record(m->t, r->fields);
	churn_free(csv);
	free(path);
	return st;
}

/*
 * The run's models as versions of the model registry and the promotion
 * decision (registry-run.c), written into the generation with the artifacts;
 * each model record gets its "version", the candidate's and the run record
 * the decision ("promotion").
 */
static churn_status step_register(struct run *r, struct ml_state *m)
{
	cJSON *decision = NULL, *refs = NULL;
	churn_status st = ch_registry_ml_run(churn_workdir_get_path(r->w), r->txn->gen, m->t, m->ds, r->run_id, r->p,
	                                     &decision, &refs);
	if (st)
		return st;
	for (size_t k = 0; k < churn_training_get_model_count(m->t); k++) {
		cJSON *rec = cJSON_GetArrayItem(m->records, (int)k);
		cJSON_AddItemToObject(rec, "version", cJSON_Duplicate(cJSON_GetArrayItem(refs, (int)k), 1));
		if (k == churn_training_get_best(m->t))
			cJSON_AddItemToObject(rec, "promotion", cJSON_Duplicate(decision, 1));
	}
	cJSON_AddItemToObject(r->fields, "promotion", decision);
	cJSON_Delete(refs);
	return CHURN_OK;
}

/* The data run's eda.json (this call's, `churn run`, or the published one), or the statistics of these rows. */
static churn_status eda_document(struct run *r, struct ml_state *m, cJSON **out)
{
	char *old = NULL, *text = NULL;
	churn_eda *full = NULL;
	churn_status st = CHURN_OK;
	if (ch_json_read_file(ch_gen_read_dir(r->txn->gen, "reports/eda.json"), "reports/eda.json",
	                      (size_t)churn_params_get_int(r->p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &old, NULL) == CHURN_OK)
		*out = cJSON_Parse(old);
	if (!*out && !(st = churn_eda_compute(m->ds, r->p, &full)) && !(st = churn_eda_to_json(full, &text)) &&
	    !(*out = cJSON_Parse(text)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_eda_free(full);
	churn_free(text);
	free(old);
	return st;
}

/* metrics.json (churn_training_metrics_json), and revenue at risk from the best model's scores merged into eda.json. */
static churn_status step_report(struct run *r, struct ml_state *m)
{
	char *path = NULL, *text = NULL;
	cJSON *eda_doc = NULL;
	churn_eda *eda = NULL;
	churn_status st = churn_training_metrics_json(m->t, r->run_id, NULL, &text);
	if (st || (st = stage(r, "reports/metrics.json", &path)) || (st = save_string(path, text)))
		goto out;
	if (!churn_training_get_model_count(m->t))
		goto out; /* cox alone: no churn probabilities for revenue at risk; eda.json stays as it is */
	if ((st = eda_document(r, m, &eda_doc)) ||
	    (st = ch_pipeline_merge_revenue(m->t, m->ds, r->p, r->run_id, eda_doc, &eda)))
		goto out;
	churn_free(text);
	free(path);
	path = NULL;
	if (!(text = ch_json_print(eda_doc, true))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = stage(r, "reports/eda.json", &path)) || (st = save_string(path, text)))
		goto out;
	m->rev_eda = eda; /* drawn with the model figures */
	eda = NULL;
out:
	cJSON_Delete(eda_doc);
	churn_eda_free(eda);
	churn_free(text);
	free(path);
	return st;
}

/*
 * pipeline.scores_out, after the commit: a failure is logged, returned and
 * noted in the record handed back ("scores_out"), but the published
 * generation stays: its outputs are good, the database is another system.
 */
static churn_status scores_out(churn_workdir *w, const churn_params *p, struct txn *t, struct ml_state *m)
{
	const char *url = churn_params_get_str(p, CHURN_KEY_PIPELINE_SCORES_OUT);
	uint64_t rows = 0;
	char *masked = NULL, line[1400];
	churn_status st = churn_db_mask_url(url, &masked);
	if (!st)
		st = ch_pipeline_write_scores(m->t, m->ds, url, p, &rows);
	cJSON *o = cJSON_CreateObject(), *rec = cJSON_GetArrayItem(t->runs, cJSON_GetArraySize(t->runs) - 1);
	cJSON_AddStringToObject(o, "target", masked ? masked : "");
	if (st) {
		snprintf(line, sizeof line, "scores not written (the run's outputs are published): %s", churn_last_error());
		cJSON_AddStringToObject(o, "error", line);
	} else {
		snprintf(line, sizeof line, "pipeline=ml scores_out=%s rows=%llu", masked, (unsigned long long)rows);
		cJSON_AddNumberToObject(o, "rows", (double)rows);
	}
	if (rec)
		cJSON_AddItemToObject(rec, "scores_out", o);
	else
		cJSON_Delete(o);
	churn_workdir_log(w, st ? CHURN_LOG_ERROR : CHURN_LOG_INFO, line);
	churn_free(masked);
	return st ? ch_fail(st, "%s", line) : CHURN_OK;
}

/* The ML run (the last of its call: it commits). */
static churn_status ml_locked(churn_workdir *w, const churn_params *p, struct txn *t, struct handoff *in)
{
	struct run r;
	struct ml_state m = {0};
	struct prefit *pre = in ? in->pre : NULL;
	if (in)
		in->pre = NULL;
	churn_status st = run_begin(&r, w, p, "ml", t);
	if (st)
		goto out;
	if (!(m.records = cJSON_CreateArray())) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	r.model_records = m.records;
	STEP(&r, "load", step_load(&r, &m, in));
	if (churn_params_get_bool(r.p, CHURN_KEY_DRIFT_ENABLED))
		STEP(&r, "monitor", step_monitor(&r, &m));
	STEP(&r, "train", step_train(&r, &m, pre));
	for (size_t k = 0; k < churn_training_get_model_count(m.t); k++) {
		static const char *const step_names[] = {"train_logreg", "train_gbm", "train_forest"};
		/* a model's step: its part of the training (concurrent with the others), then saving it */
		double t0 = now_s() - churn_training_get_seconds(m.t, k);
		st = save_model(&r, &m, k);
		step_done(&r, step_names[churn_model_get_kind(churn_training_get_model(m.t, k))], t0, st);
		if (st)
			goto out;
	}
	if (churn_training_get_cox_metrics_json(m.t) || churn_training_get_survival_note_count(m.t))
		STEP(&r, "survival", step_survival(&r, &m));
	if (churn_training_get_model_count(m.t) > 0)
		STEP(&r, "register", step_register(&r, &m));
	STEP(&r, "report", step_report(&r, &m));
	if (churn_params_get_bool(r.p, CHURN_KEY_PIPELINE_FIGURES))
		STEP(&r, "figures", model_figures(&r, &m));
out:
	st = run_end(&r, st, true);
	if (!st && churn_params_get_str(p, CHURN_KEY_PIPELINE_SCORES_OUT)[0])
		st = scores_out(w, p, t, &m);
	prefit_free(pre); /* cancel and join the early training before the rows it reads go */
	churn_training_free(m.t);
	churn_dataset_free(m.ds);
	free(m.read_path);
	churn_eda_free(m.rev_eda);
	cJSON_Delete(m.records);
	return st;
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                  */

static churn_status open_locked(const char *workdir, const churn_params *p, churn_workdir **out)
{
	churn_workdir *w = NULL;
	churn_status st = churn_workdir_open(workdir, p, &w);
	if (st)
		return st;
	if ((st = churn_workdir_lock(w))) {
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", churn_last_error());
		churn_workdir_log(w, CHURN_LOG_WARN, "run not started: another run holds the workdir lock");
		churn_workdir_free(w);
		return ch_fail(st, "%s", saved);
	}
	*out = w;
	return CHURN_OK;
}

churn_status churn_pipeline_data(const char *workdir, const churn_params *p, char **out_record)
{
	churn_workdir *w = NULL;
	churn_params *def = NULL;
	struct txn t = {0};
	churn_status st = p ? CHURN_OK : churn_params_new(&def);
	if (!st && !(st = open_locked(workdir, p ? p : def, &w))) {
		txn_init(&t, w);
		st = data_locked(w, p ? p : def, &t, NULL);
	}
	if (out_record) {
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", churn_last_error());
		*out_record = txn_record(&t, 0);
		ch_fail(st, "%s", saved);
	}
	txn_clear(&t);
	churn_workdir_free(w);
	churn_params_free(def);
	return st;
}

churn_status churn_pipeline_ml(const char *workdir, const churn_params *p, char **out_record)
{
	churn_workdir *w = NULL;
	churn_params *def = NULL;
	struct txn t = {0};
	churn_status st = p ? CHURN_OK : churn_params_new(&def);
	if (!st && !(st = open_locked(workdir, p ? p : def, &w))) {
		txn_init(&t, w);
		st = ml_locked(w, p ? p : def, &t, NULL);
	}
	if (out_record) {
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", churn_last_error());
		*out_record = txn_record(&t, 0);
		ch_fail(st, "%s", saved);
	}
	txn_clear(&t);
	churn_workdir_free(w);
	churn_params_free(def);
	return st;
}

churn_status churn_pipeline_run(const char *workdir, const churn_params *p, char **out_record)
{
	churn_workdir *w = NULL;
	churn_params *def = NULL;
	struct handoff h = {0};
	struct txn t = {0};
	churn_status st = p ? CHURN_OK : churn_params_new(&def);
	if (!st && !(st = open_locked(workdir, p ? p : def, &w))) {
		/* one commit for both runs: the set is published whole, or not at all */
		txn_init(&t, w);
		st = data_locked(w, p ? p : def, &t, &h);
		if (!st)
			st = ml_locked(w, p ? p : def, &t, &h);
	}
	handoff_clear(&h);
	if (out_record) {
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", churn_last_error());
		char *data_rec = txn_record(&t, 0), *ml_rec = txn_record(&t, 1);
		*out_record = ch_asprintf("{\"data\": %s, \"ml\": %s}", data_rec ? data_rec : "null", ml_rec ? ml_rec : "null");
		free(data_rec);
		free(ml_rec);
		ch_fail(st, "%s", saved);
	}
	txn_clear(&t);
	churn_workdir_free(w);
	churn_params_free(def);
	return st;
}
