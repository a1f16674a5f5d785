#ifndef NAS_WORKER_DATASET_BATCH_H_
#define NAS_WORKER_DATASET_BATCH_H_

// Batch assembly from the compact storage of dataset.h. Includes LibTorch;
// used by the trainer (and its tests) only.

#include <cstdint>

#include <torch/torch.h>

#include "worker/dataset.h"

namespace nas::worker {

// A batch as the network takes it: float inputs {n, shape...} on the
// trainer's device, and the int64 class indices on the CPU (where the
// evaluation counts them; training moves them).
struct Batch {
  torch::Tensor inputs;
  torch::Tensor labels;
};

// Gathers samples indices[0 .. n) of `set` as they are stored (bytes for
// 8-bit samples, float32 otherwise), copies them to `device`, converts them
// to float there and normalises them with the trial's `normalization`
// ((x - mean[c]) * (1 / std[c]) per channel): the values
// SampleSet::CopySample gives. So the only full-size float copy of an image
// is the batch on the device, and an 8-bit batch crosses to a GPU at a
// quarter of the size. `channels_last` lays a 4-D batch out NHWC (the caller
// sets it for CPU networks that gain from it). Stateless and thread-safe;
// `set` and `normalization` are read only.
Batch MakeBatch(const SampleSet& set, const InputNormalization& normalization,
                const int64_t* indices, int64_t n, const torch::Device& device,
                bool channels_last);

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_BATCH_H_
