#!/bin/sh
# The run commit is atomic as a whole (issue 10, item 10), and failed runs
# keep the previous good files and say when their record is lost (item 14):
#  - a second `churn run` fails (CHURN_TEST_FAIL_COMMIT_STEP=N) or is killed
#    (CHURN_TEST_KILL_COMMIT_STEP=N) at commit step 1, 2, ... until a run
#    completes without reaching step N; strace's fault injection does the same
#    on the renames (this also runs on builds without the hook). After each,
#    the published set (tests/commit-check.py) must be one run's, and after a
#    kill the next run must succeed;
#  - a read-only reports/figures (as an unprivileged user: chmod does not stop
#    root) leaves one run's set;
#  - a source rejected after download (csv.max_rows, fetch.max_bytes) leaves
#    the previous raw file and nothing else in data/raw;
#  - a failed run whose record cannot be written says so on stderr (every step
#    of the record's commit failed in turn; a full tmpfs when we may mount one).
# usage: test-commit.sh CHURN_BINARY
# CHURN_COMMIT_TEST_MAX_STEPS bounds the steps tried (default 400).
set -u
churn=$1
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
chk="$py $here/commit-check.py"
tmp=$(mktemp -d /tmp/churn-commit-XXXXXX)
chmod 755 "$tmp"
pass=0 fail=0
max_steps=${CHURN_COMMIT_TEST_MAX_STEPS:-400}
cleanup() {
	mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
	chmod -R u+w "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
log_lines() { if [ -f "$1/logs/pipeline.log" ]; then wc -l <"$1/logs/pipeline.log"; else echo 0; fi; }
json_get() { $py -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
leftovers() { # workdir -> what a finished run must not leave behind
	(cd "$1" && find . -name '*.tmp.*' -o -name .staging -o -name '.incoming*' -o -name '*.new' | sort)
	if [ -d "$1/.gen" ]; then
		n=$(find "$1/.gen" -mindepth 1 -maxdepth 1 -type d | wc -l)
		[ "$n" -le 2 ] || echo "$n generations kept"
	fi
}

# second_run KIND FIGS: the arguments of the run under test. run: churn run on
# new data (seed 2); ml: churn ml with another split (new models, same data;
# --config replaces the workdir's churn.json, hence max_records again).
printf '{"split": {"seed": 7}, "workdir": {"max_records": 100000}}\n' >"$tmp/split7.json"
second_run() {
	case $1 in
	run) echo "run --source synthetic:2000?seed=2 $2" ;;
	ml) echo "ml --config $tmp/split7.json $2" ;;
	esac
}

# old_layout WD: real directories instead of the generation links (an earlier version's workdir)
old_layout() {
	for t in reports artifacts data/processed; do
		cp -rL "$1/$t" "$1/$t.real" && rm "$1/$t" && mv "$1/$t.real" "$1/$t" || return 1
	done
	rm -rf "$1/.gen" "$1/.current" "$1/.previous"
}

# prepare NAME FIGS KIND [old]: a first run (seed 1) and its manifest; the
# second run, clean, on a copy gives the new data's sha256 and the files equal
# in both. With "old", the workdir is turned into an earlier version's (kept
# as NAME.pristine: each try starts from it).
prepare() {
	wd=$tmp/$1
	mkdir -p "$wd"
	printf '{"workdir": {"max_records": 100000}}\n' >"$wd/churn.json"
	"$churn" run --workdir "$wd" --source 'synthetic:2000?seed=1' $2 --quiet || return 1
	if [ "${4:-}" = old ]; then
		old_layout "$wd" && rm -rf "$tmp/$1.pristine" && cp -a "$wd" "$tmp/$1.pristine" || return 1
	fi
	$chk save "$wd" "$tmp/$1.a.json" || return 1
	rm -rf "$tmp/ctl" && cp -a "$wd" "$tmp/ctl" || return 1
	"$churn" $(second_run "$3" "$2") --workdir "$tmp/ctl" --quiet || return 1
	$chk save "$tmp/ctl" "$tmp/$1.b.json" && $chk same "$tmp/$1.a.json" "$tmp/$1.b.json" "$tmp/$1.same.json"
}

