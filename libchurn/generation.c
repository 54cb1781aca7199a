/*
 * Generations of a workdir's published outputs: the layout (and the migration
 * of a workdir with real directories), building a generation from the current
 * one with hard links, the one-rename switch of .current, and the removal of
 * older generations. See generation-private.h.
 */
#include "generation-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-private.h"
#include "params-private.h"

#define NTOPS 3
/* The published trees, their links (relative to the link's directory) and the links' temporary names. */
static const char *const tops[NTOPS] = {"data/processed", "reports", "artifacts"};
static const char *const top_link[NTOPS] = {"../.current/data/processed", ".current/reports", ".current/artifacts"};
static const char *const top_tmp[NTOPS] = {"data/.processed.new", ".reports.new", ".artifacts.new"};
/* Directories every generation has (readers and writers expect them). */
static const char *const gen_dirs[] = {"data/processed", "reports/figures", "artifacts/models"};

/* ---- the test hook ---- */

static bool in_list(const char *list, unsigned n)
{
	while (list && *list) {
		char *end;
		unsigned long v = strtoul(list, &end, 10);
		if (end == list)
			return false;
		if (v == n)
			return true;
		list = *end == ',' ? end + 1 : NULL;
	}
	return false;
}

churn_status ch_gen_step(ch_gen_steps *s, const char *fmt, ...)
{
	unsigned n = ++s->n;
	const char *fail = getenv("CHURN_TEST_FAIL_COMMIT_STEP");
	const char *kill = getenv("CHURN_TEST_KILL_COMMIT_STEP");
	bool do_fail = fail && in_list(fail, n), do_kill = kill && in_list(kill, n);
	if (!do_fail && !do_kill)
		return CHURN_OK;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (do_kill) {
		ch_log(s->p, CHURN_LOG_WARN, "commit step %u (%s): SIGKILL (CHURN_TEST_KILL_COMMIT_STEP)", n, what);
		raise(SIGKILL);
	}
	ch_log(s->p, CHURN_LOG_WARN, "commit step %u (%s): injected failure (CHURN_TEST_FAIL_COMMIT_STEP)", n, what);
	return ch_fail(CHURN_E_IO, "commit step %u (%s): injected failure (CHURN_TEST_FAIL_COMMIT_STEP)", n, what);
}

/* ---- small helpers ---- */

int ch_remove_tree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d && errno == EACCES && chmod(path, 0755) == 0)
		d = opendir(path);
	if (!d)
		return -1;
	/* a read-only directory (chmod a-w by someone) cannot lose its entries */
	if ((sb.st_mode & 0300) != 0300)
		chmod(path, 0755);
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *sub = ch_asprintf("%s/%s", path, e->d_name);
		if (!sub || ch_remove_tree(sub) != 0)
			rc = -1;
		free(sub);
	}
	int saved = errno;
	closedir(d);
	if (rmdir(path) != 0)
		return -1;
	errno = saved;
	return rc;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* A temporary file of ch_atomic_open ("<name>.tmp.<pid>.XXXXXX"), left by a killed writer. */
static bool is_temp_name(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	if (!t)
		return false;
	t += 5;
	size_t digits = strspn(t, "0123456789");
	return digits > 0 && t[digits] == '.' && strlen(t + digits + 1) == 6;
}

/* The id of the generation <wd>/<name> (".current", ".previous") points at, when it exists; else NULL. */
static char *gen_of_link(const char *wd, const char *name)
{
	char *link = ch_asprintf("%s/%s", wd, name);
	char buf[PATH_MAX];
	ssize_t n = link ? readlink(link, buf, sizeof(buf) - 1) : -1;
	free(link);
	if (n <= 5)
		return NULL;
	buf[n] = '\0';
	if (strncmp(buf, ".gen/", 5) != 0 || !buf[5] || strchr(buf + 5, '/') || buf[5] == '.')
		return NULL;
	char *dir = ch_asprintf("%s/%s", wd, buf);
	struct stat sb;
	bool ok = dir && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(dir);
	return ok ? ch_strdup(buf + 5) : NULL;
}

/* Whether <wd>/<rel> is a symbolic link to @p target. */
static bool link_is(const char *wd, const char *rel, const char *target)
{
	char *path = ch_asprintf("%s/%s", wd, rel);
	char buf[PATH_MAX];
	ssize_t n = path ? readlink(path, buf, sizeof(buf) - 1) : -1;
	free(path);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, target) == 0;
}

/* Copy a file (when it cannot be linked: another owner under protected_hardlinks, no hard links). */
static churn_status copy_file(const char *src, const char *dst)
{
	char *data = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(src, (size_t)1 << 40, &data, &n);
	if (!st)
		st = ch_write_file_atomic(dst, data, n);
	free(data);
	return st;
}

