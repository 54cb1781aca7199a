/*
 * Internal drift helpers (ch_ prefix, never exported). The drift module's
 * files, one concern each:
 *   drift.c           the reference profile of a model's training rows (churn_drift_reference_compute)
 *   drift-stats.c     PSI, the chi-square test of homogeneity, Wilson intervals
 *   drift-compare.c   a data set against a reference: reports/drift.json's body (churn_drift_compare)
 *   pipeline-drift.c  the pipelines' part: the serving model, history, figure, performance on new rows
 */
#ifndef CH_DRIFT_PRIVATE_H
#define CH_DRIFT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/drift.h"
#include "churn/params.h"
#include "churn/prep.h"

/* The reference document's format name and version (a newer version is not compared). */
#define CH_DRIFT_REF_FORMAT "churn-drift-reference"
#define CH_DRIFT_REF_VERSION 1

/*
 * A proportion under this counts as this in PSI, so that an empty bin on
 * either side adds a large but finite term (the usual 1e-4 of scorecard
 * practice): PSI = sum (a - e) ln(a / e), a and e floored at CH_DRIFT_PSI_EPS.
 */
#define CH_DRIFT_PSI_EPS 1e-4

/* PSI of the k bins with counts @p ref and @p cur (each side normalised by its own total); NaN when a side is empty. */
double ch_drift_psi(const double *ref, const double *cur, size_t k);

/*
 * Chi-square test of homogeneity of the 2 x k table (@p ref, @p cur): bins
 * empty on both sides are left out; *out_df = bins kept - 1. NaN statistic
 * and p-value when a side is empty or fewer than two bins are kept.
 */
void ch_drift_chisq(const double *ref, const double *cur, size_t k, double *out_stat, double *out_df,
                    double *out_p);

/* 95% Wilson score interval of k successes in n (NaN, NaN when n is 0). */
void ch_drift_wilson(size_t k, size_t n, double *out_lo, double *out_hi);

/* Add number @p v to @p o as @p key, null when not finite (printed by ch_json_print, shortest round trip). */
bool ch_drift_add_number(cJSON *o, const char *key, double v);

/* Index of the bin of @p v for inner edges e[0..ne): the first i with v <= e[i], else ne. */
size_t ch_drift_bin(const double *e, size_t ne, double v);

/*
 * The reference profile of rows[0..n) of @p ds (NULL rows: all n rows), the
 * target, positive label and ID columns taken from @p prep (fitted on those
 * rows). Statuses: CHURN_E_NOMEM; ch_target_fit's CHURN_E_PARSE.
 */
churn_status ch_drift_reference(const churn_dataset *ds, const size_t *rows, size_t n, const churn_prep *prep,
                                const churn_params *p, cJSON **out);

/* The comparison of @p ds with reference @p ref (NULL: the "no_reference" document). CHURN_E_NOMEM, CHURN_E_FORMAT. */
churn_status ch_drift_compare(const cJSON *ref, const churn_dataset *ds, const churn_params *p, cJSON **out);

/*
 * The serving model of workdir @p wd: its name and artifact path relative to
 * the workdir (malloc'd). The one place that decides it: the model
 * registry's champion (a workdir from before the registry: the best model of
 * reports/metrics.json). CHURN_E_NOTFOUND (no model yet), CHURN_E_NOMEM, the
 * registry's errors.
 */
churn_status ch_drift_serving_model(const char *wd, char **out_name, char **out_rel);

#endif
