#!/bin/sh
# Benchmark: libchurn gradient boosting vs XGBoost hist and scikit-learn
# GradientBoostingClassifier on the same prepared features and the same 70/30
# stratified split (bench/gbm_bench.c prepares with libchurn and writes the
# matrices that bench/gbm_peer.py reads). 100 trees, depth 3, lr 0.1, both
# libraries on NTHREADS threads (default 2). Data: synthetic Telco
# (`churn synth --rows ROWS --seed 1`, default 1,000,000) and, when
# CHURN_TELCO_CSV is set, the real Telco CSV (sklearn GBC only there: it is
# single-threaded and far too slow on a million rows).
# Ratios are peer / libchurn (above 1: libchurn is faster). "fit CPU s" is
# the process CPU time of the fit: on a busy machine wall times mostly measure
# the wait for a core, CPU times remain comparable.
# usage: bench/gbm.sh [BUILDDIR] [ROWS] [NTHREADS] [REPEATS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
nth=${3:-2}
reps=${4:-3}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PKG_CONFIG_PATH=$build/meson-uninstalled cc -O2 -std=c11 -D_GNU_SOURCE -o "$tmp/gbm_bench" "$root/bench/gbm_bench.c" \
	$(PKG_CONFIG_PATH=$build/meson-uninstalled pkg-config --cflags --libs libchurn) -Wl,-rpath,"$build/libchurn"

# run NAME CSV WITH_SKLEARN: the best of REPEATS fits for each library, alternating
run() {
	name=$1 csv=$2 with_sk=$3
	: >"$tmp/ours.jsonl"
	: >"$tmp/xgb.jsonl"
	i=0
	while [ $i -lt "$reps" ]; do
		"$tmp/gbm_bench" "$csv" "$tmp/m" "$nth" gbm >>"$tmp/ours.jsonl"
		nf=$($py -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["features"])' "$tmp/ours.jsonl")
		$py "$root/bench/gbm_peer.py" "$tmp/m" "$nf" xgb "$nth" >>"$tmp/xgb.jsonl"
		i=$((i + 1))
	done
	: >"$tmp/sk.jsonl"
	[ "$with_sk" = yes ] && $py "$root/bench/gbm_peer.py" "$tmp/m" "$nf" sklearn 1 >"$tmp/sk.jsonl"
	$py - "$name" "$nth" "$tmp/ours.jsonl" "$tmp/xgb.jsonl" "$tmp/sk.jsonl" <<'PY'
import json, sys
name, nth, ours, xgb, sk = sys.argv[1:]
rd = lambda f: [json.loads(l) for l in open(f) if l.strip()]
o, x, s = rd(ours), rd(xgb), rd(sk)
ob = min(o, key=lambda r: r["fit_s"]); xb = min(x, key=lambda r: r["fit_s"])
print(f"{name}: {ob['train_rows']} train / {ob['test_rows']} test rows, {ob['features']} features, "
      f"{nth} threads, best of {len(o)} fits")
print(f"  {'library':<26}{'fit s':>9}{'fit CPU s':>11}{'predict s':>11}{'test AUC':>10}{'fit ratio':>11}{'CPU ratio':>11}")
def row(label, r):
    print(f"  {label:<26}{r['fit_s']:9.3f}{r['fit_cpu_s']:11.3f}{r['predict_s']:11.3f}{r['auc']:10.4f}"
          f"{r['fit_s'] / max(ob['fit_s'], 1e-9):10.2f}x{r['fit_cpu_s'] / max(ob['fit_cpu_s'], 1e-9):10.2f}x")
row("libchurn gbm", ob)
row("XGBoost hist", xb)
if s:
    row("sklearn GradientBoosting", s[0])
print(f"  all libchurn fits (s): {', '.join('%.3f' % r['fit_s'] for r in o)};"
      f" XGBoost: {', '.join('%.3f' % r['fit_s'] for r in x)}")
print(f"  AUC difference libchurn - XGBoost: {ob['auc'] - xb['auc']:+.4f};"
      f" gbm_bench peak RSS {ob['peak_rss_mb']:.0f} MiB (CSV read {ob['read_s']:.2f} s, prep {ob['prep_s']:.2f} s)")
PY
}

if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -r "$CHURN_TELCO_CSV" ]; then
	run "Telco ($CHURN_TELCO_CSV)" "$CHURN_TELCO_CSV" yes
else
	echo "Telco: skipped (set CHURN_TELCO_CSV)"
fi
"$churn" synth --rows "$rows" --seed 1 --out "$tmp/synth.csv"
run "synthetic Telco ($rows rows, seed 1)" "$tmp/synth.csv" no
