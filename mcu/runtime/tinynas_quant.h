/*
 * tinynas int8 runtime: the integer arithmetic every kernel shares, as
 * static inline functions (portable C99, no undefined behaviour).
 *
 * Requantisation is TensorFlow Lite's reference MultiplyByQuantizedMultiplier
 * (gemmlowp's SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT),
 * with two extensions where TFLite's code has undefined behaviour:
 * - a left shift that would overflow int32 saturates instead;
 * - shifts are clamped to -31..31 (TFLite asserts that range).
 * Accumulators wrap modulo 2^32 (computed in uint32_t), which is what
 * TFLite's int32 accumulation does on two's-complement hardware; the
 * quantiser bounds the accumulation so that it never wraps in practice.
 * int32_t is two's complement by definition (C99 7.18.1.1), so bitwise
 * operations on negative values below are well defined.
 */
#ifndef TINYNAS_QUANT_H_
#define TINYNAS_QUANT_H_

#include <stdint.h>

/* round(a * b / 2^31): ties of positive products round up (away from zero),
 * ties of negative ones toward zero, as gemmlowp does; INT32_MIN * INT32_MIN
 * saturates to INT32_MAX. */
static inline int32_t tn_saturating_rounding_doubling_high_mul(int32_t a,
                                                               int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  /* C99 division truncates toward zero, like gemmlowp's. */
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* floor(x / 2^exponent) for 0 <= exponent <= 31, without shifting a negative
 * value: for x < 0, ~x >= 0 and ~(~x >> e) == floor(x / 2^e). */
static inline int32_t tn_arithmetic_shift_right(int32_t x, int32_t exponent) {
  if (x >= 0) return x >> exponent;
  return ~(~x >> exponent);
}

/* round(x / 2^exponent), ties away from zero, 0 <= exponent <= 31. */
static inline int32_t tn_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return tn_arithmetic_shift_right(x, exponent) +
         (remainder > threshold ? 1 : 0);
}

/* TFLite's MultiplyByQuantizedMultiplier: shift > 0 shifts left first,
 * shift < 0 divides by 2^-shift with rounding after the multiplication. */
static inline int32_t tn_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  int32_t left = shift > 0 ? shift : 0;
  int32_t right = shift > 0 ? 0 : -(shift < -31 ? -31 : shift);
  int32_t shifted = x;
  if (left > 0) {
    int64_t wide;
    if (left > 31) left = 31; /* |x| >= 1 saturates anyway; 0 stays 0 */
    wide = (int64_t)x * ((int64_t)1 << left);
    if (wide > INT32_MAX) wide = INT32_MAX;
    if (wide < INT32_MIN) wide = INT32_MIN;
    shifted = (int32_t)wide;
  }
  return tn_rounding_divide_by_pot(
      tn_saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

/* The int32 value of a uint32 accumulator (two's complement), portably. */
static inline int32_t tn_wrap_int32(uint32_t u) {
  if (u <= (uint32_t)INT32_MAX) return (int32_t)u;
  return (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

static inline int32_t tn_clamp32(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* The int8 output of a weighted op: clamp(MBQM(acc) + zero_point, min, max).
 * MBQM's result is clamped to -256..255 first so that adding the zero point
 * (-128..127) cannot overflow; the final clamp is within -128..127 anyway. */
static inline int8_t tn_requantize(uint32_t acc, int32_t multiplier,
                                   int32_t shift, int32_t zero_point,
                                   int32_t act_min, int32_t act_max) {
  int32_t v = tn_mbqm(tn_wrap_int32(acc), multiplier, shift);
  v = tn_clamp32(v, -256, 255) + zero_point;
  return (int8_t)tn_clamp32(v, act_min, act_max);
}

/* round(sum / count), ties away from zero, for 0 < count <=
 * TN_MAX_POOL_CELLS and |sum| <= 255 * count (a sum of int8 differences):
 * int32 throughout, so a Cortex-M needs no 64-bit division routine. */
#define TN_MAX_POOL_CELLS (INT32_MAX / 256)
static inline int32_t tn_divide_round_away(int32_t sum, int32_t count) {
  if (sum >= 0) return (sum + count / 2) / count;
  return -((-sum + count / 2) / count);
}

#endif /* TINYNAS_QUANT_H_ */
