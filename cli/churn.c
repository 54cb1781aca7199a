/* churn: the command-line front-end of libchurn. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
} commands[] = {
	{"version", cmd_version, "print the version of churn and libchurn"},
	{"config", cmd_config, "print the effective configuration"},
	{"fetch", cmd_fetch, "download or copy the source CSV into data/raw (conditional, atomic)"},
	{"synth", cmd_synth, "write synthetic Telco churn data as CSV"},
	{"profile", cmd_profile, "profile a CSV: column types, missing values, statistics, target rate"},
	{"prepare", cmd_prepare, "fit feature preparation; write data/processed and reports/summary"},
	{"eda", cmd_eda, "EDA statistics and figures: reports/eda.json, reports/figures/"},
	/* CLI_COMMANDS: one line per command, in the order of ARCHITECTURE.md */
	{"train", cmd_train, "fit and evaluate models on a CSV; write artifacts and metrics"},
	{"predict", cmd_predict, "score customers with a model artifact: probability, label, reasons"},
	{"models", cmd_models, "the model registry: list | show | promote NAME@vN | rollback"},
	{"publish", cmd_publish, "store a model artifact in PostgreSQL (churn.models) for SQL scoring"},
	{"data", cmd_data, "data pipeline in the workdir: fetch, profile, prepare, EDA"},
	{"ml", cmd_ml, "ML pipeline in the workdir: train and evaluate logreg + gbm"},
	{"run", cmd_run, "the data pipeline, then the ML pipeline"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: churn <command> [options]   (churn <command> --help for its options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit codes: 0 ok, 64 usage, 65 bad data, 66 input missing, 69 source unavailable,\n"
	           "            70 internal, 73 cannot create output, 74 I/O error, 75 workdir busy\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE_;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		argv[1] = "version";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		cli_ctx ctx = {0};
		ctx.prog = "churn";
		ctx.cmd = commands[i].name;
		const char *wd = getenv("CHURN_WORKDIR");
		ctx.workdir = (wd && *wd) ? wd : ".";
		churn_status st = churn_params_new(&ctx.params);
		if (st)
			return cli_fail(&ctx, st, "startup");
		int rc = commands[i].fn(&ctx, argc - 1, argv + 1);
		churn_params_free(ctx.params);
		return rc < 0 ? 0 : rc;
	}
	fprintf(stderr, "churn: unknown command '%s' (see churn --help)\n", argv[1]);
	return EX_USAGE_;
}
