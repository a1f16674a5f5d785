// Training throughput of the worker's real trainer path (worker::RunTrial:
// batches built from the compact uint8 storage, LibTorch forward/backward,
// the worker's optimizer) for three CNN sizes on Fashion-MNIST.
// pytorch_peer.py trains the same networks on the same samples with the same
// batch, optimizer and threads in PyTorch; run.sh alternates the two and
// prints the comparison.
//
// Each invocation trains every model once per variant (after an untimed
// warm-up epoch) and appends one
// tab-separated line per (model, variant) to --out:
//   name  architecture  params  variant  samples_per_second
// variant "cpp" is the worker as it runs trials (FusedOptimizer;
// channels-last for networks whose convolutions have >= 8 channels),
// "cpp-stock" the same trainer with both turned off (torch::optim, NCHW). --indices_out receives the training-sample indices.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/logging.h"
#include "worker/dataset.h"
#include "worker/process_setup.h"
#include "worker/trainer.h"

ABSL_FLAG(std::string, mode, "throughput",
          "throughput: every model, both variants; first_trial: the first and "
          "second trial of this fresh process (see FirstTrialMain)");
ABSL_FLAG(bool, process_setup, true,
          "Start as nas-worker does (worker/process_setup.h); false: glibc's "
          "malloc defaults, the baseline");
ABSL_FLAG(int, threads, 0, "Intra-op threads (0: all hardware threads)");
ABSL_FLAG(int, samples, 4096, "Training samples per epoch");
ABSL_FLAG(int, epochs, 2, "Epochs per run");
ABSL_FLAG(int, batch, 64, "Batch size");
ABSL_FLAG(std::string, out, "", "Append results here (TSV); stdout when empty");
ABSL_FLAG(std::string, indices_out, "", "Write the training indices here");

