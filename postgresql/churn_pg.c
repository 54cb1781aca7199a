/*
 * The churn extension for PostgreSQL: score customers in SQL with the
 * scorer of `churn predict` and /api/predict (libchurn's churn_record, no
 * second implementation).
 *
 * Models live in churn.models (name, version, artifact jsonb, sha256); the
 * newest version of a name is the one scored, or the version a name ending
 * in "@N" or "@vN" pins ("gbm@3"). A published version never changes (a
 * trigger refuses UPDATE and DELETE, 0.2), so the score of a pinned version
 * depends on its arguments only: churn.score_version() and
 * churn.label_version() are IMMUTABLE, which postgres_fdw requires before it
 * sends a call to a shard (postgresql/cluster.sh). Each backend (and parallel
 * worker) keeps the parsed scorers it used, keyed by name and sha256. Each
 * call site (fn_extra, lives as long as the statement) resolves the model
 * once per statement (one SPI query: a reload by churn.load_model in another
 * session is seen by the next statement), keeps a churn_record, and for the
 * record forms maps each attribute of the row type to the model's field
 * once, so a row costs no name lookup and no text work beyond its own
 * values.
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include <churn.h>

PG_MODULE_MAGIC;

#define CACHE_MAX 16  /* parsed scorers kept per backend */
#define EXPLAIN_TOP_K 3 /* reasons, as /api/predict */

/* ---- the backend's parsed models ---- */

typedef struct cached_model {
	char name[NAMEDATALEN * 2];
	char sha256[65];
	churn_scorer *scorer;
	uint64 used;
} cached_model;

static cached_model cache[CACHE_MAX];
static uint64 cache_clock;

/* The scorer of (name, sha256), parsing @p artifact (may be NULL: lookup only) on a miss. */
static churn_scorer *cache_get(const char *name, const char *sha, const char *artifact)
{
	int free_slot = -1, oldest = 0;
	for (int i = 0; i < CACHE_MAX; i++) {
		if (cache[i].scorer && !strcmp(cache[i].name, name) && !strcmp(cache[i].sha256, sha)) {
			cache[i].used = ++cache_clock;
			return cache[i].scorer;
		}
		if (!cache[i].scorer && free_slot < 0)
			free_slot = i;
		if (cache[i].used < cache[oldest].used)
			oldest = i;
	}
	if (!artifact)
		return NULL;
	churn_scorer *s = NULL;
	if (churn_scorer_from_buffer(artifact, strlen(artifact), &s) != CHURN_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: model \"%s\" cannot be loaded: %s", name, churn_last_error())));
	int slot = free_slot >= 0 ? free_slot : oldest;
	/* An evicted scorer may still be held by a call site of a statement in progress in this backend only
	 * when more than CACHE_MAX models are used at once; the statement's own lookups keep theirs fresh. */
	churn_scorer_free(cache[slot].scorer);
	strlcpy(cache[slot].name, name, sizeof(cache[slot].name));
	strlcpy(cache[slot].sha256, sha, sizeof(cache[slot].sha256));
	cache[slot].scorer = s;
	cache[slot].used = ++cache_clock;
	return s;
}

/*
 * The version a model name pins: "name@N" or "name@vN" (N from 1 to 2^31 - 1)
 * gives N and cuts the name at the '@'; 0 for a plain name (the newest).
 */
static int32 pinned_version(char *name)
{
	char *at = strrchr(name, '@'), *d = at ? at + 1 : NULL;
	if (!d || at == name)
		return 0;
	if (*d == 'v')
		d++;
	int64 v = 0;
	for (const char *p = d; *p; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > PG_INT32_MAX)
			return 0;
	}
	if (!*d || v == 0)
		return 0;
	*at = '\0';
	return (int32)v;
}

/*
 * The scorer of model @p name (from the cache, or read and parsed): the
 * newest version, or the one "name@N" pins. *pinned: whether it was pinned.
 */
