#!/bin/sh
# Soak test of churn-httpd: wrk against /api/metrics, /api/details and
# POST /api/predict for CHURN_SOAK_SECONDS (default 60) while `churn run
# --no-figures` keeps rewriting the workdir (and `churn ml` in between, so a
# model and the reports change every few seconds). A parallel checker fetches
# the same endpoints and validates every body as JSON. Passes when wrk saw no
# 5xx and no socket errors, every sampled body was valid JSON with status
# 200, the server is alive, and its RSS at the end is within a margin of its
# RSS after a warm-up under the same load (a quarter of the soak, >= 5 s).
#
# usage: httpd-soak.sh CHURN CHURN_HTTPD
# env:   CHURN_SOAK_SECONDS (60)  CHURN_SOAK_RSS_MARGIN_KB (8192)
set -eu
churn=$1
httpd=$2
secs=${CHURN_SOAK_SECONDS:-60}
margin=${CHURN_SOAK_RSS_MARGIN_KB:-8192}
py=/usr/bin/python3
command -v wrk >/dev/null 2>&1 || { echo "# SKIP wrk not found (apt-get install wrk)"; exit 77; }
[ -x $py ] || py=python3

tmp=$(mktemp -d /tmp/churn-soak.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

wd=$tmp/wd
mkdir -p "$wd"
# The EDA random forest is not what this test exercises: keep runs short.
echo '{"pipeline.importance": false}' >"$wd/churn.json"
models=logreg,gbm
if ! "$churn" run --workdir "$wd" --source "synthetic:2000?seed=1" --no-figures --quiet --models $models 2>"$tmp/run.err"; then
	if grep -q "is not built" "$tmp/run.err"; then
		models=logreg
		echo "# gbm is not built: --models logreg"
		"$churn" run --workdir "$wd" --source "synthetic:2000?seed=1" --no-figures --quiet --models $models
	else
		cat "$tmp/run.err" >&2
		exit 1
	fi
fi

$py - "$wd" "$tmp/record.json" <<'EOF'
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

"$httpd" --workdir "$wd" --listen 127.0.0.1:0 --access-log off 2>"$tmp/httpd.log" &
hpid=$!
pids="$pids $hpid"
i=0
while ! port=$(sed -n 's/.*(port \([0-9]*\),.*/\1/p' "$tmp/httpd.log" | head -n 1) || [ -z "$port" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "not ok - churn-httpd did not start"; cat "$tmp/httpd.log"; exit 1; }
	sleep 0.1
done
base=http://127.0.0.1:$port
echo "# churn-httpd pid $hpid on $base, soak ${secs}s"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$hpid/status"; }

# Warm-up: every endpoint, both models loaded, caches filled.
wrk -t1 -c8 -d3s "$base/api/metrics" >/dev/null
wrk -t1 -c8 -d3s "$base/api/details" >/dev/null
wrk -t1 -c8 -d3s -s "$tmp/post.lua" "$base/api/predict" >/dev/null
wrk -t1 -c8 -d2s -s "$tmp/post.lua" "$base/api/predict?model=logreg" >/dev/null
echo "# RSS after the first requests: $(rss) kB"

# The rewriter: churn run, then churn ml twice, until told to stop.
(
	n=0
	while [ ! -f "$tmp/stop" ]; do
		n=$((n + 1))
		"$churn" run --workdir "$wd" --source "synthetic:2000?seed=$n" --no-figures --quiet --models $models \
			>>"$tmp/rewriter.log" 2>&1 || echo "run $n failed" >>"$tmp/rewriter.fail"
		for k in 1 2; do
			[ -f "$tmp/stop" ] && break
			sleep 1
			"$churn" ml --workdir "$wd" --no-figures --quiet --models $models >>"$tmp/rewriter.log" 2>&1 ||
				echo "ml $n.$k failed" >>"$tmp/rewriter.fail"
		done
		echo "$n" >"$tmp/rewrites"
	done
) &
pids="$pids $!"

# RSS every 5 s, for the record.
(
	while [ ! -f "$tmp/stop" ] && kill -0 "$hpid" 2>/dev/null; do
		sleep 5
		rss >>"$tmp/rss.log" 2>/dev/null || true
	done
) &
pids="$pids $!"

# The checker: sample bodies of every endpoint, validate status and JSON.
$py - "$base" "$tmp/record.json" "$tmp/stop" "$tmp/checker.out" <<'EOF' &
import http.client, json, sys, time, urllib.parse
base, rec, stop, out = sys.argv[1:]
body = open(rec, "rb").read()
u = urllib.parse.urlparse(base)
n = bad = 0
errors = []
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
paths = [("GET", "/api/metrics", None), ("GET", "/api/details", None), ("POST", "/api/predict", body),
         ("GET", "/api/model-runs?limit=5", None), ("GET", "/api/artifacts", None),
         ("POST", "/api/predict?model=logreg", body)]
import os
while not os.path.exists(stop):
    for m, p, b in paths:
        try:
            conn.request(m, p, body=b, headers={"Content-Type": "application/json"} if b else {})
            r = conn.getresponse()
            data = r.read()
            doc = json.loads(data)
            ok = r.status == 200 and (p != "/api/predict" or doc["count"] == 1)
        except Exception as e:  # invalid JSON, dropped connection, ...
            ok = False
            data = repr(e).encode()
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            r = None
        n += 1
        if not ok:
            bad += 1
            if len(errors) < 5:
                errors.append("%s %s -> %s %s" % (m, p, r.status if r else "-", data[:200]))
open(out, "w").write(json.dumps({"n": n, "bad": bad, "errors": errors}))
EOF
cpid=$!
pids="$pids $cpid"

third=$((secs / 3))
[ $third -ge 1 ] || third=1
wrk -t1 -c16 -d${third}s --timeout 10s "$base/api/metrics" >"$tmp/wrk-metrics.out" 2>&1 &
w1=$!
wrk -t1 -c16 -d${secs}s --timeout 10s "$base/api/details" >"$tmp/wrk-details.out" 2>&1 &
w2=$!
wrk -t1 -c16 -d${secs}s --timeout 10s -s "$tmp/post.lua" "$base/api/predict" >"$tmp/wrk-predict.out" 2>&1 &
w3=$!
# RSS baseline: after a warm-up under the full load (threads, arenas, models, caches all in use).
warm=$((secs / 4))
[ $warm -ge 5 ] || warm=5
[ $warm -lt $third ] || warm=$((third > 1 ? third - 1 : 1))
sleep $warm
rss0=$(rss)
echo "# RSS after ${warm}s under load: ${rss0} kB"
wait $w1
wrk -t1 -c16 -d$((secs - third))s --timeout 10s "$base/api/metrics" >"$tmp/wrk-metrics2.out" 2>&1
wait $w2 $w3
touch "$tmp/stop"
wait $cpid || true
sleep 1
rss1=$(rss || echo 0)

fail=0
for f in metrics metrics2 details predict; do
	o=$tmp/wrk-$f.out
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$o")
	non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$o")
	sock=$(grep -o "Socket errors:.*" "$o" || true)
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$o")
	echo "# wrk $f: ${reqs:-0} requests, ${rps:-0} req/s, non-2xx ${non2xx:-0}${sock:+, $sock}"
	if [ -n "$non2xx" ] || [ -n "$sock" ] || [ "${reqs:-0}" -eq 0 ]; then
		echo "not ok - wrk $f: every answer 2xx, no socket errors"
		cat "$o"
		fail=1
	else
		echo "ok - wrk $f: every answer 2xx, no socket errors"
	fi
done
rewrites=$(cat "$tmp/rewrites" 2>/dev/null || echo 0)
if [ -f "$tmp/rewriter.fail" ]; then
	echo "# rewriter failures: $(cat "$tmp/rewriter.fail" | tr '\n' ' ')"
	tail -n 5 "$tmp/rewriter.log"
fi
if [ "$rewrites" -ge 1 ]; then
	echo "ok - the workdir was rewritten during the soak ($rewrites churn run + 2 churn ml cycles)"
else
	echo "not ok - the workdir was rewritten during the soak"
	fail=1
fi
checker=$(cat "$tmp/checker.out" 2>/dev/null || echo '{"n": 0, "bad": 1, "errors": ["no checker output"]}')
echo "# checker: $checker"
if echo "$checker" | $py -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["n"] > 0 and d["bad"] == 0 else 1)'; then
	echo "ok - every sampled body is valid JSON with status 200"
else
	echo "not ok - every sampled body is valid JSON with status 200"
	fail=1
fi
if kill -0 "$hpid" 2>/dev/null && curl -sf "$base/api/health" >/dev/null; then
	echo "ok - server alive after the soak"
else
	echo "not ok - server alive after the soak"
	fail=1
fi
echo "# RSS every 5 s (kB): $(tr '\n' ' ' <"$tmp/rss.log" 2>/dev/null)"
echo "# RSS after the soak: ${rss1} kB (after warm-up ${rss0} kB, margin ${margin} kB)"
if [ "$rss1" -gt 0 ] && [ "$rss1" -le $((rss0 + margin)) ]; then
	echo "ok - RSS flat"
else
	echo "not ok - RSS flat"
	fail=1
fi
if grep -qi "sanitizer\|runtime error" "$tmp/httpd.log"; then
	echo "not ok - no sanitizer reports"
	cat "$tmp/httpd.log"
	fail=1
fi
exit $fail
