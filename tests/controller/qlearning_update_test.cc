// QLearningSearch: how it learns (reverse updates and replay worked out by
// hand, what each kind of trial teaches), the two-phase write, exact
// restore, and the cost of one observation.

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/spec.h"
#include "controller/policy/qlearning.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/qlearning_test_util.h"
#include "tests/controller/test_specs.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::Arch;
using ::nas::testing::EcgQSpec;
using ::nas::testing::EcgSpecYaml;
using ::nas::testing::FashionQSpec;
using ::nas::testing::IsOk;
using ::nas::testing::kConvNet;
using ::nas::testing::MakeTrial;
using ::nas::testing::NewPolicy;
using ::nas::testing::Observe;
using ::nas::testing::RunSearch;
using ::nas::testing::Schedule;
using ::nas::testing::Snapshot;
using ::nas::testing::StatusIs;
using ::nas::testing::Texts;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Numbers easy to follow by hand: alpha 0.5, gamma 1, Q init 0.5, `replay`
// trajectories replayed per model.
absl::StatusOr<std::unique_ptr<QLearningSearch>> HandPolicy(int replay) {
  v1::QLearningSpec q;
  q.set_learning_rate(0.5);
  q.set_discount(1);
  q.set_initial_q(0.5);
  q.set_replay_per_model(replay);
  return NewPolicy(EcgQSpec(q));
}

// Two transitions, then three, worked out by hand.
TEST(QLearningUpdateTest, ReverseUpdateMatchesHandComputation) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           HandPolicy(/*replay=*/0));
  const std::string s0 = "d0 START |256";
  const std::string s1 = "d1 CONV1D c4 k3 s1 |256";
  const std::string s2 = "d2 MAXPOOL1D k2 s2 |128";
  const v1::Architecture conv = Arch(kConvNet);
  const v1::Architecture pool =
      Arch("CONV1D(4,k3,s1,p1) BATCHNORM RELU MAXPOOL1D(k2,s2) LINEAR(5)");

  // Q(s1,T) = .5*.5 + .5*.9 = .7; Q(s0,conv) = .5*.5 + .5*max(.7, .5) = .6.
  NAS_ASSERT_OK_AND_ASSIGN(
      std::optional<PolicyWrite> write,
      Observe(policy.get(), MakeTrial(conv, v1::TRIAL_SUCCEEDED, 0.9)));
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->observed_seq, 1);
  ASSERT_EQ(write->q_values.size(), 2u);  // Sorted by (state, action).
  EXPECT_EQ(write->q_values[0].state(), s0);
  EXPECT_EQ(write->q_values[0].action(), "CONV1D c4 k3 s1");
  EXPECT_DOUBLE_EQ(write->q_values[0].q(), 0.6);
  EXPECT_EQ(write->q_values[0].updates(), 1);
  EXPECT_EQ(write->q_values[1].state(), s1);
  EXPECT_EQ(write->q_values[1].action(), "TERMINATE");
  EXPECT_DOUBLE_EQ(write->q_values[1].q(), 0.7);

  // Again: Q(s1,T) = .5*.7 + .5*.9 = .8; Q(s0,conv) = .5*.6 + .5*.8 = .7.
  ASSERT_THAT(Observe(policy.get(), MakeTrial(conv, v1::TRIAL_CACHED, 0.9)),
              IsOk());
  // A pooled net with reward .1: Q(s2,T) = .25 + .05 = .3;
  // Q(s1,pool) = .25 + .5*max(.3, unseen .5) = .5;
  // Q(s0,conv) = .5*.7 + .5*max(Q(s1,T) = .8, .5) = .75.
  NAS_ASSERT_OK_AND_ASSIGN(
      write, Observe(policy.get(), MakeTrial(pool, v1::TRIAL_SUCCEEDED, 0.1)));
  ASSERT_EQ(write->q_values.size(), 3u);
  std::map<std::string, v1::QValue> by_state;
  for (const v1::QValue& v : write->q_values) by_state[v.state()] = v;
  EXPECT_DOUBLE_EQ(by_state[s2].q(), 0.3);
  EXPECT_EQ(by_state[s2].action(), "TERMINATE");
  EXPECT_DOUBLE_EQ(by_state[s1].q(), 0.5);
  EXPECT_EQ(by_state[s1].action(), "MAXPOOL1D k2 s2");
  EXPECT_DOUBLE_EQ(by_state[s0].q(), 0.75);
  EXPECT_EQ(by_state[s0].updates(), 3);
  const v1::PolicyState state = policy->Describe(10);
  EXPECT_EQ(state.q_entries(), 4);
  EXPECT_EQ(state.observed(), 3);
  EXPECT_EQ(state.q_top(0).state(), s1);  // .8, the highest.
  EXPECT_DOUBLE_EQ(state.q_top(0).q(), 0.8);
}

