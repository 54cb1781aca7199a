#!/bin/sh
# Build examples/*.c like an outside user (pkg-config against the
# uninstalled libchurn of this build tree) and run train_and_score on data.
# usage: check-examples.sh SRCDIR BUILDDIR CC [SANITIZERS]
# (SANITIZERS is meson's b_sanitize: an instrumented library needs an
# instrumented program, exactly as for an outside user.)
set -eu
src=$1 build=$2 cc=${3:-cc} san=${4:-none}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/churn-examples-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if ! pkg-config --exists libchurn; then
	echo "check-examples: libchurn-uninstalled.pc not found in $build/meson-uninstalled"
	exit 1
fi
flags=$(pkg-config --cflags --libs libchurn)
if [ "$san" != none ] && [ -n "$san" ]; then flags="$flags -fsanitize=$san"; fi
# shellcheck disable=SC2086
for ex in train_and_score score_csv; do
	$cc -std=c11 -Wall -Wextra -Werror "$src/examples/$ex.c" $flags -o "$tmp/$ex"
done
export LD_LIBRARY_PATH="$build/libchurn${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Data: the real Telco CSV when given, else synthetic rows written by the CLI.
data=${CHURN_TELCO_CSV:-}
if [ -z "$data" ] || [ ! -r "$data" ]; then
	data="$tmp/synth.csv"
	"$build/cli/churn" synth --rows 3000 --seed 7 --out "$data"
fi
"$tmp/train_and_score" "$data" >"$tmp/out"
cat "$tmp/out"
grep -q '^trained on .* test ROC AUC 0\.[5-9]' "$tmp/out"
grep -q '^first customer: P(churn) = 0\.' "$tmp/out"
n=$(grep -c "^  reason " "$tmp/out")
[ "$n" -ge 1 ] && [ "$n" -le 3 ]
# score_csv prints exactly what `churn predict` prints for the same model and rows
"$build/cli/churn" train --input "$data" --models logreg --out "$tmp/w" --quiet
"$tmp/score_csv" "$tmp/w/artifacts/models/logreg.json" "$data" >"$tmp/example.csv"
"$build/cli/churn" predict --model "$tmp/w/artifacts/models/logreg.json" --input "$data" >"$tmp/cli.csv"
cmp "$tmp/example.csv" "$tmp/cli.csv"
[ "$(wc -l <"$tmp/example.csv")" -gt 100 ]
# A usage error is reported, not a crash.
if "$tmp/train_and_score" >/dev/null 2>&1; then
	echo "check-examples: expected a usage error without arguments"; exit 1
fi
echo "examples: train_and_score and score_csv built via pkg-config and ran; score_csv = churn predict"
