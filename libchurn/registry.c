/*
 * The model registry document (registry-private.h): reading and checking
 * artifacts/registry.json (or the registry a pre-registry workdir implies),
 * references, versions, aliases, staging a change into a generation; and the
 * public calls of churn/registry.h (readers, promote, rollback).
 */
#include "churn/registry.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "churn/model.h"
#include "churn/workdir.h"
#include "core-private.h"
#include "params-private.h"
#include "registry-private.h"

#define REGISTRY_FORMAT "churn-model-registry"
#define REGISTRY_MAX_BYTES (16u << 20)
#define ARTIFACT_MAX_BYTES (1024u << 20)

static const char *const aliases[] = {"champion", "challenger", "previous"};
#define NALIASES (sizeof(aliases) / sizeof(aliases[0]))
/* the kinds a pre-registry workdir may hold as artifacts/models/<kind>.json */
static const char *const legacy_kinds[] = {"logreg", "gbm", "forest"};

/* ---- references ---- */

static bool name_ok(const char *s, size_t n)
{
	if (n < 1 || n > CH_REGISTRY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* @p text quoted for a message when it is short printable ASCII, else a description (never its bytes). */
static void describe(const char *text, char *buf, size_t cap)
{
	size_t n = strlen(text);
	bool plain = n <= 64;
	for (size_t i = 0; plain && i < n; i++)
		plain = text[i] >= 0x20 && text[i] < 0x7f;
	if (plain)
		snprintf(buf, cap, "'%s'", text);
	else
		snprintf(buf, cap, "a reference of %zu bytes (too long, or not printable ASCII)", n);
}

static bool is_alias(const char *s)
{
	for (size_t k = 0; k < NALIASES; k++)
		if (!strcmp(s, aliases[k]))
			return true;
	return false;
}

/* Parse "NAME@vN" into name (>= CH_REGISTRY_NAME_MAX + 1 bytes) and N; CHURN_E_INVALID_ARG with one line. */
static churn_status parse_ref(const char *text, char *name, uint32_t *version)
{
	char shown[128];
	const char *at = strchr(text, '@');
	size_t n = at ? (size_t)(at - text) : 0;
	const char *d = at ? at + 2 : NULL;
	bool ok = at && name_ok(text, n) && at[1] == 'v' && d[0] >= '1' && d[0] <= '9';
	uint64_t v = 0;
	for (size_t i = 0; ok && d[i]; i++) {
		ok = d[i] >= '0' && d[i] <= '9' && i < 9;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	if (!ok || v < 1 || v > CH_REGISTRY_MAX_VERSION) {
		describe(text, shown, sizeof(shown));
		return ch_fail(CHURN_E_INVALID_ARG,
		               "model reference %s: expected NAME@vN (NAME 1 to %d of a-z 0-9 _ -, N 1 to %u) or champion, "
		               "challenger, previous",
		               shown, CH_REGISTRY_NAME_MAX, CH_REGISTRY_MAX_VERSION);
	}
	memcpy(name, text, n);
	name[n] = '\0';
	*version = (uint32_t)v;
	return CHURN_OK;
}

const char *ch_registry_ref(const cJSON *version)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(version, "ref"));
}

static const char *v_name(const cJSON *v)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "name"));
}

static uint32_t v_number(const cJSON *v)
{
	return (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "version"));
}

static bool migrated(const cJSON *reg)
{
	return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(reg, "migrated"));
}

char *ch_registry_rel(const cJSON *reg, const cJSON *version)
{
	/* a workdir not migrated yet: its versions 1 are its artifacts/models/<kind>.json */
	if (!migrated(reg) && v_number(version) == 1)
		return ch_asprintf("artifacts/models/%s.json", v_name(version));
	return ch_asprintf("artifacts/models/%s/v%u.json", v_name(version), v_number(version));
}

const char *ch_registry_alias(const cJSON *reg, const char *alias)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reg, "aliases"),
	                                                             alias));
}

