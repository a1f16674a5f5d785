#!/usr/bin/env bash
# End-to-end test of the whole path, with every real part: a private
# PostgreSQL cluster (scripts/pg_cluster.sh), the real nas-controller, two
# real nas-worker processes training real networks on a Fashion-MNIST subset
# with LibTorch, and nasctl. Checks:
#   1. the controller with an unreachable database exits non-zero with one line;
#   2. bad specs (unknown layer type, wrong type, unknown device, kernel
#      larger than the input, negative budget, missing data file) are refused
#      at submit (exit 2, every problem named) and nothing is stored;
#   3. a worker killed with SIGKILL while it holds a RUNNING trial loses
#      nothing: the search ends SUCCEEDED, every trial number appears exactly
#      once (checked through nasctl and in PostgreSQL with psql), none is left
#      PENDING/RUNNING, and the killed worker's trial was handed out again
#      (attempts >= 2) and finished;
#   4. the exported best model is TorchScript that PyTorch (python3-torch)
#      loads and runs on an input of the data set's shape.
#
#   search_e2e_test.sh NAS_CONTROLLER NAS_WORKER NASCTL SOURCE_DIR
set -euo pipefail

controller_bin=$1
worker_bin=$2
nasctl_bin=$3
src=$4

# shellcheck source=tests/e2e/e2e_lib.sh
source "$src/tests/e2e/e2e_lib.sh" nase2e
nasctl() { "$nasctl_bin" --controller "127.0.0.1:$port" "$@"; }

# ---------------------------------------------------------------- 1. no DB
set +e
timeout 60 "$controller_bin" --db="postgresql:///tinynas?host=$tmp/nowhere&user=nobody" \
  --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 --insecure >"$tmp/nodb.out" 2>"$tmp/nodb.err"
nodb_status=$?
set -e
nodb_lines=$(wc -l <"$tmp/nodb.err")
((nodb_status != 0 && nodb_status != 124)) ||
  fail "controller with an unreachable database exited $nodb_status"
((nodb_lines == 1)) || fail "expected one line on stderr, got $nodb_lines: $(cat "$tmp/nodb.err")"
grep -q "^nas-controller: cannot connect to database" "$tmp/nodb.err" ||
  fail "unexpected message: $(cat "$tmp/nodb.err")"
pass "unreachable database: exit $nodb_status, '$(cat "$tmp/nodb.err")'"

# ------------------------------------------------------- services start up
start_pg
# Everything over TLS, as by default: mutual TLS for the workers, the token
# for nasctl (through $TINYNAS_TLS_CA and $TINYNAS_TOKEN).
tls=$tmp/tls
"$src/scripts/make_certs.sh" "$tls" || fail "make_certs.sh failed"
export TINYNAS_TLS_CA=$tls/ca.pem
TINYNAS_TOKEN=$(cat "$tls/api_tokens")
export TINYNAS_TOKEN
# A short lease TTL so the killed worker's trial comes back quickly.
"$controller_bin" --db="$db_uri" --listen=127.0.0.1:0 --port_file="$tmp/port" \
  --metrics_listen=127.0.0.1:0 --data_root="$src/data" --lease_ttl_ms=3000 \
  --heartbeat_ms=500 --tls_cert="$tls/server.pem" --tls_key="$tls/server.key" \
  --tls_client_ca="$tls/ca.pem" --api_tokens_file="$tls/api_tokens" \
  >"$tmp/controller.log" 2>&1 &
pids+=($!)
wait_for_port

# ---------------------------------------------------------- 2. bad specs
# Refused at submit: nasctl exits 2 and names every listed word. The YAML
# reader reports all of its problems (unknown layer type, wrong type) before
# the semantic checks run, so the two kinds are submitted separately.
cat >"$tmp/malformed.yaml" <<'YAML'
name: malformed
dataset: {name: fashion-mnist}
device: nrf52840
space: {layer_types: [CONV2D, TELEPORT2D], channels: [8], kernels: [3]}
training: {epochs: ten}
budget: {max_trials: 4}
YAML
submit_bad malformed TELEPORT2D training.epochs
cat >"$tmp/impossible.yaml" <<'YAML'
name: impossible
dataset: {name: fashion-mnist}
device: esp-nothing
space: {layer_types: [CONV2D], channels: [8], kernels: [31]}
budget: {max_trials: -4}
YAML
submit_bad impossible esp-nothing "kernel 31" max_trials
cat >"$tmp/nodata.yaml" <<'YAML'
name: nodata
dataset: {name: mine, format: ucr_tsv, train_path: missing/train.tsv, input_shape: 1x140, num_classes: 5}
device: nrf52840
space: {layer_types: [CONV1D], channels: [8], kernels: [3]}
budget: {max_trials: 2}
YAML
submit_bad nodata "$tmp/missing/train.tsv"
stored=$(nasctl list --json | py 'import json,sys; print(len(json.load(sys.stdin)["searches"]))')
((stored == 0)) || fail "bad specs: $stored searches stored"
pass "bad specs refused with exit 2 naming every problem, nothing stored"

