#!/bin/sh
# Quickstart command (1): install what is missing, build, and run the main job
# on the default source into ./work. Idempotent.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" build
"$root/scripts/build.sh"
churn="$root/build/cli/churn"
workdir=${CHURN_WORKDIR:-$root/work}
mkdir -p "$workdir"
source_url="https://raw.githubusercontent.com/IBM/telco-customer-churn-on-icp4d/master/data/Telco-Customer-Churn.csv"
if "$churn" help 2>/dev/null | grep -q '^  run '; then
	job="run"
else
	job="fetch+profile"
fi
echo "quickstart: main job ($job) in $workdir"
if [ "$job" = run ]; then
	if ! "$churn" run --workdir "$workdir" --source "$source_url"; then
		rc=$?
		if [ $rc -eq 69 ]; then
			echo "quickstart: the default source cannot be reached (no network); running on synthetic:7043 instead"
			exec "$churn" run --workdir "$workdir" --source synthetic:7043
		fi
		exit $rc
	fi
else
	src="$source_url"
	if ! "$churn" fetch --workdir "$workdir" --source "$src" --out "$workdir/data/raw/telco.csv"; then
		rc=$?
		[ $rc -eq 69 ] || exit $rc
		echo "quickstart: the default source cannot be reached (no network); running on synthetic:7043 instead"
		"$churn" fetch --workdir "$workdir" --source synthetic:7043 --out "$workdir/data/raw/telco.csv"
	fi
	"$churn" profile --workdir "$workdir" --input "$workdir/data/raw/telco.csv"
fi
