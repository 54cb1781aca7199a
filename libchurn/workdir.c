/* churn_workdir: layout, lock, pipeline log and capped run records. */
#include "churn/workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "params-private.h"

static const char *const layout[] = {
	"data/raw", "data/processed", "reports/figures", "artifacts/models", "logs",
};

struct churn_workdir {
	char *dir;
	churn_params *p;
	int lock_fd;
	char run_id[48];
	uint64_t run_counter;
};

churn_status churn_workdir_open(const char *dir, const churn_params *p, churn_workdir **out)
{
	if (!dir || !*dir || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_open: no directory given");
	churn_workdir *w = calloc(1, sizeof(*w));
	if (!w)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	w->lock_fd = -1;
	churn_status st = CHURN_OK;
	if (!(w->dir = ch_strdup(dir))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	st = p ? churn_params_copy(p, &w->p) : churn_params_new(&w->p);
	if (st)
		goto fail;
	if ((st = ch_mkdir_p(dir)))
		goto fail;
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		char *sub = ch_asprintf("%s/%s", dir, layout[i]);
		/* its top directory: "reports" of "reports/figures", "data/processed" of itself */
		size_t n = strncmp(layout[i], "data/", 5) == 0 ? 5 + strcspn(layout[i] + 5, "/") : strcspn(layout[i], "/");
		char *top = ch_asprintf("%s/%.*s", dir, (int)n, layout[i]);
		if (!sub || !top) {
			free(sub);
			free(top);
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto fail;
		}
		/* a link into the published generation (generation-private.h): the pipeline's, not made here */
		struct stat sb;
		st = (lstat(top, &sb) == 0 && S_ISLNK(sb.st_mode)) ? CHURN_OK : ch_mkdir_p(sub);
		free(sub);
		free(top);
		if (st)
			goto fail;
	}
	*out = w;
	return CHURN_OK;
fail:
	churn_workdir_free(w);
	return st;
}

void churn_workdir_free(churn_workdir *w)
{
	if (!w)
		return;
	churn_workdir_unlock(w);
	churn_params_free(w->p);
	free(w->dir);
	free(w);
}

const char *churn_workdir_get_path(const churn_workdir *w)
{
	return w ? w->dir : NULL;
}

churn_status churn_workdir_join(const churn_workdir *w, const char *rel, char **out)
{
	if (!w || !rel || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_join: NULL argument");
	char *s = ch_asprintf("%s/%s", w->dir, rel);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = s;
	return CHURN_OK;
}

churn_status churn_workdir_lock(churn_workdir *w)
{
	if (!w)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_lock: NULL workdir");
	if (w->lock_fd >= 0)
		return CHURN_OK;
	char *path = ch_asprintf("%s/.churn.lock", w->dir);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		churn_status st = ch_fail(CHURN_E_CREATE, "%s: cannot open lock file: %s", path, strerror(errno));
		free(path);
		return st;
	}
	double wait_s = churn_params_get_double(w->p, CHURN_KEY_WORKDIR_LOCK_WAIT_S);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			churn_status st = ch_fail(CHURN_E_IO, "%s: flock failed: %s", path, strerror(errno));
			close(fd);
			free(path);
			return st;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		double waited = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) * 1e-9;
		if (waited >= wait_s) {
			churn_status st = ch_fail(CHURN_E_BUSY,
			                          "%s: another run holds the workdir lock (waited %.1f s); try again later",
			                          w->dir, waited);
			close(fd);
			free(path);
			return st;
		}
		struct timespec nap = {0, 50 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	/* Record who holds it, for people looking at the file. */
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && n > 0 && write(fd, pid, (size_t)n) < 0) {
		/* informational only */
	}
	free(path);
	w->lock_fd = fd;
	return CHURN_OK;
}

void churn_workdir_unlock(churn_workdir *w)
{
	if (!w || w->lock_fd < 0)
		return;
	flock(w->lock_fd, LOCK_UN);
	close(w->lock_fd);
	w->lock_fd = -1;
}

churn_status churn_workdir_new_run_id(churn_workdir *w, char **out_id)
{
	if (!w || !out_id)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_new_run_id: NULL argument");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	time_t t = ts.tv_sec;
	gmtime_r(&t, &tm);
	char stamp[24];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* A short suffix from time, pid and a counter keeps ids unique across overlapping processes. */
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (++w->run_counter * 0x9e3779b97f4a7c15ull);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	snprintf(w->run_id, sizeof(w->run_id), "%s-%06x", stamp, (unsigned)(x & 0xffffff));
	return churn_workdir_get_run_id(w, out_id);
}