# fault_loop NAME FIGS HOW KIND [old]: the second run with a fault at commit
# step n = 1, 2, ... until a run completes without reaching it.
# HOW: fail | kill (the test hook), strace-fail | strace-kill (rename, link and
# symlink calls). With "old", each try starts from the earlier version's workdir.
fault_loop() {
	name=$1 figs=$2 how=$3 kind=$4 reset=${5:-}
	wd=$tmp/$name
	newsha=$(json_get "$tmp/$name.b.json" sha256)
	args=$(second_run "$kind" "$figs")
	calls=rename,renameat,renameat2,link,linkat,symlink,symlinkat
	n=1 bad=0 nA=0 nB=0 next_bad=0
	while [ $n -le "$max_steps" ]; do
		[ "$reset" = old ] && { rm -rf "$wd" && cp -a "$tmp/$name.pristine" "$wd"; }
		before=$(log_lines "$wd")
		set -- $args --workdir "$wd" --quiet
		case $how in
		fail) CHURN_TEST_FAIL_COMMIT_STEP=$n "$churn" "$@" >/dev/null 2>"$tmp/err" ;;
		kill) CHURN_TEST_KILL_COMMIT_STEP=$n "$churn" "$@" >/dev/null 2>"$tmp/err" ;;
		# (LeakSanitizer cannot run under ptrace: off for the traced runs of a sanitizer build)
		strace-fail) ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$tmp/strace" \
			-e trace=$calls -e inject=$calls:error=EIO:when=$n "$churn" "$@" >/dev/null 2>"$tmp/err" ;;
		strace-kill) ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$tmp/strace" \
			-e trace=$calls -e inject=$calls:signal=SIGKILL:when=$n "$churn" "$@" >/dev/null 2>"$tmp/err" ;;
		esac
		rc=$?
		case $how in
		strace-*) grep -q 'INJECTED\|SIGKILL' "$tmp/strace" && hit=1 || hit=0 ;;
		*) tail -n +$((before + 1)) "$wd/logs/pipeline.log" | grep -q "commit step $n .*CHURN_TEST_" && hit=1 || hit=0 ;;
		esac
		[ $hit -eq 1 ] || break
		if out=$($chk check "$wd" "$tmp/$name.a.json" "$tmp/$name.same.json" "$newsha" 2>&1); then
			case $out in A*) nA=$((nA + 1)) ;; *) nB=$((nB + 1)) ;; esac
		else
			bad=$((bad + 1))
			if [ $bad -le 3 ]; then
				echo "# $name: $how at step $n (exit $rc: $(head -c 200 "$tmp/err")):"
				echo "$out" | sed 's/^/#   /'
			fi
		fi
		case $how in
		*kill)
			# the next run (on a copy, to keep trying from the same state) succeeds
			rm -rf "$tmp/next" && cp -a "$wd" "$tmp/next"
			if ! "$churn" $args --workdir "$tmp/next" --quiet >/dev/null 2>"$tmp/err2" ||
				! $chk check "$tmp/next" "$tmp/$name.a.json" "$tmp/$name.same.json" "$newsha" >"$tmp/out2" 2>&1 ||
				[ -n "$(leftovers "$tmp/next")" ]; then
				next_bad=$((next_bad + 1))
				[ $next_bad -le 2 ] && { echo "# $name: the run after a kill at step $n:"; cat "$tmp/err2" "$tmp/out2"; leftovers "$tmp/next"; } | sed 's/^/#   /'
			fi
			;;
		esac
		n=$((n + 1))
	done
	steps=$((n - 1))
	if [ $n -gt "$max_steps" ]; then
		no "$name: still injecting at step $max_steps (CHURN_COMMIT_TEST_MAX_STEPS)"
		return
	fi
	if [ $steps -eq 0 ]; then
		no "$name: no commit step was injected ($how: is the CHURN_TEST_*_COMMIT_STEP hook there?)"
		return
	fi
	if [ $bad -eq 0 ]; then
		ok "$name: $how at each of $steps commit steps left one run's set ($nA times the previous, $nB the new)"
	else
		no "$name: $how at $bad of $steps commit steps left a mixed set"
	fi
	case $how in *kill)
		[ $next_bad -eq 0 ] && ok "$name: the run after each kill succeeds and cleans up" ||
			no "$name: the run after a kill failed or left files behind $next_bad times" ;;
	esac
	if [ $rc -eq 0 ] && $chk check "$wd" "$tmp/$name.a.json" "$tmp/$name.same.json" "$newsha" >"$tmp/out" 2>&1 &&
		grep -q '^B' "$tmp/out" && [ -z "$(leftovers "$wd")" ]; then
		ok "$name: the run without a fault published the new set and left nothing behind"
	else
		no "$name: the run without a fault (exit $rc)"
		{ cat "$tmp/err" "$tmp/out"; leftovers "$wd"; } | sed 's/^/#   /'
	fi
}