churn_status ch_registry_set_alias(cJSON *reg, const char *alias, const char *ref)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(reg, "aliases");
	cJSON *v = ref ? cJSON_CreateString(ref) : cJSON_CreateNull();
	if (!a || !v || !cJSON_ReplaceItemInObjectCaseSensitive(a, alias, v)) {
		cJSON_Delete(v);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

static cJSON *find_version(const cJSON *reg, const char *ref)
{
	cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "versions"))
	{
		if (!strcmp(ch_registry_ref(v), ref))
			return v;
	}
	return NULL;
}

churn_status ch_registry_lookup(const cJSON *reg, const char *ref, cJSON **out_version)
{
	char name[CH_REGISTRY_NAME_MAX + 1], canon[64];
	uint32_t n = 0;
	if (!ref)
		return ch_fail(CHURN_E_INVALID_ARG, "no model reference");
	if (is_alias(ref)) {
		const char *to = ch_registry_alias(reg, ref);
		if (!to)
			return ch_fail(CHURN_E_NOTFOUND, "no %s model in the registry (artifacts/registry.json)", ref);
		*out_version = find_version(reg, to);
		return *out_version ? CHURN_OK : ch_fail(CHURN_E_FORMAT, "%s: %s names %s, not a version", CH_REGISTRY_REL, ref, to);
	}
	churn_status st = parse_ref(ref, name, &n);
	if (st)
		return st;
	snprintf(canon, sizeof(canon), "%s@v%u", name, n);
	if (!(*out_version = find_version(reg, canon)))
		return ch_fail(CHURN_E_NOTFOUND, "no model version %s in the registry (see churn models list)", canon);
	return CHURN_OK;
}

/* ---- the document ---- */

cJSON *ch_registry_new(void)
{
	cJSON *reg = cJSON_CreateObject(), *a = cJSON_CreateObject();
	if (!reg || !a) {
		cJSON_Delete(reg);
		cJSON_Delete(a);
		return NULL;
	}
	cJSON_AddStringToObject(reg, "format", REGISTRY_FORMAT);
	cJSON_AddNumberToObject(reg, "format_version", 1);
	cJSON_AddTrueToObject(reg, "migrated");
	cJSON_AddNullToObject(reg, "updated_at");
	for (size_t k = 0; k < NALIASES; k++)
		cJSON_AddNullToObject(a, aliases[k]);
	cJSON_AddItemToObject(reg, "aliases", a);
	cJSON_AddItemToObject(reg, "next_version", cJSON_CreateObject());
	cJSON_AddItemToObject(reg, "versions", cJSON_CreateArray());
	cJSON_AddItemToObject(reg, "history", cJSON_CreateArray());
	if (!cJSON_GetObjectItemCaseSensitive(reg, "history")) {
		cJSON_Delete(reg);
		return NULL;
	}
	return reg;
}

static bool is_uint(const cJSON *x, double lo, double hi)
{
	return cJSON_IsNumber(x) && x->valuedouble >= lo && x->valuedouble <= hi && floor(x->valuedouble) == x->valuedouble;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Check one version entry (position @p i): name, number, its ref, sha256. */
static churn_status check_version(const cJSON *v, int i)
{
	const char *name = v_name(v), *ref = ch_registry_ref(v);
	const cJSON *num = cJSON_GetObjectItemCaseSensitive(v, "version");
	char canon[64];
	if (!cJSON_IsObject(v) || !name || !name_ok(name, strlen(name)) || !is_uint(num, 1, CH_REGISTRY_MAX_VERSION))
		return ch_fail(CHURN_E_FORMAT, "%s: versions[%d]: no valid \"name\" and \"version\"", CH_REGISTRY_REL, i);
	snprintf(canon, sizeof(canon), "%s@v%u", name, (uint32_t)num->valuedouble);
	if (!ref || strcmp(ref, canon) != 0)
		return ch_fail(CHURN_E_FORMAT, "%s: versions[%d]: \"ref\" is not %s", CH_REGISTRY_REL, i, canon);
	if (!is_hex64(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "sha256"))))
		return ch_fail(CHURN_E_FORMAT, "%s: versions[%d]: no valid \"sha256\"", CH_REGISTRY_REL, i);
	return CHURN_OK;
}

