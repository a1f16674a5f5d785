#!/usr/bin/env bash
# End-to-end test of data that is not built in, on the real binaries: a
# private PostgreSQL cluster, the real nas-controller, two real nas-worker
# processes and nasctl. Checks:
#   1. files the spec names are read at submit: a shape unlike input_shape,
#      more labels than num_classes and a file of binary junk are refused
#      with exit 2 and one message naming the file, and nothing is stored;
#   2. JapaneseVowels (sktime .ts, 12 channels, 7..29 frames, string-or-number
#      labels): a search pads the series, trains 1-D CNNs over 12 channels,
#      quantises them, reaches at least 0.95 int8 test accuracy, `show` tells
#      the padding and the class names, and the best model exports as a C
#      library whose model.h carries the labels and the z-score constants and
#      which passes its own test vectors;
#   3. a 23-sample subset of ECG5000 searched with 5 stratified folds: every
#      trial reports 5 folds and the spread of its accuracy, shown by nasctl.
#
#   data_e2e_test.sh NAS_CONTROLLER NAS_WORKER NASCTL SOURCE_DIR
set -euo pipefail

controller_bin=$1
worker_bin=$2
nasctl_bin=$3
src=$4

# shellcheck source=tests/e2e/e2e_lib.sh
source "$src/tests/e2e/e2e_lib.sh" nasdata
nasctl() { "$nasctl_bin" --controller "127.0.0.1:$port" --insecure "$@"; }

# ------------------------------------------------------- services start up
start_pg
"$controller_bin" --db="$db_uri" --listen=127.0.0.1:0 --port_file="$tmp/port" \
  --metrics_listen=127.0.0.1:0 --data_root="$src/data" --insecure \
  >"$tmp/controller.log" 2>&1 &
pids+=($!)
wait_for_port

# ------------------------------------------------- 1. data checked at submit
jv_train=$src/data/japanese-vowels/JapaneseVowels_TRAIN.ts.gz
jv_test=$src/data/japanese-vowels/JapaneseVowels_TEST.ts.gz
bad_spec() {  # name, dataset map
  cat >"$tmp/$1.yaml" <<YAML
name: $1
dataset: $2
device: nrf52840
space: {layer_types: [CONV1D], channels: [8], kernels: [3]}
budget: {max_trials: 2}
YAML
}
bad_spec shape "{name: jv, format: ts, train_path: $jv_train, input_shape: [6, 29], num_classes: 9}"
submit_bad shape "$jv_train" "12"
bad_spec classes "{name: jv, format: ts, train_path: $jv_train, input_shape: [12, 29], num_classes: 5}"
submit_bad classes "$jv_train" "num_classes"
head -c 4096 /dev/urandom >"$tmp/junk.tsv"
bad_spec junk "{name: junk, format: ucr_tsv, train_path: $tmp/junk.tsv, input_shape: [1, 140], num_classes: 5}"
submit_bad junk "$tmp/junk.tsv"
stored=$(nasctl list --json | py 'import json,sys; print(len(json.load(sys.stdin)["searches"]))')
((stored == 0)) || fail "bad data: $stored searches stored"
pass "bad data refused at submit with exit 2 naming the file, nothing stored"

for i in 1 2; do
  "$worker_bin" --controller="127.0.0.1:$port" --slots=1 --threads=1 --name="data-w$i" \
    --device=cpu --metrics_listen=127.0.0.1:0 --insecure >"$tmp/worker-$i.log" 2>&1 &
  pids+=($!)
done

# Waits for a search to end SUCCEEDED.
watch_search() {
  timeout 600 "$nasctl_bin" --controller "127.0.0.1:$port" --insecure watch "$1" \
    >"$tmp/watch-$1.log" 2>&1 &
  local watch_pid=$! watch_status=0
  pids+=("$watch_pid")
  wait "$watch_pid" || watch_status=$?
  ((watch_status == 0)) ||
    fail "search $1 did not end SUCCEEDED (watch exit $watch_status): $(tail -3 "$tmp/watch-$1.log")"
}

# ------------------------------------------------------ 2. JapaneseVowels
cat >"$tmp/jv.yaml" <<YAML
name: japanese-vowels-e2e
seed: 5
policy: random
dataset:
  name: japanese-vowels
  format: ts
  train_path: $jv_train
  test_path: $jv_test
  input_shape: [12, 29]
  num_classes: 9
  evaluate_test: true
validation: {fraction: 0.2}
device: nrf52840
space:
  layer_types: [CONV1D]
  channels: [16, 32]
  kernels: [3, 5]
  strides: [1]
  min_layers: 2
  max_layers: 3
  padding: same
  batch_norm: true
  activation: RELU
  max_dense_layers: 0
