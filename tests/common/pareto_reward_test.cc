#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/datasets.h"
#include "common/devices.h"
#include "common/pareto.h"
#include "common/reward.h"
#include "common/spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A final trial with the figures the front reads.
v1::Trial Final(int number, const std::string& arch, double accuracy,
                int64_t flash, int64_t sram = 100, int64_t macs = 1000,
                v1::TrialState state = v1::TRIAL_SUCCEEDED) {
  v1::Trial t;
  t.set_number(number);
  t.set_state(state);
  t.set_arch_hash(arch);
  v1::Metrics* m = t.mutable_metrics();
  m->set_accuracy(accuracy);
  m->set_macro_f1(accuracy);
  m->set_flash_bytes(flash);
  m->set_peak_sram_bytes(sram);
  m->set_macs(macs);
  return t;
}

FrontPoint Point(double error, double flash, double spread = 0) {
  FrontPoint p;
  p.objectives = {error, flash, 0, 0};
  p.spread = spread;
  return p;
}

TEST(ParetoTest, KeepsNonDominatedAndEqualPoints) {
  const std::vector<FrontPoint> points = {
      Point(0.10, 100),  // front
      Point(0.20, 50),   // front
      Point(0.15, 120),  // dominated by 0
      Point(0.10, 100),  // equal to 0, same spread: both kept
      Point(0.30, 50),   // dominated by 1 (equal size, worse error)
      Point(0.05, 400),  // front
  };
  EXPECT_THAT(ParetoFrontIndices(points), ElementsAre(0, 1, 3, 5));
  EXPECT_THAT(ParetoFrontIndices({}), IsEmpty());
  EXPECT_THAT(ParetoFrontIndices({Point(1, 2)}), ElementsAre(0));
}

TEST(ParetoTest, OfEqualPointsTheSmallerSpreadDominates) {
  EXPECT_TRUE(Dominates(Point(0.1, 100, 0.01), Point(0.1, 100, 0.05)));
  EXPECT_FALSE(Dominates(Point(0.1, 100, 0.05), Point(0.1, 100, 0.01)));
  EXPECT_FALSE(Dominates(Point(0.1, 100, 0.01), Point(0.1, 100, 0.01)));
  // Spread only breaks ties: a better point wins whatever its spread.
  EXPECT_TRUE(Dominates(Point(0.1, 90, 0.2), Point(0.1, 100, 0.0)));
  EXPECT_THAT(ParetoFrontIndices({Point(0.1, 100, 0.05), Point(0.1, 100, 0.01),
                                  Point(0.2, 50, 0.3)}),
              ElementsAre(1, 2));
}

TEST(ParetoTest, ObjectivesAreTheSpecsMetricAndTheConstraintsSram) {
  v1::Metrics m;
  m.set_accuracy(0.875);
  m.set_macro_f1(0.75);
  m.set_flash_bytes(1000);
  m.set_peak_sram_bytes(200);
  m.set_arena_bytes(240);  // Larger than the peak: the SRAM the device needs.
  m.set_macs(30000);
  m.set_folds(5);
  m.set_accuracy_spread(0.02);
  m.set_macro_f1_spread(0.03);
  v1::SearchSpec spec;
  FrontPoint p = FrontPointOf(FrontRulesFor(spec), m);
  EXPECT_THAT(p.objectives, ElementsAre(0.125, 1000, 240, 30000));
  EXPECT_DOUBLE_EQ(p.spread, 0.02);
  EXPECT_STREQ(FrontQualityName(FrontRulesFor(spec)), "accuracy");
  for (const char* metric : {"macro_f1", "macro_f1_int8"}) {
    spec.mutable_reward()->set_metric(metric);
    p = FrontPointOf(FrontRulesFor(spec), m);
    EXPECT_THAT(p.objectives, ElementsAre(0.25, 1000, 240, 30000)) << metric;
    EXPECT_DOUBLE_EQ(p.spread, 0.03) << metric;
    EXPECT_STREQ(FrontQualityName(FrontRulesFor(spec)), "macro-F1");
  }
  // Quantised: the int8 model's figures.
  m.set_int8(true);
  m.set_macro_f1_int8(0.5);
  EXPECT_DOUBLE_EQ(FrontPointOf(FrontRulesFor(spec), m).objectives[0], 0.5);
}

