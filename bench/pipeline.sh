#!/bin/sh
# Benchmark: `churn run` (data + ML pipelines) against the reference design's
# Python pipeline doing the same work (bench/pipeline_ref.py: pandas, scikit-learn,
# matplotlib/seaborn, joblib), on the real Telco file as a local source, with and
# without figures; then `churn data` and `churn ml` separately on a synthetic file
# (default 1,000,000 rows) with seconds and peak RSS per stage.
#
# usage: bench/pipeline.sh [BUILD_DIR]          (default build)
# environment:
#   CHURN_TELCO_CSV  Telco CSV (default ../shared/data/telco-customer-churn.csv from the repo root)
#   REPS=5           churn runs per variant on Telco (fresh workdir each; median reported)
#   PY_REPS=3        Python reference runs per variant on Telco
#   SYNTH_ROWS=1000000   rows of the synthetic file (0: skip that part)
#   PY_TIMEOUT=900   seconds the Python reference may take on the synthetic file
#   NO_IMPORTANCE=1  diagnostic: every churn workdir gets churn.json {"pipeline.importance": false}
#                    (no random-forest importance in the EDA step) and the Python reference
#                    runs with --no-importance; labelled in the output
# Each process is timed by bench/timed.py (wall to the microsecond, user + sys, peak RSS).
# Wall times on a busy machine mislead: CPU seconds (user + sys) are printed next
# to them, and the load average before and after.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
churn=$build/cli/churn
py=/usr/bin/python3
ref=$root/bench/pipeline_ref.py
telco=${CHURN_TELCO_CSV:-$root/../shared/data/telco-customer-churn.csv}
reps=${REPS:-5}
py_reps=${PY_REPS:-3}
rows=${SYNTH_ROWS:-1000000}
py_timeout=${PY_TIMEOUT:-900}
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
[ -x /usr/bin/python3 ] || { echo "bench: needs /usr/bin/python3 (Debian python3)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-pipeline-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
res=$tmp/results.tsv   # kind variant rep wall user sys rss_kb metadata_or_json
: >"$res"
tag="" pyimp=""
if [ "${NO_IMPORTANCE:-0}" = 1 ]; then
	tag=" (pipeline.importance=false; Python reference --no-importance)"
	pyimp=--no-importance
fi

new_workdir() { # -> path of a fresh workdir
	rm -rf "$tmp/w"
	mkdir -p "$tmp/w"
	[ "${NO_IMPORTANCE:-0}" = 1 ] && echo '{"pipeline.importance": false}' >"$tmp/w/churn.json"
	echo "$tmp/w"
}

timed() { # KIND VARIANT REP EXTRA -- command...: run under /usr/bin/time, append a result line
	kind=$1 variant=$2 rep=$3 extra=$4
	shift 5
	if "$root/bench/timed.py" "$tmp/time" -- "$@" >"$tmp/out" 2>"$tmp/err"; then
		read -r e u s m <"$tmp/time"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$variant" "$rep" "$e" "$u" "$s" "$m" "$extra" >>"$res"
	else
		echo "bench: $kind $variant failed:" >&2
		tail -3 "$tmp/err" >&2
		tail -1 "$tmp/time" >&2
		printf '%s\t%s\t%s\tFAIL\t0\t0\t0\t%s\n' "$kind" "$variant" "$rep" "$extra" >>"$res"
	fi
}

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
echo "churn: $churn ($("$churn" version 2>/dev/null | head -1))"

# ---- Telco, local source ------------------------------------------------------------
if [ -r "$telco" ]; then
	for variant in figures no-figures; do
		flag=""
		[ $variant = no-figures ] && flag=--no-figures
		i=1
		while [ $i -le "$reps" ]; do
			w=$(new_workdir)
			timed churn $variant $i "$tmp/meta-$variant-$i.json" -- "$churn" run --workdir "$w" --source "$telco" $flag --quiet
			cp "$w/reports/run_metadata.json" "$tmp/meta-$variant-$i.json" 2>/dev/null || true
			i=$((i + 1))
		done
		i=1
		while [ $i -le "$py_reps" ]; do
			rm -rf "$tmp/py"
			timed python $variant $i "$tmp/py-$variant-$i.json" -- $py "$ref" "$telco" "$tmp/py" $flag $pyimp --json
			grep '^{' "$tmp/out" >"$tmp/py-$variant-$i.json" || true
			i=$((i + 1))
		done
	done
	$py - "$res" "$tag" <<'PY'
import json, statistics as st, sys
res, tag = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(res)]
def med(kind, variant, col):
    v = [float(r[col]) for r in rows if r[0] == kind and r[1] == variant and r[3] != "FAIL"]
    return st.median(v) if v else float("nan")
def steps(kind, variant):
    """median duration per step name over the repetitions"""
    acc = {}
    for r in rows:
        if r[0] != kind or r[1] != variant or r[3] == "FAIL":
            continue
        try:
            doc = json.load(open(r[7]))
        except (OSError, ValueError):
            continue
        if kind == "churn":
            for run in doc["runs"]:
                for s in run["steps"]:
                    acc.setdefault(f"{run['pipeline']}.{s['name']}", []).append(s["duration_s"])
        else:
            for k, v in doc["seconds"].items():
                acc.setdefault(k, []).append(v)
    return {k: st.median(v) for k, v in acc.items()}
