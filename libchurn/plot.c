/*
 * Figures with plplot (cairo drivers). This file is the only user of plplot in
 * libchurn.
 *
 * plplot keeps process-wide state (the stream table, the current stream, the
 * exit/abort handlers), so every figure is drawn under plot_lock on a private
 * stream made with plmkstrm() and released with plend1(). plplot's fatal
 * errors call exit() after the handler set with plsexit() returns: our
 * handler longjmp()s back to the figure's setjmp() instead, and the figure
 * fails with CHURN_E_INTERNAL. plabort() messages are collected (a failing
 * figure), never printed. Only installed cairo devices are selected (an
 * unknown device makes plplot prompt on stdin), and the output file is
 * created by us first (a file plplot cannot open makes it prompt too).
 *
 * Numbers on axes and in annotations are formatted here, locale-free
 * (plslabelfunc), never with the C library's locale-dependent %f.
 */
#include "plot-private.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <plplot.h>

#include "churn/plot.h"
#include "core-private.h"
#include "params-private.h"
#include "png-private.h"

/* ---- process-wide plplot guard ---- */

static pthread_mutex_t plot_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local jmp_buf *tl_jmp;
static _Thread_local char tl_msg[256];
static _Thread_local bool tl_aborted;
static _Thread_local double tl_text = 1; /* text scale of the figure being drawn */

/* Character height: scale times the size plplot uses on a 1200 x 800 page. */
static void sch(double scale)
{
	plschr(0, scale * tl_text);
}

static int on_plexit(PLCHAR_VECTOR msg)
{
	snprintf(tl_msg, sizeof tl_msg, "%s", msg ? msg : "plplot error");
	if (tl_jmp)
		longjmp(*tl_jmp, 1);
	return 1;
}

static void on_plabort(PLCHAR_VECTOR msg)
{
	if (!tl_aborted)
		snprintf(tl_msg, sizeof tl_msg, "%s", msg ? msg : "plplot error");
	tl_aborted = true;
}

typedef void (*draw_fn)(const void *ctx, const ch_fig *fig);

static const unsigned char palette[][3] = {
	{255, 255, 255}, /* 0 background */
	{34, 34, 34},    /* 1 foreground */
	{0, 114, 178},   /* 2 blue */
	{213, 94, 0},    /* 3 vermillion */
	{230, 159, 0},   /* 4 orange */
	{86, 180, 233},  /* 5 sky blue */
	{0, 158, 115},   /* 6 bluish green */
	{204, 121, 167}, /* 7 reddish purple */
	{240, 228, 66},  /* 8 yellow */
	{228, 228, 228}, /* 9 grid */
	{110, 110, 110}, /* 10 grey text */
	{200, 200, 200}, /* 11 missing cell */
	{255, 255, 255}, /* 12 white */
	{34, 34, 34},    /* 13 */
	{34, 34, 34},    /* 14 */
	{34, 34, 34},    /* 15 scratch (alpha) */
};
enum { COL_MISSING = 11, COL_WHITE = 12, COL_SCRATCH = 15 };

int ch_plot_series_color(size_t k)
{
	static const int order[] = {CH_COL_BLUE, CH_COL_VERMILLION, CH_COL_GREEN, CH_COL_ORANGE,
	                            CH_COL_PURPLE, CH_COL_SKY, CH_COL_YELLOW};
	return order[k % 7];
}

static void set_alpha_color(int base, double alpha)
{
	plscol0a(COL_SCRATCH, palette[base][0], palette[base][1], palette[base][2], alpha);
	plcol0(COL_SCRATCH);
}

static bool have_device(const char *name)
{
	enum { NDEV = 128 };
	const char *menu[NDEV], *devs[NDEV];
	const char **pm = menu, **pd = devs;
	int n = NDEV;
	plgDevs(&pm, &pd, &n);
	for (int i = 0; i < n && i < NDEV; i++)
		if (pd[i] && strcmp(pd[i], name) == 0)
			return true;
	return false;
}

/*
 * Draw one figure with device dev, into file (svgcairo) or into the RGB
 * buffer mem (memcairo: fig->width x fig->height x 3 bytes, filled with the
 * background beforehand); 0 on success. Caller holds plot_lock.
 */
static int draw_guarded(const char *dev, const char *file, unsigned char *mem, const ch_fig *fig, draw_fn fn,
                        const void *ctx)
{
	jmp_buf jb;
	volatile int stage = 0;
	tl_aborted = false;
	tl_msg[0] = '\0';
	if (setjmp(jb) != 0) {
		if (stage == 1) {
			jmp_buf jb2;
			tl_jmp = &jb2;
			if (setjmp(jb2) == 0)
				plend1();
		}
		tl_jmp = NULL;
		return -1;
	}
	tl_jmp = &jb;
	plsexit(on_plexit);
	plsabort(on_plabort);
	PLINT strm = -1;
	plmkstrm(&strm);
	if (strm < 0) {
		tl_jmp = NULL;
		snprintf(tl_msg, sizeof tl_msg, "no free plplot stream");
		return -1;
	}
	stage = 1;
	plsdev(dev);
	if (mem)
		plsmem(fig->width, fig->height, mem);
	else
		plsfnam(file);
	plspage(90, 90, fig->width, fig->height, 0, 0);
	plscmap0n(16);
	for (int i = 0; i < 16; i++)
		plscol0(i, palette[i][0], palette[i][1], palette[i][2]);
	plscolbg(255, 255, 255);
	plinit();
	pladv(0);
	/* plplot's default character height grows with the page (W + H) / 100 px: keep text at the size it has on
	 * a 1200 x 800 page whatever the figure size */
	tl_text = 2000.0 / (double)(fig->width + fig->height);
	sch(0.8);
	plcol0(CH_COL_FG);
	fn(ctx, fig);
	plend1();
	stage = 2;
	tl_jmp = NULL;
	return tl_aborted ? -1 : 0;
}