static churn_scorer *model_lookup(const char *spec, bool *pinned)
{
	char *name = pstrdup(spec);
	int32 version = pinned_version(name);
	Oid types[2] = {TEXTOID, INT4OID};
	Datum args[2] = {CStringGetTextDatum(name), Int32GetDatum(version)};
	const char *where = version ? "WHERE name = $1 AND version = $2" : "WHERE name = $1 AND $2 = 0 ORDER BY version DESC";
	char sha[65] = "";
	churn_scorer *s = NULL;
	*pinned = version != 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "churn: SPI_connect failed");
	char *q = psprintf("SELECT sha256 FROM churn.models %s LIMIT 1", where);
	if (SPI_execute_with_args(q, 2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "churn: reading churn.models failed");
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg(version ? "churn: unknown model version \"%s\"" : "churn: unknown model \"%s\"", spec),
		                errhint("Load it with churn.load_model(name, artifact) or churn publish.")));
	char *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	strlcpy(sha, v ? v : "", sizeof(sha));
	if (!(s = cache_get(name, sha, NULL))) {
		q = psprintf("SELECT artifact::text FROM churn.models %s LIMIT 1", where);
		if (SPI_execute_with_args(q, 2, types, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed == 0)
			elog(ERROR, "churn: reading the artifact of model \"%s\" failed", spec);
		char *artifact = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		s = cache_get(name, sha, artifact ? artifact : "");
	}
	SPI_finish();
	pfree(name);
	return s;
}

/* ---- a call site's state (fn_extra) ---- */

enum { CONV_IGNORE, CONV_FLOAT8, CONV_FLOAT4, CONV_INT2, CONV_INT4, CONV_INT8, CONV_NUMERIC, CONV_TEXT,
       CONV_BPCHAR, CONV_BOOL, CONV_OTHER };

typedef struct attr_map {
	size_t field; /* the model's field */
	int conv;     /* CONV_* */
	FmgrInfo out; /* CONV_OTHER: the type's output function */
} attr_map;

typedef struct call_site {
	text *model;        /* the model name of the current statement's lookup (in fn_mcxt) */
	churn_scorer *scorer;
	churn_record *rec;
	/* record forms: the row type mapped */
	Oid tupType;
	int32 tupTypmod;
	int natts;
	attr_map *map;
	TupleDesc desc;     /* a copy of the row type's descriptor */
	Datum *values;      /* natts, for heap_deform_tuple */
	bool *nulls;
	/* jsonb form: the keys of the last object and their fields, by position */
	int nkeys;
	char **keys;
	size_t *key_field;
	/* column-list forms: how each value argument is read, by argument position; when every name is a
	 * constant (always so for the planner's rewrite of a whole row, row_support), the fields once */
	int nargs;
	attr_map *argmap;
	bool names_fixed;
	int *fixed_args;    /* the value arguments that name a field of the model, in order */
	int nfixed;
} call_site;

static void call_site_free(void *arg)
{
	call_site *cs = arg;
	churn_record_free(cs->rec);
	cs->rec = NULL;
}

/*
 * The call site of @p fcinfo, its model resolved for the statement (once, or
 * again when the name changes). @p need_pin: the IMMUTABLE forms, which score
 * a pinned version only.
 */
static call_site *call_site_get(FunctionCallInfo fcinfo, text *model, bool need_pin)
{
	FmgrInfo *fl = fcinfo->flinfo;
	call_site *cs = fl->fn_extra;
	if (!cs) {
		cs = MemoryContextAllocZero(fl->fn_mcxt, sizeof(*cs));
		MemoryContextCallback *cb = MemoryContextAlloc(fl->fn_mcxt, sizeof(*cb));
		cb->func = call_site_free;
		cb->arg = cs;
		MemoryContextRegisterResetCallback(fl->fn_mcxt, cb);
		fl->fn_extra = cs;
	}
	if (cs->scorer && VARSIZE_ANY(cs->model) == VARSIZE_ANY(model) &&
	    !memcmp(VARDATA_ANY(cs->model), VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model)))
		return cs;
	char *name = text_to_cstring(model);
	bool pinned = false;
	churn_scorer *s = model_lookup(name, &pinned);
	if (need_pin && !pinned)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: \"%s\" names no version: the _version functions score a published version, "
		                       "e.g. '%s@1'", name, name),
		                errhint("A version never changes, so its scores are IMMUTABLE; churn.score() scores the "
		                        "newest version.")));
	pfree(name);
	if (s != cs->scorer) {
		churn_record_free(cs->rec);
		cs->rec = NULL;
		cs->tupType = InvalidOid; /* the attribute map names fields of the old scorer */
		cs->nkeys = 0;
		cs->nargs = 0;
		if (churn_record_new(s, &cs->rec) != CHURN_OK)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("churn: %s", churn_last_error())));
		cs->scorer = s;
	}
	if (cs->model)
		pfree(cs->model);
	cs->model = MemoryContextAlloc(fl->fn_mcxt, VARSIZE_ANY(model));
	memcpy(cs->model, model, VARSIZE_ANY(model));
	return cs;
}

