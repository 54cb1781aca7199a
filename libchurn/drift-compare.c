/*
 * A data set against a reference profile (churn/drift.h): per column PSI, a
 * chi-square test on the same bins, missing rates; the target rate with
 * Wilson intervals, the row counts and the schema changes. Linear in rows
 * and columns (names are matched through sorted indexes, not by scanning).
 */
#include "churn/drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn/param-keys.h"
#include "core-private.h"
#include "dataset-private.h"
#include "drift-private.h"
#include "target-private.h"

#define MAX_EDGES 256

/* A name and where it is (a dataset column or a reference entry), sorted by name. */
struct named {
	const char *name;
	size_t at;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static const struct named *find_named(const struct named *v, size_t n, const char *name)
{
	struct named key = {name, 0};
	return n ? bsearch(&key, v, n, sizeof *v, cmp_named) : NULL;
}

struct ctx {
	const cJSON *ref;
	const churn_dataset *ds;
	double warn, alert;
	struct named *cur;   /* the data set's columns by name */
	size_t ncur;
	struct named *refc;  /* the reference's columns by name */
	size_t nref;
	const char *target;
	const cJSON *ids;
	cJSON *doc, *cols, *added, *removed, *retyped, *flagged;
	double max_psi;
	size_t nwarn, nalert;
};

static bool is_listed(const cJSON *arr, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it) && !strcmp(it->valuestring, name))
			return true;
	}
	return false;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

/* Bins of a numeric column: the reference's counts, the current ones; CHURN_E_FORMAT on bad edges. */
static churn_status numeric_bins(const cJSON *rc, const churn_dataset *ds, size_t j, double *ref, double *cur,
                                 size_t *out_k)
{
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(rc, "edges"),
	            *counts = cJSON_GetObjectItemCaseSensitive(rc, "counts");
	int ne = cJSON_GetArraySize(edges);
	double e[MAX_EDGES];
	if (!cJSON_IsArray(edges) || !cJSON_IsArray(counts) || ne > MAX_EDGES || cJSON_GetArraySize(counts) != ne + 1)
		return ch_fail(CHURN_E_FORMAT, "drift reference: column \"%s\": edges and counts do not match",
		               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rc, "name")));
	for (int i = 0; i < ne; i++) {
		e[i] = cJSON_GetNumberValue(cJSON_GetArrayItem(edges, i));
		if (!isfinite(e[i]) || (i && e[i] <= e[i - 1]))
			return ch_fail(CHURN_E_FORMAT, "drift reference: column \"%s\": edges not increasing",
			               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rc, "name")));
	}
	for (int i = 0; i <= ne; i++) {
		ref[i] = cJSON_GetNumberValue(cJSON_GetArrayItem(counts, i));
		if (!(ref[i] >= 0))
			return ch_fail(CHURN_E_FORMAT, "drift reference: a bin count is not a count");
		cur[i] = 0;
	}
	const double *v = churn_dataset_get_numeric(ds, j);
	size_t n = churn_dataset_get_row_count(ds);
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			cur[ch_drift_bin(e, (size_t)ne, v[i])]++;
	*out_k = (size_t)ne + 1;
	return CHURN_OK;
}

/*
 * Bins of a categorical column: one per reference level, then one for the
 * rest (the reference's "other", and levels it never saw); the unseen levels
 * with their counts (at most 10) into @p unseen.
 */
