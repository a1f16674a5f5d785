#include "common/cost_model.h"

#include <string>
#include <utility>
#include <vector>

#include "common/architecture.h"
#include "common/devices.h"
#include "common/int8_plan.h"
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
using ::testing::IsEmpty;
using ::testing::SizeIs;

v1::DeviceProfile Device(const std::string& name) {
  absl::StatusOr<v1::DeviceProfile> device = FindDeviceProfile(name);
  CHECK(device.ok()) << device.status();
  return *device;
}

// LeNet-5-like on 1x28x28 (int8, batch 1).
//
// Flash is the int8 runtime's constant data plus kRuntimeFlashBytes. Each
// runtime op holds its int8 weights, 9 B per output channel (int32 bias,
// int32 multiplier, int8 shift) and an 84 B layer-table row; a RELU after a
// conv/LINEAR is fused into it, FLATTEN lowers to nothing.
//
//  # layer           output   params MACs   op flash B            SRAM B
//  0 CONV2D(6,k5,p2) 6x28x28  156    117600 0  150+54+84 = 288     5488
//  1 RELU            6x28x28  0      0      0  0 (fused)           4704
//  2 MAXPOOL2D(k2)   6x14x14  0      4704   1  84                  5880
//  3 CONV2D(16,k5)   16x10x10 2416   240000 2  2400+144+84 = 2628  2776
//  4 RELU            16x10x10 0      0      2  0 (fused)           1600
//  5 MAXPOOL2D(k2)   16x5x5   0      1600   3  84                  2000
//  6 FLATTEN         400      0      0      -  0                   400
//  7 LINEAR(120)     120      48120  48000  4  48000+1080+84=49164 520
//  8 RELU            120      0      0      4  0 (fused)           120
//  9 LINEAR(84)      84       10164  10080  5  10080+756+84=10920  204
// 10 RELU            84       0      0      5  0 (fused)           84
// 11 LINEAR(10)      10       850    840    6  840+90+84 = 1014    94
//    totals                   61706  422824    64182               5880
// params: conv Co*Ci*k*k + Co, LINEAR in*out + out. MACs: conv
// Ho*Wo*Co*k*k*Ci, pooling Ho*Wo*C*k*k, LINEAR in*out. SRAM: input +
// output elements (in-place layers count their input once).
//
// Arena (buffer: size, lifetime in op steps): input 784 [0,0]; op0 out 4704
// [0,1]; op1 out 1176 [1,2]; op2 out 1600 [2,3]; op3 out 400 [3,4]; op4 out
// 120 [4,5]; op5 out 84 [5,6]; op6 out 10 [6,6]. Largest first: 4704 @0;
// 1600 @0 (no overlap in time with 4704); 1176 overlaps both in time ->
// @4704 (aligned end of 4704); 784 overlaps 4704 -> @4704; 400 overlaps
// 1600 -> @1600; 120 overlaps 400 only -> @0; 84 overlaps 120 -> @128; 10
// overlaps 84 -> @0. Arena = max end = 4704 + 1176 = 5880.
// Latency on nrf52840: 5 cycles/MAC * 422824 / 64 MHz = 33.033125 ms.
TEST(CostModelTest, LeNetHandComputed) {
  NAS_ASSERT_OK_AND_ASSIGN(
      CostReport report,
      AnalyzeCost(LeNet(), MakeShape({1, 28, 28}), 10, Device("nrf52840")));
  EXPECT_EQ(report.params, 61706);
  EXPECT_EQ(report.flash_bytes, 64182 + kRuntimeFlashBytes);
  EXPECT_EQ(report.macs, 422824);
  EXPECT_EQ(report.peak_sram_bytes, 5880);
  EXPECT_EQ(report.arena_bytes, 5880);
  EXPECT_NEAR(report.latency_ms, 33.033125, 1e-9);
  ASSERT_THAT(report.layers, SizeIs(12));
  std::vector<int64_t> params, macs, sram, flash;
  for (const LayerCost& l : report.layers) {
    params.push_back(l.params);
    macs.push_back(l.macs);
    sram.push_back(l.sram_bytes);
    flash.push_back(l.flash_bytes);
  }
  EXPECT_THAT(params,
              ElementsAre(156, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850));
  EXPECT_THAT(macs, ElementsAre(117600, 0, 4704, 240000, 0, 1600, 0, 48000, 0,
                                10080, 0, 840));
  EXPECT_THAT(sram, ElementsAre(5488, 4704, 5880, 2776, 1600, 2000, 400, 520,
                                120, 204, 84, 94));
  EXPECT_THAT(
      flash, ElementsAre(288, 0, 84, 2628, 0, 84, 0, 49164, 0, 10920, 0, 1014));
}

