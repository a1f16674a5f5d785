#!/usr/bin/env bash
# int8 against float accuracy on the Pareto front of real searches.
#
#   bench/int8/front.sh            (about 10 min on 2 cores)
#
# For every data set (bench/int8/<name>.yaml: fashion-mnist and ecg5000) it
# runs the search on a private controller with its own PostgreSQL and
# workers, then prints, for every trial on the front, the float validation
# accuracy, the int8 one (the mcu/ runtime's integer kernels on the whole
# validation split) and the drop, with the median drop and the ratio int8 /
# float of the front's median accuracy. The aim: a drop of at most 1 point.
# Trials with training.qat_epochs are not part of this run.
#
# Builds nas-controller, nas-worker and nasctl (Release) unless
# BENCH_NO_BUILD=1, and stops everything it started on exit.
#
# Environment: TINYNAS_BUILD_DIR (default build), TINYNAS_JOBS (default
# nproc), BENCH_OUT (default bench/int8/out), BENCH_DATASETS (default
# "fashion-mnist ecg5000"), BENCH_WORKERS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
here=bench/int8
build_dir=${TINYNAS_BUILD_DIR:-build}
jobs=${TINYNAS_JOBS:-$(nproc)}
out=${BENCH_OUT:-$here/out}
datasets=${BENCH_DATASETS:-fashion-mnist ecg5000}
num_workers=${BENCH_WORKERS:-2}
python=/usr/bin/python3

die() { echo "bench/int8: $*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }
for ds in $datasets; do
  [[ -f $here/$ds.yaml ]] || die "no spec $here/$ds.yaml for data set '$ds'"
done

source scripts/lib/stack.sh
stack_init bench/int8
stack_remove_pg=1

scripts/install_deps.sh || die "installing the packages failed"
controller_bin=$build_dir/controller/nas-controller
worker_bin=$build_dir/worker/nas-worker
nasctl_bin=$build_dir/nasctl/nasctl
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  [[ -f $build_dir/CMakeCache.txt ]] ||
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_WORKER=ON >/dev/null
  stack_run_bg cmake --build "$build_dir" --target nas-controller nas-worker nasctl -j"$jobs" \
    >/dev/null || die "build failed"
fi
for bin in "$controller_bin" "$worker_bin" "$nasctl_bin"; do
  [[ -x $bin ]] || die "$bin is not built"
done

rm -rf "$out"
mkdir -p "$out/logs"
stack_start_pg "$(mktemp -d /tmp/nasint8XXXX)"
stack_start_controller "$controller_bin" "$stack_db_uri" "$stack_pg_dir/controller.port" \
  "$out/logs/controller.log"
stack_start_workers "$worker_bin" "$num_workers" 1 bench cpu "$out/logs"

for ds in $datasets; do
  id=$("$nasctl_bin" submit "$here/$ds.yaml" --json |
    "$python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  note "$ds: search $id"
  stack_run_bg "$nasctl_bin" watch "$id" >"$out/logs/watch-$ds.log" 2>&1 ||
    die "search $id ($ds) did not succeed: $(tail -2 "$out/logs/watch-$ds.log")"
  "$nasctl_bin" pareto "$id" --json >"$out/front-$ds.json"
  "$nasctl_bin" trials "$id" --json >"$out/trials-$ds.json"
done
"$python" "$here/front_table.py" "$out" $datasets | tee "$out/report.txt"
