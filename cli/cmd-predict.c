/*
 * churn predict: score raw customer rows with a model artifact. Writes CSV
 * id,probability,label,reason1,reason2,reason3 (reasons: the three largest
 * contributions toward churn, "feature (+0.42)", from churn_model_explain).
 * The target column is optional and extra columns are ignored; columns the
 * model's prep spec needs and the input lacks are named in the error.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

/* Columns of the prep spec absent from ds, comma-separated (malloc'd), or NULL when none. */
static char *missing_columns(const churn_prep *prep, const churn_dataset *ds)
{
	char *json = NULL, *res = NULL;
	if (churn_prep_to_json(prep, &json))
		return NULL;
	cJSON *o = cJSON_Parse(json);
	churn_free(json);
	size_t len = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns")) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
		size_t j;
		if (!cJSON_IsString(nm) || churn_dataset_find_col(ds, nm->valuestring, &j) == CHURN_OK)
			continue;
		size_t add = strlen(nm->valuestring) + 2;
		char *r = realloc(res, len + add + 1);
		if (!r)
			break;
		res = r;
		len += (size_t)snprintf(res + len, add + 1, "%s%s", len ? ", " : "", nm->valuestring);
	}
	cJSON_Delete(o);
	return res;
}

static void csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
	const char *model_path = NULL, *input = NULL, *outpath = NULL;
	const cli_opt opts[] = {
		{"model", "FILE", &model_path, NULL, "model artifact (artifacts/models/<kind>.json)"},
		{"input", "CSV", &input, NULL, "customer rows to score (same columns as training; target optional)"},
		{"out", "FILE", &outpath, NULL, "write the CSV here (atomically) instead of stdout"},
		{NULL, NULL, NULL, NULL, NULL},
	};
	int rc = cli_parse(ctx, argc, argv, opts, "score customers with a trained model: probability, label, top reasons");
	if (rc)
		return rc;
	if (!model_path || !input) {
		cli_error(ctx, "--model FILE and --input CSV are required");
		return EX_USAGE_;
	}
	churn_status st;
	const char *what = "loading the model";
	churn_model *m = NULL;
	churn_dataset *ds = NULL;
	churn_matrix *x = NULL;
	double *prob = NULL, *contrib = NULL;
	size_t *order = NULL;
	char *missing = NULL, *tmp = NULL;
	FILE *f = NULL;
	cJSON *doc = NULL, *arr = NULL;

	if ((st = churn_model_load_file(model_path, &m)))
		goto fail;
	const churn_prep *prep = churn_model_get_prep(m);
	if (!prep) {
		cli_error(ctx, "%s: the model has no prep spec embedded; it cannot score raw rows", model_path);
		rc = EX_DATAERR_;
		goto out;
	}
	what = "reading the input";
	/* The target column is optional: scoring does not need it. */
	if ((st = churn_csv_read_file(input, ctx->params, &ds, NULL)))
		goto fail;
	if ((missing = missing_columns(prep, ds))) {
		cli_error(ctx, "%s: missing column(s) the model needs: %s", input, missing);
		rc = EX_DATAERR_;
		goto out;
	}
	if ((st = churn_prep_apply(prep, ds, &x)))
		goto fail;
	size_t n = churn_matrix_get_nrows(x), nc = churn_matrix_get_ncols(x), got;
	if (!(prob = malloc((n ? n : 1) * sizeof(double))) || !(contrib = malloc((nc + 1) * sizeof(double))) ||
	    !(order = malloc((nc + 1) * sizeof(size_t)))) {
		st = CHURN_E_NOMEM;
		goto fail;
	}
	what = "scoring";
	if ((st = churn_model_predict(m, x, prob, n, &got)))
		goto fail;
	/* ID column: the spec's first ID column when present in the input, else the row number. */
	size_t idcol = (size_t)-1;
	if (churn_prep_get_id_count(prep) > 0 && churn_dataset_find_col(ds, churn_prep_get_id(prep, 0), &idcol))
		idcol = (size_t)-1;
	if (churn_dataset_get_nrows(ds) != n)
		idcol = (size_t)-1; /* rows were dropped (missing target): ids would not line up */
	double thr = churn_model_get_threshold(m);

	if (outpath) {
		size_t len = strlen(outpath) + 16;
		if (!(tmp = malloc(len))) {
			st = CHURN_E_NOMEM;
			goto fail;
		}
		snprintf(tmp, len, "%s.tmp%ld", outpath, (long)getpid());
		if (!(f = fopen(tmp, "w"))) {
			cli_error(ctx, "cannot create %s: %s", tmp, strerror(errno));
			rc = EX_CANTCREAT_;
			goto out;
		}
	} else if (!ctx->json) {
		f = stdout;
	}
	if (ctx->json && !(doc = cJSON_CreateObject())) {
		st = CHURN_E_NOMEM;
		goto fail;
	}
	if (doc) {
		cJSON_AddStringToObject(doc, "model", model_path);
		cJSON_AddStringToObject(doc, "kind", churn_model_kind_name(churn_model_get_kind(m)));
		cJSON_AddNumberToObject(doc, "threshold", thr);
		cJSON_AddNumberToObject(doc, "rows", (double)n);
		arr = cJSON_AddArrayToObject(doc, "predictions");
	}
	if (f)
		fputs("id,probability,label,reason1,reason2,reason3\n", f);
	for (size_t i = 0; i < n; i++) {
		const double *row = churn_matrix_get_row(x, i);
		if ((st = churn_model_explain(m, row, nc, contrib, nc + 1)))
			goto fail;
		/* top 3 features by contribution toward churn (descending; selection sort of 3) */
		for (size_t j = 0; j < nc; j++)
			order[j] = j;
		size_t top = nc < 3 ? nc : 3;
		for (size_t a = 0; a < top; a++)
			for (size_t b = a + 1; b < nc; b++)
				if (contrib[order[b]] > contrib[order[a]]) {
					size_t t = order[a];
					order[a] = order[b];
					order[b] = t;
				}
		char idbuf[64], reasons[3][256];
		const char *id = NULL;
		if (idcol != (size_t)-1)
			id = churn_dataset_get_cell_text(ds, idcol, i, idbuf, sizeof(idbuf));
		if (!id) {
			snprintf(idbuf, sizeof(idbuf), "%zu", i + 1);
			id = idbuf;
		}
		for (size_t a = 0; a < 3; a++) {
			reasons[a][0] = '\0';
			if (a < top)
				snprintf(reasons[a], sizeof(reasons[a]), "%s (%+.2f)", churn_model_get_feature_name(m, order[a]),
				         contrib[order[a]]);
		}
		int label = prob[i] >= thr;
		if (f) {
			csv_cell(f, id);
			fprintf(f, ",%.6f,%d", prob[i], label);
			for (size_t a = 0; a < 3; a++) {
				fputc(',', f);
				csv_cell(f, reasons[a]);
			}
			fputc('\n', f);
		}
		if (arr) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddItemToArray(arr, e);
			cJSON_AddStringToObject(e, "id", id);
			cJSON_AddNumberToObject(e, "probability", prob[i]);
			cJSON_AddNumberToObject(e, "label", label);
			cJSON *rs = cJSON_AddArrayToObject(e, "reasons");
			for (size_t a = 0; a < top; a++) {
				cJSON *r = cJSON_CreateObject();
				cJSON_AddItemToArray(rs, r);
				cJSON_AddStringToObject(r, "feature", churn_model_get_feature_name(m, order[a]));
				cJSON_AddNumberToObject(r, "contribution", contrib[order[a]]);
				cJSON_AddStringToObject(r, "text", reasons[a]);
			}
		}
	}
	if (outpath) {
		int bad = ferror(f) | fflush(f) | fsync(fileno(f));
		bad |= fclose(f);
		f = NULL;
		if (bad || rename(tmp, outpath) != 0) {
			cli_error(ctx, "cannot write %s: %s", outpath, strerror(errno));
			unlink(tmp);
			rc = EX_IOERR_;
			goto out;
		}
	}
	if (doc) {
		char *s = cJSON_Print(doc);
		if (s)
			printf("%s\n", s);
		cJSON_free(s);
	} else if (outpath && !ctx->quiet) {
		fprintf(stderr, "scored %zu rows into %s\n", n, outpath);
	}
	rc = 0;
	goto out;
fail:
	rc = cli_fail(ctx, st, what);
out:
	if (f && f != stdout) {
		fclose(f);
		unlink(tmp);
	}
	free(tmp);
	free(missing);
	cJSON_Delete(doc);
	free(prob);
	free(contrib);
	free(order);
	churn_matrix_free(x);
	churn_dataset_free(ds);
	churn_model_free(m);
	return rc;
}
