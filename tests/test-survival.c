/*
 * The survival module (churn/survival.h): the Cox fit on small cases checked
 * by hand and against R's survival::coxph (values printed by R 4.2.2,
 * survival 3.5-3, quoted below), Harrell's concordance, conditional survival,
 * remaining time, the integrated Brier score, the time-leak screen, JSON and
 * the statuses of bad inputs. tests/test-survival-r.sh compares on Telco.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

/* Two groups with tied event times: x = 1 in one group. */
static const double case_time[8] = {1, 2, 2, 3, 4, 4, 5, 6};
static const uint8_t case_event[8] = {1, 1, 1, 0, 1, 1, 0, 1};
static const double case_x[8] = {1, 1, 0, 1, 0, 1, 0, 0};
static const double case_z[8] = {0.5, -1, 2, 0.3, 1.1, -0.7, 0.2, 1.5};

static churn_matrix *matrix_of(size_t n, size_t p, const double *const *cols)
{
	churn_matrix *m = NULL;
	ck_assert_int_eq(churn_matrix_new(n, p, &m), CHURN_OK);
	double *d = churn_matrix_get_data(m);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p; j++)
			d[i * p + j] = cols[j][i];
	return m;
}

static churn_cox *fit_ok(const churn_matrix *x, const double *t, const uint8_t *e, size_t n)
{
	churn_cox *m = NULL;
	churn_status st = churn_cox_fit(x, t, e, n, NULL, &m);
	ck_assert_msg(st == CHURN_OK, "churn_cox_fit: %s", churn_last_error());
	return m;
}

static void assert_rel(double got, double want, double tol, const char *what)
{
	ck_assert_msg(fabs(got - want) <= tol * fabs(want), "%s: %.17g, expected %.17g", what, got, want);
}

START_TEST(test_cox_fit_two_groups_with_ties_matches_r)
{
	const double *cols[] = {case_x};
	churn_matrix *x = matrix_of(8, 1, cols);
	churn_cox *m = fit_ok(x, case_time, case_event, 8);
	/* R: coxph(Surv(time, event) ~ x, ties = "efron") */
	assert_rel(churn_cox_get_coef(m, 0), 1.0994056812033262, 1e-9, "coef");
	assert_rel(churn_cox_get_se(m, 0), 0.95273562622678631, 1e-9, "se");
	assert_rel(churn_cox_get_loglik(m), -7.6176499700889959, 1e-12, "loglik");
	/* at zero, by hand: Efron risk sets 8 | 7, 7 - 1 | 4, 4 - 1 | 1 */
	assert_rel(churn_cox_get_loglik_null(m), -log(8.0 * 7 * 6 * 4 * 3), 1e-12, "loglik at zero");
	ck_assert_int_eq(churn_cox_get_iterations(m), 4);
	ck_assert(churn_cox_is_converged(m));
	ck_assert_uint_eq(churn_cox_get_event_count(m), 6);
	ck_assert_double_eq(churn_cox_get_center(m, 0), 0); /* a 0/1 column is centered at 0, as coxph */
	/* R: basehaz(fit, centered = TRUE) at the event times 1, 2, 4, 6 */
	static const double bt[] = {1, 2, 4, 6};
	static const double bh[] = {0.062462817102020625, 0.230203569580787082, 0.646729732282693259,
	                            1.646729732282693259};
	ck_assert_uint_eq(churn_cox_get_baseline_count(m), 4);
	for (size_t k = 0; k < 4; k++) {
		double t, h;
		ck_assert_int_eq(churn_cox_get_baseline(m, k, &t, &h), CHURN_OK);
		ck_assert_double_eq(t, bt[k]);
		assert_rel(h, bh[k], 1e-9, "baseline hazard");
	}
	/* R: concordance(fit) */
	double lp[8], c;
	size_t n;
	ck_assert_int_eq(churn_cox_linear_predictor(m, x, lp, 8, &n), CHURN_OK);
	ck_assert_int_eq(churn_survival_concordance(case_time, case_event, lp, 8, &c, NULL, NULL, NULL), CHURN_OK);
	assert_rel(c, 0.66666666666666663, 1e-12, "concordance");
	churn_cox_free(m);
	churn_matrix_free(x);
}
END_TEST

