// TN_OP_CONV, TN_OP_DEPTHWISE and TN_OP_LINEAR against hand-worked integer
// examples (each expected value is derived in the comments).

#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mcu/runtime/runtime_test_util.h"

namespace nas::mcu {
namespace {

using ::nas::mcu::testing::kHalfMultiplier;
using ::nas::mcu::testing::kHalfShift;
using ::nas::mcu::testing::kIdentityMultiplier;
using ::nas::mcu::testing::kIdentityShift;
using ::nas::mcu::testing::LayerCase;
using ::nas::mcu::testing::MakeLayer;
using ::nas::mcu::testing::RunLayer;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

TEST(ConvKernelTest, PaddingAndZeroPoints) {
  // 2 input channels 3x3, in_zero_point 1, kernel 3x3, padding 1 -> 1x3x3.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CONV, 2, 3, 3, 1, 3, 3);
  c.layer.kernel_h = c.layer.kernel_w = 3;
  c.layer.pad_h = c.layer.pad_w = 1;
  c.layer.in_zero_point = 1;
  c.layer.out_zero_point = -3;
  // Channel 0: x - zp = 1..9. Channel 1: x - zp = 0 except cell (2,2) = 10.
  const std::vector<int8_t> input = {2, 3, 4, 5, 6, 7, 8, 9, 10,
                                     1, 1, 1, 1, 1, 1, 1, 1, 11};
  // Channel 0 weights: all 1 (a 3x3 box sum over cells inside the input;
  // a padded cell adds 0, not (0 - zp) * 1 = -1). Channel 1: w[1][1] = 3
  // adds 30 at (2,2); w[2][2] = 2 adds 2 * x(oy+1, ox+1) = 20 at (1,1).
  c.weights = {1, 1, 1, 1, 1, 1, 1, 1, 1,  //
               0, 0, 0, 0, 3, 0, 0, 0, 2};
  c.biases = {5};
  c.multipliers = {kHalfMultiplier};
  c.shifts = {kHalfShift};
  // Box sums 12 21 16 / 27 45 33 / 24 39 28; + channel 1 (45+20, 28+30);
  // + bias 5: 17 26 21 / 32 70 38 / 29 44 63. Halved (ties up): 9 13 11 /
  // 16 35 19 / 15 22 32; + out_zero_point -3:
  int status = -1;
  EXPECT_THAT(RunLayer(c, input, &status),
              ElementsAre(6, 10, 8, 13, 32, 16, 12, 19, 29));
  EXPECT_EQ(status, TN_OK);
}

TEST(ConvKernelTest, StrideChannelOffsetsAndSaturation) {
  // 1x4x4 input 0..15, kernel 2x2 stride 2 -> 2x2x2; the layer's constants
  // start at weights_offset 3 and channel_offset 1 (entries before belong
  // to another layer).
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CONV, 1, 4, 4, 2, 2, 2);
  c.layer.kernel_h = c.layer.kernel_w = 2;
  c.layer.stride_h = c.layer.stride_w = 2;
  c.layer.weights_offset = 3;
  c.layer.channel_offset = 1;
  c.weights = {100, 100, 100, 1, 2, 3, 4, -1, 0, 0, 0};
  c.biases = {100, 0, 0};
  c.multipliers = {0, kIdentityMultiplier, kIdentityMultiplier};
  c.shifts = {0, kIdentityShift, kIdentityShift};
  std::vector<int8_t> input(16);
  for (int i = 0; i < 16; ++i) input[i] = static_cast<int8_t>(i);
  // Channel 0 (w 1 2 3 4): 0+2+12+20 = 34, 2+6+18+28 = 54,
  // 8+18+36+52 = 114, 10+22+42+60 = 134 -> 127. Channel 1 (w -1 0 0 0):
  // minus the window's top-left cell: 0, -2, -8, -10.
  EXPECT_THAT(RunLayer(c, input),
              ElementsAre(34, 54, 114, 127, 0, -2, -8, -10));
}

TEST(ConvKernelTest, OneDimensional) {
  // CONV1D: 2x1x5 input, kernel 1x3, padding 1, stride 2 -> 1x1x3.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CONV, 2, 1, 5, 1, 1, 3);
  c.layer.kernel_w = 3;
  c.layer.pad_w = 1;
  c.layer.stride_w = 2;
  c.layer.out_zero_point = 4;
  c.weights = {1, 0, -1, 0, 1, 0};
  c.biases = {0};
  c.multipliers = {kIdentityMultiplier};
  c.shifts = {kIdentityShift};
  const std::vector<int8_t> input = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50};
  // ox 0 reads cells -1..1: -2 + 10 = 8; ox 1 cells 1..3: 2 - 4 + 30 = 28;
  // ox 2 cells 3..5: 4 + 50 = 54. + out_zero_point 4:
  EXPECT_THAT(RunLayer(c, input), ElementsAre(12, 32, 58));
}