/* Check the document read from the file: every field the code relies on. */
static churn_status check_registry(const cJSON *reg)
{
	const cJSON *versions = cJSON_GetObjectItemCaseSensitive(reg, "versions");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(reg, "aliases");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(reg, "next_version");
	const char *format = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reg, "format"));
	if (!cJSON_IsObject(reg) || !format || strcmp(format, REGISTRY_FORMAT) != 0)
		return ch_fail(CHURN_E_FORMAT, "%s: not a model registry (no \"format\": \"%s\")", CH_REGISTRY_REL,
		               REGISTRY_FORMAT);
	if (!is_uint(cJSON_GetObjectItemCaseSensitive(reg, "format_version"), 1, 1))
		return ch_fail(CHURN_E_FORMAT, "%s: format_version is not 1 (written by a newer churn?)", CH_REGISTRY_REL);
	if (!cJSON_IsArray(versions) || !cJSON_IsObject(a) || !cJSON_IsObject(next) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(reg, "history")))
		return ch_fail(CHURN_E_FORMAT, "%s: \"versions\", \"aliases\", \"next_version\" or \"history\" missing",
		               CH_REGISTRY_REL);
	int i = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, versions)
	{
		churn_status st = check_version(v, i);
		if (st)
			return st;
		for (const cJSON *w = versions->child; w != v; w = w->next)
			if (!strcmp(ch_registry_ref(w), ch_registry_ref(v)))
				return ch_fail(CHURN_E_FORMAT, "%s: %s listed twice", CH_REGISTRY_REL, ch_registry_ref(v));
		i++;
	}
	for (size_t k = 0; k < NALIASES; k++) {
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(a, aliases[k]);
		if (to && !cJSON_IsNull(to) && !(cJSON_IsString(to) && find_version(reg, to->valuestring)))
			return ch_fail(CHURN_E_FORMAT, "%s: alias %s names no listed version", CH_REGISTRY_REL, aliases[k]);
		if (!to && !cJSON_AddNullToObject((cJSON *)a, aliases[k]))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(v, next)
	{
		if (!name_ok(v->string, strlen(v->string)) || !is_uint(v, 1, (double)CH_REGISTRY_MAX_VERSION + 1))
			return ch_fail(CHURN_E_FORMAT, "%s: next_version: a bad entry", CH_REGISTRY_REL);
	}
	return CHURN_OK;
}

/* The summary of an artifact's test metrics kept in its registry entry (NULL on OOM). */
static cJSON *metrics_summary(const char *metrics_json)
{
	static const char *const keys[] = {"roc_auc", "pr_auc", "brier", "log_loss", "f1", "accuracy", "threshold"};
	cJSON *all = metrics_json ? cJSON_Parse(metrics_json) : NULL, *out = cJSON_CreateObject();
	for (size_t k = 0; out && k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(all, keys[k]);
		cJSON_AddItemToObject(out, keys[k], cJSON_IsNumber(x) ? cJSON_CreateNumber(x->valuedouble) : cJSON_CreateNull());
	}
	cJSON_Delete(all);
	return out;
}

static void now_utc(char *buf, size_t cap)
{
	ch_format_time_utc(buf, cap, (int64_t)time(NULL));
}

churn_status ch_registry_add_version(cJSON *reg, const char *name, const char *sha256, size_t bytes,
                                     const char *run_id, const char *metrics_json, cJSON **out)
{
	cJSON *next = cJSON_GetObjectItemCaseSensitive(reg, "next_version"), *v;
	double n = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(next, name))
	               ? cJSON_GetObjectItemCaseSensitive(next, name)->valuedouble
	               : 1;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "versions"))
	{
		if (!strcmp(v_name(v), name) && v_number(v) >= n)
			n = (double)v_number(v) + 1; /* never reuse a number, whatever next_version says */
	}
	if (n > CH_REGISTRY_MAX_VERSION)
		return ch_fail(CHURN_E_LIMIT, "%s: no version number left for %s", CH_REGISTRY_REL, name);
	char ref[64], stamp[32];
	snprintf(ref, sizeof(ref), "%s@v%u", name, (uint32_t)n);
	now_utc(stamp, sizeof(stamp));
	v = cJSON_CreateObject();
	cJSON *m = metrics_summary(metrics_json), *nv = cJSON_CreateNumber(n + 1);
	if (!v || !m || !nv) {
		cJSON_Delete(v);
		cJSON_Delete(m);
		cJSON_Delete(nv);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	cJSON_AddStringToObject(v, "ref", ref);
	cJSON_AddStringToObject(v, "name", name);
	cJSON_AddNumberToObject(v, "version", n);
	cJSON_AddStringToObject(v, "sha256", sha256);
	cJSON_AddNumberToObject(v, "bytes", (double)bytes);
	cJSON_AddStringToObject(v, "created_at", stamp);
	if (run_id)
		cJSON_AddStringToObject(v, "run_id", run_id);
	else
		cJSON_AddNullToObject(v, "run_id");
	cJSON_AddItemToObject(v, "metrics", m);
	char *rel = ch_registry_rel(reg, v);
	if (rel)
		cJSON_AddStringToObject(v, "path", rel);
	free(rel);
	if (cJSON_GetObjectItemCaseSensitive(next, name))
		cJSON_ReplaceItemInObjectCaseSensitive(next, name, nv);
	else
		cJSON_AddItemToObject(next, name, nv);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(reg, "versions"), v);
	*out = v;
	return CHURN_OK;
}

