/*
 * churn_fetch: http(s) against a scripted server on 127.0.0.1 started by this
 * suite (tests/http-server.py), file:// URLs, plain paths, synthetic data.
 * Every failure case also checks that the previous good file and its meta
 * are intact and that no temp file is left behind.
 */
#include <churn.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"

#ifndef CHURN_TEST_HTTP_SERVER
#define CHURN_TEST_HTTP_SERVER "http-server.py"
#endif
#define PYTHON "/usr/bin/python3"

/* The body of /ok.csv (v=1), /noetag.csv and tests/data/fetch-ok.csv. */
static const char OK_CSV[] = "customerID,tenure,Churn\n0001-A,1,Yes\n0002-B,34,No\n0003-C,2,Yes\n";
static const char OK_SHA[] = "d0ea9487941a07a0af86a1d034c62afff27ece581b46b0b8b7398f71e8799940";

static pid_t server_pid = -1;
static int server_port;

/* ---- the server (unchecked fixture: one per suite run) ---- */

static void server_start(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(PYTHON, PYTHON, CHURN_TEST_HTTP_SERVER, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return;
	}
	server_pid = pid;
	char buf[32] = {0};
	size_t n = 0;
	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fds[0], buf + n, 1);
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	close(fds[0]);
	server_port = atoi(buf);
}

static void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
}

/* ---- helpers ---- */

static char *dest; /* churn_test_tmp/raw/data.csv */
static churn_params *params;

static void setup(void)
{
	ck_assert_msg(server_port > 0, "the test HTTP server did not start (" PYTHON " " CHURN_TEST_HTTP_SERVER ")");
	churn_test_tmp_setup();
	dest = churn_test_path(churn_test_tmp, "raw/data.csv");
	params = churn_test_params("fetch.timeout_s", "5", "fetch.retry_delay_s", "0.01", "fetch.retries", "2", NULL);
}

static void teardown(void)
{
	churn_params_free(params);
	params = NULL;
	churn_test_tmp_teardown();
	free(dest);
	dest = NULL;
}

static char *url(const char *path)
{
	static _Thread_local char buf[8][1300];
	static _Thread_local int k;
	char *b = buf[k++ % 8];
	snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%d%s", server_port, path);
	return b;
}

/* Requests the server saw for a counter key. */
static int hits(const char *key)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[256], resp[1024];
	int rn = snprintf(req, sizeof(req), "GET /hits?key=%s HTTP/1.0\r\n\r\n", key);
	ck_assert_int_eq(write(fd, req, (size_t)rn), rn);
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(resp) - 1 && (r = read(fd, resp + n, sizeof(resp) - 1 - n)) > 0)
		n += (size_t)r;
	resp[n] = '\0';
	close(fd);
	char *body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	return atoi(body + 4);
}

static char *meta_of(const char *path)
{
	char mp[1024];
	snprintf(mp, sizeof(mp), "%s.meta.json", path);
	return churn_test_read_file(mp, NULL);
}