static churn_status categorical_bins(const cJSON *rc, const churn_dataset *ds, size_t j, double **out_ref,
                                     double **out_cur, size_t *out_k, cJSON *unseen)
{
	const cJSON *levels = cJSON_GetObjectItemCaseSensitive(rc, "levels"), *it;
	size_t nl = (size_t)cJSON_GetArraySize(levels), ncur = churn_dataset_get_level_count(ds, j), k = 0;
	double *ref = calloc(nl + 1, sizeof *ref), *cur = calloc(nl + 1, sizeof *cur), *bycode = NULL;
	struct named *byname = malloc((nl ? nl : 1) * sizeof *byname);
	size_t *slot = malloc((ncur ? ncur : 1) * sizeof *slot);
	churn_status st = CHURN_OK;
	if (!ref || !cur || !byname || !slot || !(bycode = calloc(ncur ? ncur : 1, sizeof *bycode))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, levels)
	{
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "value"));
		double c = num(it, "count");
		if (!v || !(c >= 0)) {
			st = ch_fail(CHURN_E_FORMAT, "drift reference: a level has no value or count");
			goto out;
		}
		ref[k] = c;
		byname[k] = (struct named){v, k};
		k++;
	}
	ref[nl] = num(rc, "other") >= 0 ? num(rc, "other") : 0;
	qsort(byname, nl, sizeof *byname, cmp_named);
	for (size_t c = 0; c < ncur; c++) {
		const struct named *f = find_named(byname, nl, churn_dataset_get_level(ds, j, c));
		slot[c] = f ? f->at : nl;
	}
	const int32_t *codes = churn_dataset_get_codes(ds, j);
	size_t n = churn_dataset_get_row_count(ds), shown = 0;
	for (size_t i = 0; i < n; i++)
		if (codes[i] >= 0 && (size_t)codes[i] < ncur)
			bycode[codes[i]]++;
	for (size_t c = 0; c < ncur; c++) {
		cur[slot[c]] += bycode[c];
		if (slot[c] == nl && bycode[c] > 0 && shown < 10) {
			cJSON *u = cJSON_CreateObject();
			if (!u || !cJSON_AddItemToArray(unseen, u)) {
				cJSON_Delete(u);
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
				goto out;
			}
			cJSON_AddStringToObject(u, "value", churn_dataset_get_level(ds, j, c));
			cJSON_AddNumberToObject(u, "count", bycode[c]);
			shown++;
		}
	}
	*out_ref = ref;
	*out_cur = cur;
	*out_k = nl + 1;
	ref = cur = NULL;
out:
	free(ref);
	free(cur);
	free(byname);
	free(slot);
	free(bycode);
	return st;
}

static const char *psi_status(const struct ctx *c, double psi)
{
	return !(psi == psi) ? "not_compared" : psi >= c->alert ? "alert" : psi >= c->warn ? "warn" : "stable";
}

/* The PSI, test and status of a column compared on bins (ref, cur); the flags counted. */
static bool add_comparison(struct ctx *c, cJSON *e, const char *name, const double *ref, const double *cur, size_t k)
{
	double psi = ch_drift_psi(ref, cur, k), x2, df, pv;
	ch_drift_chisq(ref, cur, k, &x2, &df, &pv);
	const char *status = psi_status(c, psi);
	cJSON *t = cJSON_CreateObject();
	bool ok = t && cJSON_AddItemToObject(e, "test", t);
	if (!ok)
		cJSON_Delete(t);
	ok = ok && cJSON_AddStringToObject(e, "status", status) && ch_drift_add_number(e, "psi", psi) &&
	     cJSON_AddStringToObject(t, "name", "chi-square") && ch_drift_add_number(t, "statistic", x2) &&
	     ch_drift_add_number(t, "df", df) && ch_drift_add_number(t, "p_value", pv) &&
	     cJSON_AddNumberToObject(e, "bins", (double)k);
	if (psi == psi && psi > c->max_psi)
		c->max_psi = psi;
	if (!strcmp(status, "alert") || !strcmp(status, "warn")) {
		*(status[0] == 'a' ? &c->nalert : &c->nwarn) += 1;
		ok = ok && cJSON_AddItemToArray(c->flagged, cJSON_CreateString(name));
	}
	return ok;
}

