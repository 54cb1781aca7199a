#!/bin/sh
# Benchmark: libchurn logistic regression and gradient boosting against
# scikit-learn LogisticRegression + GradientBoostingClassifier and XGBoost
# hist (100 trees, depth 3, lr 0.1, NTHREADS threads), Debian's packages via
# /usr/bin/python3, same prepared features and the same 70/30 stratified
# split (bench/gbm_bench.c prepares with libchurn and writes the matrices
# bench/models_peer.py reads); then whole processes: `churn train` against
# the Python pipeline (pandas read + one-hot + fit + evaluate).
# Data: Telco (CHURN_TELCO_CSV) and synthetic Telco (`churn synth --rows ROWS
# --seed 1`, default 1,000,000; kept in $BENCH_DIR, default
# ${TMPDIR:-/tmp}/churn-bench). sklearn's GradientBoostingClassifier runs on
# Telco only (single-threaded, far too slow on a million rows).
# Every figure is the best of REPEATS runs (Telco fits: at least 10), wall
# and CPU (user + system of all threads) side by side: on a shared,
# oversubscribed machine wall times mostly measure the wait for a core.
# Ratios are peer / libchurn (above 1: libchurn is faster).
# usage: bench/models.sh [BUILDDIR] [ROWS] [REPEATS] [NTHREADS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
reps=${3:-3}
nth=${4:-2}
churn=$build/cli/churn
[ -x "$churn" ] || { echo "bench: $churn not built (ninja -C $build)" >&2; exit 1; }
py=/usr/bin/python3
bdir=${BENCH_DIR:-${TMPDIR:-/tmp}/churn-bench}
mkdir -p "$bdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PKG_CONFIG_PATH=$build/meson-uninstalled cc -O2 -std=c11 -D_GNU_SOURCE -o "$tmp/gbm_bench" "$root/bench/gbm_bench.c" \
	$(PKG_CONFIG_PATH=$build/meson-uninstalled pkg-config --cflags --libs libchurn) -Wl,-rpath,"$build/libchurn"

# timed OUT CMD...: append "wall cpu maxrss_kb" of one run of CMD to OUT
timed() {
	out=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/stdout"
	awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$tmp/time" >>"$out"
}

# run NAME CSV FITREPS PEERS PIPE_PY_MODELS CHURN_MODELS
run() {
	name=$1 csv=$2 freps=$3 peers=$4 pymodels=$5 cmodels=$6
	: >"$tmp/fits.jsonl"
	"$tmp/gbm_bench" "$csv" "$tmp/m" "$nth" logreg,gbm "$freps" >>"$tmp/fits.jsonl"
	nf=$($py -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["features"])' "$tmp/fits.jsonl")
	for m in $peers; do
		$py "$root/bench/models_peer.py" fit "$tmp/m" "$nf" "$m" "$nth" "$freps" >>"$tmp/fits.jsonl"
	done
	rm -f "$tmp"/m.*
	: >"$tmp/churn.txt"
	: >"$tmp/python.txt"
	i=0
	while [ $i -lt "$reps" ]; do
		rm -rf "$tmp/w"
		timed "$tmp/churn.txt" "$churn" train --input "$csv" --models "$cmodels" --out "$tmp/w" --quiet --json
		timed "$tmp/python.txt" $py "$root/bench/models_peer.py" pipeline "$csv" "$pymodels" "$nth"
		i=$((i + 1))
	done
	$py - "$name" "$nth" "$reps" "$tmp/fits.jsonl" "$tmp/churn.txt" "$tmp/python.txt" "$cmodels" "$pymodels" <<'PY'
import json, sys
name, nth, reps, fits, ct, pt, cmodels, pymodels = sys.argv[1:]
lines = [json.loads(l) for l in open(fits) if l.strip()]
lr, gb = lines[0], lines[1]              # gbm_bench: logreg, gbm
pk = {p["model"]: p for p in lines[2:]}  # models_peer.py fit
def best(path):
    runs = [tuple(float(v) for v in l.split()) for l in open(path) if l.strip()]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs) / 1024
peer_names = {"logreg": "sklearn LogisticRegression", "gbc": "sklearn GradientBoosting", "xgb": "XGBoost hist"}
print(f"{name}: {lr['train_rows']} train / {lr['test_rows']} test rows, {lr['features']} features, "
      f"{nth} threads; fits: best of {len(lr['fit_all_s'])}, whole processes: best of {reps}")
