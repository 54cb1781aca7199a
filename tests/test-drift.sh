#!/bin/sh
# Drift end to end with the built churn binary (issue 15): the first run has
# no reference; unchanged data (the same rows, a new sample of the same mix)
# flags nothing; a source whose Contract mix or MonthlyCharges moved
# (tests/gen-drift.py) flags that column and no other; columns removed, added
# and retyped are schema changes; an artifact without a reference (from
# before drift monitoring) or with a broken one still loads and drift says
# so; the ML run records the serving model's performance on the new rows;
# the history grows and the run exits 0 through all of it.
# usage: test-drift.sh CHURN_BINARY
set -u
churn=$1
py=/usr/bin/python3
here=$(dirname "$0")
tmp=$(mktemp -d /tmp/churn-drift-XXXXXX)
wd=$tmp/wd
pass=0 fail=0
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
json_check() { # description, file, python expression over d (the parsed JSON) that must be true
	if $py - "$2" "$3" >"$tmp/jc" 2>&1 <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print("failed:", sys.argv[2])
    print("flagged:", d.get("summary", {}).get("flagged"), "schema:", d.get("schema"), "status:", d.get("status"),
          "message:", d.get("message"))
    sys.exit(1)
PYEOF
	then ok "$1"; else no "$1"; sed 's/^/#   /' "$tmp/jc" | head -10; fi
}
drift=$wd/reports/drift.json
flagged() { echo "d['status'] == 'compared' and d['summary']['flagged'] == $1"; }

"$churn" synth --rows 6000 --seed 7 --out "$tmp/base.csv" || exit 1
"$churn" synth --rows 6000 --seed 8 --out "$tmp/resample.csv" || exit 1
$py "$here/gen-drift.py" contract "$tmp/base.csv" "$tmp/contract.csv"
$py "$here/gen-drift.py" charges "$tmp/base.csv" "$tmp/charges.csv"
$py "$here/gen-drift.py" drop PaymentMethod "$tmp/base.csv" "$tmp/drop.csv"
$py "$here/gen-drift.py" add "$tmp/base.csv" "$tmp/add.csv"
$py "$here/gen-drift.py" retype tenure "$tmp/base.csv" "$tmp/retype.csv"

# 1. the first run: no model yet, so no reference; not a failure
expect_rc "first churn run (no reference yet)" 0 "$churn" run --workdir "$wd" --source "$tmp/base.csv" --quiet
json_check "first run: drift.json says no reference" "$drift" \
	"d['status'] == 'no_reference' and d['reference'] is None and d['columns'] == [] and 'first run' in d['message']"
json_check "first run: performance says no model" "$drift" "d['performance']['status'] == 'no_model'"
json_check "artifact carries its reference profile" "$wd/artifacts/models/gbm.json" \
	"d['reference']['format'] == 'churn-drift-reference' and d['reference']['rows'] == d['training_rows'] and \
	 len(d['reference']['columns']) == 19 and 'customerID' in d['reference']['ids']"
[ -f "$wd/reports/figures/drift_psi.png" ] && no "no figure without a reference" || ok "no figure without a reference"

# 2. unchanged data: the same rows, then another sample of the same mix
expect_rc "churn data, same rows" 0 "$churn" data --workdir "$wd" --source "$tmp/base.csv" --quiet
json_check "same rows: nothing flagged" "$drift" "$(flagged '[]') and d['summary']['status'] == 'stable' and not d['schema']['changed']"
json_check "same rows: target intervals overlap" "$drift" "d['target']['overlap'] is True and d['reference']['model'] in ('gbm', 'logreg')"
[ -s "$wd/reports/figures/drift_psi.png" ] && ok "drift_psi.png drawn" || no "drift_psi.png drawn"
expect_rc "churn data, a new sample" 0 "$churn" data --workdir "$wd" --source "$tmp/resample.csv" --quiet
json_check "new sample: nothing flagged" "$drift" "$(flagged '[]') and d['summary']['max_psi'] < 0.05"