/* The entry of reference column rc, present in the data set as column j with the same type. */
static churn_status compare_column(struct ctx *c, const cJSON *rc, size_t j, cJSON *e)
{
	const char *name = churn_dataset_get_col_name(c->ds, j);
	churn_col_type type = churn_dataset_get_col_type(c->ds, j);
	double rrows = num(c->ref, "rows"), rmiss = num(rc, "missing");
	size_t n = churn_dataset_get_row_count(c->ds);
	double cmiss = n ? (double)churn_dataset_get_missing_count(c->ds, j) / (double)n : NAN;
	double rm = rrows > 0 ? rmiss / rrows : NAN;
	cJSON *m = cJSON_AddObjectToObject(e, "missing_rate");
	if (!m || !ch_drift_add_number(m, "reference", rm) || !ch_drift_add_number(m, "current", cmiss) ||
	    !ch_drift_add_number(m, "change", cmiss - rm))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	double refb[MAX_EDGES + 1], curb[MAX_EDGES + 1], *rp = NULL, *cp = NULL;
	size_t k = 0;
	churn_status st = CHURN_OK;
	if (type == CHURN_COL_NUMERIC) {
		if ((st = numeric_bins(rc, c->ds, j, refb, curb, &k)))
			return st;
		rp = refb, cp = curb;
	} else if (type == CHURN_COL_CATEGORICAL) {
		cJSON *unseen = cJSON_AddArrayToObject(e, "unseen");
		if (!unseen)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		if ((st = categorical_bins(rc, c->ds, j, &rp, &cp, &k, unseen)))
			return st;
	} else {
		/* text: free-form values have no bins; the missing rate is the comparison */
		return cJSON_AddStringToObject(e, "status", "not_compared") ? CHURN_OK
		                                                              : ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	if (!add_comparison(c, e, name, rp, cp, k))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (rp != refb) {
		free(rp);
		free(cp);
	}
	return st;
}

static bool add_name(cJSON *arr, const char *name)
{
	cJSON *s = cJSON_CreateString(name);
	if (!s || !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		return false;
	}
	return true;
}

/* Every reference column: compared, removed or retyped. */
static churn_status compare_columns(struct ctx *c)
{
	const cJSON *rc;
	churn_status st = CHURN_OK;
	cJSON_ArrayForEach(rc, cJSON_GetObjectItemCaseSensitive(c->ref, "columns"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rc, "name"));
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rc, "type"));
		if (!name || !type)
			return ch_fail(CHURN_E_FORMAT, "drift reference: a column has no name or type");
		const struct named *f = find_named(c->cur, c->ncur, name);
		if (!f) {
			if (!add_name(c->removed, name))
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			continue;
		}
		const char *now = churn_col_type_name(churn_dataset_get_col_type(c->ds, f->at));
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(c->cols, e)) {
			cJSON_Delete(e);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
		if (!cJSON_AddStringToObject(e, "name", name) || !cJSON_AddStringToObject(e, "type", now))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		if (strcmp(now, type) != 0) {
			cJSON *r = cJSON_CreateObject();
			if (!r || !cJSON_AddItemToArray(c->retyped, r) || !cJSON_AddStringToObject(r, "name", name) ||
			    !cJSON_AddStringToObject(r, "from", type) || !cJSON_AddStringToObject(r, "to", now) ||
			    !cJSON_AddStringToObject(e, "status", "retyped") || !cJSON_AddStringToObject(e, "reference_type", type))
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			continue;
		}
		if ((st = compare_column(c, rc, f->at, e)))
			return st;
	}
	/* columns the reference does not know (the target and IDs are not features) */
	for (size_t j = 0; j < churn_dataset_get_column_count(c->ds); j++) {
		const char *name = churn_dataset_get_col_name(c->ds, j);
		if (!find_named(c->refc, c->nref, name) && strcmp(name, c->target) != 0 && !is_listed(c->ids, name) &&
		    !add_name(c->added, name))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

/* {"rate", "lo", "hi", "rows", "positive_count"} of k positives in n labelled rows. */
static cJSON *rate_json(size_t k, size_t n)
{
	double lo, hi;
	ch_drift_wilson(k, n, &lo, &hi);
	cJSON *o = cJSON_CreateObject();
	if (o && ch_drift_add_number(o, "rate", n ? (double)k / (double)n : NAN) && ch_drift_add_number(o, "lo", lo) &&
	    ch_drift_add_number(o, "hi", hi) && cJSON_AddNumberToObject(o, "rows", (double)n) &&
	    cJSON_AddNumberToObject(o, "positive_count", (double)k))
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* "target": the rate on both sides with 95% Wilson intervals (current null, with a note, when not measurable). */
static churn_status compare_target(struct ctx *c)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(c->ref, "target");
	const char *pos = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "positive"));
	double rn = num(rt, "rows"), rk = num(rt, "positive_count");
	if (!pos || !(rn >= 0) || !(rk >= 0) || rk > rn || rn > 1e15)
		return ch_fail(CHURN_E_FORMAT, "drift reference: \"target\" has no positive label or counts");
	cJSON *o = cJSON_AddObjectToObject(c->doc, "target"), *ref = rate_json((size_t)rk, (size_t)rn), *cur = NULL;
	if (!o || !ref || !cJSON_AddStringToObject(o, "name", c->target) || !cJSON_AddStringToObject(o, "positive", pos) ||
	    !cJSON_AddItemToObject(o, "reference", ref)) {
		cJSON_Delete(ref);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	size_t tj = 0;
	const struct named *f = find_named(c->cur, c->ncur, c->target);
	ch_target t;
	memset(&t, 0, sizeof t);
	char note[600] = "";
	if (!f)
		snprintf(note, sizeof note, "no target column \"%s\" in these rows", c->target);
	else if (tj = f->at, ch_target_fit(c->ds, tj, NULL, churn_dataset_get_row_count(c->ds), pos, &t))
		snprintf(note, sizeof note, "%s", churn_last_error());
	else if (!(cur = rate_json(t.npos, t.npos + t.nneg)))
		return ch_target_clear(&t), ch_fail(CHURN_E_NOMEM, "out of memory");
	ch_target_clear(&t);
	ch_clear_error();
	double r_lo = num(ref, "lo"), r_hi = num(ref, "hi"), c_lo = num(cur, "lo"), c_hi = num(cur, "hi");
	bool ok = cur ? cJSON_AddItemToObject(o, "current", cur) && ch_drift_add_number(o, "change", num(cur, "rate") - num(ref, "rate")) &&
	                    cJSON_AddBoolToObject(o, "overlap", !(c_lo > r_hi || r_lo > c_hi))
	              : cJSON_AddNullToObject(o, "current") && cJSON_AddNullToObject(o, "change") &&
	                    cJSON_AddNullToObject(o, "overlap") && cJSON_AddStringToObject(o, "note", note);
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

/* The reference's format, and its columns and the data set's, indexed by name. */
static churn_status ctx_init(struct ctx *c, const cJSON *ref, const churn_dataset *ds)
{
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ref, "format"));
	double ver = num(ref, "version");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(ref, "columns"), *rc;
	c->target = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ref, "target"), "name"));
	c->ids = cJSON_GetObjectItemCaseSensitive(ref, "ids");
	if (!fmt || strcmp(fmt, CH_DRIFT_REF_FORMAT) != 0 || !cJSON_IsArray(cols) || !c->target || !(num(ref, "rows") >= 0))
		return ch_fail(CHURN_E_FORMAT, "drift reference: not a churn-drift-reference (format, rows, target, columns)");
	if (!(ver >= 1 && ver <= CH_DRIFT_REF_VERSION))
		return ch_fail(CHURN_E_FORMAT, "drift reference: version %g is newer than this libchurn's (%d)", ver,
		               CH_DRIFT_REF_VERSION);
	c->ncur = churn_dataset_get_column_count(ds);
	c->nref = (size_t)cJSON_GetArraySize(cols);
	if (!(c->cur = malloc((c->ncur ? c->ncur : 1) * sizeof *c->cur)) ||
	    !(c->refc = malloc((c->nref ? c->nref : 1) * sizeof *c->refc)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t j = 0; j < c->ncur; j++)
		c->cur[j] = (struct named){churn_dataset_get_col_name(ds, j), j};
	size_t k = 0;
	cJSON_ArrayForEach(rc, cols)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rc, "name"));
		if (!name)
			return ch_fail(CHURN_E_FORMAT, "drift reference: a column has no name");
		c->refc[k] = (struct named){name, k};
		k++;
	}
	qsort(c->cur, c->ncur, sizeof *c->cur, cmp_named);
	qsort(c->refc, c->nref, sizeof *c->refc, cmp_named);
	return CHURN_OK;
}