static void fail_value(const call_site *cs, size_t field, churn_status st) pg_attribute_noreturn();
static void fail_value(const call_site *cs, size_t field, churn_status st)
{
	ereport(ERROR, (errcode(st == CHURN_E_NUMERIC ? ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
	                                              : ERRCODE_INVALID_TEXT_REPRESENTATION),
	                errmsg("churn: %s", churn_last_error()),
	                errdetail("While reading column \"%s\" of the model.", churn_scorer_get_column(cs->scorer, field))));
}

/* The model's field named @p name (any case when unambiguous); (size_t)-1 when the model has none. */
static size_t field_of(const call_site *cs, const char *name)
{
	size_t k;
	churn_status st = churn_scorer_find_column(cs->scorer, name, &k);
	if (st == CHURN_E_NOTFOUND)
		return (size_t)-1;
	if (st)
		ereport(ERROR, (errcode(ERRCODE_AMBIGUOUS_COLUMN), errmsg("churn: %s", churn_last_error())));
	return k;
}

/*
 * A varlena value in place (a short or plain header, as a scan gives it),
 * else detoasted: a compressed or out-of-line value (then a copy to free).
 */
static inline struct varlena *packed_value(Datum d)
{
	struct varlena *v = (struct varlena *)DatumGetPointer(d);
	return VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v) ? pg_detoast_datum_packed(v) : v;
}

/*
 * numeric's stored form (src/backend/utils/adt/numeric.c; pg_upgrade keeps
 * it): a uint16 header, an int16 weight unless the header marks the short
 * form, then base-10000 digits, most significant first, the first one at
 * 10000^weight.
 */
#define NUM_SIGN_MASK 0xC000
#define NUM_NEG 0x4000
#define NUM_SHORT 0x8000
#define NUM_SPECIAL 0xC000
#define NUM_SHORT_SIGN_MASK 0x2000
#define NUM_SHORT_WEIGHT_SIGN_MASK 0x0040
#define NUM_SHORT_WEIGHT_MASK 0x003F

/*
 * The double nearest a numeric of at most 16 significant digits between
 * 1e-22 and 1e22 or so (a price, a count): its digits as an integer D < 2^53
 * times or divided by an exact power of ten, one rounding, so the nearest
 * double, as strtod() gives (Clinger's fast path). False for any other value
 * (and NaN and the infinities), which numeric_value() converts through
 * its text.
 */
static bool numeric_fast_double(Datum d, double *out)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	struct varlena *v = packed_value(d);
	const char *p = VARDATA_ANY(v);
	size_t n = VARSIZE_ANY_EXHDR(v), head = 2;
	bool ok = false, neg = false;
	int weight = 0;
	uint16 h = 0;
	if (n >= 2)
		memcpy(&h, p, 2);
	if (n >= 2 && (h & NUM_SIGN_MASK) == NUM_SHORT) {
		neg = (h & NUM_SHORT_SIGN_MASK) != 0;
		weight = (h & NUM_SHORT_WEIGHT_SIGN_MASK ? ~NUM_SHORT_WEIGHT_MASK : 0) | (h & NUM_SHORT_WEIGHT_MASK);
		ok = true;
	} else if (n >= 4 && (h & NUM_SIGN_MASK) != NUM_SPECIAL) {
		int16 w;
		memcpy(&w, p + 2, 2);
		neg = (h & NUM_SIGN_MASK) == NUM_NEG;
		weight = w;
		head = 4;
		ok = true;
	}
	size_t nd = ok ? (n - head) / 2 : 0;
	uint64 digits = 0;
	if (ok && nd <= 4) {
		for (size_t i = 0; i < nd; i++) {
			uint16 g;
			memcpy(&g, p + head + 2 * i, 2);
			digits = digits * 10000 + g;
		}
		int e = 4 * (weight - (int)nd + 1);
		ok = digits <= ((uint64)1 << 53) && e >= -22 && e <= 22;
		if (ok) {
			double m = (double)digits;
			m = e >= 0 ? m * pow10[e] : m / pow10[-e];
			*out = neg ? -m : m;
		}
	} else {
		ok = false;
	}
	if ((Pointer)v != DatumGetPointer(d))
		pfree(v);
	return ok;
}

/* A numeric as the scoring functions read it: the nearest double; false for NaN (a missing value). */
static bool numeric_value(Datum d, double *out)
{
	if (numeric_fast_double(d, out))
		return true;
	if (numeric_is_nan(DatumGetNumeric(d)))
		return false;
	*out = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
	return true;
}

/* ---- record forms: the row's attributes straight into the record ---- */

