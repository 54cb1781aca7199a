/*
 * The library's one way to run work on threads (libchurn/thread.c): a
 * parallel step over worker indices, and a job on a thread of its own.
 * Both fall back to the calling thread when a thread cannot be created, so
 * a caller's results must never depend on which thread ran what.
 */
#ifndef CH_THREAD_PRIVATE_H
#define CH_THREAD_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churn/params.h"

/* Number of online cores (>= 1). */
size_t ch_ncores(void);

/*
 * Run fn(ctx, t) for t in [0, nthreads) on nthreads threads (t = 0 on the
 * calling thread; at most 256) and wait for all. The indices whose thread
 * cannot be created run on the caller after its own. Workers split the items
 * among themselves by t (e.g. items t, t + nthreads, ...).
 */
void ch_parallel(size_t nthreads, void (*fn)(void *ctx, size_t t), void *ctx);

/*
 * ch_parallel, and while the other threads still run after the caller's own
 * index is done, watch(ctx) on the calling thread about every period_ms
 * (and once more when all are done): for a caller that reports their
 * progress on its own thread.
 */
void ch_parallel_watch(size_t nthreads, void (*fn)(void *ctx, size_t t), void *ctx, void (*watch)(void *ctx),
                       unsigned period_ms);

/*
 * A job on a thread of its own, started by ch_thread_start and waited for by
 * ch_thread_join. The job reports through its argument (status, error text:
 * churn_last_error() is per thread).
 */
typedef struct ch_thread {
	pthread_t thread;
	bool started, joined;
} ch_thread;

/* Run fn(arg) on a new thread, or at once on this one (returning when it is done) when no thread can be made. */
void ch_thread_start(ch_thread *t, void *(*fn)(void *), void *arg);
/* Wait for the job; later calls return at once. */
void ch_thread_join(ch_thread *t);

/*
 * A background step of a pipeline: a ch_thread whose progress the caller
 * shows while it waits. The job's params get ch_job_progress (with the job
 * as userdata), which keeps the last report and returns false once the job
 * is cancelled; ch_job_wait() relays those reports through the caller's
 * params, on the caller's thread, until the job is done.
 */
typedef struct ch_job {
	ch_thread thread;
	void *(*fn)(void *);
	void *arg;
	atomic_bool cancel;
	pthread_mutex_t lock; /* guards what, at, total, done */
	pthread_cond_t finished;
	char what[16];
	uint64_t at, total;
	bool done;
} ch_job;

/* Run fn(arg) as job j (on this thread, at once, when no thread can be made). */
void ch_job_start(ch_job *j, void *(*fn)(void *), void *arg);
/* The progress callback for the job's params (userdata: the job). */
bool ch_job_progress(void *job, const char *what, uint64_t done, uint64_t total);
/*
 * Wait for the job, showing its reports through p's progress callback about
 * every period_ms; false when that callback cancelled (the job is then
 * cancelled and waited for).
 */
bool ch_job_wait(ch_job *j, const churn_params *p, unsigned period_ms);
/* Cancel the job (its next progress report returns false) and wait for it. */
void ch_job_cancel(ch_job *j);
/* After ch_job_wait or ch_job_cancel: free the job's lock. */
void ch_job_destroy(ch_job *j);

#endif
