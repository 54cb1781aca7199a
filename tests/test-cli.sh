#!/bin/sh
# CLI tests: run the built `churn` binary. usage: test-cli.sh PATH/TO/churn
# Each case is a small function `case_<name>`; add yours and list it in CASES
# at the bottom (or call `run <name>`). Helpers: expect_rc, json_check.
# Output: one "ok"/"FAIL" line per case and a summary; exit 1 on any failure.
set -u
CHURN=${1:?usage: test-cli.sh PATH/TO/churn}
case $CHURN in /*) ;; *) CHURN=$(pwd)/$CHURN ;; esac
PY=/usr/bin/python3
SHAPES="$(dirname "$0")/gen-shapes.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/churn-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
PASS=0 FAIL=0 FAILED=""

# expect_rc CODE CMD...: run CMD (stdout to $T/out, stderr to $T/err), check its exit code.
expect_rc() {
	want=$1; shift
	got=0
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" -ne "$want" ]; then
		echo "  expected exit $want, got $got: $*" >&2
		sed 's/^/  stderr: /' "$T/err" | head -5 >&2
		return 1
	fi
	return 0
}

# json_check FILE PYTHON-EXPR: load FILE as JSON into `j` and assert the expression.
json_check() {
	$PY -c 'import json,sys
j = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("  JSON check failed:", sys.argv[2], file=sys.stderr); sys.exit(1)' "$1" "$2"
}

# Each case runs in a subshell with set -e (not inside an `if`, where set -e
# would be ignored): write one check per line; avoid `! cmd` and `a && b`,
# whose failures set -e does not catch (use `if cmd; then return 1; fi`).
run() {
	( set -e; "case_$1" )
	if [ $? -eq 0 ]; then
		PASS=$((PASS + 1)); echo "ok   $1"
	else
		FAIL=$((FAIL + 1)); FAILED="$FAILED $1"; echo "FAIL $1"
	fi
}

# ---- core ---------------------------------------------------------------
case_version() {
	expect_rc 0 "$CHURN" version
	grep -q '^churn [0-9]' "$T/out"
	expect_rc 0 "$CHURN" version --json
	json_check "$T/out" '"version" in j'
}

case_help() {
	expect_rc 0 "$CHURN" --help
	grep -q synth "$T/out"
	grep -q profile "$T/out"
	expect_rc 0 "$CHURN" synth --help
	grep -q -- '--rows' "$T/out"
	expect_rc 0 "$CHURN" profile --help
	grep -q -- '--input' "$T/out"
}

case_usage_errors() {
	expect_rc 64 "$CHURN"
	expect_rc 64 "$CHURN" no-such-command
	expect_rc 64 "$CHURN" synth --rows 10 --bogus
	expect_rc 64 "$CHURN" profile --no-such-option
	expect_rc 64 "$CHURN" synth
	expect_rc 64 "$CHURN" synth --rows ten
	expect_rc 64 "$CHURN" synth --rows 10 --seed -1
	expect_rc 64 "$CHURN" profile
	test "$(wc -l <"$T/err")" -eq 1   # errors are one line
}

# ---- synth --------------------------------------------------------------
case_synth_deterministic() {
	expect_rc 0 "$CHURN" synth --rows 100 --seed 1
	cp "$T/out" "$T/a.csv"
	expect_rc 0 "$CHURN" synth --rows 100 --seed 1
	cmp -s "$T/out" "$T/a.csv"
	test "$(wc -l <"$T/a.csv")" -eq 101
	head -1 "$T/a.csv" | grep -q '^customerID,gender,SeniorCitizen,.*,TotalCharges,Churn$'
	expect_rc 0 "$CHURN" synth --rows 100 --seed 2
	if cmp -s "$T/out" "$T/a.csv"; then return 1; fi
}

case_synth_out_file() {
	expect_rc 0 "$CHURN" synth --rows 500 --seed 3 --out "$T/s.csv"
	expect_rc 0 "$CHURN" synth --rows 500 --seed 3
	cmp -s "$T/out" "$T/s.csv"
	expect_rc 0 "$CHURN" synth --rows 5 --out "$T/j.csv" --json
	json_check "$T/out" 'j["rows"] == 5 and j["path"].endswith("j.csv")'
	expect_rc 73 "$CHURN" synth --rows 5 --out "$T/no/such/dir/x.csv"
	test -z "$(ls "$T" | grep '\.tmp\.')"   # no temp files left behind
}

# ---- profile ------------------------------------------------------------
case_profile_json() {
	expect_rc 0 "$CHURN" synth --rows 2000 --seed 4 --out "$T/p.csv"
	expect_rc 0 "$CHURN" profile --input "$T/p.csv" --json
	json_check "$T/out" 'j["rows"] == 2000 and len(j["columns"]) == 21'
	json_check "$T/out" 'all({"name","type","missing"} <= set(c) for c in j["columns"])'
	json_check "$T/out" 'all({"count","mean","std","min","p25","p50","p75","max"} <= set(c) for c in j["columns"] if c["type"] == "numeric")'
	json_check "$T/out" 'all(isinstance(c["levels"], list) and {"value","count"} <= set(c["levels"][0]) for c in j["columns"] if c["type"] == "categorical")'
	json_check "$T/out" '{c["name"]: c["type"] for c in j["columns"]}["TotalCharges"] == "numeric"'
	json_check "$T/out" 'set(j["target"]) >= {"name","positive","positive_count","rate"} and j["target"]["positive"] == "Yes"'
	json_check "$T/out" '0.2 < j["target"]["rate"] < 0.33'
}

case_profile_table() {
	expect_rc 0 "$CHURN" synth --rows 300 --seed 5 --out "$T/t.csv"
	expect_rc 0 "$CHURN" profile --input "$T/t.csv"
	grep -q '^rows: 300' "$T/out"
	grep -q '^tenure  *numeric' "$T/out"
	grep -q '^target: Churn' "$T/out"
}

case_profile_other_target() {
	printf 'id,Age,Exited\n1,30,0\n2,41,1\n3,35,0\n4,50,1\n5,28,0\n' >"$T/bank.csv"
	expect_rc 0 "$CHURN" profile --input "$T/bank.csv" --target Exited --json
	json_check "$T/out" 'j["target"]["name"] == "Exited" and j["target"]["positive"] == "1" and j["target"]["positive_count"] == 2'
	expect_rc 0 "$CHURN" profile --input "$T/bank.csv" --json
	json_check "$T/out" 'j["target"] is None and len(j["notes"]) == 1'
}

# Two files of one source concatenated: TRUE/True/FALSE/False (and a blank-padded one) are two classes everywhere.
case_labels_differ_in_case() {
	$PY -c '
import random
random.seed(3)
print("tenure,plan,Attrited")
for i in range(400):
    t = random.randint(1, 72); p = random.choice(["a", "b", "c"])
    y = random.random() < (0.75 if t < 24 else 0.1)
    word = ("TRUE" if y else "FALSE") if i < 200 else ("True" if y else "False")
    if i == 7: word = " " + word + " "
    print("%d,%s,%s" % (t, p, word))' >"$T/cased.csv"
	pos=$($PY -c 'import csv,sys; print(sum(r["Attrited"].strip().lower() == "true" for r in csv.DictReader(open(sys.argv[1]))))' "$T/cased.csv")
	expect_rc 0 "$CHURN" profile --input "$T/cased.csv" --target Attrited --json
	json_check "$T/out" 'j["target"]["positive"] == "TRUE" and j["target"]["positive_count"] == '"$pos"
	expect_rc 0 "$CHURN" profile --input "$T/cased.csv" --target Attrited --positive true --json
	json_check "$T/out" 'j["target"]["positive_count"] == '"$pos"
	for flag in "" "--positive TRUE" "--positive True"; do
		# shellcheck disable=SC2086
		expect_rc 0 "$CHURN" train --input "$T/cased.csv" --target Attrited $flag --models logreg --out "$T/wc" --json
		json_check "$T/out" 'j["rows"] == 400 and j["models"]["logreg"]["roc_auc"] > 0.6'
	done
	# train counts the same positives: the test split's positives plus the training rows' (stratified: rate kept)
	json_check "$T/out" 'abs((j["models"]["logreg"]["confusion"]["tp"] + j["models"]["logreg"]["confusion"]["fn"]) / j["test_rows"] - '"$pos"' / 400) < 0.01'
	expect_rc 0 "$CHURN" predict --model "$T/wc/artifacts/models/logreg.json" --input "$T/cased.csv" --json
	json_check "$T/out" 'j["count"] == 400'
	# a third class is named, with the row of its first appearance, and "..." only when more exist
	sed '5s/,[A-Za-z]*$/,50000/' "$T/cased.csv" >"$T/third.csv"
	expect_rc 65 "$CHURN" train --input "$T/third.csv" --target Attrited
	grep -q "has 3 classes ('[A-Z]*', '[A-Z]*', '50000'), the third first at $T/third.csv:5; a binary target is needed" "$T/err"
	# ... at its line in the file, also when a quoted field spans lines before it
	{ head -1 "$T/cased.csv"; printf '5,"a\nb",TRUE\n'; sed -n '2,$p' "$T/third.csv"; } >"$T/third2.csv"
	expect_rc 65 "$CHURN" train --input "$T/third2.csv" --target Attrited
	grep -q "the third first at $T/third2.csv:7;" "$T/err"
}

# A bank's file: a row number and a customer number are identifiers, Complain is computed from the target.
case_identifiers_and_leaks() {
	$PY "$SHAPES" bank 2000 >"$T/bank.csv"
	expect_rc 0 "$CHURN" profile --input "$T/bank.csv" --target Exited --json
	json_check "$T/out" 'sum("is identifier-like" in n for n in j["notes"]) == 2 and any(n.startswith("column \x27Complain\x27 leaks the target") for n in j["notes"])'
	json_check "$T/out" 'not any("Age" in n or "Balance" in n or "EstimatedSalary" in n for n in j["notes"])'
	expect_rc 0 "$CHURN" train --input "$T/bank.csv" --target Exited --out "$T/bk" --json
	json_check "$T/out" 'len(j["notes"]) == 3 and all(m["roc_auc"] < 0.99 for m in j["models"].values())'
	json_check "$T/bk/artifacts/models/gbm.json" 'not any(f.startswith(("RowNumber", "CustomerId", "Complain")) for f in j["features"])'
	grep -q "WARN prep: dropped column 'Complain': leaks the target" "$T/err"
	# kept on request: then the model's test AUC of 0.99 or more is the warning
	printf '{"prep": {"keep_columns": "Complain"}}\n' >"$T/keep.json"
	expect_rc 0 "$CHURN" train --input "$T/bank.csv" --target Exited --out "$T/bk2" --config "$T/keep.json" --json
	json_check "$T/out" 'len(j["notes"]) == 2 + sum(m["roc_auc"] >= 0.99 for m in j["models"].values()) and any("test ROC AUC" in n for n in j["notes"])'
	json_check "$T/bk2/artifacts/models/gbm.json" '"Complain" in j["features"]'
	# the pipelines say it too: the data run's record, eda.json and metrics.json
	expect_rc 0 "$CHURN" run --workdir "$T/bkw" --source "$T/bank.csv" --target Exited --no-figures --quiet
	json_check "$T/bkw/reports/run_metadata.json" 'len([r for r in j["runs"] if r["pipeline"] == "data"][-1]["notes"]) == 3'
	json_check "$T/bkw/reports/eda.json" 'sum("identifier-like" in n or "leaks the target" in n for n in j["notes"]) == 3'
	# identifier-like columns have no histogram nor correlation (noise to an analyst); the leak keeps its figures
	json_check "$T/bkw/reports/eda.json" '{h["name"] for h in j["histograms"]} >= {"Age", "Complain"} and not {h["name"] for h in j["histograms"]} & {"RowNumber", "CustomerId"}'
	json_check "$T/bkw/reports/eda.json" 'not any(n.startswith(("RowNumber", "CustomerId")) for n in j["correlation"]["features"])'
	json_check "$T/bkw/reports/metrics.json" 'len(j["notes"]) == 3'
	# no charges column: revenue at risk is skipped with a note naming the option, after the ML run too
	json_check "$T/bkw/reports/eda.json" 'j["revenue_at_risk"] is None and any(n.startswith("revenue_at_risk: skipped: no numeric charges column") and "eda.charges_col" in n for n in j["notes"])'
	# its Tenure (in years) is the tenure, found ignoring case; the unit is an option used in every label
	json_check "$T/bkw/reports/eda.json" 'j["survival"]["time_col"] == "Tenure" and j["survival"]["time_unit"] == "months"'
	printf '{"eda": {"tenure_unit": "years"}}\n' >"$T/years.json"
	expect_rc 0 "$CHURN" eda --input "$T/bank.csv" --target Exited --config "$T/years.json" --out "$T/bke" --no-figures --quiet
	json_check "$T/bke/reports/eda.json" 'j["survival"]["time_unit"] == "years"'
}

case_profile_missing_input() {
	expect_rc 66 "$CHURN" profile --input "$T/does-not-exist.csv"
	test "$(wc -l <"$T/err")" -eq 1
	grep -q 'does-not-exist.csv' "$T/err"
}

case_profile_telco() {
	if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -r "$CHURN_TELCO_CSV" ]; then
		echo "  skip: CHURN_TELCO_CSV not set"; return 0
	fi
	expect_rc 0 "$CHURN" profile --input "$CHURN_TELCO_CSV" --json
	json_check "$T/out" 'j["rows"] == 7043 and len(j["columns"]) == 21'
	json_check "$T/out" '[c for c in j["columns"] if c["name"] == "TotalCharges"][0]["missing"] == 11'
	json_check "$T/out" 'j["target"]["positive"] == "Yes" and j["target"]["positive_count"] == 1869'
}

# ---- train / predict (models) -------------------------------------------
case_train_predict() {
	expect_rc 0 "$CHURN" synth --rows 2000 --seed 3 --out "$T/s.csv"
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg --out "$T/w" --json
	json_check "$T/out" 'set(j) >= {"generated_at", "run_id", "models"} and list(j["models"]) == ["logreg"]'
	json_check "$T/out" 'all(k in j["models"]["logreg"] for k in ["accuracy","precision","recall","f1","roc_auc","pr_auc","log_loss","brier","threshold","confusion"])'
	json_check "$T/out" 'set(j["models"]["logreg"]["confusion"]) == {"tp","fp","tn","fn"} and j["models"]["logreg"]["roc_auc"] > 0.6'
	json_check "$T/w/reports/metrics.json" '"logreg" in j["models"]'
	json_check "$T/w/artifacts/models/logreg.json" 'j["format"] == "churn-model" and j["kind"] == "logreg" and "prep" in j'
	expect_rc 0 "$CHURN" predict --model "$T/w/artifacts/models/logreg.json" --input "$T/s.csv" --out "$T/p.csv"
	head -1 "$T/p.csv" | grep -qx 'id,probability,label,reason1,reason2,reason3'
	[ "$(wc -l <"$T/p.csv")" -eq 2001 ]
	grep -q ' (+' "$T/p.csv"
	! grep -q ' (-' "$T/p.csv" # reasons raise the churn score; nothing that lowers it
	# the target column is optional and extra columns are ignored
	cut -d, -f1-20 "$T/s.csv" | sed '1s/$/,extra/; 2,$s/$/,x/' >"$T/notarget.csv"
	expect_rc 0 "$CHURN" predict --model "$T/w/artifacts/models/logreg.json" --input "$T/notarget.csv" --json
	json_check "$T/out" 'j["count"] == 2000 and all(len(p["reasons"]) <= 3 and all(r["contribution"] != 0 and r["effect"] in ("raises", "lowers") for r in p["reasons"]) for p in j["predictions"]) and 0 <= j["predictions"][0]["probability"] <= 1'
}

case_train_cv_threshold() {
	expect_rc 0 "$CHURN" synth --rows 1500 --seed 4 --out "$T/s.csv"
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg --out "$T/w" --cv 3 --threshold best-f1 --json
	json_check "$T/out" 'j["models"]["logreg"]["cv"]["k"] == 3 and "roc_auc_mean" in j["models"]["logreg"]["cv"] and "f1_std" in j["models"]["logreg"]["cv"]'
	json_check "$T/out" 'j["models"]["logreg"]["threshold_method"] == "best-f1" and 0 < j["models"]["logreg"]["threshold"] < 1'
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg --out "$T/w" --cost-fn 10 --cost-fp 1 --json
	json_check "$T/out" 'j["models"]["logreg"]["threshold_method"] == "cost"'
	# without --json: every metric of the document, for the test split and the folds
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg,gbm --out "$T/w" --cv 3
	for m in roc_auc pr_auc f1 accuracy precision recall log_loss brier threshold; do grep -q "$m" "$T/out"; done
	test "$(grep -c '^logreg ' "$T/out")" -eq 2
	grep -q 'mean of 3 folds' "$T/out"
}

case_train_predict_errors() {
	expect_rc 0 "$CHURN" synth --rows 300 --seed 5 --out "$T/s.csv"
	expect_rc 64 "$CHURN" train
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --models svm
	grep -q svm "$T/err"
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --threshold 2
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --cost-fn 1
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --cv 1
	# --verbose says what the prep drops once (not again for the labels, each fold and the refit)
	$PY -c 'import random; random.seed(1); print("name,age,Churn"); [print("p%d x%f,%d,%s" % (i, random.random(), random.randint(18, 80), random.choice(["Yes", "No"]))) for i in range(300)]' >"$T/drop.csv"
	expect_rc 0 "$CHURN" train --input "$T/drop.csv" --models logreg --out "$T/wd" --cv 3 --refit --verbose
	test "$(grep -c "dropped column 'name'" "$T/err")" -eq 1
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --test-size 0
	grep -q 'train.refit' "$T/err"
	expect_rc 66 "$CHURN" train --input "$T/nope.csv"
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg --out "$T/w"
	cut -d, -f1-5 "$T/s.csv" >"$T/few.csv"
	expect_rc 65 "$CHURN" predict --model "$T/w/artifacts/models/logreg.json" --input "$T/few.csv"
	grep -q 'missing column.*tenure' "$T/err"
	echo '{"format": "churn-model", "version": 99}' >"$T/new.json"
	expect_rc 65 "$CHURN" predict --model "$T/new.json" --input "$T/s.csv"
	grep -q newer "$T/err"
	# without --model: the champion of the workdir's registry (none: 66; a `churn train --out` directory
	# has no registry: its best model, as a workdir from before the registry)
	expect_rc 66 "$CHURN" predict --workdir "$T/none" --input "$T/s.csv"
	grep -q 'no such workdir' "$T/err"
	expect_rc 0 "$CHURN" predict --workdir "$T/w" --input "$T/s.csv" --out "$T/champ.csv" --quiet
	expect_rc 0 "$CHURN" predict --model "$T/w/artifacts/models/$(sed -n 's/.*"best_model":	"\(.*\)".*/\1/p' "$T/w/reports/metrics.json").json" \
		--input "$T/s.csv" --out "$T/best.csv" --quiet
	cmp "$T/champ.csv" "$T/best.csv"
	expect_rc 64 "$CHURN" predict --workdir "$T/w" --input "$T/s.csv" --model 'gbm@v1x'
	expect_rc 66 "$CHURN" predict --workdir "$T/w" --input "$T/s.csv" --model 'gbm@v2'
}

