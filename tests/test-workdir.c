/* Workdir: layout, lock, log rotation, capped run records, JSON reads. */
#include <churn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

static bool exists(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	struct stat sb;
	return stat(path, &sb) == 0;
}

START_TEST(test_workdir_open_creates_layout)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/a/b", churn_test_tmp);
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(dir, NULL, &w), CHURN_OK);
	const char *want[] = {"data/raw", "data/processed", "reports/figures", "artifacts/models", "logs"};
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(exists(dir, want[i]), "%s missing", want[i]);
	char *j = NULL;
	ck_assert_int_eq(churn_workdir_join(w, "reports/x.json", &j), CHURN_OK);
	ck_assert_ptr_nonnull(strstr(j, "/a/b/reports/x.json"));
	churn_free(j);
	churn_workdir_free(w);
}
END_TEST

START_TEST(test_workdir_open_unwritable_is_create_error)
{
	char file[1024], dir[1100];
	snprintf(file, sizeof(file), "%s/plain", churn_test_tmp);
	ck_assert(churn_test_write_file(file, "x"));
	snprintf(dir, sizeof(dir), "%s/sub", file);
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(dir, NULL, &w), CHURN_E_CREATE);
	ck_assert_ptr_null(w);
	ck_assert_str_ne(churn_last_error(), "");
}
END_TEST

START_TEST(test_workdir_lock_busy_until_holder_dies)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_double(p, "workdir.lock_wait_s", 0.3), CHURN_OK);
	int go[2];
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork();
	if (pid == 0) {
		churn_workdir *cw = NULL;
		if (churn_workdir_open(churn_test_tmp, p, &cw) || churn_workdir_lock(cw))
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	char c;
	ck_assert_int_eq(read(go[0], &c, 1), 1);
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(churn_test_tmp, p, &w), CHURN_OK);
	ck_assert_int_eq(churn_workdir_lock(w), CHURN_E_BUSY);
	ck_assert_ptr_nonnull(strstr(churn_last_error(), "lock"));
	kill(pid, SIGKILL); /* a killed holder releases the lock */
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(churn_workdir_lock(w), CHURN_OK);
	churn_workdir_free(w);
	churn_params_free(p);
	close(go[0]);
	close(go[1]);
}
END_TEST

START_TEST(test_workdir_log_lines_stamped_and_rotated)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	ck_assert_int_eq(churn_params_set_int(p, "workdir.log_max_bytes", 2048), CHURN_OK);
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(churn_test_tmp, p, &w), CHURN_OK);
	char *id = NULL, *again = NULL, *next = NULL;
	ck_assert_int_eq(churn_workdir_new_run_id(w, &id), CHURN_OK);
	ck_assert_uint_ge(strlen(id), 20);
	ck_assert_int_eq(churn_workdir_get_run_id(w, &again), CHURN_OK);
	ck_assert_str_eq(again, id);
	ck_assert_int_eq(churn_workdir_log(w, CHURN_LOG_INFO, "step=fetch duration_s=0.1 status=succeeded"), CHURN_OK);
	char path[1024];
	snprintf(path, sizeof(path), "%s/logs/pipeline.log", churn_test_tmp);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(line, " INFO run="));
	ck_assert_ptr_nonnull(strstr(line, id));
	ck_assert_ptr_nonnull(strstr(line, "step=fetch"));
	ck_assert(line[4] == '-' && line[10] == 'T' && line[19] == 'Z');
	/* the caller's copy outlives the next id */
	ck_assert_int_eq(churn_workdir_new_run_id(w, &next), CHURN_OK);
	ck_assert_str_ne(next, id);
	churn_free(again);
	churn_free(next);
	churn_free(id);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(churn_workdir_log(w, CHURN_LOG_WARN, "filler line to force a rotation of the log"), CHURN_OK);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_lt(sb.st_size, 2048 + 200);
	ck_assert(exists(churn_test_tmp, "logs/pipeline.log.1"));
	churn_workdir_free(w);
	churn_params_free(p);
}
END_TEST

