/*
 * Experiment for bench/pipeline.sh (section 3 of bench/README.md "Pipeline"):
 * where does the time of a plplot + cairo figure go?
 *
 * Draws N copies of a typical libchurn figure (axes, grid, 20 pairs of filled
 * bars, title, labels, legend text) in several ways and prints CPU and wall
 * milliseconds per figure:
 *   pngcairo         what libchurn does: plmkstrm, plsdev("pngcairo"), plinit,
 *                    draw, plend1 (plend1 encodes the PNG with cairo's writer:
 *                    libpng adaptive filters + zlib level 6), split into
 *                    init / draw / end
 *   pngcairo-small   the same at half the size
 *   svgcairo         SVG instead of PNG
 *   memcairo+none    memcairo into our RGBA buffer, no file (cost of drawing)
 *   memcairo+png     memcairo, then our own libpng writer with a filter, zlib
 *                    level and strategy (RGB, alpha dropped)
 *   pngcairo-1strm   one stream, familying (plsfam) + pladv/pleop per page
 *
 * usage: plplot_exp OUTDIR [N] [WIDTH HEIGHT]
 * build: cc -O2 -o plplot_exp bench/plplot_exp.c $(pkg-config --cflags --libs plplot libpng zlib)
 */
#define _GNU_SOURCE
#include <plplot.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void draw(int k)
{
	plcol0(1);
	plvpor(0.1, 0.95, 0.12, 0.9);
	plwind(0, 80, 0, 700);
	plcol0(15);
	for (int i = 1; i < 7; i++) {
		PLFLT gx[2] = {0, 80}, gy[2] = {i * 100.0, i * 100.0};
		plline(2, gx, gy);
	}
	for (int i = 0; i < 20; i++) {
		double a = 150 + 300 * (double)((i * 37 + k) % 20) / 20, b = a * 0.4;
		PLFLT x1[4] = {i * 4.0 + 0.2, i * 4.0 + 0.2, i * 4.0 + 1.9, i * 4.0 + 1.9}, y1[4] = {0, a, a, 0};
		PLFLT x2[4] = {i * 4.0 + 2.0, i * 4.0 + 2.0, i * 4.0 + 3.7, i * 4.0 + 3.7}, y2[4] = {0, b, b, 0};
		plcol0(9);
		plfill(4, x1, y1);
		plcol0(3);
		plfill(4, x2, y2);
	}
	plcol0(1);
	plbox("bcnst", 10, 0, "bcnstv", 100, 0);
	pllab("tenure (months)", "Customers (count)", "Distribution of tenure by churn");
	plptex(60, 650, 1, 0, 0, "Retained");
	plptex(60, 610, 1, 0, 0, "Churned");
}

static void palette(void)
{
	plscmap0n(16);
	plscol0(0, 255, 255, 255);
	plscol0(1, 34, 34, 34);
	plscol0(3, 213, 94, 0);
	plscol0(9, 0, 114, 178);
	plscol0(15, 228, 228, 228);
}

static int write_png(const char *file, const unsigned char *rgba, int w, int h, int level, int filter, int strategy)
{
	FILE *fp = fopen(file, "wb");
	if (!fp)
		return -1;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(fp);
		return -1;
	}
	png_init_io(png, fp);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, level);
	png_set_compression_strategy(png, strategy);
	png_set_filter(png, 0, filter);
	png_write_info(png, info);
	png_set_filler(png, 0, PNG_FILLER_AFTER); /* input rows are RGBA-ish: drop the 4th byte */
	for (int y = 0; y < h; y++)
		png_write_row(png, (png_const_bytep)(rgba + (size_t)y * (size_t)w * 4));
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	return fclose(fp);
}

struct acc {
	double init, drw, end, c_all, w_all;
};

static void file_stream(const char *dev, const char *file, int w, int h, struct acc *a, int k)
{
	double c0 = cpu(), w0 = wall();
	PLINT s;
	plmkstrm(&s);
	plsdev(dev);
	plsfnam(file);
	plspage(0, 0, w, h, 0, 0);
	palette();
	plinit();
	pladv(0);
	double c1 = cpu();
	draw(k);
	double c2 = cpu();
	plend1();
	double c3 = cpu();
	a->init += c1 - c0;
	a->drw += c2 - c1;
	a->end += c3 - c2;
	a->c_all += c3 - c0;
	a->w_all += wall() - w0;
}

static void mem_stream(unsigned char *buf, int w, int h, const char *file, int level, int filter, int strategy,
                       struct acc *a, int k)
{
	double c0 = cpu(), w0 = wall();
	memset(buf, 255, (size_t)w * (size_t)h * 4);
	PLINT s;
	plmkstrm(&s);
	plsdev("memcairo");
	plsmema(w, h, buf);
	palette();
	plinit();
	pladv(0);
	double c1 = cpu();
	draw(k);
	plend1();
	double c2 = cpu();
	if (file)
		write_png(file, buf, w, h, level, filter, strategy);
	double c3 = cpu();
	a->init += c1 - c0;
	a->drw += c2 - c1;
	a->end += c3 - c2;
	a->c_all += c3 - c0;
	a->w_all += wall() - w0;
}

