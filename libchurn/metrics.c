/* churn_metrics_*: classification metrics, curves, lift, calibration, thresholds. */
#include "churn/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core-private.h"
#include "model-private.h"
#include "tree-private.h"

#define LOGLOSS_EPS 1e-15
#define CURVE_POINTS 101

static churn_status check_inputs(const uint8_t *y, const double *p, size_t n, const char *fn)
{
	if (!y || !p)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL array", fn);
	if (n == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: no rows", fn);
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 1)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: label %zu is %u, not 0 or 1", fn, i, (unsigned)y[i]);
		if (isnan(p[i]))
			return ch_fail(CHURN_E_NUMERIC, "%s: score %zu is NaN", fn, i);
		if (!(p[i] >= 0 && p[i] <= 1))
			return ch_fail(CHURN_E_INVALID_ARG, "%s: score %zu is %g, outside [0, 1]", fn, i, p[i]);
	}
	return CHURN_OK;
}

static churn_status need_both(const uint8_t *y, size_t n, const char *fn, size_t *out_pos)
{
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	if (pos == 0 || pos == n)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the labels have one class only (%zu of %zu positive)", fn, pos, n);
	*out_pos = pos;
	return CHURN_OK;
}

/* ---- sorting by score, descending (ties in input order) ---- */

typedef struct scored {
	double p;
	size_t i;
} scored;

static int cmp_desc(const void *a, const void *b)
{
	const scored *x = a, *y = b;
	if (x->p > y->p)
		return -1;
	if (x->p < y->p)
		return 1;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * The same order as cmp_desc, by a stable LSD radix sort (8-bit digits) of
 * the inverted order-preserving bit pattern of each score (-0.0 as 0.0):
 * descending scores, equal scores in input order. Bytes equal in every key
 * are skipped. false when out of memory (the caller falls back to qsort).
 */
static bool radix_desc(scored *s, size_t n)
{
	uint64_t *key = malloc(n * sizeof(uint64_t)), *key2 = malloc(n * sizeof(uint64_t));
	scored *s2 = malloc(n * sizeof(scored));
	if (!key || !key2 || !s2) {
		free(key);
		free(key2);
		free(s2);
		return false;
	}
	uint64_t all_and = ~(uint64_t)0, all_or = 0;
	for (size_t i = 0; i < n; i++) {
		double v = s[i].p == 0 ? 0.0 : s[i].p;
		uint64_t u;
		memcpy(&u, &v, sizeof u);
		u = (u >> 63) ? ~u : (u | ((uint64_t)1 << 63)); /* ascending as unsigned */
		key[i] = ~u;                                    /* descending */
		all_and &= key[i];
		all_or |= key[i];
	}
	scored *src = s, *dst = s2;
	uint64_t *ksrc = key, *kdst = key2;
	for (int shift = 0; shift < 64; shift += 8) {
		if ((((all_and ^ all_or) >> shift) & 0xff) == 0)
			continue; /* this byte is the same in every key */
		size_t cnt[256] = {0};
		for (size_t i = 0; i < n; i++)
			cnt[(ksrc[i] >> shift) & 0xff]++;
		size_t sum = 0;
		for (size_t b = 0; b < 256; b++) {
			size_t c = cnt[b];
			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t d = cnt[(ksrc[i] >> shift) & 0xff]++;
			dst[d] = src[i];
			kdst[d] = ksrc[i];
		}
		scored *ts = src;
		src = dst;
		dst = ts;
		uint64_t *tk = ksrc;
		ksrc = kdst;
		kdst = tk;
	}
	if (src != s)
		memcpy(s, src, n * sizeof(scored));
	free(key);
	free(key2);
	free(s2);
	return true;
}

static churn_status sort_desc(const double *p, size_t n, scored **out)
{
	scored *s = malloc(n * sizeof(*s));
	if (!s)
		return ch_fail(CHURN_E_NOMEM, "out of memory sorting %zu scores", n);
	for (size_t i = 0; i < n; i++) {
		s[i].p = p[i];
		s[i].i = i;
	}
	if (n >= 256 && radix_desc(s, n)) {
		*out = s;
		return CHURN_OK;
	}
	qsort(s, n, sizeof(*s), cmp_desc);
	*out = s;
	return CHURN_OK;
}

/* Exact ROC AUC by ranks, ties averaged (tree-private.h): scores sorted as sort_desc() does. */
churn_status ch_roc_auc(const double *score, const uint8_t *y, size_t n, double *out)
{
	size_t npos = 0;
	for (size_t i = 0; i < n; i++)
		npos += y[i] ? 1 : 0;
	size_t nneg = n - npos;
	if (!npos || !nneg) {
		*out = 0.5;
		return CHURN_OK;
	}
	scored *s = NULL;
	churn_status st = sort_desc(score, n, &s);
	if (st)
		return st;
	/* sum of the (average) ascending ranks of the positives: ascending position k is s[n - 1 - k] */
	double rsum = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i, p = 0;
		while (j < n && s[n - 1 - j].p == s[n - 1 - i].p) {
			p += y[s[n - 1 - j].i] ? 1 : 0;
			j++;
		}
		rsum += ((double)i + 1 + (double)j) / 2 * (double)p; /* ranks i+1..j */
		i = j;
	}
	free(s);
	*out = (rsum - (double)npos * ((double)npos + 1) / 2) / ((double)npos * (double)nneg);
	return CHURN_OK;
}

