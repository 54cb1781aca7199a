/*
 * libFuzzer harness: churn_model_from_buffer() on arbitrary bytes must never
 * crash, leak or read out of bounds; a model that loads must also predict,
 * explain and serialize again. Built and run by scripts/fuzz.sh; seeds in
 * tests/fuzz/fuzz-model-load/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <churn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	churn_model *m = NULL;
	if (churn_model_from_buffer((const char *)data, size, &m) != CHURN_OK)
		return 0;
	size_t nc = churn_model_get_feature_count(m);
	if (nc > 0 && nc < 4096) {
		double *row = calloc(nc + 1, sizeof(double));
		double *contrib = calloc(nc + 1, sizeof(double));
		double p;
		if (row && contrib) {
			for (size_t j = 0; j < nc; j++)
				row[j] = (double)(j % 3) - 1.0;
			(void)churn_model_predict_row(m, row, nc, &p);
			(void)churn_model_explain(m, row, nc, contrib, nc + 1);
			size_t n;
			(void)churn_model_get_importance(m, contrib, nc + 1, &n);
		}
		free(row);
		free(contrib);
	}
	char *buf = NULL;
	size_t n = 0;
	if (churn_model_to_buffer(m, &buf, &n) == CHURN_OK)
		churn_free(buf);
	churn_model_free(m);
	return 0;
}
