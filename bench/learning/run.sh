#!/usr/bin/env bash
# Does the search learn? random vs qlearning vs evolution, same budget.
#
#   bench/learning/run.sh            (about 35 min on 2 cores)
#
# For every data set (bench/learning/<name>.yaml), seed and policy it submits
# the same search -- same space, recipe, reward and budget; only `seed:`,
# `policy:` and the policy's options are appended -- to a private controller
# with its own PostgreSQL and workers, waits for it, dumps its trials as JSON
# and finally runs analyze.py (best-reward-so-far curves, trials needed to
# reach random's final best, curves.svg/png). The seed fixes the data split
# and the result-cache key, so searches with the same seed share results: the
# same network gets the same score whichever policy proposes it (a cached
# trial counts against the budget like a trained one).
#
# Installs python3-matplotlib if missing (scripts/install_deps.sh), builds nas-controller, nas-worker
# and nasctl (Release), and stops everything it started on exit, also on
# failure or Ctrl-C. Exit status 0 when every search SUCCEEDED and the
# analysis ran (whether the policies met the goal is in the report).
#
# Environment:
#   TINYNAS_BUILD_DIR   build directory (default build, as scripts/demo.sh)
#   BENCH_NO_BUILD=1    use the binaries as built, do not run cmake
#   TINYNAS_JOBS        build jobs (default nproc)
#   BENCH_OUT           results (default bench/learning/out)
#   BENCH_DATASETS      default "ecg5000 fashion-mnist"
#   BENCH_SEEDS         default "1 2 3"
#   BENCH_POLICIES      default "random qlearning evolution"
#   BENCH_TRIALS        override budget.max_trials of every spec
#   BENCH_QLEARNING     qlearning options as a YAML flow map (default: an
#                       epsilon schedule scaled to the budget, see below)
#   BENCH_EVOLUTION     evolution options as a YAML flow map (default:
#                       population and sample scaled to the budget)
#   BENCH_WORKERS       workers, one slot each (default 2)
#   BENCH_WORKER_THREADS intra-op threads per worker (default 1)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
here=bench/learning
build_dir=${TINYNAS_BUILD_DIR:-build}
jobs=${TINYNAS_JOBS:-$(nproc)}
out=${BENCH_OUT:-$here/out}
datasets=${BENCH_DATASETS:-ecg5000 fashion-mnist}
seeds=${BENCH_SEEDS:-1 2 3}
policies=${BENCH_POLICIES:-random qlearning evolution}
num_workers=${BENCH_WORKERS:-2}
threads=${BENCH_WORKER_THREADS:-1}
python=/usr/bin/python3  # Debian's python3-matplotlib is not in pyenv's.

die() { echo "bench/learning: $*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }

for ds in $datasets; do
  [[ -f $here/$ds.yaml ]] || die "no spec $here/$ds.yaml for data set '$ds'"
done
for p in $policies; do
  [[ $p =~ ^(random|qlearning|evolution)$ ]] ||
    die "unknown policy '$p' in BENCH_POLICIES (random, qlearning, evolution)"
done
[[ " $policies " == *" random "* ]] ||
  die "BENCH_POLICIES must include random (the reference of the analysis)"
[[ -z ${BENCH_TRIALS:-} || ${BENCH_TRIALS} =~ ^[1-9][0-9]*$ ]] ||
  die "BENCH_TRIALS must be a positive integer, got '${BENCH_TRIALS}'"

source scripts/lib/stack.sh
stack_init bench/learning
stack_remove_pg=1

# ------------------------------------------------------------ requirements
scripts/install_deps.sh python3-matplotlib || die "installing the packages failed"
controller_bin=$build_dir/controller/nas-controller
worker_bin=$build_dir/worker/nas-worker
nasctl_bin=$build_dir/nasctl/nasctl
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  note "building nas-controller, nas-worker and nasctl in $build_dir"
  start=$SECONDS
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTINYNAS_BUILD_WORKER=ON \
      >"/tmp/bench-learning-cmake.$$.log" 2>&1 ||
      die "cmake configure failed, see /tmp/bench-learning-cmake.$$.log"
  fi
  stack_run_bg cmake --build "$build_dir" --target nas-controller nas-worker nasctl -j"$jobs" \
    >"/tmp/bench-learning-build.$$.log" 2>&1 ||
    die "build failed, see /tmp/bench-learning-build.$$.log"
  rm -f "/tmp/bench-learning-cmake.$$.log" "/tmp/bench-learning-build.$$.log"
  note "build: $((SECONDS - start)) s"
fi
for bin in "$controller_bin" "$worker_bin" "$nasctl_bin"; do
  [[ -x $bin ]] || die "$bin is not built"
done
nasctl() { "$nasctl_bin" "$@"; }

# ---------------------------------------------------------------- services
rm -rf "$out"
mkdir -p "$out/logs" "$out/specs"
logs=$out/logs
stack_start_pg "$(mktemp -d /tmp/naslearnXXXX)"
stack_start_controller "$controller_bin" "$stack_db_uri" "$stack_pg_dir/controller.port" \
  "$logs/controller.log"
stack_start_workers "$worker_bin" "$num_workers" "$threads" bench cpu "$logs"
note "controller $TINYNAS_CONTROLLER, $num_workers workers x $threads thread(s); logs in $logs"

# ------------------------------------------------------------------- specs
budget_of() {  # the spec's budget.max_trials
  grep -E '^\s+max_trials:\s*[0-9]+' "$1" | head -n 1 | grep -oE '[0-9]+'
}

# Default policy options, scaled to the budget N. qlearning: epsilon 1.0
# (random layers) for the first quarter, 0.5 for the second, then 0.3: with
# epsilon per layer decision, a greedy proposal repeats the best path known
# so far (a cached trial that still counts against the budget), so the
# exploiting phase keeps enough randomness to propose its neighbours.
# Learning rate 0.1 instead of MetaQNN's 0.01: with 0.01 and Q starting at
# 0.5 below every reward, a few dozen models leave Q ranking paths by how
# often they were replayed rather than by their reward. evolution (aging):
# a population of N/6 (4..100), a quarter of it (2..25) sampled per parent.
policy_options() {
  local policy=$1 n=$2
  case "$policy" in
    qlearning)
      if [[ -n ${BENCH_QLEARNING:-} ]]; then echo "qlearning: $BENCH_QLEARNING"; return; fi
      local quarter=$(( n / 4 > 0 ? n / 4 : 1 ))
      local rest=$(( n - 2 * quarter > 0 ? n - 2 * quarter : 1 ))
      echo "qlearning: {epsilon_schedule: [{epsilon: 1.0, models: $quarter}," \
        "{epsilon: 0.5, models: $quarter}, {epsilon: 0.3, models: $rest}]," \
        "learning_rate: 0.1, replay_per_model: 64}"
      ;;
    evolution)
      if [[ -n ${BENCH_EVOLUTION:-} ]]; then echo "evolution: $BENCH_EVOLUTION"; return; fi
      local p=$(( n / 6 )); p=$(( p < 4 ? 4 : (p > 100 ? 100 : p) ))
      local s=$(( p / 4 )); s=$(( s < 2 ? 2 : (s > 25 ? 25 : s) ))
      echo "evolution: {population: $p, sample: $s}"
      ;;
  esac
}

