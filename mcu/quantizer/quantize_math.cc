#include "mcu/quantizer/quantize_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nas::mcu {
namespace {

constexpr double kQMin = -128;
constexpr double kQMax = 127;
constexpr double kWeightQMax = 127;

double Finite(double x) { return std::isfinite(x) ? x : 0.0; }

}  // namespace

QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier out;
  if (!(real > 0) || !std::isfinite(real)) return out;
  int shift = 0;
  const double q = std::frexp(real, &shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * (1LL << 31)));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return out;  // Every bit would be shifted out.
  out.multiplier = static_cast<int32_t>(q_fixed);
  out.shift = shift;
  return out;
}

ActivationParams ChooseActivationParams(double min, double max) {
  const double rmin = std::min(Finite(min), 0.0);
  const double rmax = std::max(Finite(max), 0.0);
  ActivationParams params;
  if (rmin == rmax) {  // Both 0.
    params.scale = kMinActivationScale;
    params.zero_point = 0;
    return params;
  }
  params.scale = std::max((rmax - rmin) / (kQMax - kQMin), kMinActivationScale);
  const double from_min = kQMin - rmin / params.scale;
  const double from_max = kQMax - rmax / params.scale;
  const double error_min = std::abs(kQMin) + std::abs(rmin / params.scale);
  const double error_max = std::abs(kQMax) + std::abs(rmax / params.scale);
  const double zero_point = error_min < error_max ? from_min : from_max;
  if (zero_point < kQMin) {
    params.zero_point = static_cast<int32_t>(kQMin);
  } else if (zero_point > kQMax) {
    params.zero_point = static_cast<int32_t>(kQMax);
  } else {
    params.zero_point = static_cast<int32_t>(std::round(zero_point));
  }
  return params;
}

int8_t QuantizeValue(double x, const ActivationParams& params) {
  const double q = std::round(x / params.scale) + params.zero_point;
  if (!(q >= kQMin)) return static_cast<int8_t>(kQMin);  // Also NaN.
  return static_cast<int8_t>(std::min(q, kQMax));
}

ChannelWeights QuantizeWeightsPerChannel(const std::vector<float>& weights,
                                         int64_t channels) {
  ChannelWeights out;
  out.values.resize(weights.size());
  out.scales.assign(channels, 1.0);
  if (channels <= 0) return out;
  const size_t row = weights.size() / channels;
  for (int64_t c = 0; c < channels; ++c) {
    const float* w = weights.data() + c * row;
    double max_abs = 0;
    for (size_t i = 0; i < row; ++i) max_abs = std::max(max_abs, std::abs(Finite(w[i])));
    const double scale = max_abs > 0 ? max_abs / kWeightQMax : 1.0;
    out.scales[c] = scale;
    for (size_t i = 0; i < row; ++i) {
      const double q = std::round(Finite(w[i]) / scale);
      out.values[c * row + i] =
          static_cast<int8_t>(std::clamp(q, -kWeightQMax, kWeightQMax));
    }
  }
  return out;
}

int32_t QuantizeBias(double bias, double input_scale, double weight_scale,
                     bool* saturated) {
  const double q = std::round(Finite(bias) / (input_scale * weight_scale));
  constexpr double kLow = std::numeric_limits<int32_t>::min();
  constexpr double kHigh = std::numeric_limits<int32_t>::max();
  if (!(q >= kLow && q <= kHigh)) {
    if (saturated != nullptr) *saturated = true;
    return q > 0 ? std::numeric_limits<int32_t>::max()
                 : std::numeric_limits<int32_t>::min();
  }
  return static_cast<int32_t>(q);
}

ClampRange FusedClamp(FusedActivation activation, const ActivationParams& output) {
  ClampRange range;
  if (activation == FusedActivation::kNone) return range;
  range.min = std::max<int32_t>(-128, output.zero_point);
  if (activation == FusedActivation::kRelu6) {
    const double top = output.zero_point + std::round(6.0 / output.scale);
    range.max = static_cast<int32_t>(std::min(kQMax, top));
  }
  return range;
}

namespace {

// s_c = gamma_c / sqrt(var_c + eps).
double BatchNormScale(const BatchNormParams& bn, size_t c) {
  return bn.gamma[c] / std::sqrt(static_cast<double>(bn.var[c]) + bn.eps);
}

}  // namespace

void FoldBatchNorm(const BatchNormParams& bn, std::vector<float>* weights,
                   std::vector<float>* biases) {
  const size_t channels = biases->size();
  if (channels == 0) return;
  const size_t row = weights->size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    const double s = BatchNormScale(bn, c);
    for (size_t i = 0; i < row; ++i) {
      (*weights)[c * row + i] = static_cast<float>((*weights)[c * row + i] * s);
    }
    (*biases)[c] = static_cast<float>(((*biases)[c] - bn.mean[c]) * s + bn.beta[c]);
  }
}

void LoneBatchNorm(const BatchNormParams& bn, std::vector<float>* weights,
                   std::vector<float>* biases) {
  const size_t channels = bn.gamma.size();
  weights->resize(channels);
  biases->resize(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double s = BatchNormScale(bn, c);
    (*weights)[c] = static_cast<float>(s);
    (*biases)[c] = static_cast<float>(bn.beta[c] - bn.mean[c] * s);
  }
}

}  // namespace nas::mcu