static int conv_of(Oid type)
{
	switch (type) {
	case FLOAT8OID: return CONV_FLOAT8;
	case FLOAT4OID: return CONV_FLOAT4;
	case INT2OID: return CONV_INT2;
	case INT4OID: return CONV_INT4;
	case INT8OID: return CONV_INT8;
	case NUMERICOID: return CONV_NUMERIC;
	case TEXTOID: case VARCHAROID: case NAMEOID: return type == NAMEOID ? CONV_OTHER : CONV_TEXT;
	case BPCHAROID: return CONV_BPCHAR;
	case BOOLOID: return CONV_BOOL;
	default: return CONV_OTHER;
	}
}

/* Map the row type's attributes to the model's fields (once per call site and row type). */
static void map_row_type(FunctionCallInfo fcinfo, call_site *cs, Oid type, int32 typmod)
{
	TupleDesc td = lookup_rowtype_tupdesc(type, typmod);
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	attr_map *map = palloc0(sizeof(attr_map) * (td->natts ? td->natts : 1));
	for (int i = 0; i < td->natts; i++) {
		Form_pg_attribute a = TupleDescAttr(td, i);
		map[i].conv = CONV_IGNORE;
		if (a->attisdropped)
			continue;
		size_t k = field_of(cs, NameStr(a->attname));
		if (k == (size_t)-1)
			continue; /* a column the model does not know: a table has more than the model needs */
		map[i].field = k;
		map[i].conv = conv_of(a->atttypid);
		if (map[i].conv == CONV_OTHER) {
			Oid outfn;
			bool varlena;
			getTypeOutputInfo(a->atttypid, &outfn, &varlena);
			fmgr_info_cxt(outfn, &map[i].out, fcinfo->flinfo->fn_mcxt);
		}
	}
	int mapped = 0;
	for (int i = 0; i < td->natts; i++)
		mapped += map[i].conv != CONV_IGNORE;
	if (!mapped)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: none of the row's %d columns is a column of the model", td->natts),
		                errhint("Name the columns as the model's (case does not matter), e.g. SELECT ... AS tenure.")));
	if (cs->map) {
		pfree(cs->map);
		pfree(cs->values);
		pfree(cs->nulls);
		FreeTupleDesc(cs->desc);
	}
	cs->map = map;
	cs->natts = td->natts;
	cs->desc = CreateTupleDescCopy(td);
	cs->values = palloc(sizeof(Datum) * (td->natts ? td->natts : 1));
	cs->nulls = palloc(sizeof(bool) * (td->natts ? td->natts : 1));
	MemoryContextSwitchTo(old);
	cs->tupType = type;
	cs->tupTypmod = typmod;
	ReleaseTupleDesc(td);
}

static churn_status set_text_datum(churn_record *r, size_t k, Datum d, bool bpchar)
{
	text *t = (text *)packed_value(d);
	const char *p = VARDATA_ANY(t);
	size_t n = VARSIZE_ANY_EXHDR(t);
	while (bpchar && n && p[n - 1] == ' ')
		n--; /* char(n) pads with blanks that are not part of the value */
	churn_status st = churn_record_set_text(r, k, p, n);
	if ((Pointer)t != DatumGetPointer(d))
		pfree(t);
	return st;
}

static churn_status set_attr(churn_record *r, const attr_map *m, Datum d)
{
	switch (m->conv) {
	case CONV_FLOAT8: return churn_record_set_number(r, m->field, DatumGetFloat8(d));
	case CONV_FLOAT4: return churn_record_set_number(r, m->field, (double)DatumGetFloat4(d));
	case CONV_INT2: return churn_record_set_number(r, m->field, (double)DatumGetInt16(d));
	case CONV_INT4: return churn_record_set_number(r, m->field, (double)DatumGetInt32(d));
	case CONV_INT8: return churn_record_set_number(r, m->field, (double)DatumGetInt64(d));
	case CONV_NUMERIC: {
		double x;
		return numeric_value(d, &x) ? churn_record_set_number(r, m->field, x) : churn_record_set_missing(r, m->field);
	}
	case CONV_TEXT: return set_text_datum(r, m->field, d, false);
	case CONV_BPCHAR: return set_text_datum(r, m->field, d, true);
	case CONV_BOOL: return churn_record_set_bool(r, m->field, DatumGetBool(d));
	default: {
		char *s = OutputFunctionCall((FmgrInfo *)&m->out, d);
		churn_status st = churn_record_set_string(r, m->field, s);
		pfree(s);
		return st;
	}
	}
}

