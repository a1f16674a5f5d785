// tn_check_model and tn_invoke refuse every kind of bad table with an error
// code (and the bad layer's index), never a crash; good tables pass.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/mcu/runtime/runtime_test_util.h"

namespace nas::mcu {
namespace {

using ::nas::mcu::testing::kIdentityMultiplier;
using ::nas::mcu::testing::kIdentityShift;
using ::nas::mcu::testing::LayerCase;
using ::nas::mcu::testing::MakeLayer;
using ::nas::mcu::testing::ModelOf;
using ::nas::mcu::testing::RunLayer;

constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// Two layers: a valid CLAMP (layer 0, in place at 0..15), then a 3x3 conv
// 1x4x4 -> 2x2x2 (layer 1) from 0 to 16; arena 24.
struct TwoLayers {
  TwoLayers() {
    layers[0] = MakeLayer(TN_OP_CLAMP, 1, 4, 4, 1, 4, 4);
    layers[0].out_offset = 0;
    layers[1] = MakeLayer(TN_OP_CONV, 1, 4, 4, 2, 2, 2);
    layers[1].kernel_h = layers[1].kernel_w = 3;
    weights.assign(18, 1);
    biases = {0, 0};
    multipliers = {kIdentityMultiplier, kIdentityMultiplier};
    shifts = {kIdentityShift, kIdentityShift};
  }
  tn_model Model() const {
    tn_model m{};
    m.layers = layers;
    m.num_layers = 2;
    m.weights = weights.data();
    m.biases = biases.data();
    m.multipliers = multipliers.data();
    m.shifts = shifts.data();
    m.arena_bytes = 24;
    m.input_offset = 0;
    m.input_bytes = 16;
    m.output_offset = 16;
    m.output_bytes = 8;
    return m;
  }
  tn_layer layers[2];
  std::vector<int8_t> weights;
  std::vector<int32_t> biases;
  std::vector<int32_t> multipliers;
  std::vector<int8_t> shifts;
};

struct BadLayerCase {
  std::string name;
  std::function<void(tn_layer&)> mutate;
  int expected;
};

TEST(CheckModelTest, GoodTablePasses) {
  TwoLayers t;
  const tn_model m = t.Model();
  int32_t bad = 7;
  EXPECT_EQ(tn_check_model(&m, &bad), TN_OK);
  EXPECT_EQ(bad, -1);
  EXPECT_EQ(tn_check_model(&m, nullptr), TN_OK);
}

TEST(CheckModelTest, RejectsEachKindOfBadConvLayer) {
  const std::vector<BadLayerCase> cases = {
      {"op 0", [](tn_layer& l) { l.op = 0; }, TN_ERROR_BAD_OP},
      {"op 8", [](tn_layer& l) { l.op = TN_OP_COUNT; }, TN_ERROR_BAD_OP},
      {"op -1", [](tn_layer& l) { l.op = -1; }, TN_ERROR_BAD_OP},
      {"in_c 0", [](tn_layer& l) { l.in_c = 0; }, TN_ERROR_BAD_LAYER},
      {"out_h -1", [](tn_layer& l) { l.out_h = -1; }, TN_ERROR_BAD_LAYER},
      {"out_w 3", [](tn_layer& l) { l.out_w = 3; }, TN_ERROR_BAD_LAYER},
      {"out_h 1", [](tn_layer& l) { l.out_h = 1; }, TN_ERROR_BAD_LAYER},
      {"kernel 5 > input", [](tn_layer& l) { l.kernel_h = 5; },
       TN_ERROR_BAD_LAYER},
      {"stride 0", [](tn_layer& l) { l.stride_w = 0; }, TN_ERROR_BAD_LAYER},
      {"pad -1", [](tn_layer& l) { l.pad_h = -1; }, TN_ERROR_BAD_LAYER},
      {"huge pad", [](tn_layer& l) { l.pad_h = kMax; }, TN_ERROR_BAD_LAYER},
      {"huge shape", [](tn_layer& l) { l.in_c = l.in_h = l.in_w = kMax; },
       TN_ERROR_BAD_LAYER},
      {"in_offset -1", [](tn_layer& l) { l.in_offset = -1; },
       TN_ERROR_BAD_LAYER},
      {"input past arena", [](tn_layer& l) { l.in_offset = 9; },
       TN_ERROR_BAD_LAYER},
      {"output past arena", [](tn_layer& l) { l.out_offset = 17; },
       TN_ERROR_BAD_LAYER},
      {"offset overflow", [](tn_layer& l) { l.out_offset = kMax - 2; },
       TN_ERROR_BAD_LAYER},
      {"partial overlap", [](tn_layer& l) { l.out_offset = 12; },
       TN_ERROR_BAD_LAYER},
      {"conv in place", [](tn_layer& l) { l.out_offset = 0; },
       TN_ERROR_BAD_LAYER},
      {"in zero point 128", [](tn_layer& l) { l.in_zero_point = 128; },
       TN_ERROR_BAD_LAYER},
      {"out zero point -129", [](tn_layer& l) { l.out_zero_point = -129; },
       TN_ERROR_BAD_LAYER},
      {"act_min > act_max", [](tn_layer& l) {
         l.act_min = 5;
         l.act_max = 4;
       },
       TN_ERROR_BAD_LAYER},
      {"act_max 128", [](tn_layer& l) { l.act_max = 128; },
       TN_ERROR_BAD_LAYER},
      {"act_min -129", [](tn_layer& l) { l.act_min = -129; },
       TN_ERROR_BAD_LAYER},
      {"weights_offset -1", [](tn_layer& l) { l.weights_offset = -1; },
       TN_ERROR_BAD_LAYER},
      {"weights_offset overflow",
       [](tn_layer& l) { l.weights_offset = kMax - 5; }, TN_ERROR_BAD_LAYER},
      {"channel_offset -1", [](tn_layer& l) { l.channel_offset = -1; },
       TN_ERROR_BAD_LAYER},
  };
  for (const BadLayerCase& c : cases) {
    TwoLayers t;
    c.mutate(t.layers[1]);
    const tn_model m = t.Model();
    int32_t bad = -1;
    EXPECT_EQ(tn_check_model(&m, &bad), c.expected) << c.name;
    EXPECT_EQ(bad, 1) << c.name;
  }
}

// A layer of the given op, in a one-layer model, passes or fails the check.
int CheckOne(const LayerCase& c) {
  const tn_model m = ModelOf(c);
  return tn_check_model(&m, nullptr);
}

TEST(CheckModelTest, DepthwiseInPlaceOnlyWithKernelOne) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_DEPTHWISE, 2, 3, 3, 2, 3, 3);
  c.layer.out_offset = 0;
  c.weights.assign(18, 1);
  c.biases = {0, 0};
  c.multipliers = {1, 1};
  c.shifts = {0, 0};
  EXPECT_EQ(CheckOne(c), TN_OK);
  c.layer.pad_h = 1;  // In place needs equal shapes: no padding...
  c.layer.out_h = 5;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
  c.layer.pad_h = 0;  // ... and stride 1.
  c.layer.stride_h = c.layer.stride_w = 2;
  c.layer.out_h = c.layer.out_w = 2;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
  c.layer.stride_h = c.layer.stride_w = 1;
  c.layer.out_h = c.layer.out_w = 3;
  c.layer.kernel_h = c.layer.kernel_w = 3;
  c.layer.pad_h = c.layer.pad_w = 1;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
  c.layer.out_offset = 18;  // Out of place it is fine.
  EXPECT_EQ(CheckOne(c), TN_OK);
  c.layer.out_c = 3;  // Depthwise keeps the channels.
  c.layer.out_offset = 18;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
}