/*
 * Sweep distinct thresholds in descending order: fn(ctx, threshold, tp, fp)
 * after each group of equal scores.
 */
typedef void (*sweep_fn)(void *ctx, double thr, size_t tp, size_t fp);

static void sweep(const scored *s, const uint8_t *y, size_t n, sweep_fn fn, void *ctx)
{
	size_t tp = 0, fp = 0;
	for (size_t k = 0; k < n;) {
		double thr = s[k].p;
		while (k < n && s[k].p == thr) {
			if (y[s[k].i])
				tp++;
			else
				fp++;
			k++;
		}
		fn(ctx, thr, tp, fp);
	}
}

/* ---- confusion-based ---- */

churn_status churn_metrics_confusion(const uint8_t *y, const double *p, size_t n, double threshold,
                                     churn_confusion *out)
{
	churn_status st = check_inputs(y, p, n, "churn_metrics_confusion");
	if (st)
		return st;
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_confusion: out is NULL");
	if (isnan(threshold))
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_confusion: threshold is NaN");
	churn_confusion c = {0, 0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		bool pred = p[i] >= threshold;
		if (y[i])
			pred ? c.tp++ : c.fn++;
		else
			pred ? c.fp++ : c.tn++;
	}
	*out = c;
	return CHURN_OK;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

double churn_metrics_accuracy(const churn_confusion *c)
{
	return c ? ratio(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn) : 0;
}

double churn_metrics_precision(const churn_confusion *c)
{
	return c ? ratio(c->tp, c->tp + c->fp) : 0;
}

double churn_metrics_recall(const churn_confusion *c)
{
	return c ? ratio(c->tp, c->tp + c->fn) : 0;
}

double churn_metrics_f1(const churn_confusion *c)
{
	return c ? ratio(2 * c->tp, 2 * c->tp + c->fp + c->fn) : 0;
}

/* ---- ranking metrics ---- */

typedef struct auc_ctx {
	double P, N, area, prev_tp, prev_fp, ap;
} auc_ctx;

static void auc_step(void *vctx, double thr, size_t tp, size_t fp)
{
	(void)thr;
	auc_ctx *c = vctx;
	/* trapezoid in (fp, tp) units, scaled at the end */
	c->area += ((double)fp - c->prev_fp) * ((double)tp + c->prev_tp) / 2.0;
	/* average precision: (R_k - R_{k-1}) P_k */
	c->ap += ((double)tp - c->prev_tp) / c->P * ((double)tp / (double)(tp + fp));
	c->prev_tp = (double)tp;
	c->prev_fp = (double)fp;
}

static churn_status ranking(const uint8_t *y, const double *p, size_t n, const char *fn, auc_ctx *out)
{
	churn_status st;
	size_t pos = 0;
	if ((st = check_inputs(y, p, n, fn)) || (st = need_both(y, n, fn, &pos)))
		return st;
	scored *s;
	if ((st = sort_desc(p, n, &s)))
		return st;
	auc_ctx c = {(double)pos, (double)(n - pos), 0, 0, 0, 0};
	sweep(s, y, n, auc_step, &c);
	free(s);
	*out = c;
	return CHURN_OK;
}

churn_status churn_metrics_roc_auc(const uint8_t *y, const double *p, size_t n, double *out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_roc_auc: out is NULL");
	auc_ctx c;
	churn_status st = ranking(y, p, n, "churn_metrics_roc_auc", &c);
	if (st)
		return st;
	*out = c.area / (c.P * c.N);
	return CHURN_OK;
}

churn_status churn_metrics_average_precision(const uint8_t *y, const double *p, size_t n, double *out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_average_precision: out is NULL");
	auc_ctx c;
	churn_status st = ranking(y, p, n, "churn_metrics_average_precision", &c);
	if (st)
		return st;
	*out = c.ap;
	return CHURN_OK;
}

churn_status churn_metrics_log_loss(const uint8_t *y, const double *p, size_t n, double *out)
{
	churn_status st = check_inputs(y, p, n, "churn_metrics_log_loss");
	if (st)
		return st;
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_log_loss: out is NULL");
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double q = p[i] < LOGLOSS_EPS ? LOGLOSS_EPS : (p[i] > 1 - LOGLOSS_EPS ? 1 - LOGLOSS_EPS : p[i]);
		s += y[i] ? -log(q) : -log1p(-q);
	}
	*out = s / (double)n;
	return CHURN_OK;
}