START_TEST(test_workdir_records_capped_at_max_records)
{
	churn_params *p = NULL;
	ck_assert_int_eq(churn_params_new(&p), CHURN_OK);
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(churn_test_tmp, p, &w), CHURN_OK);
	for (int i = 0; i < 25; i++) {
		char e[64];
		snprintf(e, sizeof(e), "{\"run_id\": \"r%d\", \"n\": %d}", i, i);
		ck_assert_int_eq(churn_workdir_append_record(w, "reports/run_metadata.json", e), CHURN_OK);
	}
	char *json = NULL;
	size_t n = 0;
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/run_metadata.json", &json, &n), CHURN_OK);
	ck_assert_ptr_null(strstr(json, "\"r4\""));
	ck_assert_ptr_nonnull(strstr(json, "\"r5\""));
	ck_assert_ptr_nonnull(strstr(json, "\"r24\""));
	ck_assert(strstr(json, "\"r5\"") < strstr(json, "\"r24\"")); /* oldest first */
	churn_free(json);
	ck_assert_int_eq(churn_workdir_append_record(w, "reports/run_metadata.json", "[1]"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_workdir_append_record(w, "reports/run_metadata.json", "[]"), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_workdir_append_record(w, "reports/run_metadata.json", "[{\"run_id\": \"x\"}, 2]"),
	                 CHURN_E_INVALID_ARG);
	/* an array appends its objects in order, still capped */
	ck_assert_int_eq(churn_workdir_append_record(w, "reports/run_metadata.json",
	                                             "[{\"run_id\": \"a1\"}, {\"run_id\": \"a2\"}]"),
	                 CHURN_OK);
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/run_metadata.json", &json, &n), CHURN_OK);
	ck_assert_ptr_null(strstr(json, "\"r6\""));
	ck_assert_ptr_nonnull(strstr(json, "\"r7\""));
	ck_assert(strstr(json, "\"r24\"") < strstr(json, "\"a1\"") && strstr(json, "\"a1\"") < strstr(json, "\"a2\""));
	churn_free(json);
	churn_workdir_free(w);
	churn_params_free(p);
}
END_TEST

START_TEST(test_workdir_corrupt_record_kept_aside)
{
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(churn_test_tmp, NULL, &w), CHURN_OK);
	char path[1024];
	snprintf(path, sizeof(path), "%s/reports/model_run_metadata.json", churn_test_tmp);
	ck_assert(churn_test_write_file(path, "{\"runs\": [ {\"trunc"));
	char *json = NULL;
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/model_run_metadata.json", &json, NULL),
	                 CHURN_E_PARSE);
	ck_assert_ptr_null(json);
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/none.json", &json, NULL), CHURN_E_NOTFOUND);
	ck_assert_int_eq(churn_workdir_append_record(w, "reports/model_run_metadata.json", "{\"run_id\":\"a\"}"), CHURN_OK);
	ck_assert(exists(churn_test_tmp, "reports/model_run_metadata.json.corrupt"));
	ck_assert_int_eq(churn_workdir_read_json(w, "reports/model_run_metadata.json", &json, NULL),
	                 CHURN_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"a\""));
	churn_free(json);
	churn_workdir_free(w);
}
END_TEST

/* A generation layout (pipeline.h): the documented directories are links the pipelines own. */
START_TEST(test_workdir_open_keeps_generation_links)
{
	char dir[1024], path[1200];
	snprintf(dir, sizeof(dir), "%s/g", churn_test_tmp);
	snprintf(path, sizeof(path), "%s/data", dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	/* .current dangles (a generation removed by hand): opening must neither fail nor make real directories */
	snprintf(path, sizeof(path), "%s/.current", dir);
	ck_assert_int_eq(symlink(".gen/gone", path), 0);
	static const char *const links[][2] = {{"reports", ".current/reports"},
	                                       {"artifacts", ".current/artifacts"},
	                                       {"data/processed", "../.current/data/processed"}};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, links[i][0]);
		ck_assert_int_eq(symlink(links[i][1], path), 0);
	}
	churn_workdir *w = NULL;
	ck_assert_int_eq(churn_workdir_open(dir, NULL, &w), CHURN_OK);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, links[i][0]);
		struct stat sb;
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert_msg(S_ISLNK(sb.st_mode), "%s replaced", links[i][0]);
	}
	ck_assert(exists(dir, "data/raw") && exists(dir, "logs"));
	churn_workdir_free(w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workdir");
	TCase *tc = tcase_create("workdir");
	tcase_add_checked_fixture(tc, churn_test_tmp_setup, churn_test_tmp_teardown);
	tcase_add_test(tc, test_workdir_open_creates_layout);
	tcase_add_test(tc, test_workdir_open_unwritable_is_create_error);
	tcase_add_test(tc, test_workdir_open_keeps_generation_links);
	tcase_add_test(tc, test_workdir_lock_busy_until_holder_dies);
	tcase_add_test(tc, test_workdir_log_lines_stamped_and_rotated);
	tcase_add_test(tc, test_workdir_records_capped_at_max_records);
	tcase_add_test(tc, test_workdir_corrupt_record_kept_aside);
	suite_add_tcase(s, tc);
	return churn_test_run(s);
}
