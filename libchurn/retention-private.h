/*
 * The retention list's internals, shared by its files:
 *   retention.c          the computation (ch_retention_compute), profit curves, getters
 *   retention-report.c   reports/retention.csv, the list as JSON, the summary
 *   retention-figures.c  the risk tiers' survival and the two figures
 */
#ifndef CH_RETENTION_PRIVATE_H
#define CH_RETENTION_PRIVATE_H

#include "churn/matrix.h"
#include "churn/prep.h"
#include "churn/retention.h"
#include "churn/survival.h"
#include "train-private.h"

#define CH_RETENTION_TIERS 3
#define CH_RETENTION_MAX_HORIZONS 8

struct ch_retention_opts {
	double horizon, rate, cost, success, budget;
	size_t top;
	bool charges_required;
	double horizons[CH_RETENTION_MAX_HORIZONS]; /* retention.horizons */
	size_t nh;
};

struct ch_retention_customer {
	size_t row;      /* in the training's rows[] dataset */
	char *id, *reasons;
	double lp;       /* Cox linear predictor */
	double f[8];     /* churn_retention_field */
	double hloss[CH_RETENTION_MAX_HORIZONS]; /* expected loss over each of o.horizons */
};

struct churn_retention {
	struct ch_retention_opts o;
	char *charges_col, *time_col, *prob_source;
	struct ch_retention_customer *c; /* sorted by expected profit */
	size_t n;
	double *cum[2];                  /* churn_retention_ranking: n + 1 cumulative profits */
	double *grid;                    /* ngrid months from now, 0..horizon */
	size_t ngrid;
	double *tier_curve;              /* CH_RETENTION_TIERS x ngrid mean survival */
	size_t tier_n[CH_RETENTION_TIERS];
	double tier_lp[CH_RETENTION_TIERS + 1]; /* tier bounds of the linear predictor */
};

/* What the computation works with. */
typedef struct ch_retention_ctx {
	const ch_cox_input *in;
	ch_cox_training *c;
	const churn_prep *prep;
	const churn_cox *cox;
	const churn_dataset *dw;
	size_t nfeat, *featcol;  /* the prep column of each model feature */
	size_t cj, tj;           /* charges and time columns of dw */
	const double *charge, *time;
	struct ch_retention_opts o;
} ch_retention_ctx;

/* The integral of (1 + rate)^-u over (a, b]; b - a without discount. */
double ch_retention_discount_integral(double rate, double a, double b);

/*
 * The discounted restricted mean remaining time of a customer with linear predictor @p lp who reached @p t0: the
 * integral of S(t0 + u | T > t0) (1 + rate)^-u over (0, horizon], exact over the baseline's steps.
 */
double ch_retention_discounted_rmst(const churn_cox *m, double lp, double t0, double horizon, double rate);

/* The prep column (index into prep->cols) of each of the features feat[0..nfeat); NULL on OOM. */
size_t *ch_retention_feature_columns(const churn_prep *prep, const size_t *feat, size_t nfeat);

/* The risk tiers (thirds of the linear predictor) and their mean survival over the horizon (r->c unsorted, X its rows). */
churn_status ch_retention_tiers(churn_retention *r, const churn_cox *cox, const churn_matrix *X);

#endif
