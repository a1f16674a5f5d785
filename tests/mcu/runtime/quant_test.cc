// tn_multiply_by_quantized_multiplier: TFLite's reference
// MultiplyByQuantizedMultiplier = RoundingDivideByPOT(
// SaturatingRoundingDoublingHighMul(x << left, multiplier), right), worked
// by hand. SRDHM(a, b) = (a * b + nudge) / 2^31 truncated, nudge = 2^30 for
// a * b >= 0 and 1 - 2^30 below; RDBPOT rounds ties away from zero.

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"
#include "mcu/runtime/tinynas_runtime.h"

namespace nas::mcu {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

int32_t Mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  return tn_multiply_by_quantized_multiplier(x, multiplier, shift);
}

TEST(MultiplyByQuantizedMultiplierTest, HalfIsExactOnEvenValues) {
  // 100 * 2^30 / 2^31 = 50 exactly.
  EXPECT_EQ(Mbqm(100, 1 << 30, 0), 50);
  EXPECT_EQ(Mbqm(-100, 1 << 30, 0), -50);
  EXPECT_EQ(Mbqm(0, 1 << 30, 0), 0);
}

TEST(MultiplyByQuantizedMultiplierTest, HighMulTiesPositiveUpNegativeToZero) {
  // 3 * 2^30 / 2^31 = 1.5: (3 * 2^30 + 2^30) / 2^31 = 2.
  EXPECT_EQ(Mbqm(3, 1 << 30, 0), 2);
  // -1.5: (-3 * 2^30 + 1 - 2^30) / 2^31 = -2 + 2^-31, truncated to -1.
  EXPECT_EQ(Mbqm(-3, 1 << 30, 0), -1);
  // -0.5 -> 0 and 0.5 -> 1.
  EXPECT_EQ(Mbqm(-1, 1 << 30, 0), 0);
  EXPECT_EQ(Mbqm(1, 1 << 30, 0), 1);
  // -2.5 -> -2, 2.5 -> 3.
  EXPECT_EQ(Mbqm(-5, 1 << 30, 0), -2);
  EXPECT_EQ(Mbqm(5, 1 << 30, 0), 3);
}

TEST(MultiplyByQuantizedMultiplierTest, RightShiftTiesAwayFromZero) {
  // SRDHM(3, 2^31 - 1) = round(2.9999999986) = 3; RDBPOT(3, 1) = round(1.5)
  // = 2. SRDHM(-3, 2^31 - 1) = (-3 * 2^31 + 3 + 1 - 2^30) / 2^31 ->
  // -3.4999999981 truncated = -3; RDBPOT(-3, 1) = -2 (away from zero).
  EXPECT_EQ(Mbqm(3, kMax, -1), 2);
  EXPECT_EQ(Mbqm(-3, kMax, -1), -2);
  // 5 / 4 = 1.25 -> 1, -5 / 4 -> -1, 6 / 4 = 1.5 -> 2, -6 / 4 -> -2.
  EXPECT_EQ(Mbqm(5, kMax, -2), 1);
  EXPECT_EQ(Mbqm(-5, kMax, -2), -1);
  EXPECT_EQ(Mbqm(6, kMax, -2), 2);
  EXPECT_EQ(Mbqm(-6, kMax, -2), -2);
  // Double rounding, as TFLite: 2^30 halves 7 to 3.5 -> 4, then / 2 = 2.
  EXPECT_EQ(Mbqm(7, 1 << 30, -1), 2);
}

TEST(MultiplyByQuantizedMultiplierTest, SaturatesMinTimesMin) {
  // INT32_MIN * INT32_MIN / 2^31 = 2^31 does not fit: INT32_MAX.
  EXPECT_EQ(Mbqm(kMin, kMin, 0), kMax);
  // Then a right shift of it: round((2^31 - 1) / 2) = 2^30.
  EXPECT_EQ(Mbqm(kMin, kMin, -1), 1 << 30);
  // INT32_MIN * INT32_MAX / 2^31 = -(2^31 - 1) exactly.
  EXPECT_EQ(Mbqm(kMin, kMax, 0), -kMax);
}

TEST(MultiplyByQuantizedMultiplierTest, LargeShifts) {
  // Left 10: 2^20 * 2^10 = 2^30; * 2^30 / 2^31 = 2^29.
  EXPECT_EQ(Mbqm(1 << 20, 1 << 30, 10), 1 << 29);
  // Left 30: 1 * 2^30 * (2^31 - 1) / 2^31 = 2^30 - 0.5 -> 2^30.
  EXPECT_EQ(Mbqm(1, kMax, 30), 1 << 30);
  // A left shift past int32 saturates (TFLite's int32 overflow is
  // undefined there): 2^22 * 2^10 -> INT32_MAX, * 2^30 / 2^31 = 2^30 - 0.5
  // -> 2^30; negative: INT32_MIN * 2^30 / 2^31 = -2^30 exactly.
  EXPECT_EQ(Mbqm(1 << 22, 1 << 30, 10), 1 << 30);
  EXPECT_EQ(Mbqm(-(1 << 22), 1 << 30, 10), -(1 << 30));
  // Right 31: SRDHM(2^31 - 1, 2^31 - 1) = 2^31 - 2, / 2^31 -> 1; the
  // negative one -(2^31 - 2) -> -1; SRDHM(2^30, 2^31 - 1) = 2^30 - 0.5 ->
  // 2^30, / 2^31 = 0.5 -> 1 (double rounding, as TFLite); 2^29 / 2^31 -> 0.
  EXPECT_EQ(Mbqm(kMax, kMax, -31), 1);
  EXPECT_EQ(Mbqm(-kMax, kMax, -31), -1);
  EXPECT_EQ(Mbqm(kMin, kMin, -31), 1);
  EXPECT_EQ(Mbqm(1 << 30, kMax, -31), 1);
  EXPECT_EQ(Mbqm(1 << 30, 1 << 30, -31), 0);
  // A typical requantisation: 1000 * 0.75 * 2^-3 = 93.75 -> 94.
  EXPECT_EQ(Mbqm(1000, 3 << 29, -3), 94);
  EXPECT_EQ(Mbqm(-1000, 3 << 29, -3), -94);
}

TEST(MultiplyByQuantizedMultiplierTest, ShiftsBeyondRangeAreClamped) {
  // Right shifts past 31 act as 31, left shifts past 31 as 31.
  EXPECT_EQ(Mbqm(kMax, kMax, -40), Mbqm(kMax, kMax, -31));
  EXPECT_EQ(Mbqm(3, 1 << 30, 40), kMax / 2 + 1);  // INT32_MAX * 0.5 -> 2^30.
}

}  // namespace
}  // namespace nas::mcu
