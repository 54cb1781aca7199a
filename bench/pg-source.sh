#!/bin/sh
# Benchmark: `churn run` from a PostgreSQL 15 source (--source
# postgresql://...?table=) against the same rows from a CSV file, same run
# (bench/pg_source.py; tests/pgcluster.py's throwaway cluster).
# Data: Telco (CHURN_TELCO_CSV) when ROWS is "telco", else `churn synth
# --rows ROWS --seed 1` (kept in $BENCH_DIR, default ${TMPDIR:-/tmp}/churn-bench).
# usage: bench/pg-source.sh [BUILDDIR] [ROWS|telco] [REPEATS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-100000}
reps=${3:-3}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
bdir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
mkdir -p "$bdir"
if [ "$rows" = telco ]; then
	data=${CHURN_TELCO_CSV:?set CHURN_TELCO_CSV}
else
	data=$bdir/synth-$rows.csv
	[ -s "$data" ] || "$churn" synth --rows "$rows" --seed 1 --out "$data"
fi
exec nice /usr/bin/python3 "$root/bench/pg_source.py" "$churn" "$root" "$data" "$reps"
