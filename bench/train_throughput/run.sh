#!/usr/bin/env bash
# Builds bench_train_throughput, then alternates it with its PyTorch peer
# (same networks, samples, batch, optimizer and threads) REPEATS times, so
# that both see the same machine load, and prints the table of medians.
#   bench/train_throughput/run.sh [THREADS]    (default: all hardware threads)
# Env: BUILD_DIR (default build-bench; an existing build directory is used as
# configured), SAMPLES (4096), EPOCHS (2), BATCH (64), REPEATS (5).
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
# and page-faults them in again every step. That costs the Python peer up to
# 4x on the small and medium networks, an allocator artefact we do not count
# against PyTorch: the peer runs with the thresholds raised. The C++ trainer's
# allocation pattern does not trigger it, and the same setting makes it
# slower with 2 threads, so it runs as the worker does, with glibc's defaults.
PEER_ENV=(env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)

OUT="$(mktemp -d /tmp/nasbenchXXXX)"
trap 'rm -rf "$OUT"' EXIT
COMMON=(--threads "$THREADS" --samples "$SAMPLES" --epochs "$EPOCHS" --batch "$BATCH")
for run in $(seq "$REPEATS"); do
  "$BUILD/bench/train_throughput/bench_train_throughput" --threads="$THREADS" \
    --samples="$SAMPLES" --epochs="$EPOCHS" --batch="$BATCH" \
    --out="$OUT/results.tsv" --indices_out="$OUT/indices.txt" 2> "$OUT/cpp.log" \
    || { cat "$OUT/cpp.log"; exit 1; }
  "${PEER_ENV[@]}" "$PYTHON" "$ROOT/bench/train_throughput/pytorch_peer.py" measure \
    --results "$OUT/results.tsv" --indices "$OUT/indices.txt" "${COMMON[@]}"
  echo "run $run of $REPEATS done" >&2
done
"$PYTHON" "$ROOT/bench/train_throughput/pytorch_peer.py" report \
  --results "$OUT/results.tsv" "${COMMON[@]}"
