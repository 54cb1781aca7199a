/*
 * churn models list | show REF | promote REF | rollback: the model registry
 * of the workdir (churn/registry.h). The library reads, checks and changes
 * it; this prints. REF is NAME@vN (gbm@v3) or champion, challenger, previous.
 * promote and rollback take the workdir lock (exit 75 when busy).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const char SUMMARY[] = "the model registry: list | show NAME@vN | promote NAME@vN | rollback";

static double number_or_nan(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(x) ? x->valuedouble : 0.0 / 0.0;
}

/* The table of versions (oldest first) and the last decision. */
static void print_list(const char *json)
{
	cJSON *reg = cJSON_Parse(json), *v;
	printf("%-16s %-21s %8s %8s  %s\n", "VERSION", "CREATED", "ROC_AUC", "BRIER", "ALIASES");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "versions"))
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "metrics"), *a;
		char names[64] = "";
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(v, "aliases"))
		{
			size_t n = strlen(names);
			snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "", cJSON_GetStringValue(a));
		}
		printf("%-16s %-21s %8.4f %8.4f  %s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "ref")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "created_at")), number_or_nan(m, "roc_auc"),
		       number_or_nan(m, "brier"), names);
	}
	cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reg, "history"),
	                              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reg, "history")) - 1);
	if (h)
		printf("last decision (%s, %s): %s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "action")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "at")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "reason")));
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(reg, "migrated")))
		printf("(a workdir from before the registry: its next ML run, promote or rollback records these as v1)\n");
	cJSON_Delete(reg);
}

/* "champion gbm@v3 (was logreg@v2)" of a promote or rollback entry. */
static void print_change(const char *json)
{
	cJSON *e = cJSON_Parse(json);
	const char *after = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "champion_after"));
	const char *before = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "champion"));
	const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "reason"));
	if (before)
		printf("champion %s (was %s)\n", after ? after : "?", before);
	else
		printf("champion %s (%s)\n", after ? after : "?", reason ? reason : "");
	cJSON_Delete(e);
}

static int run_action(cli_ctx *ctx, const char *action, const char *ref)
{
	char *json = NULL;
	churn_status st;
	if (!strcmp(action, "list"))
		st = churn_registry_json(ctx->workdir, &json);
	else if (!strcmp(action, "show"))
		st = churn_registry_show_json(ctx->workdir, ref, &json);
	else if (!strcmp(action, "promote"))
		st = churn_registry_promote(ctx->workdir, ctx->params, ref, &json);
	else
		st = churn_registry_rollback(ctx->workdir, ctx->params, &json);
	if (st)
		return cli_fail(ctx, st, "model registry");
	if (ctx->json || !strcmp(action, "show"))
		printf("%s\n", json);
	else if (!strcmp(action, "list"))
		print_list(json);
	else if (!ctx->quiet)
		print_change(json);
	churn_free(json);
	return 0;
}

bool cli_is_model_ref(const char *s)
{
	if (!strcmp(s, "champion") || !strcmp(s, "challenger") || !strcmp(s, "previous"))
		return true;
	const char *at = strchr(s, '@');
	return at && at != s && at[1] == 'v' && !strchr(s, '/');
}

/*
 * The file to load for --model @p arg: the file itself, or (a registry
 * reference, or no --model: the champion) the version's file in the workdir.
 * NULL with *rc set on failure.
 */
char *cli_model_path(cli_ctx *ctx, const char *arg, int *rc)
{
	char *rel = NULL, *ref = NULL, *path = NULL;
	if (arg && (strchr(arg, '/') || !cli_is_model_ref(arg) || access(arg, F_OK) == 0))
		return strdup(arg);
	churn_status st = churn_registry_resolve(ctx->workdir, arg, &rel, &ref);
	if (st) {
		*rc = cli_fail(ctx, st, "choosing the model");
		return NULL;
	}
	size_t n = strlen(ctx->workdir) + strlen(rel) + 2;
	if ((path = malloc(n)))
		snprintf(path, n, "%s/%s", ctx->workdir, rel);
	if (ctx->verbose)
		fprintf(stderr, "churn %s: model %s (%s)\n", ctx->cmd, ref, rel);
	churn_free(rel);
	churn_free(ref);
	if (!path)
		*rc = cli_fail(ctx, CHURN_E_NOMEM, "choosing the model");
	return path;
}

int cmd_models(cli_ctx *ctx, int argc, char **argv)
{
	static const char *const actions[] = {"list", "show", "promote", "rollback"};
	static const char *const names[] = {"models list", "models show", "models promote", "models rollback"};
	const cli_opt opts[] = {{NULL, NULL, NULL, NULL, NULL}};
	size_t k = 0;
	while (argc >= 2 && k < 4 && strcmp(argv[1], actions[k]) != 0)
		k++;
	if (argc < 2 || k == 4) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			return cli_parse(ctx, argc, argv, opts, SUMMARY);
		cli_error(ctx, "expected list, show NAME@vN, promote NAME@vN or rollback (see churn models --help)");
		return EX_USAGE_;
	}
	ctx->cmd = names[k];
	const char *ref = NULL;
	int skip = 1;
	if (k == 1 || k == 2) {
		if (argc < 3 || !strncmp(argv[2], "--", 2)) {
			cli_error(ctx, "expected a model version after '%s': NAME@vN, champion, challenger or previous",
			          actions[k]);
			return EX_USAGE_;
		}
		ref = argv[2];
		skip = 2;
	}
	int rc = cli_parse(ctx, argc - skip, argv + skip, opts, SUMMARY);
	return rc ? rc : run_action(ctx, actions[k], ref);
}