static churn_status render_svg(const char *path, const ch_fig *fig, draw_fn fn, const void *ctx)
{
	ch_atomic a;
	churn_status st = ch_atomic_open(&a, path);
	if (st)
		return st;
	fclose(a.fp);
	a.fp = NULL;
	if (draw_guarded("svgcairo", a.tmp, NULL, fig, fn, ctx) != 0) {
		ch_atomic_abort(&a);
		return ch_fail(CHURN_E_INTERNAL, "%s: plplot (svgcairo) failed: %s", path, tl_msg);
	}
	struct stat sb;
	if (stat(a.tmp, &sb) != 0 || sb.st_size < 64) {
		ch_atomic_abort(&a);
		return ch_fail(CHURN_E_IO, "%s: plplot wrote no image (disk full?)", path);
	}
	a.fp = fopen(a.tmp, "rb+");
	if (!a.fp) {
		st = ch_fail(CHURN_E_IO, "%s: cannot reopen %s: %s", path, a.tmp, strerror(errno));
		ch_atomic_abort(&a);
		return st;
	}
	return ch_atomic_commit(&a);
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * One figure: drawn by plplot's memcairo device into our RGB buffer under
 * plot_lock, then encoded (ch_png_encode_rgb) and written atomically outside
 * the lock; SVG (fig->svg) through svgcairo.
 */
static churn_status render(const char *path_noext, const ch_fig *fig, draw_fn fn, const void *ctx)
{
	if (!path_noext || !*path_noext)
		return ch_fail(CHURN_E_INVALID_ARG, "figure path is empty");
	double t0 = cpu_ms();
	churn_status st = CHURN_OK;
	size_t w = (size_t)fig->width, h = (size_t)fig->height;
	char *png = ch_asprintf("%s.png", path_noext);
	char *svg = ch_asprintf("%s.svg", path_noext);
	unsigned char *rgb = malloc(w * h * 3 + 8);
	uint8_t *file = NULL;
	size_t nfile = 0;
	if (!png || !svg || !rgb) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	memset(rgb, 255, w * h * 3); /* memcairo draws over what is there: a white page */
	pthread_mutex_lock(&plot_lock);
	if (!have_device("memcairo") || (fig->svg && !have_device("svgcairo"))) {
		st = ch_fail(CHURN_E_UNSUPPORTED, "%s: plplot has no cairo driver (install plplot-driver-cairo)", png);
	} else if (draw_guarded("memcairo", NULL, rgb, fig, fn, ctx) != 0) {
		st = ch_fail(CHURN_E_INTERNAL, "%s: plplot (memcairo) failed: %s", png, tl_msg);
	} else if (fig->svg) {
		st = render_svg(svg, fig, fn, ctx);
	}
	pthread_mutex_unlock(&plot_lock);
	double t1 = cpu_ms();
	if (!st && !(st = ch_png_encode_rgb(rgb, w, h, 3 * w, &file, &nfile)))
		st = ch_write_file_atomic(png, file, nfile);
	if (!st && fig->p)
		ch_log(fig->p, CHURN_LOG_DEBUG, "figure %s: %zux%zu, %zu bytes, cpu %.1f ms (draw %.1f, encode+write %.1f)",
		       png, w, h, nfile, cpu_ms() - t0, t1 - t0, cpu_ms() - t1);
out:
	free(file);
	free(rgb);
	free(png);
	free(svg);
	return st;
}

/* ---- options, files ---- */

void ch_fig_from_params(ch_fig *f, const churn_params *p)
{
	/* the registry bounds both sizes (params-keys.def); NULL params give its defaults */
	f->width = (int)churn_params_get_int(p, CHURN_KEY_EDA_FIG_WIDTH);
	f->height = (int)churn_params_get_int(p, CHURN_KEY_EDA_FIG_HEIGHT);
	f->svg = churn_params_get_bool(p, CHURN_KEY_EDA_SVG);
	f->p = p;
}

churn_status ch_plot_check_dir(const char *dir)
{
	if (!dir || !*dir)
		return ch_fail(CHURN_E_INVALID_ARG, "figure directory is empty");
	churn_status st = ch_mkdir_p(dir);
	if (st)
		return st;
	if (access(dir, W_OK | X_OK) != 0)
		return ch_fail(CHURN_E_CREATE, "%s: directory is not writable: %s", dir, strerror(errno));
	return CHURN_OK;
}

char *ch_plot_sanitize(const char *s)
{
	char *r = ch_strdup(s ? s : "");
	if (!r)
		return NULL;
	for (char *c = r; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (!((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
		      u == '-'))
			*c = '_';
	}
	return r;
}

/* ---- text and numbers ---- */

/* Locale-free fixed-point formatting with dec decimals. */
static void fmt_fixed(char *buf, size_t cap, double v, int dec)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	dec = dec < 0 ? 0 : (dec > 9 ? 9 : dec);
	long long scale = 1;
	for (int i = 0; i < dec; i++)
		scale *= 10;
	double r = round(fabs(v) * (double)scale);
	if (r > 9e17) {
		ch_format_double_short(buf, cap, v);
		return;
	}
	long long iv = (long long)r;
	long long ip = iv / scale, fp = iv % scale;
	const char *sign = (v < 0 && iv != 0) ? "-" : "";
	if (dec > 0)
		snprintf(buf, cap, "%s%lld.%0*lld", sign, ip, dec, fp);
	else
		snprintf(buf, cap, "%s%lld", sign, ip);
}

/* Tick label: integer when whole, else up to 3 decimals without trailing zeros. */
static void fmt_tick(char *buf, size_t cap, double v, bool pct)
{
	if (pct)
		v *= 100;
	if (fabs(v) < 1e-9)
		v = 0;
	fmt_fixed(buf, cap, v, 3);
	char *dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (!pct && fabs(v) >= 10000 && !strchr(buf, '.') && strlen(buf) < 24 && cap >= 32) {
		/* 250000 -> 250,000 */
		char d[32];
		snprintf(d, sizeof d, "%s", buf);
		size_t neg = d[0] == '-', nd = strlen(d) - neg, o = 0;
		if (neg)
			buf[o++] = '-';
		for (size_t i = 0; i < nd; i++) {
			if (i && (nd - i) % 3 == 0)
				buf[o++] = ',';
			buf[o++] = d[neg + i];
		}
		buf[o] = '\0';
	}
	if (pct && strlen(buf) + 2 <= cap)
		strcat(buf, "%");
}

typedef struct axis_fmt {
	bool x_pct, y_pct;
	bool x_none, y_none; /* no numeric labels */
	bool y_noticks;      /* no ticks on the y axis (category bars) */
} axis_fmt;

static void label_fn(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
	const axis_fmt *f = data;
	if (length <= 0)
		return;
	bool pct = axis == PL_X_AXIS ? f->x_pct : f->y_pct;
	fmt_tick(label, (size_t)length, value, pct);
}

/* plplot treats '#' as an escape character: double it. Returns buf. */
static const char *esc(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 2 < cap; s++) {
		if (*s == '#')
			buf[o++] = '#';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Page size in mm and the current character height in mm. */
static void page_mm(double *w, double *h)
{
	PLFLT x0, x1, y0, y1;
	plgspa(&x0, &x1, &y0, &y1);
	*w = x1 - x0 > 0 ? x1 - x0 : 300;
	*h = y1 - y0 > 0 ? y1 - y0 : 200;
}

static double char_mm(void)
{
	PLFLT def, ht;
	plgchr(&def, &ht);
	return ht > 0 ? ht : 3;
}

/* Estimated width of s in normalized device x units at the current size. */
static double text_w(const char *s)
{
	double w, h;
	page_mm(&w, &h);
	return (double)utf8_len(s) * 0.68 * char_mm() / w;
}

static double char_h(void)
{
	double w, h;
	page_mm(&w, &h);
	return char_mm() / h;
}

/* Figure title at the top of the page. */
static void fig_title(const char *title)
{
	if (!title || !*title)
		return;
	char b[512];
	plvpor(0, 1, 0, 1);
	plwind(0, 1, 0, 1);
	sch(1.05);
	double w = text_w(title);
	if (w > 0.94)
		sch(1.05 * 0.94 / w);
	plcol0(CH_COL_FG);
	plptex(0.5, 1 - 2.2 * char_h(), 1, 0, 0.5, esc(b, sizeof b, title));
	sch(0.8);
}

/* Grid lines then the frame and ticks. xopt/yopt add "n" etc. */
static void axes(const char *xopt, const char *yopt, double xtick, double ytick, const axis_fmt *af, bool xgrid,
                 bool ygrid)
{
	plcol0(CH_COL_GRID);
	plwidth(1);
	pllsty(1);
	if (xgrid || ygrid)
		plbox(xgrid ? "g" : "", xtick, 0, ygrid ? "g" : "", ytick, 0);
	plcol0(CH_COL_FG);
	plslabelfunc(label_fn, (PLPointer)af);
	char xo[32], yo[32];
	snprintf(xo, sizeof xo, "bcst%s%s", af->x_none ? "" : "no", xopt ? xopt : "");
	snprintf(yo, sizeof yo, "bc%s%s%s", af->y_noticks ? "" : "stv", af->y_none ? "" : "no", yopt ? yopt : "");
	plbox(xo, xtick, 0, yo, ytick, 0);
	plslabelfunc(NULL, NULL);
}

static void fill_rect(double x0, double y0, double x1, double y1)
{
	PLFLT x[4] = {x0, x1, x1, x0}, y[4] = {y0, y0, y1, y1};
	plfill(4, x, y);
}

/* A "nice" tick step for a range spanning about n ticks. */
static double nice_step(double range, int n)
{
	if (!(range > 0))
		return 1;
	double raw = range / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	return nf * mag;
}

/* Legend box (line or patch samples) anchored at a corner of the current viewport. */
typedef struct legend_item {
	const char *label;
	int color;
	bool patch, dashed;
} legend_item;

static void legend(size_t n, const legend_item *it, int corner)
{
	if (!n)
		return;
	char b[512];
	PLFLT vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
	plgvpd(&vx0, &vx1, &vy0, &vy1);
	plgvpw(&wx0, &wx1, &wy0, &wy1);
	double ch = char_h(), maxw = 0;
	for (size_t i = 0; i < n; i++) {
		double w = text_w(it[i].label);
		if (w > maxw)
			maxw = w;
	}
	double sample = 0.035, pad = 0.01, row = 1.9 * ch;
	double bw = pad * 3 + sample + maxw, bh = row * (double)n + pad * 1.2;
	double x0 = (corner == 0 || corner == 1) ? vx1 - bw - 0.012 : vx0 + 0.012;
	double y0 = (corner == 1 || corner == 3) ? vy1 - bh - 0.015 : vy0 + 0.015;
	/* draw in NDC: a temporary unit window over the whole page */
	plvpor(0, 1, 0, 1);
	plwind(0, 1, 0, 1);
	plcol0(COL_WHITE);
	fill_rect(x0, y0, x0 + bw, y0 + bh);
	plcol0(CH_COL_GRID);
	PLFLT bx[5] = {x0, x0 + bw, x0 + bw, x0, x0}, by[5] = {y0, y0, y0 + bh, y0 + bh, y0};
	plline(5, bx, by);
	for (size_t i = 0; i < n; i++) {
		double yc = y0 + bh - pad * 0.6 - row * ((double)i + 0.5);
		plcol0(it[i].color);
		if (it[i].patch) {
			fill_rect(x0 + pad, yc - 0.45 * ch, x0 + pad + sample, yc + 0.45 * ch);
		} else {
			plwidth(2.5);
			pllsty(it[i].dashed ? 2 : 1);
			pljoin(x0 + pad, yc, x0 + pad + sample, yc);
			pllsty(1);
			plwidth(1);
		}
		plcol0(CH_COL_FG);
		plptex(x0 + 2 * pad + sample, yc - 0.35 * ch, 1, 0, 0, esc(b, sizeof b, it[i].label));
	}
	plvpor(vx0, vx1, vy0, vy1);
	plwind(wx0, wx1, wy0, wy1);
}

/* A legend of patches in one row centred at NDC height yc (a figure's key under its title, off the data). */
static void legend_row(size_t n, const legend_item *it, double yc)
{
	char b[512];
	double ch = char_h(), sample = 0.03, pad = 0.008, gap = 0.03, total = 0;
	for (size_t i = 0; i < n; i++)
		total += sample + pad + text_w(it[i].label) + (i + 1 < n ? gap : 0);
	plvpor(0, 1, 0, 1);
	plwind(0, 1, 0, 1);
	double x = 0.5 - total / 2;
	for (size_t i = 0; i < n; i++) {
		plcol0(it[i].color);
		fill_rect(x, yc - 0.45 * ch, x + sample, yc + 0.45 * ch);
		plcol0(CH_COL_FG);
		plptex(x + sample + pad, yc - 0.35 * ch, 1, 0, 0, esc(b, sizeof b, it[i].label));
		x += sample + pad + text_w(it[i].label) + gap;
	}
}

/* How many x ticks fit a value axis width (NDC) without the labels touching. */
static int tick_count(double width, bool pct, double vmax)
{
	char lab[64] = "0.000";
	if (pct)
		snprintf(lab, sizeof lab, "100%%");
	else if (fabs(vmax) >= 100)
		fmt_tick(lab, sizeof lab, vmax, false);
	double lw = text_w(lab);
	int n = lw > 0 ? (int)(width / (lw * 2.0)) : 6;
	return n < 2 ? 2 : n > 8 ? 8 : n;
}

/* ---- horizontal bars (shared by the bar chart and its small multiples) ---- */

/* Where bar i ends: its whisker's high end when finite, else its value; NaN when neither is finite. */
static double bar_end(const ch_hbar_panel *P, size_t i)
{
	double e = P->hi && isfinite(P->hi[i]) ? P->hi[i] : P->value[i];
	return isfinite(e) ? e : NAN;
}

/* Bars of P from 0 to their values, bh high (bar units), the first at the top. */
static void hbar_bars(const ch_hbar_panel *P, const ch_hbar_extra *X, double bh)
{
	size_t n = P->n;
	for (size_t i = 0; i < n; i++) {
		double yc = (double)(n - i) - 0.5, v = P->value[i];
		if (!isfinite(v))
			continue;
		plcol0(X && X->colors ? X->colors[i] : P->color);
		fill_rect(v < 0 ? v : 0, yc - bh / 2, v < 0 ? 0 : v, yc + bh / 2);
	}
}

/* Interval whiskers of P (when it has them), lines width wide, caps half a bar high. */
static void hbar_whiskers(const ch_hbar_panel *P, double bh, double width)
{
	if (!P->lo || !P->hi)
		return;
	size_t n = P->n;
	plcol0(CH_COL_FG);
	plwidth(width);
	for (size_t i = 0; i < n; i++) {
		double yc = (double)(n - i) - 0.5;
		if (!isfinite(P->lo[i]) || !isfinite(P->hi[i]))
			continue;
		pljoin(P->lo[i], yc, P->hi[i], yc);
		pljoin(P->lo[i], yc - bh / 4, P->lo[i], yc + bh / 4);
		pljoin(P->hi[i], yc - bh / 4, P->hi[i], yc + bh / 4);
	}
	plwidth(1);
}

/* A dashed line in the foreground colour (reference values). */
static void dashed_line(double x0, double y0, double x1, double y1, double width)
{
	plcol0(CH_COL_FG);
	plwidth(width);
	pllsty(2);
	pljoin(x0, y0, x1, y1);
	pllsty(1);
	plwidth(1);
}

/*
 * P's annotations in grey at text size scale, dx (world units) right of
 * each bar's end, vertically centred on the bar in a viewport vp_h high (NDC).
 */
static void hbar_annotations(const ch_hbar_panel *P, double scale, double dx, double vp_h)
{
	char b[512];
	size_t n = P->n;
	sch(scale);
	plcol0(CH_COL_GREY);
	double dy = 0.3 * char_h() / vp_h * (double)n;
	for (size_t i = 0; i < n; i++) {
		double e = bar_end(P, i);
		if (!isfinite(e) || !P->annot[i])
			continue;
		plptex((e < 0 ? 0 : e) + dx, (double)(n - i) - 0.5 - dy, 1, 0, 0, esc(b, sizeof b, P->annot[i]));
	}
}

/* P's bar labels left of the viewport, disp character heights away, at the current size. */
static void hbar_labels(const ch_hbar_panel *P, double disp)
{
	char b[512];
	size_t n = P->n;
	for (size_t i = 0; i < n; i++)
		plmtex("lv", disp, ((double)(n - i) - 0.5) / (double)n, 1.0,
		       esc(b, sizeof b, P->labels[i] ? P->labels[i] : "(missing)"));
}

/* Text in the margin on side, centred along it, at the current size. */
static void margin_text(const char *side, double disp, const char *s)
{
	char b[512];
	plmtex(side, disp, 0.5, 0.5, esc(b, sizeof b, s));
}

/* ---- a bar chart: 1-4 panels side by side, sharing the labels ---- */

typedef struct hbar_ctx {
	const char *title;
	size_t np;
	const ch_hbar_panel *p;
	const ch_hbar_extra *x; /* one panel's extras, or NULL */
} hbar_ctx;

/* The panels' row: label scale, left edge, panel width, bottom and top (NDC). */
typedef struct hbar_layout {
	double lab_scale, left, pw, gap, bottom, top;
	bool any_ref;
} hbar_layout;

static hbar_layout hbar_layout_of(const hbar_ctx *c)
{
	hbar_layout L = {.lab_scale = 0.8, .gap = 0.05};
	size_t n = c->p[0].n;
	/* label font: shrink when bars are crowded */
	if (n > 18)
		L.lab_scale = 0.8 * 18.0 / (double)n;
	if (L.lab_scale < 0.5)
		L.lab_scale = 0.5;
	sch(L.lab_scale);
	double maxw = 0;
	for (size_t i = 0; i < n; i++) {
		double w = text_w(c->p[0].labels ? c->p[0].labels[i] : "");
		if (w > maxw)
			maxw = w;
	}
	sch(0.8);
	L.left = 0.03 + maxw + 0.015;
	if (L.left > 0.5)
		L.left = 0.5;
	L.pw = (0.97 - L.left - L.gap * (double)(c->np - 1)) / (double)c->np;
	double ch = char_h();
	bool any_title = false;
	for (size_t k = 0; k < c->np; k++) {
		any_title |= c->p[k].title != NULL;
		L.any_ref |= isfinite(c->p[k].ref);
	}
	L.bottom = 0.06 + 4.5 * ch;
	L.top = 1 - 4.5 * ch - (any_title ? 1.8 * ch : 0) - (L.any_ref ? 1.5 * ch : 0);
	return L;
}

/* The value axis of P in a viewport vw wide: bars, whiskers, the reference and the annotations fit. */
static void hbar_range(const ch_hbar_panel *P, const ch_hbar_extra *X, double vw, double *xmin, double *xmax)
{
	double vmin = 0, vmax = 0;
	for (size_t i = 0; i < P->n; i++) {
		double e = bar_end(P, i);
		if (isfinite(e) && e > vmax)
			vmax = e;
		if (isfinite(P->value[i]) && P->value[i] < vmin)
			vmin = P->value[i];
	}
	if (isfinite(P->ref) && P->ref > vmax)
		vmax = P->ref;
	if (X && isfinite(X->ref2) && X->ref2 > vmax)
		vmax = X->ref2;
	if (!(vmax > vmin))
		vmax = vmin + 1;
	*xmax = vmax * 1.05;
	sch(0.72);
	for (size_t i = 0; i < P->n && P->annot; i++) {
		double e = bar_end(P, i);
		if (!isfinite(e))
			continue;
		double frac = (text_w(P->annot[i]) * 1.45 + 0.02) / vw;
		if (frac > 0.6)
			frac = 0.6;
		double need = (e - vmin * frac) / (1 - frac);
		if (need > *xmax)
			*xmax = need;
	}
	sch(0.8);
	*xmin = vmin < 0 ? vmin * 1.05 : 0;
}

/* A reference line at x over n bars, labelled above the panel (just: 0 label starts at x, 0.5 centred, 1 ends). */
static void hbar_ref(double x, const char *label, size_t n, double xmin, double xmax, double just)
{
	char b[512];
	dashed_line(x, 0, x, (double)n, 1.5);
	if (label) {
		sch(0.68);
		plmtex("t", 0.9, (x - xmin) / (xmax - xmin), just, esc(b, sizeof b, label));
		sch(0.8);
	}
}

/* The value axis label under a panel vw wide, shrunk to fit. */
static void hbar_xlabel(const char *xlabel, double vw, double gap)
{
	double w = text_w(xlabel) * 1.15;
	if (w > vw + gap * 0.8)
		sch(0.8 * (vw + gap * 0.8) / w);
	margin_text("b", 3.2, xlabel);
	sch(0.8);
}

/* Panel P at vx0 (the first one draws the labels). */
static void hbar_panel(const ch_hbar_panel *P, const ch_hbar_extra *X, bool first, const hbar_layout *L, double vx0)
{
	size_t n = P->n;
	double vx1 = vx0 + L->pw, xmin, xmax;
	hbar_range(P, X, vx1 - vx0, &xmin, &xmax);
	plvpor(vx0, vx1, L->bottom, L->top);
	plwind(xmin, xmax, 0, (double)n);
	axis_fmt af = {.x_pct = P->percent, .y_none = true, .y_noticks = true};
	axes("", "", nice_step(xmax - xmin, tick_count(vx1 - vx0, P->percent, xmax)), 0, &af, true, false);
	double bh = n > 40 ? 0.8 : 0.62;
	hbar_bars(P, X, bh);
	hbar_whiskers(P, bh, 1.5);
	/* two lines: the first's label ends at it, the second's starts at it, so close lines keep both legible */
	bool two = X && isfinite(X->ref2);
	if (isfinite(P->ref))
		hbar_ref(P->ref, P->ref_label, n, xmin, xmax, two ? 1.0 : 0.5);
	if (two)
		hbar_ref(X->ref2, X->ref2_label, n, xmin, xmax, 0.0);
	if (P->annot) {
		hbar_annotations(P, 0.72, 0.008 / (vx1 - vx0) * (xmax - xmin), L->top - L->bottom);
		sch(0.8);
	}
	plcol0(CH_COL_FG);
	if (first && P->labels) {
		sch(L->lab_scale);
		hbar_labels(P, 0.8);
		sch(0.8);
	}
	if (P->xlabel)
		hbar_xlabel(P->xlabel, vx1 - vx0, L->gap);
	if (P->title) {
		sch(0.9);
		margin_text("t", L->any_ref ? 2.2 : 1.0, P->title);
		sch(0.8);
	}
}

static void draw_hbars(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const hbar_ctx *c = vctx;
	fig_title(c->title);
	sch(0.8);
	hbar_layout L = hbar_layout_of(c);
	for (size_t k = 0; k < c->np; k++)
		hbar_panel(&c->p[k], c->x, k == 0, &L, L.left + (double)k * (L.pw + L.gap));
}

churn_status ch_plot_hbars(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                           const ch_hbar_panel *panels)
{
	if (!npanels || npanels > 4 || !panels || !panels[0].n)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: bar chart needs 1-4 panels with bars", path_noext);
	for (size_t k = 0; k < npanels; k++)
		if (panels[k].n != panels[0].n || !panels[k].value)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: bar chart panels differ in length", path_noext);
	hbar_ctx c = {title, npanels, panels, NULL};
	return render(path_noext, fig, draw_hbars, &c);
}

churn_status ch_plot_hbars_extra(const char *path_noext, const ch_fig *fig, const char *title,
                                 const ch_hbar_panel *panel, const ch_hbar_extra *extra)
{
	if (!panel || !panel->n || !panel->value)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: bar chart needs bars", path_noext);
	hbar_ctx c = {title, 1, panel, extra};
	return render(path_noext, fig, draw_hbars, &c);
}

/* ---- small multiples of horizontal bars ---- */

typedef struct hgrid_ctx {
	const char *title, *subtitle;
	size_t np, ncols;
	const ch_hbar_panel *p;
} hgrid_ctx;

/* Text size of the grid's bar labels and tick labels. */
#define GRID_LAB 0.72

/* The grid's geometry: columns of width cw from x0, label column widths, one value scale, row heights. */
typedef struct hgrid_layout {
	size_t ncols, nrows;
	double x0, cw, top, bottom, xmax, per_bar, over, ch;
	double labw[8];
	size_t rowmax[64];
} hgrid_layout;

/* The subtitle under the title (grey, shrunk to fit); the top of the panels. */
static double grid_subtitle(const char *subtitle, double ch)
{
	char b[512];
	if (!subtitle)
		return 1 - 4.4 * ch;
	sch(0.72);
	double w = text_w(subtitle) * 1.15;
	if (w > 0.96)
		sch(0.72 * 0.96 / w);
	plcol0(CH_COL_GREY);
	plptex(0.5, 1 - 5.2 * ch, 1, 0, 0.5, esc(b, sizeof b, subtitle));
	plcol0(CH_COL_FG);
	return 1 - 6.6 * ch;
}

/* Each grid column's label width: its widest label, at most 55% of the column. */
static void grid_label_widths(const hgrid_ctx *c, hgrid_layout *G)
{
	sch(GRID_LAB);
	for (size_t k = 0; k < c->np; k++) {
		const ch_hbar_panel *P = &c->p[k];
		for (size_t i = 0; i < P->n && P->labels; i++) {
			double w = text_w(P->labels[i] ? P->labels[i] : "(missing)");
			if (w > G->labw[k % G->ncols])
				G->labw[k % G->ncols] = w;
		}
	}
	for (size_t j = 0; j < G->ncols; j++) {
		G->labw[j] += 0.012;
		if (G->labw[j] > G->cw * 0.55)
			G->labw[j] = G->cw * 0.55;
	}
}

/* One value scale for every panel: bars, whiskers and the annotation right of them fit. */
static double grid_xmax(const hgrid_ctx *c, const hgrid_layout *G)
{
	double xmax = 0;
	for (size_t k = 0; k < c->np; k++) {
		const ch_hbar_panel *P = &c->p[k];
		double bw = G->cw - G->labw[k % G->ncols] - 0.03;
		if (isfinite(P->ref) && P->ref > xmax)
			xmax = P->ref;
		for (size_t i = 0; i < P->n; i++) {
			double e = bar_end(P, i);
			if (!(e > 0))
				continue;
			sch(0.66);
			double frac = P->annot && P->annot[i] ? (text_w(P->annot[i]) * 1.3 + 0.008) / bw : 0.05;
			sch(GRID_LAB);
			if (frac > 0.6)
				frac = 0.6;
			if (e / (1 - frac) > xmax)
				xmax = e / (1 - frac);
		}
	}
	return xmax > 0 ? xmax : 1;
}

/* Row heights: fixed room for the panel title and tick labels, the rest shared by the bars. */
static void grid_rows(const hgrid_ctx *c, hgrid_layout *G)
{
	size_t nbars_total = 0;
	for (size_t k = 0; k < c->np && k / G->ncols < 64; k++)
		if (c->p[k].n > G->rowmax[k / G->ncols])
			G->rowmax[k / G->ncols] = c->p[k].n;
	for (size_t r = 0; r < G->nrows && r < 64; r++)
		nbars_total += G->rowmax[r];
	sch(0.8);
	G->over = 4.6 * G->ch;
	G->per_bar = (G->top - G->bottom - G->over * (double)G->nrows) / (double)(nbars_total ? nbars_total : 1);
}

/* The panel title, left-aligned over the labels, shrunk to the column. */
static void grid_panel_title(const char *title, double cw, double labw, double bw)
{
	char b[512];
	sch(0.8);
	double w = text_w(title) * 1.15;
	if (w > cw - 0.02)
		sch(0.8 * (cw - 0.02) / w);
	plmtex("t", 0.7, -(labw - 0.004) / bw, 0.0, esc(b, sizeof b, title));
}

/* Panel P in grid column j, its top at py1; a panel with fewer bars than its row keeps the row's bar height. */
static void grid_panel(const ch_hbar_panel *P, const hgrid_layout *G, size_t j, double py1)
{
	size_t n = P->n;
	double cx0 = G->x0 + (double)j * G->cw, bx0 = cx0 + G->labw[j], bx1 = cx0 + G->cw - 0.03;
	double h = G->per_bar * (double)n, xmax = G->xmax;
	plvpor(bx0, bx1, py1 - h, py1);
	plwind(0, xmax, 0, (double)n);
	sch(GRID_LAB);
	axis_fmt af = {.x_pct = P->percent, .y_none = true, .y_noticks = true};
	axes("", "", nice_step(xmax, tick_count(bx1 - bx0, P->percent, xmax)), 0, &af, true, false);
	double bh = 0.62;
	hbar_bars(P, NULL, bh);
	hbar_whiskers(P, bh, 1.3);
	if (isfinite(P->ref))
		dashed_line(P->ref, 0, P->ref, (double)n, 1.3);
	if (P->annot)
		hbar_annotations(P, 0.66, 0.006 / (bx1 - bx0) * xmax, h);
	plcol0(CH_COL_FG);
	sch(GRID_LAB);
	if (P->labels)
		hbar_labels(P, 0.6);
	if (P->title)
		grid_panel_title(P->title, G->cw, G->labw[j], bx1 - bx0);
}

static void draw_hbar_grid(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const hgrid_ctx *c = vctx;
	fig_title(c->title);
	hgrid_layout G = {.x0 = 0.015, .bottom = 0.01};
	G.ch = char_h(); /* at scale 0.8 */
	G.top = grid_subtitle(c->subtitle, G.ch);
	G.ncols = c->ncols ? c->ncols : 1;
	G.nrows = (c->np + G.ncols - 1) / G.ncols;
	G.cw = (0.985 - G.x0) / (double)G.ncols;
	grid_label_widths(c, &G);
	G.xmax = grid_xmax(c, &G);
	grid_rows(c, &G);
	double ytop = G.top;
	for (size_t r = 0; r < G.nrows && r < 64; r++) {
		double py1 = ytop - 1.7 * G.ch, py0 = py1 - G.per_bar * (double)G.rowmax[r];
		for (size_t j = 0; j < G.ncols && r * G.ncols + j < c->np; j++)
			grid_panel(&c->p[r * G.ncols + j], &G, j, py1);
		ytop = py0 - (G.over - 1.7 * G.ch);
	}
	sch(0.8);
}

churn_status ch_plot_hbar_grid(const char *path_noext, const ch_fig *fig, const char *title, const char *subtitle,
                               size_t npanels, size_t ncols, const ch_hbar_panel *panels)
{
	if (!npanels || !panels || !ncols || ncols > 8 || (npanels + ncols - 1) / ncols > 64)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: grid needs 1-512 panels in 1-8 columns", path_noext);
	for (size_t k = 0; k < npanels; k++)
		if (!panels[k].n || !panels[k].value)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: grid panel %zu has no bars", path_noext, k);
	hgrid_ctx c = {title, subtitle, npanels, ncols, panels};
	return render(path_noext, fig, draw_hbar_grid, &c);
}

/* ---- histogram ---- */

typedef struct hist_ctx {
	const char *title, *xlabel, *ylabel;
	size_t nb;
	const double *edges;
	size_t ns;
	const double *const *counts;
	const char *const *labels;
} hist_ctx;

/* One histogram panel in viewport (vx0..vx1, vy0..vy1); legend when with_legend. */
static void hist_panel(const hist_ctx *c, double vx0, double vx1, double vy0, double vy1, const char *ptitle,
                       bool with_legend)
{
	double ymax = 0;
	for (size_t s = 0; s < c->ns; s++)
		for (size_t i = 0; i < c->nb; i++)
			if (c->counts[s][i] > ymax)
				ymax = c->counts[s][i];
	if (!(ymax > 0))
		ymax = 1;
	ymax *= 1.12;
	double x0 = c->edges[0], x1 = c->edges[c->nb];
	double pad = (x1 - x0) * 0.01;
	plvpor(vx0, vx1, vy0, vy1);
	plwind(x0 - pad, x1 + pad, 0, ymax);
	axis_fmt af = {0};
	double xt = nice_step(x1 - x0, tick_count(vx1 - vx0, false, x1) + 1), yt = nice_step(ymax, vy1 - vy0 < 0.4 ? 4 : 6);
	double bw0 = c->edges[1] - c->edges[0];
	if (bw0 >= 1 && fabs(bw0 - round(bw0)) < 1e-9 && xt < 1)
		xt = 1; /* integer-width bins (counts, flags): integer ticks */
	axes("", "", xt, yt, &af, false, true);
	legend_item it[8];
	size_t nl = 0;
	for (size_t s = 0; s < c->ns; s++) {
		int col = ch_plot_series_color(s);
		for (size_t i = 0; i < c->nb; i++) {
			double w = c->edges[i + 1] - c->edges[i], inner = w * 0.86 / (double)c->ns;
			double bx = c->edges[i] + w * 0.07 + inner * (double)s;
			plcol0(col);
			if (c->counts[s][i] > 0)
				fill_rect(bx, 0, bx + inner, c->counts[s][i]);
		}
		if (c->labels && c->labels[s] && nl < 8)
			it[nl++] = (legend_item){c->labels[s], col, true, false};
	}
	plcol0(CH_COL_FG);
	axes("", "", xt, yt, &af, false, false);
	margin_text("b", 3.2, c->xlabel ? c->xlabel : "");
	margin_text("l", 4.8, c->ylabel ? c->ylabel : "");
	if (ptitle) {
		sch(0.85);
		margin_text("t", 0.8, ptitle);
		sch(0.8);
	}
	if (with_legend) {
		sch(0.72);
		legend(nl, it, 1);
		sch(0.8);
	}
}

typedef struct hist_grid_ctx {
	const char *title;
	size_t np, ncols;
	const ch_hist_panel *p;
	const char *const *labels;
} hist_grid_ctx;

static void draw_hist_grid(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const hist_grid_ctx *g = vctx;
	fig_title(g->title);
	double ch = char_h();
	size_t ncols = g->ncols, nrows = (g->np + ncols - 1) / ncols;
	double top = 1 - 4.2 * ch, bottom = 0.0, left = 0.0, right = 0.99;
	if (g->labels) {
		legend_item it[2];
		size_t nl = 0;
		for (size_t s = 0; s < 2; s++)
			if (g->labels[s])
				it[nl++] = (legend_item){g->labels[s], ch_plot_series_color(s), true, false};
		sch(0.72);
		legend_row(nl, it, 1 - 4.7 * ch);
		sch(0.8);
		top -= 2.2 * ch;
	}
	double cw = (right - left) / (double)ncols, rh = (top - bottom) / (double)nrows;
	for (size_t k = 0; k < g->np; k++) {
		const ch_hist_panel *P = &g->p[k];
		size_t r = k / ncols, j = k % ncols;
		double cx0 = left + (double)j * cw, cy1 = top - (double)r * rh;
		hist_ctx c = {NULL, P->xlabel, P->ylabel, P->nbins, P->edges, 2, P->counts, g->labels};
		hist_panel(&c, cx0 + 0.075, cx0 + cw - 0.015, cy1 - rh + 4.6 * ch, cy1 - 1.8 * ch, P->title, false);
	}
}

churn_status ch_plot_hist_grid(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                               size_t ncols, const ch_hist_panel *panels, const char *const *series_labels)
{
	if (!npanels || !panels || !ncols || ncols > 8)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: histogram grid needs panels and 1-8 columns", path_noext);
	for (size_t k = 0; k < npanels; k++) {
		const ch_hist_panel *P = &panels[k];
		if (!P->nbins || !P->edges || !P->counts[0] || !P->counts[1])
			return ch_fail(CHURN_E_INVALID_ARG, "%s: histogram panel %zu has no bins", path_noext, k);
		for (size_t i = 0; i <= P->nbins; i++)
			if (!isfinite(P->edges[i]) || (i && !(P->edges[i] > P->edges[i - 1])))
				return ch_fail(CHURN_E_NUMERIC, "%s: histogram edges must be finite and increasing", path_noext);
	}
	hist_grid_ctx c = {title, npanels, ncols, panels, series_labels};
	return render(path_noext, fig, draw_hist_grid, &c);
}

/* ---- heatmap ---- */

typedef struct heat_ctx {
	const char *title;
	size_t k;
	const char *const *names;
	const double *m;
} heat_ctx;

/* Colour map 1: diverging blue-white-red (ColorBrewer RdBu ends) over [-1, 1] as [0, 1]. */
static void heat_colormap(void)
{
	PLFLT pos[3] = {0, 0.5, 1};
	PLFLT r[3] = {33 / 255.0, 247 / 255.0, 178 / 255.0};
	PLFLT g[3] = {102 / 255.0, 247 / 255.0, 24 / 255.0};
	PLFLT bl[3] = {172 / 255.0, 247 / 255.0, 43 / 255.0};
	plscmap1n(256);
	plscmap1l(1, 3, pos, r, g, bl, NULL);
}

/* The label size: 0.72, smaller (down to 0.35) when a cell of k rows under top is shorter; set current. */
static double heat_label_scale(size_t k, double top, double ph)
{
	double lab = 0.72;
	sch(lab);
	double avail_h_mm = (top - 0.05) * ph * 0.7;
	double cell_mm = avail_h_mm / (double)k;
	if (char_mm() > cell_mm * 0.6) {
		lab *= cell_mm * 0.6 / char_mm();
		if (lab < 0.35)
			lab = 0.35;
		sch(lab);
	}
	return lab;
}

/*
 * The square matrix viewport under top: room left of it and below for the labels, the colour bar right.
 * Labels are never clipped: past 40% of the width (45% of the height) for them, *lab shrinks (to 0.35 at
 * least; longer names are then cut by heat_labels).
 */
static void heat_viewport(const heat_ctx *c, double top, double pw, double ph, double *lab, double vp[4])
{
	double left, bottom;
	for (;;) {
		double maxw = 0;
		for (size_t i = 0; i < c->k; i++) {
			double w = text_w(c->names[i]);
			if (w > maxw)
				maxw = w;
		}
		/* text_w() is an estimate: 35% more for wide glyphs, the labels' offset of half a character, a rim */
		double gap = 0.5 * char_mm();
		left = 0.015 + maxw * 1.35 + gap / pw;
		bottom = 0.015 + maxw * 1.35 * pw / ph + gap / ph; /* rotated: the same length in y units */
		double over = left / 0.4 > bottom / 0.45 ? left / 0.4 : bottom / 0.45;
		if (over <= 1 || *lab <= 0.35)
			break;
		*lab = *lab / over < 0.35 ? 0.35 : *lab / over;
		sch(*lab);
	}
	if (left > 0.4)
		left = 0.4;
	if (bottom > 0.45)
		bottom = 0.45;
	double right = 0.86;
	/* square cells */
	double wmm = (right - left) * pw, hmm = (top - bottom) * ph;
	double side = wmm < hmm ? wmm : hmm;
	vp[0] = left;
	vp[1] = left + side / pw;
	vp[2] = top - side / ph;
	vp[3] = top;
}

/* The cells (NaN grey), white borders when they are large enough. */
static void heat_cells(const heat_ctx *c)
{
	size_t k = c->k;
	for (size_t i = 0; i < k; i++) {
		for (size_t j = 0; j < k; j++) {
			double v = c->m[i * k + j];
			if (isfinite(v)) {
				double t = (v + 1) / 2;
				plcol1(t < 0 ? 0 : t > 1 ? 1 : t);
			} else {
				plcol0(COL_MISSING);
			}
			double y = (double)(k - 1 - i);
			fill_rect((double)j, y, (double)j + 1, y + 1);
		}
	}
	if (k <= 30) {
		plcol0(COL_WHITE);
		for (size_t i = 1; i < k; i++) {
			pljoin((double)i, 0, (double)i, (double)k);
			pljoin(0, (double)i, (double)k, (double)i);
		}
	}
}

/* The values in the cells (2 decimals; white on dark cells), when there are at most 16 rows. */
static void heat_values(const heat_ctx *c, double vp_w, double vp_h)
{
	size_t k = c->k;
	if (k > 16)
		return;
	/* the widest value ("-0.50") stays inside its cell with a margin: smaller type for narrower cells */
	double base = k <= 8 ? 0.75 : 0.55, cell_w = vp_w / (double)k;
	sch(base);
	double w = text_w("-0.00");
	sch(w > 0.85 * cell_w ? base * 0.85 * cell_w / w : base);
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++) {
			double v = c->m[i * k + j];
			char num[32];
			fmt_fixed(num, sizeof num, v, 2);
			plcol0(isfinite(v) && fabs(v) > 0.6 ? COL_WHITE : CH_COL_FG);
			plptex((double)j + 0.5, (double)(k - 1 - i) + 0.5 - 0.3 * char_h() / vp_h * (double)k, 1, 0, 0.5,
			       num);
		}
}

/* The names left of the rows and, rotated, under the columns. */
static void heat_labels(const heat_ctx *c, double lab)
{
	char b[512];
	size_t k = c->k;
	sch(lab);
	for (size_t i = 0; i < k; i++) {
		double pos_y = ((double)(k - i) - 0.5) / (double)k;
		plmtex("lv", 0.5, pos_y, 1.0, esc(b, sizeof b, c->names[i]));
		plmtex("bv", 0.5, ((double)i + 0.5) / (double)k, 1.0, esc(b, sizeof b, c->names[i]));
	}
}

/* The colour bar right of the matrix (viewport vp), labelled "Pearson r". */
static void heat_colour_bar(const double vp[4])
{
	sch(0.75);
	double cx0 = vp[1] + 0.03, cx1 = cx0 + 0.025;
	plvpor(cx0, cx1, vp[2], vp[3]);
	plwind(0, 1, -1, 1);
	for (int s = 0; s < 100; s++) {
		double a = -1 + 2.0 * s / 100, z = a + 2.0 / 100;
		plcol1((a + z) / 4 + 0.5);
		fill_rect(0, a, 1, z + 0.0005);
	}
	plcol0(CH_COL_FG);
	axis_fmt af = {.x_none = true};
	plslabelfunc(label_fn, &af);
	plbox("bc", 0, 0, "bcmstvo", 0.5, 5);
	plslabelfunc(NULL, NULL);
	plmtex("r", 5.0, 0.5, 0.5, "Pearson r");
}

static void draw_heatmap(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const heat_ctx *c = vctx;
	size_t k = c->k;
	heat_colormap();
	fig_title(c->title);
	double pw, ph, vp[4];
	page_mm(&pw, &ph);
	double top = 1 - 5.0 * char_h();
	double lab = heat_label_scale(k, top, ph);
	heat_viewport(c, top, pw, ph, &lab, vp);
	plvpor(vp[0], vp[1], vp[2], vp[3]);
	plwind(0, (double)k, 0, (double)k);
	heat_cells(c);
	heat_values(c, vp[1] - vp[0], vp[3] - vp[2]);
	plcol0(CH_COL_FG);
	plbox("bc", 0, 0, "bc", 0, 0);
	heat_labels(c, lab);
	heat_colour_bar(vp);
}

churn_status ch_plot_heatmap(const char *path_noext, const ch_fig *fig, const char *title, size_t k,
                             const char *const *names, const double *m)
{
	if (!k || !names || !m)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: heatmap needs a matrix", path_noext);
	heat_ctx c = {title, k, names, m};
	return render(path_noext, fig, draw_heatmap, &c);
}

/* ---- line charts ---- */

typedef struct lines_ctx {
	const char *title;
	size_t np;
	const ch_line_panel *p;
} lines_ctx;

/*
 * The points of (x, y) as drawn into (sx, sy), their count: as given, or
 * for a step function right-continuous, horizontal then vertical (up to 2n).
 */
static size_t series_points(const ch_line_series *S, const double *y, PLFLT *sx, PLFLT *sy)
{
	size_t m = 0;
	for (size_t i = 0; i < S->n; i++) {
		if (S->step && i > 0) {
			sx[m] = S->x[i];
			sy[m++] = y[i - 1];
		}
		sx[m] = S->x[i];
		sy[m++] = y[i];
	}
	return m;
}

/* The band of S (lo to hi, translucent), as one polygon: the lower edge, then the upper one reversed. */
static void series_band(const ch_line_series *S, PLFLT *sx, PLFLT *sy)
{
	size_t m1 = series_points(S, S->lo, sx, sy);
	PLFLT *hx = sx + m1, *hy = sy + m1;
	size_t m2 = series_points(S, S->hi, hx, hy);
	for (size_t i = 0; i < m2 / 2; i++) {
		PLFLT t = hx[i];
		hx[i] = hx[m2 - 1 - i];
		hx[m2 - 1 - i] = t;
		t = hy[i];
		hy[i] = hy[m2 - 1 - i];
		hy[m2 - 1 - i] = t;
	}
	if (m1 + m2 >= 3) {
		set_alpha_color(S->color, 0.18);
		plfill((PLINT)(m1 + m2), sx, sy);
	}
}

/* The line of S (solid, or thin and dashed). */
static void series_line(const ch_line_series *S, PLFLT *sx, PLFLT *sy)
{
	size_t m = series_points(S, S->y, sx, sy);
	plcol0(S->color);
	plwidth(S->dashed ? 1.5 : 2.6);
	pllsty(S->dashed ? 2 : 1);
	if (m >= 2)
		plline((PLINT)m, sx, sy);
	pllsty(1);
	plwidth(1);
}

/* P's series: bands first, then the lines on top; legend entries of the labelled lines into it (at most 16). */
static size_t lines_series(const ch_line_panel *P, legend_item *it)
{
	size_t nl = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t s = 0; s < P->nseries; s++) {
			const ch_line_series *S = &P->series[s];
			if (!S->n || (pass == 0 && !(S->lo && S->hi)))
				continue;
			size_t cap = S->n * 2 + 2;
			PLFLT *sx = malloc(cap * 2 * sizeof *sx), *sy = malloc(cap * 2 * sizeof *sy);
			if (sx && sy) {
				if (pass == 0) {
					series_band(S, sx, sy);
				} else {
					series_line(S, sx, sy);
					if (S->label && nl < 16)
						it[nl++] = (legend_item){S->label, S->color, false, S->dashed};
				}
			}
			free(sx);
			free(sy);
		}
	}
	return nl;
}