static void report(const char *name, const struct acc *a, int n, const char *dir, const char *pattern)
{
	long bytes = 0;
	if (pattern) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "cat %s/%s 2>/dev/null | wc -c", dir, pattern);
		FILE *p = popen(cmd, "r");
		if (p) {
			if (fscanf(p, "%ld", &bytes) != 1)
				bytes = 0;
			pclose(p);
		}
	}
	printf("%-22s %7.1f ms cpu/figure (init %5.1f, draw %5.1f, end/encode %5.1f)  %7.1f ms wall/figure  %6.0f KB/figure\n",
	       name, 1e3 * a->c_all / n, 1e3 * a->init / n, 1e3 * a->drw / n, 1e3 * a->end / n, 1e3 * a->w_all / n,
	       bytes / 1024.0 / n);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [N] [WIDTH HEIGHT]\n", argv[0]);
		return 64;
	}
	const char *dir = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 20;
	int w = argc > 4 ? atoi(argv[3]) : 1200, h = argc > 4 ? atoi(argv[4]) : 800;
	char file[512];
	unsigned char *buf = malloc((size_t)w * (size_t)h * 4);
	if (!buf || n < 1)
		return 1;

	/* the very first plinit of the process: driver dlopen, fontconfig, pango */
	{
		struct acc a = {0};
		snprintf(file, sizeof file, "%s/first.png", dir);
		file_stream("pngcairo", file, w, h, &a, 0);
		report("first figure (cold)", &a, 1, dir, "first.png");
	}
	struct acc a = {0};
	for (int k = 0; k < n; k++) {
		snprintf(file, sizeof file, "%s/png_%02d.png", dir, k);
		file_stream("pngcairo", file, w, h, &a, k);
	}
	report("pngcairo", &a, n, dir, "png_*.png");

	memset(&a, 0, sizeof a);
	for (int k = 0; k < n; k++) {
		snprintf(file, sizeof file, "%s/small_%02d.png", dir, k);
		file_stream("pngcairo", file, w / 2, h / 2, &a, k);
	}
	report("pngcairo-half-size", &a, n, dir, "small_*.png");

	memset(&a, 0, sizeof a);
	for (int k = 0; k < n; k++) {
		snprintf(file, sizeof file, "%s/svg_%02d.svg", dir, k);
		file_stream("svgcairo", file, w, h, &a, k);
	}
	report("svgcairo", &a, n, dir, "svg_*.svg");

	memset(&a, 0, sizeof a);
	for (int k = 0; k < n; k++)
		mem_stream(buf, w, h, NULL, 0, 0, 0, &a, k);
	report("memcairo, no file", &a, n, dir, NULL);

	static const struct {
		const char *name, *prefix;
		int level, filter, strategy;
	} enc[] = {
		{"memcairo+png L6 all", "m6a", 6, PNG_ALL_FILTERS, Z_FILTERED},
		{"memcairo+png L6 none", "m6n", 6, PNG_FILTER_NONE, Z_DEFAULT_STRATEGY},
		{"memcairo+png L1 none", "m1n", 1, PNG_FILTER_NONE, Z_DEFAULT_STRATEGY},
		{"memcairo+png L3 up", "m3u", 3, PNG_FILTER_UP, Z_DEFAULT_STRATEGY},
		{"memcairo+png L1 up", "m1u", 1, PNG_FILTER_UP, Z_DEFAULT_STRATEGY},
		{"memcairo+png RLE up", "mru", 1, PNG_FILTER_UP, Z_RLE},
		{"memcairo+png RLE none", "mrn", 1, PNG_FILTER_NONE, Z_RLE},
	};
	for (size_t e = 0; e < sizeof enc / sizeof enc[0]; e++) {
		memset(&a, 0, sizeof a);
		for (int k = 0; k < n; k++) {
			snprintf(file, sizeof file, "%s/%s_%02d.png", dir, enc[e].prefix, k);
			mem_stream(buf, w, h, file, enc[e].level, enc[e].filter, enc[e].strategy, &a, k);
		}
		char pat[64];
		snprintf(pat, sizeof pat, "%s_*.png", enc[e].prefix);
		report(enc[e].name, &a, n, dir, pat);
	}

	/* one stream for all figures: familying writes one file per page */
	{
		double c0 = cpu(), w0 = wall();
		PLINT s;
		plmkstrm(&s);
		plsdev("pngcairo");
		snprintf(file, sizeof file, "%s/fam_%%n.png", dir);
		plsfnam(file);
		plsfam(1, 1, 0);
		plspage(0, 0, w, h, 0, 0);
		palette();
		plinit();
		for (int k = 0; k < n; k++) {
			pladv(0);
			draw(k);
		}
		plend1();
		struct acc f = {0};
		f.c_all = cpu() - c0;
		f.w_all = wall() - w0;
		report("pngcairo one stream", &f, n, dir, "fam_*.png");
	}
	free(buf);
	return 0;
}
