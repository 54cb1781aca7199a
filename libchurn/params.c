/* churn_params: the key registry, typed values and callbacks. */
#include "churn/params.h"

#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "params-private.h"

struct ch_param_def {
	const char *key;
	churn_param_type type;
	const char *def;
	double min, max;
	const char *help;
};

#define INT CHURN_PARAM_INT
#define DOUBLE CHURN_PARAM_DOUBLE
#define BOOL CHURN_PARAM_BOOL
#define STR CHURN_PARAM_STR
#define CH_PARAM(k, t, d, lo, hi, h) {k, t, d, (double)(lo), (double)(hi), h},
static const struct ch_param_def defs[] = {
#include "params-keys.def"
};
#undef CH_PARAM
#undef INT
#undef DOUBLE
#undef BOOL
#undef STR

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

struct ch_param_val {
	int64_t i;
	double d;
	bool b;
	char *s;
	bool set;
};

struct churn_params {
	struct ch_param_val v[NDEFS];
	churn_log_fn log_fn;
	void *log_ud;
	churn_log_level log_max;
	churn_progress_fn progress_fn;
	void *progress_ud;
};

static int find_def(const char *key)
{
	if (!key)
		return -1;
	for (size_t i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].key, key) == 0)
			return (int)i;
	return -1;
}

bool churn_params_has_key(const char *key, churn_param_type *out_type)
{
	int i = find_def(key);
	if (i < 0)
		return false;
	if (out_type)
		*out_type = defs[i].type;
	return true;
}

static churn_status check_range(int i, double v)
{
	if (!(v >= defs[i].min && v <= defs[i].max))
		return ch_fail(CHURN_E_INVALID_ARG, "option %s: value %.17g is outside [%.17g, %.17g]",
		               defs[i].key, v, defs[i].min, defs[i].max);
	return CHURN_OK;
}

static churn_status parse_into(const struct ch_param_def *d, int i, struct ch_param_val *val, const char *text)
{
	switch (d->type) {
	case CHURN_PARAM_INT: {
		int64_t x;
		if (!ch_parse_int64(text, &x))
			return ch_fail(CHURN_E_INVALID_ARG, "option %s: '%s' is not an integer", d->key, text);
		churn_status st = check_range(i, (double)x);
		if (st)
			return st;
		val->i = x;
		break;
	}
	case CHURN_PARAM_DOUBLE: {
		double x;
		if (!ch_parse_double(text, strlen(text), &x) || !isfinite(x))
			return ch_fail(CHURN_E_INVALID_ARG, "option %s: '%s' is not a finite number", d->key, text);
		churn_status st = check_range(i, x);
		if (st)
			return st;
		val->d = x;
		break;
	}
	case CHURN_PARAM_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1") || !strcmp(text, "on"))
			val->b = true;
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0") || !strcmp(text, "off"))
			val->b = false;
		else
			return ch_fail(CHURN_E_INVALID_ARG, "option %s: '%s' is not a boolean (true/false)", d->key, text);
		break;
	case CHURN_PARAM_STR: {
		char *s = ch_strdup(text);
		if (!s)
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		free(val->s);
		val->s = s;
		break;
	}
	}
	return CHURN_OK;
}

churn_status churn_params_new(churn_params **out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_params_new: out is NULL");
	churn_params *p = calloc(1, sizeof(*p));
	if (!p)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < NDEFS; i++) {
		churn_status st = parse_into(&defs[i], (int)i, &p->v[i], defs[i].def);
		if (st) {
			churn_params_free(p);
			return ch_fail(CHURN_E_INTERNAL, "bad default for option %s", defs[i].key);
		}
	}
	p->log_max = CHURN_LOG_INFO;
	*out = p;
	return CHURN_OK;
}

