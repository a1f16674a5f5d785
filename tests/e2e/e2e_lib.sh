# Shared by the end-to-end shell tests (sourced, not run): a scratch folder
# that is removed at exit with the logs printed when the test failed, the
# processes started stopped, the private PostgreSQL cluster stopped, and
# the PASS/FAIL reporting.
#
#   src=SOURCE_DIR; source "$src/tests/e2e/e2e_lib.sh" PREFIX
# Then: `pids+=($!)` for each background process, `start_pg` for a cluster
# (sets db_uri), `wait_for_port` after starting the controller, `submit_bad`,
# `pass MESSAGE`, `fail MESSAGE`, `py 'python code'`.

tmp=$(mktemp -d "/tmp/$1.XXXXXX")  # Short: the PostgreSQL socket lives here.
pids=()
pg_dir=$tmp/pg
pg_started=0
passed=0

cleanup() {
  local status=$?
  trap - EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ((pg_started)) && "$src/scripts/pg_cluster.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  if ((status != 0)); then
    for log in "$tmp"/*.log; do
      [[ -f "$log" ]] || continue
      echo "----- last lines of $(basename "$log")"
      tail -n 25 "$log"
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

fail() {
  echo "FAIL: $*"
  echo "$passed passed, 1 failed"
  exit 1
}
pass() {
  echo "PASS: $*"
  passed=$((passed + 1))
}
# Debian's Python has python3-torch and python3-numpy; prefer it to a
# pyenv/virtualenv python3.
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
# Python one-liners over JSON on stdin.
py() { "$python" -c "$1"; }

# Starts the private PostgreSQL cluster in $pg_dir; sets db_uri.
start_pg() {
  db_uri=$("$src/scripts/pg_cluster.sh" start "$pg_dir")
  pg_started=1
}

# After the controller (the first of $pids) was started with
# --port_file=$tmp/port: waits up to 30 s for the file; sets port.
wait_for_port() {
  for _ in $(seq 300); do
    [[ -s "$tmp/port" ]] && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "nas-controller exited during start-up"
    sleep 0.1
  done
  [[ -s "$tmp/port" ]] || fail "nas-controller wrote no port file in 30 s"
  port=$(cat "$tmp/port")
}

# submit_bad NAME WORD...: `nasctl submit $tmp/NAME.yaml` (the caller's
# nasctl function) must be refused with exit 2 naming every WORD.
submit_bad() {
  local name=$1
  shift
  set +e
  nasctl submit "$tmp/$name.yaml" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local status=$?
  set -e
  ((status == 2)) || fail "$name: nasctl exit $status, want 2: $(cat "$tmp/$name.err")"
  for word in "$@"; do
    grep -qF -- "$word" "$tmp/$name.err" || fail "$name: '$word' not named in: $(cat "$tmp/$name.err")"
  done
}
