/*
 * Shared pieces of the churn CLI: the command table, option parsing common to
 * every command, exit codes and one-line errors. Commands live in cmd-*.c and
 * use only the public API (<churn.h>).
 */
#ifndef CHURN_CLI_H
#define CHURN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <churn.h>

/* sysexits codes of ARCHITECTURE.md */
enum {
	EX_OK_ = 0,
	EX_USAGE_ = 64,
	EX_DATAERR_ = 65,
	EX_NOINPUT_ = 66,
	EX_UNAVAILABLE_ = 69,
	EX_SOFTWARE_ = 70,
	EX_CANTCREAT_ = 73,
	EX_IOERR_ = 74,
	EX_TEMPFAIL_ = 75
};

typedef struct cli_ctx {
	const char *prog;     /* "churn" */
	const char *cmd;      /* subcommand name */
	const char *workdir;  /* --workdir, $CHURN_WORKDIR or "." */
	const char *config;   /* --config FILE or NULL */
	bool json, quiet, verbose;
	churn_params *params; /* defaults + config file + flags */
} cli_ctx;

/* A command-specific option. Exactly one of value/flag is set. */
typedef struct cli_opt {
	const char *name;     /* without "--" */
	const char *arg;      /* metavar ("N", "FILE") or NULL for a flag */
	const char **value;   /* receives the argument */
	bool *flag;           /* set true when present */
	const char *help;
} cli_opt;

/*
 * Parse argv (argv[0] is the subcommand) against the common options and
 * @p opts (terminated by a zero entry). Positional arguments are an error.
 * Returns 0 to go on, -1 when --help was printed (exit 0), else an exit code.
 * Loads the config file (--config, else <workdir>/churn.json when present)
 * into ctx->params before applying --target/--id/--positive.
 */
int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_opt *opts, const char *summary);

/* Write @p s as a JSON string literal (quoted, escaped) to @p f; NULL writes "". */
void cli_json_string(FILE *f, const char *s);

/* Exit code for a libchurn status. */
int cli_exit_code(churn_status st);
/* Print "churn <cmd>: <what>: <churn_last_error()>" and return the exit code. */
int cli_fail(const cli_ctx *ctx, churn_status st, const char *what);
/* Print "churn <cmd>: <message>" (one line) to stderr. */
void cli_error(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log callback for churn_params_set_log: "<UTC time> LEVEL msg" on stderr; userdata non-NULL (--verbose) also shows ERROR lines. */
void cli_log_stderr(void *ud, churn_log_level level, const char *msg);
/* Progress callback drawing a bar on stderr when it is a terminal. */
bool cli_progress(void *ud, const char *what, uint64_t done, uint64_t total);
/* Clear a bar left unfinished on the terminal (before any other line goes to stdout or stderr). */
void cli_progress_clear(void);

/* Whether @p s reads as a registry reference (NAME@v..., champion, challenger, previous) rather than a file. */
bool cli_is_model_ref(const char *s);
/* The model file for --model FILE|REF (NULL: the champion of the workdir's registry); malloc'd, NULL with *rc set. */
char *cli_model_path(cli_ctx *ctx, const char *arg, int *rc);

/* Commands: int cmd_<name>(cli_ctx *ctx, int argc, char **argv). */
typedef int (*cli_cmd_fn)(cli_ctx *ctx, int argc, char **argv);
int cmd_version(cli_ctx *ctx, int argc, char **argv);
int cmd_config(cli_ctx *ctx, int argc, char **argv);
int cmd_data(cli_ctx *ctx, int argc, char **argv);
int cmd_ml(cli_ctx *ctx, int argc, char **argv);
int cmd_run(cli_ctx *ctx, int argc, char **argv);
int cmd_prepare(cli_ctx *ctx, int argc, char **argv);
int cmd_eda(cli_ctx *ctx, int argc, char **argv);
int cmd_fetch(cli_ctx *ctx, int argc, char **argv);
int cmd_synth(cli_ctx *ctx, int argc, char **argv);
int cmd_profile(cli_ctx *ctx, int argc, char **argv);
int cmd_train(cli_ctx *ctx, int argc, char **argv);
int cmd_predict(cli_ctx *ctx, int argc, char **argv);
int cmd_publish(cli_ctx *ctx, int argc, char **argv);
int cmd_models(cli_ctx *ctx, int argc, char **argv);

#endif
