#!/bin/sh
# Benchmark: 1M Telco-shaped rows scored on postgresql/cluster.sh's two shards
# beside one instance, same run (bench/pg_shards.py). Data: `churn synth
# --rows ROWS --seed 1` kept in $BENCH_DIR (default ${TMPDIR:-/tmp}/churn-bench);
# the model is trained on Telco (CHURN_TELCO_CSV) or 7,043 synthetic rows.
# usage: bench/pg-shards.sh [BUILDDIR] [ROWS] [REPEATS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
reps=${3:-3}
churn=$build/cli/churn
so=$build/postgresql/churn.so
[ -x "$churn" ] && [ -f "$so" ] || { echo "bench: $churn or $so not built (ninja -C $build)" >&2; exit 1; }
bdir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
mkdir -p "$bdir"
data=$bdir/synth-$rows.csv
[ -s "$data" ] || "$churn" synth --rows "$rows" --seed 1 --out "$data"
train=${CHURN_TELCO_CSV:-}
if [ -z "$train" ] || [ ! -f "$train" ]; then
	train=$bdir/synth-7043.csv
	[ -s "$train" ] || "$churn" synth --rows 7043 --seed 2 --out "$train"
fi
exec /usr/bin/python3 "$root/bench/pg_shards.py" "$churn" "$so" "$root" "$data" "$train" "$reps"
