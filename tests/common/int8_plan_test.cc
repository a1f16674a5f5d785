#include "common/int8_plan.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/memory_planner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_networks.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::Arch;
using ::nas::testing::EcgNet;
using ::nas::testing::LeNet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every field of an op on one line, so that a lowering is checked field by
// field with a readable diff:
// "INT8_CONV src=0,1,2 w=0 bn=1 act=RELU6 in=1x8x8 out=8x8x8 k=3x3 s=1x1
//  p=1x1 buf=0->1 weights=72 ch=8" (" in_place" after buf= when in place).
std::string Describe(const Int8PlannedOp& op) {
  const std::string act = op.activation == v1::LAYER_TYPE_UNSPECIFIED
                              ? "-"
                              : v1::LayerType_Name(op.activation);
  return absl::StrCat(
      v1::Int8Op_Name(op.op), " src=", absl::StrJoin(op.source_layers, ","),
      " w=", op.weighted_layer, " bn=", op.folded_batchnorm, " act=", act,
      " in=", op.in_c, "x", op.in_h, "x", op.in_w, " out=", op.out_c, "x",
      op.out_h, "x", op.out_w, " k=", op.kernel_h, "x", op.kernel_w,
      " s=", op.stride_h, "x", op.stride_w, " p=", op.pad_h, "x", op.pad_w,
      " buf=", op.input_buffer, "->", op.output_buffer,
      op.in_place ? " in_place" : "", " weights=", op.weights,
      " ch=", op.channels);
}

std::vector<std::string> DescribeOps(const Int8Plan& plan) {
  std::vector<std::string> lines;
  for (const Int8PlannedOp& op : plan.ops) lines.push_back(Describe(op));
  return lines;
}

// "size[first,last]" per buffer.
std::vector<std::string> DescribeBuffers(const Int8Plan& plan) {
  std::vector<std::string> lines;
  for (const BufferRequest& b : plan.buffers) {
    lines.push_back(
        absl::StrCat(b.size, "[", b.first_use, ",", b.last_use, "]"));
  }
  return lines;
}

absl::StatusOr<Int8Plan> Plan(absl::string_view arch,
                              std::initializer_list<int64_t> input,
                              int classes) {
  return PlanInt8(Arch(arch), MakeShape(input), classes);
}

// CONV2D BATCHNORM RELU6 -> one conv with the BN folded and RELU6 fused;
// DROPOUT, FLATTEN and SOFTMAX lower to nothing; LINEAR reads the flattened
// 8x8x8 = 512 values.
// Buffers: input 64 [0,0], conv out 512 [0,1], logits 10 [1,1]. Largest
// first: 512 @0; 64 overlaps it at op 0 -> @512; 10 overlaps it at op 1 ->
// @512. Arena 576.
// Constants: weights 8*1*9 + 512*10 = 5192; 18 channels: 72 + 72 + 18;
// 2 rows: 168. Total 5522.
TEST(Int8PlanTest, ConvBatchNormReluIsOneConv) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan,
      Plan("CONV2D(8,k3,s1,p1) BATCHNORM RELU6 DROPOUT(0.2) FLATTEN "
           "LINEAR(10) SOFTMAX",
           {1, 8, 8}, 10));
  EXPECT_THAT(
      DescribeOps(plan),
      ElementsAre("INT8_CONV src=0,1,2 w=0 bn=1 act=RELU6 in=1x8x8 out=8x8x8 "
                  "k=3x3 s=1x1 p=1x1 buf=0->1 weights=72 ch=8",
                  "INT8_LINEAR src=5 w=5 bn=-1 act=- in=512x1x1 out=10x1x1 "
                  "k=1x1 s=1x1 p=0x0 buf=1->2 weights=5120 ch=10"));
  EXPECT_THAT(DescribeBuffers(plan),
              ElementsAre("64[0,0]", "512[0,1]", "10[1,1]"));
  EXPECT_THAT(plan.arena.offsets, ElementsAre(512, 0, 512));
  EXPECT_EQ(plan.arena.arena_bytes, 576);
  EXPECT_EQ(plan.input_buffer, 0);
  EXPECT_EQ(plan.output_buffer, 2);
  EXPECT_EQ(plan.input_bytes, 64);
  EXPECT_EQ(plan.output_bytes, 10);
  EXPECT_EQ(plan.weight_bytes, 5192);
  EXPECT_EQ(plan.bias_bytes, 72);
  EXPECT_EQ(plan.multiplier_bytes, 72);
  EXPECT_EQ(plan.shift_bytes, 18);
  EXPECT_EQ(plan.table_bytes, 2 * kInt8LayerRowBytes);
  EXPECT_EQ(plan.ConstantBytes(), 5522);
}

