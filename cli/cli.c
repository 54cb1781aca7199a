/* Option parsing, exit codes and messages shared by every churn command. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

int cli_exit_code(churn_status st)
{
	switch (st) {
	case CHURN_OK: return EX_OK_;
	case CHURN_E_INVALID_ARG: return EX_USAGE_;
	case CHURN_E_PARSE:
	case CHURN_E_FORMAT:
	case CHURN_E_NUMERIC:
	case CHURN_E_LIMIT: return EX_DATAERR_;
	case CHURN_E_NOTFOUND: return EX_NOINPUT_;
	case CHURN_E_NETWORK: return EX_UNAVAILABLE_;
	case CHURN_E_CREATE: return EX_CANTCREAT_;
	case CHURN_E_IO: return EX_IOERR_;
	case CHURN_E_BUSY: return EX_TEMPFAIL_;
	default: return EX_SOFTWARE_;
	}
}

void cli_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void cli_error(const cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	cli_progress_clear();
	fprintf(stderr, "%s%s%s: ", ctx && ctx->prog ? ctx->prog : "churn", ctx && ctx->cmd ? " " : "",
	        ctx && ctx->cmd ? ctx->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const cli_ctx *ctx, churn_status st, const char *what)
{
	const char *detail = churn_last_error();
	if (detail && detail[0])
		cli_error(ctx, "%s: %s", what, detail);
	else
		cli_error(ctx, "%s: %s", what, churn_strerror(st));
	return cli_exit_code(st);
}

void cli_log_stderr(void *ud, churn_log_level level, const char *msg)
{
	/* Without --verbose, errors are left to the command's own one-line message. */
	if (!ud && level == CHURN_LOG_ERROR)
		return;
	static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cli_progress_clear();
	fprintf(stderr, "%s %s %s\n", stamp, names[level <= CHURN_LOG_DEBUG ? level : CHURN_LOG_DEBUG], msg);
}

static void usage(const cli_ctx *ctx, const cli_opt *opts, const char *summary, FILE *f)
{
	fprintf(f, "usage: churn %s [options]\n  %s\n\noptions:\n", ctx->cmd, summary);
	for (const cli_opt *o = opts; o && o->name; o++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
	fprintf(f, "\ncommon options:\n"
	           "  --workdir DIR            work directory (default $CHURN_WORKDIR, else .)\n"
	           "  --config FILE            JSON configuration (default <workdir>/churn.json if present)\n"
	           "  --target COL             target column (default Churn)\n"
	           "  --id COL[,COL]           ID column(s) (default customerID when present)\n"
	           "  --positive LABEL         positive label (default the one of yes/true/1/y/t present)\n"
	           "  --json                   one JSON document on stdout\n"
	           "  --quiet                  errors only\n"
	           "  --verbose                log lines on stderr\n"
	           "  --help                   this text\n");
}

static int load_config(cli_ctx *ctx)
{
	char *path = NULL;
	if (ctx->config) {
		path = strdup(ctx->config);
	} else {
		size_t n = strlen(ctx->workdir) + 16;
		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/churn.json", ctx->workdir);
		struct stat sb;
		if (path && stat(path, &sb) != 0) {
			free(path);
			return 0;
		}
	}
	if (!path)
		return EX_SOFTWARE_;
	FILE *f = fopen(path, "rb");
	if (!f) {
		cli_error(ctx, "cannot open config %s: %s", path, strerror(errno));
		free(path);
		return EX_NOINPUT_;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if (cap > (1u << 24))
				break;
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) { free(buf); buf = NULL; break; }
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		free(path);
		return EX_SOFTWARE_;
	}
	buf[n] = '\0';
	churn_status st = churn_params_apply_json(ctx->params, buf);
	free(buf);
	if (st) {
		char what[600];
		snprintf(what, sizeof(what), "config %s", path);
		free(path);
		return cli_fail(ctx, st, what);
	}
	free(path);
	return 0;
}

/* --target, --id and --positive: applied after the config file, so they win over it. */
typedef struct data_flags {
	const char *target, *id, *positive;
} data_flags;

/* One "--name[=value]" being parsed: argv[*i], its name (nlen bytes) and its inline value. */
typedef struct arg {
	int argc, *i;
	char **argv;
	const char *name, *inline_val;
	size_t nlen;
} arg;

