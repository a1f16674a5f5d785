// Host speed of the int8 runtime (mcu/runtime, the C99 kernels every exported
// model ships) at batch 1 against LibTorch float on the same networks, and
// their float and int8 accuracy.
//
// Each network is trained as a worker trains a trial (worker::RunTrial: a
// short run on a Fashion-MNIST or ECG5000 subset, quantised to int8), then
// timed here: the float model as its TorchScript export (torch::jit, eval,
// no grad, one intra-op thread) and the int8 model with mcu::Int8Interpreter,
// alternating one call each on the same real input, `--runs` times after a
// warm-up. Prints per network the median microseconds per inference of both
// and the ratio float / int8 (> 1: the int8 runtime is faster).
//
// --mode=cost: what int8 adds to a trial instead. Each network is trained
// with quantize none and with int8; the seconds from the end of training to
// the end of the trial are compared (the difference is the conversion and
// the int8 evaluation of the validation split), against the training time.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/logging.h"
#include "mcu/model_tables.h"
#include "worker/dataset.h"
#include "worker/process_setup.h"
#include "worker/trainer.h"

ABSL_FLAG(int, runs, 500, "Timed inferences per network and runtime");
ABSL_FLAG(int, train_subset, 4000, "Training samples of each trial");
ABSL_FLAG(int, epochs, 2, "Training epochs of each trial");
ABSL_FLAG(std::string, mode, "speed",
          "speed: the runtimes at batch 1; cost: what int8 adds to a trial "
          "(each network trained with quantize int8 and with none)");

