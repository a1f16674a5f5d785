#include "mcu/quantizer/quantize_math.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas::mcu {
namespace {

using ::testing::ElementsAre;

constexpr int32_t k2To30 = 1 << 30;

void ExpectMultiplier(double real, int32_t multiplier, int shift) {
  const QuantizedMultiplier m = QuantizeMultiplier(real);
  EXPECT_EQ(m.multiplier, multiplier) << real;
  EXPECT_EQ(m.shift, shift) << real;
}

TEST(QuantizeMultiplierTest, HandValues) {
  ExpectMultiplier(0.5, k2To30, 0);           // 0.5 * 2^0.
  ExpectMultiplier(0.25, k2To30, -1);         // 0.5 * 2^-1.
  ExpectMultiplier(1.5, 1610612736, 1);       // 0.75 * 2^1; 0.75 * 2^31.
  ExpectMultiplier(0.75, 1610612736, 0);
  ExpectMultiplier(1.0, k2To30, 1);           // 0.5 * 2^1.
  ExpectMultiplier(0.3, 1288490189, -1);      // 0.6 * 2^31 = ...188.8 rounds up.
  ExpectMultiplier(0.002, 1099511628, -8);    // 0.512 * 2^-8.
}

TEST(QuantizeMultiplierTest, MantissaRoundingToTwoTo31CarriesIntoTheShift) {
  // 1 - 2^-40: frexp gives 0.99999999999909 * 2^0, whose Q31 rounds to 2^31.
  ExpectMultiplier(1.0 - std::ldexp(1.0, -40), k2To30, 1);
  ExpectMultiplier(0.5 - std::ldexp(1.0, -40), k2To30, 0);
}

TEST(QuantizeMultiplierTest, TinyMultipliersFlushToZero) {
  ExpectMultiplier(std::ldexp(1.0, -32), k2To30, -31);  // The last kept shift.
  ExpectMultiplier(std::ldexp(1.0, -33), 0, 0);         // Shift -32.
  ExpectMultiplier(1e-10, 0, 0);
  ExpectMultiplier(0.0, 0, 0);
}

TEST(ChooseActivationParamsTest, SymmetricRange) {
  const ActivationParams p = ChooseActivationParams(-1, 1);
  EXPECT_DOUBLE_EQ(p.scale, 2.0 / 255);
  // Both ends give -0.5; the max end has the smaller error; round(-0.5) = -1.
  EXPECT_EQ(p.zero_point, -1);
}

TEST(ChooseActivationParamsTest, ReluSixRange) {
  const ActivationParams p = ChooseActivationParams(0, 6);
  EXPECT_DOUBLE_EQ(p.scale, 6.0 / 255);
  EXPECT_EQ(p.zero_point, -128);
}

TEST(ChooseActivationParamsTest, RangeIsExtendedToIncludeZero) {
  const ActivationParams positive = ChooseActivationParams(2, 3);
  EXPECT_DOUBLE_EQ(positive.scale, 3.0 / 255);
  EXPECT_EQ(positive.zero_point, -128);
  const ActivationParams negative = ChooseActivationParams(-3, -1);
  EXPECT_DOUBLE_EQ(negative.scale, 3.0 / 255);
  EXPECT_EQ(negative.zero_point, 127);
}

TEST(ChooseActivationParamsTest, ZeroPointIsRounded) {
  // [-0.5, 2]: scale 2.5/255; from min: -128 + 51 = -77.
  const ActivationParams p = ChooseActivationParams(-0.5, 2);
  EXPECT_DOUBLE_EQ(p.scale, 2.5 / 255);
  EXPECT_EQ(p.zero_point, -77);
  // Real 0 maps exactly to the zero point.
  EXPECT_EQ(QuantizeValue(0.0, p), -77);
}

TEST(ChooseActivationParamsTest, DegenerateRangeGetsATinyPositiveScale) {
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
           {0, 0}, {0, 1e-30}, {NAN, NAN}, {0, INFINITY}}) {
    const ActivationParams p = ChooseActivationParams(lo, hi);
    EXPECT_GT(p.scale, 0) << lo << " " << hi;
    EXPECT_TRUE(std::isfinite(p.scale)) << lo << " " << hi;
    EXPECT_GE(p.zero_point, -128);
    EXPECT_LE(p.zero_point, 127);
  }
  EXPECT_EQ(ChooseActivationParams(0, 0).zero_point, 0);
  EXPECT_EQ(ChooseActivationParams(0, 0).scale, kMinActivationScale);
}

