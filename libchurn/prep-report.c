/*
 * churn_prep_report_json: what a fitted spec does to each column of a data
 * set (its role, or why it was dropped; for a fitted column the features it
 * becomes, the fill, the imputed and unseen cells and the statistics after
 * preparation). prep-outputs.c merges it into reports/summary.json.
 */
#include "churn/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "dataset-private.h"
#include "prep-private.h"

static const ch_prep_col *find_prep_col(const churn_prep *prep, const char *name)
{
	for (size_t c = 0; c < prep->ncols; c++)
		if (strcmp(prep->cols[c].name, name) == 0)
			return &prep->cols[c];
	return NULL;
}

/* "name", "role" (target, id, feature or dropped), "input_type" and the drop "reason" of column dc into jc. */
static churn_status report_role(const churn_prep *prep, const ch_prep_col *pc, const ch_column *dc, cJSON *jc)
{
	const char *role = "feature", *reason = NULL;
	if (strcmp(dc->name, prep->target) == 0)
		role = "target";
	for (size_t k = 0; k < prep->nids; k++)
		if (strcmp(prep->ids[k], dc->name) == 0)
			role = "id";
	if (!pc && strcmp(role, "feature") == 0) {
		role = "dropped";
		for (size_t k = 0; k < prep->ndropped; k++)
			if (strcmp(prep->dropped[k].column, dc->name) == 0)
				reason = prep->dropped[k].reason;
		if (!reason)
			reason = "not in the fitted spec";
	}
	if (!ch_prep_json_add(jc, "name", cJSON_CreateString(dc->name)) ||
	    !ch_prep_json_add(jc, "role", cJSON_CreateString(role)) ||
	    !ch_prep_json_add(jc, "input_type", cJSON_CreateString(churn_col_type_name(dc->type))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (reason && !ch_prep_json_add(jc, "reason", cJSON_CreateString(reason)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

/* A numeric column after imputation: "fill" into jc; "count", "mean", "std", "min", "max" into after. */
static churn_status numeric_after(const ch_prep_col *pc, const ch_prep_src *s, const size_t *rows, size_t n,
                                  cJSON *jc, cJSON *after, size_t *imputed)
{
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	size_t imp = 0;
	double *v = malloc((n ? n : 1) * sizeof(double));
	if (!v)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		double x;
		int k = ch_prep_src_num(s, rows[i], &x);
		if (k < 0) {
			free(v);
			return CHURN_E_PARSE;
		}
		if (k == 0) {
			x = pc->fill;
			imp++;
		}
		v[i] = x;
		sum += x;
		mn = fmin(mn, x);
		mx = fmax(mx, x);
	}
	double mean = n ? sum / (double)n : 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	free(v);
	*imputed = imp;
	double sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	bool ok = ch_prep_json_add(after, "count", cJSON_CreateNumber((double)n)) &&
	          ch_prep_json_add(jc, "fill", ch_prep_json_num(pc->fill));
	if (ok && n)
		ok = ch_prep_json_add(after, "mean", ch_prep_json_num(mean)) &&
		     ch_prep_json_add(after, "std", ch_prep_json_num(sd)) &&
		     ch_prep_json_add(after, "min", ch_prep_json_num(mn)) &&
		     ch_prep_json_add(after, "max", ch_prep_json_num(mx));
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* A categorical column after imputation: "fill", "encoding" into jc; the level counts into after. */
static churn_status categorical_after(const ch_prep_col *pc, const ch_prep_src *s, const size_t *rows, size_t n,
                                      cJSON *jc, cJSON *after, size_t *imputed, size_t *unseen)
{
	size_t imp = 0, uns = 0;
	size_t *cnt = calloc(pc->nlevels + 1, sizeof(size_t));
	if (!cnt)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int32_t k = ch_prep_src_cat(s, rows[i]);
		if (k == -2) {
			uns++;
			continue;
		}
		if (k == -1) {
			imp++;
			k = pc->missing_feature ? (int32_t)pc->nlevels : pc->fill_level;
			if (k < 0)
				continue;
		}
		cnt[k]++;
	}
	*imputed = imp;
	*unseen = uns;
	cJSON *lv = cJSON_CreateArray();
	bool ok = ch_prep_json_add(after, "levels", lv) &&
	          ch_prep_json_add(jc, "fill", pc->fill_level >= 0 ? cJSON_CreateString(pc->levels[pc->fill_level])
	                                                           : cJSON_CreateString(CH_PREP_MISSING_LEVEL)) &&
	          ch_prep_json_add(jc, "encoding", cJSON_CreateString(pc->encoding == CH_ENC_BINARY ? "binary" : "onehot"));
	for (size_t k = 0; ok && k < pc->nlevels + (pc->missing_feature ? 1 : 0); k++) {
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(lv, e) &&
		     ch_prep_json_add(e, "value", cJSON_CreateString(k < pc->nlevels ? pc->levels[k] : CH_PREP_MISSING_LEVEL)) &&
		     ch_prep_json_add(e, "count", cJSON_CreateNumber((double)cnt[k]));
	}
	free(cnt);
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* One column of ds over rows into jc. */
static churn_status report_column(const churn_prep *prep, const ch_column *dc, const size_t *rows, size_t n,
                                  cJSON *jc)
{
	const ch_prep_col *pc = find_prep_col(prep, dc->name);
	churn_status st = report_role(prep, pc, dc, jc);
	if (st || !pc)
		return st;
	ch_prep_src s;
	if ((st = ch_prep_src_init(&s, pc, dc)))
		return st;
	cJSON *after = cJSON_CreateObject();
	if (!ch_prep_json_add(jc, "type", cJSON_CreateString(pc->kind == CH_PC_NUMERIC ? "numeric" : "categorical")) ||
	    !ch_prep_json_add(jc, "features", ch_prep_json_strs(prep->features + pc->feat0, pc->nfeat)) ||
	    !ch_prep_json_add(jc, "after", after)) {
		ch_prep_src_clear(&s);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t imputed = 0, unseen = 0;
	st = pc->kind == CH_PC_NUMERIC ? numeric_after(pc, &s, rows, n, jc, after, &imputed)
	                               : categorical_after(pc, &s, rows, n, jc, after, &imputed, &unseen);
	ch_prep_src_clear(&s);
	if (st)
		return st;
	if (!ch_prep_json_add(jc, "imputed", cJSON_CreateNumber((double)imputed)) ||
	    !ch_prep_json_add(jc, "unseen", cJSON_CreateNumber((double)unseen)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

churn_status churn_prep_report_json(const churn_prep *prep, const churn_dataset *ds, const size_t *rows, size_t nrows,
                                    char **out_json)
{
	if (!prep || !ds || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_prep_report_json: NULL argument");
	size_t *all = NULL;
	cJSON *o = NULL, *cols;
	churn_status st = ch_prep_rows(ds, &rows, &nrows, &all);
	if (st)
		goto out;
	if (!(o = cJSON_CreateObject()) || !ch_prep_json_add(o, "rows", cJSON_CreateNumber((double)nrows)) ||
	    !ch_prep_json_add(o, "features", cJSON_CreateNumber((double)prep->nfeatures)) ||
	    !ch_prep_json_add(o, "columns", cols = cJSON_CreateArray()))
		goto nomem;
	for (size_t j = 0; j < ds->ncols; j++) {
		cJSON *jc = cJSON_CreateObject();
		if (!jc || !cJSON_AddItemToArray(cols, jc)) {
			cJSON_Delete(jc);
			goto nomem;
		}
		if ((st = report_column(prep, &ds->cols[j], rows, nrows, jc)))
			goto out;
	}
	if (!ch_prep_json_add(o, "dropped", ch_prep_json_dropped(prep)))
		goto nomem;
	char *s = ch_json_print(o, false);
	if (!s)
		goto nomem;
	*out_json = ch_strdup(s);
	free(s);
	if (!*out_json)
		goto nomem;
	ch_clear_error();
	goto out;
nomem:
	st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	cJSON_Delete(o);
	free(all);
	return st;
}

cJSON *ch_prep_screen_notes_json(const churn_prep *prep)
{
	cJSON *notes = cJSON_CreateArray();
	for (size_t k = 0; notes && k < prep->ndropped; k++) {
		const char *why = prep->dropped[k].reason;
		if (strncmp(why, "identifier-like", 15) && strncmp(why, "leaks the target", 16))
			continue;
		char *note = ch_asprintf("column '%s' left out: %s", prep->dropped[k].column, why);
		cJSON *item = note ? cJSON_CreateString(note) : NULL;
		free(note);
		if (!item || !cJSON_AddItemToArray(notes, item)) {
			cJSON_Delete(item);
			cJSON_Delete(notes);
			return NULL;
		}
	}
	return notes;
}
