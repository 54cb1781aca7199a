/*
 * The report module's files share (ch_ prefix, never exported):
 *   report.c            details, records, artifacts, metrics, best model
 *   report-retention.c  /api/retention: reports/retention.json cut to a limit
 * and with alerts.c (the /api/alerts reader).
 */
#ifndef CH_REPORT_PRIVATE_H
#define CH_REPORT_PRIVATE_H

/* The published generation's directory (<workdir>/.current resolved once), else the workdir; NULL on OOM. */
char *ch_report_pinned_dir(const char *workdir);

/*
 * @p text with every absolute filesystem path cut to its last component
 * (malloc'd; NULL on OOM): what HTTP clients are shown of messages that may
 * name the server's files. URLs are left whole.
 */
char *ch_report_strip_paths(const char *text);

#endif