# churn train, churn ml and churn run are one procedure (churn_train): for the same
# data and options, byte-identical artifacts, and metrics.json but for generated_at and run_id.
same_train_outputs() { # DIR_A DIR_B
	# (an ML run also keeps each model as a registry version, artifacts/models/<kind>/v<N>.json)
	for m in $(cd "$1/artifacts/models" && ls -- *.json); do
		cmp "$1/artifacts/models/$m" "$2/artifacts/models/$m" >&2
	done
	test "$(cd "$1/artifacts/models" && ls -- *.json)" = "$(cd "$2/artifacts/models" && ls -- *.json)"
	grep -v '^	"generated_at":\|^	"run_id":' "$1/reports/metrics.json" >"$T/ma"
	grep -v '^	"generated_at":\|^	"run_id":' "$2/reports/metrics.json" >"$T/mb"
	test "$(grep -c '' "$T/ma")" -eq $(($(grep -c '' "$1/reports/metrics.json") - 2))
	cmp "$T/ma" "$T/mb" >&2
}

# train_vs_ml NAME CSV CONFIG-JSON [TRAIN FLAGS...]: churn train with the flags (and the config) = churn ml with the config
train_vs_ml() {
	name=$1 csv=$2
	printf '%s\n' "$3" >"$T/$name.json"
	shift 3
	expect_rc 0 "$CHURN" train --input "$csv" --out "$T/$name-t" --config "$T/$name.json" --quiet "$@"
	expect_rc 0 "$CHURN" data --workdir "$T/$name-w" --source "$csv" --config "$T/$name.json" --no-figures --quiet
	expect_rc 0 "$CHURN" ml --workdir "$T/$name-w" --config "$T/$name.json" --no-figures --quiet
	same_train_outputs "$T/$name-t" "$T/$name-w"
}

