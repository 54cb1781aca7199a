/*
 * churn_scorer: JSON records in, probability + label + reasons out.
 *
 * The request is parsed once (cJSON). Records whose values are all of the
 * plain kinds (numbers for numeric columns, a fitted level's exact text for
 * categorical ones, null or absent for missing cells) are encoded straight
 * into design-matrix rows from the prep spec compiled at load time; anything
 * else (numbers as text, case-different or unseen levels, a target value, ...)
 * goes through churn_prep_apply_json(), the reference path, so both give the
 * same rows (tests/fuzz/fuzz-predict.c checks that they do). The answer is
 * written directly into one growing buffer.
 */
#include "churn/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "churn/matrix.h"
#include "churn/prep.h"
#include "core-private.h"
#include "prep-private.h"

enum { ROLE_COL, ROLE_TARGET, ROLE_OTHER };

/* A name a record may carry: a prep column (col), the target or an ID/dropped column. */
typedef struct sc_name {
	char *name;
	int role;
	size_t col;
} sc_name;

/* One prep column, compiled for direct encoding (mirrors prep.c's apply). */
typedef struct sc_col {
	bool numeric;
	size_t feat0, nfeat;
	/* numeric: (x - center) / scale, missing -> fill (+ indicator feature) */
	double fill, center, scale;
	bool indicator;
	/* categorical: levels in strcmp order */
	char **levels;
	size_t nlevels;
	bool binary;
	size_t yes;          /* binary: the level that encodes as 1 */
	long fill_level;     /* -1: none */
	bool missing_feature; /* onehot: a "(missing)" feature follows the levels */
} sc_col;

struct churn_scorer {
	churn_model *model;
	const churn_prep *prep; /* borrowed from the model */
	sc_name *names;         /* sorted by name */
	size_t nnames;
	sc_col *cols;
	size_t ncols;
	size_t nfeatures;
	bool fast;              /* the compiled encoder is usable */
	char *id;               /* first ID column, or NULL */
	char *positive, *negative;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const sc_name *)a)->name, ((const sc_name *)b)->name);
}

static const sc_name *find_name(const churn_scorer *s, const char *name)
{
	size_t lo = 0, hi = s->nnames;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(s->names[mid].name, name);
		if (r == 0)
			return &s->names[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static churn_status add_name(churn_scorer *s, const char *name, int role, size_t col, size_t *cap)
{
	if (!name)
		return CHURN_OK;
	for (size_t i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i].name, name))
			return CHURN_OK; /* first role wins (a column before the target or an ID) */
	if (s->nnames == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		sc_name *nn = realloc(s->names, *cap * sizeof(*nn));
		if (!nn)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		s->names = nn;
	}
	if (!(s->names[s->nnames].name = ch_strdup(name)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	s->names[s->nnames].role = role;
	s->names[s->nnames].col = col;
	s->nnames++;
	return CHURN_OK;
}

/* A number of the spec: numbers are written as raw text (exact round trip). */
static bool spec_num(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsRaw(v) && v->valuestring)
		return ch_parse_double(v->valuestring, strlen(v->valuestring), out);
	return false;
}

static long level_index(const sc_col *c, const char *s)
{
	size_t lo = 0, hi = c->nlevels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->levels[mid], s);
		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * Compile spec column @p c into s->cols[j]; false when its shape is not one
 * this encoder knows (then the scorer always uses the reference path).
 */
static bool compile_col(churn_scorer *s, const cJSON *c, size_t j, size_t *feat)
{
	sc_col *k = &s->cols[j];
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type"));
	const cJSON *feats = cJSON_GetObjectItemCaseSensitive(c, "features");
	if (!type || !cJSON_IsArray(feats))
		return false;
	k->feat0 = *feat;
	k->nfeat = (size_t)cJSON_GetArraySize(feats);
	*feat += k->nfeat;
	size_t f = k->feat0;
	const cJSON *fn;
	cJSON_ArrayForEach(fn, feats)
	{
		const char *want = churn_prep_get_feature_name(s->prep, f++);
		if (!cJSON_IsString(fn) || !want || strcmp(want, fn->valuestring) != 0)
			return false;
	}
	if (!strcmp(type, "numeric")) {
		k->numeric = true;
		k->indicator = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "indicator"));
		return spec_num(c, "fill", &k->fill) && spec_num(c, "center", &k->center) &&
		       spec_num(c, "scale", &k->scale) && k->scale > 0 && k->nfeat == (k->indicator ? 2u : 1u);
	}
	if (strcmp(type, "categorical") != 0)
		return false;
	const char *enc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "encoding"));
	const cJSON *levels = cJSON_GetObjectItemCaseSensitive(c, "levels");
	if (!enc || !cJSON_IsArray(levels))
		return false;
	k->binary = !strcmp(enc, "binary");
	if (!k->binary && strcmp(enc, "onehot") != 0)
		return false;
	size_t nl = (size_t)cJSON_GetArraySize(levels);
	if (!(k->levels = calloc(nl ? nl : 1, sizeof(char *))))
		return false;
	const cJSON *l;
	cJSON_ArrayForEach(l, levels)
	{
		if (!cJSON_IsString(l) || !(k->levels[k->nlevels] = ch_strdup(l->valuestring)))
			return false;
		if (k->nlevels && strcmp(k->levels[k->nlevels - 1], k->levels[k->nlevels]) >= 0)
			return false; /* not in strcmp order */
		k->nlevels++;
	}
	const cJSON *fill = cJSON_GetObjectItemCaseSensitive(c, "fill");
	k->fill_level = cJSON_IsString(fill) ? level_index(k, fill->valuestring) : -1;
	if (cJSON_IsString(fill) && k->fill_level < 0)
		return false;
	k->missing_feature = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "missing_level"));
	if (k->binary) {
		const char *yes = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "yes"));
		long y = yes ? level_index(k, yes) : -1;
		if (y < 0 || k->missing_feature || k->nfeat != 1)
			return false;
		k->yes = (size_t)y;
		return true;
	}
	return k->nfeat == k->nlevels + (k->missing_feature ? 1u : 0u);
}

