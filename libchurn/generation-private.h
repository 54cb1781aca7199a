/*
 * Generations of a workdir's published outputs (generation.c).
 *
 * What readers see (data/processed, reports with its figures and run records,
 * artifacts) lives in a generation directory <wd>/.gen/<id>/ with those three
 * trees. The documented paths are symbolic links through one more link:
 *
 *   <wd>/.current         -> .gen/<id>
 *   <wd>/reports          -> .current/reports
 *   <wd>/artifacts        -> .current/artifacts
 *   <wd>/data/processed   -> ../.current/data/processed
 *
 * so replacing .current (a new link renamed over it: one rename(2)) switches
 * every published file at once. A commit builds its new generation beside the
 * current one: the run's own files, hard links of the current generation's
 * other files (an unchanged file keeps its inode), and the updated run
 * records; then it syncs, switches .current and removes older generations
 * (the one it replaced is kept, as <wd>/.previous, for readers that resolved
 * .current just before). data/raw and logs stay outside generations.
 *
 * Files in a generation are never rewritten in place (they may be shared with
 * another generation); writers replace them (ch_atomic_*).
 *
 * Everything here runs under the workdir lock.
 *
 * Test hook: every filesystem step of a commit is counted (ch_gen_step); with
 * CHURN_TEST_FAIL_COMMIT_STEP=N[,M...] step N fails (CHURN_E_IO), with
 * CHURN_TEST_KILL_COMMIT_STEP=N the process raises SIGKILL at step N. Both log
 * "commit step N (what): ... (CHURN_TEST_...)" first. Tests only.
 */
#ifndef CH_GENERATION_PRIVATE_H
#define CH_GENERATION_PRIVATE_H

#include <stdbool.h>

#include "churn/common.h"
#include "churn/params.h"

/* The step counter of the commits made by one pipeline call, and where the hook logs. */
typedef struct ch_gen_steps {
	const churn_params *p;
	unsigned n;
} ch_gen_steps;

/* Count one commit step; CHURN_E_IO (or SIGKILL) when the test hook says so. */
churn_status ch_gen_step(ch_gen_steps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A generation being built. */
typedef struct ch_gen {
	char *wd;
	char *id;
	char *dir;     /* <wd>/.gen/<id> */
	char *base_id; /* the generation it completes (.current when begun), or NULL */
	ch_gen_steps *steps;
	bool published;
	char **drop;   /* files of the base that ch_gen_fill leaves out (ch_gen_drop) */
	size_t ndrop;
} ch_gen;

/*
 * Make <wd> a generation layout: when .current or one of the documented links
 * is missing or wrong (a new workdir, or one written by an earlier version
 * with real directories), a generation @p id is built from the real
 * directories (hard links) or the current generation, published, and each
 * real directory swapped for its link (renameat2 RENAME_EXCHANGE, so the path
 * never disappears) and removed. Cheap when the layout is there. Leftovers of
 * killed runs (unpublished generations, .staging, the links' temporary names)
 * are removed.
 */
churn_status ch_gen_layout(const char *wd, const char *id, ch_gen_steps *s);

/* Start generation @p id (an empty <wd>/.gen/<id>/ with the three trees) on top of .current. */
churn_status ch_gen_begin(const char *wd, const char *id, ch_gen_steps *s, ch_gen **out);

/* "<g->dir>/<rel>" (malloc'd; NULL on OOM). */
char *ch_gen_path(const ch_gen *g, const char *rel);

/* The directory to read @p rel from: the new generation when it holds it, else the workdir. */
const char *ch_gen_read_dir(const ch_gen *g, const char *rel);

/*
 * Leave the base generation's file @p rel ("artifacts/models/gbm/v1.json")
 * out of g: ch_gen_fill does not link it (the model registry prunes old
 * versions so). CHURN_E_NOMEM.
 */
churn_status ch_gen_drop(ch_gen *g, const char *rel);

/* Hard links in g of every file of its base generation that g does not hold nor drops (steps counted). */
churn_status ch_gen_fill(ch_gen *g);

/*
 * Sync the file system, then point .current at g (the switch: after it the
 * generation is published), then remove the generations other than g and the
 * one it replaced; removal failures are only logged (@p p).
 */
churn_status ch_gen_publish(ch_gen *g, const churn_params *p);

/* Remove g's directory (when not published) and free it. NULL is a no-op. */
void ch_gen_discard(ch_gen *g);

/* rm -rf of a directory we own; read-only directories are made writable first. 0 or -1 (errno). */
int ch_remove_tree(const char *path);

#endif