case_train_equals_ml() {
	expect_rc 0 "$CHURN" synth --rows 1200 --seed 21 --out "$T/s.csv"
	train_vs_ml fixed "$T/s.csv" '{}'
	json_check "$T/fixed-t/reports/metrics.json" 'list(j["models"]) == ["logreg", "gbm"] and j["threshold_policy"]["method"] == "fixed"'
	# the flags are the keys: --threshold best-f1 --cv 3 --models ... = train.threshold, train.cv, pipeline.models
	train_vs_ml bestf1 "$T/s.csv" '{"train": {"threshold": "best-f1", "cv": 3}, "pipeline": {"models": "forest,logreg"}, "forest": {"n_trees": 30}}' \
		--threshold best-f1 --cv 3 --models forest,logreg
	json_check "$T/bestf1-t/reports/metrics.json" 'list(j["models"]) == ["forest", "logreg"] and all(m["threshold_method"] == "best-f1" and m["cv"]["k"] == 3 for m in j["models"].values())'
	train_vs_ml cost "$T/s.csv" '{"train": {"threshold": "cost", "cost_fn": 5, "cost_fp": 1}, "split": {"seed": 7, "test_size": 0.25}}' \
		--cost-fn 5 --cost-fp 1 --seed 7 --test-size 0.25
	json_check "$T/cost-t/reports/metrics.json" 'j["threshold_policy"] == {"method": "cost", "folds": 5, "cost_fn": 5, "cost_fp": 1} and j["split"]["seed"] == 7'
	# churn run (the training started during its data run) gives the same again
	expect_rc 0 "$CHURN" run --workdir "$T/cost-r" --source "$T/s.csv" --config "$T/cost.json" --no-figures --quiet
	same_train_outputs "$T/cost-t" "$T/cost-r"
	# train.refit: artifacts fitted again on all rows, in churn train and churn ml alike
	train_vs_ml refit "$T/s.csv" '{"train": {"refit": true}}' --refit
	json_check "$T/refit-t/reports/metrics.json" 'j["refit"] is True and j["fitted_rows"] == 1200 and j["train_rows"] == 840'
	json_check "$T/refit-t/artifacts/models/gbm.json" 'j["training_rows"] == 1200'
}

