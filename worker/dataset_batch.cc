#include "worker/dataset_batch.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace nas::worker {
namespace {

bool AllEqual(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; });
}

// (x - mean[c]) * (1 / std[c]) in place on a float batch {n, C, ...}: with
// scalars when every channel has the same statistics, else with per-channel
// tensors broadcast over the batch. The same float operations as
// InputNormalization::Apply, so the same bits.
void Normalize(const InputNormalization& normalization, torch::Tensor* x) {
  if (normalization.identity()) return;
  const std::vector<float>& mean = normalization.mean;
  std::vector<float> inv(mean.size());
  for (size_t c = 0; c < inv.size(); ++c) inv[c] = normalization.inv_std(c);
  if (AllEqual(mean) && AllEqual(inv)) {
    if (mean[0] != 0.0f) x->sub_(mean[0]);
    x->mul_(inv[0]);
    return;
  }
  std::vector<int64_t> dims(x->dim(), 1);
  dims[1] = static_cast<int64_t>(mean.size());
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  const torch::Tensor m =
      torch::from_blob(const_cast<float*>(mean.data()), dims, options).to(x->device());
  const torch::Tensor s = torch::from_blob(inv.data(), dims, options).to(x->device());
  x->sub_(m).mul_(s);
}

}  // namespace

Batch MakeBatch(const SampleSet& set, const InputNormalization& normalization,
                const int64_t* indices, int64_t n, const torch::Device& device,
                bool channels_last) {
  const SampleInputs& stored = *set.inputs;
  std::vector<int64_t> dims = {n};
  dims.insert(dims.end(), stored.shape.begin(), stored.shape.end());
  const bool bytes = !stored.pixels.empty();
  torch::Tensor rows = torch::empty(dims, bytes ? torch::kUInt8 : torch::kFloat32);
  Batch batch{torch::Tensor(), torch::empty({n}, torch::kInt64)};
  const size_t row_bytes = stored.sample_size * (bytes ? 1 : sizeof(float));
  auto* out = static_cast<char*>(rows.data_ptr());
  const auto* in = bytes ? reinterpret_cast<const char*>(stored.pixels.data())
                         : reinterpret_cast<const char*>(stored.values.data());
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * row_bytes, in + indices[i] * row_bytes, row_bytes);
    labels[i] = set.labels[indices[i]];
  }
  // A no-op on the CPU; to a GPU the rows travel as stored.
  batch.inputs = rows.to(device);
  // One vectorised kernel or two on the device.
  if (bytes) batch.inputs = batch.inputs.to(torch::kFloat32);
  Normalize(normalization, &batch.inputs);
  // NHWC for the channels-last kernels (free when there is one channel).
  if (channels_last) {
    batch.inputs = batch.inputs.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  return batch;
}

}  // namespace nas::worker