static int64_t mtime_ns_of(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return -1;
	return (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Files in the directory of dest whose name contains ".tmp." (left-over temp files). */
static int temp_files_left(void)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/raw", churn_test_tmp);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

/* Put a good file at dest (from /ok.csv) and remember its bytes and meta. */
static char *good_data, *good_meta;
static int64_t good_mtime;

static void prime_good(void)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=prime"), dest, params, &info), CHURN_OK);
	churn_fetch_info_free(info);
	good_data = churn_test_read_file(dest, NULL);
	good_meta = meta_of(dest);
	good_mtime = mtime_ns_of(dest);
	ck_assert_str_eq(good_data, OK_CSV);
	ck_assert_ptr_nonnull(good_meta);
}

static void assert_good_intact(void)
{
	char *d = churn_test_read_file(dest, NULL), *m = meta_of(dest);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(d, good_data);
	ck_assert_str_eq(m, good_meta);
	ck_assert_int_eq(mtime_ns_of(dest), good_mtime);
	ck_assert_int_eq(temp_files_left(), 0);
	free(d);
	free(m);
	free(good_data);
	free(good_meta);
	good_data = good_meta = NULL;
}

static void assert_error_has(const char *a, const char *b)
{
	const char *e = churn_last_error();
	ck_assert_msg(a == NULL || strstr(e, a), "error '%s' lacks '%s'", e, a);
	ck_assert_msg(b == NULL || strstr(e, b), "error '%s' lacks '%s'", e, b);
}

/* ---- http ---- */

START_TEST(test_fetch_http_ok_writes_file_meta_and_info)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv"), dest, params, &info), CHURN_OK);
	ck_assert_ptr_nonnull(info);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), strlen(OK_CSV));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	ck_assert_str_eq(churn_fetch_info_get_etag(info), "\"v1\"");
	ck_assert_str_eq(churn_fetch_info_get_last_modified(info), "Wed, 21 Oct 2015 07:28:00 GMT");
	ck_assert_str_eq(churn_fetch_info_get_url(info), url("/ok.csv"));
	ck_assert_str_eq(churn_fetch_info_get_path(info), dest);
	ck_assert_uint_eq(churn_fetch_info_get_attempts(info), 1);
	const char *at = churn_fetch_info_get_fetched_at(info);
	ck_assert_uint_eq(strlen(at), 20);
	ck_assert(at[4] == '-' && at[10] == 'T' && at[19] == 'Z');
	churn_fetch_info_free(info);

	char *d = churn_test_read_file(dest, NULL), *m = meta_of(dest);
	ck_assert_str_eq(d, OK_CSV);
	ck_assert_ptr_nonnull(strstr(m, "\"sha256\":\t\"d0ea9487941a07a0af86a1d034c62afff27ece581b46b0b8b7398f71e8799940\""));
	ck_assert_ptr_nonnull(strstr(m, "\"etag\":\t\"\\\"v1\\\"\""));
	ck_assert_ptr_nonnull(strstr(m, "\"last_modified\":\t\"Wed, 21 Oct 2015 07:28:00 GMT\""));
	ck_assert_ptr_nonnull(strstr(m, "\"bytes\":\t63"));
	ck_assert_ptr_nonnull(strstr(m, "\"http_status\":\t200"));
	ck_assert_ptr_nonnull(strstr(m, "\"fetched_at\":\t\"20"));
	ck_assert_ptr_nonnull(strstr(m, url("/ok.csv")));
	ck_assert_int_eq(temp_files_left(), 0);
	free(d);
	free(m);

	/* out_info may be NULL; params may be NULL (defaults) */
	ck_assert_int_eq(churn_fetch(url("/ok.csv"), dest, NULL, NULL), CHURN_OK);
}
END_TEST

START_TEST(test_fetch_http_304_keeps_file_unchanged)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=c304"), dest, params, &info), CHURN_OK);
	churn_fetch_info_free(info);
	char *meta1 = meta_of(dest);
	int64_t mt = mtime_ns_of(dest);
	struct stat sb1, sb2;
	ck_assert_int_eq(stat(dest, &sb1), 0);
	usleep(20000);

	info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=c304"), dest, params, &info), CHURN_OK);
	ck_assert(!churn_fetch_info_is_changed(info));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 304);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), strlen(OK_CSV));
	ck_assert_str_eq(churn_fetch_info_get_etag(info), "\"v1\"");
	churn_fetch_info_free(info);
	ck_assert_int_eq(hits("c304"), 2);
	ck_assert_int_eq(mtime_ns_of(dest), mt);
	ck_assert_int_eq(stat(dest, &sb2), 0);
	ck_assert_uint_eq(sb1.st_ino, sb2.st_ino);
	char *meta2 = meta_of(dest);
	ck_assert_str_eq(meta1, meta2);
	ck_assert_int_eq(temp_files_left(), 0);

	/* a new version at the same URL: replaced, no longer 304 */
	info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=c304&v=2"), dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	ck_assert_str_ne(churn_fetch_info_get_sha256(info), OK_SHA);
	ck_assert_str_eq(churn_fetch_info_get_etag(info), "\"v2\"");
	churn_fetch_info_free(info);
	char *d = churn_test_read_file(dest, NULL);
	ck_assert_ptr_nonnull(strstr(d, "9999-Z,2,No"));
	free(d);
	free(meta1);
	free(meta2);
}
END_TEST

START_TEST(test_fetch_http_missing_file_gets_unconditional_get)
{
	/* meta present but the data file gone: an unconditional GET restores it */
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=gone"), dest, params, NULL), CHURN_OK);
	ck_assert_int_eq(unlink(dest), 0);
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/ok.csv?key=gone"), dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	churn_fetch_info_free(info);
	char *d = churn_test_read_file(dest, NULL);
	ck_assert_str_eq(d, OK_CSV);
	free(d);
}
END_TEST