/* Fill the call site's record from the row argument @p argno. */
static void fill_from_row(FunctionCallInfo fcinfo, call_site *cs, int argno)
{
	HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(argno);
	Oid type = HeapTupleHeaderGetTypeId(th);
	int32 typmod = HeapTupleHeaderGetTypMod(th);
	if (type != cs->tupType || typmod != cs->tupTypmod || !cs->map)
		map_row_type(fcinfo, cs, type, typmod);
	/* one pass over the row (heap_getattr per attribute would rescan the varlena ones before it) */
	HeapTupleData tuple;
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, cs->desc, cs->values, cs->nulls);
	churn_record_clear(cs->rec);
	for (int i = 0; i < cs->natts; i++) {
		const attr_map *m = &cs->map[i];
		if (m->conv == CONV_IGNORE)
			continue;
		churn_status st = cs->nulls[i] ? churn_record_set_missing(cs->rec, m->field)
		                               : set_attr(cs->rec, m, cs->values[i]);
		if (st)
			fail_value(cs, m->field, st);
	}
}

/* ---- the jsonb form ---- */

/* The field of key @p k (position @p pos in the object): the last object's key at that position, else a lookup. */
static size_t key_field(FunctionCallInfo fcinfo, call_site *cs, int pos, const char *k, int len)
{
	if (pos < cs->nkeys && cs->keys[pos] && (int)strlen(cs->keys[pos]) == len &&
	    !memcmp(cs->keys[pos], k, (size_t)len))
		return cs->key_field[pos];
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (pos >= cs->nkeys) {
		int n = pos + 16;
		cs->keys = cs->keys ? repalloc(cs->keys, sizeof(char *) * n) : palloc(sizeof(char *) * n);
		cs->key_field = cs->key_field ? repalloc(cs->key_field, sizeof(size_t) * n) : palloc(sizeof(size_t) * n);
		for (int i = cs->nkeys; i < n; i++)
			cs->keys[i] = NULL;
		cs->nkeys = n;
	}
	if (cs->keys[pos])
		pfree(cs->keys[pos]);
	cs->keys[pos] = pnstrdup(k, len);
	MemoryContextSwitchTo(old);
	cs->key_field[pos] = field_of(cs, cs->keys[pos]);
	return cs->key_field[pos];
}

static void fill_from_jsonb(FunctionCallInfo fcinfo, call_site *cs, Jsonb *jb)
{
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: the customer must be a JSON object of column values")));
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	int pos = 0;
	size_t field = (size_t)-1;
	churn_record_clear(cs->rec);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
		if (tok == WJB_KEY) {
			field = key_field(fcinfo, cs, pos++, v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE || field == (size_t)-1)
			continue;
		churn_status st;
		switch (v.type) {
		case jbvNull: st = churn_record_set_missing(cs->rec, field); break;
		case jbvString:
			st = churn_record_set_text(cs->rec, field, v.val.string.val, (size_t)v.val.string.len);
			break;
		case jbvNumeric: { /* never NaN: JSON has none */
			double x;
			st = numeric_value(NumericGetDatum(v.val.numeric), &x) ? churn_record_set_number(cs->rec, field, x)
			                                                        : churn_record_set_missing(cs->rec, field);
			break;
		}
		case jbvBool: st = churn_record_set_bool(cs->rec, field, v.val.boolean); break;
		default:
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("churn: column \"%s\": expected a string, number, boolean or null",
			                       churn_scorer_get_column(cs->scorer, field))));
		}
		if (st)
			fail_value(cs, field, st);
	}
}

/* ---- the column-list form: churn.score_columns(model, 'name', value, 'name', value, ...) ---- */

/*
 * Fill the call site's record from the (name, value) argument pairs after the
 * model. Each value is read by its own type, as a row's attribute (a NULL is
 * missing); names are matched as the jsonb form's keys (cached by position),
 * names the model does not know are ignored.
 */
static const char *name_arg(FunctionCallInfo fcinfo, int i, int *len)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("churn: a column name is null")));
	Oid t = get_fn_expr_argtype(fcinfo->flinfo, i);
	if (t == UNKNOWNOID || t == CSTRINGOID) {
		const char *k = DatumGetCString(PG_GETARG_DATUM(i));
		*len = (int)strlen(k);
		return k;
	}
	if (t == TEXTOID || t == VARCHAROID) {
		text *tx = PG_GETARG_TEXT_PP(i);
		*len = (int)VARSIZE_ANY_EXHDR(tx);
		return VARDATA_ANY(tx);
	}
	ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("churn: argument %d must be a column name (text)", i + 1)));
}

/* Whether the name argument i names a field of the model: then value argument i + 1 is read into it. */
static bool map_name(FunctionCallInfo fcinfo, call_site *cs, int i)
{
	int len;
	const char *k = name_arg(fcinfo, i, &len);
	size_t field = key_field(fcinfo, cs, i / 2, k, len);
	if (field == (size_t)-1)
		return false;
	cs->argmap[i + 1].field = field;
	return true;
}