// With only one trajectory in memory every replay draws it: 1 + 3 passes.
TEST(QLearningUpdateTest, ReplayRepeatsTheUpdateByHand) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           HandPolicy(/*replay=*/3));
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<PolicyWrite> write,
                           policy->PrepareObservation(MakeTrial(
                               Arch(kConvNet), v1::TRIAL_SUCCEEDED, 0.9)));
  ASSERT_EQ(write->q_values.size(), 2u);
  // Q(s1,T): .7, .8, .85, .875. Q(s0,conv): .6, .7, .775, .825.
  EXPECT_DOUBLE_EQ(write->q_values[0].q(), 0.825);
  EXPECT_EQ(write->q_values[0].updates(), 4);
  EXPECT_DOUBLE_EQ(write->q_values[1].q(), 0.875);
  EXPECT_EQ(write->q_values[1].updates(), 4);
}

// With `max` every reward is <= 0. MetaQNN's Q init 0.5 lies above all of
// them, so every untried action stayed the greedy choice and epsilon 0 still
// walked at random. The default initial_q is now the middle of the reward's
// range (-0.5 here): once two networks have been scored, the greedy path is
// the better one's trajectory, every time.
TEST(QLearningUpdateTest, WithRewardsBelowZeroTheGreedyPathFollowsTheBestTrajectory) {
  const std::string yaml = absl::StrCat(EcgSpecYaml(), R"y(policy: qlearning
reward: {type: max}
qlearning:
  epsilon_schedule: [{epsilon: 1.0, models: 2}, {epsilon: 0.0, models: 20}]
  learning_rate: 1
  replay_per_model: 0
)y");
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           ParseAndCompleteSearchSpecYaml(yaml, DefaultDataRoot()));
  EXPECT_DOUBLE_EQ(spec.qlearning().initial_q(), -0.5);
  const v1::Architecture best = Arch(kConvNet);
  const v1::Architecture worse =
      Arch("CONV1D(4,k3,s1,p1) BATCHNORM RELU MAXPOOL1D(k2,s2) LINEAR(5)");
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy, NewPolicy(spec));
  ASSERT_THAT(Observe(policy.get(), MakeTrial(best, v1::TRIAL_SUCCEEDED, -0.2)), IsOk());
  ASSERT_THAT(Observe(policy.get(), MakeTrial(worse, v1::TRIAL_SUCCEEDED, -0.9)), IsOk());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> greedy,
                           policy->Propose({1, 2}, 8));
  ASSERT_EQ(greedy.size(), 8u);
  for (const v1::Architecture& arch : greedy) {
    EXPECT_EQ(ArchitectureToString(arch), ArchitectureToString(best));
  }

  // The old default, 0.5, above every reward: the same two observations
  // leave the greedy proposals wandering off the best trajectory.
  spec.mutable_qlearning()->set_initial_q(0.5);
  NAS_ASSERT_OK_AND_ASSIGN(policy, NewPolicy(spec));
  ASSERT_THAT(Observe(policy.get(), MakeTrial(best, v1::TRIAL_SUCCEEDED, -0.2)), IsOk());
  ASSERT_THAT(Observe(policy.get(), MakeTrial(worse, v1::TRIAL_SUCCEEDED, -0.9)), IsOk());
  NAS_ASSERT_OK_AND_ASSIGN(greedy, policy->Propose({1, 2}, 8));
  int off_path = 0;
  for (const v1::Architecture& arch : greedy) {
    off_path += ArchitectureToString(arch) != ArchitectureToString(best);
  }
  EXPECT_GT(off_path, 0);
}