# --- faults at every commit step ---------------------------------------------
# loop NAME FIGS HOW KIND [old]
loop() { if prepare "$1" "$2" "$4" "${5:-}"; then fault_loop "$@"; else no "$1: first runs"; fi; }
loop hook-fail --no-figures fail run
loop hook-kill "" kill run
loop ml-fail "" fail ml
loop ml-kill --no-figures kill ml
# an earlier version's workdir: its migration's steps come first
loop migrate-fail --no-figures fail run old
loop migrate-kill "" kill run old
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	loop strace-fail "" strace-fail run
	loop strace-kill --no-figures strace-kill run
else
	echo "# SKIP strace fault injection: strace cannot trace here"
fi

# --- readers during commits ----------------------------------------------------
# A reader that resolves the published generation once (as churn_report_* do)
# reads metrics.json, run_metadata.json and source.json of one set, also when
# a commit switches meanwhile (the previous generation is kept a commit longer).
cw=$tmp/readers
if "$churn" run --workdir "$cw" --source 'synthetic:2000?seed=1' --no-figures --quiet; then
	$py - "$cw" >"$tmp/reader.out" 2>&1 <<'PYEOF' &
import json, os, sys, time
wd = sys.argv[1]
reads = bad = 0
end = time.time() + 6
while time.time() < end:
    gen = os.path.realpath(os.path.join(wd, ".current"))
    try:
        met = json.load(open(gen + "/reports/metrics.json"))
        time.sleep(0.003)
        src = json.load(open(gen + "/data/processed/source.json"))
        runs = json.load(open(gen + "/reports/run_metadata.json"))["runs"]
        ok = {r["run_id"] for r in runs if r["status"] == "succeeded"}
        if met["run_id"] not in ok or src["run_id"] not in ok:
            bad += 1
            print("inconsistent", gen)
        reads += 1
    except Exception as e:
        bad += 1
        print("error", gen, e)
print("reads", reads, "bad", bad)
sys.exit(1 if bad or reads == 0 else 0)
PYEOF
	reader=$!
	end=$(($(date +%s) + 5))
	i=0
	while [ "$(date +%s)" -lt $end ]; do
		"$churn" run --workdir "$cw" --source "synthetic:2000?seed=$i" --no-figures --quiet >/dev/null 2>&1 && i=$((i + 1))
	done
	if wait $reader; then ok "a pinned reader saw one run's files over $i commits ($(tail -1 "$tmp/reader.out"))"; else
		no "a pinned reader saw a mix"; sed 's/^/#   /' "$tmp/reader.out" | head; fi
	# files a run did not rewrite keep their inode (churn-httpd's caches key on it)
	before=$(stat -L -c %i "$cw/data/processed/churn.csv" "$cw/reports/summary.json" "$cw/artifacts/prep.json")
	"$churn" ml --workdir "$cw" --no-figures --quiet
	after=$(stat -L -c %i "$cw/data/processed/churn.csv" "$cw/reports/summary.json" "$cw/artifacts/prep.json")
	[ "$before" = "$after" ] && ok "churn ml keeps the data run's files (same inodes)" || no "churn ml changed the data run's inodes"
else
	no "readers: first run"
fi

# --- churn run publishes its two runs together ---------------------------------
# Its ML run fails (an unknown model): nothing of its data run is published
# either, and both are recorded as failed.
uw=$tmp/unpub
if "$churn" run --workdir "$uw" --source 'synthetic:1000?seed=1' --no-figures --quiet && $chk save "$uw" "$tmp/unpub.a.json"; then
	"$churn" run --workdir "$uw" --source 'synthetic:1000?seed=2' --no-figures --models logreg,nosuch --quiet >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ] && $chk records "$uw" "$tmp/unpub.a.json" >"$tmp/out" 2>&1 &&
		$py -c '
import json, sys
runs = json.load(open(sys.argv[1]))["runs"][-2:]
assert [r["pipeline"] for r in runs] == ["data", "ml"], runs
assert all(r["status"] == "failed" for r in runs)
assert runs[0]["error"].startswith("not published: the ml run "), runs[0]["error"]
' "$uw/reports/run_metadata.json" >>"$tmp/out" 2>&1; then
		ok "churn run whose ML run fails publishes nothing of its data run (exit $rc; both recorded as failed)"
	else
		no "churn run whose ML run fails (exit $rc)"
		sed 's/^/#   /' "$tmp/err" "$tmp/out"
	fi