/* The value arguments' types, once per call site; with constant names, the fields they name too. */
static void map_args(FunctionCallInfo fcinfo, call_site *cs)
{
	int n = PG_NARGS();
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	cs->argmap = palloc0(sizeof(attr_map) * n);
	cs->fixed_args = palloc(sizeof(int) * (n / 2 + 1));
	cs->nfixed = 0;
	cs->names_fixed = true;
	for (int i = 2; i < n; i += 2) {
		Oid t = get_fn_expr_argtype(fcinfo->flinfo, i);
		cs->argmap[i].conv = conv_of(t);
		if (cs->argmap[i].conv == CONV_OTHER) {
			Oid outfn;
			bool varlena;
			getTypeOutputInfo(t, &outfn, &varlena);
			fmgr_info_cxt(outfn, &cs->argmap[i].out, fcinfo->flinfo->fn_mcxt);
		}
		cs->names_fixed = cs->names_fixed && get_fn_expr_arg_stable(fcinfo->flinfo, i - 1);
	}
	MemoryContextSwitchTo(old);
	if (cs->names_fixed) {
		for (int i = 1; i < n; i += 2)
			if (map_name(fcinfo, cs, i))
				cs->fixed_args[cs->nfixed++] = i + 1;
		if (!cs->nfixed && n > 1)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("churn: none of the row's %d columns is a column of the model", (n - 1) / 2),
			                errhint("Name the columns as the model's (case does not matter), e.g. SELECT ... AS "
			                        "tenure.")));
	}
	cs->nargs = n;
}

static void fill_value(FunctionCallInfo fcinfo, call_site *cs, int i)
{
	const attr_map *m = &cs->argmap[i];
	churn_status st = PG_ARGISNULL(i) ? churn_record_set_missing(cs->rec, m->field)
	                                  : set_attr(cs->rec, m, PG_GETARG_DATUM(i));
	if (st)
		fail_value(cs, m->field, st);
}

/*
 * Fill the call site's record from the (name, value) argument pairs after the
 * model. Each value is read by its own type, as a row's attribute (a NULL is
 * missing); names are matched as the jsonb form's keys (once per call site
 * when they are constants, else cached by position), names the model does
 * not know are ignored.
 */
static void fill_from_args(FunctionCallInfo fcinfo, call_site *cs)
{
	int n = PG_NARGS();
	if (n % 2 == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: the columns after the model come in pairs: 'name', value")));
	if (cs->nargs != n)
		map_args(fcinfo, cs);
	churn_record_clear(cs->rec);
	if (cs->names_fixed) {
		for (int j = 0; j < cs->nfixed; j++)
			fill_value(fcinfo, cs, cs->fixed_args[j]);
		return;
	}
	for (int i = 1; i < n; i += 2)
		if (map_name(fcinfo, cs, i))
			fill_value(fcinfo, cs, i + 1);
}

/* ---- scoring ---- */

static call_site *filled_pin(FunctionCallInfo fcinfo, bool row, bool need_pin)
{
	call_site *cs = call_site_get(fcinfo, PG_GETARG_TEXT_PP(0), need_pin);
	if (row)
		fill_from_row(fcinfo, cs, 1);
	else
		fill_from_jsonb(fcinfo, cs, PG_GETARG_JSONB_P(1));
	return cs;
}

static call_site *filled(FunctionCallInfo fcinfo, bool row)
{
	return filled_pin(fcinfo, row, false);
}

static double score(call_site *cs, size_t top_k, bool *churn)
{
	double p;
	if (churn_record_score(cs->rec, top_k, &p, churn) != CHURN_OK)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("churn: %s", churn_last_error())));
	return p;
}

/* The library's answer for one customer (churn_record_explain_json: the writer of /api/predict), as jsonb. */
static Datum explain(call_site *cs, size_t top_k)
{
	bool churn;
	(void)score(cs, top_k, &churn);
	char *json = NULL;
	if (churn_record_explain_json(cs->rec, &json) != CHURN_OK)
		elog(ERROR, "churn: %s", churn_last_error());
	char *copy = pstrdup(json);
	churn_free(json);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(copy));
}

static size_t top_k_arg(FunctionCallInfo fcinfo)
{
	if (PG_NARGS() < 3)
		return EXPLAIN_TOP_K;
	int32 k = PG_GETARG_INT32(2);
	if (k < 0 || k > 1000)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("churn: top_k must be 0..1000")));
	return (size_t)k;
}