TEST(CheckModelTest, WeightedOpsNeedTheirArrays) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_LINEAR, 4, 1, 1, 2, 1, 1);
  c.weights.assign(8, 1);
  c.biases = {0, 0};
  c.multipliers = {1, 1};
  c.shifts = {0, 0};
  EXPECT_EQ(CheckOne(c), TN_OK);
  tn_model m = ModelOf(c);
  m.multipliers = nullptr;
  EXPECT_EQ(tn_check_model(&m, nullptr), TN_ERROR_BAD_LAYER);
  c.layer.out_h = 2;  // A linear layer's output is flat.
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
}

TEST(CheckModelTest, PoolsKeepTheZeroPointAndLimitPadding) {
  for (int32_t op : {TN_OP_MAXPOOL, TN_OP_AVGPOOL}) {
    LayerCase c;
    c.layer = MakeLayer(op, 1, 4, 4, 1, 3, 3);
    c.layer.kernel_h = c.layer.kernel_w = 2;
    c.layer.stride_h = c.layer.stride_w = 2;
    c.layer.pad_h = c.layer.pad_w = 1;
    EXPECT_EQ(CheckOne(c), TN_OK) << op;
    c.layer.out_zero_point = 1;
    EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER) << op;
    c.layer.out_zero_point = 0;
    c.layer.pad_h = 2;  // More than half the kernel: an empty window.
    c.layer.out_h = 4;
    EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER) << op;
    c.layer.pad_h = 1;
    c.layer.out_h = 3;
    c.layer.out_c = 2;
    EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER) << op;
  }
}