/* Panel P at vx0, pw wide, from bottom to top (NDC). */
static void lines_panel(const ch_line_panel *P, double vx0, double pw, double bottom, double top)
{
	plvpor(vx0, vx0 + pw, bottom, top);
	plwind(P->xmin, P->xmax, P->ymin, P->ymax);
	axis_fmt af = {.y_pct = P->y_percent};
	double xt = nice_step(P->xmax - P->xmin, 6), yt = nice_step(P->ymax - P->ymin, 6);
	axes("", "", xt, yt, &af, true, true);
	legend_item it[16];
	size_t nl = lines_series(P, it);
	axes("", "", xt, yt, &af, false, false);
	plcol0(CH_COL_FG);
	if (P->xlabel)
		margin_text("b", 3.2, P->xlabel);
	if (P->ylabel)
		margin_text("l", 5.0, P->ylabel);
	if (P->title) {
		sch(0.9);
		margin_text("t", 1.0, P->title);
		sch(0.8);
	}
	sch(0.72);
	legend(nl, it, P->legend);
	sch(0.8);
}

static void draw_lines(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const lines_ctx *c = vctx;
	fig_title(c->title);
	double ch = char_h();
	double left = 0.085, right = 0.975, gap = 0.1;
	double pw = (right - left - gap * (double)(c->np - 1)) / (double)c->np;
	bool any_title = false;
	for (size_t k = 0; k < c->np; k++)
		any_title |= c->p[k].title != NULL;
	double bottom = 0.06 + 4.5 * ch, top = 1 - 4.8 * ch - (any_title ? 1.6 * ch : 0);
	for (size_t k = 0; k < c->np; k++)
		lines_panel(&c->p[k], left + (double)k * (pw + gap), pw, bottom, top);
}

