#!/bin/sh
# The model registry with the built churn binary: the first ML run promotes
# its best model, an equal one is promoted, a worse challenger is refused
# (twice in a row: two refusals in the history), promote and rollback by
# hand, churn predict through the registry, the version cap that never drops
# the champion or previous and never reuses a number, a workdir from before
# the registry (migrated by its next run), bad NAME@vN inputs refused with
# one line, concurrent readers during runs and promotions (each sees one
# whole registry whose files are there), and promote under a fault or a
# kill at every step of its commit.
# usage: test-registry.sh CHURN_BINARY
set -u
churn=$1
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/churn-registry-XXXXXX)
pass=0 fail=0
reader_pid=
cleanup() {
	[ -n "$reader_pid" ] && kill "$reader_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
one_line() { # description: the last command's stderr is one line
	if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok "$1: one line"; else no "$1: $(wc -l <"$tmp/err") lines"; cat "$tmp/err"; fi
}
reg() { # workdir, python expression over d (artifacts/registry.json) and wd that must be true
	$py - "$1" "$2" <<'PYEOF'
import json, os, sys
wd = sys.argv[1]
d = json.load(open(os.path.join(wd, "artifacts/registry.json")))
ok = eval(sys.argv[2])
if not ok:
    print("failed:", sys.argv[2]); print(json.dumps({"aliases": d["aliases"], "versions": [v["ref"] for v in d["versions"]],
          "history": [(h["action"], h.get("challenger"), h["promoted"]) for h in d["history"]]})); sys.exit(1)
PYEOF
}
# every listed version's file is there with its sha256, every alias names a listed version
consistent() {
	$py - "$1" <<'PYEOF'
import hashlib, json, os, sys
wd = sys.argv[1]
d = json.load(open(os.path.join(wd, "artifacts/registry.json")))
refs = {v["ref"] for v in d["versions"]}
for v in d["versions"]:
    data = open(os.path.join(wd, "artifacts/models/%s/v%d.json" % (v["name"], v["version"])), "rb").read()
    assert hashlib.sha256(data).hexdigest() == v["sha256"], v["ref"]
for a, r in d["aliases"].items():
    assert r is None or r in refs, (a, r)
PYEOF
}

syn="synthetic:2000?seed=5"
worse=$tmp/worse.json
printf '{"gbm.n_trees": 1, "gbm.max_depth": 1}\n' >"$worse"

# --- first run, an equal run, a worse challenger ---------------------------
wd=$tmp/wd
check "churn run (first run of a workdir)" "$churn" run --workdir "$wd" --source "$syn" --no-figures --quiet
check "first run: a version per model, the best promoted" reg "$wd" \
	"[v['ref'] for v in d['versions']] == ['logreg@v1', 'gbm@v1'] and d['aliases']['champion'] in ('logreg@v1', 'gbm@v1') and d['aliases']['previous'] is None and d['history'][-1]['action'] == 'first' and d['history'][-1]['promoted']"
check "first run: the champion is the model of highest test ROC AUC" $py -c "
import json; m = json.load(open('$wd/reports/metrics.json')); d = json.load(open('$wd/artifacts/registry.json'))
assert d['aliases']['champion'] == m['best_model'] + '@v1'"
check "version files and sha256" consistent "$wd"
check "artifacts/models/<kind>.json still written (the latest of each kind)" cmp "$wd/artifacts/models/gbm.json" "$wd/artifacts/models/gbm/v1.json"
check "model records carry their version, the candidate's the decision" $py -c "
import json; d = json.load(open('$wd/reports/model_run_metadata.json'))
assert sorted(r['version'] for r in d['runs']) == ['gbm@v1', 'logreg@v1']
assert [r['promotion']['promoted'] for r in d['runs'] if 'promotion' in r] == [True]
r = json.load(open('$wd/reports/run_metadata.json'))['runs'][-1]
assert r['pipeline'] == 'ml' and r['promotion']['action'] == 'first'"
first=$($py -c "import json; print(json.load(open('$wd/artifacts/registry.json'))['aliases']['champion'])")
kind=${first%@*}

check "churn ml on the same data" "$churn" ml --workdir "$wd" --no-figures --quiet
check "an equal challenger is promoted (not worse), the old champion is previous" reg "$wd" \
	"d['aliases']['champion'] == '$kind@v2' and d['aliases']['previous'] == '$first' and d['history'][-1]['promoted'] and d['history'][-1]['figures']['champion']['roc_auc'] == d['history'][-1]['figures']['challenger']['roc_auc']"

for n in 1 2; do
	check "churn ml with a worse gbm ($n)" "$churn" ml --workdir "$wd" --no-figures --quiet --models gbm --config "$worse"
done
check "a worse challenger stays challenger, twice in a row in the history" reg "$wd" \
	"d['aliases']['champion'] == '$kind@v2' and d['aliases']['challenger'] == 'gbm@v4' and [h['promoted'] for h in d['history'][-2:]] == [False, False] and all(h['action'] == 'evaluate' and h['figures']['rows'] == 600 and h['figures']['challenger']['roc_auc'] < h['figures']['champion']['roc_auc'] - 0.005 for h in d['history'][-2:])"
check "the refusal's reason names the rule" reg "$wd" "d['history'][-1]['reason'].startswith('not promoted: ROC AUC')"
check "two refusals in a row fire the challenger_refused alert" $py -c "
import json; d = json.load(open('$wd/reports/alerts.json')); a = d['alerts'] if isinstance(d, dict) else d
assert [x['details']['refusals'] for x in a if x['rule'] == 'challenger_refused'] == [2], a"
check "churn models list" "$churn" models list --workdir "$wd"
grep -q "champion" "$tmp/out" && ok "list shows the champion" || no "list shows the champion"

# --- churn predict through the registry -----------------------------------
"$churn" synth --rows 20 --seed 9 --out "$tmp/customers.csv" --quiet
"$churn" predict --workdir "$wd" --input "$tmp/customers.csv" >"$tmp/p-default.csv" 2>"$tmp/err"
"$churn" predict --input "$tmp/customers.csv" --model "$wd/artifacts/models/$kind/v2.json" >"$tmp/p-file.csv"
check "predict without --model serves the champion" cmp "$tmp/p-default.csv" "$tmp/p-file.csv"
"$churn" predict --workdir "$wd" --input "$tmp/customers.csv" --model gbm@v4 >"$tmp/p-v4.csv"
"$churn" predict --input "$tmp/customers.csv" --model "$wd/artifacts/models/gbm/v4.json" >"$tmp/p-v4f.csv"
check "predict --model gbm@v4 serves that version" cmp "$tmp/p-v4.csv" "$tmp/p-v4f.csv"

# --- promote and rollback by hand -------------------------------------------
check "promote gbm@v4 (the challenger)" "$churn" models promote gbm@v4 --workdir "$wd" --quiet
check "promoted: champion gbm@v4, previous the old one, challenger cleared" reg "$wd" \
	"d['aliases'] == {'champion': 'gbm@v4', 'challenger': None, 'previous': '$kind@v2'} and d['history'][-1]['action'] == 'promote'"
check "rollback" "$churn" models rollback --workdir "$wd" --quiet
check "rolled back: the old champion again, gbm@v4 previous" reg "$wd" \
	"d['aliases']['champion'] == '$kind@v2' and d['aliases']['previous'] == 'gbm@v4' and d['history'][-1]['action'] == 'rollback'"
expect_rc "promote the champion: nothing to do" 0 "$churn" models promote champion --workdir "$wd" --json
check "... and the history is unchanged" reg "$wd" "d['history'][-1]['action'] == 'rollback'"

# --- bad references ---------------------------------------------------------
before=$(sha256sum "$wd/artifacts/registry.json")
for bad in "gbm@v0" "gbm@v01" "gbm@v1000000000" "gbm@v99999999999999999999" "../gbm@v1" "gbm/../x@v1" \
	"GBM@v1" "gbm@1" "gbm" "@v1" "" "champ" "$(printf 'gbm\001@v1')" "$(printf 'g\303\251@v1')" \
	"$($py -c "print('a' * 40 + '@v1')")"; do
	expect_rc "promote '$(printf %s "$bad" | tr -c '[:print:]' '?')': malformed" 64 "$churn" models promote "$bad" --workdir "$wd"
	one_line "malformed reference"
done
expect_rc "promote gbm@v999: unknown" 66 "$churn" models promote gbm@v999 --workdir "$wd"
one_line "unknown version"
expect_rc "show forest@v1: unknown" 66 "$churn" models show forest@v1 --workdir "$wd"
expect_rc "predict --model gbm@v999: unknown" 66 "$churn" predict --workdir "$wd" --input "$tmp/customers.csv" --model gbm@v999
expect_rc "promote without a version" 64 "$churn" models promote --workdir "$wd"
expect_rc "an unknown action" 64 "$churn" models frobnicate --workdir "$wd"
expect_rc "models list in a workdir without models" 66 "$churn" models list --workdir "$tmp/none"
[ ! -e "$tmp/none" ] && ok "... which it does not create" || no "... which it does not create"
[ "$(sha256sum "$wd/artifacts/registry.json")" = "$before" ] && ok "refusals left the registry as it was" ||
	no "refusals left the registry as it was"

# --- a broken registry file -------------------------------------------------
cp "$wd/artifacts/registry.json" "$tmp/registry.saved"
cur=$(readlink -f "$wd/.current")
printf '{"format": "churn-model-registry", "format_version": 1, "versions": [{"ref": "x@v1", "name": "../x", "version": 1}], "aliases": {}, "next_version": {}, "history": []}' \
	>"$cur/artifacts/registry.json.new" && mv "$cur/artifacts/registry.json.new" "$cur/artifacts/registry.json"
expect_rc "a registry with a path in a name is refused" 65 "$churn" models list --workdir "$wd"
one_line "broken registry"
grep -q 'artifacts/registry.json: versions\[0\]' "$tmp/err" && ok "... naming the file and the entry" || no "... naming the file and the entry"
broken() { # description, registry text
	printf '%s' "$2" >"$cur/artifacts/registry.json.new" && mv "$cur/artifacts/registry.json.new" "$cur/artifacts/registry.json"
	expect_rc "$1" 65 "$churn" models list --workdir "$wd"
	one_line "$1"
	expect_rc "$1: predict refuses too" 65 "$churn" predict --workdir "$wd" --input "$tmp/customers.csv"
}
broken "a registry nested 5000 deep" "$($py -c "print('{\"a\": ' + '[' * 5000 + ']' * 5000 + '}')")"
broken "a registry of a newer format" '{"format": "churn-model-registry", "format_version": 2, "versions": [], "aliases": {}, "next_version": {}, "history": []}'
broken "an alias naming no version" '{"format": "churn-model-registry", "format_version": 1, "versions": [], "aliases": {"champion": "gbm@v1"}, "next_version": {}, "history": []}'
broken "not JSON" 'gbm@v1'
cp "$tmp/registry.saved" "$cur/artifacts/registry.json.new" && mv "$cur/artifacts/registry.json.new" "$cur/artifacts/registry.json"

# --- the version cap ----------------------------------------------------------
cap=$tmp/cap.json
printf '{"gbm.n_trees": 1, "gbm.max_depth": 1, "models.max_versions": 3}\n' >"$cap"
for n in 1 2 3; do
	"$churn" ml --workdir "$wd" --no-figures --quiet --models gbm --config "$cap" || no "capped run $n"
done
check "cap 3: three versions kept, champion and previous among them" reg "$wd" \
	"len(d['versions']) == 3 and {d['aliases']['champion'], d['aliases']['previous'], d['aliases']['challenger']} <= {v['ref'] for v in d['versions']} and d['aliases']['champion'] == '$kind@v2'"
check "cap 3: the pruned versions' files are gone, the kept ones there" consistent "$wd"
[ ! -e "$wd/artifacts/models/gbm/v5.json" ] && ok "pruned gbm@v5 is gone" || no "pruned gbm@v5 is gone"
"$churn" ml --workdir "$wd" --no-figures --quiet --models gbm --config "$cap"
check "numbers are never reused after pruning" reg "$wd" "d['versions'][-1]['ref'] == 'gbm@v8'"

# --- a workdir from before the registry ---------------------------------------
old=$tmp/old
check "churn run (to make an old workdir)" "$churn" run --workdir "$old" --source "$syn" --no-figures --quiet
cur=$(readlink -f "$old/.current")
rm -rf "$cur/artifacts/registry.json" "$cur/artifacts/models/logreg" "$cur/artifacts/models/gbm"
"$churn" models list --workdir "$old" --json >"$tmp/old-list.json" && ok "old workdir: models list" || no "old workdir: models list"
check "old workdir: v1 of each kind, the best model champion, not migrated" $py -c "
import json; d = json.load(open('$tmp/old-list.json')); m = json.load(open('$old/reports/metrics.json'))
assert d['migrated'] is False and [v['ref'] for v in d['versions']] == ['logreg@v1', 'gbm@v1']
assert d['aliases']['champion'] == m['best_model'] + '@v1' and d['versions'][0]['path'] == 'artifacts/models/logreg.json'"
"$churn" predict --workdir "$old" --input "$tmp/customers.csv" >"$tmp/p-old.csv"
best=$($py -c "import json; print(json.load(open('$old/reports/metrics.json'))['best_model'])")
"$churn" predict --input "$tmp/customers.csv" --model "$old/artifacts/models/$best.json" >"$tmp/p-oldf.csv"
check "old workdir: predict serves its best model" cmp "$tmp/p-old.csv" "$tmp/p-oldf.csv"
check "old workdir: churn ml" "$churn" ml --workdir "$old" --no-figures --quiet
check "old workdir migrated: v1 files written, this run's models v2, evaluated against v1" reg "$old" \
	"d['migrated'] and [v['ref'] for v in d['versions']] == ['logreg@v1', 'gbm@v1', 'logreg@v2', 'gbm@v2'] and d['history'][-1]['action'] == 'evaluate' and d['history'][-1]['champion'] == '$best@v1'"
check "old workdir migrated: files and sha256" consistent "$old"

# --- concurrent readers -------------------------------------------------------
# The reader resolves .current once per look (the documented rule for sets of
# files) and checks one whole registry; churn models list reads the same way.
cat >"$tmp/reader.py" <<'PYEOF'
import hashlib, json, os, subprocess, sys, time
wd, churn, stop = sys.argv[1], sys.argv[2], sys.argv[3]
looks = bad = 0
while not os.path.exists(stop):
    try:
        gen = os.path.realpath(os.path.join(wd, ".current"))
        d = json.load(open(os.path.join(gen, "artifacts/registry.json")))
        refs = {v["ref"] for v in d["versions"]}
        for v in d["versions"]:
            data = open(os.path.join(gen, "artifacts/models/%s/v%d.json" % (v["name"], v["version"])), "rb").read()
            if hashlib.sha256(data).hexdigest() != v["sha256"]:
                bad += 1; print("sha256 differs:", v["ref"])
        if any(r is not None and r not in refs for r in d["aliases"].values()):
            bad += 1; print("alias to nothing:", d["aliases"])
        r = subprocess.run([churn, "models", "list", "--json", "--workdir", wd], capture_output=True)
        if r.returncode != 0 or not json.loads(r.stdout)["aliases"]["champion"]:
            bad += 1; print("models list:", r.returncode, r.stderr[-200:])
    except FileNotFoundError as e:
        # the generation was removed between resolving and reading (two commits meanwhile): look again
        pass
    looks += 1
print("looks=%d bad=%d" % (looks, bad))
sys.exit(1 if bad or looks < 3 else 0)
PYEOF
$py "$tmp/reader.py" "$wd" "$churn" "$tmp/stop" >"$tmp/reader.out" 2>&1 &
reader_pid=$!
for n in 1 2 3; do
	"$churn" ml --workdir "$wd" --no-figures --quiet --config "$cap" || no "run $n under the reader"
	"$churn" models promote challenger --workdir "$wd" --quiet 2>/dev/null
	"$churn" models rollback --workdir "$wd" --quiet || no "rollback $n under the reader"
done
touch "$tmp/stop"
if wait "$reader_pid"; then ok "concurrent reader saw whole registries only ($(tail -1 "$tmp/reader.out"))"; else
	no "concurrent reader"; sed 's/^/#   /' "$tmp/reader.out" | tail -10; fi
reader_pid=

# --- promote under a fault or a kill at each commit step -----------------------
want=$($py -c "import json; print(json.load(open('$wd/artifacts/registry.json'))['aliases']['champion'])")
target=$($py -c "
import json; d = json.load(open('$wd/artifacts/registry.json'))
print([v['ref'] for v in d['versions'] if v['ref'] != d['aliases']['champion']][-1])")
step=1 done=0
while [ $step -le 60 ] && [ $done -eq 0 ]; do
	before=$(sha256sum "$wd/artifacts/registry.json")
	CHURN_TEST_FAIL_COMMIT_STEP=$step "$churn" models promote "$target" --workdir "$wd" --quiet 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then
		done=1
	elif [ "$(sha256sum "$wd/artifacts/registry.json")" != "$before" ] || ! consistent "$wd" >/dev/null 2>&1; then
		no "fault at commit step $step changed the published registry"
	fi
	step=$((step + 1))
done
[ $done -eq 1 ] && ok "promote failed cleanly at each of $((step - 2)) commit steps, then succeeded" || no "promote never succeeded"
check "after the faults: promoted once" reg "$wd" "d['aliases']['champion'] == '$target' and d['aliases']['previous'] == '$want'"
check "rollback before the kills" "$churn" models rollback --workdir "$wd" --quiet
step=1 done=0 killed=0
while [ $step -le 60 ] && [ $done -eq 0 ]; do
	CHURN_TEST_KILL_COMMIT_STEP=$step "$churn" models promote "$target" --workdir "$wd" --quiet 2>/dev/null
	rc=$?
	champ=$($py -c "import json; print(json.load(open('$wd/artifacts/registry.json'))['aliases']['champion'])" 2>/dev/null)
	if [ $rc -eq 0 ]; then
		done=1
	elif ! consistent "$wd" >/dev/null 2>&1 || { [ "$champ" != "$want" ] && [ "$champ" != "$target" ]; }; then
		no "kill at commit step $step left a broken registry ($champ)"
	else
		killed=$((killed + 1))
		[ "$champ" = "$target" ] && "$churn" models rollback --workdir "$wd" --quiet # killed after the switch
	fi
	step=$((step + 1))
done
[ $done -eq 1 ] && ok "promote killed at each of $killed commit steps left one whole registry" || no "promote under kills"

echo "# registry: $pass passed, $fail failed"
[ $fail -eq 0 ]