TEST(ParetoTest, OnePointPerArchitecture) {
  // "a" trained, then cached twice with the same figures; "b" cached only.
  const std::vector<v1::Trial> trials = {
      Final(0, "a", 0.8, 1000),
      Final(1, "b", 0.9, 2000, 100, 1000, v1::TRIAL_CACHED),
      Final(2, "a", 0.8, 1000, 100, 1000, v1::TRIAL_CACHED),
      Final(3, "a", 0.8, 1000, 100, 1000, v1::TRIAL_CACHED),
      Final(4, "c", 0.7, 3000),  // Dominated by "a".
  };
  EXPECT_THAT(ParetoFront(FrontRules(), trials), ElementsAre(0, 1));
  // Whatever the order they come in: the lowest number is the point.
  const std::vector<v1::Trial> shuffled = {trials[3], trials[4], trials[0],
                                           trials[2], trials[1]};
  EXPECT_THAT(ParetoFront(FrontRules(), shuffled), ElementsAre(2, 4));
  // Without hashes (unknown architectures) equal points are all kept.
  std::vector<v1::Trial> unhashed = trials;
  for (v1::Trial& t : unhashed) t.clear_arch_hash();
  EXPECT_THAT(ParetoFront(FrontRules(), unhashed), ElementsAre(0, 1, 2, 3));
}

TEST(ParetoTest, OnlyResultsAboveTheFloorsAreCandidates) {
  v1::SearchSpec spec;
  spec.mutable_constraints()->set_min_accuracy(0.5);
  const FrontRules rules = FrontRulesFor(spec);
  std::vector<v1::Trial> trials = {
      Final(0, "small", 0.30, 100),  // Smallest, but below the floor.
      Final(1, "mid", 0.60, 500),
      Final(2, "big", 0.90, 2000),
      Final(3, "failed", 0.99, 1, 1, 1, v1::TRIAL_FAILED),
      Final(4, "pending", 0.99, 1, 1, 1, v1::TRIAL_PENDING),
      Final(5, "infeasible", 0.99, 1, 1, 1, v1::TRIAL_INFEASIBLE),
  };
  EXPECT_THAT(ParetoFront(FrontRules(), trials), ElementsAre(0, 1, 2));
  EXPECT_THAT(ParetoFront(rules, trials), ElementsAre(1, 2));
  // The macro-F1 floor reads the deployed macro-F1.
  spec.mutable_constraints()->clear_min_accuracy();
  spec.mutable_constraints()->set_min_macro_f1(0.7);
  trials[2].mutable_metrics()->set_int8(true);
  trials[2].mutable_metrics()->set_accuracy_int8(0.9);
  trials[2].mutable_metrics()->set_macro_f1_int8(0.65);
  EXPECT_THAT(ParetoFront(FrontRulesFor(spec), trials), IsEmpty());
  trials[2].mutable_metrics()->set_macro_f1_int8(0.7);  // At the floor.
  EXPECT_THAT(ParetoFront(FrontRulesFor(spec), trials), ElementsAre(2));
}

TEST(ParetoTest, BuilderGivesTheSameFrontInChunks) {
  // More points than one merge chunk, many on the front: accuracy rises
  // with flash except for every third, which is dominated.
  FrontBuilder builder{FrontRules()};
  std::vector<v1::Trial> trials;
  for (int i = 0; i < 1500; ++i) {
    const double accuracy = i % 3 == 2 ? 0.0001 * i - 0.05 : 0.0001 * i;
    trials.push_back(Final(i, absl::StrCat("n", i), accuracy, 1000 + i));
    builder.Add(trials.back());
  }
  const std::vector<size_t> front = builder.Front();
  EXPECT_EQ(front.size(), 1000u);
  EXPECT_EQ(front, ParetoFront(FrontRules(), trials));
  for (size_t i : front) EXPECT_NE(i % 3, 2u);
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
  EXPECT_NEAR(FrontPointOf(FrontRules(), m).objectives[0], 0.12, 1e-12);
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

TEST_F(RewardTest, MaxTakesMuNasErrorBound) {
  v1::RewardSpec spec;
  spec.set_type("max");
  spec.set_lambda_error(0.5);
  spec.set_lambda_flash(1);
  spec.set_lambda_sram(1);
  spec.set_lambda_macs(1);
  metrics_.set_accuracy(0.2);  // Error 0.8: the error term leads.
  // Each term is divided by its lambda: 0.8 / 0.5.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -1.6);
  // Error 0.8 - bound 0.3 = 0.5, / 0.5 = 1.
  spec.set_error_bound(0.3);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -1.0);
  // Within the bound the error costs nothing: flash and SRAM (0.5) lead.
  spec.set_error_bound(0.9);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -0.5);
  spec.set_error_bound(1.5);
  EXPECT_THAT(ComputeReward(spec, metrics_, device_, constraints_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reward.error_bound")));
}

TEST_F(RewardTest, MaxIncludesMacsWheneverTheyAreBounded) {
  v1::RewardSpec spec;
  spec.set_type("max");
  spec.set_lambda_error(1);
  spec.set_lambda_flash(1);
  spec.set_lambda_sram(1);
  spec.set_lambda_macs(1);
  metrics_.set_macs(5000000);
  // No MAC bound: flash and SRAM (0.5) lead.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -0.5);
  // Bounded at 2.5M: the MAC term (2.0) leads.
  constraints_.set_max_macs(2500000);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -2.0);
}