churn_status churn_metrics_brier(const uint8_t *y, const double *p, size_t n, double *out)
{
	churn_status st = check_inputs(y, p, n, "churn_metrics_brier");
	if (st)
		return st;
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_brier: out is NULL");
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double d = p[i] - (double)y[i];
		s += d * d;
	}
	*out = s / (double)n;
	return CHURN_OK;
}

/* ---- curves ---- */

typedef struct curve_ctx {
	double P, N;
	double *a, *b, *thr;   /* roc: fpr, tpr; pr: precision, recall */
	size_t k, cap;
	bool pr;
} curve_ctx;

static void curve_step(void *vctx, double thr, size_t tp, size_t fp)
{
	curve_ctx *c = vctx;
	if (c->k < c->cap) {
		if (c->pr) {
			c->a[c->k] = (double)tp / (double)(tp + fp);
			c->b[c->k] = (double)tp / c->P;
		} else {
			c->a[c->k] = (double)fp / c->N;
			c->b[c->k] = (double)tp / c->P;
		}
		if (c->thr)
			c->thr[c->k] = thr;
	}
	c->k++;
}

static churn_status curve(const uint8_t *y, const double *p, size_t n, bool pr, double *a, double *b, double *thr,
                          size_t cap, size_t *out_n, const char *fn)
{
	churn_status st;
	size_t pos = 0;
	if ((st = check_inputs(y, p, n, fn)) || (st = need_both(y, n, fn, &pos)))
		return st;
	if (!out_n || (cap && (!a || !b)))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL output", fn);
	scored *s;
	if ((st = sort_desc(p, n, &s)))
		return st;
	curve_ctx c = {(double)pos, (double)(n - pos), a, b, thr, 0, cap, pr};
	if (!pr) {
		if (cap) {
			a[0] = 0;
			b[0] = 0;
			if (thr)
				thr[0] = s[0].p + 1;
		}
		c.k = 1;
	}
	sweep(s, y, n, curve_step, &c);
	free(s);
	*out_n = c.k;
	if (c.k > cap)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: the curve has %zu points, the arrays hold %zu", fn, c.k, cap);
	return CHURN_OK;
}