cJSON *ch_registry_add_history(cJSON *reg, const char *action, const char *run_id)
{
	char stamp[32];
	now_utc(stamp, sizeof(stamp));
	cJSON *h = cJSON_CreateObject();
	if (!h)
		return NULL;
	cJSON_AddStringToObject(h, "at", stamp);
	cJSON_AddStringToObject(h, "action", action);
	if (run_id)
		cJSON_AddStringToObject(h, "run_id", run_id);
	else
		cJSON_AddNullToObject(h, "run_id");
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(reg, "history"), h);
	return h;
}

/* ---- the registry a pre-registry workdir implies ---- */

/* The name of reports/metrics.json's best model under @p dir (or "" when unknown). */
static void metrics_best(const char *dir, char *out, size_t cap)
{
	char *text = NULL;
	out[0] = '\0';
	if (ch_json_read_file(dir, "reports/metrics.json", REGISTRY_MAX_BYTES * 4, &text, NULL) != CHURN_OK) {
		ch_clear_error();
		return;
	}
	cJSON *doc = ch_json_parse_str(text, "reports/metrics.json");
	const char *best = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "best_model"));
	if (best)
		snprintf(out, cap, "%s", best);
	cJSON_Delete(doc);
	free(text);
	ch_clear_error();
}

/* Version 1 of @p kind from <dir>/artifacts/models/<kind>.json, when that file is a model. */
static churn_status legacy_version(cJSON *reg, const char *dir, const char *kind, cJSON **out)
{
	char *path = ch_asprintf("%s/artifacts/models/%s.json", dir, kind), sha[65], stamp[32];
	churn_model *m = NULL;
	struct stat sb;
	*out = NULL;
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = CHURN_OK;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	if ((st = churn_model_load_file(path, &m)) || (st = ch_sha256_file(path, sha)))
		goto out;
	if (!(st = ch_registry_add_version(reg, kind, sha, (size_t)sb.st_size, NULL, churn_model_get_metrics_json(m), out))) {
		ch_format_time_utc(stamp, sizeof(stamp), (int64_t)sb.st_mtime);
		cJSON_ReplaceItemInObjectCaseSensitive(*out, "created_at", cJSON_CreateString(stamp));
	}
out:
	churn_model_free(m);
	free(path);
	return st;
}