case_train_equals_ml_telco() {
	if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -r "$CHURN_TELCO_CSV" ]; then
		echo "  skip: CHURN_TELCO_CSV not set"; return 0
	fi
	train_vs_ml telco "$CHURN_TELCO_CSV" '{}'
	expect_rc 0 "$CHURN" run --workdir "$T/telco-r" --source "$CHURN_TELCO_CSV" --no-figures --quiet
	same_train_outputs "$T/telco-t" "$T/telco-r"
	json_check "$T/telco-t/reports/metrics.json" 'j["train_rows"] == 4930 and j["test_rows"] == 2113 and j["models"]["logreg"]["roc_auc"] > 0.84'
}

# train.max_rows: churn train, ml and run train on one stratified sample, drawn while reading; a cap
# covering the file changes nothing; the records say the rows read and sampled
case_train_max_rows() {
	expect_rc 0 "$CHURN" synth --rows 3000 --seed 5 --out "$T/mr.csv"
	train_vs_ml mr "$T/mr.csv" '{"train": {"max_rows": 1000}}'
	json_check "$T/mr-t/reports/metrics.json" 'j["sample"]["rows_read"] == 3000 and j["sample"]["rows_sampled"] == 1000 and j["rows"] == 1000 and j["train_rows"] == 700'
	json_check "$T/mr-w/reports/model_run_metadata.json" 'all(r["rows_read"] == 3000 and r["rows_sampled"] == 1000 for r in j["runs"])'
	json_check "$T/mr-w/reports/run_metadata.json" 'j["runs"][-1]["rows"] == 3000 and j["runs"][-1]["sampled_rows"] == 1000'
	json_check "$T/mr-w/reports/eda.json" 'any("sample (train.max_rows)" in n for n in j["notes"])'
	expect_rc 0 "$CHURN" run --workdir "$T/mr-r" --source "$T/mr.csv" --config "$T/mr.json" --no-figures --quiet
	same_train_outputs "$T/mr-t" "$T/mr-r"
	# the data outputs still cover every row
	test "$(($(grep -c '' "$T/mr-r/data/processed/churn.csv") - 1))" -eq 3000
	# a cap of at least the rows: the outputs of no cap, byte for byte
	train_vs_ml mrall "$T/mr.csv" '{"train": {"max_rows": 3000}}'
	expect_rc 0 "$CHURN" train --input "$T/mr.csv" --out "$T/mr-none" --quiet
	same_train_outputs "$T/mr-none" "$T/mrall-t"
	if grep -q '"sample"' "$T/mrall-t/reports/metrics.json"; then return 1; fi
	# refused values, a missing target
	printf '{"train": {"max_rows": -5}}\n' >"$T/mrbad.json"
	expect_rc 64 "$CHURN" train --input "$T/mr.csv" --config "$T/mrbad.json"
	grep -q 'train.max_rows' "$T/err"
	expect_rc 66 "$CHURN" train --input "$T/mr.csv" --config "$T/mr.json" --target Exited
	grep -q "no target column 'Exited'" "$T/err"
}

