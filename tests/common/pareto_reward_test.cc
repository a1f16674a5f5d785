#include <cmath>
#include <vector>

#include "common/devices.h"
#include "common/pareto.h"
#include "common/reward.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ParetoTest, KeepsNonDominatedAndDuplicates) {
  const std::vector<std::vector<double>> points = {
      {0.10, 100},  // front
      {0.20, 50},   // front
      {0.15, 120},  // dominated by 0
      {0.10, 100},  // duplicate of 0: kept
      {0.30, 50},   // dominated by 1 (equal size, worse error)
      {0.05, 400},  // front
  };
  EXPECT_THAT(ParetoFrontIndices(points), ElementsAre(0, 1, 3, 5));
  EXPECT_THAT(ParetoFrontIndices({}), IsEmpty());
  EXPECT_THAT(ParetoFrontIndices({{1, 2, 3}}), ElementsAre(0));
}

TEST(ParetoTest, TrialObjectives) {
  v1::Metrics m;
  m.set_accuracy(0.875);
  m.set_flash_bytes(1000);
  m.set_peak_sram_bytes(200);
  m.set_macs(30000);
  EXPECT_THAT(TrialObjectives(m), ElementsAre(0.125, 1000, 200, 30000));
}

class RewardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = *FindDeviceProfile("nrf52840");
    // Limits: flash 1048576 - 102400 = 946176 B, SRAM 262144 - 16384 = 245760
    // B.
    metrics_.set_accuracy(0.9);
    metrics_.set_macro_f1(0.8);
    metrics_.set_flash_bytes(473088);  // 0.5 of the flash limit
    metrics_.set_peak_sram_bytes(61440);
    metrics_.set_arena_bytes(122880);  // 0.5 of the SRAM limit (the larger)
    metrics_.set_macs(1000000);
    metrics_.set_latency_ms_estimate(10);
  }

  v1::DeviceProfile device_;
  v1::Metrics metrics_;
  v1::Constraints constraints_;
};

TEST_F(RewardTest, AccuracyIsTheChosenMetric) {
  v1::RewardSpec spec;
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.9);
  spec.set_type("accuracy");
  spec.set_metric("macro_f1");
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.8);
}

TEST_F(RewardTest, Int8MetricsScoreTheQuantisedModel) {
  v1::RewardSpec spec;
  spec.set_type("accuracy");
  spec.set_metric("accuracy_int8");
  // No int8 figures: no model of this trial runs on the device.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0);
  metrics_.set_int8(true);
  metrics_.set_accuracy_int8(0.87);
  metrics_.set_macro_f1_int8(0.77);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.87);
  spec.set_metric("macro_f1_int8");
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.77);
  spec.set_metric("accuracy");  // The float figure stays available.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.9);
}

TEST(ParetoTest, DeployedFiguresAreTheInt8OnesWhenQuantised) {
  v1::Metrics m;
  m.set_accuracy(0.9);
  m.set_macro_f1(0.8);
  m.set_test_accuracy(0.85);
  m.set_accuracy_int8(0.88);
  m.set_macro_f1_int8(0.79);
  m.set_test_accuracy_int8(0.84);
  EXPECT_DOUBLE_EQ(DeployedAccuracy(m), 0.9);
  EXPECT_DOUBLE_EQ(DeployedMacroF1(m), 0.8);
  EXPECT_DOUBLE_EQ(DeployedTestAccuracy(m), 0.85);
  m.set_int8(true);
  EXPECT_DOUBLE_EQ(DeployedAccuracy(m), 0.88);
  EXPECT_DOUBLE_EQ(DeployedMacroF1(m), 0.79);
  EXPECT_DOUBLE_EQ(DeployedTestAccuracy(m), 0.84);
  EXPECT_NEAR(TrialObjectives(m)[0], 0.12, 1e-12);
}

TEST_F(RewardTest, WeightedExp) {
  v1::RewardSpec spec;
  spec.set_type("weighted_exp");
  spec.set_weight_accuracy(1);
  spec.set_weight_flash(0.5);
  spec.set_exp_flash(-1);
  spec.set_weight_sram(0.5);
  spec.set_exp_sram(-2);
  // (1*0.9 + 0.5*e^(-1*0.5) + 0.5*e^(-2*0.5)) / (1 + 0.5 + 0.5)
  // = (0.9 + 0.5*0.60653066 + 0.5*0.36787944) / 2 = 0.69360253
  EXPECT_NEAR(*ComputeReward(spec, metrics_, device_, constraints_), 0.69360253,
              1e-8);
  spec.set_weight_macs(1);
  EXPECT_THAT(
      ComputeReward(spec, metrics_, device_, constraints_),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("reward.weight_macs: the macs term needs a limit")));
}

TEST_F(RewardTest, MaxIsMuNasScalarisation) {
  v1::RewardSpec spec;
  spec.set_type("max");
  spec.set_lambda_error(1);
  spec.set_lambda_flash(1);
  spec.set_lambda_sram(0.25);
  spec.set_lambda_macs(1);
  constraints_.set_max_macs(2000000);
  // Terms: error 0.1/1, flash 0.5/1, sram 0.5/0.25 = 2, macs 0.5/1 -> -2.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -2.0);
  // MACs at 20x the bound are clipped to 10.
  metrics_.set_macs(40000000);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_),
                   -10.0);
  spec.set_lambda_sram(0);
  EXPECT_THAT(
      ComputeReward(spec, metrics_, device_, constraints_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lambda")));
}

TEST_F(RewardTest, LinearIsMonasScalarisation) {
  v1::RewardSpec spec;
  spec.set_type("linear");
  spec.set_alpha(0.7);
  // cost = mean(flash 0.5, sram 0.5) = 0.5 -> 0.7*0.9 - 0.3*0.5 = 0.48.
  EXPECT_NEAR(*ComputeReward(spec, metrics_, device_, constraints_), 0.48,
              1e-12);
  // Flash at its limit (1.0), MACs limited: cost = (1 + 0.5 + 0.5) / 3.
  metrics_.set_flash_bytes(946176);
  constraints_.set_max_macs(2000000);
  EXPECT_NEAR(*ComputeReward(spec, metrics_, device_, constraints_),
              0.63 - 0.3 * (2.0 / 3.0), 1e-12);
  spec.set_alpha(1.5);
  EXPECT_THAT(
      ComputeReward(spec, metrics_, device_, constraints_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reward.alpha")));
}

TEST_F(RewardTest, UnknownTypeAndMetric) {
  v1::RewardSpec spec;
  spec.set_type("bayes");
  EXPECT_THAT(ComputeReward(spec, metrics_, device_, constraints_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reward.type: unknown type 'bayes'")));
  spec.set_type("accuracy");
  spec.set_metric("top5");
  EXPECT_THAT(ComputeReward(spec, metrics_, device_, constraints_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reward.metric: unknown metric 'top5'")));
}

}  // namespace
}  // namespace nas
