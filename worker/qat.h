#ifndef NAS_WORKER_QAT_H_
#define NAS_WORKER_QAT_H_

// Internal to the worker's LibTorch files: this header pulls in LibTorch.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"
#include "worker/calibration.h"
#include "worker/dataset.h"
#include "worker/folded_network.h"
#include "worker/trainer.h"

namespace nas::worker {

// One quantisation-aware fine-tuning run; everything is borrowed.
struct QatRun {
  const SampleSet* set = nullptr;
  const std::vector<int64_t>* train = nullptr;        // Training indices.
  const std::vector<int64_t>* calibration = nullptr;  // Calibration indices.
  const InputNormalization* normalization = nullptr;  // The trial's (fold's).
  CalibrationSettings calibration_settings;
  v1::TrainingRecipe recipe;  // Optimizer, learning rate, batch size, qat_epochs.
  torch::Device device = torch::kCPU;
  uint64_t seed = 0;  // The trial seed: QAT's batch order.
  const std::atomic<bool>* stop = nullptr;
  // Told after every step, continuing `progress` (epochs numbered after the
  // float training's).
  std::function<void(const TrainProgress&)> on_progress;
  TrainProgress progress;
  int epochs_before = 0;  // Epochs reported before QAT's first (numbered after them).
  double seconds_before = 0;  // Training time before QAT (progress clock).
};

struct QatOutcome {
  bool cancelled = false;
  std::string reason;              // "cancelled at epoch 5 step 3".
  std::vector<std::string> notes;  // A divergence, for Metrics.notes.
  TrainProgress progress;          // As last reported.
};

// Fine-tunes the folded network for recipe.qat_epochs epochs with the
// recipe's optimizer type at a tenth of its learning rate, with fake
// quantisation in the forward pass: weights symmetric per output channel
// (-127..127) and the input and every op's output per tensor with the
// calibrated parameters, calibrated before the first epoch and once more
// after it; the fake-quant ops pass gradients straight through. A loss that
// turns non-finite restores the weights from before QAT and is noted.
// Internal on a LibTorch failure.
absl::StatusOr<QatOutcome> FineTuneQuantized(const QatRun& run, FoldedNetwork* net);

}  // namespace nas::worker

#endif  // NAS_WORKER_QAT_H_
