#include "controller/policy/evolution.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/architecture.h"
#include "common/blocks.h"
#include "common/cost_model.h"
#include "common/devices.h"
#include "common/reward.h"
#include "common/search_space.h"
#include "controller/policy/random_search.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/evolution_test_util.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::EvoSpec;
using ::nas::testing::IsAnySingleEdit;
using ::nas::testing::IsOk;
using ::nas::testing::NewSearch;
using ::nas::testing::Observe;
using ::nas::testing::Result;
using ::nas::testing::StateBytes;
using ::nas::testing::StatusIs;
using ::nas::testing::Texts;
using ::testing::HasSubstr;

v1::Architecture Arch(const v1::SearchSpec& spec, const BlockNetwork& net) {
  const Mutator mutator(spec.space(), spec.dataset().input_shape(),
                        spec.dataset().num_classes());
  EXPECT_TRUE(mutator.IsLegal(net));
  return mutator.ToArchitecture(net);
}

// Three legal networks at least three edits apart from each other, so a
// single edit of one is never a single edit of another.
std::vector<v1::Architecture> FarApartMembers(const v1::SearchSpec& spec) {
  BlockNetwork a;
  a.features = {{v1::CONV1D, 8, 3, 1}};
  BlockNetwork b;
  b.features = {
      {v1::CONV1D, 8, 5, 1}, {v1::MAXPOOL1D, 0, 2, 2}, {v1::CONV1D, 16, 3, 2}};
  b.dense = {32};
  b.dropout = 0.2f;
  BlockNetwork c;
  c.features = {{v1::CONV1D, 4, 3, 1},    {v1::CONV1D, 8, 3, 2},
                {v1::MAXPOOL1D, 0, 2, 2}, {v1::DEPTHWISE_CONV1D, 0, 3, 1},
                {v1::CONV1D, 16, 5, 1},   {v1::GLOBAL_AVGPOOL, 0, 0, 0}};
  c.dense = {64, 16};
  c.dropout = 0.5f;
  return {Arch(spec, a), Arch(spec, b), Arch(spec, c)};
}

// Observes FarApartMembers as trials 1, 2, 3 with these fitness values.
void AddFarApartMembers(const v1::SearchSpec& spec,
                        const std::vector<double>& fitness,
                        EvolutionSearch& search) {
  const std::vector<v1::Architecture> members = FarApartMembers(spec);
  for (int i = 0; i < 3; ++i) {
    Observe(search, Result(i + 1, members[i], fitness[i]));
  }
}

std::set<int64_t> MemberIds(const v1::PolicyState& state) {
  std::set<int64_t> ids;
  for (const v1::PopulationMember& m : state.population()) {
    ids.insert(m.trial_id());
  }
  return ids;
}

TEST(EvolutionTest, SettingsDefaultFromTheBudget) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, EvoSpec(40));
  EXPECT_EQ(NewSearch(spec)->population_size(), 10);
  EXPECT_EQ(NewSearch(spec)->sample_size(), 2);
  EXPECT_FALSE(NewSearch(spec)->removes_worst());
  spec.clear_evolution();  // Unset fields take the same defaults.
  spec.mutable_budget()->set_max_trials(1000);
  EXPECT_EQ(NewSearch(spec)->population_size(), 100);
  EXPECT_EQ(NewSearch(spec)->sample_size(), 25);
  NAS_ASSERT_OK_AND_ASSIGN(spec,
                           EvoSpec(40,
                                   "evolution: {population: 7, sample: 3, "
                                   "remove: worst}\n"));
  EXPECT_EQ(NewSearch(spec)->population_size(), 7);
  EXPECT_EQ(NewSearch(spec)->sample_size(), 3);
  EXPECT_TRUE(NewSearch(spec)->removes_worst());
}

