/*
 * Synthetic Telco churn data: one row generator shared by the CSV writer and
 * the in-memory dataset builder. The model and its calibration are documented
 * in churn/synth.h.
 */
#include "churn/synth.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "rng-private.h"

/* Upper bounds on rows (the ID space is 10^4 * 26^5 = 1.19e11). */
#define SYNTH_MAX_ROWS UINT64_C(10000000000)
#define SYNTH_MAX_DATASET_ROWS UINT64_C(1000000000)
#define SYNTH_CHUNK (1u << 20)
#define SYNTH_ROW_MAX 512 /* longest possible CSV row is about 330 bytes */

/* ---- random numbers: ch_rng (rng-private.h), seeded by splitmix64 ------- */

static inline bool bern(ch_rng *r, double p)
{
	return ch_rng_unit(r) < p;
}

/* Standard normal (Box-Muller, one value per call: simple and reproducible). */
static double normal(ch_rng *r)
{
	double u1 = 1.0 - ch_rng_unit(r); /* (0, 1] */
	double u2 = ch_rng_unit(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Index drawn from cumulative probabilities cum[0..n) (cum[n-1] = 1). */
static int pick(ch_rng *r, const double *cum, int n)
{
	double u = ch_rng_unit(r);
	for (int k = 0; k < n - 1; k++)
		if (u < cum[k])
			return k;
	return n - 1;
}

/* ---- customer IDs: a keyed bijection of [0, 10^4 * 26^5) --------------- */

#define ID_LETTERS UINT64_C(11881376) /* 26^5 */
#define ID_SPACE (UINT64_C(10000) * ID_LETTERS)
#define ID_HALF_BITS 19
#define ID_HALF_MASK ((UINT64_C(1) << ID_HALF_BITS) - 1)

typedef struct synth {
	ch_rng r;
	uint64_t id_key[4];
} synth;

/* 4-round Feistel network on 38 bits, cycle-walked into ID_SPACE (< 2^37). */
static uint64_t id_permute(const synth *g, uint64_t x)
{
	do {
		uint64_t l = x >> ID_HALF_BITS, rr = x & ID_HALF_MASK;
		for (int k = 0; k < 4; k++) {
			uint64_t f = rr * UINT64_C(0x9E3779B97F4A7C15) ^ g->id_key[k];
			f ^= f >> 29;
			f *= UINT64_C(0xBF58476D1CE4E5B9);
			f ^= f >> 32;
			uint64_t nl = rr;
			rr = (l ^ f) & ID_HALF_MASK;
			l = nl;
		}
		x = (l << ID_HALF_BITS) | rr;
	} while (x >= ID_SPACE);
	return x;
}

static void synth_init(synth *g, uint64_t seed)
{
	uint64_t x = seed;
	ch_rng_seed_splitmix(&g->r, &x);
	for (int k = 0; k < 4; k++)
		g->id_key[k] = ch_splitmix64(&x);
}

/* ---- one row ------------------------------------------------------------ */

enum { NET_DSL = 0, NET_FIBER = 1, NET_NO = 2 };
enum { ADD_SECURITY, ADD_BACKUP, ADD_PROTECTION, ADD_SUPPORT, ADD_TV, ADD_MOVIES, N_ADDONS };
enum { PAY_ECHECK = 0, PAY_MAILED = 1, PAY_BANK = 2, PAY_CARD = 3 };

typedef struct row {
	uint64_t id;
	uint8_t male, senior, partner, dependents;
	uint8_t phone, multiline; /* multiline: 0 No, 1 Yes, 2 No phone service */
	uint8_t internet;
	uint8_t addon[N_ADDONS]; /* 0 No, 1 Yes, 2 No internet service */
	uint8_t contract;        /* 0 month-to-month, 1 one year, 2 two year */
	uint8_t paperless, pay, churn;
	int tenure;
	int64_t monthly_cents;
	int64_t total_cents; /* -1: blank */
} row;

static const double contract_cum[3] = {0.55, 0.759, 1.0};
static const double internet_cum[3][3] = {
	{0.316, 0.865, 1.0}, /* month-to-month: DSL, Fiber optic, No */
	{0.387, 0.753, 1.0}, /* one year */
	{0.370, 0.622, 1.0}, /* two year */
};
static const double pay_cum[3][4] = {
	/* Electronic check, Mailed check, Bank transfer, Credit card */
	{0.477, 0.707, 0.859, 1.0},
	{0.236, 0.465, 0.730, 1.0},
	{0.099, 0.324, 0.657, 1.0},
};
static const double paperless_p[3] = {0.667, 0.543, 0.463};
static const double addon_p[2][N_ADDONS] = {
	{0.49, 0.45, 0.44, 0.49, 0.40, 0.405}, /* DSL */
	{0.27, 0.43, 0.44, 0.28, 0.565, 0.566}, /* Fiber optic */
};

/* Churn model: see churn/synth.h. */
#define B_INTERCEPT (-1.00)
#define B_ONE_YEAR (-0.693)
#define B_TWO_YEAR (-1.635)
#define B_LOG_TENURE (-0.658)
#define B_DSL 0.755
#define B_FIBER 1.227
#define B_ECHECK 0.383
#define B_MONTHLY_10 0.138
#define B_PAPERLESS 0.393
#define B_SENIOR 0.291
#define B_SUPPORT (-0.355)
#define B_SECURITY (-0.436)
#define NOISE_SD 0.35

static int clip_int(double v, int lo, int hi)
{
	long x = lround(v);
	return x < lo ? lo : x > hi ? hi : (int)x;
}

static void gen_row(synth *g, uint64_t i, row *w)
{
	ch_rng *r = &g->r;
	w->id = id_permute(g, i);
	w->male = bern(r, 0.505);
	w->senior = bern(r, 0.162);
	w->partner = bern(r, 0.483);
	w->dependents = bern(r, w->partner ? 0.514 : 0.099);
	w->contract = (uint8_t)pick(r, contract_cum, 3);

	if (w->contract == 0) {
		w->tenure = bern(r, 0.12) ? 1 : clip_int(1.0 + floor(-19.0 * log(1.0 - ch_rng_unit(r))), 1, 72);
	} else if (bern(r, 0.0044)) {
		w->tenure = 0;
	} else {
		w->tenure = w->contract == 1 ? clip_int(42.0 + 19.0 * normal(r), 1, 72)
		                             : clip_int(62.0 + 20.0 * normal(r), 1, 72);
	}

	w->internet = (uint8_t)pick(r, internet_cum[w->contract], 3);
	w->phone = w->internet == NET_DSL ? bern(r, 0.72) : 1;
	w->multiline = w->phone ? bern(r, 0.467) : 2;
	double shift = 0.25 * (w->tenure / 72.0 - 0.45);
	for (int k = 0; k < N_ADDONS; k++) {
		if (w->internet == NET_NO) {
			w->addon[k] = 2;
			continue;
		}
		double p = addon_p[w->internet][k] + shift;
		w->addon[k] = bern(r, p < 0.02 ? 0.02 : p > 0.98 ? 0.98 : p);
	}
	w->paperless = bern(r, paperless_p[w->contract]);
	w->pay = (uint8_t)pick(r, pay_cum[w->contract], 4);

	double mc = 20.0 * w->phone + 5.0 * (w->multiline == 1);
	if (w->internet != NET_NO) {
		mc += w->internet == NET_DSL ? 25.0 : 50.0;
		for (int k = 0; k < N_ADDONS; k++)
			mc += w->addon[k] == 1 ? (k >= ADD_TV ? 10.0 : 5.0) : 0.0;
	}
	mc += normal(r);
	int64_t cents = (int64_t)llround(mc * 20.0) * 5;
	w->monthly_cents = cents < 1825 ? 1825 : cents > 11875 ? 11875 : cents;

	if (w->tenure == 0) {
		w->total_cents = -1;
	} else if (w->tenure == 1) {
		w->total_cents = w->monthly_cents;
	} else {
		double f = 1.0 + 0.05 * normal(r);
		f = f < 0.7 ? 0.7 : f > 1.5 ? 1.5 : f;
		w->total_cents = (int64_t)llround((double)w->tenure * (double)w->monthly_cents * f);
	}

	double z = B_INTERCEPT + (w->contract == 1 ? B_ONE_YEAR : 0.0) + (w->contract == 2 ? B_TWO_YEAR : 0.0) +
	           B_LOG_TENURE * log1p((double)w->tenure) + (w->internet == NET_DSL ? B_DSL : 0.0) +
	           (w->internet == NET_FIBER ? B_FIBER : 0.0) + (w->pay == PAY_ECHECK ? B_ECHECK : 0.0) +
	           B_MONTHLY_10 * (double)w->monthly_cents / 1000.0 + (w->paperless ? B_PAPERLESS : 0.0) +
	           (w->senior ? B_SENIOR : 0.0) + (w->addon[ADD_SUPPORT] == 1 ? B_SUPPORT : 0.0) +
	           (w->addon[ADD_SECURITY] == 1 ? B_SECURITY : 0.0) + NOISE_SD * normal(r);
	w->churn = ch_rng_unit(r) < 1.0 / (1.0 + exp(-z));
}

/* ---- text of the values ------------------------------------------------- */

typedef struct lit {
	const char *s;
	size_t n;
} lit;
#define L(x) {x, sizeof(x) - 1}

static const lit yes_no[2] = {L("No"), L("Yes")};
static const lit gender_lit[2] = {L("Female"), L("Male")};
static const lit multiline_lit[3] = {L("No"), L("Yes"), L("No phone service")};
static const lit internet_lit[3] = {L("DSL"), L("Fiber optic"), L("No")};
static const lit addon_lit[3] = {L("No"), L("Yes"), L("No internet service")};
static const lit contract_lit[3] = {L("Month-to-month"), L("One year"), L("Two year")};
static const lit pay_lit[4] = {L("Electronic check"), L("Mailed check"), L("Bank transfer (automatic)"),
                               L("Credit card (automatic)")};

static const char *const col_names[CHURN_SYNTH_NCOLS] = {
	"customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "PhoneService",
	"MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport",
	"StreamingTV", "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod", "MonthlyCharges",
	"TotalCharges", "Churn"};

static void format_id(uint64_t id, char out[10])
{
	uint64_t digits = id / ID_LETTERS, letters = id % ID_LETTERS;
	for (int k = 3; k >= 0; k--) {
		out[k] = (char)('0' + digits % 10);
		digits /= 10;
	}
	out[4] = '-';
	for (int k = 9; k >= 5; k--) {
		out[k] = (char)('A' + letters % 26);
		letters /= 26;
	}
}

static inline char *put(char *p, const lit *l)
{
	memcpy(p, l->s, l->n);
	return p + l->n;
}

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Cents as the shortest decimal: 2985 -> "29.85", 188950 -> "1889.5", 2000 -> "20". */
static char *put_cents(char *p, int64_t cents)
{
	p = put_uint(p, (uint64_t)(cents / 100));
	int c = (int)(cents % 100);
	if (c) {
		*p++ = '.';
		*p++ = (char)('0' + c / 10);
		if (c % 10)
			*p++ = (char)('0' + c % 10);
	}
	return p;
}

static char *format_row(char *p, const row *w)
{
	format_id(w->id, p);
	p += 10;
	*p++ = ',';
	p = put(p, &gender_lit[w->male]);
	*p++ = ',';
	*p++ = (char)('0' + w->senior);
	*p++ = ',';
	p = put(p, &yes_no[w->partner]);
	*p++ = ',';
	p = put(p, &yes_no[w->dependents]);
	*p++ = ',';
	p = put_uint(p, (uint64_t)w->tenure);
	*p++ = ',';
	p = put(p, &yes_no[w->phone]);
	*p++ = ',';
	p = put(p, &multiline_lit[w->multiline]);
	*p++ = ',';
	p = put(p, &internet_lit[w->internet]);
	for (int k = 0; k < N_ADDONS; k++) {
		*p++ = ',';
		p = put(p, &addon_lit[w->addon[k]]);
	}
	*p++ = ',';
	p = put(p, &contract_lit[w->contract]);
	*p++ = ',';
	p = put(p, &yes_no[w->paperless]);
	*p++ = ',';
	p = put(p, &pay_lit[w->pay]);
	*p++ = ',';
	p = put_cents(p, w->monthly_cents);
	*p++ = ',';
	if (w->total_cents >= 0)
		p = put_cents(p, w->total_cents);
	*p++ = ',';
	p = put(p, &yes_no[w->churn]);
	*p++ = '\n';
	return p;
}

/* ---- public API --------------------------------------------------------- */

churn_status churn_synth_write(uint64_t rows, uint64_t seed, churn_write_fn fn, void *userdata)
{
	if (!fn)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_synth_write: no write function");
	if (rows > SYNTH_MAX_ROWS)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_synth_write: %llu rows is more than the limit of %llu",
		               (unsigned long long)rows, (unsigned long long)SYNTH_MAX_ROWS);
	char *buf = malloc(SYNTH_CHUNK + SYNTH_ROW_MAX);
	if (!buf)
		return ch_fail(CHURN_E_NOMEM, "churn_synth_write: out of memory");
	churn_status st = CHURN_OK;
	uint64_t written = 0;
	char *p = buf;
	for (int j = 0; j < CHURN_SYNTH_NCOLS; j++) {
		size_t n = strlen(col_names[j]);
		memcpy(p, col_names[j], n);
		p += n;
		*p++ = j + 1 < CHURN_SYNTH_NCOLS ? ',' : '\n';
	}
	synth g;
	synth_init(&g, seed);
	row w;
	for (uint64_t i = 0;; i++) {
		bool last = i == rows;
		if (!last) {
			gen_row(&g, i, &w);
			p = format_row(p, &w);
		}
		size_t n = (size_t)(p - buf);
		if (n >= SYNTH_CHUNK || (last && n > 0)) {
			size_t got = fn(userdata, buf, n);
			if (got != n) {
				st = ch_fail(CHURN_E_IO, "churn_synth_write: the output took %zu of %zu bytes after %llu bytes",
				             got, n, (unsigned long long)written);
				goto out;
			}
			written += n;
			p = buf;
		}
		if (last)
			break;
	}
	ch_clear_error();
out:
	free(buf);
	return st;
}

static size_t write_to_file(void *userdata, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, (FILE *)userdata);
}

