/*
 * churn/retention.h: customer value and the retention list.
 *
 * churn_train() makes one when pipeline.models lists cox and the data has a
 * monthly charge column (retention.charges_col; without one, a note and no
 * list, or an error with retention.missing_charges = error). For each
 * current customer (target negative: not churned) with a time (the Cox
 * model's time column: months so far):
 *
 *   months remaining   the median remaining time given the months reached
 *                      (S(t | T > t0) <= 0.5), or beyond the horizon
 *                      (cox.horizon, 24);
 *   expected value     charge x the restricted mean remaining months over the
 *                      horizon: the integral of S(t0 + u | T > t0) (1 + r)^-u
 *                      for u in (0, horizon], r = retention.discount_rate;
 *   expected loss      charge x the integral of (1 + r)^-u over the horizon
 *                      (what a customer who stays the whole horizon brings)
 *                      minus the expected value;
 *   expected profit    of contacting the customer: retention.offer_success x
 *                      expected loss - retention.offer_cost (the offer keeps
 *                      a would-be leaver with that chance, and the loss is
 *                      what leaving costs over the horizon);
 *   churn probability  the best classifier's P(churn) (in-sample for the
 *                      training rows, as revenue at risk), or the Cox
 *                      model's probability of leaving within a month when
 *                      no classifier was trained.
 *
 * The list is sorted by expected profit (highest first; ties by row). The
 * profit curve is the sum of the expected profits of the first k customers,
 * k = 0..n; the best budget is its peak (the smallest k of equal maxima);
 * the same curve over the customers ranked by churn probability alone
 * compares the two rankings.
 *
 * Thread safety: a churn_retention is read-only once made; its getters may
 * be called from several threads. churn_retention_profit_curve keeps no
 * state.
 */
#ifndef CHURN_RETENTION_H
#define CHURN_RETENTION_H

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Customers in reports/retention.json (the most /api/retention?limit=N returns). @since 0.1 */
#define CHURN_RETENTION_JSON_MAX 1000

/** A retention list (opaque): made by churn_train(), see churn_training_get_retention(). @since 0.1 */
typedef struct churn_retention churn_retention;

/** The numbers of one customer of the list. @since 0.1 */
typedef enum churn_retention_field {
	CHURN_RETENTION_PROBABILITY = 0,  /* P(churn) */
	CHURN_RETENTION_MONTHS_REMAINING, /* median remaining months; NaN: beyond the horizon */
	CHURN_RETENTION_RMST,             /* restricted mean remaining months over the horizon (undiscounted) */
	CHURN_RETENTION_VALUE,            /* expected remaining value */
	CHURN_RETENTION_LOSS,             /* expected loss over the horizon */
	CHURN_RETENTION_PROFIT,           /* expected profit of contact */
	CHURN_RETENTION_CHARGE,           /* monthly charge */
	CHURN_RETENTION_TIME              /* months as a customer so far */
} churn_retention_field;

/** Which ranking a profit curve follows. @since 0.1 */
typedef enum churn_retention_ranking {
	CHURN_RETENTION_BY_PROFIT = 0,    /* expected profit of contact, highest first (the list's order) */
	CHURN_RETENTION_BY_PROBABILITY    /* churn probability alone, highest first */
} churn_retention_ranking;

/**
 * The expected profit curve of @p n customers with expected profits
 * @p profit ranked by @p key (highest first; equal keys by index):
 * out_order[0..n) the ranking (may be NULL), out_cum[k] for k = 0..n the sum
 * of the profits of the first k (out_cum has n + 1 entries; out_cum[0] = 0).
 * Statuses: CHURN_E_INVALID_ARG (a NULL array, n > 0), CHURN_E_NUMERIC (a NaN
 * or infinite profit or key), CHURN_E_NOMEM. Thread-safe. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_retention_profit_curve(const double *profit, const double *key, size_t n,
                                                                    size_t *out_order, double *out_cum);

/** The peak of a curve cum[0..n]: the smallest k with the largest cum[k] (0 when cum is NULL). @since 0.1 */
CHURN_API size_t churn_retention_best_count(const double *cum, size_t n);

/** Customers in the list. @since 0.1 */
CHURN_API size_t churn_retention_get_count(const churn_retention *r);
/** Customer i's id (the data's ID column, else its data row number, 1-based), borrowed; NULL out of range. @since 0.1 */
CHURN_API const char *churn_retention_get_id(const churn_retention *r, size_t i);
/** A number of customer i; NaN out of range. @since 0.1 */
CHURN_API double churn_retention_get(const churn_retention *r, size_t i, churn_retention_field f);
/**
 * Customer i's top reasons (retention.top_reasons of them): the raw columns
 * whose Cox contributions (log hazard ratio against the average customer)
 * raise the hazard most, "Contract = Month-to-month (+0.91)", joined by "; ".
 * Borrowed; NULL out of range. @since 0.1
 */
