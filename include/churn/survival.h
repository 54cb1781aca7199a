/*
 * churn/survival.h: the Cox proportional-hazards model and survival metrics.
 *
 * A churn_cox is fitted on a design matrix (the prepared features, one row
 * per customer), a time per row (tenure, in months) and an event flag per row
 * (1: churned at that time, 0: still a customer, censored). The fit is R's
 * survival::coxph(ties = "efron"): Efron's approximation for tied times,
 * Newton-Raphson from zero with step halving, stopping when the relative
 * change of the log partial likelihood is at most cox.tol (1e-9) within
 * cox.max_iter (20) iterations; optional ridge penalty cox.ridge (theta: the
 * fit maximizes loglik - theta/2 sum beta^2, as coxph's ridge(theta, scale =
 * FALSE)). Columns that are linear combinations of earlier columns (a full
 * set of one-hot levels, a constant) are aliased, as coxph's NA
 * coefficients: left out of the fit, coefficient 0, churn_cox_is_aliased().
 *
 * Covariates are centered as coxph centers them (column means; 0/1 columns
 * at 0). The baseline cumulative hazard is the Efron-adjusted Breslow
 * estimator at the centered covariates, the hazard R's survfit(fit) and
 * basehaz(fit, centered = TRUE) give for an Efron fit (each tied event time
 * with d events adds sum_{l<d} 1 / (S0 - l/d S0_events)); it is a step
 * function of the distinct event times and stays flat after the last one.
 *
 * Thread safety: a fitted churn_cox is read-only; every call taking it as
 * const is safe on one model shared between threads. The free functions
 * (concordance, Brier score, time leaks) keep no state.
 */
#ifndef CHURN_SURVIVAL_H
#define CHURN_SURVIVAL_H

#include "churn/common.h"
#include "churn/params.h"
#include "churn/dataset.h"
#include "churn/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fitted Cox proportional-hazards model (opaque). @since 0.1 */
typedef struct churn_cox churn_cox;

/**
 * Fit a Cox model on the rows of @p x with @p time[i] >= 0 and @p event[i]
 * in {0, 1} (n = rows of x). Options (@p p may be NULL: defaults): cox.ridge,
 * cox.max_iter, cox.tol, cox.n_threads (the fit does not depend on it).
 * *out is written only on success; free with churn_cox_free().
 * Statuses: CHURN_E_INVALID_ARG (NULL arguments, n different from the rows
 * of x, no rows or no columns, an event other than 0/1),
 * CHURN_E_NUMERIC (a NaN or infinite value in x or time, a negative time,
 * no events, every column aliased (singular design), an information matrix
 * that is not positive definite, or no convergence: coefficients growing
 * without bound, as when a column separates events perfectly),
 * CHURN_E_NOMEM. Not reaching cox.tol within cox.max_iter is not an error:
 * see churn_cox_is_converged(). Safe from several threads on distinct
 * outputs. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_fit(const churn_matrix *x, const double *time, const uint8_t *event,
                                                     size_t n, const churn_params *p, churn_cox **out);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_cox_free(churn_cox *m);

/** Number of features (columns of the design the model was fitted on). @since 0.1 */
CHURN_API size_t churn_cox_get_feature_count(const churn_cox *m);
/** Feature name j (borrowed); NULL when out of range. @since 0.1 */
CHURN_API const char *churn_cox_get_feature_name(const churn_cox *m, size_t j);
/** Coefficient j (log hazard ratio per unit); 0 for an aliased column or j out of range. @since 0.1 */
CHURN_API double churn_cox_get_coef(const churn_cox *m, size_t j);
/**
 * Standard error of coefficient j: the square root of the diagonal of the
 * inverse (penalized) information matrix at the fitted coefficients; 0 for
 * an aliased column or j out of range. @since 0.1
 */
CHURN_API double churn_cox_get_se(const churn_cox *m, size_t j);
/** True when column j was left out as a linear combination of earlier columns. @since 0.1 */
CHURN_API bool churn_cox_is_aliased(const churn_cox *m, size_t j);
/** Centering value of column j (its mean, or 0 for a 0/1 column); 0 out of range. @since 0.1 */
CHURN_API double churn_cox_get_center(const churn_cox *m, size_t j);
/** Log partial likelihood (without the penalty) at zero and at the fitted coefficients. @since 0.1 */
CHURN_API double churn_cox_get_loglik_null(const churn_cox *m);
CHURN_API double churn_cox_get_loglik(const churn_cox *m);
/** Newton iterations done, and whether cox.tol was reached. @since 0.1 */
CHURN_API int churn_cox_get_iterations(const churn_cox *m);
CHURN_API bool churn_cox_is_converged(const churn_cox *m);
/** Rows fitted and events among them. @since 0.1 */
CHURN_API size_t churn_cox_get_row_count(const churn_cox *m);
CHURN_API size_t churn_cox_get_event_count(const churn_cox *m);