churn_status churn_metrics_roc_curve(const uint8_t *y, const double *p, size_t n, double *out_fpr, double *out_tpr,
                                     double *out_threshold, size_t cap, size_t *out_n)
{
	return curve(y, p, n, false, out_fpr, out_tpr, out_threshold, cap, out_n, "churn_metrics_roc_curve");
}

churn_status churn_metrics_pr_curve(const uint8_t *y, const double *p, size_t n, double *out_precision,
                                    double *out_recall, double *out_threshold, size_t cap, size_t *out_n)
{
	return curve(y, p, n, true, out_precision, out_recall, out_threshold, cap, out_n, "churn_metrics_pr_curve");
}

/* ---- lift, calibration ---- */

churn_status churn_metrics_lift(const uint8_t *y, const double *p, size_t n, size_t nbins, double *out_lift,
                                double *out_gain)
{
	const char *fn = "churn_metrics_lift";
	churn_status st = check_inputs(y, p, n, fn);
	if (st)
		return st;
	if (nbins < 1 || nbins > n)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: %zu bins for %zu rows", fn, nbins, n);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	if (pos == 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: no positive rows", fn);
	scored *s;
	if ((st = sort_desc(p, n, &s)))
		return st;
	double rate = (double)pos / (double)n;
	size_t cum = 0;
	for (size_t b = 0; b < nbins; b++) {
		size_t r0 = b * n / nbins, r1 = (b + 1) * n / nbins, bp = 0;
		for (size_t r = r0; r < r1; r++)
			bp += y[s[r].i];
		cum += bp;
		if (out_lift)
			out_lift[b] = r1 > r0 ? ((double)bp / (double)(r1 - r0)) / rate : 0;
		if (out_gain)
			out_gain[b] = (double)cum / (double)pos;
	}
	free(s);
	return CHURN_OK;
}

churn_status churn_metrics_calibration(const uint8_t *y, const double *p, size_t n, size_t nbins,
                                       uint64_t *out_count, double *out_mean_p, double *out_frac_pos)
{
	const char *fn = "churn_metrics_calibration";
	churn_status st = check_inputs(y, p, n, fn);
	if (st)
		return st;
	if (!out_count || !out_mean_p || !out_frac_pos)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: NULL output", fn);
	if (nbins < 1 || nbins > 1000000)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: %zu bins", fn, nbins);
	for (size_t b = 0; b < nbins; b++) {
		out_count[b] = 0;
		out_mean_p[b] = 0;
		out_frac_pos[b] = 0;
	}
	for (size_t i = 0; i < n; i++) {
		size_t b = (size_t)(p[i] * (double)nbins);
		if (b >= nbins)
			b = nbins - 1;
		out_count[b]++;
		out_mean_p[b] += p[i];
		out_frac_pos[b] += y[i];
	}
	for (size_t b = 0; b < nbins; b++) {
		if (out_count[b]) {
			out_mean_p[b] /= (double)out_count[b];
			out_frac_pos[b] /= (double)out_count[b];
		}
	}
	return CHURN_OK;
}

/* ---- thresholds ---- */

typedef struct thr_ctx {
	double P, N;
	double cost_fn, cost_fp;
	bool by_cost;
	double best, best_thr;
	bool have;
} thr_ctx;

static void thr_step(void *vctx, double thr, size_t tp, size_t fp)
{
	thr_ctx *c = vctx;
	double fn = c->P - (double)tp;
	if (c->by_cost) {
		double cost = c->cost_fn * fn + c->cost_fp * (double)fp;
		if (!c->have || cost < c->best) {
			c->best = cost;
			c->best_thr = thr;
			c->have = true;
		}
	} else {
		double f1 = 2.0 * (double)tp / (2.0 * (double)tp + (double)fp + fn);
		if (!c->have || f1 > c->best) {
			c->best = f1;
			c->best_thr = thr;
			c->have = true;
		}
	}
}

