#!/bin/sh
# Load benchmark of churn-httpd against the reference design's stack (FastAPI
# + uvicorn, bench/http_fastapi.py) on the same workdir, with wrk:
#   GET  /api/metrics   reports/metrics.json
#   POST /api/predict   one raw customer record (wrk Lua script for the body)
# Prints req/s and p99 latency for each server and the ratios.
#
# usage: bench/http.sh [BUILD_DIR]     (default build)
# env:   BENCH_SECONDS (10)  BENCH_CONNS (64)  BENCH_WRK_THREADS (2)
#        BENCH_THREADS (churn-httpd --threads, default: its own default)
#        BENCH_FASTAPI_WORKERS (uvicorn workers, 1)  BENCH_ROWS (3000)
#        BENCH_WORKDIR (reuse a filled workdir instead of running churn run)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-64}
wthreads=${BENCH_WRK_THREADS:-2}
rows=${BENCH_ROWS:-3000}
churn=$build/cli/churn
httpd=$build/httpd/churn-httpd
for p in "$churn" "$httpd"; do
	[ -x "$p" ] || { echo "http.sh: $p not built (ninja -C $build)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "http.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/churn-bench-http.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ -n "${BENCH_WORKDIR:-}" ]; then
	wd=$BENCH_WORKDIR
else
	wd=$tmp/wd
	mkdir -p "$wd"
	# Importance is the EDA's random forest: not what this benchmark measures.
	echo '{"pipeline.importance": false}' >"$wd/churn.json"
	echo "http: churn run --source synthetic:$rows --no-figures"
	if ! "$churn" run --workdir "$wd" --source "synthetic:$rows" --no-figures --quiet 2>"$tmp/run.err"; then
		grep -q "is not built" "$tmp/run.err" || { cat "$tmp/run.err" >&2; exit 1; }
		echo "http: gbm is not built: --models logreg"
		"$churn" run --workdir "$wd" --source "synthetic:$rows" --no-figures --quiet --models logreg
	fi
fi

# One record: the first row of the raw CSV, numbers as numbers, no target.
/usr/bin/python3 - "$wd" "$tmp/record.json" <<'EOF'
import csv, glob, json, sys
f = sorted(glob.glob(sys.argv[1] + "/data/raw/*.csv"))[0]
row = next(csv.DictReader(open(f)))
row.pop("Churn", None)
for k in ("tenure", "MonthlyCharges", "SeniorCitizen", "TotalCharges"):
    try:
        row[k] = float(row[k])
    except (KeyError, ValueError):
        pass
json.dump(row, open(sys.argv[2], "w"))
EOF
cat >"$tmp/post.lua" <<EOF
local f = io.open("$tmp/record.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF

port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	while ! /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=0.2)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "http.sh: server on port $1 did not start" >&2; exit 1; }
		sleep 0.1
	done
}

cport=$(port)
set -- --workdir "$wd" --listen "127.0.0.1:$cport" --access-log off
[ -n "${BENCH_THREADS:-}" ] && set -- "$@" --threads "$BENCH_THREADS"
"$httpd" "$@" 2>"$tmp/httpd.log" &
pids="$pids $!"
fport=$(port)
/usr/bin/python3 "$root/bench/http_fastapi.py" "$wd" "$fport" "${BENCH_FASTAPI_WORKERS:-1}" 2>"$tmp/fastapi.log" &
pids="$pids $!"
wait_port "$cport"
wait_port "$fport"

# Sanity: both answer the same metrics document and a prediction.
curl -sf "http://127.0.0.1:$cport/api/metrics" -o "$tmp/m1.json"
curl -sf "http://127.0.0.1:$fport/api/metrics" -o "$tmp/m2.json"
cmp -s "$tmp/m1.json" "$tmp/m2.json" || echo "http: warning: the two servers' metrics bodies differ" >&2
for p in $cport $fport; do
	curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$tmp/record.json" \
		"http://127.0.0.1:$p/api/predict" >/dev/null ||
		{ echo "http.sh: POST /api/predict failed on port $p" >&2; exit 1; }
done

# run NAME PORT PATH [LUA] -> "req/s p99_ms" (p99 in milliseconds)
run() {
	wrk -t"$wthreads" -c"$conns" -d1s ${4:+-s "$4"} "http://127.0.0.1:$2$3" >/dev/null 2>&1 || true
	wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency ${4:+-s "$4"} "http://127.0.0.1:$2$3" >"$tmp/$1.out" 2>&1
	/usr/bin/python3 - "$tmp/$1.out" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", t)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
print("%.0f %.2f %s %d" % (rps, p99, bad.group(1) if bad else 0, sum(map(int, errs.groups())) if errs else 0))
EOF
}

echo "http: wrk -t$wthreads -c$conns -d${secs}s, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "http: metrics.json $(wc -c <"$wd/reports/metrics.json") bytes; record $(wc -c <"$tmp/record.json") bytes"
set -- $(run c-metrics "$cport" /api/metrics); cm_rps=$1 cm_p99=$2 cm_bad=$3 cm_err=$4
set -- $(run f-metrics "$fport" /api/metrics); fm_rps=$1 fm_p99=$2 fm_bad=$3 fm_err=$4
set -- $(run c-predict "$cport" /api/predict "$tmp/post.lua"); cp_rps=$1 cp_p99=$2 cp_bad=$3 cp_err=$4
set -- $(run f-predict "$fport" /api/predict "$tmp/post.lua"); fp_rps=$1 fp_p99=$2 fp_bad=$3 fp_err=$4

printf '%-24s %12s %10s %8s %14s\n' "" "req/s" "p99 ms" "non-2xx" "socket errors"
printf '%-24s %12s %10s %8s %14s\n' "churn-httpd /api/metrics" "$cm_rps" "$cm_p99" "$cm_bad" "$cm_err"
printf '%-24s %12s %10s %8s %14s\n' "FastAPI     /api/metrics" "$fm_rps" "$fm_p99" "$fm_bad" "$fm_err"
printf '%-24s %12s %10s %8s %14s\n' "churn-httpd /api/predict" "$cp_rps" "$cp_p99" "$cp_bad" "$cp_err"
printf '%-24s %12s %10s %8s %14s\n' "FastAPI     /api/predict" "$fp_rps" "$fp_p99" "$fp_bad" "$fp_err"
/usr/bin/python3 - "$cm_rps" "$fm_rps" "$cm_p99" "$cp_rps" "$fp_rps" <<'EOF'
import sys
cm, fm, cm99, cp, fp = map(float, sys.argv[1:])
print("ratio /api/metrics: %.1fx FastAPI (target >= 20x, p99 < 5 ms: %s)"
      % (cm / fm, "met" if cm / fm >= 20 and cm99 < 5 else "NOT met"))
print("ratio /api/predict: %.1fx FastAPI; %.0f req/s (target >= 10000: %s)"
      % (cp / fp, cp, "met" if cp >= 10000 else "NOT met"))
EOF