// The example of the brief: CONV2D(8,k3) on 1x28x28 has 72 weights and 8
// channels: 72 + 8*4 + 8*4 + 8 + 84 bytes.
TEST(Int8PlanTest, ConstantBytesOfOneConvWorkedByHand) {
  NAS_ASSERT_OK_AND_ASSIGN(Int8Plan plan,
                           Plan("CONV2D(8,k3) LINEAR(2)", {1, 28, 28}, 2));
  ASSERT_EQ(plan.ops.size(), 2u);
  EXPECT_EQ(plan.ops[0].weights, 72);
  EXPECT_EQ(plan.ops[0].channels, 8);
  // LINEAR: 8*26*26 = 5408 inputs, 2 outputs.
  EXPECT_EQ(plan.ops[1].weights, 5408 * 2);
  EXPECT_EQ(plan.ops[1].channels, 2);
  EXPECT_EQ(plan.ConstantBytes(),
            (72 + 8 * 4 + 8 * 4 + 8 + 84) + (10816 + 2 * 4 + 2 * 4 + 2 + 84));
}

// A BATCHNORM after a pooling op cannot fold: a depthwise op of kernel 1 in
// place, which fuses the RELU after it; a RELU after a pooling op is a
// CLAMP in place.
// Shapes: 1x10x10 -CONV(4,k3)-> 4x8x8 -MAXPOOL(k2)-> 4x4x4 -BN RELU->
// 4x4x4 -AVGPOOL(k3,s1,p1)-> 4x4x4 -RELU-> -LINEAR(3)-> 3.
// Buffers: input 100 [0,0]; conv out 256 [0,1]; maxpool out 64 [1,3] (the
// in-place BN at op 2 extends it to its consumer, op 3); avgpool out 64
// [3,5] (the CLAMP at op 4 extends it to op 5); logits 3 [5,5].
// Largest first (ties: lower index): 256 @0; 100 overlaps it at op 0 ->
// @256; 64 [1,3] overlaps it at op 1 -> @256; 64 [3,5] overlaps the other
// 64 at op 3 -> @0 (the 256 is dead by then); 3 overlaps it -> @64.
// Arena 256 + 100 = 356.
// Constants: weights 36 + 4 + 192 = 232; 11 channels: 44 + 44 + 11; 6 rows:
// 504. Total 835.
TEST(Int8PlanTest, LoneBatchNormAndReluAfterPoolingWorkInPlace) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan, Plan("CONV2D(4,k3) RELU MAXPOOL2D(k2) BATCHNORM RELU "
                          "AVGPOOL2D(k3,s1,p1) RELU LINEAR(3)",
                          {1, 10, 10}, 3));
  EXPECT_THAT(
      DescribeOps(plan),
      ElementsAre(
          "INT8_CONV src=0,1 w=0 bn=-1 act=RELU in=1x10x10 out=4x8x8 k=3x3 "
          "s=1x1 p=0x0 buf=0->1 weights=36 ch=4",
          "INT8_MAXPOOL src=2 w=-1 bn=-1 act=- in=4x8x8 out=4x4x4 k=2x2 "
          "s=2x2 p=0x0 buf=1->2 weights=0 ch=0",
          "INT8_DEPTHWISE src=3,4 w=3 bn=-1 act=RELU in=4x4x4 out=4x4x4 "
          "k=1x1 s=1x1 p=0x0 buf=2->2 in_place weights=4 ch=4",
          "INT8_AVGPOOL src=5 w=-1 bn=-1 act=- in=4x4x4 out=4x4x4 k=3x3 "
          "s=1x1 p=1x1 buf=2->3 weights=0 ch=0",
          "INT8_CLAMP src=6 w=-1 bn=-1 act=RELU in=4x4x4 out=4x4x4 k=1x1 "
          "s=1x1 p=0x0 buf=3->3 in_place weights=0 ch=0",
          "INT8_LINEAR src=7 w=7 bn=-1 act=- in=64x1x1 out=3x1x1 k=1x1 "
          "s=1x1 p=0x0 buf=3->4 weights=192 ch=3"));
  EXPECT_THAT(
      DescribeBuffers(plan),
      ElementsAre("100[0,0]", "256[0,1]", "64[1,3]", "64[3,5]", "3[5,5]"));
  EXPECT_THAT(plan.arena.offsets, ElementsAre(256, 0, 256, 0, 64));
  EXPECT_EQ(plan.arena.arena_bytes, 356);
  EXPECT_EQ(plan.arena.arena_bytes, PlanGreedyArena(plan.buffers).arena_bytes);
  EXPECT_EQ(plan.output_buffer, 4);
  EXPECT_EQ(plan.ConstantBytes(), 835);
}

