/*
 * The retention list as documents (churn/retention.h): reports/retention.csv,
 * the first customers as JSON (/api/retention), and the summary of
 * metrics.json and the run record.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf-private.h"
#include "core-private.h"
#include "retention-private.h"

/* v rounded to @p dec decimals, as the shortest text that reads back (locale-free). */
static void put_rounded(ch_buf *b, double v, int dec)
{
	double s = pow(10, dec), r = round(v * s) / s;
	ch_buf_num(b, r == 0 ? 0 : r, "");
}

/* A text field that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote. */
static void put_text(ch_buf *b, const char *s)
{
	if (s && strchr("=+-@", s[0]) && s[0]) {
		char *q = ch_asprintf("'%s", s);
		ch_csv_field(b, q ? q : "");
		free(q);
		return;
	}
	ch_csv_field(b, s ? s : "");
}

churn_status churn_retention_to_csv(const churn_retention *r, char **out, size_t *out_n)
{
	if (!r || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_retention_to_csv: NULL argument");
	ch_buf b = {0};
	ch_buf_puts(&b, "id,churn_probability,months_remaining,expected_remaining_value,expected_loss,expected_profit,"
	                "monthly_charge,tenure,top_reasons\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct ch_retention_customer *c = &r->c[i];
		const double *f = c->f;
		put_text(&b, c->id);
		ch_buf_putc(&b, ',');
		put_rounded(&b, f[CHURN_RETENTION_PROBABILITY], 4);
		ch_buf_putc(&b, ',');
		if (isfinite(f[CHURN_RETENTION_MONTHS_REMAINING]))
			put_rounded(&b, f[CHURN_RETENTION_MONTHS_REMAINING], 2);
		static const int money[] = {CHURN_RETENTION_VALUE, CHURN_RETENTION_LOSS, CHURN_RETENTION_PROFIT,
		                            CHURN_RETENTION_CHARGE};
		for (size_t k = 0; k < sizeof(money) / sizeof(money[0]); k++) {
			ch_buf_putc(&b, ',');
			put_rounded(&b, f[money[k]], 2);
		}
		ch_buf_putc(&b, ',');
		put_rounded(&b, f[CHURN_RETENTION_TIME], 4);
		ch_buf_putc(&b, ',');
		put_text(&b, c->reasons);
		ch_buf_putc(&b, '\n');
	}
	size_t n = b.n;
	char *s = ch_buf_take(&b);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = s;
	if (out_n)
		*out_n = n;
	return CHURN_OK;
}

static bool add_num(cJSON *o, const char *key, double v)
{
	return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static double round_to(double v, int dec)
{
	double s = pow(10, dec), r = round(v * s) / s;
	return r == 0 ? 0 : r;
}

/* {"contacts", "share", "spend", "profit"} of the first k customers of curve cum. */
static cJSON *point(const churn_retention *r, const double *cum, size_t k)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddNumberToObject(o, "contacts", (double)k) ||
	    !add_num(o, "share", r->n ? round_to((double)k / (double)r->n, 6) : 0) ||
	    !add_num(o, "spend", round_to((double)k * r->o.cost, 2)) || !add_num(o, "profit", round_to(cum[k], 2))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The budget's contacts: budget / offer cost customers (all when the offer is free), at most the list. */
static size_t budget_contacts(const churn_retention *r)
{
	if (r->o.cost <= 0)
		return r->n;
	double k = floor(r->o.budget / r->o.cost);
	return k >= (double)r->n ? r->n : (size_t)k;
}

/* "curve": the two curves every 1% of the list (at most 101 points). */
static cJSON *curve_json(const churn_retention *r)
{
	cJSON *o = cJSON_CreateObject(), *sh = NULL, *a = NULL, *b = NULL;
	if (!o || !(sh = cJSON_AddArrayToObject(o, "share")) || !(a = cJSON_AddArrayToObject(o, "profit")) ||
	    !(b = cJSON_AddArrayToObject(o, "profit_by_probability"))) {
		cJSON_Delete(o);
		return NULL;
	}
	size_t steps = r->n < 100 ? r->n : 100;
	for (size_t q = 0; q <= steps; q++) {
		size_t k = steps ? (size_t)llround((double)q * (double)r->n / (double)steps) : 0;
		cJSON_AddItemToArray(sh, cJSON_CreateNumber(r->n ? round_to((double)k / (double)r->n, 6) : 0));
		cJSON_AddItemToArray(a, cJSON_CreateNumber(round_to(r->cum[0][k], 2)));
		cJSON_AddItemToArray(b, cJSON_CreateNumber(round_to(r->cum[1][k], 2)));
	}
	return o;
}

static cJSON *summary(const churn_retention *r)
{
	double value = 0, loss = 0;
	size_t profitable = 0;
	for (size_t i = 0; i < r->n; i++) {
		value += r->c[i].f[CHURN_RETENTION_VALUE];
		loss += r->c[i].f[CHURN_RETENTION_LOSS];
		profitable += r->c[i].f[CHURN_RETENTION_PROFIT] > 0;
	}
	size_t kb = budget_contacts(r);
	cJSON *o = cJSON_CreateObject(), *bud = NULL;
	bool ok = o && cJSON_AddNumberToObject(o, "customers", (double)r->n) &&
	          cJSON_AddStringToObject(o, "probability_source", r->prob_source) &&
	          cJSON_AddStringToObject(o, "charges_column", r->charges_col) &&
	          cJSON_AddStringToObject(o, "time_column", r->time_col) &&
	          cJSON_AddNumberToObject(o, "horizon", r->o.horizon) &&
	          cJSON_AddNumberToObject(o, "discount_rate", r->o.rate) &&
	          cJSON_AddNumberToObject(o, "offer_cost", r->o.cost) &&
	          cJSON_AddNumberToObject(o, "offer_success", r->o.success) &&
	          add_num(o, "expected_value", round_to(value, 2)) && add_num(o, "expected_loss", round_to(loss, 2)) &&
	          cJSON_AddNumberToObject(o, "profitable_customers", (double)profitable) &&
	          cJSON_AddItemToObject(o, "best", point(r, r->cum[0], churn_retention_best_count(r->cum[0], r->n))) &&
	          cJSON_AddItemToObject(o, "best_by_probability",
	                                point(r, r->cum[1], churn_retention_best_count(r->cum[1], r->n))) &&
	          (bud = cJSON_AddObjectToObject(o, "budget")) && cJSON_AddNumberToObject(bud, "value", r->o.budget) &&
	          cJSON_AddNumberToObject(bud, "contacts", (double)kb) &&
	          add_num(bud, "profit", round_to(r->cum[0][kb], 2)) &&
	          add_num(bud, "profit_by_probability", round_to(r->cum[1][kb], 2)) &&
	          cJSON_AddItemToObject(o, "curve", curve_json(r));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

churn_status churn_retention_summary_json(const churn_retention *r, char **out)
{
	if (!r || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_retention_summary_json: NULL argument");
	cJSON *o = summary(r);
	char *s = o ? ch_json_print(o, true) : NULL;
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = s;
	return CHURN_OK;
}

static cJSON *customer_json(const struct ch_retention_customer *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "id", c->id) ||
	    !add_num(o, "churn_probability", round_to(c->f[CHURN_RETENTION_PROBABILITY], 4)) ||
	    !add_num(o, "months_remaining", round_to(c->f[CHURN_RETENTION_MONTHS_REMAINING], 2)) ||
	    !add_num(o, "expected_remaining_value", round_to(c->f[CHURN_RETENTION_VALUE], 2)) ||
	    !add_num(o, "expected_loss", round_to(c->f[CHURN_RETENTION_LOSS], 2)) ||
	    !add_num(o, "expected_profit", round_to(c->f[CHURN_RETENTION_PROFIT], 2)) ||
	    !cJSON_AddStringToObject(o, "reasons", c->reasons)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

churn_status churn_retention_list_json(const churn_retention *r, size_t limit, char **out)
{
	if (!r || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_retention_list_json: NULL argument");
	size_t k = limit < r->n ? limit : r->n;
	cJSON *o = cJSON_CreateObject(), *a = NULL;
	bool ok = o && cJSON_AddItemToObject(o, "summary", summary(r)) && cJSON_AddNumberToObject(o, "count", (double)k) &&
	          cJSON_AddNumberToObject(o, "total", (double)r->n) && (a = cJSON_AddArrayToObject(o, "customers"));
	for (size_t i = 0; ok && i < k; i++)
		ok = cJSON_AddItemToArray(a, customer_json(&r->c[i]));
	char *s = ok ? ch_json_print(o, true) : NULL;
	cJSON_Delete(o);
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	*out = s;
	return CHURN_OK;
}
