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

int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_opt *opts, const char *summary)
{
	const char *target = NULL, *id = NULL, *positive = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			cli_error(ctx, "unexpected argument '%s' (see churn %s --help)", a, ctx->cmd);
			return EX_USAGE_;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const char *inline_val = eq ? eq + 1 : NULL;
#define IS(s) (nlen == strlen(s) && strncmp(name, s, nlen) == 0)
#define TAKE(dst)                                                                    \
	do {                                                                             \
		if (inline_val)                                                              \
			(dst) = inline_val;                                                      \
		else if (i + 1 < argc)                                                       \
			(dst) = argv[++i];                                                       \
		else {                                                                       \
			cli_error(ctx, "option --%.*s needs a value", (int)nlen, name);          \
			return EX_USAGE_;                                                        \
		}                                                                            \
	} while (0)
		if (IS("help")) {
			usage(ctx, opts, summary, stdout);
			return -1;
		} else if (IS("json")) {
			ctx->json = true;
		} else if (IS("quiet")) {
			ctx->quiet = true;
		} else if (IS("verbose")) {
			ctx->verbose = true;
		} else if (IS("workdir")) {
			TAKE(ctx->workdir);
		} else if (IS("config")) {
			TAKE(ctx->config);
		} else if (IS("target")) {
			TAKE(target);
		} else if (IS("id")) {
			TAKE(id);
		} else if (IS("positive")) {
			TAKE(positive);
		} else {
			const cli_opt *o;
			for (o = opts; o && o->name; o++)
				if (nlen == strlen(o->name) && strncmp(name, o->name, nlen) == 0)
					break;
			if (!o || !o->name) {
				cli_error(ctx, "unknown option '--%.*s' (see churn %s --help)", (int)nlen, name, ctx->cmd);
				return EX_USAGE_;
			}
			if (o->arg) {
				TAKE(*o->value);
			} else {
				if (inline_val) {
					cli_error(ctx, "option --%s takes no value", o->name);
					return EX_USAGE_;
				}
				*o->flag = true;
			}
		}
#undef IS
#undef TAKE
	}
	int rc = load_config(ctx);
	if (rc)
		return rc;
	struct { const char *key, *val, *flag; } data_opts[] = {
		{"data.target", target, "--target"}, {"data.id", id, "--id"}, {"data.positive", positive, "--positive"}};
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