TEST(ConvKernelTest, PointwiseWithZeroPoint) {
  // POINTWISE_CONV2D (kernel 1, stride 1: the kernel's pointwise path),
  // in_zero_point -2: out[c][i] = bias[c] + sum_ic (x - (-2)) * w[c][ic].
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CONV, 2, 1, 3, 2, 1, 3);
  c.layer.in_zero_point = -2;
  c.weights = {1, 2, -3, 1};
  c.biases = {1, -1};
  c.multipliers = {kIdentityMultiplier, kIdentityMultiplier};
  c.shifts = {kIdentityShift, kIdentityShift};
  // x - zp: channel 0 = 2 3 4, channel 1 = 1 0 -1.
  const std::vector<int8_t> input = {0, 1, 2, -1, -2, -3};
  // out 0: 1 + 2 + 2*1 = 5, 1 + 3 + 0 = 4, 1 + 4 - 2 = 3;
  // out 1: -1 - 6 + 1 = -6, -1 - 9 + 0 = -10, -1 - 12 - 1 = -14.
  EXPECT_THAT(RunLayer(c, input), ElementsAre(5, 4, 3, -6, -10, -14));
}

TEST(DepthwiseKernelTest, InPlaceBatchNorm) {
  // A lone BATCHNORM: kernel 1, in place, per-channel scale and offset.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_DEPTHWISE, 2, 2, 2, 2, 2, 2);
  c.layer.out_offset = 0;
  c.layer.in_zero_point = 2;
  c.layer.out_zero_point = -1;
  c.weights = {2, -3};
  c.biases = {1, 0};
  c.multipliers = {kIdentityMultiplier, kHalfMultiplier};
  c.shifts = {kIdentityShift, kHalfShift};
  const std::vector<int8_t> input = {2, 3, 4, 5, 0, -2, 7, 10};
  // Channel 0: x - zp = 0 1 2 3, * 2 + 1 = 1 3 5 7, - 1 = 0 2 4 6.
  // Channel 1: x - zp = -2 -4 5 8, * -3 = 6 12 -15 -24, halved = 3 6 -7
  // (-7.5: a negative tie goes toward zero) -12, - 1 = 2 5 -8 -13.
  EXPECT_THAT(RunLayer(c, input), ElementsAre(0, 2, 4, 6, 2, 5, -8, -13));
}

TEST(DepthwiseKernelTest, PaddedThreeByThree) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_DEPTHWISE, 1, 3, 3, 1, 3, 3);
  c.layer.kernel_h = c.layer.kernel_w = 3;
  c.layer.pad_h = c.layer.pad_w = 1;
  c.layer.in_zero_point = 1;
  c.weights = {0, 1, 0, 1, 1, 1, 0, 1, 0};  // A plus: centre and 4 sides.
  c.biases = {0};
  c.multipliers = {kIdentityMultiplier};
  c.shifts = {kIdentityShift};
  // x - zp = 1..9; each output = centre + in-bounds neighbours.
  const std::vector<int8_t> input = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_THAT(RunLayer(c, input),
              ElementsAre(7, 11, 11, 17, 25, 23, 19, 29, 23));
}