// Only a BATCHNORM right after the conv folds: one after a DROPOUT is a
// lone one.
TEST(Int8PlanTest, BatchNormNotRightAfterTheConvIsLone) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan,
      Plan("CONV2D(4,k3) DROPOUT(0.5) BATCHNORM LINEAR(2)", {1, 8, 8}, 2));
  ASSERT_EQ(plan.ops.size(), 3u);
  EXPECT_EQ(Describe(plan.ops[1]),
            "INT8_DEPTHWISE src=2 w=2 bn=-1 act=- in=4x6x6 out=4x6x6 k=1x1 "
            "s=1x1 p=0x0 buf=1->1 in_place weights=4 ch=4");
  EXPECT_EQ(plan.ops[0].folded_batchnorm, -1);
}

// 1-D layers are {C, 1, L}: kernel_h 1, stride_h 1, pad_h 0.
// 2x20 -CONV1D(4,k3,s2,p1)-> 4x10 -DW(k3,p1)-> 4x10 -MAXPOOL1D(k2)-> 4x5
// -AVGPOOL1D(k3,s1,p1)-> 4x5 -FLATTEN-> 20 -LINEAR(3)-> 3.
TEST(Int8PlanTest, OneDimensionalLayersHaveHeightOne) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan,
      Plan("CONV1D(4,k3,s2,p1) DEPTHWISE_CONV1D(k3,p1) MAXPOOL1D(k2) "
           "AVGPOOL1D(k3,s1,p1) FLATTEN LINEAR(3)",
           {2, 20}, 3));
  EXPECT_THAT(
      DescribeOps(plan),
      ElementsAre(
          "INT8_CONV src=0 w=0 bn=-1 act=- in=2x1x20 out=4x1x10 k=1x3 "
          "s=1x2 p=0x1 buf=0->1 weights=24 ch=4",
          "INT8_DEPTHWISE src=1 w=1 bn=-1 act=- in=4x1x10 out=4x1x10 k=1x3 "
          "s=1x1 p=0x1 buf=1->2 weights=12 ch=4",
          "INT8_MAXPOOL src=2 w=-1 bn=-1 act=- in=4x1x10 out=4x1x5 k=1x2 "
          "s=1x2 p=0x0 buf=2->3 weights=0 ch=0",
          "INT8_AVGPOOL src=3 w=-1 bn=-1 act=- in=4x1x5 out=4x1x5 k=1x3 "
          "s=1x1 p=0x1 buf=3->4 weights=0 ch=0",
          "INT8_LINEAR src=5 w=5 bn=-1 act=- in=20x1x1 out=3x1x1 k=1x1 "
          "s=1x1 p=0x0 buf=4->5 weights=60 ch=3"));
  EXPECT_THAT(DescribeBuffers(plan),
              ElementsAre("40[0,0]", "40[0,1]", "40[1,2]", "20[2,3]", "20[3,4]",
                          "3[4,4]"));
  EXPECT_EQ(plan.input_bytes, 40);
}