print(f"  {'what':<34}{'libchurn':>9}{'CPU':>8}  {'peer':<30}{'peer':>9}{'CPU':>8}{'ratio':>8}{'CPU ratio':>10}"
      f"{'AUC':>8}{'peer AUC':>9}")
def row(what, ow, oc, peer, pw, pc, oauc=None, pauc=None):
    a = f"{oauc:8.4f}" if oauc is not None else " " * 8
    b = f"{pauc:9.4f}" if pauc is not None else " " * 9
    if pw is None:
        print(f"  {what:<34}{ow:9.3f}{oc:8.3f}  {'':<30}{'':>9}{'':>8}{'':>8}{'':>10}{a}{b}")
        return
    print(f"  {what:<34}{ow:9.3f}{oc:8.3f}  {peer:<30}{pw:9.3f}{pc:8.3f}{pw / max(ow, 1e-9):7.1f}x"
          f"{pc / max(oc, 1e-9):9.1f}x{a}{b}")
p = pk.get("logreg")
row(f"logreg fit ({lr['iterations']} Newton steps)", lr["fit_s"], lr["fit_cpu_s"],
    f"sklearn LogReg ({p['iterations']} lbfgs it)" if p else "", p and p["fit_s"], p and p["fit_cpu_s"],
    lr["auc"], p and p["auc"])
for k in ("xgb", "gbc"):
    if k in pk:
        p = pk[k]
        row("gbm fit (100 trees, depth 3)", gb["fit_s"], gb["fit_cpu_s"], peer_names[k], p["fit_s"], p["fit_cpu_s"],
            gb["auc"], p["auc"])
if "xgb" in pk:
    print(f"  {'':<34}gbm AUC - XGBoost AUC {gb['auc'] - pk['xgb']['auc']:+.4f}")
ew = lr["eval_s"] + gb["eval_s"]
ec = lr["eval_cpu_s"] + gb["eval_cpu_s"]
row("evaluate both (predict + metrics)", ew, ec, "sklearn/xgb predict + metrics",
    sum(pk[k]["eval_s"] for k in pk), sum(pk[k]["eval_cpu_s"] for k in pk))
both = [k for k in ("logreg", "gbc" if "gbc" in pk else "xgb") if k in pk]
row("logreg + gbm fit + evaluate", lr["fit_s"] + gb["fit_s"] + ew, lr["fit_cpu_s"] + gb["fit_cpu_s"] + ec,
    " + ".join({"logreg": "sklearn LR", "gbc": "sklearn GBC", "xgb": "XGBoost"}[k] for k in both),
    sum(pk[k]["fit_s"] + pk[k]["eval_s"] for k in both), sum(pk[k]["fit_cpu_s"] + pk[k]["eval_cpu_s"] for k in both))
cw, cc, crss = best(ct)
pw, pc, prss = best(pt)
row(f"churn train --models {cmodels}", cw, cc, "pandas+one-hot+" + pymodels.replace("logreg", "LR").replace("gbc", "GBC")
    .replace("xgb", "XGBoost").replace(",", "+"), pw, pc)
print(f"  {'peak RSS (MiB)':<34}{crss:9.0f}{'':8}  {'':<30}{prss:9.0f}{'':8}{prss / max(crss, 1e-9):7.1f}x")
print(f"  {'peak RSS of the fit helper (MiB)':<34}{gb['peak_rss_mb']:9.0f}   (gbm_bench: CSV read {lr['read_s']:.2f} s, prep {lr['prep_s']:.2f} s)")
PY
}

if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -r "$CHURN_TELCO_CSV" ]; then
	treps=$reps
	[ "$treps" -ge 10 ] || treps=10
	run "Telco ($CHURN_TELCO_CSV)" "$CHURN_TELCO_CSV" "$treps" "logreg xgb gbc" logreg,gbc logreg,gbm
else
	echo "Telco: skipped (set CHURN_TELCO_CSV)"
fi
synth=$bdir/synth-$rows-seed1.csv
[ -s "$synth" ] || "$churn" synth --rows "$rows" --seed 1 --out "$synth" --quiet
run "synthetic Telco ($rows rows, seed 1)" "$synth" "$reps" "logreg xgb" xgb gbm
