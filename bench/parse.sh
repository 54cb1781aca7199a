#!/bin/sh
# CSV parse benchmark (issue 2): parse and type a synthetic Telco CSV of ROWS
# rows (default 1,000,000, about 140 MB) from `churn synth`, timing whole
# processes on the same file in the same run:
#   churn profile --input FILE --json     (the target: >= 300 MB/s, RSS < 1.5x file)
#   bench/parse_csv FILE                  (churn_csv_read_file() alone)
#   pandas read_csv                       (/usr/bin/python3 bench/parse_peer.py)
#   DuckDB read_csv, 2 threads            (node bench/parse_duckdb.mjs)
# Each is run REPEAT times (default 3); the best wall time, that run's CPU
# time (user + system) and peak RSS (/usr/bin/time -f '%e %M %U %S') are
# reported. On a shared machine the CPU time is the steadier figure. Not a
# test: it prints a table.
# Environment: BUILD (meson build dir, default build-bench, release),
# BENCH_DIR (where the CSV is kept and reused, default $TMPDIR/churn-bench).
# usage: bench/parse.sh [ROWS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
build=${BUILD:-$root/build-bench}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
repeat=${REPEAT:-3}
mkdir -p "$dir"

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Dtests=false -Dexamples=false -Dhttpd=false >/dev/null
fi
ninja -C "$build" cli/churn >/dev/null
churn=$build/cli/churn
lib=$(dirname "$(find "$build/libchurn" -name 'libchurn.so*' | head -n 1)")
${CC:-cc} -O2 -I"$root/include" -I"$build/include" "$root/bench/parse_csv.c" -L"$lib" -lchurn \
	-Wl,-rpath,"$lib" -o "$build/parse_csv"

file=$dir/synth-$rows.csv
if [ ! -s "$file" ]; then
	echo "bench: writing $file with churn synth"
	"$churn" synth --rows "$rows" --seed 42 --out "$file"
fi
bytes=$(wc -c <"$file")

# run LABEL CMD...: best wall time of $repeat runs and that run's peak RSS (KB).
results=$dir/results.txt
: >"$results"
run() {
	label=$1
	shift
	best=""
	bestrss=""
	bestcpu=""
	i=0
	while [ $i -lt "$repeat" ]; do
		i=$((i + 1))
		if ! /usr/bin/time -f '%e %M %U %S' -o "$dir/time.txt" "$@" >"$dir/out.txt" 2>"$dir/err.txt"; then
			echo "bench: $label failed:" >&2
			cat "$dir/err.txt" >&2
			return 1
		fi
		t=$(cut -d' ' -f1 "$dir/time.txt")
		m=$(cut -d' ' -f2 "$dir/time.txt")
		cpu=$(awk '{ print $3 + $4 }' "$dir/time.txt")
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t
			bestrss=$m
			bestcpu=$cpu
		fi
	done
	echo "$label|$best|$bestrss|$bestcpu" >>"$results"
}

export PYTHONDONTWRITEBYTECODE=1
run "churn profile --json" "$churn" profile --input "$file" --json
run "churn_csv_read_file" "$build/parse_csv" "$file"
run "pandas read_csv" /usr/bin/python3 "$root/bench/parse_peer.py" "$file"
(cd "$root" && run "DuckDB read_csv (2 threads)" node "$root/bench/parse_duckdb.mjs" "$file" 2)
# the subshell above wrote its line to $results too

echo "file: $file, $rows rows, $bytes bytes; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "best of $repeat runs, whole process, wall time (/usr/bin/time)"
awk -F'|' -v bytes="$bytes" '
	{ label[NR] = $1; t[NR] = $2; rss[NR] = $3; cpu[NR] = $4 }
	END {
		printf "%-28s %7s %7s %7s %8s %8s %8s %9s\n", "reader", "wall s", "MB/s", "CPU s", "CPU MB/s", "peak MB", "RSS/file", "speedup"
		for (i = 1; i <= NR; i++) {
			mbs = t[i] > 0 ? bytes / 1e6 / t[i] : 0
			cmbs = cpu[i] > 0 ? bytes / 1e6 / cpu[i] : 0
			if (i == 1) base = mbs
			printf "%-28s %7.2f %7.1f %7.2f %8.1f %8.1f %8.2f %8.2fx\n", label[i], t[i], mbs, cpu[i], cmbs, rss[i] / 1024, rss[i] * 1024 / bytes, base / (mbs > 0 ? mbs : 1)
		}
		print "speedup: MB/s of churn profile divided by the reader'"'"'s (wall); RSS/file: peak RSS over file size"
		mbs = bytes / 1e6 / t[1]
		printf "target (churn profile): >= 300 MB/s: %s (%.0f MB/s); peak RSS < 1.5x file: %s (%.2fx)\n",
			(mbs >= 300 ? "met" : "NOT met"), mbs, (rss[1] * 1024 < 1.5 * bytes ? "met" : "NOT met"), rss[1] * 1024 / bytes
	}' "$results"