churn_status churn_synth_write_file(uint64_t rows, uint64_t seed, const char *path)
{
	if (!path || !*path)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_synth_write_file: no path");
	ch_atomic a;
	churn_status st = ch_atomic_open(&a, path);
	if (st)
		return st;
	errno = 0;
	st = churn_synth_write(rows, seed, write_to_file, a.fp);
	if (st) {
		if (st == CHURN_E_IO)
			st = ch_fail(CHURN_E_IO, "%s: write failed: %s", path, errno ? strerror(errno) : "short write");
		ch_atomic_abort(&a);
		return st;
	}
	st = ch_atomic_commit(&a);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_synth_dataset(uint64_t rows, uint64_t seed, churn_dataset **out)
{
	if (!out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_synth_dataset: out is NULL");
	if (rows == 0 || rows > SYNTH_MAX_DATASET_ROWS)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_synth_dataset: rows must be 1..%llu (got %llu)",
		               (unsigned long long)SYNTH_MAX_DATASET_ROWS, (unsigned long long)rows);
	size_t n = (size_t)rows;
	churn_status st = CHURN_OK;
	churn_dataset *ds = NULL;
	row *rw = malloc(n * sizeof(*rw));
	char *ids = malloc(n * 11);
	const char **strs = malloc(n * sizeof(*strs));
	double *num = malloc(n * sizeof(*num));
	if (!rw || !ids || !strs || !num) {
		st = ch_fail(CHURN_E_NOMEM, "churn_synth_dataset: out of memory for %zu rows", n);
		goto out;
	}
	synth g;
	synth_init(&g, seed);
	for (size_t i = 0; i < n; i++) {
		gen_row(&g, i, &rw[i]);
		format_id(rw[i].id, ids + i * 11);
		ids[i * 11 + 10] = '\0';
	}
	if ((st = churn_dataset_new(&ds)))
		goto out;

	for (int j = 0; j < CHURN_SYNTH_NCOLS; j++) {
		const char *name = col_names[j];
		bool numeric = false;
		for (size_t i = 0; i < n; i++) {
			const row *w = &rw[i];
			switch (j) {
			case 0: strs[i] = ids + i * 11; break;
			case 1: strs[i] = gender_lit[w->male].s; break;
			case 2: num[i] = w->senior; numeric = true; break;
			case 3: strs[i] = yes_no[w->partner].s; break;
			case 4: strs[i] = yes_no[w->dependents].s; break;
			case 5: num[i] = w->tenure; numeric = true; break;
			case 6: strs[i] = yes_no[w->phone].s; break;
			case 7: strs[i] = multiline_lit[w->multiline].s; break;
			case 8: strs[i] = internet_lit[w->internet].s; break;
			case 9: case 10: case 11: case 12: case 13: case 14:
				strs[i] = addon_lit[w->addon[j - 9]].s;
				break;
			case 15: strs[i] = contract_lit[w->contract].s; break;
			case 16: strs[i] = yes_no[w->paperless].s; break;
			case 17: strs[i] = pay_lit[w->pay].s; break;
			case 18: num[i] = (double)w->monthly_cents / 100.0; numeric = true; break;
			case 19:
				num[i] = w->total_cents < 0 ? NAN : (double)w->total_cents / 100.0;
				numeric = true;
				break;
			default: strs[i] = yes_no[w->churn].s; break;
			}
		}
		if (numeric)
			st = churn_dataset_add_numeric(ds, name, num, n);
		else if (j == 0)
			st = churn_dataset_add_text(ds, name, strs, n);
		else
			st = churn_dataset_add_categorical(ds, name, strs, n);
		if (st)
			goto out;
	}
	*out = ds;
	ds = NULL;
	ch_clear_error();
out:
	churn_dataset_free(ds);
	free(rw);
	free(ids);
	free(strs);
	free(num);
	return st;
}
