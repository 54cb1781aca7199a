/*
 * The ML pipeline's model figures (ch_pipeline_model_figures,
 * pipeline-private.h): ROC, precision-recall, lift and one confusion matrix
 * per model, on the test rows of the training, drawn through the churn_plot_*
 * calls; and the revenue at risk figure of the best model. Progress:
 * ("figures", figures drawn, figures to draw).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "churn/metrics.h"
#include "churn/model.h"
#include "churn/plot.h"
#include "core-private.h"
#include "params-private.h"
#include "pipeline-private.h"

churn_status ch_pipeline_model_figures(const churn_training *t, const churn_eda *rev_eda, const char *dir,
                                       const churn_params *p)
{
	size_t k = churn_training_get_model_count(t), n = 0, pos = 0;
	const uint8_t *y = churn_training_get_test_labels(t, &n);
	double *buf = malloc((k * (n + 1) * 4 + k * 10 + 1) * sizeof(double));
	double *thr = malloc((n + 1) * sizeof(double));
	char *path = NULL;
	churn_status st = (buf && thr) ? CHURN_OK : ch_fail(CHURN_E_NOMEM, "out of memory");
	if (st)
		goto out;
	const char *labels[3];
	const double *fpr[3], *tpr[3], *rec[3], *prec[3], *lift[3];
	size_t nroc[3], npr[3];
	double auc[3], ap[3];
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	double base = n ? (double)pos / (double)n : NAN;
	uint64_t drawn = 0, ndraw = k + 3 + (rev_eda != NULL);
	for (size_t i = 0; i < k && !st; i++) {
		double *b = buf + i * ((n + 1) * 4 + 10);
		const churn_model *model = churn_training_get_model(t, i);
		const double *prob = churn_training_get_test_scores(t, i, NULL);
		labels[i] = churn_model_kind_name(churn_model_get_kind(model));
		if ((st = churn_metrics_roc_curve(y, prob, n, b, b + (n + 1), thr, n + 1, &nroc[i])))
			break;
		if ((st = churn_metrics_pr_curve(y, prob, n, b + 2 * (n + 1), b + 3 * (n + 1), thr, n + 1, &npr[i])))
			break;
		if ((st = churn_metrics_lift(y, prob, n, 10, b + 4 * (n + 1), NULL)))
			break;
		if ((st = churn_metrics_roc_auc(y, prob, n, &auc[i])) ||
		    (st = churn_metrics_average_precision(y, prob, n, &ap[i])))
			break;
		fpr[i] = b;
		tpr[i] = b + (n + 1);
		prec[i] = b + 2 * (n + 1);
		rec[i] = b + 3 * (n + 1);
		lift[i] = b + 4 * (n + 1);
		churn_confusion c;
		if ((st = churn_metrics_confusion(y, prob, n, churn_model_get_threshold(model), &c)))
			break;
		free(path);
		path = ch_asprintf("%s/confusion_%s", dir, labels[i]);
		char title[96];
		snprintf(title, sizeof(title), "Confusion matrix: %s (test set)", labels[i]);
		if (!path || (st = churn_plot_confusion(path, title, c.tp, c.fp, c.tn, c.fn, p)))
			st = st ? st : ch_fail(CHURN_E_NOMEM, "out of memory");
		else
			ch_progress(p, "figures", ++drawn, ndraw);
	}
	if (st)
		goto out;
	free(path);
	if (!(path = ch_asprintf("%s/roc_curve", dir)) ||
	    (st = churn_plot_roc(path, "ROC curve (test set)", k, labels, fpr, tpr, nroc, auc, p)))
		goto out_nomem;
	ch_progress(p, "figures", ++drawn, ndraw);
	free(path);
	if (!(path = ch_asprintf("%s/pr_curve", dir)) ||
	    (st = churn_plot_pr(path, "Precision-recall curve (test set)", k, labels, rec, prec, npr, ap, base, p)))
		goto out_nomem;
	ch_progress(p, "figures", ++drawn, ndraw);
	free(path);
	if (!(path = ch_asprintf("%s/lift_chart", dir)) ||
	    (st = churn_plot_lift(path, "Lift by decile (test set)", k, labels, lift, 10, p)))
		goto out_nomem;
	ch_progress(p, "figures", ++drawn, ndraw);
	if (rev_eda && !(st = churn_eda_draw_revenue(rev_eda, dir, p)))
		ch_progress(p, "figures", ++drawn, ndraw);
	goto out;
out_nomem:
	if (!st)
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
out:
	free(path);
	free(buf);
	free(thr);
	return st;
}