# ------------------------------------------------------------ 3. the search
for i in 1 2; do
  "$worker_bin" --controller="127.0.0.1:$port" --slots=1 --threads=1 --name="e2e-w$i" \
    --device=cpu --metrics_listen=127.0.0.1:0 --tls_ca="$tls/ca.pem" \
    --tls_cert="$tls/worker.pem" --tls_key="$tls/worker.key" >"$tmp/worker-$i.log" 2>&1 &
  pids+=($!)
  worker_pid[$i]=$!
done

max_trials=8
cat >"$tmp/search.yaml" <<YAML
name: e2e
dataset:
  name: fashion-mnist
  validation_fraction: 0.1
  train_subset: 3000
  validation_subset: 500
device: nrf52840
space:
  layer_types: [CONV2D, MAXPOOL2D]
  channels: [4, 8, 16]
  kernels: [3, 5]
  min_layers: 1
  max_layers: 3
  max_dense_layers: 1
  dense_units: [16, 32]
training: {optimizer: adam, learning_rate: 0.002, epochs: 2, batch_size: 64, latency_runs: 5}
budget: {max_trials: $max_trials, max_attempts: 3}
seed: 11
YAML
search_id=$(nasctl submit "$tmp/search.yaml" --json | py 'import json,sys; print(json.load(sys.stdin)["id"])')
pass "search $search_id submitted"

# Wait for a trial that started RUNNING less than 1.5 s ago (each takes
# several seconds, so it cannot finish before the kill lands), then SIGKILL
# the worker that holds it.
victim_trial=""
for _ in $(seq 600); do
  line=$(nasctl trials "$search_id" --state running --json | py '
import json, sys, time
now_ms = time.time() * 1000
for t in json.load(sys.stdin)["trials"]:
    if t["worker"] and now_ms - int(t["started_unix_ms"]) < 1500:
        print(t["id"], t["number"], t["worker"]); break')
  if [[ -n "$line" ]]; then
    read -r victim_trial victim_number victim_worker <<<"$line"
    break
  fi
  sleep 0.2
done
[[ -n "$victim_trial" ]] || fail "no trial was RUNNING within 120 s"
case "$victim_worker" in
  *e2e-w1*) victim=1 ;;
  *e2e-w2*) victim=2 ;;
  *) fail "running trial on unknown worker '$victim_worker'" ;;
esac
kill -KILL "${worker_pid[$victim]}"
wait "${worker_pid[$victim]}" 2>/dev/null || true  # Reap it quietly.
pass "killed e2e-w$victim (SIGKILL) while it ran trial $victim_trial (#$victim_number)"

# Background + wait: a TERM from ctest's timeout then runs the clean-up at once.
timeout 420 "$nasctl_bin" --controller "127.0.0.1:$port" watch "$search_id" >"$tmp/watch.log" 2>&1 &
watch_pid=$!
pids+=("$watch_pid")
watch_status=0
wait "$watch_pid" || watch_status=$?
((watch_status == 0)) || fail "search did not end SUCCEEDED (nasctl watch exit $watch_status): $(tail -3 "$tmp/watch.log")"
pass "search $search_id ended SUCCEEDED"

# Every trial accounted for, seen through the API.
nasctl trials "$search_id" --json >"$tmp/trials.json"
"$python" - "$tmp/trials.json" "$max_trials" "$victim_trial" "e2e-w$victim" <<'PY' || fail "trial accounting (API)"
import json, sys
trials = json.load(open(sys.argv[1]))["trials"]
max_trials, victim, victim_worker = int(sys.argv[2]), sys.argv[3], sys.argv[4]
numbers = sorted(t["number"] for t in trials)
assert numbers == list(range(len(trials))), f"trial numbers not 0..n-1 once each: {numbers}"
states = [t["state"] for t in trials]
left = [s for s in states if s in ("TRIAL_PENDING", "TRIAL_RUNNING")]
assert not left, f"trials left unfinished: {left}"
counted = [s for s in states if s in ("TRIAL_SUCCEEDED", "TRIAL_CACHED", "TRIAL_FAILED")]
assert len(counted) == max_trials, f"{len(counted)} trained/cached/failed trials, want {max_trials}: {states}"
v = next(t for t in trials if t["id"] == victim)
assert v["state"] == "TRIAL_SUCCEEDED", f"killed trial ended {v['state']}: {v['failure_reason']}"
assert v["attempts"] >= 2, f"killed trial has attempts {v['attempts']}"
assert victim_worker not in v["worker"], f"killed trial finished on {v['worker']}"
ok = [t for t in trials if t["state"] == "TRIAL_SUCCEEDED"]
assert all(0 < t["metrics"]["accuracy"] <= 1 for t in ok), "accuracy out of range"
# The search quantises (the default): every trained trial carries the int8
# model's figures, measured with the mcu/ runtime, beside the float ones.
for t in ok:
    m = t["metrics"]
    assert m.get("int8") is True, f"trial {t['id']} has no int8 figures: {m}"
    assert 0 < m["accuracy_int8"] <= 1, f"trial {t['id']}: accuracy_int8 {m['accuracy_int8']}"
    assert abs(m["accuracy_int8"] - m["accuracy"]) < 0.1, f"trial {t['id']}: int8 {m['accuracy_int8']} vs float {m['accuracy']}"
