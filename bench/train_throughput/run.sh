#!/usr/bin/env bash
# Builds bench_train_throughput, then alternates it with its PyTorch peer
# (same networks, samples, batch, optimizer and threads) REPEATS times, so
# that both see the same machine load, and prints the table of medians.
#   bench/train_throughput/run.sh [THREADS]    (default: all hardware threads)
# Then the first-trial round: REPEATS fresh processes started as nas-worker
# starts, alternating with REPEATS started with glibc's malloc
# defaults (the baseline), each training the same network twice
# (FIRST_SAMPLES x 2 epochs); it prints each one's first-trial rate against
# its second (aim: >= 0.9) and what else the first trial paid.
# Env: BUILD_DIR (default build-bench; an existing build directory is used as
# configured), SAMPLES (4096), EPOCHS (2), BATCH (64), REPEATS (5),
# FIRST_SAMPLES (15000), ROUNDS ("throughput first_trial").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-bench}"
THREADS="${1:-$(nproc)}"
SAMPLES="${SAMPLES:-4096}" EPOCHS="${EPOCHS:-2}" BATCH="${BATCH:-64}" REPEATS="${REPEATS:-5}"
PYTHON=/usr/bin/python3  # Debian's python3-torch lives in the system python.
[ -x "$PYTHON" ] || PYTHON=python3

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_TESTS=OFF > /dev/null
fi
cmake --build "$BUILD" --target bench_train_throughput -j"$(nproc)" > /dev/null

# glibc hands large freed blocks (a batch's activations) back to the kernel
# and page-faults them in again every step until its mmap threshold has grown.
# That costs the Python peer up to 4x on the small and medium networks, an
# allocator artefact we do not count against PyTorch: the peer runs with the
# thresholds raised. The C++ side starts as nas-worker does
# (worker/process_setup.h), which sets the same thresholds in-process.
PEER_ENV=(env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)

OUT="$(mktemp -d /tmp/nasbenchXXXX)"
trap 'rm -rf "$OUT"' EXIT
ROUNDS="${ROUNDS:-throughput first_trial}"
BENCH="$BUILD/bench/train_throughput/bench_train_throughput"
COMMON=(--threads "$THREADS" --samples "$SAMPLES" --epochs "$EPOCHS" --batch "$BATCH")
if [[ " $ROUNDS " == *" first_trial "* ]]; then
  for run in $(seq "$REPEATS"); do
    for setup in false true; do
      "$BENCH" --mode=first_trial --process_setup="$setup" --threads="$THREADS" \
        --samples="${FIRST_SAMPLES:-15000}" --epochs=2 --batch="$BATCH" \
        --out="$OUT/first.tsv" 2> "$OUT/first.log" || { cat "$OUT/first.log"; exit 1; }
    done
    echo "first-trial run $run of $REPEATS done" >&2
  done
  "$PYTHON" - "$OUT/first.tsv" "$THREADS" "${FIRST_SAMPLES:-15000}" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"First trial of a fresh process: Fashion-MNIST {sys.argv[3]} samples x 2 epochs, "
      f"{sys.argv[2]} thread(s), median of {len(rows) // 2} processes each")
print(f"{'start-up':10} {'rate 1st':>9} {'rate 2nd':>9} {'1st/2nd':>8} {'load s':>7} "
      f"{'step1 1st':>10} {'step1 2nd':>10} {'step 1st':>9} {'step 2nd':>9} {'meas 1st':>9} {'meas 2nd':>9}")
for kind in ("defaults", "setup"):
    r = [[float(x) for x in row[1:]] for row in rows if row[0] == kind]
    med = [statistics.median(c) for c in zip(*r)]
    ratio = statistics.median(x[1] / x[2] for x in r)
    print(f"{kind:10} {med[1]:9.0f} {med[2]:9.0f} {ratio:8.2f} {med[0]:7.2f} "
          f"{med[3]*1e3:8.1f}ms {med[4]*1e3:8.1f}ms {med[5]*1e3:7.2f}ms {med[6]*1e3:7.2f}ms "
          f"{med[7]*1e3:7.0f}ms {med[8]*1e3:7.0f}ms")
print("defaults: glibc's malloc as it comes; setup: as nas-worker starts.")
print("step1: the first optimizer step; step: the mean of the others; meas: evaluation, latency, export.")
PY
fi
[[ " $ROUNDS " == *" throughput "* ]] || exit 0
for run in $(seq "$REPEATS"); do
  "$BENCH" --threads="$THREADS" \
    --samples="$SAMPLES" --epochs="$EPOCHS" --batch="$BATCH" \
    --out="$OUT/results.tsv" --indices_out="$OUT/indices.txt" 2> "$OUT/cpp.log" \
    || { cat "$OUT/cpp.log"; exit 1; }
  "${PEER_ENV[@]}" "$PYTHON" "$ROOT/bench/train_throughput/pytorch_peer.py" measure \
    --results "$OUT/results.tsv" --indices "$OUT/indices.txt" "${COMMON[@]}"
  echo "run $run of $REPEATS done" >&2
done
"$PYTHON" "$ROOT/bench/train_throughput/pytorch_peer.py" report \
  --results "$OUT/results.tsv" "${COMMON[@]}"
