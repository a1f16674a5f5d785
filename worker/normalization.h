#ifndef NAS_WORKER_NORMALIZATION_H_
#define NAS_WORKER_NORMALIZATION_H_

// How a trial turns stored (raw) samples into the network's float input.
// Torch-free.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::worker {

struct SampleSet;

// Per channel c of a sample: x = (raw - mean[c]) / std[c], computed as
// (raw - mean[c]) * (1 / std[c]) in float everywhere (batches, single
// samples), so every path gives the same bits. Empty = the identity (dataset
// normalisation NONE); SCALE is mean 0 and std 255 on every channel; ZSCORE
// the training split's statistics. This is also what the exported model
// documents (QuantizedModel.input_mean / input_std).
//
// A plain value: computed once per trial (per fold), then read-only and
// freely shared between threads.
struct InputNormalization {
  std::vector<float> mean;
  std::vector<float> std;  // Every entry > 0.

  bool identity() const { return mean.empty(); }
  // 1 / std[c].
  float inv_std(int64_t channel) const { return 1.0f / std[channel]; }
  // Normalises one sample of mean.size() channels of `per_channel` values
  // each, in place. Nothing for the identity.
  void Apply(int64_t per_channel, float* sample) const;

  // NONE: the identity; SCALE: mean 0, std 255 on `channels` channels.
  static InputNormalization None() { return {}; }
  static InputNormalization Scale(int64_t channels);
  // ZSCORE over samples `indices` of `set`: per channel the mean and the
  // population standard deviation of all its values (in double); a standard
  // deviation below 1e-6 (a constant channel) becomes 1.
  static InputNormalization ZScore(const SampleSet& set,
                                   const std::vector<int64_t>& indices);

  // What a quantised model says of its input (input_mean / input_std), and
  // writing it there (replacing any).
  static InputNormalization FromModel(const v1::QuantizedModel& model);
  void ToModel(v1::QuantizedModel* model) const;
};

// The normalisation of one trial (or fold) from spec.normalization:
// unspecified = SCALE for 8-bit samples (IDX, uint8 NumPy), ZSCORE
// otherwise; ZSCORE's statistics over `train` (the training split's indices
// into `set`). InvalidArgument for an unknown value.
absl::StatusOr<InputNormalization> TrialNormalization(const v1::DatasetSpec& spec,
                                                      const SampleSet& set,
                                                      const std::vector<int64_t>& train);

}  // namespace nas::worker

#endif  // NAS_WORKER_NORMALIZATION_H_