churn_status churn_workdir_get_run_id(const churn_workdir *w, char **out_id)
{
	if (!w || !out_id)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_get_run_id: NULL argument");
	if (!(*out_id = ch_strdup(w->run_id)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

static const char *level_name(churn_log_level level)
{
	switch (level) {
	case CHURN_LOG_ERROR: return "ERROR";
	case CHURN_LOG_WARN: return "WARN";
	case CHURN_LOG_INFO: return "INFO";
	case CHURN_LOG_DEBUG: return "DEBUG";
	}
	return "INFO";
}

churn_status churn_workdir_log(churn_workdir *w, churn_log_level level, const char *msg)
{
	if (!w || !msg)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_log: NULL argument");
	char *path = ch_asprintf("%s/logs/pipeline.log", w->dir);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = CHURN_OK;
	struct stat sb;
	int64_t cap = churn_params_get_int(w->p, CHURN_KEY_WORKDIR_LOG_MAX_BYTES);
	if (stat(path, &sb) == 0 && sb.st_size >= cap) {
		char *old = ch_asprintf("%s.1", path);
		if (old) {
			rename(path, old); /* keep one generation */
			free(old);
		}
	}
	char stamp[32];
	ch_format_time_utc(stamp, sizeof(stamp), (int64_t)time(NULL));
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s %s run=%s %s\n", stamp, level_name(level),
	                 w->run_id[0] ? w->run_id : "-", msg);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write() on an O_APPEND descriptor: concurrent writers never interleave within a line. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		st = ch_fail(CHURN_E_IO, "%s: cannot append: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return st;
}

void churn_workdir_log_fn(void *userdata, churn_log_level level, const char *msg)
{
	char saved[1024];
	/* Logging must not clobber the error detail of the failure being logged. */
	snprintf(saved, sizeof(saved), "%s", churn_last_error());
	(void)churn_workdir_log(userdata, level, msg);
	ch_fail(CHURN_OK, "%s", saved);
}

churn_status churn_workdir_write(churn_workdir *w, const char *rel, const char *data, size_t n)
{
	if (!w || !rel || (!data && n))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_write: NULL argument");
	char *path = ch_asprintf("%s/%s", w->dir, rel);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = ch_write_file_atomic(path, data, n);
	free(path);
	return st;
}

churn_status churn_workdir_read_json(const churn_workdir *w, const char *rel, char **out, size_t *out_n)
{
	if (!w || !rel || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_read_json: NULL argument");
	return ch_json_read_file(w->dir, rel, (size_t)churn_params_get_int(w->p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), out, out_n);
}

churn_status churn_workdir_append_record(churn_workdir *w, const char *rel, const char *entry_json)
{
	if (!w || !rel || !entry_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_workdir_append_record: NULL argument");
	cJSON *entry = ch_json_parse_str(entry_json, "run record entry"), *e;
	bool ok = entry && (cJSON_IsObject(entry) || (cJSON_IsArray(entry) && cJSON_GetArraySize(entry) > 0));
	if (ok && cJSON_IsArray(entry))
		cJSON_ArrayForEach(e, entry) ok = ok && cJSON_IsObject(e);
	if (!ok) {
		cJSON_Delete(entry);
		return ch_fail(CHURN_E_INVALID_ARG, "run record entry is not a JSON object or a non-empty array of them");
	}
	churn_status st = CHURN_OK;
	char *path = ch_asprintf("%s/%s", w->dir, rel);
	cJSON *doc = NULL;
	char *text = NULL;
	if (!path) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	char *old = NULL;
	size_t n = 0;
	churn_status rst = ch_read_file(path, (size_t)churn_params_get_int(w->p, CHURN_KEY_WORKDIR_MAX_REPORT_BYTES), &old, &n);
	if (rst == CHURN_OK) {
		doc = ch_json_parse(old, n, path, NULL);
		free(old);
		cJSON *runs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "runs") : NULL;
		if (!runs || !cJSON_IsArray(runs)) {
			/* Keep the unreadable file for inspection and begin a new record. */
			char *aside = ch_asprintf("%s.corrupt", path);
			if (aside) {
				rename(path, aside);
				free(aside);
			}
			ch_log(w->p, CHURN_LOG_WARN, "%s was not a run record; kept as %s.corrupt", path, path);
			cJSON_Delete(doc);
			doc = NULL;
		}
	} else if (rst != CHURN_E_NOTFOUND) {
		st = rst;
		goto out;
	}
	if (!doc) {
		doc = cJSON_CreateObject();
		if (!doc || !cJSON_AddArrayToObject(doc, "runs")) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
	if (cJSON_IsArray(entry)) {
		while (entry->child)
			cJSON_AddItemToArray(runs, cJSON_DetachItemViaPointer(entry, entry->child));
	} else {
		cJSON_AddItemToArray(runs, entry);
		entry = NULL;
	}
	int64_t cap = churn_params_get_int(w->p, CHURN_KEY_WORKDIR_MAX_RECORDS);
	while (cJSON_GetArraySize(runs) > cap)
		cJSON_DeleteItemFromArray(runs, 0);
	text = ch_json_print(doc, true);
	if (!text) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	st = ch_write_file_atomic(path, text, strlen(text));
out:
	cJSON_Delete(entry);
	cJSON_Delete(doc);
	free(text);
	free(path);
	return st;
}
