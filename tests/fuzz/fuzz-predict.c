/*
 * libFuzzer harness for the predict request parser (POST /api/predict):
 * churn_scorer_score_json() on arbitrary bytes must never crash, leak or read
 * out of bounds, and whatever it answers must be valid JSON. It is also a
 * differential test: for any record the scorer's record encoder accepts,
 * the reference path (churn_prep_apply_json) must give the same row, bit for
 * bit. Two small models are fitted here once (fixed data): a logreg with the
 * default prep (binary and one-hot columns, median imputation) and one with
 * missing-level categories and missing indicators, whose levels include
 * numbers and case variants. Built and run by scripts/fuzz.sh; seeds in
 * tests/fuzz/fuzz-predict/.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <churn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NROWS 64

static churn_scorer *fit_scorer(bool missing_level)
{
	static const char *const contract[] = {"Month-to-month", "One year", "Two year", NULL};
	static const char *const code[] = {"1", "2", "10", "x"};
	static const char *const pay[] = {"Card", "card", "Check", "Bank \"transfer\""};
	double tenure[NROWS], charges[NROWS];
	const char *c1[NROWS], *c2[NROWS], *c3[NROWS], *partner[NROWS], *churn[NROWS], *id[NROWS];
	char ids[NROWS][16];
	for (size_t i = 0; i < NROWS; i++) {
		tenure[i] = i % 9 == 4 ? NAN : (double)((i * 7) % 72);
		charges[i] = 20.0 + (double)((i * 13) % 90) + 0.25 * (double)(i % 4);
		c1[i] = contract[i % 4];
		c2[i] = code[(i / 3) % 4];
		c3[i] = i % 11 == 5 ? NULL : pay[i % 4];
		partner[i] = i % 3 ? "Yes" : "No";
		churn[i] = ((i * 5) % 7 < 3) != (i % 4 == 0) ? "Yes" : "No";
		snprintf(ids[i], sizeof(ids[i]), "C-%03zu", i);
		id[i] = ids[i];
	}
	churn_dataset *ds = NULL;
	churn_params *p = NULL;
	churn_prep *prep = NULL;
	churn_matrix *x = NULL;
	churn_model *m = NULL;
	churn_scorer *s = NULL;
	char *buf = NULL;
	size_t n = 0;
	if (churn_dataset_new(&ds) || churn_dataset_add_text(ds, "customerID", id, NROWS) ||
	    churn_dataset_add_numeric(ds, "tenure", tenure, NROWS) ||
	    churn_dataset_add_numeric(ds, "MonthlyCharges", charges, NROWS) ||
	    churn_dataset_add_categorical(ds, "Contract", c1, NROWS) ||
	    churn_dataset_add_categorical(ds, "Code", c2, NROWS) || churn_dataset_add_text(ds, "Payment", c3, NROWS) ||
	    churn_dataset_add_categorical(ds, "Partner", partner, NROWS) ||
	    churn_dataset_add_categorical(ds, "Churn", churn, NROWS) || churn_params_new(&p))
		goto fail;
	if (missing_level && (churn_params_set_str(p, "prep.impute_categorical", "missing_level") ||
	                      churn_params_set_str(p, "prep.missing_indicator", "true") ||
	                      churn_params_set_str(p, "prep.scale", "minmax")))
		goto fail;
	if (churn_prep_fit(ds, NULL, 0, p, &prep) || churn_prep_apply(prep, ds, &x) ||
	    churn_model_new(CHURN_MODEL_LOGREG, &m) || churn_model_fit(m, x, p) || churn_model_set_prep(m, prep) ||
	    churn_model_to_buffer(m, &buf, &n) || churn_scorer_from_buffer(buf, n, &s))
		goto fail;
	goto out;
fail:
	fprintf(stderr, "fuzz-predict: cannot build the model: %s\n", churn_last_error());
	abort();
out:
	churn_free(buf);
	churn_model_free(m);
	churn_matrix_free(x);
	churn_prep_free(prep);
	churn_params_free(p);
	churn_dataset_free(ds);
	return s;
}

static void check(const churn_scorer *s, const uint8_t *data, size_t size)
{
	char *out = NULL;
	if (churn_scorer_score_json(s, (const char *)data, size, 3, 64, &out) == CHURN_OK) {
		cJSON *doc = cJSON_Parse(out);
		if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "predictions"))) {
			fprintf(stderr, "fuzz-predict: the answer is not the documented JSON: %s\n", out);
			abort();
		}
		cJSON_Delete(doc);
		churn_free(out);
	} else if (!churn_last_error()[0]) {
		fprintf(stderr, "fuzz-predict: a failure without detail\n");
		abort();
	}
	double fast[64], ref[64];
	size_t nf = 0, nr = 0;
	if (churn_scorer_encode_json(s, (const char *)data, size, false, fast, 64, &nf) != CHURN_OK)
		return;
	if (churn_scorer_encode_json(s, (const char *)data, size, true, ref, 64, &nr) != CHURN_OK) {
		fprintf(stderr, "fuzz-predict: the record encoder accepted a record the reference path refuses: %s\n",
		        churn_last_error());
		abort();
	}
	if (nf != nr || memcmp(fast, ref, nf * sizeof(double)) != 0) {
		for (size_t j = 0; j < nf && j < nr; j++)
			fprintf(stderr, "  feature %zu: record %.17g, reference %.17g\n", j, fast[j], ref[j]);
		fprintf(stderr, "fuzz-predict: the record encoder and the reference path disagree\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static churn_scorer *plain, *missing;
	if (!plain) {
		plain = fit_scorer(false);
		missing = fit_scorer(true);
	}
	check(plain, data, size);
	check(missing, data, size);
	return 0;
}
