#!/bin/sh
# Configure (once) and build libchurn into build/ (or $CHURN_BUILD_DIR).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHURN_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
	# -O3 with debug info: what the quickstart runs and the benchmarks measure
	meson setup "$build" "$root" --buildtype=release -Ddebug=true ${CHURN_MESON_ARGS:-} >/dev/null
fi
ninja -C "$build" >/dev/null
echo "build: $build"