static churn_status pick_threshold(const uint8_t *y, const double *p, size_t n, thr_ctx *c, const char *fn)
{
	churn_status st;
	size_t pos = 0;
	if ((st = check_inputs(y, p, n, fn)) || (st = need_both(y, n, fn, &pos)))
		return st;
	scored *s;
	if ((st = sort_desc(p, n, &s)))
		return st;
	c->P = (double)pos;
	c->N = (double)(n - pos);
	if (c->by_cost) {
		/* "nobody": every positive is missed */
		double none = nextafter(s[0].p, INFINITY);
		c->best = c->cost_fn * c->P;
		c->best_thr = none > 1 ? 1 : none;
		c->have = true;
	}
	sweep(s, y, n, thr_step, c);
	free(s);
	return CHURN_OK;
}

churn_status churn_metrics_best_f1_threshold(const uint8_t *y, const double *p, size_t n, double *out_threshold,
                                             double *out_f1)
{
	if (!out_threshold)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_metrics_best_f1_threshold: out is NULL");
	thr_ctx c = {0};
	churn_status st = pick_threshold(y, p, n, &c, "churn_metrics_best_f1_threshold");
	if (st)
		return st;
	*out_threshold = c.best_thr;
	if (out_f1)
		*out_f1 = c.best;
	return CHURN_OK;
}

churn_status churn_metrics_cost_threshold(const uint8_t *y, const double *p, size_t n, double cost_fn,
                                          double cost_fp, double *out_threshold, double *out_cost)
{
	const char *fn = "churn_metrics_cost_threshold";
	if (!out_threshold)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: out is NULL", fn);
	if (!(cost_fn >= 0 && cost_fp >= 0) || !isfinite(cost_fn) || !isfinite(cost_fp) || cost_fn + cost_fp <= 0)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: costs must be finite, >= 0 and not both 0 (got %g, %g)", fn, cost_fn,
		               cost_fp);
	thr_ctx c = {0};
	c.by_cost = true;
	c.cost_fn = cost_fn;
	c.cost_fp = cost_fp;
	churn_status st = pick_threshold(y, p, n, &c, fn);
	if (st)
		return st;
	*out_threshold = c.best_thr;
	if (out_cost)
		*out_cost = c.best;
	return CHURN_OK;
}

/* ---- JSON number helpers shared with the model artifacts (model-private.h) ---- */

double ch_sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

cJSON *ch_json_number(double v)
{
	if (!isfinite(v))
		return cJSON_CreateNull();
	char buf[40];
	ch_format_double_short(buf, sizeof(buf), v);
	return cJSON_CreateRaw(buf);
}

bool ch_json_add_number(cJSON *obj, const char *key, double v)
{
	cJSON *n = ch_json_number(v);
	if (!n)
		return false;
	if (!cJSON_AddItemToObject(obj, key, n)) {
		cJSON_Delete(n);
		return false;
	}
	return true;
}

churn_status ch_json_get_double(const cJSON *obj, const char *key, const char *where, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it)
		return ch_fail(CHURN_E_FORMAT, "%s: field '%s' is missing", where, key);
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return ch_fail(CHURN_E_FORMAT, "%s: field '%s' is not a finite number", where, key);
	*out = it->valuedouble;
	return CHURN_OK;
}

churn_status ch_json_get_size(const cJSON *obj, const char *key, const char *where, size_t max, size_t *out)
{
	double v = 0;
	churn_status st = ch_json_get_double(obj, key, where, &v);
	if (st)
		return st;
	if (v < 0 || v != floor(v) || v > (double)max)
		return ch_fail(CHURN_E_FORMAT, "%s: field '%s' must be an integer in [0, %zu]", where, key, max);
	*out = (size_t)v;
	return CHURN_OK;
}