static churn_status scorer_init(churn_scorer *s, const char *what)
{
	cJSON *spec = NULL;
	size_t cap = 0;
	churn_status st = CHURN_OK;
	if (!(s->prep = churn_model_get_prep(s->model)))
		return ch_fail(CHURN_E_STATE, "%s: the model has no prep spec; it cannot score raw records", what);
	s->nfeatures = churn_prep_get_nfeatures(s->prep);
	if (s->nfeatures != churn_model_get_nfeatures(s->model))
		return ch_fail(CHURN_E_FORMAT, "%s: the prep spec has %zu features, the model %zu", what, s->nfeatures,
		               churn_model_get_nfeatures(s->model));
	if (!(spec = ch_prep_to_cjson(s->prep)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	/* The raw columns a record may name: inputs, the target, IDs and dropped columns. */
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(spec, "columns"), *c;
	s->ncols = (size_t)cJSON_GetArraySize(cols);
	if (!(s->cols = calloc(s->ncols ? s->ncols : 1, sizeof(*s->cols)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t j = 0, feat = 0;
	s->fast = true;
	cJSON_ArrayForEach(c, cols)
	{
		if ((st = add_name(s, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), ROLE_COL, j, &cap)))
			goto out;
		if (s->fast && !compile_col(s, c, j, &feat))
			s->fast = false;
		j++;
	}
	if (feat != s->nfeatures)
		s->fast = false;
	if ((st = add_name(s, churn_prep_get_target(s->prep), ROLE_TARGET, 0, &cap)))
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "dropped"))
	if ((st = add_name(s, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "column")), ROLE_OTHER, 0, &cap)))
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "ids"))
	if ((st = add_name(s, cJSON_GetStringValue(c), ROLE_OTHER, 0, &cap)))
		goto out;
	if (s->nnames)
		qsort(s->names, s->nnames, sizeof(*s->names), cmp_name);
	if (churn_prep_get_id_count(s->prep) && !(s->id = ch_strdup(churn_prep_get_id(s->prep, 0)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "target");
	const char *pos = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "positive"));
	const char *neg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "negative"));
	s->positive = ch_strdup(pos ? pos : "1");
	s->negative = ch_strdup(neg ? neg : "0");
	if (!s->positive || !s->negative)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	cJSON_Delete(spec);
	return st;
}

churn_status churn_scorer_load(const char *model_path, churn_scorer **out)
{
	if (!model_path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_load: NULL argument");
	churn_scorer *s = calloc(1, sizeof(*s));
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = churn_model_load_file(model_path, &s->model);
	if (!st)
		st = scorer_init(s, model_path);
	if (st) {
		churn_scorer_free(s);
		return st;
	}
	*out = s;
	return CHURN_OK;
}

churn_status churn_scorer_from_buffer(const char *buf, size_t n, churn_scorer **out)
{
	if (!buf || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_from_buffer: NULL argument");
	churn_scorer *s = calloc(1, sizeof(*s));
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	churn_status st = churn_model_from_buffer(buf, n, &s->model);
	if (!st)
		st = scorer_init(s, "model buffer");
	if (st) {
		churn_scorer_free(s);
		return st;
	}
	*out = s;
	return CHURN_OK;
}

void churn_scorer_free(churn_scorer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i].name);
	free(s->names);
	for (size_t j = 0; s->cols && j < s->ncols; j++) {
		for (size_t l = 0; l < s->cols[j].nlevels; l++)
			free(s->cols[j].levels[l]);
		free(s->cols[j].levels);
	}
	free(s->cols);
	free(s->id);
	free(s->positive);
	free(s->negative);
	churn_model_free(s->model);
	free(s);
}

