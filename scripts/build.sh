#!/bin/sh
# Configure (once) and build libchurn into build/ (or $CHURN_BUILD_DIR).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHURN_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=debugoptimized ${CHURN_MESON_ARGS:-} >/dev/null
fi
ninja -C "$build" >/dev/null
echo "build: $build"
