/* Work on threads (thread-private.h): the parallel step and background jobs. */
#include "thread-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "params-private.h"

/* now + ms on CLOCK_REALTIME, for pthread_cond_timedwait */
static struct timespec deadline_in(unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	until.tv_sec += (time_t)(ms / 1000) + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	return until;
}

size_t ch_ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

/* What the threads of one ch_parallel_watch share: how many are still running. */
struct par_shared {
	pthread_mutex_t lock;
	pthread_cond_t done;
	size_t running;
};

struct par_arg {
	void (*fn)(void *, size_t);
	void *ctx;
	size_t t;
	struct par_shared *sh;
};

static void *par_main(void *p)
{
	struct par_arg *a = p;
	a->fn(a->ctx, a->t);
	pthread_mutex_lock(&a->sh->lock);
	a->sh->running--;
	pthread_cond_signal(&a->sh->done);
	pthread_mutex_unlock(&a->sh->lock);
	return NULL;
}

/* Until no thread runs: watch(ctx) every period_ms, unlocked, on this thread. */
static void watch_until_done(struct par_shared *sh, void (*watch)(void *), void *ctx, unsigned period_ms)
{
	pthread_mutex_lock(&sh->lock);
	while (sh->running) {
		pthread_mutex_unlock(&sh->lock);
		watch(ctx);
		pthread_mutex_lock(&sh->lock);
		struct timespec until = deadline_in(period_ms);
		while (sh->running && pthread_cond_timedwait(&sh->done, &sh->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sh->lock);
	watch(ctx);
}

void ch_parallel_watch(size_t nthreads, void (*fn)(void *ctx, size_t t), void *ctx, void (*watch)(void *ctx),
                       unsigned period_ms)
{
	if (nthreads <= 1) {
		fn(ctx, 0);
		if (watch)
			watch(ctx);
		return;
	}
	enum { MAXT = 256 };
	if (nthreads > MAXT)
		nthreads = MAXT;
	pthread_t th[MAXT];
	struct par_arg args[MAXT];
	bool started[MAXT] = {false};
	struct par_shared sh = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	for (size_t t = 1; t < nthreads; t++) {
		args[t] = (struct par_arg){fn, ctx, t, &sh};
		pthread_mutex_lock(&sh.lock);
		started[t] = pthread_create(&th[t], NULL, par_main, &args[t]) == 0;
		sh.running += started[t];
		pthread_mutex_unlock(&sh.lock);
	}
	fn(ctx, 0);
	for (size_t t = 1; t < nthreads; t++)
		if (!started[t])
			fn(ctx, t);
	if (watch)
		watch_until_done(&sh, watch, ctx, period_ms ? period_ms : 1);
	for (size_t t = 1; t < nthreads; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	pthread_cond_destroy(&sh.done);
	pthread_mutex_destroy(&sh.lock);
}

void ch_parallel(size_t nthreads, void (*fn)(void *ctx, size_t t), void *ctx)
{
	ch_parallel_watch(nthreads, fn, ctx, NULL, 0);
}

void ch_thread_start(ch_thread *t, void *(*fn)(void *), void *arg)
{
	t->started = pthread_create(&t->thread, NULL, fn, arg) == 0;
	t->joined = false;
	if (!t->started)
		fn(arg);
}

void ch_thread_join(ch_thread *t)
{
	if (t->started && !t->joined)
		pthread_join(t->thread, NULL);
	t->joined = true;
}

static void *job_main(void *arg)
{
	ch_job *j = arg;
	j->fn(j->arg);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	pthread_cond_signal(&j->finished);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

void ch_job_start(ch_job *j, void *(*fn)(void *), void *arg)
{
	j->fn = fn;
	j->arg = arg;
	atomic_init(&j->cancel, false);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->finished, NULL);
	j->what[0] = 0;
	j->at = j->total = 0;
	j->done = false;
	ch_thread_start(&j->thread, job_main, j);
}

bool ch_job_progress(void *job, const char *what, uint64_t done, uint64_t total)
{
	ch_job *j = job;
	pthread_mutex_lock(&j->lock);
	snprintf(j->what, sizeof j->what, "%s", what ? what : "");
	j->at = done;
	j->total = total;
	pthread_mutex_unlock(&j->lock);
	return !atomic_load(&j->cancel);
}

bool ch_job_wait(ch_job *j, const churn_params *p, unsigned period_ms)
{
	bool cancelled = false;
	char shown[sizeof j->what] = "";
	uint64_t shown_at = UINT64_MAX;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		if (j->what[0] && (j->at != shown_at || strcmp(j->what, shown))) { /* also the last report, once done */
			uint64_t total = j->total;
			shown_at = j->at;
			memcpy(shown, j->what, sizeof shown);
			pthread_mutex_unlock(&j->lock);
			cancelled = !ch_progress(p, shown, shown_at, total);
			pthread_mutex_lock(&j->lock);
			if (cancelled)
				break;
			continue;
		}
		if (j->done)
			break;
		struct timespec until = deadline_in(period_ms ? period_ms : 1);
		pthread_cond_timedwait(&j->finished, &j->lock, &until);
	}
	pthread_mutex_unlock(&j->lock);
	if (cancelled)
		ch_job_cancel(j);
	ch_thread_join(&j->thread);
	return !cancelled;
}

void ch_job_cancel(ch_job *j)
{
	atomic_store(&j->cancel, true);
	ch_thread_join(&j->thread);
}

void ch_job_destroy(ch_job *j)
{
	pthread_cond_destroy(&j->finished);
	pthread_mutex_destroy(&j->lock);
}