churn_status ch_plot_lines(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                           const ch_line_panel *panels)
{
	if (!npanels || npanels > 4 || !panels)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: line chart needs 1-4 panels", path_noext);
	for (size_t k = 0; k < npanels; k++) {
		const ch_line_panel *P = &panels[k];
		if (!(P->xmax > P->xmin) || !(P->ymax > P->ymin) || !isfinite(P->xmax - P->xmin) ||
		    !isfinite(P->ymax - P->ymin))
			return ch_fail(CHURN_E_INVALID_ARG, "%s: panel %zu has an empty range", path_noext, k);
		for (size_t s = 0; s < P->nseries; s++)
			for (size_t i = 0; i < P->series[s].n; i++)
				if (!isfinite(P->series[s].x[i]) || !isfinite(P->series[s].y[i]) ||
				    (P->series[s].lo && (!isfinite(P->series[s].lo[i]) || !isfinite(P->series[s].hi[i]))))
					return ch_fail(CHURN_E_NUMERIC, "%s: series '%s' point %zu is not finite", path_noext,
					               P->series[s].label ? P->series[s].label : "?", i);
	}
	lines_ctx c = {title, npanels, panels};
	return render(path_noext, fig, draw_lines, &c);
}

/* ---- grouped vertical bars ---- */

