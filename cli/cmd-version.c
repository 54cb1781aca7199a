/* churn version, churn config */
#include "cli.h"

int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
	int rc = cli_parse(ctx, argc, argv, NULL, "print the version of churn and libchurn");
	if (rc)
		return rc;
	if (ctx->json)
		printf("{\"name\":\"churn\",\"version\":\"%s\",\"library_version\":\"%s\"}\n", CHURN_VERSION_STRING,
		       churn_version());
	else
		printf("churn %s (libchurn %s)\n", CHURN_VERSION_STRING, churn_version());
	return 0;
}

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
	int rc = cli_parse(ctx, argc, argv, NULL, "print the effective configuration (defaults, config file, flags)");
	if (rc)
		return rc;
	/* a PostgreSQL URL is shown with its password masked, as everywhere else */
	static const char *const urls[] = {CHURN_KEY_DATA_SOURCE, CHURN_KEY_PIPELINE_SCORES_OUT};
	churn_status st = CHURN_OK;
	for (size_t k = 0; k < 2 && !st; k++) {
		char *masked = NULL;
		if (churn_db_is_url(churn_params_get_str(ctx->params, urls[k])) &&
		    !(st = churn_db_mask_url(churn_params_get_str(ctx->params, urls[k]), &masked)))
			st = churn_params_set_str(ctx->params, urls[k], masked);
		churn_free(masked);
	}
	if (st)
		return cli_fail(ctx, st, "config");
	char *json = NULL;
	st = churn_params_to_json(ctx->params, &json);
	if (st)
		return cli_fail(ctx, st, "config");
	printf("%s\n", json);
	churn_free(json);
	return 0;
}
