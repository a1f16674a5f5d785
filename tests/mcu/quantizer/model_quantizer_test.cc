#include "mcu/quantizer/model_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/architecture.h"
#include "common/int8_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcu/model_tables.h"
#include "mcu/quantizer/quantize_math.h"
#include "tests/status_matchers.h"

namespace nas::mcu {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::TensorShape Shape(std::vector<int64_t> dims) {
  v1::TensorShape shape;
  for (int64_t d : dims) shape.add_dims(d);
  return shape;
}

Int8Plan Plan(absl::string_view arch, const v1::TensorShape& input, int classes) {
  absl::StatusOr<v1::Architecture> parsed = ParseArchitecture(arch);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<Int8Plan> plan = PlanInt8(*parsed, input, classes);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

// y = clamp(W1 x + b1, 0, 6); z = W2 y + b2, for LINEAR(4) RELU6 LINEAR(3).
struct TwoLinear {
  std::vector<float> w1 = {0.5f,  -0.25f, 0.75f, 0.1f,  -0.6f, 0.3f,  0.2f, 0.9f,
                           0.05f, 0.4f,   -0.7f, 0.35f, 1.2f,  -0.8f, 0.6f, -0.2f};
  std::vector<float> b1 = {0.1f, -0.2f, 0.3f, 0.05f};
  std::vector<float> w2 = {0.3f, -0.5f, 0.8f, 0.1f, -0.4f, 0.6f,
                           0.2f, 0.7f,  0.9f, -0.3f, 0.25f, -0.6f};
  std::vector<float> b2 = {0.02f, -0.1f, 0.05f};

  std::vector<double> Hidden(const std::vector<double>& x) const {
    std::vector<double> y(4);
    for (int o = 0; o < 4; ++o) {
      double acc = b1[o];
      for (int i = 0; i < 4; ++i) acc += w1[o * 4 + i] * x[i];
      y[o] = std::clamp(acc, 0.0, 6.0);
    }
    return y;
  }
  std::vector<double> Output(const std::vector<double>& x) const {
    const std::vector<double> y = Hidden(x);
    std::vector<double> z(3);
    for (int o = 0; o < 3; ++o) {
      z[o] = b2[o];
      for (int i = 0; i < 4; ++i) z[o] += w2[o * 4 + i] * y[i];
    }
    return z;
  }
};

std::vector<std::vector<double>> Inputs() {
  std::vector<std::vector<double>> inputs;
  for (int k = 0; k < 40; ++k) {
    inputs.push_back({std::sin(k * 0.7), std::cos(k * 1.3), 0.9 * std::sin(k * 2.1 + 1),
                      -0.8 * std::cos(k * 0.4)});
  }
  return inputs;
}

QuantizerInput TwoLinearInput(const TwoLinear& net) {
  QuantizerInput in;
  in.params = {{net.w1, net.b1}, {net.w2, net.b2}};
  in.input_range = {-1, 1};
  FloatRange hidden{0, 0}, out{0, 0};
  for (const auto& x : Inputs()) {
    for (double v : net.Hidden(x)) hidden = {std::min(hidden.min, v), std::max(hidden.max, v)};
    for (double v : net.Output(x)) out = {std::min(out.min, v), std::max(out.max, v)};
  }
  in.output_ranges = {hidden, out};
  return in;
}

TEST(QuantizeModelTest, TwoLinearLayersRunOnTheInterpreterCloseToFloat) {
  const TwoLinear net;
  const Int8Plan plan = Plan("LINEAR(4) RELU6 LINEAR(3)", Shape({4}), 3);
  ASSERT_EQ(plan.ops.size(), 2u);
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q,
                           QuantizeModel(plan, Shape({4}), TwoLinearInput(net)));
  EXPECT_THAT(q.notes, IsEmpty());
  NAS_ASSERT_OK_AND_ASSIGN(Int8Interpreter interpreter, Int8Interpreter::Create(q.model));
  const v1::QuantizedModel& m = q.model;
  const ActivationParams in{m.input_scale(), m.input_zero_point()};
  const double out_scale = m.output_scale();
  // Error budget, in output steps: rounding the output (0.5), the hidden
  // layer's rounding (0.5 hidden step) and the input's (0.5 input step)
  // carried through |W| (row sums <= 2.2 and <= 2), and the weights' own
  // rounding (0.5 / 127 of each row's largest weight per unit of input):
  // together below 2 output steps here; 2 is asserted.
  double worst = 0;
  for (const auto& x : Inputs()) {
    std::vector<int8_t> qx(4), qy(3);
    for (int i = 0; i < 4; ++i) qx[i] = QuantizeValue(x[i], in);
    NAS_ASSERT_OK(interpreter.Invoke(qx, absl::MakeSpan(qy)));
    const std::vector<double> z = net.Output(x);
    for (int o = 0; o < 3; ++o) {
      const double dequantised = (qy[o] - m.output_zero_point()) * out_scale;
      worst = std::max(worst, std::abs(dequantised - z[o]) / out_scale);
    }
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_GT(worst, 0.0);  // Really quantised.
}

TEST(QuantizeModelTest, LayersCarryThePlanTheScalesAndTheRequantisation) {
  const Int8Plan plan =
      Plan("CONV1D(2,k3,p1) BATCHNORM RELU MAXPOOL1D(k2) LINEAR(3)", Shape({1, 8}), 3);
  ASSERT_EQ(plan.ops.size(), 3u);
  QuantizerInput in;
  in.params.resize(3);
  in.params[0] = {{1.0f, -1.0f, 0.25f, 0.25f, 0.1f, -0.4f}, {0.3f, -0.02f}};
  in.params[2].weights.assign(3 * 8, 0.1f);
  in.params[2].weights[5] = -0.3f;
  in.params[2].biases = {0.0f, 0.5f, -0.5f};
  in.input_range = {-1, 1};
  // Conv output 0..2.55 (scale 0.01, zero point -128); the pool's range is
  // ignored, it keeps the conv's parameters.
  in.output_ranges = {{0, 2.55}, {-50, 50}, {-3, 1}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({1, 8}), in));
  const v1::QuantizedModel& m = q.model;
  EXPECT_EQ(m.format_version(), 1);
  EXPECT_EQ(m.num_classes(), 3);
  EXPECT_THAT(m.input_shape().dims(), ElementsAre(1, 8));
  EXPECT_EQ(m.arena_bytes(), plan.arena.arena_bytes);
  EXPECT_EQ(m.input_offset(), plan.arena.offsets[plan.input_buffer]);
  EXPECT_EQ(m.output_offset(), plan.arena.offsets[plan.output_buffer]);
  EXPECT_FLOAT_EQ(m.input_scale(), 2.0f / 255);
  EXPECT_EQ(m.input_zero_point(), -1);
  ASSERT_EQ(m.layers_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(m.layers(i).in_offset(), plan.arena.offsets[plan.ops[i].input_buffer]);
    EXPECT_EQ(m.layers(i).out_offset(), plan.arena.offsets[plan.ops[i].output_buffer]);
  }
  const v1::Int8Layer& conv = m.layers(0);
  EXPECT_EQ(conv.op(), v1::INT8_CONV);
  EXPECT_THAT(conv.source_layers(), ElementsAre(0, 1, 2));
  EXPECT_EQ(conv.in_w(), 8);
  EXPECT_EQ(conv.out_c(), 2);
  EXPECT_EQ(conv.kernel_w(), 3);
  EXPECT_EQ(conv.pad_w(), 1);
  EXPECT_FLOAT_EQ(conv.input_scale(), m.input_scale());
  EXPECT_EQ(conv.input_zero_point(), -1);
  EXPECT_FLOAT_EQ(conv.output_scale(), 0.01f);
  EXPECT_EQ(conv.output_zero_point(), -128);
  EXPECT_EQ(conv.act_min(), -128);  // ReLU: max(-128, zero point).
  EXPECT_EQ(conv.act_max(), 127);
  // Channel 0: scale 1/127, 0.25 -> 31.75 -> 32; channel 1: scale 0.4/127,
  // 0.25 -> 79.375 -> 79, 0.1 -> 31.75 -> 32.
  EXPECT_EQ(conv.weights(), std::string({127, -127, 32, 79, 32, -127}));
  ASSERT_EQ(conv.weight_scales_size(), 2);
  EXPECT_FLOAT_EQ(conv.weight_scales(0), 1.0f / 127);
  EXPECT_FLOAT_EQ(conv.weight_scales(1), 0.4f / 127);
  for (int c = 0; c < 2; ++c) {
    const double s_in = m.input_scale(), s_w = conv.weight_scales(c);
    EXPECT_EQ(conv.biases(c), std::lround(in.params[0].biases[c] / (s_in * s_w)));
    const QuantizedMultiplier expected = QuantizeMultiplier(s_in * s_w / conv.output_scale());
    EXPECT_EQ(conv.multipliers(c), expected.multiplier);
    EXPECT_EQ(conv.shifts(c), expected.shift);
  }
  const v1::Int8Layer& pool = m.layers(1);
  EXPECT_EQ(pool.op(), v1::INT8_MAXPOOL);
  EXPECT_EQ(pool.weights(), "");
  EXPECT_EQ(pool.biases_size(), 0);
  EXPECT_FLOAT_EQ(pool.input_scale(), 0.01f);
  EXPECT_FLOAT_EQ(pool.output_scale(), 0.01f);
  EXPECT_EQ(pool.output_zero_point(), -128);
  const v1::Int8Layer& linear = m.layers(2);
  EXPECT_EQ(linear.op(), v1::INT8_LINEAR);
  EXPECT_EQ(linear.in_c(), 8);  // 2 channels x 4, flattened.
  EXPECT_FLOAT_EQ(linear.input_scale(), 0.01f);
  EXPECT_EQ(linear.act_min(), -128);
  EXPECT_EQ(linear.act_max(), 127);
  EXPECT_FLOAT_EQ(m.output_scale(), linear.output_scale());
  EXPECT_EQ(m.output_zero_point(), linear.output_zero_point());
  EXPECT_FLOAT_EQ(linear.output_scale(), 4.0f / 255);
  EXPECT_THAT(q.notes, IsEmpty());
  NAS_EXPECT_OK(BuildTables(m).status());
}

TEST(QuantizeModelTest, LoneBatchNormIsInPlaceAndChangesItsBuffersScale) {
  const Int8Plan plan = Plan("BATCHNORM RELU6 LINEAR(2)", Shape({2, 2, 2}), 2);
  ASSERT_EQ(plan.ops.size(), 2u);
  ASSERT_TRUE(plan.ops[0].in_place);
  QuantizerInput in;
  in.params.resize(2);
  in.params[0] = {{2.0f, 0.5f}, {0.1f, -0.1f}};
  in.params[1] = {std::vector<float>(16, 0.2f), {0.0f, 0.1f}};
  in.input_range = {-2, 2};
  in.output_ranges = {{0, 6}, {-1, 1}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({2, 2, 2}), in));
  const v1::Int8Layer& bn = q.model.layers(0);
  EXPECT_EQ(bn.op(), v1::INT8_DEPTHWISE);
  EXPECT_EQ(bn.kernel_h(), 1);
  EXPECT_EQ(bn.kernel_w(), 1);
  EXPECT_EQ(bn.in_offset(), bn.out_offset());
  EXPECT_FLOAT_EQ(bn.input_scale(), 4.0f / 255);
  EXPECT_FLOAT_EQ(bn.output_scale(), 6.0f / 255);
  EXPECT_EQ(bn.act_min(), -128);
  EXPECT_EQ(bn.act_max(), 127);  // ReLU6 with the range [0, 6].
  EXPECT_EQ(bn.weights(), std::string({127, 127}));
  // The LINEAR reads the BN's output parameters, not the model input's.
  EXPECT_FLOAT_EQ(q.model.layers(1).input_scale(), 6.0f / 255);
  EXPECT_EQ(q.model.layers(1).input_zero_point(), -128);
  NAS_EXPECT_OK(BuildTables(q.model).status());
}

