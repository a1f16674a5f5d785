#include "common/policy_spec.h"

#include <string>

#include "common/architecture.h"
#include "common/datasets.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kEcgSpec[] = R"y(
dataset: {name: ecg5000}
device: nrf52840
space: {layer_types: [CONV1D, MAXPOOL1D], channels: [4], kernels: [3]}
budget: {max_trials: 80}
)y";

absl::StatusOr<v1::SearchSpec> Complete(const std::string& extra) {
  return ParseAndCompleteSearchSpecYaml(std::string(kEcgSpec) + extra,
                                        DefaultDataRoot());
}

int TotalModels(const std::vector<v1::EpsilonStep>& schedule) {
  int total = 0;
  for (const v1::EpsilonStep& step : schedule) total += step.models();
  return total;
}

TEST(PolicySpecTest, DefaultScheduleHasMetaQnnShapeScaledToTheBudget) {
  const std::vector<v1::EpsilonStep> schedule = DefaultEpsilonSchedule(80);
  ASSERT_EQ(schedule.size(), 10u);
  EXPECT_EQ(schedule[0].epsilon(), 1.0);
  EXPECT_EQ(schedule[0].models(), 50);  // 5/8 of 80.
  for (int i = 1; i < 10; ++i) {
    EXPECT_NEAR(schedule[i].epsilon(), (10 - i) / 10.0, 1e-12);
  }
  EXPECT_EQ(TotalModels(schedule), 80);
  // Tiny budgets still give every block a model.
  const std::vector<v1::EpsilonStep> tiny = DefaultEpsilonSchedule(3);
  EXPECT_EQ(tiny[0].models(), 2);
  for (const v1::EpsilonStep& step : tiny) EXPECT_GE(step.models(), 1);
}

TEST(PolicySpecTest, SizeBinsReachTheInputSize) {
  EXPECT_THAT(DefaultSizeBins(MakeShape({1, 28, 28})),
              ElementsAre(1, 2, 4, 8, 16, 32));
  EXPECT_THAT(DefaultSizeBins(MakeShape({1, 140})),
              ElementsAre(1, 2, 4, 8, 16, 32, 64, 128, 256));
  EXPECT_THAT(DefaultSizeBins(MakeShape({10})), ElementsAre(1));
}

TEST(PolicySpecTest, EvolutionDefaultsScaleWithTheBudget) {
  EXPECT_EQ(DefaultPopulation(1000), 100);
  EXPECT_EQ(DefaultPopulation(80), 20);
  EXPECT_EQ(DefaultPopulation(6), 4);
  EXPECT_EQ(DefaultSample(100), 25);
  EXPECT_EQ(DefaultSample(20), 5);
  EXPECT_EQ(DefaultSample(4), 2);
}

TEST(PolicySpecTest, CompleteFillsQLearningDefaults) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, Complete("policy: qlearning"));
  const v1::QLearningSpec& q = spec.qlearning();
  EXPECT_EQ(q.learning_rate(), 0.01);
  EXPECT_EQ(q.discount(), 1.0);
  EXPECT_EQ(q.initial_q(), 0.5);
  EXPECT_EQ(q.replay_per_model(), 128);
  EXPECT_EQ(TotalModels({q.epsilon_schedule().begin(),
                         q.epsilon_schedule().end()}),
            80);
  EXPECT_EQ(q.size_bins_size(), 9);
  EXPECT_FALSE(spec.has_evolution());
}

// MetaQNN's 0.5 is the middle of an accuracy reward's range, but above
// every reward `max` (<= 0) or `linear` with alpha 0.5 (<= 0.5) can give: the
// default is the middle of the scalarisation's range instead.
TEST(PolicySpecTest, DefaultInitialQIsTheMiddleOfTheRewardsRange) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           Complete("policy: qlearning\nreward: {type: max}"));
  EXPECT_DOUBLE_EQ(spec.qlearning().initial_q(), -0.5);  // [-1, 0].
  NAS_ASSERT_OK_AND_ASSIGN(
      spec, Complete("policy: qlearning\nreward: {type: max, lambda_flash: 0.5}"));
  EXPECT_DOUBLE_EQ(spec.qlearning().initial_q(), -1.0);  // [-2, 0].
  NAS_ASSERT_OK_AND_ASSIGN(
      spec, Complete("policy: qlearning\nreward: {type: linear, alpha: 0.8}"));
  EXPECT_DOUBLE_EQ(spec.qlearning().initial_q(), 0.3);  // [-0.2, 0.8].
  NAS_ASSERT_OK_AND_ASSIGN(spec, Complete("policy: qlearning\nreward: {type: accuracy}"));
  EXPECT_DOUBLE_EQ(spec.qlearning().initial_q(), 0.5);
}

