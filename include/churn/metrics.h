/*
 * churn/metrics.h: evaluation of churn probabilities against 0/1 labels.
 *
 * Every function takes labels y[0..n) (0 or 1; 1 = churn) and scores
 * p[0..n) (probabilities in [0, 1]). A row is predicted positive when
 * p >= threshold. Precision, recall and F1 are of the positive class; an
 * undefined ratio (0/0) is 0, as scikit-learn's zero_division=0.
 * Definitions follow scikit-learn 1.2: ROC AUC by the trapezoidal rule over
 * distinct scores (exact with ties), PR AUC as average precision
 * sum_k (R_k - R_{k-1}) P_k, log loss with p clipped to [1e-15, 1 - 1e-15],
 * Brier score mean (p - y)^2.
 *
 * Errors (all functions returning churn_status): CHURN_E_INVALID_ARG for
 * NULL arrays, n = 0, labels other than 0/1, scores outside [0, 1], or a
 * single class where the metric needs both (ROC AUC, PR AUC, curves, best
 * threshold); CHURN_E_NUMERIC for NaN scores; CHURN_E_NOMEM.
 *
 * Thread safety: all functions are pure (no shared state) and may run
 * concurrently.
 */
#ifndef CHURN_METRICS_H
#define CHURN_METRICS_H

#include "churn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Confusion matrix counts of the positive (churn) class. Frozen public struct. @since 0.1 */
typedef struct churn_confusion {
	uint64_t tp, fp, tn, fn;
} churn_confusion;

/** Counts at @p threshold (p >= threshold is positive). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_confusion(const uint8_t *y, const double *p, size_t n,
                                                               double threshold, churn_confusion *out);

/** Ratios of a confusion matrix; 0 when undefined. @since 0.1 */
CHURN_API double churn_metrics_accuracy(const churn_confusion *c);
CHURN_API double churn_metrics_precision(const churn_confusion *c);
CHURN_API double churn_metrics_recall(const churn_confusion *c);
CHURN_API double churn_metrics_f1(const churn_confusion *c);

/** ROC AUC (trapezoidal over distinct scores; ties count one half). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_roc_auc(const uint8_t *y, const double *p, size_t n,
                                                             double *out);
/** PR AUC as average precision (scikit-learn's average_precision_score). @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_average_precision(const uint8_t *y, const double *p, size_t n,
                                                                       double *out);
/** Mean log loss, p clipped to [1e-15, 1 - 1e-15]. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_log_loss(const uint8_t *y, const double *p, size_t n,
                                                              double *out);
/** Brier score: mean (p - y)^2. @since 0.1 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_brier(const uint8_t *y, const double *p, size_t n,
                                                           double *out);

/**
 * ROC curve, one point per distinct score (descending), preceded by the
 * point (0, 0) whose threshold is max(p) + 1 (as scikit-learn 1.2).
 * Arrays of @p cap entries; *out_n receives the number of points (also
 * when cap is too small: then CHURN_E_INVALID_ARG). At most n + 1 points.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_roc_curve(const uint8_t *y, const double *p, size_t n,
                                                               double *out_fpr, double *out_tpr,
                                                               double *out_threshold, size_t cap, size_t *out_n);

/**
 * Precision-recall curve, one point per distinct score (descending
 * threshold, so recall increasing). At most n points; sizes as
 * churn_metrics_roc_curve(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_pr_curve(const uint8_t *y, const double *p, size_t n,
                                                              double *out_precision, double *out_recall,
                                                              double *out_threshold, size_t cap, size_t *out_n);

/**
 * Lift and cumulative gains by quantile bin of the score (rows sorted by p
 * descending, ties in input order; bin b holds rows [b n / nbins, (b+1) n /
 * nbins)). out_lift[b] = positive rate of bin b / overall rate;
 * out_gain[b] = share of all positives in bins 0..b. With nbins = 10,
 * out_lift[0] is the top-decile lift. Arrays hold nbins entries (either may
 * be NULL); nbins in
 * [1, n]. Needs at least one positive. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_lift(const uint8_t *y, const double *p, size_t n, size_t nbins,
                                                          double *out_lift, double *out_gain);

/**
 * Calibration table: nbins equal-width bins of [0, 1] (the last one closed;
 * p in [b/nbins, (b+1)/nbins)). out_count[b] rows, out_mean_p[b] their mean
 * score and out_frac_pos[b] their positive rate (both 0 for an empty bin).
 * nbins >= 1. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_calibration(const uint8_t *y, const double *p, size_t n,
                                                                 size_t nbins, uint64_t *out_count,
                                                                 double *out_mean_p, double *out_frac_pos);

/**
 * The threshold maximizing F1 over the distinct scores (the highest such
 * threshold on ties); *out_f1 (may be NULL) receives that F1. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_best_f1_threshold(const uint8_t *y, const double *p, size_t n,
                                                                       double *out_threshold, double *out_f1);

/**
 * The threshold minimizing cost_fn x FN + cost_fp x FP over the distinct
 * scores and "nobody" (a threshold just above max(p), at most 1); the
 * highest such threshold on ties. Costs must be finite and >= 0, not both 0.
 * *out_cost (may be NULL) receives the total cost. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_cost_threshold(const uint8_t *y, const double *p, size_t n,
                                                                    double cost_fn, double cost_fp,
                                                                    double *out_threshold, double *out_cost);

/**
 * Every metric at @p threshold as one JSON object: "accuracy", "precision",
 * "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "threshold",
 * "confusion" {"tp","fp","tn","fn"}, "n", "positives", "top_decile_lift",
 * "lift" [{"decile","rows","positives","lift","cumulative_gain"}],
 * "calibration" [{"bin","lo","hi","count","mean_predicted","fraction_positive"}],
 * "roc_curve" {"fpr","tpr","threshold"} and "pr_curve" {"precision","recall",
 * "threshold"} (curves thinned to at most 101 points, ends kept). Needs both
 * classes. Free *out_json with churn_free(). @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_metrics_compute_json(const uint8_t *y, const double *p, size_t n,
                                                                  double threshold, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_METRICS_H */
