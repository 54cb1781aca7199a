/* thread: the one way to run work on threads (thread-private.h): ch_parallel
 * runs every worker index once and waits; ch_thread_start/join runs a job and
 * waits for it once. White-box: links the internal library. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

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

static Suite *thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("thread");
	tcase_add_test(tc, test_parallel_runs_each_index_once);
	tcase_add_test(tc, test_parallel_strided_sum_matches_serial);
	tcase_add_test(tc, test_thread_job_runs_once_and_join_is_idempotent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return churn_test_run(thread_suite());
}
