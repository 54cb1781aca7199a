#!/bin/sh
# Install the Debian 12 packages libchurn needs for building, testing and
# benchmarking, when missing. Works as root; uses sudo otherwise. Idempotent.
# usage: scripts/deps.sh [build|test|bench]   (default: test)
set -eu
what=${1:-test}
build_pkgs="meson ninja-build pkg-config gcc libcurl4-openssl-dev libgsl-dev libcjson-dev
libplplot-dev plplot-driver-cairo libcivetweb-dev libzstd-dev libssl-dev check libpq-dev"
# PostgreSQL: the extension (postgresql/) needs the server headers; churn publish and the library's
# postgresql:// sources and sinks libpq (its header at build time: libpq-dev above);
# tests/test-postgresql.py and test-pg-source.py start their own cluster and talk to it with psycopg2
test_pkgs="clang libclang-rt-14-dev zstd chromium wrk r-base-core r-cran-survival postgresql-15
postgresql-server-dev-15 python3-psycopg2"
bench_pkgs="python3-pandas python3-sklearn python3-xgboost python3-matplotlib python3-seaborn
python3-fastapi python3-uvicorn time hyperfine"
case $what in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
bench) pkgs="$build_pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 64 ;;
esac
# Node.js and npm (independent Parquet readers, the browser driver) may come
# from elsewhere than Debian: ask for Debian's only when the commands are absent.
if [ "$what" != build ]; then
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
	[ -x /usr/bin/python3 ] || pkgs="$pkgs python3"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Node packages used by tests and benchmarks (independent Parquet readers,
# the browser driver), installed into the project's node_modules.
if [ "$what" != build ]; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	if [ ! -d "$root/node_modules/@duckdb/node-api" ] || [ ! -d "$root/node_modules/playwright-core" ] ||
	   [ ! -d "$root/node_modules/hyparquet" ]; then
		echo "deps: installing node packages (@duckdb/node-api, hyparquet, playwright-core)"
		(cd "$root" && npm install --no-audit --no-fund --silent >/dev/null)
	fi
fi