// ECG network on 1x140, 5 classes.
//
//  # layer            output params MACs  op flash B           SRAM B
//  0 CONV1D(8,k5,p2)  8x140  48     5600  0  40+72+84 = 196     1260
//  1 BATCHNORM        8x140  16     0     0  0 (folded)         1120
//  2 RELU             8x140  0      0     0  0 (fused)          1120
//  3 MAXPOOL1D(k2)    8x70   0      1120  1  84                 1680
//  4 CONV1D(16,k3,p1) 16x70  400    26880 2  384+144+84 = 612   1680
//  5 BATCHNORM        16x70  32     0     2  0 (folded)         1120
//  6 RELU             16x70  0      0     2  0 (fused)          1120
//  7 GLOBAL_AVGPOOL   16     0      1120  3  84                 1136
//  8 LINEAR(5)        5      85     80    4  80+45+84 = 209     21
//  9 SOFTMAX          5      0      0     -  0 (dropped)        10
//    totals                  581    34800    1185               1680
//
// Arena (op steps): input 140 [0,0]; op0 out 1120 [0,1]; op1 out 560 [1,2];
// op2 out 1120 [2,3]; op3 out 16 [3,4]; op4 out 5 [4,4]. 1120 (op0) @0;
// 1120 (op2) @0; 560 overlaps both -> @1120; 140 -> @1120; 16 overlaps
// op2's -> @1120; 5 overlaps the 16 only -> @0. Arena = 1120 + 560 = 1680.
// Latency on stm32f746: 3 * 34800 / 216 MHz = 0.48333... ms.
TEST(CostModelTest, EcgNetworkHandComputed) {
  NAS_ASSERT_OK_AND_ASSIGN(
      CostReport report,
      AnalyzeCost(EcgNet(), MakeShape({1, 140}), 5, Device("stm32f746")));
  EXPECT_EQ(report.params, 581);
  EXPECT_EQ(report.flash_bytes, 1185 + kRuntimeFlashBytes);
  EXPECT_EQ(report.macs, 34800);
  EXPECT_EQ(report.peak_sram_bytes, 1680);
  EXPECT_EQ(report.arena_bytes, 1680);
  EXPECT_NEAR(report.latency_ms, 3.0 * 34800 / 216e6 * 1000, 1e-12);
}

struct LayerCase {
  std::string first_layer;
  std::vector<int64_t> input;
  int64_t params;
  int64_t macs;
  int64_t flash;
};

class PerLayerCostTest : public ::testing::TestWithParam<LayerCase> {};

// Each case: `first_layer` followed by the classifier LINEAR(2); only the
// first layer's figures are checked.
TEST_P(PerLayerCostTest, ParamsMacsFlash) {
  const LayerCase& c = GetParam();
  v1::TensorShape input;
  for (int64_t d : c.input) input.add_dims(d);
  NAS_ASSERT_OK_AND_ASSIGN(
      CostReport report, AnalyzeCost(Arch(c.first_layer + " LINEAR(2)"), input,
                                     2, Device("rp2040")));
  EXPECT_EQ(report.layers[0].params, c.params);
  EXPECT_EQ(report.layers[0].macs, c.macs);
  EXPECT_EQ(report.layers[0].flash_bytes, c.flash);
}