nc = sum(1 for r in rows if r[0] == 'churn' and r[1] == 'figures')
npy = sum(1 for r in rows if r[0] == 'python' and r[1] == 'figures')
print(f"\nTelco, local source ({nc} churn runs and {npy} Python runs per variant; medians){tag}")
print(f"{'':28s}{'wall s':>9s}{'cpu s':>9s}{'RSS MiB':>9s}   {'wall ratio':>10s}{'cpu ratio':>10s}  target")
for variant, target in (("figures", 10), ("no-figures", 30)):
    cw, cc = med("churn", variant, 3), med("churn", variant, 4) + med("churn", variant, 5)
    pw, pc = med("python", variant, 3), med("python", variant, 4) + med("python", variant, 5)
    print(f"{'churn run ' + variant:28s}{cw:9.3f}{cc:9.3f}{med('churn', variant, 6) / 1024:9.0f}")
    ok = "met" if pw / cw >= target else "NOT met"
    print(f"{'python reference ' + variant:28s}{pw:9.3f}{pc:9.3f}{med('python', variant, 6) / 1024:9.0f}"
          f"   {pw / cw:9.1f}x{pc / cc:9.1f}x  >= {target}x: {ok}")
    # the issue's own baseline: the reference pipeline (with its figures) took 6.5 s on an idle machine
    print(f"{'':28s}issue baseline 6.5 s / {target} = {6.5 / target:.3f} s: churn wall {'met' if cw <= 6.5 / target else 'NOT met'}, "
          f"cpu {'met' if cc <= 6.5 / target else 'NOT met'}")
    if variant == "no-figures":
        fw = med("python", "figures", 3)
        print(f"{'':28s}against the whole reference pipeline (with figures, {fw:.3f} s this run): {fw / cw:.1f}x")
for variant in ("figures", "no-figures"):
    cs, ps = steps("churn", variant), steps("python", variant)
    print(f"\n  stages, {variant} (median s)")
    print("    churn:  " + "  ".join(f"{k} {v:.3f}" for k, v in cs.items()))
    print("    python: " + "  ".join(f"{k} {v:.3f}" for k, v in ps.items()))
    if cs.get("data.eda", 0) > 1:
        print("    note: the data pipeline's eda step dominates (random-forest importance; see bench/README.md)")
PY
else
	echo "telco: skipped ($telco not readable; set CHURN_TELCO_CSV)"
fi

# ---- synthetic file: each stage separately ------------------------------------------
if [ "$rows" -gt 0 ]; then
	echo
	echo "synthetic: $rows rows (churn synth --seed 1)$tag"
	timed synth synth 1 "" -- "$churn" synth --rows "$rows" --seed 1 --out "$tmp/synth.csv" --quiet
	w=$(new_workdir)
	timed churn data 1 "" -- "$churn" data --workdir "$w" --source "$tmp/synth.csv" --quiet
	timed churn ml 1 "" -- "$churn" ml --workdir "$w" --quiet
	cp "$w/reports/run_metadata.json" "$tmp/meta-synth.json" 2>/dev/null || echo '{"runs": []}' >"$tmp/meta-synth.json"
	w=$(new_workdir)
	timed churn data-no-figures 1 "" -- "$churn" data --workdir "$w" --source "$tmp/synth.csv" --no-figures --quiet
	timed churn ml-no-figures 1 "" -- "$churn" ml --workdir "$w" --no-figures --quiet
	rm -rf "$tmp/py" "$w"
	timed python figures 1 "$tmp/py-synth.json" -- timeout "$py_timeout" $py "$ref" "$tmp/synth.csv" "$tmp/py" $pyimp --json
	grep '^{' "$tmp/out" >"$tmp/py-synth.json" 2>/dev/null || true
	$py - "$res" "$tmp/meta-synth.json" "$tmp/py-synth.json" "$py_timeout" "$(wc -c <"$tmp/synth.csv")" <<'PY'
import json, sys
res, meta, pyj, timeout, size = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(res)]
def line(name, r):
    if r[3] == "FAIL":
        return f"  {name:30s}   failed or did not finish"
    cpu = float(r[4]) + float(r[5])
    return f"  {name:30s}{float(r[3]):9.2f} s wall{cpu:9.2f} s cpu{int(r[6]) / 1024:9.0f} MiB peak RSS"
print(f"  file: {int(size) / 1e6:.0f} MB")
for r in rows:
    if r[0] == "synth":
        print(line("churn synth", r))
    if r[0] == "churn" and r[1] in ("data", "ml", "data-no-figures", "ml-no-figures"):
        print(line("churn " + r[1].replace("-no-figures", " --no-figures"), r))
try:
    for run in json.load(open(meta))["runs"]:
        print(f"    churn {run['pipeline']} steps: " + "  ".join(f"{s['name']} {s['duration_s']:.2f}" for s in run["steps"]))
except (OSError, ValueError, KeyError):
    pass
for r in rows:
    if r[0] == "python" and r[1] == "figures" and r[7].endswith("py-synth.json"):
        if r[3] == "FAIL":
            print(f"  python reference: did not finish within {timeout} s (or failed)")
        else:
            print(line("python reference (figures)", r))
            try:
                d = json.load(open(pyj))
                print("    python stages: " + "  ".join(f"{k} {v:.2f}" for k, v in d["seconds"].items()))
            except (OSError, ValueError):
                pass
PY
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
