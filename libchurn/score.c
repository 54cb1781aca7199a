/*
 * churn_scorer: JSON records in, probability + label + reasons out.
 *
 * The request is parsed once (cJSON); each record object fills a
 * churn_record (score-record.c), the one encoder of raw values, whose rules
 * are those of churn_prep_apply_json() (the reference path: tests and
 * tests/fuzz/fuzz-predict.c check that both give the same rows). The answer
 * is written directly into one growing buffer.
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
#include "buf-private.h"
#include "churn/dataset.h"
#include "model-private.h"
#include "prep-private.h"
#include "score-private.h"


size_t ch_scorer_find_exact(const churn_scorer *s, const char *name)
{
	size_t lo = 0, hi = s->nnames;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(s->names[s->sorted[mid]].name, name);
		if (r == 0)
			return s->sorted[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
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
		ch_sc_name *nn = realloc(s->names, *cap * sizeof(*nn));
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

typedef struct name_ref {
	const char *name;
	size_t k;
} name_ref;

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* s->sorted: the names' indexes in strcmp order (wide models have thousands of columns: qsort). */
static churn_status sort_names(churn_scorer *s)
{
	size_t n = s->nnames ? s->nnames : 1;
	name_ref *refs = malloc(n * sizeof(*refs));
	if (!refs || !(s->sorted = malloc(n * sizeof(size_t)))) {
		free(refs);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < s->nnames; i++)
		refs[i] = (name_ref){s->names[i].name, i};
	if (s->nnames)
		qsort(refs, s->nnames, sizeof(*refs), cmp_ref);
	for (size_t i = 0; i < s->nnames; i++)
		s->sorted[i] = refs[i].k;
	free(refs);
	return CHURN_OK;
}

/* The byte lengths of the levels, so that a per-row lookup compares lengths before bytes. */
/* A level's slot (of 16) in its column's table: from its length and its first and last bytes (n >= 1). */
static inline unsigned level_hash(const char *p, size_t n)
{
	return ((unsigned)n * 7u + (unsigned char)p[0] * 3u + (unsigned char)p[n - 1]) & 15u;
}

