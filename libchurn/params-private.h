/* Internal helpers around churn_params. */
#ifndef CH_PARAMS_PRIVATE_H
#define CH_PARAMS_PRIVATE_H

#include <stdarg.h>

#include "churn/params.h"

/* Emit one log line through p's callback (no-op when p is NULL or no callback). */
void ch_log(const churn_params *p, churn_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report progress; returns false when the caller asked to cancel. p may be NULL. */
bool ch_progress(const churn_params *p, const char *what, uint64_t done, uint64_t total);

/* The log callback installed on p (fn NULL when none). */
void ch_params_get_log(const churn_params *p, churn_log_fn *fn, void **userdata, churn_log_level *max_level);

#endif