START_TEST(test_cox_fit_aliased_column_is_left_out_as_r)
{
	double x2[8];
	for (size_t i = 0; i < 8; i++)
		x2[i] = 2 * case_x[i];
	const double *cols[] = {case_x, case_z, x2};
	churn_matrix *x = matrix_of(8, 3, cols);
	churn_cox *m = fit_ok(x, case_time, case_event, 8);
	/* R: coxph(Surv(time, event) ~ x + z + x2): x2 is NA */
	ck_assert(!churn_cox_is_aliased(m, 0) && !churn_cox_is_aliased(m, 1) && churn_cox_is_aliased(m, 2));
	assert_rel(churn_cox_get_coef(m, 0), 2.54273167898968611, 1e-8, "coef x");
	assert_rel(churn_cox_get_coef(m, 1), 0.88499730039527291, 1e-8, "coef z");
	assert_rel(churn_cox_get_se(m, 0), 1.82403389449083386, 1e-8, "se x");
	assert_rel(churn_cox_get_se(m, 1), 0.91654251394480635, 1e-8, "se z");
	ck_assert_double_eq(churn_cox_get_coef(m, 2), 0);
	ck_assert_double_eq(churn_cox_get_se(m, 2), 0);
	assert_rel(churn_cox_get_loglik(m), -7.1020749380069272, 1e-12, "loglik");
	double lp[8], c, conc, disc, tied;
	size_t n;
	ck_assert_int_eq(churn_cox_linear_predictor(m, x, lp, 8, &n), CHURN_OK);
	ck_assert_int_eq(churn_survival_concordance(case_time, case_event, lp, 8, &c, &conc, &disc, &tied), CHURN_OK);
	/* R: concordant 16, discordant 5, tied.x 0 */
	ck_assert_double_eq(conc, 16);
	ck_assert_double_eq(disc, 5);
	ck_assert_double_eq(tied, 0);
	assert_rel(c, 16.0 / 21, 1e-15, "concordance");
	churn_cox_free(m);
	churn_matrix_free(x);
}
END_TEST

START_TEST(test_cox_ridge_shrinks_the_coefficient)
{
	const double *cols[] = {case_x};
	churn_matrix *x = matrix_of(8, 1, cols);
	churn_params *p = churn_test_params("cox.ridge", "5", NULL);
	churn_cox *m = NULL;
	ck_assert_int_eq(churn_cox_fit(x, case_time, case_event, 8, p, &m), CHURN_OK);
	double b = churn_cox_get_coef(m, 0);
	ck_assert(b > 0 && b < 1.0994056812033262 / 2);
	/* the penalized score is zero at the result: U(b) = 5 b, checked through the loglik slope */
	ck_assert(churn_cox_get_loglik(m) < -7.6176499700889959);
	churn_cox_free(m);
	churn_params_free(p);
	churn_matrix_free(x);
}
END_TEST