/* The versions (v1) and champion of a workdir with artifacts/models/<kind>.json and no registry. */
static churn_status legacy_registry(const char *dir, cJSON **out)
{
	cJSON *reg = ch_registry_new(), *v, *champion = NULL;
	if (!reg)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_ReplaceItemInObjectCaseSensitive(reg, "migrated", cJSON_CreateFalse());
	char best[64];
	metrics_best(dir, best, sizeof(best));
	churn_status st = CHURN_OK;
	double best_auc = -INFINITY;
	for (size_t k = 0; k < sizeof(legacy_kinds) / sizeof(legacy_kinds[0]) && !st; k++) {
		if ((st = legacy_version(reg, dir, legacy_kinds[k], &v)) || !v)
			continue;
		/* the champion: metrics.json's best model, else the highest test ROC AUC */
		const cJSON *auc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "metrics"), "roc_auc");
		double a = cJSON_IsNumber(auc) ? auc->valuedouble : -1;
		if (!strcmp(legacy_kinds[k], best) || (!(champion && !strcmp(v_name(champion), best)) && a > best_auc)) {
			champion = v;
			best_auc = a;
		}
	}
	if (!st && !champion)
		st = ch_fail(CHURN_E_NOTFOUND, "no trained model in %s yet: run `churn ml` (or `churn run`) first", dir);
	if (!st)
		st = ch_registry_set_alias(reg, "champion", ch_registry_ref(champion));
	if (st) {
		cJSON_Delete(reg);
		return st;
	}
	*out = reg;
	return CHURN_OK;
}

churn_status ch_registry_read(const char *dir, cJSON **out)
{
	char *text = NULL;
	churn_status st = ch_json_read_file(dir, CH_REGISTRY_REL, REGISTRY_MAX_BYTES, &text, NULL);
	if (st == CHURN_E_NOTFOUND)
		return legacy_registry(dir, out);
	if (st)
		return st;
	cJSON *reg = ch_json_parse_str(text, CH_REGISTRY_REL);
	free(text);
	if (!reg)
		return ch_fail(CHURN_E_FORMAT, "%s: %s", CH_REGISTRY_REL, churn_last_error());
	if ((st = check_registry(reg))) {
		cJSON_Delete(reg);
		return st;
	}
	*out = reg;
	return CHURN_OK;
}

/* ---- staging a change ---- */

static bool aliased(const cJSON *reg, const char *ref)
{
	for (size_t k = 0; k < NALIASES; k++) {
		const char *to = ch_registry_alias(reg, aliases[k]);
		if (to && !strcmp(to, ref))
			return true;
	}
	return false;
}

/* The oldest versions past models.max_versions out of the registry and (dropped) out of g. */
static churn_status prune(cJSON *reg, ch_gen *g, const churn_params *p)
{
	cJSON *versions = cJSON_GetObjectItemCaseSensitive(reg, "versions");
	int max = (int)churn_params_get_int(p, CHURN_KEY_MODELS_MAX_VERSIONS);
	cJSON *v = versions->child;
	churn_status st = CHURN_OK;
	while (!st && v && cJSON_GetArraySize(versions) > max) {
		cJSON *next = v->next;
		if (!aliased(reg, ch_registry_ref(v))) {
			char *rel = ch_registry_rel(reg, v), *own = rel ? ch_gen_path(g, rel) : NULL;
			st = own ? ch_gen_drop(g, rel) : ch_fail(CHURN_E_NOMEM, "out of memory");
			if (own)
				unlink(own); /* written by this commit (a migrated v1, a version of this run): not kept either */
			free(own);
			ch_log(p, CHURN_LOG_INFO, "registry: %s removed (models.max_versions %d)", ch_registry_ref(v), max);
			free(rel);
			cJSON_Delete(cJSON_DetachItemViaPointer(versions, v));
		}
		v = next;
	}
	return st;
}

/* A workdir from before the registry: its artifacts/models/<kind>.json (read from @p wd) into g as <kind>/v1.json. */
static churn_status migrate_files(cJSON *reg, ch_gen *g, const char *wd)
{
	cJSON *v;
	churn_status st = CHURN_OK;
	cJSON_ReplaceItemInObjectCaseSensitive(reg, "migrated", cJSON_CreateTrue());
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "versions"))
	{
		if (v_number(v) != 1)
			continue;
		char *from = ch_asprintf("%s/artifacts/models/%s.json", wd, v_name(v)), *rel = ch_registry_rel(reg, v);
		char *to = rel ? ch_gen_path(g, rel) : NULL, *bytes = NULL, sha[65];
		size_t n = 0;
		if (!from || !to) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		} else if (!(st = ch_read_file(from, ARTIFACT_MAX_BYTES, &bytes, &n))) {
			ch_sha256_buf(bytes, n, sha);
			if (strcmp(sha, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "sha256"))) != 0)
				st = ch_fail(CHURN_E_IO, "%s: changed while being registered; try again", from);
			char *slash = strrchr(to, '/');
			*slash = '\0';
			if (!st)
				st = ch_mkdir_p(to);
			*slash = '/';
			if (!st)
				st = ch_write_file_atomic(to, bytes, n);
			if (!st)
				cJSON_ReplaceItemInObjectCaseSensitive(v, "path", cJSON_CreateString(rel));
		}
		free(from);
		free(rel);
		free(to);
		free(bytes);
		if (st)
			break;
	}
	return st;
}

