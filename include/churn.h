/*
 * libchurn: customer-churn analytics. Umbrella header: includes every public
 * module header and nothing else.
 *
 * Thread safety: libchurn keeps no mutable global state: no global hooks,
 * log/print functions, locale changes or static caches; error detail is
 * thread-local. Distinct objects may be used from different threads
 * concurrently. One object may be shared between threads only while every
 * call takes it as const (predict, metrics, getters, save). Calls taking a
 * non-const pointer (fit, set, transform, free) need exclusive access.
 * libchurn does no locking of caller objects.
 */
#ifndef CHURN_H
#define CHURN_H

#include "churn/common.h"
#include "churn/version.h"
#include "churn/params.h"
#include "churn/dataset.h"
#include "churn/csv.h"
#include "churn/fetch.h"
#include "churn/synth.h"
#include "churn/profile.h"
#include "churn/matrix.h"
#include "churn/prep.h"
#include "churn/split.h"
#include "churn/parquet.h"
#include "churn/model.h"
#include "churn/metrics.h"
#include "churn/train.h"
#include "churn/eda.h"
#include "churn/plot.h"
#include "churn/pipeline.h"
#include "churn/workdir.h"
#include "churn/report.h"
#include "churn/score.h"
#include "churn/db.h"
#include "churn/registry.h"
#include "churn/survival.h"
#include "churn/drift.h"
#include "churn/retention.h"
#include "churn/alerts.h"

#endif /* CHURN_H */