/** Number of steps of the baseline hazard (distinct event times). @since 0.1 */
CHURN_API size_t churn_cox_get_baseline_count(const churn_cox *m);
/**
 * Step k of the baseline: its time and the cumulative hazard at the
 * centered covariates just after it. CHURN_E_INVALID_ARG when k is out of
 * range or an out pointer is NULL. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_get_baseline(const churn_cox *m, size_t k, double *out_time,
                                                              double *out_hazard);

/**
 * Linear predictors (x - center) . beta of every row of @p x (as R's
 * predict(fit, type = "lp")) into out[0..rows). CHURN_E_INVALID_ARG (NULL,
 * column count different from the model's, @p cap below the rows: *out_n is
 * then the rows needed), CHURN_E_NUMERIC (a NaN or infinite value). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_linear_predictor(const churn_cox *m, const churn_matrix *x,
                                                                  double *out, size_t cap, size_t *out_n);

/**
 * Survival of a customer with features @p row (@p ncols of them) who has
 * reached time @p t0 >= 0, at each of times[0..nt): S(t | T > t0) =
 * S(t) / S(t0) for t > t0 and 1 for t <= t0. CHURN_E_INVALID_ARG (NULL,
 * wrong ncols, negative or non-finite t0 or time), CHURN_E_NUMERIC (a NaN
 * or infinite feature). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_conditional_survival(const churn_cox *m, const double *row,
                                                                      size_t ncols, double t0, const double *times,
                                                                      size_t nt, double *out);

/**
 * Remaining time of each row of @p x given the time t0[i] it has reached:
 * out_median[i] = the first baseline time t with S(t | T > t0) <= 0.5, minus
 * t0, when t - t0 <= @p horizon, else NaN with out_beyond[i] true ("beyond
 * the horizon"); out_rmst[i] = the restricted mean remaining time, the
 * integral of S(t | T > t0) over (t0, t0 + horizon] (at most @p horizon).
 * Any out array may be NULL; each has room for the rows of x. @p horizon
 * <= 0 means cox.horizon's default, 24. CHURN_E_INVALID_ARG (NULL, wrong
 * columns, a negative or non-finite t0 or horizon), CHURN_E_NUMERIC (a NaN
 * or infinite feature). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_remaining(const churn_cox *m, const churn_matrix *x,
                                                           const double *t0, double horizon, double *out_median,
                                                           bool *out_beyond, double *out_rmst);

/**
 * Integrated Brier score of the model on rows of @p x with their @p time and
 * @p event (n rows), with inverse probability of censoring weights (Graf et
 * al. 1999): at a time t,
 *   BS(t) = 1/n sum_i [ S_i(t)^2 1(T_i <= t, event_i) / G(T_i-)
 *                     + (1 - S_i(t))^2 1(T_i > t) / G(t) ]
 * where S_i is the model's survival of row i and G the Kaplan-Meier
 * estimate of the censoring distribution (censorings as events, an event
 * tied with a censoring comes first). BS is evaluated at the distinct
 * observed times t_1 < ... < t_m of these rows with G(t) > 0, leaving out
 * the largest observed time, and integrated with the trapezoid rule divided
 * by t_m - t_1 (m >= 2). Lower is better; 0.25 is a constant S = 0.5.
 * Statuses: as churn_cox_fit()'s checks of the data; CHURN_E_NUMERIC also
 * when fewer than two times qualify. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_integrated_brier(const churn_cox *m, const churn_matrix *x,
                                                                  const double *time, const uint8_t *event,
                                                                  size_t n, double *out_ibs);

/**
 * Harrell's concordance index of risk scores @p risk (higher: earlier
 * event, e.g. the linear predictor) as R's concordance(fit): a pair is
 * comparable when the earlier time is an event (a censoring at the same
 * time as an event counts as later; two events at the same time are not
 * comparable); C = (concordant + tied risk / 2) / comparable. Optional
 * counts (NULL to skip) of concordant, discordant and tied-risk pairs.
 * O(n log n). Statuses: CHURN_E_INVALID_ARG (NULL arrays, n = 0, an event
 * other than 0/1), CHURN_E_NUMERIC (NaN/Inf or a negative time, NaN/Inf
 * risk, no comparable pair), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_survival_concordance(const double *time, const uint8_t *event,
                                                                  const double *risk, size_t n, double *out_c,
                                                                  double *out_concordant, double *out_discordant,
                                                                  double *out_tied);

/**
 * Numeric columns of @p ds that are a function of the time column
 * @p time_col and would leak the duration into a survival model: a Pearson
 * correlation with the time of |r| >= 0.8, or a ratio column / time whose
 * coefficient of variation is below 0.1, or a ratio column / time that
 * follows another numeric column (|r| >= 0.95: the column is the time times
 * that one, as TotalCharges = tenure x MonthlyCharges; the first 64 other
 * numeric columns are tried), over rows where the values are present and
 * the time is positive. The time column itself is not listed. Indices
 * of the columns into *out_cols (free with churn_free(); NULL when none),
 * count in *out_n. Statuses: CHURN_E_INVALID_ARG (NULL), CHURN_E_NOTFOUND
 * (no such column), CHURN_E_PARSE (the time column is not numeric),
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_survival_find_time_leaks(const churn_dataset *ds, const char *time_col,
                                                                      size_t **out_cols, size_t *out_n);

/**
 * The model as JSON ({"format": "churn-cox", "version": 1, "features",
 * "coef", "se", "aliased", "center", "loglik", "loglik_null", "iterations",
 * "converged", "rows", "events", "ridge", "baseline": {"time", "hazard"}}),
 * numbers round-trip exactly. Free *out_json with churn_free().
 * Statuses: CHURN_E_INVALID_ARG, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_to_json(const churn_cox *m, char **out_json);

/**
 * Load a model written by churn_cox_to_json(). Statuses: CHURN_E_INVALID_ARG
 * (NULL), CHURN_E_PARSE (malformed JSON, too deep, invalid UTF-8),
 * CHURN_E_FORMAT (another format, a newer version, missing or inconsistent
 * fields, non-finite numbers), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_cox_from_json(const char *json, churn_cox **out);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SURVIVAL_H */
