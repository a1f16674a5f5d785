#ifndef NAS_MCU_QUANTIZER_QUANTIZE_MATH_H_
#define NAS_MCU_QUANTIZER_QUANTIZE_MATH_H_

// The arithmetic of TensorFlow Lite's int8 scheme, as its converter and
// reference kernels do it: fixed-point multipliers, activation scales and
// zero points from calibrated ranges, symmetric per-channel weights, int32
// biases, fused-activation clamps, and BatchNorm folding. Torch-free pure
// functions, thread-safe.

#include <cstdint>
#include <vector>

namespace nas::mcu {

// A real multiplier as TFLite's QuantizeMultiplier writes it: real =
// multiplier * 2^shift / 2^31 with multiplier in [2^30, 2^31) (or 0), shift
// positive = left. frexp, then round(q * 2^31); a mantissa that rounds up
// to 2^31 becomes 2^30 with shift + 1; a shift below -31 flushes to
// {0, 0}; 0 gives {0, 0}. `real` must be finite and >= 0.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};
QuantizedMultiplier QuantizeMultiplier(double real);

// The smallest activation scale handed out: a range that is a single point
// (a layer that only ever output 0) gets it instead of 0 or NaN.
inline constexpr double kMinActivationScale = 1e-8;

// Asymmetric int8 parameters of one activation tensor.
struct ActivationParams {
  double scale = 1;
  int32_t zero_point = 0;  // -128..127.
};

// TFLite's ChooseQuantizationParams for int8 (-128..127): the range is first
// extended to include 0; scale = (max - min) / 255; the zero point from the
// end whose terms are smaller, rounded and nudged into -128..127. A range
// that is a single point (0) gets kMinActivationScale and zero point 0.
// Non-finite bounds are treated as 0.
ActivationParams ChooseActivationParams(double min, double max);

// q = clamp(round(x / scale) + zero_point, -128, 127).
int8_t QuantizeValue(double x, const ActivationParams& params);

// Symmetric per-output-channel int8 weights. `weights` holds `channels`
// equal rows (LibTorch's [out][in][kh][kw] order); per channel scale =
// max|w| / 127 (1 for an all-zero row), q = round(w / scale) clamped to
// -127..127.
struct ChannelWeights {
  std::vector<int8_t> values;
  std::vector<double> scales;  // One per channel.
};
ChannelWeights QuantizeWeightsPerChannel(const std::vector<float>& weights,
                                         int64_t channels);

// round(bias / (input_scale * weight_scale)) as int32; *saturated is set
// when the value had to be clamped to the int32 range.
int32_t QuantizeBias(double bias, double input_scale, double weight_scale,
                     bool* saturated);

// The output clamp of an op whose result has `output` parameters:
// activation 0 (none) -> -128..127; RELU -> max(-128, zp)..127; RELU6 ->
// max(-128, zp)..min(127, zp + round(6 / scale)).
enum class FusedActivation { kNone, kRelu, kRelu6 };
struct ClampRange {
  int32_t min = -128;
  int32_t max = 127;
};
ClampRange FusedClamp(FusedActivation activation, const ActivationParams& output);

// Batch normalisation in evaluation mode, per channel:
// y = gamma * (x - mean) / sqrt(var + eps) + beta.
struct BatchNormParams {
  std::vector<float> gamma, beta, mean, var;
  double eps = 1e-5;
};

// Folds `bn` into the op before it: every weight of output channel c is
// multiplied by s_c = gamma_c / sqrt(var_c + eps), and bias_c becomes
// (bias_c - mean_c) * s_c + beta_c. `weights` holds bias->size() equal rows.
void FoldBatchNorm(const BatchNormParams& bn, std::vector<float>* weights,
                   std::vector<float>* biases);

// A BATCHNORM no convolution absorbed, as a depthwise op of kernel 1:
// weight_c = s_c, bias_c = beta_c - mean_c * s_c.
void LoneBatchNorm(const BatchNormParams& bn, std::vector<float>* weights,
                   std::vector<float>* biases);

}  // namespace nas::mcu

#endif  // NAS_MCU_QUANTIZER_QUANTIZE_MATH_H_