training: {optimizer: adam, learning_rate: 0.01, epochs: 40, batch_size: 16, latency_runs: 3}
budget: {max_trials: 8, max_attempts: 2}
YAML
jv_id=$(nasctl submit "$tmp/jv.yaml" --json | py 'import json,sys; print(json.load(sys.stdin)["id"])')
watch_search "$jv_id"
nasctl show "$jv_id" >"$tmp/jv-show.txt"
grep -q "padded" "$tmp/jv-show.txt" || fail "show does not tell the padding: $(cat "$tmp/jv-show.txt")"
grep -q "normalise    zscore" "$tmp/jv-show.txt" || fail "show does not tell the normalisation: $(cat "$tmp/jv-show.txt")"
nasctl show "$jv_id" --json >"$tmp/jv-show.json"
nasctl pareto "$jv_id" --json >"$tmp/jv-front.json"
jv_status=0
"$python" - "$tmp/jv-show.json" "$tmp/jv-front.json" >"$tmp/jv-figures.txt" 2>&1 <<'PY' || jv_status=$?
import json, sys
show = json.load(open(sys.argv[1]))
text = json.dumps(show)
summary = show["search"]["spec"]["dataset"]["summary"]
assert int(summary["train_samples"]) == 270, summary
assert int(summary["test_samples"]) == 370, summary
assert summary["class_names"] == [str(i) for i in range(1, 10)], summary
assert int(summary["padded"]) > 0 and int(summary["max_length"]) == 29, summary
front = json.load(open(sys.argv[2]))["trials"]
best = max(t["metrics"].get("test_accuracy_int8", 0) for t in front)
print(f"JapaneseVowels: best int8 test accuracy {best:.4f} over {len(front)} front trials; "
      f"padded {summary['padded']} series, lengths {summary['min_length']}..{summary['max_length']}")
assert best >= 0.95, f"best int8 test accuracy {best} < 0.95"
PY
((jv_status == 0)) || fail "JapaneseVowels figures: $(cat "$tmp/jv-figures.txt")"
pass "$(cat "$tmp/jv-figures.txt")"

nasctl export "$jv_id" best --format c -o "$tmp/jv-c" >/dev/null || fail "export --format c failed"
grep -q "TINYNAS_INPUT_MEAN" "$tmp/jv-c/model.h" || fail "model.h lacks the z-score constants"
grep -q '8 = "9"' "$tmp/jv-c/model.h" || fail "model.h lacks the class names: $(grep -i -A3 label "$tmp/jv-c/model.h" | head -20)"
(cd "$tmp/jv-c" && gcc -std=c99 -Wall -Wextra -Werror -O2 -I. -Iruntime main.c model.c \
  $(find runtime -name '*.c') -o example) >"$tmp/c-build.log" 2>&1 ||
  fail "exported C library does not build: $(tail -5 "$tmp/c-build.log")"
"$tmp/jv-c/example" >"$tmp/c-run.log" 2>&1 ||
  fail "exported C library fails its test vectors: $(tail -5 "$tmp/c-run.log")"
pass "JapaneseVowels best model exported as C (12x29 input), test vectors pass: $(tail -1 "$tmp/c-run.log")"

# ------------------------------------------- 3. 5 folds on 23 ECG5000 beats
# 10 beats of class 1, 8 of class 2, 2 of class 3 and 3 of class 4, written
# as whitespace-separated text (the older UCR .txt form).
zcat "$src/data/ecg5000/ECG5000_TRAIN.tsv.gz" | awk -F'\t' '
  { want = ($1 == 1) ? 10 : ($1 == 2) ? 8 : ($1 == 3) ? 2 : ($1 == 4) ? 3 : 0 }
  seen[$1] < want { seen[$1]++; $1 = $1; print }' OFS=' ' >"$tmp/ecg23.txt"
rows=$(wc -l <"$tmp/ecg23.txt")
((rows == 23)) || fail "ECG5000 subset has $rows rows, want 23"
cat >"$tmp/ecg23.yaml" <<YAML
name: ecg23-folds
seed: 7
policy: random
dataset: {name: ecg23, format: ucr_tsv, train_path: $tmp/ecg23.txt, input_shape: [1, 140], num_classes: 4}
validation: {folds: 5}
device: nrf52840
space:
  layer_types: [CONV1D, MAXPOOL1D]
  channels: [4, 8]
  kernels: [3, 5]
  min_layers: 2
  max_layers: 3
  max_dense_layers: 0
training: {optimizer: adam, learning_rate: 0.01, epochs: 10, batch_size: 8, latency_runs: 3}
budget: {max_trials: 3, max_attempts: 2}
YAML
ecg_id=$(nasctl submit "$tmp/ecg23.yaml" --json | py 'import json,sys; print(json.load(sys.stdin)["id"])')
watch_search "$ecg_id"
nasctl trials "$ecg_id" --json >"$tmp/ecg-trials.json"
"$python" - "$tmp/ecg-trials.json" <<'PY' || fail "5-fold figures"
import json, sys
trials = [t for t in json.load(open(sys.argv[1]))["trials"] if t["state"] == "TRIAL_SUCCEEDED"]
assert trials, "no trained trial"
for t in trials:
    m = t["metrics"]
    assert m.get("folds") == 5, f"trial {t['id']}: folds {m.get('folds')}"
    assert "accuracy_spread" in m and 0 <= m["accuracy_spread"] <= 0.5, m
print(f"{len(trials)} trials, spreads {[round(t['metrics'].get('accuracy_spread', 0), 3) for t in trials]}")
PY
nasctl trials "$ecg_id" >"$tmp/ecg-trials.txt"
grep -q "±" "$tmp/ecg-trials.txt" || fail "nasctl trials does not show the spread: $(cat "$tmp/ecg-trials.txt")"
pass "23 ECG5000 beats searched with 5 stratified folds; spreads shown"

echo "$passed passed, 0 failed"
