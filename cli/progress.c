/*
 * The progress bar of the CLI (stderr, on a terminal only). The library calls
 * back as often as it likes, from any thread (a pipeline's background jobs
 * share the callback); the bar is drawn only when what it shows changes, at
 * most ten times a second but always at 100%, and an unfinished bar is
 * cleared before any other line is written (cli_progress_clear()), so that
 * no bar is left half drawn under a message.
 */
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	pthread_mutex_t lock;
	int tty;           /* -1: not asked yet */
	bool open;         /* a bar is on the line, not finished */
	char what[13];     /* the step it shows */
	long long shown;   /* the figure it shows: percent, or the count */
	double drawn_at;   /* seconds, monotonic */
} bar = {PTHREAD_MUTEX_INITIALIZER, -1, false, "", -1, 0};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool on_tty(void)
{
	if (bar.tty < 0)
		bar.tty = isatty(STDERR_FILENO);
	return bar.tty;
}

static void clear_locked(void)
{
	if (bar.open) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		bar.open = false;
	}
}

bool cli_progress(void *ud, const char *what, uint64_t done, uint64_t total)
{
	(void)ud;
	pthread_mutex_lock(&bar.lock);
	if (!on_tty())
		goto out;
	bool finished = total > 0 && done >= total;
	long long figure = total > 0 ? (long long)((finished ? total : done) * 100 / total) : (long long)done;
	bool same_step = strncmp(bar.what, what, sizeof(bar.what) - 1) == 0;
	double t = now_s();
	if (same_step && (figure == bar.shown || (!finished && t - bar.drawn_at < 0.1)))
		goto out;
	if (!same_step)
		clear_locked();
	snprintf(bar.what, sizeof(bar.what), "%s", what);
	bar.shown = figure;
	bar.drawn_at = t;
	if (total > 0) {
		int fill = (int)(figure * 30 / 100);
		fprintf(stderr, "\r%-12.12s [%.*s%*s] %3lld%%", what, fill, "##############################", 30 - fill, "",
		        figure);
	} else {
		fprintf(stderr, "\r%-12.12s %lld", what, figure);
	}
	bar.open = !finished;
	if (finished) {
		fputc('\n', stderr);
		bar.shown = -1;
		bar.what[0] = 0;
	}
	fflush(stderr);
out:
	pthread_mutex_unlock(&bar.lock);
	return true;
}

void cli_progress_clear(void)
{
	pthread_mutex_lock(&bar.lock);
	clear_locked();
	bar.what[0] = 0;
	bar.shown = -1;
	pthread_mutex_unlock(&bar.lock);
}