INSTANTIATE_TEST_SUITE_P(
    EveryLayerType, PerLayerCostTest,
    ::testing::Values(
        // Flash of a weighted op: weights + 9 B per output channel (bias,
        // multiplier, shift) + an 84 B table row.
        // 4*2*9 + 4 = 76; out 6x6: 36*4*9*2 = 2592 MACs; 72 + 36 + 84 = 192 B.
        LayerCase{"CONV2D(4,k3)", {2, 8, 8}, 76, 2592, 192},
        // 3*9 + 3 = 30; out 6x6: 36*3*9 = 972; 27 + 27 + 84 = 138.
        LayerCase{"DEPTHWISE_CONV2D(k3)", {3, 8, 8}, 30, 972, 138},
        // 5*3 + 5 = 20; 64*5*3 = 960; 15 + 45 + 84 = 144.
        LayerCase{"POINTWISE_CONV2D(5)", {3, 8, 8}, 20, 960, 144},
        // 4*2*3 + 4 = 28; out 14: 14*4*3*2 = 336; 24 + 36 + 84 = 144.
        LayerCase{"CONV1D(4,k3)", {2, 16}, 28, 336, 144},
        // 3*5 + 3 = 18; out 12: 12*3*5 = 180; 15 + 27 + 84 = 126.
        LayerCase{"DEPTHWISE_CONV1D(k5)", {3, 16}, 18, 180, 126},
        // 48*7 + 7 = 343; 336 MACs; 336 + 63 + 84 = 483.
        LayerCase{"LINEAR(7)", {3, 4, 4}, 343, 336, 483},
        // Not after a conv: a depthwise op of kernel 1, 3 + 27 + 84 = 114 B.
        LayerCase{"BATCHNORM", {3, 8, 8}, 6, 0, 114},
        // Ops without weights: one 84 B table row.
        // out 4x4: 16*3*4 = 192.
        LayerCase{"MAXPOOL2D(k2)", {3, 8, 8}, 0, 192, 84},
        // out 2x2 (k3 s3): 4*3*9 = 108.
        LayerCase{"AVGPOOL2D(k3)", {3, 8, 8}, 0, 108, 84},
        LayerCase{"MAXPOOL1D(k2)", {3, 16}, 0, 8 * 3 * 2, 84},
        LayerCase{"AVGPOOL1D(k4,s2)", {3, 16}, 0, 7 * 3 * 4, 84},
        LayerCase{"GLOBAL_AVGPOOL", {3, 8, 8}, 0, 192, 84},
        // Not after a weighted layer: a CLAMP op.
        LayerCase{"RELU", {3, 8, 8}, 0, 0, 84},
        LayerCase{"RELU6", {3, 8, 8}, 0, 0, 84},
        // Lower to nothing.
        LayerCase{"DROPOUT(0.5)", {3, 8, 8}, 0, 0, 0},
        LayerCase{"FLATTEN", {3, 8, 8}, 0, 0, 0}));

TEST(CostModelTest, BatchNormAfterConvIsFolded) {
  NAS_ASSERT_OK_AND_ASSIGN(
      CostReport report,
      AnalyzeCost(Arch("CONV2D(4,k3) BATCHNORM RELU BATCHNORM LINEAR(2)"),
                  MakeShape({1, 8, 8}), 2, Device("rp2040")));
  EXPECT_EQ(report.layers[1].params, 8);
  EXPECT_EQ(report.layers[1].flash_bytes, 0);
  EXPECT_EQ(report.layers[2].flash_bytes, 0);  // RELU fused into the conv.
  // After RELU the BN cannot be folded: 4 weights + 4*9 + 84.
  EXPECT_EQ(report.layers[3].flash_bytes, 124);
  // Conv 36 + 36 + 84 = 156; LINEAR 144*2 + 18 + 84 = 390.
  EXPECT_EQ(report.layers[0].flash_bytes, 156);
  EXPECT_EQ(report.layers[4].flash_bytes, 390);
  EXPECT_EQ(report.flash_bytes, 156 + 124 + 390 + kRuntimeFlashBytes);
}