print(f"{len(trials)} trials: {len(counted)} counted, killed trial attempts {v['attempts']} "
      f"finished on {v['worker']}")
PY
pass "every trial accounted for through nasctl; killed trial re-handed and finished"

# The same in PostgreSQL.
psql_q() {
  local sock=$pg_dir/sock user
  user=$(sed -n 's/.*user=\([^&]*\).*/\1/p' <<<"$db_uri")
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- psql -h "$sock" -U "$user" -d tinynas -Atqc "$1"
  else
    psql -h "$sock" -U "$user" -d tinynas -Atqc "$1"
  fi
}
dups=$(psql_q "SELECT count(*) FROM (SELECT number FROM trials WHERE search_id = $search_id
               GROUP BY number HAVING count(*) <> 1) d")
((dups == 0)) || fail "psql: $dups trial numbers stored more than once"
unfinished=$(psql_q "SELECT count(*) FROM trials WHERE search_id = $search_id AND state IN (1, 2)")
((unfinished == 0)) || fail "psql: $unfinished trials still pending/running"
results=$(psql_q "SELECT count(*) FROM trials WHERE search_id = $search_id AND state IN (3, 4, 6)")
((results == max_trials)) || fail "psql: $results result rows, want $max_trials"
victim_row=$(psql_q "SELECT state, attempts, (model IS NOT NULL) FROM trials WHERE id = $victim_trial")
[[ "$victim_row" =~ ^3\|([0-9]+)\|t$ ]] && ((BASH_REMATCH[1] >= 2)) ||
  fail "psql: killed trial row is '$victim_row', want SUCCEEDED(3), attempts >= 2, a model"
pass "psql: one row per trial number, $results results, killed trial '$victim_row'"

# ------------------------------------------------------------ 4. export
nasctl export "$search_id" best -o "$tmp/best.pt" >/dev/null
"$python" - "$tmp/best.pt" <<'PY' || fail "exported model does not load in PyTorch"
import sys
import torch
m = torch.jit.load(sys.argv[1])
m.eval()
with torch.no_grad():
    y = m(torch.zeros(1, 1, 28, 28))
assert tuple(y.shape) == (1, 10), f"output shape {tuple(y.shape)}"
print(f"torch.jit.load OK, output {tuple(y.shape)}")
PY
pass "exported best model loads with torch.jit.load and maps 1x1x28x28 to 10 classes"

# The front shows the int8 figures, and the best trial exports as a C library
# that builds with the host's gcc and passes its own test vectors.
nasctl pareto "$search_id" --json >"$tmp/front.json"
"$python" - "$tmp/front.json" <<'PY' || fail "the Pareto front lacks int8 figures"
import json, sys
front = json.load(open(sys.argv[1]))["trials"]
assert front, "empty front"
assert all(t["metrics"].get("int8") for t in front), "a front trial without int8 figures"
print(f"{len(front)} front trials, all with int8 figures")
PY
nasctl export "$search_id" best --format c -o "$tmp/best-c" >/dev/null ||
  fail "nasctl export --format c failed"
for f in model.h model.c test_vectors.h main.c CMakeLists.txt README.md; do
  [[ -s "$tmp/best-c/$f" ]] || fail "exported C library lacks $f"
done
(cd "$tmp/best-c" && gcc -std=c99 -Wall -Wextra -Werror -O2 -I. -Iruntime main.c model.c \
  $(find runtime -name '*.c') -o example) >"$tmp/c-build.log" 2>&1 ||
  fail "exported C library does not build: $(tail -5 "$tmp/c-build.log")"
"$tmp/best-c/example" >"$tmp/c-run.log" 2>&1 ||
  fail "exported C library fails its test vectors: $(tail -5 "$tmp/c-run.log")"
pass "front shows int8 figures; best trial exported as C, built with gcc -Werror, test vectors pass: $(tail -1 "$tmp/c-run.log")"

echo "$passed passed, 0 failed"