START_TEST(test_cox_fit_does_not_depend_on_threads)
{
	enum { N = 40000 };
	double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *t = malloc(N * sizeof *t);
	uint8_t *e = malloc(N);
	uint64_t s = 12345;
	for (size_t i = 0; i < N; i++) { /* a fixed LCG: the rows are the same every run */
		s = s * 6364136223846793005u + 1442695040888963407u;
		a[i] = (double)(s >> 40) / (double)(1u << 24);
		b[i] = (double)((s >> 20) & 1);
		t[i] = (double)(1 + (s >> 33) % 72);
		e[i] = ((s >> 13) % 100) < (uint64_t)(20 + 30 * a[i]);
	}
	const double *cols[] = {a, b};
	churn_matrix *x = matrix_of(N, 2, cols);
	churn_params *p1 = churn_test_params("cox.n_threads", "1", NULL);
	churn_params *p3 = churn_test_params("cox.n_threads", "3", NULL);
	churn_cox *m1 = NULL, *m3 = NULL;
	ck_assert_int_eq(churn_cox_fit(x, t, e, N, p1, &m1), CHURN_OK);
	ck_assert_int_eq(churn_cox_fit(x, t, e, N, p3, &m3), CHURN_OK);
	for (size_t j = 0; j < 2; j++) {
		ck_assert(churn_cox_get_coef(m1, j) == churn_cox_get_coef(m3, j));
		ck_assert(churn_cox_get_se(m1, j) == churn_cox_get_se(m3, j));
	}
	ck_assert(churn_cox_get_coef(m1, 0) > 0); /* the event rate grows with a */
	churn_cox_free(m1);
	churn_cox_free(m3);
	churn_params_free(p1);
	churn_params_free(p3);
	churn_matrix_free(x);
	free(a);
	free(b);
	free(t);
	free(e);
}
END_TEST

START_TEST(test_concordance_counts_pairs_by_hand)
{
	/* events at 1..4, risks 4 3 1 2: pairs (1,2..4) and (2,3..4) concordant, (3,4) discordant */
	double t[] = {1, 2, 3, 4}, r[] = {4, 3, 1, 2}, c, conc, disc, tied;
	uint8_t e[] = {1, 1, 1, 1};
	ck_assert_int_eq(churn_survival_concordance(t, e, r, 4, &c, &conc, &disc, &tied), CHURN_OK);
	ck_assert_double_eq(conc, 5);
	ck_assert_double_eq(disc, 1);
	assert_rel(c, 5.0 / 6, 1e-15, "C");
	/* a tied risk counts one half; two events at one time are not comparable; a censoring tied with an
	 * event outlives it (R: concordance(Surv(t, e) ~ r, reverse = TRUE)) */
	double t2[] = {5, 5, 5, 7}, r2[] = {2, 1, 2, 2};
	uint8_t e2[] = {1, 1, 0, 1};
	ck_assert_int_eq(churn_survival_concordance(t2, e2, r2, 4, &c, &conc, &disc, &tied), CHURN_OK);
	/* event 0 (r 2) vs censored 2 (r 2): tied; vs 3 (r 2): tied; event 1 (r 1) vs 2: discordant, vs 3: discordant */
	ck_assert_double_eq(conc, 0);
	ck_assert_double_eq(disc, 2);
	ck_assert_double_eq(tied, 2);
	assert_rel(c, 1.0 / 4, 1e-15, "C with ties");
}
END_TEST

