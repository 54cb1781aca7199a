#!/bin/sh
# Benchmark: libchurn logistic regression vs scikit-learn LogisticRegression
# (same preprocessing, 70/30 stratified split), on Telco (CHURN_TELCO_CSV)
# and on synthetic Telco rows (default 1,000,000). Reports the fit time of
# each, the whole `churn train --models logreg` process against python
# (pandas read + one-hot + fit), ROC AUC, ratios and churn's peak RSS.
# usage: bench/models.sh [BUILDDIR] [SYNTH_ROWS]     (BUILDDIR default build)
# The gbm engineer adds XGBoost / GradientBoosting rows to bench/models_peer.py.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

bench_one() { # NAME CSV
	name=$1 csv=$2
	start=$($py -c 'import time; print(time.time())')
	/usr/bin/time -f '%M' -o "$tmp/rss" "$churn" train --input "$csv" --models logreg --out "$tmp/w" --json --quiet \
		>"$tmp/ours.json"
	end=$($py -c 'import time; print(time.time())')
	$py "$root/bench/models_peer.py" "$csv" >"$tmp/peer.json"
	$py - "$name" "$tmp/ours.json" "$tmp/peer.json" "$start" "$end" "$(cat "$tmp/rss")" <<'PY'
import json, sys
name, ours, peer, start, end, rss = sys.argv[1:]
o = json.load(open(ours)); p = json.load(open(peer)); lr = o["models"]["logreg"]
whole = float(end) - float(start)
print(f"{name}: {o['train_rows'] + o['test_rows']} rows, {o['features']} features (sklearn {p['features']})")
print(f"  logreg fit      libchurn {lr['fit_seconds']:8.3f} s ({lr['iterations']} Newton steps)"
      f"   sklearn {p['fit_s']:8.3f} s ({p['n_iter']} lbfgs iterations)   ratio {p['fit_s'] / max(lr['fit_seconds'], 1e-9):6.1f}x")
print(f"  whole process   churn train {whole:8.3f} s   python read+prep+fit+eval {p['total_s']:8.3f} s"
      f"   ratio {p['total_s'] / max(whole, 1e-9):6.1f}x")
print(f"  test ROC AUC    libchurn {lr['roc_auc']:.4f}   sklearn {p['roc_auc']:.4f}")
print(f"  churn train peak RSS {int(rss) / 1024:.0f} MiB")
PY
}

if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -r "$CHURN_TELCO_CSV" ]; then
	bench_one telco "$CHURN_TELCO_CSV"
else
	echo "telco: skipped (set CHURN_TELCO_CSV)"
fi
"$churn" synth --rows "$rows" --seed 42 --out "$tmp/synth.csv" --quiet
bench_one "synthetic" "$tmp/synth.csv"
