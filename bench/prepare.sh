#!/bin/sh
# `churn prepare` end to end (read CSV, fit, apply, write Parquet + CSV +
# reports) on a synthetic Telco CSV, side by side in the same run with
# pandas + scikit-learn (bench/prepare_peer.py) and DuckDB's
# COPY (SELECT * FROM read_csv(...)) TO parquet (bench/prepare_duckdb.mjs).
# Wall seconds, peak RSS and CPU seconds (user + sys, all threads) come from
# /usr/bin/time -f '%e %M %U %S'; on a shared, oversubscribed machine the CPU
# seconds are the steadier comparison.
# usage: bench/prepare.sh [BUILD_DIR] [ROWS]      (default build, 1000000)
# Targets (issue 3): churn >= 5x faster than pandas+sklearn, faster than
# DuckDB's write, peak RSS < 2x the CSV size.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
rows=${2:-1000000}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "no $churn (build first)" >&2; exit 66; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time" >&2; exit 69; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv=$tmp/synth.csv
"$churn" synth --rows "$rows" --seed 1 --out "$csv" --quiet
size=$(wc -c < "$csv")
echo "# input: $rows rows, $size bytes ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"

run() { # name, then the command; appends "name seconds kb user sys" to $tmp/res
	name=$1
	shift
	if /usr/bin/time -f '%e %M %U %S' -o "$tmp/time.$name" "$@" > "$tmp/out.$name" 2> "$tmp/err.$name"; then
		echo "$name $(cat "$tmp/time.$name")" >> "$tmp/res"
		sed 's/^/# /' "$tmp/out.$name"
	else
		echo "# $name failed:" >&2
		tail -5 "$tmp/err.$name" >&2
	fi
}

mkdir -p "$tmp/wd"
run churn "$churn" prepare --input "$csv" --workdir "$tmp/wd" --json
if /usr/bin/python3 -c 'import pandas, sklearn' 2>/dev/null; then
	run pandas /usr/bin/python3 "$here/prepare_peer.py" "$csv" "$tmp/pandas"
else
	echo "# pandas + scikit-learn missing: skipped" >&2
fi
if command -v node >/dev/null 2>&1 && [ -d "$src/node_modules/@duckdb/node-api" ]; then
	run duckdb node "$here/prepare_duckdb.mjs" "$csv" "$tmp/duck.parquet"
else
	echo "# node or @duckdb/node-api missing: DuckDB skipped" >&2
fi

awk -v size="$size" '
	{ s[$1] = $2; m[$1] = $3; c[$1] = $4 + $5 }
	END {
		printf "%-16s %9s %9s %12s %14s\n", "tool", "seconds", "CPU s", "peak RSS MB", "RSS / CSV size"
		for (t in s) printf "%-16s %9.2f %9.2f %12.1f %14.2f\n", t, s[t], c[t], m[t] / 1024, m[t] * 1024 / size
		if ("churn" in s) {
			if ("pandas" in s)
				printf "speed-up vs pandas+sklearn: %.1fx (target >= 5x): %s\n", s["pandas"] / s["churn"],
				       (s["pandas"] >= 5 * s["churn"]) ? "met" : "NOT met"
			if ("duckdb" in s)
				printf "churn vs DuckDB COPY: %.2fx its time, %.2fx its CPU time (target < 1): %s\n",
				       s["churn"] / s["duckdb"], c["churn"] / c["duckdb"], (s["churn"] < s["duckdb"]) ? "met" : "NOT met"
			printf "churn peak RSS: %.2fx the CSV (target < 2): %s\n", m["churn"] * 1024 / size,
			       (m["churn"] * 1024 < 2 * size) ? "met" : "NOT met"
		}
	}' "$tmp/res"
