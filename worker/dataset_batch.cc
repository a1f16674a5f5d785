#include "worker/dataset_batch.h"

#include <cstring>
#include <vector>

namespace nas::worker {

Batch MakeBatch(const SampleSet& set, const int64_t* indices, int64_t n,
                const torch::Device& device, bool channels_last) {
  const SampleInputs& stored = *set.inputs;
  std::vector<int64_t> dims = {n};
  dims.insert(dims.end(), stored.shape.begin(), stored.shape.end());
  const bool images = !stored.pixels.empty();
  torch::Tensor rows = torch::empty(dims, images ? torch::kUInt8 : torch::kFloat32);
  Batch batch{torch::Tensor(), torch::empty({n}, torch::kInt64)};
  const size_t row_bytes = stored.sample_size * (images ? 1 : sizeof(float));
  auto* out = static_cast<char*>(rows.data_ptr());
  const auto* in = images ? reinterpret_cast<const char*>(stored.pixels.data())
                          : reinterpret_cast<const char*>(stored.values.data());
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * row_bytes, in + indices[i] * row_bytes, row_bytes);
    labels[i] = set.labels[indices[i]];
  }
  // A no-op on the CPU; to a GPU the rows travel as stored.
  batch.inputs = rows.to(device);
  // One vectorised kernel on the device.
  if (images) batch.inputs = batch.inputs.to(torch::kFloat32).mul_(1.0f / 255.0f);
  // NHWC for the channels-last kernels (free when there is one channel).
  if (channels_last) {
    batch.inputs = batch.inputs.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  return batch;
}

}  // namespace nas::worker