TEST(QLearningUpdateTest, RestoreFromWritesEqualsFeedingOneByOne) {
  v1::QLearningSpec q = Schedule({{1.0, 12}, {0.3, 1}});
  q.set_learning_rate(0.2);
  q.set_replay_per_model(16);
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, FashionQSpec(q));
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> fed,
                           NewPolicy(spec));
  const StoredPolicy stored = RunSearch(fed.get(), 48, 4);
  EXPECT_EQ(fed->Describe(0).observed(), 44);  // 4 failed.
  EXPECT_GT(fed->Describe(0).q_entries(), 50);

  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> restored,
                           NewPolicy(spec));
  ASSERT_THAT(restored->Restore(stored), IsOk());
  EXPECT_EQ(Snapshot(*restored), Snapshot(*fed));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> next_fed,
                           fed->Propose({1, 48}, 8));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> next_restored,
                           restored->Propose({1, 48}, 8));
  EXPECT_EQ(Texts(next_restored), Texts(next_fed));
  // The replay memory came back too: the next observation writes the same.
  const v1::Trial trial = MakeTrial(next_fed[0], v1::TRIAL_SUCCEEDED, 0.42);
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<PolicyWrite> a,
                           fed->PrepareObservation(trial));
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<PolicyWrite> b,
                           restored->PrepareObservation(trial));
  EXPECT_EQ(a->state, b->state);
  ASSERT_EQ(a->q_values.size(), b->q_values.size());
  for (size_t i = 0; i < a->q_values.size(); ++i) {
    EXPECT_EQ(a->q_values[i].SerializeAsString(),
              b->q_values[i].SerializeAsString());
  }

  // Replaying the stored trials into a fresh policy gives the same table.
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> replayed,
                           NewPolicy(spec));
  for (const v1::Trial& t : stored.observed) {
    ASSERT_THAT(Observe(replayed.get(), t), IsOk());
  }
  EXPECT_EQ(Snapshot(*replayed), Snapshot(*fed));
}

TEST(QLearningUpdateTest, PrepareObservationChangesNothing) {
  v1::QLearningSpec q = Schedule({{0.5, 1}});
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(EcgQSpec(q)));
  RunSearch(policy.get(), 10, 2);
  const std::string before = Snapshot(*policy);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> proposals,
                           policy->Propose({1, 10}, 6));
  const v1::Trial trial = MakeTrial(proposals[0], v1::TRIAL_SUCCEEDED, 0.99);
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<PolicyWrite> first,
                           policy->PrepareObservation(trial));
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<PolicyWrite> second,
                           policy->PrepareObservation(trial));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->q_values.empty());
  EXPECT_EQ(first->state, second->state);
  EXPECT_EQ(first->q_values.size(), second->q_values.size());
  EXPECT_EQ(Snapshot(*policy), before);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> again,
                           policy->Propose({1, 10}, 6));
  EXPECT_EQ(Texts(again), Texts(proposals));
  // Applying out of order is refused.
  PolicyWrite stale = *first;
  stale.observed_seq = 1;
  EXPECT_THAT(policy->ApplyObservation(trial, stale),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("observation 1")));
}

TEST(QLearningUpdateTest, FailedAndCancelledTrialsWriteNothing) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(EcgQSpec()));
  const v1::Architecture arch = Arch(kConvNet);
  for (v1::TrialState state : {v1::TRIAL_FAILED, v1::TRIAL_CANCELLED,
                               v1::TRIAL_RUNNING, v1::TRIAL_PENDING}) {
    NAS_ASSERT_OK_AND_ASSIGN(
        std::optional<PolicyWrite> write,
        policy->PrepareObservation(MakeTrial(arch, state, 0.9)));
    EXPECT_FALSE(write.has_value()) << v1::TrialState_Name(state);
  }
}

