#!/usr/bin/env bash
# Runs every tinynas test: installs the Debian packages that are missing
# (scripts/install_deps.sh), configures and builds the whole tree (Release)
# into build/, then runs ctest. Exits non-zero when anything fails.
#
#   scripts/run_tests.sh              # everything
#   scripts/run_tests.sh -L e2e       # extra arguments go to ctest
#
# Environment: TINYNAS_BUILD_DIR (default build), TINYNAS_JOBS (default nproc).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${TINYNAS_BUILD_DIR:-build}
jobs=${TINYNAS_JOBS:-$(nproc)}

log() { printf '\n== %s\n' "$*"; }

log "installing missing packages"
scripts/install_deps.sh

log "configuring $build_dir (Release)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_TESTS=ON \
  -DTINYNAS_BUILD_WORKER=ON >/dev/null

log "building with $jobs jobs"
start=$SECONDS
cmake --build "$build_dir" -j"$jobs"
echo "build took $((SECONDS - start)) s"

log "running tests"
# Tests that must run alone (the end-to-end search) are marked RUN_SERIAL in
# their CMakeLists; the rest run two at a time.
start=$SECONDS
status=0
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j2 "$@" || status=$?
echo "tests took $((SECONDS - start)) s"
exit "$status"
