// Each kernel of the int8 runtime against LibTorch float on the same numbers:
// random int8 inputs, weights, biases and zero points, one operation built by
// hand. LibTorch computes in double on the dequantised values (input
// s_in * (q - zp_in), weights s_w[c] * w, biases s_in * s_w[c] * b); the
// kernel's int8 output must be that result requantised within one output
// step, and exactly where nothing is rounded (max pooling). The
// requantisation rounds twice, as TFLite's reference does (the Q31 product,
// then the right shift by -shift bits), so the bound is half a step plus
// half a unit of 2^shift steps: at most 0.5039 steps measured.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "mcu/model_tables.h"
#include "mcu/quantizer/quantize_math.h"

namespace nas::worker {
namespace {

struct KernelCase {
  std::string name;
  v1::Int8Op op;
  int in_c, in_h, in_w, out_c;
  int kernel, stride, pad;
  bool one_d;
};

std::ostream& operator<<(std::ostream& os, const KernelCase& c) { return os << c.name; }

int OutSize(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

class Int8KernelFloatTest : public ::testing::TestWithParam<KernelCase> {
 protected:
  std::mt19937 rng_{1234};
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
};

TEST_P(Int8KernelFloatTest, MatchesLibTorchFloatWithinOneStep) {
  const KernelCase& c = GetParam();
  const bool weighted = c.op == v1::INT8_CONV || c.op == v1::INT8_DEPTHWISE ||
                        c.op == v1::INT8_LINEAR;
  const bool pooling = c.op == v1::INT8_MAXPOOL || c.op == v1::INT8_AVGPOOL ||
                       c.op == v1::INT8_GLOBAL_AVGPOOL;
  const int kh = c.one_d ? 1 : c.kernel, ph = c.one_d ? 0 : c.pad, sh = c.one_d ? 1 : c.stride;
  int out_h = 1, out_w = 1, out_c = c.out_c;
  if (c.op == v1::INT8_LINEAR) {
    out_c = c.out_c;
  } else if (c.op == v1::INT8_GLOBAL_AVGPOOL) {
    out_c = c.in_c;
  } else {
    out_h = OutSize(c.in_h, kh, sh, ph);
    out_w = OutSize(c.in_w, c.kernel, c.stride, c.pad);
    if (c.op != v1::INT8_CONV) out_c = c.in_c;
  }
  const int in_bytes = c.in_c * c.in_h * c.in_w;
  const int out_bytes = out_c * out_h * out_w;

  v1::Int8Layer layer;
  layer.set_op(c.op);
  layer.set_in_c(c.in_c);
  layer.set_in_h(c.in_h);
  layer.set_in_w(c.in_w);
  layer.set_out_c(out_c);
  layer.set_out_h(out_h);
  layer.set_out_w(out_w);
  const bool windowed = c.op != v1::INT8_LINEAR && c.op != v1::INT8_GLOBAL_AVGPOOL;
  layer.set_kernel_h(windowed ? kh : (c.op == v1::INT8_GLOBAL_AVGPOOL ? c.in_h : 1));
  layer.set_kernel_w(windowed ? c.kernel : (c.op == v1::INT8_GLOBAL_AVGPOOL ? c.in_w : 1));
  layer.set_stride_h(windowed ? sh : 1);
  layer.set_stride_w(windowed ? c.stride : 1);
  layer.set_pad_h(windowed ? ph : 0);
  layer.set_pad_w(windowed ? c.pad : 0);
  layer.set_in_offset(0);
  layer.set_out_offset(in_bytes);
  const double s_in = Real(0.005, 0.05);
  const int zp_in = Uniform(-60, 60);
  const double s_out = pooling ? s_in : Real(0.02, 0.2);
  const int zp_out = pooling ? zp_in : Uniform(-40, 40);
  layer.set_input_scale(static_cast<float>(s_in));
  layer.set_input_zero_point(zp_in);
  layer.set_output_scale(static_cast<float>(s_out));
  layer.set_output_zero_point(zp_out);
  layer.set_act_min(-128);
  layer.set_act_max(127);

  // Random int8 input and, for weighted ops, weights, biases, multipliers.
  std::vector<int8_t> input(in_bytes);
  for (int8_t& v : input) v = static_cast<int8_t>(Uniform(-128, 127));
  const int fan_in = c.op == v1::INT8_CONV     ? c.in_c * kh * c.kernel
                     : c.op == v1::INT8_LINEAR ? in_bytes
                                               : kh * c.kernel;
  std::vector<int8_t> weights;
  std::vector<double> weight_scales;
  std::vector<int32_t> biases;
  if (weighted) {
    weights.resize(static_cast<size_t>(out_c) * fan_in);
    for (int8_t& w : weights) w = static_cast<int8_t>(Uniform(-127, 127));
    for (int ch = 0; ch < out_c; ++ch) {
      const double s_w = Real(0.001, 0.02);
      weight_scales.push_back(s_w);
      biases.push_back(Uniform(-20000, 20000));
      const mcu::QuantizedMultiplier m = mcu::QuantizeMultiplier(
          static_cast<double>(static_cast<float>(s_in)) * s_w / static_cast<float>(s_out));
      layer.add_biases(biases.back());
      layer.add_multipliers(m.multiplier);
      layer.add_shifts(m.shift);
      layer.add_weight_scales(static_cast<float>(s_w));
    }
    layer.set_weights(std::string(weights.begin(), weights.end()));
  }
  v1::QuantizedModel model;
  model.set_format_version(1);
  *model.add_layers() = layer;
  model.set_arena_bytes(in_bytes + out_bytes);
  model.set_input_offset(0);
  model.set_output_offset(in_bytes);
  absl::StatusOr<mcu::Int8Interpreter> interpreter = mcu::Int8Interpreter::Create(model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status();
  std::vector<int8_t> output(out_bytes);
  ASSERT_TRUE(interpreter->Invoke(input, absl::MakeSpan(output)).ok());

  // LibTorch float on the dequantised numbers (double: no float rounding).
  torch::Tensor x = torch::empty({1, c.in_c, c.in_h, c.in_w}, torch::kFloat64);
  for (int i = 0; i < in_bytes; ++i) {
    x.data_ptr<double>()[i] = static_cast<double>(static_cast<float>(s_in)) * (input[i] - zp_in);
  }
  torch::Tensor y;
  if (weighted) {
    torch::Tensor w = torch::empty({static_cast<int64_t>(weights.size())}, torch::kFloat64);
    torch::Tensor b = torch::empty({out_c}, torch::kFloat64);
    const int per_channel = fan_in;
    for (int ch = 0; ch < out_c; ++ch) {
      const double s_w = static_cast<float>(weight_scales[ch]);
      b[ch] = static_cast<float>(s_in) * s_w * biases[ch];
      for (int k = 0; k < per_channel; ++k) {
        w.data_ptr<double>()[ch * per_channel + k] = s_w * weights[ch * per_channel + k];
      }
    }
    if (c.op == v1::INT8_LINEAR) {
      y = torch::linear(x.reshape({1, in_bytes}), w.reshape({out_c, in_bytes}), b);
    } else if (c.op == v1::INT8_CONV) {
      y = torch::conv2d(x, w.reshape({out_c, c.in_c, kh, c.kernel}), b, {sh, c.stride},
                        {ph, c.pad});
    } else {
      y = torch::conv2d(x, w.reshape({out_c, 1, kh, c.kernel}), b, {sh, c.stride}, {ph, c.pad},
                        {1, 1}, c.in_c);
    }
  } else if (c.op == v1::INT8_MAXPOOL) {
    y = torch::max_pool2d(x, {kh, c.kernel}, {sh, c.stride}, {ph, c.pad});
  } else if (c.op == v1::INT8_AVGPOOL) {
    y = torch::avg_pool2d(x, {kh, c.kernel}, {sh, c.stride}, {ph, c.pad});
  } else {
    y = torch::adaptive_avg_pool2d(x, {1, 1});
  }
  y = y.reshape({-1}).contiguous();
  ASSERT_EQ(y.numel(), out_bytes);

  double worst = 0;
  for (int i = 0; i < out_bytes; ++i) {
    const double exact =
        std::clamp(y.data_ptr<double>()[i] / static_cast<float>(s_out) + zp_out, -128.0, 127.0);
    const double error = std::abs(output[i] - exact);
    worst = std::max(worst, error);
    if (c.op == v1::INT8_MAXPOOL) {
      ASSERT_NEAR(output[i], exact, 1e-9) << "output " << i;  // Nothing is rounded.
    } else {
      // Half a step of rounding, plus TFLite's double rounding: the Q31
      // product is rounded before its right shift by -shift bits, half a
      // unit of 2^shift steps; the Q31 multiplier adds < 2^-30 relative.
      const int channel = i / (out_h * out_w);
      const double first_rounding =
          weighted ? std::ldexp(0.5, std::min(0, layer.shifts(channel))) : 0;
      ASSERT_LE(error, 0.5 + first_rounding + 1e-6 * (std::abs(exact) + 1)) << "output " << i;
    }
  }
  std::printf("%s: %d outputs, worst %.4f steps from LibTorch float\n", c.name.c_str(),
              out_bytes, worst);
}

INSTANTIATE_TEST_SUITE_P(
    EveryKernel, Int8KernelFloatTest,
    ::testing::Values(
        KernelCase{"Conv2dPadded", v1::INT8_CONV, 3, 9, 8, 5, 3, 1, 1, false},
        KernelCase{"Conv2dStride2", v1::INT8_CONV, 4, 11, 11, 6, 5, 2, 2, false},
        KernelCase{"Pointwise", v1::INT8_CONV, 16, 6, 7, 8, 1, 1, 0, false},
        KernelCase{"Conv1d", v1::INT8_CONV, 2, 1, 40, 4, 7, 2, 3, true},
        KernelCase{"Depthwise2d", v1::INT8_DEPTHWISE, 6, 10, 9, 6, 3, 1, 1, false},
        KernelCase{"Depthwise1d", v1::INT8_DEPTHWISE, 5, 1, 33, 5, 5, 2, 2, true},
        KernelCase{"LoneBatchNorm", v1::INT8_DEPTHWISE, 7, 4, 4, 7, 1, 1, 0, false},
        KernelCase{"Linear", v1::INT8_LINEAR, 3, 4, 5, 10, 1, 1, 0, false},
        KernelCase{"MaxPool2dPadded", v1::INT8_MAXPOOL, 3, 9, 9, 3, 3, 2, 1, false},
        KernelCase{"MaxPool1d", v1::INT8_MAXPOOL, 4, 1, 21, 4, 2, 2, 0, true},
        KernelCase{"AvgPool2dPadded", v1::INT8_AVGPOOL, 3, 8, 7, 3, 3, 2, 1, false},
        KernelCase{"AvgPool1dPadded", v1::INT8_AVGPOOL, 2, 1, 30, 2, 4, 3, 2, true},
        KernelCase{"GlobalAvgPool", v1::INT8_GLOBAL_AVGPOOL, 5, 6, 7, 5, 1, 1, 0, false}),
    [](const ::testing::TestParamInfo<KernelCase>& info) { return info.param.name; });

}  // namespace
}  // namespace nas::worker
