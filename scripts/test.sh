#!/bin/sh
# Quickstart command (2): install what is missing, build, and run every test
# suite: the normal build (with -Werror) and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, then the CSV fuzzer for 60 s. Ends with the
# runner's summary. Idempotent.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test
cd "$root"
: "${CHURN_TELCO_CSV:=$root/../shared/data/telco-customer-churn.csv}"
export CHURN_TELCO_CSV
# Tests run from other directories: make the path absolute.
case $CHURN_TELCO_CSV in /*) ;; *) CHURN_TELCO_CSV=$(pwd)/$CHURN_TELCO_CSV ;; esac
[ -r "$CHURN_TELCO_CSV" ] || echo "test: $CHURN_TELCO_CSV is absent; real-data cases will be skipped"

setup() { # dir, extra meson args...
	dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	else
		meson configure "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

rc=0
echo "== normal build (gcc, -Werror) =="
setup build-test --buildtype=debugoptimized
meson test -C build-test --print-errorlogs --num-processes 2 || rc=1

echo "== clang build (-Wall -Wextra -Werror; compile only) =="
if [ ! -f build-clang/build.ninja ]; then
	CC=clang meson setup build-clang -Dwerror=true --buildtype=debugoptimized >/dev/null
fi
ninja -C build-clang >/dev/null || rc=1

echo "== sanitizer build (address,undefined) =="
setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
# fontconfig (under cairo, under plplot) keeps caches it never frees: suppressed, nothing else.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$root/tests/data/eda-lsan.supp:print_suppressions=0 \
	meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4 || rc=1

if [ -x "$root/scripts/fuzz.sh" ]; then
	echo "== fuzzing (libFuzzer, clang) =="
	"$root/scripts/fuzz.sh" 60 || rc=1
fi
exit $rc
