#include "worker/training_loop.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "worker/dataset_batch.h"

namespace nas::worker {
namespace {

constexpr double kDivergedLoss = 1e4;
constexpr int kLatencyWarmupRuns = 5;
constexpr int64_t kEvalBatchSize = 512;

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Why training stopped early.
struct EarlyStop {
  TrialOutcome::Kind kind;
  std::string reason;
};

// One optimizer step; returns the loss.
double TrainStep(TrainingRun* run, const int64_t* indices, int64_t n) {
  Batch batch = MakeBatch(*run->set, *run->normalization, indices, n, run->device,
                          run->channels_last);
  torch::Tensor labels = batch.labels.to(run->device);
  run->optimizer->zero_grad();
  torch::Tensor loss =
      torch::nn::functional::cross_entropy(run->model.net->forward(batch.inputs), labels);
  loss.backward();
  run->optimizer->step();
  return loss.item<double>();
}

// Epoch `epoch` of the fold (numbered after the earlier folds' epochs).
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
    TrainProgress& p = *run->progress;
    p.epoch = epoch;
    p.batches_done = step + 1;
    p.batches_per_epoch = (total - 1 + run->batch_size - 1) / run->batch_size;
    p.loss = run->final_loss;
    p.samples_seen = run->samples_before + run->samples_seen;
    p.train_seconds = run->seconds_before + SecondsSince(run->start);
    if (run->options->on_progress) run->options->on_progress(p);
  }
  return std::nullopt;
}

bool WeightsFinite(const torch::nn::Module& net) {
  for (const torch::Tensor& p : net.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

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

bool StopRequested(const TrainOptions& options) {
  return options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
}

ConfusionMatrix Evaluate(TrainingRun* run, const SampleSet& set,
                         const std::vector<int64_t>& indices) {
  BuiltModel& model = run->model;
  torch::NoGradGuard no_grad;
  model.net->eval();
  ConfusionMatrix matrix(set.num_classes);
  for (size_t begin = 0; begin < indices.size(); begin += kEvalBatchSize) {
    const int64_t n = std::min<int64_t>(kEvalBatchSize, indices.size() - begin);
    Batch batch = MakeBatch(set, *run->normalization, indices.data() + begin, n,
                            run->device, run->channels_last);
    torch::Tensor predicted = model.net->forward(batch.inputs).argmax(1).to(torch::kCPU);
    const int64_t* p = predicted.data_ptr<int64_t>();
    const int64_t* truth = batch.labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      matrix.Add(static_cast<int>(truth[i]), static_cast<int>(p[i]));
    }
  }
  return matrix;
}

double MeasureCpuLatencyMs(TrainingRun* run, const SampleSet& set, int64_t sample,
                           int runs) {
  torch::NoGradGuard no_grad;
  BuiltModel& model = run->model;
  model.net->to(torch::kCPU);
  model.net->eval();
  torch::Tensor input =
      MakeBatch(set, *run->normalization, &sample, 1, torch::kCPU, run->channels_last)
          .inputs;
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

void Train(TrainingRun* run, std::vector<int64_t> order, int epochs,
           TrialOutcome* outcome) {
  const auto start = SteadyClock::now();
  run->start = start;
  v1::Metrics& metrics = outcome->metrics;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const int numbered = run->epochs_before + epoch;
    std::optional<EarlyStop> stop = TrainEpoch(run, &order, numbered);
    if (!stop.has_value() && !WeightsFinite(*run->model.net)) {
      stop = EarlyStop{TrialOutcome::Kind::kFailed,
                       absl::StrCat("diverged: non-finite weights after epoch ", numbered)};
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
  run->progress->epoch = run->epochs_before + epochs;
  run->progress->samples_seen = run->samples_before + run->samples_seen;
  run->progress->train_seconds = run->seconds_before + seconds;
}

void ReportEvaluating(TrainingRun* run) {
  if (!run->options->on_progress) return;
  run->progress->evaluating = true;
  run->options->on_progress(*run->progress);
}

}  // namespace nas::worker
