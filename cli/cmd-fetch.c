/* churn fetch: bring the source CSV into <workdir>/data/raw (see churn/fetch.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* What to do, after the library's "what failed, where". */
static const char *hint_for(churn_status st)
{
	switch (st) {
	case CHURN_E_NETWORK:
		return "check the URL, the network and, for postgresql://, the server and its credentials "
		       "(a local path or synthetic:N works offline)";
	case CHURN_E_PARSE:
		return "the source must be a CSV file with a header line";
	case CHURN_E_LIMIT:
		return "raise fetch.max_bytes in the configuration if the file is expected to be this large";
	case CHURN_E_NOTFOUND:
		return "check the path (postgresql://: the table name and the role's privileges)";
	case CHURN_E_CREATE:
	case CHURN_E_IO:
		return "check that the output directory is writable and has space";
	case CHURN_E_UNSUPPORTED:
	case CHURN_E_INVALID_ARG:
		return "sources are http(s):// or file:// URLs, paths, synthetic:N[?seed=S], or "
		       "postgresql://user@host/db?table=schema.name (or ?query=SELECT...)";
	default:
		return "the previous file, if any, is unchanged";
	}
}

int cmd_fetch(cli_ctx *ctx, int argc, char **argv)
{
	const char *source = NULL, *out = NULL;
	const cli_opt opts[] = {
		{"source", "SRC", &source, NULL,
		 "https://, http://, file://, path, synthetic:N[?seed=S] or postgresql://...?table=T|query=Q "
		 "(default data.source: the IBM Telco CSV)"},
		{"out", "FILE", &out, NULL, "destination (default <workdir>/data/raw/<name of the source>)"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "download or copy the source CSV atomically, with a .meta.json sidecar; "
	                   "unchanged data is not downloaded again");
	if (rc)
		return rc;
	churn_status st;
	if (source && (st = churn_params_set_str(ctx->params, CHURN_KEY_DATA_SOURCE, source)))
		return cli_fail(ctx, st, "--source");
	source = churn_params_get_str(ctx->params, CHURN_KEY_DATA_SOURCE);
	if (!source[0]) {
		cli_error(ctx, "no source: pass --source SRC or set data.source in the configuration");
		return EX_USAGE_;
	}
	char *path = NULL;
	if (!out) {
		char *name = NULL;
		if ((st = churn_fetch_default_name(source, &name)))
			return cli_fail(ctx, st, "--source");
		size_t n = strlen(ctx->workdir) + strlen(name) + 16;
		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/data/raw/%s", ctx->workdir, name);
		churn_free(name);
		if (!path) {
			cli_error(ctx, "out of memory");
			return EX_SOFTWARE_;
		}
		out = path;
	}
	churn_fetch_info *info = NULL;
	st = churn_fetch(source, out, ctx->params, &info);
	if (st) {
		cli_error(ctx, "%s; %s", churn_last_error()[0] ? churn_last_error() : churn_strerror(st), hint_for(st));
		free(path);
		return cli_exit_code(st);
	}
	bool changed = churn_fetch_info_is_changed(info);
	if (ctx->json) {
		fputs("{\"path\":", stdout);
		cli_json_string(stdout, churn_fetch_info_get_path(info));
		fputs(",\"source\":", stdout);
		cli_json_string(stdout, churn_fetch_info_get_url(info));
		printf(",\"bytes\":%llu,\"sha256\":\"%s\",\"changed\":%s,\"http_status\":",
		       (unsigned long long)churn_fetch_info_get_bytes(info), churn_fetch_info_get_sha256(info),
		       changed ? "true" : "false");
		int http = churn_fetch_info_get_http_status(info);
		if (http)
			printf("%d", http);
		else
			fputs("null", stdout);
		fputs(",\"etag\":", stdout);
		cli_json_string(stdout, churn_fetch_info_get_etag(info));
		fputs(",\"last_modified\":", stdout);
		cli_json_string(stdout, churn_fetch_info_get_last_modified(info));
		fputs(",\"fetched_at\":", stdout);
		cli_json_string(stdout, churn_fetch_info_get_fetched_at(info));
		printf(",\"attempts\":%u}\n", churn_fetch_info_get_attempts(info));
	} else {
		printf("%s  %llu bytes  sha256 %s  %s\n", churn_fetch_info_get_path(info),
		       (unsigned long long)churn_fetch_info_get_bytes(info), churn_fetch_info_get_sha256(info),
		       changed ? "changed" : "unchanged");
	}
	churn_fetch_info_free(info);
	free(path);
	if (fflush(stdout) != 0) {
		cli_error(ctx, "cannot write to stdout");
		return EX_IOERR_;
	}
	return 0;
}
