// BuildTables and Int8Interpreter: a QuantizedModel flattened into the
// runtime's tables, run to a hand-computed answer, and bad models refused
// with the layer named.

#include "mcu/model_tables.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas::mcu {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int32_t kHalf = 1 << 30;  // With shift 0: x / 2.
constexpr int32_t kIdentity = 1 << 30;  // With shift 1: x.

v1::Int8Layer Layer(v1::Int8Op op, std::vector<int32_t> in,
                    std::vector<int32_t> out, int32_t in_offset,
                    int32_t out_offset) {
  v1::Int8Layer l;
  l.set_op(op);
  l.set_in_c(in[0]);
  l.set_in_h(in[1]);
  l.set_in_w(in[2]);
  l.set_out_c(out[0]);
  l.set_out_h(out[1]);
  l.set_out_w(out[2]);
  l.set_kernel_h(1);
  l.set_kernel_w(1);
  l.set_stride_h(1);
  l.set_stride_w(1);
  l.set_in_offset(in_offset);
  l.set_out_offset(out_offset);
  l.set_act_min(-128);
  l.set_act_max(127);
  return l;
}

void SetConstants(v1::Int8Layer& l, const std::vector<int8_t>& weights,
                  const std::vector<int32_t>& biases, int32_t multiplier,
                  int32_t shift) {
  l.set_weights(std::string(weights.begin(), weights.end()));
  for (int32_t b : biases) {
    l.add_biases(b);
    l.add_multipliers(multiplier);
    l.add_shifts(shift);
  }
}

// Input 1x3x3 at 0 -> CONV 2x2 (2 channels, fused ReLU) 2x2x2 at 9 ->
// GLOBAL_AVGPOOL 2 at 0 -> LINEAR 2 classes at 2; arena 17 bytes.
v1::QuantizedModel ThreeOpModel() {
  v1::QuantizedModel m;
  m.set_format_version(1);
  m.mutable_input_shape()->add_dims(1);
  m.mutable_input_shape()->add_dims(3);
  m.mutable_input_shape()->add_dims(3);
  m.set_num_classes(2);
  m.set_arena_bytes(17);
  m.set_input_offset(0);
  m.set_output_offset(2);
  v1::Int8Layer conv = Layer(v1::INT8_CONV, {1, 3, 3}, {2, 2, 2}, 0, 9);
  conv.set_kernel_h(2);
  conv.set_kernel_w(2);
  conv.set_act_min(0);
  SetConstants(conv, {1, 0, 0, 1, 0, -1, -1, 0}, {0, 10}, kIdentity, 1);
  *m.add_layers() = conv;
  *m.add_layers() = Layer(v1::INT8_GLOBAL_AVGPOOL, {2, 2, 2}, {2, 1, 1}, 9, 0);
  v1::Int8Layer linear = Layer(v1::INT8_LINEAR, {2, 1, 1}, {2, 1, 1}, 0, 2);
  linear.set_output_zero_point(1);
  SetConstants(linear, {1, 1, 1, -2}, {0, 3}, kHalf, 0);
  *m.add_layers() = linear;
  return m;
}

TEST(BuildTablesTest, FlattensInOpOrder) {
  NAS_ASSERT_OK_AND_ASSIGN(ModelTables t, BuildTables(ThreeOpModel()));
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[0].op, TN_OP_CONV);
  EXPECT_EQ(t.layers[0].weights_offset, 0);
  EXPECT_EQ(t.layers[0].channel_offset, 0);
  EXPECT_EQ(t.layers[2].op, TN_OP_LINEAR);
  EXPECT_EQ(t.layers[2].weights_offset, 8);
  EXPECT_EQ(t.layers[2].channel_offset, 2);
  EXPECT_EQ(t.layers[2].out_zero_point, 1);
  EXPECT_THAT(t.weights, ElementsAre(1, 0, 0, 1, 0, -1, -1, 0, 1, 1, 1, -2));
  EXPECT_THAT(t.biases, ElementsAre(0, 10, 0, 3));
  EXPECT_THAT(t.shifts, ElementsAre(1, 1, 0, 0));
  EXPECT_EQ(t.input_bytes, 9);
  EXPECT_EQ(t.output_bytes, 2);
  EXPECT_EQ(t.output_offset, 2);
  EXPECT_EQ(t.arena_bytes, 17);
  // 12 weights + 4 * 4 biases + 4 * 4 multipliers + 4 shifts + 3 * 84.
  EXPECT_EQ(t.ConstantBytes(), 12 + 16 + 16 + 4 + 252);
  const tn_model view = t.View();
  EXPECT_EQ(view.num_layers, 3);
  EXPECT_EQ(view.weights, t.weights.data());
}

TEST(Int8InterpreterTest, RunsThreeOpsToTheHandComputedAnswer) {
  NAS_ASSERT_OK_AND_ASSIGN(Int8Interpreter interpreter,
                           Int8Interpreter::Create(ThreeOpModel()));
  EXPECT_EQ(interpreter.input_bytes(), 9);
  EXPECT_EQ(interpreter.output_bytes(), 2);
  const std::vector<int8_t> input = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<int8_t> output(2);
  // Conv channel 0 (diagonal 1 0 0 1): x(y,x) + x(y+1,x+1) = 6 8 12 14.
  // Channel 1 (0 -1 -1 0, bias 10): 10 - 6, 10 - 8, 10 - 12, 10 - 14 =
  // 4 2 -2 -4, ReLU -> 4 2 0 0. Global average: 40 / 4 = 10, 6 / 4 = 1.5
  // -> 2. Linear: 10 + 2 = 12 -> / 2 = 6; 10 - 4 + 3 = 9 -> 4.5 -> 5;
  // + out_zero_point 1:
  NAS_ASSERT_OK(interpreter.Invoke(input, absl::MakeSpan(output)));
  EXPECT_THAT(output, ElementsAre(7, 6));
  // Again, through the same arena.
  const std::vector<int8_t> zeros(9, 0);
  // Conv: 0 0 0 0 and 10 10 10 10; average 0 and 10; linear 10 -> 5,
  // -20 + 3 = -17 -> -8.5 -> -8 (a negative tie goes toward zero); + 1:
  NAS_ASSERT_OK(interpreter.Invoke(zeros, absl::MakeSpan(output)));
  EXPECT_THAT(output, ElementsAre(6, -7));
}