/*
 * Hard links in @p dst of the files under @p src that dst does not hold
 * (dst's own files win), directories made as needed; @p rel names dst in
 * messages. A missing src is an empty one.
 */
/* Whether @p rel is one of the files g drops from its base (ch_gen_drop); g NULL drops nothing. */
static bool dropped(const ch_gen *g, const char *rel)
{
	for (size_t i = 0; g && i < g->ndrop; i++)
		if (!strcmp(g->drop[i], rel))
			return true;
	return false;
}

static churn_status link_tree(const ch_gen *g, ch_gen_steps *s, const char *src, const char *dst, const char *rel)
{
	DIR *d = opendir(src);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? CHURN_OK
		                                           : ch_fail(CHURN_E_IO, "%s: cannot list: %s", src, strerror(errno));
	churn_status st = CHURN_OK;
	struct stat sb;
	if (lstat(dst, &sb) != 0) {
		if (!(st = ch_gen_step(s, "mkdir %s", rel)) && mkdir(dst, 0755) != 0 && errno != EEXIST)
			st = ch_fail(CHURN_E_CREATE, "%s: cannot create directory: %s", dst, strerror(errno));
	} else if (!S_ISDIR(sb.st_mode)) {
		goto out; /* the new generation has a file there */
	}
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_temp_name(e->d_name))
			continue;
		char *sp = ch_asprintf("%s/%s", src, e->d_name);
		char *dp = ch_asprintf("%s/%s", dst, e->d_name);
		char *r = ch_asprintf("%s/%s", rel, e->d_name);
		struct stat ssb, dsb;
		if (!sp || !dp || !r) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		} else if (lstat(sp, &ssb) != 0) {
			/* gone meanwhile: nothing to keep */
		} else if (S_ISDIR(ssb.st_mode)) {
			st = link_tree(g, s, sp, dp, r);
		} else if (S_ISREG(ssb.st_mode) && lstat(dp, &dsb) != 0 && !dropped(g, r)) {
			if (!(st = ch_gen_step(s, "link %s", r)) && link(sp, dp) != 0) {
				int err = errno;
				if (err == EPERM || err == EXDEV || err == EMLINK || err == ENOTSUP)
					st = copy_file(sp, dp);
				else
					st = ch_fail(CHURN_E_IO, "%s: cannot link into the new generation: %s", dp, strerror(err));
			}
		}
		free(sp);
		free(dp);
		free(r);
	}
out:
	closedir(d);
	return st;
}

/* Point <wd>/<name> at @p target: a new link under a temporary name renamed over it (atomic). */
static churn_status switch_link(ch_gen_steps *s, const char *wd, const char *name, const char *target)
{
	char *tmp = ch_asprintf("%s/%s.new", wd, name), *path = ch_asprintf("%s/%s", wd, name);
	churn_status st = (tmp && path) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st) {
		unlink(tmp);
		if (!(st = ch_gen_step(s, "symlink %s.new", name)) && symlink(target, tmp) != 0)
			st = ch_fail(CHURN_E_IO, "%s: cannot create link: %s", tmp, strerror(errno));
	}
	if (!st && !(st = ch_gen_step(s, "rename %s.new %s", name, name)) && rename(tmp, path) != 0)
		st = ch_fail(CHURN_E_IO, "%s: cannot replace: %s", path, strerror(errno));
	if (st && tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	return st;
}

/* Remove generations other than current and previous, and what killed runs left behind. */
static void remove_leftovers(const char *wd, const churn_params *p)
{
	char *cur = gen_of_link(wd, ".current"), *prev = gen_of_link(wd, ".previous");
	char *root = ch_asprintf("%s/.gen", wd);
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (cur && !strcmp(e->d_name, cur)) ||
		    (prev && !strcmp(e->d_name, prev)))
			continue;
		char *sub = ch_asprintf("%s/%s", root, e->d_name);
		if (sub && ch_remove_tree(sub) != 0)
			ch_log(p, CHURN_LOG_WARN, "%s: cannot remove an old generation: %s", sub, strerror(errno));
		free(sub);
	}
	if (d)
		closedir(d);
	free(root);
	free(cur);
	free(prev);
	/* the raw files of runs killed before their commit (see step_fetch in pipeline.c) */
	char *raw = ch_asprintf("%s/data/raw", wd);
	d = raw ? opendir(raw) : NULL;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".incoming-", 10) != 0)
			continue;
		char *sub = ch_asprintf("%s/%s", raw, e->d_name);
		if (sub && ch_remove_tree(sub) != 0)
			ch_log(p, CHURN_LOG_WARN, "%s: cannot remove: %s", sub, strerror(errno));
		free(sub);
	}
	if (d)
		closedir(d);
	free(raw);
	const char *const names[] = {".staging", ".current.new", ".previous.new", top_tmp[0], top_tmp[1],
	                                    top_tmp[2]};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *path = ch_asprintf("%s/%s", wd, names[i]);
		if (path)
			ch_remove_tree(path);
		free(path);
	}
}

