#include "controller/policy/random_search.h"

#include <set>
#include <string>
#include <vector>

#include "common/architecture.h"
#include "common/datasets.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/test_specs.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

absl::StatusOr<v1::SearchSpec> CompletedSpec() {
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec parsed,
                       ParseSearchSpecYaml(nas::testing::EcgSpecYaml()));
  return CompleteSearchSpec(parsed, DefaultDataRoot());
}

std::vector<std::string> Texts(const std::vector<v1::Architecture>& archs) {
  std::vector<std::string> out;
  for (const v1::Architecture& a : archs)
    out.push_back(ArchitectureToString(a));
  return out;
}

TEST(RandomSearchTest, ProposesSeedArchitecturesFirst) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec, CompletedSpec());
  RandomSearch search(spec);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> archs,
                           search.Propose({1, 0}, 2));
  ASSERT_EQ(archs.size(), 2u);
  EXPECT_EQ(ArchitectureToString(archs[0]),
            ArchitectureToString(spec.seed_architectures(0)));
}

TEST(RandomSearchTest, SamePositionsGiveSameArchitecturesAfterRestart) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec, CompletedSpec());
  RandomSearch first(spec);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> all,
                           first.Propose({1, 0}, 12));
  // A new instance (a restarted controller) asked for positions 5..11 only.
  RandomSearch restarted(spec);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> tail,
                           restarted.Propose({1, 5}, 7));
  std::vector<std::string> expected = Texts(all);
  expected.erase(expected.begin(), expected.begin() + 5);
  EXPECT_EQ(Texts(tail), expected);
}

TEST(RandomSearchTest, ProposalsAreValidAndVaried) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec, CompletedSpec());
  RandomSearch search(spec);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> archs,
                           search.Propose({1, 0}, 30));
  std::set<std::string> distinct;
  for (const v1::Architecture& a : archs) {
    EXPECT_THAT(InferShapes(a, spec.dataset().input_shape(),
                            spec.dataset().num_classes()),
                IsOk())
        << ArchitectureToString(a);
    distinct.insert(ArchitectureToString(a));
  }
  EXPECT_GT(distinct.size(), 5u);
}

TEST(RandomSearchTest, DifferentSeedsGiveDifferentSequences) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, CompletedSpec());
  spec.clear_seed_architectures();
  RandomSearch a(spec);
  spec.set_seed(spec.seed() + 1);
  RandomSearch b(spec);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> from_a,
                           a.Propose({1, 0}, 10));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Architecture> from_b,
                           b.Propose({1, 0}, 10));
  EXPECT_NE(Texts(from_a), Texts(from_b));
}

TEST(CreateSearchStrategyTest, KnownPoliciesAreBuiltUnknownOnesNamed) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, CompletedSpec());
  for (const char* policy : {"random", "qlearning", "evolution"}) {
    spec.set_policy(policy);
    NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<SearchStrategy> strategy,
                             CreateSearchStrategy(spec));
    EXPECT_EQ(strategy->Describe(0).policy(), policy);
  }
  spec.set_policy("annealing");
  EXPECT_THAT(CreateSearchStrategy(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'annealing'"), HasSubstr("random"),
                             HasSubstr("qlearning"), HasSubstr("evolution"))));
}

TEST(DeriveSeedTest, StableAcrossPlatformsAndMixed) {
  // splitmix64(splitmix64(seed) ^ index), worked out with Python's
  // arbitrary-precision integers: proposals must not change between builds
  // or machines. (splitmix64(0) = 0xe220a8397b1dcdaf, its published first
  // output.)
  EXPECT_EQ(DeriveSeed(0, 0), 0xa706dd2f4d197e6fULL);
  EXPECT_EQ(DeriveSeed(42, 5), 0xe9e86f4d987a9df9ULL);
  EXPECT_NE(DeriveSeed(1, 0), DeriveSeed(0, 1));
  EXPECT_NE(DeriveSeed(7, 1), DeriveSeed(7, 2));
}

}  // namespace
}  // namespace nas::controller