static churn_status level_lengths(churn_scorer *s)
{
	const churn_prep *prep = s->prep;
	size_t total = 0;
	if (!(s->level_off = malloc((prep->ncols ? prep->ncols : 1) * sizeof(size_t))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t c = 0; c < prep->ncols; c++) {
		s->level_off[c] = total;
		total += prep->cols[c].kind == CH_PC_CATEGORICAL ? prep->cols[c].nlevels : 0;
	}
	if (!(s->level_len = malloc((total ? total : 1) * sizeof(size_t))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t c = 0; c < prep->ncols; c++)
		if (prep->cols[c].kind == CH_PC_CATEGORICAL)
			for (size_t a = 0; a < prep->cols[c].nlevels; a++)
				s->level_len[s->level_off[c] + a] = strlen(prep->cols[c].levels[a]);
	if (!(s->level_slot = malloc((prep->ncols ? prep->ncols : 1) * 16)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t c = 0; c < prep->ncols; c++) {
		int8_t *slot = s->level_slot + 16 * c;
		const ch_prep_col *pc = &prep->cols[c];
		bool ok = pc->kind == CH_PC_CATEGORICAL && pc->nlevels <= 8;
		memset(slot, -1, 16);
		for (size_t a = 0; ok && a < pc->nlevels; a++) {
			size_t n = s->level_len[s->level_off[c] + a];
			unsigned h = n ? level_hash(pc->levels[a], n) : 0;
			ok = n > 0 && slot[h] < 0;
			slot[h] = (int8_t)a;
		}
		if (!ok)
			memset(slot, -2, 16);
	}
	return CHURN_OK;
}

/*
 * Whether the n bytes at a and b are equal, for the short texts of levels:
 * two overlapping loads of each from both ends instead of a call to memcmp.
 */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return memcmp(a, b, n) == 0;
	if (n >= 8) {
		uint64_t a0, a1, b0, b1;
		memcpy(&a0, a, 8), memcpy(&b0, b, 8), memcpy(&a1, a + n - 8, 8), memcpy(&b1, b + n - 8, 8);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	if (n >= 4) {
		uint32_t a0, a1, b0, b1;
		memcpy(&a0, a, 4), memcpy(&b0, b, 4), memcpy(&a1, a + n - 4, 4), memcpy(&b1, b + n - 4, 4);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

int32_t ch_scorer_find_level(const churn_scorer *s, size_t c, const char *p, size_t n)
{
	const ch_prep_col *pc = &s->prep->cols[c];
	const size_t *len = s->level_len + s->level_off[c];
	const int8_t *slot = s->level_slot + 16 * c;
	if (slot[0] != -2) { /* the one level that can match, without a search (no branch to mispredict per level) */
		int32_t a = n ? slot[level_hash(p, n)] : -1;
		return a >= 0 && len[a] == n && same_bytes(pc->levels[a], p, n) ? a : -1;
	}
	if (pc->nlevels > 8)
		return ch_prep_find_level_n(pc, p, n);
	for (size_t a = 0; a < pc->nlevels; a++)
		if (len[a] == n && same_bytes(pc->levels[a], p, n))
			return (int32_t)a;
	return -1;
}

static churn_status scorer_init(churn_scorer *s, const char *what)
{
	size_t cap = 0;
	churn_status st = CHURN_OK;
	if (!(s->prep = churn_model_get_prep(s->model)))
		return ch_fail(CHURN_E_STATE, "%s: the model has no prep spec; it cannot score raw records", what);
	s->nfeatures = churn_prep_get_feature_count(s->prep);
	if (s->nfeatures != churn_model_get_feature_count(s->model))
		return ch_fail(CHURN_E_FORMAT, "%s: the prep spec has %zu features, the model %zu", what, s->nfeatures,
		               churn_model_get_feature_count(s->model));
	/* The raw columns a record may name: inputs, the target, dropped and ID columns. */
	const churn_prep *prep = s->prep;
	for (size_t j = 0; j < prep->ncols; j++)
		if ((st = add_name(s, prep->cols[j].name, CH_ROLE_COL, j, &cap)))
			return st;
	if ((st = add_name(s, prep->target, CH_ROLE_TARGET, 0, &cap)))
		return st;
	for (size_t j = 0; j < prep->ndropped; j++)
		if ((st = add_name(s, prep->dropped[j].column, CH_ROLE_OTHER, 0, &cap)))
			return st;
	for (size_t j = 0; j < prep->nids; j++)
		if ((st = add_name(s, prep->ids[j], CH_ROLE_OTHER, 0, &cap)))
			return st;
	if ((st = sort_names(s)))
		return st;
	if (prep->nids && !(s->id = ch_strdup(prep->ids[0])))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = level_lengths(s)))
		return st;
	s->positive = ch_strdup(prep->positive ? prep->positive : "1");
	s->negative = ch_strdup(prep->negative ? prep->negative : "0");
	if (!s->positive || !s->negative)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

churn_status churn_scorer_load_file(const char *model_path, churn_scorer **out)
{
	if (!model_path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_load_file: NULL argument");
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
	free(s->sorted);
	free(s->id);
	free(s->positive);
	free(s->negative);
	free(s->level_len);
	free(s->level_off);
	free(s->level_slot);
	churn_model_free(s->model);
	free(s);
}

const churn_model *churn_scorer_get_model(const churn_scorer *s)
{
	return s ? s->model : NULL;
}

/* ---- the answer: one writer for every front-end ---- */

/* A record's ID as the answer shows it. */
typedef struct sc_id {
	enum { ID_NULL, ID_TEXT, ID_NUMBER } kind;
	const char *text;
	double num;
} sc_id;

typedef sc_id (*id_fn)(const void *ud, size_t i, char *buf, size_t cap);
/* Row i's value of prep column col (ch_sc_value). */
typedef ch_sc_value (*value_fn)(const void *ud, size_t i, size_t col);

/* Probabilities, then contributions and reasons per row, for rows[0..n) of width nfeatures. */
typedef struct sc_scored {
	double *prob;
	double *contrib; /* n x (p + 1) */
	size_t *idx;     /* n x top_k: prep columns (ch_column_reasons) */
	double *sums;    /* n x top_k: their contributions */
	size_t *nreasons;
} sc_scored;

static void scored_free(sc_scored *r)
{
	free(r->prob);
	free(r->contrib);
	free(r->idx);
	free(r->sums);
	free(r->nreasons);
}

static churn_status score_rows(const churn_scorer *s, const double *rows, size_t n, size_t top_k, sc_scored *r)
{
	size_t p = s->nfeatures, k = top_k ? top_k : 1;
	memset(r, 0, sizeof(*r));
	if (n > ((size_t)-1 / sizeof(double) - 1) / (p + 1 + k))
		return ch_fail(CHURN_E_LIMIT, "too many records");
	r->prob = malloc((n ? n : 1) * sizeof(double));
	r->contrib = malloc((n ? n : 1) * (p + 1) * sizeof(double));
	r->idx = malloc((n ? n : 1) * k * sizeof(size_t));
	r->sums = malloc((n ? n : 1) * k * sizeof(double));
	r->nreasons = malloc((n ? n : 1) * sizeof(size_t));
	if (!r->prob || !r->contrib || !r->idx || !r->sums || !r->nreasons) {
		scored_free(r);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const double *row = rows + i * p;
		double *c = r->contrib + i * (p + 1);
		churn_status st = ch_scorer_score_row(s, row, top_k, &r->prob[i], c, r->idx + i * k, r->sums + i * k,
		                                      &r->nreasons[i]);
		if (st) {
			scored_free(r);
			return st;
		}
	}
	return CHURN_OK;
}

/* ch_sc_value of a row of a batch: the value_fn with its row fixed. */
typedef struct row_value {
	value_fn fn;
	const void *ud;
	size_t i;
} row_value;

static ch_sc_value value_of_row(const void *ud, size_t col)
{
	const row_value *rv = ud;
	return rv->fn(rv->ud, rv->i, col);
}

static void put_value(ch_buf *b, ch_sc_value v)
{
	if (v.kind == CH_VALUE_TEXT)
		ch_buf_json_str(b, v.text);
	else if (v.kind == CH_VALUE_NUMBER)
		ch_buf_num(b, v.num, "null");
	else
		ch_buf_puts(b, "null");
}

void ch_scorer_write_prediction(ch_buf *b, const churn_scorer *s, double prob, const size_t *cols, const double *sums,
                                size_t nreasons, ch_sc_value (*value)(const void *ud, size_t col), const void *ud)
{
	bool churn = prob >= churn_model_get_threshold(s->model);
	ch_buf_puts(b, "\"probability\":");
	ch_buf_num(b, prob, "null");
	ch_buf_puts(b, ",\"label\":");
	ch_buf_json_str(b, churn ? s->positive : s->negative);
	ch_buf_puts(b, churn ? ",\"churn\":true,\"reasons\":[" : ",\"churn\":false,\"reasons\":[");
	for (size_t q = 0; q < nreasons; q++) {
		ch_buf_puts(b, q ? ",{\"feature\":" : "{\"feature\":");
		ch_buf_json_str(b, s->prep->cols[cols[q]].name);
		ch_buf_puts(b, ",\"value\":");
		put_value(b, value(ud, cols[q]));
		ch_buf_puts(b, ",\"contribution\":");
		ch_buf_num(b, sums[q], "null");
		ch_buf_puts(b, sums[q] > 0 ? ",\"effect\":\"raises\"}" : ",\"effect\":\"lowers\"}");
	}
	ch_buf_puts(b, "]");
}

/* The JSON answer of churn_scorer_score_json() for scored rows. */
static churn_status write_json(const churn_scorer *s, size_t n, size_t top_k, const sc_scored *r, id_fn ids,
                               value_fn values, const void *ud, char **out)
{
	size_t k = top_k ? top_k : 1;
	ch_buf b = {0};
	ch_buf_puts(&b, "{\"model\":");
	ch_buf_json_str(&b, churn_model_kind_name(churn_model_get_kind(s->model)));
	ch_buf_puts(&b, ",\"threshold\":");
	ch_buf_num(&b, churn_model_get_threshold(s->model), "null");
	char cnt[64];
	snprintf(cnt, sizeof(cnt), ",\"count\":%zu,\"predictions\":[", n);
	ch_buf_puts(&b, cnt);
	for (size_t i = 0; i < n; i++) {
		char idbuf[64];
		sc_id id = ids(ud, i, idbuf, sizeof(idbuf));
		ch_buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		if (id.kind == ID_TEXT)
			ch_buf_json_str(&b, id.text);
		else if (id.kind == ID_NUMBER)
			ch_buf_num(&b, id.num, "null");
		else
			ch_buf_puts(&b, "null");
		ch_buf_putc(&b, ',');
		row_value rv = {values, ud, i};
		ch_scorer_write_prediction(&b, s, r->prob[i], r->idx + i * k, r->sums + i * k, r->nreasons[i], value_of_row,
		                           &rv);
		ch_buf_putc(&b, '}');
	}
	ch_buf_puts(&b, "]}");
	if (!(*out = ch_buf_take(&b)))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
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

/* The records of a request: its array's elements, or the object itself (*n of them, in *out, malloc'd). */
static churn_status request_records(const cJSON *req, const cJSON ***out, size_t *n)
{
	if (!cJSON_IsArray(req) && !cJSON_IsObject(req))
		return ch_fail(CHURN_E_INVALID_ARG, "request must be a JSON object (one customer) or an array of them");
	size_t nrec = 0;
	if (cJSON_IsArray(req)) {
		for (const cJSON *e = req->child; e; e = e->next)
			nrec++;
	} else {
		nrec = 1;
	}
	if (nrec == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "request is an empty array");
	const cJSON **recs = malloc(nrec * sizeof(*recs));
	if (!recs)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if (cJSON_IsArray(req)) {
		size_t r = 0;
		for (const cJSON *e = req->child; e; e = e->next)
			recs[r++] = e;
	} else {
		recs[0] = req;
	}
	*out = recs;
	*n = nrec;
	return CHURN_OK;
}

/* Every field of every record names a column the scorer knows and holds a scalar. */
static churn_status check_records(const churn_scorer *s, const cJSON **recs, size_t nrec)
{
	for (size_t r = 0; r < nrec; r++) {
		if (!cJSON_IsObject(recs[r]))
			return ch_fail(CHURN_E_INVALID_ARG, "record %zu is not a JSON object", r + 1);
		for (const cJSON *f = recs[r]->child; f; f = f->next) {
			if (ch_scorer_find_exact(s, f->string) == (size_t)-1)
				return ch_fail(CHURN_E_INVALID_ARG, "record %zu: unknown column '%s'", r + 1, f->string);
			if (cJSON_IsArray(f) || cJSON_IsObject(f))
				return ch_fail(CHURN_E_PARSE, "record %zu, column '%s': expected a string, number, boolean or null",
				               r + 1, f->string);
		}
	}
	return CHURN_OK;
}

/*
 * Fill @p r from the checked object @p rec (its keys name fields exactly; the
 * first of duplicate keys wins, as the reference path reads them). JSON
 * booleans are the text "true"/"false", as the reference path reads them.
 */
static churn_status fill_record(churn_record *r, const cJSON *rec, unsigned char *seen)
{
	const churn_scorer *s = r->s;
	churn_status st = CHURN_OK;
	churn_record_clear(r);
	memset(seen, 0, s->nnames);
	for (const cJSON *f = rec->child; f && !st; f = f->next) {
		size_t k = ch_scorer_find_exact(s, f->string);
		if (seen[k]++)
			continue;
		if (cJSON_IsNull(f))
			st = churn_record_set_missing(r, k);
		else if (cJSON_IsString(f)) /* the request's UTF-8 and NUL bytes were checked before parsing */
			st = ch_record_set_valid_string(r, k, f->valuestring);
		else if (cJSON_IsBool(f))
			st = ch_record_set_valid_string(r, k, cJSON_IsTrue(f) ? "true" : "false");
		else if (!isfinite(f->valuedouble))
			st = ch_fail(CHURN_E_PARSE, "field '%s': number out of range", f->string);
		else
			st = churn_record_set_number(r, k, f->valuedouble);
	}
	return st;
}

/* Design-matrix rows of the records, each through a churn_record (the one encoder). */
static churn_status encode_records(const churn_scorer *s, const cJSON **recs, size_t nrec, double *rows)
{
	churn_record *r = NULL;
	unsigned char *seen = malloc(s->nnames ? s->nnames : 1);
	churn_status st = seen ? churn_record_new(s, &r) : ch_fail(CHURN_E_NOMEM, "out of memory");
	size_t labelled = 0;
	for (size_t i = 0; !st && i < nrec; i++) {
		if ((st = fill_record(r, recs[i], seen))) {
			st = ch_fail_prefix(st, "record %zu", i + 1);
			break;
		}
		labelled += r->has_target;
		ch_record_encode(r, rows + i * s->nfeatures);
	}
	churn_record_free(r);
	free(seen);
	if (!st && labelled && labelled < nrec) /* the reference path would drop (or refuse) the unlabelled records */
		st = ch_fail(CHURN_E_INVALID_ARG, "records with a missing target were dropped: leave the target out");
	return st;
}

typedef struct rec_ids {
	const churn_scorer *s;
	const cJSON **recs;
} rec_ids;

static sc_id record_id(const void *ud, size_t i, char *buf, size_t cap)
{
	(void)buf;
	(void)cap;
	const rec_ids *r = ud;
	const cJSON *v = r->s->id ? cJSON_GetObjectItemCaseSensitive(r->recs[i], r->s->id) : NULL;
	if (cJSON_IsString(v))
		return (sc_id){ID_TEXT, v->valuestring, 0};
	if (cJSON_IsNumber(v))
		return (sc_id){ID_NUMBER, NULL, v->valuedouble};
	return (sc_id){ID_NULL, NULL, 0};
}

/* Record i's value of prep column col, as the request gave it (booleans as the text the encoder read). */
static ch_sc_value request_value(const void *ud, size_t i, size_t col)
{
	const rec_ids *r = ud;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->recs[i], r->s->prep->cols[col].name);
	if (cJSON_IsString(v))
		return (ch_sc_value){CH_VALUE_TEXT, v->valuestring, 0};
	if (cJSON_IsNumber(v))
		return (ch_sc_value){CH_VALUE_NUMBER, NULL, v->valuedouble};
	if (cJSON_IsBool(v))
		return (ch_sc_value){CH_VALUE_TEXT, cJSON_IsTrue(v) ? "true" : "false", 0};
	return (ch_sc_value){CH_VALUE_NULL, NULL, 0};
}

churn_status churn_scorer_score_json(const churn_scorer *s, const char *request, size_t len, size_t top_k,
                                     size_t max_records, char **out_json)
{
	if (!s || !request || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_score_json: NULL argument");
	churn_status st = CHURN_OK;
	cJSON *req = parse_whole(request, len, max_records, &st);
	const cJSON **recs = NULL;
	double *rows = NULL;
	sc_scored scored = {0};
	size_t nrec = 0, p = s->nfeatures;
	if (!req || (st = request_records(req, &recs, &nrec)))
		goto out;
	if (max_records && nrec > max_records) {
		st = ch_fail(CHURN_E_LIMIT, "request has %zu records; at most %zu are accepted", nrec, max_records);
		goto out;
	}
	if (nrec > ((size_t)-1 / sizeof(double) - 1) / (p + 1)) {
		st = ch_fail(CHURN_E_LIMIT, "request has too many records");
		goto out;
	}
	if (!(rows = malloc(nrec * (p ? p : 1) * sizeof(double)))) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((st = check_records(s, recs, nrec)) || (st = encode_records(s, recs, nrec, rows)) ||
	    (st = score_rows(s, rows, nrec, top_k, &scored)))
		goto out;
	rec_ids ids = {s, recs};
	st = write_json(s, nrec, top_k, &scored, record_id, request_value, &ids, out_json);
out:
	scored_free(&scored);
	cJSON_Delete(req);
	free(recs);
	free(rows);
	return st;
}

/* ---- data sets: churn predict and every batch scorer ---- */

churn_status churn_scorer_check_columns(const churn_scorer *s, const churn_dataset *ds)
{
	if (!s || !ds)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_check_columns: NULL argument");
	ch_buf b = {0};
	size_t missing = 0, j;
	for (size_t c = 0; c < churn_prep_get_column_count(s->prep); c++) {
		const char *name = churn_prep_get_column(s->prep, c);
		if (churn_dataset_find_col(ds, name, &j) == CHURN_OK)
			continue;
		ch_buf_puts(&b, missing++ ? ", " : "");
		ch_buf_puts(&b, name);
	}
	churn_status st = CHURN_OK;
	if (missing)
		st = ch_fail(CHURN_E_FORMAT, "missing column%s the model needs: %s", missing > 1 ? "s" : "",
		             b.oom ? "(out of memory)" : b.p);
	ch_buf_free(&b);
	return st;
}

typedef struct ds_ids {
	const churn_dataset *ds;
	size_t col;   /* (size_t)-1: row numbers */
	size_t *cols; /* the data set's column of each prep column */
} ds_ids;

/* Row i's value of prep column col, from the data set (numbers as numbers, levels and text as text). */
static ch_sc_value dataset_value(const void *ud, size_t i, size_t col)
{
	const ds_ids *d = ud;
	size_t j = d->cols[col];
	switch (churn_dataset_get_col_type(d->ds, j)) {
	case CHURN_COL_NUMERIC: {
		double v = churn_dataset_get_numeric(d->ds, j)[i];
		return isnan(v) ? (ch_sc_value){CH_VALUE_NULL, NULL, 0} : (ch_sc_value){CH_VALUE_NUMBER, NULL, v};
	}
	case CHURN_COL_CATEGORICAL: {
		int32_t code = churn_dataset_get_codes(d->ds, j)[i];
		return code < 0 ? (ch_sc_value){CH_VALUE_NULL, NULL, 0}
		                : (ch_sc_value){CH_VALUE_TEXT, churn_dataset_get_level(d->ds, j, (size_t)code), 0};
	}
	case CHURN_COL_TEXT: {
		const char *t = churn_dataset_get_cell_text(d->ds, j, i, NULL, 0);
		return t && t[0] ? (ch_sc_value){CH_VALUE_TEXT, t, 0} : (ch_sc_value){CH_VALUE_NULL, NULL, 0};
	}
	}
	return (ch_sc_value){CH_VALUE_NULL, NULL, 0};
}

/* The spec's first ID column when the data set has it, else the row number (1-based). */
static sc_id dataset_id(const void *ud, size_t i, char *buf, size_t cap)
{
	const ds_ids *d = ud;
	const char *t = d->col != (size_t)-1 ? churn_dataset_get_cell_text(d->ds, d->col, i, buf, cap) : NULL;
	if (t)
		return (sc_id){ID_TEXT, t, 0};
	return (sc_id){ID_NUMBER, NULL, (double)(i + 1)};
}

/* The data set's rows as the model sees them, scored; *ids tells how rows are named. */
static churn_status score_dataset(const churn_scorer *s, const churn_dataset *ds, size_t top_k, churn_matrix **x,
                                  sc_scored *scored, ds_ids *ids)
{
	churn_status st;
	if ((st = churn_scorer_check_columns(s, ds)) || (st = churn_prep_apply(s->prep, ds, x)))
		return st;
	size_t n = churn_matrix_get_row_count(*x), nc = s->prep->ncols;
	ids->ds = ds;
	ids->col = (size_t)-1;
	if (!(ids->cols = malloc((nc ? nc : 1) * sizeof(size_t))))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t c = 0; c < nc; c++)
		if ((st = churn_dataset_find_col(ds, s->prep->cols[c].name, &ids->cols[c])))
			return st; /* (churn_scorer_check_columns found each) */
	if (s->id && churn_dataset_get_row_count(ds) == n && churn_dataset_find_col(ds, s->id, &ids->col) != CHURN_OK)
		ids->col = (size_t)-1; /* (rows dropped for a missing target would not line up: row numbers then) */
	const double *rows = n ? churn_matrix_get_row(*x, 0) : NULL;
	return score_rows(s, rows, n, top_k, scored);
}

churn_status churn_scorer_score_dataset_json(const churn_scorer *s, const churn_dataset *ds, size_t top_k,
                                             char **out_json)
{
	if (!s || !ds || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_score_dataset_json: NULL argument");
	churn_matrix *x = NULL;
	sc_scored scored = {0};
	ds_ids ids = {0};
	churn_status st = score_dataset(s, ds, top_k, &x, &scored, &ids);
	if (!st)
		st = write_json(s, churn_matrix_get_row_count(x), top_k, &scored, dataset_id, dataset_value, &ids, out_json);
	free(ids.cols);
	scored_free(&scored);
	churn_matrix_free(x);
	return st;
}

/* A reason as a CSV field: "Contract = Month-to-month: raises churn risk (+0.90 log-odds)". */
static void reason_text(ch_buf *b, const churn_scorer *s, const ds_ids *ids, size_t i, size_t col, double sum,
                        const char *unit)
{
	char text[600], num[40];
	ch_sc_value v = dataset_value(ids, i, col);
	if (v.kind == CH_VALUE_NUMBER)
		ch_format_double_short(num, sizeof(num), v.num);
	snprintf(text, sizeof(text), "%s = %.200s: %s churn risk (%+.2f %s)", s->prep->cols[col].name,
	         v.kind == CH_VALUE_NUMBER ? num : v.kind == CH_VALUE_TEXT ? v.text : "(missing)",
	         sum > 0 ? "raises" : "lowers", sum, unit);
	ch_csv_field(b, text);
}

churn_status churn_scorer_write_csv(const churn_scorer *s, const churn_dataset *ds, size_t top_k, FILE *out)
{
	if (!s || !ds || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_scorer_write_csv: NULL argument");
	churn_matrix *x = NULL;
	sc_scored scored = {0};
	ds_ids ids = {0};
	churn_status st = score_dataset(s, ds, top_k, &x, &scored, &ids);
	if (st)
		goto out;
	size_t n = churn_matrix_get_row_count(x), k = top_k ? top_k : 1;
	const char *unit = churn_model_score_is_logit(s->model) ? "log-odds" : "probability";
	double thr = churn_model_get_threshold(s->model);
	ch_buf b = {0};
	ch_buf_puts(&b, "id,probability,label");
	for (size_t q = 0; q < top_k; q++) {
		char h[32];
		snprintf(h, sizeof(h), ",reason%zu", q + 1);
		ch_buf_puts(&b, h);
	}
	ch_buf_putc(&b, '\n');
	for (size_t i = 0; i < n && !b.oom; i++) {
		char idbuf[64];
		sc_id id = dataset_id(&ids, i, idbuf, sizeof(idbuf));
		if (id.kind == ID_TEXT)
			ch_csv_field(&b, id.text);
		else
			ch_buf_num(&b, id.num, "");
		ch_buf_putc(&b, ',');
		ch_buf_num(&b, scored.prob[i], "");
		ch_buf_putc(&b, ',');
		ch_csv_field(&b, scored.prob[i] >= thr ? s->positive : s->negative);
		for (size_t q = 0; q < top_k; q++) {
			ch_buf_putc(&b, ',');
			if (q < scored.nreasons[i])
				reason_text(&b, s, &ids, i, scored.idx[i * k + q], scored.sums[i * k + q], unit);
		}
		ch_buf_putc(&b, '\n');
		if (b.n > (1u << 16)) { /* write as we go: a million rows need not sit in memory */
			if (fwrite(b.p, 1, b.n, out) != b.n)
				break;
			b.n = 0;
		}
	}
	if (b.oom)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	else if ((b.n && fwrite(b.p, 1, b.n, out) != b.n) || ferror(out))
		st = ch_fail(CHURN_E_IO, "writing the scores failed");
	ch_buf_free(&b);
out:
	free(ids.cols);
	scored_free(&scored);
	churn_matrix_free(x);
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
	if (!req)
		goto out;
	if (!cJSON_IsObject(req)) {
		st = ch_fail(CHURN_E_PARSE, "the record is not a JSON object");
		goto out;
	}
	const cJSON *one[1] = {req};
	if ((st = check_records(s, one, 1)))
		goto out;
	if (!reference) {
		st = encode_records(s, one, 1, out_row);
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
	if (churn_matrix_get_row_count(x) != 1 || churn_matrix_get_column_count(x) != s->nfeatures) {
		st = ch_fail(CHURN_E_INVALID_ARG, "the record was dropped (missing target)");
		goto out;
	}
	memcpy(out_row, churn_matrix_get_row(x, 0), s->nfeatures * sizeof(double));
out:
	cJSON_Delete(req);
	churn_matrix_free(x);
	return st;
}
