#!/bin/sh
# Quickstart command (2): install what is missing, build, and run every test
# suite: the normal gcc build (-Werror), a clang build (-Werror), an
# AddressSanitizer + UndefinedBehaviorSanitizer build running the whole suite
# again, and every libFuzzer harness for 60 s. Ends with the runner's summary
# of each run. Idempotent. Exit status 0 only when everything passed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test
cd "$root"
: "${CHURN_TELCO_CSV:=$root/../shared/data/telco-customer-churn.csv}"
# Tests run from other directories: make the path absolute.
case $CHURN_TELCO_CSV in /*) ;; *) CHURN_TELCO_CSV=$(pwd)/$CHURN_TELCO_CSV ;; esac
export CHURN_TELCO_CSV
[ -r "$CHURN_TELCO_CSV" ] || echo "test: $CHURN_TELCO_CSV is absent; real-data cases will be skipped"
logs=$(mktemp -d "${TMPDIR:-/tmp}/churn-test-logs-XXXXXX")
trap 'rm -rf "$logs"' EXIT

setup() { # dir, extra meson args...
	dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	else
		meson configure "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

# Run meson test, keep its output, remember its summary block.
run_suite() { # name, meson test args...
	name=$1; shift
	set +e
	meson test "$@" 2>&1 | tee "$logs/$name.log"
	set -e
	grep -E '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout): ' "$logs/$name.log" >"$logs/$name.summary" || true
	if ! grep -q '^Ok: ' "$logs/$name.summary" || grep -qE '^(Fail|Timeout|Unexpected Pass): +[1-9]' "$logs/$name.summary"; then
		rc=1
	fi
}

rc=0
echo "== normal build (gcc, -Werror) =="
setup build-test --buildtype=debugoptimized
run_suite normal -C build-test --print-errorlogs --num-processes 2

echo "== clang build (-Wall -Wextra -Werror; compile only) =="
if [ ! -f build-clang/build.ninja ]; then
	CC=clang meson setup build-clang -Dwerror=true --buildtype=debugoptimized >/dev/null
fi
if ninja -C build-clang >/dev/null; then clang_ok=yes; else clang_ok=no; rc=1; fi

echo "== sanitizer build (address,undefined) =="
setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
# fontconfig (under cairo, under plplot) keeps caches it never frees: suppressed, nothing else.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/data/eda-lsan.supp:print_suppressions=0
run_suite asan -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

fuzz_ok=skipped
if [ -x "$root/scripts/fuzz.sh" ]; then
	echo "== fuzzing (libFuzzer, clang, 60 s per harness) =="
	if "$root/scripts/fuzz.sh" 60; then fuzz_ok=yes; else fuzz_ok=no; rc=1; fi
fi

echo
echo "== summary =="
echo "normal build (gcc -Werror):"
sed 's/^/  /' "$logs/normal.summary"
echo "sanitizer build (address,undefined):"
sed 's/^/  /' "$logs/asan.summary"
echo "clang -Werror build: $clang_ok"
echo "fuzzing: $fuzz_ok"
if [ $rc -eq 0 ]; then echo "test: all passed"; else echo "test: FAILED"; fi
exit $rc
