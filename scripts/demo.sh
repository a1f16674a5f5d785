#!/usr/bin/env bash
# The main job: a whole tinynas search on this machine.
#
#   scripts/demo.sh [SPEC.yaml]     (default examples/fashion-mnist-nrf52840.yaml)
#
# Installs the missing Debian packages, builds the three binaries (Release)
# into build/, starts a private PostgreSQL cluster (.pg/demo, recreated on
# every run), the controller and two workers (one trial slot each), submits
# the spec with live progress, prints the Pareto front and the best model,
# exports it to out/best-model.pt, and stops everything it started on exit,
# also on failure or Ctrl-C. Logs: var/logs/. Exit status: 0 when the search
# SUCCEEDED and the model was exported.
#
# Environment: TINYNAS_BUILD_DIR (default build), TINYNAS_JOBS (default
# nproc), TINYNAS_WORKERS (default 2), TINYNAS_WORKER_THREADS (default
# nproc / workers, at least 1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
spec=${1:-examples/fashion-mnist-nrf52840.yaml}
build_dir=${TINYNAS_BUILD_DIR:-build}
jobs=${TINYNAS_JOBS:-$(nproc)}
num_workers=${TINYNAS_WORKERS:-2}
threads=${TINYNAS_WORKER_THREADS:-$(( $(nproc) / num_workers > 0 ? $(nproc) / num_workers : 1 ))}
logs=var/logs
run_dir=var/run
model=out/best-model.pt

# Debian's Python has python3-torch; prefer it to a pyenv/virtualenv python3.
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3

log() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[[ -f "$spec" ]] || die "no such spec file: $spec"

# ---------------------------------------------------------------- clean-up
pids=()
pg_dir=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#pids[@]} > 0)); then
    echo "demo: stopping ${#pids[@]} processes" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.2
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  if [[ -n "$pg_dir" ]]; then
    echo "demo: stopping PostgreSQL ($pg_dir)" >&2
    scripts/pg_cluster.sh stop "$pg_dir" || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- build
log "installing missing packages"
scripts/install_deps.sh

log "building nas-controller, nas-worker and nasctl into $build_dir"
start=$SECONDS
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_WORKER=ON >/dev/null
cmake --build "$build_dir" --target nas-controller nas-worker nasctl -j"$jobs"
echo "build took $((SECONDS - start)) s"
controller_bin=$build_dir/controller/nas-controller
worker_bin=$build_dir/worker/nas-worker
nasctl_bin=$build_dir/nasctl/nasctl

# ---------------------------------------------------------------- services
mkdir -p "$logs" "$run_dir" out
rm -f "$run_dir"/controller.port "$model"

# The socket path must stay under ~100 characters; fall back to /tmp when
# the checkout lives deep in the file system.
pg_dir=$root/.pg/demo
if (( ${#pg_dir} > 70 )); then pg_dir=$(mktemp -d /tmp/tinynas-pg.XXXXXX); fi
log "starting PostgreSQL in $pg_dir"
scripts/pg_cluster.sh stop "$pg_dir" 2>/dev/null || true
rm -rf "$pg_dir"
db_uri=$(scripts/pg_cluster.sh start "$pg_dir")
echo "database: $db_uri"

log "starting nas-controller"
"$controller_bin" --listen=127.0.0.1:0 --port_file="$run_dir/controller.port" \
  --db="$db_uri" --metrics_listen=127.0.0.1:0 --data_root="$root/data" \
  >"$logs/controller.log" 2>&1 &
pids+=($!)
controller_pid=$!
for _ in $(seq 300); do
  [[ -s "$run_dir/controller.port" ]] && break
  kill -0 "$controller_pid" 2>/dev/null ||
    { tail -n 20 "$logs/controller.log" >&2; die "nas-controller exited, see $logs/controller.log"; }
  sleep 0.2
done
[[ -s "$run_dir/controller.port" ]] || die "nas-controller did not start in 60 s"
export TINYNAS_CONTROLLER=127.0.0.1:$(cat "$run_dir/controller.port")
echo "controller: $TINYNAS_CONTROLLER (log $logs/controller.log)"

log "starting $num_workers workers ($threads threads each)"
for i in $(seq "$num_workers"); do
  "$worker_bin" --controller="$TINYNAS_CONTROLLER" --slots=1 --name="demo-worker-$i" \
    --device=auto --threads="$threads" --metrics_listen=127.0.0.1:0 \
    >"$logs/worker-$i.log" 2>&1 &
  pids+=($!)
  echo "worker demo-worker-$i: pid $! (log $logs/worker-$i.log)"
done

# ------------------------------------------------------------------ search
log "submitting $spec"
search_json=$("$nasctl_bin" submit "$spec" --json)
search_id=$("$python" -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$search_json")
echo "search $search_id submitted; live progress:"
# In the background + wait, so that a signal to this script runs the
# clean-up at once instead of after the watch ends (bash defers traps until
# a foreground command returns).
"$nasctl_bin" watch "$search_id" &
watch_pid=$!
pids+=("$watch_pid")
watch_status=0
wait "$watch_pid" || watch_status=$?

log "search $search_id"
"$nasctl_bin" show "$search_id"
log "Pareto front"
"$nasctl_bin" pareto "$search_id"
((watch_status == 0)) || die "search $search_id did not succeed (nasctl watch exit $watch_status)"

log "exporting the best model"
"$nasctl_bin" export "$search_id" best -o "$model"
"$python" - "$model" <<'PY'
import sys
import torch
m = torch.jit.load(sys.argv[1])
n = sum(p.numel() for p in m.parameters())
print(f"{sys.argv[1]}: TorchScript module loads in PyTorch {torch.__version__}, {n} parameters")
PY
log "done: best model in $model, logs in $logs/"