START_TEST(test_concordance_without_comparable_pairs_is_numeric)
{
	double t[] = {1, 2}, r[] = {0, 1}, c;
	uint8_t e[] = {0, 0};
	ck_assert_int_eq(churn_survival_concordance(t, e, r, 2, &c, NULL, NULL, NULL), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	ck_assert_int_eq(churn_survival_concordance(NULL, e, r, 2, &c, NULL, NULL, NULL), CHURN_E_INVALID_ARG);
	r[0] = NAN;
	e[0] = 1;
	ck_assert_int_eq(churn_survival_concordance(t, e, r, 2, &c, NULL, NULL, NULL), CHURN_E_NUMERIC);
}
END_TEST

/* A one-feature model with coefficient 0 and baseline H = 0.1, 0.3, 0.9 at 1, 2, 3, through JSON. */
static churn_cox *known_model(void)
{
	const char *json = "{\"format\": \"churn-cox\", \"version\": 1, \"features\": [\"x\"], \"coef\": [0], "
	                   "\"se\": [0], \"aliased\": [false], \"center\": [0], \"loglik\": -1, \"loglik_null\": -1, "
	                   "\"iterations\": 1, \"converged\": true, \"rows\": 3, \"events\": 3, \"ridge\": 0, "
	                   "\"baseline\": {\"time\": [1, 2, 3], \"hazard\": [0.1, 0.3, 0.9]}}";
	churn_cox *m = NULL;
	churn_status st = churn_cox_from_json(json, &m);
	ck_assert_msg(st == CHURN_OK, "churn_cox_from_json: %s", churn_last_error());
	return m;
}

START_TEST(test_cox_conditional_survival_and_remaining_time_by_hand)
{
	churn_cox *m = known_model();
	double row[] = {5}, times[] = {0.5, 1, 2.5, 3, 10}, s[5];
	ck_assert_int_eq(churn_cox_conditional_survival(m, row, 1, 1, times, 5, s), CHURN_OK);
	ck_assert_double_eq(s[0], 1);
	ck_assert_double_eq(s[1], 1);
	assert_rel(s[2], exp(-0.2), 1e-15, "S(2.5 | 1)");
	assert_rel(s[3], exp(-0.8), 1e-15, "S(3 | 1)");
	assert_rel(s[4], exp(-0.8), 1e-15, "S(10 | 1): flat after the last step");
	double x0[] = {0, 0, 0}, t0[] = {0, 1, 0}, med[3], rmst[3];
	bool beyond[3];
	churn_matrix *x = NULL;
	ck_assert_int_eq(churn_matrix_new(3, 1, &x), CHURN_OK);
	memcpy(churn_matrix_get_data(x), x0, sizeof x0);
	ck_assert_int_eq(churn_cox_remaining(m, x, t0, 0, med, beyond, rmst), CHURN_OK); /* 0: horizon 24 */
	/* from 0: S = 1, e^-.1, e^-.3, e^-.9 (0.41 <= 0.5 at 3) on [0,1), [1,2), [2,3), [3,24] */
	ck_assert(!beyond[0]);
	ck_assert_double_eq(med[0], 3);
	assert_rel(rmst[0], 1 + exp(-0.1) + exp(-0.3) + 21 * exp(-0.9), 1e-14, "rmst from 0");
	/* from 1: S(2|1) = e^-.2, S(3|1) = e^-.8 (0.45) on (1,2), [2,3), [3,25] */
	ck_assert(!beyond[1]);
	ck_assert_double_eq(med[1], 2);
	assert_rel(rmst[1], 1 + exp(-0.2) + 22 * exp(-0.8), 1e-14, "rmst from 1");
	/* a horizon of 1.5 months from 0: the median is beyond it */
	ck_assert_int_eq(churn_cox_remaining(m, x, t0, 1.5, med, beyond, rmst), CHURN_OK);
	ck_assert(beyond[0]);
	ck_assert(isnan(med[0]));
	assert_rel(rmst[0], 1 + 0.5 * exp(-0.1), 1e-15, "rmst over 1.5");
	t0[2] = -1;
	ck_assert_int_eq(churn_cox_remaining(m, x, t0, 0, med, beyond, rmst), CHURN_E_INVALID_ARG);
	churn_matrix_free(x);
	churn_cox_free(m);
}
END_TEST

START_TEST(test_cox_integrated_brier_matches_its_definition)
{
	churn_cox *m = known_model();
	churn_matrix *x = NULL;
	ck_assert_int_eq(churn_matrix_new(3, 1, &x), CHURN_OK);
	double t[] = {1, 2, 3}, ibs;
	uint8_t e[] = {1, 1, 1};
	ck_assert_int_eq(churn_cox_integrated_brier(m, x, t, e, 3, &ibs), CHURN_OK);
	/* no censoring: G = 1; times 1 and 2 (the largest, 3, left out) */
	double s1 = exp(-0.1), s2 = exp(-0.3);
	double bs1 = (s1 * s1 + 2 * (1 - s1) * (1 - s1)) / 3, bs2 = (2 * s2 * s2 + (1 - s2) * (1 - s2)) / 3;
	assert_rel(ibs, (bs1 + bs2) / 2, 1e-14, "IBS");
	/* censored at 2: G(2) = 1 - 1/2, the event at 3 weighs 1 / G(3-) = 2 */
	uint8_t e2[] = {1, 0, 1};
	ck_assert_int_eq(churn_cox_integrated_brier(m, x, t, e2, 3, &ibs), CHURN_OK);
	bs2 = (s2 * s2 + (1 - s2) * (1 - s2) / 0.5) / 3;
	assert_rel(ibs, (bs1 + bs2) / 2, 1e-14, "IBS with censoring");
	churn_matrix_free(x);
	churn_cox_free(m);
}
END_TEST

START_TEST(test_cox_json_round_trips_and_rejects_others)
{
	const double *cols[] = {case_x, case_z};
	churn_matrix *x = matrix_of(8, 2, cols);
	churn_cox *m = fit_ok(x, case_time, case_event, 8), *back = NULL;
	char *a = NULL, *b = NULL;
	ck_assert_int_eq(churn_cox_to_json(m, &a), CHURN_OK);
	ck_assert_int_eq(churn_cox_from_json(a, &back), CHURN_OK);
	ck_assert_int_eq(churn_cox_to_json(back, &b), CHURN_OK);
	ck_assert_str_eq(a, b);
	for (size_t j = 0; j < 2; j++)
		ck_assert(churn_cox_get_coef(m, j) == churn_cox_get_coef(back, j));
	churn_cox *bad = NULL;
	ck_assert_int_eq(churn_cox_from_json("{", &bad), CHURN_E_PARSE);
	ck_assert_int_eq(churn_cox_from_json("{\"format\": \"churn-model\"}", &bad), CHURN_E_FORMAT);
	ck_assert_int_eq(churn_cox_from_json("{\"format\": \"churn-cox\", \"version\": 2}", &bad), CHURN_E_FORMAT);
	ck_assert_int_eq(churn_cox_from_json("{\"format\": \"churn-cox\", \"version\": 1, \"features\": [\"x\"], "
	                                     "\"baseline\": {\"time\": []}}", &bad), CHURN_E_FORMAT);
	ck_assert_ptr_null(bad);
	churn_free(a);
	churn_free(b);
	churn_cox_free(back);
	churn_cox_free(m);
	churn_matrix_free(x);
}
END_TEST

START_TEST(test_cox_bad_inputs_have_documented_statuses)
{
	const double *cols[] = {case_x};
	churn_matrix *x = matrix_of(8, 1, cols);
	churn_cox *m = NULL;
	double t[8];
	uint8_t e[8];
	memcpy(t, case_time, sizeof t);
	memcpy(e, case_event, sizeof e);
	ck_assert_int_eq(churn_cox_fit(NULL, t, e, 8, NULL, &m), CHURN_E_INVALID_ARG);
	ck_assert_int_eq(churn_cox_fit(x, t, e, 7, NULL, &m), CHURN_E_INVALID_ARG);
	t[3] = -1;
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_NUMERIC);
	ck_assert_str_ne(churn_last_error(), "");
	t[3] = NAN;
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_NUMERIC);
	t[3] = 3;
	e[2] = 2;
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_INVALID_ARG);
	memset(e, 0, sizeof e);
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_NUMERIC); /* no events */
	memcpy(e, case_event, sizeof e);
	churn_matrix_get_data(x)[5] = NAN;
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_NUMERIC);
	churn_matrix_free(x);
	/* singular: every column constant */
	double one[8] = {1, 1, 1, 1, 1, 1, 1, 1}, two[8] = {2, 2, 2, 2, 2, 2, 2, 2};
	const double *cc[] = {one, two};
	x = matrix_of(8, 2, cc);
	ck_assert_int_eq(churn_cox_fit(x, t, e, 8, NULL, &m), CHURN_E_NUMERIC);
	ck_assert_ptr_null(m);
	churn_matrix_free(x);
	/* a column that separates the events perfectly (x = 1: every event; R: "did not converge", coef 21.3):
	 * not converged within cox.max_iter, or CHURN_E_NUMERIC once the coefficient diverges */
	double sep[8] = {1, 1, 1, 0, 1, 1, 0, 0};
	uint8_t esep[8] = {1, 1, 1, 0, 1, 1, 0, 0};
	const double *cs[] = {sep};
	x = matrix_of(8, 1, cs);
	churn_status st = churn_cox_fit(x, case_time, esep, 8, NULL, &m);
	ck_assert_msg(st == CHURN_E_NUMERIC || (st == CHURN_OK && !churn_cox_is_converged(m) &&
	                                        churn_cox_get_coef(m, 0) > 10),
	              "separation: status %d, coef %g", st, m ? churn_cox_get_coef(m, 0) : 0.0);
	churn_cox_free(m);
	churn_matrix_free(x);
}
END_TEST

