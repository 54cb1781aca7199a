/*
 * Internal chart primitives on top of plplot (ch_ prefix, never exported).
 * Every plplot call of libchurn lives in plot.c, under one process-wide
 * mutex, each figure on a private plplot stream (plmkstrm ... plend1).
 */
#ifndef CH_PLOT_PRIVATE_H
#define CH_PLOT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "churn/common.h"
#include "churn/params.h"

/* Output options of one figure. */
typedef struct ch_fig {
	int width, height; /* pixels */
	bool svg;          /* also write .svg */
	const churn_params *p; /* for log lines (may be NULL) */
} ch_fig;

/* Width/height/svg from CHURN_KEY_EDA_FIG_WIDTH, CHURN_KEY_EDA_FIG_HEIGHT, CHURN_KEY_EDA_SVG (p may be NULL). */
void ch_fig_from_params(ch_fig *f, const churn_params *p);

/* mkdir -p dir and check it is writable (CHURN_E_CREATE otherwise). */
churn_status ch_plot_check_dir(const char *dir);

/* Make s usable in a file name: [A-Za-z0-9_-] kept, everything else '_'. Fresh string. */
char *ch_plot_sanitize(const char *s);

/* Palette indices (Okabe-Ito, colour-blind safe). */
enum {
	CH_COL_FG = 1,
	CH_COL_BLUE = 2,      /* retained / first series */
	CH_COL_VERMILLION = 3,/* churned / second series */
	CH_COL_ORANGE = 4,
	CH_COL_SKY = 5,
	CH_COL_GREEN = 6,
	CH_COL_PURPLE = 7,
	CH_COL_YELLOW = 8,
	CH_COL_GRID = 9,
	CH_COL_GREY = 10
};
/* Colour of series k (cycles through the 7 data colours). */
int ch_plot_series_color(size_t k);

/* Horizontal bars; one panel of a figure. */
typedef struct ch_hbar_panel {
	const char *title;          /* panel title, may be NULL */
	const char *xlabel;         /* value axis label with units */
	size_t n;                   /* bars, drawn top to bottom in index order */
	const char *const *labels;  /* bar labels (drawn left of the first panel only) */
	const double *value;        /* bar lengths (>= 0 expected; negatives drawn leftwards) */
	const double *lo, *hi;      /* optional interval whiskers (both or neither) */
	const char *const *annot;   /* optional text right of each bar */
	double ref;                 /* reference line (NaN: none) */
	const char *ref_label;      /* legend text of the reference line */
	bool percent;               /* values are fractions shown as % */
	int color;                  /* CH_COL_* */
} ch_hbar_panel;
churn_status ch_plot_hbars(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                           const ch_hbar_panel *panels);

/* What one panel of horizontal bars may add: a colour per bar, a second reference line (e.g. warn and alert). */
typedef struct ch_hbar_extra {
	const int *colors;      /* CH_COL_* of each bar (NULL: the panel's color) */
	double ref2;            /* NaN: none */
	const char *ref2_label;
} ch_hbar_extra;
churn_status ch_plot_hbars_extra(const char *path_noext, const ch_fig *fig, const char *title,
                                 const ch_hbar_panel *panel, const ch_hbar_extra *extra);

/*
 * Small multiples: one panel of horizontal bars per categorical (each with its
 * own labels and title), ncols panels per row, one shared value scale, the
 * subtitle (may be NULL) under the title. Row heights follow the bar counts.
 */
churn_status ch_plot_hbar_grid(const char *path_noext, const ch_fig *fig, const char *title, const char *subtitle,
                               size_t npanels, size_t ncols, const ch_hbar_panel *panels);

/* Histograms of several columns, two series each (e.g. retained, churned), ncols panels per row. */
typedef struct ch_hist_panel {
	const char *title, *xlabel, *ylabel;
	size_t nbins;
	const double *edges;     /* nbins + 1 */
	const double *counts[2];
} ch_hist_panel;
churn_status ch_plot_hist_grid(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                               size_t ncols, const ch_hist_panel *panels, const char *const *series_labels);

/* Correlation heatmap of a k x k row-major matrix in [-1, 1] (NaN drawn grey). */
churn_status ch_plot_heatmap(const char *path_noext, const ch_fig *fig, const char *title, size_t k,
                             const char *const *names, const double *m);

/* Line charts (ROC, PR, Kaplan-Meier). */
typedef struct ch_line_series {
	const char *label;       /* legend text (NULL: not in the legend) */
	const double *x, *y;
	size_t n;
	const double *lo, *hi;   /* optional band (same x) */
	bool step;               /* right-continuous step function (KM) */
	bool dashed;
	int color;               /* CH_COL_* */
} ch_line_series;
typedef struct ch_line_panel {
	const char *title, *xlabel, *ylabel;
	double xmin, xmax, ymin, ymax;
	bool y_percent;
	size_t nseries;
	const ch_line_series *series;
	int legend;              /* 0 lower right, 1 upper right, 2 lower left, 3 upper left */
} ch_line_panel;
churn_status ch_plot_lines(const char *path_noext, const ch_fig *fig, const char *title, size_t npanels,
                           const ch_line_panel *panels);

/* Grouped vertical bars: ncat categories x nseries, optional dashed reference line (NaN: none). */
churn_status ch_plot_vbars(const char *path_noext, const ch_fig *fig, const char *title, const char *xlabel,
                           const char *ylabel, size_t ncat, const char *const *cat_labels, size_t nseries,
                           const double *const *values, const char *const *series_labels, double ref,
                           const char *ref_label);

/* 2x2 confusion matrix figure. */
churn_status ch_plot_confusion2(const char *path_noext, const ch_fig *fig, const char *title, uint64_t tp,
                                uint64_t fp, uint64_t tn, uint64_t fn);

#endif