churn_status ch_registry_stage(cJSON *reg, ch_gen *g, const char *wd, const churn_params *p)
{
	churn_status st = migrated(reg) ? CHURN_OK : migrate_files(reg, g, wd);
	if (!st)
		st = prune(reg, g, p);
	if (st)
		return st;
	cJSON *h = cJSON_GetObjectItemCaseSensitive(reg, "history");
	int max = (int)churn_params_get_int(p, CHURN_KEY_MODELS_MAX_HISTORY);
	while (cJSON_GetArraySize(h) > max)
		cJSON_DeleteItemFromArray(h, 0);
	char stamp[32];
	now_utc(stamp, sizeof(stamp));
	cJSON_ReplaceItemInObjectCaseSensitive(reg, "updated_at", cJSON_CreateString(stamp));
	char *text = ch_json_print(reg, true), *path = ch_gen_path(g, CH_REGISTRY_REL);
	if (!text || !path)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	else
		st = ch_write_file_atomic(path, text, strlen(text));
	free(text);
	free(path);
	return st;
}

/* ---- public readers ---- */

/* The published generation's directory (.current resolved once), or the workdir itself. */
static char *pinned(const char *workdir)
{
	char *link = ch_asprintf("%s/.current", workdir);
	char *real = link ? realpath(link, NULL) : NULL;
	free(link);
	return real ? real : ch_strdup(workdir);
}

static churn_status read_pinned(const char *workdir, cJSON **out)
{
	if (!workdir)
		return ch_fail(CHURN_E_INVALID_ARG, "no workdir");
	struct stat sb;
	if (stat(workdir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return ch_fail(CHURN_E_NOTFOUND, "%s: no such workdir", workdir);
	char *dir = pinned(workdir);
	if (!dir)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_registry_read(dir, out);
	free(dir);
	return st;
}

/* The aliases naming version v, as an array (NULL on OOM). */
static cJSON *aliases_of(const cJSON *reg, const cJSON *v)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t k = 0; a && k < NALIASES; k++) {
		const char *to = ch_registry_alias(reg, aliases[k]);
		if (to && !strcmp(to, ch_registry_ref(v)))
			cJSON_AddItemToArray(a, cJSON_CreateString(aliases[k]));
	}
	return a;
}

/* The registry as readers see it: each version's path (derived) and aliases; next_version left out. */
static churn_status decorate(cJSON *reg)
{
	cJSON *v;
	cJSON_DeleteItemFromObjectCaseSensitive(reg, "next_version");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "versions"))
	{
		char *rel = ch_registry_rel(reg, v);
		cJSON *a = aliases_of(reg, v), *r = rel ? cJSON_CreateString(rel) : NULL;
		free(rel);
		if (!a || !r) {
			cJSON_Delete(a);
			cJSON_Delete(r);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		cJSON_DeleteItemFromObjectCaseSensitive(v, "path");
		cJSON_DeleteItemFromObjectCaseSensitive(v, "aliases");
		cJSON_AddItemToObject(v, "path", r);
		cJSON_AddItemToObject(v, "aliases", a);
	}
	return CHURN_OK;
}