churn_status churn_params_copy(const churn_params *src, churn_params **out)
{
	if (!src || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_params_copy: NULL argument");
	churn_params *p = malloc(sizeof(*p));
	if (!p)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*p = *src;
	for (size_t i = 0; i < NDEFS; i++)
		p->v[i].s = NULL;
	for (size_t i = 0; i < NDEFS; i++) {
		if (src->v[i].s && !(p->v[i].s = ch_strdup(src->v[i].s))) {
			churn_params_free(p);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	}
	*out = p;
	return CHURN_OK;
}

void churn_params_free(churn_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < NDEFS; i++)
		free(p->v[i].s);
	free(p);
}

static churn_status lookup(const churn_params *p, const char *key, churn_param_type want, int *out_i)
{
	if (!p)
		return ch_fail(CHURN_E_INVALID_ARG, "params is NULL");
	int i = find_def(key);
	if (i < 0)
		return ch_fail(CHURN_E_INVALID_ARG, "unknown option '%s'", key ? key : "(null)");
	if (defs[i].type != want)
		return ch_fail(CHURN_E_INVALID_ARG, "option %s has another type", key);
	*out_i = i;
	return CHURN_OK;
}

churn_status churn_params_set_int(churn_params *p, const char *key, int64_t v)
{
	int i;
	churn_status st = lookup(p, key, CHURN_PARAM_INT, &i);
	if (st)
		return st;
	if ((st = check_range(i, (double)v)))
		return st;
	p->v[i].i = v;
	p->v[i].set = true;
	return CHURN_OK;
}

churn_status churn_params_set_double(churn_params *p, const char *key, double v)
{
	int i;
	churn_status st = lookup(p, key, CHURN_PARAM_DOUBLE, &i);
	if (st)
		return st;
	if ((st = check_range(i, v)))
		return st;
	p->v[i].d = v;
	p->v[i].set = true;
	return CHURN_OK;
}

churn_status churn_params_set_bool(churn_params *p, const char *key, bool v)
{
	int i;
	churn_status st = lookup(p, key, CHURN_PARAM_BOOL, &i);
	if (st)
		return st;
	p->v[i].b = v;
	p->v[i].set = true;
	return CHURN_OK;
}

churn_status churn_params_set_str(churn_params *p, const char *key, const char *v)
{
	if (!p || !v)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_params_set_str: NULL argument");
	int i = find_def(key);
	if (i < 0)
		return ch_fail(CHURN_E_INVALID_ARG, "unknown option '%s'", key ? key : "(null)");
	struct ch_param_val tmp = p->v[i];
	tmp.s = NULL;
	churn_status st = parse_into(&defs[i], i, &tmp, v);
	if (st)
		return st;
	if (defs[i].type == CHURN_PARAM_STR) {
		free(p->v[i].s);
	} else {
		tmp.s = p->v[i].s;
	}
	p->v[i] = tmp;
	p->v[i].set = true;
	return CHURN_OK;
}

/*
 * The registry's defaults, parsed once: what a getter given no params
 * answers, so that a default lives in params-keys.def and nowhere else.
 */
static struct ch_param_val defaults[NDEFS];
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void defaults_init(void)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (parse_into(&defs[i], (int)i, &defaults[i], defs[i].def) != CHURN_OK)
			memset(&defaults[i], 0, sizeof(defaults[i])); /* tests/test-core.c checks every default parses */
	ch_clear_error();
}

/* The value of key i: p's, or the registry default when p is NULL. */
static const struct ch_param_val *value_of(const churn_params *p, int i)
{
	if (p)
		return &p->v[i];
	pthread_once(&defaults_once, defaults_init);
	return &defaults[i];
}

int64_t churn_params_get_int(const churn_params *p, const char *key)
{
	int i = find_def(key);
	return (i >= 0 && defs[i].type == CHURN_PARAM_INT) ? value_of(p, i)->i : 0;
}

double churn_params_get_double(const churn_params *p, const char *key)
{
	int i = find_def(key);
	return (i >= 0 && defs[i].type == CHURN_PARAM_DOUBLE) ? value_of(p, i)->d : 0.0;
}

bool churn_params_get_bool(const churn_params *p, const char *key)
{
	int i = find_def(key);
	return (i >= 0 && defs[i].type == CHURN_PARAM_BOOL) ? value_of(p, i)->b : false;
}

const char *churn_params_get_str(const churn_params *p, const char *key)
{
	int i = find_def(key);
	if (i >= 0 && defs[i].type == CHURN_PARAM_STR && value_of(p, i)->s)
		return value_of(p, i)->s;
	return "";
}

bool churn_params_is_set(const churn_params *p, const char *key)
{
	int i = find_def(key);
	return p && i >= 0 && p->v[i].set;
}

