#!/usr/bin/env bash
# The main job: a whole tinynas search on this machine.
#
#   scripts/demo.sh [SPEC.yaml]     (default examples/fashion-mnist-nrf52840.yaml)
#
# Installs the missing Debian packages, builds the three binaries (Release)
# into build/, starts a private PostgreSQL cluster (.pg/demo, recreated on
# every run), the controller and two workers (one trial slot each), submits
# the spec with live progress, prints the Pareto front and the best model,
# exports it as an int8 C library to out/best-model-c/ (built here with gcc
# and checked against its own test vectors) and as float TorchScript to
# out/best-model.pt, and stops everything it started on exit, also on
# failure or Ctrl-C. Logs: var/logs/. Exit status: 0 when the search
# SUCCEEDED and the model was exported.
#
# Everything talks TLS: scripts/make_certs.sh makes a local CA, certificates
# and an API token in var/run/tls/ (kept across runs); the workers present
# client certificates (mutual TLS) and nasctl sends the token.
#
# Environment: TINYNAS_BUILD_DIR (default build), TINYNAS_JOBS (default
# nproc), TINYNAS_WORKERS (default 2), TINYNAS_WORKER_THREADS (threads per
# slot, default 1; each worker gets nproc / (workers x threads) slots, at
# least 1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
spec=${1:-examples/fashion-mnist-nrf52840.yaml}
build_dir=${TINYNAS_BUILD_DIR:-build}
jobs=${TINYNAS_JOBS:-$(nproc)}
num_workers=${TINYNAS_WORKERS:-2}
# One thread per slot and a slot per core, spread over the workers: on a CPU
# machine the faster layout for a search of short trials and of long ones
# (bench/README.md, "Threads and slots").
threads=${TINYNAS_WORKER_THREADS:-1}
slots=$(( $(nproc) / (num_workers * threads) > 0 ? $(nproc) / (num_workers * threads) : 1 ))
logs=var/logs
run_dir=var/run
model=out/best-model.pt
c_library=out/best-model-c

# Debian's Python has python3-torch; prefer it to a pyenv/virtualenv python3.
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3

log() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[[ -f "$spec" ]] || die "no such spec file: $spec"

source scripts/lib/stack.sh
stack_init demo

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
rm -f "$model"

# The socket path must stay under ~100 characters; fall back to /tmp when
# the checkout lives deep in the file system.
pg_dir=$root/.pg/demo
if (( ${#pg_dir} > 70 )); then pg_dir=$(mktemp -d /tmp/tinynas-pg.XXXXXX); fi
log "starting PostgreSQL in $pg_dir"
stack_start_pg "$pg_dir"
echo "database: $stack_db_uri"

log "starting nas-controller"
stack_start_controller "$controller_bin" "$stack_db_uri" "$run_dir/controller.port" \
  "$logs/controller.log"
echo "controller: $TINYNAS_CONTROLLER over TLS (log $logs/controller.log)"
echo "TLS material and API token: $stack_tls_dir/"

log "starting $num_workers workers ($slots slot(s) of $threads thread(s) each)"
stack_start_workers "$worker_bin" "$num_workers" "$threads" demo-worker auto "$logs" "$slots"
echo "workers: demo-worker-1..$num_workers (logs $logs/worker-*.log)"

# ------------------------------------------------------------------ search
log "submitting $spec"
search_json=$("$nasctl_bin" submit "$spec" --json)
search_id=$("$python" -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$search_json")
echo "search $search_id submitted; live progress:"
watch_status=0
stack_run_bg "$nasctl_bin" watch "$search_id" || watch_status=$?

log "search $search_id"
"$nasctl_bin" show "$search_id"
log "Pareto front"
"$nasctl_bin" pareto "$search_id"
((watch_status == 0)) || die "search $search_id did not succeed (nasctl watch exit $watch_status)"

log "exporting the best model as an int8 C library"
if grep -qE '^\s*quantize:\s*none' "$spec"; then
  echo "(none: the spec says quantize: none)"
else
  "$nasctl_bin" export "$search_id" best --format c -o "$c_library" --force
  cmake -S "$c_library" -B "$c_library/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$c_library/build" >/dev/null
  "$c_library/build/tinynas_example" || die "the exported C library fails its test vectors"
fi

log "exporting the best model as float TorchScript"
"$nasctl_bin" export "$search_id" best -o "$model"
"$python" - "$model" <<'PY'
import sys
import torch
m = torch.jit.load(sys.argv[1])
n = sum(p.numel() for p in m.parameters())
print(f"{sys.argv[1]}: TorchScript module loads in PyTorch {torch.__version__}, {n} parameters")
PY
log "done: best model in $c_library/ (int8 C) and $model (float), logs in $logs/"