namespace nas::worker {
namespace {

struct BenchModel {
  const char* name;
  const char* arch;
};

constexpr BenchModel kModels[] = {
    {"tiny", "CONV2D(4,k3,s2,p1) RELU MAXPOOL2D(k2,s2) LINEAR(10)"},
    {"small",
     "CONV2D(8,k3,s1,p1) RELU MAXPOOL2D(k2,s2) CONV2D(16,k3,s1,p1) RELU "
     "MAXPOOL2D(k2,s2) LINEAR(10)"},
    {"medium",
     "CONV2D(16,k3,s1,p1) BATCHNORM RELU MAXPOOL2D(k2,s2) CONV2D(32,k3,s1,p1) "
     "BATCHNORM RELU MAXPOOL2D(k2,s2) LINEAR(64) RELU LINEAR(10)"},
};

v1::TrialTask BenchTask(const v1::DatasetSpec& dataset, const char* arch, int epochs) {
  v1::TrialTask task;
  absl::StatusOr<v1::Architecture> parsed = ParseArchitecture(arch);
  CHECK(parsed.ok()) << parsed.status();
  *task.mutable_architecture() = *parsed;
  *task.mutable_dataset() = dataset;
  v1::TrainingRecipe* recipe = task.mutable_training();
  recipe->set_optimizer("adam");
  recipe->set_learning_rate(0.001);
  recipe->set_epochs(epochs);
  recipe->set_batch_size(absl::GetFlag(FLAGS_batch));
  recipe->set_latency_runs(1);
  task.set_seed(1);
  task.set_trial_seed(2);
  return task;
}

v1::DatasetSpec BenchDataset() {
  v1::DatasetSpec spec;
  spec.set_name("fashion-mnist");
  absl::StatusOr<v1::DatasetSpec> resolved = ResolveDataset(spec, DefaultDataRoot());
  CHECK(resolved.ok()) << resolved.status();
  resolved->set_validation_fraction(0.1);
  resolved->set_train_subset(absl::GetFlag(FLAGS_samples));
  resolved->set_validation_subset(256);
  return *resolved;
}

void WriteIndices(const v1::DatasetSpec& spec, const std::vector<int32_t>& labels) {
  const std::string path = absl::GetFlag(FLAGS_indices_out);
  if (path.empty()) return;
  absl::StatusOr<DataSplit> split = SplitTrainValidation(labels, spec, 1);
  CHECK(split.ok()) << split.status();
  std::ofstream out(path);
  for (int64_t index : split->train) out << index << "\n";
}

// Trains `model` for `epochs` and returns the outcome.
TrialOutcome TrainOnce(const BenchModel& model, const v1::DatasetSpec& spec,
                       const Dataset& data, const TrainOptions& options, int epochs) {
  absl::StatusOr<TrialOutcome> outcome =
      RunTrial(BenchTask(spec, model.arch, epochs), data, options);
  CHECK(outcome.ok() && outcome->succeeded())
      << model.name << ": " << outcome.status() << " "
      << (outcome.ok() ? outcome->failure_reason : "");
  return *std::move(outcome);
}

// What one trial of the first_trial mode cost, beyond its training rate.
struct TrialCost {
  double samples_per_second = 0;
  double first_step_seconds = 0;   // The first optimizer step.
  double later_step_seconds = 0;   // The mean of the others.
  double measure_seconds = 0;      // Evaluation, latency, export.
};

TrialCost TimedTrial(const BenchModel& model, const v1::DatasetSpec& spec,
                     const Dataset& data, int epochs) {
  TrainOptions options;
  double first_step = 0, last_train = 0;
  int64_t steps = 0;
  options.on_progress = [&](const TrainProgress& p) {
    if (p.evaluating) return;
    if (++steps == 1) first_step = p.train_seconds;
    last_train = p.train_seconds;
  };
  const auto start = std::chrono::steady_clock::now();
  const TrialOutcome outcome = TrainOnce(model, spec, data, options, epochs);
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  TrialCost cost;
  cost.samples_per_second = outcome.metrics.samples_per_second();
  cost.first_step_seconds = first_step;
  cost.later_step_seconds = steps > 1 ? (last_train - first_step) / (steps - 1) : 0;
  cost.measure_seconds = total - outcome.metrics.train_seconds();
  return cost;
}

// The issue-14 round: in this fresh process, the data set is loaded and the
// same network trained twice, as a fresh worker trains its first two
// trials. One line to --out:
//   setup  load_s  rate1  rate2  first_step1  first_step2  step1  step2  measure1  measure2
int FirstTrialMain(bool setup) {
  const BenchModel model = {
      "issue14",
      "CONV2D(8,k5,s1,p2) BATCHNORM RELU MAXPOOL2D(k2,s2) CONV2D(16,k5,s1,p2) "
      "BATCHNORM RELU MAXPOOL2D(k2,s2) LINEAR(10)"};
  SetTorchThreads(absl::GetFlag(FLAGS_threads) > 0 ? absl::GetFlag(FLAGS_threads)
                                                   : UsableCores());
  const v1::DatasetSpec spec = BenchDataset();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Dataset> data = LoadDataset(spec);
  CHECK(data.ok()) << data.status();
  const double load =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int epochs = absl::GetFlag(FLAGS_epochs);
  const TrialCost first = TimedTrial(model, spec, *data, epochs);
  const TrialCost second = TimedTrial(model, spec, *data, epochs);
  std::ofstream file;
  if (!absl::GetFlag(FLAGS_out).empty()) file.open(absl::GetFlag(FLAGS_out), std::ios::app);
  std::ostream& out = file.is_open() ? file : std::cout;
  out << (setup ? "setup" : "defaults") << "\t" << load << "\t"
      << first.samples_per_second << "\t" << second.samples_per_second << "\t"
      << first.first_step_seconds << "\t" << second.first_step_seconds << "\t"
      << first.later_step_seconds << "\t" << second.later_step_seconds << "\t"
      << first.measure_seconds << "\t" << second.measure_seconds << std::endl;
  return 0;
}

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads) > 0 ? absl::GetFlag(FLAGS_threads)
                                                      : UsableCores();
  SetTorchThreads(threads);
  const v1::DatasetSpec spec = BenchDataset();
  absl::StatusOr<Dataset> data = LoadDataset(spec);
  CHECK(data.ok()) << data.status();
  WriteIndices(spec, data->train->labels);
  TrainOptions tuned;
  tuned.export_model = false;
  TrainOptions stock = tuned;
  stock.fused_optimizer = false;
  stock.channels_last = false;
  stock.gemm_linear = false;
  std::ofstream file;
  if (!absl::GetFlag(FLAGS_out).empty()) file.open(absl::GetFlag(FLAGS_out), std::ios::app);
  std::ostream& out = file.is_open() ? file : std::cout;
  for (const BenchModel& model : kModels) {
    for (const auto& [variant, options] : {std::make_pair("cpp", tuned),
                                           std::make_pair("cpp-stock", stock)}) {
      // An untimed epoch first: one-time costs (oneDNN primitive creation,
      // allocator growth) are not training throughput.
      TrainOnce(model, spec, *data, options, 1);
      const TrialOutcome outcome =
          TrainOnce(model, spec, *data, options, absl::GetFlag(FLAGS_epochs));
      out << model.name << "\t" << model.arch << "\t" << outcome.metrics.built_params()
          << "\t" << variant << "\t" << outcome.metrics.samples_per_second() << std::endl;
    }
  }
  return 0;
}

}  // namespace
}  // namespace nas::worker

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As nas-worker starts, unless the baseline is asked for.
  const bool setup = absl::GetFlag(FLAGS_process_setup);
  if (setup) nas::worker::PrepareTrainingProcess();
  nas::InitLogging(argv[0]);
  if (absl::GetFlag(FLAGS_mode) == "first_trial") {
    return nas::worker::FirstTrialMain(setup);
  }
  CHECK_EQ(absl::GetFlag(FLAGS_mode), "throughput") << "--mode: unknown";
  return nas::worker::Main();
}
