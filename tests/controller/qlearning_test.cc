// QLearningSearch: what it proposes (space rules, warm start, epsilon
// schedule, greedy choices) and that learning steers it.

#include "controller/policy/qlearning.h"

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/architecture.h"
#include "common/blocks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/qlearning_test_util.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::Arch;
using ::nas::testing::EcgQSpec;
using ::nas::testing::FashionQSpec;
using ::nas::testing::HasMaxPool;
using ::nas::testing::IsOk;
using ::nas::testing::kConvNet;
using ::nas::testing::MakeTrial;
using ::nas::testing::NewPolicy;
using ::nas::testing::Observe;
using ::nas::testing::PseudoReward;
using ::nas::testing::Schedule;
using ::nas::testing::Texts;

TEST(QLearningSearchTest, ProposalsBuildAndFollowTheSpace) {
  std::map<v1::LayerType, int> layer_counts;
  for (bool fashion : {false, true}) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      v1::QLearningSpec q = Schedule({{1.0, 10}, {0.5, 10}, {0.0, 1}});
      q.set_learning_rate(0.3);
      q.set_replay_per_model(8);
      NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                               fashion ? FashionQSpec(q) : EcgQSpec(q));
      spec.set_seed(seed);
      NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                               NewPolicy(spec));
      std::set<std::string> distinct;
      for (int i = 0; i < 30; ++i) {
        NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> archs,
                                 policy->Propose({1, i}, 1));
        const v1::Architecture& arch = archs.at(0);
        const std::string text = ArchitectureToString(arch);
        distinct.insert(text);
        ASSERT_THAT(InferShapes(arch, spec.dataset().input_shape(),
                                spec.dataset().num_classes()),
                    IsOk())
            << text;
        NAS_ASSERT_OK_AND_ASSIGN(BlockNetwork net, ToBlocks(arch));
        EXPECT_THAT(
            CheckBlocks(net, spec.space(), spec.dataset().input_shape()),
            IsOk())
            << text;
        EXPECT_EQ(ArchitectureToString(FromBlocks(
                      net, spec.space(), spec.dataset().num_classes())),
                  text);
        for (const v1::Layer& layer : arch.layers()) {
          ++layer_counts[layer.type()];
        }
        // Learning moves the greedy part of later proposals, and every
        // proposal is one the policy learns from.
        NAS_ASSERT_OK_AND_ASSIGN(
            std::optional<PolicyWrite> write,
            Observe(policy.get(),
                    MakeTrial(arch, v1::TRIAL_SUCCEEDED, PseudoReward(arch))));
        EXPECT_FALSE(write->q_values.empty()) << text;
      }
      EXPECT_GT(distinct.size(), 10u) << "seed " << seed;
    }
  }
  // Every kind of block and head the spaces allow was proposed.
  for (v1::LayerType type :
       {v1::CONV1D, v1::MAXPOOL1D, v1::CONV2D, v1::DEPTHWISE_CONV2D,
        v1::POINTWISE_CONV2D, v1::MAXPOOL2D, v1::AVGPOOL2D, v1::GLOBAL_AVGPOOL,
        v1::DROPOUT, v1::BATCHNORM}) {
    EXPECT_GT(layer_counts[type], 0) << LayerTypeName(type);
  }
  EXPECT_GT(layer_counts[v1::LINEAR], 360);  // Hidden dense layers too.
}

TEST(QLearningSearchTest, ProposesSeedArchitecturesFirstAndIsDeterministic) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           EcgQSpec({}, /*seed_architecture=*/true));
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> a, NewPolicy(spec));
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> b, NewPolicy(spec));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> all,
                           a->Propose({1, 0}, 10));
  EXPECT_EQ(ArchitectureToString(all[0]),
            ArchitectureToString(spec.seed_architectures(0)));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> tail,
                           b->Propose({1, 4}, 6));
  std::vector<std::string> expected = Texts(all);
  expected.erase(expected.begin(), expected.begin() + 4);
  EXPECT_EQ(Texts(tail), expected);
}

TEST(QLearningSearchTest, EpsilonFollowsTheScheduleByFeasibleModels) {
  NAS_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<QLearningSearch> policy,
      NewPolicy(EcgQSpec(Schedule({{1.0, 2}, {0.5, 3}, {0.1, 1}}))));
  const v1::Architecture arch = Arch(kConvNet);
  auto feed = [&](v1::TrialState state) {
    ASSERT_THAT(Observe(policy.get(), MakeTrial(arch, state, 0.5)), IsOk());
  };
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 1.0);
  feed(v1::TRIAL_SUCCEEDED);
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 1.0);
  feed(v1::TRIAL_CACHED);  // models 2: second block.
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 0.5);
  feed(v1::TRIAL_INFEASIBLE);  // Observed, but not a model.
  feed(v1::TRIAL_FAILED);      // Not even observed.
  v1::PolicyState state = policy->Describe(0);
  EXPECT_EQ(state.observed(), 3);
  EXPECT_EQ(state.models(), 2);
  EXPECT_DOUBLE_EQ(state.epsilon(), 0.5);
  for (int i = 0; i < 3; ++i) feed(v1::TRIAL_SUCCEEDED);  // models 5.
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 0.1);
  feed(v1::TRIAL_SUCCEEDED);  // After the schedule the last epsilon stays.
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 0.1);
}