TEST(PolicySpecTest, InitialQOutsideTheRewardsRangeIsRefused) {
  EXPECT_THAT(Complete("policy: qlearning\nqlearning: {initial_q: 0.5}\nreward: {type: max}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("qlearning.initial_q: must be within the rewards a "
                                       "feasible network can get, [-1, 0] for reward 'max', "
                                       "got 0.5"),
                             HasSubstr("walk at random"))));
  EXPECT_THAT(Complete("policy: qlearning\nqlearning: {initial_q: -0.1}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("[0, 1] for reward 'accuracy', got -0.1 (below every reward)")));
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::SearchSpec spec,
      Complete("policy: qlearning\nqlearning: {initial_q: -0.25}\nreward: {type: max}"));
  EXPECT_EQ(spec.qlearning().initial_q(), -0.25);  // Inside: kept.
}

TEST(PolicySpecTest, CompleteKeepsWhatTheUserSet) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, Complete(R"y(
policy: qlearning
qlearning:
  epsilon_schedule: [{epsilon: 1.0, models: 10}, {epsilon: 0.2, models: 5}]
  alpha: 0.1
  gamma: 0
  replay_per_model: 0
  size_bins: [4, 32, 256]
)y"));
  const v1::QLearningSpec& q = spec.qlearning();
  ASSERT_EQ(q.epsilon_schedule_size(), 2);
  EXPECT_EQ(q.epsilon_schedule(1).epsilon(), 0.2);
  EXPECT_EQ(q.learning_rate(), 0.1);
  EXPECT_TRUE(q.has_discount());
  EXPECT_EQ(q.discount(), 0);  // Explicit 0 is kept, not defaulted.
  EXPECT_EQ(q.replay_per_model(), 0);
  EXPECT_THAT(q.size_bins(), ElementsAre(4, 32, 256));
}

TEST(PolicySpecTest, CompleteFillsEvolutionDefaults) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, Complete("policy: evolution"));
  EXPECT_EQ(spec.evolution().population(), 20);
  EXPECT_EQ(spec.evolution().sample(), 5);
  EXPECT_EQ(spec.evolution().remove(), "oldest");
  EXPECT_EQ(spec.evolution().mutation_rate(), 0.5);
  NAS_ASSERT_OK_AND_ASSIGN(
      spec, Complete("policy: evolution\n"
                     "evolution: {population: 8, remove: WORST}"));
  EXPECT_EQ(spec.evolution().sample(), 2);
  EXPECT_EQ(spec.evolution().remove(), "worst");
}

TEST(PolicySpecTest, EveryPolicyProblemIsNamed) {
  EXPECT_THAT(Complete(R"y(
policy: qlearning
qlearning:
  epsilon_schedule: [{epsilon: 1.5, models: 0}]
  learning_rate: 0
  discount: 2
  replay_per_model: -1
  size_bins: [4, 4]
evolution: {population: 1}
reward: {draw_lambdas: true}
)y"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("qlearning.epsilon_schedule[0].epsilon: "
                                       "must be in [0, 1], got 1.5"),
                             HasSubstr("qlearning.epsilon_schedule[0].models: "
                                       "must be > 0, got 0"),
                             HasSubstr("qlearning.learning_rate: must be in "
                                       "(0, 1], got 0"),
                             HasSubstr("qlearning.discount: must be in [0, 1], "
                                       "got 2"),
                             HasSubstr("qlearning.replay_per_model"),
                             HasSubstr("qlearning.size_bins[1]"),
                             HasSubstr("evolution: given but the policy is "
                                       "'qlearning'"),
                             HasSubstr("reward.draw_lambdas: only for reward "
                                       "type 'max'"))));
  EXPECT_THAT(Complete("policy: evolution\n"
                       "evolution: {population: 5, sample: 6, remove: young, "
                       "mutation_rate: 2}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("evolution.sample: must be in [1, "
                                       "population], got 6"),
                             HasSubstr("evolution.remove: unknown value "
                                       "'young' (oldest or worst)"),
                             HasSubstr("evolution.mutation_rate"))));
}

TEST(PolicySpecTest, YamlTyposInPolicySectionsAreNamed) {
  EXPECT_THAT(Complete("policy: qlearning\nqlearning: {replay: 5}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("qlearning.replay")));
  EXPECT_THAT(Complete("policy: evolution\nevolution: {population: many}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("evolution.population: expected an integer")));
}

}  // namespace
}  // namespace nas
