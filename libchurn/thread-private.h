/*
 * The library's one way to run work on threads (libchurn/thread.c): a
 * parallel step over worker indices, and a job on a thread of its own.
 * Both fall back to the calling thread when a thread cannot be created, so
 * a caller's results must never depend on which thread ran what.
 */
#ifndef CH_THREAD_PRIVATE_H
#define CH_THREAD_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