TEST(QLearningSearchTest, FallsBackToTheDefaultSchedule) {
  // A spec without a schedule gets nas::DefaultEpsilonSchedule (24 trials:
  // 15 models at 1.0, then one model per block).
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, EcgQSpec());
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(spec));
  const v1::Architecture arch = Arch(kConvNet);
  for (int i = 0; i < 15; ++i) {
    EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 1.0);
    ASSERT_THAT(
        Observe(policy.get(), MakeTrial(arch, v1::TRIAL_SUCCEEDED, 0.5)),
        IsOk());
  }
  EXPECT_DOUBLE_EQ(policy->Describe(0).epsilon(), 0.9);
}

TEST(QLearningSearchTest, GreedyProposalFollowsTheHighestQ) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(EcgQSpec(Schedule({{0.0, 1}}))));
  StoredPolicy stored;
  auto add = [&](const std::string& state, const std::string& action,
                 double q) {
    v1::QValue* value = &stored.q_values.emplace_back();
    value->set_state(state);
    value->set_action(action);
    value->set_q(q);
    value->set_updates(1);
  };
  add("d0 START |256", "CONV1D c8 k5 s1", 0.9);
  add("d1 CONV1D c8 k5 s1 |256", "MAXPOOL1D k2 s2", 0.8);
  add("d1 CONV1D c8 k5 s1 |256", "TERMINATE", 0.2);
  add("d2 MAXPOOL1D k2 s2 |128", "CONV1D c4 k3 s1", 0.7);
  add("d3 CONV1D c4 k3 s1 |128", "TERMINATE", 0.6);
  v1::PolicyState state;
  state.set_policy("qlearning");
  state.set_q_entries(5);
  stored.state = state.SerializeAsString();
  ASSERT_THAT(policy->Restore(stored), IsOk());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> archs,
                           policy->Propose({1, 0}, 5));
  for (const v1::Architecture& arch : archs) {
    EXPECT_EQ(ArchitectureToString(arch),
              "CONV1D(8,k5,s1,p2) BATCHNORM RELU MAXPOOL1D(k2,s2) "
              "CONV1D(4,k3,s1,p1) BATCHNORM RELU LINEAR(5)");
  }
  EXPECT_EQ(policy->Describe(2).q_top(0).action(), "CONV1D c8 k5 s1");
  EXPECT_EQ(policy->Describe(2).q_top(1).action(), "MAXPOOL1D k2 s2");
}

TEST(QLearningSearchTest, CreateSearchStrategyBuildsIt) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, EcgQSpec());
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<SearchStrategy> strategy,
                           CreateSearchStrategy(spec));
  EXPECT_EQ(strategy->Describe(0).policy(), "qlearning");
}

// Reward 1 for a network with a MAXPOOL, 0.1 without: after the random
// block the greedy choices must find the pooled networks.
TEST(QLearningSearchTest, LearningRaisesTheShareOfRewardedNetworks) {
  v1::QLearningSpec q = Schedule({{1.0, 60}, {0.1, 1}});
  q.set_learning_rate(0.1);
  q.set_replay_per_model(16);
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<QLearningSearch> policy,
                           NewPolicy(EcgQSpec(q)));
  int random_hits = 0;
  int learnt_hits = 0;
  for (int i = 0; i < 160; ++i) {
    NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> archs,
                             policy->Propose({1, i}, 1));
    const bool hit = HasMaxPool(archs[0]);
    if (i < 60) random_hits += hit;
    if (i >= 100) learnt_hits += hit;
    ASSERT_THAT(Observe(policy.get(), MakeTrial(archs[0], v1::TRIAL_SUCCEEDED,
                                                hit ? 1.0 : 0.1)),
                IsOk());
  }
  std::cout << "networks with MAXPOOL: " << random_hits << "/60 at epsilon 1, "
            << learnt_hits << "/60 at epsilon 0.1\n";
  EXPECT_LT(random_hits, 30);  // About 28% by the space's rules.
  EXPECT_GE(learnt_hits, 48);  // At least 80%.
}

}  // namespace
}  // namespace nas::controller
