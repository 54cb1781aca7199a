#!/bin/sh
# Benchmark: libchurn's Cox fit (churn_cox_fit) against R's
# survival::coxph(ties = "efron") on the same design in the same run.
# The design is libchurn's prep with tenure as the time, Churn as the event
# and the time-leaking column left out (tests/survival-dump.c writes it as
# native doubles; R reads it with readBin, so only the fits are timed).
# Data: Telco (CHURN_TELCO_CSV) and synthetic Telco (`churn synth --rows
# ROWS --seed 1`, default 1,000,000; kept in $BENCH_DIR, default
# ${TMPDIR:-/tmp}/churn-bench). Figures: best of REPEATS runs, wall and CPU
# (user + system, all threads) side by side; on a shared, oversubscribed
# machine wall times mostly measure the wait for a core. Ratio: R / libchurn.
# usage: bench/cox.sh [BUILDDIR] [ROWS] [REPEATS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
reps=${3:-5}
dump=$build/tests/survival-dump
churn=$build/cli/churn
[ -x "$dump" ] && [ -x "$churn" ] || { echo "bench: $dump or $churn not built (ninja -C $build)" >&2; exit 1; }
command -v Rscript >/dev/null 2>&1 || { echo "bench: Rscript not found (scripts/deps.sh test)" >&2; exit 1; }
bdir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
mkdir -p "$bdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-bench-cox-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/fit.R" <<'REOF'
suppressMessages(library(survival))
a <- commandArgs(trailingOnly = TRUE)
dims <- scan(file.path(a[1], "design.dims"), quiet = TRUE); n <- dims[1]; p <- dims[2]
con <- file(file.path(a[1], "design.bin"), "rb")
v <- readBin(con, "double", n * (p + 2)); close(con)
x <- matrix(v[1:(n * p)], n, p); time <- v[n * p + 1:n]; event <- v[n * (p + 1) + 1:n]
best_w <- Inf; best_c <- Inf
for (i in seq_len(as.integer(a[2]))) {
	t <- system.time(fit <- suppressWarnings(coxph(Surv(time, event) ~ x, ties = "efron")))
	best_w <- min(best_w, t[["elapsed"]]); best_c <- min(best_c, t[["user.self"]] + t[["sys.self"]])
}
cat(sprintf("%.4f %.4f %d %.6f\n", best_w, best_c, fit$iter, concordance(fit)$concordance))
REOF
# one data set: NAME CSV
bench_one() {
	name=$1 csv=$2
	best_w="" best_c=""
	for i in $(seq "$reps"); do
		"$dump" "$csv" "$tmp" tenure bin >"$tmp/line"
		w=$(sed -n 's/.*"fit_seconds": \([0-9.]*\).*/\1/p' "$tmp/result.json")
		c=$(sed -n 's/.*"cpu_seconds": \([0-9.]*\).*/\1/p' "$tmp/result.json")
		best_w=$(awk -v a="$best_w" -v b="$w" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		best_c=$(awk -v a="$best_c" -v b="$c" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
	done
	sed 's/^survival-dump: /  libchurn: /' "$tmp/line"
	set -- $(Rscript "$tmp/fit.R" "$tmp" "$reps")
	awk -v n="$name" -v lw="$best_w" -v lc="$best_c" -v rw="$1" -v rc="$2" -v it="$3" -v rcon="$4" 'BEGIN {
		printf "%-22s libchurn %8.1f ms wall %8.1f ms CPU | R coxph %8.1f ms wall %8.1f ms CPU (%d iterations, C %.6f) | R/libchurn %.1fx wall %.1fx CPU\n",
		       n, lw * 1e3, lc * 1e3, rw * 1e3, rc * 1e3, it, rcon, rw / lw, rc / lc }'
}
echo "cox bench: best of $reps; load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -f "$CHURN_TELCO_CSV" ]; then
	bench_one "Telco (7,043 rows)" "$CHURN_TELCO_CSV"
else
	echo "Telco: skipped (CHURN_TELCO_CSV not set)"
fi
big=$bdir/cox-synth-$rows.csv
[ -f "$big" ] || "$churn" synth --rows "$rows" --seed 1 --out "$big" >/dev/null
bench_one "synthetic ($rows rows)" "$big"