namespace nas::worker {
namespace {

struct BenchNet {
  const char* dataset;
  const char* name;
  const char* arch;
};

constexpr BenchNet kNets[] = {
    {"fashion-mnist", "small",
     "CONV2D(8,k3,p1) RELU MAXPOOL2D(k2) CONV2D(16,k3,p1) RELU MAXPOOL2D(k2) "
     "LINEAR(10)"},
    {"fashion-mnist", "medium",
     "CONV2D(16,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) CONV2D(32,k3,p1) BATCHNORM "
     "RELU MAXPOOL2D(k2) LINEAR(64) RELU LINEAR(10)"},
    {"fashion-mnist", "separable",
     "CONV2D(16,k3,s2,p1) BATCHNORM RELU DEPTHWISE_CONV2D(k3,p1) BATCHNORM RELU "
     "POINTWISE_CONV2D(32) BATCHNORM RELU AVGPOOL2D(k2) GLOBAL_AVGPOOL LINEAR(10)"},
    {"ecg5000", "ecg-small",
     "CONV1D(8,k5,p2) RELU MAXPOOL1D(k2) CONV1D(16,k5,p2) RELU MAXPOOL1D(k2) "
     "LINEAR(5)"},
    {"ecg5000", "ecg-separable",
     "CONV1D(16,k7,s2,p3) BATCHNORM RELU DEPTHWISE_CONV1D(k5,p2) BATCHNORM RELU "
     "CONV1D(32,k1) RELU AVGPOOL1D(k2) GLOBAL_AVGPOOL LINEAR(5)"},
};

v1::TrialTask Task(const BenchNet& net) {
  v1::DatasetSpec spec;
  spec.set_name(net.dataset);
  absl::StatusOr<v1::DatasetSpec> resolved = ResolveDataset(spec, DefaultDataRoot());
  CHECK(resolved.ok()) << resolved.status();
  resolved->set_validation_fraction(0.2);
  resolved->set_train_subset(absl::GetFlag(FLAGS_train_subset));
  v1::TrialTask task;
  *task.mutable_dataset() = *resolved;
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(net.arch);
  CHECK(arch.ok()) << arch.status();
  *task.mutable_architecture() = *arch;
  v1::TrainingRecipe* recipe = task.mutable_training();
  recipe->set_optimizer("adam");
  recipe->set_learning_rate(0.003);
  recipe->set_epochs(absl::GetFlag(FLAGS_epochs));
  recipe->set_batch_size(32);
  recipe->set_latency_runs(1);
  recipe->set_quantize("int8");
  recipe->set_calibration_samples(1000);
  recipe->set_calibration("minmax");
  task.set_seed(3);
  task.set_trial_seed(4);
  return task;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double Micros(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

void BenchOne(const BenchNet& net) {
  const v1::TrialTask task = Task(net);
  absl::StatusOr<Dataset> data = LoadDataset(task.dataset());
  CHECK(data.ok()) << data.status();
  TrainOptions options;
  absl::StatusOr<TrialOutcome> outcome = RunTrial(task, *data, options);
  CHECK(outcome.ok()) << outcome.status();
  CHECK(outcome->succeeded()) << outcome->failure_reason;
  const v1::QuantizedModel& q = outcome->int8_model;
  CHECK(outcome->metrics.int8()) << "no int8 model";

  absl::StatusOr<mcu::Int8Interpreter> interpreter = mcu::Int8Interpreter::Create(q);
  CHECK(interpreter.ok()) << interpreter.status();
  std::istringstream script(outcome->torchscript);
  torch::jit::script::Module module = torch::jit::load(script);
  module.eval();

  // The first test vector: a real validation input, and its float form.
  const int input_bytes = interpreter->input_bytes();
  std::vector<int8_t> input(q.test_inputs().begin(), q.test_inputs().begin() + input_bytes);
  std::vector<int8_t> output(interpreter->output_bytes());
  std::vector<int64_t> shape = {1};
  for (int64_t d : q.input_shape().dims()) shape.push_back(d);
  torch::Tensor x = torch::empty(shape);
  float* xf = x.data_ptr<float>();
  for (int i = 0; i < input_bytes; ++i) {
    xf[i] = q.input_scale() * static_cast<float>(input[i] - q.input_zero_point());
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::jit::IValue> args = {x};
  for (int i = 0; i < 20; ++i) {  // Warm-up: oneDNN primitives, caches.
    module.forward(args);
    CHECK(interpreter->Invoke(input, absl::MakeSpan(output)).ok());
  }
  std::vector<double> float_us, int8_us;
  for (int i = 0; i < absl::GetFlag(FLAGS_runs); ++i) {
    float_us.push_back(Micros([&] { module.forward(args); }));
    int8_us.push_back(Micros([&] { (void)interpreter->Invoke(input, absl::MakeSpan(output)); }));
  }
  const v1::Metrics& m = outcome->metrics;
  const double f = Median(float_us), q8 = Median(int8_us);
  std::printf("%-14s %-13s %9lld %10.1f %10.1f %7.2f %8.2f %8.2f %+7.2f\n", net.dataset, net.name,
              static_cast<long long>(m.macs()), f, q8, f / q8, 100 * m.accuracy(),
              100 * m.accuracy_int8(), 100 * (m.accuracy_int8() - m.accuracy()));
  std::fflush(stdout);
}

// Seconds from the end of training to the end of the trial (float
// evaluation, latency, export, and with int8 the conversion and its
// evaluation), and the training seconds.
struct TrialTimes {
  double train = 0;
  double after_training = 0;
};

TrialTimes TimeTrial(v1::TrialTask task, const Dataset& data, const std::string& quantize) {
  task.mutable_training()->set_quantize(quantize);
  std::chrono::steady_clock::time_point evaluating;
  TrainOptions options;
  options.on_progress = [&](const TrainProgress& p) {
    if (p.evaluating) evaluating = std::chrono::steady_clock::now();
  };
  absl::StatusOr<TrialOutcome> outcome = RunTrial(task, data, options);
  CHECK(outcome.ok()) << outcome.status();
  CHECK(outcome->succeeded()) << outcome->failure_reason;
  return {outcome->metrics.train_seconds(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - evaluating).count()};
}

// What int8 adds to a trial: the time after training with quantize int8
// minus the same without, against the training time (one warm-up trial
// first: the first trial of a process pays oneDNN's primitive creation).
void CostOne(const BenchNet& net) {
  const v1::TrialTask task = Task(net);
  absl::StatusOr<Dataset> data = LoadDataset(task.dataset());
  CHECK(data.ok()) << data.status();
  TimeTrial(task, *data, "none");
  const TrialTimes none = TimeTrial(task, *data, "none");
  const TrialTimes int8 = TimeTrial(task, *data, "int8");
  const double cost = int8.after_training - none.after_training;
  std::printf("%-14s %-13s %9.2f %12.2f %12.2f %9.2f %7.2f\n", net.dataset, net.name,
              int8.train, none.after_training, int8.after_training, cost, cost / int8.train);
  std::fflush(stdout);
}

}  // namespace
}  // namespace nas::worker

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  LOG(INFO) << nas::worker::PrepareTrainingProcess();
  nas::worker::SetTorchThreads(1);
  if (absl::GetFlag(FLAGS_mode) == "cost") {
    std::printf("%-14s %-13s %9s %12s %12s %9s %7s\n", "dataset", "network", "train s",
                "after, none", "after, int8", "int8 s", "/train");
    for (const auto& net : nas::worker::kNets) nas::worker::CostOne(net);
    return 0;
  }
  CHECK(absl::GetFlag(FLAGS_mode) == "speed") << "--mode: speed or cost";
  std::printf("%-14s %-13s %9s %10s %10s %7s %8s %8s %7s\n", "dataset", "network", "MACs",
              "float us", "int8 us", "ratio", "float %", "int8 %", "drop");
  for (const auto& net : nas::worker::kNets) nas::worker::BenchOne(net);
  return 0;
}
