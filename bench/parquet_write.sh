#!/bin/sh
# Parquet write benchmark: libchurn's writer vs DuckDB's COPY ... TO parquet
# on a comparable 1,000,000 x 45 table (+ an INT32 target), same run.
# usage: bench/parquet_write.sh [BUILD_DIR] [ROWS] [COLS]
# Prints one JSON line per (writer, data kind, codec) and a summary table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
rows=${2:-1000000}
cols=${3:-45}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$build/libchurn/libchurn.so" ] || { echo "no libchurn.so in $build/libchurn (build first)" >&2; exit 66; }
cc -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$build/include" "$here/parquet_bench.c" \
	-L"$build/libchurn" -lchurn -lm -Wl,-rpath,"$build/libchurn" -o "$tmp/parquet_bench"
out=$tmp/results.jsonl
for kind in random telco; do
	"$tmp/parquet_bench" "$rows" "$cols" "$kind" "$tmp/churn.parquet" zstd none | tee -a "$out"
	if command -v node >/dev/null 2>&1 && [ -d "$src/node_modules/@duckdb/node-api" ]; then
		node "$here/parquet_duckdb.mjs" "$rows" "$cols" "$kind" "$tmp/duck.parquet" zstd none snappy | tee -a "$out"
	else
		echo "# DuckDB comparison skipped: node or @duckdb/node-api missing" >&2
	fi
done
echo
python3 - "$out" <<'PY' || true
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'writer':9} {'data':7} {'codec':7} {'seconds':>8} {'MB/s':>8} {'file MB':>8}")
for r in rs:
    print(f"{r['writer']:9} {r['kind']:7} {r['codec']:7} {r['seconds']:8.3f} {r['mb_per_s']:8.1f} {r['file_mb']:8.1f}")
PY