TEST(CheckModelTest, GlobalAvgPoolAndClampShapes) {
  LayerCase g;
  g.layer = MakeLayer(TN_OP_GLOBAL_AVGPOOL, 3, 2, 2, 3, 1, 1);
  EXPECT_EQ(CheckOne(g), TN_OK);
  g.layer.out_w = 2;
  EXPECT_EQ(CheckOne(g), TN_ERROR_BAD_LAYER);
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CLAMP, 3, 2, 2, 3, 2, 2);
  c.layer.out_offset = 0;
  EXPECT_EQ(CheckOne(c), TN_OK);
  c.layer.out_h = 1;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
  c.layer.out_h = 2;
  c.layer.out_zero_point = 3;
  EXPECT_EQ(CheckOne(c), TN_ERROR_BAD_LAYER);
}

TEST(CheckModelTest, AveragesStayWithinInt32Sums) {
  // Sums of up to 2^23 - 1 cells of (x - zp) fit int32; more are refused
  // (only checked, never run: no arena of that size is allocated).
  LayerCase g;
  g.layer = MakeLayer(TN_OP_GLOBAL_AVGPOOL, 1, 2048, 4096, 1, 1, 1);
  EXPECT_EQ(CheckOne(g), TN_ERROR_BAD_LAYER);
  g.layer.in_w = 4095;
  g.layer.out_offset = 2048 * 4095;
  EXPECT_EQ(CheckOne(g), TN_OK);
  LayerCase a;
  a.layer = MakeLayer(TN_OP_AVGPOOL, 1, 2048, 4096, 1, 1, 1);
  a.layer.kernel_h = 2048;
  a.layer.kernel_w = 4096;
  EXPECT_EQ(CheckOne(a), TN_ERROR_BAD_LAYER);
}

TEST(CheckModelTest, RejectsBadModels) {
  TwoLayers t;
  int32_t bad = 5;
  EXPECT_EQ(tn_check_model(nullptr, &bad), TN_ERROR_BAD_LAYER);
  EXPECT_EQ(bad, -1);
  const std::vector<std::function<void(tn_model&)>> mutations = {
      [](tn_model& m) { m.num_layers = -1; },
      [](tn_model& m) { m.layers = nullptr; },
      [](tn_model& m) { m.arena_bytes = -1; },
      [](tn_model& m) { m.input_bytes = 0; },
      [](tn_model& m) { m.output_bytes = 9; },
      [](tn_model& m) { m.input_offset = 9; },
      [](tn_model& m) { m.output_offset = -1; },
      [](tn_model& m) { m.output_offset = kMax; },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    tn_model m = t.Model();
    mutations[i](m);
    bad = 5;
    EXPECT_EQ(tn_check_model(&m, &bad), TN_ERROR_BAD_LAYER) << i;
    EXPECT_EQ(bad, -1) << i;
  }
}

TEST(InvokeTest, BadTableComputesNothing) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CLAMP, 1, 1, 3, 1, 1, 3);
  c.layer.act_min = 10;
  c.layer.act_max = 9;
  int status = TN_OK;
  const std::vector<int8_t> out = RunLayer(c, {1, 2, 3}, &status);
  EXPECT_EQ(status, TN_ERROR_BAD_LAYER);
  EXPECT_EQ(out, std::vector<int8_t>({99, 99, 99}));
}

TEST(InvokeTest, NullBuffersAreRefused) {
  TwoLayers t;
  const tn_model m = t.Model();
  std::vector<int8_t> arena(24), input(16), output(8);
  EXPECT_EQ(tn_invoke(&m, nullptr, input.data(), output.data()),
            TN_ERROR_BAD_LAYER);
  EXPECT_EQ(tn_invoke(&m, arena.data(), nullptr, output.data()),
            TN_ERROR_BAD_LAYER);
  EXPECT_EQ(tn_invoke(&m, arena.data(), input.data(), nullptr),
            TN_ERROR_BAD_LAYER);
  EXPECT_EQ(tn_invoke(&m, arena.data(), input.data(), output.data()), TN_OK);
}

}  // namespace
}  // namespace nas::mcu