// POINTWISE_CONV2D is a conv of kernel 1; GLOBAL_AVGPOOL's window is the
// whole input and its output {C} is {C, 1, 1}.
TEST(Int8PlanTest, PointwiseAndGlobalAveragePooling) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan,
      Plan("POINTWISE_CONV2D(6) RELU6 GLOBAL_AVGPOOL LINEAR(2)", {3, 5, 7}, 2));
  EXPECT_THAT(
      DescribeOps(plan),
      ElementsAre(
          "INT8_CONV src=0,1 w=0 bn=-1 act=RELU6 in=3x5x7 out=6x5x7 k=1x1 "
          "s=1x1 p=0x0 buf=0->1 weights=18 ch=6",
          "INT8_GLOBAL_AVGPOOL src=2 w=-1 bn=-1 act=- in=6x5x7 out=6x1x1 "
          "k=5x7 s=1x1 p=0x0 buf=1->2 weights=0 ch=0",
          "INT8_LINEAR src=3 w=3 bn=-1 act=- in=6x1x1 out=2x1x1 k=1x1 "
          "s=1x1 p=0x0 buf=2->3 weights=12 ch=2"));
}

// A dense-only network on a flat {16} input: a lone BATCHNORM first works in
// place on the model input (fusing its RELU), a BATCHNORM after LINEAR folds.
// Buffers: input 16 [0,1] (extended by the in-place op 0); 8 [1,2];
// logits 2 [2,2]. 16 @0; 8 overlaps it at op 1 -> @16; 2 overlaps the 8 ->
// @0. Arena 24.
// Constants: weights 16 + 128 + 16 = 160; 26 channels: 104 + 104 + 26;
// 3 rows: 252. Total 646.
TEST(Int8PlanTest, DenseOnlyWithLoneBatchNormOnTheInput) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan,
      Plan("BATCHNORM RELU LINEAR(8) BATCHNORM RELU DROPOUT(0.1) LINEAR(2)",
           {16}, 2));
  EXPECT_THAT(
      DescribeOps(plan),
      ElementsAre(
          "INT8_DEPTHWISE src=0,1 w=0 bn=-1 act=RELU in=16x1x1 out=16x1x1 "
          "k=1x1 s=1x1 p=0x0 buf=0->0 in_place weights=16 ch=16",
          "INT8_LINEAR src=2,3,4 w=2 bn=3 act=RELU in=16x1x1 out=8x1x1 "
          "k=1x1 s=1x1 p=0x0 buf=0->1 weights=128 ch=8",
          "INT8_LINEAR src=6 w=6 bn=-1 act=- in=8x1x1 out=2x1x1 k=1x1 "
          "s=1x1 p=0x0 buf=1->2 weights=16 ch=2"));
  EXPECT_THAT(DescribeBuffers(plan),
              ElementsAre("16[0,1]", "8[1,2]", "2[2,2]"));
  EXPECT_THAT(plan.arena.offsets, ElementsAre(0, 16, 0));
  EXPECT_EQ(plan.arena.arena_bytes, 24);
  EXPECT_EQ(plan.ConstantBytes(), 646);
}