TEST(Int8InterpreterTest, RefusesWrongSizes) {
  NAS_ASSERT_OK_AND_ASSIGN(Int8Interpreter interpreter,
                           Int8Interpreter::Create(ThreeOpModel()));
  std::vector<int8_t> input(8), output(2), long_output(3);
  EXPECT_THAT(interpreter.Invoke(input, absl::MakeSpan(output)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9")));
  input.resize(9);
  EXPECT_THAT(interpreter.Invoke(input, absl::MakeSpan(long_output)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2")));
}

void ExpectRejected(const v1::QuantizedModel& m, const std::string& message) {
  EXPECT_THAT(BuildTables(m),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)));
  EXPECT_THAT(Int8Interpreter::Create(m),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)));
}

TEST(BuildTablesTest, NamesTheLayerWithTheWrongWeights) {
  v1::QuantizedModel m = ThreeOpModel();
  m.mutable_layers(0)->mutable_weights()->pop_back();
  ExpectRejected(m, "int8 layer 0 (INT8_CONV): 7 weights, expected 8");
  m = ThreeOpModel();
  m.mutable_layers(2)->mutable_weights()->push_back(1);
  ExpectRejected(m, "int8 layer 2 (INT8_LINEAR): 5 weights, expected 4");
}

TEST(BuildTablesTest, NamesTheLayerWithBadChannelArrays) {
  v1::QuantizedModel m = ThreeOpModel();
  m.mutable_layers(2)->add_biases(0);
  ExpectRejected(m, "int8 layer 2 (INT8_LINEAR): 3 biases, 2 multipliers "
                    "and 2 shifts, expected 2");
  m = ThreeOpModel();
  m.mutable_layers(0)->set_shifts(1, 31);
  ExpectRejected(m, "int8 layer 0 (INT8_CONV): shift 31 of channel 1");
  m.mutable_layers(0)->set_shifts(1, -32);
  ExpectRejected(m, "shift -32 of channel 1 is outside -31..30");
  m = ThreeOpModel();
  m.mutable_layers(0)->set_multipliers(0, -1);
  ExpectRejected(m, "int8 layer 0 (INT8_CONV): multiplier -1");
}

TEST(BuildTablesTest, NamesUnknownOpsAndBadQuantisation) {
  v1::QuantizedModel m = ThreeOpModel();
  m.mutable_layers(1)->set_op(static_cast<v1::Int8Op>(9));
  ExpectRejected(m, "int8 layer 1 (op 9): unknown operation");
  m.mutable_layers(1)->set_op(v1::INT8_OP_UNSPECIFIED);
  ExpectRejected(m, "int8 layer 1 (INT8_OP_UNSPECIFIED): unknown operation");
  m = ThreeOpModel();
  m.mutable_layers(2)->set_input_zero_point(200);
  ExpectRejected(m, "int8 layer 2 (INT8_LINEAR): zero points 200 and 1");
  m = ThreeOpModel();
  m.mutable_layers(0)->set_act_min(100);
  m.mutable_layers(0)->set_act_max(99);
  ExpectRejected(m, "int8 layer 0 (INT8_CONV): output clamp 100..99");
  m = ThreeOpModel();
  m.mutable_layers(1)->add_biases(1);
  ExpectRejected(m, "int8 layer 1 (INT8_GLOBAL_AVGPOOL): carries weights");
}

TEST(BuildTablesTest, NamesTheLayerTheRuntimeRejects) {
  v1::QuantizedModel m = ThreeOpModel();
  m.mutable_layers(1)->set_out_offset(16);  // 16 + 2 > arena 17.
  m.mutable_layers(2)->set_in_offset(16);
  ExpectRejected(m, "int8 layer 1 (INT8_GLOBAL_AVGPOOL): the runtime "
                    "rejects its shape or buffers");
  m = ThreeOpModel();
  m.mutable_layers(0)->set_out_h(3);  // A 2x2 kernel over 3 rows gives 2.
  m.mutable_layers(0)->set_out_w(1);
  ExpectRejected(m, "int8 layer 0 (INT8_CONV): the runtime rejects");
}

TEST(BuildTablesTest, RejectsInconsistentModels) {
  v1::QuantizedModel m = ThreeOpModel();
  m.set_format_version(0);
  ExpectRejected(m, "format_version 0, expected 1");
  m = ThreeOpModel();
  m.clear_layers();
  ExpectRejected(m, "no layers");
  m = ThreeOpModel();
  m.set_num_classes(3);
  ExpectRejected(m, "3 classes, but the last layer writes 2");
  m = ThreeOpModel();
  m.mutable_input_shape()->set_dims(2, 4);
  ExpectRejected(m, "input_shape holds 12 values, but layer 0 reads 9");
  m = ThreeOpModel();
  m.set_input_offset(1);
  ExpectRejected(m, "input_offset 1 and output_offset 2");
  m = ThreeOpModel();
  m.set_arena_bytes(0);
  ExpectRejected(m, "arena_bytes 0");
}

}  // namespace
}  // namespace nas::mcu