TEST(LinearKernelTest, SaturatesBothWays) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_LINEAR, 4, 1, 1, 3, 1, 1);
  c.layer.in_zero_point = -1;
  c.weights = {1, 1, 1, 1, -1, -1, -1, -1, 2, 0, 1, 0};
  c.biases = {0, 0, -60};
  c.multipliers = {kIdentityMultiplier, kIdentityMultiplier,
                   kIdentityMultiplier};
  c.shifts = {kIdentityShift, kIdentityShift, kIdentityShift};
  // x - zp = 11 -19 31 128: sum 151 -> 127, -151 -> -128,
  // 22 + 31 - 60 = -7.
  EXPECT_THAT(RunLayer(c, {10, -20, 30, 127}), ElementsAre(127, -128, -7));
}

TEST(LinearKernelTest, FlattensAndFusesRelu) {
  // A {2, 1, 2} input flattened in memory order, ReLU fused as
  // act_min = out_zero_point.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_LINEAR, 2, 1, 2, 3, 1, 1);
  c.layer.in_zero_point = -1;
  c.layer.out_zero_point = -5;
  c.layer.act_min = -5;
  c.weights = {1, 1, 1, 1, -1, -1, -1, -1, 2, 0, 1, 0};
  c.biases = {0, 0, 0};
  c.multipliers = {kIdentityMultiplier, kIdentityMultiplier,
                   kIdentityMultiplier};
  c.shifts = {kIdentityShift, kIdentityShift, kIdentityShift};
  // 151 - 5 -> 127; -151 - 5 -> clamp -5; 53 - 5 = 48.
  EXPECT_THAT(RunLayer(c, {10, -20, 30, 127}), ElementsAre(127, -5, 48));
}

TEST(LinearKernelTest, AccumulatesLongRows) {
  // 1000 inputs of x - zp = 127 times weight 127 = 16,129,000; bias
  // -16,129,000 + 77 leaves 77.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_LINEAR, 1000, 1, 1, 1, 1, 1);
  c.weights.assign(1000, 127);
  c.biases = {-16129000 + 77};
  c.multipliers = {kIdentityMultiplier};
  c.shifts = {kIdentityShift};
  EXPECT_THAT(RunLayer(c, std::vector<int8_t>(1000, 127)),
              ElementsAreArray({77}));
}

TEST(LinearKernelTest, ExtremeAccumulatorsStayDefined) {
  // MBQM(INT32_MAX, INT32_MAX, 0) = 2^31 - 2 and MBQM(INT32_MIN, INT32_MAX,
  // 0) = -(2^31 - 1): adding a zero point of either sign must saturate to
  // 127 and -128, not overflow.
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  LayerCase c;
  c.layer = MakeLayer(TN_OP_LINEAR, 1, 1, 1, 2, 1, 1);
  c.weights = {0, 0};
  c.biases = {kMax, kMin};
  c.multipliers = {kMax, kMax};
  c.shifts = {0, 0};
  for (int32_t zero_point : {5, -5}) {
    c.layer.out_zero_point = zero_point;
    EXPECT_THAT(RunLayer(c, {7}), ElementsAre(127, -128)) << zero_point;
  }
  // The accumulator wraps modulo 2^32 as TFLite's int32 sum does on
  // two's-complement hardware: INT32_MAX + 1 * 1 = INT32_MIN -> -128.
  c.weights = {1, 0};
  c.layer.out_zero_point = 0;
  EXPECT_THAT(RunLayer(c, {1}), ElementsAre(-128, -128));
}

}  // namespace
}  // namespace nas::mcu
