#include "test-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CHURN_TEST_DATA
#define CHURN_TEST_DATA "."
#endif

int churn_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *churn_test_data_path(const char *name)
{
	size_t n = strlen(CHURN_TEST_DATA) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", CHURN_TEST_DATA, name);
	return p;
}

char *churn_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + 32;
	char *p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/churn-test-XXXXXX", base);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

void churn_test_rmdir(const char *dir)
{
	if (!dir || strncmp(dir, "/", 1) != 0 || !strstr(dir, "churn-test-"))
		return;
	size_t n = strlen(dir) + 16;
	char *cmd = malloc(n);
	if (!cmd)
		return;
	snprintf(cmd, n, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	free(cmd);
}

bool churn_test_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	size_t n = strlen(content);
	bool ok = fwrite(content, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

const char *churn_test_telco_csv(void)
{
	static int noted;
	const char *p = getenv("CHURN_TELCO_CSV");
	if (p && *p && access(p, R_OK) == 0)
		return p;
	if (!noted++)
		fprintf(stderr, "# SKIP real-data cases: CHURN_TELCO_CSV is %s\n",
		        p && *p ? "not readable" : "not set");
	return NULL;
}