static churn_status print_to(const cJSON *doc, char **out_json)
{
	*out_json = ch_json_print(doc, true);
	return *out_json ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

churn_status churn_registry_json(const char *workdir, char **out_json)
{
	cJSON *reg = NULL;
	if (!out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_registry_json: NULL argument");
	churn_status st = read_pinned(workdir, &reg);
	if (!st)
		st = decorate(reg);
	if (!st)
		st = print_to(reg, out_json);
	cJSON_Delete(reg);
	return st;
}

churn_status churn_registry_resolve(const char *workdir, const char *ref, char **out_rel, char **out_ref)
{
	cJSON *reg = NULL, *v = NULL;
	churn_status st = read_pinned(workdir, &reg);
	if (!st)
		st = ch_registry_lookup(reg, ref ? ref : "champion", &v);
	char *rel = st ? NULL : ch_registry_rel(reg, v), *canon = st ? NULL : ch_strdup(ch_registry_ref(v));
	if (!st && (!rel || !canon))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st && out_rel) {
		*out_rel = rel;
		rel = NULL;
	}
	if (!st && out_ref) {
		*out_ref = canon;
		canon = NULL;
	}
	free(rel);
	free(canon);
	cJSON_Delete(reg);
	return st;
}

churn_status churn_registry_show_json(const char *workdir, const char *ref, char **out_json)
{
	cJSON *reg = NULL, *v = NULL, *copy = NULL;
	churn_model *m = NULL;
	char *dir = NULL, *path = NULL;
	if (!workdir || !ref || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_registry_show_json: NULL argument");
	churn_status st = read_pinned(workdir, &reg);
	if (st || (st = decorate(reg)) || (st = ch_registry_lookup(reg, ref, &v)))
		goto out;
	/* the artifact of the same generation as the registry read */
	char *rel = ch_registry_rel(reg, v);
	dir = pinned(workdir);
	path = rel && dir ? ch_asprintf("%s/%s", dir, rel) : NULL;
	free(rel);
	if (!path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = churn_model_load_file(path, &m)))
		goto out;
	copy = cJSON_Duplicate(v, 1);
	cJSON *metrics = cJSON_Parse(churn_model_get_metrics_json(m) ? churn_model_get_metrics_json(m) : "null");
	if (!copy || !metrics) {
		cJSON_Delete(metrics);
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddItemToObject(a, "threshold", cJSON_CreateNumber(churn_model_get_threshold(m)));
	cJSON_AddItemToObject(a, "training_rows", cJSON_CreateNumber((double)churn_model_get_training_row_count(m)));
	cJSON_AddItemToObject(a, "metrics", metrics);
	cJSON_AddItemToObject(copy, "artifact", a);
	st = print_to(copy, out_json);
out:
	churn_model_free(m);
	cJSON_Delete(copy);
	cJSON_Delete(reg);
	free(dir);
	free(path);
	return st;
}

/* ---- promote, rollback: a registry change published by a commit of its own ---- */

typedef churn_status (*change_fn)(cJSON *reg, const char *ref, cJSON **out_entry);

static churn_status change_promote(cJSON *reg, const char *ref, cJSON **out_entry)
{
	cJSON *v = NULL;
	churn_status st = ch_registry_lookup(reg, ref, &v);
	if (st)
		return st;
	const char *to = ch_registry_ref(v), *champion = ch_registry_alias(reg, "champion");
	if (champion && !strcmp(champion, to))
		return CHURN_OK; /* nothing to change */
	cJSON *h = ch_registry_add_history(reg, "promote", NULL);
	if (!h)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_AddItemToObject(h, "champion", champion ? cJSON_CreateString(champion) : cJSON_CreateNull());
	cJSON_AddStringToObject(h, "challenger", to);
	cJSON_AddTrueToObject(h, "promoted");
	cJSON_AddStringToObject(h, "champion_after", to);
	cJSON_AddStringToObject(h, "reason", "promoted by hand (churn models promote)");
	const char *challenger = ch_registry_alias(reg, "challenger");
	bool clear = challenger && !strcmp(challenger, to);
	if ((st = ch_registry_set_alias(reg, "previous", champion)) || (clear && (st = ch_registry_set_alias(reg, "challenger", NULL))))
		return st;
	*out_entry = h;
	return ch_registry_set_alias(reg, "champion", ch_registry_ref(v));
}

static churn_status change_rollback(cJSON *reg, const char *ref, cJSON **out_entry)
{
	(void)ref;
	const char *champion = ch_registry_alias(reg, "champion"), *previous = ch_registry_alias(reg, "previous");
	if (!previous)
		return ch_fail(CHURN_E_NOTFOUND, "no previous model to roll back to (the registry has no \"previous\")");
	char was[64], to[64];
	snprintf(was, sizeof(was), "%s", champion ? champion : "");
	snprintf(to, sizeof(to), "%s", previous);
	cJSON *h = ch_registry_add_history(reg, "rollback", NULL);
	if (!h)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_AddItemToObject(h, "champion", was[0] ? cJSON_CreateString(was) : cJSON_CreateNull());
	cJSON_AddNullToObject(h, "challenger");
	cJSON_AddTrueToObject(h, "promoted");
	cJSON_AddStringToObject(h, "champion_after", to);
	cJSON_AddStringToObject(h, "reason", "rolled back by hand (churn models rollback)");
	*out_entry = h;
	churn_status st = ch_registry_set_alias(reg, "champion", to);
	return st ? st : ch_registry_set_alias(reg, "previous", was[0] ? was : NULL);
}

/* Under the lock: read, change, stage into a new generation, fill, publish. */
static churn_status change_locked(churn_workdir *w, const churn_params *p, change_fn fn, const char *ref,
                                  char **out_json)
{
	const char *wd = churn_workdir_get_path(w);
	ch_gen_steps steps = {.p = p};
	ch_gen *g = NULL;
	cJSON *reg = NULL, *entry = NULL;
	char *id = NULL, layout[80];
	churn_status st = churn_workdir_new_run_id(w, &id);
	if (st)
		return st;
	snprintf(layout, sizeof(layout), "%s.layout", id);
	if ((st = ch_gen_layout(wd, layout, &steps)) || (st = ch_registry_read(wd, &reg)) || (st = fn(reg, ref, &entry)))
		goto out;
	if (entry) {
		cJSON_ReplaceItemInObjectCaseSensitive(entry, "run_id", cJSON_CreateString(id));
		if ((st = ch_gen_begin(wd, id, &steps, &g)) || (st = ch_registry_stage(reg, g, wd, p)) ||
		    (st = ch_gen_fill(g)) || (st = ch_gen_publish(g, p)))
			goto out;
		ch_log(p, CHURN_LOG_INFO, "registry: %s: champion %s (generation %s)",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "action")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "champion_after")), id);
	}
	if (out_json) {
		cJSON *doc = entry ? cJSON_Duplicate(entry, 1) : cJSON_CreateObject();
		if (!entry && doc) {
			cJSON_AddStringToObject(doc, "action", "none");
			cJSON_AddStringToObject(doc, "champion_after", ch_registry_alias(reg, "champion"));
			cJSON_AddStringToObject(doc, "reason", "already the champion");
		}
		st = doc ? print_to(doc, out_json) : ch_fail(CHURN_E_NOMEM, "out of memory");
		cJSON_Delete(doc);
	}