typedef struct vbar_ctx {
	const char *title, *xlabel, *ylabel;
	size_t ncat;
	const char *const *cats;
	size_t ns;
	const double *const *v;
	const char *const *labels;
	double ref;
	const char *ref_label;
} vbar_ctx;

static void draw_vbars(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const vbar_ctx *c = vctx;
	char b[512];
	fig_title(c->title);
	double ch = char_h();
	double ymax = isfinite(c->ref) ? c->ref : 0;
	for (size_t s = 0; s < c->ns; s++)
		for (size_t i = 0; i < c->ncat; i++)
			if (isfinite(c->v[s][i]) && c->v[s][i] > ymax)
				ymax = c->v[s][i];
	if (!(ymax > 0))
		ymax = 1;
	ymax *= 1.15;
	plvpor(0.09, 0.97, 0.06 + 4.5 * ch, 1 - 5 * ch);
	plwind(0, (double)c->ncat, 0, ymax);
	axis_fmt af = {.x_none = true};
	double yt = nice_step(ymax, 6);
	plcol0(CH_COL_GRID);
	plbox("", 0, 0, "g", yt, 0);
	legend_item it[9];
	size_t nl = 0;
	for (size_t s = 0; s < c->ns; s++) {
		int col = ch_plot_series_color(s);
		double inner = 0.8 / (double)c->ns;
		for (size_t i = 0; i < c->ncat; i++) {
			double x = (double)i + 0.1 + inner * (double)s;
			plcol0(col);
			if (isfinite(c->v[s][i]) && c->v[s][i] > 0)
				fill_rect(x, 0, x + inner * 0.94, c->v[s][i]);
		}
		if (c->labels && c->labels[s])
			it[nl++] = (legend_item){c->labels[s], col, true, false};
	}
	if (isfinite(c->ref)) {
		dashed_line(0, c->ref, (double)c->ncat, c->ref, 1.5);
		if (c->ref_label && nl < 9)
			it[nl++] = (legend_item){c->ref_label, CH_COL_FG, false, true};
	}
	plcol0(CH_COL_FG);
	plslabelfunc(label_fn, &af);
	plbox("bc", 0, 0, "bcnstvo", yt, 0);
	plslabelfunc(NULL, NULL);
	for (size_t i = 0; i < c->ncat; i++)
		plmtex("b", 1.3, ((double)i + 0.5) / (double)c->ncat, 0.5, esc(b, sizeof b, c->cats[i]));
	margin_text("b", 3.2, c->xlabel ? c->xlabel : "");
	margin_text("l", 4.8, c->ylabel ? c->ylabel : "");
	sch(0.72);
	legend(nl, it, 1);
}