else
	no "unpub: first run"
fi

# --- a read-only reports/figures ---------------------------------------------
# root ignores directory permissions, so the runs are made as nobody.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir -p "$tmp/ro"
chown 65534:65534 "$tmp/ro"
if [ "$(id -u)" -ne 0 ] || ! as_nobody "$churn" version >/dev/null 2>&1; then
	echo "# SKIP read-only figures: cannot run churn as an unprivileged user"
else
	rw=$tmp/ro/wd
	if as_nobody "$churn" run --workdir "$rw" --source 'synthetic:2000?seed=1' --quiet &&
		$chk save "$rw" "$tmp/ro.a.json" && as_nobody cp -a "$rw" "$tmp/ro/ctl" &&
		as_nobody "$churn" run --workdir "$tmp/ro/ctl" --source 'synthetic:2000?seed=2' --quiet &&
		$chk save "$tmp/ro/ctl" "$tmp/ro.b.json" && $chk same "$tmp/ro.a.json" "$tmp/ro.b.json" "$tmp/ro.same.json"; then
		as_nobody chmod a-w "$rw/reports/figures"
		as_nobody "$churn" run --workdir "$rw" --source 'synthetic:2000?seed=2' --quiet >/dev/null 2>"$tmp/err"
		rc=$?
		if $chk check "$rw" "$tmp/ro.a.json" "$tmp/ro.same.json" "$(json_get "$tmp/ro.b.json" sha256)" >"$tmp/out" 2>&1; then
			ok "read-only reports/figures: one run's set (exit $rc, $(head -1 "$tmp/out"))"
		else
			no "read-only reports/figures left a mixed set (exit $rc: $(head -c 200 "$tmp/err"))"
			sed 's/^/#   /' "$tmp/out"
		fi
		if as_nobody "$churn" run --workdir "$rw" --source 'synthetic:2000?seed=3' --quiet >/dev/null 2>"$tmp/err"; then
			ok "read-only reports/figures: the next run succeeds"
		else
			no "read-only reports/figures: the next run fails: $(head -c 200 "$tmp/err")"
		fi
	else
		no "read-only figures: first runs"
	fi
fi

# --- a source rejected after download stays out of data/raw ------------------
sw=$tmp/size
mkdir -p "$sw"
"$churn" synth --rows 500 --seed 1 --out "$tmp/src.csv" 2>/dev/null
if "$churn" data --workdir "$sw" --source "$tmp/src.csv" --no-figures --quiet; then
	good=$(cd "$sw/data/raw" && sha256sum src.csv src.csv.meta.json)
	"$churn" synth --rows 3000 --seed 2 --out "$tmp/src.csv" 2>/dev/null
	for cfg in '{"csv": {"max_rows": 1000}}' '{"fetch": {"max_bytes": 200000}}'; do
		printf '%s\n' "$cfg" >"$sw/churn.json"
		"$churn" data --workdir "$sw" --source "$tmp/src.csv" --no-figures --quiet >/dev/null 2>"$tmp/err"
		rc=$?
		now=$(cd "$sw/data/raw" && sha256sum src.csv src.csv.meta.json 2>&1)
		extra=$(ls -A "$sw/data/raw" | grep -v '^src\.csv$' | grep -v '^src\.csv\.meta\.json$')
		if [ $rc -eq 65 ] && [ "$now" = "$good" ] && [ -z "$extra" ]; then
			ok "source rejected by $cfg: exit 65, data/raw keeps the previous file only"
		else
			no "source rejected by $cfg: exit $rc, data/raw: $(ls -A "$sw/data/raw" | tr '\n' ' ')"
			sed 's/^/#   /' "$tmp/err"
		fi
	done
	rm -f "$sw/churn.json"
	# a CSV error found after the download
	printf 'customerID,tenure,Churn\nA,1,Yes\nB,2\n' >"$tmp/src.csv"
	"$churn" data --workdir "$sw" --source "$tmp/src.csv" --no-figures --quiet >/dev/null 2>"$tmp/err"
	rc=$?
	now=$(cd "$sw/data/raw" && sha256sum src.csv src.csv.meta.json 2>&1)
	if [ $rc -eq 65 ] && [ "$now" = "$good" ] && [ "$(ls -A "$sw/data/raw" | wc -l)" -eq 2 ]; then
		ok "source with a CSV error: exit 65, data/raw keeps the previous file only"
	else
		no "source with a CSV error: exit $rc, data/raw: $(ls -A "$sw/data/raw" | tr '\n' ' ')"
	fi
	if "$churn" ml --workdir "$sw" --no-figures --quiet 2>"$tmp/err"; then
		ok "churn ml still runs on the previous raw file"
	else
		no "churn ml after a rejected source: $(head -c 200 "$tmp/err")"
	fi