out:
	ch_gen_discard(g);
	cJSON_Delete(reg);
	churn_free(id);
	return st;
}

static churn_status change(const char *workdir, const churn_params *p, change_fn fn, const char *ref, char **out_json)
{
	churn_workdir *w = NULL;
	cJSON *reg = NULL, *v = NULL;
	/* Checked before the lock: a bad reference or a workdir without models changes (and creates) nothing. */
	churn_status st = read_pinned(workdir, &reg);
	if (!st && ref)
		st = ch_registry_lookup(reg, ref, &v);
	cJSON_Delete(reg);
	if (st || (st = churn_workdir_open(workdir, p, &w)))
		return st;
	if (!(st = churn_workdir_lock(w))) {
		churn_params *lp = NULL;
		if (!(st = p ? churn_params_copy(p, &lp) : churn_params_new(&lp))) {
			churn_params_set_log(lp, churn_workdir_log_fn, w, CHURN_LOG_INFO);
			st = change_locked(w, lp, fn, ref, out_json);
		}
		churn_params_free(lp);
	}
	churn_workdir_free(w);
	return st;
}

churn_status churn_registry_promote(const char *workdir, const churn_params *p, const char *ref, char **out_json)
{
	if (!ref)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_registry_promote: no model reference");
	return change(workdir, p, change_promote, ref, out_json);
}

churn_status churn_registry_rollback(const char *workdir, const churn_params *p, char **out_json)
{
	return change(workdir, p, change_rollback, NULL, out_json);
}