# ---- survival, value and the retention list (pipeline.models cox) --------
case_train_cox() {
	expect_rc 0 "$CHURN" synth --rows 1500 --seed 16 --out "$T/s.csv"
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models logreg,cox --cv 3 --out "$T/c" --json
	json_check "$T/out" 'list(j["models"]) == ["logreg"] and j["survival"]["cox"]["excluded_columns"] == ["tenure", "TotalCharges"] and 0.6 < j["survival"]["cox"]["concordance"] <= 1 and 0 < j["survival"]["cox"]["integrated_brier"] < 0.25 and j["survival"]["cox"]["cv"]["k"] == 3'
	json_check "$T/out" 'any("TotalCharges" in n and "left out" in n for n in j["survival"]["notes"]) and not any(n.startswith("cox") for n in j["notes"]) and j["retention"]["probability_source"] == "logreg" and j["retention"]["best"]["profit"] >= j["retention"]["best_by_probability"]["profit"]'
	json_check "$T/c/artifacts/models/cox.json" 'j["format"] == "churn-cox-artifact" and j["time_column"] == "tenure" and "prep" in j and j["cox"]["format"] == "churn-cox"'
	head -1 "$T/c/reports/retention.csv" | grep -qx 'id,churn_probability,months_remaining,expected_remaining_value,expected_loss,expected_profit,monthly_charge,tenure,top_reasons'
	$PY - "$T/c/reports/retention.csv" "$T/c/reports/metrics.json" <<'PYEOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
m = json.load(open(sys.argv[2]))["retention"]
assert len(rows) == m["customers"] > 0, (len(rows), m["customers"])
p = [float(r["expected_profit"]) for r in rows]
assert p == sorted(p, reverse=True), "not sorted by expected profit"
for r in rows:  # value + loss = charge x horizon (no discount); profit = 0.3 x loss - 50 (the defaults)
    v, l, c = float(r["expected_remaining_value"]), float(r["expected_loss"]), float(r["monthly_charge"])
    assert abs(v + l - 24 * c) < 0.02, r
    assert abs(float(r["expected_profit"]) - (0.3 * l - 50)) < 0.02, r
    assert r["months_remaining"] == "" or 0 < float(r["months_remaining"]) <= 24, r
    assert 0 <= float(r["churn_probability"]) <= 1, r
best = max(range(len(p) + 1), key=lambda k: (sum(p[:k]), -k))
assert m["best"]["contacts"] == best, (m["best"], best)
PYEOF
	# churn ml with the same keys writes the same artifacts, metrics and list
	train_vs_ml cox "$T/s.csv" '{"pipeline": {"models": "logreg,cox"}, "train": {"cv": 3}}' --models logreg,cox --cv 3
	cmp "$T/cox-t/reports/retention.csv" "$T/cox-w/reports/retention.csv"
	json_check "$T/cox-w/reports/run_metadata.json" 'j["runs"][-1]["retention"]["customers"] > 0 and "curve" not in j["runs"][-1]["retention"] and j["runs"][-1]["survival"]["concordance"] > 0.6'
	json_check "$T/cox-w/reports/eda.json" '[h["months"] for h in j["revenue_at_risk"]["horizons"]] == [3, 6, 12] and len(j["revenue_at_risk"]["horizons"][0]["segments"]) == 3'
	# cox alone: no classifier, no best model, the Cox model's one-month probability in the list
	expect_rc 0 "$CHURN" train --input "$T/s.csv" --models cox --out "$T/co" --json
	json_check "$T/out" 'j["models"] == {} and j["best_model"] is None and j["retention"]["probability_source"] == "cox"'
	# bad options are named
	expect_rc 64 "$CHURN" train --input "$T/s.csv" --models logreg,coxx --out "$T/c"
	grep -q "coxx" "$T/err"
}