/* "rows", "schema" and "summary" once the columns are compared. */
static bool add_totals(struct ctx *c)
{
	double rrows = num(c->ref, "rows"), n = (double)churn_dataset_get_row_count(c->ds);
	cJSON *r = cJSON_AddObjectToObject(c->doc, "rows"), *s = cJSON_AddObjectToObject(c->doc, "schema"),
	      *m = cJSON_AddObjectToObject(c->doc, "summary");
	bool changed = cJSON_GetArraySize(c->added) || cJSON_GetArraySize(c->removed) || cJSON_GetArraySize(c->retyped);
	const char *status = c->nalert ? "alert" : c->nwarn ? "warn" : "stable";
	if (!r || !s || !m || !cJSON_AddNumberToObject(r, "reference", rrows) || !cJSON_AddNumberToObject(r, "current", n) ||
	    !cJSON_AddNumberToObject(r, "change", n - rrows) || !ch_drift_add_number(r, "ratio", rrows > 0 ? n / rrows : NAN) ||
	    !cJSON_AddBoolToObject(s, "changed", changed))
		return false;
	cJSON_AddItemToObject(s, "added", c->added);
	cJSON_AddItemToObject(s, "removed", c->removed);
	cJSON_AddItemToObject(s, "retyped", c->retyped);
	c->added = c->removed = c->retyped = NULL;
	bool ok = cJSON_AddStringToObject(m, "status", status) &&
	          ch_drift_add_number(m, "max_psi", c->max_psi >= 0 ? c->max_psi : NAN) &&
	          cJSON_AddNumberToObject(m, "warn", (double)c->nwarn) &&
	          cJSON_AddNumberToObject(m, "alert", (double)c->nalert) && cJSON_AddBoolToObject(m, "schema_changed", changed);
	cJSON_AddItemToObject(m, "flagged", c->flagged);
	c->flagged = NULL;
	return ok;
}

