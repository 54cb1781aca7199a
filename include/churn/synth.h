/*
 * churn/synth.h: synthetic IBM-Telco-like churn data.
 *
 * The 21 columns of the IBM Telco Customer Churn data set, with their real
 * names, value sets and (approximately) their marginal distributions and
 * main dependencies, calibrated on the real 7,043-row file:
 *
 *   customerID        "dddd-LLLLL" (e.g. "7590-VHVEG"), unique within a file
 *                     (a seeded bijection of the row index)
 *   gender            Male 50.5% / Female
 *   SeniorCitizen     1 with 16.2%, else 0
 *   Partner           Yes 48.3%;  Dependents Yes 51.4% with a partner, 9.9% without
 *   Contract          Month-to-month 55% / One year 21% / Two year 24%
 *   tenure            months, 0-72, by contract: month-to-month 1 + Exp(mean 17);
 *                     one year N(42, 19); two year N(62, 20); clipped to [1, 72].
 *                     0 (a customer who just signed) for 0.2% of all rows,
 *                     one- and two-year contracts only, as in the real data.
 *   InternetService   by contract (month-to-month 32% DSL / 55% Fiber optic /
 *                     13% No; one year 39/37/24; two year 37/25/38)
 *   PhoneService      always Yes without DSL; 72% Yes with DSL
 *   MultipleLines     Yes 46.7% with phone service, else "No phone service"
 *   OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport, StreamingTV,
 *   StreamingMovies   Yes/No by internet type (e.g. TechSupport 49% with DSL,
 *                     28% with fiber), a little more likely with longer tenure;
 *                     "No internet service" exactly when InternetService = No
 *   PaperlessBilling  Yes 67% / 54% / 46% by contract
 *   PaymentMethod     Electronic check / Mailed check / Bank transfer (automatic) /
 *                     Credit card (automatic), by contract (electronic check
 *                     48% month-to-month, 10% two year)
 *   MonthlyCharges    the real data's price list: 20 phone + 5 multiple lines +
 *                     25 DSL or 50 fiber + 5 per security/backup/protection/support
 *                     + 10 per streaming service + N(0, 1), rounded to 0.05,
 *                     clipped to [18.25, 118.75]
 *   TotalCharges      tenure x MonthlyCharges x (1 + N(0, 0.05)) (= MonthlyCharges
 *                     at tenure 1); blank when tenure is 0 (about 0.2% of rows)
 *   Churn             Yes/No from the latent logistic model below
 *
 * Churn model (coefficients of a logistic regression fitted on the real
 * data; intercept re-tuned so that about 26.5% of rows churn):
 *
 *   z = -1.00 - 0.69 [One year] - 1.64 [Two year] - 0.66 ln(1 + tenure)
 *       + 0.76 [DSL] + 1.23 [Fiber optic] + 0.38 [Electronic check]
 *       + 0.138 MonthlyCharges / 10 + 0.39 [PaperlessBilling]
 *       + 0.29 [SeniorCitizen] - 0.36 [TechSupport] - 0.44 [OnlineSecurity]
 *       + 0.35 e,   e ~ N(0, 1) (unobserved customer effect)
 *   Churn = Yes with probability 1 / (1 + exp(-z)).
 *
 * Measured on a 100,000-row file (seed 1) with /usr/bin/python3 + scikit-learn
 * 1.2.1 (one-hot features, TotalCharges blank as 0, 70/30 stratified split,
 * random_state 42): churn rate 26.4%, 0.20% blank TotalCharges,
 * LogisticRegression (standardised) ROC AUC 0.843, HistGradientBoosting-
 * Classifier 0.845. The same kind of model on the real data: about 0.85.
 * Churn by contract 42% / 12% / 3% (real: 43% / 11% / 3%), by internet
 * service DSL 18% / fiber 41% / none 7% (real: 19% / 42% / 7%).
 *
 * Output is deterministic per seed (own xoshiro256** generator seeded by
 * splitmix64, locale-independent number formatting) and the same on every
 * platform. Writing is fast: 1M rows (138 MB) take about 0.5 s of CPU on
 * one core (numbers formatted by hand into one 1 MiB buffer).
 *
 * Thread safety: every call is independent (no shared state).
 */
#ifndef CHURN_SYNTH_H
#define CHURN_SYNTH_H

#include "churn/common.h"
#include "churn/csv.h"
#include "churn/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of columns of the synthetic data (the 21 Telco columns). @since 0.1 */
#define CHURN_SYNTH_NCOLS 21

/**
 * Write the header and @p rows rows of synthetic Telco CSV (LF line ends) to
 * @p fn in large chunks (about 1 MiB each). The bytes depend only on @p rows
 * and @p seed.
 *
 * @return CHURN_OK; CHURN_E_INVALID_ARG when @p fn is NULL or rows exceed
 *         10^10; CHURN_E_IO when @p fn returns less than asked;
 *         CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_synth_write(uint64_t rows, uint64_t seed, churn_write_fn fn,
                                                         void *userdata);

/**
 * churn_synth_write() into the file @p path, atomically (a temp file in the
 * same directory renamed over @p path; a failure leaves any previous file).
 *
 * @return CHURN_OK; CHURN_E_CREATE when the file cannot be created;
 *         CHURN_E_IO on a write error; CHURN_E_INVALID_ARG; CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_synth_write_file(uint64_t rows, uint64_t seed, const char *path);

/**
 * The same rows as churn_synth_write() as an in-memory dataset, typed as the
 * CSV reader types the file: customerID text; SeniorCitizen, tenure,
 * MonthlyCharges and TotalCharges numeric (TotalCharges NaN when blank);
 * the other 16 columns categorical. *out (free with churn_dataset_free())
 * is written only on success.
 *
 * @return CHURN_OK; CHURN_E_INVALID_ARG (out NULL, rows 0 or above 10^9);
 *         CHURN_E_NOMEM.
 * @since 0.1
 */
CHURN_API CHURN_NODISCARD churn_status churn_synth_dataset(uint64_t rows, uint64_t seed, churn_dataset **out);

#ifdef __cplusplus
}
#endif

#endif /* CHURN_SYNTH_H */
