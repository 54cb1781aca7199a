/*
 * The report module's files share (ch_ prefix, never exported):
 *   report.c            details, records, artifacts, metrics, best model
 *   report-retention.c  /api/retention: reports/retention.json cut to a limit
 */
#ifndef CH_REPORT_PRIVATE_H
#define CH_REPORT_PRIVATE_H

/* The published generation's directory (<workdir>/.current resolved once), else the workdir; NULL on OOM. */
char *ch_report_pinned_dir(const char *workdir);

#endif
