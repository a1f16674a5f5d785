#include "worker/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/cost_model.h"
#include "common/status_macros.h"
#include "worker/classification_metrics.h"
#include "worker/dataset_batch.h"
#include "worker/fused_optimizer.h"
#include "worker/gemm_linear.h"
#include "worker/int8_convert.h"
#include "worker/model_builder.h"
#include "worker/torchscript_export.h"

namespace nas::worker {
namespace {

constexpr double kDivergedLoss = 1e4;
constexpr int kDefaultLatencyRuns = 20;
constexpr int kLatencyWarmupRuns = 5;
constexpr int64_t kEvalBatchSize = 512;

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// LibTorch initialises weights from one process-wide generator; seeding and
// building under this lock keeps a trial's initial weights a function of its
// trial_seed even when several slots build models at once.
absl::Mutex init_mu;

absl::Status ValidateRecipe(const v1::TrainingRecipe& recipe) {
  std::vector<std::string> problems;
  if (recipe.optimizer() != "adam" && recipe.optimizer() != "adamw" &&
      recipe.optimizer() != "sgd") {
    problems.push_back(absl::StrCat("training.optimizer: unknown '",
                                    recipe.optimizer(), "' (adam, adamw, sgd)"));
  }
  if (!(recipe.learning_rate() > 0) || !std::isfinite(recipe.learning_rate())) {
    problems.push_back(absl::StrCat("training.learning_rate: ",
                                    recipe.learning_rate(), " must be > 0"));
  }
  if (recipe.epochs() <= 0) {
    problems.push_back(absl::StrCat("training.epochs: ", recipe.epochs(), " must be > 0"));
  }
  if (recipe.batch_size() <= 0) {
    problems.push_back(
        absl::StrCat("training.batch_size: ", recipe.batch_size(), " must be > 0"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

// Channels-last pays when every 2-D convolution has at least a vector's
// worth (8 floats, AVX2) of output channels: LibTorch's max-pooling and
// oneDNN's convolution kernels then run ~1.4x faster on NHWC tensors; with
// fewer channels the NHWC kernels waste vector lanes and run slower.
bool ChannelsLastPays(const torch::nn::Module& net) {
  bool any_conv = false;
  for (const auto& child : net.children()) {
    if (const auto* conv = child->as<torch::nn::Conv2d>()) {
      if (conv->options.out_channels() < 8) return false;
      any_conv = true;
    }
  }
  return any_conv;
}

// 4-D weights (2-D convolutions) in NHWC order.
void ToChannelsLast(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : net.parameters()) {
    // A copy, not contiguous(): with one input channel a weight counts as
    // channels-last already, yet only NHWC strides make the kernels pick
    // their channels-last paths.
    if (p.dim() == 4) {
      p.set_data(p.to(p.options(), /*non_blocking=*/false, /*copy=*/true,
                      torch::MemoryFormat::ChannelsLast));
    }
  }
}

// The state of one trial's training.
struct TrainingRun {
  const SampleSet* set;
  const TrainOptions* options;
  torch::Device device;
  bool channels_last;  // Batches and 4-D weights in NHWC order.
  BuiltModel model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::mt19937_64 rng;
  int64_t batch_size;
  int64_t samples_seen = 0;
  double final_loss = 0;
  TrainProgress progress;  // What on_progress is told.
  SteadyClock::time_point start = SteadyClock::now();
};

// Why training stopped early.
struct EarlyStop {
  TrialOutcome::Kind kind;
  std::string reason;
};

bool StopRequested(const TrainOptions& options) {
  return options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
}

// One optimizer step; returns the loss.
double TrainStep(TrainingRun* run, const int64_t* indices, int64_t n) {
  Batch batch = MakeBatch(*run->set, indices, n, run->device, run->channels_last);
  torch::Tensor labels = batch.labels.to(run->device);
  run->optimizer->zero_grad();
  torch::Tensor loss =
      torch::nn::functional::cross_entropy(run->model.net->forward(batch.inputs), labels);
  loss.backward();
  run->optimizer->step();
  return loss.item<double>();
}

std::optional<EarlyStop> TrainEpoch(TrainingRun* run, std::vector<int64_t>* order,
                                    int epoch) {
  // The trial's own engine: batch order is a function of trial_seed alone.
  ShuffleIndices(&run->rng, order);
  run->model.net->train();
  const auto total = static_cast<int64_t>(order->size());
  double loss_sum = 0;
  int64_t step = 0;
  // A last batch of one sample is dropped: batch-norm cannot train on it.
  for (int64_t begin = 0; total - begin >= 2; begin += run->batch_size, ++step) {
    if (StopRequested(*run->options)) {
      return EarlyStop{TrialOutcome::Kind::kCancelled,
                       absl::StrCat("cancelled at epoch ", epoch, " step ", step)};
    }
    const int64_t n = std::min(run->batch_size, total - begin);
    const double loss = TrainStep(run, order->data() + begin, n);
    if (!std::isfinite(loss) || loss > kDivergedLoss) {
      return EarlyStop{TrialOutcome::Kind::kFailed,
                       absl::StrCat("diverged: loss ", loss, " at epoch ", epoch,
                                    " step ", step + 1)};
    }
    run->samples_seen += n;
    loss_sum += loss;
    run->final_loss = loss_sum / (step + 1);
    if (run->options->on_progress) {
      TrainProgress& p = run->progress;
      p.epoch = epoch;
      p.batches_done = step + 1;
      p.batches_per_epoch = (total - 1 + run->batch_size - 1) / run->batch_size;
      p.loss = run->final_loss;
      p.samples_seen = run->samples_seen;
      p.train_seconds = SecondsSince(run->start);
      run->options->on_progress(p);
    }
  }
  return std::nullopt;
}

bool WeightsFinite(const torch::nn::Module& net) {
  for (const torch::Tensor& p : net.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

ConfusionMatrix Evaluate(TrainingRun* run, const SampleSet& set,
                         const std::vector<int64_t>& indices) {
  BuiltModel& model = run->model;
  torch::NoGradGuard no_grad;
  model.net->eval();
  ConfusionMatrix matrix(set.num_classes);
  for (size_t begin = 0; begin < indices.size(); begin += kEvalBatchSize) {
    const int64_t n = std::min<int64_t>(kEvalBatchSize, indices.size() - begin);
    Batch batch =
        MakeBatch(set, indices.data() + begin, n, run->device, run->channels_last);
    torch::Tensor predicted = model.net->forward(batch.inputs).argmax(1).to(torch::kCPU);
    const int64_t* p = predicted.data_ptr<int64_t>();
    const int64_t* truth = batch.labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      matrix.Add(static_cast<int>(truth[i]), static_cast<int>(p[i]));
    }
  }
  return matrix;
}

// Median wall time of `runs` batch-1 forward passes on the CPU, in ms.
double MeasureCpuLatencyMs(TrainingRun* run, const SampleSet& set, int64_t sample,
                           int runs) {
  torch::NoGradGuard no_grad;
  BuiltModel& model = run->model;
  model.net->to(torch::kCPU);
  model.net->eval();
  torch::Tensor input =
      MakeBatch(set, &sample, 1, torch::kCPU, run->channels_last).inputs;
  for (int i = 0; i < kLatencyWarmupRuns; ++i) model.net->forward(input);
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = SteadyClock::now();
    model.net->forward(input);
    times.push_back(SecondsSince(start) * 1e3);
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// Seeds the global generator and builds the model under init_mu.
absl::StatusOr<BuiltModel> BuildSeededModel(const v1::TrialTask& task,
                                            const v1::TensorShape& input,
                                            int num_classes) {
  absl::MutexLock lock(&init_mu);
  torch::manual_seed(task.trial_seed());
  return BuildModel(task.architecture(), input, num_classes);
}

// Analytic metrics from the cost model (the latency estimate only when the
// target device is known).
absl::Status FillAnalytic(const v1::TrialTask& task, const v1::TensorShape& input,
                          int num_classes, const TrainOptions& options,
                          v1::Metrics* metrics) {
  NAS_ASSIGN_OR_RETURN(CostReport report,
                       AnalyzeCost(task.architecture(), input, num_classes,
                                   options.target_device));
  FillAnalyticMetrics(report, metrics);  // Latency estimate 0 without a clock.
  return absl::OkStatus();
}

// All epochs; records training figures in outcome->metrics and sets the
// outcome's kind and reason when training stops early.
void Train(TrainingRun* run, std::vector<int64_t> order, int epochs,
           TrialOutcome* outcome) {
  const auto start = SteadyClock::now();
  run->start = start;
  v1::Metrics& metrics = outcome->metrics;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::optional<EarlyStop> stop = TrainEpoch(run, &order, epoch);
    if (!stop.has_value() && !WeightsFinite(*run->model.net)) {
      stop = EarlyStop{TrialOutcome::Kind::kFailed,
                       absl::StrCat("diverged: non-finite weights after epoch ", epoch)};
    }
    if (stop.has_value()) {
      outcome->kind = stop->kind;
      outcome->failure_reason = std::move(stop->reason);
      break;
    }
    metrics.set_epochs_run(epoch);
  }
  const double seconds = SecondsSince(start);
  metrics.set_train_seconds(seconds);
  metrics.set_final_loss(run->final_loss);
  metrics.set_samples_per_second(seconds > 0 ? run->samples_seen / seconds : 0);
  run->progress.train_seconds = seconds;
}

// Tells on_progress that training (and QAT) is over.
void ReportEvaluating(TrainingRun* run) {
  if (!run->options->on_progress) return;
  run->progress.evaluating = true;
  run->options->on_progress(run->progress);
}

// Validation (and test) accuracy and macro-F1, CPU latency and the export.
absl::Status Measure(const v1::TrialTask& task, const Dataset& data,
                     const DataSplit& split, TrainingRun* run,
                     TrialOutcome* outcome) {
  v1::Metrics& metrics = outcome->metrics;
  const ConfusionMatrix validation =
      Evaluate(run, *data.train, split.validation);
  metrics.set_accuracy(validation.Accuracy());
  metrics.set_macro_f1(validation.MacroF1());
  if (task.dataset().evaluate_test()) {
    std::vector<int64_t> all(data.test->size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    const ConfusionMatrix test = Evaluate(run, *data.test, all);
    metrics.set_test_accuracy(test.Accuracy());
    metrics.set_test_macro_f1(test.MacroF1());
  }
  const int runs = task.training().latency_runs() > 0 ? task.training().latency_runs()
                                                      : kDefaultLatencyRuns;
  metrics.set_latency_ms_cpu(
      MeasureCpuLatencyMs(run, *data.train, split.validation[0], runs));
  if (run->options->export_model) {
    NAS_ASSIGN_OR_RETURN(outcome->torchscript, ExportTorchScript(run->model));
  }
  return absl::OkStatus();
}

// After training: the int8 conversion's QAT (when asked), the float
// measurements, then the int8 model and its figures.
absl::Status FinishTrial(const v1::TrialTask& task, const Dataset& data,
                         const DataSplit& split, bool int8, TrainingRun* run,
                         TrialOutcome* outcome) {
  std::unique_ptr<Int8Converter> converter;
  if (int8) {
    NAS_ASSIGN_OR_RETURN(converter,
                         Int8Converter::Create({&task, &data, &split, run->options,
                                                run->device},
                                               run->model));
    NAS_RETURN_IF_ERROR(converter->FineTune(&run->progress, outcome));
    if (!outcome->succeeded()) return absl::OkStatus();
  }
  ReportEvaluating(run);
  NAS_RETURN_IF_ERROR(Measure(task, data, split, run, outcome));
  if (converter != nullptr) NAS_RETURN_IF_ERROR(converter->Convert(outcome));
  return absl::OkStatus();
}

absl::Status CheckData(const v1::TrialTask& task, const Dataset& data,
                       const DataSplit& split) {
  if (split.train.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset: the training split has ", split.train.size(),
        " sample(s); at least 2 are needed"));
  }
  if (task.dataset().evaluate_test() && data.test == nullptr) {
    return absl::InvalidArgumentError(
        "dataset.evaluate_test is set but no test file was loaded");
  }
  return absl::OkStatus();
}

absl::StatusOr<TrialOutcome> RunTrialUnguarded(const v1::TrialTask& task,
                                               const Dataset& data,
                                               const TrainOptions& options) {
  NAS_RETURN_IF_ERROR(ValidateRecipe(task.training()));
  NAS_RETURN_IF_ERROR(ValidateInt8Recipe(task.training()));
  NAS_ASSIGN_OR_RETURN(DataSplit split, SplitTrainValidation(
                                            data.train->size(), task.dataset(), task.seed()));
  NAS_RETURN_IF_ERROR(CheckData(task, data, split));
  const SampleSet& set = *data.train;
  v1::TensorShape input;
  for (int64_t d : set.shape()) input.add_dims(d);
  TrialOutcome outcome;
  NAS_RETURN_IF_ERROR(FillAnalytic(task, input, set.num_classes, options, &outcome.metrics));
  const torch::Device device(options.device == ComputeDevice::kCuda ? torch::kCUDA
                                                                    : torch::kCPU);
  NAS_ASSIGN_OR_RETURN(BuiltModel model, BuildSeededModel(task, input, set.num_classes));
  const bool channels_last =
      options.channels_last && device.is_cpu() && ChannelsLastPays(*model.net);
  if (channels_last) ToChannelsLast(*model.net);
  for (const auto& child : model.net->children()) {
    if (auto* linear = child->as<GemmLinear>()) linear->use_gemm = options.gemm_linear;
  }
  TrainingRun run{&set, &options, device, channels_last, std::move(model), nullptr,
                  std::mt19937_64(task.trial_seed()), task.training().batch_size()};
  run.model.net->to(device);
  run.optimizer = MakeOptimizer(task.training(), run.model.net->parameters(),
                                options.fused_optimizer && device.is_cpu());
  outcome.metrics.set_built_params(CountParameters(*run.model.net));
  const bool int8 = QuantizesToInt8(task.training());
  run.progress.epochs = task.training().epochs() + (int8 ? task.training().qat_epochs() : 0);
  Train(&run, split.train, task.training().epochs(), &outcome);
  if (!outcome.succeeded()) return outcome;
  NAS_RETURN_IF_ERROR(FinishTrial(task, data, split, int8, &run, &outcome));
  return outcome;
}

bool LooksLikeOutOfMemory(const std::string& message) {
  return message.find("out of memory") != std::string::npos ||
         message.find("can't allocate memory") != std::string::npos;
}

}  // namespace

absl::StatusOr<ComputeDevice> ChooseComputeDevice(absl::string_view flag) {
  if (flag == "cpu") return ComputeDevice::kCpu;
  const bool cuda = torch::cuda::is_available();
  if (flag == "auto") return cuda ? ComputeDevice::kCuda : ComputeDevice::kCpu;
  if (flag == "cuda") {
    if (cuda) return ComputeDevice::kCuda;
    return absl::FailedPreconditionError(
        "--device=cuda: LibTorch sees no CUDA device (CPU-only build or no GPU)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--device: unknown '", flag, "' (auto, cpu, cuda)"));
}

const char* ComputeDeviceName(ComputeDevice device) {
  return device == ComputeDevice::kCuda ? "cuda" : "cpu";
}

void SetTorchThreads(int threads) { torch::set_num_threads(std::max(1, threads)); }

absl::StatusOr<TrialOutcome> RunTrial(const v1::TrialTask& task,
                                      const Dataset& data,
                                      const TrainOptions& options) {
  try {
    return RunTrialUnguarded(task, data, options);
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    if (LooksLikeOutOfMemory(message)) {
      return absl::ResourceExhaustedError(absl::StrCat("out of memory: ", message));
    }
    return absl::InternalError(absl::StrCat("LibTorch error: ", message));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory (std::bad_alloc)");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("trainer error: ", e.what()));
  }
}

}  // namespace nas::worker
