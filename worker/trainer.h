#ifndef NAS_WORKER_TRAINER_H_
#define NAS_WORKER_TRAINER_H_

// Trains, evaluates, measures and exports one candidate network. LibTorch
// stays behind this header: only trainer.cc (and the builder/export files it
// uses) include it.

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"
#include "worker/dataset.h"

namespace nas::worker {

enum class ComputeDevice { kCpu, kCuda };

// Picks the device once per process from a --device flag value: "cpu";
// "cuda" (FailedPrecondition when LibTorch sees no GPU); "auto" = cuda when
// torch::cuda::is_available(), else cpu. InvalidArgument for anything else.
absl::StatusOr<ComputeDevice> ChooseComputeDevice(absl::string_view flag);
const char* ComputeDeviceName(ComputeDevice device);  // "cpu" | "cuda"

// Sets LibTorch's intra-op thread count for the calling thread and the
// process default (torch::set_num_threads). `threads` < 1 is taken as 1.
void SetTorchThreads(int threads);

// How far a trial is: what on_progress is told.
struct TrainProgress {
  bool evaluating = false;       // Training is over; accuracy, latency, export.
  int epoch = 0;                 // 1-based epoch being trained.
  int epochs = 0;
  int64_t batches_done = 0;      // In this epoch.
  int64_t batches_per_epoch = 0;
  double loss = 0;               // Mean training loss of this epoch so far.
  int64_t samples_seen = 0;      // Training samples since the first step.
  double train_seconds = 0;      // Since the first step.
};

// How one trial runs; everything here is borrowed for the duration of
// RunTrial.
struct TrainOptions {
  ComputeDevice device = ComputeDevice::kCpu;
  // Called on the trial's thread after every optimizer step, and once when
  // evaluation starts. May be empty. Must be cheap (it runs every step).
  std::function<void(const TrainProgress&)> on_progress;
  // When non-null and it becomes true (cancellation, lease lost, shutdown),
  // the trial stops before its next step and returns a cancelled outcome.
  const std::atomic<bool>* stop = nullptr;
  // Serialise the trained model as TorchScript (TrialOutcome::torchscript).
  bool export_model = true;
  // Target device for the analytic latency estimate; left 0 in the metrics
  // when clock_hz is 0 (the worker does not always know the target).
  v1::DeviceProfile target_device;
  // CPU speed-ups, on by default (the benchmark turns them off to show what
  // they buy; results agree up to float rounding): the single-pass
  // FusedOptimizer instead of torch::optim, channels-last (NHWC) tensors
  // for 2-D networks whose convolutions all have >= 8 output channels, and
  // oneDNN's sgemm for LINEAR layers.
  bool fused_optimizer = true;
  bool channels_last = true;
  // LINEAR layers' matrix products in oneDNN's sgemm (GemmLinear) rather
  // than LibTorch's BLAS, on the CPU.
  bool gemm_linear = true;
};

// What a trial produced. A diverged run is a failed trial, not an error.
struct TrialOutcome {
  enum class Kind { kSucceeded, kFailed, kCancelled };
  Kind kind = Kind::kSucceeded;
  // kFailed: e.g. "diverged: loss nan at epoch 1 step 37" (the 1-based step
  // whose loss was non-finite or above 1e4) or "diverged: non-finite weights
  // after epoch 2"; kCancelled: "cancelled at epoch 2 step 5" (after 5 steps
  // of epoch 2).
  std::string failure_reason;
  // Measured metrics (all on success; epochs_run/final_loss/train_seconds
  // so far otherwise) plus the analytic ones from nas::AnalyzeCost.
  v1::Metrics metrics;
  std::string torchscript;  // kSucceeded with export_model only.
  // kSucceeded with recipe quantize "int8" (or empty): the quantised model,
  // measured with the mcu/ runtime (metrics.int8 and the *_int8 figures).
  v1::QuantizedModel int8_model;
  // kFailed because the data set could not be loaded (a file unreadable,
  // a label the summary does not list, a shape unlike the spec's): every
  // trial on it would fail alike (TrialResult.data_error).
  bool data_error = false;

  bool succeeded() const { return kind == Kind::kSucceeded; }
};

// Runs task: a deterministic stratified train/validation split from
// task.seed (dataset_split.h), the input normalisation of the training
// split (normalization.h: dataset.normalization, applied alike to every
// batch, evaluation, latency sample, calibration and the int8 evaluation,
// and stored in the int8 model), weights and batch order from
// task.trial_seed, training with the recipe's optimizer ("adam" | "adamw" |
// "sgd" with momentum), learning rate, weight decay, epochs and batch size;
// then accuracy and macro-F1 on the validation split (and the test split
// when task.dataset.evaluate_test), median batch-1 CPU latency over
// training.latency_runs timed forward passes (20 when 0, after warm-up), and
// the TorchScript export. With recipe quantize "int8" (or empty) then: the
// network folded, training.qat_epochs of quantisation-aware fine-tuning
// (reported as epochs after the recipe's), calibration, int8 conversion and
// the int8 figures measured with the mcu/ runtime (worker/int8_convert.h);
// "none" skips all of it.
//
// dataset.folds = K > 1: the candidate is trained K times, fold k (1-based)
// on its own stratified split, normalisation, and seed trial_seed + k - 1
// for weights, batch order and calibration. The validation accuracy and
// macro-F1 (float and int8) are the means over the folds, Metrics.folds = K
// and the spreads those of the deployed figures (worker/folds.h). The test
// figures, both latencies, the TorchScript export, the int8 model and the
// notes come from fold 1's network; train_seconds is the folds' total.
// Progress counts epochs over all folds ((epochs + qat_epochs) * K; fold k's
// numbered after fold k-1's), reports `evaluating` once, in the last fold;
// a stop request is honoured between folds and within each. A fold that
// fails or is cancelled ends the trial, its reason prefixed "fold k of K: ".
//
// `data` must be LoadDataset(task.dataset). Thread-safe: several slots may
// run trials at once on the same Dataset. Reproducible: the same task gives
// the same result, except that DROPOUT masks come from LibTorch's global
// generator, which concurrent slots share. Errors: InvalidArgument for a bad
// architecture, recipe or split; kResourceExhausted when memory runs out;
// kInternal for any other LibTorch failure (with its message).
absl::StatusOr<TrialOutcome> RunTrial(const v1::TrialTask& task,
                                      const Dataset& data,
                                      const TrainOptions& options);

}  // namespace nas::worker

#endif  // NAS_WORKER_TRAINER_H_