# 3. one column moved on purpose
expect_rc "churn data, Contract mix moved" 0 "$churn" data --workdir "$wd" --source "$tmp/contract.csv" --quiet
json_check "Contract flagged, nothing else" "$drift" "$(flagged "['Contract']") and d['summary']['alert'] == 1"
json_check "Contract: small p-value, status alert" "$drift" \
	"[c for c in d['columns'] if c['name'] == 'Contract'][0]['test']['p_value'] < 1e-6 and \
	 [c for c in d['columns'] if c['name'] == 'Contract'][0]['status'] == 'alert'"
expect_rc "churn data, MonthlyCharges x 1.3" 0 "$churn" data --workdir "$wd" --source "$tmp/charges.csv" --quiet
json_check "MonthlyCharges flagged, nothing else" "$drift" "$(flagged "['MonthlyCharges']")"
json_check "the run record carries the drift summary" "$wd/reports/run_metadata.json" \
	"d['runs'][-1]['drift']['flagged'] == ['MonthlyCharges'] and 'drift' in [s['name'] for s in d['runs'][-1]['steps']]"

# 4. schema changes
expect_rc "churn data, PaymentMethod removed" 0 "$churn" data --workdir "$wd" --source "$tmp/drop.csv" --quiet
json_check "removed column is a schema change" "$drift" \
	"d['schema']['changed'] and d['schema']['removed'] == ['PaymentMethod'] and d['summary']['schema_changed'] and $(flagged '[]')"
expect_rc "churn data, a column added" 0 "$churn" data --workdir "$wd" --source "$tmp/add.csv" --quiet
json_check "added column is a schema change" "$drift" "d['schema']['added'] == ['Region'] and d['schema']['removed'] == []"
expect_rc "churn data, tenure as words" 0 "$churn" data --workdir "$wd" --source "$tmp/retype.csv" --quiet
json_check "retyped column is a schema change" "$drift" \
	"d['schema']['retyped'] == [{'name': 'tenure', 'from': 'numeric', 'to': 'categorical'}] and \
	 [c for c in d['columns'] if c['name'] == 'tenure'][0]['status'] == 'retyped'"

# 5. history: one entry per data run, this one last
json_check "history holds every run so far, PSI per column" "$drift" \
	"len(d['history']) == 8 and d['history'][-1]['run_id'] == d['run_id'] and 'Contract' in d['history'][3]['psi']"

# 6. performance: the ML run scores its rows with the serving model before training
expect_rc "churn data + churn ml on the base rows" 0 sh -c "'$churn' data --workdir '$wd' --source '$tmp/base.csv' --quiet && '$churn' ml --workdir '$wd' --quiet"
json_check "performance: scored, AUC and Brier beside training's" "$drift" \
	"d['performance']['status'] == 'scored' and 0.6 < d['performance']['current']['roc_auc'] <= 1 and \
	 d['performance']['training']['roc_auc'] > 0.6 and abs(d['performance']['calibration']['difference']) < 0.05 and \
	 d['history'][-1]['roc_auc'] == d['performance']['current']['roc_auc']"
json_check "the ML run record carries the performance" "$wd/reports/run_metadata.json" \
	"d['runs'][-1]['pipeline'] == 'ml' and d['runs'][-1]['performance']['status'] == 'scored' and \
	 [s['name'] for s in d['runs'][-1]['steps']][:3] == ['load', 'monitor', 'train']"