const churn_model *churn_scorer_get_model(const churn_scorer *s)
{
	return s ? s->model : NULL;
}

/*
 * Encode record @p rec into @p row (nfeatures values) as churn_prep_apply_json()
 * would; false when the record needs the reference path. @p state is
 * ncols bytes of scratch.
 */
static bool encode_fast(const churn_scorer *s, const cJSON *rec, double *row, unsigned char *state)
{
	memset(row, 0, s->nfeatures * sizeof(double));
	memset(state, 0, s->ncols); /* 0 absent, 1 value, 2 missing */
	for (const cJSON *f = rec->child; f; f = f->next) {
		const sc_name *e = find_name(s, f->string);
		if (!e)
			return false;
		if (e->role == ROLE_TARGET) {
			if (!cJSON_IsNull(f))
				return false; /* a label to check: the reference path does */
			continue;
		}
		if (e->role != ROLE_COL)
			continue;
		if (state[e->col])
			return false; /* a duplicate key */
		const sc_col *c = &s->cols[e->col];
		if (cJSON_IsNull(f) || (cJSON_IsString(f) && !f->valuestring[0])) {
			state[e->col] = 2;
			continue;
		}
		state[e->col] = 1;
		if (c->numeric) {
			if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble))
				return false;
			double z = (f->valuedouble - c->center) / c->scale;
			if (!isfinite(z))
				return false;
			row[c->feat0] = z;
		} else {
			if (!cJSON_IsString(f))
				return false;
			long k = level_index(c, f->valuestring);
			if (k < 0)
				return false;
			if (c->binary)
				row[c->feat0] = (size_t)k == c->yes ? 1 : 0;
			else
				row[c->feat0 + (size_t)k] = 1;
		}
	}
	for (size_t j = 0; j < s->ncols; j++) {
		if (state[j] == 1)
			continue;
		const sc_col *c = &s->cols[j];
		if (c->numeric) {
			double z = (c->fill - c->center) / c->scale;
			if (!isfinite(z))
				return false;
			row[c->feat0] = z;
			if (c->indicator)
				row[c->feat0 + 1] = 1;
		} else if (c->missing_feature) {
			row[c->feat0 + c->nlevels] = 1;
		} else if (c->fill_level >= 0) {
			if (c->binary)
				row[c->feat0] = (size_t)c->fill_level == c->yes ? 1 : 0;
			else
				row[c->feat0 + (size_t)c->fill_level] = 1;
		}
	}
	return true;
}

/* Indices of the top_k largest |contrib[j]|, j < p, largest first. */
static size_t top_reasons(const double *contrib, size_t p, size_t top_k, size_t *out)
{
	size_t k = 0;
	if (top_k == 0)
		return 0;
	for (size_t j = 0; j < p; j++) {
		double a = fabs(contrib[j]);
		if (a == 0 || a != a)
			continue;
		size_t pos = k < top_k ? k++ : top_k;
		if (pos == top_k && a <= fabs(contrib[out[top_k - 1]]))
			continue;
		if (pos == top_k)
			pos = top_k - 1;
		while (pos > 0 && fabs(contrib[out[pos - 1]]) < a) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = j;
	}
	return k;
}

/* ---- the answer, written into one buffer ---- */

typedef struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
} sbuf;

static bool sb_reserve(sbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->n + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < b->n + more + 1)
		cap *= 2;
	char *np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (sb_reserve(b, n)) {
		memcpy(b->p + b->n, s, n);
		b->n += n;
		b->p[b->n] = '\0';
	}
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_num(sbuf *b, double v)
{
	char buf[40];
	if (!isfinite(v)) {
		sb_puts(b, "null");
		return;
	}
	ch_format_double_short(buf, sizeof(buf), v);
	sb_puts(b, buf);
}

static void sb_str(sbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	if (!sb_reserve(b, n * 6 + 2))
		return;
	char *o = b->p + b->n;
	*o++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = '\0';
	b->n = (size_t)(o - b->p);
}

/*
 * A request holds records (objects of scalars), alone or in one array: three
 * levels at most. Deeper nesting, invalid UTF-8, NUL bytes and more than
 * max_records records are refused by one pass over the text, before any
 * parsing (ch_json_scan): nothing is built from an oversized request.
 */