TEST(EvolutionTest, ProposesSeedsThenRandomUntilThePopulationIsFull) {
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      EvoSpec(40,
              "evolution: {population: 4, sample: 2}\n"
              "seed_architectures:\n"
              "  - \"CONV1D(4,k3,s1,p1) RELU LINEAR(5)\"\n"));
  auto search = NewSearch(spec);
  RandomSearch random(spec);
  NAS_ASSERT_OK_AND_ASSIGN(auto first, search->Propose({1, 0}, 8));
  NAS_ASSERT_OK_AND_ASSIGN(auto expected, random.Propose({1, 0}, 8));
  EXPECT_EQ(Texts(first), Texts(expected));
  for (int i = 0; i < 3; ++i) Observe(*search, Result(i + 1, first[i], 0.5));
  NAS_ASSERT_OK_AND_ASSIGN(auto still_random, search->Propose({1, 8}, 4));
  NAS_ASSERT_OK_AND_ASSIGN(expected, random.Propose({1, 8}, 4));
  EXPECT_EQ(Texts(still_random), Texts(expected));
  // The fourth result fills the population: children from now on.
  Observe(*search, Result(4, first[3], 0.5));
  NAS_ASSERT_OK_AND_ASSIGN(auto children, search->Propose({1, 12}, 10));
  for (const v1::Architecture& child : children) {
    bool from_member = false;
    for (int i = 0; i < 4; ++i) from_member |= IsAnySingleEdit(first[i], child);
    EXPECT_TRUE(from_member) << ArchitectureToString(child);
  }
}

TEST(EvolutionTest, ParentIsTheFittestOfTheSample) {
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      EvoSpec(40, "evolution: {population: 3, sample: 2}\n"));
  auto search = NewSearch(spec);
  const std::vector<v1::Architecture> members = FarApartMembers(spec);
  const double fitness[] = {0.3, 0.9, 0.6};
  AddFarApartMembers(spec, {fitness[0], fitness[1], fitness[2]}, *search);
  int not_best = 0;
  for (int64_t index = 3; index < 60; ++index) {
    // The documented draw: S indices with replacement from the proposal's
    // RNG, the fittest of them (the first drawn on a tie).
    std::mt19937_64 rng(DeriveSeed(spec.seed(), index));
    int parent = static_cast<int>(UniformIndex(rng, 3));
    const int other = static_cast<int>(UniformIndex(rng, 3));
    if (fitness[other] > fitness[parent]) parent = other;
    not_best += parent != 1;
    NAS_ASSERT_OK_AND_ASSIGN(auto child, search->Propose({1, index}, 1));
    EXPECT_TRUE(IsAnySingleEdit(members[parent], child[0]))
        << "index " << index << ": " << ArchitectureToString(child[0]);
  }
  EXPECT_GT(not_best, 0);  // The sample, not the whole population.
}

TEST(EvolutionTest, VariantParentIsTheFittestMember) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           EvoSpec(40,
                                   "evolution: {population: 3, remove: worst, "
                                   "mutation_rate: 0}\n"));
  auto search = NewSearch(spec);
  const std::vector<v1::Architecture> members = FarApartMembers(spec);
  AddFarApartMembers(spec, {0.3, 0.6, 0.9}, *search);
  NAS_ASSERT_OK_AND_ASSIGN(auto children, search->Propose({1, 3}, 30));
  for (const v1::Architecture& child : children) {
    EXPECT_TRUE(IsAnySingleEdit(members[2], child))
        << ArchitectureToString(child);
  }
}

TEST(EvolutionTest, OldestOrWorstMemberLeaves) {
  const std::vector<double> fitness = {0.9, 0.1, 0.5, 0.3};
  const std::string remove[] = {"oldest", "worst"};
  const std::set<int64_t> expected[] = {{2, 3, 4}, {1, 3, 4}};
  for (int r = 0; r < 2; ++r) {
    NAS_ASSERT_OK_AND_ASSIGN(
        const v1::SearchSpec spec,
        EvoSpec(40, absl::StrCat("evolution: {population: 3, remove: ",
                                 remove[r], "}\n")));
    auto search = NewSearch(spec);
    const auto members = FarApartMembers(spec);
    for (int i = 0; i < 4; ++i) {
      Observe(*search, Result(i + 1, members[i % 3], fitness[i]));
    }
    const v1::PolicyState state = search->Describe(0);
    EXPECT_EQ(MemberIds(state), expected[r]) << remove[r];
    for (const v1::PopulationMember& m : state.population()) {
      EXPECT_EQ(m.born(), m.trial_id());  // Observed in id order.
      EXPECT_EQ(m.fitness(), fitness[m.trial_id() - 1]);
    }
    // Describe lists the fittest first.
    EXPECT_EQ(state.population(0).fitness(), r == 0 ? 0.5 : 0.9);
  }
}

