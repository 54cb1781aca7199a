/* Work on threads (thread-private.h): the parallel step and background jobs. */
#include "thread-private.h"

#include <unistd.h>

size_t ch_ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

struct par_arg {
	void (*fn)(void *, size_t);
	void *ctx;
	size_t t;
};

static void *par_main(void *p)
{
	struct par_arg *a = p;
	a->fn(a->ctx, a->t);
	return NULL;
}

void ch_parallel(size_t nthreads, void (*fn)(void *ctx, size_t t), void *ctx)
{
	if (nthreads <= 1) {
		fn(ctx, 0);
		return;
	}
	enum { MAXT = 256 };
	if (nthreads > MAXT)
		nthreads = MAXT;
	pthread_t th[MAXT];
	struct par_arg args[MAXT];
	bool started[MAXT] = {false};
	for (size_t t = 1; t < nthreads; t++) {
		args[t] = (struct par_arg){fn, ctx, t};
		started[t] = pthread_create(&th[t], NULL, par_main, &args[t]) == 0;
	}
	fn(ctx, 0);
	for (size_t t = 1; t < nthreads; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			fn(ctx, t);
	}
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