make_spec() {  # DATASET SEED POLICY -> path of the filled-in spec
  local ds=$1 seed=$2 policy=$3
  local spec=$out/specs/$ds-seed$seed-$policy.yaml
  if [[ -n ${BENCH_TRIALS:-} ]]; then
    sed -E "s/^(\s+max_trials:\s*)[0-9]+/\1$BENCH_TRIALS/" "$here/$ds.yaml" >"$spec"
  else
    cp "$here/$ds.yaml" "$spec"
  fi
  local n
  n=$(budget_of "$spec") || die "$here/$ds.yaml has no budget.max_trials"
  { echo; echo "seed: $seed"; echo "policy: $policy"; policy_options "$policy" "$n"; } >>"$spec"
  echo "$spec"
}

json_field() {  # FILE EXPRESSION: prints EXPRESSION evaluated on the JSON doc `d`
  "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ------------------------------------------------------------------ search
run_search() {  # DATASET SEED POLICY
  local ds=$1 seed=$2 policy=$3
  local tag=$ds-seed$seed-$policy spec id start=$SECONDS
  spec=$(make_spec "$ds" "$seed" "$policy")
  nasctl --json submit "$spec" >"$out/$tag.submit.json" 2>"$logs/$tag.submit.err" ||
    die "$tag: submit failed: $(head -n 3 "$logs/$tag.submit.err" | tr '\n' ' ')"
  id=$(json_field "$out/$tag.submit.json" 'd["id"]')
  local watch_rc=0
  stack_run_bg "$nasctl_bin" watch "$id" >"$logs/$tag.watch.log" 2>&1 || watch_rc=$?
  nasctl --json show "$id" >"$out/$tag.search.json" ||
    die "$tag: nasctl show $id failed"
  nasctl --json trials "$id" >"$out/$tag.trials.json" ||
    die "$tag: nasctl trials $id failed"
  # State, message and the summary line from one read of the search.
  local state message summary
  IFS=$'\t' read -r state message summary < <(json_field "$out/$tag.search.json" \
    '"\t".join([d["search"]["state"], d["search"].get("message", "").replace("\t", " ").replace("\n", " ") or "-", "%s done (%s cached, %s failed, %s infeasible), best reward %.4f" % (d["search"]["trials_done"], d["search"]["trials_cached"], d["search"]["trials_failed"], d["search"]["trials_infeasible"], d["search"]["best_reward"])])')
  if ((watch_rc != 0)) || [[ $state != SEARCH_SUCCEEDED ]]; then
    die "$tag: search $id ended $state: $message"
  fi
  local secs=$((SECONDS - start))
  printf '%s\t%s\t%s\t%s\t%s\n' "$ds" "$seed" "$policy" "$id" "$secs" >>"$out/runs.tsv"
  note "$(printf '%-14s seed %-3s %-10s search %-4s %5d s  %s' "$ds" "$seed" "$policy" "$id" "$secs" "$summary")"
}

printf 'dataset\tseed\tpolicy\tsearch_id\twall_s\n' >"$out/runs.tsv"
bench_start=$SECONDS
for ds in $datasets; do
  for seed in $seeds; do
    for policy in $policies; do
      run_search "$ds" "$seed" "$policy"
    done
  done
done
note "all searches: $((SECONDS - bench_start)) s"

"$python" "$here/analyze.py" "$out" | tee "$out/report.txt"
