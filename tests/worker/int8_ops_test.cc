// Each layer type the int8 runtime offers, in a tiny network with random
// weights: folded, calibrated, quantised and run on the mcu/ interpreter,
// against the BuiltModel in LibTorch float.

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/int8_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcu/quantizer/model_quantizer.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/calibration.h"
#include "worker/folded_network.h"
#include "worker/int8_evaluation.h"
#include "worker/model_builder.h"

namespace nas::worker {
namespace {

constexpr int kClasses = 3;
constexpr int kSamples = 48;

struct OpCase {
  std::string name;
  std::string arch;
  std::vector<int64_t> shape;
};

std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

// Uniform [-1, 1] float samples (as a time-series data set stores them).
SampleSet RandomSamples(const std::vector<int64_t>& shape, int count) {
  auto inputs = std::make_shared<SampleInputs>();
  inputs->shape = shape;
  inputs->sample_size = 1;
  for (int64_t d : shape) inputs->sample_size *= d;
  const torch::Tensor values = torch::rand({count * inputs->sample_size}) * 2 - 1;
  inputs->values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  SampleSet set;
  set.inputs = inputs;
  set.labels.assign(count, 0);
  set.num_classes = kClasses;
  return set;
}

// BatchNorms with statistics far from the identity, so folding matters.
void RandomizeBatchNorms(BuiltModel* model) {
  torch::NoGradGuard no_grad;
  for (const auto& child : model->net->children()) {
    if (child->as<torch::nn::BatchNorm2d>() == nullptr &&
        child->as<torch::nn::BatchNorm1d>() == nullptr) {
      continue;
    }
    for (auto& p : child->named_parameters()) {
      p.value().uniform_(p.key() == "weight" ? 0.5 : -0.5, p.key() == "weight" ? 1.5 : 0.5);
    }
    for (auto& b : child->named_buffers()) {
      if (b.key() == "running_mean") b.value().uniform_(-0.5, 0.5);
      if (b.key() == "running_var") b.value().uniform_(0.5, 2.0);
    }
  }
}

// An upper bound on |int8 - float| at the output, in output steps, carried
// layer by layer: the input is off by at most half an input step; a
// weighted op turns an input error e into e * max_c sum|w_q| (the int8
// weights, each within half a weight step of the float one), adds the
// weights' own rounding (half a weight step times fan-in times the largest
// input magnitude), the bias's (half of s_in * s_w) and the output's
// rounding (half an output step, a hair more for the two roundings of the
// fixed-point requantisation); average pools add their division's
// rounding; max pools and clamps add nothing. The data are the calibration
// data, so nothing is clipped.
double ErrorBound(const v1::QuantizedModel& m, const std::vector<mcu::OpFloatParams>& params) {
  constexpr double kRounding = 0.51;
  double e = 0.5 * m.input_scale();
  for (int i = 0; i < m.layers_size(); ++i) {
    const v1::Int8Layer& l = m.layers(i);
    const double s_out = l.output_scale();
    if (l.op() == v1::INT8_AVGPOOL || l.op() == v1::INT8_GLOBAL_AVGPOOL) e += kRounding * s_out;
    if (l.weights().empty()) continue;
    const double x_max = l.input_scale() * std::max(l.input_zero_point() + 128,
                                                    127 - l.input_zero_point());
    const size_t channels = params[i].biases.size();
    const size_t fan_in = params[i].weights.size() / channels;
    double worst = 0;
    for (size_t c = 0; c < channels; ++c) {
      const double s_w = l.weight_scales(c);
      double gain = 0;
      for (size_t k = 0; k < fan_in; ++k) {
        gain += std::abs(params[i].weights[c * fan_in + k]) + 0.5 * s_w;
      }
      const double own = 0.5 * s_w * fan_in * x_max + 0.5 * l.input_scale() * s_w;
      worst = std::max(worst, e * gain + own);
    }
    e = worst + kRounding * s_out;
  }
  return e / m.output_scale();
}

class Int8OpsTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(Int8OpsTest, InterpreterMatchesLibTorchFloatWithinTheErrorBound) {
  const OpCase& c = GetParam();
  torch::manual_seed(5);
  v1::TensorShape input;
  for (int64_t d : c.shape) input.add_dims(d);
  const v1::Architecture arch = testing::Arch(c.arch);
  NAS_ASSERT_OK_AND_ASSIGN(BuiltModel model, BuildModel(arch, input, kClasses));
  RandomizeBatchNorms(&model);
  model.net->eval();
  const SampleSet set = RandomSamples(c.shape, kSamples);
  std::vector<int64_t> all(kSamples);
  for (int i = 0; i < kSamples; ++i) all[i] = i;
  NAS_ASSERT_OK_AND_ASSIGN(Int8Plan plan, PlanInt8(arch, input, kClasses));
  NAS_ASSERT_OK_AND_ASSIGN(FoldedNetwork folded,
                           FoldedNetwork::Create(model, arch, input, kClasses, plan));
  NAS_ASSERT_OK_AND_ASSIGN(CalibratedRanges ranges,
                           Calibrate(folded, set, InputNormalization::None(), all,
                                     CalibrationSettings(), torch::kCPU));
  const std::vector<mcu::OpFloatParams> params = folded.FloatParams();
  NAS_ASSERT_OK_AND_ASSIGN(
      mcu::QuantizerOutput q,
      mcu::QuantizeModel(plan, input, {params, ranges.input, ranges.outputs}));
  EXPECT_THAT(q.notes, ::testing::IsEmpty());
  NAS_ASSERT_OK_AND_ASSIGN(Int8Evaluator evaluator, Int8Evaluator::Create(q.model, &set));
  const double bound = ErrorBound(q.model, params);
  double worst = 0;
  std::vector<float> x(set.sample_size());
  std::vector<int8_t> qx, qy;
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < kSamples; ++i) {
    set.CopySample(i, InputNormalization::None(), x.data());
    std::vector<int64_t> dims = {1};
    dims.insert(dims.end(), c.shape.begin(), c.shape.end());
    const torch::Tensor y = model.net->forward(torch::from_blob(x.data(), dims)).reshape(-1);
    evaluator.QuantizeSample(i, &qx);
    NAS_ASSERT_OK(evaluator.Run(qx, &qy));
    for (int k = 0; k < kClasses; ++k) {
      const double dequantised = (qy[k] - q.model.output_zero_point()) * q.model.output_scale();
      worst = std::max(worst, std::abs(dequantised - y[k].item<double>()) /
                                  q.model.output_scale());
    }
  }
  std::cout << c.name << ": max |int8 - float| " << worst << " output steps (bound "
            << bound << ")\n";
  // Never beyond the worst case: no error but rounding.
  EXPECT_LE(worst, bound);
  // The worst case lines every rounding up against the output (up to ~70
  // steps for these networks); in fact the roundings are independent and
  // zero-mean and largely cancel: the output's own rounding (half a step)
  // plus the upstream ones carried through weights of LibTorch's default
  // initialisation stay within about 2 steps on these data, and a
  // systematic fault (a zero point, shift, bias scale or padding off) costs
  // many more. 3 steps is asserted.
  EXPECT_LE(worst, 3.0);
  EXPECT_GT(worst, 0.0);  // Really quantised.
}

INSTANTIATE_TEST_SUITE_P(
    EveryOpType, Int8OpsTest,
    ::testing::Values(
        OpCase{"Conv2d", "CONV2D(4,k3,s2,p1) RELU LINEAR(3)", {2, 6, 6}},
        OpCase{"DepthwiseConv2d", "DEPTHWISE_CONV2D(k3,p1) RELU6 LINEAR(3)", {3, 5, 5}},
        OpCase{"Pointwise", "POINTWISE_CONV2D(4) LINEAR(3)", {3, 4, 4}},
        OpCase{"Conv1d", "CONV1D(4,k5,s2,p2) RELU LINEAR(3)", {2, 20}},
        OpCase{"DepthwiseConv1d", "DEPTHWISE_CONV1D(k3,p1) RELU LINEAR(3)", {3, 16}},
        OpCase{"MaxPool2dPadded", "CONV2D(3,k3) MAXPOOL2D(k3,s2,p1) LINEAR(3)", {1, 7, 7}},
        OpCase{"AvgPool2dPadded", "AVGPOOL2D(k3,s2,p1) LINEAR(3)", {2, 6, 6}},
        OpCase{"MaxPool1dPadded", "MAXPOOL1D(k3,s2,p1) LINEAR(3)", {2, 12}},
        OpCase{"AvgPool1dPadded", "AVGPOOL1D(k3,s2,p1) LINEAR(3)", {2, 12}},
        OpCase{"GlobalAvgPool", "CONV2D(4,k3,p1) GLOBAL_AVGPOOL LINEAR(3)", {1, 6, 6}},
        OpCase{"Linear", "LINEAR(8) RELU LINEAR(3)", {10}},
        OpCase{"LoneBatchNorm", "MAXPOOL2D(k2) BATCHNORM LINEAR(3)", {2, 4, 4}},
        OpCase{"LoneRelu6", "AVGPOOL1D(k2) RELU6 LINEAR(3)", {2, 8}},
        OpCase{"BatchNormFoldedIntoConv2d", "CONV2D(4,k3,p1) BATCHNORM RELU LINEAR(3)",
               {2, 5, 5}},
        OpCase{"BatchNormFoldedIntoConv1d", "CONV1D(4,k3) BATCHNORM LINEAR(3)", {2, 10}},
        OpCase{"BatchNormFoldedIntoLinear", "LINEAR(6) BATCHNORM RELU6 LINEAR(3)", {8}}),
    [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });


TEST(Int8EvaluatorTest, ThreadsGiveTheSamePredictions) {
  torch::manual_seed(9);
  v1::TensorShape input;
  input.add_dims(10);
  const v1::Architecture arch = testing::Arch("LINEAR(8) RELU LINEAR(3)");
  NAS_ASSERT_OK_AND_ASSIGN(BuiltModel model, BuildModel(arch, input, kClasses));
  SampleSet set = RandomSamples({10}, 300);
  for (int i = 0; i < 300; ++i) set.labels[i] = i % kClasses;
  std::vector<int64_t> all(300);
  for (int i = 0; i < 300; ++i) all[i] = i;
  NAS_ASSERT_OK_AND_ASSIGN(Int8Plan plan, PlanInt8(arch, input, kClasses));
  NAS_ASSERT_OK_AND_ASSIGN(FoldedNetwork folded,
                           FoldedNetwork::Create(model, arch, input, kClasses, plan));
  NAS_ASSERT_OK_AND_ASSIGN(CalibratedRanges ranges,
                           Calibrate(folded, set, InputNormalization::None(), all,
                                     CalibrationSettings(), torch::kCPU));
  NAS_ASSERT_OK_AND_ASSIGN(
      mcu::QuantizerOutput q,
      mcu::QuantizeModel(plan, input, {folded.FloatParams(), ranges.input, ranges.outputs}));
  NAS_ASSERT_OK_AND_ASSIGN(Int8Evaluator evaluator, Int8Evaluator::Create(q.model, &set));
  NAS_ASSERT_OK_AND_ASSIGN(ConfusionMatrix one, evaluator.Evaluate(all, 1));
  NAS_ASSERT_OK_AND_ASSIGN(ConfusionMatrix four, evaluator.Evaluate(all, 4));
  EXPECT_EQ(one.total(), 300);
  for (int t = 0; t < kClasses; ++t) {
    for (int p = 0; p < kClasses; ++p) EXPECT_EQ(one.count(t, p), four.count(t, p));
  }
}

}  // namespace
}  // namespace nas::worker
