/*
 * churn/plot.h: the model report's figures (ROC, precision-recall, confusion
 * matrix, lift), drawn with plplot into PNG files (libchurn/plot.c). The EDA
 * figures are drawn from an EDA result (churn/eda.h).
 *
 * Thread safety: plplot keeps process-wide state; every drawing call is
 * serialized by the library's plot lock, so any thread may call these.
 */
#ifndef CHURN_PLOT_H
#define CHURN_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "churn/common.h"
#include "churn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Model report figures. Each writes @p path_noext + ".png" (and ".svg" with
 * "eda.svg" in @p p, which may be NULL), atomically, sized by
 * "eda.fig_width"/"eda.fig_height". Errors: CHURN_E_INVALID_ARG for empty or
 * inconsistent inputs, CHURN_E_NUMERIC for non-finite values,
 * CHURN_E_CREATE when the directory is not writable, CHURN_E_UNSUPPORTED
 * when plplot lacks the cairo driver, CHURN_E_INTERNAL for a plplot failure,
 * CHURN_E_IO when the file cannot be written, CHURN_E_NOMEM. Serialized (see
 * above).
 */

/**
 * ROC curves of @p nseries models: series k has @p npts[k] points
 * (@p fpr[k][i], @p tpr[k][i]) in [0,1], ordered by threshold; @p auc[k] is
 * shown in the legend ("logreg (AUC 0.842)"; @p auc may be NULL). A dashed
 * chance diagonal is drawn. At most 8 series. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_plot_roc(const char *path_noext, const char *title, size_t nseries,
                                                      const char *const *labels, const double *const *fpr,
                                                      const double *const *tpr, const size_t *npts,
                                                      const double *auc, const churn_params *p);

/**
 * Precision-recall curves: series k is (@p recall[k][i], @p precision[k][i]);
 * @p ap[k] (average precision / PR AUC, may be NULL) goes in the legend;
 * @p base_rate (the positive rate, in [0,1]; negative to omit) is drawn as a
 * dashed no-skill line. At most 8 series. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_plot_pr(const char *path_noext, const char *title, size_t nseries,
                                                     const char *const *labels, const double *const *recall,
                                                     const double *const *precision, const size_t *npts,
                                                     const double *ap, double base_rate, const churn_params *p);

/**
 * 2x2 confusion matrix (rows actual, columns predicted; positive = churn)
 * with counts and shares of the total in each cell, shaded by count.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_plot_confusion(const char *path_noext, const char *title,
                                                            uint64_t tp, uint64_t fp, uint64_t tn, uint64_t fn,
                                                            const churn_params *p);

/**
 * Lift by decile (decile 1 = the highest scores): @p lift[k][d] for model k
 * and decile d < @p ndeciles (1..100), as grouped bars with a dashed
 * baseline at 1. At most 8 series. @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_plot_lift(const char *path_noext, const char *title, size_t nseries,
                                                       const char *const *labels, const double *const *lift,
                                                       size_t ndeciles, const churn_params *p);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_PLOT_H */