CHURN_API const char *churn_retention_get_reasons(const churn_retention *r, size_t i);
/**
 * The profit curve of @p ranking: n + 1 cumulative expected profits
 * (*out_n = n + 1). Borrowed; NULL for an unknown ranking. @since 0.1
 */
CHURN_API const double *churn_retention_get_curve(const churn_retention *r, churn_retention_ranking ranking,
                                                  size_t *out_n);

/**
 * reports/retention.csv: a header (id, churn_probability, months_remaining
 * (empty: beyond the horizon), expected_remaining_value,
 * expected_loss, expected_profit, monthly_charge, tenure, top_reasons), then
 * one line per customer in list order: probabilities to 4 decimals, months
 * and money to 2, each the shortest text that reads back (locale-free); an
 * id or reasons text starting with =, +, - or @ gets a leading ' (no
 * spreadsheet formula). *out freed with churn_free(); *out_n
 * (may be NULL) its length. CHURN_E_INVALID_ARG (NULL), CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_retention_to_csv(const churn_retention *r, char **out, size_t *out_n);

/**
 * The summary (metrics.json "retention", the run record): {"customers",
 * "probability_source", "charges_column", "time_column", "horizon",
 * "discount_rate", "offer_cost", "offer_success", "expected_value",
 * "expected_loss", "profitable_customers", "best": {"contacts", "share",
 * "spend", "profit"}, "best_by_probability": {...}, "budget": {"value",
 * "contacts", "profit", "profit_by_probability"}, "curve": {"share",
 * "profit", "profit_by_probability"} (at most 101 points: every 1% of the
 * list)}. *out freed with churn_free(). CHURN_E_INVALID_ARG, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_retention_summary_json(const churn_retention *r, char **out);

/**
 * The first @p limit customers as JSON {"summary" (as
 * churn_retention_summary_json()), "count", "total", "customers": [{"id",
 * "churn_probability", "months_remaining" (null: beyond the horizon),
 * "expected_remaining_value", "expected_loss", "expected_profit", "reasons"}]}:
 * reports/retention.json holds the first CHURN_RETENTION_JSON_MAX.
 * CHURN_E_INVALID_ARG, CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_retention_list_json(const churn_retention *r, size_t limit, char **out);

/**
 * Into directory @p dir: retention_profit_curve.png (expected profit over
 * the share contacted, by expected profit and by churn probability, the
 * best budget marked) and survival_by_risk_tier.png (the mean survival over
 * the horizon of the current customers in three Cox risk tiers). Statuses
 * of churn/plot.h's calls. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_retention_draw(const churn_retention *r, const char *dir,
                                                            const churn_params *p);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_retention_free(churn_retention *r);

/**
 * A posted customer's remaining months and value, from the Cox artifact
 * (artifacts/models/cox.json) alone (opaque; read-only once loaded, safe to
 * share between threads). @since 0.1
 */
typedef struct churn_value_scorer churn_value_scorer;

/**
 * Load the Cox artifact's @p n bytes. Statuses: CHURN_E_INVALID_ARG (NULL),
 * CHURN_E_PARSE (not JSON, too deep), CHURN_E_FORMAT (not a
 * "churn-cox-artifact" of version 1, bad fields, a prep or model that does
 * not load, features that do not match), CHURN_E_NOMEM. *out written only on
 * success; free with churn_value_scorer_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_value_scorer_from_buffer(const char *json, size_t n,
                                                                      churn_value_scorer **out);

/**
 * Add "survival" to each prediction of @p predictions (the document of
 * churn_scorer_score_json() for the same @p records, @p n bytes: one JSON
 * object or an array of them): {"tenure" (the record's time column),
 * "months_remaining" (median; null beyond the horizon), "beyond_horizon",
 * "horizon", "restricted_mean_months", "expected_remaining_value" and
 * "expected_loss" (null without the charges column in the record)}, or null
 * when the record has no usable time. New document in *out_json
 * (churn_free). Statuses: CHURN_E_INVALID_ARG (NULL, counts that differ),
 * CHURN_E_PARSE (bad JSON, a value of the wrong kind for the prep),
 * CHURN_E_NOMEM. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_value_scorer_annotate_json(const churn_value_scorer *s,
                                                                        const char *records, size_t n,
                                                                        const char *predictions, char **out_json);

/** NULL is a no-op. @since 0.1 */
CHURN_API void churn_value_scorer_free(churn_value_scorer *s);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_RETENTION_H */
