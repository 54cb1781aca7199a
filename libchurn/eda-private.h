/* EDA helpers shared inside the library (eda.c). */
#ifndef CH_EDA_PRIVATE_H
#define CH_EDA_PRIVATE_H

#include <cjson/cJSON.h>

#include "churn/dataset.h"
#include "churn/eda.h"
#include "churn/params.h"

/*
 * Revenue at risk alone (churn_eda_set_revenue_at_risk on an otherwise empty
 * EDA, columns from p's eda.* keys): *out for churn_eda_draw_revenue, and
 * *out_json the revenue_at_risk member of eda.json (null when skipped).
 */
churn_status ch_eda_revenue(const churn_dataset *ds, const churn_params *p, const double *proba, double threshold,
                            churn_eda **out, cJSON **out_json);

#endif