/* A string value as listed: a secret (a key ending in "_secret") is "***" when set, never its text. */
static const char *shown_str(size_t i, const char *s)
{
	size_t n = strlen(defs[i].key);
	if (s && s[0] && n > 7 && !strcmp(defs[i].key + n - 7, "_secret"))
		return "***";
	return s ? s : "";
}

churn_status churn_params_to_json(const churn_params *p, char **out_json)
{
	if (!p || !out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_params_to_json: NULL argument");
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < NDEFS; i++) {
		cJSON *item = NULL;
		switch (defs[i].type) {
		case CHURN_PARAM_INT: item = cJSON_CreateNumber((double)p->v[i].i); break;
		case CHURN_PARAM_DOUBLE: item = cJSON_CreateNumber(p->v[i].d); break;
		case CHURN_PARAM_BOOL: item = cJSON_CreateBool(p->v[i].b); break;
		case CHURN_PARAM_STR: item = cJSON_CreateString(shown_str(i, p->v[i].s)); break;
		}
		if (!item || !cJSON_AddItemToObject(o, defs[i].key, item)) {
			cJSON_Delete(item);
			cJSON_Delete(o);
			return ch_fail(CHURN_E_NOMEM, "out of memory");
		}
	}
	char *s = ch_json_print(o, true);
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out_json = s;
	return CHURN_OK;
}

static churn_status apply_obj(churn_params *p, const cJSON *o, const char *prefix)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		char key[256];
		int n = prefix[0] ? snprintf(key, sizeof(key), "%s.%s", prefix, it->string)
		                  : snprintf(key, sizeof(key), "%s", it->string);
		if (n < 0 || (size_t)n >= sizeof(key))
			return ch_fail(CHURN_E_INVALID_ARG, "option name too long");
		churn_status st;
		if (cJSON_IsObject(it)) {
			st = apply_obj(p, it, key);
		} else if (cJSON_IsString(it)) {
			st = churn_params_set_str(p, key, it->valuestring);
		} else if (cJSON_IsBool(it)) {
			st = churn_params_set_str(p, key, cJSON_IsTrue(it) ? "true" : "false");
		} else if (cJSON_IsNumber(it)) {
			char buf[64];
			ch_format_double(buf, sizeof(buf), it->valuedouble);
			st = churn_params_set_str(p, key, buf);
		} else {
			st = ch_fail(CHURN_E_INVALID_ARG, "option %s: unsupported JSON value", key);
		}
		if (st)
			return st;
	}
	return CHURN_OK;
}

churn_status churn_params_apply_json(churn_params *p, const char *json)
{
	if (!p || !json)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_params_apply_json: NULL argument");
	churn_status sst = CHURN_OK;
	cJSON *o = ch_json_parse(json, strlen(json), "configuration", &sst);
	if (sst)
		return sst;
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ch_fail(CHURN_E_PARSE, "configuration is not a JSON object");
	}
	churn_status st = apply_obj(p, o, "");
	cJSON_Delete(o);
	return st;
}

void churn_params_set_log(churn_params *p, churn_log_fn fn, void *userdata, churn_log_level max_level)
{
	if (!p)
		return;
	p->log_fn = fn;
	p->log_ud = userdata;
	p->log_max = max_level;
}

void churn_params_set_progress(churn_params *p, churn_progress_fn fn, void *userdata)
{
	if (!p)
		return;
	p->progress_fn = fn;
	p->progress_ud = userdata;
}

void ch_params_get_log(const churn_params *p, churn_log_fn *fn, void **userdata, churn_log_level *max_level)
{
	*fn = p ? p->log_fn : NULL;
	*userdata = p ? p->log_ud : NULL;
	*max_level = p ? p->log_max : CHURN_LOG_ERROR;
}

void ch_log(const churn_params *p, churn_log_level level, const char *fmt, ...)
{
	if (!p || !p->log_fn || level > p->log_max)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->log_fn(p->log_ud, level, buf);
}

bool ch_progress(const churn_params *p, const char *what, uint64_t done, uint64_t total)
{
	if (!p || !p->progress_fn)
		return true;
	return p->progress_fn(p->progress_ud, what, done, total);
}