START_TEST(test_fetch_http_same_body_not_rewritten)
{
	ck_assert_int_eq(churn_fetch(url("/noetag.csv"), dest, params, NULL), CHURN_OK);
	int64_t mt = mtime_ns_of(dest);
	usleep(20000);
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/noetag.csv"), dest, params, &info), CHURN_OK);
	ck_assert(!churn_fetch_info_is_changed(info));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	ck_assert_ptr_null(churn_fetch_info_get_etag(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
	ck_assert_int_eq(mtime_ns_of(dest), mt);
	char *m = meta_of(dest);
	ck_assert_ptr_nonnull(strstr(m, "\"etag\":\tnull"));
	free(m);
}
END_TEST

START_TEST(test_fetch_http_redirect_followed)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/redirect"), dest, params, &info), CHURN_OK);
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
}
END_TEST

START_TEST(test_fetch_http_404_not_retried_keeps_previous)
{
	prime_good();
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/missing?key=m404"), dest, params, &info), CHURN_E_NETWORK);
	ck_assert_ptr_null(info);
	assert_error_has(url("/missing?key=***"), "HTTP 404 Not Found");
	ck_assert_int_eq(hits("m404"), 1); /* 4xx: no retry */
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_500_retried_until_200)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/flaky?fail=2&key=flaky2"), dest, params, &info), CHURN_OK);
	ck_assert_uint_eq(churn_fetch_info_get_attempts(info), 3);
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 200);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
	ck_assert_int_eq(hits("flaky2"), 3);
}
END_TEST

START_TEST(test_fetch_http_500_retries_exhausted_keeps_previous)
{
	prime_good();
	ck_assert_int_eq(churn_fetch(url("/flaky?fail=9&key=flaky9"), dest, params, NULL), CHURN_E_NETWORK);
	assert_error_has("HTTP 500 Internal Server Error", "after 3 attempts");
	assert_error_has(url("/flaky?fail=***&key=***"), NULL);
	ck_assert_int_eq(hits("flaky9"), 3); /* 1 + fetch.retries */
	assert_good_intact();

	/* retries 0: one request only */
	ck_assert_int_eq(churn_params_set_int(params, "fetch.retries", 0), CHURN_OK);
	ck_assert_int_eq(churn_fetch(url("/flaky?fail=9&key=flaky0"), dest, params, NULL), CHURN_E_NETWORK);
	ck_assert_int_eq(hits("flaky0"), 1);
}
END_TEST

START_TEST(test_fetch_http_truncated_body_fails_keeps_previous)
{
	prime_good();
	ck_assert_int_eq(churn_params_set_int(params, "fetch.retries", 1), CHURN_OK);
	ck_assert_int_eq(churn_fetch(url("/truncated?key=trunc"), dest, params, NULL), CHURN_E_NETWORK);
	assert_error_has(url("/truncated?key=***"), "truncated");
	assert_error_has("after 2 attempts", NULL);
	ck_assert_int_eq(hits("trunc"), 2);
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_over_limit_stopped_early_keeps_previous)
{
	prime_good();
	ck_assert_int_eq(churn_params_set_int(params, "fetch.max_bytes", 1000), CHURN_OK);
	double t0 = now_s();
	/* announced by Content-Length: stopped before the body */
	ck_assert_int_eq(churn_fetch(url("/big?n=5000000&key=big1"), dest, params, NULL), CHURN_E_LIMIT);
	assert_error_has(url("/big?n=***&key=***"), "fetch.max_bytes");
	/* no Content-Length: stopped by the write callback */
	ck_assert_int_eq(churn_fetch(url("/big?n=5000000&chunked=1&key=big2"), dest, params, NULL), CHURN_E_LIMIT);
	assert_error_has("larger than 1000 bytes", NULL);
	ck_assert_double_lt(now_s() - t0, 3.0);
	ck_assert_int_eq(hits("big1"), 1); /* a limit is not retried */
	ck_assert_int_eq(hits("big2"), 1);
	assert_good_intact();

	/* exactly at the limit is fine */
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url("/big?n=1000&key=big3"), dest, params, &info), CHURN_OK);
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), 1000);
	churn_fetch_info_free(info);
}
END_TEST

