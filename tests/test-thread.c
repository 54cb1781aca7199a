/* thread: the one way to run work on threads (thread-private.h): ch_parallel
 * runs every worker index once and waits; ch_parallel_watch watches on the
 * caller's thread until the others end; ch_thread_start/join runs a job and
 * waits for it once; ch_job relays a job's progress to the waiting caller and
 * carries its cancel. White-box: links the internal library. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <churn.h>

#include "params-private.h"
#include "test-common.h"
#include "thread-private.h"

struct count_ctx {
	atomic_uint hits[300];
	atomic_uint total;
};

static void count_worker(void *p, size_t t)
{
	struct count_ctx *c = p;
	atomic_fetch_add(&c->hits[t], 1);
	atomic_fetch_add(&c->total, 1);
}

START_TEST(test_parallel_runs_each_index_once)
{
	static const size_t ns[] = {0, 1, 2, 5, 256, 300};
	for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
		struct count_ctx c;
		memset(&c, 0, sizeof c);
		ch_parallel(ns[k], count_worker, &c);
		/* 0 runs index 0 on the caller; more than 256 is capped at 256 */
		size_t want = ns[k] == 0 ? 1 : ns[k] > 256 ? 256 : ns[k];
		ck_assert_uint_eq(atomic_load(&c.total), want);
		for (size_t t = 0; t < want; t++)
			ck_assert_uint_eq(atomic_load(&c.hits[t]), 1);
	}
}
END_TEST

struct sum_ctx {
	const uint32_t *v;
	size_t n, nth;
	uint64_t part[8];
};

static void sum_worker(void *p, size_t t)
{
	struct sum_ctx *c = p;
	uint64_t s = 0;
	for (size_t i = t; i < c->n; i += c->nth)
		s += c->v[i];
	c->part[t] = s;
}

START_TEST(test_parallel_strided_sum_matches_serial)
{
	enum { N = 100003 };
	static uint32_t v[N];
	uint64_t want = 0;
	for (size_t i = 0; i < N; i++)
		want += v[i] = (uint32_t)(i * 2654435761u);
	for (size_t nth = 1; nth <= 8; nth++) {
		struct sum_ctx c = {.v = v, .n = N, .nth = nth};
		ch_parallel(nth, sum_worker, &c);
		uint64_t got = 0;
		for (size_t t = 0; t < nth; t++)
			got += c.part[t];
		ck_assert_uint_eq(got, want);
	}
}
END_TEST

static void *job_main(void *arg)
{
	atomic_fetch_add((atomic_uint *)arg, 1);
	return NULL;
}

START_TEST(test_thread_job_runs_once_and_join_is_idempotent)
{
	atomic_uint n = 0;
	ch_thread t;
	ch_thread_start(&t, job_main, &n);
	ch_thread_join(&t);
	ck_assert_uint_eq(atomic_load(&n), 1);
	ch_thread_join(&t);
	ck_assert_uint_eq(atomic_load(&n), 1);
	ck_assert_uint_ge(ch_ncores(), 1);
}
END_TEST

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

struct watch_ctx {
	pthread_t caller;
	atomic_uint finished;
	unsigned watched, watched_elsewhere, finished_at_last_watch;
};

static void slow_worker(void *p, size_t t)
{
	struct watch_ctx *c = p;
	sleep_ms(t == 0 ? 5 : 150 * (unsigned)t);
	atomic_fetch_add(&c->finished, 1);
}

static void watcher(void *p)
{
	struct watch_ctx *c = p;
	c->watched++;
	c->watched_elsewhere += !pthread_equal(pthread_self(), c->caller);
	c->finished_at_last_watch = atomic_load(&c->finished);
}

