/*
 * churn_params: typed options for every module, plus the per-call log and
 * progress callbacks.
 *
 * Keys are namespaced by module ("csv.max_field_bytes", "gbm.n_trees") and named
 * in code by the identifiers of churn/param-keys.h (CHURN_KEY_GBM_N_TREES). Every
 * key has a type, a default and a valid range; setting an unknown key or an
 * out-of-range value fails with CHURN_E_INVALID_ARG. churn_params_set_str()
 * parses the value by the key's type, so CLI flags and HTTP/JSON options go
 * through one path. `churn config` lists all keys with churn_params_to_json().
 *
 * Thread safety: setters need exclusive access; getters are safe on a const
 * object shared between threads.
 */
#ifndef CHURN_PARAMS_H
#define CHURN_PARAMS_H

#include "churn/common.h"
#include "churn/param-keys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct churn_params churn_params;

/** Key types. @since 0.1 */
typedef enum churn_param_type {
	CHURN_PARAM_INT = 0,
	CHURN_PARAM_DOUBLE = 1,
	CHURN_PARAM_BOOL = 2,
	CHURN_PARAM_STR = 3
} churn_param_type;

/** New params holding every default. *out is written only on success. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_params_new(churn_params **out);
/** Deep copy (callbacks included). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_params_copy(const churn_params *p, churn_params **out);
/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_params_free(churn_params *p);

/** Typed setters; CHURN_E_INVALID_ARG on unknown key, wrong type or out of range. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_params_set_int(churn_params *p, const char *key, int64_t v);
CHURN_API CHURN_NODISCARD churn_status churn_params_set_double(churn_params *p, const char *key, double v);
CHURN_API CHURN_NODISCARD churn_status churn_params_set_bool(churn_params *p, const char *key, bool v);
/** Any key from text ("100", "0.1", "true"/"false", "yes"/"no"); locale-independent. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_params_set_str(churn_params *p, const char *key, const char *v);

/**
 * Typed getters. With @p p NULL, the registry's default of the key (the one
 * place a default lives). An unknown key, or one of another type, reads
 * 0/false/"". Safe from any thread on a params no one is changing. @since 0.1
 */
CHURN_API int64_t churn_params_get_int(const churn_params *p, const char *key);
CHURN_API double churn_params_get_double(const churn_params *p, const char *key);
CHURN_API bool churn_params_get_bool(const churn_params *p, const char *key);
/** Borrowed; lives until the key is set again or @p p is freed. Never NULL for a STR key. @since 0.1 */
CHURN_API const char *churn_params_get_str(const churn_params *p, const char *key);
/** True when the key was set explicitly (not left at its default). @since 0.1 */
CHURN_API bool churn_params_is_set(const churn_params *p, const char *key);

/** Whether @p key exists; *out_type receives its type when non-NULL. @since 0.1 */
CHURN_API bool churn_params_has_key(const char *key, churn_param_type *out_type);

/**
 * All keys and their current values as a JSON object keyed by name, in the
 * registry's order; a secret (a key ending in "_secret", such as
 * alerts.webhook_secret) shows "***" when set, never its value. Free with
 * churn_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_params_to_json(const churn_params *p, char **out_json);

/**
 * Apply a flat JSON object of key: value pairs (numbers, booleans, strings)
 * to @p p. Nested objects are flattened with "." ("gbm": {"n_trees": 50} sets
 * "gbm.n_trees"). Unknown keys fail with CHURN_E_INVALID_ARG naming the key.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_params_apply_json(churn_params *p, const char *json);

/** Route log lines of calls given @p p; fn NULL disables. @since 0.1 */
CHURN_API void churn_params_set_log(churn_params *p, churn_log_fn fn, void *userdata, churn_log_level max_level);
/** Progress reports of long calls given @p p; fn NULL disables. @since 0.1 */
CHURN_API void churn_params_set_progress(churn_params *p, churn_progress_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PARAMS_H */