START_TEST(test_fetch_http_stall_times_out)
{
	prime_good();
	ck_assert_int_eq(churn_params_set_double(params, "fetch.timeout_s", 1), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(params, "fetch.retries", 0), CHURN_OK);
	double t0 = now_s();
	ck_assert_int_eq(churn_fetch(url("/stall?s=5"), dest, params, NULL), CHURN_E_NETWORK);
	double dt = now_s() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 3.0, "stall took %.2f s", dt);
	assert_error_has(url("/stall?s=***"), "timed out");
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_html_rejected_keeps_previous)
{
	prime_good();
	ck_assert_int_eq(churn_fetch(url("/html?key=html"), dest, params, NULL), CHURN_E_PARSE);
	assert_error_has(url("/html?key=***"), "not a CSV file (looks like HTML)");
	ck_assert_int_eq(hits("html"), 1);
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_unreachable_is_network_error_keeps_previous)
{
	prime_good();
	ck_assert_int_eq(churn_params_set_int(params, "fetch.retries", 1), CHURN_OK);
	/* port 1 on loopback: connection refused */
	ck_assert_int_eq(churn_fetch("http://127.0.0.1:1/data.csv", dest, params, NULL), CHURN_E_NETWORK);
	assert_error_has("http://127.0.0.1:1/data.csv", NULL);
	ck_assert_int_eq(churn_fetch("http://nonexistent.invalid/data.csv", dest, params, NULL), CHURN_E_NETWORK);
	assert_error_has("nonexistent.invalid", NULL);
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_credentials_redacted)
{
	char u[256];
	snprintf(u, sizeof(u), "http://user:s3cret@127.0.0.1:%d/missing", server_port);
	ck_assert_int_eq(churn_fetch(u, dest, params, NULL), CHURN_E_NETWORK);
	ck_assert_ptr_null(strstr(churn_last_error(), "s3cret"));
	assert_error_has("http://***@127.0.0.1:", "HTTP 404");
	/* a token in the query string is as secret as a password: values are masked, names stay */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/missing?token=s3cret&user=bob#frag", server_port);
	ck_assert_int_eq(churn_fetch(u, dest, params, NULL), CHURN_E_NETWORK);
	ck_assert_ptr_null(strstr(churn_last_error(), "s3cret"));
	ck_assert_ptr_null(strstr(churn_last_error(), "bob"));
	assert_error_has("/missing?token=***&user=***#***", "HTTP 404");
}
END_TEST

static int progress_calls;
static uint64_t progress_max;
static bool progress_cancel(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)ud;
	(void)total;
	ck_assert_str_eq(what, "download");
	progress_calls++;
	if (done > progress_max)
		progress_max = done;
	return done < 10000;
}

START_TEST(test_fetch_http_progress_cancel_stops_keeps_previous)
{
	prime_good();
	progress_calls = 0;
	progress_max = 0;
	churn_params_set_progress(params, progress_cancel, NULL);
	ck_assert_int_eq(churn_fetch(url("/big?n=3000000&key=cancel"), dest, params, NULL), CHURN_E_STATE);
	assert_error_has("cancelled", NULL);
	ck_assert_int_gt(progress_calls, 0);
	ck_assert_uint_lt(progress_max, 3000000);
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_http_real_telco_same_bytes_as_local_copy)
{
	const char *telco = churn_test_telco_csv();
	if (!telco)
		return;
	struct stat sb;
	ck_assert_int_eq(stat(telco, &sb), 0);
	char path[1200];
	snprintf(path, sizeof(path), "/file?path=%s", telco);
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(url(path), dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), (uint64_t)sb.st_size);
	char sha[65];
	snprintf(sha, sizeof(sha), "%s", churn_fetch_info_get_sha256(info));
	churn_fetch_info_free(info);
	/* the same bytes as a local copy; then 304 */
	char dest2[1100];
	snprintf(dest2, sizeof(dest2), "%s/copy/telco.csv", churn_test_tmp);
	info = NULL;
	ck_assert_int_eq(churn_fetch(telco, dest2, params, &info), CHURN_OK);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), sha);
	churn_fetch_info_free(info);
	info = NULL;
	ck_assert_int_eq(churn_fetch(url(path), dest, params, &info), CHURN_OK);
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 304);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), sha);
	churn_fetch_info_free(info);
}
END_TEST

/* Distinct destinations from several threads at once (the first call initialises libcurl once). */
struct thread_job {
	char dest[1100];
	const char *url;
	churn_status st;
	char sha[65];
};

static void *fetch_thread(void *arg)
{
	struct thread_job *j = arg;
	churn_fetch_info *info = NULL;
	j->st = churn_fetch(j->url, j->dest, params, &info);
	if (!j->st)
		snprintf(j->sha, sizeof(j->sha), "%s", churn_fetch_info_get_sha256(info));
	churn_fetch_info_free(info);
	return NULL;
}

