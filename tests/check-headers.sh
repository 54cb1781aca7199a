#!/bin/sh
# Every public header compiles alone and twice, as C11 pedantic and as C++.
# usage: check-headers.sh SRCDIR BUILDDIR CC CXX
set -eu
src=$1 build=$2 cc=$3 cxx=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc="-I$src/include -I$build/include"
rc=0
for h in "$src"/include/churn.h "$src"/include/churn/*.h; do
	name=churn/$(basename "$h")
	[ "$(basename "$h")" = churn.h ] && name=churn.h
	printf '#include <%s>\n#include <%s>\nint main(void){return 0;}\n' "$name" "$name" >"$tmp/t.c"
	if ! $cc -std=c11 -pedantic-errors -Wall -Wextra -Werror $inc -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL (C): $name"; rc=1
	fi
	if [ -n "$cxx" ] && command -v "$cxx" >/dev/null 2>&1; then
		cp "$tmp/t.c" "$tmp/t.cc"
		if ! $cxx -std=c++11 -Wall -Wextra -Werror $inc -c "$tmp/t.cc" -o "$tmp/t.o"; then
			echo "FAIL (C++): $name"; rc=1
		fi
	fi
done
[ $rc -eq 0 ] && echo "headers: all compile alone, twice, in C11 and C++"
exit $rc