TEST(QLearningUpdateTest, InfeasibleTrialLearnsTheZeroAccuracyReward) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           HandPolicy(/*replay=*/0));
  // Reward "accuracy": a network that learnt nothing scores 0, whatever the
  // trial's stored reward field says.
  NAS_ASSERT_OK_AND_ASSIGN(
      std::optional<PolicyWrite> write,
      Observe(policy.get(),
              MakeTrial(Arch(kConvNet), v1::TRIAL_INFEASIBLE, 0.9)));
  ASSERT_EQ(write->q_values.size(), 2u);
  EXPECT_DOUBLE_EQ(write->q_values[1].q(), 0.25);  // .5*.5 + .5*0.
  EXPECT_DOUBLE_EQ(write->q_values[0].q(), 0.5);   // .5*.5 + .5*max(.25,.5).
  EXPECT_EQ(policy->Describe(0).observed(), 1);
  EXPECT_EQ(policy->Describe(0).models(), 0);
}

TEST(QLearningUpdateTest, ForeignArchitectureCountsButTeachesNothing) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(EcgQSpec()));
  for (const char* text :
       {"CONV1D(4,k3,s1,p0) BATCHNORM RELU LINEAR(5)",  // padding
        "CONV1D(6,k3,s1,p1) BATCHNORM RELU LINEAR(5)",  // channels
        "CONV1D(4,k3,s1,p1) BATCHNORM RELU LINEAR(5) SOFTMAX",
        "CONV1D(4,k3,s1,p1) RELU LINEAR(5)",  // no BN
        "MAXPOOL1D(k2,s2) CONV1D(4,k3,s1,p1) BATCHNORM RELU "
        "LINEAR(5)"}) {
    NAS_ASSERT_OK_AND_ASSIGN(
        std::optional<PolicyWrite> write,
        Observe(policy.get(), MakeTrial(Arch(text), v1::TRIAL_SUCCEEDED, 0.9)));
    ASSERT_TRUE(write.has_value()) << text;
    EXPECT_THAT(write->q_values, IsEmpty()) << text;
  }
  EXPECT_EQ(policy->Describe(0).observed(), 5);
  EXPECT_EQ(policy->Describe(0).models(), 5);
  EXPECT_EQ(policy->Describe(0).q_entries(), 0);
}

TEST(QLearningUpdateTest, RestoreRejectsUnreadableOrInconsistentState) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, EcgQSpec());
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(spec));
  StoredPolicy garbage;
  garbage.state = "\xff\xff not a proto";
  EXPECT_THAT(policy->Restore(garbage),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("qlearning")));
  StoredPolicy missing = RunSearch(policy.get(), 5, 1);
  missing.observed.pop_back();
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> fresh,
                           NewPolicy(spec));
  EXPECT_THAT(fresh->Restore(missing),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("observed")));
  EXPECT_EQ(fresh->Describe(0).observed(), 0);  // Left as it was.
}

TEST(QLearningUpdateTest, ObservationWithFullReplayTakesMilliseconds) {
  v1::QLearningSpec q = Schedule({{1.0, 1}});
  q.set_replay_per_model(128);
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(FashionQSpec(q)));
  const auto start = std::chrono::steady_clock::now();
  RunSearch(policy.get(), 640, 8);
  const double fill_ms = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> next,
                           policy->Propose({1, 640}, 1));
  const v1::Trial trial = MakeTrial(next[0], v1::TRIAL_SUCCEEDED, 0.5);
  constexpr int kRuns = 20;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_THAT(policy->PrepareObservation(trial), IsOk());
  }
  const double prepare_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - t0)
                                .count() /
                            kRuns;
  const v1::PolicyState state = policy->Describe(0);
  std::cout << "Q-table " << state.q_entries() << " entries after "
            << state.observed() << " observations (" << fill_ms
            << " ms in all); one observation with replay 128: " << prepare_ms
            << " ms\n";
  EXPECT_GT(state.q_entries(), 2000);
  EXPECT_LT(prepare_ms, 250);  // Milliseconds; generous for a shared CI.
}

}  // namespace
}  // namespace nas::controller
