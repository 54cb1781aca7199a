#!/bin/sh
# include/churn/param-keys.h is what scripts/gen-param-keys.py makes of
# libchurn/params-keys.def, and no code names a params key by a string literal
# (a typo in a literal reads the key's zero; a typo in CHURN_KEY_* does not compile).
# usage: check-param-keys.sh SOURCE_ROOT
set -eu
root=$1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$py" "$root/scripts/gen-param-keys.py" "$root/libchurn/params-keys.def" >"$tmp"
if ! cmp -s "$tmp" "$root/include/churn/param-keys.h"; then
	echo "include/churn/param-keys.h is stale: run scripts/gen-param-keys.py libchurn/params-keys.def > include/churn/param-keys.h" >&2
	exit 1
fi
cd "$root"
files=$(ls libchurn/*.c libchurn/*.h cli/*.c cli/*.h httpd/*.c httpd/*.h examples/*.c postgresql/*.c 2>/dev/null || true)
"$py" scripts/use-param-keys.py --check libchurn/params-keys.def $files
echo "param-keys: header current, no key literals in $(echo "$files" | wc -w) files"
