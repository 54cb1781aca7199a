#!/bin/sh
# CPU cost per request of churn-httpd, two builds side by side on the same
# workdir: wrk drives each server in turn (A B A B ...), and the server's own
# CPU time (utime + stime from /proc) is divided by the requests it answered.
# CPU per request moves far less with the machine's load than req/s does,
# so a before/after comparison holds on a busy machine.
#
# usage: bench/http-cpu.sh BUILD_A BUILD_B        (e.g. a build of main~N and build)
# env:   BENCH_SECONDS (5 per round)  BENCH_ROUNDS (3)  BENCH_CONNS (64)  BENCH_ROWS (3000)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 64; }
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-64}
rows=${BENCH_ROWS:-3000}
command -v wrk >/dev/null || { echo "http-cpu.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-http-cpu-XXXXXX")
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
wd=$tmp/wd
"$1/cli/churn" run --workdir "$wd" --source "synthetic:$rows?seed=7" --no-figures --quiet
csv=$(ls "$wd"/data/raw/*.csv | head -n 1)
/usr/bin/python3 - "$csv" >"$tmp/record.json" <<'EOF'
import csv, json, sys
row = next(csv.DictReader(open(sys.argv[1])))
row.pop("Churn", None)
for k in ("tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen"):
    try:
        row[k] = float(row[k])
    except (KeyError, ValueError):
        row[k] = None
print(json.dumps(row))
EOF
cat >"$tmp/post.lua" <<EOF
local f = io.open("$tmp/record.json")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # BUILD -> "pid port"
	p=$(port)
	"$1/httpd/churn-httpd" --workdir "$wd" --listen "127.0.0.1:$p" --access-log off >/dev/null 2>&1 &
	echo "$! $p"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
set -- "$1" "$2"
A=$(start "$1"); B=$(start "$2")
pids="${A%% *} ${B%% *}"
for sp in "$A" "$B"; do
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:${sp##* }/api/health" >/dev/null && break; sleep 0.1; done
done
hz=$(getconf CLK_TCK)
echo "http-cpu: wrk -t2 -c$conns, $secs s x $rounds rounds each, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %-6s %10s %12s %14s\n' endpoint build requests "req/s" "CPU us/req"
for ep in metrics predict; do
	for which in A B; do eval "sum_req_$which=0 sum_cpu_$which=0"; done
	for r in $(seq "$rounds"); do
		for which in A B; do
			eval "sp=\$$which"
			pid=${sp%% *} p=${sp##* }
			if [ $ep = metrics ]; then args="http://127.0.0.1:$p/api/metrics"; else args="-s $tmp/post.lua http://127.0.0.1:$p/api/predict"; fi
			c0=$(cpu_ticks "$pid")
			# shellcheck disable=SC2086
			out=$(wrk -t2 -c"$conns" -d"${secs}s" $args)
			c1=$(cpu_ticks "$pid")
			n=$(echo "$out" | awk '/requests in/ {print $1}')
			eval "sum_req_$which=\$((sum_req_$which + n)) sum_cpu_$which=\$((sum_cpu_$which + c1 - c0))"
		done
	done
	for which in A B; do
		eval "n=\$sum_req_$which c=\$sum_cpu_$which"
		us=$(awk -v c="$c" -v n="$n" -v hz="$hz" 'BEGIN { printf "%.2f", c / hz / n * 1e6 }')
		rps=$(awk -v n="$n" -v s="$secs" -v r="$rounds" 'BEGIN { printf "%.0f", n / (s * r) }')
		eval "us_$which=$us"
		printf '%-14s %-6s %10s %12s %14s\n' "/api/$ep" "$which" "$n" "$rps" "$us"
	done
	awk -v a="$us_A" -v b="$us_B" -v ep="$ep" 'BEGIN { printf "ratio /api/%s: B costs %.3fx the CPU per request of A (%+.1f%%)\n", ep, b / a, (b / a - 1) * 100 }'
done
