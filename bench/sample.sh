#!/bin/sh
# Benchmark: training past memory (issue 13). `churn train` on a 10M-row
# `churn synth` file with train.max_rows (a stratified sample drawn while
# reading, so that only the sample is held) beside the whole 1M-row file
# trained on every row, in the same run: wall and CPU seconds, peak RSS
# (bench/timed.py: wait4's ru_maxrss) and the test ROC AUC of each model.
# Data: `churn synth --rows N --seed 1`, kept in $BENCH_DIR (default
# ${TMPDIR:-/tmp}/churn-bench; the 10M-row file is about 1.4 GB).
# usage: bench/sample.sh [BUILDDIR] [BIG_ROWS] [CAPS...]   (default 10000000 200000 1000000)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
big=${2:-10000000}
[ $# -ge 2 ] && shift 2 || shift $#
caps=${*:-200000 1000000}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
bdir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
mkdir -p "$bdir"
for n in 1000000 "$big"; do
	[ -s "$bdir/synth-$n.csv" ] || nice "$churn" synth --rows "$n" --seed 1 --out "$bdir/synth-$n.csv"
done
out=$(mktemp -d "${TMPDIR:-/tmp}/churn-sample-bench-XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM
echo "sample bench: load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(du -h "$bdir/synth-$big.csv" | cut -f1) for $big rows"
printf '%-34s %9s %9s %9s %10s %10s %8s %8s\n' run rows_read sampled wall_s cpu_s peak_MiB auc_lr auc_gbm
# one ROWS CAP: churn train on synth-ROWS.csv with train.max_rows CAP (0: every row)
one() {
	printf '{"train": {"max_rows": %s}}\n' "$2" >"$out/c.json"
	"$root/bench/timed.py" "$out/t" -- "$churn" train --input "$bdir/synth-$1.csv" --config "$out/c.json" \
		--out "$out/w" --quiet
	/usr/bin/python3 - "$out/t" "$out/w/reports/metrics.json" "$1" "$2" <<'PY'
import json, sys
wall, user, sys_, rss = (float(x) for x in open(sys.argv[1]).read().split())
m = json.load(open(sys.argv[2]))
s = m.get("sample", {"rows_read": m["rows"], "rows_sampled": m["rows"]})
name = f"{int(sys.argv[3]):,} rows, " + (f"max_rows {int(sys.argv[4]):,}" if int(sys.argv[4]) else "every row")
print(f"{name:<34} {s['rows_read']:>9} {s['rows_sampled']:>9} {wall:>9.2f} {user + sys_:>10.2f} {rss / 1024:>10.0f}"
      f" {m['models']['logreg']['roc_auc']:>8.4f} {m['models']['gbm']['roc_auc']:>8.4f}")
PY
}
one 1000000 0
for c in $caps; do
	one "$big" "$c"
done
