// The sliding-window kernels against a naive reference (every kernel cell,
// a bounds test per cell) over many shapes: rows wider than the kernels'
// tile of accumulators, strides, padding, zero points, 1-D and pointwise.
// The hand-worked examples pin the arithmetic; this pins the indexing.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/mcu/runtime/runtime_test_util.h"

namespace nas::mcu {
namespace {

using ::nas::mcu::testing::LayerCase;
using ::nas::mcu::testing::MakeLayer;
using ::nas::mcu::testing::RunLayer;

// Deterministic int8 values in [lo, hi].
std::vector<int8_t> Values(size_t n, uint32_t seed, int lo, int hi) {
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const uint32_t span = static_cast<uint32_t>(hi - lo + 1);
    v[i] = static_cast<int8_t>(lo + static_cast<int>((seed >> 8) % span));
  }
  return v;
}

// out[c][oy][ox] by the definition; depthwise when `depthwise`.
std::vector<int8_t> Reference(const LayerCase& c,
                              const std::vector<int8_t>& x, bool depthwise) {
  const tn_layer& l = c.layer;
  std::vector<int8_t> out;
  for (int oc = 0; oc < l.out_c; ++oc) {
    const int ch = l.channel_offset + oc;
    for (int oy = 0; oy < l.out_h; ++oy) {
      for (int ox = 0; ox < l.out_w; ++ox) {
        int64_t acc = c.biases[ch];
        for (int ic = 0; ic < (depthwise ? 1 : l.in_c); ++ic) {
          const int in_ch = depthwise ? oc : ic;
          for (int ky = 0; ky < l.kernel_h; ++ky) {
            for (int kx = 0; kx < l.kernel_w; ++kx) {
              const int iy = oy * l.stride_h - l.pad_h + ky;
              const int ix = ox * l.stride_w - l.pad_w + kx;
              if (iy < 0 || iy >= l.in_h || ix < 0 || ix >= l.in_w) continue;
              const int w_index =
                  ((oc * (depthwise ? 1 : l.in_c) + ic) * l.kernel_h + ky) *
                      l.kernel_w + kx;
              acc += (x[(in_ch * l.in_h + iy) * l.in_w + ix] -
                      l.in_zero_point) *
                     c.weights[l.weights_offset + w_index];
            }
          }
        }
        int32_t v = tn_multiply_by_quantized_multiplier(
            static_cast<int32_t>(acc), c.multipliers[ch], c.shifts[ch]);
        v = std::min(std::max(v + l.out_zero_point, l.act_min), l.act_max);
        out.push_back(static_cast<int8_t>(v));
      }
    }
  }
  return out;
}

struct Geometry {
  int in_c, in_h, in_w, out_c, kernel_h, kernel_w, stride, pad_h, pad_w;
};

LayerCase MakeCase(const Geometry& g, bool depthwise, uint32_t seed) {
  const int out_c = depthwise ? g.in_c : g.out_c;
  const int out_h = (g.in_h + 2 * g.pad_h - g.kernel_h) / g.stride + 1;
  const int out_w = (g.in_w + 2 * g.pad_w - g.kernel_w) / g.stride + 1;
  LayerCase c;
  c.layer = MakeLayer(depthwise ? TN_OP_DEPTHWISE : TN_OP_CONV, g.in_c,
                      g.in_h, g.in_w, out_c, out_h, out_w);
  c.layer.kernel_h = g.kernel_h;
  c.layer.kernel_w = g.kernel_w;
  c.layer.stride_h = c.layer.stride_w = g.stride;
  c.layer.pad_h = g.pad_h;
  c.layer.pad_w = g.pad_w;
  c.layer.in_zero_point = -7;
  c.layer.out_zero_point = 3;
  c.layer.act_min = -100;
  c.layer.weights_offset = 2;
  c.layer.channel_offset = 1;
  const int per_channel = (depthwise ? 1 : g.in_c) * g.kernel_h * g.kernel_w;
  c.weights = Values(2 + out_c * per_channel, seed, -127, 127);
  c.biases = std::vector<int32_t>(out_c + 1);
  c.multipliers = std::vector<int32_t>(out_c + 1);
  c.shifts = std::vector<int8_t>(out_c + 1);
  for (int i = 0; i <= out_c; ++i) {
    c.biases[i] = (i * 7919) % 4001 - 2000;
    c.multipliers[i] = (1 << 30) + i * 12345678;
    c.shifts[i] = static_cast<int8_t>(-7 - i % 3);
  }
  return c;
}

TEST(ReferenceTest, ConvAndDepthwiseMatchTheDefinition) {
  const std::vector<Geometry> geometries = {
      {3, 5, 70, 2, 3, 3, 1, 1, 1},   // Rows wider than two tiles.
      {2, 4, 33, 3, 3, 3, 2, 1, 1},   // Stride 2 across a tile edge.
      {2, 1, 100, 2, 1, 5, 1, 0, 2},  // 1-D, kernel 5, padding 2.
      {2, 1, 90, 3, 1, 4, 3, 0, 1},   // 1-D, stride 3, even kernel.
      {4, 9, 9, 5, 1, 1, 1, 0, 0},    // Pointwise: 81 cells, one row.
      {3, 6, 7, 2, 2, 2, 2, 0, 0},    // Even kernel, stride 2.
      {2, 7, 40, 2, 5, 5, 1, 2, 2},   // 5x5, padding 2.
      {1, 3, 3, 2, 3, 3, 1, 3, 3},    // Padding past the kernel.
  };
  uint32_t seed = 1;
  for (const Geometry& g : geometries) {
    for (bool depthwise : {false, true}) {
      const LayerCase c = MakeCase(g, depthwise, ++seed);
      const std::vector<int8_t> x =
          Values(g.in_c * g.in_h * g.in_w, ++seed, -128, 127);
      int status = -1;
      const std::vector<int8_t> out = RunLayer(c, x, &status);
      const std::string name = absl::StrCat(
          depthwise ? "depthwise " : "conv ", g.in_c, "x", g.in_h, "x",
          g.in_w, " k", g.kernel_h, "x", g.kernel_w, " s", g.stride);
      ASSERT_EQ(status, TN_OK) << name;
      EXPECT_EQ(out, Reference(c, x, depthwise)) << name;
    }
  }
}

}  // namespace
}  // namespace nas::mcu