START_TEST(test_time_leaks_find_products_and_ratios_only)
{
	enum { N = 200 };
	double tenure[N], monthly[N], total[N], fee[N], noise[N];
	for (size_t i = 0; i < N; i++) {
		tenure[i] = (double)(i % 72) + 1;
		monthly[i] = 50 + (double)((i * 37) % 50);
		total[i] = tenure[i] * monthly[i];   /* r with tenure 0.93, the ratio varies (CV 0.2) */
		fee[i] = 9.5 * tenure[i] * (1 + 0.01 * (double)(i % 3)); /* a nearly constant ratio */
		noise[i] = (double)((i * 7919) % 101);
	}
	churn_dataset *ds = NULL;
	ck_assert_int_eq(churn_dataset_new(&ds), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "tenure", tenure, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "MonthlyCharges", monthly, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "TotalCharges", total, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Fees", fee, N), CHURN_OK);
	ck_assert_int_eq(churn_dataset_add_numeric(ds, "Noise", noise, N), CHURN_OK);
	size_t *cols = NULL, n = 0;
	ck_assert_int_eq(churn_survival_find_time_leaks(ds, "tenure", &cols, &n), CHURN_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, cols[0]), "TotalCharges");
	ck_assert_str_eq(churn_dataset_get_col_name(ds, cols[1]), "Fees");
	churn_free(cols);
	ck_assert_int_eq(churn_survival_find_time_leaks(ds, "nope", &cols, &n), CHURN_E_NOTFOUND);
	churn_dataset_free(ds);
}
END_TEST

