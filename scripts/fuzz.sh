#!/bin/sh
# Build every libFuzzer harness tests/fuzz/fuzz-*.c with clang
# (-fsanitize=fuzzer,address,undefined) against all library sources listed in
# libchurn/meson.build, and run each for SECONDS (default 60). Fails on any
# crash, leak, sanitizer report or timeout. Seeds: tests/fuzz/<name>/ when it
# exists, else tests/data/*.csv. Corpora and crash artifacts are kept in
# $FUZZ_DIR (default build-fuzz/). Usage: scripts/fuzz.sh [SECONDS] [NAME...]
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_DIR:-$root/build-fuzz}
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found (apt-get install clang)" >&2
	exit 1
fi
mkdir -p "$out/obj" "$out/include/churn" "$out/corpus" "$out/artifacts" "$out/seeds"

# churn/version.h, as meson generates it.
ver=$(sed -n "s/^ *version: *'\([0-9.]*\)'.*/\1/p" "$root/meson.build" | head -n 1)
maj=${ver%%.*}; rest=${ver#*.}; min=${rest%%.*}; pat=${rest#*.}
sed -e "s/@MAJOR@/$maj/" -e "s/@MINOR@/$min/" -e "s/@PATCH@/$pat/" -e "s/@VERSION@/$ver/" \
	"$root/include/churn/version.h.in" >"$out/include/churn/version.h.new"
if cmp -s "$out/include/churn/version.h.new" "$out/include/churn/version.h"; then
	rm -f "$out/include/churn/version.h.new"
else
	mv "$out/include/churn/version.h.new" "$out/include/churn/version.h"
fi

deps="libcurl gsl libcjson libcrypto libzstd plplot"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -DCHURN_BUILDING -fno-omit-frame-pointer
	-fsanitize=address,undefined -fno-sanitize-recover=all
	-I$out/include -I$root/include -I$root/libchurn $(pkg-config --cflags $deps)"
libs="$(pkg-config --libs $deps) -lm -lpthread"

# Library objects (rebuilt when the source or any header is newer).
srcs=$(sed -n '/churn_sources *= *files(/,/)/p' "$root/libchurn/meson.build" | grep -o "'[^']*\.c'" | tr -d "'")
newest_h=$(ls -t "$root"/libchurn/*.h "$root"/libchurn/*.def "$root"/include/churn/*.h "$root"/include/churn.h | head -n 1)
objs=""
for s in $srcs; do
	o="$out/obj/${s%.c}.o"
	if [ ! -f "$o" ] || [ -n "$(find "$root/libchurn/$s" "$newest_h" -newer "$o")" ]; then
		# shellcheck disable=SC2086
		$cc $cflags -fsanitize=fuzzer-no-link -c "$root/libchurn/$s" -o "$o"
	fi
	objs="$objs $o"
done
# An archive: each harness pulls in only the objects it needs.
rm -f "$out/libchurn-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$out/libchurn-fuzz.a" $objs

rc=0
for h in "$root"/tests/fuzz/fuzz-*.c; do
	[ -f "$h" ] || continue
	name=$(basename "$h" .c)
	if [ $# -gt 0 ]; then
		want=no
		for n in "$@"; do [ "$n" = "$name" ] && want=yes; done
		[ $want = yes ] || continue
	fi
	bin="$out/$name"
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer "$h" "$out/libchurn-fuzz.a" $libs -o "$bin"
	seeds="$out/seeds/$name"
	rm -rf "$seeds"
	mkdir -p "$seeds" "$out/corpus/$name"
	if [ -d "$root/tests/fuzz/$name" ]; then
		cp "$root/tests/fuzz/$name"/* "$seeds"/ 2>/dev/null || true
	else
		for f in "$root"/tests/data/*.csv; do
			[ -f "$f" ] && cp "$f" "$seeds"/
		done
	fi
	echo "fuzz: running $name for ${secs}s"
	if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
		"$out/corpus/$name" "$seeds" >"$out/$name.log" 2>&1; then
		echo "fuzz: $name ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$') runs)"
	else
		echo "fuzz: $name FAILED; last lines of $out/$name.log:" >&2
		tail -n 40 "$out/$name.log" >&2
		rc=1
	fi
done
exit $rc
