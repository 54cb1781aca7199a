/*
 * Benchmark of churn_parquet_write_matrix(): an N x F matrix of synthetic
 * values plus 0/1 labels, written once per codec; prints one JSON line per
 * run. usage: parquet_bench ROWS COLS KIND OUT.parquet [codec...]
 * KIND: random (uniform doubles, every bit random) or telco (4 gaussian
 * numerics, the rest 0/1 one-hot style columns).
 */
#include <churn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static double unif(void) { return (double)(next() >> 11) / 9007199254740992.0; }

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s ROWS COLS random|telco OUT.parquet [zstd|none ...]\n", argv[0]);
		return 64;
	}
	size_t n = strtoull(argv[1], NULL, 10), f = strtoull(argv[2], NULL, 10);
	const char *kind = argv[3], *out = argv[4];
	churn_matrix *m = NULL;
	if (churn_matrix_new(n, f, &m))
		return 70;
	double *d = churn_matrix_get_data(m);
	uint8_t *y = malloc(n);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < f; j++) {
			double v;
			if (strcmp(kind, "random") == 0)
				v = unif();
			else if (j < 4)
				v = sqrt(-2 * log(unif() + 1e-300)) * cos(6.283185307179586 * unif());
			else
				v = unif() < 0.3 ? 1.0 : 0.0;
			d[i * f + j] = v;
		}
		y[i] = unif() < 0.265;
	}
	if (churn_matrix_set_labels(m, y, n))
		return 70;
	free(y);
	const char *def[] = {"zstd"};
	int nc = argc > 5 ? argc - 5 : 1;
	const char **codecs = argc > 5 ? (const char **)argv + 5 : def;
	for (int c = 0; c < nc; c++) {
		churn_params *p = NULL;
		if (churn_params_new(&p) || churn_params_set_str(p, "parquet.compression", codecs[c]))
			return 70;
		double t0 = now();
		churn_status st = churn_parquet_write_matrix(out, m, "Churn", NULL, NULL, p);
		double dt = now() - t0;
		if (st) {
			fprintf(stderr, "write failed: %s: %s\n", churn_strerror(st), churn_last_error());
			return 74;
		}
		struct stat sb;
		stat(out, &sb);
		double raw_mb = (double)n * (double)(f * 8 + 4) / 1e6;
		printf("{\"writer\": \"libchurn\", \"kind\": \"%s\", \"codec\": \"%s\", \"rows\": %zu, \"cols\": %zu, "
		       "\"seconds\": %.3f, \"raw_mb\": %.1f, \"mb_per_s\": %.1f, \"file_mb\": %.1f}\n",
		       kind, codecs[c], n, f + 1, dt, raw_mb, raw_mb / dt, (double)sb.st_size / 1e6);
		churn_params_free(p);
	}
	churn_matrix_free(m);
	return 0;
}