PG_FUNCTION_INFO_V1(churn_score_jsonb);
PG_FUNCTION_INFO_V1(churn_score_row);
PG_FUNCTION_INFO_V1(churn_label_jsonb);
PG_FUNCTION_INFO_V1(churn_label_row);
PG_FUNCTION_INFO_V1(churn_explain_jsonb);
PG_FUNCTION_INFO_V1(churn_explain_row);
PG_FUNCTION_INFO_V1(churn_check_artifact);
PG_FUNCTION_INFO_V1(churn_score_version_jsonb);
PG_FUNCTION_INFO_V1(churn_score_version_row);
PG_FUNCTION_INFO_V1(churn_label_version_jsonb);
PG_FUNCTION_INFO_V1(churn_label_version_row);
PG_FUNCTION_INFO_V1(churn_score_columns);
PG_FUNCTION_INFO_V1(churn_label_columns);

PG_FUNCTION_INFO_V1(churn_score_fields);
PG_FUNCTION_INFO_V1(churn_label_fields);
PG_FUNCTION_INFO_V1(churn_row_support);

/*
 * churn.score_columns / label_columns(model, VARIADIC "any"): not STRICT (a
 * NULL value is a missing one); NULL for a NULL model. A pinned version only
 * (IMMUTABLE); churn._score_fields / _label_fields (0.3) are the same for any
 * name (STABLE): the planner's form of churn.score / label of a whole row.
 */
static call_site *filled_columns(FunctionCallInfo fcinfo, bool need_pin)
{
	call_site *cs = call_site_get(fcinfo, PG_GETARG_TEXT_PP(0), need_pin);
	fill_from_args(fcinfo, cs);
	return cs;
}

static Datum score_columns(FunctionCallInfo fcinfo, bool need_pin)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(score(filled_columns(fcinfo, need_pin), 0, NULL));
}

static Datum label_columns(FunctionCallInfo fcinfo, bool need_pin)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	bool churn;
	score(filled_columns(fcinfo, need_pin), 0, &churn);
	PG_RETURN_BOOL(churn);
}

Datum churn_score_columns(PG_FUNCTION_ARGS)
{
	return score_columns(fcinfo, true);
}

Datum churn_label_columns(PG_FUNCTION_ARGS)
{
	return label_columns(fcinfo, true);
}

Datum churn_score_fields(PG_FUNCTION_ARGS)
{
	return score_columns(fcinfo, false);
}

Datum churn_label_fields(PG_FUNCTION_ARGS)
{
	return label_columns(fcinfo, false);
}

/* Whether a query's range table holds an outer join (whose nullable side may give a NULL row). */
static bool has_outer_join(const Query *q)
{
	ListCell *lc;
	foreach (lc, q->rtable) {
		const RangeTblEntry *rte = lfirst(lc);
		if (rte->rtekind == RTE_JOIN && rte->jointype != JOIN_INNER)
			return true;
	}
	return false;
}

/*
 * The planner support of churn.score / label (model, record) and of the
 * _version forms (0.3): a whole row of a table, churn.score('gbm', c), becomes
 * the column form, churn._score_fields('gbm', 'customerid', c.customerid,
 * 'tenure', c.tenure, ...) (score_columns for the _version forms), so that no
 * row value is built and taken apart again for each customer: the scan hands
 * over the columns it has already read. The same fields are read by the same
 * conversions, so the scores are the same. Only where the row cannot be NULL
 * (a table of this query level, and no outer join in the query: a NULL row
 * gives NULL, STRICT, where its columns would be scored as missing) and the
 * table has at most 49 columns (a function takes 100 arguments); any other
 * argument stays as it is.
 */