// A lone RELU6 as the very first layer clamps the model input in place.
// Buffers: input 16 [0,1]; conv out 32 [1,2]; logits 2 [2,2]. 32 @0; 16
// overlaps it at op 1 -> @32; 2 overlaps the 32 -> @32. Arena 48.
TEST(Int8PlanTest, FirstLayerReluClampsTheInputInPlace) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Int8Plan plan, Plan("RELU6 CONV2D(2,k1) RELU LINEAR(2)", {1, 4, 4}, 2));
  ASSERT_EQ(plan.ops.size(), 3u);
  EXPECT_EQ(Describe(plan.ops[0]),
            "INT8_CLAMP src=0 w=-1 bn=-1 act=RELU6 in=1x4x4 out=1x4x4 k=1x1 "
            "s=1x1 p=0x0 buf=0->0 in_place weights=0 ch=0");
  EXPECT_EQ(plan.ops[1].activation, v1::RELU);
  EXPECT_EQ(plan.ops[1].input_buffer, 0);
  EXPECT_THAT(DescribeBuffers(plan),
              ElementsAre("16[0,1]", "32[1,2]", "2[2,2]"));
  EXPECT_THAT(plan.arena.offsets, ElementsAre(32, 0, 32));
  EXPECT_EQ(plan.arena.arena_bytes, 48);
}

// Invariants over the reference networks: the output buffer holds the
// classes, the arena is the greedy plan of the buffers, every op reads the
// buffer the op before wrote, and the constants add up op by op.
TEST(Int8PlanTest, ReferenceNetworksAreConsistent) {
  struct Case {
    v1::Architecture arch;
    v1::TensorShape input;
    int classes;
  };
  for (const Case& c : {Case{LeNet(), MakeShape({1, 28, 28}), 10},
                        Case{EcgNet(), MakeShape({1, 140}), 5}}) {
    NAS_ASSERT_OK_AND_ASSIGN(Int8Plan plan,
                             PlanInt8(c.arch, c.input, c.classes));
    EXPECT_EQ(plan.buffers[plan.output_buffer].size, c.classes);
    EXPECT_EQ(plan.buffers[plan.input_buffer].size, NumElements(c.input));
    const ArenaPlan arena = PlanGreedyArena(plan.buffers);
    EXPECT_EQ(plan.arena.offsets, arena.offsets);
    EXPECT_EQ(plan.arena.arena_bytes, arena.arena_bytes);
    int64_t constants = 0;
    int previous_output = plan.input_buffer;
    for (const Int8PlannedOp& op : plan.ops) {
      EXPECT_EQ(op.input_buffer, previous_output);
      previous_output = op.output_buffer;
      constants += op.weights + 9 * op.channels + kInt8LayerRowBytes;
    }
    EXPECT_EQ(previous_output, plan.output_buffer);
    EXPECT_EQ(plan.ConstantBytes(), constants);
  }
  // LeNet: 7 ops (FLATTEN dropped, every RELU fused).
  NAS_ASSERT_OK_AND_ASSIGN(Int8Plan lenet,
                           PlanInt8(LeNet(), MakeShape({1, 28, 28}), 10));
  std::vector<v1::Int8Op> ops;
  for (const Int8PlannedOp& op : lenet.ops) ops.push_back(op.op);
  EXPECT_THAT(ops, ElementsAre(v1::INT8_CONV, v1::INT8_MAXPOOL, v1::INT8_CONV,
                               v1::INT8_MAXPOOL, v1::INT8_LINEAR,
                               v1::INT8_LINEAR, v1::INT8_LINEAR));
}

TEST(Int8PlanTest, InvalidArchitectureIsAnError) {
  EXPECT_THAT(Plan("CONV2D(4,k30) LINEAR(2)", {1, 8, 8}, 2),
              nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("kernel 30 larger")));
  // The raw architecture is checked (the canonical form drops a depthwise
  // `out`).
  v1::Architecture depthwise = Arch("DEPTHWISE_CONV2D(k3) LINEAR(2)");
  depthwise.mutable_layers(0)->set_out(5);
  EXPECT_THAT(PlanInt8(depthwise, MakeShape({3, 8, 8}), 2),
              nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("must equal the input")));
}

}  // namespace
}  // namespace nas
