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
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/logging.h"
#include "worker/dataset.h"
#include "worker/trainer.h"

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

void WriteIndices(const v1::DatasetSpec& spec, int64_t train_size) {
  const std::string path = absl::GetFlag(FLAGS_indices_out);
  if (path.empty()) return;
  absl::StatusOr<DataSplit> split = SplitTrainValidation(train_size, spec, 1);
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

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : static_cast<int>(std::thread::hardware_concurrency());
  SetTorchThreads(threads);
  const v1::DatasetSpec spec = BenchDataset();
  absl::StatusOr<Dataset> data = LoadDataset(spec);
  CHECK(data.ok()) << data.status();
  WriteIndices(spec, data->train->size());
  TrainOptions tuned;
  tuned.export_model = false;
  TrainOptions stock = tuned;
  stock.fused_optimizer = false;
  stock.channels_last = false;
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
  nas::InitLogging(argv[0]);
  return nas::worker::Main();
}
