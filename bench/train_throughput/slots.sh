#!/usr/bin/env bash
# Threads and slots on one CPU machine: the same search run by workers set up
# in different ways, each on a fresh database (so no result is cached), timed
# from submission to the search's end. Prints one line per setting and the
# ratio of each to the first.
#
#   bench/train_throughput/slots.sh [SPEC.yaml]   (default: the demo's search)
#
# Settings (CORES = this machine's cores):
#   slot-all-cores   1 worker, 1 slot, CORES threads
#   slot-per-core    1 worker, CORES slots, 1 thread each
#   2w-oversub       2 workers of 1 slot x CORES threads (the README's old
#                    by-hand example): 2x more threads than cores, shared
#                    out by the workers (HostThreads)
#   2w-oversub-noshare  the same with --host_threads_folder=none: every
#                    trial with CORES threads, as before
#   2w-one-thread    2 workers of 1 slot x 1 thread (the README's by-hand
#                    example now)
#   2w-default       2 workers with the default slots and threads
# Env: SETTINGS (a subset, space-separated), BUILD_DIR (default build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
spec=${1:-examples/fashion-mnist-nrf52840.yaml}
build=${BUILD_DIR:-build}
cores=$(nproc)
settings=${SETTINGS:-slot-all-cores slot-per-core 2w-oversub 2w-oversub-noshare}
die() { echo "slots.sh: $*" >&2; exit 1; }
source scripts/lib/stack.sh
stack_init slots-bench
cmake --build "$build" --target nas-controller nas-worker nasctl -j"$cores" >/dev/null
work=$(mktemp -d /tmp/nas-slots.XXXXXX)
results=$work/results.tsv

run_setting() {  # NAME WORKERS SLOTS THREADS [FLAG...] (0: the default)
  local name=$1 workers=$2 slots=$3 threads=$4 i
  shift 4
  stack_start_pg "$work/pg-$name"
  stack_start_controller "$build/controller/nas-controller" "$stack_db_uri" \
    "$work/$name.port" "$work/$name-controller.log"
  local first_worker=${#stack_pids[@]}
  for i in $(seq "$workers"); do
    "$build/worker/nas-worker" --controller="$TINYNAS_CONTROLLER" --slots="$slots" \
      --threads="$threads" --name="w-$name-$i" --device=cpu --metrics_listen=127.0.0.1:0 \
      --tls_ca="$stack_tls_dir/ca.pem" --tls_cert="$stack_tls_dir/worker.pem" \
      --tls_key="$stack_tls_dir/worker.key" "$@" >"$work/$name-worker-$i.log" 2>&1 &
    stack_pids+=($!)
  done
  local start
  start=$(date +%s%N)
  local id
  id=$("$build/nasctl/nasctl" submit "$spec" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "$build/nasctl/nasctl" watch "$id" >/dev/null || die "$name: the search did not succeed"
  local tenths=$((($(date +%s%N) - start) / 100000000))
  local wall=$((tenths / 10)).$((tenths % 10))
  local rate
  rate=$("$build/nasctl/nasctl" --json trials "$id" | /usr/bin/python3 -c '
import json, sys
t = [x for x in json.load(sys.stdin).get("trials", []) if x.get("state") == "TRIAL_SUCCEEDED"]
r = sorted(x["metrics"].get("samples_per_second", 0) for x in t)
print(round(r[len(r) // 2]) if r else 0)')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$workers" "$slots" "$threads" "$wall" "$rate" >>"$results"
  echo "$name: ${wall} s (median trial ${rate} samples/s)" >&2
  for ((i = ${#stack_pids[@]} - 1; i >= first_worker - 1; i--)); do
    stack_stop "${stack_pids[$i]}" || true
    unset "stack_pids[$i]"
  done
  stack_pids=("${stack_pids[@]}")
  scripts/pg_cluster.sh stop "$work/pg-$name" >/dev/null 2>&1 || true
}

for s in $settings; do
  case $s in
    slot-all-cores) run_setting "$s" 1 1 "$cores" ;;
    slot-per-core) run_setting "$s" 1 "$cores" 1 ;;
    2w-oversub) run_setting "$s" 2 1 "$cores" ;;
    2w-oversub-noshare) run_setting "$s" 2 1 "$cores" --host_threads_folder=none ;;
    2w-one-thread) run_setting "$s" 2 1 1 ;;
    2w-default) run_setting "$s" 2 0 0 ;;
    *) die "unknown setting $s" ;;
  esac
done
echo
echo "$(basename "$spec") on $cores cores: wall time from submit to end, fresh database each"
/usr/bin/python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
base = float(rows[0][4]) or 1
print(f"{'setting':18} {'workers':>7} {'slots':>5} {'threads':>7} {'wall s':>7} {'trial samples/s':>15} {'time vs first':>13}")
for name, w, s, t, wall, rate in rows:
    print(f"{name:18} {w:>7} {s:>5} {t:>7} {wall:>7} {rate:>15} {float(wall) / base:>13.2f}")
PY
