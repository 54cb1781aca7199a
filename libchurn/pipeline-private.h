/*
 * Internal pipeline helpers (ch_ prefix, never exported). The pipeline's
 * files, one concern each:
 *   pipeline.c          the data and ML pipelines: steps, runs, the commit, records
 *   pipeline-figures.c  ch_pipeline_model_figures: the ML run's model figures
 *   pipeline-revenue.c  ch_pipeline_merge_revenue: the best model's revenue at risk into eda.json
 */
#ifndef CH_PIPELINE_PRIVATE_H
#define CH_PIPELINE_PRIVATE_H

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/eda.h"
#include "churn/params.h"
#include "churn/train.h"

/*
 * Into directory @p dir (which exists): roc_curve, pr_curve, lift_chart and
 * confusion_<model> of the models of @p t on its test rows, and, when
 * @p rev_eda is not NULL, its revenue_at_risk figure (churn_eda_draw_revenue).
 * Statuses of the churn_metrics_* and churn_plot_* calls; CHURN_E_NOMEM.
 */
churn_status ch_pipeline_model_figures(const churn_training *t, const churn_eda *rev_eda, const char *dir,
                                       const churn_params *p);

/*
 * Replace "revenue_at_risk" of @p eda_doc (eda.json, parsed) with the revenue
 * at risk of the rows @p t scored (of @p ds, the rows it was given), by its
 * best model's scores and threshold, with "model" and "run_id" @p run_id
 * added; *out_eda holds it for churn_eda_draw_revenue (the caller frees it).
 * Statuses of ch_eda_revenue and churn_dataset_subset_rows; CHURN_E_NOMEM.
 */
churn_status ch_pipeline_merge_revenue(const churn_training *t, const churn_dataset *ds, const churn_params *p,
                                       const char *run_id, cJSON *eda_doc, churn_eda **out_eda);

#endif