// Flash and arena are the int8 plan's: the constant bytes plus the runtime,
// and the planned arena; the layers' flash adds up to the constants.
TEST(CostModelTest, FlashAndArenaAreTheInt8Plans) {
  const std::vector<std::pair<v1::Architecture, v1::TensorShape>> cases = {
      {LeNet(), MakeShape({1, 28, 28})},
      {Arch("CONV2D(4,k3) RELU MAXPOOL2D(k2) BATCHNORM RELU "
            "AVGPOOL2D(k3,s1,p1) RELU DROPOUT(0.3) LINEAR(10) SOFTMAX"),
       MakeShape({1, 10, 10})},
      {Arch("BATCHNORM LINEAR(16) BATCHNORM RELU LINEAR(10)"),
       MakeShape({32})}};
  for (const auto& [arch, input] : cases) {
    NAS_ASSERT_OK_AND_ASSIGN(CostReport report,
                             AnalyzeCost(arch, input, 10, Device("nrf52840")));
    NAS_ASSERT_OK_AND_ASSIGN(Int8Plan plan, PlanInt8(arch, input, 10));
    EXPECT_EQ(report.flash_bytes, plan.ConstantBytes() + kRuntimeFlashBytes);
    EXPECT_EQ(report.arena_bytes, plan.arena.arena_bytes);
    int64_t layers_flash = 0;
    for (const LayerCost& layer : report.layers) {
      layers_flash += layer.flash_bytes;
    }
    EXPECT_EQ(layers_flash + kRuntimeFlashBytes, report.flash_bytes);
  }
}

TEST(CostModelTest, InvalidArchitectureIsAnError) {
  EXPECT_THAT(AnalyzeCost(Arch("CONV2D(4,k30) LINEAR(2)"), MakeShape({1, 8, 8}),
                          2, Device("rp2040")),
              nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("kernel 30 larger")));
}

TEST(CostModelTest, ConstraintsReportEveryBrokenLimitWithNumbers) {
  const v1::DeviceProfile nrf = Device("nrf52840");
  CostReport report{{}, 2000, 1000000, 5000000, 250000, 251000, 390.625};
  // Flash limit 1048576 - 102400 = 946176; SRAM 262144 - 16384 = 245760.
  v1::Constraints none;
  EXPECT_THAT(CheckConstraints(report, nrf, none),
              ElementsAre("flash 1000000 B > limit 946176 B (device nrf52840: "
                          "1048576 B - 102400 B reserved)",
                          "sram 251000 B > limit 245760 B (device nrf52840: "
                          "262144 B - 16384 B reserved)"));
  v1::Constraints tight;
  tight.set_max_flash_bytes(500000);
  tight.set_max_macs(1000000);
  tight.set_max_latency_ms(100);
  tight.set_max_params(1000);
  EXPECT_THAT(
      CheckConstraints(report, nrf, tight),
      ElementsAre(
          "flash 1000000 B > limit 500000 B (constraints.max_flash_bytes)",
          HasSubstr("sram 251000 B > limit 245760 B"),
          "macs 5000000 > limit 1000000 (constraints.max_macs)",
          "latency 390.625 ms > limit 100.000 ms "
          "(constraints.max_latency_ms)",
          "params 2000 > limit 1000 (constraints.max_params)"));
  CostReport small{{}, 10, 100, 100, 100, 100, 0.01};
  EXPECT_THAT(CheckConstraints(small, nrf, tight), IsEmpty());
}

TEST(CostModelTest, FillsAnalyticMetrics) {
  NAS_ASSERT_OK_AND_ASSIGN(
      CostReport report,
      AnalyzeCost(LeNet(), MakeShape({1, 28, 28}), 10, Device("nrf52840")));
  v1::Metrics metrics;
  metrics.set_accuracy(0.9);
  FillAnalyticMetrics(report, &metrics);
  EXPECT_EQ(metrics.params(), 61706);
  EXPECT_EQ(metrics.flash_bytes(), 64182 + kRuntimeFlashBytes);
  EXPECT_EQ(metrics.macs(), 422824);
  EXPECT_EQ(metrics.peak_sram_bytes(), 5880);
  EXPECT_EQ(metrics.arena_bytes(), 5880);
  EXPECT_NEAR(metrics.latency_ms_estimate(), 33.033125, 1e-9);
  EXPECT_EQ(metrics.accuracy(), 0.9);
  EXPECT_EQ(SramUsage(metrics), 5880);
}

}  // namespace
}  // namespace nas
