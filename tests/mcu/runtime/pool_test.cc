// TN_OP_MAXPOOL, TN_OP_AVGPOOL, TN_OP_GLOBAL_AVGPOOL and TN_OP_CLAMP against
// hand-worked integer examples.

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mcu/runtime/runtime_test_util.h"

namespace nas::mcu {
namespace {

using ::nas::mcu::testing::LayerCase;
using ::nas::mcu::testing::MakeLayer;
using ::nas::mcu::testing::RunLayer;
using ::testing::ElementsAre;

TEST(MaxPoolKernelTest, PaddedCellsAreSkipped) {
  // 1x3x3, kernel 2x2, stride 2, padding 1 -> 1x2x2; zero point 10, so a
  // padded cell read as 0 or as the zero point would win over -5.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_MAXPOOL, 1, 3, 3, 1, 2, 2);
  c.layer.kernel_h = c.layer.kernel_w = 2;
  c.layer.stride_h = c.layer.stride_w = 2;
  c.layer.pad_h = c.layer.pad_w = 1;
  c.layer.in_zero_point = c.layer.out_zero_point = 10;
  const std::vector<int8_t> input = {-5, 1, -7, 2, -9, 3, -4, 0, -6};
  // Windows: {-5}, {1, -7}, {2, -4}, {-9, 3, 0, -6}.
  EXPECT_THAT(RunLayer(c, input), ElementsAre(-5, 1, 2, 3));
  // With an output clamp -4..2 (a fused ReLU6-like range).
  c.layer.act_min = -4;
  c.layer.act_max = 2;
  EXPECT_THAT(RunLayer(c, input), ElementsAre(-4, 1, 2, 2));
}

TEST(MaxPoolKernelTest, OneDimensionalTwoChannels) {
  // 2x1x4, kernel 1x2, stride 2 -> 2x1x2.
  LayerCase c;
  c.layer = MakeLayer(TN_OP_MAXPOOL, 2, 1, 4, 2, 1, 2);
  c.layer.kernel_w = c.layer.stride_w = 2;
  EXPECT_THAT(RunLayer(c, {1, 2, -3, -4, -128, -128, 127, 0}),
              ElementsAre(2, -3, -128, 127));
}

TEST(AvgPoolKernelTest, CountsPaddingAndRoundsTiesAwayFromZero) {
  // 1x2x2, kernel 2x2, stride 1, padding 1 -> 1x3x3, zero point 3;
  // x - zp = [[2, -6], [6, -2]]. Every window divides by 4 (padding counts
  // as a real zero, count_include_pad=True).
  LayerCase c;
  c.layer = MakeLayer(TN_OP_AVGPOOL, 1, 2, 2, 1, 3, 3);
  c.layer.kernel_h = c.layer.kernel_w = 2;
  c.layer.pad_h = c.layer.pad_w = 1;
  c.layer.in_zero_point = c.layer.out_zero_point = 3;
  const std::vector<int8_t> input = {5, -3, 9, 1};
  // Window sums: 2, -4, -6 / 8, 0, -8 / 6, 4, -2; / 4: 0.5 -> 1,
  // -1, -1.5 -> -2 / 2, 0, -2 / 1.5 -> 2, 1, -0.5 -> -1; + 3:
  EXPECT_THAT(RunLayer(c, input), ElementsAre(4, 2, 1, 5, 3, 1, 5, 4, 2));
}

TEST(AvgPoolKernelTest, ClampsToTheOutputRange) {
  // 1x1x4, kernel 1x2, stride 2, zero point -128: means of (x + 128).
  LayerCase c;
  c.layer = MakeLayer(TN_OP_AVGPOOL, 1, 1, 4, 1, 1, 2);
  c.layer.kernel_w = c.layer.stride_w = 2;
  c.layer.in_zero_point = c.layer.out_zero_point = -128;
  c.layer.act_max = 0;
  // x - zp = 255 254 0 1: (255 + 254) / 2 = 254.5 -> 255, - 128 = 127 ->
  // clamp 0; (0 + 1) / 2 = 0.5 -> 1, - 128 = -127.
  EXPECT_THAT(RunLayer(c, {127, 126, -128, -127}), ElementsAre(0, -127));
}

TEST(GlobalAvgPoolKernelTest, RoundsTiesOfBothSigns) {
  // {2, 2, 3} -> {2}, zero point -2: channel 0 x - zp = 1..6 (21 / 6 = 3.5
  // -> 4, + zp = 2); channel 1 x - zp = -1..-6 (-3.5 -> -4, + zp = -6).
  LayerCase c;
  c.layer = MakeLayer(TN_OP_GLOBAL_AVGPOOL, 2, 2, 3, 2, 1, 1);
  c.layer.in_zero_point = c.layer.out_zero_point = -2;
  const std::vector<int8_t> input = {-1, 0,  1,  2,  3,  4,
                                     -3, -4, -5, -6, -7, -8};
  EXPECT_THAT(RunLayer(c, input), ElementsAre(2, -6));
  c.layer.act_min = -5;
  EXPECT_THAT(RunLayer(c, input), ElementsAre(2, -5));
}

TEST(ClampKernelTest, InPlaceRelu6) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CLAMP, 1, 1, 5, 1, 1, 5);
  c.layer.out_offset = 0;
  c.layer.act_min = 0;
  c.layer.act_max = 6;
  EXPECT_THAT(RunLayer(c, {-128, -1, 0, 5, 127}), ElementsAre(0, 0, 0, 5, 6));
}

TEST(ClampKernelTest, IntoADisjointBuffer) {
  LayerCase c;
  c.layer = MakeLayer(TN_OP_CLAMP, 2, 1, 2, 2, 1, 2);
  c.layer.in_zero_point = c.layer.out_zero_point = -20;
  c.layer.act_min = -20;
  EXPECT_THAT(RunLayer(c, {-30, -20, 0, 127}), ElementsAre(-20, -20, 0, 127));
}

}  // namespace
}  // namespace nas::mcu