churn_status ch_plot_vbars(const char *path_noext, const ch_fig *fig, const char *title, const char *xlabel,
                           const char *ylabel, size_t ncat, const char *const *cat_labels, size_t nseries,
                           const double *const *values, const char *const *series_labels, double ref,
                           const char *ref_label)
{
	if (!ncat || !cat_labels || !nseries || nseries > 8 || !values)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: bar chart needs categories and 1-8 series", path_noext);
	vbar_ctx c = {title, xlabel, ylabel, ncat, cat_labels, nseries, values, series_labels, ref, ref_label};
	return render(path_noext, fig, draw_vbars, &c);
}

/* ---- confusion matrix ---- */

typedef struct conf_ctx {
	const char *title;
	uint64_t tp, fp, tn, fn;
} conf_ctx;

static void draw_confusion(const void *vctx, const ch_fig *fig)
{
	(void)fig;
	const conf_ctx *c = vctx;
	char b[512], num[64], pct[64];
	PLFLT pos[2] = {0, 1};
	PLFLT r[2] = {247 / 255.0, 8 / 255.0}, g[2] = {251 / 255.0, 81 / 255.0}, bl[2] = {255 / 255.0, 156 / 255.0};
	plscmap1n(256);
	plscmap1l(1, 2, pos, r, g, bl, NULL);
	fig_title(c->title);
	double total = (double)(c->tp + c->fp + c->tn + c->fn);
	double cells[2][2] = {{(double)c->tn, (double)c->fp}, {(double)c->fn, (double)c->tp}};
	const char *names[2][2] = {{"True negatives", "False positives"}, {"False negatives", "True positives"}};
	double mx = 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (cells[i][j] > mx)
				mx = cells[i][j];
	double ch = char_h();
	plvpas(0.2, 0.8, 0.06 + 6 * ch, 1 - 6 * ch, 1.0);
	plwind(0, 2, 0, 2);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			double t = mx > 0 ? cells[i][j] / mx : 0;
			plcol1(t);
			double y = 1 - i;
			fill_rect(j, y, j + 1, y + 1);
			fmt_fixed(num, sizeof num, cells[i][j], 0);
			fmt_fixed(pct, sizeof pct, total > 0 ? 100 * cells[i][j] / total : 0, 1);
			plcol0(t > 0.55 ? COL_WHITE : CH_COL_FG);
			sch(1.4);
			plptex(j + 0.5, y + 0.52, 1, 0, 0.5, num);
			sch(0.8);
			snprintf(b, sizeof b, "%s%% of all", pct);
			plptex(j + 0.5, y + 0.36, 1, 0, 0.5, b);
			plptex(j + 0.5, y + 0.2, 1, 0, 0.5, names[i][j]);
		}
	plcol0(CH_COL_FG);
	plbox("bc", 0, 0, "bc", 0, 0);
	sch(0.85);
	plmtex("b", 1.5, 0.25, 0.5, "No churn");
	plmtex("b", 1.5, 0.75, 0.5, "Churn");
	plmtex("b", 3.2, 0.5, 0.5, "Predicted class");
	plmtex("lv", 1.0, 0.75, 1.0, "No churn");
	plmtex("lv", 1.0, 0.25, 1.0, "Churn");
	plmtex("l", 7.5, 0.5, 0.5, "Actual class");
	/* summary line */
	double acc = total > 0 ? (double)(c->tp + c->tn) / total : NAN;
	double prec = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : NAN;
	double rec = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : NAN;
	char a1[32], a2[32], a3[32], a4[32];
	fmt_fixed(a1, sizeof a1, acc, 3);
	fmt_fixed(a2, sizeof a2, prec, 3);
	fmt_fixed(a3, sizeof a3, rec, 3);
	fmt_fixed(a4, sizeof a4, total, 0);
	snprintf(b, sizeof b, "n = %s   accuracy %s   precision %s   recall %s", a4, a1, a2, a3);
	sch(0.75);
	plcol0(CH_COL_GREY);
	plmtex("t", 1.4, 0.5, 0.5, b);
}