else
	no "size: first data run"
fi

# --- a failed run whose record cannot be written says so ---------------------
# The run fails (its source is missing); its record's commit fails at step n.
rw=$tmp/rec
if "$churn" run --workdir "$rw" --source 'synthetic:1000?seed=1' --no-figures --quiet && $chk save "$rw" "$tmp/rec.a.json"; then
	n=1 bad=0 said=0
	while [ $n -le "$max_steps" ]; do
		before=$(log_lines "$rw")
		cp "$rw/reports/run_metadata.json" "$tmp/rec.runs"
		CHURN_TEST_FAIL_COMMIT_STEP=$n "$churn" data --workdir "$rw" --source "$tmp/none.csv" --quiet >/dev/null 2>"$tmp/err"
		rc=$?
		tail -n +$((before + 1)) "$rw/logs/pipeline.log" | grep -q "commit step $n .*CHURN_TEST_" || break
		recorded=0
		cmp -s "$rw/reports/run_metadata.json" "$tmp/rec.runs" || recorded=1
		if grep -q 'run record could not be written' "$tmp/err"; then
			said=$((said + 1))
			[ $recorded -eq 0 ] && [ "$(grep -c . "$tmp/err")" -eq 2 ] || { bad=$((bad + 1)); echo "# step $n: said lost, recorded=$recorded"; sed 's/^/#   /' "$tmp/err"; }
		else
			[ $recorded -eq 1 ] || { bad=$((bad + 1)); echo "# step $n: record lost silently (exit $rc)"; sed 's/^/#   /' "$tmp/err"; }
		fi
		[ $rc -eq 66 ] || { bad=$((bad + 1)); echo "# step $n: exit $rc, want 66"; }
		$chk records "$rw" "$tmp/rec.a.json" >"$tmp/out" 2>&1 || { bad=$((bad + 1)); echo "# step $n:"; sed 's/^/#   /' "$tmp/out"; }
		n=$((n + 1))
	done
	if [ $n -gt 1 ] && [ $bad -eq 0 ] && [ $said -gt 0 ]; then
		ok "a failed run's record lost at any of $((n - 1)) steps is said on stderr ($said times), kept otherwise; outputs intact"
	else
		no "a failed run's record (steps $((n - 1)), $bad bad, said $said times)"
	fi
else
	no "rec: first run"
fi

# full disk: a small tmpfs (needs root; skipped otherwise)
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=3m tmpfs "$tmp/full" 2>/dev/null; then
	fw=$tmp/full/wd
	if "$churn" run --workdir "$fw" --source "synthetic:1000?seed=3" --no-figures --quiet && $chk save "$fw" "$tmp/full.a.json"; then
		dd if=/dev/zero of="$tmp/full/filler" bs=16k 2>/dev/null
		"$churn" run --workdir "$fw" --source "synthetic:1000?seed=4" --no-figures --quiet >/dev/null 2>"$tmp/err"
		rc=$?
		if [ $rc -ne 0 ] && grep -q 'run record could not be written.*No space left' "$tmp/err"; then
			ok "full disk: exit $rc and stderr says the run record could not be written"
		else
			no "full disk: exit $rc, stderr does not say the record is lost"
			sed 's/^/#   /' "$tmp/err"
		fi
		$chk records "$fw" "$tmp/full.a.json" >"$tmp/out" 2>&1 && ok "full disk: earlier outputs and records intact" ||
			{ no "full disk: earlier outputs changed"; sed 's/^/#   /' "$tmp/out"; }
		rm -f "$tmp/full/filler"
		if "$churn" run --workdir "$fw" --source "synthetic:1000?seed=4" --no-figures --quiet 2>"$tmp/err" &&
			[ -z "$(leftovers "$fw")" ]; then
			ok "full disk: the next run succeeds and leaves nothing behind"
		else
			no "full disk: the next run: $(head -c 200 "$tmp/err") $(leftovers "$fw")"
		fi
	else
		no "full disk: first run"
	fi
	umount "$tmp/full"
else
	echo "# SKIP full-disk case: cannot mount a tmpfs (not root)"
fi

echo "# commit: $pass passed, $fail failed"
[ $fail -eq 0 ]