/* ---- layout ---- */

/* Replace <wd>/<tops[k]> (a real directory, a wrong link, or nothing) by its link. */
static churn_status put_link(ch_gen_steps *s, const char *wd, size_t k)
{
	char *path = ch_asprintf("%s/%s", wd, tops[k]), *tmp = ch_asprintf("%s/%s", wd, top_tmp[k]);
	churn_status st = (path && tmp) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	struct stat sb;
	if (st)
		goto out;
	ch_remove_tree(tmp);
	if ((st = ch_gen_step(s, "symlink %s", top_tmp[k])))
		goto out;
	if (symlink(top_link[k], tmp) != 0) {
		st = ch_fail(CHURN_E_CREATE, "%s: cannot create link: %s", tmp, strerror(errno));
		goto out;
	}
	if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		/* a real directory (an earlier version's): swapped with its link in one step, then removed */
		if ((st = ch_gen_step(s, "exchange %s", tops[k])))
			goto out;
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) != 0) {
			if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
				st = ch_fail(CHURN_E_IO, "%s: cannot replace by a link: %s", path, strerror(errno));
				goto out;
			}
			/* no RENAME_EXCHANGE here: set the directory aside, then the link in (a short gap) */
			char *aside = ch_asprintf("%s/.gen/.old-%zu", wd, k);
			if (!aside) {
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
				goto out;
			}
			ch_remove_tree(aside);
			if (rename(path, aside) != 0 || rename(tmp, path) != 0) {
				st = ch_fail(CHURN_E_IO, "%s: cannot replace by a link: %s", path, strerror(errno));
				rename(aside, path);
			}
			ch_remove_tree(aside);
			free(aside);
			goto out;
		}
		ch_remove_tree(tmp); /* now the old directory: its files are in the generation */
		goto out;
	}
	if ((st = ch_gen_step(s, "rename %s %s", top_tmp[k], tops[k])))
		goto out;
	if (rename(tmp, path) != 0)
		st = ch_fail(CHURN_E_CREATE, "%s: cannot create link: %s", path, strerror(errno));
out:
	if (st && tmp)
		ch_remove_tree(tmp);
	free(path);
	free(tmp);
	return st;
}

churn_status ch_gen_layout(const char *wd, const char *id, ch_gen_steps *s)
{
	char *cur = gen_of_link(wd, ".current");
	bool links_ok = true;
	for (size_t k = 0; k < NTOPS; k++)
		links_ok = links_ok && link_is(wd, tops[k], top_link[k]);
	churn_status st = CHURN_OK;
	ch_gen *g = NULL;
	remove_leftovers(wd, s->p);
	if (cur && links_ok)
		goto out;
	/*
	 * A generation from what readers see now: each real directory's files, or
	 * the current generation's; published before any directory is swapped.
	 */
	if ((st = ch_gen_begin(wd, id, s, &g)))
		goto out;
	for (size_t k = 0; k < NTOPS && !st; k++) {
		char *real = ch_asprintf("%s/%s", wd, tops[k]);
		char *from = cur ? ch_asprintf("%s/.gen/%s/%s", wd, cur, tops[k]) : NULL;
		char *to = ch_gen_path(g, tops[k]);
		struct stat sb;
		if (!real || !to || (cur && !from))
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
		else if (lstat(real, &sb) == 0 && S_ISDIR(sb.st_mode))
			st = link_tree(NULL, s, real, to, tops[k]);
		else if (from)
			st = link_tree(NULL, s, from, to, tops[k]);
		free(real);
		free(from);
		free(to);
	}
	if (!st)
		st = ch_gen_publish(g, s->p);
	for (size_t k = 0; k < NTOPS && !st; k++)
		if (!link_is(wd, tops[k], top_link[k]))
			st = put_link(s, wd, k);
	if (!st) {
		char *data = ch_asprintf("%s/data", wd);
		if (data)
			fsync_dir(data);
		free(data);
		fsync_dir(wd);
	}
out:
	ch_gen_discard(g);
	free(cur);
	return st;
}

/* ---- building and publishing ---- */