START_TEST(test_fetch_http_threads_each_get_the_file)
{
	enum { N = 8 };
	struct thread_job jobs[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		snprintf(jobs[i].dest, sizeof(jobs[i].dest), "%s/t%d/data.csv", churn_test_tmp, i);
		jobs[i].url = i % 2 ? url("/ok.csv?key=threads") : url("/noetag.csv?key=threads");
		jobs[i].st = CHURN_E_INTERNAL;
		ck_assert_int_eq(pthread_create(&th[i], NULL, fetch_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(jobs[i].st, CHURN_OK);
		ck_assert_str_eq(jobs[i].sha, OK_SHA);
	}
	ck_assert_int_eq(hits("threads"), N);
}
END_TEST

/* ---- local sources ---- */

static char log_text[4096];
static void capture_log(void *ud, churn_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	size_t n = strlen(log_text);
	snprintf(log_text + n, sizeof(log_text) - n, "%s\n", msg);
}

START_TEST(test_fetch_path_and_file_url_copy_only_when_changed)
{
	char src[1024], fu[1100];
	snprintf(src, sizeof(src), "%s/src data.csv", churn_test_tmp);
	ck_assert(churn_test_write_file(src, OK_CSV));
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(src, dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), strlen(OK_CSV));
	ck_assert_int_eq(churn_fetch_info_get_http_status(info), 0);
	churn_fetch_info_free(info);
	char *m = meta_of(dest);
	ck_assert_ptr_nonnull(strstr(m, "\"http_status\":\tnull"));
	ck_assert_ptr_nonnull(strstr(m, "\"source_mtime\":\t\""));
	free(m);
	int64_t mt = mtime_ns_of(dest);
	usleep(20000);

	/* unchanged: same size and mtime, not even read */
	log_text[0] = '\0';
	churn_params_set_log(params, capture_log, NULL, CHURN_LOG_DEBUG);
	info = NULL;
	ck_assert_int_eq(churn_fetch(src, dest, params, &info), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(log_text, "same size and mtime"));
	churn_params_set_log(params, NULL, NULL, CHURN_LOG_DEBUG);
	ck_assert(!churn_fetch_info_is_changed(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
	ck_assert_int_eq(mtime_ns_of(dest), mt);

	/* source rewritten with the same bytes (new mtime): hashed, still unchanged */
	ck_assert(churn_test_write_file(src, OK_CSV));
	info = NULL;
	ck_assert_int_eq(churn_fetch(src, dest, params, &info), CHURN_OK);
	ck_assert(!churn_fetch_info_is_changed(info));
	churn_fetch_info_free(info);
	ck_assert_int_eq(mtime_ns_of(dest), mt);

	/* new content: changed */
	ck_assert(churn_test_write_file(src, "a,b\n1,2\n"));
	info = NULL;
	ck_assert_int_eq(churn_fetch(src, dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_uint_eq(churn_fetch_info_get_bytes(info), 8);
	churn_fetch_info_free(info);

	/* the same file through a file:// URL (space percent-encoded) */
	char *sp = strrchr(src, ' ');
	*sp = '\0';
	snprintf(fu, sizeof(fu), "file://%s%%20data.csv", src);
	*sp = ' ';
	ck_assert(churn_test_write_file(src, OK_CSV));
	info = NULL;
	ck_assert_int_eq(churn_fetch(fu, dest, params, &info), CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	ck_assert_str_eq(churn_fetch_info_get_url(info), fu);
	churn_fetch_info_free(info);
	char *d = churn_test_read_file(dest, NULL);
	ck_assert_str_eq(d, OK_CSV);
	free(d);
	ck_assert_int_eq(temp_files_left(), 0);
}
END_TEST

START_TEST(test_fetch_path_is_dest_leaves_file_unchanged)
{
	ck_assert_int_eq(churn_fetch(url("/ok.csv"), dest, params, NULL), CHURN_OK);
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(dest, dest, params, &info), CHURN_OK);
	ck_assert(!churn_fetch_info_is_changed(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
	char *d = churn_test_read_file(dest, NULL);
	ck_assert_str_eq(d, OK_CSV);
	free(d);
}
END_TEST

START_TEST(test_fetch_data_file_csv_accepted_html_rejected)
{
	char *src = churn_test_data_path("fetch-ok.csv");
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(src, dest, params, &info), CHURN_OK);
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), OK_SHA);
	churn_fetch_info_free(info);
	free(src);
	src = churn_test_data_path("fetch-page.html");
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_PARSE);
	assert_error_has("fetch-page.html", "looks like HTML");
	free(src);
}
END_TEST

START_TEST(test_fetch_local_missing_is_notfound_keeps_previous)
{
	prime_good();
	char src[1024], fu[1100];
	snprintf(src, sizeof(src), "%s/nope.csv", churn_test_tmp);
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_NOTFOUND);
	assert_error_has(src, NULL);
	snprintf(fu, sizeof(fu), "file://%s", src);
	ck_assert_int_eq(churn_fetch(fu, dest, params, NULL), CHURN_E_NOTFOUND);
	assert_error_has(fu, NULL);
	ck_assert_int_eq(churn_fetch(churn_test_tmp, dest, params, NULL), CHURN_E_INVALID_ARG); /* a directory */
	assert_good_intact();
}
END_TEST

START_TEST(test_fetch_local_not_csv_rejected_keeps_previous)
{
	prime_good();
	char src[1024];
	snprintf(src, sizeof(src), "%s/bad.csv", churn_test_tmp);
	FILE *f = fopen(src, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite("a,b\n1,\0002\n", 1, 10, f);
	fclose(f);
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_PARSE);
	assert_error_has("NUL byte at offset 6", src);
	ck_assert(churn_test_write_file(src, ""));
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_PARSE);
	assert_error_has("empty", NULL);
	ck_assert(churn_test_write_file(src, "just one column\nx\n"));
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_PARSE);
	assert_error_has("no comma in the first line", NULL);
	ck_assert(churn_test_write_file(src, "\xEF\xBB\xBF  <html><body>x,y</body></html>"));
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_PARSE);
	assert_error_has("looks like HTML", NULL);
	ck_assert_int_eq(churn_params_set_int(params, "fetch.max_bytes", 10), CHURN_OK);
	ck_assert(churn_test_write_file(src, OK_CSV));
	ck_assert_int_eq(churn_fetch(src, dest, params, NULL), CHURN_E_LIMIT);
	assert_good_intact();
}
END_TEST

