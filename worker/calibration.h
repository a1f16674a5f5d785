#ifndef NAS_WORKER_CALIBRATION_H_
#define NAS_WORKER_CALIBRATION_H_

// Internal to the worker's LibTorch files: this header pulls in LibTorch.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "mcu/quantizer/model_quantizer.h"
#include "proto/nas.pb.h"
#include "worker/dataset.h"
#include "worker/folded_network.h"

namespace nas::worker {

// How activation ranges are calibrated: the recipe's calibration fields with
// their defaults (1000 samples, "minmax", percentile 99.99).
struct CalibrationSettings {
  int samples = 1000;
  bool percentile = false;  // false: min/max.
  double percentile_value = 99.99;

  static CalibrationSettings FromRecipe(const v1::TrainingRecipe& recipe);
  // "minmax" | "percentile 99.99" (QuantizedModel.calibration).
  std::string Description() const;
};

// min(count, train.size()) training indices picked by a shuffle seeded with
// `seed` (the trial seed): the same for the same trial.
std::vector<int64_t> CalibrationIndices(const std::vector<int64_t>& train, int count,
                                        uint64_t seed);

// The ranges the quantiser needs (mcu::QuantizerInput).
struct CalibratedRanges {
  mcu::FloatRange input;
  std::vector<mcu::FloatRange> outputs;  // One per op.
};

// Runs `net` in float (no fake quantisation) on samples `indices` of `set`,
// normalised with the trial's `normalization`, on `device`, in batches, and
// records per tensor (the network input and
// every op's output) its min and max, or with `percentile` p: max = the p-th
// percentile of the tensor's values above 0 and min = minus the p-th
// percentile of the magnitudes of its values below 0 (0 when there are
// none). Exact (two passes for percentiles, keeping only the values beyond
// them). Internal on a LibTorch failure.
absl::StatusOr<CalibratedRanges> Calibrate(const FoldedNetwork& net, const SampleSet& set,
                                           const InputNormalization& normalization,
                                           const std::vector<int64_t>& indices,
                                           const CalibrationSettings& settings,
                                           const torch::Device& device);

}  // namespace nas::worker

#endif  // NAS_WORKER_CALIBRATION_H_