case_cox_skips_without_tenure_or_charges() {
	expect_rc 0 "$CHURN" synth --rows 800 --seed 17 --out "$T/s.csv"
	# no tenure (nor TotalCharges): cox is skipped with a note, the run succeeds
	cut -d, -f1-5,7-19,21 "$T/s.csv" >"$T/notenure.csv"
	expect_rc 0 "$CHURN" train --input "$T/notenure.csv" --models logreg,cox --out "$T/nt"
	grep -q "note: cox: skipped: no time column 'tenure'" "$T/out"
	json_check "$T/nt/reports/metrics.json" '"cox" not in j["survival"] and "retention" not in j and any(n.startswith("cox: skipped") for n in j["survival"]["notes"])'
	test ! -e "$T/nt/artifacts/models/cox.json"
	test ! -e "$T/nt/reports/retention.csv"
	# no charges: the model, no value columns and no list (a note); retention.missing_charges=error fails
	cut -d, -f1-18,21 "$T/s.csv" >"$T/nocharges.csv"
	expect_rc 0 "$CHURN" train --input "$T/nocharges.csv" --models logreg,cox --out "$T/nc" --json
	json_check "$T/out" '"concordance" in j["survival"]["cox"] and "retention" not in j and any(n.startswith("retention: skipped: no numeric charges column") for n in j["survival"]["notes"])'
	test -e "$T/nc/artifacts/models/cox.json"
	test ! -e "$T/nc/reports/retention.csv"
	printf '{"retention": {"missing_charges": "error"}}\n' >"$T/err.json"
	expect_rc 66 "$CHURN" train --input "$T/nocharges.csv" --models logreg,cox --out "$T/nc" --config "$T/err.json"
	grep -q "MonthlyCharges" "$T/err"
	# the pipelines too: churn run says what it skipped in its record
	printf '{"pipeline": {"models": "logreg,cox"}}\n' >"$T/cox.json"
	expect_rc 0 "$CHURN" run --workdir "$T/ntw" --source "$T/notenure.csv" --config "$T/cox.json" --quiet
	json_check "$T/ntw/reports/run_metadata.json" 'any(n.startswith("cox: skipped") for n in j["runs"][-1]["notes"])'
	test ! -e "$T/ntw/reports/retention.csv"
}

case_train_cox_telco() {
	if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -r "$CHURN_TELCO_CSV" ]; then
		echo "  skip: CHURN_TELCO_CSV not set"; return 0
	fi
	# R's coxph on all 7043 rows without TotalCharges: concordance 0.8664 (tests/test-survival-r.sh checks the
	# fit itself to 1e-6); the test split's and the folds' figures of the same model are close to it
	expect_rc 0 "$CHURN" train --input "$CHURN_TELCO_CSV" --models gbm,cox --cv 5 --out "$T/tc" --json
	json_check "$T/out" 'abs(j["survival"]["cox"]["concordance"] - 0.8664) < 0.02 and abs(j["survival"]["cox"]["cv"]["concordance_mean"] - 0.8664) < 0.02'
	json_check "$T/out" 'j["survival"]["cox"]["excluded_columns"] == ["tenure", "TotalCharges"] and j["survival"]["cox"]["converged"] and j["retention"]["customers"] == 5174'
	test "$(grep -c '' "$T/tc/reports/retention.csv")" -eq 5175
}

# ---- eda = data: one importance (churn_eda_importance_compute) ----------
# eda_vs_data NAME CSV CONFIG-JSON: churn eda and churn data on CSV with the same options write the same
# "importance" into eda.json (the rest of eda.json but revenue at risk and notes too)
eda_vs_data() {
	name=$1 csv=$2
	echo "$3" >"$T/$name.json"
	expect_rc 0 "$CHURN" eda --input "$csv" --out "$T/$name-e" --config "$T/$name.json" --no-figures --quiet
	expect_rc 0 "$CHURN" data --workdir "$T/$name-d" --source "$csv" --config "$T/$name.json" --no-figures --quiet
	$PY - "$T/$name-e/reports/eda.json" "$T/$name-d/reports/eda.json" <<'PYEOF'
import json, sys
e, d = (json.load(open(f)) for f in sys.argv[1:3])
if not isinstance(e["importance"], dict) or e["importance"] != d["importance"]:
    print("  importance differs:", json.dumps(e["importance"])[:300], json.dumps(d["importance"])[:300], file=sys.stderr)
    sys.exit(1)
skip = {"generated_at", "revenue_at_risk", "notes"}
bad = [k for k in set(e) | set(d) if k not in skip and e.get(k) != d.get(k)]
if bad:
    print("  eda.json differs in", bad, file=sys.stderr); sys.exit(1)
PYEOF
}

case_eda_equals_data() {
	expect_rc 0 "$CHURN" synth --rows 800 --seed 12 --out "$T/ed.csv"
	eda_vs_data ed "$T/ed.csv" '{}'
	# per raw column: the one-hot levels of Contract are one column
	json_check "$T/ed-e/reports/eda.json" '"Contract" in j["importance"]["features"] and not any("=" in f for f in j["importance"]["features"])'
	json_check "$T/ed-e/reports/eda.json" 'all(v is not None for v in j["importance"]["permutation"])'
	json_check "$T/ed-e/reports/eda.json" 'j["revenue_at_risk"]["customers"] == 800'
	# the options reach both alike: forest.*, eda.importance_max_columns, split.seed
	eda_vs_data edo "$T/ed.csv" '{"forest": {"n_trees": 20, "max_depth": 4}, "eda": {"importance_max_columns": 5}, "split": {"seed": 3}}'
	json_check "$T/edo-e/reports/eda.json" 'sum(v is not None for v in j["importance"]["permutation"]) == 5'
	# off: no importance and a note
	echo '{"eda": {"importance": false}}' >"$T/edoff.json"
	expect_rc 0 "$CHURN" eda --input "$T/ed.csv" --out "$T/edoff" --config "$T/edoff.json" --no-figures --quiet
	json_check "$T/edoff/reports/eda.json" 'j["importance"] is None and j["revenue_at_risk"] is None and "importance: skipped (eda.importance = false)" in j["notes"]'
}

case_eda_equals_data_telco() {
	if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -r "$CHURN_TELCO_CSV" ]; then
		echo "  skip: CHURN_TELCO_CSV not set"; return 0
	fi
	eda_vs_data telco-eda "$CHURN_TELCO_CSV" '{}'
	json_check "$T/telco-eda-e/reports/eda.json" 'len(j["importance"]["features"]) == 19 and j["importance"]["features"][0] == "gender"'
}