START_TEST(test_time_leaks_on_telco_are_total_charges_only)
{
	churn_dataset *ds = churn_test_load_telco();
	if (!ds)
		return;
	size_t *cols = NULL, n = 0;
	ck_assert_int_eq(churn_survival_find_time_leaks(ds, "tenure", &cols, &n), CHURN_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(churn_dataset_get_col_name(ds, cols[0]), "TotalCharges");
	churn_free(cols);
	churn_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("survival");
	TCase *fit = tcase_create("fit");
	tcase_add_test(fit, test_cox_fit_two_groups_with_ties_matches_r);
	tcase_add_test(fit, test_cox_fit_aliased_column_is_left_out_as_r);
	tcase_add_test(fit, test_cox_ridge_shrinks_the_coefficient);
	tcase_add_test(fit, test_cox_json_round_trips_and_rejects_others);
	tcase_add_test(fit, test_cox_fit_does_not_depend_on_threads);
	suite_add_tcase(s, fit);
	TCase *metrics = tcase_create("metrics");
	tcase_add_test(metrics, test_concordance_counts_pairs_by_hand);
	tcase_add_test(metrics, test_concordance_without_comparable_pairs_is_numeric);
	tcase_add_test(metrics, test_cox_conditional_survival_and_remaining_time_by_hand);
	tcase_add_test(metrics, test_cox_integrated_brier_matches_its_definition);
	suite_add_tcase(s, metrics);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_cox_bad_inputs_have_documented_statuses);
	suite_add_tcase(s, errors);
	TCase *leaks = tcase_create("leaks");
	tcase_add_test(leaks, test_time_leaks_find_products_and_ratios_only);
	tcase_add_test(leaks, test_time_leaks_on_telco_are_total_charges_only);
	suite_add_tcase(s, leaks);
	return churn_test_run(s);
}
