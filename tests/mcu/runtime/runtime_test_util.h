#ifndef NAS_TESTS_MCU_RUNTIME_RUNTIME_TEST_UTIL_H_
#define NAS_TESTS_MCU_RUNTIME_RUNTIME_TEST_UTIL_H_

// One runtime layer with its constants, run alone through tn_invoke.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "mcu/runtime/tinynas_runtime.h"

namespace nas::mcu::testing {

// Identity requantisation: MBQM(x, 2^30, 1) == x exactly.
inline constexpr int32_t kIdentityMultiplier = 1 << 30;
inline constexpr int8_t kIdentityShift = 1;
// Halving: MBQM(x, 2^30, 0) == x / 2, ties of x > 0 up, of x < 0 toward 0.
inline constexpr int32_t kHalfMultiplier = 1 << 30;
inline constexpr int8_t kHalfShift = 0;

struct LayerCase {
  tn_layer layer;
  std::vector<int8_t> weights;
  std::vector<int32_t> biases;
  std::vector<int32_t> multipliers;
  std::vector<int8_t> shifts;
  int32_t arena_bytes = 0;  // 0: input then output, back to back.
};

// A layer with kernel 1, stride 1, no padding, zero points 0, no clamp,
// input at 0 and output right after it.
inline tn_layer MakeLayer(int32_t op, int32_t in_c, int32_t in_h,
                          int32_t in_w, int32_t out_c, int32_t out_h,
                          int32_t out_w) {
  tn_layer l{};
  l.op = op;
  l.in_c = in_c;
  l.in_h = in_h;
  l.in_w = in_w;
  l.out_c = out_c;
  l.out_h = out_h;
  l.out_w = out_w;
  l.kernel_h = l.kernel_w = l.stride_h = l.stride_w = 1;
  l.in_offset = 0;
  l.out_offset = in_c * in_h * in_w;
  l.act_min = -128;
  l.act_max = 127;
  return l;
}

inline int32_t InBytes(const tn_layer& l) { return l.in_c * l.in_h * l.in_w; }
inline int32_t OutBytes(const tn_layer& l) {
  return l.out_c * l.out_h * l.out_w;
}

inline tn_model ModelOf(const LayerCase& c) {
  tn_model m{};
  m.layers = &c.layer;
  m.num_layers = 1;
  m.weights = c.weights.data();
  m.biases = c.biases.data();
  m.multipliers = c.multipliers.data();
  m.shifts = c.shifts.data();
  m.arena_bytes = c.arena_bytes > 0
                      ? c.arena_bytes
                      : std::max(c.layer.in_offset + InBytes(c.layer),
                                 c.layer.out_offset + OutBytes(c.layer));
  m.input_offset = c.layer.in_offset;
  m.input_bytes = InBytes(c.layer);
  m.output_offset = c.layer.out_offset;
  m.output_bytes = OutBytes(c.layer);
  return m;
}

// Runs the layer on `input`; *status gets tn_invoke's result. The output
// is filled with 99 beforehand, so a refused call leaves 99s.
inline std::vector<int8_t> RunLayer(const LayerCase& c,
                                    const std::vector<int8_t>& input,
                                    int* status = nullptr) {
  const tn_model m = ModelOf(c);
  if (static_cast<int32_t>(input.size()) != m.input_bytes) {
    if (status != nullptr) *status = -1;  // The test's own mistake.
    return {};
  }
  std::vector<int8_t> arena(static_cast<size_t>(m.arena_bytes), 0);
  std::vector<int8_t> output(static_cast<size_t>(m.output_bytes), 99);
  const int s = tn_invoke(&m, arena.data(), input.data(), output.data());
  if (status != nullptr) *status = s;
  return output;
}

}  // namespace nas::mcu::testing

#endif  // NAS_TESTS_MCU_RUNTIME_RUNTIME_TEST_UTIL_H_
