#!/usr/bin/env bash
# Controller throughput, growth and memory, measured against Optuna.
#
#   bench/controller_throughput/run.sh          (about 5 min on 2 cores)
#   BENCH_RSS_SECONDS=600 bench/controller_throughput/run.sh   (the 10-minute run)
#
# One private PostgreSQL server (scripts/lib/stack.sh), two databases on it:
#  - "optuna": Optuna (Debian's python3-optuna) with its RDB storage doing
#    ask/tell with RandomSampler on a space of the same choices as
#    search.yaml, with 1 and 8 processes;
#  - "tinynas": the real nas-controller, and one nas-worker process in load
#    test mode (--load_test_skip_training --load_test_workers=N: N simulated
#    workers that register, lease, heartbeat and report each on their own,
#    with made-up metrics) for N = 1, 8, 64, 512. Each round submits
#    search.yaml (random policy) and counts the trials committed in
#    PostgreSQL (SUCCEEDED or FAILED, i.e. leased, reported and recorded)
#    over a steady-state window after a warm-up.
# Then, with 512 simulated workers: "growth-1k", a fresh search, and
# "growth-100k", a search pre-filled with BENCH_PREFILL stored trials (bulk
# SQL copies of real rows through the real schema, with no worker connected;
# the workers start again before its warm-up), each measured for
# BENCH_RSS_SECONDS; in growth-100k the controller's VmRSS/VmHWM (/proc) are
# sampled every second. The report prints every rate, the ratio to Optuna's best,
# the growth of the cost per trial and the memory peak and slope.
#
# Installs python3-optuna, python3-psycopg2 and python3-sqlalchemy if missing
# (scripts/install_deps.sh), builds nas-controller, nas-worker and nasctl,
# and stops everything it started on exit. The controller serves plain text
# (--insecure): the figures are the controller's and PostgreSQL's, not TLS's.
#
# Environment:
#   BUILD_DIR           build directory (default build-bench)
#   BENCH_NO_BUILD=1    use the binaries as built
#   BENCH_OUT           results folder (default bench/controller_throughput/out)
#   BENCH_WORKERS       simulated worker counts (default "1 8 64 512")
#   BENCH_OPTUNA        Optuna process counts (default "1 8")
#   BENCH_WARMUP        seconds before each window (default 5)
#   BENCH_WINDOW        seconds of each window (default 15)
#   BENCH_PREFILL       trials stored before growth-100k (default 100000)
#   BENCH_RSS_SECONDS   window of both growth rounds; memory sampled in
#                       growth-100k (default 60)
#   BENCH_GROWTH=0      skip the growth and memory rounds (a quick rate check)
#   BENCH_CONTROLLER_FLAGS  extra nas-controller flags (e.g. for profiling)
#   BENCH_PG_STATS=1    load pg_stat_statements and write, for every tinynas
#                       round, the statements' costs over its window to
#                       $BENCH_OUT/pg-stats-ROUND.txt, with the WAL written
#                       and the autovacuum passes (their durations are in
#                       $BENCH_OUT/pg/server.log); a diagnostic: the
#                       extension costs some throughput
#   BENCH_PG_EXPLAIN=F  with BENCH_PG_STATS: log the plans, with their
#                       buffers and timings, of a fraction F (e.g. 0.01) of
#                       all statements to $BENCH_OUT/pg/server.log
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
here=bench/controller_throughput
build=${BUILD_DIR:-build-bench}
out=${BENCH_OUT:-$here/out}
workers=${BENCH_WORKERS:-1 8 64 512}
optuna_processes=${BENCH_OPTUNA:-1 8}
warmup=${BENCH_WARMUP:-5}
window=${BENCH_WINDOW:-15}
prefill=${BENCH_PREFILL:-100000}
rss_seconds=${BENCH_RSS_SECONDS:-60}
if [[ -n ${BENCH_PG_EXPLAIN:-} && ! $BENCH_PG_EXPLAIN =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]]; then
  echo "controller_throughput: BENCH_PG_EXPLAIN must be a fraction from 0 to 1, not '$BENCH_PG_EXPLAIN'" >&2
  exit 2
fi
python=/usr/bin/python3  # Debian's python3-optuna lives in the system python.

die() { echo "controller_throughput: $*" >&2; exit 1; }

scripts/install_deps.sh python3-optuna python3-psycopg2 python3-sqlalchemy
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_WORKER=ON >/dev/null
  fi
  cmake --build "$build" --target nas-controller nas-worker nasctl -j"$(nproc)" >/dev/null
fi
controller_bin=$build/controller/nas-controller
worker_bin=$build/worker/nas-worker
nasctl_bin=$build/nasctl/nasctl
for b in "$controller_bin" "$worker_bin" "$nasctl_bin"; do
  [[ -x $b ]] || die "$b not built"
