#include "worker/trainer.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <new>
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
#include "worker/folds.h"
#include "worker/fused_optimizer.h"
#include "worker/gemm_linear.h"
#include "worker/int8_convert.h"
#include "worker/model_builder.h"
#include "worker/torchscript_export.h"
#include "worker/training_loop.h"

namespace nas::worker {
namespace {

constexpr int kDefaultLatencyRuns = 20;

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

// Seeds the global generator with `seed` and builds the model under init_mu.
absl::StatusOr<BuiltModel> BuildSeededModel(const v1::TrialTask& task, uint64_t seed,
                                            const v1::TensorShape& input,
                                            int num_classes) {
  absl::MutexLock lock(&init_mu);
  torch::manual_seed(seed);
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

// One fold of a trial (the trial itself when it has one split).
struct Fold {
  int index = 0;  // 0-based; fold 0's network is the one the trial delivers.
  int count = 1;
  uint64_t seed = 0;  // trial_seed + index: weights, batch order, calibration.
  const DataSplit* split = nullptr;
  InputNormalization normalization;

  // Fold 0 measures everything; the others only their validation figures.
  bool primary() const { return index == 0; }
  bool last() const { return index + 1 == count; }
};

// Validation (and test) accuracy and macro-F1, CPU latency and the export;
// for a fold after the first only the validation figures.
absl::Status Measure(const v1::TrialTask& task, const Dataset& data, const Fold& fold,
                     TrainingRun* run, TrialOutcome* outcome) {
  v1::Metrics& metrics = outcome->metrics;
  const std::vector<int64_t>& validation_indices = fold.split->validation;
  const ConfusionMatrix validation = Evaluate(run, *data.train, validation_indices);
  metrics.set_accuracy(validation.Accuracy());
  metrics.set_macro_f1(validation.MacroF1());
  if (!fold.primary()) return absl::OkStatus();
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
      MeasureCpuLatencyMs(run, *data.train, validation_indices[0], runs));
  if (run->options->export_model) {
    NAS_ASSIGN_OR_RETURN(outcome->torchscript, ExportTorchScript(run->model));
  }
  return absl::OkStatus();
}

// After training: the int8 conversion's QAT (when asked), the float
// measurements, then the int8 model and its figures.
absl::Status FinishFold(const v1::TrialTask& task, const Dataset& data, const Fold& fold,
                        bool int8, TrainingRun* run, TrialOutcome* outcome) {
  std::unique_ptr<Int8Converter> converter;
  if (int8) {
    Int8Converter::Context context{&task, &data, fold.split, run->options, run->device};
    context.normalization = &fold.normalization;
    context.seed = fold.seed;
    context.epochs_before = run->epochs_before + task.training().epochs();
    context.validation_only = !fold.primary();
    NAS_ASSIGN_OR_RETURN(converter, Int8Converter::Create(context, run->model));
    NAS_RETURN_IF_ERROR(converter->FineTune(run->progress, outcome));
    if (!outcome->succeeded()) return absl::OkStatus();
  }
  if (fold.last()) ReportEvaluating(run);
  NAS_RETURN_IF_ERROR(Measure(task, data, fold, run, outcome));
  if (converter != nullptr) NAS_RETURN_IF_ERROR(converter->Convert(outcome));
  return absl::OkStatus();
}

absl::Status CheckData(const v1::TrialTask& task, const Dataset& data,
                       const std::vector<DataSplit>& splits) {
  for (const DataSplit& split : splits) {
    if (split.train.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dataset: the training split has ", split.train.size(),
          " sample(s); at least 2 are needed"));
    }
  }
  if (task.dataset().evaluate_test() && data.test == nullptr) {
    return absl::InvalidArgumentError(
        "dataset.evaluate_test is set but no test file was loaded");
  }
  return absl::OkStatus();
}