churn_status ch_plot_confusion2(const char *path_noext, const ch_fig *fig, const char *title, uint64_t tp,
                                uint64_t fp, uint64_t tn, uint64_t fn)
{
	conf_ctx c = {title, tp, fp, tn, fn};
	return render(path_noext, fig, draw_confusion, &c);
}

/* ---- public model figures ---- */

/* The directory part of path (when it has one), made and checked writable (ch_plot_check_dir). */
static churn_status check_parent_dir(const char *path)
{
	char *dir = ch_strdup(path);
	if (!dir)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	churn_status st = CHURN_OK;
	if (slash) {
		*slash = '\0';
		st = ch_plot_check_dir(*dir ? dir : "/");
	}
	free(dir);
	return st;
}

static churn_status check_series(const char *what, size_t nseries, const char *const *labels,
                                 const double *const *a, const double *const *b, const size_t *npts)
{
	if (!nseries || nseries > 8 || !labels || !a || !b || !npts)
		return ch_fail(CHURN_E_INVALID_ARG, "%s: need 1-8 series with labels and points", what);
	for (size_t k = 0; k < nseries; k++) {
		if (!labels[k] || !a[k] || !b[k] || npts[k] < 2)
			return ch_fail(CHURN_E_INVALID_ARG, "%s: series %zu needs a label and at least 2 points", what, k);
		for (size_t i = 0; i < npts[k]; i++)
			if (!isfinite(a[k][i]) || !isfinite(b[k][i]) || a[k][i] < -1e-9 || a[k][i] > 1 + 1e-9 ||
			    b[k][i] < -1e-9 || b[k][i] > 1 + 1e-9)
				return ch_fail(CHURN_E_NUMERIC, "%s: series '%s' point %zu is outside [0, 1]", what, labels[k],
				               i);
	}
	return CHURN_OK;
}