done

source scripts/lib/stack.sh
stack_init controller_throughput
mkdir -p "$out"
results=$out/results.jsonl
rm -f "$results" "$out"/*.log
stack_start_pg "$out/pg"
sock="$out/pg/sock"
pg_stats_flags=()
if [[ -n ${BENCH_PG_STATS:-} ]]; then
  if [[ -n ${BENCH_PG_EXPLAIN:-} ]]; then
    printf '%s\n' "shared_preload_libraries = 'pg_stat_statements,auto_explain'" \
      "auto_explain.log_min_duration = 0" "auto_explain.sample_rate = $BENCH_PG_EXPLAIN" \
      "auto_explain.log_analyze = on" "auto_explain.log_buffers = on" \
      >>"$out/pg/data/postgresql.conf"
  else
    echo "shared_preload_libraries = 'pg_stat_statements'" >>"$out/pg/data/postgresql.conf"
  fi
  printf '%s\n' "track_wal_io_timing = on" "log_autovacuum_min_duration = 0" \
    >>"$out/pg/data/postgresql.conf"
  scripts/pg_cluster.sh stop "$out/pg" && scripts/pg_cluster.sh start "$out/pg" >/dev/null
  psql "$stack_db_uri" -Atqc "CREATE EXTENSION pg_stat_statements" >/dev/null
  pg_stats_flags=(--pg_stats "$out/pg-stats")
fi
pg_user=$(id -u)
[[ $pg_user == 0 ]] && pg_user=postgres || pg_user=$(id -un)
psql "$stack_db_uri" -Atqc "CREATE DATABASE optuna" >/dev/null
optuna_db="postgresql:///optuna?host=$(cd "$sock" && pwd)&user=$pg_user"
optuna_url="postgresql+psycopg2://$pg_user@/optuna?host=$(cd "$sock" && pwd)"

stack_start_controller "$controller_bin" "$stack_db_uri" "$out/controller.port" \
  "$out/controller.log" --insecure ${BENCH_CONTROLLER_FLAGS:-}
controller_pid=${stack_pids[-1]}

{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

for p in $optuna_processes; do
  echo "controller_throughput: Optuna, $p process(es)" >&2
  stack_run_bg "$python" "$here/driver.py" optuna --url "$optuna_url" --db "$optuna_db" \
    --spec "$here/search.yaml" --processes "$p" --window "$window" --results "$results"
done

start_load_workers() {  # N
  "$worker_bin" --controller="$TINYNAS_CONTROLLER" --name="bench-$1" --device=cpu \
    --metrics_listen=none --insecure --load_test_skip_training --load_test_workers="$1" \
    >"$out/workers-$1.log" 2>&1 &
  stack_pids+=($!)
  load_pid=$!
}

round() {  # NAME WORKERS [driver flags...]
  local name=$1 n=$2
  shift 2
  echo "controller_throughput: round $name, $n simulated workers" >&2
  stack_run_bg "$python" "$here/driver.py" round --name "$name" --workers "$n" \
    --nasctl "$nasctl_bin" --spec "$here/search.yaml" --db "$stack_db_uri" \
    --warmup "$warmup" --window "$window" --results "$results" \
    ${pg_stats_flags[@]+"${pg_stats_flags[@]}"} "$@"
}

load_pid=""
for n in $workers; do
  start_load_workers "$n"
  round "workers-$n" "$n"
  [[ $n == 512 ]] || stack_stop "$load_pid"
done
if [[ ${BENCH_GROWTH:-1} != 0 ]]; then
  [[ " $workers " == *" 512 "* ]] || start_load_workers 512
  # Both growth rounds measure the same window, so that each includes the
  # same share of autovacuum passes and checkpoints.
  round growth-1k 512 --warmup 2 --window "$rss_seconds"
  # The pre-fill runs with no worker connected (see driver.py prefill); the
  # workers start again, register and warm up before the window.
  stack_stop "$load_pid"
  echo "controller_throughput: pre-filling a search with $prefill trials" >&2
  stack_run_bg "$python" "$here/driver.py" prefill --nasctl "$nasctl_bin" \
    --spec "$here/search.yaml" --db "$stack_db_uri" --count "$prefill" \
    --id_file "$out/prefilled.id" --results "$results"
  start_load_workers 512
  round growth-100k 512 --search "$(cat "$out/prefilled.id")" --window "$rss_seconds" \
    --controller_pid "$controller_pid" --rss_samples "$out/rss.tsv"
fi
[[ -z $load_pid ]] || stack_stop "$load_pid"

"$python" "$here/driver.py" report --results "$results" | tee "$out/report.txt"