/* ---- synthetic, names, arguments ---- */

START_TEST(test_fetch_synthetic_deterministic_and_limited)
{
	churn_fetch_info *info = NULL;
	churn_status st = churn_fetch("synthetic:200?seed=7", dest, params, &info);
	if (st == CHURN_E_UNSUPPORTED)
		return; /* synth module not built in */
	ck_assert_int_eq(st, CHURN_OK);
	ck_assert(churn_fetch_info_is_changed(info));
	ck_assert_uint_gt(churn_fetch_info_get_bytes(info), 200 * 50);
	char sha[65];
	snprintf(sha, sizeof(sha), "%s", churn_fetch_info_get_sha256(info));
	churn_fetch_info_free(info);
	char *d = churn_test_read_file(dest, NULL);
	ck_assert_int_eq(strncmp(d, "customerID,", 11), 0);
	free(d);
	int64_t mt = mtime_ns_of(dest);
	usleep(20000);
	info = NULL;
	ck_assert_int_eq(churn_fetch("synthetic:200?seed=7", dest, params, &info), CHURN_OK);
	ck_assert(!churn_fetch_info_is_changed(info));
	ck_assert_str_eq(churn_fetch_info_get_sha256(info), sha);
	churn_fetch_info_free(info);
	ck_assert_int_eq(mtime_ns_of(dest), mt);
	ck_assert_int_eq(churn_params_set_int(params, "fetch.max_bytes", 100), CHURN_OK);
	ck_assert_int_eq(churn_fetch("synthetic:200?seed=8", dest, params, NULL), CHURN_E_LIMIT);
	assert_error_has("synthetic:200?seed=8: larger than 100 bytes", NULL);
	ck_assert_int_eq(mtime_ns_of(dest), mt);
	ck_assert_int_eq(temp_files_left(), 0);
}
END_TEST

