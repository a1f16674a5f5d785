#ifndef NAS_WORKER_TRAINING_LOOP_H_
#define NAS_WORKER_TRAINING_LOOP_H_

// The training and evaluation loops of one network (one fold of a trial):
// internal to the worker's LibTorch files, this header pulls in LibTorch.

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "worker/classification_metrics.h"
#include "worker/dataset.h"
#include "worker/model_builder.h"
#include "worker/trainer.h"

namespace nas::worker {

// Channels-last pays when every 2-D convolution has at least a vector's
// worth (8 floats, AVX2) of output channels: LibTorch's max-pooling and
// oneDNN's convolution kernels then run ~1.4x faster on NHWC tensors; with
// fewer channels the NHWC kernels waste vector lanes and run slower.
bool ChannelsLastPays(const torch::nn::Module& net);

// 4-D weights (2-D convolutions) in NHWC order.
void ToChannelsLast(torch::nn::Module& net);

// The state of one fold's training (the whole trial's with one split).
struct TrainingRun {
  const SampleSet* set;
  const InputNormalization* normalization;  // The fold's.
  const TrainOptions* options;
  torch::Device device;
  bool channels_last;  // Batches and 4-D weights in NHWC order.
  BuiltModel model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::mt19937_64 rng;
  int64_t batch_size;
  int epochs_before = 0;  // Epochs of earlier folds (progress numbering).
  int64_t samples_seen = 0;  // In this fold.
  double final_loss = 0;
  // What on_progress is told, across the folds: samples_seen and
  // train_seconds count from the trial's first step.
  TrainProgress* progress;
  int64_t samples_before = 0;   // progress->samples_seen when this fold began.
  double seconds_before = 0;    // progress->train_seconds when this fold began.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

// True once options.stop is set.
bool StopRequested(const TrainOptions& options);

// All `epochs` epochs over the training indices `order` (shuffled each
// epoch with run->rng, a last batch of one sample dropped), numbered after
// run->epochs_before in what on_progress is told; records epochs_run,
// train_seconds, final_loss and samples_per_second in outcome->metrics and
// sets the outcome's kind and reason when training stops early (a stop
// request, a loss that is not finite or above 1e4, non-finite weights).
void Train(TrainingRun* run, std::vector<int64_t> order, int epochs,
           TrialOutcome* outcome);

// Tells on_progress that training (and QAT) is over.
void ReportEvaluating(TrainingRun* run);

// The network's predictions for samples `indices` of `set` (normalised
// with the run's normalisation) against their labels, in evaluation mode.
ConfusionMatrix Evaluate(TrainingRun* run, const SampleSet& set,
                         const std::vector<int64_t>& indices);

// Median wall time of `runs` batch-1 forward passes on the CPU, in ms
// (after warm-up); moves the network to the CPU.
double MeasureCpuLatencyMs(TrainingRun* run, const SampleSet& set, int64_t sample,
                           int runs);

}  // namespace nas::worker

#endif  // NAS_WORKER_TRAINING_LOOP_H_
