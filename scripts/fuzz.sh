#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, replays the regression inputs
# (fuzz/regressions/<target>/: every crash found so far), then fuzzes each
# target for a bounded time from its seed corpus (fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
#
# Prints, per target, the executions and whether it crashed; a crashing
# input is kept in build-fuzz/crashes/<target>/ (copy it into
# fuzz/regressions/<target>/ and add a unit test when fixing it). Exit
# status 1 when any target crashed, 0 otherwise.
# Environment: TINYNAS_FUZZ_BUILD_DIR (default build-fuzz), TINYNAS_JOBS.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: seconds must be a positive integer, got '$seconds'" >&2; exit 2; }
build_dir=${TINYNAS_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${TINYNAS_JOBS:-$(nproc)}
targets=(spec_fuzz architecture_fuzz cost_model_fuzz)

scripts/install_deps.sh clang >/dev/null
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTINYNAS_FUZZ=ON -DTINYNAS_BUILD_WORKER=OFF -DTINYNAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target "${targets[@]}" -j"$jobs" >/dev/null

failed=0
for t in "${targets[@]}"; do
  bin=$build_dir/fuzz/$t
  crashes=$build_dir/crashes/$t
  corpus=$build_dir/corpus/$t
  log=$build_dir/$t.log
  mkdir -p "$crashes" "$corpus"
  cp fuzz/corpus/"$t"/* "$corpus"/
  if [[ -d fuzz/regressions/$t ]] &&
     ! "$bin" fuzz/regressions/"$t"/* >"$log" 2>&1; then
    echo "$t: a regression input crashes again, see $log"
    failed=1
    continue
  fi
  rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || rc=$?
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || true)
  if ((rc != 0)); then
    echo "$t: CRASH after ${runs:-?} runs: $(grep -m1 -E 'ERROR|runtime error' "$log" || echo "exit $rc"); input in $crashes/, log $log"
    failed=1
  else
    echo "$t: ${runs} runs in ${seconds} s, no crash (corpus $(ls "$corpus" | wc -l) inputs)"
  fi
done
exit "$failed"
