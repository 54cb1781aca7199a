#!/bin/sh
# Benchmark (issue 15): what drift monitoring adds to `churn data` on a large
# synthetic file (default 1,000,000 rows). One workdir gets a model first
# (`churn run`: every artifact carries its reference profile), then
# `churn data` runs REPS times with drift.enabled=false and REPS times with
# it on (alternating, so load changes hit both), each timed whole (bench/timed.py:
# wall, user + sys CPU, peak RSS). Printed: the medians, the ratio on
# wall and CPU (target: at most 1.10), and the run records' own "drift"
# step (the comparison, drift.json, drift_psi.png) and the ML run's
# "monitor" step (the serving model scoring every row before training).
#
# usage: bench/drift.sh [BUILD_DIR]        (default build)
# environment: ROWS=1000000, REPS=3
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
churn=$build/cli/churn
rows=${ROWS:-1000000}
reps=${REPS:-3}
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-drift-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
wd=$tmp/wd
echo '{"drift.enabled": false}' >"$tmp/off.json"
echo '{"drift.enabled": true}' >"$tmp/on.json"

echo "drift bench: $rows rows, $reps runs per variant; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$churn" synth --rows "$rows" --seed 1 --out "$tmp/big.csv" 2>/dev/null
"$root/bench/timed.py" "$tmp/t" -- "$churn" run --workdir "$wd" --source "$tmp/big.csv" --quiet
read -r e u s m <"$tmp/t"
echo "setup: churn run (data + ml, $rows rows): ${e} s wall, $(echo "$u $s" | awk '{printf "%.2f", $1 + $2}') s CPU"

: >"$tmp/res"
for i in $(seq 1 "$reps"); do
	for v in off on; do
		"$root/bench/timed.py" "$tmp/t" -- "$churn" data --workdir "$wd" --source "$tmp/big.csv" --config "$tmp/$v.json" --quiet
		read -r e u s m <"$tmp/t"
		echo "$v $e $u $s $m" >>"$tmp/res"
		printf '  run %s drift %-3s %8.3f s wall %8.3f s CPU %7.0f MiB\n' "$i" "$v" "$e" "$(echo "$u $s" | awk '{print $1 + $2}')" "$(echo "$m" | awk '{print $1 / 1024}')"
	done
done
# the last run is drift on: its record's drift step; then one ML run for the monitor step
"$churn" ml --workdir "$wd" --quiet
/usr/bin/python3 - "$tmp/res" "$wd/reports/run_metadata.json" <<'PYEOF'
import json, statistics, sys
res = [l.split() for l in open(sys.argv[1])]
def med(v, k):
    return statistics.median(float(r[k]) if k != "cpu" else float(r[2]) + float(r[3]) for r in res if r[0] == v)
off_w, on_w, off_c, on_c = med("off", 1), med("on", 1), med("off", "cpu"), med("on", "cpu")
print(f"median churn data: drift off {off_w:.3f} s wall {off_c:.3f} s CPU | on {on_w:.3f} s wall {on_c:.3f} s CPU")
print(f"ratio on/off: wall {on_w / off_w:.3f}  CPU {on_c / off_c:.3f}  (target <= 1.10)")
runs = json.load(open(sys.argv[2]))["runs"]
data = [r for r in runs if r["pipeline"] == "data" and any(s["name"] == "drift" for s in r["steps"])]
steps = [s["duration_s"] for r in data for s in r["steps"] if s["name"] == "drift"]
total = [r["duration_s"] for r in data]
print(f"drift step (record): {', '.join('%.3f' % s for s in steps)} s of data runs of {', '.join('%.2f' % t for t in total)} s")
for r in [r for r in runs if r["pipeline"] == "data"][-2 * int(len(res) / 2):]:
    on = any(s["name"] == "drift" for s in r["steps"])
    print(f"  data run drift {'on ' if on else 'off'} {r['duration_s']:6.2f} s: " +
          ", ".join(f"{s['name']} {s['duration_s']:.2f}" for s in r["steps"]))
ml = [r for r in runs if r["pipeline"] == "ml"][-1]
mon = [s["duration_s"] for s in ml["steps"] if s["name"] == "monitor"]
print(f"monitor step (ML run, serving model scoring {ml['rows']} rows): {mon[0]:.3f} s of {ml['duration_s']:.2f} s; "
      f"performance {ml['performance']['status']}, ROC AUC {ml['performance'].get('current', {}).get('roc_auc')}")
PYEOF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