TEST(QuantizeModelTest, LoneReluSixBecomesAClampOnItsInputsScale) {
  const Int8Plan plan = Plan("AVGPOOL2D(k2) RELU6 LINEAR(2)", Shape({1, 4, 4}), 2);
  ASSERT_EQ(plan.ops.size(), 3u);
  QuantizerInput in;
  in.params.resize(3);
  in.params[2] = {std::vector<float>(8, 0.5f), {0.0f, 0.0f}};
  in.input_range = {-5, 20.5};
  in.output_ranges = {{-1, 1}, {0, 6}, {-5, 5}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({1, 4, 4}), in));
  const v1::Int8Layer& clamp = q.model.layers(1);
  EXPECT_EQ(clamp.op(), v1::INT8_CLAMP);
  // The pool and the clamp keep the input's [-5, 20.5]: scale 0.1, zero
  // point -128 + 50 = -78; ReLU6 tops out 6 / 0.1 = 60 steps above it.
  EXPECT_FLOAT_EQ(clamp.input_scale(), 0.1f);
  EXPECT_FLOAT_EQ(clamp.output_scale(), 0.1f);
  EXPECT_EQ(clamp.output_zero_point(), -78);
  EXPECT_EQ(clamp.act_min(), -78);
  EXPECT_EQ(clamp.act_max(), -18);
}