static bool is(const arg *a, const char *s)
{
	return a->nlen == strlen(s) && strncmp(a->name, s, a->nlen) == 0;
}

/* The option's value into *dst (inline, else the next argument): 0, or EX_USAGE_ with a message. */
static int take(const cli_ctx *ctx, const arg *a, const char **dst)
{
	if (a->inline_val)
		*dst = a->inline_val;
	else if (*a->i + 1 < a->argc)
		*dst = a->argv[++*a->i];
	else {
		cli_error(ctx, "option --%.*s needs a value", (int)a->nlen, a->name);
		return EX_USAGE_;
	}
	return 0;
}

/* A command's own option from @p opts: 0, or EX_USAGE_ with a message. */
static int command_option(const cli_ctx *ctx, const arg *a, const cli_opt *opts)
{
	const cli_opt *o;
	for (o = opts; o && o->name; o++)
		if (is(a, o->name))
			break;
	if (!o || !o->name) {
		cli_error(ctx, "unknown option '--%.*s' (see churn %s --help)", (int)a->nlen, a->name, ctx->cmd);
		return EX_USAGE_;
	}
	if (o->arg)
		return take(ctx, a, o->value);
	if (a->inline_val) {
		cli_error(ctx, "option --%s takes no value", o->name);
		return EX_USAGE_;
	}
	*o->flag = true;
	return 0;
}

/* The option at argv[*i]: 0 to go on, -1 after --help, else an exit code. */
static int parse_option(cli_ctx *ctx, const arg *a, const cli_opt *opts, const char *summary, data_flags *d)
{
	if (is(a, "help")) {
		usage(ctx, opts, summary, stdout);
		return -1;
	}
	if (is(a, "json") || is(a, "quiet") || is(a, "verbose")) {
		bool *flag = is(a, "json") ? &ctx->json : is(a, "quiet") ? &ctx->quiet : &ctx->verbose;
		*flag = true;
		return 0;
	}
	if (is(a, "workdir"))
		return take(ctx, a, &ctx->workdir);
	if (is(a, "config"))
		return take(ctx, a, &ctx->config);
	if (is(a, "target"))
		return take(ctx, a, &d->target);
	if (is(a, "id"))
		return take(ctx, a, &d->id);
	if (is(a, "positive"))
		return take(ctx, a, &d->positive);
	return command_option(ctx, a, opts);
}

/* After the config file: the data flags, then logging and progress on stderr. */
static int apply_flags(cli_ctx *ctx, const data_flags *d)
{
	struct { const char *key, *val, *flag; } data_opts[] = {
		{CHURN_KEY_DATA_TARGET, d->target, "--target"}, {CHURN_KEY_DATA_ID, d->id, "--id"}, {CHURN_KEY_DATA_POSITIVE, d->positive, "--positive"}};
	for (size_t k = 0; k < 3; k++) {
		if (!data_opts[k].val)
			continue;
		churn_status st = churn_params_set_str(ctx->params, data_opts[k].key, data_opts[k].val);
		if (st)
			return cli_fail(ctx, st, data_opts[k].flag);
	}
	if (ctx->verbose)
		churn_params_set_log(ctx->params, cli_log_stderr, (void *)1, CHURN_LOG_DEBUG);
	else if (!ctx->quiet)
		churn_params_set_log(ctx->params, cli_log_stderr, NULL, CHURN_LOG_WARN);
	churn_params_set_progress(ctx->params, cli_progress, NULL);
	return 0;
}

int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_opt *opts, const char *summary)
{
	data_flags d = {0};
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			cli_error(ctx, "unexpected argument '%s' (see churn %s --help)", argv[i], ctx->cmd);
			return EX_USAGE_;
		}
		const char *name = argv[i] + 2, *eq = strchr(name, '=');
		arg a = {.argc = argc, .i = &i, .argv = argv, .name = name, .inline_val = eq ? eq + 1 : NULL,
		         .nlen = eq ? (size_t)(eq - name) : strlen(name)};
		int rc = parse_option(ctx, &a, opts, summary, &d);
		if (rc)
			return rc;
	}
	int rc = load_config(ctx);
	return rc ? rc : apply_flags(ctx, &d);
}