churn_status ch_gen_begin(const char *wd, const char *id, ch_gen_steps *s, ch_gen **out)
{
	ch_gen *g = calloc(1, sizeof(*g));
	churn_status st = CHURN_OK;
	if (!g || !(g->wd = ch_strdup(wd)) || !(g->id = ch_strdup(id)) ||
	    !(g->dir = ch_asprintf("%s/.gen/%s", wd, id))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto fail;
	}
	g->steps = s;
	g->base_id = gen_of_link(wd, ".current");
	if (g->base_id && !strcmp(g->base_id, id)) {
		st = ch_fail(CHURN_E_STATE, "%s: generation %s is the published one", wd, id);
		goto fail;
	}
	ch_remove_tree(g->dir); /* a leftover of a killed run with this id */
	for (size_t i = 0; i < sizeof(gen_dirs) / sizeof(gen_dirs[0]) && !st; i++) {
		char *dir = ch_gen_path(g, gen_dirs[i]);
		st = dir ? ch_mkdir_p(dir) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(dir);
	}
	if (st)
		goto fail;
	*out = g;
	return CHURN_OK;
fail:
	ch_gen_discard(g);
	return st;
}

char *ch_gen_path(const ch_gen *g, const char *rel)
{
	return ch_asprintf("%s/%s", g->dir, rel);
}

const char *ch_gen_read_dir(const ch_gen *g, const char *rel)
{
	char *path = ch_gen_path(g, rel);
	struct stat sb;
	bool here = path && lstat(path, &sb) == 0;
	free(path);
	return here ? g->dir : g->wd;
}

churn_status ch_gen_fill(ch_gen *g)
{
	churn_status st = CHURN_OK;
	if (!g->base_id)
		return CHURN_OK;
	for (size_t k = 0; k < NTOPS && !st; k++) {
		char *from = ch_asprintf("%s/.gen/%s/%s", g->wd, g->base_id, tops[k]);
		char *to = ch_gen_path(g, tops[k]);
		st = (from && to) ? link_tree(g, g->steps, from, to, tops[k]) : ch_fail(CHURN_E_NOMEM, "out of memory");
		free(from);
		free(to);
	}
	return st;
}

churn_status ch_gen_publish(ch_gen *g, const churn_params *p)
{
	ch_gen_steps *s = g->steps;
	churn_status st = ch_gen_step(s, "sync");
	if (st)
		return st;
	/* every file of the generation on disk before .current names it */
	ch_sync_fs_of(g->dir);
	char *target = ch_asprintf(".gen/%s", g->id);
	if (!target)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	st = switch_link(s, g->wd, ".current", target);
	free(target);
	if (st)
		return st;
	g->published = true;
	/* Published. What follows only tidies up: failures are logged, the commit stands. */
	if (ch_gen_step(s, "fsync workdir") == CHURN_OK)
		fsync_dir(g->wd);
	else
		ch_log(p, CHURN_LOG_WARN, "%s", churn_last_error());
	if (g->base_id && strcmp(g->base_id, g->id) != 0) {
		char *prev = ch_asprintf(".gen/%s", g->base_id);
		if (!prev || switch_link(s, g->wd, ".previous", prev) != CHURN_OK)
			ch_log(p, CHURN_LOG_WARN, "%s: .previous not updated: %s", g->wd, churn_last_error());
		free(prev);
	}
	char *root = ch_asprintf("%s/.gen", g->wd);
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, g->id) ||
		    (g->base_id && !strcmp(e->d_name, g->base_id)))
			continue;
		char *sub = ch_asprintf("%s/%s", root, e->d_name);
		if (!sub)
			break;
		if (ch_gen_step(s, "remove .gen/%s", e->d_name) != CHURN_OK)
			ch_log(p, CHURN_LOG_WARN, "%s", churn_last_error());
		else if (ch_remove_tree(sub) != 0)
			ch_log(p, CHURN_LOG_WARN, "%s: cannot remove an old generation: %s", sub, strerror(errno));
		free(sub);
	}
	if (d)
		closedir(d);
	free(root);
	ch_clear_error();
	return CHURN_OK;
}

void ch_gen_discard(ch_gen *g)
{
	if (!g)
		return;
	if (!g->published && g->dir)
		ch_remove_tree(g->dir);
	free(g->wd);
	free(g->id);
	free(g->dir);
	free(g->base_id);
	for (size_t i = 0; i < g->ndrop; i++)
		free(g->drop[i]);
	free(g->drop);
	free(g);
}

churn_status ch_gen_drop(ch_gen *g, const char *rel)
{
	char **more = realloc(g->drop, (g->ndrop + 1) * sizeof(*more));
	if (!more)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	g->drop = more;
	if (!(g->drop[g->ndrop] = ch_strdup(rel)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	g->ndrop++;
	return CHURN_OK;
}