TEST(QuantizeModelTest, NotesAnAccumulatorThatCanOverflow) {
  const Int8Plan plan = Plan("LINEAR(2)", Shape({70000}), 2);
  QuantizerInput in;
  in.params = {{std::vector<float>(140000, 0.01f), {0.0f, 0.0f}}};
  in.input_range = {-1, 1};
  in.output_ranges = {{-10, 10}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({70000}), in));
  EXPECT_THAT(q.notes, ElementsAre("int8 layer 0 (INT8_LINEAR): accumulator can "
                                   "overflow int32 (fan-in 70000)"));
  // 66000 * 255 * 127 stays below 2^31: no note.
  const Int8Plan small = Plan("LINEAR(2)", Shape({66000}), 2);
  in.params = {{std::vector<float>(132000, 0.01f), {0.0f, 0.0f}}};
  NAS_ASSERT_OK_AND_ASSIGN(q, QuantizeModel(small, Shape({66000}), in));
  EXPECT_THAT(q.notes, IsEmpty());
}

TEST(QuantizeModelTest, ADeadLayerIsNoted) {
  const Int8Plan plan = Plan("LINEAR(2)", Shape({4}), 2);
  QuantizerInput in;
  in.params = {{std::vector<float>(8, 0.5f), {0.0f, 0.0f}}};
  in.input_range = {-1, 1};
  in.output_ranges = {{0, 0}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({4}), in));
  EXPECT_THAT(q.notes, ElementsAre("int8 layer 0 (INT8_LINEAR): output was 0 on every "
                                   "calibration sample"));
  EXPECT_GT(q.model.output_scale(), 0);
  NAS_EXPECT_OK(BuildTables(q.model).status());
}