churn_status ch_json_get_doubles(const cJSON *arr, size_t n, const char *where, double *out)
{
	if (!cJSON_IsArray(arr))
		return ch_fail(CHURN_E_FORMAT, "%s: expected an array of %zu numbers", where, n);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (i >= n)
			return ch_fail(CHURN_E_FORMAT, "%s: more than %zu numbers", where, n);
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
			return ch_fail(CHURN_E_FORMAT, "%s: element %zu is not a finite number", where, i);
		out[i++] = it->valuedouble;
	}
	if (i != n)
		return ch_fail(CHURN_E_FORMAT, "%s: %zu numbers, expected %zu", where, i, n);
	return CHURN_OK;
}

/* ---- everything as JSON ---- */

static bool add_num(cJSON *o, const char *k, double v)
{
	return ch_json_add_number(o, k, v);
}

static cJSON *thin_array(const double *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	size_t m = n < CURVE_POINTS ? n : CURVE_POINTS;
	for (size_t k = 0; k < m; k++) {
		size_t i = m > 1 ? (size_t)((double)k * (double)(n - 1) / (double)(m - 1) + 0.5) : 0;
		cJSON *x = ch_json_number(v[i]);
		if (!x || !cJSON_AddItemToArray(arr, x)) {
			cJSON_Delete(x);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static bool add_curve(cJSON *o, const char *key, const char *ka, const char *kb, const double *a, const double *b,
                      const double *t, size_t n)
{
	cJSON *c = cJSON_AddObjectToObject(o, key);
	if (!c)
		return false;
	const char *keys[3] = {ka, kb, "threshold"};
	const double *vals[3] = {a, b, t};
	for (int k = 0; k < 3; k++) {
		cJSON *arr = thin_array(vals[k], n);
		if (!arr || !cJSON_AddItemToObject(c, keys[k], arr)) {
			cJSON_Delete(arr);
			return false;
		}
	}
	return true;
}

/* A new object appended to array arr; NULL when out of memory. */
static cJSON *add_entry(cJSON *arr)
{
	cJSON *e = cJSON_CreateObject();
	if (e && !cJSON_AddItemToArray(arr, e)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

/* The scalar metrics at threshold and the confusion counts, into o. */
static churn_status scores_json(cJSON *o, const uint8_t *y, const double *p, size_t n, size_t pos, double threshold)
{
	churn_confusion c;
	double auc, ap, ll, brier;
	churn_status st;
	if ((st = churn_metrics_confusion(y, p, n, threshold, &c)) || (st = churn_metrics_roc_auc(y, p, n, &auc)) ||
	    (st = churn_metrics_average_precision(y, p, n, &ap)) || (st = churn_metrics_log_loss(y, p, n, &ll)) ||
	    (st = churn_metrics_brier(y, p, n, &brier)))
		return st;
	cJSON *conf;
	if (!add_num(o, "accuracy", churn_metrics_accuracy(&c)) || !add_num(o, "precision", churn_metrics_precision(&c)) ||
	    !add_num(o, "recall", churn_metrics_recall(&c)) || !add_num(o, "f1", churn_metrics_f1(&c)) ||
	    !add_num(o, "roc_auc", auc) || !add_num(o, "pr_auc", ap) || !add_num(o, "log_loss", ll) ||
	    !add_num(o, "brier", brier) || !add_num(o, "threshold", threshold) ||
	    !(conf = cJSON_AddObjectToObject(o, "confusion")) || !add_num(conf, "tp", (double)c.tp) ||
	    !add_num(conf, "fp", (double)c.fp) || !add_num(conf, "tn", (double)c.tn) ||
	    !add_num(conf, "fn", (double)c.fn) || !add_num(o, "n", (double)n) || !add_num(o, "positives", (double)pos))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	return CHURN_OK;
}

/* top_decile_lift and lift: by decile (or fewer bins for tiny sets), with rows, positives and cumulative gain. */
static churn_status lift_json(cJSON *o, const uint8_t *y, const double *p, size_t n, size_t pos)
{
	size_t nb = n < 10 ? n : 10;
	double lift[10], gain[10];
	churn_status st = churn_metrics_lift(y, p, n, nb, lift, gain);
	if (st)
		return st;
	cJSON *arr;
	if (!add_num(o, "top_decile_lift", lift[0]) || !(arr = cJSON_AddArrayToObject(o, "lift")))
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t b = 0; b < nb; b++) {
		cJSON *e = add_entry(arr);
		size_t rows = (b + 1) * n / nb - b * n / nb;
		size_t bp_prev = b ? (size_t)llround(gain[b - 1] * (double)pos) : 0;
		size_t bp = (size_t)llround(gain[b] * (double)pos) - bp_prev;
		if (!e || !add_num(e, "decile", (double)(b + 1)) || !add_num(e, "rows", (double)rows) ||
		    !add_num(e, "positives", (double)bp) || !add_num(e, "lift", lift[b]) ||
		    !add_num(e, "cumulative_gain", gain[b]))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

/* calibration: 10 bins of predicted probability, their counts, mean prediction and fraction positive. */
static churn_status calibration_json(cJSON *o, const uint8_t *y, const double *p, size_t n)
{
	uint64_t cnt[10];
	double mp[10], fp[10];
	churn_status st = churn_metrics_calibration(y, p, n, 10, cnt, mp, fp);
	if (st)
		return st;
	cJSON *arr = cJSON_AddArrayToObject(o, "calibration");
	if (!arr)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (size_t b = 0; b < 10; b++) {
		cJSON *e = add_entry(arr);
		if (!e || !add_num(e, "bin", (double)b) || !add_num(e, "lo", (double)b / 10) ||
		    !add_num(e, "hi", (double)(b + 1) / 10) || !add_num(e, "count", (double)cnt[b]) ||
		    !add_num(e, "mean_predicted", mp[b]) || !add_num(e, "fraction_positive", fp[b]))
			return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

/* roc_curve and pr_curve, thinned to CURVE_POINTS points each. */
static churn_status curves_json(cJSON *o, const uint8_t *y, const double *p, size_t n)
{
	double *buf = malloc(3 * (n + 1) * sizeof *buf);
	if (!buf)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	double *a = buf, *b = buf + (n + 1), *t = buf + 2 * (n + 1);
	size_t np;
	churn_status st = churn_metrics_roc_curve(y, p, n, a, b, t, n + 1, &np);
	if (!st && !add_curve(o, "roc_curve", "fpr", "tpr", a, b, t, np))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	if (!st)
		st = churn_metrics_pr_curve(y, p, n, a, b, t, n + 1, &np);
	if (!st && !add_curve(o, "pr_curve", "precision", "recall", a, b, t, np))
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
	free(buf);
	return st;
}

churn_status churn_metrics_compute_json(const uint8_t *y, const double *p, size_t n, double threshold,
                                        char **out_json)
{
	const char *fn = "churn_metrics_compute_json";
	churn_status st;
	size_t pos = 0;
	if (!out_json)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: out_json is NULL", fn);
	if ((st = check_inputs(y, p, n, fn)) || (st = need_both(y, n, fn, &pos)))
		return st;
	if (!(threshold >= 0 && threshold <= 1))
		return ch_fail(CHURN_E_INVALID_ARG, "%s: threshold %g is not in [0, 1]", fn, threshold);
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	if ((st = scores_json(o, y, p, n, pos, threshold)) || (st = lift_json(o, y, p, n, pos)) ||
	    (st = calibration_json(o, y, p, n)) || (st = curves_json(o, y, p, n)))
		goto out;
	char *s = ch_json_print(o, false);
	if (!s) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	*out_json = s;
out:
	cJSON_Delete(o);
	return st;
}