TEST(QuantizeValueTest, RoundsAndSaturates) {
  const ActivationParams p{0.5, 10};
  EXPECT_EQ(QuantizeValue(1.0, p), 12);
  EXPECT_EQ(QuantizeValue(1.25, p), 13);   // 2.5 rounds away from zero.
  EXPECT_EQ(QuantizeValue(-1.25, p), 7);   // -2.5 -> -3.
  EXPECT_EQ(QuantizeValue(1000, p), 127);
  EXPECT_EQ(QuantizeValue(-1000, p), -128);
  EXPECT_EQ(QuantizeValue(NAN, p), -128);
}

TEST(QuantizeWeightsTest, SymmetricPerChannel) {
  const std::vector<float> w = {0.3f, -1.0f, 0.25f,   // max |w| 1.
                                0.0f, 0.0f, 0.0f,     // all zero.
                                0.02f, 0.011f, -0.005f};
  const ChannelWeights q = QuantizeWeightsPerChannel(w, 3);
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_NEAR(q.scales[0], 1.0 / 127, 1e-9);
  EXPECT_EQ(q.scales[1], 1.0);
  EXPECT_NEAR(q.scales[2], 0.02 / 127, 1e-9);
  // 0.3 * 127 = 38.1 -> 38; 0.25 * 127 = 31.75 -> 32; 0.011 / 0.02 * 127 =
  // 69.85 -> 70; -0.005 / 0.02 * 127 = -31.75 -> -32.
  EXPECT_THAT(q.values, ElementsAre(38, -127, 32, 0, 0, 0, 127, 70, -32));
}

TEST(QuantizeBiasTest, ScaleIsInputTimesWeight) {
  bool saturated = false;
  EXPECT_EQ(QuantizeBias(0.5, 0.01, 0.02, &saturated), 2500);
  EXPECT_EQ(QuantizeBias(-0.50001, 0.01, 0.02, &saturated), -2500);
  EXPECT_FALSE(saturated);
  EXPECT_EQ(QuantizeBias(1e6, 1e-6, 1e-6, &saturated),
            std::numeric_limits<int32_t>::max());
  EXPECT_TRUE(saturated);
  saturated = false;
  EXPECT_EQ(QuantizeBias(-1e6, 1e-6, 1e-6, &saturated),
            std::numeric_limits<int32_t>::min());
  EXPECT_TRUE(saturated);
}

TEST(FusedClampTest, NoneReluAndReluSix) {
  const ActivationParams wide{0.1, -10};
  EXPECT_EQ(FusedClamp(FusedActivation::kNone, wide).min, -128);
  EXPECT_EQ(FusedClamp(FusedActivation::kNone, wide).max, 127);
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu, wide).min, -10);
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu, wide).max, 127);
  // ReLU6: 6 / 0.1 = 60 steps above the zero point.
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu6, wide).min, -10);
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu6, wide).max, 50);
  // A range calibrated to [0, 6]: the clamp is the whole int8 range.
  const ActivationParams six = ChooseActivationParams(0, 6);
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu6, six).min, -128);
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu6, six).max, 127);
  // 6 lies beyond the range: capped at 127.
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu6, ActivationParams{0.01, 0}).max, 127);
  // A zero point below -128 cannot happen, but the floor holds.
  EXPECT_EQ(FusedClamp(FusedActivation::kRelu, ActivationParams{1, -128}).min, -128);
}

TEST(BatchNormTest, FoldIntoPrecedingWeights) {
  BatchNormParams bn;
  bn.gamma = {2.0f, 0.5f};
  bn.beta = {1.0f, -1.0f};
  bn.mean = {0.5f, 2.0f};
  bn.var = {3.0f, 0.25f};
  bn.eps = 1.0;  // sqrt(var + eps) = 2 and sqrt(1.25).
  std::vector<float> w = {1, 2, 3, -1};  // Two channels of two weights.
  std::vector<float> b = {0.5f, 1.0f};
  FoldBatchNorm(bn, &w, &b);
  const double s1 = 0.5 / std::sqrt(1.25);
  EXPECT_THAT(w, ElementsAre(1.0f, 2.0f, static_cast<float>(3 * s1),
                             static_cast<float>(-s1)));
  EXPECT_FLOAT_EQ(b[0], (0.5f - 0.5f) * 1.0f + 1.0f);
  EXPECT_FLOAT_EQ(b[1], static_cast<float>((1.0 - 2.0) * s1 - 1.0));
}

TEST(BatchNormTest, LoneBatchNormIsAPerChannelScaleAndOffset) {
  BatchNormParams bn;
  bn.gamma = {2.0f};
  bn.beta = {1.0f};
  bn.mean = {0.5f};
  bn.var = {3.0f};
  bn.eps = 1.0;
  std::vector<float> w, b;
  LoneBatchNorm(bn, &w, &b);
  EXPECT_THAT(w, ElementsAre(1.0f));
  EXPECT_THAT(b, ElementsAre(0.5f));  // 1 - 0.5 * 1.
}

}  // namespace
}  // namespace nas::mcu