TEST(QuantizeModelTest, MultipliersAbove2To30SaturateWithANote) {
  // s_in * s_w / s_out = (2e6 / 255) * (0.5 / 127) / (2e-6 / 255) > 2^30.
  const Int8Plan plan = Plan("LINEAR(2)", Shape({4}), 2);
  QuantizerInput in;
  in.params = {{std::vector<float>(8, 0.5f), {0.0f, 0.0f}}};
  in.input_range = {-1e6, 1e6};
  in.output_ranges = {{-1e-6, 1e-6}};
  NAS_ASSERT_OK_AND_ASSIGN(QuantizerOutput q, QuantizeModel(plan, Shape({4}), in));
  ASSERT_EQ(q.notes.size(), 1u);
  EXPECT_THAT(q.notes[0], HasSubstr("int8 layer 0 (INT8_LINEAR): 2 requantisation"));
  EXPECT_THAT(q.model.layers(0).shifts(), ElementsAre(30, 30));
  EXPECT_THAT(q.model.layers(0).multipliers(), ElementsAre(INT32_MAX, INT32_MAX));
  NAS_EXPECT_OK(BuildTables(q.model).status());
}

TEST(QuantizeModelTest, RejectsInputsThatDoNotMatchThePlan) {
  const Int8Plan plan = Plan("LINEAR(4) RELU LINEAR(3)", Shape({4}), 3);
  QuantizerInput in = TwoLinearInput(TwoLinear());
  in.params.pop_back();
  EXPECT_THAT(QuantizeModel(plan, Shape({4}), in),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 planned ops")));
  in = TwoLinearInput(TwoLinear());
  in.params[1].weights.pop_back();
  EXPECT_THAT(QuantizeModel(plan, Shape({4}), in),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("int8 layer 1 (INT8_LINEAR): 11 weights")));
}

}  // namespace
}  // namespace nas::mcu
