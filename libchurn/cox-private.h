/*
 * The Cox model's internals, shared by its files:
 *   cox.c          lifetime, getters and the fit (Efron, Newton-Raphson, GSL Cholesky)
 *   cox-predict.c  linear predictors, conditional survival, remaining time, Brier score
 *   cox-json.c     the model as JSON
 *   survival.c     Harrell's concordance and the time-leak screen (no model needed)
 */
#ifndef CHURN_COX_PRIVATE_H
#define CHURN_COX_PRIVATE_H

#include "churn/survival.h"

struct churn_cox {
	size_t p;           /* features */
	char **names;       /* p */
	double *coef;       /* p; 0 when aliased */
	double *se;         /* p; 0 when aliased */
	double *center;     /* p */
	uint8_t *aliased;   /* p */
	double loglik, loglik_null, ridge;
	int iterations;
	bool converged;
	size_t nrows, nevents;
	size_t nbase;       /* baseline steps */
	double *base_time;  /* nbase, increasing */
	double *base_haz;   /* nbase, cumulative hazard at the centered covariates */
};

/* A model with room for p features and nbase baseline steps (names NULL), or NULL on OOM. */
churn_cox *ch_cox_alloc(size_t p, size_t nbase);
/* Cumulative baseline hazard at time t (0 before the first step). */
double ch_cox_baseline_at(const churn_cox *m, double t);
/* Checks shared by the fit and the Brier score: finite non-negative times, 0/1 events. */
churn_status ch_survival_check_data(const double *time, const uint8_t *event, size_t n, const char *fn);

#endif /* CHURN_COX_PRIVATE_H */
