#!/bin/sh
# ABI check: the CHURN_API names in the public headers, the names in
# libchurn.map and the dynamic symbols of libchurn.so must be the same sets,
# and the library must export nothing but churn_* symbols.
# usage: check-abi.sh SRCDIR LIBCHURN_SO
set -eu
src=$1 lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Declarations: "CHURN_API ... churn_name(" possibly over two lines.
cat "$src"/include/churn/*.h "$src"/include/churn/version.h.in |
	tr '\n' ' ' | sed 's/;/;\n/g' | grep 'CHURN_API' |
	grep -o 'churn_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' | sort -u >"$tmp/hdr"
sed 's:/\*.*\*/::' "$src/libchurn/libchurn.map" | grep -o '^[[:space:]]*churn_[a-z0-9_]*;' |
	tr -d ' \t;' | sort -u >"$tmp/map"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$tmp/so"
rc=0
if ! diff -u "$tmp/hdr" "$tmp/map" >"$tmp/d1"; then
	echo "header CHURN_API names (-) differ from libchurn.map (+):"; cat "$tmp/d1"; rc=1
fi
if ! diff -u "$tmp/map" "$tmp/so" >"$tmp/d2"; then
	echo "libchurn.map (-) differs from nm -D of $lib (+):"; cat "$tmp/d2"; rc=1
fi
if grep -v '^churn_' "$tmp/so" >"$tmp/bad"; then
	echo "non-churn_ exported symbols:"; cat "$tmp/bad"; rc=1
fi
n=$(wc -l <"$tmp/so")
[ $rc -eq 0 ] && echo "abi: $n symbols agree across headers, map and library"
exit $rc