START_TEST(test_fetch_default_name_from_source)
{
	static const struct { const char *src, *name; } cases[] = {
		{CHURN_FETCH_DEFAULT_URL, "telco-customer-churn.csv"},
		{"https://example.com/a/B%20c.CSV?x=1#frag", "b-c.csv"},
		{"https://example.com/", "download.csv"},
		{"https://example.com", "download.csv"},
		{"file:///tmp/My Data.csv", "my-data.csv"},
		{"data/raw/Telco.csv", "telco.csv"},
		{"synthetic:7043", "synthetic-7043.csv"},
		{"synthetic:100?seed=3", "synthetic-100.csv"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = NULL;
		ck_assert_int_eq(churn_fetch_default_name(cases[i].src, &name), CHURN_OK);
		ck_assert_str_eq(name, cases[i].name);
		churn_free(name);
	}
	char *name = NULL;
	ck_assert_int_eq(churn_fetch_default_name("synthetic:x", &name), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(name);
}
END_TEST

/* postgresql:// sources: the password and unknown parameters' values never shown; libchurn's own parameters checked. */
START_TEST(test_fetch_postgresql_url_masked_and_checked)
{
	static const struct { const char *url, *masked; } cases[] = {
		{"postgresql://u:s3cr%40t@db.example:5432/churn?table=public.customers",
		 "postgresql://u:***@db.example:5432/churn?table=public.customers"},
		{"postgres://u@h/db?query=SELECT%201&sslmode=require&password=pw&sslpassword=x",
		 "postgres://u@h/db?query=SELECT%201&sslmode=require&password=***&sslpassword=***"},
		{"postgresql://u:p@ss@h/db?table=t", "postgresql://u:***@h/db?table=t"},
		{"postgresql:///db?host=/run/pg&table=t&flag", "postgresql:///db?host=/run/pg&table=t&flag"},
		{"https://a/b.csv", "https://a/b.csv"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = NULL;
		ck_assert_int_eq(churn_db_mask_url(cases[i].url, &m), CHURN_OK);
		ck_assert_str_eq(m, cases[i].masked);
		churn_free(m);
	}
	ck_assert(churn_db_is_url("PostgreSQL://h/db") && churn_db_is_url("postgres://h") && !churn_db_is_url("pg://h"));
	char *name = NULL;
	ck_assert_int_eq(churn_fetch_default_name("postgresql://u:pw@h/db?table=Sales.Customers", &name), CHURN_OK);
	ck_assert_str_eq(name, "sales.customers.csv");
	churn_free(name);
	ck_assert_int_eq(churn_fetch_default_name("postgresql://h/db?query=SELECT%20*%20FROM%20t", &name), CHURN_OK);
	ck_assert_str_eq(name, "query.csv");
	churn_free(name);
	/* neither, both, twice, empty, a bad escape: refused before any connection, the password masked */
	static const char *const bad[] = {
		"postgresql://u:hunter22@h/db", "postgresql://u:hunter22@h/db?table=a&query=SELECT%201",
		"postgresql://u:hunter22@h/db?table=a&table=b", "postgresql://u:hunter22@h/db?table=",
		"postgresql://u:hunter22@h/db?query=SELECT%zz", "postgresql://u:hunter22@h/db?query=SELECT%00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(churn_fetch(bad[i], dest, NULL, NULL), CHURN_E_INVALID_ARG);
		ck_assert_ptr_null(strstr(churn_last_error(), "hunter22"));
		ck_assert_ptr_nonnull(strstr(churn_last_error(), "u:***@h/db"));
	}
	ck_assert_int_ne(access(dest, F_OK), 0);
}
END_TEST

START_TEST(test_fetch_bad_args_and_uncreatable_dest_refused)
{
	churn_fetch_info *info = NULL;
	ck_assert_int_eq(churn_fetch(NULL, dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_fetch("", dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_fetch(url("/ok.csv"), NULL, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_fetch("ftp://example.com/x.csv", dest, params, &info), CHURN_E_UNSUPPORTED);
	assert_error_has("ftp://", NULL);
	ck_assert_int_eq(churn_fetch("synthetic:", dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_fetch("synthetic:0", dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_fetch("synthetic:10?seed=x", dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_fetch("file://otherhost/x.csv", dest, params, &info), CHURN_E_INVALID_ARG);
	ck_assert_ptr_null(info);
	/* a destination that cannot be created */
	char bad[1024];
	snprintf(bad, sizeof(bad), "%s/file", churn_test_tmp);
	ck_assert(churn_test_write_file(bad, "x"));
	snprintf(bad, sizeof(bad), "%s/file/x.csv", churn_test_tmp);
	ck_assert_int_eq(churn_fetch(url("/ok.csv"), bad, params, &info), CHURN_E_CREATE);
	ck_assert_ptr_null(info);
	churn_fetch_info_free(NULL);
	ck_assert(!churn_fetch_info_is_changed(NULL));
}
END_TEST

/* ---- the churn fetch command (CHURN_CLI: path of the built churn, set by meson) ---- */

/* Run churn with argv (NULL-terminated, argv[0] ignored); stdout into out. Returns the exit status. */
static int run_cli(char **argv, char *out, size_t cap)
{
	const char *cli = getenv("CHURN_CLI");
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		char errpath[1100];
		snprintf(errpath, sizeof(errpath), "%s/stderr.txt", churn_test_tmp);
		FILE *e = freopen(errpath, "w", stderr);
		(void)e;
		argv[0] = (char *)cli;
		execv(cli, argv);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n < cap - 1 && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char *cli_stderr(void)
{
	char errpath[1100];
	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", churn_test_tmp);
	return churn_test_read_file(errpath, NULL);
}

START_TEST(test_fetch_cli_json_line_and_exit_codes)
{
	if (!getenv("CHURN_CLI"))
		return;
	char out[4096], wd[1100], expect[1200];
	snprintf(wd, sizeof(wd), "%s/wd", churn_test_tmp);
	char *ok[] = {"churn", "fetch", "--workdir", wd, "--source", url("/ok.csv?key=cli"), "--json", NULL};
	ck_assert_int_eq(run_cli(ok, out, sizeof(out)), 0);
	snprintf(expect, sizeof(expect), "{\"path\":\"%s/data/raw/ok.csv\",", wd);
	ck_assert_msg(strncmp(out, expect, strlen(expect)) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"changed\":true"));
	ck_assert_ptr_nonnull(strstr(out, OK_SHA));
	ck_assert_ptr_nonnull(strstr(out, "\"http_status\":200"));
	ck_assert_int_eq(run_cli(ok, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"changed\":false"));
	ck_assert_ptr_nonnull(strstr(out, "\"http_status\":304"));

	/* one line without --json */
	char *line[] = {"churn", "fetch", "--workdir", wd, "--source", url("/ok.csv?key=cli"), NULL};
	ck_assert_int_eq(run_cli(line, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "ok.csv  63 bytes  sha256 d0ea9487"));
	ck_assert_ptr_nonnull(strstr(out, "unchanged\n"));

	/* exit codes of ARCHITECTURE.md; nothing on stdout, one line on stderr */
	static const struct { const char *path, *shown; int code; const char *msg; } cases[] = {
		{"/missing?key=cli", "/missing?key=***", 69, "HTTP 404 Not Found"},
		{"/html?key=cli", "/html?key=***", 65, "looks like HTML"},
		{"/big?n=5000000&key=cli", "/big?n=***&key=***", 65, "fetch.max_bytes"},
	};
	char cfg[1200];
	snprintf(cfg, sizeof(cfg), "%s/churn.json", wd);
	ck_assert(churn_test_write_file(cfg, "{\"fetch\": {\"max_bytes\": 100000}}"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad[] = {"churn", "fetch", "--workdir", wd, "--source", url(cases[i].path), "--out", dest, NULL};
		ck_assert_int_eq(run_cli(bad, out, sizeof(out)), cases[i].code);
		ck_assert_str_eq(out, "");
		char *err = cli_stderr();
		ck_assert_msg(strstr(err, cases[i].msg) && strstr(err, url(cases[i].shown)), "%s", err);
		ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
		free(err);
	}
	char missing[1200];
	snprintf(missing, sizeof(missing), "%s/nope.csv", churn_test_tmp);
	char *nf[] = {"churn", "fetch", "--workdir", wd, "--source", missing, NULL};
	ck_assert_int_eq(run_cli(nf, out, sizeof(out)), 66);
	char *cant[] = {"churn", "fetch", "--workdir", wd, "--source", url("/ok.csv"), "--out", cfg, NULL};
	snprintf(cfg + strlen(cfg), sizeof(cfg) - strlen(cfg), "/x.csv"); /* under a regular file */
	ck_assert_int_eq(run_cli(cant, out, sizeof(out)), 73);
	char *usage[] = {"churn", "fetch", "--nope", NULL};
	ck_assert_int_eq(run_cli(usage, out, sizeof(out)), 64);
}
END_TEST

static Suite *fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("http");
	tcase_add_unchecked_fixture(tc, server_start, server_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fetch_http_ok_writes_file_meta_and_info);
	tcase_add_test(tc, test_fetch_http_304_keeps_file_unchanged);
	tcase_add_test(tc, test_fetch_http_missing_file_gets_unconditional_get);
	tcase_add_test(tc, test_fetch_http_same_body_not_rewritten);
	tcase_add_test(tc, test_fetch_http_redirect_followed);
	tcase_add_test(tc, test_fetch_http_credentials_redacted);
	tcase_add_test(tc, test_fetch_http_real_telco_same_bytes_as_local_copy);
	tcase_add_test(tc, test_fetch_http_threads_each_get_the_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_unchecked_fixture(tc, server_start, server_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fetch_http_404_not_retried_keeps_previous);
	tcase_add_test(tc, test_fetch_http_500_retried_until_200);
	tcase_add_test(tc, test_fetch_http_500_retries_exhausted_keeps_previous);
	tcase_add_test(tc, test_fetch_http_truncated_body_fails_keeps_previous);
	tcase_add_test(tc, test_fetch_http_over_limit_stopped_early_keeps_previous);
	tcase_add_test(tc, test_fetch_http_stall_times_out);
	tcase_add_test(tc, test_fetch_http_html_rejected_keeps_previous);
	tcase_add_test(tc, test_fetch_http_unreachable_is_network_error_keeps_previous);
	tcase_add_test(tc, test_fetch_http_progress_cancel_stops_keeps_previous);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_unchecked_fixture(tc, server_start, server_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fetch_path_and_file_url_copy_only_when_changed);
	tcase_add_test(tc, test_fetch_path_is_dest_leaves_file_unchanged);
	tcase_add_test(tc, test_fetch_data_file_csv_accepted_html_rejected);
	tcase_add_test(tc, test_fetch_local_missing_is_notfound_keeps_previous);
	tcase_add_test(tc, test_fetch_local_not_csv_rejected_keeps_previous);
	tcase_add_test(tc, test_fetch_synthetic_deterministic_and_limited);
	tcase_add_test(tc, test_fetch_default_name_from_source);
	tcase_add_test(tc, test_fetch_bad_args_and_uncreatable_dest_refused);
	tcase_add_test(tc, test_fetch_postgresql_url_masked_and_checked);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_unchecked_fixture(tc, server_start, server_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fetch_cli_json_line_and_exit_codes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* loopback requests must not go through a proxy from the environment */
	static const char *proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	setenv("NO_PROXY", "*", 1);
	signal(SIGPIPE, SIG_IGN);
	return churn_test_run(fetch_suite());
}