TEST(EvolutionTest, WorstRemovalBreaksTiesByAge) {
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      EvoSpec(40, "evolution: {population: 3, remove: worst}\n"));
  auto search = NewSearch(spec);
  const auto members = FarApartMembers(spec);
  for (int i = 0; i < 5; ++i) {
    Observe(*search, Result(i + 1, members[i % 3], 0.5));
  }
  EXPECT_EQ(MemberIds(search->Describe(0)), (std::set<int64_t>{3, 4, 5}));
}

TEST(EvolutionTest, VariantMutationCountDecaysOverTheBudget) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           EvoSpec(40,
                                   "evolution: {population: 3, remove: worst, "
                                   "mutation_rate: 1}\n"));
  auto search = NewSearch(spec);
  EXPECT_DOUBLE_EQ(search->Describe(0).mutation_rate(), 1.0);
  const auto members = FarApartMembers(spec);
  AddFarApartMembers(spec, {0.3, 0.6, 0.9}, *search);
  EXPECT_DOUBLE_EQ(search->Describe(0).mutation_rate(), 1.0 - 3.0 / 40);
  auto single_edits = [&](int64_t first) {
    absl::StatusOr<std::vector<v1::Architecture>> children =
        search->Propose({1, first}, 40);
    EXPECT_THAT(children, IsOk());
    int n = 0;
    for (const auto& c : *children) n += IsAnySingleEdit(members[2], c);
    return n;
  };
  const int early = single_edits(100);
  // Weak newcomers leave at once (remove: worst); the parent stays.
  for (int i = 3; i < 40; ++i) {
    Observe(*search, Result(i + 1, members[0], 0.01));
    EXPECT_NEAR(search->Describe(0).mutation_rate(), 1.0 - (i + 1) / 40.0,
                1e-12);
  }
  EXPECT_EQ(MemberIds(search->Describe(0)), (std::set<int64_t>{1, 2, 3}));
  EXPECT_LT(early, 20);               // Mostly several mutations.
  EXPECT_EQ(single_edits(1000), 40);  // Rate 0: exactly one.
}

TEST(EvolutionTest, InfeasibleIsCountedFailedIsIgnored) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec, EvoSpec(40));
  auto search = NewSearch(spec);
  const auto members = FarApartMembers(spec);
  Observe(*search, Result(1, members[0], 0.5));
  v1::Trial infeasible = Result(2, members[1], 0, v1::TRIAL_INFEASIBLE);
  infeasible.mutable_metrics()->set_flash_bytes(1);
  std::optional<PolicyWrite> write = Observe(*search, infeasible);
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->observed_seq, 2);
  EXPECT_TRUE(write->q_values.empty());
  v1::PolicyState state = search->Describe(0);
  EXPECT_EQ(state.observed(), 2);
  EXPECT_EQ(state.models(), 1);
  EXPECT_EQ(MemberIds(state), (std::set<int64_t>{1}));
  for (v1::TrialState s : {v1::TRIAL_FAILED, v1::TRIAL_CANCELLED}) {
    NAS_ASSERT_OK_AND_ASSIGN(
        auto none, search->PrepareObservation(Result(3, members[2], 0.9, s)));
    EXPECT_FALSE(none.has_value());
  }
  EXPECT_EQ(search->Describe(0).observed(), 2);
}

