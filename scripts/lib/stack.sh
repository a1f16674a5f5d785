# A local tinynas stack for scripts: a private PostgreSQL cluster, one
# nas-controller and N nas-workers, all stopped on exit (also on failure or
# Ctrl-C). Sourced, not run:
#
#   source scripts/lib/stack.sh
#   stack_init "demo"                               # names messages, sets traps
#   stack_start_pg DIR                              # recreated empty; sets
#                                                   # stack_db_uri
#   stack_make_certs DIR                            # TLS material (optional:
#                                                   # the controller makes it
#                                                   # next to its port file)
#   stack_start_controller BIN DB_URI PORT_FILE LOG [FLAG...]
#                                                   # exports TINYNAS_CONTROLLER,
#                                                   # TINYNAS_TLS_CA, TINYNAS_TOKEN
#   stack_start_workers BIN N THREADS NAME DEVICE LOG_DIR [SLOTS]
#   stack_stop PID                                  # stops one of them
#   stack_run_bg CMD ARGS...                        # a foreground command that
#                                                   # a signal can interrupt
#
# Everything talks TLS: the controller serves with a certificate of a local
# CA made by scripts/make_certs.sh, workers present client certificates
# (mutual TLS), and nasctl finds the CA and the search API's bearer token in
# $TINYNAS_TLS_CA and $TINYNAS_TOKEN.
#
# Expects to run from the repository root (scripts/pg_cluster.sh) under
# `set -euo pipefail`, and a function die() that prints and exits.

stack_pids=()
stack_pg_dir=""
stack_name="stack"
stack_remove_pg=0  # 1: also delete the cluster's folder on exit

stack_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#stack_pids[@]} > 0)); then
    echo "$stack_name: stopping ${#stack_pids[@]} processes" >&2
    kill -TERM "${stack_pids[@]}" 2>/dev/null || true
    local alive pid
    for _ in $(seq 50); do
      alive=0
      for pid in "${stack_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.2
    done
    kill -KILL "${stack_pids[@]}" 2>/dev/null || true
    wait "${stack_pids[@]}" 2>/dev/null || true
  fi
  if [[ -n $stack_pg_dir ]]; then
    echo "$stack_name: stopping PostgreSQL ($stack_pg_dir)" >&2
    scripts/pg_cluster.sh stop "$stack_pg_dir" >/dev/null 2>&1 || true
    ((stack_remove_pg)) && rm -rf "$stack_pg_dir"
  fi
  exit "$status"
}

stack_init() {  # NAME
  stack_name=$1
  trap stack_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Runs "$@" in the background and waits for it, so that a signal runs the
# clean-up at once (bash defers traps while a foreground command runs).
stack_run_bg() {
  "$@" &
  local pid=$!
  stack_pids+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  unset 'stack_pids[${#stack_pids[@]}-1]'
  return "$rc"
}

# Not in a $(...) subshell: the clean-up must learn the folder.
stack_db_uri=""
stack_start_pg() {  # DIR
  local dir=$1
  scripts/pg_cluster.sh stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  stack_pg_dir=$dir
  stack_db_uri=$(scripts/pg_cluster.sh start "$dir") ||
    die "PostgreSQL did not start in $dir"
}

# TLS material in DIR (kept when still valid) for the processes started
# after this; exports what nasctl needs.
stack_tls_dir=""
stack_make_certs() {  # DIR
  scripts/make_certs.sh "$1" || die "cannot make TLS certificates in $1"
  stack_tls_dir=$(cd "$1" && pwd)
  export TINYNAS_TLS_CA=$stack_tls_dir/ca.pem
  TINYNAS_TOKEN=$(cat "$stack_tls_dir/api_tokens")
  export TINYNAS_TOKEN
}

# TLS unless FLAG... holds --insecure (then the caller's clients must pass
# --insecure too).
stack_start_controller() {  # BIN DB_URI PORT_FILE LOG [FLAG...]
  local bin=$1 db_uri=$2 port_file=$3 log=$4 tls_flags=()
  if [[ " ${*:5} " != *" --insecure "* ]]; then
    [[ -n $stack_tls_dir ]] || stack_make_certs "$(dirname "$port_file")/tls"
    tls_flags=(--tls_cert="$stack_tls_dir/server.pem" --tls_key="$stack_tls_dir/server.key"
               --tls_client_ca="$stack_tls_dir/ca.pem"
               --api_tokens_file="$stack_tls_dir/api_tokens")
  fi
  rm -f "$port_file"
  "$bin" --listen=127.0.0.1:0 --port_file="$port_file" --db="$db_uri" \
    --metrics_listen=127.0.0.1:0 --data_root="$PWD/data" "${tls_flags[@]}" \
    "${@:5}" >"$log" 2>&1 &
  local pid=$!
  stack_pids+=("$pid")
  for _ in $(seq 300); do
    [[ -s $port_file ]] && break
    kill -0 "$pid" 2>/dev/null ||
      { tail -n 20 "$log" >&2; die "nas-controller exited, see $log"; }
    sleep 0.2
  done
  [[ -s $port_file ]] || die "nas-controller did not start in 60 s, see $log"
  export TINYNAS_CONTROLLER=127.0.0.1:$(cat "$port_file")
}

stack_start_workers() {  # BIN N THREADS NAME DEVICE LOG_DIR [SLOTS]
  local bin=$1 n=$2 threads=$3 name=$4 device=$5 log_dir=$6 slots=${7:-1} i
  for i in $(seq "$n"); do
    "$bin" --controller="$TINYNAS_CONTROLLER" --slots="$slots" --name="$name-$i" \
      --device="$device" --threads="$threads" --metrics_listen=127.0.0.1:0 \
      --tls_ca="$stack_tls_dir/ca.pem" --tls_cert="$stack_tls_dir/worker.pem" \
      --tls_key="$stack_tls_dir/worker.key" \
      >"$log_dir/worker-$i.log" 2>&1 &
    stack_pids+=($!)
  done
}

stack_stop() {  # PID: stops one process this stack started (SIGTERM, then
  # SIGKILL after 10 s) and forgets it.
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for i in "${!stack_pids[@]}"; do
    [[ ${stack_pids[$i]} == "$pid" ]] && unset 'stack_pids[i]'
  done
  stack_pids=("${stack_pids[@]}")
}
