#!/bin/sh
# Quickstart command (1): install what is missing, build, and run the main
# job (`churn run`: fetch, profile, prepare, EDA, train, evaluate) on the
# default source into ./work (or $CHURN_WORKDIR). Idempotent: a second run
# re-uses the build and downloads nothing when the source is unchanged.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" build
"$root/scripts/build.sh"
churn="$root/build/cli/churn"
workdir=${CHURN_WORKDIR:-$root/work}
mkdir -p "$workdir"
echo "quickstart: main job (churn run) in $workdir"
err=$(mktemp "${TMPDIR:-/tmp}/churn-quickstart-XXXXXX")
trap 'rm -f "$err"' EXIT
set +e
"$churn" run --workdir "$workdir" 2>"$err"
rc=$?
set -e
[ $rc -eq 69 ] || cat "$err" >&2
if [ $rc -eq 69 ]; then
	echo "quickstart: the default source cannot be reached (no network); running on synthetic:7043 instead"
	"$churn" run --workdir "$workdir" --source synthetic:7043
	rc=$?
fi
if [ $rc -eq 0 ]; then
	echo "quickstart: done. Reports in $workdir/reports, figures in $workdir/reports/figures,"
	echo "            models in $workdir/artifacts/models. Serve them with:"
	echo "            $root/build/httpd/churn-httpd --workdir $workdir   (then open http://127.0.0.1:8080/)"
fi
exit $rc