# ---- prepare ------------------------------------------------------------
case_prepare_outputs() {
	expect_rc 0 "$CHURN" synth --rows 400 --seed 3 --out "$T/p.csv"
	expect_rc 0 "$CHURN" prepare --input "$T/p.csv" --out "$T/pw" --json
	json_check "$T/out" 'j["rows"] == 400 and j["features"] == 41 and j["dropped"][0]["column"] == "customerID"'
	for f in data/processed/churn.parquet data/processed/churn.csv artifacts/prep.json reports/summary.json reports/summary.csv; do
		test -s "$T/pw/$f"
	done
	head -c 4 "$T/pw/data/processed/churn.parquet" | grep -q PAR1
	head -1 "$T/pw/data/processed/churn.csv" | grep -q '^customerID,gender=Female,.*Contract=Month-to-month,.*,Churn$'
	test "$(wc -l <"$T/pw/data/processed/churn.csv")" -eq 401
	# every number is the shortest of 15, 16 or 17 significant digits that reads back (16 digits too)
	$PY - "$T/pw/data/processed/churn.csv" <<'PYEOF'
import csv, re, sys
def sig(t):
    m = re.match(r"-?(\d*)\.?(\d*)(?:e[-+]?\d+)?$", t)
    return len((m.group(1) + m.group(2)).lstrip("0").rstrip("0")) if m else 99
bad = []
for row in list(csv.reader(open(sys.argv[1])))[1:]:
    for cell in row[1:-1]:
        v = float(cell)
        want = next(n for n in (15, 16, 17) if float("%.*g" % (n, v)) == v)
        if float(cell) != v or sig(cell) > want:
            bad.append((cell, want))
if bad:
    print("  not the shortest text:", bad[:5], file=sys.stderr); sys.exit(1)
PYEOF
	json_check "$T/pw/artifacts/prep.json" 'j["format"] == "churn-prep" and j["version"] == 1'
	json_check "$T/pw/reports/summary.json" 'j["rows"] == 400 and j["prep"]["features"] == 41 and any(c["name"] == "customerID" and c["role"] == "id" for c in j["columns"]) and any(c["name"] == "tenure" and "after" in c["prep"] for c in j["columns"])'
	grep -q '^tenure,numeric,feature,' "$T/pw/reports/summary.csv"
	# Plain output, the workdir as default output.
	expect_rc 0 "$CHURN" prepare --input "$T/p.csv" --workdir "$T/pw2"
	grep -q 'prepared 400 rows x 41 features' "$T/out"
	test -s "$T/pw2/data/processed/churn.parquet"
}

case_prepare_errors() {
	expect_rc 0 "$CHURN" synth --rows 200 --seed 4 --out "$T/e.csv"
	expect_rc 64 "$CHURN" prepare
	expect_rc 66 "$CHURN" prepare --input "$T/nope.csv"
	expect_rc 66 "$CHURN" prepare --input "$T/e.csv" --target Exited --out "$T/ew"
	grep -q 'Exited.*customerID' "$T/err"
	echo '{"prep": {"scale": "robust"}}' >"$T/bad.json"
	expect_rc 64 "$CHURN" prepare --input "$T/e.csv" --config "$T/bad.json" --out "$T/ew"
	grep -q 'prep.scale' "$T/err"
	# A failing run leaves the earlier outputs as they were.
	expect_rc 0 "$CHURN" prepare --input "$T/e.csv" --out "$T/ew"
	sum1=$(cat "$T/ew/data/processed/churn.csv" "$T/ew/artifacts/prep.json" | cksum)
	expect_rc 65 "$CHURN" prepare --input "$T/e.csv" --target gender --out "$T/ew"
	grep -q 'positive' "$T/err"
	sum2=$(cat "$T/ew/data/processed/churn.csv" "$T/ew/artifacts/prep.json" | cksum)
	test "$sum1" = "$sum2"
	# Options through the config file reach the spec.
	echo '{"prep": {"scale": "minmax", "missing_indicator": true}}' >"$T/ok.json"
	expect_rc 0 "$CHURN" prepare --input "$T/e.csv" --config "$T/ok.json" --out "$T/ew"
	json_check "$T/ew/artifacts/prep.json" 'j["params"]["scale"] == "minmax" and j["params"]["missing_indicator"]'
}

case_prepare_telco() {
	if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -r "$CHURN_TELCO_CSV" ]; then
		echo "  skip: CHURN_TELCO_CSV not set"; return 0
	fi
	expect_rc 0 "$CHURN" prepare --input "$CHURN_TELCO_CSV" --out "$T/tw" --json
	json_check "$T/out" 'j["rows"] == 7043 and j["features"] == 41 and j["imputed_cells"] == 11'
	json_check "$T/tw/reports/summary.json" 'j["target"]["positive_count"] == 1869'
}

# ---- data errors: invalid UTF-8 and names made from data exit 65 (bad data), never 64 (usage) ----
# snap DIR: checksums of what a reader of the workdir relies on
snap() {
	(cd "$1" && find reports artifacts data/processed -type f ! -name run_metadata.json \
		! -name model_run_metadata.json -print0 | sort -z | xargs -0 sha256sum)
}

case_invalid_utf8() {
	expect_rc 0 "$CHURN" synth --rows 300 --seed 6 --out "$T/good.csv"
	expect_rc 0 "$CHURN" run --workdir "$T/uw" --source "$T/good.csv" --no-figures --quiet
	snap "$T/uw" >"$T/before"
	# a Latin-1 "chèque" in one PaymentMethod value on line 42 (field 18)
	$PY -c 'import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
f = lines[41].split(b",")
f[17] = b"Electronic ch\xe8que"
lines[41] = b",".join(f)
open(sys.argv[2], "wb").write(b"\n".join(lines))' "$T/good.csv" "$T/latin1.csv"
	expect_rc 65 "$CHURN" run --workdir "$T/uw" --source "$T/latin1.csv" --no-figures
	test "$(wc -l <"$T/err")" -eq 1
	grep -q 'latin1.csv:42:18: invalid UTF-8 (byte 0xe8: incomplete sequence) in column "PaymentMethod"; .*iconv' "$T/err"
	snap "$T/uw" >"$T/after"
	cmp -s "$T/before" "$T/after"
	json_check "$T/uw/reports/run_metadata.json" 'j["runs"][-1]["status"] == "failed" and "invalid UTF-8" in j["runs"][-1]["error"]'
	# the other commands that read a CSV say the same
	expect_rc 65 "$CHURN" profile --input "$T/latin1.csv"
	grep -q '^churn profile: .*latin1.csv:42:18: invalid UTF-8' "$T/err"
	expect_rc 65 "$CHURN" eda --input "$T/latin1.csv" --out "$T/ue" --no-figures
	expect_rc 65 "$CHURN" predict --model "$T/uw/artifacts/models/logreg.json" --input "$T/latin1.csv"
	grep -q 'latin1.csv:42:18: invalid UTF-8' "$T/err"
}