# 7. an artifact from before drift monitoring (no "reference"), then a broken one: replaced, never edited in place
strip_reference() { # workdir, what to put as "reference" (python literal; None: remove it)
	$py - "$1" "$2" <<'PYEOF'
import json, os, sys
wd, what = sys.argv[1], eval(sys.argv[2])
# the serving model: the registry's champion (artifacts/models/<name>/v<N>.json)
reg = json.load(open(wd + "/artifacts/registry.json"))
champ = [v for v in reg["versions"] if v["ref"] == reg["aliases"]["champion"]][0]
path = wd + "/artifacts/models/%s/v%d.json" % (champ["name"], champ["version"])
a = json.load(open(path))
if what is None:
    del a["reference"]
else:
    a["reference"] = what
with open(path + ".tmp", "w") as f:
    json.dump(a, f)
os.replace(path + ".tmp", path)
PYEOF
}
strip_reference "$wd" None
expect_rc "churn data with an artifact without a reference" 0 "$churn" data --workdir "$wd" --source "$tmp/contract.csv" --quiet
json_check "old artifact: no reference, said why" "$drift" \
	"d['status'] == 'no_reference' and 'before drift monitoring' in d['message'] and d['reference']['has_profile'] is False"
champ=$($py -c "
import json; r = json.load(open('$wd/artifacts/registry.json')); v = [v for v in r['versions'] if v['ref'] == r['aliases']['champion']][0]
print('artifacts/models/%s/v%d.json' % (v['name'], v['version']))")
expect_rc "the old artifact still scores" 0 "$churn" predict --model "$wd/$champ" --input "$tmp/base.csv" --out "$tmp/pred.csv"
strip_reference "$wd" "{'format': 'churn-drift-reference', 'version': 99, 'rows': 1, 'target': {'name': 'Churn'}, 'columns': []}"
expect_rc "churn data with a reference from a newer version" 0 "$churn" data --workdir "$wd" --source "$tmp/base.csv" --quiet
json_check "newer reference: not compared, said why" "$drift" "d['status'] == 'no_reference' and 'newer' in d['message']"

# a serving artifact that is not JSON: the data run (which does not need the model) goes on and says why
printf 'not json' >"$wd/$champ.tmp" && mv "$wd/$champ.tmp" "$wd/$champ"
expect_rc "churn data with a corrupt serving artifact" 0 "$churn" data --workdir "$wd" --source "$tmp/base.csv" --quiet
json_check "corrupt artifact: not compared, the file named" "$drift" \
	"d['status'] == 'no_reference' and '$champ' in d['message'] and d['reference'] is None"

# 8. drift.enabled=false: no drift step
echo '{"drift.enabled": false}' >"$tmp/off.json"
expect_rc "churn data with drift.enabled false" 0 "$churn" data --workdir "$wd" --source "$tmp/base.csv" --config "$tmp/off.json" --quiet
json_check "no drift step when disabled" "$wd/reports/run_metadata.json" \
	"'drift' not in [s['name'] for s in d['runs'][-1]['steps']] and 'drift' not in d['runs'][-1]"

# 9. the real data (when CHURN_TELCO_CSV is set): unchanged flags nothing, Contract moved flags Contract alone
if [ -n "${CHURN_TELCO_CSV:-}" ] && [ -f "$CHURN_TELCO_CSV" ]; then
	tw=$tmp/telco
	$py "$here/gen-drift.py" contract "$CHURN_TELCO_CSV" "$tmp/telco-contract.csv"
	expect_rc "Telco: churn run twice" 0 sh -c "'$churn' run --workdir '$tw' --source '$CHURN_TELCO_CSV' --quiet && '$churn' data --workdir '$tw' --source '$CHURN_TELCO_CSV' --quiet"
	json_check "Telco unchanged: nothing flagged" "$tw/reports/drift.json" "$(flagged '[]')"
	expect_rc "Telco: Contract moved" 0 "$churn" data --workdir "$tw" --source "$tmp/telco-contract.csv" --quiet
	json_check "Telco: Contract flagged, nothing else" "$tw/reports/drift.json" "$(flagged "['Contract']")"
else
	echo "# skip: the Telco cases (CHURN_TELCO_CSV is not set)"
fi

echo "# drift: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
