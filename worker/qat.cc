#include "worker/qat.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "mcu/quantizer/model_quantizer.h"
#include "worker/dataset_batch.h"
#include "worker/fused_optimizer.h"

namespace nas::worker {
namespace {

constexpr double kQatLearningRateFactor = 0.1;
constexpr uint64_t kQatSeedSalt = 0x7161742d6f726465ULL;  // "qat-orde"

using SteadyClock = std::chrono::steady_clock;

absl::StatusOr<FoldedNetwork::FakeQuant> CalibrateFakeQuant(const QatRun& run,
                                                            const FoldedNetwork& net) {
  NAS_ASSIGN_OR_RETURN(CalibratedRanges ranges,
                       Calibrate(net, *run.set, *run.normalization, *run.calibration,
                                 run.calibration_settings, run.device));
  return mcu::ChoosePlanActivations(net.plan(), ranges.input, ranges.outputs);
}

// The state of one QAT run.
struct QatState {
  const QatRun* run;
  FoldedNetwork* net;
  FoldedNetwork::FakeQuant fake_quant;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainProgress progress;
  SteadyClock::time_point start = SteadyClock::now();
};

double Step(QatState* s, const int64_t* indices, int64_t n) {
  const Batch batch = MakeBatch(*s->run->set, *s->run->normalization, indices, n,
                                s->run->device, false);
  s->optimizer->zero_grad();
  const torch::Tensor logits = s->net->Forward(batch.inputs, &s->fake_quant);
  torch::Tensor loss = torch::nn::functional::cross_entropy(
      logits, batch.labels.to(s->run->device));
  loss.backward();
  s->optimizer->step();
  return loss.item<double>();
}

void Report(QatState* s, int epoch, int64_t step, int64_t batches, int64_t n,
            double loss_sum) {
  TrainProgress& p = s->progress;
  p.epoch = epoch;
  p.batches_done = step + 1;
  p.batches_per_epoch = batches;
  p.loss = loss_sum / (step + 1);
  p.samples_seen += n;
  p.train_seconds = s->run->seconds_before +
                    std::chrono::duration<double>(SteadyClock::now() - s->start).count();
  if (s->run->on_progress) s->run->on_progress(p);
}

// One epoch; false with *outcome filled when QAT stops.
bool Epoch(QatState* s, int qat_epoch, std::vector<int64_t>* order,
           std::mt19937_64* rng, QatOutcome* outcome) {
  const QatRun& run = *s->run;
  ShuffleIndices(rng, order);
  const auto total = static_cast<int64_t>(order->size());
  const int64_t batch_size = std::max<int64_t>(1, run.recipe.batch_size());
  const int64_t batches = (total + batch_size - 1) / batch_size;
  const int epoch = run.epochs_before + qat_epoch;
  double loss_sum = 0;
  for (int64_t begin = 0, step = 0; begin < total; begin += batch_size, ++step) {
    if (run.stop != nullptr && run.stop->load(std::memory_order_relaxed)) {
      outcome->cancelled = true;
      outcome->reason = absl::StrCat("cancelled at epoch ", epoch, " step ", step);
      return false;
    }
    const int64_t n = std::min(batch_size, total - begin);
    const double loss = Step(s, order->data() + begin, n);
    if (!std::isfinite(loss)) {
      outcome->notes.push_back(absl::StrCat(
          "quantisation-aware training diverged (loss ", loss, " at epoch ", epoch,
          " step ", step + 1, "); the int8 model uses the weights before it"));
      return false;
    }
    loss_sum += loss;
    Report(s, epoch, step, batches, n, loss_sum);
  }
  return true;
}

}  // namespace

absl::StatusOr<QatOutcome> FineTuneQuantized(const QatRun& run, FoldedNetwork* net) {
  QatOutcome outcome;
  outcome.progress = run.progress;
  if (run.recipe.qat_epochs() <= 0) return outcome;
  QatState s{&run, net};
  s.progress = run.progress;
  NAS_ASSIGN_OR_RETURN(s.fake_quant, CalibrateFakeQuant(run, *net));
  v1::TrainingRecipe recipe = run.recipe;
  recipe.set_learning_rate(recipe.learning_rate() * kQatLearningRateFactor);
  s.optimizer = MakeOptimizer(recipe, net->Parameters(), run.device.is_cpu());
  const std::vector<torch::Tensor> before = net->Snapshot();
  std::mt19937_64 rng(run.seed ^ kQatSeedSalt);
  std::vector<int64_t> order = *run.train;
  for (int e = 1; e <= run.recipe.qat_epochs(); ++e) {
    const bool go_on = Epoch(&s, e, &order, &rng, &outcome);
    outcome.progress = s.progress;
    if (!go_on) {
      if (!outcome.cancelled) net->Restore(before);
      return outcome;
    }
    if (e == 1) {
      NAS_ASSIGN_OR_RETURN(s.fake_quant, CalibrateFakeQuant(run, *net));
    }
  }
  return outcome;
}

}  // namespace nas::worker