Datum churn_row_support(PG_FUNCTION_ARGS)
{
	Node *raw = (Node *)PG_GETARG_POINTER(0);
	if (!IsA(raw, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	SupportRequestSimplify *req = (SupportRequestSimplify *)raw;
	FuncExpr *call = req->fcall;
	PlannerInfo *root = req->root;
	if (!root || !root->parse || list_length(call->args) != 2)
		PG_RETURN_POINTER(NULL);
	Var *row = lsecond(call->args);
	if (!IsA(row, Var) || row->varattno != InvalidAttrNumber || row->varlevelsup != 0 ||
	    row->varno < 1 || row->varno > list_length(root->parse->rtable) || has_outer_join(root->parse))
		PG_RETURN_POINTER(NULL);
	RangeTblEntry *rte = rt_fetch(row->varno, root->parse->rtable);
	if (rte->rtekind != RTE_RELATION || !type_is_rowtype(row->vartype))
		PG_RETURN_POINTER(NULL);
	/* the form to call: churn._score_fields for churn.score, score_columns for score_version, ... */
	const char *fn = get_func_name(call->funcid);
	Oid nsp = get_func_namespace(call->funcid);
	if (!fn || !OidIsValid(nsp))
		PG_RETURN_POINTER(NULL);
	const char *target = !strcmp(fn, "score")           ? "_score_fields"
	                     : !strcmp(fn, "label")         ? "_label_fields"
	                     : !strcmp(fn, "score_version") ? "score_columns"
	                     : !strcmp(fn, "label_version") ? "label_columns"
	                                                    : NULL;
	Oid argtypes[2] = {TEXTOID, ANYOID};
	Oid target_oid = target ? LookupFuncName(list_make2(makeString(get_namespace_name(nsp)), makeString(pstrdup(target))),
	                                         2, argtypes, true)
	                        : InvalidOid;
	if (!OidIsValid(target_oid))
		PG_RETURN_POINTER(NULL);
	TupleDesc td = lookup_rowtype_tupdesc(row->vartype, row->vartypmod);
	int ncols = 0;
	for (int i = 0; i < td->natts; i++)
		ncols += !TupleDescAttr(td, i)->attisdropped;
	if (1 + 2 * ncols > FUNC_MAX_ARGS) { /* a function takes at most 100 arguments */
		ReleaseTupleDesc(td);
		PG_RETURN_POINTER(NULL);
	}
	List *args = list_make1(linitial(call->args));
	for (int i = 0; i < td->natts; i++) {
		Form_pg_attribute a = TupleDescAttr(td, i);
		if (a->attisdropped)
			continue;
		args = lappend(args, makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
		                               CStringGetTextDatum(NameStr(a->attname)), false, false));
		args = lappend(args, makeVar(row->varno, a->attnum, a->atttypid, a->atttypmod, a->attcollation, 0));
	}
	ReleaseTupleDesc(td);
	FuncExpr *f = makeFuncExpr(target_oid, call->funcresulttype, args, InvalidOid, call->inputcollid,
	                           COERCE_EXPLICIT_CALL);
	f->location = call->location;
	PG_RETURN_POINTER(f);
}

/* The IMMUTABLE forms (0.2): as churn.score / churn.label, of a pinned version only. */
Datum churn_score_version_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(score(filled_pin(fcinfo, false, true), 0, NULL));
}

Datum churn_score_version_row(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(score(filled_pin(fcinfo, true, true), 0, NULL));
}

Datum churn_label_version_jsonb(PG_FUNCTION_ARGS)
{
	bool churn;
	score(filled_pin(fcinfo, false, true), 0, &churn);
	PG_RETURN_BOOL(churn);
}

Datum churn_label_version_row(PG_FUNCTION_ARGS)
{
	bool churn;
	score(filled_pin(fcinfo, true, true), 0, &churn);
	PG_RETURN_BOOL(churn);
}

Datum churn_score_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(score(filled(fcinfo, false), 0, NULL));
}

Datum churn_score_row(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(score(filled(fcinfo, true), 0, NULL));
}

Datum churn_label_jsonb(PG_FUNCTION_ARGS)
{
	bool churn;
	score(filled(fcinfo, false), 0, &churn);
	PG_RETURN_BOOL(churn);
}

Datum churn_label_row(PG_FUNCTION_ARGS)
{
	bool churn;
	score(filled(fcinfo, true), 0, &churn);
	PG_RETURN_BOOL(churn);
}

Datum churn_explain_jsonb(PG_FUNCTION_ARGS)
{
	return explain(filled(fcinfo, false), top_k_arg(fcinfo));
}

Datum churn_explain_row(PG_FUNCTION_ARGS)
{
	return explain(filled(fcinfo, true), top_k_arg(fcinfo));
}

/* churn._float8(numeric) (0.3): a numeric as the scoring functions read it (NaN: NULL, missing); for tests. */
PG_FUNCTION_INFO_V1(churn_numeric_float8);
Datum churn_numeric_float8(PG_FUNCTION_ARGS)
{
	double x;
	if (!numeric_value(PG_GETARG_DATUM(0), &x))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(x);
}

/* churn._check_artifact(jsonb): the artifact loads as a scorer (ERROR with the reason otherwise). */
Datum churn_check_artifact(PG_FUNCTION_ARGS)
{
	Jsonb *jb = PG_GETARG_JSONB_P(0);
	char *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	churn_scorer *s = NULL;
	if (churn_scorer_from_buffer(text, strlen(text), &s) != CHURN_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("churn: not a model artifact: %s", churn_last_error())));
	churn_scorer_free(s);
	pfree(text);
	PG_RETURN_VOID();
}