// Builds, trains and measures the network of one fold, continuing
// `progress`.
absl::StatusOr<TrialOutcome> RunFold(const v1::TrialTask& task, const Dataset& data,
                                     const Fold& fold, const TrainOptions& options,
                                     TrainProgress* progress) {
  const SampleSet& set = *data.train;
  v1::TensorShape input;
  for (int64_t d : set.shape()) input.add_dims(d);
  TrialOutcome outcome;
  NAS_RETURN_IF_ERROR(
      FillAnalytic(task, input, set.num_classes, options, &outcome.metrics));
  const torch::Device device(options.device == ComputeDevice::kCuda ? torch::kCUDA
                                                                    : torch::kCPU);
  NAS_ASSIGN_OR_RETURN(BuiltModel model,
                       BuildSeededModel(task, fold.seed, input, set.num_classes));
  const bool channels_last =
      options.channels_last && device.is_cpu() && ChannelsLastPays(*model.net);
  if (channels_last) ToChannelsLast(*model.net);
  for (const auto& child : model.net->children()) {
    if (auto* linear = child->as<GemmLinear>()) linear->use_gemm = options.gemm_linear;
  }
  const bool int8 = QuantizesToInt8(task.training());
  const int fold_epochs =
      task.training().epochs() + (int8 ? task.training().qat_epochs() : 0);
  TrainingRun run{&set, &fold.normalization, &options, device, channels_last,
                  std::move(model), nullptr, std::mt19937_64(fold.seed),
                  task.training().batch_size()};
  run.epochs_before = fold.index * fold_epochs;
  run.progress = progress;
  run.samples_before = progress->samples_seen;
  run.seconds_before = progress->train_seconds;
  run.model.net->to(device);
  run.optimizer = MakeOptimizer(task.training(), run.model.net->parameters(),
                                options.fused_optimizer && device.is_cpu());
  outcome.metrics.set_built_params(CountParameters(*run.model.net));
  Train(&run, fold.split->train, task.training().epochs(), &outcome);
  if (!outcome.succeeded()) return outcome;
  NAS_RETURN_IF_ERROR(FinishFold(task, data, fold, int8, &run, &outcome));
  return outcome;
}

// "fold 2 of 5: " before a fold's failure or cancellation (nothing with one
// split).
void NameFold(const Fold& fold, TrialOutcome* outcome) {
  if (fold.count > 1) {
    outcome->failure_reason = absl::StrCat("fold ", fold.index + 1, " of ", fold.count,
                                           ": ", outcome->failure_reason);
  }
}

absl::StatusOr<TrialOutcome> RunTrialUnguarded(const v1::TrialTask& task,
                                               const Dataset& data,
                                               const TrainOptions& options) {
  NAS_RETURN_IF_ERROR(ValidateRecipe(task.training()));
  NAS_RETURN_IF_ERROR(ValidateInt8Recipe(task.training()));
  NAS_ASSIGN_OR_RETURN(std::vector<DataSplit> splits,
                       TrialSplits(data.train->labels, task.dataset(), task.seed()));
  NAS_RETURN_IF_ERROR(CheckData(task, data, splits));
  const int count = static_cast<int>(splits.size());
  TrainProgress progress;
  const bool int8 = QuantizesToInt8(task.training());
  progress.epochs =
      count * (task.training().epochs() + (int8 ? task.training().qat_epochs() : 0));
  TrialOutcome delivered;
  std::vector<v1::Metrics> fold_metrics;
  for (int k = 0; k < count; ++k) {
    Fold fold{k, count, task.trial_seed() + k, &splits[k]};
    if (k > 0 && StopRequested(options)) {
      TrialOutcome cancelled;
      cancelled.kind = TrialOutcome::Kind::kCancelled;
      cancelled.failure_reason = "cancelled before its training";
      NameFold(fold, &cancelled);
      return cancelled;
    }
    NAS_ASSIGN_OR_RETURN(fold.normalization,
                         TrialNormalization(task.dataset(), *data.train, splits[k].train));
    NAS_ASSIGN_OR_RETURN(TrialOutcome outcome,
                         RunFold(task, data, fold, options, &progress));
    if (!outcome.succeeded()) {
      NameFold(fold, &outcome);
      return outcome;
    }
    fold_metrics.push_back(outcome.metrics);
    if (fold.primary()) delivered = std::move(outcome);
  }
  delivered.metrics = CombineFolds(fold_metrics);
  return delivered;
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