case_data_names_exit_65() {
	# "a" with level "b" encodes to the feature "a=b", which is also a column: bad data, not a usage error
	$PY -c 'import random
random.seed(1)
print("customerID,a,a=b,x,Churn")
for i in range(40):
    print("c%d,%s,%.3f,%.3f,%s" % (i, random.choice("bc"), random.random(), random.random(), random.choice(["Yes", "No"])))' >"$T/dup.csv"
	expect_rc 65 "$CHURN" prepare --input "$T/dup.csv" --out "$T/dw"
	grep -q 'duplicate column name "a=b"' "$T/err"
	expect_rc 65 "$CHURN" run --workdir "$T/dw" --source "$T/dup.csv" --no-figures
}

# ---- wide data: more than 500 encoded features (the correlation limit that failed the run) ----
case_wide_data() {
	# 30 numeric columns and 10 categorical ones of 50 levels: over 500 encoded features
	$PY -c 'import random
r = random.Random(7)
print(",".join(["customerID"] + ["x%02d" % j for j in range(30)] + ["c%d" % j for j in range(10)] + ["Churn"]))
for i in range(300):
    xs = [r.gauss(0, 1) for _ in range(30)]
    cs = [r.randrange(50) for _ in range(10)]
    z = 1.5 * xs[0] - xs[1] + (1.0 if cs[0] < 10 else 0.0) - 0.8
    y = "Yes" if r.random() < 1 / (1 + 2.718281828 ** -z) else "No"
    print(",".join(["C%04d" % i] + ["%.3f" % x for x in xs] + ["L%02d" % c for c in cs] + [y]))' >"$T/wide.csv"
	expect_rc 0 "$CHURN" run --workdir "$T/ww" --source "$T/wide.csv" --no-figures --quiet
	json_check "$T/ww/reports/run_metadata.json" 'j["runs"][-1]["status"] == "succeeded" and j["runs"][0]["features"] > 500'
	nf=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["features"])' "$T/ww/reports/run_metadata.json")
	json_check "$T/ww/reports/eda.json" 'j["correlation"]["columns_total"] == '"$nf"' + 1 and j["correlation"]["columns_shown"] == 51'
	json_check "$T/ww/reports/eda.json" 'j["correlation"]["reduced"].startswith("top 50 of '"$nf"' features") and len(j["correlation"]["with_target"]["r"]) == '"$nf"
	json_check "$T/ww/reports/eda.json" '"x00" in j["correlation"]["features"] and any("more than eda.corr_max_features (50)" in n for n in j["notes"])'
	json_check "$T/ww/reports/eda.json" 'any(n.startswith("figures: histogram_numeric_columns shows the 24 of 30") for n in j["notes"])'
	json_check "$T/ww/reports/metrics.json" 'j["models"]["logreg"]["roc_auc"] > 0.6'
	# churn eda with its figures (importance per raw column: the permutation importance of the 25 columns of highest impurity)
	echo '{"eda": {"importance_max_columns": 25}}' >"$T/we.json"
	expect_rc 0 "$CHURN" eda --input "$T/wide.csv" --out "$T/we" --config "$T/we.json" --quiet
	json_check "$T/we/reports/eda.json" 'j["correlation"]["columns_shown"] == 51 and len(j["importance"]["features"]) == 40'
	json_check "$T/we/reports/eda.json" 'sum(v is not None for v in j["importance"]["permutation"]) == 25'
	json_check "$T/we/reports/eda.json" 'any(n.startswith("importance: permutation computed for the 25 of 40") for n in j["notes"])'
	for f in correlation_heatmap histogram_numeric_columns churn_rate_c0 feature_importance; do
		test -s "$T/we/reports/figures/$f.png"
	done
	test "$(ls "$T/we/reports/figures" | wc -l)" -le 14
}

# ---- the progress bar on a terminal (script(1) gives the command a pty) ----
case_progress_bar() {
	if ! command -v script >/dev/null 2>&1; then
		echo "  skip: script(1) not installed"; return 0
	fi
	expect_rc 0 "$CHURN" synth --rows 200000 --seed 8 --out "$T/pb.csv"
	script -qec "$CHURN run --workdir $T/pb --source $T/pb.csv --no-figures" "$T/tty" >/dev/null
	# redrawn only when the figure changes: a few KB, not one redraw per chunk
	test "$(wc -c <"$T/tty")" -lt 20000
	# every bar is finished (100%) or cleared (ESC [K) before the next line: never a half bar under a message
	$PY - "$T/tty" <<'PYEOF'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
for line in raw.split("\n"):
    frames = line.split("\r")
    for i, f in enumerate(frames):
        if re.search(r"\] +\d+%$", f) and not f.endswith("100%"):
            later = "".join(frames[i + 1:])
            assert later == "" or later.startswith("\x1b[K") or re.match(r"[\w ]+\[", later), repr(line[-200:])
    assert all(f.startswith(("\x1b[K", "churn")) for f in frames if "succeeded" in f), repr(line[-200:])
# the ML steps show their progress too: the training (all models at once) to its end
assert re.search(r"\rtrain +\[#+\] 100%", raw), "no finished train bar"
PYEOF
}

CASES="version help usage_errors synth_deterministic synth_out_file profile_json profile_table
profile_other_target labels_differ_in_case identifiers_and_leaks profile_missing_input profile_telco"
# Other commands: add case_<name> functions above and their names here.
CASES="$CASES train_predict train_cv_threshold train_predict_errors train_equals_ml train_equals_ml_telco train_max_rows"
CASES="$CASES train_cox cox_skips_without_tenure_or_charges train_cox_telco"

CASES="$CASES eda_equals_data eda_equals_data_telco"
CASES="$CASES prepare_outputs prepare_errors prepare_telco"
CASES="$CASES invalid_utf8 data_names_exit_65 wide_data progress_bar"
for c in $CASES; do run "$c"; done
echo "cli: $PASS passed, $FAIL failed${FAILED:+ (failed:$FAILED)}"
[ "$FAIL" -eq 0 ]