static churn_status curve_figure(const char *path_noext, const char *title, size_t nseries,
                                 const char *const *labels, const double *const *xs, const double *const *ys,
                                 const size_t *npts, const double *score, const char *score_name,
                                 const double *ref_x, const double *ref_y, const char *ref_label,
                                 const char *xlabel, const char *ylabel, int legend_corner, const churn_params *p)
{
	churn_status st = check_series(path_noext ? path_noext : "figure", nseries, labels, xs, ys, npts);
	if (st)
		return st;
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	ch_line_series ser[9];
	char lab[8][256];
	for (size_t k = 0; k < nseries; k++) {
		if (score && isfinite(score[k])) {
			char num[32];
			fmt_fixed(num, sizeof num, score[k], 3);
			snprintf(lab[k], sizeof lab[k], "%s (%s %s)", labels[k], score_name, num);
		} else {
			snprintf(lab[k], sizeof lab[k], "%s", labels[k]);
		}
		ser[k] = (ch_line_series){lab[k], xs[k], ys[k], npts[k], NULL, NULL, false, false,
		                          ch_plot_series_color(k)};
	}
	size_t ns = nseries;
	if (ref_x)
		ser[ns++] = (ch_line_series){ref_label, ref_x, ref_y, 2, NULL, NULL, false, true, CH_COL_GREY};
	ch_line_panel panel = {NULL, xlabel, ylabel, 0, 1, 0, 1.02, false, ns, ser, legend_corner};
	if ((st = check_parent_dir(path_noext)))
		return st;
	return ch_plot_lines(path_noext, &fig, title, 1, &panel);
}

churn_status churn_plot_roc(const char *path_noext, const char *title, size_t nseries, const char *const *labels,
                            const double *const *fpr, const double *const *tpr, const size_t *npts,
                            const double *auc, const churn_params *p)
{
	static const double diag[2] = {0, 1};
	churn_status st = curve_figure(path_noext, title ? title : "ROC curves", nseries, labels, fpr, tpr, npts, auc,
	                               "AUC", diag, diag, "Chance", "False positive rate", "True positive rate (recall)",
	                               0, p);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_plot_pr(const char *path_noext, const char *title, size_t nseries, const char *const *labels,
                           const double *const *recall, const double *const *precision, const size_t *npts,
                           const double *ap, double base_rate, const churn_params *p)
{
	double bx[2] = {0, 1}, by[2] = {base_rate, base_rate};
	bool base = base_rate >= 0 && base_rate <= 1;
	char lab[64] = "No skill";
	if (base) {
		char num[32];
		fmt_fixed(num, sizeof num, base_rate, 3);
		snprintf(lab, sizeof lab, "No skill (positive rate %s)", num);
	}
	churn_status st = curve_figure(path_noext, title ? title : "Precision-recall curves", nseries, labels, recall,
	                               precision, npts, ap, "AP", base ? bx : NULL, base ? by : NULL, lab,
	                               "Recall (share of churners found)", "Precision (share of flagged who churn)", 1,
	                               p);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_plot_confusion(const char *path_noext, const char *title, uint64_t tp, uint64_t fp, uint64_t tn,
                                  uint64_t fn, const churn_params *p)
{
	if (!path_noext)
		return ch_fail(CHURN_E_INVALID_ARG, "figure path is NULL");
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	churn_status st = check_parent_dir(path_noext);
	if (!st)
		st = ch_plot_confusion2(path_noext, &fig, title ? title : "Confusion matrix", tp, fp, tn, fn);
	if (!st)
		ch_clear_error();
	return st;
}

churn_status churn_plot_lift(const char *path_noext, const char *title, size_t nseries, const char *const *labels,
                             const double *const *lift, size_t ndeciles, const churn_params *p)
{
	if (!path_noext || !nseries || nseries > 8 || !labels || !lift || !ndeciles || ndeciles > 100)
		return ch_fail(CHURN_E_INVALID_ARG, "lift chart: need 1-8 series and 1-100 deciles");
	for (size_t k = 0; k < nseries; k++) {
		if (!labels[k] || !lift[k])
			return ch_fail(CHURN_E_INVALID_ARG, "lift chart: series %zu needs a label and values", k);
		for (size_t d = 0; d < ndeciles; d++)
			if (!isfinite(lift[k][d]) || lift[k][d] < 0)
				return ch_fail(CHURN_E_NUMERIC, "lift chart: series '%s' decile %zu is not a finite lift >= 0",
				               labels[k], d + 1);
	}
	ch_fig fig;
	ch_fig_from_params(&fig, p);
	char cats[100][8];
	const char *cp[100];
	for (size_t d = 0; d < ndeciles; d++) {
		snprintf(cats[d], sizeof cats[d], "%zu", d + 1);
		cp[d] = cats[d];
	}
	churn_status st = check_parent_dir(path_noext);
	if (!st)
		st = ch_plot_vbars(path_noext, &fig, title ? title : "Lift by decile", "Score decile (1 = highest scores)",
		                   "Lift (churn rate / overall rate)", ndeciles, cp, nseries, lift, labels, 1.0,
		                   "Baseline (random targeting)");
	if (!st)
		ch_clear_error();
	return st;
}
