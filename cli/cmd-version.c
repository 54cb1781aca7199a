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
	char *json = NULL;
	churn_status st = churn_params_to_json(ctx->params, &json);
	if (st)
		return cli_fail(ctx, st, "config");
	printf("%s\n", json);
	churn_free(json);
	return 0;
}