static bool add_thresholds(cJSON *doc, double warn, double alert)
{
	cJSON *t = cJSON_AddObjectToObject(doc, "thresholds");
	return t && cJSON_AddNumberToObject(t, "psi_warn", warn) && cJSON_AddNumberToObject(t, "psi_alert", alert);
}

/* The document without a reference: what is there, nothing compared. */
static churn_status no_reference(const churn_dataset *ds, double warn, double alert, cJSON *doc)
{
	cJSON *r = NULL, *m = NULL;
	bool ok = cJSON_AddStringToObject(doc, "status", "no_reference") &&
	          cJSON_AddStringToObject(doc, "message",
	                                  "no reference: the serving model has no reference profile yet (no model trained "
	                                  "in this workdir, or one trained before drift monitoring); nothing compared") &&
	          add_thresholds(doc, warn, alert) && (r = cJSON_AddObjectToObject(doc, "rows")) &&
	          cJSON_AddNullToObject(r, "reference") &&
	          cJSON_AddNumberToObject(r, "current", (double)churn_dataset_get_row_count(ds)) &&
	          cJSON_AddArrayToObject(doc, "columns") && cJSON_AddNullToObject(doc, "target") &&
	          cJSON_AddNullToObject(doc, "schema") && (m = cJSON_AddObjectToObject(doc, "summary")) &&
	          cJSON_AddStringToObject(m, "status", "no_reference") && cJSON_AddNullToObject(m, "max_psi") &&
	          cJSON_AddNumberToObject(m, "warn", 0) && cJSON_AddNumberToObject(m, "alert", 0) &&
	          cJSON_AddFalseToObject(m, "schema_changed") && cJSON_AddArrayToObject(m, "flagged");
	return ok ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
}

churn_status ch_drift_compare(const cJSON *ref, const churn_dataset *ds, const churn_params *p, cJSON **out)
{
	struct ctx c = {.ref = ref, .ds = ds, .max_psi = -1};
	c.warn = churn_params_get_double(p, CHURN_KEY_DRIFT_PSI_WARN);
	c.alert = churn_params_get_double(p, CHURN_KEY_DRIFT_PSI_ALERT);
	churn_status st = CHURN_OK;
	if (!(c.doc = cJSON_CreateObject()))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!ref) {
		st = no_reference(ds, c.warn, c.alert, c.doc);
		goto out;
	}
	if ((st = ctx_init(&c, ref, ds)))
		goto out;
	if (!cJSON_AddStringToObject(c.doc, "status", "compared") ||
	    !cJSON_AddStringToObject(c.doc, "message", "these rows compared with the serving model's training rows") ||
	    !add_thresholds(c.doc, c.warn, c.alert) || !(c.cols = cJSON_AddArrayToObject(c.doc, "columns")) ||
	    !(c.added = cJSON_CreateArray()) || !(c.removed = cJSON_CreateArray()) || !(c.retyped = cJSON_CreateArray()) ||
	    !(c.flagged = cJSON_CreateArray())) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = compare_columns(&c)) || (st = compare_target(&c)))
		goto out;
	if (!add_totals(&c))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	free(c.cur);
	free(c.refc);
	cJSON_Delete(c.added);
	cJSON_Delete(c.removed);
	cJSON_Delete(c.retyped);
	cJSON_Delete(c.flagged);
	if (st) {
		cJSON_Delete(c.doc);
		return st;
	}
	*out = c.doc;
	return CHURN_OK;
}

churn_status churn_drift_compare(const char *reference_json, const churn_dataset *ds, const churn_params *p,
                                 char **out_json)
{
	if (!ds || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_drift_compare: NULL argument");
	cJSON *ref = NULL, *doc = NULL;
	churn_status st = CHURN_OK;
	if (reference_json && !(ref = ch_json_parse(reference_json, strlen(reference_json), "drift reference", &st)))
		return st ? st : ch_fail(CHURN_E_PARSE, "drift reference: not JSON");
	if (!(st = ch_drift_compare(ref, ds, p, &doc)) && !(*out_json = ch_json_print(doc, true)))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	cJSON_Delete(ref);
	cJSON_Delete(doc);
	return st;
}
