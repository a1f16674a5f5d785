#include "worker/normalization.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "worker/dataset.h"

namespace nas::worker {
namespace {

constexpr double kTinyStd = 1e-6;
constexpr float kByteScale = 255.0f;

// Adds the values of channel `c` of one stored sample to the sums.
template <typename T>
void AddChannels(const T* sample, int64_t channels, int64_t per_channel,
                 const std::vector<double>* shift, std::vector<double>* sums) {
  for (int64_t c = 0; c < channels; ++c) {
    const T* in = sample + c * per_channel;
    const double offset = shift == nullptr ? 0.0 : (*shift)[c];
    double sum = 0;
    for (int64_t i = 0; i < per_channel; ++i) {
      const double d = static_cast<double>(in[i]) - offset;
      sum += shift == nullptr ? d : d * d;
    }
    (*sums)[c] += sum;
  }
}

// Per channel: the sum of the values (no shift) or of their squared
// distances from `shift`, over samples `indices`.
std::vector<double> ChannelSums(const SampleInputs& inputs,
                                const std::vector<int64_t>& indices,
                                const std::vector<double>* shift) {
  const int64_t channels = inputs.shape[0];
  const int64_t per_channel = inputs.sample_size / channels;
  std::vector<double> sums(channels, 0.0);
  for (int64_t index : indices) {
    const int64_t offset = index * inputs.sample_size;
    if (!inputs.pixels.empty()) {
      AddChannels(inputs.pixels.data() + offset, channels, per_channel, shift, &sums);
    } else {
      AddChannels(inputs.values.data() + offset, channels, per_channel, shift, &sums);
    }
  }
  return sums;
}

}  // namespace

void InputNormalization::Apply(int64_t per_channel, float* sample) const {
  for (size_t c = 0; c < mean.size(); ++c) {
    const float m = mean[c];
    const float inv = inv_std(c);
    float* x = sample + c * per_channel;
    for (int64_t i = 0; i < per_channel; ++i) x[i] = (x[i] - m) * inv;
  }
}

InputNormalization InputNormalization::Scale(int64_t channels) {
  InputNormalization n;
  n.mean.assign(channels, 0.0f);
  n.std.assign(channels, kByteScale);
  return n;
}

InputNormalization InputNormalization::ZScore(const SampleSet& set,
                                              const std::vector<int64_t>& indices) {
  const SampleInputs& inputs = *set.inputs;
  const int64_t channels = inputs.shape[0];
  const double count =
      static_cast<double>(indices.size()) * (inputs.sample_size / channels);
  std::vector<double> mean = ChannelSums(inputs, indices, nullptr);
  for (double& m : mean) m = count > 0 ? m / count : 0.0;
  // Two passes: the squared distances from the mean, exact for any offset.
  const std::vector<double> squares = ChannelSums(inputs, indices, &mean);
  InputNormalization n;
  for (int64_t c = 0; c < channels; ++c) {
    const double std = count > 0 ? std::sqrt(squares[c] / count) : 0.0;
    n.mean.push_back(static_cast<float>(mean[c]));
    n.std.push_back(std < kTinyStd ? 1.0f : static_cast<float>(std));
  }
  return n;
}

InputNormalization InputNormalization::FromModel(const v1::QuantizedModel& model) {
  InputNormalization n;
  n.mean.assign(model.input_mean().begin(), model.input_mean().end());
  n.std.assign(model.input_std().begin(), model.input_std().end());
  return n;
}

void InputNormalization::ToModel(v1::QuantizedModel* model) const {
  model->clear_input_mean();
  model->clear_input_std();
  for (float m : mean) model->add_input_mean(m);
  for (float s : std) model->add_input_std(s);
}

absl::StatusOr<InputNormalization> TrialNormalization(const v1::DatasetSpec& spec,
                                                      const SampleSet& set,
                                                      const std::vector<int64_t>& train) {
  const bool eight_bit = !set.inputs->pixels.empty();
  switch (spec.normalization()) {
    case v1::NORMALIZATION_UNSPECIFIED:
      return eight_bit ? InputNormalization::Scale(set.shape()[0])
                       : InputNormalization::ZScore(set, train);
    case v1::NORMALIZATION_NONE:
      return InputNormalization::None();
    case v1::NORMALIZATION_SCALE:
      return InputNormalization::Scale(set.shape()[0]);
    case v1::NORMALIZATION_ZSCORE:
      return InputNormalization::ZScore(set, train);
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("dataset.normalization: unknown value ",
                       static_cast<int>(spec.normalization())));
  }
}

}  // namespace nas::worker
