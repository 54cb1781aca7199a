/* churn synth: write synthetic Telco churn CSV (see churn/synth.h). */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* Strict unsigned decimal (no sign, no spaces, no overflow). */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static size_t write_stdout(void *ud, const void *buf, size_t n)
{
	(void)ud;
	return fwrite(buf, 1, n, stdout);
}

int cmd_synth(cli_ctx *ctx, int argc, char **argv)
{
	const char *rows_s = NULL, *seed_s = NULL, *out = NULL;
	const cli_opt opts[] = {
		{"rows", "N", &rows_s, NULL, "number of customers (rows) to write (required)"},
		{"seed", "S", &seed_s, NULL, "random seed (default 42); same seed, same bytes"},
		{"out", "FILE", &out, NULL, "write FILE atomically instead of stdout"},
		{0},
	};
	int rc = cli_parse(ctx, argc, argv, opts,
	                   "write synthetic IBM-Telco-like churn data (21 columns, about 26% churn) as CSV");
	if (rc)
		return rc;
	uint64_t rows = 0, seed = 42;
	if (!rows_s) {
		cli_error(ctx, "--rows N is required (see churn synth --help)");
		return EX_USAGE_;
	}
	if (!parse_u64(rows_s, &rows)) {
		cli_error(ctx, "--rows: '%s' is not a non-negative whole number", rows_s);
		return EX_USAGE_;
	}
	if (seed_s && !parse_u64(seed_s, &seed)) {
		cli_error(ctx, "--seed: '%s' is not a non-negative whole number", seed_s);
		return EX_USAGE_;
	}
	if (ctx->json && !out) {
		cli_error(ctx, "--json needs --out FILE (without it the CSV goes to stdout)");
		return EX_USAGE_;
	}
	churn_status st;
	if (out) {
		st = churn_synth_write_file(rows, seed, out);
		if (st)
			return cli_fail(ctx, st, "synth");
		if (ctx->json) {
			printf("{\"path\":");
			cli_json_string(stdout, out);
			printf(",\"rows\":%llu,\"seed\":%llu}\n", (unsigned long long)rows, (unsigned long long)seed);
		} else if (!ctx->quiet)
			fprintf(stderr, "churn synth: wrote %llu rows to %s (seed %llu)\n", (unsigned long long)rows, out,
			        (unsigned long long)seed);
		return 0;
	}
	errno = 0;
	st = churn_synth_write(rows, seed, write_stdout, NULL);
	if (st == CHURN_OK && fflush(stdout) != 0)
		st = CHURN_E_IO;
	if (st == CHURN_E_IO) {
		cli_error(ctx, "cannot write to stdout: %s", errno ? strerror(errno) : "short write");
		return EX_IOERR_;
	}
	if (st)
		return cli_fail(ctx, st, "synth");
	return 0;
}