START_TEST(test_parallel_watch_watches_on_the_caller_until_all_end)
{
	struct watch_ctx c = {.caller = pthread_self()};
	ch_parallel_watch(3, slow_worker, &c, watcher, 10);
	/* index 2 runs ~300 ms after index 0's 5 ms: watched meanwhile and once more after every worker, all here */
	ck_assert_uint_ge(c.watched, 2);
	ck_assert_uint_eq(c.watched_elsewhere, 0);
	ck_assert_uint_eq(c.finished_at_last_watch, 3);
	/* one worker: run, then one watch */
	struct watch_ctx one = {.caller = pthread_self()};
	ch_parallel_watch(1, slow_worker, &one, watcher, 10);
	ck_assert_uint_eq(one.watched, 1);
	ck_assert_uint_eq(one.finished_at_last_watch, 1);
}
END_TEST

struct job_ctx {
	churn_params *p; /* the job's, reporting through ch_job_progress */
	unsigned steps, reached;
	bool cancelled;
};

static void *stepping_job(void *arg)
{
	struct job_ctx *j = arg;
	for (unsigned i = 1; i <= j->steps; i++) {
		sleep_ms(15);
		j->reached = i;
		if (!ch_progress(j->p, "step", i, j->steps)) {
			j->cancelled = true;
			break;
		}
	}
	return NULL;
}

struct shown {
	pthread_t caller;
	unsigned calls, elsewhere, cancel_at;
	uint64_t last_done, last_total;
};

static bool show(void *ud, const char *what, uint64_t done, uint64_t total)
{
	struct shown *s = ud;
	ck_assert_str_eq(what, "step");
	s->calls++;
	s->elsewhere += !pthread_equal(pthread_self(), s->caller);
	ck_assert_uint_ge(done, s->last_done);
	s->last_done = done;
	s->last_total = total;
	return !s->cancel_at || done < s->cancel_at;
}

static void run_job(unsigned steps, unsigned cancel_at, struct job_ctx *j, struct shown *s, bool *waited)
{
	churn_params *mine = NULL, *its = NULL;
	ck_assert_int_eq(churn_params_new(&mine), CHURN_OK);
	ck_assert_int_eq(churn_params_new(&its), CHURN_OK);
	*s = (struct shown){.caller = pthread_self(), .cancel_at = cancel_at};
	*j = (struct job_ctx){.p = its, .steps = steps};
	churn_params_set_progress(mine, show, s);
	ch_job job;
	churn_params_set_progress(its, ch_job_progress, &job);
	ch_job_start(&job, stepping_job, j);
	*waited = ch_job_wait(&job, mine, 5);
	ch_job_destroy(&job);
	churn_params_free(mine);
	churn_params_free(its);
}

START_TEST(test_job_progress_is_shown_on_the_waiting_thread)
{
	struct job_ctx j;
	struct shown s;
	bool ok = false;
	run_job(12, 0, &j, &s, &ok);
	ck_assert(ok);
	ck_assert(!j.cancelled);
	ck_assert_uint_ge(s.calls, 2);
	ck_assert_uint_eq(s.elsewhere, 0);
	/* the last report is always shown, even when it came after the last look */
	ck_assert_uint_eq(s.last_done, 12);
	ck_assert_uint_eq(s.last_total, 12);
}
END_TEST

START_TEST(test_job_cancelled_by_the_waiting_caller_stops)
{
	struct job_ctx j;
	struct shown s;
	bool ok = true;
	run_job(1000, 3, &j, &s, &ok);
	ck_assert(!ok);
	ck_assert(j.cancelled);
	ck_assert_uint_lt(j.reached, 1000);
	ck_assert_uint_eq(s.elsewhere, 0);
}
END_TEST

static Suite *thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("thread");
	tcase_add_test(tc, test_parallel_runs_each_index_once);
	tcase_add_test(tc, test_parallel_strided_sum_matches_serial);
	tcase_add_test(tc, test_thread_job_runs_once_and_join_is_idempotent);
	tcase_add_test(tc, test_parallel_watch_watches_on_the_caller_until_all_end);
	tcase_add_test(tc, test_job_progress_is_shown_on_the_waiting_thread);
	tcase_add_test(tc, test_job_cancelled_by_the_waiting_caller_stops);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(thread_suite());
}