TEST(EvolutionTest, PrepareDoesNotChangeThePolicy) {
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      EvoSpec(40, "evolution: {population: 3, sample: 2}\n"));
  auto search = NewSearch(spec);
  AddFarApartMembers(spec, {0.5, 0.5, 0.5}, *search);
  const std::string before = StateBytes(*search);
  NAS_ASSERT_OK_AND_ASSIGN(auto proposals, search->Propose({1, 3}, 5));
  const v1::Trial next = Result(4, FarApartMembers(spec)[0], 0.95);
  NAS_ASSERT_OK_AND_ASSIGN(auto first, search->PrepareObservation(next));
  NAS_ASSERT_OK_AND_ASSIGN(auto again, search->PrepareObservation(next));
  ASSERT_TRUE(first.has_value() && again.has_value());
  EXPECT_EQ(first->state, again->state);  // A retried transaction.
  EXPECT_EQ(StateBytes(*search), before);
  NAS_ASSERT_OK_AND_ASSIGN(auto same, search->Propose({1, 3}, 5));
  EXPECT_EQ(Texts(same), Texts(proposals));
  ASSERT_THAT(search->ApplyObservation(next, *first), IsOk());
  EXPECT_THAT(search->ApplyObservation(next, *first),  // Applied twice.
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("observation 4")));
}

// A child that the search has already learnt from would only replay its
// stored result (a CACHED trial that spends budget on nothing new): the
// policy draws again. Undoing an earlier edit is a common mutation, so over
// 80 children a policy without the redraw repeats several networks.
TEST(EvolutionTest, ProposesNetworksNotLearntYet) {
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      EvoSpec(200, "evolution: {population: 3, sample: 3}\n"));
  auto search = NewSearch(spec);
  AddFarApartMembers(spec, {0.3, 0.9, 0.6}, *search);
  std::set<std::string> learnt;
  for (const v1::Architecture& a : FarApartMembers(spec)) {
    learnt.insert(ArchitectureHash(a));
  }
  int repeats = 0;
  for (int64_t id = 4; id < 84; ++id) {
    NAS_ASSERT_OK_AND_ASSIGN(auto child, search->Propose({1, id - 1}, 1));
    repeats += !learnt.insert(ArchitectureHash(child[0])).second;
    Observe(*search, Result(id, child[0], 0.5 + 0.01 * (id % 7)));
  }
  EXPECT_EQ(repeats, 0);
}

// Two members: X accurate but filling the flash, Y small but less accurate.
// The fixed lambdas (all 1) always prefer Y; lambdas drawn per selection
// sometimes prefer X.
TEST(EvolutionTest, DrawnLambdasVaryTheParent) {
  for (bool draw : {false, true}) {
    NAS_ASSERT_OK_AND_ASSIGN(
        v1::SearchSpec spec,
        EvoSpec(40, absl::StrCat("evolution: {population: 2, sample: 2}\n"
                                 "reward: {type: max, draw_lambdas: ",
                                 draw ? "true" : "false", "}\n")));
    spec.mutable_evolution()->set_sample(40);  // Both members every time.
    NAS_ASSERT_OK_AND_ASSIGN(const v1::DeviceProfile device,
                             ResolveDevice(spec));
    const int64_t flash = ComputeLimits(device, spec.constraints()).flash_bytes;
    auto search = NewSearch(spec);
    const auto members = FarApartMembers(spec);
    const double accuracy[] = {0.9, 0.5};
    const int64_t flash_used[] = {flash * 9 / 10, flash / 100};
    for (int i = 0; i < 2; ++i) {
      v1::Trial trial = Result(i + 1, members[2 * i], 0);
      trial.mutable_metrics()->set_accuracy(accuracy[i]);
      trial.mutable_metrics()->set_int8(true);  // The spec quantises.
      trial.mutable_metrics()->set_accuracy_int8(accuracy[i]);
      trial.mutable_metrics()->set_flash_bytes(flash_used[i]);
      NAS_ASSERT_OK_AND_ASSIGN(const double reward,
                               ComputeReward(spec.reward(), trial.metrics(),
                                             device, spec.constraints()));
      trial.set_reward(reward);
      Observe(*search, trial);
    }
    NAS_ASSERT_OK_AND_ASSIGN(auto children, search->Propose({1, 2}, 60));
    int from_x = 0;
    for (const auto& c : children) from_x += IsAnySingleEdit(members[0], c);
    if (draw) {
      EXPECT_GT(from_x, 3);  // P(X wins a draw) = 0.28.
      EXPECT_LT(from_x, 40);
    } else {
      EXPECT_EQ(from_x, 0);
    }
  }
}

}  // namespace
}  // namespace nas::controller