#define REQUEST_MAX_DEPTH 3

/* Parse exactly one JSON document from [text, text+len): trailing bytes other than white space are an error. */
static cJSON *parse_whole(const char *text, size_t len, size_t max_records, churn_status *st)
{
	/* A C string's terminator is not part of the request. */
	if (len && text[len - 1] == '\0')
		len--;
	const ch_json_limits lim = {REQUEST_MAX_DEPTH, max_records};
	if ((*st = ch_json_scan(text, len, &lim, "request", NULL)))
		return NULL;
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, false);
	for (const char *p = end; o && p && p < text + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	if (!o)
		*st = ch_fail(CHURN_E_PARSE, "request body is not valid JSON");
	return o;
}

churn_status churn_scorer_score_json(const churn_scorer *s, const char *request, size_t len, size_t top_k,
                                     size_t max_records, char **out_json)
{
	if (!s || !request || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_score_json: NULL argument");
	churn_status st = CHURN_OK;
	cJSON *req = parse_whole(request, len, max_records, &st);
	churn_matrix *x = NULL;
	double *rows = NULL, *contrib = NULL;
	size_t *idx = NULL;
	const cJSON **recs = NULL;
	unsigned char *state = NULL;
	sbuf b = {0};
	if (!req)
		goto out;
	if (!cJSON_IsArray(req) && !cJSON_IsObject(req)) {
		st = ch_fail(CHURN_E_INVALID_ARG, "request must be a JSON object (one customer) or an array of them");
		goto out;
	}
	size_t nrec = 0;
	if (cJSON_IsArray(req)) {
		for (const cJSON *e = req->child; e; e = e->next)
			nrec++;
	} else {
		nrec = 1;
	}
	if (nrec == 0) {
		st = ch_fail(CHURN_E_INVALID_ARG, "request is an empty array");
		goto out;
	}
	if (max_records && nrec > max_records) {
		st = ch_fail(CHURN_E_LIMIT, "request has %zu records; at most %zu are accepted", nrec, max_records);
		goto out;
	}
	size_t p = s->nfeatures;
	if (nrec > ((size_t)-1 / sizeof(double) - 1) / (p + 1)) {
		st = ch_fail(CHURN_E_LIMIT, "request has too many records");
		goto out;
	}
	recs = malloc(nrec * sizeof(*recs));
	rows = malloc(nrec * (p ? p : 1) * sizeof(double));
	contrib = malloc((p + 1) * sizeof(double));
	idx = malloc((top_k ? top_k : 1) * sizeof(size_t));
	state = malloc(s->ncols ? s->ncols : 1);
	if (!recs || !rows || !contrib || !idx || !state) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if (cJSON_IsArray(req)) {
		size_t r = 0;
		for (const cJSON *e = req->child; e; e = e->next)
			recs[r++] = e;
	} else {
		recs[0] = req;
	}
	bool fast = s->fast;
	for (size_t r = 0; r < nrec; r++) {
		const cJSON *rec = recs[r];
		if (!cJSON_IsObject(rec)) {
			st = ch_fail(CHURN_E_INVALID_ARG, "record %zu is not a JSON object", r + 1);
			goto out;
		}
		for (const cJSON *f = rec->child; f; f = f->next) {
			if (!find_name(s, f->string)) {
				st = ch_fail(CHURN_E_INVALID_ARG, "record %zu: unknown column '%s'", r + 1, f->string);
				goto out;
			}
			if (cJSON_IsArray(f) || cJSON_IsObject(f)) {
				st = ch_fail(CHURN_E_PARSE, "record %zu, column '%s': expected a string, number, boolean or null",
				             r + 1, f->string);
				goto out;
			}
		}
		if (fast && !encode_fast(s, rec, rows + r * p, state))
			fast = false;
	}
	if (!fast) {
		/*
		 * The reference path: the prep spec applied to the records as a data set,
		 * from the request's own text (cJSON's printer would round numbers).
		 */
		char *text = ch_strndup(request, len);
		if (!text) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		st = churn_prep_apply_json(s->prep, text, &x);
		free(text);
		if (st)
			goto out;
		if (churn_matrix_get_nrows(x) != nrec || churn_matrix_get_ncols(x) != p) {
			st = ch_fail(CHURN_E_INVALID_ARG, "records with a missing target were dropped: leave the target out");
			goto out;
		}
		for (size_t r = 0; r < nrec; r++)
			memcpy(rows + r * p, churn_matrix_get_row(x, r), p * sizeof(double));
	}
	double thr = churn_model_get_threshold(s->model);
	sb_puts(&b, "{\"model\":");
	sb_str(&b, churn_model_kind_name(churn_model_get_kind(s->model)));
	sb_puts(&b, ",\"threshold\":");
	sb_num(&b, thr);
	char cnt[64];
	snprintf(cnt, sizeof(cnt), ",\"count\":%zu,\"predictions\":[", nrec);
	sb_puts(&b, cnt);
	for (size_t i = 0; i < nrec; i++) {
		const double *row = rows + i * p;
		double prob;
		if ((st = churn_model_predict_row(s->model, row, p, &prob)) ||
		    (st = churn_model_explain(s->model, row, p, contrib, p + 1)))
			goto out;
		sb_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		const cJSON *idv = s->id ? cJSON_GetObjectItemCaseSensitive(recs[i], s->id) : NULL;
		if (cJSON_IsString(idv))
			sb_str(&b, idv->valuestring);
		else if (cJSON_IsNumber(idv))
			sb_num(&b, idv->valuedouble);
		else
			sb_puts(&b, "null");
		bool churn = prob >= thr;
		sb_puts(&b, ",\"probability\":");
		sb_num(&b, prob);
		sb_puts(&b, ",\"label\":");
		sb_str(&b, churn ? s->positive : s->negative);
		sb_puts(&b, churn ? ",\"churn\":true,\"reasons\":[" : ",\"churn\":false,\"reasons\":[");
		size_t k = top_reasons(contrib, p, top_k, idx);
		for (size_t q = 0; q < k; q++) {
			sb_puts(&b, q ? ",{\"feature\":" : "{\"feature\":");
			sb_str(&b, churn_prep_get_feature_name(s->prep, idx[q]));
			sb_puts(&b, ",\"value\":");
			sb_num(&b, row[idx[q]]);
			sb_puts(&b, ",\"contribution\":");
			sb_num(&b, contrib[idx[q]]);
			sb_puts(&b, "}");
		}
		sb_puts(&b, "]}");
	}
	sb_puts(&b, "]}");
	if (b.oom) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	*out_json = b.p;
	b.p = NULL;
out:
	free(b.p);
	cJSON_Delete(req);
	churn_matrix_free(x);
	free(recs);
	free(rows);
	free(contrib);
	free(idx);
	free(state);
	return st;
}

churn_status churn_scorer_encode_json(const churn_scorer *s, const char *record, size_t len, bool reference,
                                      double *out_row, size_t out_cap, size_t *out_n)
{
	if (!s || !record || !out_row || !out_n)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_encode_json: NULL argument");
	*out_n = s->nfeatures;
	if (out_cap < s->nfeatures)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_encode_json: room for %zu values, %zu needed", out_cap,
		               s->nfeatures);
	churn_status st = CHURN_OK;
	cJSON *req = parse_whole(record, len, 0, &st);
	churn_matrix *x = NULL;
	unsigned char *state = NULL;
	if (!req)
		goto out;
	if (!cJSON_IsObject(req)) {
		st = ch_fail(CHURN_E_PARSE, "the record is not a JSON object");
		goto out;
	}
	for (const cJSON *f = req->child; f; f = f->next) {
		if (!find_name(s, f->string)) {
			st = ch_fail(CHURN_E_INVALID_ARG, "unknown column '%s'", f->string);
			goto out;
		}
		if (cJSON_IsArray(f) || cJSON_IsObject(f)) {
			st = ch_fail(CHURN_E_PARSE, "column '%s': expected a string, number, boolean or null", f->string);
			goto out;
		}
	}
	if (!reference) {
		if (!(state = malloc(s->ncols ? s->ncols : 1))) {
			st = ch_fail(CHURN_E_NOMEM, "out of memory");
			goto out;
		}
		if (s->fast && encode_fast(s, req, out_row, state))
			goto out;
		st = ch_fail(CHURN_E_UNSUPPORTED, "the record needs the reference encoder");
		goto out;
	}
	char *text = ch_strndup(record, len); /* the record's own text: cJSON's printer would round numbers */
	if (!text) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	st = churn_prep_apply_json(s->prep, text, &x);
	free(text);
	if (st)
		goto out;
	if (churn_matrix_get_nrows(x) != 1 || churn_matrix_get_ncols(x) != s->nfeatures) {
		st = ch_fail(CHURN_E_INVALID_ARG, "the record was dropped (missing target)");
		goto out;
	}
	memcpy(out_row, churn_matrix_get_row(x, 0), s->nfeatures * sizeof(double));
out:
	cJSON_Delete(req);
	churn_matrix_free(x);
	free(state);
	return st;
}
