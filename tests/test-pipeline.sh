#!/bin/sh
# Pipelines end to end with the built churn binary: churn run on synthetic
# and (when CHURN_TELCO_CSV is set) real data, the files and JSON shapes of
# ARCHITECTURE.md, failures that keep earlier outputs (download failure, bad CSV,
# unwritable directory, full disk), the workdir lock with two concurrent
# runs, atomic replacement under a concurrent reader, and kill -9 midway.
# usage: test-pipeline.sh CHURN_BINARY
set -u
churn=$1
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/churn-pipeline-XXXXXX)
pass=0 fail=0
cleanup() {
	mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
snapshot() { # workdir -> checksums of the outputs a reader relies on (-H: the documented paths are links)
	(cd "$1" && find -H reports artifacts data/processed -type f ! -name '*.corrupt' ! -name run_metadata.json ! -name alerts.json \
		! -name model_run_metadata.json -print0 2>/dev/null | sort -z | xargs -0 sha256sum)
}
json_check() { # file, python expression over d (the parsed JSON) that must be true
	$py - "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("failed:", sys.argv[2]); sys.exit(1)
PYEOF
}

wd=$tmp/wd
# --- a full run on synthetic data ---------------------------------------
check "churn run on synthetic:3000" "$churn" run --workdir "$wd" --source "synthetic:3000?seed=7" --quiet
for f in reports/summary.json reports/summary.csv reports/eda.json reports/metrics.json \
	reports/run_metadata.json reports/model_run_metadata.json data/processed/churn.parquet \
	data/processed/churn.csv artifacts/prep.json artifacts/models/logreg.json artifacts/models/gbm.json \
	logs/pipeline.log reports/figures/correlation_heatmap.png reports/figures/roc_curve.png; do
	if [ -s "$wd/$f" ]; then ok "run wrote $f"; else no "run wrote $f"; fi
done
check "metrics.json has both models with the contract keys" json_check "$wd/reports/metrics.json" \
	"all(k in d['models'][m] for m in ('logreg','gbm') for k in ('accuracy','precision','recall','f1','roc_auc','pr_auc','log_loss','brier','threshold','confusion')) and 'generated_at' in d and 'run_id' in d"
check "synthetic AUC in the documented 0.8-0.9 range" json_check "$wd/reports/metrics.json" \
	"0.78 <= d['models']['gbm']['roc_auc'] <= 0.92 and 0.78 <= d['models']['logreg']['roc_auc'] <= 0.92"
check "run_metadata has a data and an ml run, succeeded" json_check "$wd/reports/run_metadata.json" \
	"[r['pipeline'] for r in d['runs']] == ['data','ml'] and all(r['status']=='succeeded' for r in d['runs']) and all(k in r for r in d['runs'] for k in ('run_id','started_at','finished_at','duration_s','error','source','sha256','rows','columns','churn_rate','steps'))"
check "model_run_metadata has one record per model" json_check "$wd/reports/model_run_metadata.json" \
	"sorted(r['model'] for r in d['runs']) == ['gbm','logreg'] and all(len(r['artifact']['sha256'])==64 and r['train_rows']+r['test_rows']==3000 for r in d['runs'])"
check "eda.json has revenue at risk from the best model" json_check "$wd/reports/eda.json" \
	"d.get('revenue_at_risk') and d['revenue_at_risk']['monthly_revenue_at_risk'] > 0"
check "pipeline.log has one line per step with run id, duration, status" \
	grep -E '^20[0-9-]+T[0-9:]+Z INFO run=[0-9TZa-f-]+ pipeline=data step=fetch duration_s=[0-9.]+ status=succeeded' "$wd/logs/pipeline.log"
check "no staging left behind" test ! -e "$wd/.staging"

# --- churn run (data handed to ml, models fitted during the EDA) = churn data then churn ml ---
sw=$tmp/separate
check "churn data then churn ml on the same source" sh -c "'$churn' data --workdir '$sw' --source 'synthetic:3000?seed=7' --no-figures --quiet && '$churn' ml --workdir '$sw' --no-figures --quiet"
$py - "$wd" "$sw" >"$tmp/same.out" 2>&1 <<'PYEOF'
import json, sys
a, b = sys.argv[1], sys.argv[2]
def load(w, f):
    return json.load(open(f"{w}/{f}"))
ma, mb = load(a, "reports/metrics.json")["models"], load(b, "reports/metrics.json")["models"]
assert ma == mb, "metrics differ"
for m in ("logreg", "gbm"):
    pa, pb = load(a, f"artifacts/models/{m}.json"), load(b, f"artifacts/models/{m}.json")
    assert pa[m] == pb[m], f"{m} model differs"
ra, rb = load(a, "reports/eda.json")["revenue_at_risk"], load(b, "reports/eda.json")["revenue_at_risk"]
ra.pop("run_id"); rb.pop("run_id")
assert ra == rb, "revenue at risk differs"
print("same")
PYEOF
if grep -q '^same$' "$tmp/same.out"; then ok "churn run gives the models, metrics and revenue at risk of data + ml"; else no "churn run differs from data + ml"; sed 's/^/#   /' "$tmp/same.out"; fi

# --- unchanged source is not downloaded again ------------------------------
check "second data run" "$churn" data --workdir "$wd" --source "synthetic:3000?seed=7" --no-figures --quiet
check "second run saw the source unchanged" json_check "$wd/reports/run_metadata.json" "d['runs'][-1]['source_changed'] is False"

# --- ml keeps working after the data run has left the capped run records ------
cw=$tmp/capped
mkdir -p "$cw"
printf '{"workdir": {"max_records": 2}}\n' >"$cw/churn.json"
check "data run with records capped to 2" "$churn" data --workdir "$cw" --source "synthetic:1500?seed=5" --no-figures --quiet
for k in 1 2 3; do
	check "ml run $k after the data run left the records" "$churn" ml --workdir "$cw" --no-figures --quiet
done
check "only the last 2 records are kept" json_check "$cw/reports/run_metadata.json" \
	"len(d['runs']) == 2 and all(r['pipeline'] == 'ml' for r in d['runs'])"

# --- failures keep the previous good outputs --------------------------------
snapshot "$wd" >"$tmp/before"
expect_rc "download failure exits 69" 69 "$churn" data --workdir "$wd" --source http://127.0.0.1:9/none.csv
snapshot "$wd" >"$tmp/after"
check "download failure left outputs intact" cmp -s "$tmp/before" "$tmp/after"
check "download failure recorded as failed with its error" json_check "$wd/reports/run_metadata.json" \
	"d['runs'][-1]['status']=='failed' and '127.0.0.1' in d['runs'][-1]['error']"

printf 'customerID,tenure,Churn\nA,1,Yes\nB,2\n' >"$tmp/bad.csv"
expect_rc "bad CSV exits 65" 65 "$churn" data --workdir "$wd" --source "$tmp/bad.csv"
grep -q 'bad.csv:3' "$tmp/err" && ok "bad CSV error names file:line" || { no "bad CSV error names file:line"; cat "$tmp/err"; }
snapshot "$wd" >"$tmp/after"
check "bad CSV left outputs intact" cmp -s "$tmp/before" "$tmp/after"

mv "$wd/data/raw" "$tmp/raw.saved" && : >"$wd/data/raw"
expect_rc "unwritable output directory exits 73" 73 "$churn" data --workdir "$wd" --source "synthetic:3000?seed=7"
rm -f "$wd/data/raw" && mv "$tmp/raw.saved" "$wd/data/raw"
snapshot "$wd" >"$tmp/after"
check "unwritable directory left outputs intact" cmp -s "$tmp/before" "$tmp/after"
# A run writes a new generation: a file where the published reports/figures was does not stop it.
mv "$wd/reports/figures" "$tmp/figures.saved" && : >"$wd/reports/figures"
check "a file in place of reports/figures does not stop the next run" \
	"$churn" data --workdir "$wd" --source "synthetic:3000?seed=7" --quiet
check "that run published a reports/figures directory with its figures" test -s "$wd/reports/figures/correlation_heatmap.png"
rm -rf "$tmp/figures.saved"

# full disk: a small tmpfs (needs root; skipped otherwise)
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=3m tmpfs "$tmp/full" 2>/dev/null; then
	fw=$tmp/full/wd
	check "run on a small disk" "$churn" run --workdir "$fw" --source "synthetic:1000?seed=3" --no-figures --quiet
	snapshot "$fw" >"$tmp/fbefore"
	dd if=/dev/zero of="$tmp/full/filler" bs=64k 2>/dev/null
	"$churn" run --workdir "$fw" --source "synthetic:1000?seed=4" --no-figures --quiet >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then ok "full disk fails (exit $rc: $(head -c 120 "$tmp/err"))"; else no "full disk run succeeded"; fi
	rm -f "$tmp/full/filler"
	snapshot "$fw" >"$tmp/fafter"
	check "full disk left outputs intact" cmp -s "$tmp/fbefore" "$tmp/fafter"
	check "next run after the full disk succeeds" "$churn" run --workdir "$fw" --source "synthetic:1000?seed=4" --no-figures --quiet
	umount "$tmp/full"
else
	echo "# SKIP full-disk case: cannot mount a tmpfs (not root)"
fi

# --- the workdir lock: two concurrent runs -----------------------------------
lw=$tmp/lock
mkdir -p "$lw"
printf '{"workdir": {"lock_wait_s": 0.5}}\n' >"$lw/churn.json"
# the first run is long (seconds); the second starts once the first has logged its start (lock held)
"$churn" run --workdir "$lw" --source "synthetic:250000?seed=1" --quiet >/dev/null 2>&1 &
first=$!
i=0
while [ $i -lt 200 ] && ! grep -q 'pipeline=data status=started' "$lw/logs/pipeline.log" 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
expect_rc "a second run while the first holds the lock exits 75" 75 "$churn" data --workdir "$lw" --source "synthetic:100" --no-figures
grep -q 'lock' "$tmp/err" && ok "busy message mentions the lock" || no "busy message mentions the lock"
wait $first && ok "the first run completed" || no "the first run completed"
grep -q 'another run holds the workdir lock' "$lw/logs/pipeline.log" && ok "busy run logged" || no "busy run logged"

# --- atomic replacement: a reader never sees a partial JSON file ----------------
aw=$tmp/atomic
"$churn" run --workdir "$aw" --source "synthetic:2000?seed=2" --no-figures --quiet
$py - "$aw" >"$tmp/reader.out" 2>&1 <<'PYEOF' &
import json, os, sys, time
wd = sys.argv[1]
files = ["reports/" + f for f in ("summary.json", "eda.json", "metrics.json", "run_metadata.json", "model_run_metadata.json")]
files += ["artifacts/models/logreg.json", "artifacts/models/gbm.json", "artifacts/prep.json"]
reads = bad = 0
end = time.time() + 8
while time.time() < end:
    for f in files:
        try:
            with open(os.path.join(wd, f)) as fh:
                json.load(fh)
            reads += 1
        except FileNotFoundError:
            pass
        except Exception as e:
            bad += 1
            print("invalid", f, e)
print("reads", reads, "bad", bad)
sys.exit(1 if bad or reads == 0 else 0)
PYEOF
reader=$!
end=$(( $(date +%s) + 7 ))
runs=0
while [ "$(date +%s)" -lt $end ]; do
	"$churn" run --workdir "$aw" --source "synthetic:2000?seed=$runs" --no-figures --quiet >/dev/null 2>&1 && runs=$((runs + 1))
done
if wait $reader; then ok "reader saw only valid JSON over $runs runs ($(tail -1 "$tmp/reader.out"))"; else no "reader saw invalid JSON"; cat "$tmp/reader.out"; fi
check "run records capped to 20" json_check "$aw/reports/run_metadata.json" "len(d['runs']) <= 20"

# kill -9 midway, then the workdir is consistent and the next run succeeds
"$churn" run --workdir "$aw" --source "synthetic:200000?seed=9" --quiet >/dev/null 2>&1 &
victim=$!
sleep 1.5
kill -9 $victim 2>/dev/null
wait $victim 2>/dev/null
for f in reports/metrics.json reports/run_metadata.json artifacts/models/gbm.json; do
	check "after kill -9: $f is valid JSON" json_check "$aw/$f" "True"
done
check "the next run after kill -9 succeeds" "$churn" run --workdir "$aw" --source "synthetic:2000?seed=1" --no-figures --quiet
check "no staging left after the next run" test ! -e "$aw/.staging"

# --- real data -------------------------------------------------------------------
if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -r "${CHURN_TELCO_CSV}" ]; then
	rw=$tmp/real
	check "churn run on the real Telco file" "$churn" run --workdir "$rw" --source "$CHURN_TELCO_CSV" --quiet
	check "real data: 7043 rows, churn rate 0.2654" json_check "$rw/reports/run_metadata.json" \
		"d['runs'][0]['rows']==7043 and abs(d['runs'][0]['churn_rate']-0.26537)<1e-4"
	check "real data: logreg and gbm test ROC AUC >= 0.82" json_check "$rw/reports/metrics.json" \
		"d['models']['logreg']['roc_auc'] >= 0.82 and d['models']['gbm']['roc_auc'] >= 0.82"
else
	echo "# SKIP real-data pipeline: CHURN_TELCO_CSV not set"
fi

echo "# pipeline: $pass passed, $fail failed"
[ $fail -eq 0 ]