TEST_F(RewardTest, BelowAFloorScoresAsAnInfeasibleCandidate) {
  v1::RewardSpec spec;  // accuracy: 0.9.
  constraints_.set_min_accuracy(0.95);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0);
  constraints_.set_min_accuracy(0.9);  // At the floor: kept.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), 0.9);
  constraints_.set_min_macro_f1(0.85);  // macro-F1 0.8 is below.
  spec.set_type("max");
  spec.set_lambda_error(1);
  spec.set_lambda_flash(1);
  spec.set_lambda_sram(1);
  spec.set_lambda_macs(1);
  // The error term is that of a network that classifies nothing.
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -1.0);
  // Deployed figures: the int8 model's macro-F1 reaches the floor.
  metrics_.set_int8(true);
  metrics_.set_accuracy_int8(0.9);
  metrics_.set_macro_f1_int8(0.85);
  EXPECT_DOUBLE_EQ(*ComputeReward(spec, metrics_, device_, constraints_), -0.5);
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

// The rewards a feasible network can get, worked by hand for each type.
TEST_F(RewardTest, FeasibleRangeIsWhatTheCornersScore) {
  v1::RewardSpec spec;
  absl::StatusOr<RewardRange> range = FeasibleRewardRange(spec, device_, constraints_);
  ASSERT_THAT(range.status(), IsOk());
  EXPECT_EQ(range->low, 0);
  EXPECT_EQ(range->high, 1);
  // max: -max(e / 1, flash / 1, sram / 0.5) with e <= 1 - 0.1: [-2, 0].
  spec.set_type("max");
  spec.set_lambda_error(1);
  spec.set_lambda_flash(1);
  spec.set_lambda_sram(0.5);
  spec.set_lambda_macs(1);
  spec.set_error_bound(0.1);
  range = FeasibleRewardRange(spec, device_, constraints_);
  EXPECT_DOUBLE_EQ(range->low, -2);
  EXPECT_DOUBLE_EQ(range->high, 0);
  // linear, alpha 0.7: [0.7*0 - 0.3*1, 0.7*1 - 0.3*0].
  spec.set_type("linear");
  spec.set_alpha(0.7);
  range = FeasibleRewardRange(spec, device_, constraints_);
  EXPECT_DOUBLE_EQ(range->low, -0.3);
  EXPECT_DOUBLE_EQ(range->high, 0.7);
  // weighted_exp: (1*ACC + 0.5*e^(-P_flash)) / 1.5 over ACC, P in [0, 1].
  spec.set_type("weighted_exp");
  spec.set_weight_accuracy(1);
  spec.set_weight_flash(0.5);
  spec.set_exp_flash(-1);
  range = FeasibleRewardRange(spec, device_, constraints_);
  EXPECT_NEAR(range->low, 0.5 * std::exp(-1.0) / 1.5, 1e-12);
  EXPECT_NEAR(range->high, 1.5 / 1.5, 1e-12);
  // Every reward of a feasible network falls inside.
  EXPECT_GE(*ComputeReward(spec, metrics_, device_, constraints_), range->low);
  EXPECT_LE(*ComputeReward(spec, metrics_, device_, constraints_), range->high);
  spec.set_type("bogus");
  EXPECT_THAT(FeasibleRewardRange(spec, device_, constraints_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reward.type")));
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

constexpr char kFloorSpec[] = R"y(
name: floors
dataset: {name: ecg5000}
device: nrf52840
space: {layer_types: [CONV1D], channels: [4], kernels: [3], max_layers: 2}
budget: {max_trials: 3}
)y";

TEST(SpecTest, FloorsAndErrorBoundAreReadAndChecked) {
  absl::StatusOr<v1::SearchSpec> spec = ParseAndCompleteSearchSpecYaml(
      absl::StrCat(kFloorSpec,
                   "constraints: {min_accuracy: 0.6, min_macro_f1: 0.55}\n"
                   "reward: {type: max, error_bound: 0.1}\n"),
      DefaultDataRoot());
  ASSERT_THAT(spec, IsOk());
  EXPECT_DOUBLE_EQ(spec->constraints().min_accuracy(), 0.6);
  EXPECT_DOUBLE_EQ(spec->constraints().min_macro_f1(), 0.55);
  EXPECT_DOUBLE_EQ(spec->reward().error_bound(), 0.1);
  EXPECT_THAT(
      ParseAndCompleteSearchSpecYaml(
          absl::StrCat(kFloorSpec,
                       "constraints: {min_accuracy: 1.5, min_macro_f1: -0.1}\n"
                       "reward: {type: max, error_bound: 2}\n"),
          DefaultDataRoot()),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("constraints.min_accuracy: must be in [0, 1] "
                          "(0 = no floor), got 1.5"),
                HasSubstr("constraints.min_macro_f1: must be in [0, 1]"),
                HasSubstr("reward.error_bound: must be in [0, 1], got 2"))));
}

}  // namespace
}  // namespace nas
