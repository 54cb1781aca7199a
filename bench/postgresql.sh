#!/bin/sh
# Benchmark: 1M Telco-shaped rows in PostgreSQL 15 scored by the churn
# extension (record and jsonb forms, serial and parallel, INSERT ... SELECT
# and CREATE TABLE AS into a table) against a Python client (psycopg2 read
# into pandas, scikit-learn GradientBoostingClassifier, COPY back), same
# run; backend memory after 100k and 3x1M rows. See bench/postgresql.py.
# Data: `churn synth --rows ROWS --seed 1` (kept in $BENCH_DIR, default
# ${TMPDIR:-/tmp}/churn-bench); models trained on Telco (CHURN_TELCO_CSV)
# or, without it, on 7,043 synthetic rows.
# usage: bench/postgresql.sh [BUILDDIR] [ROWS] [REPEATS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
reps=${3:-2}
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
exec /usr/bin/python3 "$root/bench/postgresql.py" "$churn" "$so" "$root" "$data" "$train" "$reps"
